//! Transform arguments: a constant is prepared once with the plan, a field is
//! read per record, and both give the same result; `field ?? literal` takes
//! the literal when the field is null or missing, and the literal is checked
//! like a constant.

use tether::exec::{Outcome, map_record};
use tether::plan;

#[path = "../benches/support.rs"]
#[allow(dead_code)] // not every test uses every helper
mod support;

const SCHEMA: &str = r#"
schema s {
  record In {
    at?: string?
    amount?: int?
    cur?: string?
    zone?: string?
    fmt_in?: string?
    fmt_out?: string?
  }
  record Out { a?: any?, b?: any? }
}
"#;

fn compile(rules: &str) -> Result<plan::Plan, Vec<String>> {
    support::plan_source(
        &format!("{SCHEMA}\nmapping m: s.In -> s.Out {{\n{rules}\n}}"),
        "m",
    )
}

fn map(p: &plan::Plan, record: &str) -> serde_json::Value {
    match map_record(p, record) {
        Outcome::Mapped(out) => serde_json::from_str(&out).expect("output JSON"),
        Outcome::Rejected { errors, .. } => panic!("rejected {record}: {errors:?}"),
    }
}

#[test]
fn constant_and_field_arguments_agree() {
    // `a` has every argument as a constant (prepared with the plan); `b`
    // reads the same arguments from fields, per record.
    let p = compile(
        r#"
        at -> a : parse_datetime("epoch_millis") | to_zone("America/New_York")
                | format_datetime("EEEE d MMM yyyy HH:mm:ss.SSS XXX")
        at -> b : parse_datetime(fmt_in) | to_zone(zone) | format_datetime(fmt_out)
        "#,
    )
    .expect("compiles");
    for millis in [
        "0",
        "1710054000000",
        "1730613599999",
        "-86400001",
        "4102444800000",
    ] {
        let record = format!(
            r#"{{"at":"{millis}","fmt_in":"epoch_millis","zone":"America/New_York","fmt_out":"EEEE d MMM yyyy HH:mm:ss.SSS XXX"}}"#
        );
        let out = map(&p, &record);
        assert!(out["a"].is_string(), "{out}");
        assert_eq!(out["a"], out["b"], "at {millis}");
    }
    let money = compile(
        r#"
        amount -> a : from_minor("KWD") | format_amount
        amount -> b : from_minor(cur) | format_amount
        "#,
    )
    .expect("compiles");
    for amount in ["0", "1", "-12340", "9223372036854775807"] {
        let out = map(&money, &format!(r#"{{"amount":{amount},"cur":"KWD"}}"#));
        assert_eq!(out["a"], out["b"], "amount {amount}");
    }
}

#[test]
fn a_fallback_is_used_only_when_the_field_is_null_or_missing() {
    let p = compile(r#"amount -> a : from_minor(cur ?? "JPY") | format_amount"#).expect("compiles");
    assert_eq!(map(&p, r#"{"amount":1234,"cur":"KWD"}"#)["a"], "1.234");
    assert_eq!(map(&p, r#"{"amount":1234,"cur":null}"#)["a"], "1234");
    assert_eq!(map(&p, r#"{"amount":1234}"#)["a"], "1234");
    // Without a fallback a null currency leaves the amount null.
    let plain = compile(r#"amount -> a : from_minor(cur) | format_amount"#).expect("compiles");
    assert_eq!(
        map(&plain, r#"{"amount":1234,"cur":null}"#)["a"],
        serde_json::Value::Null
    );
}

#[test]
fn a_fallback_is_checked_like_a_constant() {
    let err = |rules: &str| compile(rules).err().unwrap_or_default().join("\n");
    let wrong_currency = err(r#"amount -> a : from_minor(cur ?? "USDX") | format_amount"#);
    assert!(wrong_currency.starts_with("E0216"), "{wrong_currency}");
    let wrong_zone = err(r#"at -> a : parse_datetime | to_zone(zone ?? "Asia/Dubay")"#);
    assert!(wrong_zone.starts_with("E0217"), "{wrong_zone}");
    let wrong_type = err(r#"amount -> a : from_minor(cur ?? 12)"#);
    assert!(wrong_type.starts_with("E0202"), "{wrong_type}");
}

#[test]
fn an_array_literal_is_an_argument() {
    let p = compile(r#"cur -> a : split(",") | default([])"#).expect("compiles");
    assert_eq!(map(&p, r#"{}"#)["a"], serde_json::json!([]));
    assert_eq!(
        map(&p, r#"{"cur":"a,b"}"#)["a"],
        serde_json::json!(["a", "b"])
    );
}
