// A local response-header grade in the spirit of the Mozilla HTTP Observatory: start at 100 and
// deduct per missing or weak protection. Pure (headers in, score out) so it is tested without a stack.
import type { IncomingHttpHeaders } from 'node:http';

export interface Deduction {
  points: number;
  reason: string;
}

export interface HeaderGrade {
  score: number;
  deductions: Deduction[];
  /** Observations that cost nothing (e.g. a short HSTS max-age, deliberate on a staging host). */
  notes: string[];
}

/** Six months: the Observatory's bar for a "long" HSTS max-age. */
const HSTS_LONG_SECONDS = 15_552_000;

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** CSP directives as name → sources (lower-cased names, sources kept as written). */
export function parseCsp(value: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of value.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name && !out.has(name.toLowerCase())) out.set(name.toLowerCase(), sources);
  }
  return out;
}

export function gradeHeaders(headers: IncomingHttpHeaders): HeaderGrade {
  const deductions: Deduction[] = [];
  const notes: string[] = [];
  const deduct = (points: number, reason: string) => deductions.push({ points, reason });

  const hsts = one(headers, 'strict-transport-security');
  if (!hsts) deduct(20, 'Strict-Transport-Security is missing');
  else {
    const maxAge = Number(/max-age\s*=\s*"?(\d+)/i.exec(hsts)?.[1] ?? NaN);
    if (!Number.isFinite(maxAge) || maxAge <= 0) deduct(20, `Strict-Transport-Security has no usable max-age ("${hsts}")`);
    else if (maxAge < HSTS_LONG_SECONDS) notes.push(`HSTS max-age is ${maxAge} s: short on purpose for a staging host (a long one on localhost would force HTTPS on every local port)`);
  }

  const cspValue = one(headers, 'content-security-policy');
  const csp = cspValue ? parseCsp(cspValue) : undefined;
  if (!csp) deduct(25, 'Content-Security-Policy is missing');
  else {
    const scripts = csp.get('script-src') ?? csp.get('default-src');
    if (!scripts) deduct(10, 'Content-Security-Policy restricts no scripts (no script-src or default-src)');
    else {
      if (scripts.includes("'unsafe-inline'")) deduct(10, "Content-Security-Policy allows 'unsafe-inline' scripts");
      if (scripts.includes("'unsafe-eval'")) deduct(10, "Content-Security-Policy allows 'unsafe-eval'");
      if (scripts.some((s) => s === '*' || s === 'http:' || s === 'https:')) deduct(10, 'Content-Security-Policy allows scripts from any origin');
    }
  }

  const nosniff = one(headers, 'x-content-type-options');
  if (!nosniff || nosniff.trim().toLowerCase() !== 'nosniff') deduct(5, nosniff ? `X-Content-Type-Options is "${nosniff}", not nosniff` : 'X-Content-Type-Options is missing');

  // CSP frame-ancestors supersedes X-Frame-Options (the Observatory accepts either).
  const xfo = one(headers, 'x-frame-options')?.trim().toUpperCase();
  const frameAncestors = csp?.get('frame-ancestors');
  if (!frameAncestors && xfo !== 'DENY' && xfo !== 'SAMEORIGIN') deduct(20, xfo ? `X-Frame-Options is "${xfo}" and CSP has no frame-ancestors` : 'X-Frame-Options is missing and CSP has no frame-ancestors');

  const referrer = one(headers, 'referrer-policy')?.toLowerCase();
  if (!referrer) deduct(5, 'Referrer-Policy is missing');
  else if (/unsafe-url|no-referrer-when-downgrade/.test(referrer)) deduct(5, `Referrer-Policy "${referrer}" leaks full URLs`);

  const cookies = headers['set-cookie'] ?? [];
  const names = (pred: (attrs: string) => boolean) => cookies.filter((c) => pred(c.toLowerCase())).map((c) => c.split('=')[0]!.trim());
  const insecure = names((c) => !/;\s*secure(\s*;|\s*$)/.test(c));
  const scriptable = names((c) => !/;\s*httponly(\s*;|\s*$)/.test(c));
  const noSameSite = names((c) => !/;\s*samesite=/.test(c));
  if (insecure.length) deduct(20, `cookie(s) without Secure: ${insecure.join(', ')}`);
  if (scriptable.length) deduct(10, `cookie(s) without HttpOnly: ${scriptable.join(', ')}`);
  if (noSameSite.length) notes.push(`cookie(s) without SameSite: ${noSameSite.join(', ')}`);

  const server = one(headers, 'server');
  if (server && /\d/.test(server)) deduct(5, `Server header reveals a version ("${server}")`);
  const poweredBy = one(headers, 'x-powered-by');
  if (poweredBy) deduct(5, `X-Powered-By reveals the stack ("${poweredBy}")`);

  const score = Math.max(0, 100 - deductions.reduce((s, d) => s + d.points, 0));
  return { score, deductions, notes };
}
