// Writes the staging workspace: .env.staging, docker-compose.staging.yml, nginx/staging.conf, the
// TLS pair and (with monitoring) the Prometheus config. Re-running keeps secrets and a valid cert.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { buildEnv, readEnvFile, renderEnvFile, writeSecretFile } from './env-file.js';
import { assetPath, postgresModuleDir, stackNames, workPaths } from '../paths.js';
import { renderTemplate } from './template.js';
import { ensureCertificate, type CertInfo } from './tls.js';

export function renderComposeFile(config: Config): string {
  const names = stackNames(config);
  const template = readFileSync(assetPath('compose', 'docker-compose.staging.yml.template'), 'utf8');
  const q = (s: string) => JSON.stringify(s); // JSON strings are valid YAML scalars
  return renderTemplate(template, {
    project: config.project,
    composeProject: names.composeProject,
    network: names.network,
    bind: config.bindAddress,
    ports: config.ports,
    images: Object.fromEntries(Object.entries(config.images).map(([k, v]) => [k, q(v)])),
    volumes: Object.fromEntries(Object.entries(config.volumes).map(([k, v]) => [k, q(v)])),
    containers: {
      app: names.containers['app-staging'],
      nginx: names.containers['nginx-staging'],
      postgres: names.containers['postgres-staging'],
      redis: names.containers['redis-staging'],
      pgadmin: names.containers['pgadmin-staging'],
      prometheus: names.containers['prometheus-staging'],
      grafana: names.containers['grafana-staging'],
      postgresExporter: names.containers['postgres-exporter-staging'],
      redisExporter: names.containers['redis-exporter-staging'],
      nginxExporter: names.containers['nginx-exporter-staging'],
    },
    app: {
      demo: !config.app.image && !config.app.build,
      image: config.app.image ? q(config.app.image) : '',
      build: config.app.build ? q(path.resolve(config.workDir, config.app.build)) : '',
      internalPort: config.app.internalPort,
      healthPath: config.app.healthPath,
    },
    resources: config.resources,
    hardening: config.hardening,
    demoAppMount: q(`${assetPath('compose', 'demo-app')}:/app:ro`),
    postgresModuleMount: q(`${postgresModuleDir()}:/node_modules/postgres:ro`),
  });
}

export function renderNginxConf(config: Config): string {
  const template = readFileSync(assetPath('nginx', 'staging.conf.template'), 'utf8');
  return renderTemplate(template, { appPort: config.app.internalPort, httpsPort: config.ports.https, admin: config.profiles.admin, monitoring: config.profiles.monitoring });
}

export function renderPrometheusConf(config: Config): string {
  const template = readFileSync(assetPath('compose', 'monitoring', 'prometheus.yml.template'), 'utf8');
  const metricsPath = config.app.metricsPath;
  return renderTemplate(template, { project: config.project, app: { scraped: metricsPath !== null, metricsPath: metricsPath ?? '', target: `app-staging:${config.app.internalPort}` } });
}

/** staging-monitoring/: prometheus.yml, Grafana's provisioning (datasource, dashboard provider, dashboard), as the guide lays it out, and the postgres exporter's queries of migrate's phases. */
function writeMonitoring(config: Config): string[] {
  const paths = workPaths(config);
  const written: string[] = [];
  mkdirSync(paths.monitoringDir, { recursive: true });
  writeFileSync(paths.prometheusConf, renderPrometheusConf(config));
  written.push(paths.prometheusConf);
  const source = assetPath('compose', 'monitoring', 'grafana');
  for (const rel of GRAFANA_FILES) {
    const target = path.join(paths.monitoringDir, 'grafana', rel);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(path.join(source, rel), target);
    written.push(target);
  }
  const queries = path.join(paths.monitoringDir, 'postgres-exporter-queries.yml');
  copyFileSync(assetPath('compose', 'monitoring', 'postgres-exporter-queries.yml'), queries);
  written.push(queries);
  return written;
}

/** Grafana's files under monitoring/grafana/, copied as they are into staging-monitoring/grafana/. */
export const GRAFANA_FILES = ['provisioning/datasources/prometheus.yml', 'provisioning/dashboards/rehearse.yml', 'dashboards/role-migration-rehearsal.json'];

export interface GeneratedFiles {
  files: string[];
  secretsCreated: boolean;
  /** nginx/staging.conf or the certificate changed: a running nginx must reload to use them. */
  nginxChanged: boolean;
  cert: CertInfo;
  certCreated: boolean;
}

export async function generateWorkspace(config: Config, opts: { regenerateCerts?: boolean } = {}): Promise<GeneratedFiles> {
  const paths = workPaths(config);
  mkdirSync(path.dirname(paths.nginxConf), { recursive: true });
  mkdirSync(paths.nginxLogs, { recursive: true });
  mkdirSync(paths.backups, { recursive: true, mode: 0o700 });

  const previous = readEnvFile(paths.envFile);
  const env = buildEnv(config, previous);
  writeSecretFile(paths.envFile, renderEnvFile(env));

  writeFileSync(paths.composeFile, renderComposeFile(config));
  const nginxConf = renderNginxConf(config);
  const nginxConfChanged = !existsSync(paths.nginxConf) || readFileSync(paths.nginxConf, 'utf8') !== nginxConf;
  writeFileSync(paths.nginxConf, nginxConf);
  const files = [paths.envFile, paths.composeFile, paths.nginxConf];
  if (config.profiles.monitoring) files.push(...writeMonitoring(config));
  const cert = await ensureCertificate({ ...paths, regenerate: !!opts.regenerateCerts });
  files.push(paths.certFile, paths.keyFile);
  return { files, secretsCreated: !previous?.DB_PASSWORD, nginxChanged: nginxConfChanged || cert.created, cert: cert.info, certCreated: cert.created };
}

export const workspaceExists = (config: Config) => existsSync(workPaths(config).composeFile);
