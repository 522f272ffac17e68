// The whole flow without a terminal, from an empty folder: `rehearse all --yes` ends GO with every
// criterion met, `rehearse report` writes the readiness report, and the checklist follows the
// evidence: a missing or stale report flips the items that depend on it.
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDemo } from './helpers/demo.js';
import { rehearse, removeStack, testStack, type CliResult } from './helpers/stack.js';

const stack = testStack('flow', 28000, { demo: { port: 28010, users: 300 } });
let all: CliResult;

interface Item {
  criterion: string;
  status: string;
  evidence: string;
}
const checklist = async () => {
  const r = await rehearse(stack, ['checklist', '--json']);
  return { exitCode: r.exitCode, result: JSON.parse(r.stdout) as { ready: boolean; items: Item[] } };
};
const statusOf = (items: Item[], criterion: string) => items.find((i) => i.criterion === criterion)?.status;
const reports = (prefix: string) => readdirSync(path.join(stack.workDir, 'staging-backups')).filter((f) => f.startsWith(prefix)).sort();

beforeAll(async () => {
  await removeStack(stack);
  await removeDemo(stack.config);
  all = await rehearse(stack, ['all', '--yes']);
});

afterAll(async () => {
  await removeDemo(stack.config);
  await removeStack(stack);
});

describe('rehearse all --yes without a terminal', () => {
  it('runs every step from scratch and ends with exit 0 and GO', () => {
    expect(all.exitCode, all.stderr.slice(-3000)).toBe(0);
    for (let n = 1; n <= 5; n++) expect(all.stderr).toContain(`Step ${n} of 5`);
    expect(all.stderr).toContain('using the built-in demo production');
    expect(all.stdout).toMatch(/^GO: 20\/21 criteria met/m);
    for (const prefix of ['setup-report-', 'test-data-summary-', 'migration-test-report-', 'staging-validation-report-']) expect(reports(prefix).length, prefix).toBeGreaterThan(0);
  });

  it('writes the readiness report as Markdown and self-contained HTML', async () => {
    const r = await rehearse(stack, ['report']);
    expect(r.exitCode, r.stderr).toBe(0);
    const md = readFileSync(/Report: (\S+\.md)/.exec(r.stdout)![1]!, 'utf8');
    expect(md).toMatch(/^# Week-2 readiness: GO/);
    for (const section of ['## Checklist', '## Data', '## Migration', '## Validation', '## Thresholds used', '## Reproduce']) expect(md).toContain(section);
    const html = readFileSync(/(\S+\.html)/.exec(r.stdout.split('\n')[2]!)![1]!, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<table>');
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it('flips the migration items to unknown when their report is missing', async () => {
    const file = path.join(stack.workDir, 'staging-backups', reports('migration-test-report-').pop()!);
    renameSync(file, `${file}.hidden`);
    try {
      const { exitCode, result } = await checklist();
      expect(exitCode).toBe(1);
      expect(result.ready).toBe(false);
      expect(statusOf(result.items, 'Rollback verified')).toBe('unknown');
      expect(statusOf(result.items, 'Backup procedure confirmed (backed up and restored)')).toBe('met');
    } finally {
      renameSync(`${file}.hidden`, file);
    }
    expect((await checklist()).result.ready).toBe(true);
  });

  it('counts the migration and validation reports as stale once the data is replaced', async () => {
    const data = await rehearse(stack, ['data', '--yes']);
    expect(data.exitCode, data.stderr).toBe(0);
    const { exitCode, result } = await checklist();
    expect(exitCode).toBe(1);
    expect(statusOf(result.items, 'Production data copied and anonymized')).toBe('met');
    expect(statusOf(result.items, 'Role migration tested')).toBe('not met');
    expect(result.items.find((i) => i.criterion === 'Role migration tested')!.evidence).toContain('STALE: the data was replaced after it');
    expect(statusOf(result.items, 'Application works')).toBe('not met');
    expect(statusOf(result.items, 'All containers running and healthy')).toBe('met');
  });

  it('marks the data items not met when the staging volume is gone', async () => {
    const down = await rehearse(stack, ['down', '--volumes', '--yes', '--no-backup']);
    expect(down.exitCode, down.stderr).toBe(0);
    const { result } = await checklist();
    expect(statusOf(result.items, 'All containers running and healthy')).toBe('not met');
    expect(statusOf(result.items, 'Database integrity verified')).toBe('not met');
    expect(existsSync(path.join(stack.workDir, '.env.staging'))).toBe(true);
  });
});
