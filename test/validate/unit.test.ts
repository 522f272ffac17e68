// Unit tests of the validation engine's pure parts: header grade, selection, scheduling, a check that
// throws or hangs, percentiles, asset discovery and JUnit XML. The checks themselves run against a
// real stack in validate.int.test.ts.
import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { loadConfig } from '../../src/config.js';
import { fkBudgetMs, orphanLimitMs, orphanQuery, ORPHAN_BASE_MS, ORPHAN_US_PER_ROW, planScans, standardQueries } from '../../src/validate/database.js';
import { gradeHeaders } from '../../src/validate/header-grade.js';
import { ALL_CHECKS, CheckSchedule, parseCategories, runCheck, runScheduled, selectChecks, summarize, type ValidationRun } from '../../src/validate/index.js';
import { percentile } from '../../src/validate/load.js';
import { pageAssets } from '../../src/validate/performance.js';
import type { StackProbes } from '../../src/validate/probes.js';
import { renderJunit } from '../../src/validate/report.js';
import { CATEGORIES, type CheckDef, type CheckResult } from '../../src/validate/types.js';
import { assertWellFormedXml } from './xml.js';

const GOOD = {
  'strict-transport-security': 'max-age=300',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'content-security-policy': "default-src 'self'; script-src 'self'; frame-ancestors 'none'",
  server: 'nginx',
  'set-cookie': ['staging_session=abc; Path=/; Secure; HttpOnly; SameSite=Lax'],
};

describe('gradeHeaders', () => {
  it('gives 100 to the headers nginx/staging.conf sends, noting the short HSTS as deliberate', () => {
    const g = gradeHeaders(GOOD);
    expect(g.score).toBe(100);
    expect(g.notes.join()).toMatch(/HSTS max-age is 300 s/);
  });

  it('deducts for each missing header', () => {
    const { 'content-security-policy': _csp, 'strict-transport-security': _hsts, ...rest } = GOOD;
    const g = gradeHeaders(rest);
    expect(g.score).toBe(100 - 25 - 20 - 0); // X-Frame-Options still covers framing
    expect(g.deductions.map((d) => d.reason)).toEqual(['Strict-Transport-Security is missing', 'Content-Security-Policy is missing']);
  });

  it('accepts CSP frame-ancestors instead of X-Frame-Options, but not neither', () => {
    const { 'x-frame-options': _xfo, ...noXfo } = GOOD;
    expect(gradeHeaders(noXfo).score).toBe(100);
    expect(gradeHeaders({ ...noXfo, 'content-security-policy': "default-src 'self'" }).score).toBe(80);
  });

  it('deducts for weak CSP, cookies without Secure/HttpOnly, and versions in Server / X-Powered-By', () => {
    const g = gradeHeaders({
      ...GOOD,
      'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; frame-ancestors 'none'",
      'set-cookie': ['sid=1; Path=/'],
      server: 'nginx/1.25.3',
      'x-powered-by': 'Express',
    });
    expect(g.deductions.map((d) => d.points)).toEqual([10, 10, 20, 10, 5, 5]);
    expect(g.score).toBe(40);
  });

  it('never goes below 0', () => {
    expect(gradeHeaders({ 'set-cookie': ['a=1'], server: 'Apache/2.4.1', 'x-powered-by': 'PHP/8' }).score).toBe(0);
  });
});

describe('selection', () => {
  it('has six categories with ids prefixed by their category', () => {
    expect(new Set(ALL_CHECKS.map((c) => c.category))).toEqual(new Set(CATEGORIES));
    for (const c of ALL_CHECKS) expect(c.id.startsWith(`${c.category}.`), c.id).toBe(true);
    expect(new Set(ALL_CHECKS.map((c) => c.id)).size).toBe(ALL_CHECKS.length);
  });

  it('--quick keeps only the essential checks, in every category', () => {
    const quick = selectChecks({ quick: true });
    expect(quick.length).toBeLessThan(ALL_CHECKS.length);
    expect(quick.every((c) => c.quick)).toBe(true);
    expect(quick.map((c) => c.id)).not.toContain('performance.load');
    expect(quick.map((c) => c.id)).not.toContain('infrastructure.drift');
    expect(new Set(quick.map((c) => c.category)).size).toBe(6);
  });

  it('parses repeated and comma-separated categories, and refuses unknown ones with the list', () => {
    expect(parseCategories(['security,database', 'infrastructure'])).toEqual(['infrastructure', 'database', 'security']);
    expect(parseCategories([])).toBeUndefined();
    expect(() => parseCategories(['securty'])).toThrow(/Unknown validation category: securty/);
    const security = selectChecks({ categories: ['security'] });
    expect(security.length).toBeGreaterThan(0);
    expect(security.every((c) => c.category === 'security')).toBe(true);
  });
});

