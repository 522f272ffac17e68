// Infrastructure checks: containers running and healthy, published ports open on loopback only,
// network and volumes present, the TLS certificate, and drift between the stack and its files.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Dockerode from 'dockerode';
import { activePortNames, type PortName } from '../config.js';
import { renderComposeFile, renderNginxConf } from '../stack/generate.js';
import type { ServiceName } from '../paths.js';
import { readCert } from '../stack/tls.js';
import { tcpOpen, tryTlsVersion, type TlsAttempt } from './net-probes.js';
import type { InspectedContainer, StackProbes } from './probes.js';
import { fail, pass, type CheckDef } from './types.js';

/** Which service publishes each configured port, and on which container port. */
export function portTargets(p: StackProbes): Record<PortName, { service: ServiceName; target: number }> {
  return {
    app: { service: 'app-staging', target: p.config.app.internalPort },
    https: { service: 'nginx-staging', target: 443 },
    http: { service: 'nginx-staging', target: 80 },
    postgres: { service: 'postgres-staging', target: 5432 },
    redis: { service: 'redis-staging', target: 6379 },
    pgadmin: { service: 'pgadmin-staging', target: 5050 },
    prometheus: { service: 'prometheus-staging', target: 9090 },
    grafana: { service: 'grafana-staging', target: 3000 },
  };
}

export interface HostBinding {
  container: string;
  service: string;
  hostIp: string;
  hostPort: string;
  target: string;
}

/** The host bindings of a container: the live ones when it runs, else the declared ones. */
export function bindingsOf(c: InspectedContainer): HostBinding[] {
  const live = c.info.State.Running ? (c.info.NetworkSettings?.Ports as Record<string, Array<{ HostIp: string; HostPort: string }> | null> | undefined) : undefined;
  const declared = c.info.HostConfig?.PortBindings as Record<string, Array<{ HostIp: string; HostPort: string }> | null> | undefined;
  const source = live && Object.values(live).some((v) => v?.length) ? live : declared ?? {};
  return Object.entries(source).flatMap(([target, list]) => (list ?? []).map((b) => ({ container: c.name, service: c.service, hostIp: b.HostIp || '0.0.0.0', hostPort: b.HostPort, target })));
}

export const isLoopback = (ip: string) => ip === '127.0.0.1' || ip === '::1' || ip.startsWith('127.');

const logsHint = (service: string) => `\`rehearse logs ${service}\``;

export const BIND_HINT = 'set bindAddress to 127.0.0.1 (rehearse.config.json or REHEARSE_BIND_ADDRESS) and run `rehearse setup`';

/** One TLS handshake per version, shared by the certificate and the security checks. */
export function tlsAttempt(p: StackProbes, version: TlsAttempt['version']): Promise<TlsAttempt> {
  const ca = p.ca();
  return p.once(`tls:${version}`, () => tryTlsVersion({ host: p.host, port: p.config.ports.https, version, servername: 'localhost', signal: p.signal, ...(ca ? { ca } : {}) }));
}

const containers: CheckDef = {
  id: 'infrastructure.containers',
  category: 'infrastructure',
  title: 'Containers running and healthy',
  quick: true,
  required: true,
  threshold: 'every service running, healthcheck healthy',
  hint: '`rehearse setup` starts what is missing; `rehearse status` shows each container',
  async run(p) {
    const all = await p.containers();
    const expected = p.expectedServices();
    const problems: Array<{ service: ServiceName; what: string }> = [];
    const states: Record<string, string> = {};
    for (const service of expected) {
      const c = all.find((x) => x.service === service);
      if (!c) {
        problems.push({ service, what: 'no container' });
        states[service] = 'missing';
        continue;
      }
      const state = c.info.State.Status;
      const health = c.info.State.Health?.Status ?? 'none';
      states[service] = `${state}/${health}`;
      if (state !== 'running') problems.push({ service, what: `${state}${c.info.State.ExitCode ? ` (exit code ${c.info.State.ExitCode})` : ''}` });
      else if (health !== 'healthy' && health !== 'none') problems.push({ service, what: health });
    }
    const good = expected.length - problems.length;
    if (!problems.length) return pass(`${good}/${expected.length} running and healthy`, { data: states });
    const first = problems[0]!;
    const hint =
      first.what === 'no container'
        ? `\`rehearse setup\` creates ${first.service}`
        : first.what === 'starting'
          ? `${first.service} is still starting: run \`rehearse status\` until it is healthy, then validate again`
          : `${logsHint(first.service)} shows why; \`rehearse setup\` starts it again`;
    return fail(`${good}/${expected.length} running and healthy`, { detail: problems.map((x) => `${x.service}: ${x.what}`).join('; '), hint, data: states });
  },
};

