//! Comparisons, predicates and boolean logic, mostly for `if` conditions.

use super::hooks::Presence;
use super::{Args, Category::Logic, Fail, Hooks, TransformDef, ex};
use crate::exec::Value;
use rust_decimal::Decimal;
use std::cmp::Ordering;

/// Orders two values of comparable kinds; ints and decimals compare by value.
pub fn compare(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Decimal(y)) => Some(Decimal::from(*x).cmp(y)),
        (Value::Decimal(x), Value::Int(y)) => Some(x.cmp(&Decimal::from(*y))),
        (Value::Decimal(x), Value::Decimal(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::LocalDateTime(x), Value::LocalDateTime(y)) => Some(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn cmp_with<'a>(
    v: &Value<'a>,
    a: &Args<'_, 'a>,
    ok: fn(Ordering) -> bool,
) -> Result<Value<'a>, Fail> {
    let rhs = a.get(0);
    match compare(v, rhs) {
        Some(o) => Ok(Value::Bool(ok(o))),
        None => Err(Fail::wrong_type(v.kind_name(), rhs)),
    }
}

fn eq<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    cmp_with(&v, a, |o| o == Ordering::Equal)
}
fn ne<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    cmp_with(&v, a, |o| o != Ordering::Equal)
}
fn lt<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    cmp_with(&v, a, |o| o == Ordering::Less)
}
fn le<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    cmp_with(&v, a, |o| o != Ordering::Greater)
}
fn gt<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    cmp_with(&v, a, |o| o == Ordering::Greater)
}
fn ge<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    cmp_with(&v, a, |o| o != Ordering::Less)
}

fn is_null<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(Value::Bool(v.is_absent()))
}
fn is_missing<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(Value::Bool(matches!(v, Value::Missing)))
}
fn is_blank<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(Value::Bool(match &v {
        Value::Str(s) => s.trim().is_empty(),
        other => other.is_absent(),
    }))
}

fn not<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        other => Err(Fail::wrong_type("bool", &other)),
    }
}
fn and<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Bool(b) => Ok(Value::Bool(b && a.bool(0)?)),
        other => Err(Fail::wrong_type("bool", &other)),
    }
}
fn or<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Bool(b) => Ok(Value::Bool(b || a.bool(0)?)),
        other => Err(Fail::wrong_type("bool", &other)),
    }
}

/// Where `is_missing` is false, the value is there (it may be null).
fn not_missing(p: Presence) -> Presence {
    Presence {
        missing: false,
        ..p
    }
}

/// Where `is_null` or `is_blank` is false, the value is there and not null.
fn present(_: Presence) -> Presence {
    Presence::REQUIRED
}

pub(super) static DEFS: &[TransformDef] = &[
    TransformDef {
        name: "eq",
        category: Logic,
        signatures: &["eq(x: T): T -> bool"],
        fallible: false,
        doc: "Whether the value equals `x`. Numbers compare by value (`1.50` equals `1.5`).",
        examples: &[
            ex(r#"eq("lead")"#, r#""lead""#, "true"),
            ex("eq(1.5)", "1.50", "true"),
        ],
        inverse: None,
        apply: eq,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "ne",
        category: Logic,
        signatures: &["ne(x: T): T -> bool"],
        fallible: false,
        doc: "Whether the value differs from `x`.",
        examples: &[ex(r#"ne("lead")"#, r#""lead""#, "false")],
        inverse: None,
        apply: ne,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "lt",
        category: Logic,
        signatures: &["lt(x: T): T -> bool"],
        fallible: false,
        doc: "Whether the value is less than `x` (numbers, strings by code point, dates).",
        examples: &[ex("lt(10)", "9", "true")],
        inverse: None,
        apply: lt,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "le",
        category: Logic,
        signatures: &["le(x: T): T -> bool"],
        fallible: false,
        doc: "Whether the value is less than or equal to `x`.",
        examples: &[ex("le(10)", "10", "true")],
        inverse: None,
        apply: le,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "gt",
        category: Logic,
        signatures: &["gt(x: T): T -> bool"],
        fallible: false,
        doc: "Whether the value is greater than `x`.",
        examples: &[ex("gt(0)", "-1.5", "false")],
        inverse: None,
        apply: gt,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "ge",
        category: Logic,
        signatures: &["ge(x: T): T -> bool"],
        fallible: false,
        doc: "Whether the value is greater than or equal to `x`.",
        examples: &[ex("ge(0)", "0", "true")],
        inverse: None,
        apply: ge,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "is_null",
        category: Logic,
        signatures: &["is_null: any? -> bool"],
        fallible: false,
        doc: "Whether the value is null or missing.",
        examples: &[
            ex("is_null", "null", "true"),
            ex("is_null", "missing", "true"),
            ex("is_null", "0", "false"),
        ],
        inverse: None,
        apply: is_null,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            narrows: Some(present),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "is_missing",
        category: Logic,
        signatures: &["is_missing: any? -> bool"],
        fallible: false,
        doc: "Whether the field is absent (a null value is not missing).",
        examples: &[
            ex("is_missing", "null", "false"),
            ex("is_missing", "missing", "true"),
        ],
        inverse: None,
        apply: is_missing,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            narrows: Some(not_missing),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "is_blank",
        category: Logic,
        signatures: &["is_blank: any? -> bool"],
        fallible: false,
        doc: "Whether the value is null, missing, or a string of only white space.",
        examples: &[
            ex("is_blank", r#"" ""#, "true"),
            ex("is_blank", r#""a""#, "false"),
        ],
        inverse: None,
        apply: is_blank,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            narrows: Some(present),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "not",
        category: Logic,
        signatures: &["not: bool -> bool"],
        fallible: false,
        doc: "Negation.",
        examples: &[ex("not", "true", "false")],
        inverse: Some("not"),
        apply: not,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "and",
        category: Logic,
        signatures: &["and(x: bool): bool -> bool"],
        fallible: false,
        doc: "Both the value and `x` (usually a boolean field).",
        examples: &[ex("and(false)", "true", "false")],
        inverse: None,
        apply: and,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "or",
        category: Logic,
        signatures: &["or(x: bool): bool -> bool"],
        fallible: false,
        doc: "Either the value or `x`.",
        examples: &[ex("or(false)", "true", "true")],
        inverse: None,
        apply: or,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
];
