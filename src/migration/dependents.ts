// Database objects whose definition mentions the value a migration retires ('LEARNER'): column
// defaults, CHECK constraints, views, functions, triggers, partial and expression indexes, row-level
// security policies and rules. After the migration they silently match nothing, so each one is listed.
import type postgres from 'postgres';
import { sqlString } from '../db/sql-text.js';

export interface DependentObject {
  kind: 'column default' | 'check constraint' | 'view' | 'materialized view' | 'function' | 'trigger' | 'index' | 'policy' | 'rule';
  name: string;
  /** The definition, shortened around the mention. */
  excerpt: string;
  /** The catalog also records that it depends on the changed column (views, indexes, constraints, policies). */
  dependsOnColumn: boolean;
}

/** Finds every object in `schemas` whose definition contains the quoted literal `'<value>'`. */
export async function findDependentObjects(sql: postgres.Sql, schemas: string[], value: string, column: { schema: string; table: string; column: string }): Promise<DependentObject[]> {
  const needle = sqlString(value);
  const rows = (await sql.unsafe(
    `WITH col AS (
       SELECT a.attrelid, a.attnum FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $3::text AND c.relname = $4::text AND a.attname = $5::text
     ), defs AS (
       SELECT 'column default' AS kind, format('%s.%I', d.adrelid::regclass, a.attname) AS name, pg_get_expr(d.adbin, d.adrelid) AS def,
              'pg_attrdef'::regclass AS classid, d.oid AS objid
       FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
       JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[])
       UNION ALL
       SELECT 'check constraint', format('%s.%I', k.conrelid::regclass, k.conname), pg_get_constraintdef(k.oid), 'pg_constraint'::regclass, k.oid
       FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE k.contype = 'c' AND n.nspname = ANY($1::text[])
       UNION ALL
       SELECT CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END, c.oid::regclass::text, pg_get_viewdef(c.oid), 'pg_class'::regclass, c.oid
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY($1::text[])
       UNION ALL
       SELECT 'function', p.oid::regprocedure::text, p.prosrc, 'pg_proc'::regclass, p.oid
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1::text[])
       UNION ALL
       SELECT 'trigger', format('%I on %s', t.tgname, t.tgrelid::regclass), pg_get_triggerdef(t.oid), 'pg_trigger'::regclass, t.oid
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = ANY($1::text[])
       UNION ALL
       SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), 'pg_class'::regclass, i.indexrelid
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE (i.indpred IS NOT NULL OR i.indexprs IS NOT NULL) AND n.nspname = ANY($1::text[])
       UNION ALL
       SELECT 'policy', format('%I on %s', p.polname, p.polrelid::regclass),
              concat_ws(' ', 'USING', pg_get_expr(p.polqual, p.polrelid), 'WITH CHECK', pg_get_expr(p.polwithcheck, p.polrelid)), 'pg_policy'::regclass, p.oid
       FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[])
       UNION ALL
       SELECT 'rule', format('%I on %s', r.rulename, r.ev_class::regclass), pg_get_ruledef(r.oid), 'pg_rewrite'::regclass, r.oid
       FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE r.rulename <> '_RETURN' AND n.nspname = ANY($1::text[])
     )
     SELECT d.kind, d.name, d.def,
            EXISTS (
              SELECT 1 FROM pg_depend dep, col
              WHERE dep.refobjid = col.attrelid AND dep.refobjsubid = col.attnum
                AND ((dep.classid = d.classid AND dep.objid = d.objid)
                     -- a view depends on its column through its _RETURN rule
                     OR (d.kind IN ('view', 'materialized view') AND dep.classid = 'pg_rewrite'::regclass
                         AND dep.objid IN (SELECT oid FROM pg_rewrite WHERE ev_class = d.objid)))
            ) AS "dependsOnColumn"
     FROM defs d WHERE strpos(d.def, $2::text) > 0
     ORDER BY 1, 2`,
    [schemas, needle, column.schema, column.table, column.column],
  )) as unknown as Array<{ kind: DependentObject['kind']; name: string; def: string; dependsOnColumn: boolean }>;
  return rows.map((r) => ({ kind: r.kind, name: r.name, excerpt: excerpt(r.def, needle), dependsOnColumn: r.dependsOnColumn }));
}

function excerpt(def: string, needle: string, radius = 60): string {
  const flat = def.replace(/\s+/g, ' ').trim();
  const at = flat.indexOf(needle);
  if (flat.length <= radius * 2 + needle.length) return flat;
  const from = Math.max(0, at - radius);
  const to = Math.min(flat.length, at + needle.length + radius);
  return `${from > 0 ? '…' : ''}${flat.slice(from, to)}${to < flat.length ? '…' : ''}`;
}

/**
 * Objects the catalog records as depending on the column and whose definition mentions the value:
 * the scan above must have found every one of them (the cross-check of the edge-case test).
 */
export async function catalogDependents(sql: postgres.Sql, value: string, column: { schema: string; table: string; column: string }): Promise<string[]> {
  const needle = sqlString(value);
  const rows = (await sql.unsafe(
    `SELECT DISTINCT CASE
         WHEN dep.classid = 'pg_rewrite'::regclass THEN (SELECT ev_class::regclass::text FROM pg_rewrite WHERE oid = dep.objid)
         WHEN dep.classid = 'pg_class'::regclass THEN dep.objid::regclass::text
         WHEN dep.classid = 'pg_constraint'::regclass THEN (SELECT format('%s.%I', conrelid::regclass, conname) FROM pg_constraint WHERE oid = dep.objid)
         WHEN dep.classid = 'pg_policy'::regclass THEN (SELECT format('%I on %s', polname, polrelid::regclass) FROM pg_policy WHERE oid = dep.objid)
         WHEN dep.classid = 'pg_trigger'::regclass THEN (SELECT format('%I on %s', tgname, tgrelid::regclass) FROM pg_trigger WHERE oid = dep.objid)
       END AS name,
       CASE
         WHEN dep.classid = 'pg_rewrite'::regclass THEN (SELECT pg_get_viewdef(ev_class) FROM pg_rewrite WHERE oid = dep.objid AND rulename = '_RETURN')
         WHEN dep.classid = 'pg_class'::regclass THEN pg_get_indexdef(dep.objid)
         WHEN dep.classid = 'pg_constraint'::regclass THEN pg_get_constraintdef(dep.objid)
         WHEN dep.classid = 'pg_policy'::regclass THEN (SELECT concat_ws(' ', pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)) FROM pg_policy WHERE oid = dep.objid)
         WHEN dep.classid = 'pg_trigger'::regclass THEN pg_get_triggerdef(dep.objid)
       END AS def
     FROM pg_depend dep
     JOIN pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1::text AND c.relname = $2::text AND a.attname = $3::text AND dep.deptype IN ('n', 'a')`,
    [column.schema, column.table, column.column],
  )) as unknown as Array<{ name: string | null; def: string | null }>;
  return rows.filter((r) => r.name && r.def && r.def.includes(needle)).map((r) => r.name!).sort();
}
