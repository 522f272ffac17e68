'use strict';
// 1001 Stories — staging stand-in app, run by the `app-staging` service of the rehearse stack.
//
//   node /app/server.js
//
// Node built-ins (Node 18+) plus the `postgres` package, bind-mounted read-only at
// /app/node_modules/postgres. Configuration comes from the environment only; secrets
// (passwords in DATABASE_URL / REDIS_URL) are never logged or returned.

const http = require('http');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { createRedis, parseRedisUrl } = require('./lib/redis');

const startedAt = Date.now();
let shuttingDown = false;
const ENV = process.env;
const PORT = parsePort(ENV.PORT, 3000);
const HOST = ENV.HOST || '0.0.0.0';
const NODE_ENV = ENV.NODE_ENV || 'development';
const CHECK_TIMEOUT_MS = 2000;
const QUERY_TIMEOUT_MS = 5000;
const SHUTDOWN_DEADLINE_MS = 4000;
const FLAG_NAMES = ['ROLE_MIGRATION_MODE', 'ENABLE_UNIVERSAL_DASHBOARD', 'DISABLE_ROLE_SELECTION'];
const HINT = 'run `rehearse data` to load the staging subset';

// ---------------------------------------------------------------------------------------------
// helpers

function parsePort(raw, fallback) {
  const n = Number(raw);
  return raw && Number.isInteger(n) && n > 0 && n < 65536 ? n : fallback;
}

function flag(raw) {
  return /^(1|true|yes|on|enabled?)$/i.test(String(raw || '').trim());
}

function flags() {
  const out = {};
  for (const name of FLAG_NAMES) out[name] = flag(ENV[name]);
  return out;
}

/** Short, single-line error text with anything that looks like credentials masked. */
function errorText(err) {
  const e = err || {};
  let msg = e.message || String(e);
  if (!e.message && e.code) msg = e.code;
  else if (e.code && !msg.includes(e.code) && /^[A-Z_]+$/.test(e.code)) msg = `${e.code}: ${msg}`;
  return msg
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@')
    .replace(/\s+/g, ' ')
    .slice(0, 200);
}

