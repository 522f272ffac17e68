// Restoring a staging backup, and the proof that backups work: restore the newest backup into a
// scratch database inside the staging container and compare row counts and checksums with staging.
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { execa } from 'execa';
import type postgres from 'postgres';
import type { Config } from './config.js';
import { CancelledError, SubprocessError, UserError } from './errors.js';
import { stackNames, workPaths } from './paths.js';
import { quoteIdent } from './subset/introspect.js';

export function newestBackup(config: Config): string | undefined {
  const dir = workPaths(config).backups;
  if (!existsSync(dir)) return undefined;
  const file = readdirSync(dir).filter((f) => /^staging-backup-.*\.sql\.gz$/.test(f)).sort().pop();
  return file ? path.join(dir, file) : undefined;
}

/** Pipes a gzipped dump into psql inside the staging container, in one transaction. */
async function psqlRestore(config: Config, file: string, database: string, prelude: string, signal?: AbortSignal): Promise<void> {
  const container = stackNames(config).containers['postgres-staging'];
  const argv = ['exec', '-i', container, 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-U', config.database.user, '-d', database];
  const child = execa('docker', argv, { cancelSignal: signal, stdin: 'pipe', stdout: 'ignore', buffer: { stderr: true } });
  try {
    await Promise.all([
      pipeline(
        async function* () {
          yield Buffer.from(prelude);
          for await (const chunk of createReadStream(file).pipe(createGunzip())) yield chunk as Buffer;
        },
        child.stdin!,
      ),
      child,
    ]);
  } catch (error) {
    if (signal?.aborted) throw new CancelledError('The restore ran in one transaction and was rolled back; staging is as it was.');
    throw new SubprocessError(`Restoring ${path.basename(file)} failed and was rolled back (one transaction); the database is as it was.`, `docker ${argv.join(' ')}`, String((error as { stderr?: string }).stderr ?? (error as Error).message).slice(-2000));
  }
}

/** The user schemas of a database, to drop before a restore so it brings back exactly what was saved. */
async function userSchemas(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<{ nspname: string }[]>`SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1`;
  return rows.map((r) => r.nspname);
}

const dropPrelude = (schemas: string[]) => schemas.map((s) => `DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE;\n`).join('') + 'CREATE SCHEMA IF NOT EXISTS public;\n';

export async function restoreStaging(config: Config, sql: postgres.Sql, file: string, signal?: AbortSignal): Promise<void> {
  if (!existsSync(file)) throw new UserError(`Backup file ${file} does not exist.`, { tryThis: '`ls staging-backups/` lists the backups; `rehearse data backup` makes one.' });
  await psqlRestore(config, file, config.database.name, dropPrelude(await userSchemas(sql)), signal);
}

export interface TableFingerprint {
  rows: number;
  checksum: string;
}

/** Row count and an order-independent checksum of every user table of a database. */
export async function fingerprint(sql: postgres.Sql): Promise<Record<string, TableFingerprint>> {
  const tables = await sql<{ qualified: string; key: string }[]>`
    SELECT format('%I.%I', n.nspname, c.relname) AS qualified, n.nspname || '.' || c.relname AS key
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 2`;
  const out: Record<string, TableFingerprint> = {};
  for (const t of tables) {
    const [row] = (await sql.unsafe(`SELECT count(*)::int AS rows, coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), 'empty') AS checksum FROM ${t.qualified} x`)) as unknown as Array<TableFingerprint>;
    out[t.key] = row!;
  }
  return out;
}

export interface RestoreProof {
  backup: string;
  scratchDatabase: string;
  tables: number;
  rows: number;
  mismatches: string[];
  ok: boolean;
  ms: number;
}

/**
 * Restores `file` into a scratch database next to staging and compares it table by table with
 * staging. The scratch database is dropped afterwards.
 */
export async function proveRestore(config: Config, staging: postgres.Sql, openDatabase: (name: string) => postgres.Sql, file: string, signal?: AbortSignal): Promise<RestoreProof> {
  const started = performance.now();
  const scratch = `${config.database.name}_restore_check`;
  await staging.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`);
  await staging.unsafe(`CREATE DATABASE ${quoteIdent(scratch)}`);
  const scratchSql = openDatabase(scratch);
  try {
    await psqlRestore(config, file, scratch, dropPrelude(await userSchemas(scratchSql)), signal);
    const [a, b] = await Promise.all([fingerprint(staging), fingerprint(scratchSql)]);
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    const mismatches = keys.filter((k) => a[k]?.rows !== b[k]?.rows || a[k]?.checksum !== b[k]?.checksum);
    return { backup: file, scratchDatabase: scratch, tables: keys.length, rows: Object.values(b).reduce((s, t) => s + t.rows, 0), mismatches, ok: mismatches.length === 0, ms: Math.round(performance.now() - started) };
  } finally {
    await scratchSql.end({ timeout: 2 });
    await staging.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`).catch(() => undefined);
  }
}
