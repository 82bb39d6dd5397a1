//! XML Schema 1.0 (and the schemas inside a WSDL's `<types>`), imported as
//! type declarations: the same AST an inline `schema` block gives.
//!
//! | XSD | tether |
//! |---|---|
//! | `complexType` (`sequence`, `choice`, `all`, `group`) | record; a `choice`'s elements are optional |
//! | `complexContent/extension` | the base's fields, then its own |
//! | `complexContent/restriction` | the base's attributes, then what it restates |
//! | `simpleContent` | record with the text as field `value` (form `Text`) |
//! | `simpleContent/restriction` | the base's text and attributes; a restated attribute replaces the base's (`use="required"` tightens), `use="prohibited"` removes it; `enumeration` facets make the text an enum |
//! | `attribute` | field (form `Attribute`); optional unless `use="required"` |
//! | `minOccurs="0"` / `maxOccurs>1` | optional field / array |
//! | `nillable="true"` | nullable |
//! | `simpleType` with `enumeration`s | enum |
//! | other `simpleType` restrictions | their base type (facets are not checked) |
//! | `list`, `union` | string |
//! | `any`, `anyAttribute` | open content: other elements are skipped on read |
//! | `include`, `import` | the files they name, relative to the file that names them (see `resolve`); a chameleon include takes the includer's namespace |
//! | `redefine`, `override` | their definitions replace the named file's; a redefinition derived from its own name derives from the original |
//!
//! The modules: `dom` parses one document into a tree, `resolve` reads
//! the package's files, and the importer here turns the definitions of all
//! of them into type declarations.
//!
//! Elements are matched by local name within the schema's namespace; the
//! namespace and the top-level elements are kept in [`XmlSchema`] for the
//! reader (which checks the document's root namespace) and the writer.
//!
//! Why one file of about 1000 lines: XML Schema's components (elements,
//! complex and simple types, groups, attribute groups, extensions and
//! restrictions) resolve into one another recursively; the document model
//! (`dom.rs`) and the package's files (`resolve.rs`) are apart.

mod dom;
mod resolve;

pub use resolve::{Loaded, Loader};

use super::XmlSchema;
use crate::base::Span;
use crate::diag::{Code, Diagnostic, FileId};
use crate::syntax::{
    EnumDecl, FieldDecl, Ident, RecordBody, RecordDecl, StringLit, TypeDecl, TypeExpr,
    TypeExprKind, XmlForm,
};
use dom::{El, Name};
use resolve::{Package, Schema, Source};
use std::collections::{HashMap, HashSet};
use std::path::Path;

pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
/// The namespace of `xml:lang` and `xml:space`, bound in every document.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

pub struct Imported {
    pub types: Vec<TypeDecl>,
    pub warnings: Vec<Diagnostic>,
    pub xml: XmlSchema,
}

/// Imports the XSD or WSDL `text` (the file `file`, at `path`) and the
/// schema files it includes and imports, read with `load`.
pub fn import(
    file: FileId,
    text: &str,
    path: &Path,
    load: &mut Loader<'_>,
) -> Result<Imported, Box<Diagnostic>> {
    let Package {
        sources,
        schemas,
        warnings,
    } = resolve::resolve(file, text, path, load)?;
    let mut im = Importer::new(&sources, &schemas, warnings);
    im.run();
    let first = schemas.first();
    Ok(Imported {
        xml: XmlSchema {
            namespace: first.and_then(|s| s.tns.clone()),
            elements: im.root_elements.clone(),
            qualified: first.and_then(|s| s.el.attr("elementFormDefault")) == Some("qualified"),
        },
        types: im.types,
        warnings: im.warnings,
    })
}

// ------------------------------------------------------------------ import

