// `rehearse setup`: bring the staging stack up, health-gated, and leave a setup report.
import type { Config } from '../config.js';
import { dockerClient } from '../stack/docker.js';
import { newSetupContext } from '../../tasks/setup-tasks.js';
import { setupStep } from '../../tasks/setup-step.js';
import { finish, runStep, type Ui } from './ui.js';

export async function setupCommand(config: Config, opts: { regenerateCerts: boolean }, ui: Ui, signal: AbortSignal): Promise<void> {
  const ctx = await runStep(ui, setupStep, newSetupContext(config, dockerClient(), signal, opts.regenerateCerts));
  finish(ui, setupStep.result(ctx));
}
