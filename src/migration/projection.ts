// What a staging rehearsal can say about the production run. Trial runs of up.sql at several subset
// sizes (each rolled back) give the cost per row: time, and WAL measured as the insert position's
// advance. Projected onto production's eligible rows under a stated assumption (cost linear in
// rows), with the spread between the sizes as its error; or plainly "too small to project from".
import type postgres from 'postgres';
import { CancelledError } from '../errors.js';
import type { MigrationFolder } from './folder.js';
import { applyRunSettings, countEligible, logTable, type RunnerSettings } from './runner.js';

/** One trial run: `rows` changed by up.sql's body in `ms`, writing `walBytes` of WAL. */
export interface TrialPoint {
  limit: number;
  rows: number;
  ms: number;
  walBytes: number;
}

export interface Trials {
  points: TrialPoint[];
  /** Whether each trial started right after a CHECKPOINT (so it paid the full-page writes a production run pays). */
  checkpointed: boolean;
  note?: string;
}

/** Below this many rows, per-statement overheads and the timer's resolution weigh on the cost per row. */
export const MIN_TRIAL_ROWS = 1000;
/** The largest trial must be at least production / this: further than 100× out, linearity is a guess. */
export const MAX_EXTRAPOLATION = 100;
/** Per-row costs of the sizes may differ by this much (relative to the largest size's) before the line is not trusted. */
export const MAX_SPREAD = 0.25;

export const ASSUMPTION =
  'The cost grows linearly with the rows migrated: production rows × the cost per row measured at the largest staging trial. ' +
  'Its error is the spread between the per-row costs of the trial sizes (a fixed overhead, a plan change or a busy host shows there). ' +
  'WAL counts the trials\u2019 own records, each trial starting after a CHECKPOINT (full-page writes included); per-batch overheads are not included.';

/** The subset sizes of the trials: a quarter, half and all of staging's eligible rows (distinct, at least 1). */
export function trialSizes(eligible: number): number[] {
  return [...new Set([Math.ceil(eligible / 4), Math.ceil(eligible / 2), eligible].filter((n) => n >= 1))].sort((a, b) => a - b);
}

/**
 * Runs up.sql's body once per size with `rehearse.batch_limit` = the size, in a transaction that is
 * always rolled back (the prelude must have run: the body may need what it committed). Measures the
 * body's time and the WAL it wrote. Changes nothing, and checks that it did not.
 */
export async function runTrials(sql: postgres.Sql, m: MigrationFolder, settings: RunnerSettings, sizes: number[], signal?: AbortSignal): Promise<Trials> {
  const db = await sql.reserve();
  const points: TrialPoint[] = [];
  let checkpointed = true;
  let note: string | undefined;
  try {
    for (const limit of sizes) {
      if (signal?.aborted) throw new CancelledError();
      if (checkpointed) {
        try {
          await db.unsafe('CHECKPOINT');
        } catch (error) {
          checkpointed = false;
          note = `CHECKPOINT refused (${(error as Error).message}): the WAL figures leave out full-page writes of pages already written since the last checkpoint`;
        }
      }
      await db.unsafe('BEGIN');
      try {
        await applyRunSettings(db, settings, 'rehearse-trial', `rehearse-trial#${limit}`, limit);
        const [{ lsn }] = (await db.unsafe('SELECT pg_current_wal_insert_lsn()::text AS lsn')) as unknown as [{ lsn: string }];
        const started = performance.now();
        let rows = 0;
        for (const statement of m.up.body) rows = ((await db.unsafe(statement)) as unknown as { count: number | null }).count ?? 0;
        const ms = performance.now() - started;
        const [{ bytes }] = (await db.unsafe('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::float8 AS bytes', [lsn])) as unknown as [{ bytes: number }];
        points.push({ limit, rows, ms: Math.round(ms * 10) / 10, walBytes: Math.round(bytes) });
      } finally {
        await db.unsafe('ROLLBACK').catch(() => undefined);
      }
    }
  } finally {
    db.release();
  }
  return { points, checkpointed, ...(note ? { note } : {}) };
}

/** What the trials left: eligible rows and log rows, compared before and after them. */
export async function trialFootprint(sql: postgres.Sql, m: MigrationFolder, includeDeleted: boolean): Promise<{ eligible: number; logRows: number }> {
  const [{ n }] = (await sql.unsafe(`SELECT count(*)::int AS n FROM ${logTable(m)}`)) as unknown as [{ n: number }];
  return { eligible: await countEligible(sql, m, includeDeleted), logRows: n };
}

export interface Range {
  value: number;
  low: number;
  high: number;
}

export interface ProjectionInput {
  trials: TrialPoint[];
  /** Eligible rows in production, counted read-only; undefined when it could not be counted. */
  productionRows?: number | undefined;
  /** Why production was not counted. */
  productionNote?: string | undefined;
  /** Eligible rows in staging and the rows of the seed table there: for the --max-users that would do. */
  stagingEligible: number;
  stagingUsers?: number | undefined;
  /** 0: one transaction. */
  batchSize: number;
}

