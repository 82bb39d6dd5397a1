//! The currency of money a step gives, when the checker can know it, and
//! arithmetic on money in two known currencies (E0219).

use super::types::Flow;
use super::{Checker, types};
use crate::diag::{Code, Diagnostic};
use crate::exec::Value;
use crate::schema::Kind;
use crate::stdlib;
use crate::stdlib::iso4217::Currency;
use crate::syntax as ast;

impl Checker<'_> {
    /// The currency of a step's money output, when the checker can know it:
    /// a literal `currency`/`to` argument, or the input's currency for the
    /// steps that keep it. Arithmetic on two known, different currencies is
    /// E0219 (`None` returned: the step failed).
    pub(super) fn money_currency(
        &mut self,
        c: &ast::Call,
        sig: &stdlib::sig::Signature,
        consts: &[Option<Value<'static>>],
        flow: &Flow,
        arg_tys: &[types::ArgTy],
    ) -> Option<Option<Currency>> {
        let input = match flow {
            Flow::One(t) => match t.kind {
                Kind::Money(c) => c,
                _ => None,
            },
            Flow::Tuple(_) => None,
        };
        for (i, p) in sig.params.iter().enumerate() {
            if p.name == "currency" || p.name == "to" {
                return Some(match consts.get(i) {
                    Some(Some(Value::Str(code))) => Currency::parse(code),
                    _ => None,
                });
            }
        }
        if let (Some(a), Some(types::ArgTy::Field(t, _))) = (input, arg_tys.first())
            && let Kind::Money(Some(b)) = t.kind
            && a != b
        {
            let span = c.args.first().map_or(c.span, ast::Arg::span);
            let d = Diagnostic::error(
                Code::E0219,
                self.file,
                span,
                format!("`{}` of money in {a} and money in {b}", c.name.name),
            )
            .label(format!("this is in {b}"))
            .secondary(self.file, c.name.span, format!("the value here is in {a}"))
            .help(format!(
                "convert one first: `convert_currency(\"{a}\", rate)`"
            ));
            return self.fail(d);
        }
        Some(input)
    }
}
