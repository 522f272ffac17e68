// The step contract: each guarded step builds its preview and its question here, once, and both the
// CLI command and the wizard ask exactly that. After a stop (cancel or failure) the same module says
// what had already changed, from the phases the step's context recorded, and what is still running.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type postgres from 'postgres';
import { Listr } from 'listr2';
import type { Config } from '../src/config.js';
import { countMismatches, exactCounts, sumRows } from '../src/backup.js';
import { fingerprint } from '../src/restore.js';
import { evidenceAge, loadEvidence, type Evidence } from '../src/checklist.js';
import { demoNames } from '../src/demo/demo-db.js';
import { listStackContainers } from '../src/docker.js';
import { workPaths } from '../src/paths.js';
import { CheckFailedError } from '../src/errors.js';
import { loadMigration } from '../src/migration/folder.js';
import { builtInNames, renameTables } from '../src/migration/adapt.js';
import { stagingSeed } from '../src/subset/seed.js';
import { countEligible } from '../src/migration/runner.js';
import { stagingSql } from '../src/staging-db.js';
import { quoteIdent } from '../src/subset/introspect.js';
import { summarize } from '../src/validate/index.js';
import type { StepId } from '../src/steps.js';
import { closeDataContext, coverageTable, dataTasks, newDataContext, type DataContext } from './data-tasks.js';
import type { MigrateContext } from './migrate-tasks.js';
import type { ValidateContext } from './validate-tasks.js';

export type StepQuestion =
  | { kind: 'yes-no'; message: string }
  /** Type-the-name: `action` says what is about to happen, `rows` what it touches. */
  | { kind: 'dangerous'; action: string; rows: Array<[string, string]>; resourceName: string };

/** What a step would do, worked out read-only, and the one question that guards it. */
export interface StepPlan {
  step: StepId;
  preview?: string;
  confirm: StepQuestion;
}

