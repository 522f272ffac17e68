// Restoring a staging backup as one real transaction, and the proof that backups work (restore the
// newest backup into a uniquely named scratch database inside the staging container and compare it
// with staging). psql gets BEGIN, the validated SQL, and COMMIT only once every byte of that SQL was
// read and matched the validated digest: a read error, a swapped file or a cancel ends psql's input
// inside the open transaction, which the server rolls back.
import { randomBytes, createHash } from 'node:crypto';
import { constants, createReadStream, existsSync, openSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { execa } from 'execa';
import type postgres from 'postgres';
import { countMismatches, exactCounts, sumRows, validateBackup, type BackupInfo } from './backup.js';
import type { Config } from '../config.js';
import { CancelledError, CheckFailedError, SubprocessError, UserError } from '../errors.js';
import { stackNames, workPaths } from '../paths.js';
import { quoteIdent } from './sql-text.js';

export interface NewestBackup {
  backup?: BackupInfo;
  /** Newer files that did not pass validation, with the reason. */
  skipped: Array<{ file: string; problem: string }>;
}

/** The newest staging-backup-*.sql.gz that passes validation; newer invalid ones are listed, never used. */
export async function newestBackup(config: Config): Promise<NewestBackup> {
  const dir = workPaths(config).backups;
  const skipped: NewestBackup['skipped'] = [];
  if (!existsSync(dir)) return { skipped };
  const names = readdirSync(dir).filter((f) => /^staging-backup-.*\.sql\.gz$/.test(f)).sort().reverse();
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      return { backup: await validateBackup(file), skipped };
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      skipped.push({ file, problem: error.message });
    }
  }
  return { skipped };
}

class RestoreFailure extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly stderr = '',
  ) {
    super(message);
  }
}

/**
 * Feeds BEGIN, the prelude, the backup's SQL and (only after all of it was read intact) COMMIT to psql.
 * On cancel it stops feeding and ends psql's server session (`admin` is any connection to the
 * server), and returns only once psql has exited, so what the caller then checks is final.
 */
