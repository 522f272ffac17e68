// A bounded load on loopback: N requests at concurrency C over one keep-alive HTTPS agent, spread
// round-robin over the given URLs, with latency percentiles and an error count. Small on purpose: it
// measures, it does not stress-test.
import https from 'node:https';
import { httpGet } from '../stack/http.js';

export interface LoadResult {
  requests: number;
  concurrency: number;
  ok: number;
  errors: number;
  /** Up to five distinct error kinds ("503", "ECONNRESET"), with counts. */
  errorKinds: Record<string, number>;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  wallMs: number;
  requestsPerSecond: number;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export async function runLoad(opts: { urls: string[]; requests: number; concurrency: number; ca?: Buffer; servername?: string; timeoutMs?: number; signal?: AbortSignal }): Promise<LoadResult> {
  if (!opts.urls.length) throw new Error('runLoad needs at least one URL');
  const agent = new https.Agent({ keepAlive: true, maxSockets: opts.concurrency, ...(opts.ca ? { ca: opts.ca } : {}), servername: opts.servername ?? 'localhost' });
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < opts.requests && !opts.signal?.aborted) {
      const url = opts.urls[issued % opts.urls.length]!;
      issued++;
      const t0 = performance.now();
      try {
        const res = await httpGet(url, { agent, ...(opts.ca ? { ca: opts.ca } : {}), timeoutMs: opts.timeoutMs ?? 10_000, maxBody: 64 * 1024, ...(opts.signal ? { signal: opts.signal } : {}) });
        latencies.push(performance.now() - t0);
        if (res.status >= 400) {
          errors++;
          errorKinds[String(res.status)] = (errorKinds[String(res.status)] ?? 0) + 1;
        }
      } catch (error) {
        latencies.push(performance.now() - t0);
        errors++;
        const kind = (error as { code?: string }).code ?? 'error';
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.requests) }, worker));
  } finally {
    agent.destroy();
  }
  const wallMs = performance.now() - started;
  const sorted = latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    requests: latencies.length,
    concurrency: opts.concurrency,
    ok: latencies.length - errors,
    errors,
    errorKinds: Object.fromEntries(Object.entries(errorKinds).slice(0, 5)),
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
    wallMs: Math.round(wallMs),
    requestsPerSecond: Math.round((latencies.length / Math.max(wallMs, 1)) * 1000),
  };
}