export const n = (x: number) => x.toLocaleString('en-US');
export const kib = (bytes: number) => (bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
const BACKUP_FIRST: [string, string] = ['backup first', 'staging-backups/staging-backup-<timestamp>.sql.gz'];

/** What staging holds now, for the confirmation table. */
export async function stagingContents(config: Config): Promise<string> {
  const sql = stagingSql(config, { max: 1 });
  try {
    // Exact, not pg_class.reltuples: the estimate said "about 65 rows" of a staging holding 237.
    const counts = Object.entries(await exactCounts(sql)).filter(([key]) => config.data.schemas.includes(key.split('.')[0]!.replace(/^"|"$/g, '')));
    return `${counts.length} tables, ${n(counts.reduce((sum, [, k]) => sum + k, 0))} rows`;
  } catch {
    return '(staging is not reachable: `rehearse setup` first)';
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** The data plan as text; `compact` (the preview before the question) leaves out the reasons and the column lists. */
export function formatDataPlan(ctx: DataContext, opts: { compact?: boolean } = {}): string {
  const p = ctx.plan!;
  const why = (t: (typeof p.tables)[number]) => (opts.compact ? [] : [Object.entries(t.reasons).map(([reason, k]) => `${reason} ×${n(k)}`).join('; ')]);
  const rows = p.tables.filter((t) => t.rows > 0).map((t) => [t.table, n(t.rows), kib(t.estimatedBytes), ...why(t)]);
  const header = ['TABLE', 'ROWS', 'EST. SIZE', ...(opts.compact ? [] : ['WHY'])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => (i === 1 || i === 2 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const anonymized = coverageTable(ctx).filter((c) => !c.rule.startsWith('keep'));
  const byRule = new Map<string, string[]>();
  for (const c of anonymized) byRule.set(c.rule, [...(byRule.get(c.rule) ?? []), c.column]);
  return [
    `Subset of ${ctx.production!.display}: ${p.seedUsers.length} users (${Object.entries(p.usersByRole).map(([r, k]) => `${r} ${k}`).join(', ')})`,
    `plus ${p.pulledInUsers.count} users pulled in only as referenced parents${p.pulledInUsers.count ? ` (${Object.entries(p.pulledInUsers.byRole).map(([r, k]) => `${r} ${k}`).join(', ')})` : ''}.`,
    '',
    line(header),
    ...rows.map(line),
    `${'total'.padEnd(widths[0]!)}  ${n(p.totalRows).padStart(widths[1]!)}  ${kib(p.estimatedBytes).padStart(widths[2]!)}`,
    '',
    `Anonymized columns (${anonymized.length})${opts.compact ? `: ${[...byRule].map(([rule, cols]) => `${rule} ${cols.length}`).join(', ')}` : ':'}`,
    ...(opts.compact ? [] : [...byRule].map(([rule, cols]) => `  ${rule.padEnd(13)} ${cols.join(', ')}`)),
    ...(p.warnings.length ? ['', ...p.warnings.map((w) => `warning: ${w}`)] : []),
    '',
  ].join('\n');
}

/** The data step's plan: the dry run (read-only: production in one snapshot, staging untouched) and its question. */
export async function planData(config: Config, opts: { maxUsers?: number | undefined; signal: AbortSignal }): Promise<StepPlan> {
  const ctx = newDataContext(config, opts.signal, { dryRun: true, ...(opts.maxUsers !== undefined ? { maxUsers: opts.maxUsers } : {}) });
  try {
    await new Listr(dataTasks(), { ctx, renderer: 'silent', exitOnError: true, registerSignalListeners: false }).run();
  } finally {
    await closeDataContext(ctx);
  }
  const p = ctx.plan!;
  return {
    step: 'data',
    preview: formatDataPlan(ctx, { compact: true }),
    confirm: {
      kind: 'dangerous',
      action: `Replace the staging database ${config.database.name} with this subset`,
      rows: [
        ['staging now', await stagingContents(config)],
        ['replaced by', `${n(p.totalRows)} anonymized rows (${p.seedUsers.length} users + ${p.pulledInUsers.count} parents) from ${ctx.production!.display}`],
        BACKUP_FIRST,
      ],
      resourceName: config.database.name,
    },
  };
}

/** The migrate step's question, with the rows it would change now (a string: staging may be down). */
export async function planMigrate(config: Config, opts: { batchSize?: number | undefined; migration?: string | undefined } = {}): Promise<StepPlan> {
  const loaded = loadMigration(opts.migration ?? config.migration.name, process.cwd(), config.workDir);
  const m = renameTables(loaded, builtInNames(loaded, stagingSeed(config).table));
  const c = m.meta.change;
  const batchSize = opts.batchSize ?? config.migration.batchSize;
  let rows: string;
  const sql = stagingSql(config, { max: 1 });
  try {
    const count = await countEligible(sql, m, config.migration.softDeleted === 'include');
    rows = `${n(count)} ${m.meta.target.table} rows with ${c.column} = '${c.from}'${m.meta.softDeleteColumn && config.migration.softDeleted === 'skip' ? ' (not soft-deleted)' : ''}`;
  } catch (error) {
    // A missing table or column is the schema's shape, not an unreachable staging: the run names it before any change.
    const shape = ['42P01', '42703', '3F000'].includes((error as { code?: string }).code ?? '');
    rows = shape ? `(unknown: staging's schema does not fit ${m.name}; the run lists what is missing before it changes anything)` : '(staging is not reachable: `rehearse setup` first)';
  } finally {
    await sql.end({ timeout: 1 });
  }
  return {
    step: 'migrate',
    confirm: {
      kind: 'dangerous',
      action: `Rehearse ${m.name} on the staging database ${config.database.name}: it changes data, rolls back and migrates again`,
      rows: [
        ['migration', `${m.meta.target.table}.${c.column}: ${c.from} → ${c.to} (${m.dir})`],
        ...(m.outsideProject ? [['note', m.outsideProject] as [string, string]] : []),
        ...(m.meta.allow.length ? [['allowed', `${m.meta.allow.join(', ')} (declared in migration.json)`] as [string, string]] : []),
        ['rows', rows],
        ['runs', `up, down, up under a synthetic load, edge cases; ends migrated; ${batchSize ? `batches of ${batchSize}` : 'one transaction'}`],
        BACKUP_FIRST,
      ],
      resourceName: config.database.name,
    },
  };
}

/** What a check that could not run leaves of a note: the recorded phases, marked as such. */
const unverified = (recorded: string, error: unknown) => `${recorded} (Not verified: staging could not be checked now: ${(error as Error).message}.)`;

/**
 * After the data step stopped: what it had changed in staging, checked now against staging's
 * fingerprint taken just before the load (rows and checksums per table), or, when the step stopped
 * before that, against the row counts of the backup taken first; the phases it finished are the context.
 */
export async function dataStateNote(config: Config, ctx: DataContext | undefined): Promise<string> {
  if (!ctx?.backupBefore) return 'Nothing in staging was changed: the stop came before the backup.';
  const { file, rowsPerTable } = ctx.backupBefore;
  const recorded = ctx.restoredAfterFailure ? `Staging was restored from ${file} after a failed check.` : !ctx.load ? `The load did not finish; the backup taken first is ${file}.` : `Staging was replaced by the new subset; the backup taken first is ${file}.`;
  const before = ctx.fingerprintBefore;
  let sql: postgres.Sql | undefined;
  let then: Record<string, number>;
  let now: Record<string, number>;
  let differ: string[];
  try {
    sql = stagingSql(config, { max: 1 });
    if (before) {
      const after = await fingerprint(sql);
      [then, now] = [before, after].map((f) => Object.fromEntries(Object.entries(f).map(([k, t]) => [k, t.rows])));
      differ = Object.keys({ ...before, ...after }).filter((k) => before[k]?.rows !== after[k]?.rows || before[k]?.checksum !== after[k]?.checksum);
    } else {
      [then, now] = [rowsPerTable, await exactCounts(sql)];
      differ = countMismatches(then, now, ['then', 'now']);
    }
  } catch (error) {
    return unverified(recorded, error);
  } finally {
    await sql?.end({ timeout: 1 });
  }
  const tables = Object.keys({ ...then, ...now }).length;
  const reference = before ? 'the fingerprint taken before the load' : 'the backup taken first';
  const basis = before ? 'rows and checksums' : 'row counts';
  if (!differ.length) return `Staging holds what it held before the step (verified now: the ${basis} of all ${tables} tables equal ${reference}); the backup taken first is ${file}.`;
  const verified = `verified now: ${differ.length} of ${tables} tables differ from ${reference}, ${n(sumRows(then))} rows then, ${n(sumRows(now))} now`;
  const back = `\`rehearse data restore ${file}\` brings it back.`;
  if (!ctx.load) return `Staging CHANGED although the load did not finish (${verified}); ${back}`;
  const rest = ctx.reportFile ? '' : ' No data summary was written, so the checklist does not count this subset.';
  return `Staging was replaced by the new subset (${verified}); the backup taken first is ${file}: ${back}${rest}`;
}

/**
 * After the migrate step stopped: what the harness left or undid (its recovery ran on the way out),
 * checked now: the rows still in the migration's source state and the runs its log holds as applied.
 */
export async function migrateStateNote(config: Config, ctx: MigrateContext | undefined): Promise<string> {
  if (!ctx?.backup) return 'Nothing in staging was changed: the stop came before the backup.';
  const recorded = ctx.recovery ? `${ctx.recovery} ` : '';
  const backup = `The backup taken first is ${ctx.backup.file}.`;
  const m = ctx.migration ?? loadMigration(ctx.migrationName, process.cwd(), config.workDir);
  const { from } = m.meta.change;
  let sql: postgres.Sql | undefined;
  let left: number;
  let applied: number;
  try {
    sql = stagingSql(config, { max: 1 });
    left = await countEligible(sql, m, config.migration.softDeleted === 'include');
    const log = `${quoteIdent(m.meta.log.schema)}.${quoteIdent(m.meta.log.table)}`;
    // A run's batches are `<run id>#<n>`; a run is applied while its rows are 'completed' (down marks them 'reversed').
    const [row] = (await sql.unsafe(`SELECT count(DISTINCT split_part(batch_id, '#', 1))::int AS n FROM ${log} WHERE migration_status = 'completed'`)) as unknown as Array<{ n: number }>;
    applied = row!.n;
  } catch (error) {
    return unverified(`${recorded}${backup}`, error);
  } finally {
    await sql?.end({ timeout: 1 });
  }
  const before = ctx.eligibleBefore === undefined ? '' : `, ${ctx.eligibleBefore === left ? 'as many as' : 'against'} ${n(ctx.eligibleBefore)} when the backup was taken`;
  const verified = `verified now: ${n(left)} ${from} rows left${before}, ${applied} applied run(s) in ${m.meta.log.schema}.${m.meta.log.table}`;
  if (applied === 0) return `${recorded}The migration is rolled back on staging (${verified}). ${backup}`;
  const report = ctx.reportFile ? ` (the rehearsal ends migrated; report ${ctx.reportFile})` : '';
  return `${recorded}The migration is applied on staging${report} (${verified}): \`rehearse migrate rollback\` reverses it. ${backup}`;
}

/** What is still running after a stop, read from the engine: the staging stack and the demo production. */
export async function stillRunning(config: Config, docker: Dockerode): Promise<string> {
  const parts: string[] = [];
  try {
    const running = (await listStackContainers(docker, config)).filter((c) => c.state === 'running');
    if (running.length) parts.push(`the staging stack (${running.length} container(s); \`rehearse down\` stops it)`);
  } catch {
    parts.push('the staging stack could not be inspected (`rehearse status`)');
  }
  const demo = demoNames(config).container;
  try {
    const info = (await docker.getContainer(demo).inspect()) as { State?: { Running?: boolean } };
    if (info.State?.Running) parts.push(`the demo production ${demo} (\`rehearse demo --down\` removes it)`);
  } catch {
    // no demo container: nothing to mention
  }
  return parts.length ? `Still running: ${parts.join('; ')}.` : 'Nothing of the rehearsal is running.';
}

/** Validation passes only when every required check did: a failed one fails the step, in the tree too. */
export function assertRequiredChecks(ctx: ValidateContext): void {
  const s = summarize(ctx.results);
  if (s.ok) return;
  throw new CheckFailedError(`${s.requiredFailed.length} required validation check(s) failed: ${s.requiredFailed.map((r) => r.id).join(', ')}.`, {
    details: s.requiredFailed.map((r) => `${r.id}: ${r.value} → ${r.hint}`).join('\n'),
    tryThis: `${s.requiredFailed[0]!.hint}; then run the step again (r).`,
  });
}

const marker = (config: Config, step: StepId) => path.join(workPaths(config).backups, `.${step}-in-progress`);

/**
 * Runs a step with a marker on disk while it runs, removed only when it succeeds: a step cut short
 * (Ctrl-C, a crash, a closed terminal) leaves the marker, and the resume then opens on that step
 * even when an older report of it is still on disk.
 */
export async function withStepMarker<T>(config: Config, step: StepId, fn: () => Promise<T>): Promise<T> {
  mkdirSync(workPaths(config).backups, { recursive: true, mode: 0o700 });
  writeFileSync(marker(config, step), `${new Date().toISOString()}\n`, { mode: 0o600 });
  const result = await fn();
  rmSync(marker(config, step), { force: true });
  return result;
}

function interruptedAt(config: Config, step: StepId): Date | undefined {
  try {
    return statSync(marker(config, step)).mtime;
  } catch {
    return undefined;
  }
}

/** Whether a step's evidence is there and fresh, and the one line that says so ("data summary 12 min ago"). */
export interface StepEvidence {
  done: boolean;
  why: string;
}

/**
 * Where a rehearsal stands, from the reports on disk and the live stack (the checklist's rules):
 * the wizard opens on the first step that is not done. The checklist is never "done": it is the
 * verdict, computed again every time.
 */
export async function stepsEvidence(config: Config, docker: Dockerode, now = new Date()): Promise<Partial<Record<StepId, StepEvidence>>> {
  const e = await loadEvidence(config, docker);
  const judge = (label: string, ev: Evidence | undefined, ok: boolean): StepEvidence =>
    !ev ? { done: false, why: `no ${label} yet` } : ev.stale ? { done: false, why: `${label} is stale: ${ev.stale}` } : !ok ? { done: false, why: `${evidenceAge(label, ev, now)} says it failed` } : { done: true, why: evidenceAge(label, ev, now) };
  let healthy = false;
  try {
    const core = ['app-staging', 'nginx-staging', 'postgres-staging', 'redis-staging'];
    const containers = await listStackContainers(docker, config);
    healthy = core.every((s) => containers.some((c) => c.service === s && c.state === 'running' && c.health === 'healthy'));
  } catch {
    healthy = false;
  }
  const setup = judge('setup report', e.setup, !!e.setup?.data.ok);
  const steps: Partial<Record<StepId, StepEvidence>> = {
    setup: setup.done && !healthy ? { done: false, why: `${setup.why}, but the stack is not running and healthy now` } : setup,
    data: judge('data summary', e.data, !!e.data?.data.ok),
    migrate: judge('migration report', e.migration, !!e.migration?.data.ok),
    validate: judge('validation report', e.validation, !!e.validation?.data.ok && !e.validation.data.quick),
  };
  // A step cut short is to do again, and so is every step after it: its evidence may describe a staging that is gone.
  const order: StepId[] = ['setup', 'data', 'migrate', 'validate'];
  const cut = order.findIndex((step) => interruptedAt(config, step));
  if (cut >= 0) {
    const at = interruptedAt(config, order[cut]!)!;
    steps[order[cut]!] = { done: false, why: `stopped before it finished (started ${evidenceAge('', { file: '', data: {}, mtime: at }, now).trim()})` };
    for (const later of order.slice(cut + 1)) if (steps[later]?.done) steps[later] = { done: false, why: `${steps[later]!.why}, before the ${order[cut]} step stopped unfinished` };
  }
  return steps;
}
