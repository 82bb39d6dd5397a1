//! Request templates: path, query and body, and the variables each may name.

use super::*;

impl Cx<'_> {
    /// A path or query/header text template; its `{…}` names checked for
    /// the scope.
    pub(super) fn text(
        &mut self,
        s: &StringLit,
        scope: Scope,
        record: RecordId,
    ) -> Option<TextTemplate> {
        let t = match TextTemplate::parse(&s.value) {
            Ok(t) => t,
            Err(why) => {
                let d = self
                    .e(Code::E0240, s.span, format!("invalid template: {why}"))
                    .label("in this template");
                self.push(d);
                return None;
            }
        };
        let mut ok = true;
        for v in t.vars() {
            ok &= self.var_fits(v, scope, record, s.span);
        }
        ok.then_some(t)
    }

    /// Whether a variable may be named where it is: a read names `cursor`,
    /// `page` and `limit`; a write names `record` and its fields, which
    /// must be scalars of the record type when in a path.
    pub(super) fn var_fits(&mut self, v: &Var, scope: Scope, record: RecordId, span: Span) -> bool {
        match (v, scope) {
            (Var::Cursor | Var::Page | Var::Limit, Scope::Read) => true,
            (Var::Record, Scope::Write(_)) => true,
            (Var::Field(path), Scope::Write(_)) => {
                let segs: Vec<(String, Span)> = path.iter().map(|s| (s.clone(), span)).collect();
                self.type_at(record, &segs).is_some()
            }
            (Var::Record | Var::Field(_), Scope::Read) => {
                let d = self
                    .e(
                        Code::E0240,
                        span,
                        "a read has no record to take values from",
                    )
                    .label("names a record field")
                    .help("a read's templates name `cursor`, `page` and `limit`");
                self.push(d);
                false
            }
            (Var::Cursor | Var::Page | Var::Limit, Scope::Write(_)) => {
                let d = self
                    .e(Code::E0240, span, "a write has no cursor or page")
                    .label("names a read's variable")
                    .help("a write's templates name `record` and its fields (`record.email`, `{email}`)");
                self.push(d);
                false
            }
        }
    }

    pub(super) fn members(
        &mut self,
        members: &[ast::TextMember],
        scope: Scope,
        record: RecordId,
        headers: bool,
    ) -> Option<Vec<(String, TextTemplate)>> {
        let mut out = Vec::new();
        let mut ok = true;
        for m in members {
            let t = match &m.value {
                ast::TextValue::Text(s) => {
                    if headers && secret_header(&m.name.value) && !s.value.contains('{') {
                        let d = self
                            .e(
                                Code::E0241,
                                s.span,
                                format!("the `{}` header cannot be written here: it carries a secret", m.name.value),
                            )
                            .label("a secret written as a literal")
                            .help("declare it in `auth` (`api_key header \"NAME\" secret(\"VAR\")`, `bearer secret(\"VAR\")`)");
                        self.push(d);
                        ok = false;
                        continue;
                    }
                    self.text(s, scope, record)
                }
                ast::TextValue::Var(v) => {
                    let t = TextTemplate::parse(&format!("{{{}}}", v.name)).ok();
                    if let Some(t) = &t {
                        for var in t.vars() {
                            ok &= self.var_fits(var, scope, record, v.span);
                        }
                    }
                    t
                }
            };
            match t {
                Some(t) => out.push((m.name.value.clone(), t)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub(super) fn template(
        &mut self,
        t: &ast::Template,
        scope: Scope,
        record: RecordId,
    ) -> Option<BodyTemplate> {
        Some(match &t.kind {
            ast::TemplateKind::String(s) => {
                BodyTemplate::Value(serde_json::Value::String(s.clone()))
            }
            ast::TemplateKind::Number(n) => match serde_json::from_str(n) {
                Ok(v) => BodyTemplate::Value(v),
                Err(_) => {
                    let d = self
                        .e(Code::E0240, t.span, format!("`{n}` is not a JSON number"))
                        .label("not a number a body can carry");
                    self.push(d);
                    return None;
                }
            },
            ast::TemplateKind::Bool(b) => BodyTemplate::Value(serde_json::Value::Bool(*b)),
            ast::TemplateKind::Null => BodyTemplate::Value(serde_json::Value::Null),
            ast::TemplateKind::Object(members) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (k, v) in members {
                    match self.template(v, scope, record) {
                        Some(v) => out.push((k.value.clone(), v)),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                BodyTemplate::Object(out)
            }
            ast::TemplateKind::Array(items) => {
                let mut out = Vec::new();
                for v in items {
                    out.push(self.template(v, scope, record)?);
                }
                BodyTemplate::Array(out)
            }
            ast::TemplateKind::Var(path) => {
                let names: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
                let var = match names.as_slice() {
                    ["cursor"] => Var::Cursor,
                    ["page"] => Var::Page,
                    ["limit"] => Var::Limit,
                    ["record"] => Var::Record,
                    ["record", rest @ ..] => {
                        // Resolved with each segment's own span.
                        let segs: Vec<(String, Span)> = path.segments[1..]
                            .iter()
                            .map(|s| (s.name.clone(), s.span))
                            .collect();
                        if scope != Scope::Read {
                            self.type_at(record, &segs)?;
                        }
                        Var::Field(rest.iter().map(|s| s.to_string()).collect())
                    }
                    _ => {
                        let first = names.first().copied().unwrap_or("");
                        let d = self
                            .e(Code::E0240, path.span, format!("`{path}` is not a value a request can send"))
                            .label("unknown name")
                            .suggest(first, ["cursor", "page", "limit", "record"])
                            .note("a body names `cursor`, `page` and `limit` (a read), or `record` and `record.FIELD` (a write); text goes in quotes");
                        self.push(d);
                        return None;
                    }
                };
                if !self.var_fits(&var, scope, record, path.span) {
                    return None;
                }
                BodyTemplate::Var(var)
            }
        })
    }
}
