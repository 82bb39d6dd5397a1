//! Dates, times and time zones. Formats live in [`super::datefmt`]; zones
//! are chrono-tz's IANA database, compiled into the binary.
//!
//! The zone, pattern and policy arguments are checked at compile time when
//! they are literals (E0217, E0218, E0202); the runtime checks again for
//! arguments taken from fields.
//!
//! Why one file of about 1000 lines: every transform is defined once, its
//! signature, docs, examples, hooks and implementation together (the
//! stdlib's rule), and this family has the most transforms; the format
//! language is `datefmt.rs`, zone advice `zones.rs`.

use super::datefmt::{self, Format, Parsed, Target};
use super::hooks::{ArgText, InverseArgs};
use super::zones;
use super::{
    ArgError, Args, Category::Dates, Fail, Hooks, Prepared, TransformDef, const_str, ex, ext,
};
use crate::base::Value;
use crate::diag::Code;
use chrono::offset::LocalResult;
use chrono::{DateTime, DurationRound, FixedOffset, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use std::borrow::Cow;

fn zone_fail(message: String) -> Fail {
    Fail {
        code: Code::E1008,
        message,
    }
}

fn zone(name: &str) -> Result<Tz, Fail> {
    name.parse::<Tz>().map_err(|_| {
        let hint = zones::advice(name)
            .and_then(|a| a.help)
            .map(|h| format!("; {h}"))
            .unwrap_or_default();
        zone_fail(format!("{name:?} is not an IANA time zone{hint}"))
    })
}

/// The format argument: prepared with the plan when it is a constant.
fn format_arg<'x>(
    a: &Args<'x, '_>,
    target: Target,
    writing: bool,
) -> Result<Cow<'x, Format>, Fail> {
    if let Prepared::Format(f) = a.prepared() {
        return Ok(Cow::Borrowed(f));
    }
    let text = a.str(0)?;
    let f = if writing {
        Format::parse_writer(text, target)
    } else {
        Format::parse(text, target)
    };
    f.map(Cow::Owned).map_err(|e| match e.help {
        Some(help) => Fail::conversion(format!("{}; {help}", e.message)),
        None => Fail::conversion(e.message),
    })
}

/// The zone argument: prepared with the plan when it is a constant.
fn zone_arg(a: &Args<'_, '_>) -> Result<Tz, Fail> {
    match a.prepared() {
        Prepared::Zone(tz) => Ok(*tz),
        _ => zone(a.str(0)?),
    }
}

fn prepare_zone(args: &[Option<&Value<'static>>]) -> Prepared {
    const_str(args, 0)
        .and_then(|name| name.parse::<Tz>().ok())
        .map_or(Prepared::None, Prepared::Zone)
}

fn parse_as<'a>(v: Value<'a>, a: &Args<'_, 'a>, target: Target) -> Result<Value<'a>, Fail> {
    let f = format_arg(a, target, false)?;
    let parsed = match &v {
        Value::Str(s) => f.parse_value(s, target),
        // Epoch counts arrive as JSON numbers.
        Value::Int(n) => match f.as_ref() {
            Format::Named(super::datefmt::Named::EpochSeconds) => {
                super::datefmt::epoch(*n, false).map(Parsed::DateTime)
            }
            Format::Named(super::datefmt::Named::EpochMillis) => {
                super::datefmt::epoch(*n, true).map(Parsed::DateTime)
            }
            _ => Err(format!(
                "{n} is a number: read it with \"epoch_seconds\" or \"epoch_millis\""
            )),
        },
        other => return Err(Fail::wrong_type("string", other)),
    }
    .map_err(Fail::conversion)?;
    Ok(match parsed {
        Parsed::DateTime(d) => Value::DateTime(d),
        Parsed::LocalDateTime(d) => Value::LocalDateTime(d),
        Parsed::Date(d) => Value::Date(d),
        Parsed::Time(t) => Value::Time(t),
    })
}

