-- learner-to-customer, up: every eligible LEARNER user becomes a CUSTOMER, logged row by row.
-- rehearse sets these per transaction (set_config … true); by hand with psql, SET them first:
--   rehearse.run_id           this run; every batch_id it writes is <run_id>#<n>
--   rehearse.batch_id         this batch
--   rehearse.batch_limit      rows per batch, 0 = every eligible row in one transaction
--   rehearse.include_deleted  'on' to migrate soft-deleted learners too (policy migration.softDeleted)
-- Lines between `-- @rehearse:if <condition>` and `-- @rehearse:else` / `-- @rehearse:end` are kept
-- only when the condition holds in the target database's catalog (`rehearse migrate --dry-run`
-- lists what was chosen). With psql, keep one branch of each by hand.

-- 1. Make CUSTOMER a valid role, committed on its own: a value added with ALTER TYPE … ADD VALUE
--    cannot be used by the transaction that added it. When role is text with a CHECK constraint,
--    the constraint is widened instead (added NOT VALID: a brief lock, no table scan).
DO $$
DECLARE
  role_type regtype;
  role_attnum smallint;
  is_enum boolean;
  con record;
  expr text;
  admits boolean;
BEGIN
  SELECT a.atttypid::regtype, a.attnum, t.typtype = 'e' INTO role_type, role_attnum, is_enum
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  WHERE a.attrelid = 'users'::regclass AND a.attname = 'role' AND NOT a.attisdropped;
  IF role_type IS NULL THEN
    RAISE EXCEPTION 'users.role does not exist';
  END IF;
  IF is_enum THEN
    EXECUTE format('ALTER TYPE %s ADD VALUE IF NOT EXISTS %L', role_type, 'CUSTOMER');
    RETURN;
  END IF;
  FOR con IN
    SELECT c.conname, pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c
    WHERE c.conrelid = 'users'::regclass AND c.contype = 'c' AND c.conkey = ARRAY[role_attnum]
  LOOP
    expr := regexp_replace(regexp_replace(con.def, '^CHECK ', ''), ' NOT VALID$', '');
    -- The constraint reads only role, so it can be evaluated on a one-column row.
    EXECUTE format('SELECT coalesce(%s, true) FROM (SELECT %L::%s AS role) AS users', expr, 'CUSTOMER', role_type) INTO admits;
    IF NOT admits THEN
      EXECUTE format('ALTER TABLE users DROP CONSTRAINT %I, ADD CONSTRAINT %I CHECK (%s OR role = %L) NOT VALID',
                     con.conname, con.conname, expr, 'CUSTOMER');
    END IF;
  END LOOP;
END
$$;

-- @rehearse:commit

-- 2. Validate what step 1 widened (SHARE UPDATE EXCLUSIVE: reads and writes go on meanwhile).
DO $$
DECLARE
  con record;
BEGIN
  FOR con IN SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype = 'c' AND NOT convalidated LOOP
    EXECUTE format('ALTER TABLE users VALIDATE CONSTRAINT %I', con.conname);
  END LOOP;
END
$$;

-- @rehearse:commit

-- 3. The migration, one statement per batch (its row count is the batch's size; rehearse stops at
--    0). The rows are locked first: a row a concurrent writer changed is logged as it is after that
--    change (SELECT … FOR NO KEY UPDATE returns the newest version), so down.sql never restores a
--    stale value. NO KEY: inserts that reference a user (sessions, reading progress) take KEY SHARE
--    locks and must not wait for the migration. "updatedAt" is Prisma's UTC timestamp(3). No ORDER
--    BY: the role index finds the remaining learners, and a sort per batch would make batching
--    quadratic. One statement rather than an INSERT then an UPDATE … FROM the log: 1.45× a bare
--    UPDATE on 1,000,000 users against more than 2× (bench/migrate-up.mjs).
--    Sessions end: with users."tokenVersion" (the older schema) it goes up by one; without it, the
--    user's rows in the NextAuth sessions table are deleted and kept in the log, so down.sql puts
--    them back; with neither, no session is ended.
WITH picked AS (
  SELECT u."id", u."role", u."updatedAt"
-- @rehearse:if column users.tokenVersion
       , u."tokenVersion"
-- @rehearse:end
  FROM users u
  WHERE u."role" = 'LEARNER'
    AND (current_setting('rehearse.include_deleted') = 'on' OR u."deletedAt" IS NULL)
  LIMIT NULLIF(current_setting('rehearse.batch_limit'), '0')::bigint
  FOR NO KEY UPDATE OF u
),
-- @rehearse:if !column users.tokenVersion and column sessions.userId
ended AS (
  DELETE FROM sessions s USING picked p WHERE s."userId" = p."id"
  RETURNING s.*
), ended_by_user AS (
  SELECT e."userId", jsonb_agg(to_jsonb(e)) AS sessions FROM ended e GROUP BY 1
),
-- @rehearse:end
logged AS (
  INSERT INTO staging_migrations.role_migration_log (batch_id, user_id, old_role, new_role, migration_status, rollback_data)
  SELECT current_setting('rehearse.batch_id'), p."id"::text, p."role"::text, 'CUSTOMER', 'completed',
         jsonb_build_object('id', p."id", 'role', p."role", 'updatedAt', p."updatedAt"
-- @rehearse:if column users.tokenVersion
                            , 'tokenVersion', p."tokenVersion"
-- @rehearse:elif column sessions.userId
                            , 'sessions', coalesce(e.sessions, '[]'::jsonb)
-- @rehearse:end
         )
  FROM picked p
-- @rehearse:if !column users.tokenVersion and column sessions.userId
  LEFT JOIN ended_by_user e ON e."userId" = p."id"
-- @rehearse:end
)
UPDATE users u
SET "role" = 'CUSTOMER', "updatedAt" = timezone('UTC', now())
-- @rehearse:if column users.tokenVersion
  , "tokenVersion" = p."tokenVersion" + 1
-- @rehearse:end
FROM picked p
WHERE u."id" = p."id";
