//! The file graph of a schema package: the root schema (or the schemas in a
//! WSDL's `<types>`) and every schema it reaches through `xs:include`,
//! `xs:import`, `xs:redefine` and `xs:override`.
//!
//! Each `schemaLocation` is resolved relative to the file that *contains* it,
//! as UBL, PEPPOL and most government packages need: `maindoc/a.xsd` imports
//! `../common/b.xsd`, which imports `c.xsd`, which is `common/c.xsd`. Every
//! file read is registered with the loader (so a diagnostic can point into
//! it), read once however often it is reached (diamonds, cycles), and a
//! problem with a reference is reported at that reference, in its own file.

use super::dom::{self, El};
use crate::base::Span;
use crate::diag::{Code, Diagnostic, FileId};
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// A schema file read by a [`Loader`]: the diagnostics file it was
/// registered as, and its text.
pub struct Loaded {
    pub file: FileId,
    pub text: String,
}

/// Reads (and registers for diagnostics) the schema file at a path that an
/// `xs:include`/`xs:import` names, already resolved against the file that
/// contains the reference. An `Err` is a message saying why it could not be
/// read.
pub type Loader<'l> = dyn FnMut(&Path) -> Result<Loaded, String> + 'l;

/// One file of the package.
pub struct Source {
    pub file: FileId,
    pub text: String,
    path: PathBuf,
    /// For a file other than the root: the span, in the root file, of the
    /// reference through which the root reaches it. Type declarations are
    /// placed in the root file (the one a mapping imports), so the types of
    /// other files point there.
    pub entry: Option<Span>,
}

/// One schema of the package, with the namespace its definitions are in.
pub struct Schema {
    pub el: El,
    /// The schema's `targetNamespace`, or for a chameleon include the
    /// includer's.
    pub tns: Option<String>,
}

pub struct Package {
    /// Index 0 is the root file.
    pub sources: Vec<Source>,
    /// In the order they are reached, the root's first.
    pub schemas: Vec<Schema>,
    pub warnings: Vec<Diagnostic>,
}

/// The ways one schema document refers to another.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RefKind {
    /// Same namespace (or none: a chameleon), definitions merged.
    Include,
    /// Another namespace, named by the `namespace` attribute.
    Import,
    /// An include whose children replace some of the included definitions.
    Redefine,
    /// The XSD 1.1 form of `redefine`.
    Override,
}

impl RefKind {
    fn of(el: &El) -> Option<RefKind> {
        if el.ns.as_deref() != Some(super::XSD_NS) {
            return None;
        }
        Some(match el.name.as_str() {
            "include" => RefKind::Include,
            "import" => RefKind::Import,
            "redefine" => RefKind::Redefine,
            "override" => RefKind::Override,
            _ => return None,
        })
    }
}

/// A reference found in a schema, copied out so the package can grow while
/// it is followed.
struct Reference {
    kind: RefKind,
    location: String,
    /// `xs:import`'s `namespace`.
    namespace: Option<String>,
    /// The file it is written in, and where.
    src: usize,
    span: Span,
    /// The target namespace of the schema that contains it.
    includer_tns: Option<String>,
}

