// Production's PII dictionary, for the leak scan: every value of every PII column of the whole
// production (read-only), cut into what could be searched for in staging (e-mails, phones, full
// names, first and last names, street lines, tokens, IPs), normalized, and kept only as md5 hashes
// with their kind in a temporary table of the scanning staging session. No raw value is stored,
// logged or reported. The normalization here and the SQL of the scan (leak-scan.ts) must agree
// byte for byte: both lower-case ASCII letters only and split on ASCII separators only, which
// behave the same in every database encoding and collation.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type postgres from 'postgres';
import { findRule, ruleNameOf, type AnonymizeRule, type AnonymizeRules, type PiiDictionary, type PiiProposal } from '../anonymize/index.js';
import { phoneDigitsKey } from '../anonymize/scan.js';
import { FAKE_CITIES, FAKE_FIRST_NAMES, FAKE_LAST_NAMES, FAKE_STREETS } from '../anonymize/word-lists.js';
import type { ReadOnlyTx } from '../db/production.js';
import type { ColumnTypes } from './guards.js';
import { type DbShape } from '../subset/introspect.js';
import { quoteIdent } from '../db/sql-text.js';

export type PiiKind = 'email' | 'phone' | 'fullName' | 'name' | 'address' | 'token' | 'ip';
export const KIND_WORDS: Record<PiiKind, string> = {
  email: 'e-mail', phone: 'phone', fullName: 'full name', name: 'first or last name', address: 'street address', token: 'token', ip: 'IP address',
};

/** What a production column holds, for the dictionary. `freeText` gives only the e-mails and phones inside it. */
export type SourceKind = 'email' | 'phone' | 'name' | 'address' | 'token' | 'ip' | 'freeText' | 'json';

/** Word separators: every ASCII character that is not a letter or digit (PostgreSQL ARE and JS alike). */
export const WORD_SEPARATORS = '[\\u0001-\\u002f\\u003a-\\u0040\\u005b-\\u0060\\u007b-\\u007f]+';
/** Piece separators: ASCII whitespace and punctuation that e-mails, tokens and IPs do not contain ($ % + - . @ _ ~ are kept). */
export const PIECE_SEPARATORS = '[\\u0001-\\u0023\\u0026-\\u002a\\u002c\\u002f\\u003a-\\u003f\\u005b-\\u005e\\u0060\\u007b-\\u007d\\u007f]+';
/** A run of digits written the way phone numbers are; its digits form the phone key. */
export const PHONE_RUN = '[0-9][0-9 ().+-]{5,}[0-9]';
/** Characters trimmed from whole values (PostgreSQL's btrim(v, …) and JS alike). */
export const TRIM_CHARS = ' \t\r\n';
/** Pieces shorter than this are not looked up (shorter e-mails, tokens and IPs do not exist). */
export const MIN_PIECE = 6;
/** A first or last name on its own is searched from this many characters. */
export const MIN_NAME_CHARS = 3;

const WORD_RE = new RegExp(WORD_SEPARATORS, 'u');
const PIECE_RE = new RegExp(PIECE_SEPARATORS, 'u');
const PHONE_RUN_RE = new RegExp(PHONE_RUN, 'g');
const EMAIL_SHAPE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Lower-cases A–Z only, like PostgreSQL's lower(x COLLATE "C"). */
export const asciiLower = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
const trimWs = (s: string) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
export const words = (s: string) => asciiLower(s).split(WORD_RE).filter(Boolean);
export const pieces = (s: string) => asciiLower(s).split(PIECE_RE).map((p) => p.replace(/^\.+|\.+$/g, '')).filter((p) => p.length >= MIN_PIECE);

/** The key a phone number is found by: its digits (7 to 15 of them), keyed as the anonymizer keys them. */
export function phoneKey(run: string): string | undefined {
  const digits = run.replace(/[^0-9]/g, '');
  if (digits.length < 7 || digits.length > 15) return undefined;
  return phoneDigitsKey(digits);
}
export const phoneKeys = (s: string) => [...s.matchAll(PHONE_RUN_RE)].map((m) => phoneKey(m[0])).filter((k): k is string => k !== undefined);

