//! The schema document as a tree: each element with its namespace resolved,
//! its QName-valued attributes resolved to namespaces, and where it is (the
//! file of the package it came from, and its offset there).

use super::XSD_NS;
use crate::base::Span;
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{QName, ResolveResult};

/// An element of a schema document, with its namespace resolved and the
/// QName-valued attributes (`type`, `base`, `ref`) resolved to namespaces.
#[derive(Debug, Clone)]
pub struct El {
    pub ns: Option<String>,
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub qnames: Vec<(String, Name)>,
    pub children: Vec<El>,
    pub text: String,
    /// Which file of the package the element is in (an index into
    /// `resolve::Package::sources`).
    pub src: usize,
    /// Byte offset of the start tag in that file.
    pub at: usize,
}

/// A namespace-qualified name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub ns: Option<String>,
    pub local: String,
}

impl El {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn qname(&self, name: &str) -> Option<&Name> {
        self.qnames.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    pub fn is_xsd(&self, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(XSD_NS)
    }
    pub fn xsd_children(&self) -> impl Iterator<Item = &El> {
        self.children
            .iter()
            .filter(|c| c.ns.as_deref() == Some(XSD_NS))
    }
    pub fn child(&self, name: &str) -> Option<&El> {
        self.xsd_children().find(|c| c.name == name)
    }
    pub fn documentation(&self) -> Option<String> {
        let doc = self.child("annotation")?.child("documentation")?;
        let t = doc.text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!t.is_empty()).then_some(t)
    }
}

/// Deepest element nesting read. The importer recurses through the tree
/// (an anonymous type's element, `complexType`, `sequence`: about three
/// elements per level of type), so this keeps the types it produces near
/// [`crate::syntax::MAX_NESTING`] and its recursion far from the end of
/// the stack (3,000 levels overflowed 8 MiB). quick-xml's own limit is 65,535.
pub const MAX_DEPTH: usize = 4 * crate::syntax::MAX_NESTING;

/// Why a document could not be read: where, what, and whether it was the
/// depth limit (E0007) rather than a fault in the XML (E0004).
pub struct ParseError {
    pub at: usize,
    pub message: String,
    pub too_deep: bool,
}

impl From<(usize, String)> for ParseError {
    fn from((at, message): (usize, String)) -> ParseError {
        ParseError {
            at,
            message,
            too_deep: false,
        }
    }
}

/// Parses a whole document, the file `src` of the package.
pub fn parse(text: &str, src: usize) -> Result<El, ParseError> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<El> = Vec::new();
    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => return Err((reader.error_position() as usize, e.to_string()).into()),
        };
        let ns = match &event {
            Event::Start(e) | Event::Empty(e) => {
                match reader.resolver().resolve_element(e.name()).0 {
                    ResolveResult::Bound(n) => Some(n.0.to_string()),
                    _ => None,
                }
            }
            _ => None,
        };
        match event {
            Event::Start(e) => {
                let at = tag_at(text, before);
                if stack.len() >= MAX_DEPTH {
                    return Err(ParseError {
                        at,
                        message: format!("elements nested more than {MAX_DEPTH} deep"),
                        too_deep: true,
                    });
                }
                let el = element_of(&reader, &e, ns, src, at);
                stack.push(el);
            }
            Event::Empty(e) => {
                let el = element_of(&reader, &e, ns, src, tag_at(text, before));
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err((before, "an end tag without a start".to_string()).into());
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::Eof => {
                return Err((
                    text.len(),
                    "the document ends before its root element closes".to_string(),
                )
                    .into());
            }
            _ => {}
        }
    }
}

/// The offset of the `<` of the tag read after `before`.
fn tag_at(text: &str, before: usize) -> usize {
    before + text.get(before..).and_then(|t| t.find('<')).unwrap_or(0)
}

fn element_of(
    reader: &NsReader<&[u8]>,
    e: &quick_xml::events::BytesStart<'_>,
    ns: Option<String>,
    src: usize,
    at: usize,
) -> El {
    let mut el = El {
        ns,
        name: e.local_name().as_ref().to_string(),
        attrs: Vec::new(),
        qnames: Vec::new(),
        children: Vec::new(),
        text: String::new(),
        src,
        at,
    };
    for a in e.attributes().flatten() {
        if a.key.as_ref().starts_with("xmlns") {
            continue;
        }
        let key = a.key.local_name().as_ref().to_string();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map(|v| v.into_owned())
            .unwrap_or_default();
        if matches!(key.as_str(), "type" | "base" | "ref" | "itemType") {
            let (r, local) = reader.resolver().resolve_element(QName(&value));
            let ns = match r {
                ResolveResult::Bound(n) => Some(n.0.to_string()),
                _ => None,
            };
            let local = local.as_ref().to_string();
            el.qnames.push((key.clone(), Name { ns, local }));
        }
        el.attrs.push((key, value));
    }
    el
}

impl El {
    /// The span in `text` (the element's file) of the attribute value
    /// `value` written in the start tag, or else of the tag's name.
    pub fn span_in(&self, text: &str, value: Option<&str>) -> Span {
        let start = self.at.min(text.len());
        let rest = text.get(start..).unwrap_or("");
        if let Some(v) = value {
            let tag = rest
                .find('>')
                .and_then(|end| rest.get(..end))
                .unwrap_or(rest);
            for q in ['"', '\''] {
                if let Some(i) = tag.find(&format!("{q}{v}{q}")) {
                    return Span::new(start + i + 1, start + i + 1 + v.len());
                }
            }
        }
        Span::new(start, (start + 1 + self.name.len()).min(text.len()))
    }

    /// A chameleon include: a schema without a target namespace, included
    /// into one with `tns`, takes that namespace, and so do the unqualified
    /// names it refers to (its `type="Code"` means the includer's `Code`).
    pub fn adopt_namespace(&mut self, tns: &str) {
        for (_, n) in &mut self.qnames {
            if n.ns.is_none() {
                n.ns = Some(tns.to_string());
            }
        }
        for c in &mut self.children {
            c.adopt_namespace(tns);
        }
    }
}
