//! Type checking: binds a syntax tree to the input schema and produces a
//! typed tree in which every operation knows its operand domain (i64, f64,
//! string, bool) and every int → float conversion is explicit.
//!
//! Rules (see `docs/rules.md`): int ⊕ int → int, a float operand makes the
//! operation float, `/` is always float; timestamps compare with timestamps,
//! integers (ms) and ISO string literals (converted here, once); `ts ± int`
//! is a timestamp and `ts - ts` an int. An operation on the `null` literal
//! is null whatever the other operand, so `null` fits every type.

use std::sync::Arc;

use ahash::AHashSet;
use arrow_schema::Schema;

use super::lexer::{err, SyntaxError};
use super::parser::{Ast, AstKind};
use super::value::{ArithOp, CmpOp, Scalar, Ty};

/// A typed expression.
#[derive(Debug, Clone)]
pub struct TExpr {
    pub ty: Ty,
    pub node: Node,
}

/// String predicates of two string arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrTest {
    StartsWith,
    EndsWith,
    Contains,
}

impl StrTest {
    #[inline(always)]
    pub fn holds(self, s: &str, p: &str) -> bool {
        match self {
            StrTest::StartsWith => s.starts_with(p),
            StrTest::EndsWith => s.ends_with(p),
            StrTest::Contains => s.contains(p),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Lower,
    Upper,
}

impl Case {
    pub fn apply(self, s: &str) -> String {
        match self {
            Case::Lower => s.to_lowercase(),
            Case::Upper => s.to_uppercase(),
        }
    }
}

/// The literal set of an `in` list, in the operand's domain.
#[derive(Debug, Clone)]
pub enum InSet {
    I64(Vec<i64>, AHashSet<i64>),
    F64(Vec<f64>),
    Str(Vec<Arc<str>>, AHashSet<Arc<str>>),
    Bool { has_true: bool, has_false: bool },
}

/// Lists at most this long are scanned; longer ones are hashed.
pub const LINEAR_IN: usize = 8;

impl InSet {
    #[inline(always)]
    pub fn has_i64(&self, v: i64) -> bool {
        match self {
            InSet::I64(l, _) if l.len() <= LINEAR_IN => l.contains(&v),
            InSet::I64(_, s) => s.contains(&v),
            _ => false,
        }
    }

    #[inline(always)]
    pub fn has_f64(&self, v: f64) -> bool {
        match self {
            InSet::F64(l) => l.contains(&v),
            _ => false,
        }
    }

    #[inline(always)]
    pub fn has_str(&self, v: &str) -> bool {
        match self {
            InSet::Str(l, _) if l.len() <= LINEAR_IN => l.iter().any(|x| &**x == v),
            InSet::Str(_, s) => s.contains(v),
            _ => false,
        }
    }

    #[inline(always)]
    pub fn has_bool(&self, v: bool) -> bool {
        match self {
            InSet::Bool {
                has_true,
                has_false,
            } => {
                if v {
                    *has_true
                } else {
                    *has_false
                }
            }
            _ => false,
        }
    }

    pub fn from_i64(v: Vec<i64>) -> Self {
        let set = if v.len() > LINEAR_IN {
            v.iter().copied().collect()
        } else {
            AHashSet::default()
        };
        InSet::I64(v, set)
    }

    pub fn from_strs(v: Vec<Arc<str>>) -> Self {
        let set = if v.len() > LINEAR_IN {
            v.iter().cloned().collect()
        } else {
            AHashSet::default()
        };
        InSet::Str(v, set)
    }
}

#[derive(Debug, Clone)]
pub enum Node {
    /// Column `i` of the batch the expression runs on.
    Column(usize),
    Const(Scalar),
    Neg(Box<TExpr>),
    ToFloat(Box<TExpr>),
    /// Operands share a domain: both i64 (int, timestamp) or both f64.
    Arith(ArithOp, Box<TExpr>, Box<TExpr>),
    /// Operands share a domain: i64, f64, string or bool.
    Cmp(CmpOp, Box<TExpr>, Box<TExpr>),
    Not(Box<TExpr>),
    And(Box<TExpr>, Box<TExpr>),
    Or(Box<TExpr>, Box<TExpr>),
    IsNull {
        expr: Box<TExpr>,
        negated: bool,
    },
    In {
        expr: Box<TExpr>,
        set: Arc<InSet>,
        has_null: bool,
        negated: bool,
    },
    Case(Case, Box<TExpr>),
    Length(Box<TExpr>),
    StrTest(StrTest, Box<TExpr>, Box<TExpr>),
    Abs(Box<TExpr>),
    Coalesce(Vec<TExpr>),
}

impl TExpr {
    fn new(ty: Ty, node: Node) -> Self {
        TExpr { ty, node }
    }

    fn null(ty: Ty) -> Self {
        TExpr::new(ty, Node::Const(Scalar::Null))
    }

    /// Indices of the columns the expression reads.
    pub fn columns(&self, out: &mut Vec<usize>) {
        match &self.node {
            Node::Column(i) => {
                if !out.contains(i) {
                    out.push(*i)
                }
            }
            Node::Const(_) => {}
            Node::Neg(a)
            | Node::ToFloat(a)
            | Node::Not(a)
            | Node::IsNull { expr: a, .. }
            | Node::In { expr: a, .. }
            | Node::Case(_, a)
            | Node::Length(a)
            | Node::Abs(a) => a.columns(out),
            Node::Arith(_, a, b)
            | Node::Cmp(_, a, b)
            | Node::And(a, b)
            | Node::Or(a, b)
            | Node::StrTest(_, a, b) => {
                a.columns(out);
                b.columns(out);
            }
            Node::Coalesce(args) => args.iter().for_each(|a| a.columns(out)),
        }
    }
}

/// The fields an expression may name: an Arrow schema's columns by index.
pub struct Scope<'a> {
    pub schema: &'a Schema,
}

impl Scope<'_> {
    fn field(&self, name: &str, column: usize) -> Result<TExpr, SyntaxError> {
        let Some((i, f)) = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .find(|(_, f)| f.name() == name)
        else {
            return err(column, format!("unknown field '{name}'"));
        };
        match Ty::of_arrow(f.data_type()) {
            Some(ty) => Ok(TExpr::new(ty, Node::Column(i))),
            None => err(
                column,
                format!(
                    "field '{name}' has Arrow type {}, which expressions cannot read",
                    f.data_type()
                ),
            ),
        }
    }
}

