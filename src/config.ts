// The effective configuration: defaults < rehearse.config.(json|yaml) < environment < flags,
// validated by one schema. Every other module takes a `Config` and never reads env or files itself.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import { anonymizeRulesSchema, DEFAULT_RULES_1001_STORIES, type AnonymizeRules } from './anonymize/rules.js';
import { readRulesFile } from './data/rules-file.js';
import { UserError } from './errors.js';

const port = z.number().int().min(1).max(65535);
const limits = (memoryMb: number, cpus: number) =>
  z
    .object({ memoryMb: z.number().int().min(16).default(memoryMb), cpus: z.number().min(0.01).max(64).default(cpus) })
    .strict()
    .prefault({});

export const OFFICIAL_IMAGES = {
  postgres: 'postgres:15-alpine',
  redis: 'redis:7-alpine',
  nginx: 'nginx:alpine',
  node: 'node:20-alpine',
  prometheus: 'prom/prometheus:v2.53.0',
  grafana: 'grafana/grafana:11.1.0',
  pgadmin: 'dpage/pgadmin4:8.9',
  postgresExporter: 'quay.io/prometheuscommunity/postgres-exporter:v0.15.0',
  redisExporter: 'oliver006/redis_exporter:v1.62.0',
  nginxExporter: 'nginx/nginx-prometheus-exporter:1.1.0',
} as const;

/** Stand-ins built by `npm run images` (test/images) for machines without a registry. */
export const LOCAL_IMAGES: Record<keyof typeof OFFICIAL_IMAGES, string> = {
  postgres: 'rehearse-local/postgres:15',
  redis: 'rehearse-local/redis:7',
  nginx: 'rehearse-local/nginx:1',
  node: 'rehearse-local/node:bookworm',
  prometheus: 'rehearse-local/prometheus:2',
  postgresExporter: 'rehearse-local/postgres-exporter:0',
  redisExporter: 'rehearse-local/redis-exporter:1',
  nginxExporter: 'rehearse-local/nginx-exporter:0',
  // pgAdmin's stand-in keeps the image's privilege contract (see test/images/pgadmin).
  pgadmin: 'rehearse-local/pgadmin:8',
  // No Debian package exists for Grafana: setup skips it, its files are checked on their own.
  grafana: OFFICIAL_IMAGES.grafana,
};

