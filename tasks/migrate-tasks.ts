// The migrate step as a listr2 task tree: connect → (dry run: plan) → back up staging → the six
// harness categories, each with its tests streaming in → record results and write the report.
import type { ListrTask } from 'listr2';
import type postgres from 'postgres';
import type { Redis } from 'ioredis';
import { backupStaging, type BackupResult } from '../src/db/backup.js';
import type { Config } from '../src/config.js';
import { resolveProduction } from '../src/data/guards.js';
import { CancelledError, CheckFailedError, UserError, isAbortError } from '../src/errors.js';
import { adaptMigration, compileError, compileMigration, type Adaptation, type CompileResult } from '../src/migration/adapt.js';
import { loadMigration, type MigrationFolder } from '../src/migration/folder.js';
import { stagingSeed } from '../src/subset/seed.js';
import { CATEGORIES, CATEGORY_TITLES, connectionsNeeded, MigrationHarness, newRunId, recordResults, type Category, type HarnessEvent, type TestResult } from '../src/migration/harness/index.js';
import { PhaseMarks, type PhaseStatus } from '../src/migration/phase-marks.js';
import { planMigration, type MigrationPlan } from '../src/migration/plan.js';
import { buildMigrationReport } from '../src/migration/report.js';
import { copyHint, countEligible, type RunnerSettings, type StatementTiming } from '../src/migration/runner.js';
import { openProduction } from '../src/db/production.js';
import { writeReport } from '../src/evidence/reports.js';
import { restoreStaging } from '../src/db/restore.js';
import { stagingRedis, stagingSql, stagingUnreachable } from '../src/db/staging.js';
import { version } from '../src/version.js';
import { timePhase } from './run-tasks.js';

export interface MigrateContext {
  config: Config;
  signal: AbortSignal;
  dryRun: boolean;
  verbose: boolean;
  batchSize: number;
  migrationName: string;
  /** The folder as written, loaded once when the context is made. */
  folder: MigrationFolder;
  startedAt: Date;
  timings: Record<string, number>;
  /** The folder as it runs on staging (branches chosen from the catalog). */
  migration?: MigrationFolder;
  adaptation?: Adaptation;
  /** Every statement and standard query compiled against staging, rolled back. */
  compile?: CompileResult;
  staging?: postgres.Sql;
  production?: postgres.Sql;
  /** Why production was not compared with staging, when it was not. */
  productionNote?: string;
  /** The migration's eligible rows in production (read-only count), or why they were not counted. */
  productionEligible?: number;
  productionCountError?: string;
  redis?: Redis;
  backup?: BackupResult;
  /** Rows in the migration's source state when the backup was taken: what a stop is compared with. */
  eligibleBefore?: number;
  plan?: MigrationPlan;
  harness?: MigrationHarness;
  /** The run's phases, marked in staging for the monitoring timeline. */
  marks?: PhaseMarks;
  /** Every statement run, with its timing (shown with --verbose). */
  statements: Array<StatementTiming & { run: string }>;
  /** The figures the wizard shows as they come in. */
  figures: { lockWaits?: number; longestLockWaitMs?: number; blockedQueries?: number; p50BeforeMs?: number; p95BeforeMs?: number; p95DuringMs?: number };
  reportFile?: string;
  recorded?: number;
  /** Set when something other than a test failed: the tree stops. */
  fatal?: boolean;
  /** What was done to staging after a crash or cancel. */
  recovery?: string;
  /** Where the running task's live lines go. */
  out?: (line: string) => void;
}

/** Loads the migration folder (a bad name fails here, before anything is asked or opened). */
export function newMigrateContext(config: Config, signal: AbortSignal, opts: { dryRun?: boolean; verbose?: boolean; batchSize?: number; migration?: string } = {}): MigrateContext {
  return {
    config,
    signal,
    dryRun: !!opts.dryRun,
    verbose: !!opts.verbose,
    batchSize: opts.batchSize ?? config.migration.batchSize,
    migrationName: opts.migration ?? config.migration.name,
    folder: loadMigration(opts.migration ?? config.migration.name, process.cwd(), config.workDir),
    startedAt: new Date(),
    timings: {},
    statements: [],
    figures: {},
  };
}

