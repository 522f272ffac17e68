// Integration checks: the app reaches PostgreSQL and Redis (as its health endpoint reports them),
// nginx reaches the app, and the service names resolve inside the stack's network.
import { randomBytes } from 'node:crypto';
import { healthHint, nginxHint } from './application.js';
import { parseJson, requestError } from '../stack/http.js';
import type { StackProbes } from './probes.js';
import { fail, pass, skip, type CheckDef, type CheckOutcome } from './types.js';

/** One dependency as the health document reports it. */
async function dependency(p: StackProbes, name: 'postgres' | 'redis', service: string): Promise<CheckOutcome> {
  const h = await p.health();
  if (!h.res) return fail(`health endpoint unreachable: ${h.error}`, { hint: healthHint(h) });
  const check = h.json?.checks?.[name];
  if (!check) {
    if (h.res.status === 502 || h.res.status === 504) return fail(`nginx answered ${h.res.status}`, { hint: healthHint(h) });
    return skip(`${p.config.app.healthPath} does not report checks.${name}`, { hint: `make the app's health endpoint report ${name} to have this checked` });
  }
  const latency = check.latencyMs !== undefined ? ` in ${check.latencyMs} ms` : '';
  if (check.ok) return pass(`ok${latency}`, { data: check });
  return fail(`down: ${check.error ?? 'no detail'}`, { hint: `\`rehearse logs ${service}\`; \`rehearse setup\` starts ${service} again`, data: check });
}

const appPostgres: CheckDef = {
  id: 'integration.app-postgres',
  category: 'integration',
  title: 'App → PostgreSQL',
  quick: true,
  required: true,
  threshold: 'health endpoint reports checks.postgres.ok',
  hint: '`rehearse logs postgres-staging`',
  run: (p) => dependency(p, 'postgres', 'postgres-staging'),
};

const appRedis: CheckDef = {
  id: 'integration.app-redis',
  category: 'integration',
  title: 'App → Redis',
  quick: true,
  required: true,
  threshold: 'health endpoint reports checks.redis.ok',
  hint: '`rehearse logs redis-staging`',
  run: (p) => dependency(p, 'redis', 'redis-staging'),
};

const nginxApp: CheckDef = {
  id: 'integration.nginx-app',
  category: 'integration',
  title: 'nginx → app',
  quick: true,
  required: true,
  threshold: 'a request for an unknown path is answered by the app (not 502/504 from nginx)',
  hint: '`rehearse logs nginx-staging`; `rehearse logs app-staging`',
  async run(p) {
    // An unknown path: answered by the app whatever the state of its database or Redis.
    const path = `/rehearse-validate-upstream-${randomBytes(4).toString('hex')}`;
    try {
      const res = await p.https(path);
      if (res.status === 502 || res.status === 504) return fail(`nginx answered ${res.status}: app-staging unreachable from nginx`, { hint: nginxHint({ status: res.status }) });
      const fromApp = parseJson(res.body) !== undefined || !/<center>nginx<\/center>/.test(res.body);
      if (!fromApp) return fail(`${res.status} page from nginx itself`, { hint: '`rehearse logs nginx-staging`' });
      return pass(`proxied: the app answered ${res.status} in ${Math.round(res.ms)} ms`);
    } catch (error) {
      return fail(`no answer: ${requestError(error)}`, { hint: nginxHint({ error: requestError(error) }) });
    }
  },
};

const dns: CheckDef = {
  id: 'integration.service-dns',
  category: 'integration',
  title: 'Service names resolve inside the network',
  quick: false,
  required: true,
  threshold: 'every service name resolves from inside app-staging',
  hint: '`rehearse setup` re-creates the network',
  async run(p) {
    const app = await p.container('app-staging');
    if (!app || !app.info.State.Running) return fail('app-staging is not running', { hint: '`rehearse logs app-staging`; `rehearse setup` starts it' });
    const names = p.expectedServices();
    // One exec for every name; node is in the app image, getent in almost every other one.
    const script = `const d=require('dns');const n=${JSON.stringify(names)};Promise.all(n.map(h=>d.promises.lookup(h).then(r=>[h,r.address],e=>[h,null]))).then(r=>console.log(JSON.stringify(Object.fromEntries(r))))`;
    let resolved: Record<string, string | null> | undefined;
    try {
      const r = await p.exec(app.id, ['node', '-e', script]);
      if (r.exitCode === 0) resolved = parseJson(r.stdout.trim()) as Record<string, string | null> | undefined;
    } catch {
      resolved = undefined;
    }
    if (!resolved) {
      try {
        const r = await p.exec(app.id, ['getent', 'hosts', ...names]);
        resolved = Object.fromEntries(names.map((n) => [n, new RegExp(`^(\\S+)\\s+${n}(\\s|$)`, 'm').exec(r.stdout)?.[1] ?? null]));
      } catch (error) {
        return skip(`cannot run node or getent in app-staging: ${(error as Error).message}`, { hint: 'check with `docker exec <app container> getent hosts postgres-staging`' });
      }
    }
    const unresolved = Object.entries(resolved).filter(([, ip]) => !ip).map(([n]) => n);
    const value = `${names.length - unresolved.length}/${names.length} resolve (${Object.entries(resolved).map(([n, ip]) => `${n} ${ip ?? '✗'}`).join(', ')})`;
    if (unresolved.length) return fail(value, { detail: `unresolved: ${unresolved.join(', ')}` });
    return pass(value, { data: resolved });
  },
};

export const integrationChecks: CheckDef[] = [appPostgres, appRedis, nginxApp, dns];
