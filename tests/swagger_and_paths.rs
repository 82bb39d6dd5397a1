//! Issue 16 item 6: schemas that used to import as nothing. Swagger 2.0
//! documents (`definitions`, `x-nullable`, body parameters, response
//! schemas), OpenAPI 3 specs whose types are reachable only from `paths`
//! (bodies named by operation and status), and a document with nothing to
//! import, which is an error rather than an empty success.

use tether::compile::{Compiled, compile_source};
use tether::diag::{Code, Severity};
use tether::schema::{Kind, Registry, TypeId};

mod common;

const ESIGN: &str = "tests/data/swagger/esign.swagger.yaml";
const CHAT: &str = "tests/data/swagger/chat.swagger.json";
const PATHS_ONLY: &str = "tests/data/swagger/paths-only/openapi.yaml";
const SPLIT_SWAGGER: &str = "tests/data/swagger/split-swagger/swagger.yaml";
const EMPTY: &str = "tests/data/swagger/empty.openapi.yaml";
const SWAGGER_1: &str = "tests/data/swagger/swagger-1.2.json";

/// A file that imports `path` as `api` (paths relative to the crate, so
/// rendered diagnostics are the same on every machine), with `rest` after.
fn import(path: &str, rest: &str) -> Compiled {
    compile_source(
        "m.tether",
        &format!("import schema api from \"{path}\"\n{rest}"),
        None,
    )
}

fn codes(c: &Compiled) -> Vec<Code> {
    c.diagnostics.iter().map(|d| d.code).collect()
}

fn errors(c: &Compiled) -> Vec<String> {
    c.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.message.clone())
        .collect()
}

fn registry(c: &Compiled) -> &Registry {
    &c.program.as_ref().expect("the file compiles").registry
}

/// The types of `api` in order, then each listed type as the checker sees
/// it, one field a line.
fn listing(reg: &Registry, names: &[&str]) -> String {
    let mut out = String::new();
    if let Some(ns) = reg.namespaces.get("api") {
        out.push_str(&format!("types: {}\n", ns.order.join(", ")));
    }
    for name in names {
        let Some(TypeId::Record(id)) = reg.lookup("api", name) else {
            out.push_str(&format!("{name}: not a record\n"));
            continue;
        };
        let rec = reg.record(id);
        out.push_str(&format!("record {}\n", rec.name));
        for f in &rec.fields {
            let shown = match &f.ty.kind {
                Kind::Enum(e) => format!(
                    "{} {{ {} }}",
                    reg.display(&f.ty),
                    reg.enum_def(*e).values.join(", ")
                ),
                _ => reg.display(&f.ty),
            };
            let opt = if f.optional { "?" } else { "" };
            out.push_str(&format!("  {}{opt}: {shown}\n", f.name));
        }
    }
    out
}

fn field_type(reg: &Registry, ty: &str, field: &str) -> String {
    match reg.lookup("api", ty) {
        Some(TypeId::Record(id)) => reg
            .record(id)
            .field(field)
            .map_or_else(|| "no such field".into(), |(_, f)| reg.display(&f.ty)),
        _ => format!("no record {ty}"),
    }
}

// ------------------------------------------------------------ Swagger 2.0

#[test]
fn a_swagger_2_yaml_spec_imports_its_definitions_and_body_types() {
    let c = import(ESIGN, "");
    assert!(errors(&c).is_empty(), "{:?}", errors(&c));
    let reg = registry(&c);
    // `x-nullable` is nullable, on a property and next to a format.
    assert_eq!(
        field_type(reg, "envelopeSummary", "voidedReason"),
        "string?"
    );
    assert_eq!(field_type(reg, "signer", "signedDateTime"), "datetime?");
    assert_eq!(field_type(reg, "signer", "email"), "string");
    // `$ref: '#/definitions/signer'` inside an inline response schema.
    assert_eq!(
        field_type(reg, "Recipients_GetRecipients_200", "signers"),
        "[api.signer]"
    );
    // The body parameter and the 201/400 responses `$ref` named
    // definitions (one through `#/parameters`, one through `#/responses`):
    // those keep their names, and no copy is made under the operation's.
    assert!(
        reg.lookup("api", "Envelopes_PostEnvelopes_request")
            .is_none()
    );
    assert!(reg.lookup("api", "Envelopes_PostEnvelopes_201").is_none());
    insta::assert_snapshot!(listing(
        reg,
        &[
            "envelopeDefinition",
            "envelopeSummary",
            "Recipients_GetRecipients_200",
            "delete_v2_1_accounts_accountId_envelopes_envelopeId_lock_200",
        ]
    ));
}