const ports: CheckDef = {
  id: 'infrastructure.ports',
  category: 'infrastructure',
  title: 'Published ports open, bound to 127.0.0.1 only',
  quick: true,
  required: true,
  threshold: 'each configured port accepts connections; every binding on loopback',
  hint: BIND_HINT,
  async run(p) {
    const all = await p.containers();
    const targets = portTargets(p);
    // Grafana's port is checked by infrastructure.monitoring (Grafana is optional).
    const names = activePortNames(p.config).filter((n) => n !== 'grafana');
    const problems: string[] = [];
    const hints: string[] = [];
    const opened = await Promise.all(names.map((name) => tcpOpen(p.host, p.config.ports[name])));
    names.forEach((name, i) => {
      const port = p.config.ports[name];
      const { service, target } = targets[name];
      const c = all.find((x) => x.service === service);
      const binding = c ? bindingsOf(c).find((b) => b.hostPort === String(port) && b.target.startsWith(`${target}/`)) : undefined;
      if (!c || !binding) {
        problems.push(`${name} ${port}: not published by ${service}${c && !c.info.State.Running ? ` (${c.info.State.Status})` : ''}`);
        hints.push(c && !c.info.State.Running ? `${logsHint(service)}; \`rehearse setup\` starts ${service}` : '`rehearse setup` publishes it');
      } else if (!opened[i]) {
        problems.push(`${name} ${port}: closed`);
        hints.push(`${logsHint(service)}; \`rehearse setup\``);
      }
    });
    const open = all.flatMap(bindingsOf).filter((b) => !isLoopback(b.hostIp));
    for (const b of open) problems.push(`${b.container} ${b.hostIp}:${b.hostPort}→${b.target} is not on loopback`);
    if (open.length) hints.push(all.some((c) => open.some((b) => b.container === c.name) && !c.service) ? `remove the stray container: \`docker rm -f ${open[0]!.container}\`` : BIND_HINT);
    const value = `${names.length - problems.filter((x) => !x.includes('not on loopback')).length}/${names.length} open on ${p.host}${open.length ? `, ${open.length} binding(s) off loopback` : ', every binding on loopback'}`;
    if (!problems.length) return pass(value, { data: { ports: Object.fromEntries(names.map((n) => [n, p.config.ports[n]])) } });
    return fail(value, { detail: problems.join('; '), hint: hints[0]! });
  },
};

const network: CheckDef = {
  id: 'infrastructure.network',
  category: 'infrastructure',
  title: 'Network present, every service attached',
  quick: false,
  required: true,
  threshold: 'network exists; each running service is on it',
  hint: '`rehearse setup` re-creates the network and attaches the services',
  async run(p) {
    const name = p.names.network;
    try {
      await p.docker.getNetwork(name).inspect();
    } catch {
      return fail(`network ${name} missing`);
    }
    const all = await p.containers();
    const detached = all.filter((c) => c.service && c.info.State.Running && !c.info.NetworkSettings.Networks?.[name]).map((c) => c.service);
    if (detached.length) return fail(`${detached.length} service(s) not on ${name}`, { detail: detached.join(', ') });
    return pass(`${name}, ${all.filter((c) => c.info.State.Running).length} container(s) attached`);
  },
};

