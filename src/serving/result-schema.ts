/**
 * The columns a view's query returns, known from its definition alone: used
 * for an empty answer when no state exists yet, so the Arrow schema a client
 * sees does not depend on whether data has arrived.
 */
import { Field, Float64, Int64, Schema, Table, TimeUnit, Timestamp, type DataType } from 'apache-arrow';
import { arrowType } from '../core/field-type.js';
import type { ViewDefinition } from './definition.js';

/** `window_start`, `window_end`, the group fields, then one finalised column per measure. */
export function resultSchema(definition: ViewDefinition): Schema {
  const types = new Map(definition.inputSchema.fields.map((f) => [f.name, f.type]));
  const time = () => new Timestamp(TimeUnit.MILLISECOND, 'UTC');
  const fields: Field[] = [new Field('window_start', time(), false), new Field('window_end', time(), false)];
  for (const g of definition.groupFields) fields.push(new Field(g.name, arrowType(g.type), true));
  for (const m of definition.spec.measures) {
    const fieldType = m.field === undefined ? undefined : types.get(m.field);
    let type: DataType;
    switch (m.op) {
      case 'count':
      case 'distinct':
        type = new Int64();
        break;
      case 'avg':
      case 'quantile':
        type = new Float64();
        break;
      case 'sum':
        type = fieldType === 'float64' ? new Float64() : new Int64();
        break;
      case 'min':
      case 'max':
        type = arrowType(fieldType ?? 'float64');
        break;
    }
    fields.push(new Field(m.name, type, true));
  }
  return new Schema(fields);
}

export function emptyResult(definition: ViewDefinition): Table {
  return new Table(resultSchema(definition));
}
