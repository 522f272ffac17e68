// The reviewable rules file (`rehearse.rules.json`): one entry per column that no built-in rule
// decides, with the detector's proposal and its reason, written by `rehearse data rules --write`
// for a person to check. It names columns and rules only, never a production value, so it can be
// committed and reviewed like code (written 0644).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { anonymizeRulesSchema, ruleKey, type AnonymizeRule, type AnonymizeRules } from '../anonymize/rules.js';
import type { Undecided } from '../anonymize/coverage.js';
import { UserError } from '../errors.js';

export interface RulesFileEntry {
  schema?: string;
  table: string;
  column: string;
  rule: AnonymizeRule;
  reason?: string;
}

const fileSchema = z.object({ comment: z.string().optional(), rules: z.array(z.unknown()) }).strict();

function parseFile(file: string): { entries: RulesFileEntry[]; rules: AnonymizeRules } {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UserError(`${file} is not valid JSON: ${(error as Error).message}`, { tryThis: 'Fix it, or delete it and run `rehearse data rules --write` again.' });
  }
  const shape = fileSchema.safeParse(data);
  if (!shape.success) throw new UserError(`${file} must be { "rules": [ { "table", "column", "rule", "reason" }, … ] }.`, { tryThis: 'Delete it and run `rehearse data rules --write` again.' });
  const rules = anonymizeRulesSchema.safeParse(shape.data.rules);
  if (!rules.success) {
    const lines = rules.error.issues.map((i) => `rules.${i.path.join('.')}: ${i.message}`);
    throw new UserError(`${path.basename(file)} has invalid rules:\n  ${lines.join('\n  ')}`, { tryThis: `Fix the entries named above in ${file}.` });
  }
  return { entries: shape.data.rules as RulesFileEntry[], rules: rules.data };
}

/** The file's rules, keyed like config rules; none when there is no file. */
export function readRulesFile(file: string): AnonymizeRules {
  return existsSync(file) ? parseFile(file).rules : {};
}

/**
 * Adds an entry for every undecided column to the file (entries already there are kept as the
 * person left them) and returns how many were added. Written whole and renamed into place.
 */
export function writeRulesFile(file: string, undecided: Undecided[]): { added: number; total: number } {
  const existing = existsSync(file) ? parseFile(file).entries : [];
  const have = new Set(existing.map((e) => ruleKey(e)));
  const added: RulesFileEntry[] = [];
  for (const u of undecided) {
    const dot = u.table.indexOf('.');
    const target = dot < 0 ? { table: u.table, column: u.column } : { schema: u.table.slice(0, dot), table: u.table.slice(dot + 1), column: u.column };
    if (have.has(ruleKey(target))) continue;
    added.push({ ...target, rule: u.rule, reason: u.reason });
  }
  const entries = [...existing, ...added];
  const body = {
    comment: 'Written by `rehearse data rules --write`: one decision per production column that can hold text and that no built-in rule covers. Each rule is the detector\'s proposal; check it (and its reason), change what is wrong, then run `rehearse data`. Rules: see "Anonymization" in the README.',
    rules: entries,
  };
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, file);
  return { added: added.length, total: entries.length };
}
