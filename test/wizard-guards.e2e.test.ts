// End to end in an 80x24 pseudo-terminal: every guarded step asks its own question with its own
// figures and the question stays on screen; a Ctrl-C mid-step says what really changed (checked
// against the database) and the next `rehearse` opens on that step; NO_COLOR is honoured.
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDemo } from './helpers/demo.js';
import { BIN, docker, removeStack, testStack } from './helpers/stack.js';
import { keepScreen as keep, TmuxSession } from './helpers/tmux.js';

const stack = testStack('wz', 38000, { demo: { port: 38010, users: 300 } });
const SMALL = { cols: 80, rows: 24 };
let session: TmuxSession | undefined;

afterAll(async () => {
  await session?.kill();
  await removeDemo(stack.config);
  await removeStack(stack);
});

const start = async (env: Record<string, string> = { NO_COLOR: '1' }, size = SMALL, command = BIN) => {
  await session?.kill();
  session = await TmuxSession.start(`rehearse-wz-${process.pid}`, stack.workDir, command, { REHEARSE_IMAGES: 'local', ...env }, size);
  return session;
};
const withEscapes = async (s: TmuxSession) => String((await execa('tmux', ['capture-pane', '-p', '-e', '-t', s.name])).stdout);
// A foreground colour in an SGR sequence: ESC[36m, ESC[1;32m, …
const COLOUR = /\u001b\[(?:[0-9;]*;)?3[0-7](?:;[0-9;]*)?m/;
// Ink wraps long lines at word boundaries: compare sentences on one line.
const flat = (screen: string) => screen.replace(/\s+/g, ' ');
const rowsOf = (screen: string) => screen.replace(/\n+$/, '').split('\n').length;
const psql = (query: string) => docker(['exec', `${stack.config.project}-db-staging`, 'psql', '-U', stack.config.database.user, '-d', stack.config.database.name, '-tAc', query]);

async function typeName(s: TmuxSession) {
  await s.keys('-l', 'staging_db');
  // Enter on its own read, after the name is on screen (one chunk "staging_db\r" is just text).
  await s.waitFor(/> staging_db/, 10_000);
}

describe('the wizard guards, at 80x24', () => {
  it('colours only without NO_COLOR', { timeout: 60_000 }, async () => {
    const s = await start({});
    await s.waitFor(/Step 1 of 5/);
    expect(await withEscapes(s)).toMatch(COLOUR);
    await s.pressUntil('q', /\[exit \d+\]/, 10_000);
  });

  it('walks all five steps; each guarded step asks its own question, on screen', { timeout: 1_500_000 }, async () => {
    await removeStack(stack);
    await removeDemo(stack.config);
    const s = await start();
    const first = await s.waitFor(/Step 1 of 5/);
    expect(first).toMatch(/Staging stack\s+to do · no setup report yet/);
    expect(await withEscapes(s)).not.toMatch(COLOUR);
    await s.pressUntil('Enter', /Running Staging stack/);
    await s.waitFor(/Step 2 of 5/, 240_000);

    // Data: the first wait (the demo production) shows what it waits for.
    await s.pressUntil('Enter', /Preparing Production data subset/);
    expect(await s.waitFor(/› demo production|› planning the subset/, 60_000)).toMatch(/\(read-only\)… \d+ s/);
    const data = await s.waitFor(/Type staging_db to confirm/, 300_000);
    keep('data-prompt-80x24', data);
    expect(rowsOf(data)).toBeLessThanOrEqual(24);
    expect(flat(data)).toContain('⚠ Replace the staging database staging_db with this subset');
    expect(data).toMatch(/staging now\s+\d+ tables, [\d,]+ rows/);
    expect(flat(data)).toMatch(/replaced by\s+[\d,]+ anonymized rows \(\d+ users \+ \d+ parents\)/);
    expect(data).toMatch(/TABLE\s+ROWS\s+EST\. SIZE/);
    expect(data).toContain('Esc back · Ctrl-C cancel');
    expect(await withEscapes(s)).not.toMatch(COLOUR);
    await typeName(s);
    await s.pressUntil('Enter', /Running Production data subset|Step 3 of 5/, 30_000);
    await s.waitFor(/Step 3 of 5/, 300_000);

    // Migrate: its own question (not the data one), with the rows it would change.
    await s.pressUntil('Enter', /Type staging_db to confirm/, 60_000);
    const migrate = await s.waitFor(/Type staging_db to confirm/, 10_000);
    keep('migrate-prompt-80x24', migrate);
    expect(rowsOf(migrate)).toBeLessThanOrEqual(24);
    expect(flat(migrate)).toContain('⚠ Rehearse learner-to-customer on the staging database staging_db: it changes data');
    expect(flat(migrate)).toMatch(/rows [1-9][\d,]* users rows with role = 'LEARNER'/);
    expect(migrate).not.toContain('Replace the staging database');
    expect(migrate).not.toMatch(/TABLE\s+ROWS/);
    await typeName(s);
    await s.pressUntil('Enter', /Running Migration rehearsal|Step 4 of 5/, 30_000);
    await s.waitFor(/Step 4 of 5/, 600_000);

    // Validate: a failure shows ✖ and stops with retry/continue; a pass moves on.
    await s.pressUntil('Enter', /Running Validation|Step 5 of 5|r retry · c continue/);
    const validated = await s.waitFor(/Step 5 of 5|r retry · c continue/, 300_000);
    keep('validate-80x24', validated);
    if (/r retry · c continue/.test(validated)) {
      expect(flat(validated)).toMatch(/✖ Validation failed: \d+ required validation check\(s\) failed/);
      await s.keys('c');
      await s.waitFor(/Step 5 of 5/, 10_000);
    }

    await s.pressUntil('Enter', /Running Success checklist|\[exit \d+\]|r retry · c continue/);
    const end = await s.waitFor(/\[exit \d+\]|r retry · c continue/, 120_000);
    keep('checklist-80x24', end);
    if (/r retry · c continue/.test(end)) await s.keys('q');
    const exit = await s.waitFor(/\[exit \d+\]/, 30_000);
    expect(exit).toMatch(/\[exit [01]\]/);
  });

  it('`rehearse data` asks the same question as the wizard, after the same preview', { timeout: 300_000 }, async () => {
    const s = await start({ NO_COLOR: '1' }, SMALL, `${BIN} data`);
    const asked = await s.waitFor(/Type staging_db to confirm/, 240_000);
    keep('cli-data-prompt-80x24', asked);
    // The preview is ordinary output above the prompt (its head may scroll away at 24 rows).
    expect(asked).toMatch(/total\s+[\d,]+\s+[\d.]+ KiB/);
    expect(asked).toMatch(/Anonymized columns \(\d+\)/);
    expect(flat(asked)).toContain('⚠ Replace the staging database staging_db with this subset');
    expect(flat(asked)).toMatch(/replaced by [\d,]+ anonymized rows \(\d+ users \+ \d+ parents\)/);
    const end = await s.pressUntil('Escape', /\[exit \d+\]/, 20_000);
    expect(end).toContain('[exit 130]');
    expect(end).toContain('Nothing was changed.');
  });

  it('after Ctrl-C while proving the backup, says staging was replaced (as the database shows) and resumes on that step', { timeout: 900_000 }, async () => {
    // The rehearsal ended migrated: only the soft-deleted LEARNERs are left (migration.softDeleted: skip).
    const learners = () => psql(`SELECT count(*) FROM users WHERE role = 'LEARNER'`).then(Number);
    const migrated = await learners();
    const s = await start({ NO_COLOR: '1' }, { cols: 100, rows: 30 });
    // Every step before the checklist has its evidence: the wizard opens on the checklist.
    const opened = await s.waitFor(/Step \d of 5/);
    keep('reopen-100x30', opened);
    expect(opened).toMatch(/✔ 2\. Production data subset\s+done · data summary \d+ (s|min) ago/);
    // Back to the data step (↑ from wherever it opened), and run it again.
    // (It opens on step 1 when the loaded machine left a container unhealthy: then ↓.)
    const at = Number(/Step (\d) of 5/.exec(opened)![1]);
    if (at !== 2) await s.pressUntil(at > 2 ? 'Up' : 'Down', /Step 2 of 5/, 30_000);
    await s.waitFor(/Production data subset is done .* · Enter runs it again/, 10_000);
    await s.pressUntil('Enter', /Type staging_db to confirm/, 300_000);
    await typeName(s);
    await s.pressUntil('Enter', /Running Production data subset/, 30_000);
    await s.waitFor(/✔ Verified: /, 300_000);
    await s.keys('C-c');
    const end = await s.waitFor(/\[exit \d+\]/, 120_000);
    keep('cancel-during-proof-100x30', end);
    expect(end).toContain('[exit 130]');
    expect(end).toMatch(/⊘ 2\. Production data subset\s+cancelled/);
    expect(end.match(/^Cancelled\./gm)).toHaveLength(1);
    expect(end).not.toContain('Cancelled.Cancelled.');
    expect(flat(end)).toMatch(/Cancelled\. Staging was replaced by the new subset \(verified now: [1-9]\d* of \d+ tables differ from the fingerprint taken before the load, [\d,]+ rows then, [\d,]+ now\); the backup taken first is \S+staging-backup-/);
    expect(flat(end)).toContain('`rehearse data restore');
    expect(flat(end)).toMatch(/Still running: the staging stack \(4 container\(s\)/);
    expect(flat(end)).toMatch(/the demo production rehearse-test-wz-db-demo/);
    expect(flat(end)).not.toContain('volumes and data are untouched');
    // What the database shows: the new (unmigrated) subset replaced the migrated data.
    expect(await learners()).toBeGreaterThan(migrated);

    // The next run opens on the interrupted step.
    const again = await start();
    const resumed = await again.waitFor(/Step \d of 5/);
    keep('resume-80x24', resumed);
    expect(resumed).toContain('Step 2 of 5');
    // (80 columns cut the line after the age.)
    expect(resumed).toMatch(/2\. Production data subset\s+to do · stopped before it finished \(started \d+ (s|min)/);
    await again.pressUntil('q', /\[exit \d+\]/, 10_000);
  });
});
