// A migration is a folder: up.sql, down.sql, verify.sql and migration.json (what it targets, which
// rows it affects, which columns it may change). This module finds one by name or path and reads it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { assetPath } from '../paths.js';
import { formatFindings, lintSql } from './sql-lint.js';
import { splitSql } from './sql-split.js';

export const MIGRATIONS_DIR = assetPath('sql', 'migrations');

const identifier = z.string().min(1).max(63);

export const migrationMetaSchema = z
  .object({
    description: z.string().min(1),
    target: z
      .object({
        schema: identifier.default('public'),
        table: identifier,
        idColumn: identifier.default('id'),
      })
      .strict(),
    /** The one column whose value the migration moves from `from` to `to` (role, status…). */
    change: z.object({ column: identifier, from: z.string().min(1), to: z.string().min(1) }).strict(),
    /** SQL boolean expression over the target table's columns: the rows the migration is for. */
    affectedRows: z.string().min(1),
    /** Nullable timestamp column that marks a row soft-deleted; null when the table has none. */
    softDeleteColumn: identifier.nullable().default(null),
    /** Every column of the target table the migration may write; all others must stay identical. */
    mayChange: z.array(identifier).min(1),
    /** Columns it writes when the target table has them (e.g. tokenVersion, missing from newer schemas). */
    mayChangeIfPresent: z.array(identifier).default([]),
    /** Other tables whose rows it may delete and restore from the log, when `when` holds (see adapt.ts). */
    alsoChanges: z
      .array(z.object({ table: identifier, userColumn: identifier, logKey: z.string().min(1), when: z.string().min(1).optional(), why: z.string().min(1) }).strict())
      .default([]),
    /** Where up.sql records each affected row (batch_id, user_id, rollback_data, migration_status). */
    log: z.object({ schema: identifier, table: identifier }).strict(),
    /** The app's standard queries, EXPLAIN ANALYZEd against the threshold and run by the workload. */
    standardQueries: z
      .array(
        z
          .object({
            name: z.string().min(1),
            /** A catalog condition (see adapt.ts); the query is skipped, with the reason, when it does not hold. */
            when: z.string().min(1).optional(),
            sql: z.string().min(1),
            /** "affectedId": the id of a row the migration changes; "otherId": one it does not. */
            params: z.array(z.enum(['affectedId', 'otherId'])).default([]),
          })
          .strict(),
      )
      .default([]),
    /** Statements the migration declares it needs that rehearse refuses otherwise (sql-lint.ts): "DROP ROLE", "TRUNCATE", … */
    allow: z.array(z.string().min(1)).default([]),
  })
  .strict();

export type MigrationMeta = z.output<typeof migrationMetaSchema>;

export interface MigrationFolder {
  name: string;
  dir: string;
  meta: MigrationMeta;
  /** up.sql: all segments but the last run and commit on their own (e.g. ALTER TYPE … ADD VALUE); the last is the batch body. */
  up: { text: string; prelude: string[][]; body: string[] };
  down: { text: string; body: string[] };
  verify: { text: string; statements: string[] };
  /** Set when the folder is neither built in nor inside the work folder: said on screen and in the report. */
  outsideProject: string | undefined;
}

