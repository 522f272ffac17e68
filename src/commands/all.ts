// `rehearse all --yes`: the whole flow without questions (scripts, CI): setup → (demo production
// when no production is configured) → data → migrate → validate, then the checklist.
import type { Config } from '../config.js';
import { CheckFailedError } from '../errors.js';
import type { OutputMode } from '../../tasks/run-tasks.js';
import { runChecklist } from './checklist.js';
import { runData } from './data.js';
import { runDemo } from './demo.js';
import type { GlobalFlags } from './interaction.js';
import { runMigrate } from './migrate.js';
import { runSetup } from './setup.js';
import { runValidate } from './validate.js';

export async function runAll(config: Config, opts: { flags: GlobalFlags; mode: OutputMode; signal: AbortSignal; onStagingUp?: () => Promise<void> }): Promise<void> {
  const json = !!opts.flags.json;
  const step = (n: number, title: string) => process.stderr.write(`\n━━ Step ${n} of 5 · ${title}\n`);
  step(1, 'Staging stack');
  await runSetup(config, { mode: opts.mode, signal: opts.signal, regenerateCerts: false });
  await opts.onStagingUp?.();
  if (!config.production.url) {
    process.stderr.write('\nNo production is configured (PRODUCTION_DATABASE_URL): using the built-in demo production.\n');
    await runDemo(config, { users: config.demo.users, seed: config.demo.seed, reload: false, json, signal: opts.signal });
  }
  step(2, 'Production data subset');
  await runData(config, { dryRun: false, flags: opts.flags, mode: opts.mode, signal: opts.signal });
  step(3, 'Migration rehearsal');
  await runMigrate(config, { dryRun: false, verbose: false, flags: opts.flags, mode: opts.mode, signal: opts.signal });
  step(4, 'Validation');
  // A failed check still ends on the checklist (which then says what is not met), then fails the run.
  let validationFailure: unknown;
  try {
    await runValidate(config, { quick: false, categories: [], json, mode: opts.mode, signal: opts.signal });
  } catch (error) {
    if (!(error instanceof CheckFailedError)) throw error;
    validationFailure = error;
  }
  step(5, 'Success checklist');
  await runChecklist(config, { watch: false, json });
  if (validationFailure) throw validationFailure;
}
