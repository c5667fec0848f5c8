//! Hand-written cases: the contract's example, every compile error, null
//! semantics, halting, counters, predicates.

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Float64Array, Int64Array, ListArray, RecordBatch, StringArray,
    TimestampMillisecondArray, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::support::{batch, schema, Row, T0};
use crate::expr::compile;
use crate::expr::eval::eval;
use crate::expr::value::Scalar;
use crate::{compile_predicate, RuleError, RuleSet, RulesSpec, Severity};

fn rules(json: &str) -> Result<RuleSet, RuleError> {
    RuleSet::compile(&schema(), &RulesSpec::from_json(json)?)
}

fn compile_err(json: &str) -> String {
    rules(json).unwrap_err().to_string()
}

fn payments_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("amount", DataType::Float64, true),
        Field::new("currency", DataType::Utf8, true),
        Field::new("email", DataType::Utf8, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("code", DataType::Utf8, true),
        Field::new("debit", DataType::Int64, true),
        Field::new("credit", DataType::Int64, true),
        Field::new("merchant", DataType::Utf8, true),
    ]))
}

const CONTRACT_EXAMPLE: &str = r#"{ "onError": "skip",
  "checks": [
    { "id": "amount_required", "field": "amount", "required": true },
    { "id": "amount_range", "field": "amount", "range": { "min": 0, "max": 10000, "minExclusive": true }, "severity": "error", "message": "amount out of range" },
    { "id": "currency_known", "field": "currency", "in": ["USD", "EUR"], "severity": "warn" },
    { "id": "email_shape", "field": "email", "regex": "^[^@]+@[^@]+$" },
    { "id": "name_length", "field": "name", "length": { "min": 1, "max": 64 } },
    { "id": "code_is_int", "field": "code", "type": "int64" },
    { "id": "debit_le_credit", "expr": "debit <= credit or credit is null" } ],
  "derive": [
    { "column": "category", "default": "other",
      "cases": [ { "when": "contains(lower(merchant), 'market')", "set": "groceries" } ] } ] }"#;

type Payment = (
    Option<f64>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
    Option<i64>,
    Option<&'static str>,
);

fn payments(rows: &[Payment]) -> RecordBatch {
    let s = |k: fn(&Payment) -> Option<&'static str>| -> ArrayRef {
        Arc::new(StringArray::from(rows.iter().map(k).collect::<Vec<_>>()))
    };
    RecordBatch::try_new(
        payments_schema(),
        vec![
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            s(|r| r.1),
            s(|r| r.2),
            s(|r| r.3),
            s(|r| r.4),
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.5).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.6).collect::<Vec<_>>(),
            )),
            s(|r| r.7),
        ],
    )
    .unwrap()
}