const probesStub = (signal = new AbortController().signal) => ({ signal }) as unknown as StackProbes;
const def = (over: Partial<CheckDef>): CheckDef => ({ id: 'security.x', category: 'security', title: 'x', quick: true, required: true, threshold: 't', hint: '`rehearse setup`', run: async () => ({ status: 'pass', value: 'ok' }), ...over });

describe('runCheck', () => {
  it('records a throwing check as failed with its default hint', async () => {
    const r = await runCheck(def({ run: async () => { throw new Error('boom'); } }), probesStub());
    expect(r).toMatchObject({ status: 'fail', value: 'error: boom', hint: '`rehearse setup`' });
  });

  it('fails a check that outlives its time limit', async () => {
    const r = await runCheck(def({ timeoutMs: 50, run: () => new Promise(() => undefined) }), probesStub());
    expect(r.status).toBe('fail');
    expect(r.value).toMatch(/did not finish within 0.05 s/);
  });

  it('runs the stages in order, each after every check of the earlier ones, even one that failed', async () => {
    const order: string[] = [];
    const step = (id: string, ms: number, stage?: 0 | 1 | 2, fails = false) =>
      def({ id, ...(stage !== undefined ? { stage } : {}), run: async () => { await new Promise((r) => setTimeout(r, ms)); order.push(id); if (fails) throw new Error('x'); return { status: 'pass', value: '' }; } });
    const slow = step('performance.a', 30);
    const broken = step('security.b', 10, 0, true);
    const scanA = step('database.scan-a', 20, 1);
    const scanB = step('database.scan-b', 1, 1);
    const last = step('performance.c', 0, 2);
    const schedule = new CheckSchedule([slow, broken, scanA, scanB, last]);
    await Promise.all([last, scanA, slow, scanB, broken].map((d) => runScheduled(d, probesStub(), schedule)));
    // Stage 1's two checks overlap each other (b before a), never stage 0 or 2.
    expect(order).toEqual(['security.b', 'performance.a', 'database.scan-b', 'database.scan-a', 'performance.c']);
    expect(ALL_CHECKS.find((c) => c.id === 'database.orphans')?.stage).toBe(1);
    expect(ALL_CHECKS.find((c) => c.id === 'performance.load')?.stage).toBe(2);
  });

  it('exits 1 only for failed required checks', () => {
    const r = (status: CheckResult['status'], required: boolean) => ({ status, required }) as CheckResult;
    expect(summarize([r('pass', true), r('fail', false), r('warn', true), r('skip', true)]).ok).toBe(true);
    expect(summarize([r('pass', true), r('fail', true)]).requiredFailed).toHaveLength(1);
  });
});

describe('helpers', () => {
  it('computes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile([], 95)).toBe(0);
  });

  it('finds the same-origin assets of a page', () => {
    expect(pageAssets('<link rel="stylesheet" href="/static/app.css"><script src="/a.js"></script><img src="https://cdn.example/x.png"><link href="/b.css" rel="stylesheet">')).toEqual(['/static/app.css', '/a.js', '/b.css']);
  });
});

