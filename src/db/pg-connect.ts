// Sockets for the `postgres` library, for two of its behaviours:
// 1. It leaves Nagle's algorithm on; with delayed ACKs every round trip then costs ~40 ms.
// 2. After `COPY … TO STDOUT`, when the last data push hit the stream's high-water mark in the
//    same network read as CopyDone, it pauses the socket and never resumes it: the connection's
//    next query then waits forever. `resumeStalledSockets()` after each COPY OUT undoes that.
// Also how a database URL is shown: here rather than in production.ts, so that `rehearse config`
// can show one without loading the postgres library.
import net from 'node:net';

/** A postgres URL without its password: `postgresql://user@host:port/db`. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

const open = new Set<net.Socket>();

export function noDelaySocket(host: string, port: number, timeoutMs = 10_000): () => Promise<net.Socket> {
  return () =>
    new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`connect to ${host}:${port} timed out`), { code: 'CONNECT_TIMEOUT' })), timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        open.add(socket);
        socket.once('close', () => open.delete(socket));
        resolve(socket);
      });
    });
}

/** Resumes every socket of ours that a finished COPY OUT left paused. */
export function resumeStalledSockets(): void {
  for (const socket of open) if (socket.isPaused()) socket.resume();
}
