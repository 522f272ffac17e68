// Category 6, edge cases: an invalid value, objects that mention the old value, a failure injected
// mid-run, a row inserted while the migration runs, the Redis cache; and nothing left behind.
import { randomBytes, randomUUID } from 'node:crypto';
import { tableKey } from '../../subset/introspect.js';
import { diffSums, logCounts } from '../checks.js';
import { catalogDependents, findDependentObjects } from '../dependents.js';
import { keyFor } from '../redis-cache.js';
import { logTable, MigrationRunError, targetTable, type PhaseResult } from '../runner.js';
import { quoteIdent, sqlString } from '../../db/sql-text.js';
import { type HarnessCore, type TestResult } from './core.js';

export async function edgeCaseTests(h: HarnessCore): Promise<TestResult[]> {
  return h.category('edge-cases', async () => {
    const m = h.m;
    const b = h.baseline!;
    const t = m.meta.target;
    const table = targetTable(m);
    const id = quoteIdent(t.idColumn);
    const col = quoteIdent(m.meta.change.column);

    await h.test('edge-cases', 'an invalid value is rejected by the column', async () => {
      const value = `NOT_A_${m.meta.change.column.toUpperCase()}_${randomBytes(2).toString('hex')}`;
      const db = await h.sql.reserve();
      try {
        await db.unsafe('BEGIN');
        await db.unsafe(`UPDATE ${table} SET ${col} = $1 WHERE ${id} = $2`, [value, b.otherIds[0] ?? b.affectedIds[0]]);
        h.edge.invalidValue = { value, message: 'accepted' };
        return { status: 'fail', summary: `'${value}' was accepted: the column needs an enum type or a CHECK constraint` };
      } catch (error) {
        const e = error as { code?: string; message: string };
        h.edge.invalidValue = { value, ...(e.code ? { sqlstate: e.code } : {}), message: e.message };
        const ok = e.code === '22P02' || e.code === '23514';
        return { status: ok ? 'pass' : 'fail', summary: ok ? `rejected (${e.code}): ${e.message}` : `failed for another reason (${e.code}): ${e.message}`, data: h.edge.invalidValue };
      } finally {
        await db.unsafe('ROLLBACK').catch(() => undefined);
        db.release();
      }
    });

    await h.test('edge-cases', `dependent objects that mention '${m.meta.change.from}' are found and listed`, async () => {
      const column = { schema: t.schema, table: t.table, column: m.meta.change.column };
      h.dependents = await findDependentObjects(h.sql, h.inputs.schemas, m.meta.change.from, column);
      const catalog = await catalogDependents(h.sql, m.meta.change.from, column);
      const names = new Set(h.dependents.map((d) => d.name));
      const missed = catalog.filter((c) => !names.has(c));
      return {
        status: missed.length ? 'fail' : 'pass',
        summary: h.dependents.length
          ? `${h.dependents.length} found (review them before production): ${h.dependents.map((d) => `${d.kind} ${d.name}`).join(', ')}${missed.length ? `; MISSED ${missed.join(', ')}` : ''}`
          : `none mention '${m.meta.change.from}'`,
        data: { objects: h.dependents, catalogDependents: catalog, missed },
      };
    });

    // Back to the baseline for the two runs below.
    const current = h.applied[h.applied.length - 1]!;
    await h.test(
      'edge-cases',
      'reset: down, back to the baseline',
      async () => {
        await h.phase('down', current, 'down (edge-case reset)');
        const diff = diffSums(b.sums, await h.sums());
        return { status: diff.length ? 'fail' : 'pass', summary: diff.length ? `differs: ${diff.map((d) => d.table).join(', ')}` : 'every checksum equals the baseline', data: { differing: diff } };
      },
      { blocking: true },
    );

    await h.test('edge-cases', 'a failure injected mid-migration leaves no partial change', async () => {
      const batches = h.inputs.settings.batchSize > 0 ? Math.ceil(b.eligible / h.inputs.settings.batchSize) : 1;
      // With batches, fail in the second one so a committed batch has to be undone.
      const failInBatch = Math.min(2, batches);
      const runId = `${h.runId}/failure`;
      let error: MigrationRunError | undefined;
      try {
        await h.phase('up', runId, 'up (injected failure)', { hooks: { failInBatch } });
      } catch (e) {
        if (!(e instanceof MigrationRunError)) throw e;
        error = e;
      }
      const diff = diffSums(b.sums, await h.sums());
      const log = await logCounts(h.sql, m, runId);
      const left = log.byStatus.completed ?? 0;
      h.edge.injectedFailure = { error: error?.message ?? 'no error was raised', ...(error?.compensated ? { compensated: error.compensated } : {}) };
      const ok = !!error && diff.length === 0 && left === 0;
      return {
        status: ok ? 'pass' : 'fail',
        summary: !error
          ? 'the injected failure did not stop the run'
          : ok
            ? `failed in batch ${failInBatch} as injected; ${error.compensated ? `${error.compensated.committedBatches} committed batch(es) reversed from the log; ` : 'rolled back; '}every checksum equals the baseline`
            : `after the failure: ${diff.length} table(s) differ, ${left} log rows still completed`,
        data: { failInBatch, differing: diff, log, ...h.edge.injectedFailure },
      };
    });

    // One run that both meets a concurrent insert and has cached keys to invalidate.
    const redis = h.inputs.redis;
    const seeded: string[] = [];
    const control: string[] = [];
    const sampleIds = b.affectedIds.slice(0, 3);
    if (redis) {
      for (const userId of sampleIds) for (const p of redis.patterns) seeded.push(keyFor(p, userId, 'rehearse-edge'));
      if (b.otherIds[0]) for (const p of redis.patterns) control.push(keyFor(p, b.otherIds[0], 'rehearse-edge'));
      for (const key of [...seeded, ...control]) await redis.client.set(key, m.meta.change.from, 'EX', 3600);
    }
    let insertedId: string | undefined;
    let insertError: Error | undefined;
    const runId = h.nextUpId();
    let up: PhaseResult | undefined;
    let upError: Error | undefined;
    try {
      up = await h.phase('up', runId, 'up (concurrent insert)', {
        hooks: {
          beforeCommit: async (batch) => {
            if (batch !== 1 || insertedId || insertError) return;
            try {
              insertedId = await insertClone(h, b.affectedIds[0]!);
            } catch (error) {
              insertError = error as Error;
            }
          },
        },
      });
    } catch (error) {
      if (!(error instanceof MigrationRunError)) throw error;
      upError = error;
    }
    h.edge.insertedId = insertedId;

    await h.test('edge-cases', `a row inserted as ${m.meta.change.from} while the migration runs is caught or reported`, async () => {
      if (upError) return { status: 'fail', summary: `the run failed: ${upError.message}` };
      if (insertError || !insertedId) return { status: 'fail', summary: `could not insert the test row: ${insertError?.message ?? 'no insert happened'}` };
      const [row] = (await h.sql.unsafe(`SELECT ${col}::text AS value FROM ${table} WHERE ${id}::text = $1`, [insertedId])) as unknown as Array<{ value: string }>;
      const log = (await h.sql.unsafe(`SELECT batch_id FROM ${logTable(m)} WHERE user_id = $1 AND starts_with(batch_id, $2)`, [insertedId, `${runId}#`])) as unknown as Array<{ batch_id: string }>;
      const caught = row?.value === m.meta.change.to && log.length === 1;
      h.edge.insertCaughtBy = caught ? (up!.caughtLate ? 'the catch-up pass after the last batch' : `batch ${log[0]!.batch_id.split('#')[1]}`) : undefined;
      const data = { insertedId, valueAfter: row?.value, logRows: log.length, caughtLate: up!.caughtLate, leftBehind: up!.leftBehind };
      if (caught) return { status: 'pass', summary: `inserted ${insertedId} inside batch 1's transaction; caught by ${h.edge.insertCaughtBy}`, data };
      if (up!.leftBehind > 0) return { status: 'warn', summary: `not migrated, but reported: ${up!.leftBehind} eligible row(s) left after the run`, data };
      return { status: 'fail', summary: `${insertedId} is still ${row?.value} and nothing reported it: silently missed`, data };
    });

    await h.test('edge-cases', 'cached role and session keys of migrated users are invalidated in Redis', async () => {
      if (!redis) return { status: 'skip', summary: 'no Redis given' };
      if (!up) return { status: 'fail', summary: 'the run failed before invalidation' };
      const staleSeeded = (await Promise.all(seeded.map((k) => redis.client.exists(k)))).reduce((s: number, n) => s + n, 0);
      const controlLeft = (await Promise.all(control.map((k) => redis.client.exists(k)))).reduce((s: number, n) => s + n, 0);
      h.edge.redis = { seeded, control, deleted: up.redis?.deleted ?? 0, stale: (up.redis?.stale ?? 0) + staleSeeded };
      const ok = staleSeeded === 0 && controlLeft === control.length && (up.redis?.stale ?? 0) === 0;
      return {
        status: ok ? 'pass' : 'fail',
        summary: ok
          ? `${seeded.length} keys of ${sampleIds.length} migrated users deleted (${up.redis?.deleted ?? 0} in all, patterns ${redis.patterns.join(', ')}); none stale; the ${control.length} keys of an unchanged user kept`
          : `${staleSeeded} stale keys left, ${control.length - controlLeft} keys of an unchanged user deleted`,
        data: { ...h.edge.redis, invalidation: up.redis },
      };
    });

    await h.test('edge-cases', 'the edge cases leave nothing behind', async () => {
      if (insertedId) {
        await h.sql.unsafe(`DELETE FROM ${logTable(m)} WHERE user_id = $1 AND starts_with(batch_id, $2)`, [insertedId, `${h.runId}/`]);
        await h.sql.unsafe(`DELETE FROM ${table} WHERE ${id}::text = $1`, [insertedId]);
      }
      if (redis && control.length) await redis.client.del(...control);
      const diff = diffSums(b.protectedSums, await h.protectedSums());
      return { status: diff.length ? 'fail' : 'pass', summary: diff.length ? `differs from the baseline (outside ${m.meta.mayChange.join(', ')}): ${diff.map((d) => d.table).join(', ')}` : `test row${insertedId ? ` ${insertedId}` : ''} and test keys removed; every table equals the baseline outside ${m.meta.mayChange.join(', ')}`, data: { differing: diff } };
    });
  });
}

