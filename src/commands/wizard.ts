// `rehearse` with no command: the Ink wizard over the steps, with the stats pane fed by dockerode.
import { Listr } from 'listr2';
import type { Config } from '../config.js';
import { watchContainerStats } from '../container-stats.js';
import { dockerClient } from '../docker.js';
import { ExitCode } from '../errors.js';
import { stackNames } from '../paths.js';
import { newSetupContext, setupTasks } from '../../tasks/setup-tasks.js';
import { closeDataContext, dataTasks, newDataContext } from '../../tasks/data-tasks.js';
import { formatPlan, stagingContents } from './data.js';
import { renderWizard } from '../../screens/render-wizard.js';

export async function runWizard(config: Config, controller: AbortController): Promise<number> {
  const docker = dockerClient();
  const outcome = await renderWizard({
    abortController: controller,
    runners: {
      setup: {
        id: 'setup',
        async run(rendererOptions, signal) {
          const ctx = newSetupContext(config, docker, signal);
          await new Listr(setupTasks(), { ...rendererOptions, ctx, exitOnError: true, registerSignalListeners: false }).run();
        },
      },
      data: {
        id: 'data',
        // The dry-run plan first (read-only), then the type-the-name confirmation that shows it.
        async prepare(signal) {
          const ctx = newDataContext(config, signal, { dryRun: true });
          try {
            await new Listr(dataTasks(), { ctx, renderer: 'silent', exitOnError: true, registerSignalListeners: false }).run();
          } finally {
            await closeDataContext(ctx);
          }
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
          try {
            await new Listr(dataTasks(), { ...rendererOptions, ctx, exitOnError: true, registerSignalListeners: false }).run();
          } finally {
            await closeDataContext(ctx);
          }
        },
      },
    },
    subscribeStats: (signal, onUpdate) => void watchContainerStats(docker, stackNames(config).composeProject, signal, onUpdate).catch(() => undefined),
  });
  if (outcome.status === 'cancelled') return ExitCode.cancelled;
  if (outcome.status === 'failed') return ExitCode.checkFailed;
  return ExitCode.ok;
}
