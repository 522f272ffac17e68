// `rehearse` with no command: the Ink wizard over the steps, with the stats pane fed by dockerode.
import { Listr, type ListrTask } from 'listr2';
import type { Config } from '../config.js';
import { watchContainerStats } from '../container-stats.js';
import { dockerClient } from '../docker.js';
import { ExitCode } from '../errors.js';
import { stackNames } from '../paths.js';
import { newSetupContext, setupTasks } from '../../tasks/setup-tasks.js';
import { closeDataContext, dataTasks, newDataContext, type DataContext } from '../../tasks/data-tasks.js';
import { closeMigrateContext, migrateTasks, newMigrateContext, type MigrateContext } from '../../tasks/migrate-tasks.js';
import { assertRequiredChecks, dataStateNote, migrateStateNote, planData, planMigrate, stepsEvidence, stillRunning, withStepMarker } from '../../tasks/steps.js';
import { newValidateContext, validateTasks } from '../../tasks/validate-tasks.js';
import { computeChecklist } from '../checklist.js';
import { demoUp } from '../demo/demo-db.js';
import { withRunLock } from '../run-lock.js';
import type { DemoProgress } from '../demo/progress.js';
import { describeStackState } from '../stack.js';
import { runReport } from './report.js';
import { renderWizard, type InkListrOptions } from '../../screens/render-wizard.js';

/** One step's task tree, drawn by the wizard or (for a preview) silently; `close` runs however it ends. */
async function runTree<Ctx extends object>(tasks: ListrTask<Ctx>[], ctx: Ctx, drawing: InkListrOptions | { renderer: 'silent' }, close?: () => Promise<void>): Promise<void> {
  try {
    await new Listr(tasks, { ...drawing, ctx, exitOnError: true, registerSignalListeners: false }).run();
  } finally {
    await close?.();
  }
}

/** The demo production's bring-up as one progress line (the first wait of a fresh rehearsal: up to a minute). */
function demoLine(event: DemoProgress): string | undefined {
  if (event.type === 'step') return `demo production: ${event.detail}`;
  if (event.type === 'compose') return `demo production: ${event.line}`;
  return `demo production: loading ${event.table} (${event.index + 1}/${event.tables}), ${Math.round((event.totalRows / Math.max(event.estimatedTotalRows, 1)) * 100)} % of about ${event.estimatedTotalRows.toLocaleString('en-US')} rows`;
}

/** Runs the wizard; its final frame already says how it ended (and, after a cancel, what was left), so the caller prints nothing more. */
export async function runWizard(config: Config, controller: AbortController): Promise<number> {
  const docker = dockerClient();
  // The last run of each step, so a stop can be described from the phases it finished.
  let dataCtx: DataContext | undefined;
  let migrateCtx: MigrateContext | undefined;
  const outcome = await renderWizard({
    abortController: controller,
    evidence: await stepsEvidence(config, docker).catch(() => ({})),
    stillRunning: () => stillRunning(config, docker),
    runners: {
      setup: {
        id: 'setup',
        async run(rendererOptions, signal) {
          await withRunLock(config, 'wizard: setup', () => withStepMarker(config, 'setup', () => runTree(setupTasks(), newSetupContext(config, docker, signal), rendererOptions)));
        },
        // Setup never touches the staging data; what it leaves is containers, read from the engine.
        stateAfterStop: (ran) => (ran ? describeStackState(docker, config) : Promise.resolve('Nothing was started.')),
      },
      data: {
        id: 'data',
        async plan(signal, progress) {
          // Without a configured production the rehearsal reads the built-in demo one (as `rehearse all` does).
          if (!config.production.url) {
            progress('demo production: checking');
            await demoUp(config, { users: config.demo.users, seed: config.demo.seed, signal, onProgress: (e) => { const line = demoLine(e); if (line) progress(line); } });
          }
          progress('planning the subset in a read-only snapshot of production');
          return planData(config, { signal });
        },
        async run(rendererOptions, signal) {
          dataCtx = newDataContext(config, signal);
          const ctx = dataCtx;
          await withRunLock(config, 'wizard: data', () => withStepMarker(config, 'data', () => runTree(dataTasks(), ctx, rendererOptions, () => closeDataContext(ctx))));
        },
        stateAfterStop: async (ran) => dataStateNote(config, ran ? dataCtx : undefined),
      },
      migrate: {
        id: 'migrate',
        plan: () => planMigrate(config),
        async run(rendererOptions, signal) {
          migrateCtx = newMigrateContext(config, signal);
          const ctx = migrateCtx;
          await withRunLock(config, 'wizard: migrate', () => withStepMarker(config, 'migrate', () => runTree(migrateTasks(), ctx, rendererOptions, () => closeMigrateContext(ctx))));
        },
        stateAfterStop: async (ran) => migrateStateNote(config, ran ? migrateCtx : undefined),
      },
      validate: {
        id: 'validate',
        async run(rendererOptions, signal) {
          const ctx = newValidateContext(config, docker, signal);
          // The last task fails when a required check did: the step then shows ✖ with the failing checks.
          const required = { title: 'Required checks', task: (c: typeof ctx, task: { title: string }) => { assertRequiredChecks(c); task.title = `Required checks: all ${c.results.filter((r) => r.required).length} pass`; } };
          await withStepMarker(config, 'validate', () => runTree([...validateTasks(ctx.selection), required], ctx, rendererOptions, () => ctx.probes.close()));
        },
        stateAfterStop: async () => 'Validation only reads: nothing in staging was changed.',
      },
      checklist: {
        id: 'checklist',
        // Every criterion as a task: met ✔, n/a skipped, otherwise failed with the command that fixes it.
        async run(rendererOptions, signal) {
          const checklist = await computeChecklist(config, docker);
          signal.throwIfAborted();
          await new Listr(
            [
              ...checklist.items.map((item) => ({
                title: `${item.group}: ${item.criterion}`,
                task: (_: unknown, task: { skip: (m: string) => void; output: string }) => {
                  task.output = item.evidence;
                  if (item.status === 'n/a') return task.skip(`n/a: ${item.evidence}`);
                  if (item.status !== 'met') throw new Error(`${item.status}: ${item.evidence} → ${item.fix}`);
                },
              })),
              {
                title: 'Write the week-2 readiness report',
                task: async (_: unknown, task: { title: string }) => {
                  const r = await runReport(config);
                  task.title = `${r.ready ? 'GO' : 'NO-GO'}: ${r.markdown} (and .html)`;
                },
              },
            ],
            { ...rendererOptions, exitOnError: false, registerSignalListeners: false },
          ).run();
          if (!checklist.ready) throw new Error(`Not ready: ${checklist.items.filter((i) => i.required && i.status !== 'met').length} required criteria are not met (see above). Retry with r once fixed.`);
        },
        stateAfterStop: async () => 'The checklist only reads: nothing was changed.',
      },
    },
    subscribeStats: (signal, onUpdate) => void watchContainerStats(docker, stackNames(config).composeProject, signal, onUpdate).catch(() => undefined),
  });
  return outcome.status === 'cancelled' ? ExitCode.cancelled : outcome.status === 'failed' ? ExitCode.checkFailed : ExitCode.ok;
}
