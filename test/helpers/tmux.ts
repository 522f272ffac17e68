// Drives the real binary in a pseudo-terminal through tmux: keys in, screen text out.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

/** Keeps a screen for the record when WZ_CAPTURES names a folder (the captures quoted in issue notes). */
export function keepScreen(name: string, screen: string): void {
  const dir = process.env.WZ_CAPTURES;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.txt`), screen);
}

export class TmuxSession {
  private constructor(readonly name: string) {}

  /** Starts `command` in a detached session of the given size, with CI unset so rehearse is interactive. */
  static async start(name: string, cwd: string, command: string, env: Record<string, string>, size = { cols: 160, rows: 50 }): Promise<TmuxSession> {
    await execa('tmux', ['kill-session', '-t', name], { reject: false });
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
    const shell = `cd ${JSON.stringify(cwd)} && env -u CI ${envArgs} ${command}; echo "[exit $?]"; sleep 600`;
    await execa('tmux', ['new-session', '-d', '-s', name, '-x', String(size.cols), '-y', String(size.rows), shell]);
    return new TmuxSession(name);
  }

  async screen(): Promise<string> {
    return String((await execa('tmux', ['capture-pane', '-p', '-t', this.name])).stdout);
  }

  async keys(...keys: string[]): Promise<void> {
    await execa('tmux', ['send-keys', '-t', this.name, ...keys]);
  }

  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await this.screen();
      if (pattern.test(last)) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`screen never matched ${pattern} within ${timeoutMs} ms; last screen:\n${last}`);
  }

  /**
   * Presses `key` until the screen matches `pattern`: a freshly drawn Ink screen only starts
   * reading keys a moment after it appears, so a single early key press can be lost.
   */
  async pressUntil(key: string, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.keys(key);
      try {
        return await this.waitFor(pattern, Math.min(2000, Math.max(250, deadline - Date.now())));
      } catch (error) {
        if (Date.now() >= deadline) throw error;
      }
    }
  }

  async kill(): Promise<void> {
    await execa('tmux', ['kill-session', '-t', this.name], { reject: false });
  }
}
