// Performance checks: a page load through nginx (fresh TLS connection, HTML plus its same-origin
// assets), a bounded concurrent load on loopback, and one CPU/memory snapshot per container.
import https from 'node:https';
import { figuresFromStats } from '../stack/container-stats.js';
import { isDemoApp, nginxHint, notApplicable } from './application.js';
import { httpGet, parseJson, requestError } from '../stack/http.js';
import { runLoad } from './load.js';
import { fail, pass, warn, type CheckDef } from './types.js';

/** Same-origin assets a browser would fetch for this HTML: stylesheets, scripts, images. */
export function pageAssets(html: string): string[] {
  const out = new Set<string>();
  const re = /<(?:link[^>]+rel=["']?stylesheet["']?[^>]*href|script[^>]+src|img[^>]+src)=["']([^"'>]+)["']/gi;
  for (const m of html.matchAll(re)) {
    const url = m[1]!;
    if (url.startsWith('/') && !url.startsWith('//')) out.add(url);
  }
  // <link href=… rel=stylesheet> (href first)
  for (const m of html.matchAll(/<link[^>]+href=["']([^"'>]+)["'][^>]*rel=["']?stylesheet/gi)) if (m[1]!.startsWith('/') && !m[1]!.startsWith('//')) out.add(m[1]!);
  return [...out];
}

const pageLoad: CheckDef = {
  id: 'performance.page-load',
  category: 'performance',
  title: 'Page load through nginx',
  quick: true,
  required: true,
  threshold: '< 3000 ms for / and its assets, TLS handshake included',
  hint: '`rehearse logs app-staging`; `rehearse status` shows a container under strain',
  async run(p) {
    const max = p.config.validation.pageLoadMaxMs;
    const threshold = `< ${max} ms for / and its assets, TLS handshake included`;
    const ca = p.ca();
    const agent = new https.Agent({ keepAlive: true, maxSockets: 6, ...(ca ? { ca } : {}), servername: 'localhost' });
    const started = performance.now();
    try {
      const html = await httpGet(p.httpsUrl('/'), { agent, signal: p.signal, timeoutMs: max + 2000, ...(ca ? { ca } : {}) });
      if (html.status !== 200) return fail(`/ answered ${html.status}`, { threshold, hint: nginxHint({ status: html.status }) });
      const assets = pageAssets(html.body);
      const loaded = await Promise.all(assets.map((a) => httpGet(p.httpsUrl(a), { agent, signal: p.signal, timeoutMs: max + 2000, ...(ca ? { ca } : {}) })));
      const ms = Math.round(performance.now() - started);
      const broken = loaded.filter((r) => r.status >= 400);
      const value = `${ms} ms (HTML ${Math.round(html.ms)} ms + ${assets.length} asset(s))`;
      const data = { ms, htmlMs: Math.round(html.ms), assets: loaded.map((r) => ({ url: r.url, status: r.status, ms: Math.round(r.ms) })) };
      if (broken.length) return fail(value, { threshold, detail: `broken: ${broken.map((r) => `${r.url} ${r.status}`).join(', ')}`, data });
      if (ms >= max) return fail(value, { threshold, data });
      return pass(value, { threshold, data });
    } catch (error) {
      return fail(`no page: ${requestError(error)}`, { threshold, hint: nginxHint({ error: requestError(error) }) });
    } finally {
      agent.destroy();
    }
  },
};

/** The demo app's list routes, one page each (their default page size), and its health endpoint: what a user's visit costs. */
export const DEMO_LOAD_PATHS = ['/api/users', '/api/stories', '/api/health'];

const load: CheckDef = {
  id: 'performance.load',
  category: 'performance',
  title: 'Bounded load on loopback',
  quick: false,
  required: true,
  threshold: `500 requests at concurrency 20 (validation.load.path; unset: the demo app's ${DEMO_LOAD_PATHS.join(', ')} in turn, else app.healthPath): 0 errors, p95 < 1000 ms`,
  hint: '`rehearse logs app-staging`; `rehearse status` shows a container under strain',
  timeoutMs: 120_000,
  stage: 2,
  async run(p) {
    const l = p.config.validation.load;
    let paths = l.path ? [l.path] : isDemoApp(p) ? DEMO_LOAD_PATHS : [p.config.app.healthPath];
    // A demo-app list route whose table this schema lacks answers 501 n/a (see application.routes):
    // load what applies, so a schema with other table names is not failed for 501s it was told about.
    let naPaths: string[] = [];
    if (!l.path && isDemoApp(p)) {
      const probes = await Promise.all(paths.map(async (path) => ({ path, na: await p.https(path).then((r) => notApplicable(r.status, parseJson(r.body)), () => false) })));
      naPaths = probes.filter((x) => x.na).map((x) => x.path);
      paths = paths.filter((x) => !naPaths.includes(x));
    }
    const threshold = `${l.requests} requests to ${paths.join(', ')}${paths.length > 1 ? ' in turn' : ''} at concurrency ${l.concurrency}: ≤ ${l.maxErrors} errors, p95 < ${l.p95MaxMs} ms`;
    const ca = p.ca();
    const r = await runLoad({ urls: paths.map((x) => p.httpsUrl(x)), requests: l.requests, concurrency: l.concurrency, signal: p.signal, ...(ca ? { ca } : {}) });
    p.throwIfAborted();
    const value = `p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms, ${r.errors} error(s), ${r.requestsPerSecond} req/s over ${r.requests} requests${naPaths.length ? ` (${naPaths.join(', ')} n/a on this schema)` : ''}`;
    const problems = [r.errors > l.maxErrors ? `${r.errors} errors (${Object.entries(r.errorKinds).map(([k, n]) => `${k} ×${n}`).join(', ')})` : '', r.p95Ms >= l.p95MaxMs ? `p95 ${r.p95Ms} ms` : ''].filter(Boolean);
    if (problems.length) return fail(value, { threshold, detail: problems.join('; '), data: r });
    return pass(value, { threshold, data: r });
  },
};

const MiB = 1024 * 1024;

const resources: CheckDef = {
  id: 'performance.resources',
  category: 'performance',
  title: 'Container CPU and memory (one snapshot)',
  quick: false,
  required: false,
  threshold: 'CPU < 80 % of a core, memory < 90 % of its limit (warning only)',
  hint: (p) => `\`docker stats ${p.expectedServices().map((s) => p.names.containers[s]).join(' ')}\` shows the figures live`,
  timeoutMs: 15_000,
  async run(p) {
    const { cpuWarnPercent, memoryWarnPercent } = p.config.validation;
    const threshold = `CPU < ${cpuWarnPercent} % of a core, memory < ${memoryWarnPercent} % of its limit (warning only)`;
    const running = (await p.containers()).filter((c) => c.info.State.Running && c.service);
    if (!running.length) return fail('no running container', { threshold, hint: '`rehearse setup`' });
    // stream:false waits for a second sample, so the CPU figure has a baseline; all containers at once.
    const figures = await Promise.all(
      running.map(async (c) => {
        const raw = (await p.docker.getContainer(c.id).stats({ stream: false })) as Parameters<typeof figuresFromStats>[0];
        const f = figuresFromStats(raw);
        const memPercent = f.memoryLimitBytes ? (f.memoryBytes / f.memoryLimitBytes) * 100 : 0;
        return { service: c.service, cpuPercent: Math.round(f.cpuPercent * 10) / 10, memoryMiB: Math.round((f.memoryBytes / MiB) * 10) / 10, memoryPercent: Math.round(memPercent * 10) / 10 };
      }),
    );
    const value = figures.map((f) => `${f.service.replace(/-staging$/, '')} ${f.cpuPercent} % CPU ${f.memoryMiB} MiB`).join(', ');
    const hot = figures.filter((f) => f.cpuPercent >= cpuWarnPercent || f.memoryPercent >= memoryWarnPercent);
    if (hot.length) return warn(value, { threshold, detail: hot.map((f) => `${f.service}: ${f.cpuPercent} % CPU, ${f.memoryPercent} % of its memory limit`).join('; '), hint: `\`docker stats ${hot.map((f) => p.names.containers[f.service as keyof typeof p.names.containers] ?? f.service).join(' ')}\` shows them live`, data: figures });
    return pass(value, { threshold, data: figures });
  },
};

export const performanceChecks: CheckDef[] = [pageLoad, load, resources];
