//! JSON Schema (draft-07, 2020-12) and OpenAPI 3.0/3.1 `components.schemas`,
//! imported as type declarations: the same AST an inline `schema` block
//! gives, so the registry and the checker treat imported and written types
//! alike.
//!
//! Spans: serde_json keeps no positions, so each declaration is located by
//! finding its key (`"charge":`) in the file text, searching forward from its
//! parent's position. That is exact for the usual one-key-per-line files and
//! never worse than pointing at the parent.
//!
//! Why one file of about 1800 lines: the importer is one recursive walk:
//! the `Importer`'s methods call one another through `$ref`, `allOf`,
//! `oneOf`/`anyOf` and properties, and share its state (documents, names
//! given, warnings). What is not the walk already lives apart
//! (`swagger2.rs`, `openapi_paths.rs`, `nesting.rs`); the file loader, the
//! text locator and the keyword helpers at its ends could follow if it
//! grows.

use crate::base::Span;
use crate::diag::{Code, Diagnostic, FileId};
use crate::syntax::{
    Access, EnumDecl, FieldDecl, Ident, RecordBody, RecordDecl, StringLit, TypeDecl, TypeExpr,
    TypeExprKind,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What an import produced: the declarations, and warnings for constructs
/// that were degraded to `any`.
pub struct Imported {
    pub types: Vec<TypeDecl>,
    pub warnings: Vec<Diagnostic>,
    /// The enums of `types` whose values are integers (the AST's enums
    /// are of strings; the registry makes these `Kind::IntEnum`).
    pub int_enums: Vec<String>,
}

/// Reads a schema file's text (the caller decides how: the file system,
/// or a test's table).
pub type Loader<'l> = dyn FnMut(&Path) -> Result<String, String> + 'l;

/// Imports the JSON Schema or OpenAPI document `text` (at `path`, JSON or
/// YAML by its extension); `$ref`s to other files are read with `load`,
/// relative to the file that holds them.
pub fn import(
    file: FileId,
    text: &str,
    root_name: &str,
    path: &Path,
    load: &mut Loader<'_>,
) -> Result<Imported, Box<Diagnostic>> {
    use super::swagger2::{self, Flavor};
    if let Some(at) = super::nesting::too_deep(text, is_yaml(path)) {
        return Err(super::nesting::diagnostic(file, at));
    }
    let root = parse(text, path).map_err(|(at, msg)| unreadable(file, at, msg))?;
    // Swagger 2.0 is read as the OpenAPI 3 document it describes.
    let flavor = match &root {
        Value::Object(o) => {
            swagger2::flavor(o).map_err(|why| unsupported_version(file, text, why))?
        }
        _ => Flavor::JsonSchema,
    };
    let root = match &root {
        Value::Object(o) if flavor == Flavor::Swagger2 => swagger2::to_openapi3(o),
        _ => root,
    };
    let mut others = load_referenced(path, &root, load);
    if flavor == Flavor::Swagger2 {
        for o in &mut others {
            if let Ok(v) = &mut o.root {
                swagger2::convert_fragment(v);
            }
        }
    }
    import_value(file, text, path, &root, &others, root_name)
}

/// E0006 at the version key of an API description tether does not read.
fn unsupported_version(file: FileId, text: &str, why: String) -> Box<Diagnostic> {
    let at = ["swaggerVersion", "swagger", "openapi"]
        .iter()
        .map(|k| find_key(text, 0, k))
        .find(|&at| at > 0)
        .unwrap_or(0);
    Box::new(
        Diagnostic::error(Code::E0006, file, Span::new(at, at), why)
            .label("this version")
            .note("convert the document to OpenAPI 3 or Swagger 2.0 first"),
    )
}

/// JSON, or YAML (read into the same JSON model, YAML 1.2's JSON schema)
/// for `.yaml`/`.yml`; the error's byte offset and message.
fn parse(text: &str, path: &Path) -> Result<Value, (usize, String)> {
    let yaml = is_yaml(path);
    // A `$ref`'d file is read here only: the same depth check (E0007 for
    // the imported file itself, in `import`).
    if let Some(at) = super::nesting::too_deep(text, yaml) {
        let levels = super::nesting::MAX_DOCUMENT_DEPTH;
        return Err((at, format!("nested more than {levels} levels deep")));
    }
    if yaml {
        serde_yaml_ng::from_str(text).map_err(|e| {
            let at = e.location().map_or(0, |l| l.index());
            (at, format!("not valid YAML: {e}"))
        })
    } else {
        serde_json::from_str(text).map_err(|e| {
            let at = offset_of(text, e.line(), e.column());
            (at, format!("not valid JSON: {e}"))
        })
    }
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml"))
}

/// Another schema file a `$ref` points into: its schemas, or why it
/// cannot be read (each `$ref` into it then degrades to `any` with a
/// warning at the `$ref`).
struct OtherFile {
    /// Resolved against the folder of the file whose `$ref` names it.
    path: PathBuf,
    text: String,
    root: Result<Value, String>,
}

/// Every file reachable through `$ref`s with a file part, read once each.
fn load_referenced(path: &Path, root: &Value, load: &mut Loader<'_>) -> Vec<OtherFile> {
    let mut out: Vec<OtherFile> = Vec::new();
    let mut seen: Vec<PathBuf> = vec![normalize(path)];
    let mut todo: Vec<(PathBuf, Vec<String>)> = vec![(path.to_path_buf(), file_refs(root))];
    while let Some((from, refs)) = todo.pop() {
        for r in refs {
            let file_part = r.split_once('#').map_or(r.as_str(), |(f, _)| f);
            let target = normalize(&from.parent().unwrap_or(Path::new(".")).join(file_part));
            if seen.contains(&target) {
                continue;
            }
            seen.push(target.clone());
            let (text, root) = match load(&target) {
                Ok(t) => {
                    let v = parse(&t, &target).map_err(|(_, m)| m);
                    (t, v)
                }
                Err(e) => (String::new(), Err(e)),
            };
            if let Ok(v) = &root {
                todo.push((target.clone(), file_refs(v)));
            }
            out.push(OtherFile {
                path: target,
                text,
                root,
            });
        }
    }
    out
}

/// `a/./b/../c.json` → `a/c.json`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// The `$ref`s of a document that name another file.
fn file_refs(v: &Value) -> Vec<String> {
    let mut refs = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref")
                    && !r.starts_with('#')
                    && !r.contains("://")
                    && !refs.contains(r)
                {
                    refs.push(r.clone());
                }
                stack.extend(o.values());
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    refs
}

/// E0004 at the place a schema file stops being readable.
fn unreadable(file: FileId, at: usize, message: String) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(Code::E0004, file, Span::new(at, at), message).label("here"))
}

