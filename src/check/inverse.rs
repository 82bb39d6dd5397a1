//! Deriving the way back of a `<->` rule (docs/design/04-directionality.md).
//!
//! The reverse pipeline is each step's inverse, in reverse order, built as
//! AST with the forward steps' spans and then checked in the reverse
//! direction like a hand-written `<-` rule. What cannot be inverted is a
//! `Lossy` step, reported as E0222 by the caller.

use super::{Checker, endpoint_text};
use crate::base::Scalar;
use crate::base::{Span, Value};
use crate::diag::{Code, Diagnostic};
use crate::schema::{Kind, scalar_name};
use crate::stdlib;
use crate::stdlib::hooks::{ArgText, InverseArgs};
use crate::stdlib::sig::SigParam;
use crate::syntax::{self as ast, Direction};

/// A step with no exact inverse, and why.
pub(super) struct Lossy {
    pub span: Span,
    pub step: String,
    pub why: String,
}

impl Checker<'_> {
    /// The reverse of a `<->` rule's pipeline, or its first lossy step.
    pub(super) fn inverse_pipeline(&self, p: &ast::Pipeline) -> Result<ast::Pipeline, Lossy> {
        let mut steps = Vec::with_capacity(p.steps.len());
        for step in p.steps.iter().rev() {
            steps.push(self.inverse_step(step)?);
        }
        Ok(ast::Pipeline {
            steps,
            span: p.span,
        })
    }

    fn inverse_step(&self, step: &ast::Step) -> Result<ast::Step, Lossy> {
        let lossy = |why: &str| Lossy {
            span: step.span(),
            step: step_text(step),
            why: why.to_string(),
        };
        let call = match step {
            ast::Step::Call(c) => c,
            ast::Step::Literal(_) => {
                return Err(lossy("a constant forgets the value it replaces"));
            }
            ast::Step::If(_) => {
                return Err(lossy(
                    "a condition has no inverse: the way back cannot tell which branch a value took",
                ));
            }
            ast::Step::Path(_) => {
                return Err(lossy("reading another field forgets the value it replaces"));
            }
            // Its way back (`each` of the inverted steps) is not derived
            // yet: design 13 step 1 builds it one way.
            ast::Step::Each(_) => {
                return Err(lossy(
                    "`each` is one-way for now: its way back is not derived",
                ));
            }
        };
        if self.is_table_step(step) {
            if self.both_way_else.contains(&call.name.name) {
                return Err(lossy(
                    "its `else` applies both ways: every unlisted value would come back as the fallback",
                ));
            }
            // The reverse plan reads the table's `<-` column.
            return Ok(step.clone());
        }
        let name = call.name.name.as_str();
        let Some(def) = stdlib::lookup(name) else {
            // Unknown names are reported by the ordinary check.
            return Ok(step.clone());
        };
        let Some(inverse) = def.inverse.or_else(|| self.paired_inverse(name, call.span)) else {
            return Err(lossy(&self.no_inverse_why(name, call.span)));
        };
        // Some inverses undo a call only for some arguments (`mul(0)`).
        if let Some(invertible) = def.hooks.invertible {
            let args: Vec<ArgText<'_>> = call.args.iter().map(arg_text).collect();
            invertible(&args).map_err(|why| lossy(&why))?;
        }
        // The inverse takes the same arguments (`prefix("x")` ↔
        // `strip_prefix("x")`), as the transform declares, or its defaults
        // do (`to_zone("Asia/Dubai")` ↔ `to_utc`, `from_minor("KWD")` ↔
        // `to_minor` rounding "exact"); otherwise the arguments do not say
        // how to undo the step. Parameter names are for the message only.
        let takes_args = def.hooks.inverse_args == InverseArgs::Same;
        let params = |n: &str| -> &'static [SigParam] {
            stdlib::lookup(n)
                .and_then(|d| d.signatures().first())
                .map_or(&[], |s| s.params.as_slice())
        };
        let theirs = params(inverse);
        if !takes_args && theirs.iter().any(|p| p.default.is_none()) {
            let names = |ps: &[SigParam]| {
                ps.iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(lossy(&format!(
                "its arguments ({}) do not say how to undo it: `{inverse}` takes ({})",
                names(params(name)),
                names(theirs)
            )));
        }
        Ok(ast::Step::Call(ast::Call {
            name: ast::Ident {
                name: inverse.to_string(),
                span: call.name.span,
            },
            args: if takes_args {
                call.args.clone()
            } else {
                Vec::new()
            },
            has_parens: takes_args && call.has_parens,
            span: call.span,
        }))
    }

    /// The inverse of a transform that declares none, for the type its
    /// forward call takes: a transform that declares *it* as its inverse
    /// and gives back that type. `parse_int` is undone by `to_string`, so
    /// `to_string` on an int is undone by `parse_int` (on a decimal by
    /// `parse_decimal`, on a bool by `parse_bool`).
    fn paired_inverse(&self, name: &str, call: Span) -> Option<&'static str> {
        let input = self.forward_inputs.get(&call)?;
        paired_with(name)
            .find(|(_, gives)| gives == input)
            .map(|(def, _)| def.name)
    }

    /// Why a transform with no inverse of its own cannot be undone here.
    fn no_inverse_why(&self, name: &str, call: Span) -> String {
        let undone: Vec<String> = paired_with(name)
            .map(|(def, gives)| format!("{} by `{}`", kind_word(&gives), def.name))
            .collect();
        match self.forward_inputs.get(&call) {
            Some(input) if !undone.is_empty() => format!(
                "`{name}` of {} has no inverse; it is undone only for {}",
                kind_word(input),
                undone.join(", ")
            ),
            _ => format!("`{name}` has no inverse: different values give the same result"),
        }
    }
}

