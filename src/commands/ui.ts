// The one module the commands talk to the operator through: whether a prompt is possible (checked
// inside every prompt, the way Shopify's cli-kit does), the prompts, the renderer a step's task tree
// is drawn with, and the result a command ends on. Its settings are read once from the global flags:
// `--json` travels as `ui.json` and nothing else. Light on purpose: cli.ts loads it on every start,
// so listr2, Ink and the steps are imported only when used.
import type { ListrTask } from 'listr2';
import { CancelledError, ExitCode, UserError } from '../errors.js';
import type { StepId } from '../run/steps.js';
import type { Step, StepContext, StepGuard, StepQuestion, StepResult } from '../../tasks/steps.js';

export interface Ui {
  /** --json: one JSON object per event on stdout, then one result line; never a prompt. */
  readonly json: boolean;
  /** --yes: every confirmation is answered yes. */
  readonly yes: boolean;
}

export function uiOf(globals: { yes?: boolean | undefined; json?: boolean | undefined }): Ui {
  return { json: !!globals.json, yes: !!globals.yes };
}

export function isCI(env = process.env): boolean {
  return !!env.CI && env.CI !== '0' && env.CI !== 'false';
}

/** Someone at a terminal: stdin and stdout are terminals, and this is not CI. */
export function interactive(stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout, env = process.env): boolean {
  return !!stdin.isTTY && !!stdout.isTTY && !isCI(env);
}

/** Whether this run can ask: someone at a terminal, and not --json (machine output has nobody to answer). */
export function canPrompt(ui: Ui): boolean {
  return !ui.json && interactive();
}

/** Refused before any side effect, naming the flag that answers the question. */
function cannotAsk(ui: Ui, q: StepGuard | StepQuestion): UserError {
  const why = ui.json ? 'and --json output does not ask' : 'and there is no terminal to ask in';
  const what = q.kind === 'dangerous' ? q.action : q.message.replace(/\?$/, '');
  return new UserError(`${what}: this needs confirmation, ${why}. Nothing was changed.`, { tryThis: 'Pass --yes to confirm non-interactively.' });
}

/** Asks `q` (y/n, or type-the-name with what it touches) unless --yes answers it; a no cancels quietly. */
export async function confirm(ui: Ui, q: StepQuestion): Promise<void> {
  if (ui.yes) return;
  if (!canPrompt(ui)) throw cannotAsk(ui, q);
  const prompts = await import('../../screens/prompts.js');
  const ok = q.kind === 'dangerous' ? await prompts.renderDangerousConfirmationPrompt(q) : await prompts.renderConfirmationPrompt(q.message, false);
  if (!ok) throw new CancelledError('Nothing was changed.');
}

/**
 * A step's own question, the one the wizard asks: refused before the plan when nobody can answer;
 * otherwise planned (read-only), its preview printed on stderr, then asked. `--yes` skips the plan:
 * the run reads what it needs itself.
 */
async function confirmStep<Ctx extends StepContext>(ui: Ui, step: Step<Ctx>, ctx: Ctx): Promise<void> {
  const guard = step.guard?.(ctx);
  if (!guard || ui.yes) return;
  if (!canPrompt(ui)) throw cannotAsk(ui, guard);
  const plan = await step.plan!(ctx);
  if (plan.preview) process.stderr.write(`${plan.preview}\n`);
  await confirm(ui, plan.confirm);
}

export type OutputMode = 'fancy' | 'plain' | 'json';

/** listr2's default renderer on a terminal; its simple one (plain lines on stderr) without one, in CI or with --yes; JSON lines with --json. */
export function outputMode(ui: Ui, env = process.env): OutputMode {
  if (ui.json) return 'json';
  if (ui.yes || !process.stderr.isTTY || isCI(env)) return 'plain';
  return 'fancy';
}

/** Runs a task tree with the renderer this run uses. (The wizard draws through its own, screens/task-store.ts.) */
export async function runTasks<Ctx extends object>(ui: Ui, tasks: ListrTask<Ctx>[], ctx: Ctx): Promise<Ctx> {
  const { Listr, ListrLogger, ListrLogLevels } = await import('listr2');
  const common = { ctx, exitOnError: true, registerSignalListeners: false, collectErrors: false as const };
  const stderrLogger = () => new ListrLogger({ useIcons: true, toStderr: Object.values(ListrLogLevels) as string[] });
  const mode = outputMode(ui);
  if (mode === 'json') {
    const { JsonLinesRenderer } = await import('../../screens/json-lines.js');
    return new Listr<Ctx, any, any>(tasks, { ...common, renderer: JsonLinesRenderer }).run();
  }
  if (mode === 'plain') return new Listr<Ctx, any, any>(tasks, { ...common, renderer: 'simple', rendererOptions: { logger: stderrLogger() } }).run();
  return new Listr<Ctx, any, any>(tasks, {
    ...common,
    renderer: 'default',
    fallbackRenderer: 'simple',
    rendererOptions: { collapseSubtasks: false, showErrorMessage: true, logger: stderrLogger() },
    fallbackRendererOptions: { logger: stderrLogger() },
  }).run();
}

/**
 * Runs one step as a command: its question (tasks/), its tree, then closes what it opened. With
 * `marker`, a run cut short leaves the resume marker the wizard opens on (steps that change staging data).
 */
export async function runStep<Ctx extends StepContext>(ui: Ui, step: Step<Ctx>, ctx: Ctx, opts: { marker?: StepId | undefined } = {}): Promise<Ctx> {
  try {
    await confirmStep(ui, step, ctx);
    const run = () => runTasks(ui, step.tasks(ctx), ctx);
    if (opts.marker) {
      const { withStepMarker } = await import('../../tasks/steps.js');
      await withStepMarker(ctx.config, opts.marker, run);
    } else await run();
  } finally {
    await step.close(ctx);
  }
  return ctx;
}

/** The `--json` result: one line on stdout, after the event lines (`redact` masks secrets in it). */
export function writeResult(result: { ok: boolean } & Record<string, unknown>, redact: (text: string) => string = (text) => text): void {
  process.stdout.write(redact(JSON.stringify({ type: 'result', ...result })) + '\n');
}

/** How every command ends: the result line (--json) or the text on stdout. A result that is not ok exits 1, after the text with its reason. */
export function finish(ui: Ui, result: StepResult): void {
  const redact = result.redact ?? ((text: string) => text);
  if (ui.json) {
    writeResult({ ok: result.ok, ...result.fields }, redact);
    if (!result.ok) process.exitCode = ExitCode.checkFailed;
    return;
  }
  process.stdout.write(redact(result.text));
  if (!result.ok && result.failure) throw result.failure;
}
