// `rehearse validate` against a real stack: before the data step the database category says so;
// on a healthy stack with data every category passes; then one thing at a time is broken (Redis
// stopped, a security header removed, the env file opened up, a port on 0.0.0.0) and restored, and
// the right check fails with the right hint.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Listr } from 'listr2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient } from '../../src/stack/docker.js';
import { httpGet } from '../../src/stack/http.js';
import { newValidateContext, validateTasks } from '../../tasks/validate-tasks.js';
import { removeDemo } from '../helpers/demo.js';
import { docker, rehearse, removeStack, testStack, type CliResult } from '../helpers/stack.js';
import { assertWellFormedXml } from './xml.js';

// The load check's p95 threshold is raised to the guide's page-load target: on a shared two-core test
// host running other suites, 500 requests at concurrency 20 have measured a p95 of 1.07 s (the check
// was right to fail it); this file tests behaviour, bench/validate.mjs measures speed.
const stack = testStack('validate', 27000, { demo: { port: 27010 }, validation: { load: { p95MaxMs: 3000 } } });
const project = stack.config.project;
const container = (service: string) => `${project}-${service}-staging`;
const STRAY = `${project}-stray`;
const STRAY_PORT = 27999;
const junitFile = path.join(stack.workDir, 'out', 'validate-junit.xml');

interface Check {
  id: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  value: string;
  hint: string;
  detail?: string;
  required: boolean;
}
interface Result {
  type: 'result';
  ok: boolean;
  report: string;
  junit?: string;
  summary: { total: number; pass: number; fail: number; warn: number; skip: number; requiredFailed: string[] };
  timingsMs: Record<string, number>;
  checks: Check[];
}

/** The final result line of `--json` (task events come first). */
function resultOf(r: CliResult): Result {
  const last = r.stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(last) as Result;
  expect(parsed.type, r.stdout.slice(-500)).toBe('result');
  return parsed;
}
const byId = (r: Result, id: string) => r.checks.find((c) => c.id === id) ?? expect.fail(`no check ${id} in ${r.checks.map((c) => c.id).join(', ')}`);
const failed = (r: Result) => r.checks.filter((c) => c.status === 'fail').map((c) => c.id).sort();

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const ca = () => readFileSync(path.join(stack.workDir, 'nginx/ssl-staging/staging.crt'));
const healthOk = async () => (await httpGet(`https://127.0.0.1:${stack.ports.https}/api/health`, { ca: ca() })).status === 200;

let beforeData: CliResult;
let healthy: CliResult;

beforeAll(async () => {
  await removeStack(stack);
  await removeDemo(stack.config);
  const setup = await rehearse(stack, ['setup', '--yes']);
  expect(setup.exitCode, setup.stderr).toBe(0);
  beforeData = await rehearse(stack, ['validate', '--category', 'database', '--json']);
  const demo = await rehearse(stack, ['demo', '--users', '200']);
  expect(demo.exitCode, demo.stderr).toBe(0);
  const data = await rehearse(stack, ['data', '--yes']);
  expect(data.exitCode, data.stderr).toBe(0);
  healthy = await rehearse(stack, ['validate', '--json', '--junit', junitFile]);
}, 300_000);

afterAll(async () => {
  await execDocker(['rm', '-f', STRAY]);
  await removeStack(stack);
  await removeDemo(stack.config);
});

async function execDocker(args: string[]): Promise<void> {
  await docker(args).catch(() => undefined);
}

