// What a migration's SQL may not do, found before anything runs. The harness owns the transactions
// (one per segment, one per batch) and its rollback guarantee rests on that: transaction control in
// the file, or a statement that cannot run inside a transaction, would break it. Statements that
// reach beyond the app's data (roles, schemas, other sessions, the server's files) are refused
// unless migration.json lists them under "allow". Words inside comments, string literals and quoted
// identifiers are never code; dollar-quoted bodies are code (a DO block runs), but a COMMIT there is
// not the file's own transaction control (PostgreSQL refuses it inside the harness's transaction).
import { dollarBody, lexSql, splitStatements, statementLabel, type Statement } from './sql-split.js';

export type LintKind = 'transaction-control' | 'not-transactional' | 'dangerous';

export interface LintFinding {
  file: string;
  line: number;
  kind: LintKind;
  /** The rule's name; for `dangerous`, the word migration.json's "allow" takes. */
  rule: string;
  statement: string;
  fix: string;
}

interface Word {
  word: string;
  at: number;
  /** Followed by `(`: a function call. */
  call: boolean;
  /** Inside a dollar-quoted body (DO block, function body). */
  inBody: boolean;
}

const WORD = /[A-Za-z_][A-Za-z0-9_$]*/g;

/** The words of `text` that are code, with absolute offsets (`base` is where `text` starts). */
function codeWords(text: string, base: number, inBody = false): Word[] {
  const out: Word[] = [];
  for (const t of lexSql(text)) {
    if (t.kind === 'code') {
      const chunk = text.slice(t.start, t.end);
      for (const m of chunk.matchAll(WORD)) {
        const after = text.slice(t.start + m.index + m[0].length).match(/^\s*(.)/s)?.[1];
        out.push({ word: m[0].toUpperCase(), at: base + t.start + m.index, call: after === '(', inBody });
      }
    } else if (t.kind === 'dollar') {
      const tag = /^\$[A-Za-z0-9_]*\$/.exec(text.slice(t.start))![0];
      out.push(...codeWords(dollarBody(text, t), base + t.start + tag.length, true));
    }
  }
  return out;
}

const SEGMENT_FIX = 'rehearse runs every segment of the file in its own transaction (and each batch, with --batch-size, in its own); remove it. To commit a first part on its own (e.g. ALTER TYPE … ADD VALUE), put a line `-- @rehearse:commit` after that part.';

/** Statement openings that control the transaction. */
const TRANSACTION_CONTROL: Array<{ words: string[]; rule: string; fix: string }> = [
  { words: ['BEGIN'], rule: 'BEGIN', fix: SEGMENT_FIX },
  { words: ['START', 'TRANSACTION'], rule: 'START TRANSACTION', fix: SEGMENT_FIX },
  { words: ['COMMIT', 'PREPARED'], rule: 'COMMIT PREPARED', fix: 'Two-phase commit cannot be rehearsed; remove it.' },
  { words: ['COMMIT'], rule: 'COMMIT', fix: SEGMENT_FIX },
  { words: ['END'], rule: 'END', fix: SEGMENT_FIX },
  { words: ['ROLLBACK', 'PREPARED'], rule: 'ROLLBACK PREPARED', fix: 'Two-phase commit cannot be rehearsed; remove it.' },
  { words: ['ROLLBACK', 'TO'], rule: 'ROLLBACK TO SAVEPOINT', fix: 'For a part that may fail on its own, use a DO block with BEGIN … EXCEPTION WHEN … END: it is a sub-transaction the harness can still roll back.' },
  { words: ['ROLLBACK'], rule: 'ROLLBACK', fix: SEGMENT_FIX },
  { words: ['ABORT'], rule: 'ABORT', fix: SEGMENT_FIX },
  { words: ['SAVEPOINT'], rule: 'SAVEPOINT', fix: 'For a part that may fail on its own, use a DO block with BEGIN … EXCEPTION WHEN … END: it is a sub-transaction the harness can still roll back.' },
  { words: ['RELEASE'], rule: 'RELEASE SAVEPOINT', fix: 'For a part that may fail on its own, use a DO block with BEGIN … EXCEPTION WHEN … END: it is a sub-transaction the harness can still roll back.' },
  { words: ['PREPARE', 'TRANSACTION'], rule: 'PREPARE TRANSACTION', fix: 'Two-phase commit cannot be rehearsed; remove it.' },
];

