// `rehearse report`: the week-2 readiness report (Markdown and self-contained HTML) next to the evidence.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { computeChecklist } from '../checklist.js';
import { dockerClient } from '../docker.js';
import { readEnvFile, redact } from '../env-file.js';
import { workPaths } from '../paths.js';
import { buildReadinessDocument, renderHtml, renderMarkdown } from '../readiness-report.js';
import { timestampForFile } from '../reports.js';

export async function runReport(config: Config): Promise<{ markdown: string; html: string; ready: boolean }> {
  const checklist = await computeChecklist(config, dockerClient());
  const env = readEnvFile(workPaths(config).envFile);
  const doc = buildReadinessDocument(config, checklist);
  const markdown = redact(renderMarkdown(doc), env);
  const dir = workPaths(config).backups;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const base = path.join(dir, `week2-readiness-${timestampForFile()}`);
  writeFileSync(`${base}.md`, markdown, { mode: 0o600 });
  writeFileSync(`${base}.html`, redact(renderHtml(doc), env), { mode: 0o600 });
  return { markdown: `${base}.md`, html: `${base}.html`, ready: checklist.ready };
}
