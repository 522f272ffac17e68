-- learner-to-customer, down: restores role, tokenVersion and updatedAt from the log, exactly, for
-- the users that run rehearse.run_id migrated, and marks their log rows reversed. A user whose
-- role is no longer CUSTOMER (or who is gone) was changed by someone else since: left alone, its
-- log row marked failed with the reason (restoring would undo that change). Batches: rehearse.batch_limit.
-- jsonb_populate_record turns the snapshot back into typed columns: text cast into an enum column
-- fails, a record of the table's own row type does not.
WITH targets AS (
  SELECT l.id AS log_id, r."id", r."role", r."tokenVersion", r."updatedAt"
  FROM staging_migrations.role_migration_log l
  CROSS JOIN LATERAL jsonb_populate_record(NULL::users, l.rollback_data) r
  WHERE l.migration_status = 'completed'
    AND starts_with(l.batch_id, current_setting('rehearse.run_id') || '#')
  LIMIT NULLIF(current_setting('rehearse.batch_limit'), '0')::bigint
  FOR UPDATE OF l
), restored AS (
  UPDATE users u
  SET "role" = t."role", "tokenVersion" = t."tokenVersion", "updatedAt" = t."updatedAt"
  FROM targets t
  WHERE u."id" = t."id" AND u."role" = 'CUSTOMER'
  RETURNING t.log_id
)
-- One final UPDATE over every target: its row count is the batch's size (rehearse stops at 0).
UPDATE staging_migrations.role_migration_log l
SET migration_status = CASE WHEN r.log_id IS NULL THEN 'failed' ELSE 'reversed' END,
    error_message = CASE WHEN r.log_id IS NULL THEN 'not restored: the user was deleted or its role changed after the migration' END
FROM targets t
LEFT JOIN restored r ON r.log_id = t.log_id
WHERE l.id = t.log_id;
