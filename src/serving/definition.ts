/**
 * What the serving layer knows about a view before any state is loaded: its
 * native spec, the schema its states were built over, the types of its group
 * fields (to validate filters) and its window geometry (to plan how a query
 * splits at the batch/realtime boundary).
 */
import type { Config, FieldType, NativeSchemaSpec, NativeViewSpec } from '../config/index.js';
import { toNativeSpecs } from '../config/index.js';

/** Type of a result column of a view: a group field or a finalised measure. */
export type ColumnType = FieldType;

export interface GroupField {
  name: string;
  type: FieldType;
}

export interface ViewDefinition {
  name: string;
  spec: NativeViewSpec;
  /**
   * The schema of the batches the view's states were updated with: the
   * record schema plus the rules' derived columns (nullable strings),
   * appended in order, exactly as the fused pipeline builds it.
   */
  inputSchema: NativeSchemaSpec;
  /** The record schema alone, and the derived columns the rules append to it. */
  recordSchema: NativeSchemaSpec;
  derivedColumns: string[];
  groupFields: GroupField[];
  /** Allowed lateness of the speed layer (0 without one): a window is final once the watermark passed its end by this much. */
  allowedLatenessMs: number;
}

/** The record schema as the views see it: schema fields, then derived columns. */
export function viewInputSchema(config: Config): NativeSchemaSpec {
  const specs = toNativeSpecs(config);
  const derived = config.rules.derive.map((d) => ({ name: d.column, type: 'string' as const, nullable: true }));
  return { fields: [...specs.schema.fields, ...derived], eventTime: specs.schema.eventTime };
}

/** One definition per configured view, in config order. */
export function viewDefinitions(config: Config): ViewDefinition[] {
  const inputSchema = viewInputSchema(config);
  const recordSchema = toNativeSpecs(config).schema;
  const derivedColumns = config.rules.derive.map((d) => d.column);
  const types = new Map(inputSchema.fields.map((f) => [f.name, f.type]));
  const allowedLatenessMs = config.speed?.allowedLateness ?? 0;
  return toNativeSpecs(config).views.map((spec) => ({
    name: spec.name,
    spec,
    inputSchema,
    recordSchema,
    derivedColumns,
    groupFields: spec.groupBy.map((name) => ({ name, type: types.get(name) ?? 'string' })),
    allowedLatenessMs,
  }));
}