struct Importer<'s> {
    /// The files of the package: where each element is.
    sources: &'s [Source],
    complex: HashMap<Name, &'s El>,
    simple: HashMap<Name, &'s El>,
    elements: HashMap<Name, &'s El>,
    groups: HashMap<Name, &'s El>,
    attribute_groups: HashMap<Name, &'s El>,
    attributes: HashMap<Name, &'s El>,
    /// The tether name of each global complex or enum type.
    names: HashMap<Name, String>,
    taken: HashSet<String>,
    /// Global types (complex, and simple enums), in document order.
    order: Vec<(Name, &'s El, bool)>,
    global_elements: Vec<(Name, &'s El)>,
    types: Vec<TypeDecl>,
    warnings: Vec<Diagnostic>,
    root_elements: Vec<(String, String)>,
    /// Types being expanded (extension bases, simple aliases), against cycles.
    expanding: Vec<Name>,
    /// For a redefinition derived from its own name: its `extension` or
    /// `restriction` element, and the original definition it derives from.
    originals: Vec<(&'s El, &'s El)>,
    /// Each type referred to but defined nowhere: the index of its warning,
    /// and how many more times it is used.
    undefined: HashMap<Name, (usize, usize)>,
}

/// How often an element may occur, as the content model around it says.
#[derive(Clone, Copy)]
struct Occurs {
    optional: bool,
    many: bool,
}

impl Occurs {
    fn of(el: &El, outer: Occurs) -> Occurs {
        let min = el.attr("minOccurs").unwrap_or("1");
        let max = el.attr("maxOccurs").unwrap_or("1");
        Occurs {
            optional: outer.optional || min == "0",
            many: outer.many || (max != "1" && max != "0"),
        }
    }
}

impl<'s> Importer<'s> {
    fn new(
        sources: &'s [Source],
        schemas: &'s [Schema],
        warnings: Vec<Diagnostic>,
    ) -> Importer<'s> {
        let mut im = Importer {
            sources,
            complex: HashMap::new(),
            simple: HashMap::new(),
            elements: HashMap::new(),
            groups: HashMap::new(),
            attribute_groups: HashMap::new(),
            attributes: HashMap::new(),
            names: HashMap::new(),
            taken: HashSet::new(),
            order: Vec::new(),
            global_elements: Vec::new(),
            types: Vec::new(),
            warnings,
            root_elements: Vec::new(),
            expanding: Vec::new(),
            originals: Vec::new(),
            undefined: HashMap::new(),
        };
        // Definitions first, then what `xs:redefine`/`xs:override` replace,
        // so a replacement wins whichever file is reached first.
        for s in schemas {
            for d in s.el.xsd_children() {
                if let Some(name) = definition_name(d, &s.tns) {
                    im.define(name, d);
                }
            }
        }
        for s in schemas {
            for r in s.el.xsd_children() {
                if !matches!(r.name.as_str(), "redefine" | "override") {
                    continue;
                }
                for d in r.xsd_children() {
                    if let Some(name) = definition_name(d, &s.tns) {
                        im.replace(name, d);
                    }
                }
            }
        }
        im
    }

    /// Registers a top-level definition. A name defined twice in the
    /// package (two files declaring one type) keeps the first, with a
    /// warning: taking either silently would make the type depend on the
    /// order files are read.
    fn define(&mut self, name: Name, d: &'s El) {
        let table = match d.name.as_str() {
            "complexType" => &mut self.complex,
            "simpleType" => &mut self.simple,
            "element" => &mut self.elements,
            "group" => &mut self.groups,
            "attributeGroup" => &mut self.attribute_groups,
            "attribute" => &mut self.attributes,
            _ => return,
        };
        if table.contains_key(&name) {
            let message = format!(
                "`{}` is defined twice in this schema package (as `{}`); the first definition is used",
                name.local, d.name
            );
            let (file, span) = self.located(d);
            self.warnings.push(
                Diagnostic::warning(Code::W0004, file, span, message).label("second definition"),
            );
            return;
        }
        table.insert(name.clone(), d);
        match d.name.as_str() {
            "complexType" => self.order.push((name, d, true)),
            "simpleType" => self.order.push((name, d, false)),
            "element" => self.global_elements.push((name, d)),
            _ => {}
        }
    }

    /// A definition inside `xs:redefine`/`xs:override`: it takes the place
    /// of the one the named file defines. A redefinition derived from its
    /// own name (`redefine` only) derives from the original, kept in
    /// `originals`.
    fn replace(&mut self, name: Name, d: &'s El) {
        let table = match d.name.as_str() {
            "complexType" => &mut self.complex,
            "simpleType" => &mut self.simple,
            "group" => &mut self.groups,
            "attributeGroup" => &mut self.attribute_groups,
            "element" => &mut self.elements,
            "attribute" => &mut self.attributes,
            _ => return,
        };
        let Some(original) = table.insert(name.clone(), d) else {
            // Nothing to replace: XSD calls it an error; keep it as a
            // definition of its own.
            self.define(name, d);
            return;
        };
        if let Some(derivation) = self_derivation(d, &name) {
            self.originals.push((derivation, original));
        }
        for (n, el, _) in &mut self.order {
            if *n == name && std::ptr::eq(*el, original) {
                *el = d;
            }
        }
        for (n, el) in &mut self.global_elements {
            if *n == name && std::ptr::eq(*el, original) {
                *el = d;
            }
        }
    }

    /// The original a redefinition derives from, when `derivation` is the
    /// redefinition's own `extension`/`restriction` of its name.
    fn original_of(&self, derivation: &El) -> Option<&'s El> {
        self.originals
            .iter()
            .find(|(d, _)| std::ptr::eq(*d, derivation))
            .map(|(_, o)| *o)
    }

    fn run(&mut self) {
        // Names first, so types may refer to each other in any order.
        let order = self.order.clone();
        for (name, el, complex) in &order {
            if *complex || enum_values(el).is_some() {
                let tname = self.fresh_name(&name.local);
                self.names.insert(name.clone(), tname);
            }
        }
        // Top-level elements with an anonymous type are records of their own.
        let mut anonymous = Vec::new();
        for (name, el) in self.global_elements.clone() {
            let type_name = match el.qname("type") {
                Some(t) => self.names.get(t).cloned(),
                None if el.child("complexType").is_some() => {
                    let tname = self.fresh_name(&name.local);
                    anonymous.push((tname.clone(), el));
                    Some(tname)
                }
                None => None,
            };
            if let Some(t) = type_name {
                self.root_elements.push((name.local.clone(), t));
            }
        }
        for (name, el, complex) in &order {
            let Some(tname) = self.names.get(name).cloned() else {
                continue;
            };
            let ident = self.ident(&tname, el);
            if *complex {
                let body = self.complex_body(el, &tname);
                self.types.push(TypeDecl::Record(RecordDecl::new(
                    ident.clone(),
                    body,
                    ident.span,
                )));
            } else if let Some(values) = enum_values(el) {
                let span = ident.span;
                self.types.push(TypeDecl::Enum(EnumDecl {
                    name: ident,
                    values: values
                        .into_iter()
                        .map(|v| StringLit { value: v, span })
                        .collect(),
                    span,
                }));
            }
        }
        for (tname, el) in anonymous {
            if let Some(ct) = el.child("complexType") {
                let ident = self.ident(&tname, el);
                let body = self.complex_body(ct, &tname);
                self.types.push(TypeDecl::Record(RecordDecl::new(
                    ident.clone(),
                    body,
                    ident.span,
                )));
            }
        }
        // One warning per undefined type, saying how often it is used: a
        // missing file would otherwise give one per use (hundreds in UBL).
        for (name, (at, more)) in std::mem::take(&mut self.undefined) {
            if let Some(w) = self.warnings.get_mut(at).filter(|_| more > 0) {
                w.notes.push(format!(
                    "`{}` is used {more} more time{} in this package, each `any` too",
                    name.local,
                    if more == 1 { "" } else { "s" }
                ));
            }
        }
    }

    /// A tether name for a schema type: its local name, made unique across
    /// the namespaces of a WSDL.
    fn fresh_name(&mut self, local: &str) -> String {
        let mut name = local.to_string();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{local}_{n}");
            n += 1;
        }
        name
    }

    /// Where `el` is: its file, and the span of its `name` attribute value
    /// or of its tag. For diagnostics, which may point into any file.
    fn located(&self, el: &El) -> (FileId, Span) {
        match self.sources.get(el.src) {
            Some(s) => (s.file, el.span_in(&s.text, el.attr("name"))),
            // Unreachable: every element is parsed from a source. The root
            // file is the honest fallback.
            None => (self.root_file(), Span::new(0, 0)),
        }
    }

    fn root_file(&self) -> FileId {
        self.sources.first().map_or(0, |s| s.file)
    }

    /// The span of `el` in the root file, for the declarations imported: the
    /// root file is the one the types are placed in, so an element of
    /// another file gives the reference through which the root reaches it.
    fn span_of(&self, el: &El) -> Span {
        match self.sources.get(el.src) {
            Some(Source {
                entry: Some(entry), ..
            }) => *entry,
            _ => self.located(el).1,
        }
    }

    fn ident(&self, name: &str, el: &El) -> Ident {
        Ident {
            name: name.to_string(),
            span: self.span_of(el),
        }
    }

    fn warn(&mut self, el: &El, message: String) {
        let (file, span) = self.located(el);
        self.warnings
            .push(Diagnostic::warning(Code::W0004, file, span, message).label("degraded to `any`"));
    }

    /// A warning about the name `to` that `el` refers to (in its `type`,
    /// `base`, `ref` or `itemType`), pointing at the reference itself.
    fn warn_at_reference(&mut self, el: &El, to: &Name, message: String) {
        let written = el
            .qnames
            .iter()
            .find(|(_, n)| n == to)
            .and_then(|(key, _)| el.attr(key));
        let (file, span) = match self.sources.get(el.src) {
            Some(s) if written.is_some() => (s.file, el.span_in(&s.text, written)),
            _ => self.located(el),
        };
        self.warnings.push(
            Diagnostic::warning(Code::W0004, file, span, message)
                .label("defined in no file of the package"),
        );
    }

    fn named(&self, name: &str, el: &El) -> TypeExprKind {
        TypeExprKind::Named {
            namespace: None,
            name: Ident {
                name: name.to_string(),
                span: self.span_of(el),
            },
        }
    }

    // -------------------------------------------------------- complex types

    fn complex_body(&mut self, ct: &'s El, path: &str) -> RecordBody {
        let mut b = Body {
            fields: Vec::new(),
            sequence: true,
        };
        self.complex_content(ct, path, &mut b, Derivation::Extension);
        if ct.attr("mixed") == Some("true") && !b.fields.iter().any(|f| f.xml == XmlForm::Text) {
            let kind = self.named("string", ct);
            b.push(self.field_decl("value", kind, true, false, ct, XmlForm::Text, None));
        }
        RecordBody {
            fields: b.fields,
            span: self.span_of(ct),
            xml_sequence: b.sequence,
        }
    }

    /// The content of a complex type (or of a derivation inside one):
    /// declarations in `mode`, and the base's fields for a derivation.
    fn complex_content(&mut self, ct: &'s El, path: &str, b: &mut Body, mode: Derivation) {
        let none = Occurs {
            optional: false,
            many: false,
        };
        for c in ct.xsd_children() {
            match c.name.as_str() {
                "sequence" | "choice" | "all" | "group" => self.particle(c, none, path, b),
                "attribute" | "attributeGroup" => self.attribute(c, path, b, mode),
                "simpleContent" => {
                    for d in c.xsd_children() {
                        let Some(mode) = Derivation::of(d) else {
                            continue;
                        };
                        let kind = match d.qname("base") {
                            Some(base) => self.simple_content_base(base, d, path, b),
                            None => self.named("string", d),
                        };
                        let kind = match mode {
                            Derivation::Restriction => self.narrowed_text(kind, d, path),
                            Derivation::Extension => kind,
                        };
                        if !b.fields.iter().any(|f| f.xml == XmlForm::Text) {
                            let f = self.field_decl(
                                "value",
                                kind,
                                false,
                                false,
                                d,
                                XmlForm::Text,
                                None,
                            );
                            b.push(f);
                        }
                        for a in d.xsd_children() {
                            if matches!(a.name.as_str(), "attribute" | "attributeGroup") {
                                self.attribute(a, path, b, mode);
                            }
                        }
                    }
                }
                "complexContent" => {
                    for d in c.xsd_children() {
                        let Some(mode) = Derivation::of(d) else {
                            continue;
                        };
                        if let Some(base) = d.qname("base") {
                            self.base_fields(base, d, path, b, mode);
                        }
                        self.complex_content(d, path, b, mode);
                    }
                }
                _ => {}
            }
        }
    }

    /// The text type of a `simpleContent` restriction: the base's, or an
    /// enum of the restriction's `enumeration` facets when the base's text
    /// is a string. Other facets (`length`, `pattern`, ...) are not checked
    /// and leave the type as it is.
    fn narrowed_text(&mut self, kind: TypeExprKind, d: &'s El, path: &str) -> TypeExprKind {
        let is_string = matches!(&kind, TypeExprKind::Named { name, .. } if name.name == "string");
        match enumerations(d) {
            Some(values) if is_string => self.enum_decl(&format!("{path}.value"), values, d),
            _ => kind,
        }
    }

    /// The fields a derivation inherits from its base type: all of them for
    /// an extension; for a restriction only the attributes, since it
    /// restates the elements it keeps (attributes are inherited unless
    /// restated or prohibited).
    fn base_fields(&mut self, base: &Name, at: &'s El, path: &str, b: &mut Body, mode: Derivation) {
        if base.ns.as_deref() == Some(XSD_NS) {
            return; // xs:anyType: nothing to inherit
        }
        // A redefinition's base is the original, not itself.
        let original = self.original_of(at);
        let Some(def) = original.or_else(|| self.complex.get(base).copied()) else {
            let message = format!(
                "the base type `{}` is defined in no file of this schema package; its fields are missing",
                base.local
            );
            self.warn_at_reference(at, base, message);
            return;
        };
        if original.is_none() && self.expanding.contains(base) {
            return;
        }
        self.expanding.push(base.clone());
        match mode {
            Derivation::Extension => self.complex_content(def, path, b, Derivation::Extension),
            Derivation::Restriction => {
                let mut inherited = Body {
                    fields: Vec::new(),
                    sequence: b.sequence,
                };
                self.complex_content(def, path, &mut inherited, Derivation::Extension);
                for f in inherited.fields {
                    if f.xml == XmlForm::Attribute {
                        b.push(f);
                    }
                }
            }
        }
        self.expanding.pop();
    }

    /// The text type of `simpleContent` over `base`; a complex base (simple
    /// content extended again) gives its text type and its attributes.
    fn simple_content_base(
        &mut self,
        base: &Name,
        at: &'s El,
        path: &str,
        b: &mut Body,
    ) -> TypeExprKind {
        let original = self.original_of(at);
        if let Some(def) = original.or_else(|| self.complex.get(base).copied()) {
            if original.is_none() && self.expanding.contains(base) {
                return self.named("string", at);
            }
            self.expanding.push(base.clone());
            let mut inner = Body {
                fields: Vec::new(),
                sequence: true,
            };
            self.complex_content(def, path, &mut inner, Derivation::Extension);
            self.expanding.pop();
            let mut text = None;
            for f in inner.fields {
                if f.xml == XmlForm::Text {
                    text = Some(f.ty.kind);
                } else {
                    b.push(f);
                }
            }
            return text.unwrap_or_else(|| self.named("string", at));
        }
        self.type_ref(base, at, path)
    }

    fn particle(&mut self, p: &'s El, outer: Occurs, path: &str, b: &mut Body) {
        match p.name.as_str() {
            "element" => self.element(p, Occurs::of(p, outer), path, b),
            "sequence" | "choice" | "all" => {
                if p.name == "all" {
                    b.sequence = false;
                }
                let mut occurs = Occurs::of(p, outer);
                if p.name == "choice" {
                    occurs.optional = true;
                }
                for c in p.xsd_children() {
                    self.particle(c, occurs, path, b);
                }
            }
            "group" => {
                let occurs = Occurs::of(p, outer);
                let Some(def) = p.qname("ref").and_then(|r| self.groups.get(r).copied()) else {
                    self.warn(
                        p,
                        "a group reference to no group of this schema; its elements are missing"
                            .into(),
                    );
                    return;
                };
                for c in def.xsd_children() {
                    self.particle(c, occurs, path, b);
                }
            }
            // `any`: open content, skipped when read.
            _ => {}
        }
    }

    fn element(&mut self, el: &'s El, occurs: Occurs, path: &str, b: &mut Body) {
        let (name, decl) = match (el.attr("name"), el.qname("ref")) {
            (Some(n), _) => (n.to_string(), el),
            (None, Some(r)) => match self.elements.get(r).copied() {
                Some(d) => (r.local.clone(), d),
                None => {
                    self.warn(
                        el,
                        format!(
                            "the element reference `{}` names no element of this schema",
                            r.local
                        ),
                    );
                    return;
                }
            },
            (None, None) => return,
        };
        if el.attr("maxOccurs") == Some("0") {
            return;
        }
        let inner_path = format!("{path}.{name}");
        let kind = if let Some(t) = decl.qname("type") {
            self.type_ref(t, decl, &inner_path)
        } else if let Some(ct) = decl.child("complexType") {
            TypeExprKind::Record(self.complex_body(ct, &inner_path))
        } else if let Some(st) = decl.child("simpleType") {
            self.simple_kind(st, decl, &inner_path)
        } else {
            self.named("any", decl)
        };
        let nullable = decl.attr("nillable") == Some("true") || el.attr("nillable") == Some("true");
        let doc = el.documentation().or_else(|| decl.documentation());
        let f = self.field_decl(
            &name,
            kind,
            occurs.optional,
            nullable,
            el,
            XmlForm::Element,
            doc,
        );
        let f = if occurs.many {
            FieldDecl {
                ty: TypeExpr {
                    span: f.ty.span,
                    kind: TypeExprKind::Array(Box::new(f.ty)),
                    nullable: false,
                },
                ..f
            }
        } else {
            f
        };
        b.push(f);
    }

    /// An attribute (or the attributes of a group), declared or, in a
    /// restriction, restated: a restated attribute replaces the inherited
    /// one (`use="required"` tightens it), a prohibited one is removed.
    fn attribute(&mut self, a: &'s El, path: &str, b: &mut Body, mode: Derivation) {
        if a.name == "attributeGroup" {
            let Some(r) = a.qname("ref") else {
                return;
            };
            let Some(def) = self.attribute_groups.get(r).copied() else {
                let message = format!(
                    "the attribute group `{}` is defined in no file of this schema package; its attributes are missing",
                    r.local
                );
                self.warn_at_reference(a, r, message);
                return;
            };
            for c in def.xsd_children() {
                if matches!(c.name.as_str(), "attribute" | "attributeGroup") {
                    self.attribute(c, path, b, mode);
                }
            }
            return;
        }
        let (name, decl) = match (a.attr("name"), a.qname("ref")) {
            (Some(n), _) => (n.to_string(), a),
            (None, Some(r)) => match self.attributes.get(r).copied() {
                Some(d) => (r.local.clone(), d),
                None => {
                    // `xml:lang`, `xml:space`...: text, defined by XML itself.
                    if r.ns.as_deref() != Some(XML_NS) {
                        let message = format!(
                            "the attribute `{}` is defined in no file of this schema package; its type is `string`",
                            r.local
                        );
                        self.warn_at_reference(a, r, message);
                    }
                    (r.local.clone(), a)
                }
            },
            (None, None) => return,
        };
        if a.attr("use") == Some("prohibited") {
            if mode == Derivation::Restriction {
                b.remove(&name, XmlForm::Attribute);
            }
            return;
        }
        let inner_path = format!("{path}.{name}");
        let kind = if let Some(t) = decl.qname("type").filter(|_| decl.attr("name").is_some()) {
            self.type_ref(t, decl, &inner_path)
        } else if let Some(st) = decl.child("simpleType") {
            self.simple_kind(st, decl, &inner_path)
        } else {
            self.named("string", decl)
        };
        let optional = a.attr("use") != Some("required");
        let doc = a.documentation();
        let f = self.field_decl(&name, kind, optional, false, a, XmlForm::Attribute, doc);
        match mode {
            Derivation::Extension => b.push(f),
            Derivation::Restriction => b.restate(f),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn field_decl(
        &self,
        name: &str,
        kind: TypeExprKind,
        optional: bool,
        nullable: bool,
        el: &El,
        xml: XmlForm,
        description: Option<String>,
    ) -> FieldDecl {
        let span = self.span_of(el);
        FieldDecl {
            name: Ident {
                name: name.to_string(),
                span,
            },
            optional,
            ty: TypeExpr {
                kind,
                nullable,
                span,
            },
            span,
            description,
            xml,
            // XML Schema has no read-only or write-only fields.
            access: Default::default(),
        }
    }

    // -------------------------------------------------------- simple types

    /// The type a `type="..."` reference names.
    fn type_ref(&mut self, t: &Name, at: &'s El, path: &str) -> TypeExprKind {
        if t.ns.as_deref() == Some(XSD_NS) {
            return match builtin(&t.local) {
                Some(scalar) => self.named(scalar, at),
                None => {
                    self.warn(
                        at,
                        format!(
                            "the built-in type `xs:{}` is not one tether knows; the type is `any`",
                            t.local
                        ),
                    );
                    self.named("any", at)
                }
            };
        }
        if let Some(name) = self.names.get(t).cloned() {
            return self.named(&name, at);
        }
        if let Some(st) = self.simple.get(t).copied() {
            if self.expanding.contains(t) {
                return self.named("string", at);
            }
            self.expanding.push(t.clone());
            let k = self.simple_kind(st, at, path);
            self.expanding.pop();
            return k;
        }
        if let Some((_, more)) = self.undefined.get_mut(t) {
            *more += 1;
            return self.named("any", at);
        }
        self.undefined.insert(t.clone(), (self.warnings.len(), 0));
        let message = format!(
            "the type `{}`{} is defined in no file of this schema package; the type is `any`",
            t.local,
            t.ns.as_ref()
                .map(|ns| format!(" of namespace `{ns}`"))
                .unwrap_or_default()
        );
        self.warn_at_reference(at, t, message);
        self.named("any", at)
    }

    /// An anonymous enum, named after where it is (`path`), declared at `at`.
    fn enum_decl(&mut self, path: &str, values: Vec<String>, at: &El) -> TypeExprKind {
        let name = self.fresh_name(path);
        let span = self.span_of(at);
        self.types.push(TypeDecl::Enum(EnumDecl {
            name: Ident {
                name: name.clone(),
                span,
            },
            values: values
                .into_iter()
                .map(|v| StringLit { value: v, span })
                .collect(),
            span,
        }));
        self.named(&name, at)
    }

    /// An anonymous or aliased simple type: an enum, or its base type.
    fn simple_kind(&mut self, st: &'s El, at: &'s El, path: &str) -> TypeExprKind {
        if let Some(values) = enum_values(st) {
            return self.enum_decl(path, values, at);
        }
        if let Some(r) = st.child("restriction") {
            if let Some(original) = self.original_of(r) {
                return self.simple_kind(original, at, path);
            }
            return match r.qname("base") {
                Some(base) => self.type_ref(base, at, path),
                None => match r.child("simpleType") {
                    Some(inner) => self.simple_kind(inner, at, path),
                    None => self.named("string", at),
                },
            };
        }
        // `list` and `union`: their values are text.
        self.named("string", at)
    }
}

/// How a complex type's declarations combine with what it derives from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Derivation {
    /// A type's own declarations, or an extension: fields are added.
    Extension,
    /// A restriction: restated declarations replace the base's.
    Restriction,
}

