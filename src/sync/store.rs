//! The state store: what the runtime must remember between passes and
//! across crashes. [`Store`] is what the engine talks to; [`SqliteStore`]
//! is the embedded default (WAL, `synchronous=FULL`: a committed
//! transaction survives a crash or power loss).
//!
//! Why one file of about 2000 lines: all of the state store's SQL is here,
//! each statement beside the migrations that made its tables, so a change
//! to the schema is reviewed in one file; about a sixth of it is the
//! store's unit tests.

use super::merge::{Base, Parked, Resolution};
use super::status::StatusReport;
use crate::base::Side;
use crate::exec::RecordError;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path as FsPath;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// Written by a newer tether: its schema is not this one's to change.
    #[error(
        "the state store has schema version {found}, written by a newer tether \
         (this one knows up to {known}); upgrade tether"
    )]
    Newer { found: usize, known: usize },
}

impl StoreError {
    /// SQLite's "database is locked": another process writes.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Sqlite(e) if is_busy(e))
    }
}

type Result<T> = std::result::Result<T, StoreError>;

/// An event as a provider delivered it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub side: Side,
    pub event_id: String,
    pub op: EventOp,
    pub version: Option<Json>,
    /// The record as JSON text; for a malformed line, the line itself.
    pub record: String,
    /// The record's key on its own side, when it has one.
    pub side_key: Option<String>,
    /// The record (its left key) the event belongs to; `None` when it has
    /// no key or is malformed.
    pub record_key: Option<String>,
    /// Why the event cannot be used (a malformed line, a record `run`
    /// would reject before any rule), kept for the dead letter.
    pub malformed: Option<RecordError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventOp {
    Upsert,
    Delete,
}

/// Where a provider's reading stopped: provider-defined (a poller's
/// cursor and read counter), stored with the page it follows. Never a
/// secret, never a page token that expires.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint(pub Json);

/// A provider's circuit breaker left open: no request before `until`, and
/// the cooldown a failed probe doubles. Kept in the store so a `--once`
/// run started by cron a minute later fails fast too, instead of paying
/// the timeouts again (docs/design/10-rest-providers.md, "Breaker
/// states"). Holds no secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenBreaker {
    pub until: std::time::SystemTime,
    pub cooldown: std::time::Duration,
}

/// Where a webhook notice stored by the receiver stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeStatus {
    /// Stored and answered; not yet read into a sync's events.
    Pending,
    /// Read into a sync's events (acknowledged by its provider). Kept for
    /// deduplication until pruned.
    Taken,
}

stored_as_text!(NoticeStatus, as_str {
    NoticeStatus::Pending => "pending",
    NoticeStatus::Taken => "taken",
});

/// One notice of a verified webhook delivery, as the receiver stores it
/// (`sync::webhook` writes and reads the forms).
#[derive(Clone, Debug, PartialEq)]
pub struct InboxNotice {
    /// The provider's event id: what a replay is recognised by.
    pub event_id: String,
    pub content: NoticeContent,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NoticeContent {
    /// The notice as JSON text.
    Read(String),
    /// A notice (or a whole body) that cannot be read: why, in words that
    /// name configured places only, and the delivery's body as received.
    /// It becomes a dead letter when a sync reads it.
    Malformed { error: String, body: Vec<u8> },
}

/// A stored notice, with its arrival order.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredNotice {
    pub seq: i64,
    pub notice: InboxNotice,
}

/// An event as stored, with its arrival order.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub seq: i64,
    pub event: NewEvent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// A new status must join the list `rekey` names (it searches by status).
pub enum EventStatus {
    Applied,
    Stale,
    /// Behind a dead letter or a parked record of the same key.
    Waiting,
    /// Part of a dead letter.
    Dead,
    Discarded,
    Received,
}

stored_as_text!(EventStatus, as_str {
    EventStatus::Applied => "applied",
    EventStatus::Stale => "stale",
    EventStatus::Waiting => "waiting",
    EventStatus::Dead => "dead",
    EventStatus::Discarded => "discarded",
    EventStatus::Received => "received",
});

/// What an operation asks of a provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Create,
    Update,
    Delete,
}

stored_as_text!(OpKind, as_str {
    OpKind::Create => "create",
    OpKind::Update => "update",
    OpKind::Delete => "delete",
});

impl std::fmt::Display for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a dead letter stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LetterStatus {
    /// Waiting for a person (`dlq replay` or `dlq discard`).
    Open,
    /// Its events merged again (and its refused write sent again).
    Replayed,
    /// Its events dropped.
    Discarded,
}

stored_as_text!(LetterStatus, as_str {
    LetterStatus::Open => "open",
    LetterStatus::Replayed => "replayed",
    LetterStatus::Discarded => "discarded",
});

/// Where a review stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewStatus {
    Open,
    Resolved,
}

stored_as_text!(ReviewStatus, as_str {
    ReviewStatus::Open => "open",
    ReviewStatus::Resolved => "resolved",
});

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    #[default]
    Absent,
    /// The provider reported it.
    Seen,
    /// tether sent a create for it (a replay updates instead).
    Created,
    Deleted,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SideState {
    pub presence: Presence,
    /// The record as last reported, with tether's own writes applied.
    pub record: Option<Json>,
    /// The high-water mark of the side's event versions.
    pub version: Option<Json>,
    /// The provider's own id, when a transport returns one.
    pub native_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Blocked {
    DeadLetter,
    Review,
}

/// Everything remembered of one record of a mapping.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RecordState {
    /// The left side's key value.
    pub key: String,
    /// The right side's key value (the link).
    pub right_key: Option<String>,
    pub left: SideState,
    pub right: SideState,
    pub base: Option<Base>,
    pub blocked: Option<Blocked>,
    /// A person's decisions, used by the next merge.
    pub decisions: BTreeMap<String, Side>,
    /// Merge it on the next pass even without events (a review resolved).
    pub dirty: bool,
    /// Merges committed so far: part of each operation's idempotency key,
    /// so a merge redone after a crash gives the same keys.
    #[serde(default)]
    pub generation: u64,
    /// Born on this side without the mapping's key: the record is kept
    /// under a provisional key ([`provisional_key`]) until the other
    /// side's create answers with one, then re-keyed ([`Rekey`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub born: Option<Side>,
}

/// The key a record born on `side` without the mapping's key is kept
/// under until it has one: `~right:<its native id>`. Why `~` and the side:
/// it names the record by what it has (its own id on its side), and no
/// two sides' ids can meet. Keys of this shape are reserved: a record
/// whose real key is `~left:…` or `~right:…` would be taken for one.
pub fn provisional_key(side: Side, native_id: &str) -> String {
    format!("~{}:{native_id}", side.name())
}

/// The side a provisional key ([`provisional_key`]) was born on.
pub fn provisional_side(key: &str) -> Option<Side> {
    let rest = key.strip_prefix('~')?;
    [Side::Left, Side::Right].into_iter().find(|s| {
        rest.strip_prefix(s.name())
            .is_some_and(|r| r.starts_with(':'))
    })
}

/// A record born without a key gets the one the other side's create
/// answered with: committed with the create's acknowledgement, in one
/// transaction (`Changes::rekeys`). The store moves every reference to
/// `from` (the record's row, received and waiting events, pending
/// operations, dead letters, reviews, resolutions) to `to`; pending
/// operations for `linked` (the side that made the record) also get its
/// id there, `native_id`, so an update queued before the create's answer
/// can address the record. The record's new state, and the key's
/// write-back, are in the same `Changes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rekey {
    pub from: String,
    pub to: String,
    pub linked: Side,
    pub native_id: String,
}

impl RecordState {
    pub fn side(&self, side: Side) -> &SideState {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }
    pub fn side_mut(&mut self, side: Side) -> &mut SideState {
        match side {
            Side::Left => &mut self.left,
            Side::Right => &mut self.right,
        }
    }
}

/// An operation for a provider, persisted before it is sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub op: OpKind,
    pub key: String,
    /// The provider's own id of the record, when tether knows it (`ids`,
    /// or returned by a create): receivers can address the record by it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    pub idempotency_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Json>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unset: Vec<String>,
    /// A previous attempt may have reached the provider: the row already
    /// had a batch number when this send began (a crash, or an earlier
    /// pass that gave up). A create made safe by a lookup looks up first.
    /// Not stored: the batch column says it.
    #[serde(skip)]
    pub maybe_sent: bool,
}

