// The COPY stream stage: rows split at raw newlines whatever the chunking, output in batches,
// memory flat on large input, counts and time for the report.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  createCopyTransform,
  createRowAnonymizer,
  DEFAULT_RULES_1001_STORIES,
  encodeCopyField,
  type ColumnInfo,
  type CopyAnonymizeTransform,
} from '../../src/anonymize/index.js';

const KEY = 'stream-test-key-0123456789abcdef';
const OPTS = { referenceDate: '2024-06-15' };
const text = (name: string): ColumnInfo => ({ name, dataType: 'text', udtName: 'text' });
const USERS = [text('id'), text('email'), text('name'), { name: 'tokenVersion', dataType: 'integer', udtName: 'int4' }];
const row = (...fields: Array<string | null>) => fields.map(encodeCopyField).join('\t') + '\n';

async function run(t: CopyAnonymizeTransform, chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<string> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    t,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out).toString('utf8');
}

function* byteByByte(buf: Buffer): Generator<Buffer> {
  for (let i = 0; i < buf.length; i++) yield buf.subarray(i, i + 1);
}

describe('createCopyTransform', () => {
  const input = Buffer.from(
    row('u1', 'ann@example.org', 'José Núñez 🦊', '1') +
      row('u2', 'multi\nline\\tab\there@example.org', null, '2') +
      row('u3', '\\N', 'Ann', '3'),
    'utf8',
  );

  it('gives the same output fed one byte at a time (rows and UTF-8 characters split across chunks) as in one chunk', async () => {
    const whole = await run(createCopyTransform(createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS)), [input]);
    const t = createCopyTransform(createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS));
    const bytewise = await run(t, byteByByte(input));
    expect(bytewise).toBe(whole);
    expect(whole.split('\n')).toHaveLength(4); // three rows and the empty rest after the last newline
    expect(whole).not.toContain('example.org');
    expect(whole).toContain('\t\\N\t2\n'); // NULL name kept
    expect(t.stats.rows).toBe(3);
    expect(t.stats.bytesIn).toBe(input.length);
  });

  it('passes an unruled table through unchanged and still counts its rows', async () => {
    const cols = [text('id'), text('orderId'), { name: 'price', dataType: 'numeric', udtName: 'numeric' }];
    const data = Buffer.from(row('i1', 'o1', '9.99') + row('i2', 'o1', '\\x41'));
    const t = createCopyTransform(createRowAnonymizer('order_items', cols, DEFAULT_RULES_1001_STORIES, KEY, OPTS));
    expect(await run(t, byteByByte(data))).toBe(data.toString());
    expect(t.stats.rows).toBe(2);
  });

  it('keeps CRLF endings, the \\. end marker and a last row without a newline', async () => {
    const data = 'u1\tann@example.org\tAnn\t1\r\nu2\tbob@example.org\tBob\t2\n\\.\nu3\tcy@example.org\tCy\t3';
    const out = await run(createCopyTransform(createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS)), [Buffer.from(data)]);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^u1\tuser-[0-9a-f]{8}@staging\.local\t[A-Za-z ]+\t1\r$/);
    expect(lines[2]).toBe('\\.');
    expect(lines[3]).toMatch(/^u3\tuser-[0-9a-f]{8}@staging\.local\t[A-Za-z ]+\t3$/);
  });

  it('fails the stream with the row number, not the row, on a malformed row', async () => {
    const t = createCopyTransform(createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS));
    await expect(run(t, [Buffer.from(row('u1', 'a@x.org', 'A', '1') + 'u2\tsecret@x.org\n')])).rejects.toThrow(/row 2: users: a row has 2 fields/);
  });

  it('streams several MB with flat memory: it never holds more than a batch plus one partial row', async () => {
    const rows = 60_000;
    const batchSize = 32 * 1024;
    async function* generate(): AsyncGenerator<Buffer> {
      let pending = '';
      for (let i = 0; i < rows; i++) {
        pending += row(`cl${i.toString(36).padStart(20, '0')}`, `person.${i}@example.org`, `Person Number ${i}`, String(i % 7));
        if (pending.length > 60_000) {
          yield Buffer.from(pending);
          pending = '';
        }
      }
      yield Buffer.from(pending);
    }
    const t = createCopyTransform(createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS), { batchSize });
    let outBytes = 0;
    let outRows = 0;
    let largestPush = 0;
    await pipeline(
      generate(),
      t,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          outBytes += chunk.length;
          largestPush = Math.max(largestPush, chunk.length);
          for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) outRows++;
          cb();
        },
      }),
    );
    expect(t.stats.bytesIn).toBeGreaterThan(4_000_000);
    expect(outRows).toBe(rows);
    expect(t.stats.rows).toBe(rows);
    expect(t.stats.bytesOut).toBe(outBytes);
    expect(t.stats.peakBufferedChars).toBeLessThan(batchSize + 200);
    expect(largestPush).toBeLessThan(batchSize + 200);
    expect(t.stats.timeMs).toBeGreaterThan(0);
  });

  it('stops when its abort signal fires', async () => {
    const controller = new AbortController();
    const t = createCopyTransform(createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS), { signal: controller.signal });
    async function* slow(): AsyncGenerator<Buffer> {
      yield Buffer.from(row('u1', 'a@x.org', 'A', '1'));
      controller.abort();
      yield Buffer.from(row('u2', 'b@x.org', 'B', '2'));
    }
    await expect(run(t, slow())).rejects.toThrow(/abort/i);
  });
});
