//! Recursive-descent parser: tokens → untyped syntax tree. The grammar
//! (`docs/rules.md`):
//!
//! ```text
//! expr    := or ;  or := and ('or' and)* ;  and := not ('and' not)* ;
//! not     := 'not' not | cmp
//! cmp     := sum ( ('=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>=') sum
//!                | 'is' ['not'] 'null'
//!                | ['not'] 'in' '(' literal (',' literal)* ')'
//!                | ['not'] 'between' sum 'and' sum )?
//! sum     := product (('+' | '-') product)* ;  product := unary (('*' | '/' | '%') unary)*
//! unary   := '-' unary | primary
//! primary := NUMBER | STRING | true | false | null | IDENT | "quoted ident"
//!          | FUNC '(' args ')' | '(' expr ')'
//! literal := ['-'] NUMBER | STRING | true | false | null
//! ```
//!
//! Trees deeper than [`MAX_DEPTH`] are refused, so no later recursion over
//! the tree can exhaust the stack, whatever the input.

use super::lexer::{err, tokenize, SyntaxError, Tok, Token};
use super::value::{ArithOp, CmpOp};

/// Deepest syntax tree accepted.
pub const MAX_DEPTH: u32 = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct Ast {
    /// 1-based column the node is reported at: an operator, a name or a literal.
    pub column: usize,
    pub depth: u32,
    pub kind: AstKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AstKind {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    Field(String),
    Neg(Box<Ast>),
    Not(Box<Ast>),
    Arith(ArithOp, Box<Ast>, Box<Ast>),
    Cmp(CmpOp, Box<Ast>, Box<Ast>),
    And(Box<Ast>, Box<Ast>),
    Or(Box<Ast>, Box<Ast>),
    IsNull {
        expr: Box<Ast>,
        negated: bool,
    },
    In {
        expr: Box<Ast>,
        list: Vec<Ast>,
        negated: bool,
    },
    Between {
        expr: Box<Ast>,
        low: Box<Ast>,
        high: Box<Ast>,
        negated: bool,
    },
    /// A function call; `name` is lower-cased (function names ignore case).
    Call {
        name: String,
        args: Vec<Ast>,
    },
}

/// Parses one expression; the whole text must be consumed.
pub fn parse(text: &str) -> Result<Ast, SyntaxError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        nesting: 0,
    };
    let ast = p.or()?;
    let t = p.peek();
    if t.tok != Tok::End {
        return err(
            t.column,
            format!("unexpected {} after the expression", t.tok.describe()),
        );
    }
    Ok(ast)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Current recursion depth through nesting constructs.
    nesting: u32,
}

/// Builds a node one level above its deepest child, refusing trees deeper
/// than [`MAX_DEPTH`].
fn node(column: usize, kind: AstKind) -> Result<Ast, SyntaxError> {
    let depth = children_depth(&kind) + 1;
    if depth > MAX_DEPTH {
        return err(
            column,
            format!("expression is nested more than {MAX_DEPTH} levels deep"),
        );
    }
    Ok(Ast {
        column,
        depth,
        kind,
    })
}

