//! The expression language: lexer → parser → binder (type checker) →
//! vectorised evaluator. `docs/rules.md` documents the grammar and types.

pub mod bind;
pub mod eval;
pub mod lexer;
pub mod parser;
pub mod value;
pub mod vector;

#[cfg(test)]
pub(crate) mod rowwise;

use arrow_schema::Schema;

use crate::RuleError;
use bind::{Scope, TExpr};
use value::Ty;

/// Parses and type-checks `text` against `schema`. Errors name `subject`
/// (`rule 'x'`, `derivation 'y' case 1`, `filter`) and the column.
pub fn compile(text: &str, schema: &Schema, subject: &str) -> Result<TExpr, RuleError> {
    let ast = parser::parse(text).map_err(|e| RuleError::at(subject, e.column, e.message))?;
    bind::bind(&ast, &Scope { schema }).map_err(|e| RuleError::at(subject, e.column, e.message))
}

/// Like [`compile`], for expressions used as conditions: the type must be
/// bool (or the `null` literal).
pub fn compile_condition(text: &str, schema: &Schema, subject: &str) -> Result<TExpr, RuleError> {
    let e = compile(text, schema, subject)?;
    match e.ty {
        Ty::Bool | Ty::Null => Ok(e),
        t => Err(RuleError::at(
            subject,
            1,
            format!("the expression must be boolean, found {}", t.name()),
        )),
    }
}
