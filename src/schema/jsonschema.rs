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
    EnumDecl, FieldDecl, Ident, RecordBody, RecordDecl, Span, StringLit, TypeDecl, TypeExpr,
    TypeExprKind,
};
use serde_json::{Map, Value};

/// What an import produced: the declarations, and warnings for constructs
/// that were degraded to `any`.
pub struct Imported {
    pub types: Vec<TypeDecl>,
    pub warnings: Vec<Diagnostic>,
}

pub fn import(file: FileId, text: &str, root_name: &str) -> Result<Imported, Box<Diagnostic>> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        let at = offset_of(text, e.line(), e.column());
        unreadable(file, at, format!("not valid JSON: {e}"))
    })?;
    import_value(file, text, &root, root_name)
}

/// An OpenAPI or JSON Schema document in YAML: read into the same JSON
/// model (YAML 1.2's JSON schema), then imported as JSON is.
pub fn import_yaml(file: FileId, text: &str, root_name: &str) -> Result<Imported, Box<Diagnostic>> {
    let root: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let at = e.location().map_or(0, |l| l.index());
        unreadable(file, at, format!("not valid YAML: {e}"))
    })?;
    import_value(file, text, &root, root_name)
}

/// E0004 at the place a schema file stops being readable.
fn unreadable(file: FileId, at: usize, message: String) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(Code::E0004, file, Span::new(at, at), message).label("here"))
}

fn import_value(
    file: FileId,
    text: &str,
    root: &Value,
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
    // Every named schema, with where its key is in the text.
    let mut defs: Vec<(&str, &Value, usize)> = Vec::new();
    let is_openapi = obj.contains_key("openapi") || obj.contains_key("swagger");
    if is_openapi {
        let schemas = obj
            .get("components")
            .and_then(|c| c.get("schemas"))
            .and_then(Value::as_object);
        let base = find_key(text, 0, "schemas");
        for (name, schema) in schemas.into_iter().flatten() {
            defs.push((name, schema, find_key(text, base, name)));
        }
    } else {
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(d)) = obj.get(key) {
                let base = find_key(text, 0, key);
                for (name, schema) in d {
                    defs.push((name, schema, find_key(text, base, name)));
                }
            }
        }
    }
    let mut im = Importer {
        file,
        text,
        defs: defs.iter().map(|(n, s, _)| (n.to_string(), *s)).collect(),
        aliases: Vec::new(),
        types: Vec::new(),
        warnings: Vec::new(),
    };
    for (name, schema, at) in &defs {
        if declares_type(schema) {
            im.named_type(name, schema, *at);
        }
    }
    if !is_openapi {
        let name = obj
            .get("title")
            .and_then(Value::as_str)
            .filter(|t| is_name(t))
            .unwrap_or(root_name);
        im.named_type(name, root, 0);
    }
    Ok(Imported {
        types: im.types,
        warnings: im.warnings,
    })
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

struct Importer<'t> {
    file: FileId,
    text: &'t str,
    /// Named schemas, for `$ref`s to aliases (inlined, not declared).
    defs: std::collections::HashMap<String, &'t Value>,
    /// The aliases being inlined, so a cycle of aliases ends.
    aliases: Vec<String>,
    types: Vec<TypeDecl>,
    warnings: Vec<Diagnostic>,
}

impl Importer<'_> {
    fn ident(&self, name: &str, at: usize) -> Ident {
        Ident {
            name: name.to_string(),
            span: Span::new(at, at + name.len()),
        }
    }

    /// A top-level type: a record, an enum, or (for anything else) nothing —
    /// references to it then resolve to its shape through `type_expr`.
    fn named_type(&mut self, name: &str, schema: &Value, at: usize) {
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

    /// The fields of an object schema (with `allOf` members merged).
    fn record_body(&mut self, path: &str, schema: &Value, at: usize) -> Option<RecordBody> {
        let obj = schema.as_object()?;
        let mut props: Vec<(String, Value)> = Vec::new();
        let mut required: Vec<String> = Vec::new();
        collect_object(obj, &mut props, &mut required);
        if let Some(Value::Array(all)) = obj.get("allOf") {
            for member in all {
                if let Some(m) = member.as_object() {
                    collect_object(m, &mut props, &mut required);
                }
            }
        }
        if props.is_empty() && !obj.contains_key("properties") {
            return None;
        }
        let mut fields = Vec::new();
        for (name, prop) in props {
            let fat = find_key(self.text, at, &name);
            let ty = self.type_expr(&format!("{path}.{name}"), &prop, fat);
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
            });
        }
        Some(RecordBody {
            fields,
            span: Span::new(at, at + path.len().min(1)),
            xml_sequence: false,
        })
    }

    fn named(&self, name: &str, at: usize) -> TypeExprKind {
        TypeExprKind::Named {
            namespace: None,
            name: self.ident(name, at),
        }
    }

    fn type_expr(&mut self, path: &str, schema: &Value, at: usize) -> TypeExpr {
        let span = Span::new(at, at);
        let (kind, nullable) = self.kind_of(path, schema, at);
        TypeExpr {
            kind,
            nullable,
            span,
        }
    }

    fn kind_of(&mut self, path: &str, schema: &Value, at: usize) -> (TypeExprKind, bool) {
        let any = |s: &Self| s.named("any", at);
        let Some(obj) = schema.as_object() else {
            // `true` / `{}`: anything.
            return (any(self), true);
        };
        let mut nullable = obj.get("nullable") == Some(&Value::Bool(true));
        if let Some(Value::String(r)) = obj.get("$ref") {
            return match ref_name(r).map(|n| (n, self.defs.get(n).copied())) {
                Some((name, Some(target))) if declares_type(target) => {
                    (self.named(name, at), nullable)
                }
                Some((name, Some(target))) => {
                    if self.aliases.iter().any(|a| a == name) {
                        return (any(self), true);
                    }
                    self.aliases.push(name.to_string());
                    let (k, n) = self.kind_of(name, target, at);
                    self.aliases.pop();
                    (k, nullable || n)
                }
                Some((name, None)) => {
                    self.warn(at, format!("the reference {r:?} names no schema of this file (`{name}`); the type is `any`"));
                    (any(self), true)
                }
                None => {
                    self.warn(at, format!("the reference {r:?} is not supported (only local `#/components/schemas/`, `#/$defs/`, `#/definitions/`); the type is `any`"));
                    (any(self), true)
                }
            };
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
                let items = obj.get("items").cloned().unwrap_or(Value::Bool(true));
                let inner = self.type_expr(&format!("{path}[]"), &items, at);
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

/// Properties and required names of one object schema, appended.
fn collect_object(
    obj: &Map<String, Value>,
    props: &mut Vec<(String, Value)>,
    required: &mut Vec<String>,
) {
    if let Some(Value::Object(p)) = obj.get("properties") {
        for (k, v) in p {
            if let Some(existing) = props.iter_mut().find(|(n, _)| n == k) {
                existing.1 = v.clone();
            } else {
                props.push((k.clone(), v.clone()));
            }
        }
    }
    if let Some(Value::Array(r)) = obj.get("required") {
        required.extend(r.iter().filter_map(Value::as_str).map(str::to_string));
    }
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
