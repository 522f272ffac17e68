// The readiness report a manager opens: a GO/NO-GO banner, statuses by colour and shape (no emoji
// font needed), charts of the rehearsal, and tables with header scopes. Rendered for real in
// headless Chromium (Debian's `chromium`, installed by .ci/run) and checked pixel by pixel.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Checklist } from '../src/evidence/checklist.js';
import { loadConfig } from '../src/config.js';
import { projectProduction } from '../src/migration/projection.js';
import { writeReport } from '../src/evidence/reports.js';
import { buildReadinessDocument, renderHtml, renderMarkdown } from '../src/evidence/readiness-report.js';
import { decodePng, distinctColours, pixel } from './helpers/png.js';
import { missingPrerequisite } from './helpers/prerequisite.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

function workspace(projection?: unknown) {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-report-'));
  const { config } = loadConfig({ cwd: workDir, env: { REHEARSE_PROJECT: 'report-test' } });
  writeReport(config, 'migration-test-report', {
    kind: 'migration-test-report',
    migration: { name: 'learner-to-customer' },
    counts: { eligible: 39, migrated: 39, softDeletedLeft: 2 },
    categories: { migration: { status: 'pass', tests: 9, pass: 9, fail: 0, warn: 0, skip: 0 }, rollback: { status: 'pass', tests: 4, pass: 4, fail: 0, warn: 0, skip: 0 } },
    phases: [
      { label: 'up', phase: 'up', rows: 39, ms: 612, rowsPerSecond: 182, batches: 1, retries: [], locksHeld: ['users: RowExclusiveLock'] },
      { label: 'down', phase: 'down', rows: 39, ms: 248, rowsPerSecond: 208, batches: 1, retries: [], locksHeld: ['users: RowExclusiveLock'] },
    ],
    options: { thresholds: { workloadP95Ms: 1000 } },
    performance: {
      locks: { up: { samples: 13, waits: 2, longestWaitMs: 40, blockedQueries: 2, blockedByMigration: 2, migrationWaits: 0, migrationLongestWaitMs: 0, deadlocks: 0, migrationLocks: ['users: RowExclusiveLock'], timeline: [[0, 0], [25, 1], [50, 2], [75, 0]] } },
      workload: { connections: 4, windows: { before: { ops: 78, reads: 23, writes: 55, errors: 0, p50Ms: 97, p95Ms: 308, maxMs: 415 }, up: { ops: 22, reads: 6, writes: 16, errors: 0, p50Ms: 136, p95Ms: 195, maxMs: 201 } } },
      ...(projection ? { projection } : {}),
    },
  });
  return config;
}

const checklist = (ready: boolean): Checklist => ({
  generatedAt: '2026-12-02T04:00:00.000Z',
  ready,
  items: [
    { group: 'Infrastructure', criterion: 'All containers running and healthy', status: ready ? 'met' : 'not met', evidence: 'live', fix: 'rehearse setup', required: true },
    { group: 'Infrastructure', criterion: 'Monitoring operational (when enabled)', status: 'n/a', evidence: 'profile off', fix: 'rehearse setup --monitoring', required: false },
    { group: 'Migration', criterion: 'Rollback verified', status: 'met', evidence: 'migration-test-report › rollback: pass', fix: 'rehearse migrate --yes', required: true },
  ],
});

