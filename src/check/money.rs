//! The currency of money a step gives, when the checker can know it, and
//! arithmetic on money in two known currencies (E0219).

use super::types::Flow;
use super::{Checker, types};
use crate::base::Currency;
use crate::base::Value;
use crate::diag::{Code, Diagnostic};
use crate::schema::Kind;
use crate::stdlib::hooks::CurrencyRule;
use crate::syntax as ast;

impl Checker<'_> {
    /// The currency of a step's money output, when the checker can know it:
    /// the constant currency argument of a transform that declares one
    /// (`CurrencyRule::Param`), or the input's currency for the steps that
    /// keep it. Arithmetic on two known, different currencies is E0219
    /// (`None` returned: the step failed).
    pub(super) fn money_currency(
        &mut self,
        c: &ast::Call,
        rule: CurrencyRule,
        consts: &[Option<Value<'static>>],
        flow: &Flow,
        arg_tys: &[types::ArgTy],
    ) -> Option<Option<Currency>> {
        if let Some(declared) = declared_currency(rule, consts) {
            return Some(declared);
        }
        let input = match flow {
            Flow::One(t) => match t.kind {
                Kind::Money(c) => c,
                _ => None,
            },
            Flow::Tuple(_) => None,
        };
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

/// The currency a transform's rule gives its money, from the constant
/// argument at the position it declares (`money("EUR")`; `None` inside
/// when the argument is a field). `None` when the money keeps the input's
/// currency. A parameter's name plays no part.
fn declared_currency(
    rule: CurrencyRule,
    consts: &[Option<Value<'static>>],
) -> Option<Option<Currency>> {
    match rule {
        CurrencyRule::Param(i) => Some(match consts.get(i) {
            Some(Some(Value::Str(code))) => Currency::parse(code),
            _ => None,
        }),
        CurrencyRule::Input => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::{Scalar, Span};
    use crate::schema::Registry;
    use crate::stdlib::hooks::Hooks;
    use crate::stdlib::sig;
    use types::{ArgTy, Ty, match_signature};

    /// The currency of `tag(PARAM: currency): decimal -> money` on a
    /// decimal, called with `"EUR"`, as the checker finds it.
    fn currency_of_call(param: &str, hooks: &Hooks) -> Option<Option<Currency>> {
        let (_, sig) = sig::parse(&format!("tag({param}: currency): decimal -> money")).ok()?;
        let flow = Flow::One(Ty {
            kind: Kind::Scalar(Scalar::Decimal),
            nullable: false,
            missing: false,
            values: None,
        });
        let eur = ast::Literal {
            kind: ast::LiteralKind::String("EUR".to_string()),
            span: Span::default(),
        };
        let m = match_signature(
            &Registry::default(),
            hooks,
            &sig,
            &flow,
            &[ArgTy::Literal(eur)],
        );
        declared_currency(hooks.currency, &m.ok()?.const_args)
    }

    #[test]
    fn a_currency_flows_by_the_declared_rule_whatever_the_parameter_is_called() {
        let declared = Hooks {
            currency: CurrencyRule::Param(0),
            ..Hooks::NONE
        };
        for param in ["currency", "to", "code", "ccy"] {
            assert_eq!(
                currency_of_call(param, &declared),
                Some(Currency::parse("EUR")),
                "parameter `{param}`"
            );
            // Without the rule, no name makes the argument the currency.
            assert_eq!(
                currency_of_call(param, &Hooks::NONE),
                None,
                "parameter `{param}`"
            );
        }
    }
}
