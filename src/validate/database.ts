// Database checks against staging through its published port: connectivity, the app's tables hold
// rows, zero foreign-key orphans, the standard queries under the threshold (EXPLAIN ANALYZE, in
// read-only transactions), and rehearse's own staging schemas.
import path from 'node:path';
import type postgres from 'postgres';
import type { Config } from '../config.js';
import { newestReport } from '../reports.js';
import { quoteIdent } from '../subset/introspect.js';
import { stagingSeed } from '../subset/seed.js';
import { fail, pass, skip, warn, type CheckDef } from './types.js';
import type { StackProbes } from './probes.js';

const DATA_HINT = 'the data step has not run yet: `rehearse data --yes` (after `rehearse demo` when there is no production to copy)';
const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Translates a connection failure into the command that fixes it. */
export function pgFailure(p: StackProbes, error: unknown): { value: string; hint: string } {
  const e = error as { code?: string; message?: string };
  if (e.code === '28P01')
    return {
      value: 'password refused',
      hint: `volume ${p.config.volumes.postgres} was initialised with another password: put that .env.staging back, or \`rehearse down --volumes\` then \`rehearse setup\``,
    };
  if (e.code === 'ECONNREFUSED' || e.code === 'CONNECT_TIMEOUT' || e.code === 'ECONNRESET' || e.code === 'CONNECTION_CLOSED')
    return { value: `no connection on ${p.host}:${p.config.ports.postgres} (${e.code})`, hint: '`rehearse logs postgres-staging`; `rehearse setup` starts it' };
  if (e.code === '3D000') return { value: `database ${p.config.database.name} does not exist`, hint: '`rehearse setup`' };
  return { value: e.message ?? String(error), hint: '`rehearse logs postgres-staging`' };
}

/** The queries the app and the migration run most, timed with EXPLAIN ANALYZE (config: validation.queries). */
export function standardQueries(config: Config): Array<{ name: string; sql: string }> {
  if (config.validation.queries) return config.validation.queries;
  const seed = stagingSeed(config);
  const users = quoteIdent(seed.table);
  const id = quoteIdent(seed.idColumn);
  const role = quoteIdent(seed.roleColumn);
  const active = seed.deletedAtColumn ? ` AND ${quoteIdent(seed.deletedAtColumn)} IS NULL` : '';
  return [
    { name: 'users to migrate (by role)', sql: `SELECT ${id} FROM ${users} WHERE ${role} = ${sqlString(seed.learnerRole)}${active}` },
    { name: 'users per role', sql: `SELECT ${role}::text AS role, count(*) FROM ${users} GROUP BY 1` },
    { name: 'user by e-mail (sign-in)', sql: `SELECT * FROM ${users} WHERE "email" = 'nobody@staging.invalid'` },
    { name: 'published stories page', sql: `SELECT "id", "title", "authorId" FROM "stories" WHERE "isPublished" ORDER BY "createdAt" DESC LIMIT 20` },
    { name: 'reading progress of one user', sql: `SELECT * FROM "reading_progress" WHERE "userId" = (SELECT ${id} FROM ${users} ORDER BY ${id} LIMIT 1)` },
  ];
}

/** The app tables in data.schemas that exist; `name` or `schema.name`. */
async function resolveTables(p: StackProbes, names: string[]): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  const sql = p.sql();
  for (const name of names) {
    const candidates = name.includes('.') ? [name.split('.').map(quoteIdent).join('.')] : p.config.data.schemas.map((s) => `${quoteIdent(s)}.${quoteIdent(name)}`);
    let found: string | undefined;
    for (const c of candidates) {
      const [row] = await sql<[{ reg: string | null }]>`SELECT to_regclass(${c})::text AS reg`;
      if (row?.reg) {
        found = c;
        break;
      }
    }
    out.set(name, found);
  }
  return out;
}