/** Inserts a copy of row `sourceId` as a new eligible row (new id, unique text values prefixed), committed at once. */
async function insertClone(h: HarnessCore, sourceId: string): Promise<string> {
  const m = h.m;
  const t = m.meta.target;
  const table = h.shape!.tables.get(tableKey(t.schema, t.table))!;
  const tag = `rehearse-edge-${randomBytes(4).toString('hex')}`;
  const idCol = table.columns.find((c) => c.name === t.idColumn)!;
  let newId: string;
  if (['int2', 'int4', 'int8', 'numeric'].includes(idCol.udtName)) {
    const [row] = (await h.sql.unsafe(
      `SELECT coalesce(nextval(pg_get_serial_sequence($1, $2)), (SELECT max(${quoteIdent(t.idColumn)}) + 1 FROM ${table.qualified}))::text AS id`,
      [`${quoteIdent(t.schema)}.${quoteIdent(t.table)}`, t.idColumn],
    )) as unknown as Array<{ id: string }>;
    newId = row!.id;
  } else if (idCol.udtName === 'uuid') newId = randomUUID();
  else newId = tag;
  const overrides: string[] = [`${sqlString(t.idColumn)}, $2::text`, `${sqlString(m.meta.change.column)}, $3::text`];
  if (m.meta.softDeleteColumn) overrides.push(`'${m.meta.softDeleteColumn}', NULL`);
  for (const key of table.uniqueKeys) {
    const c = table.columns.find((x) => x.name === key[0]);
    if (key.length === 1 && c && c.name !== t.idColumn && ['text', 'varchar', 'citext'].includes(c.udtName)) overrides.push(`'${c.name}', $4 || '.' || s.${quoteIdent(c.name)}`);
  }
  const columns = table.columns.filter((c) => !c.generated);
  const [row] = (await h.sql.unsafe(
    `INSERT INTO ${table.qualified} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) OVERRIDING SYSTEM VALUE
     SELECT ${columns.map((c) => `r.${quoteIdent(c.name)}`).join(', ')}
     FROM ${table.qualified} s, jsonb_populate_record(NULL::${table.qualified}, to_jsonb(s) || jsonb_build_object(${overrides.join(', ')})) r
     WHERE s.${quoteIdent(t.idColumn)}::text = $1
     RETURNING ${quoteIdent(t.idColumn)}::text AS id`,
    [sourceId, newId, m.meta.change.from, tag],
  )) as unknown as Array<{ id: string }>;
  if (!row) throw new Error(`source row ${sourceId} not found`);
  return row.id;
}
