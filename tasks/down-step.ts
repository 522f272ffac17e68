// `down [--volumes]` as a step: check the compose file and the volumes are this project's (the
// plan, reused by the run) → with --volumes, back up staging → `docker compose down` → check with
// the engine that nothing is left. Only --volumes asks: it deletes the staging data.
import { existsSync } from 'node:fs';
import type Dockerode from 'dockerode';
import type { ListrTask } from 'listr2';
import { backupStaging, type BackupResult } from '../src/db/backup.js';
import { composeIdentity, identityMismatch, volumeOwner } from '../src/stack/compose-identity.js';
import type { Config } from '../src/config.js';
import { listStackContainers, pingDocker, type StackContainer } from '../src/stack/docker.js';
import { CheckFailedError, UserError } from '../src/errors.js';
import { renderComposeFile } from '../src/stack/generate.js';
import { stackNames, workPaths } from '../src/paths.js';
import { composeDown } from '../src/stack/compose.js';
import { kib } from './format.js';
import { question, type Step } from './steps.js';

export interface DownContext {
  config: Config;
  docker: Dockerode;
  signal: AbortSignal;
  volumes: boolean;
  /** --no-backup turns it off. */
  backup: boolean;
  /** Each named volume, and the compose project that owns it. */
  owners?: Array<{ name: string; exists: boolean; project: string | undefined }>;
  containers?: StackContainer[];
  backupTaken?: BackupResult;
}

export function newDownContext(config: Config, docker: Dockerode, signal: AbortSignal, opts: { volumes: boolean; backup: boolean }): DownContext {
  return { config, docker, signal, ...opts };
}

/** What `down` would act on, checked once: the compose file in the folder and the volumes must be this project's. */
async function inspect(ctx: DownContext): Promise<void> {
  if (ctx.containers) return;
  const { config, docker } = ctx;
  await pingDocker(docker, ctx.signal);
  const file = workPaths(config).composeFile;
  if (!existsSync(file)) {
    throw new UserError(`There is no ${file} here, so there is no staging stack to stop.`, { tryThis: 'Run it from the folder where you ran `rehearse setup`, or pass --config.' });
  }
  // The file in the folder must act on this project's stack only: one another project left here
  // would make compose stop (and with --volumes delete) that project's containers and data.
  const mismatch = identityMismatch(file, composeIdentity(renderComposeFile(config)));
  if (mismatch.length) {
    throw new UserError(`${file} is not this project's (${stackNames(config).composeProject}): ${mismatch.join('; ')}. Nothing was stopped or removed.`, {
      tryThis: 'Run `rehearse down` with the project that wrote it (REHEARSE_PROJECT or project in the config), or `rehearse setup` to write this project\'s file.',
    });
  }
  const owners = await Promise.all(Object.values(config.volumes).map(async (name) => ({ name, ...(await volumeOwner(docker, name)) })));
  if (ctx.volumes) {
    const foreign = owners.filter((v) => v.exists && v.project && v.project !== stackNames(config).composeProject);
    if (foreign.length) {
      throw new UserError(`The volume(s) ${foreign.map((v) => `${v.name} (project "${v.project}")`).join(', ')} belong to another compose project; nothing was stopped or removed.`, {
        tryThis: 'Give this project its own volume names (volumes.* in the config, or REHEARSE_VOLUME_POSTGRES…), or run `rehearse down --volumes` with the project that owns them.',
      });
    }
  }
  ctx.owners = owners;
  ctx.containers = await listStackContainers(docker, config);
}

export function downTasks(): ListrTask<DownContext>[] {
  return [
    {
      title: 'Check that the compose file and the volumes are this project\'s',
      task: async (ctx, task) => {
        await inspect(ctx);
        task.title = `Project ${stackNames(ctx.config).composeProject}: ${ctx.containers!.length} container(s)`;
      },
    },
    {
      title: 'Back up the staging database first',
      enabled: (ctx) => ctx.volumes && ctx.backup,
      task: async (ctx, task) => {
        if (!ctx.containers!.some((c) => c.service === 'postgres-staging' && c.state === 'running')) return task.skip('The staging database is not running; no backup taken.');
        const b = (ctx.backupTaken = await backupStaging(ctx.config, ctx.signal));
        task.title = `Backup: ${b.file} (${kib(b.bytes)}, ${b.ms} ms)`;
      },
    },
    {
      title: 'Stop the containers',
      task: async (ctx, task) => {
        task.title = `Stopping ${ctx.containers!.length} container(s)${ctx.volumes ? ' and removing volumes' : ''}`;
        await composeDown(ctx.config, { volumes: ctx.volumes, signal: ctx.signal, onLine: (line) => (task.output = line) });
        // Said from what the engine has now, not from compose's exit code.
        const left = await listStackContainers(ctx.docker, ctx.config);
        const volumesLeft = ctx.volumes ? (await Promise.all(ctx.owners!.filter((v) => v.exists).map(async (v) => ((await volumeOwner(ctx.docker, v.name)).exists ? v.name : undefined)))).filter(Boolean) : [];
        if (left.length || volumesLeft.length) {
          throw new CheckFailedError(`After \`docker compose down\`, ${[left.length && `container(s) ${left.map((c) => c.name).join(', ')}`, volumesLeft.length && `volume(s) ${volumesLeft.join(', ')}`].filter(Boolean).join(' and ')} still exist.`, {
            tryThis: '`docker ps -a` and `docker volume ls` show what holds them.',
          });
        }
        task.title = `Stopped ${ctx.containers!.length} container(s)${ctx.volumes ? ' and removed the volumes' : ''} (checked with the engine)`;
      },
    },
  ];
}

export const downStep: Step<DownContext> = {
  name: 'down',
  guard: (ctx) => (ctx.volumes ? { kind: 'dangerous', action: 'Removing the staging stack with its volumes', resourceName: ctx.config.database.name } : undefined),
  async plan(ctx) {
    await inspect(ctx);
    const { config } = ctx;
    return {
      step: 'down',
      confirm: question(downStep.guard!(ctx), [
        ['containers', ctx.containers!.map((c) => c.name).join(', ') || '(none)'],
        ['volumes', Object.values(config.volumes).join(', ')],
        ['network', stackNames(config).network],
        ['database', `${config.database.name} (all staging data)`],
      ]),
    };
  },
  tasks: () => downTasks(),
  close: async () => undefined,
  result(ctx) {
    const removedVolumes = ctx.owners!.filter((v) => v.exists).map((v) => v.name);
    const n = ctx.containers!.length;
    return {
      ok: true,
      fields: { project: stackNames(ctx.config).composeProject, containers: ctx.containers!.map((c) => c.name), volumesRemoved: ctx.volumes ? removedVolumes : [], backup: ctx.backupTaken?.file },
      text: ctx.volumes
        ? `Staging stack removed (checked): ${n} container(s)${removedVolumes.length ? `, volume(s) ${removedVolumes.join(', ')}` : ', no volumes existed'}.\n`
        : `Staging stack stopped (checked: ${n} container(s) gone); volumes kept (\`rehearse setup\` brings it back with its data).\n`,
    };
  },
};
