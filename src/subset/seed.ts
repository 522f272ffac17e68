// Which table holds the users, and which of its columns are the id, the role and the timestamps:
// what data.seed sets, and what production's catalog says for every key it leaves unset. The data
// step records the result in its summary, so migrate and validate use the same table and columns.
import type postgres from 'postgres';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { newestReport } from '../evidence/reports.js';
import { type DbShape, type TableInfo } from './introspect.js';
import type { SeedOptions } from './planner.js';
import { sqlString, quoteIdent } from '../db/sql-text.js';

export type SeedKey = 'table' | 'idColumn' | 'roleColumn' | 'deletedAtColumn' | 'createdAtColumn';
export const SEED_KEYS: SeedKey[] = ['table', 'idColumn', 'roleColumn', 'deletedAtColumn', 'createdAtColumn'];

/** The seed as resolved, with the keys that came from the catalog rather than the config. */
export type ResolvedSeed = SeedOptions & { detected: SeedKey[] };

/** Before this release every key had a fixed default; kept for a staging loaded without a recorded seed. */
const LEGACY: Pick<SeedOptions, SeedKey> = { table: 'users', idColumn: 'id', roleColumn: 'role', deletedAtColumn: 'deletedAt', createdAtColumn: 'createdAt' };

const USER_TABLE = /^(app_)?users?$|^accounts?$/i;
const ROLE_COLUMN = /^(role|user_?role|kind|type)$/i;
const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'citext']);
const SETTING_HINT = 'Set data.seed.table (and idColumn, roleColumn, deletedAtColumn, createdAtColumn; the last two may be null) in rehearse.config.json.';

const pick = (t: TableInfo, ...names: string[]) => names.find((n) => t.columns.some((c) => c.name === n)) ?? null;

/** Role-like columns of a table that can hold the learner label: an enum with it, or text with a CHECK or a row naming it. */
async function roleColumns(tx: postgres.TransactionSql, t: TableInfo, learner: string): Promise<string[]> {
  const out: string[] = [];
  for (const c of t.columns.filter((col) => ROLE_COLUMN.test(col.name))) {
    if (c.dataType === 'USER-DEFINED') {
      const [row] = await tx.unsafe(
        `SELECT EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_enum e ON e.enumtypid = a.atttypid WHERE a.attrelid = $1::regclass AND a.attname = $2 AND e.enumlabel = $3) AS ok`,
        [t.qualified, c.name, learner],
      );
      if (row!.ok) out.push(c.name);
    } else if (TEXT_TYPES.has(c.udtName)) {
      const [row] = await tx.unsafe(
        `SELECT EXISTS (SELECT 1 FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)
                        WHERE k.conrelid = $1::regclass AND k.contype = 'c' AND a.attname = $2 AND strpos(pg_get_constraintdef(k.oid), $3) > 0)
                OR EXISTS (SELECT 1 FROM ${t.qualified} WHERE ${quoteIdent(c.name)} = $4) AS ok`,
        [t.qualified, c.name, sqlString(learner), learner],
      );
      if (row!.ok) out.push(c.name);
    }
  }
  return out;
}

/**
 * data.seed with every unset key read from the catalog: the table is `users` when it exists, else the
 * one table named like user(s), app_user(s) or account(s) with a role-like column that can hold the
 * learner label (NextAuth's `accounts` has none); the id is its one-column primary key; the
 * timestamps are deletedAt/deleted_at and createdAt/created_at, or null. None or several: a UserError.
 */
export async function resolveSeed(tx: postgres.TransactionSql, shape: DbShape, seed: Config['data']['seed']): Promise<ResolvedSeed> {
  const detected: SeedKey[] = [];
  let table = seed.table;
  let roles: string[] | undefined;
  if (!table) {
    detected.push('table');
    if (shape.tables.has('users')) table = 'users';
    else {
      const named = [...shape.tables.entries()].filter(([, t]) => USER_TABLE.test(t.name));
      const fits: Array<[string, string[]]> = [];
      for (const [key, t] of named) {
        const r = await roleColumns(tx, t, seed.learnerRole);
        if (r.length) fits.push([key, r]);
      }
      if (fits.length !== 1) {
        const seen = named.length ? named.map(([k]) => k).join(', ') : 'none';
        throw new UserError(
          fits.length
            ? `Production has ${fits.length} tables that could be the users table: ${fits.map(([k]) => k).join(', ')}.`
            : `Production has no users table rehearse can recognise (one named like users, user, app_users or accounts, with a role column that can hold '${seed.learnerRole}'; tables named so: ${seen}).`,
          { tryThis: SETTING_HINT },
        );
      }
      [table, roles] = fits[0]!;
    }
  }
  const t = shape.tables.get(table);
  // A table that does not exist is the planner's error to name (with the tables found).
  if (!t) return { ...LEGACY, ...definedKeys(seed), table, learnerRole: seed.learnerRole, minLearners: seed.minLearners, detected };
  const column = <K extends SeedKey>(key: K, find: () => SeedOptions[K]): SeedOptions[K] => {
    if (seed[key] !== undefined) return seed[key] as SeedOptions[K];
    detected.push(key);
    return find();
  };
  const idColumn = column('idColumn', () => (t.primaryKey.length === 1 ? t.primaryKey[0]! : LEGACY.idColumn));
  let roleColumn = seed.roleColumn;
  if (roleColumn === undefined) {
    detected.push('roleColumn');
    roles ??= await roleColumns(tx, t, seed.learnerRole);
    roleColumn = roles[0] ?? pick(t, 'role') ?? LEGACY.roleColumn;
  }
  const deletedAtColumn = column('deletedAtColumn', () => pick(t, 'deletedAt', 'deleted_at'));
  const createdAtColumn = column('createdAtColumn', () => pick(t, 'createdAt', 'created_at'));
  return { table, idColumn, roleColumn, deletedAtColumn, createdAtColumn, learnerRole: seed.learnerRole, minLearners: seed.minLearners, detected };
}

function definedKeys(seed: Config['data']['seed']): Partial<SeedOptions> {
  return Object.fromEntries(Object.entries(seed).filter(([, v]) => v !== undefined));
}

/**
 * The seed staging holds, for migrate and validate: data.seed's keys over what the newest data
 * summary recorded, over the fixed names used before the seed was recorded.
 */
export function stagingSeed(config: Config): SeedOptions {
  const recorded = (newestReport(config, 'test-data-summary')?.data as { seed?: Partial<SeedOptions> } | undefined)?.seed ?? {};
  const fromSummary = Object.fromEntries(SEED_KEYS.filter((k) => recorded[k] !== undefined).map((k) => [k, recorded[k]]));
  return { ...LEGACY, ...fromSummary, ...definedKeys(config.data.seed), learnerRole: config.data.seed.learnerRole, minLearners: config.data.seed.minLearners } as SeedOptions;
}
