//! Aggregates over gathered arrays (docs/design/13-documents.md,
//! "Aggregates"): gathers across several arrays, the run-time behaviour of
//! `count`, `sum`, `min`, `max`, `any`, `all` and `count_distinct`
//! (empty, absent and null-holding arrays, exact decimals, overflow, money
//! in one currency), and the laws the design states, as properties.

use proptest::prelude::*;
use rust_decimal::Decimal;
use std::io::Cursor;
use tether::base::Value;
use tether::compile::compile_source;
use tether::exec::{InputFormat, OutputFormat, Runner};
use tether::plan;
use tether::stdlib::{self, Args};
use tether::syntax::Direction;

/// The output lines and the reject lines of running mapping `m` of `src`
/// over NDJSON `input`, through a plan written to its file format and read
/// back (what `tether build` and `sync` run).
fn run(src: &str, input: &str) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let c = compile_source("t.tether", src, None);
    let program = c.program.as_ref().unwrap_or_else(|| {
        panic!(
            "does not compile: {:?}",
            c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
        )
    });
    let p = plan::lower(program, "m", Direction::Forward).expect("plan");
    let (mut out, mut rejects) = (Vec::new(), Vec::new());
    Runner::new(&p, &mut out, Some(&mut rejects), OutputFormat::Ndjson)
        .run(&mut Cursor::new(input.as_bytes()), InputFormat::Ndjson)
        .expect("run");
    let lines = |b: &[u8]| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(b)
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    };
    (lines(&out), lines(&rejects))
}

const NESTED: &str = r#"
schema a {
  record Doc { blocks?: [Block] }
  record Block { name?: string?, items?: [Item], deep?: [Inner] }
  record Item { n?: int?, d?: decimal?, ok?: bool? }
  record Inner { rows?: [Item] }
}
schema b {
  record Out {
    count: int, sum_n: int, sum_d: decimal, top?: int, low?: decimal,
    any_ok: bool, all_ok: bool, names: int, ids?: [int?], three: int
  }
}
mapping m: a.Doc -> b.Out {
  blocks[].items[].n        -> count : count
  blocks[].items[].n        -> sum_n : sum
  blocks[].items[].d        -> sum_d : sum
  blocks[].items[].n        -> top   : max
  blocks[].items[].d        -> low   : min
  blocks[].items[].ok       -> any_ok : any
  blocks[].items[].ok       -> all_ok : all
  blocks[].name             -> names : count_distinct
  blocks[].items[].n        -> ids
  blocks[].deep[].rows[].n  -> three : sum
}
"#;

#[test]
fn a_gather_over_two_and_three_arrays_is_flat_and_in_document_order() {
    let input = r#"{"blocks":[
      {"name":"x","items":[{"n":1,"d":18.150,"ok":true},{"n":null,"d":8.85}],
       "deep":[{"rows":[{"n":100}]},{"rows":[{"n":20},{"n":3}]}]},
      {"name":"x"},
      {"name":"y","items":[{"n":5,"ok":false}],"deep":[{}]}
    ]}"#;
    let (out, rejects) = run(NESTED, &input.replace('\n', ""));
    assert!(rejects.is_empty(), "{rejects:?}");
    let o = &out[0];
    assert_eq!(o["ids"], serde_json::json!([1, null, 5]), "{o}");
    assert_eq!(o["count"], 2);
    assert_eq!(o["sum_n"], 6);
    // Exact, at the largest scale of the parts.
    assert_eq!(o["sum_d"].to_string(), "27.000");
    assert_eq!(o["top"], 5);
    assert_eq!(o["low"].to_string(), "8.85");
    assert_eq!(o["any_ok"], true);
    assert_eq!(o["all_ok"], false);
    assert_eq!(o["names"], 2);
    // Three levels: 100 + 20 + 3; a level without `rows` adds nothing.
    assert_eq!(o["three"], 123);
}

#[test]
fn absent_and_empty_arrays_give_the_identity_and_min_max_stay_missing() {
    for input in [r#"{}"#, r#"{"blocks":[]}"#, r#"{"blocks":[{"items":[]}]}"#] {
        let (out, rejects) = run(NESTED, input);
        assert!(rejects.is_empty(), "{input}: {rejects:?}");
        let o = &out[0];
        assert_eq!(o["count"], 0, "{input}");
        assert_eq!(o["sum_n"], 0, "{input}");
        assert_eq!(o["sum_d"], 0, "{input}");
        assert_eq!(o["any_ok"], false, "{input}");
        assert_eq!(o["all_ok"], true, "{input}");
        assert!(
            o.get("top").is_none() && o.get("low").is_none(),
            "{input}: {o}"
        );
    }
}

