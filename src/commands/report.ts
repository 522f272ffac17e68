// `rehearse report`: the week-2 readiness report (Markdown and self-contained HTML) next to the evidence.
import type { Config } from '../config.js';
import { computeChecklist } from '../evidence/checklist.js';
import { dockerClient } from '../stack/docker.js';
import { writeReadinessReport } from '../evidence/readiness-report.js';
import { finish, type Ui } from './ui.js';

export async function reportCommand(config: Config, ui: Ui): Promise<void> {
  const result = writeReadinessReport(config, await computeChecklist(config, dockerClient()));
  finish(ui, { ok: true, fields: result, text: `${result.ready ? 'GO' : 'NO-GO'}.\nReport: ${result.markdown}\n        ${result.html}\n` });
}