const OUTSIDE_FIX = 'It cannot run inside a transaction, so a failure could not be rolled back. Run it by hand before or after the rehearsal (e.g. `docker exec -it <project>-db-staging psql …`), or use the plain form (without CONCURRENTLY: staging is small).';

/** Statements PostgreSQL refuses inside a transaction block (matched at the statement's start). */
const NOT_TRANSACTIONAL: Array<{ test: (w: string[]) => boolean; rule: string }> = [
  { test: (w) => w[0] === 'VACUUM', rule: 'VACUUM' },
  { test: (w) => w[0] === 'CREATE' && w[1] === 'DATABASE', rule: 'CREATE DATABASE' },
  { test: (w) => w[0] === 'DROP' && w[1] === 'DATABASE', rule: 'DROP DATABASE' },
  { test: (w) => (w[0] === 'CREATE' || w[0] === 'DROP') && w[1] === 'TABLESPACE', rule: 'CREATE/DROP TABLESPACE' },
  { test: (w) => w[0] === 'ALTER' && w[1] === 'SYSTEM', rule: 'ALTER SYSTEM' },
  { test: (w) => w[0] === 'CREATE' && (w[1] === 'INDEX' || (w[1] === 'UNIQUE' && w[2] === 'INDEX')) && w.includes('CONCURRENTLY'), rule: 'CREATE INDEX CONCURRENTLY' },
  { test: (w) => w[0] === 'DROP' && w[1] === 'INDEX' && w[2] === 'CONCURRENTLY', rule: 'DROP INDEX CONCURRENTLY' },
  { test: (w) => w[0] === 'REINDEX' && (w.includes('CONCURRENTLY') || w[1] === 'SYSTEM' || w[1] === 'DATABASE'), rule: 'REINDEX CONCURRENTLY / DATABASE / SYSTEM' },
  { test: (w) => w[0] === 'ALTER' && w[1] === 'TABLE' && w.includes('DETACH') && w.includes('CONCURRENTLY'), rule: 'DETACH PARTITION CONCURRENTLY' },
  { test: (w) => (w[0] === 'CREATE' || w[0] === 'ALTER' || w[0] === 'DROP') && w[1] === 'SUBSCRIPTION', rule: 'SUBSCRIPTION' },
  { test: (w) => w[0] === 'DISCARD' && w[1] === 'ALL', rule: 'DISCARD ALL' },
  { test: (w) => w[0] === 'CLUSTER' && w.length === 1, rule: 'CLUSTER (every table)' },
];

/** Word sequences that reach beyond the app's data; found anywhere in code, DO blocks included. */
const DANGEROUS_SEQUENCES: Array<{ words: string[]; rule: string; unless?: (prev: string | undefined) => boolean }> = [
  { words: ['DROP', 'DATABASE'], rule: 'DROP DATABASE' },
  { words: ['DROP', 'ROLE'], rule: 'DROP ROLE' },
  { words: ['DROP', 'USER'], rule: 'DROP ROLE' },
  { words: ['DROP', 'GROUP'], rule: 'DROP ROLE' },
  { words: ['ALTER', 'ROLE'], rule: 'ALTER ROLE' },
  { words: ['ALTER', 'USER'], rule: 'ALTER ROLE' },
  { words: ['DROP', 'OWNED'], rule: 'DROP OWNED' },
  { words: ['REASSIGN', 'OWNED'], rule: 'REASSIGN OWNED' },
  { words: ['DROP', 'SCHEMA'], rule: 'DROP SCHEMA' },
  { words: ['ALTER', 'SYSTEM'], rule: 'ALTER SYSTEM' },
  // A trigger's event (BEFORE TRUNCATE, … OR TRUNCATE) is not a TRUNCATE.
  { words: ['TRUNCATE'], rule: 'TRUNCATE', unless: (prev) => prev === 'BEFORE' || prev === 'AFTER' || prev === 'OR' || prev === 'INSTEAD' },
];

