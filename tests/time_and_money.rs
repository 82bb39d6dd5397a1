//! Dates and money against real material and their laws: every string of
//! the date zoo (tests/data/date-formats/) parses to its instant; minor ↔ major units round-trip
//! for every ISO 4217 currency; parse(format(x)) == x for the named formats
//! and for patterns that keep every field.

use proptest::prelude::*;
use tether::base::Currency;
use tether::compile::compile_source;
use tether::exec::{Outcome, map_record};
use tether::plan;
use tether::stdlib::datefmt::{Format, Parsed, Target};
use tether::syntax::Direction;

/// Runs `value -> out : <pipeline>` on one input value of `in_type`.
fn map_one(in_type: &str, input_json: &str, pipeline: &str) -> Result<String, String> {
    let src = format!(
        "schema s {{ record In {{ v: {in_type} }} record Out {{ v?: any? }} }}\nmapping m: s.In -> s.Out {{ v -> v : {pipeline} }}"
    );
    let c = compile_source("t.tether", &src, None);
    let program = c.program.as_ref().ok_or_else(|| {
        format!(
            "does not compile: {:?}",
            c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
        )
    })?;
    let p = plan::lower(program, "m", Direction::Forward).map_err(|_| "no plan".to_string())?;
    match map_record(&p, &format!("{{\"v\":{input_json}}}")) {
        Outcome::Mapped(out) => {
            let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
            Ok(v["v"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v["v"].to_string()))
        }
        Outcome::Rejected { errors, .. } => {
            Err(format!("{}: {}", errors[0].code, errors[0].message))
        }
    }
}

