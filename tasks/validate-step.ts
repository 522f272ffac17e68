// The validate step's contract: no question (it only reads), its tree (tasks/validate-tasks.ts),
// and its result: a failed required check fails the run, in the wizard's tree too.
import type { ListrTask } from 'listr2';
import { readEnvFile, redact } from '../src/stack/env-file.js';
import { CheckFailedError } from '../src/errors.js';
import { workPaths } from '../src/paths.js';
import { summarize } from '../src/validate/index.js';
import { CATEGORY_TITLES, type CheckResult } from '../src/validate/types.js';
import type { Step } from './steps.js';
import { validateTasks, validationRunOf, type ValidateContext } from './validate-tasks.js';

/** The one failure of a validation with failed required checks; `again` says how to run it again. */
export function requiredChecksFailed(failed: CheckResult[], again: string): CheckFailedError {
  return new CheckFailedError(`${failed.length} required validation check(s) failed: ${failed.map((r) => r.id).join(', ')}.`, {
    details: failed.map((r) => `${r.id}: ${r.value} → ${r.hint}`).join('\n'),
    tryThis: `${failed[0]!.hint}; then ${again}.`,
  });
}

/** The wizard's last task: the step shows ✖ with the failing checks (a command prints them all first, then fails). */
const requiredTask: ListrTask<ValidateContext> = {
  title: 'Required checks',
  task: (ctx, task) => {
    const s = summarize(ctx.results);
    if (!s.ok) throw requiredChecksFailed(s.requiredFailed, 'run the step again (r)');
    task.title = `Required checks: all ${ctx.results.filter((r) => r.required).length} pass`;
  },
};

export const validateStep: Step<ValidateContext> = {
  name: 'validate',
  tasks: (ctx) => [...validateTasks(ctx.selection), ...(ctx.requiredTask ? [requiredTask] : [])],
  close: (ctx) => ctx.probes.close(),
  result(ctx) {
    const env = readEnvFile(workPaths(ctx.config).envFile);
    const run = validationRunOf(ctx);
    const summary = summarize(run.results);
    return {
      ok: summary.ok,
      fields: { report: ctx.reportFile, junit: ctx.junitFile, quick: run.quick, summary: { total: summary.total, ...summary.counts, requiredFailed: summary.requiredFailed.map((r) => r.id) }, timingsMs: run.timingsMs, checks: run.results },
      text: formatResults(ctx),
      ...(summary.ok ? {} : { failure: requiredChecksFailed(summary.requiredFailed, '`rehearse validate` again') }),
      redact: (text) => redact(text, env),
    };
  },
  stateAfterStop: async () => 'Validation only reads: nothing in staging was changed.',
};

const SYMBOL = { pass: '✔', fail: '✖', warn: '⚠', skip: '↓' } as const;

export function formatResults(ctx: ValidateContext): string {
  const run = validationRunOf(ctx);
  const lines: string[] = [];
  const width = Math.max(...run.results.map((r) => r.title.length));
  for (const category of run.categories) {
    const results = run.results.filter((r) => r.category === category);
    lines.push(`${CATEGORY_TITLES[category]} (${results.length} check${results.length === 1 ? '' : 's'}, ${run.timingsMs[category] ?? '?'} ms)`);
    for (const r of results) {
      lines.push(`  ${SYMBOL[r.status]} ${r.title.padEnd(width)}  ${r.value}`);
      if (r.status === 'pass') continue;
      if (r.detail) lines.push(`      ${r.detail}`);
      if (r.status === 'fail') lines.push(`      threshold: ${r.threshold}${r.required ? '' : ' (advisory)'}`);
      lines.push(`      → ${r.hint}`);
    }
    lines.push('');
  }
  const s = summarize(run.results);
  const seconds = ((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1);
  lines.push(`${s.counts.pass} pass, ${s.counts.fail} fail, ${s.counts.warn} warn, ${s.counts.skip} skip in ${seconds} s${run.quick ? ' (--quick)' : ''}: ${s.ok ? 'staging is valid' : `${s.requiredFailed.length} required check(s) failed`}`);
  if (ctx.reportFile) lines.push(`Report: ${ctx.reportFile}`);
  if (ctx.junitFile) lines.push(`JUnit: ${ctx.junitFile}`);
  return lines.join('\n') + '\n';
}
