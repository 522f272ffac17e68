// Issue 8: fail-closed coverage that needs zero user rules on either 1001 Stories schema, rule keys
// that can name any identifier, free text replaced by default, and pseudonyms valid for their column.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { decideCoverage, describeUndecided, unknownRuleKeys, type CatalogColumn } from '../../src/anonymize/coverage.js';
import { anonymizeRulesSchema, createRowAnonymizer, createTransformers, DEFAULT_RULES_1001_STORIES, findRule, encodeCopyField, decodeCopyField } from '../../src/anonymize/index.js';
import { strictModeError } from '../../src/data/guards.js';
import { catalogFromSql } from './schema-sql.js';

const KEY = 'test-key-0123456789abcdef-rehearse';
const tx = createTransformers(KEY, { referenceDate: '2024-06-15' });

describe('coverage with zero user rules', () => {
  for (const [name, file] of [['the app\'s current schema (real-app fixture)', 'test/fixtures/real-app/schema.sql'], ['the older schema the demo follows', 'sql/demo/schema.sql']] as const) {
    it(`decides every text, json and array column of ${name}`, () => {
      const columns = catalogFromSql(readFileSync(file, 'utf8'));
      const textLike = columns.filter((c) => /^_?(text|varchar|bpchar|jsonb?|citext|bytea)$/.test(c.baseUdt));
      expect(textLike.length).toBeGreaterThan(file.includes('real-app') ? 500 : 60);
      const result = decideCoverage(columns, { user: {}, builtin: DEFAULT_RULES_1001_STORIES });
      expect(describeUndecided(result.undecided)).toBe('');
      const decided = new Set(result.decided.map((d) => `${d.table}.${d.column}`));
      for (const c of textLike) expect(decided.has(`${c.table}.${c.column}`), `${c.table}.${c.column}`).toBe(true);
    });
  }

  it('replaces the columns issue 8 found leaking names, and keeps books.isbn', () => {
    const rule = (t: string, c: string) => JSON.stringify(findRule(DEFAULT_RULES_1001_STORIES, t, c));
    for (const [t, c] of [['notifications', 'message'], ['notifications', 'title'], ['profiles', 'bio'], ['classes', 'description'], ['bookmarks', 'note'], ['text_submissions', 'content'], ['text_submissions', 'storyFeedback'], ['submissions', 'feedback']]) {
      expect(rule(t!, c!), `${t}.${c}`).toBe('"freeText"');
    }
    expect(rule('books', 'coAuthors')).toBe('"name"');
    expect(rule('text_submissions', 'authorAlias')).toBe('"name"');
    expect(rule('volunteer_profiles', 'portfolio')).toBe('"url"');
    expect(rule('books', 'isbn')).toBe('"keep"');
  });
});

describe('automatic decisions and proposals', () => {
  const col = (over: Partial<CatalogColumn>): CatalogColumn => ({ table: 't', column: 'c', baseUdt: 'text', udtName: 'text', dataType: 'text', isKey: false, samples: [], ...over });

  it('keeps key columns automatically, unless their values look personal', () => {
    const r = decideCoverage([col({ column: 'id', isKey: true, samples: ['ckx1', 'ckx2'] }), col({ column: 'ownerEmail', isKey: true, samples: ['ann@example.org', 'bob@example.org'] })], { user: {}, builtin: {} });
    expect(r.decided).toEqual([{ table: 't', column: 'id', rule: 'keep', source: 'key column' }]);
    expect(r.undecided.map((u) => [u.column, u.rule])).toEqual([['ownerEmail', 'email']]);
  });

  it('sees through a domain: a domain over text holding e-mails is undecided and proposed "email"', () => {
    const r = decideCoverage([col({ column: 'contact', udtName: 'email_address', baseUdt: 'text', samples: ['ann@example.org', 'bob@example.org'] })], { user: {}, builtin: {} });
    expect(r.undecided[0]).toMatchObject({ column: 'contact', rule: 'email' });
  });

  it('does not take a small vocabulary as proof: short codes are proposed "keep" for a person to confirm', () => {
    const r = decideCoverage([col({ column: 'kind', samples: ['a', 'b', 'a'] }), col({ column: 'blurb', samples: ['a long sentence that someone wrote here', 'another one with words in it'] })], { user: {}, builtin: {} });
    expect(r.undecided.map((u) => [u.column, u.rule])).toEqual([['kind', 'keep'], ['blurb', 'freeText']]);
    expect(r.undecided[0]!.reason).toMatch(/check that it holds codes or labels/);
  });

  it('never prints a value or [object Object] in the strict-mode message, and points to `rehearse data rules --write`', () => {
    const r = decideCoverage([col({ table: 'logs', column: 'meta', baseUdt: 'jsonb', udtName: 'jsonb', dataType: 'jsonb', samples: ['{"who": {"mail": "secret.person@example.org"}}'] })], { user: {}, builtin: {} });
    const error = strictModeError(r.undecided);
    const text = `${error.message}\n${error.details}\n${error.tryThis}`;
    expect(text).toContain('logs.meta');
    expect(text).toContain('rehearse data rules --write');
    expect(text).not.toContain('[object Object]');
    expect(text).not.toContain('secret.person');
  });

  it('names user rules for tables or columns production does not have', () => {
    const rules = anonymizeRulesSchema.parse({ 'users.email': 'email', 'users.emial': 'email', 'nosuch.col': 'keep', '"order"."Email Address"': 'email' });
    const columns = [{ table: 'users', column: 'email' }, { table: 'order', column: 'Email Address' }];
    expect(unknownRuleKeys(rules, columns).sort()).toEqual(['nosuch.col', 'users.emial']);
  });
});

