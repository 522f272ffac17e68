import { Listr } from 'listr2';
import { describe, expect, it } from 'vitest';
import { renderWizard, type WizardStepRunner } from '../../screens/render-wizard.js';
import { UserError } from '../../src/errors.js';
import type { StepId } from '../../src/run/steps.js';
import { asStdin, asStdout, CTRL_C, ENTER, everyStep, FakeStdin, FakeStdout, tick, waitFor } from './helpers.js';

function stepRunner(id: StepId): WizardStepRunner & { runs: number; done: boolean } {
  const r = {
    id,
    runs: 0,
    done: false,
    async run(options: Parameters<WizardStepRunner['run']>[0]) {
      r.runs += 1;
      await new Listr([{ title: 'Start stack', task: () => undefined }], { ...options, registerSignalListeners: false }).run();
      r.done = true;
    },
  };
  return r;
}

describe('renderWizard', () => {
  it('refuses without a terminal on stdin, before drawing anything, and names the way out', async () => {
    const stdout = new FakeStdout();
    const result = renderWizard({ runners: everyStep({}, stepRunner), abortController: new AbortController(), stdin: asStdin(new FakeStdin(false)), stdout: asStdout(stdout) });
    await expect(result).rejects.toBeInstanceOf(UserError);
    await expect(result).rejects.toMatchObject({ tryThis: expect.stringContaining('--yes') });
    expect(stdout.chunks).toEqual([]);
  });

  it('resolves "completed" after the last step and leaves the final frame on stdout', async () => {
    const stdin = new FakeStdin();
    const stdout = new FakeStdout();
    const runners = everyStep({}, stepRunner);
    const outcome = renderWizard({ runners, abortController: new AbortController(), stdin: asStdin(stdin), stdout: asStdout(stdout) });
    await tick();
    // Enter runs each step in turn.
    for (const r of Object.values(runners)) {
      stdin.write(ENTER);
      await waitFor(() => expect(r.done).toBe(true));
    }
    await expect(outcome).resolves.toEqual({
      status: 'completed',
      states: { setup: 'done', data: 'done', migrate: 'done', validate: 'done', checklist: 'done' },
    });
    expect(stdout.text()).toContain('All steps finished.');
  });

  it('resolves "cancelled" on Ctrl-C and aborts the shared controller', async () => {
    const stdin = new FakeStdin();
    const abortController = new AbortController();
    const outcome = renderWizard({ runners: everyStep({}, stepRunner), abortController, stdin: asStdin(stdin), stdout: asStdout(new FakeStdout()) });
    await tick();
    stdin.write(CTRL_C);
    await expect(outcome).resolves.toMatchObject({ status: 'cancelled' });
    expect(abortController.signal.aborted).toBe(true);
  });
});
