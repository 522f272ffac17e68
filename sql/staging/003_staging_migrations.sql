-- The guide's tables and column names, so its own queries work against staging.
CREATE TABLE IF NOT EXISTS staging_migrations.role_migration_log (
  id                  bigserial PRIMARY KEY,
  batch_id            text NOT NULL,
  user_id             text NOT NULL,
  old_role            text NOT NULL,
  new_role            text NOT NULL,
  migration_timestamp timestamptz NOT NULL DEFAULT now(),
  migration_status    text NOT NULL DEFAULT 'pending'
                      CHECK (migration_status IN ('pending', 'completed', 'failed', 'reversed')),
  error_message       text,
  rollback_data       jsonb
);
CREATE INDEX IF NOT EXISTS role_migration_log_user_id_idx ON staging_migrations.role_migration_log (user_id);
CREATE INDEX IF NOT EXISTS role_migration_log_batch_id_idx ON staging_migrations.role_migration_log (batch_id);

CREATE TABLE IF NOT EXISTS staging_migrations.test_results (
  id             bigserial PRIMARY KEY,
  test_name      text NOT NULL,
  test_category  text NOT NULL,
  status         text NOT NULL CHECK (status IN ('pass', 'fail', 'warn', 'skip')),
  result_data    jsonb,
  execution_time interval,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS test_results_category_idx ON staging_migrations.test_results (test_category, created_at);
