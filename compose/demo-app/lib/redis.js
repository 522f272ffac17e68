'use strict';
// Minimal RESP2 client over `net`/`tls`: one short-lived connection per call.
// Enough for health checks and small GET/SET; never throws synchronously, always settles
// within `timeoutMs`, and never puts the password in an error message.

const net = require('net');
const tls = require('tls');

/** Parses redis://[user]:[password]@host:port/db (rediss:// for TLS). */
function parseRedisUrl(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch (_) {
    throw new Error('REDIS_URL is not a valid URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error('REDIS_URL must start with redis:// or rediss://');
  }
  const db = url.pathname && url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    username: decodeURIComponent(url.username || ''),
    password: decodeURIComponent(url.password || ''),
    db: Number.isInteger(db) && db >= 0 ? db : 0,
    tls: url.protocol === 'rediss:',
  };
}

/** Where it points, without credentials (safe to log). */
function describeRedis(cfg) {
  return `${cfg.tls ? 'rediss' : 'redis'}://${cfg.host}:${cfg.port}/${cfg.db}${cfg.password ? ' (auth)' : ''}`;
}

function encodeCommand(args) {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) {
    const s = String(arg);
    parts.push(`$${Buffer.byteLength(s)}\r\n${s}\r\n`);
  }
  return parts.join('');
}

class RedisReplyError extends Error {}

/**
 * Parses one RESP value from buf at offset. Returns { value, next } or undefined when the
 * buffer does not hold a complete value yet. Error replies become RedisReplyError values.
 */
function parseReply(buf, offset) {
  if (offset >= buf.length) return undefined;
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next: after };
    case '-':
      return { value: new RedisReplyError(line), next: after };
    case ':':
      return { value: Number(line), next: after };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return undefined;
      return { value: buf.toString('utf8', after, after + len), next: after + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      const items = [];
      let pos = after;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new Error(`not a Redis reply (starts with ${JSON.stringify(type)})`);
  }
}

/**
 * Opens a connection, authenticates (AUTH [user] password), selects the db, sends `commands`
 * (array of argument arrays) pipelined, and resolves with their replies. Rejects on
 * connection errors, timeouts, or an error reply to AUTH/SELECT; error replies to the
 * commands themselves are rejected too (first one wins).
 */
function runCommands(cfg, commands, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const preamble = [];
    if (cfg.password) preamble.push(cfg.username ? ['AUTH', cfg.username, cfg.password] : ['AUTH', cfg.password]);
    if (cfg.db) preamble.push(['SELECT', cfg.db]);
    const all = preamble.concat(commands);
    const labels = all.map((c) => String(c[0]).toUpperCase());

    let settled = false;
    let buf = Buffer.alloc(0);
    const replies = [];
    const opts = { host: cfg.host, port: cfg.port };
    const socket = cfg.tls ? tls.connect({ ...opts, servername: cfg.host }) : net.connect(opts);

    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.on('error', () => {});
      // QUIT is polite but not needed; destroy keeps it quick and bounded.
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };

    const timer = setTimeout(() => finish(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);

    socket.setNoDelay(true);
    socket.once(cfg.tls ? 'secureConnect' : 'connect', () => {
      socket.write(all.map(encodeCommand).join(''));
    });
    socket.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let offset = 0;
      try {
        for (;;) {
          const parsed = parseReply(buf, offset);
          if (!parsed) break;
          offset = parsed.next;
          const i = replies.length;
          replies.push(parsed.value);
          if (parsed.value instanceof RedisReplyError) {
            const msg = parsed.value.message;
            return finish(new Error(labels[i] === 'AUTH' ? `AUTH failed: ${msg}` : msg));
          }
          if (replies.length === all.length) return finish(null, replies.slice(preamble.length));
        }
      } catch (e) {
        return finish(e);
      }
      buf = buf.subarray(offset);
    });
    socket.on('error', (e) => finish(new Error(e.code ? `${e.code} ${cfg.host}:${cfg.port}` : e.message)));
    socket.on('close', () => finish(new Error('connection closed by server')));
  });
}

function createRedis(url, { timeoutMs = 2000 } = {}) {
  const cfg = parseRedisUrl(url);
  const one = async (args) => (await runCommands(cfg, [args], timeoutMs))[0];
  return {
    describe: () => describeRedis(cfg),
    ping: () => one(['PING']),
    get: (key) => one(['GET', key]),
    set: (key, value, ttlSeconds) => one(ttlSeconds ? ['SET', key, value, 'EX', ttlSeconds] : ['SET', key, value]),
  };
}

module.exports = { createRedis, parseRedisUrl, parseReply, encodeCommand };
