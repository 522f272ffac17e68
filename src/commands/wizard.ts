// `rehearse` with no command: the Ink wizard over the steps, with the stats pane fed by dockerode.
import { Listr } from 'listr2';
import type { Config } from '../config.js';
import { watchContainerStats } from '../container-stats.js';
import { dockerClient } from '../docker.js';
import { ExitCode } from '../errors.js';
import { stackNames } from '../paths.js';
import { newSetupContext, setupTasks } from '../../tasks/setup-tasks.js';
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
    },
    subscribeStats: (signal, onUpdate) => void watchContainerStats(docker, stackNames(config).composeProject, signal, onUpdate).catch(() => undefined),
  });
  if (outcome.status === 'cancelled') return ExitCode.cancelled;
  if (outcome.status === 'failed') return ExitCode.checkFailed;
  return ExitCode.ok;
}
