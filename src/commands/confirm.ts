// Confirmation before destructive work: --yes answers it, a TTY asks (y/n or type-the-name), and
// otherwise the command refuses before any side effect, naming the flag that answers it.
import { CancelledError, UserError } from '../errors.js';
import type { StepPlan } from '../../tasks/steps.js';
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

/**
 * A step's own question (tasks/steps.ts), the same one the wizard asks: refused before anything
 * runs when there is no terminal; otherwise the plan is built (read-only), its preview printed
 * on stderr, then the question asked. `--yes` skips the plan altogether.
 */
export async function confirmStep(action: string, flags: GlobalFlags, plan: () => Promise<StepPlan>): Promise<void> {
  if (flags.yes) return;
  if (!canPrompt()) {
    throw new UserError(`${action} needs confirmation, and there is no terminal to ask in. Nothing was changed.`, {
      tryThis: 'Pass --yes to confirm non-interactively.',
    });
  }
  const p = await plan();
  if (p.preview) process.stderr.write(`${p.preview}\n`);
  const q = p.confirm;
  if (q.kind === 'dangerous') await confirmDangerous({ action: q.action, rows: q.rows, resourceName: q.resourceName }, flags);
  else await confirmYesNo(q.message, flags);
}
