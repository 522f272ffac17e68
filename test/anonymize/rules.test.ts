// The rules format: plain data a JSON or YAML config can hold, one zod schema, and built-in
// rules that cover every PII column the domain notes list.
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { anonymizeRulesSchema, DEFAULT_RULES_1001_STORIES, findRule, ruleNameOf } from '../../src/anonymize/index.js';

describe('anonymizeRulesSchema', () => {
  it('accepts the built-in 1001 Stories rules', () => {
    expect(anonymizeRulesSchema.safeParse(DEFAULT_RULES_1001_STORIES).success).toBe(true);
  });

  it('accepts every form from a YAML config: names, options, json paths, arrays', () => {
    const yaml = `
users.email: { rule: email, unique: true }
users.name: name
orders.shippingAddress: { rule: address, keep: [country] }
orders.notes: { rule: json, paths: { "$.gift.to": name, "$..email": email, "$.items[*].msg": freeText, "$['odd key']": "null" }, others: freeText }
stories.coAuthors: { rule: textArray, of: name }
public.profiles.bio: freeText
`;
    const result = anonymizeRulesSchema.safeParse(parseYaml(yaml));
    expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
  });

  it.each([
    [{ 'users.email': 'emial' }, 'users.email: Invalid option: expected one of "email"'],
    [{ users: 'email' }, 'users: "users" is not a rule key'],
    [{ 'users.email': { rule: 'email', unique: 'yes' } }, 'users.email.unique: Invalid input: expected boolean'],
    [{ 'orders.x': { rule: 'json', paths: { 'shipping.street': 'address' } } }, 'orders.x.paths.shipping.street: JSON path "shipping.street" must start with "$"'],
    [{ 'orders.x': { rule: 'address', keys: 'street' } }, 'orders.x.keys: Invalid input: expected array'],
    [{ 'orders.x': { rule: 'textArray', of: { rule: 'textArray', of: 'name' } } }, 'orders.x.of.rule: Invalid option'],
    [{ 'orders.x': 5 }, 'orders.x: a rule is a name (email, name,'],
  ])('rejects %j and names the key and the problem', (rules, message) => {
    const result = anonymizeRulesSchema.safeParse(rules);
    expect(result.success).toBe(false);
    const lines = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(lines).toContain(message);
  });
});

describe('DEFAULT_RULES_1001_STORIES', () => {
  // Every PII column named in the domain notes and the task.
  const piiColumns = [
    'users.email', 'users.name', 'users.image', 'users.password',
    'profiles.phone', 'profiles.dateOfBirth', 'profiles.parentEmail', 'profiles.parentName', 'profiles.bio',
    'accounts.access_token', 'accounts.refresh_token', 'accounts.id_token', 'accounts.providerAccountId',
    'sessions.sessionToken',
    'orders.email', 'orders.phone', 'orders.shippingAddress', 'orders.billingAddress', 'orders.stripePaymentId',
    'donations.donorEmail', 'donations.donorName', 'donations.message',
    'stories.authorName', 'stories.authorAge', 'stories.authorLocation', 'stories.content',
    'notifications.message',
    'activity_logs.ipAddress', 'activity_logs.userAgent', 'activity_logs.metadata',
    'subscriptions.stripeCustomerId',
  ];

  it.each(piiColumns)('has a rule for %s', (key) => {
    const [table, column] = key.split('.') as [string, string];
    expect(findRule(DEFAULT_RULES_1001_STORIES, table, column)).toBeDefined();
  });

  it('changes every PII column except the deliberate keep (stories.authorAge)', () => {
    const kept = piiColumns.filter((k) => ruleNameOf(findRule(DEFAULT_RULES_1001_STORIES, ...(k.split('.') as [string, string]))!) === 'keep');
    expect(kept).toEqual(['stories.authorAge']);
  });

  it('marks the unique columns it knows of', () => {
    expect(DEFAULT_RULES_1001_STORIES['users.email']).toEqual({ rule: 'email', unique: true });
    expect(DEFAULT_RULES_1001_STORIES['sessions.sessionToken']).toEqual({ rule: 'token', unique: true });
  });
});
