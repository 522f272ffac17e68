// The step contract. Every step (setup, data, migrate, migrate rollback, validate, …) is one object
// here in tasks/: its question (named cheaply, then planned read-only with its figures), its task
// tree, how its connections close, and its result. The CLI commands and the wizard both drive that
// one object, so a step can only ever ask its own question. This module also holds what the steps
// share: the resume markers, the evidence the wizard opens on, and what is still running after a stop.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { ListrTask } from 'listr2';
import type { Config } from '../src/config.js';
import { exactCounts } from '../src/db/backup.js';
import { evidenceAge, loadEvidence, type Evidence } from '../src/evidence/checklist.js';
import { demoNames } from '../src/demo/demo-db.js';
import { listStackContainers } from '../src/stack/docker.js';
import { workPaths } from '../src/paths.js';
import { stagingSql, stagingUnreachable } from '../src/db/staging.js';
import type { StepId } from '../src/run/steps.js';
import { n } from './format.js';

export type StepQuestion =
  | { kind: 'yes-no'; message: string }
  /** Type-the-name: `action` says what is about to happen, `rows` what it touches. */
  | { kind: 'dangerous'; action: string; rows: Array<[string, string]>; resourceName: string };

/** A step's question without its figures: known before anything is read, so a run that cannot ask is refused first. */
export type StepGuard = { kind: 'yes-no'; message: string } | { kind: 'dangerous'; action: string; resourceName: string };

/** What a step would do, worked out read-only, and the one question that guards it. */
export interface StepPlan {
  step: StepId | StepCommand;
  preview?: string;
  confirm: StepQuestion;
}

/** Steps that are commands of their own, outside the wizard's five. */
export type StepCommand = 'migrate rollback' | 'data restore' | 'down';

/** How a finished run ends: the `--json` result line's fields, or the text a person reads on stdout. */
export interface StepResult {
  ok: boolean;
  /** The result line's fields (`type` and `ok` are added). */
  fields: Record<string, unknown>;
  text: string;
  /** When not ok: what the command fails with after the text (with --json the exit code says it). */
  failure?: Error;
  /** Masks secrets in the line and the text. */
  redact?: (text: string) => string;
}

export interface StepContext {
  config: Config;
  signal: AbortSignal;
  dryRun?: boolean;
}

export interface Step<Ctx extends StepContext> {
  name: StepId | StepCommand;
  /** The question that guards this run, without figures (no I/O); undefined: the run asks nothing (a dry run, a read-only step). */
  guard?(ctx: Ctx): StepGuard | undefined;
  /** Read-only: the preview and the question with its figures. What it read stays in ctx, and the run reuses it. */
  plan?(ctx: Ctx, progress?: (line: string) => void): Promise<StepPlan>;
  tasks(ctx: Ctx): ListrTask<Ctx>[];
  /** Ends every connection the run (or its plan) opened; safe to call twice. */
  close(ctx: Ctx): Promise<void>;
  result(ctx: Ctx): StepResult;
  /** After a failure or a cancel: what the step had changed, checked now (`ctx` undefined: it stopped before running). */
  stateAfterStop?(config: Config, ctx: Ctx | undefined): Promise<string>;
}

/** The planned question: the guard's own words with the figures the plan read. */
export function question(guard: StepGuard | undefined, rows: Array<[string, string]>): StepQuestion {
  if (!guard) throw new Error('A step without a guard has no question to plan.');
  return guard.kind === 'dangerous' ? { ...guard, rows } : guard;
}

export const BACKUP_FIRST: [string, string] = ['backup first', 'staging-backups/staging-backup-<timestamp>.sql.gz'];

/**
 * What staging holds now, for a confirmation table: the app schemas (or every schema), exactly.
 * Unreachable, it says so, or with `required` fails naming the fix.
 */
