//! A provider's reading and writing, as data.

use super::template::{BodyTemplate, TextTemplate};
use crate::http::client::Method;
use crate::http::page::Paging;
use std::time::Duration;

/// One request a read (or write) sends: method, path and query templates
/// relative to the provider's base, and a body template.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RequestTemplate {
    pub method: Method,
    pub path: TextTemplate,
    pub query: Vec<(String, TextTemplate)>,
    pub headers: Vec<(String, TextTemplate)>,
    pub body: Option<BodyTemplate>,
}

impl RequestTemplate {
    /// How messages name the request: `POST /crm/v3/objects/contacts/search`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path.source())
    }
}

/// How changed records are read.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReadSpec {
    pub request: RequestTemplate,
    /// Where the records are in a response body (`results`); empty: the
    /// body is the array.
    pub records: Vec<String>,
    /// The provider's own id of a record (`id`), part of a polled event's
    /// identity.
    pub id: Option<Vec<String>>,
    pub cursor: Option<CursorSpec>,
    pub page: Paging,
    /// The read endpoint's own budgets (`budget 4 per 1s` in a `read`),
    /// besides the provider's.
    #[serde(default)]
    pub budgets: Vec<crate::http::budget::Budget>,
}

/// An incremental read's cursor: a field of every record that grows with
/// each change (a last-modified time, a sequence).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CursorSpec {
    pub field: Vec<String>,
    pub kind: CursorKind,
    /// How the cursor is written into a request.
    pub format: CursorFormat,
    /// Read again from this far before the stored cursor: for providers
    /// whose indexes lag (a record changed at 10:00:00 may appear in a
    /// search only at 10:00:03, after a read at 10:00:02 moved past it).
    pub lookback: Duration,
    pub order: CursorOrder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CursorKind {
    DateTime,
    Number,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CursorFormat {
    /// RFC 3339, UTC, milliseconds (`2026-11-23T10:00:00.000Z`).
    Iso8601,
    /// Epoch milliseconds.
    Millis,
    /// Epoch seconds.
    Seconds,
    /// A date pattern of `format_datetime` (`yyyy-MM-dd'T'HH:mm:ss'Z'`, a
    /// SOQL literal), written in UTC; a pattern coarser than the value
    /// rounds down, which an inclusive read absorbs.
    Pattern(String),
}

/// Whether the API returns records sorted by the cursor. Sorted reads are
/// verified record by record and checkpointed per page; unsorted ones
/// move their checkpoint only when the whole read is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CursorOrder {
    Ascending,
    Unsorted,
}

/// How a resource's records are written: one request per operation
/// (docs/design/10-rest-providers.md, "Data types"). An operation the
/// resource declares no request for is refused by name (a dead letter
/// that says so), as is every write to a read-only resource.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WriteSpec {
    pub create: Option<CreateSpec>,
    pub update: Option<ChangeSpec>,
    pub delete: Option<ChangeSpec>,
}

/// One write request. Path templates name record fields
/// (`/contacts/{properties.ref}`), percent-encoded as one segment each, so
/// a value holding `/` or `?` cannot change the URL's shape.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WriteRequest {
    pub method: Method,
    pub path: TextTemplate,
    pub query: Vec<(String, TextTemplate)>,
    pub headers: Vec<(String, TextTemplate)>,
    pub body: WriteBody,
    /// Statuses that also mean done for this request, whatever their
    /// class (`ok 404` on a delete: already gone is done).
    pub ok_also: Vec<u16>,
}

impl WriteRequest {
    /// How messages name the request: `PATCH /contacts/{id}`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path.source())
    }
}

/// What a write sends.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteBody {
    /// The mapped record, less some fields (`body record omit
    /// HubSpot_Id__c`: a field the path already carries).
    Record { omit: Vec<Vec<String>> },
    /// A template with the record in it (`{"properties": record}`: the
    /// variable [`super::template::Var::Record`] is the whole record,
    /// `Var::Field` one of its fields).
    Wrapped(BodyTemplate),
    /// No body (a delete).
    Empty,
}

/// An update or a delete: sending the same content twice is harmless, so
/// the idempotency header is sent when the provider takes one, never
/// required.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChangeSpec {
    pub request: WriteRequest,
    /// A header carrying the operation's idempotency key.
    pub idempotency_header: Option<String>,
}

/// A create: where the new record's id is in the response, and how a
/// create that may have reached the provider already is kept from making
/// a second record. There is no variant for "unsafe": a create must say.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CreateSpec {
    pub request: WriteRequest,
    /// Where the created record's id is in the response (`id`).
    pub id_at: Option<Vec<String>>,
    pub safety: CreateSafety,
}

