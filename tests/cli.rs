//! The command line as CI and analysts use it: exit codes, rejects, JSON
//! diagnostics, goldens of the bundled examples.

use std::path::Path;
use std::process::{Command, Output};

fn tether(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .output()
        .expect("run tether")
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tether-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const MISSPELLED: &str = r#"
schema a { record In { email: string } }
schema b { record Out { Email: string } }
mapping m: a.In -> b.Out {
  emial -> Email
}
"#;

#[test]
fn check_passes_on_the_bundled_examples() {
    let out = tether(&["check", "mappings"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // Fields the examples leave out on purpose are declared `unmapped`.
    assert!(!err.contains("W0001"), "{err}");
}

#[test]
fn misspelled_field_gives_span_code_suggestion_and_exit_1() {
    let f = tmp("misspelled.tether");
    std::fs::write(&f, MISSPELLED).unwrap();
    let out = tether(&["check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[E0103]"), "{err}");
    assert!(err.contains("did you mean `email`?"), "{err}");
    assert!(
        err.contains(":5:3"),
        "span of `emial` expected at 5:3: {err}"
    );

    let json = tether(&["check", "--format", "json", f.to_str().unwrap()]);
    assert_eq!(json.status.code(), Some(1));
    let line = String::from_utf8_lossy(&json.stdout);
    let d: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(d["code"], "E0103");
    assert_eq!(d["severity"], "error");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(5), Some(8))
    );
    assert!(d["file"].as_str().unwrap().ends_with("misspelled.tether"));
}

#[test]
fn errors_in_an_imported_schema_point_into_that_file() {
    let dir = tmp("import");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("crm.tschema"), "record R {\n  x: strng\n}\n").unwrap();
    let main = dir.join("main.tether");
    std::fs::write(
        &main,
        "import schema crm from \"crm.tschema\"\nschema d { record S { y: string } }\nmapping m: crm.R -> d.S { x -> y }\n",
    )
    .unwrap();
    let out = tether(&["check", "--format", "json", main.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let d: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(d["code"], "E0102");
    assert!(d["file"].as_str().unwrap().ends_with("crm.tschema"), "{d}");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(6))
    );

    // Fixed, the import resolves and the mapping checks.
    std::fs::write(dir.join("crm.tschema"), "record R {\n  x: string\n}\n").unwrap();
    let out = tether(&["check", main.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn run_with_a_malformed_record_writes_the_others_and_exits_3() {
    let rejects = tmp("rejects.ndjson");
    let out = tether(&[
        "run",
        "mappings/leads/web_lead_to_crm.tether",
        "--mapping",
        "lead",
        "--input",
        "mappings/leads/leads.ndjson",
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    let rej = std::fs::read_to_string(&rejects).unwrap();
    let lines: Vec<serde_json::Value> = rej
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    // A conversion failure: rule location, path, value, reason.
    assert_eq!(lines[0]["errors"][0]["code"], "E1003");
    assert_eq!(lines[0]["errors"][0]["path"], "budget");
    assert_eq!(lines[0]["errors"][0]["value"], "12,5");
    assert!(
        lines[0]["errors"][0]["rule"]
            .as_str()
            .unwrap()
            .starts_with("mappings/leads/web_lead_to_crm.tether:")
    );
    assert_eq!(lines[0]["record"]["submission_id"], "f-2003");
    // The malformed line is kept verbatim as a string.
    assert_eq!(lines[2]["errors"][0]["code"], "E1001");
    assert!(
        lines[2]["record"]
            .as_str()
            .unwrap()
            .starts_with("{\"submission_id\": \"f-2006\"")
    );
    assert_eq!(lines[2]["line"], 6);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("read 6 records, wrote 3, rejected 3"), "{err}");
}

#[test]
fn run_exits_0_when_everything_maps_and_2_on_usage_errors() {
    let input = tmp("ok.ndjson");
    std::fs::write(
        &input,
        "{\"submission_id\":\"1\",\"email\":\"a@b.c\",\"interest\":\"demo\",\"consent\":true}\n",
    )
    .unwrap();
    let ok = tether(&[
        "run",
        "mappings/leads/web_lead_to_crm.tether",
        "--mapping",
        "lead",
        "--input",
        input.to_str().unwrap(),
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let unknown = tether(&[
        "run",
        "mappings/leads/web_lead_to_crm.tether",
        "--mapping",
        "laed",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("did you mean `lead`?"));
    let no_file = tether(&["check", "does/not/exist.tether"]);
    assert_eq!(no_file.status.code(), Some(2));
    let bad_flag = tether(&["run", "--nope"]);
    assert_eq!(bad_flag.status.code(), Some(2));
}

#[test]
fn run_refuses_a_mapping_with_errors_with_exit_1() {
    let f = tmp("broken.tether");
    std::fs::write(&f, MISSPELLED).unwrap();
    let out = tether(&["run", f.to_str().unwrap(), "--mapping", "m"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn explain_knows_every_code() {
    let out = tether(&["explain", "e0204"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("E0204: target may end up empty"));
    assert_eq!(tether(&["explain", "E9999"]).status.code(), Some(2));
}

#[test]
fn test_command_passes_on_examples_and_fails_with_a_diff() {
    let ok = tether(&["test", "mappings"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let f = tmp("failing_test.tether");
    std::fs::write(
        &f,
        r#"schema a { record In { x: string } }
schema b { record Out { y: string } }
mapping m: a.In -> b.Out { x -> y : upper }
test m "wrong" { given a { x: "q" } expect b { y: "q" } }"#,
    )
    .unwrap();
    let bad = tether(&["test", f.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(
        out.contains("-  \"y\": \"q\"") && out.contains("+  \"y\": \"Q\""),
        "{out}"
    );
    assert!(out.contains("0 passed, 1 failed"));
}

#[test]
fn test_command_on_a_file_that_does_not_compile_prints_its_errors_and_no_count() {
    let f = tmp("broken_test.tether");
    std::fs::write(&f, MISSPELLED).unwrap();
    let out = tether(&["test", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stderr.contains("error[E0103]"), "{stderr}");
    assert!(stderr.contains("1 file did not compile"), "{stderr}");
    // No tests ran: a count of none would read as a pass at a glance.
    assert!(!stdout.contains("passed"), "{stdout}");
}

/// Goldens: the bundled examples' outputs, byte for byte.
#[test]
fn example_outputs_match_their_goldens() {
    for (file, mapping, input, golden) in [
        (
            "mappings/leads/web_lead_to_crm.tether",
            "lead",
            "mappings/leads/leads.ndjson",
            "tests/golden/leads.out.ndjson",
        ),
        (
            "mappings/orders/shop_order_to_erp.tether",
            "sales_order",
            "mappings/orders/orders.json",
            "tests/golden/orders.out.ndjson",
        ),
    ] {
        let out = tether(&["run", file, "--mapping", mapping, "--input", input]);
        let got = String::from_utf8_lossy(&out.stdout);
        if std::env::var_os("TETHER_BLESS").is_some() {
            std::fs::write(golden, got.as_bytes()).unwrap();
        }
        let want = std::fs::read_to_string(Path::new(golden))
            .expect("golden file (TETHER_BLESS=1 to write)");
        assert_eq!(got, want, "{file}: output differs from {golden}");
    }
}

/// `-` is a stream, never a file named `-`: rejects go to standard error
/// (standard output carries the mapped records), a plan to standard output.
#[test]
fn a_dash_for_rejects_or_a_plan_means_a_standard_stream() {
    let dir = tmp("dash");
    std::fs::create_dir_all(&dir).unwrap();
    let source = std::fs::canonicalize("mappings/leads/web_lead_to_crm.tether").unwrap();
    let input = std::fs::canonicalize("mappings/leads/leads.ndjson").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_tether"))
        .current_dir(&dir)
        .args(["run", source.to_str().unwrap(), "--mapping", "lead"])
        .args(["--input", input.to_str().unwrap(), "--rejects", "-"])
        .output()
        .expect("run tether");
    assert_eq!(run.status.code(), Some(3));
    assert!(!dir.join("-").exists(), "no file named `-`");
    let err = String::from_utf8_lossy(&run.stderr);
    let rejects: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejects.len(), 3, "{err}");
    assert_eq!(rejects[0]["errors"][0]["path"], "budget");
    assert_eq!(String::from_utf8_lossy(&run.stdout).lines().count(), 3);

    let build = Command::new(env!("CARGO_BIN_EXE_tether"))
        .current_dir(&dir)
        .args(["build", source.to_str().unwrap(), "-o", "-"])
        .output()
        .expect("run tether");
    assert_eq!(build.status.code(), Some(0));
    assert!(!dir.join("-").exists(), "no file named `-`");
    let plan = String::from_utf8_lossy(&build.stdout);
    let plan_file = dir.join("lead.tplan");
    std::fs::write(&plan_file, plan.as_bytes()).unwrap();
    let from_plan = tether(&[
        "run",
        plan_file.to_str().unwrap(),
        "--mapping",
        "lead",
        "--input",
        input.to_str().unwrap(),
    ]);
    assert_eq!(from_plan.status.code(), Some(3), "the plan runs");
    assert_eq!(from_plan.stdout, run.stdout);
}

/// The state store is a database file: `-` is refused, not created.
#[test]
fn a_dash_for_the_state_store_is_refused() {
    let dir = tmp("dash-state");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .current_dir(&dir)
        .args(["dlq", "list", "--state", "-", "--mapping", "contact"])
        .output()
        .expect("run tether");
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.join("-").exists(), "no file named `-`");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--state needs a file"), "{err}");
}

const TWO_MAPPINGS: &str = r#"
schema a { record In { email: string } }
schema b { record Out { Email: string, Phone?: string } }
schema c { record Other { Email: string, Fax?: string } }
mapping first: a.In -> b.Out {
  email -> Email
}
mapping second: a.In -> c.Other {
  email -> Email
}
"#;

/// `run` shows the warnings of the mapping it runs (not of every mapping in
/// the file), `--quiet` none; errors anywhere still stop the run.
#[test]
fn run_shows_only_the_warnings_of_its_mapping_and_quiet_none() {
    let f = tmp("two_mappings.tether");
    std::fs::write(&f, TWO_MAPPINGS).unwrap();
    let input = tmp("two_mappings.ndjson");
    std::fs::write(&input, "{\"email\":\"a@b.c\"}\n").unwrap();
    let run = |extra: &[&str]| {
        let file = f.to_str().unwrap();
        let input = input.to_str().unwrap();
        let args = [
            &["run", file, "--mapping", "first", "--input", input][..],
            extra,
        ]
        .concat();
        let out = tether(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("`Phone`"), "the warning of `first`: {err}");
    assert!(!err.contains("`Fax`"), "not the warning of `second`: {err}");
    let (code, err) = run(&["--quiet"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert!(err.contains("read 1 record"), "the summary stays: {err}");

    let broken = TWO_MAPPINGS.replace(
        "mapping second: a.In -> c.Other {\n  email",
        "mapping second: a.In -> c.Other {\n  emial",
    );
    std::fs::write(&f, broken).unwrap();
    let (code, err) = run(&["--quiet"]);
    assert_eq!(code, Some(1), "the file must check clean: {err}");
    assert!(err.contains("error[E0103]"), "{err}");
}