fn format_as<'a>(v: Value<'a>, a: &Args<'_, 'a>, target: Target) -> Result<Value<'a>, Fail> {
    let f = format_arg(a, target, true)?;
    let parsed = match v {
        Value::DateTime(d) => Parsed::DateTime(d),
        Value::LocalDateTime(d) => Parsed::LocalDateTime(d),
        Value::Date(d) => Parsed::Date(d),
        Value::Time(t) => Parsed::Time(t),
        other => return Err(Fail::wrong_type("date or time", &other)),
    };
    f.write_value(&parsed)
        .map(Value::str)
        .map_err(Fail::conversion)
}

/// One apply function per target type (a `TransformDef` holds a plain fn
/// pointer, so the target cannot be an argument).
macro_rules! per_target {
    ($($name:ident => $via:ident, $target:expr;)*) => {
        $(fn $name<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
            $via(v, a, $target)
        })*
    };
}

per_target! {
    parse_datetime => parse_as, Target::DateTime;
    parse_localdatetime => parse_as, Target::LocalDateTime;
    parse_date => parse_as, Target::Date;
    parse_time => parse_as, Target::Time;
    format_datetime => format_as, Target::DateTime;
    format_localdatetime => format_as, Target::LocalDateTime;
    format_date => format_as, Target::Date;
    format_time => format_as, Target::Time;
}

