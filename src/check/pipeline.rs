//! Pipelines: each step typed from the flow before it. Calls of the standard
//! library are matched against their signatures and asked the rest through
//! their hooks (`stdlib::Hooks`); a table step is checked in `table.rs`, an
//! `if` in `cond.rs`.

use super::types::{Flow, Ty};
use super::{Checker, DirView, TArg, TStep, prefixed, types};
use crate::base::FieldPath;
use crate::base::Value;
use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::schema::Kind;
use crate::stdlib;
use crate::syntax::{self as ast, Direction};

impl Checker<'_> {
    /// A literal written as a rule's source or as a step: its value, typed
    /// by the literal alone (E0211 when the text is not a value).
    pub(super) fn constant(&mut self, l: &ast::Literal) -> Option<(Value<'static>, Ty)> {
        let ty = Ty::of_literal(l);
        match types::literal_value(&self.reg, l, &ty.kind) {
            Ok(val) => Some((val, ty)),
            Err(msg) => self
                .fail(Diagnostic::error(Code::E0211, self.file, l.span, msg).label("this literal")),
        }
    }

    pub(super) fn pipeline(
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

    pub(super) fn step(
        &mut self,
        step: &ast::Step,
        flow: Flow,
        v: &DirView<'_>,
    ) -> Option<(TStep, Flow)> {
        match step {
            ast::Step::Literal(l) => {
                let (val, ty) = self.constant(l)?;
                Some((TStep::Const(val), Flow::One(ty)))
            }
            ast::Step::If(i) => self.if_step(i, flow, v),
            ast::Step::Each(e) => self.each_step(e, flow, v),
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
                self.fail(d)
            }
        }
    }

    pub(super) fn table_step(
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
            return self.fail(d);
        }
        let Flow::One(input) = flow else {
            let d = Diagnostic::error(
                Code::E0210,
                self.file,
                c.span,
                "a table maps one value, not a tuple",
            )
            .label("here");
            return self.fail(d);
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

    pub(super) fn call(
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
            return self.fail(d);
        }
        let mut first_err: Option<types::MatchError> = None;
        for sig in sigs {
            if c.args.len() < sig.required_params() || c.args.len() > sig.params.len() {
                continue;
            }
            match types::match_signature(&self.reg, &def.hooks, sig, &flow, &arg_tys) {
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
                                    .unwrap_or(crate::base::Value::Null);
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
                                return self.fail(d);
                            }
                            self.diags.push(d);
                        }
                    }
                    let mut output = m.output;
                    if output.kind == Kind::Money(None) {
                        let known =
                            self.money_currency(c, def.hooks.currency, &consts, &flow, &arg_tys)?;
                        output.kind = Kind::Money(known);
                        // An aggregate of money in a currency the checker
                        // knows, with none stated: it is stated for it, so
                        // an empty array sums to 0 in that currency.
                        if let (Some(cur), stdlib::hooks::CurrencyRule::Elements { param: Some(i) }) =
                            (known, def.hooks.currency)
                            && let Some(arg @ TArg::Const(Value::Null)) = final_args.get_mut(i)
                        {
                            *arg = TArg::Const(Value::str(cur.code()));
                        }
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
        self.fail(d)
    }
}

impl Checker<'_> {
    /// `each { pipeline }`: the pipeline typed with the element's type as
    /// its input; the output is the array of its outputs, each as present
    /// as the pipeline makes it, the array as present as the input array.
    fn each_step(
        &mut self,
        e: &ast::EachStep,
        flow: Flow,
        v: &DirView<'_>,
    ) -> Option<(TStep, Flow)> {
        let elem = match &flow {
            Flow::One(t) => match &t.kind {
                Kind::Array(elem) => Some((t.clone(), elem.clone())),
                _ => None,
            },
            Flow::Tuple(_) => None,
        };
        let Some((array, elem)) = elem else {
            let shown = flow.display(&self.reg);
            let d = Diagnostic::error(
                Code::E0203,
                self.file,
                e.span,
                format!("`each` takes an array, not `{shown}`"),
            )
            .label(format!("the value here is `{shown}`"))
            .help(
                "`each { ... }` follows a gathered path: `lines[].price : each { parse_decimal }`",
            );
            return self.fail(d);
        };
        let inner_flow = Flow::One(Ty {
            kind: elem.kind.clone(),
            nullable: elem.nullable,
            missing: false,
            values: None,
        });
        let (steps, out) = self.pipeline(Some(&e.pipeline), inner_flow, v)?;
        let Flow::One(out) = out else {
            let d = Diagnostic::error(
                Code::E0203,
                self.file,
                e.span,
                "`each` gives one value per element, not a tuple",
            )
            .label("here");
            return self.fail(d);
        };
        let kind = Kind::Array(Box::new(crate::schema::Type {
            kind: out.kind,
            nullable: out.nullable || out.missing,
        }));
        Some((
            TStep::Each(steps),
            Flow::One(Ty {
                kind,
                nullable: array.nullable,
                missing: array.missing,
                values: None,
            }),
        ))
    }
}

pub(super) fn arity_text(sigs: &[crate::stdlib::sig::Signature]) -> String {
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
