// Against a real PostgreSQL: COPY … TO STDOUT from a "production" database, through the
// anonymizing Transform, into COPY … FROM STDIN on a "staging" database. Checks that tricky
// values survive real COPY escaping, unruled data arrives unchanged, constraints hold, and no
// production PII value is left anywhere in staging.
// Needs PostgreSQL server binaries (Debian: postgresql-15): skipped without them, failed under CI.
import type { JsonRule } from '../../src/anonymize/rules.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCopyTransform,
  createRowAnonymizer,
  createTransformers,
  DEFAULT_RULES_1001_STORIES,
  STAGING_PASSWORD_HASH,
  type AnonymizeRules,
  type ColumnInfo,
  type Transformers,
} from '../../src/anonymize/index.js';
import { missingPrerequisite } from '../helpers/prerequisite.js';

function findPgBin(): string | null {
  const candidates = process.env.PG_BIN ? [process.env.PG_BIN] : [];
  try {
    for (const v of fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))) {
      candidates.push(`/usr/lib/postgresql/${v}/bin`);
    }
  } catch {
    /* not a Debian layout */
  }
  return candidates.find((d) => fs.existsSync(path.join(d, 'initdb')) && fs.existsSync(path.join(d, 'postgres'))) ?? null;
}

const PG_BIN = findPgBin();
const NO_PG = missingPrerequisite('PostgreSQL server binaries (initdb, postgres; or set PG_BIN)', PG_BIN !== null, 'apt-get install -y postgresql-15');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

