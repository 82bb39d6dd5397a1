//! The request and response bodies of an OpenAPI 3 document's `paths`
//! (Swagger 2.0 documents arrive here converted, see [`super::swagger2`]),
//! named after their operation, for specs whose types are reachable only
//! from `paths`: bodies written inline or as `$ref`s to other files, with
//! no `components.schemas`.
//!
//! Naming: `<operationId>_request` for the request body and
//! `<operationId>_<status>` for each response (`createCustomer_201`,
//! `createCustomer_default`); a body that is an array of records names its
//! element `..._item`. An operation without an `operationId` is named from
//! its method and path (`post /customers/{id}` → `post_customers_id`), which
//! is stable but changes when the path does: a warning (W0015) says so.
//! A body that `$ref`s a named schema adds no type: the schema keeps its
//! own name (the importer decides that when it resolves the `$ref`).

use super::swagger2::METHODS;
use crate::base::Span;
use crate::diag::{Code, Diagnostic, FileId};
use serde_json::Value;
use std::collections::HashSet;

/// Follows a `$ref` written in document `doc` (the importing file is 0):
/// the importer knows the other files. `None` when it points at nothing
/// (the resolver says so, at `at`).
pub trait Resolve<'v> {
    fn resolve_ref(&mut self, doc: usize, r: &str, at: usize) -> Option<(usize, &'v Value)>;
}

/// One body schema to declare as a type.
pub struct Body<'v> {
    /// The type name, unique among the document's names.
    pub name: String,
    /// The document the schema is in (its `$ref`s resolve from there).
    pub doc: usize,
    pub schema: &'v Value,
    /// Where its operation is in the importing file's text.
    pub at: usize,
}

/// Every body of `root`'s operations, in document order, named; `taken`
/// holds the names already in use (the named schemas) and receives the new
/// ones. `find_key(from, key)` locates a key in the importing file's text.
/// Also: for each operation without an `operationId` that has a body, its
/// first body's type name and where the operation is.
pub fn bodies<'v>(
    root: &'v Value,
    res: &mut dyn Resolve<'v>,
    taken: &mut HashSet<String>,
    find_key: &dyn Fn(usize, &str) -> usize,
) -> (Vec<Body<'v>>, Vec<(String, usize)>) {
    let mut out = Vec::new();
    // Operations named from method and path: (a type name, where).
    let mut derived = Vec::new();
    // OpenAPI 3.1 `webhooks` are operations the provider calls: their
    // bodies are types just as well (a spec may have nothing else).
    let sections = ["paths", "webhooks"]
        .into_iter()
        .filter_map(|k| Some((k, root.get(k)?.as_object()?)));
    // Keys are read in document order (serde_json keeps it), so each path
    // is searched for after the one before: one pass over the text, not
    // one per path.
    let items = sections.flat_map(|(k, items)| {
        let section_at = find_key(0, k);
        items.iter().map(move |(p, item)| (section_at, p, item))
    });
    let (mut section, mut path_at) = (None, 0);
    for (section_at, path, item) in items {
        if section != Some(section_at) {
            (section, path_at) = (Some(section_at), section_at);
        }
        path_at = find_key(path_at, path);
        path_at = find_key(path_at, path);
        // A path item may be a `$ref` to another file (specs split by
        // path); positions inside it are shown at the path's key.
        let (doc, item) = follow(res, 0, item, path_at);
        let Value::Object(item) = item else { continue };
        let here = |from: usize, key: &str| if doc == 0 { find_key(from, key) } else { from };
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let op_at = here(path_at, method);
            let own = op
                .get("operationId")
                .and_then(Value::as_str)
                .map(ident)
                .filter(|id| !id.is_empty());
            let named = own.is_some();
            let base = own.unwrap_or_else(|| ident(&format!("{method}_{path}")));
            let before = out.len();
            if let Some(rb) = op.get("requestBody") {
                let at = here(op_at, "requestBody");
                let (doc, rb) = follow(res, doc, rb, at);
                if let Some(schema) = media_schema(rb) {
                    let name = format!("{base}_request");
                    push(&mut out, taken, name, (doc, schema), at);
                }
            }
            if let Some(Value::Object(responses)) = op.get("responses") {
                let responses_at = here(op_at, "responses");
                for (status, resp) in responses {
                    let at = here(responses_at, status);
                    let (doc, resp) = follow(res, doc, resp, at);
                    if let Some(schema) = media_schema(resp) {
                        let name = format!("{base}_{}", clean(status));
                        push(&mut out, taken, name, (doc, schema), at);
                    }
                }
            }
            if let Some(first) = out.get(before).filter(|_| !named) {
                derived.push((first.name.clone(), op_at));
            }
        }
    }
    (out, derived)
}

/// W0015: the operations whose body types are named from method and path,
/// in one warning at the first (a spec without operation ids would
/// otherwise give one per operation).
pub fn derived_names_warning(file: FileId, derived: &[(String, usize)]) -> Option<Diagnostic> {
    let ((first, at), rest) = derived.split_first()?;
    let more = match rest.len() {
        0 => String::new(),
        n => format!(" (and {n} more operation{})", if n == 1 { "" } else { "s" }),
    };
    Some(
        Diagnostic::warning(
            Code::W0015,
            file,
            Span::new(*at, *at + 1),
            format!(
                "this operation has no `operationId`{more}: its body types are named from its method and path (`{first}`)"
            ),
        )
        .label("no operationId")
        .note("the names change when the path does; give each operation an `operationId` to name its types"),
    )
}

