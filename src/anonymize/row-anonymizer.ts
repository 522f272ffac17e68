// Applies the rules to one table's rows in COPY text format. Columns without a rule are passed
// through byte for byte (never decoded); only ruled fields are decoded, transformed and encoded.
import { UserError } from '../errors.js';
import { COPY_NULL, decodeCopyField, encodeCopyField } from './copy-text.js';
import { isJsonObject, JsonNumber, JsonSyntaxError, parseJson, parseJsonPath, rewriteJson, stringifyJson, type JsonValue } from './json-value.js';
import { formatPgArray, mapPgArray, parsePgArray, PgArraySyntaxError } from './pg-array.js';
import { findRule, ruleNameOf, type AnonymizeRules, type JsonRule, type LeafRule, type ValueRuleName } from './rules.js';
import { applyToNumber, createTransformers, keyFingerprint, type StringTransformer, type TransformerOptions, type Transformers } from './transformers.js';
import { suffixValue } from './unique.js';

/** A column as information_schema.columns describes it, in COPY column order. */
export interface ColumnInfo {
  name: string;
  /** `text`, `character varying`, `jsonb`, `ARRAY`, `inet`, `USER-DEFINED`, `date`, … */
  dataType: string;
  /** `text`, `varchar`, `jsonb`, `_text` (an array of text), `inet`, `citext`, … */
  udtName: string;
  /** The type under a domain (`_`-prefixed for an array), when udtName is a domain; from the catalogue. */
  baseUdt?: string;
  /** varchar(n) / char(n): pseudonyms are shortened to fit. */
  maxLength?: number;
}

export interface RowAnonymizerOptions extends TransformerOptions {
  /** Names of this table's columns that are unique in production (from the catalogue); rules can also say `unique: true`. */
  uniqueColumns?: Iterable<string>;
  /** Unique keys of several columns: a row whose anonymized key repeats gets its ruled column derived again. */
  uniqueKeys?: string[][];
  /** The run's transformers, shared by all tables so collision overrides agree; must use the same secret. */
  transformers?: Transformers;
}

export interface ColumnStats {
  rule: string;
  /** Non-null values seen. */
  values: number;
  nulls: number;
  /** Values whose staging text differs from the production text. */
  changed: number;
}

export interface RowAnonymizer {
  /** One COPY text row without its newline in, the anonymized row out. */
  (line: string): string;
  readonly table: string;
  /** False when no column of this table has a rule (other than keep): rows pass through as they are. */
  readonly active: boolean;
  readonly stats: { rows: number; columns: Record<string, ColumnStats> };
}

/** Thrown for a row that is not valid COPY text for the table; it never quotes the row (PII). */
export class CopyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyFormatError';
  }
}

type Category = 'text' | 'json' | 'jsonb' | 'inet' | 'date' | 'other';
const TEXT_UDTS = new Set(['text', 'varchar', 'bpchar', 'char', 'name', 'citext']);
const DATE_UDTS = new Set(['date', 'timestamp', 'timestamptz']);

function categoryOf(udt: string): Category {
  if (TEXT_UDTS.has(udt)) return 'text';
  if (udt === 'json') return 'json';
  if (udt === 'jsonb') return 'jsonb';
  if (udt === 'inet' || udt === 'cidr') return 'inet';
  if (DATE_UDTS.has(udt)) return 'date';
  return 'other';
}

const typeOf = (c: ColumnInfo) => c.baseUdt ?? c.udtName;
const isArrayColumn = (c: ColumnInfo) => c.dataType === 'ARRAY' || typeOf(c).startsWith('_');

/** Cuts a value to `max` characters (code points, as PostgreSQL counts them). */
function fitLength(v: string, max: number): string {
  if (v.length <= max) return v;
  const chars = Array.from(v);
  return chars.length <= max ? v : chars.slice(0, max).join('');
}

