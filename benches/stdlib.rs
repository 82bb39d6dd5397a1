//! Per-record cost of each stdlib family, through the real plan: one record
//! read, a handful of rules of the family run, the output written. The
//! `copy` case (the same fields copied with no step) is the floor to
//! subtract. `cargo bench --bench stdlib`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tether::exec::{Outcome, map_record};
use tether::plan::Plan;

#[path = "support.rs"]
#[allow(dead_code)] // not every bench uses every helper
mod support;

const SCHEMA: &str = r#"
schema s {
  record In {
    text: string
    code: string
    amount: int
    price: string
    millis: string
    day: string
    currency: string
    maybe?: string?
  }
  record Out { a?: any?, b?: any?, c?: any?, d?: any? }
}
table codes { "NEW", "OPEN" -> "Open"  "WON" -> "Closed"  else -> "Other" }
"#;

const RECORD: &str = r#"{"text":"  Ana.Silva@Example.COM ","code":"OPEN","amount":123456789,"price":"1499.995","millis":"1572480000000","day":"29/02/2024","currency":"KWD","maybe":null}"#;

/// The families and the rules that stand for them.
const FAMILIES: &[(&str, &str)] = &[
    ("copy", "text -> a\n code -> b\n price -> c\n day -> d"),
    (
        "strings",
        r#"text -> a : trim | lower
           text -> b : replace(".", "_") | upper
           text -> c : trim | split("@") | join(" at ")
           code -> d : prefix("crm:") | pad_left(12, "0")"#,
    ),
    (
        "nulls",
        r#"maybe -> a : default("none")
           maybe -> b : omit_null
           text -> c : null_if_blank | default("x")
           (maybe, code) -> d : coalesce"#,
    ),
    (
        "conversions",
        r#"price -> a : parse_decimal
           amount -> b : to_string
           millis -> c : parse_int
           price -> d : parse_decimal | to_string"#,
    ),
    (
        "numbers",
        r#"price -> a : parse_decimal | mul(100) | round(0)
           amount -> b : div(1000)
           price -> c : parse_decimal | round(2, "half_up")
           amount -> d : sub(1) | abs"#,
    ),
    (
        "dates",
        r#"millis -> a : parse_datetime("epoch_millis") | to_zone("Asia/Dubai") | format_datetime("rfc3339_millis")
           day -> b : parse_date("dd/MM/yyyy") | format_date("EEEE d MMMM y")
           millis -> c : parse_datetime("epoch_millis") | to_zone("America/New_York") | to_local
           millis -> d : parse_datetime("epoch_millis") | to_epoch_seconds"#,
    ),
    (
        "money",
        r#"amount -> a : from_minor(currency) | format_amount
           amount -> b : from_minor("JPY") | amount_of
           price -> c : parse_decimal | money("USD") | round_money | format_amount
           amount -> d : from_minor("USD") | convert_currency("AED", 3.6725) | format_amount"#,
    ),
    (
        "logic",
        r#"code -> a : codes
           code -> b : if eq("OPEN") { "yes" } else { "no" }
           amount -> c : gt(1000)
           code -> d : if (maybe) | is_null { codes }"#,
    ),
];

fn plan_of(rules: &str) -> Plan {
    let src = format!("{SCHEMA}\nmapping m: s.In -> s.Out {{\n{rules}\n}}");
    support::plan_source(&src, "m").unwrap_or_else(|e| panic!("{rules}: {e:?}"))
}

fn families(c: &mut Criterion) {
    let mut group = c.benchmark_group("stdlib");
    group.throughput(Throughput::Elements(1));
    for (family, rules) in FAMILIES {
        let plan = plan_of(rules);
        // Each family must map the record, or the bench measures rejects.
        assert!(
            matches!(map_record(&plan, RECORD), Outcome::Mapped(_)),
            "{family}"
        );
        group.bench_function(*family, |b| b.iter(|| map_record(&plan, black_box(RECORD))));
    }
    group.finish();
}

criterion_group!(benches, families);
criterion_main!(benches);
