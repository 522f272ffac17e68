// HTTP(S) probes against the stack's published ports. TLS is verified against our own staging
// certificate (pinned as the only CA), never switched off.
import http from 'node:http';
import https from 'node:https';

export interface ProbeResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

export function probe(url: string, opts: { ca?: string | Buffer; servername?: string; timeoutMs?: number; method?: string; signal?: AbortSignal } = {}): Promise<ProbeResult> {
  const started = performance.now();
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target,
      {
        method: opts.method ?? 'GET',
        timeout: opts.timeoutMs ?? 5000,
        signal: opts.signal,
        agent: false,
        ...(target.protocol === 'https:' ? { ca: opts.ca, servername: opts.servername ?? 'localhost' } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 1_000_000) body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - started }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${opts.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
    req.end();
  });
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

export const missingSecurityHeaders = (headers: http.IncomingHttpHeaders) => REQUIRED_SECURITY_HEADERS.filter((h) => !headers[h]);
