// `rehearse data` throughput on a large demo production, beside the raw baseline in the same run:
// the same rows piped with psql `COPY (SELECT …) TO STDOUT` into `COPY … FROM STDIN`, no
// transformation. Target: rehearse's load at least 50 % of the raw throughput. Also the peak memory
// of the rehearse process (it must stream). Usage: node bench/data-copy.mjs [demoUsers] [subsetUsers]
// (defaults 1,000,000 and 100,000; needs `npm run build`, the stand-in images and ~10 GB of disk).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demoUsers = Number(process.argv[2] ?? 1_000_000);
const subsetUsers = Number(process.argv[3] ?? 100_000);
const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-bench-data-'));
const project = 'rehearse-bench-data';
const base = 23200;
const ports = { app: base + 1, https: base + 2, http: base + 3, postgres: base + 4, redis: base + 5, pgadmin: base + 6, prometheus: base + 7, grafana: base + 8 };
const volumes = Object.fromEntries(['postgres', 'redis', 'prometheus', 'grafana', 'pgadmin'].map((v) => [v, `${project}_${v}_data`]));
writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project, ports, volumes, demo: { port: base + 10 }, data: { caps: { reading_progress: 100 } } }));
const env = { ...process.env, REHEARSE_IMAGES: process.env.REHEARSE_IMAGES ?? 'local', CI: 'true' };
const bin = path.join(root, 'bin/rehearse');
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: workDir, env, encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
};
/** A quoted SQL literal of a text array. */
const arrayLiteral = (values) => `'${`{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`.replace(/'/g, "''")}'`;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

console.log(`demo production: ${demoUsers.toLocaleString('en-US')} users; subset: ${subsetUsers.toLocaleString('en-US')} users`);
let t = performance.now();
run(bin, ['setup', '--yes']);
run(bin, ['demo', '--users', String(demoUsers)]);
console.log(`setup + demo load: ${seconds(performance.now() - t)}`);

// 1. rehearse data, with the peak RSS of its process sampled from /proc.
t = performance.now();
const child = spawn(bin, ['data', '--yes', '--max-users', String(subsetUsers)], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'ignore'] });
let stdout = '';
child.stdout.on('data', (d) => (stdout += d));
let peakKb = 0;
const rssSamples = []; // [ms since start, KiB]
const sampler = setInterval(() => {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    rssSamples.push([performance.now() - t, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)]);
  } catch {}
}, 100);
const code = await new Promise((resolve) => child.on('exit', resolve));
clearInterval(sampler);
const totalMs = performance.now() - t;
if (code !== 0) throw new Error(`rehearse data exited ${code}`);
const report = JSON.parse(readFileSync(/Report: (\S+\.json)/.exec(stdout)[1], 'utf8'));
const rows = Object.values(report.rowsPerTable).reduce((a, b) => a + b, 0);
const loadMs = report.load.ms;

