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

    /// A request's path template: [`Self::text`], and its literal text a
    /// path on the base. It must begin with `/` (else a value could become
    /// part of the host: `{id}` after `http://127.0.0.1` went to
    /// 127.0.0.11), and hold only characters a URI may carry as they are,
    /// without `#` (the query tether appends would go into the fragment,
    /// never sent: a silent full read).
    pub(super) fn path(
        &mut self,
        s: &StringLit,
        scope: Scope,
        record: RecordId,
    ) -> Option<TextTemplate> {
        let t = self.text(s, scope, record)?;
        if !t.starts_with_slash() {
            let d = self
                .e(Code::E0240, s.span, "a request path must begin with `/`")
                .label("not a path on the base")
                .help("write the path from the base's root: `\"/contacts/{id}\"`");
            self.push(d);
            return None;
        }
        let bad = t.literals().flat_map(str::chars).find(|c| !uri_safe(*c));
        if let Some(c) = bad {
            let (what, help) = match c {
                '#' => (
                    "a request path cannot hold `#`".to_string(),
                    "a fragment is never sent, and the query tether adds would go into it",
                ),
                c => (
                    format!("a request path cannot hold {}", shown_char(c)),
                    "percent-encode it (a space is `%20`)",
                ),
            };
            let d = self
                .e(Code::E0240, s.span, what)
                .label("not valid in a URL")
                .help(help);
            self.push(d);
            return None;
        }
        Some(t)
    }

    /// Whether `name` is a header name (an RFC 9110 token); E0240 if not.
    pub(super) fn header_name(&mut self, name: &StringLit) -> bool {
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if !name.value.is_empty() && name.value.chars().all(token) {
            return true;
        }
        let d = self
            .e(
                Code::E0240,
                name.span,
                format!("`{}` is not a header name", name.value.escape_debug()),
            )
            .label("not an HTTP token")
            .help("a header name is letters, digits and `-` (RFC 9110 §5.1): `X-Request-Id`");
        self.push(d);
        false
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
            (Var::Field(path), Scope::Fetch) if path.len() == 1 && path[0] == "id" => true,
            (_, Scope::Fetch) => {
                let d = self
                    .e(Code::E0240, span, "a fetch names only `{id}`")
                    .label("not the notice's id")
                    .help("a fetch reads one record by the id a webhook's notice names: `fetch GET \"/contacts/{id}\"`");
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
        // A name given twice: which value would the API take? (Header
        // names compare without case, as HTTP compares them.)
        let mut seen: HashMap<String, Span> = HashMap::new();
        for m in members {
            if headers && !self.header_name(&m.name) {
                ok = false;
                continue;
            }
            let name = match headers {
                true => m.name.value.to_ascii_lowercase(),
                false => m.name.value.clone(),
            };
            if let Some(first) = seen.get(&name) {
                let what = if headers { "header" } else { "query parameter" };
                let d = self
                    .e(
                        Code::E0240,
                        m.name.span,
                        format!("the {what} `{}` is given twice", m.name.value),
                    )
                    .label("given again here")
                    .secondary(self.file, *first, "first given here")
                    .help("give each once: an API takes one of the two, and which one differs from API to API");
                self.push(d);
                ok = false;
                continue;
            }
            seen.insert(name, m.name.span);
            let t = match &m.value {
                ast::TextValue::Text(s) if headers && s.value.chars().any(char::is_control) => {
                    // http refuses it when the request is built: every
                    // pass would fail at run time instead of here.
                    let d = self
                        .e(
                            Code::E0240,
                            s.span,
                            format!(
                                "the `{}` header's value holds a control character",
                                m.name.value
                            ),
                        )
                        .label("a line break or other control character")
                        .help("a header value is one line of visible text");
                    self.push(d);
                    ok = false;
                    continue;
                }
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

    /// Whether no `query {}` member names a parameter the path already
    /// writes (`"/contacts?since=1"` with `query { since: cursor }` sends
    /// `since` twice, and APIs differ on which one counts).
    pub(super) fn query_not_in_path(
        &mut self,
        path: &StringLit,
        members: &[ast::TextMember],
    ) -> bool {
        let Some((_, written)) = path.value.split_once('?') else {
            return true;
        };
        let in_path: Vec<&str> = written
            .split('&')
            .map(|pair| pair.split_once('=').map_or(pair, |(k, _)| k))
            .collect();
        let mut ok = true;
        for m in members {
            if in_path.contains(&m.name.value.as_str()) {
                let d = self
                    .e(
                        Code::E0240,
                        m.name.span,
                        format!(
                            "the query parameter `{}` is given twice: in the path and in `query`",
                            m.name.value
                        ),
                    )
                    .label("given again here")
                    .secondary(self.file, path.span, "the path writes it too")
                    .help("give each once: an API takes one of the two, and which one differs from API to API");
                self.push(d);
                ok = false;
            }
        }
        ok
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
                        if let Scope::Write(_) = scope {
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

/// Whether `c` may stand in a URI's path or query as it is (RFC 3986's
/// unreserved and reserved characters, and `%` of an escape), `#` aside.
fn uri_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~/?:@!$&'()*+,;=%[]".contains(c)
}

/// A character as a message shows it: visible ones quoted, others by code.
fn shown_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    }
}
