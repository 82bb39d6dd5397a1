//! Issue 16 items 1, 2, 3, 4 and 7: JSON Schema / OpenAPI composition
//! imported as the source describes it, or as an honest weaker type with a
//! warning; never a type that depends on the order things are written.
//! Fixtures: small hand-written schemas in `tests/data/jsonschema/`.

use tether::compile::{Compiled, compile_source};
use tether::diag::{Code, Severity};
use tether::schema::{Kind, Registry, TypeId};

mod common;
use common::{temp, tether};

const DATA: &str = "tests/data/jsonschema";

/// A file that imports `file` (of `tests/data/jsonschema/`) as `api`, with
/// `rest` after.
fn import(file: &str, rest: &str) -> Compiled {
    compile_source(
        "m.tether",
        &format!("import schema api from \"{DATA}/{file}\"\n{rest}"),
        None,
    )
}

fn registry(c: &Compiled) -> &Registry {
    &c.program.as_ref().expect("the file compiles").registry
}

fn warnings(c: &Compiled, code: Code) -> Vec<String> {
    c.diagnostics
        .iter()
        .filter(|d| d.code == code)
        .map(|d| d.message.clone())
        .collect()
}

fn errors(c: &Compiled) -> Vec<String> {
    c.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{} {}", d.code, d.message))
        .collect()
}

/// `name?: type` for each field of record `ty` of `api`, one a line.
fn fields(reg: &Registry, ty: &str) -> String {
    let Some(TypeId::Record(id)) = reg.lookup("api", ty) else {
        return format!("{ty}: not a record");
    };
    reg.record(id)
        .fields
        .iter()
        .map(|f| {
            let opt = if f.optional { "?" } else { "" };
            format!("{}{opt}: {}\n", f.name, reg.display(&f.ty))
        })
        .collect()
}

fn show(args: &[&str]) -> String {
    let mut all = vec!["schema", "show"];
    all.extend_from_slice(args);
    let (code, out, err) = tether(&all);
    assert_eq!(code, Some(0), "{err}");
    out
}

// ------------------------------------------------------------- item 1

#[test]
fn allof_is_composed_through_every_level_with_required_from_every_part() {
    let c = import("allof.yaml", "");
    let reg = registry(&c);
    // Full = allOf[Standard, {size}], Standard = allOf[Base, {name}]; the
    // part with `size` requires `name`, which another part defines.
    assert_eq!(
        fields(reg, "Full"),
        "id: int\nstatus?: string\nname: string\nsize: int\n"
    );
    assert_eq!(
        fields(reg, "Standard"),
        "id: int\nstatus?: string\nname?: string\n"
    );
}

#[test]
fn an_allof_cycle_ends_with_the_fields_of_both() {
    let c = import("allof.yaml", "");
    let reg = registry(&c);
    assert_eq!(fields(reg, "Ping"), "pong?: string\nping?: string\n");
    assert_eq!(fields(reg, "Pong"), "ping?: string\npong?: string\n");
}

#[test]
fn allof_parts_that_disagree_get_the_common_type_and_w0011() {
    let c = import("allof.yaml", "");
    let reg = registry(&c);
    // `id`: int in Base, string in the later part: nothing in common, not
    // "last wins" (which would be `string`). `status`: a string and an
    // enum of strings: a string.
    assert_eq!(fields(reg, "Clash"), "id: any\nstatus?: string\n");
    let w = warnings(&c, Code::W0011);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].contains("`id` is `int` in `Base`, `string` in part 2"),
        "{w:?}"
    );
    // At the later part (line 43 of the fixture), not at `Base`.
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code == Code::W0011)
        .expect("W0011");
    let text = std::fs::read_to_string(format!("{DATA}/allof.yaml")).expect("fixture");
    let line = text[..d.primary.span.start as usize].lines().count();
    assert_eq!(line, 43);
}

#[test]
fn swagger_2_allof_chains_and_x_nullable_references_import_the_same_way() {
    let c = import("swagger-allof.yaml", "");
    assert!(c.diagnostics.is_empty(), "{:?}", errors(&c));
    assert_eq!(
        fields(registry(&c), "File"),
        "id: string\nname?: string\nsize: int\nparent?: api.MaybeFolder?\n"
    );
}

// ------------------------------------------------------------- item 2

const ROW: &str = "schema out { record Row { author: string } }\n";

