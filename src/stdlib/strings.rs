//! String transforms. Lengths and positions count Unicode scalar values
//! (characters), never bytes, so a name like `Zoë` has length 3.

use super::hooks::{CallTypes, InverseArgs, Presence, Typed};
use super::{ArgError, Args, Category::Strings, Fail, Hooks, TransformDef, as_str, ex, map_str};
use crate::exec::Value;
use std::borrow::Cow;

/// Returns a sub-slice of a string value without copying when the value
/// borrows from the input.
fn slice_str<'a>(
    v: Value<'a>,
    f: impl for<'s> FnOnce(&'s str) -> &'s str,
) -> Result<Value<'a>, Fail> {
    match v {
        Value::Str(Cow::Borrowed(s)) => Ok(Value::Str(Cow::Borrowed(f(s)))),
        Value::Str(Cow::Owned(s)) => Ok(Value::Str(Cow::Owned(f(&s).to_string()))),
        other => Err(Fail::wrong_type("string", &other)),
    }
}

fn trim<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    slice_str(v, str::trim)
}
fn trim_start<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    slice_str(v, str::trim_start)
}
fn trim_end<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    slice_str(v, str::trim_end)
}

fn lower<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        // Already lower-case ASCII: keep the borrow.
        Value::Str(s) if !s.chars().any(|c| c.is_uppercase() || !c.is_ascii()) => Ok(Value::Str(s)),
        other => map_str(other, str::to_lowercase),
    }
}
fn upper<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::Str(s) if !s.chars().any(|c| c.is_lowercase() || !c.is_ascii()) => Ok(Value::Str(s)),
        other => map_str(other, str::to_uppercase),
    }
}

fn replace<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let (from, to) = (a.str(0)?, a.str(1)?);
    if from.is_empty() {
        return Ok(v);
    }
    map_str(v, |s| s.replace(from, to))
}

fn prefix<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let p = a.str(0)?;
    map_str(v, |s| format!("{p}{s}"))
}
fn suffix<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let p = a.str(0)?;
    map_str(v, |s| format!("{s}{p}"))
}

fn strip_prefix<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let p = a.str(0)?;
    if !as_str(&v)?.starts_with(p) {
        return Err(Fail::conversion(format!(
            "the value does not start with {p:?}"
        )));
    }
    slice_str(v, |s| &s[p.len()..])
}
fn strip_suffix<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let p = a.str(0)?;
    if !as_str(&v)?.ends_with(p) {
        return Err(Fail::conversion(format!(
            "the value does not end with {p:?}"
        )));
    }
    slice_str(v, |s| &s[..s.len() - p.len()])
}

fn split<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let sep = a.str(0)?;
    let s = as_str(&v)?;
    if sep.is_empty() {
        return Ok(Value::Array(
            s.chars().map(|c| Value::str(c.to_string())).collect(),
        ));
    }
    let parts = s.split(sep).map(|p| Value::str(p.to_string())).collect();
    Ok(Value::Array(parts))
}

/// Joins the present elements of an array or tuple; null and missing
/// elements are skipped (so a missing middle name leaves no double space).
/// When every element is missing the result is missing: the record said
/// nothing, so the target is left out rather than written `""`. A null
/// element is a value the record gave, so nulls alone join to `""`.
fn join<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let sep = a.str(0)?;
    let Value::Array(items) = v else {
        return Err(Fail::wrong_type("array", &v));
    };
    if !items.is_empty() && items.iter().all(|i| matches!(i, Value::Missing)) {
        return Ok(Value::Missing);
    }
    let mut out = String::new();
    let mut first = true;
    for item in &items {
        if item.is_absent() {
            continue;
        }
        if !first {
            out.push_str(sep);
        }
        first = false;
        out.push_str(as_str(item)?);
    }
    Ok(Value::str(out))
}

fn concat<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let sep = Value::str("");
    join(v, &Args::new(&[&sep]))
}

fn length<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match &v {
        Value::Str(s) => Ok(Value::Int(s.chars().count() as i64)),
        Value::Array(items) => Ok(Value::Int(items.len() as i64)),
        other => Err(Fail::wrong_type("string or array", other)),
    }
}

fn substring<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let start = a.int(0)?;
    let len = match a.get(1) {
        Value::Int(n) => Some(*n),
        _ => None,
    };
    if start < 0 || len.is_some_and(|n| n < 0) {
        return Err(Fail::conversion("substring positions must not be negative"));
    }
    slice_str(v, |s| {
        let begin = s
            .char_indices()
            .nth(start as usize)
            .map_or(s.len(), |(i, _)| i);
        let rest = &s[begin..];
        match len {
            Some(n) => {
                &rest[..rest
                    .char_indices()
                    .nth(n as usize)
                    .map_or(rest.len(), |(i, _)| i)]
            }
            None => rest,
        }
    })
}