/**
 * Words that are names of some people but also ordinary words, placeholders or particles: on their
 * own they would match everyday text, so they are searched only as part of a full name.
 */
/** Values that are no one's: a "full name" made only of these (Test User, Demo Admin) is not searched. */
const PLACEHOLDERS: ReadonlySet<string> = new Set(
  ('test tester testing user users admin administrator demo guest unknown anonymous anon null none nil undefined infinity nan ' +
    'true false yes name first last full example sample staging production customer learner teacher student parent school class ' +
    'team support info contact noreply reply mail email phone address street road avenue city town country').split(' '),
);

export const COMMON_WORDS: ReadonlySet<string> = new Set(
  (
    // names that are words
    'will may june april august summer autumn winter dawn eve page mark rose grace hope joy faith bill art sky rich long young ' +
    'white black brown green gray grey gold silver king hill wood woods lane park hall bell ray dean chase hunter river rain star ' +
    'sunny angel baker cook bishop cash case chance crystal amber ruby pearl jade ' +
    'violet lily daisy iris holly ivy sage rock stone storm wolf fox bear hawk drew sue pat dot rob guy max sunday monday ' +
    'christian major prince duke earl love happy lucky sweet honey cherry berry apple song story reading writer trust saint ' +
    'little small north south east west field ford frank just hart' +
    // particles and titles
    ' van von der den del della dos das los las mac bin ibn abu mrs miss sir madam mme mlle herr frau señor senora jr sr iii ' +
    // common English words of three letters or more
    'the and for are but not you all any can had her was one our out day get has him his how man new now old see two way who ' +
    'boy did its let put say she too use that with have this from they been were said each which their what there when your ' +
    'about would make like time into look more write number could people than first water been call find over down side ' +
    'made part long little very after words called just where most know place back only year came show every good give ' +
    'under great think help through much before line right mean same tell follow want also around three small set home ' +
    'read hand large spell add even here must big high such why ask went men change light kind off need house picture try ' +
    'again animal point mother father world near build self earth head own should answer found study still learn plant ' +
    'cover food four between state keep eye never last thought city tree cross farm hard start might sea draw left late run ' +
    'while press close night real life few open seem together next begin got walk paper group always music those both mark ' +
    'often letter until mile children feet car care second book carry took science eat room friend began idea fish mountain ' +
    'stop once base hear horse cut sure watch color face main enough plain girl usual ready above ever red list though feel ' +
    'talk bird soon body dog family direct pose leave mark door sure moon sun goat drum lantern kitchen bicycle robot crow'
  ).split(/\s+/).filter(Boolean).concat([...PLACEHOLDERS]),
);

/** The anonymizer's own fake words: staging is full of them by design, so they are not searched on their own. */
const STAGING_WORDS: ReadonlySet<string> = new Set([...FAKE_FIRST_NAMES, ...FAKE_LAST_NAMES, ...FAKE_CITIES, ...FAKE_STREETS].flatMap(words));

function entropyBits(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
  return h;
}
/** A long, mixed, high-entropy string: a secret, a session or API token, a provider id, a hash. */
export const looksLikeToken = (s: string) =>
  s.length >= 16 && s.length <= 4096 && /[0-9]/.test(s) && /[a-z]/i.test(s) && !/[\s@]/.test(s) && !isLinkOrHost(s) && entropyBits(s) >= 3;

/** A link or a host name is an address, not a secret (a name inside one is searched as a name). */
const isLinkOrHost = (s: string) => /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*$/i.test(s.replace(/\/+$/, '')) || /^(?:[a-z0-9-]+\.)+[a-z]{2,}$/i.test(s);

