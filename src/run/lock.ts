// One run at a time per work folder and per staging database (architecture.md, rule 7). Two locks,
// held for the whole run of every command that writes staging:
// - a lock file in the work folder (pid, command, host, start time), created exclusively; it is
//   stale, and taken over, when its process is gone on this host;
// - a PostgreSQL session-level advisory lock on the staging database, held by one idle connection
//   whose application_name says who holds it, so runs from two work folders (or two hosts) that
//   point at the same staging database are refused too. It ends with the connection, whatever
//   happens to the process.
// A second run is refused (exit 2) with the holder and what to do; it never waits or races.
import { existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type postgres from 'postgres';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { workPaths } from '../paths.js';

export const LOCK_FILE = '.rehearse.lock';
/** pg_try_advisory_lock(int4, int4): 1001 Stories, "rehe". Shows in pg_locks as classid/objid. */
const ADVISORY_KEY = [1001, 0x72656865] as const;

export interface LockHolder {
  pid: number;
  command: string;
  host: string;
  startedAt: string;
}

export interface RunLock {
  file: string;
  holder: LockHolder;
  /** Whether the staging database's advisory lock is held too (false when staging was not reachable). */
  staging: boolean;
  /** Takes the staging lock now if it was not reachable at the start (a run that brought staging up). */
  ensureStaging(): Promise<void>;
  release(): Promise<void>;
}

export const lockFile = (config: Pick<Config, 'workDir'>) => path.join(config.workDir, LOCK_FILE);

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.command === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

const since = (iso: string) => {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return `since ${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (${s < 120 ? `${s} s` : `${Math.round(s / 60)} min`} ago)`;
};

/** The holder of the work folder's lock file, when a live process holds it. */
export function currentHolder(config: Pick<Config, 'workDir'>): LockHolder | undefined {
  const h = readHolder(lockFile(config));
  if (!h) return undefined;
  return h.host === os.hostname() && !pidAlive(h.pid) ? undefined : h;
}

function takeFile(file: string, holder: LockHolder): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(holder) + '\n', { flag: 'wx', mode: 0o600 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new UserError(`Cannot create the run lock ${file}: ${(error as Error).message}`, { tryThis: 'Run rehearse from a folder you can write to, or set workDir to one.' });
      }
    }
    const current = readHolder(file);
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat) continue; // released meanwhile
    // A file being written this instant reads as empty: only an old unreadable one is stale.
    const unreadableAndOld = !current && Date.now() - stat.mtimeMs > 10_000;
    const dead = current && current.host === os.hostname() && !pidAlive(current.pid);
    if (dead || unreadableAndOld) {
      // Renaming first: of two runs that both found it stale, only one removes it.
      const aside = `${file}.stale-${process.pid}`;
      try {
        renameSync(file, aside);
        unlinkSync(aside);
      } catch {
        // the other run got there first; try again
      }
      continue;
    }
    if (current) {
      throw new UserError(`Another rehearse run holds this work folder: \`rehearse ${current.command}\` (pid ${current.pid} on ${current.host}), ${since(current.startedAt)}. Nothing was changed.`, {
        tryThis: `Wait for it to finish, or stop it (Ctrl-C in its terminal, or \`kill ${current.pid}\`${current.host === os.hostname() ? '' : ` on ${current.host}`}); its lock file ${file} goes with it.${current.host === os.hostname() ? '' : ` If that run is gone, delete ${file}.`}`,
      });
    }
    throw new UserError(`Another rehearse run is taking the lock on this work folder (${file}). Nothing was changed.`, { tryThis: 'Try again in a moment.' });
  }
  throw new UserError(`Cannot take the run lock ${file}: it keeps coming back. Nothing was changed.`, { tryThis: 'Another run is starting at the same moment; try again.' });
}

function dropFile(file: string, holder: LockHolder): void {
  const current = readHolder(file);
  if (current && current.pid === holder.pid && current.startedAt === holder.startedAt) unlinkSync(file);
}

/** Holds the advisory lock on one connection kept open; undefined when staging is not reachable. */
async function takeStaging(config: Config, holder: LockHolder): Promise<postgres.Sql | undefined> {
  if (!existsSync(workPaths(config).envFile)) return undefined;
  const { stagingSql } = await import('../db/staging.js');
  const name = `rehearse ${holder.command} pid ${holder.pid}@${holder.host.slice(0, 20)}`.slice(0, 63);
  const sql = stagingSql(config, { max: 1, keepOpen: true, applicationName: name });
  let got: boolean;
  try {
    const [row] = await sql<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(${ADVISORY_KEY[0]}, ${ADVISORY_KEY[1]}) AS ok`;
    got = row!.ok;
  } catch {
    // Staging is down or not made yet: nothing else can be writing it either.
    await sql.end({ timeout: 1 }).catch(() => undefined);
    return undefined;
  }
  if (got) return sql;
  const holders = await sql<{ name: string; started: string; addr: string | null }[]>`
    SELECT a.application_name AS name, a.backend_start::text AS started, host(a.client_addr) AS addr
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${ADVISORY_KEY[0]} AND l.objid = ${ADVISORY_KEY[1]} AND l.objsubid = 2`.catch(() => []);
  await sql.end({ timeout: 1 }).catch(() => undefined);
  const h = holders[0];
  throw new UserError(
    `Another rehearse run is writing the staging database ${config.database.name} (port ${config.ports.postgres})${h ? `: ${h.name}${h.addr ? ` from ${h.addr}` : ''}, connected ${since(new Date(h.started).toISOString())}` : ''}. Nothing was changed.`,
    { tryThis: 'Wait for it to finish, or stop it: its lock ends with its connection. It may run from another work folder or host that uses the same staging database.' },
  );
}

/** Takes both locks for `command`, or refuses (UserError, exit 2) naming the holder. */
export async function acquireRunLock(config: Config, command: string, opts: { staging?: boolean } = {}): Promise<RunLock> {
  const file = lockFile(config);
  const holder: LockHolder = { pid: process.pid, command, host: os.hostname(), startedAt: new Date().toISOString() };
  takeFile(file, holder);
  // Whatever way the process ends (a second Ctrl-C exits at once), the file does not outlive it.
  const onExit = () => dropFile(file, holder);
  process.once('exit', onExit);
  let sql: postgres.Sql | undefined;
  try {
    if (opts.staging !== false) sql = await takeStaging(config, holder);
  } catch (error) {
    process.removeListener('exit', onExit);
    dropFile(file, holder);
    throw error;
  }
  const lock: RunLock = {
    file,
    holder,
    staging: !!sql,
    async ensureStaging() {
      if (sql || opts.staging === false) return;
      sql = await takeStaging(config, holder);
      lock.staging = !!sql;
    },
    async release() {
      process.removeListener('exit', onExit);
      // Ending the connection ends its session lock (the server may be gone already: down --volumes).
      await sql?.end({ timeout: 2 }).catch(() => undefined);
      dropFile(file, holder);
    },
  };
  return lock;
}

/**
 * Runs `fn` holding the run lock for `command` (e.g. "data", "wizard: migrate"). Commands that
 * write staging use it; read-only ones (status, config, checklist, validate, report) do not.
 * `staging: false` takes only the work folder's lock (demo touches the demo database, not staging).
 */
export async function withRunLock<T>(config: Config, command: string, fn: (lock: RunLock) => Promise<T>, opts: { staging?: boolean } = {}): Promise<T> {
  const lock = await acquireRunLock(config, command, opts);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
