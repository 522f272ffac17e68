// `rehearse data backup` / `data restore` against a real staging stack: a backup file exists only once
// it is proven; a restore checks its file before touching anything and runs as one transaction, so a
// bad file or a failing statement leaves staging byte-identical (fingerprinted before and after).
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupStaging, validateBackup } from '../src/db/backup.js';
import { loadConfig } from '../src/config.js';
import { CancelledError } from '../src/errors.js';
import { fingerprint, proveRestore, restoreStaging } from '../src/db/restore.js';
import { stagingSql } from '../src/db/staging.js';
import { docker, rehearse, removeStack, testStack } from './helpers/stack.js';

const stack = testStack('bk', 32000);
const container = `${stack.config.project}-db-staging`;
const backupsDir = path.join(stack.workDir, 'staging-backups');
const scratchDir = path.join(stack.workDir, 'files');
const staging = () => stagingSql(stack.config, { max: 1, statementTimeoutMs: 0 });
const config = () => loadConfig({ cwd: stack.workDir, env: stack.env }).config;
/** Every entry of staging-backups/, hidden partial files included. */
const entries = () => readdirSync(backupsDir).sort();

async function withSql<T>(fn: (sql: ReturnType<typeof staging>) => Promise<T>): Promise<T> {
  const sql = staging();
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 2 });
  }
}

const stagingFingerprint = () => withSql(fingerprint);

