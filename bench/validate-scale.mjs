// `rehearse validate` at the demo size (the default 10-user subset of the default demo) beside the
// same command on a large staging (a --max-users subset of a big demo production), back to back.
// Target (issue 11): the large run takes at most 2× the demo-size run.
//
// The large staging costs many minutes to build, so it is built once in --dir and reused by later
// runs (a marker file records what was built); --rebuild builds it again, --down removes both.
// Usage: node bench/validate-scale.mjs [--users 200000] [--max-users 100000] [--runs 2]
//        [--dir /tmp/rehearse-bench-sva-scale] [--build-only] [--rebuild] [--down] [--no-warmup]
//        [--bin CHECKOUT/bin/rehearse]   validate with another checkout (e.g. a baseline commit);
//                                        its demo app then serves both stagings
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, stats } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const users = Number(opt('--users', 200_000));
const maxUsers = Number(opt('--max-users', 100_000));
const runs = Number(opt('--runs', 2));
const dir = path.resolve(opt('--dir', path.join(os.tmpdir(), 'rehearse-bench-sva-scale')));
const bin = path.resolve(opt('--bin', path.join(root, 'bin/rehearse')));
const env = { ...process.env, REHEARSE_IMAGES: process.env.REHEARSE_IMAGES ?? 'local', CI: 'true', NO_COLOR: '1' };

/** One work folder per size: its own project, ports and volumes, so both stagings stay up. */
function site(name, base, build) {
  const workDir = path.join(dir, name);
  const project = `rehearse-bench-sva-${name}`;
  const ports = { app: base + 1, https: base + 2, http: base + 3, postgres: base + 4, redis: base + 5, pgadmin: base + 6, prometheus: base + 7, grafana: base + 8 };
  const volumes = Object.fromEntries(['postgres', 'redis', 'prometheus', 'grafana', 'pgadmin'].map((v) => [v, `${project}_${v}_data`]));
  mkdirSync(workDir, { recursive: true });
  // Production reads of a 200,000-user demo outlast the default 60 s statement timeout on a crowded host.
  writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project, ports, volumes, demo: { port: base + 10 }, production: { statementTimeoutMs: 600_000 } }));
  return { name, workDir, project, build };
}

const small = site('small', 48000, { demoUsers: undefined, maxUsers: undefined });
const large = site('large', 48100, { demoUsers: users, maxUsers });

