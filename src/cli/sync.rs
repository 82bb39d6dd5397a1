//! `tether build`, `sync`, `review` and `dlq`.
//!
//! Why one file of about 900 lines: `build`, `sync`, `review` and `dlq`
//! share the state store's opening, plan loading and the printing of
//! reports; the provider and webhook sides are apart (`provider_side.rs`,
//! `webhook_side.rs`).

use super::provider_side::{self, SideConn, SideTarget};
use super::webhook_side::{self, SideProvider, WebhookArgs};
use super::{
    DiagFormat, EXIT_MAPPING_ERRORS, EXIT_OK, EXIT_REJECTS, EXIT_USAGE, Shown, compile_reporting,
    files_of,
};
use crate::base::Side;
use crate::plan::PlanFile;
use crate::plan::sync_spec::SyncSpec;
use crate::sync::alerts::{self, Alerts};
use crate::sync::engine::{Engine, Summary};
use crate::sync::filedrop::FileDrop;
use crate::sync::metrics::{Metrics, MetricsServer, PassResult};
use crate::sync::store::{OpenMode, SqliteStore, Store};
use clap::{Args, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct SyncArgs {
    /// A mapping source (`.tether`) or a plan file from `tether build`.
    file: PathBuf,
    /// The mapping to sync (a plan file may hold several).
    #[arg(long)]
    mapping: String,
    /// The state store (SQLite), created when no file is there.
    #[arg(long)]
    state: PathBuf,
    /// Create the side folders when missing (a first run); without it a
    /// missing folder is refused, so a typo starts nothing.
    #[arg(long)]
    create: bool,
    /// The left side: a folder (`inbox/`, `outbox/`, `done/`),
    /// `provider:NAME[.resource]` (a REST provider the file declares or
    /// imports), or `webhook:PRESET` (a webhook receiver's inbox, e.g.
    /// `webhook:stripe`).
    #[arg(long, required_unless_present = "explain")]
    left: Option<PathBuf>,
    /// The right side: a folder, `provider:NAME[.resource]` or
    /// `webhook:PRESET`.
    #[arg(long, required_unless_present = "explain")]
    right: Option<PathBuf>,
    /// One pass, then exit (the default).
    #[arg(long, conflicts_with = "watch")]
    once: bool,
    /// Pass after pass until interrupted (a kill is safe at any moment).
    #[arg(long)]
    watch: bool,
    /// Seconds between passes with `--watch`.
    #[arg(long, value_name = "SECONDS", default_value_t = 2)]
    interval: u64,
    /// How long a file that looks unfinished (an NDJSON file whose last
    /// line has no line end, a document cut short) must stay unchanged in
    /// `inbox/` before it is read as it is.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::sync::filedrop::SETTLE.as_secs(),
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    settle: u64,
    /// The longest NDJSON record (line) read, in bytes, as for `run`; a
    /// longer one is a dead letter (E1014), never held in memory.
    #[arg(long, value_name = "BYTES", default_value_t = crate::exec::lines::DEFAULT_MAX_RECORD_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_record_bytes: u64,
    /// Operations per batch (per outbox file).
    #[arg(long, value_name = "N", default_value_t = crate::sync::engine::SEND_BATCH,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    batch_size: usize,
    /// How long received event ids are kept for deduplication (`7` or
    /// `7d`); never under a side's redelivery floor (a webhook or
    /// provider side: 7, a folder: 1).
    #[arg(long = "retain-events", alias = "retention-days", value_name = "DAYS",
          default_value = "7", value_parser = crate::sync::retention::parse_days)]
    retention_days: u32,
    /// How long acknowledged operations are kept in the store.
    #[arg(long, value_name = "DAYS", default_value = "7",
          value_parser = crate::sync::retention::parse_days)]
    retain_sent: u32,
    /// Remove files from folder sides' `done/` once older than this (by
    /// default they are kept: they may be the only copy of a delivery).
    #[arg(long, value_name = "DAYS", value_parser = crate::sync::retention::parse_days)]
    retain_done: Option<u32>,
    /// `human` (stderr) or `json` (one object on stdout).
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// No warnings (errors are still printed).
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    webhook: WebhookArgs,
    /// Serve Prometheus metrics at `http://ADDR/metrics` while syncing
    /// (loopback by default: `127.0.0.1:9464`; port 0 picks a free one).
    #[arg(long, value_name = "ADDR", num_args = 0..=1,
          default_missing_value = "127.0.0.1:9464")]
    metrics: Option<std::net::SocketAddr>,
    /// Serve the web console at `http://ADDR/` while syncing (status,
    /// dead letters, reviews; loopback by default: `127.0.0.1:9465`; port
    /// 0 picks a free one). Any other address needs the token in
    /// `TETHER_CONSOLE_TOKEN` (`NAME:SECRET` records decisions as NAME).
    #[arg(long, value_name = "ADDR", num_args = 0..=1,
          default_missing_value = "127.0.0.1:9465", requires = "watch")]
    console: Option<std::net::SocketAddr>,
    /// The runtime log on standard error: `text` lines or `json`, one
    /// object a line (lines about a record carry mapping, side, key and
    /// idempotency key).
    #[arg(long, value_enum, default_value_t = super::log::LogFormat::Text)]
    log_format: super::log::LogFormat,
    /// Put a record's content in the log lines about it (by default only
    /// its key: records may hold personal data).
    #[arg(long)]
    log_records: bool,
    /// While watching, log one line with the pass counts every DURATION
    /// (`60s`, `5m`, `1h`).
    #[arg(long, value_name = "DURATION", requires = "watch",
          value_parser = crate::sync::alerts::parse_duration)]
    heartbeat: Option<Duration>,
    /// An alert rule judged after each pass (repeatable):
    /// `dead-letters-older=1h`, `no-webhooks-for=30m`,
    /// `breaker-open-longer=10m`, `error-rate=0.2/15m`. Each incident is
    /// logged and notified once when it fires and once when it resolves.
    #[arg(long = "alert", value_name = "RULE=VALUE",
          value_parser = crate::sync::alerts::parse_rule)]
    alerts: Vec<crate::sync::alerts::Rule>,
    /// POST each alert to URL as JSON, signed with the Standard Webhooks
    /// scheme with the secret in `TETHER_ALERT_SECRET` (`whsec_...`).
    #[arg(long, value_name = "URL", requires = "alerts")]
    alert_url: Option<String>,
    /// Run PROGRAM (no shell, no arguments) with each alert as JSON on
    /// standard input; a non-zero exit is retried after the next pass.
    #[arg(long, value_name = "PROGRAM", requires = "alerts")]
    alert_command: Option<PathBuf>,
    /// Print what tether knows of one record (link, base, versions,
    /// conflict resolutions, events) instead of syncing.
    #[arg(long, value_name = "KEY")]
    explain: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum ReportFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SideArg {
    Left,
    Right,
}