/// Binds a syntax tree; every error carries the column of the node at fault.
pub fn bind(ast: &Ast, scope: &Scope) -> Result<TExpr, SyntaxError> {
    let col = ast.column;
    match &ast.kind {
        AstKind::Int(v) => Ok(TExpr::new(Ty::Int, Node::Const(Scalar::Int(*v)))),
        AstKind::Float(v) => Ok(TExpr::new(Ty::Float, Node::Const(Scalar::Float(*v)))),
        AstKind::Str(s) => Ok(TExpr::new(
            Ty::Str,
            Node::Const(Scalar::Str(s.as_str().into())),
        )),
        AstKind::Bool(b) => Ok(TExpr::new(Ty::Bool, Node::Const(Scalar::Bool(*b)))),
        AstKind::Null => Ok(TExpr::null(Ty::Null)),
        AstKind::Field(name) => scope.field(name, col),
        AstKind::Neg(a) => {
            let a = bind(a, scope)?;
            match a.ty {
                Ty::Int | Ty::Float => Ok(TExpr::new(a.ty, Node::Neg(Box::new(a)))),
                Ty::Null => Ok(TExpr::null(Ty::Null)),
                t => err(col, format!("'-' needs a number, found {}", t.name())),
            }
        }
        AstKind::Not(a) => {
            let a = bind(a, scope)?;
            expect_bool(&a, col, "'not'")?;
            if a.ty == Ty::Null {
                return Ok(TExpr::null(Ty::Bool));
            }
            Ok(TExpr::new(Ty::Bool, Node::Not(Box::new(a))))
        }
        AstKind::And(a, b) | AstKind::Or(a, b) => {
            let is_and = matches!(ast.kind, AstKind::And(..));
            let what = if is_and { "'and'" } else { "'or'" };
            let a = bind(a, scope)?;
            let b = bind(b, scope)?;
            expect_bool(&a, col, what)?;
            expect_bool(&b, col, what)?;
            let (a, b) = (Box::new(a), Box::new(b));
            Ok(TExpr::new(
                Ty::Bool,
                if is_and {
                    Node::And(a, b)
                } else {
                    Node::Or(a, b)
                },
            ))
        }
        AstKind::Arith(op, a, b) => {
            let (a, b) = bind_pair(a, b, scope)?;
            arith(*op, a, b, col)
        }
        AstKind::Cmp(op, a, b) => {
            let (a, b) = bind_pair(a, b, scope)?;
            compare(*op, a, b, col)
        }
        AstKind::IsNull { expr, negated } => {
            let e = bind(expr, scope)?;
            Ok(TExpr::new(
                Ty::Bool,
                Node::IsNull {
                    expr: Box::new(e),
                    negated: *negated,
                },
            ))
        }
        AstKind::Between {
            expr,
            low,
            high,
            negated,
        } => {
            let e = bind(expr, scope)?;
            let (e1, lo) = coerce_pair(e.clone(), expr, bind(low, scope)?, low)?;
            let (e2, hi) = coerce_pair(e, expr, bind(high, scope)?, high)?;
            let ge = compare(CmpOp::Ge, e1, lo, col)?;
            let le = compare(CmpOp::Le, e2, hi, col)?;
            let both = TExpr::new(Ty::Bool, Node::And(Box::new(ge), Box::new(le)));
            Ok(if *negated {
                TExpr::new(Ty::Bool, Node::Not(Box::new(both)))
            } else {
                both
            })
        }
        AstKind::In {
            expr,
            list,
            negated,
        } => {
            let e = bind(expr, scope)?;
            in_list(e, list, *negated)
        }
        AstKind::Call { name, args } => call(name, args, scope, col),
    }
}

