// The data step as a listr2 task tree: connect (production read-only) → coverage → plan → backup
// → schema → load (one transaction) → verify (restore the backup on failure) → prove the backup
// restores → report. With dryRun the tree stops after the plan and writes nothing anywhere.
import { isDeepStrictEqual } from 'node:util';
import type { ListrTask } from 'listr2';
import type postgres from 'postgres';
import { createTransformers, findRule, ruleNameOf, type AnonymizeRules, type Transformers } from '../src/anonymize/index.js';
import type { CoverageResult } from '../src/anonymize/coverage.js';
import { backupStaging, type BackupResult } from '../src/db/backup.js';
import { builtinRules, effectiveRules, userRules, type Config } from '../src/config.js';
import { anonymizerSecret, assertNotSameDatabase, checkAnonymizationCoverage, detectorProposals, readColumnTypes, resolveProduction, strictModeError, unknownRulesError, usesScrub, type ColumnTypes, type ProductionSource } from '../src/data/guards.js';
import type { PreparedDictionary } from '../src/data/leak-scan.js';
import { dictionarySources, dropDictionary, readProductionPii } from '../src/data/pii-dictionary.js';
import { loadSubset, type LoadResult } from '../src/data/load.js';
import { catalogSummary, checkStagingCanHold, dumpProductionSchema, readProductionFacts } from '../src/data/schema-copy.js';
import { verifyLoad } from '../src/data/verify.js';
import type { PassFailCheck as CheckResult } from '../src/evidence/check.js';
import { CancelledError, CheckFailedError, UserError } from '../src/errors.js';
import { openProduction, openSnapshot, openSnapshotReaders, translatePgError, type Snapshot } from '../src/db/production.js';
import { writeReport } from '../src/evidence/reports.js';
import { fingerprint, proveRestore, restoreStaging, type RestoreProof, type TableFingerprint } from '../src/db/restore.js';
import { stagingSql, stagingUnreachable } from '../src/db/staging.js';
import { introspect, type DbShape } from '../src/subset/introspect.js';
import { planSubset, type SubsetPlan } from '../src/subset/planner.js';
import { resolveSeed, type ResolvedSeed } from '../src/subset/seed.js';
import { version } from '../src/version.js';
import { timePhase } from './run-tasks.js';

export interface DataContext {
  config: Config;
  signal: AbortSignal;
  dryRun: boolean;
  maxUsers: number;
  startedAt: Date;
  timings: Record<string, number>;
  production?: ProductionSource;
  prodSql?: postgres.Sql;
  snapshot?: Snapshot;
  staging?: postgres.Sql;
  shape?: DbShape;
  /** data.seed with the keys it leaves unset read from production's catalog. */
  seed?: ResolvedSeed;
  /** The rules in force, read once (the rules file could change during the run). */
  rules?: AnonymizeRules;
  columnTypes?: ColumnTypes;
  coverage?: CoverageResult;
  /** keyFingerprint of ANONYMIZER_SECRET: says which key made the pseudonyms, without revealing it. */
  keyFingerprint?: string;
  plan?: SubsetPlan;
  backupBefore?: BackupResult;
  /** Staging's rows and checksums per table, taken after the backup and just before the load. */
  fingerprintBefore?: Record<string, TableFingerprint>;
  backupAfter?: BackupResult;
  /** Production's hashed PII, read with the anonymizer's dictionary before the load, in a temporary table of its own staging session until verify. */
  leakDictionary?: PreparedDictionary;
  load?: LoadResult;
  checks?: CheckResult[];
  proof?: RestoreProof;
  restoredAfterFailure?: boolean;
  reportFile?: string;
  /** For tests: throw after loading this table. */
  failAfterTable?: string;
  /** Set when a read from production was cut off: its connection is dropped, not closed politely. */
  abandonProduction?: boolean;
  onAbort?: () => void;
}

export function newDataContext(config: Config, signal: AbortSignal, opts: { dryRun?: boolean; maxUsers?: number; failAfterTable?: string } = {}): DataContext {
  return { config, signal, dryRun: !!opts.dryRun, maxUsers: opts.maxUsers ?? config.data.maxUsers, startedAt: new Date(), timings: {}, ...(opts.failAfterTable ? { failAfterTable: opts.failAfterTable } : {}) };
}