describe('rule keys', () => {
  it('accepts quoted names with spaces, dots and quotes, and the list form, as the same keys', () => {
    const quoted = anonymizeRulesSchema.parse({ '"order"."Email Address"': 'email', 'billing."a.b"."say ""hi"""': 'keep' });
    const listed = anonymizeRulesSchema.parse([{ table: 'order', column: 'Email Address', rule: 'email' }, { schema: 'billing', table: 'a.b', column: 'say "hi"', rule: 'keep' }]);
    expect(listed).toEqual(quoted);
    expect(findRule(quoted, 'order', 'Email Address')).toBe('email');
    expect(findRule(quoted, 'billing.a.b', 'say "hi"')).toBe('keep');
  });

  it('explains how to quote when a key is not one', () => {
    const r = anonymizeRulesSchema.safeParse({ 'order.Email Address': 'email' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(/"order"\."Email Address"/);
  });
});

describe('free text', () => {
  const bio = 'Hi, I am Bartholomew Achterberg.\nReach me at bart@example.org — or call 010-1234-5678!';

  it('is replaced by filler of the same shape that carries none of the words', () => {
    const out = tx.freeText(bio);
    expect(out.length).toBe(bio.length);
    expect(out.split('\n').length).toBe(2);
    expect(out).toMatch(/^[A-Z][a-z], [A-Z] [a-z]{2} [A-Z][a-z]{10} [A-Z][a-z]{9}\.\n/);
    for (const word of ['Bartholomew', 'Achterberg', 'bart', 'example', '1234', '5678', 'Reach']) expect(out).not.toContain(word);
    expect(tx.freeText(bio)).toBe(out);
  });

  it('scrub keeps the text but replaces production names from the dictionary, e-mails, phones and URLs', () => {
    const t = createTransformers(KEY, { dictionary: { nameTokens: new Set(['bartholomew', 'achterberg']) } });
    const out = t.scrub(`${bio} See https://portfolio.example/bartholomew-achterberg`);
    expect(out).toMatch(/^Hi, I am \S+ \S+\.\nReach me at user-[0-9a-f]{8}@staging\.local — or call /);
    for (const word of ['Bartholomew', 'Achterberg', 'bart@', 'example', '1234', 'portfolio']) expect(out).not.toContain(word);
  });

  it('url gives a link without production words', () => {
    const out = tx.url('https://janedoe.example/portfolio/jane-doe');
    expect(out).toMatch(/^https:\/\/staging\.local\/anon\/[0-9a-f]{16}$/);
  });
});

describe('pseudonyms valid for their column', () => {
  it('phones: 99 users get 99 different numbers, none a production number, NANP ones in 555-01xx', () => {
    const production = Array.from({ length: 99 }, (_, i) => `+1 (212) 555-${String(1000 + i).padStart(4, '0')}`);
    const t = createTransformers(KEY, { dictionary: { phoneDigits: new Set(production.map((p) => p.replace(/\D/g, ''))) } });
    const out = production.map((p) => t.phone(p));
    expect(new Set(out).size).toBe(99);
    for (const p of out) {
      expect(p).toMatch(/^\+1 \([2-9]\d\d\) 555-01\d\d$/);
      expect(production).not.toContain(p);
    }
    // Short local numbers too: derived digits, unique, never the production value.
    const local = Array.from({ length: 99 }, (_, i) => `555-${String(1000 + i)}`);
    const t2 = createTransformers(KEY, { dictionary: { phoneDigits: new Set(local.map((p) => p.replace(/\D/g, ''))) } });
    const fakes = local.map((p) => t2.phone(p));
    expect(new Set(fakes).size).toBe(99);
    for (const f of fakes) expect(local).not.toContain(f);
  });

  it('e-mails fit a varchar(20) and stay unique', () => {
    const text = (name: string, maxLength?: number) => ({ name, dataType: 'character varying', udtName: 'varchar', ...(maxLength ? { maxLength } : {}) });
    const anon = createRowAnonymizer('users', [text('id'), text('short_email', 20)], { 'users.short_email': { rule: 'email', unique: true } }, KEY);
    const outs = Array.from({ length: 300 }, (_, i) => decodeCopyField(anon(`u${i}\t${encodeCopyField(`person.number${i}@example.org`)}`).split('\t')[1]!)!);
    expect(new Set(outs).size).toBe(300);
    for (const o of outs) {
      expect(o.length).toBeLessThanOrEqual(20);
      expect(o).toMatch(/^[a-z0-9-]+@[a-z.]+$/);
    }
  });

  it('an e-mail rule works on a domain over text', () => {
    const anon = createRowAnonymizer('users', [{ name: 'email', dataType: 'email_address', udtName: 'email_address', baseUdt: 'text' }], { 'users.email': 'email' }, KEY);
    expect(anon('ann@example.org')).toMatch(/^user-[0-9a-f]{8}@staging\.local$/);
  });

  it('cidr keeps the mask and stays a valid network (host bits zero)', () => {
    const anon = createRowAnonymizer('t', [{ name: 'net', dataType: 'cidr', udtName: 'cidr' }], { 't.net': 'ip' }, KEY);
    for (const [input, bits] of [['10.0.0.0/8', 8], ['192.168.12.0/24', 24], ['10.1.2.3/32', 32], ['2001:db8:1234::/48', 48]] as const) {
      const out = anon(input);
      const [addr, mask] = out.split('/');
      expect(Number(mask)).toBe(bits);
      expect(isIP(addr!)).toBeGreaterThan(0);
      if (isIP(addr!) === 4) {
        const n = addr!.split('.').reduce((a, o) => a * 256 + Number(o), 0);
        expect(n % 2 ** (32 - bits)).toBe(0);
      }
    }
  });

  it('dates of birth stay valid dates: far future, BC, infinity, never NaN', () => {
    for (const v of ['275000-03-01', '9999-12-31', '0044-03-15 BC', 'infinity', '-infinity', '2011-02-28 00:00:00']) {
      const out = tx.dateOfBirth(v);
      expect(out).not.toMatch(/NaN/);
      if (!/infinity/.test(v)) {
        expect(out).toMatch(/^\d{4,}-\d{2}-\d{2}/);
        expect(out).not.toBe(v);
      }
    }
    expect(tx.dateOfBirth('275000-03-01')).toMatch(/^275000-03-\d\d$/);
  });

  it('a composite unique key (teamId, displayName) stays unique over 220 people in one team', () => {
    const cols = [{ name: 'id', dataType: 'text', udtName: 'text' }, { name: 'teamId', dataType: 'integer', udtName: 'int4' }, { name: 'displayName', dataType: 'text', udtName: 'text' }];
    const anon = createRowAnonymizer('users', cols, { 'users.displayName': 'name' }, KEY, { uniqueKeys: [['teamId', 'displayName']] });
    const names = Array.from({ length: 220 }, (_, i) => anon(`u${i}\t1\tPerson Number${i}`).split('\t')[2]!);
    expect(new Set(names).size).toBe(220);
    expect(names.filter((n) => /^[A-Z][a-z]+ [A-Z][a-z]+$/.test(n)).length).toBe(220);
  });
});
