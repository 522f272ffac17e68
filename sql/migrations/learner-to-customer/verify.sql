-- learner-to-customer, verify: after up, each statement returns one row (name, ok, detail).
-- Reads rehearse.run_id and rehearse.include_deleted like up.sql; @rehearse:if lines as in up.sql.

SELECT 'no eligible LEARNER left' AS name, count(*) = 0 AS ok,
       count(*) || ' eligible LEARNER user(s) still LEARNER' AS detail
FROM users
WHERE "role" = 'LEARNER' AND (current_setting('rehearse.include_deleted') = 'on' OR "deletedAt" IS NULL);

-- @rehearse:if column users.tokenVersion
SELECT 'every logged user is CUSTOMER with tokenVersion + 1 and a new updatedAt' AS name, count(*) = 0 AS ok,
-- @rehearse:else
SELECT 'every logged user is CUSTOMER with a new updatedAt' AS name, count(*) = 0 AS ok,
-- @rehearse:end
       count(*) || ' logged user(s) without the change' AS detail
FROM staging_migrations.role_migration_log l
CROSS JOIN LATERAL jsonb_populate_record(NULL::users, l.rollback_data) r
JOIN users u ON u."id" = r."id"
WHERE l.migration_status = 'completed' AND starts_with(l.batch_id, current_setting('rehearse.run_id') || '#')
  AND (u."role" <> 'CUSTOMER' OR u."updatedAt" IS NOT DISTINCT FROM r."updatedAt"
-- @rehearse:if column users.tokenVersion
       OR u."tokenVersion" <> r."tokenVersion" + 1
-- @rehearse:end
  );

-- @rehearse:if !column users.tokenVersion and column sessions.userId
SELECT 'no logged user has a session left' AS name, count(*) = 0 AS ok,
       count(*) || ' session(s) of migrated users left; ' ||
       (SELECT count(*) FROM staging_migrations.role_migration_log l2, jsonb_array_elements(l2.rollback_data->'sessions') x
        WHERE l2.migration_status = 'completed' AND starts_with(l2.batch_id, current_setting('rehearse.run_id') || '#')) || ' ended and kept in the log' AS detail
FROM staging_migrations.role_migration_log l
JOIN sessions s ON s."userId"::text = l.user_id
WHERE l.migration_status = 'completed' AND starts_with(l.batch_id, current_setting('rehearse.run_id') || '#');

-- @rehearse:end
SELECT 'every log row of the run names an existing user, once' AS name,
       count(*) = count(DISTINCT l.user_id) AND count(*) = count(u."id") AS ok,
       count(*) || ' log row(s), ' || count(DISTINCT l.user_id) || ' distinct user(s), ' || count(u."id") || ' found' AS detail
FROM staging_migrations.role_migration_log l
LEFT JOIN users u ON u."id" = (jsonb_populate_record(NULL::users, l.rollback_data))."id"
WHERE l.migration_status = 'completed' AND starts_with(l.batch_id, current_setting('rehearse.run_id') || '#');

SELECT 'soft-deleted learners follow the policy' AS name,
       current_setting('rehearse.include_deleted') = 'off' OR count(*) = 0 AS ok,
       count(*) || ' soft-deleted LEARNER user(s) left as LEARNER (include_deleted=' || current_setting('rehearse.include_deleted') || ')' AS detail
FROM users
WHERE "role" = 'LEARNER' AND "deletedAt" IS NOT NULL;
