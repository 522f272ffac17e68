// Production access: read-only by construction. Every session sets default_transaction_read_only
// and a statement timeout, and all reads of one run happen in one REPEATABLE READ READ ONLY
// transaction, so the subset is taken from a single consistent snapshot.
import postgres from 'postgres';
import { UserError } from '../errors.js';
import { describeUrl, noDelaySocket } from './pg-connect.js';

export { describeUrl };

export type ReadOnlySql = postgres.Sql;
export type ReadOnlyTx = postgres.TransactionSql;

export function parseDatabaseUrl(url: string, what = 'production.url'): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`${what} is not a valid URL.`, { tryThis: 'Use the form postgresql://user:password@host:5432/database (PRODUCTION_DATABASE_URL or production.url).' });
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new UserError(`${what} must start with postgresql:// (got ${u.protocol}//).`, { tryThis: 'e.g. postgresql://reader:…@db.internal:5432/app' });
  if (!u.pathname || u.pathname === '/') throw new UserError(`${what} names no database (${describeUrl(url)}).`, { tryThis: 'Add the database name after the port: …:5432/<database>.' });
  return u;
}

export function openProduction(url: string, opts: { statementTimeoutMs: number; max?: number; idleInTransactionMs?: number }): ReadOnlySql {
  const u = parseDatabaseUrl(url);
  return postgres(url, {
    socket: noDelaySocket(u.hostname.replace(/^\[|\]$/g, ''), Number(u.port || 5432)),
    max: opts.max ?? 1,
    idle_timeout: 5,
    connect_timeout: 10,
    onnotice: () => undefined,
    connection: {
      application_name: 'rehearse (read-only)',
      default_transaction_read_only: 'on',
      statement_timeout: opts.statementTimeoutMs,
      idle_in_transaction_session_timeout: opts.idleInTransactionMs ?? Math.max(opts.statementTimeoutMs * 4, 60_000),
    } as Record<string, string | number>,
  } as postgres.Options<Record<string, postgres.PostgresType>>);
}

/** A failed TLS handshake or certificate check (sslmode=require and stronger). */
export function isTlsError(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | null;
  return !!e && (/^(ERR_TLS|ERR_SSL|EPROTO|SELF_SIGNED|DEPTH_ZERO|UNABLE_TO_VERIFY|CERT_)/.test(e.code ?? '') || /\b(TLS|SSL)\b/.test(e.message ?? ''));
}

/** Translates connection failures into what to do, without echoing the password. */
export function translatePgError(error: unknown, url: string, role: 'production' | 'staging'): Error {
  const e = error as { code?: string; message?: string };
  const where = describeUrl(url);
  const flag = role === 'production' ? 'PRODUCTION_DATABASE_URL (or production.url)' : 'the staging settings (`rehearse config`)';
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN' || e?.code === 'CONNECT_TIMEOUT' || e?.code === 'ETIMEDOUT')
    return new UserError(`Cannot connect to the ${role} database at ${where} (${e.code}).`, {
      causes: ['the server is not running or not reachable from here', 'wrong host or port'],
      tryThis: role === 'production' ? `Check ${flag}; for a trial without production run \`rehearse demo\` and unset PRODUCTION_DATABASE_URL.` : 'Start staging with `rehearse setup`.',
    });
  if (e?.code === '28P01' || e?.code === '28000') return new UserError(`The ${role} database at ${where} refused the credentials.`, { tryThis: `Check the user and password in ${flag}.` });
  if (e?.code === '3D000') return new UserError(`The ${role} database at ${where} does not exist.`, { tryThis: `Check the database name in ${flag}.` });
  if (isTlsError(error)) {
    return new UserError(`The TLS connection to the ${role} database at ${where} failed: ${e.message}.`, {
      causes: ['the URL asks for TLS (sslmode=require or stronger) and the server does not offer it', 'the server\'s certificate is not trusted (sslmode=verify-full needs its CA)'],
      tryThis: `Check sslmode in ${flag}: remove it for a server without TLS, or enable ssl on the server.`,
    });
  }
  return error as Error;
}

export interface Snapshot {
  tx: ReadOnlyTx;
  /** The snapshot's server process, for pg_cancel_backend. */
  pid: number;
  /**
   * pg_export_snapshot() of this transaction, for readers on other connections (`openSnapshot(sql,
   * { importId })`); undefined where the server cannot export one (a standby before PostgreSQL 10,
   * a transaction-mode pooler): then everything is read through `tx`.
   */
  exportedId?: string;
  /** Ends the read-only transaction (it never wrote anything, so commit and rollback are the same). */
  close(): Promise<void>;
  /**
   * Ends it at once, whatever the connection is doing: cancels its running query from another
   * connection, then drops every connection of the pool. A COPY cut off half-way leaves postgres.js
   * waiting on a paused socket, so a polite close could wait for ever; dropping the connection makes
   * the server end the transaction now. Production was only read, so nothing is lost.
   */
  abort(): Promise<void>;
}

