// The PII detector: proposes a rule for every column that looks like personal data, from its
// name, its type and a sample of its values (long values: their first and last 32 KB). The
// coverage check (coverage.ts) turns the proposals into decisions and the rules file's entries.
import { isIP } from 'node:net';
import { isJsonObject, parseJson, type JsonValue } from './json-value.js';
import { parsePgArray, type PgArray } from './pg-array.js';
import type { AnonymizeRule, LeafRule } from './rules.js';
import { boundedSample, findPii, isEmail, looksLikeIsbn, looksLikePhone } from './scan.js';
import { normaliseKey } from './transformers.js';
import { REAL_FIRST_NAMES, REAL_LAST_NAMES } from './word-lists.js';

export interface ColumnSample {
  table: string;
  column: string;
  /** information_schema data_type: `text`, `jsonb`, `ARRAY`, `inet`, `USER-DEFINED`, … */
  dataType: string;
  /** information_schema udt_name: `text`, `jsonb`, `_text`, `inet`, `citext`, … */
  udtName: string;
  /** A few production values (strings, parsed JSON or arrays as the driver returns them). Never echoed. */
  samples: unknown[];
}

export type PiiReason = 'name' | 'content' | 'type';

export interface PiiProposal {
  table: string;
  column: string;
  rule: AnonymizeRule;
  reason: PiiReason;
  /** 0.5–0.99: how sure the detector is. */
  confidence: number;
  /** Why, in words, without any sampled value. */
  detail: string;
}

type Kind = 'text' | 'json' | 'inet' | 'date' | 'other';
type Candidate = Omit<PiiProposal, 'table' | 'column'>;

const TEXT_UDTS = new Set(['text', 'varchar', 'bpchar', 'char', 'name', 'citext']);

function kindOf(udt: string): Kind {
  if (TEXT_UDTS.has(udt)) return 'text';
  if (udt === 'json' || udt === 'jsonb') return 'json';
  if (udt === 'inet' || udt === 'cidr') return 'inet';
  if (udt === 'date' || udt === 'timestamp' || udt === 'timestamptz') return 'date';
  return 'other';
}

