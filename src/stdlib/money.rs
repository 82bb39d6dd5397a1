//! Currencies and money. The ISO 4217 table ([`super::iso4217`]) gives each
//! currency its minor units; amounts are `rust_decimal`, never `f64`; a
//! conversion that would lose digits fails unless a rounding mode is given.

use super::hooks::CurrencyRule;
use super::iso4217::{Currency, not_a_currency, withdrawn};
use super::numbers::{Op, check_rounding_mode, rounding_mode};
use super::{ArgError, Args, Category, Fail, Hooks, Prepared, TransformDef, const_str, ex, ext};
use crate::diag::Code;
use crate::exec::{Money, Value};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

const MONEY: Category = Category::Money;

fn money_fail(message: String) -> Fail {
    Fail {
        code: Code::E1008,
        message,
    }
}

fn currency_arg(v: &Value<'_>) -> Result<Currency, Fail> {
    match v {
        Value::Str(s) => Currency::parse(s).ok_or_else(|| money_fail(not_a_currency(s))),
        other => Err(Fail::wrong_type("currency code", other)),
    }
}

/// The first argument's currency: prepared with the plan when constant.
fn first_currency(a: &Args<'_, '_>) -> Result<Currency, Fail> {
    match a.prepared() {
        Prepared::Currency(c) => Ok(*c),
        _ => currency_arg(a.get(0)),
    }
}

fn prepare_first_currency(args: &[Option<&Value<'static>>]) -> Prepared {
    const_str(args, 0)
        .and_then(Currency::parse)
        .map_or(Prepared::None, Prepared::Currency)
}

fn money_of(v: &Value<'_>) -> Result<Money, Fail> {
    match v {
        Value::Money(m) => Ok(*m),
        other => Err(Fail::wrong_type("money", other)),
    }
}

fn minor_units(c: Currency) -> Result<u32, Fail> {
    c.minor_units()
        .ok_or_else(|| money_fail(format!("{c} ({}) has no minor unit", c.info().name)))
}

/// A constant currency argument `i` must be an ISO 4217 code (E0216); a
/// withdrawn one says when and what replaced it.
fn check_currency(args: &[Option<&Value<'static>>], i: usize) -> Result<(), ArgError> {
    let Some(code) = const_str(args, i).filter(|c| Currency::parse(c).is_none()) else {
        return Ok(());
    };
    if let Some(w) = withdrawn(code) {
        let e = ArgError::new(i, format!("withdrawn currency {code:?}"))
            .code(Code::E0216)
            .note(w.to_string());
        return Err(match w.replacement() {
            Some(now) => e.help(format!("use \"{now}\"")),
            None => e,
        });
    }
    Err(ArgError::new(
        i,
        format!("unknown currency {code:?}: not an ISO 4217 code"),
    )
    .code(Code::E0216)
    .suggest(&code.to_ascii_uppercase(), Currency::all_codes()))
}

fn check_first_currency(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
    check_currency(args, 0)
}

fn currency_code<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    currency_arg(&v).map(|c| Value::str(c.code()))
}

fn from_minor<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let currency = first_currency(a)?;
    let units = minor_units(currency)?;
    let minor = match v {
        Value::Int(i) => i,
        other => return Err(Fail::wrong_type("integer amount of minor units", &other)),
    };
    let mut amount = Decimal::from(minor);
    amount
        .set_scale(units)
        .map_err(|e| money_fail(e.to_string()))?;
    Ok(Value::Money(Money { amount, currency }))
}

/// Rounds `m` to its currency's decimals: `exact` fails if that drops
/// digits other than trailing zeros.
fn to_currency_scale(m: Money, mode: &str) -> Result<Decimal, Fail> {
    let units = minor_units(m.currency)?;
    let mut rounded = match mode {
        "exact" => {
            let r = m.amount.round_dp(units);
            if r != m.amount {
                return Err(Fail::conversion(format!(
                    "{} {} has more than the {units} decimals of {}; give a rounding mode (half_even, half_up, ...) to round it",
                    m.amount, m.currency, m.currency
                )));
            }
            r
        }
        name => {
            let strategy = rounding_mode(name)
                .ok_or_else(|| Fail::conversion(format!("unknown rounding mode {name:?}")))?;
            m.amount.round_dp_with_strategy(units, strategy)
        }
    };
    rounded.rescale(units);
    Ok(rounded)
}

