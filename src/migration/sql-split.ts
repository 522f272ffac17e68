// Splits a migration's SQL file into statements (so each one can be timed and a failure injected
// between two of them) and into transaction segments at `-- @rehearse:commit` marker lines.
// Knows just enough PostgreSQL lexing for that: quotes, E'' strings, dollar quotes, nested comments.

/** A line of its own that ends a segment: everything before it runs and commits in its own transaction. */
export const COMMIT_MARKER = /^--\s*@rehearse:commit\s*$/;

export interface SqlSegments {
  /** Each inner array is one transaction's statements, in order. */
  segments: string[][];
}

/** True when `text` holds nothing but whitespace and comments. */
function isBlank(text: string): boolean {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .every((line) => line.trim() === '' || line.trim().startsWith('--'));
}

export function splitSql(text: string): SqlSegments {
  const segments: string[][] = [[]];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const statement = text.slice(start, end).trim();
    if (statement && !isBlank(statement)) segments[segments.length - 1]!.push(statement);
  };
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      const lineEnd = end < 0 ? text.length : end;
      const lineStart = text.lastIndexOf('\n', i - 1) + 1;
      // A marker only counts on a line of its own, outside any statement text on that line.
      if (text.slice(lineStart, i).trim() === '' && COMMIT_MARKER.test(text.slice(i, lineEnd).trim())) {
        push(lineStart);
        segments.push([]);
        start = lineEnd;
      }
      i = lineEnd;
      continue;
    }
    if (c === '/' && next === '*') {
      // PostgreSQL block comments nest.
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') (depth++, (i += 2));
        else if (text[i] === '*' && text[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
      continue;
    }
    if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(text[i - 1]!) && (i < 2 || !/[A-Za-z0-9_]/.test(text[i - 2]!));
      i++;
      while (i < text.length) {
        if (escapes && text[i] === '\\') i += 2;
        else if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') i += 2;
        else if (text[i] === '"') break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === '$') {
      // $tag$ … $tag$; `$1` (a parameter) and identifiers ending in $ are not dollar quotes.
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      const prev = i > 0 ? text[i - 1]! : '';
      if (m && !/[A-Za-z0-9_]/.test(prev)) {
        const tag = m[0];
        const close = text.indexOf(tag, i + tag.length);
        i = close < 0 ? text.length : close + tag.length;
        continue;
      }
    }
    if (c === ';') {
      push(i);
      start = i + 1;
    }
    i++;
  }
  push(text.length);
  return { segments: segments.filter((s, k) => s.length > 0 || k === segments.length - 1) };
}

/**
 * How --verbose names a statement: its code on one line, shortened; an anonymous DO block is named
 * by the first line of the comment above it instead.
 */
export function statementLabel(statement: string, width = 100): string {
  const lines = statement.replace(/\/\*[\s\S]*?\*\//g, '').split('\n').map((l) => l.trim());
  const code = lines.filter((l) => l && !l.startsWith('--')).join(' ').replace(/\s+/g, ' ');
  // The comment block right above the code (a file's header comment is further up, after a blank line).
  let comment: string | undefined;
  for (const [i, l] of lines.entries()) {
    if (l && !l.startsWith('--')) break;
    if (l.startsWith('--') && !lines[i - 1]?.startsWith('--')) comment = l.replace(/^--\s*/, '');
  }
  const label = /^DO\b/i.test(code) && comment ? `DO block: ${comment}` : code || statement.trim();
  return label.length > width ? `${label.slice(0, width - 1)}…` : label;
}
