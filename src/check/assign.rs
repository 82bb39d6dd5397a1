//! Whether a pipeline's output may be written into its target: the kind,
//! the enum values, and null or missing values where the target refuses
//! them.

use super::types::{Flow, Ty};
use super::{Checker, types};
use crate::diag::{Code, Diagnostic};
use crate::schema::Type;
use crate::syntax::{self as ast, Span};

impl Checker<'_> {
    /// Checks that `out` may be written into a target of type `ty`. Returns
    /// the enum values to check at run time when the checker cannot prove
    /// the value is one of them.
    pub(super) fn assign(
        &mut self,
        out: &Flow,
        ty: &Type,
        optional: bool,
        at: Span,
        rule: &ast::Rule,
    ) -> Option<Option<Vec<String>>> {
        let Flow::One(out) = out else {
            let d = Diagnostic::error(
                Code::E0210,
                self.file,
                rule.span,
                "several sources need a step that combines them",
            )
            .label("a tuple reaches the target")
            .help("start the pipeline with `join(\" \")`, `concat` or `coalesce`");
            return self.fail(d);
        };
        let target_text = self.reg.display(ty);
        match types::assignable(&self.reg, out, ty) {
            types::Assign::Yes => {}
            types::Assign::RuntimeEnumCheck(values) => {
                self.null_checks(out, ty, optional, at, rule)?;
                return Some(Some(values));
            }
            types::Assign::NullElements => {
                // The whole value's absence first: it is the bigger loss.
                self.null_checks(out, ty, optional, at, rule)?;
                let d = Diagnostic::error(
                    Code::E0204,
                    self.file,
                    at,
                    format!("the elements of `{target_text}` may not be null, but the rule can give null elements"),
                )
                .label("elements not nullable: declared without `?` after their type")
                .secondary(
                    self.file,
                    rule.left.span().to(rule.right.span()),
                    format!("this rule produces `{}`", out.display(&self.reg)),
                )
                .help("declare the elements nullable (`[T?]`), or read a field every element has");
                return self.fail(d);
            }
            types::Assign::EnumValuesOutside(bad) => {
                let list = bad
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                let d = Diagnostic::error(
                    Code::E0208,
                    self.file,
                    at,
                    format!("the rule can produce {list}, which `{target_text}` does not allow"),
                )
                .label("target enum")
                .note(format!(
                    "`{target_text}` allows: {}",
                    types::enum_values_text(&self.reg, ty)
                ));
                return self.fail(d);
            }
            types::Assign::No => {
                let found = out.display(&self.reg);
                let mut d = Diagnostic::error(
                    Code::E0201,
                    self.file,
                    at,
                    format!(
                        "type mismatch: the target is `{target_text}`, the rule produces `{found}`"
                    ),
                )
                .label(format!("expected `{target_text}`"))
                .secondary(
                    self.file,
                    rule.span,
                    format!("this rule produces `{found}`"),
                );
                if let Some(h) = types::conversion_hint(&out.kind, &ty.kind) {
                    d = d.help(h);
                }
                return self.fail(d);
            }
        }
        self.null_checks(out, ty, optional, at, rule)?;
        Some(None)
    }

    pub(super) fn null_checks(
        &mut self,
        out: &Ty,
        ty: &Type,
        optional: bool,
        at: Span,
        rule: &ast::Rule,
    ) -> Option<()> {
        if out.missing && !optional {
            let d = Diagnostic::error(Code::E0204, self.file, at, "this required field may end up missing")
                .label("required: declared without `?` after its name")
                .secondary(self.file, rule.left.span().to(rule.right.span()), "the source may be absent")
                .help("add `: default(...)` to supply a value, or `: required` to reject records without it");
            return self.fail(d);
        }
        if out.nullable && !ty.nullable {
            let d = Diagnostic::error(Code::E0204, self.file, at, "this non-nullable field may receive null")
                .label("not nullable: declared without `?` after its type")
                .secondary(self.file, rule.left.span().to(rule.right.span()), "the source may be null")
                .help("add `: default(...)` to supply a value, or `: required` to reject records where it is null");
            return self.fail(d);
        }
        Some(())
    }
}
