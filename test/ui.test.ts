// The one UI module: whether a prompt is possible is decided inside the prompt functions (--yes
// answers, --json and a missing terminal refuse before anything is read), and every command ends
// on the same result line.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { confirm, finish, runStep, uiOf } from '../src/commands/ui.js';
import { UserError } from '../src/errors.js';
import type { Step, StepContext } from '../tasks/steps.js';

const dangerous = { kind: 'dangerous' as const, action: 'Replace the staging database staging_db with this subset', rows: [['staging now', '3 tables, 12 rows']] as Array<[string, string]>, resourceName: 'staging_db' };

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  process.exitCode = undefined;
});

describe('prompts', () => {
  it('--yes answers without asking', async () => {
    await expect(confirm(uiOf({ yes: true }), dangerous)).resolves.toBeUndefined();
  });

  it('--json refuses, naming the question and the flag that answers it', async () => {
    const error = await confirm(uiOf({ json: true }), dangerous).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe('Replace the staging database staging_db with this subset: this needs confirmation, and --json output does not ask. Nothing was changed.');
    expect((error as UserError).tryThis).toBe('Pass --yes to confirm non-interactively.');
  });

  it('without a terminal (here: CI) refuses the same way', async () => {
    vi.stubEnv('CI', 'true');
    const error = await confirm(uiOf({}), { kind: 'yes-no', message: 'Remove the staging stack?' }).catch((e: unknown) => e);
    expect((error as UserError).message).toBe('Remove the staging stack: this needs confirmation, and there is no terminal to ask in. Nothing was changed.');
  });
});

describe('runStep', () => {
  const fakeStep = (calls: string[]): Step<StepContext> => ({
    name: 'data',
    guard: () => ({ kind: 'dangerous', action: dangerous.action, resourceName: 'staging_db' }),
    plan: async () => {
      calls.push('plan');
      return { step: 'data', confirm: dangerous };
    },
    tasks: () => [{ title: 'work', task: () => void calls.push('task') }],
    close: async () => void calls.push('close'),
    result: () => ({ ok: true, fields: {}, text: '' }),
  });
  const ctx = (): StepContext => ({ config: {} as StepContext['config'], signal: new AbortController().signal });

  it('refuses before the plan reads anything when nobody can answer, and still closes', async () => {
    const calls: string[] = [];
    await expect(runStep(uiOf({ json: true }), fakeStep(calls), ctx())).rejects.toThrow(/needs confirmation/);
    expect(calls).toEqual(['close']);
  });

  it('with --yes skips the plan and runs the tree', async () => {
    const calls: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await runStep(uiOf({ yes: true }), fakeStep(calls), ctx());
    expect(calls).toEqual(['task', 'close']);
  });
});

describe('finish', () => {
  it('--json: one result line; a result that is not ok exits 1 without throwing', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    finish(uiOf({ json: true }), { ok: false, fields: { report: 'r.json', secret: 'hunter2' }, text: 'ignored', failure: new Error('x'), redact: (t) => t.replace('hunter2', '********') });
    expect(out).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(out.mock.calls[0]![0]))).toEqual({ type: 'result', ok: false, report: 'r.json', secret: '********' });
    expect(process.exitCode).toBe(1);
  });

  it('text: printed, then the failure thrown', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(() => finish(uiOf({}), { ok: false, fields: {}, text: 'results\n', failure: new Error('2 required checks failed') })).toThrow('2 required checks failed');
    expect(out).toHaveBeenCalledWith('results\n');
  });
});
