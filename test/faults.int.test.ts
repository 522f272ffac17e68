// Faults a user met (issue 10, items 4–7), with the real binary on a real staging stack and demo
// production: one run at a time per work folder and staging database, migrations refused before
// they run, `demo --down` / `down` acting on their own project only, and the smaller items. Every
// claim a message makes is checked against the database or the Docker engine.
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConnectionUrl, demoNames, demoSql } from '../src/demo/demo-db.js';
import { listStackContainers, dockerClient } from '../src/stack/docker.js';
import { MIGRATIONS_DIR } from '../src/migration/folder.js';
import { fingerprint } from '../src/db/restore.js';
import { LOCK_FILE } from '../src/run/lock.js';
import { stagingSql } from '../src/db/staging.js';
import { removeDemo } from './helpers/demo.js';
import { docker, rehearse, removeStack, testStack } from './helpers/stack.js';

const stack = testStack('ft-faults', 34100, { demo: { port: 34110 } });
const other = testStack('ft-other', 34200, { demo: { port: 34210 } });
/** Nothing listens here: a configured production that is down. */
const DOWN_PRODUCTION = 'postgresql://reader:pw@127.0.0.1:34199/stories_production';

const backups = () => readdirSync(path.join(stack.workDir, 'staging-backups')).sort();
async function withStaging<T>(fn: (sql: ReturnType<typeof stagingSql>) => Promise<T>): Promise<T> {
  const sql = stagingSql(stack.config, { max: 1 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 2 });
  }
}
const eligibleLearners = () => withStaging(async (sql) => (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users WHERE role = 'LEARNER' AND "deletedAt" IS NULL`)[0]!.n);
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

async function waitFor(what: string, test: () => boolean, ms = 120_000): Promise<void> {
  const until = Date.now() + ms;
  while (!test()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  await Promise.all([removeStack(stack), removeDemo(stack.config), removeDemo(other.config)]);
  const setup = await rehearse(stack, ['setup', '--yes']);
  expect(setup.exitCode, setup.stderr).toBe(0);
  const demo = await rehearse(stack, ['demo', '--users', '300', '--seed', '7']);
  expect(demo.exitCode, demo.stderr).toBe(0);
});

afterAll(async () => {
  await removeDemo(stack.config);
  await removeDemo(other.config);
  await removeStack(stack);
});

describe('one run at a time', () => {
  it('two `data --yes` at once: one runs, the other is refused naming the holder; staging holds one complete subset', async () => {
    const [a, b] = await Promise.all([rehearse(stack, ['data', '--yes']), rehearse(stack, ['data', '--yes'])]);
    const [won, lost] = a.exitCode === 0 ? [a, b] : [b, a];
    expect(won.exitCode, won.stderr).toBe(0);
    expect(lost.exitCode).toBe(2);
    expect(lost.stderr).toMatch(new RegExp(`Another rehearse run holds this work folder: \`rehearse data\` \\(pid \\d+ on ${os.hostname()}\\), since .* ago\\)\\. Nothing was changed\\.`));
    expect(lost.stderr).toMatch(/Try: Wait for it to finish, or stop it/);
    expect(lost.stderr).not.toMatch(/a bug/);
    // One complete subset: every table holds exactly the rows the winner's report counts.
    const report = JSON.parse(readFileSync(/Report: (\S+\.json)/.exec(won.stdout)![1]!, 'utf8'));
    expect(report.ok).toBe(true);
    const tables = Object.entries(report.rowsPerTable as Record<string, number>);
    expect(tables.length).toBeGreaterThan(5);
    await withStaging(async (sql) => {
      for (const [table, rows] of tables) expect((await sql.unsafe(`SELECT count(*)::int AS n FROM "${table}"`))[0]!.n, table).toBe(rows);
    });
    expect(existsSync(path.join(stack.workDir, LOCK_FILE))).toBe(false);
  });

  it('`data` while `migrate` runs is refused, from this work folder (lock file) and from another one on the same staging database (advisory lock)', async () => {
    expect(await eligibleLearners()).toBeGreaterThan(0);
    const migrate = rehearse(stack, ['migrate', '--yes'], { PRODUCTION_DATABASE_URL: DOWN_PRODUCTION });
    const lock = path.join(stack.workDir, LOCK_FILE);
    await waitFor('the migrate run to take the lock', () => existsSync(lock));
    const holder = JSON.parse(readFileSync(lock, 'utf8'));
    expect(holder).toMatchObject({ command: 'migrate', host: os.hostname() });

    const here = await rehearse(stack, ['data', '--yes']);
    expect(here.exitCode).toBe(2);
    expect(here.stderr).toContain(`\`rehearse migrate\` (pid ${holder.pid} on ${os.hostname()})`);

    // A second work folder with the same staging settings: only the database lock can see the run.
    const sibling = mkdtempSync(path.join(os.tmpdir(), 'rehearse-ft-sibling-'));
    copyFileSync(path.join(stack.workDir, 'rehearse.config.json'), path.join(sibling, 'rehearse.config.json'));
    copyFileSync(path.join(stack.workDir, '.env.staging'), path.join(sibling, '.env.staging'));
    chmodSync(path.join(sibling, '.env.staging'), 0o600);
    const there = await rehearse({ workDir: sibling, env: stack.env }, ['data', '--yes']);
    expect(there.exitCode).toBe(2);
    expect(there.stderr).toMatch(new RegExp(`Another rehearse run is writing the staging database staging_db \\(port ${stack.ports.postgres}\\): rehearse migrate pid ${holder.pid}@`));
    expect(existsSync(path.join(sibling, LOCK_FILE))).toBe(false);

    const done = await migrate;
    expect(done.exitCode, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/is applied on staging/);
    // Applied, as it says: no eligible LEARNER is left (the refused `data` runs reloaded nothing).
    expect(await eligibleLearners()).toBe(0);
    // Production was configured but down: said as such, not as "none configured".
    const report = JSON.parse(readFileSync(/Report: (\S+\.json)/.exec(done.stdout)![1]!, 'utf8'));
    expect(report.options.production).toMatch(/^production at postgresql:\/\/reader@127\.0\.0\.1:34199\/stories_production is configured but not reachable/);
    const prerequisite = report.tests.find((t: { name: string }) => t.name === 'staging is reachable and is not production');
    expect(prerequisite.summary).toMatch(/not compared with production: production at .* is configured but not reachable/);
    expect(existsSync(lock)).toBe(false);
  });
});

