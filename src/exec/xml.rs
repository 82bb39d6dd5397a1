//! XML input, streamed with quick-xml's pull parser and guided by the plan's
//! read tree, like the JSON reader: elements and attributes the plan does
//! not read are skipped, read values land in their slots, typed by the
//! schema (an `xs:decimal` is an exact decimal). No DOM is built.
//!
//! * Elements are matched by local name, in the document element's
//!   namespace or in none (`elementFormDefault="unqualified"`); elements of
//!   other namespaces are foreign content and skipped. Attributes are
//!   matched by local name; `xsi:nil="true"` makes the element null.
//! * A field of form `Text` (`value` from an XSD `simpleContent`, `"#text"`
//!   in a tether schema) is the element's text.
//! * A SOAP 1.1 or 1.2 envelope is opened: the record is the first element
//!   in its `Body`.
//! * With `for` clauses, rows are built as the elements stream past: an
//!   element of the innermost level is mapped when it ends, with the values
//!   of its enclosing elements read so far. When a schema does not fix the
//!   order, or the mapping reads an enclosing value placed after the array,
//!   the rows wait for the enclosing element to end (`LevelPlan::deferred`).
//!
//! A document is checked for well-formedness first, so a malformed one is
//! rejected whole, with the line and column of the fault, and no row of it
//! is written.
//!
//! Why one file of about 1100 lines: a streaming reader is one state
//! machine over quick-xml's events; its states share the element stack, the
//! read tree cursor and the held rows of `for` documents.

use super::read::{ReadError, not_in_enum, time_value};
use super::rows::{Row, belongs, under};
use crate::base::Currency;
use crate::base::Scalar;
use crate::base::Value;
use crate::plan::{IterPlan, Plan, ReadKind, ReadNode};
use crate::schema::XmlForm;
use crate::stdlib::convert_text;
use crate::stdlib::iso4217::not_a_currency;
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use std::borrow::Cow;

const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

/// A document that cannot be read: not well-formed, or not the mapping's
/// source document.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Reads one XML document: calls `emit` once for a plain mapping (the
/// document is the record, `element` empty), or once per row. Ok: the
/// number of record elements read (one, or a batch's).
pub fn read_document<'a>(
    text: &'a str,
    plan: &Plan,
    emit: &mut dyn FnMut(Row<'a>),
) -> Result<usize, XmlError> {
    check_well_formed(text)?;
    let mut doc = Doc {
        text,
        xml: NsReader::from_str(text),
        plan,
        iter: plan.iteration.as_ref(),
        errors: Vec::new(),
        path: Vec::new(),
        index: vec![0; plan.iteration.as_ref().map_or(0, |i| i.levels.len())],
        chain: Vec::new(),
        pending: Vec::new(),
        emit,
        ns: None,
        sent: 0,
    };
    doc.document()
}

/// The text of an XML document from its bytes: UTF-8 (a byte order mark is
/// skipped) or UTF-16 (told by its byte order mark, or by `<?` in either
/// byte order). Err: bytes that are not text in that encoding, located, so
/// the document is rejected like a malformed one (not an I/O failure).
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, true).map(Cow::Owned);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, false).map(Cow::Owned);
    }
    if bytes.starts_with(b"<\0?\0") {
        return utf16(bytes, true).map(Cow::Owned);
    }
    if bytes.starts_with(b"\0<\0?") {
        return utf16(bytes, false).map(Cow::Owned);
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(body).map(Cow::Borrowed).map_err(|e| {
        let good = body.get(..e.valid_up_to()).unwrap_or_default();
        let good = std::str::from_utf8(good).unwrap_or_default();
        error_at(
            good,
            good.len(),
            "the document is not UTF-8 (an invalid byte)",
        )
    })
}

