/**
 * Config problems as `path: reason` lines. Every problem found in one pass is
 * collected, so a user fixes a file once rather than error by error.
 */
import type { z } from 'zod';
import { describeInput } from './duration.js';

/** One problem in a config: a dotted path (`views.0.measures.2.field`) and a reason. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Thrown when a config cannot be read or does not validate; carries every problem found. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly issues: readonly ConfigIssue[],
    /** The file the config came from, or `undefined` for in-memory and embedded configs. */
    readonly file?: string,
  ) {
    super(
      `${file ? `invalid config ${file}` : 'invalid config'} (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}):\n` +
        issues.map((i) => `  ${formatIssue(i)}`).join('\n'),
    );
  }
}

/** `path: reason`, or just the reason for a problem with the file as a whole. */
export function formatIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** Joins a zod issue path with dots: `['views', 0, 'name']` → `views.0.name`. */
export function joinPath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

/** Turns zod's issues into config issues; an unknown key gets a path of its own. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: joinPath([...issue.path, key]), message: 'unknown key' });
    } else {
      out.push({ path: joinPath(issue.path), message: issue.message });
    }
  }
  return out;
}

/**
 * Zod's defaults reworded for config files: a missing key says "required",
 * a wrong type names what was found. Passed per parse, so it never changes
 * how zod reports errors elsewhere in the process.
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'required';
    if (issue.expected === 'int') return `expected an integer, got ${describeInput(issue.input)}`;
    return `expected ${issue.expected}, got ${describeInput(issue.input)}`;
  }
  if (issue.code === 'invalid_value' && issue.values.length > 0) {
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeInput(issue.input)}`;
  }
  if (issue.code === 'too_small' && issue.origin === 'array') {
    return `needs at least ${String(issue.minimum)} ${Number(issue.minimum) === 1 ? 'entry' : 'entries'}`;
  }
  if (issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) === 1) {
    return 'must not be empty';
  }
  if (issue.code === 'too_small' && issue.origin === 'number') {
    return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${String(issue.minimum)}, got ${describeInput(issue.input)}`;
  }
  if (issue.code === 'too_big' && issue.origin === 'number') {
    return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}, got ${describeInput(issue.input)}`;
  }

  return undefined;
};

/** True when a zod issue lies at or below `prefix` (so that value was not checked cleanly). */
export function hasIssueUnder(issues: readonly { path?: readonly PropertyKey[] }[], prefix: readonly PropertyKey[]): boolean {
  return issues.some((issue) => {
    const path = issue.path ?? [];
    return path.length >= prefix.length && prefix.every((p, i) => path[i] === p);
  });
}

/**
 * Refinement option: run even when parts of the value already have issues, so
 * one pass reports every problem; only a value that is not an object at all
 * (a wrong type, already reported) is skipped.
 */
export const ALWAYS = {
  when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null,
} as const;

/** What a cross-section check needs: where to report, and which paths already failed on their own. */
export interface CrossCheck {
  /** Reports a problem at a path from the config root. */
  report(path: readonly PropertyKey[], message: string): void;
  /** True when the value at `path` already has problems of its own (skip checking it further). */
  dirty(path: readonly PropertyKey[]): boolean;
}

/** The message for a discriminated union whose `type` is missing or unknown. */
export function unknownVariant(what: string, variants: readonly string[], input: unknown): string {
  const type = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined;
  const expected = `one of ${variants.join(', ')}`;
  return type === undefined ? `required: ${what}, ${expected}` : `unknown ${what} ${describeInput(type)}: expected ${expected}`;
}
