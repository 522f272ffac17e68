// Configuration: defaults from the guide, file < env < flags, and errors that name key, value and what is allowed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_IMAGES, OFFICIAL_IMAGES, loadConfig } from '../src/config.js';
import { UserError } from '../src/errors.js';

const dir = (files: Record<string, string> = {}) => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'rehearse-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text);
  return d;
};

describe('loadConfig', () => {
  it('defaults to the guide: ports, project, database, official images, no optional profiles', () => {
    const { config, source } = loadConfig({ cwd: dir(), env: {} });
    expect(source).toBeUndefined();
    expect(config.ports).toEqual({ app: 3001, https: 8080, http: 8081, postgres: 5434, redis: 6380, pgadmin: 5051, prometheus: 9091, grafana: 3002 });
    expect(config.project).toBe('1001-stories');
    expect(config.database).toEqual({ name: 'staging_db', user: 'staging_user' });
    expect(config.images).toEqual(OFFICIAL_IMAGES);
    expect(config.bindAddress).toBe('127.0.0.1');
    expect(config.volumes.postgres).toBe('postgres_staging_data');
    expect(config.profiles).toEqual({ admin: false, monitoring: false });
  });

  it('reads rehearse.config.yaml, then lets the environment and flags override it', () => {
    const cwd = dir({ 'rehearse.config.yaml': 'project: acme\nports:\n  https: 9443\n  http: 9080\n' });
    const { config, source } = loadConfig({ cwd, env: { REHEARSE_PORT_HTTP: '9081' }, overrides: { monitoring: true } });
    expect(source).toBe(path.join(cwd, 'rehearse.config.yaml'));
    expect(config.project).toBe('acme');
    expect(config.ports.https).toBe(9443);
    expect(config.ports.http).toBe(9081);
    expect(config.profiles.monitoring).toBe(true);
  });

  it('switches every image to the local stand-ins with REHEARSE_IMAGES=local', () => {
    const { config } = loadConfig({ cwd: dir(), env: { REHEARSE_IMAGES: 'local' } });
    expect(config.images).toEqual(LOCAL_IMAGES);
  });

  it('names the key, the value and what is allowed for an invalid value', () => {
    const cwd = dir({ 'rehearse.config.json': JSON.stringify({ ports: { https: 70000 } }) });
    expect(() => loadConfig({ cwd, env: {} })).toThrow(UserError);
    try {
      loadConfig({ cwd, env: {} });
    } catch (error) {
      expect((error as Error).message).toMatch(/ports\.https = 70000 \(in rehearse\.config\.json\): .*65535/);
      expect((error as UserError).exitCode).toBe(2);
    }
  });

  it('says which environment variable carried a bad value', () => {
    expect(() => loadConfig({ cwd: dir(), env: { REHEARSE_PORT_REDIS: 'six' } })).toThrow(/ports\.redis = "six" \(from REHEARSE_PORT_REDIS\)/);
  });

  it('rejects unknown keys instead of ignoring a typo', () => {
    const cwd = dir({ 'rehearse.config.json': JSON.stringify({ portz: {} }) });
    expect(() => loadConfig({ cwd, env: {} })).toThrow(/portz/);
  });

  it('names an unknown key with the keys allowed at that level', () => {
    const cwd = dir({ 'rehearse.config.json': JSON.stringify({ ports: { htps: 9443 } }) });
    expect(() => loadConfig({ cwd, env: {} })).toThrow(/ports\.htps \(in rehearse\.config\.json\): unknown key; allowed here: app, https, http, postgres/);
  });

  it('explains a bad value in words and never dumps a whole object or an environment value it did not name', () => {
    const cwd = dir({ 'rehearse.config.json': JSON.stringify({ ports: 'abc', data: { strict: 'yes' } }) });
    let message = '';
    try {
      loadConfig({ cwd, env: { REHEARSE_PORT_REDIS: '7000' } });
    } catch (error) {
      message = (error as UserError).message;
    }
    expect(message).toMatch(/ports = "abc" \(in rehearse\.config\.json\): must be an object, not a string/);
    expect(message).toMatch(/data\.strict = "yes" \(in rehearse\.config\.json\): must be a boolean, not a string/);
    expect(message).not.toMatch(/7000|\{/);
    expect(() => loadConfig({ cwd: dir({ 'rehearse.config.json': JSON.stringify({ ports: { https: 'abc' } }) }), env: {} })).toThrow(/ports\.https = "abc" \(in rehearse\.config\.json\): must be a number, not a string/);
  });

  it('does not send the user to `rehearse config`, which fails on the same error', () => {
    const cwd = dir({ 'rehearse.config.json': JSON.stringify({ ports: { https: 0 } }) });
    try {
      loadConfig({ cwd, env: {} });
      expect.unreachable();
    } catch (error) {
      expect((error as UserError).message).toMatch(/ports\.https = 0 .*must be at least 1/);
      expect((error as UserError).tryThis).not.toMatch(/rehearse config/);
    }
  });

  it('rejects two services on one port', () => {
    expect(() => loadConfig({ cwd: dir(), env: { REHEARSE_PORT_APP: '8080' } })).toThrow(/ports\.https = 8080 is also used by ports\.app|ports\.app = 8080|also used/);
  });

  it('rejects an unknown REHEARSE_IMAGES mode and a malformed file', () => {
    expect(() => loadConfig({ cwd: dir(), env: { REHEARSE_IMAGES: 'remote' } })).toThrow(/REHEARSE_IMAGES="remote" is not allowed/);
    expect(() => loadConfig({ cwd: dir({ 'rehearse.config.json': '{ nope' }), env: {} })).toThrow(/not valid JSON/);
  });

  it('refuses app.image and app.build together', () => {
    const cwd = dir({ 'rehearse.config.json': JSON.stringify({ app: { image: 'x', build: './y' } }) });
    expect(() => loadConfig({ cwd, env: {} })).toThrow(/app.image or app.build, not both/);
  });
});
