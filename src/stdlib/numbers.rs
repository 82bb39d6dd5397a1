//! Exact arithmetic. Integers are 64-bit and overflow is an error; decimals
//! are `rust_decimal` (28 significant digits) and never pass through `f64`:
//! `0.1 + 0.2` is exactly `0.3`.

use super::hooks::{ArgText, InverseArgs};
use super::{ArgError, Args, Category::Numbers, Fail, Hooks, TransformDef, ex};
use crate::exec::Value;
use rust_decimal::{Decimal, RoundingStrategy};

pub(super) enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

fn decimal_of(v: &Value<'_>) -> Result<Decimal, Fail> {
    match v {
        Value::Int(i) => Ok(Decimal::from(*i)),
        Value::Decimal(d) => Ok(*d),
        other => Err(Fail::wrong_type("number", other)),
    }
}

fn arith<'a>(v: Value<'a>, a: &Args<'_, 'a>, op: Op) -> Result<Value<'a>, Fail> {
    let rhs = a.get(0);
    if let Value::Money(m) = &v {
        return super::money::arith(*m, rhs, op);
    }
    if let (Value::Int(x), Value::Int(y), false) = (&v, rhs, matches!(op, Op::Div)) {
        let r = match op {
            Op::Add => x.checked_add(*y),
            Op::Sub => x.checked_sub(*y),
            _ => x.checked_mul(*y),
        };
        return r.map(Value::Int).ok_or_else(|| {
            Fail::arithmetic(format!(
                "{x} and {y}: the result does not fit in a 64-bit integer"
            ))
        });
    }
    let (x, y) = (decimal_of(&v)?, decimal_of(rhs)?);
    let r = match op {
        Op::Add => x.checked_add(y),
        Op::Sub => x.checked_sub(y),
        Op::Mul => x.checked_mul(y),
        Op::Div if y.is_zero() => return Err(Fail::arithmetic(format!("division of {x} by zero"))),
        Op::Div => x.checked_div(y),
    };
    r.map(Value::Decimal).ok_or_else(|| {
        Fail::arithmetic(format!(
            "{x} and {y}: the result is outside the range of exact decimals"
        ))
    })
}

fn add<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    arith(v, a, Op::Add)
}
fn sub<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    arith(v, a, Op::Sub)
}
fn mul<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    arith(v, a, Op::Mul)
}
fn div<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    arith(v, a, Op::Div)
}

fn neg<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Int(i) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| Fail::arithmetic(format!("-({i}) does not fit in a 64-bit integer"))),
        Value::Decimal(d) => {
            // Zero has no sign: `-0.00` would read as a debit of nothing.
            let mut n = -d;
            if n.is_zero() {
                n.set_sign_positive(true);
            }
            Ok(Value::Decimal(n))
        }
        other => Err(Fail::wrong_type("number", &other)),
    }
}

fn abs<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Int(i) => i
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| Fail::arithmetic(format!("|{i}| does not fit in a 64-bit integer"))),
        Value::Decimal(d) => Ok(Value::Decimal(d.abs())),
        other => Err(Fail::wrong_type("number", &other)),
    }
}

/// Rounding modes by name, as written in mappings.
pub(crate) const ROUNDING_MODES: &[(&str, RoundingStrategy)] = &[
    ("half_even", RoundingStrategy::MidpointNearestEven),
    ("half_up", RoundingStrategy::MidpointAwayFromZero),
    ("half_down", RoundingStrategy::MidpointTowardZero),
    ("up", RoundingStrategy::AwayFromZero),
    ("down", RoundingStrategy::ToZero),
    ("ceiling", RoundingStrategy::ToPositiveInfinity),
    ("floor", RoundingStrategy::ToNegativeInfinity),
];

pub(crate) fn rounding_mode(name: &str) -> Option<RoundingStrategy> {
    ROUNDING_MODES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m)
}

fn round<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let places = a.int(0)?;
    let mode_name = a.str(1)?;
    let mode = rounding_mode(mode_name)
        .ok_or_else(|| Fail::conversion(format!("unknown rounding mode {mode_name:?}")))?;
    let places = u32::try_from(places)
        .map_err(|_| Fail::conversion("decimal places must not be negative"))?;
    let d = decimal_of(&v)?;
    // Round, then fix the scale: `round(2)` on `1.5` gives `1.50`.
    let mut r = d.round_dp_with_strategy(places, mode);
    r.rescale(places);
    Ok(Value::Decimal(r))
}

fn check_round(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
    if let Some(Value::Int(p)) = args.first().copied().flatten()
        && !(0..=28).contains(p)
    {
        return Err(ArgError::new(0, "decimal places must be between 0 and 28"));
    }
    check_rounding_mode(args, 1, &[])
}

