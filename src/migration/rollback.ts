// `rehearse migrate rollback`: reverses the runs of a migration that are still applied (newest
// first) with its down.sql, and proves it by checksum: every table outside the columns the
// migration may change is identical before and after, and the reverted rows hold exactly the
// values their log snapshots recorded.
import type postgres from 'postgres';
import type { Redis } from 'ioredis';
import { quoteIdent, introspect, tableKey } from '../subset/introspect.js';
import { diffSums, tableChecksums, type TableSum } from './checks.js';
import type { MigrationFolder } from './folder.js';
import { logTable, runPhase, targetTable, type PhaseResult, type RunnerEvent, type RunnerSettings } from './runner.js';

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
  const skip = { [tableKey(m.meta.target.schema, m.meta.target.table)]: m.meta.mayChange };
  const before = await tableChecksums(sql, shape, skip);
  const runs: RollbackResult['runs'] = [];
  for (const runId of ids) {
    const result = await runPhase('down', { sql, migration: m, runId, ...inputs.settings, signal: inputs.signal, redis: inputs.redis, onEvent: inputs.onEvent });
    runs.push({ runId, result });
  }
  const differing = diffSums(before, await tableChecksums(sql, shape, skip)).map((d) => d.table);
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
  const proof: RollbackProof = {
    unchangedElsewhere: differing.length === 0,
    differing,
    restoredEqualsLog,
    restored: restored!,
    logged: logged!,
    notRestored: failed!.n,
    ok: differing.length === 0 && restoredEqualsLog,
  };
  return { runs, proof };
}