fn import_value(
    file: FileId,
    text: &str,
    path: &Path,
    root: &Value,
    others: &[OtherFile],
    root_name: &str,
) -> Result<Imported, Box<Diagnostic>> {
    let Value::Object(obj) = &root else {
        return Err(Box::new(Diagnostic::error(
            Code::E0004,
            file,
            Span::new(0, 0),
            "a JSON Schema or OpenAPI document is an object",
        )));
    };
    let is_openapi = obj.contains_key("openapi") || obj.contains_key("swagger");
    let defs = named_schemas(text, root);
    let root_type = (!is_openapi).then(|| {
        obj.get("title")
            .and_then(Value::as_str)
            .filter(|t| is_name(t))
            .unwrap_or(root_name)
            .to_string()
    });
    let mut docs = vec![SchemaDoc {
        path: normalize(path),
        root: Ok(root),
        defs: defs.iter().map(|(n, s, _)| (n.to_string(), *s)).collect(),
    }];
    for o in others {
        docs.push(SchemaDoc {
            path: o.path.clone(),
            root: o.root.as_ref().map_err(String::as_str),
            defs: o
                .root
                .as_ref()
                .map(|r| named_schemas(&o.text, r))
                .unwrap_or_default()
                .into_iter()
                .map(|(n, s, _)| (n.to_string(), s))
                .collect(),
        });
    }
    let mut taken: std::collections::HashSet<String> =
        defs.iter().map(|(n, _, _)| n.to_string()).collect();
    taken.extend(root_type.clone());
    let mut im = Importer {
        file,
        text,
        docs,
        doc: 0,
        ref_site: None,
        names: HashMap::new(),
        taken,
        queue: Vec::new(),
        root_type: root_type.clone(),
        aliases: Vec::new(),
        types: Vec::new(),
        int_enums: Vec::new(),
        any_unions: Vec::new(),
        warnings: Vec::new(),
    };
    // Request and response bodies, named by operation before any other
    // file's schema takes a name.
    let (bodies, derived) = if is_openapi {
        let mut taken = std::mem::take(&mut im.taken);
        let found = super::openapi_paths::bodies(root, &mut im, &mut taken, &|from, key| {
            find_key(text, from, key)
        });
        im.taken = taken;
        found
    } else {
        Default::default()
    };
    for (name, schema, at) in &defs {
        if im.declares(0, schema) {
            im.named_type(name, schema, *at);
        }
    }
    if let Some(name) = &root_type {
        im.named_type(name, root, 0);
    }
    for body in &bodies {
        im.body_type(body);
    }
    im.warnings
        .extend(super::openapi_paths::derived_names_warning(file, &derived));
    // Types of other files, declared as the `$ref`s reached them.
    while let Some((doc, name, schema, site)) = im.queue.pop() {
        im.doc = doc;
        im.ref_site = Some(site);
        im.named_type(&name, schema, site);
    }
    if im.types.is_empty() {
        return Err(no_types(file, text, path, &defs, bodies.len(), is_openapi));
    }
    im.warnings.extend(unions_warning(file, &im.any_unions));
    Ok(Imported {
        types: im.types,
        warnings: im.warnings,
        int_enums: im.int_enums,
    })
}

/// One W0013 for the unions of a file imported as a type none of their
/// variants is: at the first, counting the others.
fn unions_warning(file: FileId, unions: &[(usize, String)]) -> Option<Diagnostic> {
    let ((at, first), rest) = unions.split_first()?;
    let mut d = Diagnostic::warning(
        Code::W0013,
        file,
        Span::new(*at, at + 1),
        format!("{first}: it says nothing of which variant a value is"),
    )
    .label("union of different types");
    if !rest.is_empty() {
        d = d.note(format!(
            "{} other union(s) of this file are imported the same way",
            rest.len()
        ));
    }
    Some(d.help("read an id-or-object field with `id_of`; give the union a `discriminator` (or one type) in the schema to have it checked"))
}

/// E0005: an API description from which no type can be imported. Without
/// it, such a file would import as an empty schema and every mapping on it
/// would fail later with "unknown type", far from the cause.
fn no_types(
    file: FileId,
    text: &str,
    path: &Path,
    defs: &[(&str, &Value, usize)],
    bodies: usize,
    is_openapi: bool,
) -> Box<Diagnostic> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let named = match defs.len() {
        0 if is_openapi => "no definitions, no components.schemas".to_string(),
        0 => "no $defs or definitions".to_string(),
        n => format!("{n} named schema(s), none of them an object or an enum"),
    };
    // At `paths` if there is one (else the file's start).
    let at = find_key(text, 0, "paths");
    let paths = match bodies {
        0 => "no schemas under paths".to_string(),
        n => format!("{n} body schema(s) under paths, none of them an object or an enum"),
    };
    Box::new(
        Diagnostic::error(
            Code::E0005,
            file,
            Span::new(at, at),
            format!("`{name}` declares no types: {named}, {paths}"),
        )
        .label("nothing to import")
        .note("tether imports `definitions` (Swagger 2.0), `components.schemas` and the request and response bodies of `paths` (OpenAPI 3)"),
    )
}

/// A document's named schemas (OpenAPI `components.schemas`, JSON Schema
/// `$defs`/`definitions`), with where each key is in `text`.
fn named_schemas<'v>(text: &str, root: &'v Value) -> Vec<(&'v str, &'v Value, usize)> {
    let mut defs = Vec::new();
    let Value::Object(obj) = root else {
        return defs;
    };
    if obj.contains_key("openapi") || obj.contains_key("swagger") {
        // A (converted) Swagger 2.0 document has them under `definitions`.
        let (schemas, section) = if obj.contains_key("swagger") {
            (obj.get("definitions"), "definitions")
        } else {
            (
                obj.get("components").and_then(|c| c.get("schemas")),
                "schemas",
            )
        };
        let schemas = schemas.and_then(Value::as_object);
        let base = find_key(text, 0, section);
        for (name, schema) in schemas.into_iter().flatten() {
            defs.push((name.as_str(), schema, find_key(text, base, name)));
        }
    } else {
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(d)) = obj.get(key) {
                let base = find_key(text, 0, key);
                for (name, schema) in d {
                    defs.push((name.as_str(), schema, find_key(text, base, name)));
                }
            }
        }
    }
    defs
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// The byte offset of the key `key` (`"key":` in JSON, `key:` in YAML) at
/// or after `from`, or `from` if absent.
fn find_key(text: &str, from: usize, key: &str) -> usize {
    let rest = text.get(from..).unwrap_or("");
    if text.trim_start().starts_with('{') {
        // A key is followed by `:` (a string value or a `required` list
        // entry of the same text is not the key).
        let needle = format!("\"{key}\"");
        let mut at = 0;
        while let Some(i) = rest[at..].find(&needle) {
            let end = at + i + needle.len();
            if rest[end..].trim_start().starts_with(':') {
                return from + at + i + 1;
            }
            at = end;
        }
        return from;
    }
    // YAML: the key at the start of a line (after its indentation).
    let needle = format!("{key}:");
    let mut at = 0;
    while let Some(i) = rest[at..].find(&needle) {
        let start = at + i;
        let line_start = rest[..start].rfind('\n').map_or(0, |n| n + 1);
        if rest[line_start..start].trim_matches([' ', '-']).is_empty() {
            return from + start;
        }
        at = start + needle.len();
    }
    from
}

/// serde_json's 1-based line and column to a byte offset.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (offset + column.saturating_sub(1)).min(text.len());
        }
        offset += l.len();
    }
    text.len()
}

/// `$ref`s of `paths` (path items, request bodies, responses), resolved as
/// schema `$ref`s are; one that points at nothing is W0004 at `at`.
impl<'t> super::openapi_paths::Resolve<'t> for Importer<'t> {
    fn resolve_ref(&mut self, doc: usize, r: &str, at: usize) -> Option<(usize, &'t Value)> {
        let outer = std::mem::replace(&mut self.doc, doc);
        let found = self.resolve(r);
        self.doc = outer;
        match found {
            Ok(t) => Some((t.doc, t.schema)),
            Err(why) => {
                self.not_imported(at, format!("the reference {r:?} {why}"));
                None
            }
        }
    }
}