// 2. The raw baseline: the same tables and keys (rehearse's own plan, recomputed on the same
// snapshot-free data), psql to psql, into a scratch copy of the staging schema.
const { loadConfig } = await import(path.join(root, 'dist/src/config.js'));
const { openProduction, openSnapshot } = await import(path.join(root, 'dist/src/db/production.js'));
const { demoConnectionUrl } = await import(path.join(root, 'dist/src/demo/demo-db.js'));
const { introspect } = await import(path.join(root, 'dist/src/subset/introspect.js'));
const { quoteIdent } = await import(path.join(root, 'dist/src/db/sql-text.js'));
const { planSubset, selectionPredicates } = await import(path.join(root, 'dist/src/subset/planner.js'));
const { config } = loadConfig({ cwd: workDir, env });
const prod = openProduction(demoConnectionUrl(config), { statementTimeoutMs: 600_000, max: 1 });
const snap = await openSnapshot(prod);
const shape = await introspect(snap.tx, ['public']);
const d = config.data;
const plan = await planSubset(snap.tx, shape, { maxUsers: subsetUsers, seed: d.seed, caps: d.caps, defaultCap: d.defaultCap, maxDepth: d.maxDepth });
const db = `${project}-db-staging`;
const demoDb = `${project}-db-demo`;
run('docker', ['exec', db, 'psql', '-U', 'staging_user', '-d', 'staging_db', '-c', 'DROP DATABASE IF EXISTS raw_baseline', '-c', 'CREATE DATABASE raw_baseline']);
const schema = run('docker', ['exec', db, 'pg_dump', '-U', 'staging_user', '-d', 'staging_db', '--schema-only', '--schema=public', '--no-owner']);
run('docker', ['exec', '-i', db, 'psql', '-q', '-U', 'staging_user', '-d', 'raw_baseline'], { input: schema.replace(/^CREATE SCHEMA public;$/m, '').replace(/^ALTER TABLE ONLY .* ADD CONSTRAINT .* FOREIGN KEY .*$/gm, '') });
t = performance.now();
let rawRows = 0;
for (const table of plan.loadOrder) {
  const cols = shape.tables.get(table).columns.map((c) => quoteIdent(c.name)).join(', ');
  for (const match of selectionPredicates(shape, plan, table, 50_000)) {
    // psql takes no bind parameters: the key arrays go in as literals.
    const where = match.where.replace(/\$(\d+)/g, (_, i) => arrayLiteral(match.params[i - 1]));
    // psql out of production | psql into the scratch database: no rehearse code in the data path.
    // The query goes in on stdin: with its inlined keys it is too long for an argv.
    const out = spawn('docker', ['exec', '-i', demoDb, 'psql', '-X', '-q', '-U', 'stories_app', '-d', 'stories_production']);
    out.stdin.end(`COPY (SELECT ${cols} FROM ${shape.tables.get(table).qualified} WHERE ${where}) TO STDOUT;\n`);
    const into = spawn('docker', ['exec', '-i', db, 'psql', '-X', '-q', '-U', 'staging_user', '-d', 'raw_baseline', '-c', `COPY ${shape.tables.get(table).qualified} (${cols}) FROM STDIN`], { stdio: ['pipe', 'pipe', 'inherit'] });
    out.stdout.pipe(into.stdin);
    const [, status] = await Promise.all([new Promise((r) => out.on('exit', r)), new Promise((r) => into.on('exit', r))]);
    if (status !== 0) throw new Error(`baseline COPY of ${table} failed`);
  }
  rawRows += plan.tables.find((x) => x.table === table).rows;
}
const rawMs = performance.now() - t;
await snap.close();
await prod.end();
run('docker', ['exec', db, 'psql', '-U', 'staging_user', '-d', 'staging_db', '-c', 'DROP DATABASE raw_baseline']);

const rate = (n, ms) => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} rows/s`;
console.log(`rows copied: ${rows.toLocaleString('en-US')} (baseline ${rawRows.toLocaleString('en-US')})`);
console.log(`baseline  psql COPY → psql COPY, no transformation      ${seconds(rawMs)}  ${rate(rawRows, rawMs)}`);
console.log(`rehearse  load phase (anonymize + COPY + FKs + sequences) ${seconds(loadMs)}  ${rate(rows, loadMs)}  = ${((rawMs / loadMs) * 100).toFixed(0)} % of raw; target ≥ 50 %: ${rawMs / loadMs >= 0.5 ? 'MET' : 'NOT MET'}`);
console.log(`          anonymizer's own share: ${seconds(report.load.anonymizeMs)} (${((report.load.anonymizeMs / loadMs) * 100).toFixed(0)} % of the load)`);
console.log(`rehearse  whole step (plan, backups, schema, load, verify, restore proof) ${seconds(totalMs)}`);
console.log(`rehearse  peak RSS ${(peakKb / 1024).toFixed(0)} MiB`);
// The phases run one after the other, so the samples map onto them (give or take the start-up).
let phaseStart = 0;
const startupMs = totalMs - Object.values(report.timingsMs).reduce((a, b) => a + b, 0);
const phasePeaks = Object.entries(report.timingsMs).map(([phase, ms], i) => {
  const from = i === 0 ? 0 : startupMs + phaseStart;
  phaseStart += ms;
  const to = startupMs + phaseStart;
  const peak = Math.max(0, ...rssSamples.filter(([at]) => at >= from && at < to).map(([, kb]) => kb));
  return `${phase} ${(peak / 1024).toFixed(0)}`;
});
console.log(`          peak RSS per phase (MiB): ${phasePeaks.join(', ')}`);
console.log('timings (ms):', JSON.stringify(report.timingsMs));
run(bin, ['down', '--volumes', '--yes', '--no-backup']);
run(bin, ['demo', '--down', '--yes']);
