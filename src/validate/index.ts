// The validation engine: every check, the selection (--quick, --category), running one check with
// a time limit (a throw becomes a failed result, never a crash), and a plain runner without listr2.
import { CancelledError, UserError } from '../errors.js';
import { applicationChecks } from './application.js';
import { databaseChecks } from './database.js';
import { infrastructureChecks } from './infrastructure.js';
import { integrationChecks } from './integration.js';
import { monitoringChecks } from './monitoring.js';
import { performanceChecks } from './performance.js';
import { StackProbes, type ProbeInputs } from './probes.js';
import { securityChecks } from './security.js';
import { CATEGORIES, type Category, type CheckDef, type CheckResult } from './types.js';
import { countStatuses, type CheckStatus } from '../evidence/check.js';

export * from './types.js';
export { StackProbes } from './probes.js';

export const ALL_CHECKS: CheckDef[] = [...infrastructureChecks, ...monitoringChecks, ...applicationChecks, ...databaseChecks, ...securityChecks, ...performanceChecks, ...integrationChecks];

export interface Selection {
  quick?: boolean;
  /** Unset or empty: every category. */
  categories?: Category[];
}

/** `--category` values (repeatable, comma-separated) to categories; unknown names are a usage error. */
export function parseCategories(values: string[] | undefined): Category[] | undefined {
  if (!values?.length) return undefined;
  const names = values.flatMap((v) => v.split(',')).map((v) => v.trim().toLowerCase()).filter(Boolean);
  const unknown = names.filter((n) => !(CATEGORIES as readonly string[]).includes(n));
  if (unknown.length) {
    throw new UserError(`Unknown validation categor${unknown.length > 1 ? 'ies' : 'y'}: ${unknown.join(', ')}.`, { tryThis: `Use one or more of ${CATEGORIES.join(', ')}, e.g. \`rehearse validate --category security,database\`.` });
  }
  return CATEGORIES.filter((c) => names.includes(c));
}

export function selectChecks(selection: Selection = {}): CheckDef[] {
  const categories = selection.categories?.length ? selection.categories : CATEGORIES;
  return ALL_CHECKS.filter((c) => categories.includes(c.category) && (!selection.quick || c.quick));
}

