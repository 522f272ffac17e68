// `rehearse checklist [--watch]`: the success criteria with their evidence. Without a terminal it
// prints once and exits 1 when a required criterion is not met.
import type { Config } from '../config.js';
import { computeChecklist, type Checklist } from '../checklist.js';
import { dockerClient } from '../docker.js';
import { CheckFailedError } from '../errors.js';
import { canPrompt, writeResult } from './interaction.js';

const SYMBOL = { met: '✔', 'not met': '✖', unknown: '?', 'n/a': '–' } as const;

export function formatChecklist(c: Checklist): string {
  const lines = [`${c.ready ? 'GO' : 'NOT READY'}: ${c.items.filter((i) => i.status === 'met').length}/${c.items.length} criteria met (${c.generatedAt})`];
  let group = '';
  for (const item of c.items) {
    if (item.group !== group) lines.push('', item.group);
    group = item.group;
    lines.push(`  ${SYMBOL[item.status]} ${item.criterion} [${item.status}]`, `      ${item.evidence}`);
    if (item.status !== 'met' && item.status !== 'n/a') lines.push(`      → ${item.fix}`);
  }
  return lines.join('\n') + '\n';
}

export async function runChecklist(config: Config, opts: { watch: boolean; json: boolean }): Promise<Checklist> {
  const docker = dockerClient();
  const compute = () => computeChecklist(config, docker);
  let checklist: Checklist;
  if (opts.watch && !opts.json && canPrompt()) {
    const { renderLiveChecklist } = await import('../../screens/render-checklist.js');
    checklist = await renderLiveChecklist(compute);
  } else {
    checklist = await compute();
    if (opts.json) writeResult({ ok: checklist.ready, ...checklist });
    else process.stdout.write(formatChecklist(checklist));
  }
  if (!checklist.ready && opts.json) process.exitCode = 1;
  else if (!checklist.ready) {
    const missing = checklist.items.filter((i) => i.required && i.status !== 'met');
    throw new CheckFailedError(`${missing.length} required criteria are not met yet.`, { tryThis: [...new Set(missing.map((i) => i.fix))].slice(0, 3).join(', then ') });
  }
  return checklist;
}
