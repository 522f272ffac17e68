// Fits a migration folder to the database it will run on, from that database's catalog: checks every
// table and column the migration names (every problem at once, each with its fix), keeps the
// `-- @rehearse:if <condition>` branches of its SQL and the migration.json entries whose conditions
// hold, and proves that every statement and standard query compiles, in a transaction that is
// always rolled back.
//
// Conditions: `column <table>.<column>`, `table <table>`, each optionally negated with `!`, joined
// with ` and `. An unqualified table is in the migration's target schema.
import type postgres from 'postgres';
import { UserError } from '../errors.js';
import { introspect, tableKey, type DbShape } from '../subset/introspect.js';
import { describeChangeColumn, type ColumnType } from './checks.js';
import path from 'node:path';
import { MIGRATIONS_DIR, type MigrationFolder, type MigrationMeta } from './folder.js';
import { copyHint } from './runner.js';
import { splitSql, statementLabel } from './sql-split.js';
import { quoteIdent, sqlString } from '../db/sql-text.js';

export { copyHint };

const DIRECTIVE = /^\s*--\s*@rehearse:(if|elif|else|end)\b\s*(.*?)\s*$/;
const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'citext', 'name']);

export interface Adaptation {
  /** The folder as it runs here: chosen branches only, optional columns and queries resolved. */
  migration: MigrationFolder;
  column: ColumnType;
  /** Every condition the folder asks about, and whether it holds here. */
  conditions: Array<{ condition: string; holds: boolean }>;
  /** mayChangeIfPresent columns the target table lacks. */
  absentColumns: string[];
  /** Standard queries left out here, with the reason. */
  skippedQueries: Array<{ name: string; reason: string }>;
  /** alsoChanges entries that apply here. */
  alsoChanges: MigrationMeta['alsoChanges'];
}

/** Evaluates a condition against the catalog; throws on a condition it cannot read. */
function evaluator(shape: DbShape, defaultSchema: string, where: string) {
  const table = (name: string) => {
    const dot = name.indexOf('.');
    return dot < 0 ? shape.tables.get(tableKey(defaultSchema, name)) : shape.tables.get(tableKey(name.slice(0, dot), name.slice(dot + 1)));
  };
  return (condition: string): boolean =>
    condition.split(/\s+and\s+/).every((term) => {
      const m = /^(!?)\s*(column|table)\s+(\S+)$/.exec(term.trim());
      if (!m) throw new UserError(`${where}: cannot read the condition "${condition}".`, { tryThis: 'Write `column <table>.<column>` or `table <table>`, optionally with `!`, joined with ` and `.' });
      let holds: boolean;
      if (m[2] === 'table') holds = !!table(m[3]!);
      else {
        const dot = m[3]!.lastIndexOf('.');
        if (dot < 0) throw new UserError(`${where}: "${term}" needs <table>.<column>.`, { tryThis: 'e.g. `column users.tokenVersion`' });
        holds = !!table(m[3]!.slice(0, dot))?.columns.some((c) => c.name === m[3]!.slice(dot + 1));
      }
      return m[1] ? !holds : holds;
    });
}

