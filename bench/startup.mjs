// Start-up of the everyday commands beside baselines measured in the same run, on a running stack:
// `rehearse status` vs `docker compose ps` on the same file (target ≤ 1.5×), `rehearse config` vs
// `node -e 0` (target ≤ 2×), and `rehearse validate --quick` as a whole command (target < 1.5 s).
// Usage: node bench/startup.mjs [runs] [--keep]   (needs `npm run build`; default 7 runs after a warm-up)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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

function run(argv) {
  const r = spawnSync(bin, argv, { cwd: workDir, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

try {
  // Not measured: the stack itself.
  const setup = run(['setup', '--yes']);
  if (setup.status !== 0) throw new Error(`rehearse setup --yes exited ${setup.status}:\n${setup.stderr.slice(-2000)}`);
  // Warm-up (page cache, first connections); a failing quick check is reported, not hidden: it
  // would change what the command does (and its exit code), so the figure would not compare.
  timeCommand('docker', composePs, opts);
  timeCommand(bin, ['status'], opts);
  timeCommand(bin, ['config'], opts);
  const quickJson = run(['validate', '--quick', '--json']);
  const result = JSON.parse(quickJson.stdout.trim().split('\n').pop() ?? '{}');
  const failed = (result.checks ?? []).filter((c) => c.status === 'fail').map((c) => `${c.id} (${c.value})`);

  const ps = [];
  const status = [];
  const node = [];
  const config = [];
  const floor = [];
  const quick = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so each figure and its baseline see the same machine load.
    ps.push(timeCommand('docker', composePs, opts));
    status.push(timeCommand(bin, ['status'], opts));
    node.push(timeCommand(process.execPath, ['-e', '0']));
    config.push(timeCommand(bin, ['config'], opts));
    floor.push(timeCommand(process.execPath, ['--input-type=module', '-e', FLOOR], { cwd: root }));
    quick.push(timeCommand(bin, ['validate', '--quick'], { ...opts, allowFail: true }));
  }

  const m = (samples) => stats(samples).median;
  const row = (label, samples) => {
    const s = stats(samples);
    return `${label.padEnd(40)} median ${fmt(s.median).padStart(10)}  min ${fmt(s.min).padStart(10)}  max ${fmt(s.max).padStart(10)}`;
  };
  const verdict = (ok) => (ok ? 'MET' : 'NOT MET');
  console.log(`runs: ${runs} after a warm-up (${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ${process.version})`);
  console.log(row('baseline  docker compose ps', ps));
  console.log(row('rehearse  status', status));
  console.log(row('baseline  node -e 0', node));
  console.log(row('rehearse  config', config));
  console.log(row('  (node loading commander, zod, yaml)', floor));
  console.log(row(`rehearse  validate --quick (${result.checks?.length ?? '?'} checks)`, quick));
  const statusRatio = m(status) / m(ps);
  const configRatio = m(config) / m(node);
  console.log(`status ≤ 1.5× compose ps:  ${statusRatio.toFixed(2)}×  ${verdict(statusRatio <= 1.5)}`);
  console.log(`config ≤ 2× node -e 0:     ${configRatio.toFixed(2)}×  ${verdict(configRatio <= 2)}`);
  console.log(`validate --quick < 1.5 s:  ${fmt(m(quick))}  ${verdict(m(quick) < 1500)}`);
  console.log(failed.length ? `failed quick checks in the warm-up run: ${failed.join('; ')}` : 'no quick check failed in the warm-up run');
} finally {
  if (!keep) timeCommand('docker', ['compose', '-p', `${project}-staging`, '-f', path.join(workDir, 'docker-compose.staging.yml'), 'down', '--volumes', '-t', '2'], { cwd: workDir, allowFail: true });
  else console.log(`kept: ${workDir}`);
}
