// The cancel notes of the data and migrate steps claim only what a check just ran: when staging
// cannot be read (here: no stack was ever set up), they say so instead of asserting a state.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { BackupResult } from '../src/db/backup.js';
import type { DataContext } from '../tasks/data-tasks.js';
import type { MigrateContext } from '../tasks/migrate-tasks.js';
import { dataStateNote } from '../tasks/data-step.js';
import { migrateStateNote } from '../tasks/migrate-step.js';

const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-wz2-notes-'));
writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project: 'rehearse-test-wz2-notes' }));
const { config } = loadConfig({ cwd: workDir, env: {} });
const backup = { file: 'staging-backups/staging-backup-20260101-000000Z.sql.gz', rowsPerTable: { 'public.users': 3 } } as unknown as BackupResult;

describe('cancel notes when staging cannot be checked', () => {
  it('data: says what the step recorded, marked not verified', async () => {
    const note = await dataStateNote(config, { backupBefore: backup, load: {} } as unknown as DataContext);
    expect(note).toMatch(/^Staging was replaced by the new subset; the backup taken first is \S+\. \(Not verified: staging could not be checked now: .+\.\)$/);
    expect(note).not.toContain('verified now');
  });

  it('migrate: no "rolled back" or "applied" claim, only the recovery it ran', async () => {
    const note = await migrateStateNote(config, { backup, migrationName: 'learner-to-customer', recovery: 'Staging data is as it was before this step.' } as unknown as MigrateContext);
    expect(note).toMatch(/^Staging data is as it was before this step\. The backup taken first is \S+\. \(Not verified: staging could not be checked now: .+\.\)$/);
    expect(note).not.toMatch(/rolled back|applied on staging/);
  });

  it('nothing to check before the backup', async () => {
    expect(await dataStateNote(config, undefined)).toBe('Nothing in staging was changed: the stop came before the backup.');
    expect(await migrateStateNote(config, {} as MigrateContext)).toBe('Nothing in staging was changed: the stop came before the backup.');
  });
});
