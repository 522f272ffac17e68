// `rehearse setup` against the real Docker engine: the default stack (with stand-in images) comes
// up healthy, nginx serves TLS with the security headers everywhere, and the data stores are locked.
import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvFile } from '../src/stack/env-file.js';
import { httpGet, REQUIRED_SECURITY_HEADERS } from '../src/stack/http.js';
import { docker, rehearse, removeStack, testStack, type CliResult } from './helpers/stack.js';

const stack = testStack('setup', 21000);
const ca = () => readFileSync(path.join(stack.workDir, 'nginx/ssl-staging/staging.crt'));
const envFile = () => parseEnvFile(readFileSync(path.join(stack.workDir, '.env.staging'), 'utf8'));
/** The generated secrets' values; the list of keys is asserted, so a check over them cannot pass empty. */
function secrets(): string[] {
  const found = Object.entries(envFile()).filter(([key]) => /PASSWORD|SECRET/.test(key));
  expect(found.map(([key]) => key).sort()).toEqual(['ANONYMIZER_SECRET', 'DB_PASSWORD', 'GF_SECURITY_ADMIN_PASSWORD', 'NEXTAUTH_SECRET', 'PGADMIN_DEFAULT_PASSWORD', 'POSTGRES_PASSWORD', 'REDIS_PASSWORD']);
  for (const [key, value] of found) expect(value.length, key).toBeGreaterThanOrEqual(16);
  return found.map(([, value]) => value);
}
const container = (service: string) => `${stack.config.project}-${service}-staging`;
let first: CliResult;

beforeAll(async () => {
  await removeStack(stack);
  first = await rehearse(stack, ['setup', '--yes']);
});
afterAll(() => removeStack(stack));

