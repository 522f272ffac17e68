// The data step at production scale (issue 11), beside its baseline measured in the same run: a
// full `pg_dump -Fc -Z0 | pg_restore` of ALL of production into a scratch database on the staging
// server (indexes and foreign keys included), measured after the data steps. `rehearse data --yes
// --max-users M` with each phase's time (from the data summary) and the peak RSS of the rehearse
// process, and separately the default 10-user run on the 2,000-user demo. Targets: whole data
// step ≤ 0.5× the full copy; verify ≤ load; plan ≤ 0.25× load; the 10-user run ≤ 10 s.
//
// Usage: node bench/data-scale.mjs [--users N] [--max-users M] [--before DIR] [--no-big] [--no-small]
// --before DIR: also run the data step of another checkout (built, e.g. a worktree of the base
// commit) in the same run, right after this one's, so both sit beside the same baseline.
// (defaults 200,000 and 20,000; needs `npx tsc -p .`, the stand-in images and a few GB of disk).
// Productions are kept running and reused by later runs, one per size (`rehearse-bench-sl-p<N>`,
// built once: a 200k production takes minutes), and so is the staging stack (`rehearse-bench-sl`).
// Remove them with `rehearse demo --down --yes` / `rehearse down --volumes --yes --no-backup` in
// their folders under the system temp dir. Staging's app tables are emptied before each measured
// run, so every run starts as after a fresh setup (the step backs up and fingerprints staging first).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const demoUsers = Number(arg('--users') ?? 200_000);
const subsetUsers = Number(arg('--max-users') ?? 20_000);
const before = arg('--before') && path.resolve(arg('--before'));
const small = !process.argv.includes('--no-small');
const big = !process.argv.includes('--no-big');
const env = { ...process.env, REHEARSE_IMAGES: process.env.REHEARSE_IMAGES ?? 'local', CI: 'true' };
delete env.PRODUCTION_DATABASE_URL;
const bin = path.join(root, 'bin/rehearse');
const n = (x) => Math.round(x).toLocaleString('en-US');
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const verdict = (ok) => (ok ? 'MET' : 'NOT MET');

const run = (cwd, cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
};

/** A folder with a rehearse.config.json; kept between runs so its containers are reused. */
function workspace(name, config) {
  const dir = path.join(os.tmpdir(), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'rehearse.config.json'), JSON.stringify({ project: name, ...config }, null, 2));
  return dir;
}

// Staging: one stack for every size. Ports 46001–46008.
const base = 46000;
const stagingProject = 'rehearse-bench-sl';
const stagingDir = workspace(stagingProject, {
  ports: { app: base + 1, https: base + 2, http: base + 3, postgres: base + 4, redis: base + 5, pgadmin: base + 6, prometheus: base + 7, grafana: base + 8 },
  volumes: Object.fromEntries(['postgres', 'redis', 'prometheus', 'grafana', 'pgadmin'].map((v) => [v, `${stagingProject}_${v}_data`])),
  demo: { port: base + 9 },
  // A busy host makes the whole-production reads (the PII dictionary) slow: room for them.
  production: { statementTimeoutMs: 600_000 },
});

/** A demo production of `users` users in its own project, built once and reused (the demo keeps a loaded database). */
async function production(users) {
  const name = `rehearse-bench-sl-p${users}`;
  const dir = workspace(name, { demo: { port: base + 100 + Math.round(Math.log10(users) * 10) } });
  const t = performance.now();
  const out = run(dir, bin, ['demo', '--users', String(users), '--json']);
  const result = JSON.parse(out.trim().split('\n').pop());
  const { loadConfig } = await import(path.join(root, 'dist/src/config.js'));
  const { demoConnectionUrl, demoNames } = await import(path.join(root, 'dist/src/demo/demo-db.js'));
  const { config } = loadConfig({ cwd: dir, env });
  console.log(`production ${name}: ${n(result.users)} users, ${n(result.rows)} rows, ${result.loaded ? `built in ${seconds(performance.now() - t)}` : 'reused'}`);
  return { url: demoConnectionUrl(config), container: demoNames(config).container, rows: result.rows };
}

