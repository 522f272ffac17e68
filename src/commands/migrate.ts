// `rehearse migrate [--dry-run] [--verbose] [--batch-size N] [--migration name]` and
// `rehearse migrate rollback`: ask once, then run the task tree (or the rollback) and summarise.
import type { Config } from '../config.js';
import { backupStaging } from '../backup.js';
import { CheckFailedError, UserError } from '../errors.js';
import { loadMigration } from '../migration/folder.js';
import { CATEGORIES, CATEGORY_TITLES } from '../migration/harness.js';
import type { MigrationPlan } from '../migration/plan.js';
import { foldStatements } from '../migration/report.js';
import { adaptMigration } from '../migration/adapt.js';
import { stagingSeed } from '../subset/seed.js';
import { appliedRuns, rollbackApplied, type RollbackProof } from '../migration/rollback.js';
import { stagingRedis, stagingSql } from '../staging-db.js';
import { closeMigrateContext, migrateTasks, newMigrateContext, runnerSettings, type MigrateContext } from '../../tasks/migrate-tasks.js';
import { note, runTasks, type OutputMode } from '../../tasks/run-tasks.js';
import { planMigrate, withStepMarker } from '../../tasks/steps.js';
import { confirmDangerous, confirmStep } from './confirm.js';
import type { GlobalFlags } from './interaction.js';

export interface MigrateOptions {
  dryRun: boolean;
  verbose: boolean;
  batchSize?: number | undefined;
  migration?: string | undefined;
  flags: GlobalFlags;
  mode: OutputMode;
  signal: AbortSignal;
}

export async function runMigrate(config: Config, opts: MigrateOptions): Promise<MigrateContext> {
  if (opts.batchSize !== undefined && (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)) {
    throw new UserError('--batch-size must be a whole number of at least 1.', { tryThis: '--batch-size 1000 (without it, the migration runs in one transaction)' });
  }
  const migration = loadMigration(opts.migration ?? config.migration.name, process.cwd(), config.workDir);
  if (!opts.dryRun) {
    await confirmStep(`Rehearsing ${migration.name} on the staging database ${config.database.name}`, opts.flags, () => planMigrate(config, { batchSize: opts.batchSize, migration: migration.dir }));
  }
  const ctx = newMigrateContext(config, opts.signal, { dryRun: opts.dryRun, verbose: opts.verbose, ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}), migration: migration.dir });
  try {
    if (opts.dryRun) await runTasks(migrateTasks(), ctx, opts.mode);
    else await withStepMarker(config, 'migrate', () => runTasks(migrateTasks(), ctx, opts.mode));
  } finally {
    await closeMigrateContext(ctx);
  }
  return ctx;
}

const pad = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};

