// Start and end marks of migrate's phases, kept in staging_migrations.harness_phases. A row outlives
// its phase, so the monitoring profile's postgres exporter (staging-monitoring/postgres-exporter-
// queries.yml) puts even a phase shorter than the scrape interval on Prometheus's timeline, and
// the Grafana dashboard annotates it: the migration's impact can be read there after the fact.
import type postgres from 'postgres';

export const PHASES_TABLE = 'staging_migrations.harness_phases';

/** 'step': a task of the migrate step (backup, a category); 'run': one up.sql or down.sql run. */
export type PhaseKind = 'step' | 'run';
export type PhaseStatus = 'ok' | 'failed' | 'cancelled' | 'skipped';

export class PhaseMarks {
  /** Marks written (a start and an end count as two). */
  written = 0;
  /** The first write that failed: the run goes on without marks, and the report says why. */
  error: string | undefined;

  constructor(
    private readonly sql: postgres.Sql,
    readonly runId: string,
    readonly migration: string,
  ) {}

  /** Times come from the database server's clock: the one Prometheus shares on the staging host. */
  async start(kind: PhaseKind, phase: string): Promise<void> {
    await this.write(
      `INSERT INTO ${PHASES_TABLE} (run_id, migration, kind, phase, started_at) VALUES ($1, $2, $3, $4, clock_timestamp())
       ON CONFLICT (run_id, kind, phase) DO UPDATE SET started_at = EXCLUDED.started_at, ended_at = NULL, status = NULL`,
      [this.runId, this.migration, kind, phase],
    );
  }

  async end(kind: PhaseKind, phase: string, status: PhaseStatus): Promise<void> {
    await this.write(`UPDATE ${PHASES_TABLE} SET ended_at = clock_timestamp(), status = $4 WHERE run_id = $1 AND kind = $2 AND phase = $3`, [this.runId, kind, phase, status]);
  }

  private async write(query: string, params: string[]): Promise<void> {
    if (this.error) return;
    try {
      await this.sql.unsafe(query, params);
      this.written++;
    } catch (error) {
      this.error = `${PHASES_TABLE}: ${(error as Error).message}`;
    }
  }

  summary(): { table: string; runId: string; written: number; error?: string } {
    return { table: PHASES_TABLE, runId: this.runId, written: this.written, ...(this.error ? { error: this.error } : {}) };
  }
}
