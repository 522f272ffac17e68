// The week-2 go/no-go evidence: one Markdown document and the same content as a self-contained
// HTML page, built from the checklist and the newest reports. Nothing here is recomputed from memory.
import type { Checklist } from './checklist.js';
import type { Config } from './config.js';
import { newestReport } from './reports.js';

type Json = Record<string, any>;

const esc = (s: unknown) => String(s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const table = (header: string[], rows: unknown[][]) => [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
const SYMBOL: Record<string, string> = { met: '✅ met', 'not met': '❌ not met', unknown: '❔ unknown', 'n/a': '➖ n/a' };

export function buildReadinessMarkdown(config: Config, checklist: Checklist): string {
  const data = newestReport(config, 'test-data-summary');
  const migration = newestReport(config, 'migration-test-report');
  const validation = newestReport(config, 'staging-validation-report');
  const d = data?.data as Json | undefined;
  const m = migration?.data as Json | undefined;
  const v = validation?.data as Json | undefined;
  const out: string[] = [];
  out.push(`# Week-2 readiness: ${checklist.ready ? 'GO' : 'NO-GO'}`, '');
  out.push(`Project \`${config.project}\`, staging database \`${config.database.name}\`, generated ${checklist.generatedAt} by \`rehearse report\`.`, '');
  out.push(`**${checklist.items.filter((i) => i.status === 'met').length} of ${checklist.items.length}** success criteria are met.${checklist.ready ? '' : ' Every required criterion must be met for a GO.'}`, '');

  out.push('## Checklist', '', table(['Group', 'Criterion', 'Status', 'Evidence', 'To make it met'], checklist.items.map((i) => [i.group, i.criterion, SYMBOL[i.status], i.evidence, i.status === 'met' || i.status === 'n/a' ? '' : `\`${i.fix}\``])), '');

  out.push('## Data', '');
  if (d) {
    out.push(`From \`${data!.file}\`: production ${esc(d.production?.url)} (${esc(d.production?.source)}), ${d.seedUsers} seed users plus ${d.pulledInParents?.count ?? 0} pulled in as referenced parents.`, '');
    out.push(table(['Role', 'Seed users'], Object.entries(d.usersByRole ?? {})), '');
    out.push(table(['Table', 'Rows'], Object.entries(d.rowsPerTable ?? {})), '');
    out.push(table(['Check', 'Result', 'Detail'], (d.checks ?? []).map((c: Json) => [c.name, c.ok ? 'pass' : 'FAIL', c.detail])), '');
    if (d.restoreProof) out.push(`Backup proof: \`${d.restoreProof.backup}\` restored into \`${d.restoreProof.scratchDatabase}\`: ${d.restoreProof.tables} tables, ${d.restoreProof.rows} rows, ${d.restoreProof.ok ? 'identical checksums' : `mismatches: ${d.restoreProof.mismatches.join(', ')}`}.`, '');
  } else out.push('No data summary yet: run `rehearse data --yes`.', '');

  out.push('## Migration', '');
  if (m) {
    out.push(`From \`${migration!.file}\`: \`${esc(m.migration?.name)}\`, ${m.counts?.migrated ?? '?'} of ${m.counts?.eligible ?? '?'} eligible rows migrated, ${m.counts?.softDeletedLeft ?? 0} soft-deleted left as they were.`, '');
    out.push(table(['Category', 'Status', 'Tests', 'Pass', 'Fail', 'Warn', 'Skip'], Object.entries(m.categories ?? {}).map(([c, s]: [string, any]) => [c, s.status, s.tests, s.pass, s.fail, s.warn, s.skip])), '');
    out.push(table(['Phase', 'Details'], (m.phases ?? []).map((p: Json) => [p.label ?? p.phase ?? '', JSON.stringify(p).slice(0, 300)])), '');
    if (m.performance?.locks) out.push('Lock figures (sampled from `pg_locks` / `pg_stat_activity` while `up` and `down` ran):', '', '```json', JSON.stringify(m.performance.locks, null, 2).slice(0, 4000), '```', '');
    if (m.performance?.workload) out.push('Concurrent workload latency (before vs during):', '', '```json', JSON.stringify(m.performance.workload, null, 2).slice(0, 3000), '```', '');
    if (m.failed?.length) out.push('Failed tests:', '', ...m.failed.map((f: string) => `- ${f}`), '');
  } else out.push('No migration report yet: run `rehearse migrate --yes`.', '');

  out.push('## Validation', '');
  if (v) {
    out.push(`From \`${validation!.file}\`${v.quick ? ' (a --quick run)' : ''}:`, '');
    out.push(table(['Category', 'OK', 'Time (ms)'], (v.categories ?? []).map((c: Json) => [c.title ?? c.category, c.ok ? 'yes' : 'NO', c.ms ?? ''])), '');
    out.push(table(['Check', 'Status', 'Value', 'Threshold', 'Fix'], (v.checks ?? []).map((c: Json) => [`${c.category}: ${c.title}`, c.status, c.value, c.threshold, c.status === 'pass' ? '' : c.hint])), '');
  } else out.push('No validation report yet: run `rehearse validate`.', '');

  out.push('## Thresholds used', '', '```json', JSON.stringify({ migration: (config as Json).migration?.thresholds, validation: (config as Json).validation }, null, 2), '```', '');
  out.push('## Reproduce', '', 'From this folder, with the same `rehearse.config.json`:', '', '```sh', ...(config.production.url ? [] : ['rehearse demo']), 'rehearse setup --yes', 'rehearse data --yes', 'rehearse migrate --yes', 'rehearse validate', 'rehearse checklist', 'rehearse report', '```', '', 'Or all at once: `rehearse all --yes`.', '');
  return out.join('\n');
}

const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A minimal Markdown-to-HTML for what buildReadinessMarkdown writes: headings, tables, code, lists, paragraphs. */
export function markdownToHtml(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  const body: string[] = [];
  const inline = (s: string) => html(s).replace(/`([^`]+)`/g, '<code>$1</code>').replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) {
      const code: string[] = [];
      while (++i < lines.length && !lines[i]!.startsWith('```')) code.push(lines[i]!);
      body.push(`<pre><code>${html(code.join('\n'))}</code></pre>`);
    } else if (line.startsWith('|')) {
      const rows: string[][] = [];
      for (; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|')));
      i--;
      const [head, , ...rest] = rows;
      body.push(`<table><thead><tr>${head!.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${rest.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
    } else if (/^#{1,3} /.test(line)) {
      const level = line.indexOf(' ');
      body.push(`<h${level}>${inline(line.slice(level + 1))}</h${level}>`);
    } else if (line.startsWith('- ')) body.push(`<li>${inline(line.slice(2))}</li>`);
    else if (line.trim()) body.push(`<p>${inline(line)}</p>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${html(title)}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1f23}table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}code,pre{background:#f6f8fa;font-family:ui-monospace,monospace}pre{padding:.75rem;overflow:auto}h1{border-bottom:2px solid #d0d7de}</style>
</head><body>
${body.join('\n')}
</body></html>
`;
}