impl Derivation {
    fn of(d: &El) -> Option<Derivation> {
        match d.name.as_str() {
            "extension" => Some(Derivation::Extension),
            "restriction" => Some(Derivation::Restriction),
            _ => None,
        }
    }
}

/// The fields of a record being built.
struct Body {
    fields: Vec<FieldDecl>,
    sequence: bool,
}

impl Body {
    /// A restriction's restatement of a field: it replaces the inherited
    /// one (its type may be narrower, its use stricter); a field not
    /// inherited is added.
    fn restate(&mut self, f: FieldDecl) {
        let prev = self
            .fields
            .iter_mut()
            .find(|p| p.xml == f.xml && bare(&p.name.name) == f.name.name);
        match prev {
            Some(prev) => {
                prev.optional = f.optional;
                prev.ty = f.ty;
                prev.description = f.description.or(prev.description.take());
            }
            None => self.push(f),
        }
    }

    /// Removes a field (an attribute a restriction prohibits).
    fn remove(&mut self, name: &str, xml: XmlForm) {
        self.fields
            .retain(|p| !(p.xml == xml && bare(&p.name.name) == name));
    }

    /// Adds a field; one already there (the same element in two branches of
    /// a choice, or redeclared by a restriction) is kept, made optional when
    /// either is. An attribute named like an element is `@name`.
    fn push(&mut self, mut f: FieldDecl) {
        if let Some(prev) = self.fields.iter_mut().find(|p| p.name.name == f.name.name) {
            if prev.xml == f.xml {
                prev.optional |= f.optional;
                return;
            }
            if f.xml == XmlForm::Attribute {
                f.name.name = format!("@{}", f.name.name);
            } else {
                prev.name.name = format!("@{}", prev.name.name);
            }
        }
        self.fields.push(f);
    }
}

