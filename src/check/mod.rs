//! Phase 3: name resolution, type inference through pipelines, direction
//! rules and coverage. Produces a [`Program`] when there are no errors.
//!
//! Every error is collected (one broken rule does not stop the others), and
//! each unknown name gets a "did you mean" from the names that exist there.
//!
//! This file holds the entry point and the [`Checker`] context every part
//! shares; each part is a file of `impl Checker` methods, in the order a
//! mapping is checked:
//!
//! * `mapping.rs`: a mapping's header, `for` clauses, `ids`, `on delete`;
//! * `rules.rs`: each scope's rules, blocks, value rules and their targets;
//! * `resolve.rs`: type references and paths;
//! * `pipeline.rs`: steps and calls (`money.rs` the currency of money,
//!   `cond.rs` the `if` step, `table.rs` tables);
//! * `assign.rs`: a pipeline's output into its target; `coverage.rs` the
//!   target fields nothing writes (`written.rs`, `unmapped.rs`);
//! * `inverse.rs`: the way back of a `<->` rule; `presence.rs` what a rule
//!   needs a record to carry;
//! * `conflict.rs`: conflict rules and delete flags; `sides.rs` side names;
//! * `test_blocks.rs`: `test` blocks.
//!
//! What a transform means (its type rule, narrowing, currency,
//! invertibility) is asked of its `stdlib::TransformDef`; no file here
//! names a transform.

mod assign;
mod cond;
mod conflict;
mod coverage;
pub mod inverse;
pub mod ir;
mod mapping;
mod money;
mod pipeline;
mod presence;
mod resolve;
mod rules;
mod sides;
mod table;
mod test_blocks;
mod types;
mod unmapped;
mod written;

pub use ir::*;

use crate::base::{FieldPath, Span};
use crate::diag::{Code, Diagnostic, FileId, SourceMap};
use crate::schema::{Field, Kind, RecordId, Registry, Type};
use crate::syntax::{self as ast, Direction};
use std::collections::HashMap;
use types::Ty;

/// Checks one parsed file against its schemas. `broken_names` are items that
/// failed to parse: references to them are not reported again.
pub fn check(
    sources: &SourceMap,
    file: FileId,
    ast: &ast::File,
    registry: Registry,
    broken_names: &[String],
    diags: &mut Vec<Diagnostic>,
) -> Program {
    let mut cx = Checker {
        sources,
        file,
        reg: registry,
        diags,
        broken: broken_names,
        tables: Vec::new(),
        table_index: HashMap::new(),
        table_keys: Vec::new(),
        warned_keys: std::collections::HashSet::new(),
        both_way_else: std::collections::HashSet::new(),
        forward_inputs: HashMap::new(),
    };
    for item in &ast.items {
        if let ast::Item::Table(t) = item {
            cx.declare_table(t);
        }
    }
    let mut mappings: Vec<Mapping> = Vec::new();
    let mut mapping_spans: HashMap<String, Span> = HashMap::new();
    for item in &ast.items {
        if let ast::Item::Mapping(m) = item {
            if let Some(prev) = mapping_spans.get(&m.name.name) {
                cx.diags.push(
                    Diagnostic::error(
                        Code::E0003,
                        file,
                        m.name.span,
                        format!("mapping `{}` is defined twice", m.name.name),
                    )
                    .label("second definition")
                    .secondary(file, *prev, "first defined here"),
                );
                continue;
            }
            mapping_spans.insert(m.name.name.clone(), m.name.span);
            if let Some(checked) = cx.mapping(m) {
                mappings.push(checked);
            }
        }
    }
    let mut tests = Vec::new();
    for item in &ast.items {
        if let ast::Item::Test(t) = item
            && let Some(tc) = cx.test(t, &mappings)
        {
            tests.push(tc);
        }
    }
    cx.warn_unused_tables(ast);
    Program {
        tables: std::mem::take(&mut cx.tables),
        registry: cx.reg,
        mappings,
        tests,
    }
}

struct Checker<'a> {
    sources: &'a SourceMap,
    file: FileId,
    reg: Registry,
    diags: &'a mut Vec<Diagnostic>,
    broken: &'a [String],
    tables: Vec<Table>,
    table_index: HashMap<String, usize>,
    /// Where each table's keys are written, per direction.
    table_keys: Vec<table::KeySpans>,
    /// (table, direction, enum) whose dead keys were reported (W0007).
    warned_keys: std::collections::HashSet<(usize, Direction, crate::schema::EnumId)>,
    /// Tables with an `else` for both directions (not invertible).
    both_way_else: std::collections::HashSet<String>,
    /// The type each call of a forward pipeline takes, by the call's span:
    /// a `<->` rule's way back is chosen by it (`to_string` on an int is
    /// undone by `parse_int`, on a decimal by `parse_decimal`).
    forward_inputs: HashMap<Span, Kind>,
}

