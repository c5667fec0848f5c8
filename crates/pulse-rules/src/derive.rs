//! Derivations (tagging): each appends a nullable Utf8 column whose value
//! is the `set` of the first case whose `when` is TRUE, else the default.

use arrow_array::{ArrayRef, StringArray, UInt32Array};
use arrow_buffer::BooleanBuffer;
use arrow_schema::{DataType, Field, Schema};
use arrow_select::take::take;

use crate::expr::bind::TExpr;
use crate::expr::{compile_condition, eval::eval};
use crate::spec::DeriveSpec;
use crate::RuleError;

#[derive(Debug)]
pub struct Derivation {
    pub column: String,
    pub default: Option<String>,
    pub cases: Vec<(TExpr, String)>,
}

impl Derivation {
    /// Compiles against `schema`: the input plus the columns derived before.
    pub fn compile(spec: &DeriveSpec, schema: &Schema) -> Result<Derivation, RuleError> {
        let subject = format!("derivation '{}'", spec.column);
        if spec.column.is_empty() {
            return Err(RuleError::compile(
                "derivation",
                "column name must not be empty",
            ));
        }
        if schema.fields().iter().any(|f| f.name() == &spec.column) {
            return Err(RuleError::compile(
                &subject,
                "column already exists (a schema field or an earlier derivation)",
            ));
        }
        if spec.cases.len() >= u32::MAX as usize {
            return Err(RuleError::compile(&subject, "too many cases"));
        }
        let mut cases = Vec::with_capacity(spec.cases.len());
        for (k, c) in spec.cases.iter().enumerate() {
            let e = compile_condition(&c.when, schema, &format!("{subject} case {}", k + 1))?;
            cases.push((e, c.set.clone()));
        }
        Ok(Derivation {
            column: spec.column.clone(),
            default: spec.default.clone(),
            cases,
        })
    }

    pub fn field(&self) -> Field {
        Field::new(&self.column, DataType::Utf8, true)
    }

    /// The derived column over `n` rows with columns `cols`.
    pub fn evaluate(&self, cols: &[ArrayRef], n: usize) -> Result<ArrayRef, RuleError> {
        // choice[i] = 0: the default; k: case k - 1 matched first.
        let mut choice = vec![0u32; n];
        let mut open = BooleanBuffer::new_set(n);
        for (k, (when, _)) in self.cases.iter().enumerate() {
            if !open.has_true() {
                break;
            }
            let matched = &eval(when, cols, n)?.true_mask(n) & &open;
            for i in matched.set_indices() {
                choice[i] = k as u32 + 1;
            }
            open = &open & &!&matched;
        }
        // One label per choice (null at 0 without a default), gathered with
        // `take`: offsets and bytes are copied in one pass, no per-row append.
        let labels = StringArray::from_iter(
            std::iter::once(self.default.as_deref())
                .chain(self.cases.iter().map(|(_, s)| Some(s.as_str()))),
        );
        Ok(take(&labels, &UInt32Array::from(choice), None)?)
    }
}