#[test]
fn a_swagger_2_json_spec_with_inline_responses_and_a_dotted_operation_id() {
    let c = import(CHAT, "");
    assert!(c.diagnostics.is_empty(), "{:?}", errors(&c));
    let reg = registry(&c);
    // `x-nullable` beside a `$ref` makes that use nullable.
    assert_eq!(
        field_type(reg, "objs_message", "bot_profile"),
        "api.objs_bot_profile?"
    );
    assert_eq!(
        field_type(reg, "chat_postMessage_200", "message"),
        "api.objs_message"
    );
    // A named scalar is inlined where it is used.
    assert_eq!(field_type(reg, "chat_postMessage_200", "channel"), "string");
    // `formData` parameters are the request's form body.
    assert_eq!(
        field_type(reg, "chat_postMessage_request", "channel"),
        "string"
    );
    insta::assert_snapshot!(listing(
        reg,
        &[
            "chat_postMessage_request",
            "chat_postMessage_200",
            "chat_postMessage_default",
            "objs_message"
        ]
    ));
}

#[test]
fn a_mapping_reads_a_swagger_response_type_and_its_nullable_fields_are_checked() {
    // `voidedReason` is `x-nullable`: into a required string it must say
    // what to do with null.
    let rest = "schema l { record E { Id: string, Reason: string } }\n\
                mapping m: api.envelopeSummary -> l.E {\n  envelopeId -> Id\n  voidedReason -> Reason\n}";
    let c = import(ESIGN, rest);
    assert!(
        codes(&c).contains(&Code::E0204),
        "a nullable source into a required target: {:?}",
        errors(&c)
    );
    let fixed = rest.replace(
        "voidedReason -> Reason",
        "voidedReason -> Reason : default(\"\")",
    );
    let c = import(ESIGN, &fixed);
    assert!(errors(&c).is_empty(), "{:?}", errors(&c));
}

#[test]
fn a_swagger_2_spec_split_by_path_reads_the_operations_in_other_files() {
    let c = import(SPLIT_SWAGGER, "");
    assert!(c.diagnostics.is_empty(), "{:?}", errors(&c));
    let reg = registry(&c);
    // The path file's response schema (Swagger form) and its body
    // parameter, with `$ref`s back into the root document.
    assert_eq!(field_type(reg, "listPets_200", "pets"), "[api.Pet]");
    assert_eq!(field_type(reg, "listPets_200", "next"), "string?");
    assert_eq!(field_type(reg, "createPet_request", "name"), "string");
    assert_eq!(field_type(reg, "Pet", "tag"), "string?");
    assert_eq!(
        reg.namespaces.get("api").map(|n| n.order.clone()),
        Some(vec![
            "Pet".to_string(),
            "listPets_200".to_string(),
            "createPet_request".to_string()
        ])
    );
}

/// Every type of `api`, in order, as `listing` shows it.
fn all_types(reg: &Registry) -> String {
    let names = reg
        .namespaces
        .get("api")
        .map(|n| n.order.clone())
        .unwrap_or_default();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    listing(reg, &names)
}

#[test]
fn one_api_as_swagger_2_and_as_openapi_3_imports_as_the_same_types() {
    // Swagger is converted and then imported by the one importer: the two
    // spellings of one API cannot drift apart.
    let swagger = import("tests/data/swagger/pets.swagger.yaml", "");
    let openapi = import("tests/data/swagger/pets.openapi.yaml", "");
    assert!(swagger.diagnostics.is_empty(), "{:?}", errors(&swagger));
    assert!(openapi.diagnostics.is_empty(), "{:?}", errors(&openapi));
    let (s, o) = (all_types(registry(&swagger)), all_types(registry(&openapi)));
    assert_eq!(s, o);
    // And they are the types the API describes.
    let reg = registry(&swagger);
    assert_eq!(field_type(reg, "Pet", "born"), "date?");
    assert_eq!(field_type(reg, "listPets_200_item", "owner"), "api.Owner?");
    assert_eq!(field_type(reg, "createPet_default", "message"), "string?");
    assert_eq!(
        field_type(reg, "createPet_request", "kind"),
        "api.createPet_request.kind"
    );
}

// --------------------------------------------------- types only under paths