export function formatPlan(plan: MigrationPlan): string {
  const lines = [
    `Migration ${plan.migration.name}: ${plan.migration.description}`,
    `  target       ${plan.migration.target}, ${plan.migration.change}; may change ${plan.migration.mayChange.join(', ')}`,
    `  column type  ${plan.column ? `${plan.column.type} (${plan.column.kind === 'enum' ? `enum: ${plan.column.values!.join(', ')}` : plan.column.checks.length ? plan.column.checks.join('; ') : 'no CHECK constraint'})` : 'MISSING'}`,
    `  target value ${plan.targetValueReady ? 'already valid' : 'added first, in its own committed transaction'}`,
    `  rows         ${plan.eligible} to migrate; ${plan.softDeleted.count} soft-deleted ${plan.softDeleted.policy === 'skip' ? 'left as they are (migration.softDeleted: skip)' : 'included'}`,
    `  histogram    ${Object.entries(plan.histogram).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  transactions ${plan.batchSize ? `${plan.batches} batches of up to ${plan.batchSize} rows` : 'one'}`,
    '',
    'Statements:',
    ...plan.statements.prelude.flatMap((segment, i) => segment.map((s) => `  up, committed step ${i + 1}:  ${s}`)),
    ...plan.statements.body.map((s) => `  up${plan.batchSize ? ' (per batch)' : ''}:  ${s}`),
    ...plan.statements.down.map((s) => `  down:  ${s}`),
    `  verify: ${plan.statements.verify} checks`,
  ];
  lines.push(
    '',
    'A real run writes:',
    ...plan.touches.map((t) => `  ${t.table}: ${t.rows} row(s), ${t.what}`),
    ...plan.labelsToAdd.map((l) => `  enum ${plan.column!.type}: adds the label '${l}' (committed on its own; PostgreSQL cannot remove it again, not even on rollback)`),
  );
  if (plan.conditions.length) lines.push('', 'Fitted to this schema:', ...plan.conditions.map((c) => `  ${c.holds ? 'yes' : 'no '}  ${c.condition}`));
  if (plan.absentColumns.length) lines.push(`  not written (absent here): ${plan.absentColumns.join(', ')}`);
  for (const q of plan.skippedQueries) lines.push(`  standard query skipped: ${q.name}: ${q.reason}`);
  const c = plan.compile;
  lines.push(
    '',
    `Compiled against staging in a rolled-back transaction: ${c.statements.filter((x) => x.ok).length} of ${c.statements.length} statements and queries${c.standIn ? ` ('${c.standIn.label}' stood in for '${c.standIn.for}', which does not exist yet)` : ''}; ${c.unchanged ? 'the schema is unchanged afterwards' : 'the schema CHANGED afterwards'}`,
    ...c.statements.map((x) => `  ${x.ok ? '✔' : '✖'} ${x.part} (${x.how}): ${x.label}${x.error ? `: ${x.error}` : ''}`),
  );
  if (plan.dependents.length) lines.push('', `Objects that mention '${plan.migration.from}' (review them before production):`, ...plan.dependents.map((d) => `  ${d.kind} ${d.name}: ${d.excerpt}`));
  if (plan.applied.length) lines.push('', `Already applied (\`rehearse migrate rollback\` reverses them): ${plan.applied.map((r) => `${r.runId} (${r.rows} rows)`).join(', ')}`);
  return lines.join('\n') + '\n';
}

export function formatSummary(ctx: MigrateContext): string {
  const h = ctx.harness;
  if (!h) return '';
  const s = h.summary();
  const rows = [['CATEGORY', 'STATUS', 'PASS', 'FAIL', 'WARN', 'SKIP']];
  for (const c of CATEGORIES) {
    const x = s.categories[c];
    rows.push([CATEGORY_TITLES[c], x.status, String(x.pass), String(x.fail), String(x.warn), String(x.skip)]);
  }
  const out = [pad(rows)];
  const f = ctx.figures;
  if (h.performance.up) out.push('', `up under load: ${h.performance.up.rows} rows in ${h.performance.up.ms} ms (${h.performance.up.rowsPerSecond} rows/s); lock waits ${f.lockWaits}, longest ${f.longestLockWaitMs} ms, blocked queries ${f.blockedQueries}; workload p50/p95 ${f.p50BeforeMs}/${f.p95BeforeMs} ms before, p95 ${f.p95DuringMs} ms during`);
  if (h.dependents.length) out.push('', `Objects that still mention '${h.inputs.migration.meta.change.from}' (review them before production):`, ...h.dependents.map((d) => `  ${d.kind} ${d.name}`));
  if (h.baseline?.softDeletedLeft) out.push('', `${h.baseline.softDeletedLeft} soft-deleted row(s) kept their value (migration.softDeleted: ${ctx.config.migration.softDeleted}).`);
  if (ctx.verbose && ctx.statements.length) {
    const folded = foldStatements(ctx.statements);
    out.push('', 'Statements (all runs):', pad([['PHASE', 'RUNS', 'TOTAL MS', 'MAX MS', 'ROWS', 'STATEMENT'], ...folded.map((x) => [x.phase, String(x.runs), x.totalMs.toFixed(1), x.maxMs.toFixed(1), String(x.rows), x.label])]));
  }
  if (s.failed.length) out.push('', 'Failed:', ...s.failed.map((f) => `  ✖ ${f}`));
  return out.join('\n') + '\n';
}

