import { render } from 'ink-testing-library';
import { describe, expect, it, vi } from 'vitest';
import { DangerousConfirmPrompt } from '../../screens/DangerousConfirmPrompt.js';
import { BACKSPACE, CTRL_C, ENTER, ESC, plain, tick } from './helpers.js';

function mount() {
  const onAnswer = vi.fn();
  const onCancel = vi.fn();
  const app = render(
    <DangerousConfirmPrompt
      title="Replace the staging database"
      rows={[
        ['database', 'rehearse_staging'],
        ['volume', 'rehearse_pgdata'],
      ]}
      resourceName="rehearse_staging"
      onAnswer={onAnswer}
      onCancel={onCancel}
    />,
  );
  return { ...app, onAnswer, onCancel };
}

async function type(stdin: { write: (s: string) => void }, text: string) {
  for (const ch of text) {
    stdin.write(ch);
    await tick();
  }
}

describe('DangerousConfirmPrompt', () => {
  it('shows what will be destroyed and the name to type', async () => {
    const { lastFrame, unmount } = mount();
    await tick();
    const frame = plain(lastFrame());
    unmount();
    expect(frame).toContain('Replace the staging database');
    expect(frame).toMatch(/database\s+rehearse_staging/);
    expect(frame).toMatch(/volume\s+rehearse_pgdata/);
    expect(frame).toContain('Type rehearse_staging to confirm');
  });

  it('keeps waiting after a wrong name, then confirms the right one', async () => {
    const { stdin, lastFrame, onAnswer, unmount } = mount();
    await tick();
    await type(stdin, 'rehearse');
    stdin.write(ENTER);
    await tick();
    const afterWrong = plain(lastFrame());
    expect(afterWrong).toContain('✖ That does not match. Type rehearse_staging to confirm.');
    expect(onAnswer).not.toHaveBeenCalled();

    await type(stdin, '_staging');
    stdin.write(ENTER);
    await tick();
    const afterRight = plain(lastFrame());
    unmount();
    expect(onAnswer).toHaveBeenCalledExactlyOnceWith(true);
    expect(afterRight).toContain('confirmed');
  });

  it('treats a pasted name like typed text', async () => {
    const { stdin, onAnswer, unmount } = mount();
    await tick();
    stdin.write('rehearse_staging');
    await tick();
    stdin.write(ENTER);
    await tick();
    unmount();
    expect(onAnswer).toHaveBeenCalledExactlyOnceWith(true);
  });

  it('lets backspace fix a typo', async () => {
    const { stdin, onAnswer, unmount } = mount();
    await tick();
    await type(stdin, 'rehearse_stagingg');
    stdin.write(BACKSPACE);
    await tick();
    stdin.write(ENTER);
    await tick();
    unmount();
    expect(onAnswer).toHaveBeenCalledExactlyOnceWith(true);
  });

  it('does not accept y as an answer', async () => {
    const { stdin, onAnswer, unmount } = mount();
    await tick();
    stdin.write('y');
    await tick();
    stdin.write(ENTER);
    await tick();
    unmount();
    expect(onAnswer).not.toHaveBeenCalled();
  });

  it('cancels on Esc', async () => {
    const { stdin, onAnswer, onCancel, unmount } = mount();
    await tick();
    await type(stdin, 'rehearse_staging');
    stdin.write(ESC);
    await tick();
    unmount();
    expect(onCancel).toHaveBeenCalledOnce();
    expect(onAnswer).not.toHaveBeenCalled();
  });

  it('cancels on Ctrl-C', async () => {
    const { stdin, onAnswer, onCancel, unmount } = mount();
    await tick();
    stdin.write(CTRL_C);
    await tick();
    unmount();
    expect(onCancel).toHaveBeenCalledOnce();
    expect(onAnswer).not.toHaveBeenCalled();
  });
});