describe('a migration that would fool the harness, through the CLI', () => {
  it('`up.sql` with a COMMIT is refused before anything runs (--json: a clear result line); staging and its backups are unchanged', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'rehearse-ft-commit-')), 'commits');
    cpSync(path.join(MIGRATIONS_DIR, 'learner-to-customer'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'up.sql'), `UPDATE users SET role = 'LEARNER' WHERE role = 'CUSTOMER';\nCOMMIT;\nDROP DATABASE staging_db;\n`);
    const before = { data: await withStaging(fingerprint), backups: backups() };
    const r = await rehearse(stack, ['migrate', '--yes', '--json', '--migration', dir]);
    expect(r.exitCode).toBe(2);
    const result = lastJson(r.stdout);
    expect(result).toMatchObject({ type: 'result', ok: false, exitCode: 2 });
    expect(result.error).toMatch(/refused before anything ran.*Nothing was changed/);
    expect(result.details).toContain(`${dir}/up.sql:2  COMMIT`);
    expect(result.details).toContain(`${dir}/up.sql:3  DROP DATABASE`);
    expect(r.stderr + r.stdout).not.toMatch(/a bug/);
    expect(await withStaging(fingerprint)).toEqual(before.data);
    expect(backups()).toEqual(before.backups);
  });

  it('a migration folder outside the project is run but named (dry run)', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'rehearse-ft-outside-')), 'copy');
    cpSync(path.join(MIGRATIONS_DIR, 'learner-to-customer'), dir, { recursive: true });
    const r = await rehearse(stack, ['migrate', '--dry-run', '--migration', dir]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`the migration folder ${dir} is outside the work folder ${stack.workDir} and the built-in migrations`);
  });
});

