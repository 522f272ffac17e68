// The migration test harness: six categories (prerequisites, migration, integrity, rollback,
// performance, edge cases) run against one database, each test with a name, status, duration and
// details. Forward, back, forward: it ends with the migration applied, and every phase it ran is
// in the log. Plain inputs, an AbortSignal and a progress callback; nothing here writes to stdout.
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import type { Redis } from 'ioredis';
import { CancelledError, isAbortError } from '../../errors.js';
import { introspect, tableKey, type DbShape } from '../../subset/introspect.js';
import { describeChangeColumn, diffSums, histogram, ineligibleRowsSum, logCounts, orphanCounts, tableChecksums, unloggedRowsSum, unvalidatedConstraints, type ColumnType, type Sums, type TableSum } from '../checks.js';
import type { Adaptation } from '../adapt.js';
import { catalogDependents, findDependentObjects, type DependentObject } from '../dependents.js';
import type { MigrationFolder } from '../folder.js';
import { LockSampler, type LockReport } from '../locks.js';
import type { PhaseMarks } from '../phase-marks.js';
import { keyFor } from '../redis-cache.js';
import { appliedRuns } from '../rollback.js';
import { countEligible, eligibleCondition, logTable, MigrationRunError, runPhase, runVerify, sleep, targetTable, type PhaseName, type PhaseResult, type RunnerEvent, type RunnerSettings } from '../runner.js';
import { explainStandardQueries, Workload, type ExplainResult, type WorkloadReport } from '../workload.js';
import { projectionVerdict, projectProduction, runTrials, trialFootprint, trialSizes, type Projection, type Trials } from '../projection.js';
import { quoteIdent, sqlString } from '../../db/sql-text.js';
import { countStatuses, groupStatus, type CheckStatus, type GradedCheck } from '../../evidence/check.js';

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

const shortMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** A failure that makes the next categories meaningless: they are skipped with this reason. */
class Blocked extends Error {}

export class MigrationHarness {
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

  private get m() {
    return this.inputs.migration;
  }

  private get sql() {
    return this.inputs.sql;
  }

  private emit(event: HarnessEvent) {
    this.inputs.onProgress?.(event);
  }

  private checkAbort() {
    if (this.inputs.signal?.aborted) throw new CancelledError();
  }