describe('rehearse setup --yes', () => {
  it('exits 0 and writes a valid JSON report without secrets', () => {
    expect(first.exitCode, first.stderr).toBe(0);
    const reportPath = /Report: (\S+\.json)/.exec(first.stdout)?.[1];
    expect(reportPath).toBeDefined();
    const text = readFileSync(reportPath!, 'utf8');
    const report = JSON.parse(text);
    expect(report.ok).toBe(true);
    expect(report.containers).toHaveLength(4);
    for (const value of secrets()) expect(text).not.toContain(value);
  });

  it('brings every container up healthy', async () => {
    for (const service of ['app', 'nginx', 'db', 'redis']) {
      expect(await docker(['inspect', '-f', '{{.State.Health.Status}}', container(service)])).toBe('healthy');
    }
  });

  it('serves /api/health through nginx over verified TLS with every security header', async () => {
    const res = await httpGet(`https://127.0.0.1:${stack.ports.https}/api/health`, { ca: ca() });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).checks).toMatchObject({ postgres: { ok: true }, redis: { ok: true } });
    for (const header of REQUIRED_SECURITY_HEADERS) expect(res.headers[header], header).toBeTruthy();
    // Each header exactly once: the app's own copies are hidden by nginx.
    expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(res.headers.server).toBe('nginx');
  });

  it('redirects HTTP to HTTPS keeping the published port, path and query', async () => {
    const res = await httpGet(`http://127.0.0.1:${stack.ports.http}/anything?x=1`);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`https://127.0.0.1:${stack.ports.https}/anything?x=1`);
  });

  it('sends the security headers on a 404 too', async () => {
    const res = await httpGet(`https://127.0.0.1:${stack.ports.https}/no-such-page`, { ca: ca() });
    expect(res.status).toBe(404);
    for (const header of REQUIRED_SECURITY_HEADERS) expect(res.headers[header], header).toBeTruthy();
    const dotfile = await httpGet(`https://127.0.0.1:${stack.ports.https}/.env`, { ca: ca() });
    expect(dotfile.status).toBe(404);
    expect(dotfile.headers['strict-transport-security']).toBeTruthy();
  });

  it('passes nginx -t inside the container', async () => {
    const out = await docker(['exec', container('nginx'), 'sh', '-c', 'nginx -t 2>&1']);
    expect(out).toContain('test is successful');
  });

  it('makes Redis refuse unauthenticated commands and accept the generated password', async () => {
    // A raw RESP exchange: no client library, no AUTH.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(stack.ports.redis, '127.0.0.1', () => socket.write('GET x\r\n'));
      socket.once('data', (d) => {
        resolve(d.toString());
        socket.destroy();
      });
      socket.once('error', reject);
    });
    expect(reply).toMatch(/^-NOAUTH/);
    const authed = new Redis({ host: '127.0.0.1', port: stack.ports.redis, password: envFile().REDIS_PASSWORD, lazyConnect: true });
    await authed.connect();
    expect(await authed.ping()).toBe('PONG');
    authed.disconnect();
  });

  it('creates the staging schemas and records the initialisation', async () => {
    const sql = postgres({ host: '127.0.0.1', port: stack.ports.postgres, database: 'staging_db', username: 'staging_user', password: envFile().DB_PASSWORD, max: 1 });
    try {
      const tables = await sql<{ t: string }[]>`SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema IN ('staging_migrations', 'staging_logs') ORDER BY 1`;
      expect(tables.map((r) => r.t)).toEqual(['staging_logs.init_log', 'staging_migrations.harness_phases', 'staging_migrations.role_migration_log', 'staging_migrations.test_results']);
      const cols = await sql<{ c: string }[]>`SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'staging_migrations' AND table_name = 'role_migration_log'`;
      expect(cols.map((r) => r.c)).toEqual(expect.arrayContaining(['user_id', 'old_role', 'new_role', 'migration_timestamp', 'migration_status', 'error_message', 'rollback_data', 'batch_id']));
      const [log] = await sql`SELECT count(*)::int AS n FROM staging_logs.init_log`;
      expect(log!.n).toBeGreaterThanOrEqual(1);
    } finally {
      await sql.end();
    }
  });

  it('makes PostgreSQL refuse a wrong password', async () => {
    const sql = postgres({ host: '127.0.0.1', port: stack.ports.postgres, database: 'staging_db', username: 'staging_user', password: 'wrong', max: 1, connect_timeout: 5 });
    await expect(sql`SELECT 1`).rejects.toThrow(/password authentication failed/);
    await sql.end();
  });

  it('publishes every port on 127.0.0.1 only', async () => {
    const out = await docker(['inspect', '-f', '{{json .HostConfig.PortBindings}}', container('app'), container('nginx'), container('db'), container('redis')]);
    const bindings = out.split('\n').map((line) => JSON.parse(line) as Record<string, Array<{ HostIp: string; HostPort: string }>>);
    const all = bindings.flatMap((b) => Object.values(b).flat());
    expect(bindings).toHaveLength(4);
    expect(all.map((b) => Number(b.HostPort)).sort()).toEqual([stack.ports.app, stack.ports.https, stack.ports.http, stack.ports.postgres, stack.ports.redis].sort());
    for (const b of all) expect(b.HostIp).toBe('127.0.0.1');
  });

  it('writes .env.staging and the TLS key with mode 0600', () => {
    expect(statSync(path.join(stack.workDir, '.env.staging')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(stack.workDir, 'nginx/ssl-staging/staging.key')).mode & 0o777).toBe(0o600);
  });

  it('never prints a secret', () => {
    for (const value of secrets()) expect(first.stdout + first.stderr).not.toContain(value);
  });

  it('is safe to run twice: same passwords, same still-valid certificate, data kept', async () => {
    const envBefore = readFileSync(path.join(stack.workDir, '.env.staging'), 'utf8');
    const certBefore = ca().toString();
    const again = await rehearse(stack, ['setup', '--yes', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(readFileSync(path.join(stack.workDir, '.env.staging'), 'utf8')).toBe(envBefore);
    expect(ca().toString()).toBe(certBefore);
    // --json: one object per event on stdout, then the result.
    const events = again.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events.filter((e) => e.type === 'task' && e.state === 'completed').map((e) => e.title).join('\n')).toMatch(/secrets kept, certificate reused/);
    expect(events.at(-1)).toMatchObject({ type: 'result', ok: true });
  });

  it('shows status and logs', async () => {
    const status = await rehearse(stack, ['status', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout);
    // One line, the result line every command ends on.
    expect(status.stdout.trim().split('\n')).toHaveLength(1);
    expect(parsed).toMatchObject({ type: 'result', ok: true });
    expect(parsed.containers.map((c: { service: string; health: string }) => `${c.service}:${c.health}`)).toEqual(['app-staging:healthy', 'nginx-staging:healthy', 'postgres-staging:healthy', 'redis-staging:healthy']);
    const logs = await rehearse(stack, ['logs', 'app-staging', '--tail', '5']);
    expect(logs.exitCode, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/GET \/api\/health 200/);
    // Not a terminal: no escape sequences (compose erased lines with ESC[2K before).
    expect(logs.stdout + logs.stderr).not.toMatch(/\u001b\[/);
    const bad = await rehearse(stack, ['logs', 'nope']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('Use one of: app-staging');
  });

  it('logs nginx requests in the staging format under nginx/logs-staging', () => {
    const log = readFileSync(path.join(stack.workDir, 'nginx/logs-staging/staging-access.log'), 'utf8');
    expect(log).toMatch(/"GET \/api\/health HTTP\/1.1" 200 .* rt=[\d.]+ .* env=staging/);
  });
});

describe('rehearse down', () => {
  it('refuses --volumes without --yes and without a TTY, and changes nothing', async () => {
    const r = await rehearse(stack, ['down', '--volumes']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/needs confirmation.*Nothing was changed/s);
    expect(r.stderr).toContain('--yes');
    expect(await docker(['inspect', '-f', '{{.State.Status}}', container('db')])).toBe('running');
  });

  it('--volumes --yes backs up, then removes containers, network and volumes', async () => {
    const r = await rehearse(stack, ['down', '--volumes', '--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    const backup = /Backup: (\S+\.sql\.gz)/.exec(r.stderr)?.[1];
    expect(backup).toBeDefined();
    expect(statSync(backup!).mode & 0o777).toBe(0o600);
    expect(await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${stack.config.project}-staging`])).toBe('');
    expect(await docker(['network', 'ls', '-q', '--filter', `name=${stack.config.project}-staging-network`])).toBe('');
    expect(await docker(['volume', 'ls', '-q', '--filter', `name=${stack.config.project}_`])).toBe('');
  });
});
