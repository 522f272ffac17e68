// Checks after a load, all against the real databases: row counts equal the plan, no orphan on
// any foreign key, every constraint validated, no production PII value in staging (leak scan),
// and test users available per role.
import type postgres from 'postgres';
import type { AnonymizeRules, PiiProposal } from '../anonymize/index.js';
import type { ReadOnlyTx } from '../db/production.js';
import { introspect, type DbShape } from '../subset/introspect.js';
import type { SeedOptions, SubsetPlan } from '../subset/planner.js';
import { detectorProposals, type ColumnTypes } from './guards.js';
import { describeLeaks, scanForLeaks, type ColumnScanned, type PreparedDictionary } from './leak-scan.js';
import { KIND_WORDS, type PiiKind } from './pii-dictionary.js';
import { quoteIdent } from '../db/sql-text.js';
import type { PassFailCheck as CheckResult } from '../evidence/check.js';

export async function verifyLoad(
  staging: postgres.Sql,
  production: ReadOnlyTx,
  prodShape: DbShape,
  plan: SubsetPlan,
  opts: {
    schemas: string[];
    rules: AnonymizeRules;
    seed: SeedOptions;
    stagingEmailDomain: string;
    proposals?: PiiProposal[];
    columnTypes?: ColumnTypes;
    /** Production's dictionary read earlier in the run (with the anonymizer's); else read here. */
    dictionary?: PreparedDictionary;
    signal?: AbortSignal;
    onColumn?: (c: ColumnScanned) => void;
  },
): Promise<CheckResult[]> {
  const shape = await introspect(staging, opts.schemas);
  // The leak scan holds its own staging session (its dictionary is a temporary table there), so the
  // structural checks run beside it on another connection: the server uses two cores.
  const [structural, leak] = await Promise.all([structuralChecks(staging, shape, plan, opts), leakCheck(staging, production, prodShape, opts)]);
  return [...structural.slice(0, 3), leak, ...structural.slice(3)];
}

const union = (parts: string[]) => parts.join('\nUNION ALL ');

/** Row counts, orphans, constraints and users per role: each one statement over every table or key. */
async function structuralChecks(staging: postgres.Sql, shape: DbShape, plan: SubsetPlan, opts: { schemas: string[]; seed: SeedOptions }): Promise<CheckResult[]> {
  const results: CheckResult[] = [];

  // 1. Row counts.
  const counted = plan.tables.length
    ? ((await staging.unsafe(union(plan.tables.map((t, i) => `SELECT ${i} AS i, count(*)::int AS n FROM ${shape.tables.get(t.table)!.qualified}`)))) as unknown as Array<{ i: number; n: number }>)
    : [];
  const counts: Record<string, { planned: number; staging: number }> = {};
  for (const [i, t] of plan.tables.entries()) counts[t.table] = { planned: t.rows, staging: counted.find((r) => r.i === i)!.n };
  const wrong = Object.entries(counts).filter(([, c]) => c.planned !== c.staging);
  results.push({ name: 'row counts equal the plan', ok: wrong.length === 0, detail: wrong.length ? wrong.map(([t, c]) => `${t}: planned ${c.planned}, staging ${c.staging}`).join('; ') : `${plan.totalRows} rows in ${plan.tables.length} tables`, data: counts });

  // 2. Orphans on every foreign key (checked by query, independently of the constraints): one anti-join each.
  const antiJoins = shape.foreignKeys.map((fk, i) => {
    const child = shape.tables.get(fk.child)!;
    const parent = shape.tables.get(fk.parent)!;
    const notNull = fk.childColumns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
    const match = fk.childColumns.map((c, j) => `p.${quoteIdent(fk.parentColumns[j]!)} = c.${quoteIdent(c)}`).join(' AND ');
    return `SELECT ${i} AS i, count(*)::int AS n FROM ${child.qualified} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${parent.qualified} p WHERE ${match})`;
  });
  const orphanRows = antiJoins.length ? ((await staging.unsafe(union(antiJoins))) as unknown as Array<{ i: number; n: number }>) : [];
  const orphans: Record<string, number> = {};
  for (const [i, fk] of shape.foreignKeys.entries()) orphans[`${fk.child}.${fk.name}`] = orphanRows.find((r) => r.i === i)!.n;
  const orphaned = Object.entries(orphans).filter(([, n]) => n > 0);
  results.push({ name: 'zero orphans on every foreign key', ok: orphaned.length === 0, detail: orphaned.length ? orphaned.map(([k, n]) => `${k}: ${n}`).join('; ') : `${shape.foreignKeys.length} foreign keys checked`, data: orphans });

  // 3. Constraints validated.
  const invalid = (await staging.unsafe(
    `SELECT conrelid::regclass::text AS tbl, conname FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE NOT k.convalidated AND n.nspname = ANY($1)`,
    [opts.schemas],
  )) as unknown as Array<{ tbl: string; conname: string }>;
  results.push({ name: 'every constraint is validated', ok: invalid.length === 0, detail: invalid.length ? invalid.map((c) => `${c.tbl}.${c.conname}`).join(', ') : 'all valid' });

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

/** 4. Leak scan: production's PII dictionary (whole production) against every text-like staging column. */
async function leakCheck(
  staging: postgres.Sql,
  production: ReadOnlyTx,
  prodShape: DbShape,
  opts: Parameters<typeof verifyLoad>[4],
): Promise<CheckResult> {
  const proposals = opts.dictionary ? [] : (opts.proposals ?? (await detectorProposals(production, prodShape, opts.columnTypes ?? new Map())));
  const scan = await scanForLeaks(staging, production, prodShape, {
    schemas: opts.schemas,
    rules: opts.rules,
    proposals,
    stagingEmailDomain: opts.stagingEmailDomain,
    ...(opts.dictionary ? { dictionary: opts.dictionary } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onColumn ? { onColumn: opts.onColumn } : {}),
  });
  const d = scan.dictionary;
  const capped = d.capped ? `; dictionary capped at ${d.capped.limit.toLocaleString('en-US')} entries, so ${d.capped.columnsNotFullyRead.join(', ')} were not read to the end` : '';
  return {
    name: 'leak scan: no production PII value in staging',
    ok: scan.total === 0,
    detail: scan.total
      ? `${scan.total} row(s) hold production PII: ${describeLeaks(scan)}${capped}`
      : `${scan.columnsScanned} text columns searched for ${d.entries.toLocaleString('en-US')} hashed values from ${d.columns} production PII columns (${Object.entries(d.byKind).map(([k, n]) => `${n} ${KIND_WORDS[k as PiiKind]}`).join(', ')}): none found${capped}`,
    data: scan,
  };
}
