//! XML Schema imports and XML input (issue 4): snapshots of representative
//! imported types from each real schema, and the reader on namespaces, SOAP
//! envelopes, streaming and held-back rows.

use std::path::Path;
use std::process::Command;
use tether::compile::compile_source;
use tether::exec::xml::read_document;
use tether::plan;
use tether::syntax::Direction;

const XSD_DIR: &str = "tests/data/iso20022/xsd";
const WSDL: &str = "tests/data/salesforce/wsdl/enterprise.v27.wsdl.xml";

fn show(file: &str, ty: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["schema", "show", file, ty])
        .output()
        .expect("run tether");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("warning"),
        "no unsupported construct: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn camt053_types_as_tether_sees_them() {
    let xsd = format!("{XSD_DIR}/camt.053.001.02.xsd");
    let shown = [
        "Document",
        "AccountStatement2",
        "ReportEntry2",
        "ActiveOrHistoricCurrencyAndAmount",
        "DateAndDateTimeChoice",
        "EntryStatus2Code",
    ]
    .map(|t| show(&xsd, t))
    .join("\n");
    insta::assert_snapshot!(shown);
}

#[test]
fn pain001_types_as_tether_sees_them() {
    let xsd = format!("{XSD_DIR}/pain.001.001.03.xsd");
    let shown = [
        "PaymentInstructionInformation3",
        "CreditTransferTransactionInformation10",
    ]
    .map(|t| show(&xsd, t))
    .join("\n");
    insta::assert_snapshot!(shown);
}

#[test]
fn salesforce_wsdl_types_as_tether_sees_them() {
    // sObject's fields come first in every object (complexContent extension).
    let contact = show(WSDL, "Contact");
    let head: Vec<&str> = contact.lines().take(8).collect();
    let shown = format!("{}\n{}", show(WSDL, "sObject"), head.join("\n"));
    insta::assert_snapshot!(shown);
    assert!(contact.contains("  Birthdate?: date?\n"), "{contact}");
    assert!(
        contact.contains("  CreatedDate?: anydatetime?\n"),
        "{contact}"
    );
}

#[test]
fn every_bundled_xml_schema_imports_without_a_warning() {
    for f in [
        "camt.053.001.02.xsd",
        "camt.053.001.08.xsd",
        "pain.001.001.03.xsd",
        "pain.001.001.03.ch.02.xsd",
    ] {
        let path = std::fs::canonicalize(Path::new(XSD_DIR).join(f)).expect("xsd");
        let text = format!("import schema s from {:?}\n", path.display().to_string());
        let c = compile_source("import.tether", &text, None);
        assert!(c.diagnostics.is_empty(), "{f}: {:?}", c.diagnostics);
        let reg = &c.program.expect("imports").registry;
        assert!(reg.namespaces["s"].types.len() > 50, "{f}");
    }
    let path = std::fs::canonicalize(WSDL).expect("wsdl");
    let text = format!("import schema sf from {:?}\n", path.display().to_string());
    let c = compile_source("import.tether", &text, None);
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
}

/// A mapping importing the real camt.053 XSD (its namespace and element
/// order), reading `tail` from each statement.
fn camt_plan(tail: &str) -> plan::Plan {
    let xsd = std::fs::canonicalize(Path::new(XSD_DIR).join("camt.053.001.02.xsd")).expect("xsd");
    let text = format!(
        "import schema camt from {:?}\n\
         schema out {{ record Row {{ stmt: string, ref?: string, n: int, tail?: string }} }}\n\
         mapping rows: camt.Document -> out.Row {{\n\
           for s in BkToCstmrStmt.Stmt[]\n\
           for e at n in s.Ntry[]\n\
           s.Id -> stmt\n\
           e.AcctSvcrRef -> ref\n\
           n -> n\n\
           {tail}\n\
         }}\n",
        xsd.display().to_string()
    );
    let c = compile_source("rows.tether", &text, None);
    let program = c
        .program
        .unwrap_or_else(|| panic!("compiles: {:?}", c.diagnostics));
    plan::lower(&program, "rows", Direction::Forward).expect("plan")
}

fn rows_of(plan: &plan::Plan, doc: &str) -> Result<Vec<String>, String> {
    let mut rows = Vec::new();
    read_document(doc, plan, &mut |row| {
        let values: Vec<String> = row.frame.iter().map(|v| v.to_json()).collect();
        rows.push(format!("{} {:?}", row.element, values));
    })
    .map_err(|e| e.to_string())?;
    Ok(rows)
}

const STATEMENTS: &str = r#"<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <Stmt><Id>S1</Id>
      <Ntry><AcctSvcrRef>R1</AcctSvcrRef></Ntry>
      <Ntry/>
      <AddtlStmtInf>after the entries</AddtlStmtInf>
    </Stmt>
    <Stmt><Id>S2</Id><Ntry><AcctSvcrRef>R3</AcctSvcrRef></Ntry></Stmt>
  </BkToCstmrStmt>
</Document>"#;

#[test]
fn rows_stream_when_the_schema_fixes_the_order() {
    let plan = camt_plan("");
    let it = plan.iteration.as_ref().expect("iterates");
    assert!(it.levels.iter().all(|l| !l.deferred), "{:?}", it.levels);
    let rows = rows_of(&plan, STATEMENTS).expect("reads");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[0].starts_with("BkToCstmrStmt.Stmt[0].Ntry[0] "),
        "{rows:?}"
    );
    assert!(
        rows[2].starts_with("BkToCstmrStmt.Stmt[1].Ntry[0] "),
        "{rows:?}"
    );
    assert!(
        rows[1].contains("S1") && rows[1].contains(r#", "2","#),
        "{rows:?}"
    );
}

#[test]
fn a_value_after_the_entries_holds_the_rows_until_it_is_read() {
    let plan = camt_plan("s.AddtlStmtInf -> tail");
    let it = plan.iteration.as_ref().expect("iterates");
    assert!(
        it.levels[1].deferred,
        "the statement's tail follows its entries"
    );
    let rows = rows_of(&plan, STATEMENTS).expect("reads");
    assert_eq!(rows.len(), 3);
    assert!(rows[0].contains("after the entries"), "{rows:?}");
    assert!(rows[1].contains("after the entries"), "{rows:?}");
    assert!(!rows[2].contains("after the entries"), "{rows:?}");
}

#[test]
fn another_namespace_is_not_this_document() {
    let plan = camt_plan("");
    let v08 = STATEMENTS.replace("camt.053.001.02", "camt.053.001.08");
    let err = rows_of(&plan, &v08).expect_err("v08 is not v02");
    assert!(err.contains("camt.053.001.08"), "{err}");
    assert!(err.starts_with("line 2, column 1"), "{err}");
}

#[test]
fn a_soap_body_is_opened() {
    let plan = camt_plan("");
    let inner = STATEMENTS.trim_start_matches(r#"<?xml version="1.0"?>"#);
    for ns in [
        "http://schemas.xmlsoap.org/soap/envelope/",
        "http://www.w3.org/2003/05/soap-envelope",
    ] {
        let soap = format!(
            "<soap:Envelope xmlns:soap=\"{ns}\"><soap:Header><x>1</x></soap:Header>\
             <soap:Body>{inner}</soap:Body></soap:Envelope>"
        );
        assert_eq!(rows_of(&plan, &soap).expect("reads").len(), 3, "{ns}");
    }
}
