// `rehearse data` when things go wrong, against real servers: staging (whose schema the app made,
// stricter than production's) refuses a row, or the operator presses Ctrl-C while a phase is
// blocked. Each must end the run quickly, name what staging refused without echoing a value, leave
// staging as it was (by fingerprint) and leave no rehearse session open on production.
import { execa, type ResultPromise } from 'execa';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEnv } from '../src/stack/env-file.js';
import { workPaths } from '../src/paths.js';
import { fingerprint } from '../src/db/restore.js';
import { stagingSql } from '../src/db/staging.js';
import { scratchPostgres, type ScratchPostgres } from './helpers/demo.js';
import { BIN, rehearse, removeStack, testStack } from './helpers/stack.js';

const PROD_PORT = 33020;
const PROD_URL = `postgresql://scratch:scratch-pw@127.0.0.1:${PROD_PORT}/scratch`;
const stack = testStack('ld-faults', 33000, {
  data: { schemaSource: 'app', maxUsers: 6, strict: false, seed: { deletedAtColumn: 'deleted_at', createdAtColumn: 'created_at' } },
  anonymize: { builtinRules: false, rules: { 'users.email': 'email', 'users.note': 'keep', 'users.nick': 'keep', 'posts.body': 'keep' } },
});
let production: ScratchPostgres;

const PRODUCTION_SQL = `
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, role text NOT NULL, created_at timestamptz NOT NULL, deleted_at timestamptz, note text, nick text);
CREATE TABLE posts (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), body text);
INSERT INTO users (email, role, created_at, note, nick)
SELECT format('p%s@example.org', g), (ARRAY['LEARNER', 'LEARNER', 'TEACHER', 'ADMIN'])[1 + g % 4], timestamptz '2024-01-01' + g * interval '1 day',
       CASE g WHEN 3 THEN 'forbidden PROD-SECRET-7731' WHEN 5 THEN 'PROD-DUP-4242' WHEN 6 THEN 'PROD-DUP-4242' ELSE 'note ' || g END,
       CASE g WHEN 4 THEN 'PROD-NICK-TOO-LONG-9911' ELSE 'n' || g END
FROM generate_series(1, 6) g;
INSERT INTO posts (user_id, body) SELECT 1 + g % 6, 'post ' || g FROM generate_series(1, 12) g;`;

/** Staging's schema as "the app's migrations" made it: production's, with one column stricter. */
const stagingSchema = (users: { note?: string; nick?: string }) => `
DROP TABLE IF EXISTS posts, users;
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, role text NOT NULL, created_at timestamptz NOT NULL, deleted_at timestamptz,
  note ${users.note ?? 'text'}, nick ${users.nick ?? 'text'});
CREATE TABLE posts (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), body text);
INSERT INTO users (email, role, created_at, note, nick) VALUES ('staging-only@staging.local', 'ADMIN', now(), 'n', 'n');
INSERT INTO posts (user_id, body) SELECT id, 'kept in staging' FROM users;`;