/// UTF-16 code units in the given byte order to text.
fn utf16(bytes: &[u8], little: bool) -> Result<String, XmlError> {
    let units = bytes.chunks(2).map(|p| match p {
        [a, b] if little => u16::from_le_bytes([*a, *b]),
        [a, b] => u16::from_be_bytes([*a, *b]),
        // An odd last byte is no code unit: a lone low surrogate makes
        // the decoder report it.
        _ => 0xDC00,
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => text.push(c),
            Err(_) => {
                return Err(error_at(
                    &text,
                    text.len(),
                    "the document is not UTF-16 (an invalid code unit)",
                ));
            }
        }
    }
    Ok(text)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn error_at(text: &str, offset: usize, message: impl Into<String>) -> XmlError {
    let (line, column) = line_col(text, offset);
    XmlError {
        line,
        column,
        message: message.into(),
    }
}

/// One pass of the parser over the whole document: well-formed, one root,
/// and nothing tether would otherwise read wrongly (issue 17). The same
/// check guards `run` and the sync inbox, so a document is read alike by
/// both:
/// * every entity reference is a character reference to a character XML
///   allows, or one of the five predefined entities (DTD entities are not
///   expanded, so dropping them would lose text silently);
/// * no character XML forbids (NUL and other C0 controls but tab, CR, LF;
///   U+FFFE, U+FFFF) in text, CDATA or attribute values;
/// * every prefix is declared, and no attribute is repeated.
pub fn check_well_formed(text: &str) -> Result<(), XmlError> {
    let mut xml = NsReader::from_str(text);
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        let before = xml.buffer_position() as usize;
        let (ns, event) = match xml.read_resolved_event() {
            Err(e) => return Err(error_at(text, xml.error_position() as usize, e.to_string())),
            Ok(x) => x,
        };
        if let ResolveResult::Unknown(prefix) = &ns {
            let prefix = prefix.clone();
            return Err(error_at(
                text,
                tag_at(text, before),
                format!("the namespace prefix `{prefix}` is not declared"),
            ));
        }
        match event {
            Event::Start(e) => {
                check_attributes(&xml, &e).map_err(|m| error_at(text, tag_at(text, before), m))?;
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Event::Empty(e) => {
                check_attributes(&xml, &e).map_err(|m| error_at(text, tag_at(text, before), m))?;
                if depth == 0 {
                    roots += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) => {
                let content = t.xml10_content();
                if let Some(c) = forbidden_char(&content) {
                    return Err(error_at(text, before, forbidden_message(c)));
                }
                if depth == 0 && !content.trim().is_empty() {
                    return Err(error_at(text, before, "text outside the root element"));
                }
            }
            Event::CData(t) => {
                if let Some(c) = forbidden_char(&t.xml10_content()) {
                    return Err(error_at(text, before, forbidden_message(c)));
                }
            }
            Event::GeneralRef(r) => {
                check_reference(&r).map_err(|m| error_at(text, before, m))?;
            }
            Event::Eof => break,
            _ => {}
        }
        if roots > 1 {
            return Err(error_at(text, before, "a second root element"));
        }
    }
    if depth > 0 {
        return Err(error_at(
            text,
            text.len(),
            "the document ends inside an open element",
        ));
    }
    if roots == 0 {
        return Err(error_at(text, 0, "no root element"));
    }
    Ok(())
}
/// An element's attributes: none repeated, every prefix declared, values
/// with only defined entities and allowed characters.
fn check_attributes(xml: &NsReader<&[u8]>, e: &BytesStart<'_>) -> Result<(), String> {
    let mut names: Vec<String> = Vec::new();
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|e| e.to_string())?;
        let name: &str = a.key.as_ref();
        if names.iter().any(|n| n == name) {
            return Err(format!("the attribute `{name}` appears more than once"));
        }
        names.push(name.to_string());
        if let (ResolveResult::Unknown(prefix), _) = xml.resolver().resolve_attribute(a.key) {
            return Err(format!("the namespace prefix `{prefix}` is not declared"));
        }
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("an attribute value: {e}"))?;
        if let Some(c) = forbidden_char(&value) {
            return Err(forbidden_message(c));
        }
    }
    Ok(())
}

/// An entity reference in text: a character reference to an allowed
/// character, or a predefined entity.
fn check_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<(), String> {
    let name: &str = r;
    match r.resolve_char_ref() {
        Err(_) => Err(format!("`&{name};` is not a valid character reference")),
        Ok(Some(c)) => match forbidden_char(c.encode_utf8(&mut [0; 4])) {
            Some(c) => Err(forbidden_message(c)),
            None => Ok(()),
        },
        Ok(None) if quick_xml::escape::resolve_predefined_entity(name).is_some() => Ok(()),
        Ok(None) => Err(format!(
            "the entity `&{name};` is not defined (tether expands no DTD entities)"
        )),
    }
}

/// The first character XML 1.0 does not allow in a document.
pub fn forbidden_char(s: &str) -> Option<char> {
    // Fast path: every forbidden character is a C0 control or starts
    // with the byte 0xEF (U+FFFE, U+FFFF).
    if !s.bytes().any(|b| b < 0x20 || b == 0xEF) {
        return None;
    }
    s.chars().find(|&c| {
        matches!(
            c,
            '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}'
        )
    })
}

