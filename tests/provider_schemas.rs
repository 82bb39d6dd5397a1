//! Mappings checked against real provider contracts (issue 4): the Stripe
//! OpenAPI spec imported as JSON, schema drift with `--schema`, and the
//! importer on broken schemas.

use tether::compile::compile_source;
use tether::schema::{Kind, Registry, TypeId};

const STRIPE: &str = "tests/data/stripe/openapi.extract.2023-08-16.json";

mod common;

fn tether(args: &[&str]) -> (Option<i32>, String, String) {
    common::tether(args)
}

fn temp(name: &str, text: &str) -> String {
    common::temp("provider", name, text)
}

fn stripe_path() -> String {
    std::fs::canonicalize(STRIPE)
        .expect("the Stripe spec in tests/data")
        .display()
        .to_string()
}

/// A type as the checker sees it, one field a line.
fn listing(reg: &Registry, ns: &str, name: &str) -> String {
    let Some(TypeId::Record(id)) = reg.lookup(ns, name) else {
        return format!("{ns}.{name}: not a record");
    };
    let rec = reg.record(id);
    let mut out = format!("record {}\n", rec.name);
    for f in &rec.fields {
        let shown = match &f.ty.kind {
            Kind::Enum(e) => format!(
                "{} {{ {} }}",
                reg.display(&f.ty),
                reg.enum_def(*e).values.join(", ")
            ),
            _ => reg.display(&f.ty),
        };
        out.push_str(&format!(
            "  {}{}: {shown}\n",
            f.name,
            if f.optional { "?" } else { "" }
        ));
    }
    out
}

#[test]
fn the_stripe_charge_type_imports_as_the_checker_sees_it() {
    let src = format!(
        "import schema stripe from \"{}\"\nschema l {{ record E {{ id: string }} }}\nmapping m: stripe.charge -> l.E {{ id -> id }}",
        stripe_path()
    );
    let c = compile_source("m.tether", &src, None);
    only_the_union_warning(&c);
    let program = c.program.expect("compiles");
    insta::assert_snapshot!(listing(&program.registry, "stripe", "charge"));
}

#[test]
fn the_stripe_contract_mapping_checks_clean_against_the_real_spec() {
    let (code, _, stderr) = tether(&[
        "check",
        "mappings/stripe/charge_to_ledger.tether",
        "--schema",
        &format!("stripe={}", stripe_path()),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_field_the_provider_removed_is_reported_as_drift_at_the_rule() {
    // The newest spec, with `amount_refunded` renamed.
    let spec = std::fs::read_to_string(STRIPE).expect("spec");
    let mut v: serde_json::Value = serde_json::from_str(&spec).expect("JSON");
    let props = v["components"]["schemas"]["charge"]["properties"]
        .as_object_mut()
        .expect("charge properties");
    let moved = props.remove("amount_refunded").expect("the field");
    props.insert("amount_refunded_total".into(), moved);
    let newer = temp(
        "stripe-newer.json",
        &serde_json::to_string_pretty(&v).unwrap(),
    );
    let (code, stdout, _) = tether(&[
        "check",
        "--format",
        "json",
        "mappings/stripe/charge_to_ledger.tether",
        "--schema",
        &format!("stripe={newer}"),
    ]);
    assert_eq!(code, Some(1));
    let d: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .find(|l| l.contains("E0103"))
            .expect("an unknown-field error"),
    )
    .expect("JSON");
    assert!(
        d["file"]
            .as_str()
            .unwrap()
            .ends_with("charge_to_ledger.tether")
    );
    assert!(
        d["message"].as_str().unwrap().contains("amount_refunded"),
        "{d}"
    );
    let mapping = std::fs::read_to_string("mappings/stripe/charge_to_ledger.tether").unwrap();
    let line = mapping
        .lines()
        .position(|l| l.trim_start().starts_with("amount_refunded ->"))
        .unwrap()
        + 1;
    assert_eq!(d["line"].as_u64(), Some(line as u64));
}

#[test]
fn a_status_table_that_forgets_pending_fails_with_the_value_named() {
    let src = format!(
        "import schema stripe from \"{}\"\nschema l {{ record E {{ st: string }} }}\ntable st {{ \"succeeded\" -> \"posted\"  \"failed\" -> \"failed\" }}\nmapping m: stripe.charge -> l.E {{ status -> st : st }}",
        stripe_path()
    );
    let c = compile_source("m.tether", &src, None);
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "E0207")
        .expect("E0207");
    assert!(d.message.contains("\"pending\""), "{}", d.message);
}

#[test]
fn broken_schemas_are_diagnosed_not_hung_or_panicked() {
    // A dangling reference degrades to `any` with a warning naming it; a
    // record that refers to itself is recursion, not a hang.
    let schema = temp(
        "broken.json",
        r##"{
  "$defs": {
    "node": { "type": "object", "properties": {
      "next": { "$ref": "#/$defs/node" },
      "owner": { "$ref": "#/$defs/nobody" }
    }, "required": ["next"] }
  },
  "type": "object",
  "properties": { "root": { "$ref": "#/$defs/node" } }
}"##,
    );
    let src = format!(
        "import schema s from \"{schema}\"\nschema l {{ record E {{ x?: any? }} }}\nmapping m: s.node -> l.E {{ next.next.owner -> x }}"
    );
    let c = compile_source("m.tether", &src, None);
    let w: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == "W0004")
        .collect();
    assert_eq!(
        w.len(),
        1,
        "{:?}",
        c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
    assert!(w[0].message.contains("nobody"));
    assert!(!c.has_errors());

    // Not JSON at all: E0004 pointing at the fault.
    let bad = temp(
        "bad.json",
        "{\n  \"$defs\": {\n    \"a\": { \"type\": \"object\" \n}\n",
    );
    let c = compile_source("m.tether", &format!("import schema s from \"{bad}\""), None);
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "E0004")
        .expect("E0004");
    assert!(d.message.contains("not valid JSON"), "{}", d.message);
}

