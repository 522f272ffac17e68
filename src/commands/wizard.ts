// `rehearse` with no command: the Ink wizard over the steps, with the stats pane fed by dockerode.
import { Listr, type ListrTask } from 'listr2';
import type { Config } from '../config.js';
import { watchContainerStats } from '../container-stats.js';
import { dockerClient } from '../docker.js';
import { ExitCode } from '../errors.js';
import { stackNames } from '../paths.js';
import { newSetupContext, setupTasks } from '../../tasks/setup-tasks.js';
import { closeDataContext, dataTasks, newDataContext } from '../../tasks/data-tasks.js';
import { closeMigrateContext, migrateTasks, newMigrateContext } from '../../tasks/migrate-tasks.js';
import { newValidateContext, validateTasks } from '../../tasks/validate-tasks.js';
import { computeChecklist } from '../checklist.js';
import { demoUp } from '../demo/demo-db.js';
import { withRunLock } from '../run-lock.js';
import { formatPlan, stagingContents } from './data.js';
import { runReport } from './report.js';
import { renderWizard, type InkListrOptions } from '../../screens/render-wizard.js';

/** One step's task tree, drawn by the wizard or (for a preview) silently; `close` runs however it ends. */
async function runTree<Ctx extends object>(tasks: ListrTask<Ctx>[], ctx: Ctx, drawing: InkListrOptions | { renderer: 'silent' }, close?: () => Promise<void>): Promise<void> {
  try {
    await new Listr(tasks, { ...drawing, ctx, exitOnError: true, registerSignalListeners: false }).run();
  } finally {
    await close?.();
  }
}

export async function runWizard(config: Config, controller: AbortController): Promise<number> {
  const docker = dockerClient();
  const outcome = await renderWizard({
    abortController: controller,
    runners: {
      setup: {
        id: 'setup',
        async run(rendererOptions, signal) {
          await withRunLock(config, 'wizard: setup', () => runTree(setupTasks(), newSetupContext(config, docker, signal), rendererOptions));
        },
      },
      data: {
        id: 'data',
        // The dry-run plan first (read-only), then the type-the-name confirmation that shows it.
        async prepare(signal) {
          // Without a configured production the rehearsal reads the built-in demo one (as `rehearse all` does).
          if (!config.production.url) await demoUp(config, { users: config.demo.users, seed: config.demo.seed, signal });
          const ctx = newDataContext(config, signal, { dryRun: true });
          await runTree(dataTasks(), ctx, { renderer: 'silent' }, () => closeDataContext(ctx));
          return {
            preview: formatPlan(ctx, { compact: true }),
            confirm: {
              kind: 'dangerous',
              title: `Replace the staging database ${config.database.name} with this subset`,
              rows: [
                ['staging now', await stagingContents(config)],
                ['replaced by', `${ctx.plan!.totalRows.toLocaleString('en-US')} anonymized rows from ${ctx.production!.display}`],
                ['backup first', 'staging-backups/staging-backup-<timestamp>.sql.gz'],
              ],
              resourceName: config.database.name,
            },
          };
        },
        async run(rendererOptions, signal) {
          const ctx = newDataContext(config, signal);
          await withRunLock(config, 'wizard: data', () => runTree(dataTasks(), ctx, rendererOptions, () => closeDataContext(ctx)));
        },
      },
      migrate: {
        id: 'migrate',
        confirm: {
          kind: 'dangerous',
          title: `Rehearse ${config.migration.name} on ${config.database.name}: it changes data, rolls back and migrates again (staging is backed up first)`,
          rows: [
            ['migration', config.migration.name],
            ['runs', 'prerequisites, up, integrity, down (checksums), up under load, edge cases'],
            ['backup first', 'staging-backups/staging-backup-<timestamp>.sql.gz'],
          ],
          resourceName: config.database.name,
        },
        async run(rendererOptions, signal) {
          const ctx = newMigrateContext(config, signal);
          await withRunLock(config, 'wizard: migrate', () => runTree(migrateTasks(), ctx, rendererOptions, () => closeMigrateContext(ctx)));
        },
      },
      validate: {
        id: 'validate',
        async run(rendererOptions, signal) {
          const ctx = newValidateContext(config, docker, signal);
          await runTree(validateTasks(ctx.selection), ctx, rendererOptions, () => ctx.probes.close());
        },
      },
      checklist: {
        id: 'checklist',
        // Every criterion as a task: met ✔, n/a skipped, otherwise failed with the command that fixes it.
        async run(rendererOptions, signal) {
          const checklist = await computeChecklist(config, docker);
          signal.throwIfAborted();
          await new Listr(
            [
              ...checklist.items.map((item) => ({
                title: `${item.group}: ${item.criterion}`,
                task: (_: unknown, task: { skip: (m: string) => void; output: string }) => {
                  task.output = item.evidence;
                  if (item.status === 'n/a') return task.skip(`n/a: ${item.evidence}`);
                  if (item.status !== 'met') throw new Error(`${item.status}: ${item.evidence} → ${item.fix}`);
                },
              })),
              {
                title: 'Write the week-2 readiness report',
                task: async (_: unknown, task: { title: string }) => {
                  const r = await runReport(config);
                  task.title = `${r.ready ? 'GO' : 'NO-GO'}: ${r.markdown} (and .html)`;
                },
              },
            ],
            { ...rendererOptions, exitOnError: false, registerSignalListeners: false },
          ).run();
          if (!checklist.ready) throw new Error(`Not ready: ${checklist.items.filter((i) => i.required && i.status !== 'met').length} required criteria are not met (see above). Retry with r once fixed.`);
        },
      },
    },
    subscribeStats: (signal, onUpdate) => void watchContainerStats(docker, stackNames(config).composeProject, signal, onUpdate).catch(() => undefined),
  });
  if (outcome.status === 'cancelled') return ExitCode.cancelled;
  if (outcome.status === 'failed') return ExitCode.checkFailed;
  return ExitCode.ok;
}