#[test]
fn nullability_of_a_referenced_component_flows_to_every_use() {
    let c = import("nullable-30.yaml", "");
    assert_eq!(
        fields(registry(&c), "Issue"),
        "id: int\nuser: api.nullable-simple-user?\nassignee: api.simple-user?\nclosed_by: api.simple-user\n"
    );
    let c = import("nullable-31.json", "");
    assert_eq!(
        fields(registry(&c), "Issue"),
        "user: api.maybe-user?\nmerged_by: api.simple-user?\nreviewer: api.simple-user?\nowner: api.simple-user\n"
    );
}

#[test]
fn a_path_through_a_nullable_reference_into_a_required_target_fails_check() {
    for (file, field) in [
        ("nullable-30.yaml", "user"),
        ("nullable-30.yaml", "assignee"),
        ("nullable-31.json", "user"),
        ("nullable-31.json", "merged_by"),
        ("nullable-31.json", "reviewer"),
    ] {
        let c = import(
            file,
            &format!("{ROW}mapping m: api.Issue -> out.Row {{\n  {field}.login -> author\n}}\n"),
        );
        let e = errors(&c);
        assert!(
            e.len() == 1 && e[0].starts_with("E0204"),
            "{file} {field}: {e:?}"
        );
    }
    // Through a reference that is not nullable, the same rule checks.
    for (file, field) in [
        ("nullable-30.yaml", "closed_by"),
        ("nullable-31.json", "owner"),
    ] {
        let c = import(
            file,
            &format!("{ROW}mapping m: api.Issue -> out.Row {{\n  {field}.login -> author\n}}\n"),
        );
        assert!(errors(&c).is_empty(), "{file} {field}: {:?}", errors(&c));
    }
}

/// The run-time null path: a record whose parent is null where the schema
/// says it is not (a provider that does not keep its word) is a reject
/// with the path, never a record written without its required target.
#[test]
fn a_null_parent_at_run_time_is_a_reject_never_a_record_without_the_target() {
    let schema = std::fs::canonicalize(format!("{DATA}/nullable-30.yaml")).expect("fixture");
    let mapping = temp(
        "jsonschema-composition",
        "null-path.tether",
        &format!(
            "import schema gh from {:?}\n{ROW}mapping closed: gh.Issue -> out.Row {{\n  closed_by.login -> author\n}}\n",
            schema.display().to_string()
        ),
    );
    let input = temp(
        "jsonschema-composition",
        "null-path.ndjson",
        "{\"id\":1,\"user\":null,\"assignee\":null,\"closed_by\":null}\n{\"id\":2,\"user\":null,\"assignee\":null,\"closed_by\":{\"login\":\"octo\"}}\n",
    );
    let rejects = temp("jsonschema-composition", "null-path.rejects", "");
    let (code, out, err) = tether(&[
        "run",
        &mapping,
        "--mapping",
        "closed",
        "--input",
        &input,
        "--rejects",
        &rejects,
    ]);
    assert_eq!(out, "{\"author\":\"octo\"}\n", "{err}");
    assert_ne!(code, Some(0));
    let rejected = std::fs::read_to_string(&rejects).expect("rejects");
    let lines: Vec<serde_json::Value> = rejected
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON reject"))
        .collect();
    assert_eq!(lines.len(), 1, "{rejected}");
    assert_eq!(lines[0]["errors"][0]["code"], "E1002");
    assert_eq!(lines[0]["errors"][0]["path"], "closed_by");
}

// ------------------------------------------------------------- item 3

#[test]
fn a_union_of_records_is_one_record_of_every_variants_fields() {
    let c = import("unions.json", "");
    let reg = registry(&c);
    // Both variants require `amount` and `kind`; the rest is in one only.
    // `kind` takes every variant's values; `fee` (int in Card, string in
    // Bank) is `any`, not the last variant's type.
    assert_eq!(
        fields(reg, "Payment"),
        "amount: int\nkind: api.Payment.kind\niban?: string\nfee?: any\nnumber?: string\n"
    );
    let Some(TypeId::Enum(e)) = reg.lookup("api", "Payment.kind") else {
        panic!("Payment.kind is an enum");
    };
    assert_eq!(reg.enum_def(e).values, ["bank", "card"]);
    // Inline object variants: `text` required by both, the others optional.
    let order = fields(reg, "Order");
    assert!(order.starts_with("ref: any\ntotal?: decimal\n"), "{order}");
    let Some(TypeId::Record(id)) = reg.lookup("api", "Order") else {
        panic!("Order is a record");
    };
    let note = &reg.record(id).field("note").expect("note").1.ty;
    let Kind::Record(note) = note.kind else {
        panic!("note is a record")
    };
    let note: Vec<(String, bool)> = reg
        .record(note)
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.optional))
        .collect();
    assert_eq!(
        note,
        [
            ("text".to_string(), false),
            ("html".to_string(), true),
            ("lang".to_string(), true)
        ]
    );
}