/** Keeps the lines of the branches whose condition holds; drops the directive lines. */
export function resolveBranches(text: string, holds: (condition: string) => boolean, where: string): string {
  const out: string[] = [];
  const stack: Array<{ parentActive: boolean; taken: boolean; active: boolean; line: number }> = [];
  const active = () => (stack.length ? stack[stack.length - 1]!.active : true);
  text.split('\n').forEach((line, i) => {
    const d = DIRECTIVE.exec(line);
    if (!d) {
      if (active()) out.push(line);
      return;
    }
    const [, kind, condition] = d;
    const top = stack[stack.length - 1];
    const fail = (what: string) => new UserError(`${where}, line ${i + 1}: ${what}.`, { tryThis: 'Each `-- @rehearse:if <condition>` needs a matching `-- @rehearse:end`; `elif` and `else` go between them.' });
    if (kind === 'if') {
      if (!condition) throw fail('@rehearse:if without a condition');
      const parentActive = active();
      const h = holds(condition);
      stack.push({ parentActive, taken: h, active: parentActive && h, line: i + 1 });
    } else if (kind === 'elif') {
      if (!top) throw fail('@rehearse:elif without @rehearse:if');
      const h = !top.taken && holds(condition!);
      top.active = top.parentActive && h;
      top.taken ||= h;
    } else if (kind === 'else') {
      if (!top) throw fail('@rehearse:else without @rehearse:if');
      top.active = top.parentActive && !top.taken;
      top.taken = true;
    } else {
      if (!top) throw fail('@rehearse:end without @rehearse:if');
      stack.pop();
    }
  });
  if (stack.length) throw new UserError(`${where}, line ${stack[stack.length - 1]!.line}: @rehearse:if without @rehearse:end.`, { tryThis: 'Close it with a line `-- @rehearse:end`.' });
  return out.join('\n');
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Built in (sql/migrations): written for 1001 Stories' table names, so it may be renamed to the schema's. */
export function isBuiltIn(m: MigrationFolder): boolean {
  const rel = path.relative(MIGRATIONS_DIR, m.dir);
  return !!rel && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * The folder with its tables renamed (e.g. users → "User"): in SQL where a table is named (FROM,
 * JOIN, UPDATE, INTO, TABLE, USING, NULL::t, 't'::regclass, "t"), in conditions as the bare name.
 * Only for the built-in migration, whose names are 1001 Stories'; a user's folder names its own.
 */
export function renameTables(m: MigrationFolder, names: Record<string, string>): MigrationFolder {
  const renames = Object.entries(names).filter(([from, to]) => from !== to);
  if (!renames.length) return m;
  const sqlText = (text: string) =>
    renames.reduce((t, [from, to]) => {
      const f = escape(from);
      return t
        .replace(new RegExp(`\\b(FROM|JOIN|UPDATE|INTO|TABLE|USING)(\\s+)(?:"${f}"|${f})(?![\\w"$])`, 'gi'), (_, kw: string, sp: string) => `${kw}${sp}${quoteIdent(to)}`)
        .replace(new RegExp(`::${f}\\b`, 'g'), `::${quoteIdent(to)}`)
        .replace(new RegExp(`'${f}'::regclass`, 'g'), `${sqlString(quoteIdent(to))}::regclass`)
        .replace(new RegExp(`"${f}"`, 'g'), quoteIdent(to));
    }, text);
  const condition = (c: string) => renames.reduce((t, [from, to]) => t.replace(new RegExp(`\\b(column|table)(\\s+)${escape(from)}(?=\\.|\\s|$)`, 'g'), `$1$2${to}`), c);
  const file = (text: string) => text.split('\n').map((line) => (DIRECTIVE.test(line) ? condition(line) : sqlText(line))).join('\n');
  const rename = (t: string) => names[t] ?? t;
  const meta = m.meta;
  return {
    ...m,
    meta: {
      ...meta,
      target: { ...meta.target, table: rename(meta.target.table) },
      alsoChanges: meta.alsoChanges.map((a) => ({ ...a, table: rename(a.table), ...(a.when ? { when: condition(a.when) } : {}) })),
      standardQueries: meta.standardQueries.map((q) => ({ ...q, sql: sqlText(q.sql), ...(q.when ? { when: condition(q.when) } : {}) })),
    },
    up: { ...m.up, text: file(m.up.text) },
    down: { ...m.down, text: file(m.down.text) },
    verify: { ...m.verify, text: file(m.verify.text) },
  };
}

/**
 * The built-in migration's table names on this schema: its users table is the seed the data step
 * used; its sessions table is `sessions`, else the one table of the target schema named so in another
 * case or in the singular (Prisma without @@map: "Session").
 */
export function builtInNames(m: MigrationFolder, seedTable: string, shape?: DbShape): Record<string, string> {
  if (!isBuiltIn(m)) return {};
  const schema = m.meta.target.schema;
  const names: Record<string, string> = {};
  // A seed table in another schema than the target's is not the built-in's to rename into.
  if (!seedTable.includes('.') && (!shape || shape.tables.has(tableKey(schema, seedTable)))) names[m.meta.target.table] = seedTable;
  for (const a of m.meta.alsoChanges) {
    if (!shape || shape.tables.has(tableKey(schema, a.table))) continue;
    const found = [...shape.tables.values()].filter((t) => t.schema === schema && [a.table, a.table.replace(/s$/, '')].includes(t.name.toLowerCase()) && t.columns.some((c) => c.name === a.userColumn));
    if (found.length === 1) names[a.table] = found[0]!.name;
  }
  return names;
}

/** Every condition text in the folder (SQL directives and migration.json), in order of appearance. */
function conditionsOf(m: MigrationFolder): string[] {
  const found = new Set<string>();
  for (const text of [m.up.text, m.down.text, m.verify.text]) {
    for (const line of text.split('\n')) {
      const d = DIRECTIVE.exec(line);
      if (d && (d[1] === 'if' || d[1] === 'elif')) found.add(d[2]!);
    }
  }
  for (const q of m.meta.standardQueries) if (q.when) found.add(q.when);
  for (const a of m.meta.alsoChanges) if (a.when) found.add(a.when);
  return [...found];
}

/**
 * Reads the catalog and returns the folder as it runs on this database. Throws one UserError that
 * lists every schema problem (missing table, columns, a change column of an unexpected type).
 */
export async function adaptMigration(sql: postgres.Sql, folder: MigrationFolder, schemas: string[], seedTable?: string): Promise<Adaptation> {
  const shape = await introspect(sql, [...new Set([...schemas, folder.meta.target.schema])]);
  const m = seedTable ? renameTables(folder, builtInNames(folder, seedTable, shape)) : folder;
  const meta = m.meta;
  const t = meta.target;
  const table = shape.tables.get(tableKey(t.schema, t.table));
  const where = `migration ${m.name}`;
  if (!table) {
    const found = [...shape.tables.keys()];
    throw new UserError(`The staging database has no table ${t.schema}.${t.table}, which migration ${m.name} changes (its target.table).`, {
      details: found.length ? `Tables in ${schemas.join(', ')}: ${found.slice(0, 20).join(', ')}${found.length > 20 ? ', …' : ''}` : `There are no tables in ${schemas.join(', ')}: the data step has not loaded the schema (\`rehearse data --yes\`).`,
      tryThis: found.length ? copyHint(m, 'set target.table in migration.json (and the table names in up.sql, down.sql and verify.sql)') : '`rehearse data --yes` copies the schema and a subset of production into staging.',
    });
  }
  const holds = evaluator(shape, t.schema, where);
  const conditions = conditionsOf(m).map((condition) => ({ condition, holds: holds(condition) }));
  const columns = new Set(table.columns.map((c) => c.name));
  const absentColumns = meta.mayChangeIfPresent.filter((c) => !columns.has(c));
  const required: Array<[string, string]> = [
    [t.idColumn, 'target.idColumn'],
    [meta.change.column, 'change.column'],
    ...meta.mayChange.map((c): [string, string] => [c, 'mayChange']),
    ...(meta.softDeleteColumn ? [[meta.softDeleteColumn, 'softDeleteColumn'] as [string, string]] : []),
  ];
  const problems: string[] = [];
  const missing = required.filter(([c]) => !columns.has(c));
  for (const [c, key] of missing.filter(([c], i) => missing.findIndex(([x]) => x === c) === i)) problems.push(`${t.table} has no column "${c}" (migration.json ${key})`);
  const alsoChanges = meta.alsoChanges.filter((a) => !a.when || holds(a.when));
  for (const a of alsoChanges) {
    const other = shape.tables.get(tableKey(t.schema, a.table));
    if (!other) problems.push(`there is no table "${a.table}" (migration.json alsoChanges)`);
    else if (!other.columns.some((c) => c.name === a.userColumn)) problems.push(`${a.table} has no column "${a.userColumn}" (migration.json alsoChanges.userColumn)`);
  }
  const column = columns.has(meta.change.column) ? await describeChangeColumn(sql, m) : undefined;
  if (column && column.kind === 'text' && !TEXT_TYPES.has(column.type.replace(/\(.*$/, '').replace(/^character varying$/, 'varchar').replace(/^character$/, 'bpchar'))) {
    problems.push(`${t.table}.${meta.change.column} is ${column.type}: the migration writes the label '${meta.change.to}', so it needs an enum or a text column (with or without a CHECK)`);
  }
  if (column?.kind === 'enum' && !column.values!.includes(meta.change.from)) {
    problems.push(`enum ${column.type} has no label '${meta.change.from}' (labels: ${column.values!.join(', ')}; migration.json change.from)`);
  }
  if (problems.length) {
    throw new UserError(`The staging schema does not fit migration ${m.name}: ${problems.length} problem(s).`, {
      details: [...problems.map((p) => `- ${p}`), `Columns of ${t.table}: ${[...columns].join(', ')}`].join('\n'),
      tryThis: copyHint(m, 'name the real columns in migration.json (target, change, mayChange, softDeleteColumn) and in the SQL files'),
    });
  }
  const resolve = (text: string, file: string) => resolveBranches(text, holds, `${m.dir}/${file}`);
  const upSegments = splitSql(resolve(m.up.text, 'up.sql')).segments;
  const downSegments = splitSql(resolve(m.down.text, 'down.sql')).segments;
  const skippedQueries: Adaptation['skippedQueries'] = [];
  const standardQueries = meta.standardQueries.filter((q) => {
    if (!q.when || holds(q.when)) return true;
    skippedQueries.push({ name: q.name, reason: `not applicable here: "${q.when}" does not hold in this schema` });
    return false;
  });
  const adapted: MigrationFolder = {
    ...m,
    meta: { ...meta, mayChange: [...meta.mayChange, ...meta.mayChangeIfPresent.filter((c) => columns.has(c))], alsoChanges, standardQueries },
    up: { text: m.up.text, prelude: upSegments.slice(0, -1), body: upSegments[upSegments.length - 1] ?? [] },
    down: { text: m.down.text, body: downSegments[0] ?? [] },
    verify: { text: m.verify.text, statements: splitSql(resolve(m.verify.text, 'verify.sql')).segments.flat() },
  };
  if (!adapted.up.body.length || !adapted.down.body.length) {
    throw new UserError(`${where}: with the branches chosen for this schema, ${!adapted.up.body.length ? 'up.sql' : 'down.sql'} has no statement left to run.`, { tryThis: copyHint(m, 'add an @rehearse:else branch for this schema') });
  }
  return { migration: adapted, column: column!, conditions, absentColumns, skippedQueries, alsoChanges };
}

export interface CompiledStatement {
  part: 'prelude' | 'up' | 'down' | 'verify' | 'standard query';
  label: string;
  /** executed: a DO block or prelude statement run (then rolled back); explained: EXPLAIN without ANALYZE. */
  how: 'executed' | 'explained';
  ok: boolean;
  error?: string;
}

export interface CompileResult {
  statements: CompiledStatement[];
  ok: boolean;
  /** Set when the target label does not exist yet: it stood in for it while compiling (see compileMigration). */
  standIn?: { label: string; for: string };
  /** Proven after the ROLLBACK: the change column's type (enum labels, CHECKs) is as before. */
  unchanged: boolean;
}

const isDo = (statement: string) => /^DO\b/i.test(statement.replace(/^(\s*--[^\n]*\n)*/, '').trim());

/**
 * Proves, without changing anything, that every statement compiles against this database: in one
 * transaction that is always rolled back, the prelude is executed (it only adds a label or widens a
 * CHECK), then every other statement and standard query is EXPLAINed (planned, not run). A label
 * added by ALTER TYPE … ADD VALUE cannot be used before its transaction commits, so while the label
 * is new the source label stands in for it in the later statements: same types, same columns.
 */
export async function compileMigration(sql: postgres.Sql, a: Adaptation, settings: { batchSize: number; includeDeleted: boolean; lockTimeoutMs: number }): Promise<CompileResult> {
  const m = a.migration;
  const { from, to } = m.meta.change;
  const standIn = a.column.kind === 'enum' && !a.column.values!.includes(to) ? { label: from, for: to } : undefined;
  const swap = (s: string) => (standIn ? s.split(`'${to}'`).join(`'${from}'`) : s);
  const db = await sql.reserve();
  const statements: CompiledStatement[] = [];
  try {
    await db.unsafe('BEGIN');
    await db.unsafe(
      `SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', '60s', true), set_config('rehearse.run_id', 'rehearse-dry-run', true),
              set_config('rehearse.batch_id', 'rehearse-dry-run#1', true), set_config('rehearse.batch_limit', $2, true), set_config('rehearse.include_deleted', $3, true)`,
      [`${settings.lockTimeoutMs}ms`, String(settings.batchSize), settings.includeDeleted ? 'on' : 'off'],
    );
    let n = 0;
    const attempt = async (part: CompiledStatement['part'], statement: string, params: unknown[] = []) => {
      const how = part === 'prelude' || isDo(statement) ? 'executed' : 'explained';
      const savepoint = `rehearse_compile_${++n}`;
      await db.unsafe(`SAVEPOINT ${savepoint}`);
      try {
        await db.unsafe(how === 'executed' ? statement : `EXPLAIN (COSTS OFF) ${part === 'prelude' ? statement : swap(statement)}`, params as never[]);
        await db.unsafe(`RELEASE SAVEPOINT ${savepoint}`);
        statements.push({ part, label: statementLabel(statement), how, ok: true });
      } catch (error) {
        await db.unsafe(`ROLLBACK TO SAVEPOINT ${savepoint}`);
        statements.push({ part, label: statementLabel(statement), how, ok: false, error: (error as Error).message });
      }
    };
    for (const s of m.up.prelude.flat()) await attempt('prelude', s);
    for (const s of m.up.body) await attempt('up', s);
    for (const s of m.down.body) await attempt('down', s);
    for (const s of m.verify.statements) await attempt('verify', s);
    for (const q of m.meta.standardQueries) {
      await attempt('standard query', q.sql, q.params.map(() => null));
      statements[statements.length - 1]!.label = q.name;
    }
  } finally {
    await db.unsafe('ROLLBACK').catch(() => undefined);
    db.release();
  }
  const after = await describeChangeColumn(sql, m);
  const unchanged = JSON.stringify(after) === JSON.stringify(a.column);
  return { statements, ok: statements.every((s) => s.ok) && unchanged, ...(standIn ? { standIn } : {}), unchanged };
}

/** A failed compile as an error that names each statement, before anything changed. */
export function compileError(m: MigrationFolder, c: CompileResult): UserError {
  const bad = c.statements.filter((s) => !s.ok);
  return new UserError(`${bad.length} statement(s) of migration ${m.name} do not compile against staging; nothing was changed.`, {
    details: [...bad.map((s) => `- ${s.part}: ${s.label}: ${s.error}`), ...(c.unchanged ? [] : ['- the change column\'s type differs after the rolled-back compile transaction'])].join('\n'),
    tryThis: copyHint(m, 'fix those statements (or add a `when` condition to a standard query that does not apply)'),
  });
}
