// `rehearse migrate` on a real staging stack holding an anonymized subset of the demo production:
// the whole harness passes and the log and results tables hold what the report says; dry run and
// a refused confirmation change nothing; rollback proves itself; a failure injected mid-up leaves the
// data unchanged; batches under a concurrent writer lose no update and leave no lock behind; and a
// down.sql that forgets a column is caught by the rollback checksum test.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoNames } from '../../src/demo/demo-db.js';
import { adaptMigration } from '../../src/migration/adapt.js';
import { trialSizes } from '../../src/migration/projection.js';
import { loadMigration, type MigrationFolder } from '../../src/migration/folder.js';
import { tableChecksums } from '../../src/migration/checks.js';
import { LockSampler } from '../../src/migration/locks.js';
import type { MigrationReport } from '../../src/migration/report.js';
import { appliedRuns, rollbackApplied } from '../../src/migration/rollback.js';
import { countEligible, MigrationRunError, runPhase } from '../../src/migration/runner.js';
import { fingerprint } from '../../src/db/restore.js';
import { stagingSql } from '../../src/db/staging.js';
import { introspect } from '../../src/subset/introspect.js';
import { removeDemo } from '../helpers/demo.js';
import { docker, rehearse, removeStack, testStack, type CliResult } from '../helpers/stack.js';
import { logAndResultsMatch, migrationSettings } from './helpers.js';

const stack = testStack('migrate', 26000, {
  demo: { port: 26010 },
  // Short measuring windows keep the suite fast; the thresholds stay the defaults.
  migration: { workload: { connections: 3, beforeMs: 500, holdMs: 20, sampleIntervalMs: 20 } },
});
/** The built-in migration as it runs on this staging schema (set once staging is loaded). */
let migration: MigrationFolder;
let sql: postgres.Sql;
let eligibleAtStart = 0;

const reportOf = (r: CliResult): MigrationReport => {
  const file = /Report: (\S+\.json)/.exec(r.stdout)?.[1] ?? /report (\S+migration-test-report\S+\.json)/.exec(r.stderr)?.[1];
  expect(file, r.stdout + r.stderr).toBeDefined();
  return JSON.parse(readFileSync(file!, 'utf8')) as MigrationReport;
};
const appSums = async () => tableChecksums(sql, await introspect(sql, ['public']));
/** Tests that need the learners start from here, whatever an earlier test left applied. */
async function unmigrated(): Promise<void> {
  if ((await appliedRuns(sql, migration)).length) await rollbackApplied({ sql, migration, schemas: ['public'], settings: migrationSettings() });
  expect(await countEligible(sql, migration, false)).toBe(eligibleAtStart);
}

beforeAll(async () => {
  await Promise.all([removeStack(stack), removeDemo(stack.config)]);
  const setup = await rehearse(stack, ['setup', '--yes']);
  expect(setup.exitCode, setup.stderr).toBe(0);
  const demo = await rehearse(stack, ['demo', '--users', '300', '--seed', '7']);
  expect(demo.exitCode, demo.stderr).toBe(0);
  const data = await rehearse(stack, ['data', '--yes']);
  expect(data.exitCode, data.stderr).toBe(0);
  sql = stagingSql(stack.config, { max: 8, statementTimeoutMs: 0 });
  migration = (await adaptMigration(sql, loadMigration('learner-to-customer'), ['public'])).migration;
  eligibleAtStart = await countEligible(sql, migration, false);
}, 300_000);

afterAll(async () => {
  await sql?.end({ timeout: 2 });
  await Promise.all([removeStack(stack), removeDemo(stack.config)]);
});

