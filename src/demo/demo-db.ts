// The demo "production" database behind `rehearse demo`: a PostgreSQL container in its own compose
// project, the 1001 Stories schema (sql/demo/schema.sql) and a seeded synthetic data set COPYed in.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { activePortNames, type Config } from '../config.js';
import { dockerClient, runComposeOn, serviceHost, translateDockerError } from '../stack/docker.js';
import { readEnvFile, writeSecretFile } from '../stack/env-file.js';
import { CancelledError, CheckFailedError, UserError, isAbortError } from '../errors.js';
import { composeIdentity, containerExists, identityMismatch, volumeOwner } from '../stack/compose-identity.js';
import { assetPath } from '../paths.js';
import { portHolder, portIsFree } from '../stack/preflight.js';
import { noDelaySocket } from '../db/pg-connect.js';
import { cancellable } from '../db/cancellable.js';
import { quoteIdent, sqlString } from '../db/sql-text.js';
import { renderTemplate } from '../stack/template.js';
import {
  DEFAULT_SEED,
  DEFAULT_USERS,
  DEMO_TABLES,
  GENERATOR_VERSION,
  MAX_USERS,
  MIN_USERS,
  checkDemoOptions,
  copyStatement,
  estimateRows,
  tableChunks,
  type DemoTable,
} from './generator.js';
import { throttle, type DemoProgressListener } from './progress.js';

export type Sql = postgres.Sql;

/** Where the demo database listens and what it is called: config key `demo`, overridable per call. */
export interface DemoDbSettings {
  port: number;
  database: string;
  user: string;
}
export const DEMO_DB_DEFAULTS: DemoDbSettings = { port: 5433, database: 'stories_production', user: 'stories_app' };
export type DemoDbOptions = Partial<DemoDbSettings>;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Settings from options, then config key `demo`, then the defaults. */
export function demoSettings(config: Config, opts: DemoDbOptions = {}): DemoDbSettings {
  const fromConfig: DemoDbOptions = config.demo ?? {};
  const pick = <K extends keyof DemoDbSettings>(key: K): DemoDbSettings[K] => opts[key] ?? fromConfig[key] ?? DEMO_DB_DEFAULTS[key];
  const settings: DemoDbSettings = { port: pick('port'), database: pick('database'), user: pick('user') };
  if (!Number.isInteger(settings.port) || settings.port < 1 || settings.port > 65535) {
    throw new UserError(`demo.port = ${settings.port} is not a TCP port.`, { tryThis: `Use a port from 1 to 65535; the default is ${DEMO_DB_DEFAULTS.port}.` });
  }
  for (const key of ['database', 'user'] as const) {
    if (!IDENTIFIER.test(settings[key])) {
      throw new UserError(`demo.${key} = "${settings[key]}" must be a lowercase SQL identifier.`, { tryThis: `Use letters, digits and "_", e.g. ${DEMO_DB_DEFAULTS[key]}.` });
    }
  }
  return settings;
}

/** Names of the demo's Docker objects: all distinct from the staging stack's (`<project>-staging`). */
export function demoNames(config: Pick<Config, 'project'>) {
  const p = config.project;
  return {
    composeProject: `${p}-demo`,
    service: 'postgres-demo',
    container: `${p}-db-demo`,
    network: `${p}-demo-network`,
    volume: `${p}_postgres_demo_data`,
  } as const;
}

export function demoPaths(config: Pick<Config, 'workDir'>) {
  return {
    composeFile: path.join(config.workDir, 'docker-compose.demo.yml'),
    envFile: path.join(config.workDir, '.env.demo'),
  };
}

export const DEMO_SCHEMA_FILE = assetPath('sql', 'demo', 'schema.sql');

export function renderDemoComposeFile(config: Config, settings: DemoDbSettings = demoSettings(config)): string {
  const names = demoNames(config);
  const template = readFileSync(assetPath('compose', 'docker-compose.demo.yml.template'), 'utf8');
  const q = (s: string) => JSON.stringify(s); // JSON strings are valid YAML scalars
  return renderTemplate(template, {
    project: config.project,
    composeProject: names.composeProject,
    container: names.container,
    network: names.network,
    volume: q(names.volume),
    image: q(config.images.postgres),
    bind: config.bindAddress,
    port: settings.port,
  });
}

