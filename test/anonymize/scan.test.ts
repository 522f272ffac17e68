// The PII finders are linear: a long value without spaces (which made the old e-mail regex take
// a minute on 100 KB) costs milliseconds, and detection reads at most 64 KB of one value.
import { describe, expect, it } from 'vitest';
import { detectPii } from '../../src/anonymize/detect.js';
import { findPii, looksLikeIsbn } from '../../src/anonymize/scan.js';
import { createTransformers } from '../../src/anonymize/index.js';

const KEY = 'test-key-0123456789abcdef-rehearse';
const MB = 1024 * 1024;

function timed<T>(fn: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = fn();
  return { value, ms: performance.now() - started };
}

describe('findPii', () => {
  it('finds e-mails, URLs, IPv4, phones and cards, and leaves dates, prices and ISBNs alone', () => {
    const text = 'Mail ann.lee@example.org, see https://ex.example/a?b=c. From 10.1.2.3 call +1 (212) 555-7890; card 4242 4242 4242 4242. Paid $1,250.00 on 2024-06-01, ISBN 978-3-16-148410-0.';
    const found = findPii(text).map((f) => [f.kind, text.slice(f.start, f.end)]);
    expect(found).toEqual([
      ['email', 'ann.lee@example.org'],
      ['url', 'https://ex.example/a?b=c'],
      ['ipv4', '10.1.2.3'],
      ['phone', '+1 (212) 555-7890'],
      ['card', '4242 4242 4242 4242'],
    ]);
    expect(looksLikeIsbn('978-3-16-148410-0')).toBe(true);
  });

  it('does not propose "phone" for a column of ISBNs', () => {
    const isbns = ['9783161484100', '978-0-306-40615-7', '0306406152', '9780140449136'];
    expect(detectPii([{ table: 'books', column: 'isbn', dataType: 'text', udtName: 'text', samples: isbns }])).toEqual([]);
    expect(detectPii([{ table: 'books', column: 'code', dataType: 'text', udtName: 'text', samples: isbns }])).toEqual([]);
  });

  it('is linear: 10 MB without spaces (an e-mail in the middle, "@" everywhere, digits everywhere)', () => {
    const half = 'x'.repeat(5 * MB);
    const cases = [`${half}ann@example.org${half}`, 'a@'.repeat(5 * MB), '1.'.repeat(5 * MB), `${'9'.repeat(10 * MB)}`];
    for (const text of cases) {
      const { ms } = timed(() => findPii(text));
      // The old regex needed 57 s for 100 KB; quadratic on 10 MB would be hours. Generous for a busy machine.
      expect(ms).toBeLessThan(5000);
    }
    // Glued to letters on both sides: found with at most 64 characters of local part around the "@".
    const [glued] = findPii(cases[0]!);
    expect(glued?.kind).toBe('email');
    expect(cases[0]!.slice(glued!.start, glued!.end)).toContain('ann@example.org');
    expect(glued!.end - glued!.start).toBeLessThanOrEqual(64 + 1 + 256);
    expect(findPii(`${half} ann@example.org ${half}`).map((f) => f.kind)).toEqual(['email']);
  });
});

describe('detector on a 10 MB value', () => {
  it('reads only the first and last 32 KB of a 10 MB value, and says it sampled', () => {
    const big = `${'QUJD'.repeat(MB)} contact ann@example.org ${'ZGVm'.repeat(1.5 * MB)}`;
    expect(big.length).toBeGreaterThan(10_000_000);
    const head = `ann@example.org ${'x'.repeat(10 * MB)}`;
    for (const value of [big, head]) {
      const { value: proposals, ms } = timed(() => detectPii([{ table: 'files', column: 'body', dataType: 'text', udtName: 'text', samples: [value] }]));
      // A guard against reading the whole value (seconds under load), not a speed target: 1–29 ms here when idle.
      expect(ms).toBeLessThan(1000);
      if (value === head) {
        expect(proposals[0]?.rule).toBe('freeText');
        expect(proposals[0]?.detail).toMatch(/sampled/);
      }
    }
  });
});

describe('transformers on a 10 MB value', () => {
  it('freeText and scrub are linear', () => {
    const tx = createTransformers(KEY, { dictionary: { nameTokens: new Set(['ann']) } });
    const words = 'Ann wrote to ann@example.org from 10.1.2.3 about 3 foxes.\n'.repeat(180_000);
    expect(words.length).toBeGreaterThan(10_000_000);
    for (const fn of [tx.freeText, tx.scrub]) {
      const { value, ms } = timed(() => fn(words));
      expect(value.length).toBeGreaterThan(9_000_000);
      expect(value).not.toContain('ann@example.org');
      expect(ms).toBeLessThan(30_000);
    }
  });
});
