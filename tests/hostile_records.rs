//! Records exactly as read (issue 17, items 4, 6, 7, 8, 9, 12): hostile
//! records and documents are rejects with a path, never silently mapped,
//! and `run` and `sync` judge them with the same reader.

mod common;

#[path = "support/scratch.rs"]
mod scratch;
use common::tether;
use scratch::Scratch;
use serde_json::Value as Json;
use std::path::Path;

/// A fresh folder for one call (tests run in parallel: a counter keeps
/// two calls of the same name apart).
fn scratch(name: &str) -> Scratch {
    Scratch::new("hostile", name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// People to contacts, both ways (sync runs it), with a nullable field,
/// an array of strings and an array of records.
const PEOPLE: &str = r#"
schema src {
  record Person {
    id: string
    name: string
    nick?: string?
    tags?: [string]
    lines?: [{ sku: string }]
  }
}
schema dst {
  record Contact { id: string, name: string, nick?: string?, tags?: [string] }
  record Order { id: string, skus?: [string] }
}
mapping person: src.Person <-> dst.Contact {
  key id <-> id
  name <-> name
  nick <-> nick
  tags <-> tags
}
mapping order: src.Person -> dst.Order {
  key id -> id
  lines[].sku -> skus[]
}
"#;

/// What a run gave: exit code, output records, reject lines.
struct Ran {
    code: Option<i32>,
    out: Vec<Json>,
    rejects: Vec<Json>,
    stderr: String,
}

impl Ran {
    /// Each reject's first error as `CODE path`.
    fn errors(&self) -> Vec<String> {
        self.rejects
            .iter()
            .map(|r| {
                let e = &r["errors"][0];
                format!(
                    "{} {}",
                    e["code"].as_str().unwrap_or("?"),
                    e["path"].as_str().unwrap_or("?")
                )
            })
            .collect()
    }
}

/// `tether run` of `mapping` (text) on `input` (bytes, in a file named
/// `input_name`: its extension picks the format).
fn run(mapping: &str, name: &str, input_name: &str, input: &[u8], extra: &[&str]) -> Ran {
    let dir = scratch(&format!("run-{name}-{input_name}"));
    let m = dir.join("m.tether");
    std::fs::write(&m, mapping).expect("mapping");
    let i = dir.join(input_name);
    std::fs::write(&i, input).expect("input");
    let r = dir.join("rejects.ndjson");
    let args = [
        &[
            "run",
            s(&m),
            "--mapping",
            name,
            "--input",
            s(&i),
            "--rejects",
            s(&r),
        ][..],
        extra,
    ]
    .concat();
    let (code, stdout, stderr) = tether(&args);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let parse = |t: &str| -> Vec<Json> {
        t.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    Ran {
        code,
        out: parse(&stdout),
        rejects: parse(&std::fs::read_to_string(&r).unwrap_or_default()),
        stderr,
    }
}

/// What a sync pass gave: exit code, its summary, the dead letters.
struct Synced {
    code: Option<i32>,
    summary: Json,
    letters: Vec<Json>,
    /// Operations written to the right side's outbox.
    sent: Vec<Json>,
}

impl Synced {
    fn errors(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .letters
            .iter()
            .map(|l| {
                let e = &l["errors"][0];
                format!(
                    "{} {}",
                    e["code"].as_str().unwrap_or("?"),
                    e["path"].as_str().unwrap_or("?")
                )
            })
            .collect();
        all.sort();
        all
    }
}

/// One `sync --once` pass of `mapping` with `files` dropped into the left
/// side's inbox.
fn sync(mapping: &str, name: &str, test: &str, files: &[(&str, &[u8])]) -> Synced {
    sync_with(mapping, name, test, files, &[])
}

/// [`sync`] with more arguments for `tether sync`.
fn sync_with(
    mapping: &str,
    name: &str,
    test: &str,
    files: &[(&str, &[u8])],
    extra: &[&str],
) -> Synced {
    let dir = scratch(&format!("sync-{test}"));
    let m = dir.join("m.tether");
    std::fs::write(&m, mapping).expect("mapping");
    let (left, right) = (dir.join("left"), dir.join("right"));
    for side in [&left, &right] {
        for sub in ["inbox", "outbox", "done"] {
            std::fs::create_dir_all(side.join(sub)).expect("side folders");
        }
    }
    for (file, bytes) in files {
        std::fs::write(left.join("inbox").join(file), bytes).expect("drop");
    }
    let state = dir.join("state.db");
    let mut args = vec![
        "sync",
        s(&m),
        "--mapping",
        name,
        "--state",
        s(&state),
        "--left",
        s(&left),
        "--right",
        s(&right),
        "--once",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = tether(&args);
    assert!(!err.contains("panicked"), "{err}");
    let summary: Json =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let (_, listed, _) = tether(&[
        "dlq",
        "list",
        "--format",
        "json",
        "--state",
        s(&state),
        "--mapping",
        name,
    ]);
    let letters = listed
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut sent = Vec::new();
    for e in std::fs::read_dir(right.join("outbox"))
        .expect("outbox")
        .flatten()
    {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).expect("outbox file");
        sent.extend(
            text.lines()
                .filter_map(|l| serde_json::from_str::<Json>(l).ok()),
        );
    }
    Synced {
        code,
        summary,
        letters,
        sent,
    }
}

// ---------------------------------------------------------------- item 4

#[test]
fn a_null_the_schema_forbids_is_rejected_with_its_path_by_run() {
    let input = concat!(
        "{\"id\":\"1\",\"name\":null}\n",
        "null\n",
        "{\"id\":\"3\",\"name\":\"A\",\"tags\":[\"x\",null]}\n",
        "{\"id\":\"4\",\"name\":\"B\",\"nick\":null}\n",
    );
    let ran = run(PEOPLE, "person", "in.ndjson", input.as_bytes(), &[]);
    assert_eq!(ran.code, Some(3), "{}", ran.stderr);
    assert_eq!(ran.errors(), ["E1002 name", "E1002 ", "E1002 tags[1]"]);
    // `nick` is declared nullable: its null is a value.
    assert_eq!(ran.out.len(), 1);
    assert_eq!(ran.out[0]["id"], "4");
    assert_eq!(ran.out[0]["nick"], Json::Null);
}

#[test]
fn a_null_element_of_an_array_of_records_is_rejected() {
    let input = "{\"id\":\"5\",\"lines\":[{\"sku\":\"A\"},null]}\n";
    let ran = run(PEOPLE, "order", "in.ndjson", input.as_bytes(), &[]);
    assert_eq!(ran.errors(), ["E1002 lines[1]"], "{:?}", ran.out);
    assert!(ran.out.is_empty());
}

#[test]
fn a_json_document_that_is_null_is_a_reject_not_a_record() {
    for doc in ["null", "[null]", " null\n"] {
        let ran = run(PEOPLE, "person", "in.json", doc.as_bytes(), &[]);
        assert_eq!(ran.errors(), ["E1002 "], "{doc}: {:?}", ran.out);
        assert!(ran.out.is_empty(), "{doc}");
    }
}

#[test]
fn sync_rejects_the_same_nulls_as_run() {
    let input = concat!(
        "{\"id\":\"1\",\"name\":null}\n",
        "null\n",
        "{\"id\":\"3\",\"name\":\"A\",\"tags\":[\"x\",null]}\n",
        "{\"id\":\"4\",\"name\":\"B\",\"nick\":null}\n",
    );
    let synced = sync(PEOPLE, "person", "nulls", &[("1.ndjson", input.as_bytes())]);
    assert_eq!(synced.code, Some(3), "{}", synced.summary);
    assert_eq!(synced.summary["dead_lettered"], 3, "{}", synced.summary);
    // Each carries run's code and path: a null line is a null record
    // (E1002 at the record itself), as `run` says.
    assert_eq!(
        synced.errors(),
        ["E1002 ", "E1002 name", "E1002 tags[1]"],
        "{:?}",
        synced.letters
    );
    assert_eq!(synced.sent.len(), 1, "{:?}", synced.sent);
}

/// A source the schema types `any` (a free-form OpenAPI object, a
/// `oneOf` degraded by W0013) into typed targets: nothing proves the value
/// fits, so each value is read as its target's type, as input of that type
/// is, and one that does not fit rejects the record (E1007) instead of
/// writing a number into a string, a value outside an enum, or a null
/// where the target forbids it.
const ANY_SOURCES: &str = r#"
schema src {
  record Event { id: string, status: any, when?: any, counts?: [any], place?: any }
}
schema dst {
  enum Status { "open", "closed" }
  record Address { city?: string }
  record Ticket {
    id: string
    status: Status
    label: string
    when?: date
    counts?: [int]
    place?: Address
  }
}
mapping ticket: src.Event -> dst.Ticket {
  key id -> id
  status -> status
  status -> label
  when -> when
  counts -> counts
  place -> place
}
"#;

#[test]
fn a_value_of_type_any_is_written_only_where_it_fits_the_target() {
    let input = concat!(
        r#"{"id":"1","status":"open","when":"2024-05-01","counts":[1,2],"place":{"city":"Oslo"}}"#,
        "\n",
        r#"{"id":"2","status":null}"#,
        "\n",
        r#"{"id":"3","status":5}"#,
        "\n",
        r#"{"id":"4","status":"pending"}"#,
        "\n",
        r#"{"id":"5","status":"open","when":"yesterday"}"#,
        "\n",
        r#"{"id":"6","status":"open","counts":[1,"2"]}"#,
        "\n",
        r#"{"id":"7","status":"open","place":"Oslo"}"#,
        "\n",
    );
    let ran = run(ANY_SOURCES, "ticket", "in.ndjson", input.as_bytes(), &[]);
    assert_eq!(ran.code, Some(3), "{}", ran.stderr);
    assert_eq!(
        ran.errors(),
        [
            "E1007 status",
            "E1007 status",
            "E1007 status",
            "E1007 when",
            "E1007 counts",
            "E1007 place"
        ]
    );
    let messages: Vec<&str> = ran
        .rejects
        .iter()
        .map(|r| r["errors"][0]["message"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        messages[..3],
        [
            "null cannot be written to `status`: it is not nullable",
            "cannot be written to `status`: expected a string, found a number",
            "cannot be written to `status`: \"pending\" is not one of the schema's values (\"open\", \"closed\")",
        ]
    );
    // A null into a string target is refused too, not only into the enum.
    assert_eq!(ran.rejects[0]["errors"].as_array().map(Vec::len), Some(2));
    assert_eq!(ran.out.len(), 1, "{:?}", ran.out);
    assert_eq!(
        ran.out[0].to_string(),
        r#"{"id":"1","status":"open","label":"open","when":"2024-05-01","counts":[1,2],"place":{"city":"Oslo"}}"#
    );
}

#[test]
fn sync_refuses_the_same_values_of_type_any_as_run() {
    let input = concat!(
        r#"{"id":"1","status":"closed"}"#,
        "\n",
        r#"{"id":"2","status":["open"]}"#,
        "\n",
    );
    let synced = sync(
        ANY_SOURCES,
        "ticket",
        "any",
        &[("1.ndjson", input.as_bytes())],
    );
    assert_eq!(synced.summary["dead_lettered"], 1, "{}", synced.summary);
    assert_eq!(synced.errors(), ["E1007 status"], "{:?}", synced.letters);
    assert_eq!(synced.sent.len(), 1, "{:?}", synced.sent);
}

/// What `run` rejects before any rule (not an object, a member twice,
/// not JSON, not UTF-8), `sync` dead-letters with the same code, path
/// and message (issue 17, items 4 and 7: "`run` and `sync` agree").
#[test]
fn sync_dead_letters_what_run_rejects_with_the_same_errors() {
    let lines: [&[u8]; 6] = [
        b"null",
        b"[1]",
        b"\"text\"",
        br#"{"id":"1","name":"A","tags":["x"],"tags":["y"]}"#,
        b"{\"id\":",
        b"{\"id\":\"6\",\"name\":\"\xff\"}",
    ];
    let input: Vec<u8> = lines.iter().flat_map(|l| [*l, b"\n"].concat()).collect();
    let ran = run(PEOPLE, "person", "in.ndjson", &input, &[]);
    let synced = sync(PEOPLE, "person", "agree", &[("1.ndjson", &input)]);
    assert_eq!(synced.summary["dead_lettered"], 6, "{}", synced.summary);
    let fields = |errors: &[&Json]| -> Vec<(String, String, String)> {
        errors
            .iter()
            .map(|e| {
                (
                    e["code"].to_string(),
                    e["path"].to_string(),
                    e["message"].to_string(),
                )
            })
            .collect()
    };
    let from_run: Vec<&Json> = ran.rejects.iter().map(|r| &r["errors"][0]).collect();
    let from_sync: Vec<&Json> = synced.letters.iter().map(|l| &l["errors"][0]).collect();
    assert_eq!(from_run.len(), 6, "{:?}", ran.rejects);
    // Messages of unreadable input name the reader's position; compare
    // code and path for all, messages for the records that parse.
    let (run_fields, sync_fields) = (fields(&from_run), fields(&from_sync));
    for (i, (r, s)) in run_fields.iter().zip(&sync_fields).enumerate() {
        assert_eq!((&r.0, &r.1), (&s.0, &s.1), "line {}", i + 1);
    }
    assert_eq!(run_fields[..4], sync_fields[..4]);
    assert_eq!(
        run_fields.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        [
            "\"E1002\"",
            "\"E1002\"",
            "\"E1002\"",
            "\"E1002\"",
            "\"E1001\"",
            "\"E1001\""
        ]
    );
}

// ---------------------------------------------------------------- item 7

#[test]
fn a_json_member_twice_is_rejected_by_run_and_sync() {
    let input = concat!(
        "{\"id\":\"1\",\"name\":\"Ann\",\"name\":\"Bob\"}\n",
        "{\"id\":\"2\",\"name\":\"Cy\"}\n",
    );
    let ran = run(PEOPLE, "person", "in.ndjson", input.as_bytes(), &[]);
    assert_eq!(ran.errors(), ["E1002 name"]);
    assert!(
        ran.rejects[0]["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("more than once")),
        "{:?}",
        ran.rejects
    );
    assert_eq!(ran.out.len(), 1);

    let synced = sync(
        PEOPLE,
        "person",
        "dup-json",
        &[("1.ndjson", input.as_bytes())],
    );
    assert_eq!(synced.summary["dead_lettered"], 1, "{}", synced.summary);
    let message = synced.letters[0]["errors"][0]["message"].to_string();
    assert!(
        message.contains("`name` appears more than once"),
        "{message}"
    );
    assert_eq!(synced.sent.len(), 1);
}

#[test]
fn a_nested_json_member_twice_is_named_by_its_path_in_sync() {
    let doc =
        br#"[{"id":"1","name":"A","tags":["x"]},{"id":"2","name":"B","x":{"y":[{"k":1,"k":2}]}}]"#;
    let synced = sync(PEOPLE, "person", "dup-nested", &[("1.json", doc)]);
    // The item with the member twice is refused, at the member's path in
    // it; the other item of the document is synced.
    assert_eq!(synced.errors(), ["E1002 x.y[0].k"], "{:?}", synced.letters);
    let message = synced.letters[0]["errors"][0]["message"].to_string();
    assert!(message.contains("`k` appears more than once"), "{message}");
    assert_eq!(synced.sent.len(), 1, "{:?}", synced.sent);
}

// ------------------------------------------------------- items 6, 7, 8

/// An ERP account document in namespace `urn:erp` (the schema imported
/// from `tests/data/hostile/erp.xsd`) to companies, both ways.
fn erp_mapping() -> String {
    format!(
        r#"import schema erp from "{}/tests/data/hostile/erp.xsd"
schema crm {{
  record Company {{ id: string, name: string, amount: decimal, currency: string, tags?: [string] }}
}}
mapping company: erp.Account <-> crm.Company {{
  key Id <-> id
  Name <-> name
  Amt.value <-> amount
  Amt.Ccy <-> currency
  Tag <-> tags
}}
"#,
        env!("CARGO_MANIFEST_DIR")
    )
}

fn account(name: &str) -> String {
    format!(
        r#"<Account xmlns="urn:erp"><Id>1</Id><Name>{name}</Name><Amt Ccy="EUR">1.50</Amt><Tag>a</Tag><Tag>b</Tag></Account>"#
    )
}

/// Runs and syncs one XML document: the run's reject message, the dead
/// letter's (each `None` when the document went through).
fn judged(test: &str, doc: &str) -> (Option<String>, Option<String>) {
    let mapping = erp_mapping();
    let ran = run(&mapping, "company", "doc.xml", doc.as_bytes(), &[]);
    let run_message = ran
        .rejects
        .first()
        .map(|r| r["errors"][0]["message"].as_str().unwrap_or("").to_string());
    assert_eq!(
        ran.out.len() + ran.rejects.len(),
        1,
        "{test}: {:?} {:?}",
        ran.out,
        ran.rejects
    );
    let synced = sync(&mapping, "company", test, &[("1.xml", doc.as_bytes())]);
    let letter = synced
        .letters
        .first()
        .map(|l| l["errors"][0]["message"].as_str().unwrap_or("").to_string());
    assert_eq!(
        synced.sent.len() + synced.letters.len(),
        1,
        "{test}: {:?} {:?}",
        synced.sent,
        synced.letters
    );
    (run_message, letter)
}

/// Both readers refuse the document, with messages holding `words`.
fn refused(test: &str, doc: &str, words: &str) {
    let (ran, synced) = judged(test, doc);
    assert!(
        ran.as_deref().is_some_and(|m| m.contains(words)),
        "{test}: run says {ran:?}"
    );
    assert!(
        synced.as_deref().is_some_and(|m| m.contains(words)),
        "{test}: sync says {synced:?}"
    );
}

#[test]
fn a_clean_document_goes_through_run_and_sync() {
    assert_eq!(judged("clean", &account("Ab&amp;cd&#x20AC;")), (None, None));
}

#[test]
fn an_undefined_or_dtd_entity_is_refused_by_run_and_sync() {
    refused(
        "entity",
        &account("Ab&nope;cd"),
        "the entity `&nope;` is not defined",
    );
    let dtd = format!(
        "<!DOCTYPE Account [<!ENTITY ln \"Smith\">]>{}",
        account("&ln;")
    );
    refused("dtd-entity", &dtd, "the entity `&ln;` is not defined");
}

#[test]
fn a_repeated_single_valued_element_is_refused_with_its_path() {
    let doc = r#"<Account xmlns="urn:erp"><Id>1</Id><Name>A</Name><Amt Ccy="EUR">1.50</Amt><Amt Ccy="EUR">2</Amt></Account>"#;
    let ran = run(&erp_mapping(), "company", "doc.xml", doc.as_bytes(), &[]);
    assert_eq!(ran.errors(), ["E1002 Amt"]);
    refused("dup-element", doc, "`Amt` appears more than once");
    // The dead letter has run's code and path too.
    let synced = sync(
        &erp_mapping(),
        "company",
        "dup-element-code",
        &[("1.xml", doc.as_bytes())],
    );
    assert_eq!(synced.errors(), ["E1002 Amt"], "{:?}", synced.letters);
    let names = r#"<Account xmlns="urn:erp"><Id>1</Id><Name>A</Name><Name>B</Name><Amt Ccy="EUR">1</Amt></Account>"#;
    refused("dup-name", names, "`Name` appears more than once");
    // Repeated elements of an array are its elements.
    assert_eq!(judged("tags", &account("A")), (None, None));
}

#[test]
fn the_document_namespace_must_be_the_schemas() {
    let other = account("A").replace("urn:erp", "urn:other");
    refused(
        "ns-other",
        &other,
        r#"is in namespace "urn:other"; the mapping reads namespace "urn:erp""#,
    );
    let none = account("A").replace(r#" xmlns="urn:erp""#, "");
    refused(
        "ns-none",
        &none,
        r#"is in no namespace; the mapping reads namespace "urn:erp""#,
    );
    let prefixed = account("A")
        .replace(r#"<Account xmlns="urn:erp">"#, "<e:Account>")
        .replace("</Account>", "</e:Account>");
    refused(
        "ns-prefix",
        &prefixed,
        "the namespace prefix `e` is not declared",
    );
}

#[test]
fn characters_xml_forbids_and_repeated_attributes_are_refused() {
    refused("nul-ref", &account("A&#0;B"), "character reference");
    refused("ctl-ref", &account("A&#1;B"), "U+0001 is not allowed");
    refused("ctl-raw", &account("A\u{1}B"), "U+0001 is not allowed");
    refused("ffff", &account("A\u{FFFF}B"), "U+FFFF is not allowed");
    let attr = account("A").replace(r#"Ccy="EUR""#, r#"Ccy="EUR" Ccy="USD""#);
    refused(
        "dup-attr",
        &attr,
        "the attribute `Ccy` appears more than once",
    );
}

/// The bank statement mapping read against the real camt.053.001.02 XSD:
/// a camt.053.001.08 statement is another document, not the same one.
#[test]
fn a_camt_053_001_08_statement_is_not_read_as_001_02() {
    let bundled = std::fs::read_to_string("mappings/bank/camt053_to_ledger.tether")
        .expect("the bundled mapping");
    let start = bundled.find("schema camt ").expect("the inline schema");
    let end = start + bundled[start..].find("\n}\n").expect("its end") + 3;
    let mapping = format!(
        "{}import schema camt from \"{}/tests/data/iso20022/xsd/camt.053.001.02.xsd\"\n{}",
        &bundled[..start],
        env!("CARGO_MANIFEST_DIR"),
        &bundled[end..]
    );
    let v02 = std::fs::read("tests/data/iso20022/camt053/genkgo.camt053.v2.minimal.xml")
        .expect("a camt.053.001.02 statement");
    let ran = run(&mapping, "statement_entries", "v02.xml", &v02, &[]);
    assert_eq!(
        (ran.code, ran.rejects.len()),
        (Some(0), 0),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.out.len(), 1);
    let v08 = String::from_utf8(v02)
        .expect("UTF-8")
        .replace("camt.053.001.02", "camt.053.001.08");
    let ran = run(
        &mapping,
        "statement_entries",
        "v08.xml",
        v08.as_bytes(),
        &[],
    );
    assert!(ran.out.is_empty(), "{:?}", ran.out);
    let message = ran.rejects[0]["errors"][0]["message"].to_string();
    assert!(
        message.contains("camt.053.001.08") && message.contains("camt.053.001.02"),
        "{message}"
    );
}

// ---------------------------------------------------------------- item 9

const ANN: &str = r#"{"id":"1","name":"Ann"}"#;
const BOB: &str = r#"{"id":"2","name":"Bob"}"#;
const CY: &str = r#"{"id":"3","name":"Cy"}"#;

fn ids(records: &[Json]) -> Vec<&str> {
    records.iter().filter_map(|r| r["id"].as_str()).collect()
}

#[test]
fn a_leading_byte_order_mark_is_skipped_by_run_and_sync() {
    let input = format!("\u{FEFF}{ANN}\n{BOB}\n");
    let ran = run(PEOPLE, "person", "in.ndjson", input.as_bytes(), &[]);
    assert_eq!(ids(&ran.out), ["1", "2"], "{:?}", ran.rejects);
    let doc = format!("\u{FEFF}{ANN}");
    let ran = run(PEOPLE, "person", "in.json", doc.as_bytes(), &[]);
    assert_eq!(ids(&ran.out), ["1"], "{:?}", ran.rejects);

    let synced = sync(
        PEOPLE,
        "person",
        "bom",
        &[
            ("1.ndjson", input.as_bytes()),
            ("2.json", format!("\u{FEFF}{CY}").as_bytes()),
        ],
    );
    assert_eq!(synced.summary["dead_lettered"], 0, "{:?}", synced.letters);
    assert_eq!(synced.sent.len(), 3);
}

#[test]
fn a_json_document_that_is_not_utf8_is_a_reject_not_an_io_failure() {
    let mut doc = ANN.as_bytes().to_vec();
    doc.insert(doc.len() - 3, 0xE9);
    let ran = run(PEOPLE, "person", "in.json", &doc, &[]);
    assert_eq!(ran.code, Some(3), "{}", ran.stderr);
    assert_eq!(ran.errors(), ["E1001 "]);
}

#[test]
fn cr_only_line_ends_split_records_in_run_and_sync() {
    // Old Mac line ends, and a mix: each ending ends one record.
    let input = format!("{ANN}\r{BOB}\r\n{CY}\r");
    let ran = run(PEOPLE, "person", "in.ndjson", input.as_bytes(), &[]);
    assert_eq!(ids(&ran.out), ["1", "2", "3"], "{:?}", ran.rejects);
    // Line numbers count CR-only ends too.
    let bad = format!("{ANN}\r{{\"id\":\"9\"}}\r{CY}");
    let ran = run(PEOPLE, "person", "in.ndjson", bad.as_bytes(), &[]);
    assert_eq!(ran.rejects[0]["line"], 2, "{:?}", ran.rejects);

    let synced = sync(PEOPLE, "person", "cr", &[("1.ndjson", input.as_bytes())]);
    assert_eq!(synced.summary["dead_lettered"], 0, "{:?}", synced.letters);
    assert_eq!(synced.sent.len(), 3);
}

#[test]
fn an_xml_document_not_in_its_encoding_is_a_reject_not_an_io_failure() {
    let mapping = erp_mapping();
    // "Zoé" in ISO 8859-1, in a document that does not declare it.
    let mut latin1 = account("Zo?").into_bytes();
    if let Some(q) = latin1.iter().position(|&b| b == b'?') {
        latin1[q] = 0xE9;
    }
    let ran = run(&mapping, "company", "latin1.xml", &latin1, &[]);
    assert_eq!(ran.code, Some(3), "{}", ran.stderr);
    assert_eq!(ran.errors(), ["E1001 "]);
    assert!(
        ran.rejects[0]["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not UTF-8")),
        "{:?}",
        ran.rejects
    );
    let synced = sync(&mapping, "company", "latin1", &[("1.xml", &latin1)]);
    assert_eq!(synced.errors(), ["E1001 "]);

    // UTF-16 with its byte order mark is read, by both.
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in account("Zoë").encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let ran = run(&mapping, "company", "utf16.xml", &utf16, &[]);
    assert_eq!(ran.out.len(), 1, "{:?}", ran.rejects);
    assert_eq!(ran.out[0]["name"], "Zoë");
    let synced = sync(&mapping, "company", "utf16", &[("1.xml", &utf16)]);
    assert_eq!(synced.sent.len(), 1, "{:?}", synced.letters);
    // A lone surrogate is not UTF-16.
    utf16.extend_from_slice(&0xD800u16.to_le_bytes());
    let ran = run(&mapping, "company", "bad16.xml", &utf16, &[]);
    assert_eq!(
        (ran.code, ran.errors()),
        (Some(3), vec!["E1001 ".to_string()])
    );
}

// --------------------------------------------------------------- item 12

#[test]
fn a_record_over_the_limit_is_rejected_and_the_rest_mapped() {
    let long = format!(r#"{{"id":"2","name":"{}"}}"#, "x".repeat(1000));
    let input = format!("{ANN}\n{long}\n{CY}\n");
    let ran = run(
        PEOPLE,
        "person",
        "in.ndjson",
        input.as_bytes(),
        &["--max-record-bytes", "100"],
    );
    assert_eq!(ids(&ran.out), ["1", "3"]);
    assert_eq!(ran.errors(), ["E1014 "]);
    assert_eq!(ran.rejects[0]["line"], 2);
    let message = ran.rejects[0]["errors"][0]["message"].to_string();
    assert!(
        message.contains(&format!("{} bytes", long.len())),
        "{message}"
    );
    // Threads cut the input into chunks: the same reject.
    let threaded = run(
        PEOPLE,
        "person",
        "in.ndjson",
        input.as_bytes(),
        &["--max-record-bytes", "100", "--threads", "2"],
    );
    assert_eq!(threaded.rejects, ran.rejects);
    // Under the default limit it is a record like any other.
    let ran = run(PEOPLE, "person", "in.ndjson", input.as_bytes(), &[]);
    assert_eq!(ids(&ran.out), ["1", "2", "3"]);
}

#[test]
fn sync_dead_letters_a_line_over_the_default_limit() {
    let long = format!(r#"{{"id":"2","name":"{}"}}"#, "x".repeat(16 << 20));
    let input = format!("{ANN}\n{long}\n{CY}\n");
    let synced = sync(
        PEOPLE,
        "person",
        "too-long",
        &[("1.ndjson", input.as_bytes())],
    );
    assert_eq!(synced.sent.len(), 2, "{:?}", synced.letters);
    assert_eq!(
        synced.errors(),
        ["E1014 "],
        "run's code: {:?}",
        synced.letters
    );
    let message = synced.letters[0]["errors"][0]["message"].to_string();
    assert!(message.contains("more than the limit"), "{message}");
}

#[test]
fn sync_takes_the_record_limit_run_takes() {
    let long = format!(r#"{{"id":"2","name":"{}"}}"#, "x".repeat(1000));
    let input = format!("{ANN}\n{long}\n{CY}\n");
    let files = [("1.ndjson", input.as_bytes())];
    let limited = sync_with(
        PEOPLE,
        "person",
        "limit-100",
        &files,
        &["--max-record-bytes", "100"],
    );
    assert_eq!(limited.sent.len(), 2, "{:?}", limited.letters);
    assert_eq!(limited.errors(), ["E1014 "]);
    let ran = run(
        PEOPLE,
        "person",
        "in.ndjson",
        input.as_bytes(),
        &["--max-record-bytes", "100"],
    );
    assert_eq!(
        limited.letters[0]["errors"][0]["message"],
        ran.rejects[0]["errors"][0]["message"]
    );
    // Without the flag the line is a record like any other.
    let unlimited = sync(PEOPLE, "person", "limit-default", &files);
    assert_eq!(unlimited.sent.len(), 3, "{:?}", unlimited.letters);
    assert!(unlimited.letters.is_empty());
}