/** Built in (the package's sql/migrations) or inside the work folder; anything else is named. */
function outsideProject(dir: string, workDir: string): string | undefined {
  const inside = (root: string) => {
    const rel = path.relative(path.resolve(root), dir);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  return inside(MIGRATIONS_DIR) || inside(workDir) ? undefined : `the migration folder ${dir} is outside the work folder ${workDir} and the built-in migrations`;
}

/** `name` is a folder under sql/migrations/, or a path to a migration folder. */
export function resolveMigrationDir(name: string, cwd = process.cwd()): string {
  const asPath = path.resolve(cwd, name);
  if ((name.includes('/') || name.startsWith('.')) && existsSync(asPath)) return asPath;
  const builtIn = path.join(MIGRATIONS_DIR, name);
  if (existsSync(builtIn)) return builtIn;
  if (existsSync(asPath) && statSync(asPath).isDirectory()) return asPath;
  throw new UserError(`There is no migration "${name}".`, {
    tryThis: `Use --migration learner-to-customer (built in), or --migration ./path/to/folder with up.sql, down.sql, verify.sql and migration.json.`,
  });
}

function readPart(dir: string, file: string): string {
  const full = path.join(dir, file);
  if (!existsSync(full)) throw new UserError(`The migration folder ${dir} has no ${file}.`, { tryThis: 'A migration folder holds up.sql, down.sql, verify.sql and migration.json.' });
  return readFileSync(full, 'utf8');
}

/** Reads, validates and lints a migration folder; `workDir` decides what counts as outside the project. */
export function loadMigration(name: string, cwd = process.cwd(), workDir = cwd): MigrationFolder {
  const dir = resolveMigrationDir(name, cwd);
  let raw: unknown;
  try {
    raw = JSON.parse(readPart(dir, 'migration.json'));
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${path.join(dir, 'migration.json')} is not valid JSON: ${(error as Error).message}`, { tryThis: 'Fix the syntax in migration.json.' });
  }
  const parsed = migrationMetaSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new UserError(`${path.join(dir, 'migration.json')} is not a valid migration description:\n  ${lines.join('\n  ')}`, {
      tryThis: 'Compare it with sql/migrations/learner-to-customer/migration.json.',
    });
  }
  const meta = parsed.data;
  if (!meta.mayChange.includes(meta.change.column)) {
    throw new UserError(`migration.json: mayChange must include the changed column "${meta.change.column}".`, { tryThis: `Add "${meta.change.column}" to mayChange.` });
  }
  const upText = readPart(dir, 'up.sql');
  const downText = readPart(dir, 'down.sql');
  const verifyText = readPart(dir, 'verify.sql');
  const findings = [
    ...lintSql(path.join(dir, 'up.sql'), upText, { allow: meta.allow }),
    ...lintSql(path.join(dir, 'down.sql'), downText, { allow: meta.allow }),
    ...lintSql(path.join(dir, 'verify.sql'), verifyText, { allow: meta.allow }),
  ];
  if (findings.length) {
    const kinds = new Set(findings.map((f) => f.kind));
    throw new UserError(`The migration ${path.basename(dir)} was refused before anything ran: ${findings.length} statement(s) would break the rehearsal's rollback guarantee or reach beyond the app's data. Nothing was changed.`, {
      details: formatFindings(findings),
      tryThis: kinds.has('transaction-control')
        ? 'Remove BEGIN/COMMIT/ROLLBACK from the SQL files: rehearse runs them in its own transactions; split committed steps with a `-- @rehearse:commit` line.'
        : kinds.has('not-transactional')
          ? 'Run the statements that cannot run in a transaction by hand, outside the migration.'
          : `Declare what the migration really needs in ${path.join(dir, 'migration.json')} ("allow": [...]), or remove it.`,
    });
  }
  const upSegments = splitSql(upText).segments;
  const body = upSegments[upSegments.length - 1]!;
  if (!body.length) throw new UserError(`${path.join(dir, 'up.sql')} has no statements after its last -- @rehearse:commit marker.`, { tryThis: 'The statements after the last marker are the migration itself.' });
  const downSegments = splitSql(downText).segments;
  if (downSegments.length !== 1 || !downSegments[0]!.length) {
    throw new UserError(`${path.join(dir, 'down.sql')} must be one transaction's statements (no @rehearse:commit marker).`, { tryThis: 'down.sql restores from the log in one transaction per batch.' });
  }
  const verifySegments = splitSql(verifyText).segments;
  return {
    name: path.basename(dir),
    dir,
    meta,
    up: { text: upText, prelude: upSegments.slice(0, -1), body },
    down: { text: downText, body: downSegments[0]! },
    verify: { text: verifyText, statements: verifySegments.flat() },
    outsideProject: outsideProject(dir, workDir),
  };
}
