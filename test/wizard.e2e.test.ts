// End to end: the real binary in a pseudo-terminal (tmux), CI unset, through the wizard's setup step.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, docker, removeStack, testStack } from './helpers/stack.js';
import { TmuxSession } from './helpers/tmux.js';

const stack = testStack('wizard', 24000);
let session: TmuxSession | undefined;

afterAll(async () => {
  await session?.kill();
  await removeStack(stack);
});

describe('the wizard in a terminal', () => {
  it('runs the setup step with live tasks and container stats, then moves on and quits cleanly', async () => {
    session = await TmuxSession.start(`rehearse-e2e-${process.pid}`, stack.workDir, BIN, { REHEARSE_IMAGES: 'local', NO_COLOR: '1' });
    const first = await session.waitFor(/Step 1 of 5/);
    expect(first).toMatch(/Staging stack\s+to do/);
    expect(first).toMatch(/Production data subset\s+to do/);

    await session.pressUntil('Enter', /Running Staging stack/);
    const running = await session.waitFor(/Wrote \d+ files/, 30_000);
    expect(running).toMatch(/Preflight: Docker .*Compose v2/);

    const done = await session.waitFor(/Step 2 of 5/, 180_000);
    expect(done).toMatch(/✔ 1\. Staging stack\s+done/);
    expect(done).toMatch(/✔ Report: \S+/);
    // The stats pane, fed by dockerode's stats stream, lists the four services.
    // (health is re-read every few seconds, so wait for each row to catch up).
    let stats = '';
    for (const service of ['app-staging', 'nginx-staging', 'postgres-staging', 'redis-staging']) stats = await session.waitFor(new RegExp(`${service}\\s+healthy\\s+\\d+\\.\\d%\\s+[\\d.]+ [KMG]iB`), 20_000);
    expect(stats).toMatch(/SERVICE\s+HEALTH\s+CPU\s+MEMORY/);

    const end = await session.pressUntil('q', /\[exit \d+\]/, 10_000);
    expect(end).toContain('[exit 0]');
    expect(readdirSync(path.join(stack.workDir, 'staging-backups')).some((f) => f.startsWith('setup-report-'))).toBe(true);
    expect(await docker(['inspect', '-f', '{{.State.Health.Status}}', `${stack.config.project}-db-staging`])).toBe('healthy');
  });

  it('cancels a running setup with Ctrl-C, exits 130 and says what state the stack is in', async () => {
    await removeStack(stack);
    session = await TmuxSession.start(`rehearse-e2e-${process.pid}`, stack.workDir, BIN, { REHEARSE_IMAGES: 'local', NO_COLOR: '1' });
    await session.waitFor(/Step 1 of 5/);
    await session.pressUntil('Enter', /Running Staging stack/);
    // Cancel while compose is starting containers, once one exists ("Creating" may still end with none).
    await session.waitFor(/Container \S+ +(Created|Start|Wait)/, 30_000);
    await session.keys('C-c');
    const end = await session.waitFor(/\[exit \d+\]/, 30_000);
    expect(end).toContain('[exit 130]');
    expect(end).toMatch(/Cancelled\. Staging was left with \d+ container/);
    expect(end).toContain('rehearse status');
    // No orphaned compose process is left behind.
    const { execa } = await import('execa');
    const ps = String((await execa('ps', ['-eo', 'args'])).stdout);
    expect(ps).not.toContain(`-p ${stack.config.project}-staging`);
    expect(existsSync(path.join(stack.workDir, '.env.staging'))).toBe(true);
  });
});
