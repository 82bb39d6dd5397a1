//! `tether sync`'s webhook sides: `--left webhook:PRESET` (or `--right`)
//! makes that side the inbox of a webhook receiver instead of a folder
//! (docs/design/12-webhooks.md, "The receiver"; docs/cli.md).
//!
//! `webhook:PRESET+provider:NAME[.resource]` pairs the inbox with a REST
//! resource of the mapping's providers: a refetch preset's notices are
//! read again by the resource's `fetch`, and with `+poll` the resource's
//! `read` runs beside the inbox as a safety net (`sync::refetch`).
//!
//! Everything a sync could get wrong is refused before anything starts
//! (exit 2): an unknown preset, a refetch preset without a resource that
//! declares a `fetch`, `+poll` without a read that says where a record's
//! id is, a mapping that would write to the webhook side, a secret that is
//! not set.

use super::EXIT_USAGE;
use super::provider_side::SideConn;
use crate::base::Side;
use crate::http::SystemClock;
use crate::plan::MappingPlans;
use crate::provider::spec::{ResourceSpec, WebhookRecord, WebhookSpec};
use crate::sync::filedrop::FileDrop;
use crate::sync::provider::{Items, Provider, ProviderError, Sent};
use crate::sync::receiver::{Endpoint, Limits, Receiver};
use crate::sync::refetch::{PairedProvider, Pairing};
use crate::sync::rest::RestProvider;
use crate::sync::store::{Checkpoint, OpenBreaker, OpenMode, Operation, SqliteStore};
use crate::sync::webhook::WebhookProvider;
use crate::webhook::payload::{self, Action, Match, Op, OpSpec, PayloadSpec, RecordAt, Source};
use crate::webhook::{Preset, PresetConfig};
use clap::Args;
use std::net::SocketAddr;
use std::path::Path;

/// What names a webhook side.
const PREFIX: &str = "webhook:";

#[derive(Args)]
pub struct WebhookArgs {
    /// Where the receiver of a `webhook:` side listens with `--watch`:
    /// loopback unless told otherwise; TLS belongs to a reverse proxy in
    /// front (docs/cli.md).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The largest webhook body accepted, in bytes (413 above).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    webhook_max_body: usize,
    /// Webhook notices waiting for a pass at which the receiver answers
    /// 429 with `Retry-After`.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    webhook_max_pending: u64,
    /// The scheme and host providers call when a reverse proxy is in front
    /// (`https://hooks.example.com`); HubSpot v3 signs the URL it called,
    /// so its deliveries verify only against this. Also read from
    /// `TETHER_WEBHOOK_PUBLIC_URL`. Default: `http://` and `--listen`.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

/// What `--public-url` (or its variable) may be: an absolute `http(s)://`
/// origin with an optional path prefix, no query or fragment. `Ok`: it
/// without a trailing `/`.
fn public_url(given: &str) -> Result<String, String> {
    let rest = given
        .strip_prefix("https://")
        .or_else(|| given.strip_prefix("http://"))
        .ok_or("it is not an `https://` (or `http://`) URL")?;
    if rest.split('/').next().is_none_or(str::is_empty) {
        return Err("it names no host".into());
    }
    if given.contains(['?', '#']) || given.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it holds a query, a fragment or white space".into());
    }
    Ok(given.trim_end_matches('/').to_string())
}

/// The variable `--public-url` falls back to.
pub const PUBLIC_URL_VAR: &str = "TETHER_WEBHOOK_PUBLIC_URL";

/// A webhook side, checked, and the REST resource paired with it.
pub struct WebhookSide {
    pub endpoint: Endpoint,
    pub paired: Option<(RestProvider<SystemClock>, Pairing)>,
}

/// A side as given, checked, before the store is opened.
pub enum SideArg {
    /// A folder or a REST provider, ready.
    Conn(SideConn),
    Webhook(Box<WebhookSide>),
}

impl SideArg {
    pub fn folder_mut(&mut self) -> Option<&mut FileDrop> {
        match self {
            SideArg::Conn(c) => c.files(),
            SideArg::Webhook(_) => None,
        }
    }
}

/// A REST resource by provider and resource name, for a side, with its
/// declaration: what `+provider:NAME[.resource]` pairs a webhook with.
pub type OpenResource<'a> = dyn Fn(
        &str,
        Option<&str>,
        Side,
    ) -> Result<(RestProvider<SystemClock>, ResourceSpec, Vec<WebhookSpec>), u8>
    + 'a;

