//! Swagger 2.0 documents (`"swagger": "2.0"`), read as the OpenAPI 3
//! document they describe, so that every schema construct (`allOf`,
//! nullability, unions, enums) is imported by the one OpenAPI/JSON Schema
//! importer rather than by a copy of it.
//!
//! The translation is structural and loses nothing tether uses:
//!
//! | Swagger 2.0 | OpenAPI 3 |
//! |---|---|
//! | `definitions.X` | the named schemas, as `components.schemas.X` (read where they are) |
//! | `x-nullable: true` | `nullable: true` |
//! | `discriminator: kind` | `discriminator: { propertyName: kind }` |
//! | a parameter `in: body` with a `schema` | `requestBody.content.application/json.schema` |
//! | parameters `in: formData` | a form `requestBody`: an object schema, one property each |
//! | `responses.<status>.schema` | `responses.<status>.content.application/json.schema` |
//!
//! `$ref`s are not rewritten: `definitions`, `parameters` and `responses`
//! stay where they are (a top-level response converted in place), so every
//! `$ref` resolves as written, and a warning about one quotes what the file
//! says. The importing file's text is unchanged too, so spans are still
//! found in it. The converted document keeps `swagger: "2.0"`: the
//! importer reads its named schemas from `definitions`.

use serde_json::{Map, Value};

/// Which kind of API description a JSON/YAML document is, by its version key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// No `openapi`/`swagger` key: a JSON Schema document.
    JsonSchema,
    OpenApi3,
    Swagger2,
}

/// The document's flavor, or why tether cannot read it (a Swagger 1.x
/// resource listing has no schemas in the form tether reads).
pub fn flavor(root: &Map<String, Value>) -> Result<Flavor, String> {
    if let Some(v) = root.get("swaggerVersion") {
        return Err(format!(
            "this is a Swagger {} document; tether reads Swagger 2.0 and OpenAPI 3",
            version_text(v)
        ));
    }
    if let Some(v) = root.get("swagger") {
        return if version_text(v) == "2.0" {
            Ok(Flavor::Swagger2)
        } else {
            Err(format!(
                "`swagger: {}` is not a version tether reads (Swagger 2.0, OpenAPI 3.0 and 3.1)",
                version_text(v)
            ))
        };
    }
    if let Some(v) = root.get("openapi") {
        return if version_text(v).starts_with("3.") {
            Ok(Flavor::OpenApi3)
        } else {
            Err(format!(
                "`openapi: {}` is not a version tether reads (Swagger 2.0, OpenAPI 3.0 and 3.1)",
                version_text(v)
            ))
        };
    }
    Ok(Flavor::JsonSchema)
}

/// `"2.0"` or `2.0` (YAML reads an unquoted version as a number).
fn version_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// HTTP methods of a path item, as both versions name them.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The OpenAPI 3 form of a Swagger 2.0 document.
pub fn to_openapi3(doc: &Map<String, Value>) -> Value {
    let mut out = doc.clone();
    out.insert("openapi".into(), Value::String("3.0.3".into()));
    if let Some(Value::Object(rs)) = doc.get("responses") {
        let converted = rs.iter().map(|(k, r)| (k.clone(), response(r))).collect();
        out.insert("responses".into(), Value::Object(converted));
    }
    if let Some(Value::Object(paths)) = doc.get("paths") {
        let converted = paths
            .iter()
            .map(|(p, item)| (p.clone(), path_item(doc, item)))
            .collect();
        out.insert("paths".into(), Value::Object(converted));
    }
    let mut out = Value::Object(out);
    rewrite(&mut out);
    out
}

/// A file that a Swagger 2.0 document's `$ref`s reach: its path items
/// (a spec split by path) and its schemas' `x-nullable`s and
/// discriminators in OpenAPI 3 form.
pub fn convert_fragment(v: &mut Value) {
    // `#/parameters/...` in the file means the file's own.
    let doc = v.as_object().cloned().unwrap_or_default();
    convert_path_items(&doc, v);
    rewrite(v);
}