#[test]
fn what_a_union_loses_is_said_by_w0013() {
    let c = import("unions.json", "");
    let w = warnings(&c, Code::W0013);
    // `fee` in Payment and in Tagged, and one warning for the file's
    // unions that become `any` (`ref`: a string or an integer).
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(
        w.iter()
            .any(|m| m.contains("`fee` is `string` in variant `Bank`, `int` in variant `Card`")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|m| m.contains("a union of `int` or `string` is imported as `any`")),
        "{w:?}"
    );
    // `integer` or `number` is a decimal: nothing lost, nothing said.
    assert!(!w.iter().any(|m| m.contains("decimal")), "{w:?}");
}

/// Reverses (or rotates) every `oneOf`/`anyOf` of a document.
fn permute(v: &mut serde_json::Value, rotate: bool) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if (k == "oneOf" || k == "anyOf")
                    && let serde_json::Value::Array(a) = child
                {
                    if rotate {
                        a.rotate_left(1);
                    } else {
                        a.reverse();
                    }
                }
                permute(child, rotate);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|c| permute(c, rotate)),
        _ => {}
    }
}

#[test]
fn a_union_imports_the_same_whatever_the_order_of_its_variants() {
    let path = format!("{DATA}/unions.json");
    let text = std::fs::read_to_string(&path).expect("fixture");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let types = ["Payment", "Tagged", "Order", "Payment.kind", "Tagged.kind"];
    let original: Vec<String> = types.iter().map(|t| show(&[&path, t])).collect();
    for (i, rotate) in [false, true].into_iter().enumerate() {
        let mut permuted = doc.clone();
        permute(&mut permuted, rotate);
        assert_ne!(permuted, doc);
        let file = temp(
            "jsonschema-composition",
            &format!("unions-{i}.json"),
            &serde_json::to_string_pretty(&permuted).expect("JSON"),
        );
        for (t, before) in types.iter().zip(&original) {
            assert_eq!(&show(&[&file, t]), before, "{t} with variants permuted");
        }
    }
}

// ------------------------------------------------------------- item 4

#[test]
fn integer_enumerations_import_as_enums_of_int() {
    let c = import("int-enums.yaml", "");
    assert!(c.diagnostics.is_empty(), "{:?}", errors(&c));
    let reg = registry(&c);
    for (name, values) in [
        ("Level", vec!["1", "2", "3"]),
        ("Priority", vec!["10", "20", "30"]),
        ("Task.code", vec!["100", "200"]),
    ] {
        let Some(TypeId::Enum(e)) = reg.lookup("api", name) else {
            panic!("{name} is an enum");
        };
        assert!(reg.enum_def(e).ints, "{name}");
        assert_eq!(reg.enum_def(e).values, values, "{name}");
    }
    assert_eq!(
        fields(reg, "Task"),
        "level: api.Level\npriority: api.Priority\nseverity: api.Level\ncode: api.Task.code\n"
    );
    let Some(TypeId::Record(task)) = reg.lookup("api", "Task") else {
        panic!("Task is a record");
    };
    assert!(matches!(
        reg.record(task)
            .field("severity")
            .expect("severity")
            .1
            .ty
            .kind,
        Kind::IntEnum(_)
    ));
    let path = format!("{DATA}/int-enums.yaml");
    assert_eq!(
        show(&[&path, "Priority"]),
        "enum of int Priority { 10, 20, 30 }\n"
    );
    assert!(show(&[&path]).contains("enum of int Level (3 values)"));
}

const LEVEL_TABLE: &str = "schema out { record Row { label: string, level?: int } }\n";