fn expect_bool(e: &TExpr, col: usize, what: &str) -> Result<(), SyntaxError> {
    match e.ty {
        Ty::Bool | Ty::Null => Ok(()),
        t => err(
            col,
            format!("{what} needs boolean operands, found {}", t.name()),
        ),
    }
}

/// Binds two operands, converting a string literal on one side to a
/// timestamp when the other side is a timestamp.
fn bind_pair(a: &Ast, b: &Ast, scope: &Scope) -> Result<(TExpr, TExpr), SyntaxError> {
    let ta = bind(a, scope)?;
    let tb = bind(b, scope)?;
    coerce_pair(ta, a, tb, b)
}

fn coerce_pair(ta: TExpr, a: &Ast, tb: TExpr, b: &Ast) -> Result<(TExpr, TExpr), SyntaxError> {
    if ta.ty == Ty::Ts {
        return Ok((ta, ts_literal(tb, b)?));
    }
    if tb.ty == Ty::Ts {
        return Ok((ts_literal(ta, a)?, tb));
    }
    Ok((ta, tb))
}

/// A string literal read as a timestamp (ISO-8601 with offset); any other
/// expression is returned unchanged.
fn ts_literal(e: TExpr, ast: &Ast) -> Result<TExpr, SyntaxError> {
    match &ast.kind {
        AstKind::Str(s) => match pulse_schema::parse_iso8601(s.as_bytes()) {
            Some(ms) => Ok(TExpr::new(Ty::Ts, Node::Const(Scalar::Int(ms)))),
            None => err(
                ast.column,
                format!("'{s}' is not an ISO-8601 timestamp with an offset"),
            ),
        },
        _ => Ok(e),
    }
}