fn to_minor<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let m = money_of(&v)?;
    let major = to_currency_scale(m, a.str(0)?)?;
    let minor = major.mantissa();
    i64::try_from(minor)
        .map(Value::Int)
        .map_err(|_| Fail::arithmetic(format!("{minor} minor units do not fit in an int")))
}

fn money<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let currency = first_currency(a)?;
    let amount = match v {
        Value::Int(i) => Decimal::from(i),
        Value::Decimal(d) => d,
        other => return Err(Fail::wrong_type("number", &other)),
    };
    Ok(Value::Money(Money { amount, currency }))
}

fn format_amount<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let m = money_of(&v)?;
    to_currency_scale(m, "exact").map(|d| Value::str(d.to_string()))
}

fn amount_of<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(Value::Decimal(money_of(&v)?.padded_amount()))
}

fn currency_of<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(Value::str(money_of(&v)?.currency.code()))
}

fn round_money<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let m = money_of(&v)?;
    let amount = to_currency_scale(m, a.str(0)?)?;
    Ok(Value::Money(Money { amount, ..m }))
}

fn check_round_money(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
    check_rounding_mode(args, 0, &[])
}

fn check_to_minor(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
    check_rounding_mode(args, 0, &["exact"])
}

/// Money arithmetic for the number transforms: `add`/`sub` need the same
/// currency; `mul`/`div` take a plain number. Full precision is kept until
/// the value is rounded or formatted.
pub(super) fn arith<'a>(m: Money, rhs: &Value<'_>, op: Op) -> Result<Value<'a>, Fail> {
    let overflow = || {
        Fail::arithmetic(format!(
            "{} {}: the result is outside the range of exact decimals",
            m.amount, m.currency
        ))
    };
    let amount = match op {
        Op::Add | Op::Sub => {
            let other = money_of(rhs)?;
            if other.currency != m.currency {
                return Err(money_fail(format!(
                    "cannot combine {} {} and {} {}: convert one currency first",
                    m.amount, m.currency, other.amount, other.currency
                )));
            }
            if matches!(op, Op::Add) {
                m.amount.checked_add(other.amount)
            } else {
                m.amount.checked_sub(other.amount)
            }
        }
        Op::Mul | Op::Div => {
            let n = match rhs {
                Value::Int(i) => Decimal::from(*i),
                Value::Decimal(d) => *d,
                other => return Err(Fail::wrong_type("number", other)),
            };
            if matches!(op, Op::Mul) {
                m.amount.checked_mul(n)
            } else if n.is_zero() {
                return Err(Fail::arithmetic(format!(
                    "division of {} by zero",
                    m.amount
                )));
            } else {
                m.amount.checked_div(n)
            }
        }
    };
    amount
        .map(|amount| Value::Money(Money { amount, ..m }))
        .ok_or_else(overflow)
}

// ------------------------------------------------------------ conversion

fn rate_of(v: &Value<'_>) -> Result<Decimal, Fail> {
    let r = match v {
        Value::Int(i) => Decimal::from(*i),
        Value::Decimal(d) => *d,
        other => return Err(Fail::wrong_type("exchange rate", other)),
    };
    if r <= Decimal::ZERO {
        return Err(money_fail(format!("the exchange rate {r} is not positive")));
    }
    Ok(r)
}

fn converted(m: Money, to: Currency, rate: Decimal, mode: &str) -> Result<Value<'static>, Fail> {
    let amount = m
        .amount
        .checked_mul(rate)
        .ok_or_else(|| Fail::arithmetic(format!("{} × {rate} is out of range", m.amount)))?;
    let amount = to_currency_scale(
        Money {
            amount,
            currency: to,
        },
        mode,
    )?;
    Ok(Value::Money(Money {
        amount,
        currency: to,
    }))
}

