// Fail-closed coverage: every column that can hold text (text, varchar, char, citext, json, jsonb,
// bytea, xml, arrays of these, and domains over any of them) needs a decision before anything is
// written: a rule (the user's or a built-in one) or an explicit "keep". The only decision taken
// automatically is "keep" for primary and foreign key columns (ids, not personal data), and only
// while the detector sees no personal data in their values. A small closed vocabulary is NOT
// taken as proof: a column of a dozen city names is exactly that; the rules file proposes "keep"
// for such columns and a person confirms it.
import { detectPii, type ColumnSample, type PiiProposal } from './detect.js';
import { findRule, parseRuleKey, ruleLabel, splitTableKey, type AnonymizeRule, type AnonymizeRules } from './rules.js';

/** Base types (under domains, element types of arrays) whose values can carry personal data as text. */
export const TEXTLIKE_TYPES = new Set(['text', 'varchar', 'bpchar', 'char', 'name', 'citext', 'json', 'jsonb', 'bytea', 'xml']);

export interface CatalogColumn {
  /** The table as the shape keys it: `users`, or `billing.invoices` outside public. */
  table: string;
  column: string;
  /** Type under any domain; an array's element type prefixed with `_` (`_text`). */
  baseUdt: string;
  /** The column's own type name (the domain's name for a domain). */
  udtName: string;
  dataType: string;
  isKey: boolean;
  /** Sampled production values (text), bounded in length by the query. Never printed. */
  samples: unknown[];
}

export type DecisionSource = 'config' | 'built-in' | 'key column';

export interface ColumnDecision {
  table: string;
  column: string;
  rule: AnonymizeRule;
  source: DecisionSource;
}

export interface Undecided {
  table: string;
  column: string;
  /** The detector's proposal, or a default when it saw nothing. */
  rule: AnonymizeRule;
  /** Why, in words; never a value. */
  reason: string;
}

export interface CoverageResult {
  decided: ColumnDecision[];
  undecided: Undecided[];
  /** User rule keys that name no table or column of production. */
  unknownRules: string[];
  /** Detector proposals for every sampled column (for the summary). */
  proposals: PiiProposal[];
}

export const isTextLike = (baseUdt: string) => TEXTLIKE_TYPES.has(baseUdt.replace(/^_/, ''));

/** The detector on the values alone (a neutral name), for key columns: an id is fine, an e-mail used as a key is not. */
function valuesLookPersonal(col: CatalogColumn): boolean {
  return detectPii([{ table: 'key', column: 'value', dataType: col.dataType, udtName: col.baseUdt, samples: col.samples }]).length > 0;
}

/** What to propose for a text column the detector found nothing in. */
function fallback(col: CatalogColumn): { rule: AnonymizeRule; reason: string } {
  const base = col.baseUdt.replace(/^_/, '');
  if (base === 'bytea') return { rule: 'null', reason: 'binary data: its contents cannot be checked, so it is emptied; use "keep" if it is known to hold nothing personal' };
  const values = col.samples.filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  if (values.length === 0) return { rule: 'null', reason: 'no sampled value to judge by: emptied until someone decides' };
  const long = values.filter((v) => v.length > 40 || /\s\S+\s/.test(v)).length;
  if (long / values.length >= 0.3) return { rule: 'freeText', reason: `${long} of ${values.length} sampled values read like prose: replaced by filler text of the same shape` };
  const distinct = new Set(values).size;
  return { rule: 'keep', reason: `no personal data seen in ${values.length} sampled values (${distinct} distinct, all short): check that it holds codes or labels, not names` };
}

export function decideCoverage(columns: CatalogColumn[], rules: { user: AnonymizeRules; builtin: AnonymizeRules }): CoverageResult {
  const proposals = detectPii(columns.map((c): ColumnSample => ({ table: c.table, column: c.column, dataType: c.dataType, udtName: c.baseUdt, samples: c.samples })));
  const proposalOf = new Map(proposals.map((p) => [`${p.table}\0${p.column}`, p]));
  const decided: ColumnDecision[] = [];
  const undecided: Undecided[] = [];
  for (const col of columns) {
    const user = findRule(rules.user, col.table, col.column);
    const builtin = user === undefined ? findRule(rules.builtin, col.table, col.column) : undefined;
    if (user !== undefined || builtin !== undefined) {
      decided.push({ table: col.table, column: col.column, rule: (user ?? builtin)!, source: user !== undefined ? 'config' : 'built-in' });
      continue;
    }
    const proposal = proposalOf.get(`${col.table}\0${col.column}`);
    if (col.isKey && !valuesLookPersonal(col)) {
      decided.push({ table: col.table, column: col.column, rule: 'keep', source: 'key column' });
      continue;
    }
    if (proposal) {
      undecided.push({ table: col.table, column: col.column, rule: proposal.rule, reason: `${proposal.detail} (confidence ${proposal.confidence})` });
    } else if (isTextLike(col.baseUdt)) {
      undecided.push({ table: col.table, column: col.column, ...fallback(col) });
    }
  }
  return { decided, undecided, unknownRules: unknownRuleKeys(rules.user, columns), proposals };
}

/** Rule keys that match no column; `columns` must list every column of the copied tables. */
export function unknownRuleKeys(rules: AnonymizeRules, columns: Array<{ table: string; column: string }>): string[] {
  const known = new Set<string>();
  for (const c of columns) {
    const { schema, table } = splitTableKey(c.table);
    known.add(`${schema}\0${table}\0${c.column}`);
  }
  return Object.keys(rules).filter((key) => {
    const t = parseRuleKey(key);
    return !known.has(`${t.schema ?? 'public'}\0${t.table}\0${t.column}`);
  });
}

/** One line per undecided column, for messages: names and rules only, never a value. */
export function describeUndecided(undecided: Undecided[]): string {
  return undecided.map((u) => `${u.table}.${u.column}: proposed ${ruleLabel(u.rule)} (${u.reason})`).join('\n');
}
