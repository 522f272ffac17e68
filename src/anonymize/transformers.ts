// Value transformers: production value in, staging value out. Each is deterministic for a given
// secret key (keyed HMAC-SHA256), so the same e-mail becomes the same pseudonym in every table
// and every run, and without the key a pseudonym cannot be traced back.
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { UserError } from '../errors.js';
import { createKeyedHash } from './hmac-sha256.js';
import { isJsonObject, numberFromText, type JsonValue } from './json-value.js';
import { findPii, phoneDigitsKey, rewriteFinds } from './scan.js';
import { UniquenessRegistry } from './unique.js';
import { FAKE_CITIES, FAKE_FIRST_NAMES, FAKE_LAST_NAMES, FAKE_STREETS, FAKE_USER_AGENTS } from './word-lists.js';

/** The password every staging account gets. Safe to print: it only opens staging. */
export const STAGING_PASSWORD = 'staging-password-123';

/**
 * bcrypt (cost 10) of STAGING_PASSWORD, made once offline with Python's `bcrypt` package
 * (Debian python3-bcrypt): `bcrypt.hashpw(b"staging-password-123", bcrypt.gensalt(10, b"2b"))`,
 * and checked with a second implementation, Apache's `htpasswd -vb` (apache2-utils). `$2b$` is
 * what bcrypt and bcryptjs in a Node app produce and accept.
 */
export const STAGING_PASSWORD_HASH = '$2b$10$JPl.A0/ok7tIlt4uCDvs/uzgfa5MHeu9nKHmkwIgBUNQUByi3ebLu';

export const STAGING_EMAIL_DOMAIN = 'staging.local';

/** A shorter key would let someone holding a list of real addresses brute-force the pseudonyms. */
export const MIN_SECRET_BYTES = 16;

/** Maps a string and passes null through, with types that say so. */
export interface StringTransformer {
  (value: string): string;
  (value: null): null;
  (value: string | null): string | null;
}

export interface AddressOptions {
  /** Key names to replace (matched case- and separator-insensitively); defaults to DEFAULT_ADDRESS_KEYS. */
  keys?: readonly string[];
  /** Key names to keep as they are; defaults to DEFAULT_ADDRESS_KEEP. */
  keep?: readonly string[];
}

export interface TransformerOptions {
  /** "Today" for age brackets. Pass the run's date so a rerun on another day gives the same result. Default: today (UTC). */
  referenceDate?: Date | string;
  /** Domain of pseudonymous e-mail addresses. Default `staging.local`. */
  emailDomain?: string;
  /** Hex characters in an e-mail pseudonym (`user-3f9a1c2b` has 8, the default). Tests shrink it to force collisions. */
  pseudonymHexChars?: number;
  /** Shared collision overrides; pass the run's registry so every table agrees. */
  registry?: UniquenessRegistry;
  /** Production's names and phone numbers, for `scrub` and for phone pseudonyms that are never real. */
  dictionary?: PiiDictionary;
}

