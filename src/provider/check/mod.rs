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
    CursorSpec, EnvOr, FetchSpec, GrantSpec, Limits, LookupSpec, ProviderSpec, ReadSpec,
    RequestTemplate, ResourceSpec, WebhookSpec, WriteBody, WriteRequest, WriteSpec, check_base_url,
};
use super::template::{BodyTemplate, TextTemplate, Var};
use crate::base::Scalar;
use crate::base::Span;
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
use crate::syntax::{Item, Path, StringLit, TypeRef};
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::time::Duration;

mod account;
mod fetch;
mod limits;
mod paths;
mod read;
mod resource;
mod sides;
mod template;
mod webhook;
mod write;

pub use sides::check_mapping_sides;

/// The longest look-back: events are deduplicated for 7 days, so a read
/// reaching further back could bring a version whose identity was
/// forgotten and apply it twice.
const MAX_LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);

/// Pages a read follows at most unless it says (`max_pages N`): 10,000
/// pages of 100 records are a million records; an API that keeps saying
/// "more" beyond that is stopped, and a larger read says so.
const DEFAULT_MAX_PAGES: u32 = 10_000;

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
    /// A `fetch`: the one variable is `{id}`, the id a notice names.
    Fetch,
}

impl Cx<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn e(&self, code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(code, self.file, span, message)
    }

    /// Whether the clause `word` at `span` is the first of its kind in
    /// `seen`; a second one is reported (E0240) and is not checked.
    fn first_of_its_kind(
        &mut self,
        seen: &mut HashMap<&'static str, Span>,
        word: &'static str,
        span: Span,
    ) -> bool {
        if let Some(first) = seen.get(word) {
            self.twice(word, span, *first);
            return false;
        }
        seen.insert(word, span);
        true
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
        let mut webhooks: Vec<&ast::WebhookDecl> = Vec::new();
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
                // Checked once the resources are (a carried record must be
                // of a type one serves), wherever the clause stands.
                ast::ProviderClause::Webhook(w) => webhooks.push(w),
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
        let mut webhook_specs: Vec<WebhookSpec> = Vec::new();
        let mut presets: HashMap<String, Span> = HashMap::new();
        for w in webhooks {
            if let Some(first) = presets.get(&w.preset.value) {
                let d = self
                    .e(
                        Code::E0240,
                        w.preset.span,
                        format!(
                            "webhook `{}` is declared twice",
                            w.preset.value.escape_debug()
                        ),
                    )
                    .label("second")
                    .secondary(self.file, *first, "first here");
                self.push(d);
                continue;
            }
            presets.insert(w.preset.value.clone(), w.preset.span);
            if let Some(spec) = self.webhook(w, &resources) {
                webhook_specs.push(spec);
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
            webhooks: webhook_specs,
        })
    }

    // -------------------------------------------------------- settings
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
    matches!(k, Kind::Scalar(Scalar::String | Scalar::Int) | Kind::Any)
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
