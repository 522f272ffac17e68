// .env.staging: the stack's secrets and the app's staging flags. Passwords are generated once and
// kept across runs (re-running setup must not lock the operator out of an existing volume).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';

export const SECRET_KEYS = ['DB_PASSWORD', 'POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'NEXTAUTH_SECRET', 'ANONYMIZER_SECRET', 'PGADMIN_DEFAULT_PASSWORD', 'GF_SECURITY_ADMIN_PASSWORD'] as const;

/** Keys whose values embed a secret (URLs with passwords). */
const SECRET_BEARING = /PASSWORD|SECRET|TOKEN|_URL$|KEY/;

export const isSecretKey = (key: string) => SECRET_BEARING.test(key) && key !== 'NEXTAUTH_URL';

const strongSecret = () => randomBytes(24).toString('base64url');

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    if (/^".*"$/.test(value) || /^'.*'$/.test(value)) value = value.slice(1, -1);
    out[m[1]!] = value;
  }
  return out;
}

export function readEnvFile(file: string): Record<string, string> | undefined {
  if (!existsSync(file)) return undefined;
  return parseEnvFile(readFileSync(file, 'utf8'));
}

/** The full env for the stack: kept secrets from `previous`, new ones where missing, the rest derived from config. */
export function buildEnv(config: Config, previous: Record<string, string> = {}): Record<string, string> {
  const secret = (key: string) => previous[key] || strongSecret();
  const dbPassword = secret('DB_PASSWORD');
  const redisPassword = secret('REDIS_PASSWORD');
  const { name: db, user } = config.database;
  return {
    NODE_ENV: 'staging',
    PORT: String(config.app.internalPort),
    NEXTAUTH_URL: `https://localhost:${config.ports.https}`,
    NEXTAUTH_SECRET: secret('NEXTAUTH_SECRET'),
    DATABASE_URL: `postgresql://${user}:${dbPassword}@postgres-staging:5432/${db}`,
    REDIS_URL: `redis://:${redisPassword}@redis-staging:6379`,
    // The PostgreSQL exporter reads this name (both the official image and Debian's package).
    DATA_SOURCE_NAME: `postgresql://${user}:${dbPassword}@postgres-staging:5432/${db}?sslmode=disable`,
    ROLE_MIGRATION_MODE: 'true',
    ENABLE_UNIVERSAL_DASHBOARD: 'true',
    DISABLE_ROLE_SELECTION: 'true',
    DB_USER: user,
    DB_PASSWORD: dbPassword,
    DB_NAME: db,
    REDIS_PASSWORD: redisPassword,
    // The postgres image's own contract; same values as above.
    POSTGRES_USER: user,
    POSTGRES_PASSWORD: dbPassword,
    POSTGRES_DB: db,
    // Key for the anonymizer's deterministic pseudonyms (the data step).
    ANONYMIZER_SECRET: secret('ANONYMIZER_SECRET'),
    PGADMIN_DEFAULT_EMAIL: 'admin@staging.local',
    PGADMIN_DEFAULT_PASSWORD: secret('PGADMIN_DEFAULT_PASSWORD'),
    GF_SECURITY_ADMIN_USER: 'admin',
    GF_SECURITY_ADMIN_PASSWORD: secret('GF_SECURITY_ADMIN_PASSWORD'),
  };
}

export function renderEnvFile(env: Record<string, string>): string {
  const header = '# Written by `rehearse setup`. Secrets are generated once and kept; do not commit this file.\n';
  return header + Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/** Writes the file with mode 0600 (also when it already existed with looser permissions). */
export function writeSecretFile(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Loads .env.staging or explains how to create it. */
export function requireEnv(file: string): Record<string, string> {
  const env = readEnvFile(file);
  if (!env) throw new UserError(`${file} does not exist yet.`, { tryThis: 'Run `rehearse setup` first.' });
  return env;
}

/** Replaces every known secret value in `text` with ***, for logs and error messages. */
export function redact(text: string, env: Record<string, string> | undefined): string {
  if (!env) return text;
  let out = text;
  for (const [key, value] of Object.entries(env)) {
    if (isSecretKey(key) && value.length >= 6) out = out.split(value).join('***');
  }
  return out;
}
