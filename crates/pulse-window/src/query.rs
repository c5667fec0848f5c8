//! Query: assemble windows from panes (or sessions from fragments), merge
//! their states, finalise the measures.
//!
//! Windows are selected by start in `[from, to)`; equality filters on group
//! fields; `granularity_ms` re-buckets tumbling windows (states merged, so
//! 1m states roll up to exactly the 1h answer); the output is sorted by
//! window start, then group key, and cut at `limit`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMillisecondType};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Deserializer};
use smallvec::{smallvec, SmallVec};

use crate::keys::{hash_key, BatchKeys};
use crate::measure::{Final, FinalColumn, Measure, ValueType};
use crate::pane::Pane;
use crate::sketch::BucketValues;
use crate::state::ViewState;
use crate::view::Kind;
use crate::WindowError;

/// A query over a view state.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Query {
    /// Inclusive lower bound of window starts (ms); default: unbounded.
    #[serde(default = "min_time")]
    pub from: i64,
    /// Exclusive upper bound of window starts (ms); default: unbounded.
    #[serde(default = "max_time")]
    pub to: i64,
    /// Equality filters `(group field, value as text)`; JSON: an object or a
    /// list of pairs.
    #[serde(default, deserialize_with = "groups_from_json")]
    pub groups: Vec<(String, String)>,
    /// Rollup bucket for tumbling views: a multiple of the window size.
    #[serde(default)]
    pub granularity_ms: Option<i64>,
    #[serde(default)]
    pub limit: Option<usize>,
}

fn min_time() -> i64 {
    i64::MIN
}

fn max_time() -> i64 {
    i64::MAX
}

impl Default for Query {
    fn default() -> Self {
        Query {
            from: i64::MIN,
            to: i64::MAX,
            groups: Vec::new(),
            granularity_ms: None,
            limit: None,
        }
    }
}

impl Query {
    /// Parses a query from JSON (`{ "from", "to", "groups", "granularityMs", "limit" }`).
    pub fn from_json(s: &str) -> Result<Query, String> {
        serde_json::from_str(s).map_err(|e| format!("invalid query JSON: {e}"))
    }
}

fn groups_from_json<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Groups {
        Map(std::collections::BTreeMap<String, String>),
        Pairs(Vec<(String, String)>),
    }
    Ok(match Groups::deserialize(d)? {
        Groups::Map(m) => m.into_iter().collect(),
        Groups::Pairs(p) => p,
    })
}

/// A typed filter value, parsed from its text.
#[derive(Debug, Clone, PartialEq)]
enum Wanted {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// One filter: group column index and the value it must equal.
type Filter = (usize, Wanted);

/// The equality filters of a query. When they fix every group field, the
/// one key they name is also kept encoded (with its hash), so each pane is
/// probed once instead of decoding and comparing all of its keys.
struct Filters {
    list: Vec<Filter>,
    exact: Option<(u64, Vec<u8>)>,
}

/// One pane of a tumbling query: its kept key ids in storage order, and
/// the output order as positions in that list.
struct TumblingPane<'a> {
    start: i64,
    pane: &'a Pane,
    stored: Vec<u32>,
    order: Vec<u32>,
}

/// One output window before its states are merged: where it lies, its key,
/// and the (pane, entry) states it is made of.
struct Window<'a> {
    start: i64,
    end: i64,
    key: &'a [u8],
    parts: SmallVec<[(&'a Pane, u32); 1]>,
}

/// Byte order of two encoded keys, eight bytes per step (as big-endian
/// words, which order like their bytes): keys are short, and a `memcmp`
/// call per comparison cost more than comparing them.
#[inline]
fn key_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let (mut a, mut b) = (a, b);
    while a.len() >= 8 && b.len() >= 8 {
        let x = u64::from_be_bytes(a[..8].try_into().unwrap());
        let y = u64::from_be_bytes(b[..8].try_into().unwrap());
        if x != y {
            return x.cmp(&y);
        }
        (a, b) = (&a[8..], &b[8..]);
    }
    a.cmp(b)
}

/// Fills `by_prefix` with `(prefix, position in stored)` for the keys
/// `stored` of `pane`, in key order: plain integer pairs first (a fully
/// inlined sort), then full keys only within runs of equal prefixes.
fn sort_keys(pane: &Pane, stored: &[u32], by_prefix: &mut Vec<(u64, u32)>) {
    let key = |at: u32| pane.keys.key(stored[at as usize]);
    by_prefix.clear();
    by_prefix.extend((0..stored.len() as u32).map(|at| (key_prefix(key(at)), at)));
    by_prefix.sort_unstable();
    let mut i = 0;
    while i < by_prefix.len() {
        let mut j = i + 1;
        while j < by_prefix.len() && by_prefix[j].0 == by_prefix[i].0 {
            j += 1;
        }
        if j - i > 1 {
            by_prefix[i..j].sort_unstable_by(|a, b| key_order(key(a.1), key(b.1)));
        }
        i = j;
    }
}

