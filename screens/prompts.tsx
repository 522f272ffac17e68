// One-off prompts outside the wizard (a command asking before it destroys something).
// They draw on stderr so a command's stdout stays clean for results; they are reached only
// through src/commands/ui.ts, whose prompt functions check first whether anyone can answer.
import { render } from 'ink';
import type { ReactElement } from 'react';
import { ConfirmPrompt } from './ConfirmPrompt.js';
import { DangerousConfirmPrompt } from './DangerousConfirmPrompt.js';

export interface PromptStreams {
  stdin?: NodeJS.ReadStream;
  /** Where the prompt is drawn; default process.stderr. */
  stdout?: NodeJS.WriteStream;
}

/** y/n question; resolves false on "n" and on Esc/Ctrl-C (a cancel is a no, said quietly). */
export function renderConfirmationPrompt(message: string, defaultValue = false, streams: PromptStreams = {}): Promise<boolean> {
  return ask((answer) => <ConfirmPrompt message={message} defaultValue={defaultValue} onAnswer={answer} onCancel={() => answer(false)} />, streams);
}

/** Shows what will be destroyed and resolves true only once `resourceName` was typed; Esc/Ctrl-C resolve false. */
export function renderDangerousConfirmationPrompt(
  question: { action: string; rows: Array<[string, string]>; resourceName: string },
  streams: PromptStreams = {},
): Promise<boolean> {
  return ask(
    (answer) => (
      <DangerousConfirmPrompt title={question.action} rows={question.rows} resourceName={question.resourceName} onAnswer={answer} onCancel={() => answer(false)} />
    ),
    streams,
  );
}

async function ask(prompt: (answer: (value: boolean) => void) => ReactElement, streams: PromptStreams): Promise<boolean> {
  let result = false;
  const instance = render(
    prompt((value) => {
      result = value;
      // After this key's render, so the answer stays on screen once Ink lets go of it.
      setImmediate(() => instance.unmount());
    }),
    { stdin: streams.stdin ?? process.stdin, stdout: streams.stdout ?? process.stderr, exitOnCtrlC: false, patchConsole: false },
  );
  await instance.waitUntilExit();
  return result;
}
