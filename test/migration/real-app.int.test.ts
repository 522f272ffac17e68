// `rehearse migrate` through the CLI on the real 1001 Stories schema (test/fixtures/real-app: no
// users."tokenVersion", NextAuth sessions, an 8-label UserRole without CUSTOMER, reading_progress
// ."bookId"), with the built-in migration copied unedited to a folder of its own: the dry run fits
// and compiles it without changing anything, the run passes every category, sessions end and come
// back with rollback, the enum label it cannot remove is reported. Schema-shape problems (no users
// table, missing columns, missing seed columns) give one clear error each, every item at once.
// A PostgreSQL and a Redis container stand in for the staging stack (same names and ports).
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/migration/folder.js';
import type { MigrationReport } from '../../src/migration/report.js';
import { applyStagingSchema } from '../../src/db/staging.js';
import { introspect } from '../../src/subset/introspect.js';
import { planSubset } from '../../src/subset/planner.js';
import { scratchPostgres, type ScratchPostgres } from '../helpers/demo.js';
import { rehearse, type CliResult } from '../helpers/stack.js';

const PG_PORT = 37000;
const REDIS_PORT = 37001;
const PROJECT = 'rehearse-test-sc-realapp';
const REDIS_CONTAINER = `${PROJECT}-redis-staging`;
const FIXTURE = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'real-app');
const env = { CI: 'true', NO_COLOR: '1' };

let pg: ScratchPostgres;
let sql: postgres.Sql;
const root = mkdtempSync(path.join(os.tmpdir(), 'rehearse-sc-realapp-'));
/** The built-in migration, copied unedited: runs and rollbacks must find it by this path. */
const copy = path.join(root, 'l2c-copy');

/** A work folder whose "staging" is database `database` of the scratch container. */
function workspace(name: string, database: string): { workDir: string; env: Record<string, string> } {
  const workDir = path.join(root, name);
  mkdirSync(workDir);
  writeFileSync(
    path.join(workDir, 'rehearse.config.json'),
    JSON.stringify({
      project: PROJECT,
      ports: { postgres: PG_PORT, redis: REDIS_PORT },
      database: { name: database, user: 'scratch' },
      // Timings on a busy test machine are not what this file tests: generous limits.
      migration: { workload: { connections: 3, beforeMs: 500, holdMs: 20, sampleIntervalMs: 20 }, thresholds: { standardQueryMs: 5000, workloadP95Ms: 20000, maxLockWaitMs: 20000 } },
    }),
  );
  writeFileSync(path.join(workDir, '.env.staging'), 'DB_PASSWORD=scratch-pw\nREDIS_PASSWORD=sc-redis-password\n');
  chmodSync(path.join(workDir, '.env.staging'), 0o600);
  return { workDir, env };
}
const staging = workspace('staging', 'scratch');
const broken = workspace('broken', 'broken');

const reportOf = (r: CliResult): MigrationReport => {
  const file = /Report: (\S+\.json)/.exec(r.stdout)?.[1];
  expect(file, r.stdout + r.stderr).toBeDefined();
  return JSON.parse(readFileSync(file!, 'utf8')) as MigrationReport;
};
const labels = async () => (await sql<{ l: string }[]>`SELECT e.enumlabel AS l FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'UserRole' ORDER BY e.enumsortorder`).map((r) => r.l);
const sessionsSum = async () => (await sql<{ n: number; sum: string }[]>`SELECT count(*)::int AS n, coalesce(sum(hashtextextended(s::text, 0)), 0)::text AS sum FROM sessions s`)[0]!;
const learnerSessions = async () => (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM sessions s JOIN users u ON u.id = s."userId" WHERE u.role = 'LEARNER' AND u."deletedAt" IS NULL`)[0]!.n;
/** No stack trace and no "bug" wording: a schema problem is the user's to fix. */
const noBug = (r: CliResult) => {
  expect(r.stderr).not.toMatch(/Unexpected error|a bug in rehearse/);
  expect(r.stderr).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
};

let sessionsBefore: { n: number; sum: string };
let learnerSessionsBefore = 0;
let learnersBefore = 0;

beforeAll(async () => {
  await execa('docker', ['rm', '-f', REDIS_CONTAINER], { reject: false });
  [pg] = await Promise.all([
    scratchPostgres('sc-realapp-db-staging', PG_PORT, 'rehearse-local/postgres:15'),
    execa('docker', ['run', '-d', '--name', REDIS_CONTAINER, '--label', 'dev.rehearse.managed=true', '-p', `127.0.0.1:${REDIS_PORT}:6379`, 'rehearse-local/redis:7', 'redis-server', '--requirepass', 'sc-redis-password']),
  ]);
  sql = postgres({ host: '127.0.0.1', port: PG_PORT, username: 'scratch', password: 'scratch-pw', database: 'scratch', max: 4, onnotice: () => undefined });
  await applyStagingSchema(sql);
  // The fixture holds its own BEGIN/COMMIT: one connection.
  await pg.sql.unsafe(readFileSync(path.join(FIXTURE, 'schema.sql'), 'utf8'));
  await pg.sql.unsafe(readFileSync(path.join(FIXTURE, 'seed.sql'), 'utf8'));
  await pg.sql.unsafe('CREATE DATABASE broken');
  cpSync(path.join(MIGRATIONS_DIR, 'learner-to-customer'), copy, { recursive: true });
  sessionsBefore = await sessionsSum();
  learnerSessionsBefore = await learnerSessions();
  learnersBefore = (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NULL`)[0]!.n;
}, 240_000);

