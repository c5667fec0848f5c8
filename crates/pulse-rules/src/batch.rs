//! Lines a record batch up with the schema a rule set or filter was
//! compiled for: same names, same types (a timestamp's time zone label is
//! adopted, since the values are UTC milliseconds either way).

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, TimestampMillisecondArray};
use arrow_schema::{DataType, Schema, TimeUnit};

use crate::RuleError;

/// Column `i` of `batch`, checked against field `i` of `schema`.
pub fn column(batch: &RecordBatch, schema: &Schema, i: usize) -> Result<ArrayRef, RuleError> {
    let expected = schema
        .fields()
        .get(i)
        .ok_or_else(|| RuleError::Schema(format!("no field at index {i}")))?;
    let actual_schema = batch.schema();
    let actual = actual_schema.fields().get(i).ok_or_else(|| {
        RuleError::Schema(format!(
            "field '{}' (index {i}) is missing: the batch has {} columns",
            expected.name(),
            batch.num_columns()
        ))
    })?;
    if actual.name() != expected.name() {
        return Err(RuleError::Schema(format!(
            "column {i} is '{}', expected '{}'",
            actual.name(),
            expected.name()
        )));
    }
    let col = batch.column(i).clone();
    if actual.data_type() == expected.data_type() {
        return Ok(col);
    }
    match (actual.data_type(), expected.data_type()) {
        (
            DataType::Timestamp(TimeUnit::Millisecond, _),
            DataType::Timestamp(TimeUnit::Millisecond, tz),
        ) => {
            let ts = col
                .as_any()
                .downcast_ref::<TimestampMillisecondArray>()
                .ok_or_else(|| {
                    RuleError::Schema(format!(
                        "column '{}' is not a timestamp array",
                        expected.name()
                    ))
                })?;
            Ok(Arc::new(ts.clone().with_timezone_opt(tz.clone())))
        }
        (a, e) => Err(RuleError::Schema(format!(
            "column '{}' is {a}, expected {e}",
            expected.name()
        ))),
    }
}

/// All columns of `batch`, which must have exactly the fields of `schema`.
pub fn columns(batch: &RecordBatch, schema: &Schema) -> Result<Vec<ArrayRef>, RuleError> {
    if batch.num_columns() != schema.fields().len() {
        return Err(RuleError::Schema(format!(
            "the batch has {} columns, expected {}",
            batch.num_columns(),
            schema.fields().len()
        )));
    }
    (0..schema.fields().len())
        .map(|i| column(batch, schema, i))
        .collect()
}
