import { render } from 'ink-testing-library';
import { Listr, type ListrTask } from 'listr2';
import { describe, expect, it, vi } from 'vitest';
import { Wizard, type WizardOutcome, type WizardProps, type WizardStepRunner } from '../../screens/Wizard.js';
import type { StepQuestion } from '../../tasks/steps.js';
import type { ContainerStat } from '../../src/stack/container-stats.js';
import { UserError } from '../../src/errors.js';
import type { StepId } from '../../src/run/steps.js';
import { CTRL_C, ENTER, everyStep, ESC, plain, tick, waitFor } from './helpers.js';

/** A runner that runs real listr2 tasks through the renderer options the wizard hands it. */
function runner(id: StepId, tasks: (signal: AbortSignal) => ListrTask[], confirm?: StepQuestion, preview?: string): WizardStepRunner & { runs: number } {
  const r = {
    id,
    ...(confirm ? { plan: async () => ({ step: id, confirm, ...(preview ? { preview } : {}) }) } : {}),
    runs: 0,
    async run(options: Parameters<WizardStepRunner['run']>[0], signal: AbortSignal) {
      r.runs += 1;
      await new Listr(tasks(signal), { ...options, exitOnError: true, registerSignalListeners: false }).run();
    },
  };
  return r;
}

const ok = (title = 'Start stack'): ListrTask[] => [{ title, task: () => undefined }];

function mount(
  runners: Partial<Record<StepId, WizardStepRunner>>,
  extra: Pick<WizardProps, 'subscribeStats' | 'statsIntervalMs' | 'evidence' | 'stillRunning'> & { size?: { columns: number; rows: number } } = {},
) {
  const abortController = new AbortController();
  const onExit = vi.fn<(outcome: WizardOutcome) => void>();
  const { size, ...rest } = extra;
  const app = render(<Wizard runners={everyStep(runners, (id) => runner(id, () => ok()))} abortController={abortController} onExit={onExit} {...rest} />);
  if (size) {
    // ink-testing-library's terminal is 100 columns with no height; resize it like a real one.
    Object.defineProperty(app.stdout, 'columns', { value: size.columns, configurable: true });
    Object.defineProperty(app.stdout, 'rows', { value: size.rows, configurable: true });
    app.stdout.emit('resize');
  }
  const frame = () => plain(app.lastFrame());
  const outcome = () => onExit.mock.calls[0]?.[0];
  return { ...app, abortController, onExit, frame, outcome };
}

const stepLine = (frame: string, title: string) => frame.split('\n').find((l) => l.includes(title) && /\d\. /.test(l)) ?? '';