/** `shippingAddress` → [shipping, address]; `access_token` → [access, token]; `IPAddress` → [ip, address]. */
export function words(identifier: string): string[] {
  return identifier
    .split(/[_\-\s.]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

const PERSON_TABLES = new Set([
  'users', 'user', 'profiles', 'profile', 'customers', 'customer', 'members', 'member', 'contacts', 'contact', 'students',
  'student', 'teachers', 'teacher', 'volunteers', 'volunteer', 'donors', 'donor', 'authors', 'author', 'people', 'persons',
  'person', 'guardians', 'parents', 'employees', 'staff', 'recipients', 'subscribers', 'applicants', 'volunteer_applications',
]);
const PERSON_QUALIFIERS = new Set([
  'first', 'last', 'full', 'given', 'family', 'middle', 'sur', 'maiden', 'donor', 'parent', 'author', 'user', 'customer', 'contact',
  'recipient', 'guardian', 'student', 'teacher', 'nick', 'display', 'legal', 'billing', 'shipping', 'emergency', 'child', 'member',
  'owner', 'sender', 'receiver', 'buyer', 'volunteer', 'person', 'real', 'mother', 'father', 'kid', 'learner', 'instructor',
]);
const NON_PERSON_QUALIFIERS = new Set([
  'file', 'path', 'host', 'table', 'schema', 'column', 'class', 'course', 'campaign', 'product', 'school', 'story', 'book',
  'category', 'tag', 'brand', 'company', 'org', 'organization', 'organisation', 'event', 'app', 'db', 'database', 'key', 'field',
  'image', 'role', 'plan', 'type', 'template', 'bucket', 'queue', 'job', 'domain', 'variable', 'method', 'business', 'shop',
  'store', 'genre', 'language', 'city', 'country', 'street', 'team', 'group', 'document', 'page', 'site', 'project', 'model',
  'service', 'device', 'browser', 'os', 'provider', 'bank', 'institution', 'series', 'collection', 'level', 'badge', 'item',
  'package', 'feature', 'flag', 'setting', 'config', 'route', 'channel', 'region', 'state', 'status', 'unit',
]);
const FREE_TEXT_WORDS = new Set(['message', 'messages', 'note', 'notes', 'comment', 'comments', 'bio', 'biography', 'about', 'feedback', 'remarks', 'remark', 'signature']);
const TOKEN_WORDS = new Set(['token', 'secret', 'otp', 'nonce', 'salt', 'jwt', 'bearer', 'credential', 'credentials', 'csrf', 'apikey']);
const GOV_ID = ['ssn', 'socialsecurity', 'nationalid', 'passport', 'passportnumber', 'taxid', 'iban', 'bic', 'swift', 'creditcard', 'cardnumber', 'cvv', 'cvc', 'accountnumber', 'routingnumber', 'bankaccount', 'licensenumber', 'driverslicense'];

/** What the column's name alone suggests (for types that can hold it). */
function byName(table: string, column: string, kind: Kind, isArray: boolean): Candidate | undefined {
  const w = words(column);
  const joined = w.join('');
  const last = w.at(-1) ?? '';
  const has = (...xs: string[]) => xs.some((x) => w.includes(x));
  const c = (rule: AnonymizeRule, confidence: number, detail: string): Candidate => ({ rule, reason: 'name', confidence, detail });
  const textual = kind === 'text' || kind === 'json' || isArray;

  // Ids and foreign keys are not PII, except ids issued by outside parties for a person.
  if (last === 'id' || joined === 'id') {
    if (kind !== 'text') return undefined;
    if (has('stripe', 'paypal')) return c('token', 0.85, 'an id issued by a payment provider for a person');
    if (joined.includes('provideraccount')) return c('token', 0.8, 'an OAuth provider account id');
    if (has('external') && has('customer', 'user', 'account', 'person')) return c('token', 0.6, 'an id issued elsewhere for a person');
    return undefined;
  }
  if (kind === 'inet') return c('ip', 0.95, 'an IP address column');
  if (kind === 'date') return has('dob', 'birth', 'birthday', 'birthdate') ? c('dateOfBirth', 0.9, 'the name says date of birth') : undefined;
  if (!textual) return undefined;

  if (has('password', 'passwd', 'pwd') || joined.includes('password')) return c('passwordHash', 0.95, 'the name says password');
  if (has('email', 'mail', 'emails') || joined.endsWith('email')) return c('email', 0.95, 'the name says e-mail');
  if (has('isbn', 'issn', 'ean', 'upc', 'sku', 'gtin')) return undefined;
  if (has('url', 'uri', 'link', 'website', 'homepage', 'portfolio', 'href')) return c('url', 0.7, 'a link, which can carry a person\'s name');
  if (has('phone', 'mobile', 'telephone', 'tel', 'fax', 'msisdn', 'cellphone', 'phones')) return c('phone', 0.9, 'the name says phone');
  if (has('ip') || ['ipaddress', 'ipaddr', 'remoteaddr', 'remoteaddress', 'clientip', 'xforwardedfor', 'forwardedfor'].includes(joined)) return c('ip', 0.9, 'the name says IP address');
  if (joined.includes('useragent') || has('ua')) return c('userAgent', 0.85, 'the name says user agent');
  if (w.some((x) => TOKEN_WORDS.has(x)) || (has('api') && has('key'))) return c('token', 0.9, 'the name says token or secret');
  if (has('dob', 'birth', 'birthday', 'birthdate')) return c('dateOfBirth', 0.85, 'the name says date of birth');
  if (GOV_ID.some((g) => joined.includes(g))) return c('token', 0.85, 'the name says an identity, card or bank number');
  if (has('address', 'street', 'addressline', 'line1', 'line2')) return c('address', kind === 'json' ? 0.9 : 0.8, 'the name says address');
  if (has('zip', 'zipcode', 'postal', 'postcode', 'postalcode')) return c('postalCode', 0.85, 'the name says postal code');
  if (has('city', 'town', 'location', 'hometown', 'birthplace')) return c('city', 0.75, 'the name says a place someone is in');

  const nameWords = ['firstname', 'lastname', 'fullname', 'surname', 'givenname', 'familyname', 'middlename', 'maidenname', 'nickname', 'displayname'];
  if (last === 'name' || nameWords.some((n) => joined.endsWith(n))) {
    if (joined === 'username' || joined.endsWith('username') && !has('display')) return c('token', 0.7, 'a user name can identify a person');
    const qualifiers = w.slice(0, -1);
    if (qualifiers.some((q) => NON_PERSON_QUALIFIERS.has(q))) return undefined;
    const part = has('first', 'given') || joined.endsWith('firstname') || joined.endsWith('givenname')
      ? 'firstName'
      : has('last', 'family', 'sur') || joined.endsWith('lastname') || joined.endsWith('surname') || joined.endsWith('familyname') ? 'lastName' : 'name';
    if (qualifiers.length === 0 && last === 'name') {
      return PERSON_TABLES.has(table.replace(/^.*\./, '').toLowerCase()) ? c('name', 0.85, `"name" in a table of people`) : undefined;
    }
    if (qualifiers.some((q) => PERSON_QUALIFIERS.has(q)) || nameWords.some((n) => joined.endsWith(n))) return c(part, 0.9, 'the name says a person\'s name');
    return c('name', 0.5, 'a name of something that may be a person');
  }
  if (w.some((x) => FREE_TEXT_WORDS.has(x))) return c('freeText', 0.7, 'free text people write (may hold e-mails or phone numbers)');
  if (has('avatar', 'photo', 'picture') || (has('image') && PERSON_TABLES.has(table.replace(/^.*\./, '').toLowerCase()))) {
    return c('url', 0.6, 'a picture of a person');
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// content

type ValueClass = 'passwordHash' | 'email' | 'phone' | 'ip' | 'token' | 'name';

const NAME_RE = /^\p{Lu}[\p{L}'’-]+(?:\s+\p{Lu}[\p{L}'’-]+){1,2}$/u;
const TOKEN_PREFIX = /^(?:sk_(?:live|test)_|rk_(?:live|test)_|pk_(?:live|test)_|whsec_|cus_|pi_|ch_|sub_|acct_|seti_|pm_|ya29\.|ghp_|gho_|github_pat_|xox[abpr]-|AKIA)[A-Za-z0-9_-]{6,}/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The class a whole value belongs to, if it is one of the PII shapes. */
export function classifyValue(v: string): ValueClass | undefined {
  // Whole-value shapes are short: a long value is free text, looked at by hasEmbeddedPii.
  if (v.length > 512) return undefined;
  const s = v.trim();
  if (s === '') return undefined;
  if (/^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/.test(s) || /^\$argon2(?:id|i|d)\$/.test(s) || /^\$(?:pbkdf2|scrypt)/.test(s)) return 'passwordHash';
  if (isEmail(s)) return 'email';
  if (looksLikeIsbn(s)) return undefined;
  if (isIP(s.replace(/\/\d{1,3}$/, ''))) return 'ip';
  if (/^[+()\d\s.-]+$/.test(s) && /\d/.test(s) && looksLikePhone(s)) return 'phone';
  if (/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*$/.test(s) || TOKEN_PREFIX.test(s)) return 'token';
  if (s.length >= 32 && /^[A-Za-z0-9_\-+/=.:]+$/.test(s) && /\d/.test(s) && /[A-Za-z]/.test(s) && !UUID_RE.test(s)) return 'token';
  if (NAME_RE.test(s)) {
    const parts = s.split(/\s+/);
    if (REAL_FIRST_NAMES.has(parts[0]!.toLowerCase()) && REAL_LAST_NAMES.has(parts.at(-1)!.toLowerCase())) return 'name';
  }
  return undefined;
}

/** Does free text contain an e-mail, an IPv4 address, or a phone or card number? */
export function hasEmbeddedPii(v: string): boolean {
  return findPii(v).some((f) => f.kind !== 'url');
}

const CLASS_RULE: Record<ValueClass, LeafRule> = { passwordHash: 'passwordHash', email: 'email', phone: 'phone', ip: 'ip', token: 'token', name: 'name' };
const CLASS_WORDS: Record<ValueClass, string> = {
  passwordHash: 'password hashes', email: 'e-mail addresses', phone: 'phone numbers', ip: 'IP addresses', token: 'tokens or secrets', name: 'person names',
};

function flattenArray(a: PgArray | unknown[]): string[] {
  const out: string[] = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (typeof x === 'string') out.push(x);
  };
  walk(a);
  return out;
}

/** String leaves of a JSON document with the key they sit under (undefined inside bare arrays). */
function jsonLeaves(doc: unknown): Array<{ key: string | undefined; value: string }> {
  const out: Array<{ key: string | undefined; value: string }> = [];
  const walk = (x: unknown, key: string | undefined) => {
    if (typeof x === 'string') out.push({ key, value: x });
    else if (Array.isArray(x)) x.forEach((e) => walk(e, key));
    else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x as Record<string, unknown>)) walk(v, k);
  };
  walk(doc, undefined);
  return out;
}

