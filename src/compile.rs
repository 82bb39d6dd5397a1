//! The driver: reads a mapping file and its imports, and runs the phases in
//! order (syntax → schema → check). Each phase reports into one list of
//! diagnostics; a program is returned only when there is no error.

use crate::check::{self, Program};
use crate::diag::{Code, Diagnostic, FileId, SourceMap};
use crate::provider::spec::ProviderSpec;
use crate::schema::{self, build::SchemaSource};
use crate::syntax::{self, Item};
use std::path::{Path, PathBuf};

pub struct Compiled {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// `None` when any error was reported.
    pub program: Option<Program>,
    /// The file's `provider` items and the providers it imports, checked
    /// (docs/design/10-rest-providers.md).
    pub providers: Vec<ProviderSpec>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// A schema file to use instead of what the mapping declares for one schema
/// name (`tether check --schema stripe=spec.json`): how CI checks a mapping
/// against a provider's newest contract without editing it.
#[derive(Clone, Debug)]
pub struct SchemaOverride {
    pub name: String,
    pub path: PathBuf,
}

/// Compiles the mapping file at `path`.
pub fn compile_file(path: &Path, overrides: &[SchemaOverride]) -> std::io::Result<Compiled> {
    let text = std::fs::read_to_string(path)?;
    Ok(compile_source_with(
        &path.display().to_string(),
        &text,
        path.parent(),
        overrides,
    ))
}

/// Compiles mapping text; imports are resolved relative to `dir`.
pub fn compile_source(name: &str, text: &str, dir: Option<&Path>) -> Compiled {
    compile_source_with(name, text, dir, &[])
}

/// [`compile_source`], with some schemas read from other files.
pub fn compile_source_with(
    name: &str,
    text: &str,
    dir: Option<&Path>,
    overrides: &[SchemaOverride],
) -> Compiled {
    let mut sources = SourceMap::new();
    let unit = compile_unit(&mut sources, name, text, dir, overrides, true);
    Compiled {
        sources,
        diagnostics: unit.diagnostics,
        program: unit.program,
        providers: unit.providers,
    }
}

/// What one file compiles to, its imported files' sources added to the
/// shared map.
struct Unit {
    diagnostics: Vec<Diagnostic>,
    program: Option<Program>,
    providers: Vec<ProviderSpec>,
}

/// Compiles one file. `imports_providers`: whether `import provider` is
/// allowed (not in a `.tprovider` file, so imports cannot loop).
fn compile_unit(
    sources: &mut SourceMap,
    name: &str,
    text: &str,
    dir: Option<&Path>,
    overrides: &[SchemaOverride],
    imports_providers: bool,
) -> Unit {
    let file = sources.add(name, text);
    let parsed = syntax::parse_file(file, text);
    let mut diagnostics = parsed.diagnostics;

    // Imported schema files, parsed into their own files of the map.
    struct Imported {
        decl: usize,
        file: usize,
        types: Vec<syntax::TypeDecl>,
        path: String,
        xml: Option<schema::XmlSchema>,
        int_enums: Vec<String>,
    }
    let mut imported: Vec<Imported> = Vec::new();
    for (i, item) in parsed.file.items.iter().enumerate() {
        // An import, or a schema block replaced by `--schema NAME=PATH`.
        let (name, path_span, full) = match item {
            Item::Import(imp) => {
                let full = match overrides.iter().find(|o| o.name == imp.name.name) {
                    Some(o) => o.path.clone(),
                    None => {
                        let rel = PathBuf::from(&imp.path.value);
                        dir.map_or(rel.clone(), |d| d.join(&rel))
                    }
                };
                (&imp.name, imp.path.span, full)
            }
            Item::Schema(s) => match overrides.iter().find(|o| o.name == s.name.name) {
                Some(o) => (&s.name, s.name.span, o.path.clone()),
                None => continue,
            },
            _ => continue,
        };
        let ext = full
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !matches!(
            ext.as_str(),
            "tschema" | "json" | "yaml" | "yml" | "xsd" | "wsdl" | "xml"
        ) {
            diagnostics.push(
                Diagnostic::error(Code::E0004, file, path_span, format!("cannot import `{}`: not a schema file tether reads", full.display()))
                    .label("unsupported schema format")
                    .note("tether imports `.tschema` files, JSON Schema / OpenAPI documents (`.json`, `.yaml`, `.yml`) and XML Schemas or WSDLs (`.xsd`, `.wsdl`, `.xml`)"),
            );
            continue;
        }
        let schema_text = match std::fs::read_to_string(&full) {
            Ok(t) => t,
            Err(e) => {
                diagnostics.push(
                    Diagnostic::error(
                        Code::E0004,
                        file,
                        path_span,
                        format!("cannot read `{}`: {e}", full.display()),
                    )
                    .label("imported here")
                    .note("import paths are relative to the file that imports them"),
                );
                continue;
            }
        };
        let sfile = sources.add(full.display().to_string(), schema_text.clone());
        let mut xml = None;
        let mut int_enums = Vec::new();
        let types = if matches!(ext.as_str(), "json" | "yaml" | "yml") {
            let mut load = |p: &Path| std::fs::read_to_string(p).map_err(|e| e.to_string());
            match schema::jsonschema::import(sfile, &schema_text, &name.name, &full, &mut load) {
                Ok(im) => {
                    diagnostics.extend(im.warnings);
                    int_enums = im.int_enums;
                    im.types
                }
                Err(d) => {
                    diagnostics.push(*d);
                    continue;
                }
            }
        } else if matches!(ext.as_str(), "xsd" | "wsdl" | "xml") {
            // Every file of an XSD package is registered, so a warning about
            // one of its references points into the file that holds it.
            let mut load = |p: &Path| {
                let text = std::fs::read_to_string(p).map_err(|e| e.to_string())?;
                let file = sources.add(p.display().to_string(), text.clone());
                Ok(schema::xsd::Loaded { file, text })
            };
            match schema::xsd::import(sfile, &schema_text, &full, &mut load) {
                Ok(im) => {
                    diagnostics.extend(im.warnings);
                    if let Item::Schema(s) = item {
                        diagnostics.extend(namespace_drift(file, s, &full, &im.xml));
                    }
                    xml = Some(im.xml);
                    im.types
                }
                Err(d) => {
                    diagnostics.push(*d);
                    continue;
                }
            }
        } else {
            match syntax::parse_schema_file(sfile, &schema_text) {
                Ok(types) => types,
                Err(ds) => {
                    diagnostics.extend(ds);
                    continue;
                }
            }
        };
        imported.push(Imported {
            decl: i,
            file: sfile,
            types,
            path: full.display().to_string(),
            xml,
            int_enums,
        });
    }
    let mut schema_sources: Vec<SchemaSource<'_>> = Vec::new();
    for (i, item) in parsed.file.items.iter().enumerate() {
        match item {
            Item::Schema(s) => match imported.iter().find(|x| x.decl == i) {
                Some(found) => schema_sources.push(SchemaSource {
                    name: &s.name,
                    declared_in: file,
                    types_file: found.file,
                    types: &found.types,
                    source_file: Some(found.path.clone()),
                    xml: found.xml.clone(),
                    int_enums: found.int_enums.clone(),
                }),
                None if overrides.iter().any(|o| o.name == s.name.name) => {}
                None => schema_sources.push(SchemaSource {
                    name: &s.name,
                    declared_in: file,
                    types_file: file,
                    types: &s.types,
                    source_file: None,
                    // Elements qualified, as ISO 20022, UBL and most
                    // namespaced schemas are (`elementFormDefault`).
                    xml: s.xmlns.as_ref().map(|ns| schema::XmlSchema {
                        namespace: Some(ns.value.clone()),
                        elements: Vec::new(),
                        qualified: true,
                    }),
                    int_enums: Vec::new(),
                }),
            },
            Item::Import(imp) => {
                if let Some(found) = imported.iter().find(|x| x.decl == i) {
                    schema_sources.push(SchemaSource {
                        name: &imp.name,
                        declared_in: file,
                        types_file: found.file,
                        types: &found.types,
                        source_file: Some(found.path.clone()),
                        xml: found.xml.clone(),
                        int_enums: found.int_enums.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    let registry = schema::build_registry(&schema_sources, &mut diagnostics);
    let program = check::check(
        sources,
        file,
        &parsed.file,
        registry,
        &parsed.broken_names,
        &mut diagnostics,
    );
    let mut providers = crate::provider::check::check_providers(
        file,
        &parsed.file.items,
        &program.registry,
        &mut diagnostics,
    );
    for item in &parsed.file.items {
        if let Item::ImportProvider(imp) = item
            && let Some(p) =
                import_provider(sources, file, imp, dir, imports_providers, &mut diagnostics)
        {
            if providers.iter().any(|q| q.name == p.name) {
                diagnostics.push(
                    Diagnostic::error(
                        Code::E0221,
                        file,
                        imp.name.span,
                        format!("provider `{}` is declared twice", p.name),
                    )
                    .label("imported here, and declared in this file too"),
                );
                continue;
            }
            providers.push(p);
        }
    }
    crate::provider::check::check_mapping_sides(
        file,
        &parsed.file.items,
        &program,
        &providers,
        &mut diagnostics,
    );
    crate::diag::sort(&mut diagnostics);
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Unit {
        diagnostics,
        program: if has_errors { None } else { Some(program) },
        providers,
    }
}

/// `import provider NAME from "x.tprovider"`: that file compiled on its own
/// (its schema imports, its `provider` items), and its provider `NAME`.
/// The file's own errors are reported where they are.
fn import_provider(
    sources: &mut SourceMap,
    file: FileId,
    imp: &syntax::Import,
    dir: Option<&Path>,
    allowed: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ProviderSpec> {
    if !allowed {
        diagnostics.push(
            Diagnostic::error(
                Code::E0004,
                file,
                imp.span,
                "a provider file cannot import providers",
            )
            .label("in a `.tprovider` file")
            .note("a `.tprovider` file declares providers; mapping files import them"),
        );
        return None;
    }
    let rel = PathBuf::from(&imp.path.value);
    let full = dir.map_or(rel.clone(), |d| d.join(&rel));
    if full.extension().and_then(|e| e.to_str()) != Some("tprovider") {
        diagnostics.push(
            Diagnostic::error(
                Code::E0004,
                file,
                imp.path.span,
                format!(
                    "cannot import `{}` as a provider: not a `.tprovider` file",
                    full.display()
                ),
            )
            .label("not a provider file"),
        );
        return None;
    }
    let text = match std::fs::read_to_string(&full) {
        Ok(t) => t,
        Err(e) => {
            diagnostics.push(
                Diagnostic::error(
                    Code::E0004,
                    file,
                    imp.path.span,
                    format!("cannot read `{}`: {e}", full.display()),
                )
                .label("imported here")
                .note("import paths are relative to the file that imports them"),
            );
            return None;
        }
    };
    let sub = compile_unit(
        sources,
        &full.display().to_string(),
        &text,
        full.parent(),
        &[],
        false,
    );
    let failed = sub.diagnostics.iter().any(Diagnostic::is_error);
    diagnostics.extend(sub.diagnostics);
    let mut providers = sub.providers;
    match providers.iter().position(|p| p.name == imp.name.name) {
        Some(i) => Some(providers.swap_remove(i)),
        None => {
            if !failed {
                let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
                diagnostics.push(
                    Diagnostic::error(
                        Code::E0240,
                        file,
                        imp.name.span,
                        format!(
                            "`{}` declares no provider `{}`",
                            full.display(),
                            imp.name.name
                        ),
                    )
                    .label("not in that file")
                    .suggest(&imp.name.name, names),
                );
            }
            None
        }
    }
}

/// Every `*.tether` and `*.tprovider` file under `path` (recursively), or
/// `path` itself: a provider file no mapping imports yet is still checked.
pub fn collect_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                out.extend(collect_files(&p)?);
            } else if p
                .extension()
                .is_some_and(|e| e == "tether" || e == "tprovider")
            {
                out.push(p);
            }
        }
    } else {
        std::fs::metadata(path)?;
        out.push(path.to_path_buf());
    }
    Ok(out)
}

/// A schema block checked against an XSD (`--schema NAME=PATH`) whose
/// `targetNamespace` is not the block's `xmlns`: the shipped mapping would
/// read and write another namespace than the real documents are in.
fn namespace_drift(
    file: FileId,
    block: &crate::syntax::SchemaDecl,
    xsd: &Path,
    real: &schema::XmlSchema,
) -> Option<Diagnostic> {
    let declared = block.xmlns.as_ref().map(|ns| ns.value.as_str());
    let real = real.namespace.as_deref();
    if declared == real {
        return None;
    }
    let shown = |ns: Option<&str>| ns.map_or("no namespace".to_string(), |n| format!("{n:?}"));
    let span = block.xmlns.as_ref().map_or(block.name.span, |ns| ns.span);
    Some(
        Diagnostic::error(
            Code::E0229,
            file,
            span,
            format!(
                "schema `{}` declares {}, but `{}` has targetNamespace {}",
                block.name.name,
                match declared {
                    Some(ns) => format!("xmlns {ns:?}"),
                    None => "no XML namespace".to_string(),
                },
                xsd.display(),
                shown(real)
            ),
        )
        .label("not the real schema's namespace")
        .note(match real {
            Some(ns) => format!(
                "declare `schema {} xmlns {ns:?} {{ ... }}`",
                block.name.name
            ),
            None => "the XSD has no targetNamespace: leave `xmlns` out".to_string(),
        }),
    )
}
