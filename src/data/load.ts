// Loads a planned subset into staging in ONE staging transaction: (re)create the app schemas from
// production's dump (extensions first, in their schemas), drop the foreign keys and the non-unique
// indexes, switch the app's own triggers off, empty the app tables, stream every table (readers on
// production's snapshot, several tables at once → anonymizer → staging COPY, one table at a time),
// switch the triggers back to their own state, build the indexes, re-create the foreign keys (which
// re-validates them), reset sequences and refresh materialized views. Any failure rolls the whole
// transaction back. One abort (Ctrl-C) cancels the running statement and ends the streams.
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';
import { createCopyTransform, createRowAnonymizer, createTransformers, encodeCopyField, type AnonymizeRules, type ColumnStats, type Transformers } from '../anonymize/index.js';
import type { ColumnTypes } from './guards.js';
import { UserError } from '../errors.js';
import { cancelBackend, type ReadOnlyTx } from '../db/production.js';
import { introspect, type DbShape } from '../subset/introspect.js';
import { selectionPredicates, rowKeyColumns, type SubsetPlan } from '../subset/planner.js';
import { prepareSchemaSql, type ProductionSchemaFacts } from './schema-copy.js';
import { quoteIdent, sqlString as literal } from '../db/sql-text.js';

export interface TableLoad {
  table: string;
  rows: number;
  bytes: number;
  ms: number;
  anonymizeMs: number;
}

export interface LoadResult {
  tables: TableLoad[];
  columns: Record<string, ColumnStats>;
  ms: number;
  anonymizeMs: number;
  peakBufferedChars: number;
  materializedViewsRefreshed: string[];
}

export interface LoadOptions {
  schemas: string[];
  /** The production schema dump to apply, or undefined when the app's migrations made the schema. */
  schemaSql?: string;
  /** What the dump of the app schemas does not carry (extensions, roles named by policies, sequence positions). */
  facts?: ProductionSchemaFacts;
  rules: AnonymizeRules;
  secret: string;
  /** The run's transformers (made with `secret` and production's PII dictionary); default: plain ones. */
  transformers?: Transformers;
  /** Types under domains and length limits, so pseudonyms fit their columns. */
  columnTypes?: ColumnTypes;
  signal?: AbortSignal;
  /**
   * Transactions on the production snapshot that read the tables, several at once (one table per
   * reader); default: the snapshot's own transaction alone.
   */
  readers?: ReadOnlyTx[];
  onTable?: (progress: { table: string; index: number; total: number; rows: number; rowsPerSecond: number; done: boolean }) => void;
  /** For tests: throw after loading this table (proves the rollback). */
  failAfterTable?: string;
}

/** A row (or statement) staging refused, described by the error's fields only: never a value. */
export class StagingRejectedError extends Error {
  constructor(
    message: string,
    readonly fields: { table?: string; column?: string; constraint?: string; code?: string; line?: number },
  ) {
    super(message);
    this.name = 'StagingRejectedError';
  }
}

const copyColumns = (shape: DbShape, table: string) => shape.tables.get(table)!.columns.filter((c) => !c.generated);

export async function loadSubset(staging: postgres.Sql, production: ReadOnlyTx, prodShape: DbShape, plan: SubsetPlan, opts: LoadOptions): Promise<LoadResult> {
  const reads = readTables(opts.readers?.length ? opts.readers : [production], prodShape, plan, opts.signal);
  try {
    return await writeTables(staging, reads, prodShape, plan, opts);
  } finally {
    // On failure a reader may still wait on production: not awaited; the caller ends the readers'
    // transactions (their error, if any, already reached the writer through its table's stream).
    reads.stop(new Error('the load ended'));
  }
}

