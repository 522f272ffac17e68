// The week-2 go/no-go evidence: one document model built from the checklist and the newest reports,
// rendered as Markdown and as a self-contained HTML page (banner, status badges, inline SVG charts).
// Nothing here is recomputed from memory: every figure comes from a report file it names.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Checklist, ItemStatus } from './checklist.js';
import { statusOf, type CheckStatus, type PassFailCheck } from './check.js';
import type { Config } from '../config.js';
import { groupedBarChart, horizontalBarChart, stepLineChart } from './svg-charts.js';
import { describeUrl } from '../db/production.js';
import { readEnvFile, redact } from '../stack/env-file.js';
import { fmtBytes, fmtMs } from '../migration/projection.js';
import { workPaths } from '../paths.js';
import { newestReport, timestampForFile } from './reports.js';

type Json = Record<string, any>;

/** A table cell: text, or a status rendered as a badge (HTML) or a word (Markdown). */
type Cell = string | number | { status: Status };
type Status = ItemStatus | CheckStatus;

type Block =
  | { kind: 'h2'; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'table'; header: string[]; rows: Cell[][] }
  | { kind: 'chart'; svg: string; caption: string }
  | { kind: 'code'; lines: string[] };

export interface ReadinessDocument {
  ready: boolean;
  title: string;
  summary: string;
  blocks: Block[];
}

const WORD: Record<Status, string> = { met: 'met', 'not met': 'NOT MET', unknown: 'unknown', 'n/a': 'n/a', pass: 'pass', fail: 'FAIL', warn: 'warn', skip: 'skipped' };
const n = (x: unknown) => (typeof x === 'number' ? x.toLocaleString('en-US') : String(x ?? '?'));
const ms = (x: unknown) => (typeof x === 'number' ? (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`) : '');

export function buildReadinessDocument(config: Config, checklist: Checklist): ReadinessDocument {
  const data = newestReport(config, 'test-data-summary');
  const migration = newestReport(config, 'migration-test-report');
  const validation = newestReport(config, 'staging-validation-report');
  const d = data?.data as Json | undefined;
  const m = migration?.data as Json | undefined;
  const v = validation?.data as Json | undefined;
  const met = checklist.items.filter((i) => i.status === 'met').length;
  const blocks: Block[] = [];
  const add = (...b: Block[]) => blocks.push(...b);

  add({
    kind: 'p',
    text:
      'Week 1 rehearses the role migration (every `LEARNER` becomes a `CUSTOMER`) on an isolated, anonymized staging copy; week 2 is the production deployment. ' +
      'This report is the go/no-go evidence for week 2: GO only when every required success criterion is met by evidence from the reports named below.',
  });
  add({ kind: 'p', text: `Project \`${config.project}\`, staging database \`${config.database.name}\`, generated ${checklist.generatedAt} by \`rehearse report\`.` });

  add({ kind: 'h2', text: 'Checklist' });
  add({ kind: 'table', header: ['Group', 'Criterion', 'Status', 'Evidence', 'To make it met'], rows: checklist.items.map((i) => [i.group, i.criterion, { status: i.status }, i.evidence, i.status === 'met' || i.status === 'n/a' ? '' : `\`${i.fix}\``]) });

  add({ kind: 'h2', text: 'Data' });
  if (d) {
    add({ kind: 'p', text: `From \`${data!.file}\`: production ${d.production?.url ?? '?'} (${d.production?.source ?? '?'}), ${n(d.seedUsers)} seed users plus ${n(d.pulledInParents?.count ?? 0)} pulled in as referenced parents.` });
    add({ kind: 'table', header: ['Role', 'Seed users'], rows: Object.entries(d.usersByRole ?? {}).map(([r, k]) => [r, n(k)]) });
    add({ kind: 'table', header: ['Table', 'Rows'], rows: Object.entries(d.rowsPerTable ?? {}).map(([t, k]) => [t, n(k)]) });
    add({ kind: 'table', header: ['Check', 'Result', 'Detail'], rows: (d.checks ?? []).map((c: PassFailCheck) => [c.name, { status: statusOf(c) }, c.detail ?? '']) });
    if (d.restoreProof) add({ kind: 'p', text: `Backup proof: \`${d.restoreProof.backup}\` restored into \`${d.restoreProof.scratchDatabase}\`: ${n(d.restoreProof.tables)} tables, ${n(d.restoreProof.rows)} rows, ${d.restoreProof.ok ? 'identical checksums' : `mismatches: ${(d.restoreProof.mismatches ?? []).join(', ')}`}.` });
  } else add({ kind: 'p', text: 'No data summary yet: run `rehearse data --yes`.' });

  add({ kind: 'h2', text: 'Migration' });
  if (m) addMigration(add, migration!.file, m);
  else add({ kind: 'p', text: 'No migration report yet: run `rehearse migrate --yes`.' });

  add({ kind: 'h2', text: 'Validation' });
  if (v) {
    add({ kind: 'p', text: `From \`${validation!.file}\`${v.quick ? ' (a --quick run)' : ''}:` });
    add({ kind: 'table', header: ['Category', 'Result', 'Pass', 'Fail', 'Warn', 'Skip', 'Time'], rows: (v.categories ?? []).map((c: Json) => [c.title ?? c.category, { status: c.ok ? 'pass' : 'fail' }, c.counts?.pass ?? '', c.counts?.fail ?? '', c.counts?.warn ?? '', c.counts?.skip ?? '', ms(c.ms)]) });
    add({ kind: 'table', header: ['Check', 'Status', 'Value', 'Threshold', 'Fix'], rows: (v.checks ?? []).map((c: Json) => [`${c.category}: ${c.title}`, { status: c.status }, c.value ?? '', c.threshold ?? '', c.status === 'pass' ? '' : c.hint ?? '']) });
  } else add({ kind: 'p', text: 'No validation report yet: run `rehearse validate`.' });

  add({ kind: 'h2', text: 'Thresholds used' });
  add({ kind: 'table', header: ['Setting', 'Value'], rows: flatten({ migration: config.migration.thresholds, validation: { queryMaxMs: config.validation.queryMaxMs, pageLoadMaxMs: config.validation.pageLoadMaxMs, certMinDays: config.validation.certMinDays, headerMinScore: config.validation.headerMinScore, load: config.validation.load } }) });

  add({ kind: 'h2', text: 'Reproduce' });
  add({ kind: 'p', text: 'From this folder, with the same `rehearse.config.json` and this environment (the values this run used; secrets are never printed):' });
  add({ kind: 'code', lines: reproduceLines(config) });
  add({ kind: 'p', text: 'Or all at once: `rehearse all --yes`, then `rehearse report`.' });

  return {
    ready: checklist.ready,
    title: `Week-2 readiness: ${checklist.ready ? 'GO' : 'NO-GO'}`,
    summary: `${met} of ${checklist.items.length} success criteria are met.${checklist.ready ? '' : ' Every required criterion must be met for a GO.'}`,
    blocks,
  };
}

