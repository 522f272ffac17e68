// The light engine reader (status and validate --quick read the engine without dockerode) answers
// exactly what dockerode answers, on a real container; its failures translate the same way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient, engineReader, pingDocker, translateDockerError } from '../src/stack/docker.js';
import { LOCAL_IMAGES } from '../src/config.js';
import { docker } from './helpers/stack.js';

const NAME = 'sf-engine-reader';
const LABEL = `sf-engine-reader=${process.pid}`;
const filters = { label: [LABEL] };
const PORT = 43890;

describe('engineReader', () => {
  let id = '';

  beforeAll(async () => {
    await docker(['rm', '-f', NAME]).catch(() => undefined);
    id = (await docker(['run', '-d', '--name', NAME, '--label', LABEL, '-p', `127.0.0.1:${PORT}:6379`, LOCAL_IMAGES.redis])).trim();
  }, 120_000);

  afterAll(async () => {
    await docker(['rm', '-f', NAME]).catch(() => undefined);
  });

  it('lists, inspects and tops a container as dockerode does', async () => {
    const light = engineReader();
    const full = dockerClient();
    const [mine, theirs] = await Promise.all([light.listContainers({ all: true, filters }), full.listContainers({ all: true, filters })]);
    expect(mine.map((c) => c.Id)).toEqual([id]);
    // Status changes with the container's uptime ("Up 1 second"): everything else is the same document.
    expect(mine.map(({ Status: _, ...c }) => c)).toEqual(theirs.map(({ Status: _, ...c }) => c));
    expect(mine[0]!.Ports.some((p) => p.PublicPort === PORT && p.IP === '127.0.0.1')).toBe(true);

    const [info, fullInfo] = await Promise.all([light.getContainer(id).inspect(), full.getContainer(id).inspect()]);
    expect(info.Id).toBe(id);
    expect(info.State.Running).toBe(true);
    expect(info).toEqual(fullInfo);

    const args = { ps_args: '-o pid,ppid,uid' };
    const [top, fullTop] = (await Promise.all([light.getContainer(id).top(args), full.getContainer(id).top(args)])) as Array<{ Titles: string[]; Processes: string[][] }>;
    expect(top.Titles.map((t) => t.trim())).toEqual(['PID', 'PPID', 'UID']);
    expect(top.Processes.length).toBeGreaterThan(0);
    expect(top).toEqual(fullTop);
  });

  it('pings the engine and reports its version', async () => {
    const v = await pingDocker(engineReader());
    expect(v).toEqual(await pingDocker(dockerClient()));
    expect(v.apiVersion).toMatch(/^\d+\.\d+$/);
  });

  it('fails on an unknown container with the engine status, as dockerode does', async () => {
    const error = (await engineReader().getContainer('sf-no-such-container').inspect().catch((e: unknown) => e)) as { statusCode?: number; message?: string };
    expect(error.statusCode).toBe(404);
    expect(error.message).toMatch(/^\(HTTP code 404\) .*no such container/i);
  });

  it('turns a missing socket into the same actionable error', async () => {
    const before = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///tmp/sf-no-such-docker.sock';
    try {
      const error = await engineReader().listContainers({ all: true, filters }).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('ENOENT');
      expect(translateDockerError(error).message).toBe('Cannot reach the Docker engine: there is no socket at unix:///tmp/sf-no-such-docker.sock.');
    } finally {
      if (before === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = before;
    }
  });
});
