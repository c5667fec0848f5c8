/** PulseStream's public API. */
export { native } from './core/native.js';
export * from './config/index.js';
export * from './storage/index.js';
export { ChunkedParser, parseBytes, REJECT_CODES } from './core/parser.js';
export type { FieldSpec, FieldType, ParseOptions, ParseResult, ParseStats, Reject, RejectCode, SchemaSpec } from './core/parser.js';
export { RuleSet } from './core/rules.js';
export type { Derivation, RejectedRow, RuleCheck, RuleCounter, RuleSchema, RulesResult, RulesSpec } from './core/rules.js';
export { ViewState, viewInputTable } from './core/window.js';
export type { StateOptions, ViewQuery, ViewSpec, WindowSpec } from './core/window.js';
export { Pipeline } from './core/pipeline.js';
export type { PipelineSpec, PipelineReject, PushReport } from './core/pipeline.js';
