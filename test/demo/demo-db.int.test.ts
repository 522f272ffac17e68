// `demoUp` / `demoDown` against the real Docker engine: the demo "production" database comes up in
// its own compose project, holds exactly the generated data with every key and foreign key intact,
// is reused rather than reloaded, reloads to identical checksums, and goes away with its volume.
import { readFileSync, statSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError, CancelledError } from '../../src/errors.js';
import { demoConnectionUrl, demoDown, demoNames, demoPaths, demoSql, demoStatus, demoUp, loadDemoData, type DemoUpResult } from '../../src/demo/demo-db.js';
import { DEMO_TABLES, USER_ROLES, tableChunks, type DemoTable } from '../../src/demo/generator.js';
import type { DemoProgress } from '../../src/demo/progress.js';
import { docker } from '../helpers/stack.js';
import { demoTestConfig, removeDemo } from '../helpers/demo.js';

const { config } = demoTestConfig('demo');
const PORT = 22533;
const USERS = 300;
const SEED = 4242;
const names = demoNames(config);
let first: DemoUpResult;
const events: DemoProgress[] = [];
let sql: postgres.Sql;

/** What the generator itself reports for these options, independently of the load. */
function generatorCounts(users: number, seed: number): Record<DemoTable, number> {
  const out = {} as Record<DemoTable, number>;
  for (const table of DEMO_TABLES) {
    const counter = { rows: 0 };
    for (const _ of tableChunks(table, { users, seed }, counter));
    out[table] = counter.rows;
  }
  return out;
}

/** md5 of every row of every table, ordered by id: equal iff the data is identical. */
async function checksums(db: postgres.Sql): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of DEMO_TABLES) {
    const [row] = await db.unsafe(`SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '')) AS sum FROM "${table}" t`);
    out[table] = row!.sum as string;
  }
  return out;
}

beforeAll(async () => {
  await removeDemo(config);
  first = await demoUp(config, { users: USERS, seed: SEED, port: PORT, onProgress: (e) => events.push(e) });
  sql = demoSql(config, { port: PORT });
});
afterAll(async () => {
  await sql?.end({ timeout: 2 });
  await removeDemo(config);
});

