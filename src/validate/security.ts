// Security checks: HTTP→HTTPS redirect keeps the port, TLS versions, a local header grade on normal
// and error pages, hidden files, file modes, Redis and PostgreSQL refusing strangers, no port on
// every interface. Every request goes to the stack's own published ports on the service host.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { gradeHeaders, type HeaderGrade } from './header-grade.js';
import { httpGet, requestError, REQUIRED_SECURITY_HEADERS, type HttpResult } from '../stack/http.js';
import { nginxHint } from './application.js';
import { BIND_HINT, bindingsOf, isLoopback, tlsAttempt } from './infrastructure.js';
import { rawRedisExchange } from './net-probes.js';
import type { StackProbes } from './probes.js';
import { fail, pass, skip, type CheckDef } from './types.js';

/** The fix for anything nginx/staging.conf should do: regenerate it, then reload nginx. */
export const nginxConfHint = (p: StackProbes) => `\`rehearse setup\` rewrites nginx/staging.conf from the template; then \`docker exec ${p.names.containers['nginx-staging']} nginx -s reload\``;

const redirect: CheckDef = {
  id: 'security.redirect',
  category: 'security',
  title: 'HTTP redirects to HTTPS keeping the port',
  quick: true,
  required: true,
  threshold: '301 to https://<host>:<https port><same path and query>',
  hint: nginxConfHint,
  async run(p) {
    const probePath = '/rehearse-validate/redirect?x=1';
    const expected = `https://${p.host}:${p.config.ports.https}${probePath}`;
    let res: HttpResult;
    try {
      res = await httpGet(`http://${p.host}:${p.config.ports.http}${probePath}`, { signal: p.signal, timeoutMs: 3000 });
    } catch (error) {
      return fail(`no answer on HTTP port ${p.config.ports.http}: ${requestError(error)}`, { hint: '`rehearse logs nginx-staging`; `rehearse setup` starts nginx-staging' });
    }
    const location = String(res.headers.location ?? '');
    if ((res.status === 301 || res.status === 308) && location === expected) return pass(`${res.status} → ${location}`);
    return fail(`${res.status}${location ? ` → ${location}` : ' without Location'}`, { detail: `expected 301 → ${expected}` });
  },
};

const TLS_LABEL = { TLSv1: 'TLS 1.0', 'TLSv1.1': 'TLS 1.1', 'TLSv1.2': 'TLS 1.2', 'TLSv1.3': 'TLS 1.3' } as const;

const tlsLegacy: CheckDef = {
  id: 'security.tls-legacy-refused',
  category: 'security',
  title: 'TLS 1.0 and 1.1 refused',
  quick: false,
  required: true,
  threshold: 'the server refuses a handshake limited to TLS 1.0, and one limited to TLS 1.1',
  hint: nginxConfHint,
  async run(p) {
    const attempts = [await tlsAttempt(p, 'TLSv1'), await tlsAttempt(p, 'TLSv1.1')];
    const value = attempts.map((a) => `${TLS_LABEL[a.version]} ${a.outcome}`).join(', ');
    const data = attempts;
    const accepted = attempts.filter((a) => a.outcome === 'accepted');
    if (accepted.length) return fail(value, { detail: accepted.map((a) => `${a.version}: ${a.detail}`).join('; '), hint: nginxConfHint(p), data });
    const unreachable = attempts.filter((a) => a.outcome === 'unreachable');
    if (unreachable.length) return fail(value, { detail: unreachable.map((a) => a.detail).join('; '), hint: '`rehearse logs nginx-staging`; `rehearse setup` starts nginx-staging', data });
    // Our own client could not even offer the version: that proves nothing about the server.
    const unsupported = attempts.filter((a) => a.outcome === 'unsupported');
    if (unsupported.length === attempts.length) return skip(`not testable from here: ${unsupported.map((a) => a.detail).join('; ')}`, { hint: 'run the check on a host whose OpenSSL can offer TLS 1.0/1.1 (e.g. `openssl s_client -tls1 -connect <host>:<https port>`)', data });
    return pass(value, { detail: attempts.map((a) => `${a.version}: ${a.detail}`).join('; '), data });
  },
};