export interface Transformers {
  /**
   * `user-<hmac>@staging.local`, keyed on the trimmed, lower-cased address. Plus-tags are NOT
   * stripped: `ann+shop@x.org` and `ann@x.org` are different accounts in production (and may both
   * sit in the unique users.email), so they must stay different in staging.
   */
  readonly email: StringTransformer;
  /** A "First Last" fake name from built-in lists, whatever the input's shape. */
  readonly name: StringTransformer;
  readonly firstName: StringTransformer;
  readonly lastName: StringTransformer;
  /**
   * Same punctuation and digit count (a separated `+cc` kept). Ten or more digits read
   * `AAA-555-01xx` (fictional in every NANP area code: 80,000 numbers); shorter ones are derived
   * digits. Never a production number (the dictionary's), and never the same for two inputs.
   */
  readonly phone: StringTransformer;
  /** IPv4 → 240.0.0.0/4 (reserved), IPv6 → 2001:db8::/32, never a production address; a `/n` suffix is kept. */
  readonly ip: StringTransformer;
  /** For cidr columns: the `ip` pseudonym with the mask kept and the host bits zeroed (a valid network). */
  readonly cidr: StringTransformer;
  /** `staging-token-<hmac prefix>`: one-way, unique for practical purposes. */
  readonly token: StringTransformer;
  /** The one staging bcrypt hash (STAGING_PASSWORD); an empty value stays empty. */
  readonly passwordHash: StringTransformer;
  /** Shifted by 1–180 days either way, staying in the same age bracket (<13, 13–17, 18+) at the reference date. */
  readonly dateOfBirth: StringTransformer;
  /** Generated filler text of the same shape (word lengths, case, punctuation, line breaks); nothing of the input's words. */
  readonly freeText: StringTransformer;
  /** The text kept, but e-mails, URLs, IPs, phone and card numbers and every production name word replaced. */
  readonly scrub: StringTransformer;
  /** An e-mail pseudonym of at most `max` characters (for varchar(n)); `attempt` > 1 derives another one. */
  emailFit(value: string, max: number, attempt?: number): string;
  readonly city: StringTransformer;
  /** Letters stay letters, digits stay digits, punctuation stays. */
  readonly postalCode: StringTransformer;
  /** A street line such as `42 Example Street`. */
  readonly street: StringTransformer;
  readonly userAgent: StringTransformer;
  /** `https://staging.local/anon/<hmac>.<ext>` keeping an image extension. */
  readonly url: StringTransformer;
  /** Format-preserving scramble for values of unknown meaning. */
  readonly scramble: StringTransformer;
  /** Replaces address parts inside a JSON value (recursively); a plain string becomes a fake street line. */
  address(value: JsonValue, opts?: AddressOptions): JsonValue;
  readonly referenceDate: string;
  readonly registry: UniquenessRegistry;
  /** keyFingerprint(secret): lets a caller check two pieces were keyed alike. */
  readonly fingerprint: string;
}

export const DEFAULT_ADDRESS_KEEP = ['country', 'countryCode', 'state'] as const;

type AddressKind = 'street' | 'line2' | 'city' | 'postalCode' | 'phone' | 'name' | 'firstName' | 'lastName' | 'email' | 'region';

/** Normalised key → how to replace it. Normalising drops case and separators: `postal_code` = `postalCode`. */
const ADDRESS_KINDS: Record<string, AddressKind> = {
  street: 'street', street1: 'street', streetaddress: 'street', streetname: 'street', address: 'street', address1: 'street',
  addressline1: 'street', line1: 'street', addr: 'street', housenumber: 'street', building: 'street',
  street2: 'line2', address2: 'line2', addressline2: 'line2', line2: 'line2', line3: 'line2', apartment: 'line2', apt: 'line2', suite: 'line2', unit: 'line2',
  city: 'city', town: 'city', locality: 'city', village: 'city', suburb: 'city',
  postalcode: 'postalCode', postcode: 'postalCode', postal: 'postalCode', zip: 'postalCode', zipcode: 'postalCode',
  phone: 'phone', phonenumber: 'phone', mobile: 'phone', tel: 'phone', telephone: 'phone',
  name: 'name', fullname: 'name', recipient: 'name', recipientname: 'name', contactname: 'name',
  firstname: 'firstName', givenname: 'firstName', lastname: 'lastName', familyname: 'lastName', surname: 'lastName',
  email: 'email', emailaddress: 'email',
  state: 'region', province: 'region', region: 'region', county: 'region', country: 'region', countrycode: 'region',
};

/** The keys the address rule replaces when the config does not list its own. */
export const DEFAULT_ADDRESS_KEYS: readonly string[] = Object.keys(ADDRESS_KINDS);

export const normaliseKey = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

function toKey(secret: Buffer | string): Buffer {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (key.length < MIN_SECRET_BYTES) {
    throw new UserError(`The anonymization key is ${key.length} bytes; it needs at least ${MIN_SECRET_BYTES}.`, {
      tryThis: 'Generate one with `openssl rand -hex 32` and keep it out of version control.',
    });
  }
  return key;
}

