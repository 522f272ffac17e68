// Staging backups, and what makes a file a backup. pg_dump runs inside the staging postgres container
// (same major version as the server) on a snapshot exported by a REPEATABLE READ transaction, which
// counts every table's rows on that same snapshot. The dump streams through gzip into a hidden
// `.staging-backup-<timestamp>.sql.gz.partial` (0600); only once the file decompresses completely,
// ends with pg_dump's end marker and holds exactly the counted rows is it renamed to
// `staging-backup-<timestamp>.sql.gz`. Anything else removes the partial file.
import { createHash } from 'node:crypto';
import { constants, createReadStream, createWriteStream, lstatSync, mkdirSync, openSync, readlinkSync, readSync, closeSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createGzip } from 'node:zlib';
import { execa } from 'execa';
import type postgres from 'postgres';
import type { Config } from '../config.js';
import { CancelledError, CheckFailedError, SubprocessError, UserError } from '../errors.js';
import { stackNames, workPaths } from '../paths.js';
import { timestampForFile } from '../evidence/reports.js';

export interface BackupResult {
  file: string;
  /** sha256 of the SQL inside, from the validation before the rename (a restore checks it again). */
  sqlSha256: string;
  /** Compressed size on disk. */
  bytes: number;
  takenAt: string;
  tables: number;
  rows: number;
  /** Rows per table (`schema.table`, quoted as pg_dump quotes it), counted on the dump's snapshot. */
  rowsPerTable: Record<string, number>;
  ms: number;
}

/** A backup file that passed validation: what it holds, and the digest of its SQL (to detect a swap later). */
export interface BackupInfo {
  file: string;
  bytes: number;
  takenAt: string;
  tables: number;
  rows: number;
  rowsPerTable: Record<string, number>;
  sqlSha256: string;
}

const HEADER = '-- PostgreSQL database dump';
/** Fast compression: at level 6 gzip, not pg_dump, set the pace of a large backup; level 1 files are a little larger. */
const GZIP_LEVEL = 1;
const END_MARKER = '-- PostgreSQL database dump complete';
const BACKUP_NAME = /^staging-backup-(\d{8})-(\d{6})(?:-(\d{3}))?Z\.sql\.gz$/;

/**
 * Exact row counts of every table pg_dump writes data for (extension tables only when they are
 * configuration tables), as one JSON object from one statement, so it runs the same through
 * postgres.js and through psql, on the snapshot of the transaction it runs in.
 */
const COUNTS_SQL = `SELECT coalesce(json_object_agg(key, n ORDER BY key), '{}') AS counts FROM (
  SELECT format('%I.%I', ns.nspname, c.relname) AS key,
    (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', ns.nspname, c.relname), false, true, '')))[1]::text::bigint AS n
  FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
  WHERE c.relkind = 'r' AND ns.nspname NOT LIKE 'pg\\_%' AND ns.nspname <> 'information_schema'
    AND (NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
         OR EXISTS (SELECT 1 FROM pg_extension e WHERE c.oid = ANY (e.extconfig)))) t`;

export async function exactCounts(sql: postgres.Sql): Promise<Record<string, number>> {
  const [row] = (await sql.unsafe(COUNTS_SQL)) as unknown as Array<{ counts: Record<string, number> }>;
  return row!.counts;
}

export const sumRows = (counts: Record<string, number>) => Object.values(counts).reduce((s, k) => s + k, 0);

/** Differences between two per-table row counts, as short phrases ("a.b: 3 in the dump, 4 counted"). */
export function countMismatches(expected: Record<string, number>, actual: Record<string, number>, names: [string, string]): string[] {
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return keys.filter((k) => expected[k] !== actual[k]).map((k) => `${k}: ${expected[k] ?? 'absent'} ${names[0]}, ${actual[k] ?? 'absent'} ${names[1]}`);
}

interface DumpScan {
  sqlBytes: number;
  sqlSha256: string;
  header: boolean;
  complete: boolean;
  rowsPerTable: Record<string, number>;
}

/** Reads a COPY statement's table name (`schema.table`, either part possibly double-quoted). */
function copyTarget(line: string): string | undefined {
  const m = /^COPY ((?:"(?:[^"]|"")*"|[^ ."]+)\.(?:"(?:[^"]|"")*"|[^ ."(]+)) (?:\(.*\) )?FROM stdin;$/.exec(line);
  return m?.[1];
}

/**
 * Decompresses a whole file (refusing to follow a symlink) and reads it as pg_dump output: the
 * header, the end marker as the last statement, and the rows of every COPY block. Throws the gzip
 * error when the file does not decompress completely.
 */
