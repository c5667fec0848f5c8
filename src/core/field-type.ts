/**
 * The column types of a schema and the Arrow type each becomes: one mapping
 * for everything that builds or describes Arrow data in JavaScript (the
 * reference-shaped tables the core accepts, the serving layer's empty
 * answers), so both agree with the Arrow the native core writes.
 */
import { Bool, Float64, Int64, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow';

export type FieldType = 'string' | 'int64' | 'float64' | 'bool' | 'timestamp';

/** The Arrow type of a schema column (timestamps in milliseconds, UTC). */
export function arrowType(t: FieldType): DataType {
  switch (t) {
    case 'string':
      return new Utf8();
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'timestamp':
      return new TimestampMillisecond('UTC');
  }
}
