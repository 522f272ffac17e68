// The migration-test-report: what the harness ran and found, in one JSON object. The log section is
// read back from the log table itself, so the report states what the database holds.
import type postgres from 'postgres';
import { logCounts, histogram, type LogCounts } from './checks.js';
import type { MigrationHarness } from './harness/index.js';
import type { PhaseResult, StatementTiming } from './runner.js';

export interface ReportExtras {
  rehearseVersion: string;
  staging: { database: string; port?: number };
  backup?: { file: string; bytes: number } | undefined;
  options: Record<string, unknown>;
}

/** Statement timings folded by statement (a batched run repeats each one per batch). */
export function foldStatements(statements: StatementTiming[]) {
  const byLabel = new Map<string, { phase: string; label: string; runs: number; totalMs: number; maxMs: number; rows: number }>();
  for (const s of statements) {
    const key = `${s.phase}|${s.label}`;
    const e = byLabel.get(key) ?? { phase: s.phase, label: s.label, runs: 0, totalMs: 0, maxMs: 0, rows: 0 };
    e.runs++;
    e.totalMs = Math.round((e.totalMs + s.ms) * 10) / 10;
    e.maxMs = Math.max(e.maxMs, s.ms);
    e.rows += s.rows;
    byLabel.set(key, e);
  }
  return [...byLabel.values()];
}

const phaseSummary = (label: string, r: PhaseResult) => ({
  label,
  phase: r.phase,
  runId: r.runId,
  rows: r.rows,
  batches: r.batches,
  ms: r.ms,
  preludeMs: r.preludeMs,
  rowsPerSecond: r.rowsPerSecond,
  caughtLate: r.caughtLate,
  leftBehind: r.leftBehind,
  retries: r.retries,
  locksHeld: r.locksHeld,
  statements: foldStatements(r.statements),
  ...(r.redis ? { redis: r.redis } : {}),
});

export async function buildMigrationReport(h: MigrationHarness, sql: postgres.Sql, extras: ReportExtras) {
  const m = h.inputs.migration;
  const summary = h.summary();
  const runIds = [...new Set(h.phases.map((p) => p.result.runId))];
  const log: Record<string, LogCounts> = {};
  for (const runId of runIds) log[runId] = await logCounts(sql, m, runId);
  const firstUp = h.phases.find((p) => p.result.phase === 'up')?.result;
  return {
    kind: 'migration-test-report',
    rehearseVersion: extras.rehearseVersion,
    runId: h.runId,
    startedAt: h.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    ok: summary.ok,
    migration: { name: m.name, dir: m.dir, description: m.meta.description, target: m.meta.target, change: m.meta.change, mayChange: m.meta.mayChange, softDeleteColumn: m.meta.softDeleteColumn, alsoChanges: m.meta.alsoChanges, allow: m.meta.allow, ...(m.outsideProject ? { outsideProject: m.outsideProject } : {}) },
    /** How the folder was fitted to this schema: the catalog conditions, what was left out and why. */
    schemaFit: h.inputs.adaptation && { conditions: h.inputs.adaptation.conditions, absentColumns: h.inputs.adaptation.absentColumns, skippedQueries: h.inputs.adaptation.skippedQueries },
    /** Schema changes that outlive a rollback (an enum label added), from the leftovers test. */
    leftovers: h.results.find((r) => r.name === 'schema changes a rollback cannot undo are listed')?.data,
    staging: extras.staging,
    backup: extras.backup,
    options: extras.options,
    column: h.columnType,
    counts: {
      eligible: h.baseline?.eligible,
      /** Eligible rows in production (read-only count), null when it could not be counted. */
      productionEligible: h.inputs.productionEligible ?? null,
      migrated: firstUp?.rows,
      softDeletedLeft: h.baseline?.softDeletedLeft,
      histogramBefore: h.baseline?.histogram,
      histogramAfter: h.baseline ? await histogram(sql, m) : undefined,
    },
    categories: summary.categories,
    failed: summary.failed,
    blocked: h.blocked,
    tests: h.results,
    phases: h.phases.map((p) => phaseSummary(p.label, p.result)),
    /** Still applied at the end (what `rehearse migrate rollback` would reverse). */
    applied: h.applied,
    log,
    performance: {
      up: h.performance.up && phaseSummary('up (under load)', h.performance.up),
      down: h.performance.down && phaseSummary('down (under load)', h.performance.down),
      locks: h.performance.locks,
      workload: h.performance.workload,
      explain: h.performance.explain,
      /** Rolled-back trial runs at several sizes, and what they project for production. */
      trials: h.performance.trials,
      projection: h.performance.projection,
    },
    dependentObjects: h.dependents,
    edgeCases: h.edge,
  };
}

export type MigrationReport = Awaited<ReturnType<typeof buildMigrationReport>>;
