// The schema copy against a real production that has every kind of schema object
// (test/fixtures/schema-objects/production.sql): after `rehearse data --yes`, staging's catalog of
// the app schemas equals production's, no trigger fired during the load, sequences continue where
// they should, partitions hold their rows, and keys holding U+0001 were all copied.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogSummary, checkStagingCanHold, readProductionFacts } from '../src/data/schema-copy.js';
import { openProduction, openSnapshot } from '../src/db/production.js';
import { stagingSql } from '../src/db/staging.js';
import { scratchPostgres, type ScratchPostgres } from './helpers/demo.js';
import { rehearse, removeStack, testStack } from './helpers/stack.js';

const PROD_PORT = 33220;
const PROD_URL = `postgresql://scratch:scratch-pw@127.0.0.1:${PROD_PORT}/scratch`;
const SCHEMAS = ['public', 'app'];
const stack = testStack('ld-schema', 33200, {
  data: { schemas: SCHEMAS, maxUsers: 8, strict: false, seed: { deletedAtColumn: 'deleted_at', createdAtColumn: 'created_at' } },
  anonymize: { rules: { 'users.email': 'email', 'users.name': 'name', 'users.api_key': 'token', 'app.tickets.subject': 'keep', 'app.tickets.owner': 'keep' } },
});
let production: ScratchPostgres;
let run: { exitCode: number; stdout: string; stderr: string };

const staging = () => stagingSql(stack.config, { max: 1 });

beforeAll(async () => {
  await removeStack(stack);
  const setup = await rehearse(stack, ['setup', '--yes']);
  expect(setup.exitCode, setup.stderr).toBe(0);
  production = await scratchPostgres('ld-schema-prod', PROD_PORT, stack.config.images.postgres);
  await production.sql.unsafe(readFileSync(path.join(import.meta.dirname, 'fixtures/schema-objects/production.sql'), 'utf8'));
  run = await rehearse(stack, ['data', '--yes'], { PRODUCTION_DATABASE_URL: PROD_URL });
}, 600_000);

afterAll(async () => {
  await production?.stop();
  await removeStack(stack);
});

