// Checks that must pass before setup writes or starts anything: Docker reachable, Compose v2,
// every port free (or already held by this very stack), enough disk.
import { statfs } from 'node:fs/promises';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { execa } from 'execa';
import type Dockerode from 'dockerode';
import { activePortNames, type Config, type PortName } from '../config.js';
import { UserError } from '../errors.js';
import { composeVersion, listStackContainers, pingDocker } from './docker.js';
import { workPaths } from '../paths.js';
import type { PassFailCheck } from '../evidence/check.js';

/** Whether something already listens on host:port (tries to bind it, the only race-free question). */
export function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The process holding a TCP port, where the OS tells (`ss -ltnp`); undefined otherwise. */
export async function portHolder(port: number): Promise<string | undefined> {
  try {
    const { stdout } = await execa('ss', ['-ltnpH', `sport = :${port}`], { timeout: 3000 });
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
    return m ? `${m[1]} (pid ${m[2]})` : undefined;
  } catch {
    return undefined;
  }
}

export async function checkPorts(config: Config, ownPorts: Set<number>): Promise<PassFailCheck[]> {
  const checks: PassFailCheck[] = [];
  for (const name of activePortNames(config)) {
    const port = config.ports[name];
    if (ownPorts.has(port)) {
      checks.push({ name: `port ${port} (${name})`, ok: true, detail: 'held by this staging stack' });
      continue;
    }
    const free = await portIsFree(port, config.bindAddress);
    if (free) {
      checks.push({ name: `port ${port} (${name})`, ok: true, detail: 'free' });
      continue;
    }
    const holder = await portHolder(port);
    checks.push({ name: `port ${port} (${name})`, ok: false, detail: `in use${holder ? ` by ${holder}` : ''}` });
  }
  return checks;
}

const envNameOf = (name: PortName) => `REHEARSE_PORT_${name.toUpperCase()}`;

export async function checkDisk(config: Config): Promise<PassFailCheck> {
  mkdirSync(config.workDir, { recursive: true });
  const fs = await statfs(config.workDir);
  const freeMb = Math.floor((fs.bavail * fs.bsize) / 1024 / 1024);
  const need = config.preflight.minFreeDiskMb;
  return { name: 'disk space', ok: freeMb >= need, detail: `${(freeMb / 1024).toFixed(1)} GiB free in ${config.workDir} (need ${need} MiB)` };
}

/**
 * A staging database volume without its .env.staging: PostgreSQL keeps the password it was
 * initialised with, so a freshly generated one would lock setup out half-way through.
 */
export async function checkOrphanVolume(config: Config, docker: Dockerode): Promise<PassFailCheck> {
  const name = 'staging volume';
  if (existsSync(workPaths(config).envFile)) return { name, ok: true, detail: '.env.staging present' };
  try {
    await docker.getVolume(config.volumes.postgres).inspect();
  } catch {
    return { name, ok: true, detail: 'new' };
  }
  return { name, ok: false, detail: `${config.volumes.postgres} already exists, but ${workPaths(config).envFile} does not: its database only accepts the password it was created with` };
}

export interface PreflightResult {
  checks: PassFailCheck[];
  dockerVersion: string;
  composeVersion: string;
}

/** Runs every preflight check; throws a UserError listing every failure (nothing has been written yet). */
export async function preflight(config: Config, docker: Dockerode, signal?: AbortSignal, onCheck?: (c: PassFailCheck) => void): Promise<PreflightResult> {
  const checks: PassFailCheck[] = [];
  const record = (c: PassFailCheck) => {
    checks.push(c);
    onCheck?.(c);
  };
  const engine = await pingDocker(docker, signal);
  record({ name: 'docker engine', ok: true, detail: `${engine.version} (API ${engine.apiVersion})` });
  const compose = await composeVersion(signal);
  const major = Number(compose.split('.')[0]);
  record({ name: 'docker compose', ok: major >= 2, detail: `v${compose}${major >= 2 ? '' : ' (v2 or newer needed)'}` });

  const own = new Set((await listStackContainers(docker, config)).filter((c) => c.state === 'running').flatMap((c) => c.ports.map((p) => p.publicPort)));
  for (const c of await checkPorts(config, own)) record(c);
  record(await checkDisk(config));
  record(await checkOrphanVolume(config, docker));

  const failed = checks.filter((c) => !c.ok);
  if (failed.length) {
    const busy = activePortNames(config).filter((n) => failed.some((f) => f.name === `port ${config.ports[n]} (${n})`));
    const fixes = busy.map((n) => `${envNameOf(n)}=<free port> (or ports.${n} in rehearse.config.json)`);
    if (failed.some((f) => f.name === 'disk space')) fixes.push('free some disk space, or lower preflight.minFreeDiskMb');
    if (failed.some((f) => f.name === 'docker compose')) fixes.push('install Docker Compose v2');
    if (failed.some((f) => f.name === 'staging volume')) fixes.push(`put back the .env.staging that created volume ${config.volumes.postgres}, or delete that data with \`docker volume rm ${config.volumes.postgres}\``);
    throw new UserError(`Preflight failed (${failed.map((f) => f.name).join(', ')}); nothing was written or started.`, {
      details: failed.map((f) => `${f.name}: ${f.detail}`).join('\n'),
      tryThis: fixes.length ? `Fix and re-run: ${fixes.join('; ')}.` : undefined,
    });
  }
  return { checks, dockerVersion: engine.version, composeVersion: compose };
}
