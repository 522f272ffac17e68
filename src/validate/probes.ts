// Shared, memoised access to the running stack for the checks: container inspections, the staging
// CA, HTTPS through nginx, the health document, a staging SQL pool, compose's resolved config, exec.
// Each probe runs at most once per validation, however many checks read it, and honours the signal.
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Config } from '../config.js';
import { composeArgs, dockerClient, serviceHost, translateDockerError, type EngineReader } from '../stack/docker.js';
import { readEnvFile } from '../stack/env-file.js';
import { CancelledError } from '../errors.js';
import { stackNames, workPaths, type ServiceName, type WorkPaths } from '../paths.js';
import { stagingSql, type Sql } from '../db/staging.js';
import { httpGet, parseJson, requestError, type HttpOptions, type HttpResult } from '../stack/http.js';

export interface ProbeInputs {
  config: Config;
  /** The engine for the reads every run makes (containers, inspect, top); `engineReader()` spares the quick run dockerode. */
  docker: EngineReader;
  signal: AbortSignal;
  /** The clock for certificate ages (tests move it). */
  now?: Date;
}

export interface InspectedContainer {
  id: string;
  name: string;
  /** The compose service label; '' for a container that only carries the project label. */
  service: string;
  info: Dockerode.ContainerInspectInfo;
}

/** The document the app's health endpoint answers (the bundled demo app's shape). */
export interface HealthDocument {
  status?: string;
  checks?: Record<string, { ok?: boolean; latencyMs?: number; error?: string }>;
  environment?: string;
  flags?: Record<string, boolean>;
}

export interface HealthProbe {
  res?: HttpResult;
  json?: HealthDocument;
  error?: string;
}

/** The part of `docker compose config --format json` the drift check reads. */
export interface ComposeConfig {
  name?: string;
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      container_name?: string;
      environment?: Record<string, string | null>;
      labels?: Record<string, string>;
      networks?: Record<string, unknown>;
      ports?: Array<{ host_ip?: string; target: number; published?: string; protocol?: string }>;
      volumes?: Array<{ type: string; source?: string; target: string }>;
    }
  >;
  networks?: Record<string, { name?: string }>;
  volumes?: Record<string, { name?: string }>;
}

