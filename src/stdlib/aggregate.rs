//! Aggregates: transforms whose input is an array, placed after a gathered
//! path (`payments[].amount -> CtrlSum : sum`). docs/design/13-documents.md
//! ("Aggregates") is the contract: nulls inside the array are skipped, an
//! absent array counts as an empty one, the empty array gives the
//! operation's identity (`0`, `false`, `true`), and `min`/`max` of nothing
//! is missing. Sums are exact (decimals keep their largest scale) and an
//! overflow is an error, never a wrapped or float value.

use super::hooks::{CallTypes, CurrencyRule, Presence, Typed};
use super::{Args, Category::Aggregates, Example, Fail, Hooks, Prepared, TransformDef, ex, ext};
use crate::base::{Currency, Money, Value};
use crate::diag::Code;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::collections::HashSet;

/// The elements of an aggregate's input: an absent array is an empty one.
fn elements<'a>(v: Value<'a>) -> Result<Vec<Value<'a>>, Fail> {
    match v {
        Value::Array(items) => Ok(items),
        Value::Missing | Value::Null => Ok(Vec::new()),
        other => Err(Fail::wrong_type("array", &other)),
    }
}

fn money_fail(message: String) -> Fail {
    Fail {
        code: Code::E1008,
        message,
    }
}

fn count<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let n = elements(v)?.iter().filter(|e| !e.is_absent()).count();
    // An array longer than i64::MAX cannot be held in memory.
    Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// The running total of a sum, in the kind of its first present element.
#[derive(Clone, Copy)]
enum Total {
    Int(i64),
    Decimal(Decimal),
    Float(f64),
    Money(Money),
}

/// The stated currency of `sum(currency)`: prepared with the plan when it
/// is a constant, read per record when it is a field, `None` when not
/// given.
fn stated_currency(a: &Args<'_, '_>) -> Result<Option<Currency>, Fail> {
    match a.prepared() {
        Prepared::Currency(c) => Ok(Some(*c)),
        _ => match a.get(0) {
            Value::Missing | Value::Null => Ok(None),
            Value::Str(s) => Currency::parse(s)
                .map(Some)
                .ok_or_else(|| money_fail(format!("`{s}` is not an ISO 4217 currency code"))),
            other => Err(Fail::wrong_type("currency code", other)),
        },
    }
}

fn prepare_currency(args: &[Option<&Value<'static>>]) -> Prepared {
    match args.first().copied().flatten() {
        Some(Value::Str(s)) => Currency::parse(s).map_or(Prepared::None, Prepared::Currency),
        _ => Prepared::None,
    }
}

fn overflow(i: usize) -> Fail {
    Fail::arithmetic(format!("the sum overflows at element [{i}]"))
}

fn sum<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let stated = stated_currency(a)?;
    let mut total: Option<Total> = stated.map(|currency| {
        Total::Money(Money {
            amount: Decimal::ZERO,
            currency,
        })
    });
    for (i, e) in elements(v)?.into_iter().enumerate() {
        total = Some(match (total, e) {
            (_, Value::Missing | Value::Null) => continue,
            (None, Value::Int(n)) => Total::Int(n),
            (None, Value::Decimal(d)) => Total::Decimal(d),
            (None, Value::Float(f)) => Total::Float(f),
            (None, Value::Money(m)) => Total::Money(m),
            (Some(Total::Int(t)), Value::Int(n)) => {
                Total::Int(t.checked_add(n).ok_or_else(|| overflow(i))?)
            }
            // An int among decimals (an `int` field summed as `decimal`).
            (Some(Total::Int(t)), Value::Decimal(d)) => {
                Total::Decimal(Decimal::from(t).checked_add(d).ok_or_else(|| overflow(i))?)
            }
            (Some(Total::Decimal(t)), Value::Decimal(d)) => {
                Total::Decimal(t.checked_add(d).ok_or_else(|| overflow(i))?)
            }
            (Some(Total::Decimal(t)), Value::Int(n)) => {
                Total::Decimal(t.checked_add(Decimal::from(n)).ok_or_else(|| overflow(i))?)
            }
            (Some(Total::Float(t)), Value::Float(f)) => Total::Float(t + f),
            (Some(Total::Money(t)), Value::Money(m)) => {
                if m.currency != t.currency {
                    return Err(money_fail(format!(
                        "element [{i}] is in {}, the sum in {}",
                        m.currency, t.currency
                    )));
                }
                Total::Money(Money {
                    amount: t.amount.checked_add(m.amount).ok_or_else(|| overflow(i))?,
                    currency: t.currency,
                })
            }
            (_, other) => return Err(Fail::wrong_type("number or money", &other)),
        });
    }
    Ok(match total {
        Some(Total::Int(n)) => Value::Int(n),
        Some(Total::Decimal(d)) => Value::Decimal(d),
        Some(Total::Float(f)) => Value::Float(f),
        Some(Total::Money(m)) => Value::Money(m),
        // Nothing to add: zero. Its kind is not known here; `0` writes and
        // computes as the zero of every number kind.
        None => Value::Int(0),
    })
}