fn forbidden_message(c: char) -> String {
    format!("the character U+{:04X} is not allowed in XML", c as u32)
}

/// Where the record elements are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    /// Not found yet.
    None,
    /// Children of a SOAP `Body`.
    Body,
    /// Children of tether's `<records>`.
    Records,
    /// The last record has been read.
    Done,
}

struct Doc<'a, 'p, 'e> {
    text: &'a str,
    xml: NsReader<&'a [u8]>,
    plan: &'p Plan,
    iter: Option<&'p IterPlan>,
    errors: Vec<ReadError>,
    path: Vec<String>,
    /// Per level: the next element's 0-based index in its enclosing element.
    index: Vec<usize>,
    /// The open iteration elements: (array path, element path).
    chain: Vec<(String, String)>,
    /// Rows waiting for an enclosing element to end, with their chains.
    pending: Vec<(Row<'a>, Vec<(String, String)>)>,
    emit: &'e mut dyn FnMut(Row<'a>),
    /// The document element's namespace.
    ns: Option<String>,
    /// Rows sent for the record being read.
    sent: usize,
}

/// Accumulated values of repeated children, stored when the parent ends.
#[derive(Default)]
struct Repeats<'a> {
    rows: Vec<(usize, Vec<Vec<Value<'a>>>)>,
    values: Vec<(usize, Vec<Value<'a>>)>,
}

impl<'a, 'p> Doc<'a, 'p, '_> {
    /// Reads every record element of the document (see [`Doc::next_record`]);
    /// how many there were.
    fn document(&mut self) -> Result<usize, XmlError> {
        let mut container = Container::None;
        let mut n = 0usize;
        while let Some((start, empty, begin)) = self.next_record(&mut container)? {
            let label = match container {
                Container::None => String::new(),
                _ => format!("{}[{n}]", self.resolve(&start).1),
            };
            self.record(&start, empty, begin, label)?;
            n += 1;
        }
        Ok(n)
    }

    /// One record element: checked against the schema's namespace and
    /// element, read, and emitted (or its rows, with `for`).
    fn record(
        &mut self,
        start: &BytesStart<'a>,
        empty: bool,
        begin: usize,
        label: String,
    ) -> Result<(), XmlError> {
        let (ns, local) = self.resolve(start);
        if let Some(expected) = &self.plan.xml_namespace
            && ns.as_deref() != Some(expected.as_str())
        {
            return Err(error_at(
                self.text,
                begin,
                format!(
                    "the document element `{local}` is in {}; the mapping reads namespace {expected:?}",
                    ns.as_deref()
                        .map_or("no namespace".to_string(), |n| format!("namespace {n:?}"))
                ),
            ));
        }
        if let Some(root) = &self.plan.xml_root
            && &local != root
        {
            return Err(error_at(
                self.text,
                begin,
                format!("the document element is `{local}`; the mapping reads a `{root}` document"),
            ));
        }
        self.ns = ns;
        self.sent = 0;
        let plan = self.plan;
        let mut frame = vec![Value::Missing; plan.input_slots];
        self.element(&plan.read, start, empty, begin, &mut frame)?;
        let end = self.xml.buffer_position() as usize;
        match self.iter {
            None => {
                let errors = std::mem::take(&mut self.errors);
                (self.emit)(Row {
                    frame,
                    element: label,
                    errors,
                    source: self.text.get(begin..end).unwrap_or(""),
                });
            }
            Some(it) => {
                // The record has ended: every held row is complete.
                let mut level_slot = vec![false; frame.len()];
                for l in &it.levels {
                    for &s in &l.slots {
                        level_slot[s] = true;
                    }
                }
                for (mut row, chain) in std::mem::take(&mut self.pending) {
                    for (s, v) in frame.iter().enumerate() {
                        if !level_slot[s] {
                            row.frame[s] = v.clone();
                        }
                    }
                    self.send(row, &chain);
                }
                if self.sent == 0 && !self.errors.is_empty() {
                    // No row carries the record's errors (the array a `for`
                    // iterates is missing or unreadable): the record is
                    // rejected with them, not dropped.
                    (self.emit)(Row {
                        frame,
                        element: label,
                        errors: std::mem::take(&mut self.errors),
                        source: self.text.get(begin..end).unwrap_or(""),
                    });
                }
                self.errors.clear();
                self.index.iter_mut().for_each(|i| *i = 0);
            }
        }
        Ok(())
    }

    /// The next record element. A document is one record, its document
    /// element, unless it is a batch: a SOAP envelope's `Body` (each child
    /// a record) or the `<records>` element tether writes around a batch
    /// (in no namespace, when the mapping does not read a document of that
    /// name).
    fn next_record(
        &mut self,
        container: &mut Container,
    ) -> Result<Option<(BytesStart<'a>, bool, usize)>, XmlError> {
        if *container == Container::Done {
            return Ok(None);
        }
        let mut in_envelope = false;
        loop {
            let before = self.xml.buffer_position() as usize;
            let (start, empty) = match self.read()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::Eof | Event::End(_) if *container != Container::None => {
                    *container = Container::Done;
                    return Ok(None);
                }
                Event::Eof | Event::End(_) => {
                    return Err(error_at(
                        self.text,
                        before,
                        "no record element in the document",
                    ));
                }
                _ => continue,
            };
            let begin = tag_at(self.text, before);
            if *container != Container::None {
                return Ok(Some((start, empty, begin)));
            }
            let (ns, local) = self.resolve(&start);
            let soap = matches!(ns.as_deref(), Some(SOAP11_NS | SOAP12_NS));
            match (soap, local.as_str()) {
                (true, "Envelope") if !in_envelope && !empty => in_envelope = true,
                (true, "Body") if in_envelope && !empty => *container = Container::Body,
                (true, "Header") if in_envelope => {
                    if !empty {
                        self.skip(&start)?;
                    }
                }
                (true, _) if in_envelope => {
                    return Err(error_at(
                        self.text,
                        begin,
                        format!("unexpected SOAP element `{local}`"),
                    ));
                }
                (false, "records")
                    if ns.is_none()
                        && !in_envelope
                        && self.plan.xml_root.as_deref() != Some("records") =>
                {
                    if empty {
                        return Ok(None);
                    }
                    *container = Container::Records;
                }
                _ => {
                    // A lone record: nothing follows it.
                    *container = Container::Done;
                    return Ok(Some((start, empty, begin)));
                }
            }
        }
    }

    fn read(&mut self) -> Result<Event<'a>, XmlError> {
        self.xml
            .read_event()
            .map_err(|e| error_at(self.text, self.xml.error_position() as usize, e.to_string()))
    }

    fn skip(&mut self, start: &BytesStart<'a>) -> Result<(), XmlError> {
        let name = start.name();
        self.xml
            .read_to_end(name)
            .map(|_| ())
            .map_err(|e| error_at(self.text, self.xml.error_position() as usize, e.to_string()))
    }

    fn resolve(&self, e: &BytesStart<'_>) -> (Option<String>, String) {
        let (r, local) = self.xml.resolver().resolve_element(e.name());
        let ns = match r {
            ResolveResult::Bound(n) => Some(n.0.to_string()),
            _ => None,
        };
        (ns, local.as_ref().to_string())
    }

    fn path_text(&self) -> String {
        super::read::path_text(self.path.iter().map(|s| Cow::Borrowed(s.as_str())))
    }

    fn error(&mut self, value: &str, message: String) {
        let path = self.path_text();
        self.errors.push(ReadError {
            path,
            value: serde_json::to_string(value).unwrap_or_default(),
            message,
        });
    }

    /// Reads the element that `start` opened, following `node`.
    fn element(
        &mut self,
        node: &ReadNode,
        start: &BytesStart<'a>,
        empty: bool,
        begin: usize,
        frame: &mut Vec<Value<'a>>,
    ) -> Result<(), XmlError> {
        let mut seen = vec![false; node.fields.len()];
        let mut nil = false;
        for a in start.attributes() {
            let a = a.map_err(|e| error_at(self.text, begin, e.to_string()))?;
            if a.key.as_ref().starts_with("xmlns") {
                continue;
            }
            let (r, local) = self.xml.resolver().resolve_attribute(a.key);
            let local = local.as_ref().to_string();
            let value: Cow<'a, str> = Cow::Owned(
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| error_at(self.text, begin, e.to_string()))?
                    .into_owned(),
            );
            if matches!(&r, ResolveResult::Bound(n) if n.0 == XSI_NS) {
                nil |= local == "nil" && matches!(value.trim(), "true" | "1");
                continue;
            }
            let found = node.fields.iter().position(|(n, c)| {
                c.xml == XmlForm::Attribute && n.strip_prefix('@').unwrap_or(n) == local
            });
            if let Some(i) = found {
                seen[i] = true;
                let (name, child) = &node.fields[i];
                self.path.push(name.clone());
                self.leaf_into(child, value, frame);
                self.path.pop();
            }
        }
        let wants_text =
            node.whole.is_some() || node.fields.iter().any(|(_, c)| c.xml == XmlForm::Text);
        let mut text: Option<Cow<'a, str>> = None;
        let mut repeats = Repeats::default();
        if !empty {
            loop {
                let before = self.xml.buffer_position() as usize;
                let (child, child_empty) = match self.read()? {
                    Event::Start(e) => (e, false),
                    Event::Empty(e) => (e, true),
                    Event::Text(t) if wants_text => {
                        append(&mut text, t.xml10_content());
                        continue;
                    }
                    Event::CData(c) if wants_text => {
                        append(&mut text, c.xml10_content());
                        continue;
                    }
                    Event::GeneralRef(r) if wants_text => {
                        let ch = match r.resolve_char_ref() {
                            Ok(Some(c)) => c.to_string(),
                            _ => match quick_xml::escape::resolve_predefined_entity(&r) {
                                Some(s) => s.to_string(),
                                None => {
                                    return Err(error_at(
                                        self.text,
                                        before,
                                        format!("unknown entity `&{};`", &*r),
                                    ));
                                }
                            },
                        };
                        append(&mut text, Cow::Owned(ch));
                        continue;
                    }
                    Event::End(_) | Event::Eof => break,
                    _ => continue,
                };
                let child_begin = tag_at(self.text, before);
                let (ns, local) = self.resolve(&child);
                let ours = ns.is_none() || ns == self.ns;
                let found = node
                    .fields
                    .iter()
                    .position(|(n, c)| ours && c.xml == XmlForm::Element && *n == local);
                match found {
                    Some(i) if seen[i] && !repeats_allowed(&node.fields[i].1) => {
                        // A second `<Amt>` where the schema has one: which
                        // one the sender meant is unknown (issue 17).
                        if !child_empty {
                            self.skip(&child)?;
                        }
                        let end = self.xml.buffer_position() as usize;
                        let source = self.text.get(child_begin..end).unwrap_or("");
                        self.path.push(node.fields[i].0.clone());
                        self.error(
                            source,
                            format!("the element `{local}` appears more than once"),
                        );
                        self.path.pop();
                    }
                    Some(i) => {
                        seen[i] = true;
                        self.child(
                            node,
                            i,
                            &child,
                            child_empty,
                            child_begin,
                            frame,
                            &mut repeats,
                        )?;
                    }
                    None if !child_empty => self.skip(&child)?,
                    None => {}
                }
            }
        }
        let end = self.xml.buffer_position() as usize;
        for (slot, rows) in repeats.rows {
            frame[slot] = Value::Rows(rows);
        }
        for (slot, values) in repeats.values {
            frame[slot] = Value::Array(values);
        }
        if let Some(s) = node.source_text {
            frame[s] = Value::str(self.text.get(begin..end).unwrap_or(""));
        }
        if nil {
            let value = if node.not_null {
                self.errors.push(ReadError {
                    path: self.path_text(),
                    value: "null".into(),
                    message: super::read::NOT_NULL.to_string(),
                });
                Value::Invalid
            } else {
                Value::Null
            };
            if let Some((s, _)) = &node.whole {
                frame[*s] = value;
            }
            return Ok(());
        }
        let text = text.unwrap_or(Cow::Borrowed(""));
        if let Some((s, kind)) = &node.whole {
            frame[*s] = match kind {
                // An XML map is its children by name; their text is not
                // typed here.
                ReadKind::Raw | ReadKind::Map { .. } => Value::Raw(Cow::Owned(element_json(
                    self.text.get(begin..end).unwrap_or(""),
                ))),
                kind => match xml_leaf(text.clone(), kind) {
                    Ok(v) => v,
                    Err(msg) => {
                        self.error(&text, msg);
                        Value::Invalid
                    }
                },
            };
        }
        for (i, (name, child)) in node.fields.iter().enumerate() {
            if child.xml == XmlForm::Text {
                seen[i] = true;
                self.path.push(name.clone());
                self.leaf_into(child, text.clone(), frame);
                self.path.pop();
            }
            if child.required && !seen[i] {
                let what = match child.xml {
                    XmlForm::Attribute => "attribute",
                    _ => "element",
                };
                self.path.push(name.clone());
                self.errors.push(ReadError {
                    path: self.path_text(),
                    value: "null".into(),
                    message: format!("the required {what} `{name}` is missing"),
                });
                self.path.pop();
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn child(
        &mut self,
        node: &ReadNode,
        i: usize,
        start: &BytesStart<'a>,
        empty: bool,
        begin: usize,
        frame: &mut Vec<Value<'a>>,
        repeats: &mut Repeats<'a>,
    ) -> Result<(), XmlError> {
        let (name, child) = &node.fields[i];
        if let Some(each) = &child.each {
            if let Some(k) = self.level_of(each.slot) {
                return self.level_element(k, &each.node, name, start, empty, begin, frame);
            }
            // An array mapped element by element: a frame per element.
            let rows = accumulator(&mut repeats.rows, each.slot);
            let idx = rows.len();
            self.path.push(name.clone());
            self.path.push(format!("[{idx}]"));
            let mut f = vec![Value::Missing; each.slots];
            let r = self.element(&each.node, start, empty, begin, &mut f);
            self.path.truncate(self.path.len() - 2);
            r?;
            accumulator(&mut repeats.rows, each.slot).push(f);
            return Ok(());
        }
        if let Some((slot, ReadKind::Array(elem))) = &child.whole {
            // A repeated element read whole: one value per occurrence.
            let idx = accumulator(&mut repeats.values, *slot).len();
            let leaf = ReadNode {
                whole: Some((0, (**elem).clone())),
                ..ReadNode::default()
            };
            self.path.push(name.clone());
            self.path.push(format!("[{idx}]"));
            let mut f = vec![Value::Missing];
            let r = self.element(&leaf, start, empty, begin, &mut f);
            self.path.truncate(self.path.len() - 2);
            r?;
            let v = f.pop().unwrap_or(Value::Missing);
            accumulator(&mut repeats.values, *slot).push(v);
            return Ok(());
        }
        self.path.push(name.clone());
        let r = self.element(child, start, empty, begin, frame);
        self.path.pop();
        r
    }

    fn level_of(&self, rows_slot: usize) -> Option<usize> {
        self.iter?.levels.iter().position(|l| l.rows == rows_slot)
    }

    /// An element of iteration level `k`: read into the shared frame; a row
    /// when it is of the innermost level.
    #[allow(clippy::too_many_arguments)]
    fn level_element(
        &mut self,
        k: usize,
        node: &ReadNode,
        name: &str,
        start: &BytesStart<'a>,
        empty: bool,
        begin: usize,
        frame: &mut Vec<Value<'a>>,
    ) -> Result<(), XmlError> {
        let Some(it) = self.iter else { return Ok(()) };
        let level = &it.levels[k];
        let idx = self.index[k];
        self.index[k] += 1;
        for later in self.index.iter_mut().skip(k + 1) {
            *later = 0;
        }
        for &s in &level.slots {
            frame[s] = Value::Missing;
        }
        if let Some(p) = level.position {
            frame[p] = Value::Int(idx as i64 + 1);
        }
        self.path.push(name.to_string());
        let array = self.path_text();
        self.path.push(format!("[{idx}]"));
        let elem = self.path_text();
        self.chain.push((array, elem.clone()));
        // Rows held back from now on are this element's: a suffix.
        let first = self.pending.len();
        let r = self.element(node, start, empty, begin, frame);
        if r.is_ok() {
            if k + 1 == it.levels.len() {
                let row = Row {
                    frame: frame.clone(),
                    element: elem.clone(),
                    errors: Vec::new(),
                    source: "",
                };
                self.pending.push((row, self.chain.clone()));
            }
            self.scope_done(it, k, first, frame);
        }
        self.chain.pop();
        self.path.truncate(self.path.len() - 2);
        r
    }

    /// The element of level `k` has ended; `pending[first..]` are the rows
    /// built inside it. They get its final values (a row may have been built
    /// before the element's later fields were read), and go out unless an
    /// enclosing scope still defers.
    fn scope_done(&mut self, it: &IterPlan, k: usize, first: usize, frame: &[Value<'a>]) {
        let level = &it.levels[k];
        for (row, _) in &mut self.pending[first..] {
            for &s in &level.slots {
                row.frame[s] = frame[s].clone();
            }
        }
        if it.levels[..=k].iter().any(|l| l.deferred) {
            return;
        }
        let ready: Vec<_> = self.pending.drain(first..).collect();
        for (row, chain) in ready {
            self.send(row, &chain);
        }
        if self.pending.is_empty()
            && let Some((_, elem)) = self.chain.last()
        {
            // Nothing still needs the errors inside this element.
            let elem = elem.clone();
            self.errors.retain(|e| !under(&e.path, &elem));
        }
    }

    fn send(&mut self, mut row: Row<'a>, chain: &[(String, String)]) {
        row.errors = self
            .errors
            .iter()
            .filter(|e| belongs(&e.path, chain))
            .cloned()
            .collect();
        self.sent += 1;
        (self.emit)(row);
    }

    fn leaf_into(&mut self, node: &ReadNode, text: Cow<'a, str>, frame: &mut [Value<'a>]) {
        let Some((slot, kind)) = &node.whole else {
            return;
        };
        frame[*slot] = match xml_leaf(text.clone(), kind) {
            Ok(v) => v,
            Err(msg) => {
                self.error(&text, msg);
                Value::Invalid
            }
        };
    }
}

/// Whether a field may occur more than once: an array, iterated or read
/// whole.
fn repeats_allowed(field: &ReadNode) -> bool {
    field.each.is_some() || matches!(field.whole, Some((_, ReadKind::Array(_))))
}

/// The values gathered so far for `slot`.
fn accumulator<T>(acc: &mut Vec<(usize, Vec<T>)>, slot: usize) -> &mut Vec<T> {
    let i = match acc.iter().position(|(s, _)| *s == slot) {
        Some(i) => i,
        None => {
            acc.push((slot, Vec::new()));
            acc.len() - 1
        }
    };
    &mut acc[i].1
}

fn append<'a>(acc: &mut Option<Cow<'a, str>>, more: Cow<'a, str>) {
    match acc {
        None => *acc = Some(more),
        Some(prev) => prev.to_mut().push_str(&more),
    }
}

