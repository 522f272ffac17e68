// The generated workspace: compose file shape, nginx config, env file and certificate rules.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { buildEnv, parseEnvFile, redact } from '../src/stack/env-file.js';
import { generateWorkspace, renderComposeFile, renderNginxConf, renderPrometheusConf } from '../src/stack/generate.js';
import { renderTemplate } from '../src/stack/template.js';
import { ensureCertificate } from '../src/stack/tls.js';
import { REPO } from './helpers/stack.js';

const configIn = (cwd: string, env: Record<string, string> = {}, overrides = {}) => loadConfig({ cwd, env, overrides }).config;
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'rehearse-gen-'));

interface ComposeDoc {
  name: string;
  services: Record<string, { container_name: string; profiles?: string[]; ports?: string[]; healthcheck?: { test: string[] }; labels?: Record<string, string>; networks?: string[]; image?: string }>;
  volumes: Record<string, { name: string }>;
  networks: Record<string, { name: string }>;
}

describe('compose file', () => {
  // merge: the template's x-hardened anchor is a YAML merge key, as compose reads it.
  const doc = parse(renderComposeFile(configIn(tmp())), { merge: true }) as ComposeDoc;

  it('names containers the way the guide addresses them', () => {
    expect(doc.name).toBe('1001-stories-staging');
    expect(Object.fromEntries(Object.entries(doc.services).map(([k, v]) => [k, v.container_name]))).toEqual({
      'app-staging': '1001-stories-app-staging',
      'nginx-staging': '1001-stories-nginx-staging',
      'postgres-staging': '1001-stories-db-staging',
      'redis-staging': '1001-stories-redis-staging',
      'pgadmin-staging': '1001-stories-pgadmin-staging',
      'prometheus-staging': '1001-stories-prometheus-staging',
      'grafana-staging': '1001-stories-grafana-staging',
      'postgres-exporter-staging': '1001-stories-postgres-exporter-staging',
      'redis-exporter-staging': '1001-stories-redis-exporter-staging',
      'nginx-exporter-staging': '1001-stories-nginx-exporter-staging',
    });
    expect(doc.volumes.postgres_staging_data!.name).toBe('postgres_staging_data');
  });

  it('binds every published port to 127.0.0.1 and keeps Grafana off the app port', () => {
    const ports = Object.values(doc.services).flatMap((s) => s.ports ?? []);
    expect(ports.length).toBe(8);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    expect(doc.services['grafana-staging']!.ports).toEqual(['127.0.0.1:3002:3000']);
    expect(doc.services['app-staging']!.ports).toEqual(['127.0.0.1:3001:3000']);
  });

  it('puts pgAdmin under profile admin and Prometheus/Grafana under monitoring', () => {
    expect(doc.services['pgadmin-staging']!.profiles).toEqual(['admin']);
    expect(doc.services['prometheus-staging']!.profiles).toEqual(['monitoring']);
    expect(doc.services['grafana-staging']!.profiles).toEqual(['monitoring']);
    for (const core of ['app-staging', 'nginx-staging', 'postgres-staging', 'redis-staging']) expect(doc.services[core]!.profiles).toBeUndefined();
  });

  it('gives every service a healthcheck, labels and the staging network; Redis checks with its password', () => {
    expect(Object.keys(doc.services)).toHaveLength(10);
    for (const [name, service] of Object.entries(doc.services)) {
      // The official exporter images have no shell or HTTP client: Prometheus's target health is their check.
      if (!name.endsWith('-exporter-staging')) expect(service.healthcheck?.test, name).toBeDefined();
      expect(service.labels?.['com.1001stories.environment'], name).toBe('staging');
      expect(service.networks, name).toEqual(['staging']);
    }
    expect(doc.services['redis-staging']!.healthcheck!.test.join(' ')).toContain('-a "$$REDIS_PASSWORD"');
    expect(doc.networks.staging!.name).toBe('1001-stories-staging-network');
  });

  it('hardens every service: capabilities dropped, no-new-privileges, memory and CPU limits from resources.*', () => {
    const services = Object.entries(doc.services) as Array<[string, Record<string, any>]>;
    expect(services.length).toBe(10);
    for (const [name, s] of services) {
      expect(s.mem_limit, name).toMatch(/^\d+m$/);
      expect(s.cpus, name).toBeGreaterThan(0);
      expect(s.cap_drop, name).toEqual(['ALL']);
      expect(s.security_opt, name).toEqual(['no-new-privileges:true']);
    }
    expect(doc.services['postgres-staging']).toMatchObject({ mem_limit: '1024m', cpus: 1, read_only: true, cap_add: ['CHOWN', 'SETUID', 'SETGID', 'DAC_OVERRIDE', 'FOWNER'] });
    expect(doc.services['app-staging']).toMatchObject({ user: '1000:1000', mem_limit: '512m', cpus: 0.5, read_only: true });
    expect(doc.services['app-staging']).not.toHaveProperty('cap_add');
    // pgAdmin: its own uid from the start, an unprivileged port, no sudo (postfix) under no-new-privileges.
    expect(doc.services['pgadmin-staging']).toMatchObject({ user: '5050:5050', cap_add: ['NET_BIND_SERVICE'], ports: ['127.0.0.1:5051:5050'], environment: { PGADMIN_LISTEN_PORT: '5050', PGADMIN_DISABLE_POSTFIX: 'true' } });
    expect(doc.services['pgadmin-staging']!.healthcheck!.test.join(' ')).toContain('http://127.0.0.1:5050/pgadmin/misc/ping');
    const dir = tmp();
    writeFileSync(path.join(dir, 'rehearse.config.json'), JSON.stringify({ resources: { app: { memoryMb: 300, cpus: 1.5 } }, hardening: { readOnlyRootFs: false } }));
    const relaxed = parse(renderComposeFile(configIn(dir)), { merge: true }) as ComposeDoc;
    expect(relaxed.services['app-staging']).toMatchObject({ mem_limit: '300m', cpus: 1.5, read_only: false });
  });

  it('keeps the exporters and stub_status off the host: no published port', () => {
    for (const name of ['postgres-exporter-staging', 'redis-exporter-staging', 'nginx-exporter-staging']) expect(doc.services[name]!.ports, name).toBeUndefined();
    expect(doc.services['nginx-exporter-staging']!.command).toEqual(['--nginx.scrape-uri=http://nginx-staging:8082/stub_status']);
  });

  it('uses the configured images, and the operator\'s own app image when given', () => {
    const custom = parse(renderComposeFile(configIn(tmp(), { REHEARSE_APP_IMAGE: 'acme/app:1.2', REHEARSE_IMAGE_NGINX: 'nginx:1.27' }))) as ComposeDoc;
    expect(custom.services['app-staging']!.image).toBe('acme/app:1.2');
    expect(custom.services['nginx-staging']!.image).toBe('nginx:1.27');
    expect(JSON.stringify(custom.services['app-staging'])).not.toContain('demo-app');
  });
});

