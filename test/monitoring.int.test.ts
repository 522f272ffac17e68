// The monitoring and admin profiles and the hardened containers on a real stack: Prometheus scrapes
// the app, PostgreSQL, Redis and nginx exporters (every target up, metrics non-empty, role metrics
// once staging has users); setup degrades without a Grafana image; every service, pgAdmin's stand-in
// included, shows its hardening in `docker inspect`; then one hardening setting at a time is broken
// and validate names it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stagingSql } from '../src/db/staging.js';
import { docker, rehearse, removeStack, testStack, type CliResult } from './helpers/stack.js';

const stack = testStack('mo', 39100, { profiles: { monitoring: true, admin: true } });
const project = stack.config.project;
const composeFile = path.join(stack.workDir, 'docker-compose.staging.yml');
const container = (service: string) => `${project}-${service}-staging`;
const SERVICES = ['app', 'nginx', 'db', 'redis', 'pgadmin', 'prometheus', 'postgres-exporter', 'redis-exporter', 'nginx-exporter'];
const prometheus = `http://127.0.0.1:${stack.ports.prometheus}`;

interface Check {
  id: string;
  status: string;
  value: string;
  detail?: string;
  hint: string;
}
const resultOf = (r: CliResult) => JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { type: string; checks: Check[] };
const byId = (checks: Check[], id: string) => checks.find((c) => c.id === id) ?? expect.fail(`no check ${id}`);
const failedIds = (checks: Check[]) => checks.filter((c) => c.status === 'fail').map((c) => c.id);

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function promQuery(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
}
async function targets(): Promise<Array<{ labels: { job: string }; health: string; lastError: string }>> {
  const res = await fetch(`${prometheus}/api/v1/targets?state=active`);
  return ((await res.json()) as { data: { activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> } }).data.activeTargets;
}
const inspect = async (name: string) => JSON.parse(await docker(['inspect', name]))[0] as { Config: { User: string }; HostConfig: Record<string, any>; State: { Health?: { Status: string } } };
/** uids of the container's init and its descendants (health-check execs run beside them, as root). */
async function uids(name: string): Promise<number[]> {
  const init = Number((await docker(['inspect', '-f', '{{.State.Pid}}', name])).trim());
  const rows = (await docker(['top', name, '-o', 'pid,ppid,uid'])).trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
  const tree = new Set([init]);
  for (let n = 0; n < rows.length; n++) for (const [pid, ppid] of rows) if (tree.has(ppid)) tree.add(pid);
  return rows.filter(([pid]) => tree.has(pid)).sort(([a], [b]) => (a === init ? -1 : b === init ? 1 : a - b)).map(([, , uid]) => uid);
}

let setup: CliResult;

beforeAll(async () => {
  await removeStack(stack);
  setup = await rehearse(stack, ['setup', '--monitoring', '--yes']);
  expect(setup.exitCode, setup.stderr + setup.stdout.slice(-2000)).toBe(0);
}, 400_000);

afterAll(async () => {
  await removeStack(stack);
});

describe('setup --monitoring on a machine without a Grafana image', () => {
  it('the test bed has no Grafana image (the degrade path below depends on it)', async () => {
    const r = await execa('docker', ['image', 'inspect', stack.config.images.grafana], { reject: false });
    expect(r.exitCode).not.toBe(0);
  });

  it('brings up Prometheus and the exporters, says Grafana was skipped and how to enable it', async () => {
    expect(setup.stdout).toContain(`Grafana skipped: image ${stack.config.images.grafana} is not on this machine and could not be pulled`);
    expect(setup.stdout).toContain(`docker pull ${stack.config.images.grafana}`);
    const report = JSON.parse(readFileSync(setup.stdout.match(/Report: (\S+\.json)/)![1]!, 'utf8')) as { skipped: Array<{ service: string }>; ok: boolean };
    expect(report.ok).toBe(true);
    expect(report.skipped.map((s) => s.service)).toEqual(['grafana-staging']);
    expect((await execa('docker', ['inspect', container('grafana')], { reject: false })).exitCode).not.toBe(0);
    for (const s of SERVICES) expect((await docker(['inspect', '-f', '{{.State.Status}}', container(s)])).trim(), s).toBe('running');
  });
});

