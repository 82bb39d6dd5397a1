//! The contact benchmark's contract (`mappings/bench/contact_bench.tether`,
//! `benches/contact.md`): tether's output is byte for byte the
//! hand-written reference's (`benches/reference/contact.rs`) on generated
//! contacts, edge records have the outputs written out by hand from the
//! contract table, and `--threads` changes nothing but the speed.

mod common;

#[path = "../benches/reference/contact.rs"]
mod reference;

use common::{temp, tether};

const MAPPING: &str = "mappings/bench/contact_bench.tether";

fn run(input: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["run", MAPPING, "--mapping", "contact", "--input", input];
    args.extend_from_slice(extra);
    tether(&args)
}

/// The reference's output for each line of `input`, as NDJSON.
fn reference_output(input: &str) -> String {
    let text = std::fs::read_to_string(input).expect("read input");
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let record: serde_json::Value = serde_json::from_str(line).expect("generated JSON");
        let mapped = reference::transform(&record).expect("the reference maps every sample");
        out.push_str(&serde_json::to_string(&mapped).expect("serialise"));
        out.push('\n');
    }
    out
}

#[test]
fn generated_contacts_map_exactly_as_the_reference() {
    let input = "mappings/bench/contacts.ndjson";
    let (code, stdout, stderr) = run(input, &["--threads", "1"]);
    assert_eq!(code, Some(0), "{stderr}");
    let want = reference_output(input);
    assert_eq!(stdout.lines().count(), 400);
    for (i, (got, want)) in stdout.lines().zip(want.lines()).enumerate() {
        assert_eq!(got, want, "line {}", i + 1);
    }
    assert_eq!(stdout, want);
}

#[test]
fn edge_records_follow_the_contract_table() {
    let input = "mappings/bench/contacts_edge.ndjson";
    let (code, stdout, stderr) = run(input, &["--threads", "1"]);
    assert_eq!(code, Some(0), "{stderr}");
    // Written from the contract, not from either program.
    let want = [
        // Unicode lower-casing and trimming; an empty phone is kept, a null
        // last name defaulted; an unmapped status is Other; epoch 0 in
        // Dubai; 12340 fils are 12.340 KWD.
        r#"{"External_Id__c":"e1","FirstName":"Émile","LastName":"[not provided]","Email":"émile.dubois@example.com","Phone":"","Status__c":"Other","CreatedDate":"1970-01-01T04:00:00.000+04:00","HasOptedOutOfEmail":true,"Lifetime_Value__c":12.340,"CurrencyIsoCode":"KWD","Deal_Ids__c":[]}"#,
        // A null status is Other too; JPY has no decimals; a refund stays negative.
        r#"{"External_Id__c":"e2","LastName":"Tanaka","Status__c":"Other","HasOptedOutOfEmail":false,"Lifetime_Value__c":-2500,"CurrencyIsoCode":"JPY","Deal_Ids__c":[]}"#,
        // Escapes survive; a null currency is USD for the amount as well;
        // the last millisecond of 2024 UTC is 2025 in Dubai.
        r#"{"External_Id__c":"e3","LastName":"[not provided]","Account_Name__c":"Soylent \"Green\" Ltd","MailingStreet":"1 Main St\nSuite 2","Status__c":"Other","CreatedDate":"2025-01-01T03:59:59.999+04:00","HasOptedOutOfEmail":false,"Lifetime_Value__c":0.00,"CurrencyIsoCode":"USD","Deal_Ids__c":["9","10"]}"#,
        // Nothing but an id.
        r#"{"External_Id__c":"e4","LastName":"[not provided]","Status__c":"Other","HasOptedOutOfEmail":false,"CurrencyIsoCode":"USD","Deal_Ids__c":[]}"#,
    ];
    let got: Vec<&str> = stdout.lines().collect();
    assert_eq!(got, want);
    assert_eq!(stdout, reference_output(input));
}

#[test]
fn threads_keep_the_order_and_the_line_numbers_of_rejects() {
    // Several chunks (about 1 MiB each), with bad lines scattered through.
    let sample = std::fs::read_to_string("mappings/bench/contacts.ndjson").expect("sample");
    let mut text = String::new();
    let mut bad_lines = Vec::new();
    let mut n = 0;
    for round in 0..10 {
        for (i, line) in sample.lines().enumerate() {
            n += 1;
            if i == 7 * round + 3 {
                text.push_str("{\"id\": 42, not json\n");
                bad_lines.push(n);
                n += 1;
            }
            text.push_str(line);
            text.push('\n');
        }
    }
    assert!(text.len() > 3 << 20, "the input spans several chunks");
    let input = temp("bench", "many.ndjson", &text);
    let rejects = |name: &str| temp("bench", name, "");
    let one_rejects = rejects("one.rejects");
    let (code1, out1, _) = run(&input, &["--threads", "1", "--rejects", &one_rejects]);
    let three_rejects = rejects("three.rejects");
    let (code3, out3, _) = run(&input, &["--threads", "3", "--rejects", &three_rejects]);
    assert_eq!(code1, Some(3), "a run with rejects exits 3");
    assert_eq!(code3, code1);
    assert_eq!(out1.lines().count(), 10 * 400);
    assert!(out1 == out3, "the outputs differ with threads");
    let rej1 = std::fs::read_to_string(&one_rejects).expect("rejects");
    let rej3 = std::fs::read_to_string(&three_rejects).expect("rejects");
    assert_eq!(rej1, rej3);
    let lines: Vec<u64> = rej1
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("reject JSON");
            v["line"].as_u64().expect("line number")
        })
        .collect();
    assert_eq!(lines, bad_lines);
}

#[test]
fn threads_must_be_at_least_one() {
    let (code, _, stderr) = run("mappings/bench/contacts_edge.ndjson", &["--threads", "0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--threads"), "{stderr}");
}

/// The reference is measured as a program written without tether would be
/// (issue 15): a crate and workspace of its own, with serde_json's default
/// features, not the ones tether turns on (`preserve_order` and
/// `arbitrary_precision` make a `Value` slower to build). Those are only
/// behind its `tether-json` feature, the second row of `benches/run`; this
/// file compiles the same `contact.rs` with tether's features, and both
/// builds must write the same bytes.
#[test]
fn the_reference_is_its_own_crate_with_serde_json_default_features() {
    let manifest =
        std::fs::read_to_string("benches/reference/Cargo.toml").expect("the reference's manifest");
    let lines: Vec<&str> = manifest
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(
        lines.contains(&"[workspace]"),
        "not a member of tether's build"
    );
    let section = |header: &str| -> Vec<&str> {
        lines
            .iter()
            .skip_while(|l| **l != header)
            .skip(1)
            .take_while(|l| !l.starts_with('['))
            .copied()
            .collect()
    };
    let dependencies = section("[dependencies]");
    let serde_json = dependencies
        .iter()
        .find(|l| l.starts_with("serde_json"))
        .expect("serde_json is a dependency");
    for not_default in ["preserve_order", "arbitrary_precision", "default-features"] {
        assert!(!serde_json.contains(not_default), "{serde_json}");
    }
    let features = section("[features]");
    assert!(
        features.iter().any(|l| l.starts_with("tether-json")
            && l.contains("serde_json/preserve_order")
            && l.contains("serde_json/arbitrary_precision")),
        "{features:?}"
    );
}
