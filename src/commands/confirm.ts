// Confirmation before destructive work: --yes answers it, a TTY asks (y/n or type-the-name), and
// otherwise the command refuses before any side effect, naming the flag that answers it.
import { CancelledError, UserError } from '../errors.js';
import { canPrompt, type GlobalFlags } from './interaction.js';

export interface DangerousQuestion {
  /** What the command is about to do, e.g. "Remove the staging stack and its volumes". */
  action: string;
  /** What will be destroyed, shown as a small table. */
  rows: Array<[string, string]>;
  /** The operator types this to confirm. */
  resourceName: string;
}

export async function confirmDangerous(question: DangerousQuestion, flags: GlobalFlags): Promise<void> {
  if (flags.yes) return;
  if (!canPrompt()) {
    throw new UserError(`${question.action} needs confirmation, and there is no terminal to ask in. Nothing was changed.`, {
      tryThis: 'Pass --yes to confirm non-interactively.',
    });
  }
  const { renderDangerousConfirmationPrompt } = await import('../../screens/prompts.js');
  const ok = await renderDangerousConfirmationPrompt(question);
  if (!ok) throw new CancelledError('Nothing was changed.');
}

export async function confirmYesNo(message: string, flags: GlobalFlags, defaultValue = false): Promise<void> {
  if (flags.yes) return;
  if (!canPrompt()) {
    throw new UserError(`${message.replace(/\?$/, '')}: this needs confirmation, and there is no terminal to ask in. Nothing was changed.`, {
      tryThis: 'Pass --yes to confirm non-interactively.',
    });
  }
  const { renderConfirmationPrompt } = await import('../../screens/prompts.js');
  const ok = await renderConfirmationPrompt(message, defaultValue);
  if (!ok) throw new CancelledError('Nothing was changed.');
}