/** `rehearse data` against `url` with the peak RSS of its process (VmHWM from /proc) and its summary. */
async function rehearseData(url, args, checkout = root) {
  run(stagingDir, 'docker', ['exec', stagingDb, 'psql', '-X', '-q', '-U', 'staging_user', '-d', 'staging_db', '-c',
    "DO $$ DECLARE t text; BEGIN FOR t IN SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'public' LOOP EXECUTE 'TRUNCATE ' || t || ' CASCADE'; END LOOP; END $$"]);
  const t = performance.now();
  const child = spawn(path.join(checkout, 'bin/rehearse'), ['data', '--yes', ...args], { cwd: stagingDir, env: { ...env, PRODUCTION_DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let peakKb = 0;
  const sampler = setInterval(() => {
    try {
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0));
    } catch {}
  }, 100);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  const wallMs = performance.now() - t;
  if (code !== 0) throw new Error(`rehearse data ${args.join(' ')} exited ${code}:\n${stdout}\n${stderr}`);
  const report = JSON.parse(readFileSync(/Report: (\S+\.json)/.exec(stdout)[1], 'utf8'));
  return { wallMs, peakMiB: peakKb / 1024, report };
}

console.log(`bench data-scale: production ${n(demoUsers)} users, subset --max-users ${n(subsetUsers)}; host ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const stagingDb = `${stagingProject}-db-staging`;
// The data step needs staging's database only: a stack kept from an earlier run is reused as it is
// (on a busy host the app container can miss its health deadline on a second `setup`).
const dbHealth = spawnSync('docker', ['inspect', '-f', '{{.State.Health.Status}}', stagingDb], { encoding: 'utf8' }).stdout?.trim();
let t = performance.now();
if (dbHealth !== 'healthy') run(stagingDir, bin, ['setup', '--yes']);
console.log(`staging stack ${stagingProject} ${dbHealth === 'healthy' ? 'reused' : `up in ${seconds(performance.now() - t)}`}`);
if (big) await bigRun();

async function bigRun() {
  const prod = await production(demoUsers);

  // 1. rehearse data --max-users M (then the other checkout's, with --before); each summary is
  // printed as soon as it is in (a long baseline can be cut off by a busy host).
  const results = [];
  for (const [label, checkout] of before ? [[`AFTER (${root})`, root], [`BEFORE (${before})`, before]] : [[root, root]]) {
    results.push([label, await rehearseData(prod.url, ['--max-users', String(subsetUsers)], checkout)]);
    report(...results.at(-1), prod);
  }

  // 2. Baseline, in the same run: all of production, dumped and restored into a scratch database on
  // the staging server. Then every figure beside it.
  const psqlStaging = (sqlText) => run(stagingDir, 'docker', ['exec', stagingDb, 'psql', '-X', '-q', '-U', 'staging_user', '-d', 'staging_db', '-c', sqlText]);
  psqlStaging('DROP DATABASE IF EXISTS sl_full_copy');
  psqlStaging('CREATE DATABASE sl_full_copy');
  const t = performance.now();
  const dump = run(stagingDir, 'sh', ['-c', `docker exec ${prod.container} pg_dump -Fc -Z0 -U stories_app -d stories_production | docker exec -i ${stagingDb} pg_restore --no-owner --no-acl -U staging_user -d sl_full_copy; echo "exit $?"`]);
  const fullMs = performance.now() - t;
  const restored = run(stagingDir, 'docker', ['exec', stagingDb, 'psql', '-X', '-At', '-U', 'staging_user', '-d', 'sl_full_copy', '-c', "SELECT sum(n_live_tup)::bigint FROM pg_stat_user_tables"]).trim();
  psqlStaging('DROP DATABASE sl_full_copy');
  console.log(`baseline  pg_dump -Fc -Z0 | pg_restore of all of production (${n(prod.rows)} rows; restored ~${n(Number(restored))}; ${dump.trim()}): ${seconds(fullMs)}`);

  for (const [label, r] of results) report(label, r, prod, fullMs);
}

function report(label, r, prod, fullMs = undefined) {
  const tm = r.report.timingsMs;
  const rows = Object.values(r.report.rowsPerTable).reduce((a, b) => a + b, 0);
  const wholeMs = Object.values(tm).reduce((a, b) => a + b, 0);
  console.log(`\n${label}: rehearse data --yes --max-users ${subsetUsers}: ${n(rows)} rows (${((rows / prod.rows) * 100).toFixed(1)} % of production), peak RSS ${r.peakMiB.toFixed(0)} MiB`);
  const ratio = (ms) => (fullMs ? `  ${(ms / fullMs).toFixed(2)}×` : '');
  console.log(`  phase            time${fullMs ? '      × full copy' : ''}`);
  for (const [phase, ms] of Object.entries(tm)) console.log(`  ${phase.padEnd(16)} ${seconds(ms).padStart(8)}${ratio(ms)}`);
  console.log(`  whole data step  ${seconds(wholeMs).padStart(8)}${ratio(wholeMs)}  (process wall clock ${seconds(r.wallMs)})${fullMs ? `; target ≤ 0.50×: ${verdict(wholeMs <= 0.5 * fullMs)}` : ''}`);
  console.log(`  load: ${n(rows / (tm.load / 1000))} rows/s${fullMs ? ` (full copy ${n(prod.rows / (fullMs / 1000))} rows/s)` : ''}; anonymizer ${seconds(r.report.load.anonymizeMs)}`);
  const slowest = [...r.report.load.tables].sort((a, b) => b.ms - a.ms).slice(0, 3);
  console.log(`  slowest tables: ${slowest.map((x) => `${x.table} ${n(x.rows)} rows in ${seconds(x.ms)}`).join('; ')}`);
  console.log(`  verify ≤ load: ${seconds(tm.verify)} vs ${seconds(tm.load)}: ${verdict(tm.verify <= tm.load)}`);
  console.log(`  plan ≤ 0.25× load: ${seconds(tm.plan)} vs ${seconds(0.25 * tm.load)}: ${verdict(tm.plan <= 0.25 * tm.load)}`);
  console.log(`  timings (ms): ${JSON.stringify(tm)}`);
}

// 3. The default 10-user run on the demo (2,000 users).
if (small) {
  const demo = await production(2000);
  for (const [label, checkout] of before ? [['BEFORE', before], ['AFTER', root]] : [['', root]]) {
    const s = await rehearseData(demo.url, [], checkout);
    const sMs = Object.values(s.report.timingsMs).reduce((a, b) => a + b, 0);
    console.log(`\n${label ? `${label}: ` : ''}rehearse data --yes (10 users) on the 2,000-user demo: whole data step ${seconds(sMs)} (process ${seconds(s.wallMs)}), peak RSS ${s.peakMiB.toFixed(0)} MiB; target ≤ 10 s: ${verdict(s.wallMs <= 10_000)}`);
    console.log(`  timings (ms): ${JSON.stringify(s.report.timingsMs)}`);
  }
}