/// Reads the root document (file `file`, at `path`) and every schema it
/// reaches. An error only for a root that is not a schema.
pub fn resolve(
    file: FileId,
    text: &str,
    path: &Path,
    load: &mut Loader<'_>,
) -> Result<Package, Box<Diagnostic>> {
    let root = dom::parse(text, 0).map_err(|e| {
        let at = e.at;
        // The depth limit is not a fault of the XML: its own code.
        let (code, message) = if e.too_deep {
            (Code::E0007, format!("nested too deeply: {}", e.message))
        } else {
            (Code::E0004, format!("not well-formed XML: {}", e.message))
        };
        Box::new(Diagnostic::error(code, file, Span::new(at, at), message).label("here"))
    })?;
    let root_schemas = schemas_of(root).map_err(|(at, name)| {
        Box::new(
            Diagnostic::error(
                Code::E0004,
                file,
                Span::new(at, at + name.len() + 1),
                format!("`<{name}>` is neither an XML Schema (`xs:schema`) nor a WSDL document"),
            )
            .label("the root element"),
        )
    })?;
    let root_path = normalize(path);
    let mut r = Resolver {
        package: Package {
            sources: vec![Source {
                file,
                text: text.to_string(),
                path: root_path.clone(),
                entry: None,
            }],
            schemas: Vec::new(),
            warnings: Vec::new(),
        },
        by_path: HashMap::from([(root_path.clone(), 0)]),
        seen: HashSet::new(),
        declared: HashMap::new(),
        load,
    };
    for el in root_schemas {
        let tns = el.attr("targetNamespace").map(str::to_string);
        r.seen.insert((root_path.clone(), tns.clone()));
        r.package.schemas.push(Schema { el, tns });
    }
    // Breadth first: the schemas list grows as references are followed.
    let mut i = 0;
    while let Some(s) = r.package.schemas.get(i) {
        let refs = references(s, &r.package.sources);
        for reference in refs {
            r.follow(reference);
        }
        i += 1;
    }
    Ok(r.package)
}

struct Resolver<'a, 'l> {
    package: Package,
    /// Each file read, by its normalized path: read once.
    by_path: HashMap<PathBuf, usize>,
    /// Each schema taken in, by file and namespace: a chameleon file
    /// included into two namespaces is two schemas, any other file one.
    seen: HashSet<(PathBuf, Option<String>)>,
    /// Each file's `targetNamespace`, or what is wrong with it.
    declared: HashMap<usize, Result<Option<String>, String>>,
    load: &'a mut Loader<'l>,
}

impl Resolver<'_, '_> {
    fn follow(&mut self, r: Reference) {
        let loc = r.location.as_str();
        if loc.contains("://") || loc.starts_with("urn:") {
            self.warn(
                &r,
                format!(
                    "the schema `{loc}` is not read: tether reads schema files from disk, not from the network; its types are missing"
                ),
            );
            return;
        }
        let Some(includer) = self.package.sources.get(r.src) else {
            return;
        };
        let dir = includer.path.parent().unwrap_or(Path::new(""));
        let target = normalize(&dir.join(loc));
        let entry = includer.entry.unwrap_or(r.span);
        let src = match self.by_path.get(&target) {
            Some(&src) => src,
            None => match (self.load)(&target) {
                Ok(loaded) => {
                    self.package.sources.push(Source {
                        file: loaded.file,
                        text: loaded.text,
                        path: target.clone(),
                        entry: Some(entry),
                    });
                    let src = self.package.sources.len() - 1;
                    self.by_path.insert(target.clone(), src);
                    src
                }
                Err(e) => {
                    self.warn(
                        &r,
                        format!(
                            "cannot read the schema `{loc}` (`{}`, relative to this file): {e}; its types are missing",
                            target.display()
                        ),
                    );
                    return;
                }
            },
        };
        // A file reached again is not parsed again to learn its namespace.
        let mut parsed = None;
        let declared = match self.declared.get(&src) {
            Some(d) => d.clone(),
            None => {
                let d = match self.parse(src) {
                    Ok(el) => {
                        let d = el.attr("targetNamespace").map(str::to_string);
                        parsed = Some(el);
                        Ok(d)
                    }
                    Err(problem) => Err(problem),
                };
                self.declared.insert(src, d.clone());
                d
            }
        };
        let declared = match declared {
            Ok(d) => d,
            Err(problem) => {
                self.warn(&r, format!("`{loc}` {problem}; its types are missing"));
                return;
            }
        };
        let chameleon = declared.is_none() && r.kind != RefKind::Import;
        let tns = match r.kind {
            RefKind::Import => {
                if declared != r.namespace {
                    self.warn(
                        &r,
                        format!(
                            "`{loc}` is imported for the namespace {} but its targetNamespace is {}; its names are taken as the file declares them",
                            show_ns(&r.namespace),
                            show_ns(&declared)
                        ),
                    );
                }
                declared
            }
            RefKind::Include | RefKind::Redefine | RefKind::Override => match declared {
                None => r.includer_tns.clone(),
                Some(d) => {
                    if Some(&d) != r.includer_tns.as_ref() {
                        self.warn(
                            &r,
                            format!(
                                "`{loc}` has the targetNamespace `{d}` but is included into {}: an include must share its includer's namespace (or have none); its names keep their own",
                                show_ns(&r.includer_tns)
                            ),
                        );
                    }
                    Some(d)
                }
            },
        };
        if !self.seen.insert((target, tns.clone())) {
            return;
        }
        // Parsed again only for a chameleon taken into a second namespace.
        let Some(mut el) = parsed.or_else(|| self.parse(src).ok()) else {
            return;
        };
        if chameleon && let Some(tns) = &tns {
            el.adopt_namespace(tns);
        }
        self.package.schemas.push(Schema { el, tns });
    }

