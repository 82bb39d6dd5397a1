//! XML output (issue 4): records written in schema order with attributes,
//! text, repeated elements, `xsi:nil` and escaping; SOAP envelopes; and the
//! round trips: JSON → XML → JSON, and a real camt.053 document read,
//! written and read again.

mod common;

use common::{temp, tether};
use proptest::prelude::*;
use std::path::Path;
use tether::compile::compile_source;
use tether::exec::{InputFormat, OutputFormat, Runner, Soap};
use tether::plan;
use tether::syntax::Direction;

const INVOICE: &str = "tests/fixtures/xml/invoice.tether";
const INVOICES: &str = "tests/fixtures/xml/invoices.ndjson";

/// Runs `args` expecting success; stdout.
fn run_ok(args: &[&str]) -> String {
    let (code, out, err) = tether(args);
    assert_eq!(code, Some(0), "{err}");
    out
}

/// `tether run` of the invoice fixture's mapping with `rest`; (exit code,
/// stdout, stderr).
fn invoice_status(rest: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["run", INVOICE, "--mapping", "invoice"];
    args.extend(rest);
    tether(&args)
}

/// [`invoice_status`], expecting success; stdout.
fn invoice(rest: &[&str]) -> String {
    let (code, out, err) = invoice_status(rest);
    assert_eq!(code, Some(0), "{err}");
    out
}

#[test]
fn records_are_written_in_schema_order_with_attributes_text_and_escapes() {
    let xml = invoice(&["--input", INVOICES, "--output-format", "xml"]);
    insta::assert_snapshot!(xml);
}

#[test]
fn json_to_xml_to_json_gives_the_records_back() {
    let xml = invoice(&["--input", INVOICES, "--output-format", "xml"]);
    let path = temp("xml_output", "invoices.xml", &xml);
    let back = invoice(&["--reverse", "--input", &path]);
    let given = std::fs::read_to_string(INVOICES).expect("fixture");
    assert_eq!(back, given);
}

#[test]
fn a_soap_envelope_is_written_and_read_back() {
    for (version, ns) in [
        ("1.1", "http://schemas.xmlsoap.org/soap/envelope/"),
        ("1.2", "http://www.w3.org/2003/05/soap-envelope"),
    ] {
        let xml = invoice(&[
            "--input",
            INVOICES,
            "--output-format",
            "xml",
            "--soap",
            version,
        ]);
        assert!(
            xml.starts_with(&format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"{ns}\"><soap:Body>\n<Invoice id=\"INV-1\">"
            )),
            "{xml}"
        );
        assert!(xml.ends_with("</soap:Body></soap:Envelope>\n"), "{xml}");
        let path = temp("xml_output", &format!("soap{version}.xml"), &xml);
        let back = invoice(&["--reverse", "--input", &path]);
        assert_eq!(back, std::fs::read_to_string(INVOICES).expect("fixture"));
    }
}

#[test]
fn soap_without_xml_output_is_a_usage_error() {
    let (code, _, err) = invoice_status(&["--input", INVOICES, "--soap", "1.1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--soap needs --output-format xml"), "{err}");
}

#[test]
fn a_value_xml_cannot_carry_rejects_its_record_only() {
    let input = temp(
        "xml_output",
        "bell.ndjson",
        concat!(
            r#"{"id":"A","number":"ring\u0007","issued":"2026-01-01","paid":true,"total":1,"currency":"EUR"}"#,
            "\n",
            r#"{"id":"B","number":"fine","issued":"2026-01-01","paid":true,"total":1,"currency":"EUR"}"#,
            "\n"
        ),
    );
    let rejects = temp("xml_output", "bell.rejects", "");
    let (code, out, _) = invoice_status(&[
        "--input",
        &input,
        "--output-format",
        "xml",
        "--rejects",
        &rejects,
    ]);
    assert_eq!(code, Some(3));
    assert_eq!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<records>\n<Invoice id=\"B\"><number>fine</number><issued>2026-01-01</issued><paid>true</paid><total Ccy=\"EUR\">1</total></Invoice>\n</records>\n"
    );
    let reject: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&rejects).expect("rejects").trim())
            .expect("one JSON line");
    assert_eq!(reject["key"], "A");
    assert_eq!(reject["errors"][0]["code"], "E1007");
    assert_eq!(reject["errors"][0]["path"], "Invoice.number");
    assert!(
        reject["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("U+0007")),
        "{reject}"
    );
}

#[test]
fn one_rejected_record_leaves_no_half_document() {
    let input = temp(
        "xml_output",
        "one.json",
        r#"{"id":"A","number":"x","issued":"not a date","paid":true,"total":1,"currency":"EUR"}"#,
    );
    let (code, out, _) = invoice_status(&["--input", &input, "--output-format", "xml"]);
    assert_eq!(code, Some(3));
    assert_eq!(out, "");
}