#[test]
fn a_table_over_an_integer_enum_must_cover_every_value() {
    let partial = import(
        "int-enums.yaml",
        &format!(
            "{LEVEL_TABLE}table lv {{ 1 -> \"low\"  2 -> \"mid\" }}\nmapping m: api.Task -> out.Row {{\n  level -> label : lv\n}}\n"
        ),
    );
    let e = errors(&partial);
    assert!(
        e.len() == 1 && e[0].starts_with("E0207") && e[0].contains("missing 3"),
        "{e:?}"
    );
    let full = import(
        "int-enums.yaml",
        &format!(
            "{LEVEL_TABLE}table lv {{ 1 -> \"low\"  2 -> \"mid\"  3 -> \"high\" }}\nmapping m: api.Task -> out.Row {{\n  level -> label : lv\n  priority -> level\n}}\n"
        ),
    );
    assert!(errors(&full).is_empty(), "{:?}", errors(&full));
    // A key that is not a value never matches: W0007, as for strings.
    let dead = import(
        "int-enums.yaml",
        &format!(
            "{LEVEL_TABLE}table lv {{ 1 -> \"low\"  2 -> \"mid\"  3 -> \"high\"  7 -> \"?\" }}\nmapping m: api.Task -> out.Row {{\n  level -> label : lv\n}}\n"
        ),
    );
    assert_eq!(warnings(&dead, Code::W0007).len(), 1);
}

#[test]
fn a_table_into_an_integer_enum_gives_only_its_values() {
    let into = compile_source(
        "m.tether",
        &format!(
            "import schema api from \"{DATA}/int-enums.yaml\"\nschema src {{ record In {{ s: string, l: int, p: int, c: int }} }}\ntable to {{ \"a\" -> 1  \"b\" -> 4  else -> 2 }}\nmapping m: src.In -> api.Task {{\n  s -> level : to\n  s -> severity : to\n  l -> priority\n  c -> code\n}}\n"
        ),
        None,
    );
    let e = errors(&into);
    // `4` is not a Level (twice); an `int` of unknown value is not a
    // Priority or a code.
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(
        e.iter().filter(|m| m.starts_with("E0208")).count() == 2,
        "{e:?}"
    );
    assert!(
        e.iter().filter(|m| m.starts_with("E0201")).count() == 2,
        "{e:?}"
    );
}

#[test]
fn a_value_outside_an_integer_enum_is_rejected_when_read() {
    let schema = std::fs::canonicalize(format!("{DATA}/int-enums.yaml")).expect("fixture");
    let mapping = temp(
        "jsonschema-composition",
        "int-enum.tether",
        &format!(
            "import schema api from {:?}\nschema out {{ record Row {{ level: int }} }}\nmapping m: api.Task -> out.Row {{\n  level -> level\n}}\n",
            schema.display().to_string()
        ),
    );
    let input = temp(
        "jsonschema-composition",
        "int-enum.ndjson",
        "{\"level\":2,\"priority\":10,\"severity\":1,\"code\":100}\n{\"level\":5,\"priority\":10,\"severity\":1,\"code\":100}\n",
    );
    let rejects = temp("jsonschema-composition", "int-enum.rejects", "");
    let (code, out, err) = tether(&[
        "run",
        &mapping,
        "--mapping",
        "m",
        "--input",
        &input,
        "--rejects",
        &rejects,
    ]);
    assert_eq!(out, "{\"level\":2}\n", "{err}");
    assert_ne!(code, Some(0));
    let rejected = std::fs::read_to_string(&rejects).expect("rejects");
    assert!(
        rejected.contains("\"path\":\"level\"")
            && rejected.contains("5 is not one of the schema's values (1, 2, 3)"),
        "{rejected}"
    );
}

// ------------------------------------------------------------- item 7

#[test]
fn a_duplicated_enum_value_is_kept_once_with_w0012_and_the_import_goes_on() {
    let c = import("duplicate-enum.yaml", "");
    assert!(errors(&c).is_empty(), "{:?}", errors(&c));
    let w: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::W0012)
        .collect();
    assert_eq!(w.len(), 2);
    let text = std::fs::read_to_string(format!("{DATA}/duplicate-enum.yaml")).expect("fixture");
    let at = |i: usize| {
        let s = w[i].primary.span.start as usize;
        (
            text[..s].lines().count(),
            &text[s..w[i].primary.span.end as usize],
        )
    };
    // The second `active` (line 16) and the second `2` (line 18).
    assert_eq!(at(0), (16, "active"));
    assert_eq!(at(1), (18, "2"));
    let reg = registry(&c);
    let Some(TypeId::Enum(e)) = reg.lookup("api", "Account.status") else {
        panic!("an enum");
    };
    assert_eq!(reg.enum_def(e).values, ["active", "pending", "closed"]);
}