    /// The schema of file `src`, or what is wrong with it.
    fn parse(&self, src: usize) -> Result<El, String> {
        let text = self
            .package
            .sources
            .get(src)
            .map_or("", |s| s.text.as_str());
        match dom::parse(text, src) {
            Ok(el) if el.is_xsd("schema") => Ok(el),
            Ok(_) => Err("is not an XML Schema".to_string()),
            Err(e) if e.too_deep => Err(format!("is nested too deeply ({})", e.message)),
            Err(e) => Err(format!("is not well-formed XML ({})", e.message)),
        }
    }

    fn warn(&mut self, r: &Reference, message: String) {
        let Some(file) = self.package.sources.get(r.src).map(|s| s.file) else {
            return;
        };
        self.package
            .warnings
            .push(Diagnostic::warning(Code::W0004, file, r.span, message).label("referenced here"));
    }
}

/// The schemas of a root document: itself, or those of a WSDL's `<types>`.
/// `Err` gives the root's offset and name when it is neither.
fn schemas_of(root: El) -> Result<Vec<El>, (usize, String)> {
    const WSDL_NS: &[&str] = &[
        "http://schemas.xmlsoap.org/wsdl/",
        "http://www.w3.org/ns/wsdl",
    ];
    if root.is_xsd("schema") {
        return Ok(vec![root]);
    }
    let is_wsdl = matches!(root.name.as_str(), "definitions" | "description")
        && root.ns.as_deref().is_some_and(|ns| WSDL_NS.contains(&ns));
    if !is_wsdl {
        return Err((root.at, root.name));
    }
    Ok(root
        .children
        .into_iter()
        .filter(|c| c.name == "types")
        .flat_map(|t| t.children)
        .filter(|c| c.is_xsd("schema"))
        .collect())
}

/// The references of a schema that name a file (an `xs:import` without a
/// `schemaLocation` only declares a namespace it uses).
fn references(s: &Schema, sources: &[Source]) -> Vec<Reference> {
    s.el.xsd_children()
        .filter_map(|c| {
            let kind = RefKind::of(c)?;
            let location = c.attr("schemaLocation")?.to_string();
            let text = sources.get(c.src).map_or("", |s| s.text.as_str());
            Some(Reference {
                kind,
                span: c.span_in(text, Some(&location)),
                location,
                namespace: c.attr("namespace").map(str::to_string),
                src: c.src,
                includer_tns: s.tns.clone(),
            })
        })
        .collect()
}

fn show_ns(ns: &Option<String>) -> String {
    match ns {
        Some(n) => format!("`{n}`"),
        None => "no namespace".to_string(),
    }
}

/// `a/b/../c/./d.xsd` → `a/c/d.xsd`, without asking the file system: the
/// same file reached by two routes is one file.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(
                    out.components().next_back(),
                    Some(Component::RootDir | Component::Prefix(_))
                ) {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn normalize_resolves_dots_lexically() {
        assert_eq!(
            normalize(Path::new("pkg/maindoc/../common/./b.xsd")),
            Path::new("pkg/common/b.xsd")
        );
        assert_eq!(normalize(Path::new("../x/../y.xsd")), Path::new("../y.xsd"));
        assert_eq!(normalize(Path::new("/a/../../b.xsd")), Path::new("/b.xsd"));
    }
}
