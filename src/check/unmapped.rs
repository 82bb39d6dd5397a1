//! `unmapped Fax, Title` / `unmapped salesforce: Id`: optional target
//! fields a mapping leaves out on purpose, so W0001 names only the fields
//! nobody decided about.
//!
//! A declaration belongs to one direction: the one that writes the side it
//! names (a one-way mapping's target when it names none). It is checked in
//! that direction's scope, after the scope's rules, against what they wrote:
//! each path must name a field of the scope's target record (E0103, with a
//! suggestion), an optional one (E0233), that no rule writes (W0008).

use super::sides::{named_side, side_name};
use super::written::Written;
use super::{Checker, Mapping, Scope, prefixed, scope_target};
use crate::diag::{Code, Diagnostic};
use crate::syntax::{self as ast, ArrowKind, Direction};
use std::collections::HashSet;

/// Full target paths (from the scope's record root) declared unmapped.
pub(super) type Declared = HashSet<Vec<String>>;

/// The direction a declaration's fields are the target of; `None` when it
/// names no side the mapping writes (reported by `check_unmapped_sides`).
fn written_in(m: &ast::MappingDecl, decl: &ast::UnmappedDecl) -> Option<Direction> {
    let dir = match &decl.side {
        None => match m.arrow.kind {
            ArrowKind::Forward => Direction::Forward,
            ArrowKind::Backward => Direction::Reverse,
            ArrowKind::Both => return None,
        },
        // The left side is written by the reverse direction.
        Some(side) => match named_side(&side_name(&m.left), &side_name(&m.right), &side.name)? {
            Direction::Forward => Direction::Reverse,
            Direction::Reverse => Direction::Forward,
        },
    };
    m.arrow.kind.flows(dir).then_some(dir)
}

impl Checker<'_> {
    /// Checks the declarations of one scope for one direction against what
    /// its rules wrote; the paths they leave out on purpose.
    pub(super) fn declared_unmapped(
        &mut self,
        m: &ast::MappingDecl,
        body: &[ast::MappingItem],
        scope: &Scope,
        dir: Direction,
        written: &Written,
    ) -> Declared {
        let mut declared = Declared::new();
        let target = scope_target(scope, dir);
        for item in body {
            let ast::MappingItem::Unmapped(decl) = item else {
                continue;
            };
            if written_in(m, decl) != Some(dir) {
                continue;
            }
            for path in &decl.paths {
                let Some(r) = self.resolve(target, path, "target") else {
                    continue;
                };
                let field = match (&r.field, r.iter_at) {
                    (Some(f), None) => f,
                    (_, Some(_)) => {
                        let d = Diagnostic::error(
                            Code::E0234,
                            self.file,
                            path.span,
                            format!("`{path}` goes through an array"),
                        )
                        .label("`unmapped` names fields of the record in scope")
                        .help("declare the element's fields inside the element block: `lines[] -> Lines[] { ... unmapped Note }`");
                        self.err(d);
                        continue;
                    }
                    (None, None) => {
                        let d = Diagnostic::error(
                            Code::E0234,
                            self.file,
                            path.span,
                            format!("`{path}` is inside a `map` or `any` value"),
                        )
                        .label("not a field of a record")
                        .note("members of `map` and `any` values are never reported unmapped");
                        self.err(d);
                        continue;
                    }
                };
                let full = prefixed(&target.prefix, &r.names);
                if !field.optional {
                    let d = Diagnostic::error(
                        Code::E0233,
                        self.file,
                        path.span,
                        format!("`{path}` is required: it cannot be left unmapped"),
                    )
                    .label(format!("required in the {dir} direction's target"))
                    .secondary(field.origin.file, field.origin.span, "declared required here")
                    .help("map it, give it a constant (`\"value\" -> Field`), or make it optional in the schema (`name?: type`)");
                    self.err(d);
                } else if let Some(rule) = written.get(&full).and_then(Written::first_rule) {
                    let d = Diagnostic::warning(
                        Code::W0008,
                        self.file,
                        path.span,
                        format!("`{path}` is declared unmapped, but a rule writes it"),
                    )
                    .label("declared unmapped here")
                    .secondary(self.file, rule, "this rule writes it")
                    .help("remove it from `unmapped`");
                    self.err(d);
                }
                // Reported once: coverage does not name it again.
                declared.insert(full);
            }
        }
        declared
    }

    /// Reports declarations (at any depth) that name no side the mapping
    /// writes: no side in a `<->` mapping, an unknown side, or the side a
    /// one-way mapping only reads.
    pub(super) fn check_unmapped_sides(
        &mut self,
        m: &ast::MappingDecl,
        mapping: &Mapping,
        body: &[ast::MappingItem],
    ) {
        for item in body {
            match item {
                ast::MappingItem::Rule(r) => {
                    if let Some(block) = &r.block {
                        self.check_unmapped_sides(m, mapping, block);
                    }
                }
                ast::MappingItem::Unmapped(decl) => self.unmapped_side(m, mapping, decl),
                _ => {}
            }
        }
    }

    fn unmapped_side(&mut self, m: &ast::MappingDecl, mapping: &Mapping, decl: &ast::UnmappedDecl) {
        let Some(side) = &decl.side else {
            if m.arrow.kind == ArrowKind::Both {
                let right = if mapping.left_side == mapping.right_side {
                    "right"
                } else {
                    mapping.right_side.as_str()
                };
                let d = Diagnostic::error(
                    Code::E0234,
                    self.file,
                    decl.span,
                    "which side's fields are unmapped?",
                )
                .label("both sides of a `<->` mapping are targets")
                .help(format!(
                    "name the side: `unmapped {right}: ...` for fields of `{}`",
                    super::type_ref_text(&m.right)
                ));
                self.err(d);
            }
            return;
        };
        // An unknown side is E0107, reported by `side`.
        if self.side(mapping, side).is_some() && written_in(m, decl).is_none() {
            let d = Diagnostic::error(
                Code::E0234,
                self.file,
                side.span,
                format!("`{}` is the side this mapping reads", side.name),
            )
            .label("nothing is written to it")
            .secondary(self.file, m.arrow.span, "the mapping goes one way here")
            .help(format!(
                "`unmapped` names fields of the side written, `{}`",
                super::type_ref_text(match m.arrow.kind {
                    ArrowKind::Backward => &m.left,
                    _ => &m.right,
                })
            ));
            self.err(d);
        }
    }
}