export async function stagingContents(config: Config, opts: { allSchemas?: boolean; required?: boolean } = {}): Promise<string> {
  const sql = stagingSql(config, { max: 1, statementTimeoutMs: 0 });
  try {
    // Exact, not pg_class.reltuples: the estimate said "about 65 rows" of a staging holding 237.
    const counts = Object.entries(await exactCounts(sql)).filter(([key]) => opts.allSchemas || config.data.schemas.includes(key.split('.')[0]!.replace(/^"|"$/g, '')));
    return `${counts.length} tables, ${n(counts.reduce((sum, [, k]) => sum + k, 0))} rows${opts.allSchemas ? ' (exact)' : ''}`;
  } catch (error) {
    if (opts.required) throw stagingUnreachable(config, error, { nothingChanged: true });
    return '(staging is not reachable: `rehearse setup` first)';
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** What a check that could not run leaves of a note: the recorded phases, marked as such. */
export const unverified = (recorded: string, error: unknown) => `${recorded} (Not verified: staging could not be checked now: ${(error as Error).message}.)`;

/** What is still running after a stop, read from the engine: the staging stack and the demo production. */
export async function stillRunning(config: Config, docker: Dockerode): Promise<string> {
  const parts: string[] = [];
  try {
    const running = (await listStackContainers(docker, config)).filter((c) => c.state === 'running');
    if (running.length) parts.push(`the staging stack (${running.length} container(s); \`rehearse down\` stops it)`);
  } catch {
    parts.push('the staging stack could not be inspected (`rehearse status`)');
  }
  const demo = demoNames(config).container;
  try {
    const info = (await docker.getContainer(demo).inspect()) as { State?: { Running?: boolean } };
    if (info.State?.Running) parts.push(`the demo production ${demo} (\`rehearse demo --down\` removes it)`);
  } catch {
    // no demo container: nothing to mention
  }
  return parts.length ? `Still running: ${parts.join('; ')}.` : 'Nothing of the rehearsal is running.';
}

const marker = (config: Config, step: StepId) => path.join(workPaths(config).backups, `.${step}-in-progress`);

/**
 * Runs a step with a marker on disk while it runs, removed only when it succeeds: a step cut short
 * (Ctrl-C, a crash, a closed terminal) leaves the marker, and the resume then opens on that step
 * even when an older report of it is still on disk.
 */
export async function withStepMarker<T>(config: Config, step: StepId, fn: () => Promise<T>): Promise<T> {
  mkdirSync(workPaths(config).backups, { recursive: true, mode: 0o700 });
  writeFileSync(marker(config, step), `${new Date().toISOString()}\n`, { mode: 0o600 });
  const result = await fn();
  rmSync(marker(config, step), { force: true });
  return result;
}

function interruptedAt(config: Config, step: StepId): Date | undefined {
  try {
    return statSync(marker(config, step)).mtime;
  } catch {
    return undefined;
  }
}

/** Whether a step's evidence is there and fresh, and the one line that says so ("data summary 12 min ago"). */
export interface StepEvidence {
  done: boolean;
  why: string;
}

/**
 * Where a rehearsal stands, from the reports on disk and the live stack (the checklist's rules):
 * the wizard opens on the first step that is not done. The checklist is never "done": it is the
 * verdict, computed again every time.
 */
export async function stepsEvidence(config: Config, docker: Dockerode, now = new Date()): Promise<Partial<Record<StepId, StepEvidence>>> {
  const e = await loadEvidence(config, docker);
  const judge = (label: string, ev: Evidence | undefined, ok: boolean): StepEvidence =>
    !ev ? { done: false, why: `no ${label} yet` } : ev.stale ? { done: false, why: `${label} is stale: ${ev.stale}` } : !ok ? { done: false, why: `${evidenceAge(label, ev, now)} says it failed` } : { done: true, why: evidenceAge(label, ev, now) };
  let healthy = false;
  try {
    const core = ['app-staging', 'nginx-staging', 'postgres-staging', 'redis-staging'];
    const containers = await listStackContainers(docker, config);
    healthy = core.every((s) => containers.some((c) => c.service === s && c.state === 'running' && c.health === 'healthy'));
  } catch {
    healthy = false;
  }
  const setup = judge('setup report', e.setup, !!e.setup?.data.ok);
  const steps: Partial<Record<StepId, StepEvidence>> = {
    setup: setup.done && !healthy ? { done: false, why: `${setup.why}, but the stack is not running and healthy now` } : setup,
    data: judge('data summary', e.data, !!e.data?.data.ok),
    migrate: judge('migration report', e.migration, !!e.migration?.data.ok),
    validate: judge('validation report', e.validation, !!e.validation?.data.ok && !e.validation.data.quick),
  };
  // A step cut short is to do again, and so is every step after it: its evidence may describe a staging that is gone.
  const order: StepId[] = ['setup', 'data', 'migrate', 'validate'];
  const cut = order.findIndex((step) => interruptedAt(config, step));
  if (cut >= 0) {
    const at = interruptedAt(config, order[cut]!)!;
    steps[order[cut]!] = { done: false, why: `stopped before it finished (started ${evidenceAge('', { file: '', data: {}, mtime: at }, now).trim()})` };
    for (const later of order.slice(cut + 1)) if (steps[later]?.done) steps[later] = { done: false, why: `${steps[later]!.why}, before the ${order[cut]} step stopped unfinished` };
  }
  return steps;
}
