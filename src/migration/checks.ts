// The measurements the harness compares before and after: whole-table and per-column checksums,
// row counts, the value histogram, foreign-key orphans and unvalidated constraints.
import type postgres from 'postgres';
import { type DbShape } from '../subset/introspect.js';
import type { MigrationFolder } from './folder.js';
import { eligibleCondition, logTable, targetTable } from './runner.js';
import { quoteIdent, sqlString } from '../db/sql-text.js';

export interface TableSum {
  rows: number;
  /** Order-independent: two 64-bit row hashes (different seeds) summed, so no sort of the table is needed. */
  sum: string;
}

export type Sums = Record<string, TableSum>;

const SUM_EXPR = (row: string) =>
  `count(*)::bigint::text AS rows, coalesce(sum(hashtextextended(${row}, 0)::numeric), 0)::text || ':' || coalesce(sum(hashtextextended(${row}, 1)::numeric), 0)::text AS sum`;

async function sumOf(sql: postgres.Sql, from: string, row: string, where = 'true'): Promise<TableSum> {
  const [r] = (await sql.unsafe(`SELECT ${SUM_EXPR(row)} FROM ${from} WHERE ${where}`)) as unknown as Array<{ rows: string; sum: string }>;
  return { rows: Number(r!.rows), sum: r!.sum };
}

/**
 * Checksums of every table of `shape`: over all columns, or, for the tables named in `skipColumns`,
 * over every column but those (the columns a migration may change).
 */
export async function tableChecksums(sql: postgres.Sql, shape: DbShape, skipColumns: Record<string, string[]> = {}): Promise<Sums> {
  const entries = await Promise.all(
    [...shape.tables].map(async ([key, t]): Promise<[string, TableSum]> => {
      const skip = skipColumns[key];
      const row = skip ? rowOf(t.columns.map((c) => c.name).filter((c) => !skip.includes(c))) : 'x::text';
      return [key, await sumOf(sql, `${t.qualified} x`, row)];
    }),
  );
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

const rowOf = (columns: string[]) => (columns.length ? `ROW(${columns.map((c) => `x.${quoteIdent(c)}`).join(', ')})::text` : `''`);

/** Tables whose row count or checksum differ; [] when equal. */
export function diffSums(before: Sums, after: Sums): Array<{ table: string; before?: TableSum; after?: TableSum }> {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((k) => before[k]?.rows !== after[k]?.rows || before[k]?.sum !== after[k]?.sum)
    .map((k) => ({ table: k, ...(before[k] ? { before: before[k] } : {}), ...(after[k] ? { after: after[k] } : {}) }));
}

export async function histogram(sql: postgres.Sql, m: MigrationFolder): Promise<Record<string, number>> {
  const col = quoteIdent(m.meta.change.column);
  const rows = (await sql.unsafe(`SELECT coalesce(${col}::text, 'NULL') AS value, count(*)::int AS n FROM ${targetTable(m)} GROUP BY 1 ORDER BY 1`)) as unknown as Array<{ value: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.value, r.n]));
}

/** (id, changed column) over the rows that were not eligible before the run. */
export async function ineligibleRowsSum(sql: postgres.Sql, m: MigrationFolder, includeDeleted: boolean): Promise<TableSum> {
  const id = quoteIdent(m.meta.target.idColumn);
  const col = quoteIdent(m.meta.change.column);
  return sumOf(sql, `${targetTable(m)} x`, `ROW(x.${id}, x.${col})::text`, `NOT coalesce(${eligibleCondition(m, includeDeleted)}, false)`);
}

/** The same over the rows the run did not log: equal to the above iff no other row changed. */
export async function unloggedRowsSum(sql: postgres.Sql, m: MigrationFolder, runId: string): Promise<TableSum> {
  const id = quoteIdent(m.meta.target.idColumn);
  const col = quoteIdent(m.meta.change.column);
  const where = `NOT EXISTS (SELECT 1 FROM ${logTable(m)} l WHERE l.user_id = x.${id}::text AND starts_with(l.batch_id, ${sqlString(`${runId}#`)}))`;
  return sumOf(sql, `${targetTable(m)} x`, `ROW(x.${id}, x.${col})::text`, where);
}

export interface LogCounts {
  rows: number;
  distinctUsers: number;
  byStatus: Record<string, number>;
}

export async function logCounts(sql: postgres.Sql, m: MigrationFolder, runId: string): Promise<LogCounts> {
  const rows = (await sql.unsafe(`SELECT migration_status AS status, count(*)::int AS n, count(DISTINCT user_id)::int AS users FROM ${logTable(m)} WHERE starts_with(batch_id, $1) GROUP BY 1`, [`${runId}#`])) as unknown as Array<{ status: string; n: number; users: number }>;
  const [d] = (await sql.unsafe(`SELECT count(DISTINCT user_id)::int AS n FROM ${logTable(m)} WHERE starts_with(batch_id, $1)`, [`${runId}#`])) as unknown as Array<{ n: number }>;
  return { rows: rows.reduce((s, r) => s + r.n, 0), distinctUsers: d!.n, byStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])) };
}

/** Rows of every foreign key whose parent is missing (checked by query, independently of the constraints). */
export async function orphanCounts(sql: postgres.Sql, shape: DbShape): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const fk of shape.foreignKeys) {
    const child = shape.tables.get(fk.child);
    const parent = shape.tables.get(fk.parent);
    if (!child || !parent) continue;
    const notNull = fk.childColumns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
    const match = fk.childColumns.map((c, i) => `p.${quoteIdent(fk.parentColumns[i]!)} = c.${quoteIdent(c)}`).join(' AND ');
    const [row] = (await sql.unsafe(`SELECT count(*)::int AS n FROM ${child.qualified} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${parent.qualified} p WHERE ${match})`)) as unknown as Array<{ n: number }>;
    out[`${fk.child}.${fk.name}`] = row!.n;
  }
  return out;
}

export async function unvalidatedConstraints(sql: postgres.Sql, schemas: string[]): Promise<string[]> {
  const rows = (await sql.unsafe(
    `SELECT conrelid::regclass::text || '.' || conname AS name FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE NOT k.convalidated AND n.nspname = ANY($1) ORDER BY 1`,
    [schemas],
  )) as unknown as Array<{ name: string }>;
  return rows.map((r) => r.name);
}

export interface ColumnType {
  type: string;
  kind: 'enum' | 'text';
  /** Enum labels in order. */
  values?: string[];
  /** CHECK constraints that read the column. */
  checks: string[];
}

/** The changed column's type: an enum (with its labels) or a plain type, with the CHECKs on it; undefined when missing. */
export async function describeChangeColumn(sql: postgres.Sql, m: MigrationFolder): Promise<ColumnType | undefined> {
  const [info] = (await sql.unsafe(
    `SELECT format_type(a.atttypid, a.atttypmod) AS type, ty.typtype = 'e' AS is_enum,
            CASE WHEN ty.typtype = 'e' THEN array(SELECT enumlabel::text FROM pg_enum WHERE enumtypid = ty.oid ORDER BY enumsortorder) END AS values,
            array(SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k WHERE k.conrelid = a.attrelid AND k.contype = 'c' AND a.attnum = ANY(k.conkey)) AS checks
     FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped`,
    [targetTable(m), m.meta.change.column],
  )) as unknown as Array<{ type: string; is_enum: boolean; values: string[] | null; checks: string[] }>;
  if (!info) return undefined;
  return info.is_enum ? { type: info.type, kind: 'enum', values: info.values ?? [], checks: info.checks } : { type: info.type, kind: 'text', checks: info.checks };
}
