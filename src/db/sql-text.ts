// PostgreSQL text encoders, for the few statements that cannot take bind parameters (COPY (SELECT …)
// TO STDOUT, DDL, COMMENT ON) and for array values: identifiers, string literals and array literals.
// Assumes standard_conforming_strings=on, the default since PostgreSQL 9.1.

/** A quoted identifier: "name", with embedded quotes doubled. */
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A string literal: 'value', with embedded quotes doubled. */
export const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;

// array_out quotes an element that is empty, spells NULL, or holds a quote, backslash, brace, the
// delimiter or white space (its scanner's six characters, not Unicode spaces).
const NEEDS_QUOTES = new Map<string, RegExp>();
const needsQuotes = (delimiter: string) => {
  let re = NEEDS_QUOTES.get(delimiter);
  if (!re) NEEDS_QUOTES.set(delimiter, (re = new RegExp(`[{}"\\\\ \\t\\n\\r\\v\\f${delimiter.replace(/[\\\]^-]/g, '\\$&')}]`)));
  return re;
};

const COMMA = needsQuotes(',');

/** One element of an array literal, quoted exactly when array_out would quote it. */
export function arrayElement(s: string, delimiter = ','): string {
  const quote = s === '' || (s.length === 4 && s.toUpperCase() === 'NULL') || (delimiter === ',' ? COMMA : needsQuotes(delimiter)).test(s);
  return quote ? `"${s.replace(/["\\]/g, '\\$&')}"` : s;
}

/** A one-dimensional array literal ('{a,"b c",NULL}'); null elements become NULL. */
export function arrayLiteral(items: ReadonlyArray<string | null>): string {
  let out = '{';
  for (let k = 0; k < items.length; k++) {
    const s = items[k]!;
    if (k > 0) out += ',';
    out += s === null ? 'NULL' : arrayElement(s);
  }
  return out + '}';
}
