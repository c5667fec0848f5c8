//! The record schema every PulseStream layer shares: field names, logical
//! types, nullability and the event-time field, plus the timestamp grammar
//! (epoch ms, epoch s, ISO-8601 with offset → ms UTC).
//!
//! The schema arrives as JSON from the validated config (see
//! `src/config/schema.ts`); it is re-checked here because the native core must
//! never trust its caller.

mod time;

use std::collections::HashSet;
use std::sync::Arc;

use arrow_schema::{DataType, Field as ArrowField, Schema as ArrowSchema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};

pub use time::{days_from_civil, format_iso_ms, parse_epoch, parse_iso8601};

/// Errors raised while building a schema from its JSON description.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    #[error("schema JSON is invalid: {0}")]
    Json(String),
    #[error("fields[{index}].name: duplicate field name '{name}'")]
    DuplicateField { index: usize, name: String },
    #[error("fields[{index}].name: field name must not be empty")]
    EmptyName { index: usize },
    #[error("eventTime: unknown field '{0}'")]
    UnknownEventTime(String),
    #[error("eventTime: field '{0}' must have type timestamp")]
    EventTimeNotTimestamp(String),
    #[error("eventTime: field '{0}' must not be nullable")]
    EventTimeNullable(String),
    #[error("fields: a schema needs at least one field")]
    NoFields,
}

/// The five logical types a field may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Int64,
    Float64,
    Bool,
    Timestamp,
}

impl FieldType {
    /// The Arrow type a column of this field is stored as.
    pub fn arrow_type(self) -> DataType {
        match self {
            FieldType::String => DataType::Utf8,
            FieldType::Int64 => DataType::Int64,
            FieldType::Float64 => DataType::Float64,
            FieldType::Bool => DataType::Boolean,
            FieldType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Int64 => "int64",
            FieldType::Float64 => "float64",
            FieldType::Bool => "bool",
            FieldType::Timestamp => "timestamp",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Int64 | FieldType::Float64 | FieldType::Timestamp
        )
    }
}

/// How a bare number in a timestamp field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EpochUnit {
    #[default]
    Ms,
    S,
}

impl EpochUnit {
    pub fn millis(self) -> i64 {
        match self {
            EpochUnit::Ms => 1,
            EpochUnit::S => 1000,
        }
    }
}

/// One column of the record schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default = "default_nullable")]
    pub nullable: bool,
    /// Unit of bare numbers in a timestamp field (ignored for other types).
    #[serde(default)]
    pub unit: EpochUnit,
}

fn default_nullable() -> bool {
    true
}

/// The record schema: ordered fields and the optional event-time field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Schema {
    pub fields: Vec<Field>,
    #[serde(default)]
    pub event_time: Option<String>,
}

impl Schema {
    /// Parses and checks a schema from its JSON description.
    pub fn from_json(json: &str) -> Result<Schema, SchemaError> {
        let schema: Schema =
            serde_json::from_str(json).map_err(|e| SchemaError::Json(e.to_string()))?;
        schema.validate()?;
        Ok(schema)
    }

    /// Checks names are unique and non-empty and the event-time field is a
    /// non-nullable timestamp.
    pub fn validate(&self) -> Result<(), SchemaError> {
        if self.fields.is_empty() {
            return Err(SchemaError::NoFields);
        }
        let mut seen = HashSet::new();
        for (index, f) in self.fields.iter().enumerate() {
            if f.name.is_empty() {
                return Err(SchemaError::EmptyName { index });
            }
            if !seen.insert(f.name.as_str()) {
                return Err(SchemaError::DuplicateField {
                    index,
                    name: f.name.clone(),
                });
            }
        }
        if let Some(et) = &self.event_time {
            let f = self
                .field(et)
                .ok_or_else(|| SchemaError::UnknownEventTime(et.clone()))?;
            if f.ty != FieldType::Timestamp {
                return Err(SchemaError::EventTimeNotTimestamp(et.clone()));
            }
            if f.nullable {
                return Err(SchemaError::EventTimeNullable(et.clone()));
            }
        }
        Ok(())
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Index of the event-time column, if the schema names one.
    pub fn event_time_index(&self) -> Option<usize> {
        self.event_time.as_deref().and_then(|n| self.index_of(n))
    }

    /// The Arrow schema of parsed record batches.
    pub fn arrow_schema(&self) -> SchemaRef {
        let fields: Vec<ArrowField> = self
            .fields
            .iter()
            .map(|f| ArrowField::new(&f.name, f.ty.arrow_type(), f.nullable))
            .collect();
        Arc::new(ArrowSchema::new(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_schema() {
        let s = Schema::from_json(
            r#"{"fields":[{"name":"ts","type":"timestamp","nullable":false},{"name":"v","type":"float64"}],"eventTime":"ts"}"#,
        )
        .unwrap();
        assert_eq!(s.event_time_index(), Some(0));
        assert_eq!(s.arrow_schema().fields().len(), 2);
        assert!(s.fields[1].nullable);
    }

    #[test]
    fn rejects_duplicates_and_bad_event_time() {
        let dup = r#"{"fields":[{"name":"a","type":"int64"},{"name":"a","type":"bool"}]}"#;
        assert_eq!(
            Schema::from_json(dup).unwrap_err(),
            SchemaError::DuplicateField {
                index: 1,
                name: "a".into()
            }
        );
        let et = r#"{"fields":[{"name":"a","type":"int64"}],"eventTime":"a"}"#;
        assert!(matches!(
            Schema::from_json(et),
            Err(SchemaError::EventTimeNotTimestamp(_))
        ));
        let unknown = r#"{"fields":[{"name":"a","type":"decimal"}]}"#;
        assert!(matches!(
            Schema::from_json(unknown),
            Err(SchemaError::Json(_))
        ));
    }
}
