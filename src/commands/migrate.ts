// `rehearse migrate [--dry-run] [--verbose] [--batch-size N] [--migration name]` and
// `rehearse migrate rollback`: ask once, run the step's tree, print its result.
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { newMigrateContext } from '../../tasks/migrate-tasks.js';
import { migrateStep } from '../../tasks/migrate-step.js';
import { newRollbackContext, rollbackStep } from '../../tasks/rollback-step.js';
import { finish, runStep, type Ui } from './ui.js';

export interface MigrateOptions {
  dryRun: boolean;
  verbose: boolean;
  batchSize?: number | undefined;
  migration?: string | undefined;
}

export async function migrateCommand(config: Config, opts: MigrateOptions, ui: Ui, signal: AbortSignal): Promise<void> {
  if (opts.batchSize !== undefined && (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)) {
    throw new UserError('--batch-size must be a whole number of at least 1.', { tryThis: '--batch-size 1000 (without it, the migration runs in one transaction)' });
  }
  const ctx = newMigrateContext(config, signal, { dryRun: opts.dryRun, verbose: opts.verbose, ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}), ...(opts.migration ? { migration: opts.migration } : {}) });
  await runStep(ui, migrateStep, ctx, { marker: opts.dryRun ? undefined : 'migrate' });
  finish(ui, migrateStep.result(ctx));
}

export async function rollbackCommand(config: Config, opts: { migration?: string | undefined }, ui: Ui, signal: AbortSignal): Promise<void> {
  const ctx = await runStep(ui, rollbackStep, newRollbackContext(config, signal, opts));
  finish(ui, rollbackStep.result(ctx));
}