/// The values of a string enumeration (`xs:enumeration` facets).
fn enum_values(st: &El) -> Option<Vec<String>> {
    if !st.is_xsd("simpleType") {
        return None;
    }
    let r = st.child("restriction")?;
    let values = enumerations(r)?;
    // Enumerations of numbers stay numbers.
    if let Some(base) = r.qname("base")
        && base.ns.as_deref() == Some(XSD_NS)
        && builtin(&base.local).is_some_and(|s| s != "string")
    {
        return None;
    }
    Some(values)
}

/// The qualified name a top-level definition of a schema in namespace
/// `tns` defines.
fn definition_name(d: &El, tns: &Option<String>) -> Option<Name> {
    Some(Name {
        ns: tns.clone(),
        local: d.attr("name")?.to_string(),
    })
}

/// The `extension`/`restriction` of a redefined type whose base is the
/// type's own name (`xs:redefine` derives from the original that way).
fn self_derivation<'e>(d: &'e El, name: &Name) -> Option<&'e El> {
    let derivations: Vec<&El> = match d.name.as_str() {
        "simpleType" => d.child("restriction").into_iter().collect(),
        _ => d
            .xsd_children()
            .filter(|c| matches!(c.name.as_str(), "simpleContent" | "complexContent"))
            .flat_map(|c| c.xsd_children())
            .collect(),
    };
    derivations
        .into_iter()
        .find(|r| r.qname("base") == Some(name))
}