/** Ends every connection the step opened; safe to call twice. */
export async function closeMigrateContext(ctx: MigrateContext): Promise<void> {
  ctx.redis?.disconnect();
  await Promise.all([ctx.staging?.end({ timeout: 2 }), ctx.production?.end({ timeout: 2 })]);
  ctx.redis = undefined;
  ctx.staging = undefined;
  ctx.production = undefined;
}

/** The runner's settings from the configuration; `batchSize` is --batch-size when given. */
export function runnerSettings(config: Config, batchSize = config.migration.batchSize): RunnerSettings {
  const m = config.migration;
  return { batchSize, includeDeleted: m.softDeleted === 'include', lockTimeoutMs: m.lockTimeoutMs, retries: m.retries, retryBaseMs: m.retryBaseMs, workMemMb: m.workMemMb };
}

const mark = { pass: '✔', fail: '✖', warn: '⚠', skip: '↓' } as const;
export const resultLine = (r: TestResult) => `${mark[r.status]} ${r.name}: ${r.summary} (${r.durationMs} ms)`;

function onHarnessEvent(ctx: MigrateContext, event: HarnessEvent): void {
  if (event.type === 'test') ctx.out?.(resultLine(event.result));
  else if (event.type === 'note') ctx.out?.(event.message);
  else if (event.type === 'runner') {
    const e = event.event;
    if (e.type === 'statement') {
      ctx.statements.push({ ...e, run: event.label });
      if (ctx.verbose) ctx.out?.(`  ${event.label} #${e.batch}: ${e.ms.toFixed(1).padStart(8)} ms ${String(e.rows).padStart(7)} rows  ${e.label}`);
    } else if (e.type === 'retry') ctx.out?.(`  ${event.label}: batch ${e.batch} hit ${e.code === '55P03' ? 'lock_timeout' : e.code === '40P01' ? 'a deadlock' : e.code}; retry ${e.attempt} in ${e.waitMs} ms`);
    else if (e.type === 'batch' && ctx.batchSize > 0 && e.batch % 10 === 0) ctx.out?.(`  ${event.label}: batch ${e.batch}, ${e.totalRows} rows so far`);
    else if (e.type === 'compensate') ctx.out?.(`  ${event.label}: failed after ${e.committedBatches} committed batch(es); reversing them from the log`);
  }
}

/** After a crash or cancel: reverse what the harness left applied; restore the backup if that is not enough. */
async function recover(ctx: MigrateContext): Promise<string> {
  const h = ctx.harness;
  if (!h || !ctx.staging) return 'Nothing was changed.';
  try {
    const undone = await h.undoApplied();
    if (undone.atBaseline !== false) return undone.reversed.length ? `Reversed ${undone.reversed.length} applied run(s) from the log: staging data is as it was before this step.` : 'Staging data is as it was before this step.';
  } catch {
    // fall through to the backup
  }
  if (!ctx.backup) return 'Staging could not be brought back automatically and no backup was taken; run `rehearse data` to reload it.';
  await restoreStaging(ctx.config, ctx.staging, ctx.backup.file);
  return `Staging was restored from ${ctx.backup.file} (as it was before this step).`;
}

function newHarness(ctx: MigrateContext): MigrationHarness {
  const { config } = ctx;
  return new MigrationHarness({
    sql: ctx.staging!,
    migration: ctx.migration!,
    schemas: config.data.schemas,
    settings: runnerSettings(config, ctx.batchSize),
    workload: config.migration.workload,
    thresholds: config.migration.thresholds,
    redis: ctx.redis ? { client: ctx.redis, patterns: config.migration.redisKeyPatterns } : undefined,
    production: ctx.production,
    productionNote: ctx.productionNote,
    productionEligible: ctx.productionEligible,
    backup: ctx.backup,
    adaptation: ctx.adaptation,
    runId: ctx.marks?.runId,
    marks: ctx.marks,
    signal: ctx.signal,
    onProgress: (event) => onHarnessEvent(ctx, event),
  });
}