/** Drops the leak dictionary and gives its staging session back to the pool; safe to call twice. */
async function releaseLeakDictionary(ctx: DataContext): Promise<void> {
  const d = ctx.leakDictionary;
  ctx.leakDictionary = undefined;
  if (!d) return;
  await dropDictionary(d.session).catch(() => undefined);
  d.session.release();
}

/** Ends every connection the step opened; safe to call twice. */
export async function closeDataContext(ctx: DataContext): Promise<void> {
  if (ctx.onAbort) ctx.signal.removeEventListener('abort', ctx.onAbort);
  await releaseLeakDictionary(ctx);
  if (ctx.abandonProduction || ctx.signal.aborted) await ctx.snapshot?.abort();
  else await ctx.snapshot?.close();
  await Promise.all([ctx.prodSql?.end({ timeout: 2 }), ctx.staging?.end({ timeout: 2 })]);
  ctx.snapshot = undefined;
}

/** Staging's data (every table's rows and checksum) and the app schemas' catalog. */
async function stagingState(sql: postgres.Sql, schemas: string[]) {
  return { data: await fingerprint(sql), catalog: await catalogSummary(sql, schemas) };
}

/**
 * After a failed or cancelled load (rolled back by then): compares staging with the state taken
 * before it, restores the backup if they differ, and says what the check found.
 */
async function stagingAfterFailure(ctx: DataContext, before: Awaited<ReturnType<typeof stagingState>>): Promise<string> {
  const schemas = ctx.config.data.schemas;
  const tables = Object.keys(before.data).length;
  if (isDeepStrictEqual(await stagingState(ctx.staging!, schemas), before)) {
    return `staging's fingerprint (${tables} tables: rows and checksums; the schema's catalog) equals the one taken before the load: staging is as it was`;
  }
  await restoreStaging(ctx.config, ctx.staging!, ctx.backupBefore!.file);
  ctx.restoredAfterFailure = true;
  const same = isDeepStrictEqual(await stagingState(ctx.staging!, schemas), before);
  return `staging differed from its fingerprint after the rollback, so ${ctx.backupBefore!.file} was restored; ${same ? 'its fingerprint now equals the one taken before the load: staging is as it was' : 'its fingerprint STILL differs from the one taken before the load (something else writes to staging?)'}`;
}

const n = (x: number) => x.toLocaleString('en-US');
const STAGING_EMAIL_DOMAIN = 'staging.local';