/// The first eight bytes of a key as a big-endian word, zero-padded: when
/// two prefixes differ they order like the keys (a shorter key's padding
/// can only tie with, or sort before, a longer key's bytes).
#[inline]
fn key_prefix(key: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = key.len().min(8);
    word[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(word)
}

impl ViewState {
    fn query_err(&self, message: impl Into<String>) -> WindowError {
        WindowError::Query {
            view: self.def.name().to_string(),
            message: message.into(),
        }
    }

    /// The output schema of [`query`](Self::query).
    pub fn query_schema(&self) -> SchemaRef {
        let ts = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
        let mut fields = vec![
            Field::new("window_start", ts.clone(), false),
            Field::new("window_end", ts, false),
        ];
        fields.extend(self.def.group_fields.iter().cloned());
        fields.extend(self.def.measures.iter().map(|m| m.output_field()));
        Arc::new(Schema::new(fields))
    }

    /// Answers `q`: one row per window (session) and group key.
    pub fn query(&self, q: &Query) -> Result<RecordBatch, WindowError> {
        if q.from > q.to {
            return Err(self.query_err(format!("from ({}) is after to ({})", q.from, q.to)));
        }
        let list = self.parse_filters(&q.groups)?;
        let exact = self.exact_key(&list);
        let filters = Filters { list, exact };
        let mut windows = match (self.def.kind, q.granularity_ms) {
            (Kind::Tumbling { size }, None) => return self.tumbling(q, size, &filters),
            (Kind::Tumbling { size }, Some(g)) => {
                if g <= 0 || g % size != 0 {
                    return Err(self.query_err(format!(
                        "granularityMs must be a positive multiple of the window size {size}, got {g}"
                    )));
                }
                self.rolled_windows(q, g, &filters)?
            }
            (_, Some(_)) => {
                return Err(self.query_err("granularityMs applies to tumbling views only"))
            }
            (Kind::Hopping { size, slide }, None) => {
                self.hopping_windows(q, size, slide, &filters)?
            }
            (Kind::Session { gap }, None) => self.session_windows(q, gap, &filters)?,
        };
        windows
            .sort_unstable_by(|a, b| a.start.cmp(&b.start).then_with(|| key_order(a.key, b.key)));
        if let Some(limit) = q.limit {
            windows.truncate(limit);
        }
        self.finish(&windows)
    }

    /// Checks and types the equality filters.
    fn parse_filters(&self, groups: &[(String, String)]) -> Result<Vec<Filter>, WindowError> {
        let mut out = Vec::new();
        for (name, text) in groups {
            let idx = self
                .def
                .group_fields
                .iter()
                .position(|f| f.name() == name)
                .ok_or_else(|| {
                    self.query_err(format!("'{name}' is not a group field of this view"))
                })?;
            let dt = self.def.group_fields[idx].data_type();
            let bad =
                |what: &str| self.query_err(format!("value '{text}' for '{name}' is not {what}"));
            let wanted = match ValueType::of(dt) {
                Some(ValueType::Utf8) => Wanted::Str(text.clone()),
                Some(ValueType::Int64) => {
                    Wanted::Int(text.trim().parse().map_err(|_| bad("an int64"))?)
                }
                Some(ValueType::Float64) => {
                    Wanted::Float(text.trim().parse().map_err(|_| bad("a float64"))?)
                }
                Some(ValueType::Bool) => Wanted::Bool(match text.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad("true or false")),
                }),
                Some(ValueType::Timestamp(_)) => {
                    let b = text.trim().as_bytes();
                    Wanted::Int(
                        pulse_schema::parse_iso8601(b)
                            .or_else(|| pulse_schema::parse_epoch(b, pulse_schema::EpochUnit::Ms))
                            .ok_or_else(|| {
                                bad("a timestamp (ISO-8601 with offset, or epoch ms)")
                            })?,
                    )
                }
                None => return Err(bad("comparable")),
            };
            out.push((idx, wanted));
        }
        Ok(out)
    }

    /// The encoded key (and its hash) that filters fixing every group field
    /// name; `None` when some field is free, a value is a float (whose
    /// equality is not byte equality), or the value cannot be encoded.
    fn exact_key(&self, filters: &[Filter]) -> Option<(u64, Vec<u8>)> {
        let fields = &self.def.group_fields;
        if fields.is_empty() || filters.len() != fields.len() {
            return None;
        }
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter().enumerate() {
            let (_, wanted) = filters.iter().find(|(idx, _)| *idx == i)?;
            let col: ArrayRef = match (wanted, field.data_type()) {
                (Wanted::Str(s), DataType::Utf8) => Arc::new(StringArray::from(vec![s.as_str()])),
                (Wanted::Int(v), DataType::Int64) => Arc::new(Int64Array::from(vec![*v])),
                (Wanted::Int(v), DataType::Timestamp(TimeUnit::Millisecond, tz)) => Arc::new(
                    TimestampMillisecondArray::from(vec![*v]).with_timezone_opt(tz.clone()),
                ),
                (Wanted::Bool(b), DataType::Boolean) => Arc::new(BooleanArray::from(vec![*b])),
                _ => return None,
            };
            cols.push(col);
        }
        match self.def.keys.encode_columns(&cols).ok()? {
            BatchKeys::Rows(rows) => {
                let key = rows.row(0).data().to_vec();
                Some((hash_key(&key), key))
            }
            BatchKeys::Ungrouped => None,
        }
    }

    /// Which key ids of `pane` pass the filters (`None`: all of them).
    fn matching_keys(
        &self,
        pane: &Pane,
        filters: &Filters,
    ) -> Result<Option<Vec<bool>>, WindowError> {
        if filters.list.is_empty() {
            return Ok(None);
        }
        if let Some((hash, key)) = &filters.exact {
            let mut ok = vec![false; pane.keys.len()];
            if let Some(id) = pane.keys.find(*hash, key) {
                ok[id as usize] = true;
            }
            return Ok(Some(ok));
        }
        let filters = &filters.list;
        let cols = self
            .def
            .keys
            .decode((0..pane.keys.len() as u32).map(|k| pane.keys.key(k)))
            .map_err(|e| self.query_err(format!("decoding group keys: {e}")))?;
        let mut ok = vec![true; pane.keys.len()];
        for (idx, wanted) in filters {
            let col = &cols[*idx];
            for (k, flag) in ok.iter_mut().enumerate() {
                *flag = *flag && col.is_valid(k) && value_equals(col, k, wanted);
            }
        }
        Ok(Some(ok))
    }

    /// Tumbling windows are panes: each pane in range gives one row per
    /// kept key, its keys sorted in cache ([`sort_keys`]). Rows are built
    /// pane by pane: a measure's
    /// states are finalised in storage order (front to back through the
    /// pane's column, which the cache streams), then placed in key order,
    /// with nothing to merge and no window list in between.
    fn tumbling(
        &self,
        q: &Query,
        size: i64,
        filters: &Filters,
    ) -> Result<RecordBatch, WindowError> {
        let def = &*self.def;
        let limit = q.limit.unwrap_or(usize::MAX);
        let mut panes: Vec<TumblingPane<'_>> = Vec::new();
        let mut rows = 0usize;
        let mut by_prefix: Vec<(u64, u32)> = Vec::new();
        for (&start, pane) in self.panes.range(q.from..q.to) {
            if rows >= limit {
                break;
            }
            let keep = self.matching_keys(pane, filters)?;
            let stored: Vec<u32> = (0..pane.keys.len() as u32)
                .filter(|&k| keep.as_ref().is_none_or(|m| m[k as usize]))
                .collect();
            sort_keys(pane, &stored, &mut by_prefix);
            let take = by_prefix.len().min(limit - rows);
            rows += take;
            let order = by_prefix[..take].iter().map(|&(_, at)| at).collect();
            panes.push(TumblingPane {
                start,
                pane,
                stored,
                order,
            });
        }
        let mut starts = Vec::with_capacity(rows);
        let mut ends = Vec::with_capacity(rows);
        for p in &panes {
            starts.extend(std::iter::repeat_n(p.start, p.order.len()));
            ends.extend(std::iter::repeat_n(p.start + size, p.order.len()));
        }
        let starts = TimestampMillisecondArray::new(starts.into(), None).with_timezone("UTC");
        let ends = TimestampMillisecondArray::new(ends.into(), None).with_timezone("UTC");
        let mut columns: Vec<ArrayRef> = vec![Arc::new(starts), Arc::new(ends)];
        let keys = def
            .keys
            .decode(panes.iter().flat_map(|p| {
                p.order
                    .iter()
                    .map(|&at| p.pane.keys.key(p.stored[at as usize]))
            }))
            .map_err(|e| self.query_err(format!("decoding group keys: {e}")))?;
        columns.extend(keys);
        let mut finals: Vec<Final> = Vec::new();
        for m in &def.measures {
            let mut memo = BucketValues::default();
            let mut values = FinalColumn::new(m, rows);
            for p in &panes {
                let col = &p.pane.columns[m.state];
                finals.clear();
                for &k in &p.stored {
                    finals.push(
                        m.final_value(col, k as usize, &mut memo)
                            .map_err(|message| self.overflow(m, message))?,
                    );
                }
                for &at in &p.order {
                    values.push(finals[at as usize]);
                }
            }
            columns.push(values.finish());
        }
        RecordBatch::try_new(self.query_schema(), columns).map_err(|e| WindowError::Arrow {
            view: def.name().to_string(),
            source: e,
        })
    }

    fn overflow(&self, m: &Measure, message: String) -> WindowError {
        WindowError::Overflow {
            view: self.def.name().to_string(),
            measure: m.name.clone(),
            message,
        }
    }

    fn rolled_windows<'a>(
        &'a self,
        q: &Query,
        g: i64,
        filters: &Filters,
    ) -> Result<Vec<Window<'a>>, WindowError> {
        // Pane p rolls into bucket ⌊p/g⌋·g, which must lie in [from, to).
        let lo = ceil_to(q.from, g);
        let hi = ceil_to(q.to, g);
        let mut index: HashMap<(i64, &[u8]), usize> = HashMap::new();
        let mut out: Vec<Window<'a>> = Vec::new();
        if lo >= hi {
            return Ok(out);
        }
        for (&start, pane) in self.panes.range(lo..hi) {
            let bucket = start - start.rem_euclid(g);
            let keep = self.matching_keys(pane, filters)?;
            for k in 0..pane.keys.len() as u32 {
                if keep.as_ref().is_some_and(|m| !m[k as usize]) {
                    continue;
                }
                let key = pane.keys.key(k);
                let at = *index.entry((bucket, key)).or_insert_with(|| {
                    out.push(Window {
                        start: bucket,
                        end: bucket + g,
                        key,
                        parts: SmallVec::new(),
                    });
                    out.len() - 1
                });
                out[at].parts.push((pane, k));
            }
        }
        Ok(out)
    }

    fn hopping_windows<'a>(
        &'a self,
        q: &Query,
        size: i64,
        slide: i64,
        filters: &Filters,
    ) -> Result<Vec<Window<'a>>, WindowError> {
        // A window [s, s + size) with s in [from, to) holds panes starting in
        // [from, to + size).
        let mut index: HashMap<(i64, &[u8]), usize> = HashMap::new();
        let mut out: Vec<Window<'a>> = Vec::new();
        let upper = q.to.saturating_add(size);
        for (&p, pane) in self.panes.range(q.from..upper) {
            let keep = self.matching_keys(pane, filters)?;
            // Window starts s ≡ 0 (mod slide) with s ≤ p < s + size.
            let mut s = p - p.rem_euclid(slide);
            while s > p - size {
                if s >= q.from && s < q.to {
                    for k in 0..pane.keys.len() as u32 {
                        if keep.as_ref().is_some_and(|m| !m[k as usize]) {
                            continue;
                        }
                        let key = pane.keys.key(k);
                        let at = *index.entry((s, key)).or_insert_with(|| {
                            out.push(Window {
                                start: s,
                                end: s + size,
                                key,
                                parts: SmallVec::new(),
                            });
                            out.len() - 1
                        });
                        out[at].parts.push((pane, k));
                    }
                }
                s -= slide;
            }
        }
        Ok(out)
    }

    /// Joins each key's fragments across cells into sessions: fragments
    /// sorted by first event join while the next starts less than `gap`
    /// after the last event so far, exactly as sessionising the events.
    fn session_windows<'a>(
        &'a self,
        q: &Query,
        gap: i64,
        filters: &Filters,
    ) -> Result<Vec<Window<'a>>, WindowError> {
        type Frag<'a> = (i64, i64, &'a Pane, u32);
        let mut by_key: HashMap<&'a [u8], Vec<Frag<'a>>> = HashMap::new();
        for pane in self.panes.values() {
            let keep = self.matching_keys(pane, filters)?;
            for (entry, key, first, last) in pane.entries() {
                if keep.as_ref().is_some_and(|m| !m[key as usize]) {
                    continue;
                }
                by_key
                    .entry(pane.keys.key(key))
                    .or_default()
                    .push((first, last, pane, entry));
            }
        }
        let mut out = Vec::new();
        for (key, mut frags) in by_key {
            frags.sort_unstable_by_key(|f| (f.0, f.1));
            let mut current: Option<Window<'a>> = None;
            let mut last = i64::MIN;
            for (first, f_last, pane, entry) in frags {
                match current.as_mut() {
                    Some(w) if first - last < gap => {
                        last = last.max(f_last);
                        w.parts.push((pane, entry));
                    }
                    _ => {
                        if let Some(mut w) = current.take() {
                            w.end = last + gap;
                            if w.start >= q.from && w.start < q.to {
                                out.push(w);
                            }
                        }
                        last = f_last;
                        current = Some(Window {
                            start: first,
                            end: 0,
                            key,
                            parts: smallvec![(pane, entry)],
                        });
                    }
                }
            }
            if let Some(mut w) = current {
                w.end = last + gap;
                if w.start >= q.from && w.start < q.to {
                    out.push(w);
                }
            }
        }
        Ok(out)
    }

    /// Merges each window's states and builds the output batch, one row
    /// per window in the order given.
    fn finish(&self, windows: &[Window<'_>]) -> Result<RecordBatch, WindowError> {
        let def = &*self.def;
        let schema = self.query_schema();
        let starts = TimestampMillisecondArray::from_iter_values(windows.iter().map(|w| w.start))
            .with_timezone("UTC");
        let ends = TimestampMillisecondArray::from_iter_values(windows.iter().map(|w| w.end))
            .with_timezone("UTC");
        let mut columns: Vec<ArrayRef> = vec![Arc::new(starts), Arc::new(ends)];
        let keys = def
            .keys
            .decode(windows.iter().map(|w| w.key))
            .map_err(|e| self.query_err(format!("decoding group keys: {e}")))?;
        columns.extend(keys);
        for m in &def.measures {
            let mut memo = BucketValues::default();
            let mut finalise = |w: &Window| match w.parts.as_slice() {
                // One pane: finalise in place, nothing to merge.
                [(pane, entry)] => {
                    m.final_value(&pane.columns[m.state], *entry as usize, &mut memo)
                }
                parts => {
                    let mut acc = m.new_column();
                    acc.push_empty(m);
                    for (pane, entry) in parts {
                        acc.merge_entry(0, &pane.columns[m.state], *entry as usize, m);
                    }
                    m.final_value(&acc, 0, &mut memo)
                }
            };
            let mut values = FinalColumn::new(m, windows.len());
            for w in windows {
                values.push(finalise(w).map_err(|message| self.overflow(m, message))?);
            }
            columns.push(values.finish());
        }
        RecordBatch::try_new(schema, columns).map_err(|e| WindowError::Arrow {
            view: def.name().to_string(),
            source: e,
        })
    }
}

