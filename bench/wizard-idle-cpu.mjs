// The wizard's own CPU use while idle on the stats pane with the stack up (target: under 5 % of
// a core), beside `docker stats` streaming the same containers over the same window.
// Usage: node bench/wizard-idle-cpu.mjs [seconds]   (needs tmux, a built checkout and the images)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeCommand } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 30);
const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-bench-idle-'));
const project = 'rehearse-bench-idle';
const base = 23100;
const ports = { app: base + 1, https: base + 2, http: base + 3, postgres: base + 4, redis: base + 5, pgadmin: base + 6, prometheus: base + 7, grafana: base + 8 };
const volumes = Object.fromEntries(['postgres', 'redis', 'prometheus', 'grafana', 'pgadmin'].map((v) => [v, `${project}_${v}_data`]));
writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project, ports, volumes }));
const bin = path.join(root, 'bin/rehearse');
const env = { REHEARSE_IMAGES: process.env.REHEARSE_IMAGES ?? 'local', CI: 'true' };
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const cpuTicks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

timeCommand(bin, ['setup', '--yes'], { cwd: workDir, env });
const session = `rehearse-bench-idle-${process.pid}`;
execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '50', `cd ${workDir} && env -u CI REHEARSE_IMAGES=${env.REHEARSE_IMAGES} ${bin}`]);
try {
  // Wait until the stats pane shows live figures, then let start-up work settle.
  for (let i = 0; i < 120; i++) {
    const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
    if (/redis-staging\s+healthy\s+\d/.test(screen)) break;
    await sleep(250);
  }
  await sleep(3000);
  const panePid = execFileSync('tmux', ['list-panes', '-t', session, '-F', '#{pane_pid}']).toString().trim();
  // The shell may exec the command itself, so the pane's process can be the wizard.
  let child = '';
  try {
    child = execFileSync('pgrep', ['-P', panePid]).toString().trim().split('\n')[0];
  } catch {}
  const wizardPid = Number(child || panePid);
  if (!readFileSync(`/proc/${wizardPid}/cmdline`, 'utf8').includes('rehearse')) throw new Error(`pid ${wizardPid} is not the wizard`);
  const containers = execFileSync('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${project}-staging`]).toString().trim().split('\n');
  const dockerStats = spawn('docker', ['stats', ...containers], { stdio: 'ignore' });
  await sleep(2000);
  const w0 = cpuTicks(wizardPid);
  const d0 = cpuTicks(dockerStats.pid);
  await sleep(seconds * 1000);
  const wizard = ((cpuTicks(wizardPid) - w0) / ticksPerSecond / seconds) * 100;
  const baseline = ((cpuTicks(dockerStats.pid) - d0) / ticksPerSecond / seconds) * 100;
  dockerStats.kill();
  console.log(`window: ${seconds} s, ${containers.length} containers, stats pane live`);
  console.log(`baseline  docker stats (same containers)   ${baseline.toFixed(2)} % of a core`);
  console.log(`rehearse  wizard idle on the stats pane    ${wizard.toFixed(2)} % of a core`);
  console.log(`target    < 5 % of a core                  ${wizard < 5 ? 'MET' : 'NOT MET'}`);
} finally {
  execFileSync('tmux', ['kill-session', '-t', session]);
  timeCommand(bin, ['down', '--volumes', '--yes', '--no-backup'], { cwd: workDir, env });
}