async function scanDump(file: string): Promise<DumpScan> {
  const hash = createHash('sha256');
  const decoder = new StringDecoder('utf8');
  const rowsPerTable: Record<string, number> = {};
  let sqlBytes = 0;
  let rest = '';
  let head = '';
  let copying: string | undefined;
  let ended = false;
  const line = (l: string) => {
    if (copying !== undefined) {
      if (l === '\\.') copying = undefined;
      else rowsPerTable[copying]! += 1;
      return;
    }
    if (l === END_MARKER) ended = true;
    // After the marker pg_dump writes only comment lines, blank lines and `\unrestrict <key>`.
    else if (ended && l !== '' && !l.startsWith('--') && !l.startsWith('\\unrestrict ')) ended = false;
    const table = l.startsWith('COPY ') ? copyTarget(l) : undefined;
    if (table) {
      copying = table;
      rowsPerTable[table] = 0;
    }
  };
  await pipeline(createReadStream(file, { fd: openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW) }), createGunzip(), async function (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      sqlBytes += chunk.length;
      const text = rest + decoder.write(chunk);
      if (head.length < 4096) head += text.slice(0, 4096);
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const l of lines) line(l);
    }
  });
  rest += decoder.end();
  if (rest) line(rest);
  return { sqlBytes, sqlSha256: hash.digest('hex'), header: head.split('\n').slice(0, 5).includes(HEADER), complete: ended && copying === undefined, rowsPerTable };
}

/** The time in a backup's name (when its snapshot was taken), else the file's modification time. */
function takenAtOf(file: string): string {
  const m = BACKUP_NAME.exec(path.basename(file));
  if (!m) return statSync(file).mtime.toISOString();
  const [, d, t, ms] = m;
  return `${d!.slice(0, 4)}-${d!.slice(4, 6)}-${d!.slice(6)}T${t!.slice(0, 2)}:${t!.slice(2, 4)}:${t!.slice(4)}.${ms ?? '000'}Z`;
}

const LIST = '`rehearse data restore` picks the newest valid backup, `rehearse data backup` makes a new one';

/**
 * Checks a backup before anything is touched: a regular file (not a symlink), not empty, gzip that
 * decodes completely, a pg_dump of a database, complete. Throws a UserError naming the file and the
 * problem; returns what the backup holds.
 */
export async function validateBackup(file: string): Promise<BackupInfo> {
  const refuse = (problem: string, tryThis = LIST) => new UserError(`Backup ${file} ${problem}; nothing was changed.`, { tryThis });
  let st;
  try {
    st = lstatSync(file);
  } catch {
    throw refuse('does not exist', `\`ls ${path.dirname(file)}\` lists the backups; ${LIST}`);
  }
  if (st.isSymbolicLink()) {
    const target = path.resolve(path.dirname(file), readlinkSync(file));
    throw refuse(`is a symbolic link (to ${target}); only regular files are restored, so a link cannot change what gets restored`, `\`rehearse data restore ${target}\` restores the file it points to, after checking that is the one you mean`);
  }
  if (!st.isFile()) throw refuse('is not a regular file');
  if (st.size === 0) throw refuse('is empty (0 bytes)', `\`rm ${file}\`; ${LIST}`);
  const magic = Buffer.alloc(64);
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  const read = readSync(fd, magic, 0, magic.length, 0);
  closeSync(fd);
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) {
    const plainDump = magic.subarray(0, read).toString('utf8').startsWith('--');
    throw refuse(
      `is not gzip-compressed${plainDump ? ' (it looks like plain SQL)' : ''}`,
      plainDump ? `\`gzip -k ${file}\`, then \`rehearse data restore ${file}.gz\`` : LIST,
    );
  }
  let scan: DumpScan;
  try {
    scan = await scanDump(file);
  } catch (error) {
    throw refuse(`is damaged: it does not decompress completely (${(error as Error).message})`, `\`rm ${file}\`; ${LIST}`);
  }
  if (!scan.header) throw refuse(`is not a pg_dump of a database (no "${HEADER}" header in its ${scan.sqlBytes} bytes of SQL)`, `\`rm ${file}\`; ${LIST}`);
  if (!scan.complete) throw refuse(`is incomplete: pg_dump's end marker "${END_MARKER}" is missing, so the dump was cut off`, `\`rm ${file}\`; ${LIST}`);
  return { file, bytes: st.size, takenAt: takenAtOf(file), tables: Object.keys(scan.rowsPerTable).length, rows: sumRows(scan.rowsPerTable), rowsPerTable: scan.rowsPerTable, sqlSha256: scan.sqlSha256 };
}

/**
 * A psql session inside the staging container that holds the REPEATABLE READ transaction whose
 * snapshot pg_dump uses. psql rather than a host connection: when the server dies mid-way, this
 * is one more failed subprocess, and pg_dump and the counts need the same container anyway.
 */
