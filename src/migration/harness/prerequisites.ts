// Category 1, prerequisites (read-only): staging is what it should be, the migration fits, and the
// baseline every later comparison uses is taken.
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { introspect, tableKey } from '../../subset/introspect.js';
import { describeChangeColumn, histogram, ineligibleRowsSum } from '../checks.js';
import { appliedRuns } from '../rollback.js';
import { countEligible, eligibleCondition, targetTable } from '../runner.js';
import { quoteIdent } from '../../db/sql-text.js';
import { type HarnessCore, type TestResult } from './core.js';

export async function prerequisiteTests(h: HarnessCore): Promise<TestResult[]> {
  return h.category('prerequisites', async () => {
    const m = h.m;
    const t = m.meta.target;
    await h.test(
      'prerequisites',
      'staging is reachable and is not production',
      async () => {
        const [me] = (await h.sql.unsafe(
          `SELECT current_database() AS db, split_part(version(), ' ', 2) AS version, pg_is_in_recovery() AS replica,
                  current_setting('default_transaction_read_only') AS ro, to_regclass('staging_logs.init_log') IS NOT NULL AS marked,
                  pg_postmaster_start_time()::text AS started, (SELECT oid::int FROM pg_database WHERE datname = current_database()) AS oid`,
        )) as unknown as Array<{ db: string; version: string; replica: boolean; ro: string; marked: boolean; started: string; oid: number }>;
        const data = { database: me!.db, postgres: me!.version, stagingMarker: me!.marked } as Record<string, unknown>;
        if (me!.replica || me!.ro === 'on') return { status: 'fail', summary: `${me!.db} is read-only (a replica, or default_transaction_read_only on)`, data };
        if (!me!.marked) return { status: 'fail', summary: `${me!.db} has no staging_logs.init_log: it was not set up by \`rehearse setup\``, data };
        if (h.inputs.production) {
          const [p] = (await h.inputs.production.unsafe(`SELECT current_database() AS db, pg_postmaster_start_time()::text AS started, (SELECT oid::int FROM pg_database WHERE datname = current_database()) AS oid`)) as unknown as Array<{ db: string; started: string; oid: number }>;
          data.production = { database: p!.db, compared: true };
          if (p!.db === me!.db && p!.started === me!.started && p!.oid === me!.oid) return { status: 'fail', summary: 'the target database IS production: refusing to migrate it', data };
          return { status: 'pass', summary: `${me!.db} (PostgreSQL ${me!.version}) is writable, set up as staging, and a different database from production`, data };
        }
        return { status: 'pass', summary: `${me!.db} (PostgreSQL ${me!.version}) is writable and set up as staging (not compared with production: ${h.inputs.productionNote ?? 'none configured'})`, data: { ...data, production: { compared: false, why: h.inputs.productionNote ?? 'none configured' } } };
      },
      { blocking: true },
    );

    await h.test(
      'prerequisites',
      `${t.table}.${m.meta.change.column} exists and can hold '${m.meta.change.to}'`,
      async () => {
        h.shape = await introspect(h.sql, h.inputs.schemas);
        const table = h.shape.tables.get(tableKey(t.schema, t.table));
        if (!table) return { status: 'fail', summary: `table ${t.schema}.${t.table} does not exist in ${h.inputs.schemas.join(', ')}`, data: { tables: [...h.shape.tables.keys()] } };
        const columns = table.columns.map((c) => c.name);
        const missing = [t.idColumn, m.meta.change.column, ...m.meta.mayChange, ...(m.meta.softDeleteColumn ? [m.meta.softDeleteColumn] : [])].filter((c) => !columns.includes(c));
        if (missing.length) return { status: 'fail', summary: `${t.table} lacks column(s) ${missing.join(', ')}`, data: { columns } };
        const info = await describeChangeColumn(h.sql, m);
        if (!info) return { status: 'fail', summary: `${t.table}.${m.meta.change.column} does not exist` };
        h.columnType = info;
        const data = { ...h.columnType };
        if (info.kind === 'enum') {
          if (!info.values!.includes(m.meta.change.from)) return { status: 'fail', summary: `enum ${info.type} has no value '${m.meta.change.from}'`, data };
          const has = info.values!.includes(m.meta.change.to);
          return { status: 'pass', summary: `enum ${info.type} (${info.values!.join(', ')}); '${m.meta.change.to}' ${has ? 'present' : 'will be added, committed before use'}`, data };
        }
        const checks = info.checks.length ? info.checks.join('; ') : 'no CHECK constraint';
        return { status: 'pass', summary: `${info.type} with ${checks}${info.checks.length ? `; widened to admit '${m.meta.change.to}' if needed` : ''}`, data };
      },
      { blocking: true },
    );

    await h.test(
      'prerequisites',
      `there are ${m.meta.change.from} rows to migrate`,
      async () => {
        const eligible = await countEligible(h.sql, m, h.includeDeleted);
        const all = await countEligible(h.sql, m, true);
        const data = { eligible, softDeleted: all - eligible, softDeletedPolicy: h.includeDeleted ? 'include' : 'skip' };
        if (!eligible) {
          const applied = await appliedRuns(h.sql, m).catch(() => []);
          const why = applied.length ? `${applied.length} run(s) of ${m.name} are applied: \`rehearse migrate rollback --yes --migration ${m.dir}\` first` : 'reload staging with `rehearse data --yes`';
          return { status: 'fail', summary: `no eligible ${m.meta.change.from} rows; ${why}`, data: { ...data, applied } };
        }
        return { status: 'pass', summary: `${eligible} eligible; ${all - eligible} soft-deleted ${h.includeDeleted ? 'included' : 'left as they are (policy)'}`, data };
      },
      { blocking: true },
    );

    await h.test(
      'prerequisites',
      'the log and results tables exist',
      async () => {
        const rows = (await h.sql.unsafe(
          `SELECT c.relname AS table, array_agg(a.attname::text ORDER BY a.attnum) AS columns
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE (n.nspname = $1 AND c.relname = $2) OR (n.nspname = 'staging_migrations' AND c.relname = 'test_results')
           GROUP BY 1`,
          [m.meta.log.schema, m.meta.log.table],
        )) as unknown as Array<{ table: string; columns: string[] }>;
        const log = rows.find((r) => r.table === m.meta.log.table);
        const results = rows.find((r) => r.table === 'test_results');
        const needed = ['batch_id', 'user_id', 'old_role', 'new_role', 'migration_status', 'rollback_data', 'migration_timestamp'];
        const missing = needed.filter((c) => !log?.columns.includes(c));
        if (!log || missing.length || !results) {
          return { status: 'fail', summary: `${!log ? `${m.meta.log.schema}.${m.meta.log.table} is missing` : missing.length ? `the log lacks ${missing.join(', ')}` : 'staging_migrations.test_results is missing'} (run \`rehearse setup\`)`, data: { rows } };
        }
        return { status: 'pass', summary: `${m.meta.log.schema}.${m.meta.log.table} and staging_migrations.test_results are there`, data: { log: log.columns } };
      },
      { blocking: true },
    );

    await h.test('prerequisites', 'a staging backup was taken for this run', async () => {
      const b = h.inputs.backup;
      if (!b) return { status: 'skip', summary: 'no backup was given to the harness' };
      if (!existsSync(b.file)) return { status: 'fail', summary: `${b.file} does not exist` };
      const size = statSync(b.file).size;
      const head = Buffer.alloc(2);
      const fd = openSync(b.file, 'r');
      readSync(fd, head, 0, 2, 0);
      closeSync(fd);
      const gzip = head[0] === 0x1f && head[1] === 0x8b;
      const fresh = statSync(b.file).mtimeMs >= h.startedAt.getTime() - 15 * 60_000;
      const data = { file: b.file, bytes: size, gzip, fresh };
      if (!size || (b.file.endsWith('.gz') && !gzip)) return { status: 'fail', summary: `${b.file} is empty or not a gzip file`, data };
      if (!fresh) return { status: 'fail', summary: `${b.file} is older than this run`, data };
      return { status: 'pass', summary: `${b.file} (${(size / 1024).toFixed(1)} KiB)`, data };
    });

    await h.test(
      'prerequisites',
      'baseline: checksums of every table, the value histogram, sample rows',
      async () => {
        const [sums, protectedSums, hist, ineligible, eligible, all] = await Promise.all([
          h.sums(),
          h.protectedSums(),
          histogram(h.sql, m),
          ineligibleRowsSum(h.sql, m, h.includeDeleted),
          countEligible(h.sql, m, h.includeDeleted),
          countEligible(h.sql, m, true),
        ]);
        const id = quoteIdent(t.idColumn);
        const sample = async (where: string) => ((await h.sql.unsafe(`SELECT ${id}::text AS id FROM ${targetTable(m)} WHERE ${where} ORDER BY random() LIMIT 100`)) as unknown as Array<{ id: string }>).map((r) => r.id);
        const cond = eligibleCondition(m, h.includeDeleted);
        h.baseline = { sums, protectedSums, histogram: hist, ineligible, eligible, softDeletedLeft: all - eligible, affectedIds: await sample(cond), otherIds: await sample(`NOT coalesce(${cond}, false)`) };
        const rows = Object.values(sums).reduce((s, x) => s + x.rows, 0);
        return { status: 'pass', summary: `${Object.keys(sums).length} tables, ${rows} rows; ${m.meta.change.column}: ${Object.entries(hist).map(([k, v]) => `${k} ${v}`).join(', ')}`, data: { tables: Object.keys(sums).length, rows, histogram: hist } };
      },
      { blocking: true },
    );
  });
}
