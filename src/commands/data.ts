// `rehearse data [--dry-run] [--max-users N]`, `rehearse data rules [--write]`, `rehearse data backup`,
// `rehearse data restore [file]`.
import type { Config } from '../config.js';
import { backupStaging } from '../backup.js';
import { newestBackup, restoreStaging } from '../restore.js';
import { stagingSql } from '../staging-db.js';
import { UserError } from '../errors.js';
import { closeDataContext, coverageTable, dataTasks, newDataContext, type DataContext } from '../../tasks/data-tasks.js';
import { runTasks, type OutputMode } from '../../tasks/run-tasks.js';
import { confirmDangerous } from './confirm.js';
import { builtinRules, userRules } from '../config.js';
import type { Undecided } from '../anonymize/coverage.js';
import { checkAnonymizationCoverage, readColumnTypes, resolveProduction, unknownRulesError } from '../data/guards.js';
import { writeRulesFile } from '../data/rules-file.js';
import { openProduction, openSnapshot, translatePgError } from '../production.js';
import { introspect } from '../subset/introspect.js';
import type { GlobalFlags } from './interaction.js';

const n = (x: number) => x.toLocaleString('en-US');
const kib = (bytes: number) => (bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);

/** What staging holds now, for the confirmation table. */
export async function stagingContents(config: Config): Promise<string> {
  const sql = stagingSql(config, { max: 1 });
  try {
    const rows = await sql<{ tables: number; rows: number }[]>`
      SELECT count(*)::int AS tables, coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint::int AS rows
      FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE c.relkind = 'r' AND s.nspname = ANY(${config.data.schemas})`;
    return `${rows[0]!.tables} tables, about ${n(rows[0]!.rows)} rows`;
  } catch {
    return '(staging is not reachable: `rehearse setup` first)';
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** The plan as text; `compact` (the wizard's screen) leaves out the reasons and the column lists. */
export function formatPlan(ctx: DataContext, opts: { compact?: boolean } = {}): string {
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

export async function runData(config: Config, opts: { dryRun: boolean; maxUsers?: number; flags: GlobalFlags; mode: OutputMode; signal: AbortSignal }) {
  if (opts.maxUsers !== undefined && (!Number.isInteger(opts.maxUsers) || opts.maxUsers < 1)) {
    throw new UserError(`--max-users must be a whole number of at least 1.`, { tryThis: '--max-users 10 (the default)' });
  }
  if (!opts.dryRun) {
    await confirmDangerous(
      {
        action: `Replacing the staging database ${config.database.name} with a production subset`,
        rows: [
          ['staging now', await stagingContents(config)],
          ['replaced by', `an anonymized subset of production (${opts.maxUsers ?? config.data.maxUsers} users and their rows)`],
          ['backup first', 'staging-backups/staging-backup-<timestamp>.sql.gz'],
        ],
        resourceName: config.database.name,
      },
      opts.flags,
    );
  }
  const ctx = newDataContext(config, opts.signal, { dryRun: opts.dryRun, ...(opts.maxUsers !== undefined ? { maxUsers: opts.maxUsers } : {}) });
  try {
    await runTasks(dataTasks(), ctx, opts.mode);
  } finally {
    await closeDataContext(ctx);
  }
  return ctx;
}

export async function runBackup(config: Config, signal: AbortSignal) {
  return backupStaging(config, signal);
}

export async function runRestore(config: Config, file: string | undefined, flags: GlobalFlags, signal: AbortSignal) {
  const target = file ?? newestBackup(config);
  if (!target) throw new UserError('There is no staging backup to restore.', { tryThis: '`rehearse data backup` makes one.' });
  await confirmDangerous(
    {
      action: `Restoring ${target} over the staging database ${config.database.name}`,
      rows: [
        ['staging now', await stagingContents(config)],
        ['replaced by', target],
        ['backup first', 'the current staging is backed up before the restore'],
      ],
      resourceName: config.database.name,
    },
    flags,
  );
  const before = await backupStaging(config, signal);
  const sql = stagingSql(config, { max: 1, statementTimeoutMs: 0 });
  try {
    await restoreStaging(config, sql, target, signal);
  } finally {
    await sql.end({ timeout: 2 });
  }
  return { restored: target, backupOfPrevious: before.file };
}

/**
 * Reads production (read-only) and lists the text columns that no rule decides, with the
 * detector's proposal and reason; with `write`, adds them to the rules file for review.
 */
export async function runDataRules(config: Config, opts: { write: boolean }): Promise<{ undecided: Undecided[]; file: string; written?: { added: number; total: number } }> {
  const production = resolveProduction(config);
  const sql = openProduction(production.url, { statementTimeoutMs: config.production.statementTimeoutMs, max: 1 });
  try {
    let snapshot;
    try {
      snapshot = await openSnapshot(sql);
    } catch (error) {
      throw translatePgError(error, production.url, 'production');
    }
    try {
      const shape = await introspect(snapshot.tx, config.data.schemas);
      const types = await readColumnTypes(snapshot.tx, config.data.schemas);
      const coverage = await checkAnonymizationCoverage(snapshot.tx, shape, types, { user: userRules(config), builtin: builtinRules(config) });
      if (coverage.unknownRules.length) throw unknownRulesError(coverage.unknownRules);
      const file = config.anonymize.rulesFile;
      return { undecided: coverage.undecided, file, ...(opts.write ? { written: writeRulesFile(file, coverage.undecided) } : {}) };
    } finally {
      await snapshot.close();
    }
  } finally {
    await sql.end({ timeout: 2 });
  }
}