export function dataTasks(): ListrTask<DataContext>[] {
  return [
    {
      title: 'Connect to production (read-only) and staging',
      task: (ctx, task) =>
        timePhase(ctx, 'connect', async () => {
          const { config } = ctx;
          ctx.production = resolveProduction(config);
          ctx.prodSql = openProduction(ctx.production.url, { statementTimeoutMs: config.production.statementTimeoutMs, max: 2 });
          try {
            ctx.snapshot = await openSnapshot(ctx.prodSql);
          } catch (error) {
            throw translatePgError(error, ctx.production.url, 'production');
          }
          // One Ctrl-C ends the snapshot at once: its running query is cancelled and its connection dropped.
          ctx.onAbort = () => void ctx.snapshot?.abort();
          ctx.signal.addEventListener('abort', ctx.onAbort, { once: true });
          ctx.signal.throwIfAborted();
          if (!ctx.dryRun) {
            // Three: the load's transaction, its canceller, and the leak dictionary's session.
            ctx.staging = stagingSql(config, { max: 3, statementTimeoutMs: 0 });
            try {
              await ctx.staging`SELECT 1`;
            } catch (error) {
              throw stagingUnreachable(config, error);
            }
            await assertNotSameDatabase(ctx.snapshot.tx, ctx.staging, ctx.production.display);
          }
          task.title = `Connected: production ${ctx.production.display}${ctx.production.kind === 'demo' ? ' (demo)' : ''}, read-only snapshot${ctx.dryRun ? '' : `; staging ${config.database.name}`}`;
        }),
    },
    {
      title: 'Read production\'s schema and check anonymization coverage',
      task: (ctx, task) =>
        timePhase(ctx, 'coverage', async () => {
          const tx = ctx.snapshot!.tx;
          ctx.shape = await introspect(tx, ctx.config.data.schemas);
          if (!ctx.shape.tables.size) throw new UserError(`Production has no tables in schema(s) ${ctx.config.data.schemas.join(', ')}.`, { tryThis: 'Check data.schemas and the database in PRODUCTION_DATABASE_URL.' });
          const rules = { user: userRules(ctx.config), builtin: builtinRules(ctx.config) };
          ctx.rules = { ...rules.builtin, ...rules.user };
          ctx.columnTypes = await readColumnTypes(tx, ctx.config.data.schemas);
          const coverage = (ctx.coverage = await checkAnonymizationCoverage(tx, ctx.shape, ctx.columnTypes, rules));
          if (coverage.unknownRules.length) throw unknownRulesError(coverage.unknownRules);
          if (coverage.undecided.length && ctx.config.data.strict) throw strictModeError(coverage.undecided);
          const bySource = (s: string) => coverage.decided.filter((d) => d.source === s).length;
          task.title = `Schema: ${ctx.shape.tables.size} tables, ${ctx.shape.foreignKeys.length} foreign keys; text columns decided: ${bySource('built-in')} built-in, ${bySource('config')} by your rules, ${bySource('key column')} key columns kept${coverage.undecided.length ? `; ${coverage.undecided.length} undecided, kept as they are (strict mode off)` : ''}`;
        }),
    },
    {
      title: 'Plan an FK-complete subset',
      task: (ctx, task) =>
        timePhase(ctx, 'plan', async () => {
          const d = ctx.config.data;
          ctx.seed = await resolveSeed(ctx.snapshot!.tx, ctx.shape!, d.seed);
          ctx.plan = await planSubset(ctx.snapshot!.tx, ctx.shape!, {
            maxUsers: ctx.maxUsers,
            seed: ctx.seed,
            caps: d.caps,
            defaultCap: d.defaultCap,
            maxDepth: d.maxDepth,
            signal: ctx.signal,
            onProgress: (m) => (task.output = m),
          });
          const p = ctx.plan;
          const from = ctx.seed.detected.includes('table') ? ` from "${ctx.seed.table}" (detected from the schema)` : '';
          task.title = `Planned ${n(p.totalRows)} rows in ${p.tables.filter((t) => t.rows).length} tables: ${p.seedUsers.length} users${from} + ${p.pulledInUsers.count} pulled in as referenced parents`;
        }),
    },
    {
      title: 'Back up staging before replacing anything',
      skip: (ctx) => ctx.dryRun && 'dry run',
      task: (ctx, task) =>
        timePhase(ctx, 'backupBefore', async () => {
          ctx.backupBefore = await backupStaging(ctx.config, ctx.signal);
          task.title = `Backed up staging: ${ctx.backupBefore.file} (${(ctx.backupBefore.bytes / 1024).toFixed(1)} KiB)`;
        }),
    },
    {
      title: 'Copy the subset into staging (one transaction)',
      skip: (ctx) => ctx.dryRun && 'dry run',
      task: (ctx, task) =>
        timePhase(ctx, 'load', async () => {
          const { config } = ctx;
          const fromProduction = config.data.schemaSource === 'production';
          const facts = await readProductionFacts(ctx.snapshot!.tx, config.data.schemas);
          const warnings = await checkStagingCanHold(ctx.staging!, fromProduction ? facts : { ...facts, extensions: [] }, config.images.postgres);
          ctx.plan!.warnings.push(...warnings);
          let schemaSql: string | undefined;
          if (fromProduction) {
            task.output = 'pg_dump --schema-only of production…';
            schemaSql = (await dumpProductionSchema(config, ctx.production!.url, config.data.schemas, ctx.signal)).sql;
          }
          const rules = ctx.rules ?? effectiveRules(config);
          const secret = anonymizerSecret(config);
          task.output = 'Reading production\'s PII once, for the anonymizer and the leak scan\'s dictionary…';
          const types = ctx.columnTypes ?? new Map();
          // The leak scan reads detector-flagged columns too: it does not trust the rules.
          const sources = dictionarySources(ctx.shape!, rules, await detectorProposals(ctx.snapshot!.tx, ctx.shape!, types));
          const session = await ctx.staging!.reserve();
          const pii = await readProductionPii(ctx.snapshot!.tx, ctx.shape!, {
            anonymizer: { types, rules, wantNames: usesScrub(rules) },
            leak: { sources, staging: session, stagingEmailDomain: STAGING_EMAIL_DOMAIN },
            signal: ctx.signal,
          }).catch(async (error) => {
            await dropDictionary(session).catch(() => undefined);
            session.release();
            throw error;
          });
          ctx.leakDictionary = { session, sources, stats: pii.leak! };
          const transformers: Transformers = createTransformers(secret, { dictionary: pii.anonymizer });
          ctx.keyFingerprint = transformers.fingerprint;
          const before = await stagingState(ctx.staging!, config.data.schemas);
          ctx.fingerprintBefore = before.data;
          // Readers on production's one snapshot, so two tables are read at once (a 2-core host).
          const readers = await openSnapshotReaders(ctx.production!.url, ctx.snapshot!, 2, config.production.statementTimeoutMs);
          // The snapshot's own transaction waits while they read: keep it from the idle-in-transaction timeout.
          const snapshotTx = ctx.snapshot!.tx;
          const keepAlive = setInterval(() => void snapshotTx`SELECT 1`.catch(() => undefined), 20_000);
          try {
            ctx.load = await loadSubset(ctx.staging!, ctx.snapshot!.tx, ctx.shape!, ctx.plan!, {
              readers: readers.txs,
              schemas: config.data.schemas,
              ...(schemaSql !== undefined ? { schemaSql } : {}),
              facts,
              rules,
              secret,
              transformers,
              ...(ctx.columnTypes ? { columnTypes: ctx.columnTypes } : {}),
              signal: ctx.signal,
              ...(ctx.failAfterTable ? { failAfterTable: ctx.failAfterTable } : {}),
              onTable: (p) => (task.output = `${p.index + 1}/${p.total} ${p.table}: ${n(p.rows)} rows${p.rowsPerSecond ? `, ${n(Math.round(p.rowsPerSecond))} rows/s` : ''}${p.done ? ' ✔' : ''}`),
            });
            await readers.close();
          } catch (error) {
            // A read may have been cut off half-way: those connections are dropped, never reused.
            ctx.abandonProduction = true;
            await readers.abort();
            await ctx.snapshot?.abort();
            const truth = await stagingAfterFailure(ctx, before);
            if (ctx.signal.aborted) throw new CancelledError(`The load was rolled back; ${truth}. Production's snapshot was closed.`);
            const e = error as Error;
            const opts = error instanceof UserError ? { exitCode: error.exitCode, ...(error.tryThis ? { tryThis: error.tryThis } : {}) } : { tryThis: 'Fix the cause above and run `rehearse data` again.' };
            throw new UserError(`Loading the subset failed and was rolled back: ${e.message.replace(/\.$/, '')}. Then ${truth}.`, { exitCode: 1, ...opts });
          } finally {
            clearInterval(keepAlive);
          }
          // The load was the keys' last user: on a large subset they are millions of strings.
          ctx.plan!.selection.clear();
          const l = ctx.load;
          task.title = `Loaded ${n(l.tables.reduce((s, t) => s + t.rows, 0))} rows into ${l.tables.length} tables in ${(l.ms / 1000).toFixed(1)} s (anonymizer ${(l.anonymizeMs / 1000).toFixed(1)} s)`;
        }),
    },
    {
      title: 'Verify: row counts, orphans, constraints, leak scan, test users',
      skip: (ctx) => ctx.dryRun && 'dry run',
      task: (ctx, task) =>
        timePhase(ctx, 'verify', async () => {
          try {
            ctx.checks = await verifyLoad(ctx.staging!, ctx.snapshot!.tx, ctx.shape!, ctx.plan!, {
              schemas: ctx.config.data.schemas,
              rules: ctx.rules ?? effectiveRules(ctx.config),
              seed: ctx.seed!,
              stagingEmailDomain: STAGING_EMAIL_DOMAIN,
              ...(ctx.columnTypes ? { columnTypes: ctx.columnTypes } : {}),
              ...(ctx.leakDictionary ? { dictionary: ctx.leakDictionary } : {}),
              onColumn: (c) => (task.output = `leak scan ${c.index + 1}/${c.total}: ${c.column}`),
            });
          } finally {
            await releaseLeakDictionary(ctx);
          }
          const failed = ctx.checks.filter((c) => !c.ok);
          if (failed.length) {
            task.output = 'A check failed: restoring the backup taken before this step…';
            await restoreStaging(ctx.config, ctx.staging!, ctx.backupBefore!.file, ctx.signal);
            ctx.restoredAfterFailure = true;
            throw new CheckFailedError(`Verification failed, so staging was restored from ${ctx.backupBefore!.file} (as it was before this step):\n  ${failed.map((c) => `${c.name}: ${c.detail}`).join('\n  ')}`, {
              tryThis: 'Check the anonymization rules and the subset settings, then run `rehearse data` again.',
            });
          }
          task.title = `Verified: ${ctx.checks.map((c) => c.name.split(':')[0]).join(', ')}`;
        }),
    },
    {
      title: 'Prove the backup procedure: back up, restore into a scratch database, compare',
      skip: (ctx) => ctx.dryRun && 'dry run',
      task: (ctx, task) =>
        timePhase(ctx, 'restoreProof', async () => {
          // Production is not needed any more: end the snapshot now, before the server's
          // idle-in-transaction timeout ends it for us during a long restore.
          await ctx.snapshot?.close();
          ctx.snapshot = undefined;
          ctx.backupAfter = await backupStaging(ctx.config, ctx.signal);
          ctx.proof = await proveRestore(ctx.config, ctx.staging!, (db) => stagingSql(ctx.config, { max: 1, database: db }), ctx.backupAfter, ctx.signal);
          if (!ctx.proof.ok) throw new CheckFailedError(`The backup did not restore identically: ${ctx.proof.mismatches.join(', ')}.`);
          task.title = `Backup restores identically: ${ctx.proof.tables} tables, ${n(ctx.proof.rows)} rows, same checksums (${(ctx.proof.ms / 1000).toFixed(1)} s)`;
        }),
    },
    {
      title: 'Write the data summary',
      skip: (ctx) => ctx.dryRun && 'dry run',
      task: (ctx, task) => {
        ctx.reportFile = writeReport(ctx.config, 'test-data-summary', dataSummary(ctx));
        task.title = `Report: ${ctx.reportFile}`;
      },
    },
  ];
}