/// The transforms that declare `name` as their inverse, each with the kind
/// it gives back.
fn paired_with(name: &str) -> impl Iterator<Item = (&'static stdlib::TransformDef, Kind)> + '_ {
    stdlib::all()
        .iter()
        .copied()
        .filter(move |d| d.inverse == Some(name))
        .flat_map(|d| {
            d.signatures()
                .iter()
                .map(move |s| (d, super::types::sig_kind(&s.output, &None)))
        })
}

/// `an int`, `a decimal`: a scalar kind in a sentence.
fn kind_word(kind: &Kind) -> String {
    // The schema's names, but for the kinds a sentence says otherwise.
    let word = match kind {
        Kind::Scalar(Scalar::AnyDateTime) => Scalar::DateTime.name(),
        Kind::Money(_) => Scalar::Money.name(),
        Kind::Enum(_) => "enum",
        Kind::Any | Kind::IntEnum(_) | Kind::Record(_) | Kind::Array(_) | Kind::Map(_) => "value",
        scalar => scalar_name(scalar),
    };
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

/// An argument as written, for an invertibility hook.
fn arg_text(arg: &ast::Arg) -> ArgText<'_> {
    match arg {
        ast::Arg::Path { .. } => ArgText::Field,
        ast::Arg::Literal(l) => match &l.kind {
            ast::LiteralKind::Number(n) => ArgText::Number(n),
            ast::LiteralKind::String(s) => ArgText::String(s),
            _ => ArgText::Other,
        },
    }
}

/// A step as written, for messages.
fn step_text(step: &ast::Step) -> String {
    match step {
        ast::Step::Call(c) if c.args.is_empty() => c.name.name.clone(),
        ast::Step::Call(c) => {
            let args: Vec<String> = c
                .args
                .iter()
                .map(|a| match a {
                    ast::Arg::Literal(l) => l.display(),
                    ast::Arg::Path { path, or: None } => path.to_string(),
                    ast::Arg::Path { path, or: Some(or) } => format!("{path} ?? {}", or.display()),
                })
                .collect();
            format!("{}({})", c.name.name, args.join(", "))
        }
        ast::Step::Literal(l) => l.display(),
        ast::Step::If(_) => "if …".to_string(),
        ast::Step::Each(_) => "each { … }".to_string(),
        ast::Step::Path(p) => format!("({p})"),
    }
}

/// A table value that does not come back: `start` goes to `there`, which
/// maps back to `back` (another value, or nothing).
pub struct Loss {
    /// The direction `start` is mapped in first.
    pub dir: Direction,
    /// `None`: every value the table does not list (a one-way `else`).
    pub start: Option<Value<'static>>,
    pub there: Value<'static>,
    pub back: Option<Value<'static>>,
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Value<'_>| match v {
            Value::Str(s) => s.to_string(),
            v => v.to_json(),
        };
        match (&self.start, &self.back) {
            (None, _) => write!(f, "any other value → {}", show(&self.there)),
            (Some(k), Some(b)) => write!(f, "{} → {} → {}", show(k), show(&self.there), show(b)),
            (Some(k), None) => write!(f, "{} → {} → (no way back)", show(k), show(&self.there)),
        }
    }
}

/// The values of a table used both ways that do not round-trip, starting
/// from either column.
pub fn table_losses(table: &super::Table) -> Vec<Loss> {
    let lookup = |map: &super::TableMap, k: &Value<'_>| -> Option<Value<'static>> {
        map.entries
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .or_else(|| map.fallback.clone())
    };
    let mut out = Vec::new();
    for dir in [Direction::Forward, Direction::Reverse] {
        let (map, back) = match dir {
            Direction::Forward => (&table.forward, &table.reverse),
            Direction::Reverse => (&table.reverse, &table.forward),
        };
        for (k, v) in &map.entries {
            let b = lookup(back, v);
            if b.as_ref() != Some(k) {
                out.push(Loss {
                    dir,
                    start: Some(k.clone()),
                    there: v.clone(),
                    back: b,
                });
            }
        }
        if let Some(f) = &map.fallback {
            out.push(Loss {
                dir,
                start: None,
                there: f.clone(),
                back: None,
            });
        }
    }
    out
}

impl Checker<'_> {
    /// E0222: a `<->` rule with a step the way back cannot undo.
    pub(super) fn lossy_step(&mut self, rule: &ast::Rule, lossy: Lossy) {
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
    pub(super) fn warn_table_losses(&mut self, p: &ast::Pipeline, rule: &ast::Rule) {
        for step in &p.steps {
            if !self.is_table_step(step) {
                continue;
            }
            let ast::Step::Call(c) = step else { continue };
            let Some(&t) = self.table_index.get(&c.name.name) else {
                continue;
            };
            let losses = table_losses(&self.tables[t]);
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
}
