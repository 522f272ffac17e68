// Live container figures for the stats pane, from dockerode's stats stream (one stream per
// container, decoded incrementally; nothing is polled through the CLI).
import type Dockerode from 'dockerode';

export type Health = 'healthy' | 'unhealthy' | 'starting' | 'none';

export interface ContainerStat {
  /** Container name, e.g. 1001-stories-db-staging. */
  name: string;
  /** Compose service, e.g. postgres-staging. */
  service: string;
  state: string;
  health: Health;
  /** Percent of one core (100 = one full core), as `docker stats` shows it. */
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  netRxBytes: number;
  netTxBytes: number;
}

interface RawStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: { cache?: number; inactive_file?: number } };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

/** The CPU, memory and network figures of one stats frame, computed the way `docker stats` does. */
export function figuresFromStats(raw: RawStats): Pick<ContainerStat, 'cpuPercent' | 'memoryBytes' | 'memoryLimitBytes' | 'netRxBytes' | 'netTxBytes'> {
  const cpu = raw.cpu_stats ?? {};
  const pre = raw.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const cpus = cpu.online_cpus ?? cpu.cpu_usage?.percpu_usage?.length ?? 1;
  const cpuPercent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
  const mem = raw.memory_stats ?? {};
  const cache = mem.stats?.inactive_file ?? mem.stats?.cache ?? 0;
  let rx = 0;
  let tx = 0;
  for (const net of Object.values(raw.networks ?? {})) {
    rx += net.rx_bytes ?? 0;
    tx += net.tx_bytes ?? 0;
  }
  return { cpuPercent, memoryBytes: Math.max(0, (mem.usage ?? 0) - cache), memoryLimitBytes: mem.limit ?? 0, netRxBytes: rx, netTxBytes: tx };
}

function healthOf(inspect: Dockerode.ContainerInspectInfo): Health {
  const status = inspect.State.Health?.Status;
  return status === 'healthy' || status === 'unhealthy' || status === 'starting' ? status : 'none';
}

/**
 * Streams figures for every container of the compose project until `signal` aborts. `onUpdate`
 * gets the whole table (sorted by service) each time a frame arrives; new containers are picked up
 * on a slow rescan.
 */
export async function watchContainerStats(
  docker: Dockerode,
  composeProject: string,
  signal: AbortSignal,
  onUpdate: (stats: ContainerStat[]) => void,
  rescanMs = 3000,
): Promise<void> {
  const table = new Map<string, ContainerStat>();
  const streams = new Map<string, NodeJS.ReadableStream & { destroy?: () => void }>();
  const emit = () => onUpdate([...table.values()].sort((a, b) => a.service.localeCompare(b.service)));

  const follow = async (id: string) => {
    const container = docker.getContainer(id);
    const info = await container.inspect();
    const base: ContainerStat = {
      name: info.Name.replace(/^\//, ''),
      service: info.Config.Labels['com.docker.compose.service'] ?? info.Name,
      state: info.State.Status,
      health: healthOf(info),
      cpuPercent: 0,
      memoryBytes: 0,
      memoryLimitBytes: 0,
      netRxBytes: 0,
      netTxBytes: 0,
    };
    table.set(id, base);
    emit();
    if (info.State.Status !== 'running') return;
    const stream = (await container.stats({ stream: true })) as unknown as NodeJS.ReadableStream & { destroy?: () => void };
    streams.set(id, stream);
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        try {
          const current = table.get(id);
          if (current) table.set(id, { ...current, ...figuresFromStats(JSON.parse(line) as RawStats) });
          emit();
        } catch {
          // A partial frame; the next one completes it.
        }
      }
    });
    stream.on('error', () => undefined);
    stream.on('end', () => streams.delete(id));
  };

  const rescan = async () => {
    const list = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${composeProject}`] } });
    const present = new Set(list.map((c) => c.Id));
    for (const id of [...table.keys()]) if (!present.has(id)) table.delete(id);
    for (const c of list) {
      if (!table.has(c.Id) || (!streams.has(c.Id) && c.State === 'running')) await follow(c.Id).catch(() => undefined);
      else {
        // Health changes are not in the stats stream; refresh them on each rescan.
        const current = table.get(c.Id);
        if (current) {
          const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
          if (info) table.set(c.Id, { ...current, state: info.State.Status, health: healthOf(info) });
        }
      }
    }
    emit();
  };

  await rescan().catch(() => undefined);
  const timer = setInterval(() => void rescan().catch(() => undefined), rescanMs);
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  clearInterval(timer);
  for (const stream of streams.values()) stream.destroy?.();
}
