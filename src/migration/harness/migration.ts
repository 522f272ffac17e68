// Category 2, migration: the up run itself (histogram before and after, exactly the eligible rows
// changed), its log, verify.sql, and a second run that must change nothing.
import { diffSums, histogram, logCounts, unloggedRowsSum } from '../checks.js';
import { countEligible, MigrationRunError, runVerify, type PhaseResult } from '../runner.js';
import { type HarnessCore, type TestResult, shortMs } from './core.js';

export async function migrationTests(h: HarnessCore): Promise<TestResult[]> {
  return h.category('migration', async () => {
    const m = h.m;
    const b = h.baseline!;
    const runId = h.nextUpId();
    let up!: PhaseResult;
    await h.test(
      'migration',
      'up runs to the end',
      async () => {
        try {
          up = await h.phase('up', runId, 'up');
        } catch (error) {
          if (error instanceof MigrationRunError) return { status: 'fail', summary: error.message, data: { sqlstate: error.pgCode, compensated: error.compensated } };
          throw error;
        }
        return {
          status: 'pass',
          summary: `${up.rows} rows in ${up.batches} batch(es), ${shortMs(up.ms)} (${up.rowsPerSecond} rows/s)${up.retries.length ? `, ${up.retries.length} retries` : ''}`,
          data: { phaseRunId: runId, rows: up.rows, batches: up.batches, ms: up.ms, preludeMs: up.preludeMs, rowsPerSecond: up.rowsPerSecond, retries: up.retries.length },
        };
      },
      { blocking: true },
    );

    await h.test('migration', `${m.meta.change.column} histogram before and after`, async () => {
      const after = await histogram(h.sql, m);
      const expected = { ...b.histogram };
      expected[m.meta.change.from] = (expected[m.meta.change.from] ?? 0) - up.rows;
      expected[m.meta.change.to] = (expected[m.meta.change.to] ?? 0) + up.rows;
      for (const k of Object.keys(expected)) if (expected[k] === 0) delete expected[k];
      const same = JSON.stringify(Object.entries(after).sort()) === JSON.stringify(Object.entries(expected).sort());
      const fmt = (h: Record<string, number>) => Object.entries(h).map(([k, v]) => `${k} ${v}`).join(', ');
      return { status: same ? 'pass' : 'fail', summary: same ? `before: ${fmt(b.histogram)} → after: ${fmt(after)}` : `after is ${fmt(after)}, expected ${fmt(expected)}`, data: { before: b.histogram, after, expected } };
    });

    for (const check of await runVerify(h.sql, m, runId, h.includeDeleted)) {
      await h.test('migration', `verify.sql: ${check.name}`, async () => ({ status: check.ok ? 'pass' : 'fail', summary: check.detail, data: { ms: check.ms } }));
    }

    await h.test('migration', `every eligible ${m.meta.change.from} row changed, no other row did`, async () => {
      const remaining = await countEligible(h.sql, m, h.includeDeleted);
      const unlogged = await unloggedRowsSum(h.sql, m, runId);
      const ok = remaining === 0 && unlogged.rows === b.ineligible.rows && unlogged.sum === b.ineligible.sum && up.rows === b.eligible;
      return {
        status: ok ? 'pass' : 'fail',
        summary: ok
          ? `${up.rows} of ${b.eligible} eligible changed; the other ${unlogged.rows} rows' ${m.meta.change.column} identical`
          : `${remaining} eligible left, ${up.rows}/${b.eligible} changed, other rows ${unlogged.sum === b.ineligible.sum && unlogged.rows === b.ineligible.rows ? 'unchanged' : 'CHANGED'}`,
        data: { eligibleBefore: b.eligible, changed: up.rows, remaining, otherRows: { before: b.ineligible, after: unlogged } },
      };
    });

    await h.test('migration', 'exactly one log row per migrated row', async () => {
      const log = await logCounts(h.sql, m, runId);
      const ok = log.rows === up.rows && log.distinctUsers === up.rows && (log.byStatus.completed ?? 0) === up.rows;
      return { status: ok ? 'pass' : 'fail', summary: `${log.rows} log rows for ${log.distinctUsers} users, ${up.rows} migrated (${Object.entries(log.byStatus).map(([k, v]) => `${v} ${k}`).join(', ')})`, data: { ...log, migrated: up.rows } };
    });

    await h.test('migration', 'running it again changes nothing', async () => {
      const before = await h.sums();
      const again = await h.phase('up', `${runId}-again`, 'up again');
      const diff = diffSums(before, await h.sums());
      const ok = again.rows === 0 && diff.length === 0;
      return { status: ok ? 'pass' : 'fail', summary: ok ? `second run changed 0 rows; every checksum identical` : `second run changed ${again.rows} rows; ${diff.length} table(s) differ`, data: { rows: again.rows, differing: diff.map((d) => d.table) } };
    });
  });
}
