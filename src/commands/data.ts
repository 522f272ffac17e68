// `rehearse data [--dry-run] [--max-users N]`, `rehearse data backup`, `rehearse data restore [file]`.
import type { Config } from '../config.js';
import { backupStaging } from '../backup.js';
import { newestBackup, restoreStaging } from '../restore.js';
import { stagingSql } from '../staging-db.js';
import { UserError } from '../errors.js';
import { closeDataContext, dataTasks, newDataContext } from '../../tasks/data-tasks.js';
import { formatDataPlan, planData, stagingContents, withStepMarker } from '../../tasks/steps.js';
import { runTasks, type OutputMode } from '../../tasks/run-tasks.js';
import { confirmDangerous, confirmStep } from './confirm.js';
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