/// Smallest multiple of `g` at or above `x` (saturating at the i64 ends).
fn ceil_to(x: i64, g: i64) -> i64 {
    let r = x.rem_euclid(g);
    if r == 0 {
        x
    } else {
        x.checked_add(g - r)
            .unwrap_or(i64::MAX - i64::MAX.rem_euclid(g))
    }
}

fn value_equals(col: &ArrayRef, k: usize, wanted: &Wanted) -> bool {
    match (col.data_type(), wanted) {
        (DataType::Utf8, Wanted::Str(s)) => col.as_string::<i32>().value(k) == s,
        (DataType::Int64, Wanted::Int(v)) => col.as_primitive::<Int64Type>().value(k) == *v,
        (DataType::Timestamp(..), Wanted::Int(v)) => {
            col.as_primitive::<TimestampMillisecondType>().value(k) == *v
        }
        (DataType::Float64, Wanted::Float(v)) => col.as_primitive::<Float64Type>().value(k) == *v,
        (DataType::Boolean, Wanted::Bool(v)) => col.as_boolean().value(k) == *v,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{key_order, key_prefix};

    #[test]
    fn key_order_is_byte_order() {
        let keys: Vec<Vec<u8>> = (0..400u32)
            .map(|i| {
                let len = (i % 23) as usize;
                (0..len)
                    .map(|j| ((i * 31 + j as u32 * 7) % 5) as u8 * 60)
                    .collect()
            })
            .collect();
        for a in &keys {
            for b in &keys {
                assert_eq!(key_order(a, b), a.cmp(b), "{a:?} vs {b:?}");
                let (pa, pb) = (key_prefix(a), key_prefix(b));
                if pa != pb {
                    assert_eq!(pa.cmp(&pb), a.cmp(b), "prefixes of {a:?} vs {b:?}");
                }
            }
        }
    }
}
