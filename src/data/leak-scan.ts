// The leak scan: every text, varchar, char, json/jsonb and array column of every staging table
// (domains seen through), whatever its rule, searched in one set-based pass per column for the
// hashed production PII dictionary (pii-dictionary.ts): whole values (each array element and JSON
// string leaf too), words, runs of two to five words from a word that starts a full name or street line, pieces (e-mails, tokens, IPs
// inside text) and phone-number runs. Hits are reported as table.column, row key and kind.
import type postgres from 'postgres';
import type { AnonymizeRules, PiiProposal } from '../anonymize/index.js';
import { PHONE_KEY_DIGITS } from '../anonymize/scan.js';
import type { ReadOnlyTx } from '../db/production.js';
import { introspect, type DbShape } from '../subset/introspect.js';
import {
  buildDictionary, dictionarySources, dropDictionary, DICTIONARY_TABLE, KIND_WORDS, MIN_PIECE, PHONE_RUN, PIECE_SEPARATORS, TRIM_CHARS, WORD_SEPARATORS,
  type DictionarySource, type DictionaryStats, type PiiKind,
} from './pii-dictionary.js';
import { quoteIdent, sqlString as lit } from '../db/sql-text.js';

export interface LeakHit {
  /** table.column in staging. */
  column: string;
  /** Primary key values (column → value), or the row's ctid when the table has none. */
  key: Record<string, string | null>;
  kinds: PiiKind[];
}

export interface LeakScanResult {
  /** Rows with at least one hit, per table.column. */
  perColumn: Record<string, number>;
  total: number;
  /** The first hits of each column (at most HITS_LISTED per column). */
  hits: LeakHit[];
  columnsScanned: number;
  dictionary: DictionaryStats;
  scanMs: number;
}

const HITS_LISTED = 20;

type Shape = 'text' | 'json' | 'textArray' | 'jsonArray';

interface ScanColumn {
  table: string;
  qualified: string;
  column: string;
  shape: Shape;
  primaryKey: string[];
}

/** Every column of staging that can hold text, with its shape once domains are seen through. */
async function textColumns(staging: postgres.ReservedSql, shape: DbShape, schemas: string[]): Promise<ScanColumn[]> {
  const types = (await staging`SELECT oid::int AS oid, typtype, typbasetype::int AS base, typelem::int AS elem, typcategory AS cat, typname AS name FROM pg_type`) as unknown as Array<{ oid: number; typtype: string; base: number; elem: number; cat: string; name: string }>;
  const byOid = new Map(types.map((t) => [t.oid, t]));
  const baseOf = (oid: number) => {
    let t = byOid.get(oid);
    for (let depth = 0; t && t.typtype === 'd' && depth < 10; depth++) t = byOid.get(t.base);
    return t;
  };
  const classify = (oid: number): Shape | undefined => {
    const t = baseOf(oid);
    if (!t) return undefined;
    if (t.cat === 'S') return 'text';
    if (t.name === 'json' || t.name === 'jsonb') return 'json';
    if (t.cat === 'A') {
      const e = classify(t.elem);
      return e === 'text' ? 'textArray' : e === 'json' ? 'jsonArray' : undefined;
    }
    return undefined;
  };
  const cols = (await staging`
    SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, a.atttypid::int AS type
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY(${schemas})
    ORDER BY 1, 2, a.attnum`) as unknown as Array<{ schema: string; table: string; column: string; type: number }>;
  const out: ScanColumn[] = [];
  for (const c of cols) {
    const s = classify(c.type);
    const key = c.schema === 'public' ? c.table : `${c.schema}.${c.table}`;
    const t = shape.tables.get(key);
    if (!s || !t) continue;
    out.push({ table: key, qualified: t.qualified, column: c.column, shape: s, primaryKey: t.primaryKey });
  }
  return out;
}

/** The strings of one value that are looked at whole: the value, each array element, each JSON string or number leaf. */
function unitsOf(c: string, shape: Shape): string {
  const leaves = (doc: string) => `jsonb_path_query(${doc}, 'strict $.**') j WHERE jsonb_typeof(j) IN ('string', 'number')`;
  switch (shape) {
    case 'text':
      return `SELECT ${c}::text`;
    case 'textArray':
      return `SELECT e FROM unnest(${c}::text[]) e`;
    case 'json':
      return `SELECT j #>> '{}' FROM ${leaves(`${c}::jsonb`)}`;
    case 'jsonArray':
      return `SELECT j #>> '{}' FROM unnest(${c}::jsonb[]) e, ${leaves('e')}`;
  }
}