/// A field's name without the `@` given to an attribute named like an
/// element of the same record.
fn bare(name: &str) -> &str {
    name.strip_prefix('@').unwrap_or(name)
}

/// The `xs:enumeration` facets of a restriction, each value once.
fn enumerations(r: &El) -> Option<Vec<String>> {
    let mut unique: Vec<String> = Vec::new();
    for v in r
        .xsd_children()
        .filter(|c| c.name == "enumeration")
        .filter_map(|c| c.attr("value"))
    {
        if !unique.iter().any(|u| u == v) {
            unique.push(v.to_string());
        }
    }
    (!unique.is_empty()).then_some(unique)
}

/// The tether scalar for an XSD built-in type.
fn builtin(local: &str) -> Option<&'static str> {
    Some(match local {
        "string" | "normalizedString" | "token" | "language" | "Name" | "NCName" | "ID"
        | "IDREF" | "IDREFS" | "ENTITY" | "ENTITIES" | "NMTOKEN" | "NMTOKENS" | "anyURI"
        | "QName" | "NOTATION" | "base64Binary" | "hexBinary" | "duration" | "gYear"
        | "gYearMonth" | "gMonth" | "gMonthDay" | "gDay" => "string",
        "boolean" => "bool",
        "decimal" => "decimal",
        "integer" | "int" | "long" | "short" | "byte" | "nonNegativeInteger"
        | "positiveInteger" | "nonPositiveInteger" | "negativeInteger" | "unsignedLong"
        | "unsignedInt" | "unsignedShort" | "unsignedByte" => "int",
        "float" | "double" => "float",
        "date" => "date",
        "dateTime" => "anydatetime",
        "time" => "time",
        "anyType" | "anySimpleType" => "any",
        _ => return None,
    })
}
