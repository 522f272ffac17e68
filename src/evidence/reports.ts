// Evidence on disk: every step writes one JSON report into staging-backups/, named
// <kind>-<timestamp>.json. Reports are scrubbed of every secret in .env.staging before writing.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { readEnvFile, redact } from '../stack/env-file.js';
import { workPaths } from '../paths.js';

export type ReportKind = 'setup-report' | 'test-data-summary' | 'migration-test-report' | 'staging-validation-report';

export function timestampForFile(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\.(\d{3})Z$/, '-$1Z');
}

export function writeReport(config: Config, kind: ReportKind, report: object): string {
  const paths = workPaths(config);
  mkdirSync(paths.backups, { recursive: true, mode: 0o700 });
  const file = path.join(paths.backups, `${kind}-${timestampForFile()}.json`);
  const text = redact(JSON.stringify(report, null, 2), readEnvFile(paths.envFile));
  JSON.parse(text); // redaction must never break the JSON
  writeFileSync(file, text + '\n', { mode: 0o600 });
  return file;
}

export function newestReport(config: Config, kind: ReportKind): { file: string; data: unknown; mtime: Date } | undefined {
  const dir = workPaths(config).backups;
  if (!existsSync(dir)) return undefined;
  const newest = readdirSync(dir)
    .filter((f) => f.startsWith(`${kind}-`) && f.endsWith('.json'))
    .sort()
    .pop();
  if (!newest) return undefined;
  const file = path.join(dir, newest);
  return { file, data: JSON.parse(readFileSync(file, 'utf8')), mtime: statSync(file).mtime };
}