async function writeTables(staging: postgres.Sql, reads: TableReads, prodShape: DbShape, plan: SubsetPlan, opts: LoadOptions): Promise<LoadResult> {
  const started = performance.now();
  const transformers = opts.transformers ?? createTransformers(opts.secret);
  const tables: TableLoad[] = [];
  const columns: Record<string, ColumnStats> = {};
  let anonymizeMs = 0;
  let peakBufferedChars = 0;
  let materializedViewsRefreshed: string[] = [];
  opts.signal?.throwIfAborted();

  let stagingPid: number | undefined;
  // The load's statement is cancelled from the pool's other connection: its error ends the
  // transaction (rolled back) however long the statement would have run.
  const onAbort = () => void (stagingPid !== undefined && cancelBackend(staging, stagingPid));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let current: { table: string; column?: string } | undefined;
  try {
    await staging.begin(async (tx) => {
      [{ pid: stagingPid }] = (await tx`SELECT pg_backend_pid() AS pid`) as unknown as [{ pid: number }];
      await tx.unsafe(`SET LOCAL lock_timeout = '15s'`);
      if (opts.schemaSql !== undefined) await applySchema(tx, opts.schemas, opts.schemaSql, opts.facts);
      opts.signal?.throwIfAborted();
      const stagingShape = await introspect(tx, opts.schemas);
      for (const table of plan.loadOrder) {
        const missing = copyColumns(prodShape, table).filter((c) => !stagingShape.tables.get(table)?.columns.some((s) => s.name === c.name));
        if (!stagingShape.tables.has(table) || missing.length) {
          throw new UserError(`Staging has no ${stagingShape.tables.has(table) ? `column(s) ${missing.map((c) => c.name).join(', ')} in` : 'table'} "${table}" that production has.`, {
            tryThis: 'Run the app\'s migrations in staging first, or set data.schemaSource to "production" to copy production\'s schema.',
          });
        }
      }
      // Foreign keys go while rows arrive (in any order, cycles included) and come back at the end,
      // where re-adding them validates every reference in one pass.
      for (const fk of stagingShape.foreignKeys) await tx.unsafe(`ALTER TABLE ${stagingShape.tables.get(fk.child)!.qualified} DROP CONSTRAINT ${quoteIdent(fk.name)}`);
      // The app's triggers must not change (or add) rows while production's rows arrive.
      const triggers = await userTriggers(tx, opts.schemas);
      for (const t of triggers) await tx.unsafe(`ALTER TABLE ${t.tbl} DISABLE TRIGGER ${quoteIdent(t.name)}`);
      const appTables = [...stagingShape.tables.values()].map((t) => t.qualified);
      if (appTables.length) await tx.unsafe(`TRUNCATE ${appTables.join(', ')}`);
      // Secondary indexes are built once the rows are in, as pg_restore does: one sort per index
      // instead of an insert per row.
      const deferred = await deferrableIndexes(tx, opts.schemas);
      for (const ix of deferred) await tx.unsafe(`DROP INDEX ${ix.name}`);

      for (const [index, table] of plan.loadOrder.entries()) {
        opts.signal?.throwIfAborted();
        current = { table };
        const t = prodShape.tables.get(table)!;
        const cols = copyColumns(prodShape, table);
        const colList = cols.map((c) => quoteIdent(c.name)).join(', ');
        const types = opts.columnTypes?.get(table);
        const anonymizer = createRowAnonymizer(table, cols.map((c) => ({ ...c, ...types?.get(c.name) })), opts.rules, opts.secret, {
          transformers,
          uniqueKeys: t.primaryKey.length ? [...t.uniqueKeys, t.primaryKey] : t.uniqueKeys,
        });
        const tableStarted = performance.now();
        let rows = 0;
        let bytes = 0;
        const source = reads.tables.get(table)!;
        if (source.batches) {
          const target = await copyIn(tx, `COPY ${t.qualified} (${colList}) FROM STDIN`);
          const transform = createCopyTransform(anonymizer, {
            onProgress: (n) => {
              const seconds = (performance.now() - tableStarted) / 1000;
              opts.onTable?.({ table, index, total: plan.loadOrder.length, rows: rows + n, rowsPerSecond: seconds > 0 ? (rows + n) / seconds : 0, done: false });
            },
          });
          // The table's reader (already under way) into the one staging COPY. The pipeline's signal
          // destroys the streams on abort, wherever backpressure holds them.
          await pipeline(
            source.chunks(),
            transform,
            target,
            ...((opts.signal ? [{ signal: opts.signal }] : []) as []),
          );
          rows = transform.stats.rows;
          bytes = transform.stats.bytesOut;
          anonymizeMs += transform.stats.timeMs;
          peakBufferedChars = Math.max(peakBufferedChars, transform.stats.peakBufferedChars);
          for (const [column, s] of Object.entries(anonymizer.stats.columns)) columns[`${table}.${column}`] = s;
          tables.push({ table, rows, bytes, ms: Math.round(performance.now() - tableStarted), anonymizeMs: Math.round(transform.stats.timeMs) });
        } else {
          tables.push({ table, rows: 0, bytes: 0, ms: 0, anonymizeMs: 0 });
        }
        const seconds = (performance.now() - tableStarted) / 1000;
        opts.onTable?.({ table, index, total: plan.loadOrder.length, rows, rowsPerSecond: seconds > 0 ? rows / seconds : 0, done: true });
        if (opts.failAfterTable === table) throw new Error(`injected failure after loading ${table}`);
      }
      current = undefined;

      for (const t of triggers) await tx.unsafe(`ALTER TABLE ${t.tbl} ${ENABLE[t.enabled] ?? 'ENABLE'} TRIGGER ${quoteIdent(t.name)}`);
      // Staging's container is memory-limited (resources.postgres.memoryMb): room for a sort, not a spike.
      if (deferred.length) await tx.unsafe(`SET LOCAL maintenance_work_mem = '128MB'`);
      for (const ix of deferred) {
        opts.signal?.throwIfAborted();
        await tx.unsafe(ix.definition);
      }
      for (const fk of stagingShape.foreignKeys) {
        opts.signal?.throwIfAborted();
        current = { table: fk.child };
        await tx.unsafe(`ALTER TABLE ${stagingShape.tables.get(fk.child)!.qualified} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition}`);
      }
      current = undefined;
      await resetSequences(tx, opts.schemas, opts.facts?.sequences ?? []);
      materializedViewsRefreshed = await refreshMaterializedViews(tx, opts.schemas, opts.facts?.unpopulatedViews ?? []);
    });
  } catch (error) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? error;
    const described = describeStagingError(error, current);
    // A CHECK names no column: staging's catalog says which columns the constraint reads.
    if (described instanceof StagingRejectedError && described.fields.constraint && !described.fields.column && described.fields.table) {
      const columns = await constraintColumns(staging, opts.schemas, described.fields.table, described.fields.constraint).catch(() => []);
      if (columns.length) throw describeStagingError(error, current, columns.join(', '));
    }
    throw described;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return { tables, columns, ms: Math.round(performance.now() - started), anonymizeMs: Math.round(anonymizeMs), peakBufferedChars, materializedViewsRefreshed };
}