/** Rules whose output keeps its shape only with a suffix (a derived phone could repeat; a date cannot take one but is rarely unique). */
const FIXED_FORMAT = new Set(['phone', 'dateOfBirth', 'passwordHash', 'ip']);

/** A value in, a value out; null means SQL NULL. */
type ValueFn = (value: string) => string | null;

export function createRowAnonymizer(
  table: string,
  columns: ColumnInfo[],
  rules: AnonymizeRules,
  secret: Buffer | string,
  opts: RowAnonymizerOptions = {},
): RowAnonymizer {
  const tx = opts.transformers ?? createTransformers(secret, opts);
  if (opts.transformers && opts.transformers.fingerprint !== keyFingerprint(secret)) {
    throw new Error('createRowAnonymizer: the shared transformers were made with a different secret');
  }
  const uniqueNames = new Set([...(opts.uniqueColumns ?? []), ...(opts.uniqueKeys ?? []).filter((k) => k.length === 1).map((k) => k[0]!)]);
  const derivers = new Map<string, (value: string, attempt: number) => string | null>();
  const stats: RowAnonymizer['stats'] = { rows: 0, columns: {} };
  const handlers: Array<{ index: number; column: string; fn: (raw: string) => string; s: ColumnStats }> = [];

  columns.forEach((col, index) => {
    const rule = findRule(rules, table, col.name);
    if (rule === undefined || ruleNameOf(rule) === 'keep') return;
    const where = `${table}.${col.name}`;
    const s: ColumnStats = { rule: ruleNameOf(rule), values: 0, nulls: 0, changed: 0 };
    stats.columns[col.name] = s;
    if (ruleNameOf(rule) === 'null') {
      handlers.push({ index, column: col.name, fn: () => COPY_NULL, s });
      return;
    }
    const array = isArrayColumn(col);
    const udt = array ? typeOf(col).replace(/^_/, '') : typeOf(col);
    const category = categoryOf(udt);
    let fn: ValueFn;
    if (array) {
      if (typeof rule === 'object' && rule.rule === 'textArray') fn = elementWise(compileValue(rule.of, category, where, tx, udt));
      else fn = elementWise(compileValue(rule as LeafRule | JsonRule, category, where, tx, udt));
    } else {
      if (typeof rule === 'object' && rule.rule === 'textArray') {
        throw new UserError(`${where} has rule "textArray", but it is not an array column (it is ${col.dataType}).`, {
          tryThis: `Use the element rule itself, e.g. "${where}": "${typeof rule.of === 'string' ? rule.of : rule.of.rule}".`,
        });
      }
      fn = compileValue(rule, category, where, tx, udt);
      const name = ruleNameOf(rule) as ValueRuleName;
      const max = category === 'text' ? col.maxLength : undefined;
      if (max !== undefined) {
        const inner = fn;
        fn = name === 'email' ? (v) => (v.trim() === '' ? v : tx.emailFit(v, max)) : (v) => {
          const out = inner(v);
          return out === null ? null : fitLength(out, max);
        };
      }
      const base = fn;
      /** Another pseudonym for the same input, for a collision on a unique key. */
      const derive = (v: string, attempt: number): string | null => {
        if (attempt === 1) return base(v);
        // A shortened e-mail has no room for a suffix: derive another address instead.
        if (name === 'email' && max !== undefined) return tx.emailFit(v, max, attempt);
        if (name === 'email' || FIXED_FORMAT.has(name) || attempt > 20) {
          const out = base(v);
          if (out === null) return null;
          const suffixed = suffixValue(out, attempt);
          return max === undefined ? suffixed : fitLength(out, Math.max(0, max - (suffixed.length - out.length))) + suffixed.slice(out.length);
        }
        return base(`${v}\u0000${attempt}`);
      };
      if (category === 'text') derivers.set(col.name, derive);
      const unique = uniqueNames.has(col.name) || (typeof rule === 'object' && 'unique' in rule && rule.unique === true);
      if (unique && category === 'text' && name !== 'passwordHash') {
        const domain = name === 'secret' ? 'token' : name;
        fn = (v) => {
          const out = base(v);
          return out === null ? null : tx.registry.claim(where, domain, v, out, (n) => derive(v, n) ?? out);
        };
      }
    }
    handlers.push({
      index,
      column: col.name,
      s,
      fn: (raw) => {
        if (raw === COPY_NULL) return raw; // NULL stays NULL: absence of data is not PII
        const value = decodeCopyField(raw)!;
        return encodeCopyField(fn(value));
      },
    });
  });

  // Composite unique keys with a ruled text column: the last such column is derived again on a repeat.
  const composite = (opts.uniqueKeys ?? [])
    .filter((k) => k.length > 1 && k.every((c) => columns.some((x) => x.name === c)))
    .map((k) => ({ indexes: k.map((c) => columns.findIndex((x) => x.name === c)), ruled: [...k].reverse().find((c) => derivers.has(c)) }))
    .filter((k): k is { indexes: number[]; ruled: string } => k.ruled !== undefined)
    .map((k) => ({ ...k, index: columns.findIndex((x) => x.name === k.ruled), derive: derivers.get(k.ruled)!, seen: new Set<string>() }));

  const width = columns.length;
  const anonymize = ((line: string): string => {
    stats.rows++;
    if (handlers.length === 0) return line;
    const fields = line.split('\t');
    const raws = composite.length ? fields.slice() : fields;
    if (fields.length !== width) {
      throw new CopyFormatError(`${table}: a row has ${fields.length} fields where ${width} columns were expected`);
    }
    for (const h of handlers) {
      const raw = fields[h.index]!;
      let out: string;
      try {
        out = h.fn(raw);
      } catch (error) {
        throw rethrowFor(`${table}.${h.column}`, error);
      }
      if (raw === COPY_NULL) h.s.nulls++;
      else h.s.values++;
      if (out !== raw) {
        h.s.changed++;
        fields[h.index] = out;
      }
    }
    for (const k of composite) {
      let tuple = k.indexes.map((i) => fields[i]).join('\u0001');
      if (!k.seen.has(tuple) || fields[k.index] === COPY_NULL) {
        k.seen.add(tuple);
        continue;
      }
      const value = decodeCopyField(raws[k.index]!)!;
      for (let attempt = 2; k.seen.has(tuple); attempt++) {
        fields[k.index] = encodeCopyField(k.derive(value, attempt));
        tuple = k.indexes.map((i) => fields[i]).join('\u0001');
      }
      k.seen.add(tuple);
    }
    return fields.join('\t');
  }) as RowAnonymizer;
  Object.defineProperties(anonymize, {
    table: { value: table, enumerable: true },
    active: { value: handlers.length > 0, enumerable: true },
    stats: { value: stats, enumerable: true },
  });
  return anonymize;
}