/// Every path item in `v` (an object with an operation: a method key whose
/// value has `responses`), wherever it is: the file may be one path item
/// or a map of them.
fn convert_path_items(doc: &Map<String, Value>, v: &mut Value) {
    match v {
        Value::Object(o) => {
            let is_path_item = METHODS.iter().any(|m| {
                o.get(*m)
                    .and_then(|op| op.get("responses"))
                    .is_some_and(Value::is_object)
            });
            if is_path_item {
                *v = path_item(doc, v);
                return;
            }
            for child in o.values_mut() {
                convert_path_items(doc, child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| convert_path_items(doc, c)),
        _ => {}
    }
}

/// One path: its operations with body parameters and response schemas in
/// OpenAPI 3 form; a `$ref`ed path item is kept as it is.
fn path_item(doc: &Map<String, Value>, item: &Value) -> Value {
    let Value::Object(item) = item else {
        return item.clone();
    };
    let shared: Vec<&Value> = item
        .get("parameters")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut out = Map::new();
    for (key, v) in item {
        match v {
            Value::Object(op) if METHODS.contains(&key.as_str()) => {
                out.insert(key.clone(), operation(doc, op, &shared));
            }
            _ => {
                out.insert(key.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

fn operation(doc: &Map<String, Value>, op: &Map<String, Value>, shared: &[&Value]) -> Value {
    let mut out = op.clone();
    let own: Vec<&Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    // The operation's parameters come first: they override the path's (by
    // name and place).
    let params: Vec<&Value> = own
        .iter()
        .chain(shared)
        .map(|p| local_parameter(doc, p))
        .collect();
    let placed = |p: &&Value, place: &str| p.get("in").and_then(Value::as_str) == Some(place);
    let body = params.iter().find(|p| placed(p, "body"));
    if let Some(schema) = body.and_then(|p| p.get("schema")) {
        let mut rb = Map::new();
        rb.insert("content".into(), json_content(schema));
        if let Some(r) = body.and_then(|p| p.get("required")) {
            rb.insert("required".into(), r.clone());
        }
        out.insert("requestBody".into(), Value::Object(rb));
    } else if let Some(form) = form_schema(params.iter().filter(|p| placed(p, "formData"))) {
        let mut media = Map::new();
        media.insert("schema".into(), form);
        let mut content = Map::new();
        content.insert(
            "application/x-www-form-urlencoded".into(),
            Value::Object(media),
        );
        let mut rb = Map::new();
        rb.insert("content".into(), Value::Object(content));
        out.insert("requestBody".into(), Value::Object(rb));
    }
    if let Some(Value::Object(rs)) = op.get("responses") {
        let converted = rs.iter().map(|(k, r)| (k.clone(), response(r))).collect();
        out.insert("responses".into(), Value::Object(converted));
    }
    Value::Object(out)
}

/// `formData` parameters as the object schema of a form body (as OpenAPI 3
/// writes it): each parameter a property, its `type`/`format`/`items`/
/// `enum` its schema, `required: true` required. The first of a name wins
/// (the operation's over the path's).
fn form_schema<'v>(params: impl Iterator<Item = &'v &'v Value>) -> Option<Value> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in params {
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            continue;
        };
        if properties.contains_key(name) {
            continue;
        }
        let mut schema = p.as_object().cloned().unwrap_or_default();
        for k in [
            "in",
            "name",
            "required",
            "collectionFormat",
            "allowEmptyValue",
        ] {
            schema.remove(k);
        }
        properties.insert(name.to_string(), Value::Object(schema));
        if p.get("required") == Some(&Value::Bool(true)) {
            required.push(Value::String(name.to_string()));
        }
    }
    if properties.is_empty() {
        return None;
    }
    let mut form = Map::new();
    form.insert("type".into(), Value::String("object".into()));
    form.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        form.insert("required".into(), Value::Array(required));
    }
    Some(Value::Object(form))
}

/// A parameter, with a `$ref` to the document's `parameters` followed.
fn local_parameter<'v>(doc: &'v Map<String, Value>, p: &'v Value) -> &'v Value {
    p.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/parameters/"))
        .and_then(|name| doc.get("parameters")?.get(name))
        .unwrap_or(p)
}

/// A response: its `schema` moved under `content` (a `$ref` stays: the
/// top-level response it names is converted in place).
fn response(r: &Value) -> Value {
    let Value::Object(r) = r else {
        return r.clone();
    };
    let mut out = r.clone();
    if let Some(schema) = out.remove("schema") {
        out.insert("content".into(), json_content(&schema));
    }
    Value::Object(out)
}

fn json_content(schema: &Value) -> Value {
    let mut media = Map::new();
    media.insert("schema".into(), schema.clone());
    let mut content = Map::new();
    content.insert("application/json".into(), Value::Object(media));
    Value::Object(content)
}

/// `x-nullable` and string discriminators into OpenAPI 3 form. Only values
/// of the expected shape are touched (a property *named* `discriminator`
/// is an object, not a string, and stays).
fn rewrite(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Bool(n)) = o.get("x-nullable") {
                let n = *n;
                o.insert("nullable".into(), Value::Bool(n));
            }
            if let Some(Value::String(tag)) = o.get("discriminator") {
                let mut d = Map::new();
                d.insert("propertyName".into(), Value::String(tag.clone()));
                o.insert("discriminator".into(), Value::Object(d));
            }
            for child in o.values_mut() {
                rewrite(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn convert(v: Value) -> Value {
        match v {
            Value::Object(o) => to_openapi3(&o),
            _ => Value::Null,
        }
    }

    #[test]
    fn definitions_refs_and_x_nullable_take_their_openapi3_form() {
        let out = convert(json!({
            "swagger": "2.0",
            "definitions": {
                "Envelope": {
                    "discriminator": "kind",
                    "properties": {
                        "sender": { "$ref": "#/definitions/User", "x-nullable": true },
                        "discriminator": { "type": "string" }
                    }
                },
                "User": { "properties": { "id": { "type": "string" } } }
            }
        }));
        let env = &out["definitions"]["Envelope"];
        // As written: `definitions` stay where they are.
        assert_eq!(env["properties"]["sender"]["$ref"], "#/definitions/User");
        assert_eq!(env["properties"]["sender"]["nullable"], true);
        assert_eq!(env["discriminator"]["propertyName"], "kind");
        assert_eq!(env["properties"]["discriminator"]["type"], "string");
    }

    #[test]
    fn body_parameters_and_response_schemas_move_under_content() {
        let out = convert(json!({
            "swagger": "2.0",
            "parameters": { "Env": { "in": "body", "name": "e", "required": true,
                                     "schema": { "$ref": "#/definitions/E" } } },
            "paths": { "/envelopes": {
                "post": {
                    "operationId": "createEnvelope",
                    "parameters": [ { "$ref": "#/parameters/Env" } ],
                    "responses": { "201": { "schema": { "type": "object" } } }
                }
            } }
        }));
        let op = &out["paths"]["/envelopes"]["post"];
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/definitions/E"
        );
        assert_eq!(op["requestBody"]["required"], true);
        assert_eq!(
            op["responses"]["201"]["content"]["application/json"]["schema"]["type"],
            "object"
        );
    }

    #[test]
    fn form_data_parameters_make_a_form_body() {
        let out = convert(json!({
            "swagger": "2.0",
            "paths": { "/chat.postMessage": {
                "parameters": [ { "in": "formData", "name": "channel", "type": "integer" } ],
                "post": {
                    "parameters": [
                        { "in": "formData", "name": "channel", "required": true, "type": "string" },
                        { "in": "formData", "name": "mrkdwn", "type": "boolean" },
                        { "in": "query", "name": "token", "type": "string" }
                    ],
                    "responses": {}
                }
            } }
        }));
        let form = &out["paths"]["/chat.postMessage"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
            ["schema"];
        assert_eq!(form["properties"]["channel"], json!({ "type": "string" }));
        assert_eq!(form["properties"]["mrkdwn"], json!({ "type": "boolean" }));
        assert!(form["properties"].get("token").is_none());
        assert_eq!(form["required"], json!(["channel"]));
    }

    #[test]
    fn a_path_item_in_another_file_is_converted_too() {
        let mut file = json!({
            "parameters": { "P": { "in": "body", "name": "p", "schema": { "type": "object" } } },
            "pets": { "post": {
                "parameters": [ { "$ref": "#/parameters/P" } ],
                "responses": { "200": { "schema": { "$ref": "../swagger.yaml#/definitions/Pet" } } }
            } }
        });
        convert_fragment(&mut file);
        let op = &file["pets"]["post"];
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"]["type"],
            "object"
        );
        assert_eq!(
            op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "../swagger.yaml#/definitions/Pet"
        );
    }

    #[test]
    fn versions_other_than_swagger_2_and_openapi_3_are_named() {
        let of = |v: Value| match v {
            Value::Object(o) => flavor(&o),
            _ => Ok(Flavor::JsonSchema),
        };
        assert_eq!(of(json!({"swagger": "2.0"})), Ok(Flavor::Swagger2));
        assert_eq!(of(json!({"swagger": 2.0})), Ok(Flavor::Swagger2));
        assert_eq!(of(json!({"openapi": "3.1.0"})), Ok(Flavor::OpenApi3));
        assert_eq!(of(json!({"type": "object"})), Ok(Flavor::JsonSchema));
        assert!(of(json!({"swaggerVersion": "1.2"})).is_err());
        assert!(of(json!({"swagger": "1.2"})).is_err());
    }
}
