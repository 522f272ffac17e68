// `rehearse config`: the effective configuration, plus where it came from. No secret is shown:
// .env.staging keys are listed with their values masked.
import type { Config } from '../config.js';
import { isSecretKey, readEnvFile } from '../stack/env-file.js';
import { workPaths } from '../paths.js';
import { describeUrl } from '../db/pg-connect.js';
import { SEED_KEYS } from '../subset/seed.js';
import { finish, type Ui } from './ui.js';

function describeConfig(config: Config, source: string | undefined) {
  const env = readEnvFile(workPaths(config).envFile);
  return {
    source: source ?? '(defaults; no rehearse.config.json|yaml found)',
    // The production URL carries a password: shown without it.
    config: {
      ...config,
      production: { ...config.production, url: config.production.url ? describeUrl(config.production.url) : '(unset: the demo production is used)' },
      // Unset seed keys are read from production's catalog by `rehearse data`.
      data: { ...config.data, seed: { ...Object.fromEntries(SEED_KEYS.map((k) => [k, '(detected from the schema)'])), ...Object.fromEntries(Object.entries(config.data.seed).filter(([, v]) => v !== undefined)) } },
    },
    envFile: env
      ? { path: workPaths(config).envFile, values: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, isSecretKey(k) ? '********' : v])) }
      : { path: workPaths(config).envFile, values: '(not written yet; `rehearse setup` creates it)' },
  };
}

export async function configCommand(config: Config, source: string | undefined, ui: Ui): Promise<void> {
  const described = describeConfig(config, source);
  finish(ui, { ok: true, fields: described, text: ui.json ? '' : (await import('yaml')).stringify(described) });
}