/// The ordering of two elements of `min`/`max`; money only in one currency.
fn order(i: usize, a: &Value<'_>, b: &Value<'_>) -> Result<Ordering, Fail> {
    if let (Value::Money(x), Value::Money(y)) = (a, b) {
        if x.currency != y.currency {
            return Err(money_fail(format!(
                "element [{i}] is in {}, an earlier one in {}",
                y.currency, x.currency
            )));
        }
        return Ok(x.amount.cmp(&y.amount));
    }
    super::compare(a, b).ok_or_else(|| Fail::wrong_type(a.kind_name(), b))
}

fn extreme<'a>(v: Value<'a>, keep: Ordering) -> Result<Value<'a>, Fail> {
    let mut best: Option<Value<'a>> = None;
    for (i, e) in elements(v)?.into_iter().enumerate() {
        if e.is_absent() {
            continue;
        }
        best = Some(match best {
            None => e,
            // The first of equal values is kept.
            Some(b) if order(i, &b, &e)? == keep.reverse() => e,
            Some(b) => b,
        });
    }
    Ok(best.unwrap_or(Value::Missing))
}

fn min<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    extreme(v, Ordering::Less)
}

fn max<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    extreme(v, Ordering::Greater)
}

fn bools<'a>(v: Value<'a>, identity: bool) -> Result<Value<'a>, Fail> {
    for e in elements(v)? {
        match e {
            Value::Bool(b) if b != identity => return Ok(Value::Bool(b)),
            Value::Bool(_) | Value::Missing | Value::Null => {}
            other => return Err(Fail::wrong_type("bool", &other)),
        }
    }
    Ok(Value::Bool(identity))
}

fn any<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    bools(v, false)
}

fn all<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    bools(v, true)
}

/// A value's identity for `count_distinct`: decimals by value (`1.0` and
/// `1.00` are one), instants as instants, money by amount and currency,
/// anything else by its JSON text.
fn distinct_key(v: &Value<'_>) -> String {
    match v {
        Value::Decimal(d) => d.normalize().to_string(),
        Value::Int(n) => n.to_string(),
        Value::Money(m) => format!("{} {}", m.amount.normalize(), m.currency),
        Value::DateTime(t) => t.naive_utc().to_string(),
        other => other.to_json(),
    }
}

fn count_distinct<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let seen: HashSet<String> = elements(v)?
        .iter()
        .filter(|e| !e.is_absent())
        .map(distinct_key)
        .collect();
    Ok(Value::Int(i64::try_from(seen.len()).unwrap_or(i64::MAX)))
}

/// `min`/`max`: missing when the array holds no present value, which the
/// checker cannot rule out; never null.
fn may_be_missing(_: &CallTypes<'_>) -> Typed {
    Typed {
        presence: Presence {
            missing: true,
            nullable: false,
        },
        values: None,
    }
}

const MIN_SIGS: &[&str] = &[
    "min: [int?]? -> int?",
    "min: [decimal?]? -> decimal?",
    "min: [float?]? -> float?",
    "min: [string?]? -> string?",
    "min: [date?]? -> date?",
    "min: [datetime?]? -> datetime?",
    "min: [localdatetime?]? -> localdatetime?",
    "min: [time?]? -> time?",
    "min: [money?]? -> money?",
];

const MAX_SIGS: &[&str] = &[
    "max: [int?]? -> int?",
    "max: [decimal?]? -> decimal?",
    "max: [float?]? -> float?",
    "max: [string?]? -> string?",
    "max: [date?]? -> date?",
    "max: [datetime?]? -> datetime?",
    "max: [localdatetime?]? -> localdatetime?",
    "max: [time?]? -> time?",
    "max: [money?]? -> money?",
];

