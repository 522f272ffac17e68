// `rehearse down [--volumes]`: stop the stack; with volumes it is destructive, so it asks (or
// needs --yes) before anything happens, and takes a staging backup first.
import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { backupStaging } from '../backup.js';
import { dockerClient, listStackContainers, pingDocker } from '../docker.js';
import { CheckFailedError, UserError } from '../errors.js';
import { composeIdentity, identityMismatch, volumeOwner } from '../compose-identity.js';
import { renderComposeFile } from '../generate.js';
import { stackNames, workPaths } from '../paths.js';
import { composeDown } from '../stack.js';
import { confirm, type Ui } from './ui.js';

export async function downCommand(config: Config, opts: { volumes: boolean; backup: boolean; signal: AbortSignal }, ui: Ui): Promise<void> {
  const log = (line: string) => process.stderr.write(line + '\n');
  const docker = dockerClient();
  await pingDocker(docker, opts.signal);
  if (!existsSync(workPaths(config).composeFile)) {
    throw new UserError(`There is no ${workPaths(config).composeFile} here, so there is no staging stack to stop.`, { tryThis: 'Run it from the folder where you ran `rehearse setup`, or pass --config.' });
  }
  // The file in the folder must act on this project's stack only: one another project left here
  // would make compose stop (and with --volumes delete) that project's containers and data.
  const file = workPaths(config).composeFile;
  const mismatch = identityMismatch(file, composeIdentity(renderComposeFile(config)));
  if (mismatch.length) {
    throw new UserError(`${file} is not this project's (${stackNames(config).composeProject}): ${mismatch.join('; ')}. Nothing was stopped or removed.`, {
      tryThis: 'Run `rehearse down` with the project that wrote it (REHEARSE_PROJECT or project in the config), or `rehearse setup` to write this project\'s file.',
    });
  }
  const volumes = Object.values(config.volumes);
  const owners = await Promise.all(volumes.map(async (name) => ({ name, ...(await volumeOwner(docker, name)) })));
  if (opts.volumes) {
    const foreign = owners.filter((v) => v.exists && v.project && v.project !== stackNames(config).composeProject);
    if (foreign.length) {
      throw new UserError(`The volume(s) ${foreign.map((v) => `${v.name} (project "${v.project}")`).join(', ')} belong to another compose project; nothing was stopped or removed.`, {
        tryThis: 'Give this project its own volume names (volumes.* in the config, or REHEARSE_VOLUME_POSTGRES…), or run `rehearse down --volumes` with the project that owns them.',
      });
    }
  }
  const containers = await listStackContainers(docker, config);
  if (opts.volumes) {
    await confirm(ui, {
      kind: 'dangerous',
      action: 'Removing the staging stack with its volumes',
      rows: [
        ['containers', containers.map((c) => c.name).join(', ') || '(none)'],
        ['volumes', Object.values(config.volumes).join(', ')],
        ['network', stackNames(config).network],
        ['database', `${config.database.name} (all staging data)`],
      ],
      resourceName: config.database.name,
    });
    const db = containers.find((c) => c.service === 'postgres-staging' && c.state === 'running');
    if (opts.backup && db) {
      log('Backing up the staging database first…');
      const backup = await backupStaging(config, opts.signal);
      log(`Backup: ${backup.file} (${(backup.bytes / 1024).toFixed(1)} KiB, ${backup.ms} ms)`);
    } else if (opts.backup) log('The staging database is not running; no backup taken.');
  }
  log(`Stopping ${containers.length} container(s)${opts.volumes ? ' and removing volumes' : ''}…`);
  await composeDown(config, { volumes: opts.volumes, signal: opts.signal, onLine: (line) => log(`  ${line}`) });
  // Said from what the engine has now, not from compose's exit code.
  const left = await listStackContainers(docker, config);
  const volumesLeft = opts.volumes ? (await Promise.all(owners.filter((v) => v.exists).map(async (v) => ((await volumeOwner(docker, v.name)).exists ? v.name : undefined)))).filter(Boolean) : [];
  if (left.length || volumesLeft.length) {
    throw new CheckFailedError(`After \`docker compose down\`, ${[left.length && `container(s) ${left.map((c) => c.name).join(', ')}`, volumesLeft.length && `volume(s) ${volumesLeft.join(', ')}`].filter(Boolean).join(' and ')} still exist.`, {
      tryThis: '`docker ps -a` and `docker volume ls` show what holds them.',
    });
  }
  const removedVolumes = owners.filter((v) => v.exists).map((v) => v.name);
  log(
    opts.volumes
      ? `Staging stack removed (checked): ${containers.length} container(s)${removedVolumes.length ? `, volume(s) ${removedVolumes.join(', ')}` : ', no volumes existed'}.`
      : `Staging stack stopped (checked: ${containers.length} container(s) gone); volumes kept (\`rehearse setup\` brings it back with its data).`,
  );
}
