// The migration harness's vocabulary (categories, results, inputs, events) and HarnessCore: the
// state one run shares across its categories (baseline, applied runs, reports) and the helpers
// every category uses to time a test, run a phase and take checksums. Plain inputs, an
// AbortSignal and a progress callback; nothing here writes to stdout.
import { randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import type { Redis } from 'ioredis';
import { CancelledError, isAbortError } from '../../errors.js';
import { tableKey, type DbShape } from '../../subset/introspect.js';
import { describeChangeColumn, tableChecksums, type ColumnType, type Sums, type TableSum } from '../checks.js';
import type { Adaptation } from '../adapt.js';
import { type DependentObject } from '../dependents.js';
import type { MigrationFolder } from '../folder.js';
import { LockSampler, type LockReport } from '../locks.js';
import { runPhase, type PhaseName, type PhaseResult, type RunnerEvent, type RunnerSettings } from '../runner.js';
import { type ExplainResult, type WorkloadReport } from '../workload.js';
import { type GradedCheck } from '../../evidence/check.js';
import type { PhaseMarks } from '../phase-marks.js';
import type { Projection, Trials } from '../projection.js';

export const CATEGORIES = ['prerequisites', 'migration', 'integrity', 'rollback', 'performance', 'edge-cases'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_TITLES: Record<Category, string> = {
  prerequisites: 'Prerequisites',
  migration: 'Migration',
  integrity: 'Integrity',
  rollback: 'Rollback',
  performance: 'Performance',
  'edge-cases': 'Edge cases',
};

export interface TestResult extends GradedCheck {
  name: string;
  category: Category;
  durationMs: number;
  /** One line for people; `data` holds the measured values. */
  summary: string;
  data?: Record<string, unknown>;
}

export interface Thresholds {
  standardQueryMs: number;
  maxLockWaitMs: number;
  workloadP95Ms: number;
  upMaxSeconds: number;
}

export interface WorkloadSettings {
  connections: number;
  beforeMs: number;
  holdMs: number;
  sampleIntervalMs: number;
}

export interface HarnessInputs {
  /** The target database. A pool: the workload, the lock sampler and the runner each take connections (see `connectionsNeeded`). */
  sql: postgres.Sql;
  migration: MigrationFolder;
  /** How the folder was fitted to this database (adaptMigration); its skipped queries are reported. */
  adaptation?: Adaptation | undefined;
  /** The app's schemas: checksums, orphans and dependent objects cover these. */
  schemas: string[];
  settings: RunnerSettings;
  workload: WorkloadSettings;
  thresholds: Thresholds;
  redis?: { client: Redis; patterns: string[] } | undefined;
  /** Production, opened read-only: proves the target is a different database. */
  production?: postgres.Sql | undefined;
  /** Why production is not compared when it is absent ("not reachable: …" differs from none configured). */
  productionNote?: string | undefined;
  /** Eligible rows in production, counted read-only by the caller: what the performance verdict projects onto. */
  productionEligible?: number | undefined;
  /** The staging backup taken for this run. */
  backup?: { file: string; bytes: number } | undefined;
  runId?: string | undefined;
  /** Where each up/down run's start and end are marked for the monitoring timeline. */
  marks?: PhaseMarks | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((event: HarnessEvent) => void) | undefined;
}

export type HarnessEvent =
  | { type: 'test'; result: TestResult }
  | { type: 'runner'; event: RunnerEvent; label: string }
  | { type: 'phase'; label: string; result: PhaseResult }
  | { type: 'note'; message: string };

export const connectionsNeeded = (w: WorkloadSettings) => w.connections + 4;

/** A run id people can read and sort: <migration>@<UTC time>-<random>. */
export function newRunId(migration: string, date = new Date()): string {
  return `${migration}@${date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;
}

interface Baseline {
  sums: Sums;
  protectedSums: Sums;
  histogram: Record<string, number>;
  ineligible: TableSum;
  eligible: number;
  softDeletedLeft: number;
  affectedIds: string[];
  otherIds: string[];
}

export interface PerformanceReport {
  up?: PhaseResult;
  down?: PhaseResult;
  locks: { up?: LockReport; down?: LockReport };
  workload?: WorkloadReport;
  explain: ExplainResult[];
  /** Rolled-back trial runs at several subset sizes: the cost per row. */
  trials?: Trials;
  projection?: Projection;
}

export interface EdgeReport {
  insertedId?: string;
  insertCaughtBy?: string;
  invalidValue?: { value: string; sqlstate?: string; message: string };
  redis?: { seeded: string[]; control: string[]; deleted: number; stale: number };
  injectedFailure?: { error: string; compensated?: { committedBatches: number; reversedRows: number } };
}

export const shortMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** A failure that makes the next categories meaningless: they are skipped with this reason. */
export class Blocked extends Error {}

export class HarnessCore {
  readonly runId: string;
  readonly results: TestResult[] = [];
  readonly phases: Array<{ label: string; result: PhaseResult }> = [];
  readonly startedAt = new Date();
  shape?: DbShape;
  baseline?: Baseline;
  columnType?: ColumnType;
  dependents: DependentObject[] = [];
  performance: PerformanceReport = { locks: {}, explain: [] };
  edge: EdgeReport = {};
  /** Why the remaining categories are skipped, once something they need failed. */
  blocked: string | undefined;
  /** Up runs whose changes are in place (not reversed), newest last. */
  readonly applied: string[] = [];
  private upCount = 0;

  constructor(readonly inputs: HarnessInputs) {
    this.runId = inputs.runId ?? newRunId(inputs.migration.name);
  }

  get m() {
    return this.inputs.migration;
  }

  get sql() {
    return this.inputs.sql;
  }

  emit(event: HarnessEvent) {
    this.inputs.onProgress?.(event);
  }

  checkAbort() {
    if (this.inputs.signal?.aborted) throw new CancelledError();
  }

  /** Runs one test: times it, turns an unexpected error into a failed test (a cancel stays a cancel). */
  async test(category: Category, name: string, fn: () => Promise<Omit<TestResult, 'name' | 'category' | 'durationMs'>>, opts: { blocking?: boolean } = {}): Promise<TestResult> {
    this.checkAbort();
    const start = performance.now();
    let result: TestResult;
    try {
      const r = await fn();
      result = { name, category, durationMs: Math.round(performance.now() - start), ...r };
    } catch (error) {
      if (this.inputs.signal?.aborted || isAbortError(error)) throw error instanceof CancelledError ? error : new CancelledError();
      const e = error as Error & { code?: string };
      result = { name, category, status: 'fail', durationMs: Math.round(performance.now() - start), summary: e.message, data: { error: e.message, ...(e.code ? { sqlstate: e.code } : {}) } };
    }
    this.results.push(result);
    this.emit({ type: 'test', result });
    if (opts.blocking && result.status === 'fail') {
      this.blocked = `${CATEGORY_TITLES[category]}: "${name}" failed`;
      throw new Blocked(this.blocked);
    }
    return result;
  }

  skipCategory(category: Category): TestResult[] {
    const result: TestResult = { name: `${CATEGORY_TITLES[category]} tests`, category, status: 'skip', durationMs: 0, summary: `skipped: ${this.blocked}` };
    this.results.push(result);
    this.emit({ type: 'test', result });
    return [result];
  }

  /** Runs a category; a blocking failure inside it ends it and blocks the ones after. */
  async category(category: Category, body: () => Promise<void>): Promise<TestResult[]> {
    if (this.blocked) return this.skipCategory(category);
    const from = this.results.length;
    try {
      await body();
    } catch (error) {
      if (!(error instanceof Blocked)) throw error;
    }
    return this.results.slice(from);
  }

  settings(overrides: Partial<RunnerSettings> = {}): RunnerSettings {
    return { ...this.inputs.settings, ...overrides };
  }

  /** Runs up or down for a run id with the harness's settings, recording it. */
  async phase(phase: PhaseName, runId: string, label: string, extra: { sampler?: LockSampler; hooks?: Parameters<typeof runPhase>[1]['hooks'] } = {}): Promise<PhaseResult> {
    const marks = this.inputs.marks;
    await marks?.start('run', label);
    let result: PhaseResult;
    try {
      result = await runPhase(phase, {
        sql: this.sql,
        migration: this.m,
        runId,
        ...this.settings(),
        signal: this.inputs.signal,
        redis: this.inputs.redis,
        onEvent: (event) => this.emit({ type: 'runner', event, label }),
        onBackend: (pid) => extra.sampler?.addMigrationPid(pid),
        ...(extra.hooks ? { hooks: extra.hooks } : {}),
      });
    } catch (error) {
      await marks?.end('run', label, this.inputs.signal?.aborted || isAbortError(error) ? 'cancelled' : 'failed');
      throw error;
    }
    await marks?.end('run', label, 'ok');
    this.phases.push({ label, result });
    this.emit({ type: 'phase', label, result });
    if (phase === 'up' && result.rows > 0) this.applied.push(runId);
    if (phase === 'down') {
      const at = this.applied.indexOf(runId);
      if (at >= 0) this.applied.splice(at, 1);
    }
    return result;
  }

  nextUpId(): string {
    this.upCount++;
    return `${this.runId}/up${this.upCount}`;
  }

  async sums(): Promise<Sums> {
    return tableChecksums(this.sql, this.shape!);
  }

  /** Tables whose rows the migration deletes and restores (alsoChanges): left out of the "unchanged" sums. */
  get sideTables(): string[] {
    return this.m.meta.alsoChanges.map((a) => tableKey(this.m.meta.target.schema, a.table));
  }

  async protectedSums(): Promise<Sums> {
    const key = tableKey(this.m.meta.target.schema, this.m.meta.target.table);
    const sums = await tableChecksums(this.sql, this.shape!, { [key]: this.m.meta.mayChange });
    for (const side of this.sideTables) delete sums[side];
    return sums;
  }

  /**
   * Schema changes that outlive a rollback: enum labels (PostgreSQL cannot drop one) and CHECK
   * constraints the prelude widened, compared with the change column as it was before the first run.
   */
  private leftoversReported = false;
  async reportLeftovers(): Promise<TestResult | undefined> {
    const before = this.columnType;
    if (!before || this.leftoversReported) return undefined;
    this.leftoversReported = true;
    return this.test('rollback', 'schema changes a rollback cannot undo are listed', async () => {
      const now = await describeChangeColumn(this.sql, this.m);
      const labels = (now?.values ?? []).filter((v) => !(before.values ?? []).includes(v));
      const checks = (now?.checks ?? []).filter((c) => !before.checks.includes(c));
      const left = [
        ...labels.map((l) => `enum ${now!.type} gained the label '${l}' (PostgreSQL cannot remove an enum label: it stays after rollback, unused)`),
        ...checks.map((c) => `CHECK on ${this.m.meta.change.column} is now ${c} (down.sql does not narrow it again)`),
      ];
      return {
        status: left.length ? 'warn' : 'pass',
        summary: left.length ? left.join('; ') : `none: ${before.type} is as it was before the first run`,
        data: { labelsAdded: labels, checksChanged: checks, before: { values: before.values, checks: before.checks }, after: { values: now?.values, checks: now?.checks } },
      };
    });
  }

  get includeDeleted() {
    return this.inputs.settings.includeDeleted;
  }

}