const tlsModern: CheckDef = {
  id: 'security.tls-modern-accepted',
  category: 'security',
  title: 'TLS 1.2 and 1.3 accepted with the staging certificate',
  quick: false,
  required: true,
  threshold: 'both handshakes complete and verify against the staging certificate',
  hint: nginxConfHint,
  async run(p) {
    const attempts = [await tlsAttempt(p, 'TLSv1.2'), await tlsAttempt(p, 'TLSv1.3')];
    const value = attempts.map((a) => `${TLS_LABEL[a.version]} ${a.outcome}`).join(', ');
    const bad = attempts.filter((a) => a.outcome !== 'accepted');
    if (!bad.length) return pass(value, { data: attempts });
    const down = bad.some((a) => a.outcome === 'unreachable' && /ECONNREFUSED|nothing answers/.test(a.detail));
    return fail(value, { detail: bad.map((a) => `${a.version}: ${a.detail}`).join('; '), hint: down ? '`rehearse logs nginx-staging`; `rehearse setup` starts nginx-staging' : nginxConfHint(p), data: attempts });
  },
};

interface PageGrade {
  page: string;
  status: number;
  grade: HeaderGrade;
  missingRequired: string[];
}

const headers: CheckDef = {
  id: 'security.headers',
  category: 'security',
  title: 'Security headers grade (normal and error pages)',
  quick: true,
  required: true,
  threshold: '≥ 90/100 on every page; every required header present',
  hint: nginxConfHint,
  async run(p) {
    const min = p.config.validation.headerMinScore;
    const threshold = `≥ ${min}/100 on every page; ${REQUIRED_SECURITY_HEADERS.join(', ')} present`;
    // A normal page (sets a cookie), an error page from the app, and an error page from nginx itself.
    const pages = ['/', `/rehearse-validate-missing-${randomBytes(4).toString('hex')}`, '/.env'];
    let graded: PageGrade[];
    try {
      graded = await Promise.all(
        pages.map(async (page) => {
          const res = await p.https(page);
          return { page, status: res.status, grade: gradeHeaders(res.headers), missingRequired: REQUIRED_SECURITY_HEADERS.filter((h) => !res.headers[h]) };
        }),
      );
    } catch (error) {
      return fail(`no answer through nginx: ${requestError(error)}`, { threshold, hint: nginxHint({ error: requestError(error) }) });
    }
    const label = (g: PageGrade) => (g.page.startsWith('/rehearse-validate-missing') ? `app ${g.status}` : g.page === '/.env' ? `nginx ${g.status}` : `${g.page} ${g.status}`);
    const value = graded.map((g) => `${g.grade.score}/100 on ${label(g)}`).join(', ');
    const data = graded.map((g) => ({ page: g.page, status: g.status, score: g.grade.score, deductions: g.grade.deductions, notes: g.grade.notes, missingRequired: g.missingRequired }));
    const low = graded.filter((g) => g.grade.score < min);
    const missing = [...new Set(graded.flatMap((g) => g.missingRequired))];
    if (low.length || missing.length) {
      const detail = [
        missing.length ? `missing ${missing.join(', ')} on ${graded.filter((g) => g.missingRequired.length).map(label).join(', ')}` : '',
        ...low.map((g) => `${label(g)}: ${g.grade.deductions.map((d) => `−${d.points} ${d.reason}`).join('; ')}`),
      ]
        .filter(Boolean)
        .join('; ');
      return fail(value, { threshold, detail, hint: nginxConfHint(p), data });
    }
    const notes = [...new Set(graded.flatMap((g) => g.grade.notes))];
    return pass(value, { threshold, ...(notes.length ? { detail: notes.join('; ') } : {}), data });
  },
};

/** Paths nginx must never serve: dotfiles, VCS metadata, editor and backup leftovers. */
export const HIDDEN_PATHS = ['/.env', '/.env.staging', '/.git/config', '/.htpasswd', '/docker-compose.staging.yml.bak', '/index.html~', '/config.php.old', '/nginx.conf.orig', '/.server.js.swp'];

const hiddenFiles: CheckDef = {
  id: 'security.hidden-files',
  category: 'security',
  title: 'Dotfiles and backup files answer 404',
  quick: false,
  required: true,
  threshold: `404 on ${HIDDEN_PATHS.length} probe paths (${HIDDEN_PATHS.slice(0, 3).join(', ')}, …)`,
  hint: nginxConfHint,
  async run(p) {
    const results = await Promise.all(HIDDEN_PATHS.map(async (page) => ({ page, status: (await p.https(page)).status })));
    const served = results.filter((r) => r.status !== 404);
    if (served.length) return fail(`${served.length} path(s) not 404`, { detail: served.map((r) => `${r.page}: ${r.status}`).join('; '), hint: nginxConfHint(p), data: results });
    return pass(`${results.length}/${results.length} answer 404`, { data: results });
  },
};

