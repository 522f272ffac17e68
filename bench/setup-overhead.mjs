// `rehearse setup` on a warm machine (images built, stack down, volumes kept) beside a bare
// `docker compose up -d --wait` of the very same generated file, in the same run.
// Target: rehearse's overhead under 15 %. Usage: node bench/setup-overhead.mjs [runs]
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, stats, timeCommand } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 3);
const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-bench-setup-'));
const project = 'rehearse-bench-setup';
const base = 23000;
const ports = { app: base + 1, https: base + 2, http: base + 3, postgres: base + 4, redis: base + 5, pgadmin: base + 6, prometheus: base + 7, grafana: base + 8 };
const volumes = Object.fromEntries(['postgres', 'redis', 'prometheus', 'grafana', 'pgadmin'].map((v) => [v, `${project}_${v}_data`]));
writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project, ports, volumes }));
const env = { REHEARSE_IMAGES: process.env.REHEARSE_IMAGES ?? 'local', CI: 'true' };
const bin = path.join(root, 'bin/rehearse');
const compose = ['compose', '-p', `${project}-staging`, '-f', path.join(workDir, 'docker-compose.staging.yml')];
const down = () => timeCommand('docker', [...compose, 'down', '-t', '2'], { cwd: workDir });

// First run creates files and volumes (not measured: that is the cold path).
timeCommand(bin, ['setup', '--yes'], { cwd: workDir, env });
down();
const tool = [];
const bare = [];
for (let i = 0; i < runs; i++) {
  tool.push(timeCommand(bin, ['setup', '--yes'], { cwd: workDir, env }));
  down();
  bare.push(timeCommand('docker', [...compose, 'up', '-d', '--wait'], { cwd: workDir }));
  down();
}
timeCommand('docker', [...compose, 'down', '--volumes', '-t', '2'], { cwd: workDir });
const t = stats(tool);
const b = stats(bare);
const overhead = ((t.median - b.median) / b.median) * 100;
console.log(`runs: ${runs} (warm: images built, stack down, volumes kept)`);
console.log(`baseline  docker compose up -d --wait   median ${fmt(b.median)}  min ${fmt(b.min)}  max ${fmt(b.max)}`);
console.log(`rehearse  setup --yes                   median ${fmt(t.median)}  min ${fmt(t.min)}  max ${fmt(t.max)}`);
console.log(`overhead  ${overhead.toFixed(1)} % (${fmt(t.median - b.median)}); target < 15 %: ${overhead < 15 ? 'MET' : 'NOT MET'}`);
console.log('rehearse also runs preflight, writes files, applies the staging schemas and verifies HTTPS, PostgreSQL and Redis end to end.');
