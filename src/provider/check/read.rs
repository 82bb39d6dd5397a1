//! A `read`: records path, cursor and paging (E0243-E0245).

use super::*;
use crate::base::Scalar;

impl Cx<'_> {
    pub(super) fn read(&mut self, rd: &ast::ReadDecl, record: RecordId) -> Option<ReadSpec> {
        let returns = self.returns(&rd.request).ok()?;
        let path = self.path(&rd.request.path, Scope::Read, record);
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let (mut query, mut headers, mut body) = (Vec::new(), Vec::new(), None);
        let mut records: Option<Vec<String>> = None;
        let mut records_span = None;
        let mut id = None;
        let mut cursor: Option<(CursorSpec, Span)> = None;
        let mut page: Option<&ast::ReadEntry> = None;
        let mut ok = path.is_some();
        let mut budgets = Vec::new();
        for e in &rd.entries {
            // Budgets add up, as the provider's do.
            if let ast::ReadEntry::Budget { requests, per, .. } = e {
                let n = self.positive(requests, "a budget's request count");
                let per = self.duration(per, "a budget's window");
                match (n, per) {
                    (Some(requests), Some(per)) => budgets.push(Budget { requests, per }),
                    _ => ok = false,
                }
                continue;
            }
            if !self.first_of_its_kind(&mut seen, e.word(), e.span()) {
                ok = false;
                continue;
            }
            match e {
                ast::ReadEntry::Query(m, _) => {
                    ok &= self.query_not_in_path(&rd.request.path, m);
                    match self.members(m, Scope::Read, record, false) {
                        Some(q) => query = q,
                        None => ok = false,
                    }
                }
                ast::ReadEntry::Headers(m, _) => match self.members(m, Scope::Read, record, true) {
                    Some(h) => headers = h,
                    None => ok = false,
                },
                ast::ReadEntry::Body(b, span) => match b {
                    ast::BodyDecl::Template(t) => {
                        body = self.template(t, Scope::Read, record);
                        ok &= body.is_some();
                    }
                    ast::BodyDecl::Record { .. } => {
                        let d = self
                            .e(Code::E0240, *span, "a read has no record to send")
                            .label("`body record` in a read")
                            .help("write the request's body: `body { ... }` with `cursor`, `page` and `limit`");
                        self.push(d);
                        ok = false;
                    }
                },
                ast::ReadEntry::Records(p, _) => {
                    records_span = Some(p.span);
                    match self.response_type(returns, p, "records") {
                        Some(ty) => {
                            let fits = matches!(&ty.kind, Kind::Array(el) if el.kind == Kind::Record(record));
                            if fits {
                                records = Some(response_segments(p));
                            } else {
                                let want = self.reg.record(record).name.clone();
                                let got = self.reg.display(&ty);
                                let d = self
                                    .e(
                                        Code::E0243,
                                        p.span,
                                        format!("`records` must lead to `[{want}]`, the resource's records; this is `{got}`"),
                                    )
                                    .label(format!("`{got}`"))
                                    .help("name the array of records in the response (`results`, `records`, `data`)");
                                self.push(d);
                                ok = false;
                            }
                        }
                        None => ok = false,
                    }
                }
                ast::ReadEntry::Id(p, _) => match &p.path {
                    Some(path) if !p.first_element => {
                        if self.path_type(record, path).is_some() {
                            id = Some(path.segments.iter().map(|s| s.name.clone()).collect());
                        } else {
                            ok = false;
                        }
                    }
                    _ => {
                        let d = self
                            .e(
                                Code::E0240,
                                p.span,
                                "a read's `id at` names a field of the record",
                            )
                            .label("not a record field");
                        self.push(d);
                        ok = false;
                    }
                },
                ast::ReadEntry::Cursor {
                    path,
                    format,
                    format_span,
                    lookback,
                    unsorted,
                    span,
                } => match self.cursor(
                    record,
                    path,
                    format,
                    *format_span,
                    lookback,
                    unsorted.is_some(),
                ) {
                    Some(c) => cursor = Some((c, *span)),
                    None => ok = false,
                },
                ast::ReadEntry::Page { .. } => page = Some(e),
                ast::ReadEntry::Budget { .. } => {}
            }
        }
        if records.is_none() && records_span.is_none() && returns.is_some() {
            let d = self
                .e(
                    Code::E0243,
                    rd.request.path.span,
                    "this read does not say where its records are",
                )
                .label("no `records PATH`")
                .help("name the array of records in the response: `records results`");
            self.push(d);
            ok = false;
        }
        let paging = match page {
            Some(ast::ReadEntry::Page {
                style,
                style_span,
                options,
                ..
            }) => self.paging(style, *style_span, options, returns, cursor.as_ref()),
            _ => Some(Paging {
                style: Pagination::None,
                max_pages: NonZeroU32::new(DEFAULT_MAX_PAGES).unwrap_or(NonZeroU32::MIN),
            }),
        };
        // What the request's templates send: a `cursor` needs the read's
        // cursor, and a page style that pages by a value needs `page`
        // somewhere (next URLs and `Link` replace the whole URL instead).
        let mut vars: Vec<&Var> = Vec::new();
        if let Some(p) = &path {
            vars.extend(p.vars());
        }
        for (_, t) in query.iter().chain(&headers) {
            vars.extend(t.vars());
        }
        if let Some(b) = &body {
            vars.extend(b.vars());
        }
        if cursor.is_none() && vars.contains(&&Var::Cursor) {
            let d = self
                .e(
                    Code::E0240,
                    rd.request.path.span,
                    "this read sends `cursor`, and declares none",
                )
                .label("a request of a read without `cursor PATH as FORMAT`")
                .help(
                    "declare the field the read is incremental by: `cursor updatedAt as iso8601`",
                );
            self.push(d);
            ok = false;
        }
        if let (
            Some(p),
            Some(ast::ReadEntry::Page {
                style, style_span, ..
            }),
        ) = (&paging, page)
        {
            let needs_page = match &p.style {
                Pagination::Offset { .. }
                | Pagination::PageNumber { .. }
                | Pagination::Token { .. } => true,
                Pagination::Keyset { ties, .. } => ties.is_some(),
                Pagination::None | Pagination::NextUrl { .. } | Pagination::LinkHeader => false,
            };
            if needs_page && !vars.contains(&&Var::Page) {
                let what = match style {
                    ast::PageStyle::Offset => "the offset",
                    ast::PageStyle::PageNumber { .. } => "the page number",
                    _ => "the page token",
                };
                let d = self
                    .e(Code::E0244, *style_span, format!("this page style sends {what} as `page`, and no part of the request names it"))
                    .label("every request would ask for the first page")
                    .help("put `page` where the API takes it: `query { after: page }` or `body { after: page }`");
                self.push(d);
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        Some(ReadSpec {
            request: RequestTemplate {
                method: Self::method(rd.request.method),
                path: path?,
                query,
                headers,
                body,
            },
            records: records.unwrap_or_default(),
            id,
            cursor: cursor.map(|(c, _)| c),
            page: paging?,
            budgets,
        })
    }

    pub(super) fn cursor(
        &mut self,
        record: RecordId,
        path: &Path,
        format: &ast::CursorFormatWord,
        format_span: Span,
        lookback: &Option<ast::DurationLit>,
        unsorted: bool,
    ) -> Option<CursorSpec> {
        let ty = self.path_type(record, path)?;
        let kind = match &ty.kind {
            Kind::Scalar(Scalar::DateTime | Scalar::AnyDateTime | Scalar::String) => {
                Some(CursorKind::DateTime)
            }
            Kind::Scalar(Scalar::Int) => Some(CursorKind::Number),
            _ => None,
        };
        let Some(kind) = kind else {
            let shown = self.reg.display(&ty);
            let d = self
                .e(
                    Code::E0245,
                    path.span,
                    format!("`{path}` is `{shown}`: a cursor is a date-time or an integer"),
                )
                .label("cannot order reads by this")
                .help("name the field that grows with every change: a last-modified time or a sequence number");
            self.push(d);
            return None;
        };
        let format = match format {
            ast::CursorFormatWord::Iso8601 => CursorFormat::Iso8601,
            ast::CursorFormatWord::Millis => CursorFormat::Millis,
            ast::CursorFormatWord::Seconds => CursorFormat::Seconds,
            ast::CursorFormatWord::Pattern(p) => {
                use crate::stdlib::datefmt::{Format, Target};
                if let Err(e) = Format::parse_writer(p, Target::DateTime) {
                    let mut d = self
                        .e(
                            Code::E0218,
                            format_span,
                            format!("invalid cursor format: {}", e.message),
                        )
                        .label("in this pattern");
                    for n in e.notes {
                        d = d.note(n);
                    }
                    if let Some(h) = e.help {
                        d = d.help(h);
                    }
                    self.push(d);
                    return None;
                }
                CursorFormat::Pattern(p.clone())
            }
        };
        if kind == CursorKind::Number
            && format != CursorFormat::Millis
            && format != CursorFormat::Seconds
        {
            let d = self
                .e(
                    Code::E0245,
                    format_span,
                    format!("`{path}` is an integer: it cannot be written as a date-time"),
                )
                .label("a date-time format on a number")
                .help("a sequence number is sent as it is: write `as millis` or `as seconds`");
            self.push(d);
            return None;
        }
        let lookback = match lookback {
            None => Duration::ZERO,
            Some(l) => match l.value {
                Some(v) if v < MAX_LOOKBACK => v,
                _ => {
                    let d = self
                        .e(Code::E0249, l.span, "a look-back of 7 days or more is longer than events are remembered")
                        .label("too long")
                        .note("events are deduplicated for 7 days: a longer look-back could apply an old version twice");
                    self.push(d);
                    return None;
                }
            },
        };
        Some(CursorSpec {
            field: path.segments.iter().map(|s| s.name.clone()).collect(),
            kind,
            format,
            lookback,
            order: if unsorted {
                CursorOrder::Unsorted
            } else {
                CursorOrder::Ascending
            },
        })
    }

    pub(super) fn paging(
        &mut self,
        style: &ast::PageStyle,
        style_span: Span,
        options: &[ast::PageOption],
        returns: Option<RecordId>,
        cursor: Option<&(CursorSpec, Span)>,
    ) -> Option<Paging> {
        let mut limit = None;
        let mut max_pages = NonZeroU32::new(DEFAULT_MAX_PAGES).unwrap_or(NonZeroU32::MIN);
        let mut stop_when = None;
        let mut ties = None;
        let mut ok = true;
        for o in options {
            match o {
                ast::PageOption::Limit(c, _) => limit = self.positive(c, "a page's size"),
                ast::PageOption::MaxPages(c, _) => match self.positive(c, "`max_pages`") {
                    Some(n) => max_pages = n,
                    None => ok = false,
                },
                ast::PageOption::StopWhen(p, span) => {
                    if !matches!(style, ast::PageStyle::NextUrl(_)) {
                        ok &= self.misplaced_option("stop when", "next_url", *span);
                        continue;
                    }
                    match self.response_type(returns, p, "stop when") {
                        Some(t) if matches!(t.kind, Kind::Scalar(Scalar::Bool) | Kind::Any) => {
                            stop_when = Some(response_segments(p));
                        }
                        Some(t) => ok &= self.page_type(p, &t, "`stop when` is a boolean (`done`)"),
                        None => ok = false,
                    }
                }
                ast::PageOption::TiesBy(p, span) => {
                    if !matches!(style, ast::PageStyle::Keyset) {
                        ok &= self.misplaced_option("ties by token", "keyset", *span);
                        continue;
                    }
                    match self.response_type(returns, p, "ties by token") {
                        Some(t) if token_kind(&t.kind) => ties = Some(response_segments(p)),
                        Some(t) => {
                            ok &= self.page_type(p, &t, "a page token is a string or an integer")
                        }
                        None => ok = false,
                    }
                }
            }
        }
        let needs_limit = matches!(
            style,
            ast::PageStyle::Offset | ast::PageStyle::PageNumber { .. } | ast::PageStyle::Keyset
        );
        if let (Some(o), false) = (
            options
                .iter()
                .find(|o| matches!(o, ast::PageOption::Limit(..))),
            needs_limit,
        ) {
            let span = match o {
                ast::PageOption::Limit(_, s) => *s,
                _ => style_span,
            };
            ok &= self.misplaced_option("limit", "offset`, `page_number` or `keyset", span);
        }
        let size = |me: &mut Self| -> Option<NonZeroU32> {
            if limit.is_none() {
                let d = me
                    .e(Code::E0244, style_span, "this page style needs the page's size")
                    .label("no `limit N`")
                    .help("write the size the request asks for: `page offset, limit 100` (and `limit: limit` in the request)");
                me.push(d);
            }
            limit
        };
        let style = match style {
            ast::PageStyle::None => Pagination::None,
            ast::PageStyle::LinkHeader => Pagination::LinkHeader,
            ast::PageStyle::Offset | ast::PageStyle::PageNumber { .. } => {
                if let Some((c, span)) = cursor
                    && c.lookback.is_zero()
                {
                    let d = self
                        .e(
                            Code::E0244,
                            style_span,
                            "pages by position move when records change during a read",
                        )
                        .label("offset paging with a cursor")
                        .secondary(self.file, *span, "the cursor has no `lookback`")
                        .help("add a `lookback` to the cursor, or page by `keyset` or `token`");
                    self.push(d);
                    ok = false;
                }
                let limit = size(self)?;
                match style {
                    ast::PageStyle::PageNumber { from } => {
                        let first = u32::try_from(self.count(from, "the first page number")?).ok();
                        Pagination::PageNumber {
                            first: first?,
                            limit,
                        }
                    }
                    _ => Pagination::Offset { limit },
                }
            }
            ast::PageStyle::Token(p) => match self.response_type(returns, p, "page token") {
                Some(t) if token_kind(&t.kind) => Pagination::Token {
                    at: response_segments(p),
                },
                Some(t) => {
                    self.page_type(p, &t, "a page token is a string or an integer");
                    return None;
                }
                None => return None,
            },
            ast::PageStyle::NextUrl(p) => match self.response_type(returns, p, "next_url") {
                Some(t) if matches!(t.kind, Kind::Scalar(Scalar::String) | Kind::Any) => {
                    Pagination::NextUrl {
                        at: response_segments(p),
                        stop_when,
                    }
                }
                Some(t) => {
                    self.page_type(p, &t, "a next page's URL is a string");
                    return None;
                }
                None => return None,
            },
            ast::PageStyle::Keyset => {
                if cursor.is_none() {
                    let d = self
                        .e(Code::E0244, style_span, "`keyset` paging restarts from the last record's cursor, and this read has none")
                        .label("no cursor to page by")
                        .help("declare the read's `cursor`, or page by `token`, `next_url` or `offset`");
                    self.push(d);
                    return None;
                }
                Pagination::Keyset {
                    limit: size(self)?,
                    ties,
                }
            }
        };
        ok.then_some(Paging { style, max_pages })
    }

    pub(super) fn page_type(&mut self, p: &ast::ResponsePath, t: &Type, want: &str) -> bool {
        let shown = self.reg.display(t);
        let d = self
            .e(Code::E0244, p.span, format!("{want}; this is `{shown}`"))
            .label(format!("`{shown}`"));
        self.push(d);
        false
    }

    pub(super) fn misplaced_option(&mut self, option: &str, style: &str, span: Span) -> bool {
        let d = self
            .e(
                Code::E0244,
                span,
                format!("`{option}` belongs to `{style}` paging"),
            )
            .label("does not apply to this page style");
        self.push(d);
        false
    }

    // -------------------------------------------------------- writes
}
