// Runs a migration folder's up.sql or down.sql against one database: on a reserved connection, one
// transaction per batch with a lock_timeout, retries with backoff on lock timeouts and deadlocks,
// each statement timed, a catch-up pass for rows that became eligible meanwhile, Redis keys of the
// changed rows invalidated after commit. A run that fails or is cancelled after committing batches
// undoes them from the log, so it never leaves a partial change.
import type postgres from 'postgres';
import type { Redis } from 'ioredis';
import { CancelledError, CheckFailedError, isAbortError, UserError } from '../errors.js';
import { cancellable } from '../db/cancellable.js';
import type { PassFailCheck } from '../evidence/check.js';
import path from 'node:path';
import { MIGRATIONS_DIR, type MigrationFolder } from './folder.js';
import { invalidateCachedKeys, type InvalidationResult } from './redis-cache.js';
import { statementLabel } from './sql-split.js';
import { quoteIdent } from '../db/sql-text.js';

export type PhaseName = 'up' | 'down';

export interface StatementTiming {
  phase: PhaseName | 'prelude' | 'verify';
  batch: number;
  label: string;
  ms: number;
  rows: number;
}

export type RunnerEvent =
  | ({ type: 'statement' } & StatementTiming)
  | { type: 'batch'; phase: PhaseName; batch: number; rows: number; ms: number; totalRows: number }
  | { type: 'retry'; phase: PhaseName | 'prelude'; batch: number; attempt: number; code: string; waitMs: number }
  | { type: 'compensate'; runId: string; committedBatches: number };

export interface RetryRecord {
  phase: PhaseName | 'prelude';
  batch: number;
  attempt: number;
  /** SQLSTATE: 55P03 lock timeout, 40P01 deadlock, 40001 serialization failure. */
  code: string;
  waitMs: number;
}

export interface RunnerSettings {
  /** 0: everything in one transaction; N: batches of at most N rows. */
  batchSize: number;
  includeDeleted: boolean;
  lockTimeoutMs: number;
  retries: number;
  retryBaseMs: number;
  /** work_mem for the migration's transactions; the server's default when absent. */
  workMemMb?: number | undefined;
}

export interface PhaseOptions extends RunnerSettings {
  sql: postgres.Sql;
  migration: MigrationFolder;
  /** Every batch id of the run is `<runId>#<n>`; down.sql reverses the rows of one runId. */
  runId: string;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: RunnerEvent) => void) | undefined;
  /** The backend that runs the migration, so a lock sampler can tell its locks from others'. */
  onBackend?: ((pid: number) => void) | undefined;
  redis?: { client: Redis; patterns: string[] } | undefined;
  /** For the harness's edge cases. */
  hooks?: {
    /** Inside batch `n`'s transaction, after its statements, before COMMIT. */
    beforeCommit?: (batch: number) => Promise<void>;
    /** Raise a server-side error in this batch after its first statement (mid-migration). */
    failInBatch?: number;
  };
}

export interface PhaseResult {
  phase: PhaseName;
  runId: string;
  /** Rows the phase changed (up) or processed (down), catch-up included. */
  rows: number;
  batches: number;
  ms: number;
  rowsPerSecond: number;
  preludeMs: number;
  /** up: rows that became eligible while the run went on and were migrated by the catch-up pass. */
  caughtLate: number;
  /** up: eligible rows still there after the catch-up passes (reported, never silently missed). */
  leftBehind: number;
  retries: RetryRecord[];
  statements: StatementTiming[];
  backendPid: number;
  /** "table: mode" of every table lock the phase's transactions held (read from pg_locks before each COMMIT). */
  locksHeld: string[];
  redis?: InvalidationResult;
}

/** A run that failed: the error, and what was done so nothing partial is left. */
export class MigrationRunError extends CheckFailedError {
  readonly compensated: { committedBatches: number; reversedRows: number } | undefined;
  readonly pgCode: string | undefined;
  constructor(message: string, opts: { cause: unknown; compensated?: { committedBatches: number; reversedRows: number }; tryThis?: string }) {
    super(message, { ...(opts.tryThis ? { tryThis: opts.tryThis } : {}) });
    this.name = 'MigrationRunError';
    this.cause = opts.cause;
    this.compensated = opts.compensated;
    this.pgCode = (opts.cause as { code?: string })?.code;
  }
}

