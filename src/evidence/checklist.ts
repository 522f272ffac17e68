// The success criteria of the rehearsal, computed only from evidence: the newest reports on disk
// (with their age and staleness) and live probes of the stack. Never from in-memory flags.
import type Dockerode from 'dockerode';
import type { Config } from '../config.js';
import { listStackContainers, type StackContainer } from '../stack/docker.js';
import { workPaths } from '../paths.js';
import { newestReport, type ReportKind } from './reports.js';
import { readCert, RENEW_WITHIN_DAYS } from '../stack/tls.js';
import type { CheckStatus, GradedCheck, PassFailCheck } from './check.js';

export type ItemStatus = 'met' | 'not met' | 'unknown' | 'n/a';

export interface ChecklistItem {
  group: 'Infrastructure' | 'Data' | 'Migration' | 'Environment' | 'Targets';
  criterion: string;
  status: ItemStatus;
  /** Where the verdict comes from: a report and check, or a live probe. */
  evidence: string;
  /** The command that would make it met. */
  fix: string;
  required: boolean;
}

export interface Evidence {
  file: string;
  data: Record<string, any>;
  mtime: Date;
  stale?: string;
}

const age = (date: Date, now: Date) => {
  const s = Math.max(0, Math.round((now.getTime() - date.getTime()) / 1000));
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
};

function load(config: Config, kind: ReportKind): Evidence | undefined {
  const r = newestReport(config, kind);
  return r ? { file: r.file, data: r.data as Record<string, any>, mtime: r.mtime } : undefined;
}

/** When the staging database's volume was made (null: it does not exist): data evidence older than that describes other data. */
async function volumeCreated(docker: Dockerode, config: Config): Promise<Date | null | undefined> {
  try {
    const v = (await docker.getVolume(config.volumes.postgres).inspect()) as { CreatedAt?: string };
    return v.CreatedAt ? new Date(v.CreatedAt) : undefined;
  } catch (error) {
    return (error as { statusCode?: number }).statusCode === 404 ? null : undefined;
  }
}

export interface StepsEvidence {
  setup?: Evidence;
  data?: Evidence;
  migration?: Evidence;
  validation?: Evidence;
}

/** The newest report of each step, marked stale by the rules below (shared with the wizard's resume). */
export async function loadEvidence(config: Config, docker: Dockerode): Promise<StepsEvidence> {
  // Evidence and its freshness: data is stale once the volume is newer; the migration report once
  // the data changed after it; validation once the stack or the data changed after it.
  const setup = load(config, 'setup-report');
  const data = load(config, 'test-data-summary');
  const migration = load(config, 'migration-test-report');
  const validation = load(config, 'staging-validation-report');
  const volume = await volumeCreated(docker, config);
  if (data && volume === null) data.stale = `the staging volume ${config.volumes.postgres} no longer exists`;
  if (data && volume && data.mtime < volume) data.stale = 'the staging volume was re-created after it';
  if (migration && data && migration.mtime < data.mtime) migration.stale = 'the data was replaced after it';
  if (validation && setup && validation.mtime < setup.mtime) validation.stale = 'setup ran again after it';
  if (validation && data && validation.mtime < data.mtime) validation.stale = 'the data was replaced after it';

  return { setup, data, migration, validation };
}

/** One line on when a report was written: "data summary 12 min ago". */
export const evidenceAge = (label: string, e: Evidence, now = new Date()) => `${label} ${age(e.mtime, now)}`;

export interface Checklist {
  items: ChecklistItem[];
  generatedAt: string;
  ready: boolean;
}

