// The data step's contract: its question (replace the staging database), planned by a silent dry
// run; its tree (tasks/data-tasks.ts); its result; and, after a stop, what it had changed.
import type postgres from 'postgres';
import { Listr } from 'listr2';
import type { Config } from '../src/config.js';
import { countMismatches, exactCounts, sumRows } from '../src/db/backup.js';
import { fingerprint } from '../src/db/restore.js';
import { stagingSql } from '../src/db/staging.js';
import { closeDataContext, coverageTable, dataSummary, dataTasks, newDataContext, type DataContext } from './data-tasks.js';
import { kib, n } from './format.js';
import { BACKUP_FIRST, question, stagingContents, unverified, type Step } from './steps.js';

export const dataStep: Step<DataContext> = {
  name: 'data',
  guard: (ctx) => (ctx.dryRun ? undefined : { kind: 'dangerous', action: `Replace the staging database ${ctx.config.database.name} with this subset`, resourceName: ctx.config.database.name }),
  /**
   * The dry run (read-only: production in one snapshot, staging untouched) in a context of its own:
   * the run reads production again in a fresh snapshot, as one held open across the question would
   * meet production's idle-in-transaction timeout.
   */
  async plan(ctx) {
    const { config } = ctx;
    const dry = newDataContext(config, ctx.signal, { dryRun: true, maxUsers: ctx.maxUsers });
    try {
      await new Listr(dataTasks(), { ctx: dry, renderer: 'silent', exitOnError: true, registerSignalListeners: false }).run();
    } finally {
      await closeDataContext(dry);
    }
    const p = dry.plan!;
    return {
      step: 'data',
      preview: formatDataPlan(dry, { compact: true }),
      confirm: question(dataStep.guard!(ctx), [
        ['staging now', await stagingContents(config)],
        ['replaced by', `${n(p.totalRows)} anonymized rows (${p.seedUsers.length} users + ${p.pulledInUsers.count} parents) from ${dry.production!.display}`],
        BACKUP_FIRST,
      ]),
    };
  },
  tasks: () => dataTasks(),
  close: closeDataContext,
  result: (ctx) => ({
    ok: true,
    fields: { dryRun: ctx.dryRun, report: ctx.reportFile, summary: dataSummary(ctx) },
    text: ctx.dryRun ? `\nDry run: nothing was written.\n${formatDataPlan(ctx)}` : `\nStaging holds the anonymized subset.\n${formatDataPlan(ctx)}Report: ${ctx.reportFile}\n`,
  }),
  stateAfterStop: dataStateNote,
};

/** The data plan as text; `compact` (the preview before the question) leaves out the reasons and the column lists. */
export function formatDataPlan(ctx: DataContext, opts: { compact?: boolean } = {}): string {
  const p = ctx.plan!;
  const why = (t: (typeof p.tables)[number]) => (opts.compact ? [] : [Object.entries(t.reasons).map(([reason, k]) => `${reason} ×${n(k)}`).join('; ')]);
  const rows = p.tables.filter((t) => t.rows > 0).map((t) => [t.table, n(t.rows), kib(t.estimatedBytes), ...why(t)]);
  const header = ['TABLE', 'ROWS', 'EST. SIZE', ...(opts.compact ? [] : ['WHY'])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => (i === 1 || i === 2 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const anonymized = coverageTable(ctx).filter((c) => !c.rule.startsWith('keep'));
  const byRule = new Map<string, string[]>();
  for (const c of anonymized) byRule.set(c.rule, [...(byRule.get(c.rule) ?? []), c.column]);
  return [
    `Subset of ${ctx.production!.display}: ${p.seedUsers.length} users (${Object.entries(p.usersByRole).map(([r, k]) => `${r} ${k}`).join(', ')})`,
    `plus ${p.pulledInUsers.count} users pulled in only as referenced parents${p.pulledInUsers.count ? ` (${Object.entries(p.pulledInUsers.byRole).map(([r, k]) => `${r} ${k}`).join(', ')})` : ''}.`,
    '',
    line(header),
    ...rows.map(line),
    `${'total'.padEnd(widths[0]!)}  ${n(p.totalRows).padStart(widths[1]!)}  ${kib(p.estimatedBytes).padStart(widths[2]!)}`,
    '',
    `Anonymized columns (${anonymized.length})${opts.compact ? `: ${[...byRule].map(([rule, cols]) => `${rule} ${cols.length}`).join(', ')}` : ':'}`,
    ...(opts.compact ? [] : [...byRule].map(([rule, cols]) => `  ${rule.padEnd(13)} ${cols.join(', ')}`)),
    ...(p.warnings.length ? ['', ...p.warnings.map((w) => `warning: ${w}`)] : []),
    '',
  ].join('\n');
}

/**
 * After the data step stopped: what it had changed in staging, checked now against staging's
 * fingerprint taken just before the load (rows and checksums per table), or, when the step stopped
 * before that, against the row counts of the backup taken first; the phases it finished are the context.
 */
export async function dataStateNote(config: Config, ctx: DataContext | undefined): Promise<string> {
  if (!ctx?.backupBefore) return 'Nothing in staging was changed: the stop came before the backup.';
  const { file, rowsPerTable } = ctx.backupBefore;
  const recorded = ctx.restoredAfterFailure ? `Staging was restored from ${file} after a failed check.` : !ctx.load ? `The load did not finish; the backup taken first is ${file}.` : `Staging was replaced by the new subset; the backup taken first is ${file}.`;
  const before = ctx.fingerprintBefore;
  let sql: postgres.Sql | undefined;
  let then: Record<string, number>;
  let now: Record<string, number>;
  let differ: string[];
  try {
    sql = stagingSql(config, { max: 1 });
    if (before) {
      const after = await fingerprint(sql);
      [then, now] = [before, after].map((f) => Object.fromEntries(Object.entries(f).map(([k, t]) => [k, t.rows])));
      differ = Object.keys({ ...before, ...after }).filter((k) => before[k]?.rows !== after[k]?.rows || before[k]?.checksum !== after[k]?.checksum);
    } else {
      [then, now] = [rowsPerTable, await exactCounts(sql)];
      differ = countMismatches(then, now, ['then', 'now']);
    }
  } catch (error) {
    return unverified(recorded, error);
  } finally {
    await sql?.end({ timeout: 1 });
  }
  const tables = Object.keys({ ...then, ...now }).length;
  const reference = before ? 'the fingerprint taken before the load' : 'the backup taken first';
  const basis = before ? 'rows and checksums' : 'row counts';
  if (!differ.length) return `Staging holds what it held before the step (verified now: the ${basis} of all ${tables} tables equal ${reference}); the backup taken first is ${file}.`;
  const verified = `verified now: ${differ.length} of ${tables} tables differ from ${reference}, ${n(sumRows(then))} rows then, ${n(sumRows(now))} now`;
  const back = `\`rehearse data restore ${file}\` brings it back.`;
  if (!ctx.load) return `Staging CHANGED although the load did not finish (${verified}); ${back}`;
  const rest = ctx.reportFile ? '' : ' No data summary was written, so the checklist does not count this subset.';
  return `Staging was replaced by the new subset (${verified}); the backup taken first is ${file}: ${back}${rest}`;
}