describe('the schema copy', () => {
  it('copies the subset and verifies it', () => {
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    const report = JSON.parse(readFileSync(/Report: (\S+\.json)/.exec(run.stdout)![1]!, 'utf8'));
    expect(report.ok).toBe(true);
    // The stand-in production is SQL_ASCII, staging UTF8: said, not hidden.
    expect(report.warnings.join('\n')).toMatch(/SQL_ASCII/);
  });

  it("staging's catalog of the app schemas equals production's, object by object", async () => {
    const sql = staging();
    try {
      const prod = await catalogSummary(production.sql, SCHEMAS);
      const stag = await catalogSummary(sql, SCHEMAS);
      // Every kind of object is in the fixture, so every list has something to compare.
      for (const [kind, lines] of Object.entries(prod)) expect(lines.length, kind).toBeGreaterThan(0);
      expect(prod.extensions).toEqual(['citext in extensions', 'pgcrypto in public']);
      expect(prod.views.join('\n')).toMatch(/app\.role_counts m populated/);
      expect(prod.views.join('\n')).toMatch(/app\.never_filled m:/);
      expect(prod.triggers.join('\n')).toMatch(/tickets_log .* D$/m);
      expect(prod.triggers.join('\n')).toMatch(/users_stamp .* A$/m);
      for (const kind of Object.keys(prod)) expect(stag[kind], kind).toEqual(prod[kind]);
    } finally {
      await sql.end({ timeout: 2 });
    }
  });

  it('no trigger fired during the load; sequences, partitions, policies and U+0001 keys are right', async () => {
    const sql = staging();
    try {
      const [audit] = await sql`SELECT count(*)::int AS n FROM app.audit_log`;
      expect(audit!.n).toBe(0);
      const [stamped] = await sql`SELECT count(*)::int AS n FROM users WHERE name = 'changed by a trigger'`;
      expect(stamped!.n).toBe(0);
      const [users] = await sql`SELECT count(*)::int AS n, max(id)::int AS max FROM users`;
      expect(users!.n).toBe(8);
      // Identity and serial sequences continue after the highest loaded id; a standalone one keeps production's position.
      const [identity] = await sql`SELECT last_value::int AS v FROM pg_sequences WHERE schemaname = 'public' AND sequencename = 'users_id_seq'`;
      expect(identity!.v).toBe(users!.max);
      const [ticketNo] = await sql`SELECT last_value::int AS v FROM app.ticket_no`;
      const [prodTicketNo] = await production.sql`SELECT last_value::int AS v FROM app.ticket_no`;
      expect(ticketNo!.v).toBe(prodTicketNo!.v);
      const [next] = await sql`SELECT nextval('app.ticket_no')::int AS v`;
      expect(next!.v).toBe(prodTicketNo!.v + 1);
      // Rows went through the partitioned parent into the right partitions.
      const parts = await sql`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM app.events GROUP BY 1 ORDER BY 1`;
      const prodParts = await production.sql`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM app.events GROUP BY 1 ORDER BY 1`;
      expect(parts.length).toBe(2);
      expect(parts).toEqual(prodParts);
      // Keys holding U+0001, one-column and composite, all copied.
      const tags = await sql`SELECT code FROM app.tags ORDER BY code`;
      expect(tags.map((t) => t.code)).toEqual(['a', 'a\u0001b', 'b']);
      const pairs = await sql`SELECT a, b FROM app.pairs ORDER BY a, b`;
      expect(pairs.map((p) => [p.a, p.b])).toEqual([['x', 'y'], ['x', 'y\u0001z'], ['x\u0001y', 'z']]);
      // The materialized view production had populated was refreshed from staging's rows; the other stays empty.
      const counts = await sql`SELECT role::text AS role, n::int AS n FROM app.role_counts ORDER BY 1`;
      const byRole = await sql`SELECT role::text AS role, count(*)::int AS n FROM users GROUP BY 1 ORDER BY 1`;
      expect(counts).toEqual(byRole);
      const [filled] = await sql`SELECT relispopulated AS p FROM pg_class WHERE oid = 'app.never_filled'::regclass`;
      expect(filled!.p).toBe(false);
      // The role the policy names exists in staging, without login.
      const [role] = await sql`SELECT rolcanlogin AS login FROM pg_roles WHERE rolname = 'ld_app_reader'`;
      expect(role).toEqual({ login: false });
      const [encoding] = await sql`SELECT pg_encoding_to_char(encoding) AS e FROM pg_database WHERE datname = current_database()`;
      expect(encoding!.e).toBe('UTF8');
    } finally {
      await sql.end({ timeout: 2 });
    }
  });

  it('refuses, before writing, an extension staging lacks and a staging encoding that differs from production', async () => {
    const prod = openProduction(PROD_URL, { statementTimeoutMs: 10_000, max: 2 });
    const snapshot = await openSnapshot(prod);
    const sql = staging();
    try {
      const facts = await readProductionFacts(snapshot.tx, SCHEMAS);
      expect(facts.extensions.map((e) => e.name)).toEqual(['pgcrypto', 'citext']);
      await expect(checkStagingCanHold(sql, facts, 'img')).resolves.toBeDefined();
      const needsMissing = { ...facts, extensions: [...facts.extensions, { name: 'ld_no_such_ext', schema: 'public', version: '1.0' }] };
      await expect(checkStagingCanHold(sql, needsMissing, 'rehearse-local/postgres:15')).rejects.toThrow(/ld_no_such_ext 1\.0.*Nothing was written/);
      // The SQL_ASCII stand-in production plays a staging made by an old setup; production says UTF8.
      const utf8Production = { ...facts, database: { ...facts.database, encoding: 'UTF8' } };
      await expect(checkStagingCanHold(production.sql, utf8Production, 'img')).rejects.toThrow(/encoding SQL_ASCII and production's UTF8/);
    } finally {
      await snapshot.close();
      await prod.end({ timeout: 2 });
      await sql.end({ timeout: 2 });
    }
  });
});