export async function computeChecklist(config: Config, docker: Dockerode, now = new Date()): Promise<Checklist> {
  const items: ChecklistItem[] = [];
  const add = (item: ChecklistItem) => items.push(item);
  let containers: StackContainer[] = [];
  let dockerError: string | undefined;
  try {
    containers = await listStackContainers(docker, config);
  } catch (error) {
    dockerError = (error as Error).message;
  }

  const { data, migration, validation } = await loadEvidence(config, docker);

  const from = (e: Evidence | undefined, check: string) => (e ? `${e.file.split('/').pop()} › ${check} (${age(e.mtime, now)}${e.stale ? `; STALE: ${e.stale}` : ''})` : 'no report yet');
  const verdict = (e: Evidence | undefined, ok: boolean | undefined): ItemStatus => (!e || e.stale || ok === undefined ? (e?.stale ? 'not met' : 'unknown') : ok ? 'met' : 'not met');

  // Infrastructure (live).
  const core = ['app-staging', 'nginx-staging', 'postgres-staging', 'redis-staging'];
  const coreUp = core.map((s) => containers.find((c) => c.service === s));
  const healthy = coreUp.every((c) => c?.state === 'running' && c.health === 'healthy');
  add({
    group: 'Infrastructure',
    criterion: 'All containers running and healthy',
    status: dockerError ? 'unknown' : healthy ? 'met' : 'not met',
    evidence: dockerError ? `live: ${dockerError}` : `live: ${core.map((s, i) => `${s} ${coreUp[i] ? `${coreUp[i]!.state}/${coreUp[i]!.health}` : 'missing'}`).join(', ')}`,
    fix: 'rehearse setup',
    required: true,
  });
  const cert = readCert(workPaths(config).certFile, now);
  add({
    group: 'Infrastructure',
    criterion: 'TLS certificate generated and valid',
    status: cert && cert.daysLeft > RENEW_WITHIN_DAYS && cert.subjectAltName.includes('DNS:localhost') ? 'met' : 'not met',
    evidence: cert ? `live: ${workPaths(config).certFile}, ${cert.daysLeft} days left, ${cert.subjectAltName}` : 'live: no certificate',
    fix: 'rehearse setup --regenerate-certs',
    required: true,
  });
  const published = containers.flatMap((c) => c.ports.map((p) => ({ ...p, container: c.name })));
  const exposed = published.filter((p) => p.ip !== '127.0.0.1' && p.ip !== '::1');
  add({
    group: 'Infrastructure',
    criterion: 'Port isolation working (published on 127.0.0.1 only)',
    status: dockerError || !published.length ? 'unknown' : exposed.length ? 'not met' : 'met',
    evidence: exposed.length ? `live: ${exposed.map((p) => `${p.container} ${p.ip}:${p.publicPort}`).join(', ')}` : `live: ${published.length} published ports, all on 127.0.0.1`,
    fix: exposed.length ? 'set bindAddress to 127.0.0.1 and run rehearse setup' : 'rehearse setup',
    required: true,
  });
  // Monitoring: the verdict of validate's infrastructure.monitoring (every Prometheus target up, role metrics present).
  const monitoringCheck = (validation?.data.checks as Array<GradedCheck & { id: string; value: string }> | undefined)?.find((c) => c.id === 'infrastructure.monitoring');
  add({
    group: 'Infrastructure',
    criterion: 'Monitoring operational (when enabled)',
    status: !config.profiles.monitoring ? 'n/a' : verdict(validation, monitoringCheck && monitoringCheck.status !== 'skip' ? monitoringCheck.status === 'pass' : undefined),
    evidence: config.profiles.monitoring ? from(validation, monitoringCheck ? `infrastructure.monitoring: ${monitoringCheck.status}, ${monitoringCheck.value}` : 'infrastructure.monitoring') : 'profile "monitoring" is off',
    fix: 'rehearse setup --monitoring, then rehearse validate --category infrastructure',
    required: false,
  });

  // Data (test-data-summary).
  const dataCheck = (prefix: string) => (data?.data.checks as PassFailCheck[] | undefined)?.find((c) => c.name.startsWith(prefix));
  const leak = dataCheck('leak scan');
  add({ group: 'Data', criterion: 'Production data copied and anonymized', status: verdict(data, data ? !!data.data.ok && !!leak?.ok : undefined), evidence: from(data, leak ? `leak scan: ${leak.detail}` : 'ok'), fix: 'rehearse data --yes', required: true });
  const users = dataCheck('test users');
  add({ group: 'Data', criterion: 'Test users available for the migration', status: verdict(data, users?.ok), evidence: from(data, users ? users.detail : 'test users'), fix: 'rehearse data --yes', required: true });
  const orphans = dataCheck('zero orphans');
  const constraints = dataCheck('every constraint');
  add({ group: 'Data', criterion: 'Database integrity verified', status: verdict(data, orphans && constraints ? orphans.ok && constraints.ok : undefined), evidence: from(data, orphans ? `${orphans.detail}; ${constraints?.detail}` : 'integrity'), fix: 'rehearse data --yes', required: true });
  const proof = data?.data.restoreProof as { ok: boolean; tables: number; rows: number } | undefined;
  add({ group: 'Data', criterion: 'Backup procedure confirmed (backed up and restored)', status: verdict(data, proof?.ok), evidence: from(data, proof ? `restore proof: ${proof.tables} tables, ${proof.rows} rows identical` : 'restore proof'), fix: 'rehearse data --yes', required: true });

  // Migration (migration-test-report).
  const cat = (name: string) => (migration?.data.categories as Record<string, { status: CheckStatus | 'not run' }> | undefined)?.[name]?.status;
  // A category that was skipped (or never ran) proves nothing: only pass (or pass with warnings) counts.
  const ran = (name: string) => (cat(name) === undefined ? undefined : cat(name) === 'pass' || cat(name) === 'warn');
  const catItem = (criterion: string, category: string, more = '') =>
    add({ group: 'Migration', criterion, status: verdict(migration, ran(category)), evidence: from(migration, `${category}: ${cat(category) ?? 'not run'}${more}`), fix: 'rehearse migrate --yes', required: true });
  catItem('Role migration tested', 'migration');
  catItem('Integrity kept after migration', 'integrity');
  catItem('Rollback verified', 'rollback');
  // Staging's figures say little about production on their own: the evidence carries the projection, or says there is none.
  const projection = migration?.data.performance?.projection as { headline?: string } | undefined;
  catItem('Performance acceptable', 'performance', projection?.headline ? `; on production: ${projection.headline}` : '');
  catItem('Edge cases handled', 'edge-cases');

  // Environment (staging-validation-report).
  const vcats = (validation?.data.categories as Array<{ category: string; ok: boolean }> | undefined) ?? [];
  const vcat = (name: string) => vcats.find((c) => c.category === name)?.ok;
  const fullValidation = validation && !validation.data.quick;
  add({ group: 'Environment', criterion: 'All validation categories pass', status: verdict(validation, fullValidation ? !!validation!.data.ok && vcats.length === 6 : undefined), evidence: from(validation, fullValidation ? `${vcats.filter((c) => c.ok).length}/6 categories pass` : 'a full (not --quick) run'), fix: 'rehearse validate', required: true });
  for (const [criterion, category] of [['Security configuration verified', 'security'], ['Application works', 'application'], ['Services integrated', 'integration']] as const) {
    add({ group: 'Environment', criterion, status: verdict(validation, vcat(category)), evidence: from(validation, category), fix: `rehearse validate --category ${category}`, required: true });
  }

  // The guide's numeric targets.
  const vcheck = (pred: (c: GradedCheck & { id: string; title: string; value: string }) => boolean) => (validation?.data.checks as Array<GradedCheck & { id: string; title: string; value: string }> | undefined)?.find(pred);
  const pageLoad = vcheck((c) => /page.?load/i.test(`${c.id} ${c.title}`));
  add({ group: 'Targets', criterion: 'Page loads < 3 s', status: verdict(validation, pageLoad ? pageLoad.status === 'pass' : undefined), evidence: from(validation, pageLoad ? `${pageLoad.title}: ${pageLoad.value}` : 'page load'), fix: 'rehearse validate --category performance', required: true });
  const queries = vcheck((c) => /standard.?quer/i.test(`${c.id} ${c.title}`));
  add({ group: 'Targets', criterion: 'Standard queries < 100 ms', status: verdict(validation, queries ? queries.status === 'pass' : undefined), evidence: from(validation, queries ? `${queries.title}: ${queries.value}` : 'standard queries'), fix: 'rehearse validate --category database', required: true });
  add({ group: 'Targets', criterion: 'Migration success 100 %', status: verdict(migration, ran('migration')), evidence: from(migration, `migration: ${cat('migration') ?? 'not run'}`), fix: 'rehearse migrate --yes', required: true });
  add({ group: 'Targets', criterion: 'Rollback success 100 %', status: verdict(migration, ran('rollback')), evidence: from(migration, `rollback: ${cat('rollback') ?? 'not run'}`), fix: 'rehearse migrate --yes', required: true });

  return { items, generatedAt: now.toISOString(), ready: items.every((i) => !i.required || i.status === 'met') };
}
