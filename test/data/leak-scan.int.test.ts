// The leak scan against real PostgreSQL: a production of 31 people (test/fixtures/leak-scan-production.sql)
// copied into a real staging stack by `rehearse data`, then production names, e-mails and phones
// planted into every kind of column staging has (free text, nested jsonb, text[], a domain-typed
// column without a rule, a column marked keep, a varchar, a table without a primary key). The
// scan must count exactly what was planted, say where and what kind, never the value, and pass
// again once the plants are gone; a rule that keeps a name must fail the step and restore staging.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectiveRules, loadConfig } from '../../src/config.js';
import { detectorProposals } from '../../src/data/guards.js';
import { describeLeaks, scanForLeaks, type LeakScanResult } from '../../src/data/leak-scan.js';
import { openProduction, openSnapshot } from '../../src/db/production.js';
import { fingerprint } from '../../src/db/restore.js';
import { stagingSql } from '../../src/db/staging.js';
import { introspect } from '../../src/subset/introspect.js';
import { scratchPostgres, type ScratchPostgres } from '../helpers/demo.js';
import { rehearse, removeStack, testStack } from '../helpers/stack.js';

const PRODUCTION_PORT = 36020;
const RULES = {
  'users.email': { rule: 'email', unique: true },
  'users.name': 'name',
  'profiles.phone': 'phone',
  'profiles.bio': 'freeText',
  'profiles.nickName': 'keep',
};
// Strict mode off: some columns deliberately have no rule, and the scan (not the rules) must catch what they carry.
const stack = testStack('lk', 36000, { data: { strict: false }, anonymize: { builtinRules: false, rules: RULES } });
const productionEnv = { PRODUCTION_DATABASE_URL: `postgresql://scratch:scratch-pw@127.0.0.1:${PRODUCTION_PORT}/scratch` };
let production: ScratchPostgres;

interface Person {
  id: string;
  email: string;
  name: string;
  phone: string;
}

beforeAll(async () => {
  await removeStack(stack);
  const setup = await rehearse(stack, ['setup', '--yes']);
  expect(setup.exitCode, setup.stderr).toBe(0);
  production = await scratchPostgres('lk-production', PRODUCTION_PORT, stack.config.images.postgres);
  await production.sql.unsafe(readFileSync(path.join(import.meta.dirname, '../fixtures/leak-scan-production.sql'), 'utf8'));
});

afterAll(async () => {
  await production?.stop();
  await removeStack(stack);
});