function jsonKeys(doc: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(doc)) doc.forEach((e) => jsonKeys(e, into));
  else if (isJsonObject(doc as JsonValue)) for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    into.add(normaliseKey(k));
    jsonKeys(v, into);
  }
  return into;
}

const ADDRESS_KEYS = new Set(['street', 'street1', 'street2', 'line1', 'line2', 'addressline1', 'addressline2', 'city', 'postalcode', 'postcode', 'zip', 'zipcode']);

function byContentOfStrings(all: string[], idLike: boolean): Candidate | undefined {
  let sampled = false;
  const values = all.map((v) => {
    const b = boundedSample(v);
    sampled ||= b.sampled;
    return b.text;
  });
  const note = sampled ? ' (long values sampled: their first and last 32 KB)' : '';
  const present = values.filter((v) => v.trim() !== '');
  if (present.length === 0) return undefined;
  const counts = new Map<ValueClass, number>();
  let embedded = 0;
  for (const v of present) {
    const cls = classifyValue(v);
    if (cls && !(idLike && cls === 'token')) counts.set(cls, (counts.get(cls) ?? 0) + 1);
    else if (!cls && hasEmbeddedPii(v)) embedded++;
  }
  let best: [ValueClass, number] | undefined;
  for (const entry of counts) if (!best || entry[1] > best[1]) best = entry;
  if (best && best[1] / present.length >= 0.5) {
    const frac = best[1] / present.length;
    return {
      rule: CLASS_RULE[best[0]],
      reason: 'content',
      confidence: round(0.5 + 0.45 * frac),
      detail: `${best[1]} of ${present.length} sampled values look like ${CLASS_WORDS[best[0]]}${note}`,
    };
  }
  const mixed = embedded + [...counts.values()].reduce((a, b) => a + b, 0);
  if (mixed > 0) {
    return {
      rule: 'freeText',
      reason: 'content',
      confidence: round(Math.min(0.9, 0.6 + 0.3 * (mixed / present.length))),
      detail: `${mixed} of ${present.length} sampled values contain e-mail addresses, phone numbers or the like${note}`,
    };
  }
  return undefined;
}

