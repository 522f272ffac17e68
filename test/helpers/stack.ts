// Test helpers: an isolated workspace per test file (own project name, ports and volumes, so a
// test never touches the operator's 1001-stories stack) and a runner for the real binary.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { loadConfig, type Config } from '../../src/config.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO, 'bin', 'rehearse');

export interface TestStack {
  name: string;
  workDir: string;
  ports: Record<string, number>;
  env: Record<string, string>;
  config: Config;
}

/** A workspace with rehearse.config.json naming project `rehearse-test-<name>` on ports base+1…base+8. */
export function testStack(name: string, portBase: number, extra: Record<string, unknown> = {}): TestStack {
  const workDir = mkdtempSync(path.join(os.tmpdir(), `rehearse-${name}-`));
  const project = `rehearse-test-${name}`;
  const ports = { app: portBase + 1, https: portBase + 2, http: portBase + 3, postgres: portBase + 4, redis: portBase + 5, pgadmin: portBase + 6, prometheus: portBase + 7, grafana: portBase + 8 };
  const volumes = Object.fromEntries(['postgres', 'redis', 'prometheus', 'grafana', 'pgadmin'].map((v) => [v, `${project}_${v}_data`]));
  writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project, ports, volumes, ...extra }, null, 2));
  const env = { REHEARSE_IMAGES: 'local', CI: 'true', NO_COLOR: '1' };
  const { config } = loadConfig({ cwd: workDir, env });
  return { name, workDir, ports, env, config };
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function rehearse(stack: Pick<TestStack, 'workDir' | 'env'>, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await execa(BIN, args, { cwd: stack.workDir, env: { ...stack.env, ...env }, reject: false, stdin: 'ignore', timeout: 300_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export async function docker(args: string[]): Promise<string> {
  return String((await execa('docker', args)).stdout);
}

/** Best-effort teardown: containers, network and volumes of a test stack. */
export async function removeStack(stack: TestStack): Promise<void> {
  await execa('docker', ['compose', '-p', `${stack.config.project}-staging`, '-f', path.join(stack.workDir, 'docker-compose.staging.yml'), '--profile', 'admin', '--profile', 'monitoring', 'down', '--volumes', '--remove-orphans', '-t', '2'], { reject: false, cwd: stack.workDir });
  // A fresh workspace has no compose file yet: what an interrupted earlier run left goes by name.
  const { stdout } = await execa('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${stack.config.project}-staging`], { reject: false });
  if (stdout.trim()) await execa('docker', ['rm', '-f', ...stdout.trim().split('\n')], { reject: false });
  await execa('docker', ['volume', 'rm', '-f', ...Object.values(stack.config.volumes)], { reject: false });
}
