// What a compose file would act on (its project name, containers, volumes, networks), and who owns
// an existing volume. `down` and `demo --down` compare these with the current configuration before
// removing anything, so a file left in the folder by another project never makes them touch that
// project's containers or data.
import { existsSync, readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { parse } from 'yaml';

export interface ComposeIdentity {
  project: string | undefined;
  containers: string[];
  volumes: string[];
  networks: string[];
}

type Named = Record<string, { name?: string; container_name?: string } | null> | undefined;

export function composeIdentity(text: string): ComposeIdentity {
  const doc = (parse(text) ?? {}) as { name?: string; services?: Named; volumes?: Named; networks?: Named };
  const names = (section: Named, key: 'name' | 'container_name') =>
    Object.values(section ?? {})
      .map((v) => v?.[key])
      .filter((v): v is string => typeof v === 'string')
      .sort();
  return { project: doc.name, containers: names(doc.services, 'container_name'), volumes: names(doc.volumes, 'name'), networks: names(doc.networks, 'name') };
}

/** The ways the file on disk would act on something other than `expected`; [] when it matches. */
export function identityMismatch(file: string, expected: ComposeIdentity): string[] {
  if (!existsSync(file)) return [];
  let actual: ComposeIdentity;
  try {
    actual = composeIdentity(readFileSync(file, 'utf8'));
  } catch (error) {
    return [`it is not valid YAML (${(error as Error).message.split('\n')[0]})`];
  }
  const out: string[] = [];
  if (actual.project !== expected.project) out.push(`its project is "${actual.project ?? '(none)'}", not "${expected.project}"`);
  for (const key of ['containers', 'volumes', 'networks'] as const) {
    const foreign = actual[key].filter((n) => !expected[key].includes(n));
    if (foreign.length) out.push(`it names ${key} ${foreign.join(', ')}`);
  }
  return out;
}

/** The compose project that created a volume (its label), null when the volume does not exist. */
export async function volumeOwner(docker: Docker, name: string): Promise<{ exists: boolean; project: string | undefined }> {
  try {
    const info = await docker.getVolume(name).inspect();
    return { exists: true, project: info.Labels?.['com.docker.compose.project'] };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return { exists: false, project: undefined };
    throw error;
  }
}

/** Whether a container of that exact name exists. */
export async function containerExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getContainer(name).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}