fn check_format(
    args: &[Option<&Value<'static>>],
    target: Target,
    writing: bool,
) -> Result<(), ArgError> {
    let Some(text) = const_str(args, 0) else {
        return Ok(());
    };
    let parsed = if writing {
        Format::parse_writer(text, target)
    } else {
        Format::parse(text, target)
    };
    let e = match parsed {
        // Valid, but perhaps not what was meant: `yyyy-mm-dd` writes the
        // minute where the month belongs (W0009).
        Ok(_) => {
            return match datefmt::suspicious_pattern(text, target, writing) {
                Some(advice) => Err(advice
                    .notes
                    .into_iter()
                    .fold(
                        ArgError::suspicious(
                            0,
                            format!("the pattern {text:?} is probably not what was meant"),
                        ),
                        ArgError::note,
                    )
                    .help_opt(advice.meant.map(|m| format!("did you mean {m:?}?")))),
                None => Ok(()),
            };
        }
        Err(e) => e,
    };
    let at = match text.get(e.offset..) {
        Some(rest) if e.offset > 0 => format!(" (at `{rest}`)"),
        _ => String::new(),
    };
    let refused = ArgError::new(0, format!("{}{at}", e.message)).code(Code::E0218);
    Err(e
        .notes
        .into_iter()
        .fold(refused, ArgError::note)
        .help_opt(e.help))
}

fn prepare_format(args: &[Option<&Value<'static>>], target: Target, writing: bool) -> Prepared {
    let Some(text) = const_str(args, 0) else {
        return Prepared::None;
    };
    let parsed = if writing {
        Format::parse_writer(text, target)
    } else {
        Format::parse(text, target)
    };
    parsed.map_or(Prepared::None, Prepared::Format)
}

/// The check and the preparation of a format argument, per target and use
/// (a `TransformDef` holds plain fn pointers).
macro_rules! format_args_fns {
    ($($check:ident, $prepare:ident => $target:expr, $writing:expr;)*) => {
        $(fn $check(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
            check_format(args, $target, $writing)
        }
        fn $prepare(args: &[Option<&Value<'static>>]) -> Prepared {
            prepare_format(args, $target, $writing)
        })*
    };
}

format_args_fns! {
    check_read_datetime, prepare_read_datetime => Target::DateTime, false;
    check_read_localdatetime, prepare_read_localdatetime => Target::LocalDateTime, false;
    check_read_date, prepare_read_date => Target::Date, false;
    check_read_time, prepare_read_time => Target::Time, false;
    check_write_datetime, prepare_write_datetime => Target::DateTime, true;
    check_write_localdatetime, prepare_write_localdatetime => Target::LocalDateTime, true;
    check_write_date, prepare_write_date => Target::Date, true;
    check_write_time, prepare_write_time => Target::Time, true;
}

/// Whether a format argument keeps every field a `target` value has, so
/// the other of the `parse_*`/`format_*` pair undoes the call (E0222
/// otherwise: `format_date("MM/dd")` forgets the year).
fn format_keeps_fields(args: &[ArgText<'_>], target: Target) -> Result<(), String> {
    let Some(ArgText::String(format)) = args.first() else {
        return Ok(());
    };
    let dropped = Format::parse_writer(format, target)
        .map(|f| f.dropped_fields(target))
        .unwrap_or_default();
    if dropped.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the format {format:?} drops the {}, which the way back cannot restore",
            dropped.join(", ")
        ))
    }
}

/// The invertibility hook of each target's pair (a `TransformDef` holds
/// plain fn pointers).
macro_rules! format_invertible_fns {
    ($($name:ident => $target:expr;)*) => {
        $(fn $name(args: &[ArgText<'_>]) -> Result<(), String> {
            format_keeps_fields(args, $target)
        })*
    };
}

format_invertible_fns! {
    datetime_invertible => Target::DateTime;
    localdatetime_invertible => Target::LocalDateTime;
    date_invertible => Target::Date;
    time_invertible => Target::Time;
}

// ------------------------------------------------------------------ zones

/// A zone constant must be an IANA name (E0217). An abbreviation or an
/// offset gets the zone it probably meant; an IANA name that is a fixed
/// offset where its abbreviation usually has daylight saving (`EST`) is a
/// warning (W0009).
fn check_zone(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
    let Some(name) = const_str(args, 0) else {
        return Ok(());
    };
    let with_advice = |e: ArgError, advice: zones::ZoneAdvice| {
        advice
            .notes
            .into_iter()
            .fold(e, ArgError::note)
            .help_opt(advice.help)
    };
    if let Ok(tz) = name.parse::<Tz>() {
        return match zones::fixed_abbreviation(name, tz) {
            Some((message, advice)) => Err(with_advice(ArgError::suspicious(0, message), advice)),
            None => Ok(()),
        };
    }
    let e = ArgError::new(0, format!("unknown time zone {name:?}")).code(Code::E0217);
    Err(match zones::advice(name) {
        Some(advice) => with_advice(e, advice),
        None => e.suggest(name, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name())),
    })
}

const DST_POLICIES: &[&str] = &["error", "earlier", "later"];

fn check_assume_zone(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
    check_zone(args)?;
    match const_str(args, 1) {
        Some(p) if !DST_POLICIES.contains(&p) => Err(ArgError::new(
            1,
            format!(
                "unknown DST policy {p:?} (one of {})",
                DST_POLICIES.join(", ")
            ),
        )
        .suggest(p, DST_POLICIES.iter().copied())),
        _ => Ok(()),
    }
}

fn datetime_of(v: Value<'_>) -> Result<DateTime<FixedOffset>, Fail> {
    match v {
        Value::DateTime(d) => Ok(d),
        other => Err(Fail::wrong_type("datetime", &other)),
    }
}

fn to_zone<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let tz = zone_arg(a)?;
    Ok(Value::DateTime(
        datetime_of(v)?.with_timezone(&tz).fixed_offset(),
    ))
}

fn to_utc<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    Ok(Value::DateTime(
        datetime_of(v)?.with_timezone(&Utc).fixed_offset(),
    ))
}

fn to_local<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        // An `anydatetime` without an offset is local already.
        Value::LocalDateTime(d) => Ok(Value::LocalDateTime(d)),
        other => Ok(Value::LocalDateTime(datetime_of(other)?.naive_local())),
    }
}