const connect: CheckDef = {
  id: 'database.connect',
  category: 'database',
  title: 'Staging PostgreSQL accepts the staging user',
  quick: true,
  required: true,
  threshold: 'SELECT 1 answers with the .env.staging password',
  hint: '`rehearse logs postgres-staging`',
  async run(p) {
    const started = performance.now();
    try {
      const [row] = await p.sql()<[{ one: number; version: string; db: string }]>`SELECT 1 AS one, current_setting('server_version') AS version, current_database() AS db`;
      const ms = Math.round(performance.now() - started);
      return pass(`PostgreSQL ${row!.version}, database ${row!.db}, ${ms} ms (connect + query)`, { data: { ms, version: row!.version } });
    } catch (error) {
      return fail(pgFailure(p, error).value, pgFailure(p, error));
    }
  },
};

/** The tables validate expects to hold rows: validation.expectedTables, else those the newest data step loaded rows into. */
export function expectedTables(config: Config): { tables: string[]; source: string } | undefined {
  if (config.validation.expectedTables) return { tables: config.validation.expectedTables, source: 'validation.expectedTables' };
  const summary = newestReport(config, 'test-data-summary');
  const rows = (summary?.data as { rowsPerTable?: Record<string, number> } | undefined)?.rowsPerTable ?? {};
  const tables = Object.entries(rows).filter(([, n]) => n > 0).map(([t]) => t).sort();
  return tables.length ? { tables, source: path.basename(summary!.file) } : undefined;
}

const tables: CheckDef = {
  id: 'database.tables',
  category: 'database',
  title: 'Expected app tables hold rows',
  quick: false,
  required: true,
  threshold: 'every table in validation.expectedTables (unset: every table the data step loaded) exists and is not empty',
  hint: '`rehearse data --yes`',
  async run(p) {
    const expected = expectedTables(p.config);
    if (!expected) return fail('no data summary to derive the tables from, and validation.expectedTables is unset', { hint: `${DATA_HINT}; or list your tables in validation.expectedTables` });
    const derived = expected.source !== 'validation.expectedTables';
    const threshold = derived ? `the ${expected.tables.length} tables ${expected.source} loaded rows into: exist and not empty` : `${expected.tables.join(', ')}: exist and not empty`;
    const found = await resolveTables(p, expected.tables);
    const counts: Record<string, number | null> = {};
    for (const [name, qualified] of found) {
      counts[name] = qualified ? ((await p.sql().unsafe(`SELECT count(*)::int AS n FROM ${qualified}`)) as unknown as Array<{ n: number }>)[0]!.n : null;
    }
    const missing = Object.entries(counts).filter(([, n]) => n === null).map(([t]) => t);
    const empty = Object.entries(counts).filter(([, n]) => n === 0).map(([t]) => t);
    const data = { source: expected.source, counts };
    const value = derived
      ? `${expected.tables.length - missing.length}/${expected.tables.length} tables from ${expected.source} exist, ${expected.tables.length - missing.length - empty.length} hold rows`
      : Object.entries(counts).map(([t, n]) => `${t} ${n === null ? 'missing' : `${n} rows`}`).join(', ');
    const detail = [missing.length ? `missing: ${missing.join(', ')}` : '', empty.length ? `empty: ${empty.join(', ')}` : ''].filter(Boolean).join('; ');
    if (missing.length === expected.tables.length) return fail(value, { threshold, detail: 'none of the app tables exist in staging', hint: DATA_HINT, data });
    if (derived) {
      // The data step's own tables: a missing one means staging changed since; the seed table must hold rows;
      // another table can be emptied by the migration (ended sessions), which is worth a look, not a failure.
      const seedEmpty = empty.includes(stagingSeed(p.config).table);
      if (missing.length || seedEmpty) return fail(value, { threshold, detail, hint: `staging no longer holds what ${expected.source} recorded: \`rehearse data --yes\` reloads it`, data });
      if (empty.length) return warn(value, { threshold, detail: `${detail} (they held rows when the data step ran)`, data });
      return pass(value, { threshold, data });
    }
    if (missing.length || empty.length) return fail(value, { threshold, detail, hint: '`rehearse data --yes` loads the tables; if this schema does not have them, fix validation.expectedTables (unset: the tables the data step loaded)', data });
    return pass(value, { threshold, data });
  },
};