const RUN: Record<Category, (h: MigrationHarness) => Promise<TestResult[]>> = {
  prerequisites: (h) => h.prerequisites(),
  migration: (h) => h.migration(),
  integrity: (h) => h.integrity(),
  rollback: (h) => h.rollback(),
  performance: (h) => h.performanceTests(),
  'edge-cases': (h) => h.edgeCases(),
};

/** A category with a failed test shows as failed and the tree goes on; a crash or a cancel undoes the runs still applied (or restores the backup) and stops. */
function categoryTask(category: Category, index: number): ListrTask<MigrateContext> {
  const title = `${index + 1}/6 ${CATEGORY_TITLES[category]}`;
  return {
    title,
    enabled: (ctx) => !ctx.dryRun,
    exitOnError: (ctx) => !!ctx.fatal || ctx.signal.aborted,
    task: (ctx, task) =>
      timePhase(ctx, category, async () => {
        ctx.out = (line) => (task.output = line);
        let results: TestResult[];
        await ctx.marks?.start('step', category);
        try {
          results = await RUN[category](ctx.harness!);
        } catch (error) {
          await ctx.marks?.end('step', category, ctx.signal.aborted || isAbortError(error) ? 'cancelled' : 'failed');
          ctx.fatal = true;
          ctx.recovery = await recover(ctx);
          if (ctx.signal.aborted || isAbortError(error)) throw new CancelledError(ctx.recovery);
          if (error instanceof UserError) throw new UserError(`${error.message} ${ctx.recovery}`, { tryThis: error.tryThis ?? 'Fix the cause and run `rehearse migrate` again.' });
          throw new CheckFailedError(`${CATEGORY_TITLES[category]} stopped: ${(error as Error).message}. ${ctx.recovery}`, { tryThis: 'Fix the cause and run `rehearse migrate` again.' });
        }
        await ctx.marks?.end('step', category, stepStatus(results));
        if (category === 'performance') updateFigures(ctx);
        const count = (s: TestResult['status']) => results.filter((r) => r.status === s).length;
        const parts = [`${count('pass')} passed`, count('fail') && `${count('fail')} failed`, count('warn') && `${count('warn')} warnings`, count('skip') && `${count('skip')} skipped`].filter(Boolean);
        task.title = `${title}: ${parts.join(', ')}${category === 'performance' ? figureLine(ctx) : ''}`;
        const failed = results.filter((r) => r.status === 'fail');
        if (failed.length) throw new CheckFailedError(failed.map((r) => `${r.name}: ${r.summary}`).join(' | '));
      }),
    // Test lines (and --verbose statement lines) stay under the category once it is done.
    rendererOptions: { persistentOutput: true, bottomBar: 20 },
  } as ListrTask<MigrateContext>;
}

const stepStatus = (results: TestResult[]): PhaseStatus => (results.some((r) => r.status === 'fail') ? 'failed' : results.every((r) => r.status === 'skip') ? 'skipped' : 'ok');

function updateFigures(ctx: MigrateContext): void {
  const p = ctx.harness!.performance;
  const locks = [p.locks.up, p.locks.down].filter((l) => !!l);
  const w = p.workload?.windows;
  ctx.figures = {
    lockWaits: locks.reduce((s, l) => s + l!.waits, 0),
    longestLockWaitMs: Math.max(0, ...locks.map((l) => l!.longestWaitMs)),
    blockedQueries: locks.reduce((s, l) => s + l!.blockedQueries, 0),
    ...(w?.before ? { p50BeforeMs: w.before.p50Ms, p95BeforeMs: w.before.p95Ms } : {}),
    p95DuringMs: Math.max(0, ...[w?.up, w?.down].filter((x) => !!x).map((x) => x!.p95Ms)),
  };
}

const figureLine = (ctx: MigrateContext) => {
  const f = ctx.figures;
  return ` (lock waits ${f.lockWaits ?? 0}, longest ${f.longestLockWaitMs ?? 0} ms; workload p95 ${f.p95BeforeMs ?? '?'} → ${f.p95DuringMs ?? '?'} ms)`;
};

