// Loads a planned subset into staging in ONE staging transaction: (re)create the app schema from
// production's dump, drop the foreign keys, empty the app tables, stream every table with COPY
// (production → anonymizer → staging), re-create the foreign keys (which re-validates them), and
// reset sequences. Any failure rolls the whole transaction back: staging is exactly as before.
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';
import { createCopyTransform, createRowAnonymizer, createTransformers, type AnonymizeRules, type ColumnStats, type Transformers } from '../anonymize/index.js';
import type { ColumnTypes } from './guards.js';
import { UserError } from '../errors.js';
import { resumeStalledSockets } from '../pg-connect.js';
import type { ReadOnlyTx } from '../production.js';
import { introspect, quoteIdent, type DbShape } from '../subset/introspect.js';
import { selectionPredicates, type SubsetPlan } from '../subset/planner.js';

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
}

export interface LoadOptions {
  schemas: string[];
  /** The production schema dump to apply, or undefined when the app's migrations made the schema. */
  schemaSql?: string;
  extensions: string[];
  rules: AnonymizeRules;
  secret: string;
  /** The run's transformers (made with `secret` and production's PII dictionary); default: plain ones. */
  transformers?: Transformers;
  /** Types under domains and length limits, so pseudonyms fit their columns. */
  columnTypes?: ColumnTypes;
  signal?: AbortSignal;
  onTable?: (progress: { table: string; index: number; total: number; rows: number; rowsPerSecond: number; done: boolean }) => void;
  /** For tests: throw after loading this table (proves the rollback). */
  failAfterTable?: string;
}

const copyColumns = (shape: DbShape, table: string) => shape.tables.get(table)!.columns.filter((c) => !c.generated);

export async function loadSubset(staging: postgres.Sql, production: ReadOnlyTx, prodShape: DbShape, plan: SubsetPlan, opts: LoadOptions): Promise<LoadResult> {
  const started = performance.now();
  const transformers = opts.transformers ?? createTransformers(opts.secret);
  const tables: TableLoad[] = [];
  const columns: Record<string, ColumnStats> = {};
  let anonymizeMs = 0;
  let peakBufferedChars = 0;

  await staging.begin(async (tx) => {
    await tx.unsafe(`SET LOCAL lock_timeout = '15s'`);
    if (opts.schemaSql !== undefined) {
      for (const schema of opts.schemas) await tx.unsafe(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      // pg_dump creates the schemas it was asked for when it names them; create the others.
      for (const schema of opts.schemas) {
        if (!new RegExp(`^CREATE SCHEMA (${quoteIdent(schema).replace(/"/g, '"?')});`, 'm').test(opts.schemaSql.replace(/"/g, ''))) await tx.unsafe(`CREATE SCHEMA ${quoteIdent(schema)}`);
      }
      for (const ext of opts.extensions) await tx.unsafe(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(ext)}`);
      await tx.unsafe(opts.schemaSql);
      // pg_dump empties search_path for its own safety; give the session back its default.
      await tx.unsafe(`SET LOCAL search_path = "$user", public`);
    }
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
    const appTables = [...stagingShape.tables.values()].map((t) => t.qualified);
    if (appTables.length) await tx.unsafe(`TRUNCATE ${appTables.join(', ')}`);

    for (const [index, table] of plan.loadOrder.entries()) {
      opts.signal?.throwIfAborted();
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
      const predicates = selectionPredicates(prodShape, plan, table);
      if (predicates.length) {
        const target = await tx.unsafe(`COPY ${t.qualified} (${colList}) FROM STDIN`).writable();
        const orderBy = t.primaryKey.length ? ` ORDER BY ${t.primaryKey.map(quoteIdent).join(', ')}` : '';
        const transform = createCopyTransform(anonymizer, {
          ...(opts.signal ? { signal: opts.signal } : {}),
          onProgress: (n) => {
            const seconds = (performance.now() - tableStarted) / 1000;
            opts.onTable?.({ table, index, total: plan.loadOrder.length, rows: rows + n, rowsPerSecond: seconds > 0 ? (rows + n) / seconds : 0, done: false });
          },
        });
        // One production COPY per batch of keys, all into the one staging COPY.
        await pipeline(
          async function* () {
            for (const where of predicates) {
              const source = await production.unsafe(`COPY (SELECT ${colList} FROM ${t.qualified} WHERE ${where}${orderBy}) TO STDOUT`).readable();
              for await (const chunk of source) yield chunk as Buffer;
              resumeStalledSockets();
            }
          },
          transform,
          target,
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

    for (const fk of stagingShape.foreignKeys) {
      await tx.unsafe(`ALTER TABLE ${stagingShape.tables.get(fk.child)!.qualified} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition}`);
    }
    await resetSequences(tx, opts.schemas);
  });
  return { tables, columns, ms: Math.round(performance.now() - started), anonymizeMs: Math.round(anonymizeMs), peakBufferedChars };
}

/** Every sequence owned by an app column continues after the highest loaded value. */
async function resetSequences(tx: postgres.TransactionSql, schemas: string[]): Promise<void> {
  const owned = (await tx.unsafe(
    `SELECT format('%I.%I', sn.nspname, s.relname) AS seq, format('%I.%I', tn.nspname, t.relname) AS tbl, quote_ident(a.attname) AS col
     FROM pg_depend d
     JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
     JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND tn.nspname = ANY($1)`,
    [schemas],
  )) as unknown as Array<{ seq: string; tbl: string; col: string }>;
  for (const o of owned) {
    await tx.unsafe(`SELECT setval('${o.seq.replace(/'/g, "''")}', coalesce((SELECT max(${o.col}) FROM ${o.tbl}), 1), (SELECT max(${o.col}) FROM ${o.tbl}) IS NOT NULL)`);
  }
}
