// UI entry point of the guided wizard: mounts <Wizard> with Ink and resolves with how it ended.
// Ink draws on stdout (the wizard is interactive only; nothing in it is meant to be piped), while
// listr2 never draws: its tasks reach the screen through InkStoreRenderer.
import { render } from 'ink';
import { UserError } from '../src/errors.js';
import { STEPS } from '../src/run/steps.js';
import type { StepId, StepState } from '../src/run/steps.js';
import { Wizard } from './Wizard.js';
import type { SubscribeStats, WizardOutcome, WizardProps, WizardStepRunner } from './Wizard.js';

export type { SubscribeStats, WizardOutcome, WizardStepRunner } from './Wizard.js';
export type { InkListrOptions } from './task-store.js';
export { InkStoreRenderer, TaskStore } from './task-store.js';

export interface WizardOptions {
  runners: Record<StepId, WizardStepRunner>;
  /** Feeds the stats pane, e.g. `(signal, onUpdate) => watchContainerStats(docker, project, signal, onUpdate)`. */
  subscribeStats?: SubscribeStats;
  /** Ctrl-C aborts it; the running step must then reject. */
  abortController: AbortController;
  /** Each step's evidence: the wizard opens on the first step not done. */
  evidence?: WizardProps['evidence'];
  /** What is still running, for the cancel message. */
  stillRunning?: WizardProps['stillRunning'];
  /** For tests; default process.stdin / process.stdout. */
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

export async function renderWizard(options: WizardOptions): Promise<WizardOutcome> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  // Ink needs raw mode for keys; without it, fail before anything runs and name the way out.
  if (!stdin.isTTY) {
    throw new UserError('The guided wizard needs an interactive terminal.', {
      tryThis: 'Run the steps one by one without prompts: `rehearse setup --yes`, then `rehearse data --yes`, …',
    });
  }
  let outcome: WizardOutcome | undefined;
  const instance = render(
    <Wizard
      runners={options.runners}
      subscribeStats={options.subscribeStats}
      abortController={options.abortController}
      {...(options.evidence ? { evidence: options.evidence } : {})}
      {...(options.stillRunning ? { stillRunning: options.stillRunning } : {})}
      onExit={(result) => {
        outcome = result;
        // onExit runs in an effect, after the final frame was rendered; unmount leaves it on screen.
        instance.unmount();
      }}
    />,
    {
      stdin,
      stdout,
      // Ctrl-C is ours: it must abort the shared controller and let the running step clean up.
      exitOnCtrlC: false,
      // Only patch the global console when drawing on this process's own terminal.
      patchConsole: stdout === process.stdout,
    },
  );
  await instance.waitUntilExit();
  // Unmounted without an outcome: only when the process is exiting under us (signal-exit).
  const states = Object.fromEntries(STEPS.map((s) => [s.id, 'pending'])) as Record<StepId, StepState>;
  return outcome ?? { status: 'cancelled', states };
}