afterAll(async () => {
  await sql?.end({ timeout: 2 });
  await pg?.stop();
  await execa('docker', ['rm', '-f', REDIS_CONTAINER], { reject: false });
});

describe('learner-to-customer on the real app schema, unedited', () => {
  it('the fixture has the traits: no tokenVersion, no CUSTOMER, learners with sessions, bookId', async () => {
    expect(await labels()).not.toContain('CUSTOMER');
    const columns = (await sql<{ c: string }[]>`SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'users'`).map((r) => r.c);
    expect(columns).not.toContain('tokenVersion');
    expect(learnersBefore).toBeGreaterThan(0);
    expect(learnerSessionsBefore).toBeGreaterThan(0);
  });

  it('--dry-run fits it to the schema, compiles every statement and lists what a run touches, changing nothing', async () => {
    const r = await rehearse(staging, ['migrate', '--dry-run', '--migration', copy]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no +column users\.tokenVersion/);
    expect(r.stdout).toMatch(/yes +!column users\.tokenVersion and column sessions\.userId/);
    expect(r.stdout).toMatch(/yes +column reading_progress\.bookId/);
    expect(r.stdout).toContain(`public.users: ${learnersBefore} row(s), role LEARNER → CUSTOMER; also writes updatedAt`);
    expect(r.stdout).toContain(`public.sessions: ${learnerSessionsBefore} row(s)`);
    expect(r.stdout).toContain(`enum "UserRole": adds the label 'CUSTOMER'`);
    expect(r.stdout).toMatch(/Compiled against staging in a rolled-back transaction: (\d+) of \1 statements and queries \('LEARNER' stood in for 'CUSTOMER', which does not exist yet\); the schema is unchanged afterwards/);
    expect(r.stdout).toContain('standard query skipped: one user by id (session check, tokenVersion)');
    expect(r.stdout).not.toContain('✖');
    expect(await labels()).not.toContain('CUSTOMER');
    expect(await sessionsSum()).toEqual(sessionsBefore);
  });

  let report: MigrationReport;
  it('--yes passes every category; sessions of migrated users are ended and kept in the log', async () => {
    const r = await rehearse(staging, ['migrate', '--yes', '--migration', copy]);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    report = reportOf(r);
    expect(report.ok).toBe(true);
    expect(Object.keys(report.categories)).toHaveLength(6);
    for (const [c, s] of Object.entries(report.categories)) expect(['pass', 'warn'], c).toContain(s.status);
    expect(report.tests.filter((t) => t.status === 'fail')).toEqual([]);
    expect(report.counts.migrated).toBe(learnersBefore);
    expect(await learnerSessions()).toBe(0);
    const [kept] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM staging_migrations.role_migration_log l, jsonb_array_elements(l.rollback_data->'sessions') x
      WHERE l.migration_status = 'completed' AND starts_with(l.batch_id, 'l2c-copy@')`;
    expect(kept!.n).toBe(learnerSessionsBefore);
    const [migratedSessions] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM sessions s JOIN users u ON u.id = s."userId" WHERE u.role = 'CUSTOMER'`;
    expect(migratedSessions!.n).toBe(0);
  });

  it('reports the enum label it cannot take back, in the test results and the report', async () => {
    const leftover = report.tests.find((t) => t.name === 'schema changes a rollback cannot undo are listed')!;
    expect(leftover.status).toBe('warn');
    expect(leftover.summary).toContain(`enum "UserRole" gained the label 'CUSTOMER'`);
    const [row] = await sql<{ status: string }[]>`SELECT status FROM staging_migrations.test_results WHERE test_name = 'schema changes a rollback cannot undo are listed' AND result_data->>'runId' = ${report.runId}`;
    expect(row!.status).toBe('warn');
    const skipped = report.tests.filter((t) => t.status === 'skip' && t.name.startsWith('EXPLAIN ANALYZE'));
    expect(skipped.map((t) => t.name).sort()).toEqual(['EXPLAIN ANALYZE: a user\'s reading progress (users ⋈ reading_progress, stories)', 'EXPLAIN ANALYZE: one user by id (session check, tokenVersion)']);
    for (const t of skipped) expect(t.summary).toMatch(/does not hold in this schema/);
  });

  it('migrate rollback uses --migration <path>: sessions come back, value for value, and the proof says what it compared', async () => {
    const without = await rehearse(staging, ['migrate', 'rollback', '--yes']);
    expect(without.exitCode).toBe(2);
    expect(without.stderr).toContain('no run of learner-to-customer');
    const r = await rehearse(staging, ['migrate', 'rollback', '--yes', '--migration', copy]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/of l2c-copy\./);
    expect(r.stdout).toMatch(/Proof: 8\d tables compared by row count and checksum, before and after: identical \(users without role, updatedAt\)/);
    expect(r.stdout).toContain(`public.sessions: the ${learnerSessionsBefore} row(s) kept in the log are back, identical`);
    expect(r.stdout).toContain(`not undone: enum "UserRole" still has the label 'CUSTOMER'`);
    expect(await sessionsSum()).toEqual(sessionsBefore);
    expect(await learnerSessions()).toBe(learnerSessionsBefore);
    expect((await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NULL`)[0]!.n).toBe(learnersBefore);
  });
});

describe('schema-shape problems are clear errors, every item at once', () => {
  it('no users table: migrate --dry-run exits 2 naming the table, the tables found and the fix', async () => {
    const db = postgres({ host: '127.0.0.1', port: PG_PORT, username: 'scratch', password: 'scratch-pw', database: 'broken', max: 1, onnotice: () => undefined });
    try {
      await applyStagingSchema(db);
      await db.unsafe('CREATE TABLE accounts (id text PRIMARY KEY)');
      const r = await rehearse(broken, ['migrate', '--dry-run']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain('The staging database has no table public.users');
      expect(r.stderr).toContain('accounts');
      expect(r.stderr).toMatch(/--migration \.\/learner-to-customer/);
      noBug(r);

      await db.unsafe(`CREATE TABLE users (id text PRIMARY KEY, email text, role integer)`);
      const cols = await rehearse(broken, ['migrate', '--dry-run']);
      expect(cols.exitCode, cols.stdout + cols.stderr).toBe(2);
      expect(cols.stderr).toContain('does not fit migration learner-to-customer: 3 problem(s)');
      expect(cols.stderr).toContain('users has no column "updatedAt" (migration.json mayChange)');
      expect(cols.stderr).toContain('users has no column "deletedAt" (migration.json softDeleteColumn)');
      expect(cols.stderr).toContain('users.role is integer');
      noBug(cols);
    } finally {
      await db.end({ timeout: 2 });
    }
  });

  it('missing seed columns (data.seed.*) are listed together, each with its key', async () => {
    const db = postgres({ host: '127.0.0.1', port: PG_PORT, username: 'scratch', password: 'scratch-pw', database: 'broken', max: 1, onnotice: () => undefined });
    try {
      const shape = await introspect(db, ['public']);
      const error = await db
        .begin((tx) => planSubset(tx, shape, { maxUsers: 5, seed: { table: 'users', idColumn: 'id', roleColumn: 'kind', deletedAtColumn: 'deletedAt', createdAtColumn: 'createdAt', learnerRole: 'LEARNER', minLearners: 1 }, caps: {}, defaultCap: 10, maxDepth: 1 }))
        .catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe('Production table "users" lacks "kind" (data.seed.roleColumn), "deletedAt" (data.seed.deletedAtColumn), "createdAt" (data.seed.createdAtColumn).');
    } finally {
      await db.end({ timeout: 2 });
    }
  });
});
