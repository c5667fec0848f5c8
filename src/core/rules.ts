/**
 * The rule engine's TypeScript face: compile a rules spec once against the
 * schema, then evaluate apache-arrow Tables. Tables cross to Rust as Arrow
 * IPC bytes and come back the same way; rows are never turned into JS
 * objects on the way. The language is documented in `docs/rules.md`, the
 * JSON shapes in `docs/native-contract.md` ("Rules").
 */
import type { Table } from 'apache-arrow';
import { tableFromBuffer, tableToBuffer } from './arrow.js';
import type { FieldType } from './field-type.js';
import { native } from './native.js';
import type { NativeRuleSet, RulesEvaluation } from '../../native/binding.cjs';

export type { FieldType } from './field-type.js';

/** The record schema rules are compiled against (the contract's schema JSON). */
export interface RuleSchema {
  fields: readonly { name: string; type: FieldType; nullable?: boolean; unit?: 'ms' | 's' }[];
  eventTime?: string;
}

export type Severity = 'error' | 'warn';
export type OnError = 'skip' | 'halt';

interface CheckBase {
  id: string;
  /** `error` (default) rejects a failing row; `warn` keeps it and counts it. */
  severity?: Severity;
  /** Reported with rejects; a default describing the check otherwise. */
  message?: string;
}

/** A range bound: a number, or for timestamp fields an ISO-8601 string with offset. */
export type RangeBound = number | string;

export interface RangeSpec {
  min?: RangeBound;
  max?: RangeBound;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

/** Exactly one kind per check; field checks name their field. */
export type RuleCheck =
  | (CheckBase & { field: string; required: boolean })
  | (CheckBase & { field: string; range: RangeSpec })
  | (CheckBase & { field: string; in: readonly (string | number | boolean)[] })
  | (CheckBase & { field: string; regex: string })
  | (CheckBase & { field: string; length: { min?: number; max?: number } })
  | (CheckBase & { field: string; type: FieldType })
  | (CheckBase & { expr: string });

/** Appends the nullable Utf8 column `column`: the first case whose `when` is TRUE sets it. */
export interface Derivation {
  column: string;
  default?: string | null;
  cases: readonly { when: string; set: string }[];
}

export interface RulesSpec {
  onError?: OnError;
  checks?: readonly RuleCheck[];
  derive?: readonly Derivation[];
}

/** A rejected row: its index in the evaluated table and the error checks it failed. */
export interface RejectedRow {
  row: number;
  ruleIds: string[];
  messages: string[];
}

/** Cumulative counts of one check since the rule set was compiled. */
export interface RuleCounter {
  id: string;
  severity: Severity;
  /** Rows the check ran on. */
  evaluated: number;
  /** Rows that failed it (either severity). */
  failed: number;
  /** Failed rows kept because the check is `warn`. */
  warned: number;
}

export interface RulesResult {
  /** Kept rows with the derived columns appended. */
  valid: Table;
  rejects: RejectedRow[];
  /** Kept rows that failed at least one warn check. */
  warnedRows: number;
  counters: RuleCounter[];
}

/** Reads the rejects IPC stream (`row`, `rule_ids`, `messages`) into plain objects. */
function decodeRejects(buf: Buffer): RejectedRow[] {
  const t = tableFromBuffer(buf);
  const rows = t.getChild('row');
  const ids = t.getChild('rule_ids');
  const messages = t.getChild('messages');
  const out: RejectedRow[] = [];
  if (!rows || !ids || !messages) return out;
  for (let i = 0; i < t.numRows; i++) {
    out.push({
      row: Number(rows.get(i)),
      ruleIds: [...(ids.get(i) ?? [])] as string[],
      messages: [...(messages.get(i) ?? [])] as string[],
    });
  }
  return out;
}

/** A rule set compiled once by the native core. */
export class RuleSet {
  private constructor(
    private readonly compiled: NativeRuleSet,
    readonly spec: RulesSpec,
  ) {}

  /**
   * Compiles `spec` against `schema`. Throws on a bad spec with a message
   * naming the rule (and, for expressions, the column in the text).
   */
  static compile(schema: RuleSchema, spec: RulesSpec): RuleSet {
    return new RuleSet(native.NativeRuleSet.compile(JSON.stringify(schema), JSON.stringify(spec)), spec);
  }

  /** Check ids in spec order: `RejectedRow.ruleIds` draw from these. */
  get ruleIds(): string[] {
    return this.compiled.ruleIds();
  }

  /** Evaluates a Table on the calling thread (fine for small tables). */
  evaluate(table: Table): RulesResult {
    return this.result(this.compiled.evaluate(tableToBuffer(table)));
  }

  /** Evaluates a Table on the libuv thread pool, keeping the event loop free. */
  async evaluateAsync(table: Table): Promise<RulesResult> {
    return this.result(await this.compiled.evaluateAsync(tableToBuffer(table)));
  }

  /** Evaluates Arrow IPC stream bytes (e.g. a parser's output) without decoding them in JS. */
  evaluateIpc(ipc: Buffer): RulesResult {
    return this.result(this.compiled.evaluate(ipc));
  }

  counters(): RuleCounter[] {
    return this.compiled.counters().map((c) => ({ ...c, severity: c.severity as Severity }));
  }

  private result(r: RulesEvaluation): RulesResult {
    return {
      valid: tableFromBuffer(r.valid),
      rejects: decodeRejects(r.rejects),
      warnedRows: r.warnedRows,
      counters: this.counters(),
    };
  }
}