/** Keys per production query when reading a table (bound as array parameters). */
const READ_KEYS = 200_000;
/** Rows per round trip of a reader's cursor. */
const READ_ROWS = 2000;
/** Batches of rows a reader may hold ahead of the writer for one table: what bounds memory. */
const READ_AHEAD = 8;

/** One table's rows as COPY text, handed from its reader to the writer with backpressure both ways. */
class ChunkQueue {
  private readonly items: Buffer[] = [];
  private ended = false;
  private error: Error | undefined;
  private dataReady: (() => void) | undefined;
  private spaceFree: (() => void) | undefined;

  async push(chunk: Buffer): Promise<void> {
    while (this.items.length >= READ_AHEAD && !this.error) await new Promise<void>((resolve) => (this.spaceFree = resolve));
    if (this.error) throw this.error;
    this.items.push(chunk);
    this.dataReady?.();
  }

  end(): void {
    this.ended = true;
    this.dataReady?.();
  }

  fail(error: Error): void {
    this.error ??= error;
    this.dataReady?.();
    this.spaceFree?.();
  }

  async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.error) throw this.error;
      const chunk = this.items.shift();
      if (chunk) {
        this.spaceFree?.();
        yield chunk;
      } else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.dataReady = resolve));
    }
  }
}

interface TableReads {
  /** Per table: how many key batches it has (0: nothing to read) and its rows, in order. */
  tables: Map<string, { batches: number; chunks: () => AsyncGenerator<Buffer> }>;
  /** Ends every reader and fails every table's stream with `error`. */
  stop(error: Error): void;
  /** Settles when every reader has stopped; rejects with the first reader's error. */
  done: Promise<void>;
}