/** Opens the step's staging pool once (sized for the workload) and proves it answers. */
export async function connectStaging(ctx: MigrateContext): Promise<void> {
  if (ctx.staging) return;
  const { config } = ctx;
  const sql = stagingSql(config, { max: connectionsNeeded(config.migration.workload), statementTimeoutMs: 0 });
  try {
    await sql`SELECT 1`;
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw stagingUnreachable(config, error);
  }
  ctx.staging = sql;
}

/** Fits the folder to staging's schema and compiles it, once: a shape problem stops here, before any change. */
export async function adaptToStaging(ctx: MigrateContext): Promise<void> {
  if (ctx.compile) return;
  const { config } = ctx;
  ctx.adaptation = await adaptMigration(ctx.staging!, ctx.folder, config.data.schemas, stagingSeed(config).table);
  ctx.migration = ctx.adaptation.migration;
  ctx.compile = await compileMigration(ctx.staging!, ctx.adaptation, { batchSize: ctx.batchSize, includeDeleted: config.migration.softDeleted === 'include', lockTimeoutMs: config.migration.lockTimeoutMs });
}

export function migrateTasks(): ListrTask<MigrateContext>[] {
  return [
    {
      title: 'Connect to staging and read the migration',
      task: (ctx, task) =>
        timePhase(ctx, 'connect', async () => {
          const { config } = ctx;
          // Done already when the step's plan asked its question: the same connection and adaptation.
          await connectStaging(ctx);
          await adaptToStaging(ctx);
          const migration = ctx.migration!;
          if (!ctx.compile!.ok && !ctx.dryRun) throw compileError(migration, ctx.compile!);
          if (!ctx.dryRun) {
            ctx.redis = await stagingRedis(config);
            try {
              await ctx.redis.connect();
            } catch (error) {
              throw stagingUnreachable(config, error, { service: 'redis' });
            }
            let production: ReturnType<typeof resolveProduction> | undefined;
            try {
              production = resolveProduction(config);
              ctx.production = openProduction(production.url, { statementTimeoutMs: config.production.statementTimeoutMs, max: 1 });
              await ctx.production`SELECT 1`;
            } catch (error) {
              await ctx.production?.end({ timeout: 1 });
              ctx.production = undefined;
              // Configured but down is not the same as none configured: say which.
              ctx.productionNote = production
                ? `${production.kind === 'demo' ? 'the demo production' : 'production'} at ${production.display} is configured but not reachable (${(error as Error).message})`
                : 'no production is configured (PRODUCTION_DATABASE_URL) and no demo production was made';
            }
            // What the performance verdict projects onto: one read-only count through the production connection.
            if (ctx.production) {
              try {
                ctx.productionEligible = await countEligible(ctx.production, migration, config.migration.softDeleted === 'include');
              } catch (error) {
                ctx.productionCountError = (error as Error).message;
              }
            }
          }
          const c = migration.meta.change;
          task.title = `Staging ${config.database.name}; migration ${migration.name}: ${migration.meta.target.table}.${c.column} ${c.from} → ${c.to}, ${ctx.batchSize ? `batches of ${ctx.batchSize}` : 'one transaction'}${migration.outsideProject ? ` (note: ${migration.outsideProject})` : ''}${ctx.productionNote ? `; not compared with production: ${ctx.productionNote}` : ''}${ctx.productionEligible !== undefined ? `; production: ${ctx.productionEligible.toLocaleString('en-US')} eligible rows` : ctx.productionCountError ? `; production's eligible rows not counted: ${ctx.productionCountError}` : ''}`;
        }),
    },
    {
      title: 'Plan (dry run: nothing is changed)',
      enabled: (ctx) => ctx.dryRun,
      task: (ctx, task) =>
        timePhase(ctx, 'plan', async () => {
          ctx.plan = await planMigration(ctx.staging!, ctx.adaptation!, ctx.compile!, { schemas: ctx.config.data.schemas, batchSize: ctx.batchSize, includeDeleted: ctx.config.migration.softDeleted === 'include' });
          const p = ctx.plan;
          task.title = `Plan: ${p.eligible} rows to migrate in ${p.batches} transaction(s); ${p.softDeleted.count} soft-deleted ${p.softDeleted.policy === 'skip' ? 'left' : 'included'}; ${p.dependents.length} dependent object(s) mention '${ctx.migration!.meta.change.from}'; ${p.compile.statements.filter((x) => x.ok).length}/${p.compile.statements.length} statements compile`;
          if (!p.compile.ok) throw compileError(ctx.migration!, p.compile);
        }),
    },
    {
      title: 'Back up staging before changing anything',
      enabled: (ctx) => !ctx.dryRun,
      task: (ctx, task) =>
        timePhase(ctx, 'backup', async () => {
          ctx.marks = new PhaseMarks(ctx.staging!, newRunId(ctx.migration!.name), ctx.migration!.name);
          await ctx.marks.start('step', 'backup');
          try {
            ctx.backup = await backupStaging(ctx.config, ctx.signal);
          } catch (error) {
            await ctx.marks.end('step', 'backup', ctx.signal.aborted || isAbortError(error) ? 'cancelled' : 'failed');
            throw error;
          }
          await ctx.marks.end('step', 'backup', 'ok');
          ctx.eligibleBefore = await countEligible(ctx.staging!, ctx.migration!, ctx.config.migration.softDeleted === 'include');
          task.title = `Backed up staging: ${ctx.backup.file} (${(ctx.backup.bytes / 1024).toFixed(1)} KiB)`;
          ctx.harness = newHarness(ctx);
        }),
    },
    ...CATEGORIES.map((c, i) => categoryTask(c, i)),
    {
      title: 'Record the results and write the report',
      enabled: (ctx) => !ctx.dryRun,
      task: (ctx, task) =>
        timePhase(ctx, 'report', async () => {
          const h = ctx.harness!;
          // Also after a failed run: an enum label added by the prelude stays, and must be said.
          await h.reportLeftovers();
          ctx.recorded = await recordResults(ctx.staging!, h);
          const report = await buildMigrationReport(h, ctx.staging!, {
            rehearseVersion: version,
            staging: { database: ctx.config.database.name, port: ctx.config.ports.postgres },
            backup: ctx.backup,
            options: {
              batchSize: ctx.batchSize,
              softDeleted: ctx.config.migration.softDeleted,
              lockTimeoutMs: ctx.config.migration.lockTimeoutMs,
              retries: ctx.config.migration.retries,
              retryBaseMs: ctx.config.migration.retryBaseMs,
              redisKeyPatterns: ctx.config.migration.redisKeyPatterns,
              workload: ctx.config.migration.workload,
              thresholds: ctx.config.migration.thresholds,
              production: ctx.production ? 'compared' : (ctx.productionNote ?? 'not compared'),
              phaseMarks: ctx.marks?.summary(),
              productionEligible: ctx.productionEligible ?? null,
              timingsMs: ctx.timings,
            },
          });
          ctx.reportFile = writeReport(ctx.config, 'migration-test-report', report);
          const marks = ctx.marks?.summary();
          const marked = !marks ? '' : marks.error ? `; phases not marked (${marks.error})` : `; ${marks.written} phase marks in ${marks.table}${ctx.config.profiles.monitoring ? ' (on Prometheus through postgres-exporter-staging)' : ''}`;
          task.title = `Recorded ${ctx.recorded} results in staging_migrations.test_results${marked}; report ${ctx.reportFile}`;
          const summary = h.summary();
          if (!summary.ok) {
            throw new CheckFailedError(`${summary.failed.length} migration test(s) failed; staging is left as the last run put it (see the report).`, {
              details: summary.failed.join('\n'),
              tryThis: `Read ${ctx.reportFile}. ${copyHint(ctx.migration!, 'fix what failed')} Roll back what is applied first (\`rehearse migrate rollback --yes\`, with the same --migration).`,
            });
          }
        }),
    },
  ];
}
