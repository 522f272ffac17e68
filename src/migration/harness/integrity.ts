// Category 3, integrity: no orphans, every constraint valid, row counts and the columns the migration
// may not change equal to the baseline.
import { diffSums, orphanCounts, unvalidatedConstraints } from '../checks.js';
import { type HarnessCore, type TestResult } from './core.js';

export async function integrityTests(h: HarnessCore): Promise<TestResult[]> {
  return h.category('integrity', async () => {
    const b = h.baseline!;
    await h.test('integrity', 'zero orphans on every foreign key', async () => {
      const orphans = await orphanCounts(h.sql, h.shape!);
      const bad = Object.entries(orphans).filter(([, n]) => n > 0);
      return { status: bad.length ? 'fail' : 'pass', summary: bad.length ? bad.map(([k, n]) => `${k}: ${n}`).join('; ') : `${Object.keys(orphans).length} foreign keys checked`, data: { orphans } };
    });
    await h.test('integrity', 'every constraint is valid', async () => {
      const invalid = await unvalidatedConstraints(h.sql, h.inputs.schemas);
      return { status: invalid.length ? 'fail' : 'pass', summary: invalid.length ? `not validated: ${invalid.join(', ')}` : 'all constraints validated', data: { invalid } };
    });
    const now = await h.protectedSums();
    await h.test('integrity', 'row counts unchanged in every table', async () => {
      const changed = Object.keys(b.sums).filter((k) => !h.sideTables.includes(k) && now[k]?.rows !== b.sums[k]!.rows);
      const side = h.m.meta.alsoChanges.map((a) => `${a.table}: ${a.why}`);
      return {
        status: changed.length ? 'fail' : 'pass',
        summary: changed.length ? changed.map((k) => `${k}: ${b.sums[k]!.rows} → ${now[k]?.rows}`).join('; ') : `${Object.keys(now).length} tables, same counts${side.length ? ` (not counted: ${side.join('; ')})` : ''}`,
        data: { rows: Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v.rows])) },
      };
    });
    await h.test('integrity', 'checksums of every column the migration may not change are unchanged', async () => {
      const diff = diffSums(b.protectedSums, now);
      return {
        status: diff.length ? 'fail' : 'pass',
        summary: diff.length ? `changed: ${diff.map((d) => d.table).join(', ')}` : `every table identical (${h.m.meta.target.table} without ${h.m.meta.mayChange.join(', ')})`,
        data: { mayChange: h.m.meta.mayChange, differing: diff },
      };
    });
  });
}
