// Migrations that would fool the harness, against a real PostgreSQL with the staging schemas and the
// text-role fixture: transaction control and DROP DATABASE are refused before anything runs (the
// database is checked unchanged); COMMIT inside a dollar-quoted body is accepted and runs; and the
// "data is as it was" line after a failed run is a checksum comparison: when it cannot be true, it
// says so.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { adaptMigration } from '../../src/migration/adapt.js';
import { loadMigration, MIGRATIONS_DIR, type MigrationFolder } from '../../src/migration/folder.js';
import { MigrationRunError, runPhase } from '../../src/migration/runner.js';
import { fingerprint } from '../../src/db/restore.js';
import { applyStagingSchema } from '../../src/db/staging.js';
import { scratchPostgres, type ScratchPostgres } from '../helpers/demo.js';
import { migrationSettings } from './helpers.js';

const PG_PORT = 34010;
const FIXTURE = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'text-role-schema.sql');
const BUILT_IN = path.join(MIGRATIONS_DIR, 'learner-to-customer');
const builtInUp = readFileSync(path.join(BUILT_IN, 'up.sql'), 'utf8');

let pg: ScratchPostgres;
let sql: postgres.Sql;

/** A copy of the built-in migration with another up.sql. */
function migrationWith(up: string): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'rehearse-ft-migration-')), 'm');
  cpSync(BUILT_IN, dir, { recursive: true });
  writeFileSync(path.join(dir, 'up.sql'), up);
  return dir;
}

