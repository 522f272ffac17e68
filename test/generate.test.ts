// The generated workspace: compose file shape, nginx config, env file and certificate rules.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { buildEnv, parseEnvFile, redact } from '../src/env-file.js';
import { generateWorkspace, renderComposeFile, renderNginxConf } from '../src/generate.js';
import { renderTemplate } from '../src/template.js';
import { ensureCertificate } from '../src/tls.js';

const configIn = (cwd: string, env: Record<string, string> = {}, overrides = {}) => loadConfig({ cwd, env, overrides }).config;
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'rehearse-gen-'));

interface ComposeDoc {
  name: string;
  services: Record<string, { container_name: string; profiles?: string[]; ports?: string[]; healthcheck?: { test: string[] }; labels?: Record<string, string>; networks?: string[]; image?: string }>;
  volumes: Record<string, { name: string }>;
  networks: Record<string, { name: string }>;
}

describe('compose file', () => {
  const doc = parse(renderComposeFile(configIn(tmp()))) as ComposeDoc;

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
    for (const [name, service] of Object.entries(doc.services)) {
      expect(service.healthcheck?.test, name).toBeDefined();
      expect(service.labels?.['com.1001stories.environment'], name).toBe('staging');
      expect(service.networks, name).toEqual(['staging']);
    }
    expect(doc.services['redis-staging']!.healthcheck!.test.join(' ')).toContain('-a "$$REDIS_PASSWORD"');
    expect(doc.networks.staging!.name).toBe('1001-stories-staging-network');
  });

  it('uses the configured images, and the operator\'s own app image when given', () => {
    const custom = parse(renderComposeFile(configIn(tmp(), { REHEARSE_APP_IMAGE: 'acme/app:1.2', REHEARSE_IMAGE_NGINX: 'nginx:1.27' }))) as ComposeDoc;
    expect(custom.services['app-staging']!.image).toBe('acme/app:1.2');
    expect(custom.services['nginx-staging']!.image).toBe('nginx:1.27');
    expect(JSON.stringify(custom.services['app-staging'])).not.toContain('demo-app');
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
    for (const block of locations) expect(block.split('}')[0]).not.toContain('add_header');
  });

  it('adds the pgAdmin location only with the admin profile', () => {
    expect(conf).not.toContain('pgadmin');
    expect(renderNginxConf(configIn(tmp(), {}, { admin: true }))).toContain('location /pgadmin/');
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
