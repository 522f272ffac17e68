// The harness on the other schema (test/migration/fixtures/text-role-schema.sql): role is text with a
// CHECK constraint that does not admit CUSTOMER yet, ids are integer identities, and every kind of
// object that can mention 'LEARNER' exists. A bare PostgreSQL with the staging schemas and a bare
// Redis, both real containers; the harness core is pointed at them directly.
import { createWriteStream, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { adaptMigration, compileMigration } from '../../src/migration/adapt.js';
import { loadMigration, type MigrationFolder } from '../../src/migration/folder.js';
import { CATEGORIES, recordResults, runHarness, type MigrationHarness } from '../../src/migration/harness/index.js';
import { planMigration, type MigrationPlan } from '../../src/migration/plan.js';
import { buildMigrationReport, type MigrationReport } from '../../src/migration/report.js';
import { rollbackApplied } from '../../src/migration/rollback.js';
import { countEligible } from '../../src/migration/runner.js';
import { writeReport } from '../../src/evidence/reports.js';
import { applyStagingSchema } from '../../src/db/staging.js';
import { scratchPostgres, type ScratchPostgres } from '../helpers/demo.js';
import { logAndResultsMatch, migrationSettings } from './helpers.js';

const PG_PORT = 26120;
const REDIS_PORT = 26121;
const PG_CONTAINER = 'rehearse-test-migration-fixture';
const REDIS_CONTAINER = 'rehearse-test-migration-fixture-redis';
const FIXTURE = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'text-role-schema.sql');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-migration-fixture-'));
const { config } = loadConfig({ cwd: workDir, env: {} });
let migration: MigrationFolder;

let pg: ScratchPostgres;
let sql: postgres.Sql;
let redis: Redis;
let planBefore: MigrationPlan;
let harness: MigrationHarness;
let report: MigrationReport;
let reportFile: string;

