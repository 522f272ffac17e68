// A production whose users table is not `users` (Prisma without @@map: "User", "Session", camelCase
// columns, serial ids, a text role with a CHECK that does not admit CUSTOMER), with no data.seed
// and no migration configured (only PRODUCTION_DATABASE_URL and the anonymization decisions):
// `rehearse all --yes` reads the users table and its columns from the catalog, records them in the
// data summary, and the built-in migration and validate follow them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { introspect } from '../src/subset/introspect.js';
import { resolveSeed } from '../src/subset/seed.js';
import { startFixtureProduction, type FixtureProduction } from './helpers/fixture-production.js';
import { rehearse, removeStack, testStack, type CliResult } from './helpers/stack.js';

// Coverage is fail-closed: every text column of a table the built-in rules do not know needs a
// decision, so the test names them (the free text quotes people's names, which only a rule that
// replaces the whole value removes from it).
const rules = {
  'Course.title': 'keep',
  'School.name': 'keep',
  'Story.title': 'keep',
  'Story.audience': 'keep',
  'User.role': 'keep',
  'AuditEvent.ip': 'ip',
  'AuditEvent.payload': { rule: 'json', paths: { '$..email': 'email', '$..note': 'token' }, others: 'freeText' },
  'Comment.text': 'token',
  'ReadingProgress.note': 'token',
  'Session.ip': 'ip',
  'Session.sessionToken': 'token',
  'Session.userAgent': 'userAgent',
  'Story.body': 'token',
  'Story.coAuthors': 'name',
  'User.altEmails': 'email',
  'User.contact': 'address',
  'User.email': 'email',
  'User.name': 'name',
};
const stack = testStack('sc2', 37500, { anonymize: { rules } });
let production: FixtureProduction;
let all: CliResult;

const newest = (prefix: string) => {
  const dir = path.join(stack.workDir, 'staging-backups');
  const file = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.json')).sort().pop();
  expect(file, prefix).toBeDefined();
  return JSON.parse(readFileSync(path.join(dir, file!), 'utf8'));
};

beforeAll(async () => {
  await removeStack(stack);
  production = await startFixtureProduction('sc2-production', 37520, 'other-naming');
  all = await rehearse(stack, ['all', '--yes'], { PRODUCTION_DATABASE_URL: production.url });
}, 900_000);

afterAll(async () => {
  await removeStack(stack);
  await production?.stop();
});

describe('rehearse all --yes on a schema whose users table is "User"', () => {
  it('ends with exit 0 and GO', () => {
    expect(all.exitCode, all.stdout.slice(-2000) + all.stderr.slice(-4000)).toBe(0);
    expect(all.stdout).toMatch(/^GO: /m);
  });

  it('says `rehearse config` detects the seed, and the data summary records what was detected', async () => {
    const cfg = await rehearse(stack, ['config', '--json']);
    expect(cfg.exitCode, cfg.stderr).toBe(0);
    expect(cfg.stdout).toContain('(detected from the schema)');
    expect(cfg.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(cfg.stdout)).toMatchObject({ type: 'result', ok: true, config: { project: stack.config.project } });
    const summary = newest('test-data-summary-');
    expect(summary.seed).toMatchObject({ table: 'User', idColumn: 'id', roleColumn: 'role', deletedAtColumn: 'deletedAt', createdAtColumn: 'createdAt' });
    expect(summary.seed.detected).toEqual(['table', 'idColumn', 'roleColumn', 'deletedAtColumn', 'createdAtColumn']);
    expect(summary.usersByRole.LEARNER).toBeGreaterThan(0);
  });

  it('migrated "User", ended the learners\' rows in "Session", and the rollback restored both exactly', () => {
    const report = newest('migration-test-report-');
    expect(report.ok).toBe(true);
    expect(report.migration.target.table).toBe('User');
    expect(report.migration.alsoChanges.map((a: { table: string }) => a.table)).toEqual(['Session']);
    const status = (name: string) => report.tests.find((t: { name: string }) => t.name === name)?.status;
    expect(status('verify.sql: no logged user has a session left')).toBe('pass');
    expect(status('every table equals the baseline exactly (all columns)')).toBe('pass');
    expect(report.counts.migrated).toBeGreaterThan(0);
  });

  it('never wrote to production', async () => {
    const [row] = await production.sql`SELECT count(*) FILTER (WHERE "role" = 'CUSTOMER')::int AS customers, count(*)::int AS users FROM "User"`;
    expect(row).toEqual({ customers: 0, users: 48 });
  });

  it('names every candidate when two tables could be the users table, and ignores one without a role column', async () => {
    const seed = loadConfig({ cwd: stack.workDir, env: stack.env }).config.data.seed;
    const error = await production.sql
      .begin(async (tx) => {
        // NextAuth's accounts: user-like name, no role column. app_users: a second real candidate.
        await tx.unsafe(`CREATE TABLE accounts (id serial PRIMARY KEY, "userId" int, provider text)`);
        await tx.unsafe(`CREATE TABLE app_users (id serial PRIMARY KEY, kind text CHECK (kind IN ('LEARNER', 'ADMIN')))`);
        const found = await resolveSeed(tx, await introspect(tx, ['public']), seed).catch((e: unknown) => e as Error);
        throw Object.assign(new Error('rolled back'), { found });
      })
      .catch((e: { found?: Error }) => e.found);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/^Production has 2 tables that could be the users table: (User, app_users|app_users, User)\.$/);
  });
});
