// Reads the shape of a database from the catalog: tables, columns, keys and the foreign-key graph
// (composite keys, self-references and cycles included). Read-only; works on production and staging.
import type postgres from 'postgres';
import { quoteIdent } from '../db/sql-text.js';

export interface ColumnInfo {
  name: string;
  /** information_schema data_type, e.g. 'text', 'jsonb', 'ARRAY', 'USER-DEFINED'. */
  dataType: string;
  /** pg type name, e.g. 'text', '_text', 'UserRole', 'int4'. */
  udtName: string;
  /** SQL type as written, e.g. 'text[]', '"UserRole"', 'numeric(10,2)'. */
  sqlType: string;
  nullable: boolean;
  /** GENERATED ALWAYS AS (…) STORED: computed by staging, never copied. */
  generated: boolean;
}

export interface TableInfo {
  schema: string;
  name: string;
  /** schema-qualified, quoted: "public"."users". */
  qualified: string;
  columns: ColumnInfo[];
  primaryKey: string[];
  uniqueKeys: string[][];
  estimatedRows: number;
}

export type OnDelete = 'cascade' | 'restrict' | 'no action' | 'set null' | 'set default';

export interface ForeignKey {
  name: string;
  child: string;
  childColumns: string[];
  parent: string;
  parentColumns: string[];
  onDelete: OnDelete;
  /** ALTER TABLE … ADD CONSTRAINT body, to re-create it after a bulk load. */
  definition: string;
}

export interface DbShape {
  tables: Map<string, TableInfo>;
  foreignKeys: ForeignKey[];
}

export const tableKey = (schema: string, name: string) => (schema === 'public' ? name : `${schema}.${name}`);

const ON_DELETE: Record<string, OnDelete> = { c: 'cascade', r: 'restrict', a: 'no action', n: 'set null', d: 'set default' };

export async function introspect(sql: postgres.Sql | postgres.TransactionSql, schemas: string[]): Promise<DbShape> {
  const tableRows = await sql<{ schema: string; name: string; oid: number; estimate: number }[]>`
    SELECT n.nspname AS schema, c.relname AS name, c.oid::int AS oid, greatest(c.reltuples, 0)::bigint::int AS estimate
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(${schemas}) AND NOT c.relispartition
    ORDER BY 1, 2`;
  const columnRows = await sql<{ schema: string; table: string; name: string; dataType: string; udtName: string; sqlType: string; nullable: boolean; generated: boolean }[]>`
    SELECT n.nspname AS schema, c.relname AS table, a.attname AS name,
           CASE WHEN t.typcategory = 'A' THEN 'ARRAY' WHEN t.typtype = 'e' THEN 'USER-DEFINED' ELSE format_type(a.atttypid, NULL) END AS "dataType",
           t.typname AS "udtName", format_type(a.atttypid, a.atttypmod) AS "sqlType", NOT a.attnotnull AS nullable, a.attgenerated <> '' AS generated
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND n.nspname = ANY(${schemas})
    ORDER BY n.nspname, c.relname, a.attnum`;
  const keyRows = await sql<{ schema: string; table: string; type: string; columns: string[] }[]>`
    SELECT n.nspname AS schema, c.relname AS table, k.contype AS type,
           array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.ord)::text[] AS columns
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE k.contype IN ('p', 'u') AND n.nspname = ANY(${schemas})
    UNION ALL
    SELECT n.nspname, c.relname, 'u', array(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(attnum, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum ORDER BY u.ord)::text[]
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE i.indisunique AND NOT i.indisprimary AND i.indpred IS NULL AND i.indexprs IS NULL AND n.nspname = ANY(${schemas})
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`;
  const fkRows = await sql<{ name: string; childSchema: string; child: string; childColumns: string[]; parentSchema: string; parent: string; parentColumns: string[]; onDelete: string; definition: string }[]>`
    SELECT k.conname AS name, cn.nspname AS "childSchema", c.relname AS child,
           array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.ord)::text[] AS "childColumns",
           pn.nspname AS "parentSchema", p.relname AS parent,
           array(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(attnum, ord) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum ORDER BY u.ord)::text[] AS "parentColumns",
           k.confdeltype AS "onDelete", pg_get_constraintdef(k.oid) AS definition
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
    JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
    -- A foreign key of (or to) a partitioned table has a clone per partition: the original stands for them all.
    WHERE k.contype = 'f' AND k.conparentid = 0 AND cn.nspname = ANY(${schemas})
    ORDER BY cn.nspname, c.relname, k.conname`;

  const tables = new Map<string, TableInfo>();
  for (const t of tableRows) {
    tables.set(tableKey(t.schema, t.name), {
      schema: t.schema,
      name: t.name,
      qualified: `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`,
      columns: [],
      primaryKey: [],
      uniqueKeys: [],
      estimatedRows: t.estimate,
    });
  }
  for (const c of columnRows) tables.get(tableKey(c.schema, c.table))?.columns.push({ name: c.name, dataType: c.dataType, udtName: c.udtName, sqlType: c.sqlType, nullable: c.nullable, generated: c.generated });
  for (const k of keyRows) {
    const t = tables.get(tableKey(k.schema, k.table));
    if (!t) continue;
    if (k.type === 'p') t.primaryKey = k.columns;
    else t.uniqueKeys.push(k.columns);
  }
  const foreignKeys: ForeignKey[] = fkRows.map((f) => ({
    name: f.name,
    child: tableKey(f.childSchema, f.child),
    childColumns: f.childColumns,
    parent: tableKey(f.parentSchema, f.parent),
    parentColumns: f.parentColumns,
    onDelete: ON_DELETE[f.onDelete] ?? 'no action',
    definition: f.definition,
  }));
  return { tables, foreignKeys };
}

/** Tables ordered parents-first (ignoring self-references); tables in a cycle keep a stable order. */
export function loadOrder(shape: DbShape): string[] {
  const names = [...shape.tables.keys()].sort();
  const parents = new Map(names.map((n) => [n, new Set<string>()]));
  for (const fk of shape.foreignKeys) if (fk.child !== fk.parent && parents.has(fk.child) && shape.tables.has(fk.parent)) parents.get(fk.child)!.add(fk.parent);
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < names.length) {
    const ready = names.filter((n) => !done.has(n) && [...parents.get(n)!].every((p) => done.has(p)));
    // A cycle: take the first remaining table; its constraints are re-created after the load anyway.
    const next = ready.length ? ready : [names.find((n) => !done.has(n))!];
    for (const n of next) {
      done.add(n);
      order.push(n);
    }
  }
  return order;
}