/// The two sides: a webhook side checked against the mapping (its paired
/// resource opened by `open_resource`); the others opened by `open_pair`
/// (both; it refuses one folder for both) or `open_one` (the side beside
/// a webhook).
pub fn sides(
    left: &Path,
    right: &Path,
    plans: &MappingPlans,
    open_pair: impl FnOnce(&Path, &Path) -> Result<(SideConn, SideConn), u8>,
    open_one: impl FnOnce(&Path, Side) -> Result<SideConn, u8>,
    open_resource: &OpenResource<'_>,
) -> Result<(SideArg, SideArg), u8> {
    let l = webhook_of(left, Side::Left, plans, open_resource)?;
    let r = webhook_of(right, Side::Right, plans, open_resource)?;
    match (l, r) {
        (None, None) => open_pair(left, right).map(|(l, r)| (SideArg::Conn(l), SideArg::Conn(r))),
        (Some(l), None) => Ok((
            SideArg::Webhook(l),
            SideArg::Conn(open_one(right, Side::Right)?),
        )),
        (None, Some(r)) => Ok((
            SideArg::Conn(open_one(left, Side::Left)?),
            SideArg::Webhook(r),
        )),
        (Some(_), Some(_)) => {
            eprintln!(
                "error: both sides are webhooks: nothing could be written; one side must be a folder"
            );
            Err(EXIT_USAGE)
        }
    }
}

