//! `create`, `update` and `delete`, and what makes a create safe to repeat (E0246, E0247).

use super::*;

impl Cx<'_> {
    pub(super) fn write_request(
        &mut self,
        w: &ast::WriteDecl,
        record: RecordId,
    ) -> Option<(WriteRequest, Vec<String>)> {
        let scope = Scope::Write(record);
        let path = self.path(&w.request.path, scope, record);
        if let Some(p) = &path {
            for v in p.vars() {
                if let Var::Field(f) = v {
                    let segs: Vec<(String, Span)> =
                        f.iter().map(|s| (s.clone(), w.request.path.span)).collect();
                    if let Some(t) = self.type_at(record, &segs)
                        && !scalar(&t.kind)
                    {
                        let shown = self.reg.display(&t);
                        let d = self
                            .e(Code::E0246, w.request.path.span, format!("`{{{}}}` is `{shown}`: a path carries a single value", f.join(".")))
                            .label("not a scalar")
                            .help("name a field holding a string or a number (the record's id, its key)");
                        self.push(d);
                    }
                }
            }
        }
        let (mut query, mut headers, mut body, mut ok_also) =
            (Vec::new(), Vec::new(), None, Vec::new());
        let mut ok = path.is_some();
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        for e in &w.entries {
            if !self.first_of_its_kind(&mut seen, e.word(), e.span()) {
                ok = false;
                continue;
            }
            match e {
                ast::WriteEntry::Query(m, _) => {
                    ok &= self.query_not_in_path(&w.request.path, m);
                    match self.members(m, scope, record, false) {
                        Some(q) => query = q,
                        None => ok = false,
                    }
                }
                ast::WriteEntry::Headers(m, _) => match self.members(m, scope, record, true) {
                    Some(h) => headers = h,
                    None => ok = false,
                },
                ast::WriteEntry::Body(b, _) => match b {
                    ast::BodyDecl::Record { omit, .. } => {
                        let mut paths = Vec::new();
                        for p in omit {
                            if self.path_type(record, p).is_some() {
                                paths.push(p.segments.iter().map(|s| s.name.clone()).collect());
                            } else {
                                ok = false;
                            }
                        }
                        body = Some(WriteBody::Record { omit: paths });
                    }
                    ast::BodyDecl::Template(t) => match self.template(t, scope, record) {
                        Some(t) => body = Some(WriteBody::Wrapped(t)),
                        None => ok = false,
                    },
                },
                ast::WriteEntry::Ok(codes, _) => {
                    for c in codes {
                        match self.status_code(c) {
                            Some(s) => ok_also.push(s),
                            None => ok = false,
                        }
                    }
                }
                ast::WriteEntry::IdAt(..)
                | ast::WriteEntry::Idempotency(..)
                | ast::WriteEntry::Lookup { .. } => {}
            }
        }
        // Without a `body`, a create or an update sends the record; a
        // delete sends nothing.
        let body = body.unwrap_or(match w.kind {
            ast::WriteKind::Delete => WriteBody::Empty,
            _ => WriteBody::Record { omit: Vec::new() },
        });
        let written = written_fields(&body);
        for e in &w.entries {
            if let ast::WriteEntry::Idempotency(h, _) = e {
                ok &= self.header_name(h);
            }
        }
        if !ok {
            return None;
        }
        Some((
            WriteRequest {
                method: Self::method(w.request.method),
                path: path?,
                query,
                headers,
                body,
                ok_also,
            },
            written,
        ))
    }

    pub(super) fn only_create(&mut self, w: &ast::WriteDecl) -> bool {
        let mut ok = true;
        for e in &w.entries {
            if matches!(
                e,
                ast::WriteEntry::IdAt(..) | ast::WriteEntry::Lookup { .. }
            ) {
                let d = self
                    .e(
                        Code::E0240,
                        e.span(),
                        format!("`{}` belongs to `create`", e.word()),
                    )
                    .label(format!("in `{}`", w.kind.word()))
                    .help("an update or a delete names its record by the id it already has");
                self.push(d);
                ok = false;
            }
        }
        if let Some(u) = w.upsert {
            let d = self
                .e(Code::E0240, u, "`upsert` belongs to `create`")
                .label(format!("in `{}`", w.kind.word()));
            self.push(d);
            ok = false;
        }
        ok
    }

    pub(super) fn change(&mut self, w: &ast::WriteDecl, record: RecordId) -> Option<ChangeSpec> {
        let fits = self.only_create(w);
        let _ = self.returns(&w.request);
        let (request, _) = self.write_request(w, record)?;
        let idempotency_header = w.entries.iter().find_map(|e| match e {
            ast::WriteEntry::Idempotency(h, _) => Some(h.value.clone()),
            _ => None,
        });
        fits.then_some(ChangeSpec {
            request,
            idempotency_header,
        })
    }

    pub(super) fn create(&mut self, w: &ast::WriteDecl, record: RecordId) -> Option<CreateSpec> {
        let returns = self.returns(&w.request).ok()?;
        let (request, written) = self.write_request(w, record)?;
        let mut ok = true;
        let mut id_at = None;
        let mut safety: Vec<(CreateSafety, Span)> = Vec::new();
        if let Some(u) = w.upsert {
            safety.push((CreateSafety::Upsert, u));
        }
        for e in &w.entries {
            match e {
                ast::WriteEntry::IdAt(p, _) => match self.response_type(returns, p, "id at") {
                    Some(_) => id_at = Some(response_segments(p)),
                    None => ok = false,
                },
                ast::WriteEntry::Idempotency(h, span) => {
                    safety.push((CreateSafety::IdempotencyHeader(h.value.clone()), *span));
                }
                ast::WriteEntry::Lookup {
                    request: line,
                    id_at: lookup_id,
                    span,
                } => match self.lookup(line, lookup_id.as_ref(), *span, record, &written) {
                    Some(l) => safety.push((CreateSafety::Lookup(l), *span)),
                    None => ok = false,
                },
                _ => {}
            }
        }
        if safety.len() > 1 {
            let d = self
                .e(
                    Code::E0240,
                    safety[1].1,
                    "a create is made safe to repeat one way",
                )
                .label("second way")
                .secondary(self.file, safety[0].1, "first way")
                .help("keep one of `idempotency header`, `upsert` and `lookup`");
            self.push(d);
            return None;
        }
        let Some((safety, _)) = safety.pop() else {
            if ok {
                let d = self
                    .e(Code::E0247, w.kind_span, "this create cannot be made safe to send again")
                    .label("no `idempotency header`, `upsert` or `lookup`")
                    .note("a create whose answer was lost is sent again: without one of these, the provider makes the record twice")
                    .help("send the operation's key in the provider's idempotency header (`idempotency header \"Idempotency-Key\"`), create by an external key (`upsert`), or look the record up by a field the create writes (`lookup GET \"/contacts/{email}\" returns T, id at id`)");
                self.push(d);
            }
            return None;
        };
        ok.then_some(CreateSpec {
            request,
            id_at,
            safety,
        })
    }

    pub(super) fn lookup(
        &mut self,
        line: &ast::RequestLine,
        id_at: Option<&ast::ResponsePath>,
        span: Span,
        record: RecordId,
        written: &[String],
    ) -> Option<LookupSpec> {
        let returns = self.returns(line).ok()?;
        let path = self.path(&line.path, Scope::Write(record), record)?;
        let mut ok = true;
        for v in path.vars() {
            let covered = match v {
                Var::Field(f) => written.iter().any(|w| {
                    w == "*" || f.join(".") == *w || f.join(".").starts_with(&format!("{w}."))
                }),
                _ => false,
            };
            if !covered {
                let name = match v {
                    Var::Field(f) => f.join("."),
                    _ => "record".into(),
                };
                let d = self
                    .e(Code::E0247, line.path.span, format!("the lookup finds the record by `{name}`, which the create does not send"))
                    .label("not written by the create's body")
                    .help("look the record up by a field the create itself writes, so a record it made is found");
                self.push(d);
                ok = false;
            }
        }
        let Some(id_at) = id_at else {
            let d = self
                .e(
                    Code::E0240,
                    span,
                    "a lookup says where the found record's id is",
                )
                .label("no `id at PATH`");
            self.push(d);
            return None;
        };
        let _ = self.response_type(returns, id_at, "id at")?;
        ok.then(|| LookupSpec {
            request: RequestTemplate {
                method: Self::method(line.method),
                path,
                query: Vec::new(),
                headers: Vec::new(),
                body: None,
            },
            id_at: response_segments(id_at),
        })
    }
}
