// `migrate rollback` as a step: read the runs the log holds as applied (the plan, reused by the
// run) → back up staging → reverse them with down.sql and prove it by checksum.
import type { ListrTask } from 'listr2';
import type postgres from 'postgres';
import type { Redis } from 'ioredis';
import { backupStaging, type BackupResult } from '../src/db/backup.js';
import type { Config } from '../src/config.js';
import { CheckFailedError, UserError } from '../src/errors.js';
import { adaptMigration } from '../src/migration/adapt.js';
import { loadMigration, type MigrationFolder } from '../src/migration/folder.js';
import { appliedRuns, rollbackApplied, type AppliedRun, type RollbackProof, type RollbackResult } from '../src/migration/rollback.js';
import { stagingRedis, stagingSql, stagingUnreachable } from '../src/db/staging.js';
import { stagingSeed } from '../src/subset/seed.js';
import { kib } from './format.js';
import { runnerSettings } from './migrate-tasks.js';
import { timePhase } from './run-tasks.js';
import { question, type Step } from './steps.js';

export interface RollbackContext {
  config: Config;
  signal: AbortSignal;
  /** --migration as given (or the configured one): the hint names it back. */
  migrationName: string;
  folder: MigrationFolder;
  timings: Record<string, number>;
  sql?: postgres.Sql;
  runs?: AppliedRun[];
  /** The folder as it runs on staging. */
  migration?: MigrationFolder;
  backup?: BackupResult;
  redis?: Redis;
  rollback?: RollbackResult;
}

export function newRollbackContext(config: Config, signal: AbortSignal, opts: { migration?: string | undefined } = {}): RollbackContext {
  const migrationName = opts.migration ?? config.migration.name;
  return { config, signal, migrationName, folder: loadMigration(migrationName, process.cwd(), config.workDir), timings: {} };
}

/** The runs to reverse and the folder fitted to staging, read once (by the plan, or by the run's first task). */
async function readApplied(ctx: RollbackContext): Promise<void> {
  if (ctx.migration) return;
  const { config, folder } = ctx;
  ctx.sql ??= stagingSql(config, { max: 2, statementTimeoutMs: 0 });
  try {
    ctx.runs = await appliedRuns(ctx.sql, folder);
  } catch (error) {
    throw stagingUnreachable(config, error, { doing: 'read the migration log in' });
  }
  if (!ctx.runs.length) throw new UserError(`Nothing to roll back: no run of ${folder.name} (${folder.dir}) is applied on staging.`, { tryThis: `\`rehearse migrate --migration ${ctx.migrationName}\` runs it (and ends with it applied); a run is found by its folder's name.` });
  ctx.migration = (await adaptMigration(ctx.sql, folder, config.data.schemas, stagingSeed(config).table)).migration;
}