/** PostgreSQL refuses to run as root: use the postgres (or nobody) account then. */
function pgOwner(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  const entry = passwd.find((f) => f[0] === 'postgres') ?? passwd.find((f) => f[0] === 'nobody');
  if (!entry) throw new Error('running as root and found neither a postgres nor a nobody user');
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

const USER = 'rehearse';
const PASSWORD = 'pg-' + Math.random().toString(36).slice(2);
const KEY = 'int-test-key-0123456789abcdef-0123';
const REF = '2024-06-15';

let tmp = '';
let server: ChildProcess | undefined;
let log = '';
let prod: postgres.Sql;
let staging: postgres.Sql;
let collide: postgres.Sql;

async function startServer(): Promise<number> {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rehearse-anon-pg-'));
  const owner = pgOwner();
  const pwfile = path.join(tmp, 'pw');
  fs.writeFileSync(pwfile, PASSWORD + '\n', { mode: 0o600 });
  if (owner) {
    fs.chownSync(tmp, owner.uid, owner.gid);
    fs.chownSync(pwfile, owner.uid, owner.gid);
  }
  const ids = owner ?? {};
  const data = path.join(tmp, 'data');
  const init = spawnSync(path.join(PG_BIN!, 'initdb'), ['-D', data, '-U', USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync'], { ...ids, encoding: 'utf8', timeout: 120_000 });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  server = spawn(path.join(PG_BIN!, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', tmp, '-c', 'fsync=off'], { ...ids, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d) => (log += d));
  server.stderr!.on('data', (d) => (log += d));
  return port;
}

const SCHEMA = `
  create type "UserRole" as enum ('LEARNER', 'TEACHER', 'INSTITUTION', 'VOLUNTEER', 'ADMIN', 'CUSTOMER');
  create table users (id text primary key, email text not null unique, "emailVerified" timestamp(3), name text, image text,
    password text, role "UserRole" not null default 'CUSTOMER', "tokenVersion" int default 1, "createdAt" timestamp(3) not null);
  create table profiles (id text primary key, "userId" text not null references users(id), phone text, "dateOfBirth" timestamp(3),
    "parentEmail" text, "parentName" text, bio text);
  create table orders (id text primary key, "userId" text references users(id), email text, phone text, "shippingAddress" jsonb,
    "billingAddress" jsonb, "stripePaymentId" text, total numeric(10,2));
  create table order_items (id text primary key, "orderId" text references orders(id), note text, tags text[], qty int);
  create table stories (id text primary key, "authorId" text references users(id), title text, "authorName" text, "authorAge" int,
    "authorLocation" text, content text, tags text[], price numeric(10,2), "isPublished" boolean);
  create table activity_logs (id text primary key, "userId" text, "ipAddress" inet, "userAgent" text, metadata jsonb);
  create table sessions (id text primary key, "sessionToken" text not null unique, "userId" text references users(id));
  create table contacts (id text primary key, emails text[]);
`;
const TABLES = ['users', 'profiles', 'orders', 'order_items', 'stories', 'activity_logs', 'sessions', 'contacts'];
// metadata and bio scrubbed (kept, PII in them replaced) so the test can see the other text survive.
const RULES: AnonymizeRules = { ...DEFAULT_RULES_1001_STORIES, 'contacts.emails': 'email', 'activity_logs.metadata': { ...(DEFAULT_RULES_1001_STORIES['activity_logs.metadata'] as JsonRule), others: 'scrub' }, 'profiles.bio': 'scrub' };

async function seed(sql: postgres.Sql) {
  await sql.unsafe(`
    insert into users values
      ('u1', 'Maria.Garcia@Example.com', '2024-01-02 03:04:05.678', 'José Núñez', 'https://lh3.googleusercontent.com/a/maria.png', '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW', 'LEARNER', 1, '2023-05-06 07:08:09'),
      ('u2', 'maria.garcia@example.com', null, E'Tab\\there\\nNew\\\\line 🦊', null, null, 'TEACHER', 2, '2023-05-06 07:08:09'),
      ('u3', 'kim.minjun+books@example.kr', null, E'\\\\N', null, '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW', 'ADMIN', 1, '2023-05-06 07:08:09'),
      ('u4', 'noname@example.org', null, null, null, null, 'VOLUNTEER', 1, '2023-05-06 07:08:09');
    insert into profiles values
      ('p1', 'u1', '+1 (212) 555-7890', '2011-06-15 00:00:00', 'maria.garcia@example.com', 'Ana Garcia', E'I love stories!\\nWrite me: Maria.Garcia@Example.com'),
      ('p2', 'u2', '010-1234-5678', '2006-06-16 00:00:00', null, null, null),
      ('p3', 'u3', null, '1980-02-29 00:00:00', 'kim.minjun+books@example.kr', 'Kim Soo-young', 'Call 020 7946 0018');
    insert into orders values
      ('o1', 'u1', 'Maria.Garcia@Example.com', '+44 20 7946 0018',
        '{"name": "Maria Garcia", "line1": "221B Baker Street", "line2": "Flat 3", "city": "London", "postalCode": "NW1 6XE", "country": "GB", "phone": "+44 20 7946 0018"}',
        '{"name": "Maria Garcia", "street": "221B Baker Street", "zip": 90210, "country": "GB", "amount": 1.10, "big": 12345678901234567890}',
        'pi_3N9xYzLkdIwHu7ix0abcdefg', 12.50),
      ('o2', null, 'guest@example.net', null, null, null, null, 0.00);
    insert into order_items values
      ('i1', 'o1', E'gift\\twrap\\\\ "quoted"', '{"a b","c,d",NULL,"\\\\N"}', 2),
      ('i2', 'o2', null, '{}', 1);
    insert into stories values
      ('s1', 'u1', E'The Brave Little Fox\\tII', 'José Núñez', 9, 'Seoul, Korea', E'Once upon a time... Write to maria.garcia@example.com or call +1 (212) 555-7890.\\nThe end.', '{animals,"big adventure",한국어}', 4.99, true);
    insert into activity_logs values
      ('a1', 'u1', '10.1.2.3', 'Mozilla/5.0 (X11; Linux x86_64) MariaBrowser/1.0', '{"actor": {"email": "Maria.Garcia@Example.com", "ip": "10.1.2.3"}, "action": "login", "note": "from +1 (212) 555-7890", "n": 1.10}'),
      ('a2', 'u2', '2a00:1450:4001:82a::200e', null, null);
    insert into sessions values ('se1', 'tok_4f1c2a9b8e7d6c5b4a3f2e1d0c9b8a7f', 'u1'), ('se2', 'tok_0a1b2c3d4e5f60718293a4b5c6d7e8f9', 'u2');
    insert into contacts values ('c1', '{"Maria.Garcia@Example.com",NULL,"guest@example.net"}');
  `);
}

/** The production values that must not survive anywhere in staging. */
const LEAKS = [
  'Maria.Garcia', 'maria.garcia', 'example.com', 'example.kr', 'example.net', 'example.org', 'José Núñez', 'Kim Soo-young',
  'Ana Garcia', 'Maria Garcia', '212', '7946', '1234-5678', 'Baker', 'NW1', '90210', 'London', 'Seoul', '10.1.2.3', '2a00:1450',
  'pi_3N9x', 'tok_4f1c', 'tok_0a1b', 'MariaBrowser', 'lh3.google', 'R9h/cIPz', '2011-06-15', '2006-06-16', '1980-02-29',
];

async function columnsOf(sql: postgres.Sql, table: string): Promise<ColumnInfo[]> {
  return sql<ColumnInfo[]>`
    select column_name as name, data_type as "dataType", udt_name as "udtName"
    from information_schema.columns where table_schema = 'public' and table_name = ${table} order by ordinal_position`;
}

async function copyText(sql: postgres.Sql, table: string): Promise<string> {
  const chunks: Buffer[] = [];
  await pipeline(
    await sql.unsafe(`copy ${table} to stdout`).readable(),
    new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(chunks).toString('utf8');
}

async function copyTable(from: postgres.Sql, to: postgres.Sql, table: string, transformers: Transformers) {
  const columns = await columnsOf(from, table);
  const anonymize = createRowAnonymizer(table, columns, RULES, KEY, { transformers });
  const transform = createCopyTransform(anonymize, { batchSize: 256 });
  const list = columns.map((c) => `"${c.name}"`).join(', ');
  await pipeline(await from.unsafe(`copy (select ${list} from ${table} order by id) to stdout`).readable(), transform, await to.unsafe(`copy ${table} (${list}) from stdin`).writable());
  return { anonymize, transform };
}

describe.skipIf(NO_PG)('COPY through the anonymizer, on a real PostgreSQL', () => {
  const results = new Map<string, Awaited<ReturnType<typeof copyTable>>>();

  beforeAll(async () => {
    const port = await startServer();
    const connect = (database: string) => postgres({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database, max: 1, onnotice: () => {} });
    const admin = connect('postgres');
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await admin`select 1`;
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`postgres did not start: ${String(error)}\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (const db of ['prod', 'staging', 'collide']) await admin.unsafe(`create database ${db}`);
    await admin.end();
    prod = connect('prod');
    staging = connect('staging');
    collide = connect('collide');
    for (const sql of [prod, staging, collide]) await sql.unsafe(SCHEMA);
    await seed(prod);
    const transformers = createTransformers(KEY, { referenceDate: REF });
    for (const table of TABLES) results.set(table, await copyTable(prod, staging, table, transformers));
  }, 180_000);

  afterAll(async () => {
    await Promise.all([prod, staging, collide].map((s) => s?.end({ timeout: 5 })));
    if (server && server.exitCode === null) {
      server.kill('SIGINT');
      await new Promise((r) => server!.once('exit', r));
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('loads every row, with constraints (unique e-mail, foreign keys, enum) holding', async () => {
    for (const table of TABLES) {
      const [{ n: a }] = await prod.unsafe(`select count(*)::int as n from ${table}`);
      const [{ n: b }] = await staging.unsafe(`select count(*)::int as n from ${table}`);
      expect(b, table).toBe(a);
      expect(results.get(table)!.transform.stats.rows, table).toBe(a);
    }
  });

  it('leaves no production PII value anywhere in staging', async () => {
    const dump = (await Promise.all(TABLES.map((t) => copyText(staging, t)))).join('\n');
    for (const leak of LEAKS) expect(dump.toLowerCase(), leak).not.toContain(leak.toLowerCase());
  });

  it('passes unruled columns and tables through unchanged, tricky values included', async () => {
    expect(await copyText(staging, 'order_items')).toBe(await copyText(prod, 'order_items'));
    const q = 'select id, "emailVerified", role, "tokenVersion", "createdAt" from users order by id';
    expect(await staging.unsafe(q)).toEqual(await prod.unsafe(q));
    const s = 'select id, title, tags, price, "isPublished", "authorAge" from stories order by id';
    expect(await staging.unsafe(s)).toEqual(await prod.unsafe(s));
    const [story] = await staging`select title, tags from stories`;
    expect(story!.title).toBe('The Brave Little Fox\tII');
    expect(story!.tags).toEqual(['animals', 'big adventure', '한국어']);
  });

  it('keeps e-mails joinable: same production address, same staging address, across tables and inside text', async () => {
    const users = await staging`select id, email, name, password from users order by id`;
    const [u1, u2, u3, u4] = users;
    expect(users.length).toBeGreaterThanOrEqual(4);
    for (const u of users) expect(u.email).toMatch(/^user-[0-9a-f]{8}(-\d+)?@staging\.local$/);
    // u1 and u2 differ only in case: the unique column keeps them apart with a suffix.
    expect(u2!.email).toBe(u1!.email.replace('@', '-2@'));
    const [p1] = await staging`select "parentEmail", bio, phone from profiles where id = 'p1'`;
    expect(p1!.parentEmail).toBe(u2!.email); // exact production value of u2 → u2's staging value
    expect(p1!.bio).toBe(`I love stories!\nWrite me: ${u1!.email}`);
    const [o1] = await staging`select email from orders where id = 'o1'`;
    expect(o1!.email).toBe(u1!.email);
    const [c1] = await staging`select emails[1] as a, emails[2] is null as "secondIsNull", emails[3] as c, array_length(emails, 1) as n from contacts`;
    expect(c1).toEqual({ a: u1!.email, secondIsNull: true, c: expect.stringMatching(/@staging\.local$/), n: 3 });
    expect(u1!.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    expect(u3!.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/); // the literal string "\N" is a value, not NULL
    expect(u4!.name).toBeNull();
    expect(u1!.password).toBe(STAGING_PASSWORD_HASH);
    expect(u2!.password).toBeNull();
  });

  it('shifts dates of birth within the age bracket and maps IPs into the reserved 240.0.0.0/4 block', async () => {
    const rows = await staging`select id, to_char("dateOfBirth", 'YYYY-MM-DD') as dob,
      date_part('year', age(${REF}::date, "dateOfBirth"))::int as age from profiles order by id`;
    expect(rows.map((r) => r.age < 13 ? 'child' : r.age < 18 ? 'teen' : 'adult')).toEqual(['teen', 'teen', 'adult']);
    expect(rows.map((r) => r.dob)).not.toContain('2011-06-15');
    const ips = await staging`select host("ipAddress") as ip from activity_logs order by id`;
    expect(ips[0]!.ip).toMatch(/^2[45]\d\.\d+\.\d+\.\d+$/);
    expect(ips[1]!.ip).toMatch(/^2001:db8:/);
  });

  it('replaces address parts in jsonb, keeps the rest and exact numbers', async () => {
    const [o] = await staging`select "shippingAddress" as s, "billingAddress" as b, "billingAddress"->>'amount' as amount, "billingAddress"->>'big' as big from orders where id = 'o1'`;
    expect(o!.s.country).toBe('GB');
    expect(o!.s.city).not.toBe('London');
    expect(o!.amount).toBe('1.10');
    expect(o!.big).toBe('12345678901234567890');
    expect(typeof o!.b.zip).toBe('number');
    const [a] = await staging`select metadata from activity_logs where id = 'a1'`;
    expect(a!.metadata.action).toBe('login');
    expect(a!.metadata.note).toMatch(/^from \+1 \(\d{3}\) 555-01\d\d$/);
  });

  it('counts changed values per column for the coverage report', () => {
    const users = results.get('users')!.anonymize.stats.columns;
    expect(users.email).toEqual({ rule: 'email', values: 4, nulls: 0, changed: 4 });
    expect(users.name).toEqual({ rule: 'name', values: 3, nulls: 1, changed: 3 });
    expect(results.get('order_items')!.anonymize.active).toBe(false);
    expect(results.get('stories')!.anonymize.stats.columns.authorAge).toBeUndefined(); // keep: never touched
  });

  it('keeps a unique column loadable when pseudonyms are forced to collide', async () => {
    await collide.unsafe(`insert into users (id, email, role, "createdAt") values ('x', 'x@x.org', 'LEARNER', now())`).catch(() => {});
    await collide.unsafe('truncate users cascade');
    await prod.unsafe(`insert into users (id, email, role, "createdAt") select 'c' || g, 'c' || g || '@example.org', 'LEARNER', now() from generate_series(1, 60) g`);
    try {
      const tiny = createTransformers(KEY, { referenceDate: REF, pseudonymHexChars: 1 });
      const { transform } = await copyTable(prod, collide, 'users', tiny);
      expect(transform.stats.rows).toBe(64);
      expect(tiny.registry.collisions).toBeGreaterThanOrEqual(64 - 16);
      const [{ n }] = await collide`select count(distinct email)::int as n from users`;
      expect(n).toBe(64);
    } finally {
      await prod.unsafe(`delete from users where id like 'c%'`);
    }
  });
});