describe('the leak scan', () => {
  it('passes a clean copy, counts exactly the production values planted in every column kind, reports where and what, never the value', async () => {
    const r = await rehearse(stack, ['data', '--yes'], productionEnv);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(readFileSync(/Report: (\S+\.json)/.exec(r.stdout)![1]!, 'utf8'));
    expect(report.leakScan.ok).toBe(true);
    const dictionary = (report.leakScan.data as LeakScanResult).dictionary;
    // The whole production was read (31 people, not the 10 copied), for every kind this schema has.
    expect(dictionary.valuesRead).toBeGreaterThanOrEqual(90);
    expect(Object.keys(dictionary.byKind).sort()).toEqual(['email', 'fullName', 'name', 'phone']);

    const { config } = loadConfig({ cwd: stack.workDir, env: { ...stack.env, ...productionEnv } });
    const prod = openProduction(productionEnv.PRODUCTION_DATABASE_URL, { statementTimeoutMs: 60_000, max: 1 });
    const snapshot = await openSnapshot(prod);
    const sql = stagingSql(config, { max: 2 });
    try {
      const shape = await introspect(snapshot.tx, ['public']);
      const rules = effectiveRules(config);
      const proposals = await detectorProposals(snapshot.tx, shape, new Map());
      const scan = () => scanForLeaks(sql, snapshot.tx, shape, { schemas: ['public'], rules, proposals, stagingEmailDomain: 'staging.local' });
      expect((await scan()).total).toBe(0);

      const people = (await snapshot.tx`SELECT u.id, u.email, u.name, p.phone FROM users u JOIN profiles p ON p."userId" = u.id ORDER BY u.id`) as unknown as Person[];
      const copied = new Set((await sql`SELECT id FROM users`).map((u) => u.id as string));
      // Mostly people who were never copied: the dictionary is the whole production, not the subset.
      const outside = people.filter((p) => !copied.has(p.id));
      expect(outside.length).toBeGreaterThanOrEqual(6);
      const [a, b, c, d, e, f] = outside as [Person, Person, Person, Person, Person, Person];
      const own = people.find((p) => copied.has(p.id))!;
      const profiles = (await sql`SELECT id FROM profiles ORDER BY id LIMIT 3`).map((x) => x.id as string);
      const notes = (await sql`SELECT id FROM notes ORDER BY id LIMIT 8`).map((x) => x.id as number);
      const [audit] = await sql`SELECT "userId", payload FROM audit ORDER BY "userId" LIMIT 1`;
      expect(profiles).toHaveLength(3);
      expect(notes).toHaveLength(8);
      const firstName = d.name.split(' ')[0]!;
      const lastName = e.name.split(' ')[1]!;
      // +44 20 7946 1037 written the local way: 020-7946-1037.
      const localPhone = `0${e.phone.replace(/\D/g, '').slice(2).replace(/^(\d{2})(\d{4})(\d{4})$/, '$1-$2-$3')}`;

      const before = await fingerprint(sql);
      // Saved as JSON and put back by the server, so every value returns byte for byte.
      const [saved] = await sql`SELECT (SELECT jsonb_agg(p) FROM profiles p WHERE id IN ${sql(profiles)}) AS profiles, (SELECT jsonb_agg(n) FROM notes n WHERE id IN ${sql(notes)}) AS notes`;
      const [savedUser] = await sql`SELECT name FROM users WHERE id = ${own.id}`;
      await sql.begin(async (tx) => {
        await tx`UPDATE profiles SET bio = ${`Hi, I am ${a.name}. Reach me at user-0a1b2c@staging.local`} WHERE id = ${profiles[0]!}`;
        await tx`UPDATE notes SET meta = ${tx.json({ source: 'web', thread: { replies: [{ from: b.name, at: 3 }] } })} WHERE id = ${notes[0]!}`;
        await tx`UPDATE notes SET tags = ${['reading', c.email.toUpperCase()]} WHERE id = ${notes[1]!}`;
        await tx`UPDATE notes SET "internalRef" = ${`ref/${firstName}/2024`} WHERE id = ${notes[2]!}`;
        await tx`UPDATE profiles SET "nickName" = ${lastName} WHERE id = ${profiles[1]!}`;
        await tx`UPDATE notes SET title = ${`Call ${localPhone} after lunch`} WHERE id = ${notes[3]!}`;
        await tx`UPDATE audit SET payload = ${`mail from <${f.email}>.`} WHERE "userId" = ${audit!.userId}`;
        await tx`UPDATE users SET name = ${own.name} WHERE id = ${own.id}`;
        // Never counted: empty, blank, 'infinity', NULL, staging's own domain, common words, short words.
        await tx`UPDATE notes SET title = '', body = '   ', "internalRef" = 'infinity', tags = '{}' WHERE id = ${notes[4]!}`;
        await tx`UPDATE notes SET body = 'Will May Page read with Grace and Hope?', meta = NULL WHERE id = ${notes[5]!}`;
        await tx`UPDATE profiles SET bio = NULL, "nickName" = 'someone@staging.local' WHERE id = ${profiles[2]!}`;
        await tx`UPDATE notes SET body = ${`${a.name.slice(0, 2)} ok`} WHERE id = ${notes[6]!}`;
      });

      const found = await scan();
      // The table has no key: the hit names the row's physical place (ctid), which the update moved.
      const [moved] = await sql`SELECT ctid::text AS ctid FROM audit WHERE "userId" = ${audit!.userId}`;
      expect(found.perColumn).toEqual({
        'profiles.bio': 1,
        'notes.meta': 1,
        'notes.tags': 1,
        'notes.internalRef': 1,
        'profiles.nickName': 1,
        'notes.title': 1,
        'audit.payload': 1,
        'users.name': 1,
      });
      expect(found.total).toBe(8);
      const hit = (column: string) => found.hits.filter((h) => h.column === column);
      expect(hit('profiles.bio')).toEqual([{ column: 'profiles.bio', key: { id: profiles[0] }, kinds: ['fullName', 'name'] }]);
      expect(hit('notes.meta')).toEqual([{ column: 'notes.meta', key: { id: String(notes[0]) }, kinds: ['fullName', 'name'] }]);
      // An e-mail made of a name gives the name away too.
      expect(hit('notes.tags')[0]!.kinds).toEqual(['email', 'fullName', 'name']);
      expect(hit('notes.internalRef')[0]!.kinds).toEqual(['name']);
      expect(hit('profiles.nickName')[0]!.kinds).toEqual(['name']);
      expect(hit('notes.title')).toEqual([{ column: 'notes.title', key: { id: String(notes[3]) }, kinds: ['phone'] }]);
      expect(hit('audit.payload')).toEqual([{ column: 'audit.payload', key: { ctid: moved!.ctid }, kinds: ['email', 'fullName', 'name'] }]);
      expect(hit('users.name')).toEqual([{ column: 'users.name', key: { id: own.id }, kinds: ['fullName', 'name'] }]);
      // Where and what, never the value.
      const said = `${JSON.stringify(found)}\n${describeLeaks(found)}`.toLowerCase();
      const planted = [a.name, b.name, c.email, firstName, lastName, e.phone, localPhone, f.email, own.name, ...a.name.split(' '), ...b.name.split(' ')];
      for (const value of planted) expect(said, 'a planted value appears in the report').not.toContain(value.toLowerCase());
      expect(describeLeaks(found)).toContain('audit.payload: 1 row (e-mail, full name, first or last name), e.g. ctid=');

      // Back as it was: the same staging passes again.
      await sql.begin(async (tx) => {
        await tx`UPDATE profiles p SET bio = r.bio, "nickName" = r."nickName" FROM jsonb_populate_recordset(NULL::profiles, ${tx.json(saved!.profiles)}) r WHERE p.id = r.id`;
        await tx`UPDATE notes n SET title = r.title, body = r.body, meta = r.meta, tags = r.tags, "internalRef" = r."internalRef" FROM jsonb_populate_recordset(NULL::notes, ${tx.json(saved!.notes)}) r WHERE n.id = r.id`;
        await tx`UPDATE audit SET payload = ${audit!.payload} WHERE "userId" = ${audit!.userId}`;
        await tx`UPDATE users SET name = ${savedUser!.name} WHERE id = ${own.id}`;
      });
      expect(await fingerprint(sql)).toEqual(before);
      expect((await scan()).total).toBe(0);
    } finally {
      await snapshot.close();
      await prod.end({ timeout: 2 });
      await sql.end({ timeout: 2 });
    }
  });

  it('fails the data step when a rule keeps a production name, and staging is restored as it was', async () => {
    const keepNames = sibling('keep-names', { data: { strict: false }, anonymize: { builtinRules: false, rules: { ...RULES, 'users.name': 'keep' } } });
    const staging = stagingSql(stack.config, { max: 1 });
    try {
      const before = await fingerprint(staging);
      const r = await rehearse(keepNames, ['data', '--yes'], productionEnv);
      expect(r.exitCode, r.stderr + r.stdout).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out).toMatch(/leak scan: no production PII value in staging: \d+ row\(s\) hold production PII: users\.name: \d+ rows \(full name, first or last name\)/);
      expect(out).toContain('so staging was restored from');
      const names = (await production.sql`SELECT name FROM users`).map((u) => u.name as string);
      expect(names.length).toBe(31);
      for (const name of names) expect(out).not.toContain(name);
      expect(await fingerprint(staging)).toEqual(before);
    } finally {
      await staging.end({ timeout: 2 });
    }
  });
});

/** A second workspace on the same staging stack (same project, ports and secrets), with its own settings. */
function sibling(name: string, extra: Record<string, unknown>) {
  const dir = path.join(stack.workDir, name);
  mkdirSync(dir, { recursive: true });
  const base = JSON.parse(readFileSync(path.join(stack.workDir, 'rehearse.config.json'), 'utf8'));
  writeFileSync(path.join(dir, 'rehearse.config.json'), JSON.stringify({ ...base, ...extra, workDir: stack.workDir }));
  copyFileSync(path.join(stack.workDir, '.env.staging'), path.join(dir, '.env.staging'));
  chmodSync(path.join(dir, '.env.staging'), 0o600);
  return { workDir: dir, env: stack.env };
}
