// What one production value puts into the leak scan's dictionary (before hashing). The SQL side of
// the same normalization is covered against a real PostgreSQL in leak-scan.int.test.ts.
import { describe, expect, it } from 'vitest';
import { entriesOf, phoneKey, pieces, words } from '../../src/data/pii-dictionary.js';

const of = (kind: Parameters<typeof entriesOf>[0], value: unknown) => entriesOf(kind, value, 'staging.local').filter(([s]) => s !== '');

describe('the PII dictionary', () => {
  it('takes a full name whole, without spaces, and its uncommon words of three letters or more', () => {
    expect(of('name', '  Hannelore  QUISTGAARD ')).toEqual([
      ['hannelore quistgaard', 'fullName'], ['hannelore', 'start'], ['hannelorequistgaard', 'fullName'], ['hannelore', 'name'], ['quistgaard', 'name'],
    ]);
    // Common words, the anonymizer's own fake names (Mateo, Ashvale) and two-letter words are not searched alone.
    expect(of('name', 'Will Page').filter(([, k]) => k === 'name')).toEqual([]);
    expect(of('name', 'Will Page')[0]).toEqual(['will page', 'fullName']);
    expect(of('name', 'Mateo Ashvale').filter(([, k]) => k === 'name')).toEqual([]);
    expect(of('name', 'Li Wu').filter(([, k]) => k === 'name')).toEqual([]);
    // Placeholders are no one's name.
    expect(of('name', 'Test User')).toEqual([]);
  });

  it('lower-cases ASCII letters only, as lower(x COLLATE "C") does, and splits on ASCII separators only', () => {
    expect(words('ŁUKASZ Wiśniewski-Nowak')).toEqual(['Łukasz', 'wiśniewski', 'nowak']);
    expect(pieces('Mail <Jane.Doe+x@Example.ORG>, or https://x.example/?t=abc')).toEqual(['jane.doe+x@example.org', 'x.example']);
  });

  it('never holds empty, blank or special values, nor staging\'s own addresses', () => {
    for (const kind of ['email', 'name', 'phone', 'token', 'address', 'ip', 'freeText', 'json'] as const) {
      for (const v of ['', '   ', 'infinity', '-infinity', 'NULL', null]) expect(of(kind, v), `${kind} ${String(v)}`).toEqual([]);
    }
    expect(of('email', 'user-0a1b2c@staging.local')).toEqual([]);
    expect(of('ip', '203.0.113.7/32')).toEqual([['203.0.113.7', 'ip']]);
    expect(of('ip', '127.0.0.1')).toEqual([]);
  });

  it('keys phones by their digits, the last ten when longer, and finds them inside text', () => {
    expect(phoneKey('+44 20 7946 0958')).toBe('2079460958');
    expect(phoneKey('020-7946-0958')).toBe('2079460958');
    expect(phoneKey('555-01')).toBeUndefined();
    expect(of('freeText', 'Call me at (415) 555-2671 or write to Jo@Mail.example.')).toEqual([['jo@mail.example', 'email'], ['4155552671', 'phone']]);
  });

  it('takes long high-entropy strings as tokens, and not words, ids of the app or short codes', () => {
    expect(of('token', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc')).toEqual([['sk_live_4ec39hqlyjwdarjtt1zdp7dc', 'token']]);
    expect(of('token', 'Bearer')).toEqual([]);
    expect(of('token', 'aaaaaaaaaaaaaaaa1')).toEqual([]);
  });

  it('reads JSON of no fixed shape by its keys, at any depth, and arrays element by element', () => {
    const doc = { buyer: { fullName: 'Thaddeus Vandermolen', contact: { mobile: '+1 415 555 2671' } }, items: [{ sku: 'A-1', note: 'gift' }], storyId: 'cldazacom0000003ctw6g28sp' };
    expect(of('json', doc).map(([, k]) => k).sort()).toEqual(['fullName', 'fullName', 'name', 'name', 'phone', 'start']);
    expect(of('email', ['A@x.example', 'b@Y.example'])).toEqual([['a@x.example', 'email'], ['b@y.example', 'email']]);
    expect(of('address', { line1: '742 Evergreen Terrace', city: 'Springfield', country: 'US' })).toEqual([['742 evergreen terrace', 'address'], ['742', 'start']]);
  });
});