/** nginx/staging.conf's proxy_connect_timeout is 5 s: wait a little longer to hear its 504. */
export const NGINX_TIMEOUT_MS = 6500;

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class StackProbes {
  readonly config: Config;
  readonly engine: EngineReader;
  readonly signal: AbortSignal;
  readonly now: Date;
  /** Where published ports are reached: loopback, or the remote engine's host. */
  readonly host: string;
  readonly names: ReturnType<typeof stackNames>;
  readonly paths: WorkPaths;
  private readonly memo = new Map<string, Promise<unknown>>();
  private sqlPool: Sql | undefined;
  private keepAlive: https.Agent | undefined;
  private client: Dockerode | undefined;

  constructor(inputs: ProbeInputs) {
    this.config = inputs.config;
    this.engine = inputs.docker;
    this.signal = inputs.signal;
    // Every concurrent request listens for the abort (the load check alone keeps up to 200 in flight).
    setMaxListeners(250, inputs.signal);
    this.now = inputs.now ?? new Date();
    this.host = serviceHost(inputs.config);
    this.names = stackNames(inputs.config);
    this.paths = workPaths(inputs.config);
  }

  /** dockerode itself, for what only the full run does (exec, stats, networks, volumes): loaded on first use. */
  get docker(): Dockerode {
    return (this.client ??= dockerClient());
  }

  /** Runs `fn` once per key; later callers share the same promise (and the same failure). */
  once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = fn();
      this.memo.set(key, p);
    }
    return p;
  }

  throwIfAborted(): void {
    if (this.signal.aborted) throw new CancelledError();
  }

  /** The services this configuration runs (profiles add theirs). */
  expectedServices(): ServiceName[] {
    const services: ServiceName[] = ['app-staging', 'nginx-staging', 'postgres-staging', 'redis-staging'];
    if (this.config.profiles.admin) services.push('pgadmin-staging');
    // Grafana is left out: it is optional (skipped when its image is missing) and checked by infrastructure.monitoring.
    if (this.config.profiles.monitoring) services.push('prometheus-staging', 'postgres-exporter-staging', 'redis-exporter-staging', 'nginx-exporter-staging');
    return services;
  }

  /** Every container that carries the stack's compose project label, inspected. */
  containers(): Promise<InspectedContainer[]> {
    return this.once('containers', async () => {
      try {
        const list = await this.engine.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${this.names.composeProject}`] } });
        const inspected = await Promise.all(list.map((c) => this.engine.getContainer(c.Id).inspect()));
        return inspected
          .map((info) => ({ id: info.Id, name: info.Name.replace(/^\//, ''), service: info.Config.Labels?.['com.docker.compose.service'] ?? '', info }))
          .sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
      } catch (error) {
        throw translateDockerError(error);
      }
    });
  }

  async container(service: ServiceName): Promise<InspectedContainer | undefined> {
    return (await this.containers()).find((c) => c.service === service);
  }

  /** The staging certificate, pinned as the only CA for every HTTPS probe. */
  ca(): Buffer | undefined {
    try {
      return readFileSync(this.paths.certFile);
    } catch {
      return undefined;
    }
  }

  envFile(): Record<string, string> | undefined {
    return readEnvFile(this.paths.envFile);
  }

  /** One keep-alive agent for the ordinary probes (one TLS handshake instead of dozens). */
  agent(): https.Agent {
    if (!this.keepAlive) {
      const ca = this.ca();
      this.keepAlive = new https.Agent({ keepAlive: true, maxSockets: 8, ...(ca ? { ca } : {}), servername: 'localhost' });
    }
    return this.keepAlive;
  }

  httpsUrl(path: string): string {
    return `https://${this.host}:${this.config.ports.https}${path}`;
  }

  /**
   * GET through nginx over HTTPS, TLS verified against the staging certificate. The time limit is
   * above nginx's proxy_connect_timeout (5 s), so a dead upstream shows as nginx's own 504.
   */
  https(path: string, opts: HttpOptions = {}): Promise<HttpResult> {
    const ca = this.ca();
    return httpGet(this.httpsUrl(path), { signal: this.signal, servername: 'localhost', agent: this.agent(), timeoutMs: NGINX_TIMEOUT_MS, ...(ca ? { ca } : {}), ...opts });
  }

  /** The app's health endpoint through nginx, read once and shared by several checks. */
  health(): Promise<HealthProbe> {
    return this.once('health', async () => {
      try {
        const res = await this.https(this.config.app.healthPath);
        const json = parseJson(res.body);
        return { res, ...(json && typeof json === 'object' ? { json: json as HealthDocument } : {}) };
      } catch (error) {
        this.throwIfAborted();
        return { error: requestError(error) };
      }
    });
  }

  /** A small pool on the staging database (through the published port, with the .env.staging password). */
  sql(): Sql {
    this.sqlPool ??= stagingSql(this.config, { max: 3, statementTimeoutMs: 15_000 });
    return this.sqlPool;
  }

  /** `docker compose config --format json` of the generated file, with the configured profiles. */
  composeConfig(): Promise<ComposeConfig> {
    return this.once('compose-config', async () => {
      // Imported here: only the full run's drift check reads it, and execa is ~100 modules.
      const { execa } = await import('execa');
      const { stdout } = await execa('docker', [...composeArgs(this.config), 'config', '--format', 'json'], { cwd: this.config.workDir, cancelSignal: this.signal, timeout: 20_000 });
      return JSON.parse(stdout) as ComposeConfig;
    });
  }

  /** Runs a command inside a container and collects its output (no TTY, no stdin). */
  async exec(containerId: string, cmd: string[], timeoutMs = 10_000): Promise<ExecResult> {
    const exec = await this.docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream & { destroy?: () => void };
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    err.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    this.docker.modem.demuxStream(stream, out, err);
    const onAbort = () => stream.destroy?.();
    this.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          stream.destroy?.();
          reject(new Error(`\`${cmd[0]}\` in the container did not finish within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        stream.on('end', done);
        stream.on('close', done);
        stream.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
    } finally {
      this.signal.removeEventListener('abort', onAbort);
    }
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? -1, stdout, stderr };
  }

  /** Ends the SQL pool and the keep-alive sockets. Safe to call twice. */
  async close(): Promise<void> {
    this.keepAlive?.destroy();
    this.keepAlive = undefined;
    const pool = this.sqlPool;
    this.sqlPool = undefined;
    await pool?.end({ timeout: 2 }).catch(() => undefined);
  }
}