/// The endpoint a `webhook:PRESET[+provider:NAME[.resource]][+poll]`
/// side names, or `None` for a folder.
fn webhook_of(
    arg: &Path,
    side: Side,
    plans: &MappingPlans,
    open_resource: &OpenResource<'_>,
) -> Result<Option<Box<WebhookSide>>, u8> {
    let Some(given) = arg.to_str().and_then(|a| a.strip_prefix(PREFIX)) else {
        return Ok(None);
    };
    let fail = |message: String| {
        eprintln!("error: --{side} {PREFIX}{given}: {message}");
        Err(EXIT_USAGE)
    };
    let mut parts = given.split('+');
    let name = parts.next().unwrap_or("");
    let (mut provider, mut poll) = (None, false);
    for part in parts {
        match (part, part.strip_prefix("provider:")) {
            ("poll", _) => poll = true,
            (_, Some(p)) if provider.is_none() && !p.is_empty() => provider = Some(p),
            _ => {
                return fail(format!(
                    "`+{part}` is not `+provider:NAME[.resource]` (once) or `+poll`"
                ));
            }
        }
    }
    let Some(preset) = Preset::from_name(name) else {
        let known: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
        return fail(format!(
            "no such webhook preset (known: {})",
            known.join(", ")
        ));
    };
    // The direction that would write to this side.
    let writes = match side {
        Side::Left => plans.reverse.is_some(),
        Side::Right => plans.forward.is_some(),
    };
    if writes {
        return fail(format!(
            "mapping `{}` writes to its {side} side, and a webhook side only sends events; \
             use a one-way mapping from the webhook's records",
            plans.name
        ));
    }
    let mut payload = preset.payload();
    let refetch = matches!(payload.record, RecordAt::Refetch { .. });
    let paired = match provider {
        None if poll => {
            return fail("`+poll` polls a resource: name it with `+provider:NAME.resource`".into());
        }
        None if refetch => {
            return fail(format!(
                "{}'s notices do not carry a signed record: it must be read again over the \
                 provider's API (refetch); pair the side with a resource that declares a \
                 `fetch`: `{PREFIX}{name}+provider:NAME.resource`",
                preset.name()
            ));
        }
        None => None,
        Some(p) => {
            let (provider, resource) = match p.split_once('.') {
                Some((n, r)) => (n, Some(r)),
                None => (p, None),
            };
            let (rest, res, webhooks) = open_resource(provider, resource, side)?;
            // The provider's `webhook` clause for this preset, if any,
            // says where the notices hold their parts.
            let declared = webhooks.iter().find(|w| w.preset == preset.name());
            if let Some(w) = declared {
                if let WebhookRecord::At { record_type, .. } = &w.record
                    && *record_type != res.record_type
                {
                    return fail(format!(
                        "`{provider}`'s webhook `{}` carries `{record_type}`, and this side \
                         is `{}`",
                        preset.name(),
                        res.record_type
                    ));
                }
                payload = declared_payload(&payload, w);
            }
            let refetch = matches!(payload.record, RecordAt::Refetch { .. });
            if refetch && res.fetch.is_none() {
                return fail(format!(
                    "{}'s notices name a record to read again, and resource `{}` of `{provider}` \
                     declares no `fetch` (`fetch GET \"/path/{{id}}\"`)",
                    preset.name(),
                    res.name
                ));
            }
            if !refetch && !poll && declared.is_none() {
                return fail(format!(
                    "{}'s notices carry their record: a paired resource is read only with \
                     `+poll` (or when `{provider}` declares `webhook \"{}\"`)",
                    preset.name(),
                    preset.name()
                ));
            }
            let id_declared = res.read.as_ref().is_some_and(|r| r.id.is_some());
            if poll && !id_declared {
                return fail(format!(
                    "`+poll` reads resource `{}` of `{provider}` beside the webhook, and a change \
                     both see is one event only by the record's id: its `read` must declare \
                     `id at PATH`",
                    res.name
                ));
            }
            let mut pairing = Pairing::of(provider, &res, poll);
            if !refetch {
                pairing.fetch = None;
            }
            Some((rest, pairing))
        }
    };
    let var = secret_var(preset);
    // Salesforce signs nothing: an outbound message is known by its
    // organisation id (and mTLS or an allow-list at the proxy).
    let secrets = if preset == Preset::SalesforceOutbound {
        Vec::new()
    } else {
        let secrets = match crate::http::secret::SecretRef::new(&var).resolve() {
            Ok(s) => s,
            Err(e) => return fail(e.to_string()),
        };
        // Several secrets, newest first, during a rotation.
        secrets
            .expose()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(crate::http::secret::Secret::new)
            .collect()
    };
    let setting = |what: &str| {
        let name = setting_var(preset, what);
        let value = std::env::var(&name).ok().filter(|v| !v.trim().is_empty());
        (name, value)
    };
    let (header_var, header) = setting("HEADER");
    let (orgs_var, organisations) = setting("ORGANISATIONS");
    let config = PresetConfig {
        secrets,
        header,
        organisations: organisations
            .map(|o| {
                o.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        ..PresetConfig::default()
    };
    let var = match preset {
        Preset::Tabby | Preset::NGenius => format!("{var} and {header_var}"),
        Preset::SalesforceOutbound => orgs_var,
        _ => var,
    };
    match preset.verifier(&config) {
        Ok(verifier) => Ok(Some(Box::new(WebhookSide {
            endpoint: Endpoint {
                preset,
                verifier,
                payload,
            },
            paired,
        }))),
        Err(e) => fail(format!("{e} (from {var})")),
    }
}

/// The preset's payload with a provider's `webhook` clause in place of
/// its paths: the body's format (and so the verifier's view of it) stays
/// the preset's.
fn declared_payload(preset: &PayloadSpec, w: &WebhookSpec) -> PayloadSpec {
    let path = |p: &[String]| payload::Path::parse(&p.join("."));
    let body = |p: &[String]| Source::Body(path(p));
    PayloadSpec {
        format: preset.format,
        each: w.each.as_deref().map(path),
        event_id: w.event.iter().map(|p| body(p)).collect(),
        record: match &w.record {
            WebhookRecord::At { path: p, .. } => RecordAt::Body(path(p)),
            WebhookRecord::Fetch(p) => RecordAt::Refetch { id: body(p) },
        },
        op: match &w.delete {
            Some(d) => OpSpec {
                rules: vec![(
                    body(&d.path),
                    if d.suffix {
                        Match::Suffix(d.value.clone())
                    } else {
                        Match::Exact(d.value.clone())
                    },
                    Action::Event(Op::Delete),
                )],
                otherwise: Action::Event(Op::Upsert),
            },
            None => OpSpec::always(Op::Upsert),
        },
        version: w.version.as_deref().map(body),
    }
}

/// `TETHER_WEBHOOK_STRIPE_SECRET`, `TETHER_WEBHOOK_STANDARD_WEBHOOKS_SECRET`.
pub fn secret_var(preset: Preset) -> String {
    setting_var(preset, "SECRET")
}

/// The variable of one of a preset's settings: `SECRET`; `HEADER` (the
/// header Tabby and N-Genius carry their static secret in, chosen when the
/// webhook is registered); `ORGANISATIONS` (Salesforce's organisation
/// ids, comma-separated).
pub fn setting_var(preset: Preset, what: &str) -> String {
    format!(
        "TETHER_WEBHOOK_{}_{what}",
        preset.name().to_ascii_uppercase().replace('-', "_")
    )
}

/// A side of a running sync.
pub enum SideProvider {
    /// A folder or a REST provider.
    Conn(SideConn),
    Webhook(WebhookProvider),
    /// A webhook inbox paired with a REST resource.
    Paired(Box<PairedProvider<SystemClock>>),
}

impl SideProvider {
    /// The folder side's connector, for its notes.
    pub fn files(&mut self) -> Option<&mut FileDrop> {
        match self {
            SideProvider::Conn(c) => c.files(),
            SideProvider::Webhook(_) | SideProvider::Paired(_) => None,
        }
    }

    fn inner(&mut self) -> &mut dyn Provider {
        match self {
            SideProvider::Conn(c) => c.provider(),
            SideProvider::Webhook(w) => w,
            SideProvider::Paired(p) => p.as_mut(),
        }
    }

    fn inner_ref(&self) -> &dyn Provider {
        match self {
            SideProvider::Conn(c) => c.provider_ref(),
            SideProvider::Webhook(w) => w,
            SideProvider::Paired(p) => p.as_ref(),
        }
    }
}

impl Provider for SideProvider {
    fn resume(&mut self, from: Option<Checkpoint>) {
        self.inner().resume(from);
    }
    fn health_key(&self) -> Option<String> {
        self.inner_ref().health_key()
    }
    fn restore_breaker(&mut self, open: OpenBreaker) {
        self.inner().restore_breaker(open);
    }
    fn open_breaker(&self) -> Option<OpenBreaker> {
        self.inner_ref().open_breaker()
    }
    fn requests(&self) -> Option<(String, crate::http::exchange::Stats)> {
        self.inner_ref().requests()
    }
    fn linking(&self) -> crate::sync::provider::Linking {
        self.inner_ref().linking()
    }
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        self.inner().pending()
    }
    fn open(&mut self, delivery: &str) -> Result<Items<'_>, ProviderError> {
        self.inner().open(delivery)
    }
    fn ack(&mut self, delivery: &str) -> Result<(), ProviderError> {
        self.inner().ack(delivery)
    }
    fn send(&mut self, batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        self.inner().send(batch, ops)
    }
}

