// The checklist counts only evidence that proves something: a migration report whose categories
// were skipped (the migration never ran on a schema it did not fit) must not turn the "100 %"
// targets green. Real Docker engine (the checklist asks it about the stack), no stack needed.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectProduction } from '../src/migration/projection.js';
import { describe, expect, it } from 'vitest';
import { computeChecklist } from '../src/evidence/checklist.js';
import { loadConfig } from '../src/config.js';
import { dockerClient } from '../src/stack/docker.js';
import { writeReport } from '../src/evidence/reports.js';

function workspaceWithMigration(status: 'skip' | 'pass' | 'fail') {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-checklist-'));
  const { config } = loadConfig({ cwd: workDir, env: { REHEARSE_PROJECT: 'rehearse-test-checklist-none' } });
  const category = { status, tests: 4, pass: status === 'pass' ? 4 : 0, fail: status === 'fail' ? 1 : 0, warn: 0, skip: status === 'skip' ? 4 : 0 };
  writeReport(config, 'migration-test-report', { kind: 'migration-test-report', categories: { migration: category, rollback: category, integrity: category } });
  return config;
}

const statusOf = (items: Array<{ criterion: string; status: string }>, criterion: string) => items.find((i) => i.criterion === criterion)?.status;

describe('checklist evidence', () => {
  it.each([
    ['skip', 'not met'],
    ['fail', 'not met'],
    ['pass', 'met'],
  ] as const)('a migration report whose categories %s makes "Migration success 100 %%" %s', async (status, expected) => {
    const { items } = await computeChecklist(workspaceWithMigration(status), dockerClient());
    for (const criterion of ['Migration success 100 %', 'Rollback success 100 %', 'Role migration tested', 'Rollback verified']) expect(statusOf(items, criterion), criterion).toBe(expected);
  });

  it('"Performance acceptable" says what the rehearsal projects for production, or that it was too small to', async () => {
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-checklist-'));
    const { config } = loadConfig({ cwd: workDir, env: { REHEARSE_PROJECT: 'rehearse-test-checklist-none' } });
    const projection = projectProduction({ trials: [10, 19, 38].map((rows) => ({ limit: rows, rows, ms: 3 + rows * 0.05, walBytes: rows * 400 })), productionRows: 200_000, stagingEligible: 38, stagingUsers: 65, batchSize: 0 });
    writeReport(config, 'migration-test-report', { kind: 'migration-test-report', categories: { performance: { status: 'warn', tests: 9, pass: 8, fail: 0, warn: 1, skip: 0 } }, performance: { projection } });
    const { items } = await computeChecklist(config, dockerClient());
    const item = items.find((i) => i.criterion === 'Performance acceptable')!;
    expect(item.status).toBe('met');
    expect(item.evidence).toMatch(/performance: warn; on production: not projected onto production's 200,000 eligible rows: the rehearsal was too small to project from .*--max-users 3500/);
    expect(item.evidence).not.toContain('Measured:');
  });
});
