// The one HTTP(S) client for requests to the stack's published ports (setup's health check, the
// validation probes, the load check). TLS is verified against our own staging certificate (pinned
// as the only CA), never switched off. A shared keep-alive agent is optional (the load check needs
// one); without it each request opens a fresh connection, TLS handshake included.
import type { IncomingHttpHeaders } from 'node:http';
import http from 'node:http';
import https from 'node:https';

export interface HttpResult {
  url: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

export interface HttpOptions {
  /** The staging CA; the only one trusted. */
  ca?: string | Buffer;
  /** SNI and certificate name; the staging certificate covers localhost. */
  servername?: string;
  /** A shared agent (keep-alive), or none: a fresh connection including the TLS handshake. */
  agent?: http.Agent | false;
  timeoutMs?: number;
  signal?: AbortSignal;
  method?: 'GET' | 'HEAD';
  /** Bytes of body kept; the rest is read and dropped. */
  maxBody?: number;
}

export function httpGet(url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const lib = secure ? https : http;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxBody = opts.maxBody ?? 1_000_000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target,
      {
        method: opts.method ?? 'GET',
        agent: opts.agent ?? false,
        timeout: timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(secure ? { ca: opts.ca, servername: opts.servername ?? 'localhost' } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < maxBody) {
            chunks.push(chunk);
            kept += chunk.length;
          }
        });
        res.on('end', () => resolve({ url, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, maxBody), ms: performance.now() - started }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer from ${url} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

/** Short text for a failed request: the error code and where, never a stack. */
export function requestError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e?.code === 'ECONNREFUSED') return `connection refused (${e.message?.replace(/^connect ECONNREFUSED /, '') ?? ''})`;
  if (e?.code === 'ECONNRESET') return 'connection reset by the server';
  return e?.message ?? String(error);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The headers nginx must send on every response (normal, proxied and error). */
export const REQUIRED_SECURITY_HEADERS = [
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'content-security-policy',
  'x-staging-environment',
] as const;

export const missingSecurityHeaders = (headers: IncomingHttpHeaders) => REQUIRED_SECURITY_HEADERS.filter((h) => !headers[h]);
