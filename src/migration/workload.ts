// A synthetic app load that keeps running while a migration phase does (standard queries, short
// write transactions on the target and its referencing tables), with latencies per window.
import type postgres from 'postgres';
import { type DbShape } from '../subset/introspect.js';
import type { MigrationFolder } from './folder.js';
import { targetTable } from './runner.js';
import { quoteIdent } from '../db/sql-text.js';

export interface WorkloadOptions {
  sql: postgres.Sql;
  migration: MigrationFolder;
  shape: DbShape;
  connections: number;
  /** How long a write transaction holds its row lock (an app request's work). */
  holdMs: number;
  /** Ids of rows the migration changes, and of rows it does not: the queries' parameters. */
  affectedIds: string[];
  otherIds: string[];
}

export interface LatencyStats {
  ops: number;
  reads: number;
  writes: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface WorkloadReport {
  connections: number;
  holdMs: number;
  windows: Record<string, LatencyStats>;
  errors: string[];
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank]!;
}

function stats(samples: Array<{ ms: number; kind: 'read' | 'write'; ok: boolean }>): LatencyStats {
  const ms = samples.filter((s) => s.ok).map((s) => s.ms).sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    ops: samples.length,
    reads: samples.filter((s) => s.kind === 'read').length,
    writes: samples.filter((s) => s.kind === 'write').length,
    errors: samples.filter((s) => !s.ok).length,
    p50Ms: round(percentile(ms, 0.5)),
    p95Ms: round(percentile(ms, 0.95)),
    maxMs: round(ms[ms.length - 1] ?? 0),
  };
}

interface Operation {
  kind: 'read' | 'write';
  run: (db: postgres.ReservedSql) => Promise<unknown>;
}

export class Workload {
  readonly pids: number[] = [];
  private window = 'before';
  private readonly samples = new Map<string, Array<{ ms: number; kind: 'read' | 'write'; ok: boolean }>>();
  private readonly errors: string[] = [];
  private stopping = false;
  private loops: Promise<void>[] = [];
  private readonly operations: Operation[];

  constructor(private readonly opts: WorkloadOptions) {
    this.operations = this.plan();
  }

  private pick<T>(list: T[]): T {
    return list[Math.floor(Math.random() * list.length)]!;
  }

  private plan(): Operation[] {
    const { migration: m, shape, affectedIds, otherIds, holdMs } = this.opts;
    const ids = () => (Math.random() < 0.7 && affectedIds.length ? this.pick(affectedIds) : this.pick(otherIds.length ? otherIds : affectedIds));
    const ops: Operation[] = [];
    for (const q of m.meta.standardQueries) {
      ops.push({ kind: 'read', run: (db) => db.unsafe(q.sql, q.params.map((p) => (p === 'affectedId' && affectedIds.length ? this.pick(affectedIds) : ids()))) });
    }
    const table = targetTable(m);
    const id = quoteIdent(m.meta.target.idColumn);
    const col = quoteIdent(m.meta.change.column);
    const write = (statement: string) => async (db: postgres.ReservedSql) => {
      await db.unsafe('BEGIN');
      try {
        await db.unsafe(statement, [ids()]);
        if (holdMs > 0) await db.unsafe(`SELECT pg_sleep(${holdMs / 1000})`);
        await db.unsafe('COMMIT');
      } catch (error) {
        await db.unsafe('ROLLBACK').catch(() => undefined);
        throw error;
      }
    };
    // Row locks on the rows the migration changes, and on other ones. Writes set columns to their own
    // values, so the data (and every checksum) is the same afterwards; a BEFORE UPDATE trigger that
    // stamps a column would break that, and the checksum test after the workload would say so.
    ops.push({ kind: 'write', run: write(`UPDATE ${table} SET ${col} = ${col} WHERE ${id} = $1`) });
    // The related tables: rows of one user in each table that references the target.
    const targetKey = m.meta.target.schema === 'public' ? m.meta.target.table : `${m.meta.target.schema}.${m.meta.target.table}`;
    for (const fk of shape.foreignKeys.filter((f) => f.parent === targetKey && f.childColumns.length === 1).slice(0, 4)) {
      const child = shape.tables.get(fk.child);
      if (!child) continue;
      const c = quoteIdent(fk.childColumns[0]!);
      ops.push({ kind: 'write', run: write(`UPDATE ${child.qualified} SET ${c} = ${c} WHERE ${c} = $1`) });
    }
    if (!m.meta.standardQueries.length) ops.push({ kind: 'read', run: (db) => db.unsafe(`SELECT * FROM ${table} WHERE ${id} = $1`, [ids()]) });
    return ops;
  }