async function startRedis(): Promise<Redis> {
  await execa('docker', ['rm', '-f', REDIS_CONTAINER], { reject: false });
  // Without a password Redis only talks to loopback clients; published ports arrive from the bridge.
  await execa('docker', ['run', '-d', '--name', REDIS_CONTAINER, '--label', 'dev.rehearse.managed=true', '-p', `127.0.0.1:${REDIS_PORT}:6379`, 'rehearse-local/redis:7', 'redis-server', '--protected-mode', 'no']);
  const until = Date.now() + 30_000;
  for (;;) {
    const client = new Redis({ host: '127.0.0.1', port: REDIS_PORT, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      await client.connect();
      await client.ping();
      return client;
    } catch (error) {
      client.disconnect();
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
}

/** A real pg_dump of the scratch database, the way backupStaging makes one for the stack. */
async function backup(): Promise<{ file: string; bytes: number }> {
  const file = path.join(workDir, 'staging-backup-fixture.sql.gz');
  const child = execa('docker', ['exec', PG_CONTAINER, 'pg_dump', '-U', 'scratch', '-d', 'scratch'], { buffer: false });
  await Promise.all([pipeline(child.stdout!, createGzip(), createWriteStream(file)), child]);
  return { file, bytes: statSync(file).size };
}

beforeAll(async () => {
  [pg, redis] = await Promise.all([scratchPostgres('migration-fixture', PG_PORT, 'rehearse-local/postgres:15'), startRedis()]);
  sql = postgres({ host: '127.0.0.1', port: PG_PORT, username: 'scratch', password: 'scratch-pw', database: 'scratch', max: 10, onnotice: () => undefined });
  await applyStagingSchema(sql);
  await sql.unsafe(readFileSync(FIXTURE, 'utf8'));
  const adaptation = await adaptMigration(sql, loadMigration('learner-to-customer'), ['public']);
  migration = adaptation.migration;
  const compiled = await compileMigration(sql, adaptation, { batchSize: 0, includeDeleted: false, lockTimeoutMs: 2000 });
  planBefore = await planMigration(sql, adaptation, compiled, { schemas: ['public'], batchSize: 0, includeDeleted: false });
  harness = await runHarness({
    sql,
    migration,
    adaptation,
    schemas: ['public'],
    settings: migrationSettings({ batchSize: 0 }),
    workload: { connections: 3, beforeMs: 500, holdMs: 20, sampleIntervalMs: 20 },
    thresholds: config.migration.thresholds,
    redis: { client: redis, patterns: config.migration.redisKeyPatterns },
    backup: await backup(),
  });
  await recordResults(sql, harness);
  report = await buildMigrationReport(harness, sql, { rehearseVersion: 'test', staging: { database: 'scratch', port: PG_PORT }, options: {} });
  reportFile = writeReport(config, 'migration-test-report', report);
});

afterAll(async () => {
  redis?.disconnect();
  await sql?.end({ timeout: 2 });
  await pg?.stop();
  await execa('docker', ['rm', '-f', REDIS_CONTAINER], { reject: false });
});

describe('the harness on text + CHECK roles with integer ids', () => {
  it('plans from the catalog: text column, a CHECK without CUSTOMER, eligible and soft-deleted counts', () => {
    expect(planBefore.column).toMatchObject({ kind: 'text', type: 'text' });
    expect(planBefore.column!.checks.join(' ')).toContain("'LEARNER'");
    expect(planBefore.targetValueReady).toBe(false);
    expect(planBefore.eligible).toBe(108);
    expect(planBefore.softDeleted).toEqual({ policy: 'skip', count: 12 });
  });

  it('passes all six categories', () => {
    const summary = harness.summary();
    expect(summary.failed).toEqual([]);
    expect(summary.ok).toBe(true);
    // Rollback warns: the widened CHECK outlives it (down.sql does not narrow it), and says so.
    // Performance warns: no production was given, so there is nothing to project the run onto.
    for (const c of CATEGORIES) expect(summary.categories[c].status, c).toBe(c === 'rollback' || c === 'performance' ? 'warn' : 'pass');
    expect(harness.results.filter((r) => r.category === 'performance' && r.status === 'warn').map((r) => [r.name, r.summary])).toEqual([
      ['production run projected from the cost per row', expect.stringMatching(/^not projected: production's eligible rows were not counted \(no production was given\)\. Measured: cost per row/)],
    ]);
    // The trials ran on integer ids and a text role, and rolled back.
    expect(harness.results.find((r) => r.name.startsWith('trial runs at'))).toMatchObject({ status: 'pass', summary: expect.stringMatching(/^27 rows .*, 54 rows .*, 108 rows .*; rolled back: 108 eligible/) });
    const leftover = harness.results.find((r) => r.name === 'schema changes a rollback cannot undo are listed')!;
    expect(leftover.status).toBe('warn');
    expect(leftover.summary).toMatch(/CHECK on role is now .*'CUSTOMER'/);
    // A real pg_dump was handed in, so even the backup prerequisite ran.
    expect(harness.results.find((r) => r.name === 'a staging backup was taken for this run')!.status).toBe('pass');
  });

  it('widened the CHECK constraint (validated) and it still rejects an unknown role', async () => {
    const [row] = await sql<{ def: string; valid: boolean }[]>`SELECT pg_get_constraintdef(oid) AS def, convalidated AS valid FROM pg_constraint WHERE conname = 'users_role_check'`;
    expect(row!.def).toContain("'CUSTOMER'");
    expect(row!.valid).toBe(true);
    expect(report.edgeCases.invalidValue?.sqlstate).toBe('23514');
    await expect(sql`UPDATE users SET role = 'NOPE' WHERE id = 1`).rejects.toMatchObject({ code: '23514' });
  });

  it('lists every kind of dependent object, and the catalog knows of none it missed', () => {
    const kinds = new Set(report.dependentObjects.map((d) => d.kind));
    for (const kind of ['column default', 'view', 'function', 'trigger', 'index', 'policy', 'rule']) expect(kinds, kind).toContain(kind);
    const names = report.dependentObjects.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['learner_directory', 'users_new_learners_idx', 'count_learners()', 'stories.audience']));
    const test = harness.results.find((r) => r.name.startsWith('dependent objects'))!;
    expect(test.data!.missed).toEqual([]);
  });

  it('migrated the 108 eligible integer-id users, caught the concurrent insert and invalidated Redis', async () => {
    expect(report.counts.migrated).toBe(108);
    expect(report.counts.softDeletedLeft).toBe(12);
    expect(report.edgeCases.insertedId).toMatch(/^\d+$/);
    expect(report.edgeCases.insertCaughtBy).toBeTruthy();
    expect(report.edgeCases.redis?.stale).toBe(0);
    expect(await countEligible(sql, migration, false)).toBe(0);
    // The inserted row is gone again.
    const [n] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users`;
    expect(n!.n).toBe(240);
  });

  it('stores in the log and results tables exactly what the report says', async () => {
    await logAndResultsMatch(sql, report);
    expect(JSON.parse(readFileSync(reportFile, 'utf8')).runId).toBe(report.runId);
  });

  it('rolls back with a checksum proof, back to 108 eligible learners', async () => {
    const result = await rollbackApplied({ sql, migration, schemas: ['public'], settings: migrationSettings({ batchSize: 0 }) });
    expect(result.proof).toMatchObject({ ok: true, unchangedElsewhere: true, restoredEqualsLog: true, notRestored: 0 });
    expect(result.proof.restored.rows).toBe(108);
    expect(await countEligible(sql, migration, false)).toBe(108);
  });
});
