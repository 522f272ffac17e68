// `rehearse migrate --dry-run`: what a run would do and to how many rows, read-only.
import type postgres from 'postgres';
import type { Adaptation, CompileResult } from './adapt.js';
import { histogram, type ColumnType } from './checks.js';
import { findDependentObjects, type DependentObject } from './dependents.js';
import type { MigrationFolder } from './folder.js';
import { appliedRuns, type AppliedRun } from './rollback.js';
import { countEligible, eligibleCondition, logTable, targetTable } from './runner.js';
import { statementLabel } from './sql-split.js';
import { quoteIdent } from '../db/sql-text.js';

export interface MigrationPlan {
  migration: { name: string; dir: string; description: string; target: string; change: string; from: string; mayChange: string[] };
  column?: ColumnType;
  /** The target value exists already (enum label, or admitted by every CHECK); else the prelude adds it. */
  targetValueReady: boolean;
  eligible: number;
  softDeleted: { policy: 'skip' | 'include'; count: number };
  histogram: Record<string, number>;
  batchSize: number;
  batches: number;
  statements: { prelude: string[][]; body: string[]; down: string[]; verify: number };
  dependents: DependentObject[];
  applied: AppliedRun[];
  /** What a real run writes: each table with its row count and what changes there. */
  touches: Array<{ table: string; rows: number; what: string }>;
  /** Enum labels the prelude adds (PostgreSQL cannot remove them again). */
  labelsToAdd: string[];
  /** The catalog conditions and the branches they chose. */
  conditions: Adaptation['conditions'];
  skippedQueries: Adaptation['skippedQueries'];
  absentColumns: string[];
  compile: CompileResult;
}

export async function planMigration(sql: postgres.Sql, a: Adaptation, compile: CompileResult, opts: { schemas: string[]; batchSize: number; includeDeleted: boolean }): Promise<MigrationPlan> {
  const m: MigrationFolder = a.migration;
  const meta = m.meta;
  const column = a.column;
  const eligibleIds = `SELECT ${quoteIdent(meta.target.idColumn)} FROM ${targetTable(m)} WHERE ${eligibleCondition(m, opts.includeDeleted)}`;
  const side = await Promise.all(
    a.alsoChanges.map(async (x) => {
      const [row] = (await sql.unsafe(`SELECT count(*)::int AS n FROM ${quoteIdent(meta.target.schema)}.${quoteIdent(x.table)} WHERE ${quoteIdent(x.userColumn)} IN (${eligibleIds})`)) as unknown as Array<{ n: number }>;
      return { table: `${meta.target.schema}.${x.table}`, rows: row!.n, what: x.why };
    }),
  );
  const [eligible, all, hist, dependents, applied] = await Promise.all([
    countEligible(sql, m, opts.includeDeleted),
    countEligible(sql, m, true),
    histogram(sql, m),
    findDependentObjects(sql, opts.schemas, meta.change.from, { schema: meta.target.schema, table: meta.target.table, column: meta.change.column }),
    appliedRuns(sql, m).catch(() => []),
  ]);
  // Without a CHECK there is nothing to widen; with one, the prelude evaluates it and widens when needed.
  const targetValueReady = column?.kind === 'enum' ? !!column.values?.includes(meta.change.to) : !column?.checks.length || column.checks.some((c) => c.includes(`'${meta.change.to}'`));
  return {
    migration: { name: m.name, dir: m.dir, description: meta.description, target: `${meta.target.schema}.${meta.target.table}`, change: `${meta.change.column}: ${meta.change.from} → ${meta.change.to}`, from: meta.change.from, mayChange: meta.mayChange },
    ...(column ? { column } : {}),
    targetValueReady,
    eligible,
    softDeleted: { policy: opts.includeDeleted ? 'include' : 'skip', count: all - eligible },
    histogram: hist,
    batchSize: opts.batchSize,
    batches: opts.batchSize > 0 ? Math.ceil(eligible / opts.batchSize) : eligible > 0 ? 1 : 0,
    statements: {
      prelude: m.up.prelude.map((segment) => segment.map((s) => statementLabel(s))),
      body: m.up.body.map((s) => statementLabel(s)),
      down: m.down.body.map((s) => statementLabel(s)),
      verify: m.verify.statements.length,
    },
    dependents,
    applied,
    touches: [
      { table: `${meta.target.schema}.${meta.target.table}`, rows: eligible, what: `${meta.change.column} ${meta.change.from} → ${meta.change.to}; also writes ${meta.mayChange.filter((c) => c !== meta.change.column).join(', ') || 'nothing else'}` },
      ...side,
      { table: logTable(m).replace(/"/g, ''), rows: eligible, what: 'one row per migrated row, with its snapshot for rollback' },
    ],
    labelsToAdd: column.kind === 'enum' && !column.values!.includes(meta.change.to) ? [meta.change.to] : [],
    conditions: a.conditions,
    skippedQueries: a.skippedQueries,
    absentColumns: a.absentColumns,
    compile,
  };
}