/// The offset of the `<` of the tag read after `before`.
fn tag_at(text: &str, before: usize) -> usize {
    before + text.get(before..).and_then(|t| t.find('<')).unwrap_or(0)
}

/// Converts the text of an element or attribute into a value of `kind`.
/// Surrounding whitespace is not part of a number, date, code or flag.
pub fn xml_leaf<'a>(text: Cow<'a, str>, kind: &ReadKind) -> Result<Value<'a>, String> {
    let t = text.trim();
    match kind {
        ReadKind::Scalar(Scalar::String) => Ok(Value::Str(text)),
        ReadKind::Raw | ReadKind::Map { .. } => Ok(Value::Str(text)),
        ReadKind::Enum(values) => {
            if values.iter().any(|v| v == t) {
                Ok(Value::str(t.to_string()))
            } else {
                Err(not_in_enum(t, values))
            }
        }
        ReadKind::Scalar(Scalar::Currency) => Currency::parse(t)
            .map(|c| Value::str(c.code()))
            .ok_or_else(|| not_a_currency(t)),
        ReadKind::Scalar(Scalar::Bool) => match t {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!(
                "expected a boolean (true, false, 1 or 0), found {t:?}"
            )),
        },
        ReadKind::Scalar(Scalar::Int) => convert_text::int(t)
            .map(Value::Int)
            .map_err(|_| format!("expected an integer, found {t:?}")),
        ReadKind::IntEnum(values) => {
            let n =
                convert_text::int(t).map_err(|_| format!("expected an integer, found {t:?}"))?;
            if values.contains(&n) {
                Ok(Value::Int(n))
            } else {
                Err(super::read::not_in_int_enum(n, values))
            }
        }
        ReadKind::Scalar(Scalar::Decimal) => {
            let digits = t.strip_prefix('+').unwrap_or(t);
            convert_text::decimal(digits)
                .map(Value::Decimal)
                .map_err(|f| f.message)
        }
        ReadKind::Scalar(Scalar::Float) => t
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("expected a number, found {t:?}")),
        ReadKind::Scalar(
            time @ (Scalar::Date
            | Scalar::DateTime
            | Scalar::LocalDateTime
            | Scalar::AnyDateTime
            | Scalar::Time),
        ) => time_value(t, *time),
        ReadKind::Array(elem) => xml_leaf(text, elem).map(|v| Value::Array(vec![v])),
        ReadKind::Money(_) | ReadKind::Scalar(Scalar::Money) => Err(
            "money is not read from XML text: read the amount and the currency as two fields"
                .to_string(),
        ),
    }
}

