// A "production" PostgreSQL loaded from a fixture directory (schema.sql, then seed.sql if present),
// for running rehearse against schemas nobody on this project designed.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import postgres from 'postgres';
import { loadConfig } from '../../src/config.js';
import { scratchPostgres } from './demo.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

export interface FixtureProduction {
  /** postgres://…@127.0.0.1:<port>/production */
  url: string;
  sql: postgres.Sql;
  container: string;
  stop: () => Promise<void>;
}

const DB = 'production';

/** Runs one SQL file through psql inside the container; ON_ERROR_STOP so a broken fixture fails loudly. */
async function psqlFile(container: string, file: string): Promise<void> {
  await execa('docker', ['exec', '-i', container, 'psql', '-U', 'scratch', '-d', DB, '-q', '-v', 'ON_ERROR_STOP=1'], { input: readFileSync(file) });
}

/**
 * A bare PostgreSQL container (`rehearse-test-<name>`, image from the config with REHEARSE_IMAGES=local)
 * on 127.0.0.1:<port>, with a UTF8 database `production` holding the fixture. The stand-in image
 * initialises SQL_ASCII like its C locale; the official image and real servers use UTF8, so the
 * database is created with it explicitly.
 */
export async function startFixtureProduction(name: string, port: number, fixtureDir: string): Promise<FixtureProduction> {
  const dir = path.isAbsolute(fixtureDir) ? fixtureDir : path.join(FIXTURES, fixtureDir);
  const image = loadConfig({ cwd: os.tmpdir(), env: { REHEARSE_IMAGES: 'local' } }).config.images.postgres;
  // The stand-in image's first start (initdb) can take minutes on a busy machine.
  const scratch = await scratchPostgres(name, port, image, 300_000);
  const container = `rehearse-test-${name}`;
  try {
    await scratch.sql.unsafe(`CREATE DATABASE ${DB} ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0`);
    await psqlFile(container, path.join(dir, 'schema.sql'));
    if (existsSync(path.join(dir, 'seed.sql'))) await psqlFile(container, path.join(dir, 'seed.sql'));
    await execa('docker', ['exec', container, 'psql', '-U', 'scratch', '-d', DB, '-q', '-c', 'ANALYZE']);
  } catch (error) {
    await scratch.stop();
    throw error;
  }
  await scratch.sql.end({ timeout: 2 });
  const url = `postgres://scratch:scratch-pw@127.0.0.1:${port}/${DB}`;
  const sql = postgres(url, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  return {
    url,
    sql,
    container,
    stop: async () => {
      await sql.end({ timeout: 2 });
      await execa('docker', ['rm', '-f', '-v', container], { reject: false });
    },
  };
}
