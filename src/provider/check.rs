//! A `provider` item checked against the schemas and turned into a
//! [`ProviderSpec`] (docs/design/10-rest-providers.md, "What `tether check`
//! checks"). Everything knowable without calling the API is checked here,
//! each error with a span on the clause, path or number at fault; every
//! error is collected (one broken clause does not hide the next), and a
//! provider with any error yields no spec.
//!
//! Paths are resolved against the resource's record type (a cursor, a
//! template's `record.FIELD`, a `{FIELD}` in a path) or the request's
//! `returns` type (`records`, `id at`, page tokens), with "did you mean"
//! as the mapping checker gives.

use super::spec::{
    AuthSpec, ChangeSpec, CreateSafety, CreateSpec, CursorFormat, CursorKind, CursorOrder,
    CursorSpec, EnvOr, GrantSpec, Limits, LookupSpec, ProviderSpec, ReadSpec, RequestTemplate,
    ResourceSpec, WriteBody, WriteRequest, WriteSpec, check_base_url,
};
use super::template::{BodyTemplate, TextTemplate, Var};
use crate::diag::{Code, Diagnostic, FileId};
use crate::http::auth::KeyCarrier;
use crate::http::breaker::BreakerSpec;
use crate::http::budget::Budget;
use crate::http::client::Method;
use crate::http::page::{Pagination, Paging};
use crate::http::policy::{StatusClass, StatusClasses};
use crate::http::secret::SecretRef;
use crate::schema::{Kind, RecordId, Registry, Type, TypeId};
use crate::syntax::provider as ast;
use crate::syntax::{Item, Path, Span, StringLit, TypeRef};
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::time::Duration;

/// The longest look-back: events are deduplicated for 7 days, so a read
/// reaching further back could bring a version whose identity was
/// forgotten and apply it twice.
const MAX_LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);

/// Pages a read follows at most unless it says (`max_pages N`).
const DEFAULT_MAX_PAGES: u32 = 100_000;

/// Checks every `provider` item of `file`; the specs of those without
/// errors.
pub fn check_providers(
    file: FileId,
    items: &[Item],
    reg: &Registry,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ProviderSpec> {
    let mut out = Vec::new();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for item in items {
        let Item::Provider(p) = item else { continue };
        if let Some(first) = seen.get(p.name.name.as_str()) {
            diags.push(
                Diagnostic::error(
                    Code::E0221,
                    file,
                    p.name.span,
                    format!("provider `{}` is declared twice", p.name.name),
                )
                .label("second declaration")
                .secondary(file, *first, "first declared here"),
            );
            continue;
        }
        seen.insert(&p.name.name, p.name.span);
        let mut cx = Cx {
            file,
            reg,
            diags: Vec::new(),
        };
        let spec = cx.provider(p);
        let failed = cx.diags.iter().any(Diagnostic::is_error);
        diags.append(&mut cx.diags);
        if let (Some(spec), false) = (spec, failed) {
            out.push(spec);
        }
    }
    out
}

struct Cx<'a> {
    file: FileId,
    reg: &'a Registry,
    diags: Vec<Diagnostic>,
}

/// What a template may name: a read's variables, or a write's record.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Read,
    Write(RecordId),
}