function run(s, argv, { allowFail = false } = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(bin, argv, { cwd: s.workDir, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && !allowFail) throw new Error(`[${s.name}] rehearse ${argv.join(' ')} exited ${r.status}:\n${(r.stderr ?? '').slice(-3000)}`);
  return { ms, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const markerFile = (s) => path.join(s.workDir, 'bench-built.json');

/** Staging rows and seed users from the newest data summary. */
function dataSize(s) {
  const folder = path.join(s.workDir, 'staging-backups');
  const files = existsSync(folder) ? readdirSync(folder).filter((f) => f.startsWith('test-data-summary-') && f.endsWith('.json')).sort() : [];
  if (!files.length) return undefined;
  const d = JSON.parse(readFileSync(path.join(folder, files[files.length - 1]), 'utf8'));
  return { rows: Object.values(d.rowsPerTable ?? {}).reduce((a, b) => a + b, 0), users: d.rowsPerTable?.users };
}

/** Builds the site unless the marker says this very build is there and its staging still answers. */
function ensureBuilt(s, { rebuild }) {
  const want = JSON.stringify(s.build);
  const marker = existsSync(markerFile(s)) ? JSON.parse(readFileSync(markerFile(s), 'utf8')) : undefined;
  const up = run(s, ['status'], { allowFail: true }).status === 0;
  if (!rebuild && marker && JSON.stringify(marker.build) === want && up && dataSize(s)) {
    console.error(`[${s.name}] reusing the staging built ${marker.builtAt} (${JSON.stringify(s.build)})`);
    return marker;
  }
  const t = {};
  // A crowded host can fail the app's 3 s health check while compose waits; the data step needs
  // only staging's database, and the measured runs restart the app anyway.
  const setup = run(s, ['setup', '--yes'], { allowFail: true });
  t.setupMs = setup.ms;
  if (setup.status !== 0) console.error(`[${s.name}] setup exited ${setup.status} (going on: ${setup.stderr.split('\n').filter((l) => l.startsWith('✖')).pop() ?? ''})`);
  // Without --reload a demo of the same size and seed is reused (building 200,000 users costs many minutes).
  t.demoMs = run(s, ['demo', ...(rebuild ? ['--reload'] : []), '--yes', ...(s.build.demoUsers ? ['--users', String(s.build.demoUsers)] : [])]).ms;
  t.dataMs = run(s, ['data', '--yes', ...(s.build.maxUsers ? ['--max-users', String(s.build.maxUsers)] : [])]).ms;
  const built = { build: s.build, builtAt: new Date().toISOString(), ...t, size: dataSize(s) };
  writeFileSync(markerFile(s), JSON.stringify(built, null, 2));
  console.error(`[${s.name}] built: ${JSON.stringify(built)}`);
  return built;
}

/** The app container runs the bind-mounted demo app: point it at this checkout's and restart it. */
function restartApp(s) {
  run(s, ['setup', '--yes'], { allowFail: true }); // rewrites the compose file with this checkout's app folder
  spawnSync('docker', ['restart', '-t', '2', `${s.project}-app-staging`], { stdio: 'ignore' });
  for (let i = 0; i < 60; i++) {
    const r = spawnSync('docker', ['inspect', '-f', '{{.State.Health.Status}}', `${s.project}-app-staging`], { encoding: 'utf8' });
    if (r.stdout.trim() === 'healthy') return;
    spawnSync('sleep', ['1']);
  }
}

function validate(s) {
  const r = run(s, ['validate', '--json'], { allowFail: true });
  const result = JSON.parse(r.stdout.trim().split('\n').pop());
  if (result.ok === undefined) throw new Error(`[${s.name}] validate gave no result:\n${r.stderr.slice(-2000)}`);
  const report = JSON.parse(readFileSync(result.report, 'utf8'));
  const failed = result.checks.filter((c) => c.status === 'fail').map((c) => `${c.id} (${c.value})`);
  const checkMs = Object.fromEntries(result.checks.map((c) => [c.id, c.ms]));
  return { wallMs: r.ms, checkingMs: report.durationMs, timingsMs: result.timingsMs, checkMs, failed };
}

if (args.includes('--down')) {
  for (const s of [small, large]) {
    spawnSync('docker', ['compose', '-p', `${s.project}-staging`, '-f', path.join(s.workDir, 'docker-compose.staging.yml'), 'down', '--volumes', '-t', '2'], { cwd: s.workDir, stdio: 'ignore' });
    run(s, ['demo', '--down', '--yes'], { allowFail: true });
    spawnSync('rm', ['-f', markerFile(s)]);
  }
  console.log(`removed both stagings of ${dir}`);
  process.exit(0);
}

const rebuild = args.includes('--rebuild');
const built = { small: ensureBuilt(small, { rebuild }), large: ensureBuilt(large, { rebuild }) };
if (args.includes('--build-only')) process.exit(0);
for (const s of [small, large]) restartApp(s);

// Warm-up (first connections, page cache), then the measured runs alternate so both see the same host.
if (!args.includes('--no-warmup')) {
  validate(small);
  validate(large);
}
const results = { small: [], large: [] };
for (let i = 0; i < runs; i++) {
  results.small.push(validate(small));
  results.large.push(validate(large));
}

const med = (xs) => stats(xs).median;
const sizeOf = (b) => (b.size ? `${b.size.users?.toLocaleString('en-US')} users, ${b.size.rows?.toLocaleString('en-US')} rows` : '?');
console.log(`checkout: ${path.dirname(path.dirname(bin))}`);
console.log(`runs: ${runs} each, alternating (${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')})`);
console.log(`demo size : ${sizeOf(built.small)} (rehearse demo; rehearse data --yes)`);
console.log(`large     : ${sizeOf(built.large)} (rehearse demo --users ${users}; rehearse data --yes --max-users ${maxUsers})`);
const line = (label, a, b) => `${label.padEnd(40)} ${fmt(a).padStart(12)} ${fmt(b).padStart(12)} ${`${(b / Math.max(a, 1)).toFixed(2)}×`.padStart(8)}`;
console.log(`${''.padEnd(40)} ${'demo size'.padStart(12)} ${'large'.padStart(12)} ${'ratio'.padStart(8)}`);
console.log(line('validate, whole command (median)', med(results.small.map((r) => r.wallMs)), med(results.large.map((r) => r.wallMs))));
console.log(line('validate, checking only (median)', med(results.small.map((r) => r.checkingMs)), med(results.large.map((r) => r.checkingMs))));
for (const c of Object.keys(results.small[0].timingsMs)) console.log(line(`  ${c}`, med(results.small.map((r) => r.timingsMs[c] ?? 0)), med(results.large.map((r) => r.timingsMs[c] ?? 0))));
// The checks whose time grows most with the data, slowest first on the large staging.
const ids = Object.keys(results.large[0].checkMs).sort((a, b) => med(results.large.map((r) => r.checkMs[b] ?? 0)) - med(results.large.map((r) => r.checkMs[a] ?? 0)));
for (const id of ids.slice(0, 8)) console.log(line(`  check ${id}`, med(results.small.map((r) => r.checkMs[id] ?? 0)), med(results.large.map((r) => r.checkMs[id] ?? 0))));
for (const s of ['small', 'large']) {
  const failures = [...new Set(results[s].flatMap((r) => r.failed))];
  console.log(`${s === 'small' ? 'demo size' : 'large'} failed checks: ${failures.length ? failures.join('; ') : 'none'}`);
}
const ratio = med(results.large.map((r) => r.wallMs)) / med(results.small.map((r) => r.wallMs));
console.log(`large ≤ 2× demo size: ${ratio <= 2 ? 'MET' : 'NOT MET'} (${ratio.toFixed(2)}×)`);
console.log(`both stagings kept in ${dir} for the next run (--down removes them)`);
