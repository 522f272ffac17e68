// Helpers shared by the migration tests: runner settings with test-friendly backoff, and the check
// that the log and results tables hold exactly what a migration-test-report says.
import type postgres from 'postgres';
import { expect } from 'vitest';
import type { MigrationReport } from '../../src/migration/report.js';
import type { RunnerSettings } from '../../src/migration/runner.js';

export function migrationSettings(overrides: Partial<RunnerSettings> = {}): RunnerSettings {
  return { batchSize: 0, includeDeleted: false, lockTimeoutMs: 2000, retries: 8, retryBaseMs: 20, ...overrides };
}

export async function logAndResultsMatch(sql: postgres.Sql, report: MigrationReport): Promise<void> {
  const rows = await sql<{ name: string; category: string; status: string; summary: string }[]>`
    SELECT test_name AS name, test_category AS category, status, result_data->>'summary' AS summary
    FROM staging_migrations.test_results WHERE result_data->>'runId' = ${report.runId} ORDER BY id`;
  expect(rows.map((r) => [r.category, r.name, r.status, r.summary])).toEqual(report.tests.map((t) => [t.category, t.name, t.status, t.summary]));
  for (const [runId, counts] of Object.entries(report.log)) {
    const byStatus = await sql<{ status: string; n: number }[]>`
      SELECT migration_status AS status, count(*)::int AS n FROM staging_migrations.role_migration_log
      WHERE starts_with(batch_id, ${runId + '#'}) GROUP BY 1`;
    expect(Object.fromEntries(byStatus.map((r) => [r.status, r.n])), runId).toEqual(counts.byStatus);
  }
  // Every up that changed rows is in the log, under the report's run id.
  const upRuns = report.phases.filter((p) => p.phase === 'up' && p.rows > 0).map((p) => p.runId);
  expect(upRuns.length).toBeGreaterThan(0);
  for (const runId of upRuns) expect(report.log[runId]!.rows, runId).toBeGreaterThan(0);
}
