// Monitoring (profile "monitoring"): every Prometheus target up, asked through Prometheus's own HTTP
// API on its published loopback port, and the app's role metrics present in what it scraped.
import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet, requestError } from '../stack/http.js';
import type { StackProbes } from './probes.js';
import { fail, pass, skip, type CheckDef } from './types.js';

interface Target {
  labels: { job: string; instance: string };
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

/** The jobs staging-monitoring/prometheus.yml defines. */
export const expectedJobs = (p: StackProbes) => ['prometheus', ...(p.config.app.metricsPath ? ['app'] : []), 'postgres', 'redis', 'nginx'];

async function prometheusApi<T>(p: StackProbes, pathAndQuery: string): Promise<T> {
  const res = await httpGet(`http://${p.host}:${p.config.ports.prometheus}${pathAndQuery}`, { signal: p.signal, timeoutMs: 5000 });
  if (res.status !== 200) throw new Error(`${pathAndQuery.split('?')[0]} answered ${res.status}`);
  return (JSON.parse(res.body) as { data: T }).data;
}

const query = (p: StackProbes, expr: string) => prometheusApi<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(p, `/api/v1/query?query=${encodeURIComponent(expr)}`).then((d) => d.result);

/** Targets, waiting (up to ~20 s) while some have not been scraped for the first time yet. */
async function targets(p: StackProbes): Promise<Target[]> {
  for (let attempt = 0; ; attempt++) {
    const list = (await prometheusApi<{ activeTargets: Target[] }>(p, '/api/v1/targets?state=active')).activeTargets;
    if (!list.some((t) => t.health === 'unknown') || attempt >= 20) return list;
    await sleep(1000, undefined, { signal: p.signal });
  }
}

/** Grafana is optional: one phrase on whether it runs. */
async function grafanaState(p: StackProbes): Promise<string> {
  const c = await p.container('grafana-staging');
  if (!c) return 'Grafana not running (skipped by setup when its image is missing)';
  return `Grafana ${c.info.State.Status}/${c.info.State.Health?.Status ?? 'no healthcheck'}`;
}

const monitoring: CheckDef = {
  id: 'infrastructure.monitoring',
  category: 'infrastructure',
  title: 'Monitoring: every Prometheus target up, role metrics present',
  quick: false,
  required: true,
  threshold: 'each scrape job (prometheus, app, postgres, redis, nginx) up; stories_users_by_role and stories_learners_remaining scraped',
  hint: (p) => `\`rehearse setup --monitoring\` starts the exporters; http://${p.host}:${p.config.ports.prometheus}/targets shows each target's last error`,
  timeoutMs: 40_000,
  async run(p) {
    if (!p.config.profiles.monitoring) return skip('the monitoring profile is off', { hint: '`rehearse setup --monitoring` enables it' });
    let list: Target[];
    try {
      list = await targets(p);
    } catch (error) {
      return fail(`Prometheus does not answer on ${p.host}:${p.config.ports.prometheus}: ${requestError(error)}`, { hint: '`rehearse logs prometheus-staging`; `rehearse setup --monitoring` starts it' });
    }
    const jobs = expectedJobs(p);
    const missing = jobs.filter((j) => !list.some((t) => t.labels.job === j));
    const down = list.filter((t) => t.health !== 'up');
    const grafana = await grafanaState(p);
    const data: Record<string, unknown> = { targets: list.map((t) => ({ job: t.labels.job, instance: t.labels.instance, health: t.health, lastError: t.lastError })), grafana };
    const upCount = list.length - down.length;
    if (missing.length || down.length) {
      const detail = [...missing.map((j) => `job ${j}: not configured`), ...down.map((t) => `${t.labels.job} (${t.labels.instance}): ${t.health}${t.lastError ? ` — ${t.lastError}` : ''}`)].join('; ');
      const first = down[0];
      const service = first && (first.labels.instance.split(':')[0] ?? '');
      return fail(`${upCount}/${list.length} targets up`, { detail, data, hint: service ? `\`rehearse logs ${service}\` shows why; \`rehearse setup --monitoring\` starts it again` : '`rehearse setup --monitoring` rewrites staging-monitoring/prometheus.yml' });
    }
    if (!p.config.app.metricsPath) return pass(`${upCount}/${list.length} targets up; the app has no metrics (app.metricsPath is null); ${grafana}`, { data });
    const [roleUp, byRole, learners, mode] = await Promise.all(['stories_role_metrics_up', 'stories_users_by_role', 'stories_learners_remaining', 'stories_role_migration_mode'].map((m) => query(p, m)));
    Object.assign(data, { usersByRole: Object.fromEntries(byRole!.map((r) => [r.metric.role, Number(r.value[1])])), learnersRemaining: learners![0]?.value[1], roleMigrationMode: mode![0]?.value[1] });
    if (!byRole!.length || !learners!.length || !mode!.length) {
      const why = roleUp![0]?.value[1] === '0' ? 'the app could not read public.users (no data yet?)' : 'not scraped yet';
      return fail(`${upCount}/${list.length} targets up; role metrics missing`, { detail: why, data, hint: roleUp![0]?.value[1] === '0' ? '`rehearse data --yes` loads the staging users' : '`rehearse logs app-staging`' });
    }
    const roles = byRole!.map((r) => `${r.metric.role} ${r.value[1]}`).join(', ');
    return pass(`${upCount}/${list.length} targets up; users by role: ${roles}; ${learners![0]!.value[1]} learner(s) left; ${grafana}`, { data });
  },
};

export const monitoringChecks: CheckDef[] = [monitoring];
