// `rehearse data` against real databases: the demo production (1001 Stories shape) and a second
// schema of our own, into a real staging stack. Production is only read; staging is replaced only
// after a backup, in one transaction, and checked afterwards.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { Listr } from 'listr2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGING_PASSWORD_HASH } from '../src/anonymize/index.js';
import { effectiveRules, loadConfig } from '../src/config.js';
import type { LeakScanResult } from '../src/data/leak-scan.js';
import { verifyLoad } from '../src/data/verify.js';
import { demoConnectionUrl, demoSql } from '../src/demo/demo-db.js';
import { openProduction, openSnapshot } from '../src/db/production.js';
import { fingerprint } from '../src/db/restore.js';
import { stagingSql } from '../src/db/staging.js';
import { introspect } from '../src/subset/introspect.js';
import { planSubset } from '../src/subset/planner.js';
import { resolveSeed } from '../src/subset/seed.js';
import { dataTasks, newDataContext } from '../tasks/data-tasks.js';
import { removeDemo, scratchPostgres, type ScratchPostgres } from './helpers/demo.js';
import { rehearse, removeStack, testStack } from './helpers/stack.js';

const stack = testStack('data', 25000, { demo: { port: 25010 } });
const FIXTURE_PORT = 25020;
let fixture: ScratchPostgres;
const staging = () => stagingSql(stack.config, { max: 1 });
// Backups and reports; not the marker of a step that did not finish (it is how the wizard resumes).
const backups = () => readdirSync(path.join(stack.workDir, 'staging-backups')).filter((f) => !f.endsWith('-in-progress')).sort();

async function withSql<T>(sql: ReturnType<typeof staging>, fn: (sql: ReturnType<typeof staging>) => Promise<T>): Promise<T> {
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 2 });
  }
}

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

/** Every e-mail address of production, lower-cased. */
async function productionEmails(sql: ReturnType<typeof staging>, query: string): Promise<Set<string>> {
  const rows = (await sql.unsafe(query)) as unknown as Array<{ e: string }>;
  return new Set(rows.map((r) => r.e.toLowerCase()));
}

/** The whole staging database as text (pg_dump inside its container). */
async function stagingDumpText(): Promise<string> {
  const { stdout } = await execa('docker', ['exec', `${stack.config.project}-db-staging`, 'pg_dump', '-U', 'staging_user', '-d', 'staging_db', '--data-only']);
  return stdout.toLowerCase();
}

beforeAll(async () => {
  await removeStack(stack);
  await removeDemo(stack.config);
  const setup = await rehearse(stack, ['setup', '--yes']);
  expect(setup.exitCode, setup.stderr).toBe(0);
  const demo = await rehearse(stack, ['demo', '--users', '300', '--seed', '7']);
  expect(demo.exitCode, demo.stderr).toBe(0);
  fixture = await scratchPostgres('data-fixture', FIXTURE_PORT, stack.config.images.postgres);
  await fixture.sql.unsafe(readFileSync(path.join(import.meta.dirname, 'fixtures/other-schema.sql'), 'utf8'));
});

afterAll(async () => {
  await fixture?.stop();
  await removeDemo(stack.config);
  await removeStack(stack);
});

