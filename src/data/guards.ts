// The data step's safety checks, all before anything is written: which production to read, that it
// is not staging itself, and that every column that can hold text has an anonymization decision.
import { existsSync } from 'node:fs';
import type postgres from 'postgres';
import { decideCoverage, describeUndecided, isTextLike, type CatalogColumn, type CoverageResult, type Undecided } from '../anonymize/coverage.js';
import { detectPii, type ColumnSample, type PiiProposal } from '../anonymize/detect.js';
import { findRule, type AnonymizeRule, type AnonymizeRules } from '../anonymize/rules.js';
import type { PiiDictionary } from '../anonymize/transformers.js';
import type { Config } from '../config.js';
import { demoConnectionUrl, demoDisplayUrl, demoPaths } from '../demo/demo-db.js';
import { requireEnv } from '../stack/env-file.js';
import { UserError } from '../errors.js';
import { workPaths } from '../paths.js';
import { describeUrl, type ReadOnlyTx } from '../db/production.js';
import { tableKey, type DbShape } from '../subset/introspect.js';
import { readProductionPii } from './pii-dictionary.js';
import { quoteIdent } from '../db/sql-text.js';

export interface ProductionSource {
  url: string;
  display: string;
  kind: 'configured' | 'demo';
}

export function resolveProduction(config: Config): ProductionSource {
  if (config.production.url) return { url: config.production.url, display: describeUrl(config.production.url), kind: 'configured' };
  if (!existsSync(demoPaths(config).envFile)) {
    throw new UserError('No production database is configured, and the demo production has not been created.', {
      tryThis: 'Set PRODUCTION_DATABASE_URL (or production.url), or run `rehearse demo` to try the flow on built-in data.',
    });
  }
  return { url: demoConnectionUrl(config), display: demoDisplayUrl(config), kind: 'demo' };
}

interface ServerIdentity {
  database: string;
  started: string;
  databaseOid: number;
}

const identity = async (sql: postgres.Sql | ReadOnlyTx): Promise<ServerIdentity> => {
  const [row] = await sql<ServerIdentity[]>`SELECT current_database() AS database, pg_postmaster_start_time()::text AS started, (SELECT oid::int FROM pg_database WHERE datname = current_database()) AS "databaseOid"`;
  return row!;
};

/** Refuses when staging and production are the same database on the same server, however addressed. */
export async function assertNotSameDatabase(production: ReadOnlyTx, staging: postgres.Sql, productionDisplay: string): Promise<void> {
  const [p, s] = await Promise.all([identity(production), identity(staging)]);
  if (p.database === s.database && p.started === s.started && p.databaseOid === s.databaseOid) {
    throw new UserError(`The staging database is the production database (${productionDisplay}): refusing to write anything.`, {
      tryThis: 'Point PRODUCTION_DATABASE_URL at production and let `rehearse setup` make staging; they must be different servers or databases.',
    });
  }
}

/** A column's type as the anonymizer needs it: under any domain, with its length limit. */
export interface ColumnType {
  baseUdt: string;
  maxLength?: number;
}

/** table key → column → type. Domains are resolved (to their base type, recursively). */
export type ColumnTypes = Map<string, Map<string, ColumnType>>;

export async function readColumnTypes(tx: ReadOnlyTx, schemas: string[]): Promise<ColumnTypes> {
  const types = (await tx`
    SELECT t.oid::int AS oid, t.typname AS name, t.typtype AS kind, t.typbasetype::int AS base, t.typelem::int AS elem, t.typtypmod AS typmod, t.typcategory AS category
    FROM pg_type t`) as unknown as Array<{ oid: number; name: string; kind: string; base: number; elem: number; typmod: number; category: string }>;
  const byOid = new Map(types.map((t) => [t.oid, t]));
  const resolve = (oid: number, typmod: number): { name: string; typmod: number } => {
    let t = byOid.get(oid);
    for (let depth = 0; t && t.kind === 'd' && depth < 20; depth++) {
      if (typmod < 0) typmod = t.typmod;
      t = byOid.get(t.base);
    }
    if (t && t.category === 'A' && t.elem) return { name: `_${resolve(t.elem, typmod).name}`, typmod };
    return { name: t?.name ?? 'unknown', typmod };
  };
  const cols = (await tx`
    SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, a.atttypid::int AS type, a.atttypmod AS typmod
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND n.nspname = ANY(${schemas})`) as unknown as Array<{ schema: string; table: string; column: string; type: number; typmod: number }>;
  const out: ColumnTypes = new Map();
  for (const c of cols) {
    const r = resolve(c.type, c.typmod);
    const key = tableKey(c.schema, c.table);
    if (!out.has(key)) out.set(key, new Map());
    // varchar(n) and char(n) store n + 4 in the type modifier.
    const maxLength = (r.name === 'varchar' || r.name === 'bpchar') && r.typmod > 4 ? r.typmod - 4 : undefined;
    out.get(key)!.set(c.column, { baseUdt: r.name, ...(maxLength !== undefined ? { maxLength } : {}) });
  }
  return out;
}

/** Longer values are sampled: their first and last 32 KB, cut in SQL so a 10 MB value never travels. */
const sampled = (col: string) => `CASE WHEN length(${col}::text) > 65536 THEN left(${col}::text, 32768) || E'\\n' || right(${col}::text, 32768) ELSE ${col}::text END`;

/** Columns the detector reads values of: text-like (not bytea) and IP types, by their base type. */
const detectable = (baseUdt: string) => (isTextLike(baseUdt) || /^(?:_)?(?:inet|cidr)$/.test(baseUdt)) && baseUdt.replace(/^_/, '') !== 'bytea';

