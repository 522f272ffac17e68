// `rehearse validate` follows the schema it is given: a staging stack (with the bundled demo app in
// front) holding the real 1001 Stories schema (test/fixtures/real-app: books, no stories table).
// The tables to expect come from the newest data summary, and the demo routes whose table this
// schema lacks are n/a with the reason, not failures.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/evidence/reports.js';
import { stagingSql } from '../../src/db/staging.js';
import { rehearse, removeStack, testStack, type CliResult } from '../helpers/stack.js';

const stack = testStack('sc-validate', 37100);
const FIXTURE = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'real-app');

interface Check {
  id: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  value: string;
  detail?: string;
  required: boolean;
}
const checksOf = (r: CliResult): Check[] => (JSON.parse(r.stdout.trim().split('\n').pop()!) as { checks: Check[] }).checks;
const byId = (checks: Check[], id: string) => checks.find((c) => c.id === id) ?? expect.fail(`no check ${id}`);

let summaryFile: string;
let tableCount = 0;
let result: CliResult;

beforeAll(async () => {
  await removeStack(stack);
  const setup = await rehearse(stack, ['setup', '--yes']);
  expect(setup.exitCode, setup.stderr).toBe(0);
  // The fixture holds its own BEGIN/COMMIT: one connection.
  const sql = stagingSql(stack.config, { max: 1, statementTimeoutMs: 0 });
  try {
    await sql.unsafe(readFileSync(path.join(FIXTURE, 'schema.sql'), 'utf8'));
    await sql.unsafe(readFileSync(path.join(FIXTURE, 'seed.sql'), 'utf8'));
    // What the data step records: the rows it loaded per table.
    const rows = await sql<{ t: string; n: number }[]>`SELECT relname AS t, n_live_tup::int AS n FROM pg_stat_user_tables WHERE schemaname = 'public'`;
    const counts = Object.fromEntries(await Promise.all(rows.map(async (r) => [r.t, (await sql.unsafe(`SELECT count(*)::int AS n FROM public."${r.t}"`))[0]!.n as number])));
    tableCount = Object.values(counts).filter((n) => n > 0).length;
    summaryFile = writeReport(stack.config, 'test-data-summary', { kind: 'test-data-summary', rowsPerTable: counts });
  } finally {
    await sql.end({ timeout: 2 });
  }
  result = await rehearse(stack, ['validate', '--category', 'application,database', '--json']);
}, 400_000);

afterAll(async () => {
  await removeStack(stack);
});

describe('rehearse validate on the real app schema behind the demo app', () => {
  it('has every table of the fixture to expect', () => {
    expect(tableCount).toBeGreaterThan(80);
  });

  it('derives the expected tables from the newest data summary', () => {
    const tables = byId(checksOf(result), 'database.tables');
    expect(tables.status, JSON.stringify(tables)).toBe('pass');
    expect(tables.value).toBe(`${tableCount}/${tableCount} tables from ${path.basename(summaryFile)} exist, ${tableCount} hold rows`);
  });

  it('reports the demo route whose table this schema lacks as n/a with the reason, and the others pass', () => {
    const routes = byId(checksOf(result), 'application.routes');
    expect(routes.status, JSON.stringify(routes)).toBe('pass');
    expect(routes.value).toMatch(/^2\/2 answer 200 JSON; 1 n\/a/);
    expect(routes.detail).toBe('/api/stories: n/a, this database has no table public.stories');
  });

  it('no required application or database check fails: GO is reachable on this schema', () => {
    expect(result.exitCode, result.stdout.slice(-3000) + result.stderr).toBe(0);
    const checks = checksOf(result);
    expect(new Set(checks.map((c) => c.id.split('.')[0]))).toEqual(new Set(['application', 'database']));
    const failed = checks.filter((c) => c.status === 'fail');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
  });
});
