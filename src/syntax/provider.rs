//! The syntax tree of a `provider` item (docs/design/10-rest-providers.md,
//! "Declaring a provider"). The tree keeps clauses as written, in order,
//! repeats included: whether a clause is missing, repeated or out of place
//! is the checker's to say (`provider/check/`, E0240), with the spans
//! kept here.

use super::ast::{Ident, Path, StringLit, TypeRef};
use crate::base::Span;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub struct ProviderDecl {
    pub name: Ident,
    pub clauses: Vec<ProviderClause>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProviderClause {
    Base(Setting, Span),
    Auth(AuthDecl),
    Limits(Vec<LimitEntry>, Span),
    Status(Vec<StatusEntry>, Span),
    Resource(ResourceDecl),
    Webhook(WebhookDecl),
}

/// `webhook "PRESET" returns T { … }`: where the preset's notices hold
/// what an event needs, declared by the provider.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookDecl {
    pub preset: StringLit,
    /// The type of one notice.
    pub returns: TypeRef,
    pub entries: Vec<WebhookEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum WebhookEntry {
    /// The notices are the array at this path (none: the body).
    Each(Option<Path>, Span),
    Event(Vec<Path>, Span),
    Fetch(Path, Span),
    /// The record is at this path (none: the notice).
    Record(Option<Path>, Span),
    Version(Path, Span),
    Delete {
        path: Path,
        /// `ends` (a suffix) rather than `is`.
        suffix: bool,
        value: StringLit,
        span: Span,
    },
}

impl WebhookEntry {
    pub fn word(&self) -> &'static str {
        match self {
            WebhookEntry::Each(..) => "each",
            WebhookEntry::Event(..) => "event",
            WebhookEntry::Fetch(..) => "fetch",
            WebhookEntry::Record(..) => "record",
            WebhookEntry::Version(..) => "version",
            WebhookEntry::Delete { .. } => "delete",
        }
    }

    pub fn span(&self) -> Span {
        match self {
            WebhookEntry::Each(_, s)
            | WebhookEntry::Event(_, s)
            | WebhookEntry::Fetch(_, s)
            | WebhookEntry::Record(_, s)
            | WebhookEntry::Version(_, s)
            | WebhookEntry::Delete { span: s, .. } => *s,
        }
    }
}

/// A value that may come from the environment: `"…"`, `env("NAME")`,
/// `env("NAME") ?? "…"`, or `secret("NAME")`.
#[derive(Clone, Debug, PartialEq)]
pub enum Setting {
    Literal(StringLit),
    Env {
        name: StringLit,
        default: Option<StringLit>,
        span: Span,
    },
    Secret {
        name: StringLit,
        span: Span,
    },
}

