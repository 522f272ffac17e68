// The checklist as the wizard's last step: every criterion as a task (met ✔, n/a skipped, otherwise
// failed with the command that fixes it), then the week-2 readiness report, then the verdict.
import type Dockerode from 'dockerode';
import type { ListrTask } from 'listr2';
import { computeChecklist, type Checklist } from '../src/evidence/checklist.js';
import type { Config } from '../src/config.js';
import { writeReadinessReport } from '../src/evidence/readiness-report.js';
import { formatChecklist } from './format.js';
import type { Step } from './steps.js';

export interface ChecklistContext {
  config: Config;
  docker: Dockerode;
  signal: AbortSignal;
  checklist?: Checklist;
  report?: { markdown: string; html: string; ready: boolean };
}

export function newChecklistContext(config: Config, docker: Dockerode, signal: AbortSignal): ChecklistContext {
  return { config, docker, signal };
}

export function checklistTasks(): ListrTask<ChecklistContext>[] {
  return [
    {
      title: 'Read the evidence and probe the stack',
      // A criterion not met fails its own line; the report and the verdict still come.
      exitOnError: false,
      task: async (ctx, task) => {
        const checklist = (ctx.checklist = await computeChecklist(ctx.config, ctx.docker));
        ctx.signal.throwIfAborted();
        task.title = `${checklist.items.filter((i) => i.status === 'met').length}/${checklist.items.length} criteria met`;
        return task.newListr(
          checklist.items.map((item) => ({
            title: `${item.group}: ${item.criterion}`,
            task: (_: unknown, sub: { skip: (m: string) => void; output: string }) => {
              sub.output = item.evidence;
              if (item.status === 'n/a') return sub.skip(`n/a: ${item.evidence}`);
              if (item.status !== 'met') throw new Error(`${item.status}: ${item.evidence} → ${item.fix}`);
            },
          })),
          { exitOnError: false },
        );
      },
    },
    {
      title: 'Write the week-2 readiness report',
      task: (ctx, task) => {
        ctx.report = writeReadinessReport(ctx.config, ctx.checklist!);
        task.title = `${ctx.report.ready ? 'GO' : 'NO-GO'}: ${ctx.report.markdown} (and .html)`;
      },
    },
    {
      title: 'Verdict',
      task: (ctx, task) => {
        const c = ctx.checklist!;
        if (!c.ready) throw new Error(`Not ready: ${c.items.filter((i) => i.required && i.status !== 'met').length} required criteria are not met (see above). Retry with r once fixed.`);
        task.title = 'Ready: every required criterion is met';
      },
    },
  ];
}

export const checklistStep: Step<ChecklistContext> = {
  name: 'checklist',
  tasks: () => checklistTasks(),
  close: async () => undefined,
  result: (ctx) => ({ ok: ctx.checklist!.ready, fields: { ...ctx.checklist!, report: ctx.report }, text: formatChecklist(ctx.checklist!) }),
  stateAfterStop: async () => 'The checklist only reads: nothing was changed.',
};