describe('Wizard', () => {
  it('starts on the first step with the key hints', async () => {
    const w = mount({ setup: runner('setup', () => ok()) });
    await tick();
    const frame = w.frame();
    w.unmount();
    expect(frame).toContain('Step 1 of 5');
    expect(frame).toContain('Staging stack · press Enter to run it.');
    expect(frame).toContain('Enter run step · ↑↓ other step · s skip · q quit · Ctrl-C cancel');
  });

  it('runs the step on Enter, marks it done and moves to the next step', async () => {
    const setup = runner('setup', () => ok('Write .env.staging'));
    const w = mount({ setup, data: runner('data', () => ok()) });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Step 2 of 5'));
    const frame = w.frame();
    w.unmount();
    expect(setup.runs).toBe(1);
    expect(stepLine(frame, 'Staging stack')).toMatch(/✔ 1\. Staging stack\s+done/);
    expect(frame).toContain('Production data subset · press Enter to run it.');
    // The finished step's task tree stays visible.
    expect(frame).toContain('Tasks · Staging stack');
    expect(frame).toMatch(/✔ Write \.env\.staging/);
  });

  it('shows a failed step with its fix, and r retries it', async () => {
    let attempt = 0;
    const setup = runner('setup', () => [
      {
        title: 'Start stack',
        task: () => {
          attempt += 1;
          if (attempt === 1) throw new UserError('Port 5434 is already in use.', { tryThis: 'Set ports.postgres in rehearse.config.json.' });
        },
      },
    ]);
    const w = mount({ setup });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Staging stack failed: Port 5434 is already in use.'));
    const failed = w.frame();
    expect(failed).toContain('Try: Set ports.postgres in rehearse.config.json.');
    expect(failed).toContain('r retry · c continue · s skip · q quit · Ctrl-C cancel');
    expect(stepLine(failed, 'Staging stack')).toMatch(/failed/);

    w.stdin.write('r');
    await waitFor(() => expect(w.frame()).toContain('Step 2 of 5'));
    const frame = w.frame();
    w.unmount();
    expect(setup.runs).toBe(2);
    expect(stepLine(frame, 'Staging stack')).toMatch(/done/);
  });

  it('skips a failed step on s', async () => {
    const w = mount({ setup: runner('setup', () => [{ title: 'Start stack', task: () => Promise.reject(new Error('boom')) }]) });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('failed: boom'));
    w.stdin.write('s');
    await waitFor(() => expect(w.frame()).toContain('Step 2 of 5'));
    const frame = w.frame();
    w.unmount();
    expect(stepLine(frame, 'Staging stack')).toMatch(/↓ 1\. Staging stack\s+skipped/);
  });

  it('ends "failed" with the error when the user quits on a failed step', async () => {
    const error = new Error('boom');
    const w = mount({ setup: runner('setup', () => [{ title: 'Start stack', task: () => Promise.reject(error) }]) });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('failed: boom'));
    w.stdin.write('q');
    await waitFor(() => expect(w.onExit).toHaveBeenCalled());
    w.unmount();
    expect(w.outcome()).toMatchObject({ status: 'failed', error, states: { setup: 'failed' } });
  });

  it('ends "completed" once every step is done or skipped', async () => {
    const w = mount({ setup: runner('setup', () => ok()), data: runner('data', () => ok()) });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Step 2 of 5'));
    w.stdin.write('s');
    await waitFor(() => expect(w.frame()).toContain('Step 3 of 5'));
    for (const n of [4, 5]) {
      w.stdin.write(ENTER);
      await waitFor(() => expect(w.frame()).toContain(`Step ${n} of 5`));
    }
    w.stdin.write('s');
    await waitFor(() => expect(w.onExit).toHaveBeenCalledOnce());
    const frame = w.frame();
    w.unmount();
    expect(w.outcome()).toEqual({
      status: 'completed',
      states: { setup: 'done', data: 'skipped', migrate: 'done', validate: 'done', checklist: 'skipped' },
    });
    expect(frame).toContain('All steps finished.');
  });

  it('ends "quit" on q', async () => {
    const w = mount({ setup: runner('setup', () => ok()) });
    await tick();
    w.stdin.write('q');
    await waitFor(() => expect(w.onExit).toHaveBeenCalledOnce());
    w.unmount();
    expect(w.outcome()?.status).toBe('quit');
  });

  it('on Ctrl-C during a run aborts the controller and ends "cancelled" only after the step settled', async () => {
    let release!: () => void;
    const stepStopped = new Promise<void>((resolve) => (release = resolve));
    const setup = runner('setup', (signal) => [
      {
        title: 'docker compose up --wait',
        task: async () => {
          await new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
        },
        // Cleanup that outlives the abort, like a restore from backup.
        rollback: () => stepStopped,
      },
    ]);
    const w = mount({ setup });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Running Staging stack'));
    w.stdin.write(CTRL_C);
    await waitFor(() => expect(w.frame()).toContain('Cancelling'));
    expect(w.abortController.signal.aborted).toBe(true);
    await tick();
    expect(w.onExit).not.toHaveBeenCalled();

    release();
    await waitFor(() => expect(w.onExit).toHaveBeenCalledOnce());
    w.unmount();
    expect(w.outcome()).toMatchObject({ status: 'cancelled', states: { setup: 'cancelled' } });
  });

  it('on Ctrl-C while idle aborts the controller and ends "cancelled"', async () => {
    const w = mount({ setup: runner('setup', () => ok()) });
    await tick();
    w.stdin.write(CTRL_C);
    await waitFor(() => expect(w.onExit).toHaveBeenCalledOnce());
    w.unmount();
    expect(w.abortController.signal.aborted).toBe(true);
    expect(w.outcome()?.status).toBe('cancelled');
  });

  it('ends "cancelled" when the controller is aborted from outside (SIGINT handler)', async () => {
    const w = mount({ setup: runner('setup', () => ok()) });
    await tick();
    w.abortController.abort();
    await waitFor(() => expect(w.onExit).toHaveBeenCalledOnce());
    w.unmount();
    expect(w.outcome()?.status).toBe('cancelled');
  });

  it('asks a yes/no question first and skips the step on n', async () => {
    const setup = runner('setup', () => ok(), { kind: 'yes-no', message: 'Start the staging stack?' });
    const w = mount({ setup });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('? Start the staging stack? (Y/n)'));
    w.stdin.write('n');
    await waitFor(() => expect(w.frame()).toContain('Step 2 of 5'));
    const frame = w.frame();
    w.unmount();
    expect(setup.runs).toBe(0);
    expect(stepLine(frame, 'Staging stack')).toMatch(/skipped/);
  });

  it('runs a dangerous step only after its resource name was typed', async () => {
    const setup = runner('setup', () => ok(), {
      kind: 'dangerous',
      action: 'Replace the staging stack',
      rows: [['volumes', 'rehearse_pgdata']],
      resourceName: 'staging',
    });
    const w = mount({ setup });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Type staging to confirm'));
    // Wizard keys must not leak into the text field: s and q are letters of a name here.
    w.stdin.write('sq');
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('That does not match'));
    expect(setup.runs).toBe(0);
    expect(w.onExit).not.toHaveBeenCalled();
    for (let i = 0; i < 2; i++) {
      w.stdin.write('\u007F');
      await tick();
    }
    w.stdin.write('staging');
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Step 2 of 5'));
    w.unmount();
    expect(setup.runs).toBe(1);
  });

  it('goes back to the step without running it when a prompt is left with Esc', async () => {
    const setup = runner('setup', () => ok(), { kind: 'yes-no', message: 'Start the staging stack?' });
    const w = mount({ setup });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Start the staging stack?'));
    w.stdin.write(ESC);
    await waitFor(() => expect(w.frame()).toContain('press Enter to run it'));
    const frame = w.frame();
    w.unmount();
    expect(setup.runs).toBe(0);
    expect(w.onExit).not.toHaveBeenCalled();
    expect(frame).toContain('Step 1 of 5');
  });

  it('shows container stats from subscribeStats, at most once per interval', async () => {
    let push!: (rows: ContainerStat[]) => void;
    const row = (service: string): ContainerStat => ({
      name: service,
      service,
      state: 'running',
      health: 'healthy',
      cpuPercent: 1,
      memoryBytes: 1024 ** 2,
      memoryLimitBytes: 1024 ** 3,
      netRxBytes: 0,
      netTxBytes: 0,
    });
    const w = mount({}, { subscribeStats: (_signal, onUpdate) => void (push = onUpdate), statsIntervalMs: 300 });
    await tick();
    expect(w.frame()).toContain('no containers running');
    push([row('postgres-staging')]);
    await tick();
    expect(w.frame()).toContain('postgres-staging');
    push([row('postgres-staging'), row('redis-staging')]);
    await tick();
    expect(w.frame()).not.toContain('redis-staging');
    await waitFor(() => expect(w.frame()).toContain('redis-staging'), 1000);
    w.unmount();
  });

  it('does not redraw for stats changes too small to show', async () => {
    let push!: (rows: ContainerStat[]) => void;
    const base: ContainerStat = {
      name: 'db',
      service: 'postgres-staging',
      state: 'running',
      health: 'healthy',
      cpuPercent: 1,
      memoryBytes: 48.2 * 1024 ** 2,
      memoryLimitBytes: 1024 ** 3,
      netRxBytes: 5000,
      netTxBytes: 7000,
    };
    const w = mount({}, { subscribeStats: (_signal, onUpdate) => void (push = onUpdate), statsIntervalMs: 0 });
    await tick();
    push([base]);
    await waitFor(() => expect(w.frame()).toContain('postgres-staging'));
    const drawn = w.frames.length;
    push([{ ...base, memoryBytes: base.memoryBytes + 100, netRxBytes: base.netRxBytes + 3 }]);
    await tick();
    const afterTiny = w.frames.length;
    push([{ ...base, cpuPercent: 2 }]);
    await waitFor(() => expect(w.frame()).toContain('2.0%'));
    w.unmount();
    expect(afterTiny).toBe(drawn);
  });

  it('stops the stats feed when it unmounts', async () => {
    let feedSignal: AbortSignal | undefined;
    const w = mount({}, { subscribeStats: (signal) => void (feedSignal = signal) });
    await tick();
    expect(feedSignal?.aborted).toBe(false);
    w.unmount();
    expect(feedSignal?.aborted).toBe(true);
  });
});