/// An element as JSON, in the default shape: attributes and child elements
/// by local name, repeated children as arrays, text alone as a string (or
/// as `"#text"` next to attributes or children).
pub fn element_json(source: &str) -> String {
    use serde_json::{Map, Value as J};
    fn insert(map: &mut Map<String, J>, key: String, v: J) {
        match map.get_mut(&key) {
            Some(J::Array(items)) => items.push(v),
            Some(prev) => {
                let first = prev.take();
                *prev = J::Array(vec![first, v]);
            }
            None => {
                map.insert(key, v);
            }
        }
    }
    fn attrs(e: &BytesStart<'_>) -> Map<String, J> {
        let mut m = Map::new();
        for a in e.attributes().flatten() {
            if a.key.as_ref().starts_with("xmlns") {
                continue;
            }
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_default();
            m.insert(a.key.local_name().as_ref().to_string(), J::String(v));
        }
        m
    }
    fn finish(mut map: Map<String, J>, text: String) -> J {
        let t = text.trim();
        if map.is_empty() {
            return J::String(t.to_string());
        }
        if !t.is_empty() {
            map.insert("#text".to_string(), J::String(t.to_string()));
        }
        J::Object(map)
    }
    let mut xml = NsReader::from_str(source);
    let mut stack: Vec<(String, Map<String, J>, String)> = Vec::new();
    let mut result = J::Null;
    loop {
        match xml.read_event() {
            Ok(Event::Start(e)) => {
                stack.push((
                    e.local_name().as_ref().to_string(),
                    attrs(&e),
                    String::new(),
                ));
            }
            Ok(Event::Empty(e)) => {
                let v = finish(attrs(&e), String::new());
                let name = e.local_name().as_ref().to_string();
                match stack.last_mut() {
                    Some((_, m, _)) => insert(m, name, v),
                    None => {
                        result = v;
                        break;
                    }
                }
            }
            Ok(Event::Text(t)) => {
                if let Some((_, _, s)) = stack.last_mut() {
                    s.push_str(&t.xml10_content());
                }
            }
            Ok(Event::CData(t)) => {
                if let Some((_, _, s)) = stack.last_mut() {
                    s.push_str(&t.xml10_content());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some((_, _, s)) = stack.last_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        s.push(c);
                    } else if let Some(x) = quick_xml::escape::resolve_predefined_entity(&r) {
                        s.push_str(x);
                    }
                }
            }
            Ok(Event::End(_)) => {
                let Some((name, m, text)) = stack.pop() else {
                    break;
                };
                let v = finish(m, text);
                match stack.last_mut() {
                    Some((_, parent, _)) => insert(parent, name, v),
                    None => {
                        result = v;
                        break;
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    result.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("ab\ncdé\nx", 0), (1, 1));
        assert_eq!(line_col("ab\ncdé\nx", 3), (2, 1));
        assert_eq!(line_col("ab\ncdé\nx", 8), (3, 1));
    }

    #[test]
    fn malformed_documents_are_located() {
        let e = check_well_formed("<a>\n  <b>1</c>\n</a>").unwrap_err();
        assert_eq!((e.line, e.column), (2, 7), "{e}");
        let e = check_well_formed("<a><b>").unwrap_err();
        assert!(e.message.contains("open element"), "{e}");
        assert!(check_well_formed("<a/><b/>").is_err());
        assert!(check_well_formed("<?xml version=\"1.0\"?>\n<a x=\"1\">t</a>\n").is_ok());
    }

    #[test]
    fn default_shape_json() {
        let j = element_json(r#"<Amt Ccy="EUR">8.85</Amt>"#);
        assert_eq!(j, r##"{"Ccy":"EUR","#text":"8.85"}"##);
        let j = element_json("<a><b>1</b><b>2</b><c/></a>");
        assert_eq!(j, r#"{"b":["1","2"],"c":""}"#);
    }

    #[test]
    fn leaves_are_typed() {
        let d = xml_leaf(
            Cow::Borrowed(" 18.150 "),
            &ReadKind::Scalar(Scalar::Decimal),
        )
        .unwrap();
        assert_eq!(d.to_json(), "18.150");
        assert!(xml_leaf(Cow::Borrowed("yes"), &ReadKind::Scalar(Scalar::Bool)).is_err());
        assert_eq!(
            xml_leaf(Cow::Borrowed("1"), &ReadKind::Scalar(Scalar::Bool)),
            Ok(Value::Bool(true))
        );
    }
}
