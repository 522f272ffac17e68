// The work folder's lock file: taken exclusively, refused while its process lives (naming it), taken
// over once that process is gone, never taken over from another host, and gone after the run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { UserError } from '../src/errors.js';
import { acquireRunLock, LOCK_FILE, withRunLock } from '../src/run/lock.js';

const fresh = () => {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'rehearse-ft-lock-'));
  return { workDir, config: loadConfig({ cwd: workDir, env: {} }).config };
};
const holderFile = (workDir: string, holder: Record<string, unknown>) => writeFileSync(path.join(workDir, LOCK_FILE), JSON.stringify(holder));

describe('the run lock file', () => {
  it('holds pid, command, host and start time while the run lasts, and is gone after it (however it ends)', async () => {
    const { workDir, config } = fresh();
    const file = path.join(workDir, LOCK_FILE);
    await withRunLock(config, 'data', async (lock) => {
      expect(lock.staging).toBe(false); // no .env.staging: no staging to lock
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, command: 'data', host: os.hostname() });
      await expect(acquireRunLock(config, 'migrate')).rejects.toThrow(/Another rehearse run holds this work folder: `rehearse data` \(pid \d+ on .*\), since .* ago\)\. Nothing was changed\./);
    });
    expect(existsSync(file)).toBe(false);
    await expect(withRunLock(config, 'data', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(file)).toBe(false);
  });

  it('a live holder is refused with exit 2 and what to do', async () => {
    const { workDir, config } = fresh();
    holderFile(workDir, { pid: process.ppid, command: 'migrate', host: os.hostname(), startedAt: new Date(Date.now() - 5 * 60_000).toISOString() });
    const error = await acquireRunLock(config, 'data').catch((e: unknown) => e as UserError);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as UserError).message).toMatch(new RegExp(`\`rehearse migrate\` \\(pid ${process.ppid} on .*\\), since .* \\(5 min ago\\)`));
    expect((error as UserError).tryThis).toContain(`kill ${process.ppid}`);
    expect(JSON.parse(readFileSync(path.join(workDir, LOCK_FILE), 'utf8')).command).toBe('migrate');
  });

  it('a lock whose process is gone is stale and taken over', async () => {
    const { workDir, config } = fresh();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    expect(Number(dead)).toBeGreaterThan(0);
    holderFile(workDir, { pid: Number(dead), command: 'data', host: os.hostname(), startedAt: new Date().toISOString() });
    const lock = await acquireRunLock(config, 'migrate', { staging: false });
    expect(JSON.parse(readFileSync(lock.file, 'utf8'))).toMatchObject({ pid: process.pid, command: 'migrate' });
    await lock.release();
  });

  it('a lock from another host is never taken over: it says to delete the file if that run is gone', async () => {
    const { workDir, config } = fresh();
    holderFile(workDir, { pid: 1, command: 'all', host: 'elsewhere.example', startedAt: new Date().toISOString() });
    const error = (await acquireRunLock(config, 'data').catch((e: unknown) => e)) as UserError;
    expect(error.message).toMatch(/`rehearse all` \(pid 1 on elsewhere\.example\)/);
    expect(error.tryThis).toContain(`If that run is gone, delete ${path.join(workDir, LOCK_FILE)}`);
  });
});
