// The demo data generator: deterministic bytes, every role and edge case present, unique keys, and COPY
// text that a real PostgreSQL reads back to exactly the values that were meant.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { copyIn, loadDemoData } from '../../src/demo/demo-db.js';
import {
  COPY_NULL,
  DEMO_COLUMNS,
  DEMO_TABLES,
  TRICKY_TAGS,
  TRICKY_TEXTS,
  USER_ROLES,
  copyArray,
  copyStatement,
  copyText,
  tableChunks,
  type DemoTable,
} from '../../src/demo/generator.js';
import { decodeCopyRows, parseArrayLiteral, scratchPostgres, type ScratchPostgres } from '../helpers/demo.js';

const text = (table: DemoTable, users: number, seed: number) => [...tableChunks(table, { users, seed })].join('');
const digest = (s: string) => createHash('sha256').update(s).digest('hex');
const cols = (table: DemoTable) => DEMO_COLUMNS[table].map((c) => `"${c}"`).join(', ');

/** Decoded rows of a table as objects keyed by column name. */
function rowsOf(table: DemoTable, users: number, seed: number): Array<Record<string, string | null>> {
  const columns = DEMO_COLUMNS[table];
  return decodeCopyRows(text(table, users, seed)).map((fields) => {
    expect(fields, `${table}: field count`).toHaveLength(columns.length);
    return Object.fromEntries(columns.map((c, k) => [c, fields[k]!]));
  });
}

describe('determinism', () => {
  it('gives byte-identical COPY text for every table from the same seed and size', () => {
    for (const table of DEMO_TABLES) expect(digest(text(table, 300, 42)), table).toBe(digest(text(table, 300, 42)));
  });

  it('gives different data for every table from a different seed', () => {
    for (const table of DEMO_TABLES) expect(digest(text(table, 300, 43)), table).not.toBe(digest(text(table, 300, 42)));
  });

  it('does not depend on the clock or on other tables having been generated first', () => {
    const first = text('orders', 300, 42);
    text('users', 300, 42);
    text('order_items', 300, 42);
    expect(text('orders', 300, 42)).toBe(first);
  });

  it('streams in ~64 KiB chunks and starts at once even for a million users', () => {
    const chunks = [...tableChunks('users', { users: 3000, seed: 1 })];
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThanOrEqual(64 * 1024);
      expect(chunk.length).toBeLessThan(66 * 1024);
      expect(chunk.endsWith('\n')).toBe(true);
    }
    const started = performance.now();
    const counter = { rows: 0 };
    const first = tableChunks('activity_logs', { users: 1_000_000, seed: 1 }, counter).next();
    expect(first.done).toBe(false);
    expect(counter.rows).toBeLessThan(1000);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses sizes and seeds outside the supported range', () => {
    expect(() => tableChunks('users', { users: 5, seed: 1 }).next()).toThrow(/users must be/);
    expect(() => tableChunks('users', { users: 100, seed: -1 }).next()).toThrow(/seed must be/);
  });
});

