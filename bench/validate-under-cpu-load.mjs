// Issue 9's "done when": `rehearse validate` on the demo staging passes N runs in a row while a
// CPU-burning process runs beside it. Prints each run's verdict and failed checks, then the count,
// beside the same N runs without the burner (the baseline, measured in the same session).
// Usage: node bench/validate-under-cpu-load.mjs [runs=10] [burners=1] [--keep]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const [runs = 10, burners = 1] = args.filter((a) => /^\d+$/.test(a)).map(Number);
const keep = args.includes('--keep');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-bench-validate-cpu-'));
const project = 'rehearse-bench-validate-cpu';
const base = 27300;
const ports = { app: base + 1, https: base + 2, http: base + 3, postgres: base + 4, redis: base + 5, pgadmin: base + 6, prometheus: base + 7, grafana: base + 8 };
const volumes = Object.fromEntries(['postgres', 'redis', 'prometheus', 'grafana', 'pgadmin'].map((v) => [v, `${project}_${v}_data`]));
writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project, ports, volumes, demo: { port: base + 10 } }));
const env = { ...process.env, REHEARSE_IMAGES: process.env.REHEARSE_IMAGES ?? 'local', CI: 'true', NO_COLOR: '1' };
const bin = path.join(root, 'bin/rehearse');
const run = (argv) => spawnSync(bin, argv, { cwd: workDir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const step = (argv) => {
  const r = run(argv);
  if (r.status !== 0) throw new Error(`rehearse ${argv.join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
};

function series(label) {
  let passed = 0;
  for (let i = 1; i <= runs; i++) {
    const started = Date.now();
    const r = run(['validate', '--json']);
    const result = JSON.parse(r.stdout.trim().split('\n').pop());
    const failed = (result.checks ?? []).filter((c) => c.status === 'fail' && c.required).map((c) => `${c.id} (${c.value})`);
    if (r.status === 0) passed++;
    console.log(`${label} run ${String(i).padStart(2)}: ${r.status === 0 ? 'pass' : 'FAIL'} in ${((Date.now() - started) / 1000).toFixed(1)} s${failed.length ? ` — ${failed.join('; ')}` : ''}`);
  }
  return passed;
}

let burning = [];
try {
  step(['setup', '--yes']);
  step(['demo', '--users', '300']);
  step(['data', '--yes']);
  const baseline = series('idle    ');
  // A busy loop per burner: each takes a whole core for as long as the series runs.
  burning = Array.from({ length: burners }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  const loaded = series(`${burners} burner`);
  console.log(`\nvalidate passed ${loaded}/${runs} runs with ${burners} CPU-burning process(es) beside it (baseline without: ${baseline}/${runs}), on ${os.cpus().length} cores.`);
  process.exitCode = loaded === runs ? 0 : 1;
} finally {
  for (const b of burning) b.kill('SIGKILL');
  if (!keep) {
    run(['down', '--volumes', '--yes', '--no-backup']);
    run(['demo', '--down', '--yes']);
  }
}