/** `start`: the first word of a full name or street line, never reported; the scan looks at runs of two to five words only from such a word. */
type Entry = [normalized: string, kind: PiiKind | 'start'];

function nameEntries(value: string, out: Entry[]): void {
  const w = words(value);
  if (w.length === 0 || w.length > 5) return;
  out.push(['', 'name']); // counts one name value (the marker is dropped before hashing)
  if (w.length >= 2 && w.some((x) => !PLACEHOLDERS.has(x))) {
    out.push([w.join(' '), 'fullName'], [w[0]!, 'start']);
    if (w.join('').length >= 7) out.push([w.join(''), 'fullName']);
  }
  for (const x of w) if ([...x].length >= MIN_NAME_CHARS && !/[0-9]/.test(x) && !COMMON_WORDS.has(x) && !STAGING_WORDS.has(x)) out.push([x, 'name']);
}

function leafEntries(kind: SourceKind, value: string, out: Entry[], stagingDomain: string): void {
  const v = trimWs(value);
  if (v === '') return;
  switch (kind) {
    case 'email':
    case 'freeText':
      for (const p of pieces(v)) if (EMAIL_SHAPE.test(p) && !p.endsWith(`@${stagingDomain}`)) out.push([p, 'email']);
      if (kind === 'freeText') for (const k of phoneKeys(v)) out.push([k, 'phone']);
      return;
    case 'phone':
      for (const k of phoneKeys(v)) out.push([k, 'phone']);
      return;
    case 'name':
      nameEntries(v, out);
      return;
    case 'address': {
      const w = words(v);
      if (w.length >= 2 && w.length <= 12 && w.some((x) => /[0-9]/.test(x)) && w.some((x) => /[^0-9]/.test(x))) out.push([w.join(' '), 'address'], [w[0]!, 'start']);
      return;
    }
    case 'token': {
      const whole = asciiLower(v);
      if (looksLikeToken(whole)) out.push([whole, 'token']);
      for (const p of pieces(v)) if (p !== whole && looksLikeToken(p)) out.push([p, 'token']);
      return;
    }
    case 'ip': {
      const ip = asciiLower(v).replace(/\/(?:32|128)$/, '');
      if (isIP(ip) && !/^(?:127\.|0\.0\.0\.0$|::1?$)/.test(ip)) out.push([ip, 'ip']);
      return;
    }
    case 'json':
      return;
  }
}

/** What a string under this JSON key holds, in a document of no fixed shape. */
function kindOfKey(key: string | undefined, value: string): SourceKind | undefined {
  const k = (key ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');
  if (EMAIL_SHAPE.test(trimWs(value)) || /mail/.test(k)) return 'email';
  if (/phone|mobile|tel$|^tel|fax/.test(k)) return 'phone';
  if (/^ip$|^ipaddr|ipaddress|remoteaddr/.test(k)) return 'ip';
  if (/token|secret|password|apikey/.test(k)) return 'token';
  if (/^(?:street\d?|line\d|addressline\d?|address\d?)$/.test(k)) return 'address';
  if (/name$/.test(k) && !/^(?:user|file|host|display|class|school|book|story|product|campaign|type|role)name$/.test(k)) return 'name';
  // Not by shape alone: ids of the app's own rows look like tokens, and staging keeps them.
  return undefined;
}

/** The dictionary entries one production value gives (a string, or a parsed array or JSON document). */
export function entriesOf(kind: SourceKind, value: unknown, stagingDomain: string, out: Entry[] = [], key?: string): Entry[] {
  if (value === null || value === undefined) return out;
  if (Array.isArray(value)) {
    for (const e of value) entriesOf(kind, e, stagingDomain, out, key);
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) entriesOf(kind === 'json' || kind === 'address' ? 'json' : kind, v, stagingDomain, out, k);
  } else {
    const s = String(value);
    const leafKind = kind === 'json' ? kindOfKey(key, s) : kind;
    if (leafKind) leafEntries(leafKind, s, out, stagingDomain);
  }
  return out;
}