#[derive(Args)]
pub struct StoreArgs {
    /// The state store of `tether sync`.
    #[arg(long)]
    state: PathBuf,
    /// The mapping it syncs.
    #[arg(long)]
    mapping: String,
}

#[derive(Subcommand)]
pub enum ReviewCommand {
    /// Parked records, with both sides' values.
    List {
        /// `human` (a record and its fields) or `json` (one review per
        /// line).
        #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
        format: ReportFormat,
        /// Exit 3 when anything is listed (for monitors).
        #[arg(long)]
        fail_if_any: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Decide a parked record; the next `tether sync` applies it.
    Resolve {
        key: String,
        /// The side whose value wins (for a parked delete: the deleting
        /// side propagates the delete, the other keeps the record).
        #[arg(long, value_enum)]
        take: SideArg,
        /// Only this field (by default every parked field).
        #[arg(long)]
        field: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
pub enum DlqCommand {
    /// Open dead letters.
    List {
        /// `human` (a line each) or `json` (one dead letter per line, as
        /// `dlq show` prints it).
        #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
        format: ReportFormat,
        /// Exit 3 when anything is listed (for monitors).
        #[arg(long)]
        fail_if_any: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// One dead letter with every error.
    Show {
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Merge its events again on the next sync (after fixing the mapping
    /// or the record); events waiting behind it follow.
    Replay {
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Drop its events; events waiting behind it go on.
    Discard {
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Rewrite the store without its free pages (`VACUUM`) and truncate
    /// its write-ahead log; not while a sync runs on it (its lock is
    /// taken). Needs free disk space the size of the store.
    Compact {
        /// The state store of `tether sync`.
        #[arg(long)]
        state: PathBuf,
    },
}

pub fn store(c: &StoreCommand) -> u8 {
    let StoreCommand::Compact { state } = c;
    // Opened first, so a typo is refused before a lock file is made.
    let mut s = match open_store(state, OpenMode::Existing) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // The sync's own lock: a compaction under a running sync would wait
    // for it or stall it.
    let _lock = match lock(state) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let size = || {
        let mut wal = state.as_os_str().to_owned();
        wal.push("-wal");
        [state.to_path_buf(), PathBuf::from(wal)]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum::<u64>()
    };
    let before = size();
    if let Err(e) = s.compact() {
        return store_error(&e);
    }
    drop(s);
    eprintln!(
        "tether: compacted {}: {before} bytes before, {} after",
        state.display(),
        size()
    );
    EXIT_OK
}

pub fn build(paths: &[PathBuf], output: &Path) -> u8 {
    let files = match files_of(paths) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let mut compiled = Vec::new();
    for f in &files {
        let Some(c) = compile_reporting(f, DiagFormat::Human, &[], Shown::All) else {
            return EXIT_USAGE;
        };
        compiled.push(c);
    }
    let mut programs = Vec::new();
    for (c, f) in compiled.iter().zip(&files) {
        match &c.program {
            Some(p) => programs.push((p, &c.sources)),
            None => {
                eprintln!("error: {} has errors; no plan was written", f.display());
                return EXIT_MAPPING_ERRORS;
            }
        }
    }
    // The providers every source declares or imports go into the plan, so
    // a deployed plan syncs a `provider:` side without the sources.
    let providers = compiled.iter().flat_map(|c| c.providers.iter().cloned());
    let text = match PlanFile::build_for(&programs, output)
        .and_then(|p| p.with_providers(providers))
        .and_then(|p| {
            let names = p.header.as_ref().map(|h| h.mappings.join(", "));
            p.to_text()
                .map(|t| (t, names.unwrap_or_default()))
                .map_err(|e| e.to_string())
        }) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if output == Path::new("-") {
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(text.0.as_bytes()).and_then(|()| out.flush()) {
            eprintln!("error: cannot write the plan to standard output: {e}");
            return EXIT_USAGE;
        }
        eprintln!("tether: wrote the plan to standard output ({})", text.1);
        return EXIT_OK;
    }
    // Written whole then renamed: a deploy never picks up half a plan; a
    // link planted at the path is replaced, never written through.
    if let Err(e) = crate::safe_fs::write_atomically(output, text.0.as_bytes()) {
        eprintln!("error: cannot write {}: {e}", output.display());
        return EXIT_USAGE;
    }
    eprintln!("tether: wrote {} ({})", output.display(), text.1);
    EXIT_OK
}

pub(super) fn open_store(path: &Path, mode: OpenMode) -> Result<SqliteStore, u8> {
    // A store outlives the process: a stream cannot hold one.
    if path == Path::new("-") {
        eprintln!("error: --state needs a file (the SQLite state store), not `-`");
        return Err(EXIT_USAGE);
    }
    SqliteStore::open(path, mode).map_err(|e| {
        eprintln!("error: state store {}: {e}", path.display());
        EXIT_USAGE
    })
}

/// The store of `dlq` and `review`: it must exist and know the mapping (a
/// typo in either would otherwise answer "nothing open").
fn open_existing(a: &StoreArgs) -> Result<SqliteStore, u8> {
    let s = open_store(&a.state, OpenMode::Existing)?;
    match s.knows_mapping(&a.mapping) {
        Ok(true) => Ok(s),
        Ok(false) => {
            let known = s.mappings().unwrap_or_default();
            eprintln!(
                "error: state store {} holds nothing of mapping `{}`{}",
                a.state.display(),
                a.mapping,
                if known.is_empty() {
                    String::new()
                } else {
                    format!(" (it holds: {})", known.join(", "))
                }
            );
            Err(EXIT_USAGE)
        }
        Err(e) => Err(store_error(&e)),
    }
}

/// The two side folders, refusing one folder for both sides (each side
/// would read the other's outbox as its inbox).
pub(super) fn open_sides(
    left: &Path,
    right: &Path,
    create: bool,
) -> Result<(FileDrop, FileDrop), u8> {
    let same = match (std::fs::canonicalize(left), std::fs::canonicalize(right)) {
        (Ok(l), Ok(r)) => l == r,
        _ => left == right,
    };
    if same {
        eprintln!(
            "error: --left and --right are the same folder ({}); each side needs its own",
            left.display()
        );
        return Err(EXIT_USAGE);
    }
    let open = |p: &Path| {
        FileDrop::open(p, create).map_err(|e| {
            eprintln!("error: {e}");
            EXIT_USAGE
        })
    };
    Ok((open(left)?, open(right)?))
}

/// The two sides, folders or providers; a folder pair is checked as
/// [`open_sides`] does. Everything is checked (and every secret resolved)
/// before anything is created.
fn open_any_sides(
    loaded: &provider_side::Loaded,
    sync: &crate::plan::sync_spec::SyncSpec,
    left: &Path,
    right: &Path,
    create: bool,
) -> Result<(SideConn, SideConn), u8> {
    let (l, r) = (SideTarget::parse(left), SideTarget::parse(right));
    if let (SideTarget::Folder(l), SideTarget::Folder(r)) = (&l, &r) {
        let (l, r) = open_sides(l, r, create)?;
        return Ok((SideConn::Files(l), SideConn::Files(r)));
    }
    let rest_left = rest_side(loaded, sync, &l, Side::Left)?;
    let rest_right = rest_side(loaded, sync, &r, Side::Right)?;
    let open = |arg: SideTarget, ready: Option<SideConn>| -> Result<SideConn, u8> {
        match (ready, arg) {
            (Some(conn), _) => Ok(conn),
            (None, SideTarget::Folder(p)) => open_folder(&p, create),
            (None, SideTarget::Provider { .. }) => Err(EXIT_USAGE),
        }
    };
    Ok((open(l, rest_left)?, open(r, rest_right)?))
}

/// The side beside a webhook side: a folder or a provider.
fn open_one_side(
    loaded: &provider_side::Loaded,
    sync: &crate::plan::sync_spec::SyncSpec,
    arg: &Path,
    side: Side,
    create: bool,
) -> Result<SideConn, u8> {
    match rest_side(loaded, sync, &SideTarget::parse(arg), side)? {
        Some(conn) => Ok(conn),
        None => open_folder(arg, create),
    }
}

/// A `provider:` side with every secret resolved; `None` for a folder.
fn rest_side(
    loaded: &provider_side::Loaded,
    sync: &crate::plan::sync_spec::SyncSpec,
    arg: &SideTarget,
    side: Side,
) -> Result<Option<SideConn>, u8> {
    let env = |name: &str| std::env::var(name).ok();
    match arg {
        SideTarget::Folder(_) => Ok(None),
        SideTarget::Provider { name, resource } => provider_side::rest_side(
            loaded,
            &sync.mapping,
            sync,
            side,
            name,
            resource.as_deref(),
            &env,
        )
        .map(|p| Some(SideConn::Rest(Box::new(p))))
        .map_err(|e| {
            eprintln!("error: {e}");
            EXIT_USAGE
        }),
    }
}

fn open_folder(p: &Path, create: bool) -> Result<SideConn, u8> {
    FileDrop::open(p, create).map(SideConn::Files).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_USAGE
    })
}

/// Prints what the side folders' connectors noticed; whether any was an
/// error.
fn print_notes(sides: [(&str, &mut SideProvider); 2], quiet: bool) -> bool {
    let mut errors = false;
    for (name, side) in sides {
        let Some(side) = side.files() else { continue };
        for note in side.take_notes() {
            if note.is_error() {
                errors = true;
                eprintln!("error: {name} side: {note}");
            } else if !quiet {
                eprintln!("warning: {name} side: {note}");
            }
        }
    }
    errors
}

pub fn sync(a: &SyncArgs) -> u8 {
    super::log::init(a.log_format, a.quiet);
    let shown = Shown::OfMapping {
        name: &a.mapping,
        quiet: a.quiet,
    };
    let loaded = match provider_side::load(&a.file, shown) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let plans = &loaded.plans;
    let m = match plans.mapping(&a.mapping) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if m.forward.as_ref().is_some_and(|p| p.iteration.is_some()) {
        eprintln!(
            "error: mapping `{}` iterates (`for`): one document becomes many records, and \
             `tether sync` keeps records one to one; use `tether run`",
            m.name
        );
        return EXIT_USAGE;
    }
    if m.sync.key.is_none() {
        eprintln!(
            "error: mapping `{}` has no `key`: `tether sync` matches the two sides' records by it",
            m.name
        );
        return EXIT_USAGE;
    }
    if let Some(key) = &a.explain {
        return match open_store(&a.state, OpenMode::Existing) {
            Ok(store) => explain(&m.sync, &store, key),
            Err(code) => code,
        };
    }
    let (Some(left), Some(right)) = (&a.left, &a.right) else {
        eprintln!("error: --left and --right are required");
        return EXIT_USAGE;
    };
    {
        use crate::sync::retention::{SideKind, check_event_days};
        let kind = |p: &Path| SideKind::of_arg(&p.to_string_lossy());
        let sides = [("left", kind(left)), ("right", kind(right))];
        if let Err(e) = check_event_days(a.retention_days, sides) {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    }
    // The alert sinks (and their secret) are checked before anything is
    // created too.
    let mut sinks = match alert_sinks(a) {
        Ok(sinks) => sinks,
        Err(code) => return code,
    };
    // Checked before anything is created: a typo starts nothing.
    let (mut left, mut right) = match webhook_side::sides(
        left,
        right,
        m,
        |l, r| open_any_sides(&loaded, &m.sync, l, r, a.create),
        |p, side| open_one_side(&loaded, &m.sync, p, side, a.create),
        &|name, resource, side| {
            let env = |v: &str| std::env::var(v).ok();
            provider_side::rest_side_and_resource(
                &loaded,
                &m.sync.mapping,
                &m.sync,
                side,
                name,
                resource,
                &env,
            )
            .map_err(|e| {
                eprintln!("error: {e}");
                EXIT_USAGE
            })
        },
    ) {
        Ok(p) => p,
        Err(code) => return code,
    };
    for side in [&mut left, &mut right]
        .into_iter()
        .filter_map(|s| s.folder_mut())
    {
        side.settle = Duration::from_secs(a.settle);
        side.max_record_bytes = usize::try_from(a.max_record_bytes).unwrap_or(usize::MAX);
    }
    // One sync at a time per state store: two would read the same inboxes.
    // Taken before the store is opened, so two first runs racing to create
    // it meet here, not in SQLite.
    let _lock = match lock(&a.state) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let mut store = match open_store(&a.state, OpenMode::CreateIfMissing) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Err(e) = store.register_mapping(&m.sync.mapping) {
        return store_error(&e);
    }
    // Webhook sides get their own connections to the store, and the
    // receiver (watching only) a thread of its own.
    let ([mut left, mut right], receiver) = match webhook_side::start(
        [left, right],
        &a.state,
        &a.webhook,
        a.watch,
        a.retention_days,
    ) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let terminal = std::io::stderr().is_terminal() && a.format == ReportFormat::Human;
    let started = Instant::now();
    let mut last = Instant::now();
    let mut progress = |s: &Summary, read: &[crate::sync::engine::SideRead; 2]| {
        if terminal && last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            let line = crate::sync::summary::progress_line(started.elapsed(), s, read);
            eprint!("\r{line}   ");
        }
    };
    // The metrics read the store through a connection of their own: the
    // engine holds the sync's for as long as it runs.
    let mut metrics = match &a.metrics {
        Some(addr) => match start_metrics(*addr, &a.state) {
            Ok(m) => Some(m),
            Err(code) => return code,
        },
        None => None,
    };
    let _console = match a.console {
        Some(addr) => match start_console(addr, &a.state, &m.sync.mapping) {
            Ok(c) => Some(c),
            Err(code) => return code,
        },
        None => None,
    };
    let mapping_name = m.sync.mapping.clone();
    let mut alerts = match sinks.take() {
        None => None,
        Some(sinks) => Some(Alerts {
            rules: a.alerts.clone(),
            mapping: mapping_name.clone(),
            sinks,
            store: match open_store(&a.state, OpenMode::Existing) {
                Ok(store) => store,
                Err(code) => return code,
            },
        }),
    };
    let mut beat = Heartbeat::new();
    // Dead letters made before this run are not logged again.
    let mut letters_seen = match store.dead_letters_after(&mapping_name, i64::MAX, 0) {
        Ok((_, last)) => last,
        Err(e) => return store_error(&e),
    };
    let mut entry_errors = false;
    let mut engine = Engine::new(m, &mut store);
    engine.retention_days = a.retention_days;
    engine.send_batch = a.batch_size;
    engine.progress = Some(&mut progress);
    let mut total = Summary::default();
    // When retention last pruned: after the first pass, then every
    // `PRUNE_EVERY` while watching.
    let mut pruned_at: Option<Instant> = None;
    // Each REST side's cumulative request counts at the last pass's end.
    let mut counted: [Option<crate::http::exchange::Stats>; 2] = [None, None];
    loop {
        let pass_started = Instant::now();
        let pass = engine.pass(&mut left, &mut right);
        let pass_seconds = pass_started.elapsed().as_secs_f64();
        let mut requests = Vec::new();
        for (i, (side, provider)) in [(Side::Left, &left), (Side::Right, &right)]
            .into_iter()
            .enumerate()
        {
            if let Some((name, now)) = crate::sync::provider::Provider::requests(provider) {
                let before = counted[i].replace(now).unwrap_or_default();
                if now == before {
                    // Nothing asked of it this pass: an idle `--watch`
                    // pass stays silent.
                    continue;
                }
                requests.push(crate::sync::summary::ProviderRequests::since(
                    side, name, now, before,
                ));
            }
        }
        // For `tether status`: how the pass ended (an error in the words it
        // is printed with, provider text already redacted).
        let outcome = pass.as_ref().map(|_| ()).map_err(|e| e.to_string());
        if let Err(e) = engine.store.record_pass(
            &m.sync.mapping,
            outcome.as_ref().map_err(String::as_str).copied(),
        ) {
            tracing::warn!("the pass's outcome was not recorded: {e}");
        }
        match pass {
            Ok(mut s) => {
                s.providers = requests;
                if let Some(counts) = receiver.as_ref().map(|r| r.take_counts())
                    && counts != Default::default()
                {
                    s.webhooks = Some(counts);
                }
                if let Some(m) = &mut metrics {
                    m.record(&mapping_name, PassResult::Ok, &s, pass_seconds);
                }
                if a.watch && s != Summary::default() {
                    report(&s, a.format);
                }
                beat.passed(Some(&s));
                total.add(&s);
            }
            // Watching, a failed pass (a provider down, a full disk) is
            // retried at the next interval: nothing was lost, what was not
            // sent is still in the outbox.
            Err(e) if a.watch => {
                if let Some(m) = &mut metrics {
                    let s = Summary {
                        providers: requests,
                        ..Summary::default()
                    };
                    m.record(&mapping_name, PassResult::Failed, &s, pass_seconds);
                }
                beat.passed(None);
                // An error, so `--quiet` does not hide it.
                tracing::error!("pass failed, retrying: {e}");
            }
            Err(e) => {
                print_notes([("left", &mut left), ("right", &mut right)], a.quiet);
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        }
        entry_errors |= print_notes([("left", &mut left), ("right", &mut right)], a.quiet);
        // A line per new dead letter, up to a cap a pass: a backlog that
        // fails whole must not bury the log (`dlq list` has them all).
        match engine
            .store
            .dead_letters_after(&mapping_name, letters_seen, LOGGED_LETTERS + 1)
        {
            Ok((letters, last)) => {
                letters_seen = last;
                for d in letters.iter().take(LOGGED_LETTERS) {
                    log_dead_letter(&mapping_name, d, a.log_records);
                }
                if letters.len() > LOGGED_LETTERS {
                    tracing::warn!(
                        mapping = mapping_name.as_str(),
                        "more dead letters than the {LOGGED_LETTERS} logged (`tether dlq list`)"
                    );
                }
            }
            Err(e) => tracing::warn!("the new dead letters were not read: {e}"),
        }
        let prune = pruned_at.is_none_or(|at| at.elapsed() >= crate::sync::retention::PRUNE_EVERY);
        if prune {
            pruned_at = Some(Instant::now());
            let pruned = retain(a, &mapping_name, engine.store, [&mut left, &mut right]);
            if let Some(m) = &metrics {
                m.metrics.record_pruned(&pruned);
            }
        }
        // After the pass and its pruning: the rules judge the store as
        // the pass left it.
        if let Some(al) = &mut alerts {
            if let Err(e) = al.evaluate() {
                tracing::warn!("alerts: not judged this pass, tried after the next: {e}");
            }
            // With retention's other pruning: resolved incidents are kept
            // as long as settled dead letters.
            if prune {
                match al.store.prune_alerts(crate::sync::retention::SETTLED_DAYS) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(alerts = n, "pruned resolved alerts"),
                    Err(e) => tracing::warn!("pruning resolved alerts: {e}"),
                }
            }
        }
        if let Some(every) = a.heartbeat {
            beat.beat_if_due(every);
        }
        if !a.watch {
            break;
        }
        std::thread::sleep(Duration::from_secs(a.interval.max(1)));
    }
    if terminal {
        eprint!("\r");
    }
    report(&total, a.format);
    if entry_errors {
        return EXIT_USAGE;
    }
    // Open work is reported by every pass until a person has done it, not
    // only by the pass that made it: a retried pass must not exit 0.
    let open = match store.open_work(&m.sync.mapping) {
        Ok(open) => open,
        Err(e) => return store_error(&e),
    };
    // A log line (info: `--quiet` hides it), so a JSON log has it too.
    if open != (0, 0) {
        tracing::info!(
            mapping = mapping_name.as_str(),
            dead_letters = open.0,
            reviews = open.1,
            "open: {} dead letter(s) (`tether dlq list`), {} review(s) (`tether review list`)",
            open.0,
            open.1
        );
    }
    if total.needs_attention() || open != (0, 0) {
        EXIT_REJECTS
    } else {
        EXIT_OK
    }
}

/// The dead letters logged a pass, at most.
const LOGGED_LETTERS: usize = 100;

/// One line about a dead-lettered record: what failed and where, keyed by
/// mapping, side, key and idempotency key (empty when nothing was to be
/// written: the record failed before a write was made of it). Its content
/// only with `--log-records`.
fn log_dead_letter(mapping: &str, d: &crate::sync::store::DeadLetter, records: bool) {
    let first = d.errors.first();
    let record = match (&d.operation, records) {
        (Some(op), true) => op.record.as_ref().map(|r| r.to_string()),
        _ => None,
    };
    tracing::warn!(
        mapping,
        side = d.side.name(),
        key = d.key.as_deref().unwrap_or(""),
        idempotency_key = d
            .operation
            .as_ref()
            .map_or("", |o| o.idempotency_key.as_str()),
        dead_letter = d.id,
        code = first.map_or(String::new(), |e| e.code.to_string()),
        path = first.map_or("", |e| e.path.as_str()),
        error = first.map_or("", |e| e.message.as_str()),
        record = record.as_deref(),
        "record dead-lettered (`tether dlq show {}`)",
        d.id
    );
}

/// Retention's pruning (docs/design/14-operations.md, "Retention"). A
/// failure is a warning: nothing is lost by pruning later.
fn retain(
    a: &SyncArgs,
    mapping: &str,
    store: &mut dyn Store,
    sides: [&mut webhook_side::SideProvider; 2],
) -> crate::sync::retention::Pruned {
    use crate::sync::retention::SETTLED_DAYS;
    let mut pruned = match store.retain(mapping, Some(a.retain_sent), SETTLED_DAYS) {
        Ok(p) => {
            if p.total() > 0 {
                tracing::info!(
                    sent = p.sent,
                    dead_letters = p.dead_letters,
                    reviews = p.reviews,
                    resolutions = p.resolutions,
                    "pruned settled rows"
                );
            }
            p
        }
        Err(e) => {
            tracing::warn!("pruning the store: {e}");
            Default::default()
        }
    };
    let Some(days) = a.retain_done else {
        return pruned;
    };
    let before = std::time::SystemTime::now()
        .checked_sub(Duration::from_secs(u64::from(days) * 86_400))
        .unwrap_or(std::time::UNIX_EPOCH);
    for (name, side) in ["left", "right"].into_iter().zip(sides) {
        let Some(folder) = side.files() else {
            continue;
        };
        match folder.prune_done(before) {
            Ok(n) => pruned.done_files += n,
            Err(e) => tracing::warn!("pruning the {name} side's done/: {e}"),
        }
    }
    pruned
}

/// `--metrics`: the figures, their endpoint, and a connection to the store
/// for the gauges.
struct MetricsRun {
    metrics: Metrics,
    store: SqliteStore,
    _server: MetricsServer,
}

fn start_metrics(addr: std::net::SocketAddr, state: &Path) -> Result<MetricsRun, u8> {
    let metrics = Metrics::new();
    let server = MetricsServer::start(addr, metrics.handle()).map_err(|e| {
        eprintln!("error: --metrics: cannot listen on {addr}: {e}");
        EXIT_USAGE
    })?;
    // Beside the sync's own connection (see `SqliteStore::open_again`).
    let store = SqliteStore::open_again(state).map_err(|e| {
        eprintln!("error: state store {}: {e}", state.display());
        EXIT_USAGE
    })?;
    // The port is printed so `--metrics 127.0.0.1:0` can be scraped.
    tracing::info!("metrics at http://{}/metrics", server.addr());
    Ok(MetricsRun {
        metrics,
        store,
        _server: server,
    })
}

impl MetricsRun {
    fn record(&mut self, mapping: &str, result: PassResult, s: &Summary, seconds: f64) {
        // A report that cannot be read leaves the gauges as they were: the
        // next pass tries again, and the sync goes on.
        match self.store.status_report() {
            Ok(report) => self.metrics.record_status(&report),
            Err(e) => tracing::warn!("metrics: the store was not read: {e}"),
        }
        // The pass's counters last: a scrape that sees this pass counted
        // sees the store as the pass left it.
        self.metrics.record_pass(mapping, result, s, seconds);
    }
}

/// `--alert-url`, `--alert-command`: the sinks, `None` without `--alert`.
/// The signing secret is read here, from the environment only. The rules
/// get a store connection of their own later (as the metrics have).
fn alert_sinks(a: &SyncArgs) -> Result<Option<alerts::Sinks>, u8> {
    if a.alerts.is_empty() {
        return Ok(None);
    }
    let url = match &a.alert_url {
        None => None,
        Some(url) => {
            let Some(secret) = std::env::var(alerts::SECRET_ENV)
                .ok()
                .filter(|v| !v.is_empty())
            else {
                eprintln!(
                    "error: --alert-url signs its notifications: set {} (`whsec_` and base64)",
                    alerts::SECRET_ENV
                );
                return Err(EXIT_USAGE);
            };
            let secret = crate::http::secret::Secret::new(secret);
            Some(alerts::UrlSink::new(url, &secret).map_err(|e| {
                eprintln!("error: {e}");
                EXIT_USAGE
            })?)
        }
    };
    Ok(Some(alerts::Sinks {
        url,
        command: a.alert_command.clone(),
    }))
}

/// `--heartbeat`: the passes since the last heartbeat line.
struct Heartbeat {
    since: Instant,
    passes: u64,
    failed: u64,
    counts: Summary,
}

impl Heartbeat {
    fn new() -> Heartbeat {
        Heartbeat {
            since: Instant::now(),
            passes: 0,
            failed: 0,
            counts: Summary::default(),
        }
    }

    /// A pass ended: its summary, `None` when it failed.
    fn passed(&mut self, s: Option<&Summary>) {
        self.passes += 1;
        match s {
            Some(s) => self.counts.add(s),
            None => self.failed += 1,
        }
    }

    /// One info line when `every` has passed since the last one (checked
    /// after each pass: a line comes at the first pass's end after it is
    /// due), then counting starts again.
    fn beat_if_due(&mut self, every: Duration) {
        if self.since.elapsed() < every {
            return;
        }
        let c = &self.counts;
        tracing::info!(
            passes = self.passes,
            failed = self.failed,
            read = c.read,
            created = c.created,
            updated = c.updated,
            deleted = c.deleted,
            unchanged = c.unchanged,
            sent = c.sent,
            dead_lettered = c.dead_lettered,
            "heartbeat: {} pass(es), {} failed, since the last heartbeat",
            self.passes,
            self.failed
        );
        *self = Heartbeat::new();
    }
}

/// `--console`: the web console on a connection of its own to the store.
/// The token is read here, from the environment only, and never printed.
fn start_console(
    addr: std::net::SocketAddr,
    state: &Path,
    mapping: &str,
) -> Result<crate::sync::console::ConsoleServer, u8> {
    use crate::sync::console::{ConsoleServer, Token};
    let token = std::env::var("TETHER_CONSOLE_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .map(Token::new);
    if token.is_none() && !addr.ip().is_loopback() {
        eprintln!(
            "error: --console {addr} is not a loopback address: set TETHER_CONSOLE_TOKEN \
             (anyone who reaches it could replay, discard and resolve)"
        );
        return Err(EXIT_USAGE);
    }
    // The sync's own connection is open: a second one without closing a
    // descriptor of the file (`open_again`).
    let store = SqliteStore::open_again(state).map_err(|e| {
        eprintln!("error: state store {}: {e}", state.display());
        EXIT_USAGE
    })?;
    let server = ConsoleServer::start(addr, store, mapping, token).map_err(|e| {
        eprintln!("error: --console: cannot listen on {addr}: {e}");
        EXIT_USAGE
    })?;
    // The port is printed so `--console 127.0.0.1:0` can be opened.
    tracing::info!("console at http://{}/", server.addr());
    Ok(server)
}

/// An exclusive advisory lock on `STATE.lock`, held while the process
/// runs (the OS releases it when the process dies, even by `kill -9`).
fn lock(state: &Path) -> Result<std::fs::File, u8> {
    let mut name = state.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    let file = crate::safe_fs::open_lock(&path).map_err(|e| {
        eprintln!("error: cannot open {}: {e}", path.display());
        EXIT_USAGE
    })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "error: another `tether sync` is using {} (lock {})",
                state.display(),
                path.display()
            );
            Err(EXIT_USAGE)
        }
        Err(std::fs::TryLockError::Error(e)) => {
            eprintln!("error: cannot lock {}: {e}", path.display());
            Err(EXIT_USAGE)
        }
    }
}

fn report(s: &Summary, format: ReportFormat) {
    // A closed pipe (`| head`) ends the output, not the process.
    let mut out = std::io::stdout().lock();
    match format {
        ReportFormat::Human => eprintln!("tether: {s}"),
        ReportFormat::Json => match serde_json::to_string(s) {
            Ok(t) => {
                let _ = writeln!(out, "{t}");
            }
            Err(e) => eprintln!("error: {e}"),
        },
    }
}

fn explain(spec: &SyncSpec, store: &SqliteStore, key: &str) -> u8 {
    // A closed pipe (`| head`) ends the output, not the process.
    let mut out = std::io::stdout().lock();
    let mapping = &spec.mapping;
    let record = match store.find_record(mapping, Side::Left, key) {
        Ok(Some(r)) => r,
        Ok(None) => match store.find_record(mapping, Side::Right, key) {
            Ok(Some(r)) => r,
            Ok(None) => {
                eprintln!("error: mapping `{mapping}` has no record with key `{key}`");
                return EXIT_USAGE;
            }
            Err(e) => return store_error(&e),
        },
        Err(e) => return store_error(&e),
    };
    let _ = writeln!(out, "record {} (mapping {mapping})", record.key);
    for side in [Side::Left, Side::Right] {
        let s = record.side(side);
        let key = match side {
            Side::Left => Some(record.key.as_str()),
            Side::Right => record.right_key.as_deref(),
        };
        let id = s
            .native_id
            .as_ref()
            .map_or(String::new(), |id| format!(", id {id}"));
        let _ = writeln!(
            out,
            "  {side} ({}): key {}{id}, {:?}, version {}",
            spec.side_name(side),
            key.unwrap_or("(unknown)"),
            s.presence,
            s.version
                .as_ref()
                .map_or("(none)".to_string(), |v| v.to_string())
        );
        if let Some(r) = &s.record {
            let _ = writeln!(out, "    record: {r}");
        }
    }
    if let Some(b) = &record.blocked {
        let _ = writeln!(
            out,
            "  blocked: {b:?} (see `tether dlq list` / `tether review list`)"
        );
    }
    let _ = writeln!(out, "  base:");
    match &record.base {
        None => {
            let _ = writeln!(out, "    (never synced)");
        }
        Some(base) => {
            for (field, entry) in &base.0 {
                let _ = writeln!(
                    out,
                    "    {field}: left {} / right {}",
                    entry.left.show(),
                    entry.right.show()
                );
            }
        }
    }
    match store.resolutions(mapping, &record.key) {
        Ok(rs) if rs.is_empty() => {
            let _ = writeln!(out, "  conflicts: none");
        }
        Ok(rs) => {
            let _ = writeln!(out, "  conflicts:");
            for r in rs {
                let _ = writeln!(
                    out,
                    "    {}: {} → {} (left {}, right {}, base {})",
                    r.field, r.rule, r.outcome, r.left, r.right, r.base
                );
            }
        }
        Err(e) => return store_error(&e),
    }
    match store.events_of(mapping, &record.key) {
        Ok(events) => {
            let _ = writeln!(out, "  events (newest first):");
            for (seq, side, id, status) in events {
                let _ = writeln!(out, "    #{seq} {side} {id}: {status}");
            }
        }
        Err(e) => return store_error(&e),
    }
    EXIT_OK
}

pub(super) fn store_error(e: &crate::sync::store::StoreError) -> u8 {
    if e.is_busy() {
        eprintln!("error: state store: in use by another tether process; try again");
    } else {
        eprintln!("error: state store: {e}");
    }
    EXIT_USAGE
}

pub fn review(c: &ReviewCommand) -> u8 {
    // A closed pipe (`| head`) ends the output, not the process.
    let mut out = std::io::stdout().lock();
    match c {
        ReviewCommand::List {
            format,
            fail_if_any,
            store,
        } => {
            let s = match open_existing(store) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match s.reviews(&store.mapping, true) {
                Ok(rs) => {
                    let any = !rs.is_empty();
                    let done = if *fail_if_any && any {
                        EXIT_REJECTS
                    } else {
                        EXIT_OK
                    };
                    if !any {
                        eprintln!("tether: nothing to review");
                    }
                    if *format == ReportFormat::Json {
                        for r in rs {
                            match serde_json::to_string(&r) {
                                Ok(t) => {
                                    let _ = writeln!(out, "{t}");
                                }
                                Err(e) => {
                                    eprintln!("error: {e}");
                                    return EXIT_USAGE;
                                }
                            }
                        }
                        return done;
                    }
                    for r in rs {
                        let _ = writeln!(out, "{} ({}, since {})", r.key, r.reason, r.created_at);
                        for f in r.fields {
                            let _ = writeln!(
                                out,
                                "  {}: left {} | right {} | base {}",
                                f.field, f.left, f.right, f.base
                            );
                        }
                    }
                    done
                }
                Err(e) => store_error(&e),
            }
        }
        ReviewCommand::Resolve {
            key,
            take,
            field,
            store,
        } => {
            let mut s = match open_existing(store) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let side = match take {
                SideArg::Left => Side::Left,
                SideArg::Right => Side::Right,
            };
            match s.resolve_review(&store.mapping, key, side, field.as_deref()) {
                Ok(true) => {
                    eprintln!("tether: {key}: {side} wins; the next `tether sync` applies it");
                    EXIT_OK
                }
                Ok(false) => {
                    eprintln!(
                        "error: no open review for `{key}`{}",
                        field
                            .as_ref()
                            .map_or(String::new(), |f| format!(" with field `{f}`"))
                    );
                    EXIT_USAGE
                }
                Err(e) => store_error(&e),
            }
        }
    }
}

pub fn dlq(c: &DlqCommand) -> u8 {
    // A closed pipe (`| head`) ends the output, not the process.
    let mut out = std::io::stdout().lock();
    let (store_args, id) = match c {
        DlqCommand::List { store, .. } => (store, None),
        DlqCommand::Show { id, store }
        | DlqCommand::Replay { id, store }
        | DlqCommand::Discard { id, store } => (store, Some(*id)),
    };
    let mut s = match open_existing(store_args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mapping = &store_args.mapping;
    match (c, id) {
        (
            DlqCommand::List {
                format,
                fail_if_any,
                ..
            },
            _,
        ) => match s.dead_letters(mapping, true) {
            Ok(letters) => {
                let done = if *fail_if_any && !letters.is_empty() {
                    EXIT_REJECTS
                } else {
                    EXIT_OK
                };
                if letters.is_empty() {
                    eprintln!("tether: no dead letters");
                }
                if *format == ReportFormat::Json {
                    for d in letters {
                        match serde_json::to_string(&d) {
                            Ok(t) => {
                                let _ = writeln!(out, "{t}");
                            }
                            Err(e) => {
                                eprintln!("error: {e}");
                                return EXIT_USAGE;
                            }
                        }
                    }
                    return done;
                }
                for d in letters {
                    let first = d.errors.first().map_or(String::new(), |e| {
                        format!("{} at `{}`: {}", e.code, e.path, e.message)
                    });
                    let _ = writeln!(
                        out,
                        "{}\t{}\t{}\t{} error(s)\t{first}",
                        d.id,
                        d.key.as_deref().unwrap_or("(no key)"),
                        d.side,
                        d.errors.len()
                    );
                }
                done
            }
            Err(e) => store_error(&e),
        },
        (DlqCommand::Show { .. }, Some(id)) => match s.dead_letter(mapping, id) {
            Ok(letter) => match letter {
                Some(d) => match serde_json::to_string_pretty(&d) {
                    Ok(t) => {
                        let _ = writeln!(out, "{t}");
                        EXIT_OK
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        EXIT_USAGE
                    }
                },
                None => {
                    eprintln!("error: no dead letter {id}");
                    EXIT_USAGE
                }
            },
            Err(e) => store_error(&e),
        },
        (DlqCommand::Replay { .. } | DlqCommand::Discard { .. }, Some(id)) => {
            let replay = matches!(c, DlqCommand::Replay { .. });
            match s.settle_dead_letter(mapping, id, replay) {
                Ok(true) => {
                    eprintln!(
                        "tether: dead letter {id} {}; the next `tether sync` goes on with its key",
                        if replay {
                            "will be replayed"
                        } else {
                            "discarded"
                        }
                    );
                    EXIT_OK
                }
                Ok(false) => {
                    eprintln!("error: no open dead letter {id}");
                    EXIT_USAGE
                }
                Err(e) => store_error(&e),
            }
        }
        _ => EXIT_USAGE,
    }
}
