// `rehearse all --yes`: the whole flow without questions (scripts, CI): setup → (demo production
// when no production is configured) → data → migrate → validate, then the checklist. It drives the
// same step contracts (tasks/) as the single commands and the wizard.
import type { Config } from '../config.js';
import { dockerClient } from '../stack/docker.js';
import { CheckFailedError } from '../errors.js';
import { newDataContext } from '../../tasks/data-tasks.js';
import { dataStep } from '../../tasks/data-step.js';
import { newMigrateContext } from '../../tasks/migrate-tasks.js';
import { migrateStep } from '../../tasks/migrate-step.js';
import { newSetupContext } from '../../tasks/setup-tasks.js';
import { setupStep } from '../../tasks/setup-step.js';
import { checklistCommand } from './checklist.js';
import { demoCommand } from './demo.js';
import { runStep, type Ui } from './ui.js';
import { validateCommand } from './validate.js';

export async function allCommand(config: Config, ui: Ui, signal: AbortSignal, onStagingUp?: () => Promise<void>): Promise<void> {
  const step = (n: number, title: string) => process.stderr.write(`\n━━ Step ${n} of 5 · ${title}\n`);
  step(1, 'Staging stack');
  await runStep(ui, setupStep, newSetupContext(config, dockerClient(), signal));
  await onStagingUp?.();
  if (!config.production.url) {
    process.stderr.write('\nNo production is configured (PRODUCTION_DATABASE_URL): using the built-in demo production.\n');
    await demoCommand(config, { users: config.demo.users, seed: config.demo.seed, reload: false }, ui, signal);
  }
  step(2, 'Production data subset');
  await runStep(ui, dataStep, newDataContext(config, signal), { marker: 'data' });
  step(3, 'Migration rehearsal');
  await runStep(ui, migrateStep, newMigrateContext(config, signal), { marker: 'migrate' });
  step(4, 'Validation');
  // A failed check still ends on the checklist (which then says what is not met), then fails the run.
  let validationFailure: unknown;
  try {
    await validateCommand(config, { quick: false, categories: [] }, ui, signal);
  } catch (error) {
    if (!(error instanceof CheckFailedError)) throw error;
    validationFailure = error;
  }
  step(5, 'Success checklist');
  await checklistCommand(config, { watch: false }, ui);
  if (validationFailure) throw validationFailure;
}