impl Setting {
    pub fn span(&self) -> Span {
        match self {
            Setting::Literal(s) => s.span,
            Setting::Env { span, .. } | Setting::Secret { span, .. } => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AuthDecl {
    pub kind: AuthKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPlace {
    Header,
    Query,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantWord {
    ClientCredentials,
    RefreshToken,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AuthKind {
    None,
    ApiKey {
        place: KeyPlace,
        name: StringLit,
        key: Setting,
    },
    Basic {
        user: Setting,
        password: Setting,
    },
    Bearer(Setting),
    OAuth2 {
        grant: GrantWord,
        grant_span: Span,
        entries: Vec<OAuthEntry>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthKey {
    TokenUrl,
    ClientId,
    ClientSecret,
    RefreshToken,
    Scope,
}

impl OAuthKey {
    pub fn word(self) -> &'static str {
        match self {
            OAuthKey::TokenUrl => "token_url",
            OAuthKey::ClientId => "client_id",
            OAuthKey::ClientSecret => "client_secret",
            OAuthKey::RefreshToken => "refresh_token",
            OAuthKey::Scope => "scope",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct OAuthEntry {
    pub key: OAuthKey,
    pub value: Setting,
    /// `rotating`: the provider replaces the refresh token on each use.
    pub rotating: Option<Span>,
    pub span: Span,
}

/// A whole number as written. `value` is `None` when it does not fit a
/// `u64` (the checker says so where the number is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    pub value: Option<u64>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationLit {
    /// `None`: too large to hold.
    pub value: Option<Duration>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutKind {
    Connect,
    Request,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LimitEntry {
    Budget {
        requests: Count,
        per: DurationLit,
        span: Span,
    },
    Timeout {
        parts: Vec<(TimeoutKind, DurationLit)>,
        span: Span,
    },
    Retry {
        max: Count,
        backoff: Option<(DurationLit, DurationLit)>,
        span: Span,
    },
    Breaker {
        after: Count,
        open: Option<(DurationLit, DurationLit)>,
        span: Span,
    },
}

impl LimitEntry {
    pub fn span(&self) -> Span {
        match self {
            LimitEntry::Budget { span, .. }
            | LimitEntry::Timeout { span, .. }
            | LimitEntry::Retry { span, .. }
            | LimitEntry::Breaker { span, .. } => *span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusWord {
    Retry,
    Refuse,
    Stop,
}

impl StatusWord {
    pub fn word(self) -> &'static str {
        match self {
            StatusWord::Retry => "retry",
            StatusWord::Refuse => "refuse",
            StatusWord::Stop => "stop",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct StatusEntry {
    pub class: StatusWord,
    pub codes: Vec<Count>,
    pub message_at: Option<ResponsePath>,
    pub span: Span,
}

/// A path in a response body: `paging.next.after`; `[].message` is the
/// first element's `message` (Salesforce's error arrays).
#[derive(Clone, Debug, PartialEq)]
pub struct ResponsePath {
    pub first_element: bool,
    pub path: Option<Path>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDecl {
    pub name: Ident,
    pub record: TypeRef,
    pub operations: Vec<Operation>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operation {
    Read(ReadDecl),
    Write(WriteDecl),
    /// `fetch GET "/contacts/{id}"`: one record by the id a webhook's
    /// notice names (issue 20, refetch).
    Fetch(FetchDecl),
}

/// A `fetch`: its request, and the query and headers it sends.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchDecl {
    pub request: RequestLine,
    pub query: Vec<(Vec<TextMember>, Span)>,
    pub headers: Vec<(Vec<TextMember>, Span)>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// `POST "/crm/v3/objects/contacts/search" returns hubspot_api.SearchPage`.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestLine {
    pub method: HttpMethod,
    pub method_span: Span,
    pub path: StringLit,
    pub returns: Option<TypeRef>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReadDecl {
    pub request: RequestLine,
    pub entries: Vec<ReadEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CursorFormatWord {
    Iso8601,
    Millis,
    Seconds,
    /// `as "yyyy-MM-dd'T'HH:mm:ss'Z'"`: a date pattern.
    Pattern(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ReadEntry {
    Query(Vec<TextMember>, Span),
    Headers(Vec<TextMember>, Span),
    Body(BodyDecl, Span),
    Records(ResponsePath, Span),
    /// `id at id`: the record's own id, part of a read event's identity.
    Id(ResponsePath, Span),
    Cursor {
        path: Path,
        format: CursorFormatWord,
        format_span: Span,
        lookback: Option<DurationLit>,
        unsorted: Option<Span>,
        span: Span,
    },
    Page {
        style: PageStyle,
        style_span: Span,
        options: Vec<PageOption>,
        span: Span,
    },
    /// `budget 4 per 1s`: the read endpoint's own limit (several allowed).
    Budget {
        requests: Count,
        per: DurationLit,
        span: Span,
    },
}

impl ReadEntry {
    pub fn span(&self) -> Span {
        match self {
            ReadEntry::Query(_, s)
            | ReadEntry::Headers(_, s)
            | ReadEntry::Body(_, s)
            | ReadEntry::Records(_, s)
            | ReadEntry::Id(_, s)
            | ReadEntry::Cursor { span: s, .. }
            | ReadEntry::Page { span: s, .. }
            | ReadEntry::Budget { span: s, .. } => *s,
        }
    }
    /// The clause's word, for "`cursor` is written twice".
    pub fn word(&self) -> &'static str {
        match self {
            ReadEntry::Query(..) => "query",
            ReadEntry::Headers(..) => "headers",
            ReadEntry::Body(..) => "body",
            ReadEntry::Records(..) => "records",
            ReadEntry::Id(..) => "id at",
            ReadEntry::Cursor { .. } => "cursor",
            ReadEntry::Page { .. } => "page",
            ReadEntry::Budget { .. } => "budget",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum PageStyle {
    None,
    Offset,
    PageNumber { from: Count },
    Token(ResponsePath),
    NextUrl(ResponsePath),
    LinkHeader,
    Keyset,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PageOption {
    Limit(Count, Span),
    MaxPages(Count, Span),
    StopWhen(ResponsePath, Span),
    TiesBy(ResponsePath, Span),
}

/// A `query` or `headers` member: a text template, or one of the read's
/// variables.
#[derive(Clone, Debug, PartialEq)]
pub struct TextMember {
    pub name: StringLit,
    pub value: TextValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TextValue {
    Text(StringLit),
    /// `cursor`, `page` or `limit`.
    Var(Ident),
}

#[derive(Clone, Debug, PartialEq)]
pub enum BodyDecl {
    /// `record omit A, B`.
    Record {
        omit: Vec<Path>,
        span: Span,
    },
    Template(Template),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub kind: TemplateKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TemplateKind {
    String(String),
    /// As written.
    Number(String),
    Bool(bool),
    Null,
    Object(Vec<(StringLit, Template)>),
    Array(Vec<Template>),
    /// `record`, `record.properties`, `cursor`, `page`, `limit`: the
    /// checker says which a request may name.
    Var(Path),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteKind {
    Create,
    Update,
    Delete,
}

impl WriteKind {
    pub fn word(self) -> &'static str {
        match self {
            WriteKind::Create => "create",
            WriteKind::Update => "update",
            WriteKind::Delete => "delete",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct WriteDecl {
    pub kind: WriteKind,
    pub kind_span: Span,
    pub request: RequestLine,
    pub upsert: Option<Span>,
    pub entries: Vec<WriteEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum WriteEntry {
    Body(BodyDecl, Span),
    Query(Vec<TextMember>, Span),
    Headers(Vec<TextMember>, Span),
    IdAt(ResponsePath, Span),
    Idempotency(StringLit, Span),
    Lookup {
        request: RequestLine,
        id_at: Option<ResponsePath>,
        span: Span,
    },
    Ok(Vec<Count>, Span),
}

impl WriteEntry {
    pub fn span(&self) -> Span {
        match self {
            WriteEntry::Body(_, s)
            | WriteEntry::Query(_, s)
            | WriteEntry::Headers(_, s)
            | WriteEntry::IdAt(_, s)
            | WriteEntry::Idempotency(_, s)
            | WriteEntry::Lookup { span: s, .. }
            | WriteEntry::Ok(_, s) => *s,
        }
    }
    pub fn word(&self) -> &'static str {
        match self {
            WriteEntry::Body(..) => "body",
            WriteEntry::Query(..) => "query",
            WriteEntry::Headers(..) => "headers",
            WriteEntry::IdAt(..) => "id at",
            WriteEntry::Idempotency(..) => "idempotency header",
            WriteEntry::Lookup { .. } => "lookup",
            WriteEntry::Ok(..) => "ok",
        }
    }
}