/**
 * Reads the planned rows of every table, as pg_dump -j does: each reader is a transaction on the
 * same exported snapshot and takes the next table in load order, so several tables are read at
 * once while the writer copies them into staging one after the other. A table's rows come from
 * `SELECT … WHERE key = ANY($1) ORDER BY key` (array parameters; COPY TO takes none) through a
 * cursor, turned into COPY text for the anonymizer. Any reader's failure stops them all.
 */
function readTables(readers: ReadOnlyTx[], shape: DbShape, plan: SubsetPlan, signal: AbortSignal | undefined): TableReads {
  const jobs = plan.loadOrder.map((table) => ({ table, matches: selectionPredicates(shape, plan, table, READ_KEYS), queue: new ChunkQueue() }));
  let next = 0;
  let stopped: Error | undefined;
  const stop = (error: Error) => {
    stopped ??= error;
    for (const job of jobs) job.queue.fail(stopped);
  };
  const onAbort = () => stop(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  const read = async (tx: ReadOnlyTx) => {
    while (!stopped && next < jobs.length) {
      const job = jobs[next++]!;
      try {
        const t = shape.tables.get(job.table)!;
        const cols = copyColumns(shape, job.table).map((c) => quoteIdent(c.name)).join(', ');
        // Primary-key order: the anonymizer's collision suffixes depend on row order, so reruns agree.
        const orderBy = t.primaryKey.length ? ` ORDER BY ${rowKeyColumns(t).map(quoteIdent).join(', ')}` : '';
        for (const m of job.matches) {
          const cursor = tx.unsafe(`SELECT ${cols} FROM ${t.qualified} WHERE ${m.where}${orderBy}`, m.params).raw().cursor(READ_ROWS);
          for await (const rows of cursor) await job.queue.push(copyText(rows as unknown as Array<Array<Buffer | null>>));
        }
        job.queue.end();
      } catch (error) {
        stop(error as Error);
        throw error;
      }
    }
  };
  const done = Promise.all(readers.map(read)).then(
    () => signal?.removeEventListener('abort', onAbort),
    (error) => {
      signal?.removeEventListener('abort', onAbort);
      throw error;
    },
  );
  done.catch(() => undefined);
  return { tables: new Map(jobs.map((j) => [j.table, { batches: j.matches.length, chunks: () => j.queue.chunks() }])), stop, done };
}

/** Rows of text-format values (what COPY TO would print for them) as COPY text lines. */
function copyText(rows: Array<Array<Buffer | null>>): Buffer {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      out += (i ? '\t' : '') + encodeCopyField(v === null || v === undefined ? null : v.toString('utf8'));
    }
    out += '\n';
  }
  return Buffer.from(out, 'utf8');
}

/**
 * `COPY … FROM STDIN` as a Writable that fails with the server's error. postgres.js resolves the
 * COPY query with the stream, so an error the server sends later (a rejected row) rejects a promise
 * that has already settled: nobody hears it, and when the last chunk was already written the
 * stream's final() waits for a CommandComplete that never comes. That was the hang. Here the error
 * destroys the stream, which fails the pipeline at once.
 */
