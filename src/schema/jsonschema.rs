//! JSON Schema (draft-07, 2020-12) and OpenAPI 3.0/3.1 `components.schemas`,
//! imported as type declarations: the same AST an inline `schema` block
//! gives, so the registry and the checker treat imported and written types
//! alike.
//!
//! Spans: serde_json keeps no positions, so each declaration is located by
//! finding its key (`"charge":`) in the file text, searching forward from its
//! parent's position. That is exact for the usual one-key-per-line files and
//! never worse than pointing at the parent.

use crate::diag::{Code, Diagnostic, FileId};
use crate::syntax::{
    Access, EnumDecl, FieldDecl, Ident, RecordBody, RecordDecl, Span, StringLit, TypeDecl,
    TypeExpr, TypeExprKind,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What an import produced: the declarations, and warnings for constructs
/// that were degraded to `any`.
pub struct Imported {
    pub types: Vec<TypeDecl>,
    pub warnings: Vec<Diagnostic>,
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
        if declares_type(schema) {
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
    Ok(Imported {
        types: im.types,
        warnings: im.warnings,
    })
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
        return rest
            .find(&format!("\"{key}\""))
            .map_or(from, |i| from + i + 1);
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
                if declares_type(target.schema) {
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
        if declares_type(schema) && !empty {
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
        if let Some(values) = string_enum(schema) {
            self.types.push(TypeDecl::Enum(EnumDecl {
                name: self.ident(name, at),
                values: values
                    .into_iter()
                    .map(|v| StringLit { value: v, span })
                    .collect(),
                span,
            }));
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

    /// The fields of an object schema (with `allOf` members merged), or of
    /// a `oneOf`/`anyOf` with a `discriminator`: every variant's fields,
    /// optional, and the discriminating property, required, as an enum of
    /// its values.
    fn record_body(&mut self, path: &str, schema: &'t Value, at: usize) -> Option<RecordBody> {
        let obj = schema.as_object()?;
        let mut props: Vec<(String, &'t Value, usize)> = Vec::new();
        let mut required: Vec<String> = Vec::new();
        self.collect_members(obj, self.doc, &mut props, &mut required);
        let tag = self.discriminator(path, obj, at, &mut props, &mut required);
        if props.is_empty() && !obj.contains_key("properties") {
            return None;
        }
        let mut fields = Vec::new();
        for (name, prop, doc) in props {
            let fat = self.locate(at, &name);
            let ty = match &tag {
                Some((tag_name, ty)) if *tag_name == name => ty.clone(),
                _ => {
                    let outer = std::mem::replace(&mut self.doc, doc);
                    let ty = self.type_expr(&format!("{path}.{name}"), prop, fat);
                    self.doc = outer;
                    ty
                }
            };
            fields.push(FieldDecl {
                name: self.ident(&name, fat),
                optional: !required.contains(&name),
                ty,
                span: Span::new(fat, fat + name.len()),
                description: prop
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                xml: Default::default(),
                access: access_of(prop),
            });
        }
        Some(RecordBody {
            fields,
            span: Span::new(at, at + path.len().min(1)),
            xml_sequence: false,
        })
    }

    /// For a `oneOf`/`anyOf` with a `discriminator`: the variants' fields
    /// appended to `props` (optional: each is in some variants only), and
    /// the discriminating property with its enum type (its values are the
    /// `mapping`'s keys, else the variants' schema names).
    fn discriminator(
        &mut self,
        path: &str,
        obj: &'t Map<String, Value>,
        at: usize,
        props: &mut Vec<(String, &'t Value, usize)>,
        required: &mut Vec<String>,
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
        let from_names = values.is_empty();
        for v in variants {
            if from_names && let Some(Value::String(r)) = v.get("$ref") {
                values.extend(r.rsplit('/').next().map(str::to_string));
            }
            let (doc, target) = self.deref(v);
            let Some(t) = target.as_object() else {
                continue;
            };
            // A variant's own `required` does not hold for the union.
            self.collect_members(t, doc, props, &mut Vec::new());
        }
        if !required.contains(&tag) {
            required.push(tag.clone());
        }
        if !props.iter().any(|(n, _, _)| *n == tag) {
            props.push((tag.clone(), &Value::Null, self.doc));
        }
        let enum_name = format!("{path}.{tag}");
        let span = Span::new(at, at);
        if !values.is_empty() && !self.types.iter().any(|t| t.name().name == enum_name) {
            self.types.push(TypeDecl::Enum(EnumDecl {
                name: self.ident(&enum_name, at),
                values: values
                    .into_iter()
                    .map(|v| StringLit { value: v, span })
                    .collect(),
                span,
            }));
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

    /// The properties and required names of an object schema and of its
    /// `allOf` members (each followed through its `$ref`), appended.
    fn collect_members(
        &self,
        obj: &'t Map<String, Value>,
        doc: usize,
        props: &mut Vec<(String, &'t Value, usize)>,
        required: &mut Vec<String>,
    ) {
        collect_object(obj, doc, props, required);
        if let Some(Value::Array(all)) = obj.get("allOf") {
            for member in all {
                let (doc, m) = self.deref(member);
                if let Some(m) = m.as_object() {
                    collect_object(m, doc, props, required);
                }
            }
        }
    }

    /// A schema with its `$ref` followed (once), and the document it is in.
    fn deref(&self, schema: &'t Value) -> (usize, &'t Value) {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => match self.resolve(r) {
                Ok(t) => (t.doc, t.schema),
                Err(_) => (self.doc, schema),
            },
            None => (self.doc, schema),
        }
    }

    /// Resolves a `$ref` from the current document: `#/$defs/X`,
    /// `#/components/schemas/X`, `other.json#/definitions/X`, `other.json`,
    /// or any JSON pointer.
    fn resolve(&self, r: &str) -> Result<RefTarget<'t>, String> {
        let (file_part, pointer) = r.split_once('#').unwrap_or((r, ""));
        let doc = if file_part.is_empty() {
            self.doc
        } else {
            let here = &self.docs[self.doc].path;
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
        let mut nullable = obj.get("nullable") == Some(&Value::Bool(true));
        if let Some(Value::String(r)) = obj.get("$ref") {
            let target = match self.resolve(r) {
                Ok(t) => t,
                Err(why) => {
                    self.warn(at, format!("the reference {r:?} {why}; the type is `any`"));
                    return (any(self), true);
                }
            };
            if !target.pointer && declares_type(target.schema) {
                let name = self.type_name(&target, at);
                return (self.named(&name, at), nullable);
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
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(variants)) = obj.get(key) {
                let real: Vec<&Value> = variants.iter().filter(|v| !is_null_schema(v)).collect();
                nullable |= real.len() < variants.len();
                if let [one] = real.as_slice() {
                    let (k, n) = self.kind_of(path, one, at);
                    return (k, nullable || n);
                }
                // A union (Stripe's expandable id-or-object): `any`, read
                // with `id_of` and friends.
                return (any(self), nullable);
            }
        }
        if let Some(Value::Array(all)) = obj.get("allOf")
            && let [one] = all.as_slice()
            && !obj.contains_key("properties")
        {
            let (k, n) = self.kind_of(path, one, at);
            return (k, nullable || n);
        }
        let types: Vec<&str> = match obj.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        nullable |= types.contains(&"null");
        let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
        if string_enum(schema).is_some() {
            let name = path.to_string();
            if !self.types.iter().any(|t| t.name().name == name) {
                self.named_type(&name, schema, at);
            }
            return (self.named(&name, at), nullable);
        }
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
                    // `type: [string, integer]`: a union.
                    return (any(self), nullable);
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

/// Properties (with the document they are in) and required names of one
/// object schema, appended; a property already there is replaced.
fn collect_object<'t>(
    obj: &'t Map<String, Value>,
    doc: usize,
    props: &mut Vec<(String, &'t Value, usize)>,
    required: &mut Vec<String>,
) {
    if let Some(Value::Object(p)) = obj.get("properties") {
        for (k, v) in p {
            if let Some(existing) = props.iter_mut().find(|(n, _, _)| n == k) {
                existing.1 = v;
                existing.2 = doc;
            } else {
                props.push((k.clone(), v, doc));
            }
        }
    }
    if let Some(Value::Array(r)) = obj.get("required") {
        required.extend(r.iter().filter_map(Value::as_str).map(str::to_string));
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

/// The string values of an `enum` (or `const`) schema.
fn string_enum(schema: &Value) -> Option<Vec<String>> {
    let obj = schema.as_object()?;
    if let Some(Value::String(c)) = obj.get("const") {
        return Some(vec![c.clone()]);
    }
    let values = obj.get("enum")?.as_array()?;
    let strings: Vec<String> = values
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    (strings.len() == values.iter().filter(|v| !v.is_null()).count() && !strings.is_empty())
        .then_some(strings)
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type") == Some(&Value::String("null".into()))
}

/// Whether a named schema becomes a record or enum declaration (others —
/// aliases of scalars, arrays, unions — are inlined where referenced).
fn declares_type(schema: &Value) -> bool {
    string_enum(schema).is_some()
        || schema.as_object().is_some_and(|o| {
            o.contains_key("properties")
                || o.contains_key("discriminator")
                || o.get("allOf")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.len() > 1 || a.iter().any(|m| m.get("properties").is_some()))
        })
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