#[test]
fn one_record_in_is_one_document_out() {
    let input = temp(
        "xml_output",
        "single.json",
        r#"{"id":"A","number":"x","issued":"2026-03-01","paid":false,"total":2.50,"currency":"EUR"}"#,
    );
    let out = invoice(&["--input", &input, "--output-format", "xml"]);
    assert_eq!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Invoice id=\"A\"><number>x</number><issued>2026-03-01</issued><paid>false</paid><total Ccy=\"EUR\">2.50</total></Invoice>\n"
    );
}

const CAMT_XSD: &str = "tests/data/iso20022/xsd/camt.053.001.02.xsd";

/// A whole camt.053 statement copied (`BkToCstmrStmt -> BkToCstmrStmt`),
/// and the same statement as JSON: written as XML by the XSD's layout
/// (namespace, `Ccy` attributes, element order), then read again, it is the
/// same statement.
#[test]
fn camt053_documents_read_write_read_equal() {
    let xsd = std::fs::canonicalize(CAMT_XSD).expect("camt.053 XSD");
    let mapping = temp(
        "xml_output",
        "camt_copy.tether",
        &format!(
            "import schema camt from {:?}\n\
             schema j {{ record Doc {{ doc: any }} }}\n\
             mapping copy: camt.Document -> camt.Document {{ BkToCstmrStmt -> BkToCstmrStmt }}\n\
             mapping as_json: camt.Document -> j.Doc {{ BkToCstmrStmt -> doc }}\n",
            xsd.display().to_string()
        ),
    );
    let mut samples: Vec<String> = std::fs::read_dir("tests/data/iso20022/camt053")
        .expect("samples")
        .filter_map(|e| Some(e.ok()?.path().display().to_string()))
        .filter(|p| p.ends_with(".xml"))
        .collect();
    samples.push("mappings/bank/statement.xml".into());
    assert!(samples.len() >= 3);
    for (i, sample) in samples.iter().enumerate() {
        let written = run_ok(&[
            "run",
            &mapping,
            "--mapping",
            "copy",
            "--input",
            sample,
            "--output-format",
            "xml",
        ]);
        assert!(
            written.contains(
                "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>"
            ),
            "{sample}: {written}"
        );
        assert!(
            written.contains("<Amt Ccy=\""),
            "{sample}: attributes stay attributes"
        );
        let copy = temp("xml_output", &format!("camt_copy_{i}.xml"), &written);
        let before = run_ok(&["run", &mapping, "--mapping", "as_json", "--input", sample]);
        let after = run_ok(&["run", &mapping, "--mapping", "as_json", "--input", &copy]);
        assert!(before.len() > 100, "{sample}: {before}");
        assert_eq!(after, before, "{sample}");
        // Written again, the copy is a fixed point.
        let again = run_ok(&[
            "run",
            &mapping,
            "--mapping",
            "copy",
            "--input",
            &copy,
            "--output-format",
            "xml",
        ]);
        assert_eq!(again, written, "{sample}");
    }
}

#[test]
fn unqualified_local_elements_keep_out_of_the_namespace() {
    let xsd = temp(
        "xml_output",
        "unqualified.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:example:orders">
  <xs:element name="Order" type="Order"/>
  <xs:complexType name="Order">
    <xs:sequence><xs:element name="Ref" type="xs:string"/></xs:sequence>
    <xs:attribute name="version" type="xs:int"/>
  </xs:complexType>
</xs:schema>"#,
    );
    let mapping = temp(
        "xml_output",
        "unqualified.tether",
        &format!(
            "import schema o from {xsd:?}\n\
             schema j {{ record In {{ ref: string, v?: int }} }}\n\
             mapping order: j.In <-> o.Order {{ ref <-> Ref\n v <-> version }}\n"
        ),
    );
    let input = temp(
        "xml_output",
        "unqualified.ndjson",
        "{\"ref\":\"R-1\",\"v\":2}\n",
    );
    let single = temp(
        "xml_output",
        "unqualified.json",
        "{\"ref\":\"R-1\",\"v\":2}",
    );
    let out = run_ok(&[
        "run",
        &mapping,
        "--mapping",
        "order",
        "--input",
        &single,
        "--output-format",
        "xml",
    ]);
    assert_eq!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<t:Order xmlns:t=\"urn:example:orders\" version=\"2\"><Ref>R-1</Ref></t:Order>\n"
    );
    let doc = temp("xml_output", "unqualified.xml", &out);
    let back = run_ok(&[
        "run",
        &mapping,
        "--mapping",
        "order",
        "--reverse",
        "--input",
        &doc,
    ]);
    assert_eq!(back, std::fs::read_to_string(&input).expect("input"));
}