describe('readiness report', () => {
  it('explains week 2, shows statuses as words, phases and locks as tables, and the environment to reproduce', () => {
    const config = workspace();
    const md = renderMarkdown(buildReadinessDocument(config, checklist(false)));
    expect(md).toMatch(/^# Week-2 readiness: NO-GO/);
    expect(md).toMatch(/week 2 is the production deployment/);
    expect(md).toContain('| Infrastructure | All containers running and healthy | NOT MET |');
    expect(md).not.toMatch(/[✅❌❔➖]/u);
    expect(md).toContain('| up | 39 | 612 ms | 182 | 1 | 0 | users: RowExclusiveLock |');
    expect(md).not.toMatch(/```json|\{"label"/);
    expect(md).toContain('export REHEARSE_PROJECT=report-test');
    expect(md).toContain('export REHEARSE_PORT_HTTPS=8080');
  });

  it('projects the production run with its assumption and error, from the trial sizes', () => {
    const projection = projectProduction({
      trials: [
        { limit: 10_000, rows: 10_000, ms: 1000, walBytes: 3_000_000 },
        { limit: 20_000, rows: 20_000, ms: 2100, walBytes: 6_000_000 },
        { limit: 40_000, rows: 40_000, ms: 4000, walBytes: 12_400_000 },
      ],
      productionRows: 1_000_000,
      stagingEligible: 40_000,
      stagingUsers: 100_000,
      batchSize: 0,
    });
    const md = renderMarkdown(buildReadinessDocument(workspace(projection), checklist(true)));
    expect(md).toContain('## Production run');
    expect(md).toContain('| 20,000 | 2100 ms | 0.105 ms | 5.7 MiB | 300 B |');
    expect(md).toMatch(/Projected for production's 1,000,000 eligible rows \(1 transaction\(s\); every migrated row locked until the single transaction commits\)/);
    expect(md).toContain('| Duration | 100.0 s | 100.0 s – 105.0 s |');
    expect(md).toContain('| Longest row lock | 100.0 s | 100.0 s – 105.0 s |');
    expect(md).toContain('| WAL written | 295.6 MiB | 286.1 MiB – 295.6 MiB |');
    expect(md).toMatch(/Assumption: The cost grows linearly.*Error: the costs per row of the trial sizes differ by 5 % \(time\) and 3 % \(WAL\)/);
  });

  it('says plainly when the rehearsal was too small to project from, and how to make it big enough', () => {
    const projection = projectProduction({ trials: [10, 19, 38].map((rows) => ({ limit: rows, rows, ms: 3 + rows * 0.05, walBytes: rows * 400 })), productionRows: 200_000, stagingEligible: 38, stagingUsers: 65, batchSize: 0 });
    const md = renderMarkdown(buildReadinessDocument(workspace(projection), checklist(true)));
    expect(md).toMatch(/No projection for production's 200,000 eligible rows: \*\*the rehearsal was too small to project from\*\* \(the largest trial migrated 38 rows/);
    expect(md).toContain('The performance figures above describe staging only.');
    expect(md).toContain('To project: `rehearse data --yes --max-users 3500` then `rehearse migrate --yes` (about 2,000 eligible rows in staging).');
    expect(md).not.toContain('| Duration |');
  });

  it('writes self-contained HTML with a banner, scoped headers and three inline SVG charts', () => {
    const html = renderHtml(buildReadinessDocument(workspace(), checklist(true)));
    expect(html).toMatch(/<div class="banner go" role="status" id="verdict"><span class="verdict">GO<\/span>/);
    expect(html).toContain('<th scope="col">Criterion</th>');
    expect(html).toContain('<th scope="row">');
    expect(html.match(/<svg xmlns/g)).toHaveLength(3);
    expect(html).toContain('aria-label="Lock waits over time"');
    expect(html).not.toMatch(/<script|<link|src="http|[✅❌❔➖]/u);
  });

  it.skipIf(missingPrerequisite('chromium', CHROMIUM !== undefined, 'apt-get install -y chromium')).each([
    ['GO', true, [0x1a, 0x7f, 0x37]],
    ['NO-GO', false, [0xcf, 0x22, 0x2e]],
  ] as const)('renders in headless Chromium: not blank, and the %s banner is on top in its colour', (_verdict, ready, colour) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-report-shot-'));
    const file = path.join(dir, 'report.html');
    writeFileSync(file, renderHtml(buildReadinessDocument(workspace(), checklist(ready))));
    const png = path.join(dir, 'shot.png');
    execFileSync(CHROMIUM!, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'profile')}`, '--window-size=1000,1400', `--screenshot=${png}`, `file://${file}`], { stdio: 'ignore', timeout: 60_000 });
    const img = decodePng(readFileSync(png));
    expect(img.width).toBe(1000);
    expect(distinctColours(img)).toBeGreaterThan(100);
    // The banner sits at the top, full width: sample well inside it, right of the verdict text.
    const [r, g, b] = pixel(img, img.width - 60, 30);
    expect(Math.abs(r - colour[0]!) + Math.abs(g - colour[1]!) + Math.abs(b - colour[2]!)).toBeLessThan(30);
    // Below the banner the page is mostly white with text: the report did not render as one colour.
    expect(distinctColours(img, { x: 0, y: 200, width: img.width, height: 600 })).toBeGreaterThan(20);
  });
});
