// The staging stack's life cycle through Compose v2: up (health-gated), status, logs, down; and
// the end-to-end verification that follows bring-up.
import { readFileSync } from 'node:fs';
import type Dockerode from 'dockerode';
import type { Config } from '../config.js';
import { CheckFailedError } from '../errors.js';
import { requireEnv } from './env-file.js';
import { listStackContainers, runCompose, serviceHost, type ComposeRunOptions, type EngineReader, type StackContainer } from './docker.js';
import { httpGet, missingSecurityHeaders } from './http.js';
import type { PassFailCheck } from '../evidence/check.js';
import { stackNames, workPaths, type ServiceName } from '../paths.js';
import { newestReport } from '../evidence/reports.js';

/** Brings the stack up; `services` limits it to those (and what they depend on), e.g. without Grafana. */
export async function composeUp(config: Config, opts: ComposeRunOptions & { services?: string[] } = {}): Promise<void> {
  const waitSeconds = config.timeouts.upSeconds;
  await runCompose(config, ['up', '-d', '--wait', '--wait-timeout', String(waitSeconds), '--remove-orphans', ...(opts.services ?? [])], { ...opts, timeoutMs: (waitSeconds + 60) * 1000 });
}

/** The services the configured profiles run, Grafana included when `grafana` is true. */
export function profileServices(config: Config, opts: { grafana: boolean }): ServiceName[] {
  const services: ServiceName[] = ['app-staging', 'nginx-staging', 'postgres-staging', 'redis-staging'];
  if (config.profiles.admin) services.push('pgadmin-staging');
  if (config.profiles.monitoring) services.push('prometheus-staging', 'postgres-exporter-staging', 'redis-exporter-staging', 'nginx-exporter-staging', ...(opts.grafana ? (['grafana-staging'] as const) : []));
  return services;
}

/** Whether the engine has the image, or can pull it now (a registry that cannot be reached answers at once). */
export async function imageAvailable(docker: Dockerode, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch {
    // not here: try to pull it
  }
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())));
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns on the profiles the newest successful setup started (its report says which), so that after
 * `setup --monitoring` validate, checklist, status and down know the monitoring services without a
 * config change. Profiles only ever get added: the config file still turns them on for good.
 */
export function addSetupProfiles(config: Config): void {
  let profiles: Partial<Config['profiles']> | undefined;
  try {
    profiles = (newestReport(config, 'setup-report')?.data as { profiles?: Partial<Config['profiles']> } | undefined)?.profiles;
  } catch {
    return; // an unreadable report adds nothing
  }
  if (profiles?.admin === true) config.profiles.admin = true;
  if (profiles?.monitoring === true) config.profiles.monitoring = true;
}

/** What to tell the operator when Grafana is left out. */
export const grafanaSkippedNote = (config: Config) =>
  `Grafana skipped: image ${config.images.grafana} is not on this machine and could not be pulled. Prometheus and the exporters run without it. To enable it: \`docker pull ${config.images.grafana}\` (or set images.grafana to an image you have) and run \`rehearse setup --monitoring\` again.`;

export async function composeDown(config: Config, opts: ComposeRunOptions & { volumes: boolean }): Promise<void> {
  // Every profile, so that services started under --admin/--monitoring are stopped too.
  await runCompose(config, ['down', '--remove-orphans', ...(opts.volumes ? ['--volumes'] : [])], { ...opts, allProfiles: true, timeoutMs: 180_000 });
}

/** One check of the stack after bring-up, timed. */
export type VerifyCheck = PassFailCheck & { ms: number };

export function serviceUrls(config: Config) {
  const host = serviceHost(config);
  const urls: Record<string, string> = {
    app: `https://localhost:${config.ports.https}`,
    'app (direct)': `http://${host}:${config.ports.app}`,
    postgres: `postgresql://${config.database.user}@${host}:${config.ports.postgres}/${config.database.name}`,
    redis: `redis://${host}:${config.ports.redis}`,
  };
  if (config.profiles.admin) urls.pgadmin = `http://${host}:${config.ports.pgadmin}`;
  if (config.profiles.monitoring) {
    urls.prometheus = `http://${host}:${config.ports.prometheus}`;
    urls.grafana = `http://${host}:${config.ports.grafana}`;
  }
  return urls;
}