function byContentOfJson(docs: unknown[]): Candidate | undefined {
  if (docs.length === 0) return undefined;
  const keys = new Set<string>();
  for (const d of docs) jsonKeys(d, keys);
  const addressKeys = [...keys].filter((k) => ADDRESS_KEYS.has(k));
  if (addressKeys.length >= 2 || addressKeys.some((k) => k.startsWith('street') || k.startsWith('line') || k.startsWith('addressline'))) {
    return { rule: 'address', reason: 'content', confidence: 0.85, detail: `sampled documents hold address keys (${addressKeys.join(', ')})` };
  }
  // Otherwise look for PII values under any key, and name those keys in a json rule.
  const paths: Record<string, LeafRule> = {};
  let found = 0;
  let leaves = 0;
  for (const d of docs) {
    for (const { key, value } of jsonLeaves(d)) {
      leaves++;
      const cls = classifyValue(value);
      if (cls || hasEmbeddedPii(value)) found++;
      if (cls && key !== undefined && /^[A-Za-z0-9_$-]+$/.test(key)) paths[`$..${key}`] = CLASS_RULE[cls];
    }
  }
  if (found === 0) return undefined;
  return {
    rule: { rule: 'json', paths, others: 'freeText' },
    reason: 'content',
    confidence: round(Math.min(0.9, 0.6 + 0.3 * (found / Math.max(leaves, 1)))),
    detail: `${found} string values in the sampled documents look like personal data`,
  };
}