/** md5 of the UTF-8 bytes, as PostgreSQL's md5(text) in a UTF-8 (or SQL_ASCII) database. */
export const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

const RULE_KIND: Partial<Record<string, SourceKind>> = {
  email: 'email', name: 'name', firstName: 'name', lastName: 'name', phone: 'phone', address: 'address', ip: 'ip',
  token: 'token', secret: 'token', passwordHash: 'token', url: 'token', freeText: 'freeText', json: 'json',
};

function kindOfRule(rule: AnonymizeRule): SourceKind | undefined {
  if (typeof rule === 'object' && rule.rule === 'textArray') return kindOfRule(rule.of);
  return RULE_KIND[ruleNameOf(rule)];
}

export interface DictionarySource {
  table: string;
  column: string;
  kind: SourceKind;
  /** Where the kind came from: the column's rule, or the detector (for columns whose rule is keep, null or missing). */
  from: 'rule' | 'detector';
}

/**
 * The PII columns of production: those whose rule says what they hold, and those the detector
 * flags whatever their rule (a `keep` does not make a column's values any less personal).
 * Dates of birth, cities, postal codes and user agents are left out: each is shared by many
 * people, so on its own it identifies no one and would match by chance.
 */
export function dictionarySources(shape: DbShape, rules: AnonymizeRules, proposals: PiiProposal[]): DictionarySource[] {
  const out: DictionarySource[] = [];
  for (const [key, t] of shape.tables) {
    for (const c of t.columns) {
      if (c.generated) continue;
      const rule = findRule(rules, key, c.name);
      let kind = rule ? kindOfRule(rule) : undefined;
      let from: DictionarySource['from'] = 'rule';
      if (!kind) {
        const p = proposals.find((x) => x.table === key && x.column === c.name);
        kind = p ? kindOfRule(p.rule) : undefined;
        from = 'detector';
      }
      if (kind) out.push({ table: key, column: c.name, kind, from });
    }
  }
  return out;
}

export interface DictionaryStats {
  /** Distinct hashed entries, per kind. */
  entries: number;
  byKind: Partial<Record<PiiKind, number>>;
  columns: number;
  valuesRead: number;
  /** First or last names that at least this many production values carry: searched only inside full names. */
  commonNames: { carriedByAtLeast: number; notSearchedAlone: number };
  /** Set when the cap was reached: the columns not read to the end are listed. */
  capped?: { limit: number; columnsNotFullyRead: string[] };
  ms: number;
}

export const DICTIONARY_TABLE = 'pg_temp.rehearse_pii_dictionary';

/** Temporary tables end with the session anyway; this frees them on a pooled connection. */
export async function dropDictionary(staging: postgres.ReservedSql): Promise<void> {
  await staging.unsafe(`DROP TABLE IF EXISTS ${DICTIONARY_TABLE}, pg_temp.rehearse_pii_dictionary_raw`);
}
/** A bound on the dictionary (about 40 bytes per entry in staging); a production with more PII values is scanned for the first ones read, and says so. */
export const DEFAULT_DICTIONARY_CAP = 5_000_000;
const BATCH = 5000;
/** Hashes sent to staging per INSERT: large enough that round trips do not count. */
const INSERT_BATCH = 50_000;

/** The leak dictionary's side of a production read: which columns, and the staging session whose temporary table receives the hashes. */
export interface LeakDictionaryRequest {
  sources: DictionarySource[];
  /** One reserved staging connection: the dictionary is a temporary table of its session. */
  staging: postgres.ReservedSql;
  stagingEmailDomain: string;
  cap?: number;
}

/** The anonymizer's side: the columns its rules name, read for scrub's name words and the phone and IP collision checks. */
export interface AnonymizerDictionaryRequest {
  types: ColumnTypes;
  rules: AnonymizeRules;
  /** Only scrub needs the words of names. */
  wantNames: boolean;
}