/// The invoice mapping, both ways, for the property test.
fn invoice_plans() -> (plan::Plan, plan::Plan) {
    let text = std::fs::read_to_string(INVOICE).expect("fixture");
    let c = compile_source(
        "invoice.tether",
        &text,
        Some(Path::new("tests/fixtures/xml")),
    );
    let program = c.program.expect("compiles");
    (
        plan::lower(&program, "invoice", Direction::Forward).expect("forward"),
        plan::lower(&program, "invoice", Direction::Reverse).expect("reverse"),
    )
}

fn run_plan(plan: &plan::Plan, input: &str, from: InputFormat, to: OutputFormat) -> String {
    let mut out = Vec::new();
    let mut rejects = Vec::new();
    let summary = Runner::new(plan, &mut out, Some(&mut rejects), to)
        .run(&mut input.as_bytes(), from)
        .expect("runs");
    assert_eq!(summary.rejected, 0, "{}", String::from_utf8_lossy(&rejects));
    String::from_utf8(out).expect("UTF-8")
}

/// Text XML 1.0 can carry.
fn xml_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('<'),
            Just('>'),
            Just('&'),
            Just('"'),
            Just('\''),
            Just('\n'),
            Just('\r'),
            Just('\t'),
            Just(' '),
            Just(']'),
            Just('é'),
            Just('𝄞'),
            proptest::char::range('!', '~'),
        ],
        0..24,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// JSON → XML → JSON is the identity on the fields the mapping covers,
    /// whatever the text (markup characters, quotes, CR, astral planes) and
    /// whatever the decimals' scale.
    #[test]
    fn json_xml_json_round_trips(
        id in xml_text(), number in xml_text(), sku in xml_text(), text in xml_text(),
        units in -10_000_000i64..10_000_000, scale in 0u32..6, qty in any::<i32>(),
        paid in any::<bool>(), note in proptest::option::of(xml_text()),
    ) {
        let (forward, reverse) = invoice_plans();
        let total = rust_decimal::Decimal::new(units, scale);
        let record = serde_json::json!({
            "id": id, "number": number, "issued": "2026-11-24", "paid": paid,
            "note": note, "total": serde_json::Number::from_string_unchecked(total.to_string()),
            "currency": "EUR",
            "lines": [{"sku": sku, "qty": qty, "price": serde_json::Number::from_string_unchecked(total.to_string()), "text": text}]
        });
        let line = format!("{record}\n");
        let xml = run_plan(&forward, &line, InputFormat::Ndjson, OutputFormat::Xml { soap: None });
        let back = run_plan(&reverse, &xml, InputFormat::Xml, OutputFormat::Ndjson);
        prop_assert_eq!(&back, &line);
        let soap = run_plan(&forward, &line, InputFormat::Ndjson, OutputFormat::Xml { soap: Some(Soap::V12) });
        prop_assert_eq!(run_plan(&reverse, &soap, InputFormat::Xml, OutputFormat::Ndjson), format!("{record}\n"));
    }
}

/// A schema block with `xmlns` writes its documents in that namespace
/// (elements qualified, as an XSD's `elementFormDefault="qualified"`), and
/// reads back only documents in it.
#[test]
fn a_schema_block_with_xmlns_writes_and_reads_its_namespace() {
    let mapping = temp(
        "xml_output",
        "xmlns.tether",
        r#"
schema shop { record Order { id: string, total: decimal } }
schema erp xmlns "urn:example:erp:v2" { record SalesOrder { Ref: string, Amount: decimal } }
mapping order: shop.Order -> erp.SalesOrder {
  id -> Ref
  total -> Amount
}
mapping back: erp.SalesOrder -> shop.Order {
  Ref -> id
  Amount -> total
}
"#,
    );
    let input = temp(
        "xml_output",
        "xmlns.ndjson",
        "{\"id\":\"A1\",\"total\":9.50}\n",
    );
    let xml = run_ok(&[
        "run",
        &mapping,
        "--mapping",
        "order",
        "--input",
        &input,
        "--output-format",
        "xml",
    ]);
    assert!(
        xml.contains(r#"<SalesOrder xmlns="urn:example:erp:v2"><Ref>A1</Ref><Amount>9.50</Amount></SalesOrder>"#),
        "{xml}"
    );
    let written = temp("xml_output", "xmlns-out.xml", &xml);
    let back = run_ok(&["run", &mapping, "--mapping", "back", "--input", &written]);
    assert_eq!(back.trim(), r#"{"id":"A1","total":9.50}"#);
    let other = temp(
        "xml_output",
        "xmlns-other.xml",
        r#"<SalesOrder xmlns="urn:example:erp:v1"><Ref>A1</Ref><Amount>9.50</Amount></SalesOrder>"#,
    );
    let (code, out, _) = tether(&[
        "run",
        &mapping,
        "--mapping",
        "back",
        "--input",
        &other,
        "--rejects",
        "-",
    ]);
    assert_eq!(code, Some(3));
    assert!(out.trim().is_empty(), "{out}");
}
