// The Docker boundary: a dockerode client (honouring DOCKER_HOST and docker contexts), a light
// reader for the engine reads of quick commands, and the Compose v2 CLI through execa. Well-known
// failures are translated into what to do.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { Config } from '../config.js';
import { CancelledError, ExitCode, SubprocessError, UserError, isAbortError } from '../errors.js';
import { readEnvFile, redact } from './env-file.js';
import { stackNames, workPaths } from '../paths.js';

/** The daemon endpoint the docker CLI would use: DOCKER_HOST, else DOCKER_CONTEXT / the current context. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  const configDir = env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker');
  let context = env.DOCKER_CONTEXT;
  if (!context) {
    try {
      context = (JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')) as { currentContext?: string }).currentContext;
    } catch {
      context = undefined;
    }
  }
  if (!context || context === 'default') return undefined;
  // Context metadata lives under contexts/meta/<sha256(name)>/meta.json.
  const metaRoot = path.join(configDir, 'contexts', 'meta');
  if (!existsSync(metaRoot)) return undefined;
  for (const dir of readdirSafe(metaRoot)) {
    try {
      const meta = JSON.parse(readFileSync(path.join(metaRoot, dir, 'meta.json'), 'utf8')) as { Name?: string; Endpoints?: { docker?: { Host?: string } } };
      if (meta.Name === context) return meta.Endpoints?.docker?.Host;
    } catch {
      // unreadable context: fall through to the default socket
    }
  }
  return undefined;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function dockerClient(env: NodeJS.ProcessEnv = process.env): Dockerode {
  // Required here, not at the top: dockerode loads gRPC and ssh2 (~200 ms), which most importers of
  // this module (serviceHost, composeArgs) never need. It is CommonJS, so this is the same instance.
  const Docker = createRequire(import.meta.url)('dockerode') as typeof import('dockerode');
  const endpoint = dockerEndpoint(env);
  if (!endpoint) return new Docker();
  if (endpoint.startsWith('unix://')) return new Docker({ socketPath: endpoint.slice('unix://'.length) });
  const url = new URL(endpoint.replace(/^tcp:/, 'http:'));
  if (endpoint.startsWith('ssh://')) return new Docker({ protocol: 'ssh', host: url.hostname, port: Number(url.port || 22), username: url.username || undefined } as Dockerode.DockerOptions);
  return new Docker({ host: url.hostname, port: Number(url.port || 2375) });
}

/** The engine reads of the commands that must start fast (status, validate --quick): the part of Dockerode's API they use. */
export interface EngineReader {
  ping(): Promise<unknown>;
  version(): Promise<Dockerode.DockerVersion>;
  listContainers(options?: Dockerode.ContainerListOptions): Promise<Dockerode.ContainerInfo[]>;
  getContainer(id: string): { inspect(): Promise<Dockerode.ContainerInspectInfo>; top(options?: { ps_args?: string }): Promise<unknown> };
}

/**
 * Those reads without dockerode, whose gRPC and ssh2 cost ~200 ms of start-up (most of `rehearse
 * status`): plain Engine API GETs on the local socket, found as dockerode finds it. A tcp or ssh
 * endpoint gets dockerode itself (TLS and ssh stay in one place).
 */
export function engineReader(env: NodeJS.ProcessEnv = process.env): EngineReader {
  const endpoint = dockerEndpoint(env);
  const userSocket = path.join(os.homedir(), '.docker', 'run', 'docker.sock');
  const socketPath = endpoint === undefined ? (existsSync(userSocket) ? userSocket : '/var/run/docker.sock') : endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : undefined;
  if (!socketPath) return dockerClient(env);
  const get = <T>(apiPath: string, signal?: AbortSignal) =>
    new Promise<T>((resolve, reject) => {
      const req = http.get({ socketPath, path: apiPath, agent: false, ...(signal ? { signal } : {}) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('error', reject);
        res.on('end', () => {
          // dockerode's error shape: "(HTTP code N) …" with statusCode and the engine's message.
          if (res.statusCode !== 200) return reject(Object.assign(new Error(`(HTTP code ${res.statusCode}) ${(parseJsonSafe(body) as { message?: string } | undefined)?.message ?? body.trim()}`), { statusCode: res.statusCode }));
          try {
            resolve((apiPath === '/_ping' ? body : JSON.parse(body)) as T);
          } catch (error) {
            reject(error);
          }
        });
      });
      req.on('error', reject);
    });
  return {
    ping: (opts?: { abortSignal?: AbortSignal }) => get('/_ping', opts?.abortSignal),
    version: () => get('/version'),
    listContainers: (options = {}) => get(`/containers/json?${new URLSearchParams({ all: String(!!options.all), ...(options.filters ? { filters: JSON.stringify(options.filters) } : {}) })}`),
    getContainer: (id) => ({
      inspect: () => get(`/containers/${encodeURIComponent(id)}/json`),
      top: (options = {}) => get(`/containers/${encodeURIComponent(id)}/top${options.ps_args ? `?${new URLSearchParams({ ps_args: options.ps_args })}` : ''}`),
    }),
  };
}