/** A fingerprint of the key that is safe to log or report: it says "same key" without revealing it. */
export function keyFingerprint(secret: Buffer | string): string {
  return createHmac('sha256', secret).update('rehearse-anonymize-key-fingerprint').digest('hex').slice(0, 16);
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function parseReferenceDate(ref: Date | string | undefined): { y: number; m: number; d: number; text: string } {
  const text = ref === undefined ? isoDay(new Date()) : typeof ref === 'string' ? ref : isoDay(ref);
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!m) throw new UserError(`The anonymization reference date "${text}" is not YYYY-MM-DD.`);
  return { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]), text: m[0] };
}

/** Blank values carry no PII and are kept as they are. */
const isBlank = (v: string) => v.trim() === '';

export { looksLikeCard, looksLikePhone } from './scan.js';

function digitsOf(s: string): string {
  return s.replace(/\D/g, '');
}

/**
 * Filler words by length (index = length): free text is rebuilt from these, so nothing of the
 * production text but its shape (word lengths, case, punctuation, digits count, line breaks) survives.
 */
const FILLER: readonly (readonly string[])[] = [
  [],
  ['a', 'e', 'o'],
  ['et', 'in', 'ad', 'ut', 'id'],
  ['sed', 'non', 'est', 'nam', 'vel'],
  ['amet', 'elit', 'erat', 'nisi', 'odio'],
  ['lorem', 'ipsum', 'dolor', 'magna', 'nulla'],
  ['tempor', 'labore', 'dolore', 'veniam', 'cillum', 'fugiat'],
  ['eiusmod', 'aliquip', 'commodo', 'laboris', 'nostrud'],
  ['occaecat', 'proident', 'deserunt', 'pariatur', 'incidunt'],
  ['excepteur', 'cupidatat', 'consequat', 'voluptate', 'molestiae'],
  ['adipiscing', 'exercitati', 'reprehende', 'perspiciat', 'doloremque'],
];

export interface PiiDictionary {
  /** Lower-cased words of production's person names (and e-mail local parts): scrub replaces them. */
  nameTokens?: ReadonlySet<string>;
  /** Digits of every production phone number: a phone pseudonym never equals one of them. */
  phoneDigits?: ReadonlySet<string>;
  /** Every production IP address (as `host()` prints it): an ip pseudonym never equals one of them. */
  ipAddresses?: ReadonlySet<string>;
}

