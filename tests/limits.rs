//! Issue 17 items 2, 10, 11 and 12: bounded work and quiet output
//! (docs/design/09-hostile-input.md). Deep nesting of every construct is a
//! diagnostic, never a signal; `--threads` is bounded; `check` is linear on
//! huge tables, enums and arguments; plan files carry no absolute paths;
//! what a diagnostic prints is bounded and escaped.

mod common;

use common::{temp, tether};
use proptest::prelude::*;
use tether::compile::compile_source;
use tether::diag::Code;

const SUITE: &str = "limits";

const HEAD: &str = "schema a {\n  record A { x: string, y: bool }\n}\n";

/// A mapping file nesting `construct` `n` levels deep.
fn nested(construct: &str, n: usize) -> String {
    let rules = "mapping m: a.A -> a.A {\n  y -> y\n";
    match construct {
        "if" => format!(
            "{HEAD}{rules}  x -> x : {}trim{}\n}}\n",
            "if is_blank { ".repeat(n),
            " } else { trim }".repeat(n)
        ),
        "else if" => format!(
            "{HEAD}{rules}  x -> x : {}{{ trim }}\n}}\n",
            "if is_blank { trim } else ".repeat(n)
        ),
        "record type" => format!(
            "schema a {{\n  record A {{ x: {}string{} }}\n}}\n",
            "{ f: ".repeat(n),
            " }".repeat(n)
        ),
        "array type" => format!(
            "schema a {{\n  record A {{ x: {}string{} }}\n}}\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
        "map type" => format!(
            "schema a {{\n  record A {{ x: {}string{} }}\n}}\n",
            "map<".repeat(n),
            ">".repeat(n)
        ),
        "rule block" => format!(
            "{HEAD}{rules}  {}{}\n}}\n",
            "x -> x {".repeat(n),
            "}".repeat(n)
        ),
        "test array" => format!(
            "{HEAD}{rules}  x -> x\n}}\ntest m \"t\" {{\n  given left {{ x: {}{} }}\n  expect right {{ x: \"a\" }}\n}}\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
        "test object" => format!(
            "{HEAD}{rules}  x -> x\n}}\ntest m \"t\" {{\n  given left {{ x: {}1{} }}\n  expect right {{ x: \"a\" }}\n}}\n",
            "{a: ".repeat(n),
            "}".repeat(n)
        ),
        "parentheses" => format!(
            "{HEAD}{rules}  x -> x : {}x{}\n}}\n",
            "(".repeat(n),
            ")".repeat(n)
        ),
        other => panic!("no construct {other}"),
    }
}

const CONSTRUCTS: &[&str] = &[
    "if",
    "else if",
    "record type",
    "array type",
    "map type",
    "rule block",
    "test array",
    "test object",
    "parentheses",
];

/// `tether check` and `tether test` on a file: exit 1 (never a signal)
/// with an E0007.
fn assert_too_deep(path: &str, what: &str) {
    for command in ["check", "test"] {
        let (code, stdout, stderr) = tether(&[command, path]);
        assert_eq!(code, Some(1), "{command} {what}: {stderr}");
        assert!(
            stderr.contains("[E0007]") || stdout.contains("[E0007]"),
            "{command} {what}: no E0007 in {stderr}"
        );
        assert!(
            stderr.len() < 8_000,
            "{command} {what}: {} bytes",
            stderr.len()
        );
    }
}

#[test]
fn every_construct_nested_ten_and_a_hundred_thousand_deep_is_e0007() {
    for construct in CONSTRUCTS {
        for n in [10_000, 100_000] {
            let name = format!("{}-{n}.tether", construct.replace(' ', "_"));
            let path = temp(SUITE, &name, &nested(construct, n));
            assert_too_deep(&path, &format!("{construct} x{n}"));
        }
    }
}

#[test]
fn nesting_well_within_the_limit_checks() {
    for construct in [
        "if",
        "else if",
        "record type",
        "array type",
        "map type",
        "test array",
    ] {
        let c = compile_source("ok.tether", &nested(construct, 20), None);
        assert!(
            !c.diagnostics.iter().any(|d| d.code == Code::E0007),
            "{construct}: {:?}",
            c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
    }
}

/// The limit protects the phases after the parser on a thread with a
/// small stack too: the deepest accepted nesting of every construct,
/// checked on a 1 MiB stack (a mapping thread or a test harness thread
/// has less than the main thread's 8 MiB).
#[test]
fn the_deepest_accepted_nesting_runs_on_a_small_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            for construct in CONSTRUCTS {
                for n in [60, 64, 65, 200] {
                    let _ = compile_source("deep.tether", &nested(construct, n), None);
                }
            }
        })
        .expect("spawn");
    assert!(handle.join().is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any construct at any depth: a diagnostic past the limit, never a
    /// panic or an overflow (in-process, so an overflow aborts the suite).
    #[test]
    fn any_nesting_depth_is_checked_or_refused(c in 0..CONSTRUCTS.len(), n in 1usize..6_000) {
        let compiled = compile_source("p.tether", &nested(CONSTRUCTS[c], n), None);
        if n > tether::syntax::MAX_NESTING {
            prop_assert!(compiled.diagnostics.iter().any(|d| d.code == Code::E0007));
        }
    }
}

// ------------------------------------------------------------ schemas

fn import(schema_name: &str, schema: &str) -> String {
    temp(SUITE, schema_name, schema);
    temp(
        SUITE,
        &format!("{schema_name}.tether"),
        &format!("import schema s from \"{schema_name}\"\n"),
    )
}

#[test]
fn deeply_nested_imported_schemas_are_e0007() {
    for n in [200, 10_000, 100_000] {
        let json = format!(
            "{{\"definitions\": {{\"A\": {}{{\"type\":\"string\"}}{} }}}}",
            "{\"type\":\"object\",\"properties\":{\"a\":".repeat(n),
            "}}".repeat(n)
        );
        let yaml = format!(
            "definitions:\n  A: {}{{type: string}}{}\n",
            "{type: object, properties: {a: ".repeat(n),
            "}}".repeat(n)
        );
        let xsd = format!(
            "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element name=\"A\">{}{}</xs:element></xs:schema>",
            "<xs:complexType><xs:sequence><xs:element name=\"a\">".repeat(n),
            "</xs:element></xs:sequence></xs:complexType>".repeat(n)
        );
        for (name, text) in [("deep.json", json), ("deep.yaml", yaml), ("deep.xsd", xsd)] {
            let name = format!("{n}-{name}");
            let path = import(&name, &text);
            let (code, _, stderr) = tether(&["check", &path]);
            assert_eq!(code, Some(1), "{name}: {stderr}");
            assert!(stderr.contains("[E0007]"), "{name}: {stderr}");
            assert!(stderr.len() < 4_000, "{name}: {} bytes", stderr.len());
        }
    }
}

// ------------------------------------------------------------ --threads

fn ndjson(records: usize) -> String {
    (0..records)
        .map(|i| format!("{{\"x\":\"r{i}\",\"y\":true}}\n"))
        .collect()
}

#[test]
fn absurd_thread_counts_are_refused_with_exit_2() {
    let mapping = temp(
        SUITE,
        "threads.tether",
        &format!("{HEAD}mapping m: a.A -> a.A {{\n  x -> x\n  y -> y\n}}\n"),
    );
    let input = temp(SUITE, "threads.ndjson", &ndjson(10));
    for n in ["0", "257", "20000"] {
        let (code, stdout, stderr) = tether(&[
            "run",
            &mapping,
            "--mapping",
            "m",
            "--input",
            &input,
            "--threads",
            n,
        ]);
        assert_eq!(code, Some(2), "--threads {n}: {stderr}");
        assert!(
            stderr.contains("--threads") && stderr.contains("1..=256"),
            "{stderr}"
        );
        assert!(stdout.is_empty());
    }
}

#[test]
fn the_most_threads_give_the_same_output_as_one() {
    let mapping = temp(
        SUITE,
        "threads-max.tether",
        &format!("{HEAD}mapping m: a.A -> a.A {{\n  x -> x : upper\n  y -> y\n}}\n"),
    );
    // A few chunks (1 MiB each), so several workers start.
    let input = temp(SUITE, "threads-max.ndjson", &ndjson(120_000));
    let (c1, one, e1) = tether(&[
        "run",
        &mapping,
        "--mapping",
        "m",
        "--input",
        &input,
        "--threads",
        "1",
    ]);
    let (cmax, many, emax) = tether(&[
        "run",
        &mapping,
        "--mapping",
        "m",
        "--input",
        &input,
        "--threads",
        "256",
    ]);
    assert_eq!(c1, Some(0), "{e1}");
    assert_eq!(cmax, Some(0), "{emax}");
    assert_eq!(one.lines().count(), 120_000);
    assert!(one == many, "--threads 256 changed the output");
}

// ------------------------------------------------------------ sizes

#[test]
fn a_table_of_twenty_thousand_entries_checks_and_finds_the_one_duplicate() {
    let n = 20_000;
    let mut entries: String = (0..n)
        .map(|i| format!("  \"k{i}\" -> \"v{i}\"\n"))
        .collect();
    entries.push_str("  \"k7\" -> \"again\"\n");
    let values: Vec<String> = (0..n).map(|i| format!("\"k{i}\"")).collect();
    let text = format!(
        "schema a {{\n  record A {{ x: E }}\n  record B {{ x: string }}\n  enum E {{ {} }}\n}}\ntable t {{\n{entries}}}\nmapping m: a.A -> a.B {{\n  x -> x : t\n}}\n",
        values.join(", ")
    );
    let path = temp(SUITE, "big-table.tether", &text);
    let (code, _, stderr) = tether(&["check", &path]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.matches("[E0003]").count(), 1, "{stderr}");
    assert!(stderr.contains("\"k7\" is mapped twice"), "{stderr}");
}

#[test]
fn a_million_character_zone_name_is_one_bounded_e0217() {
    let text = format!(
        "schema a {{\n  record A {{ x: datetime }}\n}}\nmapping m: a.A -> a.A {{\n  x -> x : to_zone(\"Europe/{}\")\n}}\n",
        "x".repeat(1_000_000)
    );
    let path = temp(SUITE, "big-zone.tether", &text);
    for format in ["human", "json"] {
        let (code, stdout, stderr) = tether(&["check", &path, "--format", format]);
        assert_eq!(code, Some(1), "{stderr}");
        let out = format!("{stdout}{stderr}");
        assert!(out.contains("E0217"), "{out}");
        assert!(out.len() < 4_000, "{format}: {} bytes", out.len());
        assert!(out.contains("more characters"), "{out}");
    }
}

// ------------------------------------------------------------ quiet output

#[test]
fn a_megabyte_line_of_malformed_schema_gives_a_bounded_diagnostic() {
    let props: Vec<String> = (0..40_000)
        .map(|i| format!("\"p{i}\": {{\"type\": \"string\"}}"))
        .collect();
    let mut doc = format!(
        "{{\"definitions\": {{\"A\": {{\"type\": \"object\", \"properties\": {{{}}}}}}}}}",
        props.join(", ")
    );
    assert!(doc.len() > 1_000_000);
    // A fault in the middle of the one line.
    doc.insert_str(doc.len() / 2, " ,, ");
    let path = import("minified.json", &doc);
    for format in ["human", "json"] {
        let (code, stdout, stderr) = tether(&["check", &path, "--format", format]);
        assert_eq!(code, Some(1), "{stderr}");
        let out = format!("{stdout}{stderr}");
        assert!(out.contains("E0004"), "{out}");
        assert!(out.len() < 2_000, "{format}: {} bytes:\n{out}", out.len());
    }
    // The excerpt is a window around the fault, with its real column.
    let (_, _, human) = tether(&["check", &path]);
    assert!(human.contains(",, "), "{human}");
    assert!(human.contains('…'), "{human}");
}

#[test]
fn control_characters_and_ansi_escapes_are_escaped_in_every_output() {
    let esc = "\u{1b}[2J\u{1b}[31m";
    let mapping = temp(
        SUITE,
        "ansi.tether",
        &format!(
            "schema a {{\n  record A {{ x: datetime }}\n}}\nmapping m: a.A -> a.A {{\n  x -> x : to_zone(\"Eur{esc}ope\u{202e}\")\n}}\n"
        ),
    );
    let schema = import(
        "ansi.json",
        &format!("{{\"definitions\": {{\"A\": {{\"type\": \"object\" \"{esc}\" }}}}}}"),
    );
    for path in [&mapping, &schema] {
        for format in ["human", "json"] {
            let (code, stdout, stderr) = tether(&["check", path, "--format", format]);
            assert_eq!(code, Some(1), "{stderr}");
            let out = format!("{stdout}{stderr}");
            assert!(
                !out.contains('\u{1b}') && !out.contains('\u{202e}'),
                "{path} {format}: {out:?}"
            );
            // The excerpt (human) and the zone quoted in the message show
            // the character escaped; JSON lines carry no excerpt.
            if format == "human" || path == &mapping {
                assert!(out.contains("\\u{1b}"), "{path} {format}: {out}");
            }
        }
    }
}

#[test]
fn plan_files_name_sources_relative_to_the_plan() {
    let mapping = temp(
        SUITE,
        "plan-src.tether",
        &format!("{HEAD}mapping m: a.A -> a.A {{\n  x -> x\n  y -> y\n}}\n"),
    );
    let dir = std::path::Path::new(&mapping)
        .parent()
        .expect("temp folder");
    let plan = dir.join("out").join("m.plan");
    std::fs::create_dir_all(plan.parent().expect("out")).expect("mkdir");
    let plan = plan.display().to_string();
    // The mapping by its absolute path.
    let (code, _, stderr) = tether(&["build", &mapping, "-o", &plan]);
    assert_eq!(code, Some(0), "{stderr}");
    let text = std::fs::read_to_string(&plan).expect("plan");
    let folder = dir.display().to_string();
    assert!(!text.contains(&folder), "the plan holds {folder}");
    assert!(text.contains("\"../plan-src.tether:5:3\""), "{text}");
    // And it still runs.
    let input = temp(SUITE, "plan.ndjson", &ndjson(2));
    let (code, out, stderr) = tether(&["run", &plan, "--mapping", "m", "--input", &input]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(out.lines().count(), 2);
}