/** Names the column; parse errors carry positions, never values, so they are safe to pass on. */
function rethrowFor(where: string, error: unknown): unknown {
  if (error instanceof UserError) {
    return new UserError(`${where}: ${error.message}`, { ...(error.tryThis ? { tryThis: error.tryThis } : {}), causes: error.causes });
  }
  if (error instanceof JsonSyntaxError || error instanceof PgArraySyntaxError) return new CopyFormatError(`${where}: ${error.message}`);
  return error; // a bug: keep its stack
}

function elementWise(fn: ValueFn): ValueFn {
  return (literal) => {
    const parsed = parsePgArray(literal);
    return formatPgArray({ bounds: parsed.bounds, elements: mapPgArray(parsed.elements, fn) });
  };
}

/** A leaf rule as a string transformer (address on a string gives a street line). */
function leafString(rule: LeafRule, tx: Transformers): StringTransformer {
  const name = ruleNameOf(rule) as ValueRuleName;
  switch (name) {
    case 'address': {
      const aopts = typeof rule === 'object' && rule.rule === 'address' ? rule : {};
      return ((v: string | null) => (v === null ? null : (tx.address(v, aopts) as string))) as StringTransformer;
    }
    case 'secret':
      return tx.token;
    case 'scrub':
      return tx.scrub;
    case 'keep':
      return ((v: string | null) => v) as StringTransformer;
    case 'null':
      return (() => null) as unknown as StringTransformer;
    default:
      return tx[name];
  }
}

