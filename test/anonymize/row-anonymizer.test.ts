// Row anonymizer: ruled columns change, everything else passes byte for byte, and every encoding
// (COPY text, arrays, JSON) survives the trip.
import type { JsonRule } from '../../src/anonymize/rules.js';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import {
  createRowAnonymizer,
  createTransformers,
  CopyFormatError,
  decodeCopyField,
  DEFAULT_RULES_1001_STORIES,
  encodeCopyField,
  parsePgArray,
  STAGING_PASSWORD_HASH,
  type AnonymizeRules,
  type ColumnInfo,
} from '../../src/anonymize/index.js';

const KEY = 'row-test-key-0123456789abcdef';
const OPTS = { referenceDate: '2024-06-15' };
const text = (name: string): ColumnInfo => ({ name, dataType: 'text', udtName: 'text' });
const jsonb = (name: string): ColumnInfo => ({ name, dataType: 'jsonb', udtName: 'jsonb' });
const textArray = (name: string): ColumnInfo => ({ name, dataType: 'ARRAY', udtName: '_text' });
const row = (...fields: Array<string | null>) => fields.map(encodeCopyField).join('\t');
const fieldsOf = (line: string) => line.split('\t').map(decodeCopyField);

const USERS: ColumnInfo[] = [
  text('id'),
  text('email'),
  { name: 'emailVerified', dataType: 'timestamp without time zone', udtName: 'timestamp' },
  text('name'),
  text('image'),
  text('password'),
  { name: 'role', dataType: 'USER-DEFINED', udtName: 'UserRole' },
  { name: 'tokenVersion', dataType: 'integer', udtName: 'int4' },
];