function log(msg) {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

function withTimeout(promise, ms, onTimeout) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => {
        if (onTimeout) {
          try { onTimeout(); } catch (_) { /* ignore */ }
        }
        reject(new Error(`timeout after ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

// Prisma-style URL parameters that postgres.js would otherwise forward as (invalid) server
// startup parameters.
const PRISMA_PARAMS = ['schema', 'connection_limit', 'pool_timeout', 'pgbouncer', 'socket_timeout', 'statement_cache_size'];

let sql = null;
let healthSql = null;
let connectHealth = null;
let dbConfigError = null;
let dbTarget = '(unset)';

function initPostgres() {
  const raw = ENV.DATABASE_URL;
  if (!raw) {
    dbConfigError = 'DATABASE_URL is not set';
    return;
  }
  let url;
  try {
    url = new URL(raw);
  } catch (_) {
    dbConfigError = 'DATABASE_URL is not a valid URL';
    return;
  }
  for (const p of PRISMA_PARAMS) url.searchParams.delete(p);
  dbTarget = `${url.hostname}:${url.port || 5432}${url.pathname}`;
  let postgres;
  try {
    postgres = require('postgres');
  } catch (e) {
    dbConfigError = `cannot load the postgres package (${errorText(e)}); expected at /app/node_modules/postgres`;
    return;
  }
  // Health has a connection of its own: a pool busy with slow app queries can never starve it, and
  // a wedged health connection is thrown away (see checkPostgres) instead of holding a pool slot.
  connectHealth = () =>
    postgres(url.toString(), {
      max: 1,
      idle_timeout: 30,
      connect_timeout: CHECK_TIMEOUT_MS / 1000,
      onnotice: () => {},
      connection: { application_name: 'rehearse-demo-app-health', statement_timeout: CHECK_TIMEOUT_MS },
    });
  sql = postgres(url.toString(), {
    max: 5,
    idle_timeout: 30,
    connect_timeout: CHECK_TIMEOUT_MS / 1000,
    max_lifetime: 60 * 30,
    onnotice: () => {},
    connection: {
      application_name: 'rehearse-demo-app',
      statement_timeout: QUERY_TIMEOUT_MS,
    },
  });
}

async function query(run, ms = QUERY_TIMEOUT_MS) {
  if (!sql) throw Object.assign(new Error(dbConfigError || 'database not configured'), { code: 'NOT_CONFIGURED' });
  const q = run(sql);
  return withTimeout(q, ms, () => q.cancel && q.cancel());
}

// ---------------------------------------------------------------------------------------------
// Redis

let redis = null;
let redisConfigError = null;
function initRedis() {
  if (!ENV.REDIS_URL) {
    redisConfigError = 'REDIS_URL is not set';
    return;
  }
  try {
    parseRedisUrl(ENV.REDIS_URL);
    redis = createRedis(ENV.REDIS_URL, { timeoutMs: CHECK_TIMEOUT_MS });
  } catch (e) {
    redisConfigError = errorText(e);
  }
}

// ---------------------------------------------------------------------------------------------
// checks

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const ms = () => Math.round(Number(process.hrtime.bigint() - t0) / 1e5) / 10;
  try {
    await fn();
    return { ok: true, latencyMs: ms() };
  } catch (e) {
    return { ok: false, latencyMs: ms(), error: errorText(e) };
  }
}

/**
 * Concurrent callers share one in-flight check: a burst of /api/health requests (a load test, a
 * restart storm) costs one query at a time instead of a queue that outlives the burst by minutes.
 */
function singleFlight(fn) {
  let inflight = null;
  return () => {
    if (!inflight) inflight = fn().finally(() => { inflight = null; });
    return inflight;
  };
}

const checkPostgres = singleFlight(() =>
  timed(async () => {
    if (!connectHealth) throw Object.assign(new Error(dbConfigError || 'database not configured'), { code: 'NOT_CONFIGURED' });
    if (!healthSql) healthSql = connectHealth();
    const conn = healthSql;
    const q = conn`select 1 as ok`;
    try {
      const rows = await withTimeout(q, CHECK_TIMEOUT_MS, () => q.cancel && q.cancel());
      if (!rows.length || rows[0].ok !== 1) throw new Error('unexpected reply to SELECT 1');
    } catch (e) {
      // The next check starts on a fresh connection; this one is closed without waiting for it.
      if (healthSql === conn) healthSql = null;
      conn.end({ timeout: 0 }).catch(() => {});
      throw e;
    }
  }),
);

const checkRedis = singleFlight(() =>
  timed(async () => {
    if (!redis) throw new Error(redisConfigError || 'redis not configured');
    const reply = await withTimeout(redis.ping(), CHECK_TIMEOUT_MS + 100);
    if (reply !== 'PONG') throw new Error(`unexpected reply to PING: ${String(reply).slice(0, 40)}`);
  }),
);

// ---------------------------------------------------------------------------------------------
// HTTP plumbing

const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
};

function send(req, res, status, body, headers) {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const extra = {};
  if (status !== 304) extra['Content-Length'] = buf.length;
  if (shuttingDown) extra.Connection = 'close';
  res.writeHead(status, { ...BASE_HEADERS, ...extra, ...headers });
  if (req.method === 'HEAD' || status === 304) res.end();
  else res.end(buf);
}

function sendJson(req, res, status, obj, headers) {
  send(req, res, status, JSON.stringify(obj), {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    ...headers,
  });
}

/** Maps a database error to an HTTP answer. */
/** True when the public schema holds tables: the data step has run, so a missing table is this schema's shape. */
async function schemaLoaded() {
  try {
    const [row] = await query((s) => s`select exists (select 1 from pg_tables where schemaname = 'public') as "loaded"`);
    return !!row.loaded;
  } catch {
    return false;
  }
}

async function sendDbError(req, res, err, table) {
  const code = err && err.code;
  if (code === '42P01' || code === '42703' || code === '42704') {
    // With a schema loaded, the route does not apply to it (a schema that is not the demo's): 501
    // "n/a" with the reason, so a validator can tell it from a failure. Without one, it is early.
    if (await schemaLoaded()) {
      const reason = code === '42P01' ? `this database has no table public.${table}` : `public.${table} lacks a column this route reads (${errorText(err)})`;
      return sendJson(req, res, 501, { status: 'n/a', error: `this route does not apply to this schema`, reason });
    }
    if (code === '42P01') return sendJson(req, res, 503, { error: `table "${table}" does not exist yet`, hint: HINT });
    return sendJson(req, res, 503, { error: `table "${table}" does not have the expected schema`, detail: errorText(err), hint: HINT });
  }
  const unavailable =
    code === 'NOT_CONFIGURED' ||
    /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|CONNECT_TIMEOUT|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|28P01|28000|3D000|57P01|57P03|57014|53300)$/.test(code || '') ||
    /^timeout after/.test((err && err.message) || '');
  log(`[error] ${req.method} ${safePath(req)} ${errorText(err)}`);
  if (unavailable) return sendJson(req, res, 503, { error: 'database unavailable', detail: errorText(err) });
  return sendJson(req, res, 500, { error: 'internal error' });
}

function pathOf(req) {
  const raw = req.url || '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function safePath(req) {
  // Path only (the query string is never logged), printable ASCII, bounded.
  return pathOf(req).replace(/[^\x21-\x7e]/g, '?').slice(0, 200);
}

function searchParams(req) {
  const raw = req.url || '';
  const q = raw.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
}

/**
 * Keyset pagination of the list routes: `after` is the last id of the previous page (its `next`), so
 * each page is one range scan of the primary key's index, whatever the size of the table. An OFFSET
 * would read and skip every row before the page.
 */
function parseAfter(params) {
  const raw = params.get('after');
  if (raw === null || raw === '') return {};
  if (raw.length > 200) return { error: 'after must be the `next` value of the previous page' };
  return { after: raw };
}

/** A page of rows and the cursor of the next one (null on the last page). */
function page(rows, limit) {
  return { count: rows.length, limit, next: rows.length === limit ? rows[rows.length - 1].id : null };
}

/** limit: default 20, clamped to 1..100; anything that is not a positive integer is an error. */
function parseLimit(params) {
  const raw = params.get('limit');
  if (raw === null || raw === '') return { limit: 20 };
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) return { error: 'limit must be a positive integer (max 100)' };
  return { limit: Math.min(Number(raw), 100) };
}

// ---------------------------------------------------------------------------------------------
// routes

const cssPath = path.join(__dirname, 'static', 'app.css');
let css = null;
try {
  const body = fs.readFileSync(cssPath);
  css = { body, etag: `"${crypto.createHash('sha1').update(body).digest('hex').slice(0, 16)}"` };
} catch (e) {
  log(`[warn] static asset missing: ${cssPath} (${errorText(e)})`);
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function sessionCookie(req) {
  const m = /(?:^|;\s*)staging_session=([0-9a-f]{32})(?:;|$)/.exec(req.headers.cookie || '');
  const id = m ? m[1] : crypto.randomBytes(16).toString('hex');
  return `staging_session=${id}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

function home(req, res) {
  const f = flags();
  const flagList = FLAG_NAMES.map((n) => `<li><code>${n}</code>: ${f[n] ? 'on' : 'off'}</li>`).join('');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>1001 Stories — staging</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>
<div class="banner">STAGING — ${escapeHtml(NODE_ENV)}</div>
<main>
<h1>1001 Stories — staging</h1>
<p>Stand-in app for the migration rehearsal. Data comes from the staging subset.</p>
<ul>
<li><a href="/api/health">/api/health</a></li>
<li><a href="/api/users">/api/users</a> · <a href="/api/users/roles">/api/users/roles</a></li>
<li><a href="/api/stories">/api/stories</a></li>
</ul>
<h2>Flags</h2>
<ul>${flagList}</ul>
</main>
</body>
</html>
`;
  send(req, res, 200, html, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'Set-Cookie': sessionCookie(req),
  });
}

function staticCss(req, res) {
  if (!css) return sendJson(req, res, 404, { error: 'not found' });
  const headers = {
    'Content-Type': 'text/css; charset=utf-8',
    'Cache-Control': 'public, max-age=3600',
    ETag: css.etag,
  };
  if (req.headers['if-none-match'] === css.etag) return send(req, res, 304, '', headers);
  return send(req, res, 200, css.body, headers);
}

async function health(req, res) {
  const [postgresCheck, redisCheck] = await Promise.all([checkPostgres(), checkRedis()]);
  const ok = postgresCheck.ok && redisCheck.ok;
  sendJson(req, res, ok ? 200 : 503, {
    status: ok ? 'ok' : 'degraded',
    checks: { postgres: postgresCheck, redis: redisCheck },
    environment: NODE_ENV,
    flags: flags(),
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
  });
}

async function users(req, res) {
  const params = searchParams(req);
  const { limit, error } = parseLimit(params);
  if (error) return sendJson(req, res, 400, { error });
  const { after, error: afterError } = parseAfter(params);
  if (afterError) return sendJson(req, res, 400, { error: afterError });
  const role = params.get('role');
  if (role !== null && !/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(role)) {
    return sendJson(req, res, 400, { error: 'role must be a role name such as LEARNER' });
  }
  try {
    // Soft-deleted users are left out; the role is compared as text so an unknown role gives
    // an empty list instead of an enum cast error. Ordered by id: the primary key's index.
    const rows = await query((s) => s`
      select "id", "role"::text as "role", "createdAt"
      from public.users
      where "deletedAt" is null ${role ? s`and "role"::text = ${role}` : s``} ${after !== undefined ? s`and "id" > ${after}` : s``}
      order by "id"
      limit ${limit}`);
    const list = rows.map((r) => ({ id: r.id, role: r.role, createdAt: r.createdAt }));
    sendJson(req, res, 200, { users: list, ...page(list, limit), role: role || null });
  } catch (e) {
    await sendDbError(req, res, e, 'users');
  }
}

async function userRoles(req, res) {
  try {
    const [labels, counts] = await Promise.all([
      // Every label of the "UserRole" enum (empty when the type does not exist), so roles
      // without users show up as 0.
      query((s) => s`
        select e.enumlabel as label
        from pg_type t
        join pg_namespace n on n.oid = t.typnamespace
        join pg_enum e on e.enumtypid = t.oid
        where t.typname = 'UserRole' and n.nspname = 'public'
        order by e.enumsortorder`),
      query((s) => s`
        select "role"::text as "role", count(*)::int as "n"
        from public.users
        where "deletedAt" is null
        group by 1
        order by 1`),
    ]);
    const roles = {};
    for (const { label } of labels) roles[label] = 0;
    let total = 0;
    for (const { role, n } of counts) {
      roles[role === null ? 'NULL' : role] = n;
      total += n;
    }
    sendJson(req, res, 200, { roles, total });
  } catch (e) {
    await sendDbError(req, res, e, 'users');
  }
}

async function stories(req, res) {
  const params = searchParams(req);
  const { limit, error } = parseLimit(params);
  if (error) return sendJson(req, res, 400, { error });
  const { after, error: afterError } = parseAfter(params);
  if (afterError) return sendJson(req, res, 400, { error: afterError });
  try {
    const rows = await query((s) => s`
      select "id", "title", "authorId", "language", "createdAt"
      from public.stories
      where "isPublished" = true ${after !== undefined ? s`and "id" > ${after}` : s``}
      order by "id"
      limit ${limit}`);
    const list = rows.map((r) => ({ id: r.id, title: r.title, authorId: r.authorId, language: r.language, createdAt: r.createdAt }));
    sendJson(req, res, 200, { stories: list, ...page(list, limit) });
  } catch (e) {
    await sendDbError(req, res, e, 'stories');
  }
}

// ---------------------------------------------------------------------------------------------
// Prometheus metrics, in the text exposition format written by hand: the app has no npm install
// step (its only dependency is bind-mounted), and a histogram and three gauges need no library.

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const latency = new Map(); // "method route status" → { labels, counts per bucket, sum, count }

function observe(method, route, status, seconds) {
  const key = `${method} ${route} ${status}`;
  let h = latency.get(key);
  if (!h) {
    h = { labels: `method="${method}",route="${route}",status="${status}"`, counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
    latency.set(key, h);
  }
  LATENCY_BUCKETS.forEach((le, i) => { if (seconds <= le) h.counts[i] += 1; });
  h.sum += seconds;
  h.count += 1;
}

const labelValue = (v) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

async function roleMetrics() {
  const [byRole, learners] = await Promise.all([
    query((s) => s`select "role"::text as "role", count(*)::int as "n" from public.users where "deletedAt" is null group by 1 order by 1`),
    query((s) => s`select count(*)::int as "n" from public.users where "role"::text = 'LEARNER' and "deletedAt" is null`),
  ]);
  return { byRole, learners: learners[0].n };
}

async function metrics(req, res) {
  const lines = [];
  const family = (name, type, help) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  family('stories_http_request_duration_seconds', 'histogram', 'Time to answer an HTTP request, by route.');
  for (const h of latency.values()) {
    LATENCY_BUCKETS.forEach((le, i) => lines.push(`stories_http_request_duration_seconds_bucket{${h.labels},le="${le}"} ${h.counts[i]}`));
    lines.push(`stories_http_request_duration_seconds_bucket{${h.labels},le="+Inf"} ${h.count}`);
    lines.push(`stories_http_request_duration_seconds_sum{${h.labels}} ${h.sum}`);
    lines.push(`stories_http_request_duration_seconds_count{${h.labels}} ${h.count}`);
  }
  family('stories_role_migration_mode', 'gauge', 'ROLE_MIGRATION_MODE flag of this app (1 on, 0 off).');
  lines.push(`stories_role_migration_mode ${flags().ROLE_MIGRATION_MODE ? 1 : 0}`);
  // Before the data step there is no users table: the role gauges are absent and _up says why.
  let roles = null;
  try {
    roles = await roleMetrics();
  } catch (e) {
    log(`[warn] /metrics: role metrics unavailable (${errorText(e)})`);
  }
  family('stories_role_metrics_up', 'gauge', '1 when the role metrics below could be read from the database.');
  lines.push(`stories_role_metrics_up ${roles ? 1 : 0}`);
  if (roles) {
    family('stories_users_by_role', 'gauge', 'Users that are not soft-deleted, by role.');
    for (const { role, n } of roles.byRole) lines.push(`stories_users_by_role{role="${labelValue(role === null ? 'NULL' : role)}"} ${n}`);
    family('stories_learners_remaining', 'gauge', 'LEARNER users (not soft-deleted) left to migrate to CUSTOMER.');
    lines.push(`stories_learners_remaining ${roles.learners}`);
  }
  family('process_resident_memory_bytes', 'gauge', 'Resident memory of the app process.');
  lines.push(`process_resident_memory_bytes ${process.memoryUsage().rss}`);
  family('process_start_time_seconds', 'gauge', 'Start time of the app process since the epoch.');
  lines.push(`process_start_time_seconds ${Math.floor(startedAt / 1000)}`);
  send(req, res, 200, lines.join('\n') + '\n', { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store' });
}

const routes = {
  '/': home,
  '/metrics': metrics,
  '/static/app.css': staticCss,
  '/api/health': health,
  '/api/users': users,
  '/api/users/roles': userRoles,
  '/api/stories': stories,
};

async function handle(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendJson(req, res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
  }
  const route = routes[pathOf(req)];
  if (!route) return sendJson(req, res, 404, { error: 'not found' });
  return route(req, res);
}

// ---------------------------------------------------------------------------------------------
// server

initPostgres();
initRedis();

const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  let logged = false;
  const access = (note) => {
    if (logged) return;
    logged = true;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    log(`${req.method} ${safePath(req)} ${res.statusCode} ${ms.toFixed(1)}ms${note}`);
  };
  res.on('finish', () => {
    access('');
    // Known routes by name, anything else as "other": the label set stays bounded.
    const route = routes[pathOf(req)] ? pathOf(req) : 'other';
    if (route !== '/metrics') observe(req.method, route, res.statusCode, Number(process.hrtime.bigint() - t0) / 1e9);
  });
  res.on('close', () => access(res.writableFinished ? '' : ' (aborted)'));
  Promise.resolve()
    .then(() => handle(req, res))
    .catch((e) => {
      log(`[error] ${req.method} ${safePath(req)} ${errorText(e)}`);
      if (!res.headersSent) sendJson(req, res, 500, { error: 'internal error' });
      else res.destroy();
    });
});
server.keepAliveTimeout = 5000;
server.headersTimeout = 10000;
server.requestTimeout = 30000;

server.on('clientError', (err, socket) => {
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  else socket.destroy();
});

server.on('error', (e) => {
  log(`[fatal] cannot listen on ${HOST}:${PORT}: ${errorText(e)}`);
  process.exit(1);
});

server.listen(PORT, HOST, () => {
  let redisTarget = '(unset)';
  try {
    if (redis) redisTarget = redis.describe();
  } catch (_) { /* ignore */ }
  log(`1001 Stories staging stand-in listening on ${HOST}:${PORT} (NODE_ENV=${NODE_ENV}, node ${process.version})`);
  log(`postgres: ${dbConfigError ? `not configured (${dbConfigError})` : dbTarget}; redis: ${redisConfigError ? `not configured (${redisConfigError})` : redisTarget}`);
  log(`flags: ${FLAG_NAMES.map((n) => `${n}=${flags()[n]}`).join(' ')}`);
  if (NODE_ENV !== 'staging') log(`[warn] NODE_ENV is "${NODE_ENV}", expected "staging"`);
});

function shutdown(signal) {
  if (shuttingDown) {
    log(`${signal} again, exiting now`);
    process.exit(1);
  }
  shuttingDown = true;
  log(`${signal} received, shutting down`);
  const deadline = setTimeout(() => {
    log('[warn] shutdown deadline reached, forcing exit');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS);
  const closed = new Promise((resolve) => server.close(() => resolve()));
  // Keep-alive sockets with no request in flight would otherwise hold close() open (Node 18
  // does not close them by itself); responses still in flight get `Connection: close`.
  const closeIdle = () => typeof server.closeIdleConnections === 'function' && server.closeIdleConnections();
  closeIdle();
  setInterval(closeIdle, 200).unref();
  Promise.all([closed, sql ? sql.end({ timeout: 2 }).catch(() => {}) : null, healthSql ? healthSql.end({ timeout: 2 }).catch(() => {}) : null])
    .then(() => {
      clearTimeout(deadline);
      log('shutdown complete');
      process.exit(0);
    });
}
process.on('unhandledRejection', (e) => log(`[error] unhandled rejection: ${errorText(e)}`));
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