/**
 * One pass over one column: its distinct units, lower-cased (ASCII, as the dictionary was), cut
 * into everything the dictionary may hold, hashed and looked up; only when some unit is a hit are
 * the rows that carry it found, by a second pass that joins them to the (few) hit units. Columns
 * of repeated values (statuses, user agents, JSON of one shape) cost their distinct values only.
 */
/**
 * One lookup in the dictionary's unique index. LIMIT keeps the planner from turning it into a join
 * that hashes the whole dictionary (millions of rows, spilled to disk) once or twice per column:
 * the function scans' estimates are blind guesses, and the candidates are far fewer.
 */
const probe = (hash: string, columns: string) => `(SELECT ${columns} FROM ${DICTIONARY_TABLE} d WHERE d.h = ${hash}::uuid LIMIT 1)`;

function scanQuery(col: ScanColumn, keyColumns: string[]): string {
  const c = `s.${quoteIdent(col.column)}`;
  const key = keyColumns.length ? `jsonb_build_array(${keyColumns.map((k) => `s.${quoteIdent(k)}::text`).join(', ')})` : `jsonb_build_array(s.ctid::text)`;
  const trim = `E${lit(TRIM_CHARS.replace(/\t/g, '\\t').replace(/\r/g, '\\r').replace(/\n/g, '\\n'))}`;
  const units = `FROM ${col.qualified} s, LATERAL (${unitsOf(c, col.shape)}) x(u) WHERE ${c} IS NOT NULL AND x.u IS NOT NULL AND btrim(x.u, ${trim}) <> ''`;
  return `
    WITH n AS MATERIALIZED (
      SELECT DISTINCT lower(x.u COLLATE "C") AS l ${units}
    ), w AS MATERIALIZED (
      SELECT l, array_remove(regexp_split_to_array(l, ${lit(WORD_SEPARATORS)}), '') AS ws FROM n
    ), words AS MATERIALIZED (
      SELECT w.l, w.ws, i, d.kind, d.starts FROM w CROSS JOIN LATERAL generate_subscripts(w.ws, 1) i CROSS JOIN LATERAL ${probe('md5(w.ws[i])', 'kind, starts')} d
    ), h AS (
      SELECT l, md5(btrim(l, ${trim})) AS h FROM n
      UNION ALL SELECT l, md5(array_to_string(ws, ' ')) FROM w WHERE cardinality(ws) > 1
      UNION ALL SELECT l, md5(g) FROM words, LATERAL (SELECT array_to_string(ws[i:i + n], ' ') FROM generate_series(1, 4) n WHERE i + n <= cardinality(ws)) v(g) WHERE starts AND g IS NOT NULL
      UNION ALL SELECT l, md5(p) FROM n, LATERAL (SELECT btrim(p0, '.') AS p FROM regexp_split_to_table(l, ${lit(PIECE_SEPARATORS)}) p0) q WHERE length(p) >= ${MIN_PIECE}
      UNION ALL SELECT l, md5(CASE WHEN length(d) > ${PHONE_KEY_DIGITS} THEN right(d, ${PHONE_KEY_DIGITS}) ELSE d END) FROM n,
        LATERAL (SELECT regexp_replace(m[1], '[^0-9]', '', 'g') AS d FROM regexp_matches(l, ${lit(`(${PHONE_RUN})`)}, 'g') m) r WHERE length(d) BETWEEN 7 AND 15
    ), hits AS MATERIALIZED (
      SELECT l, kind FROM (SELECT h.l, d.kind FROM h CROSS JOIN LATERAL ${probe('h.h', 'kind')} d UNION ALL SELECT l, kind FROM words) x WHERE kind IS NOT NULL
    )
    SELECT r.k, array_agg(DISTINCT hits.kind ORDER BY hits.kind) AS kinds
    FROM (SELECT ${key} AS k, lower(x.u COLLATE "C") AS l ${units} AND EXISTS (SELECT 1 FROM hits)) r JOIN hits ON hits.l = r.l
    GROUP BY r.k`;
}