function addMigration(add: (...b: Block[]) => void, file: string, m: Json): void {
  add({ kind: 'p', text: `From \`${file}\`: \`${m.migration?.name ?? '?'}\`, ${n(m.counts?.migrated)} of ${n(m.counts?.eligible)} eligible rows migrated, ${n(m.counts?.softDeletedLeft ?? 0)} soft-deleted left as they were.` });
  add({ kind: 'table', header: ['Category', 'Result', 'Tests', 'Pass', 'Fail', 'Warn', 'Skip'], rows: Object.entries(m.categories ?? {}).map(([c, s]: [string, any]) => [c, { status: s.status }, s.tests, s.pass, s.fail, s.warn, s.skip]) });
  const phases: Json[] = m.phases ?? [];
  if (phases.length) {
    add({
      kind: 'table',
      header: ['Phase', 'Rows', 'Time', 'Rows/s', 'Batches', 'Lock retries', 'Locks held'],
      rows: phases.map((p) => [p.label ?? p.phase ?? '', n(p.rows), ms(p.ms), n(p.rowsPerSecond), n(p.batches), n((p.retries ?? []).length), (p.locksHeld ?? []).join('; ')]),
    });
    add({ kind: 'chart', caption: 'Time per phase of the rehearsal', svg: horizontalBarChart({ title: 'Time per phase (ms)', unit: 'ms', bars: phases.map((p) => ({ label: String(p.label ?? p.phase), value: Number(p.ms) || 0, color: String(p.phase).startsWith('down') ? '#8250df' : '#0969da' })) }) });
  }
  const locks = m.performance?.locks as Record<string, Json> | undefined;
  if (locks) {
    add({ kind: 'p', text: 'Locks, sampled from `pg_locks` / `pg_stat_activity` while `up` and `down` ran under a concurrent workload:' });
    add({
      kind: 'table',
      header: ['Run', 'Samples', 'Lock waits', 'Longest wait', 'Statements blocked', 'Blocked by the migration', 'Migration waited', 'Deadlocks', 'Locks the migration held'],
      rows: Object.entries(locks).map(([run, l]) => [run, n(l.samples), n(l.waits), ms(l.longestWaitMs), n(l.blockedQueries), n(l.blockedByMigration), `${n(l.migrationWaits)} (longest ${ms(l.migrationLongestWaitMs)})`, n(l.deadlocks), (l.migrationLocks ?? []).join('; ')]),
    });
    const series = Object.entries(locks)
      .filter(([, l]) => Array.isArray(l.timeline))
      .map(([run, l], i) => ({ name: `${run}: backends waiting`, color: i ? '#8250df' : '#0969da', points: l.timeline as Array<[number, number]> }));
    if (series.length) add({ kind: 'chart', caption: 'Backends waiting for a lock over time, while the migration ran', svg: stepLineChart({ title: 'Lock waits over time', unit: 'backends waiting', series }) });
  }
  const windows = m.performance?.workload?.windows as Record<string, Json> | undefined;
  if (windows) {
    const order = ['before', 'up', 'down', 'after'].filter((w) => windows[w]);
    add({ kind: 'p', text: `Concurrent workload (${n(m.performance.workload.connections)} connections) latency, before the migration and while it ran:` });
    add({ kind: 'table', header: ['Window', 'Operations', 'Reads', 'Writes', 'Errors', 'p50', 'p95', 'Max'], rows: order.map((w) => { const x = windows[w]!; return [w, n(x.ops), n(x.reads), n(x.writes), n(x.errors), ms(x.p50Ms), ms(x.p95Ms), ms(x.maxMs)]; }) });
    const limit = m.options?.thresholds?.workloadP95Ms ?? undefined;
    add({
      kind: 'chart',
      caption: 'Workload latency before vs during the migration',
      svg: groupedBarChart({
        title: 'Workload latency (ms)',
        unit: 'ms',
        categories: order,
        series: [
          { name: 'p50', color: '#54aeff', values: order.map((w) => Number(windows[w]!.p50Ms) || 0) },
          { name: 'p95', color: '#0969da', values: order.map((w) => Number(windows[w]!.p95Ms) || 0) },
        ],
        ...(typeof limit === 'number' ? { threshold: { value: limit, label: `p95 limit ${limit} ms` } } : {}),
      }),
    });
  }
  addProjection(add, m);
  if (m.failed?.length) add({ kind: 'p', text: `Failed tests: ${m.failed.join('; ')}` });
}