describe('content', () => {
  const users = rowsOf('users', 5000, 1001);

  it('has every role, in a realistic mix', () => {
    const byRole = new Map<string, number>();
    for (const u of users) byRole.set(u.role!, (byRole.get(u.role!) ?? 0) + 1);
    expect([...byRole.keys()].sort()).toEqual([...USER_ROLES].sort());
    expect(byRole.get('LEARNER')! / users.length).toBeGreaterThan(0.5);
    expect(byRole.get('LEARNER')! / users.length).toBeLessThan(0.6);
    expect(byRole.get('ADMIN')!).toBeGreaterThan(20);
    const small = rowsOf('users', 10, 9); // the smallest size allowed
    expect(new Set(small.map((u) => u.role))).toEqual(new Set(USER_ROLES));
  });

  it('has unique ids and e-mails, and cuid-like ids', () => {
    for (const table of DEMO_TABLES) {
      const ids = rowsOf(table, 2000, 1001).map((r) => r.id!);
      expect(new Set(ids).size, table).toBe(ids.length);
      for (const id of ids.slice(0, 50)) expect(id).toMatch(/^c[0-9a-z]{24}$/);
    }
    const emails = users.map((u) => u.email);
    expect(new Set(emails).size).toBe(emails.length);
  });

  it('has realistic PII: plus-addressed and mixed-case e-mails, non-ASCII names, hashes', () => {
    const emails = users.map((u) => u.email!);
    expect(emails).toContain('Maria.Lopez+stories@Example.org');
    expect(emails.filter((e) => e.includes('+')).length).toBeGreaterThan(200);
    expect(emails.filter((e) => /[A-Z]/.test(e)).length).toBeGreaterThan(200);
    const names = users.map((u) => u.name).filter((n): n is string => n !== null);
    for (const expected of ['José Núñez', 'Zoë Müller', 'Łukasz Wiśniewski', '佐藤 花子', '김민준']) expect(names).toContain(expected);
    expect(names.filter((n) => /[^\x00-\x7f]/.test(n)).length).toBeGreaterThan(1000);
    expect(names.some((n) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(n))).toBe(true);
    expect(names.some((n) => /[\uac00-\ud7af]/.test(n))).toBe(true);
    expect(users.filter((u) => u.password !== null).length).toBeGreaterThan(0);
    expect(users.filter((u) => u.password !== null).every((u) => /^\$2b\$1[02]\$[./A-Za-z0-9]{53}$/.test(u.password!))).toBe(true);
  });

  it('puts PII in profiles, orders, donations, stories, tokens and logs too', () => {
    const profiles = rowsOf('profiles', 2000, 1001);
    expect(profiles.filter((p) => p.parentEmail && p.parentName).length).toBeGreaterThan(100);
    expect(profiles.some((p) => p.bio && /@.+\..+/.test(p.bio) && /\d{3}/.test(p.bio))).toBe(true);
    const orders = rowsOf('orders', 2000, 1001);
    const address = JSON.parse(orders.find((o) => o.shippingAddress)!.shippingAddress!);
    expect(Object.keys(address)).toEqual(['name', 'line1', 'line2', 'city', 'postalCode', 'country', 'phone']);
    const phones = new Set(orders.map((o) => o.phone).filter(Boolean).map((p) => p!.replace(/\d/g, '9')));
    expect(phones.size).toBeGreaterThan(10); // many formats
    const donations = rowsOf('donations', 2000, 1001);
    expect(donations.some((d) => d.message && /@/.test(d.message))).toBe(true);
    const logs = rowsOf('activity_logs', 2000, 1001);
    expect(logs.some((l) => l.ipAddress && /^\d+\.\d+\.\d+\.\d+$/.test(l.ipAddress))).toBe(true);
    expect(logs.some((l) => l.ipAddress?.includes(':'))).toBe(true);
    expect(logs.some((l) => l.metadata?.includes('"email"'))).toBe(true);
    const accounts = rowsOf('accounts', 2000, 1001);
    const google = accounts.find((a) => a.provider === 'google')!;
    expect(google.access_token).toMatch(/^ya29\./);
    expect(JSON.parse(Buffer.from(google.id_token!.split('.')[1]!, 'base64url').toString()).email).toMatch(/@/);
    const stories = rowsOf('stories', 2000, 1001);
    expect(stories.some((s) => s.authorName && s.authorAge && s.authorLocation)).toBe(true);
  });

  it('has the edge cases: soft-deleted learners, inactive users, guest orders, anonymous donations, empty arrays', () => {
    const deleted = users.filter((u) => u.deletedAt !== null);
    expect(deleted.length / users.length).toBeGreaterThan(0.02);
    expect(deleted.length / users.length).toBeLessThan(0.05);
    expect(deleted.some((u) => u.role === 'LEARNER')).toBe(true);
    expect(rowsOf('orders', 2000, 1001).some((o) => o.userId === null)).toBe(true);
    expect(rowsOf('donations', 2000, 1001).some((d) => d.donorId === null && d.anonymous === 't' && d.donorEmail)).toBe(true);
    const stories = rowsOf('stories', 2000, 1001);
    expect(stories.some((s) => s.tags === '{}')).toBe(true);
    expect(stories.some((s) => s.tags === null)).toBe(true);
    expect(rowsOf('activity_logs', 2000, 1001).some((l) => l.userId === null)).toBe(true);
  });

  it('leaves inactive users without a single row anywhere else', () => {
    const small = rowsOf('users', 2000, 1001);
    const inactive = small[7]!.id!; // slot 7 is the fixed inactive learner
    expect(small[7]!.role).toBe('LEARNER');
    const everything = DEMO_TABLES.filter((t) => t !== 'users').map((t) => text(t, 2000, 1001)).join('');
    expect(everything).not.toContain(inactive);
    // …while most users do have activity
    const active = small.filter((u) => everything.includes(u.id!)).length;
    expect(active / small.length).toBeGreaterThan(0.85);
  });
});