/** What the anonymizer reads of one column's values. */
interface AnonymizerUse {
  ip?: 'inet' | 'text';
  /** Whole values are phone numbers: their digits. */
  phoneDigits?: boolean;
  /** Phone-looking runs inside the values. */
  phoneRuns?: boolean;
  names?: 'value' | 'emailLocalPart';
}

const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'citext', '_text', '_varchar', '_citext']);

function anonymizerUse(rule: AnonymizeRule | undefined, baseUdt: string, wantNames: boolean): AnonymizerUse | undefined {
  if (rule === undefined) return undefined;
  const name = ruleNameOf(rule);
  if (name === 'ip' && (baseUdt === 'inet' || baseUdt === 'cidr')) return { ip: 'inet' };
  if (baseUdt === 'json' || baseUdt === 'jsonb') return name !== 'keep' ? { phoneRuns: true } : undefined;
  if (!TEXT_TYPES.has(baseUdt)) return undefined;
  const use: AnonymizerUse = {};
  if (name === 'ip') use.ip = 'text';
  else if (name === 'phone') use.phoneDigits = true;
  // Phones also live inside free text and JSON (an address's "phone"): the leak scan finds them
  // there, so a phone pseudonym must not equal those either.
  else if (name !== 'keep') use.phoneRuns = true;
  if (wantNames && (name === 'name' || name === 'firstName' || name === 'lastName')) use.names = 'value';
  if (wantNames && name === 'email') use.names = 'emailLocalPart';
  return Object.keys(use).length ? use : undefined;
}

/** Phone-looking runs as the anonymizer reads them (7 to 15 digits, with the usual separators). */
const ANON_PHONE_RUN = /\+?[0-9][0-9 ().-]{5,20}[0-9]/g;
const IP_RUN = /[0-9A-Fa-f:.]{2,}/g;
const NAME_SPLIT = /[^\p{L}\p{M}'’]+/u;

/** Every string of a value read as text or as to_jsonb (array elements, JSON leaves and keys), depth first. */
function leavesOf(value: unknown, out: string[] = []): string[] {
  if (value === null || value === undefined) return out;
  if (Array.isArray(value)) for (const e of value) leavesOf(e, out);
  else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out.push(k);
      leavesOf(v, out);
    }
  } else out.push(String(value));
  return out;
}

function addForAnonymizer(use: AnonymizerUse, value: unknown, into: { nameTokens: Set<string>; phoneDigits: Set<string>; ipAddresses: Set<string> }): void {
  if (use.ip === 'inet') {
    // inet and cidr print as address[/bits]; host() is the address.
    into.ipAddresses.add(String(value).replace(/\/\d+$/, ''));
    return;
  }
  const strings = typeof value === 'string' ? [value] : leavesOf(value);
  for (const s of strings) {
    if (use.ip === 'text') for (const m of s.match(IP_RUN) ?? []) if (isIP(m)) into.ipAddresses.add(m.toLowerCase());
    if (use.phoneDigits) {
      const d = s.replace(/\D/g, '');
      if (d) into.phoneDigits.add(d);
    }
    if (use.phoneRuns) {
      for (const m of s.match(ANON_PHONE_RUN) ?? []) {
        const d = m.replace(/\D/g, '');
        if (d.length >= 7 && d.length <= 15) into.phoneDigits.add(d);
      }
    }
    if (use.names) {
      const text = use.names === 'emailLocalPart' ? s.split('@')[0]! : s;
      for (const w of text.toLowerCase().split(NAME_SPLIT)) if (w.length >= 2) into.nameTokens.add(w);
    }
  }
}

export interface ProductionPii {
  /** For the anonymizer (empty sets when it was not asked for). */
  anonymizer: PiiDictionary;
  /** Set when the leak dictionary was asked for: it is then in the staging session's temporary table. */
  leak?: DictionaryStats;
}

