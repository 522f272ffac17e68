CREATE TABLE IF NOT EXISTS staging_logs.init_log (
  id          bigserial PRIMARY KEY,
  "timestamp" timestamptz NOT NULL DEFAULT now(),
  message     text NOT NULL
);