fn to_float(e: TExpr) -> TExpr {
    match (e.ty, &e.node) {
        (Ty::Float, _) => e,
        (_, Node::Const(Scalar::Int(v))) => {
            TExpr::new(Ty::Float, Node::Const(Scalar::Float(*v as f64)))
        }
        _ => TExpr::new(Ty::Float, Node::ToFloat(Box::new(e))),
    }
}

fn arith(op: ArithOp, a: TExpr, b: TExpr, col: usize) -> Result<TExpr, SyntaxError> {
    let sym = op.symbol();
    for t in [a.ty, b.ty] {
        if matches!(t, Ty::Str | Ty::Bool) {
            return err(
                col,
                format!(
                    "'{sym}' needs numbers, found {} and {}",
                    a.ty.name(),
                    b.ty.name()
                ),
            );
        }
    }
    if a.ty == Ty::Null || b.ty == Ty::Null {
        return Ok(TExpr::null(Ty::Null));
    }
    let ty = match (op, a.ty, b.ty) {
        (ArithOp::Add, Ty::Ts, Ty::Int) | (ArithOp::Add, Ty::Int, Ty::Ts) => Ty::Ts,
        (ArithOp::Sub, Ty::Ts, Ty::Int) => Ty::Ts,
        (ArithOp::Sub, Ty::Ts, Ty::Ts) => Ty::Int,
        (_, Ty::Ts, _) | (_, _, Ty::Ts) => {
            return err(
                col,
                format!(
                    "'{sym}' does not apply to {} and {} (timestamps allow ts ± int and ts - ts)",
                    a.ty.name(),
                    b.ty.name()
                ),
            )
        }
        (ArithOp::Div, _, _) => Ty::Float,
        (_, Ty::Int, Ty::Int) => Ty::Int,
        _ => Ty::Float,
    };
    let (a, b) = if ty == Ty::Float {
        (to_float(a), to_float(b))
    } else {
        (a, b)
    };
    Ok(TExpr::new(ty, Node::Arith(op, Box::new(a), Box::new(b))))
}

fn compare(op: CmpOp, a: TExpr, b: TExpr, col: usize) -> Result<TExpr, SyntaxError> {
    let sym = op.symbol();
    if a.ty == Ty::Null || b.ty == Ty::Null {
        return Ok(TExpr::null(Ty::Bool));
    }
    let mismatch = || {
        err(
            col,
            format!(
                "'{sym}' cannot compare {} with {}",
                a.ty.name(),
                b.ty.name()
            ),
        )
    };
    let (a, b) = match (a.ty, b.ty) {
        (x, y) if x.is_integer() && y.is_integer() => (a, b),
        (Ty::Int | Ty::Float, Ty::Int | Ty::Float) => (to_float(a), to_float(b)),
        (Ty::Str, Ty::Str) => (a, b),
        (Ty::Bool, Ty::Bool) => {
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return err(col, format!("'{sym}' does not apply to bool (use = or !=)"));
            }
            (a, b)
        }
        _ => return mismatch(),
    };
    Ok(TExpr::new(
        Ty::Bool,
        Node::Cmp(op, Box::new(a), Box::new(b)),
    ))
}