function parseJsonSafe(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The address the host uses to reach published ports: the remote engine's host, or loopback. */
export function serviceHost(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  const endpoint = dockerEndpoint(env);
  if (endpoint && /^(tcp|ssh):\/\//.test(endpoint)) return new URL(endpoint.replace(/^tcp:/, 'http:')).hostname;
  return config.bindAddress === '0.0.0.0' ? '127.0.0.1' : config.bindAddress;
}

/** Turns a failure to reach the daemon into an actionable error. */
export function translateDockerError(error: unknown): Error {
  const e = error as { code?: string; message?: string; errno?: string };
  const endpoint = dockerEndpoint() ?? 'unix:///var/run/docker.sock';
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOENT' || e?.code === 'EACCES' || e?.code === 'ETIMEDOUT' || e?.code === 'EHOSTUNREACH') {
    const what = e.code === 'EACCES' ? 'permission was denied on' : e.code === 'ENOENT' ? 'there is no socket at' : 'nothing answers at';
    return new UserError(`Cannot reach the Docker engine: ${what} ${endpoint}.`, {
      causes: ['the Docker daemon is not running', 'DOCKER_HOST or the docker context points somewhere else', e.code === 'EACCES' ? 'your user is not in the docker group' : 'the engine is still starting'],
      tryThis: process.env.DOCKER_HOST
        ? `Start the engine behind DOCKER_HOST=${process.env.DOCKER_HOST}, or unset DOCKER_HOST to use the local socket.`
        : 'Start Docker (`sudo systemctl start docker`, or `bash scripts/docker-engine.sh` on a bare Debian machine) and run the command again.',
    });
  }
  return error as Error;
}

export async function pingDocker(docker: EngineReader, signal?: AbortSignal): Promise<{ version: string; apiVersion: string }> {
  try {
    const timeout = AbortSignal.timeout(5000);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    await (docker.ping as (opts: { abortSignal: AbortSignal }) => Promise<unknown>)({ abortSignal: combined });
    const v = await docker.version();
    return { version: v.Version, apiVersion: v.ApiVersion };
  } catch (error) {
    if (signal?.aborted) throw new CancelledError();
    if ((error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError') {
      throw translateDockerError(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
    }
    throw translateDockerError(error);
  }
}

/** execa is imported where a subprocess runs: it is ~100 modules, which `rehearse status` never needs. */
const loadExeca = async () => (await import('execa')).execa;

export async function composeVersion(signal?: AbortSignal): Promise<string> {
  const execa = await loadExeca();
  try {
    const { stdout } = await execa('docker', ['compose', 'version', '--short'], { cancelSignal: signal, timeout: 15_000 });
    return stdout.trim().replace(/^v/, '');
  } catch (error) {
    if (isAbortError(error) || signal?.aborted) throw new CancelledError();
    const e = error as { code?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new UserError('The `docker` command is not on the PATH.', { tryThis: 'Install the Docker CLI (Debian: `apt-get install docker.io`).' });
    throw new UserError('Docker Compose v2 is not installed (`docker compose version` failed).', {
      causes: [String(e.stderr ?? '').trim().split('\n').pop() ?? ''],
      tryThis: 'Install the Compose v2 CLI plugin (e.g. `apt-get install docker-compose-plugin`, or `bash scripts/docker-engine.sh` here).',
    });
  }
}

export interface ComposeRunOptions {
  signal?: AbortSignal;
  /** Each line compose prints (progress goes to stderr), secrets redacted. */
  onLine?: (line: string) => void;
  timeoutMs?: number;
}

/** The argv prefix that addresses this stack: `compose -p … -f … [--profile …]`. */
export function composeArgs(config: Config, opts: { allProfiles?: boolean } = {}): string[] {
  const args = ['compose', '-p', stackNames(config).composeProject, '-f', workPaths(config).composeFile];
  if (config.profiles.admin || opts.allProfiles) args.push('--profile', 'admin');
  if (config.profiles.monitoring || opts.allProfiles) args.push('--profile', 'monitoring');
  return args;
}

/** One compose project as the CLI addresses it, and how its failures are explained. */
export interface ComposeTarget {
  /** `compose -p … -f … [--profile …]` */
  argv: string[];
  cwd: string;
  /** Its env file: every secret in it is redacted from compose's output. */
  envFile: string;
  /** "" for the staging stack, " for the demo database", … (appended to messages). */
  what: string;
  /** Where to look when a container fails, e.g. "`rehearse logs <service>`". */
  logsHint: string;
  /** What to do when a published port was taken meanwhile. */
  portHint: string;
}

export function stagingTarget(config: Config, opts: { allProfiles?: boolean } = {}): ComposeTarget {
  return {
    argv: composeArgs(config, opts),
    cwd: config.workDir,
    envFile: workPaths(config).envFile,
    what: '',
    logsHint: '`rehearse status` and `rehearse logs <service>`',
    portHint: 'Run `rehearse setup` again; preflight will name the process holding it.',
  };
}

export async function runComposeOn(target: ComposeTarget, args: string[], opts: ComposeRunOptions = {}): Promise<string> {
  const argv = [...target.argv, ...args];
  const env = readEnvFile(target.envFile);
  const execa = await loadExeca();
  const child = execa('docker', argv, {
    cwd: target.cwd,
    cancelSignal: opts.signal,
    // compose forwards SIGTERM to nothing it started; give it a moment to stop its own waits.
    forceKillAfterDelay: 5000,
    timeout: opts.timeoutMs,
    all: true,
    env: { COMPOSE_ANSI: 'never', COMPOSE_PROGRESS: 'plain', COMPOSE_STATUS_STDOUT: '0' },
  });
  if (opts.onLine) {
    child.all?.setEncoding('utf8');
    let buffer = '';
    child.all?.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) opts.onLine?.(redact(line.trim(), env));
    });
  }
  try {
    return (await child).stdout;
  } catch (error) {
    if (opts.signal?.aborted || isAbortError(error)) throw new CancelledError();
    const e = error as { stderr?: string; all?: string; timedOut?: boolean };
    const output = redact(String(e.all ?? e.stderr ?? ''), env);
    const tail = output.trim().split('\n').slice(-15).join('\n');
    const shown = `docker ${argv.join(' ')}`;
    const command = `\`docker compose ${args.join(' ')}\`${target.what}`;
    if (e.timedOut) throw new SubprocessError(`${command} did not finish within ${Math.round((opts.timeoutMs ?? 0) / 1000)} s.`, shown, tail, { tryThis: `Look at ${target.logsHint}; raise timeouts.upSeconds if the machine is slow.` });
    if (/pull access denied|registry-1\.docker\.io|no such host|manifest unknown|failed to resolve reference/i.test(output)) {
      throw new SubprocessError(`An image${target.what} could not be found locally nor pulled from its registry.`, shown, tail, {
        tryThis: 'On a machine without registry access, build the stand-ins with `npm run images` and run with REHEARSE_IMAGES=local; or set images.<name> to an image listed by `docker images`.',
        exitCode: ExitCode.usage,
      });
    }
    if (/port is already allocated|address already in use/i.test(output)) {
      throw new SubprocessError(`A published port${target.what} was taken between the port check and start-up.`, shown, tail, { tryThis: target.portHint, exitCode: ExitCode.usage });
    }
    throw new SubprocessError(`${command} failed.`, shown, tail, { tryThis: `See the output above; ${target.logsHint} show a container's own log.` });
  }
}

export const runCompose = (config: Config, args: string[], opts: ComposeRunOptions & { allProfiles?: boolean } = {}) => runComposeOn(stagingTarget(config, opts), args, opts);

export interface StackContainer {
  id: string;
  name: string;
  service: string;
  state: string;
  health: string;
  ports: Array<{ ip: string; privatePort: number; publicPort: number }>;
}

/** The containers of this stack, from the engine (not from compose's view of the file). */
export async function listStackContainers(docker: EngineReader, config: Config): Promise<StackContainer[]> {
  let list: Dockerode.ContainerInfo[];
  try {
    list = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${stackNames(config).composeProject}`] } });
  } catch (error) {
    throw translateDockerError(error);
  }
  return list
    .map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      service: c.Labels['com.docker.compose.service'] ?? '',
      state: c.State,
      health: /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1]?.replace('health: ', '') ?? 'none',
      ports: c.Ports.filter((p) => p.PublicPort).map((p) => ({ ip: p.IP, privatePort: p.PrivatePort, publicPort: p.PublicPort })),
    }))
    .sort((a, b) => a.service.localeCompare(b.service));
}