/// The record each side of a rule resolves against, and the path prefix
/// from that record (inside `a -> b { ... }` blocks).
#[derive(Clone)]
struct Scope {
    left: ScopeSide,
    right: ScopeSide,
}

#[derive(Clone)]
struct ScopeSide {
    /// The record paths resolve in; `None` for an element that is a scalar.
    record: Option<RecordId>,
    prefix: Vec<String>,
    /// The type of the scope's own value (for empty paths).
    own: Type,
    /// Source paths every rule of the scope relies on: a record block's
    /// source whose target is required (`check::presence`).
    requires: Vec<FieldPath>,
}

/// A path resolved against a record: the field names, the type at the end,
/// and where an iteration `[]` splits it.
struct Resolved {
    names: Vec<String>,
    ty: Ty,
    /// `a.b[].c`: `iter_at` = Some(2) (names[..2] is the array).
    iter_at: Option<usize>,
    /// `a[].b[].c`, a gather over several arrays: the iteration points
    /// after `iter_at` (here Some(2)), [4]. Only [`Checker::resolve_gather`]
    /// gives them; every other path iterates at most once (E0212).
    deeper: Vec<usize>,
    /// `tax_lines[0].price`: where the picked array ends (here 1) and the
    /// index. Only [`Checker::resolve_gather`] allows it, on a path that
    /// does not iterate.
    pick: Option<(usize, i64)>,
    /// For a path ending in a field: that field's declaration.
    field: Option<Field>,
    /// The first write-only field on the path (never read).
    write_only: Option<String>,
    /// The first read-only field on the path (never written).
    read_only: Option<String>,
}

/// One side's view of a rule in one direction.
struct DirView<'r> {
    dir: Direction,
    source: &'r ast::Endpoint,
    target: &'r ast::Endpoint,
    source_scope: &'r ScopeSide,
    target_scope: &'r ScopeSide,
}

impl<'a> Checker<'a> {
    /// Reports `d`; checking goes on (every error is collected).
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Reports `d` and gives up on what was being checked: `return
    /// self.fail(d)` where a rule, step or path cannot be typed. The caller
    /// reports nothing more about it.
    fn fail<T>(&mut self, d: Diagnostic) -> Option<T> {
        self.err(d);
        None
    }

    fn location(&self, span: Span) -> String {
        self.sources.location(self.file, span)
    }
}

/// An endpoint as written: `a.b`, `(a, b)`, `"web"`.
fn endpoint_text(e: &ast::Endpoint) -> String {
    match e {
        ast::Endpoint::Path(p) => p.to_string(),
        ast::Endpoint::Tuple(ps, _) => format!(
            "({})",
            ps.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ast::Endpoint::Literal(l) => l.display(),
    }
}

fn type_ref_text(r: &ast::TypeRef) -> String {
    match &r.namespace {
        Some(n) => format!("{}.{}", n.name, r.name.name),
        None => r.name.name.clone(),
    }
}

fn side_word(source: bool) -> &'static str {
    if source { "source" } else { "target" }
}

fn scope_target(scope: &Scope, dir: Direction) -> &ScopeSide {
    match dir {
        Direction::Forward => &scope.right,
        Direction::Reverse => &scope.left,
    }
}

fn side_scope(rec: RecordId) -> ScopeSide {
    ScopeSide {
        record: Some(rec),
        prefix: Vec::new(),
        own: Type::new(Kind::Record(rec)),
        requires: Vec::new(),
    }
}

fn prefixed(prefix: &[String], names: &[String]) -> Vec<String> {
    let mut v = prefix.to_vec();
    v.extend(names.iter().cloned());
    v
}

#[cfg(test)]
mod tests {
    use crate::stdlib;

    /// What a transform means is in its definition (`stdlib::Hooks`), so
    /// no file of the checker names one: no string literal here is a
    /// transform's name. Test modules are left out; prose in messages
    /// ("add `: default(...)`") is not a literal of a name.
    #[test]
    fn no_transform_is_named_in_the_checker() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/check");
        let mut named = Vec::new();
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).expect("src/check") {
            let path = entry.expect("an entry").path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).expect("a source file");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for def in stdlib::all() {
                if code.contains(&format!("\"{}\"", def.name)) {
                    named.push(format!("{}: \"{}\"", path.display(), def.name));
                }
            }
        }
        assert!(files > 10, "read {files} files of {}", dir.display());
        assert!(
            named.is_empty(),
            "the checker names transforms:\n{}",
            named.join("\n")
        );
    }
}