/// Request and response bodies under `paths` (see [`super::openapi_paths`]).
impl<'t> Importer<'t> {
    /// A request or response body named by its operation: declared under
    /// that name, unless it `$ref`s a named schema (which keeps its own
    /// name) or is not an object or enum (nothing to declare).
    fn body_type(&mut self, body: &super::openapi_paths::Body<'t>) {
        let outer = (self.doc, self.ref_site);
        self.declare_body(body);
        (self.doc, self.ref_site) = outer;
    }

    fn declare_body(&mut self, body: &super::openapi_paths::Body<'t>) {
        let (mut doc, mut schema) = (body.doc, body.schema);
        // A `$ref` to a whole file or a pointer into one: follow it (a few
        // hops, so a cycle of references ends).
        for _ in 0..8 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                break;
            };
            self.doc = doc;
            let target = match self.resolve(r) {
                Ok(t) => t,
                Err(why) => {
                    self.not_imported(body.at, format!("the reference {r:?} {why}"));
                    return;
                }
            };
            if target.def.is_some() {
                if self.declares(target.doc, target.schema) {
                    self.type_name(&target, body.at);
                }
                return;
            }
            (doc, schema) = (target.doc, target.schema);
        }
        // Stripe's GET operations have a form body with no properties: a
        // record of no fields is no use to a mapping.
        let empty = schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
            && !["allOf", "oneOf", "anyOf"]
                .iter()
                .any(|k| schema.get(k).is_some());
        if self.declares(doc, schema) && !empty {
            self.doc = doc;
            self.ref_site = (doc != 0).then_some(body.at);
            self.named_type(&body.name, schema, body.at);
        }
    }

    /// W0004 for a `$ref` under `paths` that points at nothing: what it
    /// names is left out (no type is degraded, so not [`Self::warn`]).
    fn not_imported(&mut self, at: usize, why: String) {
        self.warnings.push(
            Diagnostic::warning(
                Code::W0004,
                self.file,
                Span::new(at, at + 1),
                format!("{why}; what it names is not imported"),
            )
            .label("not imported"),
        );
    }
}

/// One schema document: the importing file (index 0) or a file its
/// `$ref`s reach.
struct SchemaDoc<'t> {
    path: PathBuf,
    /// The document, or why it could not be read.
    root: Result<&'t Value, &'t str>,
    defs: HashMap<String, &'t Value>,
}

/// What a `$ref` points at: a named schema (or a whole document) that may
/// be declared as a type, or any other schema by JSON pointer.
struct RefTarget<'t> {
    doc: usize,
    /// The named schema's name; `None` for a document's root or a pointer.
    def: Option<String>,
    /// A pointer that is not to a named schema (inlined where used).
    pointer: bool,
    schema: &'t Value,
}

struct Importer<'t> {
    file: FileId,
    /// The importing file's text: every span points into it.
    text: &'t str,
    docs: Vec<SchemaDoc<'t>>,
    /// The document whose schemas are being read (its `$ref`s resolve
    /// against it).
    doc: usize,
    /// Reading another file's schema: spans point at the `$ref` that
    /// reached it (the other file has no `FileId`).
    ref_site: Option<usize>,
    /// Type names given to other files' schemas: (doc, name or "" for the
    /// root) → type name.
    names: HashMap<(usize, String), String>,
    taken: std::collections::HashSet<String>,
    /// Other files' schemas to declare: (doc, type name, schema, site).
    queue: Vec<(usize, String, &'t Value, usize)>,
    /// The importing document's own root type (JSON Schema, not OpenAPI).
    root_type: Option<String>,
    /// The aliases being inlined, so a cycle of aliases ends.
    aliases: Vec<(usize, String)>,
    types: Vec<TypeDecl>,
    /// Enums of `types` whose values are integers.
    int_enums: Vec<String>,
    /// Unions imported as a type none of their variants is (where, what):
    /// reported as one W0013 per file, since a spec like Stripe's has
    /// hundreds of them (its expandable id-or-object fields).
    any_unions: Vec<(usize, String)>,
    warnings: Vec<Diagnostic>,
}

impl<'t> Importer<'t> {
    fn ident(&self, name: &str, at: usize) -> Ident {
        Ident {
            name: name.to_string(),
            span: Span::new(at, at + name.len()),
        }
    }

    /// Where a key is: in the importing file, or the `$ref` site.
    fn locate(&self, from: usize, key: &str) -> usize {
        self.ref_site
            .unwrap_or_else(|| find_key(self.text, from, key))
    }

    /// A top-level type: a record, an enum, or (for anything else) nothing —
    /// references to it then resolve to its shape through `type_expr`.
    fn named_type(&mut self, name: &str, schema: &'t Value, at: usize) {
        let span = Span::new(at, at + name.len());
        if let Some(e) = enum_of(schema) {
            self.declare_enum(name, &e, at);
            return;
        }
        let body = match self.record_body(name, schema, at) {
            Some(b) => b,
            // A named scalar or union: an empty record would be wrong, so it
            // becomes a record only when it is an object.
            None => RecordBody {
                fields: Vec::new(),
                span,
                xml_sequence: false,
            },
        };
        self.types.push(TypeDecl::Record(RecordDecl {
            name: self.ident(name, at),
            body,
            span,
        }));
    }

    /// Declares the enum `name` (once: a later declaration of the name is
    /// the same enum) with each of `e`'s values once. A value listed again
    /// is W0012 at its second occurrence and the import goes on: real specs
    /// have such mistakes, and rejecting the whole spec for one helps no one.
    fn declare_enum(&mut self, name: &str, e: &EnumValues, at: usize) {
        if self.types.iter().any(|t| t.name().name == name) {
            return;
        }
        let span = Span::new(at, at + name.len());
        let mut values: Vec<String> = Vec::new();
        for v in &e.values {
            if values.contains(v) {
                let dup = self.second_occurrence(at, v);
                self.warnings.push(
                    Diagnostic::warning(
                        Code::W0012,
                        self.file,
                        Span::new(dup, dup + v.len().max(1)),
                        format!("enum value {v:?} of `{name}` is listed twice; it is kept once"),
                    )
                    .label("listed again here"),
                );
            } else {
                values.push(v.clone());
            }
        }
        if e.base == EnumBase::Int {
            self.int_enums.push(name.to_string());
        }
        self.types.push(TypeDecl::Enum(EnumDecl {
            name: self.ident(name, at),
            values: values
                .into_iter()
                .map(|v| StringLit { value: v, span })
                .collect(),
            span,
        }));
    }

