// Checks after a load, all against the real databases: row counts equal the plan, no orphan on
// any foreign key, every constraint validated, no production PII value in staging (leak scan),
// and test users available per role.
import type postgres from 'postgres';
import { ruleNameOf, type AnonymizeRules, findRule } from '../anonymize/index.js';
import type { ReadOnlyTx } from '../production.js';
import { introspect, quoteIdent, type DbShape } from '../subset/introspect.js';
import { tupleMatch, type SeedOptions, type SubsetPlan } from '../subset/planner.js';
import { arrayLiteral, sqlString } from '../subset/sql-literals.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  data?: unknown;
}

const BATCH = 2000;
const SEP = '\u0001';
const WHOLE_VALUE_RULES = new Set(['email', 'name', 'firstName', 'lastName', 'phone', 'ip', 'token', 'secret', 'dateOfBirth', 'city', 'postalCode', 'url']);
const HIGH_ENTROPY_RULES = new Set(['email', 'token', 'secret', 'url']);

export async function verifyLoad(staging: postgres.Sql, production: ReadOnlyTx, prodShape: DbShape, plan: SubsetPlan, opts: { schemas: string[]; rules: AnonymizeRules; seed: SeedOptions; stagingEmailDomain: string }): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const shape = await introspect(staging, opts.schemas);

  // 1. Row counts.
  const counts: Record<string, { planned: number; staging: number }> = {};
  for (const t of plan.tables) {
    const [row] = (await staging.unsafe(`SELECT count(*)::int AS n FROM ${shape.tables.get(t.table)!.qualified}`)) as unknown as Array<{ n: number }>;
    counts[t.table] = { planned: t.rows, staging: row!.n };
  }
  const wrong = Object.entries(counts).filter(([, c]) => c.planned !== c.staging);
  results.push({ name: 'row counts equal the plan', ok: wrong.length === 0, detail: wrong.length ? wrong.map(([t, c]) => `${t}: planned ${c.planned}, staging ${c.staging}`).join('; ') : `${plan.totalRows} rows in ${plan.tables.length} tables`, data: counts });

  // 2. Orphans on every foreign key (checked by query, independently of the constraints).
  const orphans: Record<string, number> = {};
  for (const fk of shape.foreignKeys) {
    const child = shape.tables.get(fk.child)!;
    const parent = shape.tables.get(fk.parent)!;
    const notNull = fk.childColumns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
    const match = fk.childColumns.map((c, i) => `p.${quoteIdent(fk.parentColumns[i]!)} = c.${quoteIdent(c)}`).join(' AND ');
    const [row] = (await staging.unsafe(`SELECT count(*)::int AS n FROM ${child.qualified} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${parent.qualified} p WHERE ${match})`)) as unknown as Array<{ n: number }>;
    orphans[`${fk.child}.${fk.name}`] = row!.n;
  }
  const orphaned = Object.entries(orphans).filter(([, n]) => n > 0);
  results.push({ name: 'zero orphans on every foreign key', ok: orphaned.length === 0, detail: orphaned.length ? orphaned.map(([k, n]) => `${k}: ${n}`).join('; ') : `${shape.foreignKeys.length} foreign keys checked`, data: orphans });

  // 3. Constraints validated.
  const invalid = (await staging.unsafe(
    `SELECT conrelid::regclass::text AS tbl, conname FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE NOT k.convalidated AND n.nspname = ANY($1)`,
    [opts.schemas],
  )) as unknown as Array<{ tbl: string; conname: string }>;
  results.push({ name: 'every constraint is validated', ok: invalid.length === 0, detail: invalid.length ? invalid.map((c) => `${c.tbl}.${c.conname}`).join(', ') : 'all valid' });

  // 4a. Leak scan by value, for every column whose rule replaces the whole value:
  //  - row by row: no staging row kept its own production value (every such column, every table with a key);
  //  - across rows: for high-entropy identifiers (e-mails, tokens, URLs), no staging value exists
  //    anywhere in that production column. Dates, names or fake phone numbers can coincide with
  //    someone else's by chance, so for those only the row-by-row check is meaningful.
  // Rules that rewrite only parts of a value (free text, JSON, addresses, user agents) are left to 4b.
  const leaks: Record<string, number> = {};
  let scanned = 0;
  for (const t of prodShape.tables.values()) {
    const key = t.schema === 'public' ? t.name : `${t.schema}.${t.name}`;
    const pk = t.primaryKey;
    for (const col of t.columns) {
      const rule = findRule(opts.rules, key, col.name);
      if (!rule || !WHOLE_VALUE_RULES.has(ruleNameOf(rule))) continue;
      const c = quoteIdent(col.name);
      let hits = 0;
      if (pk.length) {
        // Streamed from staging a batch at a time; production is looked up by its typed key, so by index.
        const keySelect = pk.map((k, i) => `${quoteIdent(k)}::text AS k${i}`).join(', ');
        const keyOf = (r: Record<string, string | null>) => pk.map((_, i) => r[`k${i}`]);
        for await (const rows of staging.unsafe(`SELECT ${keySelect}, ${c}::text AS v FROM ${t.qualified} WHERE ${c} IS NOT NULL`).cursor(BATCH)) {
          scanned += rows.length;
          const prod = await production.unsafe(`SELECT ${keySelect}, ${c}::text AS v FROM ${t.qualified} WHERE ${tupleMatch(t, pk, rows.map(keyOf))}`);
          const original = new Map(prod.map((r) => [keyOf(r).join(SEP), r.v]));
          hits += rows.filter((r) => original.get(keyOf(r).join(SEP)) === r.v).length;
        }
      }
      if (HIGH_ENTROPY_RULES.has(ruleNameOf(rule))) {
        for await (const rows of staging.unsafe(`SELECT DISTINCT ${c}::text AS v FROM ${t.qualified} WHERE ${c} IS NOT NULL`).cursor(BATCH)) {
          if (!pk.length) scanned += rows.length;
          const [row] = (await production.unsafe(`SELECT count(*)::int AS n FROM ${t.qualified} WHERE ${c}::text = ANY(${sqlString(arrayLiteral(rows.map((r) => r.v as string)))}::text[])`)) as unknown as Array<{ n: number }>;
          hits += row!.n;
        }
      }
      if (hits) leaks[`${key}.${col.name}`] = hits;
    }
  }
  // 4b. No production e-mail address anywhere in any text, JSON or array column of staging.
  const foreign = new Set<string>();
  for (const t of shape.tables.values()) {
    const textual = t.columns.filter((c) => ['text', 'character varying', 'json', 'jsonb', 'ARRAY', 'citext'].includes(c.dataType) || ['text', 'varchar', 'json', 'jsonb', 'citext', '_text', '_varchar'].includes(c.udtName));
    for (const col of textual) {
      // Staging's own addresses are filtered out in SQL: there is one per user, and only the others matter.
      const rows = (await staging.unsafe(
        `SELECT DISTINCT lower(m[1]) AS email FROM ${t.qualified}, regexp_matches(${quoteIdent(col.name)}::text, '([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,})', 'g') AS m
         WHERE right(lower(m[1]), length($1)) <> $1`,
        [`@${opts.stagingEmailDomain.toLowerCase()}`],
      )) as unknown as Array<{ email: string }>;
      for (const r of rows) foreign.add(r.email);
    }
  }
  let productionEmails = 0;
  if (foreign.size) {
    // Any non-staging address found is looked up in production, in every column that holds e-mails.
    const list = [...foreign];
    for (const t of prodShape.tables.values()) {
      for (const col of t.columns.filter((c) => ['text', 'varchar', 'citext', 'jsonb', 'json', '_text'].includes(c.udtName))) {
        for (let i = 0; i < list.length; i += BATCH) {
          const [row] = (await production.unsafe(`SELECT count(*)::int AS n FROM ${t.qualified} WHERE lower(${quoteIdent(col.name)}::text) LIKE ANY (SELECT '%' || e || '%' FROM unnest(${sqlString(arrayLiteral(list.slice(i, i + BATCH)))}::text[]) e)`)) as unknown as Array<{ n: number }>;
          productionEmails += row!.n;
        }
      }
    }
  }
  const leakCount = Object.values(leaks).reduce((s, n) => s + n, 0) + productionEmails;
  results.push({
    name: 'leak scan: no production PII value in staging',
    ok: leakCount === 0,
    detail: leakCount
      ? `${Object.entries(leaks).map(([k, v]) => `${k} (${v})`).join(', ')}${productionEmails ? `; ${productionEmails} production e-mail match(es) in free text` : ''}`
      : `${scanned} replaced values checked against production (row by row; e-mails, tokens and URLs across all rows); ${foreign.size} non-staging e-mail-like strings, none from production`,
    data: { leaks, nonStagingEmails: foreign.size, productionEmailMatches: productionEmails },
  });

  // 5. Test users per role.
  const seedTable = shape.tables.get(opts.seed.table)!;
  const active = opts.seed.deletedAtColumn ? `${quoteIdent(opts.seed.deletedAtColumn)} IS NULL` : 'true';
  const roles = (await staging.unsafe(`SELECT ${quoteIdent(opts.seed.roleColumn)}::text AS role, count(*)::int AS n, count(*) FILTER (WHERE ${active})::int AS active FROM ${seedTable.qualified} GROUP BY 1 ORDER BY 1`)) as unknown as Array<{ role: string; n: number; active: number }>;
  const byRole = Object.fromEntries(roles.map((r) => [r.role, r.n]));
  const missingRoles = Object.keys(plan.usersByRole).filter((r) => !byRole[r]);
  const learners = roles.find((r) => r.role === opts.seed.learnerRole)?.active ?? 0;
  const enoughLearners = learners >= Math.min(opts.seed.minLearners, plan.seedUsers.filter((u) => u.role === opts.seed.learnerRole && !u.deleted).length);
  results.push({
    name: 'test users available for every role',
    ok: missingRoles.length === 0 && enoughLearners,
    detail: `${roles.map((r) => `${r.role} ${r.n}`).join(', ')}; ${learners} active ${opts.seed.learnerRole} to migrate${missingRoles.length ? `; missing: ${missingRoles.join(', ')}` : ''}`,
    data: { byRole, activeLearners: learners },
  });
  return results;
}

