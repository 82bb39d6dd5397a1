//! Requiredness is per direction (issue 15): what a write must carry, what
//! a record read may lack, and JSON Schema / OpenAPI `readOnly` and
//! `writeOnly` in the type model.

mod common;

use common::{temp, tether};

fn show(file: &str, ty: &str) -> String {
    let (code, out, err) = tether(&["schema", "show", file, ty]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("warning"), "{err}");
    out
}

#[test]
fn openapi_read_only_and_write_only_fields_are_imported() {
    assert_eq!(
        show("tests/fixtures/jsonschema/account.yaml", "Account"),
        "record Account {\n  readonly id: string\n  readonly createdAt: datetime\n  email: string\n  writeonly password: string\n  nickname?: string\n}\n"
    );
}

#[test]
fn json_schema_read_only_and_write_only_fields_are_imported() {
    // Both flags at once say nothing tether can honour: read and written.
    assert_eq!(
        show("tests/fixtures/jsonschema/user.json", "User"),
        "record User {\n  login: string\n  readonly etag?: string\n  writeonly secret: string\n  both?: string\n}\n"
    );
}

#[test]
fn a_tether_schema_marks_read_only_and_write_only_fields() {
    // `readonly` before a field is the modifier; a field may still be
    // named `readonly`.
    let schema = temp(
        "presence",
        "account.tschema",
        "record Account {\n  readonly id: string\n  writeonly @password?: string\n  readonly: bool\n  writeonly \"x-y\": int\n}\n",
    );
    assert_eq!(
        show(&schema, "Account"),
        "record Account {\n  readonly id: string\n  writeonly @password?: string\n  readonly: bool\n  writeonly \"x-y\": int\n}\n"
    );
}

// ------------------------------------------------------------ on read

use tether::compile::compile_source;
use tether::exec::{Outcome, map_record};
use tether::plan;
use tether::syntax::Direction;

/// A source whose every field is required, and targets of each kind.
const SCHEMAS: &str = r#"
schema src {
  record In {
    id: string, name: string, nick: string, dir: string, amount: int,
    billing: { street: string, city: string }
    lines: [{ sku: string }]
  }
}
schema dst {
  record Out {
    Id: string, Name: string, Nick?: string, Amount?: int,
    Street?: string, City?: string, Bill?: { Street?: string }
    Skus?: [string]
  }
}
"#;

/// Maps `record` with mapping `m` of `body` (over [`SCHEMAS`]): the output,
/// or each error's code and path.
fn map(body: &str, record: &str) -> Result<String, Vec<String>> {
    let c = compile_source("m.tether", &format!("{SCHEMAS}{body}"), None);
    let program = c
        .program
        .unwrap_or_else(|| panic!("compiles: {:?}", c.diagnostics));
    let plan = plan::lower(&program, "m", Direction::Forward).expect("plan");
    match map_record(&plan, record) {
        Outcome::Mapped(out) => Ok(out),
        Outcome::Rejected { errors, .. } => Err(errors
            .iter()
            .map(|e| format!("{} {}", e.code.as_str(), e.path))
            .collect()),
    }
}

const RULES: &str =
    "mapping m: src.In -> dst.Out {\n  key id -> Id\n  name -> Name\n  nick -> Nick\n}";

