// Integration test for the bundled demo app (compose/demo-app), the default `app-staging` service.
//
// Starts a throwaway PostgreSQL (initdb + postgres, password auth, 127.0.0.1, random port) and a
// throwaway Redis (redis-server --requirepass, 127.0.0.1, random port), copies compose/demo-app
// into a temp `/app`-like folder with node_modules/postgres -> the host's postgres package (the
// layout of the container's bind mounts), and runs `node server.js` there as a child process.
//
// Needs the Debian packages `postgresql-15` (or any postgresql-NN) and `redis-server`; fails under CI, skipped with
// a message when their binaries are absent. PG_BIN=/path/to/bin and REDIS_SERVER=/path/to/redis-server
// override the lookup; DEMO_APP_NODE=/path/to/node runs the app with another Node (e.g. 18).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPrerequisite } from './helpers/prerequisite.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const APP_SRC = path.join(ROOT, 'compose', 'demo-app');
const require = createRequire(import.meta.url);

// ------------------------------------------------------------------------------------------------
// binaries

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

function findPgBin(): string | null {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  try {
    const versions = fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => (a === '15' ? -1 : b === '15' ? 1 : Number(b) - Number(a)));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    /* not a Debian layout */
  }
  const onPath = which('initdb');
  if (onPath) candidates.push(path.dirname(fs.realpathSync(onPath)));
  return candidates.find((d) => fs.existsSync(path.join(d, 'initdb')) && fs.existsSync(path.join(d, 'postgres'))) ?? null;
}

const PG_BIN = findPgBin();
// The node that runs the app: the host's by default; DEMO_APP_NODE=/path/to/node18 checks the
// container's minimum (Debian 12's Node 18).
const APP_NODE = process.env.DEMO_APP_NODE || process.execPath;
const REDIS_SERVER = process.env.REDIS_SERVER
  ? fs.existsSync(process.env.REDIS_SERVER) ? process.env.REDIS_SERVER : null
  : which('redis-server') ?? (fs.existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : null);
// Both are checked (no short-circuit): locally a machine missing both hears of both.
const noPg = missingPrerequisite('PostgreSQL server binaries (initdb, postgres; or set PG_BIN)', PG_BIN !== null, 'apt-get install -y postgresql-15');
const noRedis = missingPrerequisite('redis-server (or set REDIS_SERVER)', REDIS_SERVER !== null, 'apt-get install -y redis-server');
const skip = noPg || noRedis;

