// Application checks: the health endpoint through nginx, the demo app's JSON routes and static
// asset, and the staging environment of the app container (flag names and values; no secret).
import { requestError, parseJson } from '../stack/http.js';
import type { HealthProbe, StackProbes } from './probes.js';
import { fail, pass, skip, type CheckDef } from './types.js';

/** The variables the staging app must run with, and the values that count as set. */
export const STAGING_ENV: Record<string, RegExp> = {
  NODE_ENV: /^staging$/,
  ROLE_MIGRATION_MODE: /^(1|true|yes|on|enabled?)$/i,
  ENABLE_UNIVERSAL_DASHBOARD: /^(1|true|yes|on|enabled?)$/i,
  DISABLE_ROLE_SELECTION: /^(1|true|yes|on|enabled?)$/i,
};

const DATA_HINT = '`rehearse data --yes` loads the staging subset (`rehearse demo` first when there is no production to copy)';

/** True when app-staging runs the bundled demo app (whose routes are known). */
export const isDemoApp = (p: StackProbes) => !p.config.app.image && !p.config.app.build;

/** The demo app answers 501 {"status":"n/a"} when the loaded schema lacks the route's table. */
export const notApplicable = (status: number, json: unknown) => status === 501 && (json as { status?: unknown } | undefined)?.status === 'n/a';

/** The dependency the health document reports as down, with the command that shows why. */
export function healthDependencyHint(h: HealthProbe): { failing: string[]; hint: string } | undefined {
  const failing = Object.entries(h.json?.checks ?? {})
    .filter(([, c]) => c && c.ok === false)
    .map(([name]) => name);
  if (!failing.length) return undefined;
  const service = failing.includes('redis') ? 'redis-staging' : failing.includes('postgres') ? 'postgres-staging' : 'app-staging';
  return { failing, hint: `the app reports ${failing.join(' and ')} down: \`rehearse status\`, \`rehearse logs ${service}\`; \`rehearse setup\` starts a stopped service` };
}

/**
 * Hint for a request through nginx that got no usable answer: refused means nginx is down; a
 * timeout or a 502/504 means nginx is up and app-staging does not answer it.
 */
export function nginxHint(h: { error?: string | undefined; status?: number | undefined }): string {
  if (h.error && /refused|reset|ECONN/i.test(h.error)) return '`rehearse logs nginx-staging`; `rehearse setup` starts nginx-staging';
  if (h.error) return 'nginx took the request but no answer came: `rehearse logs app-staging`; `rehearse setup` starts a stopped app-staging';
  if (h.status === 502 || h.status === 504) return `nginx cannot reach app-staging (${h.status}): \`rehearse logs app-staging\`; \`rehearse setup\` starts it`;
  return '`rehearse logs app-staging`';
}

/** The health probe in the shape nginxHint takes. */
export const healthHint = (h: HealthProbe) => nginxHint({ error: h.error, status: h.res?.status });

const health: CheckDef = {
  id: 'application.health',
  category: 'application',
  title: 'Health endpoint answers 200 through nginx (HTTPS)',
  quick: true,
  required: true,
  threshold: '200 from app.healthPath over verified TLS',
  hint: '`rehearse logs app-staging`',
  async run(p) {
    const h = await p.health();
    const path = p.config.app.healthPath;
    if (!h.res) return fail(`no answer: ${h.error}`, { hint: healthHint(h) });
    const ms = Math.round(h.res.ms);
    if (h.res.status !== 200) {
      const dep = healthDependencyHint(h);
      const body = h.res.body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 160);
      return fail(`${path} answered ${h.res.status} in ${ms} ms`, { detail: dep ? `${dep.failing.join(', ')} down` : body, hint: dep?.hint ?? healthHint(h) });
    }
    return pass(`${path} 200 in ${ms} ms${h.json?.status ? ` (status "${h.json.status}")` : ''}`, { data: { ms, status: h.json?.status } });
  },
};

const DEMO_ROUTES = ['/api/users', '/api/users/roles', '/api/stories'];

