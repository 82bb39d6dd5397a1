//! Names to records and fields: a mapping's type references (`SCHEMA.Type`)
//! and paths against the record of a scope, with "did you mean" for each
//! unknown name and the XML form (`@attr`, `#text`) checked.

use super::{Checker, DirView, Resolved, ScopeSide, side_word, types};
use crate::diag::{Code, Diagnostic};
use crate::schema::{Access, Field, Kind, RecordId, Type, XmlForm};
use crate::syntax as ast;

impl Checker<'_> {
    pub(super) fn resolve_type_ref(&mut self, r: &ast::TypeRef) -> Option<RecordId> {
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
            return self.fail(d);
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
                self.fail(d)
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
                self.fail(d)
            }
        }
    }

    /// Resolves `path` against the scope's record. `side` names the side in
    /// messages ("source", "target").
    pub(super) fn resolve(
        &mut self,
        side: &ScopeSide,
        path: &ast::Path,
        side_label: &str,
    ) -> Option<Resolved> {
        self.resolve_path(side, path, side_label, false)
    }

    /// As [`Checker::resolve`], for a rule's source, where a path may cross
    /// several arrays (`PmtInf[].CdtTrfTxInf[].Amt`): the caller allows it
    /// only for a gather into a non-iterating target.
    pub(super) fn resolve_gather(
        &mut self,
        side: &ScopeSide,
        path: &ast::Path,
        side_label: &str,
    ) -> Option<Resolved> {
        self.resolve_path(side, path, side_label, true)
    }

    fn resolve_path(
        &mut self,
        side: &ScopeSide,
        path: &ast::Path,
        side_label: &str,
        many: bool,
    ) -> Option<Resolved> {
        let mut names = Vec::new();
        let mut iter_at = None;
        let mut deeper = Vec::new();
        let mut pick: Option<(usize, i64)> = None;
        let Some(mut rec) = side.record else {
            let d = Diagnostic::error(
                Code::E0108,
                self.file,
                path.span,
                "the elements here are values, not records",
            )
            .label("no fields to name");
            return self.fail(d);
        };
        let mut ty: Option<Type> = None;
        let mut field_decl: Option<Field> = None;
        let (mut write_only, mut read_only) = (None, None);
        for (i, seg) in path.segments.iter().enumerate() {
            if i > 0 {
                // Step into the previous field's record.
                let prev = ty.clone().map(|t| t.kind);
                let elem_kind = match prev {
                    Some(Kind::Array(e))
                        if path.segments[i - 1].iter || path.segments[i - 1].pick.is_some() =>
                    {
                        Some(e.kind.clone())
                    }
                    other => other,
                };
                match elem_kind {
                    Some(Kind::Record(r)) => rec = r,
                    Some(Kind::Any) | Some(Kind::Map(_)) if seg.pick.is_some() => {
                        // Nothing says there is an array inside `any`.
                        let d = Diagnostic::error(
                            Code::E0260,
                            self.file,
                            seg.span,
                            "selector not allowed here",
                        )
                        .label("inside a value of type `any` or `map`")
                        .note("an index picks from a declared array only");
                        return self.fail(d);
                    }
                    Some(Kind::Any) | Some(Kind::Map(_)) => {
                        // Inside `any`/`map`: names are not checked.
                        names.push(seg.name.clone());
                        ty = Some(Type::nullable(Kind::Any));
                        field_decl = None;
                        if seg.iter && pick.is_some() {
                            let d = Diagnostic::error(
                                Code::E0260,
                                self.file,
                                seg.span,
                                "selector not allowed here",
                            )
                            .label("`[]` after an index")
                            .note("one selector per path: a path with an index does not iterate");
                            return self.fail(d);
                        }
                        if seg.iter {
                            if iter_at.is_some() && many {
                                deeper.push(names.len());
                            }
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
                        return self.fail(d);
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
                return self.fail(d);
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
                return self.fail(d);
            }
            let f = f.clone();
            match f.access {
                Access::WriteOnly => write_only = write_only.or(Some(f.name.clone())),
                Access::ReadOnly => read_only = read_only.or(Some(f.name.clone())),
                Access::ReadWrite => {}
            }
            names.push(seg.name.clone());
            if let Some(index) = seg.pick {
                let why = if !many {
                    Some("an index picks from an array only in a rule's source path")
                } else if !matches!(f.ty.kind, Kind::Array(_)) {
                    Some("an index picks from an array, and this field is not an array")
                } else if iter_at.is_some() || pick.is_some() {
                    Some("one selector per path: a path with an index does not iterate")
                } else {
                    None
                };
                if let Some(why) = why {
                    let shown = self.reg.display(&f.ty);
                    let d = Diagnostic::error(
                        Code::E0260,
                        self.file,
                        seg.span,
                        "selector not allowed here",
                    )
                    .label(format!("`{}` is `{shown}`", seg.name))
                    .note(why);
                    return self.fail(d);
                }
                pick = Some((names.len(), index));
            }
            if seg.iter && pick.is_some() {
                let d = Diagnostic::error(
                    Code::E0260,
                    self.file,
                    seg.span,
                    "selector not allowed here",
                )
                .label("`[]` after an index")
                .note("one selector per path: a path with an index does not iterate");
                return self.fail(d);
            }
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
                    return self.fail(d);
                }
                if iter_at.is_some() && many {
                    deeper.push(names.len());
                    ty = Some(f.ty.clone());
                    field_decl = Some(f);
                    continue;
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
                    return self.fail(d);
                }
                iter_at = Some(names.len());
            }
            ty = Some(f.ty.clone());
            field_decl = Some(f);
        }
        // The type: the leaf's, per element past `[]`.
        let mut iters: Vec<usize> = iter_at.into_iter().collect();
        iters.extend(&deeper);
        iters.extend(pick.map(|(at, _)| at));
        let mut ty = types::path_ty_at(&self.reg, side, &names, &iters).leaf_ty();
        // The array may be shorter than the index: nothing there.
        if pick.is_some() {
            ty.missing = true;
        }
        Some(Resolved {
            names,
            ty,
            iter_at,
            deeper,
            pick,
            field: field_decl,
            write_only,
            read_only,
        })
    }

    pub(super) fn resolve_quiet(&mut self, side: &ScopeSide, path: &ast::Path) -> Option<Resolved> {
        let n = self.diags.len();
        let r = self.resolve(side, path, "");
        self.diags.truncate(n);
        r
    }

    /// A source path that must name one value, not iterate (`(path)` steps
    /// and arguments); E0212 with `message` otherwise.
    pub(super) fn resolve_one_value(
        &mut self,
        v: &DirView<'_>,
        path: &ast::Path,
        message: &str,
    ) -> Option<Resolved> {
        let r = self.resolve(v.source_scope, path, side_word(true))?;
        if r.iter_at.is_some() {
            let d =
                Diagnostic::error(Code::E0212, self.file, path.span, message).label("`[]` here");
            return self.fail(d);
        }
        self.readable(&r, path.span)?;
        Some(r)
    }
}

/// `@` for an attribute, `#` for an element's text.
pub(super) fn xml_mark(form: XmlForm) -> &'static str {
    match form {
        XmlForm::Element => "",
        XmlForm::Attribute => "@",
        XmlForm::Text => "#",
    }
}

pub(super) fn xml_form_word(form: XmlForm) -> &'static str {
    match form {
        XmlForm::Element => "field",
        XmlForm::Attribute => "attribute",
        XmlForm::Text => "element text",
    }
}