impl Cx<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn e(&self, code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(code, self.file, span, message)
    }

    fn twice(&mut self, what: &str, span: Span, first: Span) {
        let d = self
            .e(Code::E0240, span, format!("`{what}` is written twice"))
            .label("second")
            .secondary(self.file, first, "first here")
            .help("each clause is written once: merge the two");
        self.push(d);
    }

    fn provider(&mut self, p: &ast::ProviderDecl) -> Option<ProviderSpec> {
        let mut base: Option<(EnvOr, Span)> = None;
        let mut auth: Option<(AuthSpec, Span)> = None;
        let mut auth_seen: Option<Span> = None;
        let mut limits: Option<Span> = None;
        let mut limit_spec = Limits::default();
        let mut status: Option<Span> = None;
        let mut classes = StatusClasses::default();
        let mut message_at = Vec::new();
        let mut resources = Vec::new();
        let mut resource_names: HashMap<&str, Span> = HashMap::new();
        let mut ok = true;
        for clause in &p.clauses {
            match clause {
                ast::ProviderClause::Base(setting, span) => {
                    if let Some((_, first)) = &base {
                        self.twice("base", *span, *first);
                        continue;
                    }
                    match self.base(setting) {
                        Some(b) => base = Some((b, *span)),
                        None => ok = false,
                    }
                }
                ast::ProviderClause::Auth(a) => {
                    if let Some(first) = auth_seen {
                        self.twice("auth", a.span, first);
                        continue;
                    }
                    auth_seen = Some(a.span);
                    match self.auth(a) {
                        Some(s) => auth = Some((s, a.span)),
                        None => ok = false,
                    }
                }
                ast::ProviderClause::Limits(entries, span) => {
                    if let Some(first) = limits {
                        self.twice("limits", *span, first);
                        continue;
                    }
                    limits = Some(*span);
                    self.limits(entries, &mut limit_spec);
                }
                ast::ProviderClause::Status(entries, span) => {
                    if let Some(first) = status {
                        self.twice("status", *span, first);
                        continue;
                    }
                    status = Some(*span);
                    (classes, message_at) = self.status(entries);
                }
                ast::ProviderClause::Resource(r) => {
                    if let Some(first) = resource_names.get(r.name.name.as_str()) {
                        let d = self
                            .e(
                                Code::E0221,
                                r.name.span,
                                format!("resource `{}` is declared twice", r.name.name),
                            )
                            .label("second declaration")
                            .secondary(self.file, *first, "first declared here");
                        self.push(d);
                        continue;
                    }
                    resource_names.insert(&r.name.name, r.name.span);
                    if let Some(spec) = self.resource(r) {
                        resources.push(spec);
                    }
                }
            }
        }
        if base.is_none() && ok {
            let d = self
                .e(
                    Code::E0240,
                    p.name.span,
                    format!("provider `{}` has no `base`", p.name.name),
                )
                .label("no base URL")
                .help("write `base \"https://api.example.com\"` (or `base env(\"NAME\") ?? \"https://...\"`)");
            self.push(d);
        }
        if auth_seen.is_none() {
            let d = self
                .e(
                    Code::E0240,
                    p.name.span,
                    format!("provider `{}` has no `auth`", p.name.name),
                )
                .label("no authentication")
                .help("write how requests authenticate (`auth bearer secret(\"NAME\")`), or `auth none` on purpose");
            self.push(d);
        }
        Some(ProviderSpec {
            name: p.name.name.clone(),
            base: base?.0,
            auth: auth?.0,
            limits: limit_spec,
            status: classes,
            message_at,
            resources,
        })
    }

    // -------------------------------------------------------- settings

    fn base(&mut self, s: &ast::Setting) -> Option<EnvOr> {
        let value = match s {
            ast::Setting::Literal(v) => Some(v),
            ast::Setting::Env { default, .. } => default.as_ref(),
            ast::Setting::Secret { span, .. } => {
                let d = self
                    .e(Code::E0240, *span, "the base URL is not a secret")
                    .label("`secret(…)` here")
                    .help("write the URL, or `env(\"NAME\")` to read it from the environment");
                self.push(d);
                return None;
            }
        };
        if let Some(v) = value
            && let Err(why) = check_base_url(&v.value)
        {
            let d = self
                .e(
                    Code::E0242,
                    v.span,
                    format!("`{}` cannot be a base URL: {why}", v.value),
                )
                .label("invalid base URL");
            self.push(d);
            return None;
        }
        self.plain(s, "the base URL")
    }

    /// A setting that is not a secret: a literal or `env(…)`.
    fn plain(&mut self, s: &ast::Setting, what: &str) -> Option<EnvOr> {
        match s {
            ast::Setting::Literal(v) => Some(EnvOr::Literal(v.value.clone())),
            ast::Setting::Env { name, default, .. } => Some(EnvOr::Env {
                name: self.env_name(name)?,
                default: default.as_ref().map(|d| d.value.clone()),
            }),
            ast::Setting::Secret { span, .. } => {
                let d = self
                    .e(Code::E0240, *span, format!("{what} is not a secret"))
                    .label("`secret(…)` here")
                    .help("write the value, or `env(\"NAME\")` to read it from the environment");
                self.push(d);
                None
            }
        }
    }

    /// A secret: only `secret("NAME")`.
    fn secret(&mut self, s: &ast::Setting, what: &str) -> Option<SecretRef> {
        match s {
            ast::Setting::Secret { name, .. } => Some(SecretRef::new(self.env_name(name)?)),
            ast::Setting::Literal(v) => {
                let d = self
                    .e(
                        Code::E0241,
                        v.span,
                        format!("{what} cannot be written here: it is a secret"),
                    )
                    .label("a secret written as a literal")
                    .help("write `secret(\"NAME\")`: tether reads it from $NAME, or from the file named by $NAME_FILE")
                    .note("a secret in a file ends up in version control, in plan files and in logs");
                self.push(d);
                None
            }
            ast::Setting::Env { span, .. } => {
                let d = self
                    .e(
                        Code::E0241,
                        *span,
                        format!("{what} is a secret: `env(…)` values are not kept secret"),
                    )
                    .label("read as a plain value")
                    .help("write `secret(\"NAME\")`: read from the same variable (or $NAME_FILE), redacted from every message");
                self.push(d);
                None
            }
        }
    }

    fn env_name(&mut self, name: &StringLit) -> Option<String> {
        let valid = !name.value.is_empty()
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.value.starts_with(|c: char| c.is_ascii_digit());
        if valid {
            Some(name.value.clone())
        } else {
            let d = self
                .e(
                    Code::E0240,
                    name.span,
                    format!("`{}` is not an environment variable name", name.value),
                )
                .label("letters, digits and `_` only");
            self.push(d);
            None
        }
    }

    // -------------------------------------------------------- auth

    fn auth(&mut self, a: &ast::AuthDecl) -> Option<AuthSpec> {
        match &a.kind {
            ast::AuthKind::None => Some(AuthSpec::None),
            ast::AuthKind::ApiKey { place, name, key } => {
                let key = self.secret(key, "an API key");
                Some(AuthSpec::ApiKey {
                    carrier: match place {
                        ast::KeyPlace::Header => KeyCarrier::Header,
                        ast::KeyPlace::Query => KeyCarrier::Query,
                    },
                    name: name.value.clone(),
                    key: key?,
                })
            }
            ast::AuthKind::Basic { user, password } => {
                let user = self.plain(user, "a user name");
                let password = self.secret(password, "a password");
                Some(AuthSpec::Basic {
                    user: user?,
                    password: password?,
                })
            }
            ast::AuthKind::Bearer(token) => Some(AuthSpec::Bearer(self.secret(token, "a token")?)),
            ast::AuthKind::OAuth2 {
                grant,
                grant_span,
                entries,
            } => self.oauth2(*grant, *grant_span, entries),
        }
    }

    fn oauth2(
        &mut self,
        grant: ast::GrantWord,
        grant_span: Span,
        entries: &[ast::OAuthEntry],
    ) -> Option<AuthSpec> {
        let mut by_key: HashMap<&'static str, &ast::OAuthEntry> = HashMap::new();
        let mut ok = true;
        for e in entries {
            let word = e.key.word();
            if let Some(first) = by_key.get(word) {
                let d = self
                    .e(Code::E0252, e.span, format!("`{word}` is written twice"))
                    .label("second")
                    .secondary(self.file, first.span, "first here");
                self.push(d);
                ok = false;
                continue;
            }
            by_key.insert(word, e);
            if let Some(r) = e.rotating
                && e.key != ast::OAuthKey::RefreshToken
            {
                let d = self
                    .e(Code::E0252, r, "only a refresh token can be `rotating`")
                    .label(format!("on `{word}`"));
                self.push(d);
                ok = false;
            }
            let misplaced = match (grant, e.key) {
                (ast::GrantWord::ClientCredentials, ast::OAuthKey::RefreshToken) => {
                    Some("a client-credentials grant has no refresh token")
                }
                (ast::GrantWord::RefreshToken, ast::OAuthKey::Scope) => Some(
                    "a refresh grant keeps the scopes consented to: `scope` is for `client_credentials`",
                ),
                _ => None,
            };
            if let Some(why) = misplaced {
                let d = self
                    .e(Code::E0252, e.span, why)
                    .label(format!("`{word}` here"));
                self.push(d);
                ok = false;
            }
        }
        let mut required = vec![
            ast::OAuthKey::TokenUrl,
            ast::OAuthKey::ClientId,
            ast::OAuthKey::ClientSecret,
        ];
        if grant == ast::GrantWord::RefreshToken {
            required.push(ast::OAuthKey::RefreshToken);
        }
        let missing: Vec<&str> = required
            .iter()
            .map(|k| k.word())
            .filter(|w| !by_key.contains_key(w))
            .collect();
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let d = self
                .e(
                    Code::E0252,
                    grant_span,
                    format!("this OAuth 2.0 grant is missing {list}"),
                )
                .label("incomplete");
            self.push(d);
            return None;
        }
        let get = |k: ast::OAuthKey| by_key.get(k.word()).copied();
        let token_url = match get(ast::OAuthKey::TokenUrl).map(|e| &e.value) {
            Some(ast::Setting::Literal(v)) => {
                let fine = v.value.starts_with('/') || check_base_url(&v.value).is_ok();
                if !fine {
                    let d = self
                        .e(
                            Code::E0252,
                            v.span,
                            format!("`{}` cannot be a token URL", v.value),
                        )
                        .label("not a path or an `https://` URL")
                        .help("write a path relative to the base (`/oauth/v1/token`) or an absolute `https://` URL");
                    self.push(d);
                    ok = false;
                }
                Some(v.value.clone())
            }
            Some(other) => {
                let d = self
                    .e(Code::E0252, other.span(), "the token URL is written, not read from the environment")
                    .label("write the URL here")
                    .help("a path relative to the base follows the base, which may come from the environment");
                self.push(d);
                None
            }
            None => None,
        };
        let client_id =
            get(ast::OAuthKey::ClientId).and_then(|e| self.plain(&e.value, "a client id"));
        let client_secret =
            get(ast::OAuthKey::ClientSecret).and_then(|e| self.secret(&e.value, "a client secret"));
        let grant = match grant {
            ast::GrantWord::ClientCredentials => {
                let scope = match get(ast::OAuthKey::Scope).map(|e| &e.value) {
                    Some(ast::Setting::Literal(v)) => Some(v.value.clone()),
                    Some(other) => {
                        let d = self
                            .e(
                                Code::E0252,
                                other.span(),
                                "the scope is written as a string",
                            )
                            .label("write the scopes here");
                        self.push(d);
                        ok = false;
                        None
                    }
                    None => None,
                };
                GrantSpec::ClientCredentials { scope }
            }
            ast::GrantWord::RefreshToken => {
                let e = get(ast::OAuthKey::RefreshToken)?;
                GrantSpec::RefreshToken {
                    token: self.secret(&e.value, "a refresh token")?,
                    rotating: e.rotating.is_some(),
                }
            }
        };
        if !ok {
            return None;
        }
        Some(AuthSpec::OAuth2 {
            token_url: token_url?,
            client_id: client_id?,
            client_secret: client_secret?,
            grant,
        })
    }

    // -------------------------------------------------------- limits

    fn count(&mut self, c: &ast::Count, what: &str) -> Option<u64> {
        match c.value {
            Some(v) => Some(v),
            None => {
                let d = self
                    .e(Code::E0249, c.span, format!("{what} is too large"))
                    .label("too large");
                self.push(d);
                None
            }
        }
    }

    fn positive(&mut self, c: &ast::Count, what: &str) -> Option<NonZeroU32> {
        let v = self.count(c, what)?;
        match u32::try_from(v).ok().and_then(NonZeroU32::new) {
            Some(n) => Some(n),
            None => {
                let d = self
                    .e(
                        Code::E0249,
                        c.span,
                        if v == 0 {
                            format!("{what} cannot be 0")
                        } else {
                            format!("{what} is too large")
                        },
                    )
                    .label("invalid limit");
                self.push(d);
                None
            }
        }
    }

    fn duration(&mut self, d: &ast::DurationLit, what: &str) -> Option<Duration> {
        match d.value {
            Some(v) if !v.is_zero() => Some(v),
            Some(_) => {
                let d = self
                    .e(Code::E0249, d.span, format!("{what} cannot be 0"))
                    .label("invalid limit");
                self.push(d);
                None
            }
            None => {
                let d = self
                    .e(Code::E0249, d.span, format!("{what} is too long"))
                    .label("invalid limit");
                self.push(d);
                None
            }
        }
    }

    fn range(
        &mut self,
        (a, b): &(ast::DurationLit, ast::DurationLit),
        what: &str,
    ) -> Option<(Duration, Duration)> {
        let lo = self.duration(a, what);
        let hi = self.duration(b, what);
        let (lo, hi) = (lo?, hi?);
        if lo > hi {
            let d = self
                .e(
                    Code::E0249,
                    a.span.to(b.span),
                    format!("{what}: the shortest is longer than the longest"),
                )
                .label("MIN..MAX with MIN above MAX")
                .help("write the shorter duration first");
            self.push(d);
            return None;
        }
        Some((lo, hi))
    }

    fn limits(&mut self, entries: &[ast::LimitEntry], out: &mut Limits) {
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        for e in entries {
            let word = match e {
                ast::LimitEntry::Budget { .. } => "budget",
                ast::LimitEntry::Timeout { .. } => "timeout",
                ast::LimitEntry::Retry { .. } => "retry",
                ast::LimitEntry::Breaker { .. } => "breaker",
            };
            // Budgets add up (every one applies); the rest are said once.
            if word != "budget" {
                if let Some(first) = seen.get(word) {
                    self.twice(word, e.span(), *first);
                    continue;
                }
                seen.insert(word, e.span());
            }
            match e {
                ast::LimitEntry::Budget { requests, per, .. } => {
                    let n = self.positive(requests, "a budget's request count");
                    let per = self.duration(per, "a budget's window");
                    if let (Some(requests), Some(per)) = (n, per) {
                        out.budgets.push(Budget { requests, per });
                    }
                }
                ast::LimitEntry::Timeout { parts, .. } => {
                    for (kind, d) in parts {
                        if let Some(v) = self.duration(d, "a timeout") {
                            match kind {
                                ast::TimeoutKind::Connect => out.connect_timeout = v,
                                ast::TimeoutKind::Request => out.request_timeout = v,
                            }
                        }
                    }
                }
                ast::LimitEntry::Retry { max, backoff, .. } => {
                    if let Some(n) = self.positive(max, "the number of attempts") {
                        out.max_attempts = n;
                    }
                    if let Some(r) = backoff
                        && let Some((lo, hi)) = self.range(r, "the backoff")
                    {
                        out.backoff_min = lo;
                        out.backoff_max = hi;
                    }
                }
                ast::LimitEntry::Breaker { after, open, .. } => {
                    let n = self.positive(after, "the failures that open the breaker");
                    let r = open
                        .as_ref()
                        .and_then(|r| self.range(r, "the breaker's cooldown"));
                    if let Some(after) = n {
                        let (open_min, open_max) =
                            r.unwrap_or((out.breaker.open_min, out.breaker.open_max));
                        out.breaker = BreakerSpec {
                            after,
                            open_min,
                            open_max,
                        };
                    }
                }
            }
        }
    }

    // -------------------------------------------------------- statuses

    fn status_code(&mut self, c: &ast::Count) -> Option<u16> {
        match c.value.and_then(|v| u16::try_from(v).ok()) {
            Some(v @ 100..=599) => Some(v),
            _ => {
                let d = self
                    .e(Code::E0248, c.span, "an HTTP status is between 100 and 599")
                    .label("not a status");
                self.push(d);
                None
            }
        }
    }

    fn status(&mut self, entries: &[ast::StatusEntry]) -> (StatusClasses, Vec<Vec<String>>) {
        let mut declared: BTreeMap<u16, StatusClass> = BTreeMap::new();
        let mut where_: HashMap<u16, (Span, ast::StatusWord)> = HashMap::new();
        let mut message_at = Vec::new();
        for e in entries {
            let class = match e.class {
                ast::StatusWord::Retry => StatusClass::Retry,
                ast::StatusWord::Refuse => StatusClass::Refuse,
                ast::StatusWord::Stop => StatusClass::Stop,
            };
            for c in &e.codes {
                let Some(code) = self.status_code(c) else {
                    continue;
                };
                if let Some((first, word)) = where_.get(&code) {
                    let d = self
                        .e(
                            Code::E0248,
                            c.span,
                            format!("status {code} is in two classes"),
                        )
                        .label(format!("in `{}` here", e.class.word()))
                        .secondary(self.file, *first, format!("and in `{}` here", word.word()))
                        .help("a status has one meaning: keep it in one class");
                    self.push(d);
                    continue;
                }
                if (200..=299).contains(&code) && class != StatusClass::Stop {
                    let d = self
                        .e(
                            Code::E0248,
                            c.span,
                            format!("status {code} is a success: it cannot be `{}`", e.class.word()),
                        )
                        .label("a 2xx")
                        .help("a 2xx answer is done; a body that reports an error is not told apart by status");
                    self.push(d);
                    continue;
                }
                where_.insert(code, (c.span, e.class));
                declared.insert(code, class);
            }
            if let Some(m) = &e.message_at {
                if e.class != ast::StatusWord::Refuse {
                    let d = self
                        .e(Code::E0240, m.span, "`message at` belongs to `refuse`")
                        .label(format!("on `{}`", e.class.word()));
                    self.push(d);
                } else {
                    message_at.push(response_segments(m));
                }
            }
        }
        (StatusClasses { declared }, message_at)
    }

    // -------------------------------------------------------- types and paths

    fn record_of(&mut self, r: &TypeRef) -> Option<RecordId> {
        let Some(ns) = &r.namespace else {
            let d = self
                .e(
                    Code::E0102,
                    r.span,
                    format!(
                        "`{}` needs its schema: write `SCHEMA.{}`",
                        r.name.name, r.name.name
                    ),
                )
                .label("no schema named");
            self.push(d);
            return None;
        };
        let Some(namespace) = self.reg.namespaces.get(&ns.name) else {
            let known: Vec<&str> = self.reg.namespaces.keys().map(String::as_str).collect();
            let d = self
                .e(
                    Code::E0101,
                    ns.span,
                    format!("unknown schema `{}`", ns.name),
                )
                .label("no schema of this name is declared or imported")
                .suggest(&ns.name, known);
            self.push(d);
            return None;
        };
        match namespace.types.get(&r.name.name) {
            Some(TypeId::Record(id)) => Some(*id),
            Some(TypeId::Enum(_)) => {
                let d = self
                    .e(
                        Code::E0102,
                        r.span,
                        format!(
                            "`{}.{}` is an enum; a provider serves records",
                            ns.name, r.name.name
                        ),
                    )
                    .label("expected a record type");
                self.push(d);
                None
            }
            None => {
                let names: Vec<&str> = namespace.order.iter().map(String::as_str).collect();
                let d = self
                    .e(
                        Code::E0102,
                        r.name.span,
                        format!("schema `{}` has no type `{}`", ns.name, r.name.name),
                    )
                    .label("unknown type")
                    .suggest(&r.name.name, names);
                self.push(d);
                None
            }
        }
    }

    /// The type at `segments` (with their spans) under `record`; E0103 with
    /// "did you mean" for an unknown name.
    fn type_at(&mut self, record: RecordId, segments: &[(String, Span)]) -> Option<Type> {
        let mut ty = Type::new(Kind::Record(record));
        for (name, span) in segments {
            let rec = match &ty.kind {
                Kind::Record(r) => *r,
                // Elements of an array of records: `results` then a field
                // is not a path a provider names, but `[]` is skipped.
                Kind::Any | Kind::Map(_) => return Some(Type::nullable(Kind::Any)),
                other => {
                    let shown = self.reg.display_kind(other);
                    let d = self
                        .e(
                            Code::E0103,
                            *span,
                            format!("`{shown}` has no field `{name}`"),
                        )
                        .label("no fields here");
                    self.push(d);
                    return None;
                }
            };
            let def = self.reg.record(rec);
            let Some((_, f)) = def.field(name) else {
                let record_name = def.name.clone();
                let names: Vec<&str> = def.field_names().collect();
                let mut d = self
                    .e(
                        Code::E0103,
                        *span,
                        format!("`{record_name}` has no field `{name}`"),
                    )
                    .label("unknown field")
                    .suggest(name, names.iter().copied());
                if d.help.is_none() && names.len() <= 12 {
                    d = d.note(format!("`{record_name}` has: {}", names.join(", ")));
                }
                self.push(d);
                return None;
            };
            ty = f.ty.clone();
        }
        Some(ty)
    }

    fn path_type(&mut self, record: RecordId, path: &Path) -> Option<Type> {
        let segs: Vec<(String, Span)> = path
            .segments
            .iter()
            .map(|s| (s.name.clone(), s.span))
            .collect();
        self.type_at(record, &segs)
    }

    /// A response path against the request's `returns` type: E0250 when
    /// there is none.
    fn response_type(
        &mut self,
        returns: Option<RecordId>,
        p: &ast::ResponsePath,
        clause: &str,
    ) -> Option<Type> {
        let Some(record) = returns else {
            let d = self
                .e(
                    Code::E0250,
                    p.span,
                    format!("`{clause}` names a path in the response, whose type is not declared"),
                )
                .label("no `returns` type to find this in")
                .help("declare the response: `POST \"/path\" returns SCHEMA.Type`");
            self.push(d);
            return None;
        };
        if p.first_element {
            // `[].message`: only error bodies are read so; checked by the
            // exchange at run time.
            return Some(Type::nullable(Kind::Any));
        }
        match &p.path {
            Some(path) => self.path_type(record, path),
            None => Some(Type::new(Kind::Record(record))),
        }
    }

    fn returns(&mut self, r: &ast::RequestLine) -> Result<Option<RecordId>, ()> {
        match &r.returns {
            Some(t) => self.record_of(t).map(Some).ok_or(()),
            None => Ok(None),
        }
    }

    // -------------------------------------------------------- resources

    fn resource(&mut self, r: &ast::ResourceDecl) -> Option<ResourceSpec> {
        let record = self.record_of(&r.record);
        let record_id = record?;
        let mut read: Option<(Option<ReadSpec>, Span)> = None;
        let mut writes = WriteSpec::default();
        let mut write_spans: HashMap<&'static str, Span> = HashMap::new();
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
        })
    }

    fn method(m: ast::HttpMethod) -> Method {
        match m {
            ast::HttpMethod::Get => Method::Get,
            ast::HttpMethod::Post => Method::Post,
            ast::HttpMethod::Put => Method::Put,
            ast::HttpMethod::Patch => Method::Patch,
            ast::HttpMethod::Delete => Method::Delete,
        }
    }

    /// A path or query/header text template; its `{…}` names checked for
    /// the scope.
    fn text(&mut self, s: &StringLit, scope: Scope, record: RecordId) -> Option<TextTemplate> {
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
    fn var_fits(&mut self, v: &Var, scope: Scope, record: RecordId, span: Span) -> bool {
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

    fn members(
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

    fn template(
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

    fn read(&mut self, rd: &ast::ReadDecl, record: RecordId) -> Option<ReadSpec> {
        let returns = self.returns(&rd.request).ok()?;
        let path = self.text(&rd.request.path, Scope::Read, record);
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
            if let Some(first) = seen.get(e.word()) {
                self.twice(e.word(), e.span(), *first);
                ok = false;
                continue;
            }
            seen.insert(e.word(), e.span());
            match e {
                ast::ReadEntry::Query(m, _) => match self.members(m, Scope::Read, record, false) {
                    Some(q) => query = q,
                    None => ok = false,
                },
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

    fn cursor(
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
            Kind::DateTime | Kind::AnyDateTime | Kind::String => Some(CursorKind::DateTime),
            Kind::Int => Some(CursorKind::Number),
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

    fn paging(
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
                        Some(t) if matches!(t.kind, Kind::Bool | Kind::Any) => {
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
                Some(t) if matches!(t.kind, Kind::String | Kind::Any) => Pagination::NextUrl {
                    at: response_segments(p),
                    stop_when,
                },
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

    fn page_type(&mut self, p: &ast::ResponsePath, t: &Type, want: &str) -> bool {
        let shown = self.reg.display(t);
        let d = self
            .e(Code::E0244, p.span, format!("{want}; this is `{shown}`"))
            .label(format!("`{shown}`"));
        self.push(d);
        false
    }

    fn misplaced_option(&mut self, option: &str, style: &str, span: Span) -> bool {
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

    fn write_request(
        &mut self,
        w: &ast::WriteDecl,
        record: RecordId,
    ) -> Option<(WriteRequest, Vec<String>)> {
        let scope = Scope::Write(record);
        let path = self.text(&w.request.path, scope, record);
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
            if let Some(first) = seen.get(e.word()) {
                self.twice(e.word(), e.span(), *first);
                ok = false;
                continue;
            }
            seen.insert(e.word(), e.span());
            match e {
                ast::WriteEntry::Query(m, _) => match self.members(m, scope, record, false) {
                    Some(q) => query = q,
                    None => ok = false,
                },
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

    fn only_create(&mut self, w: &ast::WriteDecl) -> bool {
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

    fn change(&mut self, w: &ast::WriteDecl, record: RecordId) -> Option<ChangeSpec> {
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

    fn create(&mut self, w: &ast::WriteDecl, record: RecordId) -> Option<CreateSpec> {
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

    fn lookup(
        &mut self,
        line: &ast::RequestLine,
        id_at: Option<&ast::ResponsePath>,
        span: Span,
        record: RecordId,
        written: &[String],
    ) -> Option<LookupSpec> {
        let returns = self.returns(line).ok()?;
        let path = self.text(&line.path, Scope::Write(record), record)?;
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

/// The segments a response path stands for: `[].message` is element 0's
/// `message`.
fn response_segments(p: &ast::ResponsePath) -> Vec<String> {
    let mut out = Vec::new();
    if p.first_element {
        out.push("0".to_string());
    }
    if let Some(path) = &p.path {
        out.extend(path.segments.iter().map(|s| s.name.clone()));
    }
    out
}

fn token_kind(k: &Kind) -> bool {
    matches!(k, Kind::String | Kind::Int | Kind::Any)
}

fn scalar(k: &Kind) -> bool {
    !matches!(k, Kind::Record(_) | Kind::Array(_) | Kind::Map(_))
}

/// A header whose value is a credential by its name.
fn secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization" || n == "cookie" || n.ends_with("-key") || n.ends_with("-token")
}

/// The record fields a write body sends, as dotted paths; `*`: all.
fn written_fields(body: &WriteBody) -> Vec<String> {
    match body {
        // Omitted fields are not sent, but the path names them on purpose
        // (an upsert's external key): a lookup by one is still fine.
        WriteBody::Record { .. } => vec!["*".to_string()],
        WriteBody::Empty => Vec::new(),
        WriteBody::Wrapped(t) => t
            .vars()
            .into_iter()
            .filter_map(|v| match v {
                Var::Record => Some("*".to_string()),
                Var::Field(f) => Some(f.join(".")),
                _ => None,
            })
            .collect(),
    }
}

/// What a provider must do for the mappings of `items` whose side types
/// its resources serve: write what the mapping sends to that side (E0253:
/// a create and an update, and a delete under `on delete propagate` or
/// `review`), addressing an update or a delete only by the fields every
/// such operation carries, the side's `key` and `ids` paths (E0246).
/// Reported on the side's type in the mapping's header.
pub fn check_mapping_sides(
    file: FileId,
    items: &[Item],
    program: &crate::check::Program,
    providers: &[ProviderSpec],
    diags: &mut Vec<Diagnostic>,
) {
    use crate::syntax::{DeletePolicy, Direction};
    for item in items {
        let Item::Mapping(decl) = item else { continue };
        let Some(m) = program.mappings.iter().find(|m| m.name == decl.name.name) else {
            continue;
        };
        // The left side is written by the reverse direction, the right by
        // the forward one.
        let sides = [
            (Direction::Reverse, &decl.left, m.left, 0),
            (Direction::Forward, &decl.right, m.right, 1),
        ];
        for (dir, type_ref, record, at) in sides {
            let written = m.directions.contains(&dir);
            let type_name = &program.registry.record(record).name;
            let pick = |pair: &Option<(crate::check::FieldPath, crate::check::FieldPath)>| {
                pair.as_ref()
                    .map(|(l, r)| if at == 0 { l.0.clone() } else { r.0.clone() })
            };
            let (key, ids) = (pick(&m.key), pick(&m.ids));
            if let Some(key) = &key {
                born_here(
                    file,
                    type_ref.span,
                    m,
                    record,
                    key,
                    ids.is_some(),
                    written,
                    program,
                    providers,
                    diags,
                );
            }
            if !written {
                continue;
            }
            for p in providers {
                for r in p.resources.iter().filter(|r| &r.record_type == type_name) {
                    let mut missing = Vec::new();
                    if r.writes.create.is_none() {
                        missing.push("create");
                    }
                    if r.writes.update.is_none() {
                        missing.push("update");
                    }
                    let deletes = matches!(
                        m.on_delete,
                        Some(DeletePolicy::Propagate | DeletePolicy::Review)
                    );
                    if deletes && r.writes.delete.is_none() {
                        missing.push("delete");
                    }
                    if !missing.is_empty() {
                        let list = missing
                            .iter()
                            .map(|w| format!("`{w}`"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        diags.push(
                            Diagnostic::error(
                                Code::E0253,
                                file,
                                type_ref.span,
                                format!(
                                    "mapping `{}` writes `{type_name}`, and resource `{}` of provider `{}` declares no {list}",
                                    m.name, r.name, p.name
                                ),
                            )
                            .label("written by this mapping")
                            .help(format!(
                                "declare the missing request{} in resource `{}`{}",
                                if missing.len() > 1 { "s" } else { "" },
                                r.name,
                                if m.directions.len() > 1 {
                                    ", or make the mapping one-way if this side is only read"
                                } else {
                                    ""
                                }
                            )),
                        );
                    }
                    let changes = [("update", &r.writes.update), ("delete", &r.writes.delete)];
                    for (word, change) in changes {
                        let Some(change) = change else { continue };
                        for v in change.request.path.vars() {
                            let Var::Field(f) = v else { continue };
                            if Some(f) == key.as_ref() || Some(f) == ids.as_ref() {
                                continue;
                            }
                            let carried = [("key", &key), ("ids", &ids)]
                                .iter()
                                .filter_map(|(w, p)| {
                                    p.as_ref().map(|p| format!("`{}` ({w})", p.join(".")))
                                })
                                .collect::<Vec<_>>();
                            diags.push(
                                Diagnostic::error(
                                    Code::E0246,
                                    file,
                                    type_ref.span,
                                    format!(
                                        "provider `{}` addresses an {word} of `{type_name}` by `{{{}}}`, which mapping `{}` does not give every {word}",
                                        p.name,
                                        f.join("."),
                                        m.name
                                    ),
                                )
                                .label("this side")
                                .note(if carried.is_empty() {
                                    "the mapping names no `key` or `ids` path on this side".to_string()
                                } else {
                                    format!("an {word} carries this side's {}", carried.join(" and "))
                                })
                                .help(format!(
                                    "address the {word} by the side's key or id, or name that field in the mapping's `ids`"
                                )),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// E0251: records read from a provider's resource may lack the mapping's
/// key there (an optional field: a record made in that system by hand),
/// and tether could not give them one: the key field is read-only, the
/// mapping never writes the side, the resource has no `update`, or the
/// mapping has no `ids` to address the record by until it has a key.
#[allow(clippy::too_many_arguments)]
fn born_here(
    file: FileId,
    span: Span,
    m: &crate::check::Mapping,
    record: RecordId,
    key: &[String],
    has_ids: bool,
    written: bool,
    program: &crate::check::Program,
    providers: &[ProviderSpec],
    diags: &mut Vec<Diagnostic>,
) {
    let reg = &program.registry;
    if reg.read_presence(record, key) == crate::schema::ReadPresence::Declared {
        return;
    }
    let type_name = &reg.record(record).name;
    let read_only = {
        let mut rec = Some(record);
        let mut any = false;
        for name in key {
            let Some((_, f)) = rec.and_then(|r| reg.record(r).field(name)) else {
                break;
            };
            any |= f.access == crate::schema::Access::ReadOnly;
            rec = match &f.ty.kind {
                Kind::Record(r) => Some(*r),
                _ => None,
            };
        }
        any
    };
    for p in providers {
        for r in p
            .resources
            .iter()
            .filter(|r| &r.record_type == type_name && r.read.is_some())
        {
            let mut why = Vec::new();
            if read_only {
                why.push("the key is read-only there".to_string());
            }
            if !written {
                why.push(format!("mapping `{}` never writes this side", m.name));
            } else if r.writes.update.is_none() {
                why.push(format!("resource `{}` has no `update`", r.name));
            }
            if !has_ids {
                why.push("the mapping has no `ids` to address such a record by".to_string());
            }
            if why.is_empty() {
                continue;
            }
            diags.push(
                Diagnostic::error(
                    Code::E0251,
                    file,
                    span,
                    format!(
                        "records read from provider `{}` may lack the key `{}`, and tether could not give them one",
                        p.name,
                        key.join(".")
                    ),
                )
                .label(format!("`{type_name}` records born here"))
                .note(why.join("; "))
                .help("make the key a field every record has (the provider's own id), or let the mapping write the key back: a writable key field, an `update`, and `ids`"),
            );
        }
    }
}