    /// Where the second occurrence of the enum value `v` is, searching from
    /// the enum's position (quoted first, then as a bare token); the enum's
    /// position if not found, or the `$ref` site in another file.
    fn second_occurrence(&self, from: usize, v: &str) -> usize {
        if let Some(site) = self.ref_site {
            return site;
        }
        let rest = self.text.get(from..).unwrap_or("");
        let token = |hay: &str, needle: &str, bare: bool| -> Vec<usize> {
            let mut found = Vec::new();
            let mut at = 0;
            while let Some(i) = hay[at..].find(needle) {
                let start = at + i;
                let end = start + needle.len();
                let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
                let ok = !bare
                    || (!hay[..start].chars().next_back().is_some_and(word)
                        && !hay[end..].chars().next().is_some_and(word));
                if ok {
                    found.push(start);
                    if found.len() == 2 {
                        break;
                    }
                }
                at = end;
            }
            found
        };
        for (needle, bare) in [
            (format!("\"{v}\""), false),
            (format!("'{v}'"), false),
            (v.to_string(), true),
        ] {
            if let [_, second] = token(rest, &needle, bare).as_slice() {
                return from + second + usize::from(!bare);
            }
        }
        from
    }

    /// The fields of an object schema, composed from its parts: its own
    /// properties, its `allOf` parts transitively, and a `oneOf`/`anyOf`
    /// of object variants (with a `discriminator`, its property is a
    /// required enum of the variants' names).
    fn record_body(&mut self, path: &str, schema: &'t Value, at: usize) -> Option<RecordBody> {
        let obj = schema.as_object()?;
        let mut composed = Composed::default();
        let from = format!("`{path}`");
        self.gather(obj, self.doc, &from, &mut Vec::new(), &mut composed);
        let tag = self.discriminator(path, obj, at, &mut composed);
        if composed.props.is_empty() && !obj.contains_key("properties") {
            return None;
        }
        Some(self.fields_of(path, &composed, tag, at))
    }

    /// The record body of composed properties.
    fn fields_of(
        &mut self,
        path: &str,
        composed: &Composed<'t>,
        tag: Option<(String, TypeExpr)>,
        at: usize,
    ) -> RecordBody {
        let mut fields = Vec::new();
        for prop in &composed.props {
            let fat = self.locate(at, &prop.name);
            let ty = match &tag {
                Some((tag_name, ty)) if *tag_name == prop.name => ty.clone(),
                _ => self.prop_type(path, prop, fat),
            };
            let first = prop.defs.first().map(|d| d.schema);
            fields.push(FieldDecl {
                name: self.ident(&prop.name, fat),
                optional: !composed.required.contains(&prop.name),
                ty,
                span: Span::new(fat, fat + prop.name.len()),
                description: prop
                    .defs
                    .iter()
                    .find_map(|d| d.schema.get("description").and_then(Value::as_str))
                    .map(str::to_string),
                xml: Default::default(),
                access: first.map_or(Access::ReadWrite, access_of),
            });
        }
        RecordBody {
            fields,
            span: Span::new(at, at + path.len().min(1)),
            xml_sequence: false,
        }
    }

