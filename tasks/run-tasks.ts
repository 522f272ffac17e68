// What every step's tree shares: the wall time of each phase, recorded for its report.
/** Runs one phase of a step and records its wall time in `ctx.timings[name]` (ms), however it ends. */
export async function timePhase<T>(ctx: { timings: Record<string, number> }, name: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    ctx.timings[name] = Math.round(performance.now() - start);
  }
}
