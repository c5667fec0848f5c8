//! View filters: a boolean expression compiled once and evaluated to a
//! TRUE-only row mask (a WHERE clause: null and false rows are dropped).

use arrow_array::{ArrayRef, BooleanArray, RecordBatch};
use arrow_buffer::BooleanBuffer;
use arrow_schema::SchemaRef;

use crate::expr::bind::TExpr;
use crate::expr::{compile_condition, eval::eval};
use crate::{batch, RuleError};

#[derive(Debug)]
pub struct Predicate {
    expr: TExpr,
    input: SchemaRef,
    /// The columns the expression reads, checked on every batch.
    columns: Vec<usize>,
}

/// Compiles a filter expression against `input` (errors name `filter` and
/// the column in the text).
pub fn compile_predicate(expr: &str, input: &SchemaRef) -> Result<Predicate, RuleError> {
    let e = compile_condition(expr, input, "filter")?;
    let mut columns = Vec::new();
    e.columns(&mut columns);
    Ok(Predicate {
        expr: e,
        input: input.clone(),
        columns,
    })
}

impl Predicate {
    /// The rows where the expression is TRUE; an error when the batch lacks
    /// a column the expression reads, under the same name and type.
    pub fn try_mask(&self, batch: &RecordBatch) -> Result<BooleanArray, RuleError> {
        let n = batch.num_rows();
        let mut cols: Vec<Option<ArrayRef>> = vec![None; self.input.fields().len()];
        for &i in &self.columns {
            cols[i] = Some(batch::column(batch, &self.input, i)?);
        }
        // Columns the expression never reads stand in as empty placeholders.
        let placeholder: ArrayRef =
            std::sync::Arc::new(BooleanArray::new(BooleanBuffer::new_unset(0), None));
        let cols: Vec<ArrayRef> = cols
            .into_iter()
            .map(|c| c.unwrap_or_else(|| placeholder.clone()))
            .collect();
        let v = eval(&self.expr, &cols, n)?;
        Ok(BooleanArray::new(v.true_mask(n), None))
    }

    /// Like [`Predicate::try_mask`], but a batch that does not fit selects no row.
    pub fn mask(&self, batch: &RecordBatch) -> BooleanArray {
        self.try_mask(batch)
            .unwrap_or_else(|_| BooleanArray::new(BooleanBuffer::new_unset(batch.num_rows()), None))
    }
}
