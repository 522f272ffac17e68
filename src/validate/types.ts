// The vocabulary of `rehearse validate`: categories, check definitions and their results. A check is
// a small async function over the shared probes; it reports what it measured, never prints.
import type { CheckStatus, GradedCheck } from '../evidence/check.js';
import type { StackProbes } from './probes.js';

export const CATEGORIES = ['infrastructure', 'application', 'database', 'security', 'performance', 'integration'] as const;
export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_TITLES: Record<Category, string> = {
  infrastructure: 'Infrastructure',
  application: 'Application',
  database: 'Database',
  security: 'Security',
  performance: 'Performance',
  integration: 'Integration',
};

/** What a check function returns: the measurement and, when it did not pass, what to do. */
export interface CheckOutcome {
  status: CheckStatus;
  /** The measured value, short and human-readable ("4/4 healthy", "p95 38 ms"). */
  value: string;
  /** Overrides the definition's threshold when the check knows better (e.g. a configured value). */
  threshold?: string;
  /** Overrides the definition's hint with one naming what exactly is wrong. */
  hint?: string;
  /** Longer explanation: which item failed and how. */
  detail?: string;
  /** Machine-readable figures for the report. */
  data?: unknown;
}

export interface CheckDef {
  /** Stable id, `<category>.<name>`; used in reports, JUnit and tests. */
  id: string;
  category: Category;
  title: string;
  /** Part of `--quick`: essential and cheap (the whole quick set stays under 2 s). */
  quick: boolean;
  /** A failure of a required check makes `rehearse validate` exit 1; others can only warn. */
  required: boolean;
  threshold: string;
  /** The exact command that fixes a failure, when the outcome does not name a more precise one; a function to name this stack's containers and files. */
  hint: string | ((probes: StackProbes) => string);
  /** Upper bound on the check's own run time. */
  timeoutMs?: number;
  /**
   * Checks of one stage run at once, stages one after the other, so nothing skews a measurement:
   * 0 (default) probes and timings, 1 scans whose cost grows with the data (they would slow the
   * timings on a large staging), 2 the load test (it would slow everything).
   */
  stage?: 0 | 1 | 2;
  run(probes: StackProbes): Promise<CheckOutcome>;
}

export interface CheckResult extends GradedCheck {
  id: string;
  category: Category;
  title: string;
  required: boolean;
  value: string;
  threshold: string;
  hint: string;
  detail?: string;
  ms: number;
}

export const pass = (value: string, extra: Omit<CheckOutcome, 'status' | 'value'> = {}): CheckOutcome => ({ status: 'pass', value, ...extra });
export const fail = (value: string, extra: Omit<CheckOutcome, 'status' | 'value'> = {}): CheckOutcome => ({ status: 'fail', value, ...extra });
export const warn = (value: string, extra: Omit<CheckOutcome, 'status' | 'value'> = {}): CheckOutcome => ({ status: 'warn', value, ...extra });
export const skip = (value: string, extra: Omit<CheckOutcome, 'status' | 'value'> = {}): CheckOutcome => ({ status: 'skip', value, ...extra });