export function rollbackTasks(): ListrTask<RollbackContext>[] {
  return [
    {
      title: 'Read the applied runs from the migration log',
      task: (ctx, task) =>
        timePhase(ctx, 'read', async () => {
          await readApplied(ctx);
          task.title = `Applied on staging: ${ctx.runs!.map((r) => `${r.runId} (${r.rows} rows)`).join(', ')}`;
        }),
    },
    {
      title: 'Back up staging before changing anything',
      task: (ctx, task) =>
        timePhase(ctx, 'backup', async () => {
          ctx.backup = await backupStaging(ctx.config, ctx.signal);
          task.title = `Backed up staging: ${ctx.backup.file} (${kib(ctx.backup.bytes)})`;
        }),
    },
    {
      title: 'Reverse the runs with down.sql, then prove it by checksum',
      task: (ctx, task) =>
        timePhase(ctx, 'rollback', async () => {
          const { config } = ctx;
          const migration = ctx.migration!;
          const redis = await stagingRedis(config);
          const reachable = await redis.connect().then(
            () => true,
            () => false,
          );
          if (reachable) ctx.redis = redis;
          else {
            redis.disconnect();
            task.output = 'Redis is not reachable: cached keys are not invalidated.';
          }
          ctx.rollback = await rollbackApplied(
            {
              sql: ctx.sql!,
              migration,
              schemas: config.data.schemas,
              settings: runnerSettings(config),
              redis: ctx.redis ? { client: ctx.redis, patterns: config.migration.redisKeyPatterns } : undefined,
              signal: ctx.signal,
            },
            ctx.runs!.map((r) => r.runId),
          );
          const p = ctx.rollback.proof;
          if (!p.ok) {
            throw new CheckFailedError(`The rollback ran, but the checksum proof failed.`, {
              details: [
                !p.unchangedElsewhere && `changed outside ${migration.meta.mayChange.join(', ')}: ${p.differing.join(', ')}`,
                !p.restoredEqualsLog && `restored rows (${p.restored.rows}) do not equal the log snapshots (${p.logged.rows})`,
                ...p.sideTables.filter((x) => !x.ok).map((x) => `${x.table}: ${x.found.rows} of the ${x.logged.rows} row(s) kept in the log are back`),
              ].filter(Boolean).join('\n'),
              tryThis: `Compare down.sql with up.sql in ${migration.dir}; \`rehearse data restore ${ctx.backup!.file} --yes\` brings back the state before the rollback.`,
            });
          }
          task.title = `Rolled back and proven: ${p.compared.length} tables identical by row count and checksum`;
        }),
      rendererOptions: { persistentOutput: true },
    } as ListrTask<RollbackContext>,
  ];
}

export const rollbackStep: Step<RollbackContext> = {
  name: 'migrate rollback',
  guard: (ctx) => ({ kind: 'dangerous', action: `Rolling back ${ctx.folder.name} on the staging database ${ctx.config.database.name}`, resourceName: ctx.config.database.name }),
  async plan(ctx) {
    await readApplied(ctx);
    const m = ctx.migration!;
    return {
      step: 'migrate rollback',
      confirm: question(rollbackStep.guard!(ctx), [
        ...ctx.runs!.map((r): [string, string] => [r.runId, `${r.rows} rows, last at ${r.lastAt}`]),
        ['restores', `${m.meta.mayChange.join(', ')} from the log snapshots (${m.dir}/down.sql)`],
        ['backup first', 'staging-backups/staging-backup-<timestamp>.sql.gz'],
      ]),
    };
  },
  tasks: () => rollbackTasks(),
  async close(ctx) {
    ctx.redis?.disconnect();
    ctx.redis = undefined;
    await ctx.sql?.end({ timeout: 2 });
    ctx.sql = undefined;
  },
  result(ctx) {
    const r = ctx.rollback!;
    const name = ctx.migration!.name;
    return {
      ok: true,
      fields: { migration: name, backup: ctx.backup!.file, runs: r.runs.map((x) => ({ runId: x.runId, rows: x.result.rows })), proof: r.proof },
      text: `Rolled back ${r.runs.map((x) => `${x.runId} (${x.result.rows} rows)`).join(', ')} of ${name}.\n${formatRollbackProof(r.proof)}Backup taken before: ${ctx.backup!.file}\n`,
    };
  },
};

export function formatRollbackProof(p: RollbackProof): string {
  const lines = [
    `Proof: ${p.compared.length} tables compared by row count and checksum, before and after: identical${p.compared.some((c) => c.without) ? ` (${p.compared.filter((c) => c.without).map((c) => `${c.table} without ${c.without!.join(', ')}`).join('; ')})` : ''}.`,
    `  the ${p.restored.rows} restored rows equal their log snapshots (checksum ${p.restored.sum})${p.notRestored ? `; ${p.notRestored} row(s) changed since the migration were left alone (log: failed)` : ''}`,
    ...p.sideTables.map((x) => `  ${x.table}: the ${x.logged.rows} row(s) kept in the log are back, identical (checksum ${x.found.sum})`),
    ...p.cannotUndo.map((c) => `  not undone: ${c}`),
  ];
  return lines.join('\n') + '\n';
}
