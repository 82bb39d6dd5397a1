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
        if let CurrencyRule::Elements { .. } = rule {
            return self.elements_currency(c, rule, flow);
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

impl Checker<'_> {
    /// The one currency of the money an aggregate takes (an array's
    /// elements, or a tuple's parts), when the checker knows it. Parts in
    /// known, different currencies are E0219; money whose currency may
    /// differ per element, with none stated, is E0262.
    fn elements_currency(
        &mut self,
        c: &ast::Call,
        rule: CurrencyRule,
        flow: &Flow,
    ) -> Option<Option<Currency>> {
        let kinds: Vec<&Kind> = match flow {
            Flow::One(t) => match &t.kind {
                Kind::Array(e) => vec![&e.kind],
                other => vec![other],
            },
            Flow::Tuple(ts) => ts.iter().map(|t| &t.kind).collect(),
        };
        let mut known: Option<Currency> = None;
        for k in kinds {
            match k {
                Kind::Money(Some(b)) => match known {
                    Some(a) if a != *b => {
                        let d = Diagnostic::error(
                            Code::E0219,
                            self.file,
                            c.name.span,
                            format!("`{}` of money in {a} and money in {b}", c.name.name),
                        )
                        .label("the values here are in different currencies")
                        .help(format!(
                            "convert one first: `convert_currency(\"{a}\", rate)`"
                        ));
                        return self.fail(d);
                    }
                    _ => known = Some(*b),
                },
                _ => {
                    let shown = flow.display(&self.reg);
                    let d = Diagnostic::error(
                        Code::E0262,
                        self.file,
                        c.name.span,
                        format!("`{}` of money whose currencies may differ", c.name.name),
                    )
                    .label(format!(
                        "the value here is `{shown}`: each element carries its own currency"
                    ))
                    .help(match rule {
                        CurrencyRule::Elements { param: Some(_) } => format!(
                            "state the currency: `{}(\"EUR\")` or `{}(currency)`; an element \
                             in another one then rejects the record",
                            c.name.name, c.name.name
                        ),
                        _ => String::from(
                            "amounts in two currencies do not compare: convert them to one \
                             first, or compare the amounts (`amount_of`)",
                        ),
                    });
                    return self.fail(d);
                }
            }
        }
        Some(known)
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
        // An aggregate's stated currency: a constant, or a field (known
        // per record only); not stated, the elements say (the caller).
        CurrencyRule::Elements { param: Some(i) } => match consts.get(i) {
            Some(Some(Value::Str(code))) => Some(Currency::parse(code)),
            Some(None) => Some(None),
            _ => None,
        },
        CurrencyRule::Input | CurrencyRule::Elements { param: None } => None,
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
