/** PulseStream's public API. */
export { native } from './core/native.js';
export { RuleSet } from './core/rules.js';
export type { Derivation, RejectedRow, RuleCheck, RuleCounter, RuleSchema, RulesResult, RulesSpec } from './core/rules.js';
