//! Null and missing values. These are the only transforms (with the
//! predicates in `logic`) that see null and missing inputs; every other
//! transform is skipped for them.

use super::hooks::{CallTypes, Presence, Typed};
use super::{Args, Category::Nulls, Fail, Hooks, TransformDef, ex};
use crate::diag::Code;
use crate::exec::Value;

fn default<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    if v.is_absent() {
        Ok(a.get(0).clone())
    } else {
        Ok(v)
    }
}

fn coalesce<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let Value::Array(items) = v else {
        return Ok(v);
    };
    let mut saw_null = false;
    for item in items {
        match item {
            Value::Missing => {}
            Value::Null => saw_null = true,
            present => return Ok(present),
        }
    }
    Ok(if saw_null {
        Value::Null
    } else {
        Value::Missing
    })
}

fn required<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Missing => Err(Fail {
            code: Code::E1004,
            message: "a value is required but the field is missing".to_string(),
        }),
        Value::Null => Err(Fail {
            code: Code::E1004,
            message: "a value is required but the field is null".to_string(),
        }),
        present => Ok(present),
    }
}

fn null_if_blank<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match &v {
        Value::Str(s) if s.trim().is_empty() => Ok(Value::Null),
        _ => Ok(v),
    }
}

fn omit_null<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(match v {
        Value::Null => Value::Missing,
        other => other,
    })
}

// ------------------------------------------------------------ type rules

/// `default`'s output can take the input's known values and the default.
fn default_type(c: &CallTypes<'_>) -> Typed {
    let values = match (c.values, c.consts.first()) {
        (Some(vs), Some(Some(Value::Str(d)))) => {
            let mut vs = vs.to_vec();
            vs.push(d.to_string());
            Some(vs)
        }
        _ => None,
    };
    Typed {
        presence: c.output,
        values,
    }
}

/// `coalesce` is null only when every source may be absent and one may be
/// null; missing only when every source may be missing. One value is a
/// tuple of one.
fn coalesce_type(c: &CallTypes<'_>) -> Typed {
    let parts = c.tuple.unwrap_or(std::slice::from_ref(&c.input));
    Typed {
        presence: Presence {
            missing: parts.iter().all(|p| p.missing),
            nullable: parts.iter().all(|p| p.absent()) && parts.iter().any(|p| p.nullable),
        },
        values: None,
    }
}

/// `required` keeps the input's known values.
fn required_type(c: &CallTypes<'_>) -> Typed {
    Typed {
        presence: c.output,
        values: c.values.map(<[String]>::to_vec),
    }
}

/// `omit_null` is never null, and missing wherever the input may be absent.
fn omit_null_type(c: &CallTypes<'_>) -> Typed {
    Typed {
        presence: Presence {
            missing: c.input.absent(),
            nullable: false,
        },
        values: None,
    }
}

pub(super) static DEFS: &[TransformDef] = &[
    TransformDef {
        name: "default",
        category: Nulls,
        signatures: &["default(value: T): T? -> T"],
        fallible: false,
        doc: "The value when present; `value` when it is null or missing.",
        examples: &[
            ex(r#"default("Unknown")"#, "null", r#""Unknown""#),
            ex(r#"default("Unknown")"#, "missing", r#""Unknown""#),
            ex(r#"default("Unknown")"#, r#""Silva""#, r#""Silva""#),
        ],
        inverse: None,
        apply: default,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            type_rule: Some(default_type),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "coalesce",
        category: Nulls,
        signatures: &["coalesce: (T?...) -> T?"],
        fallible: false,
        doc: "The first present value of a tuple of sources: \
              `(mobile, phone) -> Phone : coalesce`. Null when none is present and one was null, \
              missing when all were missing.",
        examples: &[
            ex("coalesce", r#"[null, "+971"]"#, r#""+971""#),
            ex("coalesce", r#"[null, null]"#, "null"),
        ],
        inverse: None,
        apply: coalesce,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            type_rule: Some(coalesce_type),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "required",
        category: Nulls,
        signatures: &["required: T? -> T"],
        fallible: true,
        doc: "Rejects the record when the value is null or missing (error E1004). Use it to \
              say that a source the schema calls optional must be there for this mapping.",
        examples: &[
            ex("required", r#""x""#, r#""x""#),
            ex("required", "null", "error E1004"),
        ],
        inverse: None,
        apply: required,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            type_rule: Some(required_type),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "null_if_blank",
        category: Nulls,
        signatures: &["null_if_blank: string? -> string?"],
        fallible: false,
        doc: "Turns an empty or all-white-space string into null; follow it with `default` to \
              replace blanks too.",
        examples: &[
            ex("null_if_blank", r#""  ""#, "null"),
            ex("null_if_blank", r#""a""#, r#""a""#),
        ],
        inverse: None,
        apply: null_if_blank,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "omit_null",
        category: Nulls,
        signatures: &["omit_null: T? -> T"],
        fallible: false,
        doc: "Turns null into missing, so the target key is left out instead of written as \
              `null`.",
        examples: &[
            ex("omit_null", "null", "missing"),
            ex("omit_null", r#""a""#, r#""a""#),
        ],
        inverse: None,
        apply: omit_null,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            type_rule: Some(omit_null_type),
            ..Hooks::NONE
        },
    },
];
