// The in-process HMAC-SHA256 must equal node:crypto's for every key and message shape.
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyedHash } from '../../src/anonymize/hmac-sha256.js';

describe('createKeyedHash', () => {
  it('equals HMAC-SHA256(key, domain‖0‖value) for keys of 16–200 bytes and messages across block boundaries', () => {
    for (const keyLen of [16, 32, 63, 64, 65, 200]) {
      const key = randomBytes(keyLen);
      const mac = createKeyedHash(key);
      for (let len = 0; len < 300; len++) {
        const value = 'x'.repeat(len);
        expect(mac('email', value).toString('hex'), `key ${keyLen}, message ${len}`).toBe(createHmac('sha256', key).update(`email\0${value}`).digest('hex'));
      }
    }
  });

  it('hashes non-ASCII values as UTF-8, and long values past its scratch buffer', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const mac = createKeyedHash(key);
    for (const value of ['José Núñez', '🦊 한국어', 'ü'.repeat(5000)]) {
      expect(mac('name', value).equals(createHmac('sha256', key).update('name\0').update(value, 'utf8').digest())).toBe(true);
    }
  });
});
