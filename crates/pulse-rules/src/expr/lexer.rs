//! Tokens of the expression language, each with its 1-based column
//! (counted in characters) so errors can point into the text.

/// A syntax error: the column it starts at and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub column: usize,
    pub message: String,
}

pub(crate) fn err<T>(column: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        column,
        message: message.into(),
    })
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Int(i64),
    Float(f64),
    /// `'text'`, with `''` unescaped.
    Str(String),
    /// A bare word: a field, a function name or a keyword (matched case-insensitively).
    Ident(String),
    /// `"quoted ident"`, with `""` unescaped: always a field.
    Quoted(String),
    LParen,
    RParen,
    Comma,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    End,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Int(v) => format!("'{v}'"),
            Tok::Float(v) => format!("'{v}'"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Quoted(s) => format!("\"{s}\""),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
            Tok::Eq => "'='".into(),
            Tok::Ne => "'!='".into(),
            Tok::Lt => "'<'".into(),
            Tok::Le => "'<='".into(),
            Tok::Gt => "'>'".into(),
            Tok::Ge => "'>='".into(),
            Tok::Plus => "'+'".into(),
            Tok::Minus => "'-'".into(),
            Tok::Star => "'*'".into(),
            Tok::Slash => "'/'".into(),
            Tok::Percent => "'%'".into(),
            Tok::End => "end of expression".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub column: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits `text` into tokens, ending with `Tok::End` at column `chars + 1`.
pub fn tokenize(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            i += 1;
            continue;
        }
        let single = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            ',' => Some(Tok::Comma),
            '+' => Some(Tok::Plus),
            '-' => Some(Tok::Minus),
            '*' => Some(Tok::Star),
            '/' => Some(Tok::Slash),
            '%' => Some(Tok::Percent),
            _ => None,
        };
        if let Some(tok) = single {
            out.push(Token { tok, column });
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let (tok, len) = match (c, next) {
            ('=', Some('=')) => (Some(Tok::Eq), 2),
            ('=', _) => (Some(Tok::Eq), 1),
            ('!', Some('=')) => (Some(Tok::Ne), 2),
            ('<', Some('>')) => (Some(Tok::Ne), 2),
            ('<', Some('=')) => (Some(Tok::Le), 2),
            ('<', _) => (Some(Tok::Lt), 1),
            ('>', Some('=')) => (Some(Tok::Ge), 2),
            ('>', _) => (Some(Tok::Gt), 1),
            _ => (None, 0),
        };
        if let Some(tok) = tok {
            out.push(Token { tok, column });
            i += len;
            continue;
        }
        if c == '\'' || c == '"' {
            let (s, end) = quoted(&chars, i, c)?;
            let tok = if c == '\'' {
                Tok::Str(s)
            } else {
                Tok::Quoted(s)
            };
            out.push(Token { tok, column });
            i = end;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && next.is_some_and(|d| d.is_ascii_digit())) {
            let (tok, end) = number(&chars, i)?;
            out.push(Token { tok, column });
            i = end;
            continue;
        }
        if is_ident_start(c) {
            let start = i;
            while i < chars.len() && is_ident_char(chars[i]) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(chars[start..i].iter().collect()),
                column,
            });
            continue;
        }
        return err(column, format!("unexpected character '{c}'"));
    }
    out.push(Token {
        tok: Tok::End,
        column: chars.len() + 1,
    });
    Ok(out)
}

/// Reads a `'…'` or `"…"` token starting at `start`; a doubled quote is one quote.
fn quoted(chars: &[char], start: usize, q: char) -> Result<(String, usize), SyntaxError> {
    let mut s = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                let what = if q == '\'' {
                    "string literal"
                } else {
                    "quoted identifier"
                };
                return err(start + 1, format!("unterminated {what}"));
            }
            Some(&c) if c == q => {
                if chars.get(i + 1) == Some(&q) {
                    s.push(q);
                    i += 2;
                } else {
                    return Ok((s, i + 1));
                }
            }
            Some(&c) => {
                s.push(c);
                i += 1;
            }
        }
    }
}

/// Reads `DIGITS ['.' DIGITS] [EXP]` or `'.' DIGITS [EXP]`; a number glued to
/// a letter (`2x`, `1e`) is an error rather than two tokens.
fn number(chars: &[char], start: usize) -> Result<(Tok, usize), SyntaxError> {
    let digits = |mut i: usize| {
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = digits(start);
    let mut float = false;
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        float = true;
        i = digits(i + 1);
    }
    if matches!(chars.get(i), Some('e') | Some('E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+') | Some('-')) {
            j += 1;
        }
        if chars.get(j).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            i = digits(j);
        }
    }
    let text: String = chars[start..i].iter().collect();
    if chars.get(i).is_some_and(|&c| is_ident_char(c) || c == '.') {
        let mut j = i;
        while chars.get(j).is_some_and(|&c| is_ident_char(c) || c == '.') {
            j += 1;
        }
        let bad: String = chars[start..j].iter().collect();
        return err(start + 1, format!("invalid number '{bad}'"));
    }
    if float {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok((Tok::Float(v), i)),
            _ => err(start + 1, format!("number '{text}' is out of range")),
        }
    } else {
        match text.parse::<i64>() {
            Ok(v) => Ok((Tok::Int(v), i)),
            Err(_) => err(
                start + 1,
                format!("integer '{text}' is out of the int64 range"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_operators_literals_and_columns() {
        assert_eq!(
            toks("a<>b <= 'it''s' \"x y\" 1.5e3 .5 42"),
            vec![
                Tok::Ident("a".into()),
                Tok::Ne,
                Tok::Ident("b".into()),
                Tok::Le,
                Tok::Str("it's".into()),
                Tok::Quoted("x y".into()),
                Tok::Float(1500.0),
                Tok::Float(0.5),
                Tok::Int(42),
                Tok::End
            ]
        );
        let t = tokenize("é = 'ü'  x").unwrap_err();
        assert_eq!(t.column, 1);
        let t = tokenize("'ü' = x").unwrap();
        assert_eq!(t[1].column, 5);
        assert_eq!(t[3].column, 8);
    }

    #[test]
    fn reports_bad_tokens_with_columns() {
        assert_eq!(tokenize("a = 'open").unwrap_err().column, 5);
        assert_eq!(tokenize("x # 1").unwrap_err().column, 3);
        assert_eq!(tokenize("1 + 2x").unwrap_err().column, 5);
        assert_eq!(tokenize("1e").unwrap_err().column, 1);
        assert_eq!(tokenize("1.").unwrap_err().column, 1);
        assert_eq!(tokenize("99999999999999999999").unwrap_err().column, 1);
        assert_eq!(tokenize("1e999").unwrap_err().column, 1);
    }
}
