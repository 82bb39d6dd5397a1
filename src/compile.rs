//! The driver: reads a mapping file and its imports, and runs the phases in
//! order (syntax → schema → check). Each phase reports into one list of
//! diagnostics; a program is returned only when there is no error.

use crate::check::{self, Program};
use crate::diag::{Code, Diagnostic, SourceMap};
use crate::schema::{self, build::SchemaSource};
use crate::syntax::{self, Item};
use std::path::{Path, PathBuf};

pub struct Compiled {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// `None` when any error was reported.
    pub program: Option<Program>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Compiles the mapping file at `path`.
pub fn compile_file(path: &Path) -> std::io::Result<Compiled> {
    let text = std::fs::read_to_string(path)?;
    Ok(compile_source(
        &path.display().to_string(),
        &text,
        path.parent(),
    ))
}

/// Compiles mapping text; imports are resolved relative to `dir`.
pub fn compile_source(name: &str, text: &str, dir: Option<&Path>) -> Compiled {
    let mut sources = SourceMap::new();
    let file = sources.add(name, text);
    let parsed = syntax::parse_file(file, text);
    let mut diagnostics = parsed.diagnostics;

    // Imported schema files, parsed into their own files of the map.
    struct Imported {
        decl: usize,
        file: usize,
        types: Vec<syntax::TypeDecl>,
        path: String,
    }
    let mut imported: Vec<Imported> = Vec::new();
    for (i, item) in parsed.file.items.iter().enumerate() {
        let Item::Import(imp) = item else { continue };
        let rel = PathBuf::from(&imp.path.value);
        let full = dir.map_or(rel.clone(), |d| d.join(&rel));
        let ext = full.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "tschema" {
            diagnostics.push(
                Diagnostic::error(Code::E0004, file, imp.path.span, format!("cannot import `{}`: not a `.tschema` file", imp.path.value))
                    .label("unsupported schema format")
                    .note("this version imports tether's own schema format (`.tschema`); JSON Schema, OpenAPI and XSD importers are planned"),
            );
            continue;
        }
        match std::fs::read_to_string(&full) {
            Ok(schema_text) => {
                let sfile = sources.add(full.display().to_string(), schema_text.clone());
                match syntax::parse_schema_file(sfile, &schema_text) {
                    Ok(types) => imported.push(Imported {
                        decl: i,
                        file: sfile,
                        types,
                        path: full.display().to_string(),
                    }),
                    Err(ds) => diagnostics.extend(ds),
                }
            }
            Err(e) => diagnostics.push(
                Diagnostic::error(
                    Code::E0004,
                    file,
                    imp.path.span,
                    format!("cannot read `{}`: {e}", full.display()),
                )
                .label("imported here")
                .note("import paths are relative to the file that imports them"),
            ),
        }
    }
    let mut schema_sources: Vec<SchemaSource<'_>> = Vec::new();
    for (i, item) in parsed.file.items.iter().enumerate() {
        match item {
            Item::Schema(s) => schema_sources.push(SchemaSource {
                name: &s.name,
                declared_in: file,
                types_file: file,
                types: &s.types,
                source_file: None,
            }),
            Item::Import(imp) => {
                if let Some(found) = imported.iter().find(|x| x.decl == i) {
                    schema_sources.push(SchemaSource {
                        name: &imp.name,
                        declared_in: file,
                        types_file: found.file,
                        types: &found.types,
                        source_file: Some(found.path.clone()),
                    });
                }
            }
            _ => {}
        }
    }
    let registry = schema::build_registry(&schema_sources, &mut diagnostics);
    let program = check::check(
        &sources,
        file,
        &parsed.file,
        registry,
        &parsed.broken_names,
        &mut diagnostics,
    );
    crate::diag::sort(&mut diagnostics);
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Compiled {
        sources,
        diagnostics,
        program: if has_errors { None } else { Some(program) },
    }
}

/// Every `*.tether` file under `path` (recursively), or `path` itself.
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
            } else if p.extension().is_some_and(|e| e == "tether") {
                out.push(p);
            }
        }
    } else {
        std::fs::metadata(path)?;
        out.push(path.to_path_buf());
    }
    Ok(out)
}