async function withStaging<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = stagingSql(stack.config, { max: 1 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** rehearse's sessions on production (the read-only snapshot), after giving the server a moment to end them. */
async function productionSessions(): Promise<Array<{ state: string; application_name: string }>> {
  let rows: Array<{ state: string; application_name: string }> = [];
  for (let i = 0; i < 20; i++) {
    rows = await production.sql`SELECT coalesce(state, '') AS state, application_name FROM pg_stat_activity
      WHERE usename = 'scratch' AND pid <> pg_backend_pid() AND (application_name LIKE 'rehearse%' OR state LIKE 'idle in transaction%')`;
    if (!rows.length) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return rows;
}

/** Starts `rehearse data --yes` in the background, collecting its output. */
function startData(): { child: ResultPromise; output: () => string } {
  const child = execa(BIN, ['data', '--yes'], { cwd: stack.workDir, env: { ...stack.env, PRODUCTION_DATABASE_URL: PROD_URL }, reject: false, stdin: 'ignore', all: true, timeout: 180_000 });
  let out = '';
  child.all?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { child, output: () => out };
}

async function until(what: string, check: () => Promise<boolean>, output: () => string = () => '', timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  await removeStack(stack);
  const setup = await rehearse(stack, ['setup', '--yes']);
  expect(setup.exitCode, setup.stderr).toBe(0);
  production = await scratchPostgres('ld-faults-prod', PROD_PORT, stack.config.images.postgres);
  await production.sql.unsafe(PRODUCTION_SQL);
});

afterAll(async () => {
  await production?.stop();
  await removeStack(stack);
});

describe('a row staging refuses', () => {
  const cases = [
    { name: 'a CHECK constraint', note: "text CONSTRAINT note_is_clean CHECK (note NOT LIKE 'forbidden%')", column: 'note', constraint: 'note_is_clean', code: '23514', secret: 'PROD-SECRET-7731' },
    { name: 'a value too long', nick: 'varchar(8)', column: 'nick', code: '22001', secret: 'PROD-NICK-TOO-LONG-9911' },
    { name: 'a duplicate key', note: 'text CONSTRAINT users_note_key UNIQUE', column: 'note', constraint: 'users_note_key', code: '23505', secret: 'PROD-DUP-4242' },
  ];
  for (const c of cases) {
    it(`${c.name}: the step ends within seconds, names table, column and constraint, no value, staging as it was`, async () => {
      await withStaging((sql) => sql.unsafe(stagingSchema({ ...(c.note ? { note: c.note } : {}), ...(c.nick ? { nick: c.nick } : {}) })));
      const before = await withStaging(fingerprint);
      expect(before['public.users']!.rows).toBe(1);

      const run = startData();
      await until('the load to start', async () => run.output().includes('Copy the subset into staging'), run.output);
      const loadStarted = Date.now();
      const r = await run.child;
      const seconds = (Date.now() - loadStarted) / 1000;
      const all = run.output();
      expect(r.exitCode, all).toBe(1);
      expect(seconds, all).toBeLessThan(10);
      expect(all).toContain('Loading the subset failed and was rolled back');
      expect(all).toContain('table "users"');
      expect(all).toContain(`column "${c.column}"`);
      if (c.constraint) expect(all).toContain(`constraint "${c.constraint}"`);
      expect(all).toContain(`SQLSTATE ${c.code}`);
      expect(all).not.toContain(c.secret);
      expect(all).toContain('staging is as it was');
      expect(await withStaging(fingerprint)).toEqual(before);
      expect(await productionSessions()).toEqual([]);
    });
  }
});

describe('one Ctrl-C', () => {
  it('while the load waits on a staging lock: exits 130 within seconds, staging as it was, the snapshot closed', async () => {
    await withStaging((sql) => sql.unsafe(stagingSchema({})));
    const before = await withStaging(fingerprint);
    // Another session reads users and keeps its lock: the load's first change to the table waits.
    // Not stagingSql: its idle timeout would end the session, and the lock with it, while rehearse starts.
    const holder = postgres({ host: '127.0.0.1', port: stack.config.ports.postgres, username: 'staging_user', password: requireEnv(workPaths(stack.config).envFile).DB_PASSWORD, database: 'staging_db', max: 1, onnotice: () => undefined });
    try {
      await holder`BEGIN`;
      await holder`LOCK TABLE users IN ACCESS SHARE MODE`;
      const run = startData();
      // Watched from another session: inside a transaction pg_stat_activity is a snapshot that never changes.
      await until('the load to wait on the lock', async () => {
        const [row] = await withStaging((sql) => sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'rehearse' AND wait_event_type = 'Lock'`);
        return row!.n > 0;
      }, run.output);
      const sent = Date.now();
      run.child.kill('SIGINT');
      const r = await run.child;
      expect(r.exitCode, run.output()).toBe(130);
      expect((Date.now() - sent) / 1000, run.output()).toBeLessThan(10);
      expect(run.output()).toContain('staging is as it was');
      expect(run.output()).toContain("Production's snapshot was closed");
      expect(await productionSessions()).toEqual([]);
    } finally {
      await holder`ROLLBACK`.catch(() => undefined);
      await holder.end({ timeout: 2 });
    }
    expect(await withStaging(fingerprint)).toEqual(before);
  });

  it('while a production read is blocked: exits 130 within seconds and leaves no session on production', async () => {
    await withStaging((sql) => sql.unsafe(stagingSchema({})));
    const before = await withStaging(fingerprint);
    // A production session holds users exclusively: rehearse's first read of its rows waits.
    const holder = postgres({ host: '127.0.0.1', port: PROD_PORT, username: 'scratch', password: 'scratch-pw', database: 'scratch', max: 1, onnotice: () => undefined });
    try {
      await holder`BEGIN`;
      await holder`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`;
      const run = startData();
      await until('a production read to wait on the lock', async () => {
        const [row] = await production.sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'rehearse (read-only)' AND wait_event_type = 'Lock'`;
        return row!.n > 0;
      }, run.output);
      const sent = Date.now();
      run.child.kill('SIGINT');
      const r = await run.child;
      expect(r.exitCode, run.output()).toBe(130);
      expect((Date.now() - sent) / 1000, run.output()).toBeLessThan(10);
      // Still holding the lock: a read that was only abandoned would wait behind it; a cancelled one is gone.
      await until('no rehearse session on production', async () => {
        const [row] = await production.sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'rehearse%'`;
        return row!.n === 0;
      }, () => '', 5000);
    } finally {
      await holder`ROLLBACK`.catch(() => undefined);
      await holder.end({ timeout: 2 });
    }
    expect(await productionSessions()).toEqual([]);
    expect(await withStaging(fingerprint)).toEqual(before);
  });
});
