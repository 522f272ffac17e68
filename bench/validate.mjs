// `rehearse validate` (full and --quick) on a healthy stack with data, with the time of each
// category, beside baselines measured in the same run: `rehearse status` (same start-up, one docker
// call) and the bare trio curl /api/health + docker ps + pg_isready.
// Targets: full < 15 s, quick < 2 s. Usage: node bench/validate.mjs [runs] [--keep]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, stats, timeCommand } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
const keep = args.includes('--keep');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-bench-validate-'));
const project = 'rehearse-bench-validate';
const base = 27200;
const ports = { app: base + 1, https: base + 2, http: base + 3, postgres: base + 4, redis: base + 5, pgadmin: base + 6, prometheus: base + 7, grafana: base + 8 };
const volumes = Object.fromEntries(['postgres', 'redis', 'prometheus', 'grafana', 'pgadmin'].map((v) => [v, `${project}_${v}_data`]));
writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project, ports, volumes, demo: { port: base + 10 } }));
const env = { REHEARSE_IMAGES: process.env.REHEARSE_IMAGES ?? 'local', CI: 'true', NO_COLOR: '1' };
const bin = path.join(root, 'bin/rehearse');

/** Runs a command, returns wall ms and stdout (for the --json result). */
function timed(cmd, argv) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd: workDir, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function validate(extra) {
  const r = timed(bin, ['validate', '--json', ...extra]);
  const result = JSON.parse(r.stdout.trim().split('\n').pop());
  if (result.ok === undefined) throw new Error(`validate ${extra.join(' ')} gave no result:\n${r.stderr.slice(-2000)}`);
  const checkingMs = JSON.parse(readFileSync(result.report, 'utf8')).durationMs;
  // A failed check is a finding, not a reason to stop measuring (a crowded host fails the load's p95).
  const failed = result.checks.filter((c) => c.status === 'fail').map((c) => `${c.id} (${c.value})`);
  return { wallMs: r.ms, checkingMs, timingsMs: result.timingsMs, checks: result.checks.length, failed };
}

const step = (argv) => {
  const r = timed(bin, argv);
  if (r.status !== 0) throw new Error(`rehearse ${argv.join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
};

try {
  // Cold path (not measured): stack, demo production, data step.
  step(['setup', '--yes']);
  step(['demo', '--users', '200']);
  step(['data', '--yes']);
  const caFile = path.join(workDir, 'nginx/ssl-staging/staging.crt');
  const db = `${project}-db-staging`;
  // Warm-up: first connections, page cache.
  validate([]);

  const status = [];
  const trio = [];
  const full = [];
  const quick = [];
  for (let i = 0; i < runs; i++) {
    status.push(timeCommand(bin, ['status'], { cwd: workDir, env }));
    trio.push(
      timeCommand('curl', ['-sf', '--cacert', caFile, '--resolve', `localhost:${ports.https}:127.0.0.1`, `https://localhost:${ports.https}/api/health`, '-o', '/dev/null']) +
        timeCommand('docker', ['ps', '--filter', `label=com.docker.compose.project=${project}-staging`]) +
        timeCommand('docker', ['exec', db, 'pg_isready', '-q', '-h', '127.0.0.1']),
    );
    full.push(validate([]));
    quick.push(validate(['--quick']));
  }

  const row = (label, samples) => {
    const s = stats(samples);
    return `${label.padEnd(44)} median ${fmt(s.median).padStart(10)}  min ${fmt(s.min).padStart(10)}  max ${fmt(s.max).padStart(10)}`;
  };
  const ORDER = ['infrastructure', 'application', 'database', 'security', 'performance', 'integration'];
  const categories = ORDER.filter((c) => c in full[0].timingsMs);
  console.log(`runs: ${runs} (healthy stack with the demo data loaded; ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')})`);
  console.log(row('baseline  rehearse status', status));
  console.log(row('baseline  curl health + docker ps + pg_isready', trio));
  console.log(row(`validate  full, command (${full[0].checks} checks)`, full.map((r) => r.wallMs)));
  console.log(row('validate  full, checking only', full.map((r) => r.checkingMs)));
  for (const c of categories) console.log(row(`            ${c}`, full.map((r) => r.timingsMs[c])));
  console.log(row(`validate  --quick, command (${quick[0].checks} checks)`, quick.map((r) => r.wallMs)));
  console.log(row('validate  --quick, checking only', quick.map((r) => r.checkingMs)));
  for (const c of ORDER.filter((c) => c in quick[0].timingsMs)) console.log(row(`            ${c}`, quick.map((r) => r.timingsMs[c])));
  const failures = [...full, ...quick].flatMap((r) => r.failed);
  console.log(failures.length ? `failed checks during the runs: ${[...new Set(failures)].join('; ')}` : 'no check failed in the measured runs');
  const fullMedian = stats(full.map((r) => r.wallMs)).median;
  const quickMedian = stats(quick.map((r) => r.wallMs)).median;
  const statusMedian = stats(status).median;
  console.log(`full  < 15 s: ${fullMedian < 15_000 ? 'MET' : 'NOT MET'} (${fmt(fullMedian)} for the whole command)`);
  console.log(`quick < 2 s:  ${quickMedian < 2000 ? 'MET' : 'NOT MET'} (${fmt(quickMedian)} for the whole command; ${fmt(quickMedian - statusMedian)} more than \`rehearse status\`)`);
} finally {
  if (!keep) {
    timeCommand('docker', ['compose', '-p', `${project}-staging`, '-f', path.join(workDir, 'docker-compose.staging.yml'), 'down', '--volumes', '-t', '2'], { cwd: workDir, allowFail: true });
    timeCommand(bin, ['demo', '--down', '--yes'], { cwd: workDir, env, allowFail: true });
  } else console.log(`kept: ${workDir}`);
}
