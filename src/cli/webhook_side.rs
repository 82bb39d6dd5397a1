//! `tether sync`'s webhook sides: `--left webhook:PRESET` (or `--right`)
//! makes that side the inbox of a webhook receiver instead of a folder
//! (docs/design/12-webhooks.md, "The receiver"; docs/cli.md).
//!
//! Everything a sync could get wrong is refused before anything starts
//! (exit 2): an unknown preset, a preset whose notices must be read again
//! over the provider's API (refetch, not built yet), a mapping that would
//! write to the webhook side, a secret that is not set.

use super::EXIT_USAGE;
use super::provider_side::SideConn;
use crate::base::Side;
use crate::plan::MappingPlans;
use crate::sync::filedrop::FileDrop;
use crate::sync::provider::{Items, Provider, ProviderError, Sent};
use crate::sync::receiver::{Endpoint, Limits, Receiver};
use crate::sync::store::{Checkpoint, OpenBreaker, OpenMode, Operation, SqliteStore};
use crate::sync::webhook::WebhookProvider;
use crate::webhook::payload::RecordAt;
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
}

/// A side as given, checked, before the store is opened.
pub enum SideArg {
    /// A folder or a REST provider, ready.
    Conn(SideConn),
    Webhook(Box<Endpoint>),
}

impl SideArg {
    pub fn folder_mut(&mut self) -> Option<&mut FileDrop> {
        match self {
            SideArg::Conn(c) => c.files(),
            SideArg::Webhook(_) => None,
        }
    }
}

/// The two sides: a webhook side checked against the mapping; the others
/// opened by `open_pair` (both; it refuses one folder for both) or
/// `open_one` (the side beside a webhook).
pub fn sides(
    left: &Path,
    right: &Path,
    plans: &MappingPlans,
    open_pair: impl FnOnce(&Path, &Path) -> Result<(SideConn, SideConn), u8>,
    open_one: impl FnOnce(&Path, Side) -> Result<SideConn, u8>,
) -> Result<(SideArg, SideArg), u8> {
    let l = webhook_of(left, Side::Left, plans)?;
    let r = webhook_of(right, Side::Right, plans)?;
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

/// The endpoint a `webhook:PRESET` side names, or `None` for a folder.
fn webhook_of(arg: &Path, side: Side, plans: &MappingPlans) -> Result<Option<Box<Endpoint>>, u8> {
    let Some(name) = arg.to_str().and_then(|a| a.strip_prefix(PREFIX)) else {
        return Ok(None);
    };
    let fail = |message: String| {
        eprintln!("error: --{side} {PREFIX}{name}: {message}");
        Err(EXIT_USAGE)
    };
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
    let payload = preset.payload();
    if matches!(payload.record, RecordAt::Refetch { .. }) {
        return fail(format!(
            "{}'s notices do not carry a signed record: it must be read again over the \
             provider's API (refetch), which `tether sync` cannot do yet",
            preset.name()
        ));
    }
    let var = secret_var(preset);
    let secrets = match crate::http::secret::SecretRef::new(&var).resolve() {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    // Several secrets, newest first, during a rotation.
    let secrets: Vec<_> = secrets
        .expose()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(crate::http::secret::Secret::new)
        .collect();
    let config = PresetConfig {
        secrets,
        ..PresetConfig::default()
    };
    match preset.verifier(&config) {
        Ok(verifier) => Ok(Some(Box::new(Endpoint {
            preset,
            verifier,
            payload,
        }))),
        Err(e) => fail(format!("{e} (from {var})")),
    }
}

/// `TETHER_WEBHOOK_STRIPE_SECRET`, `TETHER_WEBHOOK_STANDARD_WEBHOOKS_SECRET`.
pub fn secret_var(preset: Preset) -> String {
    format!(
        "TETHER_WEBHOOK_{}_SECRET",
        preset.name().to_ascii_uppercase().replace('-', "_")
    )
}

/// A side of a running sync.
pub enum SideProvider {
    /// A folder or a REST provider.
    Conn(SideConn),
    Webhook(WebhookProvider),
}

impl SideProvider {
    /// The folder side's connector, for its notes.
    pub fn files(&mut self) -> Option<&mut FileDrop> {
        match self {
            SideProvider::Conn(c) => c.files(),
            SideProvider::Webhook(_) => None,
        }
    }

    fn inner(&mut self) -> &mut dyn Provider {
        match self {
            SideProvider::Conn(c) => c.provider(),
            SideProvider::Webhook(w) => w,
        }
    }

    fn inner_ref(&self) -> &dyn Provider {
        match self {
            SideProvider::Conn(c) => c.provider_ref(),
            SideProvider::Webhook(w) => w,
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
            SideArg::Webhook(e) => {
                let mut p = WebhookProvider::new(e.name(), open()?);
                p.retention_days = retention_days;
                endpoints.push(*e);
                SideProvider::Webhook(p)
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
        let r = Receiver::start(args.listen, endpoints, open()?, limits).map_err(|e| {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            EXIT_USAGE
        })?;
        for path in paths {
            eprintln!("tether: receiving webhooks at http://{}{path}", r.addr());
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
