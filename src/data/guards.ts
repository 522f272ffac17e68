// The data step's safety checks, all before anything is written: which production to read, that it
// is not staging itself, and that every column that looks like PII has an anonymization rule.
import { existsSync } from 'node:fs';
import type postgres from 'postgres';
import { checkCoverage, configSnippet, detectPii, type AnonymizeRules, type PiiProposal } from '../anonymize/index.js';
import type { Config } from '../config.js';
import { demoConnectionUrl, demoDisplayUrl, demoPaths } from '../demo/demo-db.js';
import { requireEnv } from '../env-file.js';
import { UserError } from '../errors.js';
import { workPaths } from '../paths.js';
import { describeUrl, type ReadOnlyTx } from '../production.js';
import { quoteIdent, type DbShape } from '../subset/introspect.js';

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

/** Samples every text-like column of production and proposes rules; returns the PII columns with no rule. */
export async function uncoveredPii(production: ReadOnlyTx, shape: DbShape, rules: AnonymizeRules, sampleRows = 50): Promise<{ proposals: PiiProposal[]; uncovered: PiiProposal[] }> {
  const samples = [];
  for (const [key, t] of shape.tables) {
    const cols = t.columns.filter((c) => !['int2', 'int4', 'int8', 'bool', 'numeric', 'float4', 'float8', 'uuid', 'timestamp', 'timestamptz', 'bytea'].includes(c.udtName));
    let rows: Array<Record<string, unknown>> = [];
    if (cols.length) {
      // TABLESAMPLE would be cheaper but returns nothing on small tables; the limit keeps this bounded.
      rows = (await production.unsafe(`SELECT ${cols.map((c) => `${quoteIdent(c.name)}::text AS ${quoteIdent(c.name)}`).join(', ')} FROM ${t.qualified} LIMIT ${sampleRows}`)) as unknown as Array<Record<string, unknown>>;
    }
    for (const c of t.columns) samples.push({ table: key, column: c.name, dataType: c.dataType, udtName: c.udtName, samples: rows.map((r) => r[c.name]).filter((v) => v !== null && v !== undefined) });
  }
  const proposals = detectPii(samples);
  return { proposals, uncovered: checkCoverage(proposals, rules) };
}

export function strictModeError(uncovered: PiiProposal[]): UserError {
  const list = uncovered.map((p) => `${p.table}.${p.column} (looks like ${p.rule}: ${p.detail})`).join('\n');
  return new UserError(`${uncovered.length} production column(s) look like PII and have no anonymization rule; nothing was written.`, {
    details: `${list}\n\nAdd rules to rehearse.config.json (or mark a column "keep"):\n${configSnippet(uncovered)}`,
    tryThis: 'Paste the snippet above into rehearse.config.json, adjust the rules, and run `rehearse data` again.',
  });
}

/** The key of the anonymizer's deterministic pseudonyms, kept in .env.staging. */
export function anonymizerSecret(config: Config): string {
  const secret = requireEnv(workPaths(config).envFile).ANONYMIZER_SECRET;
  if (!secret) throw new UserError('.env.staging has no ANONYMIZER_SECRET.', { tryThis: 'Run `rehearse setup` once more: it adds missing secrets and keeps existing ones.' });
  return secret;
}