  /** Runs one test: times it, turns an unexpected error into a failed test (a cancel stays a cancel). */
  private async test(category: Category, name: string, fn: () => Promise<Omit<TestResult, 'name' | 'category' | 'durationMs'>>, opts: { blocking?: boolean } = {}): Promise<TestResult> {
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

  private skipCategory(category: Category): TestResult[] {
    const result: TestResult = { name: `${CATEGORY_TITLES[category]} tests`, category, status: 'skip', durationMs: 0, summary: `skipped: ${this.blocked}` };
    this.results.push(result);
    this.emit({ type: 'test', result });
    return [result];
  }

  /** Runs a category; a blocking failure inside it ends it and blocks the ones after. */
  private async category(category: Category, body: () => Promise<void>): Promise<TestResult[]> {
    if (this.blocked) return this.skipCategory(category);
    const from = this.results.length;
    try {
      await body();
    } catch (error) {
      if (!(error instanceof Blocked)) throw error;
    }
    return this.results.slice(from);
  }

  private settings(overrides: Partial<RunnerSettings> = {}): RunnerSettings {
    return { ...this.inputs.settings, ...overrides };
  }

  /** Runs up or down for a run id with the harness's settings, recording it. */
  private async phase(phase: PhaseName, runId: string, label: string, extra: { sampler?: LockSampler; hooks?: Parameters<typeof runPhase>[1]['hooks'] } = {}): Promise<PhaseResult> {
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

  private nextUpId(): string {
    this.upCount++;
    return `${this.runId}/up${this.upCount}`;
  }

  private async sums(): Promise<Sums> {
    return tableChecksums(this.sql, this.shape!);
  }

  /** Tables whose rows the migration deletes and restores (alsoChanges): left out of the "unchanged" sums. */
  private get sideTables(): string[] {
    return this.m.meta.alsoChanges.map((a) => tableKey(this.m.meta.target.schema, a.table));
  }

  private async protectedSums(): Promise<Sums> {
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

  private get includeDeleted() {
    return this.inputs.settings.includeDeleted;
  }

  // ---------------------------------------------------------------------------------------------
  // 1. Prerequisites (read-only), then the baseline every later comparison uses.

  async prerequisites(): Promise<TestResult[]> {
    return this.category('prerequisites', async () => {
      const m = this.m;
      const t = m.meta.target;
      await this.test(
        'prerequisites',
        'staging is reachable and is not production',
        async () => {
          const [me] = (await this.sql.unsafe(
            `SELECT current_database() AS db, split_part(version(), ' ', 2) AS version, pg_is_in_recovery() AS replica,
                    current_setting('default_transaction_read_only') AS ro, to_regclass('staging_logs.init_log') IS NOT NULL AS marked,
                    pg_postmaster_start_time()::text AS started, (SELECT oid::int FROM pg_database WHERE datname = current_database()) AS oid`,
          )) as unknown as Array<{ db: string; version: string; replica: boolean; ro: string; marked: boolean; started: string; oid: number }>;
          const data = { database: me!.db, postgres: me!.version, stagingMarker: me!.marked } as Record<string, unknown>;
          if (me!.replica || me!.ro === 'on') return { status: 'fail', summary: `${me!.db} is read-only (a replica, or default_transaction_read_only on)`, data };
          if (!me!.marked) return { status: 'fail', summary: `${me!.db} has no staging_logs.init_log: it was not set up by \`rehearse setup\``, data };
          if (this.inputs.production) {
            const [p] = (await this.inputs.production.unsafe(`SELECT current_database() AS db, pg_postmaster_start_time()::text AS started, (SELECT oid::int FROM pg_database WHERE datname = current_database()) AS oid`)) as unknown as Array<{ db: string; started: string; oid: number }>;
            data.production = { database: p!.db, compared: true };
            if (p!.db === me!.db && p!.started === me!.started && p!.oid === me!.oid) return { status: 'fail', summary: 'the target database IS production: refusing to migrate it', data };
            return { status: 'pass', summary: `${me!.db} (PostgreSQL ${me!.version}) is writable, set up as staging, and a different database from production`, data };
          }
          return { status: 'pass', summary: `${me!.db} (PostgreSQL ${me!.version}) is writable and set up as staging (not compared with production: ${this.inputs.productionNote ?? 'none configured'})`, data: { ...data, production: { compared: false, why: this.inputs.productionNote ?? 'none configured' } } };
        },
        { blocking: true },
      );

      await this.test(
        'prerequisites',
        `${t.table}.${m.meta.change.column} exists and can hold '${m.meta.change.to}'`,
        async () => {
          this.shape = await introspect(this.sql, this.inputs.schemas);
          const table = this.shape.tables.get(tableKey(t.schema, t.table));
          if (!table) return { status: 'fail', summary: `table ${t.schema}.${t.table} does not exist in ${this.inputs.schemas.join(', ')}`, data: { tables: [...this.shape.tables.keys()] } };
          const columns = table.columns.map((c) => c.name);
          const missing = [t.idColumn, m.meta.change.column, ...m.meta.mayChange, ...(m.meta.softDeleteColumn ? [m.meta.softDeleteColumn] : [])].filter((c) => !columns.includes(c));
          if (missing.length) return { status: 'fail', summary: `${t.table} lacks column(s) ${missing.join(', ')}`, data: { columns } };
          const info = await describeChangeColumn(this.sql, m);
          if (!info) return { status: 'fail', summary: `${t.table}.${m.meta.change.column} does not exist` };
          this.columnType = info;
          const data = { ...this.columnType };
          if (info.kind === 'enum') {
            if (!info.values!.includes(m.meta.change.from)) return { status: 'fail', summary: `enum ${info.type} has no value '${m.meta.change.from}'`, data };
            const has = info.values!.includes(m.meta.change.to);
            return { status: 'pass', summary: `enum ${info.type} (${info.values!.join(', ')}); '${m.meta.change.to}' ${has ? 'present' : 'will be added, committed before use'}`, data };
          }
          const checks = info.checks.length ? info.checks.join('; ') : 'no CHECK constraint';
          return { status: 'pass', summary: `${info.type} with ${checks}${info.checks.length ? `; widened to admit '${m.meta.change.to}' if needed` : ''}`, data };
        },
        { blocking: true },
      );

      await this.test(
        'prerequisites',
        `there are ${m.meta.change.from} rows to migrate`,
        async () => {
          const eligible = await countEligible(this.sql, m, this.includeDeleted);
          const all = await countEligible(this.sql, m, true);
          const data = { eligible, softDeleted: all - eligible, softDeletedPolicy: this.includeDeleted ? 'include' : 'skip' };
          if (!eligible) {
            const applied = await appliedRuns(this.sql, m).catch(() => []);
            const why = applied.length ? `${applied.length} run(s) of ${m.name} are applied: \`rehearse migrate rollback --yes --migration ${m.dir}\` first` : 'reload staging with `rehearse data --yes`';
            return { status: 'fail', summary: `no eligible ${m.meta.change.from} rows; ${why}`, data: { ...data, applied } };
          }
          return { status: 'pass', summary: `${eligible} eligible; ${all - eligible} soft-deleted ${this.includeDeleted ? 'included' : 'left as they are (policy)'}`, data };
        },
        { blocking: true },
      );

      await this.test(
        'prerequisites',
        'the log and results tables exist',
        async () => {
          const rows = (await this.sql.unsafe(
            `SELECT c.relname AS table, array_agg(a.attname::text ORDER BY a.attnum) AS columns
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE (n.nspname = $1 AND c.relname = $2) OR (n.nspname = 'staging_migrations' AND c.relname = 'test_results')
             GROUP BY 1`,
            [m.meta.log.schema, m.meta.log.table],
          )) as unknown as Array<{ table: string; columns: string[] }>;
          const log = rows.find((r) => r.table === m.meta.log.table);
          const results = rows.find((r) => r.table === 'test_results');
          const needed = ['batch_id', 'user_id', 'old_role', 'new_role', 'migration_status', 'rollback_data', 'migration_timestamp'];
          const missing = needed.filter((c) => !log?.columns.includes(c));
          if (!log || missing.length || !results) {
            return { status: 'fail', summary: `${!log ? `${m.meta.log.schema}.${m.meta.log.table} is missing` : missing.length ? `the log lacks ${missing.join(', ')}` : 'staging_migrations.test_results is missing'} (run \`rehearse setup\`)`, data: { rows } };
          }
          return { status: 'pass', summary: `${m.meta.log.schema}.${m.meta.log.table} and staging_migrations.test_results are there`, data: { log: log.columns } };
        },
        { blocking: true },
      );

      await this.test('prerequisites', 'a staging backup was taken for this run', async () => {
        const b = this.inputs.backup;
        if (!b) return { status: 'skip', summary: 'no backup was given to the harness' };
        if (!existsSync(b.file)) return { status: 'fail', summary: `${b.file} does not exist` };
        const size = statSync(b.file).size;
        const head = Buffer.alloc(2);
        const fd = openSync(b.file, 'r');
        readSync(fd, head, 0, 2, 0);
        closeSync(fd);
        const gzip = head[0] === 0x1f && head[1] === 0x8b;
        const fresh = statSync(b.file).mtimeMs >= this.startedAt.getTime() - 15 * 60_000;
        const data = { file: b.file, bytes: size, gzip, fresh };
        if (!size || (b.file.endsWith('.gz') && !gzip)) return { status: 'fail', summary: `${b.file} is empty or not a gzip file`, data };
        if (!fresh) return { status: 'fail', summary: `${b.file} is older than this run`, data };
        return { status: 'pass', summary: `${b.file} (${(size / 1024).toFixed(1)} KiB)`, data };
      });

      await this.test(
        'prerequisites',
        'baseline: checksums of every table, the value histogram, sample rows',
        async () => {
          const [sums, protectedSums, hist, ineligible, eligible, all] = await Promise.all([
            this.sums(),
            this.protectedSums(),
            histogram(this.sql, m),
            ineligibleRowsSum(this.sql, m, this.includeDeleted),
            countEligible(this.sql, m, this.includeDeleted),
            countEligible(this.sql, m, true),
          ]);
          const id = quoteIdent(t.idColumn);
          const sample = async (where: string) => ((await this.sql.unsafe(`SELECT ${id}::text AS id FROM ${targetTable(m)} WHERE ${where} ORDER BY random() LIMIT 100`)) as unknown as Array<{ id: string }>).map((r) => r.id);
          const cond = eligibleCondition(m, this.includeDeleted);
          this.baseline = { sums, protectedSums, histogram: hist, ineligible, eligible, softDeletedLeft: all - eligible, affectedIds: await sample(cond), otherIds: await sample(`NOT coalesce(${cond}, false)`) };
          const rows = Object.values(sums).reduce((s, x) => s + x.rows, 0);
          return { status: 'pass', summary: `${Object.keys(sums).length} tables, ${rows} rows; ${m.meta.change.column}: ${Object.entries(hist).map(([k, v]) => `${k} ${v}`).join(', ')}`, data: { tables: Object.keys(sums).length, rows, histogram: hist } };
        },
        { blocking: true },
      );
    });
  }

  // ---------------------------------------------------------------------------------------------
  // 2. Migration

  async migration(): Promise<TestResult[]> {
    return this.category('migration', async () => {
      const m = this.m;
      const b = this.baseline!;
      const runId = this.nextUpId();
      let up!: PhaseResult;
      await this.test(
        'migration',
        'up runs to the end',
        async () => {
          try {
            up = await this.phase('up', runId, 'up');
          } catch (error) {
            if (error instanceof MigrationRunError) return { status: 'fail', summary: error.message, data: { sqlstate: error.pgCode, compensated: error.compensated } };
            throw error;
          }
          return {
            status: 'pass',
            summary: `${up.rows} rows in ${up.batches} batch(es), ${shortMs(up.ms)} (${up.rowsPerSecond} rows/s)${up.retries.length ? `, ${up.retries.length} retries` : ''}`,
            data: { phaseRunId: runId, rows: up.rows, batches: up.batches, ms: up.ms, preludeMs: up.preludeMs, rowsPerSecond: up.rowsPerSecond, retries: up.retries.length },
          };
        },
        { blocking: true },
      );

      await this.test('migration', `${m.meta.change.column} histogram before and after`, async () => {
        const after = await histogram(this.sql, m);
        const expected = { ...b.histogram };
        expected[m.meta.change.from] = (expected[m.meta.change.from] ?? 0) - up.rows;
        expected[m.meta.change.to] = (expected[m.meta.change.to] ?? 0) + up.rows;
        for (const k of Object.keys(expected)) if (expected[k] === 0) delete expected[k];
        const same = JSON.stringify(Object.entries(after).sort()) === JSON.stringify(Object.entries(expected).sort());
        const fmt = (h: Record<string, number>) => Object.entries(h).map(([k, v]) => `${k} ${v}`).join(', ');
        return { status: same ? 'pass' : 'fail', summary: same ? `before: ${fmt(b.histogram)} → after: ${fmt(after)}` : `after is ${fmt(after)}, expected ${fmt(expected)}`, data: { before: b.histogram, after, expected } };
      });

      for (const check of await runVerify(this.sql, m, runId, this.includeDeleted)) {
        await this.test('migration', `verify.sql: ${check.name}`, async () => ({ status: check.ok ? 'pass' : 'fail', summary: check.detail, data: { ms: check.ms } }));
      }

      await this.test('migration', `every eligible ${m.meta.change.from} row changed, no other row did`, async () => {
        const remaining = await countEligible(this.sql, m, this.includeDeleted);
        const unlogged = await unloggedRowsSum(this.sql, m, runId);
        const ok = remaining === 0 && unlogged.rows === b.ineligible.rows && unlogged.sum === b.ineligible.sum && up.rows === b.eligible;
        return {
          status: ok ? 'pass' : 'fail',
          summary: ok
            ? `${up.rows} of ${b.eligible} eligible changed; the other ${unlogged.rows} rows' ${m.meta.change.column} identical`
            : `${remaining} eligible left, ${up.rows}/${b.eligible} changed, other rows ${unlogged.sum === b.ineligible.sum && unlogged.rows === b.ineligible.rows ? 'unchanged' : 'CHANGED'}`,
          data: { eligibleBefore: b.eligible, changed: up.rows, remaining, otherRows: { before: b.ineligible, after: unlogged } },
        };
      });

      await this.test('migration', 'exactly one log row per migrated row', async () => {
        const log = await logCounts(this.sql, m, runId);
        const ok = log.rows === up.rows && log.distinctUsers === up.rows && (log.byStatus.completed ?? 0) === up.rows;
        return { status: ok ? 'pass' : 'fail', summary: `${log.rows} log rows for ${log.distinctUsers} users, ${up.rows} migrated (${Object.entries(log.byStatus).map(([k, v]) => `${v} ${k}`).join(', ')})`, data: { ...log, migrated: up.rows } };
      });

      await this.test('migration', 'running it again changes nothing', async () => {
        const before = await this.sums();
        const again = await this.phase('up', `${runId}-again`, 'up again');
        const diff = diffSums(before, await this.sums());
        const ok = again.rows === 0 && diff.length === 0;
        return { status: ok ? 'pass' : 'fail', summary: ok ? `second run changed 0 rows; every checksum identical` : `second run changed ${again.rows} rows; ${diff.length} table(s) differ`, data: { rows: again.rows, differing: diff.map((d) => d.table) } };
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // 3. Integrity

  async integrity(): Promise<TestResult[]> {
    return this.category('integrity', async () => {
      const b = this.baseline!;
      await this.test('integrity', 'zero orphans on every foreign key', async () => {
        const orphans = await orphanCounts(this.sql, this.shape!);
        const bad = Object.entries(orphans).filter(([, n]) => n > 0);
        return { status: bad.length ? 'fail' : 'pass', summary: bad.length ? bad.map(([k, n]) => `${k}: ${n}`).join('; ') : `${Object.keys(orphans).length} foreign keys checked`, data: { orphans } };
      });
      await this.test('integrity', 'every constraint is valid', async () => {
        const invalid = await unvalidatedConstraints(this.sql, this.inputs.schemas);
        return { status: invalid.length ? 'fail' : 'pass', summary: invalid.length ? `not validated: ${invalid.join(', ')}` : 'all constraints validated', data: { invalid } };
      });
      const now = await this.protectedSums();
      await this.test('integrity', 'row counts unchanged in every table', async () => {
        const changed = Object.keys(b.sums).filter((k) => !this.sideTables.includes(k) && now[k]?.rows !== b.sums[k]!.rows);
        const side = this.m.meta.alsoChanges.map((a) => `${a.table}: ${a.why}`);
        return {
          status: changed.length ? 'fail' : 'pass',
          summary: changed.length ? changed.map((k) => `${k}: ${b.sums[k]!.rows} → ${now[k]?.rows}`).join('; ') : `${Object.keys(now).length} tables, same counts${side.length ? ` (not counted: ${side.join('; ')})` : ''}`,
          data: { rows: Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v.rows])) },
        };
      });
      await this.test('integrity', 'checksums of every column the migration may not change are unchanged', async () => {
        const diff = diffSums(b.protectedSums, now);
        return {
          status: diff.length ? 'fail' : 'pass',
          summary: diff.length ? `changed: ${diff.map((d) => d.table).join(', ')}` : `every table identical (${this.m.meta.target.table} without ${this.m.meta.mayChange.join(', ')})`,
          data: { mayChange: this.m.meta.mayChange, differing: diff },
        };
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // 4. Rollback: forward, back, forward.

  async rollback(): Promise<TestResult[]> {
    return this.category('rollback', async () => {
      const b = this.baseline!;
      const first = this.applied[this.applied.length - 1]!;
      const migrated = this.phases.find((p) => p.result.runId === first)!.result.rows;
      let down!: PhaseResult;
      await this.test(
        'rollback',
        'down runs to the end',
        async () => {
          down = await this.phase('down', first, 'down');
          return { status: 'pass', summary: `${down.rows} rows in ${down.batches} batch(es), ${shortMs(down.ms)}`, data: { phaseRunId: first, rows: down.rows, ms: down.ms } };
        },
        { blocking: true },
      );
      await this.test('rollback', 'every table equals the baseline exactly (all columns)', async () => {
        const diff = diffSums(b.sums, await this.sums());
        return {
          status: diff.length ? 'fail' : 'pass',
          summary: diff.length ? `differs from the baseline: ${diff.map((d) => `${d.table}${d.before?.rows !== d.after?.rows ? ` (rows ${d.before?.rows} → ${d.after?.rows})` : ''}`).join(', ')}` : `${Object.keys(b.sums).length} tables, every checksum identical to before up`,
          data: { differing: diff },
        };
      });
      await this.test('rollback', 'the run\'s log rows are marked reversed', async () => {
        const log = await logCounts(this.sql, this.m, first);
        const reversed = log.byStatus.reversed ?? 0;
        return { status: reversed === migrated && reversed === log.rows ? 'pass' : 'fail', summary: `${reversed} of ${log.rows} reversed (${Object.entries(log.byStatus).map(([k, v]) => `${v} ${k}`).join(', ')})`, data: { ...log } };
      });
      await this.test('rollback', 'trial runs at a quarter, half and all of the eligible rows roll back without a trace', async () => {
        const before = await trialFootprint(this.sql, this.m, this.includeDeleted);
        this.performance.trials = await runTrials(this.sql, this.m, this.settings(), trialSizes(before.eligible), this.inputs.signal);
        const after = await trialFootprint(this.sql, this.m, this.includeDeleted);
        const same = after.eligible === before.eligible && after.logRows === before.logRows;
        const points = this.performance.trials.points.map((t) => `${t.rows} rows ${shortMs(t.ms)}`).join(', ');
        return {
          status: same ? 'pass' : 'fail',
          summary: same ? `${points}; rolled back: ${before.eligible} eligible and ${before.logRows} log rows, as before` : `the trials left a change: eligible ${before.eligible} → ${after.eligible}, log rows ${before.logRows} → ${after.logRows}`,
          data: { before, after, ...this.performance.trials },
        };
      });
      await this.test(
        'rollback',
        'forward again: up succeeds after down',
        async () => {
          const runId = this.nextUpId();
          const up = await this.phase('up', runId, 'up (forward again)');
          const checks = await runVerify(this.sql, this.m, runId, this.includeDeleted);
          const failed = checks.filter((c) => !c.ok);
          const ok = up.rows === migrated && !failed.length;
          return { status: ok ? 'pass' : 'fail', summary: ok ? `${up.rows} rows again, verify.sql passes` : `${up.rows} rows (first run: ${migrated}); ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`, data: { phaseRunId: runId, rows: up.rows, verify: checks } };
        },
        { blocking: true },
      );
    });
  }

  // ---------------------------------------------------------------------------------------------
  // 5. Performance: down and up again while a synthetic workload runs, locks sampled.

  async performanceTests(): Promise<TestResult[]> {
    return this.category('performance', async () => {
      const b = this.baseline!;
      const w = this.inputs.workload;
      const th = this.inputs.thresholds;
      const workload = new Workload({ sql: this.sql, migration: this.m, shape: this.shape!, connections: w.connections, holdMs: w.holdMs, affectedIds: b.affectedIds, otherIds: b.otherIds });
      const current = this.applied[this.applied.length - 1]!;
      let downUnderLoad: Sums | undefined;
      await workload.start();
      try {
        this.emit({ type: 'note', message: `workload: ${w.connections} connections, measuring ${shortMs(w.beforeMs)} before the migration` });
        await sleep(w.beforeMs, this.inputs.signal);
        for (const phase of ['down', 'up'] as const) {
          const sampler = new LockSampler(this.sql, w.sampleIntervalMs);
          await sampler.start();
          workload.setWindow(phase);
          try {
            const result = phase === 'down' ? await this.phase('down', current, 'down (under load)', { sampler }) : await this.phase('up', this.nextUpId(), 'up (under load)', { sampler });
            this.performance[phase] = result;
          } finally {
            workload.setWindow('after');
            this.performance.locks[phase] = await sampler.stop();
          }
          if (phase === 'down') downUnderLoad = await this.sums();
        }
      } finally {
        this.performance.workload = await workload.stop();
      }
      const perf = this.performance;
      for (const phase of ['up', 'down'] as const) {
        const r = perf[phase]!;
        await this.test('performance', `${phase}: duration and throughput under load`, async () => ({
          status: r.ms <= th.upMaxSeconds * 1000 ? 'pass' : 'fail',
          summary: `${r.rows} rows in ${shortMs(r.ms)}, ${r.rowsPerSecond} rows/s, ${r.batches} batch(es)${r.retries.length ? `, ${r.retries.length} retries after lock waits` : ''} (limit ${th.upMaxSeconds} s)`,
          data: { rows: r.rows, ms: r.ms, rowsPerSecond: r.rowsPerSecond, batches: r.batches, retries: r.retries, preludeMs: r.preludeMs },
        }));
      }
      await this.test('performance', 'lock modes the migration took', async () => {
        const held = [...new Set([...(perf.up?.locksHeld ?? []), ...(perf.down?.locksHeld ?? [])])].sort();
        const exclusive = held.filter((h) => /AccessExclusiveLock$/.test(h));
        return { status: exclusive.length ? 'warn' : 'pass', summary: held.length ? `${held.join('; ')}${exclusive.length ? ' (ACCESS EXCLUSIVE blocks every reader)' : ''}` : 'none', data: { up: perf.up?.locksHeld, down: perf.down?.locksHeld } };
      });
      await this.test('performance', 'longest lock wait and blocked queries', async () => {
        const l = [perf.locks.up, perf.locks.down].filter((x): x is LockReport => !!x);
        const longest = Math.max(0, ...l.map((x) => x.longestWaitMs));
        const blocked = l.reduce((s, x) => s + x.blockedQueries, 0);
        const byMigration = l.reduce((s, x) => s + x.blockedByMigration, 0);
        const deadlocks = l.reduce((s, x) => s + x.deadlocks, 0);
        const retries = (perf.up?.retries.length ?? 0) + (perf.down?.retries.length ?? 0);
        const ok = longest <= th.maxLockWaitMs && deadlocks === 0;
        return {
          status: ok ? 'pass' : 'fail',
          summary: `longest wait ${shortMs(longest)} (limit ${shortMs(th.maxLockWaitMs)}); ${l.reduce((s, x) => s + x.waits, 0)} waits, ${blocked} blocked queries (${byMigration} by the migration); migration retries ${retries}; deadlocks ${deadlocks}`,
          data: { longestWaitMs: longest, blockedQueries: blocked, blockedByMigration: byMigration, deadlocks, retries, up: perf.locks.up, down: perf.locks.down },
        };
      });
      await this.test('performance', 'workload latency p50/p95: before vs during', async () => {
        const win = perf.workload!.windows;
        const before = win.before;
        const during = [win.up, win.down].filter((x) => !!x);
        const p95 = Math.max(0, ...during.map((x) => x!.p95Ms));
        const fmt = (x: { p50Ms: number; p95Ms: number; ops: number } | undefined) => (x ? `p50 ${x.p50Ms} / p95 ${x.p95Ms} ms (${x.ops} ops)` : 'no samples');
        // Over the limit while the migration added little to an already slow host is the host's
        // latency, not the migration's: a warning that says so. The migration adding more than half
        // the budget on top of the baseline fails.
        const added = before ? p95 - before.p95Ms : p95;
        const hostSlow = p95 > th.workloadP95Ms && added <= th.workloadP95Ms / 2;
        return {
          status: !before || !during.length ? 'warn' : p95 <= th.workloadP95Ms ? 'pass' : hostSlow ? 'warn' : 'fail',
          summary:
            `before ${fmt(before)}; during down ${fmt(win.down)}; during up ${fmt(win.up)} (p95 limit ${th.workloadP95Ms} ms` +
            `${before ? `; the migration added ${Math.round(added)} ms to p95, at most ${th.workloadP95Ms / 2} ms allowed` : ''})` +
            `${hostSlow ? `: over the limit already before the migration (p95 ${before!.p95Ms} ms), so staging's host is slow; rerun on a quieter host to measure the limit` : ''}`,
          data: perf.workload as unknown as Record<string, unknown>,
        };
      });
      await this.test('performance', 'the workload ran without errors', async () => {
        const errors = Object.values(perf.workload!.windows).reduce((s, x) => s + x.errors, 0);
        return { status: errors ? 'fail' : 'pass', summary: errors ? `${errors} failed operations: ${perf.workload!.errors.slice(0, 3).join(' | ')}` : `${Object.values(perf.workload!.windows).reduce((s, x) => s + x.ops, 0)} operations, none failed`, data: { errors: perf.workload!.errors } };
      });
      await this.test('performance', 'down under load restored every checksum', async () => {
        const diff = diffSums(b.sums, downUnderLoad!);
        return { status: diff.length ? 'fail' : 'pass', summary: diff.length ? `differs: ${diff.map((d) => d.table).join(', ')}` : 'identical to the baseline, with the workload running', data: { differing: diff } };
      });
      for (const q of this.inputs.adaptation?.skippedQueries ?? []) {
        await this.test('performance', `EXPLAIN ANALYZE: ${q.name}`, async () => ({ status: 'skip', summary: q.reason }));
      }
      await this.test('performance', 'production run projected from the cost per row', async () => {
        const key = tableKey(this.m.meta.target.schema, this.m.meta.target.table);
        perf.projection = projectProduction({
          trials: perf.trials?.points ?? [],
          productionRows: this.inputs.productionEligible,
          productionNote: this.inputs.productionEligible !== undefined ? undefined : this.inputs.production ? 'production is reachable but its eligible rows could not be counted' : (this.inputs.productionNote ?? 'no production was given'),
          stagingEligible: b.eligible,
          stagingUsers: b.sums[key]?.rows,
          batchSize: this.inputs.settings.batchSize,
        });
        return { ...projectionVerdict(perf.projection, th), data: perf.projection as unknown as Record<string, unknown> };
      });
      perf.explain = await explainStandardQueries(this.sql, this.m, b.affectedIds[0], b.otherIds[0]);
      for (const e of perf.explain) {
        await this.test('performance', `EXPLAIN ANALYZE: ${e.name}`, async () => ({
          status: e.executionMs <= th.standardQueryMs ? 'pass' : 'fail',
          summary: `${e.executionMs} ms (limit ${th.standardQueryMs} ms): ${e.plan}`,
          data: { ...e },
        }));
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // 6. Edge cases

  async edgeCases(): Promise<TestResult[]> {
    return this.category('edge-cases', async () => {
      const m = this.m;
      const b = this.baseline!;
      const t = m.meta.target;
      const table = targetTable(m);
      const id = quoteIdent(t.idColumn);
      const col = quoteIdent(m.meta.change.column);

      await this.test('edge-cases', 'an invalid value is rejected by the column', async () => {
        const value = `NOT_A_${m.meta.change.column.toUpperCase()}_${randomBytes(2).toString('hex')}`;
        const db = await this.sql.reserve();
        try {
          await db.unsafe('BEGIN');
          await db.unsafe(`UPDATE ${table} SET ${col} = $1 WHERE ${id} = $2`, [value, b.otherIds[0] ?? b.affectedIds[0]]);
          this.edge.invalidValue = { value, message: 'accepted' };
          return { status: 'fail', summary: `'${value}' was accepted: the column needs an enum type or a CHECK constraint` };
        } catch (error) {
          const e = error as { code?: string; message: string };
          this.edge.invalidValue = { value, ...(e.code ? { sqlstate: e.code } : {}), message: e.message };
          const ok = e.code === '22P02' || e.code === '23514';
          return { status: ok ? 'pass' : 'fail', summary: ok ? `rejected (${e.code}): ${e.message}` : `failed for another reason (${e.code}): ${e.message}`, data: this.edge.invalidValue };
        } finally {
          await db.unsafe('ROLLBACK').catch(() => undefined);
          db.release();
        }
      });

      await this.test('edge-cases', `dependent objects that mention '${m.meta.change.from}' are found and listed`, async () => {
        const column = { schema: t.schema, table: t.table, column: m.meta.change.column };
        this.dependents = await findDependentObjects(this.sql, this.inputs.schemas, m.meta.change.from, column);
        const catalog = await catalogDependents(this.sql, m.meta.change.from, column);
        const names = new Set(this.dependents.map((d) => d.name));
        const missed = catalog.filter((c) => !names.has(c));
        return {
          status: missed.length ? 'fail' : 'pass',
          summary: this.dependents.length
            ? `${this.dependents.length} found (review them before production): ${this.dependents.map((d) => `${d.kind} ${d.name}`).join(', ')}${missed.length ? `; MISSED ${missed.join(', ')}` : ''}`
            : `none mention '${m.meta.change.from}'`,
          data: { objects: this.dependents, catalogDependents: catalog, missed },
        };
      });

      // Back to the baseline for the two runs below.
      const current = this.applied[this.applied.length - 1]!;
      await this.test(
        'edge-cases',
        'reset: down, back to the baseline',
        async () => {
          await this.phase('down', current, 'down (edge-case reset)');
          const diff = diffSums(b.sums, await this.sums());
          return { status: diff.length ? 'fail' : 'pass', summary: diff.length ? `differs: ${diff.map((d) => d.table).join(', ')}` : 'every checksum equals the baseline', data: { differing: diff } };
        },
        { blocking: true },
      );

      await this.test('edge-cases', 'a failure injected mid-migration leaves no partial change', async () => {
        const batches = this.inputs.settings.batchSize > 0 ? Math.ceil(b.eligible / this.inputs.settings.batchSize) : 1;
        // With batches, fail in the second one so a committed batch has to be undone.
        const failInBatch = Math.min(2, batches);
        const runId = `${this.runId}/failure`;
        let error: MigrationRunError | undefined;
        try {
          await this.phase('up', runId, 'up (injected failure)', { hooks: { failInBatch } });
        } catch (e) {
          if (!(e instanceof MigrationRunError)) throw e;
          error = e;
        }
        const diff = diffSums(b.sums, await this.sums());
        const log = await logCounts(this.sql, m, runId);
        const left = log.byStatus.completed ?? 0;
        this.edge.injectedFailure = { error: error?.message ?? 'no error was raised', ...(error?.compensated ? { compensated: error.compensated } : {}) };
        const ok = !!error && diff.length === 0 && left === 0;
        return {
          status: ok ? 'pass' : 'fail',
          summary: !error
            ? 'the injected failure did not stop the run'
            : ok
              ? `failed in batch ${failInBatch} as injected; ${error.compensated ? `${error.compensated.committedBatches} committed batch(es) reversed from the log; ` : 'rolled back; '}every checksum equals the baseline`
              : `after the failure: ${diff.length} table(s) differ, ${left} log rows still completed`,
          data: { failInBatch, differing: diff, log, ...this.edge.injectedFailure },
        };
      });

      // One run that both meets a concurrent insert and has cached keys to invalidate.
      const redis = this.inputs.redis;
      const seeded: string[] = [];
      const control: string[] = [];
      const sampleIds = b.affectedIds.slice(0, 3);
      if (redis) {
        for (const userId of sampleIds) for (const p of redis.patterns) seeded.push(keyFor(p, userId, 'rehearse-edge'));
        if (b.otherIds[0]) for (const p of redis.patterns) control.push(keyFor(p, b.otherIds[0], 'rehearse-edge'));
        for (const key of [...seeded, ...control]) await redis.client.set(key, m.meta.change.from, 'EX', 3600);
      }
      let insertedId: string | undefined;
      let insertError: Error | undefined;
      const runId = this.nextUpId();
      let up: PhaseResult | undefined;
      let upError: Error | undefined;
      try {
        up = await this.phase('up', runId, 'up (concurrent insert)', {
          hooks: {
            beforeCommit: async (batch) => {
              if (batch !== 1 || insertedId || insertError) return;
              try {
                insertedId = await this.insertClone(b.affectedIds[0]!);
              } catch (error) {
                insertError = error as Error;
              }
            },
          },
        });
      } catch (error) {
        if (!(error instanceof MigrationRunError)) throw error;
        upError = error;
      }
      this.edge.insertedId = insertedId;

      await this.test('edge-cases', `a row inserted as ${m.meta.change.from} while the migration runs is caught or reported`, async () => {
        if (upError) return { status: 'fail', summary: `the run failed: ${upError.message}` };
        if (insertError || !insertedId) return { status: 'fail', summary: `could not insert the test row: ${insertError?.message ?? 'no insert happened'}` };
        const [row] = (await this.sql.unsafe(`SELECT ${col}::text AS value FROM ${table} WHERE ${id}::text = $1`, [insertedId])) as unknown as Array<{ value: string }>;
        const log = (await this.sql.unsafe(`SELECT batch_id FROM ${logTable(m)} WHERE user_id = $1 AND starts_with(batch_id, $2)`, [insertedId, `${runId}#`])) as unknown as Array<{ batch_id: string }>;
        const caught = row?.value === m.meta.change.to && log.length === 1;
        this.edge.insertCaughtBy = caught ? (up!.caughtLate ? 'the catch-up pass after the last batch' : `batch ${log[0]!.batch_id.split('#')[1]}`) : undefined;
        const data = { insertedId, valueAfter: row?.value, logRows: log.length, caughtLate: up!.caughtLate, leftBehind: up!.leftBehind };
        if (caught) return { status: 'pass', summary: `inserted ${insertedId} inside batch 1's transaction; caught by ${this.edge.insertCaughtBy}`, data };
        if (up!.leftBehind > 0) return { status: 'warn', summary: `not migrated, but reported: ${up!.leftBehind} eligible row(s) left after the run`, data };
        return { status: 'fail', summary: `${insertedId} is still ${row?.value} and nothing reported it: silently missed`, data };
      });

      await this.test('edge-cases', 'cached role and session keys of migrated users are invalidated in Redis', async () => {
        if (!redis) return { status: 'skip', summary: 'no Redis given' };
        if (!up) return { status: 'fail', summary: 'the run failed before invalidation' };
        const staleSeeded = (await Promise.all(seeded.map((k) => redis.client.exists(k)))).reduce((s: number, n) => s + n, 0);
        const controlLeft = (await Promise.all(control.map((k) => redis.client.exists(k)))).reduce((s: number, n) => s + n, 0);
        this.edge.redis = { seeded, control, deleted: up.redis?.deleted ?? 0, stale: (up.redis?.stale ?? 0) + staleSeeded };
        const ok = staleSeeded === 0 && controlLeft === control.length && (up.redis?.stale ?? 0) === 0;
        return {
          status: ok ? 'pass' : 'fail',
          summary: ok
            ? `${seeded.length} keys of ${sampleIds.length} migrated users deleted (${up.redis?.deleted ?? 0} in all, patterns ${redis.patterns.join(', ')}); none stale; the ${control.length} keys of an unchanged user kept`
            : `${staleSeeded} stale keys left, ${control.length - controlLeft} keys of an unchanged user deleted`,
          data: { ...this.edge.redis, invalidation: up.redis },
        };
      });

      await this.test('edge-cases', 'the edge cases leave nothing behind', async () => {
        if (insertedId) {
          await this.sql.unsafe(`DELETE FROM ${logTable(m)} WHERE user_id = $1 AND starts_with(batch_id, $2)`, [insertedId, `${this.runId}/`]);
          await this.sql.unsafe(`DELETE FROM ${table} WHERE ${id}::text = $1`, [insertedId]);
        }
        if (redis && control.length) await redis.client.del(...control);
        const diff = diffSums(b.protectedSums, await this.protectedSums());
        return { status: diff.length ? 'fail' : 'pass', summary: diff.length ? `differs from the baseline (outside ${m.meta.mayChange.join(', ')}): ${diff.map((d) => d.table).join(', ')}` : `test row${insertedId ? ` ${insertedId}` : ''} and test keys removed; every table equals the baseline outside ${m.meta.mayChange.join(', ')}`, data: { differing: diff } };
      });
    });
  }

  /** Inserts a copy of row `sourceId` as a new eligible row (new id, unique text values prefixed), committed at once. */
  private async insertClone(sourceId: string): Promise<string> {
    const m = this.m;
    const t = m.meta.target;
    const table = this.shape!.tables.get(tableKey(t.schema, t.table))!;
    const tag = `rehearse-edge-${randomBytes(4).toString('hex')}`;
    const idCol = table.columns.find((c) => c.name === t.idColumn)!;
    let newId: string;
    if (['int2', 'int4', 'int8', 'numeric'].includes(idCol.udtName)) {
      const [row] = (await this.sql.unsafe(
        `SELECT coalesce(nextval(pg_get_serial_sequence($1, $2)), (SELECT max(${quoteIdent(t.idColumn)}) + 1 FROM ${table.qualified}))::text AS id`,
        [`${quoteIdent(t.schema)}.${quoteIdent(t.table)}`, t.idColumn],
      )) as unknown as Array<{ id: string }>;
      newId = row!.id;
    } else if (idCol.udtName === 'uuid') newId = randomUUID();
    else newId = tag;
    const overrides: string[] = [`${sqlString(t.idColumn)}, $2::text`, `${sqlString(m.meta.change.column)}, $3::text`];
    if (m.meta.softDeleteColumn) overrides.push(`'${m.meta.softDeleteColumn}', NULL`);
    for (const key of table.uniqueKeys) {
      const c = table.columns.find((x) => x.name === key[0]);
      if (key.length === 1 && c && c.name !== t.idColumn && ['text', 'varchar', 'citext'].includes(c.udtName)) overrides.push(`'${c.name}', $4 || '.' || s.${quoteIdent(c.name)}`);
    }
    const columns = table.columns.filter((c) => !c.generated);
    const [row] = (await this.sql.unsafe(
      `INSERT INTO ${table.qualified} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) OVERRIDING SYSTEM VALUE
       SELECT ${columns.map((c) => `r.${quoteIdent(c.name)}`).join(', ')}
       FROM ${table.qualified} s, jsonb_populate_record(NULL::${table.qualified}, to_jsonb(s) || jsonb_build_object(${overrides.join(', ')})) r
       WHERE s.${quoteIdent(t.idColumn)}::text = $1
       RETURNING ${quoteIdent(t.idColumn)}::text AS id`,
      [sourceId, newId, m.meta.change.from, tag],
    )) as unknown as Array<{ id: string }>;
    if (!row) throw new Error(`source row ${sourceId} not found`);
    return row.id;
  }

  // ---------------------------------------------------------------------------------------------

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