/// How a create is made safe to send again.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreateSafety {
    /// The operation's idempotency key in this header (Stripe's
    /// `Idempotency-Key`): the provider answers a repeat with the first
    /// answer.
    IdempotencyHeader(String),
    /// The path names the record's external key (Salesforce's `PATCH
    /// /sobjects/Contact/HubSpot_Id__c/{HubSpot_Id__c}`): a second request
    /// updates what the first created.
    Upsert,
    /// A consistent read by a field the create writes, sent first when the
    /// create's outcome is unknown (`maybe_sent`): found, the record is
    /// updated (or linked, without an `update`) instead of created again.
    Lookup(LookupSpec),
}

/// The read a [`CreateSafety::Lookup`] sends: 2xx with an id at `id_at`
/// is found; 404 is not found.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LookupSpec {
    pub request: RequestTemplate,
    pub id_at: Vec<String>,
}

/// A checked `provider` declaration: what `provider/check/` makes of the
/// syntax, ready for `tether sync` to build its sides from. Plain data:
/// secrets are the names of the variables that hold them, never values.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProviderSpec {
    pub name: String,
    pub base: EnvOr,
    pub auth: AuthSpec,
    pub limits: Limits,
    pub status: crate::http::policy::StatusClasses,
    /// Where an error body holds the provider's message (`message at`).
    pub message_at: Vec<Vec<String>>,
    pub resources: Vec<ResourceSpec>,
    /// Where webhook presets' notices hold their parts, as declared
    /// (`webhook "hubspot-v3" returns T { … }`), replacing the preset's.
    #[serde(default)]
    pub webhooks: Vec<WebhookSpec>,
}

/// The webhook presets a `webhook` clause may name, and whether each
/// signs its body (one that does not must `fetch` its records). The facts
/// of `webhook::Preset`, which sits in a layer above this one (it reads
/// XML with `exec`); a test there holds the two equal.
pub const WEBHOOK_PRESETS: &[(&str, bool)] = &[
    ("stripe", true),
    ("standard-webhooks", true),
    ("shopify", true),
    ("github", true),
    ("hubspot-v3", true),
    ("checkout-com", true),
    ("paytabs", true),
    ("telr", false),
    ("tamara", false),
    ("tabby", false),
    ("n-genius", false),
    ("salesforce-outbound", false),
];

/// Whether the preset `name` signs its body; `None`: no such preset.
pub fn preset_signs_body(name: &str) -> Option<bool> {
    WEBHOOK_PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, signs)| *signs)
}

/// A `webhook` clause, checked against the notice's type: paths into one
/// notice (member names).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WebhookSpec {
    /// The preset that verifies the deliveries (`hubspot-v3`).
    pub preset: String,
    /// A batch: the notices are the array at this path (empty: the body).
    pub each: Option<Vec<String>>,
    /// The event id's parts, joined with `:`.
    pub event: Vec<Vec<String>>,
    pub record: WebhookRecord,
    pub version: Option<Vec<String>>,
    /// A notice whose value here is (or ends with) the text is a delete.
    pub delete: Option<DeleteWhen>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookRecord {
    /// The record is in the notice at this path (empty: the notice), of
    /// this record type (qualified: `crm.Contact`).
    At {
        path: Vec<String>,
        record_type: String,
    },
    /// The notice holds the id at this path; the record is fetched.
    Fetch(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeleteWhen {
    pub path: Vec<String>,
    /// A suffix (`ends`) rather than the whole value (`is`).
    pub suffix: bool,
    pub value: String,
}

impl ProviderSpec {
    /// The resource called `name`.
    pub fn resource(&self, name: &str) -> Option<&ResourceSpec> {
        self.resources.iter().find(|r| r.name == name)
    }
}

/// A value written in the declaration, or read from the environment when
/// the sync starts (`env("HUBSPOT_BASE_URL") ?? "https://api.hubapi.com"`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvOr {
    Literal(String),
    Env {
        name: String,
        default: Option<String>,
    },
}

impl EnvOr {
    /// The value, with `env` as the environment: `Err` names the variable
    /// that is unset and has no default.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
        match self {
            EnvOr::Literal(v) => Ok(v.clone()),
            EnvOr::Env { name, default } => match (env(name), default) {
                (Some(v), _) if !v.trim().is_empty() => Ok(v),
                (_, Some(d)) => Ok(d.clone()),
                _ => Err(name.clone()),
            },
        }
    }
}