fn is_keyword(t: &Tok, kw: &str) -> bool {
    matches!(t, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
}

fn children_depth(kind: &AstKind) -> u32 {
    let d = |a: &Ast| a.depth;
    match kind {
        AstKind::Int(_)
        | AstKind::Float(_)
        | AstKind::Str(_)
        | AstKind::Bool(_)
        | AstKind::Null
        | AstKind::Field(_) => 0,
        AstKind::Neg(a) | AstKind::Not(a) => d(a),
        AstKind::IsNull { expr, .. } | AstKind::In { expr, .. } => d(expr),
        AstKind::Arith(_, a, b)
        | AstKind::Cmp(_, a, b)
        | AstKind::And(a, b)
        | AstKind::Or(a, b) => d(a).max(d(b)),
        AstKind::Between {
            expr, low, high, ..
        } => d(expr).max(d(low)).max(d(high)),
        AstKind::Call { args, .. } => args.iter().map(d).max().unwrap_or(0),
    }
}

const KEYWORDS: [&str; 9] = [
    "and", "or", "not", "is", "null", "in", "between", "true", "false",
];

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with `End`, and `pos` never passes it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::End {
            self.pos += 1;
        }
        t
    }

    fn at_keyword(&self, kw: &str) -> bool {
        is_keyword(&self.peek().tok, kw)
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<Token, SyntaxError> {
        if self.at_keyword(kw) {
            Ok(self.bump())
        } else {
            let t = self.peek();
            err(
                t.column,
                format!("expected '{kw}', found {}", t.tok.describe()),
            )
        }
    }

    fn expect(&mut self, tok: Tok) -> Result<Token, SyntaxError> {
        if self.peek().tok == tok {
            Ok(self.bump())
        } else {
            let t = self.peek();
            err(
                t.column,
                format!("expected {}, found {}", tok.describe(), t.tok.describe()),
            )
        }
    }

    fn or(&mut self) -> Result<Ast, SyntaxError> {
        let mut left = self.and()?;
        while self.at_keyword("or") {
            let op = self.bump();
            let right = self.and()?;
            left = node(op.column, AstKind::Or(Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Ast, SyntaxError> {
        let mut left = self.not()?;
        while self.at_keyword("and") {
            let op = self.bump();
            let right = self.not()?;
            left = node(op.column, AstKind::And(Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Ast, SyntaxError> {
        if self.at_keyword("not") {
            let op = self.bump();
            // Each nested `not` adds a level, so the depth limit stops a long run.
            let inner = self.nested(op.column, Self::not)?;
            return node(op.column, AstKind::Not(Box::new(inner)));
        }
        self.cmp()
    }

    /// Runs a recursive step one nesting level down (a parenthesis, `not`,
    /// unary `-`, a function argument), refusing to go past [`MAX_DEPTH`]
    /// so the parser's own recursion stays bounded.
    fn nested(
        &mut self,
        column: usize,
        f: fn(&mut Self) -> Result<Ast, SyntaxError>,
    ) -> Result<Ast, SyntaxError> {
        if self.nesting >= MAX_DEPTH {
            return err(
                column,
                format!("expression is nested more than {MAX_DEPTH} levels deep"),
            );
        }
        self.nesting += 1;
        let r = f(self);
        self.nesting -= 1;
        r
    }

    fn cmp(&mut self) -> Result<Ast, SyntaxError> {
        let left = self.sum()?;
        let t = self.peek().clone();
        let op = match t.tok {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let right = self.sum()?;
            return node(t.column, AstKind::Cmp(op, Box::new(left), Box::new(right)));
        }
        if is_keyword(&t.tok, "is") {
            self.bump();
            let negated = self.at_keyword("not");
            if negated {
                self.bump();
            }
            self.expect_keyword("null")?;
            return node(
                t.column,
                AstKind::IsNull {
                    expr: Box::new(left),
                    negated,
                },
            );
        }
        let negated = is_keyword(&t.tok, "not")
            && (is_keyword(self.peek_at(1), "in") || is_keyword(self.peek_at(1), "between"));
        if negated {
            self.bump();
        }
        let kw = self.peek().clone();
        if is_keyword(&kw.tok, "in") {
            self.bump();
            self.expect(Tok::LParen)?;
            let mut list = vec![self.literal()?];
            while self.peek().tok == Tok::Comma {
                self.bump();
                list.push(self.literal()?);
            }
            self.expect(Tok::RParen)?;
            return node(
                kw.column,
                AstKind::In {
                    expr: Box::new(left),
                    list,
                    negated,
                },
            );
        }
        if is_keyword(&kw.tok, "between") {
            self.bump();
            let low = self.sum()?;
            self.expect_keyword("and")?;
            let high = self.sum()?;
            return node(
                kw.column,
                AstKind::Between {
                    expr: Box::new(left),
                    low: Box::new(low),
                    high: Box::new(high),
                    negated,
                },
            );
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Ast, SyntaxError> {
        let mut left = self.product()?;
        loop {
            let t = self.peek().clone();
            let op = match t.tok {
                Tok::Plus => ArithOp::Add,
                Tok::Minus => ArithOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.product()?;
            left = node(
                t.column,
                AstKind::Arith(op, Box::new(left), Box::new(right)),
            )?;
        }
    }

    fn product(&mut self) -> Result<Ast, SyntaxError> {
        let mut left = self.unary()?;
        loop {
            let t = self.peek().clone();
            let op = match t.tok {
                Tok::Star => ArithOp::Mul,
                Tok::Slash => ArithOp::Div,
                Tok::Percent => ArithOp::Rem,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.unary()?;
            left = node(
                t.column,
                AstKind::Arith(op, Box::new(left), Box::new(right)),
            )?;
        }
    }

    fn unary(&mut self) -> Result<Ast, SyntaxError> {
        if self.peek().tok == Tok::Minus {
            let op = self.bump();
            let inner = self.nested(op.column, Self::unary)?;
            return node(op.column, AstKind::Neg(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Ast, SyntaxError> {
        let t = self.bump();
        let leaf = |kind| node(t.column, kind);
        match t.tok {
            Tok::Int(v) => leaf(AstKind::Int(v)),
            Tok::Float(v) => leaf(AstKind::Float(v)),
            Tok::Str(ref s) => leaf(AstKind::Str(s.clone())),
            Tok::Quoted(ref s) => leaf(AstKind::Field(s.clone())),
            Tok::LParen => {
                let inner = self.nested(t.column, Self::or)?;
                self.expect(Tok::RParen)?;
                Ok(inner)
            }
            Tok::Ident(ref s) => {
                let lower = s.to_ascii_lowercase();
                match lower.as_str() {
                    "true" => return leaf(AstKind::Bool(true)),
                    "false" => return leaf(AstKind::Bool(false)),
                    "null" => return leaf(AstKind::Null),
                    _ => {}
                }
                if self.peek().tok == Tok::LParen {
                    self.bump();
                    let mut args = Vec::new();
                    if self.peek().tok != Tok::RParen {
                        args.push(self.nested(t.column, Self::or)?);
                        while self.peek().tok == Tok::Comma {
                            self.bump();
                            args.push(self.nested(t.column, Self::or)?);
                        }
                    }
                    self.expect(Tok::RParen)?;
                    return node(t.column, AstKind::Call { name: lower, args });
                }
                if KEYWORDS.contains(&lower.as_str()) {
                    return err(t.column, format!("expected an expression, found '{s}'"));
                }
                leaf(AstKind::Field(s.clone()))
            }
            other => err(
                t.column,
                format!("expected an expression, found {}", other.describe()),
            ),
        }
    }

    fn literal(&mut self) -> Result<Ast, SyntaxError> {
        let t = self.bump();
        let leaf = |kind| node(t.column, kind);
        match t.tok {
            Tok::Int(v) => leaf(AstKind::Int(v)),
            Tok::Float(v) => leaf(AstKind::Float(v)),
            Tok::Str(ref s) => leaf(AstKind::Str(s.clone())),
            Tok::Minus => {
                let n = self.bump();
                match n.tok {
                    Tok::Int(v) => leaf(AstKind::Int(-v)),
                    Tok::Float(v) => leaf(AstKind::Float(-v)),
                    other => err(
                        n.column,
                        format!("expected a number after '-', found {}", other.describe()),
                    ),
                }
            }
            Tok::Ident(ref s) if s.eq_ignore_ascii_case("true") => leaf(AstKind::Bool(true)),
            Tok::Ident(ref s) if s.eq_ignore_ascii_case("false") => leaf(AstKind::Bool(false)),
            Tok::Ident(ref s) if s.eq_ignore_ascii_case("null") => leaf(AstKind::Null),
            other => err(
                t.column,
                format!(
                    "expected a literal in the 'in' list, found {}",
                    other.describe()
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(text: &str) -> usize {
        parse(text).unwrap_err().column
    }

    #[test]
    fn precedence_and_associativity() {
        let a = parse("a or b and not c = 1 + 2 * 3").unwrap();
        let AstKind::Or(_, right) = a.kind else {
            panic!("or at the top: {a:?}")
        };
        let AstKind::And(_, r) = right.kind else {
            panic!("and below or")
        };
        let AstKind::Not(inner) = r.kind else {
            panic!("not below and")
        };
        let AstKind::Cmp(CmpOp::Eq, _, sum) = inner.kind else {
            panic!("cmp below not")
        };
        assert!(matches!(sum.kind, AstKind::Arith(ArithOp::Add, _, _)));
        let b = parse("1 - 2 - 3").unwrap();
        let AstKind::Arith(ArithOp::Sub, l, _) = b.kind else {
            panic!()
        };
        assert!(matches!(l.kind, AstKind::Arith(ArithOp::Sub, _, _)));
    }

    #[test]
    fn keywords_ignore_case_fields_do_not() {
        let a = parse("X IS NOT NULL AND y NOT BETWEEN 1 AND 2 Or z Not In (1, -2.5, 'a', NULL)")
            .unwrap();
        assert!(matches!(a.kind, AstKind::Or(_, _)));
        let f = parse("\"and\" = Lower(x)").unwrap();
        let AstKind::Cmp(_, l, r) = f.kind else {
            panic!()
        };
        assert_eq!(l.kind, AstKind::Field("and".into()));
        assert!(matches!(r.kind, AstKind::Call { ref name, .. } if name == "lower"));
    }

    #[test]
    fn errors_point_at_the_column() {
        assert_eq!(col("a = "), 5);
        assert_eq!(col("(a = 1"), 7);
        assert_eq!(col("a = 1)"), 6);
        assert_eq!(col("a < b < c"), 7);
        assert_eq!(col("a in ()"), 7);
        assert_eq!(col("a in (b)"), 7);
        assert_eq!(col("a between 1 or 2"), 13);
        assert_eq!(col("a is 1"), 6);
        assert_eq!(col("and = 1"), 1);
        assert_eq!(col("f(1,)"), 5);
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let nots = format!("{}true", "not ".repeat(10_000));
        assert!(parse(&nots).unwrap_err().message.contains("nested"));
        let negs = format!("{}1", "- ".repeat(10_000));
        assert!(parse(&negs).unwrap_err().message.contains("nested"));
        let chain = vec!["a"; 10_000].join(" + ");
        assert!(parse(&chain).unwrap_err().message.contains("nested"));
        let calls = format!("{}x{}", "lower(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&calls).unwrap_err().message.contains("nested"));
    }
}
