// Where rehearse's own assets live (templates, SQL) and where it writes in the working directory.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';

/** The package root: two levels up from dist/src/ or one from src/ when run through vitest. */
export const PACKAGE_ROOT = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '../..') : path.resolve(here, '..');
})();

export const assetPath = (...parts: string[]) => path.join(PACKAGE_ROOT, ...parts);

/** The folder of the `postgres` package, bind-mounted into the demo app container. */
export function postgresModuleDir(): string {
  // The package's exports hide package.json, so walk up from its main file.
  let dir = path.dirname(createRequire(import.meta.url).resolve('postgres'));
  const isPackageRoot = (d: string) => existsSync(path.join(d, 'package.json')) && JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8')).name === 'postgres';
  while (!isPackageRoot(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

export interface WorkPaths {
  envFile: string;
  composeFile: string;
  nginxConf: string;
  sslDir: string;
  certFile: string;
  keyFile: string;
  nginxLogs: string;
  prometheusConf: string;
  /** The guide's staging-monitoring/ folder: prometheus.yml and Grafana's provisioning. */
  monitoringDir: string;
  backups: string;
}

export function workPaths(config: Pick<Config, 'workDir'>): WorkPaths {
  const at = (...p: string[]) => path.join(config.workDir, ...p);
  return {
    envFile: at('.env.staging'),
    composeFile: at('docker-compose.staging.yml'),
    nginxConf: at('nginx', 'staging.conf'),
    sslDir: at('nginx', 'ssl-staging'),
    certFile: at('nginx', 'ssl-staging', 'staging.crt'),
    keyFile: at('nginx', 'ssl-staging', 'staging.key'),
    nginxLogs: at('nginx', 'logs-staging'),
    prometheusConf: at('staging-monitoring', 'prometheus.yml'),
    monitoringDir: at('staging-monitoring'),
    backups: at('staging-backups'),
  };
}

/** Names that the guide's own commands use (`docker exec -it 1001-stories-db-staging …`). */
export function stackNames(config: Pick<Config, 'project'>) {
  const p = config.project;
  return {
    composeProject: `${p}-staging`,
    network: `${p}-staging-network`,
    containers: {
      'app-staging': `${p}-app-staging`,
      'nginx-staging': `${p}-nginx-staging`,
      'postgres-staging': `${p}-db-staging`,
      'redis-staging': `${p}-redis-staging`,
      'pgadmin-staging': `${p}-pgadmin-staging`,
      'prometheus-staging': `${p}-prometheus-staging`,
      'grafana-staging': `${p}-grafana-staging`,
      'postgres-exporter-staging': `${p}-postgres-exporter-staging`,
      'redis-exporter-staging': `${p}-redis-exporter-staging`,
      'nginx-exporter-staging': `${p}-nginx-exporter-staging`,
    },
  } as const;
}

export type ServiceName = keyof ReturnType<typeof stackNames>['containers'];
