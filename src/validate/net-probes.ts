// Socket-level probes that no client library would do for us: a TLS handshake pinned to one protocol
// version, a raw RESP exchange with Redis (no AUTH), and a plain TCP connect.
import net from 'node:net';
import tls from 'node:tls';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface TlsAttempt {
  version: TlsVersion;
  /** accepted: handshake done; refused: the server said no; unsupported: this client cannot offer the version; unreachable: no server. */
  outcome: 'accepted' | 'refused' | 'unsupported' | 'unreachable';
  detail: string;
  /** SHA-256 fingerprint of the certificate the server presented (accepted handshakes). */
  fingerprint256?: string;
}

/** Errors that mean this client (its OpenSSL build or security level) could not offer the version at all. */
const CLIENT_CANNOT_OFFER = /NO_PROTOCOLS_AVAILABLE|NO_CIPHERS_AVAILABLE|NO_SUITABLE|INVALID_PROTOCOL_VERSION|UNSUPPORTED_SSL_VERSION|no protocols available|no ciphers available/i;
/** Errors that mean the server turned the handshake down. */
const SERVER_REFUSED = /ALERT_PROTOCOL_VERSION|ALERT_HANDSHAKE_FAILURE|ALERT_INSUFFICIENT_SECURITY|UNSUPPORTED_PROTOCOL|WRONG_VERSION_NUMBER|ECONNRESET|EPIPE|socket hang up|disconnected before secure/i;

/**
 * One handshake limited to exactly `version`. Legacy versions are offered with
 * `DEFAULT@SECLEVEL=0`: Node 20's OpenSSL otherwise declines to offer TLS 1.0/1.1 itself, and a
 * refusal by our own client must never pass as a refusal by the server.
 */
export function tryTlsVersion(opts: { host: string; port: number; version: TlsVersion; ca?: Buffer; servername?: string; timeoutMs?: number; signal?: AbortSignal }): Promise<TlsAttempt> {
  const legacy = opts.version === 'TLSv1' || opts.version === 'TLSv1.1';
  const version = opts.version;
  return new Promise((resolve) => {
    let socket: tls.TLSSocket | undefined;
    let settled = false;
    const onAbort = () => done('unreachable', 'cancelled');
    const done = (outcome: TlsAttempt['outcome'], detail: string, fingerprint256?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve({ version, outcome, detail, ...(fingerprint256 ? { fingerprint256 } : {}) });
    };
    const timer = setTimeout(() => done('unreachable', `no TLS answer within ${opts.timeoutMs ?? 5000} ms`), opts.timeoutMs ?? 5000);
    try {
      socket = tls.connect({
        host: opts.host,
        port: opts.port,
        servername: opts.servername ?? 'localhost',
        minVersion: version,
        maxVersion: version,
        ...(legacy ? { ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false } : { ...(opts.ca ? { ca: opts.ca } : {}), rejectUnauthorized: true }),
      });
    } catch (error) {
      done('unsupported', `this client cannot offer ${version}: ${(error as Error).message}`);
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const s = socket;
    s.once('secureConnect', () => {
      const negotiated = s.getProtocol();
      const cert = s.getPeerCertificate();
      if (negotiated !== version) done('refused', `server negotiated ${negotiated} instead`);
      else done('accepted', `handshake completed (${s.getCipher()?.name ?? 'cipher ?'})`, cert?.fingerprint256);
    });
    s.once('error', (error: NodeJS.ErrnoException) => {
      const text = `${error.code ?? ''} ${error.message}`;
      if (error.code === 'ECONNREFUSED' || error.code === 'EHOSTUNREACH' || error.code === 'ETIMEDOUT') done('unreachable', `${error.code}: nothing answers on ${opts.host}:${opts.port}`);
      else if (CLIENT_CANNOT_OFFER.test(text)) done('unsupported', `this client cannot offer ${version} (${error.code ?? error.message})`);
      else if (SERVER_REFUSED.test(text)) done('refused', error.code ?? error.message.split('\n')[0]!);
      // A certificate problem on 1.2/1.3 is a failure of its own, not a refusal of the version.
      else done(legacy ? 'refused' : 'unreachable', error.code ?? error.message.split('\n')[0]!);
    });
  });
}

/** Sends raw RESP commands one after another on one socket, without authenticating; returns each first reply line. */
export function rawRedisExchange(opts: { host: string; port: number; commands: string[][]; timeoutMs?: number }): Promise<string[]> {
  const encode = (args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const replies: string[] = [];
    let buffer = '';
    const socket = net.connect({ host: opts.host, port: opts.port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`Redis on ${opts.host}:${opts.port} did not answer within ${opts.timeoutMs ?? 3000} ms`), { code: 'ETIMEDOUT' })), opts.timeoutMs ?? 3000);
    const next = () => {
      if (replies.length === opts.commands.length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(replies);
      } else socket.write(encode(opts.commands[replies.length]!));
    };
    socket.once('connect', next);
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      // Only simple/error replies and short bulk headers are expected; the first line is enough.
      let newline: number;
      while ((newline = buffer.indexOf('\r\n')) >= 0) {
        replies.push(buffer.slice(0, newline));
        buffer = '';
        next();
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (replies.length < opts.commands.length) reject(Object.assign(new Error('Redis closed the connection'), { code: 'ECONNRESET' }));
    });
  });
}

/** Whether something accepts TCP connections on host:port. */
export function tcpOpen(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (open: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(open);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
