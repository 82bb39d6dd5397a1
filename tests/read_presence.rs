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
