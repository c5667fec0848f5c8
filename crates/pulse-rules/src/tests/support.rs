//! Shared test fixtures: a schema with every field type, a batch builder,
//! and a seeded generator of random rows, expressions and rule sets.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde_json::{json, Value};

pub const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

pub fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// i, j: int64 · f: float64 · b: bool · s, u: string · t, t2: timestamp.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("i", DataType::Int64, true),
        Field::new("j", DataType::Int64, true),
        Field::new("f", DataType::Float64, true),
        Field::new("b", DataType::Boolean, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("u", DataType::Utf8, true),
        Field::new("t", ts_type(), true),
        Field::new("t2", ts_type(), true),
    ]))
}

#[derive(Debug, Clone, Default)]
pub struct Row {
    pub i: Option<i64>,
    pub j: Option<i64>,
    pub f: Option<f64>,
    pub b: Option<bool>,
    pub s: Option<String>,
    pub u: Option<String>,
    pub t: Option<i64>,
    pub t2: Option<i64>,
}

pub fn batch(rows: &[Row]) -> RecordBatch {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.i).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.j).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.f).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.b).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.s.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.u.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(
            TimestampMillisecondArray::from(rows.iter().map(|r| r.t).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(
            TimestampMillisecondArray::from(rows.iter().map(|r| r.t2).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
    ];
    RecordBatch::try_new(schema(), cols).unwrap()
}

/// splitmix64: a tiny seeded generator, so a failing case is one `u64`.
pub struct Gen(u64);

const ALPHABET: [char; 12] = ['a', 'b', 'A', 'B', 'é', 'ß', '😀', '1', '7', '-', ' ', '.'];
const REGEXES: [&str; 9] = [
    "^a", "b$", "[a-c]+", "^[0-9]+$", "é|ß", "^$", "a.b", "(ab)*c?", "^[A-Z]",
];

impl Gen {
    pub fn new(seed: u64) -> Self {
        Gen(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    pub fn int(&mut self) -> i64 {
        match self.below(10) {
            0 => *self.pick(&[i64::MAX, i64::MIN, i64::MAX - 1, 1 << 62]),
            1..=3 => self.below(7) as i64 - 3,
            _ => self.below(201) as i64 - 100,
        }
    }

    pub fn float(&mut self) -> f64 {
        match self.below(8) {
            0 => *self.pick(&[0.0, -0.0, 1e300, -1e300, f64::NAN, 0.1]),
            1..=2 => (self.below(9) as f64 - 4.0) / 2.0,
            _ => (self.below(20001) as f64 - 10000.0) / 100.0,
        }
    }

    pub fn string(&mut self) -> String {
        let len = self.below(5);
        (0..len).map(|_| *self.pick(&ALPHABET)).collect()
    }

    pub fn ts(&mut self) -> i64 {
        T0 + self.below(5) as i64 * 1000 - 2000
    }

    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.chance(20) {
            None
        } else {
            Some(f(self))
        }
    }

    pub fn row(&mut self) -> Row {
        Row {
            i: self.opt(Self::int),
            j: self.opt(Self::int),
            f: self.opt(Self::float),
            b: self.opt(|g| g.chance(50)),
            s: self.opt(Self::string),
            u: self.opt(Self::string),
            t: self.opt(Self::ts),
            t2: self.opt(Self::ts),
        }
    }

    pub fn rows(&mut self, max: usize) -> Vec<Row> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.row()).collect()
    }

    /// An int literal as expression text (`i64::MIN` has no literal form).
    fn int_lit(&mut self) -> String {
        match self.int() {
            i64::MIN => "(-9223372036854775807 - 1)".into(),
            v if v < 0 => format!("({v})"),
            v => v.to_string(),
        }
    }

    fn str_lit(&mut self) -> String {
        format!("'{}'", self.string().replace('\'', "''"))
    }

    fn iso(&mut self) -> String {
        let ms = self.ts();
        format!("'{}'", pulse_schema::format_iso_ms(ms))
    }

    fn kw(&mut self, k: &str) -> String {
        if self.chance(30) {
            k.to_uppercase()
        } else {
            k.to_string()
        }
    }

    /// A random well-typed boolean expression.
    pub fn boolean(&mut self, depth: u32) -> String {
        let leaf = depth == 0;
        match self.below(if leaf { 4 } else { 16 }) {
            0 => "b".into(),
            1 => self.pick(&["true", "false", "null", "b"]).to_string(),
            2 => format!(
                "{} {} {}",
                self.pick(&["i", "j"]),
                self.cmp_op(),
                self.int_lit()
            ),
            3 => format!(
                "{} {} {}",
                self.pick(&["s", "u"]),
                self.cmp_op(),
                self.str_lit()
            ),
            4 => format!(
                "{} {} {}",
                self.int_expr(depth - 1),
                self.cmp_op(),
                self.int_expr(depth - 1)
            ),
            5 => format!(
                "{} {} {}",
                self.float_expr(depth - 1),
                self.cmp_op(),
                self.int_expr(depth - 1)
            ),
            6 => format!(
                "{} {} {}",
                self.str_expr(depth - 1),
                self.cmp_op(),
                self.str_expr(depth - 1)
            ),
            7 => {
                let rhs = if self.chance(50) {
                    self.iso()
                } else {
                    self.ts_expr(depth - 1)
                };
                format!("{} {} {}", self.ts_expr(depth - 1), self.cmp_op(), rhs)
            }
            8 => format!(
                "({}) {} ({})",
                self.boolean(depth - 1),
                self.pick(&["=", "!=", "<>"]),
                self.boolean(depth - 1)
            ),
            9 => {
                let not = if self.chance(40) {
                    self.kw("not ")
                } else {
                    String::new()
                };
                format!(
                    "{} {}{}",
                    self.any_expr(depth - 1),
                    self.kw("is "),
                    not + &self.kw("null")
                )
            }
            10 => {
                let not = if self.chance(40) {
                    self.kw("not ")
                } else {
                    String::new()
                };
                let (lhs, items) = self.in_list(depth - 1);
                format!("{lhs} {not}{} ({items})", self.kw("in"))
            }
            11 => {
                let not = if self.chance(40) {
                    self.kw("not ")
                } else {
                    String::new()
                };
                let (x, lo, hi) = match self.below(3) {
                    0 => (
                        self.int_expr(depth - 1),
                        self.int_expr(depth - 1),
                        self.int_expr(depth - 1),
                    ),
                    1 => (self.float_expr(depth - 1), self.int_lit(), self.float_lit()),
                    _ => (self.ts_expr(depth - 1), self.iso(), self.ts_expr(depth - 1)),
                };
                format!(
                    "{x} {not}{} {lo} {} {hi}",
                    self.kw("between"),
                    self.kw("and")
                )
            }
            12 => format!(
                "{} {} {}",
                self.boolean(depth - 1),
                self.kw("and"),
                self.boolean(depth - 1)
            ),
            13 => format!(
                "{} {} {}",
                self.boolean(depth - 1),
                self.kw("or"),
                self.boolean(depth - 1)
            ),
            14 => format!("{} ({})", self.kw("not"), self.boolean(depth - 1)),
            _ => {
                let f = self
                    .pick(&["starts_with", "ends_with", "contains", "STARTS_WITH"])
                    .to_string();
                let arg = if self.chance(60) {
                    self.str_lit()
                } else {
                    self.str_expr(depth - 1)
                };
                format!("{f}({}, {arg})", self.str_expr(depth - 1))
            }
        }
    }

    fn cmp_op(&mut self) -> &'static str {
        const OPS: [&str; 8] = ["=", "==", "!=", "<>", "<", "<=", ">", ">="];
        OPS[self.below(OPS.len())]
    }

    fn float_lit(&mut self) -> String {
        format!("{:.2}", (self.below(2001) as f64 - 1000.0) / 100.0)
    }

    fn in_list(&mut self, depth: u32) -> (String, String) {
        let n = 1 + self.below(4);
        let with_null = self.chance(20);
        let (lhs, mut items): (String, Vec<String>) = match self.below(5) {
            0 => (
                self.int_expr(depth),
                (0..n)
                    .map(|_| (self.below(41) as i64 - 20).to_string())
                    .collect(),
            ),
            1 => (
                self.float_expr(depth),
                (0..n).map(|_| self.float_lit()).collect(),
            ),
            2 => (
                self.str_expr(depth),
                (0..n).map(|_| self.str_lit()).collect(),
            ),
            3 => (
                self.ts_expr(depth),
                (0..n)
                    .map(|_| {
                        if self.chance(50) {
                            self.iso()
                        } else {
                            self.ts().to_string()
                        }
                    })
                    .collect(),
            ),
            _ => (
                "b".into(),
                (0..n)
                    .map(|_| self.pick(&["true", "false"]).to_string())
                    .collect(),
            ),
        };
        if with_null {
            items.push("null".into());
        }
        (lhs, items.join(", "))
    }

    pub fn int_expr(&mut self, depth: u32) -> String {
        if depth == 0 {
            return match self.below(3) {
                0 => self.int_lit(),
                _ => self.pick(&["i", "j"]).to_string(),
            };
        }
        let d = depth - 1;
        match self.below(9) {
            0..=2 => format!(
                "({} {} {})",
                self.int_expr(d),
                self.pick(&["+", "-", "*", "%"]),
                self.int_expr(d)
            ),
            3 => format!("abs({})", self.int_expr(d)),
            4 => format!("length({})", self.str_expr(d)),
            5 => format!("-{}", self.int_expr(d)),
            6 => format!("coalesce({}, {})", self.int_expr(d), self.int_expr(d)),
            7 => format!("({} - {})", self.ts_expr(d), self.ts_expr(d)),
            _ => self.int_expr(0),
        }
    }

    pub fn float_expr(&mut self, depth: u32) -> String {
        if depth == 0 {
            return match self.below(3) {
                0 => self.float_lit(),
                _ => "f".into(),
            };
        }
        let d = depth - 1;
        match self.below(7) {
            0 => format!("({} / {})", self.int_expr(d), self.int_expr(d)),
            1 => format!(
                "({} {} {})",
                self.float_expr(d),
                self.pick(&["+", "-", "*", "/", "%"]),
                self.int_expr(d)
            ),
            2 => format!(
                "({} {} {})",
                self.float_expr(d),
                self.pick(&["+", "-", "*", "/", "%"]),
                self.float_expr(d)
            ),
            3 => format!("abs({})", self.float_expr(d)),
            4 => format!("coalesce({}, {})", self.float_expr(d), self.int_expr(d)),
            5 => format!("-({})", self.float_expr(d)),
            _ => self.float_expr(0),
        }
    }

    pub fn str_expr(&mut self, depth: u32) -> String {
        if depth == 0 {
            return match self.below(3) {
                0 => self.str_lit(),
                _ => self.pick(&["s", "u"]).to_string(),
            };
        }
        let d = depth - 1;
        match self.below(5) {
            0 => format!("lower({})", self.str_expr(d)),
            1 => format!("UPPER({})", self.str_expr(d)),
            2 => format!("coalesce({}, {})", self.str_expr(d), self.str_expr(d)),
            _ => self.str_expr(0),
        }
    }

    pub fn ts_expr(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.pick(&["t", "t2", "\"t\""]).to_string();
        }
        let d = depth - 1;
        match self.below(5) {
            0 => format!("({} + {})", self.ts_expr(d), self.int_expr(d)),
            1 => format!("({} - {})", self.ts_expr(d), self.int_expr(d)),
            2 => format!("coalesce({}, {})", self.ts_expr(d), self.iso()),
            _ => self.ts_expr(0),
        }
    }

    fn any_expr(&mut self, depth: u32) -> String {
        match self.below(5) {
            0 => self.int_expr(depth),
            1 => self.float_expr(depth),
            2 => self.str_expr(depth),
            3 => self.ts_expr(depth),
            _ => format!("({})", self.boolean(depth)),
        }
    }

    /// A random rule set over [`schema`]: checks of every kind and derivations.
    pub fn rules(&mut self) -> Value {
        let n = 1 + self.below(7);
        let mut checks = Vec::new();
        for k in 0..n {
            let id = format!("r{k}");
            let severity = if self.chance(30) { "warn" } else { "error" };
            let mut c = match self.below(8) {
                0 => {
                    json!({ "field": self.pick(&["i", "f", "b", "s", "t"]).to_string(), "required": true })
                }
                1 => {
                    let mut r = serde_json::Map::new();
                    let (field, lo, hi): (&str, Value, Value) = match self.below(4) {
                        0 => ("i", json!(self.int()), json!(self.int())),
                        1 => (
                            "j",
                            json!(self.below(11) as f64 / 4.0 - 1.0),
                            json!(self.below(50)),
                        ),
                        2 => (
                            "f",
                            json!(self.float_lit().parse::<f64>().unwrap()),
                            json!(self.below(100)),
                        ),
                        _ => (
                            "t",
                            json!(pulse_schema::format_iso_ms(self.ts())),
                            json!(self.ts()),
                        ),
                    };
                    if self.chance(80) {
                        r.insert("min".into(), lo);
                    }
                    if self.chance(80) || !r.contains_key("min") {
                        r.insert("max".into(), hi);
                    }
                    r.insert("minExclusive".into(), json!(self.chance(50)));
                    r.insert("maxExclusive".into(), json!(self.chance(50)));
                    json!({ "field": field, "range": r })
                }
                2 => {
                    let k = 1 + self.below(10);
                    let (field, values): (&str, Vec<Value>) = match self.below(5) {
                        0 => ("i", (0..k).map(|_| json!(self.int())).collect()),
                        1 => (
                            "f",
                            (0..k)
                                .map(|_| json!(self.float_lit().parse::<f64>().unwrap()))
                                .collect(),
                        ),
                        2 => ("s", (0..k).map(|_| json!(self.string())).collect()),
                        3 => (
                            "t",
                            (0..k)
                                .map(|_| {
                                    if self.chance(50) {
                                        json!(self.ts())
                                    } else {
                                        json!(pulse_schema::format_iso_ms(self.ts()))
                                    }
                                })
                                .collect(),
                        ),
                        _ => ("b", vec![json!(self.chance(50))]),
                    };
                    json!({ "field": field, "in": values })
                }
                3 => {
                    json!({ "field": self.pick(&["s", "u"]).to_string(), "regex": self.pick(&REGEXES).to_string() })
                }
                4 => {
                    let min = self.below(3);
                    json!({ "field": "s", "length": { "min": min, "max": min + self.below(3) } })
                }
                5 => {
                    json!({ "field": "u", "type": self.pick(&["int64", "float64", "bool", "timestamp", "string"]).to_string() })
                }
                _ => json!({ "expr": self.boolean(3) }),
            };
            c["id"] = json!(id);
            c["severity"] = json!(severity);
            checks.push(c);
        }
        let derive: Vec<Value> = (0..self.below(3))
            .map(|d| {
                let cases: Vec<Value> = (0..1 + self.below(3))
                    .map(|k| json!({ "when": self.boolean(2), "set": format!("c{k}") }))
                    .collect();
                let mut spec = json!({ "column": format!("tag{d}"), "cases": cases });
                if self.chance(60) {
                    spec["default"] = json!("other");
                }
                spec
            })
            .collect();
        json!({ "checks": checks, "derive": derive })
    }
}