describe('demoUp', () => {
  it('starts <project>-db-demo from the configured image in its own compose project, on 127.0.0.1:<port> only', async () => {
    expect(first.loaded).toBe(true);
    const inspect = JSON.parse(await docker(['inspect', names.container]))[0];
    expect(inspect.Config.Image).toBe('rehearse-local/postgres:15');
    expect(inspect.Config.Labels['com.docker.compose.project']).toBe('rehearse-test-demo-demo');
    expect(inspect.State.Health.Status).toBe('healthy');
    expect(inspect.HostConfig.PortBindings['5432/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(PORT) }]);
    expect(inspect.Mounts.map((m: { Name?: string }) => m.Name)).toContain(names.volume);
  });

  it('keeps the generated password in a 0600 .env.demo and never puts it in an event or the display URL', () => {
    const { envFile } = demoPaths(config);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const password = /^POSTGRES_PASSWORD=(.+)$/m.exec(readFileSync(envFile, 'utf8'))?.[1];
    expect(password).toBeTruthy();
    expect(first.url).toContain(encodeURIComponent(password!));
    expect(demoConnectionUrl(config, { port: PORT })).toBe(first.url);
    expect(first.displayUrl).not.toContain(password!);
    expect(JSON.stringify(events)).not.toContain(password!);
  });

  it('loads exactly the rows the generator produces, table by table', async () => {
    const expected = generatorCounts(USERS, SEED);
    expect(first.counts).toEqual(expected);
    for (const table of DEMO_TABLES) {
      const [row] = await sql.unsafe(`SELECT count(*)::int AS n FROM "${table}"`);
      expect(row!.n, table).toBe(expected[table]);
    }
    expect(first.rows).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    const done = events.filter((e): e is Extract<DemoProgress, { type: 'rows' }> => e.type === 'rows' && e.done);
    expect(done.map((e) => e.table)).toEqual([...DEMO_TABLES]);
  });

  it('has the Prisma-shaped schema: enum with CUSTOMER added last, keys, foreign keys, view, function, partial index', async () => {
    const [roles] = await sql`SELECT enum_range(NULL::"UserRole")::text[] AS r`;
    expect(roles!.r).toEqual(['LEARNER', 'TEACHER', 'INSTITUTION', 'VOLUNTEER', 'ADMIN', 'CUSTOMER']);
    const [def] = await sql`SELECT column_default FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'role'`;
    expect(def!.column_default).toBe(`'CUSTOMER'::"UserRole"`);
    const keys = await sql`SELECT conrelid::regclass::text AS t FROM pg_constraint WHERE contype = 'p' AND connamespace = 'public'::regnamespace`;
    expect(keys.map((k) => k.t.replace(/"/g, '')).sort()).toEqual([...DEMO_TABLES].sort());
    const fks = await sql`SELECT conname, convalidated, confdeltype FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`;
    expect(fks.length).toBe(23);
    expect(fks.every((f) => f.convalidated)).toBe(true);
    expect(new Set(fks.map((f) => f.confdeltype))).toEqual(new Set(['c', 'r', 'n'])); // CASCADE, RESTRICT, SET NULL
    expect((await sql`SELECT count(*)::int AS n FROM active_learners`)[0]!.n).toBeGreaterThan(0);
    expect((await sql`SELECT is_active_learner(id) AS ok FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NULL LIMIT 1`)[0]!.ok).toBe(true);
    const partial = await sql`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE '%WHERE%LEARNER%'`;
    expect(partial).toHaveLength(1);
  });

  it('satisfies every foreign key, checked row by row', async () => {
    const fks = await sql<{ child: string; col: string; parent: string; pcol: string }[]>`
      SELECT c.conrelid::regclass::text AS child, a.attname AS col, c.confrelid::regclass::text AS parent, pa.attname AS pcol
      FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
      WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace`;
    expect(fks).toHaveLength(23);
    for (const fk of fks) {
      const [row] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${fk.child} c WHERE c."${fk.col}" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE p."${fk.pcol}" = c."${fk.col}")`);
      expect(row!.n, `${fk.child}.${fk.col} → ${fk.parent}`).toBe(0);
    }
  });

  it('has every role, soft-deleted learners and users without any activity', async () => {
    const roles = await sql`SELECT DISTINCT role::text AS r FROM users`;
    expect(roles.map((r) => r.r).sort()).toEqual([...USER_ROLES].sort());
    expect((await sql`SELECT count(*)::int AS n FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NOT NULL`)[0]!.n).toBeGreaterThan(0);
    const [idle] = await sql`
      SELECT count(*)::int AS n FROM users u WHERE NOT EXISTS (SELECT 1 FROM profiles WHERE "userId" = u.id)
        AND NOT EXISTS (SELECT 1 FROM activity_logs WHERE "userId" = u.id) AND NOT EXISTS (SELECT 1 FROM orders WHERE "userId" = u.id)
        AND NOT EXISTS (SELECT 1 FROM reading_progress WHERE "userId" = u.id) AND NOT EXISTS (SELECT 1 FROM sessions WHERE "userId" = u.id)`;
    expect(idle!.n).toBeGreaterThan(0);
  });

  it('holds PII where production does: odd e-mails, non-ASCII names, JSON addresses, IPs, free text', async () => {
    const one = async (query: postgres.PendingQuery<postgres.Row[]>) => ((await query)[0]!.n as number);
    expect(await one(sql`SELECT count(*)::int AS n FROM users WHERE email LIKE '%+%' AND email <> lower(email)`)).toBeGreaterThan(0);
    expect(await one(sql`SELECT count(*)::int AS n FROM users WHERE email = 'Maria.Lopez+stories@Example.org'`)).toBe(1);
    expect(await one(sql`SELECT count(*)::int AS n FROM users WHERE name ~ '[^[:ascii:]]'`)).toBeGreaterThan(30);
    expect(await one(sql`SELECT count(DISTINCT name)::int AS n FROM users WHERE name IN ('José Núñez', 'Zoë Müller', 'Łukasz Wiśniewski', '佐藤 花子', '김민준')`)).toBe(5);
    expect(await one(sql`SELECT count(*)::int AS n FROM orders WHERE "shippingAddress"->>'city' IS NOT NULL AND "shippingAddress"->>'line1' IS NOT NULL`)).toBeGreaterThan(0);
    expect(await one(sql`SELECT count(*)::int AS n FROM orders WHERE "userId" IS NULL`)).toBeGreaterThan(0);
    expect(await one(sql`SELECT count(*)::int AS n FROM donations WHERE "donorId" IS NULL AND anonymous`)).toBeGreaterThan(0);
    expect(await one(sql`SELECT count(*)::int AS n FROM activity_logs WHERE "ipAddress" LIKE '%:%'`)).toBeGreaterThan(0);
    expect(await one(sql`SELECT count(*)::int AS n FROM profiles WHERE "parentEmail" IS NOT NULL AND "dateOfBirth" IS NOT NULL`)).toBeGreaterThan(0);
    expect(await one(sql`SELECT count(*)::int AS n FROM notifications WHERE message ~ '[^ ]+@[^ ]+'`)).toBeGreaterThan(0);
    expect(await one(sql`SELECT count(*)::int AS n FROM stories WHERE tags = '{}'`)).toBeGreaterThan(0);
  });

  it('reports the load in demoStatus', async () => {
    const status = await demoStatus(config, { port: PORT });
    expect(status.container).toMatchObject({ name: names.container, state: 'running', health: 'healthy' });
    expect(status.volume).toEqual({ name: names.volume, exists: true });
    expect(status.reachable).toBe(true);
    expect(status.data).toMatchObject({ seed: SEED, users: USERS, counts: first.counts });
  });

  it('keeps an identical data set instead of reloading it, and says so', async () => {
    const before = await checksums(sql);
    const seen: DemoProgress[] = [];
    const again = await demoUp(config, { users: USERS, seed: SEED, port: PORT, onProgress: (e) => seen.push(e) });
    expect(again.loaded).toBe(false);
    expect(again.counts).toEqual(first.counts);
    expect(again.url).toBe(first.url); // same password kept
    expect(seen.some((e) => e.type === 'step' && e.step === 'reuse' && /not reloading/.test(e.detail))).toBe(true);
    expect(seen.some((e) => e.type === 'rows')).toBe(false);
    expect(await checksums(sql)).toEqual(before);
  });

  it('refuses to replace a different data set unless asked to', async () => {
    await expect(demoUp(config, { users: USERS, seed: SEED + 1, port: PORT })).rejects.toThrow(UserError);
    await expect(demoUp(config, { users: USERS, seed: SEED + 1, port: PORT })).rejects.toThrow(/already holds a demo data set with 300 users and seed 4242/);
  });

  it('reloads (reload: true) to byte-identical tables: same seed, same checksums', async () => {
    const before = await checksums(sql);
    const reloaded = await demoUp(config, { users: USERS, seed: SEED, port: PORT, reload: true });
    expect(reloaded.loaded).toBe(true);
    expect(await checksums(sql)).toEqual(before);
    const other = await demoUp(config, { users: USERS, seed: SEED + 1, port: PORT, reload: true });
    expect(other.loaded).toBe(true);
    const changed = await checksums(sql);
    for (const table of DEMO_TABLES) expect(changed[table], table).not.toBe(before[table]);
  });

  it('leaves an empty database when a load is cancelled half-way', async () => {
    const controller = new AbortController();
    const load = loadDemoData(sql, {
      users: 2000,
      seed: 1,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'rows' && e.table === 'stories' && e.done) controller.abort();
      },
    });
    await expect(load).rejects.toThrow(CancelledError);
    const [tables] = await sql`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
    expect(tables!.n).toBe(0);
    const [types] = await sql`SELECT count(*)::int AS n FROM pg_type WHERE typname = 'UserRole'`;
    expect(types!.n).toBe(0);
    expect((await demoStatus(config, { port: PORT })).data).toBeNull();
  });

  it('also when cancelled in the middle of a COPY, and the connection stays usable', async () => {
    const controller = new AbortController();
    const load = loadDemoData(sql, {
      users: 5000,
      seed: 1,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'rows' && e.table === 'users' && !e.done) controller.abort();
      },
    });
    await expect(load).rejects.toThrow(CancelledError);
    const [tables] = await sql`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
    expect(tables!.n).toBe(0);
  });
});

describe('demoDown', () => {
  it('with volumes removes the container, its network and its volume', async () => {
    await sql.end({ timeout: 2 });
    await demoDown(config, { volumes: true, port: PORT });
    expect(await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${names.composeProject}`])).toBe('');
    expect(await docker(['volume', 'ls', '-q', '--filter', `name=${names.volume}`])).toBe('');
    expect(await docker(['network', 'ls', '-q', '--filter', `name=${names.network}`])).toBe('');
    const status = await demoStatus(config, { port: PORT });
    expect(status.container).toBeNull();
    expect(status.volume.exists).toBe(false);
  });
});