fn in_list(e: TExpr, list: &[Ast], negated: bool) -> Result<TExpr, SyntaxError> {
    let mismatch = |item: &Ast, what: &str| {
        err(
            item.column,
            format!("'in' list value {what} does not match {}", e.ty.name()),
        )
    };
    let has_null = list.iter().any(|l| l.kind == AstKind::Null);
    let items: Vec<&Ast> = list.iter().filter(|l| l.kind != AstKind::Null).collect();
    let describe = |a: &Ast| match &a.kind {
        AstKind::Int(v) => v.to_string(),
        AstKind::Float(v) => v.to_string(),
        AstKind::Str(s) => format!("'{s}'"),
        AstKind::Bool(b) => b.to_string(),
        _ => "null".into(),
    };
    let (e, set) = match e.ty {
        Ty::Null => return Ok(TExpr::null(Ty::Bool)),
        Ty::Int | Ty::Float => {
            let any_float = items.iter().any(|i| matches!(i.kind, AstKind::Float(_)));
            for i in &items {
                if !matches!(i.kind, AstKind::Int(_) | AstKind::Float(_)) {
                    return mismatch(i, &describe(i));
                }
            }
            if e.ty == Ty::Int && !any_float {
                let v = items
                    .iter()
                    .filter_map(|i| match i.kind {
                        AstKind::Int(v) => Some(v),
                        _ => None,
                    })
                    .collect();
                (e, InSet::from_i64(v))
            } else {
                let v = items
                    .iter()
                    .filter_map(|i| match i.kind {
                        AstKind::Int(v) => Some(v as f64),
                        AstKind::Float(v) => Some(v),
                        _ => None,
                    })
                    .collect();
                (to_float(e), InSet::F64(v))
            }
        }
        Ty::Ts => {
            let mut v = Vec::with_capacity(items.len());
            for i in &items {
                match &i.kind {
                    AstKind::Int(x) => v.push(*x),
                    AstKind::Str(s) => match pulse_schema::parse_iso8601(s.as_bytes()) {
                        Some(ms) => v.push(ms),
                        None => {
                            return err(
                                i.column,
                                format!("'{s}' is not an ISO-8601 timestamp with an offset"),
                            )
                        }
                    },
                    _ => return mismatch(i, &describe(i)),
                }
            }
            (e, InSet::from_i64(v))
        }
        Ty::Str => {
            let mut v = Vec::with_capacity(items.len());
            for i in &items {
                match &i.kind {
                    AstKind::Str(s) => v.push(Arc::<str>::from(s.as_str())),
                    _ => return mismatch(i, &describe(i)),
                }
            }
            (e, InSet::from_strs(v))
        }
        Ty::Bool => {
            let (mut has_true, mut has_false) = (false, false);
            for i in &items {
                match i.kind {
                    AstKind::Bool(true) => has_true = true,
                    AstKind::Bool(false) => has_false = true,
                    _ => return mismatch(i, &describe(i)),
                }
            }
            (
                e,
                InSet::Bool {
                    has_true,
                    has_false,
                },
            )
        }
    };
    Ok(TExpr::new(
        Ty::Bool,
        Node::In {
            expr: Box::new(e),
            set: Arc::new(set),
            has_null,
            negated,
        },
    ))
}

/// The language's functions and how many arguments each takes.
const FUNCTIONS: [(&str, usize); 8] = [
    ("lower", 1),
    ("upper", 1),
    ("length", 1),
    ("starts_with", 2),
    ("ends_with", 2),
    ("contains", 2),
    ("abs", 1),
    ("coalesce", 0),
];

