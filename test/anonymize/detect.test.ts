// The PII detector: flags personal data by column name, type and sampled content, leaves
// ordinary columns alone, and turns what the rules miss into a snippet to paste.
import { describe, expect, it } from 'vitest';
import {
  anonymizeRulesSchema,
  DEFAULT_RULES_1001_STORIES,
  detectPii,
  type ColumnSample,
} from '../../src/anonymize/index.js';

const col = (table: string, column: string, udtName: string, samples: unknown[] = [], dataType?: string): ColumnSample => ({
  table,
  column,
  udtName,
  dataType: dataType ?? (udtName.startsWith('_') ? 'ARRAY' : udtName === 'int4' ? 'integer' : udtName),
  samples,
});
const ruleFor = (cols: ColumnSample[], column: string) => detectPii(cols).find((p) => p.column === column);

describe('detectPii by name and type', () => {
  const cols = [
    col('users', 'email', 'text'),
    col('profiles', 'phone', 'varchar'),
    col('profiles', 'parentName', 'text'),
    col('profiles', 'dateOfBirth', 'timestamp', [], 'timestamp without time zone'),
    col('activity_logs', 'ipAddress', 'text'),
    col('activity_logs', 'remote', 'inet'),
    col('accounts', 'refresh_token', 'text'),
    col('users', 'name', 'text'),
    col('orders', 'shippingAddress', 'jsonb'),
    col('donations', 'message', 'text'),
    col('subscriptions', 'stripeCustomerId', 'text'),
    col('users', 'password', 'text'),
  ];

  it.each([
    ['email', 'email', 'name'],
    ['phone', 'phone', 'name'],
    ['parentName', 'name', 'name'],
    ['dateOfBirth', 'dateOfBirth', 'name'],
    ['ipAddress', 'ip', 'name'],
    ['remote', 'ip', 'type'],
    ['refresh_token', 'token', 'name'],
    ['name', 'name', 'name'],
    ['shippingAddress', 'address', 'name'],
    ['message', 'freeText', 'name'],
    ['stripeCustomerId', 'token', 'name'],
    ['password', 'passwordHash', 'name'],
  ])('flags %s as %s (by %s)', (column, rule, reason) => {
    const p = ruleFor(cols, column);
    expect(p).toMatchObject({ rule, reason });
    expect(p!.confidence).toBeGreaterThanOrEqual(0.5);
  });

  it('leaves ordinary columns alone: title, id, createdAt, price, isPublished, foreign keys, names of things', () => {
    const ordinary = [
      col('stories', 'title', 'text', ['The Brave Little Fox', 'Maria Goes Home', 'Stars Over Seoul']),
      col('stories', 'id', 'text', ['clh3x9k2l0000qz8f1a2b3c4d', 'clh3x9k2l0001qz8f1a2b3c4e']),
      col('stories', 'createdAt', 'timestamp', ['2024-01-02 03:04:05'], 'timestamp without time zone'),
      col('stories', 'price', 'numeric', ['9.99']),
      col('stories', 'isPublished', 'bool', [true]),
      col('stories', 'authorId', 'text', ['clh3x9k2l0000qz8f1a2b3c4d']),
      col('stories', 'tags', '_text', [['adventure', 'animals']]),
      col('schools', 'name', 'text', ['Springfield Elementary', 'Hillcrest Academy']),
      col('stories', 'fileName', 'text', ['fox.png']),
      col('users', 'emailVerified', 'timestamp', ['2024-01-02 03:04:05'], 'timestamp without time zone'),
      col('users', 'tokenVersion', 'int4', [1, 2]),
      col('stories', 'language', 'text', ['en', 'ko']),
    ];
    expect(detectPii(ordinary)).toEqual([]);
  });
});

describe('detectPii by content', () => {
  it.each([
    ['contact', ['ann@example.org', 'BOB@Example.com', null], 'email'],
    ['reach', ['+1 (212) 555-7890', '010-1234-5678', '020 7946 0018'], 'phone'],
    ['origin', ['10.0.0.1', '2a00:1450:4001:82a::200e', '8.8.8.8'], 'ip'],
    ['blob', ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'ya29.a0AfH6SMBxyz1234567890'], 'token'],
    ['who', ['Maria Garcia', 'James Smith', 'Kim'], 'name'],
    ['hashes', ['$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW'], 'passwordHash'],
    ['remarks_x', ['Nice story!', 'Call me at +1 212 555 7890 please'], 'freeText'],
  ])('flags "%s" from its values', (column, samples, rule) => {
    const p = ruleFor([col('misc', column, 'text', samples)], column);
    expect(p).toMatchObject({ rule, reason: 'content' });
    expect(p!.detail).not.toMatch(/example|555|Maria|eyJ/); // never echoes a sample
  });

  it('flags a jsonb column of addresses by its keys, and an array of e-mails element-wise', () => {
    const addr = col('misc', 'shipTo', 'jsonb', [{ line1: '1 Main St', city: 'Paris', zip: '75001' }, '{"street": "2 High St", "city": "Leeds"}']);
    expect(ruleFor([addr], 'shipTo')).toMatchObject({ rule: 'address', reason: 'content' });
    const list = col('misc', 'cc', '_text', ['{ann@example.org,bob@example.org}', ['cy@example.org']]);
    expect(ruleFor([list], 'cc')).toMatchObject({ rule: 'email', reason: 'content' });
  });

  it('proposes a json rule naming the keys where PII was found in a free-form document', () => {
    const meta = col('activity_logs', 'metadata', 'jsonb', [{ actor: { mail: 'ann@example.org' }, action: 'login' }, { from: '10.1.2.3' }]);
    const p = ruleFor([meta], 'metadata');
    expect(p).toMatchObject({ reason: 'content', rule: { rule: 'json', paths: { '$..mail': 'email', '$..from': 'ip' }, others: 'freeText' } });
  });

  it('raises confidence when name and content agree', () => {
    const byNameOnly = ruleFor([col('users', 'email', 'text')], 'email')!;
    const both = ruleFor([col('users', 'email', 'text', ['ann@example.org'])], 'email')!;
    expect(both.confidence).toBeGreaterThan(byNameOnly.confidence);
  });
});