describe('createRowAnonymizer', () => {
  it('replaces only ruled columns; the others stay byte-identical, without being decoded', () => {
    const anon = createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS);
    // Unruled fields carry escapes and odd-but-legal text that a decode/encode would normalise.
    const idRaw = 'cl\\x41bc\\q';
    const line = [idRaw, 'Maria@Example.com', '2024-01-02 03:04:05.678', 'José Núñez', 'https://lh3.googleusercontent.com/a/x.png', '$2b$12$abc', 'LEARNER', '1'].join('\t');
    const out = anon(line).split('\t');
    expect(out[0]).toBe(idRaw);
    expect(out[2]).toBe('2024-01-02 03:04:05.678');
    expect(out[6]).toBe('LEARNER');
    expect(out[7]).toBe('1');
    expect(out[1]).toMatch(/^user-[0-9a-f]{8}@staging\.local$/);
    expect(out[3]).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    expect(out[4]).toMatch(/^https:\/\/staging\.local\/anon\/[0-9a-f]{16}\.png$/);
    expect(out[5]).toBe(STAGING_PASSWORD_HASH);
    expect(anon.stats.columns.email).toEqual({ rule: 'email', values: 1, nulls: 0, changed: 1 });
    expect(anon.stats.rows).toBe(1);
  });

  it('keeps NULLs NULL, and tells them from the literal string \\N', () => {
    const anon = createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS);
    const out = fieldsOf(anon(row('u1', '\\N', null, null, null, null, 'ADMIN', '1')));
    expect(out[1]).toMatch(/@staging\.local$/); // the string "\N" is a value, so it is pseudonymised
    expect(out[3]).toBeNull();
    expect(out[5]).toBeNull(); // OAuth-only accounts have no password
    expect(anon.stats.columns.name).toMatchObject({ values: 0, nulls: 1, changed: 0 });
  });

  it('gives the same e-mail the same pseudonym in two tables and two instances', () => {
    const users = createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS);
    const donations = createRowAnonymizer('donations', [text('id'), text('donorEmail'), text('donorName'), text('message')], { ...DEFAULT_RULES_1001_STORIES, 'donations.message': 'scrub' }, KEY, OPTS);
    const u = fieldsOf(users(row('u1', 'ann@example.org', null, 'Ann', null, null, 'LEARNER', '1')));
    const d = fieldsOf(donations(row('d1', 'ANN@example.org ', 'Ann', 'Thanks! Reach me at ann@example.org')));
    expect(d[1]).toBe(u[1]);
    expect(d[3]).toBe(`Thanks! Reach me at ${u[1]}`);
  });

  it('round-trips tricky text through a ruled column: tabs, newlines, backslashes, non-ASCII, emoji', () => {
    const anon = createRowAnonymizer('notes', [text('id'), text('message')], { 'notes.message': 'scrub' }, KEY, OPTS);
    const message = 'Line 1\tcol\nLine 2 \\ back\\slash — José Núñez 🦊\r\nend';
    const out = anon(row('n1', message));
    expect(out.split('\t')).toHaveLength(2);
    expect(fieldsOf(out)[1]).toBe(message);
    expect(out).toBe(row('n1', message));
    expect(anon.stats.columns.message!.changed).toBe(0);
  });

  it('anonymizes text[] columns element-wise, keeping NULL elements and quoting', () => {
    const cols = [text('id'), textArray('emails'), textArray('names')];
    const rules: AnonymizeRules = { 'contacts.emails': 'email', 'contacts.names': { rule: 'textArray', of: 'name' } };
    const anon = createRowAnonymizer('contacts', cols, rules, KEY, OPTS);
    const tx = createTransformers(KEY, OPTS);
    const out = fieldsOf(anon(row('c1', '{ann@example.org,NULL,"Bob@Example.org"}', '{"José Núñez","tab\\\\there",NULL}')));
    expect(parsePgArray(out[1]!).elements).toEqual([tx.email('ann@example.org'), null, tx.email('bob@example.org')]);
    const names = parsePgArray(out[2]!).elements;
    expect(names[0]).toBe(tx.name('José Núñez'));
    expect(names[2]).toBeNull();
    expect(out[2]).toMatch(/^\{"[A-Z][a-z]+ [A-Z][a-z]+","[A-Z][a-z]+ [A-Z][a-z]+",NULL\}$/);
  });

  it('applies the address rule inside jsonb and prints jsonb spacing', () => {
    const anon = createRowAnonymizer('orders', [text('id'), jsonb('shippingAddress')], DEFAULT_RULES_1001_STORIES, KEY, OPTS);
    const doc = '{"city": "Seoul", "name": "Kim Minjun", "line1": "12 Gangnam-daero", "country": "KR", "postalCode": "06236"}';
    const out = fieldsOf(anon(row('o1', doc)))[1]!;
    const parsed = JSON.parse(out);
    expect(parsed.country).toBe('KR');
    expect(out).not.toMatch(/Seoul|Minjun|Gangnam|06236/);
    expect(out).toMatch(/^\{"city": "[^"]+", "name": /);
  });

  it('applies json path rules and scrubs the other strings when asked', () => {
    const scrubbed = { ...(DEFAULT_RULES_1001_STORIES['activity_logs.metadata'] as JsonRule), others: 'scrub' as const };
    const anon = createRowAnonymizer('activity_logs', [text('id'), jsonb('metadata')], { 'activity_logs.metadata': scrubbed }, KEY, OPTS);
    const tx = createTransformers(KEY, OPTS);
    const doc = JSON.stringify({ actor: { email: 'ann@example.org', ip: '10.0.0.7' }, note: 'called +44 20 7946 0018', action: 'login', count: 1.10 });
    const out = JSON.parse(fieldsOf(anon(row('a1', doc)))[1]!);
    expect(out.actor.email).toBe(tx.email('ann@example.org'));
    expect(out.actor.ip).toMatch(/^2[45]\d\./);
    expect(out.note).toMatch(/^called \+44 \d\d \d555 01\d\d$/);
    expect(out.action).toBe('login');
    // The built-in rule replaces the other strings with filler of the same shape.
    const builtin = JSON.parse(fieldsOf(createRowAnonymizer('activity_logs', [text('id'), jsonb('metadata')], DEFAULT_RULES_1001_STORIES, KEY, OPTS)(row('a1', doc)))[1]!);
    expect(builtin.actor.email).toBe(tx.email('ann@example.org'));
    expect(builtin.action).toMatch(/^[a-z]{5}$/);
    expect(builtin.action).not.toBe('login');
    expect(builtin.note).toMatch(/^[a-z]{6} \+\d\d \d\d \d{4} \d{4}$/);
  });

  it('applies path rules with indexes, wildcards and explicit keys', () => {
    const rules: AnonymizeRules = {
      'orders.data': { rule: 'json', paths: { '$.contacts[*].email': 'email', '$.shipping.street': 'address', '$["odd key"]': 'null', '$.items[0].gift': 'scrub' } },
    };
    const anon = createRowAnonymizer('orders', [jsonb('data')], rules, KEY, OPTS);
    const doc = { contacts: [{ email: 'a@x.org' }, { email: 'b@x.org' }], shipping: { street: '1 Main St', city: 'Paris' }, 'odd key': 'secret', items: [{ gift: 'for a@x.org' }, { gift: 'for b@x.org' }] };
    const out = JSON.parse(fieldsOf(anon(row(JSON.stringify(doc))))[0]!);
    expect(out.contacts.map((c: { email: string }) => c.email)).toEqual([expect.stringMatching(/@staging\.local$/), expect.stringMatching(/@staging\.local$/)]);
    expect(out.shipping.street).toMatch(/^\d+ [A-Z]/);
    expect(out.shipping.city).toBe('Paris'); // no path reaches it, and others defaults to keep
    expect(out['odd key']).toBeNull();
    expect(out.items[0].gift).toMatch(/^for user-/);
    expect(out.items[1].gift).toBe('for b@x.org');
  });

  it('rejects a rule that cannot fit the column type, naming the column', () => {
    const cols = [{ name: 'authorAge', dataType: 'integer', udtName: 'int4' }];
    expect(() => createRowAnonymizer('stories', cols, { 'stories.authorAge': 'name' }, KEY, OPTS)).toThrow(UserError);
    expect(() => createRowAnonymizer('stories', cols, { 'stories.authorAge': 'name' }, KEY, OPTS)).toThrow(/stories\.authorAge/);
    expect(() => createRowAnonymizer('stories', cols, { 'stories.authorAge': 'null' }, KEY, OPTS)).not.toThrow();
    expect(() => createRowAnonymizer('t', [text('c')], { 't.c': { rule: 'textArray', of: 'email' } }, KEY, OPTS)).toThrow(/not an array column/);
  });

  it('sets null-ruled columns to NULL', () => {
    const anon = createRowAnonymizer('t', [text('a'), text('b')], { 't.b': 'null' }, KEY, OPTS);
    expect(anon(row('x', 'secret'))).toBe('x\t\\N');
  });

  it('refuses a row with the wrong number of fields without quoting it', () => {
    const anon = createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS);
    expect(() => anon('u1\tann@example.org')).toThrow(CopyFormatError);
    try {
      anon('u1\tann@example.org');
    } catch (e) {
      expect((e as Error).message).not.toContain('ann@');
    }
  });

  it('finds rules for schema-qualified tables', () => {
    const anon = createRowAnonymizer('public.users', USERS, DEFAULT_RULES_1001_STORIES, KEY, OPTS);
    expect(anon.active).toBe(true);
    expect(createRowAnonymizer('order_items', [text('id')], DEFAULT_RULES_1001_STORIES, KEY, OPTS).active).toBe(false);
  });
});

