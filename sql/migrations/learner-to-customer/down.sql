-- learner-to-customer, down: restores role, updatedAt and (where they exist) tokenVersion or the
-- deleted sessions from the log, exactly, for the users that run rehearse.run_id migrated, and marks
-- their log rows reversed. A user whose role is no longer CUSTOMER (or who is gone) was changed by
-- someone else since: left alone, its log row marked failed with the reason (restoring would undo
-- that change). Batches: rehearse.batch_limit. The @rehearse:if lines work as in up.sql.
-- jsonb_populate_record turns the snapshot back into typed columns: text cast into an enum column
-- fails, a record of the table's own row type does not.
WITH targets AS (
  SELECT l.id AS log_id, l.rollback_data, r."id", r."role", r."updatedAt"
-- @rehearse:if column users.tokenVersion
       , r."tokenVersion"
-- @rehearse:end
  FROM staging_migrations.role_migration_log l
  CROSS JOIN LATERAL jsonb_populate_record(NULL::users, l.rollback_data) r
  WHERE l.migration_status = 'completed'
    AND starts_with(l.batch_id, current_setting('rehearse.run_id') || '#')
  LIMIT NULLIF(current_setting('rehearse.batch_limit'), '0')::bigint
  FOR UPDATE OF l
), restored AS (
  UPDATE users u
  SET "role" = t."role", "updatedAt" = t."updatedAt"
-- @rehearse:if column users.tokenVersion
    , "tokenVersion" = t."tokenVersion"
-- @rehearse:end
  FROM targets t
  WHERE u."id" = t."id" AND u."role" = 'CUSTOMER'
  RETURNING t.log_id, t.rollback_data
),
-- @rehearse:if !column users.tokenVersion and column sessions.userId
sessions_back AS (
  INSERT INTO sessions OVERRIDING SYSTEM VALUE
  SELECT s.* FROM restored r CROSS JOIN LATERAL jsonb_populate_recordset(NULL::sessions, r.rollback_data->'sessions') s
),
-- @rehearse:end
-- One final UPDATE over every target: its row count is the batch's size (rehearse stops at 0).
marked AS (
  SELECT t.log_id, r.log_id IS NOT NULL AS done FROM targets t LEFT JOIN restored r ON r.log_id = t.log_id
)
UPDATE staging_migrations.role_migration_log l
SET migration_status = CASE WHEN m.done THEN 'reversed' ELSE 'failed' END,
    error_message = CASE WHEN NOT m.done THEN 'not restored: the user was deleted or its role changed after the migration' END
FROM marked m
WHERE l.id = m.log_id;