export type Verdict = 'projected' | 'too small' | 'inconsistent' | 'no production count';

export interface Projection {
  verdict: Verdict;
  assumption: string;
  trials: Array<TrialPoint & { msPerRow: number; walBytesPerRow: number }>;
  perRow: { ms: Range; walBytes: Range };
  /** (highest − lowest) / the largest trial's, for each cost per row. */
  spread: { ms: number; walBytes: number };
  productionRows?: number;
  productionNote?: string;
  /** Only when the verdict is "projected". */
  production?: { durationMs: Range; rowLockMs: Range; walBytes: Range; transactions: number; rowLock: string };
  /** Why the line is not trusted, each with its figure. */
  reasons: string[];
  /** The subset that would make the projection trustworthy. */
  suggestion?: { maxUsers: number; targetRows: number; command: string };
  /** The verdict in one sentence (the checklist's evidence); `summary` adds the measured costs. */
  headline: string;
  summary: string;
}

const scale = (r: Range, k: number): Range => ({ value: r.value * k, low: r.low * k, high: r.high * k });
const rangeOf = (xs: number[], value: number): Range => ({ value, low: Math.min(...xs), high: Math.max(...xs) });
/** Two significant digits, rounded up: a --max-users a person would type. */
export function roundUpNice(x: number): number {
  if (x <= 10) return Math.max(1, Math.ceil(x));
  const p = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Math.ceil(x / p) * p;
}

export const fmtMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`);
export const fmtBytes = (b: number) => (b < 1024 ** 2 ? `${(b / 1024).toFixed(1)} KiB` : b < 1024 ** 3 ? `${(b / 1024 ** 2).toFixed(1)} MiB` : `${(b / 1024 ** 3).toFixed(2)} GiB`);
const fmtRange = (r: Range, f: (x: number) => string) => `${f(r.value)} (${f(r.low)}–${f(r.high)})`;
const pct = (x: number) => `${Math.round(x * 100)} %`;

/** The projection from trial points: pure, so its arithmetic is unit-tested. */
export function projectProduction(input: ProjectionInput): Projection {
  const trials = input.trials.filter((t) => t.rows > 0).map((t) => ({ ...t, msPerRow: t.ms / t.rows, walBytesPerRow: t.walBytes / t.rows }));
  const largest = trials.reduce<(typeof trials)[number] | undefined>((a, t) => (!a || t.rows > a.rows ? t : a), undefined);
  const empty = { value: 0, low: 0, high: 0 };
  const perRow = largest
    ? { ms: rangeOf(trials.map((t) => t.msPerRow), largest.msPerRow), walBytes: rangeOf(trials.map((t) => t.walBytesPerRow), largest.walBytesPerRow) }
    : { ms: empty, walBytes: empty };
  const spreadOf = (r: Range) => (r.value > 0 ? (r.high - r.low) / r.value : 0);
  const spread = { ms: spreadOf(perRow.ms), walBytes: spreadOf(perRow.walBytes) };
  const N = input.productionRows;
  const sizes = [...new Set(trials.map((t) => t.rows))];
  const reasons: string[] = [];
  let small = false;
  if (!largest) {
    reasons.push('no trial changed a row');
    small = true;
  } else {
    if (sizes.length < 2 || largest.rows < 2 * Math.min(...sizes)) {
      reasons.push(`the trials covered ${sizes.length < 2 ? 'one size only' : `sizes too close together (${sizes.join(', ')} rows)`}: the linear assumption cannot be checked`);
      small = true;
    }
    const coversProduction = N !== undefined && largest.rows >= N;
    if (largest.rows < MIN_TRIAL_ROWS && !coversProduction) {
      reasons.push(`the largest trial migrated ${largest.rows.toLocaleString('en-US')} rows, fewer than ${MIN_TRIAL_ROWS.toLocaleString('en-US')}: fixed per-statement costs still weigh on the cost per row`);
      small = true;
    }
    if (N !== undefined && N > largest.rows * MAX_EXTRAPOLATION) {
      reasons.push(`production has ${N.toLocaleString('en-US')} eligible rows, ${Math.round(N / largest.rows).toLocaleString('en-US')}× the largest trial (at most ${MAX_EXTRAPOLATION}× is projected)`);
      small = true;
    }
    for (const [what, s] of [['time', spread.ms], ['WAL', spread.walBytes]] as const) {
      if (s > MAX_SPREAD) reasons.push(`the ${what} per row differs by ${pct(s)} between the trial sizes (at most ${pct(MAX_SPREAD)})`);
    }
  }
  const inconsistent = spread.ms > MAX_SPREAD || spread.walBytes > MAX_SPREAD;
  const verdict: Verdict = N === undefined ? 'no production count' : small ? 'too small' : inconsistent ? 'inconsistent' : 'projected';
  const base: Projection = {
    verdict,
    assumption: ASSUMPTION,
    trials,
    perRow,
    spread,
    ...(N !== undefined ? { productionRows: N } : {}),
    ...(input.productionNote ? { productionNote: input.productionNote } : {}),
    reasons,
    headline: '',
    summary: '',
  };
  const costLine = largest ? `cost per row ${fmtRange(perRow.ms, (x) => `${x.toFixed(3)} ms`)}, WAL per row ${fmtRange(perRow.walBytes, (x) => `${Math.round(x)} B`)} over trials of ${sizes.join(', ')} rows` : 'no cost per row measured';

  const done = (headline: string, extra: Partial<Projection> = {}): Projection => ({ ...base, ...extra, headline, summary: `${headline}. Measured: ${costLine}` });
  if (verdict === 'no production count') return done(`not projected: production's eligible rows were not counted (${input.productionNote ?? 'no production'})`);

  if (verdict !== 'projected') {
    const suggestion = suggest(input, N!);
    const why = verdict === 'too small' ? 'the rehearsal was too small to project from' : 'the trial sizes disagree too much to project from';
    return done(
      `not projected onto production's ${N!.toLocaleString('en-US')} eligible rows: ${why} (${reasons.join('; ')}); ` +
        `${suggestion ? `${suggestion.command} migrates about ${suggestion.targetRows.toLocaleString('en-US')} rows in staging, enough to project` : 'rerun `rehearse migrate --yes` on a quieter host; a spread that stays means the cost is not linear in rows'}`,
      suggestion ? { suggestion } : {},
    );
  }

  const durationMs = scale(perRow.ms, N!);
  const walBytes = scale(perRow.walBytes, N!);
  const batched = input.batchSize > 0 && input.batchSize < N!;
  // A row stays locked until its transaction commits: the whole run in one transaction, one batch's time when batched.
  const rowLockMs = batched ? scale(perRow.ms, input.batchSize) : durationMs;
  const transactions = batched ? Math.ceil(N! / input.batchSize) : 1;
  const rowLock = batched ? `each row locked for one batch of ${input.batchSize.toLocaleString('en-US')} rows` : 'every migrated row locked until the single transaction commits';
  return done(
    `production's ${N!.toLocaleString('en-US')} eligible rows: about ${fmtRange(durationMs, fmtMs)} in ${transactions.toLocaleString('en-US')} transaction(s), ` +
      `rows locked up to ${fmtRange(rowLockMs, fmtMs)} (${rowLock}), WAL ${fmtRange(walBytes, fmtBytes)}; ` +
      `error: the trial sizes' costs per row differ by ${pct(spread.ms)} (time) and ${pct(spread.walBytes)} (WAL), the ranges above`,
    { production: { durationMs, rowLockMs, walBytes, transactions, rowLock } },
  );
}