/// A body to declare: an array of records names its element instead.
fn push<'v>(
    out: &mut Vec<Body<'v>>,
    taken: &mut HashSet<String>,
    name: String,
    (doc, schema): (usize, &'v Value),
    at: usize,
) {
    let (name, schema) = match (
        schema.get("type").and_then(Value::as_str),
        schema.get("items"),
    ) {
        (Some("array"), Some(items)) => (format!("{name}_item"), items),
        _ => (name, schema),
    };
    // Two operations with one `operationId` (a mistake real specs make)
    // still get a type each.
    let mut unique = name.clone();
    let mut n = 2;
    while taken.contains(&unique) {
        unique = format!("{name}_{n}");
        n += 1;
    }
    taken.insert(unique.clone());
    out.push(Body {
        name: unique,
        doc,
        schema,
        at,
    });
}

/// A path item, request body or response with its `$ref`s followed (to
/// `components.responses`, or into another file; a few hops, so a cycle
/// ends), and the document it is in.
fn follow<'v>(
    res: &mut dyn Resolve<'v>,
    mut doc: usize,
    mut v: &'v Value,
    at: usize,
) -> (usize, &'v Value) {
    for _ in 0..8 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match res.resolve_ref(doc, r, at) {
            Some(target) => (doc, v) = target,
            None => break,
        }
    }
    (doc, v)
}

/// The schema of a body's content: JSON if it has one
/// (`application/json`, then any `+json`), else the first media type with
/// a schema (a form body is a record too).
fn media_schema(body: &Value) -> Option<&Value> {
    let content = body.get("content")?.as_object()?;
    let with_schema = |m: &&Value| m.get("schema").is_some();
    content
        .get("application/json")
        .filter(with_schema)
        .or_else(|| {
            content
                .iter()
                .find(|(k, m)| k.contains("json") && with_schema(m))
                .map(|(_, m)| m)
        })
        .or_else(|| content.values().find(with_schema))?
        .get("schema")
}

/// A type name from an operation id or a method and path: letters, digits
/// and `_` (`chat.postMessage` → `chat_postMessage`,
/// `get_/customers/{id}` → `get_customers_id`).
fn ident(s: &str) -> String {
    let out = clean(s);
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{out}")
    } else {
        out
    }
}

/// `s` with every run of other characters made one `_`, none at the ends.
fn clean(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Local `$ref`s only, as one document has them.
    struct Local<'v>(&'v Value);
    impl<'v> Resolve<'v> for Local<'v> {
        fn resolve_ref(&mut self, _: usize, r: &str, _: usize) -> Option<(usize, &'v Value)> {
            Some((0, self.0.pointer(r.strip_prefix('#')?)?))
        }
    }

    fn names(root: &Value) -> (Vec<String>, Vec<String>) {
        let mut taken = HashSet::from(["Customer".to_string()]);
        let (bodies, derived) = bodies(root, &mut Local(root), &mut taken, &|from, _| from);
        (
            bodies.into_iter().map(|b| b.name).collect(),
            derived.into_iter().map(|(n, _)| n).collect(),
        )
    }

    #[test]
    fn bodies_are_named_by_operation_and_status_or_by_method_and_path() {
        let root = json!({ "openapi": "3.0.0", "paths": {
            "/customers/{id}": {
                "parameters": [],
                "post": {
                    "operationId": "createCustomer",
                    "requestBody": { "content": { "application/x-www-form-urlencoded": { "schema": { "type": "object" } } } },
                    "responses": {
                        "201": { "content": { "application/json": { "schema": { "type": "object" } } } },
                        "204": { "description": "no body" },
                        "default": { "$ref": "#/components/responses/Error" }
                    }
                },
                "get": { "responses": { "200": { "content": { "application/vnd.api+json": {
                    "schema": { "type": "array", "items": { "$ref": "customer.json" } } } } } } }
            } },
            "components": { "responses": { "Error": { "content": { "application/json": { "schema": {} } } } } }
        });
        let (names, derived) = names(&root);
        assert_eq!(
            names,
            [
                "createCustomer_request",
                "createCustomer_201",
                "createCustomer_default",
                "get_customers_id_200_item"
            ]
        );
        assert_eq!(derived, ["get_customers_id_200_item"]);
    }

    #[test]
    fn webhook_bodies_are_types_too() {
        let root = json!({ "openapi": "3.1.0", "webhooks": { "newPet": { "post": {
            "requestBody": { "content": { "application/json": { "schema": { "type": "object" } } } },
            "responses": { "200": { "description": "ok" } } } } } });
        assert_eq!(
            names(&root),
            (
                vec!["post_newPet_request".to_string()],
                vec!["post_newPet_request".to_string()]
            )
        );
    }

    #[test]
    fn one_warning_counts_the_operations_named_from_their_path() {
        let derived = [("get_a_200".to_string(), 3), ("get_b_200".to_string(), 9)];
        let w = derived_names_warning(0, &derived).map(|d| d.message);
        assert_eq!(
            w.as_deref(),
            Some(
                "this operation has no `operationId` (and 1 more operation): its body types are named from its method and path (`get_a_200`)"
            )
        );
        assert!(derived_names_warning(0, &[]).is_none());
    }

    #[test]
    fn a_repeated_operation_id_still_gives_distinct_names() {
        let op = json!({ "operationId": "Customer", "responses": {
            "200": { "content": { "application/json": { "schema": { "type": "object" } } } } } });
        let root = json!({ "paths": { "/a": { "get": op.clone() }, "/b": { "get": op } } });
        assert_eq!(names(&root).0, ["Customer_200", "Customer_200_2"]);
    }

    #[test]
    fn identifiers_keep_letters_digits_and_underscores() {
        assert_eq!(ident("chat.postMessage"), "chat_postMessage");
        assert_eq!(ident("get_/customers/{id}/cards"), "get_customers_id_cards");
        assert_eq!(ident("2XX"), "_2XX");
        assert_eq!(clean("2XX"), "2XX");
    }
}
