//! A view compiled against its input schema: column indices, key codec,
//! measures, and the stable definition hash that snapshots and manifests
//! record.

use arrow_schema::{DataType, Field, SchemaRef, TimeUnit};
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_128;

use crate::keys::KeyCodec;
use crate::measure::{share_states, Measure, ValueType};
use crate::spec::{ViewSpec, WindowSpec};
use crate::WindowError;

/// How event time maps to panes and windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tumbling { size: i64 },
    Hopping { size: i64, slide: i64 },
    Session { gap: i64 },
}

#[derive(Debug)]
pub(crate) struct ViewDef {
    pub(crate) spec: ViewSpec,
    pub(crate) input: SchemaRef,
    pub(crate) event_time: usize,
    pub(crate) kind: Kind,
    /// Pane length = alignment (tumbling size, hopping gcd, session grid).
    pub(crate) pane_ms: i64,
    pub(crate) keys: KeyCodec,
    /// Output fields of the group columns, typed like the input.
    pub(crate) group_fields: Vec<Field>,
    pub(crate) measures: Vec<Measure>,
    /// The measures owning a column of pane states, in column order: what
    /// panes are built, updated and merged with (`measure::share_states`).
    pub(crate) states: Vec<Measure>,
    pub(crate) hash: String,
}

/// The canonical form hashed for [`ViewDef::hash`]: everything that shapes
/// the state, nothing that does not (the view's own name, JSON formatting).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Canonical<'a> {
    layout: u32,
    window: &'a str,
    size_ms: i64,
    slide_ms: i64,
    gap_ms: i64,
    pane_ms: i64,
    event_time: &'a str,
    group_by: Vec<(&'a str, &'static str)>,
    measures: Vec<CanonicalMeasure<'a>>,
    filter: Option<&'a str>,
}

#[derive(Serialize)]
struct CanonicalMeasure<'a> {
    name: &'a str,
    op: &'static str,
    field: Option<(&'a str, &'static str)>,
    precision: u8,
    q: f64,
    relative_accuracy: f64,
}