/** The categories that have at least one selected check, in the canonical order. */
export function selectedCategories(checks: CheckDef[]): Category[] {
  return CATEGORIES.filter((c) => checks.some((d) => d.category === c));
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Runs one check: measured, bounded in time, a throw recorded as a failure. Only a cancel propagates. */
export async function runCheck(def: CheckDef, probes: StackProbes): Promise<CheckResult> {
  const started = performance.now();
  const base = { id: def.id, category: def.category, title: def.title, required: def.required, threshold: def.threshold, hint: typeof def.hint === 'function' ? def.hint(probes) : def.hint };
  const limit = def.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      def.run(probes),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`did not finish within ${limit / 1000} s`), { code: 'CHECK_TIMEOUT' })), limit);
      }),
    ]);
    const { data, detail, hint, threshold, status, value } = outcome;
    return { ...base, status, value, threshold: threshold ?? base.threshold, hint: hint ?? base.hint, ...(detail ? { detail } : {}), ...(data !== undefined ? { data } : {}), ms: Math.round(performance.now() - started) };
  } catch (error) {
    if (probes.signal.aborted) throw new CancelledError();
    const e = error as { message?: string; tryThis?: string };
    return { ...base, status: 'fail', value: `error: ${e.message ?? String(error)}`, hint: e.tryThis ?? base.hint, ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Lets a check of a later stage wait until every selected check of the earlier stages has finished
 * (within a stage everything runs at once), and keeps when each check actually ran, for the time of
 * each category.
 */
export class CheckSchedule {
  private readonly finished = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  private readonly stageOf: Map<string, number>;
  private readonly spans = new Map<string, { category: Category; start: number; end?: number }>();
  private readonly categoryOf: Map<string, Category>;

  constructor(checks: CheckDef[]) {
    this.categoryOf = new Map(checks.map((c) => [c.id, c.category]));
    this.stageOf = new Map(checks.map((c) => [c.id, c.stage ?? 0]));
    for (const c of checks) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.finished.set(c.id, { promise, resolve });
    }
  }

  async waitFor(def: CheckDef, signal: AbortSignal): Promise<void> {
    const stage = def.stage ?? 0;
    if (!stage) return;
    const before = [...this.finished].filter(([id]) => (this.stageOf.get(id) ?? 0) < stage).map(([, f]) => f.promise);
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new CancelledError());
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void Promise.all(before).then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  started(id: string): void {
    const category = this.categoryOf.get(id);
    if (category) this.spans.set(id, { category, start: performance.now() });
  }

  done(id: string): void {
    const span = this.spans.get(id);
    if (span) span.end = performance.now();
    this.finished.get(id)?.resolve();
  }

  /** Wall time during which at least one check of the category ran (waiting excluded). */
  categoryMs(category: Category): number {
    const spans = [...this.spans.values()]
      .filter((s) => s.category === category && s.end !== undefined)
      .map((s) => [s.start, s.end!] as const)
      .sort((a, b) => a[0] - b[0]);
    let total = 0;
    let until = -Infinity;
    for (const [start, end] of spans) {
      if (end <= until) continue;
      total += end - Math.max(start, until);
      until = end;
    }
    return Math.round(total);
  }
}

/** Waits for the checks `def` runs after, then runs it; marks it done whatever happens. */
export async function runScheduled(def: CheckDef, probes: StackProbes, schedule: CheckSchedule): Promise<CheckResult> {
  try {
    await schedule.waitFor(def, probes.signal);
    schedule.started(def.id);
    return await runCheck(def, probes);
  } finally {
    schedule.done(def.id);
  }
}

export interface Summary {
  total: number;
  counts: Record<CheckStatus, number>;
  /** Required checks that failed: any of them makes the validation fail (exit 1). */
  requiredFailed: CheckResult[];
  ok: boolean;
}

export function summarize(results: CheckResult[]): Summary {
  const counts = countStatuses(results);
  const requiredFailed = results.filter((r) => r.status === 'fail' && r.required);
  return { total: results.length, counts, requiredFailed, ok: results.length > 0 && requiredFailed.length === 0 };
}

/** The canonical order of results: by category, then as the checks are declared. */
export function orderResults(results: CheckResult[]): CheckResult[] {
  const index = new Map(ALL_CHECKS.map((c, i) => [c.id, i]));
  return [...results].sort((a, b) => (index.get(a.id) ?? 0) - (index.get(b.id) ?? 0));
}

export interface ValidationRun {
  startedAt: Date;
  finishedAt: Date;
  quick: boolean;
  categories: Category[];
  results: CheckResult[];
  /** Wall time of each category: while at least one of its checks ran (they overlap across categories). */
  timingsMs: Partial<Record<Category, number>>;
}

/**
 * Validation without a task tree (for the checklist and for tests): the checks of each stage at once
 * (their probes are shared and bounded), stage after stage. `onResult` hears each result as it lands.
 */
export async function runValidation(inputs: ProbeInputs & Selection & { onResult?: (r: CheckResult) => void }): Promise<ValidationRun> {
  const probes = new StackProbes(inputs);
  const checks = selectChecks(inputs);
  const categories = selectedCategories(checks);
  const startedAt = new Date();
  const results: CheckResult[] = [];
  const timingsMs: Partial<Record<Category, number>> = {};
  const schedule = new CheckSchedule(checks);
  try {
    await Promise.all(
      checks.map(async (d) => {
        const r = await runScheduled(d, probes, schedule);
        results.push(r);
        inputs.onResult?.(r);
      }),
    );
    for (const category of categories) timingsMs[category] = schedule.categoryMs(category);
  } finally {
    await probes.close();
  }
  return { startedAt, finishedAt: new Date(), quick: !!inputs.quick, categories, results: orderResults(results), timingsMs };
}
