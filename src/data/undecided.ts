// The production text columns no anonymization rule decides, read in one read-only snapshot, with
// the detector's proposal and reason (`rehearse data rules`).
import type { Undecided } from '../anonymize/coverage.js';
import { builtinRules, userRules, type Config } from '../config.js';
import { openProduction, openSnapshot, translatePgError } from '../db/production.js';
import { introspect } from '../subset/introspect.js';
import { checkAnonymizationCoverage, readColumnTypes, resolveProduction, unknownRulesError } from './guards.js';

export async function undecidedColumns(config: Config): Promise<Undecided[]> {
  const production = resolveProduction(config);
  const sql = openProduction(production.url, { statementTimeoutMs: config.production.statementTimeoutMs, max: 1 });
  try {
    let snapshot;
    try {
      snapshot = await openSnapshot(sql);
    } catch (error) {
      throw translatePgError(error, production.url, 'production');
    }
    try {
      const shape = await introspect(snapshot.tx, config.data.schemas);
      const types = await readColumnTypes(snapshot.tx, config.data.schemas);
      const coverage = await checkAnonymizationCoverage(snapshot.tx, shape, types, { user: userRules(config), builtin: builtinRules(config) });
      if (coverage.unknownRules.length) throw unknownRulesError(coverage.unknownRules);
      return coverage.undecided;
    } finally {
      await snapshot.close();
    }
  } finally {
    await sql.end({ timeout: 2 });
  }
}
