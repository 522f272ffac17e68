// Staging backups: pg_dump runs inside the staging postgres container (same major version as the
// server) and streams through gzip into staging-backups/staging-backup-<timestamp>.sql.gz (0600).
import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { execa } from 'execa';
import type { Config } from './config.js';
import { CancelledError, SubprocessError } from './errors.js';
import { stackNames, workPaths } from './paths.js';
import { timestampForFile } from './reports.js';

export interface BackupResult {
  file: string;
  bytes: number;
  ms: number;
}

export async function backupStaging(config: Config, signal?: AbortSignal): Promise<BackupResult> {
  const started = performance.now();
  const dir = workPaths(config).backups;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `staging-backup-${timestampForFile()}.sql.gz`);
  const container = stackNames(config).containers['postgres-staging'];
  const argv = ['exec', container, 'pg_dump', '-U', config.database.user, '-d', config.database.name, '--no-owner', '--no-privileges'];
  const child = execa('docker', argv, { cancelSignal: signal, buffer: { stdout: false, stderr: true }, stdout: 'pipe' });
  try {
    await Promise.all([pipeline(child.stdout!, createGzip(), createWriteStream(file, { mode: 0o600 })), child]);
  } catch (error) {
    if (signal?.aborted) throw new CancelledError('The partial backup file was left at ' + file + '.');
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message);
    throw new SubprocessError(`Backing up the staging database failed; nothing was changed.`, `docker ${argv.join(' ')}`, stderr, {
      tryThis: `Check that ${container} is running (\`rehearse status\`).`,
    });
  }
  return { file, bytes: statSync(file).size, ms: Math.round(performance.now() - started) };
}