#[test]
fn a_paths_only_spec_names_its_bodies_by_operation_and_status() {
    let c = import(PATHS_ONLY, "");
    assert!(errors(&c).is_empty(), "{:?}", errors(&c));
    let reg = registry(&c);
    // A body that `$ref`s another file is declared under the operation's
    // name; that file's own `$ref`s resolve from its folder.
    assert_eq!(
        field_type(reg, "createCustomer_201", "address"),
        "api.Address"
    );
    assert_eq!(field_type(reg, "createCustomer_request", "email"), "string");
    // `application/problem+json` is JSON too.
    assert_eq!(field_type(reg, "createCustomer_400", "detail"), "string?");
    // Without an operationId: from method and path, with a warning.
    assert_eq!(
        field_type(reg, "get_customers_200", "data"),
        "[api.Customer]"
    );
    assert_eq!(codes(&c), [Code::W0015]);
    // A path item in its own file: its bodies' `$ref`s resolve from that
    // file's folder, a response `$ref`s a third file.
    assert_eq!(field_type(reg, "getCustomer_200", "address"), "api.Address");
    assert_eq!(field_type(reg, "getCustomer_404", "code"), "string");
    insta::assert_snapshot!(listing(
        reg,
        &[
            "createCustomer_request",
            "createCustomer_201",
            "createCustomer_400",
            "get_customers_200",
            "getCustomer_404",
            "Address",
        ]
    ));
}

#[test]
fn a_mapping_on_a_path_only_type_is_checked_against_it() {
    let rest = "schema l { record E { Email: string, Country: string } }\n\
                mapping m: api.createCustomer_201 -> l.E {\n  email -> Email\n  address.country -> Country\n}";
    let c = import(PATHS_ONLY, rest);
    assert!(errors(&c).is_empty(), "{:?}", errors(&c));
    let typo = rest.replace("address.country", "address.countri");
    let c = import(PATHS_ONLY, &typo);
    assert!(codes(&c).contains(&Code::E0103), "{:?}", errors(&c));
}

#[test]
fn refs_under_paths_to_missing_files_are_warnings_not_silent_gaps() {
    let spec = "openapi: 3.0.3\npaths:\n  /a:\n    $ref: paths/missing.yaml\n  /c:\n    post:\n      operationId: postC\n      requestBody:\n        content:\n          application/json:\n            schema:\n              $ref: schemas/gone.json\n  /b:\n    get:\n      operationId: getB\n      responses:\n        \"200\":\n          content:\n            application/json:\n              schema:\n                type: object\n                properties:\n                  id:\n                    type: string\n";
    let path = common::temp("swagger", "missing-path-item.yaml", spec);
    let c = import(&path, "");
    assert!(errors(&c).is_empty(), "{:?}", errors(&c));
    let w: Vec<&str> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::W0004)
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        matches!(w.as_slice(), [a, c] if a.contains("paths/missing.yaml") && c.contains("schemas/gone.json")),
        "{w:?}"
    );
    assert!(registry(&c).lookup("api", "getB_200").is_some());
}

// ------------------------------------------------------ nothing to import

#[test]
fn e0005_a_document_without_types_is_an_error_not_an_empty_success() {
    // (The rendered error is a snapshot in tests/diagnostics.rs.)
    let c = import(EMPTY, "");
    assert_eq!(codes(&c), [Code::E0005]);
    assert!(
        errors(&c)[0].starts_with("`empty.openapi.yaml` declares no types"),
        "{:?}",
        errors(&c)
    );
}

#[test]
fn schema_show_on_a_document_without_types_fails() {
    let (code, stdout, stderr) = common::tether(&["schema", "show", EMPTY]);
    assert_ne!(code, Some(0), "{stdout}");
    assert!(stderr.contains("E0005"), "{stderr}");
    assert!(
        stderr.contains("no definitions, no components.schemas, no schemas under paths"),
        "{stderr}"
    );
}

#[test]
fn e0006_a_swagger_1_document_is_refused() {
    let c = import(SWAGGER_1, "");
    assert_eq!(codes(&c), [Code::E0006]);
    assert!(errors(&c)[0].contains("Swagger 1.2"), "{:?}", errors(&c));
}

#[test]
fn w0015_names_from_method_and_path_are_announced_once() {
    let c = import(PATHS_ONLY, "");
    let w: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::W0015)
        .collect();
    assert_eq!(w.len(), 1);
    // It names a type that was declared, and points at the operation.
    assert!(
        w[0].message.contains("(`get_customers_200`)"),
        "{}",
        w[0].message
    );
    assert!(registry(&c).lookup("api", "get_customers_200").is_some());
    let text = c.sources.text(w[0].primary.file);
    assert!(text[w[0].primary.span.start as usize..].starts_with("get:"));
}

#[test]
fn schema_show_lists_swagger_and_path_types() {
    let (code, stdout, stderr) = common::tether(&["schema", "show", CHAT]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("record chat_postMessage_200 (4 fields)"),
        "{stdout}"
    );
    let (code, stdout, stderr) =
        common::tether(&["schema", "show", PATHS_ONLY, "createCustomer_201"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("address: Address"), "{stdout}");
}
