import { describe, expect, it } from 'vitest';
import { renderConfirmationPrompt, renderDangerousConfirmationPrompt } from '../../screens/prompts.js';
import { asStdin, asStdout, ENTER, ESC, FakeStdin, FakeStdout, tick } from './helpers.js';

function streams() {
  const stdin = new FakeStdin();
  const stdout = new FakeStdout();
  return { stdin, stdout, options: { stdin: asStdin(stdin), stdout: asStdout(stdout) } };
}

describe('renderConfirmationPrompt', () => {
  it('resolves true on y', async () => {
    const s = streams();
    const answer = renderConfirmationPrompt('Remove the staging stack?', false, s.options);
    await tick();
    s.stdin.write('y');
    await expect(answer).resolves.toBe(true);
    expect(s.stdout.text()).toContain('Remove the staging stack?');
  });

  it('resolves false on Esc', async () => {
    const s = streams();
    const answer = renderConfirmationPrompt('Remove the staging stack?', true, s.options);
    await tick();
    s.stdin.write(ESC);
    await expect(answer).resolves.toBe(false);
  });
});

describe('renderDangerousConfirmationPrompt', () => {
  it('resolves true once the resource name was typed', async () => {
    const s = streams();
    const answer = renderDangerousConfirmationPrompt({ action: 'Remove volumes', rows: [['volume', 'pgdata']], resourceName: 'pgdata' }, s.options);
    await tick();
    s.stdin.write('pgdata');
    await tick();
    s.stdin.write(ENTER);
    await expect(answer).resolves.toBe(true);
  });

  it('resolves false on Esc', async () => {
    const s = streams();
    const answer = renderDangerousConfirmationPrompt({ action: 'Remove volumes', rows: [['volume', 'pgdata']], resourceName: 'pgdata' }, s.options);
    await tick();
    s.stdin.write(ESC);
    await expect(answer).resolves.toBe(false);
  });
});
