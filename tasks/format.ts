// Plain-text formatting the steps' results and previews share. Light on purpose (types only from
// the core): `rehearse status` imports it, and must start fast.
import type { Checklist } from '../src/evidence/checklist.js';
import type { StackStatus } from '../src/stack/compose.js';

export const n = (x: number) => x.toLocaleString('en-US');
export const kib = (bytes: number) => (bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);

/** Rows as columns padded to their widest cell. */
export const pad = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};

export function formatStatus(status: StackStatus): string {
  if (!status.containers.length) return `No containers for project ${status.composeProject}. Start them with \`rehearse setup\`.\n`;
  const rows = status.containers.map((c) => [c.service, c.name, c.state, c.health, c.ports.map((p) => `${p.ip}:${p.publicPort}→${p.privatePort}`).join(' ')]);
  const header = ['SERVICE', 'CONTAINER', 'STATE', 'HEALTH', 'PORTS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const urls = Object.entries(status.urls).map(([k, v]) => `  ${k.padEnd(12)} ${v}`);
  return [line(header), ...rows.map(line), '', 'URLs:', ...urls, ''].join('\n');
}

const MARK = { met: '✔', 'not met': '✖', unknown: '?', 'n/a': '–' } as const;

export function formatChecklist(c: Checklist): string {
  const lines = [`${c.ready ? 'GO' : 'NOT READY'}: ${c.items.filter((i) => i.status === 'met').length}/${c.items.length} criteria met (${c.generatedAt})`];
  let group = '';
  for (const item of c.items) {
    if (item.group !== group) lines.push('', item.group);
    group = item.group;
    lines.push(`  ${MARK[item.status]} ${item.criterion} [${item.status}]`, `      ${item.evidence}`);
    if (item.status !== 'met' && item.status !== 'n/a') lines.push(`      → ${item.fix}`);
  }
  return lines.join('\n') + '\n';
}
