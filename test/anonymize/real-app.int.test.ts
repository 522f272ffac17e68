// The real 1001 Stories schema (test/fixtures/real-app, written from the app's Prisma schema) and a
// hostile one, in a real PostgreSQL: the coverage check decides every text column of the real
// schema with zero user rules, and every table copied through the anonymizer (COPY out, rules,
// COPY into a fresh copy of the schema) loads, and leaks no production name or e-mail.
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymizeRulesSchema, createRowAnonymizer, createTransformers, DEFAULT_RULES_1001_STORIES, type AnonymizeRules } from '../../src/anonymize/index.js';
import { loadConfig } from '../../src/config.js';
import { checkAnonymizationCoverage, readColumnTypes, readPiiDictionary, usesScrub } from '../../src/data/guards.js';
import { readRulesFile, writeRulesFile } from '../../src/data/rules-file.js';
import { noDelaySocket, resumeStalledSockets } from '../../src/db/pg-connect.js';
import { introspect, type DbShape } from '../../src/subset/introspect.js';
import { scratchPostgres, type ScratchPostgres } from '../helpers/demo.js';
import { quoteIdent } from '../../src/db/sql-text.js';

const PORT = 35001;
const KEY = 'real-app-test-key-0123456789abcdef';
let pg: ScratchPostgres;
const dbs: postgres.Sql[] = [];

function connect(database: string): postgres.Sql {
  // Our sockets, so resumeStalledSockets can undo the driver's pause after a COPY OUT (see pg-connect).
  const sql = postgres({ host: '127.0.0.1', port: PORT, username: 'scratch', password: 'scratch-pw', database, max: 1, onnotice: () => undefined, socket: noDelaySocket('127.0.0.1', PORT) });
  dbs.push(sql);
  return sql;
}

async function createDb(name: string, files: string[]): Promise<postgres.Sql> {
  await pg.sql.unsafe(`CREATE DATABASE ${quoteIdent(name)}`);
  const sql = connect(name);
  for (const f of files) await sql.unsafe(readFileSync(f, 'utf8')).simple();
  return sql;
}

const readOnly = <T>(sql: postgres.Sql, fn: (tx: postgres.TransactionSql) => Promise<T>) => sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', fn) as Promise<T>;

/** Every table COPY'd from production through the anonymizer into staging (foreign keys off while it runs). */
async function copyAll(prod: postgres.Sql, staging: postgres.Sql, rules: AnonymizeRules): Promise<void> {
  await readOnly(prod, async (tx) => {
    const shape = await introspect(tx, ['public']);
    const types = await readColumnTypes(tx, ['public']);
    const transformers = createTransformers(KEY, { dictionary: await readPiiDictionary(tx, shape, types, rules, usesScrub(rules)) });
    await staging.begin(async (st) => {
      await st.unsafe('SET LOCAL session_replication_role = replica');
      for (const [key, t] of shape.tables) {
        const cols = t.columns.filter((c) => !c.generated);
        const list = cols.map((c) => quoteIdent(c.name)).join(', ');
        const anon = createRowAnonymizer(key, cols.map((c) => ({ ...c, ...types.get(key)?.get(c.name) })), rules, KEY, { transformers, uniqueKeys: t.primaryKey.length ? [...t.uniqueKeys, t.primaryKey] : t.uniqueKeys });
        let text = '';
        for await (const chunk of await tx.unsafe(`COPY (SELECT ${list} FROM ${t.qualified}${t.primaryKey.length ? ` ORDER BY ${t.primaryKey.map(quoteIdent).join(', ')}` : ''}) TO STDOUT`).readable()) text += chunk.toString();
        resumeStalledSockets();
        const lines = text.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
        const out = lines.map((l) => anon(l)).join('\n') + (lines.length ? '\n' : '');
        if (!lines.length) continue;
        await pipeline(Readable.from([Buffer.from(out)]), await st.unsafe(`COPY ${t.qualified} (${list}) FROM STDIN`).writable());
      }
    });
  });
}

async function allText(sql: postgres.Sql, shape: DbShape): Promise<string> {
  let out = '';
  for (const t of shape.tables.values()) {
    const rows = (await sql.unsafe(`SELECT x::text AS r FROM ${t.qualified} x`)) as unknown as Array<{ r: string }>;
    out += rows.map((r) => r.r).join('\n');
  }
  return out;
}

/** "table.column" of every staging value that contains one of the strings. */
async function whereFound(sql: postgres.Sql, shape: DbShape, needles: string[]): Promise<string[]> {
  const out = new Set<string>();
  if (!needles.length) return [];
  for (const t of shape.tables.values()) {
    for (const c of t.columns) {
      const rows = (await sql.unsafe(`SELECT count(*)::int AS n FROM ${t.qualified} WHERE ${quoteIdent(c.name)}::text ILIKE ANY($1)`, [needles.map((n) => `%${n}%`)])) as unknown as Array<{ n: number }>;
      if (rows[0]!.n) out.add(`${t.name}.${c.name}`);
    }
  }
  return [...out];
}

beforeAll(async () => {
  const { config } = loadConfig({ cwd: mkdtempSync(path.join(os.tmpdir(), 'rehearse-an-')), env: { REHEARSE_IMAGES: 'local' } });
  pg = await scratchPostgres('an-realapp', PORT, config.images.postgres);
}, 180_000);

afterAll(async () => {
  await Promise.all(dbs.map((d) => d.end({ timeout: 1 })));
  await pg?.stop();
});

