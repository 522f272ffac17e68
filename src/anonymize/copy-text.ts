// PostgreSQL COPY text format, one field at a time: decode a field's escapes into its value and
// encode a value back, exactly as COPY TO writes it, so a decoded-then-encoded field is unchanged.
// https://www.postgresql.org/docs/current/sql-copy.html (File Formats → Text Format)

/** The field text COPY uses for NULL. A value that is the two characters `\N` is written `\\N`. */
export const COPY_NULL = '\\N';

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const isOctal = (c: string | undefined) => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** Decodes one raw field (no tabs inside; the row was split on raw tabs) into its value or null. */
export function decodeCopyField(raw: string): string | null {
  if (raw === COPY_NULL) return null;
  if (raw.indexOf('\\') < 0) return raw;
  let out = '';
  // \ooo and \xhh denote bytes in the server encoding; collect runs of them and decode as UTF-8.
  let bytes: number[] | undefined;
  const flush = () => {
    if (bytes) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = undefined;
    }
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '\\') {
      flush();
      out += c;
      continue;
    }
    const e = raw[i + 1];
    if (e === undefined) {
      // A lone trailing backslash: PostgreSQL would reject the row; keep it rather than lose it.
      flush();
      out += '\\';
      continue;
    }
    if (isOctal(e)) {
      let j = i + 1;
      let n = 0;
      while (j < raw.length && j < i + 4 && isOctal(raw[j])) n = n * 8 + Number(raw[j++]);
      (bytes ??= []).push(n & 0xff);
      i = j - 1;
      continue;
    }
    if (e === 'x' && isHex(raw[i + 2])) {
      let j = i + 2;
      let n = 0;
      while (j < raw.length && j < i + 4 && isHex(raw[j])) n = n * 16 + parseInt(raw[j++]!, 16);
      (bytes ??= []).push(n);
      i = j - 1;
      continue;
    }
    flush();
    out += SIMPLE_ESCAPES[e] ?? e;
    i++;
  }
  flush();
  return out;
}

const NEEDS_ESCAPE = /[\\\t\n\r\b\f\v]/;
const ESCAPE_ALL = /[\\\t\n\r\b\f\v]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\b': '\\b', '\f': '\\f', '\v': '\\v' };

/** Encodes a value (or null) the way COPY TO does in text format with the default delimiter. */
export function encodeCopyField(value: string | null): string {
  if (value === null) return COPY_NULL;
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(ESCAPE_ALL, (c) => ESCAPES[c]!);
}
