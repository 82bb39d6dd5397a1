//! One mapping as a whole: its header's types and directions, its `for`
//! clauses (the row record a one-to-many mapping's rules read), its `ids`
//! and `on delete` clauses, and the arrows its rules may use.

use super::sides::side_name;
use super::{Checker, Iteration, Level, Mapping, Scope, ScopeSide, side_scope, type_ref_text};
use crate::base::FieldPath;
use crate::base::Scalar;
use crate::diag::{Code, Diagnostic};
use crate::schema::{Field, Kind, RecordDef, RecordId, Type};
use crate::syntax::{self as ast, ArrowKind, Direction};

impl Checker<'_> {
    pub(super) fn mapping(&mut self, m: &ast::MappingDecl) -> Option<Mapping> {
        let left = self.resolve_type_ref(&m.left);
        let right = self.resolve_type_ref(&m.right);
        let (left, right) = (left?, right?);
        let directions = match m.arrow.kind {
            ArrowKind::Forward => vec![Direction::Forward],
            ArrowKind::Backward => vec![Direction::Reverse],
            ArrowKind::Both => vec![Direction::Forward, Direction::Reverse],
        };
        let mut mapping = Mapping {
            name: m.name.name.clone(),
            file: self.file,
            span: m.span,
            left,
            right,
            left_side: side_name(&m.left),
            right_side: side_name(&m.right),
            directions: directions.clone(),
            forward: Vec::new(),
            reverse: Vec::new(),
            key: None,
            conflicts: Vec::new(),
            on_delete: None,
            delete_flags: Vec::new(),
            ids: None,
            iteration: None,
        };
        let fors: Vec<&ast::ForClause> = m
            .body
            .iter()
            .filter_map(|i| match i {
                ast::MappingItem::For(f) => Some(f),
                _ => None,
            })
            .collect();
        if !fors.is_empty() {
            // Rules naming the bindings would only add errors.
            mapping.iteration = Some(self.iteration(m, left, &fors)?);
        }
        let source = mapping.rule_source(Direction::Forward);
        let scope = Scope {
            left: ScopeSide {
                record: Some(source),
                prefix: Vec::new(),
                own: Type::new(Kind::Record(source)),
                requires: Vec::new(),
            },
            right: ScopeSide {
                record: Some(right),
                prefix: Vec::new(),
                own: Type::new(Kind::Record(right)),
                requires: Vec::new(),
            },
        };
        for dir in &directions {
            let rules = self.rules_in_scope(m, &m.body, &scope, *dir, Some(&mut mapping.key));
            match dir {
                Direction::Forward => mapping.forward = rules,
                Direction::Reverse => mapping.reverse = rules,
            }
        }
        // Rules whose arrow the header does not allow.
        self.check_arrows(m, &m.body);
        self.nested_fors(&m.body);
        self.check_unmapped_sides(m, &mapping, &m.body);
        for item in &m.body {
            if let ast::MappingItem::Ids { left, right, span } = item {
                if mapping.ids.is_some() {
                    self.err(
                        Diagnostic::error(Code::E0003, self.file, *span, "a second `ids` clause")
                            .label("a mapping has one pair of id fields"),
                    );
                }
                let l = self.resolve(&side_scope(mapping.left), left, "left");
                let r = self.resolve(&side_scope(mapping.right), right, "right");
                if let (Some(l), Some(r)) = (l, r) {
                    mapping.ids = Some((FieldPath(l.names), FieldPath(r.names)));
                }
            }
            if let ast::MappingItem::Conflict(c) = item {
                for d in &c.on_delete {
                    if mapping.on_delete.is_some() {
                        self.err(
                            Diagnostic::error(
                                Code::E0003,
                                self.file,
                                d.span,
                                "a second `on delete` policy",
                            )
                            .label("a mapping has one delete policy"),
                        );
                    }
                    mapping.on_delete = Some(d.policy);
                    mapping.delete_flags = self.delete_flags(&mapping, &d.flags);
                }
            }
        }
        let blocks: Vec<&ast::ConflictBlock> = m
            .body
            .iter()
            .filter_map(|i| match i {
                ast::MappingItem::Conflict(c) => Some(c),
                _ => None,
            })
            .collect();
        mapping.conflicts = self.conflicts(m, &blocks, &mapping);
        Some(mapping)
    }

    /// Checks the `for` clauses of `m` and builds the row record its rules
    /// read: the source's fields, then each binding and position.
    pub(super) fn iteration(
        &mut self,
        m: &ast::MappingDecl,
        source: RecordId,
        fors: &[&ast::ForClause],
    ) -> Option<Iteration> {
        if m.arrow.kind != ArrowKind::Forward {
            let d = Diagnostic::error(
                Code::E0220,
                self.file,
                fors[0].span,
                "`for` in a mapping that is not one-way `->`",
            )
            .label("one record per element is produced left to right only")
            .secondary(self.file, m.arrow.span, "the mapping's direction");
            return self.fail(d);
        }
        let root = self.reg.record(source).clone();
        let mut row = RecordDef::new(root.name.clone(), root.origin);
        for f in &root.fields {
            let _ = row.push(f.clone());
        }
        let mut levels: Vec<Level> = Vec::new();
        // The record of the previous level's elements.
        let mut enclosing: Option<RecordId> = Some(source);
        for f in fors {
            let segs = &f.path.segments;
            let iterates_last = segs.last().is_some_and(|s| s.iter)
                && segs[..segs.len() - 1].iter().all(|s| !s.iter);
            if !iterates_last {
                let d = Diagnostic::error(
                    Code::E0220,
                    self.file,
                    f.path.span,
                    "a `for` iterates one array: its path ends with `[]`, and only there",
                )
                .label("iterate this")
                .help("iterate nested arrays with one `for` each: `for s in a.Stmt[]` then `for e in s.Ntry[]`");
                return self.fail(d);
            }
            let (start, rel) = match levels.last() {
                None => (Some(source), &segs[..]),
                Some(prev) if segs[0].name == prev.binding && segs.len() > 1 => {
                    (enclosing, &segs[1..])
                }
                Some(prev) => {
                    let d = Diagnostic::error(
                        Code::E0220,
                        self.file,
                        f.path.span,
                        format!("this `for` does not iterate inside `{}`", prev.binding),
                    )
                    .label(format!("start the path with `{}.`", prev.binding))
                    .note("each `for` after the first iterates an array of the element before it; records are produced for the innermost");
                    return self.fail(d);
                }
            };
            let side = ScopeSide {
                record: start,
                prefix: Vec::new(),
                own: Type::new(Kind::Any),
                requires: Vec::new(),
            };
            let path = ast::Path {
                segments: rel.to_vec(),
                span: f.path.span,
            };
            let resolved = self.resolve(&side, &path, "source")?;
            let elem = Type::new(resolved.ty.kind.clone());
            enclosing = match &elem.kind {
                Kind::Record(r) => Some(*r),
                _ => None,
            };
            let mut names = vec![(f.name.clone(), elem)];
            if let Some(p) = &f.position {
                names.push((p.clone(), Type::new(Kind::Scalar(Scalar::Int))));
            }
            for (ident, ty) in names {
                let field = Field {
                    name: ident.name.clone(),
                    ty,
                    optional: false,
                    origin: crate::schema::Origin {
                        file: self.file,
                        span: ident.span,
                    },
                    description: None,
                    xml: Default::default(),
                    access: Default::default(),
                };
                if let Err(prev) = row.push(field) {
                    let d = Diagnostic::error(
                        Code::E0221,
                        self.file,
                        ident.span,
                        format!(
                            "`{}` is already a name in this mapping's source",
                            ident.name
                        ),
                    )
                    .label("choose another name")
                    .secondary(prev.file, prev.span, "the name is taken here");
                    return self.fail(d);
                }
            }
            levels.push(Level {
                binding: f.name.name.clone(),
                array: FieldPath(resolved.names),
                position: f.position.as_ref().map(|p| p.name.clone()),
            });
        }
        self.reg.records.push(row);
        let row = RecordId(self.reg.records.len() as u32 - 1);
        Some(Iteration { row, levels })
    }

    /// `for` belongs at the top of a mapping, not in an element block.
    pub(super) fn nested_fors(&mut self, body: &[ast::MappingItem]) {
        for item in body {
            let ast::MappingItem::Rule(r) = item else {
                continue;
            };
            for inner in r.block.iter().flatten() {
                if let ast::MappingItem::For(f) = inner {
                    let d = Diagnostic::error(
                        Code::E0220,
                        self.file,
                        f.span,
                        "`for` inside an element block",
                    )
                    .label("move it to the top of the mapping")
                    .note("a `for` makes the mapping produce one record per element; a block maps arrays inside one record");
                    self.err(d);
                }
            }
            if let Some(b) = &r.block {
                self.nested_fors(b);
            }
        }
    }

    pub(super) fn check_arrows(&mut self, m: &ast::MappingDecl, body: &[ast::MappingItem]) {
        for item in body {
            let ast::MappingItem::Rule(r) = item else {
                continue;
            };
            let allowed = match m.arrow.kind {
                ArrowKind::Both => true,
                header => r.arrow.kind == header,
            };
            if !allowed {
                let d = Diagnostic::error(
                    Code::E0209,
                    self.file,
                    r.arrow.span,
                    format!(
                        "a `{}` rule in a one-way mapping (`{}`)",
                        r.arrow.kind.token(),
                        m.arrow.kind.token()
                    ),
                )
                .label("this direction is not part of the mapping")
                .secondary(self.file, m.arrow.span, "the mapping goes one way here")
                .help(format!(
                    "write the header as `{} <-> {}` to map both ways",
                    type_ref_text(&m.left),
                    type_ref_text(&m.right)
                ));
                self.err(d);
            }
            if let Some(block) = &r.block {
                self.check_arrows(m, block);
            }
        }
    }
}
