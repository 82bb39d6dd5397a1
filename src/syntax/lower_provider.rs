//! pest pairs of a `provider` item to its syntax tree
//! (`syntax::provider`). As in the rest of the lowering, a pair of a shape
//! the grammar cannot produce is reported as E0001, never a panic.

use super::{Lowerer, P, R};
use crate::base::Span;
use crate::syntax::ast::{Ident, StringLit};
use crate::syntax::provider::*;
use std::time::Duration;

impl Lowerer {
    pub(super) fn provider(&mut self, p: P) -> Option<ProviderDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(it.next()?);
        let mut clauses = Vec::new();
        for c in it {
            let cspan = self.span(&c);
            let clause = match c.as_rule() {
                R::base_clause => {
                    let setting = self.setting(c.into_inner().next()?)?;
                    ProviderClause::Base(setting, cspan)
                }
                R::auth_clause => ProviderClause::Auth(self.auth(c)?),
                R::limits_clause => {
                    let mut entries = Vec::new();
                    for e in c.into_inner() {
                        entries.push(self.limit_entry(e)?);
                    }
                    ProviderClause::Limits(entries, cspan)
                }
                R::status_clause => {
                    let mut entries = Vec::new();
                    for e in c.into_inner() {
                        entries.push(self.status_entry(e)?);
                    }
                    ProviderClause::Status(entries, cspan)
                }
                R::resource_decl => ProviderClause::Resource(self.resource(c)?),
                R::webhook_clause => ProviderClause::Webhook(self.webhook(c)?),
                _ => {
                    self.bug(&c, "a provider clause");
                    return None;
                }
            };
            clauses.push(clause);
        }
        Some(ProviderDecl {
            name,
            clauses,
            span,
        })
    }

    fn setting(&mut self, p: P) -> Option<Setting> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let first = it.next()?;
        match first.as_rule() {
            R::string => Some(Setting::Literal(self.string(first)?)),
            R::env_ref => {
                let name = self.string(first.into_inner().next()?)?;
                let default = match it.next() {
                    Some(d) => Some(self.string(d)?),
                    None => None,
                };
                Some(Setting::Env {
                    name,
                    default,
                    span,
                })
            }
            R::secret_ref => {
                let name = self.string(first.into_inner().next()?)?;
                Some(Setting::Secret { name, span })
            }
            _ => {
                self.bug(&first, "a setting");
                None
            }
        }
    }

    fn auth(&mut self, p: P) -> Option<AuthDecl> {
        let span = self.span(&p);
        let k = p.into_inner().next()?;
        let kind = match k.as_rule() {
            R::auth_none => AuthKind::None,
            R::auth_api_key => {
                let mut it = k.into_inner();
                let place = match it.next()?.as_str() {
                    "header" => KeyPlace::Header,
                    _ => KeyPlace::Query,
                };
                let name = self.string(it.next()?)?;
                let key = self.setting(it.next()?)?;
                AuthKind::ApiKey { place, name, key }
            }
            R::auth_basic => {
                let mut it = k.into_inner();
                let user = self.setting(it.next()?)?;
                let password = self.setting(it.next()?)?;
                AuthKind::Basic { user, password }
            }
            R::auth_bearer => AuthKind::Bearer(self.setting(k.into_inner().next()?)?),
            R::auth_oauth2 => {
                let mut it = k.into_inner();
                let g = it.next()?;
                let grant_span = self.span(&g);
                let grant = match g.as_str() {
                    "client_credentials" => GrantWord::ClientCredentials,
                    _ => GrantWord::RefreshToken,
                };
                let mut entries = Vec::new();
                for e in it {
                    let espan = self.span(&e);
                    let mut parts = e.into_inner();
                    let key = match parts.next()?.as_str() {
                        "token_url" => OAuthKey::TokenUrl,
                        "client_id" => OAuthKey::ClientId,
                        "client_secret" => OAuthKey::ClientSecret,
                        "refresh_token" => OAuthKey::RefreshToken,
                        _ => OAuthKey::Scope,
                    };
                    let value = self.setting(parts.next()?)?;
                    let rotating = parts.next().map(|r| self.span(&r));
                    entries.push(OAuthEntry {
                        key,
                        value,
                        rotating,
                        span: espan,
                    });
                }
                AuthKind::OAuth2 {
                    grant,
                    grant_span,
                    entries,
                }
            }
            _ => {
                self.bug(&k, "an authentication");
                return None;
            }
        };
        Some(AuthDecl { kind, span })
    }

    fn count(&self, p: &P) -> Count {
        Count {
            value: p.as_str().parse().ok(),
            span: self.span(p),
        }
    }

    fn duration(&self, p: &P) -> DurationLit {
        let text = p.as_str();
        let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &text[digits.len()..];
        let n: Option<u64> = digits.parse().ok();
        let value = n.and_then(|n| match unit {
            "ms" => Some(Duration::from_millis(n)),
            "s" => Some(Duration::from_secs(n)),
            "m" => n.checked_mul(60).map(Duration::from_secs),
            "h" => n.checked_mul(3600).map(Duration::from_secs),
            _ => None,
        });
        DurationLit {
            value,
            span: self.span(p),
        }
    }

    fn duration_range(&self, p: P) -> Option<(DurationLit, DurationLit)> {
        let mut it = p.into_inner();
        let a = self.duration(&it.next()?);
        let b = self.duration(&it.next()?);
        Some((a, b))
    }

    fn limit_entry(&mut self, p: P) -> Option<LimitEntry> {
        let span = self.span(&p);
        let which = p.as_rule();
        let mut it = p.into_inner();
        Some(match which {
            R::budget_entry => {
                let requests = self.count(&it.next()?);
                let per = self.duration(&it.next()?);
                LimitEntry::Budget {
                    requests,
                    per,
                    span,
                }
            }
            R::timeout_entry => {
                let mut parts = Vec::new();
                for part in it {
                    let mut pi = part.into_inner();
                    let kind = match pi.next()?.as_str() {
                        "connect" => TimeoutKind::Connect,
                        _ => TimeoutKind::Request,
                    };
                    parts.push((kind, self.duration(&pi.next()?)));
                }
                LimitEntry::Timeout { parts, span }
            }
            R::retry_entry => {
                let max = self.count(&it.next()?);
                let backoff = match it.next() {
                    Some(r) => Some(self.duration_range(r)?),
                    None => None,
                };
                LimitEntry::Retry { max, backoff, span }
            }
            R::breaker_entry => {
                let after = self.count(&it.next()?);
                let open = match it.next() {
                    Some(r) => Some(self.duration_range(r)?),
                    None => None,
                };
                LimitEntry::Breaker { after, open, span }
            }
            _ => {
                self.bug(&it.next()?, "a limit");
                return None;
            }
        })
    }

    fn status_entry(&mut self, p: P) -> Option<StatusEntry> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let class = match it.next()?.as_str() {
            "retry" => StatusWord::Retry,
            "refuse" => StatusWord::Refuse,
            _ => StatusWord::Stop,
        };
        let mut codes = Vec::new();
        let mut message_at = None;
        for part in it {
            match part.as_rule() {
                R::count => codes.push(self.count(&part)),
                R::message_at => {
                    let path = part
                        .into_inner()
                        .find(|x| x.as_rule() == R::response_path)?;
                    message_at = Some(self.response_path(path)?);
                }
                _ => self.bug(&part, "a status list"),
            }
        }
        Some(StatusEntry {
            class,
            codes,
            message_at,
            span,
        })
    }

    fn response_path(&mut self, p: P) -> Option<ResponsePath> {
        let span = self.span(&p);
        let mut first_element = false;
        let mut path = None;
        for part in p.into_inner() {
            match part.as_rule() {
                R::first_element => first_element = true,
                R::path => path = Some(self.path(part)?),
                _ => self.bug(&part, "a response path"),
            }
        }
        Some(ResponsePath {
            first_element,
            path,
            span,
        })
    }

    fn resource(&mut self, p: P) -> Option<ResourceDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(it.next()?);
        let record = self.type_ref(it.next()?)?;
        let mut operations = Vec::new();
        for op in it {
            match op.as_rule() {
                R::read_decl => operations.push(Operation::Read(self.read(op)?)),
                R::write_decl => operations.push(Operation::Write(self.write(op)?)),
                R::fetch_decl => operations.push(Operation::Fetch(self.fetch(op)?)),
                _ => self.bug(&op, "a read, fetch or write"),
            }
        }
        Some(ResourceDecl {
            name,
            record,
            operations,
            span,
        })
    }

    /// The method, path and `returns` at the head of a request; the rest
    /// of the pairs are left in `it`.
    fn request_line<'i>(
        &mut self,
        it: &mut std::iter::Peekable<pest::iterators::Pairs<'i, R>>,
    ) -> Option<(RequestLine, Option<Span>)> {
        let m = it.next()?;
        let method_span = self.span(&m);
        let method = match m.as_str() {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            _ => HttpMethod::Delete,
        };
        let path = self.string(it.next()?)?;
        let mut returns = None;
        // `upsert` comes between the path and `returns` in a write.
        let upsert = it.next_if(|x| x.as_rule() == R::upsert);
        if let Some(r) = it.next_if(|x| x.as_rule() == R::returns) {
            returns = Some(self.type_ref(r.into_inner().next()?)?);
        }
        let upsert = upsert.map(|u| self.span(&u));
        Some((
            RequestLine {
                method,
                method_span,
                path,
                returns,
            },
            upsert,
        ))
    }

    fn read(&mut self, p: P) -> Option<ReadDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner().peekable();
        let (request, _) = self.request_line(&mut it)?;
        let mut entries = Vec::new();
        for e in it {
            let espan = self.span(&e);
            let entry = match e.as_rule() {
                R::query_entry => ReadEntry::Query(self.text_object(e)?, espan),
                R::headers_entry => ReadEntry::Headers(self.text_object(e)?, espan),
                R::body_entry => ReadEntry::Body(self.body(e)?, espan),
                R::records_entry => {
                    ReadEntry::Records(self.response_path(e.into_inner().next()?)?, espan)
                }
                R::id_at_entry => ReadEntry::Id(self.id_at(e)?, espan),
                R::cursor_entry => {
                    let mut ci = e.into_inner();
                    let path = self.path(ci.next()?)?;
                    let f = ci.next()?;
                    let format_span = self.span(&f);
                    let format = match (f.as_rule(), f.as_str()) {
                        (R::string, _) => CursorFormatWord::Pattern(self.string(f)?.value),
                        (_, "iso8601") => CursorFormatWord::Iso8601,
                        (_, "millis") => CursorFormatWord::Millis,
                        _ => CursorFormatWord::Seconds,
                    };
                    let (mut lookback, mut unsorted) = (None, None);
                    for opt in ci {
                        let o = opt.into_inner().next()?;
                        match o.as_rule() {
                            R::lookback => lookback = Some(self.duration(&o.into_inner().next()?)),
                            _ => unsorted = Some(self.span(&o)),
                        }
                    }
                    ReadEntry::Cursor {
                        path,
                        format,
                        format_span,
                        lookback,
                        unsorted,
                        span: espan,
                    }
                }
                R::page_entry => self.page(e, espan)?,
                R::budget_entry => {
                    let mut bi = e.into_inner();
                    let requests = self.count(&bi.next()?);
                    let per = self.duration(&bi.next()?);
                    ReadEntry::Budget {
                        requests,
                        per,
                        span: espan,
                    }
                }
                _ => {
                    self.bug(&e, "a read clause");
                    return None;
                }
            };
            entries.push(entry);
        }
        Some(ReadDecl {
            request,
            entries,
            span,
        })
    }

    fn id_at(&mut self, p: P) -> Option<ResponsePath> {
        let path = p.into_inner().find(|x| x.as_rule() == R::response_path)?;
        self.response_path(path)
    }

    fn page(&mut self, p: P, span: Span) -> Option<ReadEntry> {
        let mut it = p.into_inner();
        let style_pair = it.next()?.into_inner().next()?;
        let style_span = self.span(&style_pair);
        let style = match style_pair.as_rule() {
            R::page_none => PageStyle::None,
            R::page_offset => PageStyle::Offset,
            R::page_number => PageStyle::PageNumber {
                from: self.count(&style_pair.into_inner().next()?),
            },
            R::page_token => PageStyle::Token(self.response_path(style_pair.into_inner().next()?)?),
            R::page_next_url => {
                PageStyle::NextUrl(self.response_path(style_pair.into_inner().next()?)?)
            }
            R::page_link => PageStyle::LinkHeader,
            _ => PageStyle::Keyset,
        };
        let mut options = Vec::new();
        for opt in it {
            let o = opt.into_inner().next()?;
            let ospan = self.span(&o);
            let which = o.as_rule();
            let inner = o
                .into_inner()
                .find(|x| matches!(x.as_rule(), R::count | R::response_path))?;
            options.push(match which {
                R::page_limit => PageOption::Limit(self.count(&inner), ospan),
                R::max_pages => PageOption::MaxPages(self.count(&inner), ospan),
                R::stop_when => PageOption::StopWhen(self.response_path(inner)?, ospan),
                _ => PageOption::TiesBy(self.response_path(inner)?, ospan),
            });
        }
        Some(ReadEntry::Page {
            style,
            style_span,
            options,
            span,
        })
    }

    fn text_object(&mut self, p: P) -> Option<Vec<TextMember>> {
        let obj = p.into_inner().next()?;
        let mut members = Vec::new();
        for m in obj.into_inner() {
            let span = self.span(&m);
            let mut it = m.into_inner();
            let key = self.name(it.next()?)?;
            let v = it.next()?;
            let value = match v.as_rule() {
                R::string => TextValue::Text(self.string(v)?),
                _ => TextValue::Var(self.ident(v)),
            };
            members.push(TextMember {
                name: StringLit {
                    value: key.name,
                    span: key.span,
                },
                value,
                span,
            });
        }
        Some(members)
    }

    fn body(&mut self, p: P) -> Option<BodyDecl> {
        let b = p.into_inner().next()?;
        match b.as_rule() {
            R::body_record => {
                let span = self.span(&b);
                let mut omit = Vec::new();
                for x in b.into_inner() {
                    if x.as_rule() == R::path {
                        omit.push(self.path(x)?);
                    }
                }
                Some(BodyDecl::Record { omit, span })
            }
            _ => Some(BodyDecl::Template(self.template(b)?)),
        }
    }

    /// A body template. Its depth is bounded by the bracket count of
    /// `split_items` (E0007) before pest sees the text.
    fn template(&mut self, p: P) -> Option<Template> {
        let span = self.span(&p);
        let p = if p.as_rule() == R::template {
            p.into_inner().next()?
        } else {
            p
        };
        let kind = match p.as_rule() {
            R::string => TemplateKind::String(self.string(p)?.value),
            R::number => TemplateKind::Number(p.as_str().to_string()),
            R::kw_true => TemplateKind::Bool(true),
            R::kw_false => TemplateKind::Bool(false),
            R::kw_null => TemplateKind::Null,
            R::path => TemplateKind::Var(self.path(p)?),
            R::template_object => {
                let mut members = Vec::new();
                for m in p.into_inner() {
                    let mut it = m.into_inner();
                    let key: Ident = self.name(it.next()?)?;
                    let value = self.template(it.next()?)?;
                    members.push((
                        StringLit {
                            value: key.name,
                            span: key.span,
                        },
                        value,
                    ));
                }
                TemplateKind::Object(members)
            }
            R::template_array => {
                let mut items = Vec::new();
                for v in p.into_inner() {
                    items.push(self.template(v)?);
                }
                TemplateKind::Array(items)
            }
            _ => {
                self.bug(&p, "a value");
                return None;
            }
        };
        Some(Template { kind, span })
    }

    fn write(&mut self, p: P) -> Option<WriteDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner().peekable();
        let k = it.next()?;
        let kind_span = self.span(&k);
        let kind = match k.as_str() {
            "create" => WriteKind::Create,
            "update" => WriteKind::Update,
            _ => WriteKind::Delete,
        };
        let (request, upsert) = self.request_line(&mut it)?;
        let mut entries = Vec::new();
        for e in it {
            let espan = self.span(&e);
            let entry = match e.as_rule() {
                R::body_entry => WriteEntry::Body(self.body(e)?, espan),
                R::query_entry => WriteEntry::Query(self.text_object(e)?, espan),
                R::headers_entry => WriteEntry::Headers(self.text_object(e)?, espan),
                R::id_at_entry => WriteEntry::IdAt(self.id_at(e)?, espan),
                R::idempotency_entry => {
                    WriteEntry::Idempotency(self.string(e.into_inner().next()?)?, espan)
                }
                R::lookup_entry => {
                    let mut li = e.into_inner().peekable();
                    let (request, _) = self.request_line(&mut li)?;
                    let id_at = match li.next() {
                        Some(x) => Some(self.id_at(x)?),
                        None => None,
                    };
                    WriteEntry::Lookup {
                        request,
                        id_at,
                        span: espan,
                    }
                }
                R::ok_entry => {
                    WriteEntry::Ok(e.into_inner().map(|c| self.count(&c)).collect(), espan)
                }
                _ => {
                    self.bug(&e, "a write clause");
                    return None;
                }
            };
            entries.push(entry);
        }
        Some(WriteDecl {
            kind,
            kind_span,
            request,
            upsert,
            entries,
            span,
        })
    }

    fn fetch(&mut self, p: P) -> Option<FetchDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner().peekable();
        let (request, _) = self.request_line(&mut it)?;
        let (mut query, mut headers) = (Vec::new(), Vec::new());
        for e in it {
            let espan = self.span(&e);
            match e.as_rule() {
                R::query_entry => query.push((self.text_object(e)?, espan)),
                R::headers_entry => headers.push((self.text_object(e)?, espan)),
                _ => {
                    self.bug(&e, "a fetch clause");
                    return None;
                }
            }
        }
        Some(FetchDecl {
            request,
            query,
            headers,
            span,
        })
    }

    fn webhook(&mut self, p: P) -> Option<WebhookDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let preset = self.string(it.next()?)?;
        let returns = self.type_ref(it.next()?.into_inner().next()?)?;
        let mut entries = Vec::new();
        for e in it {
            let espan = self.span(&e);
            let kind = e.as_rule();
            if !matches!(
                kind,
                R::wh_each
                    | R::wh_event
                    | R::wh_fetch
                    | R::wh_record
                    | R::wh_version
                    | R::wh_delete
            ) {
                self.bug(&e, "a webhook clause");
                return None;
            }
            let mut parts = e.into_inner();
            let entry = match kind {
                R::wh_each => WebhookEntry::Each(
                    match parts.find(|x| x.as_rule() == R::path) {
                        Some(x) => Some(self.path(x)?),
                        None => None,
                    },
                    espan,
                ),
                R::wh_event => {
                    let mut paths = Vec::new();
                    for x in parts {
                        paths.push(self.path(x)?);
                    }
                    WebhookEntry::Event(paths, espan)
                }
                R::wh_fetch => WebhookEntry::Fetch(self.path(parts.next()?)?, espan),
                R::wh_record => {
                    // `record` is its own pair (`kw_record`), then the path.
                    let path = match parts.find(|x| x.as_rule() == R::path) {
                        Some(x) => Some(self.path(x)?),
                        None => None,
                    };
                    WebhookEntry::Record(path, espan)
                }
                R::wh_version => WebhookEntry::Version(self.path(parts.next()?)?, espan),
                R::wh_delete => {
                    let mut parts = parts.filter(|x| x.as_rule() != R::kw_when);
                    let path = self.path(parts.next()?)?;
                    let suffix = parts.next()?.as_str() == "ends";
                    let value = self.string(parts.next()?)?;
                    WebhookEntry::Delete {
                        path,
                        suffix,
                        value,
                        span: espan,
                    }
                }
                _ => return None,
            };
            entries.push(entry);
        }
        Some(WebhookDecl {
            preset,
            returns,
            entries,
            span,
        })
    }
}