function toDoc(sample: unknown): unknown {
  if (typeof sample !== 'string') return sample;
  try {
    return parseJson(sample);
  } catch {
    return sample;
  }
}

function toArray(sample: unknown): string[] {
  if (Array.isArray(sample)) return flattenArray(sample);
  if (typeof sample === 'string') {
    try {
      return flattenArray(parsePgArray(sample).elements);
    } catch {
      return [sample];
    }
  }
  return [];
}

const round = (x: number) => Math.round(x * 100) / 100;

export interface DetectOptions {
  /** Drop proposals below this confidence (default 0.5, the floor the detector emits). */
  minConfidence?: number;
}

const PRODUCT_CODE = /(?:^|[_\W])(?:isbn|issn|ean|upc|sku|gtin)(?:$|[_\W\d])|^(?:isbn|issn|ean|upc|sku|gtin)/i;

/** One proposal per PII-looking column: the strongest signal wins, and agreeing signals raise confidence. */
export function detectPii(columns: ColumnSample[], opts: DetectOptions = {}): PiiProposal[] {
  const min = opts.minConfidence ?? 0.5;
  const out: PiiProposal[] = [];
  for (const col of columns) {
    const isArray = col.dataType === 'ARRAY' || col.udtName.startsWith('_');
    const kind = kindOf(isArray ? col.udtName.replace(/^_/, '') : col.udtName);
    const candidates: Candidate[] = [];
    if (kind === 'inet') candidates.push({ rule: 'ip', reason: 'type', confidence: 0.95, detail: `type ${col.udtName} holds IP addresses` });
    const named = byName(col.table, col.column, kind, isArray);
    if (named) candidates.push(named);
    const present = col.samples.filter((s) => s !== null && s !== undefined);
    const idLike = /(?:^id|Id|_id)$/.test(col.column);
    if (kind === 'json') {
      const docs = present.flatMap((s) => (isArray ? toArray(s).map(toDoc) : [toDoc(s)]));
      const c = byContentOfJson(docs);
      if (c) candidates.push(c);
    } else if (kind === 'text') {
      const values = present.flatMap((s) => (isArray ? toArray(s) : typeof s === 'string' ? [s] : []));
      const c = byContentOfStrings(values, idLike);
      // A product code (ISBN, EAN, SKU…) is digits and dashes like a phone number, and names no one.
      if (c && !(c.rule === 'phone' && PRODUCT_CODE.test(col.column))) candidates.push(c);
    }
    if (candidates.length === 0) continue;
    candidates.sort((a, b) => b.confidence - a.confidence);
    const best = { ...candidates[0]! };
    const sameRule = (a: AnonymizeRule, b: AnonymizeRule) => JSON.stringify(a) === JSON.stringify(b);
    if (candidates.slice(1).some((c) => sameRule(c.rule, best.rule))) best.confidence = round(Math.min(0.99, best.confidence + 0.05));
    if (best.confidence >= min) out.push({ table: col.table, column: col.column, ...best });
  }
  return out;
}