const RETRYABLE = new Set(['55P03', '40P01', '40001']);
/** Waits `ms`, or rejects with CancelledError as soon as `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** How to run a fixed copy of a migration instead of editing the installed package. */
export const copyHint = (m: MigrationFolder, change: string) =>
  m.dir.startsWith(MIGRATIONS_DIR + path.sep)
    ? `Copy the migration folder (\`cp -r ${m.dir} ./${m.name}\`), ${change} in the copy, and run \`rehearse migrate --migration ./${m.name}\` (and \`rehearse migrate rollback --migration ./${m.name}\`).`
    : `${change[0]!.toUpperCase()}${change.slice(1)} in ${m.dir}, and run \`rehearse migrate --migration ${m.dir}\` again.`;

/** The target table, quoted and schema-qualified. */
export const targetTable = (m: MigrationFolder) => `${quoteIdent(m.meta.target.schema)}.${quoteIdent(m.meta.target.table)}`;
export const logTable = (m: MigrationFolder) => `${quoteIdent(m.meta.log.schema)}.${quoteIdent(m.meta.log.table)}`;

/** SQL condition of the rows this run should change, from migration.json and the soft-delete policy. */
export function eligibleCondition(m: MigrationFolder, includeDeleted: boolean): string {
  const soft = m.meta.softDeleteColumn && !includeDeleted ? ` AND ${quoteIdent(m.meta.softDeleteColumn)} IS NULL` : '';
  return `(${m.meta.affectedRows})${soft}`;
}

export async function countEligible(sql: postgres.Sql | postgres.ReservedSql, m: MigrationFolder, includeDeleted: boolean): Promise<number> {
  const [row] = (await sql.unsafe(`SELECT count(*)::int AS n FROM ${targetTable(m)} WHERE ${eligibleCondition(m, includeDeleted)}`)) as unknown as Array<{ n: number }>;
  return row!.n;
}

/** The transaction-local settings every migration transaction runs with: up.sql and down.sql read them. */
export async function applyRunSettings(db: postgres.ReservedSql, o: RunnerSettings, runId: string, batchId: string, batchLimit = o.batchSize): Promise<void> {
  await db.unsafe(
    `SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', '0', true),
            set_config('rehearse.run_id', $2, true), set_config('rehearse.batch_id', $3, true),
            set_config('rehearse.batch_limit', $4, true), set_config('rehearse.include_deleted', $5, true),
            set_config('work_mem', coalesce($6, current_setting('work_mem')), true)`,
    [`${o.lockTimeoutMs}ms`, runId, batchId, String(batchLimit), o.includeDeleted ? 'on' : 'off', o.workMemMb ? `${o.workMemMb}MB` : null],
  );
}

interface Connection {
  db: postgres.ReservedSql;
  pid: number;
}

class PhaseRunner {
  readonly statements: StatementTiming[] = [];
  readonly retries: RetryRecord[] = [];
  readonly locks = new Set<string>();
  committedBatches = 0;

  constructor(
    private readonly opts: PhaseOptions,
    private readonly conn: Connection,
    private readonly phase: PhaseName,
  ) {}

  private emit(event: RunnerEvent) {
    this.opts.onEvent?.(event);
  }

  private async exec(statement: string, phase: StatementTiming['phase'], batch: number): Promise<number> {
    const start = performance.now();
    const result = (await cancellable(this.conn.db.unsafe(statement), this.opts.signal)) as unknown as { count: number | null };
    const timing: StatementTiming = { phase, batch, label: statementLabel(statement), ms: Math.round((performance.now() - start) * 10) / 10, rows: result.count ?? 0 };
    this.statements.push(timing);
    this.emit({ type: 'statement', ...timing });
    return timing.rows;
  }

