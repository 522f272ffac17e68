// What a check reports, one vocabulary for every step. A check either passes or fails (preflight,
// setup's stack verification, the data verification, a migration's verify.sql) or grades what it
// found (validate and the migration harness: pass, warn, fail, or skip when it could not run); the
// checklist reads both kinds back from the reports. Each step's report keeps its own extra fields
// (the checklist, the readiness report and users' scripts read them), so results extend these two
// shapes instead of being squeezed into one.

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

/** A check that can only pass or fail. */
export interface PassFailCheck {
  name: string;
  ok: boolean;
  /** What was measured, or what is wrong, in one line. */
  detail: string;
  ms?: number;
  data?: unknown;
}

/** A graded result: the status and, for the report, the measured figures. */
export interface GradedCheck {
  status: CheckStatus;
  data?: unknown;
}

export const statusOf = (check: Pick<PassFailCheck, 'ok'>): CheckStatus => (check.ok ? 'pass' : 'fail');

export function countStatuses(results: ReadonlyArray<GradedCheck>): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const r of results) counts[r.status]++;
  return counts;
}

/** A group's verdict: one failure fails it, all skipped skips it, else one warning warns; undefined when empty. */
export function groupStatus(results: ReadonlyArray<GradedCheck>): CheckStatus | undefined {
  if (!results.length) return undefined;
  const counts = countStatuses(results);
  return counts.fail ? 'fail' : counts.skip === results.length ? 'skip' : counts.warn ? 'warn' : 'pass';
}
