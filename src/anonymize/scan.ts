// Linear-time finders for e-mails, URLs, IPv4 addresses, phone and card numbers inside text. The
// regexes they replace backtracked quadratically on long values without spaces (a 100 KB value
// took a minute); here every character is looked at a bounded number of times, so a 10 MB value
// costs a few tens of milliseconds.

export type FoundKind = 'email' | 'url' | 'ipv4' | 'phone' | 'card';

export interface Found {
  start: number;
  end: number;
  kind: FoundKind;
}

/** Detection looks at no more than this much of one value: its first and last halves. */
export const SAMPLE_CHARS = 64 * 1024;

/** The part of a value the detector reads, and whether it was cut. */
export function boundedSample(value: string): { text: string; sampled: boolean } {
  if (value.length <= SAMPLE_CHARS) return { text: value, sampled: false };
  const half = SAMPLE_CHARS / 2;
  return { text: `${value.slice(0, half)}\n${value.slice(-half)}`, sampled: true };
}

const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const MAX_URL = 2048;
/** A digit run longer than this is a number of some other kind (an id, a hash), never a phone. */
const MAX_DIGIT_RUN = 40;

const code = (s: string, i: number) => s.charCodeAt(i);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isAsciiLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
// Non-ASCII letters count as letters: 김@example.com and josé@correo.es are addresses people write.
const isWordish = (c: number) => isDigit(c) || isAsciiLetter(c) || c === 95 || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7 && !isSpaceLike(c));
const isSpaceLike = (c: number) => c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0x3000 || (c >= 0x2000 && c <= 0x200b) || c === 0xfeff;
const isLocalChar = (c: number) => isWordish(c) || c === 46 || c === 37 || c === 43 || c === 45; // . % + -
const isDomainChar = (c: number) => isWordish(c) || c === 46 || c === 45;
const isUrlEnd = (c: number) => c <= 32 || c === 34 || c === 39 || c === 60 || c === 62 || c === 96 || isSpaceLike(c);

function lastLabelIsTld(s: string, start: number, end: number): boolean {
  // Searched within [start, end) only: lastIndexOf would scan back to the start of the text.
  let dot = end - 1;
  while (dot > start && code(s, dot) !== 46) dot--;
  if (dot <= start || end - dot - 1 < 2) return false;
  for (let i = dot + 1; i < end; i++) {
    const c = code(s, i);
    if (!(isAsciiLetter(c) || c >= 0xc0)) return false;
  }
  return true;
}

function startsWithAt(s: string, i: number, prefix: string): boolean {
  if (i + prefix.length > s.length) return false;
  for (let k = 0; k < prefix.length; k++) if ((code(s, i + k) | 0x20) !== code(prefix, k)) return false;
  return true;
}

/** URLs (http, https, www.) and e-mail addresses, in order, not overlapping. */
function findTextual(s: string): Found[] {
  const out: Found[] = [];
  const n = s.length;
  let i = 0;
  let floor = 0; // nothing found may start before this (the end of the previous find)
  let at = s.indexOf('@');
  while (i < n) {
    // Next candidate: an '@' or a URL start, whichever is first.
    let urlAt = -1;
    for (let k = i; k < n && (at < 0 || k < at); k++) {
      const c = code(s, k) | 0x20;
      if ((c === 104 || c === 119) && (k === 0 || !isWordish(code(s, k - 1))) && (startsWithAt(s, k, 'http://') || startsWithAt(s, k, 'https://') || startsWithAt(s, k, 'www.'))) {
        urlAt = k;
        break;
      }
    }
    if (urlAt >= 0) {
      let end = urlAt;
      while (end < n && end - urlAt < MAX_URL && !isUrlEnd(code(s, end))) end++;
      while (end > urlAt && '.,;:!?)]}'.includes(s[end - 1]!)) end--;
      out.push({ start: urlAt, end, kind: 'url' });
      floor = i = end;
      if (at >= 0 && at < end) at = s.indexOf('@', end);
      continue;
    }
    if (at < 0) break;
    let left = at;
    while (left > floor && at - left < MAX_LOCAL && isLocalChar(code(s, left - 1))) left--;
    while (left < at && code(s, left) === 46) left++; // a local part does not start with a dot
    let right = at + 1;
    while (right < n && right - at <= MAX_DOMAIN && isDomainChar(code(s, right))) right++;
    while (right > at + 1 && (code(s, right - 1) === 46 || code(s, right - 1) === 45)) right--;
    if (left < at && right > at + 1 && lastLabelIsTld(s, at + 1, right)) {
      out.push({ start: left, end: right, kind: 'email' });
      floor = i = right;
    } else {
      i = at + 1;
    }
    at = s.indexOf('@', i);
  }
  return out;
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const digitsOf = (s: string) => s.replace(/\D/g, '');

/**
 * Is this candidate a phone number (rather than a date, a decimal, a thousands-grouped amount,
 * or a short number)? 7–15 digits, and a bare run of digits only from 10 digits up. The candidate
 * is at most MAX_DIGIT_RUN characters, so these regexes run on short strings only.
 */
/** Digits compared of a phone number: the last 10 when longer, so a country prefix does not matter. */
export const PHONE_KEY_DIGITS = 10;
export const phoneDigitsKey = (digits: string) => (digits.length > PHONE_KEY_DIGITS ? digits.slice(-PHONE_KEY_DIGITS) : digits);

export function looksLikePhone(candidate: string): boolean {
  if (candidate.length > MAX_DIGIT_RUN) return false;
  const digits = digitsOf(candidate);
  if (digits.length < 7 || digits.length > 15) return false;
  if (/^\d{4}[-./]\d{1,2}[-./]\d{1,2}$/.test(candidate) || /^\d{1,2}[-./]\d{1,2}[-./]\d{4}$/.test(candidate)) return false;
  if (/^\d+\.\d+$/.test(candidate)) return false;
  if (/^\d{1,3}(?:([ .])\d{3})(?:\1\d{3})*$/.test(candidate)) return false;
  if (/^\d+$/.test(candidate) && digits.length < 10) return false;
  if (looksLikeIsbn(candidate)) return false;
  return true;
}

export function looksLikeCard(candidate: string): boolean {
  if (candidate.length > MAX_DIGIT_RUN) return false;
  const digits = digitsOf(candidate);
  return digits.length >= 13 && digits.length <= 19 && luhnValid(digits);
}

/** ISBN-10 or ISBN-13 (978/979) with a valid check digit, hyphens allowed. */
export function looksLikeIsbn(candidate: string): boolean {
  const s = candidate.replace(/^ISBN(?:-1[03])?:?\s*/i, '').replace(/[-\s]/g, '');
  if (/^\d{9}[\dXx]$/.test(s)) {
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += (10 - i) * (s[i] === 'X' || s[i] === 'x' ? 10 : Number(s[i]));
    return sum % 11 === 0;
  }
  if (/^97[89]\d{10}$/.test(s)) {
    let sum = 0;
    for (let i = 0; i < 13; i++) sum += Number(s[i]) * (i % 2 ? 3 : 1);
    return sum % 10 === 0;
  }
  return false;
}

function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p.length === 1 || p[0] !== '0'));
}