/// A local date-time in a zone. In a DST gap the local time does not exist;
/// in an overlap it exists twice. `error` rejects both; `earlier`/`later`
/// use the offset in force before/after the transition.
pub fn assume(local: NaiveDateTime, tz: Tz, policy: &str) -> Result<DateTime<FixedOffset>, Fail> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(d) => Ok(d.fixed_offset()),
        LocalResult::Ambiguous(first, second) => match policy {
            "earlier" => Ok(first.fixed_offset()),
            "later" => Ok(second.fixed_offset()),
            _ => Err(zone_fail(format!(
                "{local} happens twice in {tz} (the clocks go back); say which with assume_zone(\"{tz}\", \"earlier\") or \"later\""
            ))),
        },
        LocalResult::None => {
            // The offsets around the gap: an hour either side is enough for
            // every transition in the database.
            let out_of_range = || zone_fail(format!("{local} is out of range"));
            let shifted = |hours: i64| {
                local
                    .checked_add_signed(TimeDelta::hours(hours))
                    .ok_or_else(out_of_range)
            };
            let before = tz.offset_from_utc_datetime(&shifted(-3)?);
            let after = tz.offset_from_utc_datetime(&shifted(3)?);
            let use_offset = match policy {
                "earlier" => before,
                "later" => after,
                _ => {
                    return Err(zone_fail(format!(
                        "{local} does not exist in {tz} (the clocks go forward); say how to read it with assume_zone(\"{tz}\", \"earlier\") or \"later\""
                    )));
                }
            };
            let fixed = chrono::Offset::fix(&use_offset);
            fixed
                .from_local_datetime(&local)
                .single()
                .ok_or_else(out_of_range)
        }
    }
}

fn assume_zone<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let tz = zone_arg(a)?;
    let policy = a.str(1)?;
    match v {
        Value::LocalDateTime(local) => assume(local, tz, policy).map(Value::DateTime),
        other => Err(Fail::wrong_type("localdatetime", &other)),
    }
}

fn to_date<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    match v {
        Value::DateTime(d) => Ok(Value::Date(d.date_naive())),
        Value::LocalDateTime(d) => Ok(Value::Date(d.date())),
        other => Err(Fail::wrong_type("datetime", &other)),
    }
}

fn to_epoch_seconds<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let d = datetime_of(v)?;
    if d.timestamp_subsec_nanos() != 0 {
        return Err(Fail::conversion(format!(
            "{} has a fraction of a second; use to_epoch_millis, or trunc_time(\"second\") first",
            d.to_rfc3339()
        )));
    }
    Ok(Value::Int(d.timestamp()))
}

fn to_epoch_millis<'a>(v: Value<'a>, _: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let d = datetime_of(v)?;
    if d.timestamp_subsec_nanos() % 1_000_000 != 0 {
        return Err(Fail::conversion(format!(
            "{} has digits below a millisecond; use trunc_time(\"millisecond\") first",
            d.to_rfc3339()
        )));
    }
    Ok(Value::Int(d.timestamp_millis()))
}

const UNITS: &[(&str, TimeDelta)] = &[
    ("millisecond", TimeDelta::milliseconds(1)),
    ("second", TimeDelta::seconds(1)),
    ("minute", TimeDelta::minutes(1)),
    ("hour", TimeDelta::hours(1)),
    ("day", TimeDelta::days(1)),
];

fn unit(name: &str) -> Option<TimeDelta> {
    UNITS.iter().find(|(n, _)| *n == name).map(|(_, d)| *d)
}

fn check_unit(args: &[Option<&Value<'static>>]) -> Result<(), ArgError> {
    match const_str(args, 0) {
        Some(u) if unit(u).is_none() => {
            let names: Vec<&str> = UNITS.iter().map(|(n, _)| *n).collect();
            Err(ArgError::new(
                0,
                format!("unknown unit {u:?} (one of {})", names.join(", ")),
            )
            .suggest(u, names.iter().copied()))
        }
        _ => Ok(()),
    }
}

fn trunc_time<'a>(v: Value<'a>, a: &Args<'_, 'a>) -> Result<Value<'a>, Fail> {
    let name = a.str(0)?;
    let step = unit(name).ok_or_else(|| Fail::conversion(format!("unknown unit {name:?}")))?;
    let fail = |e: chrono::RoundingError| Fail::conversion(e.to_string());
    match v {
        // Truncated on the wall clock of the value's own offset.
        Value::DateTime(d) => {
            let local = d.naive_local().duration_trunc(step).map_err(fail)?;
            d.offset()
                .from_local_datetime(&local)
                .single()
                .map(Value::DateTime)
                .ok_or_else(|| Fail::conversion("out of range"))
        }
        Value::LocalDateTime(d) => d
            .duration_trunc(step)
            .map(Value::LocalDateTime)
            .map_err(fail),
        other => Err(Fail::wrong_type("datetime", &other)),
    }
}