/**
 * Production's PII, read once for both its users: one streamed pass over each column that the
 * anonymizer's rules or the leak dictionary need (the whole production, read-only). The anonymizer
 * gets its sets in memory; the leak dictionary goes, hashed, into a temporary table of the given
 * staging session, where the leak scan joins against it later in the same run.
 */
export async function readProductionPii(
  production: ReadOnlyTx,
  shape: DbShape,
  req: { leak?: LeakDictionaryRequest; anonymizer?: AnonymizerDictionaryRequest; signal?: AbortSignal },
): Promise<ProductionPii> {
  const started = Date.now();
  const anonymizer = { nameTokens: new Set<string>(), phoneDigits: new Set<string>(), ipAddresses: new Set<string>() };
  const leak = req.leak;
  const cap = leak?.cap ?? DEFAULT_DICTIONARY_CAP;
  const staging = leak?.staging;
  if (staging) {
    // Temporary tables live in the session's own buffers (8 MB by default): room for the
    // dictionary's index keeps the scan's lookups off the kernel. Settable only before the
    // session's first temporary table, so a reused session keeps what it has.
    await staging.unsafe(`SET temp_buffers = '256MB'`).catch(() => undefined);
    await dropDictionary(staging);
    await staging.unsafe(`CREATE TEMP TABLE rehearse_pii_dictionary_raw (h uuid NOT NULL, kind text NOT NULL)`);
  }
  let raw = 0;
  let valuesRead = 0;
  let nameValues = 0;
  const notFullyRead: string[] = [];
  let hashes: string[] = [];
  let kinds: string[] = [];
  const flush = async () => {
    if (!hashes.length) return;
    await staging!.unsafe(`INSERT INTO rehearse_pii_dictionary_raw SELECT * FROM unnest($1::uuid[], $2::text[])`, [hashes, kinds] as never);
    raw += hashes.length;
    hashes = [];
    kinds = [];
  };
  const sourceOf = new Map((leak?.sources ?? []).map((s) => [`${s.table}\0${s.column}`, s]));
  let capReached = false;
  for (const [key, t] of shape.tables) {
    for (const col of t.columns) {
      if (col.generated) continue;
      const src = sourceOf.get(`${key}\0${col.name}`);
      const base = req.anonymizer ? (req.anonymizer.types.get(key)?.get(col.name)?.baseUdt ?? col.udtName) : '';
      const use = req.anonymizer ? anonymizerUse(findRule(req.anonymizer.rules, key, col.name), base, req.anonymizer.wantNames) : undefined;
      const hashing = src !== undefined && !capReached;
      if (src && capReached) notFullyRead.push(`${key}.${col.name}`);
      if (!hashing && !use) continue;
      const structured = col.dataType === 'ARRAY' || col.udtName === 'json' || col.udtName === 'jsonb' || base.startsWith('_') || base === 'json' || base === 'jsonb';
      const c = quoteIdent(col.name);
      const select = `SELECT ${structured ? `to_jsonb(${c})` : `${c}::text`} AS v FROM ${t.qualified} WHERE ${c} IS NOT NULL`;
      let stopped = false;
      for await (const rows of production.unsafe(select).cursor(BATCH)) {
        req.signal?.throwIfAborted();
        valuesRead += rows.length;
        for (const r of rows) {
          if (use) addForAnonymizer(use, r.v, anonymizer);
          if (!hashing || stopped) continue;
          for (const [s, kind] of entriesOf(src.kind, r.v, leak!.stagingEmailDomain)) {
            if (s === '') {
              nameValues++;
              continue;
            }
            hashes.push(md5(s));
            kinds.push(kind);
          }
        }
        if (hashing && !stopped) {
          if (hashes.length >= INSERT_BATCH) await flush();
          if (raw + hashes.length >= cap) {
            stopped = capReached = true;
            notFullyRead.push(`${key}.${col.name}`);
            // The anonymizer still needs the rest of this column.
            if (!use) break;
          }
        }
      }
    }
  }
  if (!staging) return { anonymizer };
  await flush();
  return { anonymizer, leak: await finishDictionary(staging, { started, cap, valuesRead, nameValues, notFullyRead, columns: leak!.sources.length }) };
}