/** What pg_export_snapshot returns (e.g. 00000003-0000001B-1): checked, since SET TRANSACTION SNAPSHOT takes no parameter. */
const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/i;

/**
 * Opens one REPEATABLE READ READ ONLY transaction and keeps it open across several steps (plan,
 * copy, verify all see the same snapshot) until `close()` or `abort()`. The pool needs a second
 * connection for `abort()` to cancel through. With `importId` the transaction adopts another one's
 * exported snapshot (SET TRANSACTION SNAPSHOT, as pg_dump -j does), so it sees exactly the same
 * rows; without it the snapshot is exported for such readers.
 */
export async function openSnapshot(sql: ReadOnlySql, opts: { importId?: string; noExport?: boolean } = {}): Promise<Snapshot> {
  if (opts.importId !== undefined && !SNAPSHOT_ID.test(opts.importId)) throw new Error(`not a snapshot id: ${opts.importId}`);
  let release!: () => void;
  let ready!: (tx: ReadOnlyTx) => void;
  const txReady = new Promise<ReadOnlyTx>((resolve) => (ready = resolve));
  const done = sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
    // Must be the transaction's first statement.
    if (opts.importId !== undefined) await tx.unsafe(`SET TRANSACTION SNAPSHOT '${opts.importId}'`);
    ready(tx);
    return new Promise<void>((resolve) => (release = resolve));
  });
  const tx = await Promise.race([txReady, done.then(() => Promise.reject(new Error('the snapshot transaction ended early')))]);
  const [{ pid }] = (await tx`SELECT pg_backend_pid() AS pid`) as unknown as [{ pid: number }];
  let exportedId: string | undefined;
  if (opts.importId === undefined && !opts.noExport) {
    // Not from a savepoint (PostgreSQL refuses to export from a subtransaction): a refusal ends this
    // transaction, so it is closed and a plain one opened instead.
    try {
      [{ id: exportedId }] = (await tx`SELECT pg_export_snapshot() AS id`) as unknown as [{ id: string }];
    } catch {
      release();
      await done.catch(() => undefined);
      return openSnapshot(sql, { noExport: true });
    }
  }
  let ended = false;
  return {
    tx,
    pid,
    ...(exportedId ? { exportedId } : {}),
    close: async () => {
      if (ended) return;
      ended = true;
      release();
      await done.catch(() => undefined);
    },
    abort: async () => {
      if (ended) return;
      ended = true;
      await cancelBackend(sql, pid);
      await sql.end({ timeout: 0 });
      done.catch(() => undefined);
    },
  };
}

export interface SnapshotReaders {
  /** Transactions that see exactly the main snapshot's rows: imported ones, or the main one alone when it exported none. */
  txs: ReadOnlyTx[];
  close(): Promise<void>;
  /** Cancels what they run and drops their connections (a cursor cut off half-way leaves a connection unusable). */
  abort(): Promise<void>;
}

/**
 * `count` more read-only transactions on the main snapshot, on their own connections, so several
 * tables can be read at once. A reader waits (idle in its transaction) while the writer is busy with
 * an earlier table, so its idle timeout is generous; aborting or closing ends them all.
 */
export async function openSnapshotReaders(url: string, main: Snapshot, count: number, statementTimeoutMs: number): Promise<SnapshotReaders> {
  if (!main.exportedId || count < 1) return { txs: [main.tx], close: async () => undefined, abort: async () => undefined };
  const sql = openProduction(url, { statementTimeoutMs, max: count + 1, idleInTransactionMs: 30 * 60_000 });
  const readers: Snapshot[] = [];
  try {
    for (let i = 0; i < count; i++) readers.push(await openSnapshot(sql, { importId: main.exportedId }));
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw error;
  }
  return {
    txs: readers.map((r) => r.tx),
    close: async () => {
      await Promise.all(readers.map((r) => r.close()));
      await sql.end({ timeout: 2 });
    },
    abort: async () => {
      await Promise.all(readers.map((r) => cancelBackend(sql, r.pid)));
      await sql.end({ timeout: 0 });
    },
  };
}

/** Cancels the running query of server process `pid` through another connection of `sql` (best effort, bounded). */
export async function cancelBackend(sql: postgres.Sql, pid: number, timeoutMs = 3000): Promise<void> {
  const cancel = sql`SELECT pg_cancel_backend(${pid})`;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([cancel.then(() => undefined, () => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