  /** BEGIN, the run's settings (transaction-local), the statements, the hooks, COMMIT. Returns the last statement's row count. */
  private async transaction(statements: string[], phase: StatementTiming['phase'], batch: number, batchId: string): Promise<number> {
    const { db } = this.conn;
    const o = this.opts;
    await db.unsafe('BEGIN');
    try {
      await applyRunSettings(db, o, o.runId, batchId);
      let rows = 0;
      for (let k = 0; k < statements.length; k++) {
        rows = await this.exec(statements[k]!, phase, batch);
        if (phase === 'up' && o.hooks?.failInBatch === batch && k === 0) {
          await db.unsafe(`DO $$ BEGIN RAISE EXCEPTION 'rehearse: failure injected mid-migration (batch ${batch}, after statement 1 of ${statements.length}, before COMMIT)'; END $$`);
        }
      }
      if (phase === this.phase && o.hooks?.beforeCommit) await o.hooks.beforeCommit(batch);
      if (phase === this.phase) await this.noteLocks();
      await db.unsafe('COMMIT');
      return rows;
    } catch (error) {
      await db.unsafe('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** The table locks this transaction holds: every one it took, since they last until COMMIT. */
  private async noteLocks(): Promise<void> {
    const rows = (await this.conn.db.unsafe(
      `SELECT l.relation::regclass::text || ': ' || l.mode AS lock FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
       WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relkind IN ('r', 'p', 'm') AND c.relnamespace <> 'pg_catalog'::regnamespace`,
    )) as unknown as Array<{ lock: string }>;
    for (const r of rows) this.locks.add(r.lock);
  }

  /** One unit of work, retried with exponential backoff (and jitter) on lock timeouts and deadlocks. */
  async withRetries(phase: RetryRecord['phase'], batch: number, work: () => Promise<number>): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        if (!RETRYABLE.has(code) || attempt > this.opts.retries || this.opts.signal?.aborted) throw error;
        const waitMs = Math.round(this.opts.retryBaseMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
        const record: RetryRecord = { phase, batch, attempt, code, waitMs };
        this.retries.push(record);
        this.emit({ type: 'retry', ...record });
        await sleep(waitMs, this.opts.signal);
      }
    }
  }

  async prelude(): Promise<number> {
    const start = performance.now();
    for (const segment of this.opts.migration.up.prelude) {
      await this.withRetries('prelude', 0, () => this.transaction(segment, 'prelude', 0, `${this.opts.runId}#prelude`));
    }
    return Math.round(performance.now() - start);
  }

  /** Batches until one changes nothing (or the single transaction when batchSize is 0). */
  async batches(firstBatch: number): Promise<{ rows: number; batches: number }> {
    const body = this.phase === 'up' ? this.opts.migration.up.body : this.opts.migration.down.body;
    let rows = 0;
    let batch = firstBatch;
    for (;;) {
      if (this.opts.signal?.aborted) throw new CancelledError();
      const start = performance.now();
      const n = await this.withRetries(this.phase, batch, () => this.transaction(body, this.phase, batch, `${this.opts.runId}#${batch}`));
      this.committedBatches++;
      rows += n;
      this.emit({ type: 'batch', phase: this.phase, batch, rows: n, ms: Math.round(performance.now() - start), totalRows: rows });
      batch++;
      if (this.opts.batchSize === 0 || n === 0) break;
    }
    return { rows, batches: batch - firstBatch };
  }
}

async function reserve(sql: postgres.Sql): Promise<Connection> {
  const db = await sql.reserve();
  const [row] = (await db.unsafe('SELECT pg_backend_pid() AS pid')) as unknown as Array<{ pid: number }>;
  return { db, pid: row!.pid };
}

/** Ids of the rows a run touched, from the log (for cache invalidation). */
async function runUserIds(sql: postgres.Sql, m: MigrationFolder, runId: string, candidates: string[]): Promise<Set<string>> {
  if (!candidates.length) return new Set();
  const rows = (await sql.unsafe(`SELECT DISTINCT user_id FROM ${logTable(m)} WHERE starts_with(batch_id, $1) AND user_id = ANY($2::text[])`, [`${runId}#`, candidates])) as unknown as Array<{ user_id: string }>;
  return new Set(rows.map((r) => r.user_id));
}

const PG_HINTS: Record<string, string> = {
  '55P03': 'Rows stayed locked longer than migration.lockTimeoutMs through every retry: use a smaller --batch-size, raise migration.lockTimeoutMs or migration.retries, or run when the app is quiet.',
  '40P01': 'Deadlocks kept happening: use a smaller --batch-size so each batch holds fewer row locks.',
};

/** Row count and checksum of each table a phase writes (the target and the log), keyed by name. */
async function affectedSums(db: postgres.ReservedSql, m: MigrationFolder): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of [targetTable(m), logTable(m)]) {
    const [row] = (await db.unsafe(`SELECT count(*)::text || ' rows, checksum ' || coalesce(sum(hashtextextended(x::text, 0)::numeric), 0)::text AS s FROM ${table} x`)) as unknown as Array<{ s: string }>;
    out[table] = row!.s;
  }
  return out;
}