/// The instant (UTC, RFC 3339) each zoo value stands for, and the pipeline
/// that reads it. `instant_utc` from the file when it states one; computed by
/// hand from the value otherwise.
fn reading_of(value: &serde_json::Value) -> Option<(&'static str, &'static str, &'static str)> {
    let s = value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string());
    Some(match s.as_str() {
        "1234567890" => (
            "int",
            r#"parse_datetime("epoch_seconds")"#,
            "2009-02-13T23:31:30Z",
        ),
        "2019-10-30T03:30:17.883Z" => ("string", "parse_datetime", "2019-10-30T03:30:17.883Z"),
        "1572480000000" => (
            "string",
            r#"parse_datetime("epoch_millis")"#,
            "2019-10-31T00:00:00Z",
        ),
        "2011-07-07T00:37:00.000+0000" => ("string", "parse_datetime", "2011-07-07T00:37:00Z"),
        "2010-01-01" => (
            "string",
            r#"parse_date | format_date("yyyy-MM-dd'T00:00:00Z'") | parse_datetime"#,
            "2010-01-01T00:00:00Z",
        ),
        "2008-01-10T11:00:00-05:00" => ("string", "parse_datetime", "2008-01-10T16:00:00Z"),
        // WooCommerce's date_created_gmt: UTC without the Z.
        "2017-03-22T19:28:02" => (
            "string",
            r#"parse_localdatetime | assume_zone("UTC")"#,
            "2017-03-22T19:28:02Z",
        ),
        "2024-03-07T19:47:17.828+02:00" => (
            "string",
            r#"parse_datetime("xsd")"#,
            "2024-03-07T17:47:17.828Z",
        ),
        "2014-12-31T13:15:00+01:00" => {
            ("string", r#"parse_datetime("xsd")"#, "2014-12-31T12:15:00Z")
        }
        "2010-11-11T09:30:47.000Z" => {
            ("string", r#"parse_datetime("xsd")"#, "2010-11-11T09:30:47Z")
        }
        // Microsoft: the milliseconds are UTC; the offset only marks "local".
        "/Date(700000+0500)/" => (
            "string",
            r#"parse_datetime("msjson")"#,
            "1970-01-01T00:11:40Z",
        ),
        "\\/Date(1333645844276-0600)\\/" => (
            "string",
            r#"parse_datetime("msjson")"#,
            "2012-04-05T17:10:44.276Z",
        ),
        "21 Nov 97 09:55:06 GMT (comment)" => (
            "string",
            r#"parse_datetime("rfc2822")"#,
            "1997-11-21T09:55:06Z",
        ),
        _ => return None,
    })
}

#[test]
fn every_date_of_the_zoo_parses_to_its_instant() {
    let text = std::fs::read_to_string("tests/data/date-formats/zoo.json").expect("the zoo");
    let zoo: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let entries = zoo["entries"].as_array().expect("entries");
    let mut checked = 0;
    for e in entries {
        let value = &e["value"];
        let format = e["format"].as_str().unwrap_or_default();
        if format.starts_with("INVALID") {
            let r = map_one(
                "string",
                &value.to_string(),
                r#"parse_datetime("epoch_seconds")"#,
            );
            assert!(r.is_err(), "{value} must be refused, got {r:?}");
            checked += 1;
            continue;
        }
        if e["json_type"] == "pattern" {
            // A CLDR pattern: it compiles, and reads a date with or without
            // the right-to-left marks.
            let p = value.as_str().expect("pattern text");
            let pipeline = format!(
                "parse_date({}) | format_date",
                serde_json::to_string(p).unwrap()
            );
            for input in ["\"5\u{200f}/1\u{200f}/2024\"", "\"5/1/2024\""] {
                assert_eq!(
                    map_one("string", input, &pipeline).as_deref(),
                    Ok("2024-01-05")
                );
            }
            checked += 1;
            continue;
        }
        let (ty, pipeline, want) = reading_of(value)
            .unwrap_or_else(|| panic!("the zoo has a value this test does not know: {value}"));
        if let Some(stated) = e["instant_utc"].as_str() {
            // The file's own answer, normalised the way tether writes it.
            let stated = stated.replace(".000Z", "Z");
            assert_eq!(want, stated, "{value}");
        }
        let got = map_one(
            ty,
            &value.to_string(),
            &format!("{pipeline} | to_utc | format_datetime"),
        );
        assert_eq!(got.as_deref(), Ok(want), "{value} read with {pipeline}");
        checked += 1;
    }
    assert_eq!(checked, entries.len());
}

#[test]
fn check_rejects_unknown_zone_currency_and_pattern_with_suggestions() {
    for (pipeline, in_type, code, hint) in [
        (
            r#"parse_datetime("epoch_seconds") | to_zone("Asia/Dubia")"#,
            "int",
            "E0217",
            "Asia/Dubai",
        ),
        (
            r#"from_minor("KWX") | format_amount"#,
            "int",
            "E0216",
            "KWD",
        ),
        (
            r#"parse_date("dd/MM/yyyyy") | format_date"#,
            "string",
            "E0218",
            "yyyyy",
        ),
    ] {
        let src = format!(
            "schema s {{ record In {{ v: {in_type} }} record Out {{ v?: any? }} }}\nmapping m: s.In -> s.Out {{ v -> v : {pipeline} }}"
        );
        let c = compile_source("t.tether", &src, None);
        let d = c
            .diagnostics
            .iter()
            .find(|d| d.code.as_str() == code)
            .unwrap_or_else(|| panic!("{code} expected for {pipeline}"));
        let text = format!("{} {:?}", d.message, d.help);
        assert!(text.contains(hint), "{code}: {text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// minor → major → minor is the identity, for every currency with a
    /// minor unit and any amount.
    #[test]
    fn minor_major_minor_is_the_identity(minor in any::<i64>(), pick in any::<prop::sample::Index>()) {
        let codes: Vec<&str> = Currency::all_codes()
            .filter(|c| Currency::parse(c).and_then(Currency::minor_units).is_some())
            .collect();
        let code = codes[pick.index(codes.len())];
        let back = map_one("int", &minor.to_string(), &format!("from_minor(\"{code}\") | to_minor"));
        prop_assert_eq!(back, Ok(minor.to_string()));
        // And the text has exactly the currency's decimals.
        let text = map_one("int", &minor.to_string(), &format!("from_minor(\"{code}\") | format_amount")).unwrap();
        let units = Currency::parse(code).and_then(Currency::minor_units).unwrap() as usize;
        let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
        prop_assert_eq!(decimals, units, "{} {}", code, text);
    }

    /// Sums of money are exact: the same as integer arithmetic on minor units.
    #[test]
    fn money_arithmetic_is_exact(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
        let src = "schema s { record In { a: int, b: int } record Out { v: string } }\nmapping m: s.In -> s.Out { a -> v : add(b) | from_minor(\"KWD\") | format_amount }";
        let c = compile_source("t.tether", src, None);
        let p = plan::lower(c.program.as_ref().unwrap(), "m", Direction::Forward).unwrap();
        let Outcome::Mapped(out) = map_record(&p, &format!("{{\"a\":{a},\"b\":{b}}}")) else { panic!() };
        let sum = a + b;
        let want = format!("{}{}.{:03}", if sum < 0 { "-" } else { "" }, sum.abs() / 1000, sum.abs() % 1000);
        prop_assert_eq!(out, format!("{{\"v\":\"{want}\"}}"));
    }

    /// parse(format(x)) == x for the named formats that keep every digit and
    /// for a pattern with every field.
    #[test]
    fn named_formats_and_full_patterns_round_trip(secs in -2_000_000_000i64..4_000_000_000, millis in 0u32..1000, offset_min in -14*60i32..=14*60) {
        let offset = chrono::FixedOffset::east_opt(offset_min * 60).unwrap();
        let instant = chrono::DateTime::from_timestamp(secs, millis * 1_000_000).unwrap().with_timezone(&offset);
        let whole = chrono::DateTime::from_timestamp(secs, 0).unwrap().with_timezone(&offset);
        for (fmt, value) in [
            ("iso8601", instant),
            ("rfc3339_millis", instant),
            ("xsd", instant),
            ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", instant),
            ("EEE, dd MMM yyyy hh:mm:ss.SSS a xx", instant),
            ("rfc3339_seconds", whole),
            ("rfc2822", whole),
        ] {
            let w = Format::parse_writer(fmt, Target::DateTime).unwrap();
            let r = Format::parse(fmt, Target::DateTime).unwrap();
            let text = w.write_value(&Parsed::DateTime(value)).unwrap();
            let back = r.parse_value(&text, Target::DateTime);
            prop_assert!(matches!(back, Ok(Parsed::DateTime(d)) if d == value && d.offset() == value.offset()), "{} -> {} -> {:?}", fmt, text, back.as_ref().err());
        }
        // Epoch formats keep the instant (the offset is not theirs to keep).
        for fmt in ["epoch_millis", "msjson"] {
            let f = Format::parse(fmt, Target::DateTime).unwrap();
            let text = f.write_value(&Parsed::DateTime(instant)).unwrap();
            let back = f.parse_value(&text, Target::DateTime);
            prop_assert!(matches!(back, Ok(Parsed::DateTime(d)) if d == instant), "{} -> {}", fmt, text);
        }
    }

    /// Dates written with a full pattern read back the same.
    #[test]
    fn date_patterns_round_trip(days in -700_000i32..700_000) {
        let date = chrono::NaiveDate::from_num_days_from_ce_opt(730_000 + days).unwrap();
        for fmt in ["dd/MM/yyyy", "yyyyMMdd", "EEEE d MMMM yyyy", "iso8601"] {
            let f = Format::parse(fmt, Target::Date).unwrap();
            let text = f.write_value(&Parsed::Date(date)).unwrap();
            let back = f.parse_value(&text, Target::Date);
            prop_assert!(matches!(back, Ok(Parsed::Date(d)) if d == date), "{} -> {}", fmt, text);
        }
    }

    /// Reading arbitrary text with any format is an error or a value, never
    /// a panic; so is compiling arbitrary pattern text.
    #[test]
    fn reading_arbitrary_text_never_panics(text in "\\PC{0,40}", pattern in "[yMdEHhamsSXxZ'/ :.T-]{0,16}") {
        for fmt in ["iso8601", "rfc2822", "epoch_millis", "msjson", "xsd", "dd/MM/yyyy HH:mm XXX", "EEE, d MMM y h:mm a"] {
            for target in [Target::DateTime, Target::LocalDateTime, Target::Date, Target::Time] {
                if let Ok(f) = Format::parse(fmt, target) {
                    let _ = f.parse_value(&text, target);
                }
            }
        }
        for target in [Target::DateTime, Target::LocalDateTime, Target::Date, Target::Time] {
            if let Ok(f) = Format::parse(&pattern, target) {
                let _ = f.parse_value(&text, target);
            }
        }
    }
}

/// A withdrawn code in a record says when it was withdrawn and what its
/// country uses now, whether a transform or the reader finds it.
#[test]
fn a_withdrawn_currency_in_a_record_says_so() {
    let said = "withdrawn from ISO 4217 in 2023-01; CROATIA now uses EUR";
    for (in_type, pipeline) in [
        ("string", "currency_code"),
        ("string", "from_minor_of_field"),
        ("currency", "to_string"),
        ("money", "amount_of"),
    ] {
        let input = match in_type {
            "money" => r#"{"amount":"1.00","currency":"HRK"}"#,
            _ => r#""hrk""#,
        };
        let result = if pipeline == "from_minor_of_field" {
            map_minor_of_field_currency("hrk")
        } else {
            map_one(in_type, input, pipeline)
        };
        let err = result.expect_err(pipeline);
        assert!(err.contains(said), "{in_type} | {pipeline}: {err}");
    }
    let err = map_one("string", r#""usdx""#, "currency_code").expect_err("usdx");
    assert!(err.ends_with("is not an ISO 4217 currency code"), "{err}");
}

/// `from_minor(cur)` with the currency taken from a field of the record.
fn map_minor_of_field_currency(currency: &str) -> Result<String, String> {
    let src = "schema s { record In { n: int, cur: string } record Out { v?: any? } }\nmapping m: s.In -> s.Out { n -> v : from_minor(cur) }";
    let c = compile_source("t.tether", src, None);
    let program = c.program.as_ref().ok_or("does not compile")?;
    let p = plan::lower(program, "m", Direction::Forward).map_err(|_| "no plan".to_string())?;
    match map_record(&p, &format!("{{\"n\":1,\"cur\":\"{currency}\"}}")) {
        Outcome::Mapped(out) => Ok(out),
        Outcome::Rejected { errors, .. } => {
            Err(format!("{}: {}", errors[0].code, errors[0].message))
        }
    }
}
