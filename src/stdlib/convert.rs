//! Conversions between string, int, decimal, float and bool. Exact where the
//! target can hold the value, an error (never a guess) where it cannot.

use super::{Args, Category::Conversions, Fail, Hooks, TransformDef, as_str, ex, ext};
use crate::exec::Value;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

fn to_string<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(match v {
        Value::Str(s) => Value::Str(s),
        Value::Bool(b) => Value::str(if b { "true" } else { "false" }),
        Value::Int(i) => Value::str(i.to_string()),
        Value::Decimal(d) => Value::str(d.to_string()),
        Value::Float(f) => Value::str(format!("{f:?}")),
        other => {
            // Dates and times: their JSON text without the quotes.
            let json = other.to_json();
            Value::str(json.trim_matches('"').to_string())
        }
    })
}

/// An id sent either as a string or as the object it names (Stripe's
/// "expandable" fields, HAL links): the string itself, or the object's
/// `member`.
fn id_of<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let member = a.str(0)?;
    let text = match v {
        Value::Str(s) => return Ok(Value::Str(s)),
        Value::Int(i) => return Ok(Value::str(i.to_string())),
        Value::Raw(text) => text,
        other => return Err(Fail::wrong_type("id or object", &other)),
    };
    let parsed: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Fail::conversion(e.to_string()))?;
    let id = match &parsed {
        serde_json::Value::Object(map) => map
            .get(member)
            .ok_or_else(|| Fail::conversion(format!("the object has no member {member:?}")))?,
        other => other,
    };
    match id {
        serde_json::Value::String(s) => Ok(Value::str(s.clone())),
        serde_json::Value::Number(n) => Ok(Value::str(n.to_string())),
        serde_json::Value::Null => Ok(Value::Null),
        other => Err(Fail::conversion(format!(
            "expected an id (a string or an object with {member:?}), found {other}"
        ))),
    }
}

/// Strict integer syntax: an optional sign and digits, nothing else.
pub fn parse_int_text(s: &str) -> Result<i64, Fail> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Fail::conversion(format!("{s:?} is not an integer")));
    }
    s.parse::<i64>()
        .map_err(|_| Fail::conversion(format!("{s} does not fit in a 64-bit integer")))
}

/// Strict decimal syntax: optional sign, digits, optional fraction, optional
/// exponent. `1,5`, `1.`, `.5`, `0x10` and white space are errors.
pub fn parse_decimal_text(s: &str) -> Result<Decimal, Fail> {
    let bad = || Fail::conversion(format!("{s:?} is not a decimal number"));
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int_part) || frac_part.is_some_and(|f| !digits(f)) {
        return Err(bad());
    }
    if let Some(e) = exponent {
        let e_digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        if !digits(e_digits) {
            return Err(bad());
        }
        return Decimal::from_scientific(s)
            .map_err(|_| Fail::conversion(format!("{s} is outside the range of exact decimals")));
    }
    Decimal::from_str_exact(s).map_err(|_| {
        Fail::conversion(format!(
            "{s} has more digits than an exact decimal holds (28 significant digits)"
        ))
    })
}

fn parse_int<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    parse_int_text(as_str(&v)?).map(Value::Int)
}

fn parse_decimal<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    parse_decimal_text(as_str(&v)?).map(Value::Decimal)
}

fn parse_float<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let s = as_str(&v)?;
    parse_decimal_text(s)?; // same strict syntax
    s.parse::<f64>()
        .map(Value::Float)
        .map_err(|_| Fail::conversion(format!("{s:?} is not a number")))
}

fn parse_bool<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let s = as_str(&v)?;
    if s.eq_ignore_ascii_case("true") {
        Ok(Value::Bool(true))
    } else if s.eq_ignore_ascii_case("false") {
        Ok(Value::Bool(false))
    } else {
        Err(Fail::conversion(format!("{s:?} is not `true` or `false`")))
    }
}

fn to_decimal<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Int(i) => Ok(Value::Decimal(Decimal::from(i))),
        Value::Decimal(d) => Ok(Value::Decimal(d)),
        other => Err(Fail::wrong_type("int", &other)),
    }
}

fn to_int<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Decimal(d) => {
            if !d.fract().is_zero() {
                return Err(Fail::conversion(format!(
                    "{d} has a fraction; round it first (`round(0)`) to say how"
                )));
            }
            d.to_i64()
                .map(Value::Int)
                .ok_or_else(|| Fail::conversion(format!("{d} does not fit in a 64-bit integer")))
        }
        Value::Bool(b) => Ok(Value::Int(i64::from(b))),
        other => Err(Fail::wrong_type("decimal", &other)),
    }
}

fn to_float<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Int(i) => Ok(Value::Float(i as f64)),
        Value::Decimal(d) => d
            .to_f64()
            .map(Value::Float)
            .ok_or_else(|| Fail::conversion(format!("{d} cannot be a float"))),
        Value::Float(f) => Ok(Value::Float(f)),
        other => Err(Fail::wrong_type("number", &other)),
    }
}

fn to_bool<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Int(0) => Ok(Value::Bool(false)),
        Value::Int(1) => Ok(Value::Bool(true)),
        Value::Int(i) => Err(Fail::conversion(format!("{i} is not 0 or 1"))),
        Value::Bool(b) => Ok(Value::Bool(b)),
        other => Err(Fail::wrong_type("int", &other)),
    }
}