fn convert_currency<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let m = money_of(&v)?;
    let to = first_currency(a)?;
    let rate = rate_of(a.get(1))?;
    converted(m, to, rate, a.str(2)?)
}

fn check_convert(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
    check_currency(args, 0)?;
    if let Some(r) = args.get(1).copied().flatten()
        && rate_of(r).is_err()
    {
        return Err(ArgError::new(
            1,
            "the exchange rate must be a positive number",
        ));
    }
    check_rounding_mode(args, 2, &[])
}

/// Exchange rates loaded from a JSON file: `{"base": "USD", "rates": {"AED":
/// "3.6725", "EUR": 0.92}}` (rates as numbers or strings, read exactly).
#[derive(Debug)]
pub struct Rates {
    base: Currency,
    rates: HashMap<Currency, Decimal>,
}

impl Rates {
    pub fn parse(text: &str) -> Result<Rates, String> {
        #[derive(serde::Deserialize)]
        struct File {
            base: String,
            rates: serde_json::Map<String, serde_json::Value>,
        }
        let f: File = serde_json::from_str(text)
            .map_err(|e| format!("not a rates file {{\"base\": ..., \"rates\": {{...}}}}: {e}"))?;
        let base =
            Currency::parse(&f.base).ok_or_else(|| format!("base: {}", not_a_currency(&f.base)))?;
        let mut rates = HashMap::new();
        for (code, v) in f.rates {
            let c = Currency::parse(&code).ok_or_else(|| not_a_currency(&code))?;
            let text = match &v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err(format!("the rate of {code} is not a number")),
            };
            let r = super::convert_text::decimal(&text).map_err(|f| f.message)?;
            if r <= Decimal::ZERO {
                return Err(format!("the rate of {code} is not positive"));
            }
            rates.insert(c, r);
        }
        rates.insert(base, Decimal::ONE);
        Ok(Rates { base, rates })
    }

    /// The rate from one currency to another, through the base.
    pub fn rate(&self, from: Currency, to: Currency) -> Result<Decimal, Fail> {
        let get = |c: Currency| {
            self.rates.get(&c).copied().ok_or_else(|| {
                money_fail(format!(
                    "the rates file has no rate between {} and {c}",
                    self.base
                ))
            })
        };
        if from == to {
            return Ok(Decimal::ONE);
        }
        let (f, t) = (get(from)?, get(to)?);
        t.checked_div(f)
            .ok_or_else(|| Fail::arithmetic(format!("the rate {from}→{to} is out of range")))
    }
}

/// A rates file as read: the rates, or why they could not be read.
type LoadedRates = Arc<Result<Rates, String>>;

/// Rates files, read once per process and path.
static RATES_FILES: LazyLock<Mutex<HashMap<PathBuf, LoadedRates>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn rates_file(path: &str) -> LoadedRates {
    let key = PathBuf::from(path);
    let mut files = match RATES_FILES.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    files
        .entry(key)
        .or_insert_with(|| {
            Arc::new(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the rates file {path:?}: {e}"))
                    .and_then(|t| Rates::parse(&t).map_err(|e| format!("{path}: {e}"))),
            )
        })
        .clone()
}

fn convert_with_rates<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let m = money_of(&v)?;
    let to = currency_arg(a.get(0))?;
    let file = rates_file(a.str(1)?);
    let rates = file.as_ref().as_ref().map_err(|e| money_fail(e.clone()))?;
    let rate = rates.rate(m.currency, to)?;
    converted(m, to, rate, a.str(2)?)
}

fn check_convert_with_rates(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
    check_currency(args, 0)?;
    check_rounding_mode(args, 2, &[])
}

