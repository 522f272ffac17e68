// `rehearse validate [--quick] [--category …] [--junit FILE]`: run the checks, print the results
// (stdout), leave the report, and exit 1 when a required check failed.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { engineReader, pingDocker } from '../docker.js';
import { readEnvFile, redact } from '../env-file.js';
import { CheckFailedError, ExitCode, UserError } from '../errors.js';
import { workPaths } from '../paths.js';
import { parseCategories, summarize } from '../validate/index.js';
import { CATEGORY_TITLES, type CheckResult } from '../validate/types.js';
import { newValidateContext, validateTasks, validationRunOf, type ValidateContext } from '../../tasks/validate-tasks.js';
import { runTasks, type OutputMode } from '../../tasks/run-tasks.js';
import { writeResult } from './interaction.js';

export interface ValidateOptions {
  quick: boolean;
  /** Raw --category values (repeatable, comma-separated). */
  categories: string[];
  /** --junit FILE, relative to the current directory. */
  junit?: string;
  json: boolean;
  mode: OutputMode;
  signal: AbortSignal;
}

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

function failureError(failed: CheckResult[]): CheckFailedError {
  return new CheckFailedError(`${failed.length} required validation check(s) failed: ${failed.map((r) => r.id).join(', ')}.`, {
    details: failed.map((r) => `${r.id}: ${r.value} → ${r.hint}`).join('\n'),
    tryThis: `${failed[0]!.hint}; then \`rehearse validate\` again.`,
  });
}

export async function runValidate(config: Config, opts: ValidateOptions): Promise<void> {
  const categories = parseCategories(opts.categories);
  if (!existsSync(workPaths(config).composeFile)) {
    throw new UserError(`There is no staging stack in ${config.workDir} (no docker-compose.staging.yml).`, { tryThis: 'Run `rehearse setup` first, or run validate from the folder where you ran it (or pass --config).' });
  }
  const docker = engineReader();
  await pingDocker(docker, opts.signal);
  const junitFile = opts.junit ? path.resolve(opts.junit) : undefined;
  const ctx = newValidateContext(config, docker, opts.signal, { quick: opts.quick, ...(categories ? { categories } : {}), ...(junitFile ? { junitFile } : {}) });
  try {
    await runTasks(validateTasks(ctx.selection), ctx, opts.mode);
  } finally {
    await ctx.probes.close();
  }
  const env = readEnvFile(workPaths(config).envFile);
  const run = validationRunOf(ctx);
  const summary = summarize(run.results);
  if (opts.json) {
    const result = { ok: summary.ok, report: ctx.reportFile, junit: ctx.junitFile, quick: run.quick, summary: { total: summary.total, ...summary.counts, requiredFailed: summary.requiredFailed.map((r) => r.id) }, timingsMs: run.timingsMs, checks: run.results };
    writeResult(result, (text) => redact(text, env));
    if (!summary.ok) process.exitCode = ExitCode.checkFailed;
    return;
  }
  process.stdout.write(redact(formatResults(ctx), env));
  if (!summary.ok) throw failureError(summary.requiredFailed);
}