function renderDemoEnv(settings: DemoDbSettings, previous: Record<string, string> | undefined): Record<string, string> {
  return {
    POSTGRES_USER: settings.user,
    // Kept across runs: the volume only knows the password it was initialised with.
    POSTGRES_PASSWORD: previous?.POSTGRES_PASSWORD || randomBytes(24).toString('base64url'),
    POSTGRES_DB: settings.database,
  };
}

/**
 * Writes docker-compose.demo.yml and .env.demo (0600). The password is generated once and kept; a
 * changed user or database name is refused while the volume that was initialised with the old ones exists.
 */
export async function writeDemoWorkspace(config: Config, opts: DemoDbOptions = {}): Promise<{ files: string[]; env: Record<string, string>; secretsCreated: boolean }> {
  const settings = demoSettings(config, opts);
  const paths = demoPaths(config);
  mkdirSync(config.workDir, { recursive: true });
  const previous = readEnvFile(paths.envFile);
  if (previous && (previous.POSTGRES_USER !== settings.user || previous.POSTGRES_DB !== settings.database) && (await volumeExists(demoNames(config).volume))) {
    throw new UserError(
      `The demo database volume was created for user "${previous.POSTGRES_USER}" and database "${previous.POSTGRES_DB}", not "${settings.user}" / "${settings.database}".`,
      { tryThis: 'Remove it first with `rehearse demo --down`, or keep the previous names.' },
    );
  }
  const env = renderDemoEnv(settings, previous);
  const header = '# Written by `rehearse demo`: the demo "production" database. The password is generated once and kept; do not commit this file.\n';
  writeSecretFile(paths.envFile, header + Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  writeFileSync(paths.composeFile, renderDemoComposeFile(config, settings));
  return { files: [paths.composeFile, paths.envFile], env, secretsCreated: !previous?.POSTGRES_PASSWORD };
}

/** The demo database's URL, password included: hand it to code, never to a log or a report. */
export function demoConnectionUrl(config: Config, opts: DemoDbOptions = {}): string {
  const settings = demoSettings(config, opts);
  const env = requireDemoEnv(config);
  const host = serviceHost(config);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `postgresql://${encodeURIComponent(settings.user)}:${encodeURIComponent(env.POSTGRES_PASSWORD!)}@${hostPart}:${settings.port}/${settings.database}`;
}

/** The same URL with the password replaced by ***, for showing. */
export function demoDisplayUrl(config: Config, opts: DemoDbOptions = {}): string {
  const settings = demoSettings(config, opts);
  return `postgresql://${settings.user}:***@${serviceHost(config)}:${settings.port}/${settings.database}`;
}

function requireDemoEnv(config: Config): Record<string, string> {
  const env = readEnvFile(demoPaths(config).envFile);
  if (!env?.POSTGRES_PASSWORD) throw new UserError(`${demoPaths(config).envFile} does not exist yet.`, { tryThis: 'Run `rehearse demo` first.' });
  return env;
}

export function demoSql(config: Config, opts: DemoDbOptions = {}): Sql {
  const settings = demoSettings(config, opts);
  const env = requireDemoEnv(config);
  const host = serviceHost(config);
  const options = {
    host,
    port: settings.port,
    database: settings.database,
    username: settings.user,
    password: env.POSTGRES_PASSWORD,
    max: 1,
    idle_timeout: 5,
    connect_timeout: 10,
    onnotice: () => undefined,
    connection: { application_name: 'rehearse-demo' },
    socket: noDelaySocket(host, settings.port, 10_000),
  };
  return postgres(options as postgres.Options<Record<string, postgres.PostgresType>>);
}

// ---------------------------------------------------------------------------------------------
// Docker side

async function volumeExists(name: string): Promise<boolean> {
  try {
    await dockerClient().getVolume(name).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw translateDockerError(error);
  }
}

async function containerState(name: string): Promise<{ state: string; health: string } | null> {
  try {
    const info = await dockerClient().getContainer(name).inspect();
    return { state: info.State.Status, health: info.State.Health?.Status ?? 'none' };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw translateDockerError(error);
  }
}

interface ComposeOptions {
  signal?: AbortSignal | undefined;
  onLine?: ((line: string) => void) | undefined;
  timeoutMs?: number | undefined;
  /** For the message when the published port was taken meanwhile. */
  port?: number | undefined;
}

function runDemoCompose(config: Config, args: string[], opts: ComposeOptions = {}): Promise<string> {
  const names = demoNames(config);
  const paths = demoPaths(config);
  return runComposeOn(
    {
      argv: ['compose', '-p', names.composeProject, '-f', paths.composeFile],
      cwd: config.workDir,
      envFile: paths.envFile,
      what: ' for the demo database',
      logsHint: `\`docker logs ${names.container}\``,
      portHint: `Port ${opts.port ?? demoSettings(config).port} was taken meanwhile: free it, or choose another with demo.port.`,
    },
    args,
    opts,
  );
}

/** Refuses a port that the staging stack uses or that something else holds, before anything starts. */
async function checkDemoPort(config: Config, settings: DemoDbSettings): Promise<void> {
  const clash = activePortNames(config).find((name) => config.ports[name] === settings.port);
  if (clash) {
    throw new UserError(`The demo database port ${settings.port} is also ports.${clash} of the staging stack.`, { tryThis: `Choose another demo port (the default is ${DEMO_DB_DEFAULTS.port}).` });
  }
  const running = await containerState(demoNames(config).container);
  if (running?.state === 'running') return; // the port is ours already
  if (await portIsFree(settings.port, config.bindAddress)) return;
  const holder = await portHolder(settings.port);
  throw new UserError(`Port ${settings.port} on ${config.bindAddress} is in use${holder ? ` by ${holder}` : ''}; the demo database cannot publish on it.`, {
    tryThis: `Stop what holds it, or choose another demo port (demo.port).`,
  });
}

// ---------------------------------------------------------------------------------------------
// Database side

/** What a loaded demo database records about itself, as the database's comment (set in the load's transaction). */
export interface DemoMeta {
  rehearseDemo: 1;
  generator: number;
  seed: number;
  users: number;
  counts: Record<DemoTable, number>;
  loadedAt: string;
  loadMs: number;
}

export async function readDemoMeta(sql: Sql): Promise<{ meta: DemoMeta | null; tables: number }> {
  const [row] = await sql<{ comment: string | null; tables: number }[]>`
    SELECT shobj_description(d.oid, 'pg_database') AS comment,
           (SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public') AS tables
    FROM pg_database d WHERE d.datname = current_database()`;
  let meta: DemoMeta | null = null;
  try {
    const parsed = row?.comment ? (JSON.parse(row.comment) as Partial<DemoMeta>) : null;
    if (parsed?.rehearseDemo === 1) meta = parsed as DemoMeta;
  } catch {
    meta = null; // someone else's comment: not ours
  }
  return { meta, tables: row?.tables ?? 0 };
}

/** The three parts of sql/demo/schema.sql, split at its `-- @rehearse:` marker lines. */
export function demoSchemaParts(text: string = readFileSync(DEMO_SCHEMA_FILE, 'utf8')): { types: string; tables: string; after: string } {
  const [types, rest] = splitOnce(text, /^-- @rehearse:commit[ \t]*$/m);
  const [tables, after] = splitOnce(rest, /^-- @rehearse:load[ \t]*$/m);
  return { types, tables, after };
}

function splitOnce(text: string, marker: RegExp): [string, string] {
  const m = marker.exec(text);
  if (!m) throw new Error(`sql/demo/schema.sql lacks the marker ${marker.source}`);
  return [text.slice(0, m.index), text.slice(m.index + m[0].length)];
}

/** Back to an empty public schema as PostgreSQL 15 creates it; also forgets the load record. */
async function resetPublicSchema(sql: Sql | postgres.TransactionSql, database: string): Promise<void> {
  await sql.unsafe(`
    DROP SCHEMA IF EXISTS public CASCADE;
    CREATE SCHEMA public AUTHORIZATION pg_database_owner;
    GRANT USAGE ON SCHEMA public TO PUBLIC;
    COMMENT ON SCHEMA public IS 'standard public schema';
    COMMENT ON DATABASE ${quoteIdent(database)} IS NULL;`);
}

/**
 * COPY … FROM STDIN from `chunks`. Works around porsager/postgres 3.4: when the server rejects the data
 * after the stream has been ended (always, for a table that fits in one chunk), the error reaches only
 * the already-resolved query and the stream never finishes, so the load would hang. The query's
 * reject is observed here and wins the race.
 */
export async function copyIn(tx: postgres.TransactionSql | Sql, statement: string, chunks: AsyncIterable<string>, signal: AbortSignal | undefined): Promise<void> {
  const query = tx.unsafe(statement);
  let fail: (error: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined); // settles after the race in the ordinary failure paths
  const internals = query as unknown as { reject: (error: unknown) => void };
  const reject = internals.reject;
  internals.reject = (error) => {
    fail(error);
    reject(error);
  };
  const writable = await query.writable();
  const piped = pipeline(chunks, writable, signal ? { signal } : {});
  try {
    await Promise.race([piped, failed]);
  } catch (error) {
    writable.destroy();
    await piped.catch(() => undefined);
    throw error;
  }
}

export interface LoadDemoOptions {
  users: number;
  seed: number;
  signal?: AbortSignal | undefined;
  onProgress?: DemoProgressListener | undefined;
}

export interface LoadDemoResult {
  counts: Record<DemoTable, number>;
  rows: number;
  ms: number;
}

/**
 * Replaces whatever the database holds with the demo schema and data set. Creates the enum in its own
 * transaction (see schema.sql), then tables, COPY, indexes and foreign keys in one more; if that one
 * fails or is cancelled, the database is left empty. Ends with ANALYZE.
 */
export async function loadDemoData(sql: Sql, opts: LoadDemoOptions): Promise<LoadDemoResult> {
  const { signal, onProgress } = opts;
  const data = { users: opts.users, seed: opts.seed };
  checkDemoOptions(data); // before anything is dropped
  const emit = onProgress ?? (() => undefined);
  const parts = demoSchemaParts();
  const started = performance.now();
  const [{ database } = { database: '' }] = await sql<{ database: string }[]>`SELECT current_database() AS database`;
  signal?.throwIfAborted();

  emit({ type: 'step', step: 'schema', detail: 'Creating the 1001 Stories schema' });
  await sql.begin(async (tx) => {
    await resetPublicSchema(tx, database);
    await tx.unsafe(parts.types);
  });

  const counts = Object.fromEntries(DEMO_TABLES.map((t) => [t, 0])) as Record<DemoTable, number>;
  const estimated = Object.values(estimateRows(opts.users)).reduce((a, b) => a + b, 0);
  let totalRows = 0;
  try {
    await sql.begin(async (tx) => {
      await tx.unsafe(parts.tables);
      const loadStarted = performance.now();
      emit({ type: 'step', step: 'load', detail: `Loading ${opts.users.toLocaleString('en-US')} users (seed ${opts.seed}) with COPY` });
      for (const [index, table] of DEMO_TABLES.entries()) {
        signal?.throwIfAborted();
        const counter = { rows: 0 };
        const tick = throttle(250);
        const report = (done: boolean) => {
          const rows = totalRows + counter.rows;
          const seconds = (performance.now() - loadStarted) / 1000;
          emit({ type: 'rows', table, index, tables: DEMO_TABLES.length, rows: counter.rows, done, totalRows: rows, estimatedTotalRows: Math.max(estimated, rows), rowsPerSecond: seconds > 0 ? Math.round(rows / seconds) : 0 });
        };
        const source = tableChunks(table, data, counter);
        async function* withProgress() {
          for (const chunk of source) {
            yield chunk;
            tick(() => report(false));
          }
        }
        try {
          await copyIn(tx, copyStatement(table), withProgress(), signal);
        } catch (error) {
          if (error instanceof Error && !isAbortError(error) && !signal?.aborted) error.message = `COPY into "${table}" failed: ${error.message}`;
          throw error;
        }
        counts[table] = counter.rows;
        report(true);
        totalRows += counter.rows;
      }
      emit({ type: 'step', step: 'constraints', detail: 'Building indexes and checking foreign keys' });
      await cancellable(tx.unsafe(parts.after), signal);
      const meta: DemoMeta = { rehearseDemo: 1, generator: GENERATOR_VERSION, seed: opts.seed, users: opts.users, counts, loadedAt: new Date().toISOString(), loadMs: Math.round(performance.now() - started) };
      await tx.unsafe(`COMMENT ON DATABASE ${quoteIdent(database)} IS ${sqlString(JSON.stringify(meta))}`);
    });
  } catch (error) {
    // Leave an empty database rather than the committed enum alone; best effort when the connection is gone.
    emit({ type: 'step', step: 'cleanup', detail: 'The load failed; emptying the demo database' });
    await resetPublicSchema(sql, database).catch(() => undefined);
    if (signal?.aborted || isAbortError(error)) throw new CancelledError('The demo database was left empty.');
    throw error;
  }
  emit({ type: 'step', step: 'analyze', detail: 'ANALYZE' });
  try {
    await cancellable(sql.unsafe('ANALYZE'), signal);
  } catch (error) {
    if (signal?.aborted) throw new CancelledError('The data is loaded; only the planner statistics were not gathered.');
    throw error;
  }
  return { counts, rows: totalRows, ms: Math.round(performance.now() - started) };
}

/** Turns the failures an operator can fix into UserErrors; everything else stays a bug. */
function translatePgError(error: unknown, config: Config, settings: DemoDbSettings): unknown {
  const e = error as { code?: string; message?: string };
  if (e?.code === '28P01' || e?.code === '3D000' || e?.code === '28000') {
    return new UserError(`The demo database refused ${settings.user}@${settings.database}: ${e.message}.`, {
      causes: ['.env.demo was replaced or deleted after the volume was created', 'demo.user or demo.database changed since'],
      tryThis: 'Remove the demo database with `rehearse demo --down` and run `rehearse demo` again.',
    });
  }
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ECONNRESET' || e?.code === 'CONNECT_TIMEOUT' || e?.code === 'CONNECTION_CLOSED' || e?.code === 'CONNECTION_ENDED') {
    return new UserError(`Lost the connection to the demo database on ${serviceHost(config)}:${settings.port} (${e.code}).`, {
      tryThis: `Look at \`docker logs ${demoNames(config).container}\`; \`rehearse demo\` again starts it and reloads if needed.`,
    });
  }
  return error;
}

