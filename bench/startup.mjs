// Start-up of the everyday commands beside baselines measured in the same run, on a running stack:
// `rehearse status` vs `docker compose ps` on the same file (target ≤ 1.5×), `rehearse config` vs
// `node -e 0` (target ≤ 2×), and `rehearse validate --quick` as a whole command (target < 1.5 s).
// Usage: node bench/startup.mjs [runs] [--keep]   (needs `npm run build`; default 7 runs after a warm-up)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, stats, timeCommand } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 7);
const keep = args.includes('--keep');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-bench-sf-'));
const project = 'rehearse-bench-sf';
const base = 43100;
const ports = { app: base + 1, https: base + 2, http: base + 3, postgres: base + 4, redis: base + 5, pgadmin: base + 6, prometheus: base + 7, grafana: base + 8 };
const volumes = Object.fromEntries(['postgres', 'redis', 'prometheus', 'grafana', 'pgadmin'].map((v) => [v, `${project}_${v}_data`]));
writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project, ports, volumes, demo: { port: base + 10 } }));
const env = { REHEARSE_IMAGES: process.env.REHEARSE_IMAGES ?? 'local', CI: 'true', NO_COLOR: '1' };
const bin = path.join(root, 'bin/rehearse');
// The same project and file that `rehearse status` reads (src/paths.ts: `<project>-staging`).
const composePs = ['compose', '-p', `${project}-staging`, '-f', path.join(workDir, 'docker-compose.staging.yml'), 'ps'];
const opts = { cwd: workDir, env };
// What `rehearse config` cannot go below: node loading the libraries it uses (argv, schema, YAML out).
const FLOOR = "await Promise.all(['commander', 'zod', 'yaml'].map((m) => import(m)))";

/** CPU time (ms) of the children this process has waited for: cutime + cstime of /proc/self/stat. */
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
function childCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** Wall and CPU time of one run of a command. */
function measured(cmd, argv, options = {}) {
  const cpu = childCpuMs();
  const wall = timeCommand(cmd, argv, options);
  return { wall, cpu: childCpuMs() - cpu };
}

function run(argv) {
  const r = spawnSync(bin, argv, { cwd: workDir, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Containers, volumes and network of the bench stack, also what an interrupted earlier run left (by name). */
function removeStack() {
  const quiet = { cwd: workDir, allowFail: true };
  timeCommand('docker', ['compose', '-p', `${project}-staging`, '-f', path.join(workDir, 'docker-compose.staging.yml'), 'down', '--volumes', '--remove-orphans', '-t', '2'], quiet);
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}-staging`], { encoding: 'utf8' }).stdout?.trim();
  if (ids) timeCommand('docker', ['rm', '-f', ...ids.split('\n')], quiet);
  timeCommand('docker', ['volume', 'rm', '-f', ...Object.values(volumes)], quiet);
  timeCommand('docker', ['network', 'rm', `${project}-staging-network`], quiet);
}

try {
  removeStack();
  // Not measured: the stack itself. A crowded host can time out the app's health check once: one retry.
  let setup = run(['setup', '--yes']);
  if (setup.status !== 0) setup = run(['setup', '--yes']);
  if (setup.status !== 0) throw new Error(`rehearse setup --yes exited ${setup.status}:\n${setup.stderr.slice(-2000)}`);
  // Warm-up (page cache, first connections); a failing quick check is reported, not hidden: it
  // would change what the command does (and its exit code), so the figure would not compare.
  timeCommand('docker', composePs, opts);
  timeCommand(bin, ['status'], opts);
  timeCommand(bin, ['config'], opts);
  const quickJson = run(['validate', '--quick', '--json']);
  const result = JSON.parse(quickJson.stdout.trim().split('\n').pop() ?? '{}');
  const failed = (result.checks ?? []).filter((c) => c.status === 'fail').map((c) => `${c.id} (${c.value})`);

  const samples = { ps: [], status: [], node: [], config: [], floor: [], quick: [] };
  for (let i = 0; i < runs; i++) {
    // Interleaved, so each figure and its baseline see the same machine load.
    samples.ps.push(measured('docker', composePs, opts));
    samples.status.push(measured(bin, ['status'], opts));
    samples.node.push(measured(process.execPath, ['-e', '0']));
    samples.config.push(measured(bin, ['config'], opts));
    samples.floor.push(measured(process.execPath, ['--input-type=module', '-e', FLOOR], { cwd: root }));
    samples.quick.push(measured(bin, ['validate', '--quick'], { ...opts, allowFail: true }));
  }

  const m = (name, what = 'wall') => stats(samples[name].map((x) => x[what])).median;
  const row = (label, name) => {
    const s = stats(samples[name].map((x) => x.wall));
    return `${label.padEnd(40)} median ${fmt(s.median).padStart(10)}  min ${fmt(s.min).padStart(10)}  max ${fmt(s.max).padStart(10)}  cpu ${fmt(m(name, 'cpu')).padStart(9)}`;
  };
  const verdict = (ok) => (ok ? 'MET' : 'NOT MET');
  console.log(`runs: ${runs} after a warm-up (${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ${process.version})`);
  console.log(`wall time; cpu = median user+sys of the process tree (the engine's own work is in neither column)`);
  console.log(row('baseline  docker compose ps', 'ps'));
  console.log(row('rehearse  status', 'status'));
  console.log(row('baseline  node -e 0', 'node'));
  console.log(row('rehearse  config', 'config'));
  console.log(row('  (node loading commander, zod, yaml)', 'floor'));
  console.log(row(`rehearse  validate --quick (${result.checks?.length ?? '?'} checks)`, 'quick'));
  const ratio = (a, b, what) => (m(a, what) / m(b, what)).toFixed(2);
  // The targets are on wall time; on a crowded host the cpu ratio is the steadier of the two.
  console.log(`status ≤ 1.5× compose ps:  ${ratio('status', 'ps', 'wall')}×  ${verdict(m('status') <= 1.5 * m('ps'))}  (cpu ${ratio('status', 'ps', 'cpu')}×)`);
  console.log(`config ≤ 2× node -e 0:     ${ratio('config', 'node', 'wall')}×  ${verdict(m('config') <= 2 * m('node'))}  (cpu ${ratio('config', 'node', 'cpu')}×; the libraries alone: ${ratio('floor', 'node', 'wall')}×, cpu ${ratio('floor', 'node', 'cpu')}×)`);
  console.log(`validate --quick < 1.5 s:  ${fmt(m('quick'))}  ${verdict(m('quick') < 1500)}  (cpu ${fmt(m('quick', 'cpu'))})`);
  console.log(failed.length ? `failed quick checks in the warm-up run: ${failed.join('; ')}` : 'no quick check failed in the warm-up run');
} finally {
  if (!keep) removeStack();
  else console.log(`kept: ${workDir}`);
}