const fileModes: CheckDef = {
  id: 'security.file-modes',
  category: 'security',
  title: 'Env, key and backup files are 0600',
  quick: true,
  required: true,
  threshold: 'no group or other permission bits on .env.staging, the TLS key and staging backups',
  hint: (p) => `\`chmod 600 ${p.paths.envFile} ${p.paths.keyFile}\``,
  async run(p) {
    const files = [p.paths.envFile, p.paths.keyFile];
    if (existsSync(p.paths.backups)) for (const f of readdirSync(p.paths.backups)) if (/\.sql(\.gz)?$|\.json$/.test(f)) files.push(path.join(p.paths.backups, f));
    const missing = [p.paths.envFile, p.paths.keyFile].filter((f) => !existsSync(f));
    if (missing.length) return fail(`missing: ${missing.join(', ')}`, { hint: '`rehearse setup` writes them' });
    const modes = files.map((file) => ({ file, mode: statSync(file).mode & 0o777 }));
    const loose = modes.filter((m) => m.mode & 0o077);
    const octal = (m: number) => `0${m.toString(8)}`;
    if (loose.length)
      return fail(`${loose.length} file(s) readable by others: ${loose.map((m) => `${path.relative(p.config.workDir, m.file)} ${octal(m.mode)}`).join(', ')}`, {
        hint: `\`chmod 600 ${loose.map((m) => m.file).join(' ')}\``,
        data: modes.map((m) => ({ file: m.file, mode: octal(m.mode) })),
      });
    return pass(`${modes.length} file(s) 0600 or stricter (.env.staging, staging.key${modes.length > 2 ? `, ${modes.length - 2} in staging-backups` : ''})`);
  },
};

const redisAuth: CheckDef = {
  id: 'security.redis-auth',
  category: 'security',
  title: 'Redis refuses unauthenticated commands and a wrong password',
  quick: true,
  required: true,
  threshold: 'PING without AUTH → NOAUTH; AUTH with a wrong password → refused',
  hint: '`rehearse setup` re-creates redis-staging with --requirepass',
  async run(p) {
    let replies: string[];
    try {
      replies = await rawRedisExchange({ host: p.host, port: p.config.ports.redis, commands: [['PING'], ['AUTH', `wrong-${randomBytes(6).toString('hex')}`]] });
    } catch (error) {
      return fail(`no answer on ${p.host}:${p.config.ports.redis} (${(error as { code?: string }).code ?? (error as Error).message})`, { hint: '`rehearse logs redis-staging`; `rehearse setup` starts redis-staging' });
    }
    const [ping, auth] = replies as [string, string];
    const value = `PING → ${ping.split(' ')[0]}, wrong AUTH → ${auth.split(' ')[0]}`;
    if (!ping.startsWith('-NOAUTH') || !auth.startsWith('-')) return fail(value, { detail: 'Redis answers strangers' });
    return pass(value);
  },
};

const postgresAuth: CheckDef = {
  id: 'security.postgres-auth',
  category: 'security',
  title: 'PostgreSQL refuses a wrong password',
  quick: true,
  required: true,
  threshold: 'a login with a wrong password fails with 28P01',
  hint: 'the staging volume allows password-less logins: `rehearse down --volumes` then `rehearse setup`',
  async run(p) {
    const sql = postgres({
      host: p.host,
      port: p.config.ports.postgres,
      database: p.config.database.name,
      username: p.config.database.user,
      password: `wrong-${randomBytes(8).toString('hex')}`,
      max: 1,
      connect_timeout: 5,
      idle_timeout: 1,
      onnotice: () => undefined,
      connection: { application_name: 'rehearse-validate' },
    });
    try {
      await sql`SELECT 1`;
      return fail('a wrong password was accepted');
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '28P01' || code === '28000') return pass(`refused (${code})`);
      return fail(`no verdict: ${code ?? (error as Error).message}`, { hint: '`rehearse logs postgres-staging`; `rehearse setup` starts postgres-staging' });
    } finally {
      await sql.end({ timeout: 1 }).catch(() => undefined);
    }
  },
};

const publicBind: CheckDef = {
  id: 'security.no-public-bind',
  category: 'security',
  title: 'No port published on every interface (0.0.0.0 / ::)',
  quick: true,
  required: true,
  threshold: 'no host binding of any container of the project off loopback',
  hint: BIND_HINT,
  async run(p) {
    const all = await p.containers();
    const open = all.flatMap(bindingsOf).filter((b) => !isLoopback(b.hostIp));
    const count = all.flatMap(bindingsOf).length;
    if (!open.length) return pass(`${count} binding(s), all on loopback`);
    const strays = [...new Set(open.filter((b) => !b.service || !p.expectedServices().includes(b.service as never)).map((b) => b.container))];
    const hint = strays.length ? `\`docker rm -f ${strays.join(' ')}\` (not part of the generated stack)` : BIND_HINT;
    return fail(`${open.length} binding(s) off loopback`, { detail: open.map((b) => `${b.container}: ${b.hostIp}:${b.hostPort}→${b.target}`).join('; '), hint, data: open });
  },
};