describe('COPY text escaping', () => {
  it('escapes backslash, tab, newline and carriage return, and writes NULL as \\N', () => {
    expect(copyText(null)).toBe('\\N');
    expect(copyText('\\N')).toBe('\\\\N');
    expect(copyText('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyText('')).toBe('');
    expect(copyText('\\.')).toBe('\\\\.');
  });

  it('quotes array elements that array_in would split, trim or read as NULL', () => {
    expect(copyArray([])).toBe('{}');
    expect(copyArray(null)).toBe(COPY_NULL);
    expect(copyArray(['plain', 'two words', 'NULL', 'null', '', 'a,b', '{x}', 'q"uote', 'back\\slash'])).toBe(
      '{plain,"two words","NULL","null","","a,b","{x}","q\\\\"uote","back\\\\\\\\slash"}',
    );
  });
});

describe('against a real PostgreSQL', () => {
  let pg: ScratchPostgres;
  const image = loadConfig({ cwd: process.cwd(), env: { REHEARSE_IMAGES: 'local' } }).config.images.postgres;

  beforeAll(async () => {
    pg = await scratchPostgres('demo-copy', 22534, image);
  });
  afterAll(() => pg?.stop());

  it('reads tricky text, arrays and JSON back exactly as they were written', async () => {
    const { sql } = pg;
    await sql`CREATE TABLE tricky (n int PRIMARY KEY, t text, a text[], j jsonb)`;
    const values = [...TRICKY_TEXTS, 'José Núñez', '佐藤 花子', 'Maria.Lopez+stories@Example.org', '\\', '\t', '\n', '\r\n', ' leading', 'trailing ', 'ends in \\N'];
    const arrays: Array<string[] | null> = [values, [], null, ['NULL'], ['a b', ' c ', '"', '\\', '{', '}', ',']];
    const writable = await sql`COPY tricky (n, t, a, j) FROM STDIN`.writable();
    let k = 0;
    for (const v of values) {
      const a = arrays[k % arrays.length]!;
      writable.write(`${k}\t${copyText(v)}\t${copyArray(a)}\t${copyText(JSON.stringify({ v, nested: { list: [v, null] } }))}\n`);
      k++;
    }
    writable.write(`${k}\t\\N\t\\N\t\\N\n`);
    await new Promise<void>((resolve, reject) => writable.end((error?: Error | null) => (error ? reject(error) : resolve())));
    const rows = await sql<{ n: number; t: string | null; a: string[] | null; j: unknown }[]>`SELECT n, t, a, j FROM tricky ORDER BY n`;
    expect(rows).toHaveLength(values.length + 1);
    for (const [i, v] of values.entries()) {
      expect(rows[i]!.t).toBe(v);
      expect(rows[i]!.a).toEqual(arrays[i % arrays.length]);
      expect(rows[i]!.j).toEqual({ v, nested: { list: [v, null] } });
    }
    expect(rows[values.length]).toEqual({ n: values.length, t: null, a: null, j: null });
  });

  it('loads every table, and every stored value equals the generated one', async () => {
    const { sql } = pg;
    const data = { users: 300, seed: 77 };
    const result = await loadDemoData(sql, data);
    for (const table of DEMO_TABLES) {
      const generated = new Map(rowsOf(table, data.users, data.seed).map((r) => [r.id!, r]));
      expect(generated.size, table).toBeGreaterThan(0);
      expect(result.counts[table], table).toBe(generated.size);
      const columns = await sql<{ column_name: string; data_type: string }[]>`
        SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ${table}`;
      const types = new Map(columns.map((c) => [c.column_name, c.data_type]));
      // Render each column the way the generator writes it, so the comparison is exact.
      const exprs = DEMO_COLUMNS[table].map((c) => {
        const q = `"${c}"`;
        const type = types.get(c);
        if (type === undefined) throw new Error(`${table}.${c} is not in the schema`);
        if (type.startsWith('timestamp')) return `to_char(${q}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;
        if (type === 'boolean') return `CASE WHEN ${q} THEN 't' WHEN NOT ${q} THEN 'f' END`;
        if (type === 'ARRAY') return `array_to_json(${q})::text`;
        return `${q}::text`;
      });
      const stored = await sql.unsafe(`SELECT ${exprs.join(', ')} FROM "${table}"`).values();
      expect(stored.length, table).toBe(generated.size);
      for (const row of stored as Array<Array<string | null>>) {
        const mine = generated.get(row[0]!)!;
        expect(mine, `${table} ${row[0]}`).toBeDefined();
        DEMO_COLUMNS[table].forEach((c, k) => {
          const type = types.get(c);
          const want = mine[c] ?? null;
          const got = row[k] ?? null;
          if (type === 'ARRAY') expect(got === null ? null : JSON.parse(got), `${table}.${c}`).toEqual(want === null ? null : parseArrayLiteral(want));
          else if (type === 'jsonb') expect(got === null ? null : JSON.parse(got), `${table}.${c}`).toEqual(want === null ? null : JSON.parse(want));
          else expect(got, `${table}.${c} of ${row[0]}`).toBe(want);
        });
      }
    }
    // Story 0 carries every awkward array element; PostgreSQL must hold exactly those strings.
    const [tricky] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM stories WHERE tags = ${sql.array([...TRICKY_TAGS])}::text[] AND genres = tags`;
    expect(tricky!.n).toBe(1);
  });

  it('fails fast with the server\'s own message when the server rejects COPY data', async () => {
    const { sql } = pg;
    await sql`CREATE TABLE two_columns (a text, b text)`;
    async function* oneChunk() {
      yield 'x\ty\tz\n'; // one field too many, rejected after the stream has ended
    }
    const started = performance.now();
    await expect(copyIn(sql, 'COPY two_columns (a, b) FROM STDIN', oneChunk(), undefined)).rejects.toThrow(/extra data after last expected column/);
    expect(performance.now() - started).toBeLessThan(5000);
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM two_columns`;
    expect(row!.n).toBe(0);
  });

  it('writes every column of every table in sql/demo/schema.sql', async () => {
    const { sql } = pg;
    await loadDemoData(sql, { users: 10, seed: 1 }); // the smallest size allowed
    const columns = await sql<{ table_name: string; columns: string[] }[]>`
      SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position) AS columns
      FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN (SELECT tablename FROM pg_tables WHERE schemaname = 'public')
      GROUP BY table_name ORDER BY table_name`;
    expect(columns.map((c) => c.table_name).sort()).toEqual([...DEMO_TABLES].sort());
    for (const { table_name, columns: actual } of columns) expect(DEMO_COLUMNS[table_name as DemoTable], table_name).toEqual(actual);
    for (const table of DEMO_TABLES) expect(copyStatement(table)).toBe(`COPY "${table}" (${cols(table)}) FROM STDIN`);
  });
});
