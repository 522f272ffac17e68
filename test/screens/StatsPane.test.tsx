import { render } from 'ink-testing-library';
import { describe, expect, it, vi } from 'vitest';
import { StatsPane } from '../../screens/StatsPane.js';
import type { ContainerStat } from '../../src/stack/container-stats.js';
import { plain } from './helpers.js';

// Before chalk loads (vi.hoisted runs ahead of the imports): colours on, so the health colour can be asserted.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
  delete process.env.NO_COLOR;
});

const postgres: ContainerStat = {
  name: '1001-stories-db-staging',
  service: 'postgres-staging',
  state: 'running',
  health: 'healthy',
  cpuPercent: 3.456,
  memoryBytes: 48.2 * 1024 ** 2,
  memoryLimitBytes: 23.4 * 1024 ** 3,
  netRxBytes: 1536,
  netTxBytes: 2.5 * 1024 ** 2,
};

describe('StatsPane', () => {
  it('says so when no container runs', () => {
    const { lastFrame, unmount } = render(<StatsPane stats={[]} />);
    const frame = plain(lastFrame());
    unmount();
    expect(frame).toContain('no containers running');
  });

  it('shows service, health, CPU, memory and network in human units', () => {
    const { lastFrame, unmount } = render(<StatsPane stats={[postgres]} />);
    const frame = plain(lastFrame());
    unmount();
    const row = frame.split('\n').find((l) => l.includes('postgres-staging')) ?? '';
    expect(row).toContain('healthy');
    expect(row).toContain('3.5%');
    expect(row).toContain('48.2 MiB / 23.4 GiB');
    expect(row).toContain('1.5 KiB / 2.5 MiB');
    expect(frame).not.toContain('no containers running');
  });

  it('shows the container state when there is no healthcheck', () => {
    const redis: ContainerStat = { ...postgres, name: 'redis', service: 'redis-staging', health: 'none', state: 'exited' };
    const { lastFrame, unmount } = render(<StatsPane stats={[redis]} />);
    const frame = plain(lastFrame());
    unmount();
    const row = frame.split('\n').find((l) => l.includes('redis-staging')) ?? '';
    expect(row).toContain('exited');
    expect(row).not.toContain('none');
  });

  it('colours an unhealthy container red', () => {
    const { lastFrame, unmount } = render(<StatsPane stats={[{ ...postgres, health: 'unhealthy' }]} />);
    const frame = lastFrame() ?? '';
    unmount();
    expect(frame).toContain('\u001B[31munhealthy');
  });
});
