// The anonymizer's public surface: transformers, rules, the PII detector, and the row and
// stream stages that apply rules to COPY data. Pure: no database, no I/O, no stdout.
export { createTransformers, keyFingerprint, STAGING_PASSWORD, STAGING_PASSWORD_HASH, STAGING_EMAIL_DOMAIN, MIN_SECRET_BYTES, DEFAULT_ADDRESS_KEYS, DEFAULT_ADDRESS_KEEP } from './transformers.js';
export type { Transformers, TransformerOptions, StringTransformer, AddressOptions } from './transformers.js';
export { anonymizeRulesSchema, anonymizeRuleSchema, DEFAULT_RULES_1001_STORIES, VALUE_RULES, findRule, ruleNameOf, splitRuleKey } from './rules.js';
export type { AnonymizeRules, AnonymizeRule, LeafRule, JsonRule, RuleName, ValueRuleName } from './rules.js';
export { detectPii, checkCoverage, configSnippet, classifyValue } from './detect.js';
export type { ColumnSample, PiiProposal, PiiReason, DetectOptions } from './detect.js';
export { createRowAnonymizer, CopyFormatError } from './row-anonymizer.js';
export type { ColumnInfo, ColumnStats, RowAnonymizer, RowAnonymizerOptions } from './row-anonymizer.js';
export { createCopyTransform, CopyAnonymizeTransform } from './copy-transform.js';
export type { CopyTransformOptions, CopyTransformStats } from './copy-transform.js';
export { UniquenessRegistry } from './unique.js';
export { decodeCopyField, encodeCopyField, COPY_NULL } from './copy-text.js';
export { parsePgArray, formatPgArray } from './pg-array.js';
export { parseJson, stringifyJson, JsonNumber } from './json-value.js';
export type { JsonValue } from './json-value.js';