export const configSchema = z
  .object({
    project: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_", starting with a letter or digit')
      .default('1001-stories'),
    workDir: z.string().default('.'),
    bindAddress: z.string().default('127.0.0.1'),
    ports: z
      .object({
        app: port.default(3001),
        https: port.default(8080),
        http: port.default(8081),
        postgres: port.default(5434),
        redis: port.default(6380),
        pgadmin: port.default(5051),
        prometheus: port.default(9091),
        grafana: port.default(3002),
      })
      .strict()
      .prefault({}),
    database: z
      .object({
        name: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase SQL identifier').default('staging_db'),
        user: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase SQL identifier').default('staging_user'),
      })
      .strict()
      .prefault({}),
    volumes: z
      .object({
        postgres: z.string().default('postgres_staging_data'),
        redis: z.string().default('redis_staging_data'),
        prometheus: z.string().default('prometheus_staging_data'),
        grafana: z.string().default('grafana_staging_data'),
        pgadmin: z.string().default('pgadmin_staging_data'),
      })
      .strict()
      .prefault({}),
    images: z
      .object({
        postgres: z.string().min(1).default(OFFICIAL_IMAGES.postgres),
        redis: z.string().min(1).default(OFFICIAL_IMAGES.redis),
        nginx: z.string().min(1).default(OFFICIAL_IMAGES.nginx),
        node: z.string().min(1).default(OFFICIAL_IMAGES.node),
        prometheus: z.string().min(1).default(OFFICIAL_IMAGES.prometheus),
        grafana: z.string().min(1).default(OFFICIAL_IMAGES.grafana),
        pgadmin: z.string().min(1).default(OFFICIAL_IMAGES.pgadmin),
        postgresExporter: z.string().min(1).default(OFFICIAL_IMAGES.postgresExporter),
        redisExporter: z.string().min(1).default(OFFICIAL_IMAGES.redisExporter),
        nginxExporter: z.string().min(1).default(OFFICIAL_IMAGES.nginxExporter),
      })
      .strict()
      .prefault({}),
    app: z
      .object({
        /** Use this image for app-staging instead of the bundled demo app. */
        image: z.string().min(1).optional(),
        /** Or build app-staging from this context (a folder with a Dockerfile). */
        build: z.string().min(1).optional(),
        /** The port the app listens on inside its container. */
        internalPort: port.default(3000),
        healthPath: z.string().startsWith('/').default('/api/health'),
        /** Prometheus text format on the app's own port; null: the app has none and is not scraped. */
        metricsPath: z.string().startsWith('/').nullable().default('/metrics'),
      })
      .strict()
      .refine((a) => !(a.image && a.build), { message: 'set app.image or app.build, not both' })
      .prefault({}),
    /** Memory (MiB) and CPU limits per container; the defaults fit a 2-core, 4 GB host. */
    resources: z
      .object({
        postgres: limits(1024, 1.0),
        app: limits(512, 0.5),
        nginx: limits(128, 0.25),
        redis: limits(256, 0.25),
        pgadmin: limits(512, 0.5),
        prometheus: limits(512, 0.5),
        grafana: limits(256, 0.25),
        exporter: limits(64, 0.1),
      })
      .strict()
      .prefault({}),
    hardening: z
      .object({
        /** Read-only root filesystems (writable paths are tmpfs or volumes) for the services that allow it. */
        readOnlyRootFs: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    profiles: z
      .object({ admin: z.boolean().default(false), monitoring: z.boolean().default(false) })
      .strict()
      .prefault({}),
    preflight: z
      .object({ minFreeDiskMb: z.number().int().min(0).default(2048) })
      .strict()
      .prefault({}),
    production: z
      .object({
        /** postgresql://user:password@host:port/db. Also PRODUCTION_DATABASE_URL. Unset: the demo production. */
        url: z.string().min(1).optional(),
        statementTimeoutMs: z.number().int().min(1000).default(60_000),
      })
      .strict()
      .prefault({}),
    demo: z
      .object({
        port: port.default(5433),
        database: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase SQL identifier').default('stories_production'),
        user: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase SQL identifier').default('stories_app'),
        users: z.number().int().min(10).default(2000),
        seed: z.number().int().min(0).default(1001),
      })
      .strict()
      .prefault({}),
    data: z
      .object({
        /** Schemas of the app's tables, in production and staging. */
        schemas: z.array(z.string().min(1)).min(1).default(['public']),
        /** "production": copy production's schema with pg_dump; "app": the app's migrations made it in staging already. */
        schemaSource: z.enum(['production', 'app']).default('production'),
        maxUsers: z.number().int().min(1).default(10),
        seed: z
          .object({
            // Unset: read from production's catalog by the data step (src/subset/seed.ts) and recorded in its summary.
            table: z.string().min(1).optional(),
            idColumn: z.string().min(1).optional(),
            roleColumn: z.string().min(1).optional(),
            deletedAtColumn: z.string().min(1).nullable().optional(),
            createdAtColumn: z.string().min(1).nullable().optional(),
            learnerRole: z.string().default('LEARNER'),
            minLearners: z.number().int().min(0).default(2),
          })
          .strict()
          .prefault({}),
        /** Max rows per parent row when following references down from the chosen users, per table. */
        caps: z.record(z.string(), z.number().int().min(0)).default({ reading_progress: 100 }),
        defaultCap: z.number().int().min(0).default(100),
        maxDepth: z.number().int().min(0).max(10).default(3),
        /** Stop before writing when a column looks like PII and has no rule. */
        strict: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    anonymize: z
      .object({
        /** "table.column" → rule (or a list of { schema?, table, column, rule }); over the rules file and the built-in rules. */
        rules: anonymizeRulesSchema.default({}),
        builtinRules: z.boolean().default(true),
        /** Reviewed rules written by `rehearse data rules --write`; relative to the working directory. */
        rulesFile: z.string().min(1).default('rehearse.rules.json'),
      })
      .strict()
      .prefault({}),
    migration: z
      .object({
        /** The migration `rehearse migrate` runs: a folder under sql/migrations/, or a path to one (--migration). */
        name: z.string().min(1).default('learner-to-customer'),
        /** Soft-deleted rows: "skip" keeps their value (as the app's own migration does), "include" migrates them too. */
        softDeleted: z.enum(['skip', 'include']).default('skip'),
        /** 0: the whole migration in one transaction; N: batches of N rows (--batch-size). */
        batchSize: z.number().int().min(0).default(0),
        /** lock_timeout of every migration transaction; a batch that times out is retried with backoff. */
        lockTimeoutMs: z.number().int().min(1).default(5000),
        retries: z.number().int().min(0).default(5),
        /** First backoff; doubled on each retry, with jitter. */
        retryBaseMs: z.number().int().min(1).default(200),
        /** work_mem of the migration's transactions: a one-transaction run joins every changed row in memory. */
        workMemMb: z.number().int().min(1).max(4096).default(64),
        /** Redis keys cached per user: "{userId}" is the user's id, "*" any text. Deleted for every changed user. */
        redisKeyPatterns: z
          .array(z.string().includes('{userId}', { message: 'must contain {userId}' }))
          .default(['user:{userId}:role', 'user:{userId}:profile', 'session:{userId}:*']),
        /** The synthetic app load during the performance tests. */
        workload: z
          .object({
            connections: z.number().int().min(1).max(32).default(4),
            /** Measured before the migration starts, for the "before" latencies. */
            beforeMs: z.number().int().min(0).default(2000),
            /** How long a write transaction holds its row lock. */
            holdMs: z.number().int().min(0).default(20),
            sampleIntervalMs: z.number().int().min(5).default(25),
          })
          .strict()
          .prefault({}),
        thresholds: z
          .object({
            /** EXPLAIN ANALYZE of each standard query (the guide's target). */
            standardQueryMs: z.number().min(1).default(100),
            maxLockWaitMs: z.number().int().min(1).default(5000),
            /** The workload's p95 latency while up or down runs. */
            workloadP95Ms: z.number().min(1).default(1000),
            upMaxSeconds: z.number().int().min(1).default(600),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    timeouts: z
      .object({
        /** How long `compose up --wait` may take before setup gives up. */
        upSeconds: z.number().int().min(10).default(180),
      })
      .strict()
      .prefault({}),
    /** Thresholds of `rehearse validate`; the defaults are the targets of the week-1 guide. */
    validation: z
      .object({
        /** App tables that must exist and hold rows (in data.schemas); unset: the tables the newest data step loaded. */
        expectedTables: z.array(z.string().min(1)).min(1).optional(),
        /** Paths (through nginx) that must answer 200; unset: the bundled demo app's JSON routes, when it runs. */
        routes: z.array(z.string().startsWith('/')).min(1).optional(),
        /** Each standard query, planning plus execution, as EXPLAIN ANALYZE measures it. */
        queryMaxMs: z.number().positive().default(100),
        /** Read-only statements timed with EXPLAIN ANALYZE; unset: the 1001 Stories queries. */
        queries: z.array(z.object({ name: z.string().min(1), sql: z.string().min(1) }).strict()).min(1).optional(),
        pageLoadMaxMs: z.number().positive().default(3000),
        certMinDays: z.number().int().min(0).default(30),
        /** Lowest acceptable local header grade (0–100) on every page probed. */
        headerMinScore: z.number().int().min(0).max(100).default(90),
        load: z
          .object({
            requests: z.number().int().min(1).max(100_000).default(500),
            concurrency: z.number().int().min(1).max(200).default(20),
            /** Path requested through nginx; unset: app.healthPath (exercises app, PostgreSQL and Redis). */
            path: z.string().startsWith('/').optional(),
            p95MaxMs: z.number().positive().default(1000),
            maxErrors: z.number().int().min(0).default(0),
          })
          .strict()
          .prefault({}),
        /** Above these a container's figures are a warning (they never fail validation). */
        cpuWarnPercent: z.number().positive().default(80),
        memoryWarnPercent: z.number().positive().max(100).default(90),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.output<typeof configSchema>;

/** The rules a person wrote: the rules file with the config's `anonymize.rules` on top. */
export function userRules(config: Config): AnonymizeRules {
  return { ...readRulesFile(config.anonymize.rulesFile), ...config.anonymize.rules };
}

/** The anonymization rules in force: the built-in ones (unless turned off) with the user's on top. */
export function effectiveRules(config: Config): AnonymizeRules {
  return { ...builtinRules(config), ...userRules(config) };
}

export function builtinRules(config: Config): AnonymizeRules {
  return config.anonymize.builtinRules ? DEFAULT_RULES_1001_STORIES : {};
}
export type ConfigInput = z.input<typeof configSchema>;
export type ImageName = keyof Config['images'];
export type PortName = keyof Config['ports'];

export const CONFIG_FILES = ['rehearse.config.json', 'rehearse.config.yaml', 'rehearse.config.yml'] as const;

/** Flags that override config; the CLI maps argv onto these. */
export interface ConfigOverrides {
  configFile?: string;
  admin?: boolean;
  monitoring?: boolean;
}

type Env = Record<string, string | undefined>;

/** yaml is required only for a YAML config file: every command loads the config, and yaml costs ~60 ms of start-up. */
const parseYaml = (text: string): unknown => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);

function readConfigFile(cwd: string, explicit: string | undefined): { file?: string; data: unknown } {
  const candidates = explicit ? [explicit] : CONFIG_FILES.map((f) => f as string);
  for (const name of candidates) {
    const file = path.resolve(cwd, name);
    if (!existsSync(file)) {
      if (explicit) throw new UserError(`Config file ${file} does not exist.`, { tryThis: 'Check the path given to --config.' });
      continue;
    }
    const text = readFileSync(file, 'utf8');
    try {
      return { file, data: file.endsWith('.json') ? JSON.parse(text) : parseYaml(text) };
    } catch (error) {
      throw new UserError(`${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`, {
        tryThis: `Fix the syntax in ${path.basename(file)}, or move it away to run with defaults.`,
      });
    }
  }
  return { data: {} };
}

const upperSnake = (key: string) => key.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();

/** The environment variables that map onto config keys, derived from the schema's own keys. */
export function envBindings(): Array<{ env: string; key: string[]; kind: 'string' | 'number' | 'boolean' }> {
  const shape = configSchema.shape;
  const out: Array<{ env: string; key: string[]; kind: 'string' | 'number' | 'boolean' }> = [
    { env: 'REHEARSE_PROJECT', key: ['project'], kind: 'string' },
    { env: 'REHEARSE_WORK_DIR', key: ['workDir'], kind: 'string' },
    { env: 'REHEARSE_BIND_ADDRESS', key: ['bindAddress'], kind: 'string' },
    { env: 'REHEARSE_APP_IMAGE', key: ['app', 'image'], kind: 'string' },
    { env: 'REHEARSE_APP_BUILD', key: ['app', 'build'], kind: 'string' },
    { env: 'PRODUCTION_DATABASE_URL', key: ['production', 'url'], kind: 'string' },
    { env: 'REHEARSE_DEMO_PORT', key: ['demo', 'port'], kind: 'number' },
  ];
  for (const name of Object.keys(shape.ports.unwrap().shape)) out.push({ env: `REHEARSE_PORT_${upperSnake(name)}`, key: ['ports', name], kind: 'number' });
  for (const name of Object.keys(shape.images.unwrap().shape)) out.push({ env: `REHEARSE_IMAGE_${upperSnake(name)}`, key: ['images', name], kind: 'string' });
  for (const name of Object.keys(shape.volumes.unwrap().shape)) out.push({ env: `REHEARSE_VOLUME_${upperSnake(name)}`, key: ['volumes', name], kind: 'string' });
  return out;
}

function setPath(target: Record<string, unknown>, key: string[], value: unknown): void {
  let node = target;
  for (const part of key.slice(0, -1)) {
    if (node[part] === undefined || node[part] === null) node[part] = {};
    // A scalar where an object belongs is the file's mistake: leave it for validation to name.
    if (typeof node[part] !== 'object') return;
    node = node[part] as Record<string, unknown>;
  }
  node[key[key.length - 1]!] = value;
}

function getPath(source: unknown, key: (string | number | symbol)[]): unknown {
  let node = source as Record<string | number | symbol, unknown> | undefined;
  for (const part of key) node = node && typeof node === 'object' ? (node[part] as typeof node) : undefined;
  return node;
}

/** The schema node at a config path (through defaults and optionals), to list what a key allows. */
function schemaAt(keyPath: PropertyKey[]): z.ZodType | undefined {
  let node: unknown = configSchema;
  for (const part of keyPath) {
    node = unwrapSchema(node);
    const shape = (node as { shape?: Record<string, unknown> })?.shape;
    node = shape?.[String(part)];
    if (!node) return undefined;
  }
  return unwrapSchema(node) as z.ZodType;
}

function unwrapSchema(node: unknown): unknown {
  let n = node as { unwrap?: () => unknown; def?: { innerType?: unknown } } | undefined;
  for (let i = 0; i < 5 && n; i++) {
    const inner = n.def?.innerType ?? (typeof n.unwrap === 'function' && !('shape' in n) ? n.unwrap() : undefined);
    if (!inner) break;
    n = inner as typeof n;
  }
  return n;
}

const show = (value: unknown) => (value !== null && typeof value === 'object' ? '' : ` = ${JSON.stringify(value)}`);

/** One zod issue as "key = value (source): what is allowed", in words; never dumps a whole object. */
function describeIssue(issue: z.core.$ZodIssue, ctx: { raw: unknown; fileData: unknown; env: Env; file: string | undefined }): string[] {
  const keyPath = issue.path;
  const key = keyPath.map(String).join('.') || '(top level)';
  const binding = envBindings().find((b) => b.key.join('.') === key && ctx.env[b.env]);
  const inFile = ctx.file && getPath(ctx.fileData, keyPath) !== undefined;
  const where = binding ? ` (from ${binding.env})` : inFile ? ` (in ${path.basename(ctx.file!)})` : '';
  if (issue.code === 'unrecognized_keys') {
    const allowed = Object.keys((schemaAt(keyPath) as { shape?: object } | undefined)?.shape ?? {});
    const parent = keyPath.length ? `${key}.` : '';
    return issue.keys.map((k) => `${parent}${k}${ctx.file ? ` (in ${path.basename(ctx.file)})` : ''}: unknown key${allowed.length ? `; allowed here: ${allowed.join(', ')}` : ''}`);
  }
  const value = keyPath.length ? getPath(ctx.raw, keyPath) : undefined;
  return [`${key}${value === undefined ? '' : show(value)}${where}: ${explainIssue(issue, value)}`];
}

function explainIssue(issue: z.core.$ZodIssue, value: unknown): string {
  const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? `is required (${issue.expected})` : `must be ${issue.expected === 'object' ? 'an object' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, not ${got}`;
    case 'too_small':
      return issue.origin === 'number' ? `must be at least ${issue.minimum}` : `must have at least ${issue.minimum} ${issue.origin === 'string' ? 'character(s)' : 'item(s)'}`;
    case 'too_big':
      return issue.origin === 'number' ? `must be at most ${issue.maximum}` : `must have at most ${issue.maximum} ${issue.origin === 'string' ? 'character(s)' : 'item(s)'}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

/** Folders rehearse never writes its workspace, backups and lock into (nor any folder under the first group). */
const SYSTEM_DIRS = ['/etc', '/usr', '/bin', '/sbin', '/lib', '/lib64', '/boot', '/dev', '/proc', '/sys', '/run', '/var', '/opt', '/srv', '/root', '/home'];
const SYSTEM_TREES = ['/etc', '/usr', '/bin', '/sbin', '/lib', '/lib64', '/boot', '/dev', '/proc', '/sys', '/run'];

/** Refuses `/`, a system folder, or the home folder itself as the work folder (exit 2, naming the key). */
function refuseSystemWorkDir(workDir: string, from: string | undefined, env: Env): void {
  const home = env.HOME ? path.resolve(env.HOME) : undefined;
  const under = (root: string) => workDir === root || workDir.startsWith(root + path.sep);
  const bad = workDir === path.parse(workDir).root || SYSTEM_DIRS.includes(workDir) || SYSTEM_TREES.some(under) || workDir === home;
  if (!bad) return;
  throw new UserError(`workDir = "${workDir}"${from ? ` (from ${from})` : ' (the current folder)'} is ${workDir === home ? 'your home folder itself' : 'the root or a system folder'}: rehearse would write its workspace, backups and lock file there.`, {
    tryThis: `Run rehearse from a project folder (e.g. mkdir ~/rehearse && cd ~/rehearse), or set workDir (REHEARSE_WORK_DIR) to one.`,
  });
}

/** Loads and validates the effective configuration; a bad value is a UserError naming key, value and what is allowed. */
export function loadConfig(opts: { cwd?: string; env?: Env; overrides?: ConfigOverrides } = {}): { config: Config; source?: string } {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const overrides = opts.overrides ?? {};
  const { file, data } = readConfigFile(cwd, overrides.configFile);
  if (data !== null && (typeof data !== 'object' || Array.isArray(data))) {
    throw new UserError(`${file} must hold an object of settings.`, { tryThis: 'See "Configuration" in the README for the keys.' });
  }
  const raw = structuredClone((data ?? {}) as Record<string, unknown>);

  const imagesMode = env.REHEARSE_IMAGES;
  if (imagesMode !== undefined && imagesMode !== '') {
    if (imagesMode !== 'local' && imagesMode !== 'official') {
      throw new UserError(`REHEARSE_IMAGES="${imagesMode}" is not allowed; use "local" (stand-ins built by \`npm run images\`) or "official".`);
    }
    if (imagesMode === 'local') for (const [name, image] of Object.entries(LOCAL_IMAGES)) setPath(raw, ['images', name], image);
  }
  for (const binding of envBindings()) {
    const value = env[binding.env];
    if (value === undefined || value === '') continue;
    const parsed = binding.kind === 'number' && /^\d+$/.test(value) ? Number(value) : value;
    setPath(raw, binding.key, parsed);
  }
  if (overrides.admin) setPath(raw, ['profiles', 'admin'], true);
  if (overrides.monitoring) setPath(raw, ['profiles', 'monitoring'], true);

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const fileData = (data ?? {}) as Record<string, unknown>;
    const lines = result.error.issues.flatMap((issue) => describeIssue(issue, { raw, fileData, env, file }));
    throw new UserError(`Invalid configuration:\n  ${lines.join('\n  ')}`, {
      tryThis: `Fix what is named above (${file ? `in ${path.basename(file)}, or the environment variable shown` : 'the environment variable shown'}); the README's "Configuration" table lists every key and its default.`,
    });
  }
  const config = result.data;
  config.workDir = path.resolve(cwd, config.workDir);
  refuseSystemWorkDir(config.workDir, envBindings().find((b) => b.key[0] === 'workDir' && env[b.env])?.env ?? (file ? `workDir in ${path.basename(file)}` : undefined), env);
  config.anonymize.rulesFile = path.resolve(cwd, config.anonymize.rulesFile);
  const ports = Object.entries(config.ports).filter(([name]) => activePortNames(config).includes(name as PortName));
  const seen = new Map<number, string>();
  for (const [name, value] of ports) {
    const other = seen.get(value);
    if (other) throw new UserError(`ports.${name} = ${value} is also used by ports.${other}; every published port must be different.`, { tryThis: `Set a free port, e.g. REHEARSE_PORT_${upperSnake(name)}=${value + 100}.` });
    seen.set(value, name);
  }
  return { config, ...(file ? { source: file } : {}) };
}

/** The ports the configured stack publishes (profiles add theirs). */
export function activePortNames(config: Config): PortName[] {
  const names: PortName[] = ['app', 'https', 'http', 'postgres', 'redis'];
  if (config.profiles.admin) names.push('pgadmin');
  if (config.profiles.monitoring) names.push('prometheus', 'grafana');
  return names;
}
