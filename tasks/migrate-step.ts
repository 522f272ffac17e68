// The migrate step's contract: its question (rehearse the migration on staging) with the rows it
// would change; its tree (tasks/migrate-tasks.ts); its result; and, after a stop, what it left.
// The plan connects to staging, fits the folder to its schema and compiles it once: the run reuses
// that connection and that adaptation instead of loading the migration again.
import type postgres from 'postgres';
import type { Config } from '../src/config.js';
import { builtInNames, renameTables } from '../src/migration/adapt.js';
import { loadMigration } from '../src/migration/folder.js';
import { CATEGORIES, CATEGORY_TITLES } from '../src/migration/harness/index.js';
import type { MigrationPlan } from '../src/migration/plan.js';
import { foldStatements } from '../src/migration/report.js';
import { appliedRunCount } from '../src/migration/rollback.js';
import { countEligible } from '../src/migration/runner.js';
import { stagingSql } from '../src/db/staging.js';
import { stagingSeed } from '../src/subset/seed.js';
import { n, pad } from './format.js';
import { adaptToStaging, closeMigrateContext, connectStaging, migrateTasks, type MigrateContext } from './migrate-tasks.js';
import { BACKUP_FIRST, question, unverified, type Step } from './steps.js';

export const migrateStep: Step<MigrateContext> = {
  name: 'migrate',
  guard: (ctx) =>
    ctx.dryRun ? undefined : { kind: 'dangerous', action: `Rehearse ${ctx.folder.name} on the staging database ${ctx.config.database.name}: it changes data, rolls back and migrates again`, resourceName: ctx.config.database.name },
  /** The rows it would change now (a string: staging may be down, or not fit; the run then says why before any change). */
  async plan(ctx) {
    const { config } = ctx;
    let rows: string;
    try {
      await connectStaging(ctx);
      try {
        await adaptToStaging(ctx);
        const count = await countEligible(ctx.staging!, ctx.migration!, config.migration.softDeleted === 'include');
        const m = ctx.migration!;
        rows = `${n(count)} ${m.meta.target.table} rows with ${m.meta.change.column} = '${m.meta.change.from}'${m.meta.softDeleteColumn && config.migration.softDeleted === 'skip' ? ' (not soft-deleted)' : ''}`;
      } catch {
        rows = `(unknown: staging's schema does not fit ${ctx.folder.name}; the run lists what is missing before it changes anything)`;
      }
    } catch {
      rows = '(staging is not reachable: `rehearse setup` first)';
    }
    const m = ctx.migration ?? renameTables(ctx.folder, builtInNames(ctx.folder, stagingSeed(config).table));
    const c = m.meta.change;
    return {
      step: 'migrate',
      confirm: question(migrateStep.guard!(ctx), [
        ['migration', `${m.meta.target.table}.${c.column}: ${c.from} → ${c.to} (${m.dir})`],
        ...(m.outsideProject ? [['note', m.outsideProject] as [string, string]] : []),
        ...(m.meta.allow.length ? [['allowed', `${m.meta.allow.join(', ')} (declared in migration.json)`] as [string, string]] : []),
        ['rows', rows],
        ['runs', `up, down, up under a synthetic load, edge cases; ends migrated; ${ctx.batchSize ? `batches of ${ctx.batchSize}` : 'one transaction'}`],
        BACKUP_FIRST,
      ]),
    };
  },
  tasks: () => migrateTasks(),
  close: closeMigrateContext,
  result: (ctx) => ({
    ok: true,
    fields: { dryRun: ctx.dryRun, report: ctx.reportFile, plan: ctx.plan, summary: ctx.harness?.summary() },
    text: ctx.dryRun ? `\nDry run: nothing was changed.\n${formatMigrationPlan(ctx.plan!)}` : `\nMigration rehearsal passed: ${ctx.migration!.name} is applied on staging.\n${formatSummary(ctx)}Report: ${ctx.reportFile}\n`,
  }),
  stateAfterStop: migrateStateNote,
};

export function formatMigrationPlan(plan: MigrationPlan): string {
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

/**
 * After the migrate step stopped: what the harness left or undid (its recovery ran on the way out),
 * checked now: the rows still in the migration's source state and the runs its log holds as applied.
 */
export async function migrateStateNote(config: Config, ctx: MigrateContext | undefined): Promise<string> {
  if (!ctx?.backup) return 'Nothing in staging was changed: the stop came before the backup.';
  const recorded = ctx.recovery ? `${ctx.recovery} ` : '';
  const backup = `The backup taken first is ${ctx.backup.file}.`;
  const m = ctx.migration ?? ctx.folder ?? loadMigration(ctx.migrationName, process.cwd(), config.workDir);
  const { from } = m.meta.change;
  let sql: postgres.Sql | undefined;
  let left: number;
  let applied: number;
  try {
    sql = stagingSql(config, { max: 1 });
    left = await countEligible(sql, m, config.migration.softDeleted === 'include');
    applied = await appliedRunCount(sql, m);
  } catch (error) {
    return unverified(`${recorded}${backup}`, error);
  } finally {
    await sql?.end({ timeout: 1 });
  }
  const before = ctx.eligibleBefore === undefined ? '' : `, ${ctx.eligibleBefore === left ? 'as many as' : 'against'} ${n(ctx.eligibleBefore)} when the backup was taken`;
  const verified = `verified now: ${n(left)} ${from} rows left${before}, ${applied} applied run(s) in ${m.meta.log.schema}.${m.meta.log.table}`;
  if (applied === 0) return `${recorded}The migration is rolled back on staging (${verified}). ${backup}`;
  const report = ctx.reportFile ? ` (the rehearsal ends migrated; report ${ctx.reportFile})` : '';
  return `${recorded}The migration is applied on staging${report} (${verified}): \`rehearse migrate rollback\` reverses it. ${backup}`;
}
