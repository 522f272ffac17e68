// `rehearse validate [--quick] [--category …] [--junit FILE]`: run the checks, print the results
// (stdout), leave the report, and exit 1 when a required check failed.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { engineReader, pingDocker } from '../stack/docker.js';
import { UserError } from '../errors.js';
import { workPaths } from '../paths.js';
import { parseCategories } from '../validate/index.js';
import { newValidateContext } from '../../tasks/validate-tasks.js';
import { validateStep } from '../../tasks/validate-step.js';
import { finish, runStep, type Ui } from './ui.js';

export interface ValidateOptions {
  quick: boolean;
  /** Raw --category values (repeatable, comma-separated). */
  categories: string[];
  /** --junit FILE, relative to the current directory. */
  junit?: string;
}

export async function validateCommand(config: Config, opts: ValidateOptions, ui: Ui, signal: AbortSignal): Promise<void> {
  const categories = parseCategories(opts.categories);
  if (!existsSync(workPaths(config).composeFile)) {
    throw new UserError(`There is no staging stack in ${config.workDir} (no docker-compose.staging.yml).`, { tryThis: 'Run `rehearse setup` first, or run validate from the folder where you ran it (or pass --config).' });
  }
  const docker = engineReader();
  await pingDocker(docker, signal);
  const junitFile = opts.junit ? path.resolve(opts.junit) : undefined;
  const ctx = await runStep(ui, validateStep, newValidateContext(config, docker, signal, { quick: opts.quick, ...(categories ? { categories } : {}), ...(junitFile ? { junitFile } : {}) }));
  finish(ui, validateStep.result(ctx));
}