/** The --max-users whose subset would migrate enough rows: ≥ MIN_TRIAL_ROWS and ≥ production / MAX_EXTRAPOLATION. */
function suggest(input: ProjectionInput, N: number): Projection['suggestion'] | undefined {
  if (!input.stagingUsers || !input.stagingEligible) return undefined;
  const targetRows = Math.min(N, Math.max(MIN_TRIAL_ROWS, Math.ceil(N / MAX_EXTRAPOLATION)));
  if (targetRows <= input.stagingEligible) return undefined; // size is not what is missing
  const maxUsers = roundUpNice((targetRows * input.stagingUsers) / input.stagingEligible);
  return { maxUsers, targetRows, command: `\`rehearse data --yes --max-users ${maxUsers}\` then \`rehearse migrate --yes\`` };
}

/** A batch size whose row locks stay within half the lock budget at the highest measured cost per row. */
export function batchSizeFor(msPerRowHigh: number, maxLockWaitMs: number): number {
  const raw = Math.floor(maxLockWaitMs / 2 / Math.max(msPerRowHigh, 1e-6));
  if (raw < 10) return Math.max(1, raw);
  const p = 10 ** Math.floor(Math.log10(raw));
  return Math.floor(raw / p) * p;
}

/**
 * The harness's verdict on the projection: a projected run over the duration or row-lock limit fails
 * (with the batch size that would fit); one that could not be projected is a warning that says why.
 */
export function projectionVerdict(p: Projection, limits: { upMaxSeconds: number; maxLockWaitMs: number }): { status: 'pass' | 'warn' | 'fail'; summary: string } {
  if (!p.production) return { status: 'warn', summary: p.summary };
  const over: string[] = [];
  if (p.production.durationMs.high > limits.upMaxSeconds * 1000) over.push(`duration up to ${fmtMs(p.production.durationMs.high)} > ${limits.upMaxSeconds} s`);
  if (p.production.rowLockMs.high > limits.maxLockWaitMs) over.push(`rows locked up to ${fmtMs(p.production.rowLockMs.high)} > ${fmtMs(limits.maxLockWaitMs)} (an app write to a migrated row would wait that long)`);
  if (!over.length) return { status: 'pass', summary: p.summary };
  const fix = p.production.rowLockMs.high > limits.maxLockWaitMs ? `; \`rehearse migrate --yes --batch-size ${batchSizeFor(p.perRow.ms.high, limits.maxLockWaitMs)}\` keeps each batch's locks within half the limit` : '';
  return { status: 'fail', summary: `over the limits on production: ${over.join('; ')}${fix}. ${p.summary}` };
}