describe('Prometheus scrapes every service', () => {
  it('every target is up, and each exporter\'s metrics are non-empty', async () => {
    await until('every target up', async () => {
      const list = await targets();
      return list.length === 5 && list.every((t) => t.health === 'up');
    });
    expect((await targets()).map((t) => t.labels.job).sort()).toEqual(['app', 'nginx', 'postgres', 'prometheus', 'redis']);
    for (const metric of ['pg_locks_count', 'pg_stat_activity_count', 'redis_memory_used_bytes', 'nginx_http_requests_total', 'stories_http_request_duration_seconds_bucket', 'stories_role_migration_mode']) {
      await until(`${metric} scraped`, async () => (await promQuery(metric)).length > 0, 30_000);
    }
    expect(Number((await promQuery('redis_memory_used_bytes'))[0]!.value[1])).toBeGreaterThan(0);
  });

  it('the app\'s /metrics is not served through nginx', async () => {
    const ca = readFileSync(path.join(stack.workDir, 'nginx/ssl-staging/staging.crt'));
    const { httpGet } = await import('../src/stack/http.js');
    expect((await httpGet(`https://127.0.0.1:${stack.ports.https}/metrics`, { ca, servername: 'localhost' })).status).toBe(404);
  });

  it('with a few users in staging, the role metrics match the database; validate and the checklist agree', async () => {
    // Users are put in directly (the shape the app reads): this file tests monitoring, not the data step.
    const sql = stagingSql(stack.config, { max: 1 });
    let rows: Array<{ role: string; n: number }>;
    try {
      await sql.unsafe(`
        CREATE TYPE public."UserRole" AS ENUM ('LEARNER', 'CUSTOMER', 'ADMIN');
        CREATE TABLE public.users (id text PRIMARY KEY, role public."UserRole" NOT NULL, "deletedAt" timestamptz, "createdAt" timestamptz NOT NULL DEFAULT now());
        INSERT INTO public.users (id, role, "deletedAt") VALUES
          ('u1', 'LEARNER', NULL), ('u2', 'LEARNER', NULL), ('u3', 'LEARNER', NULL), ('u4', 'LEARNER', now()),
          ('u5', 'CUSTOMER', NULL), ('u6', 'CUSTOMER', NULL), ('u7', 'ADMIN', NULL);`);
      rows = await sql<Array<{ role: string; n: number }>>`select "role"::text as role, count(*)::int as n from public.users where "deletedAt" is null group by 1 order by 1`;
    } finally {
      await sql.end({ timeout: 2 });
    }
    const expected = Object.fromEntries(rows.map((r) => [r.role, r.n]));
    expect(expected).toEqual({ ADMIN: 1, CUSTOMER: 2, LEARNER: 3 });
    const sorted = (o: Record<string, number>) => JSON.stringify(Object.entries(o).sort());
    let scraped: Record<string, number> = {};
    await until('role metrics equal the database', async () => {
      scraped = Object.fromEntries((await promQuery('stories_users_by_role')).map((r) => [r.metric.role!, Number(r.value[1])]));
      return sorted(scraped) === sorted(expected);
    }, 30_000).catch(() => undefined);
    expect(scraped).toEqual(expected);
    const learners = Number((await promQuery('stories_learners_remaining'))[0]!.value[1]);
    expect(learners).toBe(3);

    const run = await rehearse(stack, ['validate', '--category', 'infrastructure', '--json']);
    const checks = resultOf(run).checks;
    const monitoring = byId(checks, 'infrastructure.monitoring');
    expect(monitoring.status, monitoring.detail).toBe('pass');
    expect(monitoring.value).toMatch(/^5\/5 targets up; users by role: .*LEARNER \d+/);
    expect(monitoring.value).toContain('Grafana not running');
    expect(failedIds(checks)).toEqual([]);
    const list = JSON.parse((await rehearse(stack, ['checklist', '--json'])).stdout.trim().split('\n').pop()!) as { items: Array<{ criterion: string; status: string; evidence: string }> };
    const item = list.items.find((i) => i.criterion === 'Monitoring operational (when enabled)')!;
    expect(item.status).toBe('met');
    expect(item.evidence).toContain('infrastructure.monitoring: pass');
  });
});