describe('the real app\'s schema', () => {
  let prod: postgres.Sql;
  let shape: DbShape;

  beforeAll(async () => {
    prod = await createDb('realapp', ['test/fixtures/real-app/schema.sql', 'test/fixtures/real-app/seed.sql']);
    shape = await introspect(prod, ['public']);
  }, 180_000);

  it('has every text, json and array column decided with zero user rules', async () => {
    expect(shape.tables.size).toBe(83);
    const coverage = await readOnly(prod, async (tx) => checkAnonymizationCoverage(tx, shape, await readColumnTypes(tx, ['public']), { user: {}, builtin: DEFAULT_RULES_1001_STORIES }));
    expect(coverage.undecided.map((u) => `${u.table}.${u.column}`)).toEqual([]);
    expect(coverage.unknownRules).toEqual([]);
    expect(coverage.decided.filter((d) => d.source === 'built-in').length).toBeGreaterThan(400);
    expect(coverage.decided.filter((d) => d.source === 'key column').length).toBeGreaterThan(100);
  });

  it('copies every table through the built-in rules, and no production name or e-mail reaches staging', async () => {
    const staging = await createDb('realapp_staging', ['test/fixtures/real-app/schema.sql']);
    await copyAll(prod, staging, DEFAULT_RULES_1001_STORIES);
    const names = ((await prod`SELECT DISTINCT name FROM users WHERE name IS NOT NULL`) as unknown as Array<{ name: string }>).map((r) => r.name);
    const emails = ((await prod`SELECT DISTINCT email FROM users`) as unknown as Array<{ email: string }>).map((r) => r.email.toLowerCase());
    expect(names.length).toBeGreaterThan(100);
    expect(emails.length).toBeGreaterThan(100);
    const text = (await allText(staging, shape)).toLowerCase();
    expect(text.length).toBeGreaterThan(10_000);
    const leaked = names.filter((n) => text.includes(n.toLowerCase()));
    expect(await whereFound(staging, shape, leaked)).toEqual([]);
    expect(emails.filter((e) => text.includes(e))).toEqual([]);
    const [counts] = await staging`SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(DISTINCT email)::int FROM users) AS emails`;
    expect(counts).toEqual({ users: 300, emails: 300 });
  }, 180_000);
});

describe('a hostile schema', () => {
  let prod: postgres.Sql;
  let shape: DbShape;

  beforeAll(async () => {
    prod = await createDb('hostile', ['test/fixtures/hostile/schema.sql', 'test/fixtures/hostile/seed.sql']);
    shape = await introspect(prod, ['public']);
  }, 180_000);

  it('stops on undecided columns (the domain-typed e-mail included), and the rules file it writes decides them all', async () => {
    const check = (user: AnonymizeRules) => readOnly(prod, async (tx) => checkAnonymizationCoverage(tx, shape, await readColumnTypes(tx, ['public']), { user, builtin: {} }));
    const first = await check({});
    const undecided = new Map(first.undecided.map((u) => [`${u.table}.${u.column}`, u]));
    expect(undecided.get('users.email')?.rule).toBe('email');
    expect(undecided.get('order.Email Address')?.rule).toBe('email');
    expect(undecided.has('order.a.b')).toBe(true);
    expect(JSON.stringify(first.undecided)).not.toMatch(/example\.|\[object Object\]/);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rehearse-an-rules-')), 'rehearse.rules.json');
    expect(writeRulesFile(file, first.undecided).added).toBe(first.undecided.length);
    expect(readFileSync(file, 'utf8')).toContain('"column": "Email Address"');
    const second = await check(readRulesFile(file));
    expect(second.undecided).toEqual([]);
    expect(second.unknownRules).toEqual([]);
    expect((await check({ 'users.emial': 'email' })).unknownRules).toEqual(['users.emial']);
  });

  it('loads pseudonyms that fit the columns: domain e-mails, varchar(20), cidr, far dates, unique names per team', async () => {
    const rules = anonymizeRulesSchema.parse({
      'users.email': 'email', 'users.short_email': 'email', 'users.displayName': 'name', 'users.nickname': 'firstName', 'users.network': 'ip',
      'users.born': 'dateOfBirth', 'sessions.client_ip': 'ip', 'sessions.token': { rule: 'token', unique: true }, '"order"."Email Address"': 'email', 'order."a.b"': 'freeText',
      'attachments.body': 'freeText', 'attachments.signature': 'token', 'attachments.kind': 'keep', 'teams.name': 'keep',
    });
    const staging = await createDb('hostile_staging', ['test/fixtures/hostile/schema.sql']);
    await copyAll(prod, staging, rules);
    const [u] = await staging`SELECT count(*)::int AS n, count(DISTINCT ("teamId", "displayName"))::int AS pairs, max(length(short_email))::int AS short, bool_and(network = network(network)) AS networks FROM users`;
    const [p] = await prod`SELECT count(*)::int AS n FROM users`;
    expect(u).toMatchObject({ n: p!.n, pairs: p!.n, networks: true });
    expect(u!.short).toBeLessThanOrEqual(20);
    const prodEmails = ((await prod`SELECT email::text AS e FROM users`) as unknown as Array<{ e: string }>).map((r) => r.e);
    expect(prodEmails.length).toBe(p!.n);
    const text = await allText(staging, shape);
    expect(prodEmails.filter((e) => text.includes(e))).toEqual([]);
  }, 180_000);
});
