// `rehearse migrate rollback`: reverses the runs of a migration that are still applied (newest
// first) with its down.sql, and proves it by checksum: every table outside the columns the
// migration may change is identical before and after, and the reverted rows hold exactly the
// values their log snapshots recorded.
import type postgres from 'postgres';
import type { Redis } from 'ioredis';
import { introspect, tableKey } from '../subset/introspect.js';
import { describeChangeColumn, diffSums, tableChecksums, type TableSum } from './checks.js';
import type { MigrationFolder } from './folder.js';
import { logTable, runPhase, targetTable, type PhaseResult, type RunnerEvent, type RunnerSettings } from './runner.js';
import { quoteIdent, sqlString } from '../db/sql-text.js';

export interface AppliedRun {
  runId: string;
  rows: number;
  lastAt: string;
}

/** Runs of this migration with rows still marked completed in the log, newest first. */
export async function appliedRuns(sql: postgres.Sql, m: MigrationFolder): Promise<AppliedRun[]> {
  const rows = (await sql.unsafe(
    `SELECT split_part(batch_id, '#', 1) AS "runId", count(*)::int AS rows, max(migration_timestamp)::text AS "lastAt"
     FROM ${logTable(m)} WHERE migration_status = 'completed' AND starts_with(batch_id, $1)
     GROUP BY 1 ORDER BY max(migration_timestamp) DESC, 1 DESC`,
    [`${m.name}@`],
  )) as unknown as AppliedRun[];
  return rows;
}

/** Runs of any migration its log holds as applied: a run's batches are `<run id>#<n>`, applied while 'completed' (down marks them 'reversed'). */
export async function appliedRunCount(sql: postgres.Sql, m: MigrationFolder): Promise<number> {
  const [row] = (await sql.unsafe(`SELECT count(DISTINCT split_part(batch_id, '#', 1))::int AS n FROM ${logTable(m)} WHERE migration_status = 'completed'`)) as unknown as Array<{ n: number }>;
  return row!.n;
}

export interface RollbackInputs {
  sql: postgres.Sql;
  migration: MigrationFolder;
  schemas: string[];
  settings: RunnerSettings;
  redis?: { client: Redis; patterns: string[] } | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: RunnerEvent) => void) | undefined;
}

export interface RollbackProof {
  /** Every table, minus the columns the migration may change, identical before and after. */
  unchangedElsewhere: boolean;
  differing: string[];
  /** The reverted rows' id + changeable columns, hashed, equal the log snapshots' hash. */
  restoredEqualsLog: boolean;
  restored: TableSum;
  logged: TableSum;
  /** Log rows left unrestored (the row changed after the migration), marked failed. */
  notRestored: number;
  /** What was compared: every table's row count and checksum after the rollback, and the columns left out. */
  compared: Array<{ table: string; rows: number; sum: string; without?: string[] }>;
  /** alsoChanges tables: the rows kept in the log are back, value for value. */
  sideTables: Array<{ table: string; logged: TableSum; found: TableSum; ok: boolean }>;
  /** What a rollback cannot undo (an enum label stays). */
  cannotUndo: string[];
  ok: boolean;
}

export interface RollbackResult {
  runs: Array<{ runId: string; result: PhaseResult }>;
  proof: RollbackProof;
}