#[test]
fn a_declared_field_feeding_an_optional_target_may_be_missing_on_read() {
    assert_eq!(
        map(RULES, r#"{"id":"1","name":"Ann"}"#),
        Ok(r#"{"Id":"1","Name":"Ann"}"#.to_string())
    );
}

#[test]
fn a_declared_field_feeding_a_required_target_is_still_checked_on_read() {
    assert_eq!(
        map(RULES, r#"{"id":"1","nick":"A"}"#),
        Err(vec!["E1002 name".to_string()])
    );
    // The key too, whatever its target.
    assert_eq!(
        map(RULES, r#"{"name":"Ann"}"#),
        Err(vec!["E1002 id".to_string()])
    );
}

#[test]
fn a_default_stands_in_for_a_missing_declared_field() {
    let body =
        "mapping m: src.In -> dst.Out {\n  key id -> Id\n  name -> Name : default(\"Unknown\")\n}";
    assert_eq!(
        map(body, r#"{"id":"1"}"#),
        Ok(r#"{"Id":"1","Name":"Unknown"}"#.to_string())
    );
    let fallback = "mapping m: src.In -> dst.Out {\n  key id -> Id\n  name -> Name : if is_missing { (nick) }\n}";
    assert_eq!(
        map(fallback, r#"{"id":"1","nick":"A"}"#),
        Ok(r#"{"Id":"1","Name":"A"}"#.to_string())
    );
    // The fallback field is read by a step: without it the record is
    // rejected, not mapped with a guess.
    assert_eq!(
        map(fallback, r#"{"id":"1"}"#),
        Err(vec!["E1002 nick".to_string()])
    );
}

#[test]
fn a_field_a_condition_reads_is_checked_even_for_an_optional_target() {
    // A missing `dir` would quietly keep the sign: it is an error instead.
    let body = "mapping m: src.In -> dst.Out {\n  key id -> Id\n  \"x\" -> Name\n  amount -> Amount : if (dir) | eq(\"DBIT\") { neg }\n}";
    assert_eq!(
        map(body, r#"{"id":"1","amount":5,"dir":"DBIT"}"#),
        Ok(r#"{"Id":"1","Name":"x","Amount":-5}"#.to_string())
    );
    assert_eq!(
        map(body, r#"{"id":"1","amount":5}"#),
        Err(vec!["E1002 dir".to_string()])
    );
    // The value itself may be missing: the target is left out.
    assert_eq!(
        map(body, r#"{"id":"1","dir":"CRDT"}"#),
        Ok(r#"{"Id":"1","Name":"x"}"#.to_string())
    );
}

#[test]
fn a_record_block_needs_its_source_only_when_its_target_is_required() {
    let optional = "mapping m: src.In -> dst.Out {\n  key id -> Id\n  \"x\" -> Name\n  billing -> Bill { street -> Street }\n}";
    assert_eq!(
        map(optional, r#"{"id":"1"}"#),
        Ok(r#"{"Id":"1","Name":"x"}"#.to_string())
    );
    // `billing.street` into an optional target: the street may be missing,
    // the city alone is mapped.
    let flat = "mapping m: src.In -> dst.Out {\n  key id -> Id\n  \"x\" -> Name\n  billing.street -> Street\n  billing.city -> City\n}";
    assert_eq!(
        map(flat, r#"{"id":"1","billing":{"city":"Dubai"}}"#),
        Ok(r#"{"Id":"1","Name":"x","City":"Dubai"}"#.to_string())
    );
    // Into a required record: the block writes nothing without its source.
    let schemas = "schema r {\n  record In { id: string, billing: { street?: string } }\n  record Out { Id: string, Bill: { Street?: string } }\n}\n";
    let required = format!(
        "{schemas}mapping m: r.In -> r.Out {{\n  key id -> Id\n  billing -> Bill {{ street -> Street }}\n}}"
    );
    assert_eq!(
        map(&required, r#"{"id":"1","billing":{"street":"A"}}"#),
        Ok(r#"{"Id":"1","Bill":{"Street":"A"}}"#.to_string())
    );
    assert_eq!(
        map(&required, r#"{"id":"1"}"#),
        Err(vec!["E1002 billing".to_string()])
    );
}

#[test]
fn an_element_of_an_array_is_required_in_it() {
    let body = "mapping m: src.In -> dst.Out {\n  key id -> Id\n  \"x\" -> Name\n  lines[].sku -> Skus[]\n}";
    // The array feeds an optional target: it may be missing.
    assert_eq!(
        map(body, r#"{"id":"1"}"#),
        Ok(r#"{"Id":"1","Name":"x"}"#.to_string())
    );
    // An element without its sku cannot be an element of `Skus`.
    assert_eq!(
        map(body, r#"{"id":"1","lines":[{"sku":"A"},{}]}"#),
        Err(vec!["E1002 lines[1].sku".to_string()])
    );
}

#[test]
fn a_document_without_the_array_a_for_iterates_is_rejected_not_empty() {
    let body = "mapping m: src.In -> dst.Out {\n  for l in lines[]\n  id -> Id\n  l.sku -> Name\n}";
    let c = compile_source("m.tether", &format!("{SCHEMAS}{body}"), None);
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let mapping = temp("presence", "for.tether", &format!("{SCHEMAS}{body}"));
    let input = temp(
        "presence",
        "for.ndjson",
        "{\"id\":\"1\",\"lines\":[{\"sku\":\"A\"}]}\n{\"id\":\"2\"}\n",
    );
    let rejects = temp("presence", "for.rejects", "");
    let (code, out, _) = tether(&[
        "run",
        &mapping,
        "--mapping",
        "m",
        "--input",
        &input,
        "--rejects",
        &rejects,
    ]);
    assert_eq!(code, Some(3));
    assert_eq!(out, "{\"Id\":\"1\",\"Name\":\"A\"}\n");
    let rejected = std::fs::read_to_string(&rejects).expect("rejects");
    assert!(
        rejected.contains(r#""code":"E1002""#) && rejected.contains(r#""path":"lines""#),
        "{rejected}"
    );
}

#[test]
fn xml_records_are_read_by_the_same_rule() {
    // `nick` and `@lang` are declared; only `Name` (required) needs its
    // source.
    let mapping = temp(
        "presence",
        "xml.tether",
        "schema x {\n  record Person { @id: string, @lang: string, name: string, nick: string }\n  record Out { Id: string, Name: string, Nick?: string, Lang?: string }\n}\nmapping m: x.Person -> x.Out {\n  key id -> Id\n  name -> Name\n  nick -> Nick\n  lang -> Lang\n}\n",
    );
    let complete = temp(
        "presence",
        "complete.xml",
        "<Person id=\"1\" lang=\"en\"><name>Ann</name><nick>A</nick></Person>",
    );
    let (code, out, err) = tether(&["run", &mapping, "--mapping", "m", "--input", &complete]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "{\"Id\":\"1\",\"Name\":\"Ann\",\"Nick\":\"A\",\"Lang\":\"en\"}\n"
    );
    let partial = temp(
        "presence",
        "partial.xml",
        "<Person id=\"2\"><name>Bo</name></Person>",
    );
    let (code, out, err) = tether(&["run", &mapping, "--mapping", "m", "--input", &partial]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "{\"Id\":\"2\",\"Name\":\"Bo\"}\n");
    let nameless = temp(
        "presence",
        "nameless.xml",
        "<Person id=\"3\"><nick>C</nick></Person>",
    );
    let rejects = temp("presence", "xml.rejects", "");
    let (code, out, _) = tether(&[
        "run",
        &mapping,
        "--mapping",
        "m",
        "--input",
        &nameless,
        "--rejects",
        &rejects,
    ]);
    assert_eq!(code, Some(3));
    assert_eq!(out, "");
    let rejected = std::fs::read_to_string(&rejects).expect("rejects");
    assert!(
        rejected.contains(r#""code":"E1002""#) && rejected.contains(r#""path":"name""#),
        "{rejected}"
    );
}

#[test]
fn an_xml_document_without_the_elements_a_for_iterates_is_rejected_not_empty() {
    let mapping = temp(
        "presence",
        "xml_for.tether",
        "schema x {\n  record Doc { id: string, line: [Line] }\n  record Line { sku: string }\n  record Out { Id: string, Sku: string }\n}\nmapping m: x.Doc -> x.Out {\n  for l in line[]\n  id -> Id\n  l.sku -> Sku\n}\n",
    );
    let lines = temp(
        "presence",
        "lines.xml",
        "<Doc><id>1</id><line><sku>A</sku></line></Doc>",
    );
    let (code, out, err) = tether(&["run", &mapping, "--mapping", "m", "--input", &lines]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "{\"Id\":\"1\",\"Sku\":\"A\"}\n");
    let none = temp("presence", "no_lines.xml", "<Doc><id>2</id></Doc>");
    let rejects = temp("presence", "xml_for.rejects", "");
    let (code, out, _) = tether(&[
        "run",
        &mapping,
        "--mapping",
        "m",
        "--input",
        &none,
        "--rejects",
        &rejects,
    ]);
    assert_eq!(code, Some(3));
    assert_eq!(out, "");
    let rejected = std::fs::read_to_string(&rejects).expect("rejects");
    assert!(
        rejected.contains(r#""code":"E1002""#) && rejected.contains(r#""path":"line""#),
        "{rejected}"
    );
}

#[test]
fn what_a_record_read_holds_at_a_path() {
    use tether::schema::{ReadPresence, TypeId};
    let src = "schema s {\n  record R { a: string, b?: string, n: N?, m: N, writeonly w: string, readonly r: string }\n  record N { x: string }\n}\n";
    let c = compile_source("s.tether", src, None);
    let program = c.program.expect("compiles");
    let reg = &program.registry;
    let Some(TypeId::Record(r)) = reg.lookup("s", "R") else {
        panic!("R")
    };
    let at = |p: &[&str]| {
        let path: Vec<String> = p.iter().map(|s| s.to_string()).collect();
        reg.read_presence(r, &path)
    };
    assert_eq!(at(&["a"]), ReadPresence::Declared);
    assert_eq!(
        at(&["r"]),
        ReadPresence::Declared,
        "read-only: sent when read"
    );
    assert_eq!(at(&["b"]), ReadPresence::Optional);
    assert_eq!(at(&["m", "x"]), ReadPresence::Declared);
    assert_eq!(at(&["n"]), ReadPresence::Declared, "present, maybe null");
    assert_eq!(
        at(&["n", "x"]),
        ReadPresence::Optional,
        "under a null parent"
    );
    assert_eq!(at(&["w"]), ReadPresence::Never);
    assert_eq!(at(&["nowhere"]), ReadPresence::Optional);
}
