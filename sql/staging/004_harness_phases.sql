-- When each phase of `rehearse migrate` started and ended. A row outlives its phase, so the
-- monitoring profile's postgres exporter (staging-monitoring/postgres-exporter-queries.yml) shows
-- a phase on Prometheus's timeline even when it was shorter than the scrape interval.
CREATE TABLE IF NOT EXISTS staging_migrations.harness_phases (
  run_id     text NOT NULL,
  migration  text NOT NULL,
  -- 'step': a task of the migrate step (backup, the six categories); 'run': one up.sql/down.sql run.
  kind       text NOT NULL CHECK (kind IN ('step', 'run')),
  phase      text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at   timestamptz,
  status     text CHECK (status IN ('ok', 'failed', 'cancelled', 'skipped')),
  PRIMARY KEY (run_id, kind, phase)
);
CREATE INDEX IF NOT EXISTS harness_phases_started_idx ON staging_migrations.harness_phases (started_at);
