// The setup step as a listr2 task tree: preflight → generate → compose up → staging schemas →
// verify → report. Thin: each task calls the core and reports progress; none of them prompts.
import type Dockerode from 'dockerode';
import type { ListrTask } from 'listr2';
import type { Config } from '../src/config.js';
import { runCompose } from '../src/stack/docker.js';
import { generateWorkspace, type GeneratedFiles } from '../src/stack/generate.js';
import { preflight, type PreflightResult } from '../src/stack/preflight.js';
import { writeReport } from '../src/evidence/reports.js';
import { applyStagingSchema, stagingSql } from '../src/db/staging.js';
import { assertVerified, composeUp, grafanaSkippedNote, imageAvailable, profileServices, stackStatus, verifyHealthThroughNginx, verifyPostgres, verifyRedis, type StackStatus, type VerifyCheck } from '../src/stack/compose.js';
import { version } from '../src/version.js';
import { timePhase } from './run-tasks.js';

export interface SetupContext {
  config: Config;
  docker: Dockerode;
  signal: AbortSignal;
  regenerateCerts: boolean;
  startedAt: Date;
  timings: Record<string, number>;
  preflight?: PreflightResult;
  generated?: GeneratedFiles;
  status?: StackStatus;
  verification: VerifyCheck[];
  reportFile?: string;
  /** Optional services left out, each with why and how to enable it. */
  skipped: Array<{ service: string; note: string }>;
}

export function newSetupContext(config: Config, docker: Dockerode, signal: AbortSignal, regenerateCerts = false): SetupContext {
  return { config, docker, signal, regenerateCerts, startedAt: new Date(), timings: {}, verification: [], skipped: [] };
}

export function setupTasks(): ListrTask<SetupContext>[] {
  return [
    {
      title: 'Preflight: Docker, Compose v2, ports, disk',
      task: (ctx, task) =>
        timePhase(ctx, 'preflight', async () => {
          ctx.preflight = await preflight(ctx.config, ctx.docker, ctx.signal, (c) => {
            task.output = `${c.ok ? '✔' : '✖'} ${c.name}: ${c.detail}`;
          });
          task.title = `Preflight: Docker ${ctx.preflight.dockerVersion}, Compose v${ctx.preflight.composeVersion}, ports free, disk ok`;
        }),
    },
    {
      title: 'Write .env.staging, docker-compose.staging.yml, nginx/staging.conf, TLS certificate',
      task: (ctx, task) =>
        timePhase(ctx, 'generate', async () => {
          ctx.generated = await generateWorkspace(ctx.config, { regenerateCerts: ctx.regenerateCerts });
          const g = ctx.generated;
          task.title = `Wrote ${g.files.length} files (secrets ${g.secretsCreated ? 'generated' : 'kept'}, certificate ${g.certCreated ? 'created' : 'reused'}, ${g.cert.daysLeft} days left)`;
        }),
    },
    {
      title: 'Start containers and wait until healthy',
      task: (ctx, task) =>
        timePhase(ctx, 'up', async () => {
          // Grafana cannot always be had (no Debian package, no registry): the rest of the stack comes up without it.
          let services: string[] | undefined;
          if (ctx.config.profiles.monitoring && !(await imageAvailable(ctx.docker, ctx.config.images.grafana))) {
            ctx.skipped.push({ service: 'grafana-staging', note: grafanaSkippedNote(ctx.config) });
            services = profileServices(ctx.config, { grafana: false });
          }
          await composeUp(ctx.config, { signal: ctx.signal, onLine: (line) => (task.output = line), ...(services ? { services } : {}) });
          // compose does not recreate nginx when only its mounted config or certificate changed.
          if (ctx.generated?.nginxChanged) await runCompose(ctx.config, ['exec', '-T', 'nginx-staging', 'nginx', '-s', 'reload'], { signal: ctx.signal });
          ctx.status = await stackStatus(ctx.docker, ctx.config);
          const healthy = ctx.status.containers.filter((c) => c.health === 'healthy').length;
          task.title = `Started ${ctx.status.containers.length} containers, ${healthy} healthy${ctx.skipped.length ? ` (${ctx.skipped.map((s) => s.service).join(', ')} skipped)` : ''}`;
        }),
    },
    {
      title: 'Create the staging schemas (staging_migrations, staging_logs)',
      task: (ctx) =>
        timePhase(ctx, 'schemas', async () => {
          const sql = stagingSql(ctx.config, { max: 1 });
          try {
            await applyStagingSchema(sql);
          } finally {
            await sql.end({ timeout: 2 });
          }
        }),
    },
    {
      title: 'Verify end to end',
      task: (_ctx, task) =>
        task.newListr<SetupContext>(
          [
            ['health', verifyHealthThroughNginx],
            ['postgres', verifyPostgres],
            ['redis', verifyRedis],
          ].map(([key, verify]) => ({
            title: String(key),
            task: async (ctx, sub) => {
              const check = await (verify as (c: Config, s?: AbortSignal) => Promise<VerifyCheck>)(ctx.config, ctx.signal);
              ctx.verification.push(check);
              sub.title = `${check.name}: ${check.detail}`;
              if (!check.ok) throw new Error(`${check.name}: ${check.detail}`);
            },
          })),
          { concurrent: true, exitOnError: false },
        ),
    },
    {
      title: 'Write the setup report',
      task: (ctx, task) => {
        assertVerified(ctx.verification);
        ctx.reportFile = writeReport(ctx.config, 'setup-report', setupReport(ctx));
        task.title = `Report: ${ctx.reportFile}`;
      },
    },
  ];
}

/** The evidence setup leaves: valid JSON, no secrets (writeReport scrubs them again). */
export function setupReport(ctx: SetupContext) {
  const { config } = ctx;
  return {
    kind: 'setup-report',
    rehearseVersion: version,
    startedAt: ctx.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    project: config.project,
    profiles: config.profiles,
    images: config.images,
    ports: config.ports,
    bindAddress: config.bindAddress,
    preflight: ctx.preflight,
    files: ctx.generated?.files,
    certificate: ctx.generated && { created: ctx.generated.certCreated, ...ctx.generated.cert },
    containers: ctx.status?.containers.map(({ name, service, state, health, ports }) => ({ name, service, state, health, ports })),
    urls: ctx.status?.urls,
    verification: ctx.verification,
    skipped: ctx.skipped,
    timingsMs: ctx.timings,
    ok: ctx.verification.length > 0 && ctx.verification.every((c) => c.ok),
  };
}
