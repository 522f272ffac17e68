// `rehearse status`: what is running, how healthy it is, and where to reach it.
import type { Config } from '../config.js';
import { engineReader, pingDocker } from '../docker.js';
import { stackStatus, type StackStatus } from '../stack.js';

export function formatStatus(status: StackStatus): string {
  if (!status.containers.length) return `No containers for project ${status.composeProject}. Start them with \`rehearse setup\`.\n`;
  const rows = status.containers.map((c) => [c.service, c.name, c.state, c.health, c.ports.map((p) => `${p.ip}:${p.publicPort}→${p.privatePort}`).join(' ')]);
  const header = ['SERVICE', 'CONTAINER', 'STATE', 'HEALTH', 'PORTS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const urls = Object.entries(status.urls).map(([k, v]) => `  ${k.padEnd(12)} ${v}`);
  return [line(header), ...rows.map(line), '', 'URLs:', ...urls, ''].join('\n');
}

export async function showStatus(config: Config, json: boolean): Promise<void> {
  const docker = engineReader();
  await pingDocker(docker);
  const status = await stackStatus(docker, config);
  process.stdout.write(json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status));
}
