//! Damaged plan files: a plan whose body was altered is refused by its body
//! hash, and one whose hash was forged too is refused by validation; no
//! alteration of a plan's numbers makes loading or running it panic.

mod common;

use common::{temp, tether};
use proptest::prelude::*;
use std::io::Cursor;
use std::sync::LazyLock;
use tether::compile::compile_file;
use tether::exec::{InputFormat, OutputFormat, Runner};
use tether::plan::PlanFile;
use tether::plan::file::body_hash;
use tether::syntax::Direction;

const ORDERS: &str = "mappings/orders/shop_order_to_erp.tether";
const BANK: &str = "mappings/bank/camt053_to_ledger.tether";

/// The plan file of `source`, as `tether build` writes it.
fn built(source: &str) -> String {
    let c = compile_file(std::path::Path::new(source), &[]).expect("read");
    let program = c.program.as_ref().expect("compiles");
    PlanFile::build(&[(program, &c.sources)])
        .expect("build")
        .to_text()
        .expect("text")
}

/// `text` with its body replaced by `body`, and the header's hash made to
/// match (a forger who knows the format).
fn rehashed(text: &str, body: &str) -> String {
    let (head, _) = text.split_once('\n').expect("header line");
    let mut header: serde_json::Value = serde_json::from_str(head).expect("header");
    header["body_hash"] = body_hash(body).into();
    format!("{header}\n{body}\n")
}

fn body(text: &str) -> &str {
    text.split_once('\n').expect("header line").1.trim_end()
}

/// Runs the CLI on a plan file; (exit code, stderr).
fn run_plan(name: &str, text: &str) -> (Option<i32>, String) {
    let path = temp("plan-file", name, text);
    let (code, _, err) = tether(&[
        "run",
        &path,
        "--mapping",
        "sales_order",
        "--input",
        "mappings/orders/orders.json",
    ]);
    (code, err)
}

#[test]
fn the_header_carries_a_hash_of_the_body() {
    let text = built(ORDERS);
    let head: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("header")).expect("json");
    assert_eq!(head["body_hash"], body_hash(body(&text)).as_str());
    assert!(body_hash("x").starts_with("sha256:"));
}

#[test]
fn an_altered_body_byte_is_refused_by_the_hash_with_exit_2() {
    let text = built(ORDERS);
    let altered = text.replacen("\"UNKNOWN\"", "\"UNKNOWX\"", 1);
    assert_ne!(altered, text);
    let (code, err) = run_plan("byte.tplan", &altered);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("damaged") && err.contains("hash") && err.contains("rebuild"),
        "{err}"
    );
}

#[test]
fn a_forged_slot_count_is_refused_with_exit_2() {
    let text = built(ORDERS);
    let b = body(&text);
    let (at, n) = first_number_after(b, "\"input_slots\":");
    let smaller = format!("{}{}{}", &b[..at], n / 2, &b[at + n.to_string().len()..]);
    let (code, err) = run_plan("slots.tplan", &rehashed(&text, &smaller));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("damaged") && err.contains("slot"), "{err}");
}

#[test]
fn a_forged_table_index_is_refused_with_exit_2() {
    let text = built(ORDERS);
    let b = body(&text);
    let forged = b.replacen("{\"Table\":0}", "{\"Table\":7}", 1);
    assert_ne!(forged, b, "the plan uses a table");
    let (code, err) = run_plan("table.tplan", &rehashed(&text, &forged));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("damaged") && err.contains("table 7"), "{err}");
}

#[test]
fn a_forged_transform_arity_is_refused_with_exit_2() {
    let text = built(ORDERS);
    let b = body(&text);
    // `pad_left(8, "0")` with a third argument.
    let forged = b.replacen(
        "{\"Const\":{\"Str\":\"0\"}}]",
        "{\"Const\":{\"Str\":\"0\"}},{\"Const\":{\"Int\":1}}]",
        1,
    );
    assert_ne!(forged, b, "the plan pads with \"0\"");
    let (code, err) = run_plan("arity.tplan", &rehashed(&text, &forged));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("damaged") && err.contains("pad_left"), "{err}");
}

/// The byte offset of the number after the first `key`, and its value.
fn first_number_after(text: &str, key: &str) -> (usize, u64) {
    let at = text.find(key).expect("key") + key.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (at, digits.parse().expect("number"))
}

/// Every run of digits in `text` (outside no particular context): where a
/// forger would change a slot, a size or an index.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Loads `text` and, when it loads, runs every plan in it over `input`.
/// Either may refuse; neither may panic.
fn load_and_run(text: &str, input: &str, format: InputFormat) {
    let Ok(file) = PlanFile::parse(text) else {
        return;
    };
    for m in &file.mappings {
        for dir in [Direction::Forward, Direction::Reverse] {
            if let Ok(plan) = m.plan(dir) {
                for out_format in [OutputFormat::Ndjson, OutputFormat::Xml { soap: None }] {
                    let mut out = Vec::new();
                    let mut rejects = Vec::new();
                    let runner = Runner::new(plan, &mut out, Some(&mut rejects), out_format);
                    let _ = runner.run(&mut Cursor::new(input.as_bytes()), format);
                }
            }
        }
    }
}

fn mutated(text: &str, pick: usize, value: u64) -> String {
    let b = body(text);
    let spots = numbers(b);
    let (start, end) = spots[pick % spots.len()];
    let forged = format!("{}{value}{}", &b[..start], &b[end..]);
    rehashed(text, &forged)
}

/// The plans and inputs the properties forge, built once.
static ORDERS_PLAN: LazyLock<String> = LazyLock::new(|| built(ORDERS));
static BANK_PLAN: LazyLock<String> = LazyLock::new(|| built(BANK));
static ORDERS_INPUT: LazyLock<String> =
    LazyLock::new(|| std::fs::read_to_string("mappings/orders/orders.json").expect("input"));
static BANK_INPUT: LazyLock<String> =
    LazyLock::new(|| std::fs::read_to_string("mappings/bank/statement.xml").expect("input"));

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any number of the orders plan (slots, sizes, table indexes, nested
    /// element frames) changed, with the hash forged to match.
    #[test]
    fn forged_numbers_never_panic_an_element_mapping(pick in any::<usize>(), value in 0u64..40) {
        load_and_run(&mutated(&ORDERS_PLAN, pick, value), &ORDERS_INPUT, InputFormat::Json);
    }

    /// The same for a `for` mapping over XML and JSON documents (levels,
    /// positions, the shared frame of rows).
    #[test]
    fn forged_numbers_never_panic_a_for_mapping(pick in any::<usize>(), value in 0u64..60) {
        load_and_run(&mutated(&BANK_PLAN, pick, value), &BANK_INPUT, InputFormat::Xml);
    }

    /// Arbitrary bytes of the body changed (the hash forged): loading and
    /// running refuse or work, never panic.
    #[test]
    fn forged_bytes_never_panic(at in any::<usize>(), byte in any::<u8>()) {
        let mut b = body(&ORDERS_PLAN).as_bytes().to_vec();
        let i = at % b.len();
        b[i] = byte;
        let forged = String::from_utf8_lossy(&b).into_owned();
        load_and_run(&rehashed(&ORDERS_PLAN, &forged), &ORDERS_INPUT, InputFormat::Json);
    }
}