const learners = async () => (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE role = 'LEARNER'`)[0]!.n;
const databases = async () => (await sql<{ datname: string }[]>`SELECT datname FROM pg_database ORDER BY 1`).map((r) => r.datname);

function refusal(dir: string): UserError {
  try {
    loadMigration(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error(`${dir} was accepted`);
}

beforeAll(async () => {
  pg = await scratchPostgres('ft-faults-fixture', PG_PORT, 'rehearse-local/postgres:15');
  sql = postgres({ host: '127.0.0.1', port: PG_PORT, username: 'scratch', password: 'scratch-pw', database: 'scratch', max: 4, onnotice: () => undefined });
  await applyStagingSchema(sql);
  await sql.unsafe(readFileSync(FIXTURE, 'utf8'));
  await sql`CREATE DATABASE ft_keep_me`;
});

afterAll(async () => {
  await sql?.end({ timeout: 2 });
  await pg?.stop();
});

describe('a migration that would break the rollback guarantee is refused before it runs', () => {
  it('a COMMIT between the updates and a DROP DATABASE: refused, the database is unchanged', async () => {
    const before = { data: await fingerprint(sql), learners: await learners(), databases: await databases() };
    expect(before.learners).toBeGreaterThan(100);
    expect(before.databases).toContain('ft_keep_me');
    const dir = migrationWith(`UPDATE users SET role = 'TEACHER' WHERE id IN (SELECT id FROM users WHERE role = 'LEARNER' LIMIT 11);\nCOMMIT;\nDROP DATABASE ft_keep_me;\n${builtInUp}`);
    const error = refusal(dir);
    expect(error.message).toMatch(/refused before anything ran.*Nothing was changed/);
    expect(error.details).toContain(`${path.join(dir, 'up.sql')}:2  COMMIT (transaction control)`);
    expect(error.details).toContain(`${path.join(dir, 'up.sql')}:3  DROP DATABASE (cannot run in a transaction)`);
    // Checked in the database: every table's rows and checksum, the learners, the databases.
    expect(await fingerprint(sql)).toEqual(before.data);
    expect(await learners()).toBe(before.learners);
    expect(await databases()).toEqual(before.databases);
  });

  it('the common BEGIN; … COMMIT; wrapper: refused with the fix', () => {
    const error = refusal(migrationWith(`BEGIN;\n${builtInUp}\nCOMMIT;\n`));
    expect(error.details).toMatch(/:1 {2}BEGIN \(transaction control\)/);
    expect(error.details).toMatch(/COMMIT \(transaction control\)/);
    expect(error.tryThis).toMatch(/Remove BEGIN\/COMMIT\/ROLLBACK.*-- @rehearse:commit/);
  });

  it('DROP ROLE is refused unless migration.json allows it', () => {
    const dir = migrationWith(`DROP ROLE IF EXISTS ft_nobody;\n${builtInUp}`);
    expect(refusal(dir).details).toMatch(/DROP ROLE \(not allowed without "allow"\)[\s\S]*"allow": \["DROP ROLE"\]/);
    const meta = JSON.parse(readFileSync(path.join(dir, 'migration.json'), 'utf8'));
    writeFileSync(path.join(dir, 'migration.json'), JSON.stringify({ ...meta, allow: ['DROP ROLE'] }));
    expect(loadMigration(dir).meta.allow).toEqual(['DROP ROLE']);
  });
});

describe('COMMIT inside a dollar-quoted body is the body\'s business', () => {
  it('is accepted, and the migration runs and reverses', async () => {
    const dir = migrationWith(`CREATE OR REPLACE PROCEDURE ft_commits() LANGUAGE plpgsql AS $body$ BEGIN COMMIT; END $body$;\n-- @rehearse:commit\n${builtInUp}`);
    // Resolved for this schema (its @rehearse:if branches), as `rehearse migrate` does.
    const m = (await adaptMigration(sql, loadMigration(dir), ['public'])).migration;
    const eligible = (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NULL`)[0]!.n;
    const up = await runPhase('up', { sql, migration: m, runId: `${m.name}@ft-dollar`, ...migrationSettings() });
    expect(up.rows).toBe(eligible);
    expect((await sql`SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'ft_commits'`)[0]!.n).toBe(1);
    const down = await runPhase('down', { sql, migration: m, runId: `${m.name}@ft-dollar`, ...migrationSettings() });
    expect(down.rows).toBe(eligible);
    expect((await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NULL`)[0]!.n).toBe(eligible);
  });
});

describe('"the data is as it was" after a failed run is a check', () => {
  it('a failure inside the transaction: the checksums before and after are compared and equal', async () => {
    const m = (await adaptMigration(sql, loadMigration('learner-to-customer'), ['public'])).migration;
    const before = await fingerprint(sql);
    let error: MigrationRunError | undefined;
    try {
      await runPhase('up', { sql, migration: m, runId: `${m.name}@ft-fail`, ...migrationSettings(), hooks: { failInBatch: 1 } });
    } catch (e) {
      error = e as MigrationRunError;
    }
    expect(error).toBeInstanceOf(MigrationRunError);
    expect(error!.message).toMatch(/rolled back; checked: "public"\."users" and "staging_migrations"\."role_migration_log" hold the same rows and checksum as before this run, so the data is as it was\./);
    expect(await fingerprint(sql)).toEqual(before);
  });

  it('when a statement committed behind the harness\'s back (the lint bypassed), it says the data is NOT as it was, and how to undo it', async () => {
    const m = (await adaptMigration(sql, loadMigration('learner-to-customer'), ['public'])).migration;
    // What an unchecked folder would run: a COMMIT between two statements, then a failure.
    const fooled: MigrationFolder = { ...m, up: { ...m.up, prelude: [], body: [`UPDATE users SET name = name || ' (ft)' WHERE id = (SELECT min(id) FROM users)`, 'COMMIT', 'SELECT 1/0'] } };
    const before = await fingerprint(sql);
    let error: MigrationRunError | undefined;
    try {
      await runPhase('up', { sql, migration: fooled, runId: `${m.name}@ft-fooled`, ...migrationSettings() });
    } catch (e) {
      error = e as MigrationRunError;
    }
    expect(error).toBeInstanceOf(MigrationRunError);
    expect(error!.message).toMatch(/the data is NOT as it was: "public"\."users" had \d+ rows, checksum -?\d+, now \d+ rows, checksum -?\d+\. `rehearse data restore --yes` brings back the backup/);
    expect(error!.message).not.toMatch(/so the data is as it was/);
    const after = await fingerprint(sql);
    expect(after['public.users']).toBeDefined();
    expect(after['public.users']).not.toEqual(before['public.users']);
    await sql`UPDATE users SET name = left(name, -5) WHERE id = (SELECT min(id) FROM users)`;
    expect(await fingerprint(sql)).toEqual(before);
  });
});
