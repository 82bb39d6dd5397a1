//! What a run writes is exact: a join of only missing values stays missing,
//! money fits its currency, reject paths carry element indexes, counts
//! count inputs, declared types hold.

use std::io::Cursor;
use tether::compile::compile_source;
use tether::exec::{InputFormat, OutputFormat, Runner, Summary};
use tether::plan;
use tether::syntax::Direction;

/// The output lines, the reject lines (as JSON) and the summary of running
/// mapping `m` of `src` over `input`.
struct Ran {
    out: Vec<serde_json::Value>,
    rejects: Vec<serde_json::Value>,
    summary: Summary,
}

fn run(src: &str, input: &str, format: InputFormat) -> Ran {
    let c = compile_source("t.tether", src, None);
    let program = c.program.as_ref().unwrap_or_else(|| {
        panic!(
            "does not compile: {:?}",
            c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
        )
    });
    let p = plan::lower(program, "m", Direction::Forward).expect("plan");
    let (mut out, mut rejects) = (Vec::new(), Vec::new());
    let summary = Runner::new(&p, &mut out, Some(&mut rejects), OutputFormat::Ndjson)
        .run(&mut Cursor::new(input.as_bytes()), format)
        .expect("run");
    let lines = |b: &[u8]| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(b)
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    };
    Ran {
        out: lines(&out),
        rejects: lines(&rejects),
        summary,
    }
}

fn diagnostics(src: &str) -> Vec<String> {
    compile_source("t.tether", src, None)
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect()
}

const JOIN: &str = r#"
schema a { record In { first?: string?, last?: string? } }
schema b { record Out { name?: string } }
mapping m: a.In -> b.Out {
  (first, last) -> name : join(" ")
}
"#;

#[test]
fn a_join_of_only_missing_values_leaves_the_target_out() {
    let ran = run(
        JOIN,
        "{}\n{\"first\":null,\"last\":null}\n{\"first\":\"Ana\"}\n{\"last\":\"Silva\",\"first\":null}\n",
        InputFormat::Ndjson,
    );
    let names: Vec<String> = ran.out.iter().map(|o| o.to_string()).collect();
    assert_eq!(
        names,
        [
            r#"{}"#,
            r#"{"name":""}"#,
            r#"{"name":"Ana"}"#,
            r#"{"name":"Silva"}"#
        ]
    );
}

#[test]
fn a_join_of_optional_sources_into_a_required_target_is_a_check_error() {
    let src = JOIN.replace("name?: string", "name: string");
    let d = diagnostics(&src);
    assert!(d.iter().any(|d| d.starts_with("E0204")), "{d:?}");
    // One source always present: the join is always present.
    let one = src.replace("first?: string?", "first: string?");
    let d = diagnostics(&one);
    assert!(!d.iter().any(|d| d.starts_with("E0204")), "{d:?}");
}

const NESTED: &str = r#"
schema a {
  record Sub { v: string }
  record Line { price: string, subs?: [Sub] }
  record Order { id: string, lines: [Line] }
}
schema b {
  record OSub { n: decimal }
  record Item { amount: decimal, parts?: [OSub] }
  record Out { id: string, items: [Item] }
}
mapping m: a.Order -> b.Out {
  key id -> id
  lines[] -> items[] {
    price -> amount : parse_decimal
    subs[] -> parts[] {
      v -> n : parse_decimal
    }
  }
}
"#;

