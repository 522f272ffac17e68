// The evidence validation leaves: the JSON report (staging-validation-report-<timestamp>.json via
// writeReport, which scrubs secrets) and, on request, JUnit XML for CI dashboards.
import type { Config } from '../config.js';
import { version } from '../version.js';
import { summarize, type ValidationRun } from './index.js';
import { CATEGORIES, CATEGORY_TITLES, type CheckResult } from './types.js';

export function validationReport(config: Config, run: ValidationRun) {
  const summary = summarize(run.results);
  return {
    kind: 'staging-validation-report',
    rehearseVersion: version,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt.toISOString(),
    durationMs: run.finishedAt.getTime() - run.startedAt.getTime(),
    project: config.project,
    quick: run.quick,
    categories: run.categories.map((category) => {
      const results = run.results.filter((r) => r.category === category);
      const s = summarize(results);
      return { category, title: CATEGORY_TITLES[category], ok: s.ok, counts: s.counts, ms: run.timingsMs[category] };
    }),
    thresholds: config.validation,
    summary: { total: summary.total, ...summary.counts, requiredFailed: summary.requiredFailed.map((r) => r.id) },
    checks: run.results,
    ok: summary.ok,
  };
}

// XML 1.0 forbids most control characters even when escaped.
const xmlText = (s: string) =>
  s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(r: CheckResult): string {
  const attrs = `classname="rehearse.validate.${r.category}" name="${xmlText(`${r.id}: ${r.title}`)}" time="${seconds(r.ms)}"`;
  const body = [`value: ${r.value}`, `threshold: ${r.threshold}`, ...(r.detail ? [`detail: ${r.detail}`] : []), `hint: ${r.hint}`].join('\n');
  if (r.status === 'fail') {
    const type = r.required ? 'required-check-failed' : 'advisory-check-failed';
    return `    <testcase ${attrs}>\n      <failure message="${xmlText(r.value)}" type="${type}">${xmlText(body)}</failure>\n    </testcase>`;
  }
  if (r.status === 'skip') return `    <testcase ${attrs}>\n      <skipped message="${xmlText(r.value)}"/>\n    </testcase>`;
  return `    <testcase ${attrs}>\n      <system-out>${xmlText(`${r.status}: ${body}`)}</system-out>\n    </testcase>`;
}

/** One testsuite per category, one testcase per check; a warning passes with its note in system-out. */
export function renderJunit(run: ValidationRun): string {
  const suites = CATEGORIES.filter((c) => run.categories.includes(c)).map((category) => {
    const results = run.results.filter((r) => r.category === category);
    const failures = results.filter((r) => r.status === 'fail').length;
    const skipped = results.filter((r) => r.status === 'skip').length;
    const time = seconds(run.timingsMs[category] ?? results.reduce((s, r) => s + r.ms, 0));
    return `  <testsuite name="${category}" tests="${results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}" timestamp="${run.startedAt.toISOString().slice(0, 19)}">\n${results.map(testcase).join('\n')}\n  </testsuite>`;
  });
  const failures = run.results.filter((r) => r.status === 'fail').length;
  const skipped = run.results.filter((r) => r.status === 'skip').length;
  const total = seconds(run.finishedAt.getTime() - run.startedAt.getTime());
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="rehearse validate" tests="${run.results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${total}">\n${suites.join('\n')}\n</testsuites>\n`;
}
