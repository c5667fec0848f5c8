/** The config: schema, loading, environment overrides, defaults and native specs. */
export { configSchema, defineConfig, validateConfig, type Config, type ConfigInput, type Speed } from './config.js';
export { ConfigError, formatIssue, type ConfigIssue } from './issues.js';
export { loadConfig, findConfigFile, readConfigFile, resolveConfigPaths, CONFIG_FILE_NAMES, type LoadedConfig, type LoadOptions } from './load.js';
export { applyEnvOverrides, activeEnvOverrides, ENV_OVERRIDES } from './env.js';
export { defaultConfigInput } from './defaults.js';
export { toNativeSpecs, viewSpec, viewAlignmentMs, type NativeSpecs, type NativeSchemaSpec, type NativeParseOptions, type NativeRulesSpec, type NativeViewSpec } from './native.js';
export { configJsonSchema, configJsonSchemaText } from './json-schema.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseByteSize, formatByteSize } from './size.js';
export { isPlainPath, childLocation, resolveLocation } from './location.js';
export type { FieldType, Field, RecordSchema } from './schema.js';
export type { Rules, Check, Derivation, CheckKind } from './rules.js';
export type { View, Window, Measure, MeasureOp } from './views.js';
export type { Batch } from './batch.js';
export type { SpeedSource } from './speed.js';
export type { S3 } from './s3.js';
export type { Serving } from './serving.js';
