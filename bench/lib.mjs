// Small shared helpers for the benchmarks: timing child processes and summarising samples.
import { spawnSync } from 'node:child_process';

export function timeCommand(cmd, args, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: opts.stdio ?? 'ignore', env: { ...process.env, ...opts.env }, cwd: opts.cwd });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr ?? ''}`);
  return ms;
}

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, min: s[0], median: q(0.5), p90: q(0.9), max: s[s.length - 1] };
}

export const fmt = (ms) => `${ms.toFixed(1)} ms`;