/** What a failed run left, from a checksum taken before it and one taken now: never assumed. */
async function stateAfterFailure(db: postgres.ReservedSql, m: MigrationFolder, before: Record<string, string> | Error, compensated: { committedBatches: number; reversedRows: number } | undefined): Promise<string> {
  const how = compensated ? `The ${compensated.committedBatches} batch(es) already committed were reversed from the log (${compensated.reversedRows} rows)` : 'It ran in one transaction, which was rolled back';
  const undo = '`rehearse data restore --yes` brings back the backup taken before this step.';
  let after: Record<string, string>;
  try {
    if (before instanceof Error) throw before;
    after = await affectedSums(db, m);
  } catch (error) {
    return `${how}, but whether the data is as it was could not be checked (${(error as Error).message}); ${undo}`;
  }
  // A compensated run leaves its log rows behind, marked reversed: only the target must be equal.
  const compared = compensated ? [targetTable(m)] : Object.keys(before);
  const differing = compared.filter((t) => before[t] !== after[t]);
  if (differing.length) return `${how}, but the data is NOT as it was: ${differing.map((t) => `${t} had ${before[t]}, now ${after[t]}`).join('; ')}. ${undo}`;
  return `${how}; checked: ${compared.join(' and ')} hold the same rows and checksum as before this run, so the data is as it was.`;
}

/**
 * Runs up.sql (prelude segments, then batches, then a catch-up) or down.sql for one run id.
 * On failure or cancel after some batches committed, reverses that run from the log first.
 */
