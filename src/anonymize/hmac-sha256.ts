// HMAC-SHA256 for many short messages under one key. node:crypto costs several microseconds per
// createHmac call (object and key setup), which made hashing half of the anonymizer's time; here
// the keyed inner and outer states are computed once and each message costs two or three SHA-256
// blocks in plain JS. The output is standard HMAC-SHA256, checked against node:crypto in tests.
import { createHash } from 'node:crypto';

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const W = new Int32Array(64);

/** One SHA-256 compression of the 64-byte block at `offset` into `state`. */
function compress(state: Int32Array, block: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    W[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!;
    const w2 = W[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!, e = state[4]!, f = state[5]!, g = state[6]!, h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/** Pads `buf[0..len)` (which follows `prefixBytes` already hashed) and runs the remaining blocks. */
function finish(state: Int32Array, buf: Uint8Array, len: number, prefixBytes: number): void {
  buf[len] = 0x80;
  const total = Math.ceil((len + 9) / 64) * 64;
  // A loop beats Buffer#fill and #writeUInt32BE here: the ranges are a few bytes, the calls are not free.
  for (let i = len + 1; i < total - 8; i++) buf[i] = 0;
  const bits = (prefixBytes + len) * 8;
  const hi = Math.floor(bits / 0x100000000);
  buf[total - 8] = hi >>> 24;
  buf[total - 7] = (hi >>> 16) & 0xff;
  buf[total - 6] = (hi >>> 8) & 0xff;
  buf[total - 5] = hi & 0xff;
  buf[total - 4] = bits >>> 24;
  buf[total - 3] = (bits >>> 16) & 0xff;
  buf[total - 2] = (bits >>> 8) & 0xff;
  buf[total - 1] = bits & 0xff;
  for (let off = 0; off < total; off += 64) compress(state, buf, off);
}

function putWord(target: Uint8Array, offset: number, word: number): void {
  target[offset] = word >>> 24;
  target[offset + 1] = (word >>> 16) & 0xff;
  target[offset + 2] = (word >>> 8) & 0xff;
  target[offset + 3] = word & 0xff;
}

/** Returns `mac(domain, value)` = HMAC-SHA256(key, domain ‖ 0x00 ‖ UTF-8(value)). */
export function createKeyedHash(key: Buffer): (domain: string, value: string) => Buffer {
  const block = Buffer.alloc(64);
  (key.length > 64 ? createHash('sha256').update(key).digest() : key).copy(block);
  const inner0 = IV.slice();
  const outer0 = IV.slice();
  compress(inner0, block.map((x) => x ^ 0x36), 0);
  compress(outer0, block.map((x) => x ^ 0x5c), 0);
  const inner = new Int32Array(8);
  const outer = new Int32Array(8);
  const outerBlock = new Uint8Array(64);
  const prefixes = new Map<string, Buffer>();
  let buf = Buffer.alloc(1024);
  return (domain, value) => {
    let prefix = prefixes.get(domain);
    if (!prefix) prefixes.set(domain, (prefix = Buffer.from(`${domain}\0`, 'utf8')));
    const need = prefix.length + value.length * 3 + 80;
    if (buf.length < need) buf = Buffer.alloc(Math.max(need, buf.length * 2));
    for (let i = 0; i < prefix.length; i++) buf[i] = prefix[i]!;
    let len = prefix.length;
    // ASCII is the common case and cheaper to copy by hand than through the UTF-8 encoder.
    let ascii = true;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      buf[len + i] = c;
    }
    len = ascii ? len + value.length : len + buf.write(value, len, 'utf8');
    inner.set(inner0);
    finish(inner, buf, len, 64);
    for (let i = 0; i < 8; i++) putWord(outerBlock, i * 4, inner[i]!);
    outer.set(outer0);
    finish(outer, outerBlock, 32, 64);
    const out = Buffer.allocUnsafe(32);
    for (let i = 0; i < 8; i++) putWord(out, i * 4, outer[i]!);
    return out;
  };
}