fn error_paths(ran: &Ran) -> Vec<String> {
    ran.rejects
        .iter()
        .flat_map(|r| r["errors"].as_array().cloned().unwrap_or_default())
        .map(|e| e["path"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn reject_paths_in_element_blocks_carry_their_indexes() {
    let json = r#"{"id":"1","lines":[{"price":"1.5"},{"price":"x","subs":[{"v":"2"},{"v":"y"}]}]}"#;
    let ran = run(NESTED, json, InputFormat::Ndjson);
    assert_eq!(
        error_paths(&ran),
        ["lines[1].price", "lines[1].subs[1].v"],
        "{:?}",
        ran.rejects
    );
    let xml = "<Order><id>1</id><lines><price>1.5</price></lines>\
               <lines><price>x</price><subs><v>2</v></subs><subs><v>y</v></subs></lines></Order>";
    let ran = run(NESTED, xml, InputFormat::Xml);
    assert_eq!(
        error_paths(&ran),
        ["lines[1].price", "lines[1].subs[1].v"],
        "{:?}",
        ran.rejects
    );
}

const ROWS: &str = r#"
schema a {
  record Line { price: string }
  record Order { id: string, lines: [Line] }
}
schema b { record Row { order: string, amount: decimal } }
mapping m: a.Order -> b.Row {
  for l in lines[]
  id -> order
  l.price -> amount : parse_decimal
}
"#;

#[test]
fn a_for_run_counts_documents_read_and_rows_apart() {
    let docs = "{\"id\":\"1\",\"lines\":[{\"price\":\"1\"},{\"price\":\"x\"},{\"price\":\"3\"}]}\n\
                {\"id\":\"2\",\"lines\":[{\"price\":\"4\"}]}\n\
                not json\n";
    let ran = run(ROWS, docs, InputFormat::Ndjson);
    let s = &ran.summary;
    assert_eq!(
        (s.read, s.rows, s.written, s.rejected),
        (3, 4, 3, 2),
        "{s:?}"
    );
    let shown = s.to_string();
    assert!(
        shown.starts_with("read 3 records (4 rows), wrote 3, rejected 2"),
        "{shown}"
    );

    let plain = run(JOIN, "{}\n{}\n", InputFormat::Ndjson).summary;
    assert_eq!((plain.read, plain.rows, plain.written), (2, 0, 2));
    assert!(plain.to_string().starts_with("read 2 records, wrote 2"));
}

#[test]
fn a_for_run_over_xml_counts_the_document_once() {
    let xml =
        "<Order><id>1</id><lines><price>1</price></lines><lines><price>2</price></lines></Order>";
    let s = run(ROWS, xml, InputFormat::Xml).summary;
    assert_eq!(
        (s.read, s.rows, s.written, s.rejected),
        (1, 2, 2, 0),
        "{s:?}"
    );
}

#[test]
fn money_with_more_decimals_than_its_currency_is_rejected_with_a_rounding_hint() {
    let input = "{\"id\":\"a\",\"price\":{\"amount\":\"1.01\",\"currency\":\"USD\"},\"qty\":2.5}\n\
                 {\"id\":\"b\",\"price\":{\"amount\":\"1.20\",\"currency\":\"USD\"},\"qty\":2.5}\n\
                 {\"id\":\"c\",\"price\":{\"amount\":\"1.001\",\"currency\":\"KWD\"},\"qty\":3}\n";
    let ran = run(MONEY_MUL, input, InputFormat::Ndjson);
    // 1.01 × 2.5 = 2.525 USD: a cent and a half.
    assert_eq!(ran.rejects.len(), 1, "{:?}", ran.rejects);
    let e = &ran.rejects[0]["errors"][0];
    assert_eq!(e["code"], "E1010");
    assert_eq!(e["path"], "price");
    let message = e["message"].as_str().unwrap_or("");
    assert!(
        message.contains("2.525")
            && message.contains("USD")
            && message.contains("2 decimals")
            && message.contains("round_money"),
        "{message}"
    );
    assert_eq!(ran.rejects[0]["key"], "a");
    // 1.20 × 2.5 = 3.000: exact in cents, written as 3.00; KWD keeps 3.003.
    let totals: Vec<String> = ran.out.iter().map(|o| o["total"].to_string()).collect();
    assert_eq!(
        totals,
        [
            r#"{"amount":"3.00","currency":"USD"}"#,
            r#"{"amount":"3.003","currency":"KWD"}"#
        ]
    );
}

#[test]
fn money_read_with_more_decimals_than_its_currency_is_rejected_on_write() {
    let ran = run(
        MONEY_COPY,
        "{\"price\":{\"amount\":\"3.005\",\"currency\":\"USD\"}}\n{\"price\":{\"amount\":\"3.5\",\"currency\":\"JPY\"}}\n{\"price\":{\"amount\":\"3.10\",\"currency\":\"USD\"}}\n",
        InputFormat::Ndjson,
    );
    let codes: Vec<&str> = ran
        .rejects
        .iter()
        .map(|r| r["errors"][0]["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(codes, ["E1010", "E1010"]);
    assert_eq!(ran.out.len(), 1);
    // Rounded in the rule, it is written.
    let rounded = MONEY_COPY.replace("price -> total", "price -> total : round_money");
    let ran = run(
        &rounded,
        "{\"price\":{\"amount\":\"3.005\",\"currency\":\"USD\"}}\n",
        InputFormat::Ndjson,
    );
    assert_eq!(ran.out[0]["total"]["amount"], "3.00");
}

const MONEY_MUL: &str = r#"
schema a { record In { id: string, price: money, qty: decimal } }
schema b { record Out { id: string, total?: money } }
mapping m: a.In -> b.Out {
  key id -> id
  price -> total : mul(qty)
}
"#;

const MONEY_COPY: &str = r#"
schema a { record In { price: money } }
schema b { record Out { total: money } }
mapping m: a.In -> b.Out {
  price -> total
}
"#;

const MAPS: &str = r#"
schema a { record In { id: string, tags: map<string>, counts?: map<int?>, name?: string } }
schema b { record Out { id: string, tags?: map<string>?, counts?: map<int?>, name?: string? } }
mapping m: a.In -> b.Out {
  key id -> id
  tags -> tags
  counts -> counts
  name -> name
}
"#;

fn rejected_errors(ran: &Ran) -> Vec<(String, String)> {
    ran.rejects
        .iter()
        .flat_map(|r| r["errors"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            (
                e["path"].as_str().unwrap_or("?").to_string(),
                e["code"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

#[test]
fn declared_map_value_types_and_non_nullable_fields_hold() {
    let input = [
        r#"{"id":"1","tags":null}"#,
        r#"{"id":"2","tags":{"a":"x","b":1,"c":null}}"#,
        r#"{"id":"3","tags":{},"counts":{"n":1,"m":null,"o":"2"}}"#,
        r#"{"id":"4","tags":{"a":"x"},"name":null}"#,
        r#"{"id":"5","tags":{"a":"x"},"counts":{"n":1,"m":null}}"#,
    ]
    .join("\n");
    let ran = run(MAPS, &input, InputFormat::Ndjson);
    let errors = rejected_errors(&ran);
    let expected: Vec<(String, String)> = [
        ("tags", "E1002"),
        ("tags.b", "E1002"),
        ("tags.c", "E1002"),
        ("counts.o", "E1002"),
        ("name", "E1002"),
    ]
    .iter()
    .map(|(p, c)| (p.to_string(), c.to_string()))
    .collect();
    assert_eq!(errors, expected, "{:?}", ran.rejects);
    assert_eq!(
        ran.out.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
        [r#"{"id":"5","tags":{"a":"x"},"counts":{"n":1,"m":null}}"#]
    );
    let message = ran.rejects[1]["errors"][0]["message"]
        .as_str()
        .unwrap_or("");
    assert!(
        message.contains("expected a string, found a number"),
        "{message}"
    );
    let message = ran.rejects[0]["errors"][0]["message"]
        .as_str()
        .unwrap_or("");
    assert!(
        message.contains("null") && message.contains("not nullable"),
        "{message}"
    );
}

#[test]
fn an_xsi_nil_where_the_type_is_not_nullable_is_rejected() {
    let src = r#"
schema a { record In { id: string, name?: string, note?: string? } }
schema b { record Out { id: string, name?: string?, note?: string? } }
mapping m: a.In -> b.Out {
  id -> id
  name -> name
  note -> note
}
"#;
    let nil = |field: &str| {
        format!(
            "<In xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><id>1</id><{field} xsi:nil=\"true\"/></In>"
        )
    };
    let ran = run(src, &nil("name"), InputFormat::Xml);
    assert_eq!(
        rejected_errors(&ran),
        [("name".to_string(), "E1002".to_string())]
    );
    let ran = run(src, &nil("note"), InputFormat::Xml);
    assert_eq!(ran.out.len(), 1, "{:?}", ran.rejects);
    assert_eq!(ran.out[0]["note"], serde_json::Value::Null);
}
