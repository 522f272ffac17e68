// The validate step as a listr2 task tree: one parent task per category, one subtask per check
// (concurrent where safe), then the report. Thin: each subtask runs one core check and records it.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ListrTask } from 'listr2';
import type { Config } from '../src/config.js';
import type { EngineReader } from '../src/stack/docker.js';
import { readEnvFile, redact } from '../src/stack/env-file.js';
import { CancelledError } from '../src/errors.js';
import { writeReport } from '../src/evidence/reports.js';
import { CheckSchedule, orderResults, runScheduled, selectChecks, selectedCategories, StackProbes, summarize, type Selection, type ValidationRun } from '../src/validate/index.js';
import { renderJunit, validationReport } from '../src/validate/report.js';
import { CATEGORY_TITLES, type Category, type CheckResult } from '../src/validate/types.js';
import { type CheckStatus } from '../src/evidence/check.js';

export interface ValidateContext {
  config: Config;
  docker: EngineReader;
  signal: AbortSignal;
  selection: Selection;
  probes: StackProbes;
  startedAt: Date;
  finishedAt?: Date;
  results: CheckResult[];
  timingsMs: Partial<Record<Category, number>>;
  /** Where to write JUnit XML (absolute), when asked for. */
  junitFile?: string;
  reportFile?: string;
  /** The wizard's run: a last task fails the tree when a required check failed. */
  requiredTask?: boolean;
}

export function newValidateContext(config: Config, docker: EngineReader, signal: AbortSignal, opts: Selection & { junitFile?: string; now?: Date; requiredTask?: boolean } = {}): ValidateContext {
  const selection: Selection = { quick: !!opts.quick, ...(opts.categories ? { categories: opts.categories } : {}) };
  return {
    config,
    docker,
    signal,
    selection,
    probes: new StackProbes({ config, docker, signal, ...(opts.now ? { now: opts.now } : {}) }),
    startedAt: new Date(),
    results: [],
    timingsMs: {},
    ...(opts.junitFile ? { junitFile: opts.junitFile } : {}),
    ...(opts.requiredTask ? { requiredTask: true } : {}),
  };
}

/** The run as the core's report functions take it. */
export function validationRunOf(ctx: ValidateContext): ValidationRun {
  const categories = selectedCategories(selectChecks(ctx.selection));
  return { startedAt: ctx.startedAt, finishedAt: ctx.finishedAt ?? new Date(), quick: !!ctx.selection.quick, categories, results: orderResults(ctx.results), timingsMs: ctx.timingsMs };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const countsText = (counts: Record<CheckStatus, number>) =>
  (['pass', 'fail', 'warn', 'skip'] as const)
    .filter((s) => counts[s])
    .map((s) => `${counts[s]} ${s}`)
    .join(', ');

/**
 * One parent task per category under one concurrent group (the categories' probes are independent and
 * bounded; a stack with a dead service then costs one timeout, not one per category), then the report.
 */
export function validateTasks(selection: Selection = {}): ListrTask<ValidateContext>[] {
  const checks = selectChecks(selection);
  const schedule = new CheckSchedule(checks);
  const categories = selectedCategories(checks);
  const categoryTasks = categories.map(
    (category): ListrTask<ValidateContext> => ({
      title: `${CATEGORY_TITLES[category]} (${plural(checks.filter((c) => c.category === category).length, 'check')})`,
      task: (_ctx, parent) => {
        const defs = checks.filter((c) => c.category === category);
        const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0 };
        let done = 0;
        return parent.newListr<ValidateContext>(
          defs.map((def) => ({
            title: def.title,
            task: async (ctx, sub) => {
              const r = await runScheduled(def, ctx.probes, schedule);
              ctx.results.push(r);
              counts[r.status]++;
              if (++done === defs.length) ctx.timingsMs[category] = schedule.categoryMs(category);
              parent.title = `${CATEGORY_TITLES[category]}: ${countsText(counts)}${done === defs.length ? ` (${ctx.timingsMs[category]} ms)` : ''}`;
              if (r.status === 'skip') sub.skip(`${def.title}: ${r.value}`);
              else if (r.status === 'fail') throw new Error(`${def.title}: ${r.value}${r.required ? '' : ' (advisory)'} → ${r.hint}`);
              else sub.title = `${r.status === 'warn' ? '⚠ ' : ''}${def.title}: ${r.value}`;
            },
          })),
          { concurrent: true, exitOnError: false },
        );
      },
    }),
  );
  return [
    {
      title: `Validate ${plural(checks.length, 'check')} in ${categories.length} categor${categories.length === 1 ? 'y' : 'ies'}${selection.quick ? ' (--quick)' : ''}`,
      task: (_ctx, task) => task.newListr<ValidateContext>(categoryTasks, { concurrent: true, exitOnError: false }),
    },
    {
      title: 'Write the validation report',
      task: async (ctx, task) => {
        // A cancelled run leaves no report: half the checks would read as evidence.
        if (ctx.signal.aborted) throw new CancelledError();
        ctx.finishedAt = new Date();
        await ctx.probes.close();
        const run = validationRunOf(ctx);
        ctx.reportFile = writeReport(ctx.config, 'staging-validation-report', validationReport(ctx.config, run));
        if (ctx.junitFile) {
          mkdirSync(path.dirname(ctx.junitFile), { recursive: true });
          writeFileSync(ctx.junitFile, redact(renderJunit(run), readEnvFile(ctx.probes.paths.envFile)));
        }
        const s = summarize(run.results);
        task.title = `Report: ${ctx.reportFile}${ctx.junitFile ? ` (JUnit: ${ctx.junitFile})` : ''}; ${countsText(s.counts)}`;
      },
    },
  ];
}
