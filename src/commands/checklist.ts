// `rehearse checklist [--watch]`: the success criteria with their evidence. Without a terminal it
// prints once and exits 1 when a required criterion is not met.
import type { Config } from '../config.js';
import { computeChecklist, type Checklist } from '../evidence/checklist.js';
import { dockerClient } from '../stack/docker.js';
import { CheckFailedError } from '../errors.js';
import { formatChecklist } from '../../tasks/format.js';
import { canPrompt, finish, type Ui } from './ui.js';

export async function checklistCommand(config: Config, opts: { watch: boolean }, ui: Ui): Promise<Checklist> {
  const docker = dockerClient();
  const compute = () => computeChecklist(config, docker);
  const missing = (c: Checklist) => c.items.filter((i) => i.required && i.status !== 'met');
  const failure = (c: Checklist) => new CheckFailedError(`${missing(c).length} required criteria are not met yet.`, { tryThis: [...new Set(missing(c).map((i) => i.fix))].slice(0, 3).join(', then ') });
  if (opts.watch && canPrompt(ui)) {
    const { renderLiveChecklist } = await import('../../screens/render-checklist.js');
    const checklist = await renderLiveChecklist(compute);
    if (!checklist.ready) throw failure(checklist);
    return checklist;
  }
  const checklist = await compute();
  finish(ui, { ok: checklist.ready, fields: { ...checklist }, text: formatChecklist(checklist), failure: failure(checklist) });
  return checklist;
}
