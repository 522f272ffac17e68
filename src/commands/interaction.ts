// The one place that decides how rehearse talks to the operator: whether it may prompt, and which
// output mode a command uses. Chosen once at start-up (house style: "can we prompt").
import type { OutputMode } from '../../tasks/run-tasks.js';

export interface GlobalFlags {
  yes?: boolean;
  json?: boolean;
}

export function canPrompt(stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout, env = process.env): boolean {
  return !!stdin.isTTY && !!stdout.isTTY && !isCI(env);
}

export function isCI(env = process.env): boolean {
  return !!env.CI && env.CI !== '0' && env.CI !== 'false';
}

export function outputMode(flags: GlobalFlags, env = process.env): OutputMode {
  if (flags.json) return 'json';
  if (flags.yes || !process.stderr.isTTY || isCI(env)) return 'plain';
  return 'fancy';
}

/** The `--json` result: one line on stdout, after the event lines (`redact` masks secrets in it). */
export function writeResult(result: { ok: boolean } & Record<string, unknown>, redact: (text: string) => string = (text) => text): void {
  process.stdout.write(redact(JSON.stringify({ type: 'result', ...result })) + '\n');
}