/** nginx's master stays root by design (ports 80/443, the 0600 key); its workers must not. */
const ROOT_MASTER = new Set(['nginx-staging']);

export interface HardeningFinding {
  service: string;
  container: string;
  uids: number[];
  problems: string[];
  readOnlyRootFs: boolean;
  memoryMb: number;
  cpus: number;
}

/**
 * The uid of each process of the container's own tree (its init first), as the engine sees them.
 * Health checks and `docker exec` run beside that tree (often as root): they are left out.
 */
async function processUids(p: StackProbes, id: string, initPid: number): Promise<number[]> {
  const top = (await p.engine.getContainer(id).top({ ps_args: '-o pid,ppid,uid' })) as { Titles: string[]; Processes: string[][] };
  const col = (name: string) => top.Titles.findIndex((t) => t.trim().toUpperCase() === name);
  const rows = top.Processes.map((r) => ({ pid: Number(r[col('PID')]), ppid: Number(r[col('PPID')]), uid: Number(r[col('UID')]) }));
  const tree = new Set([initPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows) if (!tree.has(r.pid) && tree.has(r.ppid)) grew = !!tree.add(r.pid);
  }
  const own = rows.filter((r) => tree.has(r.pid)).sort((a, b) => (a.pid === initPid ? -1 : b.pid === initPid ? 1 : a.pid - b.pid));
  return own.map((r) => r.uid);
}

const hardening: CheckDef = {
  id: 'security.container-hardening',
  category: 'security',
  title: 'Containers hardened: non-root, no capabilities, no-new-privileges, memory and CPU limits',
  quick: true,
  required: true,
  threshold: 'every running container: processes not uid 0 (nginx: workers), cap_drop ALL, no-new-privileges, a memory and a CPU limit',
  hint: '`rehearse setup` re-creates the containers from the generated compose file, which sets user, cap_drop, security_opt, mem_limit and cpus',
  async run(p) {
    const running = (await p.containers()).filter((c) => c.service && c.info.State.Running);
    if (!running.length) return fail('no running container of the stack', { hint: '`rehearse setup` starts it' });
    const findings: HardeningFinding[] = await Promise.all(
      running.map(async (c) => {
        const hc = c.info.HostConfig as { CapDrop?: string[] | null; SecurityOpt?: string[] | null; Memory?: number; NanoCpus?: number; CpuQuota?: number; CpuPeriod?: number; ReadonlyRootfs?: boolean };
        const uids = await processUids(p, c.id, c.info.State.Pid);
        const problems: string[] = [];
        if (!uids.length) problems.push('no process seen');
        else if (ROOT_MASTER.has(c.service)) {
          if (uids.length < 2 || uids.slice(1).some((u) => u === 0)) problems.push(`worker processes run as uid 0 (uids ${uids.join(', ')})`);
        } else if (uids.some((u) => u === 0)) problems.push(`runs as root (uid 0${uids[0] === 0 ? ', pid 1' : ''})`);
        if (!(hc.CapDrop ?? []).some((cap) => /^(CAP_)?ALL$/i.test(cap))) problems.push('capabilities not dropped (no cap_drop: [ALL])');
        if (!(hc.SecurityOpt ?? []).some((o) => /^no-new-privileges(:true|=true)?$/.test(o))) problems.push('no no-new-privileges');
        const cpus = hc.NanoCpus ? hc.NanoCpus / 1e9 : hc.CpuQuota && hc.CpuPeriod ? hc.CpuQuota / hc.CpuPeriod : 0;
        if (!hc.Memory) problems.push('no memory limit');
        if (!cpus) problems.push('no CPU limit');
        return { service: c.service, container: c.name, uids: [...new Set(uids)], problems, readOnlyRootFs: !!hc.ReadonlyRootfs, memoryMb: Math.round((hc.Memory ?? 0) / 1048576), cpus };
      }),
    );
    const bad = findings.filter((f) => f.problems.length);
    const readOnly = findings.filter((f) => f.readOnlyRootFs).length;
    const value = `${findings.length - bad.length}/${findings.length} hardened, ${readOnly} with a read-only root filesystem`;
    if (!bad.length) return pass(value, { data: findings });
    return fail(value, { detail: bad.map((f) => `${f.service}: ${f.problems.join(', ')}`).join('; '), data: findings });
  },
};

export const securityChecks: CheckDef[] = [redirect, tlsLegacy, tlsModern, headers, hiddenFiles, fileModes, redisAuth, postgresAuth, publicBind, hardening];
