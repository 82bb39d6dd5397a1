//! A `fetch`: one record read by the id a webhook's notice names
//! (issue 20, refetch; docs/design/12-webhooks.md, "Refetch").

use super::*;

impl Cx<'_> {
    /// A fetch is a GET (it must not change anything: a notice delivered
    /// twice fetches twice) whose path or query names `{id}` and nothing
    /// else; its answer is the resource's record.
    pub(super) fn fetch(&mut self, f: &ast::FetchDecl, record: RecordId) -> Option<FetchSpec> {
        let line = &f.request;
        let mut ok = true;
        if line.method != ast::HttpMethod::Get {
            let d = self
                .e(Code::E0240, line.method_span, "a fetch is a GET")
                .label("not GET")
                .note("a notice delivered twice is fetched twice: the request must change nothing")
                .help("read the record with `fetch GET \"/contacts/{id}\"`");
            self.push(d);
            ok = false;
        }
        let path = self.path(&line.path, Scope::Fetch, record);
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let (mut query, mut headers) = (Vec::new(), Vec::new());
        for (m, span) in &f.query {
            if !self.first_of_its_kind(&mut seen, "query", *span) {
                ok = false;
                continue;
            }
            ok &= self.query_not_in_path(&line.path, m);
            match self.members(m, Scope::Fetch, record, false) {
                Some(q) => query = q,
                None => ok = false,
            }
        }
        for (m, span) in &f.headers {
            if !self.first_of_its_kind(&mut seen, "headers", *span) {
                ok = false;
                continue;
            }
            match self.members(m, Scope::Fetch, record, true) {
                Some(h) => headers = h,
                None => ok = false,
            }
        }
        let path = path?;
        let names_id = path
            .vars()
            .chain(query.iter().flat_map(|(_, t)| t.vars()))
            .next()
            .is_some();
        if !names_id {
            let d = self
                .e(
                    Code::E0240,
                    line.path.span,
                    "a fetch names the record it reads: `{id}`",
                )
                .label("no `{id}` in the path or query")
                .help("put the notice's id in the path: `\"/contacts/{id}\"`");
            self.push(d);
            ok = false;
        }
        ok.then_some(FetchSpec {
            request: RequestTemplate {
                method: Method::Get,
                path,
                query,
                headers,
                body: None,
            },
        })
    }
}
