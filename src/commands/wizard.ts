// `rehearse` with no command: the Ink wizard over the steps, with the stats pane fed by dockerode.
// Each wizard step drives its step contract (tasks/): the same question, tree and stop note as the command.
import { Listr } from 'listr2';
import type { Config } from '../config.js';
import { watchContainerStats } from '../stack/container-stats.js';
import { demoUp } from '../demo/demo-db.js';
import type { DemoProgress } from '../demo/progress.js';
import { dockerClient } from '../stack/docker.js';
import { ExitCode } from '../errors.js';
import { stackNames } from '../paths.js';
import { withRunLock } from '../run/lock.js';
import type { StepId } from '../run/steps.js';
import { checklistStep, newChecklistContext } from '../../tasks/checklist-step.js';
import { newDataContext } from '../../tasks/data-tasks.js';
import { dataStep } from '../../tasks/data-step.js';
import { newMigrateContext } from '../../tasks/migrate-tasks.js';
import { migrateStep } from '../../tasks/migrate-step.js';
import { newSetupContext } from '../../tasks/setup-tasks.js';
import { setupStep } from '../../tasks/setup-step.js';
import { stepsEvidence, stillRunning, withStepMarker, type Step, type StepContext } from '../../tasks/steps.js';
import { newValidateContext } from '../../tasks/validate-tasks.js';
import { validateStep } from '../../tasks/validate-step.js';
import { renderWizard, type InkListrOptions, type WizardStepRunner } from '../../screens/render-wizard.js';

/** The demo production's bring-up as one progress line (the first wait of a fresh rehearsal: up to a minute). */
function demoLine(event: DemoProgress): string | undefined {
  if (event.type === 'step') return `demo production: ${event.detail}`;
  if (event.type === 'compose') return `demo production: ${event.line}`;
  return `demo production: loading ${event.table} (${event.index + 1}/${event.tables}), ${Math.round((event.totalRows / Math.max(event.estimatedTotalRows, 1)) * 100)} % of about ${event.estimatedTotalRows.toLocaleString('en-US')} rows`;
}

interface Wiring<Ctx> {
  /** A fresh context for one plan-and-run. */
  context: (signal: AbortSignal) => Ctx;
  /** Runs under the run lock (steps that write staging). */
  locked?: boolean;
  /** Leaves no resume marker (the checklist: it is computed again every time). */
  unmarked?: boolean;
  /** Before the plan: what the wizard brings up itself (the demo production). */
  before?: (signal: AbortSignal, progress: (line: string) => void) => Promise<void>;
}

/**
 * One wizard step over one step contract. A plan's context (its connection, what it read) is the
 * one the run then uses; a plan that is not run is closed when the next one starts, or at the end.
 */
function stepRunner<Ctx extends StepContext>(config: Config, id: StepId, step: Step<Ctx>, wiring: Wiring<Ctx>, pending: Set<() => Promise<void>>): WizardStepRunner {
  let planned: Ctx | undefined;
  let last: Ctx | undefined;
  const drop = async () => {
    const ctx = planned;
    planned = undefined;
    if (ctx) await step.close(ctx);
  };
  pending.add(drop);
  return {
    id,
    ...(step.plan
      ? {
          async plan(signal: AbortSignal, progress: (line: string) => void) {
            await drop();
            await wiring.before?.(signal, progress);
            const ctx = wiring.context(signal);
            try {
              const plan = await step.plan!(ctx, progress);
              planned = ctx;
              return plan;
            } catch (error) {
              await step.close(ctx);
              throw error;
            }
          },
        }
      : {}),
    async run(rendererOptions: InkListrOptions, signal: AbortSignal) {
      const ctx = (last = planned ?? wiring.context(signal));
      planned = undefined;
      const tree = async () => {
        try {
          await new Listr(step.tasks(ctx), { ...rendererOptions, ctx, exitOnError: true, registerSignalListeners: false }).run();
        } finally {
          await step.close(ctx);
        }
      };
      const marked = () => (wiring.unmarked ? tree() : withStepMarker(config, id, tree));
      await (wiring.locked ? withRunLock(config, `wizard: ${id}`, marked) : marked());
    },
    ...(step.stateAfterStop ? { stateAfterStop: (ran: boolean) => step.stateAfterStop!(config, ran ? last : undefined) } : {}),
  };
}

/** Runs the wizard; its final frame already says how it ended (and, after a cancel, what was left), so the caller prints nothing more. */
export async function runWizard(config: Config, controller: AbortController): Promise<number> {
  const docker = dockerClient();
  const pending = new Set<() => Promise<void>>();
  try {
    const outcome = await renderWizard({
      abortController: controller,
      evidence: await stepsEvidence(config, docker).catch(() => ({})),
      stillRunning: () => stillRunning(config, docker),
      runners: {
        setup: stepRunner(config, 'setup', setupStep, { context: (signal) => newSetupContext(config, docker, signal), locked: true }, pending),
        data: stepRunner(
          config,
          'data',
          dataStep,
          {
            context: (signal) => newDataContext(config, signal),
            locked: true,
            // Without a configured production the rehearsal reads the built-in demo one (as `rehearse all` does).
            async before(signal, progress) {
              if (!config.production.url) {
                progress('demo production: checking');
                await demoUp(config, { users: config.demo.users, seed: config.demo.seed, signal, onProgress: (e) => { const line = demoLine(e); if (line) progress(line); } });
              }
              progress('planning the subset in a read-only snapshot of production');
            },
          },
          pending,
        ),
        migrate: stepRunner(config, 'migrate', migrateStep, { context: (signal) => newMigrateContext(config, signal), locked: true }, pending),
        validate: stepRunner(config, 'validate', validateStep, { context: (signal) => newValidateContext(config, docker, signal, { requiredTask: true }) }, pending),
        checklist: stepRunner(config, 'checklist', checklistStep, { context: (signal) => newChecklistContext(config, docker, signal), unmarked: true }, pending),
      },
      subscribeStats: (signal, onUpdate) => void watchContainerStats(docker, stackNames(config).composeProject, signal, onUpdate).catch(() => undefined),
    });
    return outcome.status === 'cancelled' ? ExitCode.cancelled : outcome.status === 'failed' ? ExitCode.checkFailed : ExitCode.ok;
  } finally {
    await Promise.all([...pending].map((drop) => drop().catch(() => undefined)));
  }
}