export function formatRollbackProof(p: RollbackProof): string {
  const lines = [
    `Proof: ${p.compared.length} tables compared by row count and checksum, before and after: identical${p.compared.some((c) => c.without) ? ` (${p.compared.filter((c) => c.without).map((c) => `${c.table} without ${c.without!.join(', ')}`).join('; ')})` : ''}.`,
    `  the ${p.restored.rows} restored rows equal their log snapshots (checksum ${p.restored.sum})${p.notRestored ? `; ${p.notRestored} row(s) changed since the migration were left alone (log: failed)` : ''}`,
    ...p.sideTables.map((x) => `  ${x.table}: the ${x.logged.rows} row(s) kept in the log are back, identical (checksum ${x.found.sum})`),
    ...p.cannotUndo.map((c) => `  not undone: ${c}`),
  ];
  return lines.join('\n') + '\n';
}

export async function runMigrateRollback(config: Config, opts: { migration?: string | undefined; flags: GlobalFlags; signal: AbortSignal }) {
  const folder = loadMigration(opts.migration ?? config.migration.name, process.cwd(), config.workDir);
  const sql = stagingSql(config, { max: 2, statementTimeoutMs: 0 });
  let redis: Awaited<ReturnType<typeof stagingRedis>> | undefined;
  try {
    let runs;
    try {
      runs = await appliedRuns(sql, folder);
    } catch (error) {
      throw new UserError(`Cannot read the migration log in the staging database on port ${config.ports.postgres}.`, { tryThis: 'Bring staging up with `rehearse setup` first.', causes: [(error as Error).message] });
    }
    if (!runs.length) throw new UserError(`Nothing to roll back: no run of ${folder.name} (${folder.dir}) is applied on staging.`, { tryThis: `\`rehearse migrate --migration ${opts.migration ?? config.migration.name}\` runs it (and ends with it applied); a run is found by its folder's name.` });
    const migration = (await adaptMigration(sql, folder, config.data.schemas, stagingSeed(config).table)).migration;
    await confirmDangerous(
      {
        action: `Rolling back ${migration.name} on the staging database ${config.database.name}`,
        rows: [
          ...runs.map((r): [string, string] => [r.runId, `${r.rows} rows, last at ${r.lastAt}`]),
          ['restores', `${migration.meta.mayChange.join(', ')} from the log snapshots (${migration.dir}/down.sql)`],
          ['backup first', 'staging-backups/staging-backup-<timestamp>.sql.gz'],
        ],
        resourceName: config.database.name,
      },
      opts.flags,
    );
    const backup = await backupStaging(config, opts.signal);
    note(`Backed up staging: ${backup.file}`);
    redis = await stagingRedis(config);
    await redis.connect().catch(() => {
      redis?.disconnect();
      redis = undefined;
      note('Redis is not reachable: cached keys are not invalidated.');
    });
    const result = await rollbackApplied(
      {
        sql,
        migration,
        schemas: config.data.schemas,
        settings: runnerSettings(config),
        redis: redis ? { client: redis, patterns: config.migration.redisKeyPatterns } : undefined,
        signal: opts.signal,
      },
      runs.map((r) => r.runId),
    );
    const p = result.proof;
    if (!p.ok) {
      throw new CheckFailedError(`The rollback ran, but the checksum proof failed.`, {
        details: [
          !p.unchangedElsewhere && `changed outside ${migration.meta.mayChange.join(', ')}: ${p.differing.join(', ')}`,
          !p.restoredEqualsLog && `restored rows (${p.restored.rows}) do not equal the log snapshots (${p.logged.rows})`,
          ...p.sideTables.filter((x) => !x.ok).map((x) => `${x.table}: ${x.found.rows} of the ${x.logged.rows} row(s) kept in the log are back`),
        ].filter(Boolean).join('\n'),
        tryThis: `Compare down.sql with up.sql in ${migration.dir}; \`rehearse data restore ${backup.file} --yes\` brings back the state before the rollback.`,
      });
    }
    return { backup, migration: migration.name, ...result };
  } finally {
    redis?.disconnect();
    await sql.end({ timeout: 2 });
  }
}
