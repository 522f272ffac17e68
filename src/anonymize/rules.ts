// Anonymization rules: which transformer each PII column gets, as plain data that a JSON or YAML
// config file can hold (`anonymize.rules`), validated by one zod schema, plus the built-in rules
// for the 1001 Stories schema.
import { z } from 'zod';
import { parseJsonPath } from './json-value.js';

/** Rules that map one value to one value; `secret` is an alias of `token`. */
export const VALUE_RULES = [
  'email', 'name', 'firstName', 'lastName', 'phone', 'address', 'ip', 'freeText', 'token', 'secret',
  'passwordHash', 'dateOfBirth', 'city', 'postalCode', 'userAgent', 'url', 'keep', 'null',
] as const;
export type ValueRuleName = (typeof VALUE_RULES)[number];
export type RuleName = ValueRuleName | 'json' | 'textArray';

const valueRuleName = z.enum(VALUE_RULES);

export type LeafRule =
  | ValueRuleName
  | { rule: Exclude<ValueRuleName, 'address'>; unique?: boolean }
  | { rule: 'address'; keys?: string[]; keep?: string[] };
export interface JsonRule {
  rule: 'json';
  paths: Record<string, LeafRule>;
  others?: 'keep' | 'freeText';
}
export interface TextArrayRule {
  rule: 'textArray';
  of: LeafRule | JsonRule;
}
export type AnonymizeRule = LeafRule | JsonRule | TextArrayRule;
export type AnonymizeRules = Record<string, AnonymizeRule>;

/**
 * Validates with the one schema that `pick` chooses from the value's shape, so an error names
 * the real problem ("unique: expected boolean") instead of a bare "Invalid input" from a union.
 */
function dispatching<T>(pick: (value: unknown) => z.ZodType<T>): z.ZodType<T, unknown> {
  return z.unknown().transform((value, ctx) => {
    const result = pick(value).safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  });
}

const ruleOf = (value: unknown): unknown =>
  typeof value === 'object' && value !== null && 'rule' in value ? (value as { rule: unknown }).rule : undefined;

const simpleRule = z
  .object({
    rule: valueRuleName.exclude(['address']),
    /** The column is unique in production: resolve the (rare) pseudonym collision with a suffix. */
    unique: z.boolean().optional(),
  })
  .strict();

const addressRule = z
  .object({
    rule: z.literal('address'),
    /** Keys to replace, wherever they sit in the document; default: street, line1/2, city, zip, postalCode, phone, name, email, … */
    keys: z.array(z.string().min(1)).optional(),
    /** Keys to keep as they are; default: country, countryCode, state. */
    keep: z.array(z.string().min(1)).optional(),
  })
  .strict();

const notAnObject = z.custom<never>(() => false, {
  message: `a rule is a name (${VALUE_RULES.join(', ')}) or an object with "rule"`,
});

/** A rule for one value, or for what one JSON path points at. */
const leafRule: z.ZodType<LeafRule, unknown> = dispatching<LeafRule>((value) => {
  if (typeof value === 'string') return valueRuleName;
  if (typeof value !== 'object' || value === null) return notAnObject;
  return ruleOf(value) === 'address' ? addressRule : simpleRule;
});

/**
 * Record keys are checked here rather than by a key schema, whose error would only say "Invalid
 * key in record"; `when` makes the check run even when a value already failed, so both show.
 */
const whenObject = { when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null };

const jsonPaths = z.record(z.string(), leafRule).superRefine((paths, ctx) => {
  for (const path of Object.keys(paths)) {
    try {
      parseJsonPath(path);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message, path: [path] });
    }
  }
}, whenObject);

const jsonRule: z.ZodType<JsonRule, unknown> = z
  .object({
    rule: z.literal('json'),
    /** JSON path → rule, e.g. `{ "$.shipping.street": "address", "$..email": "email", "$.items[*].note": "freeText" }`. */
    paths: jsonPaths,
    /** What happens to strings no path reaches: kept (default) or scrubbed like free text. */
    others: z.enum(['keep', 'freeText']).optional(),
  })
  .strict();

/** Element-wise over a PostgreSQL array column. A value rule on an array column means the same. */
const textArrayRule: z.ZodType<TextArrayRule, unknown> = z
  .object({
    rule: z.literal('textArray'),
    of: dispatching<LeafRule | JsonRule>((value) => (ruleOf(value) === 'json' ? jsonRule : leafRule)),
  })
  .strict();

