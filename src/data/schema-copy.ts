// Production's schema, taken with pg_dump --schema-only. pg_dump runs in a one-off container of
// the staging PostgreSQL image (same major version as staging, nothing installed on the host),
// on the host network so it reaches production exactly as rehearse does. Read-only by design.
// A dump of chosen schemas leaves out what lives outside them or in the cluster (extensions, roles
// that policies name, positions of sequences no column owns): those are read from the catalog.
import { execa } from 'execa';
import type postgres from 'postgres';
import type { Config } from '../config.js';
import { CancelledError, SubprocessError, UserError } from '../errors.js';
import { describeUrl, parseDatabaseUrl, type ReadOnlyTx } from '../db/production.js';
import { quoteIdent } from '../db/sql-text.js';

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
  const argv = ['run', '--rm', '--network', 'host', ...Object.keys(env).flatMap((k) => ['-e', k]), config.images.postgres, 'pg_dump', '--schema-only', '--no-owner', '--no-privileges', ...schemas.flatMap((s) => ['--schema', s])];
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

/** Takes out the dump's CREATE SCHEMA of the schemas the load makes itself (before the extensions). */
export function prepareSchemaSql(sql: string, schemas: string[]): string {
  const own = new Set(schemas.flatMap((s) => [s, quoteIdent(s)]));
  return sql.replace(/^CREATE SCHEMA (.+);$/gm, (line, name: string) => (own.has(name) ? `-- ${line} (made by rehearse)` : line));
}

export interface ProductionSchemaFacts {
  extensions: Array<{ name: string; schema: string; version: string }>;
  /** Roles named by row-level security policies. */
  roles: string[];
  /** Sequences of the app schemas with production's position (null: never used, or not readable). */
  sequences: Array<{ seq: string; lastValue: string | null }>;
  /** Materialized views production has not populated (they stay unpopulated in staging too). */
  unpopulatedViews: string[];
  database: DatabaseLocale;
}

export interface DatabaseLocale {
  encoding: string;
  collate: string;
  ctype: string;
}

const localeOf = async (sql: postgres.Sql | postgres.TransactionSql): Promise<DatabaseLocale> =>
  ((await sql`SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype FROM pg_database WHERE datname = current_database()`) as unknown as [DatabaseLocale])[0];

export async function readProductionFacts(tx: ReadOnlyTx, schemas: string[]): Promise<ProductionSchemaFacts> {
  const extensions = (await tx`
    SELECT e.extname AS name, n.nspname AS schema, e.extversion AS version FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname <> 'plpgsql' ORDER BY e.oid`) as unknown as ProductionSchemaFacts['extensions'];
  const roles = (await tx`
    SELECT DISTINCT r.rolname AS name FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_roles r ON r.oid = ANY(p.polroles) WHERE n.nspname = ANY(${schemas}) ORDER BY 1`) as unknown as Array<{ name: string }>;
  const sequences = (await tx`
    SELECT format('%I.%I', schemaname, sequencename) AS seq, last_value::text AS "lastValue" FROM pg_sequences
    WHERE schemaname = ANY(${schemas}) AND has_sequence_privilege(format('%I.%I', schemaname, sequencename), 'SELECT')`) as unknown as ProductionSchemaFacts['sequences'];
  const unpopulated = (await tx`
    SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'm' AND NOT c.relispopulated AND n.nspname = ANY(${schemas})`) as unknown as Array<{ name: string }>;
  return { extensions, roles: roles.map((r) => r.name), sequences, unpopulatedViews: unpopulated.map((v) => v.name), database: await localeOf(tx) };
}

/**
 * Before anything is written: staging can hold what production has. Every extension must be
 * installable in staging's image, and the database encodings must agree (a SQL_ASCII staging
 * would take any bytes and compare them wrongly; another encoding would refuse or change text).
 * Returns warnings for differences that change no data (collation, ctype, extension versions).
 */
export async function checkStagingCanHold(staging: postgres.Sql, facts: ProductionSchemaFacts, image: string): Promise<string[]> {
  const available = new Map(
    ((await staging`SELECT name, default_version AS version FROM pg_available_extensions`) as unknown as Array<{ name: string; version: string }>).map((e) => [e.name, e.version]),
  );
  const missing = facts.extensions.filter((e) => !available.has(e.name));
  if (missing.length) {
    throw new UserError(`Production uses extension(s) that the staging image (${image}) does not have: ${missing.map((e) => `${e.name} ${e.version}`).join(', ')}. Nothing was written.`, {
      tryThis: `Set images.postgres (REHEARSE_IMAGE_POSTGRES) to a PostgreSQL image of the same major that ships ${missing.map((e) => e.name).join(', ')} (e.g. postgis/postgis for postgis), then \`rehearse setup\` and \`rehearse data\` again.`,
    });
  }
  const warnings = facts.extensions.filter((e) => available.get(e.name) !== e.version).map((e) => `extension ${e.name}: production has ${e.version}, staging installs ${available.get(e.name)}`);
  const here = await localeOf(staging);
  const p = facts.database;
  if (here.encoding !== p.encoding) {
    if (p.encoding !== 'SQL_ASCII') {
      throw new UserError(`Staging's database uses encoding ${here.encoding} and production's ${p.encoding}: text would be refused or changed. Nothing was written.`, {
        tryThis: 'Staging\'s database was made by an older setup: `rehearse down --volumes` (it backs staging up first), then `rehearse setup` makes it UTF8 (C.UTF-8), then `rehearse data` again.',
      });
    }
    warnings.push(`production's database is SQL_ASCII (bytes without an encoding); staging is ${here.encoding} and refuses bytes that are not valid ${here.encoding}`);
  }
  if (here.collate !== p.collate || here.ctype !== p.ctype) warnings.push(`staging sorts text by ${here.collate}/${here.ctype}, production by ${p.collate}/${p.ctype}: ORDER BY on text may differ`);
  return warnings;
}

