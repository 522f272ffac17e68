// The projection's arithmetic: cost per row from trial points, scaled to production's rows with the
// spread between the trial sizes as its error; the cases where it refuses to project, and the
// --max-users and --batch-size it offers instead.
import { describe, expect, it } from 'vitest';
import { batchSizeFor, MAX_EXTRAPOLATION, MIN_TRIAL_ROWS, projectionVerdict, projectProduction, roundUpNice, trialSizes, type TrialPoint } from '../../src/migration/projection.js';

/** Trials whose cost is `fixedMs + msPerRow × rows` and `walPerRow × rows`. */
const trials = (sizes: number[], msPerRow: number, walPerRow: number, fixedMs = 0): TrialPoint[] => sizes.map((rows) => ({ limit: rows, rows, ms: fixedMs + msPerRow * rows, walBytes: walPerRow * rows }));

describe('trial sizes', () => {
  it('are a quarter, half and all of the eligible rows, distinct and at least 1', () => {
    expect(trialSizes(40_000)).toEqual([10_000, 20_000, 40_000]);
    expect(trialSizes(38)).toEqual([10, 19, 38]);
    expect(trialSizes(2)).toEqual([1, 2]);
    expect(trialSizes(1)).toEqual([1]);
    expect(trialSizes(0)).toEqual([]);
  });
});

