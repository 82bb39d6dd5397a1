//! XML records for the sync runtime. The merge compares and patches JSON
//! records; an XML document dropped by a provider becomes one, shaped and
//! typed by the read tree of the plan that reads that side (the schema's
//! view: attributes and child elements by local name, `Text` fields from
//! the element's text, arrays from repeated elements, numbers and booleans
//! typed, `xsi:nil` as null). What no plan reads is left out, as the JSON
//! reader skips it.

use crate::base::Scalar;
use crate::diag::Code;
use crate::exec::RecordError;
use crate::exec::xml::{SOAP11_NS, SOAP12_NS, check_well_formed, element_json, read_document};
use crate::plan::{Plan, ReadKind, ReadNode};
use crate::schema::XmlForm;
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use serde_json::{Map, Value as Json};

/// The record an XML document holds (its document element, or the first
/// element of a SOAP body), as JSON; `plan`'s read tree shapes and types
/// it. `keep`: paths the sync runtime reads besides the plan (timestamps,
/// delete flags, ids), kept as text when the plan does not read them.
///
/// The document passes the checks `run` makes first (the same reader:
/// well-formed, entities, characters, namespace and document element), so
/// a document `run` rejects is not synced with text missing.
///
/// Err: the document cannot be read (E1001, as `run` rejects it), or an
/// element the schema has once is repeated (E1002 at its path, as `run`).
pub fn record_of(text: &str, plan: Option<&Plan>, keep: &[&[String]]) -> Result<Json, RecordError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        RecordError::of_input(Code::E1001, format!("malformed XML: {e}"))
    };
    check_well_formed(text).map_err(|e| unreadable(&e))?;
    if let Some(plan) = plan {
        // Values that do not fit the schema are the mapping's to reject
        // (E1002, as for any record); here only the document is judged.
        read_document(text, plan, &mut |_| {}).map_err(|e| unreadable(&e))?;
    }
    let mut doc: Json = serde_json::from_str(&element_json(text)).map_err(|e| unreadable(&e))?;
    if is_soap(text) {
        doc = doc
            .get("Body")
            .and_then(Json::as_object)
            .and_then(|body| body.values().next().cloned())
            .ok_or_else(|| {
                RecordError::of_input(
                    Code::E1001,
                    "the SOAP envelope has no element in its Body".into(),
                )
            })?;
    }
    let Some(node) = plan.map(|p| &p.read) else {
        return Ok(doc);
    };
    let mut path = Vec::new();
    let mut record = shape(&doc, node, &mut path)?;
    for path in keep {
        if super::json::get(&record, path).is_none()
            && let Some(v) = super::json::get(&doc, path).and_then(text_of)
        {
            super::json::set(&mut record, path, v.clone());
        }
    }
    Ok(record)
}

fn is_soap(text: &str) -> bool {
    let mut xml = NsReader::from_str(text);
    loop {
        match xml.read_resolved_event() {
            Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                return e.local_name().as_ref() == "Envelope"
                    && matches!(ns, ResolveResult::Bound(n)
                        if n.as_ref() == SOAP11_NS || n.as_ref() == SOAP12_NS);
            }
            Ok((_, Event::Eof)) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// `xsi:nil="true"`, as the default shape keeps it (attributes by local
/// name).
fn is_nil(v: &Json) -> bool {
    v.get("nil").and_then(Json::as_str) == Some("true")
}

fn text_of(v: &Json) -> Option<&Json> {
    match v {
        Json::String(_) => Some(v),
        Json::Object(m) => m.get("#text"),
        _ => None,
    }
}

/// `v` shaped by `node`. Err: a single-valued element the plan reads is
/// repeated (the default shape made an array of it): `run`'s reject, at
/// its path.
fn shape(v: &Json, node: &ReadNode, path: &mut Vec<String>) -> Result<Json, RecordError> {
    if is_nil(v) {
        return Ok(Json::Null);
    }
    if let Some(each) = &node.each {
        let items = match v {
            Json::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            path.push(format!("[{i}]"));
            out.push(shape(item, &each.node, path)?);
            path.pop();
        }
        return Ok(Json::Array(out));
    }
    let repeatable = matches!(node.whole, Some((_, ReadKind::Array(_))));
    if v.is_array() && !repeatable {
        let at = path.iter().fold(String::new(), |mut at, seg| {
            if !at.is_empty() && !seg.starts_with('[') {
                at.push('.');
            }
            at.push_str(seg);
            at
        });
        let local = path.last().map_or("", String::as_str);
        return Err(RecordError {
            code: Code::E1002,
            rule: String::new(),
            message: format!("the element `{local}` appears more than once"),
            path: at,
            value: v.to_string(),
        });
    }
    if let Some((_, kind)) = &node.whole {
        return Ok(leaf(v, kind));
    }
    if node.fields.is_empty() {
        return Ok(v.clone());
    }
    let mut out = Map::new();
    for (name, child) in &node.fields {
        let value = match child.xml {
            XmlForm::Text => text_of(v),
            XmlForm::Attribute | XmlForm::Element => v.get(name),
        };
        if let Some(value) = value {
            path.push(name.clone());
            out.insert(name.clone(), shape(value, child, path)?);
            path.pop();
        }
    }
    Ok(Json::Object(out))
}

/// A leaf typed by its read kind. Text that is not what the kind needs is
/// kept as text: the plan then rejects it with its path and value.
fn leaf(v: &Json, kind: &ReadKind) -> Json {
    if is_nil(v) {
        return Json::Null;
    }
    if let ReadKind::Array(inner) = kind {
        return match v {
            Json::Array(items) => Json::Array(items.iter().map(|i| leaf(i, inner)).collect()),
            one => Json::Array(vec![leaf(one, inner)]),
        };
    }
    let Some(Json::String(text)) = text_of(v) else {
        return v.clone();
    };
    let t = text.trim();
    match kind {
        ReadKind::Scalar(Scalar::Int | Scalar::Decimal | Scalar::Float) => {
            match serde_json::from_str::<Json>(t) {
                Ok(n @ Json::Number(_)) => n,
                _ => Json::String(text.clone()),
            }
        }
        ReadKind::Scalar(Scalar::Bool) => match t {
            "true" | "1" => Json::Bool(true),
            "false" | "0" => Json::Bool(false),
            _ => Json::String(text.clone()),
        },
        ReadKind::Raw => v.clone(),
        _ => Json::String(text.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        /// Whatever a provider drops, reading it is a record or an error.
        #[test]
        fn any_text_is_a_record_or_an_error(text in "(<[a-z]{1,3}( a=\"[^\"]{0,4}\")?>|</[a-z]{1,3}>|[^<]{0,6}|<[a-z]/>){0,12}") {
            match record_of(&text, None, &[]) {
                Ok(v) => prop_assert!(v.is_object() || v.is_string(), "{v}"),
                Err(e) => prop_assert!(
                    e.code == Code::E1001
                        && (e.message.starts_with("malformed XML") || e.message.contains("SOAP")),
                    "{e:?}"
                ),
            }
        }
    }

    #[test]
    fn documents_become_records() {
        let doc = r#"<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
  <Account xmlns="urn:x"><Id>7</Id><Name>Acme</Name></Account>
</s:Body></s:Envelope>"#;
        assert_eq!(
            record_of(doc, None, &[]).unwrap(),
            json!({"Id": "7", "Name": "Acme"})
        );
        assert!(
            record_of("<a><b></a>", None, &[])
                .unwrap_err()
                .message
                .starts_with("malformed XML: line 1")
        );
    }
}