// ------------------------------------------------------------------------------------------------
// helpers

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T>, timeoutMs: number, diag: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await fn();
    } catch (e) {
      last = e;
      await sleep(100);
    }
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms: ${String(last)}\n${diag()}`);
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      return resolve({ code: child.exitCode, signal: child.signalCode, ms: 0 });
    }
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - t0 });
    });
  });
}

/** uid/gid to run PostgreSQL as when we are root (it refuses to run as root). */
function pgUser(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  const entry = passwd.find((f) => f[0] === 'postgres') ?? passwd.find((f) => f[0] === 'nobody');
  if (!entry) throw new Error('running as root and found neither a postgres nor a nobody user');
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** The host's postgres package folder ('postgres/package.json' is not in its "exports"). */
function postgresPackageDir(): string {
  let dir = path.dirname(require.resolve('postgres'));
  while (dir !== path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'postgres') return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the postgres package folder');
}

function chownR(p: string, uid: number, gid: number) {
  fs.chownSync(p, uid, gid);
  if (fs.statSync(p).isDirectory()) for (const f of fs.readdirSync(p)) chownR(path.join(p, f), uid, gid);
}

// ------------------------------------------------------------------------------------------------
// fixture

const PG_USER = 'staging';
const PG_PASSWORD = 'pg-Secret-' + Math.random().toString(36).slice(2);
const PG_DB = 'staging_db';
const REDIS_PASSWORD = 'redis-Secret-' + Math.random().toString(36).slice(2);

let tmp = '';
let pgProc: ChildProcess | undefined;
let redisProc: ChildProcess | undefined;
let appProc: ChildProcess | undefined;
let pgPort = 0;
let redisPort = 0;
let appPort = 0;
let base = '';
let appOut = '';
let pgLog = '';
let sql: ReturnType<typeof postgres> | undefined;

async function startPostgres() {
  const owner = pgUser();
  const pgRoot = path.join(tmp, 'pg');
  fs.mkdirSync(pgRoot);
  const pwfile = path.join(pgRoot, 'pwfile');
  fs.writeFileSync(pwfile, PG_PASSWORD + '\n', { mode: 0o600 });
  if (owner) chownR(pgRoot, owner.uid, owner.gid);
  const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const data = path.join(pgRoot, 'data');
  const init = spawnSync(
    path.join(PG_BIN!, 'initdb'),
    ['-D', data, '-U', PG_USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync'],
    { ...ids, encoding: 'utf8', timeout: 60_000 },
  );
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr}\n${init.stdout}`);
  pgPort = await freePort();
  pgProc = spawn(
    path.join(PG_BIN!, 'postgres'),
    ['-D', data, '-p', String(pgPort), '-c', 'listen_addresses=127.0.0.1', '-k', pgRoot, '-c', 'fsync=off', '-c', 'full_page_writes=off'],
    { ...ids, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  pgProc.stdout!.on('data', (d) => (pgLog += d));
  pgProc.stderr!.on('data', (d) => (pgLog += d));
  const admin = postgres({ host: '127.0.0.1', port: pgPort, user: PG_USER, password: PG_PASSWORD, database: 'postgres', max: 1, onnotice: () => {} });
  await waitFor('postgres', () => admin`select 1`, 30_000, () => pgLog);
  await admin.unsafe(`create database ${PG_DB}`);
  await admin.end();
  sql = postgres({ host: '127.0.0.1', port: pgPort, user: PG_USER, password: PG_PASSWORD, database: PG_DB, max: 1, onnotice: () => {} });
}

async function startRedis() {
  redisPort = await freePort();
  const dir = path.join(tmp, 'redis');
  fs.mkdirSync(dir);
  redisProc = spawn(
    REDIS_SERVER!,
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--requirepass', REDIS_PASSWORD, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  await waitFor(
    'redis',
    () =>
      new Promise<void>((resolve, reject) => {
        const s = net.connect(redisPort, '127.0.0.1', () => {
          s.end();
          resolve();
        });
        s.on('error', reject);
      }),
    10_000,
  );
}

async function startApp() {
  // The container layout: the folder at /app, the host's postgres package at /app/node_modules/postgres.
  const app = path.join(tmp, 'app');
  fs.cpSync(APP_SRC, app, { recursive: true });
  fs.mkdirSync(path.join(app, 'node_modules'));
  fs.symlinkSync(postgresPackageDir(), path.join(app, 'node_modules', 'postgres'), 'dir');
  appPort = await freePort();
  base = `http://127.0.0.1:${appPort}`;
  appProc = spawn(APP_NODE, [path.join(app, 'server.js')], {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DATABASE_URL: `postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${pgPort}/${PG_DB}?schema=public`,
      REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redisPort}`,
      PORT: String(appPort),
      HOST: '127.0.0.1',
      NODE_ENV: 'staging',
      ROLE_MIGRATION_MODE: 'true',
      ENABLE_UNIVERSAL_DASHBOARD: 'false',
      DISABLE_ROLE_SELECTION: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  appProc.stdout!.on('data', (d) => (appOut += d));
  appProc.stderr!.on('data', (d) => (appOut += d));
  await waitFor('demo app', () => fetch(`${base}/`).then((r) => r.status), 15_000, () => appOut);
}

async function getJson(p: string) {
  const res = await fetch(base + p);
  const text = await res.text();
  return { res, text, body: JSON.parse(text) as any };
}

// ------------------------------------------------------------------------------------------------

describe.skipIf(skip)('demo app (compose/demo-app)', () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rehearse-demo-app-'));
    fs.chmodSync(tmp, 0o755); // PostgreSQL runs as another user when we are root
    await Promise.all([startPostgres(), startRedis()]);
    await startApp();
  }, 90_000);

  afterAll(async () => {
    await sql?.end({ timeout: 1 }).catch(() => {});
    for (const [p, sig] of [
      [appProc, 'SIGKILL'],
      [redisProc, 'SIGTERM'],
      [pgProc, 'SIGINT'],
    ] as const) {
      if (p && p.exitCode === null && p.signalCode === null) {
        p.kill(sig);
        await waitExit(p, 10_000).catch(() => p.kill('SIGKILL'));
      }
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  it('GET /api/health is 200 with both PostgreSQL and Redis up', async () => {
    const { res, body } = await getJson('/api/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(body.status).toBe('ok');
    expect(body.checks.postgres).toMatchObject({ ok: true });
    expect(body.checks.redis).toMatchObject({ ok: true });
    expect(body.checks.postgres.latencyMs).toBeTypeOf('number');
    expect(body.checks.redis.latencyMs).toBeTypeOf('number');
    expect(body.checks.postgres.error).toBeUndefined();
    expect(body.environment).toBe('staging');
    expect(body.flags).toEqual({ ROLE_MIGRATION_MODE: true, ENABLE_UNIVERSAL_DASHBOARD: false, DISABLE_ROLE_SELECTION: true });
    expect(body.uptimeSeconds).toBeTypeOf('number');
  });

  it('answers 503 with the hint while the tables do not exist yet', async () => {
    for (const [p, table] of [
      ['/api/users', 'users'],
      ['/api/users/roles', 'users'],
      ['/api/stories', 'stories'],
    ]) {
      const { res, body } = await getJson(p);
      expect(res.status, p).toBe(503);
      expect(body, p).toEqual({ error: `table "${table}" does not exist yet`, hint: 'run `rehearse data` to load the staging subset' });
    }
  });

  it('lists users (id, role, createdAt only) a page at a time, and the role histogram, once the table exists', async () => {
    await sql!.unsafe(`
      create type "UserRole" as enum ('LEARNER', 'TEACHER', 'WRITER', 'INSTITUTION', 'ADMIN');
      create table public.users (
        "id" text primary key,
        "email" text not null unique,
        "name" text,
        "role" "UserRole" not null default 'LEARNER',
        "createdAt" timestamp(3) not null default current_timestamp,
        "deletedAt" timestamp(3)
      );
      insert into public.users ("id", "email", "name", "role", "createdAt", "deletedAt") values
        ('u1', 'ann@example.org',  'Ann',  'LEARNER', '2024-01-01 10:00', null),
        ('u2', 'bob@example.org',  'Bob',  'LEARNER', '2024-01-02 10:00', null),
        ('u3', 'cid@example.org',  'Cid',  'LEARNER', '2024-01-03 10:00', '2024-02-01 00:00'),
        ('u4', 'dee@example.org',  'Dee',  'TEACHER', '2024-01-04 10:00', null),
        ('u5', 'eve@example.org',  'Eve',  'TEACHER', '2024-01-05 10:00', null),
        ('u6', 'fay@example.org',  'Fay',  'ADMIN',   '2024-01-06 10:00', null);
    `);

    const all = await getJson('/api/users');
    expect(all.res.status).toBe(200);
    expect(all.body.limit).toBe(20);
    expect(all.body.users.map((u: any) => u.id)).toEqual(['u1', 'u2', 'u4', 'u5', 'u6']); // by id (the primary key's index), soft-deleted left out
    expect(all.body.next).toBeNull(); // one page holds them all
    for (const u of all.body.users) {
      expect(Object.keys(u).sort()).toEqual(['createdAt', 'id', 'role']);
      expect(Number.isNaN(Date.parse(u.createdAt))).toBe(false);
    }
    expect(all.text).not.toMatch(/@example\.org|email|"name"|Ann|Bob/);

    // Keyset pages: each page's `next` is the `after` of the following one, until null.
    const pages: string[][] = [];
    let after: string | null = '';
    while (after !== null) {
      const { body } = await getJson(`/api/users?limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`);
      expect(body.count).toBe(body.users.length);
      pages.push(body.users.map((u: any) => u.id));
      after = body.next;
      expect(pages.length).toBeLessThan(5);
    }
    expect(pages).toEqual([['u1', 'u2'], ['u4', 'u5'], ['u6']]);
    const teachers = await getJson('/api/users?role=TEACHER');
    expect(teachers.body.users.map((u: any) => [u.id, u.role])).toEqual([['u4', 'TEACHER'], ['u5', 'TEACHER']]);
    expect((await getJson('/api/users?role=TEACHER&after=u4')).body.users.map((u: any) => u.id)).toEqual(['u5']);
    expect((await getJson(`/api/users?after=${'x'.repeat(201)}`)).res.status).toBe(400);
    const unknownRole = await getJson('/api/users?role=NOPE');
    expect(unknownRole.res.status).toBe(200);
    expect(unknownRole.body.users).toEqual([]);
    expect((await getJson('/api/users?limit=1000')).body.limit).toBe(100);
    expect((await getJson('/api/users?limit=abc')).res.status).toBe(400);
    expect((await getJson(`/api/users?role=${encodeURIComponent("x' or 1=1 --")}`)).res.status).toBe(400);

    const roles = await getJson('/api/users/roles');
    expect(roles.res.status).toBe(200);
    expect(roles.body).toEqual({ roles: { LEARNER: 2, TEACHER: 2, WRITER: 0, INSTITUTION: 0, ADMIN: 1 }, total: 5 });
  });

  it('lists published stories once the table exists', async () => {
    await sql!.unsafe(`
      create table public.stories (
        "id" text primary key, "title" text not null, "authorId" text, "isPublished" boolean not null default false,
        "language" text not null default 'en', "createdAt" timestamp(3) not null default current_timestamp
      );
      insert into public.stories values
        ('s1', 'The Moon Drum', 'u5', true, 'en', '2024-03-01'),
        ('s2', 'Draft', 'u5', false, 'en', '2024-03-02'),
        ('s3', 'El río', 'u4', true, 'es', '2024-03-03');
    `);
    const { res, body } = await getJson('/api/stories?limit=5');
    expect(res.status).toBe(200);
    expect(body.stories.map((s: any) => [s.id, s.title, s.authorId, s.language])).toEqual([
      ['s1', 'The Moon Drum', 'u5', 'en'],
      ['s3', 'El río', 'u4', 'es'],
    ]);
    expect(body.next).toBeNull();
    const first = await getJson('/api/stories?limit=1');
    expect(first.body).toMatchObject({ count: 1, limit: 1, next: 's1' });
    expect((await getJson('/api/stories?limit=1&after=s1')).body.stories.map((s: any) => s.id)).toEqual(['s3']);
  });

  it('serves the home page with a secure session cookie and no X-Powered-By', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('1001 Stories — staging');
    expect(res.headers.get('x-powered-by')).toBeNull();
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const parts = cookies[0]!.split(';').map((s) => s.trim());
    expect(parts[0]).toMatch(/^staging_session=[0-9a-f]{32}$/);
    expect(parts).toEqual(expect.arrayContaining(['Path=/', 'Secure', 'HttpOnly', 'SameSite=Lax']));

    for (const p of ['/api/health', '/api/users', '/nope', '/static/app.css']) {
      const r = await fetch(base + p);
      await r.arrayBuffer();
      expect(r.headers.get('x-powered-by'), p).toBeNull();
    }
  });

  it('serves /static/app.css with a content type and cache headers', async () => {
    const res = await fetch(`${base}/static/app.css`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(await res.text()).toBe(fs.readFileSync(path.join(APP_SRC, 'static', 'app.css'), 'utf8'));
    const again = await fetch(`${base}/static/app.css`, { headers: { 'If-None-Match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('answers JSON 404 for unknown paths and 405 for other methods; HEAD works', async () => {
    const nf = await getJson('/api/nope');
    expect(nf.res.status).toBe(404);
    expect(nf.res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(nf.body.error).toBe('not found');
    expect((await fetch(`${base}/static/../server.js`)).status).toBe(404);

    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${base}/api/users`, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect((await res.json()).error).toBe('method not allowed');
    }

    const head = await fetch(`${base}/static/app.css`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('stays healthy right after a burst like validate\'s load test (500 health requests, 20 at a time)', async () => {
    // Redis counts every command exactly: the number of PINGs is the number of health checks run.
    const pings = () => Number(/cmdstat_ping:calls=(\d+)/.exec(spawnSync('redis-cli', ['-p', String(redisPort), '--no-auth-warning', '-a', REDIS_PASSWORD, 'INFO', 'commandstats'], { encoding: 'utf8' }).stdout)?.[1] ?? 0);
    const before = pings();
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < 500) {
          next++;
          const res = await fetch(`${base}/api/health`);
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      }),
    );
    expect(statuses).toHaveLength(500);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Concurrent requests share one in-flight check: far fewer than 500 checks ran.
    const checks = pings() - before;
    console.log(`[demo-app.test] 500 health requests ran ${checks} checks`);
    expect(checks).toBeGreaterThan(0);
    expect(checks).toBeLessThan(250);
    for (let i = 0; i < 5; i++) expect((await getJson('/api/health')).res.status).toBe(200);
  });

  it('recovers on its own after PostgreSQL stalls past the health timeout: timeouts release the connection', async () => {
    // Stall the server: the postmaster and every backend of the app stop answering.
    const backends = (await sql!`SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'rehearse-demo-app%'`).map((r) => r.pid as number);
    expect(backends.length).toBeGreaterThan(0);
    const stalled = [pgProc!.pid!, ...backends];
    for (const pid of stalled) process.kill(pid, 'SIGSTOP');
    const stuck = await Promise.all(
      Array.from({ length: 3 }, () =>
        getJson('/api/health')
          .then((r) => r.res.status)
          .catch(() => 0),
      ),
    );
    for (const pid of stalled) process.kill(pid, 'SIGCONT');
    expect(stuck.every((s) => s === 503 || s === 200)).toBe(true);
    const until = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < until && status !== 200) {
      status = (await getJson('/api/health')).res.status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await getJson('/api/health')).res.status).toBe(200);
  });

  it('reports Redis down as 503 (PostgreSQL still ok) and keeps serving', async () => {
    redisProc!.kill('SIGTERM');
    await waitExit(redisProc!, 10_000);
    const t0 = Date.now();
    const { res, body } = await getJson('/api/health');
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(res.status).toBe(503);
    expect(body.status).toBe('degraded');
    expect(body.checks.postgres.ok).toBe(true);
    expect(body.checks.redis.ok).toBe(false);
    expect(body.checks.redis.error).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify(body)).not.toContain(REDIS_PASSWORD);

    expect((await getJson('/api/users/roles')).res.status).toBe(200);
    expect((await fetch(`${base}/`)).status).toBe(200);
  });

  it('logs one access line per request without query strings or secrets', () => {
    expect(appOut).toMatch(/GET \/api\/health 200 \d+(\.\d+)?ms/);
    expect(appOut).toMatch(/GET \/api\/users 503 /);
    expect(appOut).toMatch(/POST \/api\/users 405 /);
    expect(appOut).not.toContain('limit=');
    expect(appOut).not.toContain(PG_PASSWORD);
    expect(appOut).not.toContain(REDIS_PASSWORD);
  });

  it('exits with code 0 within 5 s on SIGTERM', async () => {
    // A keep-alive connection is open from the earlier fetches; it must not hold the exit.
    appProc!.kill('SIGTERM');
    const { code, signal, ms } = await waitExit(appProc!, 5_000);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(5_000);
    expect(appOut).toContain('shutdown complete');
  }, 10_000);
});

