// The migration test harness: six categories (prerequisites, migration, integrity, rollback,
// performance, edge cases) run against one database, each test with a name, status, duration and
// details. Forward, back, forward: it ends with the migration applied, and every phase it ran is
// in the log. Plain inputs, an AbortSignal and a progress callback; nothing here writes to stdout.
// One file a category (prerequisites.ts … edge-cases.ts); core.ts holds the state they share.
import type postgres from 'postgres';
import { diffSums } from '../checks.js';
import { runPhase } from '../runner.js';
import { countStatuses, groupStatus, type CheckStatus } from '../../evidence/check.js';
import { CATEGORIES, CATEGORY_TITLES, HarnessCore, type TestResult, type HarnessInputs, type Category } from './core.js';
import { prerequisiteTests } from './prerequisites.js';
import { migrationTests } from './migration.js';
import { integrityTests } from './integrity.js';
import { rollbackTests } from './rollback.js';
import { performanceTests } from './performance.js';
import { edgeCaseTests } from './edge-cases.js';

export { CATEGORIES, CATEGORY_TITLES, connectionsNeeded, newRunId, type Category, type EdgeReport, type HarnessEvent, type HarnessInputs, type PerformanceReport, type TestResult, type Thresholds, type WorkloadSettings } from './core.js';

export class MigrationHarness extends HarnessCore {
  prerequisites(): Promise<TestResult[]> {
    return prerequisiteTests(this);
  }

  migration(): Promise<TestResult[]> {
    return migrationTests(this);
  }

  integrity(): Promise<TestResult[]> {
    return integrityTests(this);
  }

  rollback(): Promise<TestResult[]> {
    return rollbackTests(this);
  }

  performanceTests(): Promise<TestResult[]> {
    return performanceTests(this);
  }

  edgeCases(): Promise<TestResult[]> {
    return edgeCaseTests(this);
  }

  /** Every category in order. */
  async run(): Promise<TestResult[]> {
    await this.prerequisites();
    await this.migration();
    await this.integrity();
    await this.rollback();
    await this.performanceTests();
    await this.edgeCases();
    await this.reportLeftovers();
    return this.results;
  }

  /**
   * After a crash or cancel: reverses every up run still applied, newest first, and says whether the
   * data is back to the baseline. The caller restores the backup when it is not.
   */
  async undoApplied(): Promise<{ reversed: string[]; atBaseline: boolean | undefined }> {
    const reversed: string[] = [];
    for (const runId of [...this.applied].reverse()) {
      await runPhase('down', { sql: this.sql, migration: this.m, runId, ...this.settings() });
      this.applied.splice(this.applied.indexOf(runId), 1);
      reversed.push(runId);
    }
    if (!this.baseline || !this.shape) return { reversed, atBaseline: undefined };
    return { reversed, atBaseline: diffSums(this.baseline.sums, await this.sums()).length === 0 };
  }

  summary(): HarnessSummary {
    const categories = Object.fromEntries(
      CATEGORIES.map((c) => {
        const tests = this.results.filter((r) => r.category === c);
        return [c, { status: groupStatus(tests) ?? 'not run', tests: tests.length, ...countStatuses(tests) }];
      }),
    ) as HarnessSummary['categories'];
    const failed = this.results.filter((r) => r.status === 'fail');
    return { categories, failed: failed.map((r) => `${CATEGORY_TITLES[r.category]}: ${r.name}: ${r.summary}`), ok: failed.length === 0 && !this.blocked && CATEGORIES.every((c) => categories[c].status !== 'not run') };
  }
}

export interface HarnessSummary {
  categories: Record<Category, { status: CheckStatus | 'not run'; tests: number; pass: number; fail: number; warn: number; skip: number }>;
  failed: string[];
  ok: boolean;
}

/** Runs every category against `inputs`; the plain entry point for tests and the benchmark. */
export async function runHarness(inputs: HarnessInputs): Promise<MigrationHarness> {
  const harness = new MigrationHarness(inputs);
  await harness.run();
  return harness;
}

/** Stores the results in staging_migrations.test_results, in one transaction. */
export async function recordResults(sql: postgres.Sql, harness: MigrationHarness): Promise<number> {
  const rows = harness.results.map((r) => ({
    test_name: r.name,
    test_category: r.category,
    status: r.status,
    result_data: { ...(r.data ?? {}), runId: harness.runId, migration: harness.inputs.migration.name, summary: r.summary },
    execution_time: `${r.durationMs} milliseconds`,
  }));
  await sql.begin(async (tx) => {
    for (const r of rows) {
      await tx.unsafe(`INSERT INTO staging_migrations.test_results (test_name, test_category, status, result_data, execution_time) VALUES ($1, $2, $3, $4::text::jsonb, $5::interval)`, [r.test_name, r.test_category, r.status, JSON.stringify(r.result_data), r.execution_time]);
    }
  });
  return rows.length;
}
