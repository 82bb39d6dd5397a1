//! Phase 3: name resolution, type inference through pipelines, direction
//! rules and coverage. Produces a [`Program`] when there are no errors.
//!
//! Every error is collected (one broken rule does not stop the others), and
//! each unknown name gets a "did you mean" from the names that exist there.

mod conflict;
pub mod inverse;
pub mod ir;
mod presence;
mod table;
mod types;
mod unmapped;
mod written;

pub use ir::*;

use crate::diag::{Code, Diagnostic, FileId, SourceMap, did_you_mean};
use crate::schema::{Access, Field, Kind, RecordDef, RecordId, Registry, Type, XmlForm};
use crate::stdlib;
use crate::stdlib::iso4217::Currency;
use crate::syntax::{self as ast, ArrowKind, Direction, Span};
use std::collections::HashMap;
use types::{Flow, Ty};
use written::Written;

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
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn location(&self, span: Span) -> String {
        self.sources.location(self.file, span)
    }

    // ------------------------------------------------------------ mappings

    fn resolve_type_ref(&mut self, r: &ast::TypeRef) -> Option<RecordId> {
        let Some(ns) = &r.namespace else {
            let names: Vec<String> = self
                .reg
                .namespaces
                .values()
                .flat_map(|n| n.order.iter().map(move |t| format!("{}.{t}", n.name)))
                .collect();
            let d = Diagnostic::error(
                Code::E0102,
                self.file,
                r.span,
                format!(
                    "`{}` needs its schema: write `SCHEMA.{}`",
                    r.name.name, r.name.name
                ),
            )
            .label("no schema named")
            .suggest(&r.name.name, names.iter().map(String::as_str));
            self.err(d);
            return None;
        };
        if !self.reg.namespaces.contains_key(&ns.name) {
            if !self.broken.contains(&ns.name) {
                let known: Vec<String> = self.reg.namespaces.keys().cloned().collect();
                let d = Diagnostic::error(
                    Code::E0101,
                    self.file,
                    ns.span,
                    format!("unknown schema `{}`", ns.name),
                )
                .label("no schema of this name is declared or imported")
                .suggest(&ns.name, known.iter().map(String::as_str));
                self.err(d);
            }
            return None;
        }
        match self.reg.lookup(&ns.name, &r.name.name) {
            Some(crate::schema::TypeId::Record(id)) => Some(id),
            Some(crate::schema::TypeId::Enum(_)) => {
                let d = Diagnostic::error(
                    Code::E0201,
                    self.file,
                    r.span,
                    format!(
                        "`{}.{}` is an enum; a mapping maps records",
                        ns.name, r.name.name
                    ),
                )
                .label("expected a record type");
                self.err(d);
                None
            }
            None => {
                let names: Vec<String> = self.reg.namespaces[&ns.name].order.clone();
                let d = Diagnostic::error(
                    Code::E0102,
                    self.file,
                    r.name.span,
                    format!("schema `{}` has no type `{}`", ns.name, r.name.name),
                )
                .label("unknown type")
                .suggest(&r.name.name, names.iter().map(String::as_str));
                self.err(d);
                None
            }
        }
    }

    fn mapping(&mut self, m: &ast::MappingDecl) -> Option<Mapping> {
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
    fn iteration(
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
            self.err(d);
            return None;
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
                self.err(d);
                return None;
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
                    self.err(d);
                    return None;
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
                names.push((p.clone(), Type::new(Kind::Int)));
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
                    self.err(d);
                    return None;
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
    fn nested_fors(&mut self, body: &[ast::MappingItem]) {
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

    fn check_arrows(&mut self, m: &ast::MappingDecl, body: &[ast::MappingItem]) {
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

    /// Checks the rules of one scope in one direction; reports duplicate and
    /// missing targets for the scope's target record.
    fn rules_in_scope(
        &mut self,
        m: &ast::MappingDecl,
        body: &[ast::MappingItem],
        scope: &Scope,
        dir: Direction,
        mut key: Option<&mut Option<(FieldPath, FieldPath)>>,
    ) -> Vec<DRule> {
        let mut out = Vec::new();
        // The target paths written so far, to find duplicates.
        let mut written = Written::default();
        for item in body {
            let ast::MappingItem::Rule(rule) = item else {
                continue;
            };
            if rule.is_key
                && let Some(k) = key.as_deref_mut()
                && k.is_none()
                && let (ast::Endpoint::Path(l), ast::Endpoint::Path(r)) = (&rule.left, &rule.right)
            {
                let lp = self
                    .resolve(&scope.left, l, "left")
                    .map(|x| FieldPath(x.names));
                let rp = self
                    .resolve_quiet(&scope.right, r)
                    .map(|x| FieldPath(x.names));
                if let (Some(lp), Some(rp)) = (lp, rp) {
                    *k = Some((lp, rp));
                }
            }
            if !rule.arrow.kind.flows(dir) {
                continue;
            }
            let (source, target, source_scope, target_scope) = match dir {
                Direction::Forward => (&rule.left, &rule.right, &scope.left, &scope.right),
                Direction::Reverse => (&rule.right, &rule.left, &scope.right, &scope.left),
            };
            let view = DirView {
                dir,
                source,
                target,
                source_scope,
                target_scope,
            };
            if let Some(checked) = self.rule(m, rule, &view, scope, &mut written) {
                out.extend(checked);
            }
        }
        let declared = self.declared_unmapped(m, body, scope, dir, &written);
        let complete = !body
            .iter()
            .any(|item| matches!(item, ast::MappingItem::Broken(_)));
        if complete && let Some(rec) = scope_target(scope, dir).record {
            let prefix = scope_target(scope, dir).prefix.clone();
            let none = Written::default();
            let here = written.get(&prefix).unwrap_or(&none);
            self.check_coverage(m, dir, rec, &prefix, here, &declared);
        }
        out
    }

    fn rule(
        &mut self,
        m: &ast::MappingDecl,
        rule: &ast::Rule,
        v: &DirView<'_>,
        scope: &Scope,
        written: &mut Written,
    ) -> Option<Vec<DRule>> {
        // A literal can only be a source.
        if let ast::Endpoint::Literal(l) = v.target {
            let d = Diagnostic::error(
                Code::E0209,
                self.file,
                l.span,
                "a literal cannot receive a value",
            )
            .label(format!(
                "data flows into this literal in the {} direction",
                v.dir
            ))
            .help("constants go on the sending side: `\"web\" -> LeadSource`");
            self.err(d);
            return None;
        }
        // A `<->` rule's way back is derived; a lossy step fails the rule.
        let derived;
        let rule = match (&rule.pipeline, rule.arrow.kind) {
            // The forward direction is checked first: it types the steps,
            // and a step's inverse may depend on the type it takes.
            (Some(p), ArrowKind::Both) if v.dir == Direction::Forward => {
                let checked = self.checked_rule(m, rule, v, scope, written);
                return match self.inverse_pipeline(p) {
                    Ok(_) => {
                        self.warn_table_losses(p, rule);
                        checked
                    }
                    Err(lossy) => {
                        // Reported once, here. A rule that did not check
                        // has had its error; its types are unknown.
                        if checked.is_some() {
                            self.lossy_step(rule, lossy);
                        }
                        None
                    }
                };
            }
            (Some(p), ArrowKind::Both) => match self.inverse_pipeline(p) {
                Ok(back) => {
                    derived = ast::Rule {
                        pipeline: Some(back),
                        ..rule.clone()
                    };
                    &derived
                }
                Err(_) => {
                    // Its targets count as written: the rule is wrong, not missing.
                    self.claim_quietly(v, rule, written);
                    return None;
                }
            },
            _ => rule,
        };
        self.checked_rule(m, rule, v, scope, written)
    }

    /// A rule as written (or as derived), checked in one direction.
    fn checked_rule(
        &mut self,
        m: &ast::MappingDecl,
        rule: &ast::Rule,
        v: &DirView<'_>,
        scope: &Scope,
        written: &mut Written,
    ) -> Option<Vec<DRule>> {
        if let Some(block) = &rule.block {
            return self.block_rule(m, rule, block, v, scope, written);
        }
        self.value_rule(rule, v, written).map(|r| vec![r])
    }

    /// Claims the targets of a rule that is rejected before being checked,
    /// so the scope does not also report them as unmapped.
    fn claim_quietly(&mut self, v: &DirView<'_>, rule: &ast::Rule, written: &mut Written) {
        let paths: Vec<&ast::Path> = match v.target {
            ast::Endpoint::Path(p) => vec![p],
            ast::Endpoint::Tuple(ps, _) => ps.iter().collect(),
            ast::Endpoint::Literal(_) => Vec::new(),
        };
        for p in paths {
            if let Some(r) = self.resolve_quiet(v.target_scope, p) {
                let path = prefixed(&v.target_scope.prefix, &r.names);
                self.claim_target(written, &path, rule.span, p.span);
            }
        }
    }

    /// E0222: a `<->` rule with a step the way back cannot undo.
    fn lossy_step(&mut self, rule: &ast::Rule, lossy: inverse::Lossy) {
        let d = Diagnostic::error(
            Code::E0222,
            self.file,
            lossy.span,
            format!("`{}` cannot be undone on the way back", lossy.step),
        )
        .label(lossy.why)
        .secondary(self.file, rule.arrow.span, "both ways: the reverse is derived from the steps")
        .help(format!(
            "write the way back yourself: keep `{} -> {}` with these steps and add `{} <- {}` with steps that restore the value, or map this field one way only",
            endpoint_text(&rule.left),
            endpoint_text(&rule.right),
            endpoint_text(&rule.left),
            endpoint_text(&rule.right),
        ));
        self.err(d);
    }

    /// W0005: the values a table on a `<->` rule does not bring back.
    fn warn_table_losses(&mut self, p: &ast::Pipeline, rule: &ast::Rule) {
        for step in &p.steps {
            if !self.is_table_step(step) {
                continue;
            }
            let ast::Step::Call(c) = step else { continue };
            let Some(&t) = self.table_index.get(&c.name.name) else {
                continue;
            };
            let losses = inverse::table_losses(&self.tables[t]);
            if losses.is_empty() {
                continue;
            }
            let d = Diagnostic::warning(
                Code::W0005,
                self.file,
                c.span,
                format!(
                    "{} value{} of table `{}` do{} not round-trip",
                    losses.len(),
                    if losses.len() == 1 { "" } else { "s" },
                    c.name.name,
                    if losses.len() == 1 { "es" } else { "" }
                ),
            )
            .label("one-way entries")
            .secondary(self.file, rule.arrow.span, "used both ways")
            .note(
                losses
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
            .note("these values map one way only; the law tests leave them out");
            self.err(d);
        }
    }

    fn is_table_step(&self, s: &ast::Step) -> bool {
        matches!(s, ast::Step::Call(c) if c.args.is_empty() && self.table_index.contains_key(&c.name.name) && stdlib::lookup(&c.name.name).is_none())
    }

    /// `a[] -> b[] { ... }` or `a -> b { ... }`.
    fn block_rule(
        &mut self,
        m: &ast::MappingDecl,
        rule: &ast::Rule,
        block: &[ast::MappingItem],
        v: &DirView<'_>,
        _scope: &Scope,
        written: &mut Written,
    ) -> Option<Vec<DRule>> {
        let (ast::Endpoint::Path(sp), ast::Endpoint::Path(tp)) = (v.source, v.target) else {
            let d = Diagnostic::error(
                Code::E0212,
                self.file,
                rule.span,
                "a block needs a field path on both sides",
            )
            .label("not a path");
            self.err(d);
            return None;
        };
        // The target is claimed even if the block is broken, so a mistake
        // here does not also report the target as unmapped.
        let tgt = self.resolve(v.target_scope, tp, side_word(false))?;
        self.claim_target(
            written,
            &prefixed(&v.target_scope.prefix, &tgt.names),
            rule.span,
            v.target.span(),
        );
        self.writable(&tgt, rule, tp.span)?;
        let src = self.resolve(v.source_scope, sp, side_word(true))?;
        self.readable(&src, sp.span)?;
        // A required target needs its source there: without it the block
        // writes nothing.
        let target_required = tgt.field.as_ref().is_some_and(|f| !f.optional);
        let src_path = FieldPath(prefixed(&v.source_scope.prefix, &src.names));
        let mut requires = v.source_scope.requires.clone();
        if target_required {
            requires.push(src_path.clone());
        }
        let src_iter =
            sp.segments.last().is_some_and(|s| s.iter) && src.iter_at == Some(src.names.len());
        let tgt_iter =
            tp.segments.last().is_some_and(|s| s.iter) && tgt.iter_at == Some(tgt.names.len());
        if src.iter_at.is_some() != src_iter
            || tgt.iter_at.is_some() != tgt_iter
            || src_iter != tgt_iter
        {
            let head = v.source.span().to(v.target.span());
            let d = Diagnostic::error(
                Code::E0212,
                self.file,
                head,
                "a block maps an array to an array (`items[] -> lines[] { ... }`) or a record to a record (`a -> b { ... }`)",
            )
            .label("the `[]` markers do not line up");
            self.err(d);
            return None;
        }
        let origin = self.origin(rule, sp.to_string());
        let side_of = |r: &Resolved| match &r.ty.kind {
            Kind::Record(id) => Some(*id),
            _ => None,
        };
        if src_iter {
            let (src_elem, tgt_elem) = (src.ty.clone(), tgt.ty.clone());
            // Each element is a frame of its own.
            let src_side = ScopeSide {
                record: side_of(&src),
                prefix: Vec::new(),
                own: src_elem.as_type(),
                requires: Vec::new(),
            };
            let tgt_side = ScopeSide {
                record: side_of(&tgt),
                prefix: Vec::new(),
                own: tgt_elem.as_type(),
                requires: Vec::new(),
            };
            if src_side.record.is_none() || tgt_side.record.is_none() {
                let d = Diagnostic::error(
                    Code::E0212,
                    self.file,
                    rule.span,
                    "a block iterates over arrays of records",
                )
                .label("the elements here are not records")
                .help("for arrays of values, write `tags[] -> Tags[] : step`");
                self.err(d);
                return None;
            }
            let inner_scope = match v.dir {
                Direction::Forward => Scope {
                    left: src_side,
                    right: tgt_side,
                },
                Direction::Reverse => Scope {
                    left: tgt_side,
                    right: src_side,
                },
            };
            let inner = self.rules_in_scope(m, block, &inner_scope, v.dir, None);
            Some(vec![DRule::Each(EachRule {
                source: src_path,
                target: FieldPath(prefixed(&v.target_scope.prefix, &tgt.names)),
                inner,
                origin,
                requires,
            })])
        } else {
            // Record to record: the inner rules are ordinary rules with both
            // prefixes; flatten them into this scope.
            let (Some(src_rec), Some(tgt_rec)) = (side_of(&src), side_of(&tgt)) else {
                let d = Diagnostic::error(
                    Code::E0212,
                    self.file,
                    rule.span,
                    "a block maps a record to a record",
                )
                .label("not a record on both sides");
                self.err(d);
                return None;
            };
            let src_side = ScopeSide {
                record: Some(src_rec),
                prefix: src_path.0,
                own: src.ty.as_type(),
                requires,
            };
            let tgt_side = ScopeSide {
                record: Some(tgt_rec),
                prefix: prefixed(&v.target_scope.prefix, &tgt.names),
                own: tgt.ty.as_type(),
                requires: Vec::new(),
            };
            let inner_scope = match v.dir {
                Direction::Forward => Scope {
                    left: src_side,
                    right: tgt_side,
                },
                Direction::Reverse => Scope {
                    left: tgt_side,
                    right: src_side,
                },
            };
            // The inner rules carry full paths from this scope: they are
            // ordinary rules of it.
            Some(self.rules_in_scope(m, block, &inner_scope, v.dir, None))
        }
    }

    fn origin(&self, rule: &ast::Rule, source_text: String) -> RuleOrigin {
        RuleOrigin {
            location: self.location(rule.span),
            file: self.file,
            span: rule.span,
            source_text,
            two_way: rule.arrow.kind == ArrowKind::Both,
        }
    }

    /// Records that a rule writes `path`; reports a second writer.
    fn claim_target(&mut self, written: &mut Written, path: &[String], rule_span: Span, at: Span) {
        if let Err((other, first)) = written.claim(path, rule_span) {
            let other = other.join(".");
            let d = Diagnostic::error(
                Code::E0206,
                self.file,
                at,
                format!(
                    "`{}` is written by two rules",
                    if path.len() >= other.split('.').count() {
                        path.join(".")
                    } else {
                        other.clone()
                    }
                ),
            )
            .label("second rule writing it")
            .secondary(self.file, first, "first written here")
            .help("keep one rule, or combine the sources: `(a, b) -> target : coalesce`");
            self.err(d);
        }
    }

    fn value_rule(
        &mut self,
        rule: &ast::Rule,
        v: &DirView<'_>,
        written: &mut Written,
    ) -> Option<DRule> {
        // Resolve targets.
        let target_paths: Vec<&ast::Path> = match v.target {
            ast::Endpoint::Path(p) => vec![p],
            ast::Endpoint::Tuple(ps, _) => ps.iter().collect(),
            ast::Endpoint::Literal(_) => return None,
        };
        let mut targets = Vec::new();
        let mut ok = true;
        for tp in &target_paths {
            match self.resolve(v.target_scope, tp, side_word(false)) {
                Some(r) => {
                    // Claimed even if the source fails below: a broken source
                    // must not also report its target as unmapped.
                    self.claim_target(
                        written,
                        &prefixed(&v.target_scope.prefix, &r.names),
                        rule.span,
                        tp.span,
                    );
                    ok &= self.writable(&r, rule, tp.span).is_some();
                    targets.push((tp, r));
                }
                None => ok = false,
            }
        }
        // Resolve the source.
        let origin_text = endpoint_text(v.source);
        let (source, flow, src_iter) = match v.source {
            ast::Endpoint::Literal(l) => {
                let ty = Ty::of_literal(l);
                match types::literal_value(&self.reg, l, &ty.kind) {
                    Ok(val) => (Source::Const(val), Flow::One(ty), None),
                    Err(msg) => {
                        self.err(
                            Diagnostic::error(Code::E0211, self.file, l.span, msg)
                                .label("this literal"),
                        );
                        return None;
                    }
                }
            }
            ast::Endpoint::Path(p) => {
                let r = self.resolve(v.source_scope, p, side_word(true))?;
                self.readable(&r, p.span)?;
                let iter = r.iter_at;
                let ty = r.ty.clone();
                (
                    Source::Path(FieldPath(prefixed(&v.source_scope.prefix, &r.names))),
                    Flow::One(ty),
                    iter.map(|i| (i, r.names)),
                )
            }
            ast::Endpoint::Tuple(ps, _) => {
                let mut paths = Vec::new();
                let mut tys = Vec::new();
                for p in ps {
                    let r = self
                        .resolve(v.source_scope, p, side_word(true))
                        .filter(|r| self.readable(r, p.span).is_some());
                    match r {
                        Some(r) if r.iter_at.is_some() => {
                            let d = Diagnostic::error(
                                Code::E0212,
                                self.file,
                                p.span,
                                "a tuple source cannot iterate",
                            )
                            .label("`[]` here");
                            self.err(d);
                            ok = false;
                        }
                        Some(r) => {
                            paths.push(FieldPath(prefixed(&v.source_scope.prefix, &r.names)));
                            tys.push(r.ty);
                        }
                        None => ok = false,
                    }
                }
                (Source::Tuple(paths), Flow::Tuple(tys), None)
            }
        };
        if !ok {
            return None;
        }
        let target_iter = targets
            .iter()
            .any(|(tp, r)| r.iter_at.is_some() || tp.segments.iter().any(|s| s.iter));
        let origin = self.origin(rule, origin_text);

        // Element-wise: `a[].b -> c[]` becomes Each { a -> c { b -> . } }.
        if let Some((iter_at, names)) = src_iter {
            let (tp, tr) = &targets[0];
            let last_iter =
                tp.segments.last().is_some_and(|s| s.iter) && tr.iter_at == Some(tr.names.len());
            if targets.len() == 1 && last_iter {
                let elem_target = Type {
                    kind: tr.ty.kind.clone(),
                    nullable: tr.ty.nullable,
                };
                let path = types::path_ty(&self.reg, v.source_scope, &names, Some(iter_at));
                let elem_flow = Flow::One(path.leaf_ty());
                let (steps, out) = self.pipeline(rule.pipeline.as_ref(), elem_flow.clone(), v)?;
                let checked = self.assign(&out, &elem_target, false, tp.span, rule)?;
                let elem_source = Source::Path(FieldPath(names[iter_at..].to_vec()));
                // An element is always required in its array.
                let elem_requires =
                    self.requires_of(rule, v, &elem_source, &elem_flow, &steps, true);
                // The array itself: absent or null when the source array is.
                let presence = path.array.unwrap_or(types::Presence::REQUIRED);
                let array = Ty {
                    kind: Kind::Any,
                    nullable: presence.nullable,
                    missing: presence.missing,
                    values: None,
                };
                if let Some(f) = &tr.field {
                    self.null_checks(&array, &f.ty, f.optional, tp.span, rule)?;
                }
                let inner = DRule::Value(ValueRule {
                    source: elem_source,
                    steps,
                    targets: vec![Target {
                        path: FieldPath(Vec::new()),
                        ty: elem_target,
                        enum_values: checked,
                    }],
                    origin: origin.clone(),
                    requires: elem_requires,
                });
                let array_path = FieldPath(prefixed(&v.source_scope.prefix, &names[..iter_at]));
                let mut requires = v.source_scope.requires.clone();
                if tr.field.as_ref().is_some_and(|f| !f.optional) {
                    requires.push(array_path.clone());
                }
                return Some(DRule::Each(EachRule {
                    source: array_path,
                    target: FieldPath(prefixed(&v.target_scope.prefix, &tr.names)),
                    inner: vec![inner],
                    origin,
                    requires,
                }));
            }
            if target_iter {
                let d = Diagnostic::error(
                    Code::E0212,
                    self.file,
                    rule.span,
                    "element-wise rules need one `[]` on each side, at the end of the target",
                )
                .label("the `[]` markers do not line up")
                .help("write `deals[].id -> DealIds[]`, or map arrays of records with a block");
                self.err(d);
                return None;
            }
            // Gather: `deals[].id -> Ids : join(",")` gives the pipeline an array.
            let path = types::path_ty(&self.reg, v.source_scope, &names, Some(iter_at));
            let arr = types::gathered(&path);
            let source = Source::Gather {
                array: FieldPath(prefixed(&v.source_scope.prefix, &names[..iter_at])),
                elem: FieldPath(names[iter_at..].to_vec()),
            };
            return self.finish_value_rule(rule, v, source, Flow::One(arr), targets, origin);
        }
        if target_iter {
            let d = Diagnostic::error(
                Code::E0212,
                self.file,
                rule.span,
                "the target iterates but the source does not",
            )
            .label("`[]` on the target only")
            .help("to write a whole array, drop the `[]`: `tags -> Tags`");
            self.err(d);
            return None;
        }
        self.finish_value_rule(rule, v, source, flow, targets, origin)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_value_rule(
        &mut self,
        rule: &ast::Rule,
        v: &DirView<'_>,
        source: Source,
        flow: Flow,
        targets: Vec<(&&ast::Path, Resolved)>,
        origin: RuleOrigin,
    ) -> Option<DRule> {
        let (steps, out) = self.pipeline(rule.pipeline.as_ref(), flow.clone(), v)?;
        let mut checked_targets = Vec::new();
        // The parts of a tuple target may always be missing (E0204 unless
        // optional): only a single target can need the source.
        let mut target_required = false;
        if targets.len() == 1 {
            let (tp, r) = &targets[0];
            let optional = r.field.as_ref().is_some_and(|f| f.optional);
            target_required = !optional;
            let ty = target_type(r);
            let enum_values = self.assign(&out, &ty, optional, tp.span, rule)?;
            checked_targets.push(Target {
                path: FieldPath(prefixed(&v.target_scope.prefix, &r.names)),
                ty,
                enum_values,
            });
        } else {
            // A tuple target takes the parts of an array.
            let Flow::One(Ty {
                kind: Kind::Array(elem),
                ..
            }) = &out
            else {
                let d = Diagnostic::error(
                    Code::E0210,
                    self.file,
                    v.target.span(),
                    format!(
                        "{} targets need a pipeline that produces an array",
                        targets.len()
                    ),
                )
                .label(format!("the pipeline produces {}", out.display(&self.reg)))
                .help("split the value: `name -> (FirstName, LastName) : split(\" \")`");
                self.err(d);
                return None;
            };
            for (tp, r) in &targets {
                let part = Flow::One(Ty {
                    kind: elem.kind.clone(),
                    nullable: elem.nullable,
                    missing: true,
                    values: None,
                });
                let optional = r.field.as_ref().is_some_and(|f| f.optional);
                let ty = target_type(r);
                let enum_values = self.assign(&part, &ty, optional, tp.span, rule)?;
                checked_targets.push(Target {
                    path: FieldPath(prefixed(&v.target_scope.prefix, &r.names)),
                    ty,
                    enum_values,
                });
            }
        }
        let mut requires = v.source_scope.requires.clone();
        requires.extend(self.requires_of(rule, v, &source, &flow, &steps, target_required));
        Some(DRule::Value(ValueRule {
            source,
            steps,
            targets: checked_targets,
            origin,
            requires,
        }))
    }

    /// Checks that `out` may be written into a target of type `ty`. Returns
    /// the enum values to check at run time when the checker cannot prove
    /// the value is one of them.
    fn assign(
        &mut self,
        out: &Flow,
        ty: &Type,
        optional: bool,
        at: Span,
        rule: &ast::Rule,
    ) -> Option<Option<Vec<String>>> {
        let Flow::One(out) = out else {
            let d = Diagnostic::error(
                Code::E0210,
                self.file,
                rule.span,
                "several sources need a step that combines them",
            )
            .label("a tuple reaches the target")
            .help("start the pipeline with `join(\" \")`, `concat` or `coalesce`");
            self.err(d);
            return None;
        };
        let target_text = self.reg.display(ty);
        match types::assignable(&self.reg, out, ty) {
            types::Assign::Yes => {}
            types::Assign::RuntimeEnumCheck(values) => {
                self.null_checks(out, ty, optional, at, rule)?;
                return Some(Some(values));
            }
            types::Assign::NullElements => {
                // The whole value's absence first: it is the bigger loss.
                self.null_checks(out, ty, optional, at, rule)?;
                let d = Diagnostic::error(
                    Code::E0204,
                    self.file,
                    at,
                    format!("the elements of `{target_text}` may not be null, but the rule can give null elements"),
                )
                .label("elements not nullable: declared without `?` after their type")
                .secondary(
                    self.file,
                    rule.left.span().to(rule.right.span()),
                    format!("this rule produces `{}`", out.display(&self.reg)),
                )
                .help("declare the elements nullable (`[T?]`), or read a field every element has");
                self.err(d);
                return None;
            }
            types::Assign::EnumValuesOutside(bad) => {
                let list = bad
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                let d = Diagnostic::error(
                    Code::E0208,
                    self.file,
                    at,
                    format!("the rule can produce {list}, which `{target_text}` does not allow"),
                )
                .label("target enum")
                .note(format!(
                    "`{target_text}` allows: {}",
                    types::enum_values_text(&self.reg, ty)
                ));
                self.err(d);
                return None;
            }
            types::Assign::No => {
                let found = out.display(&self.reg);
                let mut d = Diagnostic::error(
                    Code::E0201,
                    self.file,
                    at,
                    format!(
                        "type mismatch: the target is `{target_text}`, the rule produces `{found}`"
                    ),
                )
                .label(format!("expected `{target_text}`"))
                .secondary(
                    self.file,
                    rule.span,
                    format!("this rule produces `{found}`"),
                );
                if let Some(h) = types::conversion_hint(&out.kind, &ty.kind) {
                    d = d.help(h);
                }
                self.err(d);
                return None;
            }
        }
        self.null_checks(out, ty, optional, at, rule)?;
        Some(None)
    }

    fn null_checks(
        &mut self,
        out: &Ty,
        ty: &Type,
        optional: bool,
        at: Span,
        rule: &ast::Rule,
    ) -> Option<()> {
        if out.missing && !optional {
            let d = Diagnostic::error(Code::E0204, self.file, at, "this required field may end up missing")
                .label("required: declared without `?` after its name")
                .secondary(self.file, rule.left.span().to(rule.right.span()), "the source may be absent")
                .help("add `: default(...)` to supply a value, or `: required` to reject records without it");
            self.err(d);
            return None;
        }
        if out.nullable && !ty.nullable {
            let d = Diagnostic::error(Code::E0204, self.file, at, "this non-nullable field may receive null")
                .label("not nullable: declared without `?` after its type")
                .secondary(self.file, rule.left.span().to(rule.right.span()), "the source may be null")
                .help("add `: default(...)` to supply a value, or `: required` to reject records where it is null");
            self.err(d);
            return None;
        }
        Some(())
    }

    /// Required fields of the target record (in this direction) that no
    /// rule writes; a warning for optional ones not `declared` unmapped.
    fn check_coverage(
        &mut self,
        m: &ast::MappingDecl,
        dir: Direction,
        rec: RecordId,
        prefix: &[String],
        written: &Written,
        declared: &unmapped::Declared,
    ) {
        let header = match dir {
            Direction::Forward => &m.right,
            Direction::Reverse => &m.left,
        };
        let mut missing_required = Vec::new();
        let mut missing_optional = Vec::new();
        let record = self.reg.record(rec).clone();
        for f in &record.fields {
            // The provider sets a read-only field; a write leaves it out.
            if f.access == Access::ReadOnly {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(f.name.clone());
            if let Some(member) = written.member(&f.name) {
                if member.is_written() {
                    continue;
                }
                if member.has_inside() {
                    if let Kind::Record(inner) = f.ty.kind {
                        self.check_coverage(m, dir, inner, &path, member, declared);
                    }
                    continue;
                }
            }
            if declared.contains(&path) {
                continue;
            }
            if f.optional {
                missing_optional.push(path.join("."));
            } else {
                missing_required.push((path.join("."), f.origin));
            }
        }
        if !missing_required.is_empty() {
            let names = missing_required
                .iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut d = Diagnostic::error(
                Code::E0205,
                self.file,
                header.span,
                format!(
                    "required field{} of `{}` not mapped in the {dir} direction: {names}",
                    if missing_required.len() > 1 { "s" } else { "" },
                    record.name
                ),
            )
            .label("the target type of this mapping");
            for (n, origin) in &missing_required {
                d = d.secondary(origin.file, origin.span, format!("`{n}` is required here"));
            }
            d = d.help("map each of them, give it a constant (`\"value\" -> Field`), or make it optional in the schema (`name?: type`)");
            self.err(d);
        }
        if !missing_optional.is_empty() {
            let names = missing_optional
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let d = Diagnostic::warning(
                Code::W0001,
                self.file,
                header.span,
                format!(
                    "optional field{} of `{}` not mapped in the {dir} direction: {names}",
                    if missing_optional.len() > 1 { "s" } else { "" },
                    record.name
                ),
            )
            .label("the target type of this mapping");
            self.err(d);
        }
    }

    // ------------------------------------------------------------ paths

    /// A source path that must name one value, not iterate (`(path)` steps
    /// and arguments); E0212 with `message` otherwise.
    fn resolve_one_value(
        &mut self,
        v: &DirView<'_>,
        path: &ast::Path,
        message: &str,
    ) -> Option<Resolved> {
        let r = self.resolve(v.source_scope, path, side_word(true))?;
        if r.iter_at.is_some() {
            let d =
                Diagnostic::error(Code::E0212, self.file, path.span, message).label("`[]` here");
            self.err(d);
            return None;
        }
        self.readable(&r, path.span)?;
        Some(r)
    }

    fn resolve_quiet(&mut self, side: &ScopeSide, path: &ast::Path) -> Option<Resolved> {
        let n = self.diags.len();
        let r = self.resolve(side, path, "");
        self.diags.truncate(n);
        r
    }

    /// Resolves `path` against the scope's record. `side` names the side in
    /// messages ("source", "target").
    fn resolve(
        &mut self,
        side: &ScopeSide,
        path: &ast::Path,
        side_label: &str,
    ) -> Option<Resolved> {
        let mut names = Vec::new();
        let mut iter_at = None;
        let Some(mut rec) = side.record else {
            let d = Diagnostic::error(
                Code::E0108,
                self.file,
                path.span,
                "the elements here are values, not records",
            )
            .label("no fields to name");
            self.err(d);
            return None;
        };
        let mut ty: Option<Type> = None;
        let mut field_decl: Option<Field> = None;
        let (mut write_only, mut read_only) = (None, None);
        for (i, seg) in path.segments.iter().enumerate() {
            if i > 0 {
                // Step into the previous field's record.
                let prev = ty.clone().map(|t| t.kind);
                let elem_kind = match prev {
                    Some(Kind::Array(e)) if path.segments[i - 1].iter => Some(e.kind.clone()),
                    other => other,
                };
                match elem_kind {
                    Some(Kind::Record(r)) => rec = r,
                    Some(Kind::Any) | Some(Kind::Map(_)) => {
                        // Inside `any`/`map`: names are not checked.
                        names.push(seg.name.clone());
                        ty = Some(Type::nullable(Kind::Any));
                        field_decl = None;
                        if seg.iter {
                            iter_at = iter_at.or(Some(names.len()));
                        }
                        continue;
                    }
                    _ => {
                        let prev_name = &path.segments[i - 1].name;
                        let shown = ty.as_ref().map(|t| self.reg.display(t)).unwrap_or_default();
                        let d = Diagnostic::error(
                            Code::E0108,
                            self.file,
                            seg.span,
                            format!("`{prev_name}` is `{shown}`, which has no fields"),
                        )
                        .label("no field here");
                        self.err(d);
                        return None;
                    }
                }
            }
            let record = self.reg.record(rec);
            let Some((_, f)) = record.field(&seg.name) else {
                let record_name = record.name.clone();
                let candidates: Vec<String> = record.field_names().map(str::to_string).collect();
                let origin = record.origin;
                // `#text` where the element's text is declared `#value`.
                let same_form = (seg.xml != XmlForm::Element)
                    .then(|| record.fields.iter().find(|f| f.xml == seg.xml))
                    .flatten()
                    .map(|f| format!("{}{}", xml_mark(seg.xml), f.name));
                let mut d = Diagnostic::error(
                    Code::E0103,
                    self.file,
                    seg.span,
                    format!(
                        "`{record_name}` has no {} `{}{}`",
                        xml_form_word(seg.xml),
                        xml_mark(seg.xml),
                        seg.name
                    ),
                )
                .label(format!(
                    "unknown {}field",
                    if side_label.is_empty() {
                        String::new()
                    } else {
                        format!("{side_label} ")
                    }
                ))
                .suggest(&seg.name, candidates.iter().map(String::as_str));
                if origin.file != self.file {
                    d = d.secondary(
                        origin.file,
                        origin.span,
                        format!("`{record_name}` is declared here"),
                    );
                }
                if let Some(name) = same_form {
                    d = d.help(format!(
                        "the {} of `{record_name}` is `{name}`",
                        xml_form_word(seg.xml)
                    ));
                }
                if d.help.is_none() && candidates.len() <= 12 {
                    d = d.note(format!("`{record_name}` has: {}", candidates.join(", ")));
                }
                self.err(d);
                return None;
            };
            if seg.xml != XmlForm::Element && f.xml != seg.xml {
                let d = Diagnostic::error(
                    Code::E0103,
                    self.file,
                    seg.span,
                    format!(
                        "`{}` has no {} `{}{}`",
                        record.name,
                        xml_form_word(seg.xml),
                        xml_mark(seg.xml),
                        seg.name
                    ),
                )
                .label(format!(
                    "`{}` is {}",
                    seg.name,
                    match f.xml {
                        XmlForm::Element => "a child element",
                        XmlForm::Attribute => "an attribute",
                        XmlForm::Text => "the element's text",
                    }
                ))
                .help(format!("write `{}{}`", xml_mark(f.xml), seg.name));
                self.err(d);
                return None;
            }
            let f = f.clone();
            match f.access {
                Access::WriteOnly => write_only = write_only.or(Some(f.name.clone())),
                Access::ReadOnly => read_only = read_only.or(Some(f.name.clone())),
                Access::ReadWrite => {}
            }
            names.push(seg.name.clone());
            if seg.iter {
                if !matches!(f.ty.kind, Kind::Array(_)) {
                    let shown = self.reg.display(&f.ty);
                    let d = Diagnostic::error(
                        Code::E0108,
                        self.file,
                        seg.span,
                        format!("`{}` is `{shown}`, not an array", seg.name),
                    )
                    .label("`[]` iterates over arrays only");
                    self.err(d);
                    return None;
                }
                if iter_at.is_some() {
                    let d = Diagnostic::error(
                        Code::E0212,
                        self.file,
                        seg.span,
                        "a path iterates at most once",
                    )
                    .label("second `[]`")
                    .help(
                        "map nested arrays with nested blocks: `a[] -> b[] { c[] -> d[] { ... } }`",
                    );
                    self.err(d);
                    return None;
                }
                iter_at = Some(names.len());
            }
            ty = Some(f.ty.clone());
            field_decl = Some(f);
        }
        // The type: the leaf's, per element past `[]`.
        let ty = types::path_ty(&self.reg, side, &names, iter_at).leaf_ty();
        Some(Resolved {
            names,
            ty,
            iter_at,
            field: field_decl,
            write_only,
            read_only,
        })
    }

    // ------------------------------------------------------------ pipelines

    fn pipeline(
        &mut self,
        p: Option<&ast::Pipeline>,
        flow: Flow,
        v: &DirView<'_>,
    ) -> Option<(Vec<TStep>, Flow)> {
        let mut flow = flow;
        let mut steps = Vec::new();
        let Some(p) = p else {
            return Some((steps, flow));
        };
        for step in &p.steps {
            let (s, f) = self.step(step, flow, v)?;
            steps.push(s);
            flow = f;
        }
        Some((steps, flow))
    }

    fn step(&mut self, step: &ast::Step, flow: Flow, v: &DirView<'_>) -> Option<(TStep, Flow)> {
        match step {
            ast::Step::Literal(l) => {
                let ty = Ty::of_literal(l);
                match types::literal_value(&self.reg, l, &ty.kind) {
                    Ok(val) => Some((TStep::Const(val), Flow::One(ty))),
                    Err(msg) => {
                        self.err(
                            Diagnostic::error(Code::E0211, self.file, l.span, msg)
                                .label("this literal"),
                        );
                        None
                    }
                }
            }
            ast::Step::If(i) => self.if_step(i, flow, v),
            ast::Step::Path(p) => {
                let r = self.resolve_one_value(
                    v,
                    p,
                    "a `(path)` step reads one value; it cannot iterate",
                )?;
                let path = FieldPath(prefixed(&v.source_scope.prefix, &r.names));
                Some((TStep::Path(path), Flow::One(r.ty)))
            }
            ast::Step::Call(c) => {
                if let Some(def_index) = stdlib::index_of(&c.name.name) {
                    return self.call(c, def_index, flow, v);
                }
                if let Some(&t) = self.table_index.get(&c.name.name) {
                    return self.table_step(c, t, flow, v.dir);
                }
                if self.broken.contains(&c.name.name) {
                    return None;
                }
                // A name nearest to one of the file's tables is most likely a
                // misspelt table, and is reported as such (E0104); anything
                // else as an unknown transform (E0105).
                let mut candidates: Vec<&str> = stdlib::all().iter().map(|d| d.name).collect();
                let tables: Vec<&str> = self.table_index.keys().map(String::as_str).collect();
                candidates.extend(tables.iter().copied());
                let nearest = did_you_mean(&c.name.name, candidates);
                let name = &c.name.name;
                let d = match nearest {
                    Some(t) if tables.contains(&t) => Diagnostic::error(
                        Code::E0104,
                        self.file,
                        c.name.span,
                        format!("unknown table `{name}`"),
                    )
                    .label("no table of this name")
                    .help(format!("did you mean the table `{t}`?")),
                    _ => {
                        let mut d = Diagnostic::error(
                            Code::E0105,
                            self.file,
                            c.name.span,
                            format!("unknown transform or table `{name}`"),
                        )
                        .label("not in the standard library, and no table of this name");
                        if let Some(t) = nearest {
                            d = d.help(format!("did you mean `{t}`?"));
                        }
                        d.note("the transforms are listed in docs/stdlib.md")
                    }
                };
                self.err(d);
                None
            }
        }
    }

    /// The currency of a step's money output, when the checker can know it:
    /// a literal `currency`/`to` argument, or the input's currency for the
    /// steps that keep it. Arithmetic on two known, different currencies is
    /// E0219 (`None` returned: the step failed).
    fn money_currency(
        &mut self,
        c: &ast::Call,
        sig: &stdlib::sig::Signature,
        consts: &[Option<Value<'static>>],
        flow: &Flow,
        arg_tys: &[types::ArgTy],
    ) -> Option<Option<Currency>> {
        let input = match flow {
            Flow::One(t) => match t.kind {
                Kind::Money(c) => c,
                _ => None,
            },
            Flow::Tuple(_) => None,
        };
        for (i, p) in sig.params.iter().enumerate() {
            if p.name == "currency" || p.name == "to" {
                return Some(match consts.get(i) {
                    Some(Some(Value::Str(code))) => Currency::parse(code),
                    _ => None,
                });
            }
        }
        if let (Some(a), Some(types::ArgTy::Field(t, _))) = (input, arg_tys.first())
            && let Kind::Money(Some(b)) = t.kind
            && a != b
        {
            let span = c.args.first().map_or(c.span, ast::Arg::span);
            let d = Diagnostic::error(
                Code::E0219,
                self.file,
                span,
                format!("`{}` of money in {a} and money in {b}", c.name.name),
            )
            .label(format!("this is in {b}"))
            .secondary(self.file, c.name.span, format!("the value here is in {a}"))
            .help(format!(
                "convert one first: `convert_currency(\"{a}\", rate)`"
            ));
            self.err(d);
            return None;
        }
        Some(input)
    }

    fn if_step(&mut self, i: &ast::IfStep, flow: Flow, v: &DirView<'_>) -> Option<(TStep, Flow)> {
        let (cond_steps, cond_flow) = self.pipeline(Some(&i.condition), flow.clone(), v)?;
        if !matches!(&cond_flow, Flow::One(t) if t.kind == Kind::Bool) {
            let d = Diagnostic::error(
                Code::E0213,
                self.file,
                i.condition.span,
                format!(
                    "the condition produces `{}`, not `bool`",
                    cond_flow.display(&self.reg)
                ),
            )
            .label("expected a bool")
            .help("use a predicate: `is_blank`, `is_null`, `eq(\"x\")`, `gt(0)`, ...");
            self.err(d);
            return None;
        }
        let (then_steps, then_flow) = self.pipeline(Some(&i.then), flow.clone(), v)?;
        // `if is_null { ... }`: past the test, the value is present.
        let flow = match (i.condition.steps.as_slice(), flow) {
            ([ast::Step::Call(c)], Flow::One(mut t)) if c.args.is_empty() => {
                match c.name.name.as_str() {
                    "is_missing" => t.missing = false,
                    "is_null" | "is_blank" => {
                        t.missing = false;
                        t.nullable = false;
                    }
                    _ => {}
                }
                Flow::One(t)
            }
            (_, flow) => flow,
        };
        let (else_steps, else_flow) = match i.otherwise.as_deref() {
            None => (Vec::new(), flow),
            Some(ast::ElseBranch::Pipeline(p)) => self.pipeline(Some(p), flow, v)?,
            Some(ast::ElseBranch::If(inner)) => {
                let (s, f) = self.if_step(inner, flow, v)?;
                (vec![s], f)
            }
        };
        let (Flow::One(a), Flow::One(b)) = (&then_flow, &else_flow) else {
            let d = Diagnostic::error(
                Code::E0210,
                self.file,
                i.span,
                "an `if` branch produces a tuple",
            )
            .label("here");
            self.err(d);
            return None;
        };
        let Some(joined) = types::join(a, b) else {
            let d = Diagnostic::error(
                Code::E0201,
                self.file,
                i.span,
                format!(
                    "the branches produce different types: `{}` and `{}`",
                    a.display(&self.reg),
                    b.display(&self.reg)
                ),
            )
            .label("both branches must produce one type");
            self.err(d);
            return None;
        };
        Some((
            TStep::If {
                condition: cond_steps,
                then: then_steps,
                otherwise: else_steps,
            },
            Flow::One(joined),
        ))
    }

    fn table_step(
        &mut self,
        c: &ast::Call,
        t: usize,
        flow: Flow,
        dir: Direction,
    ) -> Option<(TStep, Flow)> {
        if c.has_parens {
            let d = Diagnostic::error(
                Code::E0202,
                self.file,
                c.span,
                format!("table `{}` takes no arguments", c.name.name),
            )
            .label("remove the parentheses");
            self.err(d);
            return None;
        }
        let Flow::One(input) = flow else {
            let d = Diagnostic::error(
                Code::E0210,
                self.file,
                c.span,
                "a table maps one value, not a tuple",
            )
            .label("here");
            self.err(d);
            return None;
        };
        let out = self.table_use(t, &input, dir, c)?;
        Some((
            TStep::Table {
                table: t,
                dir,
                span: c.span,
            },
            Flow::One(out),
        ))
    }

    fn call(
        &mut self,
        c: &ast::Call,
        def_index: usize,
        flow: Flow,
        v: &DirView<'_>,
    ) -> Option<(TStep, Flow)> {
        let def = stdlib::by_index(def_index)?;
        let sigs = def.signatures();
        if v.dir == Direction::Forward
            && let Flow::One(input) = &flow
        {
            self.forward_inputs.insert(c.span, input.kind.clone());
        }
        // Resolve field arguments on the source side.
        let mut arg_tys: Vec<types::ArgTy> = Vec::new();
        let mut args: Vec<TArg> = Vec::new();
        for a in &c.args {
            match a {
                ast::Arg::Literal(l) => arg_tys.push(types::ArgTy::Literal(l.clone())),
                ast::Arg::Path { path, or } => {
                    let r = self.resolve_one_value(v, path, "an argument cannot iterate")?;
                    arg_tys.push(types::ArgTy::Field(r.ty.clone(), or.clone()));
                    args.push(TArg::Path(
                        FieldPath(prefixed(&v.source_scope.prefix, &r.names)),
                        None,
                    ));
                }
            }
        }
        let sig_list = || {
            sigs.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        // Arity first: the clearest message.
        let arity_ok = sigs
            .iter()
            .any(|s| c.args.len() >= s.required_params() && c.args.len() <= s.params.len());
        if !arity_ok {
            let d = Diagnostic::error(
                Code::E0202,
                self.file,
                c.span,
                format!(
                    "`{}` takes {}, but {} given",
                    def.name,
                    arity_text(sigs),
                    c.args.len()
                ),
            )
            .label("wrong number of arguments")
            .note(format!("signature: {}", sig_list()));
            self.err(d);
            return None;
        }
        let mut first_err: Option<types::MatchError> = None;
        for sig in sigs {
            if c.args.len() < sig.required_params() || c.args.len() > sig.params.len() {
                continue;
            }
            match types::match_signature(&self.reg, def.name, sig, &flow, &arg_tys) {
                Ok(m) => {
                    // Constant arguments, with defaults filled in.
                    let mut consts: Vec<Option<Value>> = Vec::new();
                    // The constants, and the `??` fallbacks: checked alike.
                    let mut checked: Vec<Option<Value>> = Vec::new();
                    let mut final_args = Vec::new();
                    let mut field_args = args.drain(..);
                    for i in 0..sig.params.len() {
                        match c.args.get(i) {
                            Some(ast::Arg::Path { .. }) => {
                                let fallback = m.fallbacks.get(i).cloned().flatten();
                                consts.push(None);
                                checked.push(fallback.clone());
                                final_args.push(match field_args.next()? {
                                    TArg::Path(path, _) => TArg::Path(path, fallback),
                                    constant => constant,
                                });
                            }
                            _ => {
                                let val = m
                                    .const_args
                                    .get(i)
                                    .cloned()
                                    .flatten()
                                    .unwrap_or(crate::exec::Value::Null);
                                consts.push(Some(val.clone()));
                                checked.push(Some(val.clone()));
                                final_args.push(TArg::Const(val));
                            }
                        }
                    }
                    if let Some(check) = def.check_args {
                        let refs: Vec<Option<&Value>> =
                            checked.iter().map(Option::as_ref).collect();
                        if let Err(e) = check(&refs) {
                            let span = c.args.get(e.index).map_or(c.span, ast::Arg::span);
                            let refused = e.severity == crate::diag::Severity::Error;
                            let mut d = Diagnostic::error(e.code, self.file, span, e.message)
                                .label("this argument");
                            d.severity = e.severity;
                            d.notes = e.notes;
                            d.help = e.help;
                            // A suspicious argument is reported; the step
                            // is still checked and planned.
                            if refused {
                                self.err(d);
                                return None;
                            }
                            self.diags.push(d);
                        }
                    }
                    let mut output = m.output;
                    if output.kind == Kind::Money(None) {
                        let known = self.money_currency(c, sig, &consts, &flow, &arg_tys)?;
                        output.kind = Kind::Money(known);
                    }
                    return Some((
                        TStep::Call {
                            transform: def_index,
                            args: final_args,
                            accepts_null: sig.accepts_null(),
                            arg_accepts_null: sig.params.iter().map(|p| p.nullable).collect(),
                            span: c.span,
                        },
                        Flow::One(output),
                    ));
                }
                // An argument error says more than an input error: the
                // input fitted that signature, so the argument is the fault.
                Err(e) => {
                    if first_err.is_none() || matches!(first_err, Some(types::MatchError::Input)) {
                        first_err = Some(e);
                    }
                }
            }
        }
        let d = match first_err {
            Some(types::MatchError::Input) => Diagnostic::error(
                Code::E0203,
                self.file,
                c.name.span,
                format!("`{}` does not take `{}`", def.name, flow.display(&self.reg)),
            )
            .label(format!("the value here is `{}`", flow.display(&self.reg)))
            .note(format!("signature: {}", sig_list()))
            .help(types::input_hint(&flow, def.name)),
            Some(types::MatchError::Arg(i, msg)) => {
                let span = c.args.get(i).map_or(c.span, ast::Arg::span);
                Diagnostic::error(
                    Code::E0202,
                    self.file,
                    span,
                    format!("wrong argument for `{}`: {msg}", def.name),
                )
                .label("this argument")
                .note(format!("signature: {}", sig_list()))
            }
            Some(types::MatchError::FieldArg {
                index,
                param,
                expected,
                found,
            }) => {
                let span = c.args.get(index).map_or(c.span, ast::Arg::span);
                let hint = types::conversion_hint(&found, &expected);
                let (expected, found) = (
                    self.reg.display_kind(&expected),
                    self.reg.display_kind(&found),
                );
                let mut d = Diagnostic::error(
                    Code::E0202,
                    self.file,
                    span,
                    format!(
                        "argument {} of `{}` (`{param}`) is `{found}`; on `{}` it must be `{expected}`",
                        index + 1,
                        def.name,
                        flow.display(&self.reg)
                    ),
                )
                .label(format!("`{param}`: `{found}` here, `{expected}` wanted"))
                .note(format!("signature: {}", sig_list()));
                if let Some(h) = hint {
                    d = d.help(h);
                }
                d
            }
            None => Diagnostic::error(
                Code::E0202,
                self.file,
                c.span,
                format!("no signature of `{}` fits", def.name),
            )
            .note(format!("signature: {}", sig_list())),
        };
        self.err(d);
        None
    }

    // ------------------------------------------------------------ conflicts

    /// `on delete ... when FLAG, ...`: each flag is a boolean field of the
    /// left or the right record.
    fn delete_flags(
        &mut self,
        mapping: &Mapping,
        flags: &[ast::Path],
    ) -> Vec<(Direction, FieldPath)> {
        let mut out = Vec::new();
        for p in flags {
            let sides = [
                (Direction::Forward, side_scope(mapping.left)),
                (Direction::Reverse, side_scope(mapping.right)),
            ];
            let found = sides
                .iter()
                .find_map(|(dir, scope)| self.resolve_quiet(scope, p).map(|r| (*dir, r)));
            let Some((dir, r)) = found else {
                self.resolve(&side_scope(mapping.left), p, "");
                continue;
            };
            if r.ty.kind != Kind::Bool {
                self.err(
                    Diagnostic::error(
                        Code::E0201,
                        self.file,
                        p.span,
                        format!("`{p}` is not a boolean field"),
                    )
                    .label(format!("this is `{}`", r.ty.display(&self.reg)))
                    .note("a delete flag marks a record deleted when it is `true`"),
                );
                continue;
            }
            out.push((dir, FieldPath(r.names)));
        }
        out
    }

    /// A side name: the schema name of either type, or `left`/`right`.
    fn side(&mut self, mapping: &Mapping, side: &ast::Ident) -> Option<Direction> {
        let same = mapping.left_side == mapping.right_side;
        let named = named_side(&mapping.left_side, &mapping.right_side, &side.name);
        if named.is_some() {
            return named;
        }
        let mut names = vec!["left", "right"];
        if !same {
            names.push(&mapping.left_side);
            names.push(&mapping.right_side);
        }
        let d = Diagnostic::error(
            Code::E0107,
            self.file,
            side.span,
            format!("unknown side `{}`", side.name),
        )
        .label(format!(
            "the sides of `{}` are {}",
            mapping.name,
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .suggest(&side.name, names.iter().copied());
        self.err(d);
        None
    }

    // ------------------------------------------------------------ tests

    fn test(&mut self, t: &ast::TestDecl, mappings: &[Mapping]) -> Option<TestCase> {
        let Some(index) = mappings.iter().position(|m| m.name == t.mapping.name) else {
            if !self.broken.contains(&t.mapping.name) {
                let names: Vec<&str> = mappings.iter().map(|m| m.name.as_str()).collect();
                let d = Diagnostic::error(
                    Code::E0106,
                    self.file,
                    t.mapping.span,
                    format!("unknown mapping `{}`", t.mapping.name),
                )
                .label("no mapping of this name in this file")
                .suggest(&t.mapping.name, names);
                self.err(d);
            }
            return None;
        };
        let mapping = &mappings[index];
        let given_dir = self.side(mapping, &t.given_side)?;
        let direction = given_dir;
        if !mapping.directions.contains(&direction) {
            let d = Diagnostic::error(
                Code::E0215,
                self.file,
                t.given_side.span,
                format!("`{}` maps only the other way", mapping.name),
            )
            .label("records are not read from this side");
            self.err(d);
            return None;
        }
        if mapping.iteration.is_none()
            && let Some(second) = t.expects.get(1)
        {
            let d = Diagnostic::error(
                Code::E0226,
                self.file,
                second.span(),
                format!(
                    "`{}` produces one record from each input, but this test expects {}",
                    mapping.name,
                    t.expects.len()
                ),
            )
            .label("a second expected record")
            .note("only a mapping with `for` produces several records from one `given`")
            .help("write one test per input record");
            self.err(d);
            return None;
        }
        // Every expectation is checked, so each mistake is reported.
        let checked: Vec<Option<Expected>> = t
            .expects
            .iter()
            .map(|e| self.expectation(mapping, given_dir, e))
            .collect();
        let expect = checked.into_iter().collect::<Option<Vec<_>>>()?;
        Some(TestCase {
            mapping: index,
            name: t.name.value.clone(),
            file: self.file,
            span: t.span,
            direction,
            given: t.given.to_json(),
            expect,
        })
    }

    /// One `expect` of a test: the other side's record, or a reject.
    fn expectation(
        &mut self,
        mapping: &Mapping,
        given_dir: Direction,
        e: &ast::Expectation,
    ) -> Option<Expected> {
        Some(match e {
            ast::Expectation::Record { side, record } => {
                let dir = self.side(mapping, side)?;
                if dir == given_dir {
                    let d = Diagnostic::error(
                        Code::E0215,
                        self.file,
                        side.span,
                        "`given` and `expect` name the same side",
                    )
                    .label("expected the other side of the mapping");
                    self.err(d);
                    return None;
                }
                if !matches!(record.kind, ast::LiteralKind::Object(_)) {
                    return None;
                }
                Expected::Record(record.to_json())
            }
            ast::Expectation::Reject { matching, .. } => {
                let mut pairs = Vec::new();
                if let Some(ast::Literal {
                    kind: ast::LiteralKind::Object(members),
                    ..
                }) = matching
                {
                    for (k, v) in members {
                        let text = match &v.kind {
                            ast::LiteralKind::String(s) => s.clone(),
                            _ => v.to_json(),
                        };
                        pairs.push((k.name.clone(), text));
                    }
                }
                Expected::Reject(pairs)
            }
        })
    }
}

use crate::exec::Value;

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

/// The schema name a side goes by in a mapping (`hubspot` of
/// `hubspot.Contact`), as `given`, `conflict` and `unmapped` name it.
fn side_name(r: &ast::TypeRef) -> String {
    r.namespace
        .as_ref()
        .map(|n| n.name.clone())
        .unwrap_or_default()
}

/// The side `name` names in a mapping whose sides go by `left` and `right`:
/// `Forward` for the left side (the one data flows from in the forward
/// direction), `Reverse` for the right. Schema names count only when they
/// differ.
fn named_side(left: &str, right: &str, name: &str) -> Option<Direction> {
    let distinct = left != right;
    match name {
        "left" => Some(Direction::Forward),
        "right" => Some(Direction::Reverse),
        n if distinct && n == left => Some(Direction::Forward),
        n if distinct && n == right => Some(Direction::Reverse),
        _ => None,
    }
}

fn type_ref_text(r: &ast::TypeRef) -> String {
    match &r.namespace {
        Some(n) => format!("{}.{}", n.name, r.name.name),
        None => r.name.name.clone(),
    }
}

/// A target's type is its own declaration: optional or nullable parents do
/// not make the field itself nullable (writing it creates the parents).
fn target_type(r: &Resolved) -> Type {
    match &r.field {
        Some(f) if r.iter_at.is_none() => f.ty.clone(),
        _ => r.ty.as_type(),
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

fn arity_text(sigs: &[crate::stdlib::sig::Signature]) -> String {
    let mut counts: Vec<(usize, usize)> = sigs
        .iter()
        .map(|s| (s.required_params(), s.params.len()))
        .collect();
    counts.sort();
    counts.dedup();
    let (lo, hi) = (
        counts.iter().map(|c| c.0).min().unwrap_or(0),
        counts.iter().map(|c| c.1).max().unwrap_or(0),
    );
    let word = |n: usize| if n == 1 { "argument" } else { "arguments" };
    if lo == hi {
        format!("{lo} {}", word(lo))
    } else {
        format!("{lo} to {hi} {}", word(hi))
    }
}

/// `@` for an attribute, `#` for an element's text.
fn xml_mark(form: XmlForm) -> &'static str {
    match form {
        XmlForm::Element => "",
        XmlForm::Attribute => "@",
        XmlForm::Text => "#",
    }
}

fn xml_form_word(form: XmlForm) -> &'static str {
    match form {
        XmlForm::Element => "field",
        XmlForm::Attribute => "attribute",
        XmlForm::Text => "element text",
    }
}

/// Two paths naming the same fields (`Amt.@Ccy` and `Amt.Ccy` do).
fn same_fields(a: &ast::Path, b: &ast::Path) -> bool {
    a.segments.len() == b.segments.len()
        && a.segments
            .iter()
            .zip(&b.segments)
            .all(|(x, y)| x.name == y.name && x.iter == y.iter)
}

/// Whether any rule (at any depth) has `path` as one of its endpoints.
fn mapped_anywhere(body: &[ast::MappingItem], path: &ast::Path) -> bool {
    body.iter().any(|item| match item {
        ast::MappingItem::Rule(r) => {
            let ends = |e: &ast::Endpoint| match e {
                ast::Endpoint::Path(p) => same_fields(p, path),
                ast::Endpoint::Tuple(ps, _) => ps.iter().any(|p| same_fields(p, path)),
                ast::Endpoint::Literal(_) => false,
            };
            ends(&r.left)
                || ends(&r.right)
                || r.block.as_deref().is_some_and(|b| mapped_anywhere(b, path))
        }
        ast::MappingItem::Conflict(_)
        | ast::MappingItem::Unmapped(_)
        | ast::MappingItem::Broken(_)
        | ast::MappingItem::For(_)
        | ast::MappingItem::Ids { .. } => false,
    })
}
