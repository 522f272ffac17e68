// The anonymizer's public surface: transformers, rules, the PII detector, and the row and
// stream stages that apply rules to COPY data. Pure: no database, no I/O, no stdout.
export { createTransformers, keyFingerprint, STAGING_PASSWORD, STAGING_PASSWORD_HASH, STAGING_EMAIL_DOMAIN, MIN_SECRET_BYTES, DEFAULT_ADDRESS_KEYS, DEFAULT_ADDRESS_KEEP } from './transformers.js';
export type { Transformers, TransformerOptions, StringTransformer, AddressOptions, PiiDictionary } from './transformers.js';
export { anonymizeRulesSchema, anonymizeRuleSchema, DEFAULT_RULES_1001_STORIES, VALUE_RULES, findRule, ruleNameOf, ruleLabel, ruleKey, parseRuleKey } from './rules.js';
export type { AnonymizeRules, AnonymizeRule, LeafRule, JsonRule, RuleName, ValueRuleName, RuleTarget } from './rules.js';
export { detectPii, classifyValue } from './detect.js';
export { decideCoverage, describeUndecided, unknownRuleKeys, isTextLike, TEXTLIKE_TYPES } from './coverage.js';
export type { CatalogColumn, ColumnDecision, CoverageResult, Undecided } from './coverage.js';
export { findPii, looksLikeIsbn } from './scan.js';
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