/**
 * Up to `sampleRows` non-null values of each column of one table, in one query.
 * TABLESAMPLE would be cheaper but returns nothing on small tables; the limit keeps this bounded.
 */
async function sampleColumns(production: ReadOnlyTx, qualified: string, columns: string[], sampleRows: number): Promise<unknown[][]> {
  const rows = (await production.unsafe(`SELECT ${columns.map((c, i) => `${sampled(quoteIdent(c))} AS c${i}`).join(', ')} FROM ${qualified} LIMIT ${sampleRows}`)) as unknown as Array<Record<string, unknown>>;
  return columns.map((_, i) => rows.map((r) => r[`c${i}`]).filter((v) => v !== null && v !== undefined));
}

/**
 * Decides every column of production: user rules, built-in rules, key columns; samples the
 * undecided ones (and key columns, which stay automatic only while nothing personal shows in them).
 */
export async function checkAnonymizationCoverage(production: ReadOnlyTx, shape: DbShape, types: ColumnTypes, rules: { user: AnonymizeRules; builtin: AnonymizeRules }, sampleRows = 50): Promise<CoverageResult> {
  const keyColumns = new Set<string>();
  for (const [key, t] of shape.tables) for (const c of t.primaryKey) keyColumns.add(`${key}\0${c}`);
  for (const fk of shape.foreignKeys) for (const c of fk.childColumns) keyColumns.add(`${fk.child}\0${c}`);
  const columns: CatalogColumn[] = [];
  for (const [key, t] of shape.tables) {
    const tableCols = t.columns.map((c) => {
      const baseUdt = types.get(key)?.get(c.name)?.baseUdt ?? c.udtName;
      return { table: key, column: c.name, baseUdt, udtName: c.udtName, dataType: baseUdt.startsWith('_') ? 'ARRAY' : c.dataType, isKey: keyColumns.has(`${key}\0${c.name}`), samples: [] as unknown[] };
    });
    const decidedByRule = (c: CatalogColumn) => findRule(rules.user, key, c.column) !== undefined || findRule(rules.builtin, key, c.column) !== undefined;
    const toSample = tableCols.filter((c) => !decidedByRule(c) && detectable(c.baseUdt));
    if (toSample.length) {
      const samples = await sampleColumns(production, t.qualified, toSample.map((c) => c.column), sampleRows);
      toSample.forEach((c, i) => (c.samples = samples[i]!));
    }
    columns.push(...tableCols);
  }
  return decideCoverage(columns, rules);
}

/**
 * What the detector says of every text-like column of production, whatever its rule (`keep`
 * included): the leak scan reads these as sources too, because it does not trust the rules.
 */
export async function detectorProposals(production: ReadOnlyTx, shape: DbShape, types: ColumnTypes, sampleRows = 50): Promise<PiiProposal[]> {
  const samples: ColumnSample[] = [];
  for (const [key, t] of shape.tables) {
    const base = (c: (typeof t.columns)[number]) => types.get(key)?.get(c.name)?.baseUdt ?? c.udtName;
    const cols = t.columns.filter((c) => detectable(base(c)));
    if (!cols.length) continue;
    const values = await sampleColumns(production, t.qualified, cols.map((c) => c.name), sampleRows);
    cols.forEach((c, i) => samples.push({ table: key, column: c.name, dataType: c.dataType, udtName: base(c), samples: values[i]! }));
  }
  return detectPii(samples);
}

/** Rules that name tables or columns production does not have: a typo would otherwise leave the real column unruled. */
export function unknownRulesError(keys: string[]): UserError {
  return new UserError(`${keys.length} anonymization rule(s) name a table or column that production does not have; nothing was written.`, {
    details: keys.map((k) => `  ${k}`).join('\n'),
    tryThis: 'Fix the names (as the database spells them; quote names with spaces or dots: "order"."Email Address"), or remove the rules.',
  });
}

export function strictModeError(undecided: Undecided[]): UserError {
  return new UserError(`${undecided.length} production column(s) that can hold text have no anonymization decision; nothing was written.`, {
    details: describeUndecided(undecided),
    tryThis: 'Run `rehearse data rules --write`: it writes rehearse.rules.json with a proposal and the reason for each column. Review it, then run `rehearse data` again.',
  });
}

/**
 * What `scrub` and the phone and IP rules need from production: the words of every person name and
 * e-mail local part in columns ruled name/firstName/lastName/email (the whole production, not
 * only the subset: text may mention anyone), the digits of every phone number, every IP address.
 * The data step reads these together with the leak dictionary (readProductionPii), in one pass.
 */
export async function readPiiDictionary(production: ReadOnlyTx, shape: DbShape, types: ColumnTypes, rules: AnonymizeRules, wantNames: boolean): Promise<PiiDictionary> {
  return (await readProductionPii(production, shape, { anonymizer: { types, rules, wantNames } })).anonymizer;
}

/** Does any rule keep text and scrub it (so the name dictionary is needed)? */
export function usesScrub(rules: AnonymizeRules): boolean {
  return Object.values(rules).some(function has(rule: AnonymizeRule): boolean {
    if (typeof rule === 'string') return rule === 'scrub';
    if (rule.rule === 'json') return rule.others === 'scrub' || Object.values(rule.paths).some(has);
    if (rule.rule === 'textArray') return has(rule.of);
    return rule.rule === 'scrub';
  });
}

/** The key of the anonymizer's deterministic pseudonyms, kept in .env.staging. */
export function anonymizerSecret(config: Config): string {
  const secret = requireEnv(workPaths(config).envFile).ANONYMIZER_SECRET;
  if (!secret) throw new UserError('.env.staging has no ANONYMIZER_SECRET.', { tryThis: 'Run `rehearse setup` once more: it adds missing secrets and keeps existing ones.' });
  return secret;
}