async function waitForStaging(): Promise<void> {
  await docker(['start', container]).catch(() => undefined);
  const until = Date.now() + 120_000;
  for (;;) {
    try {
      await withSql((sql) => sql`SELECT 1`);
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/**
 * Holds a lock on bk_orders, so pg_dump (ACCESS EXCLUSIVE held here) or a restore's DROP SCHEMA
 * (ACCESS SHARE held here) waits for as long as the test wants: a deterministic "in progress".
 */
async function holdLock(mode = 'ACCESS EXCLUSIVE'): Promise<{ release: () => Promise<void> }> {
  const sql = staging();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const tx = sql
    .begin(async (t) => {
      await t.unsafe(`LOCK TABLE bk_orders IN ${mode} MODE`);
      locked();
      await held;
    })
    .catch(() => undefined);
  await isLocked;
  return {
    release: async () => {
      release();
      await tx;
      await sql.end({ timeout: 2 });
    },
  };
}

/** Waits until a session whose application_name matches `like` (pg_dump, a restore's psql) waits for a lock. */
async function waitingForLock(like = 'pg_dump'): Promise<void> {
  const until = Date.now() + 120_000;
  for (;;) {
    const [row] = await withSql((sql) => sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE ${like} AND wait_event_type = 'Lock'`);
    if (row!.n > 0) return;
    if (Date.now() > until) throw new Error(`${like} never started waiting`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function backupFile(): Promise<string> {
  const r = await rehearse(stack, ['data', 'backup']);
  expect(r.exitCode, r.stderr).toBe(0);
  return /Backup: (\S+\.sql\.gz)/.exec(r.stdout)![1]!;
}

beforeAll(async () => {
  await removeStack(stack);
  const setup = await rehearse(stack, ['setup', '--yes']);
  expect(setup.exitCode, setup.stderr).toBe(0);
  mkdirSync(scratchDir, { recursive: true });
  await withSql(async (sql) => {
    await sql.unsafe(`
      CREATE TABLE bk_users (id int PRIMARY KEY, name text NOT NULL);
      CREATE TABLE bk_orders (id int PRIMARY KEY, user_id int NOT NULL REFERENCES bk_users, note text);
      CREATE TABLE "Mixed Case" (id int, "select" text);
      CREATE TABLE bk_empty (id int);
      INSERT INTO bk_users SELECT g, 'user ' || g FROM generate_series(1, 300) g;
      INSERT INTO bk_orders SELECT g, 1 + g % 300, E'line one\\nline\\ttwo ' || g FROM generate_series(1, 1500) g;
      INSERT INTO "Mixed Case" SELECT g, 'x' FROM generate_series(1, 7) g;`);
  });
});

afterAll(async () => {
  await removeStack(stack);
});

describe('data backup', () => {
  it('keeps a backup only once proven, and reports its tables, rows, bytes and time', async () => {
    const r = await rehearse(stack, ['data', 'backup', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(result).toMatchObject({ ok: true });
    expect(path.basename(result.file)).toMatch(/^staging-backup-\d{8}-\d{6}-\d{3}Z\.sql\.gz$/);
    expect(statSync(result.file).mode & 0o777).toBe(0o600);
    expect(result.bytes).toBe(statSync(result.file).size);
    expect(Number.isNaN(Date.parse(result.takenAt))).toBe(false);
    expect(result.rowsPerTable).toMatchObject({ 'public.bk_users': 300, 'public.bk_orders': 1500, 'public."Mixed Case"': 7, 'public.bk_empty': 0 });
    const exact = await withSql((sql) => sql`SELECT (SELECT count(*) FROM bk_users)::int + (SELECT count(*) FROM bk_orders)::int + (SELECT count(*) FROM "Mixed Case")::int AS n`);
    expect(result.rows).toBeGreaterThanOrEqual(exact[0]!.n);
    const info = await validateBackup(result.file);
    expect(info.rowsPerTable).toEqual(result.rowsPerTable);
    expect(entries().filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('with the staging database stopped, exits non-zero, says so, and leaves no file', async () => {
    const files = entries();
    await docker(['stop', '-t', '2', container]);
    try {
      const r = await rehearse(stack, ['data', 'backup']);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain(`its container ${container} is not running. No backup file was written.`);
      expect(entries()).toEqual(files);
    } finally {
      await waitForStaging();
    }
  });

  it('killed while the dump is in progress, exits non-zero and leaves no file (not even the partial one)', async () => {
    const files = entries();
    const lock = await holdLock();
    let run: ReturnType<typeof rehearse> | undefined;
    try {
      run = rehearse(stack, ['data', 'backup']);
      await waitingForLock();
      expect(entries().some((f) => f.endsWith('.partial'))).toBe(true);
      await docker(['kill', container]);
      const r = await run;
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/no backup file was written/i);
      expect(entries()).toEqual(files);
    } finally {
      await lock.release();
      await run;
      await waitForStaging();
    }
  });

  it('cancelled while the dump is in progress, removes the partial file', async () => {
    const files = entries();
    const lock = await holdLock();
    const controller = new AbortController();
    try {
      const backup = backupStaging(config(), controller.signal);
      const settled = backup.catch((error: unknown) => error);
      await waitingForLock();
      controller.abort();
      const error = await settled;
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as CancelledError).stateNote).toMatch(/partial backup file was removed/);
      expect(entries()).toEqual(files);
    } finally {
      await lock.release();
    }
  });
});

describe('data restore', () => {
  it('refuses a damaged, empty, uncompressed, cut-off, non-dump or symlinked file before touching anything', async () => {
    const valid = await backupFile();
    const bytes = readFileSync(valid);
    const sqlText = gunzipSync(bytes).toString('utf8');
    const at = (name: string, content: Buffer | string) => {
      const file = path.join(scratchDir, name);
      writeFileSync(file, content);
      return file;
    };
    const link = path.join(scratchDir, 'link.sql.gz');
    symlinkSync(valid, link);
    const cases: Array<[string, RegExp]> = [
      [at('truncated.sql.gz', bytes.subarray(0, Math.floor(bytes.length / 2))), /is damaged: it does not decompress completely \(unexpected end of file\)/],
      [at('empty.sql.gz', ''), /is empty \(0 bytes\)/],
      [at('plain.sql', sqlText), /is not gzip-compressed \(it looks like plain SQL\)/],
      [at('cut-off.sql.gz', gzipSync(sqlText.slice(0, Math.floor(sqlText.length * 0.6)))), /is incomplete: pg_dump's end marker/],
      [at('nothing.sql.gz', gzipSync('')), /is not a pg_dump of a database/],
      [link, /is a symbolic link \(to .*\); only regular files are restored/],
    ];
    const before = { staging: await stagingFingerprint(), files: entries() };
    expect(Object.keys(before.staging).length).toBeGreaterThan(3);
    for (const [file, problem] of cases) {
      const r = await rehearse(stack, ['data', 'restore', file, '--yes']);
      expect(r.exitCode, `${file}: ${r.stderr}`).toBe(2);
      expect(r.stderr, file).toContain(`Backup ${file} `);
      expect(r.stderr, file).toMatch(problem);
      expect(r.stderr, file).toContain('Try: ');
      expect(await stagingFingerprint(), file).toEqual(before.staging);
      expect(entries(), file).toEqual(before.files);
    }
    const plain = await rehearse(stack, ['data', 'restore', path.join(scratchDir, 'plain.sql'), '--yes']);
    expect(plain.stderr).toContain(`gzip -k ${path.join(scratchDir, 'plain.sql')}`);
  });

  it('restores the newest valid backup (skipping a newer invalid one), verifies it, and names the backup taken first', async () => {
    const valid = await backupFile();
    const saved = await stagingFingerprint();
    // What the reported failure left behind: a 20-byte, valid gzip named like the newest backup.
    const bogus = path.join(backupsDir, 'staging-backup-29991231-235959-999Z.sql.gz');
    writeFileSync(bogus, gzipSync(''), { mode: 0o600 });
    try {
      await withSql(async (sql) => {
        await sql`DELETE FROM bk_orders WHERE id > 1000`;
        await sql`UPDATE bk_users SET name = 'changed'`;
        await sql`CREATE TABLE bk_stray (id int)`;
      });
      const changed = await stagingFingerprint();
      expect(changed).not.toEqual(saved);
      const r = await rehearse(stack, ['data', 'restore', '--yes']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Skipped: Backup ${bogus} is not a pg_dump of a database`);
      expect(r.stdout).toContain(`Restored ${valid} (taken at `);
      expect(r.stdout).toMatch(/Verified: every table's row count equals the backup's \(\d+ tables, [\d,]+ rows\)/);
      expect(await stagingFingerprint()).toEqual(saved);
      const first = /The staging data it replaced is in (\S+)\.$/m.exec(r.stdout)![1]!;
      const taken = await validateBackup(first);
      expect(taken.rowsPerTable['public.bk_orders']).toBe(1000);
      expect(taken.rowsPerTable['public.bk_stray']).toBe(0);
    } finally {
      rmSync(bogus);
    }
  });

  it('a dump whose SQL fails half-way leaves staging exactly as it was and names the backup taken first', async () => {
    const sqlText = gunzipSync(readFileSync(await backupFile())).toString('utf8');
    // After the first table's data: the schemas are already dropped and some rows loaded.
    const cut = sqlText.indexOf('\n\\.\n') + 4;
    expect(cut).toBeGreaterThan(4);
    const failing = path.join(scratchDir, 'fails-half-way.sql.gz');
    writeFileSync(failing, gzipSync(sqlText.slice(0, cut) + 'SELECT 1 / 0;\n' + sqlText.slice(cut)));
    await withSql((sql) => sql`DELETE FROM bk_orders WHERE id > 1400`);
    const before = await stagingFingerprint();
    const r = await rehearse(stack, ['data', 'restore', failing, '--yes']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`Restoring ${failing} failed: psql stopped:`);
    expect(r.stderr).toContain('division by zero');
    const m = /Staging is unchanged \(verified: (\d+) tables, ([\d,]+) rows, same checksums\); the backup taken before the restore is (\S+)\./.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(Number(m![1])).toBe(Object.keys(before).length);
    expect(await stagingFingerprint()).toEqual(before);
    expect((await validateBackup(m![3]!)).rowsPerTable['public.bk_orders']).toBe(1400);
  });

  it('cancelled while it waits inside its transaction, leaves staging exactly as it was and says so', async () => {
    const file = await backupFile();
    await withSql((sql) => sql`DELETE FROM bk_orders WHERE id > 1300`);
    const before = await stagingFingerprint();
    const lock = await holdLock('ACCESS SHARE');
    const controller = new AbortController();
    try {
      const settled = withSql((sql) => restoreStaging(config(), sql, file, controller.signal, { takenFirst: 'the-first.sql.gz' })).catch((error: unknown) => error);
      await waitingForLock('rehearse-restore-%');
      controller.abort();
      const error = await settled;
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as CancelledError).stateNote).toMatch(/was cancelled\. Staging is unchanged \(verified: \d+ tables, [\d,]+ rows, same checksums\); the backup taken before the restore is the-first\.sql\.gz\./);
    } finally {
      await lock.release();
    }
    expect(await stagingFingerprint()).toEqual(before);
  });
});

describe('the restore proof', () => {
  it('two proofs at once use their own scratch databases and drop them', async () => {
    const file = await backupFile();
    const cfg = config();
    await withSql(async (sql) => {
      const open = (db: string) => stagingSql(cfg, { max: 1, database: db });
      const [a, b] = await Promise.all([proveRestore(cfg, sql, open, file), proveRestore(cfg, sql, open, file)]);
      expect(a.ok, a.mismatches.join(', ')).toBe(true);
      expect(b.ok, b.mismatches.join(', ')).toBe(true);
      expect(a.tables).toBeGreaterThan(3);
      expect(a.scratchDatabase).not.toBe(b.scratchDatabase);
      const left = await sql`SELECT datname FROM pg_database WHERE datname LIKE '%restore_check%'`;
      expect(left).toEqual([]);
    });
  });
});
