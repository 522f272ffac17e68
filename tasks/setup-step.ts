// The setup step's contract: no question (it never touches staging data), its tree
// (tasks/setup-tasks.ts), its result, and after a stop what the engine has.
import { describeStackState } from '../src/stack/compose.js';
import { formatStatus } from './format.js';
import { setupTasks, type SetupContext } from './setup-tasks.js';
import type { Step } from './steps.js';

export const setupStep: Step<SetupContext> = {
  name: 'setup',
  tasks: () => setupTasks(),
  // Each task ends what it opens.
  close: async () => undefined,
  result: (ctx) => ({
    ok: true,
    fields: { report: ctx.reportFile, urls: ctx.status?.urls, containers: ctx.status?.containers.map((c) => ({ name: c.name, health: c.health })), skipped: ctx.skipped },
    text: `\nStaging is up.\n${formatStatus(ctx.status!)}\n${ctx.skipped.map((s) => `\n${s.note}\n`).join('')}Report: ${ctx.reportFile}\n`,
  }),
  // What setup leaves is containers, read from the engine.
  stateAfterStop: async (config, ctx) => (ctx ? describeStackState(ctx.docker, config) : 'Nothing was started.'),
};
