// Anonymization rules: which transformer each PII column gets, as plain data that a JSON or YAML
// config file can hold (`anonymize.rules`), validated by one zod schema, plus the built-in rules
// for the 1001 Stories schema.
import { z } from 'zod';
import { parseJsonPath } from './json-value.js';

/** Rules that map one value to one value; `secret` is an alias of `token`. */
export const VALUE_RULES = [
  'email', 'name', 'firstName', 'lastName', 'phone', 'address', 'ip', 'freeText', 'token', 'secret',
  'passwordHash', 'dateOfBirth', 'city', 'postalCode', 'userAgent', 'url', 'keep', 'null', 'scrub',
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
  others?: 'keep' | 'freeText' | 'scrub';
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
    /** What happens to strings no path reaches: kept (default), replaced like free text, or scrubbed. */
    others: z.enum(['keep', 'freeText', 'scrub']).optional(),
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

export interface RuleTarget {
  schema?: string;
  table: string;
  column: string;
}

const BARE = /^[^."\s]+$/;
const quotePart = (part: string) => (BARE.test(part) ? part : `"${part.replace(/"/g, '""')}"`);

/** The one spelling of a rule key: parts joined by dots, quoted only when they need it. */
export function ruleKey(t: RuleTarget): string {
  return [...(t.schema !== undefined ? [t.schema] : []), t.table, t.column].map(quotePart).join('.');
}

/**
 * `table.column`, `schema.table.column`, or the same with any part in double quotes (`""` for a
 * quote inside): `"order"."Email Address"`. Names are as the database spells them (camelCase kept).
 */
export function parseRuleKey(key: string): RuleTarget {
  const parts: string[] = [];
  let i = 0;
  while (i <= key.length) {
    if (key[i] === '"') {
      let part = '';
      i++;
      for (;;) {
        if (i >= key.length) throw new Error(`"${key}" has an unclosed quote`);
        if (key[i] === '"') {
          if (key[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += key[i++];
      }
      parts.push(part);
    } else {
      const dot = key.indexOf('.', i);
      const part = key.slice(i, dot < 0 ? key.length : dot);
      if (!BARE.test(part)) throw new Error(`"${key}" is not a rule key: quote a name with spaces, dots or quotes, e.g. "order"."Email Address"`);
      parts.push(part);
      i = dot < 0 ? key.length : dot;
    }
    if (i === key.length) break;
    if (key[i] !== '.') throw new Error(`"${key}" is not a rule key: expected a dot after a quoted name`);
    i++;
  }
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new Error(`"${key}" is not a rule key: write table.column or schema.table.column (quote names with spaces, dots or quotes: "order"."Email Address")`);
  }
  return parts.length === 3 ? { schema: parts[0]!, table: parts[1]!, column: parts[2]! } : { table: parts[0]!, column: parts[1]! };
}

const listEntry = z
  .object({
    schema: z.string().min(1).optional(),
    table: z.string().min(1),
    column: z.string().min(1),
    rule: anonymizeRuleSchema,
    /** Why this rule: written by `rehearse data rules`, kept for the reviewer, not used. */
    reason: z.string().optional(),
  })
  .strict();

/**
 * Either `{ "table.column": rule, … }` (keys may quote names) or a list of
 * `{ "schema"?, "table", "column", "rule" }`; both become one record keyed by `ruleKey`.
 */
const rulesRecord = z.record(z.string(), anonymizeRuleSchema);
const rulesList = z.array(listEntry);

export const anonymizeRulesSchema: z.ZodType<AnonymizeRules, unknown> = z.unknown().transform((input, ctx) => {
  const out: AnonymizeRules = {};
  const copyIssues = (issues: z.core.$ZodIssue[]) => {
    for (const issue of issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  };
  if (Array.isArray(input)) {
    const list = rulesList.safeParse(input);
    if (!list.success) {
      copyIssues(list.error.issues);
      return z.NEVER;
    }
    for (const e of list.data) out[ruleKey(e)] = e.rule;
    return out;
  }
  const record = rulesRecord.safeParse(input);
  if (!record.success) copyIssues(record.error.issues);
  // Keys are checked even when a value failed, so both problems show at once.
  const keys = typeof input === 'object' && input !== null ? Object.keys(input) : [];
  for (const key of keys) {
    try {
      parseRuleKey(key);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message, path: [key] });
    }
  }
  if (!record.success) return z.NEVER;
  for (const [key, rule] of Object.entries(record.data)) {
    try {
      out[ruleKey(parseRuleKey(key))] = rule;
    } catch {
      // reported above
    }
  }
  return out;
});

/** The rule's name, whichever way it was written. */
export function ruleNameOf(rule: AnonymizeRule): RuleName {
  return typeof rule === 'string' ? rule : rule.rule;
}

/** A rule in words for messages: its name, or its JSON for a structured rule (never "[object Object]"). */
export function ruleLabel(rule: AnonymizeRule): string {
  return typeof rule === 'string' ? rule : JSON.stringify(rule);
}

/** Splits a table key of the catalogue (`users`, `billing.invoices`) into schema and name. */
export function splitTableKey(tableKey: string): { schema: string; table: string } {
  const dot = tableKey.indexOf('.');
  return dot < 0 ? { schema: 'public', table: tableKey } : { schema: tableKey.slice(0, dot), table: tableKey.slice(dot + 1) };
}

/** The rule for a column; `users.email` also matches table `public.users`, and vice versa. */
export function findRule(rules: AnonymizeRules, table: string, column: string): AnonymizeRule | undefined {
  const { schema, table: name } = splitTableKey(table);
  return rules[ruleKey({ schema, table: name, column })] ?? (schema === 'public' ? rules[ruleKey({ table: name, column })] : undefined);
}

const keep = (...columns: string[]) => Object.fromEntries(columns.map((c) => [c, 'keep' as const]));
const each = <R extends AnonymizeRule>(rule: R, ...columns: string[]) => Object.fromEntries(columns.map((c) => [c, rule]));
const table = (name: string, columns: Record<string, AnonymizeRule>) => Object.fromEntries(Object.entries(columns).map(([c, r]) => [`${name}.${c}`, r]));

/** Strings of a JSON document that is logged or generated: known keys pseudonymized, every other string replaced. */
const LOGGED_JSON: JsonRule = {
  rule: 'json',
  paths: {
    '$..email': 'email', '$..ip': 'ip', '$..ipAddress': 'ip', '$..userAgent': 'userAgent', '$..phone': 'phone',
    '$..name': 'name', '$..token': 'token', '$..address': 'address',
  },
  others: 'freeText',
};

/**
 * Every text, JSON and array column of the 1001 Stories schemas, the app's current Prisma schema
 * (JihunKong/1001project, prisma/schema.prisma) and the older one the demo follows
 * (sql/demo/schema.sql), so a first run needs no rule of its own. Primary and foreign key columns
 * are decided by the coverage check itself. Decisions worth knowing:
 * - Anything people write (bios, messages, notes, stories, feedback, titles of notifications,
 *   class names) is `freeText`: replaced by filler of the same shape, because a name in it cannot
 *   be recognised reliably. `scrub` keeps such text and is opt-in per column.
 * - Catalogue data the organisation publishes (product and book titles, SKUs, categories, tags,
 *   languages, statuses kept as text) is `keep`: it names no user and the app needs it to look real.
 * - Links and storage keys of what users uploaded (PDFs, portfolios, documents) are `url`: file
 *   names often carry the uploader's name.
 * - `authorAge`/`creatorAge` are integers and not in scope; ids of other rows that carry no
 *   foreign key (`reviewedBy`, `storyId` of illustrations) are `keep`.
 */
export const DEFAULT_RULES_1001_STORIES = {
  // ---- shared by both schemas
  ...table('users', { email: { rule: 'email', unique: true }, name: 'name', image: 'url', password: 'passwordHash', deletionRequestId: 'keep' }),
  ...table('profiles', {
    phone: 'phone', dateOfBirth: 'dateOfBirth', parentEmail: 'email', parentName: 'name', bio: 'freeText', language: 'keep',
    firstName: 'firstName', lastName: 'lastName', organization: 'freeText', location: 'city', timezone: 'keep', teachingLevel: 'keep',
    subjects: 'keep', skills: 'keep', availability: 'freeText', experience: 'freeText',
    avatarUrl: 'url', coverImageUrl: 'url', parentalConsentToken: { rule: 'token', unique: true }, ...keep('tags', 'ageGroup', 'country', 'interests', 'cachedStats'),
  }),
  ...table('accounts', {
    access_token: 'token', refresh_token: 'token', id_token: 'token', providerAccountId: 'token', session_state: 'token',
    // OAuth's token_type is "Bearer" or the like: a kind, not a secret.
    ...keep('token_type', 'type', 'provider', 'scope'),
  }),
  ...table('sessions', { sessionToken: { rule: 'token', unique: true } }),
  ...table('verification_tokens', { identifier: 'email', token: { rule: 'token', unique: true } }),
  ...table('orders', {
    email: 'email', phone: 'phone', shippingAddress: 'address', billingAddress: 'address', stripePaymentId: 'token',
    trackingNumber: 'token', notes: 'freeText', ...keep('status', 'orderNumber', 'currency', 'paymentMethod', 'shippingMethod', 'tags'),
  }),
  ...table('donations', {
    donorEmail: 'email', donorName: 'name', message: 'freeText', stripePaymentId: 'token', receiptUrl: 'url', ...keep('currency', 'paymentMethod'),
  }),
  ...table('donation_campaigns', {
    description: 'freeText', beneficiary: 'freeText', impactStatement: 'freeText', ...keep('title', 'category', 'images', 'videoUrl', 'currency'),
  }),
  ...table('notifications', { title: 'freeText', message: 'freeText', data: 'freeText', type: 'keep' }),
  ...table('activity_logs', { ipAddress: 'ip', userAgent: 'userAgent', metadata: LOGGED_JSON, ...keep('action', 'entity', 'entityId') }),
  ...table('subscriptions', { stripeCustomerId: 'token', stripeSubscriptionId: 'token', ...keep('stripePriceId', 'plan', 'status') }),
  ...table('classes', { name: 'freeText', description: 'freeText', ...keep('code', 'subject', 'gradeLevel', 'schedule', 'settings') }),
  ...table('volunteer_profiles', {
    experience: 'freeText', portfolio: 'url', documentUrl: 'url', qualifications: 'freeText',
    ...keep('skills', 'languages', 'languageLevels', 'timezone', 'availableSlots', 'verifiedById'),
  }),
  ...table('reading_progress', { notes: 'freeText', currentPosition: 'keep' }),

  // ---- the older schema the demo follows
  ...table('schools', { contactEmail: 'email', phone: 'phone', address: 'address', city: 'city', ...keep('name', 'country') }),
  ...table('stories', {
    authorName: 'name', authorAge: 'keep', authorLocation: 'city', content: 'freeText', summary: 'freeText', ...keep('title', 'tags', 'genres', 'language'),
  }),
  ...table('volunteer_assignments', { task: 'freeText', status: 'keep' }),

  // ---- the app's current schema
  ...table('categories', keep('name', 'slug', 'description', 'image')),
  ...table('products', {
    creatorName: 'name', creatorLocation: 'city', creatorStory: 'freeText',
    ...keep('sku', 'title', 'description', 'currency', 'tags', 'impactMetric', 'impactValue', 'digitalFileUrl', 'metaTitle', 'metaDescription', 'creatorId'),
  }),
  ...table('product_variants', keep('title', 'sku', 'attributes')),
  ...table('product_images', keep('url', 'alt')),
  ...table('inventory', keep('location')),
  ...table('order_items', keep('title', 'variantTitle', 'fulfillmentStatus')),
  ...table('books', {
    authorName: 'name', authorAlias: 'name', coAuthors: 'name', illustratorName: 'name', editorName: 'name', authorLocation: 'city', summary: 'freeText', content: 'freeText',
    ...each('url', 'pdfKey', 'pdfStorageKey', 'pdfFrontCover', 'pdfBackCover', 'samplePdf', 'fullPdf', 'epubFile', 'audioFile'),
    // An ISBN identifies a book, not a person (and is not a phone number).
    ...keep('isbn', 'title', 'subtitle', 'publisher', 'language', 'ageRange', 'readingLevel', 'category', 'genres', 'subjects', 'tags', 'coverImage', 'illustrations', 'pageLayout', 'drm', 'currency', 'illustratorId', 'country', 'educationalCategories', 'vocabularyDistribution'),
  }),
  ...table('chapters', { content: 'freeText', audioUrl: 'url', ...keep('title', 'illustrations') }),
  ...table('bookmarks', { note: 'freeText', ...keep('position', 'color') }),
  ...table('reading_lists', { name: 'freeText', description: 'freeText', bookIds: 'keep' }),
  ...table('class_enrollments', keep('grade')),
  ...table('assignments', { description: 'freeText', ...keep('title', 'resources', 'requirements') }),
  ...table('submissions', { content: 'freeText', feedback: 'freeText', attachments: 'url' }),
  ...table('lessons', { content: 'freeText', ...keep('title', 'objectives', 'resources') }),
  ...table('class_resources', { description: 'freeText', url: 'url', title: 'keep' }),
  ...table('class_announcements', { title: 'freeText', content: 'freeText' }),
  ...table('volunteer_projects', { description: 'freeText', impact: 'freeText', location: 'city', ...keep('title', 'skills', 'timeCommitment') }),
  ...table('volunteer_applications', {
    ...each('freeText', 'motivation', 'experience', 'availability', 'coverLetter', 'notes', 'rejectionReason', 'selectionReason'), reviewedBy: 'keep',
  }),
  ...table('volunteer_hours', { activity: 'freeText', impact: 'freeText', verifiedBy: 'keep' }),
  ...table('volunteer_certificates', { description: 'freeText', certificateUrl: 'url', title: 'freeText' }),
  ...table('campaign_updates', { content: 'freeText', ...keep('title', 'images') }),
  ...table('recurring_donations', { stripeSubscriptionId: 'token', currency: 'keep' }),
  ...table('translations', { content: 'freeText', reviewNotes: 'freeText', summary: 'freeText', ...keep('fromLanguage', 'toLanguage', 'title', 'reviewerId', 'aiModel') }),
  ...table('illustrations', { description: 'freeText', fileUrl: 'url', thumbnailUrl: 'url', ...keep('storyId', 'title', 'license') }),
  ...table('reviews', { title: 'freeText', comment: 'freeText' }),
  ...table('media_files', {
    ...each('freeText', 'filename', 'originalName', 'altText', 'description'), url: 'url', thumbnailUrl: 'url', ...keep('mimeType', 'format', 'folder', 'tags'),
  }),
  ...table('workflow_history', { comment: 'freeText', metadata: LOGGED_JSON, ...keep('fromStatus', 'toStatus') }),
  ...table('bulk_imports', { filename: 'freeText', originalName: 'freeText', fileUrl: 'url', errors: 'freeText', summary: 'freeText' }),
  ...table('onboarding_activities', { interactionData: 'freeText', contentId: 'keep' }),
  ...table('welcome_messages', keep('language', 'content')),
  ...table('user_deletion_requests', {
    deletionReason: 'freeText', reviewNotes: 'freeText', additionalContext: 'freeText', ipAddress: 'ip', userAgent: 'userAgent',
    parentConfirmationToken: { rule: 'token', unique: true }, finalConfirmationToken: { rule: 'token', unique: true }, ...keep('requestSource', 'reviewedBy'),
  }),
  ...table('deletion_audit_logs', {
    actionDetails: 'freeText', metadata: LOGGED_JSON, ipAddress: 'ip', userAgent: 'userAgent', sessionId: 'token',
    ...keep('performedBy', 'tableName', 'recordId', 'anonymizedFields', 'backupLocation'),
  }),
  ...table('anonymization_logs', {
    anonymizedFields: 'freeText', retainedFields: 'freeText', retentionReason: 'freeText', verificationHash: 'token',
    ...keep('tableName', 'recordId', 'anonymizationMethod', 'retentionPeriod', 'legalBasis', 'processedBy', 'processingJobId'),
  }),
  ...table('volunteer_submissions', {
    ...each('freeText', 'textContent', 'originalName', 'editorialNotes', 'summary', 'reviewNotes', 'rejectionReason'), pdfRef: 'url', attachments: 'url', authorAlias: 'name',
    ...keep('title', 'language', 'ageRange', 'category', 'tags', 'targetAudience', 'licenseType', 'projectId'),
  }),
  ...table('text_submissions', {
    ...each('freeText', 'content', 'summary', 'storyFeedback', 'bookDecision', 'finalNotes'), authorAlias: 'name', ...each('url', 'audioUrl', 'coverImageUrl', 'thumbnailUrl'), contentHash: 'token',
    ...keep('title', 'language', 'ageRange', 'category', 'tags', 'readingLevel', 'generatedImages', 'licenseType'),
  }),
  ...table('entitlements', { email: 'email', ipRestrictions: 'ip', ...keep('licenseId', 'grantReason') }),
  ...table('publications', { changelog: 'freeText', ...keep('currency', 'category', 'tags') }),
  ...table('shop_products', {
    creatorName: 'name', creatorLocation: 'city', creatorStory: 'freeText',
    ...keep('sku', 'title', 'description', 'shortDescription', 'currency', 'bundleItems', 'category', 'tags', 'images', 'thumbnailUrl', 'demoUrl', 'impactMetric', 'impactValue', 'metaTitle', 'metaDescription', 'marketingTags'),
  }),
  ...table('ai_reviews', { feedback: 'freeText', suggestions: 'freeText', errorMessage: 'freeText', annotationData: 'freeText', ...keep('modelUsed', 'triggerEvent') }),
  ...table('institutions', { contactEmail: 'email', contactPhone: 'phone', location: 'city', ...keep('name', 'code', 'type', 'country', 'timezone', 'website') }),
  ...table('departments', { description: 'freeText', ...keep('name', 'code') }),
  ...table('vocabulary_words', { context: 'freeText', ...keep('word', 'definition', 'partOfSpeech', 'pronunciation', 'audioUrl') }),
  ...table('comprehension_quizzes', keep('title', 'description', 'questions')),
  ...table('quiz_attempts', { answers: 'freeText' }),
  ...table('BookAssignment', { instructions: 'freeText' }),
  ...table('assignment_comments', { content: 'freeText' }),
  ...table('notification_preferences', keep('digestFrequency')),
  ...table('comments', { content: 'freeText', highlightedText: 'freeText', resolvedBy: 'keep' }),
  ...table('achievements', keep('key', 'nameKey', 'descKey', 'iconUrl', 'criteria')),
  ...table('user_achievements', keep('progress')),
  ...table('teacher_resources', { description: 'freeText', fileUrl: 'url', thumbnailUrl: 'url', ...keep('title', 'subject', 'grade') }),
  ...table('resource_collections', { name: 'freeText', description: 'freeText' }),
  ...table('data_export_requests', { filePath: 'url', errorMessage: 'freeText', format: 'keep' }),
  ...table('cleanup_logs', { reason: 'freeText', metadata: LOGGED_JSON, ...keep('tableName', 'recordType', 'executedBy') }),
  ...table('access_audit_logs', {
    purpose: 'freeText', ipAddress: 'ip', userAgent: 'userAgent', metadata: LOGGED_JSON,
    ...keep('userId', 'entityType', 'entityId', 'action', 'accessedBy', 'accessedByRole'),
  }),
  ...table('parental_consent_records', {
    parentEmail: 'email', parentName: 'name', kbaAnswers: 'freeText', paymentReference: 'token', revokedReason: 'freeText', ipAddress: 'ip', userAgent: 'userAgent',
    ...keep('childUserId', 'consentScope'),
  }),
  ...table('data_retention_schedule', keep('tableName', 'recordId', 'dataType', 'userId', 'legalBasis', 'retentionPolicy')),
  ...table('parent_child_relations', { verificationDoc: 'url', ...keep('parentUserId', 'childUserId', 'verifiedBy') }),
  ...table('amendment_requests', {
    ...each('freeText', 'currentValue', 'requestedValue', 'reason', 'reviewNotes'), ...keep('requesterId', 'studentId', 'recordType', 'recordId', 'reviewedBy'),
  }),
} satisfies AnonymizeRules as AnonymizeRules;