fn pad<'a>(v: Value<'a>, a: &Args<'_, 'a>, left: bool) -> Result<Value<'a>, Fail> {
    let width = a.int(0)?;
    let fill = a.str(1)?;
    let mut fill_chars = fill.chars();
    let (Some(fill_char), None) = (fill_chars.next(), fill_chars.next()) else {
        return Err(Fail::conversion(format!(
            "the fill {fill:?} must be exactly one character"
        )));
    };
    let s = as_str(&v)?;
    let count = s.chars().count() as i64;
    if count >= width {
        return Ok(v);
    }
    let padding: String = std::iter::repeat_n(fill_char, (width - count) as usize).collect();
    Ok(Value::str(if left {
        padding + s
    } else {
        format!("{s}{padding}")
    }))
}
fn pad_left<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    pad(v, a, true)
}
fn pad_right<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    pad(v, a, false)
}

fn contains<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(Value::Bool(as_str(&v)?.contains(a.str(0)?)))
}
fn starts_with<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(Value::Bool(as_str(&v)?.starts_with(a.str(0)?)))
}
fn ends_with<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(Value::Bool(as_str(&v)?.ends_with(a.str(0)?)))
}

fn check_fill(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
    if let Some(Value::Int(w)) = args.first().copied().flatten()
        && *w < 0
    {
        return Err(ArgError::new(0, "the width must not be negative"));
    }
    if let Some(Value::Str(f)) = args.get(1).copied().flatten()
        && f.chars().count() != 1
    {
        return Err(ArgError::new(
            1,
            format!("the fill {f:?} must be exactly one character"),
        ));
    }
    Ok(())
}

/// `join` and `concat` of a tuple skip absent values: missing only when
/// every value may be.
fn skips_absent_type(c: &CallTypes<'_>) -> Typed {
    let all_missing = c.tuple.is_some_and(|ts| ts.iter().all(|p| p.missing));
    Typed {
        presence: Presence {
            missing: c.output.missing || all_missing,
            ..c.output
        },
        values: None,
    }
}

