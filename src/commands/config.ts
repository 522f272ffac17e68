// `rehearse config`: the effective configuration, plus where it came from. No secret is shown:
// .env.staging keys are listed with their values masked.
import type { Config } from '../config.js';
import { isSecretKey, readEnvFile } from '../env-file.js';
import { workPaths } from '../paths.js';
import { describeUrl } from '../production.js';

export function describeConfig(config: Config, source: string | undefined) {
  const env = readEnvFile(workPaths(config).envFile);
  return {
    source: source ?? '(defaults; no rehearse.config.json|yaml found)',
    // The production URL carries a password: shown without it.
    config: { ...config, production: { ...config.production, url: config.production.url ? describeUrl(config.production.url) : '(unset: the demo production is used)' } },
    envFile: env
      ? { path: workPaths(config).envFile, values: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, isSecretKey(k) ? '********' : v])) }
      : { path: workPaths(config).envFile, values: '(not written yet; `rehearse setup` creates it)' },
  };
}