describe('rehearse validate on a healthy stack', () => {
  it('before the data step, fails the tables check with the `rehearse data` hint', () => {
    expect(beforeData.exitCode).toBe(1);
    const r = resultOf(beforeData);
    const tables = byId(r, 'database.tables');
    expect(tables.status).toBe('fail');
    expect(tables.value).toMatch(/no data summary to derive the tables from/);
    expect(tables.hint).toContain('`rehearse data --yes`');
    expect(byId(r, 'database.connect').status).toBe('pass');
    expect(byId(r, 'database.staging-schemas').status).toBe('pass');
  });

  it('passes every check of all six categories and exits 0', () => {
    expect(healthy.exitCode, healthy.stdout.slice(-3000) + healthy.stderr).toBe(0);
    const r = resultOf(healthy);
    expect(r.ok).toBe(true);
    expect(Object.keys(r.timingsMs).sort()).toEqual(['application', 'database', 'infrastructure', 'integration', 'performance', 'security']);
    // TLS 1.0/1.1 may only be skipped when this host's OpenSSL cannot offer them, and monitoring because
    // this stack runs without it (test/monitoring.int.test.ts runs it); nothing else may be less than a pass.
    expect(byId(r, 'infrastructure.monitoring')).toMatchObject({ status: 'skip', value: 'the monitoring profile is off' });
    const notPassed = r.checks.filter((c) => c.status !== 'pass' && !(['security.tls-legacy-refused', 'infrastructure.monitoring'].includes(c.id) && c.status === 'skip'));
    expect(notPassed, JSON.stringify(notPassed, null, 2)).toEqual([]);
    expect(r.checks.length).toBeGreaterThanOrEqual(30);
    for (const c of r.checks) expect(c.hint, c.id).toMatch(/`[^`]+`/); // every check names a command
  });

  it('writes the JSON report without secrets, with value, threshold and hint per check', () => {
    const r = resultOf(healthy);
    expect(path.basename(r.report)).toMatch(/^staging-validation-report-\d{8}-\d{6}-\d{3}Z\.json$/);
    expect(path.dirname(r.report)).toBe(path.join(stack.workDir, 'staging-backups'));
    const text = readFileSync(r.report, 'utf8');
    const report = JSON.parse(text);
    expect(report).toMatchObject({ kind: 'staging-validation-report', ok: true, quick: false });
    expect(report.categories).toHaveLength(6);
    expect(report.checks.length).toBeGreaterThanOrEqual(30);
    for (const c of report.checks) expect(Object.keys(c)).toEqual(expect.arrayContaining(['id', 'status', 'value', 'threshold', 'hint']));
    const env = readFileSync(path.join(stack.workDir, '.env.staging'), 'utf8');
    const secrets = [...env.matchAll(/^(\w*(?:PASSWORD|SECRET)\w*)=(.+)$/gm)];
    expect(secrets.map((m) => m[1]).sort()).toEqual(['ANONYMIZER_SECRET', 'DB_PASSWORD', 'GF_SECURITY_ADMIN_PASSWORD', 'NEXTAUTH_SECRET', 'PGADMIN_DEFAULT_PASSWORD', 'POSTGRES_PASSWORD', 'REDIS_PASSWORD']);
    for (const m of secrets) expect(text + healthy.stdout).not.toContain(m[2]);
  });

  it('writes well-formed JUnit XML on request', () => {
    const xml = readFileSync(junitFile, 'utf8');
    expect(assertWellFormedXml(xml).root).toBe('testsuites');
    expect(xml.match(/<testsuite /g)).toHaveLength(6);
    expect(xml.match(/<testcase /g)?.length).toBe(resultOf(healthy).checks.length);
    expect(xml).not.toContain('<failure');
  });

  it('--quick runs the essential subset in under 2 s of checking', async () => {
    const started = Date.now();
    const quick = await rehearse(stack, ['validate', '--quick', '--json']);
    const wallMs = Date.now() - started;
    expect(quick.exitCode, quick.stdout.slice(-2000)).toBe(0);
    const r = resultOf(quick);
    const ids = r.checks.map((c) => c.id);
    expect(ids.length).toBeLessThan(resultOf(healthy).checks.length);
    expect(ids).toEqual(expect.arrayContaining(['infrastructure.containers', 'application.health', 'database.connect', 'security.redis-auth', 'integration.app-redis']));
    expect(ids).not.toContain('performance.load');
    const checkingMs = JSON.parse(readFileSync(r.report, 'utf8')).durationMs as number;
    expect(checkingMs, `checks took ${checkingMs} ms (the command ${wallMs} ms, start-up included)`).toBeLessThan(2000);
  });

  it('--category limits the run; an unknown category is a usage error', async () => {
    const r = resultOf(await rehearse(stack, ['validate', '--category', 'security', '--category', 'integration', '--json']));
    expect(new Set(r.checks.map((c) => c.id.split('.')[0]))).toEqual(new Set(['security', 'integration']));
    const bad = await rehearse(stack, ['validate', '--category', 'securty']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/Unknown validation category: securty/);
  });

  it('runs as a listr2 task tree with a category per parent task', async () => {
    const controller = new AbortController();
    const ctx = newValidateContext(stack.config, dockerClient(), controller.signal, { categories: ['security'] });
    const tasks = validateTasks(ctx.selection);
    const list = new Listr(tasks, { ctx, renderer: 'silent', exitOnError: true });
    await list.run();
    expect(list.tasks.map((t) => t.isCompleted())).toEqual([true, true]);
    const categories = list.tasks[0]!.subtasks;
    expect(categories.map((t) => t.title)).toEqual([expect.stringMatching(/^Security: 10 pass \(\d+ ms\)$/)]);
    expect(categories[0]!.subtasks.map((t) => t.isCompleted())).toEqual(Array(10).fill(true));
    expect(ctx.results.map((r) => r.status)).toEqual(Array(10).fill('pass'));
    expect(existsSync(ctx.reportFile!)).toBe(true);
  });
});

describe('rehearse validate after breaking one thing at a time', () => {
  it('Redis stopped: containers, health, Redis auth and app→Redis fail, naming redis-staging', async () => {
    await docker(['stop', '-t', '2', container('redis')]);
    try {
      const run = await rehearse(stack, ['validate', '--quick', '--json']);
      expect(run.exitCode).toBe(1);
      const r = resultOf(run);
      expect(failed(r)).toEqual(expect.arrayContaining(['infrastructure.containers', 'application.health', 'security.redis-auth', 'integration.app-redis']));
      expect(failed(r)).not.toContain('database.connect');
      expect(byId(r, 'infrastructure.containers').detail).toMatch(/redis-staging: exited/);
      expect(byId(r, 'infrastructure.containers').hint).toContain('`rehearse logs redis-staging`');
      expect(byId(r, 'integration.app-redis').hint).toContain('`rehearse logs redis-staging`');
      expect(byId(r, 'application.health').hint).toContain('redis');
      expect(byId(r, 'security.redis-auth').hint).toContain('`rehearse setup` starts redis-staging');
    } finally {
      await docker(['start', container('redis')]);
      await until('redis healthy', async () => (await docker(['inspect', '-f', '{{.State.Health.Status}}', container('redis')])) === 'healthy');
      await until('app health 200', healthOk);
    }
  });

  it('a security header removed from nginx/staging.conf: the header check fails and says how to restore it', async () => {
    const conf = path.join(stack.workDir, 'nginx/staging.conf');
    const original = readFileSync(conf, 'utf8');
    const nosniff = async () => !!(await httpGet(`https://127.0.0.1:${stack.ports.https}/`, { ca: ca() })).headers['x-content-type-options'];
    writeFileSync(conf, original.replace(/^add_header X-Content-Type-Options .*$/m, ''));
    try {
      await docker(['exec', container('nginx'), 'nginx', '-s', 'reload']);
      await until('nginx reloaded without the header', async () => !(await nosniff()));
      const run = await rehearse(stack, ['validate', '--category', 'security', '--json']);
      expect(run.exitCode).toBe(1);
      const r = resultOf(run);
      expect(failed(r)).toEqual(['security.headers']);
      const headers = byId(r, 'security.headers');
      expect(headers.detail).toMatch(/missing x-content-type-options/);
      expect(headers.value).toMatch(/95\/100/);
      expect(headers.hint).toContain('`rehearse setup` rewrites nginx/staging.conf');
      expect(headers.hint).toContain(`\`docker exec ${container('nginx')} nginx -s reload\``);
    } finally {
      writeFileSync(conf, original);
      await docker(['exec', container('nginx'), 'nginx', '-s', 'reload']);
      await until('nginx reloaded with the header', nosniff);
    }
  });

  it('.env.staging opened to 0644: the file-mode check fails with the exact chmod', async () => {
    const envFile = path.join(stack.workDir, '.env.staging');
    chmodSync(envFile, 0o644);
    try {
      const run = await rehearse(stack, ['validate', '--quick', '--json']);
      expect(run.exitCode).toBe(1);
      const r = resultOf(run);
      expect(failed(r)).toEqual(['security.file-modes']);
      expect(byId(r, 'security.file-modes').value).toContain('.env.staging 0644');
      expect(byId(r, 'security.file-modes').hint).toBe(`\`chmod 600 ${envFile}\``);
    } finally {
      chmodSync(envFile, 0o600);
    }
  });

  it('a container of the project published on 0.0.0.0: the bind checks fail and name it', async () => {
    await execDocker(['rm', '-f', STRAY]);
    const image = stack.config.images.nginx;
    await docker(['run', '-d', '--name', STRAY, '-p', `0.0.0.0:${STRAY_PORT}:80`, '--label', `com.docker.compose.project=${project}-staging`, image]);
    try {
      const run = await rehearse(stack, ['validate', '--quick', '--json']);
      expect(run.exitCode).toBe(1);
      const r = resultOf(run);
      expect(failed(r)).toEqual(['infrastructure.ports', 'security.no-public-bind']);
      const bind = byId(r, 'security.no-public-bind');
      expect(bind.detail).toContain(`${STRAY}: 0.0.0.0:${STRAY_PORT}→80/tcp`);
      expect(bind.hint).toContain(`\`docker rm -f ${STRAY}\``);
      // The full run also reports it as drift from the compose file.
      const drift = resultOf(await rehearse(stack, ['validate', '--category', 'infrastructure', '--json']));
      expect(byId(drift, 'infrastructure.drift').detail).toContain(`${STRAY}: carries the project label`);
    } finally {
      await execDocker(['rm', '-f', STRAY]);
    }
    const after = await rehearse(stack, ['validate', '--quick', '--json']);
    expect(after.exitCode, JSON.stringify(failed(resultOf(after)))).toBe(0);
  });
});
