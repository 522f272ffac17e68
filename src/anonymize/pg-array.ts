// PostgreSQL array literals (`{a,"b c",NULL}`, nested `{{a,b},{c,d}}`, optional `[1:2]=` bounds):
// parse into elements and print back the way array_out does, so text[] columns can be
// anonymized element by element.
import { arrayElement } from '../db/sql-text.js';

export type PgArray = Array<string | null | PgArray>;

export interface ParsedPgArray {
  /** A leading dimension decoration such as `[0:1]=`, kept verbatim. */
  bounds: string;
  elements: PgArray;
}

export class PgArraySyntaxError extends Error {
  constructor(message: string, readonly literal: string) {
    super(`${message} in array literal`);
    this.name = 'PgArraySyntaxError';
  }
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';

export function parsePgArray(literal: string, delimiter = ','): ParsedPgArray {
  let i = 0;
  let bounds = '';
  if (literal[0] === '[') {
    const eq = literal.indexOf('=');
    if (eq < 0) throw new PgArraySyntaxError('dimension decoration without "="', literal);
    bounds = literal.slice(0, eq + 1);
    i = eq + 1;
  }
  const level = (): PgArray => {
    if (literal[i] !== '{') throw new PgArraySyntaxError(`expected "{" at ${i}`, literal);
    i++;
    const items: PgArray = [];
    while (isSpace(literal[i])) i++;
    if (literal[i] === '}') {
      i++;
      return items;
    }
    for (;;) {
      while (isSpace(literal[i])) i++;
      if (literal[i] === '{') items.push(level());
      else if (literal[i] === '"') {
        i++;
        let s = '';
        for (;;) {
          const c = literal[i];
          if (c === undefined) throw new PgArraySyntaxError('unterminated quoted element', literal);
          if (c === '"') {
            i++;
            break;
          }
          if (c === '\\') {
            if (literal[i + 1] === undefined) throw new PgArraySyntaxError('dangling backslash', literal);
            s += literal[i + 1];
            i += 2;
            continue;
          }
          s += c;
          i++;
        }
        items.push(s);
      } else {
        // Unquoted: backslash escapes one character; surrounding whitespace is not part of it.
        let s = '';
        let sawEscape = false;
        let trailing = ''; // whitespace that only counts if more element text follows
        for (;;) {
          const c = literal[i];
          if (c === undefined) throw new PgArraySyntaxError('unterminated array', literal);
          if (c === delimiter || c === '}') break;
          if (c === '{' || c === '"') throw new PgArraySyntaxError(`unexpected "${c}" at ${i}`, literal);
          if (c === '\\') {
            if (literal[i + 1] === undefined) throw new PgArraySyntaxError('dangling backslash', literal);
            s += trailing + literal[i + 1];
            trailing = '';
            sawEscape = true;
            i += 2;
            continue;
          }
          if (isSpace(c)) trailing += c;
          else {
            s += trailing + c;
            trailing = '';
          }
          i++;
        }
        if (s === '' && !sawEscape) throw new PgArraySyntaxError(`empty element at ${i}`, literal);
        items.push(!sawEscape && s.toUpperCase() === 'NULL' ? null : s);
      }
      while (isSpace(literal[i])) i++;
      if (literal[i] === delimiter) {
        i++;
        continue;
      }
      if (literal[i] === '}') {
        i++;
        return items;
      }
      throw new PgArraySyntaxError(`expected "${delimiter}" or "}" at ${i}`, literal);
    }
  };
  const elements = level();
  while (isSpace(literal[i])) i++;
  if (i !== literal.length) throw new PgArraySyntaxError(`trailing text at ${i}`, literal);
  return { bounds, elements };
}

export function formatPgArray(array: ParsedPgArray | PgArray, delimiter = ','): string {
  const { bounds, elements } = Array.isArray(array) ? { bounds: '', elements: array } : array;
  const level = (items: PgArray): string =>
    '{' + items.map((e) => (e === null ? 'NULL' : Array.isArray(e) ? level(e) : arrayElement(e, delimiter))).join(delimiter) + '}';
  return bounds + level(elements);
}

/** Applies `fn` to every non-null leaf, keeping nesting, nulls and bounds. */
export function mapPgArray(array: PgArray, fn: (value: string) => string | null): PgArray {
  return array.map((e) => (e === null ? null : Array.isArray(e) ? mapPgArray(e, fn) : fn(e)));
}