describe('uniqueness in a unique column', () => {
  it('resolves forced collisions with a suffix, and a later table reuses the resolved value', () => {
    // One hex character leaves 16 pseudonyms: 40 addresses must collide.
    const transformers = createTransformers(KEY, { ...OPTS, pseudonymHexChars: 1 });
    const users = createRowAnonymizer('users', [text('id'), text('email')], { 'users.email': { rule: 'email', unique: true } }, KEY, { transformers });
    const orders = createRowAnonymizer('orders', [text('id'), text('email')], { 'orders.email': 'email' }, KEY, { transformers });
    const emails = Array.from({ length: 40 }, (_, i) => `person${i}@example.org`);
    const staged = emails.map((e, i) => fieldsOf(users(row(`u${i}`, e)))[1]!);
    expect(new Set(staged).size).toBe(40);
    expect(staged.filter((e) => /^user-[0-9a-f]-\d+@staging\.local$/.test(e)).length).toBeGreaterThanOrEqual(24);
    expect(transformers.registry.collisions).toBeGreaterThanOrEqual(24);
    // Same production value in a non-unique column of another table: same staging value.
    emails.forEach((e, i) => expect(fieldsOf(orders(row(`o${i}`, e)))[1]).toBe(staged[i]));
  });

  it('resolves the same way in a second run with the same key and row order', () => {
    const run = () => {
      const transformers = createTransformers(KEY, { ...OPTS, pseudonymHexChars: 1 });
      // Uniqueness known from the catalogue (uniqueColumns) rather than from the rule.
      const users = createRowAnonymizer('users', [text('email')], { 'users.email': 'email' }, KEY, { transformers, uniqueColumns: ['email'] });
      return Array.from({ length: 20 }, (_, i) => users(row(`p${i}@x.org`)));
    };
    const first = run();
    expect(new Set(first).size).toBe(20);
    expect(run()).toEqual(first);
  });

  it('keeps two production addresses that differ only in case apart in a unique column', () => {
    const anon = createRowAnonymizer('users', [text('email')], DEFAULT_RULES_1001_STORIES, KEY, OPTS);
    const a = anon(row('Ann@example.org'));
    const b = anon(row('ann@example.org'));
    expect(a).not.toBe(b);
    expect(b).toBe(a.replace('@', '-2@'));
  });

  it('refuses shared transformers made with another key', () => {
    const transformers = createTransformers('some-other-key-0123456789abcdef', OPTS);
    expect(() => createRowAnonymizer('users', USERS, DEFAULT_RULES_1001_STORIES, KEY, { transformers })).toThrow(/different secret/);
  });
});
