// Category 5, performance: down and up again while a synthetic workload runs, locks sampled.
import { diffSums, type Sums } from '../checks.js';
import { LockSampler, type LockReport } from '../locks.js';
import { sleep } from '../runner.js';
import { explainStandardQueries, Workload } from '../workload.js';
import { tableKey } from '../../subset/introspect.js';
import { projectionVerdict, projectProduction } from '../projection.js';
import { type HarnessCore, type TestResult, shortMs } from './core.js';

export async function performanceTests(h: HarnessCore): Promise<TestResult[]> {
  return h.category('performance', async () => {
    const b = h.baseline!;
    const w = h.inputs.workload;
    const th = h.inputs.thresholds;
    const workload = new Workload({ sql: h.sql, migration: h.m, shape: h.shape!, connections: w.connections, holdMs: w.holdMs, affectedIds: b.affectedIds, otherIds: b.otherIds });
    const current = h.applied[h.applied.length - 1]!;
    let downUnderLoad: Sums | undefined;
    await workload.start();
    try {
      h.emit({ type: 'note', message: `workload: ${w.connections} connections, measuring ${shortMs(w.beforeMs)} before the migration` });
      await sleep(w.beforeMs, h.inputs.signal);
      for (const phase of ['down', 'up'] as const) {
        const sampler = new LockSampler(h.sql, w.sampleIntervalMs);
        await sampler.start();
        workload.setWindow(phase);
        try {
          const result = phase === 'down' ? await h.phase('down', current, 'down (under load)', { sampler }) : await h.phase('up', h.nextUpId(), 'up (under load)', { sampler });
          h.performance[phase] = result;
        } finally {
          workload.setWindow('after');
          h.performance.locks[phase] = await sampler.stop();
        }
        if (phase === 'down') downUnderLoad = await h.sums();
      }
    } finally {
      h.performance.workload = await workload.stop();
    }
    const perf = h.performance;
    for (const phase of ['up', 'down'] as const) {
      const r = perf[phase]!;
      await h.test('performance', `${phase}: duration and throughput under load`, async () => ({
        status: r.ms <= th.upMaxSeconds * 1000 ? 'pass' : 'fail',
        summary: `${r.rows} rows in ${shortMs(r.ms)}, ${r.rowsPerSecond} rows/s, ${r.batches} batch(es)${r.retries.length ? `, ${r.retries.length} retries after lock waits` : ''} (limit ${th.upMaxSeconds} s)`,
        data: { rows: r.rows, ms: r.ms, rowsPerSecond: r.rowsPerSecond, batches: r.batches, retries: r.retries, preludeMs: r.preludeMs },
      }));
    }
    await h.test('performance', 'lock modes the migration took', async () => {
      const held = [...new Set([...(perf.up?.locksHeld ?? []), ...(perf.down?.locksHeld ?? [])])].sort();
      const exclusive = held.filter((h) => /AccessExclusiveLock$/.test(h));
      return { status: exclusive.length ? 'warn' : 'pass', summary: held.length ? `${held.join('; ')}${exclusive.length ? ' (ACCESS EXCLUSIVE blocks every reader)' : ''}` : 'none', data: { up: perf.up?.locksHeld, down: perf.down?.locksHeld } };
    });
    await h.test('performance', 'longest lock wait and blocked queries', async () => {
      const l = [perf.locks.up, perf.locks.down].filter((x): x is LockReport => !!x);
      const longest = Math.max(0, ...l.map((x) => x.longestWaitMs));
      const blocked = l.reduce((s, x) => s + x.blockedQueries, 0);
      const byMigration = l.reduce((s, x) => s + x.blockedByMigration, 0);
      const deadlocks = l.reduce((s, x) => s + x.deadlocks, 0);
      const retries = (perf.up?.retries.length ?? 0) + (perf.down?.retries.length ?? 0);
      const ok = longest <= th.maxLockWaitMs && deadlocks === 0;
      return {
        status: ok ? 'pass' : 'fail',
        summary: `longest wait ${shortMs(longest)} (limit ${shortMs(th.maxLockWaitMs)}); ${l.reduce((s, x) => s + x.waits, 0)} waits, ${blocked} blocked queries (${byMigration} by the migration); migration retries ${retries}; deadlocks ${deadlocks}`,
        data: { longestWaitMs: longest, blockedQueries: blocked, blockedByMigration: byMigration, deadlocks, retries, up: perf.locks.up, down: perf.locks.down },
      };
    });
    await h.test('performance', 'workload latency p50/p95: before vs during', async () => {
      const win = perf.workload!.windows;
      const before = win.before;
      const during = [win.up, win.down].filter((x) => !!x);
      const p95 = Math.max(0, ...during.map((x) => x!.p95Ms));
      const fmt = (x: { p50Ms: number; p95Ms: number; ops: number } | undefined) => (x ? `p50 ${x.p50Ms} / p95 ${x.p95Ms} ms (${x.ops} ops)` : 'no samples');
      // Over the limit while the migration added little to an already slow host is the host's
      // latency, not the migration's: a warning that says so. The migration adding more than half
      // the budget on top of the baseline fails.
      const added = before ? p95 - before.p95Ms : p95;
      const hostSlow = p95 > th.workloadP95Ms && added <= th.workloadP95Ms / 2;
      return {
        status: !before || !during.length ? 'warn' : p95 <= th.workloadP95Ms ? 'pass' : hostSlow ? 'warn' : 'fail',
        summary:
          `before ${fmt(before)}; during down ${fmt(win.down)}; during up ${fmt(win.up)} (p95 limit ${th.workloadP95Ms} ms` +
          `${before ? `; the migration added ${Math.round(added)} ms to p95, at most ${th.workloadP95Ms / 2} ms allowed` : ''})` +
          `${hostSlow ? `: over the limit already before the migration (p95 ${before!.p95Ms} ms), so staging's host is slow; rerun on a quieter host to measure the limit` : ''}`,
        data: perf.workload as unknown as Record<string, unknown>,
      };
    });
    await h.test('performance', 'the workload ran without errors', async () => {
      const errors = Object.values(perf.workload!.windows).reduce((s, x) => s + x.errors, 0);
      return { status: errors ? 'fail' : 'pass', summary: errors ? `${errors} failed operations: ${perf.workload!.errors.slice(0, 3).join(' | ')}` : `${Object.values(perf.workload!.windows).reduce((s, x) => s + x.ops, 0)} operations, none failed`, data: { errors: perf.workload!.errors } };
    });
    await h.test('performance', 'down under load restored every checksum', async () => {
      const diff = diffSums(b.sums, downUnderLoad!);
      return { status: diff.length ? 'fail' : 'pass', summary: diff.length ? `differs: ${diff.map((d) => d.table).join(', ')}` : 'identical to the baseline, with the workload running', data: { differing: diff } };
    });
    for (const q of h.inputs.adaptation?.skippedQueries ?? []) {
      await h.test('performance', `EXPLAIN ANALYZE: ${q.name}`, async () => ({ status: 'skip', summary: q.reason }));
    }
    await h.test('performance', 'production run projected from the cost per row', async () => {
      const key = tableKey(h.m.meta.target.schema, h.m.meta.target.table);
      perf.projection = projectProduction({
        trials: perf.trials?.points ?? [],
        productionRows: h.inputs.productionEligible,
        productionNote: h.inputs.productionEligible !== undefined ? undefined : h.inputs.production ? 'production is reachable but its eligible rows could not be counted' : (h.inputs.productionNote ?? 'no production was given'),
        stagingEligible: b.eligible,
        stagingUsers: b.sums[key]?.rows,
        batchSize: h.inputs.settings.batchSize,
      });
      return { ...projectionVerdict(perf.projection, th), data: perf.projection as unknown as Record<string, unknown> };
    });
    perf.explain = await explainStandardQueries(h.sql, h.m, b.affectedIds[0], b.otherIds[0]);
    for (const e of perf.explain) {
      await h.test('performance', `EXPLAIN ANALYZE: ${e.name}`, async () => ({
        status: e.executionMs <= th.standardQueryMs ? 'pass' : 'fail',
        summary: `${e.executionMs} ms (limit ${th.standardQueryMs} ms): ${e.plan}`,
        data: { ...e },
      }));
    }
  });
}