const volumes: CheckDef = {
  id: 'infrastructure.volumes',
  category: 'infrastructure',
  title: 'Data volumes present and mounted',
  quick: false,
  required: true,
  threshold: 'each named volume exists and is mounted by its service',
  hint: '`rehearse setup` creates the volumes (a removed volume means the staging data is gone: `rehearse data --yes` reloads it)',
  async run(p) {
    const wanted: Array<[ServiceName, string]> = [
      ['postgres-staging', p.config.volumes.postgres],
      ['redis-staging', p.config.volumes.redis],
    ];
    if (p.config.profiles.admin) wanted.push(['pgadmin-staging', p.config.volumes.pgadmin]);
    if (p.config.profiles.monitoring) wanted.push(['prometheus-staging', p.config.volumes.prometheus]);
    const all = await p.containers();
    const problems: string[] = [];
    await Promise.all(
      wanted.map(async ([service, volume]) => {
        try {
          await p.docker.getVolume(volume).inspect();
        } catch {
          problems.push(`${volume}: missing`);
          return;
        }
        const c = all.find((x) => x.service === service);
        if (c && !c.info.Mounts.some((m) => m.Type === 'volume' && m.Name === volume)) problems.push(`${volume}: not mounted by ${service}`);
      }),
    );
    if (problems.length) return fail(`${wanted.length - problems.length}/${wanted.length} present and mounted`, { detail: problems.join('; ') });
    return pass(`${wanted.length}/${wanted.length} present and mounted (${wanted.map(([, v]) => v).join(', ')})`);
  },
};

const certificate: CheckDef = {
  id: 'infrastructure.certificate',
  category: 'infrastructure',
  title: 'TLS certificate valid and covering the host name',
  quick: true,
  required: true,
  threshold: '> 30 days left; covers localhost and the service host; nginx serves it',
  hint: (p) => `\`rehearse setup --regenerate-certs\`, then \`docker restart ${p.names.containers['nginx-staging']}\``,
  async run(p) {
    const min = p.config.validation.certMinDays;
    const threshold = `> ${min} days left; covers localhost and ${p.host}; nginx serves it`;
    const nginx = p.names.containers['nginx-staging'];
    const renew = `\`rehearse setup --regenerate-certs\`, then \`docker restart ${nginx}\``;
    const info = readCert(p.paths.certFile, p.now);
    if (!info) return fail(`no readable certificate at ${p.paths.certFile}`, { threshold, hint: '`rehearse setup` makes one' });
    const cert = new X509Certificate(readFileSync(p.paths.certFile));
    const names = ['localhost', p.host];
    const uncovered = names.filter((n) => (/^[\d.]+$|:/.test(n) ? !cert.checkIP(n) : !cert.checkHost(n)));
    const value = `${info.daysLeft} days left (until ${info.validTo.slice(0, 10)}), SAN ${info.subjectAltName}`;
    const data = { daysLeft: info.daysLeft, validTo: info.validTo, subjectAltName: info.subjectAltName, fingerprint256: info.fingerprint256 };
    if (info.daysLeft <= min) return fail(value, { threshold, hint: renew, detail: `renew: ${info.daysLeft} days left is not more than ${min}`, data });
    if (uncovered.length) return fail(value, { threshold, hint: renew, detail: `does not cover ${uncovered.join(', ')}`, data });
    const served = await tlsAttempt(p, 'TLSv1.3');
    if (served.outcome === 'accepted' && served.fingerprint256 && served.fingerprint256 !== info.fingerprint256) {
      return fail(value, { threshold, hint: `nginx still serves an older certificate: \`docker restart ${nginx}\``, detail: `served ${served.fingerprint256.slice(0, 23)}…, file ${info.fingerprint256.slice(0, 23)}…`, data });
    }
    return pass(`${value}${served.outcome === 'accepted' ? ', served by nginx' : ''}`, { threshold, data });
  },
};

interface ServiceDiff {
  service: string;
  what: string;
}