pub(super) static DEFS: &[TransformDef] = &[
    TransformDef {
        name: "to_string",
        category: Conversions,
        signatures: &["to_string: scalar -> string"],
        fallible: false,
        doc: "The value as text: decimals exactly as held (`1.50` stays `1.50`), booleans as \
              `true`/`false`, dates in ISO 8601. In a `<->` rule it is undone by the \
              transform that declares it as its inverse and gives back the type it took: \
              `parse_int` for an int, `parse_decimal` for a decimal (scale kept), \
              `parse_bool` for a bool; on other types it has no inverse.",
        examples: &[
            ex("to_string", "1.50", r#""1.50""#),
            ex("to_string", "true", r#""true""#),
        ],
        inverse: None,
        apply: to_string,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "parse_int",
        category: Conversions,
        signatures: &["parse_int: string -> int"],
        fallible: true,
        doc: "Reads a 64-bit integer: an optional sign and digits. White space, fractions and \
              thousands separators are errors (use `trim` or `replace` first).",
        examples: &[
            ex("parse_int", r#""-42""#, "-42"),
            ex("parse_int", r#""4.0""#, "error E1003"),
        ],
        inverse: Some("to_string"),
        apply: parse_int,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "parse_decimal",
        category: Conversions,
        signatures: &["parse_decimal: string -> decimal"],
        fallible: true,
        doc: "Reads an exact decimal (never through binary floating point), keeping its scale: \
              `\"1500000.50\"` is `1500000.50`. Syntax: sign, digits, `.` and digits, exponent. \
              `1,5` is an error.",
        examples: &[
            ex("parse_decimal", r#""1500000.50""#, "1500000.50"),
            ex("parse_decimal", r#""0.1""#, "0.1"),
            ex("parse_decimal", r#""12,5""#, "error E1003"),
        ],
        inverse: Some("to_string"),
        apply: parse_decimal,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "parse_float",
        category: Conversions,
        signatures: &["parse_float: string -> float"],
        fallible: true,
        doc: "Reads a binary floating-point number. Only for targets that are `float`; money \
              and quantities want `parse_decimal`.",
        examples: &[ex("parse_float", r#""2.5""#, "2.5")],
        inverse: None,
        apply: parse_float,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "parse_bool",
        category: Conversions,
        signatures: &["parse_bool: string -> bool"],
        fallible: true,
        doc: "Reads `true` or `false` (any letter case). Anything else is an error; map other \
              spellings (`yes`, `Y`, `1`) with a table.",
        examples: &[
            ex("parse_bool", r#""TRUE""#, "true"),
            ex("parse_bool", r#""yes""#, "error E1003"),
        ],
        inverse: Some("to_string"),
        apply: parse_bool,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "to_decimal",
        category: Conversions,
        signatures: &[
            "to_decimal: int -> decimal",
            "to_decimal: decimal -> decimal",
        ],
        fallible: false,
        doc: "An integer as an exact decimal.",
        examples: &[ex("to_decimal", "42", "42")],
        inverse: Some("to_int"),
        apply: to_decimal,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "to_int",
        category: Conversions,
        signatures: &["to_int: decimal -> int", "to_int: bool -> int"],
        fallible: true,
        doc: "A decimal with no fraction as an integer; a fraction is an error (round first to \
              say how). Booleans become 0 or 1.",
        examples: &[
            ex("to_int", "12.00", "12"),
            ex("to_int", "12.5", "error E1003"),
            ex("to_int", "true", "1"),
        ],
        inverse: Some("to_decimal"),
        apply: to_int,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "to_float",
        category: Conversions,
        signatures: &["to_float: decimal -> float"],
        fallible: true,
        doc: "A number as binary floating point (may round: only for `float` targets).",
        examples: &[ex("to_float", "0.5", "0.5")],
        inverse: None,
        apply: to_float,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "to_bool",
        category: Conversions,
        signatures: &["to_bool: int -> bool"],
        fallible: true,
        doc: "0 is `false`, 1 is `true`; any other number is an error.",
        examples: &[
            ex("to_bool", "1", "true"),
            ex("to_bool", "2", "error E1003"),
        ],
        inverse: Some("to_int"),
        apply: to_bool,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "id_of",
        category: Conversions,
        signatures: &[r#"id_of(member: string = "id"): any -> string"#],
        fallible: true,
        doc: "The id of a field that a provider sends either as an id string or, when \
              expanded, as the object itself (Stripe's `customer`): the string, or the \
              object's `member`. Null stays null.",
        examples: &[
            ext(
                "id_of",
                "any",
                r#""cus_9s6XKzkNRiz8i3""#,
                r#""cus_9s6XKzkNRiz8i3""#,
            ),
            ext(
                "id_of",
                "any",
                r#"{"id":"cus_9s6XKzkNRiz8i3","object":"customer"}"#,
                r#""cus_9s6XKzkNRiz8i3""#,
            ),
            ext("id_of", "any", r#"{"object":"customer"}"#, "error E1003"),
        ],
        inverse: None,
        apply: id_of,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
];
