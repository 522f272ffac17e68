// The subset planner: picks seed users (every role, enough active learners, recent first) and
// closes the selection over the foreign-key graph: rows that reference chosen rows (capped per
// parent) and every row that chosen rows reference, so every foreign key in staging is satisfied.
// Runs inside the production snapshot transaction; reads only.
import { isDeepStrictEqual } from 'node:util';
import type postgres from 'postgres';
import { UserError } from '../errors.js';
import { type DbShape, type ForeignKey, type TableInfo, loadOrder } from './introspect.js';
import { quoteIdent } from '../db/sql-text.js';

export interface SeedOptions {
  table: string;
  idColumn: string;
  roleColumn: string;
  deletedAtColumn: string | null;
  createdAtColumn: string | null;
  learnerRole: string;
  minLearners: number;
}

export interface PlanOptions {
  maxUsers: number;
  seed: SeedOptions;
  /** Max rows per parent row when following a reference downward, per child table. */
  caps: Record<string, number>;
  defaultCap: number;
  /** How many reference hops to follow downward from the seed users. */
  maxDepth: number;
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

/** Row values kept per selected row: the key columns and every column used by a reference. */
type RowValues = Record<string, string | null>;

export interface TablePlan {
  table: string;
  rows: number;
  estimatedBytes: number;
  /** Why rows are here: 'seed', 'references <parent> (<fk>)', 'referenced by <child> (<fk>)'. */
  reasons: Record<string, number>;
}

export interface SubsetPlan {
  seedTable: string;
  seedUsers: Array<{ id: string; role: string; deleted: boolean }>;
  usersByRole: Record<string, number>;
  pulledInUsers: { count: number; byRole: Record<string, number> };
  tables: TablePlan[];
  totalRows: number;
  estimatedBytes: number;
  loadOrder: string[];
  warnings: string[];
  /** table → the keys of its selected rows (the primary key, or ctid for tables without one) → whether the row was followed downward. */
  selection: Map<string, Map<string, boolean>>;
}

/**
 * A tuple of key values as one Map/Set key. No in-band separator (a value may hold any character):
 * one value is its own key, several are a JSON array. `keyTuple` reverses it.
 */
const tupleKey = (values: Array<string | null>): string => (values.length === 1 && values[0] !== null ? values[0]! : JSON.stringify(values));
const keyTuple = (key: string, width: number): Array<string | null> => (width === 1 ? [key] : (JSON.parse(key) as Array<string | null>));
/** Keys per query: bound as array parameters, so a batch costs no SQL text to parse and plans as one join. */
const BATCH = 50_000;
/** Rows one downward query may return (parents × cap), so a result never holds a whole table. */
const DOWN_ROWS_PER_QUERY = 200_000;

/** The SQL expression that identifies a row of `t` within one snapshot. */
export const rowKeyColumns = (t: TableInfo) => (t.primaryKey.length ? t.primaryKey : ['ctid']);
const colExpr = (c: string) => (c === 'ctid' ? 'ctid' : quoteIdent(c));
const typeOf = (t: TableInfo, c: string) => (c === 'ctid' ? 'tid' : t.columns.find((x) => x.name === c)!.sqlType);

/** A WHERE clause with its parameters: one text array per key column ($1, $2…), whatever the number of keys. */
export interface KeyMatch {
  where: string;
  params: string[][];
}

/** Rows whose `columns` equal one of the tuples: `= ANY($1)` for one column, a join on unnest($1, $2…) for several. */
export function tupleMatch(t: TableInfo, columns: string[], tuples: Array<Array<string | null>>): KeyMatch {
  const params = columns.map((_, i) => tuples.map((v) => v[i]!));
  const array = (c: string, i: number) => `$${i + 1}::text[]::${typeOf(t, c)}[]`;
  if (columns.length === 1) return { where: `${colExpr(columns[0]!)} = ANY(${array(columns[0]!, 0)})`, params };
  return { where: `(${columns.map(colExpr).join(', ')}) IN (SELECT * FROM unnest(${columns.map(array).join(', ')}))`, params };
}

export async function planSubset(tx: postgres.TransactionSql, shape: DbShape, opts: PlanOptions): Promise<SubsetPlan> {
  const seedTable = shape.tables.get(opts.seed.table);
  if (!seedTable) throw new UserError(`Production has no table "${opts.seed.table}".`, { tryThis: `Point data.seed.table at the users table (tables found: ${[...shape.tables.keys()].slice(0, 12).join(', ')}).` });
  // Every missing column at once, each with the config key that names it.
  const keys: Array<[string, string | null]> = [['idColumn', opts.seed.idColumn], ['roleColumn', opts.seed.roleColumn], ['deletedAtColumn', opts.seed.deletedAtColumn], ['createdAtColumn', opts.seed.createdAtColumn]];
  const missing = keys.filter(([, col]) => col && !seedTable.columns.some((c) => c.name === col));
  if (missing.length) {
    throw new UserError(`Production table "${opts.seed.table}" lacks ${missing.map(([key, col]) => `"${col}" (data.seed.${key})`).join(', ')}.`, {
      tryThis: `Set those data.seed.* keys to the real column names in rehearse.config.json (deletedAtColumn and createdAtColumn may be null). Columns of "${opts.seed.table}": ${seedTable.columns.map((c) => c.name).join(', ')}.`,
    });
  }

  // Only row keys stay for the whole run; a row's values live in the work queues until followed.
  const selection = new Map<string, Map<string, boolean>>([...shape.tables.keys()].map((k) => [k, new Map()]));
  const reasons = new Map<string, Record<string, number>>([...shape.tables.keys()].map((k) => [k, {}]));
  const warnings: string[] = [];
  // Columns worth remembering per table: its row key plus every column a reference uses.
  const kept = new Map<string, Set<string>>([...shape.tables.entries()].map(([k, t]) => [k, new Set(rowKeyColumns(t))]));
  for (const fk of shape.foreignKeys) {
    fk.childColumns.forEach((c) => kept.get(fk.child)?.add(c));
    fk.parentColumns.forEach((c) => kept.get(fk.parent)?.add(c));
  }

  const fetchRows = async (table: string, { where, params }: KeyMatch, extra: { partitionBy?: string[]; cap?: number } = {}) => {
    opts.signal?.throwIfAborted();
    const t = shape.tables.get(table)!;
    const cols = [...kept.get(table)!];
    const select = cols.map((c) => `${colExpr(c)}::text AS ${quoteIdent(c)}`).join(', ');
    const orderBy = rowKeyColumns(t).map(colExpr).join(', ');
    const query = extra.partitionBy
      ? `SELECT * FROM (SELECT ${select}, row_number() OVER (PARTITION BY ${extra.partitionBy.map(colExpr).join(', ')} ORDER BY ${orderBy}) AS "__rn" FROM ${t.qualified} WHERE ${where}) s WHERE "__rn" <= ${extra.cap}`
      : `SELECT ${select} FROM ${t.qualified} WHERE ${where}`;
    return (await tx.unsafe(query, params)) as unknown as RowValues[];
  };
  const keyOf = (table: string, row: RowValues) => tupleKey(rowKeyColumns(shape.tables.get(table)!).map((c) => row[c] ?? null));

  // Ids of every selected user, to count the ones pulled in as parents (the row key may be another column).
  const seedTableIds = new Set<string>();
  kept.get(opts.seed.table)!.add(opts.seed.idColumn);

  /**
   * Adds rows. `fresh`: new to the subset (their parents are still to fetch). `downward`: rows found
   * going down that were not followed down yet, including ones an upward fetch found first, so the
   * downward closure does not depend on the order the work is done in.
   */
  const add = (table: string, rows: RowValues[], reason: string, goingDown: boolean) => {
    const sel = selection.get(table)!;
    const fresh: RowValues[] = [];
    const downward: RowValues[] = [];
    for (const row of rows) {
      delete row.__rn;
      const key = keyOf(table, row);
      const followed = sel.get(key);
      if (followed === undefined) {
        sel.set(key, goingDown);
        if (table === opts.seed.table) seedTableIds.add(row[opts.seed.idColumn]!);
        fresh.push(row);
        if (goingDown) downward.push(row);
      } else if (goingDown && !followed) {
        sel.set(key, true);
        downward.push(row);
      }
    }
    if (fresh.length) {
      const r = reasons.get(table)!;
      r[reason] = (r[reason] ?? 0) + fresh.length;
    }
    return { fresh, downward };
  };

  // 1. Seed users.
  const seedUsers = await chooseSeedUsers(tx, seedTable, opts, warnings);
  const seedRows: RowValues[] = [];
  for (let i = 0; i < seedUsers.length; i += BATCH) {
    seedRows.push(...(await fetchRows(opts.seed.table, tupleMatch(seedTable, [opts.seed.idColumn], seedUsers.slice(i, i + BATCH).map((u) => [u.id])))));
  }
  const { fresh: seeded } = add(opts.seed.table, seedRows, 'seed', true);
  opts.onProgress?.(`chose ${seeded.length} seed users`);

  // 2. Closure. Downward work: rows whose children we still follow (seed and rows found downward).
  // Upward work: every new row, whose parents must be present.
  const down: Array<{ table: string; rows: RowValues[]; depth: number }> = [{ table: opts.seed.table, rows: seeded, depth: 0 }];
  const up: Array<{ table: string; rows: RowValues[] }> = [{ table: opts.seed.table, rows: seeded }];
  const childrenOf = (table: string) => shape.foreignKeys.filter((fk) => fk.parent === table && fk.child !== table && fk.child !== opts.seed.table && shape.tables.has(fk.child));
  const parentsOf = (table: string) => shape.foreignKeys.filter((fk) => fk.child === table && shape.tables.has(fk.parent));

  const tuplesFor = (rows: RowValues[], columns: string[]) => {
    const seen = new Set<string>();
    const out: Array<Array<string | null>> = [];
    for (const row of rows) {
      const tuple = columns.map((c) => row[c] ?? null);
      if (tuple.some((v) => v === null)) continue; // a NULL reference points nowhere
      const k = JSON.stringify(tuple);
      if (!seen.has(k)) {
        seen.add(k);
        out.push(tuple);
      }
    }
    return out;
  };

  const followDown = async (item: { table: string; rows: RowValues[]; depth: number }) => {
    if (item.depth >= opts.maxDepth) return;
    for (const fk of childrenOf(item.table)) {
      const child = shape.tables.get(fk.child)!;
      const tuples = tuplesFor(item.rows, fk.parentColumns);
      const cap = opts.caps[fk.child] ?? opts.defaultCap;
      const parentsPerQuery = Math.max(1, Math.min(BATCH, Math.floor(DOWN_ROWS_PER_QUERY / cap)));
      for (let i = 0; i < tuples.length; i += parentsPerQuery) {
        const rows = await fetchRows(fk.child, tupleMatch(child, fk.childColumns, tuples.slice(i, i + parentsPerQuery)), { partitionBy: fk.childColumns, cap });
        const { fresh, downward } = add(fk.child, rows, `references ${fk.parent} (${fk.name})`, true);
        // Queue downward work only where there is some: a row waiting in a queue holds its values.
        if (downward.length && item.depth + 1 < opts.maxDepth && childrenOf(fk.child).length) down.push({ table: fk.child, rows: downward, depth: item.depth + 1 });
        if (fresh.length) up.push({ table: fk.child, rows: fresh });
        await drainUp();
      }
    }
  };

  const followUp = async (item: { table: string; rows: RowValues[] }) => {
    for (const fk of parentsOf(item.table)) {
      const parent = shape.tables.get(fk.parent)!;
      const sel = selection.get(fk.parent)!;
      // Skip tuples whose parent is already selected (by its row key when the FK targets it).
      const targetsKey = isDeepStrictEqual(fk.parentColumns, rowKeyColumns(parent));
      const tuples = tuplesFor(item.rows, fk.childColumns).filter((t) => !targetsKey || !sel.has(tupleKey(t)));
      for (let i = 0; i < tuples.length; i += BATCH) {
        const rows = await fetchRows(fk.parent, tupleMatch(parent, fk.parentColumns, tuples.slice(i, i + BATCH)));
        const { fresh } = add(fk.parent, rows, `referenced by ${fk.child} (${fk.name})`, false);
        if (fresh.length) up.push({ table: fk.parent, rows: fresh });
      }
    }
  };

  // Upward work is done as soon as it appears (it only ever adds upward work), so a row's values are
  // dropped soon after it was found; downward work stays breadth-first.
  async function drainUp() {
    while (up.length) await followUp(up.pop()!);
  }
  await drainUp();
  while (down.length) await followDown(down.shift()!);

  // 3. Accounting.
  const sizes = (await tx.unsafe(
    `SELECT n.nspname AS schema, c.relname AS name, (pg_relation_size(c.oid)::float8 / greatest(c.reltuples, 1))::float8 AS "avgBytes"
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p')`,
  )) as unknown as Array<{ schema: string; name: string; avgBytes: number }>;
  const avg = new Map(sizes.map((s) => [s.schema === 'public' ? s.name : `${s.schema}.${s.name}`, Number(s.avgBytes) || 100]));
  const tables: TablePlan[] = loadOrder(shape).map((table) => {
    const rows = selection.get(table)!.size;
    return { table, rows, estimatedBytes: Math.round(rows * (avg.get(table) ?? 100)), reasons: reasons.get(table)! };
  });

  const seedIds = new Set(seedUsers.map((u) => u.id));
  const pulledIds = [...seedTableIds].filter((id) => !seedIds.has(id));
  const pulledRoles: Record<string, number> = {};
  for (let i = 0; i < pulledIds.length; i += BATCH) {
    const rows = await fetchRoleCounts(tx, seedTable, opts.seed, pulledIds.slice(i, i + BATCH));
    for (const r of rows) pulledRoles[r.role] = (pulledRoles[r.role] ?? 0) + r.n;
  }
  const usersByRole: Record<string, number> = {};
  for (const u of seedUsers) usersByRole[u.role] = (usersByRole[u.role] ?? 0) + 1;

  return {
    seedTable: opts.seed.table,
    seedUsers,
    usersByRole,
    pulledInUsers: { count: pulledIds.length, byRole: pulledRoles },
    tables,
    totalRows: tables.reduce((s, t) => s + t.rows, 0),
    estimatedBytes: tables.reduce((s, t) => s + t.estimatedBytes, 0),
    loadOrder: tables.map((t) => t.table),
    warnings,
    selection,
  };
}

async function fetchRoleCounts(tx: postgres.TransactionSql, t: TableInfo, seed: SeedOptions, ids: string[]) {
  const rows = (await tx.unsafe(
    `SELECT ${quoteIdent(seed.roleColumn)}::text AS role, count(*)::int AS n FROM ${t.qualified} WHERE ${tupleMatch(t, [seed.idColumn], []).where} GROUP BY 1`,
    [ids],
  )) as unknown as Array<{ role: string; n: number }>;
  return rows;
}

/** Seed users: one per role present (active first), at least `minLearners` active learners, then the most recent active users. */
async function chooseSeedUsers(tx: postgres.TransactionSql, t: TableInfo, opts: PlanOptions, warnings: string[]) {
  const s = opts.seed;
  const id = quoteIdent(s.idColumn);
  const role = quoteIdent(s.roleColumn);
  const active = s.deletedAtColumn ? `${quoteIdent(s.deletedAtColumn)} IS NULL` : 'true';
  // Without a soft-delete column every user is active: ORDER BY (true) would be a constant, which PostgreSQL refuses.
  const recency = [s.deletedAtColumn ? `(${active}) DESC` : '', s.createdAtColumn ? `${quoteIdent(s.createdAtColumn)} DESC NULLS LAST` : '', id].filter(Boolean).join(', ');
  const pick = `SELECT ${id}::text AS id, ${role}::text AS role, NOT (${active}) AS deleted FROM ${t.qualified}`;

  const roles = ((await tx.unsafe(`SELECT DISTINCT ${role}::text AS role FROM ${t.qualified} ORDER BY 1`)) as unknown as Array<{ role: string }>).map((r) => r.role);
  const needed = roles.length - (roles.includes(s.learnerRole) ? 1 : 0) + (roles.includes(s.learnerRole) ? s.minLearners : 0);
  if (opts.maxUsers < needed) {
    throw new UserError(`--max-users ${opts.maxUsers} is too few: production has ${roles.length} roles (${roles.join(', ')}) and the rehearsal needs ${s.minLearners} ${s.learnerRole} users.`, {
      tryThis: `Use --max-users ${needed} or more.`,
    });
  }
  const chosen = new Map<string, { id: string; role: string; deleted: boolean }>();
  for (const r of roles) {
    const want = r === s.learnerRole ? s.minLearners : 1;
    const rows = (await tx.unsafe(`${pick} WHERE ${role}::text = $1 ORDER BY ${recency} LIMIT ${want}`, [r])) as unknown as Array<{ id: string; role: string; deleted: boolean }>;
    for (const row of rows) chosen.set(row.id, row);
    if (r === s.learnerRole && rows.filter((x) => !x.deleted).length < s.minLearners) {
      warnings.push(`only ${rows.filter((x) => !x.deleted).length} active ${s.learnerRole} users exist in production (wanted ${s.minLearners})`);
    }
  }
  if (!roles.includes(s.learnerRole)) warnings.push(`production has no ${s.learnerRole} users: the migration will have nothing to change`);
  const remaining = opts.maxUsers - chosen.size;
  if (remaining > 0) {
    const exclude = tupleMatch(t, [s.idColumn], [...chosen.keys()].map((k) => [k]));
    const rows = (await tx.unsafe(`${pick} WHERE NOT (${exclude.where}) ORDER BY ${recency} LIMIT ${remaining}`, exclude.params)) as unknown as Array<{ id: string; role: string; deleted: boolean }>;
    for (const row of rows) chosen.set(row.id, row);
  }
  return [...chosen.values()];
}

/** The WHERE clauses (with their array parameters) that select a table's planned rows, in batches. */
export function selectionPredicates(shape: DbShape, plan: SubsetPlan, table: string, batch = BATCH): KeyMatch[] {
  const t = shape.tables.get(table)!;
  const width = rowKeyColumns(t).length;
  const keys = [...plan.selection.get(table)!.keys()].map((k) => keyTuple(k, width));
  const out: KeyMatch[] = [];
  for (let i = 0; i < keys.length; i += batch) out.push(tupleMatch(t, rowKeyColumns(t), keys.slice(i, i + batch)));
  return out;
}

export type { ForeignKey };
