// Connections to the staging stack from the host (through the published ports only) and the
// staging schemas (sql/staging), applied in one transaction.
import { readdirSync, readFileSync } from 'node:fs';
import postgres from 'postgres';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { requireEnv } from '../stack/env-file.js';
import { serviceHost } from '../stack/docker.js';
import { assetPath, workPaths } from '../paths.js';
import { noDelaySocket } from './pg-connect.js';

export type Sql = postgres.Sql;

/** `keepOpen`: the connection is never closed for idleness or age (a session lock lives on it). */
export function stagingSql(config: Config, opts: { max?: number; statementTimeoutMs?: number; database?: string; keepOpen?: boolean; applicationName?: string } = {}): Sql {
  const env = requireEnv(workPaths(config).envFile);
  return postgres({
    host: serviceHost(config),
    port: config.ports.postgres,
    database: opts.database ?? config.database.name,
    username: config.database.user,
    password: env.DB_PASSWORD,
    max: opts.max ?? 2,
    idle_timeout: opts.keepOpen ? 0 : 5,
    ...(opts.keepOpen ? { max_lifetime: null } : {}),
    connect_timeout: 10,
    onnotice: () => undefined,
    connection: { application_name: opts.applicationName ?? 'rehearse', statement_timeout: opts.statementTimeoutMs ?? 60_000 },
    socket: noDelaySocket(serviceHost(config), config.ports.postgres),
  } as postgres.Options<Record<string, postgres.PostgresType>>);
}

/** ioredis is imported on demand: it adds ~130 ms to every start-up otherwise. */
export async function stagingRedis(config: Config): Promise<Redis> {
  const env = requireEnv(workPaths(config).envFile);
  const { Redis } = await import('ioredis');
  return new Redis({
    host: serviceHost(config),
    port: config.ports.redis,
    password: env.REDIS_PASSWORD,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    connectTimeout: 5000,
  });
}

/**
 * The one translation of "staging does not answer" (the database, or Redis): what was tried, on which
 * published port, and the command that brings the stack up. `doing` names a more precise attempt
 * ("read the migration log in").
 */
export function stagingUnreachable(config: Config, error: unknown, opts: { service?: 'postgres' | 'redis'; doing?: string; nothingChanged?: boolean } = {}): UserError {
  const what = opts.service === 'redis' ? `staging Redis on port ${config.ports.redis}` : `the staging database on port ${config.ports.postgres}`;
  return new UserError(`Cannot ${opts.doing ?? 'reach'} ${what}${opts.nothingChanged ? '; nothing was changed' : ''}.`, {
    tryThis: 'Bring staging up with `rehearse setup` first (`rehearse status` shows the stack).',
    causes: [(error as Error).message],
  });
}

export const STAGING_SQL_DIR = assetPath('sql', 'staging');

export function stagingSqlFiles(): string[] {
  return readdirSync(STAGING_SQL_DIR).filter((f) => f.endsWith('.sql')).sort();
}

/** Applies sql/staging/*.sql in order, all or nothing. Safe to run again. */
export async function applyStagingSchema(sql: Sql): Promise<{ files: string[] }> {
  const files = stagingSqlFiles();
  try {
    await sql.begin(async (tx) => {
      for (const file of files) await tx.unsafe(readFileSync(`${STAGING_SQL_DIR}/${file}`, 'utf8'));
    });
  } catch (error) {
    throw new UserError(`Applying the staging schemas failed: ${(error as Error).message}`, { tryThis: 'Check `rehearse logs postgres-staging`; nothing was changed (one transaction).' });
  }
  return { files };
}