impl ViewDef {
    pub(crate) fn compile(
        input: SchemaRef,
        event_time: &str,
        spec: ViewSpec,
    ) -> Result<ViewDef, WindowError> {
        spec.validate()?;
        let schema_err = |message: String| WindowError::Schema {
            view: spec.name.clone(),
            message,
        };
        let et = input.index_of(event_time).map_err(|_| {
            schema_err(format!(
                "event-time field '{event_time}' is not in the input schema"
            ))
        })?;
        match input.field(et).data_type() {
            DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Int64 => {}
            other => {
                return Err(schema_err(format!(
                    "event-time field '{event_time}' must be a millisecond timestamp, got {other}"
                )))
            }
        }
        let mut columns = Vec::new();
        let mut types = Vec::new();
        let mut group_fields = Vec::new();
        let mut group_types = Vec::new();
        for (i, g) in spec.group_by.iter().enumerate() {
            let idx = input
                .index_of(g)
                .map_err(|_| schema_err(format!("groupBy[{i}]: unknown field '{g}'")))?;
            let dt = input.field(idx).data_type();
            let vt = ValueType::of(dt).ok_or_else(|| {
                schema_err(format!(
                    "groupBy[{i}]: field '{g}' has unsupported type {dt}"
                ))
            })?;
            columns.push(idx);
            types.push(dt.clone());
            group_fields.push(Field::new(g, dt.clone(), true));
            group_types.push(vt);
        }
        let keys =
            KeyCodec::new(columns, types).map_err(|e| schema_err(format!("group key: {e}")))?;
        let mut measures = spec
            .measures
            .iter()
            .enumerate()
            .map(|(i, m)| Measure::compile(m, &input, i).map_err(&schema_err))
            .collect::<Result<Vec<_>, _>>()?;
        let (kind, size, slide, gap) = match spec.window {
            WindowSpec::Tumbling { size_ms } => (Kind::Tumbling { size: size_ms }, size_ms, 0, 0),
            WindowSpec::Hopping { size_ms, slide_ms } => (
                Kind::Hopping {
                    size: size_ms,
                    slide: slide_ms,
                },
                size_ms,
                slide_ms,
                0,
            ),
            WindowSpec::Session { gap_ms, .. } => (Kind::Session { gap: gap_ms }, 0, 0, gap_ms),
        };
        let pane_ms = spec.window.pane_ms();
        let window = match kind {
            Kind::Tumbling { .. } => "tumbling",
            Kind::Hopping { .. } => "hopping",
            Kind::Session { .. } => "session",
        };
        let canonical = Canonical {
            layout: 1,
            window,
            size_ms: size,
            slide_ms: slide,
            gap_ms: gap,
            pane_ms,
            event_time,
            group_by: spec
                .group_by
                .iter()
                .zip(&group_types)
                .map(|(g, t)| (g.as_str(), t.name()))
                .collect(),
            measures: measures
                .iter()
                .map(|m| CanonicalMeasure {
                    name: &m.name,
                    op: m.op.name(),
                    field: m
                        .spec
                        .field
                        .as_deref()
                        .zip(m.field.as_ref().map(|(_, t)| t.name())),
                    precision: m.precision,
                    q: m.q,
                    relative_accuracy: m.dd.relative_accuracy(),
                })
                .collect(),
            filter: spec.filter.as_deref(),
        };
        let json = serde_json::to_string(&canonical).expect("canonical view serialises");
        let hash = format!("{:032x}", xxh3_128(json.as_bytes()));
        let states = share_states(&mut measures);
        Ok(ViewDef {
            event_time: et,
            kind,
            pane_ms,
            keys,
            group_fields,
            measures,
            states,
            hash,
            input,
            spec,
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.spec.name
    }

    pub(crate) fn is_session(&self) -> bool {
        matches!(self.kind, Kind::Session { .. })
    }

    /// Session gap (0 for other kinds).
    pub(crate) fn gap(&self) -> i64 {
        match self.kind {
            Kind::Session { gap } => gap,
            _ => 0,
        }
    }

    /// Start of the pane holding event time `t` (aligned to the epoch).
    #[inline]
    pub(crate) fn pane_start(&self, t: i64) -> i64 {
        t - t.rem_euclid(self.pane_ms)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::Schema;

    use super::*;

    #[test]
    fn measures_with_identical_states_share_one_column() {
        let input = Arc::new(Schema::new(vec![
            Field::new("ts", DataType::Int64, false),
            Field::new("t", DataType::Float64, true),
            Field::new("u", DataType::Utf8, true),
        ]));
        let spec = ViewSpec::from_json(
            r#"{ "name": "v", "window": { "type": "tumbling", "sizeMs": 60000 }, "groupBy": [],
                 "measures": [
                   { "name": "s", "op": "sum", "field": "t" },
                   { "name": "a", "op": "avg", "field": "t" },
                   { "name": "p50", "op": "quantile", "field": "t", "q": 0.5 },
                   { "name": "p99", "op": "quantile", "field": "t", "q": 0.99 },
                   { "name": "p99f", "op": "quantile", "field": "t", "q": 0.99, "relativeAccuracy": 0.001 },
                   { "name": "u10", "op": "distinct", "field": "u", "precision": 10 },
                   { "name": "u12", "op": "distinct", "field": "u", "precision": 12 },
                   { "name": "n", "op": "count" },
                   { "name": "nt", "op": "count", "field": "t" },
                   { "name": "lo", "op": "min", "field": "t" },
                   { "name": "hi", "op": "max", "field": "t" }
                 ] }"#,
        )
        .unwrap();
        let def = ViewDef::compile(input, "ts", spec).unwrap();
        let placed: Vec<(usize, bool)> = def.measures.iter().map(|m| (m.state, m.shares)).collect();
        assert_eq!(
            placed,
            vec![
                (0, false),
                (0, true),
                (1, false),
                (1, true),
                (2, false),
                (3, false),
                (4, false),
                (5, false),
                (6, false),
                (7, false),
                (8, false)
            ]
        );
        let owners: Vec<&str> = def.states.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            owners,
            ["s", "p50", "p99f", "u10", "u12", "n", "nt", "lo", "hi"]
        );
    }
}