  /** Names the window the next operations count in. */
  setWindow(name: string): void {
    this.window = name;
  }

  async start(): Promise<void> {
    const dbs = await Promise.all(Array.from({ length: this.opts.connections }, () => this.opts.sql.reserve()));
    for (const db of dbs) {
      const [row] = (await db.unsafe('SELECT pg_backend_pid() AS pid')) as unknown as Array<{ pid: number }>;
      this.pids.push(row!.pid);
    }
    this.loops = dbs.map((db) => this.loop(db));
  }

  private async loop(db: postgres.ReservedSql): Promise<void> {
    try {
      while (!this.stopping) {
        const op = this.pick(this.operations);
        const window = this.window;
        const start = performance.now();
        let ok = true;
        try {
          await op.run(db);
        } catch (error) {
          ok = false;
          if (this.errors.length < 10) this.errors.push(`${(error as { code?: string }).code ?? ''} ${(error as Error).message}`.trim());
        }
        const list = this.samples.get(window) ?? [];
        list.push({ ms: performance.now() - start, kind: op.kind, ok });
        this.samples.set(window, list);
      }
    } finally {
      db.release();
    }
  }

  async stop(): Promise<WorkloadReport> {
    this.stopping = true;
    await Promise.all(this.loops);
    return {
      connections: this.opts.connections,
      holdMs: this.opts.holdMs,
      windows: Object.fromEntries([...this.samples].map(([name, list]) => [name, stats(list)])),
      errors: this.errors,
    };
  }
}

export interface ExplainResult {
  name: string;
  executionMs: number;
  planningMs: number;
  plan: string;
}

/** EXPLAIN ANALYZE of each standard query; parameters from the given ids. */
export async function explainStandardQueries(sql: postgres.Sql, m: MigrationFolder, affectedId: string | undefined, otherId: string | undefined): Promise<ExplainResult[]> {
  const out: ExplainResult[] = [];
  for (const q of m.meta.standardQueries) {
    const params = q.params.map((p) => (p === 'affectedId' ? (affectedId ?? otherId) : (otherId ?? affectedId)) ?? null);
    const [row] = (await sql.unsafe(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.sql}`, params)) as unknown as Array<Record<string, unknown>>;
    const json = Object.values(row!)[0] as Array<{ Plan: Record<string, unknown>; 'Execution Time': number; 'Planning Time': number }>;
    const top = json[0]!;
    out.push({ name: q.name, executionMs: Math.round(top['Execution Time'] * 100) / 100, planningMs: Math.round(top['Planning Time'] * 100) / 100, plan: planSummary(top.Plan) });
  }
  return out;
}

/** "Limit → Index Scan on users_role_idx": the node types down the first child of each node. */
function planSummary(plan: Record<string, unknown>): string {
  const parts: string[] = [];
  let node: Record<string, unknown> | undefined = plan;
  while (node && parts.length < 6) {
    const on = node['Index Name'] ? ` using ${node['Index Name']}` : node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
    parts.push(`${node['Node Type']}${on}`);
    node = (node.Plans as Array<Record<string, unknown>> | undefined)?.[0];
  }
  return parts.join(' → ');
}
