//! `tether test` on one-to-many mappings (issue 15): one `given`, one
//! `expect` per produced record, compared in order, every rule checked.

mod common;

use common::{temp, tether};

const ORDER_ROWS: &str = r#"
schema shop {
  record Order { number: string, lines: [Line] }
  record Line { sku: string, qty: int }
}
schema erp {
  record Row { OrderRef: string, LineNo: int, Sku: string, Qty: int }
}
mapping order_rows: shop.Order -> erp.Row {
  for l at i in lines[]
  number -> OrderRef
  i      -> LineNo
  l.sku  -> Sku : upper
  l.qty  -> Qty
}
"#;

const GIVEN: &str =
    r#"given shop { number: "A1", lines: [ { sku: "ab", qty: 2 }, { sku: "cd", qty: 3 } ] }"#;

/// Runs `tether test` on the mapping with `tests` appended: (exit code, stdout).
fn run(name: &str, tests: &str) -> (Option<i32>, String) {
    let path = temp("test_blocks", name, &format!("{ORDER_ROWS}{tests}"));
    let (code, out, err) = tether(&["test", &path]);
    (code, format!("{out}{err}"))
}

#[test]
fn every_record_of_a_for_mapping_is_compared_in_order() {
    let (code, out) = run(
        "in_order.tether",
        &format!(
            r#"test order_rows "two lines, two rows" {{
  {GIVEN}
  expect erp {{ OrderRef: "A1", LineNo: 1, Sku: "AB", Qty: 2 }}
  expect erp {{ OrderRef: "A1", LineNo: 2, Sku: "CD", Qty: 3 }}
}}"#
        ),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("ok   order_rows :: two lines, two rows"),
        "{out}"
    );
}

#[test]
fn a_wrong_value_from_a_binding_fails_with_that_records_diff() {
    let (code, out) = run(
        "binding.tether",
        &format!(
            r#"test order_rows "second sku" {{
  {GIVEN}
  expect erp {{ OrderRef: "A1", LineNo: 1, Sku: "AB", Qty: 2 }}
  expect erp {{ OrderRef: "A1", LineNo: 2, Sku: "XX", Qty: 3 }}
}}"#
        ),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL order_rows :: second sku"), "{out}");
    assert!(out.contains("record 2 of 2"), "{out}");
    assert!(!out.contains("record 1 of 2"), "{out}");
    assert!(
        out.contains("-  \"Sku\": \"XX\"") && out.contains("+  \"Sku\": \"CD\""),
        "{out}"
    );
}

#[test]
fn a_count_that_differs_is_reported_with_a_diff_of_each_record() {
    let (code, out) = run(
        "count.tether",
        &format!(
            r#"test order_rows "three rows" {{
  {GIVEN}
  expect erp {{ OrderRef: "A1", LineNo: 1, Sku: "AB", Qty: 2 }}
  expect erp {{ OrderRef: "A1", LineNo: 2, Sku: "CD", Qty: 4 }}
  expect erp {{ OrderRef: "A1", LineNo: 3, Sku: "EF", Qty: 1 }}
}}"#
        ),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("expected 3 records, the mapping produced 2"),
        "{out}"
    );
    assert!(
        out.contains("-  \"Qty\": 4") && out.contains("+  \"Qty\": 3"),
        "{out}"
    );
    assert!(
        out.contains("record 3 of 3: expected, but not produced"),
        "{out}"
    );
    assert!(out.contains("\"Sku\": \"EF\""), "{out}");
}

#[test]
fn one_row_can_be_expected_as_rejected_among_mapped_ones() {
    let (code, out) = run(
        "reject.tether",
        r#"test order_rows "a bad quantity rejects its row only" {
  given shop { number: "A1", lines: [ { sku: "ab", qty: 2 }, { sku: "cd", qty: 1.5 } ] }
  expect erp { OrderRef: "A1", LineNo: 1, Sku: "AB", Qty: 2 }
  expect reject { code: "E1002", path: "lines[1].qty" }
}"#,
    );
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_single_expect_on_a_for_mapping_compares_every_rule() {
    // Before: only the rules that use no binding were compared, so this
    // passed with one record of two and a wrong `Sku`.
    let (code, out) = run(
        "single.tether",
        &format!(
            r#"test order_rows "one expect" {{
  {GIVEN}
  expect erp {{ OrderRef: "A1" }}
}}"#
        ),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("expected 1 record, the mapping produced 2"),
        "{out}"
    );
}
