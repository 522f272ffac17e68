// Category 4, rollback: forward, back, forward; the data must equal the baseline after the way back.
import { diffSums, logCounts } from '../checks.js';
import { runVerify, type PhaseResult } from '../runner.js';
import { runTrials, trialFootprint, trialSizes } from '../projection.js';
import { type HarnessCore, type TestResult, shortMs } from './core.js';

export async function rollbackTests(h: HarnessCore): Promise<TestResult[]> {
  return h.category('rollback', async () => {
    const b = h.baseline!;
    const first = h.applied[h.applied.length - 1]!;
    const migrated = h.phases.find((p) => p.result.runId === first)!.result.rows;
    let down!: PhaseResult;
    await h.test(
      'rollback',
      'down runs to the end',
      async () => {
        down = await h.phase('down', first, 'down');
        return { status: 'pass', summary: `${down.rows} rows in ${down.batches} batch(es), ${shortMs(down.ms)}`, data: { phaseRunId: first, rows: down.rows, ms: down.ms } };
      },
      { blocking: true },
    );
    await h.test('rollback', 'every table equals the baseline exactly (all columns)', async () => {
      const diff = diffSums(b.sums, await h.sums());
      return {
        status: diff.length ? 'fail' : 'pass',
        summary: diff.length ? `differs from the baseline: ${diff.map((d) => `${d.table}${d.before?.rows !== d.after?.rows ? ` (rows ${d.before?.rows} → ${d.after?.rows})` : ''}`).join(', ')}` : `${Object.keys(b.sums).length} tables, every checksum identical to before up`,
        data: { differing: diff },
      };
    });
    await h.test('rollback', 'the run\'s log rows are marked reversed', async () => {
      const log = await logCounts(h.sql, h.m, first);
      const reversed = log.byStatus.reversed ?? 0;
      return { status: reversed === migrated && reversed === log.rows ? 'pass' : 'fail', summary: `${reversed} of ${log.rows} reversed (${Object.entries(log.byStatus).map(([k, v]) => `${v} ${k}`).join(', ')})`, data: { ...log } };
    });
    await h.test('rollback', 'trial runs at a quarter, half and all of the eligible rows roll back without a trace', async () => {
      const before = await trialFootprint(h.sql, h.m, h.includeDeleted);
      h.performance.trials = await runTrials(h.sql, h.m, h.settings(), trialSizes(before.eligible), h.inputs.signal);
      const after = await trialFootprint(h.sql, h.m, h.includeDeleted);
      const same = after.eligible === before.eligible && after.logRows === before.logRows;
      const points = h.performance.trials.points.map((t) => `${t.rows} rows ${shortMs(t.ms)}`).join(', ');
      return {
        status: same ? 'pass' : 'fail',
        summary: same ? `${points}; rolled back: ${before.eligible} eligible and ${before.logRows} log rows, as before` : `the trials left a change: eligible ${before.eligible} → ${after.eligible}, log rows ${before.logRows} → ${after.logRows}`,
        data: { before, after, ...h.performance.trials },
      };
    });
    await h.test(
      'rollback',
      'forward again: up succeeds after down',
      async () => {
        const runId = h.nextUpId();
        const up = await h.phase('up', runId, 'up (forward again)');
        const checks = await runVerify(h.sql, h.m, runId, h.includeDeleted);
        const failed = checks.filter((c) => !c.ok);
        const ok = up.rows === migrated && !failed.length;
        return { status: ok ? 'pass' : 'fail', summary: ok ? `${up.rows} rows again, verify.sql passes` : `${up.rows} rows (first run: ${migrated}); ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`, data: { phaseRunId: runId, rows: up.rows, verify: checks } };
      },
      { blocking: true },
    );
  });
}
