// `rehearse data [--dry-run] [--max-users N]`, `rehearse data rules [--write]`, `rehearse data backup`,
// `rehearse data restore [file]`.
import type { Config } from '../config.js';
import path from 'node:path';
import { backupStaging, exactCounts, sumRows, validateBackup, type BackupInfo } from '../backup.js';
import { newestBackup, restoreStaging, type NewestBackup } from '../restore.js';
import { stagingSql } from '../staging-db.js';
import { UserError } from '../errors.js';
import { closeDataContext, dataTasks, newDataContext } from '../../tasks/data-tasks.js';
import { formatDataPlan, kib, n, planData, withStepMarker } from '../../tasks/steps.js';
import { runTasks, type OutputMode } from '../../tasks/run-tasks.js';
import { confirmDangerous, confirmStep } from './confirm.js';
import { builtinRules, userRules } from '../config.js';
import type { Undecided } from '../anonymize/coverage.js';
import { checkAnonymizationCoverage, readColumnTypes, resolveProduction, unknownRulesError } from '../data/guards.js';
import { writeRulesFile } from '../data/rules-file.js';
import { openProduction, openSnapshot, translatePgError } from '../production.js';
import { introspect } from '../subset/introspect.js';
import type { GlobalFlags } from './interaction.js';

/** The plan as the CLI prints it after the run (the preview before the question is the compact one). */
export const formatPlan = formatDataPlan;

export async function runData(config: Config, opts: { dryRun: boolean; maxUsers?: number; flags: GlobalFlags; mode: OutputMode; signal: AbortSignal }) {
  if (opts.maxUsers !== undefined && (!Number.isInteger(opts.maxUsers) || opts.maxUsers < 1)) {
    throw new UserError(`--max-users must be a whole number of at least 1.`, { tryThis: '--max-users 10 (the default)' });
  }
  if (!opts.dryRun) {
    await confirmStep(`Replacing the staging database ${config.database.name} with a production subset`, opts.flags, () => planData(config, { maxUsers: opts.maxUsers, signal: opts.signal }));
  }
  const ctx = newDataContext(config, opts.signal, { dryRun: opts.dryRun, ...(opts.maxUsers !== undefined ? { maxUsers: opts.maxUsers } : {}) });
  try {
    if (opts.dryRun) await runTasks(dataTasks(), ctx, opts.mode);
    else await withStepMarker(config, 'data', () => runTasks(dataTasks(), ctx, opts.mode));
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
