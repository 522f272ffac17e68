// Splits a migration's SQL file into statements (so each one can be timed and a failure injected
// between two of them) and into transaction segments at `-- @rehearse:commit` marker lines.
// One small PostgreSQL lexer does both this and the lint (sql-lint.ts): it knows quotes, E''
// strings, quoted identifiers, dollar quotes and nested comments, so a word inside any of them is
// never taken for code.

/** A line of its own that ends a segment: everything before it runs and commits in its own transaction. */
export const COMMIT_MARKER = /^--\s*@rehearse:commit\s*$/;

export type TokenKind = 'code' | 'line-comment' | 'block-comment' | 'string' | 'quoted-ident' | 'dollar' | 'semicolon';

export interface Token {
  kind: TokenKind;
  /** Offset of the token's first character in the text. */
  start: number;
  end: number;
}

/** Cuts `text` into tokens; runs of anything else (words, operators, spaces) are one `code` token. */
export function lexSql(text: string): Token[] {
  const tokens: Token[] = [];
  let codeStart = -1;
  const flushCode = (end: number) => {
    if (codeStart >= 0 && end > codeStart) tokens.push({ kind: 'code', start: codeStart, end });
    codeStart = -1;
  };
  const push = (kind: TokenKind, start: number, end: number) => {
    flushCode(start);
    tokens.push({ kind, start, end });
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const nl = text.indexOf('\n', i);
      const end = nl < 0 ? text.length : nl;
      push('line-comment', i, end);
      i = end;
      continue;
    }
    if (c === '/' && next === '*') {
      // PostgreSQL block comments nest.
      const start = i;
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') (depth++, (i += 2));
        else if (text[i] === '*' && text[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
      push('block-comment', start, i);
      continue;
    }
    if (c === "'") {
      // E'…' takes backslash escapes; the E is part of the code token before it.
      const escapes = i > 0 && /[eE]/.test(text[i - 1]!) && (i < 2 || !/[A-Za-z0-9_]/.test(text[i - 2]!));
      const start = i;
      i++;
      while (i < text.length) {
        if (escapes && text[i] === '\\') i += 2;
        else if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") break;
        else i++;
      }
      i = Math.min(i + 1, text.length);
      push('string', start, i);
      continue;
    }
    if (c === '"') {
      const start = i;
      i++;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') i += 2;
        else if (text[i] === '"') break;
        else i++;
      }
      i = Math.min(i + 1, text.length);
      push('quoted-ident', start, i);
      continue;
    }
    if (c === '$') {
      // $tag$ … $tag$; `$1` (a parameter) and identifiers ending in $ are not dollar quotes.
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 66));
      const prev = i > 0 ? text[i - 1]! : '';
      if (m && !/[A-Za-z0-9_$]/.test(prev)) {
        const tag = m[0];
        const close = text.indexOf(tag, i + tag.length);
        const end = close < 0 ? text.length : close + tag.length;
        push('dollar', i, end);
        i = end;
        continue;
      }
    }
    if (c === ';') {
      push('semicolon', i, i + 1);
      i++;
      continue;
    }
    if (codeStart < 0) codeStart = i;
    i++;
  }
  flushCode(text.length);
  return tokens;
}

/** The body of a dollar-quoted token, without its tags. */
export function dollarBody(text: string, token: Token): string {
  const tag = /^\$[A-Za-z0-9_]*\$/.exec(text.slice(token.start))![0];
  const inner = text.slice(token.start + tag.length, token.end);
  return inner.endsWith(tag) ? inner.slice(0, -tag.length) : inner;
}

export interface Statement {
  text: string;
  /** Where `text` starts in the file. */
  offset: number;
  /** 1-based line of the statement's first character of code in the file. */
  line: number;
}

export interface SqlSegments {
  /** Each inner array is one transaction's statements, in order. */
  segments: string[][];
}

const WORD = /[A-Za-z_][A-Za-z0-9_$]*/g;

/**
 * Statements with their line numbers, cut into segments at marker lines. A `BEGIN ATOMIC … END`
 * body of a SQL-standard function keeps its inner semicolons.
 */
export function splitStatements(text: string): Statement[][] {
  const tokens = lexSql(text);
  const segments: Statement[][] = [[]];
  let start = 0;
  let firstCode = -1;
  // Inside BEGIN ATOMIC: how many BEGIN ATOMIC / CASE are open.
  let atomicDepth = 0;
  let prevWord = '';
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  const push = (end: number) => {
    const raw = text.slice(start, end);
    const statement = raw.trim();
    if (statement && firstCode >= 0) segments[segments.length - 1]!.push({ text: statement, offset: start + raw.search(/\S/), line: lineOf(firstCode) });
    firstCode = -1;
  };
  for (const t of tokens) {
    if (t.kind === 'line-comment') {
      const lineStart = text.lastIndexOf('\n', t.start - 1) + 1;
      // A marker only counts on a line of its own, outside any statement text on that line.
      if (text.slice(lineStart, t.start).trim() === '' && COMMIT_MARKER.test(text.slice(t.start, t.end).trim())) {
        push(lineStart);
        segments.push([]);
        start = t.end;
        atomicDepth = 0;
      }
      continue;
    }
    if (t.kind === 'block-comment') continue;
    if (t.kind === 'semicolon') {
      if (atomicDepth > 0) continue;
      push(t.start);
      start = t.end;
      continue;
    }
    if (t.kind === 'code') {
      const chunk = text.slice(t.start, t.end);
      const lead = chunk.search(/\S/);
      if (lead < 0) continue;
      if (firstCode < 0) firstCode = t.start + lead;
      for (const m of chunk.matchAll(WORD)) {
        const w = m[0].toUpperCase();
        if (w === 'ATOMIC' && prevWord === 'BEGIN') atomicDepth++;
        else if (atomicDepth > 0 && w === 'CASE' && prevWord !== 'END') atomicDepth++;
        else if (atomicDepth > 0 && w === 'END') atomicDepth--;
        prevWord = w;
      }
      continue;
    }
    if (firstCode < 0) firstCode = t.start;
  }
  push(text.length);
  return segments.filter((s, k) => s.length > 0 || k === segments.length - 1);
}

export function splitSql(text: string): SqlSegments {
  return { segments: splitStatements(text).map((segment) => segment.map((s) => s.text)) };
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
