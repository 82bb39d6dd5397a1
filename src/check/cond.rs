//! `if` steps: a boolean condition, branches of one type, and what the
//! condition proves about the value in the `else` branch.

use super::types::Flow;
use super::{Checker, DirView, TStep, types};
use crate::base::Scalar;
use crate::diag::{Code, Diagnostic};
use crate::schema::Kind;
use crate::stdlib;
use crate::syntax as ast;

impl Checker<'_> {
    pub(super) fn if_step(
        &mut self,
        i: &ast::IfStep,
        flow: Flow,
        v: &DirView<'_>,
    ) -> Option<(TStep, Flow)> {
        let (cond_steps, cond_flow) = self.pipeline(Some(&i.condition), flow.clone(), v)?;
        if !matches!(&cond_flow, Flow::One(t) if t.kind == Kind::Scalar(Scalar::Bool)) {
            let d = Diagnostic::error(
                Code::E0213,
                self.file,
                i.condition.span,
                format!(
                    "the condition produces `{}`, not `bool`",
                    cond_flow.display(&self.reg)
                ),
            )
            .label("expected a bool")
            .help("use a predicate: `is_blank`, `is_null`, `eq(\"x\")`, `gt(0)`, ...");
            return self.fail(d);
        }
        let (then_steps, then_flow) = self.pipeline(Some(&i.then), flow.clone(), v)?;
        // `if is_null { ... }`: past the test, the value is present. What a
        // false predicate proves is the predicate's own hook.
        let narrows = match i.condition.steps.as_slice() {
            [ast::Step::Call(c)] if c.args.is_empty() => {
                stdlib::lookup(&c.name.name).and_then(|d| d.hooks.narrows)
            }
            _ => None,
        };
        let flow = match (narrows, flow) {
            (Some(narrow), Flow::One(t)) => {
                let narrowed = narrow(t.presence());
                Flow::One(t.with_presence(narrowed))
            }
            (_, flow) => flow,
        };
        let (else_steps, else_flow) = match i.otherwise.as_deref() {
            None => (Vec::new(), flow),
            Some(ast::ElseBranch::Pipeline(p)) => self.pipeline(Some(p), flow, v)?,
            Some(ast::ElseBranch::If(inner)) => {
                let (s, f) = self.if_step(inner, flow, v)?;
                (vec![s], f)
            }
        };
        let (Flow::One(a), Flow::One(b)) = (&then_flow, &else_flow) else {
            let d = Diagnostic::error(
                Code::E0210,
                self.file,
                i.span,
                "an `if` branch produces a tuple",
            )
            .label("here");
            return self.fail(d);
        };
        let Some(joined) = types::join(a, b) else {
            let d = Diagnostic::error(
                Code::E0201,
                self.file,
                i.span,
                format!(
                    "the branches produce different types: `{}` and `{}`",
                    a.display(&self.reg),
                    b.display(&self.reg)
                ),
            )
            .label("both branches must produce one type");
            return self.fail(d);
        };
        Some((
            TStep::If {
                condition: cond_steps,
                then: then_steps,
                otherwise: else_steps,
            },
            Flow::One(joined),
        ))
    }
}