/**
 * The catalog of the app schemas as sorted lines per kind of object, comparable between two
 * databases: production against staging (the schema copy carried everything), or staging before
 * and after a failed load (it is as it was). Names only, never data.
 */
export async function catalogSummary(sql: postgres.Sql | postgres.TransactionSql, schemas: string[]): Promise<Record<string, string[]>> {
  const q = async (text: string) => ((await sql.unsafe(text, text.includes('$1') ? [schemas] : [])) as unknown as Array<{ line: string }>).map((r) => r.line).sort();
  // Objects that belong to an extension are the extension's, not the app's.
  const notExt = (cls: string, oid: string) => `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${cls}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;
  return {
    schemas: await q(`SELECT nspname AS line FROM pg_namespace WHERE nspname = ANY($1::text[])`),
    extensions: await q(`SELECT e.extname || ' in ' || n.nspname AS line FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'`),
    relations: await q(`SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text || CASE WHEN c.relrowsecurity THEN ' rls' ELSE '' END || CASE WHEN c.relforcerowsecurity THEN ' force' ELSE '' END AS line
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r','p','v','m','S','f','c') AND ${notExt('pg_class', 'c.oid')}`),
    columns: await q(`SELECT n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
        || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '') || CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END
        || CASE a.attgenerated WHEN 's' THEN ' generated' ELSE '' END || coalesce(' collate ' || co.collname, '') AS line
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid)
      WHERE n.nspname = ANY($1::text[]) AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r','p','v','m','f','c') AND ${notExt('pg_class', 'c.oid')}`),
    constraints: await q(`SELECT n.nspname || '.' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) AS line
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[])`),
    indexes: await q(`SELECT pg_get_indexdef(i.indexrelid) AS line FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[])`),
    types: await q(`SELECT n.nspname || '.' || t.typname || ' ' || t.typtype::text || coalesce(' ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
        || CASE WHEN t.typtype = 'd' THEN ' over ' || format_type(t.typbasetype, t.typtypmod) || coalesce(' default ' || t.typdefault, '')
          || coalesce(' ' || (SELECT string_agg(pg_get_constraintdef(k.oid), ' ' ORDER BY k.conname) FROM pg_constraint k WHERE k.contypid = t.oid), '') ELSE '' END AS line
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = ANY($1::text[]) AND t.typtype IN ('e','d','r','m','c') AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') AND ${notExt('pg_type', 't.oid')}`),
    views: await q(`SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text || CASE WHEN c.relkind = 'm' AND c.relispopulated THEN ' populated' ELSE '' END || ': ' || pg_get_viewdef(c.oid) AS line
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('v','m') AND ${notExt('pg_class', 'c.oid')}`),
    functions: await q(`SELECT p.oid::regprocedure::text || ' ' || md5(pg_get_functiondef(p.oid)) AS line FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ANY($1::text[]) AND p.prokind IN ('f','p','w') AND ${notExt('pg_proc', 'p.oid')}`),
    triggers: await q(`SELECT pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text AS line FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND NOT t.tgisinternal`),
    policies: await q(`SELECT schemaname || '.' || tablename || ' ' || policyname || ' ' || permissive || ' ' || cmd || ' ' || array_to_string(roles, ',') || coalesce(' using ' || qual, '') || coalesce(' check ' || with_check, '') AS line
      FROM pg_policies WHERE schemaname = ANY($1::text[])`),
    partitions: await q(`SELECT n.nspname || '.' || c.relname || ' ' || coalesce(pg_get_partkeydef(c.oid), '') || coalesce(' of ' || pn.nspname || '.' || pc.relname || ' ' || pg_get_expr(c.relpartbound, c.oid), '') AS line
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition
      LEFT JOIN pg_class pc ON pc.oid = i.inhparent LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') AND (c.relkind = 'p' OR c.relispartition)`),
    collations: await q(`SELECT n.nspname || '.' || c.collname || ' ' || c.collprovider::text || ' ' || coalesce(c.collcollate, '') || ' ' || coalesce(to_jsonb(c)->>'colliculocale', to_jsonb(c)->>'colllocale', '') AS line
      FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE n.nspname = ANY($1::text[]) AND ${notExt('pg_collation', 'c.oid')}`),
    comments: await q(`SELECT o.type || ' ' || o.identity || ': ' || d.description AS line FROM pg_description d, LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
      WHERE (o.schema = ANY($1::text[]) OR (o.type = 'schema' AND o.identity = ANY($1::text[]))) AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = d.classoid AND x.objid = d.objoid AND x.deptype = 'e')`),
  };
}
