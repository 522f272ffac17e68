// The wizard in small terminals, its questions, its resume and its stop messages (ink-testing-library).
import { render } from 'ink-testing-library';
import { Listr, type ListrTask } from 'listr2';
import { describe, expect, it, vi } from 'vitest';
import { Wizard, type WizardOutcome, type WizardProps, type WizardStepRunner } from '../../screens/Wizard.js';
import { listWindow, wrappedHeight } from '../../screens/fit.js';
import { CheckFailedError } from '../../src/errors.js';
import type { StepId } from '../../src/run/steps.js';
import type { StepPlan } from '../../tasks/steps.js';
import { CTRL_C, ENTER, everyStep, plain, tick, waitFor } from './helpers.js';

function runner(id: StepId, tasks: (signal: AbortSignal) => ListrTask[], plan?: StepPlan, stateAfterStop?: WizardStepRunner['stateAfterStop']): WizardStepRunner & { runs: number } {
  const r = {
    id,
    ...(plan ? { plan: async () => plan } : {}),
    ...(stateAfterStop ? { stateAfterStop } : {}),
    runs: 0,
    async run(options: Parameters<WizardStepRunner['run']>[0], signal: AbortSignal) {
      r.runs += 1;
      await new Listr(tasks(signal), { ...options, exitOnError: true, registerSignalListeners: false }).run();
    },
  };
  return r;
}

function mount(runners: Partial<Record<StepId, WizardStepRunner>>, extra: Pick<WizardProps, 'evidence' | 'stillRunning'> & { size?: { columns: number; rows: number } } = {}) {
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
  return { ...app, abortController, onExit, frame, outcome: () => onExit.mock.calls[0]?.[0] };
}

const ok = (title = 'Work'): ListrTask[] => [{ title, task: () => undefined }];
const lines = (frame: string) => frame.replace(/\n+$/, '').split('\n');

// A data preview as long as a real one on a wide schema: 40 tables.
const longPreview = ['Subset of postgresql://stories_app@127.0.0.1:5433/stories_production: 10 users', '', 'TABLE  ROWS  EST. SIZE', ...Array.from({ length: 40 }, (_, i) => `table_${i}  ${i * 7}  1.0 KiB`), 'total  999  40.0 KiB'].join('\n');
const dataPlan: StepPlan = {
  step: 'data',
  preview: longPreview,
  confirm: {
    kind: 'dangerous',
    action: 'Replace the staging database staging_db with this subset',
    rows: [
      ['staging now', '12 tables, 1,234 rows'],
      ['replaced by', '999 anonymized rows (10 users + 4 parents) from postgresql://stories_app@127.0.0.1:5433/stories_production'],
      ['backup first', 'staging-backups/staging-backup-<timestamp>.sql.gz'],
    ],
    resourceName: 'staging_db',
  },
};
const migratePlan: StepPlan = {
  step: 'migrate',
  confirm: {
    kind: 'dangerous',
    action: 'Rehearse learner-to-customer on the staging database staging_db: it changes data, rolls back and migrates again',
    rows: [
      ['rows', "7 users rows with role = 'LEARNER'"],
      ['backup first', 'staging-backups/staging-backup-<timestamp>.sql.gz'],
    ],
    resourceName: 'staging_db',
  },
};

async function typeName(w: ReturnType<typeof mount>, name: string) {
  w.stdin.write(name);
  await tick();
  w.stdin.write(ENTER);
}

describe('wizard layout helpers', () => {
  it('counts wrapped lines the way a word-wrapping terminal shows them', () => {
    expect(wrappedHeight('short', 80)).toBe(1);
    expect(wrappedHeight('aaaa bbbb cccc', 9)).toBe(2);
    expect(wrappedHeight('x'.repeat(25), 10)).toBe(3);
    expect(wrappedHeight('one\ntwo', 80)).toBe(2);
  });

  it('windows a long list around the focus, with its marks inside the budget', () => {
    expect(listWindow(5, 10, 2)).toEqual({ start: 0, end: 5, above: 0, below: 0 });
    const top = listWindow(30, 10, 0);
    expect(top.end - top.start + (top.above ? 1 : 0) + (top.below ? 1 : 0)).toBe(10);
    const middle = listWindow(30, 10, 15);
    expect(middle.start).toBeLessThanOrEqual(15);
    expect(middle.end).toBeGreaterThan(15);
    expect(middle.end - middle.start + 2).toBe(10);
    const bottom = listWindow(30, 10, 29);
    expect(bottom.end).toBe(30);
    expect(bottom.end - bottom.start + 1).toBe(10);
  });
});