export const anonymizeRuleSchema: z.ZodType<AnonymizeRule, unknown> = dispatching<AnonymizeRule>((value) => {
  const rule = ruleOf(value);
  return rule === 'json' ? jsonRule : rule === 'textArray' ? textArrayRule : leafRule;
});

/** `table.column` or `schema.table.column`, as the names appear in the database (camelCase kept). */
const RULE_KEY = /^(?:[^.\s"]+\.)?[^.\s"]+\.[^.\s"]+$/;

export const anonymizeRulesSchema: z.ZodType<AnonymizeRules, unknown> = z.record(z.string(), anonymizeRuleSchema).superRefine((rules, ctx) => {
  for (const key of Object.keys(rules)) {
    if (!RULE_KEY.test(key)) ctx.addIssue({ code: 'custom', message: `"${key}" is not a rule key: write "table.column" (or "schema.table.column")`, path: [key] });
  }
}, whenObject);

/** The rule's name, whichever way it was written. */
export function ruleNameOf(rule: AnonymizeRule): RuleName {
  return typeof rule === 'string' ? rule : rule.rule;
}

/** Splits at the last dot: the table part may carry a schema. */
export function splitRuleKey(key: string): { table: string; column: string } {
  const dot = key.lastIndexOf('.');
  return { table: key.slice(0, dot), column: key.slice(dot + 1) };
}

/** The rule for a column; `users.email` also matches table `public.users`, and vice versa. */
export function findRule(rules: AnonymizeRules, table: string, column: string): AnonymizeRule | undefined {
  const direct = rules[`${table}.${column}`];
  if (direct !== undefined) return direct;
  const dot = table.indexOf('.');
  if (dot >= 0) return table.slice(0, dot) === 'public' ? rules[`${table.slice(dot + 1)}.${column}`] : undefined;
  return rules[`public.${table}.${column}`];
}

/**
 * Every PII column of the 1001 Stories schema (see the domain notes). Decisions worth knowing:
 * - `stories.content` is the product itself, so it is kept but scrubbed as free text (e-mails,
 *   phone numbers, IPs inside it replaced) rather than replaced wholesale.
 * - `stories.authorAge` is kept: an age alone identifies no one once name and location are gone,
 *   and age-dependent features need it. It is listed so the coverage check counts it as decided.
 * - `users.image` becomes a placeholder URL (avatars can embed names or provider ids).
 * - `activity_logs.metadata` has no fixed shape: known keys anywhere in it are replaced and every
 *   other string is scrubbed as free text.
 */
export const DEFAULT_RULES_1001_STORIES = {
  'users.email': { rule: 'email', unique: true },
  'users.name': 'name',
  'users.image': 'url',
  'users.password': 'passwordHash',
  'profiles.phone': 'phone',
  'profiles.dateOfBirth': 'dateOfBirth',
  'profiles.parentEmail': 'email',
  'profiles.parentName': 'name',
  'profiles.bio': 'freeText',
  'accounts.access_token': 'token',
  'accounts.refresh_token': 'token',
  'accounts.id_token': 'token',
  'accounts.providerAccountId': 'token',
  'sessions.sessionToken': { rule: 'token', unique: true },
  'orders.email': 'email',
  'orders.phone': 'phone',
  'orders.shippingAddress': 'address',
  'orders.billingAddress': 'address',
  'orders.stripePaymentId': 'token',
  'donations.donorEmail': 'email',
  'donations.donorName': 'name',
  'donations.message': 'freeText',
  'stories.authorName': 'name',
  'stories.authorAge': 'keep',
  'stories.authorLocation': 'city',
  'stories.content': 'freeText',
  'notifications.message': 'freeText',
  'activity_logs.ipAddress': 'ip',
  'activity_logs.userAgent': 'userAgent',
  'activity_logs.metadata': {
    rule: 'json',
    paths: {
      '$..email': 'email',
      '$..ip': 'ip',
      '$..ipAddress': 'ip',
      '$..userAgent': 'userAgent',
      '$..phone': 'phone',
      '$..name': 'name',
      '$..token': 'token',
      '$..address': 'address',
    },
    others: 'freeText',
  },
  'subscriptions.stripeCustomerId': 'token',
  'donations.stripePaymentId': 'token',
  'donation_campaigns.description': 'freeText',
  // OAuth's token_type is "Bearer" or the like: a kind, not a secret.
  'accounts.token_type': 'keep',
  'schools.contactEmail': 'email',
  'schools.phone': 'phone',
  'schools.address': 'address',
  'schools.city': 'city',
} as const satisfies AnonymizeRules;