/** Turns the raw hashes into the indexed dictionary: one row per hash, common names searched only inside full names. */
async function finishDictionary(
  staging: postgres.ReservedSql,
  run: { started: number; cap: number; valuesRead: number; nameValues: number; notFullyRead: string[]; columns: number },
): Promise<DictionaryStats> {
  // One row per hash (a value that is two kinds at once is reported under one). A first or last
  // name that many production people share identifies no one on its own, and turns up in book
  // titles and everyday text: alone it is searched only below this count; inside full names, always.
  const commonNameAt = Math.max(3, Math.ceil(run.nameValues * 0.002));
  await staging.unsafe(
    `CREATE TEMP TABLE rehearse_pii_dictionary_grouped AS
     SELECT h, min(kind) FILTER (WHERE kind <> 'start') AS kind, count(*) FILTER (WHERE kind = 'name') AS n, bool_or(kind = 'start') AS starts
     FROM rehearse_pii_dictionary_raw GROUP BY h`,
  );
  await staging.unsafe(`DROP TABLE rehearse_pii_dictionary_raw`);
  const [kept] = (await staging.unsafe(`SELECT count(*) FILTER (WHERE kind = 'name' AND n >= $1)::int AS common FROM rehearse_pii_dictionary_grouped`, [commonNameAt])) as unknown as Array<{ common: number }>;
  await staging.unsafe(
    `CREATE TEMP TABLE rehearse_pii_dictionary AS
     SELECT h, CASE WHEN kind = 'name' AND n >= ${commonNameAt} THEN NULL ELSE kind END AS kind, starts
     FROM rehearse_pii_dictionary_grouped WHERE starts OR NOT (kind = 'name' AND n >= ${commonNameAt})`,
  );
  await staging.unsafe(`DROP TABLE rehearse_pii_dictionary_grouped`);
  await staging.unsafe(`CREATE UNIQUE INDEX ON ${DICTIONARY_TABLE} (h)`);
  await staging.unsafe(`ANALYZE ${DICTIONARY_TABLE}`);
  const counts = (await staging.unsafe(`SELECT kind, count(*)::int AS n FROM ${DICTIONARY_TABLE} WHERE kind IS NOT NULL GROUP BY kind ORDER BY kind`)) as unknown as Array<{ kind: PiiKind; n: number }>;
  return {
    entries: counts.reduce((s, r) => s + r.n, 0),
    byKind: Object.fromEntries(counts.map((r) => [r.kind, r.n])),
    columns: run.columns,
    valuesRead: run.valuesRead,
    commonNames: { carriedByAtLeast: commonNameAt, notSearchedAlone: kept!.common },
    ...(run.notFullyRead.length ? { capped: { limit: run.cap, columnsNotFullyRead: run.notFullyRead } } : {}),
    ms: Date.now() - run.started,
  };
}

/**
 * Reads every source column of the whole production (one pass each, streamed) and fills the
 * hashed dictionary in a temporary table of `staging`, which must be one reserved connection.
 */
export async function buildDictionary(
  production: ReadOnlyTx,
  staging: postgres.ReservedSql,
  shape: DbShape,
  sources: DictionarySource[],
  opts: { stagingEmailDomain: string; cap?: number; signal?: AbortSignal },
): Promise<DictionaryStats> {
  const read = await readProductionPii(production, shape, { leak: { sources, staging, stagingEmailDomain: opts.stagingEmailDomain, ...(opts.cap ? { cap: opts.cap } : {}) }, ...(opts.signal ? { signal: opts.signal } : {}) });
  return read.leak!;
}