/** Retries the first query while the server finishes starting (a healthy container can still say 57P03 once). */
async function waitForServer(sql: Sql, signal: AbortSignal | undefined, deadlineMs: number): Promise<void> {
  const until = performance.now() + deadlineMs;
  for (;;) {
    try {
      await sql`SELECT 1`;
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const transient = code === '57P03' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'CONNECTION_CLOSED';
      if (!transient || performance.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
      signal?.throwIfAborted();
    }
  }
}

export interface DemoUpOptions extends DemoDbOptions {
  users?: number;
  seed?: number;
  /** Replace the data even when the database already holds the same seed and size, or a different data set. */
  reload?: boolean;
  signal?: AbortSignal;
  onProgress?: DemoProgressListener;
}

export interface DemoUpResult {
  /** postgresql://user:password@host:port/db: never print it (displayUrl is the printable one). */
  url: string;
  displayUrl: string;
  counts: Record<DemoTable, number>;
  rows: number;
  /** Wall time of the whole call, bring-up included. */
  ms: number;
  /** False when an identical data set was already there and was kept. */
  loaded: boolean;
  users: number;
  seed: number;
}

/** Starts the demo database (compose up --wait) and loads the data set unless the same one is already there. */
export async function demoUp(config: Config, opts: DemoUpOptions = {}): Promise<DemoUpResult> {
  const started = performance.now();
  const { signal } = opts;
  const emit = opts.onProgress ?? (() => undefined);
  const users = opts.users ?? DEFAULT_USERS;
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(users) || users < MIN_USERS || users > MAX_USERS) {
    throw new UserError(`The demo needs from ${MIN_USERS.toLocaleString('en-US')} to ${MAX_USERS.toLocaleString('en-US')} users, not ${users}.`, { tryThis: `Pass --users ${DEFAULT_USERS} (the default), or any whole number in that range.` });
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UserError(`The seed must be a whole number from 0 to 4294967295, not ${seed}.`, { tryThis: `Pass --seed ${DEFAULT_SEED} (the default).` });
  }
  const settings = demoSettings(config, opts);
  if (signal?.aborted) throw new CancelledError();

  emit({ type: 'step', step: 'workspace', detail: 'Writing docker-compose.demo.yml and .env.demo' });
  await writeDemoWorkspace(config, settings);
  await checkDemoPort(config, settings);
  emit({ type: 'step', step: 'start', detail: `Starting ${demoNames(config).container} on ${config.bindAddress}:${settings.port}` });
  await runDemoCompose(config, ['up', '-d', '--wait', '--wait-timeout', String(config.timeouts.upSeconds)], {
    signal,
    onLine: (line) => emit({ type: 'compose', line }),
    timeoutMs: (config.timeouts.upSeconds + 30) * 1000,
    port: settings.port,
  });

  emit({ type: 'step', step: 'connect', detail: `Connecting to ${demoDisplayUrl(config, settings)}` });
  const sql = demoSql(config, settings);
  const base = { url: demoConnectionUrl(config, settings), displayUrl: demoDisplayUrl(config, settings), users, seed };
  try {
    await waitForServer(sql, signal, 30_000);
    const { meta, tables } = await readDemoMeta(sql);
    const same = meta && meta.seed === seed && meta.users === users && meta.generator === GENERATOR_VERSION;
    if (same && !opts.reload) {
      const rows = Object.values(meta.counts).reduce((a, b) => a + b, 0);
      emit({ type: 'step', step: 'reuse', detail: `Already loaded: ${users.toLocaleString('en-US')} users, seed ${seed}, ${rows.toLocaleString('en-US')} rows (${meta.loadedAt}); not reloading` });
      return { ...base, counts: meta.counts, rows, ms: Math.round(performance.now() - started), loaded: false };
    }
    if (tables > 0 && !opts.reload) {
      const what = meta ? `a demo data set with ${meta.users.toLocaleString('en-US')} users and seed ${meta.seed}${meta.generator !== GENERATOR_VERSION ? ' from an older generator' : ''}` : `${tables} tables that rehearse did not load`;
      throw new UserError(`The demo database already holds ${what}.`, {
        tryThis: meta && meta.generator === GENERATOR_VERSION ? `Pass --reload to replace it, or keep it with --users ${meta.users} --seed ${meta.seed}.` : 'Pass --reload to replace it.',
      });
    }
    const loaded = await loadDemoData(sql, { users, seed, signal, onProgress: emit });
    emit({ type: 'step', step: 'done', detail: `Loaded ${loaded.rows.toLocaleString('en-US')} rows in ${(loaded.ms / 1000).toFixed(1)} s` });
    return { ...base, counts: loaded.counts, rows: loaded.rows, ms: Math.round(performance.now() - started), loaded: true };
  } catch (error) {
    if (signal?.aborted || isAbortError(error)) throw error instanceof CancelledError ? error : new CancelledError();
    throw translatePgError(error, config, settings);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface DemoDownResult {
  /** Why docker-compose.demo.yml was rewritten for this project first (it named another one's objects). */
  rewrote: string[];
  /** What existed before and is verified gone now; `kept` is what `volumes: false` leaves. */
  container: { name: string; existed: boolean; removed: boolean };
  volume: { name: string; existed: boolean; removed: boolean; kept: boolean };
}

/**
 * Stops the demo database of this project only; with `volumes` its data goes too. Confirmation is
 * the caller's job. compose acts through a file rendered for this project (a file another project
 * left in the folder would name that project's volume), never on a volume another project made,
 * and what it removed is checked with the engine afterwards.
 */
export async function demoDown(config: Config, opts: DemoDbOptions & { volumes?: boolean; signal?: AbortSignal; onLine?: (line: string) => void } = {}): Promise<DemoDownResult> {
  const paths = demoPaths(config);
  const names = demoNames(config);
  const docker = dockerClient();
  const owner = await volumeOwner(docker, names.volume).catch((error) => Promise.reject(translateDockerError(error)));
  if (opts.volumes && owner.exists && owner.project && owner.project !== names.composeProject) {
    throw new UserError(`The volume ${names.volume} belongs to the compose project "${owner.project}", not to this project's demo (${names.composeProject}); nothing was removed.`, {
      tryThis: `Check project (or REHEARSE_PROJECT): \`rehearse config\`. Remove that volume by hand only if it is really unused (\`docker volume rm ${names.volume}\`).`,
    });
  }
  const existed = { container: await containerExists(docker, names.container), volume: owner.exists };
  const rewrote = identityMismatch(paths.composeFile, composeIdentity(renderDemoComposeFile(config, demoSettings(config, opts))));
  // compose needs the file (and its env_file) to know what to remove: (re)write them for this project.
  if (rewrote.length || !existsSync(paths.composeFile) || !existsSync(paths.envFile)) await writeDemoWorkspace(config, opts);
  await runDemoCompose(config, ['down', '--remove-orphans', '-t', '5', ...(opts.volumes ? ['--volumes'] : [])], { signal: opts.signal, onLine: opts.onLine, timeoutMs: 120_000 });
  const now = { container: await containerExists(docker, names.container), volume: (await volumeOwner(docker, names.volume)).exists };
  if (now.container || (opts.volumes && now.volume)) {
    throw new CheckFailedError(`After \`docker compose down\`, ${[now.container && `the container ${names.container}`, opts.volumes && now.volume && `the volume ${names.volume}`].filter(Boolean).join(' and ')} still exist(s).`, {
      tryThis: `\`docker ps -a --filter name=${names.container}\` and \`docker volume inspect ${names.volume}\` show what holds them.`,
    });
  }
  return {
    rewrote,
    container: { name: names.container, existed: existed.container, removed: existed.container },
    volume: { name: names.volume, existed: existed.volume, removed: !!opts.volumes && existed.volume, kept: !opts.volumes && existed.volume },
  };
}

export interface DemoStatus {
  container: { name: string; state: string; health: string } | null;
  volume: { name: string; exists: boolean };
  displayUrl: string;
  /** The load record, when the database answers and holds a demo data set. */
  data: DemoMeta | null;
  reachable: boolean;
  /** Why the database did not answer, when the container runs but a query failed. */
  error?: string;
}

export async function demoStatus(config: Config, opts: DemoDbOptions = {}): Promise<DemoStatus> {
  const settings = demoSettings(config, opts);
  const names = demoNames(config);
  const [container, volume] = await Promise.all([containerState(names.container), volumeExists(names.volume)]);
  const status: DemoStatus = {
    container: container ? { name: names.container, ...container } : null,
    volume: { name: names.volume, exists: volume },
    displayUrl: demoDisplayUrl(config, settings),
    data: null,
    reachable: false,
  };
  if (container?.state !== 'running' || !readEnvFile(demoPaths(config).envFile)) return status;
  const sql = demoSql(config, settings);
  try {
    status.data = (await readDemoMeta(sql)).meta;
    status.reachable = true;
  } catch (error) {
    const translated = translatePgError(error, config, settings);
    status.error = (translated as Error).message;
  } finally {
    await sql.end({ timeout: 2 });
  }
  return status;
}