/// Opens the webhook sides' inboxes (a store connection each) and, when
/// `serve` (`--watch`), starts the receiver on another. Without it the
/// pass reads what an earlier receiver stored.
pub fn start(
    sides: [SideArg; 2],
    state: &Path,
    args: &WebhookArgs,
    serve: bool,
    retention_days: u32,
) -> Result<([SideProvider; 2], Option<Receiver>), u8> {
    let open = || {
        SqliteStore::open(state, OpenMode::Existing).map_err(|e| {
            eprintln!("error: state store {}: {e}", state.display());
            EXIT_USAGE
        })
    };
    let mut endpoints = Vec::new();
    let mut opened = Vec::with_capacity(2);
    for side in sides {
        opened.push(match side {
            SideArg::Conn(c) => SideProvider::Conn(c),
            SideArg::Webhook(w) => {
                let WebhookSide { endpoint, paired } = *w;
                let mut p = WebhookProvider::new(endpoint.name(), open()?);
                p.retention_days = retention_days;
                endpoints.push(endpoint);
                match paired {
                    Some((rest, pairing)) => {
                        SideProvider::Paired(Box::new(PairedProvider::new(p, rest, pairing)))
                    }
                    None => SideProvider::Webhook(p),
                }
            }
        });
    }
    let receiver = if serve && !endpoints.is_empty() {
        let paths: Vec<String> = endpoints.iter().map(Endpoint::path).collect();
        let limits = Limits {
            max_body: args.webhook_max_body,
            max_pending: args.webhook_max_pending,
            ..Limits::default()
        };
        let public = match args.public_url.clone().or_else(|| {
            std::env::var(PUBLIC_URL_VAR)
                .ok()
                .filter(|v| !v.trim().is_empty())
        }) {
            Some(given) => Some(public_url(&given).map_err(|why| {
                eprintln!("error: --public-url (or {PUBLIC_URL_VAR}): {why}");
                EXIT_USAGE
            })?),
            None => None,
        };
        let r = Receiver::start_public(args.listen, public.clone(), endpoints, open()?, limits)
            .map_err(|e| {
                eprintln!("error: cannot listen on {}: {e}", args.listen);
                EXIT_USAGE
            })?;
        for path in paths {
            eprintln!("tether: receiving webhooks at http://{}{path}", r.addr());
            if let Some(public) = &public {
                eprintln!("tether: providers call {public}{path}");
            }
        }
        Some(r)
    } else {
        None
    };
    let [left, right]: [SideProvider; 2] = match opened.try_into() {
        Ok(two) => two,
        Err(_) => return Err(EXIT_USAGE),
    };
    Ok(([left, right], receiver))
}