export async function runPhase(phase: PhaseName, opts: PhaseOptions): Promise<PhaseResult> {
  const m = opts.migration;
  if ([...m.up.prelude.flat(), ...m.up.body, ...m.down.body].some((s) => /^\s*--\s*@rehearse:(if|elif|else|end)\b/m.test(s))) {
    throw new Error(`${m.name} still holds @rehearse:if lines: fit it to the database with adaptMigration before running it`);
  }
  const conn = await reserve(opts.sql);
  opts.onBackend?.(conn.pid);
  const runner = new PhaseRunner(opts, conn, phase);
  const before = await affectedSums(conn.db, opts.migration).catch((error: Error) => error);
  const started = performance.now();
  let preludeMs = 0;
  try {
    if (phase === 'up') preludeMs = await runner.prelude();
    const bodyStart = performance.now();
    let { rows, batches } = await runner.batches(1);
    let caughtLate = 0;
    let leftBehind = 0;
    if (phase === 'up') {
      // Rows that became eligible after their batch's snapshot (an insert while the migration ran):
      // migrate them now, and report whatever still remains.
      for (let pass = 0; pass < 3; pass++) {
        leftBehind = await countEligible(conn.db, opts.migration, opts.includeDeleted);
        if (!leftBehind) break;
        const more = await runner.batches(batches + 1);
        batches += more.batches;
        rows += more.rows;
        caughtLate += more.rows;
      }
      if (leftBehind) leftBehind = await countEligible(conn.db, opts.migration, opts.includeDeleted);
    }
    const bodyMs = performance.now() - bodyStart;
    let redis: InvalidationResult | undefined;
    if (opts.redis) {
      // After COMMIT: an app that re-reads and re-caches meanwhile gets the new value.
      redis = await invalidateCachedKeys(opts.redis.client, opts.redis.patterns, (ids) => runUserIds(opts.sql, opts.migration, opts.runId, ids), opts.signal);
    }
    return {
      phase,
      runId: opts.runId,
      rows,
      batches,
      ms: Math.round(performance.now() - started),
      rowsPerSecond: bodyMs > 0 ? Math.round((rows / bodyMs) * 1000) : 0,
      preludeMs,
      caughtLate,
      leftBehind,
      retries: runner.retries,
      statements: runner.statements,
      backendPid: conn.pid,
      locksHeld: [...runner.locks].sort(),
      ...(redis ? { redis } : {}),
    };
  } catch (error) {
    const cancelled = opts.signal?.aborted || isAbortError(error);
    let compensated: { committedBatches: number; reversedRows: number } | undefined;
    // The prelude's own commits (a widened constraint, an enum value) are schema, kept on purpose.
    if (phase === 'up' && runner.committedBatches > 0) {
      opts.onEvent?.({ type: 'compensate', runId: opts.runId, committedBatches: runner.committedBatches });
      // On the same connection, and deaf to the abort signal: this must finish.
      const undo = await new PhaseRunner({ ...opts, signal: undefined, hooks: undefined }, conn, 'down').batches(1);
      if (opts.redis) await invalidateCachedKeys(opts.redis.client, opts.redis.patterns, (ids) => runUserIds(opts.sql, opts.migration, opts.runId, ids));
      compensated = { committedBatches: runner.committedBatches, reversedRows: undo.rows };
    }
    const state = await stateAfterFailure(conn.db, opts.migration, before, compensated);
    if (cancelled) throw new CancelledError(state);
    if (error instanceof UserError) throw error;
    const code = (error as { code?: string }).code;
    throw new MigrationRunError(`${phase}.sql of ${opts.migration.name} failed: ${(error as Error).message}. ${state}`, {
      cause: error,
      ...(compensated ? { compensated } : {}),
      tryThis: (code && PG_HINTS[code]) ?? copyHint(opts.migration, `fix ${phase}.sql`),
    });
  } finally {
    conn.db.release();
  }
}

/** Runs verify.sql for a run: each statement returns rows of (name, ok, detail). */
export async function runVerify(sql: postgres.Sql, m: MigrationFolder, runId: string, includeDeleted: boolean): Promise<Array<PassFailCheck & { ms: number }>> {
  const out: Array<PassFailCheck & { ms: number }> = [];
  await sql.begin(async (tx) => {
    await tx.unsafe(`SELECT set_config('rehearse.run_id', $1, true), set_config('rehearse.include_deleted', $2, true), set_config('rehearse.batch_limit', '0', true), set_config('rehearse.batch_id', '', true)`, [runId, includeDeleted ? 'on' : 'off']);
    for (const statement of m.verify.statements) {
      const start = performance.now();
      const rows = (await tx.unsafe(statement)) as unknown as Array<{ name?: string; ok?: boolean; detail?: string }>;
      const ms = Math.round(performance.now() - start);
      for (const r of rows) {
        if (typeof r.name !== 'string' || typeof r.ok !== 'boolean') {
          throw new UserError(`verify.sql of ${m.name}: every statement must return columns name (text), ok (boolean), detail (text).`, { details: statementLabel(statement), tryThis: copyHint(m, 'fix verify.sql') });
        }
        out.push({ name: r.name, ok: r.ok, detail: String(r.detail ?? ''), ms });
      }
    }
    // Read-only by intent: never let a verify statement keep a change.
    throw Object.assign(new Error('rollback verify'), { rehearseRollback: true });
  }).catch((error) => {
    if (!(error as { rehearseRollback?: boolean }).rehearseRollback) throw error;
  });
  return out;
}