async function timed(name: string, fn: () => Promise<string>): Promise<VerifyCheck> {
  const start = performance.now();
  try {
    const detail = await fn();
    return { name, ok: true, detail, ms: Math.round(performance.now() - start) };
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message, ms: Math.round(performance.now() - start) };
  }
}

export function verifyHealthThroughNginx(config: Config, signal?: AbortSignal): Promise<VerifyCheck> {
  return timed('app health through nginx (HTTPS)', async () => {
    const ca = readFileSync(workPaths(config).certFile);
    const res = await httpGet(`https://${serviceHost(config)}:${config.ports.https}${config.app.healthPath}`, { ca, servername: 'localhost', ...(signal ? { signal } : {}) });
    if (res.status !== 200) throw new Error(`${config.app.healthPath} answered ${res.status}: ${res.body.slice(0, 200)}`);
    const missing = missingSecurityHeaders(res.headers);
    if (missing.length) throw new Error(`security headers missing: ${missing.join(', ')}`);
    return `200 in ${Math.round(res.ms)} ms, TLS verified against the staging certificate, security headers present`;
  });
}

export function verifyPostgres(config: Config): Promise<VerifyCheck> {
  return timed('PostgreSQL SELECT 1', async () => {
    // Imported here, as stagingRedis below: `rehearse status` reads this module and needs no client.
    const { stagingSql } = await import('../db/staging.js');
    const sql = stagingSql(config, { max: 1 });
    try {
      const [row] = await sql<[{ one: number; version: string }]>`SELECT 1 AS one, current_setting('server_version') AS version`;
      if (row?.one !== 1) throw new Error('SELECT 1 did not return 1');
      return `PostgreSQL ${row.version} answers`;
    } catch (error) {
      // The volume keeps the password it was initialised with; a new .env.staging cannot change it.
      if ((error as { code?: string }).code === '28P01') {
        throw new Error(`password refused: volume ${config.volumes.postgres} was initialised with another password (a .env.staging from another folder or run?). Put that .env.staging back, or remove the data with \`rehearse down --volumes\` and run setup again`);
      }
      throw error;
    } finally {
      await sql.end({ timeout: 2 });
    }
  });
}

export function verifyRedis(config: Config): Promise<VerifyCheck> {
  return timed('Redis authenticated PING', async () => {
    const { stagingRedis } = await import('../db/staging.js');
    const redis = await stagingRedis(config);
    try {
      await redis.connect();
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
      const info = await redis.info('server');
      return `PONG from Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'}`;
    } finally {
      redis.disconnect();
    }
  });
}

/** Throws when any verification failed, listing each with what it saw. */
export function assertVerified(checks: VerifyCheck[]): void {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length)
    throw new CheckFailedError(`The stack is up but ${failed.length} check(s) failed:\n  ${failed.map((c) => `${c.name}: ${c.detail}`).join('\n  ')}`, {
      tryThis: '`rehearse status` shows each container; `rehearse logs <service>` shows why.',
    });
}

export interface StackStatus {
  composeProject: string;
  containers: StackContainer[];
  urls: Record<string, string>;
}

export async function stackStatus(docker: EngineReader, config: Config): Promise<StackStatus> {
  const containers = await listStackContainers(docker, config);
  const urls = serviceUrls(config);
  // An optional service that is not there (Grafana without its image) gets no URL.
  for (const [name, service] of [['grafana', 'grafana-staging'], ['pgadmin', 'pgadmin-staging']] as const) if (!containers.some((c) => c.service === service)) delete urls[name];
  return { composeProject: stackNames(config).composeProject, containers, urls };
}

/** Ensures .env.staging exists before anything that needs its secrets. */
export const stackSecrets = (config: Config) => requireEnv(workPaths(config).envFile);

/** One sentence on what a cancelled or failed step left behind, for the final message. */
export async function describeStackState(docker: EngineReader, config: Config): Promise<string> {
  try {
    const containers = await listStackContainers(docker, config);
    if (!containers.length) return 'No staging containers exist; nothing was started.';
    const byState = new Map<string, number>();
    for (const c of containers) byState.set(c.state, (byState.get(c.state) ?? 0) + 1);
    const states = [...byState].map(([state, n]) => `${n} ${state}`).join(', ');
    return `Staging was left with ${containers.length} container(s) (${states}); volumes and data are untouched. \`rehearse status\` shows them, \`rehearse setup\` resumes, \`rehearse down\` stops them.`;
  } catch {
    return 'The state of the staging containers could not be read; `rehearse status` shows it.';
  }
}
