//! Rules: each scope's rules in one direction, blocks (`a[] -> b[] { ... }`
//! and `a -> b { ... }`), and value rules from their source through their
//! pipeline to their targets, each target claimed once.

use super::types::{Flow, Ty};
use super::written::Written;
use super::{
    Checker, DRule, DirView, EachRule, Resolved, RuleOrigin, Scope, ScopeSide, Source, Target,
    ValueRule, endpoint_text, prefixed, scope_target, side_word, types,
};
use crate::base::FieldPath;
use crate::base::Span;
use crate::diag::{Code, Diagnostic};
use crate::schema::{Kind, Type};
use crate::syntax::{self as ast, ArrowKind, Direction};

impl Checker<'_> {
    /// Checks the rules of one scope in one direction; reports duplicate and
    /// missing targets for the scope's target record.
    pub(super) fn rules_in_scope(
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

    pub(super) fn rule(
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
            return self.fail(d);
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
    pub(super) fn checked_rule(
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
    pub(super) fn claim_quietly(
        &mut self,
        v: &DirView<'_>,
        rule: &ast::Rule,
        written: &mut Written,
    ) {
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

    /// Records that a rule writes `path`; reports a second writer.
    pub(super) fn claim_target(
        &mut self,
        written: &mut Written,
        path: &[String],
        rule_span: Span,
        at: Span,
    ) {
        if let Err((other, first)) = written.claim(path, rule_span) {
            // The longer of the two paths is named (counted in names,
            // not in the dots of their text: a name may hold a dot).
            let longer = if path.len() >= other.len() {
                path
            } else {
                &other
            };
            let d = Diagnostic::error(
                Code::E0206,
                self.file,
                at,
                format!("`{}` is written by two rules", longer.join(".")),
            )
            .label("second rule writing it")
            .secondary(self.file, first, "first written here")
            .help("keep one rule, or combine the sources: `(a, b) -> target : coalesce`");
            self.err(d);
        }
    }

    pub(super) fn origin(&self, rule: &ast::Rule, source_text: String) -> RuleOrigin {
        RuleOrigin {
            location: self.location(rule.span),
            file: self.file,
            span: rule.span,
            source_text,
            two_way: rule.arrow.kind == ArrowKind::Both,
        }
    }

    /// `a[] -> b[] { ... }` or `a -> b { ... }`.
    pub(super) fn block_rule(
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
            return self.fail(d);
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
            return self.fail(d);
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
                return self.fail(d);
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
                return self.fail(d);
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

    pub(super) fn value_rule(
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
        // A source path's iteration points past its first (a gather over
        // several arrays).
        let mut deeper: Vec<usize> = Vec::new();
        let (source, flow, src_iter) = match v.source {
            ast::Endpoint::Literal(l) => {
                let (val, ty) = self.constant(l)?;
                (Source::Const(val), Flow::One(ty), None)
            }
            ast::Endpoint::Path(p) => {
                let r = self.resolve_gather(v.source_scope, p, side_word(true))?;
                self.readable(&r, p.span)?;
                let iter = r.iter_at;
                let ty = r.ty.clone();
                deeper = r.deeper;
                let source = match r.pick {
                    // `tax_lines[0].price`: one value, missing when the
                    // array has no element there.
                    Some((at, index)) => Source::Pick {
                        array: FieldPath(prefixed(&v.source_scope.prefix, &r.names[..at])),
                        index,
                        elem: FieldPath(r.names[at..].to_vec()),
                    },
                    None => Source::Path(FieldPath(prefixed(&v.source_scope.prefix, &r.names))),
                };
                (source, Flow::One(ty), iter.map(|i| (i, r.names)))
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
            if !deeper.is_empty() && target_iter {
                // Element by element, nested arrays are nested blocks: only
                // a gather may cross several arrays.
                let span = match v.source {
                    ast::Endpoint::Path(p) => p
                        .segments
                        .iter()
                        .filter(|s| s.iter)
                        .nth(1)
                        .map_or(p.span, |s| s.span),
                    _ => rule.span,
                };
                let d = Diagnostic::error(
                    Code::E0212,
                    self.file,
                    span,
                    "an element-wise rule iterates its source at most once",
                )
                .label("second `[]`")
                .help("map nested arrays with nested blocks: `a[] -> b[] { c[] -> d[] { ... } }`");
                return self.fail(d);
            }
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
                        check_at_run_time: checked,
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
                return self.fail(d);
            }
            // Gather: `deals[].id -> Ids : join(",")` gives the pipeline an array.
            let mut iters = vec![iter_at];
            iters.extend(&deeper);
            let path = types::path_ty_at(&self.reg, v.source_scope, &names, &iters);
            let arr = types::gathered(&path);
            // `a[].b[].c`: `a`, then `b` in each element of `a`, then `c`
            // in each element of `b`.
            let last = iters.last().copied().unwrap_or(iter_at);
            let source = Source::Gather {
                array: FieldPath(prefixed(&v.source_scope.prefix, &names[..iter_at])),
                deeper: iters
                    .windows(2)
                    .map(|w| FieldPath(names[w[0]..w[1]].to_vec()))
                    .collect(),
                elem: FieldPath(names[last..].to_vec()),
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
            return self.fail(d);
        }
        self.finish_value_rule(rule, v, source, flow, targets, origin)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish_value_rule(
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
            // A key the provider sets itself (read-only: HubSpot's `id`)
            // may be missing from a record tether writes there: one born
            // on the other side has none until that provider's create
            // answers with it (docs/design/10-rest-providers.md, "Records
            // born on the other side").
            let provider_set_key = rule.is_key && r.read_only.is_some();
            let optional = r.field.as_ref().is_some_and(|f| f.optional) || provider_set_key;
            target_required = !optional;
            let ty = target_type(r);
            let check_at_run_time = self.assign(&out, &ty, optional, tp.span, rule)?;
            checked_targets.push(Target {
                path: FieldPath(prefixed(&v.target_scope.prefix, &r.names)),
                ty,
                check_at_run_time,
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
                return self.fail(d);
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
                let check_at_run_time = self.assign(&part, &ty, optional, tp.span, rule)?;
                checked_targets.push(Target {
                    path: FieldPath(prefixed(&v.target_scope.prefix, &r.names)),
                    ty,
                    check_at_run_time,
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
}

/// A target's type is its own declaration: optional or nullable parents do
/// not make the field itself nullable (writing it creates the parents).
fn target_type(r: &Resolved) -> Type {
    match &r.field {
        Some(f) if r.iter_at.is_none() => f.ty.clone(),
        _ => r.ty.as_type(),
    }
}
