import { Listr } from 'listr2';
import { describe, expect, it } from 'vitest';
import { renderWizard, type WizardStepRunner } from '../../screens/render-wizard.js';
import { UserError } from '../../src/errors.js';
import { asStdin, asStdout, CTRL_C, ENTER, FakeStdin, FakeStdout, tick, waitFor } from './helpers.js';

function setupRunner(): WizardStepRunner & { runs: number; done: boolean } {
  const r = {
    id: 'setup' as const,
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
    const result = renderWizard({ runners: {}, abortController: new AbortController(), stdin: asStdin(new FakeStdin(false)), stdout: asStdout(stdout) });
    await expect(result).rejects.toBeInstanceOf(UserError);
    await expect(result).rejects.toMatchObject({ tryThis: expect.stringContaining('--yes') });
    expect(stdout.chunks).toEqual([]);
  });

  it('resolves "completed" after the last step and leaves the final frame on stdout', async () => {
    const stdin = new FakeStdin();
    const stdout = new FakeStdout();
    const setup = setupRunner();
    const outcome = renderWizard({ runners: { setup }, abortController: new AbortController(), stdin: asStdin(stdin), stdout: asStdout(stdout) });
    await tick();
    stdin.write(ENTER);
    await waitFor(() => expect(setup.done).toBe(true));
    // The four steps after setup are not built: Enter moves past each.
    for (let i = 0; i < 4; i++) {
      stdin.write(ENTER);
      await tick();
    }
    await expect(outcome).resolves.toEqual({
      status: 'completed',
      states: { setup: 'done', data: 'not-built', migrate: 'not-built', validate: 'not-built', checklist: 'not-built' },
    });
    expect(stdout.text()).toContain('All steps finished.');
  });

  it('resolves "cancelled" on Ctrl-C and aborts the shared controller', async () => {
    const stdin = new FakeStdin();
    const abortController = new AbortController();
    const outcome = renderWizard({ runners: { setup: setupRunner() }, abortController, stdin: asStdin(stdin), stdout: asStdout(new FakeStdout()) });
    await tick();
    stdin.write(CTRL_C);
    await expect(outcome).resolves.toMatchObject({ status: 'cancelled' });
    expect(abortController.signal.aborted).toBe(true);
  });
});