describe('smaller items', () => {
  it('`setup` puts a world-readable staging.key back to 0600', async () => {
    const key = path.join(stack.workDir, 'nginx', 'ssl-staging', 'staging.key');
    chmodSync(key, 0o644);
    const r = await rehearse(stack, ['setup', '--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(statSync(key).mode & 0o777).toBe(0o600);
  });

  it('`?sslmode=require` against a server without TLS: a clear --json result, not "a bug"', async () => {
    const r = await rehearse(stack, ['data', '--dry-run', '--json'], { PRODUCTION_DATABASE_URL: `${demoConnectionUrl(stack.config)}?sslmode=require` });
    expect(r.exitCode).toBe(2);
    const result = lastJson(r.stdout);
    expect(result).toMatchObject({ type: 'result', ok: false, exitCode: 2 });
    expect(result.error).toMatch(/^The TLS connection to the production database at postgresql:\/\/\S+ failed/);
    expect(result.tryThis).toMatch(/sslmode/);
    expect(r.stdout + r.stderr).not.toMatch(/a bug|pw@|password=/);
  });

  it('workDir at / or a system folder is refused, naming the key; nothing is written there', async () => {
    for (const dir of ['/', '/etc', '/usr/local/x']) {
      const r = await rehearse(stack, ['data', 'backup'], { REHEARSE_WORK_DIR: dir });
      expect(r.exitCode, dir).toBe(2);
      expect(r.stderr).toContain(`workDir = "${dir}" (from REHEARSE_WORK_DIR) is the root or a system folder`);
    }
    expect(existsSync('/etc/.rehearse.lock')).toBe(false);
  });
});

describe('commands act on their own project only', () => {
  it('`demo --down` under another project, with this project\'s docker-compose.demo.yml in its folder, touches nothing of this project', async () => {
    const names = demoNames(stack.config);
    const users = async () => {
      const sql = demoSql(stack.config);
      try {
        return (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users`)[0]!.n;
      } finally {
        await sql.end({ timeout: 2 });
      }
    };
    const before = await users();
    expect(before).toBeGreaterThanOrEqual(300);
    copyFileSync(path.join(stack.workDir, 'docker-compose.demo.yml'), path.join(other.workDir, 'docker-compose.demo.yml'));
    copyFileSync(path.join(stack.workDir, '.env.demo'), path.join(other.workDir, '.env.demo'));
    const r = await rehearse(other, ['demo', '--down', '--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/docker-compose\.demo\.yml was written for project rehearse-test-ft-other first: its project is "rehearse-test-ft-faults-demo"/);
    expect(r.stdout).toBe('Nothing to remove: project rehearse-test-ft-other has no demo container or volume.');
    expect(r.stdout).not.toMatch(/removed/);
    // This project's demo: container running, volume there, same data.
    expect(await docker(['inspect', '-f', '{{.State.Status}}', names.container])).toBe('running');
    expect(await docker(['volume', 'inspect', '-f', '{{.Name}}', names.volume])).toBe(names.volume);
    expect(await users()).toBe(before);
    expect(readFileSync(path.join(other.workDir, 'docker-compose.demo.yml'), 'utf8')).toMatch(/^name: rehearse-test-ft-other-demo$/m);

    // Its own project's demo: "removed" only for what the engine no longer has.
    const own = await rehearse(stack, ['demo', '--down', '--yes']);
    expect(own.exitCode, own.stderr).toBe(0);
    expect(own.stdout).toBe(`Demo production of project rehearse-test-ft-faults removed: container ${names.container}, volume ${names.volume} (its data) (checked: gone).`);
    await expect(docker(['inspect', names.container])).rejects.toThrow();
    await expect(docker(['volume', 'inspect', names.volume])).rejects.toThrow();
  });

  it('`down --volumes` under another project refuses this project\'s compose file and stops nothing', async () => {
    const running = (await listStackContainers(dockerClient(), stack.config)).filter((c) => c.state === 'running').map((c) => c.name).sort();
    expect(running.length).toBeGreaterThanOrEqual(4);
    copyFileSync(path.join(stack.workDir, 'docker-compose.staging.yml'), path.join(other.workDir, 'docker-compose.staging.yml'));
    const r = await rehearse(other, ['down', '--volumes', '--yes']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/docker-compose\.staging\.yml is not this project's \(rehearse-test-ft-other-staging\): its project is "rehearse-test-ft-faults-staging"/);
    expect(r.stderr).toMatch(/Nothing was stopped or removed/);
    expect((await listStackContainers(dockerClient(), stack.config)).filter((c) => c.state === 'running').map((c) => c.name).sort()).toEqual(running);
    for (const volume of [stack.config.volumes.postgres, stack.config.volumes.redis]) expect(await docker(['volume', 'inspect', '-f', '{{.Name}}', volume])).toBe(volume);
  });
});