/** Every production column with the rule that applies to it ("keep" when none does). */
export function coverageTable(ctx: DataContext) {
  const rules = ctx.rules ?? effectiveRules(ctx.config);
  const keyColumns = new Set(ctx.coverage?.decided.filter((d) => d.source === 'key column').map((d) => `${d.table}.${d.column}`));
  const out: Array<{ column: string; rule: string; values?: number; changed?: number }> = [];
  for (const [key, t] of ctx.shape?.tables ?? []) {
    for (const c of t.columns) {
      const rule = findRule(rules, key, c.name);
      const stats = ctx.load?.columns[`${key}.${c.name}`];
      out.push({ column: `${key}.${c.name}`, rule: rule ? ruleNameOf(rule) : keyColumns.has(`${key}.${c.name}`) ? 'keep (key column)' : 'keep (no rule)', ...(stats ? { values: stats.values, changed: stats.changed } : {}) });
    }
  }
  return out;
}

export function dataSummary(ctx: DataContext) {
  const p = ctx.plan!;
  return {
    kind: 'test-data-summary',
    rehearseVersion: version,
    startedAt: ctx.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    production: { source: ctx.production?.kind, url: ctx.production?.display },
    staging: { database: ctx.config.database.name, port: ctx.config.ports.postgres },
    maxUsers: ctx.maxUsers,
    usersByRole: p.usersByRole,
    seedUsers: p.seedUsers.length,
    // migrate and validate read the users table and its columns from here (src/subset/seed.ts).
    seed: ctx.seed,
    pulledInParents: p.pulledInUsers,
    rowsPerTable: Object.fromEntries((ctx.load?.tables ?? []).map((t) => [t.table, t.rows])),
    plan: p.tables.map(({ table, rows, estimatedBytes, reasons }) => ({ table, rows, estimatedBytes, reasons })),
    warnings: p.warnings,
    anonymization: coverageTable(ctx),
    /** Which ANONYMIZER_SECRET made the pseudonyms (rotating it changes every one of them). */
    anonymizerKeyFingerprint: ctx.keyFingerprint,
    checks: ctx.checks,
    leakScan: ctx.checks?.find((c) => c.name.startsWith('leak scan')),
    backups: { before: ctx.backupBefore?.file, after: ctx.backupAfter?.file },
    restoreProof: ctx.proof,
    load: ctx.load && { ms: ctx.load.ms, anonymizeMs: ctx.load.anonymizeMs, tables: ctx.load.tables },
    timingsMs: ctx.timings,
    ok: !!ctx.checks?.every((c) => c.ok) && !!ctx.proof?.ok,
  };
}