#[test]
fn contract_example_end_to_end() {
    let spec = RulesSpec::from_json(CONTRACT_EXAMPLE).unwrap();
    let rules = RuleSet::compile(&payments_schema(), &spec).unwrap();
    let b = payments(&[
        // 0: clean, groceries
        (
            Some(12.5),
            Some("USD"),
            Some("a@b.c"),
            Some("Ann"),
            Some("42"),
            Some(1),
            Some(2),
            Some("SuperMarket 9"),
        ),
        // 1: amount 0 is excluded by minExclusive → rejected
        (
            Some(0.0),
            Some("EUR"),
            Some("a@b.c"),
            Some("Bo"),
            Some("7"),
            Some(1),
            None,
            Some("cafe"),
        ),
        // 2: unknown currency only warns; null code/email pass
        (
            Some(5.0),
            Some("GBP"),
            None,
            Some("Cy"),
            None,
            None,
            None,
            None,
        ),
        // 3: missing amount, bad email, debit > credit → three error rules
        (
            None,
            Some("USD"),
            Some("nope"),
            Some("Di"),
            Some("x1"),
            Some(9),
            Some(3),
            Some("market"),
        ),
        // 4: empty name fails length; warn on currency too
        (
            Some(1.0),
            Some("JPY"),
            Some("e@f.g"),
            Some(""),
            Some("-3"),
            Some(0),
            Some(0),
            Some("Flea MARKET"),
        ),
    ]);
    let out = rules.evaluate(&b).unwrap();
    assert_eq!(out.valid_rows, vec![0, 2]);
    let ids = rules.rule_ids();
    let rejected: Vec<(u32, Vec<&str>)> = out
        .rejected
        .iter()
        .map(|f| {
            (
                f.row,
                f.rules.iter().map(|&i| ids[i as usize].as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        vec![
            (1, vec!["amount_range"]),
            (
                3,
                vec![
                    "amount_required",
                    "email_shape",
                    "code_is_int",
                    "debit_le_credit"
                ]
            ),
            (4, vec!["name_length"]),
        ]
    );
    assert_eq!(out.warned_rows, 1);
    assert_eq!(out.valid.schema(), rules.output_schema());
    let category = out
        .valid
        .column(8)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(
        category.iter().collect::<Vec<_>>(),
        vec![Some("groceries"), Some("other")]
    );

    let rejects = out.rejects_batch(&rules);
    assert_eq!(rejects.num_rows(), 3);
    let rows = rejects
        .column(0)
        .as_any()
        .downcast_ref::<UInt32Array>()
        .unwrap();
    assert_eq!(rows.values().to_vec(), vec![1, 3, 4]);
    let messages = rejects
        .column(2)
        .as_any()
        .downcast_ref::<ListArray>()
        .unwrap();
    let first = messages.value(0);
    let first = first.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(first.value(0), "amount out of range");
    let fourth = messages.value(2);
    let fourth = fourth.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(fourth.value(0), "name must have 1 to 64 characters");

    let counters = rules.counters();
    let by_id = |id: &str| counters.iter().find(|c| c.id == id).unwrap().clone();
    assert_eq!(by_id("currency_known").failed, 2);
    assert_eq!(
        by_id("currency_known").warned,
        1,
        "row 4 was rejected, so only row 2 counts as warned"
    );
    assert_eq!(by_id("currency_known").severity, Severity::Warn);
    assert_eq!(by_id("amount_required").evaluated, 5);
    rules.evaluate(&b).unwrap();
    assert_eq!(
        rules.counters()[0].evaluated,
        10,
        "counters accumulate across batches"
    );
}

#[test]
fn compile_errors_name_the_rule() {
    let cases: &[(&str, &str)] = &[
        (r#"{"checks":[{"id":"r1","field":"nope","required":true}]}"#, "rule 'r1': unknown field 'nope'"),
        (r#"{"checks":[{"id":"r2","field":"i","regex":"^a"}]}"#, "rule 'r2': regex needs a string field, but field 'i' is int64"),
        (r#"{"checks":[{"id":"r3","field":"s","range":{"min":1}}]}"#, "rule 'r3': range needs a numeric or timestamp field, but field 's' is string"),
        (r#"{"checks":[{"id":"r4","field":"s","regex":"(unclosed"}]}"#, "rule 'r4': invalid regex"),
        (r#"{"checks":[{"id":"r5","expr":"i >= 1 and"}]}"#, "rule 'r5': column 11: expected an expression, found end of expression"),
        (r#"{"checks":[{"id":"r6","expr":"nope(i) > 1"}]}"#, "rule 'r6': column 1: unknown function 'nope'"),
        (r#"{"checks":[{"id":"r7","expr":"starts_with(s) "}]}"#, "rule 'r7': column 1: starts_with() takes 2 arguments, found 1"),
        (r#"{"checks":[{"id":"r8","field":"i","required":true},{"id":"r8","field":"j","required":true}]}"#, "rule 'r8': duplicate rule id"),
        (r#"{"checks":[{"id":"r9","field":"s","in":[]}]}"#, "rule 'r9': in needs at least one value"),
        (r#"{"checks":[{"id":"r10","expr":"s > 3"}]}"#, "rule 'r10': column 3: '>' cannot compare string with int64"),
        (r#"{"checks":[{"id":"r11","expr":"lower(i) = 'a'"}]}"#, "rule 'r11': column 1: lower() needs a string, found int64"),
        (r#"{"checks":[{"id":"r12","expr":"i + 1"}]}"#, "rule 'r12': column 1: the expression must be boolean, found int64"),
        (r#"{"checks":[{"id":"r13","expr":"x = 1"}]}"#, "rule 'r13': column 1: unknown field 'x'"),
        (r#"{"checks":[{"id":"r14","field":"i","in":[1, 2.5]}]}"#, "rule 'r14': in values for int64 field 'i' must be integers, found 2.5"),
        (r#"{"checks":[{"id":"r15","field":"s","in":["a", 1]}]}"#, "rule 'r15': in values for string field 's' must be strings, found 1"),
        (r#"{"checks":[{"id":"r16","field":"b","type":"int64"}]}"#, "rule 'r16': type int64 applies to string fields"),
        (r#"{"checks":[{"id":"r17","field":"t","range":{"min":"yesterday"}}]}"#, "rule 'r17': range bound 'yesterday' is not an ISO-8601"),
        (r#"{"checks":[{"id":"r18","expr":"t > '2026-01-01T00:00:00'"}]}"#, "rule 'r18': column 5: '2026-01-01T00:00:00' is not an ISO-8601 timestamp with an offset"),
        (r#"{"checks":[{"id":"r19","field":"i","length":{"max":3}}]}"#, "rule 'r19': length needs a string field"),
        (r#"{"checks":[{"id":"r20","field":"i","range":{}}]}"#, "rule 'r20': range needs min or max"),
        (r#"{"checks":[{"id":"r21","expr":"b and 'x'"}]}"#, "rule 'r21': column 3: 'and' needs boolean operands, found string"),
        (r#"{"checks":[{"id":"r22","expr":"t * 2 > 0"}]}"#, "rule 'r22': column 3: '*' does not apply to timestamp and int64"),
        (r#"{"checks":[{"id":"r23","expr":"b < true"}]}"#, "rule 'r23': column 3: '<' does not apply to bool"),
        (r#"{"checks":[{"id":"r24","expr":"i in (1, 'a')"}]}"#, "rule 'r24': column 10: 'in' list value 'a' does not match int64"),
        (r#"{"checks":[{"id":"r25","expr":"coalesce(i, s) = 1"}]}"#, "rule 'r25': column 1: coalesce() arguments must share a type"),
        (r#"{"checks":[{"id":"r26","expr":"s = 'open"}]}"#, "rule 'r26': column 5: unterminated string literal"),
        (r#"{"checks":[{"id":"r27","expr":"i = 99999999999999999999"}]}"#, "rule 'r27': column 5: integer '99999999999999999999' is out of the int64 range"),
        (r#"{"derive":[{"column":"s","cases":[]}]}"#, "derivation 's': column already exists"),
        (r#"{"derive":[{"column":"tag","cases":[{"when":"i +","set":"x"}]}]}"#, "derivation 'tag' case 1: column 4: expected an expression"),
    ];
    for (json, expected) in cases {
        let e = compile_err(json);
        assert!(
            e.starts_with(expected),
            "{json}\n  got: {e}\n  expected to start with: {expected}"
        );
    }
}

#[test]
fn a_check_on_an_unreadable_column_is_a_compile_error() {
    let s: SchemaRef = Arc::new(Schema::new(vec![Field::new("d", DataType::Date32, true)]));
    let spec =
        RulesSpec::from_json(r#"{"checks":[{"id":"d1","field":"d","required":true}]}"#).unwrap();
    let e = RuleSet::compile(&s, &spec).unwrap_err().to_string();
    assert!(e.contains("rule 'd1'") && e.contains("Date32"), "{e}");
    let spec = RulesSpec::from_json(r#"{"checks":[{"id":"d2","expr":"d is null"}]}"#).unwrap();
    let e = RuleSet::compile(&s, &spec).unwrap_err().to_string();
    assert!(
        e.contains("rule 'd2': column 1") && e.contains("Date32"),
        "{e}"
    );
}

/// Evaluates a one-row expression over the first fixture row.
fn value_of(text: &str, row: Row) -> Scalar {
    let b = batch(&[row]);
    let e = compile(text, &schema(), "test").unwrap_or_else(|e| panic!("{text}: {e}"));
    eval(&e, b.columns(), 1).unwrap().scalar_at(0)
}

#[test]
fn three_valued_logic_and_arithmetic() {
    let nul = Row::default();
    let one = Row {
        i: Some(1),
        j: Some(i64::MAX),
        f: Some(2.5),
        b: Some(true),
        s: Some("Aé😀".into()),
        t: Some(T0),
        ..Row::default()
    };
    let cases: &[(&str, &Row, Scalar)] = &[
        ("i > 0", &nul, Scalar::Null),
        ("i > 0 and false", &nul, Scalar::Bool(false)),
        ("i > 0 or true", &nul, Scalar::Bool(true)),
        ("not (i > 0)", &nul, Scalar::Null),
        ("i is null", &nul, Scalar::Bool(true)),
        ("i is not null", &nul, Scalar::Bool(false)),
        ("i in (1, null)", &one, Scalar::Bool(true)),
        ("i in (2, null)", &one, Scalar::Null),
        ("i not in (2, 3)", &one, Scalar::Bool(true)),
        ("j + i", &one, Scalar::Null),
        ("-j - 2", &one, Scalar::Null),
        ("i / 0", &one, Scalar::Null),
        ("i % 0", &one, Scalar::Null),
        ("f / 0", &one, Scalar::Null),
        ("7 / 2", &one, Scalar::Float(3.5)),
        ("7 % 3 * 2", &one, Scalar::Int(2)),
        ("i + f", &one, Scalar::Float(3.5)),
        ("abs(-j - 1)", &one, Scalar::Null),
        ("length(s)", &one, Scalar::Int(3)),
        ("lower(s) = 'aé😀'", &one, Scalar::Bool(true)),
        ("upper('ß')", &one, Scalar::Str("SS".into())),
        (
            "starts_with(s, 'A') and ends_with(s, '😀') and contains(s, 'é')",
            &one,
            Scalar::Bool(true),
        ),
        ("coalesce(s, 'none')", &nul, Scalar::Str("none".into())),
        ("coalesce(i, f)", &one, Scalar::Float(1.0)),
        ("t = '2026-01-01T01:00:00+01:00'", &one, Scalar::Bool(true)),
        (
            "t between '2025-12-31T23:59:59Z' and t + 1",
            &one,
            Scalar::Bool(true),
        ),
        ("t - 1000 < t", &one, Scalar::Bool(true)),
        ("t - '2025-12-31T23:59:59Z'", &one, Scalar::Int(1000)),
        ("t > 1767225599999", &one, Scalar::Bool(true)),
        ("t in ('2026-01-01T00:00:00Z', 5)", &one, Scalar::Bool(true)),
        ("i between 0 and 2", &one, Scalar::Bool(true)),
        ("i not between 0 and 2", &one, Scalar::Bool(false)),
        ("i between null and 0", &one, Scalar::Bool(false)),
        ("i between null and 2", &one, Scalar::Null),
        ("null = null", &one, Scalar::Null),
        ("null + 1 is null", &one, Scalar::Bool(true)),
        ("\"i\" <> 2", &one, Scalar::Bool(true)),
        ("b = true", &one, Scalar::Bool(true)),
        ("'b' < 'a' or 'é' > 'z'", &one, Scalar::Bool(true)),
        ("1e2 = 100 AND .5 < 1", &one, Scalar::Bool(true)),
        ("'it''s' = s", &nul, Scalar::Null),
    ];
    for (text, row, expected) in cases {
        assert_eq!(&value_of(text, (*row).clone()), expected, "{text}");
    }
    // String concatenation is not in the language: `+` on strings is a type error.
    assert!(compile("'it' + 's'", &schema(), "t").is_err());
}

#[test]
fn check_semantics_on_null() {
    let r = rules(
        r#"{"checks":[
            {"id":"req","field":"i","required":true,"severity":"warn"},
            {"id":"rng","field":"i","range":{"min":0}},
            {"id":"in","field":"s","in":["a"]},
            {"id":"re","field":"s","regex":"^a$"},
            {"id":"len","field":"s","length":{"min":2}},
            {"id":"ty","field":"s","type":"int64"},
            {"id":"ex","expr":"i > 0"}]}"#,
    )
    .unwrap();
    let out = r.evaluate(&batch(&[Row::default()])).unwrap();
    assert_eq!(
        out.valid_rows,
        vec![0],
        "only `required` fails on null, and it only warns"
    );
    assert_eq!(out.warned_rows, 1);
}

#[test]
fn range_bounds_inclusive_exclusive_and_fractional() {
    let r = rules(
        r#"{"checks":[
            {"id":"a","field":"i","range":{"min":0,"max":10,"minExclusive":true,"maxExclusive":true}},
            {"id":"b","field":"j","range":{"min":-0.5,"max":2.5}},
            {"id":"c","field":"f","range":{"max":1}},
            {"id":"d","field":"t","range":{"min":"2026-01-01T00:00:00Z","max":1767225601000}}]}"#,
    )
    .unwrap();
    let row = |i, j, f, t| Row {
        i: Some(i),
        j: Some(j),
        f: Some(f),
        t: Some(t),
        ..Row::default()
    };
    let b = batch(&[
        row(1, 0, 1.0, T0),
        row(0, 0, 0.0, T0),
        row(10, 0, 0.0, T0),
        row(5, 3, 0.0, T0),
        row(5, -1, 0.0, T0),
        row(5, 2, f64::NAN, T0),
        row(5, 2, 0.5, T0 + 1001),
        row(5, 2, 0.5, T0 - 1),
        row(9, 2, -1e300, T0 + 1000),
    ]);
    let out = r.evaluate(&b).unwrap();
    assert_eq!(out.valid_rows, vec![0, 8]);
    let failed: Vec<Vec<u16>> = out.rejected.iter().map(|f| f.rules.clone()).collect();
    assert_eq!(
        failed,
        vec![
            vec![0],
            vec![0],
            vec![1],
            vec![1],
            vec![2],
            vec![3],
            vec![3]
        ]
    );
}

#[test]
fn an_exclusive_bound_at_the_int64_edge_admits_nothing() {
    let r = rules(r#"{"checks":[{"id":"a","field":"i","range":{"min":9223372036854775807,"minExclusive":true}}]}"#).unwrap();
    let out = r
        .evaluate(&batch(&[
            Row {
                i: Some(i64::MAX),
                ..Row::default()
            },
            Row::default(),
        ]))
        .unwrap();
    assert_eq!(out.valid_rows, vec![1]);
}

#[test]
fn halt_names_the_rule_message_and_row() {
    let r = rules(
        r#"{"onError":"halt","checks":[
            {"id":"w","field":"s","required":true,"severity":"warn"},
            {"id":"pos","field":"i","range":{"min":0},"message":"i must not be negative"},
            {"id":"small","field":"i","range":{"max":5}}]}"#,
    )
    .unwrap();
    let ok = Row {
        i: Some(1),
        ..Row::default()
    };
    let bad = Row {
        i: Some(-7),
        ..Row::default()
    };
    let e = r
        .evaluate(&batch(&[ok.clone(), ok.clone(), bad]))
        .unwrap_err();
    assert_eq!(
        e,
        RuleError::Halted {
            rule: "pos".into(),
            message: "i must not be negative".into(),
            row: 2
        }
    );
    assert_eq!(
        e.to_string(),
        "rule 'pos' failed on row 2: i must not be negative"
    );
    assert_eq!(
        r.counters()[1].evaluated,
        0,
        "a halted batch is not counted"
    );
    let out = r.evaluate(&batch(&[ok])).unwrap();
    assert_eq!(out.valid_rows, vec![0], "warn checks never halt");
}

#[test]
fn derivations_first_match_wins_and_see_earlier_tags() {
    let r = rules(
        r#"{"derive":[
            {"column":"size","default":"small","cases":[
                {"when":"i > 100","set":"huge"},
                {"when":"i > 10","set":"big"}]},
            {"column":"alert","cases":[{"when":"size = 'huge' and b","set":"yes"}]}]}"#,
    )
    .unwrap();
    let row = |i: Option<i64>, b| Row {
        i,
        b: Some(b),
        ..Row::default()
    };
    let out = r
        .evaluate(&batch(&[
            row(Some(500), true),
            row(Some(50), true),
            row(None, true),
            row(Some(500), false),
        ]))
        .unwrap();
    let col = |k: usize| -> Vec<Option<String>> {
        let a = out
            .valid
            .column(k)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        a.iter().map(|v| v.map(str::to_string)).collect()
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(col(8), vec![s("huge"), s("big"), s("small"), s("huge")]);
    assert_eq!(col(9), vec![s("yes"), None, None, None]);
    assert_eq!(
        out.valid.schema().field(9),
        &Field::new("alert", DataType::Utf8, true)
    );
}

#[test]
fn predicates_are_true_only_masks() {
    let p = compile_predicate("i > 1 or s = 'x'", &schema()).unwrap();
    let b = batch(&[
        Row {
            i: Some(2),
            ..Row::default()
        },
        Row {
            i: Some(0),
            ..Row::default()
        },
        Row::default(),
        Row {
            s: Some("x".into()),
            ..Row::default()
        },
    ]);
    let m = p.mask(&b);
    assert_eq!(m.null_count(), 0);
    assert_eq!(
        m.iter().map(Option::unwrap).collect::<Vec<_>>(),
        vec![true, false, false, true]
    );
    let e = compile_predicate("status = ", &schema())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "filter: column 10: expected an expression, found end of expression"
    );

    // A batch without the column: an error from try_mask, no row from mask.
    let other: SchemaRef = Arc::new(Schema::new(vec![Field::new("i", DataType::Utf8, true)]));
    let ob =
        RecordBatch::try_new(other, vec![Arc::new(StringArray::from(vec![Some("2")]))]).unwrap();
    assert!(matches!(p.try_mask(&ob), Err(RuleError::Schema(_))));
    assert_eq!(p.mask(&ob).true_count(), 0);
}

#[test]
fn batches_that_do_not_fit_are_errors_not_panics() {
    let r = rules(r#"{"checks":[{"id":"a","field":"i","required":true}]}"#).unwrap();
    let narrow: SchemaRef = Arc::new(Schema::new(vec![Field::new("i", DataType::Int64, true)]));
    let b = RecordBatch::try_new(narrow, vec![Arc::new(Int64Array::from(vec![1]))]).unwrap();
    assert!(matches!(r.evaluate(&b), Err(RuleError::Schema(_))));
}

#[test]
fn a_timestamp_time_zone_label_is_adopted() {
    let s: SchemaRef = Arc::new(Schema::new(vec![Field::new(
        "t",
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        false,
    )]));
    let spec = RulesSpec::from_json(
        r#"{"checks":[{"id":"late","field":"t","range":{"min":"2026-01-01T00:00:00Z"}}]}"#,
    )
    .unwrap();
    let r = RuleSet::compile(&s, &spec).unwrap();
    let naive: SchemaRef = Arc::new(Schema::new(vec![Field::new(
        "t",
        DataType::Timestamp(TimeUnit::Millisecond, None),
        false,
    )]));
    let b = RecordBatch::try_new(
        naive,
        vec![Arc::new(TimestampMillisecondArray::from(vec![T0 - 1, T0]))],
    )
    .unwrap();
    let out = r.evaluate(&b).unwrap();
    assert_eq!(out.valid_rows, vec![1]);
    assert_eq!(out.valid.schema(), r.output_schema());
}

#[test]
fn empty_batches_and_empty_rule_sets() {
    let r = rules(
        CONTRACT_EXAMPLE
            .replace("amount", "f")
            .replace("currency", "s")
            .replace("email", "u")
            .replace("\"name\"", "\"s\"")
            .replace("\"code\"", "\"u\"")
            .replace("debit", "i")
            .replace("credit", "j")
            .replace("merchant", "s")
            .as_str(),
    )
    .unwrap();
    let out = r.evaluate(&batch(&[])).unwrap();
    assert_eq!(out.valid.num_rows(), 0);
    assert_eq!(out.valid.num_columns(), 9);
    assert!(out.rejected.is_empty());
    let none = rules("{}").unwrap();
    let out = none.evaluate(&batch(&[Row::default()])).unwrap();
    assert_eq!(out.valid_rows, vec![0]);
    assert_eq!(out.rejects_batch(&none).num_rows(), 0);
}

#[test]
fn type_checks_on_text_and_on_their_own_type() {
    let r = rules(
        r#"{"checks":[
            {"id":"n","field":"s","type":"float64"},
            {"id":"own","field":"i","type":"int64"},
            {"id":"ts","field":"u","type":"timestamp"}]}"#,
    )
    .unwrap();
    let row = |s: &str, u: &str| Row {
        i: Some(1),
        s: Some(s.into()),
        u: Some(u.into()),
        ..Row::default()
    };
    let out = r
        .evaluate(&batch(&[
            row("1.5e3", "2026-01-01T00:00:00Z"),
            row("abc", "1700000000000"),
            row("2", "2026-01-01"),
        ]))
        .unwrap();
    assert_eq!(out.valid_rows, vec![0]);
    assert_eq!(out.rejected[0].rules, vec![0]);
    assert_eq!(out.rejected[1].rules, vec![2]);
}

#[test]
fn long_in_lists_are_hashed_with_the_same_answers() {
    let values: Vec<String> = (0..50).map(|v| format!("\"v{v}\"")).collect();
    let ints: Vec<String> = (0..50).map(|v| (v * 3).to_string()).collect();
    let json = format!(
        r#"{{"checks":[{{"id":"s","field":"s","in":[{}]}},{{"id":"i","field":"i","in":[{}]}},{{"id":"e","expr":"j in ({})"}}]}}"#,
        values.join(","),
        ints.join(","),
        ints.join(",")
    );
    let r = rules(&json).unwrap();
    let row = |s: &str, i, j| Row {
        s: Some(s.into()),
        i: Some(i),
        j: Some(j),
        ..Row::default()
    };
    let out = r
        .evaluate(&batch(&[
            row("v49", 147, 0),
            row("v50", 3, 3),
            row("v1", 4, 3),
            row("v1", 3, 5),
        ]))
        .unwrap();
    assert_eq!(out.valid_rows, vec![0]);
    let failed: Vec<Vec<u16>> = out.rejected.iter().map(|f| f.rules.clone()).collect();
    assert_eq!(failed, vec![vec![0], vec![1], vec![2]]);
}

#[test]
fn rule_sets_and_predicates_are_shareable_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<RuleSet>();
    shareable::<crate::Predicate>();
    let r = Arc::new(rules(r#"{"checks":[{"id":"a","field":"i","range":{"min":0}}]}"#).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|k| {
            let r = r.clone();
            std::thread::spawn(move || {
                r.evaluate(&batch(&[Row {
                    i: Some(k - 2),
                    ..Row::default()
                }]))
                .unwrap()
                .rejected
                .len()
            })
        })
        .collect();
    let rejected: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(rejected, 2);
    assert_eq!(r.counters()[0].evaluated, 4);
    assert_eq!(r.counters()[0].failed, 2);
}

#[test]
fn nesting_up_to_the_limit_compiles_and_evaluates() {
    let b = batch(&[Row {
        i: Some(3),
        b: Some(true),
        ..Row::default()
    }]);
    let parens = format!("{}i{} > 2", "(".repeat(190), ")".repeat(190));
    let nots = format!("{}b", "not ".repeat(190));
    let negs = format!("{}i = -3", "- ".repeat(189));
    let calls = format!("{}'A'{} = 'a'", "lower(".repeat(190), ")".repeat(190));
    for text in [parens, nots, negs, calls] {
        let e = compile(&text, &schema(), "t").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            eval(&e, b.columns(), 1).unwrap().scalar_at(0),
            Scalar::Bool(_)
        ));
    }
}