pub(super) static DEFS: &[TransformDef] = &[
    TransformDef {
        name: "currency_code",
        category: MONEY,
        signatures: &["currency_code: string -> currency"],
        fallible: true,
        doc: "Checks an ISO 4217 currency code (List One, 2026-01-01, compiled in), in any \
              case and with surrounding spaces, and writes it upper case. Withdrawn codes are \
              errors that say when the code was withdrawn and what its country uses now \
              (`HRK`: 2023-01, EUR).",
        examples: &[
            ex("currency_code", r#""kwd""#, r#""KWD""#),
            ex("currency_code", r#""usdx""#, "error E1008"),
            ex("currency_code", r#""HRK""#, "error E1008"),
        ],
        inverse: None,
        apply: currency_code,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "from_minor",
        category: MONEY,
        signatures: &["from_minor(currency: currency): int -> money"],
        fallible: true,
        doc: "Money from an integer count of minor units (cents, fils) of `currency`, a code \
              or a field holding one: `12340` KWD is `12.340`, `500` JPY is `500`. A currency \
              without a minor unit (XAU) is an error.",
        examples: &[
            ex(
                r#"from_minor("KWD")"#,
                "12340",
                r#"{"amount":"12.340","currency":"KWD"}"#,
            ),
            ex(
                r#"from_minor("jpy")"#,
                "500",
                r#"{"amount":"500","currency":"JPY"}"#,
            ),
            ex(r#"from_minor("XAU")"#, "1", "error E1008"),
        ],
        inverse: Some("to_minor"),
        apply: from_minor,
        check_args: Some(check_first_currency),
        prepare: Some(prepare_first_currency),
        hooks: Hooks {
            currency: CurrencyRule::Param(0),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "to_minor",
        category: MONEY,
        signatures: &[r#"to_minor(rounding: string = "exact"): money -> int"#],
        fallible: true,
        doc: "The integer count of minor units. `exact` (the default) fails when that would \
              drop digits (`12.3456` USD); a rounding mode (`half_even`, `half_up`, \
              `half_down`, `up`, `down`, `ceiling`, `floor`) rounds them.",
        examples: &[
            ext(
                "to_minor",
                "money",
                r#"{"amount":"12.340","currency":"KWD"}"#,
                "12340",
            ),
            ext(
                "to_minor",
                "money",
                r#"{"amount":"12.3456","currency":"USD"}"#,
                "error E1003",
            ),
            ext(
                r#"to_minor("half_even")"#,
                "money",
                r#"{"amount":"12.345","currency":"USD"}"#,
                "1234",
            ),
        ],
        inverse: Some("from_minor"),
        apply: to_minor,
        check_args: Some(check_to_minor),
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "money",
        category: MONEY,
        signatures: &[
            "money(currency: currency): decimal -> money",
            "money(currency: currency): int -> money",
        ],
        fallible: true,
        doc: "Money from an amount in major units (`12.34` USD). The amount keeps its digits \
              until rounded or formatted.",
        examples: &[ex(
            r#"money("AED")"#,
            "12.5",
            r#"{"amount":"12.50","currency":"AED"}"#,
        )],
        inverse: Some("amount_of"),
        apply: money,
        check_args: Some(check_first_currency),
        prepare: Some(prepare_first_currency),
        hooks: Hooks {
            currency: CurrencyRule::Param(0),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "format_amount",
        category: MONEY,
        signatures: &["format_amount: money -> string"],
        fallible: true,
        doc: "The amount as text with exactly the currency's decimals: `1.00` USD, `500` JPY, \
              `12.340` KWD. Fails rather than drop digits; use `round_money` first to round.",
        examples: &[
            ext(
                "format_amount",
                "money",
                r#"{"amount":"1","currency":"USD"}"#,
                r#""1.00""#,
            ),
            ext(
                "format_amount",
                "money",
                r#"{"amount":"500","currency":"JPY"}"#,
                r#""500""#,
            ),
            ext(
                "format_amount",
                "money",
                r#"{"amount":"12.3456","currency":"USD"}"#,
                "error E1003",
            ),
        ],
        inverse: None,
        apply: format_amount,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "amount_of",
        category: MONEY,
        signatures: &["amount_of: money -> decimal"],
        fallible: false,
        doc: "The amount in major units, with at least the currency's decimals.",
        examples: &[ext(
            "amount_of",
            "money",
            r#"{"amount":"12.3","currency":"KWD"}"#,
            "12.300",
        )],
        inverse: None,
        apply: amount_of,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "currency_of",
        category: MONEY,
        signatures: &["currency_of: money -> currency"],
        fallible: false,
        doc: "The currency code of a money value.",
        examples: &[ext(
            "currency_of",
            "money",
            r#"{"amount":"1","currency":"BHD"}"#,
            r#""BHD""#,
        )],
        inverse: None,
        apply: currency_of,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "round_money",
        category: MONEY,
        signatures: &[r#"round_money(mode: string = "half_even"): money -> money"#],
        fallible: false,
        doc: "Rounds to the currency's decimals. Half-even (banker's rounding) is the default \
              for money.",
        examples: &[
            ext(
                "round_money",
                "money",
                r#"{"amount":"0.125","currency":"USD"}"#,
                r#"{"amount":"0.12","currency":"USD"}"#,
            ),
            ext(
                r#"round_money("half_up")"#,
                "money",
                r#"{"amount":"0.125","currency":"USD"}"#,
                r#"{"amount":"0.13","currency":"USD"}"#,
            ),
        ],
        inverse: None,
        apply: round_money,
        check_args: Some(check_round_money),
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "convert_currency",
        category: MONEY,
        signatures: &[
            r#"convert_currency(to: currency, rate: decimal, rounding: string = "half_even"): money -> money"#,
        ],
        fallible: true,
        doc: "Converts at `rate` (units of `to` per unit of the value's currency; a literal or \
              a field), rounded to `to`'s decimals with `rounding`.",
        examples: &[ext(
            r#"convert_currency("AED", 3.6725)"#,
            "money",
            r#"{"amount":"10.01","currency":"USD"}"#,
            r#"{"amount":"36.76","currency":"AED"}"#,
        )],
        inverse: None,
        apply: convert_currency,
        check_args: Some(check_convert),
        prepare: Some(prepare_first_currency),
        hooks: Hooks {
            currency: CurrencyRule::Param(0),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "convert_with_rates",
        category: MONEY,
        signatures: &[
            r#"convert_with_rates(to: currency, file: string, rounding: string = "half_even"): money -> money"#,
        ],
        fallible: true,
        doc: "Converts with the rates of a JSON file read at run time (once per run; the path \
              is relative to the working directory): `{\"base\": \"USD\", \"rates\": {\"AED\": \
              \"3.6725\"}}`. Rates between two non-base currencies go through the base. A \
              missing rate or file rejects the record (E1008).",
        examples: &[ext(
            r#"convert_with_rates("AED", "no-such-rates.json")"#,
            "money",
            r#"{"amount":"1","currency":"USD"}"#,
            "error E1008",
        )],
        inverse: None,
        apply: convert_with_rates,
        check_args: Some(check_convert_with_rates),
        prepare: None,
        hooks: Hooks {
            currency: CurrencyRule::Param(0),
            ..Hooks::NONE
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_go_through_the_base() {
        let r = Rates::parse(r#"{"base":"USD","rates":{"AED":"3.6725","EUR":0.92}}"#).unwrap();
        let (usd, aed, eur) = (
            Currency::parse("USD").unwrap(),
            Currency::parse("AED").unwrap(),
            Currency::parse("EUR").unwrap(),
        );
        assert_eq!(r.rate(usd, aed).unwrap().to_string(), "3.6725");
        assert_eq!(
            r.rate(aed, usd).unwrap(),
            Decimal::ONE / "3.6725".parse::<Decimal>().unwrap()
        );
        assert_eq!(r.rate(eur, eur).unwrap(), Decimal::ONE);
        assert!(r.rate(usd, Currency::parse("KWD").unwrap()).is_err());
        assert!(Rates::parse(r#"{"base":"USD","rates":{"AED":-1}}"#).is_err());
    }
}
