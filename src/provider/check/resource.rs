//! A `resource`: its record type, its read and its writes.

use super::*;

impl Cx<'_> {
    pub(super) fn resource(&mut self, r: &ast::ResourceDecl) -> Option<ResourceSpec> {
        let record = self.record_of(&r.record);
        let record_id = record?;
        let mut read: Option<(Option<ReadSpec>, Span)> = None;
        let mut writes = WriteSpec::default();
        let mut write_spans: HashMap<&'static str, Span> = HashMap::new();
        let mut fetch: Option<(Option<FetchSpec>, Span)> = None;
        let mut ok = true;
        for op in &r.operations {
            match op {
                ast::Operation::Read(rd) => {
                    if let Some((_, first)) = &read {
                        let d = self
                            .e(Code::E0240, rd.request.method_span, format!("resource `{}` has two reads", r.name.name))
                            .label("second `read`")
                            .secondary(self.file, *first, "first here")
                            .help("a resource is read one way; declare another resource for another read");
                        self.push(d);
                        continue;
                    }
                    let spec = self.read(rd, record_id);
                    ok &= spec.is_some();
                    read = Some((spec, rd.request.method_span));
                }
                ast::Operation::Fetch(f) => {
                    if let Some((_, first)) = &fetch {
                        let d = self
                            .e(
                                Code::E0240,
                                f.request.method_span,
                                format!("resource `{}` has two fetches", r.name.name),
                            )
                            .label("second `fetch`")
                            .secondary(self.file, *first, "first here")
                            .help("a record is read by its id one way");
                        self.push(d);
                        ok = false;
                        continue;
                    }
                    let spec = self.fetch(f, record_id);
                    ok &= spec.is_some();
                    fetch = Some((spec, f.request.method_span));
                }
                ast::Operation::Write(w) => {
                    let word = w.kind.word();
                    if let Some(first) = write_spans.get(word) {
                        let d = self
                            .e(
                                Code::E0240,
                                w.kind_span,
                                format!("resource `{}` has two `{word}`s", r.name.name),
                            )
                            .label("second")
                            .secondary(self.file, *first, "first here");
                        self.push(d);
                        continue;
                    }
                    write_spans.insert(word, w.kind_span);
                    match w.kind {
                        ast::WriteKind::Create => {
                            writes.create = self.create(w, record_id);
                            ok &= writes.create.is_some();
                        }
                        ast::WriteKind::Update | ast::WriteKind::Delete => {
                            let spec = self.change(w, record_id);
                            ok &= spec.is_some();
                            if w.kind == ast::WriteKind::Update {
                                writes.update = spec;
                            } else {
                                writes.delete = spec;
                            }
                        }
                    }
                }
            }
        }
        if !ok {
            return None;
        }
        Some(ResourceSpec {
            name: r.name.name.clone(),
            record_type: self.reg.record(record_id).name.clone(),
            read: read.and_then(|(s, _)| s),
            writes,
            fetch: fetch.and_then(|(s, _)| s),
        })
    }

    pub(super) fn method(m: ast::HttpMethod) -> Method {
        match m {
            ast::HttpMethod::Get => Method::Get,
            ast::HttpMethod::Post => Method::Post,
            ast::HttpMethod::Put => Method::Put,
            ast::HttpMethod::Patch => Method::Patch,
            ast::HttpMethod::Delete => Method::Delete,
        }
    }
}