describe('the wizard at 80x24', () => {
  it('keeps the data question, its figures and its keys on screen under a long preview', async () => {
    const w = mount({ setup: runner('setup', () => ok()), data: runner('data', () => ok(), dataPlan) }, { size: { columns: 80, rows: 24 }, evidence: { setup: { done: true, why: 'setup report 3 min ago' } } });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Type staging_db to confirm'));
    const frame = w.frame();
    w.unmount();
    expect(lines(frame).length).toBeLessThan(24);
    expect(frame).toContain('⚠ Replace the staging database staging_db with this subset');
    expect(frame).toContain('12 tables, 1,234 rows');
    expect(frame).toContain('999 anonymized rows');
    expect(frame).toContain('Esc back · Ctrl-C cancel');
    expect(frame).toContain('Step 2 of 5');
    expect(frame).toMatch(/… \d+ more line\(s\) of the plan/);
  });

  it('asks step 3 its own question after step 2 ran in the same session', async () => {
    const migrate = runner('migrate', () => ok(), migratePlan);
    const w = mount({ data: runner('data', () => ok(), dataPlan), migrate }, { size: { columns: 80, rows: 24 } });
    await tick();
    w.stdin.write('\u001B[B'); // ↓: from setup to data
    await waitFor(() => expect(w.frame()).toContain('Step 2 of 5'));
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Type staging_db to confirm'));
    await typeName(w, 'staging_db');
    await waitFor(() => expect(w.frame()).toContain('Step 3 of 5'));
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Type staging_db to confirm'));
    const frame = w.frame();
    expect(frame).toContain('Rehearse learner-to-customer on the staging database staging_db');
    expect(frame).toContain("7 users rows with role = 'LEARNER'");
    expect(frame).not.toContain('Replace the staging database');
    expect(frame).not.toContain('TABLE  ROWS');
    expect(lines(frame).length).toBeLessThan(24);
    await typeName(w, 'staging_db');
    await waitFor(() => expect(w.frame()).toContain('Step 4 of 5'));
    w.unmount();
    expect(migrate.runs).toBe(1);
  });

  it('shows a long task tree as a window around the running task', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const tasks: ListrTask[] = Array.from({ length: 40 }, (_, i) => ({ title: `check ${i}`, task: i === 25 ? () => hold : () => undefined }));
    const w = mount({ setup: runner('setup', () => tasks) }, { size: { columns: 80, rows: 24 } });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toMatch(/check 25/));
    const frame = w.frame();
    release();
    await waitFor(() => expect(w.frame()).toContain('Step 2 of 5'));
    w.unmount();
    expect(lines(frame).length).toBeLessThan(24);
    expect(frame).toMatch(/… \d+ above/);
    expect(frame).toMatch(/… \d+ more/);
    expect(frame).toContain('Ctrl-C cancel');
  });
});

describe('the wizard resumes and stops honestly', () => {
  it('opens on the first step without evidence and says why the others are done', async () => {
    const w = mount(
      { setup: runner('setup', () => ok()), data: runner('data', () => ok()), migrate: runner('migrate', () => ok()) },
      { evidence: { setup: { done: true, why: 'setup report 20 min ago' }, data: { done: true, why: 'data summary 12 min ago' }, migrate: { done: false, why: 'no migration report yet' } } },
    );
    await tick();
    const frame = w.frame();
    expect(frame).toContain('Step 3 of 5');
    expect(frame).toMatch(/✔ 2\. Production data subset\s+done · data summary 12 min ago/);
    // ↑ goes back to a done step, which can run again.
    w.stdin.write('\u001B[A');
    await waitFor(() => expect(w.frame()).toContain('Production data subset is done (data summary 12 min ago) · Enter runs it again'));
    w.unmount();
  });

  it('on Ctrl-C in a step prints once what it changed and what still runs, and marks the step cancelled', async () => {
    const setup = runner(
      'setup',
      (signal) => [{ title: 'long', task: () => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })) }],
      undefined,
      async (ran) => (ran ? 'Staging was replaced by the new subset.' : 'Nothing changed.'),
    );
    const w = mount({ setup }, { stillRunning: async () => 'Still running: the staging stack.' });
    await tick();
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('Running Staging stack'));
    w.stdin.write(CTRL_C);
    await waitFor(() => expect(w.onExit).toHaveBeenCalledOnce());
    const frame = w.frame();
    w.unmount();
    expect(frame).toMatch(/⊘ 1\. Staging stack\s+cancelled/);
    // Once as the ending (the task itself may say why it stopped, as "→ …").
    expect(frame.match(/^Cancelled\./gm)).toHaveLength(1);
    expect(frame).toContain('Cancelled. Staging was replaced by the new subset. Still running: the staging stack.');
    expect(w.outcome()).toMatchObject({ status: 'cancelled', states: { setup: 'cancelled' } });
  });

  it('shows a failed check with its failing items and what the step left', async () => {
    const failing = new CheckFailedError('2 required validation check(s) failed: app.health, db.queries.', { details: 'app.health: 502 → start the app\ndb.queries: 300 ms → add an index', tryThis: 'start the app' });
    const validate = runner('validate', () => [{ title: 'Required checks', task: () => Promise.reject(failing) }], undefined, async () => 'Validation only reads: nothing in staging was changed.');
    const w = mount({ validate }, { evidence: { setup: { done: true, why: 'x' } } });
    await tick();
    // It opens on step 2, the first one without evidence.
    w.stdin.write('\u001B[B\u001B[B');
    await waitFor(() => expect(w.frame()).toContain('Step 4 of 5'));
    w.stdin.write(ENTER);
    await waitFor(() => expect(w.frame()).toContain('nothing in staging was changed'));
    const frame = w.frame();
    w.unmount();
    expect(frame).toContain('✖ Validation failed: 2 required validation check(s) failed');
    expect(frame).toContain('app.health: 502 → start the app');
    expect(frame).toMatch(/✖ 4\. Validation\s+failed/);
    expect(frame).toMatch(/✖ Required checks/);
    expect(frame).toContain('r retry · c continue');
  });
});