describe('staging-monitoring/', () => {
  it('holds prometheus.yml scraping every exporter and the app, and Grafana files whose references all resolve', async () => {
    const dir = tmp();
    const config = configIn(dir, {}, { monitoring: true });
    const { files } = await generateWorkspace(config);
    const mon = path.join(dir, 'staging-monitoring');
    const prom = parse(readFileSync(path.join(mon, 'prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }> };
    expect(prom.scrape_configs.map((j) => j.job_name)).toEqual(['prometheus', 'app', 'postgres', 'redis', 'nginx']);
    expect(prom.scrape_configs.find((j) => j.job_name === 'app')).toMatchObject({ metrics_path: '/metrics', static_configs: [{ targets: ['app-staging:3000'] }] });
    const compose = parse(readFileSync(path.join(dir, 'docker-compose.staging.yml'), 'utf8')) as { services: Record<string, { volumes?: string[] }> };
    // Every bind mount of the monitoring services names a file or folder setup wrote.
    const binds = ['prometheus-staging', 'grafana-staging', 'postgres-exporter-staging'].flatMap((s) => compose.services[s]!.volumes!).filter((v) => v.startsWith('./'));
    expect(binds.length).toBe(4);
    for (const b of binds) expect(files.some((f) => f.startsWith(path.join(dir, b.split(':')[0]!))), b).toBe(true);
    for (const job of prom.scrape_configs.slice(2)) expect(Object.keys(compose.services)).toContain(job.static_configs[0]!.targets[0]!.split(':')[0]);
    // The datasource the dashboard's panels use is the one provisioned, pointing at prometheus-staging.
    const ds = parse(readFileSync(path.join(mon, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string; url: string }> };
    expect(ds.datasources[0]!.url).toBe('http://prometheus-staging:9090');
    const provider = parse(readFileSync(path.join(mon, 'grafana/provisioning/dashboards/rehearse.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
    expect(compose.services['grafana-staging']!.volumes!.some((v) => v.endsWith(`:${provider.providers[0]!.options.path}:ro`))).toBe(true);
    const dash = JSON.parse(readFileSync(path.join(mon, 'grafana/dashboards/role-migration-rehearsal.json'), 'utf8')) as { title: string; panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }> };
    expect(dash.title).toBe('Role migration rehearsal');
    expect(dash.panels.length).toBeGreaterThan(0);
    for (const panel of dash.panels) expect(panel.datasource.uid, panel.title).toBe(ds.datasources[0]!.uid);
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join(' ');
    for (const metric of ['stories_users_by_role', 'stories_http_request_duration_seconds_bucket', 'pg_locks_count', 'pg_stat_activity_count', 'redis_memory_used_bytes']) expect(exprs).toContain(metric);
  });

  it('exports migrate\'s phases through the postgres exporter, and the dashboard annotates them', async () => {
    const dir = tmp();
    await generateWorkspace(configIn(dir, {}, { monitoring: true }));
    const mon = path.join(dir, 'staging-monitoring');
    const compose = parse(readFileSync(path.join(dir, 'docker-compose.staging.yml'), 'utf8')) as { services: Record<string, { volumes?: string[]; environment?: Record<string, string> }> };
    const exporter = compose.services['postgres-exporter-staging']!;
    const [source, target] = exporter.volumes![0]!.split(':');
    expect(exporter.environment!.PG_EXPORTER_EXTEND_QUERY_PATH).toBe(target);
    // The exporter's file format: namespace → query + columns, each a LABEL or a GAUGE.
    const queries = parse(readFileSync(path.join(dir, source!), 'utf8')) as Record<string, { query: string; metrics: Array<Record<string, { usage: string }>> }>;
    const exported = Object.entries(queries).flatMap(([ns, q]) => q.metrics.flatMap((m) => Object.entries(m).filter(([, v]) => v.usage === 'GAUGE').map(([col]) => `${ns}_${col}`)));
    expect(exported.sort()).toEqual(['rehearse_migrate_phase_ended_duration_seconds', 'rehearse_migrate_phase_ended_timestamp_seconds', 'rehearse_migrate_phase_started_timestamp_seconds']);
    const table = readFileSync(path.join(REPO, 'sql', 'staging', '004_harness_phases.sql'), 'utf8');
    for (const q of Object.values(queries)) {
      expect(q.query).toContain('FROM staging_migrations.harness_phases');
      // Every column the query reads is declared, and every declared column exists in the table or is computed.
      const declared = q.metrics.flatMap((m) => Object.keys(m));
      for (const col of declared.filter((c) => !c.endsWith('_seconds'))) expect(table, col).toMatch(new RegExp(`\\n  ${col} +`));
    }
    const dash = JSON.parse(readFileSync(path.join(mon, 'grafana/dashboards/role-migration-rehearsal.json'), 'utf8')) as { annotations: { list: Array<{ datasource: { uid: string }; expr: string; useValueForTime: boolean; titleFormat: string; tagKeys: string }> } };
    const ds = parse(readFileSync(path.join(mon, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string }> };
    const phases = dash.annotations.list.filter((a) => /rehearse_migrate_phase_\w+/.test(a.expr ?? ''));
    expect(phases.length).toBe(2);
    for (const a of phases) {
      expect(a.datasource.uid).toBe(ds.datasources[0]!.uid);
      expect(exported).toContain(a.expr.match(/rehearse_migrate_phase_\w+/)![0]);
      expect(a.useValueForTime).toBe(true);
      expect(a.expr).toMatch(/\* 1000$/);
    }
  });

  it('leaves the app out of prometheus.yml when app.metricsPath is null', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'rehearse.config.json'), JSON.stringify({ app: { metricsPath: null } }));
    const prom = parse(renderPrometheusConf(configIn(dir))) as { scrape_configs: Array<{ job_name: string }> };
    expect(prom.scrape_configs.map((j) => j.job_name)).toEqual(['prometheus', 'postgres', 'redis', 'nginx']);
  });
});

describe('nginx config', () => {
  const conf = renderNginxConf(configIn(tmp()));

  it('redirects HTTP to HTTPS on the published port and allows TLS 1.2/1.3 only', () => {
    expect(conf).toContain('return 301 https://$host:8080$request_uri;');
    expect(conf).toMatch(/ssl_protocols TLSv1\.2 TLSv1\.3;/);
    expect(conf).toContain('server_tokens off;');
    expect(conf).toContain('log_format staging');
  });

  it('declares security headers once, with always, and no location-level add_header that would drop them', () => {
    expect(conf.match(/add_header [^\n]* always;/g)).toHaveLength(6);
    const locations = conf.split(/\n\s*location /).slice(1);
    expect(locations.length).toBeGreaterThan(0);
    for (const block of locations) expect(block.split('}')[0]).not.toContain('add_header');
  });

  it('adds the pgAdmin location only with the admin profile', () => {
    expect(conf).not.toContain('pgadmin');
    const admin = renderNginxConf(configIn(tmp(), {}, { admin: true }));
    expect(admin).toContain('location /pgadmin/');
    expect(admin).toContain('proxy_pass http://pgadmin-staging:5050/pgadmin/;');
  });
});

describe('template', () => {
  it('fails on an unknown key instead of writing a blank', () => {
    expect(() => renderTemplate('a {{missing}}', {})).toThrow(/missing/);
    expect(renderTemplate('x\n{{#if on}}\nyes {{v}}\n{{/if}}\nz\n', { on: true, v: 1 })).toBe('x\nyes 1\nz\n');
    expect(renderTemplate('x\n{{#if on}}\nyes\n{{/if}}\nz\n', { on: false })).toBe('x\nz\n');
  });
});

describe('.env.staging', () => {
  it('holds the guide keys, strong secrets, and keeps them across runs', () => {
    const config = configIn(tmp());
    const env = buildEnv(config);
    for (const key of ['NODE_ENV', 'NEXTAUTH_URL', 'NEXTAUTH_SECRET', 'DATABASE_URL', 'ROLE_MIGRATION_MODE', 'ENABLE_UNIVERSAL_DASHBOARD', 'DISABLE_ROLE_SELECTION', 'DB_USER', 'DB_PASSWORD', 'DB_NAME', 'REDIS_PASSWORD']) expect(env[key], key).toBeTruthy();
    expect(env.NODE_ENV).toBe('staging');
    expect(env.DB_PASSWORD!.length).toBeGreaterThanOrEqual(32);
    expect(buildEnv(config, env)).toEqual(env);
    expect(buildEnv(config).DB_PASSWORD).not.toBe(env.DB_PASSWORD);
  });

  it('is rewritten with mode 0600 even if someone loosened it', async () => {
    const cwd = tmp();
    const config = configIn(cwd);
    await generateWorkspace(config);
    const file = path.join(cwd, '.env.staging');
    const before = parseEnvFile(readFileSync(file, 'utf8'));
    chmodSync(file, 0o644);
    await generateWorkspace(config);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(parseEnvFile(readFileSync(file, 'utf8')).DB_PASSWORD).toBe(before.DB_PASSWORD);
  });

  it('redacts secret values from text', () => {
    const env = { DB_PASSWORD: 'hunter2hunter2', NODE_ENV: 'staging' };
    expect(redact('postgres://u:hunter2hunter2@h/db staging', env)).toBe('postgres://u:***@h/db staging');
  });
});

describe('TLS certificate', () => {
  const paths = (d: string) => ({ sslDir: path.join(d, 'ssl'), certFile: path.join(d, 'ssl/staging.crt'), keyFile: path.join(d, 'ssl/staging.key') });

  it('is valid 365 days for localhost, *.localhost, 127.0.0.1 and ::1, key 0600', async () => {
    const d = tmp();
    const { created, info } = await ensureCertificate({ ...paths(d), regenerate: false });
    expect(created).toBe(true);
    expect(info.daysLeft).toBeGreaterThanOrEqual(364);
    const cert = new X509Certificate(readFileSync(paths(d).certFile));
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.subjectAltName).toContain('DNS:*.localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBeTruthy();
    expect(statSync(paths(d).keyFile).mode & 0o777).toBe(0o600);
  });

  it('is reused while valid for more than 30 days, replaced when closer to expiry or on request', async () => {
    const d = tmp();
    const first = await ensureCertificate({ ...paths(d), regenerate: false });
    const reused = await ensureCertificate({ ...paths(d), regenerate: false });
    expect(reused.created).toBe(false);
    expect(reused.info.fingerprint256).toBe(first.info.fingerprint256);
    const in340days = new Date(Date.now() + 340 * 86_400_000);
    expect((await ensureCertificate({ ...paths(d), regenerate: false, now: in340days })).created).toBe(true);
    expect((await ensureCertificate({ ...paths(d), regenerate: true })).created).toBe(true);
  });

  it('replaces a corrupt certificate', async () => {
    const d = tmp();
    await ensureCertificate({ ...paths(d), regenerate: false });
    writeFileSync(paths(d).certFile, 'not a certificate');
    expect((await ensureCertificate({ ...paths(d), regenerate: false })).created).toBe(true);
  });
});