async function psqlRestore(config: Config, backup: BackupInfo, database: string, prelude: string, admin: postgres.Sql, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw new CancelledError();
  const container = stackNames(config).containers['postgres-staging'];
  const app = `rehearse-restore-${randomBytes(4).toString('hex')}`;
  const argv = ['exec', '-i', '-e', `PGAPPNAME=${app}`, container, 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-U', config.database.user, '-d', database];
  const command = `docker ${argv.join(' ')}`;
  // No cancelSignal: killing the docker client would leave psql running in the container.
  const child = execa('docker', argv, { stdin: 'pipe', stdout: 'ignore', buffer: { stderr: true }, reject: false });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const onAbort = async () => {
    while (!exited()) {
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${app}`.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let inputError: string | undefined;
  let sentCommit = false;
  async function* input() {
    yield Buffer.from(`BEGIN;\n${prelude}`);
    const hash = createHash('sha256');
    let file: ReturnType<typeof createReadStream> | undefined;
    try {
      file = createReadStream(backup.file, { fd: openSync(backup.file, constants.O_RDONLY | constants.O_NOFOLLOW) });
      const gunzip = createGunzip();
      file.on('error', (e) => gunzip.destroy(e));
      for await (const chunk of file.pipe(gunzip)) {
        if (signal?.aborted) return;
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (error) {
      inputError = `reading it failed half-way (${(error as Error).message})`;
      return; // no COMMIT: psql reaches the end of its input inside the open transaction
    } finally {
      file?.destroy();
    }
    if (hash.digest('hex') !== backup.sqlSha256) {
      inputError = 'it changed after it was validated';
      return;
    }
    if (signal?.aborted) return;
    sentCommit = true;
    yield Buffer.from('\nCOMMIT;\n');
  }
  // psql stops reading when a statement fails (ON_ERROR_STOP): a broken pipe is expected then.
  const piped = await pipeline(input, child.stdin!).then(
    () => undefined,
    (error: Error) => error,
  );
  const result = await child;
  signal?.removeEventListener('abort', onAbort);
  if (signal?.aborted) throw new CancelledError();
  if (inputError) throw new RestoreFailure(inputError, command);
  if (result.exitCode !== 0) {
    const stderr = String(result.stderr ?? '').slice(-2000);
    const last = stderr.split('\n').filter((l) => /ERROR|FATAL|error/.test(l)).pop() ?? `exit code ${result.exitCode}`;
    throw new RestoreFailure(`psql stopped: ${last.trim()}`, command, stderr || result.message);
  }
  if (piped || !sentCommit) throw new RestoreFailure(`its SQL did not reach psql completely (${piped?.message ?? 'no COMMIT sent'})`, command);
}

/** The user schemas of a database, to drop before a restore so it brings back exactly what was saved. */
async function userSchemas(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<{ nspname: string }[]>`SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1`;
  return rows.map((r) => r.nspname);
}

const dropPrelude = (schemas: string[]) => schemas.map((s) => `DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE;\n`).join('') + 'CREATE SCHEMA IF NOT EXISTS public;\n';

const n = (x: number) => x.toLocaleString('en-US');

/** What a failed restore did to staging, from a fingerprint taken now, compared with the one taken before. */
async function stateAfterFailure(sql: postgres.Sql, before: Record<string, TableFingerprint>, takenFirst: string | undefined): Promise<string> {
  let after: Record<string, TableFingerprint>;
  try {
    after = await fingerprint(sql);
  } catch (error) {
    return `Staging could not be checked afterwards (${(error as Error).message})${takenFirst ? `; the backup taken before the restore is ${takenFirst}` : ''}.`;
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changed = keys.filter((k) => before[k]?.rows !== after[k]?.rows || before[k]?.checksum !== after[k]?.checksum);
  if (!changed.length) {
    const rows = Object.values(after).reduce((s, t) => s + t.rows, 0);
    return `Staging is unchanged (verified: ${keys.length} tables, ${n(rows)} rows, same checksums)${takenFirst ? `; the backup taken before the restore is ${takenFirst}` : ''}.`;
  }
  return `Staging CHANGED: ${changed.length} of ${keys.length} tables differ (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''})${takenFirst ? `; \`rehearse data restore ${takenFirst} --yes\` brings back what it held` : ''}.`;
}

export interface RestoreResult {
  file: string;
  takenAt: string;
  tables: number;
  rows: number;
  /** How the restored staging was checked. */
  verified: string;
  ms: number;
}

/**
 * Validates `file`, then replaces staging's user schemas with it in one transaction, then checks that
 * every table holds the rows the backup holds. A failure says what it did to staging, from a check.
 * `takenFirst` is the backup of staging taken before this restore, named in every failure.
 */
export async function restoreStaging(config: Config, sql: postgres.Sql, file: string, signal?: AbortSignal, opts: { takenFirst?: string } = {}): Promise<RestoreResult> {
  const started = performance.now();
  const backup = await validateBackup(file);
  const before = await fingerprint(sql);
  const name = path.basename(file);
  try {
    await psqlRestore(config, backup, config.database.name, dropPrelude(await userSchemas(sql)), sql, signal);
  } catch (error) {
    const state = await stateAfterFailure(sql, before, opts.takenFirst);
    if (error instanceof CancelledError || signal?.aborted) throw new CancelledError(`Restoring ${name} was cancelled. ${state}`);
    if (!(error instanceof RestoreFailure)) throw error;
    const message = `Restoring ${file} failed: ${error.message}. ${state}`;
    throw error.stderr ? new SubprocessError(message, error.command, error.stderr) : new CheckFailedError(message);
  }
  const mismatches = countMismatches(backup.rowsPerTable, await exactCounts(sql), ['in the backup', 'in staging']);
  if (mismatches.length) {
    throw new CheckFailedError(`Restored ${file}, but staging does not hold what the backup holds: ${mismatches.slice(0, 5).join('; ')}.${opts.takenFirst ? ` The backup taken before the restore is ${opts.takenFirst}.` : ''}`);
  }
  return {
    file,
    takenAt: backup.takenAt,
    tables: backup.tables,
    rows: backup.rows,
    verified: `every table's row count equals the backup's (${backup.tables} tables, ${n(sumRows(backup.rowsPerTable))} rows)`,
    ms: Math.round(performance.now() - started),
  };
}

export interface TableFingerprint {
  rows: number;
  checksum: string;
}

/**
 * Row count and an order-independent checksum of every user table of a database, computed in the
 * server: the sum, as exact numerics, of each row's md5 taken as two 64-bit halves (a multiset
 * hash: rows in any order give the same sums, a changed, missing or extra row changes them, and
 * nothing is sorted). Tables are read concurrently, as many at a time as `sql`'s pool allows.
 */
export async function fingerprint(sql: postgres.Sql): Promise<Record<string, TableFingerprint>> {
  const tables = await sql<{ qualified: string; key: string }[]>`
    SELECT format('%I.%I', n.nspname, c.relname) AS qualified, n.nspname || '.' || c.relname AS key
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 2`;
  const half = (from: number) => `sum(('x' || substr(h, ${from}, 16))::bit(64)::bigint::numeric)`;
  const rows = await Promise.all(
    tables.map(async (t) => {
      const [row] = (await sql.unsafe(
        `SELECT count(*)::int AS rows, CASE WHEN count(*) = 0 THEN 'empty' ELSE ${half(1)} || ':' || ${half(17)} END AS checksum FROM (SELECT md5(x::text) AS h FROM ${t.qualified} x) s`,
      )) as unknown as Array<TableFingerprint>;
      return [t.key, row!] as const;
    }),
  );
  return Object.fromEntries(rows);
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

/** A database name no other run uses: `<db>_restore_check_<random>`, within PostgreSQL's 63 bytes. */
function scratchName(database: string): string {
  const suffix = `_restore_check_${randomBytes(4).toString('hex')}`;
  return Buffer.from(database).subarray(0, 63 - suffix.length).toString('utf8').replace(/\uFFFD+$/, '') + suffix;
}

/**
 * Restores `file` into a scratch database next to staging and compares it table by table with
 * staging. The scratch database is dropped afterwards, also when anything failed.
 */
export async function proveRestore(config: Config, staging: postgres.Sql, openDatabase: (name: string) => postgres.Sql, backupFile: string | BackupInfo, signal?: AbortSignal): Promise<RestoreProof> {
  const started = performance.now();
  // A backup that backupStaging just validated is not read twice: the restore still checks that
  // every byte it feeds matches the validated digest.
  const backup = typeof backupFile === 'string' ? await validateBackup(backupFile) : backupFile;
  const file = backup.file;
  const scratch = scratchName(config.database.name);
  await staging.unsafe(`CREATE DATABASE ${quoteIdent(scratch)}`);
  let scratchSql: postgres.Sql | undefined;
  try {
    scratchSql = openDatabase(scratch);
    // Staging's fingerprint is taken while the scratch database is restored: the server does both at once.
    const stagingPrint = fingerprint(staging);
    stagingPrint.catch(() => undefined);
    await psqlRestore(config, backup, scratch, dropPrelude(await userSchemas(scratchSql)), staging, signal).catch((error) => {
      if (error instanceof RestoreFailure) throw new SubprocessError(`Restoring ${file} into the scratch database ${scratch} failed: ${error.message}. Staging was not touched.`, error.command, error.stderr);
      throw error;
    });
    const [a, b] = await Promise.all([stagingPrint, fingerprint(scratchSql)]);
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    const mismatches = keys.filter((k) => a[k]?.rows !== b[k]?.rows || a[k]?.checksum !== b[k]?.checksum);
    return { backup: file, scratchDatabase: scratch, tables: keys.length, rows: Object.values(b).reduce((s, t) => s + t.rows, 0), mismatches, ok: mismatches.length === 0, ms: Math.round(performance.now() - started) };
  } finally {
    await scratchSql?.end({ timeout: 2 });
    await staging.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`).catch(() => undefined);
  }
}
