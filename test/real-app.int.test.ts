// The "done when" of issue 8, as a test. For a production built
// from the real app's current schema, `rehearse all --yes` with only PRODUCTION_DATABASE_URL set must
// end GO (the other naming, which no built-in rule knows, is test/other-naming.int.test.ts), and an independent scan of a pg_dump of staging must find none of production's names,
// e-mails or phones. The scan trusts nothing of rehearse: it reads production's PII itself.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureProduction, type FixtureProduction } from './helpers/fixture-production.js';
import { BIN, removeStack, testStack, type TestStack } from './helpers/stack.js';

interface Case {
  fixture: string;
  stack: TestStack;
  productionPort: number;
  /** Full names (split into first/last tokens by the scan), e-mails and phones of production. */
  names: string;
  emails: string;
  phones: string;
}

const CASES: Case[] = [
  {
    fixture: 'real-app',
    stack: testStack('fx-all-real', 31200),
    productionPort: 31210,
    names: `SELECT name AS v FROM users UNION SELECT "firstName" FROM profiles UNION SELECT "lastName" FROM profiles
      UNION SELECT "parentName" FROM profiles UNION SELECT "authorName" FROM books UNION SELECT unnest("coAuthors") FROM books
      UNION SELECT "illustratorName" FROM books UNION SELECT "editorName" FROM books UNION SELECT "donorName" FROM donations
      UNION SELECT "shippingAddress"->>'name' FROM orders UNION SELECT "creatorName" FROM products`,
    emails: `SELECT email AS v FROM users UNION SELECT "parentEmail" FROM profiles UNION SELECT email FROM orders
      UNION SELECT "donorEmail" FROM donations UNION SELECT "contactEmail" FROM institutions`,
    phones: `SELECT phone AS v FROM profiles UNION SELECT phone FROM orders UNION SELECT "contactPhone" FROM institutions`,
  },
];

async function values(prod: FixtureProduction, query: string): Promise<string[]> {
  const rows = (await prod.sql.unsafe(query)) as unknown as Array<{ v: string | null }>;
  return [...new Set(rows.map((r) => r.v).filter((v): v is string => typeof v === 'string' && v.trim() !== ''))];
}

/** Every production value the scan looks for, by kind: full names, their tokens of 3+ letters, e-mails, name slugs, phones. */
async function productionPii(prod: FixtureProduction, c: Case): Promise<Array<{ kind: string; value: string; caseless: boolean }>> {
  const names = await values(prod, c.names);
  const tokens = new Set(names.flatMap((n) => n.split(/\s+/)).filter((t) => (t.match(/\p{L}/gu) ?? []).length >= 3));
  const emails = (await values(prod, c.emails)).map((e) => e.toLowerCase());
  const slugs = new Set(emails.map((e) => e.split('@')[0]!).filter((l) => l.includes('.')).map((l) => l.replace(/\./g, '-')));
  const phones = await values(prod, c.phones);
  return [
    ...names.filter((n) => n.includes(' ')).map((value) => ({ kind: 'full name', value, caseless: false })),
    ...[...tokens].map((value) => ({ kind: 'name', value, caseless: false })),
    ...emails.map((value) => ({ kind: 'e-mail', value, caseless: true })),
    ...[...slugs].map((value) => ({ kind: 'name slug', value, caseless: true })),
    ...phones.map((value) => ({ kind: 'phone', value, caseless: false })),
  ];
}

for (const c of CASES) {
  describe(`rehearse all on the ${c.fixture} fixture, with only PRODUCTION_DATABASE_URL set`, () => {
    let prod: FixtureProduction;
    let all: { exitCode: number; stdout: string; stderr: string };

    beforeAll(async () => {
      await removeStack(c.stack);
      prod = await startFixtureProduction(`${c.stack.name}-prod`, c.productionPort, c.fixture);
      const r = await execa(BIN, ['all', '--yes'], {
        cwd: c.stack.workDir,
        env: { ...c.stack.env, PRODUCTION_DATABASE_URL: prod.url },
        reject: false,
        stdin: 'ignore',
        timeout: 1_500_000,
      });
      all = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    }, 1_800_000);

    afterAll(async () => {
      await prod?.stop();
      await removeStack(c.stack);
    }, 120_000);

    it('rehearse all --yes with only PRODUCTION_DATABASE_URL set exits 0 and ends GO', () => {
      const failed = all.stderr.split('\n').filter((l) => l.startsWith('✖')).join('\n');
      const tail = `exit ${all.exitCode}\n${failed}\n---- end of stderr ----\n${all.stderr.slice(-1500)}\n---- end of stdout ----\n${all.stdout.slice(-1500)}`;
      expect(all.exitCode, tail).toBe(0);
      expect(all.stdout, tail).toMatch(/\bGO\b/);
      expect(all.stdout, tail).not.toMatch(/NO-GO/);
    });

    it("an independent scan of staging's pg_dump finds none of production's names, e-mails or phones", async () => {
      const pii = await productionPii(prod, c);
      expect(pii.filter((p) => p.kind === 'full name').length).toBeGreaterThan(40);
      expect(pii.filter((p) => p.kind === 'e-mail').length).toBeGreaterThan(40);
      expect(pii.filter((p) => p.kind === 'phone').length).toBeGreaterThan(40);
      const { stdout: dump } = await execa('docker', ['exec', `${c.stack.config.project}-db-staging`, 'pg_dump', '-U', 'staging_user', '-d', 'staging_db', '--data-only'], { maxBuffer: 1 << 30 });
      // A scan of an empty staging would pass: the users must be there (a COPY block with rows).
      expect(/COPY public\.(users|"User") [^\n]*\n(?!\\\.)/.test(dump), 'staging holds no copied users, so there is nothing to scan').toBe(true);
      const lower = dump.toLowerCase();
      const hits = pii.filter((p) => (p.caseless ? lower.includes(p.value) : dump.includes(p.value)));
      const searched = Object.fromEntries(['full name', 'name', 'e-mail', 'name slug', 'phone'].map((k) => [k, pii.filter((p) => p.kind === k).length]));
      console.log(`[real-app.int] ${c.fixture}: searched staging's dump (${dump.length.toLocaleString('en-US')} bytes) for ${JSON.stringify(searched)} production values; hits: ${hits.length}`);
      const byKind = Object.fromEntries(['full name', 'name', 'e-mail', 'name slug', 'phone'].map((k) => [k, hits.filter((h) => h.kind === k).length]));
      expect(hits.map((h) => `${h.kind}: ${h.value}`), JSON.stringify(byKind)).toEqual([]);
    });
  });
}