/// How requests are authenticated (docs/design/10-rest-providers.md, "The
/// parts, and their defaults").
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthSpec {
    None,
    ApiKey {
        carrier: crate::http::auth::KeyCarrier,
        name: String,
        key: crate::http::secret::SecretRef,
    },
    Basic {
        user: EnvOr,
        password: crate::http::secret::SecretRef,
    },
    Bearer(crate::http::secret::SecretRef),
    OAuth2 {
        /// Absolute, or relative to the base.
        token_url: String,
        client_id: EnvOr,
        client_secret: crate::http::secret::SecretRef,
        grant: GrantSpec,
    },
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantSpec {
    ClientCredentials {
        scope: Option<String>,
    },
    RefreshToken {
        token: crate::http::secret::SecretRef,
        /// The provider replaces the token on each use: it must come from
        /// a file (`$NAME_FILE`), where the new one is written.
        rotating: bool,
    },
}

/// Budgets, timeouts, retries and the breaker, defaults filled in.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    pub budgets: Vec<crate::http::budget::Budget>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_attempts: std::num::NonZeroU32,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub breaker: crate::http::breaker::BreakerSpec,
}

impl Default for Limits {
    /// The design's defaults: timeouts 10 s and 60 s, 5 attempts from
    /// 500 ms to 30 s apart, a breaker opening after 5 failures for 30 s to
    /// 5 min.
    fn default() -> Limits {
        let retry = crate::http::exchange::RetrySpec::default();
        let client = crate::http::client::ClientConfig::default();
        Limits {
            budgets: Vec::new(),
            connect_timeout: client.connect_timeout,
            request_timeout: client.request_timeout,
            max_attempts: retry.max_attempts,
            backoff_min: retry.backoff_min,
            backoff_max: retry.backoff_max,
            breaker: crate::http::breaker::BreakerSpec {
                after: std::num::NonZeroU32::new(5).unwrap_or(std::num::NonZeroU32::MIN),
                open_min: Duration::from_secs(30),
                open_max: Duration::from_secs(300),
            },
        }
    }
}

/// One record type a provider serves, with its read and writes.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResourceSpec {
    pub name: String,
    /// Qualified: `hubspot.Contact`.
    pub record_type: String,
    /// `None`: a write-only resource.
    pub read: Option<ReadSpec>,
    pub writes: WriteSpec,
    /// One record read by id (`fetch GET "/contacts/{id}"`), for webhooks
    /// whose notices name a record without carrying it (issue 20).
    #[serde(default)]
    pub fetch: Option<FetchSpec>,
}

/// How one record is read by the id a webhook's notice names: a GET whose
/// path or query names `{id}` (a template field the notice fills). 2xx:
/// the body is the record; 404 or 410: the record is gone.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FetchSpec {
    pub request: RequestTemplate,
}

/// Whether `url` can be a provider's base: an absolute `https://` URL
/// without a query or fragment, or `http://` to a loopback host (a fake, a
/// local proxy). `Err` says why not, in words. Checked on the declaration
/// and again on the value the environment gives when a sync starts.
pub fn check_base_url(url: &str) -> Result<(), String> {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => return Err("it is not an absolute URL (`https://host/...`)".into()),
    };
    if url.contains('?') || url.contains('#') {
        return Err("it has a query or a fragment: a base is where paths are appended".into());
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err("it carries credentials: write them in `auth`".into());
    }
    let host = match authority.strip_prefix('[') {
        // `[::1]:8080`
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        return Err("it names no host".into());
    }
    match scheme.as_str() {
        "https" => Ok(()),
        "http" => {
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host == "::1"
                || host
                    .parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(format!(
                    "`http://` to `{host}` would send credentials unencrypted: use `https://` (plain `http://` is for loopback only)"
                ))
            }
        }
        other => Err(format!("`{other}://` is not HTTP: use `https://`")),
    }
}

/// What the checker guarantees of a spec, checked again on one read from a
/// plan file (whose body hash a forger can recompute): a spec that could
/// not have come from a checked declaration is refused with why, never
/// run.
/// The longest duration a provider declaration may name (a budget's
/// window, a timeout, a backoff or breaker bound): 366 days, room for a
/// monthly or yearly quota. Longer ones are refused by `tether check`
/// (E0249) and by [`validate`] (a forged plan), so no clock arithmetic
/// downstream (ureq's deadlines, the breaker's `open until`) meets a
/// duration it cannot add.
pub const LONGEST_DECLARED: Duration = Duration::from_secs(366 * 24 * 3600);

