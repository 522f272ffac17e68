// What a compose file would act on, compared with the current project before `down` removes anything.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeIdentity, identityMismatch } from '../src/stack/compose-identity.js';
import { loadConfig } from '../src/config.js';
import { renderDemoComposeFile } from '../src/demo/demo-db.js';
import { renderComposeFile } from '../src/stack/generate.js';

const configFor = (project: string) => loadConfig({ cwd: mkdtempSync(path.join(os.tmpdir(), 'rehearse-ft-ident-')), env: { REHEARSE_PROJECT: project } }).config;

describe('compose identity', () => {
  it('reads the project, container, volume and network names of the rendered files', () => {
    const staging = composeIdentity(renderComposeFile(configFor('ft-a')));
    expect(staging.project).toBe('ft-a-staging');
    expect(staging.containers).toContain('ft-a-db-staging');
    expect(staging.volumes).toContain('postgres_staging_data');
    expect(staging.networks).toEqual(['ft-a-staging-network']);
    expect(composeIdentity(renderDemoComposeFile(configFor('ft-a')))).toEqual({ project: 'ft-a-demo', containers: ['ft-a-db-demo'], volumes: ['ft-a_postgres_demo_data'], networks: ['ft-a-demo-network'] });
  });

  it('names every way another project\'s file differs; a missing file or the same project is no mismatch', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-ft-ident-'));
    const file = path.join(dir, 'docker-compose.demo.yml');
    const mine = composeIdentity(renderDemoComposeFile(configFor('ft-b')));
    expect(identityMismatch(file, mine)).toEqual([]);
    writeFileSync(file, renderDemoComposeFile(configFor('ft-b')));
    expect(identityMismatch(file, mine)).toEqual([]);
    writeFileSync(file, renderDemoComposeFile(configFor('ft-a')));
    expect(identityMismatch(file, mine)).toEqual(['its project is "ft-a-demo", not "ft-b-demo"', 'it names containers ft-a-db-demo', 'it names volumes ft-a_postgres_demo_data', 'it names networks ft-a-demo-network']);
    writeFileSync(file, 'name: [unclosed');
    expect(identityMismatch(file, mine)[0]).toMatch(/^it is not valid YAML/);
  });
});
