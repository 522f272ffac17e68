// The load's parallel readers against real servers: each imports the main transaction's exported
// snapshot, so rows written to production after it (inserted, changed, deleted) are not seen by
// any reader; and a reader that fails ends the load with staging's one transaction rolled back.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadSubset } from '../../src/data/load.js';
import { openProduction, openSnapshot, openSnapshotReaders } from '../../src/db/production.js';
import { fingerprint } from '../../src/db/restore.js';
import { introspect } from '../../src/subset/introspect.js';
import { planSubset } from '../../src/subset/planner.js';
import { scratchPostgres, type ScratchPostgres } from '../helpers/demo.js';

const PROD_PORT = 46200;
const STAGING_PORT = 46201;
const url = (port: number) => `postgresql://scratch:scratch-pw@127.0.0.1:${port}/scratch`;
const SCHEMA = `
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, role text NOT NULL, created_at timestamptz NOT NULL, deleted_at timestamptz);
CREATE TABLE posts (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), body text);`;
const SECRET = 'sl-readers-test-secret-0123456789';
const RULES = { 'users.email': 'email' } as const;
const SEED = { table: 'users', idColumn: 'id', roleColumn: 'role', deletedAtColumn: 'deleted_at', createdAtColumn: 'created_at', learnerRole: 'LEARNER', minLearners: 2 };

let production: ScratchPostgres;
let staging: ScratchPostgres;

beforeAll(async () => {
  const { config } = loadConfig({ cwd: mkdtempSync(path.join(os.tmpdir(), 'rehearse-sl-')), env: { REHEARSE_IMAGES: 'local' } });
  [production, staging] = await Promise.all([scratchPostgres('sl-readers-prod', PROD_PORT, config.images.postgres), scratchPostgres('sl-readers-staging', STAGING_PORT, config.images.postgres)]);
  await production.sql.unsafe(SCHEMA);
  await production.sql.unsafe(`
    INSERT INTO users (email, role, created_at) SELECT format('p%s@example.org', g), (ARRAY['LEARNER', 'TEACHER'])[1 + g % 2], timestamptz '2024-01-01' + g * interval '1 day' FROM generate_series(1, 40) g;
    INSERT INTO posts (user_id, body) SELECT 1 + g % 40, 'post ' || g FROM generate_series(1, 4000) g;
    -- What COPY text escapes, and a NULL: the readers' rows are re-encoded as COPY text.
    INSERT INTO posts (user_id, body) VALUES (2, 'tab\there\nnew line \\N back\\slash \r cr \u00e9t\u00e9'), (3, NULL);`);
  await staging.sql.unsafe(SCHEMA);
  await staging.sql.unsafe(`INSERT INTO users (email, role, created_at) VALUES ('only-in-staging@staging.local', 'ADMIN', now()); INSERT INTO posts (user_id, body) VALUES (1, 'kept in staging');`);
}, 180_000);

afterAll(async () => {
  await Promise.all([production?.stop(), staging?.stop()]);
});

/** A snapshot on production, its plan, and two readers on it; `after` runs between the snapshot and the readers. */
async function snapshotAndReaders(after: () => Promise<unknown>) {
  const prod = openProduction(url(PROD_PORT), { statementTimeoutMs: 60_000, max: 2 });
  const snapshot = await openSnapshot(prod);
  const shape = await introspect(snapshot.tx, ['public']);
  const plan = await planSubset(snapshot.tx, shape, { maxUsers: 40, seed: SEED, caps: {}, defaultCap: 1000, maxDepth: 3 });
  await after();
  const readers = await openSnapshotReaders(url(PROD_PORT), snapshot, 2, 60_000);
  const stagingSql = postgres(url(STAGING_PORT), { max: 2, onnotice: () => undefined });
  return {
    snapshot,
    shape,
    plan,
    readers,
    stagingSql,
    end: async () => {
      await readers.abort();
      await snapshot.close();
      await Promise.all([prod.end({ timeout: 1 }), stagingSql.end({ timeout: 1 })]);
    },
  };
}

describe('parallel readers on one exported snapshot', () => {
  it('see production as it was at the snapshot: later inserts, changes and deletes are not copied', async () => {
    const s = await snapshotAndReaders(async () => {
      // Written after the snapshot was taken (and before the readers started).
      await production.sql`INSERT INTO posts (user_id, body) SELECT 1, 'after the snapshot' FROM generate_series(1, 100)`;
      await production.sql`UPDATE posts SET body = 'changed after the snapshot' WHERE id <= 50`;
      await production.sql`DELETE FROM posts WHERE id BETWEEN 51 AND 60`;
    });
    try {
      expect(s.snapshot.exportedId).toMatch(/^[0-9A-F]+-[0-9A-F]+/i);
      expect(s.readers.txs).toHaveLength(2);
      for (const tx of s.readers.txs) expect((await tx`SELECT count(*)::int AS n FROM posts`)[0]!.n).toBe(4002);
      expect((await production.sql`SELECT count(*)::int AS n FROM posts`)[0]!.n).toBe(4092);

      const load = await loadSubset(s.stagingSql, s.snapshot.tx, s.shape, s.plan, { schemas: ['public'], rules: RULES, secret: SECRET, readers: s.readers.txs });
      expect(load.tables.find((t) => t.table === 'posts')!.rows).toBe(4002);
      const posts = await staging.sql<Array<{ id: number; body: string | null }>>`SELECT id, body FROM posts ORDER BY id`;
      expect(posts).toHaveLength(4002);
      expect(posts.slice(4000)).toEqual(await production.sql`SELECT id, body FROM posts WHERE id > 4000 AND id <= 4002 ORDER BY id`);
      expect(posts[4000]!.body).toContain('\t');
      expect(posts.filter((p) => p.body?.includes('after the snapshot'))).toEqual([]);
      expect(posts.slice(0, 60).map((p) => p.body)).toEqual(Array.from({ length: 60 }, (_, i) => `post ${i + 1}`));
      const emails = await staging.sql<Array<{ email: string }>>`SELECT email FROM users`;
      expect(emails).toHaveLength(40);
      for (const e of emails) expect(e.email).toMatch(/@staging\.local$/);
    } finally {
      await s.end();
    }
  }, 120_000);

  it('a reader that fails ends the load, and staging keeps what it had', async () => {
    // The staging state from the previous test, as its fingerprint.
    const before = await fingerprint(staging.sql);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    const s = await snapshotAndReaders(async () => undefined);
    try {
      // A key production cannot read as an integer: the posts reader's query fails on the server
      // while the other reader reads users into staging's transaction.
      s.plan.selection.get('posts')!.set('not-an-id', false);
      const loading = loadSubset(s.stagingSql, s.snapshot.tx, s.shape, s.plan, { schemas: ['public'], rules: RULES, secret: SECRET, readers: s.readers.txs });
      await expect(loading).rejects.toThrow(/invalid input syntax for type integer/);
      expect(await fingerprint(staging.sql)).toEqual(before);
    } finally {
      await s.end();
    }
  }, 120_000);
});
