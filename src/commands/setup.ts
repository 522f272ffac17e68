// `rehearse setup`: bring the staging stack up, health-gated, and leave a setup report.
import type { Config } from '../config.js';
import { dockerClient } from '../docker.js';
import { newSetupContext, setupTasks } from '../../tasks/setup-tasks.js';
import { runTasks } from '../../tasks/run-tasks.js';
import type { OutputMode } from '../../tasks/run-tasks.js';

export async function runSetup(config: Config, opts: { mode: OutputMode; signal: AbortSignal; regenerateCerts: boolean }) {
  const ctx = newSetupContext(config, dockerClient(), opts.signal, opts.regenerateCerts);
  await runTasks(setupTasks(), ctx, opts.mode);
  return ctx;
}
