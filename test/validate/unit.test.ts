// Unit tests of the validation engine's pure parts: header grade, selection, scheduling, a check that
// throws or hangs, percentiles, asset discovery and JUnit XML. The checks themselves run against a
// real stack in validate.int.test.ts.
import { describe, expect, it } from 'vitest';
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

  it('runs a runsLast check after every other one, even one that failed', async () => {
    const order: string[] = [];
    const slow = def({ id: 'performance.a', run: async () => { await new Promise((r) => setTimeout(r, 30)); order.push('a'); return { status: 'pass', value: '' }; } });
    const broken = def({ id: 'security.b', run: async () => { await new Promise((r) => setTimeout(r, 10)); order.push('b'); throw new Error('x'); } });
    const last = def({ id: 'performance.c', runsLast: true, run: async () => { order.push('c'); return { status: 'pass', value: '' }; } });
    const schedule = new CheckSchedule([slow, broken, last]);
    await Promise.all([runScheduled(last, probesStub(), schedule), runScheduled(slow, probesStub(), schedule), runScheduled(broken, probesStub(), schedule)]);
    expect(order).toEqual(['b', 'a', 'c']);
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
