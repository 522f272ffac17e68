// `rehearse data [--dry-run] [--max-users N]`, `rehearse data rules [--write]`, `rehearse data backup`,
// `rehearse data restore [file]`.
import type { Config } from '../config.js';
import { backupStaging } from '../db/backup.js';
import { describeUndecided } from '../anonymize/coverage.js';
import { writeRulesFile } from '../data/rules-file.js';
import { undecidedColumns } from '../data/undecided.js';
import { UserError } from '../errors.js';
import { newDataContext } from '../../tasks/data-tasks.js';
import { dataStep } from '../../tasks/data-step.js';
import { newRestoreContext, restoreStep } from '../../tasks/restore-step.js';
import { finish, runStep, type Ui } from './ui.js';

export async function dataCommand(config: Config, opts: { dryRun: boolean; maxUsers?: number | undefined }, ui: Ui, signal: AbortSignal): Promise<void> {
  if (opts.maxUsers !== undefined && (!Number.isInteger(opts.maxUsers) || opts.maxUsers < 1)) {
    throw new UserError(`--max-users must be a whole number of at least 1.`, { tryThis: '--max-users 10 (the default)' });
  }
  const ctx = newDataContext(config, signal, { dryRun: opts.dryRun, ...(opts.maxUsers !== undefined ? { maxUsers: opts.maxUsers } : {}) });
  await runStep(ui, dataStep, ctx, { marker: opts.dryRun ? undefined : 'data' });
  finish(ui, dataStep.result(ctx));
}

export async function backupCommand(config: Config, ui: Ui, signal: AbortSignal): Promise<void> {
  const backup = await backupStaging(config, signal);
  finish(ui, {
    ok: true,
    fields: { ...backup },
    text: `Backup: ${backup.file} (${backup.tables} tables, ${backup.rows.toLocaleString('en-US')} rows, ${(backup.bytes / 1024).toFixed(1)} KiB, ${backup.ms} ms)\nProven: it decompresses completely, ends with pg_dump's end marker, and its row counts equal staging's at ${backup.takenAt}.\n`,
  });
}

export async function restoreCommand(config: Config, file: string | undefined, ui: Ui, signal: AbortSignal): Promise<void> {
  const ctx = await runStep(ui, restoreStep, newRestoreContext(config, signal, file));
  finish(ui, restoreStep.result(ctx));
}

/** Lists the production text columns that no rule decides; with `write`, adds them to the rules file for review. */
export async function dataRulesCommand(config: Config, opts: { write: boolean }, ui: Ui): Promise<void> {
  const undecided = await undecidedColumns(config);
  const file = config.anonymize.rulesFile;
  const written = opts.write ? writeRulesFile(file, undecided) : undefined;
  const text = !undecided.length
    ? 'Every production column that can hold text has an anonymization decision.\n'
    : `${undecided.length} column(s) without a decision:\n${describeUndecided(undecided)}\n` +
      (written ? `\nAdded ${written.added} proposal(s) to ${file} (${written.total} rules in it). Review them, then run \`rehearse data\`.\n` : `\nRun \`rehearse data rules --write\` to add these proposals to ${file} for review.\n`);
  finish(ui, { ok: true, fields: { undecided, file, ...(written ? { written } : {}) }, text });
}