async function copyIn(tx: postgres.TransactionSql, statement: string): Promise<Writable> {
  const query = tx.unsafe(statement) as unknown as { reject: (error: Error) => void; writable: () => Promise<Writable> };
  let stream: Writable | undefined;
  const reject = query.reject;
  query.reject = (error) => {
    stream?.destroy(error);
    reject(error);
  };
  stream = await query.writable();
  return stream;
}

/** Everything staging said, minus any value: only the error's fields and its message up to a quoted value. */
export function describeStagingError(error: unknown, where?: { table: string }, constraintColumns?: string): Error {
  if (error instanceof UserError) return error;
  const e = error as { name?: string; code?: string; severity?: string; message?: string; detail?: string; where?: string; table_name?: string; column_name?: string; constraint_name?: string; schema_name?: string };
  if (e?.name !== 'PostgresError' || !e.severity) return error as Error;
  // A COPY's context reads `COPY users, line 3, column email: "<value>"`: keep table, line and column.
  const copyContext = /^COPY ([^,]+), line (\d+)(?:, column ([^:\n]+))?/.exec(e.where ?? '');
  // A unique violation's detail reads `Key (email)=(<value>) already exists.`: keep the columns.
  const keyColumns = /^Key \((.+?)\)=\(/.exec(e.detail ?? '')?.[1];
  const table = e.table_name ?? copyContext?.[1] ?? where?.table;
  const column = e.column_name ?? copyContext?.[3] ?? keyColumns ?? constraintColumns;
  const line = copyContext ? Number(copyContext[2]) : undefined;
  const message = (e.message ?? '').replace(/:\s*".*$/s, '').replace(/\s*Failing row contains.*$/s, '');
  const parts = [
    table && `table "${table}"${line ? ` (row ${line} of its COPY)` : ''}`,
    column && `column "${column}"`,
    e.constraint_name && `constraint "${e.constraint_name}"`,
  ].filter(Boolean);
  return new StagingRejectedError(`staging refused ${parts.length ? parts.join(', ') : 'a statement'}: ${message} (SQLSTATE ${e.code})`, {
    ...(table ? { table } : {}),
    ...(column ? { column } : {}),
    ...(e.constraint_name ? { constraint: e.constraint_name } : {}),
    ...(e.code ? { code: e.code } : {}),
    ...(line ? { line } : {}),
  });
}

/** Drops and re-creates the app schemas from production's dump: extensions (and roles policies name) first. */
async function applySchema(tx: postgres.TransactionSql, schemas: string[], schemaSql: string, facts: ProductionSchemaFacts | undefined): Promise<void> {
  for (const schema of schemas) await tx.unsafe(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  // The schemas are made here, not by the dump (prepareSchemaSql took its CREATE SCHEMA lines out),
  // so extensions can go into them before the tables that use their types and functions.
  for (const schema of schemas) await tx.unsafe(`CREATE SCHEMA ${quoteIdent(schema)}`);
  for (const ext of facts?.extensions ?? []) {
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(ext.schema)}`);
    await tx.unsafe(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(ext.name)} WITH SCHEMA ${quoteIdent(ext.schema)}`);
  }
  // Policies name roles (TO app_reader); a role staging lacks is made, without login, in this transaction.
  for (const role of facts?.roles ?? []) {
    await tx.unsafe(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(role)}) THEN CREATE ROLE ${quoteIdent(role)} NOLOGIN; END IF; END $$`);
  }
  await tx.unsafe(prepareSchemaSql(schemaSql, schemas));
  // pg_dump empties search_path for its own safety; give the session back its default.
  await tx.unsafe(`SET LOCAL search_path = "$user", public`);
}

async function constraintColumns(staging: postgres.Sql, schemas: string[], table: string, constraint: string): Promise<string[]> {
  const rows = (await staging`
    SELECT a.attname AS name FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)
    WHERE k.conname = ${constraint} AND c.relname = ${table} AND n.nspname = ANY(${schemas}) ORDER BY a.attnum`) as unknown as Array<{ name: string }>;
  return rows.map((r) => r.name);
}

const ENABLE: Record<string, string> = { O: 'ENABLE', A: 'ENABLE ALWAYS', R: 'ENABLE REPLICA' };

/** The app's own enabled triggers (not the ones PostgreSQL makes for constraints), with their state. */
/**
 * Non-unique plain indexes of the app's tables (no constraint owns them, no partition hierarchy, no CLUSTER mark):
 * safe to drop and re-create from their definitions within the load's transaction. Unique ones stay,
 * so a duplicate is refused on its row, named as such.
 */
async function deferrableIndexes(tx: postgres.TransactionSql, schemas: string[]) {
  return (await tx.unsafe(
    `SELECT format('%I.%I', n.nspname, i.relname) AS name, pg_get_indexdef(x.indexrelid) AS definition
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = i.relnamespace
     WHERE n.nspname = ANY($1::text[]) AND c.relkind = 'r' AND NOT c.relispartition AND NOT i.relispartition
       AND NOT x.indisunique AND NOT x.indisclustered AND x.indisvalid AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
     ORDER BY x.indexrelid`,
    [schemas],
  )) as unknown as Array<{ name: string; definition: string }>;
}

async function userTriggers(tx: postgres.TransactionSql, schemas: string[]) {
  return (await tx.unsafe(
    `SELECT format('%I.%I', n.nspname, c.relname) AS tbl, t.tgname AS name, t.tgenabled AS enabled
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p')
     ORDER BY c.relispartition, c.oid, t.tgname`,
    [schemas],
  )) as unknown as Array<{ tbl: string; name: string; enabled: string }>;
}

/** Sequences owned by an app column continue after the highest loaded value; the others take production's position. */
async function resetSequences(tx: postgres.TransactionSql, schemas: string[], production: ProductionSchemaFacts['sequences']): Promise<void> {
  const owned = (await tx.unsafe(
    `SELECT format('%I.%I', sn.nspname, s.relname) AS seq, format('%I.%I', tn.nspname, t.relname) AS tbl, quote_ident(a.attname) AS col
     FROM pg_depend d
     JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
     JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND tn.nspname = ANY($1::text[])`,
    [schemas],
  )) as unknown as Array<{ seq: string; tbl: string; col: string }>;
  for (const o of owned) {
    await tx.unsafe(`SELECT setval('${o.seq.replace(/'/g, "''")}', coalesce((SELECT max(${o.col}) FROM ${o.tbl}), 1), (SELECT max(${o.col}) FROM ${o.tbl}) IS NOT NULL)`);
  }
  const ownedNames = new Set(owned.map((o) => o.seq));
  for (const s of production) {
    if (ownedNames.has(s.seq) || s.lastValue === null) continue;
    await tx.unsafe(`SELECT setval(${literal(s.seq)}, ${literal(s.lastValue)}::bigint, true)`);
  }
}

/** Refreshes, in creation order, every materialized view production has populated; returns their names. */
async function refreshMaterializedViews(tx: postgres.TransactionSql, schemas: string[], unpopulated: string[]): Promise<string[]> {
  const views = (await tx.unsafe(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'm' AND n.nspname = ANY($1::text[]) ORDER BY c.oid`,
    [schemas],
  )) as unknown as Array<{ name: string }>;
  const refreshed: string[] = [];
  for (const v of views) {
    if (unpopulated.includes(v.name)) continue;
    await tx.unsafe(`REFRESH MATERIALIZED VIEW ${v.name}`);
    refreshed.push(v.name);
  }
  return refreshed;
}