describe('rehearse data on the demo production', () => {
  it('--dry-run prints the plan and leaves both databases and the workspace as they were', async () => {
    const before = { staging: await withSql(staging(), fingerprint), production: await withSql(demoSql(stack.config), fingerprint), files: backups() };
    const r = await rehearse(stack, ['data', '--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('Dry run: nothing was written.');
    expect(r.stdout).toMatch(/TABLE\s+ROWS\s+EST\. SIZE\s+WHY/);
    expect(r.stdout).toMatch(/users\s+\d+/);
    expect(r.stdout).toMatch(/email\s+.*users\.email/);
    expect(await withSql(staging(), fingerprint)).toEqual(before.staging);
    expect(await withSql(demoSql(stack.config), fingerprint)).toEqual(before.production);
    expect(backups()).toEqual(before.files);
  });

  it('copies an FK-complete, anonymized subset with every role, and the report matches staging', async () => {
    const r = await rehearse(stack, ['data', '--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    const reportFile = /Report: (\S+\.json)/.exec(r.stdout)![1]!;
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(report.ok).toBe(true);
    expect(report.restoreProof.ok).toBe(true);
    expect(report.seedUsers).toBe(10);

    const tables = Object.entries(report.rowsPerTable as Record<string, number>);
    expect(tables.length).toBeGreaterThan(10);
    await withSql(staging(), async (sql) => {
      for (const [table, rows] of tables) {
        const [row] = (await sql.unsafe(`SELECT count(*)::int AS n FROM "${table}"`)) as unknown as Array<{ n: number }>;
        expect(row!.n, table).toBe(rows);
      }
      // Integrity, independently of rehearse's own checks: every FK constraint exists and is validated.
      const fks = await sql`SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT convalidated)::int AS invalid FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`;
      expect(fks[0]).toMatchObject({ invalid: 0 });
      expect(fks[0]!.n).toBeGreaterThan(20);
      const roles = await sql`SELECT DISTINCT role::text AS role FROM users ORDER BY 1`;
      expect(roles.map((x) => x.role)).toEqual(['ADMIN', 'CUSTOMER', 'INSTITUTION', 'LEARNER', 'TEACHER', 'VOLUNTEER']);
      const [learners] = await sql`SELECT count(*)::int AS n FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NULL`;
      expect(learners!.n).toBeGreaterThanOrEqual(2);
      const emails = await sql`SELECT email FROM users`;
      expect(emails.length).toBeGreaterThanOrEqual(10);
      for (const e of emails) expect(e.email).toMatch(/@staging\.local$/);
      const passwords = await sql`SELECT DISTINCT password FROM users WHERE password IS NOT NULL`;
      expect(passwords.map((p) => p.password)).toEqual([STAGING_PASSWORD_HASH]);
    });

    // No production e-mail address appears anywhere in staging's data.
    const prodEmails = await withSql(demoSql(stack.config), (sql) =>
      productionEmails(sql, `SELECT email AS e FROM users UNION SELECT "donorEmail" FROM donations UNION SELECT email FROM orders WHERE email IS NOT NULL UNION SELECT "parentEmail" FROM profiles WHERE "parentEmail" IS NOT NULL`),
    );
    expect(prodEmails.size).toBeGreaterThan(10);
    const dump = await stagingDumpText();
    const leaked = [...prodEmails].filter((e) => dump.includes(e));
    expect(leaked).toEqual([]);
  });

  it('the leak scan finds a production value left in staging, row by row, across rows and inside free text', async () => {
    const { config } = loadConfig({ cwd: stack.workDir, env: stack.env });
    const prod = openProduction(demoConnectionUrl(config), { statementTimeoutMs: 60_000, max: 1 });
    const snapshot = await openSnapshot(prod);
    const sql = staging();
    try {
      const shape = await introspect(snapshot.tx, config.data.schemas);
      const d = config.data;
      const seed = await resolveSeed(snapshot.tx, shape, d.seed);
      const plan = await planSubset(snapshot.tx, shape, { maxUsers: d.maxUsers, seed, caps: d.caps, defaultCap: d.defaultCap, maxDepth: d.maxDepth });
      const verify = () => verifyLoad(sql, snapshot.tx, shape, plan, { schemas: d.schemas, rules: effectiveRules(config), seed, stagingEmailDomain: 'staging.local' });
      const leakCheck = async () => (await verify()).find((c) => c.name.startsWith('leak scan'))!;
      expect((await leakCheck()).ok).toBe(true);

      const [a, b] = await sql`SELECT id, name, email FROM users ORDER BY id LIMIT 2`;
      const original = await snapshot.tx`SELECT id, name, email FROM users WHERE id IN (${a!.id}, ${b!.id}) ORDER BY id`;
      const [outsider] = await snapshot.tx`SELECT email FROM users WHERE id <> ${a!.id} AND id <> ${b!.id} ORDER BY id LIMIT 1`;
      const [note] = await sql`SELECT id, message FROM notifications WHERE message IS NOT NULL LIMIT 1`;
      try {
        // a's own name and e-mail back (row by row); b holds somebody else's production e-mail
        // (across rows); a notification quotes a production address (free text).
        await sql`UPDATE users SET name = ${original[0]!.name}, email = ${original[0]!.email} WHERE id = ${a!.id}`;
        await sql`UPDATE users SET email = ${outsider!.email} WHERE id = ${b!.id}`;
        await sql`UPDATE notifications SET message = ${`write to ${original[1]!.email} today`} WHERE id = ${note!.id}`;
        const leak = await leakCheck();
        expect(leak.ok).toBe(false);
        const data = leak.data as LeakScanResult;
        // Rows with a hit, per column: a's name; a's own e-mail and the outsider's; the quoted address.
        expect(data.perColumn['users.name']).toBe(1);
        expect(data.perColumn['users.email']).toBe(2);
        expect(data.perColumn['notifications.message']).toBe(1);
        expect(data.hits.find((h) => h.column === 'notifications.message')).toMatchObject({ key: { id: note!.id }, kinds: expect.arrayContaining(['email']) });
        expect(leak.detail).toContain('users.email: 2 rows (e-mail');
        expect(leak.detail).not.toContain(original[0]!.email);
      } finally {
        await sql`UPDATE users SET name = ${a!.name}, email = ${a!.email} WHERE id = ${a!.id}`;
        await sql`UPDATE users SET email = ${b!.email} WHERE id = ${b!.id}`;
        await sql`UPDATE notifications SET message = ${note!.message} WHERE id = ${note!.id}`;
      }
      expect((await leakCheck()).ok).toBe(true);
    } finally {
      await snapshot.close();
      await prod.end({ timeout: 2 });
      await sql.end({ timeout: 2 });
    }
  });

  it('refuses every write through the production connection', async () => {
    const prod = openProduction(demoConnectionUrl(stack.config), { statementTimeoutMs: 10_000, max: 1 });
    try {
      await expect(prod`INSERT INTO schools (id, name, country, "updatedAt") VALUES ('x', 'x', 'x', now())`).rejects.toThrow(/read-only transaction/);
      await expect(prod`UPDATE users SET role = 'CUSTOMER'`).rejects.toThrow(/read-only transaction/);
      await expect(prod`DELETE FROM sessions`).rejects.toThrow(/read-only transaction/);
      await expect(prod`CREATE TABLE rehearse_probe (id int)`).rejects.toThrow(/read-only transaction/);
      const snapshot = await openSnapshot(prod);
      await expect(snapshot.tx`UPDATE users SET name = 'x'`).rejects.toThrow(/read-only transaction/);
      await snapshot.close();
    } finally {
      await prod.end({ timeout: 2 });
    }
  });

  it('a failure injected in the middle of the load leaves staging exactly as it was', async () => {
    const before = await withSql(staging(), fingerprint);
    const { config } = loadConfig({ cwd: stack.workDir, env: stack.env });
    const ctx = newDataContext(config, new AbortController().signal, { failAfterTable: 'reading_progress' });
    await expect(new Listr(dataTasks(), { ctx, renderer: 'silent', exitOnError: true }).run()).rejects.toThrow(/rolled back: injected failure after loading reading_progress\. Then staging's fingerprint .* equals the one taken before the load: staging is as it was/);
    const { closeDataContext } = await import('../tasks/data-tasks.js');
    await closeDataContext(ctx);
    expect(await withSql(staging(), fingerprint)).toEqual(before);
  });

  it('restore brings back exactly what was backed up', async () => {
    const backup = await rehearse(stack, ['data', 'backup']);
    expect(backup.exitCode, backup.stderr).toBe(0);
    const file = /Backup: (\S+\.sql\.gz)/.exec(backup.stdout)![1]!;
    const saved = await withSql(staging(), fingerprint);
    await withSql(staging(), async (sql) => {
      await sql`DELETE FROM reading_progress`;
      await sql`UPDATE users SET name = 'changed'`;
      await sql`CREATE TABLE stray (id int)`;
    });
    expect(await withSql(staging(), fingerprint)).not.toEqual(saved);
    const refused = await rehearse(stack, ['data', 'restore', file]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const r = await rehearse(stack, ['data', 'restore', file, '--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await withSql(staging(), fingerprint)).toEqual(saved);
  });

  it('strict mode stops on PII columns without a rule, before writing anything', async () => {
    const strict = sibling('strict', { anonymize: { builtinRules: false, rules: { 'users.email': 'email' } } });
    const before = { staging: await withSql(staging(), fingerprint), files: backups() };
    const r = await rehearse(strict, ['data', '--yes']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/column\(s\) that can hold text have no anonymization decision; nothing was written/);
    expect(r.stderr).toContain('users.name: proposed name');
    expect(r.stderr).toContain('rehearse data rules --write');
    expect(r.stderr).not.toContain('[object Object]');
    expect(await withSql(staging(), fingerprint)).toEqual(before.staging);
    expect(backups()).toEqual(before.files);
  });
});

describe('rehearse data on another schema', () => {
  it('copies integer ids, a text role, a cycle, a composite key and a table without a key, with PII in JSON and arrays', async () => {
    const other = sibling('other', {
      production: {},
      data: { seed: { table: 'app_users', roleColumn: 'role', deletedAtColumn: 'deleted_at', createdAtColumn: 'created_at' }, maxUsers: 8 },
      anonymize: {
        builtinRules: false,
        rules: {
          'app_users.email': { rule: 'email', unique: true },
          'app_users.full_name': 'name',
          'app_users.contact': { rule: 'json', paths: { '$.phone': 'phone', '$.email': 'email', '$.address': 'address' } },
          'app_users.alt_emails': 'email',
          'audit_events.ip': 'ip',
          'audit_events.payload': { rule: 'json', paths: { '$..email': 'email' }, others: 'freeText' },
          'teams.name': 'keep',
          'courses.title': 'keep',
          // Fail-closed: every text column needs a decision, the role too.
          'app_users.role': 'keep',
        },
      },
    });
    const r = await rehearse(other, ['data', '--yes'], { PRODUCTION_DATABASE_URL: `postgresql://scratch:scratch-pw@127.0.0.1:${FIXTURE_PORT}/scratch` });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(readFileSync(/Report: (\S+\.json)/.exec(r.stdout)![1]!, 'utf8'));
    expect(report.ok).toBe(true);
    expect(Object.keys(report.usersByRole).sort()).toEqual(['ADMIN', 'CUSTOMER', 'LEARNER', 'TEACHER']);

    const tables = Object.entries(report.rowsPerTable as Record<string, number>);
    expect(tables.length).toBeGreaterThan(3);
    await withSql(staging(), async (sql) => {
      for (const [table, rows] of tables) {
        const [row] = (await sql.unsafe(`SELECT count(*)::int AS n FROM "${table}"`)) as unknown as Array<{ n: number }>;
        expect(row!.n, table).toBe(rows);
      }
      expect(report.rowsPerTable.audit_events).toBeGreaterThan(0);
      expect(report.rowsPerTable.enrollments).toBeGreaterThan(0);
      // Managers are pulled in up the self-reference; team leads close the cycle.
      const [chain] = await sql`SELECT count(*)::int AS n FROM app_users u WHERE u.manager_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM app_users m WHERE m.id = u.manager_id)`;
      expect(chain!.n).toBe(0);
      const [composite] = await sql`SELECT count(*)::int AS n FROM enrollments e WHERE NOT EXISTS (SELECT 1 FROM courses c WHERE (c.tenant_id, c.code) = (e.tenant_id, e.course_code))`;
      expect(composite!.n).toBe(0);
      const [contact] = await sql`SELECT count(*)::int AS n FROM app_users WHERE contact->>'phone' LIKE '+1 (415) 555-%' OR contact->'address'->>'street' LIKE '% Market St'`;
      expect(contact!.n).toBe(0);
      const [countries] = await sql`SELECT count(*)::int AS n FROM app_users WHERE contact->'address'->>'country' = 'US'`;
      expect(countries!.n).toBeGreaterThan(0);
      const ips = await sql`SELECT DISTINCT host(ip) AS ip FROM audit_events`;
      expect(ips.length).toBeGreaterThan(0);
      for (const ip of ips) expect(ip.ip).not.toMatch(/^10\.0\./);
      const [seq] = await sql`SELECT last_value::int AS v FROM app_users_id_seq`;
      const [max] = await sql`SELECT max(id)::int AS v FROM app_users`;
      expect(seq!.v).toBe(max!.v);
    });
    const prodEmails = await productionEmails(fixture.sql, `SELECT email AS e FROM app_users UNION SELECT unnest(alt_emails) FROM app_users UNION SELECT contact->>'email' FROM app_users`);
    expect(prodEmails.size).toBeGreaterThan(3);
    const dump = await stagingDumpText();
    expect([...prodEmails].filter((e) => dump.includes(e))).toEqual([]);
  });
});