describe('database checks at scale', () => {
  it('gives the orphan check a limit that grows with the rows it reads', () => {
    const fk = (childRows: number, parentRows: number) => ({ childRows, parentRows });
    expect(orphanLimitMs([fk(10, 5), fk(20, 5)])).toBe(ORPHAN_BASE_MS + Math.round((40 * ORPHAN_US_PER_ROW) / 1000));
    // 1.4 million rows read: 28 s on top of the floor, where a fixed 10 s ran out at a sixth of that.
    expect(orphanLimitMs([fk(1_300_000, 100_000)])).toBe(ORPHAN_BASE_MS + 28_000);
    expect(fkBudgetMs(fk(100_000, 100_000))).toBe(5000);
  });

  it('counts orphans with one anti-join per foreign key, composite keys column by column', () => {
    expect(orphanQuery({ child: 'public."order_items"', parent: 'public."orders"', childColumns: ['orderId'], parentColumns: ['id'] })).toBe(
      'SELECT count(*)::int AS n FROM public."order_items" c WHERE c."orderId" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public."orders" p WHERE p."id" = c."orderId")',
    );
    expect(orphanQuery({ child: 'a', parent: 'b', childColumns: ['x', 'y'], parentColumns: ['bx', 'by'] })).toMatch(/c\."x" IS NOT NULL AND c\."y" IS NOT NULL AND NOT EXISTS \(SELECT 1 FROM b p WHERE p\."bx" = c\."x" AND p\."by" = c\."y"\)/);
  });

  it('reads from a plan which index served each table, and how many rows a sequential scan read', () => {
    const plan = {
      'Node Type': 'Nested Loop',
      Plans: [
        { 'Node Type': 'Index Scan', 'Relation Name': 'users', Schema: 'public', 'Index Name': 'users_email_key', 'Actual Rows': 1, 'Actual Loops': 1 },
        { 'Node Type': 'Seq Scan', 'Relation Name': 'stories', Schema: 'public', 'Actual Rows': 20, 'Rows Removed by Filter': 3980, 'Actual Loops': 2 },
      ],
    };
    expect(planScans(plan)).toEqual({
      scans: ['Index Scan using users_email_key on users', 'Seq Scan on stories (8,000 rows)'],
      seqScans: [{ table: 'public.stories', rowsRead: 8000 }],
    });
  });

  it('measures the demo app\'s page on the primary key, and looks up a user that exists', () => {
    const config = loadConfig({ cwd: os.tmpdir(), env: {} }).config;
    const qs = standardQueries(config, { userId: 'u-1', email: "o'neil@example.org" });
    expect(qs.find((q) => q.name === 'user by e-mail (sign-in)')?.sql).toContain(`= 'o''neil@example.org'`);
    expect(qs.find((q) => q.name === 'reading progress of one user')?.sql).toContain(`"userId" = 'u-1'`);
    expect(qs.find((q) => q.name === 'published stories page')?.sql).toMatch(/ORDER BY "id" LIMIT 20$/);
    // Without samples (no data yet) the queries still parse.
    expect(standardQueries(config).find((q) => q.name === 'reading progress of one user')?.sql).toMatch(/ORDER BY "id" LIMIT 1\)$/);
  });
});

describe('renderJunit', () => {
  it('writes well-formed XML with a suite per category, failures and skips, and escapes everything', () => {
    const result = (over: Partial<CheckResult>): CheckResult => ({ id: 'security.headers', category: 'security', title: 'Headers', status: 'pass', required: true, value: 'v', threshold: 't', hint: 'h', ms: 12, ...over });
    const run: ValidationRun = {
      startedAt: new Date('2026-01-01T00:00:00Z'),
      finishedAt: new Date('2026-01-01T00:00:02Z'),
      quick: false,
      categories: ['infrastructure', 'security'],
      timingsMs: { infrastructure: 10, security: 20 },
      results: [
        result({ id: 'infrastructure.containers', category: 'infrastructure', status: 'fail', value: '3/4 <running> & "healthy"', hint: "`rehearse logs redis-staging` 'now'", detail: 'bad\u0001char' }),
        result({ status: 'skip', value: 'not testable' }),
        result({ id: 'security.tls', status: 'warn' }),
      ],
    };
    const xml = renderJunit(run);
    expect(assertWellFormedXml(xml)).toMatchObject({ root: 'testsuites' });
    expect(xml).toContain('<testsuite name="infrastructure" tests="1" failures="1"');
    expect(xml).toContain('<skipped message="not testable"/>');
    expect(xml).toContain('3/4 &lt;running&gt; &amp; &quot;healthy&quot;');
    expect(xml).not.toContain('\u0001');
  });
});
