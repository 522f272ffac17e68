// `data restore` as a step: check the backup file (the plan, reused by the run) → back up the
// current staging → restore in one transaction and verify.
import path from 'node:path';
import type { ListrTask } from 'listr2';
import type postgres from 'postgres';
import { backupStaging, validateBackup, type BackupInfo, type BackupResult } from '../src/db/backup.js';
import type { Config } from '../src/config.js';
import { UserError } from '../src/errors.js';
import { newestBackup, restoreStaging, type NewestBackup, type RestoreResult } from '../src/db/restore.js';
import { stagingSql } from '../src/db/staging.js';
import { kib, n } from './format.js';
import { timePhase } from './run-tasks.js';
import { question, stagingContents, type Step } from './steps.js';

export interface RestoreContext {
  config: Config;
  signal: AbortSignal;
  /** The file asked for; none: the newest valid backup. */
  file?: string | undefined;
  timings: Record<string, number>;
  backup?: BackupInfo;
  /** Newer backups that failed validation, never used. */
  skipped: NewestBackup['skipped'];
  before?: BackupResult;
  restored?: RestoreResult;
  sql?: postgres.Sql;
}

export function newRestoreContext(config: Config, signal: AbortSignal, file?: string): RestoreContext {
  return { config, signal, file: file && path.resolve(file), timings: {}, skipped: [] };
}

/** The backup to restore, checked before anything else: a bad file is refused before staging is touched. */
async function pickBackup(ctx: RestoreContext): Promise<BackupInfo> {
  if (ctx.backup) return ctx.backup;
  if (ctx.file) return (ctx.backup = await validateBackup(ctx.file));
  const newest = await newestBackup(ctx.config);
  ctx.skipped = newest.skipped;
  if (!newest.backup) {
    throw new UserError(`There is no valid staging backup to restore${ctx.skipped.length ? ` (${ctx.skipped.length} invalid: ${ctx.skipped.map((s) => s.problem).join(' ')})` : ''}; nothing was changed.`, { tryThis: '`rehearse data backup` makes one.' });
  }
  return (ctx.backup = newest.backup);
}

export function restoreTasks(): ListrTask<RestoreContext>[] {
  return [
    {
      title: 'Check the backup file',
      task: (ctx, task) =>
        timePhase(ctx, 'check', async () => {
          const b = await pickBackup(ctx);
          task.title = `Backup ${b.file}: ${b.tables} tables, ${n(b.rows)} rows, taken at ${b.takenAt}`;
        }),
    },
    {
      title: 'Back up the current staging first',
      task: (ctx, task) =>
        timePhase(ctx, 'backup', async () => {
          ctx.before = await backupStaging(ctx.config, ctx.signal);
          task.title = `Backed up staging: ${ctx.before.file} (${kib(ctx.before.bytes)})`;
        }),
    },
    {
      title: 'Restore in one transaction, then verify',
      task: (ctx, task) =>
        timePhase(ctx, 'restore', async () => {
          ctx.sql = stagingSql(ctx.config, { max: 1, statementTimeoutMs: 0 });
          ctx.restored = await restoreStaging(ctx.config, ctx.sql, ctx.backup!.file, ctx.signal, { takenFirst: ctx.before!.file });
          task.title = `Restored ${ctx.restored.file}: ${ctx.restored.verified}`;
        }),
    },
  ];
}

export const restoreStep: Step<RestoreContext> = {
  name: 'data restore',
  guard: (ctx) => ({ kind: 'dangerous', action: `Restoring ${ctx.file ?? 'the newest valid backup'} over the staging database ${ctx.config.database.name}`, resourceName: ctx.config.database.name }),
  async plan(ctx) {
    const b = await pickBackup(ctx);
    return {
      step: 'data restore',
      confirm: question(restoreStep.guard!(ctx), [
        ['staging now', await stagingContents(ctx.config, { allSchemas: true, required: true })],
        ['replaced by', `${b.file}: ${b.tables} tables, ${n(b.rows)} rows, taken at ${b.takenAt} (${kib(b.bytes)})`],
        ...ctx.skipped.map((s): [string, string] => ['skipped', s.problem]),
        ['backup first', 'the current staging is backed up (and proven) before the restore'],
      ]),
    };
  },
  tasks: () => restoreTasks(),
  async close(ctx) {
    await ctx.sql?.end({ timeout: 2 });
    ctx.sql = undefined;
  },
  result(ctx) {
    const r = ctx.restored!;
    return {
      ok: true,
      fields: { restored: r.file, takenAt: r.takenAt, tables: r.tables, rows: r.rows, verified: r.verified, backupOfPrevious: ctx.before!.file, skipped: ctx.skipped },
      text: `${ctx.skipped.map((s) => `Skipped: ${s.problem}\n`).join('')}Restored ${r.file} (taken at ${r.takenAt}).\nVerified: ${r.verified}.\nThe staging data it replaced is in ${ctx.before!.file}.\n`,
    };
  },
};