#[test]
fn an_element_that_fails_to_read_is_reported_once_with_its_path() {
    let input = r#"{"blocks":[{"items":[{"n":1},{"n":"two"}]}]}"#;
    let (out, rejects) = run(NESTED, input);
    assert!(out.is_empty(), "{out:?}");
    let errors = rejects[0]["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["path"], "blocks[0].items[1].n");
}

#[test]
fn an_overflowing_sum_rejects_the_record_naming_the_element() {
    let input = r#"{"blocks":[{"items":[{"n":9223372036854775807},{"n":1}]}]}"#;
    let (out, rejects) = run(NESTED, input);
    assert!(out.is_empty(), "{out:?}");
    let r = &rejects[0];
    assert_eq!(r["errors"][0]["code"], "E1006", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("element [1]")),
        "{r}"
    );
}

const MONEY: &str = r#"
schema a {
  record Doc { lines: [Line], fees?: [Fee], currency: string }
  record Line { amount: money<EUR> }
  record Fee { amount: money }
}
schema b { record Out { total: money, fees: money } }
mapping m: a.Doc -> b.Out {
  lines[].amount -> total : sum
  fees[].amount  -> fees  : sum(currency)
}
"#;

#[test]
fn money_sums_in_one_currency_and_rejects_another() {
    let eur = |a: &str, c: &str| format!(r#"{{"amount":{{"amount":"{a}","currency":"{c}"}}}}"#);
    let input = format!(
        r#"{{"currency":"EUR","lines":[{},{}],"fees":[{}]}}"#,
        eur("6543.14", "EUR"),
        eur("112.72", "EUR"),
        eur("1.50", "EUR")
    );
    let (out, rejects) = run(MONEY, &input);
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(out[0]["total"]["amount"], "6655.86", "{}", out[0]);
    assert_eq!(out[0]["total"]["currency"], "EUR");
    // Empty: zero in the currency the checker knows, or the one stated.
    let (out, _) = run(MONEY, r#"{"currency":"KWD","lines":[]}"#);
    assert_eq!(out[0]["total"]["currency"], "EUR", "{}", out[0]);
    assert_eq!(out[0]["fees"]["currency"], "KWD", "{}", out[0]);
    // A fee in another currency than the stated one rejects the record.
    let input = format!(
        r#"{{"currency":"EUR","lines":[],"fees":[{},{}]}}"#,
        eur("1.00", "EUR"),
        eur("2.00", "USD")
    );
    let (out, rejects) = run(MONEY, &input);
    assert!(out.is_empty(), "{out:?}");
    let e = &rejects[0]["errors"][0];
    assert_eq!(e["code"], "E1008", "{e}");
    let m = e["message"].as_str().unwrap_or_default();
    assert!(m.contains("element [1]") && m.contains("USD"), "{m}");
}

#[test]
fn an_aggregate_in_a_two_way_rule_is_lossy() {
    let src = r#"
schema a { record L { ns: [int] } }
schema b { record R { total: int } }
mapping m: a.L <-> b.R {
  ns[] <-> total : sum
}
"#;
    let c = compile_source("t.tether", src, None);
    let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert!(
        codes.contains(&"E0222") || codes.contains(&"E0212"),
        "{codes:?}"
    );
    assert!(c.program.is_none());
}

const EACH: &str = r#"
schema a {
  record Order { lines?: [Line], tax_lines?: [Tax] }
  record Line { price?: string?, qty: int }
  record Tax { price: string }
}
schema b { record Out { total: decimal, taxes: decimal, prices?: [decimal?], n: int } }
mapping m: a.Order -> b.Out {
  lines[].price     -> total  : each { parse_decimal } | sum
  tax_lines[].price -> taxes  : each { parse_decimal | mul(2) } | sum
  lines[].price     -> prices : each { parse_decimal }
  lines[].qty       -> n      : each { mul(10) } | sum
}
"#;

#[test]
fn each_applies_its_pipeline_to_every_element_and_passes_nulls_and_absence() {
    let input = r#"{"lines":[{"price":"49.50","qty":2},{"price":null,"qty":1},{"qty":3}],"tax_lines":[{"price":"0.25"}]}"#;
    let (out, rejects) = run(EACH, input);
    assert!(rejects.is_empty(), "{rejects:?}");
    let o = &out[0];
    assert_eq!(o["total"].to_string(), "49.50", "{o}");
    assert_eq!(o["taxes"].to_string(), "0.50", "{o}");
    assert_eq!(o["prices"].to_string(), "[49.50,null,null]", "{o}");
    assert_eq!(o["n"], 60);
    // No tax lines at all: `each` passes the absent array on, `sum` gives 0.
    let (out, rejects) = run(EACH, r#"{"lines":[]}"#);
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(out[0]["taxes"], 0, "{}", out[0]);
}

#[test]
fn a_step_that_fails_inside_each_rejects_the_record_naming_the_element() {
    let input =
        r#"{"lines":[{"price":"1.00","qty":1}],"tax_lines":[{"price":"0.25"},{"price":"n/a"}]}"#;
    let (out, rejects) = run(EACH, input);
    assert!(out.is_empty(), "{out:?}");
    let e = &rejects[0]["errors"][0];
    assert_eq!(e["code"], "E1003", "{e}");
    assert_eq!(e["path"], "tax_lines[].price", "{e}");
    let m = e["message"].as_str().unwrap_or_default();
    assert!(m.starts_with("element [1]:"), "{m}");
}

const PICK: &str = r#"
schema a {
  record Order { lines?: [Line], notes?: [Note] }
  record Line { sku?: string?, qty: int }
  record Note { name: string, value: string }
}
schema b { record Out { first?: string?, last?: string?, second_qty?: int, gone?: int, back?: string } }
mapping m: a.Order -> b.Out {
  lines[0].sku   -> first
  lines[-1].sku  -> last
  lines[1].qty   -> second_qty
  lines[5].qty   -> gone
  notes[-2].value -> back
}
"#;

#[test]
fn an_index_picks_from_the_start_or_the_end_and_finds_nothing_past_either() {
    let input = r#"{"lines":[{"sku":"A","qty":1},{"sku":null,"qty":2},{"sku":"C","qty":3}],"notes":[{"name":"x","value":"1"},{"name":"y","value":"2"}]}"#;
    let (out, rejects) = run(PICK, input);
    assert!(rejects.is_empty(), "{rejects:?}");
    let o = &out[0];
    assert_eq!(o["first"], "A", "{o}");
    assert_eq!(o["last"], "C", "{o}");
    assert_eq!(o["second_qty"], 2, "{o}");
    assert!(o.get("gone").is_none(), "{o}");
    assert_eq!(o["back"], "1", "{o}");
    // An absent or empty array, and one too short from the end.
    for input in [
        r#"{}"#,
        r#"{"lines":[],"notes":[{"name":"x","value":"1"}]}"#,
    ] {
        let (out, rejects) = run(PICK, input);
        assert!(rejects.is_empty(), "{input}: {rejects:?}");
        assert_eq!(
            out[0].as_object().map(|m| m.len()),
            Some(0),
            "{input}: {}",
            out[0]
        );
    }
}

fn call(name: &str, v: Value<'static>) -> Result<Value<'static>, stdlib::Fail> {
    let def = stdlib::lookup(name).expect("a stdlib transform");
    (def.apply)(v, &Args::new(&[]))
}

fn decimals(v: &[Option<i64>], scale: u32) -> Value<'static> {
    Value::Array(
        v.iter()
            .map(|n| n.map_or(Value::Null, |n| Value::Decimal(Decimal::new(n, scale))))
            .collect(),
    )
}

proptest! {
    /// `sum` over a concatenation is the sum of the sums (exactness: no
    /// rounding, so the order of the parts does not matter either).
    #[test]
    fn sum_of_a_concatenation_is_the_sum_of_the_sums(
        a in proptest::collection::vec(proptest::option::of(-1_000_000_000i64..1_000_000_000), 0..20),
        b in proptest::collection::vec(proptest::option::of(-1_000_000_000i64..1_000_000_000), 0..20),
        scale in 0u32..6,
    ) {
        let whole: Vec<Option<i64>> = a.iter().chain(&b).copied().collect();
        let as_dec = |v: Value<'_>| match v {
            Value::Decimal(d) => d,
            Value::Int(n) => Decimal::from(n),
            other => panic!("not a number: {other:?}"),
        };
        let sum_ab = as_dec(call("sum", decimals(&whole, scale)).expect("sum"));
        let sum_a = as_dec(call("sum", decimals(&a, scale)).expect("sum"));
        let sum_b = as_dec(call("sum", decimals(&b, scale)).expect("sum"));
        prop_assert_eq!(sum_ab, sum_a + sum_b);
        let mut reversed = whole.clone();
        reversed.reverse();
        prop_assert_eq!(as_dec(call("sum", decimals(&reversed, scale)).expect("sum")), sum_ab);
    }

    /// `count` plus the nulls is `length`.
    #[test]
    fn count_and_nulls_make_the_length(v in proptest::collection::vec(proptest::option::of(any::<i64>()), 0..30)) {
        let arr = Value::Array(v.iter().map(|n| n.map_or(Value::Null, Value::Int)).collect());
        let nulls = v.iter().filter(|n| n.is_none()).count() as i64;
        let count = call("count", arr.clone()).expect("count");
        let length = call("length", arr).expect("length");
        match (count, length) {
            (Value::Int(c), Value::Int(l)) => prop_assert_eq!(c + nulls, l),
            other => prop_assert!(false, "{other:?}"),
        }
    }

    /// `min` and `max` pick values of the array, bounding every other.
    #[test]
    fn min_and_max_bound_the_present_values(v in proptest::collection::vec(proptest::option::of(any::<i64>()), 0..30)) {
        let arr = Value::Array(v.iter().map(|n| n.map_or(Value::Null, Value::Int)).collect());
        let present: Vec<i64> = v.iter().flatten().copied().collect();
        let lo = call("min", arr.clone()).expect("min");
        let hi = call("max", arr).expect("max");
        match (present.iter().min(), present.iter().max()) {
            (Some(l), Some(h)) => {
                prop_assert_eq!(lo, Value::Int(*l));
                prop_assert_eq!(hi, Value::Int(*h));
            }
            _ => {
                prop_assert_eq!(lo, Value::Missing);
                prop_assert_eq!(hi, Value::Missing);
            }
        }
    }
}
