// Samples pg_locks and pg_stat_activity on its own connection while a migration phase runs: the lock
// modes the migration's backend takes, who waits for a lock and for how long, who blocks whom, and
// the deadlocks PostgreSQL counted meanwhile.
import type postgres from 'postgres';

export interface LockWait {
  pid: number;
  /** The relation, or "transactionid" / "tuple" for a row-lock wait. */
  target: string;
  mode: string;
  waitedMs: number;
  byMigration: boolean;
  ofMigration: boolean;
  query: string;
}

export interface LockReport {
  samples: number;
  intervalMs: number;
  /** Distinct "relation: mode" the migration's backend(s) held. */
  migrationLocks: string[];
  /** Lock waits seen (a wait is one backend waiting for one lock, however many samples saw it). */
  waits: number;
  longestWaitMs: number;
  /** Distinct statements seen waiting for a lock. */
  blockedQueries: number;
  /** Of those, blocked by the migration's backend. */
  blockedByMigration: number;
  /** Waits of the migration's own backend (for rows a writer held). */
  migrationWaits: number;
  migrationLongestWaitMs: number;
  /** pg_stat_database.deadlocks, after minus before. */
  deadlocks: number;
  /** The longest waits, for the report. */
  longest: LockWait[];
  /** [ms since sampling started, backends waiting for a lock] per sample, for the report's chart (at most 600 points). */
  timeline: Array<[number, number]>;
}

const TIMELINE_POINTS = 600;

interface Row {
  pid: number;
  mode: string;
  granted: boolean;
  target: string;
  wait_ms: number | null;
  blockers: number[];
  query_start: string | null;
  query: string;
}

export class LockSampler {
  private readonly migrationPids = new Set<number>();
  private readonly held = new Set<string>();
  private readonly waits = new Map<string, LockWait>();
  private readonly blocked = new Set<string>();
  private readonly blockedByMigration = new Set<string>();
  private samples = 0;
  private startedAt = 0;
  private timeline: Array<[number, number]> = [];
  private deadlocksBefore = 0;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private db: postgres.ReservedSql | undefined;
  private error: unknown;

  constructor(
    private readonly sql: postgres.Sql,
    private readonly intervalMs: number,
  ) {}

  /** The backend pid of a migration run, so its locks are told apart from everyone else's. */
  addMigrationPid(pid: number): void {
    this.migrationPids.add(pid);
  }

  async start(): Promise<void> {
    this.startedAt = performance.now();
    this.db = await this.sql.reserve();
    this.deadlocksBefore = await this.deadlocks();
    // Kept, not thrown: a rejected loop nobody awaits yet would crash the process.
    this.loop = this.run().catch((error) => {
      this.error = error;
    });
  }

  private async deadlocks(): Promise<number> {
    // Backends flush their counters lazily; ask for the freshest numbers.
    await this.db!.unsafe('SELECT pg_stat_clear_snapshot()');
    const [row] = (await this.db!.unsafe('SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()')) as unknown as Array<{ n: number }>;
    return row?.n ?? 0;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const started = performance.now();
      await this.sample();
      const rest = this.intervalMs - (performance.now() - started);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  }

  async sample(): Promise<void> {
    const rows = (await this.db!.unsafe(
      `SELECT l.pid, l.mode, l.granted,
              CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text ELSE l.locktype END AS target,
              CASE WHEN l.granted THEN NULL ELSE extract(epoch FROM clock_timestamp() - coalesce(l.waitstart, a.query_start)) * 1000 END AS wait_ms,
              CASE WHEN l.granted THEN '{}'::int[] ELSE pg_blocking_pids(l.pid) END AS blockers,
              a.query_start::text AS query_start, left(a.query, 200) AS query
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       LEFT JOIN pg_class c ON c.oid = l.relation
       WHERE a.datname = current_database() AND l.pid <> pg_backend_pid()
         -- Held locks: only the migration's, on tables (its index locks follow from those).
         AND (NOT l.granted OR (l.pid = ANY($1::int[]) AND l.locktype = 'relation' AND c.relkind IN ('r', 'p', 'm')))`,
      [[...this.migrationPids]],
    )) as unknown as Row[];
    this.samples++;
    this.record(rows.filter((r) => !r.granted).length);
    for (const r of rows) {
      const ofMigration = this.migrationPids.has(r.pid);
      if (r.granted) {
        if (!r.target.startsWith('pg_')) this.held.add(`${r.target}: ${r.mode}`);
        continue;
      }
      const byMigration = r.blockers.some((p) => this.migrationPids.has(p));
      const key = `${r.pid}|${r.target}|${r.mode}|${r.query_start}`;
      const waitedMs = Math.round(Number(r.wait_ms ?? 0));
      const seen = this.waits.get(key);
      if (!seen || seen.waitedMs < waitedMs) this.waits.set(key, { pid: r.pid, target: r.target, mode: r.mode, waitedMs, byMigration: byMigration || !!seen?.byMigration, ofMigration, query: r.query });
      const statement = `${r.pid}|${r.query_start}`;
      this.blocked.add(statement);
      if (byMigration) this.blockedByMigration.add(statement);
    }
  }

  /** Keeps the timeline bounded: past the limit, neighbouring points merge (keeping the higher count). */
  private record(waiting: number): void {
    this.timeline.push([Math.round(performance.now() - this.startedAt), waiting]);
    if (this.timeline.length <= TIMELINE_POINTS) return;
    const merged: Array<[number, number]> = [];
    for (let i = 0; i < this.timeline.length; i += 2) {
      const a = this.timeline[i]!;
      const b = this.timeline[i + 1];
      merged.push(b ? [a[0], Math.max(a[1], b[1])] : a);
    }
    this.timeline = merged;
  }

  async stop(): Promise<LockReport> {
    this.stopping = true;
    await this.loop;
    if (this.error) {
      this.db!.release();
      throw this.error;
    }
    const deadlocks = (await this.deadlocks()) - this.deadlocksBefore;
    this.db!.release();
    const waits = [...this.waits.values()];
    const own = waits.filter((w) => w.ofMigration);
    return {
      samples: this.samples,
      intervalMs: this.intervalMs,
      migrationLocks: [...this.held].sort(),
      waits: waits.length,
      longestWaitMs: Math.max(0, ...waits.map((w) => w.waitedMs)),
      blockedQueries: this.blocked.size,
      blockedByMigration: this.blockedByMigration.size,
      migrationWaits: own.length,
      migrationLongestWaitMs: Math.max(0, ...own.map((w) => w.waitedMs)),
      deadlocks,
      longest: waits.sort((a, b) => b.waitedMs - a.waitedMs).slice(0, 5),
      timeline: this.timeline,
    };
  }
}