export function createTransformers(secret: Buffer | string, opts: TransformerOptions = {}): Transformers {
  const key = toKey(secret);
  const ref = parseReferenceDate(opts.referenceDate);
  const emailDomain = opts.emailDomain ?? STAGING_EMAIL_DOMAIN;
  const hexChars = opts.pseudonymHexChars ?? 8;
  if (!Number.isInteger(hexChars) || hexChars < 1 || hexChars > 64) throw new RangeError('pseudonymHexChars must be 1–64');
  const registry = opts.registry ?? new UniquenessRegistry();

  // Domain separation: the same input under two rules gives unrelated outputs.
  const mac = createKeyedHash(key);
  const pick = <T>(list: readonly T[], digest: Buffer, offset: number): T => list[digest.readUInt32BE(offset) % list.length]!;

  const nullSafe = (domain: string, fn: (v: string) => string): StringTransformer =>
    ((v: string | null) => {
      if (v === null) return null;
      const earlier = registry.lookup(domain, v);
      return earlier ?? fn(v);
    }) as StringTransformer;

  /** Replaces digits (and letters, if asked) position by position from the digest. */
  const formatPreserving = (v: string, digest: Buffer, letters: boolean): string => {
    let out = '';
    let k = 0;
    for (const ch of v) {
      const b = digest[k++ % digest.length]! ^ (k >> 5);
      if (ch >= '0' && ch <= '9') out += String(b % 10);
      else if (letters && ch >= 'a' && ch <= 'z') out += String.fromCharCode(97 + (b % 26));
      else if (letters && ch >= 'A' && ch <= 'Z') out += String.fromCharCode(65 + (b % 26));
      else out += ch;
    }
    return out;
  };

  /** If a replacement happens to equal the input (a test value already in production), nudge it. */
  const differ = (input: string, output: string, alternative: () => string): string =>
    output.toLowerCase() === input.toLowerCase() ? alternative() : output;

  const email = (v: string): string => {
    const normal = v.trim().toLowerCase();
    if (normal === '') return v;
    const hex = mac('email', normal).toString('hex').slice(0, hexChars);
    return `user-${hex}@${emailDomain}`;
  };
  /** Shorter forms for short columns: `user-<hex>@domain`, then `<hex>@domain`, then `<hex>@s.test` (RFC 2606). */
  const emailFit = (v: string, max: number, attempt = 1): string => {
    const normal = v.trim().toLowerCase();
    if (normal === '') return v;
    const hex = mac('email', attempt > 1 ? `${normal}\0${attempt}` : normal).toString('hex');
    const full = `user-${hex.slice(0, hexChars)}@${emailDomain}`;
    if (full.length <= max && attempt === 1) return full;
    for (const [prefix, domain] of [['user-', emailDomain], ['', emailDomain], ['', 's.test']] as const) {
      const room = max - prefix.length - 1 - domain.length;
      if (room >= 6) return `${prefix}${hex.slice(0, Math.min(room, 24))}@${domain}`;
    }
    throw new UserError(`An e-mail pseudonym needs at least 13 characters; the column holds ${max}.`, {
      tryThis: 'Give the column the rule "token" or "null" instead of "email".',
    });
  };

  const nameParts = (v: string): [string, string] => {
    const d = mac('name', v.trim().toLowerCase().replace(/\s+/g, ' '));
    return [pick(FAKE_FIRST_NAMES, d, 0), pick(FAKE_LAST_NAMES, d, 4)];
  };
  const name = (v: string) => (isBlank(v) ? v : nameParts(v).join(' '));
  const firstName = (v: string) => (isBlank(v) ? v : differ(v, nameParts(v)[0], () => `${nameParts(v)[0]}a`));
  const lastName = (v: string) => (isBlank(v) ? v : nameParts(v)[1]);

  // A number is compared by the leak scan's key: "+1 202…" and "202…" are the same phone, so a
  // pseudonym must differ from production's on that key too.
  const productionPhones = new Set([...(opts.dictionary?.phoneDigits ?? [])].map(phoneDigitsKey));
  const phoneByInput = new Map<string, string>();
  const phoneInputs = new Map<string, string>();
  /** Fake digits for `digits` (cc kept): never a production number, never another input's pseudonym. */
  const phoneDigits = (digits: string, cc: string): string => {
    const known = phoneByInput.get(digits);
    if (known !== undefined) return known;
    for (let attempt = 0; ; attempt++) {
      const d = mac('phone', attempt ? `${digits}\0${attempt}` : digits);
      const rest = digits.length - cc.length;
      let fake = cc;
      if (rest >= 10) {
        // NANP: area code 200–999, then 555-01xx (reserved for fiction in every area code). When
        // production's own numbers already use every 555-01xx ending, derived digits take over.
        for (let i = 0; i < rest - 10; i++) fake += String(d[8 + i]! % 10);
        fake += String(200 + (d.readUInt16BE(0) % 800)) + (attempt < 200 ? '55501' + String(d.readUInt16BE(2) % 100).padStart(2, '0') : String(2000000 + (d.readUInt32BE(4) % 8000000)));
      } else {
        for (let i = 0; i < rest; i++) fake += String(d[i]! % 10);
      }
      const taken = phoneInputs.get(fake);
      // The leak scan also finds a 7-digit local number inside a longer one ("555-0122" in "818-555-0122").
      const local = fake.length > 7 ? fake.slice(-7) : undefined;
      if (phoneDigitsKey(fake) !== phoneDigitsKey(digits) && !productionPhones.has(phoneDigitsKey(fake)) && !(local && productionPhones.has(local)) && (taken === undefined || taken === digits)) {
        phoneByInput.set(digits, fake);
        phoneInputs.set(fake, digits);
        return fake;
      }
      if (attempt > 1000) throw new Error('phone pseudonyms: no free number after 1000 attempts');
    }
  };
  const phone = (v: string): string => {
    if (isBlank(v)) return v;
    const digits = digitsOf(v);
    if (digits.length === 0) return `555-01${String(mac('phone', v).readUInt16BE(0) % 100).padStart(2, '0')}`;
    // A separated "+cc" country code is not identifying and keeps the number parseable: keep it.
    const cc = /^\s*\+(\d{1,3})[\s.(-]/.exec(v)?.[1] ?? '';
    const fake = phoneDigits(digits, cc);
    let k = 0;
    return v.replace(/\d/g, () => fake[k++]!);
  };

  // IPv4 pseudonyms come from 240.0.0.0/4 (reserved, never a host on any network), not from the
  // documentation ranges: those are what synthetic and test data use, so a pseudonym there would
  // equal real values. Never a production address (the dictionary's), and never the input itself.
  const productionIps = opts.dictionary?.ipAddresses ?? new Set<string>();
  const oneIp = (addr: string): string => {
    const kind = isIP(addr);
    if (kind === 0) return addr;
    for (let attempt = 0; ; attempt++) {
      const d = mac('ip', attempt ? `${addr.toLowerCase()}#${attempt}` : addr.toLowerCase());
      const fake =
        kind === 4
          ? `${240 + (d[0]! % 15)}.${d[1]}.${d[2]}.${1 + (d[3]! % 254)}`
          : ['2001', 'db8', ...Array.from({ length: 6 }, (_, i) => d.readUInt16BE(2 + i * 2).toString(16))].join(':');
      if (fake !== addr && !productionIps.has(fake)) return fake;
    }
  };
  const ip = (v: string): string => {
    const trimmed = v.trim();
    const slash = trimmed.indexOf('/');
    const addr = slash < 0 ? trimmed : trimmed.slice(0, slash);
    if (isIP(addr)) return oneIp(addr) + (slash < 0 ? '' : trimmed.slice(slash));
    // Lists such as X-Forwarded-For: replace each address, keep the separators.
    return v.replace(/[0-9A-Fa-f:.]{2,}/g, (tok) => (isIP(tok) ? oneIp(tok) : tok));
  };

  /** The ip pseudonym of a network, host bits zeroed so the result is a valid cidr value. */
  const cidr = (v: string): string => {
    const trimmed = v.trim();
    const slash = trimmed.indexOf('/');
    const addr = slash < 0 ? trimmed : trimmed.slice(0, slash);
    const kind = isIP(addr);
    if (kind === 0) return ip(v);
    const bits = slash < 0 ? (kind === 4 ? 32 : 128) : Number(trimmed.slice(slash + 1));
    const fake = oneIp(addr);
    const masked = kind === 4 ? maskV4(fake, bits) : maskV6(fake, bits);
    return slash < 0 ? masked : `${masked}/${bits}`;
  };

  const token = (v: string) => (v === '' ? v : `staging-token-${mac('token', v).toString('hex').slice(0, 20)}`);
  const passwordHash = (v: string) => (v === '' ? v : STAGING_PASSWORD_HASH);

  const dateOfBirth = (v: string): string => {
    const m = /^(\d{4,})-(\d{2})-(\d{2})([\s\S]*)$/.exec(v);
    if (!m) {
      if (/^-?infinity$/i.test(v.trim()) || isBlank(v)) return v;
      // Never pass an unparsed birth date through, and never echo it: it is the PII.
      throw new UserError('A date of birth is not in ISO form (YYYY-MM-DD…); it cannot be shifted safely.', {
        tryThis: 'Read production with DateStyle=ISO (the data step sets it), or mark the column with rule "null".',
      });
    }
    const [y, mo, da] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const u = mac('dob', `${m[1]}-${m[2]}-${m[3]}`).readUInt16BE(0) % 360;
    const offset = u < 180 ? -(u + 1) : u - 179; // ±1…180, never 0 (0 would copy the real date)
    const fmt = ([yy, mm, dd]: [number, number, number]) => `${String(yy).padStart(m[1]!.length, '0')}-${String(mm).padStart(2, '0')}-${String(dd).padStart(2, '0')}${m[4]}`;
    // Far-future and BC dates are no one's birthday and outside JavaScript's calendar: move the
    // day within its month (days 1–28 exist in every month), which keeps the value valid.
    if (y < 1 || y > 9999 || /BC/i.test(m[4]!)) {
      const day = ((da - 1 + Math.abs(offset)) % 28) + 1;
      return fmt([y, mo, day === da ? (day % 28) + 1 : day]);
    }
    const bracket = (yy: number, mm: number, dd: number): number => {
      const age = ref.y - yy - (ref.m < mm || (ref.m === mm && ref.d < dd) ? 1 : 0);
      return age < 0 ? -1 : age < 13 ? 0 : age < 18 ? 1 : 2;
    };
    const shift = (days: number): [number, number, number] => {
      const t = new Date(0);
      t.setUTCFullYear(y, mo - 1, da);
      t.setUTCDate(t.getUTCDate() + days);
      return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
    };
    const want = bracket(y, mo, da);
    let out = shift(offset);
    // A bracket is at least five years wide, so if one direction crosses a boundary the other cannot.
    if (bracket(...out) !== want || out[0] < 1 || out[0] > 9999) out = shift(-offset);
    return fmt(out);
  };

  const city = (v: string) => (isBlank(v) ? v : differ(v, pick(FAKE_CITIES, mac('city', v.trim().toLowerCase()), 0), () => `${pick(FAKE_CITIES, mac('city', v), 4)} Heights`));
  const scramble = (v: string) => {
    if (isBlank(v)) return v;
    const out = formatPreserving(v, mac('scramble', v), true);
    return out === v ? formatPreserving(v, mac('scramble2', v), true) : out;
  };
  const postalCode = (v: string) => {
    if (isBlank(v)) return v;
    const out = formatPreserving(v, mac('postal', v.trim().toUpperCase()), true);
    return out === v ? formatPreserving(v, mac('postal2', v), true) : out;
  };
  const street = (v: string) => {
    if (isBlank(v)) return v;
    const d = mac('street', v.trim().toLowerCase());
    return `${1 + (d.readUInt16BE(0) % 400)} ${pick(FAKE_STREETS, d, 2)}`;
  };
  const line2 = (v: string) => (isBlank(v) ? v : `Apt ${1 + (mac('line2', v).readUInt16BE(0) % 60)}`);
  const userAgent = (v: string) => (isBlank(v) ? v : pick(FAKE_USER_AGENTS, mac('ua', v), 0));
  const url = (v: string) => {
    if (isBlank(v)) return v;
    const ext = /\.(png|jpe?g|gif|webp|svg|avif|pdf|epub|mp3|m4a|wav|mp4)(?:[?#]|$)/i.exec(v)?.[0].replace(/[?#]$/, '') ?? '';
    return `https://${emailDomain}/anon/${mac('url', v).toString('hex').slice(0, 16)}${ext.toLowerCase()}`;
  };

  const emailT = nullSafe('email', email);
  const phoneT = nullSafe('phone', phone);
  const ipT = nullSafe('ip', ip);

  /** Filler of the same shape: each letter run becomes filler words of its length, each digit run other digits. */
  const freeText = (v: string): string => {
    if (isBlank(v)) return v;
    const d = mac('freeText', v.length > 4096 ? `${v.length}\0${v.slice(0, 2048)}${v.slice(-2048)}` : v);
    let state = d.readUInt32BE(0) || 1;
    const next = () => {
      // xorshift32: a cheap deterministic stream seeded from the value's HMAC.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    return v.replace(/[\p{L}\p{M}]+|\p{Nd}+/gu, (run) => {
      if (run.charCodeAt(0) >= 48 && run.charCodeAt(0) <= 57) {
        let out = '';
        for (let i = 0; i < run.length; i++) out += String(next() % 10);
        return out;
      }
      let word = '';
      while (word.length < run.length) {
        const want = Math.min(run.length - word.length, FILLER.length - 1);
        const list = FILLER[want]!;
        word += list[next() % list.length];
      }
      const upper = run.length > 1 && run === run.toUpperCase() && run !== run.toLowerCase();
      if (upper) return word.toUpperCase();
      const first = run[0]!;
      return first !== first.toLowerCase() ? word[0]!.toUpperCase() + word.slice(1) : word;
    });
  };

  const nameTokens = opts.dictionary?.nameTokens ?? new Set<string>();
  const scrubWords = (text: string): string =>
    nameTokens.size === 0
      ? text
      : text.replace(/[\p{L}\p{M}'’]+/gu, (w) => (nameTokens.has(w.toLowerCase()) ? pick(FAKE_FIRST_NAMES, mac('scrub', w.toLowerCase()), 0) : w));
  const scrub = (v: string): string =>
    rewriteFinds(
      v,
      findPii(v),
      (found, kind) => {
        switch (kind) {
          case 'email':
            return emailT(found);
          case 'url':
            return url(found);
          case 'ipv4':
            return ipT(found);
          case 'card':
            return formatPreserving(found, mac('card', digitsOf(found)), false);
          default:
            return phoneT(found);
        }
      },
      scrubWords,
    );

  const t = {
    email: emailT,
    name: nullSafe('name', name),
    firstName: nullSafe('firstName', firstName),
    lastName: nullSafe('lastName', lastName),
    phone: phoneT,
    ip: ipT,
    token: nullSafe('token', token),
    passwordHash: nullSafe('passwordHash', passwordHash),
    dateOfBirth: nullSafe('dateOfBirth', dateOfBirth),
    freeText: nullSafe('freeText', freeText),
    scrub: nullSafe('scrub', scrub),
    cidr: nullSafe('cidr', cidr),
    city: nullSafe('city', city),
    postalCode: nullSafe('postalCode', postalCode),
    street: nullSafe('street', street),
    userAgent: nullSafe('userAgent', userAgent),
    url: nullSafe('url', url),
    scramble: nullSafe('scramble', scramble),
  };
  const line2T = nullSafe('line2', line2);

  const byKind: Record<AddressKind, StringTransformer> = {
    street: t.street, line2: line2T, city: t.city, postalCode: t.postalCode, phone: t.phone, name: t.name,
    firstName: t.firstName, lastName: t.lastName, email: t.email, region: t.scramble,
  };

  const address = (value: JsonValue, aopts: AddressOptions = {}): JsonValue => {
    const keys = new Set((aopts.keys ?? DEFAULT_ADDRESS_KEYS).map(normaliseKey));
    const keep = new Set((aopts.keep ?? DEFAULT_ADDRESS_KEEP).map(normaliseKey));
    const walk = (node: JsonValue, fn: StringTransformer | undefined): JsonValue => {
      if (node === null || typeof node === 'boolean') return node;
      // Strings under other keys ("label": "home") are kept, minus e-mails, phones and names in them.
      if (typeof node === 'string') return fn ? fn(node) : t.scrub(node);
      if (Array.isArray(node)) return node.map((e) => walk(e, fn));
      if (isJsonObject(node)) {
        const out = Object.create(null) as Record<string, JsonValue>;
        for (const k of Object.keys(node)) {
          const nk = normaliseKey(k);
          if (keep.has(nk)) out[k] = node[k]!;
          else if (keys.has(nk)) out[k] = walk(node[k]!, byKind[ADDRESS_KINDS[nk] ?? 'region']);
          else out[k] = walk(node[k]!, undefined);
        }
        return out;
      }
      // A number: only address parts (a numeric zip, a phone as a number) change, and stay numbers.
      return fn ? applyToNumber(node, fn) : node;
    };
    // A bare string (a text column, or a JSON string at an address path) is a whole address line.
    if (typeof value === 'string') return isBlank(value) ? value : `${t.street(value)}, ${t.city(value)}`;
    return walk(value, undefined);
  };

  return { ...t, address, emailFit, referenceDate: ref.text, registry, fingerprint: keyFingerprint(key) };
}

function maskV4(addr: string, bits: number): string {
  const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = bits <= 0 ? 0 : Number((0xffffffffn << BigInt(32 - Math.min(bits, 32))) & 0xffffffffn);
  const net = Number(BigInt(n) & BigInt(mask));
  return [24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.');
}

function maskV6(addr: string, bits: number): string {
  const [head, tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g || '0', 16));
  const out = groups.map((g, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
  return out.map((g) => g.toString(16)).join(':');
}

/** Applies a string transformer to a JSON number's text; the result stays a number when it can. */
export function applyToNumber(n: number | { text: string }, fn: (s: string) => string): JsonValue {
  const text = typeof n === 'number' ? String(n) : n.text;
  let out = fn(text);
  if (/^\d+$/.test(out) && out.length > 1 && out[0] === '0') out = '1' + out.slice(1);
  return /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(out) ? numberFromText(out) : out;
}