/** Functions that act on other sessions, the server, its files, or another database. */
const DANGEROUS_FUNCTIONS = new Set([
  'PG_TERMINATE_BACKEND',
  'PG_CANCEL_BACKEND',
  'PG_RELOAD_CONF',
  'PG_ROTATE_LOGFILE',
  'PG_PROMOTE',
  'PG_READ_FILE',
  'PG_READ_BINARY_FILE',
  'PG_LS_DIR',
  'PG_FILE_WRITE',
  'LO_IMPORT',
  'LO_EXPORT',
  'DBLINK',
  'DBLINK_EXEC',
  'DBLINK_CONNECT',
]);

export interface LintOptions {
  /** migration.json's "allow": rules (or function names) the migration declares it needs. */
  allow?: string[] | undefined;
}

const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toUpperCase();

function lintStatement(file: string, text: string, st: Statement, allow: Set<string>): LintFinding[] {
  const found: LintFinding[] = [];
  const words = codeWords(st.text, st.offset);
  const top = words.filter((w) => !w.inBody).map((w) => w.word);
  const lineAt = (at: number) => text.slice(0, at).split('\n').length;
  const label = statementLabel(st.text, 80);
  const add = (kind: LintKind, rule: string, line: number, fix: string) => {
    if (!found.some((f) => f.rule === rule && f.line === line)) found.push({ file, line, kind, rule, statement: label, fix });
  };

  const control = TRANSACTION_CONTROL.find((c) => c.words.every((w, i) => top[i] === w));
  if (control) add('transaction-control', control.rule, st.line, control.fix);
  const outside = NOT_TRANSACTIONAL.find((n) => n.test(top));
  if (outside) add('not-transactional', outside.rule, st.line, OUTSIDE_FIX);

  for (const [i, w] of words.entries()) {
    for (const d of DANGEROUS_SEQUENCES) {
      if (!d.words.every((x, k) => words[i + k]?.word === x && words[i + k]?.inBody === w.inBody)) continue;
      const prev = i > 0 && words[i - 1]!.inBody === w.inBody ? words[i - 1]!.word : undefined;
      if (d.unless?.(prev)) continue;
      if (outside && d.rule === outside.rule) continue;
      if (!allow.has(d.rule)) add('dangerous', d.rule, lineAt(w.at), `If the migration really needs it, declare it in migration.json: "allow": ["${d.rule}"] (it is then run and named in the report).`);
    }
    if (w.word === 'LOAD' && !w.inBody && i === 0 && !allow.has('LOAD')) {
      add('dangerous', 'LOAD', lineAt(w.at), 'LOAD loads a shared library into the server; if the migration really needs it, declare it in migration.json: "allow": ["LOAD"].');
    }
    if (w.word === 'COPY' && !w.inBody && i === 0 && words.some((x) => x.word === 'PROGRAM' && !x.inBody) && !allow.has('COPY PROGRAM')) {
      add('dangerous', 'COPY PROGRAM', lineAt(w.at), 'COPY … PROGRAM runs a shell command on the database server; if the migration really needs it, declare it in migration.json: "allow": ["COPY PROGRAM"].');
    }
    if (w.call && DANGEROUS_FUNCTIONS.has(w.word) && !allow.has(w.word)) {
      add('dangerous', w.word.toLowerCase(), lineAt(w.at), `${w.word.toLowerCase()}() acts outside the migration's data; if the migration really needs it, declare it in migration.json: "allow": ["${w.word.toLowerCase()}"].`);
    }
  }
  return found;
}

/** Every finding in one SQL file of a migration folder. */
export function lintSql(file: string, text: string, opts: LintOptions = {}): LintFinding[] {
  const allow = new Set((opts.allow ?? []).map(norm));
  return splitStatements(text).flat().flatMap((st) => lintStatement(file, text, st, allow));
}

/** The findings as lines for an error's details. */
export function formatFindings(findings: LintFinding[]): string {
  const what: Record<LintKind, string> = {
    'transaction-control': 'transaction control',
    'not-transactional': 'cannot run in a transaction',
    dangerous: 'not allowed without "allow"',
  };
  return findings.map((f) => `${f.file}:${f.line}  ${f.rule} (${what[f.kind]}): ${f.statement}\n    fix: ${f.fix}`).join('\n');
}
