// Preflight stops before anything is written or started, and says what to do.
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, rehearse, removeStack, testStack } from './helpers/stack.js';

const stack = testStack('preflight', 22000);
afterAll(() => removeStack(stack));

describe('preflight', () => {
  it('stops on a busy port, names the port and the process holding it, and creates nothing', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(stack.ports.https, '127.0.0.1', resolve));
    try {
      const r = await rehearse(stack, ['setup', '--yes']);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`port ${stack.ports.https} \\(https\\): in use by \\S+.* \\(pid ${process.pid}\\)`));
      expect(r.stderr).toContain('REHEARSE_PORT_HTTPS');
      expect(r.stderr).toContain('nothing was written or started');
      expect(existsSync(path.join(stack.workDir, 'docker-compose.staging.yml'))).toBe(false);
      expect(existsSync(path.join(stack.workDir, '.env.staging'))).toBe(false);
      expect(await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${stack.config.project}-staging`])).toBe('');
    } finally {
      blocker.close();
    }
  });

  it('translates an unreachable Docker engine into what to do, exit 2', async () => {
    const r = await rehearse(stack, ['setup', '--yes'], { DOCKER_HOST: 'unix:///tmp/rehearse-no-such-docker.sock' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('Cannot reach the Docker engine: there is no socket at unix:///tmp/rehearse-no-such-docker.sock');
    expect(r.stderr).toMatch(/Try: .*DOCKER_HOST/);
    expect(r.stderr).not.toMatch(/Unexpected error|at .*\.js:\d+/);
    expect(existsSync(path.join(stack.workDir, '.env.staging'))).toBe(false);
  });

  it('reports a refused TCP engine the same way in --json', async () => {
    const r = await rehearse(stack, ['status', '--json'], { DOCKER_HOST: 'tcp://127.0.0.1:1' });
    expect(r.exitCode).toBe(2);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(result).toMatchObject({ type: 'result', ok: false, exitCode: 2 });
    expect(result.error).toContain('nothing answers at tcp://127.0.0.1:1');
  });
});