/** Differences between one running container and the service the compose file declares. Values of variables are compared, never shown. */
export function diffService(service: string, want: import('./probes.js').ComposeConfig['services'][string], c: InspectedContainer, cfg: import('./probes.js').ComposeConfig): ServiceDiff[] {
  const out: ServiceDiff[] = [];
  const info: Dockerode.ContainerInspectInfo = c.info;
  if (want.image && info.Config.Image !== want.image) out.push({ service, what: `image ${info.Config.Image}, the file says ${want.image}` });
  const wantPorts = (want.ports ?? []).map((x) => `${x.host_ip || '0.0.0.0'}:${x.published}→${x.target}/${x.protocol ?? 'tcp'}`).sort();
  const declared = (info.HostConfig.PortBindings ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  const havePorts = Object.entries(declared)
    .flatMap(([target, list]) => (list ?? []).map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}→${target}`))
    .sort();
  if (wantPorts.join(',') !== havePorts.join(',')) out.push({ service, what: `ports ${havePorts.join(', ') || '(none)'}, the file says ${wantPorts.join(', ') || '(none)'}` });
  const env = new Map((info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const changed = Object.entries(want.environment ?? {})
    .filter(([k, v]) => v !== null && env.get(k) !== v)
    .map(([k]) => k);
  if (changed.length) out.push({ service, what: `environment differs from the file/.env.staging in ${changed.join(', ')}` });
  for (const v of want.volumes ?? []) {
    const source = v.type === 'volume' ? (cfg.volumes?.[v.source ?? '']?.name ?? v.source) : v.source;
    const mount = info.Mounts.find((m) => m.Destination === v.target);
    const have = mount ? (mount.Type === 'volume' ? mount.Name : mount.Source) : undefined;
    if (have !== source) out.push({ service, what: `${v.target} mounts ${have ?? 'nothing'}, the file says ${source}` });
  }
  for (const n of Object.keys(want.networks ?? {})) {
    const name = cfg.networks?.[n]?.name ?? n;
    if (info.State.Running && !info.NetworkSettings.Networks?.[name]) out.push({ service, what: `not on network ${name}` });
  }
  const labels = info.Config.Labels ?? {};
  const missingLabels = Object.entries(want.labels ?? {}).filter(([k, v]) => labels[k] !== v).map(([k]) => k);
  if (missingLabels.length) out.push({ service, what: `labels differ: ${missingLabels.join(', ')}` });
  return out;
}

const drift: CheckDef = {
  id: 'infrastructure.drift',
  category: 'infrastructure',
  title: 'Running stack matches the generated files (drift)',
  quick: false,
  required: true,
  threshold: 'files equal what the config generates; each container equals its service (image, ports, environment, mounts, networks, labels); no stray containers',
  hint: '`rehearse setup` rewrites the files and re-creates what changed',
  timeoutMs: 20_000,
  async run(p) {
    const nginx = p.names.containers['nginx-staging'];
    const diffs: ServiceDiff[] = [];
    const hints: string[] = [];
    const read = (file: string) => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    };
    if (read(p.paths.composeFile) !== renderComposeFile(p.config)) {
      diffs.push({ service: 'docker-compose.staging.yml', what: 'differs from what the current configuration generates' });
      hints.push('`rehearse setup` rewrites docker-compose.staging.yml and re-creates what changed');
    }
    if (read(p.paths.nginxConf) !== renderNginxConf(p.config)) {
      diffs.push({ service: 'nginx/staging.conf', what: 'differs from what the current configuration generates' });
      hints.push(`\`rehearse setup\` rewrites nginx/staging.conf; then \`docker exec ${nginx} nginx -s reload\``);
    }
    const cfg = await p.composeConfig();
    const all = await p.containers();
    for (const [service, want] of Object.entries(cfg.services)) {
      const c = all.find((x) => x.service === service);
      // Grafana is optional: setup leaves it out when its image is missing (infrastructure.monitoring reports it).
      if (!c && service === 'grafana-staging') continue;
      if (!c) diffs.push({ service, what: 'declared but no container exists' });
      else diffs.push(...diffService(service, want, c, cfg));
    }
    if (diffs.some((d) => cfg.services[d.service])) hints.push('`rehearse setup` re-creates the services that differ from the file');
    const strays = all.filter((c) => !cfg.services[c.service]);
    for (const c of strays) diffs.push({ service: c.name, what: `carries the project label but is ${c.service ? `service ${c.service}, not in the file (or its profile is off)` : 'not a compose service'}` });
    if (strays.length) hints.push(`remove the stray container(s): \`docker rm -f ${strays.map((c) => c.name).join(' ')}\``);
    const checked = Object.keys(cfg.services).length;
    if (!diffs.length) return pass(`${checked} services match docker-compose.staging.yml; files match the configuration`);
    return fail(`${diffs.length} difference(s)`, { detail: diffs.map((d) => `${d.service}: ${d.what}`).join('; '), hint: hints.join('; ') || '`rehearse setup`', data: diffs });
  },
};

export const infrastructureChecks: CheckDef[] = [containers, ports, network, volumes, certificate, drift];
