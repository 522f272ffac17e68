// `rehearse down [--volumes]`: stop the stack; with volumes it is destructive, so it asks (or
// needs --yes) before anything happens, and takes a staging backup first.
import type { Config } from '../config.js';
import { dockerClient } from '../stack/docker.js';
import { downStep, newDownContext } from '../../tasks/down-step.js';
import { finish, runStep, type Ui } from './ui.js';

export async function downCommand(config: Config, opts: { volumes: boolean; backup: boolean }, ui: Ui, signal: AbortSignal): Promise<void> {
  const ctx = await runStep(ui, downStep, newDownContext(config, dockerClient(), signal, opts));
  finish(ui, downStep.result(ctx));
}