describe('hardened containers', () => {
  it('every service drops all capabilities, sets no-new-privileges and has memory and CPU limits', async () => {
    for (const s of SERVICES) {
      const { HostConfig: hc } = await inspect(container(s));
      expect(hc.CapDrop, s).toEqual(['ALL']);
      expect(hc.SecurityOpt, s).toEqual(['no-new-privileges:true']);
      expect(hc.Memory, s).toBeGreaterThan(0);
      expect(hc.NanoCpus, s).toBeGreaterThan(0);
      // pgAdmin's entrypoint writes its config into the image on first start (README).
      expect(hc.ReadonlyRootfs, s).toBe(s !== 'pgadmin');
    }
    // Kept in the bounding set only so the kernel execs python (a file capability); never gained, below.
    expect((await inspect(container('pgadmin'))).HostConfig.CapAdd).toEqual(['NET_BIND_SERVICE']);
    expect((await inspect(container('db'))).HostConfig.Memory).toBe(1024 * 1048576);
    expect((await inspect(container('db'))).HostConfig.CapAdd.sort()).toEqual(['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID']);
    expect((await inspect(container('app'))).HostConfig.CapAdd).toBeNull();
  });

  it('no service runs as root; nginx only its master', async () => {
    expect((await docker(['exec', container('app'), 'id', '-u'])).trim()).toBe('1000');
    for (const s of ['redis', 'prometheus', 'postgres-exporter', 'redis-exporter', 'nginx-exporter']) expect((await docker(['exec', container(s), 'id', '-u'])).trim(), s).not.toBe('0');
    // pgAdmin: uid 5050 from the start, its python without any capability (no-new-privileges), and
    // postfix not started through sudo (which no-new-privileges refuses).
    expect((await docker(['exec', container('pgadmin'), 'id', '-u'])).trim()).toBe('5050');
    expect(await uids(container('pgadmin'))).toEqual([5050]);
    const pid1 = await docker(['exec', container('pgadmin'), 'sh', '-c', 'grep -E "^(CapEff|NoNewPrivs)" /proc/1/status; tr "\\0" " " < /proc/1/cmdline']);
    expect(pid1).toMatch(/CapEff:\s+0{16}/);
    expect(pid1).toMatch(/NoNewPrivs:\s+1/);
    expect(pid1).toMatch(/python3/);
    const logs = await execa('docker', ['logs', container('pgadmin')]);
    expect(logs.stdout + logs.stderr).not.toMatch(/sudo|postfix/);
    // postgres starts as root only to chown its folders, then every process is postgres.
    const db = await uids(container('db'));
    expect(db.length).toBeGreaterThan(1);
    expect(db.filter((u) => u === 0)).toEqual([]);
    const nginx = await uids(container('nginx'));
    expect(nginx[0]).toBe(0);
    expect(nginx.length).toBeGreaterThan(1);
    expect(nginx.slice(1).filter((u) => u === 0)).toEqual([]);
  });
});

/** Rewrites one service in the compose file, re-creates it, runs `fn`, then restores the file and the service. */
async function withBroken(service: string, change: (s: Record<string, unknown>) => void, fn: () => Promise<void>): Promise<void> {
  const original = readFileSync(composeFile, 'utf8');
  const doc = parse(original, { merge: true }) as { services: Record<string, Record<string, unknown>> };
  change(doc.services[service]!);
  const up = (file: string) => execa('docker', ['compose', '-p', `${project}-staging`, '-f', file, '--profile', 'monitoring', '--profile', 'admin', 'up', '-d', '--no-deps', '--wait', service], { cwd: stack.workDir });
  writeFileSync(composeFile, stringify(doc));
  // nginx resolves app-staging when it (re)loads its config: a re-created app may have a new address.
  const reloadNginx = () => (service === 'app-staging' ? docker(['exec', container('nginx'), 'nginx', '-s', 'reload']) : Promise.resolve(''));
  try {
    await up(composeFile);
    await reloadNginx();
    await fn();
  } finally {
    writeFileSync(composeFile, original);
    await up(composeFile);
    await reloadNginx();
  }
}

async function securityFailure(service: string, pattern: RegExp): Promise<void> {
  const run = await rehearse(stack, ['validate', '--category', 'security', '--json']);
  expect(run.exitCode).toBe(1);
  const checks = resultOf(run).checks;
  expect(failedIds(checks)).toEqual(['security.container-hardening']);
  const check = byId(checks, 'security.container-hardening');
  expect(check.detail).toMatch(pattern);
  expect(check.detail!.split('; ').length, check.detail).toBe(1);
  expect(check.detail!.startsWith(`${service}:`)).toBe(true);
  expect(check.hint).toContain('`rehearse setup` re-creates the containers');
}

describe('validate after breaking one hardening setting at a time', () => {
  it('a healthy hardened stack passes the security category', async () => {
    const run = await rehearse(stack, ['validate', '--category', 'security', '--json']);
    const checks = resultOf(run).checks;
    expect(byId(checks, 'security.container-hardening')).toMatchObject({ status: 'pass', value: '9/9 hardened, 8 with a read-only root filesystem' });
    expect(failedIds(checks)).toEqual([]);
  });

  it('app-staging as root: named', async () => {
    await withBroken('app-staging', (s) => void (s.user = '0:0'), () => securityFailure('app-staging', /^app-staging: runs as root \(uid 0, pid 1\)$/));
  });

  it('redis-staging without no-new-privileges: named', async () => {
    await withBroken('redis-staging', (s) => void delete s.security_opt, () => securityFailure('redis-staging', /^redis-staging: no no-new-privileges$/));
  });

  it('pgadmin-staging without no-new-privileges: named (its python would gain NET_BIND_SERVICE)', async () => {
    await withBroken('pgadmin-staging', (s) => void delete s.security_opt, () => securityFailure('pgadmin-staging', /^pgadmin-staging: no no-new-privileges$/));
  });

  it('redis-exporter-staging without a memory limit: named', async () => {
    await withBroken('redis-exporter-staging', (s) => void delete s.mem_limit, () => securityFailure('redis-exporter-staging', /^redis-exporter-staging: no memory limit$/));
  });
});