    /// For a `oneOf`/`anyOf` with a `discriminator`: the discriminating
    /// property, required, with its enum type (its values are the
    /// `mapping`'s keys, else the variants' schema names, sorted so that
    /// they do not depend on the order the variants are written). The
    /// variants' fields were gathered with the union.
    fn discriminator(
        &mut self,
        path: &str,
        obj: &'t Map<String, Value>,
        at: usize,
        composed: &mut Composed<'t>,
    ) -> Option<(String, TypeExpr)> {
        let tag = obj
            .get("discriminator")?
            .get("propertyName")?
            .as_str()?
            .to_string();
        let variants = ["oneOf", "anyOf"]
            .iter()
            .find_map(|k| obj.get(*k)?.as_array())?;
        let mut values: Vec<String> = match obj["discriminator"].get("mapping") {
            Some(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        if values.is_empty() {
            for v in variants {
                if let Some(Value::String(r)) = v.get("$ref") {
                    values.extend(r.rsplit('/').next().map(str::to_string));
                }
            }
            values.sort();
        }
        if !composed.required.contains(&tag) {
            composed.required.push(tag.clone());
        }
        if !composed.props.iter().any(|p| p.name == tag) {
            static NOTHING: Value = Value::Null;
            composed.add(
                &tag,
                Def {
                    schema: &NOTHING,
                    doc: self.doc,
                    from: String::new(),
                },
                Compose::Union,
            );
        }
        let enum_name = format!("{path}.{tag}");
        let span = Span::new(at, at);
        if !values.is_empty() {
            let e = EnumValues {
                base: EnumBase::Str,
                values,
                nullable: false,
            };
            self.declare_enum(&enum_name, &e, at);
        }
        let kind = if self.types.iter().any(|t| t.name().name == enum_name) {
            self.named(&enum_name, at)
        } else {
            self.named("string", at)
        };
        Some((
            tag,
            TypeExpr {
                kind,
                nullable: false,
                span,
            },
        ))
    }

    /// Adds the parts of the object `obj` (in `doc`, named `from` in
    /// warnings) to `out`: its own properties and `required` names, its
    /// `allOf` parts transitively (each followed through its `$ref`s), and
    /// a union of object variants as one record ([`Self::union`]). A part
    /// already gathered is skipped, so a cycle ends and a diamond counts
    /// once. A `required` name applies whichever part defines the property.
    fn gather(
        &self,
        obj: &'t Map<String, Value>,
        doc: usize,
        from: &str,
        seen: &mut Vec<*const Map<String, Value>>,
        out: &mut Composed<'t>,
    ) {
        let ptr: *const Map<String, Value> = obj;
        if seen.contains(&ptr) {
            return;
        }
        seen.push(ptr);
        if let Some(Value::Object(p)) = obj.get("properties") {
            for (k, v) in p {
                let def = Def {
                    schema: v,
                    doc,
                    from: from.to_string(),
                };
                out.add(k, def, Compose::AllOf);
            }
        }
        if let Some(Value::Array(r)) = obj.get("required") {
            for n in r.iter().filter_map(Value::as_str) {
                out.require(n);
            }
        }
        if let Some(Value::Array(all)) = obj.get("allOf") {
            for (i, member) in all.iter().enumerate() {
                let (mdoc, m, name) = self.follow(doc, member);
                let mfrom = name.map_or_else(
                    || format!("part {} of the allOf of {from}", i + 1),
                    |n| format!("`{n}`"),
                );
                if let Some(m) = m.as_object() {
                    self.gather(m, mdoc, &mfrom, seen, out);
                }
            }
        }
        if let Some(variants) = union_variants(obj)
            && variants
                .iter()
                .all(|v| self.record_like(doc, v, &mut Vec::new()))
        {
            let items: Vec<(usize, &'t Value)> = variants.into_iter().map(|v| (doc, v)).collect();
            let u = self.union(&items, seen);
            for prop in u.props {
                for def in prop.defs {
                    out.add(&prop.name, def, Compose::Union);
                }
            }
            for n in &u.required {
                out.require(n);
            }
        }
    }

    /// The record a union of object variants reads as: every variant's
    /// fields, each required only when every variant requires it, with all
    /// of its definitions (their types are joined by [`Self::prop_type`]).
    /// Variants are taken in a canonical order (`$ref`s by name, then
    /// inline ones by their text), so the record does not depend on the
    /// order the variants are written.
    fn union(
        &self,
        variants: &[(usize, &'t Value)],
        seen: &[*const Map<String, Value>],
    ) -> Composed<'t> {
        let mut sorted: Vec<(String, usize, &'t Value, String)> = variants
            .iter()
            .map(|&(doc, v)| {
                let key = match v.get("$ref").and_then(Value::as_str) {
                    Some(r) => format!("0{r}"),
                    None => format!("1{v}"),
                };
                let (d, s, name) = self.follow(doc, v);
                let from = match (name, s.get("title").and_then(Value::as_str)) {
                    (Some(n), _) => format!("variant `{n}`"),
                    (None, Some(t)) => format!("variant \"{t}\""),
                    (None, None) => "an inline variant".to_string(),
                };
                (key, d, s, from)
            })
            .collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let parts: Vec<Composed<'t>> = sorted
            .iter()
            .map(|(_, doc, s, from)| {
                let mut c = Composed::default();
                if let Some(o) = s.as_object() {
                    self.gather(o, *doc, from, &mut seen.to_vec(), &mut c);
                }
                c
            })
            .collect();
        let mut out = Composed::default();
        for part in &parts {
            for prop in &part.props {
                if out.props.iter().any(|p| p.name == prop.name) {
                    continue;
                }
                for q in &parts {
                    for def in q.props.iter().filter(|p| p.name == prop.name) {
                        for d in &def.defs {
                            out.add(&prop.name, d.clone(), Compose::Union);
                        }
                    }
                }
                let everywhere = parts.iter().all(|q| {
                    q.props.iter().any(|p| p.name == prop.name) && q.required.contains(&prop.name)
                });
                if everywhere {
                    out.require(&prop.name);
                }
            }
        }
        out
    }

    /// The type of a composed property. One definition is typed as it is.
    /// Several (from `allOf` parts or union variants) never resolve to the
    /// last one written: enums become one enum of every value, objects
    /// written inline one record of them all, and anything else the type
    /// common to all definitions, or `any`, with W0011 (parts) or W0013
    /// (variants, only when something is lost) naming each one's type.
    fn prop_type(&mut self, path: &str, prop: &Prop<'t>, at: usize) -> TypeExpr {
        let fpath = format!("{path}.{}", prop.name);
        let span = Span::new(at, at);
        if let [one] = prop.defs.as_slice() {
            return self.type_in(one.doc, &fpath, one.schema, at);
        }
        let inline = |d: &Def<'t>| d.schema.get("$ref").is_none();
        let enums: Option<Vec<EnumValues>> = prop
            .defs
            .iter()
            .map(|d| if inline(d) { enum_of(d.schema) } else { None })
            .collect();
        if let Some(es) = enums
            && es.iter().all(|e| e.base == es[0].base)
        {
            let mut all = EnumValues {
                base: es[0].base,
                values: Vec::new(),
                nullable: es.iter().any(|e| e.nullable),
            };
            for e in &es {
                for v in &e.values {
                    if !all.values.contains(v) {
                        all.values.push(v.clone());
                    }
                }
            }
            let differ = es
                .iter()
                .any(|e| all.values.iter().any(|v| !e.values.contains(v)));
            if prop.compose == Compose::AllOf && differ {
                let later = self.later_part(at, &prop.name);
                self.warnings.push(
                    Diagnostic::warning(
                        Code::W0011,
                        self.file,
                        self.name_span(later, &prop.name),
                        format!(
                            "the allOf parts list different values for `{}` ({}); it takes every value listed",
                            prop.name,
                            prop.defs.iter().map(|d| d.from.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    )
                    .label("values differ here"),
                );
            }
            self.declare_enum(&fpath, &all, at);
            return TypeExpr {
                kind: self.named(&fpath, at),
                nullable: all.nullable,
                span,
            };
        }
        let nullable = prop.defs.iter().any(|d| schema_nullable(d.schema));
        // Records (written inline or named): one record of them all, as a
        // union of records is everywhere else.
        if prop
            .defs
            .iter()
            .all(|d| self.record_like(d.doc, d.schema, &mut Vec::new()))
        {
            let mut composed = Composed::default();
            match prop.compose {
                Compose::AllOf => {
                    let mut seen = Vec::new();
                    for d in &prop.defs {
                        let (doc, schema, _) = self.follow(d.doc, d.schema);
                        if let Some(o) = schema.as_object() {
                            self.gather(o, doc, &d.from, &mut seen, &mut composed);
                        }
                    }
                }
                Compose::Union => {
                    let items: Vec<(usize, &'t Value)> =
                        prop.defs.iter().map(|d| (d.doc, d.schema)).collect();
                    composed = self.union(&items, &[]);
                }
            }
            let body = self.fields_of(&fpath, &composed, None, at);
            return TypeExpr {
                kind: TypeExprKind::Record(body),
                nullable,
                span,
            };
        }
        let typed: Vec<(TypeExpr, &str)> = prop
            .defs
            .iter()
            .map(|d| (self.type_in(d.doc, &fpath, d.schema, at), d.from.as_str()))
            .collect();
        let mut joined = typed[0].0.clone();
        for (t, _) in &typed[1..] {
            joined = self.join(&joined, t);
        }
        let shown = self.shape(&joined);
        let lost = match prop.compose {
            Compose::AllOf => typed.iter().any(|(t, _)| self.shape(t) != shown),
            Compose::Union => typed.iter().all(|(t, _)| self.shape(t) != shown),
        };
        if lost {
            let each = typed
                .iter()
                .map(|(t, from)| format!("`{}` in {from}", self.shape(t)))
                .collect::<Vec<_>>()
                .join(", ");
            let (code, where_, label) = match prop.compose {
                Compose::AllOf => (
                    Code::W0011,
                    self.later_part(at, &prop.name),
                    "declared again here",
                ),
                Compose::Union => (Code::W0013, at, "variants disagree"),
            };
            self.warnings.push(
                Diagnostic::warning(
                    code,
                    self.file,
                    self.name_span(where_, &prop.name),
                    format!("`{}` is {each}; it is imported as `{shown}`", prop.name),
                )
                .label(label),
            );
        }
        joined.nullable |= nullable;
        joined
    }

    /// The position of a property's key in a later part: its next
    /// occurrence after `at` (or `at`).
    fn later_part(&self, at: usize, name: &str) -> usize {
        if self.ref_site.is_some() {
            return at;
        }
        let next = find_key(self.text, at + 1, name);
        if next > at + 1 { next } else { at }
    }

    /// The span of `name` at `at` when the text there is the name, else
    /// one character (a `$ref` site, or a key not found).
    fn name_span(&self, at: usize, name: &str) -> Span {
        let here = self.text.get(at..).is_some_and(|t| t.starts_with(name));
        Span::new(at, at + if here { name.len() } else { 1 })
    }

    /// `type_expr` of a schema of document `doc`.
    fn type_in(&mut self, doc: usize, path: &str, schema: &'t Value, at: usize) -> TypeExpr {
        let outer = std::mem::replace(&mut self.doc, doc);
        let ty = self.type_expr(path, schema, at);
        self.doc = outer;
        ty
    }

    /// A type as warnings show it (nullability aside).
    fn shape(&self, t: &TypeExpr) -> String {
        match &t.kind {
            TypeExprKind::Named { name, .. } => {
                let is_enum = self
                    .types
                    .iter()
                    .any(|t| matches!(t, TypeDecl::Enum(e) if e.name.name == name.name));
                if is_enum {
                    format!("enum {}", name.name)
                } else {
                    name.name.clone()
                }
            }
            TypeExprKind::Array(inner) => format!("[{}]", self.shape(inner)),
            TypeExprKind::Map(inner) => format!("map<{}>", self.shape(inner)),
            TypeExprKind::Record(_) => "record".to_string(),
            TypeExprKind::Money(c) => format!("money<{}>", c.name),
        }
    }

    /// Whether a named type reads as text or as a number (enums by their
    /// values), for [`Self::join`].
    fn class_of(&self, name: &str) -> Option<EnumBase> {
        match name {
            "string" | "date" | "datetime" | "time" => Some(EnumBase::Str),
            "int" | "decimal" => Some(EnumBase::Int),
            _ if self.int_enums.iter().any(|n| n == name) => Some(EnumBase::Int),
            _ if self
                .types
                .iter()
                .any(|t| matches!(t, TypeDecl::Enum(e) if e.name.name == name)) =>
            {
                Some(EnumBase::Str)
            }
            _ => None,
        }
    }

    /// The type two definitions have in common: the same type, texts a
    /// `string`, numbers a `decimal`, arrays and maps element-wise, else
    /// `any`. Commutative and associative, so the result does not depend
    /// on the order definitions are met.
    fn join(&self, a: &TypeExpr, b: &TypeExpr) -> TypeExpr {
        let at = a.span.start as usize;
        let kind = if self.shape(a) == self.shape(b) {
            a.kind.clone()
        } else {
            match (&a.kind, &b.kind) {
                (TypeExprKind::Array(x), TypeExprKind::Array(y)) => {
                    TypeExprKind::Array(Box::new(self.join(x, y)))
                }
                (TypeExprKind::Map(x), TypeExprKind::Map(y)) => {
                    TypeExprKind::Map(Box::new(self.join(x, y)))
                }
                (TypeExprKind::Named { name: x, .. }, TypeExprKind::Named { name: y, .. }) => {
                    match (self.class_of(&x.name), self.class_of(&y.name)) {
                        (Some(EnumBase::Str), Some(EnumBase::Str)) => self.named("string", at),
                        (Some(EnumBase::Int), Some(EnumBase::Int)) => {
                            let int = |n: &str| n == "int" || self.int_enums.iter().any(|e| e == n);
                            if int(&x.name) && int(&y.name) {
                                self.named("int", at)
                            } else {
                                self.named("decimal", at)
                            }
                        }
                        _ => self.named("any", at),
                    }
                }
                _ => self.named("any", at),
            }
        };
        TypeExpr {
            kind,
            nullable: a.nullable || b.nullable,
            span: a.span,
        }
    }

    /// A union whose variants are not all objects (`string` or a
    /// `customer`, `integer` or `string`): the type common to the
    /// variants. When that is none of them, something is lost: W0013,
    /// deferred so that a file gets one such warning ([`Self::any_unions`]).
    fn scalar_union(
        &mut self,
        path: &str,
        variants: &[&'t Value],
        at: usize,
    ) -> (TypeExprKind, bool) {
        let mut sorted: Vec<(String, &'t Value)> = variants
            .iter()
            .map(|v| {
                let key = match v.get("$ref").and_then(Value::as_str) {
                    Some(r) => format!("0{r}"),
                    None => format!("1{v}"),
                };
                (key, *v)
            })
            .collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let typed: Vec<TypeExpr> = sorted
            .iter()
            .map(|(_, v)| self.type_expr(path, v, at))
            .collect();
        self.union_of_types(&typed, at)
    }

    /// The join of the types of a union's variants, with W0013 when it is
    /// none of them.
    fn union_of_types(&mut self, typed: &[TypeExpr], at: usize) -> (TypeExprKind, bool) {
        let Some(first) = typed.first() else {
            return (self.named("any", at), true);
        };
        let mut joined = first.clone();
        for t in &typed[1..] {
            joined = self.join(&joined, t);
        }
        let shown = self.shape(&joined);
        if typed.iter().all(|t| self.shape(t) != shown) {
            let mut names: Vec<String> = Vec::new();
            for t in typed {
                let n = self.shape(t);
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            let names = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ");
            self.any_unions
                .push((at, format!("a union of {names} is imported as `{shown}`")));
        }
        (joined.kind, joined.nullable)
    }

    /// Follows a `$ref` chain from `schema` in document `doc` (a few hops,
    /// so a cycle of references ends): the schema it ends at, its
    /// document, and the name of the named schema it is, if any.
    fn follow(&self, doc: usize, schema: &'t Value) -> (usize, &'t Value, Option<String>) {
        let (mut doc, mut schema, mut name) = (doc, schema, None);
        for _ in 0..8 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                break;
            };
            match self.resolve_in(doc, r) {
                Ok(t) => {
                    name = t.def.clone().or_else(|| Some(r.to_string()));
                    (doc, schema) = (t.doc, t.schema);
                }
                Err(_) => break,
            }
        }
        (doc, schema, name)
    }

    /// Whether `schema` (in `doc`) is an object with fields: properties, a
    /// discriminator, an `allOf` with such a part, or a union of such.
    /// A schema already on the way is not (so a cycle ends).
    fn record_like(&self, doc: usize, schema: &'t Value, seen: &mut Vec<*const Value>) -> bool {
        let (doc, schema, _) = self.follow(doc, schema);
        let ptr: *const Value = schema;
        if seen.contains(&ptr) {
            return false;
        }
        seen.push(ptr);
        let Some(o) = schema.as_object() else {
            return false;
        };
        if o.contains_key("properties") || o.contains_key("discriminator") {
            return true;
        }
        if let Some(Value::Array(all)) = o.get("allOf")
            && all.iter().any(|m| self.record_like(doc, m, seen))
        {
            return true;
        }
        union_variants(o)
            .is_some_and(|vs| !vs.is_empty() && vs.iter().all(|v| self.record_like(doc, v, seen)))
    }

    /// Whether a named schema (of document `doc`) becomes a record or enum
    /// declaration; others (aliases of scalars, arrays, unions that are not
    /// of objects) are inlined where referenced.
    fn declares(&self, doc: usize, schema: &'t Value) -> bool {
        if enum_of(schema).is_some() {
            return true;
        }
        let Some(o) = schema.as_object() else {
            return false;
        };
        if o.contains_key("properties") || o.contains_key("discriminator") {
            return true;
        }
        if let Some(Value::Array(all)) = o.get("allOf") {
            return all.iter().any(|m| m.get("properties").is_some())
                || (all.len() > 1
                    && all
                        .iter()
                        .any(|m| self.record_like(doc, m, &mut Vec::new())));
        }
        union_variants(o).is_some_and(|vs| {
            vs.len() > 1 && vs.iter().all(|v| self.record_like(doc, v, &mut Vec::new()))
        })
    }

    fn resolve(&self, r: &str) -> Result<RefTarget<'t>, String> {
        self.resolve_in(self.doc, r)
    }

    /// Resolves a `$ref` from the current document: `#/$defs/X`,
    /// `#/components/schemas/X`, `other.json#/definitions/X`, `other.json`,
    /// or any JSON pointer.
    fn resolve_in(&self, from: usize, r: &str) -> Result<RefTarget<'t>, String> {
        let (file_part, pointer) = r.split_once('#').unwrap_or((r, ""));
        let doc = if file_part.is_empty() {
            from
        } else {
            let here = &self.docs[from].path;
            let target = normalize(&here.parent().unwrap_or(Path::new(".")).join(file_part));
            self.docs
                .iter()
                .position(|d| d.path == target)
                .ok_or_else(|| format!("points into `{file_part}`, which was not found"))?
        };
        let d = &self.docs[doc];
        let root = d
            .root
            .map_err(|why| format!("points into `{file_part}`, which cannot be read: {why}"))?;
        if pointer.is_empty() || pointer == "/" {
            return Ok(RefTarget {
                doc,
                def: None,
                pointer: false,
                schema: root,
            });
        }
        if let Some(name) = ref_name(&format!("#{pointer}")) {
            return match d.defs.get(name) {
                Some(schema) => Ok(RefTarget {
                    doc,
                    def: Some(name.to_string()),
                    pointer: false,
                    schema,
                }),
                None => Err(format!(
                    "names no schema of {} (`{name}`)",
                    if doc == 0 {
                        "this file".to_string()
                    } else {
                        format!("`{file_part}`")
                    }
                )),
            };
        }
        // Any other JSON pointer (`#/properties/address`), `~1`/`~0` escaped.
        let decoded = percent_decode(pointer);
        root.pointer(&decoded)
            .map(|schema| RefTarget {
                doc,
                def: None,
                pointer: true,
                schema,
            })
            .ok_or_else(|| "points at nothing".to_string())
    }

    /// The type name of a named schema (or root) that declares a type.
    fn type_name(&mut self, t: &RefTarget<'t>, site: usize) -> String {
        let key = (t.doc, t.def.clone().unwrap_or_default());
        if t.doc == 0 {
            return match &t.def {
                Some(n) => n.clone(),
                None => self.root_type.clone().unwrap_or_default(),
            };
        }
        if let Some(n) = self.names.get(&key) {
            return n.clone();
        }
        let stem = self.docs[t.doc]
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("schema")
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
        let own = match &t.def {
            Some(n) => n.clone(),
            None => t
                .schema
                .get("title")
                .and_then(Value::as_str)
                .filter(|n| is_name(n))
                .map_or_else(|| stem.clone(), str::to_string),
        };
        let mut name = own.clone();
        if self.taken.contains(&name) {
            name = format!("{stem}_{own}");
        }
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{stem}_{own}_{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        self.names.insert(key, name.clone());
        self.queue.push((t.doc, name.clone(), t.schema, site));
        name
    }

    fn named(&self, name: &str, at: usize) -> TypeExprKind {
        TypeExprKind::Named {
            namespace: None,
            name: self.ident(name, at),
        }
    }

    fn type_expr(&mut self, path: &str, schema: &'t Value, at: usize) -> TypeExpr {
        let span = Span::new(at, at);
        let (kind, nullable) = self.kind_of(path, schema, at);
        TypeExpr {
            kind,
            nullable,
            span,
        }
    }

    fn kind_of(&mut self, path: &str, schema: &'t Value, at: usize) -> (TypeExprKind, bool) {
        let any = |s: &Self| s.named("any", at);
        let Some(obj) = schema.as_object() else {
            // `true` / `{}`: anything.
            return (any(self), true);
        };
        // `nullable: true` (3.0), `type: [X, "null"]` (3.1), a null variant
        // of a `oneOf`/`anyOf`, `null` among the `enum` values.
        let nullable = schema_nullable(schema);
        if let Some(Value::String(r)) = obj.get("$ref") {
            let target = match self.resolve(r) {
                Ok(t) => t,
                Err(why) => {
                    self.warn(at, format!("the reference {r:?} {why}; the type is `any`"));
                    return (any(self), true);
                }
            };
            if !target.pointer && self.declares(target.doc, target.schema) {
                let name = self.type_name(&target, at);
                // The referenced schema's own nullability holds at every
                // use (a component `nullable: true`, `type: [object, "null"]`).
                return (
                    self.named(&name, at),
                    nullable || schema_nullable(target.schema),
                );
            }
            // An alias (a named scalar, array or union) or a pointer into a
            // schema: inlined, in its own document's context.
            let key = (target.doc, r.to_string());
            if self.aliases.contains(&key) {
                return (any(self), true);
            }
            self.aliases.push(key);
            let outer = (self.doc, self.ref_site);
            if target.doc != self.doc {
                self.doc = target.doc;
                if target.doc != 0 {
                    self.ref_site = Some(self.ref_site.unwrap_or(at));
                }
            }
            let alias_path = target.def.clone().unwrap_or_else(|| path.to_string());
            let (k, n) = self.kind_of(&alias_path, target.schema, at);
            (self.doc, self.ref_site) = outer;
            self.aliases.pop();
            return (k, nullable || n);
        }
        if obj.contains_key("discriminator")
            && let Some(body) = self.record_body(path, schema, at)
        {
            return (TypeExprKind::Record(body), nullable);
        }
        if let Some(e) = enum_of(schema) {
            let name = path.to_string();
            self.declare_enum(&name, &e, at);
            return (self.named(&name, at), nullable || e.nullable);
        }
        // A union. With own properties or `allOf` parts it is one part of
        // an object (gathered by `record_body`, below).
        if let Some(real) = union_variants(obj)
            && !obj.contains_key("properties")
            && !obj.contains_key("allOf")
        {
            if let [one] = real.as_slice() {
                let (k, n) = self.kind_of(path, one, at);
                return (k, nullable || n);
            }
            let objects = !real.is_empty()
                && real
                    .iter()
                    .all(|v| self.record_like(self.doc, v, &mut Vec::new()));
            if objects && let Some(body) = self.record_body(path, schema, at) {
                return (TypeExprKind::Record(body), nullable);
            }
            let (k, n) = self.scalar_union(path, &real, at);
            return (k, nullable || n);
        }
        if let Some(Value::Array(all)) = obj.get("allOf")
            && let [one] = all.as_slice()
            && !obj.contains_key("properties")
        {
            let (k, n) = self.kind_of(path, one, at);
            return (k, nullable || n);
        }
        let types: Vec<&str> = type_names(obj)
            .into_iter()
            .filter(|t| *t != "null")
            .collect();
        let kind = match types.as_slice() {
            ["string"] => match obj.get("format").and_then(Value::as_str) {
                Some("date-time") => self.named("datetime", at),
                Some("date") => self.named("date", at),
                Some("time") => self.named("time", at),
                Some("decimal") => self.named("decimal", at),
                _ => self.named("string", at),
            },
            ["integer"] => self.named("int", at),
            ["number"] => self.named("decimal", at),
            ["boolean"] => self.named("bool", at),
            ["array"] => {
                static ANYTHING: Value = Value::Bool(true);
                let items = obj.get("items").unwrap_or(&ANYTHING);
                let inner = self.type_expr(&format!("{path}[]"), items, at);
                TypeExprKind::Array(Box::new(inner))
            }
            ["object"] | [] => {
                if let Some(body) = self.record_body(path, schema, at) {
                    TypeExprKind::Record(body)
                } else if let Some(extra @ Value::Object(_)) = obj.get("additionalProperties") {
                    let inner = self.type_expr(&format!("{path}.*"), extra, at);
                    TypeExprKind::Map(Box::new(inner))
                } else {
                    // A free-form object (or a schema without a type).
                    any(self)
                }
            }
            other => {
                if other.len() > 1 {
                    // `type: [string, integer]`: a union of its types.
                    let typed: Vec<TypeExpr> = other
                        .iter()
                        .map(|t| {
                            let name = match *t {
                                "string" => "string",
                                "integer" => "int",
                                "number" => "decimal",
                                "boolean" => "bool",
                                _ => "any",
                            };
                            TypeExpr {
                                kind: self.named(name, at),
                                nullable: false,
                                span: Span::new(at, at),
                            }
                        })
                        .collect();
                    let (k, n) = self.union_of_types(&typed, at);
                    return (k, nullable || n);
                }
                self.warn(
                    at,
                    format!(
                        "the type {:?} is not supported; the type is `any`",
                        other.join(", ")
                    ),
                );
                any(self)
            }
        };
        (kind, nullable)
    }

    fn warn(&mut self, at: usize, message: String) {
        self.warnings.push(
            Diagnostic::warning(Code::W0004, self.file, Span::new(at, at + 1), message)
                .label("degraded to `any`"),
        );
    }
}

/// A JSON pointer from a URI fragment: `%25` escapes decoded (the `~0`/`~1`
/// escapes are the pointer's own and stay).
fn percent_decode(fragment: &str) -> String {
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = fragment
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| fragment.to_string())
}

/// What an enum's values are: text, or integers (`type: integer` with an
/// `enum`, or the OpenAPI 3.1 `oneOf` of `const`s that names each value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EnumBase {
    Str,
    Int,
}

/// An enum schema's values as written (a duplicate is still there, for
/// W0012), and whether `null` is one of them.
struct EnumValues {
    base: EnumBase,
    values: Vec<String>,
    nullable: bool,
}

/// The values of an `enum`, a `const`, or a `oneOf`/`anyOf` whose every
/// variant is a `const` (or a one-value `enum`): all strings, or all
/// integers where no other type than `integer` is declared.
fn enum_of(schema: &Value) -> Option<EnumValues> {
    static NULL: Value = Value::Null;
    let obj = schema.as_object()?;
    let mut raw: Vec<&Value> = Vec::new();
    if let Some(c) = obj.get("const") {
        raw.push(c);
    } else if let Some(Value::Array(vs)) = obj.get("enum") {
        raw.extend(vs);
    } else {
        let variants = ["oneOf", "anyOf"]
            .iter()
            .find_map(|k| obj.get(*k)?.as_array())?;
        for v in variants {
            if is_null_schema(v) {
                raw.push(&NULL);
                continue;
            }
            let one = match (v.get("const"), v.get("enum")) {
                (Some(c), _) => c,
                (None, Some(Value::Array(e))) if e.len() == 1 => &e[0],
                _ => return None,
            };
            raw.push(one);
        }
    }
    let nullable = raw.iter().any(|v| v.is_null());
    let real: Vec<&Value> = raw.into_iter().filter(|v| !v.is_null()).collect();
    if real.is_empty() {
        return None;
    }
    if real.iter().all(|v| v.is_string()) {
        return Some(EnumValues {
            base: EnumBase::Str,
            values: real
                .iter()
                .filter_map(|v| v.as_str())
                .map(str::to_string)
                .collect(),
            nullable,
        });
    }
    let only_integer = type_names(obj)
        .iter()
        .all(|t| matches!(*t, "integer" | "null"));
    if only_integer && real.iter().all(|v| v.is_i64()) {
        return Some(EnumValues {
            base: EnumBase::Int,
            values: real.iter().map(|v| v.to_string()).collect(),
            nullable,
        });
    }
    None
}

/// The names of a schema's `type` (a string or, in 3.1, a list).
fn type_names(obj: &Map<String, Value>) -> Vec<&str> {
    match obj.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The variants of a `oneOf`/`anyOf` that are not `null`.
fn union_variants(obj: &Map<String, Value>) -> Option<Vec<&Value>> {
    let variants = ["oneOf", "anyOf"]
        .iter()
        .find_map(|k| obj.get(*k)?.as_array())?;
    Some(variants.iter().filter(|v| !is_null_schema(v)).collect())
}

/// `{type: null}`, `{const: null}`, `{enum: [null]}`.
fn is_null_schema(v: &Value) -> bool {
    v.get("type") == Some(&Value::String("null".into()))
        || v.get("const").is_some_and(Value::is_null)
        || matches!(v.get("enum"), Some(Value::Array(e)) if !e.is_empty() && e.iter().all(Value::is_null))
}

/// Whether a schema admits `null` by itself: OpenAPI 3.0 `nullable: true`
/// (Swagger's `x-nullable`, converted), 3.1 `type: [X, "null"]`, `null`
/// among the `enum` values, a null variant of a `oneOf`/`anyOf`.
fn schema_nullable(v: &Value) -> bool {
    let Some(o) = v.as_object() else {
        return false;
    };
    o.get("nullable") == Some(&Value::Bool(true))
        || type_names(o).contains(&"null")
        || matches!(o.get("enum"), Some(Value::Array(vs)) if vs.iter().any(Value::is_null))
        || ["oneOf", "anyOf"]
            .iter()
            .any(|k| matches!(o.get(*k), Some(Value::Array(vs)) if vs.iter().any(is_null_schema)))
}

/// How the definitions of one property combine: `allOf` parts must all
/// hold, union variants are alternatives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compose {
    AllOf,
    Union,
}

/// One definition of a property: its schema, the document it is in, and
/// the part or variant it comes from (for warnings).
#[derive(Clone)]
struct Def<'t> {
    schema: &'t Value,
    doc: usize,
    from: String,
}

/// A property of a composed object, with every distinct definition.
struct Prop<'t> {
    name: String,
    defs: Vec<Def<'t>>,
    compose: Compose,
}

/// An object composed from parts: its properties in the order first met,
/// and the names some part requires.
#[derive(Default)]
struct Composed<'t> {
    props: Vec<Prop<'t>>,
    required: Vec<String>,
}

impl<'t> Composed<'t> {
    /// Adds a definition of `name`; one already there (a diamond reaches
    /// the same schema twice) is not added again.
    fn add(&mut self, name: &str, def: Def<'t>, compose: Compose) {
        match self.props.iter_mut().find(|p| p.name == name) {
            Some(p) => {
                if !p.defs.iter().any(|d| std::ptr::eq(d.schema, def.schema)) {
                    p.defs.push(def);
                }
            }
            None => self.props.push(Prop {
                name: name.to_string(),
                defs: vec![def],
                compose,
            }),
        }
    }

    fn require(&mut self, name: &str) {
        if !self.required.iter().any(|r| r == name) {
            self.required.push(name.to_string());
        }
    }
}

/// `#/components/schemas/charge` → `charge`.
fn ref_name(r: &str) -> Option<&str> {
    ["#/components/schemas/", "#/$defs/", "#/definitions/"]
        .iter()
        .find_map(|p| r.strip_prefix(p))
        .filter(|n| !n.contains('/'))
}

/// `readOnly` / `writeOnly` of a property (both at once say nothing tether
/// can honour, so the field is read and written).
fn access_of(prop: &Value) -> Access {
    let flag = |k: &str| prop.get(k).and_then(Value::as_bool).unwrap_or(false);
    match (flag("readOnly"), flag("writeOnly")) {
        (true, false) => Access::ReadOnly,
        (false, true) => Access::WriteOnly,
        _ => Access::ReadWrite,
    }
}