const NUMERIC_RULES = new Set<ValueRuleName>(['phone', 'postalCode']);

/** A leaf rule applied to a whole JSON subtree: every string in it (and numbers, for phone/postal). */
function leafJson(rule: LeafRule, tx: Transformers): (node: JsonValue) => JsonValue {
  const name = ruleNameOf(rule) as ValueRuleName;
  if (name === 'keep') return (node) => node;
  if (name === 'null') return () => null;
  if (name === 'address') {
    const aopts = typeof rule === 'object' && rule.rule === 'address' ? rule : {};
    return (node) => tx.address(node, aopts);
  }
  const fn = leafString(rule, tx);
  const deep = (node: JsonValue): JsonValue => {
    if (typeof node === 'string') return fn(node);
    if (Array.isArray(node)) return node.map(deep);
    if (isJsonObject(node)) {
      for (const k of Object.keys(node)) node[k] = deep(node[k]!);
      return node;
    }
    if ((typeof node === 'number' || node instanceof JsonNumber) && NUMERIC_RULES.has(name)) return applyToNumber(node, fn);
    return node;
  };
  return deep;
}

function compileJsonRule(rule: JsonRule, tx: Transformers): (doc: JsonValue) => JsonValue {
  const entries = Object.entries(rule.paths);
  const paths = entries.map(([p]) => parseJsonPath(p));
  const fns = entries.map(([, r]) => leafJson(r, tx));
  const others = rule.others === 'freeText' ? (s: string) => tx.freeText(s) : rule.others === 'scrub' ? (s: string) => tx.scrub(s) : undefined;
  return (doc) => rewriteJson(doc, paths, (node, i) => fns[i]!(node), others);
}

function compileValue(rule: LeafRule | JsonRule, category: Category, where: string, tx: Transformers, udt: string): ValueFn {
  const name = ruleNameOf(rule);
  const refuse = (why: string): never => {
    throw new UserError(`${where}: rule "${name}" ${why}.`, {
      tryThis: `Pick a rule that fits the column's type, or "keep" / "null" for "${where}".`,
    });
  };
  if (category === 'json' || category === 'jsonb') {
    const style = category === 'jsonb' ? 'jsonb' : 'compact';
    const transform = typeof rule === 'object' && rule.rule === 'json' ? compileJsonRule(rule, tx) : leafJson(rule as LeafRule, tx);
    return (text) => stringifyJson(transform(parseJson(text)), style);
  }
  if (typeof rule === 'object' && rule.rule === 'json') {
    if (category !== 'text') refuse('needs a json, jsonb or text column');
    // JSON kept in a text column; a value that is not JSON is scrubbed as free text instead.
    const transform = compileJsonRule(rule, tx);
    return (text) => {
      let doc: JsonValue;
      try {
        doc = parseJson(text);
      } catch {
        return tx.freeText(text);
      }
      return stringifyJson(transform(doc), 'compact');
    };
  }
  const leaf = rule as LeafRule;
  const leafName = ruleNameOf(leaf);
  if (category === 'date' && leafName !== 'dateOfBirth') refuse('cannot produce a date; use "dateOfBirth"');
  if (category === 'inet' && leafName !== 'ip') refuse('cannot produce an address for an inet column; use "ip"');
  if (category === 'inet' && udt === 'cidr') return tx.cidr;
  if (category === 'other') refuse(`only fits text, json or array columns (this one is ${udt}); use "keep" or "null"`);
  return leafString(leaf, tx);
}