#[derive(Clone, Debug)]
pub struct OutboxRow {
    pub seq: i64,
    pub side: Side,
    pub batch: Option<i64>,
    pub operation: Operation,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeadLetter {
    pub id: i64,
    pub key: Option<String>,
    pub side: Side,
    /// In the form of `tether run`'s rejects (`exec/reject.rs`).
    pub errors: Vec<RecordError>,
    pub events: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    pub created_at: String,
    pub status: LetterStatus,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Review {
    pub id: i64,
    pub key: String,
    pub reason: String,
    pub fields: Vec<Parked>,
    pub created_at: String,
    pub status: ReviewStatus,
}

/// What one merge transaction writes.
#[derive(Default)]
pub struct Changes {
    pub records: Vec<RecordState>,
    /// Each event's new status, and the record (key) it belongs to.
    pub statuses: Vec<(i64, EventStatus, Option<String>)>,
    pub outbox: Vec<(Side, Operation)>,
    pub resolutions: Vec<(String, Resolution)>,
    pub dead_letters: Vec<NewDeadLetter>,
    pub reviews: Vec<(String, String, Vec<Parked>)>,
    /// Records given their key: applied before everything else here.
    pub rekeys: Vec<Rekey>,
}

pub struct NewDeadLetter {
    pub key: Option<String>,
    pub side: Side,
    /// In the form of `tether run`'s rejects (`exec/reject.rs`).
    pub errors: Vec<RecordError>,
    pub events: Vec<i64>,
    /// A write the provider refused: replaying the letter sends it again.
    pub operation: Option<Operation>,
}

/// The state the engine needs. One implementation per kind of store; the
/// engine and the merge know nothing of SQL.
pub trait Store {
    /// Stores delivered events in one transaction; per event, whether it is
    /// new (`false`: its id was already received: a duplicate). With a
    /// checkpoint, the side's checkpoint is replaced in the same
    /// transaction: a poller's cursor moves exactly when the page it
    /// covers is stored.
    fn insert_events(
        &mut self,
        mapping: &str,
        events: &[NewEvent],
        checkpoint: Option<(Side, &Checkpoint)>,
    ) -> Result<Vec<bool>>;
    /// Where the side's reading stopped last (its last checkpoint).
    fn checkpoint(&self, mapping: &str, side: Side) -> Result<Option<Checkpoint>>;
    /// The provider's breaker as a run left it open; `None`: closed.
    fn breaker(&self, provider: &str) -> Result<Option<OpenBreaker>>;
    /// Keeps the provider's breaker open (`Some`) or forgets it (closed).
    fn set_breaker(&mut self, provider: &str, open: Option<OpenBreaker>) -> Result<()>;
    /// Events received and not yet merged, in arrival order: every such
    /// event of the records of the first `records` events, so a record's
    /// events are merged together.
    fn received(&self, mapping: &str, records: usize) -> Result<Vec<StoredEvent>>;
    /// The record a side's key belongs to.
    fn find_record(&self, mapping: &str, side: Side, key: &str) -> Result<Option<RecordState>>;
    /// The record a side's own id (`ids`) is linked to: how a record born
    /// without a key finds its state again, before and after it is
    /// re-keyed.
    fn find_by_native_id(&self, mapping: &str, side: Side, id: &str)
    -> Result<Option<RecordState>>;
    /// Records to merge without new events (a review resolved).
    fn dirty_records(&self, mapping: &str) -> Result<Vec<RecordState>>;
    /// Writes one merge group atomically.
    fn commit(&mut self, mapping: &str, changes: Changes) -> Result<()>;
    /// Operations not yet sent to `side`, in order.
    /// At most `limit` of them.
    fn pending(&self, mapping: &str, side: Side, limit: usize) -> Result<Vec<OutboxRow>>;
    /// Gives the pending rows without a batch one batch number.
    fn assign_batch(&mut self, mapping: &str, side: Side, rows: &[i64]) -> Result<i64>;
    fn mark_sent(&mut self, mapping: &str, side: Side, batch: i64) -> Result<()>;
    /// Marks some rows of a batch sent: the ones a provider answered when
    /// it gave up before the rest.
    fn mark_sent_rows(&mut self, mapping: &str, side: Side, seqs: &[i64]) -> Result<()>;
    /// Forgets settled events received before `days` ago.
    fn prune(&mut self, days: u32) -> Result<usize>;
    fn resolutions(&self, mapping: &str, key: &str) -> Result<Vec<Resolution>>;
    fn dead_letters(&self, mapping: &str, open_only: bool) -> Result<Vec<DeadLetter>>;
    /// One dead letter, open or settled.
    fn dead_letter(&self, mapping: &str, id: i64) -> Result<Option<DeadLetter>>;
    /// Puts a dead letter's events, and those waiting behind it, back to
    /// be merged (`discard`: drops its own events instead).
    fn settle_dead_letter(&mut self, mapping: &str, id: i64, replay: bool) -> Result<bool>;
    fn reviews(&self, mapping: &str, open_only: bool) -> Result<Vec<Review>>;
    /// Records a person's decision and releases the record.
    fn resolve_review(
        &mut self,
        mapping: &str,
        key: &str,
        take: Side,
        field: Option<&str>,
    ) -> Result<bool>;
    /// Every event of a record, newest first, for `--explain`.
    fn events_of(&self, mapping: &str, key: &str) -> Result<Vec<(i64, String, String, String)>>;
    /// Records how a pass of `mapping` ended (its error as the pass
    /// reported it), for `tether status`.
    fn record_pass(&mut self, mapping: &str, outcome: std::result::Result<(), &str>) -> Result<()>;
    /// Prunes `mapping`'s acknowledged outbox rows sent before
    /// `sent_days` ago (`None`: kept), and its dead letters, reviews and
    /// conflict resolutions settled before `settled_days` ago; then
    /// truncates the write-ahead log (docs/design/14-operations.md).
    fn retain(
        &mut self,
        mapping: &str,
        sent_days: Option<u32>,
        settled_days: u32,
    ) -> Result<super::retention::Pruned>;
    /// The dead letters made after the one numbered `after` (the log's
    /// lines about them), and the highest number so far (ids only grow:
    /// `AUTOINCREMENT`).
    /// At most `limit` of them are read.
    fn dead_letters_after(
        &self,
        mapping: &str,
        after: i64,
        limit: usize,
    ) -> Result<(Vec<DeadLetter>, i64)>;
}

/// One step of the store's schema.
enum Migration {
    Sql(&'static str),
    /// Stored values rewritten in Rust (their JSON form changed).
    Rewrite(fn(&Transaction<'_>) -> Result<()>),
}

/// Numbered migrations; `PRAGMA user_version` is how many have run.
const MIGRATIONS: &[Migration] = &[
    // 1: the first schema.
    Migration::Sql(
        "CREATE TABLE records (
        mapping TEXT NOT NULL, key TEXT NOT NULL, right_key TEXT,
        blocked TEXT, dirty INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,
        PRIMARY KEY (mapping, key));
     CREATE INDEX records_right ON records (mapping, right_key);
     CREATE TABLE inbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, mapping TEXT NOT NULL, side TEXT NOT NULL,
        event_id TEXT NOT NULL, op TEXT NOT NULL, version TEXT, record TEXT NOT NULL,
        side_key TEXT, malformed TEXT, record_key TEXT,
        status TEXT NOT NULL, received_at TEXT NOT NULL,
        UNIQUE (mapping, side, event_id));
     CREATE INDEX inbox_status ON inbox (mapping, status);
     CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, mapping TEXT NOT NULL, side TEXT NOT NULL,
        batch INTEGER, key TEXT NOT NULL, idempotency_key TEXT NOT NULL,
        operation TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
        sent_at TEXT);
     CREATE INDEX outbox_pending ON outbox (mapping, side, status);
     CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT, mapping TEXT NOT NULL, key TEXT,
        side TEXT NOT NULL, errors TEXT NOT NULL, events TEXT NOT NULL,
        created_at TEXT NOT NULL, status TEXT NOT NULL);
     CREATE TABLE reviews (
        id INTEGER PRIMARY KEY AUTOINCREMENT, mapping TEXT NOT NULL, key TEXT NOT NULL,
        reason TEXT NOT NULL, fields TEXT NOT NULL, created_at TEXT NOT NULL,
        status TEXT NOT NULL);
     CREATE TABLE resolutions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, mapping TEXT NOT NULL, key TEXT NOT NULL,
        resolution TEXT NOT NULL, at TEXT NOT NULL);
     CREATE INDEX resolutions_key ON resolutions (mapping, key);",
    ),
    // 2: dead letters keep a refused write, to send it again on replay.
    Migration::Sql("ALTER TABLE dead_letters ADD COLUMN operation TEXT;"),
    // 3: received events are paged by record.
    Migration::Sql("CREATE INDEX inbox_record ON inbox (mapping, status, record_key, seq);"),
    // 4: outbox batches are numbered and acknowledged by index.
    Migration::Sql("CREATE INDEX outbox_batch ON outbox (mapping, batch);"),
    // 5: dead letters' errors in the form of `run`'s rejects.
    Migration::Rewrite(letter_errors_as_rejects),
    // 6: the mappings synced, so `dlq`/`review` can tell a mapping that has
    // nothing open from a typo.
    Migration::Sql(
        "CREATE TABLE mappings (name TEXT PRIMARY KEY, first_synced_at TEXT NOT NULL);
     INSERT OR IGNORE INTO mappings SELECT DISTINCT mapping, datetime('now') FROM records;
     INSERT OR IGNORE INTO mappings SELECT DISTINCT mapping, datetime('now') FROM inbox;",
    ),
    // 7: a malformed event keeps the error `run` gives it (code, path,
    // message), not only a message.
    Migration::Rewrite(malformed_as_errors),
    // 8: where each polled side's reading stopped, moved with its pages.
    Migration::Sql(
        "CREATE TABLE checkpoints (mapping TEXT NOT NULL, side TEXT NOT NULL,
        value TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (mapping, side));",
    ),
    // 9: providers' circuit breakers left open, by provider (one API
    // account serves every mapping of the store); instants in epoch
    // milliseconds.
    Migration::Sql(
        "CREATE TABLE provider_health (provider TEXT PRIMARY KEY,
        open_until_ms INTEGER NOT NULL, cooldown_ms INTEGER NOT NULL,
        updated_at TEXT NOT NULL);",
    ),
    // 10: the webhook receiver's inbox: each notice of a verified delivery,
    // stored before the delivery is answered, once per provider event id
    // (a replay is a no-op). `notice` is the notice as JSON; a notice that
    // cannot be read keeps `error` and the delivery's body instead.
    Migration::Sql(
        "CREATE TABLE deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, endpoint TEXT NOT NULL,
        event_id TEXT NOT NULL, received_at TEXT NOT NULL,
        notice TEXT, error TEXT, body BLOB, status TEXT NOT NULL,
        UNIQUE (endpoint, event_id));
     CREATE INDEX deliveries_status ON deliveries (endpoint, status, seq);",
    ),
    // 11: how each mapping's passes last ended, for `tether status`: one
    // row per mapping, updated in place.
    Migration::Sql(
        "CREATE TABLE passes (mapping TEXT PRIMARY KEY, last_ok_at TEXT,
        last_failed_at TEXT, last_error TEXT);",
    ),
    // 12 (issue 22, retention): when a dead letter was replayed or
    // discarded and a review resolved, so settled ones are pruned 30 days
    // after that, not after they were opened; acknowledged outbox rows are
    // pruned by when they were sent.
    Migration::Sql(
        "ALTER TABLE dead_letters ADD COLUMN settled_at TEXT;
     ALTER TABLE reviews ADD COLUMN settled_at TEXT;
     CREATE INDEX outbox_sent ON outbox (mapping, status, sent_at);",
    ),
    // 13: records found by a side's own id (`ids`): a record born without
    // the mapping's key is found by it until its key is written back
    // (`Store::find_by_native_id`). Columns beside the state, as
    // `right_key` is, written with it by `put_record`: an index on
    // `json_extract(state, …)` would parse every record's JSON twice on
    // every write; a scan per keyless event would make a first sync of N
    // such records N² (docs/design/10-rest-providers.md, "Records born on
    // the other side").
    Migration::Sql(
        "ALTER TABLE records ADD COLUMN left_id TEXT;
     ALTER TABLE records ADD COLUMN right_id TEXT;
     UPDATE records SET left_id = json_extract(state, '$.left.native_id'),
                        right_id = json_extract(state, '$.right.native_id');
     CREATE INDEX records_left_id ON records (mapping, left_id);
     CREATE INDEX records_right_id ON records (mapping, right_id);",
    ),
    // 14 (issue 22, alerts): each alert incident: `since` when its condition
    // was first seen, `fired_at` when it was notified (after the rule's
    // hold), `resolved_at` when it cleared; `*_sent` are bitmasks of the
    // sinks that have the transition (a failed send is owed, retried at
    // the next evaluation). At most one unresolved row per rule and
    // subject: a restart finds it and does not fire again.
    Migration::Sql(
        "CREATE TABLE alerts (id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL, subject TEXT NOT NULL, since TEXT NOT NULL,
        fired_at TEXT, resolved_at TEXT, message TEXT NOT NULL,
        fired_sent INTEGER NOT NULL, resolved_sent INTEGER NOT NULL);
     CREATE UNIQUE INDEX alerts_unresolved ON alerts (rule, subject) WHERE resolved_at IS NULL;",
    ),
    // 15: open dead letters by mapping, in id order: `status`, the
    // console's pages and `dlq list` count and page them, and with 100,000
    // open letters a scan of the table was most of a page's time.
    Migration::Sql("CREATE INDEX dead_letters_open ON dead_letters (mapping, status, id);"),
];