fn call(name: &str, args: &[Ast], scope: &Scope, col: usize) -> Result<TExpr, SyntaxError> {
    let Some(&(_, arity)) = FUNCTIONS.iter().find(|(n, _)| *n == name) else {
        return err(col, format!("unknown function '{name}'"));
    };
    if arity > 0 && args.len() != arity {
        let plural = if arity == 1 { "argument" } else { "arguments" };
        return err(
            col,
            format!("{name}() takes {arity} {plural}, found {}", args.len()),
        );
    }
    if name == "coalesce" {
        if args.is_empty() {
            return err(col, "coalesce() takes at least 1 argument, found 0");
        }
        return coalesce(args, scope, col);
    }
    let mut bound = Vec::with_capacity(args.len());
    for a in args {
        bound.push(bind(a, scope)?);
    }
    let wants = |e: &TExpr, ok: &[Ty], what: &str| -> Result<(), SyntaxError> {
        if e.ty == Ty::Null || ok.contains(&e.ty) {
            Ok(())
        } else {
            err(col, format!("{name}() needs {what}, found {}", e.ty.name()))
        }
    };
    let any_null = bound.iter().any(|e| e.ty == Ty::Null);
    let mut it = bound.into_iter();
    let (Some(a), b) = (it.next(), it.next()) else {
        return err(col, format!("{name}() is missing its argument"));
    };
    match name {
        "lower" | "upper" => {
            wants(&a, &[Ty::Str], "a string")?;
            if any_null {
                return Ok(TExpr::null(Ty::Null));
            }
            let case = if name == "lower" {
                Case::Lower
            } else {
                Case::Upper
            };
            Ok(TExpr::new(Ty::Str, Node::Case(case, Box::new(a))))
        }
        "length" => {
            wants(&a, &[Ty::Str], "a string")?;
            if any_null {
                return Ok(TExpr::null(Ty::Null));
            }
            Ok(TExpr::new(Ty::Int, Node::Length(Box::new(a))))
        }
        "abs" => {
            wants(&a, &[Ty::Int, Ty::Float], "a number")?;
            if any_null {
                return Ok(TExpr::null(Ty::Null));
            }
            Ok(TExpr::new(a.ty, Node::Abs(Box::new(a))))
        }
        _ => {
            let Some(b) = b else {
                return err(col, format!("{name}() is missing its second argument"));
            };
            wants(&a, &[Ty::Str], "string arguments")?;
            wants(&b, &[Ty::Str], "string arguments")?;
            if any_null {
                return Ok(TExpr::null(Ty::Bool));
            }
            let test = match name {
                "starts_with" => StrTest::StartsWith,
                "ends_with" => StrTest::EndsWith,
                _ => StrTest::Contains,
            };
            Ok(TExpr::new(
                Ty::Bool,
                Node::StrTest(test, Box::new(a), Box::new(b)),
            ))
        }
    }
}

/// `coalesce(a, b, …)`: the arguments share one type (ints widen to float
/// beside floats, string literals become timestamps beside timestamps).
fn coalesce(args: &[Ast], scope: &Scope, col: usize) -> Result<TExpr, SyntaxError> {
    let mut bound = Vec::with_capacity(args.len());
    for a in args {
        bound.push(bind(a, scope)?);
    }
    let typed: Vec<Ty> = bound
        .iter()
        .map(|e| e.ty)
        .filter(|t| *t != Ty::Null)
        .collect();
    let Some(&first) = typed.first() else {
        return Ok(TExpr::null(Ty::Null));
    };
    let ty = if typed.contains(&Ty::Ts) {
        Ty::Ts
    } else if typed.iter().all(|t| *t == first) {
        first
    } else if typed.iter().all(|t| matches!(t, Ty::Int | Ty::Float)) {
        Ty::Float
    } else {
        return err(
            col,
            format!(
                "coalesce() arguments must share a type, found {}",
                typed
                    .iter()
                    .map(|t| t.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    };
    let mut out = Vec::with_capacity(bound.len());
    for (e, ast) in bound.into_iter().zip(args) {
        let e = match (ty, e.ty) {
            (_, Ty::Null) => continue,
            (Ty::Ts, Ty::Ts) => e,
            (Ty::Ts, Ty::Str) if matches!(ast.kind, AstKind::Str(_)) => ts_literal(e, ast)?,
            (Ty::Ts, _) => {
                return err(
                    col,
                    format!(
                        "coalesce() arguments must share a type, found timestamp and {}",
                        e.ty.name()
                    ),
                )
            }
            (Ty::Float, _) => to_float(e),
            _ => e,
        };
        out.push(e);
    }
    if out.len() == 1 {
        return Ok(out.remove(0));
    }
    Ok(TExpr::new(ty, Node::Coalesce(out)))
}
