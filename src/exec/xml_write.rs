//! Writing output records as XML, straight from the output slots, in the
//! target schema's order: attributes from `@` fields, the element's text
//! from a `#` field, repeated elements for arrays, `xsi:nil` for null, the
//! target namespace declared once on the record's element.
//!
//! A value written whole (a copied sub-record, an `any` value) is JSON at
//! this point; it is laid out by its declared record type when it has one
//! (`Plan.shapes`), else in the default shape the XML reader
//! produces: `"@name"` members as attributes, `"#text"` as text, the rest
//! as child elements.
//!
//! What XML 1.0 cannot carry (a control character, a member name that is
//! not an XML name, an array directly inside an array) rejects the record
//! with the place named, rather than writing a document no parser reads.

use crate::base::Value;
use crate::plan::{Plan, Shapes, WriteNode};
use crate::schema::{RecordId, XmlForm};
use serde_json::Value as Json;
use std::fmt::Write as _;

pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Why a record cannot be written as XML, and where.
#[derive(Debug, PartialEq)]
pub struct XmlWriteError {
    pub path: String,
    pub message: String,
}

/// Writes one output record as an XML element (no declaration).
pub fn write_record(
    plan: &Plan,
    frame: &[Value<'_>],
    buf: &mut String,
) -> Result<(), XmlWriteError> {
    let out = &plan.xml_output;
    let mut w = Writer {
        shapes: &plan.shapes,
        buf,
        path: Vec::new(),
    };
    // Unqualified local elements: the namespace goes on a prefix that only
    // the record's own element uses.
    let (name, decl) = match (&out.namespace, out.qualified) {
        (Some(ns), true) => (
            out.element.clone(),
            format!(" xmlns=\"{}\"", escape(ns, true).unwrap_or_default()),
        ),
        (Some(ns), false) => (
            format!("t:{}", out.element),
            format!(" xmlns:t=\"{}\"", escape(ns, true).unwrap_or_default()),
        ),
        (None, _) => (out.element.clone(), String::new()),
    };
    w.path.push(out.element.clone());
    if !w.node(&name, &decl, &plan.write, frame)? {
        let _ = write!(w.buf, "<{name}{decl}/>");
    }
    Ok(())
}

struct Writer<'o, 'b> {
    shapes: &'o Shapes,
    buf: &'b mut String,
    /// Where we are, for errors: `Document.BkToCstmrStmt.Stmt`.
    path: Vec<String>,
}

impl Writer<'_, '_> {
    fn fail(&self, message: impl Into<String>) -> XmlWriteError {
        XmlWriteError {
            path: self.path.join("."),
            message: message.into(),
        }
    }

    /// Writes element `name` for `node`; false (nothing written) when
    /// nothing under it is present.
    fn node(
        &mut self,
        name: &str,
        decl: &str,
        node: &WriteNode,
        frame: &[Value<'_>],
    ) -> Result<bool, XmlWriteError> {
        if let Some(slot) = node.whole {
            return match &frame[slot] {
                Value::Rows(rows) => {
                    let Some(each) = &node.each else {
                        return Ok(false);
                    };
                    for row in rows {
                        // An element with nothing in it is still an element.
                        if !self.node(name, decl, &each.node, row)? {
                            let _ = write!(self.buf, "<{name}{decl}/>");
                        }
                    }
                    Ok(!rows.is_empty())
                }
                v => self.value(name, decl, v, node.shape),
            };
        }
        let start = self.buf.len();
        let _ = write!(self.buf, "<{name}{decl}");
        let mut any = false;
        for (field, child) in &node.fields {
            if child.xml != XmlForm::Attribute {
                continue;
            }
            let Some(v) = child.whole.map(|s| &frame[s]) else {
                continue;
            };
            if let Some(text) = self.attribute_text(field, v)? {
                self.attribute(field, &text)?;
                any = true;
            }
        }
        self.buf.push('>');
        let open = self.buf.len();
        for (_, child) in &node.fields {
            if child.xml != XmlForm::Text {
                continue;
            }
            if let Some(v) = child.whole.map(|s| &frame[s])
                && let Some(text) = scalar_text(v)
            {
                self.text(&text)?;
            }
        }
        for (field, child) in &node.fields {
            if child.xml != XmlForm::Element {
                continue;
            }
            self.path.push(field.clone());
            check_name(field).map_err(|m| self.fail(m))?;
            self.node(field, "", child, frame)?;
            self.path.pop();
        }
        if self.buf.len() > open {
            let _ = write!(self.buf, "</{name}>");
        } else if any {
            // Attributes only: `<Amt Ccy="EUR"/>`.
            self.buf.truncate(open - 1);
            self.buf.push_str("/>");
        } else {
            self.buf.truncate(start);
            return Ok(false);
        }
        Ok(true)
    }

    /// One runtime value as element `name` (repeated for arrays).
    fn value(
        &mut self,
        name: &str,
        decl: &str,
        v: &Value<'_>,
        shape: Option<RecordId>,
    ) -> Result<bool, XmlWriteError> {
        match v {
            Value::Missing | Value::Invalid | Value::Rows(_) => Ok(false),
            Value::Null => {
                self.nil(name, decl);
                Ok(true)
            }
            Value::Array(items) => {
                for item in items {
                    if matches!(item, Value::Array(_)) {
                        return Err(self.fail("an array inside an array has no XML form"));
                    }
                    if !self.value(name, decl, item, shape)? {
                        let _ = write!(self.buf, "<{name}{decl}/>");
                    }
                }
                Ok(!items.is_empty())
            }
            Value::Raw(json) => {
                let j: Json = serde_json::from_str(json)
                    .map_err(|e| self.fail(format!("the value is not JSON: {e}")))?;
                self.json(name, decl, &j, shape)
            }
            Value::Money(m) => {
                let _ = write!(
                    self.buf,
                    "<{name}{decl}><amount>{}</amount><currency>{}</currency></{name}>",
                    m.padded_amount(),
                    m.currency
                );
                Ok(true)
            }
            scalar => self.text_element(name, decl, &scalar_text(scalar).unwrap_or_default()),
        }
    }

    /// `<name>text</name>`.
    fn text_element(&mut self, name: &str, decl: &str, text: &str) -> Result<bool, XmlWriteError> {
        let _ = write!(self.buf, "<{name}{decl}>");
        self.text(text)?;
        let _ = write!(self.buf, "</{name}>");
        Ok(true)
    }

    /// A JSON value as element `name`, laid out by `shape` when known.
    fn json(
        &mut self,
        name: &str,
        decl: &str,
        j: &Json,
        shape: Option<RecordId>,
    ) -> Result<bool, XmlWriteError> {
        match j {
            Json::Null => {
                self.nil(name, decl);
                Ok(true)
            }
            Json::Array(items) => {
                for item in items {
                    if item.is_array() {
                        return Err(self.fail("an array inside an array has no XML form"));
                    }
                    self.json(name, decl, item, shape)?;
                }
                Ok(!items.is_empty())
            }
            Json::Object(members) => {
                let layout = self.layout(members, shape);
                let _ = write!(self.buf, "<{name}{decl}");
                for (key, v, _) in layout.iter().filter(|m| m.2 == XmlForm::Attribute) {
                    if let Some(text) = json_text(v) {
                        self.attribute(key, &text)?;
                    }
                }
                self.buf.push('>');
                for (_, v, _) in layout.iter().filter(|m| m.2 == XmlForm::Text) {
                    if let Some(text) = json_text(v) {
                        self.text(&text)?;
                    }
                }
                for (key, v, _) in layout.iter().filter(|m| m.2 == XmlForm::Element) {
                    self.path.push(key.clone());
                    check_name(key).map_err(|m| self.fail(m))?;
                    let child_shape = shape
                        .and_then(|r| self.shapes.get(r)?.iter().find(|f| f.name == *key)?.shape);
                    self.json(key, "", v, child_shape)?;
                    self.path.pop();
                }
                let _ = write!(self.buf, "</{name}>");
                Ok(true)
            }
            scalar => self.text_element(name, decl, &json_text(scalar).unwrap_or_default()),
        }
    }

    /// The members of a JSON object as (name, value, form): the shape's
    /// fields first in schema order, then the members it does not know
    /// (kept, never dropped), by the default shape's conventions.
    fn layout<'j>(
        &self,
        members: &'j serde_json::Map<String, Json>,
        shape: Option<RecordId>,
    ) -> Vec<(String, &'j Json, XmlForm)> {
        let entries: Vec<(&'j String, &'j Json)> = members.iter().collect();
        let mut used = vec![false; entries.len()];
        let mut out = Vec::with_capacity(entries.len());
        for f in shape.and_then(|r| self.shapes.get(r)).into_iter().flatten() {
            let bare = f.name.strip_prefix('@').unwrap_or(&f.name);
            let at = format!("@{bare}");
            let candidates: &[&str] = match f.form {
                XmlForm::Attribute => &[&f.name, bare, &at],
                XmlForm::Text => &[&f.name, "#text"],
                XmlForm::Element => &[&f.name],
            };
            let found = candidates.iter().find_map(|c| {
                (0..entries.len()).find(|&i| !used[i] && entries[i].0.as_str() == *c)
            });
            if let Some(i) = found {
                used[i] = true;
                out.push((bare.to_string(), entries[i].1, f.form));
            }
        }
        for (i, (k, v)) in entries.into_iter().enumerate() {
            if used[i] {
                continue;
            }
            let (key, form) = if let Some(a) = k.strip_prefix('@') {
                (a, XmlForm::Attribute)
            } else if k == "#text" {
                (k.as_str(), XmlForm::Text)
            } else {
                (k.as_str(), XmlForm::Element)
            };
            out.push((key.to_string(), v, form));
        }
        out
    }

    fn nil(&mut self, name: &str, decl: &str) {
        let _ = write!(
            self.buf,
            "<{name}{decl} xmlns:xsi=\"{XSI_NS}\" xsi:nil=\"true\"/>"
        );
    }

    fn attribute(&mut self, name: &str, value: &str) -> Result<(), XmlWriteError> {
        let name = name.strip_prefix('@').unwrap_or(name);
        check_name(name).map_err(|m| self.fail(format!("attribute: {m}")))?;
        let escaped = escape(value, true).map_err(|m| self.fail(format!("@{name}: {m}")))?;
        let _ = write!(self.buf, " {name}=\"{escaped}\"");
        Ok(())
    }

    fn text(&mut self, value: &str) -> Result<(), XmlWriteError> {
        let escaped = escape(value, false).map_err(|m| self.fail(m))?;
        self.buf.push_str(&escaped);
        Ok(())
    }

    /// The text of an attribute value; `None` when absent.
    fn attribute_text(&self, field: &str, v: &Value<'_>) -> Result<Option<String>, XmlWriteError> {
        match v {
            Value::Missing | Value::Invalid | Value::Null => Ok(None),
            Value::Array(_) | Value::Rows(_) | Value::Money(_) | Value::Raw(_) => {
                Err(XmlWriteError {
                    path: format!("{}.@{field}", self.path.join(".")),
                    message: format!("a {} value cannot be an XML attribute", v.kind_name()),
                })
            }
            v => Ok(scalar_text(v)),
        }
    }
}

/// A JSON value as XML text: a string as it is, other values as JSON;
/// `None` for null.
fn json_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The text form of a scalar (XML Schema's lexical forms: `true`, ISO
/// dates, decimals as written).
fn scalar_text(v: &Value<'_>) -> Option<String> {
    Some(match v {
        Value::Str(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Float(f) if f.is_nan() => "NaN".into(),
        Value::Float(f) if f.is_infinite() => if *f > 0.0 { "INF" } else { "-INF" }.into(),
        Value::Float(f) => format!("{f:?}"),
        Value::Date(_) | Value::DateTime(_) | Value::LocalDateTime(_) | Value::Time(_) => {
            // The JSON form is a quoted ISO string: the same text.
            let json = v.to_json();
            json.trim_matches('"').to_string()
        }
        _ => return None,
    })
}

/// Escapes text for an element (`<`, `&`, `>`) or an attribute (also
/// quotes, and whitespace that attribute normalisation would flatten).
/// Characters XML 1.0 forbids are an error: no escape can carry them.
pub fn escape(s: &str, attribute: bool) -> Result<std::borrow::Cow<'_, str>, String> {
    let special = |c: char| {
        matches!(c, '<' | '>' | '&')
            || (attribute && matches!(c, '"' | '\'' | '\n' | '\r' | '\t'))
            || (c == '\r')
            || !allowed(c)
    };
    if !s.chars().any(special) {
        return Ok(std::borrow::Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            // A bare CR would be read back as LF (line-end normalisation).
            '\r' => out.push_str("&#13;"),
            c if !allowed(c) => {
                return Err(format!("U+{:04X} cannot be written in XML 1.0", c as u32));
            }
            c => out.push(c),
        }
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// XML 1.0's `Char` production.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Whether `name` is an XML name (without a prefix).
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {
            chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        }
        _ => false,
    };
    if ok && !name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("xml")) {
        Ok(())
    } else {
        Err(format!("`{name}` is not an XML element or attribute name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_refuses_what_xml_cannot_carry() {
        assert_eq!(escape("a<b & c>", false).unwrap(), "a&lt;b &amp; c&gt;");
        assert_eq!(
            escape("say \"hi\"\n", true).unwrap(),
            "say &quot;hi&quot;&#10;"
        );
        assert_eq!(escape("line\r\n", false).unwrap(), "line&#13;\n");
        assert_eq!(escape("plain", false).unwrap(), "plain");
        assert!(escape("bell\u{7}", false).unwrap_err().contains("U+0007"));
    }

    #[test]
    fn names() {
        assert!(check_name("Ntry").is_ok());
        assert!(check_name("first-name.x_1").is_ok());
        assert!(check_name("first name").is_err());
        assert!(check_name("1st").is_err());
        assert!(check_name("xmlns").is_err());
        assert!(check_name("").is_err());
    }
}
