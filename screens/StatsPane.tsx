// Live resource table for the staging containers. Pure props: the wizard throttles the updates.
import { Box, Text } from 'ink';
import type { ContainerStat, Health } from '../src/stack/container-stats.js';
import { formatBytes, formatPercent } from './format.js';

export interface StatsPaneProps {
  stats: readonly ContainerStat[];
  /** Lines it may take; when the table does not fit, one summary line (0 or less: nothing). */
  maxLines?: number | undefined;
}

const HEALTH_COLOR: Record<Health, string | undefined> = {
  healthy: 'green',
  unhealthy: 'red',
  starting: 'yellow',
  none: undefined,
};

// "48.2 MiB / 23.4 GiB" is 19 characters; one more for the gap between columns.
const WIDTH = { service: 18, health: 10, cpu: 8, memory: 21, net: 21 } as const;

/** Columns the table needs, so a parent can decide between side-by-side and stacked layouts. */
export const STATS_PANE_WIDTH = Object.values(WIDTH).reduce((sum, w) => sum + w, 0);

export function StatsPane({ stats, maxLines }: StatsPaneProps) {
  if (maxLines !== undefined && maxLines <= 0) return null;
  if (maxLines !== undefined && stats.length + 2 > maxLines) {
    const healthy = stats.filter((s) => s.health === 'healthy').length;
    const running = stats.filter((s) => s.state === 'running').length;
    return (
      <Text wrap="truncate-end">
        <Text bold>Containers</Text>
        {stats.length ? ` ${running} running, ${healthy} healthy, CPU ${formatPercent(stats.reduce((sum, s) => sum + s.cpuPercent, 0))}` : ' none running'}
      </Text>
    );
  }
  if (stats.length === 0) {
    return (
      <Box flexDirection="column">
        <Text bold>Containers</Text>
        <Text dimColor>no containers running</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column">
      <Text bold>Containers</Text>
      <Box>
        <Cell width={WIDTH.service} dim>SERVICE</Cell>
        <Cell width={WIDTH.health} dim>HEALTH</Cell>
        <Cell width={WIDTH.cpu} dim align="right">CPU</Cell>
        <Cell width={WIDTH.memory} dim align="right">MEMORY</Cell>
        <Cell width={WIDTH.net} dim align="right">NET RX / TX</Cell>
      </Box>
      {stats.map((s) => (
        <Box key={s.name}>
          <Cell width={WIDTH.service}>{s.service}</Cell>
          {/* Containers without a healthcheck have no health; their state says more than "none". */}
          <Cell width={WIDTH.health} color={s.health === 'none' ? (s.state === 'running' ? undefined : 'red') : HEALTH_COLOR[s.health]} dim={s.health === 'none' && s.state === 'running'}>
            {s.health === 'none' ? s.state : s.health}
          </Cell>
          <Cell width={WIDTH.cpu} align="right">{formatPercent(s.cpuPercent)}</Cell>
          <Cell width={WIDTH.memory} align="right">
            {s.memoryLimitBytes > 0 ? `${formatBytes(s.memoryBytes)} / ${formatBytes(s.memoryLimitBytes)}` : formatBytes(s.memoryBytes)}
          </Cell>
          <Cell width={WIDTH.net} align="right">{`${formatBytes(s.netRxBytes)} / ${formatBytes(s.netTxBytes)}`}</Cell>
        </Box>
      ))}
    </Box>
  );
}

function Cell({ width, children, color, dim, align }: { width: number; children: string; color?: string | undefined; dim?: boolean; align?: 'right' }) {
  return (
    <Box width={width} justifyContent={align === 'right' ? 'flex-end' : 'flex-start'} paddingRight={align === 'right' ? 1 : 0}>
      <Text color={color} dimColor={dim} wrap="truncate-end">
        {children}
      </Text>
    </Box>
  );
}
