// End to end in a pseudo-terminal: a Ctrl-C in the setup step and in the migrate step each ends with
// a message that matches what is really there (the engine's containers; the database's LEARNER rows
// and the migration log, read here with postgres.js), and the next `rehearse` opens on that step.
import { afterAll, describe, expect, it } from 'vitest';
import { stagingSql } from '../src/db/staging.js';
import { removeDemo } from './helpers/demo.js';
import { BIN, docker, removeStack, testStack } from './helpers/stack.js';
import { keepScreen as keep, TmuxSession } from './helpers/tmux.js';

const stack = testStack('wz2', 38500, { demo: { port: 38510, users: 300 } });
const SIZE = { cols: 120, rows: 40 };
let session: TmuxSession | undefined;

afterAll(async () => {
  await session?.kill();
  await removeDemo(stack.config);
  await removeStack(stack);
});

const start = async () => {
  await session?.kill();
  session = await TmuxSession.start(`rehearse-wz2-${process.pid}`, stack.workDir, BIN, { REHEARSE_IMAGES: 'local', NO_COLOR: '1' }, SIZE);
  return session;
};
/** The staging stack's containers as the engine lists them (`-aq` all, `-q` running). */
const stackContainers = async (flag: string) => (await docker(['ps', flag, '--filter', `label=com.docker.compose.project=${stack.config.project}-staging`])).split('\n').filter(Boolean);
// Ink wraps long lines at word boundaries: compare sentences on one line.
const flat = (screen: string) => screen.replace(/\s+/g, ' ');

async function confirm(s: TmuxSession) {
  await s.keys('-l', 'staging_db');
  // Enter on its own read, after the name is on screen (one chunk "staging_db\r" is just text).
  await s.waitFor(/> staging_db/, 10_000);
}

async function reopensOn(step: number, title: string) {
  const s = await start();
  const opened = await s.waitFor(/Step \d of 5/);
  keep(`resume-${step}`, opened);
  expect(opened).toContain(`Step ${step} of 5`);
  expect(opened).toMatch(new RegExp(`${step}\\. ${title}\\s+to do · stopped before it finished \\(started \\d+ (s|min) ago`));
  return s;
}

describe('the wizard after a Ctrl-C in each step', () => {
  it('setup: the message counts the containers the engine has; the next run opens on setup', { timeout: 600_000 }, async () => {
    await removeStack(stack);
    await removeDemo(stack.config);
    const s = await start();
    await s.waitFor(/Step 1 of 5/);
    await s.pressUntil('Enter', /Running Staging stack/);
    // Cancel once the engine has the first container of the stack.
    await s.waitFor(/✔ Wrote \d+ files/, 120_000);
    const deadline = Date.now() + 120_000;
    while (!(await stackContainers('-aq')).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await s.keys('C-c');
    const end = await s.waitFor(/\[exit \d+\]/, 180_000);
    keep('cancel-setup', end);
    expect(end).toContain('[exit 130]');
    expect(end).toMatch(/⊘ 1\. Staging stack\s+cancelled/);
    // What the engine holds now, by the compose project's label.
    const ids = await stackContainers('-aq');
    const running = await stackContainers('-q');
    expect(ids.length).toBeGreaterThan(0);
    // The engine may still finish creating a container it was asked for just before the Ctrl-C, so
    // the count read for the message can be lower than the one read a moment later, never higher.
    const left = Number(/Staging was left with (\d+) container\(s\)/.exec(flat(end))?.[1] ?? NaN);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(ids.length);
    if (running.length) expect(flat(end)).toMatch(/Still running: the staging stack \(\d+ container\(s\)|Nothing of the rehearsal is running\./);
    const again = await reopensOn(1, 'Staging stack');
    await again.pressUntil('q', /\[exit \d+\]/, 10_000);
  });

  it('migrate: the message matches the LEARNER rows and the migration log; the next run opens on migrate', { timeout: 1_800_000 }, async () => {
    // Resumes on setup (the step cut short above) and walks to the migrate step.
    const s = await reopensOn(1, 'Staging stack');
    await s.pressUntil('Enter', /Running Staging stack/);
    await s.waitFor(/Step 2 of 5/, 300_000);
    await s.pressUntil('Enter', /Preparing Production data subset/);
    await s.waitFor(/Type staging_db to confirm/, 300_000);
    await confirm(s);
    await s.pressUntil('Enter', /Running Production data subset|Step 3 of 5/, 30_000);
    await s.waitFor(/Step 3 of 5/, 300_000);
    await s.pressUntil('Enter', /Type staging_db to confirm/, 60_000);
    await confirm(s);
    await s.pressUntil('Enter', /Running Migration rehearsal/, 30_000);
    // Rollback done: the performance category (under a synthetic load) is next.
    await s.waitFor(/4\/6 Rollback: \d+ passed/, 600_000);
    await s.keys('C-c');
    const end = await s.waitFor(/\[exit \d+\]/, 300_000);
    keep('cancel-migrate', end);
    expect(end).toContain('[exit 130]');
    expect(end).toMatch(/⊘ 3\. Migration rehearsal\s+cancelled/);
    const note = /verified now: ([\d,]+) LEARNER rows left, as many as ([\d,]+) when the backup was taken, (\d+) applied run\(s\) in staging_migrations\.role_migration_log/.exec(flat(end));
    expect(note, flat(end)).not.toBeNull();

    // The database, read now: the same LEARNER rows (not soft-deleted: migration.softDeleted is skip) and the same applied runs.
    const sql = stagingSql(stack.config, { max: 1 });
    try {
      const [{ left }] = await sql<[{ left: number }]>`SELECT count(*)::int AS left FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NULL`;
      const [{ applied }] = await sql<[{ applied: number }]>`
        SELECT count(DISTINCT split_part(batch_id, '#', 1))::int AS applied FROM staging_migrations.role_migration_log WHERE migration_status = 'completed'`;
      expect(left).toBeGreaterThan(0);
      expect(Number(note![1]!.replace(/,/g, ''))).toBe(left);
      expect(Number(note![3])).toBe(applied);
      // The cancel undid the applied runs: the rehearsal was cut short, so staging is as before the step.
      expect(applied).toBe(0);
      expect(flat(end)).toContain('The migration is rolled back on staging (verified now:');
      expect(note![2]).toBe(note![1]);
    } finally {
      await sql.end({ timeout: 1 });
    }

    const again = await reopensOn(3, 'Migration rehearsal');
    await again.pressUntil('q', /\[exit \d+\]/, 10_000);
  });
});
