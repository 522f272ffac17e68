// Production's schema, taken with pg_dump --schema-only. pg_dump runs in a one-off container of
// the staging PostgreSQL image (same major version as staging, nothing installed on the host),
// on the host network so it reaches production exactly as rehearse does. Read-only by design.
import { execa } from 'execa';
import type { Config } from '../config.js';
import { CancelledError, SubprocessError } from '../errors.js';
import { describeUrl, parseDatabaseUrl } from '../production.js';

export interface SchemaDump {
  sql: string;
  ms: number;
}

/** Lines that psql understands but the server does not (pg_dump ≥ 15.14 emits \restrict guards). */
const PSQL_ONLY = /^\\(restrict|unrestrict)\b.*$/gm;

export async function dumpProductionSchema(config: Config, productionUrl: string, schemas: string[], signal?: AbortSignal): Promise<SchemaDump> {
  const started = performance.now();
  const url = parseDatabaseUrl(productionUrl);
  const env = {
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username),
    PGPASSWORD: decodeURIComponent(url.password),
    PGDATABASE: decodeURIComponent(url.pathname.slice(1)),
    // pg_dump only reads; this makes the server enforce it too.
    PGOPTIONS: '-c default_transaction_read_only=on',
  };
  // Variables are passed by name (-e NAME), so their values never appear in an argv.
  const argv = ['run', '--rm', '--network', 'host', ...Object.keys(env).flatMap((k) => ['-e', k]), config.images.postgres, 'pg_dump', '--schema-only', '--no-owner', '--no-privileges', '--no-comments', ...schemas.flatMap((s) => ['--schema', s])];
  try {
    const { stdout } = await execa('docker', argv, { env, cancelSignal: signal, maxBuffer: 256 * 1024 * 1024 });
    // Also keep pg_dump's empty search_path local to the load transaction, not the whole session.
    const sql = stdout.replace(PSQL_ONLY, '').replace(/set_config\('search_path', '', false\)/g, "set_config('search_path', '', true)");
    return { sql, ms: Math.round(performance.now() - started) };
  } catch (error) {
    if (signal?.aborted) throw new CancelledError('Nothing was written to staging.');
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message).replaceAll(env.PGPASSWORD || '\u0000', '***');
    throw new SubprocessError(`pg_dump --schema-only of production (${describeUrl(productionUrl)}) failed; nothing was written to staging.`, `docker ${argv.join(' ')}`, stderr, {
      tryThis: /server version|version mismatch/i.test(stderr)
        ? 'Production runs a newer PostgreSQL major than the staging image; set images.postgres to the same major.'
        : 'Check PRODUCTION_DATABASE_URL (host, port, credentials) and that this machine can reach it.',
    });
  }
}
