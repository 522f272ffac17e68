// The three encodings a touched field goes through: COPY text escapes, array literals, JSON.
import { describe, expect, it } from 'vitest';
import { decodeCopyField, encodeCopyField, formatPgArray, JsonNumber, parseJson, parsePgArray, stringifyJson } from '../../src/anonymize/index.js';

describe('COPY text fields', () => {
  const tricky = [
    'plain',
    'tab\there',
    'new\nline',
    'carriage\rreturn',
    'back\\slash',
    'ends with backslash\\',
    'José Núñez',
    'emoji 🦊 and 한국어',
    '\\N', // the two characters backslash-N, not NULL
    '',
    '\b\f\v controls',
    '{"json": "with \\"quotes\\""}',
  ];

  it.each(tricky)('round-trips %j', (value) => {
    const raw = encodeCopyField(value);
    expect(raw).not.toMatch(/[\t\n\r]/);
    expect(decodeCopyField(raw)).toBe(value);
  });

  it('tells NULL (\\N) from the literal string "\\N" (written \\\\N)', () => {
    expect(encodeCopyField(null)).toBe('\\N');
    expect(encodeCopyField('\\N')).toBe('\\\\N');
    expect(decodeCopyField('\\N')).toBeNull();
    expect(decodeCopyField('\\\\N')).toBe('\\N');
  });

  it('encodes exactly like COPY TO', () => {
    expect(encodeCopyField('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re');
  });

  it('decodes the escapes COPY FROM accepts: octal, hex, and any other escaped character as itself', () => {
    expect(decodeCopyField('\\101\\x42\\7')).toBe('AB\x07');
    expect(decodeCopyField('\\303\\251')).toBe('é'); // UTF-8 bytes given as octal
    expect(decodeCopyField('\\q\\.')).toBe('q.');
  });
});

describe('array literals', () => {
  it.each([
    ['{}', []],
    ['{a,"b c",NULL,"NULL",""}', ['a', 'b c', null, 'NULL', '']],
    ['{"with \\"quote\\"","back\\\\slash","a,b","{x}"}', ['with "quote"', 'back\\slash', 'a,b', '{x}']],
    ['{{a,b},{c,NULL}}', [['a', 'b'], ['c', null]]],
    ['{José,"Núñez Ø",🦊}', ['José', 'Núñez Ø', '🦊']],
  ] as const)('parses and prints %s back unchanged', (literal, elements) => {
    const parsed = parsePgArray(literal);
    expect(parsed.elements).toEqual(elements);
    expect(formatPgArray(parsed)).toBe(literal);
  });

  it('keeps dimension bounds and ignores whitespace around unquoted elements', () => {
    const parsed = parsePgArray('[0:1]={ a , b }');
    expect(parsed).toEqual({ bounds: '[0:1]=', elements: ['a', 'b'] });
    expect(formatPgArray(parsed)).toBe('[0:1]={a,b}');
  });

  it('survives COPY escaping around it', () => {
    const literal = formatPgArray(['tab\there', 'back\\slash', null]);
    expect(parsePgArray(decodeCopyField(encodeCopyField(literal))!).elements).toEqual(['tab\there', 'back\\slash', null]);
  });

  it('rejects malformed literals', () => {
    expect(() => parsePgArray('{a,"b}')).toThrow(/unterminated/);
    expect(() => parsePgArray('a,b')).toThrow(/expected "\{"/);
  });
});

describe('JSON', () => {
  it('round-trips jsonb output byte for byte, numbers included', () => {
    const text = '{"a": 1.10, "big": 12345678901234567890, "e": 1e400, "n": null, "arr": [true, false, "x\\ny"], "o": {}}';
    expect(stringifyJson(parseJson(text), 'jsonb')).toBe(text);
  });

  it('keeps numbers JS cannot hold exactly as their text', () => {
    const doc = parseJson('[1.10, 3, 12345678901234567890]') as unknown[];
    expect(doc[0]).toBeInstanceOf(JsonNumber);
    expect(doc[1]).toBe(3);
    expect((doc[2] as JsonNumber).text).toBe('12345678901234567890');
  });

  it('treats a "__proto__" key as data', () => {
    const doc = parseJson('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['__proto__']);
    expect(stringifyJson(doc as never, 'compact')).toBe('{"__proto__":{"x":1}}');
  });

  it('decodes escapes and rejects bad documents', () => {
    expect(parseJson('"\\u00e9\\t\\/"')).toBe('é\t/');
    expect(() => parseJson('{"a": }')).toThrow();
    expect(() => parseJson('[1] 2')).toThrow(/trailing/);
  });
});