/** Digit runs (phones, cards, IPv4) in the stretch [from, to) of s. */
function findNumeric(s: string, from: number, to: number, out: Found[]): void {
  let i = from;
  while (i < to) {
    const c = code(s, i);
    const startsRun = isDigit(c) || ((c === 43 || c === 40) && i + 1 < to && isDigit(code(s, i + 1)));
    if (!startsRun || (i > from && (isWordish(code(s, i - 1)) || code(s, i - 1) === 64 || code(s, i - 1) === 43))) {
      // Inside a word: skip the whole word at once, so it is not re-scanned from every digit.
      if (isWordish(c)) while (i < to && isWordish(code(s, i))) i++;
      else i++;
      continue;
    }
    // Groups of digits or "(digits)", with at most one of space, dot or hyphen between groups.
    let j = c === 43 ? i + 1 : i;
    let end = -1;
    while (j < to) {
      if (code(s, j) === 40) {
        let k = j + 1;
        while (k < to && isDigit(code(s, k)) && k - j <= 4) k++;
        if (k === j + 1 || k >= to || code(s, k) !== 41) break;
        j = end = k + 1;
      } else if (isDigit(code(s, j))) {
        while (j < to && isDigit(code(s, j))) j++;
        end = j;
      } else break;
      if (j - i > MAX_DIGIT_RUN) break;
      const sep = j < to ? code(s, j) : 0;
      const nextIsGroup = (k: number) => k < to && (isDigit(code(s, k)) || code(s, k) === 40);
      if ((sep === 32 || sep === 46 || sep === 45) && nextIsGroup(j + 1)) j++;
      else if (!nextIsGroup(j)) break;
    }
    if (end < 0) {
      i++;
      continue;
    }
    const after = end < to ? code(s, end) : 32;
    if (end - i > MAX_DIGIT_RUN || isAsciiLetter(after) || after === 64 || after === 95) {
      i = end;
      while (i < to && isWordish(code(s, i))) i++;
      continue;
    }
    const start = i;
    const candidate = s.slice(start, end);
    if (isIpv4(candidate) && !(after === 46 && end + 1 < to && isDigit(code(s, end + 1)))) out.push({ start, end, kind: 'ipv4' });
    else if (looksLikeCard(candidate)) out.push({ start, end, kind: 'card' });
    else if (looksLikePhone(candidate)) out.push({ start, end, kind: 'phone' });
    i = end;
  }
}

/** Every e-mail, URL, IPv4 address, phone and card number in the text, in order. Linear in its length. */
export function findPii(s: string): Found[] {
  const textual = findTextual(s);
  const out: Found[] = [];
  let pos = 0;
  for (const f of textual) {
    findNumeric(s, pos, f.start, out);
    out.push(f);
    pos = f.end;
  }
  findNumeric(s, pos, s.length, out);
  return out;
}

/** Rewrites every find with `replace`; the text between finds is passed to `between` (default: kept). */
export function rewriteFinds(s: string, finds: Found[], replace: (text: string, kind: FoundKind) => string, between: (text: string) => string = (t) => t): string {
  let out = '';
  let pos = 0;
  for (const f of finds) {
    out += between(s.slice(pos, f.start)) + replace(s.slice(f.start, f.end), f.kind);
    pos = f.end;
  }
  return out + between(s.slice(pos));
}

/** Is the whole value one e-mail address? */
export function isEmail(value: string): boolean {
  if (value.length > MAX_LOCAL + MAX_DOMAIN + 1) return false;
  const f = findTextual(value);
  return f.length === 1 && f[0]!.kind === 'email' && f[0]!.start === 0 && f[0]!.end === value.length;
}
