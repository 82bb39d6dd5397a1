//! The lens laws (issue 5): every bidirectional mapping in `mappings/`
//! obeys them, and the law checker finds real counterexamples.

mod common;

use common::{temp, tether};
use tether::compile::{collect_files, compile_file};
use tether::laws;

#[test]
fn every_bidirectional_mapping_in_mappings_obeys_the_laws() {
    let files = collect_files(std::path::Path::new("mappings")).expect("mappings/");
    let mut checked = Vec::new();
    for f in files {
        let c = compile_file(&f, &[]).expect("readable");
        let program = c
            .program
            .unwrap_or_else(|| panic!("{} compiles", f.display()));
        for m in program
            .mappings
            .iter()
            .filter(|m| laws::is_bidirectional(m))
        {
            for law in laws::check(&program, m, laws::CASES) {
                assert!(
                    law.failure.is_none(),
                    "{} :: {} :: {}\n{}",
                    f.display(),
                    m.name,
                    law.law,
                    law.failure.unwrap_or_default()
                );
                checked.push(format!("{}::{}", m.name, law.law));
            }
        }
    }
    assert!(
        checked.iter().any(|c| c.starts_with("contact::GetPut")),
        "the HubSpot ↔ Salesforce contract is law-checked: {checked:?}"
    );
}

const JOIN: &str = r#"
schema a { record A { id: string, first?: string, last?: string, stage?: Stage }
           enum Stage { "lead", "customer", "evangelist" } }
schema b { record B { id: string, name?: string, status?: Status }
           enum Status { "Open", "Won" } }
table st { "lead" <-> "Open"  "customer" <-> "Won"  "evangelist" -> "Won" }
mapping m: a.A <-> b.B {
  key id <-> id
  (first, last) <-> name : join(" ")
  stage <-> status : st
}
"#;

#[test]
fn a_join_whose_parts_contain_the_separator_breaks_get_put() {
    let path = temp("laws", "join.tether", JOIN);
    let (code, out, err) = tether(&["test", &path]);
    assert_eq!(code, Some(1), "{out}{err}");
    let failure = out
        .lines()
        .skip_while(|l| !l.starts_with("FAIL m :: law GetPut"))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    // Shrunk to a part that holds the separator; the way back rejects it.
    assert!(failure.contains("does not map back"), "{out}");
    assert!(failure.contains("parts for 2 targets"), "{out}");
    assert!(
        failure.contains(r#""first":" ""#) || failure.contains(r#""last":" ""#),
        "{out}"
    );
    // The one-way table entry is not a counterexample: W0005 said so.
    assert!(!out.contains("evangelist"), "{out}");
}

#[test]
fn a_table_that_is_not_a_bijection_both_ways_does_not_compile() {
    // Make `evangelist` two-way onto a value another key already maps to:
    // the table is then ambiguous backwards, which the checker refuses.
    let ambiguous = JOIN.replace("\"evangelist\" -> \"Won\"", "\"evangelist\" <-> \"Won\"");
    let path = temp("laws", "ambiguous.tether", &ambiguous);
    let (code, _, err) = tether(&["check", &path]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error[E0003]: \"Won\" is mapped twice in the `<-` direction"),
        "{err}"
    );
}

#[test]
fn a_lawful_mapping_passes_all_three_laws() {
    let lawful = JOIN.replace("(first, last) <-> name : join(\" \")", "first <-> name");
    let lawful = lawful
        .replace("first?: string", "first: string")
        .replace("name?: string", "name: string");
    let path = temp("laws", "lawful.tether", &lawful);
    let (code, out, err) = tether(&["test", &path]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out.matches("ok   m :: law ").count(), 3, "{out}");
}

/// A numeric id shown with a prefix (issue 15): `S-42` on the right is `42`
/// on the left. The right side's `No` must be generated in the domain of
/// `strip_prefix("S-") | parse_int`, not as any string.
const NUMERIC_KEY_PAIR: &str = r#"
schema a { record A { id: int, name: string } }
schema b { record B { No: string, Name: string } }
mapping m: a.A <-> b.B {
  key id -> No : to_string | prefix("S-")
  id <- No : strip_prefix("S-") | parse_int
  name <-> Name
}
"#;

#[test]
fn a_numeric_key_with_a_prefix_written_both_ways_obeys_the_laws() {
    let path = temp("laws", "numeric_key_pair.tether", NUMERIC_KEY_PAIR);
    let (code, out, err) = tether(&["test", &path]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out.matches("ok   m :: law ").count(), 3, "{out}");
}

#[test]
fn to_string_of_an_int_a_decimal_or_a_bool_is_undone_in_a_two_way_rule() {
    let one_rule = r#"
schema a { record A { id: int, total: decimal, vip: bool } }
schema b { record B { No: string, Total: string, Vip: string } }
mapping m: a.A <-> b.B {
  key id <-> No : to_string | prefix("S-")
  total <-> Total : to_string
  vip <-> Vip : to_string
}
"#;
    let path = temp("laws", "numeric_key_one_rule.tether", one_rule);
    let (code, out, err) = tether(&["check", &path]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = tether(&["test", &path]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out.matches("ok   m :: law ").count(), 3, "{out}");
    // The way back reads what the forward direction writes, scale kept.
    let input = temp(
        "laws",
        "one_rule_b.json",
        r#"{"No":"S-42","Total":"1.50","Vip":"true"}"#,
    );
    let (code, out, err) = tether(&[
        "run",
        &path,
        "--mapping",
        "m",
        "--reverse",
        "--input",
        &input,
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(r#""id":42"#)
            && out.contains(r#""total":1.50"#)
            && out.contains(r#""vip":true"#),
        "{out}"
    );
}

#[test]
fn records_the_generator_cannot_bring_into_a_rules_domain_are_explained() {
    // `No` is written from two fields (`prefix(name)`): no value of one
    // field can be run through it, so `No` is generated as any string, and
    // `strip_prefix("S-")` rejects nearly all of them.
    let unreachable = NUMERIC_KEY_PAIR.replace("prefix(\"S-\")\n", "prefix(name)\n");
    let path = temp("laws", "unreachable.tether", &unreachable);
    let (code, out, err) = tether(&["test", &path]);
    assert_eq!(code, Some(1), "{out}{err}");
    let put_get = out
        .lines()
        .skip_while(|l| !l.starts_with("FAIL m :: law PutGet"))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        put_get.contains("could not generate enough right records the mapping accepts")
            && put_get.contains("by the rule at ")
            && put_get.contains(":6:3: E1003 at `No`")
            && put_get.contains("does not start with \"S-\""),
        "{out}"
    );
    assert!(!out.contains("global rejects"), "{out}");
}