describe('rehearse migrate on the demo subset', () => {
  it('--dry-run shows the plan and counts and changes nothing', async () => {
    const before = await fingerprint(sql);
    const r = await rehearse(stack, ['migrate', '--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('Dry run: nothing was changed.');
    expect(r.stdout).toContain(`${eligibleAtStart} to migrate`);
    expect(r.stdout).toMatch(/view active_learners/);
    expect(await fingerprint(sql)).toEqual(before);
  });

  it('refuses without --yes and without a terminal, before any change', async () => {
    const before = await fingerprint(sql);
    const r = await rehearse(stack, ['migrate']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/needs confirmation.*Nothing was changed.*--yes/s);
    expect(await fingerprint(sql)).toEqual(before);
  });

  it('passes all six categories, and the log and results tables hold what the report says', async () => {
    expect(eligibleAtStart).toBeGreaterThan(0);
    const r = await rehearse(stack, ['migrate', '--yes', '--verbose']);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = reportOf(r);
    expect(report.ok).toBe(true);
    expect(Object.keys(report.categories)).toHaveLength(6);
    // The demo subset is far too small to project the production run from: that one test warns, and says so.
    for (const [category, c] of Object.entries(report.categories)) expect(c.status, category).toBe(category === 'performance' ? 'warn' : 'pass');
    expect(report.tests.filter((t) => t.status === 'warn').map((t) => [t.name, t.summary])).toEqual([['production run projected from the cost per row', expect.stringMatching(/the rehearsal was too small to project from.*--max-users \d+/)]]);
    // Production's eligible rows, counted by the migrate step through its read-only connection, equal
    // what psql counts inside the demo production's own container.
    const demoLearners = Number((await docker(['exec', demoNames(stack.config).container, 'psql', '-U', stack.config.demo.user, '-d', stack.config.demo.database, '-tAc', `SELECT count(*) FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NULL`])).trim());
    expect(demoLearners).toBeGreaterThan(eligibleAtStart);
    expect(report.counts.productionEligible).toBe(demoLearners);
    expect(r.stdout + r.stderr).toContain(`production: ${demoLearners.toLocaleString('en-US')} eligible rows`);
    expect(report.performance.projection).toMatchObject({ verdict: 'too small', productionRows: demoLearners, suggestion: { maxUsers: expect.any(Number) } });
    // Trials at a quarter, half and all of staging's learners, each rolled back (the next test checks the count).
    expect(report.performance.trials?.points.map((t) => t.rows)).toEqual(trialSizes(eligibleAtStart));
    for (const t of report.performance.trials!.points) expect(t.walBytes, `${t.rows} rows`).toBeGreaterThan(0);
    expect(report.counts.migrated).toBe(eligibleAtStart);
    expect(report.counts.softDeletedLeft).toBeGreaterThan(0); // the generator always makes soft-deleted learners
    expect(report.dependentObjects.map((d) => d.name)).toEqual(expect.arrayContaining(['active_learners', 'users_active_learners_idx', 'is_active_learner(text)']));
    expect(report.backup?.file).toMatch(/staging-backup-.*\.sql\.gz$/);
    expect(report.performance.explain.length).toBe(migration.meta.standardQueries.length);
    await logAndResultsMatch(sql, report);
    // --verbose: each statement with its timing.
    expect(r.stderr).toMatch(/up #1: +[\d.]+ ms +\d+ rows +WITH picked AS/);
    // It ends migrated, with exactly one run applied.
    expect(await countEligible(sql, migration, false)).toBe(0);
    expect((await appliedRuns(sql, migration)).map((a) => a.runId)).toEqual(report.applied);
  });

  it('rollback asks first, then reverses and proves it by checksum', async () => {
    const refused = await rehearse(stack, ['migrate', 'rollback']);
    expect(refused.exitCode).toBe(2);
    const r = await rehearse(stack, ['migrate', 'rollback', '--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Proof: \d+ tables compared by row count and checksum, before and after: identical \(users without role, updatedAt, tokenVersion\)/);
    expect(r.stdout).toContain(`the ${eligibleAtStart} restored rows equal their log snapshots`);
    expect(await countEligible(sql, migration, false)).toBe(eligibleAtStart);
    expect(await appliedRuns(sql, migration)).toEqual([]);
  });

  it('a failure injected mid-up leaves staging unchanged (one transaction, and batches)', async () => {
    await unmigrated();
    for (const batchSize of [0, 10]) {
      const before = await appSums();
      const runId = `${migration.name}@injected-${batchSize}`;
      const error = await runPhase('up', { sql, migration, runId, ...migrationSettings({ batchSize }), hooks: { failInBatch: batchSize ? 2 : 1 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationRunError);
      expect((error as MigrationRunError).message).toMatch(/failure injected mid-migration/);
      if (batchSize) expect((error as MigrationRunError).compensated).toEqual({ committedBatches: 1, reversedRows: 10 });
      expect(await appSums()).toEqual(before);
      const [left] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM staging_migrations.role_migration_log WHERE starts_with(batch_id, ${runId + '#'}) AND migration_status = 'completed'`;
      expect(left!.n).toBe(0);
    }
  });

  it('--batch-size under a concurrent writer: no lost update, no deadlock or lock left behind, lock waits reported', async () => {
    await unmigrated();
    const ids = (await sql<{ id: string }[]>`SELECT id FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NULL ORDER BY id LIMIT 12`).map((r) => r.id);
    const writer = stagingSql(stack.config, { max: 1 });
    const lastName = new Map<string, string>();
    let stop = false;
    let writes = 0;
    // The migration cannot finish without that row, so it waits for it at some point; the first
    // transaction holds its lock until the migration has hit lock_timeout once.
    let firstRetry!: () => void;
    const retried = new Promise<void>((resolve) => (firstRetry = resolve));
    // The app: one short transaction at a time, each holding one user's row lock for a while.
    const writing = (async () => {
      for (let n = 0; !stop; n++) {
        const id = ids[n % ids.length]!;
        const name = `writer-${n}`;
        await writer.begin(async (tx) => {
          await tx`UPDATE users SET name = ${name}, "updatedAt" = timezone('UTC', now()) WHERE id = ${id}`;
          if (n === 0) await Promise.race([retried, new Promise((resolve) => setTimeout(resolve, 15_000))]);
          else await tx`SELECT pg_sleep(0.03)`;
        });
        lastName.set(id, name);
        writes++;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sampler = new LockSampler(sql, 10);
    await sampler.start();
    const runId = `${migration.name}@writer-test/up1`;
    const result = await runPhase('up', {
      sql,
      migration,
      runId,
      // 500 ms: long enough for the 10 ms lock sampler to see the wait even on a crowded machine.
      ...migrationSettings({ batchSize: 5, lockTimeoutMs: 500, retries: 30, retryBaseMs: 20 }),
      onBackend: (pid) => sampler.addMigrationPid(pid),
      onEvent: (e) => e.type === 'retry' && firstRetry(),
    });
    const locks = await sampler.stop();
    // The writer goes on after the migration until it has written every user twice.
    for (const until = Date.now() + 20_000; writes < ids.length * 2 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
    stop = true;
    await writing;
    await writer.end({ timeout: 2 });

    expect(result.rows).toBe(eligibleAtStart);
    expect(result.batches).toBeGreaterThan(eligibleAtStart / 5);
    expect(writes).toBeGreaterThanOrEqual(ids.length * 2);
    // No lost update: the writer's last value and the migration's change are both there.
    const rows = await sql<{ id: string; name: string; role: string; tokenVersion: number; logged: number }[]>`
      SELECT u.id, u.name, u.role::text AS role, u."tokenVersion", (l.rollback_data->>'tokenVersion')::int AS logged
      FROM users u JOIN staging_migrations.role_migration_log l ON l.user_id = u.id AND starts_with(l.batch_id, ${runId + '#'})
      WHERE u.id = ANY(${ids})`;
    expect(rows).toHaveLength(ids.length);
    for (const r of rows) {
      expect(r.name, r.id).toBe(lastName.get(r.id));
      expect(r.role).toBe('CUSTOMER');
      expect(r.tokenVersion).toBe(r.logged + 1);
    }
    // The waits are in the figures the report uses.
    expect(locks.waits).toBeGreaterThan(0);
    expect(result.retries.length).toBeGreaterThan(0);
    expect(result.retries[0]!.code).toBe('55P03');
    expect(locks.migrationWaits).toBeGreaterThan(0);
    expect(locks.longestWaitMs).toBeGreaterThan(0);
    // Nothing left behind: no deadlock, nobody waiting, no open transaction, no lock held by the run.
    expect(locks.deadlocks).toBe(0);
    const [left] = await sql<{ waiting: number; open: number; held: number }[]>`
      SELECT (SELECT count(*)::int FROM pg_locks WHERE NOT granted) AS waiting,
             (SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%') AS open,
             (SELECT count(*)::int FROM pg_locks WHERE pid = ${result.backendPid} AND locktype IN ('tuple', 'transactionid')) AS held`;
    expect(left).toEqual({ waiting: 0, open: 0, held: 0 });

    const undo = await rollbackApplied({ sql, migration, schemas: ['public'], settings: migrationSettings({ batchSize: 5 }) }, [runId]);
    expect(undo.proof.ok).toBe(true);
  });

  it('--batch-size through the CLI: all categories pass and the report carries the lock figures', async () => {
    await unmigrated();
    const r = await rehearse(stack, ['migrate', '--yes', '--batch-size', '7']);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = reportOf(r);
    expect(report.ok).toBe(true);
    expect(report.options.batchSize).toBe(7);
    expect(report.performance.up?.batches).toBe(Math.ceil(eligibleAtStart / 7) + 1); // the last batch finds nothing
    for (const phase of ['up', 'down'] as const) {
      expect(report.performance.locks[phase]).toMatchObject({ waits: expect.any(Number), longestWaitMs: expect.any(Number), blockedQueries: expect.any(Number), deadlocks: 0 });
      // Row-level locks only: no table lock that would stop the app's reads or writes.
      expect(report.performance[phase]!.locksHeld).toEqual(expect.arrayContaining(['users: RowExclusiveLock']));
      expect(report.performance[phase]!.locksHeld.filter((l) => /(Share Row )?Exclusive|AccessExclusive/.test(l.replace('RowExclusive', '')))).toEqual([]);
    }
    expect(report.performance.workload?.windows.before?.ops).toBeGreaterThan(0);
    const back = await rehearse(stack, ['migrate', 'rollback', '--yes']);
    expect(back.exitCode, back.stderr).toBe(0);
  });

  it('catches a down.sql that forgets a column with the rollback checksum test (exit 1)', async () => {
    await unmigrated();
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'rehearse-broken-')), 'learner-to-customer-broken');
    cpSync(migration.dir, dir, { recursive: true });
    const down = readFileSync(path.join(dir, 'down.sql'), 'utf8');
    const broken = down.replace(', "tokenVersion" = t."tokenVersion"', '');
    expect(broken).not.toBe(down);
    writeFileSync(path.join(dir, 'down.sql'), broken);

    const r = await rehearse(stack, ['migrate', '--yes', '--migration', dir]);
    expect(r.exitCode, r.stderr).toBe(1);
    const report = reportOf(r);
    expect(report.ok).toBe(false);
    expect(report.categories.rollback.status).toBe('fail');
    const exact = report.tests.find((t) => t.name === 'every table equals the baseline exactly (all columns)')!;
    expect(exact.status).toBe('fail');
    expect(exact.summary).toContain('users');
    expect(r.stderr).toMatch(/migration test\(s\) failed/);
    await logAndResultsMatch(sql, report);
  });
});