pub fn validate(spec: &ProviderSpec) -> Result<(), String> {
    let url = |v: &str| check_base_url(v).map_err(|why| format!("base `{v}`: {why}"));
    match &spec.base {
        EnvOr::Literal(v) => url(v)?,
        EnvOr::Env {
            default: Some(v), ..
        } => url(v)?,
        EnvOr::Env { default: None, .. } => {}
    }
    if let AuthSpec::OAuth2 { token_url, .. } = &spec.auth
        && !token_url.starts_with('/')
    {
        check_base_url(token_url).map_err(|why| format!("token URL: {why}"))?;
    }
    let l = &spec.limits;
    let read_budgets = spec
        .resources
        .iter()
        .filter_map(|r| r.read.as_ref())
        .flat_map(|r| &r.budgets);
    if l.budgets
        .iter()
        .chain(read_budgets)
        .any(|b| b.per.is_zero())
    {
        return Err("a budget per 0 s".into());
    }
    let declared = l
        .budgets
        .iter()
        .chain(
            spec.resources
                .iter()
                .filter_map(|r| r.read.as_ref())
                .flat_map(|r| &r.budgets),
        )
        .map(|b| b.per)
        .chain([
            l.connect_timeout,
            l.request_timeout,
            l.backoff_min,
            l.backoff_max,
            l.breaker.open_min,
            l.breaker.open_max,
        ]);
    for d in declared {
        if d > LONGEST_DECLARED {
            return Err(format!(
                "a duration of {} s (at most 366 days)",
                d.as_secs()
            ));
        }
    }
    if l.connect_timeout.is_zero() || l.request_timeout.is_zero() {
        return Err("a timeout of 0".into());
    }
    if l.backoff_min > l.backoff_max || l.breaker.open_min > l.breaker.open_max {
        return Err("a range whose minimum is above its maximum".into());
    }
    if let Some(code) = spec
        .status
        .declared
        .keys()
        .find(|c| !(100..=599).contains(*c))
    {
        return Err(format!("status {code} is not an HTTP status"));
    }
    for r in &spec.resources {
        // What `tether check` refuses (E0240), refused in a forged plan
        // too: a path that is not a path on the base, or whose query
        // would go into a fragment.
        let lookup = match &r.writes.create {
            Some(CreateSpec {
                safety: CreateSafety::Lookup(l),
                ..
            }) => Some(&l.request.path),
            _ => None,
        };
        let paths = r
            .read
            .as_ref()
            .map(|read| &read.request.path)
            .into_iter()
            .chain(r.writes.create.as_ref().map(|c| &c.request.path))
            .chain(r.writes.update.as_ref().map(|c| &c.request.path))
            .chain(r.writes.delete.as_ref().map(|c| &c.request.path))
            .chain(r.fetch.as_ref().map(|f| &f.request.path))
            .chain(lookup);
        for path in paths {
            if !path.starts_with_slash() || path.literals().any(|t| t.contains('#')) {
                return Err(format!(
                    "resource `{}`: the path `{}` does not begin with `/` or holds `#`",
                    r.name,
                    path.source()
                ));
            }
        }
        if let Some(CursorFormat::Pattern(p)) = r
            .read
            .as_ref()
            .and_then(|read| read.cursor.as_ref())
            .map(|c| &c.format)
        {
            crate::stdlib::datefmt::Format::parse_writer(
                p,
                crate::stdlib::datefmt::Target::DateTime,
            )
            .map_err(|e| format!("resource `{}`: cursor pattern: {}", r.name, e.message))?;
        }
        let lookback = r
            .read
            .as_ref()
            .and_then(|read| read.cursor.as_ref())
            .map(|c| c.lookback);
        if let Some(f) = &r.fetch {
            // What `tether check` guarantees of a fetch (E0240), since
            // `sync::refetch` sends it as the plan says: a notice names a
            // record, and a forged `DELETE` (or a body) would make every
            // notice change the provider; a path without `{id}` (or with
            // another name) would read one record for every notice.
            use super::template::Var;
            let q = &f.request;
            let is_id = |v: &Var| matches!(v, Var::Field(p) if p.len() == 1 && p[0] == "id");
            let names_id = q
                .path
                .vars()
                .chain(q.query.iter().flat_map(|(_, t)| t.vars()))
                .any(is_id);
            let others = q
                .path
                .vars()
                .chain(q.query.iter().flat_map(|(_, t)| t.vars()))
                .chain(q.headers.iter().flat_map(|(_, t)| t.vars()))
                .any(|v| !is_id(v));
            if q.method != Method::Get || q.body.is_some() || !names_id || others {
                return Err(format!(
                    "resource `{}`: a fetch is a GET without a body that names `{{id}}` and \
                     nothing else",
                    r.name
                ));
            }
        }
        if lookback.is_some_and(|d| d >= Duration::from_secs(7 * 24 * 3600)) {
            return Err(format!(
                "resource `{}`: a look-back of 7 days or more",
                r.name
            ));
        }
    }
    for w in &spec.webhooks {
        // What `tether check` refuses: an unknown preset, and a record
        // read from the body of a preset that does not sign it.
        let Some(signs_body) = preset_signs_body(&w.preset) else {
            return Err(format!("webhook `{}`: no such preset", w.preset));
        };
        if matches!(w.record, WebhookRecord::At { .. }) && !signs_body {
            return Err(format!(
                "webhook `{}`: a record read from a body the preset does not sign",
                w.preset
            ));
        }
        if w.event.is_empty() {
            return Err(format!("webhook `{}`: no event id", w.preset));
        }
    }
    Ok(())
}