/** What the rehearsal says about the production run, or plainly that it cannot say. */
function addProjection(add: (...b: Block[]) => void, m: Json): void {
  const p = m.performance?.projection as Json | undefined;
  add({ kind: 'h2', text: 'Production run' });
  if (!p) {
    add({ kind: 'p', text: 'This migration report has no projection (it was written before rehearse measured the cost per row): run `rehearse migrate --yes` again.' });
    return;
  }
  const trials = (p.trials ?? []) as Json[];
  if (trials.length) {
    add({ kind: 'p', text: 'Trial runs of up.sql in staging, each rolled back, at a quarter, half and all of the eligible rows:' });
    add({ kind: 'table', header: ['Rows', 'Time', 'Time per row', 'WAL', 'WAL per row'], rows: trials.map((t) => [n(t.rows), ms(t.ms), `${Number(t.msPerRow).toFixed(3)} ms`, fmtBytes(Number(t.walBytes)), `${Math.round(Number(t.walBytesPerRow))} B`]) });
  }
  const prod = p.production as Json | undefined;
  if (prod) {
    const range = (r: Json, f: (x: number) => string) => [f(r.value), `${f(r.low)} – ${f(r.high)}`];
    add({ kind: 'p', text: `Projected for production's ${n(p.productionRows)} eligible rows (${n(prod.transactions)} transaction(s); ${prod.rowLock}):` });
    add({
      kind: 'table',
      header: ['Figure', 'Projected', 'Range over the trial sizes'],
      rows: [
        ['Duration', ...range(prod.durationMs, fmtMs)],
        ['Longest row lock', ...range(prod.rowLockMs, fmtMs)],
        ['WAL written', ...range(prod.walBytes, fmtBytes)],
      ],
    });
    add({ kind: 'p', text: `Assumption: ${p.assumption} Error: the costs per row of the trial sizes differ by ${Math.round(p.spread.ms * 100)} % (time) and ${Math.round(p.spread.walBytes * 100)} % (WAL).` });
    return;
  }
  const why = p.verdict === 'no production count' ? `production's eligible rows were not counted (${p.productionNote ?? 'no production'}), so there is nothing to project onto` : p.verdict === 'too small' ? '**the rehearsal was too small to project from**' : '**the trial sizes disagree too much to project from**';
  add({ kind: 'p', text: `No projection for production${p.productionRows !== undefined ? `'s ${n(p.productionRows)} eligible rows` : ''}: ${why}${p.reasons?.length ? ` (${p.reasons.join('; ')})` : ''}. The performance figures above describe staging only.` });
  if (p.suggestion) add({ kind: 'p', text: `To project: ${p.suggestion.command} (about ${n(p.suggestion.targetRows)} eligible rows in staging).` });
}

function flatten(obj: Json, prefix = ''): Cell[][] {
  return Object.entries(obj ?? {}).flatMap(([k, val]) => (val !== null && typeof val === 'object' && !Array.isArray(val) ? flatten(val, `${prefix}${k}.`) : [[`${prefix}${k}`, Array.isArray(val) ? val.join(', ') : String(val)]]));
}

function reproduceLines(config: Config): string[] {
  const env = [`REHEARSE_PROJECT=${config.project}`, ...Object.entries(config.ports).map(([name, port]) => `REHEARSE_PORT_${name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}=${port}`)];
  if (config.images.postgres.startsWith('rehearse-local/')) env.push('REHEARSE_IMAGES=local');
  if (config.production.url) env.push(`PRODUCTION_DATABASE_URL='${describeUrl(config.production.url)}'  # add the password`);
  return [...env.map((e) => `export ${e}`), ...(config.production.url ? [] : ['rehearse demo']), 'rehearse setup --yes', 'rehearse data --yes', 'rehearse migrate --yes', 'rehearse validate', 'rehearse checklist', 'rehearse report'];
}

// ---- Markdown ----

const mdCell = (c: Cell) => (typeof c === 'object' ? WORD[c.status] : String(c)).replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(doc: ReadinessDocument): string {
  const out = [`# ${doc.title}`, '', `**${doc.summary}**`, ''];
  for (const b of doc.blocks) {
    if (b.kind === 'h2') out.push(`## ${b.text}`, '');
    else if (b.kind === 'p') out.push(b.text, '');
    else if (b.kind === 'code') out.push('```sh', ...b.lines, '```', '');
    else if (b.kind === 'chart') out.push(`*Chart in the HTML report: ${b.caption}.*`, '');
    else out.push(`| ${b.header.join(' | ')} |`, `|${b.header.map(() => '---').join('|')}|`, ...b.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`), '');
  }
  return out.join('\n');
}

export function buildReadinessMarkdown(config: Config, checklist: Checklist): string {
  return renderMarkdown(buildReadinessDocument(config, checklist));
}

// ---- HTML ----

const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const inline = (s: string) => html(s).replace(/`([^`]+)`/g, '<code>$1</code>').replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');

/** Status as colour AND shape (circle, cross, triangle, dash), drawn in SVG: no emoji font needed. */
const SHAPE: Record<Status, { cls: string; svg: string }> = (() => {
  const ok = { cls: 'ok', svg: '<circle cx="7" cy="7" r="6"/><path d="M4 7.2l2 2 4-4.4" fill="none" stroke="#fff" stroke-width="1.8"/>' };
  const bad = { cls: 'bad', svg: '<rect x="1" y="1" width="12" height="12" rx="2"/><path d="M4.5 4.5l5 5M9.5 4.5l-5 5" stroke="#fff" stroke-width="1.8"/>' };
  const warn = { cls: 'warn', svg: '<path d="M7 1l6.5 12h-13z"/><path d="M7 5v4" stroke="#fff" stroke-width="1.6"/>' };
  const none = { cls: 'none', svg: '<rect x="1" y="6" width="12" height="2.5" rx="1"/>' };
  return { met: ok, pass: ok, 'not met': bad, fail: bad, unknown: warn, warn, 'n/a': none, skip: none };
})();

const badge = (s: Status) => `<span class="badge ${SHAPE[s].cls}"><svg viewBox="0 0 14 14" width="14" height="14" aria-hidden="true">${SHAPE[s].svg}</svg>${html(WORD[s])}</span>`;
const htmlCell = (c: Cell) => (typeof c === 'object' ? badge(c.status) : inline(String(c)));

export function renderHtml(doc: ReadinessDocument): string {
  const body: string[] = [];
  for (const b of doc.blocks) {
    if (b.kind === 'h2') body.push(`<h2>${inline(b.text)}</h2>`);
    else if (b.kind === 'p') body.push(`<p>${inline(b.text)}</p>`);
    else if (b.kind === 'code') body.push(`<pre><code>${html(b.lines.join('\n'))}</code></pre>`);
    else if (b.kind === 'chart') body.push(`<figure>${b.svg}<figcaption>${html(b.caption)}</figcaption></figure>`);
    else body.push(`<table><thead><tr>${b.header.map((h) => `<th scope="col">${inline(h)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${htmlCell(c)}</th>` : `<td>${htmlCell(c)}</td>`)).join('')}</tr>`).join('')}</tbody></table>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${html(doc.title)}</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:0 auto 2rem;max-width:1100px;padding:0 1rem;color:#1b1f23}
.banner{margin:1rem 0;padding:1.2rem 1.5rem;border-radius:8px;color:#fff;display:flex;align-items:center;gap:1.2rem}
.banner.go{background:#1a7f37}.banner.nogo{background:#cf222e}
.banner .verdict{font-size:2.6rem;font-weight:800;letter-spacing:.04em;white-space:nowrap}.banner .what{font-size:1.1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f6f8fa}tbody th{font-weight:600}
code,pre{background:#f6f8fa;font-family:ui-monospace,monospace}pre{padding:.75rem;overflow:auto}
.badge{display:inline-flex;align-items:center;gap:.3rem;font-weight:600;white-space:nowrap}
.badge svg{flex:none}.badge.ok{color:#1a7f37;fill:#1a7f37}.badge.bad{color:#cf222e;fill:#cf222e}.badge.warn{color:#9a6700;fill:#bf8700}.badge.none{color:#57606a;fill:#8c959f}
figure{margin:.5rem 0 1.2rem}figcaption{color:#57606a;font-size:12px}svg{max-width:100%;height:auto}
</style>
</head><body>
<div class="banner ${doc.ready ? 'go' : 'nogo'}" role="status" id="verdict"><span class="verdict">${doc.ready ? 'GO' : 'NO-GO'}</span><span class="what">Week-2 readiness · ${html(doc.summary)}</span></div>
<h1>${html(doc.title)}</h1>
${body.join('\n')}
</body></html>
`;
}

/** Writes the report beside the evidence as `week2-readiness-<timestamp>.md` and `.html` (0600, secrets masked). */
export function writeReadinessReport(config: Config, checklist: Checklist): { markdown: string; html: string; ready: boolean } {
  const env = readEnvFile(workPaths(config).envFile);
  const doc = buildReadinessDocument(config, checklist);
  const dir = workPaths(config).backups;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const base = path.join(dir, `week2-readiness-${timestampForFile()}`);
  writeFileSync(`${base}.md`, redact(renderMarkdown(doc), env), { mode: 0o600 });
  writeFileSync(`${base}.html`, redact(renderHtml(doc), env), { mode: 0o600 });
  return { markdown: `${base}.md`, html: `${base}.html`, ready: checklist.ready };
}