/** Reverses every applied run (or the given ones), then proves the result. */
export async function rollbackApplied(inputs: RollbackInputs, runIds?: string[]): Promise<RollbackResult> {
  const { sql, migration: m } = inputs;
  const ids = runIds ?? (await appliedRuns(sql, m)).map((r) => r.runId);
  const shape = await introspect(sql, inputs.schemas);
  const targetKey = tableKey(m.meta.target.schema, m.meta.target.table);
  const skip = { [targetKey]: m.meta.mayChange };
  const sideKeys = m.meta.alsoChanges.map((a) => tableKey(m.meta.target.schema, a.table));
  const withoutSide = (sums: Awaited<ReturnType<typeof tableChecksums>>) => Object.fromEntries(Object.entries(sums).filter(([k]) => !sideKeys.includes(k)));
  const before = withoutSide(await tableChecksums(sql, shape, skip));
  const runs: RollbackResult['runs'] = [];
  for (const runId of ids) {
    const result = await runPhase('down', { sql, migration: m, runId, ...inputs.settings, signal: inputs.signal, redis: inputs.redis, onEvent: inputs.onEvent });
    runs.push({ runId, result });
  }
  const after = withoutSide(await tableChecksums(sql, shape, skip));
  const differing = diffSums(before, after).map((d) => d.table);
  const columns = [m.meta.target.idColumn, ...m.meta.mayChange.filter((c) => c !== m.meta.target.idColumn)].map(quoteIdent);
  const sum = (row: string) => `count(*)::int AS rows, coalesce(sum(hashtextextended(${row}, 0)::numeric), 0)::text || ':' || coalesce(sum(hashtextextended(${row}, 1)::numeric), 0)::text AS sum`;
  const mine = `l.migration_status = 'reversed' AND split_part(l.batch_id, '#', 1) = ANY($1::text[])`;
  const [logged] = (await sql.unsafe(
    `SELECT ${sum(`ROW(${columns.map((c) => `r.${c}`).join(', ')})::text`)}
     FROM ${logTable(m)} l CROSS JOIN LATERAL jsonb_populate_record(NULL::${targetTable(m)}, l.rollback_data) r WHERE ${mine}`,
    [ids],
  )) as unknown as TableSum[];
  const [restored] = (await sql.unsafe(
    `SELECT ${sum(`ROW(${columns.map((c) => `u.${c}`).join(', ')})::text`)}
     FROM ${targetTable(m)} u WHERE u.${quoteIdent(m.meta.target.idColumn)}::text IN (SELECT l.user_id FROM ${logTable(m)} l WHERE ${mine})`,
    [ids],
  )) as unknown as TableSum[];
  const [failed] = (await sql.unsafe(`SELECT count(*)::int AS n FROM ${logTable(m)} l WHERE l.migration_status = 'failed' AND split_part(l.batch_id, '#', 1) = ANY($1::text[])`, [ids])) as unknown as Array<{ n: number }>;
  const restoredEqualsLog = restored!.rows === logged!.rows && restored!.sum === logged!.sum;
  // Each side table: the rows the log kept are all back, identical (a row of the table's own type, as text).
  const sideTables: RollbackProof['sideTables'] = [];
  for (const a of m.meta.alsoChanges) {
    const table = `${quoteIdent(m.meta.target.schema)}.${quoteIdent(a.table)}`;
    const fromLog = `SELECT s FROM ${logTable(m)} l CROSS JOIN LATERAL jsonb_populate_recordset(NULL::${table}, l.rollback_data->${sqlString(a.logKey)}) s WHERE ${mine}`;
    const [loggedSide] = (await sql.unsafe(`SELECT ${sum('x.s::text')} FROM (${fromLog}) x`, [ids])) as unknown as TableSum[];
    const [found] = (await sql.unsafe(`SELECT ${sum('t::text')} FROM ${table} t WHERE t::text IN (SELECT x.s::text FROM (${fromLog}) x)`, [ids])) as unknown as TableSum[];
    sideTables.push({ table: `${m.meta.target.schema}.${a.table}`, logged: loggedSide!, found: found!, ok: loggedSide!.rows === found!.rows && loggedSide!.sum === found!.sum });
  }
  const column = await describeChangeColumn(sql, m);
  const cannotUndo = column?.kind === 'enum' && column.values!.includes(m.meta.change.to)
    ? [`enum ${column.type} still has the label '${m.meta.change.to}': a rollback cannot remove an enum label (PostgreSQL has no ALTER TYPE … DROP VALUE), whether or not this migration added it`]
    : [];
  const proof: RollbackProof = {
    unchangedElsewhere: differing.length === 0,
    differing,
    restoredEqualsLog,
    restored: restored!,
    logged: logged!,
    notRestored: failed!.n,
    compared: Object.entries(after).map(([table, s]) => ({ table, rows: s.rows, sum: s.sum, ...(table === targetKey ? { without: m.meta.mayChange } : {}) })),
    sideTables,
    cannotUndo,
    ok: differing.length === 0 && restoredEqualsLog && sideTables.every((x) => x.ok),
  };
  return { runs, proof };
}
