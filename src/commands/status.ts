// `rehearse status`: what is running, how healthy it is, and where to reach it.
import type { Config } from '../config.js';
import { engineReader, pingDocker } from '../stack/docker.js';
import { stackStatus } from '../stack/compose.js';
import { formatStatus } from '../../tasks/format.js';
import { finish, type Ui } from './ui.js';

export async function statusCommand(config: Config, ui: Ui): Promise<void> {
  const docker = engineReader();
  await pingDocker(docker);
  const status = await stackStatus(docker, config);
  finish(ui, { ok: true, fields: { ...status }, text: formatStatus(status) });
}
