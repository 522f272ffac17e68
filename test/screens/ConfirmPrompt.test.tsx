import { render } from 'ink-testing-library';
import { describe, expect, it, vi } from 'vitest';
import { ConfirmPrompt } from '../../screens/ConfirmPrompt.js';
import { CTRL_C, ENTER, ESC, plain, tick } from './helpers.js';

function mount(defaultValue: boolean) {
  const onAnswer = vi.fn();
  const onCancel = vi.fn();
  const app = render(<ConfirmPrompt message="Start the staging stack?" defaultValue={defaultValue} onAnswer={onAnswer} onCancel={onCancel} />);
  return { ...app, onAnswer, onCancel };
}

describe('ConfirmPrompt', () => {
  it('shows the question with the default in capitals', async () => {
    const { lastFrame, unmount } = mount(true);
    await tick();
    const frame = plain(lastFrame());
    unmount();
    expect(frame).toContain('? Start the staging stack? (Y/n)');
  });

  it('answers yes on y', async () => {
    const { stdin, onAnswer, onCancel, lastFrame, unmount } = mount(false);
    await tick();
    stdin.write('y');
    await tick();
    const frame = plain(lastFrame());
    unmount();
    expect(onAnswer).toHaveBeenCalledExactlyOnceWith(true);
    expect(onCancel).not.toHaveBeenCalled();
    expect(frame).toContain('· Yes');
  });

  it('answers no on n', async () => {
    const { stdin, onAnswer, unmount } = mount(true);
    await tick();
    stdin.write('n');
    await tick();
    unmount();
    expect(onAnswer).toHaveBeenCalledExactlyOnceWith(false);
  });

  it('takes the default on Enter (default yes)', async () => {
    const { stdin, onAnswer, unmount } = mount(true);
    await tick();
    stdin.write(ENTER);
    await tick();
    unmount();
    expect(onAnswer).toHaveBeenCalledExactlyOnceWith(true);
  });

  it('takes the default on Enter (default no)', async () => {
    const { stdin, onAnswer, unmount } = mount(false);
    await tick();
    stdin.write(ENTER);
    await tick();
    unmount();
    expect(onAnswer).toHaveBeenCalledExactlyOnceWith(false);
  });

  it('cancels on Esc without answering', async () => {
    const { stdin, onAnswer, onCancel, unmount } = mount(true);
    await tick();
    stdin.write(ESC);
    await tick();
    unmount();
    expect(onCancel).toHaveBeenCalledOnce();
    expect(onAnswer).not.toHaveBeenCalled();
  });

  it('cancels on Ctrl-C without answering', async () => {
    const { stdin, onAnswer, onCancel, unmount } = mount(true);
    await tick();
    stdin.write(CTRL_C);
    await tick();
    unmount();
    expect(onCancel).toHaveBeenCalledOnce();
    expect(onAnswer).not.toHaveBeenCalled();
  });

  it('ignores other keys and answers only once', async () => {
    const { stdin, onAnswer, unmount } = mount(false);
    await tick();
    stdin.write('x');
    await tick();
    expect(onAnswer).not.toHaveBeenCalled();
    stdin.write('y');
    await tick();
    stdin.write('n');
    await tick();
    unmount();
    expect(onAnswer).toHaveBeenCalledExactlyOnceWith(true);
  });
});