pub(super) static DEFS: &[TransformDef] = &[
    TransformDef {
        name: "trim",
        category: Strings,
        signatures: &["trim: string -> string"],
        fallible: false,
        doc: "Removes white space (Unicode `White_Space`) from both ends.",
        examples: &[ex("trim", r#"" a@b.com ""#, r#""a@b.com""#)],
        inverse: None,
        apply: trim,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "trim_start",
        category: Strings,
        signatures: &["trim_start: string -> string"],
        fallible: false,
        doc: "Removes white space from the start.",
        examples: &[ex("trim_start", r#""  x ""#, r#""x ""#)],
        inverse: None,
        apply: trim_start,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "trim_end",
        category: Strings,
        signatures: &["trim_end: string -> string"],
        fallible: false,
        doc: "Removes white space from the end.",
        examples: &[ex("trim_end", r#""  x ""#, r#""  x""#)],
        inverse: None,
        apply: trim_end,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "lower",
        category: Strings,
        signatures: &["lower: string -> string"],
        fallible: false,
        doc: "Lower-cases with the full Unicode mapping (not ASCII only): `ÉMILE` becomes `émile`.",
        examples: &[
            ex("lower", r#""A@B.COM""#, r#""a@b.com""#),
            ex("lower", r#""ÉMILE""#, r#""émile""#),
        ],
        inverse: None,
        apply: lower,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "upper",
        category: Strings,
        signatures: &["upper: string -> string"],
        fallible: false,
        doc: "Upper-cases with the full Unicode mapping: `straße` becomes `STRASSE`.",
        examples: &[
            ex("upper", r#""usd""#, r#""USD""#),
            ex("upper", r#""straße""#, r#""STRASSE""#),
        ],
        inverse: None,
        apply: upper,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "replace",
        category: Strings,
        signatures: &["replace(from: string, to: string): string -> string"],
        fallible: false,
        doc: "Replaces every occurrence of `from` with `to`. An empty `from` changes nothing.",
        examples: &[ex(
            r#"replace("-", "")"#,
            r#""+971-4-555-0100""#,
            r#""+97145550100""#,
        )],
        inverse: None,
        apply: replace,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "prefix",
        category: Strings,
        signatures: &["prefix(text: string): string -> string"],
        fallible: false,
        doc: "Adds `text` in front of the value.",
        examples: &[ex(r#"prefix("stripe:")"#, r#""ch_1""#, r#""stripe:ch_1""#)],
        inverse: Some("strip_prefix"),
        apply: prefix,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "suffix",
        category: Strings,
        signatures: &["suffix(text: string): string -> string"],
        fallible: false,
        doc: "Adds `text` after the value.",
        examples: &[ex(
            r#"suffix("@example.com")"#,
            r#""ana""#,
            r#""ana@example.com""#,
        )],
        inverse: Some("strip_suffix"),
        apply: suffix,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "strip_prefix",
        category: Strings,
        signatures: &["strip_prefix(text: string): string -> string"],
        fallible: true,
        doc: "Removes `text` from the start. A value that does not start with it is an error \
              (so `prefix` and `strip_prefix` undo each other exactly).",
        examples: &[
            ex(
                r#"strip_prefix("stripe:")"#,
                r#""stripe:ch_1""#,
                r#""ch_1""#,
            ),
            ex(r#"strip_prefix("stripe:")"#, r#""ch_1""#, "error E1003"),
        ],
        inverse: Some("prefix"),
        apply: strip_prefix,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "strip_suffix",
        category: Strings,
        signatures: &["strip_suffix(text: string): string -> string"],
        fallible: true,
        doc: "Removes `text` from the end; a value that does not end with it is an error.",
        examples: &[ex(r#"strip_suffix(".00")"#, r#""12.00""#, r#""12""#)],
        inverse: Some("suffix"),
        apply: strip_suffix,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "split",
        category: Strings,
        signatures: &["split(separator: string): string -> [string]"],
        fallible: false,
        doc: "Splits at every `separator`. With a tuple target the parts are distributed \
              over the targets: `name -> (FirstName, LastName) : split(\" \")` (more parts \
              than targets is an error).",
        examples: &[ex(r#"split(",")"#, r#""a,b,,c""#, r#"["a","b","","c"]"#)],
        inverse: Some("join"),
        apply: split,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "join",
        category: Strings,
        signatures: &["join(separator: string = \"\"): [string?] -> string"],
        fallible: false,
        doc: "Joins an array of strings (or a tuple of string sources) with `separator`. \
              Null and missing elements are skipped. When every source of a tuple is \
              missing the result is missing (the target is left out); nulls alone, or an \
              empty array, join to `\"\"`.",
        examples: &[
            ex(
                r#"join(" ")"#,
                r#"["Ana", null, "Silva"]"#,
                r#""Ana Silva""#,
            ),
            ex(r#"join(";")"#, r#"[]"#, r#""""#),
        ],
        inverse: Some("split"),
        apply: join,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            type_rule: Some(skips_absent_type),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "concat",
        category: Strings,
        signatures: &["concat: (string?...) -> string"],
        fallible: false,
        doc: "Concatenates the present values of a tuple: `(street, number) -> Line : concat`. \
              Like `join`, a tuple whose values are all missing gives a missing result.",
        examples: &[ex("concat", r#"["INV-", "0042"]"#, r#""INV-0042""#)],
        inverse: None,
        apply: concat,
        check_args: None,
        prepare: None,
        hooks: Hooks {
            type_rule: Some(skips_absent_type),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "length",
        category: Strings,
        signatures: &["length: string -> int", "length: [any?] -> int"],
        fallible: false,
        doc: "The number of characters of a string, or of elements of an array.",
        examples: &[
            ex("length", r#""Zoë""#, "3"),
            ex("length", r#"[1, 2]"#, "2"),
        ],
        inverse: None,
        apply: length,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "substring",
        category: Strings,
        signatures: &["substring(start: int, length: int? = null): string -> string"],
        fallible: false,
        doc: "Characters from `start` (0-based), at most `length` of them (to the end \
              without it). Positions past the end give a shorter or empty string.",
        examples: &[
            ex("substring(0, 3)", r#""Zoë Ana""#, r#""Zoë""#),
            ex("substring(4)", r#""Zoë Ana""#, r#""Ana""#),
        ],
        inverse: None,
        apply: substring,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "pad_left",
        category: Strings,
        signatures: &["pad_left(width: int, fill: string = \" \"): string -> string"],
        fallible: false,
        doc: "Pads on the left with the one-character `fill` up to `width` characters. \
              Longer values are kept whole, never cut.",
        examples: &[ex(r#"pad_left(6, "0")"#, r#""42""#, r#""000042""#)],
        inverse: None,
        apply: pad_left,
        check_args: Some(check_fill),
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "pad_right",
        category: Strings,
        signatures: &["pad_right(width: int, fill: string = \" \"): string -> string"],
        fallible: false,
        doc: "Pads on the right with `fill` up to `width` characters.",
        examples: &[ex(r#"pad_right(4, ".")"#, r#""ab""#, r#""ab..""#)],
        inverse: None,
        apply: pad_right,
        check_args: Some(check_fill),
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "contains",
        category: Strings,
        signatures: &["contains(text: string): string -> bool"],
        fallible: false,
        doc: "Whether the value contains `text`.",
        examples: &[ex(r#"contains("@")"#, r#""a@b""#, "true")],
        inverse: None,
        apply: contains,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "starts_with",
        category: Strings,
        signatures: &["starts_with(text: string): string -> bool"],
        fallible: false,
        doc: "Whether the value starts with `text`.",
        examples: &[ex(r#"starts_with("+971")"#, r#""+97145550100""#, "true")],
        inverse: None,
        apply: starts_with,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "ends_with",
        category: Strings,
        signatures: &["ends_with(text: string): string -> bool"],
        fallible: false,
        doc: "Whether the value ends with `text`.",
        examples: &[ex(r#"ends_with(".ae")"#, r#""globex.ae""#, "true")],
        inverse: None,
        apply: ends_with,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
];