/// The rounding mode argument `i`, when constant, is one of
/// [`ROUNDING_MODES`] or of `extra` (such as `exact`).
pub(crate) fn check_rounding_mode(
    args: &[Option<&Value<'static>>],
    i: usize,
    extra: &[&'static str],
) -> Result<(), ArgError> {
    let Some(m) = super::const_str(args, i) else {
        return Ok(());
    };
    if rounding_mode(m).is_some() || extra.contains(&m) {
        return Ok(());
    }
    let names: Vec<&str> = extra
        .iter()
        .copied()
        .chain(ROUNDING_MODES.iter().map(|(n, _)| *n))
        .collect();
    Err(ArgError::new(
        i,
        format!("unknown rounding mode {m:?} (one of {})", names.join(", ")),
    )
    .suggest(m, names.iter().copied()))
}

// ------------------------------------------------------------ inverses

/// The factor of `mul(x)` or `div(x)` when the way back can undo it: a
/// number literal that is not zero (a field may be zero on some record).
fn factor<'a>(name: &str, args: &[ArgText<'a>]) -> Result<(&'a str, Decimal), String> {
    let Some(ArgText::Number(text)) = args.first() else {
        return Err(format!(
            "`{name}` by a field cannot be proved exact both ways (the field may be zero); write the factor as a number"
        ));
    };
    let Ok(x) = text.parse::<Decimal>() else {
        return Err(format!(
            "`{name}({text})`: the factor is not a decimal number"
        ));
    };
    if x.is_zero() {
        return Err(format!("`{name}(0)` has no inverse"));
    }
    Ok((text, x))
}

/// `mul(x)` is undone by `div(x)` when `x` is not zero.
fn mul_invertible(args: &[ArgText<'_>]) -> Result<(), String> {
    factor("mul", args).map(|_| ())
}

/// `div(x)` is undone by `mul(x)` when `1/x` is a finite decimal (else the
/// division rounded).
fn div_invertible(args: &[ArgText<'_>]) -> Result<(), String> {
    let (text, x) = factor("div", args)?;
    if terminating(x) {
        Ok(())
    } else {
        Err(format!(
            "`div({text})` rounds (1/{text} has no finite decimal expansion), so `mul({text})` does not undo it"
        ))
    }
}

/// Whether `1/x` has a finite decimal expansion: `x`'s integer numerator,
/// once its power of ten is removed, has no prime factor but 2 and 5.
fn terminating(x: Decimal) -> bool {
    let mut n = x.abs().mantissa();
    for p in [2, 5] {
        while n > 1 && n % p == 0 {
            n /= p;
        }
    }
    n == 1
}

pub(super) static DEFS: &[TransformDef] = &[
    TransformDef {
        name: "add",
        category: Numbers,
        signatures: &[
            "add(x: int): int -> int",
            "add(x: decimal): decimal -> decimal",
            "add(x: money): money -> money",
        ],
        fallible: true,
        doc: "Adds `x` (a literal or a field). Exact; overflow is an error.",
        examples: &[ex("add(0.2)", "0.1", "0.3"), ex("add(1)", "41", "42")],
        inverse: Some("sub"),
        apply: add,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "sub",
        category: Numbers,
        signatures: &[
            "sub(x: int): int -> int",
            "sub(x: decimal): decimal -> decimal",
            "sub(x: money): money -> money",
        ],
        fallible: true,
        doc: "Subtracts `x`: `amount -> net : sub(amount_refunded)`.",
        examples: &[ex("sub(0.25)", "1.00", "0.75")],
        inverse: Some("add"),
        apply: sub,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "mul",
        category: Numbers,
        signatures: &[
            "mul(x: int): int -> int",
            "mul(x: decimal): decimal -> decimal",
            "mul(x: decimal): money -> money",
        ],
        fallible: true,
        doc: "Multiplies by `x`. The scale of the result is the sum of the scales \
              (`1.50 * 2` is `3.00`).",
        examples: &[ex("mul(2)", "1.50", "3.00")],
        inverse: Some("div"),
        apply: mul,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            invertible: Some(mul_invertible),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "div",
        category: Numbers,
        signatures: &[
            "div(x: decimal): decimal -> decimal",
            "div(x: decimal): money -> money",
        ],
        fallible: true,
        doc: "Divides by `x`, exactly where the quotient has at most 28 significant digits; \
              follow with `round` to fix the places. Division by zero is an error.",
        examples: &[ex("div(4)", "1", "0.25"), ex("div(0)", "1", "error E1006")],
        inverse: Some("mul"),
        apply: div,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            invertible: Some(div_invertible),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "neg",
        category: Numbers,
        signatures: &["neg: int -> int", "neg: decimal -> decimal"],
        fallible: true,
        doc: "Changes the sign.",
        examples: &[ex("neg", "8.80", "-8.80")],
        inverse: Some("neg"),
        apply: neg,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "abs",
        category: Numbers,
        signatures: &["abs: int -> int", "abs: decimal -> decimal"],
        fallible: true,
        doc: "The absolute value.",
        examples: &[ex("abs", "-3.5", "3.5")],
        inverse: None,
        apply: abs,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "round",
        category: Numbers,
        signatures: &["round(places: int = 0, mode: string = \"half_even\"): decimal -> decimal"],
        fallible: false,
        doc: "Rounds to `places` decimal places and sets exactly that scale. Modes: \
              `half_even` (the default: banker's rounding, as for money), `half_up`, \
              `half_down`, `up` (away from zero), `down` (toward zero), `ceiling`, `floor`.",
        examples: &[
            ex("round(2)", "2.345", "2.34"),
            ex(r#"round(2, "half_up")"#, "2.345", "2.35"),
            ex("round(2)", "1.5", "1.50"),
            ex(r#"round(0, "floor")"#, "-1.5", "-2"),
        ],
        inverse: None,
        apply: round,
        check_args: Some(check_round),
        prepare: None,
        hooks: Hooks::NONE,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminating_divisors() {
        for (x, ok) in [
            ("100", true),
            ("8", true),
            ("0.5", true),
            ("2.5", true),
            ("3", false),
            ("12", false),
            ("0.3", false),
        ] {
            assert_eq!(terminating(x.parse().unwrap()), ok, "{x}");
        }
    }
}
