//! Runtime values. Strings borrow from the input line where they can.
//! `Missing` (the key was absent) and `Null` are different values, as the
//! brief requires.

use super::currency::Currency;
use super::json::{write_json_seq, write_json_str};
use super::scalar::Scalar;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::fmt::Write as _;

/// An amount with its currency. The amount keeps the scale it was given
/// (`12.3` stays `12.3` until formatted or rounded).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    /// The amount with at least the currency's decimals: `12.3` KWD →
    /// `12.300`. More digits are kept, never dropped.
    pub fn padded_amount(&self) -> Decimal {
        let mut a = self.amount;
        if let Some(units) = self.currency.minor_units()
            && a.scale() < units
        {
            a.rescale(units);
        }
        a
    }
}

/// Serialisable for plan files (constants of a plan); an input value is
/// never serialised this way.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Value<'a> {
    Missing,
    Null,
    /// An input value that failed to read; its error is already recorded, so
    /// rules depending on it are skipped without a second error.
    Invalid,
    Bool(bool),
    Int(i64),
    Decimal(Decimal),
    Float(f64),
    Str(Cow<'a, str>),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
    LocalDateTime(NaiveDateTime),
    Time(NaiveTime),
    Money(Money),
    Array(Vec<Value<'a>>),
    /// JSON text copied as is (values of type `any`, maps, whole records),
    /// without insignificant whitespace.
    Raw(Cow<'a, str>),
    /// The frames of an iterated array (`lines[] -> items[] { ... }`).
    Rows(Vec<Vec<Value<'a>>>),
}

impl<'a> Value<'a> {
    pub fn str(s: impl Into<Cow<'a, str>>) -> Value<'a> {
        Value::Str(s.into())
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Value::Missing | Value::Null)
    }

    /// Detaches the value from the input buffer.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Missing => Value::Missing,
            Value::Null => Value::Null,
            Value::Invalid => Value::Invalid,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Decimal(d) => Value::Decimal(d),
            Value::Float(f) => Value::Float(f),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Date(d) => Value::Date(d),
            Value::DateTime(d) => Value::DateTime(d),
            Value::LocalDateTime(d) => Value::LocalDateTime(d),
            Value::Time(t) => Value::Time(t),
            Value::Money(m) => Value::Money(m),
            Value::Array(v) => Value::Array(v.into_iter().map(Value::into_owned).collect()),
            Value::Raw(s) => Value::Raw(Cow::Owned(s.into_owned())),
            Value::Rows(rows) => Value::Rows(
                rows.into_iter()
                    .map(|r| r.into_iter().map(Value::into_owned).collect())
                    .collect(),
            ),
        }
    }

    /// The scalar type of a scalar value; `None` for missing, null,
    /// invalid, arrays, rows and raw JSON.
    pub fn scalar(&self) -> Option<Scalar> {
        Some(match self {
            Value::Bool(_) => Scalar::Bool,
            Value::Int(_) => Scalar::Int,
            Value::Decimal(_) => Scalar::Decimal,
            Value::Float(_) => Scalar::Float,
            Value::Str(_) => Scalar::String,
            Value::Date(_) => Scalar::Date,
            Value::DateTime(_) => Scalar::DateTime,
            Value::LocalDateTime(_) => Scalar::LocalDateTime,
            Value::Time(_) => Scalar::Time,
            Value::Money(_) => Scalar::Money,
            Value::Missing
            | Value::Null
            | Value::Invalid
            | Value::Array(_)
            | Value::Rows(_)
            | Value::Raw(_) => return None,
        })
    }

    /// The kind of value, for error messages: a scalar value is named as
    /// its type is (one name table).
    pub fn kind_name(&self) -> &'static str {
        if let Some(s) = self.scalar() {
            return s.name();
        }
        match self {
            Value::Missing => "missing",
            Value::Null => "null",
            Value::Invalid => "invalid",
            Value::Array(_) | Value::Rows(_) => "array",
            // `Raw`: the scalars were named above.
            _ => "json",
        }
    }

    /// The value as JSON text (for outputs and error reports). `Missing`
    /// renders as `null` here; writers skip missing values before this.
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }

    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Missing | Value::Null | Value::Invalid => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Decimal(d) => {
                let _ = write!(out, "{d}");
            }
            Value::Float(f) => {
                if f.is_finite() {
                    let _ = write!(out, "{f:?}");
                } else {
                    out.push_str("null");
                }
            }
            Value::Str(s) => write_json_str(out, s),
            Value::Date(d) => write_json_str(out, &d.format("%Y-%m-%d").to_string()),
            Value::DateTime(d) => {
                write_json_str(out, &d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            }
            Value::LocalDateTime(d) => {
                write_json_str(out, &d.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
            }
            Value::Time(t) => write_json_str(out, &t.format("%H:%M:%S%.f").to_string()),
            Value::Money(m) => {
                let _ = write!(
                    out,
                    "{{\"amount\":\"{}\",\"currency\":\"{}\"}}",
                    m.padded_amount(),
                    m.currency
                );
            }
            Value::Array(items) => write_json_seq(out, '[', ']', items, |v, out| v.write_json(out)),
            Value::Raw(s) => out.push_str(s),
            Value::Rows(_) => out.push_str("[]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_named_as_its_scalar_type_is() {
        assert_eq!(Value::str("x").scalar(), Some(Scalar::String));
        assert_eq!(Value::str("x").kind_name(), "string");
        assert_eq!(Value::Int(1).kind_name(), "int");
        assert_eq!(Value::Null.scalar(), None);
        assert_eq!(Value::Null.kind_name(), "null");
        assert_eq!(Value::Array(Vec::new()).kind_name(), "array");
        assert_eq!(Value::Raw("{}".into()).kind_name(), "json");
    }

    #[test]
    fn decimal_keeps_its_scale() {
        let d: Decimal = "1500000.50".parse().unwrap();
        assert_eq!(Value::Decimal(d).to_json(), "1500000.50");
    }
}
