//! Requiredness per direction (issue 15). A schema's `required` is what a
//! *write* must carry; a record *read* from the provider may lack the field
//! (a query that did not select it, a webhook with only the changed fields).
//!
//! The checker keeps typing a declared source field as present, so a
//! required target fed by it compiles as before (and one fed by an optional
//! source is still E0204 until the rule says what should happen). What it
//! adds is, per rule, the source paths the rule *relies on* (`requires`):
//! the plan checks only those on read (E1002); any other declared field that
//! is missing is a missing value like any other, and its target is left
//! out. A rule relies on a path when
//!
//! * the path is its source and its target is required, and the pipeline,
//!   checked again on a source assumed missing, may still give nothing (no
//!   `default`, no `if is_missing`, no fallback field);
//! * a step or an argument reads it (without a `??` fallback): a condition
//!   on a missing field would quietly take the other branch, so it is
//!   checked wherever it is read;
//! * it is a record block's source (`billing -> Invoice { ... }`) whose
//!   target is required, or an element-wise array whose target is required.
//!
//! The key and the arrays of `for` clauses are checked by the plan itself.
//! `readOnly` and `writeOnly` fields are checked here too: a source path
//! through a write-only field is never read (E0223), a rule writing a
//! read-only field writes what the provider sets itself (E0224).

use super::types::{Flow, Ty};
use super::{Checker, DirView, Resolved, Source, TArg, TStep};
use crate::base::FieldPath;
use crate::base::Span;
use crate::diag::{Code, Diagnostic};
use crate::syntax as ast;

impl Checker<'_> {
    /// The source paths a value rule relies on itself (see the module's
    /// comment; the scope's own `requires` come on top). `flow` is the
    /// pipeline's input as the first pass typed it; `steps` the checked
    /// steps.
    pub(super) fn requires_of(
        &mut self,
        rule: &ast::Rule,
        v: &DirView<'_>,
        source: &Source,
        flow: &Flow,
        steps: &[TStep],
        target_required: bool,
    ) -> Vec<FieldPath> {
        let mut out = Vec::new();
        let sources: Vec<&FieldPath> = match source {
            Source::Path(p) => vec![p],
            Source::Tuple(ps) => ps.iter().collect(),
            Source::Gather { array, .. } | Source::Pick { array, .. } => vec![array],
            Source::Const(_) => Vec::new(),
        };
        if target_required
            && !sources.is_empty()
            && self.gives_nothing_without_source(rule, v, flow)
        {
            out.extend(sources.into_iter().cloned());
        }
        step_paths(steps, &mut out);
        out
    }

    /// Whether the pipeline may give nothing when the rule's source is
    /// missing: it is checked again on the source typed "may be missing",
    /// quietly (its diagnostics were reported by the first pass). A
    /// pipeline that no longer checks is taken to need its source.
    fn gives_nothing_without_source(
        &mut self,
        rule: &ast::Rule,
        v: &DirView<'_>,
        flow: &Flow,
    ) -> bool {
        let reported = self.diags.len();
        let out = self.pipeline(rule.pipeline.as_ref(), absent(flow), v);
        self.diags.truncate(reported);
        match out {
            Some((_, Flow::One(t))) => t.missing,
            Some((_, Flow::Tuple(ts))) => ts.iter().any(|t| t.missing),
            None => true,
        }
    }

    /// E0223: a source path through a write-only field.
    pub(super) fn readable(&mut self, r: &Resolved, at: Span) -> Option<()> {
        let Some(name) = &r.write_only else {
            return Some(());
        };
        let d = Diagnostic::error(
            Code::E0223,
            self.file,
            at,
            format!("`{name}` is write-only: a record read never has it"),
        )
        .label("read here")
        .help("map it the other way only (it can be written), or read another field");
        self.fail(d)
    }

    /// E0224: a rule writing a read-only field (the key is exempt: it says
    /// which record is meant, the provider does not take it as a change).
    pub(super) fn writable(&mut self, r: &Resolved, rule: &ast::Rule, at: Span) -> Option<()> {
        let Some(name) = &r.read_only else {
            return Some(());
        };
        if rule.is_key {
            return Some(());
        }
        let d = Diagnostic::error(
            Code::E0224,
            self.file,
            at,
            format!("`{name}` is read-only: the provider sets it, a write must not carry it"),
        )
        .label("written here")
        .help("map it the other way only (it can be read), or leave it out of this direction");
        self.fail(d)
    }
}

/// The flow with every value typed "may be missing".
fn absent(flow: &Flow) -> Flow {
    let missing = |t: &Ty| Ty {
        missing: true,
        ..t.clone()
    };
    match flow {
        Flow::One(t) => Flow::One(missing(t)),
        Flow::Tuple(ts) => Flow::Tuple(ts.iter().map(missing).collect()),
    }
}

/// The paths the steps read: `(path)` steps and field arguments without a
/// `??` fallback.
fn step_paths(steps: &[TStep], out: &mut Vec<FieldPath>) {
    for s in steps {
        match s {
            TStep::Path(p) => out.push(p.clone()),
            TStep::Call { args, .. } => out.extend(args.iter().filter_map(|a| match a {
                TArg::Path(p, None) => Some(p.clone()),
                TArg::Path(_, Some(_)) | TArg::Const(_) => None,
            })),
            TStep::If {
                condition,
                then,
                otherwise,
            } => {
                step_paths(condition, out);
                step_paths(then, out);
                step_paths(otherwise, out);
            }
            TStep::Each(inner) => step_paths(inner, out),
            TStep::Table { .. } | TStep::Const(_) => {}
        }
    }
}
