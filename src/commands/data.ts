// `rehearse data [--dry-run] [--max-users N]`, `rehearse data backup`, `rehearse data restore [file]`.
import type { Config } from '../config.js';
import path from 'node:path';
import { backupStaging, exactCounts, sumRows, validateBackup, type BackupInfo } from '../backup.js';
import { newestBackup, restoreStaging, type NewestBackup } from '../restore.js';
import { stagingSql } from '../staging-db.js';
import { UserError } from '../errors.js';
import { closeDataContext, coverageTable, dataTasks, newDataContext, type DataContext } from '../../tasks/data-tasks.js';
import { runTasks, type OutputMode } from '../../tasks/run-tasks.js';
import { confirmDangerous } from './confirm.js';
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

/** Exact rows of staging now, for the restore's confirmation (the restore needs staging anyway). */
async function stagingExact(config: Config): Promise<string> {
  const sql = stagingSql(config, { max: 1, statementTimeoutMs: 0 });
  try {
    const counts = await exactCounts(sql);
    return `${Object.keys(counts).length} tables, ${n(sumRows(counts))} rows (exact)`;
  } catch (error) {
    throw new UserError(`Cannot reach the staging database on port ${config.ports.postgres}; nothing was changed.`, { tryThis: '`rehearse status` shows the stack; `rehearse setup` brings it up.', causes: [(error as Error).message] });
  } finally {
    await sql.end({ timeout: 2 });
  }
}

export async function runRestore(config: Config, file: string | undefined, flags: GlobalFlags, signal: AbortSignal) {
  let backup: BackupInfo;
  let skipped: NewestBackup['skipped'] = [];
  if (file) backup = await validateBackup(path.resolve(file));
  else {
    const newest = await newestBackup(config);
    skipped = newest.skipped;
    if (!newest.backup) {
      throw new UserError(`There is no valid staging backup to restore${skipped.length ? ` (${skipped.length} invalid: ${skipped.map((s) => s.problem).join(' ')})` : ''}; nothing was changed.`, { tryThis: '`rehearse data backup` makes one.' });
    }
    backup = newest.backup;
  }
  await confirmDangerous(
    {
      action: `Restoring ${backup.file} over the staging database ${config.database.name}`,
      rows: [
        ['staging now', await stagingExact(config)],
        ['replaced by', `${backup.tables} tables, ${n(backup.rows)} rows, taken at ${backup.takenAt} (${kib(backup.bytes)})`],
        ...skipped.map((s): [string, string] => ['skipped', s.problem]),
        ['backup first', 'the current staging is backed up (and proven) before the restore'],
      ],
      resourceName: config.database.name,
    },
    flags,
  );
  const before = await backupStaging(config, signal);
  const sql = stagingSql(config, { max: 1, statementTimeoutMs: 0 });
  try {
    const restored = await restoreStaging(config, sql, backup.file, signal, { takenFirst: before.file });
    return { restored: restored.file, takenAt: restored.takenAt, tables: restored.tables, rows: restored.rows, verified: restored.verified, backupOfPrevious: before.file, skipped };
  } finally {
    await sql.end({ timeout: 2 });
  }
}