/** A dictionary already read (readProductionPii) into a temporary table of `session`; its owner drops it. */
export interface PreparedDictionary {
  session: postgres.ReservedSql;
  stats: DictionaryStats;
  sources: DictionarySource[];
}

export interface ColumnScanned {
  column: string;
  index: number;
  total: number;
  rows: number;
  ms: number;
}

/**
 * Scans every text-like staging column against production's hashed dictionary: the one given
 * (read earlier in the run, together with the anonymizer's), or one built here from the whole
 * production (read-only) in a temporary table of one staging session and dropped again.
 */
export async function scanForLeaks(
  staging: postgres.Sql,
  production: ReadOnlyTx,
  prodShape: DbShape,
  opts: {
    schemas: string[];
    rules: AnonymizeRules;
    proposals: PiiProposal[];
    stagingEmailDomain: string;
    dictionaryCap?: number;
    dictionary?: PreparedDictionary;
    signal?: AbortSignal;
    onColumn?: (c: ColumnScanned) => void;
  },
): Promise<LeakScanResult> {
  const conn = opts.dictionary?.session ?? (await staging.reserve());
  try {
    // A just-loaded staging has no statistics: its estimates are huge, and JIT would spend seconds
    // compiling each of these small queries.
    await conn`SET jit = off`;
    // The distinct units and the CTEs get the memory to stay off disk.
    await conn.unsafe(`SET work_mem = '64MB'`);
    let sources: DictionarySource[];
    let dictionary: DictionaryStats;
    if (opts.dictionary) {
      ({ sources, stats: dictionary } = opts.dictionary);
    } else {
      sources = dictionarySources(prodShape, opts.rules, opts.proposals);
      dictionary = await buildDictionary(production, conn, prodShape, sources, { stagingEmailDomain: opts.stagingEmailDomain, ...(opts.dictionaryCap ? { cap: opts.dictionaryCap } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    }
    const started = Date.now();
    const stagingShape = await introspect(conn, opts.schemas);
    const columns = await textColumns(conn, stagingShape, opts.schemas);
    // A key made of PII source columns would print the very value it reports: such rows go by ctid.
    const piiColumns = new Set(sources.map((s) => `${s.table}.${s.column}`));
    const perColumn: Record<string, number> = {};
    const hits: LeakHit[] = [];
    for (const [index, col] of columns.entries()) {
      opts.signal?.throwIfAborted();
      const columnStarted = Date.now();
      const keyColumns = col.primaryKey.some((k) => piiColumns.has(`${col.table}.${k}`)) ? [] : col.primaryKey;
      const rows = (await conn.unsafe(scanQuery(col, keyColumns))) as unknown as Array<{ k: Array<string | null>; kinds: PiiKind[] }>;
      const name = `${col.table}.${col.column}`;
      opts.onColumn?.({ column: name, index, total: columns.length, rows: rows.length, ms: Date.now() - columnStarted });
      if (!rows.length) continue;
      perColumn[name] = rows.length;
      for (const r of rows.slice(0, HITS_LISTED)) {
        const names = keyColumns.length ? keyColumns : ['ctid'];
        hits.push({ column: name, key: Object.fromEntries(names.map((k, i) => [k, r.k[i] ?? null])), kinds: r.kinds });
      }
    }
    return { perColumn, total: Object.values(perColumn).reduce((s, x) => s + x, 0), hits, columnsScanned: columns.length, dictionary, scanMs: Date.now() - started };
  } finally {
    if (!opts.dictionary) await dropDictionary(conn).catch(() => undefined);
    await conn.unsafe(`RESET jit; RESET work_mem`).catch(() => undefined);
    if (!opts.dictionary) conn.release();
  }
}

/** One line per column with hits: `notifications.message: 3 rows (full name, e-mail), e.g. id=…`. */
export function describeLeaks(r: LeakScanResult): string {
  return Object.entries(r.perColumn)
    .map(([column, n]) => {
      const own = r.hits.filter((h) => h.column === column);
      const kinds = [...new Set(own.flatMap((h) => h.kinds))].map((k) => KIND_WORDS[k]);
      const keys = own.slice(0, 3).map((h) => Object.entries(h.key).map(([k, v]) => `${k}=${v}`).join(','));
      return `${column}: ${n} row${n === 1 ? '' : 's'} (${kinds.join(', ')}), e.g. ${keys.join('; ')}`;
    })
    .join('; ');
}