const orphans: CheckDef = {
  id: 'database.orphans',
  category: 'database',
  title: 'Zero foreign-key orphans',
  quick: false,
  required: true,
  threshold: '0 child rows without their parent, on every foreign key',
  hint: '`rehearse data --yes` reloads an FK-complete subset',
  async run(p) {
    const sql = p.sql();
    const fks = await sql<Array<{ name: string; child: string; parent: string; childColumns: string[]; parentColumns: string[] }>>`
      SELECT k.conname AS name,
             format('%I.%I', cn.nspname, c.relname) AS child,
             format('%I.%I', pn.nspname, pc.relname) AS parent,
             array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.ord)::text[] AS "childColumns",
             array(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(attnum, ord) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum ORDER BY u.ord)::text[] AS "parentColumns"
      FROM pg_constraint k
      JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
      JOIN pg_class pc ON pc.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE k.contype = 'f' AND cn.nspname = ANY(${p.config.data.schemas})
      ORDER BY 1`;
    if (!fks.length) return skip('no foreign keys in staging yet', { hint: DATA_HINT });
    // One round trip for all keys; checked by query, so a NOT VALID or disabled constraint cannot hide one.
    const parts = fks.map((fk) => {
      const notNull = fk.childColumns.map((col) => `c.${quoteIdent(col)} IS NOT NULL`).join(' AND ');
      const match = fk.childColumns.map((col, i) => `p.${quoteIdent(fk.parentColumns[i]!)} = c.${quoteIdent(col)}`).join(' AND ');
      return `SELECT ${sqlString(`${fk.child.replace(/"/g, '')}.${fk.name}`)} AS fk, count(*)::int AS n FROM ${fk.child} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE ${match})`;
    });
    const rows = (await sql.begin('read only', (tx) => tx.unsafe(parts.join('\nUNION ALL\n')))) as unknown as Array<{ fk: string; n: number }>;
    const bad = rows.filter((r) => r.n > 0);
    const total = bad.reduce((s, r) => s + r.n, 0);
    if (bad.length) return fail(`${total} orphan row(s) on ${bad.length} of ${fks.length} foreign keys`, { detail: bad.map((r) => `${r.fk}: ${r.n}`).join('; '), data: Object.fromEntries(rows.map((r) => [r.fk, r.n])) });
    return pass(`0 orphans on ${fks.length} foreign keys`);
  },
};

interface QueryTiming {
  name: string;
  /** Median execution time of the measured runs (the figure held against the threshold). */
  ms?: number;
  planningMs?: number;
  executionMs?: number;
  runs?: number;
  /** A transient error (timeout, dropped connection) on the first try, retried once. */
  retried?: string;
  skipped?: string;
}

/** Runs after one warm-up run: the median of these is what a warm, steady staging does. */
const MEASURED_RUNS = 5;
const TRANSIENT = new Set(['57014', 'ECONNRESET', 'CONNECTION_CLOSED', 'CONNECT_TIMEOUT', '40P01', '55P03']);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round2 = (x: number) => Math.round(x * 100) / 100;

/** One EXPLAIN ANALYZE: planning and execution times as PostgreSQL measured them. */
async function explainOnce(sql: postgres.Sql, query: string): Promise<{ planningMs: number; executionMs: number }> {
  // Read-only transaction: EXPLAIN ANALYZE executes the statement, and a configured query must never write.
  const rows = (await sql.begin('read only', (tx) => tx.unsafe(`EXPLAIN (ANALYZE, FORMAT JSON) ${query}`))) as unknown as Array<Record<string, unknown>>;
  const raw = rows[0]?.['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ 'Planning Time': number; 'Execution Time': number }>;
  return { planningMs: plan[0]!['Planning Time'], executionMs: plan[0]!['Execution Time'] };
}

async function measureQuery(sql: postgres.Sql, name: string, query: string, throwIfAborted: () => void): Promise<QueryTiming> {
  let retried: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      await explainOnce(sql, query); // warm-up: caches, catalog, first plan
      const runs: Array<{ planningMs: number; executionMs: number }> = [];
      for (let i = 0; i < MEASURED_RUNS; i++) {
        throwIfAborted();
        runs.push(await explainOnce(sql, query));
      }
      const executionMs = round2(median(runs.map((r) => r.executionMs)));
      const planningMs = round2(median(runs.map((r) => r.planningMs)));
      return { name, ms: executionMs, executionMs, planningMs, runs: MEASURED_RUNS, ...(retried ? { retried } : {}) };
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      // A table or column this schema does not have, or a role label its enum lacks: not applicable here.
      if (code === '42P01' || code === '42703' || code === '22P02') return { name, skipped: (error as Error).message };
      if (attempt === 0 && TRANSIENT.has(code)) {
        retried = `${code}: ${(error as Error).message}`;
        continue;
      }
      throw error;
    }
  }
}

const queries: CheckDef = {
  id: 'database.query-performance',
  category: 'database',
  title: 'Standard queries under the threshold (EXPLAIN ANALYZE, warm median)',
  quick: false,
  required: true,
  threshold: 'each < 100 ms (median execution of 5 runs after a warm-up; planning reported apart)',
  hint: (p) => `read the plan with \`docker exec -it ${p.names.containers['postgres-staging']} psql -U ${p.config.database.user} -d ${p.config.database.name} -c 'EXPLAIN ANALYZE <query>'\`; add the missing index, or raise validation.queryMaxMs if staging is knowingly slower`,
  async run(p) {
    const max = p.config.validation.queryMaxMs;
    const threshold = `each < ${max} ms (median execution of ${MEASURED_RUNS} runs after a warm-up; planning reported apart)`;
    const sql = p.sql();
    const timings: QueryTiming[] = [];
    for (const q of standardQueries(p.config)) {
      p.throwIfAborted();
      timings.push(await measureQuery(sql, q.name, q.sql, () => p.throwIfAborted()));
    }
    const timed = timings.filter((t) => t.ms !== undefined);
    if (!timed.length) return skip('no standard query applies: the app tables are not there yet', { threshold, hint: DATA_HINT, data: timings });
    const slowest = timed.reduce((a, b) => (b.ms! > a.ms! ? b : a));
    const slow = timed.filter((t) => t.ms! >= max);
    const retried = timings.filter((t) => t.retried);
    const value =
      `${timed.length} queries, slowest ${slowest.ms!.toFixed(1)} ms execution + ${slowest.planningMs!.toFixed(1)} ms planning (${slowest.name}, median of ${MEASURED_RUNS})` +
      `${timings.length > timed.length ? `; ${timings.length - timed.length} not applicable` : ''}` +
      `${retried.length ? `; retried once after a transient error: ${retried.map((t) => `${t.name} (${t.retried})`).join(', ')}` : ''}`;
    if (slow.length) return fail(value, { threshold, detail: slow.map((t) => `${t.name}: ${t.ms!.toFixed(1)} ms execution, ${t.planningMs!.toFixed(1)} ms planning`).join('; '), data: timings });
    return pass(value, { threshold, data: timings });
  },
};

const REHEARSE_TABLES = ['staging_logs.init_log', 'staging_migrations.role_migration_log', 'staging_migrations.test_results'];

const schemas: CheckDef = {
  id: 'database.staging-schemas',
  category: 'database',
  title: 'Staging schemas present (staging_migrations, staging_logs)',
  quick: true,
  required: true,
  threshold: REHEARSE_TABLES.join(', '),
  hint: '`rehearse setup` applies sql/staging (safe to run again)',
  async run(p) {
    let rows: Array<{ t: string }>;
    try {
      rows = await p.sql()<Array<{ t: string }>>`SELECT n.nspname || '.' || c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('staging_migrations', 'staging_logs') AND c.relkind = 'r'`;
    } catch (error) {
      return fail(pgFailure(p, error).value, pgFailure(p, error));
    }
    const present = new Set(rows.map((r) => r.t));
    const missing = REHEARSE_TABLES.filter((t) => !present.has(t));
    if (missing.length) return fail(`${REHEARSE_TABLES.length - missing.length}/${REHEARSE_TABLES.length} tables`, { detail: `missing: ${missing.join(', ')}` });
    return pass(`${REHEARSE_TABLES.length}/${REHEARSE_TABLES.length} tables`);
  },
};

export const databaseChecks: CheckDef[] = [connect, tables, orphans, queries, schemas];
