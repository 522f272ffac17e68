// `rehearse down [--volumes]`: stop the stack; with volumes it is destructive, so it asks (or
// needs --yes) before anything happens, and takes a staging backup first.
import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { backupStaging } from '../backup.js';
import { dockerClient, listStackContainers, pingDocker } from '../docker.js';
import { UserError } from '../errors.js';
import { stackNames, workPaths } from '../paths.js';
import { composeDown } from '../stack.js';
import { confirmDangerous } from './confirm.js';
import type { GlobalFlags } from './interaction.js';

export async function runDown(config: Config, opts: { volumes: boolean; backup: boolean; flags: GlobalFlags; signal: AbortSignal }): Promise<void> {
  const log = (line: string) => process.stderr.write(line + '\n');
  const docker = dockerClient();
  await pingDocker(docker, opts.signal);
  if (!existsSync(workPaths(config).composeFile)) {
    throw new UserError(`There is no ${workPaths(config).composeFile} here, so there is no staging stack to stop.`, { tryThis: 'Run it from the folder where you ran `rehearse setup`, or pass --config.' });
  }
  const containers = await listStackContainers(docker, config);
  if (opts.volumes) {
    await confirmDangerous(
      {
        action: 'Removing the staging stack with its volumes',
        rows: [
          ['containers', containers.map((c) => c.name).join(', ') || '(none)'],
          ['volumes', Object.values(config.volumes).join(', ')],
          ['network', stackNames(config).network],
          ['database', `${config.database.name} (all staging data)`],
        ],
        resourceName: config.database.name,
      },
      opts.flags,
    );
    const db = containers.find((c) => c.service === 'postgres-staging' && c.state === 'running');
    if (opts.backup && db) {
      log('Backing up the staging database first…');
      const backup = await backupStaging(config, opts.signal);
      log(`Backup: ${backup.file} (${(backup.bytes / 1024).toFixed(1)} KiB, ${backup.ms} ms)`);
    } else if (opts.backup) log('The staging database is not running; no backup taken.');
  }
  log(`Stopping ${containers.length} container(s)${opts.volumes ? ' and removing volumes' : ''}…`);
  await composeDown(config, { volumes: opts.volumes, signal: opts.signal, onLine: (line) => log(`  ${line}`) });
  log(opts.volumes ? 'Staging stack, network and volumes removed.' : 'Staging stack stopped; volumes kept (`rehearse setup` brings it back with its data).');
}
