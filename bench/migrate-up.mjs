// The harness's `up` (lock, log every row with its snapshot, set the role, bump tokenVersion and
// updatedAt, in one transaction) beside a raw `UPDATE users SET role = 'CUSTOMER' WHERE
// role = 'LEARNER'`, on two identical copies of a large demo production made in the same run with
// CREATE DATABASE … TEMPLATE. Target: up within 1.5× the raw update. Also the lock figures of both.
// Usage: node bench/migrate-up.mjs [users] [--rounds N] [--batch-size N] [--keep] [--reuse]
// (--rounds: fresh copies each round, the order alternating; the median ratio counts)
// (--keep leaves the demo and the copies; --reuse takes a demo a previous --keep left, same users)
// (default 1,000,000 users, ~4 min to load; needs `npm run build` and the stand-in images).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os, { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const batchSize = Number(flag('--batch-size') ?? 0);
const roundCount = Number(flag('--rounds') ?? 1);
const option = (name) => args.includes(name) && !!args.splice(args.indexOf(name), 1);
const keep = option('--keep');
const reuse = option('--reuse');
const users = Number(args[0] ?? 1_000_000);
// A fixed folder: its .env.demo holds the password of the demo volume that --reuse takes again.
const workDir = path.join(os.tmpdir(), 'rehearse-bench-migrate');
mkdirSync(workDir, { recursive: true });
const project = 'rehearse-bench-migrate';
const demoPort = 26310;
writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project, demo: { port: demoPort } }));
const env = { ...process.env, REHEARSE_IMAGES: process.env.REHEARSE_IMAGES ?? 'local', CI: 'true' };
const bin = path.join(root, 'bin/rehearse');
const run = (cmd, argv) => {
  const r = spawnSync(cmd, argv, { cwd: workDir, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const n = (x) => x.toLocaleString('en-US');

const { loadConfig } = await import(path.join(root, 'dist/src/config.js'));
const { demoConnectionUrl } = await import(path.join(root, 'dist/src/demo/demo-db.js'));
const { applyStagingSchema } = await import(path.join(root, 'dist/src/db/staging.js'));
const { loadMigration } = await import(path.join(root, 'dist/src/migration/folder.js'));
const { runPhase } = await import(path.join(root, 'dist/src/migration/runner.js'));
const { adaptMigration } = await import(path.join(root, 'dist/src/migration/adapt.js'));

console.log(`demo production: ${n(users)} users${batchSize ? `; up in batches of ${n(batchSize)}` : '; up in one transaction'}`);
let t = performance.now();
run(bin, ['demo', '--users', String(users), ...(reuse ? [] : ['--reload'])]);
console.log(`demo load: ${seconds(performance.now() - t)}${reuse ? ' (reused if already loaded)' : ''}`);

const { config } = loadConfig({ cwd: workDir, env });
const url = new URL(demoConnectionUrl(config));
const open = (database, max = 4) => postgres({ host: url.hostname, port: Number(url.port), username: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database, max, onnotice: () => undefined, connection: { statement_timeout: 0 } });

const admin = open('postgres', 1);
const source = url.pathname.slice(1);
const folder = loadMigration('learner-to-customer');
const tableLocks = `SELECT string_agg(l.relation::regclass::text || ': ' || l.mode, '; ' ORDER BY 1) AS locks FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
  WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relkind = 'r' AND c.relnamespace <> 'pg_catalog'::regnamespace`;

/** Two identical copies of the demo database (the template must have no other session meanwhile), users warm in the cache. */
async function copies() {
  for (const db of ['bench_up', 'bench_raw']) {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.unsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [source]);
    await admin.unsafe(`CREATE DATABASE ${db} TEMPLATE "${source}"`);
  }
  const up = open('bench_up', 4);
  const raw = open('bench_raw', 2);
  await applyStagingSchema(up); // the log table lives in staging_migrations
  for (const db of [up, raw]) {
    await db.unsafe('VACUUM ANALYZE users');
    await db.unsafe('SELECT sum(length(u::text)) FROM users u');
  }
  await admin.unsafe('CHECKPOINT');
  return { up, raw };
}

async function rawUpdate(sql) {
  const db = await sql.reserve();
  try {
    const start = performance.now();
    await db.unsafe('BEGIN');
    const r = await db.unsafe(`UPDATE users SET role = 'CUSTOMER' WHERE role = 'LEARNER'`);
    const [{ locks }] = await db.unsafe(tableLocks);
    await db.unsafe('COMMIT');
    return { rows: r.count, ms: performance.now() - start, locks };
  } finally {
    db.release();
  }
}

async function harnessUp(sql) {
  // Fitted to this database's schema (its @rehearse:if branches), as `rehearse migrate` does.
  const migration = (await adaptMigration(sql, folder, ['public'])).migration;
  const r = await runPhase('up', { sql, migration, runId: `${migration.name}@bench/up1`, batchSize, includeDeleted: true, lockTimeoutMs: 60_000, retries: 3, retryBaseMs: 200, workMemMb: config.migration.workMemMb });
  const [logged] = await sql.unsafe(`SELECT count(*)::int AS n, pg_size_pretty(pg_total_relation_size('staging_migrations.role_migration_log')) AS size FROM staging_migrations.role_migration_log`);
  return { ...r, logged };
}

const rounds = [];
for (let round = 1; round <= roundCount; round++) {
  const { up, raw } = await copies();
  // Alternate the order between rounds: whatever runs second meets a busier WAL.
  let rawRun, upRun;
  if (round % 2) {
    rawRun = await rawUpdate(raw);
    await admin.unsafe('CHECKPOINT');
    upRun = await harnessUp(up);
  } else {
    upRun = await harnessUp(up);
    await admin.unsafe('CHECKPOINT');
    rawRun = await rawUpdate(raw);
  }
  await Promise.all([up.end(), raw.end()]);
  const ratio = upRun.ms / rawRun.ms;
  rounds.push({ rawRun, upRun, ratio });
  console.log(`round ${round}${round % 2 ? ' (raw first)' : ' (up first)'}: raw ${seconds(rawRun.ms)} (${n(rawRun.rows)} rows)  up ${seconds(upRun.ms)} (${n(upRun.rows)} rows, ${upRun.batches} transaction(s), ${n(upRun.logged.n)} log rows, ${upRun.logged.size})  ratio ${ratio.toFixed(2)}×  [load ${loadavg()[0].toFixed(1)}]`);
}
const sorted = [...rounds].sort((a, b) => a.ratio - b.ratio);
const median = sorted[Math.floor((sorted.length - 1) / 2)];
const { rawRun, upRun, ratio } = median;
const bodyMs = upRun.statements.filter((x) => x.phase === 'up').reduce((a, x) => a + x.ms, 0);
console.log('');
console.log(`raw   UPDATE users SET role='CUSTOMER' WHERE role='LEARNER'   ${seconds(rawRun.ms)}  (${n(Math.round(rawRun.rows / (rawRun.ms / 1000)))} rows/s)`);
console.log(`up    harness up.sql, logging every row              ${seconds(upRun.ms)}  (prelude ${seconds(upRun.preludeMs)}, statements ${seconds(bodyMs)}, ${n(upRun.rowsPerSecond)} rows/s)`);
for (const x of upRun.statements.filter((y) => y.phase === 'up' && y.batch === 1)) console.log(`        ${seconds(x.ms).padStart(9)}  ${x.label}`);
console.log(`ratio ${ratio.toFixed(2)}× the raw update (${rounds.length > 1 ? `median of ${rounds.length} rounds` : 'one round'}); target within 1.5×: ${ratio <= 1.5 ? 'MET' : 'NOT MET'}`);
console.log(`locks raw: ${rawRun.locks}; ${n(rawRun.rows)} row locks held ${seconds(rawRun.ms)}`);
console.log(`locks up:  ${upRun.locksHeld.join('; ')}; ${n(upRun.rows)} row locks held ${seconds(batchSize ? Math.max(...upRun.statements.filter((x) => x.phase === 'up').map((x) => x.ms)) : upRun.ms)}${batchSize ? ` at most (per batch of ${n(batchSize)})` : ''}; lock_timeout retries ${upRun.retries.length}`);

if (!keep) {
  for (const db of ['bench_up', 'bench_raw']) await admin.unsafe(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
  run(bin, ['demo', '--down', '--yes']);
} else {
  await admin.end();
  console.log(`kept: demo on 127.0.0.1:${demoPort} (databases bench_up, bench_raw), workdir ${workDir}`);
}