describe('projectProduction', () => {
  it('projects duration, row locks and WAL linearly from the largest trial, with the spread as the range', () => {
    // 0.1 ms and 300 B per row at 10k, 0.105 at 20k and 0.1 at 40k rows.
    const points: TrialPoint[] = [
      { limit: 10_000, rows: 10_000, ms: 1000, walBytes: 3_000_000 },
      { limit: 20_000, rows: 20_000, ms: 2100, walBytes: 6_000_000 },
      { limit: 40_000, rows: 40_000, ms: 4000, walBytes: 12_400_000 },
    ];
    const p = projectProduction({ trials: points, productionRows: 1_000_000, stagingEligible: 40_000, stagingUsers: 100_000, batchSize: 0 });
    expect(p.verdict).toBe('projected');
    expect(p.perRow.ms).toEqual({ value: 0.1, low: 0.1, high: 0.105 });
    expect(p.perRow.walBytes.value).toBeCloseTo(310);
    expect(p.spread.ms).toBeCloseTo(0.05);
    expect(p.spread.walBytes).toBeCloseTo(10 / 310);
    expect(p.production!.durationMs.value).toBeCloseTo(100_000);
    expect(p.production!.durationMs.high).toBeCloseTo(105_000);
    expect(p.production!.walBytes.value).toBeCloseTo(310_000_000);
    // One transaction: every row stays locked until the end.
    expect(p.production!.rowLockMs).toEqual(p.production!.durationMs);
    expect(p.production!.transactions).toBe(1);
    expect(p.summary).toMatch(/production's 1,000,000 eligible rows: about 100\.0 s \(100\.0 s–105\.0 s\) in 1 transaction/);
    expect(p.summary).toMatch(/differ by 5 % \(time\) and 3 % \(WAL\)/);
    expect(p.assumption).toMatch(/linearly/);
    expect(p.suggestion).toBeUndefined();
  });

  it('with batches, a row is locked for one batch only while the duration still covers every row', () => {
    const p = projectProduction({ trials: trials([5000, 10_000, 20_000], 0.2, 250), productionRows: 500_000, stagingEligible: 20_000, stagingUsers: 50_000, batchSize: 1000 });
    expect(p.verdict).toBe('projected');
    expect(p.production!.durationMs.value).toBeCloseTo(100_000);
    expect(p.production!.rowLockMs.value).toBeCloseTo(200);
    expect(p.production!.transactions).toBe(500);
    expect(p.production!.rowLock).toMatch(/one batch of 1,000 rows/);
  });

  it('says the rehearsal was too small when the largest trial is under the minimum, and offers the --max-users that would do', () => {
    // The demo's 38 learners out of 65 staging users; production has 200,000 eligible rows.
    const p = projectProduction({ trials: trials([10, 19, 38], 0.05, 400, 3), productionRows: 200_000, stagingEligible: 38, stagingUsers: 65, batchSize: 0 });
    expect(p.verdict).toBe('too small');
    expect(p.production).toBeUndefined();
    expect(p.reasons.join('\n')).toMatch(new RegExp(`fewer than ${MIN_TRIAL_ROWS.toLocaleString('en-US')}`));
    expect(p.reasons.join('\n')).toMatch(/5,263× the largest trial/);
    // A fixed 3 ms per statement makes the small trial look 3× dearer per row: the spread shows it.
    expect(p.spread.ms).toBeGreaterThan(1);
    // Production / 100 = 2,000 rows; 38 eligible per 65 users → 3,422 users, rounded up to 3,500.
    expect(p.suggestion).toEqual({ maxUsers: 3500, targetRows: 2000, command: '`rehearse data --yes --max-users 3500` then `rehearse migrate --yes`' });
    expect(p.summary).toMatch(/the rehearsal was too small to project from/);
  });

  it('refuses to extrapolate more than 100× even when the trials agree', () => {
    const p = projectProduction({ trials: trials([2000, 4000, 8000], 0.1, 300), productionRows: 8000 * MAX_EXTRAPOLATION + 1, stagingEligible: 8000, stagingUsers: 20_000, batchSize: 0 });
    expect(p.verdict).toBe('too small');
    expect(p.suggestion?.targetRows).toBe(8001);
  });

  it('projects from fewer than the minimum rows when the trials already cover all of production', () => {
    const p = projectProduction({ trials: trials([100, 200, 400], 0.1, 300), productionRows: 350, stagingEligible: 400, stagingUsers: 900, batchSize: 0 });
    expect(p.verdict).toBe('projected');
    expect(p.production!.durationMs.value).toBeCloseTo(35);
  });

  it('calls trial sizes that disagree inconsistent, and offers no bigger subset when size is not the problem', () => {
    const points: TrialPoint[] = [
      { limit: 5000, rows: 5000, ms: 500, walBytes: 1_500_000 },
      { limit: 10_000, rows: 10_000, ms: 2000, walBytes: 3_000_000 },
    ];
    const p = projectProduction({ trials: points, productionRows: 100_000, stagingEligible: 10_000, stagingUsers: 30_000, batchSize: 0 });
    expect(p.verdict).toBe('inconsistent');
    expect(p.spread.ms).toBeCloseTo(0.5);
    expect(p.reasons).toEqual(['the time per row differs by 50 % between the trial sizes (at most 25 %)']);
    expect(p.suggestion).toBeUndefined();
    expect(p.summary).toMatch(/quieter host/);
  });

  it('says production was not counted, and why, while still giving the measured cost per row', () => {
    const p = projectProduction({ trials: trials([2500, 5000, 10_000], 0.1, 300), productionNote: 'no production is configured', stagingEligible: 10_000, stagingUsers: 30_000, batchSize: 0 });
    expect(p.verdict).toBe('no production count');
    expect(p.summary).toMatch(/not counted \(no production is configured\)/);
    expect(p.perRow.ms.value).toBeCloseTo(0.1);
  });

  it('treats one size, or no changed row, as nothing to project from', () => {
    expect(projectProduction({ trials: trials([5000], 0.1, 300), productionRows: 10_000, stagingEligible: 5000, stagingUsers: 9000, batchSize: 0 }).reasons[0]).toMatch(/one size only/);
    const none = projectProduction({ trials: [{ limit: 10, rows: 0, ms: 1, walBytes: 0 }], productionRows: 10_000, stagingEligible: 0, stagingUsers: 10, batchSize: 0 });
    expect(none.verdict).toBe('too small');
    expect(none.reasons).toEqual(['no trial changed a row']);
  });
});

describe('projectionVerdict', () => {
  const limits = { upMaxSeconds: 600, maxLockWaitMs: 5000 };
  it('passes a projection within the limits, warns when there is none', () => {
    const ok = projectProduction({ trials: trials([2500, 5000, 10_000], 0.01, 300), productionRows: 100_000, stagingEligible: 10_000, stagingUsers: 30_000, batchSize: 0 });
    expect(projectionVerdict(ok, limits).status).toBe('pass');
    const small = projectProduction({ trials: trials([10, 19, 38], 0.05, 400), productionRows: 200_000, stagingEligible: 38, stagingUsers: 65, batchSize: 0 });
    expect(projectionVerdict(small, limits)).toMatchObject({ status: 'warn', summary: expect.stringMatching(/too small/) });
  });

  it('fails rows locked past the lock budget, and names the batch size that keeps a batch within half of it', () => {
    // 0.1 ms per row × 1,000,000 rows = 100 s of locks in one transaction.
    const p = projectProduction({ trials: trials([10_000, 20_000, 40_000], 0.1, 300), productionRows: 1_000_000, stagingEligible: 40_000, stagingUsers: 100_000, batchSize: 0 });
    const v = projectionVerdict(p, limits);
    expect(v.status).toBe('fail');
    expect(v.summary).toMatch(/rows locked up to 100\.0 s > 5\.0 s/);
    expect(v.summary).toContain('`rehearse migrate --yes --batch-size 20000`');
  });
});

describe('rounding', () => {
  it('rounds --max-users up to two significant digits and batch sizes down to one', () => {
    expect(roundUpNice(3422)).toBe(3500);
    expect(roundUpNice(101)).toBe(110);
    expect(roundUpNice(7.2)).toBe(8);
    expect(batchSizeFor(0.1, 5000)).toBe(20_000);
    expect(batchSizeFor(0.37, 5000)).toBe(6000);
    expect(batchSizeFor(1000, 5000)).toBe(2);
  });
});