function snapshotSession(config: Config, container: string, signal?: AbortSignal) {
  const argv = ['exec', '-i', container, 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-U', config.database.user, '-d', config.database.name];
  const child = execa('docker', argv, { cancelSignal: signal, stdin: 'pipe', stdout: 'pipe', buffer: { stdout: false, stderr: true }, reject: false });
  const lines: string[] = [];
  let partialLine = '';
  let ended = false;
  let wake: (() => void) | undefined;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    const parts = (partialLine + d).split('\n');
    partialLine = parts.pop()!;
    lines.push(...parts);
    wake?.();
  });
  child.stdout!.on('close', () => {
    ended = true;
    wake?.();
  });
  child.stdin!.on('error', () => undefined); // psql gone: the read below reports it
  const failed = async () => {
    const r = await child;
    return Object.assign(new Error(`psql ended early (exit code ${r.exitCode})`), { stderr: String(r.stderr ?? ''), command: `docker ${argv.join(' ')}` });
  };
  return {
    /** Runs statements and returns what they printed (unaligned, tuples only). */
    async query(statements: string): Promise<string> {
      child.stdin!.write(`${statements}\n\\echo rehearse:done\n`);
      const out: string[] = [];
      for (;;) {
        while (!lines.length && !ended) await new Promise<void>((resolve) => (wake = resolve));
        const line = lines.shift();
        if (line === undefined) throw await failed();
        if (line === 'rehearse:done') return out.join('\n');
        out.push(line);
      }
    },
    async close(): Promise<void> {
      child.stdin!.end('COMMIT;\n');
      if ((await child).exitCode !== 0) throw await failed();
    },
    kill: () => child.kill(),
  };
}

/** What a failed docker exec says when the container or the engine is not there, said plainly. */
function notThere(container: string, stderr: string): UserError | undefined {
  const tryThis = '`rehearse status` shows the stack; `rehearse setup` brings it up.';
  if (/is not running|No such container|is paused|is restarting/i.test(stderr)) {
    return new UserError(`Backing up the staging database failed: its container ${container} is not running. No backup file was written.`, { tryThis, causes: [stderr.trim().split('\n').pop()!] });
  }
  if (/Cannot connect to the Docker daemon|error during connect/i.test(stderr)) {
    return new UserError(`Backing up the staging database failed: the Docker engine cannot be reached. No backup file was written.`, { tryThis: 'Start Docker, or fix DOCKER_HOST; then `rehearse status`.', causes: [stderr.trim().split('\n').pop()!] });
  }
  return undefined;
}

export async function backupStaging(config: Config, signal?: AbortSignal): Promise<BackupResult> {
  const started = performance.now();
  const dir = workPaths(config).backups;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const takenAt = new Date();
  const name = `staging-backup-${timestampForFile(takenAt)}.sql.gz`;
  const file = path.join(dir, name);
  const partial = path.join(dir, `.${name}.partial`);
  const container = stackNames(config).containers['postgres-staging'];
  const session = snapshotSession(config, container, signal);
  let argv: string[] = [];
  try {
    // The dump and the counts read one exported snapshot, so they agree even while staging is written to.
    const snapshot = (await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT pg_export_snapshot();')).trim();
    argv = ['exec', container, 'pg_dump', '-U', config.database.user, '-d', config.database.name, '--no-owner', '--no-privileges', `--snapshot=${snapshot}`];
    const child = execa('docker', argv, { cancelSignal: signal, buffer: { stdout: false, stderr: true }, stdout: 'pipe' });
    const [dump, counts] = await Promise.allSettled([
      Promise.all([pipeline(child.stdout!, createGzip({ level: GZIP_LEVEL }), createWriteStream(partial, { mode: 0o600 })), child]),
      session.query(`${COUNTS_SQL};`).then((out) => JSON.parse(out) as Record<string, number>),
    ]);
    if (dump.status === 'rejected') throw dump.reason;
    if (counts.status === 'rejected') throw counts.reason;
    await session.close();
    const proof = await validateBackup(partial).catch((error: Error) => {
      throw new CheckFailedError(`The backup pg_dump wrote is not readable: ${error.message.replace(/; nothing was changed\.$/, '')}. It was removed; no backup file was written.`, { tryThis: 'Run `rehearse data backup` again; check `rehearse logs postgres-staging` if it keeps failing.' });
    });
    const mismatches = countMismatches(proof.rowsPerTable, counts.value, ['in the dump', 'in staging']);
    if (mismatches.length) {
      throw new CheckFailedError(`The backup does not hold what staging held at dump time (${mismatches.slice(0, 5).join('; ')}). It was removed; no backup file was written.`, { tryThis: 'Run `rehearse data backup` again.' });
    }
    renameSync(partial, file);
    return { file, sqlSha256: proof.sqlSha256, bytes: proof.bytes, takenAt: takenAt.toISOString(), tables: proof.tables, rows: proof.rows, rowsPerTable: proof.rowsPerTable, ms: Math.round(performance.now() - started) };
  } catch (error) {
    session.kill();
    rmSync(partial, { force: true });
    if (signal?.aborted) throw new CancelledError('The partial backup file was removed; no backup was written.');
    if (error instanceof UserError) throw error;
    const e = error as { stderr?: string; command?: string; message: string };
    const stderr = String(e.stderr || e.message);
    throw notThere(container, stderr) ??
      new SubprocessError(`Backing up the staging database failed; no backup file was written (the partial file was removed).`, e.command ?? (argv.length ? `docker ${argv.join(' ')}` : 'docker exec … psql'), stderr, {
        tryThis: `Check that ${container} is running (\`rehearse status\`).`,
      });
  }
}