pub(super) static DEFS: &[TransformDef] = &[
    TransformDef {
        name: "parse_datetime",
        category: Dates,
        signatures: &[
            r#"parse_datetime(format: string = "iso8601"): string -> datetime"#,
            r#"parse_datetime(format: string): int -> datetime"#,
        ],
        fallible: true,
        doc: "Reads an instant (a date-time with an offset). `format` is a named format — \
              `iso8601`/`rfc3339` (fraction optional; `Z`, `+04:00`, `+0400` or `+04`), \
              `rfc2822` (with the obsolete forms), `epoch_seconds` and `epoch_millis` (a number \
              or a string of digits), `msjson` (`/Date(ms±hhmm)/`), `xsd` — or a pattern with \
              an offset (`yyyy-MM-dd HH:mm XXX`, see the pattern letters in docs/language.md). \
              Text without an offset is an error: read it with `parse_localdatetime`, then \
              `assume_zone`. Strict: `2024-02-30` is an error.",
        examples: &[
            ex(
                "parse_datetime",
                r#""2011-07-07T00:37:00.000+0000""#,
                r#""2011-07-07T00:37:00Z""#,
            ),
            ex(
                r#"parse_datetime("epoch_seconds")"#,
                "1234567890",
                r#""2009-02-13T23:31:30Z""#,
            ),
            ex(
                r#"parse_datetime("epoch_millis")"#,
                r#""1572480000000""#,
                r#""2019-10-31T00:00:00Z""#,
            ),
            ex(
                r#"parse_datetime("msjson")"#,
                r#""/Date(1333645844276-0600)/""#,
                r#""2012-04-05T11:10:44.276-06:00""#,
            ),
            ex(
                r#"parse_datetime("rfc2822")"#,
                r#""21 Nov 97 09:55:06 GMT""#,
                r#""1997-11-21T09:55:06Z""#,
            ),
            ex(
                r#"parse_datetime("dd/MM/yyyy HH:mm XXX")"#,
                r#""14/02/2009 03:31 +04:00""#,
                r#""2009-02-14T03:31:00+04:00""#,
            ),
            ex("parse_datetime", r#""2017-03-22T16:28:02""#, "error E1003"),
            ex(
                r#"parse_datetime("epoch_seconds")"#,
                r#""161426533.0""#,
                "error E1003",
            ),
        ],
        inverse: Some("format_datetime"),
        apply: parse_datetime,
        check_args: Some(check_read_datetime),
        prepare: Some(prepare_read_datetime),
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            invertible: Some(datetime_invertible),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "parse_localdatetime",
        category: Dates,
        signatures: &[
            r#"parse_localdatetime(format: string = "iso8601"): string -> localdatetime"#,
        ],
        fallible: true,
        doc: "Reads a date and time without an offset (WooCommerce's `2017-03-22T16:28:02`, an \
              unzoned `xs:dateTime`). Text with an offset is an error: it is an instant, read it \
              with `parse_datetime`.",
        examples: &[
            ex(
                "parse_localdatetime",
                r#""2017-03-22T16:28:02""#,
                r#""2017-03-22T16:28:02""#,
            ),
            ex(
                r#"parse_localdatetime("dd/MM/yyyy h:mm a")"#,
                r#""22/03/2017 4:28 PM""#,
                r#""2017-03-22T16:28:00""#,
            ),
            ex(
                "parse_localdatetime",
                r#""2017-03-22T16:28:02Z""#,
                "error E1003",
            ),
        ],
        inverse: Some("format_localdatetime"),
        apply: parse_localdatetime,
        check_args: Some(check_read_localdatetime),
        prepare: Some(prepare_read_localdatetime),
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            invertible: Some(localdatetime_invertible),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "parse_date",
        category: Dates,
        signatures: &[r#"parse_date(format: string = "iso8601"): string -> date"#],
        fallible: true,
        doc: "Reads a calendar date. Strict: `31/02/2024` is an error, never `2024-03-02`. \
              `xsd` also accepts the zone an `xs:date` may carry (and ignores it). Bidi marks \
              (U+200E, U+200F, U+061C), as in CLDR's Arabic patterns, are ignored.",
        examples: &[
            ex(
                r#"parse_date("dd/MM/yyyy")"#,
                r#""29/02/2024""#,
                r#""2024-02-29""#,
            ),
            ex(
                r#"parse_date("dd/MM/yyyy")"#,
                r#""31/02/2024""#,
                "error E1003",
            ),
            ex(
                r#"parse_date("d MMM yyyy")"#,
                r#""5 jan 2024""#,
                r#""2024-01-05""#,
            ),
            ex(
                r#"parse_date("xsd")"#,
                r#""2002-10-10+13:00""#,
                r#""2002-10-10""#,
            ),
        ],
        inverse: Some("format_date"),
        apply: parse_date,
        check_args: Some(check_read_date),
        prepare: Some(prepare_read_date),
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            invertible: Some(date_invertible),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "parse_time",
        category: Dates,
        signatures: &[r#"parse_time(format: string = "iso8601"): string -> time"#],
        fallible: true,
        doc: "Reads a time of day.",
        examples: &[
            ex("parse_time", r#""16:28:02.5""#, r#""16:28:02.500""#),
            ex(r#"parse_time("h:mm a")"#, r#""12:05 AM""#, r#""00:05:00""#),
            ex("parse_time", r#""24:00:00""#, "error E1003"),
        ],
        inverse: Some("format_time"),
        apply: parse_time,
        check_args: Some(check_read_time),
        prepare: Some(prepare_read_time),
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            invertible: Some(time_invertible),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "format_datetime",
        category: Dates,
        signatures: &[r#"format_datetime(format: string = "iso8601"): datetime -> string"#],
        fallible: true,
        doc: "Writes an instant. `iso8601`/`rfc3339` write the fraction only when there is one \
              and `Z` for UTC; `rfc3339_seconds` and `rfc3339_millis` write exactly that \
              precision and fail rather than drop digits (use `trunc_time` to drop them on \
              purpose); `rfc2822`, `epoch_seconds`, `epoch_millis`, `msjson`, or a pattern.",
        examples: &[
            ext(
                r#"format_datetime("rfc3339_seconds")"#,
                "datetime",
                r#""2009-02-14T03:31:30+04:00""#,
                r#""2009-02-14T03:31:30+04:00""#,
            ),
            ext(
                r#"format_datetime("rfc3339_millis")"#,
                "datetime",
                r#""2009-02-13T23:31:30Z""#,
                r#""2009-02-13T23:31:30.000Z""#,
            ),
            ext(
                r#"format_datetime("epoch_millis")"#,
                "datetime",
                r#""2009-02-13T23:31:30.5Z""#,
                r#""1234567890500""#,
            ),
            ext(
                r#"format_datetime("dd/MM/yyyy HH:mm")"#,
                "datetime",
                r#""2009-02-14T03:31:30+04:00""#,
                r#""14/02/2009 03:31""#,
            ),
            ext(
                r#"format_datetime("rfc3339_seconds")"#,
                "datetime",
                r#""2009-02-13T23:31:30.5Z""#,
                "error E1003",
            ),
        ],
        inverse: Some("parse_datetime"),
        apply: format_datetime,
        check_args: Some(check_write_datetime),
        prepare: Some(prepare_write_datetime),
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            invertible: Some(datetime_invertible),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "format_localdatetime",
        category: Dates,
        signatures: &[
            r#"format_localdatetime(format: string = "iso8601"): localdatetime -> string"#,
        ],
        fallible: false,
        doc: "Writes a date and time without an offset.",
        examples: &[ext(
            r#"format_localdatetime("yyyy-MM-dd HH:mm:ss")"#,
            "localdatetime",
            r#""2017-03-22T16:28:02""#,
            r#""2017-03-22 16:28:02""#,
        )],
        inverse: Some("parse_localdatetime"),
        apply: format_localdatetime,
        check_args: Some(check_write_localdatetime),
        prepare: Some(prepare_write_localdatetime),
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            invertible: Some(localdatetime_invertible),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "format_date",
        category: Dates,
        signatures: &[r#"format_date(format: string = "iso8601"): date -> string"#],
        fallible: false,
        doc: "Writes a calendar date.",
        examples: &[
            ext(
                r#"format_date("dd/MM/yyyy")"#,
                "date",
                r#""2024-02-29""#,
                r#""29/02/2024""#,
            ),
            ext(
                r#"format_date("EEEE d MMMM y")"#,
                "date",
                r#""2024-02-29""#,
                r#""Thursday 29 February 2024""#,
            ),
        ],
        inverse: Some("parse_date"),
        apply: format_date,
        check_args: Some(check_write_date),
        prepare: Some(prepare_write_date),
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            invertible: Some(date_invertible),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "format_time",
        category: Dates,
        signatures: &[r#"format_time(format: string = "iso8601"): time -> string"#],
        fallible: false,
        doc: "Writes a time of day.",
        examples: &[ext(
            r#"format_time("hh:mm a")"#,
            "time",
            r#""16:28:02""#,
            r#""04:28 PM""#,
        )],
        inverse: Some("parse_time"),
        apply: format_time,
        check_args: Some(check_write_time),
        prepare: Some(prepare_write_time),
        hooks: Hooks {
            inverse_args: InverseArgs::Same,
            invertible: Some(time_invertible),
            ..Hooks::NONE
        },
    },
    TransformDef {
        name: "to_zone",
        category: Dates,
        signatures: &["to_zone(zone: string): datetime -> datetime"],
        fallible: false,
        doc: "The same instant with the offset of an IANA zone at that instant (DST \
              included). The zone database is compiled in; an unknown zone is a compile error \
              (E0217), which suggests the zone an abbreviation stands for (`GST`: \
              `Asia/Dubai`) and the fixed-offset name of an offset (`+04:00`: `Etc/GMT-4`).",
        examples: &[
            ext(
                r#"to_zone("Asia/Dubai")"#,
                "datetime",
                r#""2009-02-13T23:31:30Z""#,
                r#""2009-02-14T03:31:30+04:00""#,
            ),
            ext(
                r#"to_zone("Europe/London")"#,
                "datetime",
                r#""2024-07-01T12:00:00Z""#,
                r#""2024-07-01T13:00:00+01:00""#,
            ),
        ],
        inverse: Some("to_utc"),
        apply: to_zone,
        check_args: Some(check_zone),
        prepare: Some(prepare_zone),
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "to_utc",
        category: Dates,
        signatures: &["to_utc: datetime -> datetime"],
        fallible: false,
        doc: "The same instant with offset zero.",
        examples: &[ext(
            "to_utc",
            "datetime",
            r#""2009-02-14T03:31:30+04:00""#,
            r#""2009-02-13T23:31:30Z""#,
        )],
        inverse: None,
        apply: to_utc,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "assume_zone",
        category: Dates,
        signatures: &[
            r#"assume_zone(zone: string, policy: string = "error"): localdatetime -> datetime"#,
        ],
        fallible: true,
        doc: "Turns a local date-time into an instant by stating its zone. A local time in a \
              DST gap (it does not exist) or overlap (it exists twice) is an error under the \
              default policy `error`; `earlier` and `later` take the offset in force before or \
              after the transition.",
        examples: &[
            ext(
                r#"assume_zone("Asia/Dubai")"#,
                "localdatetime",
                r#""2017-03-22T16:28:02""#,
                r#""2017-03-22T16:28:02+04:00""#,
            ),
            ext(
                r#"assume_zone("Europe/London")"#,
                "localdatetime",
                r#""2024-03-31T01:30:00""#,
                "error E1008",
            ),
            ext(
                r#"assume_zone("Europe/London", "later")"#,
                "localdatetime",
                r#""2024-10-27T01:30:00""#,
                r#""2024-10-27T01:30:00Z""#,
            ),
            ext(
                r#"assume_zone("Europe/London", "earlier")"#,
                "localdatetime",
                r#""2024-10-27T01:30:00""#,
                r#""2024-10-27T01:30:00+01:00""#,
            ),
        ],
        inverse: Some("to_local"),
        apply: assume_zone,
        check_args: Some(check_assume_zone),
        prepare: Some(prepare_zone),
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "to_local",
        category: Dates,
        signatures: &[
            "to_local: datetime -> localdatetime",
            "to_local: anydatetime -> localdatetime",
        ],
        fallible: false,
        doc: "The wall-clock date and time of an instant in its own offset, without the \
              offset. Use `to_zone` first to choose the zone.",
        examples: &[ext(
            "to_local",
            "datetime",
            r#""2009-02-14T03:31:30+04:00""#,
            r#""2009-02-14T03:31:30""#,
        )],
        inverse: None,
        apply: to_local,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "to_date",
        category: Dates,
        signatures: &[
            "to_date: datetime -> date",
            "to_date: localdatetime -> date",
            "to_date: anydatetime -> date",
        ],
        fallible: false,
        doc: "The calendar date of a date-time, in its own offset (use `to_zone` first); \
              of an `anydatetime`, the date as written, with or without an offset.",
        examples: &[ext(
            "to_date",
            "datetime",
            r#""2009-02-14T03:31:30+04:00""#,
            r#""2009-02-14""#,
        )],
        inverse: None,
        apply: to_date,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "to_epoch_seconds",
        category: Dates,
        signatures: &["to_epoch_seconds: datetime -> int"],
        fallible: true,
        doc: "Seconds since 1970-01-01T00:00:00Z. A fraction of a second is an error, not \
              dropped.",
        examples: &[
            ext(
                "to_epoch_seconds",
                "datetime",
                r#""2009-02-14T03:31:30+04:00""#,
                "1234567890",
            ),
            ext(
                "to_epoch_seconds",
                "datetime",
                r#""2009-02-13T23:31:30.5Z""#,
                "error E1003",
            ),
        ],
        inverse: None,
        apply: to_epoch_seconds,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "to_epoch_millis",
        category: Dates,
        signatures: &["to_epoch_millis: datetime -> int"],
        fallible: true,
        doc: "Milliseconds since 1970-01-01T00:00:00Z.",
        examples: &[ext(
            "to_epoch_millis",
            "datetime",
            r#""2019-10-31T00:00:00Z""#,
            "1572480000000",
        )],
        inverse: None,
        apply: to_epoch_millis,
        check_args: None,
        prepare: None,
        hooks: Hooks::NONE,
    },
    TransformDef {
        name: "trunc_time",
        category: Dates,
        signatures: &[
            "trunc_time(unit: string): datetime -> datetime",
            "trunc_time(unit: string): localdatetime -> localdatetime",
        ],
        fallible: false,
        doc: "Drops the parts below `unit` (`millisecond`, `second`, `minute`, `hour`, `day`), \
              on the value's own wall clock. The way to say \"seconds are enough\" on purpose.",
        examples: &[ext(
            r#"trunc_time("second")"#,
            "datetime",
            r#""2019-10-30T03:30:17.883Z""#,
            r#""2019-10-30T03:30:17Z""#,
        )],
        inverse: None,
        apply: trunc_time,
        check_args: Some(check_unit),
        prepare: None,
        hooks: Hooks::NONE,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_from_a_field_gets_the_same_advice() {
        let text = Value::str("iso");
        let values = [&text];
        let fail = parse_as(
            Value::str("2024-01-01T00:00:00Z"),
            &Args::new(&values),
            Target::DateTime,
        )
        .err()
        .map(|f| f.message)
        .unwrap_or_default();
        assert!(fail.ends_with("; did you mean \"iso8601\"?"), "{fail}");
    }

    #[test]
    fn a_zone_from_a_field_gets_the_same_advice() {
        let said = |name: &str| zone(name).err().map(|f| f.message);
        assert_eq!(
            said("GST").as_deref(),
            Some(
                "\"GST\" is not an IANA time zone; did you mean \"Asia/Dubai\" (Gulf Standard Time)?"
            )
        );
        assert_eq!(
            said("Asia/Dubia").as_deref(),
            Some("\"Asia/Dubia\" is not an IANA time zone")
        );
        assert!(said("Asia/Dubai").is_none());
    }
}