// The RESP client on its own: wrong password and a server that never answers.
describe('demo app redis client', () => {
  const { createRedis } = require(path.join(APP_SRC, 'lib', 'redis.js')) as {
    createRedis: (url: string, o?: { timeoutMs?: number }) => { ping(): Promise<string>; get(k: string): Promise<string | null>; set(k: string, v: string, ttl?: number): Promise<string> };
  };

  it('times out against a server that accepts but never replies', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as net.AddressInfo;
    const t0 = Date.now();
    await expect(createRedis(`redis://:pw@127.0.0.1:${port}`, { timeoutMs: 300 }).ping()).rejects.toThrow(/timeout after 300 ms/);
    expect(Date.now() - t0).toBeLessThan(2_000);
    silent.close();
  });

  it('talks RESP: AUTH, PING, SET/GET, and reports AUTH failures without the password', async () => {
    // A scripted fake Redis, so this part runs without redis-server.
    const seen: string[] = [];
    const fake = net.createServer((sock) => {
      let buf = '';
      let authed = false;
      const store = new Map<string, string>();
      sock.on('data', (d) => {
        buf += d.toString();
        for (;;) {
          const m = /^\*(\d+)\r\n/.exec(buf);
          if (!m) return;
          let pos = m[0].length;
          const args: string[] = [];
          for (let i = 0; i < Number(m[1]); i++) {
            const h = /^\$(\d+)\r\n/.exec(buf.slice(pos));
            if (!h) return;
            pos += h[0].length;
            const len = Number(h[1]);
            if (buf.length < pos + len + 2) return;
            args.push(buf.slice(pos, pos + len));
            pos += len + 2;
          }
          buf = buf.slice(pos);
          seen.push(args[0]!.toUpperCase());
          const [cmd, ...rest] = args;
          if (cmd === 'AUTH') {
            authed = rest[rest.length - 1] === 'right';
            sock.write(authed ? '+OK\r\n' : '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
          } else if (!authed) sock.write('-NOAUTH Authentication required.\r\n');
          else if (cmd === 'PING') sock.write('+PONG\r\n');
          else if (cmd === 'SET') (store.set(rest[0]!, rest[1]!), sock.write('+OK\r\n'));
          else if (cmd === 'GET') {
            const v = store.get(rest[0]!);
            sock.write(v === undefined ? '$-1\r\n' : `$${Buffer.byteLength(v)}\r\n${v}\r\n`);
          } else sock.write(`-ERR unknown command '${cmd}'\r\n`);
        }
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const { port } = fake.address() as net.AddressInfo;

    expect(await createRedis(`redis://:right@127.0.0.1:${port}`).ping()).toBe('PONG');
    expect(seen.slice(-2)).toEqual(['AUTH', 'PING']);
    const err = await createRedis(`redis://:wrong-Secret@127.0.0.1:${port}`).ping().catch((e: Error) => e);
    expect(String(err)).toMatch(/AUTH failed: WRONGPASS/);
    expect(String(err)).not.toContain('wrong-Secret');

    // SET/GET across two connections does not share the fake's per-connection store, so check replies only.
    expect(await createRedis(`redis://:right@127.0.0.1:${port}`).set('k', 'v', 60)).toBe('OK');
    expect(await createRedis(`redis://:right@127.0.0.1:${port}`).get('missing')).toBeNull();
    fake.close();
  });
});