const STRIPE_YAML: &str = "tests/data/stripe/spec3.2023-08-16.full.yaml";

/// Stripe's expandable fields (`anyOf: [string, $ref customer]`, an id or
/// the object) are unions imported as `any`: one W0013 for the whole file
/// (issue 16 item 3), and nothing else.
fn only_the_union_warning(c: &tether::compile::Compiled) {
    let found: Vec<(&str, &str)> = c
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.message.as_str()))
        .collect();
    assert!(
        found.len() == 1 && found[0].0 == "W0013" && found[0].1.contains("`string`"),
        "{found:?}"
    );
}

#[test]
fn the_whole_stripe_yaml_spec_imports_with_only_the_union_warning() {
    let path = std::fs::canonicalize(STRIPE_YAML).expect("the Stripe YAML in tests/data");
    let text = format!(
        "import schema stripe from {:?}\n",
        path.display().to_string()
    );
    let c = compile_source("import.tether", &text, None);
    only_the_union_warning(&c);
    let reg = &c.program.expect("imports").registry;
    // Every one of the 819 component schemas that is a record or an enum.
    assert!(reg.namespaces["stripe"].types.len() > 800);
    // The YAML and the JSON extract describe `charge` identically.
    let json = format!("import schema stripe from {:?}\n", stripe_path());
    let from_json = compile_source("import.tether", &json, None);
    let json_reg = &from_json.program.expect("imports").registry;
    assert_eq!(
        listing(reg, "stripe", "charge"),
        listing(json_reg, "stripe", "charge")
    );
}

#[test]
fn the_stripe_contract_mapping_checks_clean_against_the_yaml_spec() {
    let (code, _, stderr) = tether(&[
        "check",
        "--schema",
        &format!("stripe={STRIPE_YAML}"),
        "mappings/stripe/charge_to_ledger.tether",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("0 errors, 1 warning"), "{stderr}");
    assert!(stderr.contains("W0013"), "{stderr}");
}

/// `tests/fixtures/jsonschema/`, absolute (imports resolve against the
/// mapping's folder, and these mappings are compiled from text).
fn fixture(name: &str) -> String {
    std::fs::canonicalize(format!("tests/fixtures/jsonschema/{name}"))
        .expect("fixture")
        .display()
        .to_string()
}

fn messages(c: &tether::compile::Compiled) -> Vec<String> {
    c.diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code.as_str(), d.message))
        .collect()
}

#[test]
fn references_to_other_files_import_their_types() {
    // customer.json → common/address.json (a named schema, an alias, a
    // JSON pointer into a property) and common/contact.json (a whole
    // file), which refer to each other; a missing file is one warning.
    let src = format!(
        "import schema c from \"{}\"\n\
         schema l {{ record E {{ street: string, country?: string, owner?: string }} }}\n\
         mapping m: c.Customer -> l.E {{\n\
           billing.street -> street\n\
           country -> country\n\
           billing.owner.home.street -> owner\n\
         }}",
        fixture("customer.json")
    );
    let c = compile_source("m.tether", &src, None);
    let program = c
        .program
        .as_ref()
        .unwrap_or_else(|| panic!("{:?}", messages(&c)));
    let listed = ["Customer", "address_Address", "Contact", "Address"]
        .map(|t| listing(&program.registry, "c", t))
        .join("");
    insta::assert_snapshot!(listed);
    let warnings = messages(&c);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("W0004")
            && warnings[0].contains("common/nowhere.json")
            && warnings[0].contains("cannot be read"),
        "{warnings:?}"
    );
}

#[test]
fn a_misspelled_field_of_a_type_from_another_file_gets_a_suggestion() {
    let src = format!(
        "import schema c from \"{}\"\n\
         schema l {{ record E {{ s: string }} }}\n\
         mapping m: c.Customer -> l.E {{ billing.stret -> s }}",
        fixture("customer.json")
    );
    let c = compile_source("m.tether", &src, None);
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "E0103")
        .unwrap_or_else(|| panic!("E0103: {:?}", messages(&c)));
    assert!(d.message.contains("stret"), "{}", d.message);
    let text = format!("{d:?}");
    assert!(text.contains("street"), "suggests `street`: {text}");
}

#[test]
fn a_discriminated_union_is_a_record_of_every_variant_with_the_tag_as_an_enum() {
    let src = format!(
        "import schema p from \"{}\"\n\
         schema l {{ record E {{ kind: string, bark?: string }} }}\n\
         table kind {{ \"cat\" -> \"feline\" }}\n\
         mapping m: p.Pet -> l.E {{ pet_type -> kind : kind\n bark -> bark }}",
        fixture("pets.yaml")
    );
    let c = compile_source("m.tether", &src, None);
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "E0207")
        .unwrap_or_else(|| panic!("E0207: {:?}", messages(&c)));
    assert!(d.message.contains("\"dog\""), "{}", d.message);

    let clean = src.replace(
        "\"cat\" -> \"feline\"",
        "\"cat\" -> \"feline\"  \"dog\" -> \"canine\"",
    );
    let c = compile_source("m.tether", &clean, None);
    let program = c
        .program
        .as_ref()
        .unwrap_or_else(|| panic!("{:?}", messages(&c)));
    assert!(c.diagnostics.is_empty(), "{:?}", messages(&c));
    insta::assert_snapshot!(
        ["Pet", "Owner"]
            .map(|t| listing(&program.registry, "p", t))
            .join("")
    );
}