const SUM_EXAMPLES: &[Example] = &[
    ex("sum", "[1, 2, 3]", "6"),
    ext("sum", "[decimal]", "[18.150, 8.85]", "27.000"),
    ext("sum", "[decimal?]", "[1.5, null]", "1.5"),
    ext("sum", "[int]", "[]", "0"),
    ext("sum", "[int]", "null", "0"),
    ex("sum", "[9223372036854775807, 1]", "error E1006"),
    ext(
        "sum",
        "[money<EUR>]",
        r#"[{"amount": "6543.14", "currency": "EUR"}, {"amount": "112.72", "currency": "EUR"}]"#,
        r#"{"amount":"6655.86","currency":"EUR"}"#,
    ),
    ext(
        r#"sum("EUR")"#,
        "[money]",
        r#"[{"amount": "1.00", "currency": "EUR"}, {"amount": "2.00", "currency": "USD"}]"#,
        "error E1008",
    ),
    ext(
        r#"sum("EUR")"#,
        "[money]",
        "[]",
        r#"{"amount":"0.00","currency":"EUR"}"#,
    ),
];

pub static DEFS: &[TransformDef] = &[
    TransformDef {
        name: "count",
        category: Aggregates,
        signatures: &["count: [any?]? -> int"],
        fallible: false,
        doc: "The number of present values of an array: nulls are not counted (`length` \
              counts them). An absent array counts 0. `payments[] -> NbOfTxs : count`.",
        examples: &[
            ext("count", "[string?]", r#"["a", null, "b"]"#, "2"),
            ex("count", "[]", "0"),
            ext("count", "[string]", "missing", "0"),
        ],
        inverse: None,
        apply: count,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "sum",
        category: Aggregates,
        signatures: &[
            "sum: [int?]? -> int",
            "sum: [decimal?]? -> decimal",
            "sum: [float?]? -> float",
            "sum(currency: currency? = null): [money?]? -> money",
        ],
        fallible: true,
        doc: "The exact sum of an array's present values; nulls are skipped, an empty or \
              absent array sums to 0. Decimals keep the largest scale of their parts; an \
              overflow rejects the record (E1006), naming the element. Money sums in one \
              currency: the elements' when the checker knows it, or the one stated \
              (`sum(\"EUR\")`, `sum(currency)`), and an element in another currency \
              rejects the record (E1008). Money whose currency differs per element needs \
              the currency stated (E0262).",
        examples: SUM_EXAMPLES,
        inverse: None,
        apply: sum,
        check_args: None,
        prepare: Some(prepare_currency),
        hooks: Hooks {
            currency: CurrencyRule::Elements { param: Some(0) },
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "min",
        category: Aggregates,
        signatures: MIN_SIGS,
        fallible: true,
        doc: "The least present value of an array (numbers by value, strings by code \
              point, instants as instants, money by amount in one currency). Missing when \
              there is none: a required target needs `| default(...)`.",
        examples: &[
            ext("min", "[int?]", "[3, null, 1]", "1"),
            ex("min", r#"["b", "a"]"#, r#""a""#),
            ex("min", "[]", "missing"),
        ],
        inverse: None,
        apply: min,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            type_rule: Some(may_be_missing),
            currency: CurrencyRule::Elements { param: None },
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "max",
        category: Aggregates,
        signatures: MAX_SIGS,
        fallible: true,
        doc: "The greatest present value of an array, compared as `min` compares. Missing \
              when there is none.",
        examples: &[
            ext("max", "[decimal?]", "[2.5, 10, null]", "10"),
            ex("max", "[]", "missing"),
        ],
        inverse: None,
        apply: max,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            type_rule: Some(may_be_missing),
            currency: CurrencyRule::Elements { param: None },
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "any",
        category: Aggregates,
        signatures: &["any: [bool?]? -> bool"],
        fallible: false,
        doc: "Whether some present value of an array is `true`; `false` for an empty array.",
        examples: &[
            ext("any", "[bool?]", "[false, null, true]", "true"),
            ext("any", "[bool]", "[]", "false"),
        ],
        inverse: None,
        apply: any,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "all",
        category: Aggregates,
        signatures: &["all: [bool?]? -> bool"],
        fallible: false,
        doc: "Whether every present value of an array is `true`; `true` for an empty array.",
        examples: &[
            ext("all", "[bool?]", "[true, null, true]", "true"),
            ext("all", "[bool]", "[true, false]", "false"),
            ext("all", "[bool]", "[]", "true"),
        ],
        inverse: None,
        apply: all,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "count_distinct",
        category: Aggregates,
        signatures: &["count_distinct: [any?]? -> int"],
        fallible: false,
        doc: "The number of different present values of an array. Decimals compare by \
              value (`1.0` and `1.00` are one), strings exactly, instants as instants.",
        examples: &[
            ext(
                "count_distinct",
                "[string?]",
                r#"["a", "b", "a", null]"#,
                "2",
            ),
            ext("count_distinct", "[decimal]", "[1.0, 1.00, 2]", "2"),
        ],
        inverse: None,
        apply: count_distinct,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
];