/// A transaction that writes. `BEGIN IMMEDIATE` takes the write lock at
/// the start, waiting under the busy timeout: a deferred one that reads
/// first is refused at once ("database is locked", no wait) when another
/// connection (the webhook receiver's) committed since its read, and the
/// whole pass failed under webhook load (benches/webhooks).
fn write_tx(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// Migration 7: rewrites each stored reason a malformed event was kept
/// with (plain text) as the E1001 error it was reported as.
fn malformed_as_errors(tx: &Transaction<'_>) -> Result<()> {
    let events: Vec<(i64, String)> = tx
        .prepare("SELECT seq, malformed FROM inbox WHERE malformed IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = tx.prepare("UPDATE inbox SET malformed = ?2 WHERE seq = ?1")?;
    for (seq, reason) in events {
        let error = RecordError::of_input(crate::diag::Code::E1001, reason);
        update.execute(params![seq, to_text(&error)?])?;
    }
    Ok(())
}

/// A dead letter's error as stores before migration 5 kept it: the value
/// as JSON text inside a string, `""` for no rule or no value.
#[derive(Deserialize)]
struct LegacyLetterError {
    code: String,
    rule: String,
    path: String,
    value: String,
    message: String,
}

/// Migration 5: rewrites every dead letter's errors from the legacy form
/// into [`RecordError`]'s (the value as JSON, `null` for what is absent).
fn letter_errors_as_rejects(tx: &Transaction<'_>) -> Result<()> {
    let letters: Vec<(i64, String)> = tx
        .prepare("SELECT id, errors FROM dead_letters")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = tx.prepare("UPDATE dead_letters SET errors = ?2 WHERE id = ?1")?;
    for (id, text) in letters {
        let legacy: Vec<LegacyLetterError> = from_text(&text)?;
        let errors = legacy
            .into_iter()
            .map(|e| {
                let code = crate::diag::Code::parse(&e.code).ok_or_else(|| {
                    rusqlite::Error::InvalidParameterName(format!(
                        "dead letter {id} has an unknown error code `{}`",
                        e.code
                    ))
                })?;
                Ok(RecordError {
                    code,
                    rule: e.rule,
                    path: e.path,
                    value: e.value,
                    message: e.message,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        update.execute(params![id, to_text(&errors)?])?;
    }
    Ok(())
}

pub struct SqliteStore {
    conn: Connection,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn to_text<T: Serialize>(v: &T) -> rusqlite::Result<String> {
    serde_json::to_string(v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn from_text<T: for<'de> Deserialize<'de>>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Whether opening a store may start a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// `sync`: a new store where no file exists.
    CreateIfMissing,
    /// `dlq`, `review`, `sync --explain`: a missing store is a typo.
    Existing,
}

/// Why a state store was not opened. A file that exists is never taken
/// for a new store: an emptied or foreign file would otherwise start over
/// and send every record again under new idempotency keys.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("no such state store (check the path; `tether sync` creates a store on its first run)")]
    Missing,
    /// Exists, but is not a tether state store (empty, not SQLite, or an
    /// SQLite database without tether's tables).
    #[error(
        "not a tether state store ({0}); refusing to use it, since starting \
         over would send every record again (restore it from a backup, or \
         remove it to start a new store)"
    )]
    NotAStore(&'static str),
    /// Written by a newer tether.
    #[error(
        "the state store has schema version {found}, written by a newer tether \
         (this one knows up to {known}); upgrade tether"
    )]
    Newer { found: usize, known: usize },
    /// Another process holds the database (SQLite's own lock).
    #[error("the state store is in use by another tether process; try again")]
    Busy,
    #[error("{}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> OpenError {
        if is_busy(&e) {
            OpenError::Busy
        } else {
            OpenError::Sqlite(e)
        }
    }
}

impl From<StoreError> for OpenError {
    fn from(e: StoreError) -> OpenError {
        match e {
            StoreError::Sqlite(e) => e.into(),
            StoreError::Newer { found, known } => OpenError::Newer { found, known },
        }
    }
}

/// SQLite's "database is locked" (another connection writes).
pub fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// What every SQLite database file starts with.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

impl SqliteStore {
    /// Opens the store at `path`; a new one only where no file exists and
    /// `mode` allows it. An existing file must be a tether store.
    pub fn open(path: &FsPath, mode: OpenMode) -> std::result::Result<SqliteStore, OpenError> {
        use rusqlite::OpenFlags;
        let exists = match std::fs::metadata(path) {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(source) => {
                return Err(OpenError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        if !exists {
            if mode == OpenMode::Existing {
                return Err(OpenError::Missing);
            }
            Self::create(path)?;
        }
        let mut head = [0u8; 16];
        let read = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .map_err(|source| OpenError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if read == 0 {
            return Err(OpenError::NotAStore("the file is empty"));
        }
        if read < head.len() || &head != SQLITE_MAGIC {
            return Err(OpenError::NotAStore("the file is not an SQLite database"));
        }
        // Without SQLITE_OPEN_CREATE: the file is opened, never made anew.
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(0);
        if version > MIGRATIONS.len() {
            return Err(OpenError::Newer {
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        let has_records: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records')",
            [],
            |r| r.get(0),
        )?;
        if version == 0 || !has_records {
            return Err(OpenError::NotAStore(
                "an SQLite database without tether's tables",
            ));
        }
        Ok(Self::init(conn)?)
    }

    /// Another connection to a store this process already opened with
    /// [`SqliteStore::open`] (the console's, the metrics'). Why not `open`
    /// again: its header check opens and closes the file outside SQLite,
    /// and closing any descriptor of a file drops every POSIX lock the
    /// process holds on it, the other connections' included; another
    /// process could then take the database for unused and checkpoint and
    /// remove the write-ahead log under them, and what they commit next
    /// goes to a log no one else reads. SQLite's own opens share one set
    /// of locks per file within a process.
    pub fn open_again(path: &FsPath) -> std::result::Result<SqliteStore, OpenError> {
        use rusqlite::OpenFlags;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if usize::try_from(version).unwrap_or(0) > MIGRATIONS.len() {
            return Err(OpenError::Newer {
                found: usize::try_from(version).unwrap_or(0),
                known: MIGRATIONS.len(),
            });
        }
        Ok(Self::init(conn)?)
    }

    /// Creates a new store at `path` whole: built under a temporary name,
    /// then renamed. A first run killed half-way leaves no file at `path`
    /// (which the next run would refuse as not a store), only a leftover
    /// the next creation replaces. The caller holds the sync lock.
    fn create(path: &FsPath) -> std::result::Result<(), OpenError> {
        use rusqlite::OpenFlags;
        let mut name = path.as_os_str().to_owned();
        name.push(".new");
        let tmp = std::path::PathBuf::from(name);
        let io = |source: std::io::Error| OpenError::Io {
            path: tmp.clone(),
            source,
        };
        // An empty regular file made exclusively (never through a link),
        // which SQLite takes as a new database.
        drop(crate::safe_fs::create_exclusive(&tmp).map_err(io)?);
        let conn = Connection::open_with_flags(
            &tmp,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A rollback journal while it is built: the file is then the
        // whole database, ready to be renamed.
        conn.pragma_update(None, "journal_mode", "DELETE")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let mut store = SqliteStore { conn };
        store.migrate()?;
        drop(store);
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(io)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Notes that `sync` ran `mapping` on this store.
    pub fn register_mapping(&self, mapping: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO mappings (name, first_synced_at) VALUES (?1, ?2)",
            params![mapping, now()],
        )?;
        Ok(())
    }

    /// Whether `sync` ever ran `mapping` on this store (a `--mapping`
    /// typo did not).
    pub fn knows_mapping(&self, mapping: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM mappings WHERE name = ?1)",
            [mapping],
            |r| r.get(0),
        )?)
    }

    /// The mappings synced on this store, for the message of a typo.
    pub fn mappings(&self) -> Result<Vec<String>> {
        self.conn
            .prepare("SELECT name FROM mappings ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()
            .map_err(Into::into)
    }

    /// Open dead letters and open reviews of `mapping`: work a person must
    /// do, reported by every pass until it is done.
    /// Everything `tether status` shows, read in one transaction (a
    /// consistent snapshot while a sync writes).
    pub fn status_report(&mut self) -> Result<StatusReport> {
        use super::status::{
            BreakerStatus, Cursor, EndpointStatus, FailedPass, MappingStatus, Open, SideStatus,
        };
        let tx = self.conn.transaction()?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let names: Vec<String> = tx
            .prepare("SELECT name FROM mappings ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut mappings = Vec::with_capacity(names.len());
        for name in names {
            let open = |table: &str| -> Result<Open> {
                Ok(tx.query_row(
                    &format!(
                        "SELECT COUNT(*), MIN(created_at) FROM {table}
                         WHERE mapping = ?1 AND status = 'open'"
                    ),
                    [&name],
                    |r| {
                        Ok(Open {
                            count: count(r.get(0)?),
                            oldest: r.get(1)?,
                        })
                    },
                )?)
            };
            let (dead_letters, reviews) = (open("dead_letters")?, open("reviews")?);
            let mut sides = Vec::with_capacity(2);
            for side in [Side::Left, Side::Right] {
                let received = tx.query_row(
                    "SELECT COUNT(*), MIN(received_at) FROM inbox
                     WHERE mapping = ?1 AND side = ?2 AND status = ?3",
                    params![name, side, EventStatus::Received],
                    |r| {
                        Ok(Open {
                            count: count(r.get(0)?),
                            oldest: r.get(1)?,
                        })
                    },
                )?;
                let blocked: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM inbox WHERE mapping = ?1 AND side = ?2 AND status = ?3",
                    params![name, side, EventStatus::Waiting],
                    |r| r.get(0),
                )?;
                let unacknowledged = tx.query_row(
                    "SELECT COUNT(*), MIN(created_at) FROM outbox
                     WHERE mapping = ?1 AND side = ?2 AND status = 'pending'",
                    params![name, side],
                    |r| {
                        Ok(Open {
                            count: count(r.get(0)?),
                            oldest: r.get(1)?,
                        })
                    },
                )?;
                let cursor = tx
                    .query_row(
                        "SELECT value, updated_at FROM checkpoints WHERE mapping = ?1 AND side = ?2",
                        params![name, side],
                        |r| {
                            Ok(Cursor {
                                value: r.get(0)?,
                                updated_at: r.get(1)?,
                            })
                        },
                    )
                    .optional()?;
                sides.push(SideStatus {
                    side,
                    received,
                    blocked: count(blocked),
                    unacknowledged,
                    cursor,
                });
            }
            let (last_ok, last_failed) = tx
                .query_row(
                    "SELECT last_ok_at, last_failed_at, last_error FROM passes WHERE mapping = ?1",
                    [&name],
                    |r| {
                        let failed = match (
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, Option<String>>(2)?,
                        ) {
                            (Some(at), error) => Some(FailedPass {
                                at,
                                error: error.unwrap_or_default(),
                            }),
                            (None, _) => None,
                        };
                        Ok((r.get(0)?, failed))
                    },
                )
                .optional()?
                .unwrap_or((None, None));
            mappings.push(MappingStatus {
                name,
                sides,
                dead_letters,
                reviews,
                last_ok,
                last_failed,
            });
        }
        let breakers = tx
            .prepare("SELECT provider, open_until_ms FROM provider_health ORDER BY provider")?
            .query_map([], |r| {
                let until: i64 = r.get(1)?;
                Ok(BreakerStatus {
                    provider: r.get(0)?,
                    open_until: chrono::DateTime::from_timestamp_millis(until)
                        .unwrap_or_default()
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let week_ago = (chrono::Utc::now() - chrono::Duration::days(7))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let webhooks = tx
            .prepare(
                "SELECT endpoint, SUM(received_at >= ?1), SUM(received_at >= ?2), MIN(received_at),
                        SUM(status = ?3)
                 FROM deliveries GROUP BY endpoint ORDER BY endpoint",
            )?
            .query_map(params![hour_ago, week_ago, NoticeStatus::Pending], |r| {
                let week: i64 = r.get::<_, Option<i64>>(2)?.unwrap_or(0);
                // The mean over the hours the store has kept deliveries
                // for, at most a week (a new endpoint is not diluted).
                let first: Option<String> = r.get(3)?;
                let hours = first
                    .and_then(|f| chrono::DateTime::parse_from_rfc3339(&f).ok())
                    .map_or(1.0, |f| {
                        let kept = chrono::Utc::now() - f.with_timezone(&chrono::Utc);
                        (kept.num_seconds() as f64 / 3600.0).clamp(1.0, 168.0)
                    });
                Ok(EndpointStatus {
                    endpoint: r.get(0)?,
                    last_hour: count(r.get::<_, Option<i64>>(1)?.unwrap_or(0)),
                    hourly_mean: week as f64 / hours,
                    pending: count(r.get::<_, Option<i64>>(4)?.unwrap_or(0)),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        drop(tx);
        Ok(StatusReport {
            mappings,
            breakers,
            webhooks,
        })
    }

    pub fn open_work(&self, mapping: &str) -> Result<(u64, u64)> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM dead_letters WHERE mapping = ?1 AND status = 'open'),
                    (SELECT COUNT(*) FROM reviews WHERE mapping = ?1 AND status = 'open')",
            [mapping],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?.max(0) as u64,
                    r.get::<_, i64>(1)?.max(0) as u64,
                ))
            },
        )?)
    }

    /// Stores the notices of one webhook delivery in one transaction, so
    /// the receiver answers only once all of them are durable (or none, and
    /// it answers 5xx). A notice whose event id the endpoint already has is
    /// a replay and left as it is. Returns how many were new.
    pub fn store_delivery(&mut self, endpoint: &str, notices: &[InboxNotice]) -> Result<usize> {
        let tx = write_tx(&mut self.conn)?;
        let mut new = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO deliveries (endpoint, event_id, received_at, notice, error, body,
                 status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (endpoint, event_id) DO NOTHING",
            )?;
            let at = now();
            for n in notices {
                let (notice, error, body) = match &n.content {
                    NoticeContent::Read(text) => (Some(text.as_str()), None, None),
                    NoticeContent::Malformed { error, body } => {
                        (None, Some(error.as_str()), Some(body.as_slice()))
                    }
                };
                new += insert.execute(params![
                    endpoint,
                    n.event_id,
                    at,
                    notice,
                    error,
                    body,
                    NoticeStatus::Pending
                ])?;
            }
        }
        tx.commit()?;
        Ok(new)
    }

    /// How many notices of `endpoint` wait to be read by a sync: the
    /// receiver refuses deliveries (429) while too many do.
    pub fn pending_notices(&self, endpoint: &str) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM deliveries WHERE endpoint = ?1 AND status = ?2",
            params![endpoint, NoticeStatus::Pending],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The sequence numbers of `endpoint`'s pending notices, oldest first.
    pub fn pending_notice_seqs(&self, endpoint: &str) -> Result<Vec<i64>> {
        self.conn
            .prepare_cached(
                "SELECT seq FROM deliveries WHERE endpoint = ?1 AND status = ?2 ORDER BY seq",
            )?
            .query_map(params![endpoint, NoticeStatus::Pending], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()
            .map_err(Into::into)
    }

    /// `endpoint`'s pending notices with `seq` in `from..=to`, in order.
    pub fn pending_notices_between(
        &self,
        endpoint: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<StoredNotice>> {
        let mut q = self.conn.prepare_cached(
            "SELECT seq, event_id, notice, error, body FROM deliveries
             WHERE endpoint = ?1 AND status = ?2 AND seq BETWEEN ?3 AND ?4 ORDER BY seq",
        )?;
        let rows = q.query_map(params![endpoint, NoticeStatus::Pending, from, to], |r| {
            let notice: Option<String> = r.get(2)?;
            let content = match notice {
                Some(text) => NoticeContent::Read(text),
                None => NoticeContent::Malformed {
                    error: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    body: r.get::<_, Option<Vec<u8>>>(4)?.unwrap_or_default(),
                },
            };
            Ok(StoredNotice {
                seq: r.get(0)?,
                notice: InboxNotice {
                    event_id: r.get(1)?,
                    content,
                },
            })
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(Into::into)
    }

    /// Marks `endpoint`'s notices with `seq` in `from..=to` read into a
    /// sync's events. Their rows stay (and their bodies are dropped) so
    /// a replay of the same event is still recognised, until pruned.
    pub fn take_notices(&mut self, endpoint: &str, from: i64, to: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE deliveries SET status = ?2, body = NULL
             WHERE endpoint = ?1 AND seq BETWEEN ?3 AND ?4",
            params![endpoint, NoticeStatus::Taken, from, to],
        )?;
        Ok(())
    }

    /// Forgets notices taken and received before `days` ago (a replay
    /// older than that is received again, and the sync's own inbox
    /// deduplicates it for as long as it keeps event ids).
    pub fn prune_notices(&mut self, days: u32) -> Result<usize> {
        let cutoff = (chrono::Utc::now() - chrono::Duration::days(i64::from(days)))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Ok(self.conn.execute(
            "DELETE FROM deliveries WHERE received_at < ?1 AND status = ?2",
            params![cutoff, NoticeStatus::Taken],
        )?)
    }

    /// `tether store compact`: rewrites the file without its free pages
    /// (`VACUUM`) and truncates the write-ahead log. Takes as long as
    /// copying the store, and needs as much free disk again; so only on
    /// request, never after a pass.
    pub fn compact(&mut self) -> Result<()> {
        self.conn.execute_batch("VACUUM")?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The console's page of open dead letters: at most `limit` with an id
    /// over `after`, in id order. A range scan of the primary key from
    /// `after` (settled letters are pruned by retention, so few are
    /// skipped), never a count or an offset over the whole table.
    pub fn open_letters_page(
        &self,
        mapping: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<DeadLetter>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.letters_after(mapping, true, None, after, limit)
    }

    /// The records of a dead letter's events as delivered (what the
    /// console shows of a letter without a record state): per event its
    /// number, the record's JSON text and, for a line that was not JSON,
    /// the line as read.
    pub fn event_records(
        &self,
        mapping: &str,
        seqs: &[i64],
    ) -> Result<Vec<(i64, String, Option<String>)>> {
        let mut q = self.conn.prepare_cached(
            "SELECT record, malformed FROM inbox WHERE mapping = ?1 AND seq = ?2",
        )?;
        let mut out = Vec::new();
        for seq in seqs {
            let row: Option<(String, Option<String>)> = q
                .query_row(params![mapping, seq], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((record, malformed)) = row {
                out.push((*seq, record, malformed));
            }
        }
        Ok(out)
    }

    /// One review by its number, open or resolved (the console's page).
    pub fn review(&self, mapping: &str, id: i64) -> Result<Option<Review>> {
        let key: Option<String> = self
            .conn
            .query_row(
                "SELECT key FROM reviews WHERE mapping = ?1 AND id = ?2",
                params![mapping, id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(key) = key else { return Ok(None) };
        Ok(self
            .parked(mapping, false, Some(&key))?
            .into_iter()
            .find(|r| r.id == id))
    }

    /// Notes who decided a parked field and when (the console), beside
    /// the merge's own resolutions, so `--explain` shows it.
    pub fn note_resolution(&mut self, mapping: &str, key: &str, r: &Resolution) -> Result<()> {
        self.conn.execute(
            "INSERT INTO resolutions (mapping, key, resolution, at) VALUES (?1, ?2, ?3, ?4)",
            params![mapping, key, to_text(r)?, now()],
        )?;
        Ok(())
    }

    /// A store that lives as long as the value (tests, dry runs).
    pub fn in_memory() -> Result<SqliteStore> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<SqliteStore> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let mut store = SqliteStore { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let version: usize = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))?
            .try_into()
            .unwrap_or(0);
        if version > MIGRATIONS.len() {
            return Err(StoreError::Newer {
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = write_tx(&mut self.conn)?;
            match step {
                Migration::Sql(sql) => tx.execute_batch(sql)?,
                Migration::Rewrite(rewrite) => rewrite(&tx)?,
            }
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Dead letters, open ones only or all, one by id or every one.
    fn letters(&self, mapping: &str, open_only: bool, id: Option<i64>) -> Result<Vec<DeadLetter>> {
        self.letters_after(mapping, open_only, id, 0, -1)
    }

    /// Dead letters, open ones only or all, one or every one, with an id
    /// over `after`; at most `limit` (-1: all).
    /// The id as a range (not `?3 IS NULL OR id = ?3`), so SQLite seeks
    /// the primary key for one letter and for a page instead of scanning
    /// (the console's pages with 100,000 open letters).
    fn letters_after(
        &self,
        mapping: &str,
        open_only: bool,
        id: Option<i64>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<DeadLetter>> {
        let mut q = self.conn.prepare(
            "SELECT id, key, side, errors, events, created_at, status, operation FROM dead_letters
             WHERE mapping = ?1 AND (?2 = 0 OR status = 'open')
             AND id > ?4 AND id BETWEEN COALESCE(?3, 0) AND COALESCE(?3, 9223372036854775807)
             ORDER BY id LIMIT ?5",
        )?;
        let rows = q.query_map(params![mapping, open_only, id, after, limit], |r| {
            Ok(DeadLetter {
                id: r.get(0)?,
                key: r.get(1)?,
                side: r.get(2)?,
                errors: from_text(&r.get::<_, String>(3)?)?,
                events: from_text(&r.get::<_, String>(4)?)?,
                created_at: r.get(5)?,
                status: r.get(6)?,
                operation: r
                    .get::<_, Option<String>>(7)?
                    .map(|t| from_text(&t))
                    .transpose()?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(Into::into)
    }

    /// Reviews, open ones only or all, of one record or every one.
    fn parked(&self, mapping: &str, open_only: bool, key: Option<&str>) -> Result<Vec<Review>> {
        let mut q = self.conn.prepare(
            "SELECT id, key, reason, fields, created_at, status FROM reviews
             WHERE mapping = ?1 AND (?2 = 0 OR status = 'open') AND (?3 IS NULL OR key = ?3)
             ORDER BY id",
        )?;
        let rows = q.query_map(params![mapping, open_only, key], |r| {
            Ok(Review {
                id: r.get(0)?,
                key: r.get(1)?,
                reason: r.get(2)?,
                fields: from_text(&r.get::<_, String>(3)?)?,
                created_at: r.get(4)?,
                status: r.get(5)?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(Into::into)
    }

    fn record_row(&self, sql: &str, mapping: &str, key: &str) -> Result<Option<RecordState>> {
        let text: Option<String> = self
            .conn
            .prepare_cached(sql)?
            .query_row(params![mapping, key], |r| r.get(0))
            .optional()?;
        Ok(text.map(|t| from_text(&t)).transpose()?)
    }
}

fn put_record(tx: &Transaction<'_>, mapping: &str, r: &RecordState) -> Result<()> {
    let blocked = r.blocked.as_ref().map(to_text).transpose()?;
    tx.prepare_cached(
        "INSERT INTO records (mapping, key, right_key, blocked, dirty, state, left_id, right_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (mapping, key) DO UPDATE SET right_key = ?3, blocked = ?4, dirty = ?5,
         state = ?6, left_id = ?7, right_id = ?8",
    )?
    .execute(params![
        mapping,
        r.key,
        r.right_key,
        blocked,
        r.dirty,
        to_text(r)?,
        r.left.native_id,
        r.right.native_id
    ])?;
    Ok(())
}

impl Store for SqliteStore {
    fn insert_events(
        &mut self,
        mapping: &str,
        events: &[NewEvent],
        checkpoint: Option<(Side, &Checkpoint)>,
    ) -> Result<Vec<bool>> {
        let tx = write_tx(&mut self.conn)?;
        if let Some((side, c)) = checkpoint {
            tx.execute(
                "INSERT INTO checkpoints (mapping, side, value, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (mapping, side) DO UPDATE SET value = ?3, updated_at = ?4",
                params![mapping, side, to_text(&c.0)?, now()],
            )?;
        }
        let mut fresh = Vec::with_capacity(events.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO inbox (mapping, side, event_id, op, version, record,
                 side_key, malformed, record_key, status, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'received', ?10)",
            )?;
            let at = now();
            for e in events {
                let version = e.version.as_ref().map(to_text).transpose()?;
                let n = insert.execute(params![
                    mapping,
                    e.side.name(),
                    e.event_id,
                    to_text(&e.op)?,
                    version,
                    e.record,
                    e.side_key,
                    e.malformed.as_ref().map(to_text).transpose()?,
                    e.record_key,
                    at
                ])?;
                fresh.push(n == 1);
            }
        }
        tx.commit()?;
        Ok(fresh)
    }

    fn checkpoint(&self, mapping: &str, side: Side) -> Result<Option<Checkpoint>> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM checkpoints WHERE mapping = ?1 AND side = ?2",
                params![mapping, side],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text.map(|t| from_text(&t)).transpose()?.map(Checkpoint))
    }

    fn breaker(&self, provider: &str) -> Result<Option<OpenBreaker>> {
        let row: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT open_until_ms, cooldown_ms FROM provider_health WHERE provider = ?1",
                params![provider],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        // Negative values are not written; read as zero, a breaker already
        // past its cooldown, rather than refused.
        let millis = |v: i64| std::time::Duration::from_millis(u64::try_from(v).unwrap_or(0));
        Ok(row.map(|(until, cooldown)| OpenBreaker {
            until: std::time::UNIX_EPOCH + millis(until),
            cooldown: millis(cooldown),
        }))
    }

    fn set_breaker(&mut self, provider: &str, open: Option<OpenBreaker>) -> Result<()> {
        let Some(open) = open else {
            self.conn.execute(
                "DELETE FROM provider_health WHERE provider = ?1",
                params![provider],
            )?;
            return Ok(());
        };
        let millis = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let until = open
            .until
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        self.conn.execute(
            "INSERT INTO provider_health (provider, open_until_ms, cooldown_ms, updated_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (provider) DO UPDATE SET open_until_ms = excluded.open_until_ms,
                cooldown_ms = excluded.cooldown_ms, updated_at = excluded.updated_at",
            params![provider, millis(until), millis(open.cooldown), now()],
        )?;
        Ok(())
    }

    fn received(&self, mapping: &str, records: usize) -> Result<Vec<StoredEvent>> {
        // The records of the first events in arrival order, then every
        // received event of each (index lookups: a page costs what it
        // reads, not the size of the backlog).
        let limit = i64::try_from(records).unwrap_or(i64::MAX);
        let mut first = self.conn.prepare_cached(
            "SELECT record_key FROM inbox WHERE mapping = ?1 AND status = 'received'
             ORDER BY seq LIMIT ?2",
        )?;
        let mut keys: Vec<Option<String>> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for k in first.query_map(params![mapping, limit], |r| r.get::<_, Option<String>>(0))? {
            let k = k?;
            if seen.insert(k.clone()) {
                keys.push(k);
            }
        }
        let mut of_key = self.conn.prepare_cached(
            "SELECT seq, side, event_id, op, version, record, side_key, malformed, record_key
             FROM inbox WHERE mapping = ?1 AND status = 'received' AND record_key IS ?2
             ORDER BY seq",
        )?;
        let mut out = Vec::new();
        for key in &keys {
            let rows = of_key.query_map(params![mapping, key], |r| {
                Ok(StoredEvent {
                    seq: r.get(0)?,
                    event: NewEvent {
                        side: r.get(1)?,
                        event_id: r.get(2)?,
                        op: from_text(&r.get::<_, String>(3)?)?,
                        version: r
                            .get::<_, Option<String>>(4)?
                            .map(|v| from_text(&v))
                            .transpose()?,
                        record: r.get(5)?,
                        side_key: r.get(6)?,
                        malformed: r
                            .get::<_, Option<String>>(7)?
                            .map(|v| from_text(&v))
                            .transpose()?,
                        record_key: r.get(8)?,
                    },
                })
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    fn find_record(&self, mapping: &str, side: Side, key: &str) -> Result<Option<RecordState>> {
        match side {
            Side::Left => self.record_row(
                "SELECT state FROM records WHERE mapping = ?1 AND key = ?2",
                mapping,
                key,
            ),
            Side::Right => self.record_row(
                "SELECT state FROM records WHERE mapping = ?1 AND right_key = ?2",
                mapping,
                key,
            ),
        }
    }

    fn find_by_native_id(
        &self,
        mapping: &str,
        side: Side,
        id: &str,
    ) -> Result<Option<RecordState>> {
        match side {
            Side::Left => self.record_row(
                "SELECT state FROM records WHERE mapping = ?1 AND left_id = ?2",
                mapping,
                id,
            ),
            Side::Right => self.record_row(
                "SELECT state FROM records WHERE mapping = ?1 AND right_id = ?2",
                mapping,
                id,
            ),
        }
    }

    fn dirty_records(&self, mapping: &str) -> Result<Vec<RecordState>> {
        let mut q = self.conn.prepare(
            "SELECT state FROM records WHERE mapping = ?1 AND dirty = 1 AND blocked IS NULL
             ORDER BY key",
        )?;
        let rows = q.query_map(params![mapping], |r| r.get::<_, String>(0))?;
        Ok(rows
            .map(|t| from_text(&t?))
            .collect::<rusqlite::Result<_>>()?)
    }

    fn commit(&mut self, mapping: &str, changes: Changes) -> Result<()> {
        let tx = write_tx(&mut self.conn)?;
        let at = now();
        for k in &changes.rekeys {
            rekey(&tx, mapping, k)?;
        }
        for r in &changes.records {
            put_record(&tx, mapping, r)?;
        }
        {
            let mut status = tx.prepare_cached(
                "UPDATE inbox SET status = ?2, record_key = COALESCE(?3, record_key) WHERE seq = ?1",
            )?;
            for (seq, s, key) in &changes.statuses {
                status.execute(params![seq, s.as_str(), key])?;
            }
            let mut outbox = tx.prepare_cached(
                "INSERT INTO outbox (mapping, side, key, idempotency_key, operation, status,
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
            )?;
            for (side, op) in &changes.outbox {
                outbox.execute(params![
                    mapping,
                    side.name(),
                    op.key,
                    op.idempotency_key,
                    to_text(op)?,
                    at
                ])?;
            }
        }
        for (key, r) in &changes.resolutions {
            tx.prepare_cached(
                "INSERT INTO resolutions (mapping, key, resolution, at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![mapping, key, to_text(r)?, at])?;
        }
        for d in &changes.dead_letters {
            tx.execute(
                "INSERT INTO dead_letters (mapping, key, side, errors, events, created_at, status,
                 operation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7)",
                params![
                    mapping,
                    d.key,
                    d.side.name(),
                    to_text(&d.errors)?,
                    to_text(&d.events)?,
                    at,
                    d.operation.as_ref().map(to_text).transpose()?
                ],
            )?;
        }
        for (key, reason, fields) in &changes.reviews {
            tx.execute(
                "INSERT INTO reviews (mapping, key, reason, fields, created_at, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'open')",
                params![mapping, key, reason, to_text(fields)?, at],
            )?;
        }
        Ok(tx.commit()?)
    }

    fn pending(&self, mapping: &str, side: Side, limit: usize) -> Result<Vec<OutboxRow>> {
        let mut q = self.conn.prepare(
            "SELECT seq, batch, operation FROM outbox
             WHERE mapping = ?1 AND side = ?2 AND status = 'pending' ORDER BY seq LIMIT ?3",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = q.query_map(params![mapping, side.name(), limit], |r| {
            Ok(OutboxRow {
                seq: r.get(0)?,
                side,
                batch: r.get(1)?,
                operation: from_text(&r.get::<_, String>(2)?)?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(Into::into)
    }

    fn assign_batch(&mut self, mapping: &str, side: Side, rows: &[i64]) -> Result<i64> {
        let tx = write_tx(&mut self.conn)?;
        let batch: i64 = tx.query_row(
            "SELECT COALESCE(MAX(batch), 0) + 1 FROM outbox WHERE mapping = ?1",
            params![mapping],
            |r| r.get(0),
        )?;
        {
            let mut q = tx.prepare("UPDATE outbox SET batch = ?2 WHERE seq = ?1 AND side = ?3")?;
            for seq in rows {
                q.execute(params![seq, batch, side.name()])?;
            }
        }
        tx.commit()?;
        Ok(batch)
    }

    fn mark_sent_rows(&mut self, mapping: &str, side: Side, seqs: &[i64]) -> Result<()> {
        let tx = write_tx(&mut self.conn)?;
        {
            let mut q = tx.prepare_cached(
                "UPDATE outbox SET status = 'sent', sent_at = ?4
                 WHERE mapping = ?1 AND side = ?2 AND seq = ?3",
            )?;
            let at = now();
            for seq in seqs {
                q.execute(params![mapping, side, seq, at])?;
            }
        }
        Ok(tx.commit()?)
    }

    fn mark_sent(&mut self, mapping: &str, side: Side, batch: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?4
             WHERE mapping = ?1 AND side = ?2 AND batch = ?3",
            params![mapping, side.name(), batch, now()],
        )?;
        Ok(())
    }

    fn prune(&mut self, days: u32) -> Result<usize> {
        let cutoff = (chrono::Utc::now() - chrono::Duration::days(i64::from(days)))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Ok(self.conn.execute(
            "DELETE FROM inbox WHERE received_at < ?1
             AND status IN ('applied', 'stale', 'discarded')",
            params![cutoff],
        )?)
    }

    fn resolutions(&self, mapping: &str, key: &str) -> Result<Vec<Resolution>> {
        let mut q = self.conn.prepare(
            "SELECT resolution FROM resolutions WHERE mapping = ?1 AND key = ?2 ORDER BY id",
        )?;
        let rows = q.query_map(params![mapping, key], |r| r.get::<_, String>(0))?;
        Ok(rows
            .map(|t| from_text(&t?))
            .collect::<rusqlite::Result<_>>()?)
    }

    fn dead_letters(&self, mapping: &str, open_only: bool) -> Result<Vec<DeadLetter>> {
        self.letters(mapping, open_only, None)
    }

    fn dead_letter(&self, mapping: &str, id: i64) -> Result<Option<DeadLetter>> {
        Ok(self.letters(mapping, false, Some(id))?.pop())
    }

    fn settle_dead_letter(&mut self, mapping: &str, id: i64, replay: bool) -> Result<bool> {
        let Some(letter) = self.letters(mapping, true, Some(id))?.pop() else {
            return Ok(false);
        };
        let tx = write_tx(&mut self.conn)?;
        let own = if replay { "received" } else { "discarded" };
        for seq in &letter.events {
            tx.execute(
                "UPDATE inbox SET status = ?2 WHERE seq = ?1",
                params![seq, own],
            )?;
        }
        if let (true, Some(op)) = (replay, &letter.operation) {
            tx.execute(
                "INSERT INTO outbox (mapping, side, key, idempotency_key, operation, status,
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
                params![
                    mapping,
                    letter.side,
                    op.key,
                    op.idempotency_key,
                    to_text(op)?,
                    now()
                ],
            )?;
        }
        tx.execute(
            "UPDATE dead_letters SET status = ?2, settled_at = ?3 WHERE id = ?1",
            params![
                id,
                if replay {
                    LetterStatus::Replayed
                } else {
                    LetterStatus::Discarded
                },
                now()
            ],
        )?;
        if let Some(key) = &letter.key {
            release(&tx, mapping, key)?;
        }
        tx.commit()?;
        Ok(true)
    }

    fn reviews(&self, mapping: &str, open_only: bool) -> Result<Vec<Review>> {
        self.parked(mapping, open_only, None)
    }

    fn resolve_review(
        &mut self,
        mapping: &str,
        key: &str,
        take: Side,
        field: Option<&str>,
    ) -> Result<bool> {
        let Some(review) = self.parked(mapping, true, Some(key))?.pop() else {
            return Ok(false);
        };
        let Some(mut record) = self.find_record(mapping, Side::Left, key)? else {
            return Ok(false);
        };
        let fields: Vec<&Parked> = review
            .fields
            .iter()
            .filter(|p| field.is_none_or(|f| f == p.field))
            .collect();
        if fields.is_empty() {
            return Ok(false);
        }
        for p in &fields {
            record.decisions.insert(p.field.clone(), take);
        }
        let all = review
            .fields
            .iter()
            .all(|p| record.decisions.contains_key(&p.field));
        let tx = write_tx(&mut self.conn)?;
        if all {
            record.blocked = None;
            record.dirty = true;
            put_record(&tx, mapping, &record)?;
            tx.execute(
                "UPDATE reviews SET status = 'resolved', settled_at = ?2 WHERE id = ?1",
                params![review.id, now()],
            )?;
            release(&tx, mapping, key)?;
        } else {
            put_record(&tx, mapping, &record)?;
        }
        tx.commit()?;
        Ok(true)
    }

    fn record_pass(&mut self, mapping: &str, outcome: std::result::Result<(), &str>) -> Result<()> {
        let at = now();
        match outcome {
            Ok(()) => self.conn.execute(
                "INSERT INTO passes (mapping, last_ok_at) VALUES (?1, ?2)
                 ON CONFLICT (mapping) DO UPDATE SET last_ok_at = ?2",
                params![mapping, at],
            )?,
            Err(error) => self.conn.execute(
                "INSERT INTO passes (mapping, last_failed_at, last_error) VALUES (?1, ?2, ?3)
                 ON CONFLICT (mapping) DO UPDATE SET last_failed_at = ?2, last_error = ?3",
                params![mapping, at, error],
            )?,
        };
        Ok(())
    }

    fn dead_letters_after(
        &self,
        mapping: &str,
        after: i64,
        limit: usize,
    ) -> Result<(Vec<DeadLetter>, i64)> {
        // The highest id of any mapping, not only this one's: ids are one
        // sequence, and the next call asks for what comes after it. Read
        // first, so a letter made meanwhile is left for the next call.
        let last: i64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(id), 0) FROM dead_letters", [], |r| {
                    r.get(0)
                })?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut letters = self.letters_after(mapping, false, None, after, limit)?;
        letters.retain(|d| d.id <= last);
        Ok((letters, last))
    }

    fn retain(
        &mut self,
        mapping: &str,
        sent_days: Option<u32>,
        settled_days: u32,
    ) -> Result<super::retention::Pruned> {
        let cutoff = |days: u32| {
            (chrono::Utc::now() - chrono::Duration::days(i64::from(days)))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        let settled = cutoff(settled_days);
        let tx = write_tx(&mut self.conn)?;
        let mut pruned = super::retention::Pruned::default();
        if let Some(days) = sent_days {
            // The mapping's highest batch stays: `assign_batch` numbers the
            // next batch MAX(batch) + 1, and a number used again would
            // name an outbox file (and a provider's batch) a second time.
            pruned.sent = tx.execute(
                "DELETE FROM outbox WHERE mapping = ?1 AND status = 'sent' AND sent_at < ?2
                 AND batch < (SELECT MAX(batch) FROM outbox WHERE mapping = ?1)",
                params![mapping, cutoff(days)],
            )?;
        }
        // Stores from before migration 12 have no settled_at: their
        // settled rows age from when they were opened.
        pruned.dead_letters = tx.execute(
            "DELETE FROM dead_letters WHERE mapping = ?1 AND status != ?2
             AND COALESCE(settled_at, created_at) < ?3",
            params![mapping, LetterStatus::Open, settled],
        )?;
        pruned.reviews = tx.execute(
            "DELETE FROM reviews WHERE mapping = ?1 AND status = 'resolved'
             AND COALESCE(settled_at, created_at) < ?2",
            params![mapping, settled],
        )?;
        pruned.resolutions = tx.execute(
            "DELETE FROM resolutions WHERE mapping = ?1 AND at < ?2",
            params![mapping, settled],
        )?;
        tx.commit()?;
        // The pages freed are reused by the next writes; the log is
        // folded into the file and cut to nothing, so it does not keep
        // the size of the busiest pass. A reader in the middle of a read
        // (`tether status`) makes it a partial checkpoint, never an error.
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(pruned)
    }

    fn events_of(&self, mapping: &str, key: &str) -> Result<Vec<(i64, String, String, String)>> {
        let mut q = self.conn.prepare(
            "SELECT seq, side, event_id, status FROM inbox
             WHERE mapping = ?1 AND record_key = ?2 ORDER BY seq DESC LIMIT 50",
        )?;
        let rows = q.query_map(params![mapping, key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect::<rusqlite::Result<_>>().map_err(Into::into)
    }
}

/// Moves every reference to a record's provisional key to its new key
/// ([`Rekey`]); the record's new row comes with the same `Changes`.
fn rekey(tx: &Transaction<'_>, mapping: &str, k: &Rekey) -> Result<()> {
    tx.execute(
        "DELETE FROM records WHERE mapping = ?1 AND key = ?2",
        params![mapping, k.from],
    )?;
    // Every status named, so the search is one probe of `inbox_record`
    // (mapping, status, record_key) per status: without it, each re-key
    // would scan the mapping's whole inbox (a first sync of N born records
    // would be N × the inbox).
    tx.execute(
        "UPDATE inbox SET record_key = ?3 WHERE mapping = ?1 AND record_key = ?2
         AND status IN ('received', 'waiting', 'applied', 'stale', 'dead', 'discarded')",
        params![mapping, k.from, k.to],
    )?;
    for sql in [
        "UPDATE dead_letters SET key = ?3 WHERE mapping = ?1 AND key = ?2",
        "UPDATE reviews SET key = ?3 WHERE mapping = ?1 AND key = ?2",
        "UPDATE resolutions SET key = ?3 WHERE mapping = ?1 AND key = ?2",
    ] {
        tx.execute(sql, params![mapping, k.from, k.to])?;
    }
    // Pending operations name the record in their column and in their
    // stored form; an operation for the side that made the record had no
    // id to address it by until now.
    let pending: Vec<(i64, Side, String)> = tx
        .prepare(
            "SELECT seq, side, operation FROM outbox
             WHERE mapping = ?1 AND key = ?2 AND status = 'pending'",
        )?
        .query_map(params![mapping, k.from], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (seq, side, text) in pending {
        let mut op: Operation = from_text(&text)?;
        op.key = k.to.clone();
        if side == k.linked && op.id.is_none() {
            op.id = Some(k.native_id.clone());
        }
        tx.execute(
            "UPDATE outbox SET key = ?2, operation = ?3 WHERE seq = ?1",
            params![seq, k.to, to_text(&op)?],
        )?;
    }
    Ok(())
}

/// Unblocks a record: events waiting behind it go back to be merged, in
/// their order; the record is merged on the next pass.
fn release(tx: &Transaction<'_>, mapping: &str, key: &str) -> Result<()> {
    let text: Option<String> = tx
        .query_row(
            "SELECT state FROM records WHERE mapping = ?1 AND key = ?2",
            params![mapping, key],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(text) = text {
        let mut record: RecordState = from_text(&text)?;
        record.blocked = None;
        record.dirty = true;
        put_record(tx, mapping, &record)?;
    }
    tx.execute(
        "UPDATE inbox SET status = 'received' WHERE mapping = ?1 AND record_key = ?2
         AND status = 'waiting'",
        params![mapping, key],
    )?;
    Ok(())
}

/// One alert incident as stored (docs/design/14-operations.md, step 3).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRow {
    pub id: i64,
    pub rule: String,
    pub subject: String,
    pub since: String,
    pub fired_at: Option<String>,
    pub resolved_at: Option<String>,
    pub message: String,
    /// The sinks (bits) that have the fired and the resolved notification.
    pub fired_sent: u8,
    pub resolved_sent: u8,
}

/// A transition of an incident that is notified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertTransition {
    Fired,
    Resolved,
}

/// The alerts' queries (`sync::alerts` holds the rules; all SQL stays
/// here). Used through a connection of the alerts' own, as the metrics do.
impl SqliteStore {
    /// Incidents not resolved, and resolved ones some sink is still owed:
    /// `all` is the bitmask of every sink.
    pub fn alerts_unsettled(&mut self, all: u8) -> Result<Vec<AlertRow>> {
        Ok(self
            .conn
            .prepare(
                "SELECT id, rule, subject, since, fired_at, resolved_at, message,
                        fired_sent, resolved_sent
                 FROM alerts
                 WHERE resolved_at IS NULL
                    OR (fired_sent & ?1) != ?1 OR (resolved_sent & ?1) != ?1
                 ORDER BY id",
            )?
            .query_map([all], |r| {
                Ok(AlertRow {
                    id: r.get(0)?,
                    rule: r.get(1)?,
                    subject: r.get(2)?,
                    since: r.get(3)?,
                    fired_at: r.get(4)?,
                    resolved_at: r.get(5)?,
                    message: r.get(6)?,
                    fired_sent: r.get(7)?,
                    resolved_sent: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// A condition seen for the first time: a new incident, not fired yet.
    /// `sent` marks the sinks not configured now as done, so a sink added
    /// later is not sent incidents that began before it.
    pub fn alert_begin(
        &mut self,
        rule: &str,
        subject: &str,
        message: &str,
        sent: u8,
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO alerts (rule, subject, since, message, fired_sent, resolved_sent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![rule, subject, now(), message, sent],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The incident fired now, with the message it fired with.
    pub fn alert_fire(&mut self, id: i64, message: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE alerts SET fired_at = ?2, message = ?3 WHERE id = ?1 AND fired_at IS NULL",
            params![id, now(), message],
        )?;
        Ok(())
    }

    /// The condition cleared: a fired incident is resolved now; one that
    /// never fired (cleared within its hold) is forgotten.
    pub fn alert_clear(&mut self, id: i64) -> Result<()> {
        self.conn.execute(
            "DELETE FROM alerts WHERE id = ?1 AND fired_at IS NULL",
            [id],
        )?;
        self.conn.execute(
            "UPDATE alerts SET resolved_at = ?2 WHERE id = ?1 AND resolved_at IS NULL",
            params![id, now()],
        )?;
        Ok(())
    }

    /// Sink `bit` has the `transition` of incident `id`.
    pub fn alert_sent(&mut self, id: i64, transition: AlertTransition, bit: u8) -> Result<()> {
        let column = match transition {
            AlertTransition::Fired => "fired_sent",
            AlertTransition::Resolved => "resolved_sent",
        };
        self.conn.execute(
            &format!("UPDATE alerts SET {column} = {column} | ?2 WHERE id = ?1"),
            params![id, bit],
        )?;
        Ok(())
    }

    /// Of `mapping`'s events received since `since` (RFC 3339), how many,
    /// and how many dead letters were made since then: the error rate's
    /// figures, from the store so a restart keeps the window.
    pub fn error_counts(&mut self, mapping: &str, since: &str) -> Result<(u64, u64)> {
        let received: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM inbox WHERE mapping = ?1 AND received_at >= ?2",
            params![mapping, since],
            |r| r.get(0),
        )?;
        let letters: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM dead_letters WHERE mapping = ?1 AND created_at >= ?2",
            params![mapping, since],
            |r| r.get(0),
        )?;
        Ok((
            u64::try_from(received).unwrap_or(0),
            u64::try_from(letters).unwrap_or(0),
        ))
    }

    /// Removes incidents resolved more than `days` ago (retention, with
    /// the settled dead letters' 30 days); open ones are never removed.
    pub fn prune_alerts(&mut self, days: u32) -> Result<usize> {
        let before = (chrono::Utc::now() - chrono::Duration::days(i64::from(days)))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Ok(self.conn.execute(
            "DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?1",
            [before],
        )?)
    }

    /// Each webhook endpoint's latest stored delivery (RFC 3339).
    pub fn last_deliveries(&mut self) -> Result<Vec<(String, String)>> {
        Ok(self
            .conn
            .prepare(
                "SELECT endpoint, MAX(received_at) FROM deliveries
                 GROUP BY endpoint ORDER BY endpoint",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(s: &SqliteStore) -> i64 {
        s.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_store_of_an_older_schema_is_migrated_in_order() {
        let conn = Connection::open_in_memory().unwrap();
        let Migration::Sql(first) = MIGRATIONS[0] else {
            panic!("the first migration creates the tables")
        };
        conn.execute_batch(first).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO dead_letters (mapping, key, side, errors, events, created_at, status)
             VALUES ('m', 'k', 'left', '[]', '[]', 'then', 'open')",
            [],
        )
        .unwrap();
        let store = SqliteStore::init(conn).unwrap();
        assert_eq!(version(&store), MIGRATIONS.len() as i64);
        let letters = store.dead_letters("m", true).unwrap();
        assert_eq!(letters.len(), 1, "rows written before the migration stay");
        assert_eq!(letters[0].operation, None);
    }

    /// Records stored before migration 13 are found by their own ids after
    /// it: the columns are filled from the state.
    #[test]
    fn records_stored_before_native_id_columns_are_found_by_their_ids() {
        let mut conn = Connection::open_in_memory().unwrap();
        // Every migration before 13, the native-id columns.
        let before = 12;
        for step in &MIGRATIONS[..before] {
            match step {
                Migration::Sql(sql) => conn.execute_batch(sql).unwrap(),
                Migration::Rewrite(f) => {
                    let tx = conn.transaction().unwrap();
                    f(&tx).unwrap();
                    tx.commit().unwrap();
                }
            }
        }
        conn.pragma_update(None, "user_version", before as i64)
            .unwrap();
        let mut r = RecordState {
            key: "c1".into(),
            ..RecordState::default()
        };
        r.left.native_id = Some("c1".into());
        r.right.native_id = Some("E1".into());
        conn.execute(
            "INSERT INTO records (mapping, key, dirty, state) VALUES ('m', 'c1', 0, ?1)",
            params![to_text(&r).unwrap()],
        )
        .unwrap();
        let store = SqliteStore::init(conn).unwrap();
        let found = |side, id| {
            store
                .find_by_native_id("m", side, id)
                .unwrap()
                .map(|r| r.key)
        };
        assert_eq!(found(Side::Right, "E1").as_deref(), Some("c1"));
        assert_eq!(found(Side::Left, "c1").as_deref(), Some("c1"));
        assert_eq!(found(Side::Left, "E1"), None, "each side's own ids");
    }

    /// A stored side or status no variant has is an error naming it, not
    /// a default (a row read as `left` would be merged on the wrong side).
    #[test]
    fn an_unknown_stored_name_is_an_error_not_a_default() {
        let store = SqliteStore::in_memory().unwrap();
        store
            .conn
            .execute(
                "INSERT INTO dead_letters (mapping, key, side, errors, events, created_at, status)
                 VALUES ('m', 'k', 'middle', '[]', '[]', 'then', 'open')",
                [],
            )
            .unwrap();
        let err = store.dead_letters("m", true).unwrap_err().to_string();
        assert!(err.contains("`middle` is not a Side"), "{err}");
        store
            .conn
            .execute("UPDATE dead_letters SET side = 'left', status = 'lost'", [])
            .unwrap();
        let err = store.dead_letters("m", false).unwrap_err().to_string();
        assert!(err.contains("`lost` is not a LetterStatus"), "{err}");
        store
            .conn
            .execute("UPDATE dead_letters SET status = 'replayed'", [])
            .unwrap();
        let letters = store.dead_letters("m", false).unwrap();
        assert_eq!(
            (letters[0].side, letters[0].status),
            (Side::Left, LetterStatus::Replayed)
        );
    }

    /// Before migration 7 a malformed event kept only its reason; it reads
    /// as the E1001 error it was reported as.
    #[test]
    fn malformed_events_stored_with_a_reason_read_as_errors() {
        let conn = Connection::open_in_memory().unwrap();
        for (i, step) in MIGRATIONS[..6].iter().enumerate() {
            match step {
                Migration::Sql(sql) => conn.execute_batch(sql).unwrap(),
                Migration::Rewrite(_) => assert_eq!(i, 4, "only migration 5 rewrites"),
            }
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute(
            "INSERT INTO inbox (mapping, side, event_id, op, version, record, side_key,
             malformed, record_key, status, received_at)
             VALUES ('m', 'left', 'e1', '\"upsert\"', NULL, '{', NULL,
                     'malformed JSON: EOF', NULL, 'received', 'then')",
            [],
        )
        .unwrap();
        let store = SqliteStore::init(conn).unwrap();
        let received = store.received("m", 10).unwrap();
        let error = received[0]
            .event
            .malformed
            .as_ref()
            .expect("still malformed");
        assert_eq!(error.code, crate::diag::Code::E1001);
        assert_eq!(error.message, "malformed JSON: EOF");
        assert_eq!(error.path, "");
    }

    /// Before migration 5 a dead letter kept the value as JSON text in a
    /// string and `""` for no rule; it reads as `run`'s rejects do.
    #[test]
    fn dead_letters_stored_in_the_legacy_form_read_as_rejects() {
        let conn = Connection::open_in_memory().unwrap();
        for step in &MIGRATIONS[..4] {
            let Migration::Sql(sql) = step else {
                panic!("migrations 1-4 are SQL")
            };
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        let legacy = r#"[{"code":"E1003","rule":"m.tether:5:3","path":"amount","value":"\"1.5 million\"","message":"not a decimal"},{"code":"E1009","rule":"","path":"id","value":"","message":"no key"}]"#;
        conn.execute(
            "INSERT INTO dead_letters (mapping, key, side, errors, events, created_at, status)
             VALUES ('m', 'k', 'left', ?1, '[]', 'then', 'open')",
            [legacy],
        )
        .unwrap();
        let store = SqliteStore::init(conn).unwrap();
        let letters = store.dead_letters("m", true).unwrap();
        let shown = serde_json::to_value(&letters[0].errors).unwrap();
        assert_eq!(
            shown,
            serde_json::json!([
                {"code": "E1003", "rule": "m.tether:5:3", "path": "amount",
                 "value": "1.5 million", "message": "not a decimal"},
                {"code": "E1009", "rule": null, "path": "id", "value": null, "message": "no key"},
            ])
        );
    }

    #[test]
    fn a_rekey_moves_every_reference_and_gives_the_maker_s_operations_the_id() {
        let mut store = SqliteStore::in_memory().expect("store");
        let born = provisional_key(Side::Right, "E1");
        let event = |id: &str| NewEvent {
            side: Side::Right,
            event_id: id.into(),
            op: EventOp::Upsert,
            version: None,
            record: "{}".into(),
            side_key: None,
            record_key: Some(born.clone()),
            malformed: None,
        };
        store
            .insert_events("m", &[event("a"), event("b")], None)
            .expect("events");
        let op = |side_key: &str, id: Option<&str>| Operation {
            op: OpKind::Update,
            key: side_key.into(),
            id: id.map(String::from),
            idempotency_key: format!("tk_{side_key}_{id:?}"),
            record: None,
            unset: Vec::new(),
            maybe_sent: false,
        };
        let mut state = RecordState {
            key: born.clone(),
            born: Some(Side::Right),
            ..RecordState::default()
        };
        state.right.native_id = Some("E1".into());
        store
            .commit(
                "m",
                Changes {
                    records: vec![state.clone()],
                    // One event applied, one still waiting to merge.
                    statuses: vec![(1, EventStatus::Applied, None)],
                    outbox: vec![
                        (Side::Left, op(&born, None)),
                        (Side::Right, op(&born, Some("E1"))),
                    ],
                    ..Changes::default()
                },
            )
            .expect("committed");
        let mut linked = state;
        linked.key = "c1".into();
        linked.right_key = Some("c1".into());
        linked.born = None;
        store
            .commit(
                "m",
                Changes {
                    rekeys: vec![Rekey {
                        from: born.clone(),
                        to: "c1".into(),
                        linked: Side::Left,
                        native_id: "c1".into(),
                    }],
                    records: vec![linked],
                    ..Changes::default()
                },
            )
            .expect("re-keyed");
        assert!(
            store
                .find_record("m", Side::Left, &born)
                .expect("read")
                .is_none()
        );
        assert!(
            store
                .find_record("m", Side::Right, "c1")
                .expect("read")
                .is_some()
        );
        let found = store
            .find_by_native_id("m", Side::Right, "E1")
            .expect("read")
            .expect("by its own id");
        assert_eq!(found.key, "c1");
        let keys: Vec<(String, String)> = store
            .conn
            .prepare("SELECT status, record_key FROM inbox ORDER BY seq")
            .expect("query")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(
            keys,
            [
                ("applied".into(), "c1".into()),
                ("received".into(), "c1".into())
            ]
        );
        let left = store.pending("m", Side::Left, 10).expect("pending");
        assert_eq!(
            (
                left[0].operation.key.as_str(),
                left[0].operation.id.as_deref()
            ),
            ("c1", Some("c1"))
        );
        let right = store.pending("m", Side::Right, 10).expect("pending");
        assert_eq!(
            (
                right[0].operation.key.as_str(),
                right[0].operation.id.as_deref()
            ),
            ("c1", Some("E1")),
            "the born side keeps its own id"
        );
    }

    #[test]
    fn an_open_breaker_is_kept_by_provider_and_forgotten_when_closed() {
        let mut s = SqliteStore::in_memory().unwrap();
        assert_eq!(s.breaker("crm").unwrap(), None);
        let open = OpenBreaker {
            until: std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_790_000_030_123),
            cooldown: std::time::Duration::from_secs(60),
        };
        s.set_breaker("crm", Some(open)).unwrap();
        let later = OpenBreaker {
            cooldown: std::time::Duration::from_secs(120),
            ..open
        };
        s.set_breaker("crm", Some(later)).unwrap();
        assert_eq!(
            s.breaker("crm").unwrap(),
            Some(later),
            "replaced, to the ms"
        );
        assert_eq!(s.breaker("erp").unwrap(), None, "by provider");
        s.set_breaker("crm", None).unwrap();
        assert_eq!(s.breaker("crm").unwrap(), None);
    }

    /// Retention prunes what is settled and old, keeps what is open or
    /// recent, and keeps the mapping's highest batch however old (the
    /// next batch is numbered after it).
    #[test]
    fn retain_prunes_settled_and_sent_rows_but_keeps_the_highest_batch() {
        let mut s = SqliteStore::in_memory().unwrap();
        let old = "2000-01-01T00:00:00.000Z";
        let recent = now();
        for (batch, status, sent_at) in [
            (1, "sent", old),
            (2, "sent", old),
            (3, "sent", recent.as_str()),
            (4, "pending", old),
            // The highest, sent long ago.
            (5, "sent", old),
        ] {
            s.conn
                .execute(
                    "INSERT INTO outbox (mapping, side, batch, key, idempotency_key, operation,
                     status, created_at, sent_at) VALUES ('m', 'right', ?1, 'k', 'i', '{}', ?2, ?3, ?3)",
                    params![batch, status, sent_at],
                )
                .unwrap();
        }
        // Another mapping's batches are numbered apart and left alone.
        s.conn
            .execute(
                "INSERT INTO outbox (mapping, side, batch, key, idempotency_key, operation,
                 status, created_at, sent_at) VALUES ('other', 'right', 1, 'k', 'i', '{}', 'sent', ?1, ?1)",
                params![old],
            )
            .unwrap();
        for (status, settled_at) in [
            ("open", None),
            ("replayed", Some(old)),
            ("discarded", Some(recent.as_str())),
            // Settled before migration 12: aged by when it was opened.
            ("discarded", None),
        ] {
            s.conn
                .execute(
                    "INSERT INTO dead_letters (mapping, key, side, errors, events, created_at,
                     status, settled_at) VALUES ('m', 'k', 'left', '[]', '[]', ?1, ?2, ?3)",
                    params![old, status, settled_at],
                )
                .unwrap();
        }
        for (status, settled_at) in [("open", None), ("resolved", Some(old))] {
            s.conn
                .execute(
                    "INSERT INTO reviews (mapping, key, reason, fields, created_at, status,
                     settled_at) VALUES ('m', 'k', 'conflict', '[]', ?1, ?2, ?3)",
                    params![old, status, settled_at],
                )
                .unwrap();
        }
        let pruned = s.retain("m", Some(7), 30).unwrap();
        assert_eq!(
            pruned,
            crate::sync::retention::Pruned {
                sent: 2,
                dead_letters: 2,
                reviews: 1,
                resolutions: 0,
                done_files: 0
            }
        );
        let batches: Vec<(String, i64)> = s
            .conn
            .prepare("SELECT mapping, batch FROM outbox ORDER BY mapping, batch")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let want: Vec<(String, i64)> = [("m", 3), ("m", 4), ("m", 5), ("other", 1)]
            .iter()
            .map(|(m, b)| (m.to_string(), *b))
            .collect();
        assert_eq!(batches, want, "recent, pending and the highest kept");
        let next = s.assign_batch("m", Side::Right, &[]).unwrap();
        assert_eq!(next, 6, "numbering goes on after the kept batches");
        assert_eq!(s.retain("m", None, 30).unwrap().sent, 0, "sent kept");
        let open: i64 = s
            .conn
            .query_row(
                "SELECT COUNT(*) FROM dead_letters WHERE status = 'open'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(open, 1, "open work is never pruned");
    }

    fn notice(event_id: &str, text: &str) -> InboxNotice {
        InboxNotice {
            event_id: event_id.into(),
            content: NoticeContent::Read(text.into()),
        }
    }

    #[test]
    fn a_delivery_is_stored_once_per_event_id_and_a_replay_is_a_no_op() {
        let mut s = SqliteStore::in_memory().unwrap();
        let bad = InboxNotice {
            event_id: "body:1".into(),
            content: NoticeContent::Malformed {
                error: "the body is not JSON".into(),
                body: b"\xff{".to_vec(),
            },
        };
        let first = [notice("evt_1", "{\"a\":1}"), bad.clone()];
        assert_eq!(s.store_delivery("stripe", &first).unwrap(), 2);
        assert_eq!(s.store_delivery("stripe", &first).unwrap(), 0, "a replay");
        let mixed = [notice("evt_1", "{\"a\":2}"), notice("evt_2", "{}")];
        assert_eq!(s.store_delivery("stripe", &mixed).unwrap(), 1);
        assert_eq!(
            s.store_delivery("shopify", &[notice("evt_1", "{}")])
                .unwrap(),
            1,
            "event ids are per endpoint"
        );
        assert_eq!(s.pending_notices("stripe").unwrap(), 3);
        let seqs = s.pending_notice_seqs("stripe").unwrap();
        let stored = s
            .pending_notices_between("stripe", seqs[0], seqs[2])
            .unwrap();
        let got: Vec<_> = stored.iter().map(|n| n.notice.clone()).collect();
        assert_eq!(
            got,
            [first[0].clone(), bad, mixed[1].clone()],
            "the first copy wins"
        );

        s.take_notices("stripe", seqs[0], seqs[1]).unwrap();
        assert_eq!(s.pending_notice_seqs("stripe").unwrap(), [seqs[2]]);
        assert_eq!(
            s.store_delivery("stripe", &first).unwrap(),
            0,
            "a taken notice still recognises its replay"
        );
        assert_eq!(s.prune_notices(1).unwrap(), 0, "taken today: kept");
        s.conn
            .execute(
                "UPDATE deliveries SET received_at = '2000-01-01T00:00:00.000Z'",
                [],
            )
            .unwrap();
        assert_eq!(s.prune_notices(1).unwrap(), 2, "only the taken ones go");
        assert_eq!(s.pending_notices("stripe").unwrap(), 1);
    }

    /// One delivery's notices commit together: a failure part-way stores
    /// none of them, so the receiver's 5xx makes the provider send all of
    /// them again.
    #[test]
    fn a_delivery_that_fails_part_way_stores_nothing() {
        let mut s = SqliteStore::in_memory().unwrap();
        s.conn
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON deliveries
                 WHEN NEW.event_id = 'evt_bad' BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .unwrap();
        let notices = [notice("evt_ok", "{}"), notice("evt_bad", "{}")];
        assert!(s.store_delivery("hubspot", &notices).is_err());
        assert_eq!(s.pending_notices("hubspot").unwrap(), 0);
    }

    #[test]
    fn a_store_written_by_a_newer_tether_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = SqliteStore::init(conn).err().unwrap();
        assert!(err.to_string().contains("newer tether"), "{err}");
    }

    /// A write transaction holds the write lock from its start, so a
    /// connection that commits meanwhile (the webhook receiver's) waits
    /// for it, rather than making its later write fail at once with
    /// "database is locked" (a deferred transaction whose read is stale
    /// cannot become a writer, and SQLite does not wait for that).
    #[test]
    fn a_write_transaction_is_not_overtaken_by_another_connection() {
        let dir = std::env::temp_dir().join(format!("tether-store-tx-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.db");
        let mut engine = SqliteStore::open(&path, OpenMode::CreateIfMissing).unwrap();
        let receiver = Connection::open(&path).unwrap();
        receiver.busy_timeout(std::time::Duration::ZERO).unwrap();
        let insert = "INSERT INTO deliveries (endpoint, event_id, received_at, status)
                      VALUES ('stripe', ?1, 'now', 'pending')";

        let tx = write_tx(&mut engine.conn).unwrap();
        let before: i64 = tx
            .query_row("SELECT COUNT(*) FROM deliveries", [], |r| r.get(0))
            .unwrap();
        // The other connection cannot commit in between...
        assert!(receiver.execute(insert, ["evt_other"]).is_err());
        // ...so the write after the read succeeds.
        tx.execute(insert, ["evt_mine"]).unwrap();
        tx.commit().unwrap();
        assert_eq!(before, 0);
        receiver.execute(insert, ["evt_other"]).unwrap();
        drop(engine);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