const routes: CheckDef = {
  id: 'application.routes',
  category: 'application',
  title: 'App routes answer with data',
  quick: false,
  required: true,
  threshold: `200 on each of validation.routes (unset: 200 JSON on the demo app's ${DEMO_ROUTES.join(', ')}; a route whose table this schema lacks is n/a)`,
  hint: '`rehearse logs app-staging`',
  async run(p) {
    const configured = p.config.validation.routes;
    if (!configured && !isDemoApp(p)) return skip('app.image/app.build is set and validation.routes is not: no route to check', { hint: 'list your app\'s routes in validation.routes' });
    const list = configured ?? DEMO_ROUTES;
    const results = await Promise.all(
      list.map(async (route) => {
        try {
          const res = await p.https(route);
          const json = parseJson(res.body) as { hint?: string; error?: string; status?: string; reason?: string } | undefined;
          return { route, status: res.status, json, ms: Math.round(res.ms) };
        } catch (error) {
          return { route, status: 0, error: requestError(error), ms: 0 };
        }
      }),
    );
    const na = configured ? [] : results.filter((r) => notApplicable(r.status, r.json));
    const bad = results.filter((r) => !na.includes(r) && (r.status !== 200 || (!configured && !r.json)));
    const applicable = results.length - na.length;
    const value = `${applicable - bad.length}/${applicable} answer 200${configured ? '' : ' JSON'}${na.length ? `; ${na.length} n/a` : ''}`;
    const naDetail = na.map((r) => `${r.route}: n/a, ${r.json?.reason ?? 'does not apply to this schema'}`).join('; ');
    if (!bad.length) {
      if (!applicable) return skip(`no route applies to this schema (${naDetail})`, { hint: 'list your app\'s routes in validation.routes' });
      return pass(`${value} (${results.filter((r) => !na.includes(r)).map((r) => `${r.route} ${r.ms} ms`).join(', ')})`, { ...(naDetail ? { detail: naDetail } : {}), data: { notApplicable: na.map((r) => ({ route: r.route, reason: r.json?.reason })) } });
    }
    const detail = [bad.map((r) => `${r.route}: ${r.status || r.error}${r.json?.error ? ` ${r.json.error}` : ''}`).join('; '), naDetail].filter(Boolean).join('; ');
    // The demo app says "does not exist yet" only while the public schema has no table at all.
    const needsData = bad.some((r) => /rehearse data/.test(r.json?.hint ?? ''));
    return fail(value, { detail: needsData ? `${detail} — staging has no app tables yet` : detail, hint: needsData ? DATA_HINT : bad.some((r) => r.status === 0 || r.status === 502) ? '`rehearse logs nginx-staging`; `rehearse logs app-staging`' : '`rehearse logs app-staging`' });
  },
};

const staticAsset: CheckDef = {
  id: 'application.static',
  category: 'application',
  title: 'Static asset served',
  quick: false,
  required: true,
  threshold: '/static/app.css: 200, text/css, not empty',
  hint: '`rehearse logs app-staging`',
  async run(p) {
    if (!isDemoApp(p)) return skip('app.image/app.build is set: the demo app\'s asset does not apply', { hint: 'validate your own app\'s assets with its test suite' });
    const res = await p.https('/static/app.css');
    const type = String(res.headers['content-type'] ?? '');
    if (res.status !== 200 || !type.startsWith('text/css') || !res.body.length) return fail(`${res.status} ${type || '(no content type)'}, ${res.body.length} bytes`);
    return pass(`200 ${type}, ${res.body.length} bytes${res.headers['cache-control'] ? `, cache-control "${res.headers['cache-control']}"` : ''}`);
  },
};

const environment: CheckDef = {
  id: 'application.environment',
  category: 'application',
  title: 'Staging environment and flags in the app container',
  quick: true,
  required: true,
  threshold: 'NODE_ENV=staging; ROLE_MIGRATION_MODE, ENABLE_UNIVERSAL_DASHBOARD, DISABLE_ROLE_SELECTION set to true',
  hint: '`rehearse setup` rewrites .env.staging and re-creates app-staging',
  async run(p) {
    const app = await p.container('app-staging');
    if (!app) return fail('no app-staging container', { hint: '`rehearse setup` creates it' });
    const env = new Map((app.info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    // Only these four names are ever shown with their values: they are flags, not secrets.
    const seen = Object.keys(STAGING_ENV).map((name) => ({ name, value: env.get(name), ok: STAGING_ENV[name]!.test(env.get(name) ?? '') }));
    const value = seen.map((s) => `${s.name}=${s.value ?? '(unset)'}`).join(', ');
    const wrong = seen.filter((s) => !s.ok);
    if (wrong.length) return fail(value, { detail: `not as staging needs: ${wrong.map((s) => s.name).join(', ')}` });
    return pass(value);
  },
};

export const applicationChecks: CheckDef[] = [health, routes, staticAsset, environment];
