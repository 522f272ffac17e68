// Test helpers for the demo database: an isolated workspace, a throwaway PostgreSQL container, and a
// decoder for COPY text so generated rows can be compared with what the server stored.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import postgres from 'postgres';
import { loadConfig, type Config } from '../../src/config.js';
import { demoNames, demoPaths } from '../../src/demo/demo-db.js';

/** A workspace whose config names project `rehearse-test-<name>`, with the stand-in images. */
export function demoTestConfig(name: string): { workDir: string; config: Config } {
  const workDir = mkdtempSync(path.join(os.tmpdir(), `rehearse-${name}-`));
  writeFileSync(path.join(workDir, 'rehearse.config.json'), JSON.stringify({ project: `rehearse-test-${name}` }, null, 2));
  const { config } = loadConfig({ cwd: workDir, env: { REHEARSE_IMAGES: 'local' } });
  return { workDir, config };
}

/** Best-effort teardown of the demo database's container, network and volume. */
export async function removeDemo(config: Config): Promise<void> {
  const names = demoNames(config);
  const { composeFile } = demoPaths(config);
  await execa('docker', ['compose', '-p', names.composeProject, '-f', composeFile, 'down', '--volumes', '--remove-orphans', '-t', '2'], { reject: false, cwd: config.workDir });
  await execa('docker', ['rm', '-f', '-v', names.container], { reject: false });
  await execa('docker', ['volume', 'rm', '-f', names.volume], { reject: false });
  await execa('docker', ['network', 'rm', names.network], { reject: false });
}

export interface ScratchPostgres {
  sql: postgres.Sql;
  stop: () => Promise<void>;
}

/** A bare PostgreSQL container on 127.0.0.1:<port>, ready to accept connections (within readyMs). */
export async function scratchPostgres(name: string, port: number, image: string, readyMs = 90_000): Promise<ScratchPostgres> {
  const container = `rehearse-test-${name}`;
  await execa('docker', ['rm', '-f', '-v', container], { reject: false });
  await execa('docker', ['run', '-d', '--name', container, '--label', 'dev.rehearse.managed=true', '-e', 'POSTGRES_USER=scratch', '-e', 'POSTGRES_PASSWORD=scratch-pw', '-e', 'POSTGRES_DB=scratch', '-p', `127.0.0.1:${port}:5432`, image]);
  const sql = postgres({ host: '127.0.0.1', port, username: 'scratch', password: 'scratch-pw', database: 'scratch', max: 1, onnotice: () => undefined, connect_timeout: 5 });
  const until = Date.now() + readyMs;
  for (;;) {
    try {
      await sql`SELECT 1`;
      break;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return {
    sql,
    stop: async () => {
      await sql.end({ timeout: 2 });
      await execa('docker', ['rm', '-f', '-v', container], { reject: false });
    },
  };
}

/** One COPY text field back to its value (null for \N). */
export function decodeCopyField(field: string): string | null {
  if (field === '\\N') return null;
  return field.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c));
}

/** COPY text (whole rows) to arrays of decoded fields. */
export function decodeCopyRows(text: string): Array<Array<string | null>> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t').map(decodeCopyField));
}

/** A one-dimensional PostgreSQL text[] literal to its elements (a reference decoder for the tests). */
export function parseArrayLiteral(literal: string): Array<string | null> {
  if (!literal.startsWith('{') || !literal.endsWith('}')) throw new Error(`not an array literal: ${literal}`);
  const body = literal.slice(1, -1);
  const out: Array<string | null> = [];
  if (body === '') return out;
  let k = 0;
  while (k <= body.length) {
    if (body[k] === '"') {
      let value = '';
      k++;
      while (body[k] !== '"') {
        if (body[k] === '\\') k++;
        value += body[k];
        k++;
      }
      k++; // closing quote
      out.push(value);
    } else {
      let end = body.indexOf(',', k);
      if (end < 0) end = body.length;
      const raw = body.slice(k, end).trim();
      out.push(raw.toLowerCase() === 'null' ? null : raw);
      k = end;
    }
    k++; // the comma
  }
  return out;
}
