//! One sync pass: send what an earlier pass left in the outbox, receive
//! and store events, merge each changed record, send. Every step persists
//! before the next; fail points between them let the tests crash the
//! process at each (docs/design/06-sync-runtime.md).
//!
//! Why one file of about 1200 lines: a pass is one protocol (send what is
//! left, receive, store, merge, outbox, send) whose order and fail points
//! are the crash-safety argument; it stays in one file so that argument
//! reads from top to bottom.

use super::failpoint;
use super::json;
use super::merge::{self, SideView, WriteKind};
use super::provider::{Item, Provider, ProviderError, RawEvent, Received, Sent};
use super::store::{
    Blocked, Changes, Checkpoint, EventOp, EventStatus, NewDeadLetter, NewEvent, OpKind, Operation,
    OutboxRow, Presence, RecordState, Rekey, Store, StoreError, StoredEvent, provisional_key,
    provisional_side,
};
pub use super::summary::{SideRead, Summary};
use crate::base::Side;
use crate::diag::Code;
use crate::exec::{Outcome, RecordError, map_record};
use crate::plan::file::hex;
use crate::plan::sync_spec::SyncSpec;
use crate::plan::{MappingPlans, Plan};
use crate::syntax::DeletePolicy;
use crate::syntax::Direction;
use indexmap::IndexMap;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// Records merged per transaction: one fsync per group.
const GROUP: usize = 256;
/// Events stored per transaction while a delivery is read.
const RECEIVE_CHUNK: usize = 4096;
/// Records whose received events are merged per page by default: memory
/// stays flat whatever the backlog, and a record's events are always
/// merged together.
pub const PAGE: usize = 10_000;
/// Operations per batch by default (one outbox file of the file
/// connector).
pub const SEND_BATCH: usize = 5000;
/// Attempts at sending one batch before the pass gives up (the rows stay
/// in the outbox for the next pass).
const SEND_ATTEMPTS: u32 = 4;

#[derive(Debug)]
pub enum SyncError {
    Store(StoreError),
    Provider(Side, ProviderError),
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Store(e) => write!(f, "state store: {e}"),
            SyncError::Provider(side, e) => write!(f, "{side} side: {e}"),
        }
    }
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> SyncError {
        SyncError::Store(e)
    }
}

/// What the progress callback is given: the running totals and what each
/// side has read so far.
pub type Progress<'a> = dyn FnMut(&Summary, &[SideRead; 2]) + 'a;

pub struct Engine<'a> {
    pub spec: &'a SyncSpec,
    pub forward: Option<&'a Plan>,
    pub reverse: Option<&'a Plan>,
    pub store: &'a mut dyn Store,
    pub retention_days: u32,
    /// The first wait before a send is retried; each next wait is 4×.
    pub retry_base: std::time::Duration,
    /// Records merged per page ([`PAGE`]).
    pub page: usize,
    /// Operations sent per batch ([`SEND_BATCH`]).
    pub send_batch: usize,
    /// Called with the running totals, and what each side has read so
    /// far (pages, records), while a pass goes on.
    pub progress: Option<&'a mut Progress<'a>>,
    /// What each side has read in this pass, for `progress`.
    read: [SideRead; 2],
    /// Per side: whether a record read there without the mapping's key
    /// can be linked ([`Engine::born_links`]); set by each pass from its
    /// providers.
    born: [bool; 2],
}

impl<'a> Engine<'a> {
    /// An engine for one mapping's plans, with the default settings
    /// (7-day retention, 100 ms first retry, pages of [`PAGE`] records,
    /// batches of [`SEND_BATCH`] operations, no progress reports).
    pub fn new(plans: &'a MappingPlans, store: &'a mut dyn Store) -> Engine<'a> {
        Engine {
            spec: &plans.sync,
            forward: plans.plan(Direction::Forward).ok(),
            reverse: plans.plan(Direction::Reverse).ok(),
            store,
            retention_days: 7,
            retry_base: std::time::Duration::from_millis(100),
            page: PAGE,
            send_batch: SEND_BATCH,
            progress: None,
            read: [SideRead::default(); 2],
            born: [false; 2],
        }
    }
}

/// An event on its way through the merge.
struct Pending {
    seq: i64,
    side: Side,
    op: EventOp,
    version: Option<Json>,
    record: Json,
}

impl Engine<'_> {
    /// One pass over both providers.
    pub fn pass(
        &mut self,
        left: &mut dyn Provider,
        right: &mut dyn Provider,
    ) -> Result<Summary, SyncError> {
        let mut summary = Summary::default();
        self.read = [SideRead::default(); 2];
        // A side whose provider fails sits out the rest of the pass (its
        // outbox rows wait); the other side is still read, merged and
        // written: merging one side's new events is what happens whenever
        // the other has nothing new. A store error ends the pass at once.
        let mut down: [Option<ProviderError>; 2] = [None, None];
        let sides = [Side::Left, Side::Right];
        self.born = [
            self.born_links(Side::Left, &*left, &*right),
            self.born_links(Side::Right, &*right, &*left),
        ];
        // A breaker an earlier run left open still holds: a provider known
        // to be down is not paid for in timeouts again.
        self.restore_health(left)?;
        self.restore_health(right)?;
        // What an earlier pass left unsent goes first, in its order.
        for side in sides {
            let provider: &mut dyn Provider = if side == Side::Left { left } else { right };
            let sent = self.send(side, provider, &mut summary);
            sit_out(&mut down, sent)?;
        }
        for side in sides {
            if down[side as usize].is_none() {
                let provider: &mut dyn Provider = if side == Side::Left { left } else { right };
                let received = self.receive(side, provider, &mut summary);
                sit_out(&mut down, received)?;
            }
        }
        self.merge_received(&mut summary)?;
        for side in sides {
            if down[side as usize].is_none() {
                let provider: &mut dyn Provider = if side == Side::Left { left } else { right };
                let sent = self.send(side, provider, &mut summary);
                sit_out(&mut down, sent)?;
            }
        }
        self.keep_health(left)?;
        self.keep_health(right)?;
        self.store.prune(self.retention_days)?;
        match sides.into_iter().zip(down).find_map(|(s, e)| Some((s, e?))) {
            Some((side, e)) => Err(SyncError::Provider(side, e)),
            None => Ok(summary),
        }
    }

    /// Whether a record read on `side` without the mapping's key can be
    /// linked instead of dead-lettered (E1009): it has its own id there
    /// (`ids`), the mapping maps it to the other side (else it would wait
    /// for a create that never comes), the other side's creates answer
    /// with an id that is that side's key (its key is its id: HubSpot's
    /// `id`), and `side` can be updated by its own id, to write the key
    /// back.
    fn born_links(&self, side: Side, born: &dyn Provider, other: &dyn Provider) -> bool {
        let (Some(key), Some(ids)) = (&self.spec.key, &self.spec.ids) else {
            return false;
        };
        if self.plan(side).is_none() {
            return false;
        }
        let keyed_by_id = match side.other() {
            Side::Left => key.0 == ids.0,
            Side::Right => key.1 == ids.1,
        };
        keyed_by_id && born.linking().updates_by_id && other.linking().answers_ids
    }

    /// Gives a provider its breaker as an earlier run left it open.
    fn restore_health(&mut self, provider: &mut dyn Provider) -> Result<(), SyncError> {
        if let Some(key) = provider.health_key()
            && let Some(open) = self.store.breaker(&key)?
        {
            provider.restore_breaker(open);
        }
        Ok(())
    }

    /// Keeps a provider's breaker (open, or forgotten when closed) for the
    /// next run.
    fn keep_health(&mut self, provider: &dyn Provider) -> Result<(), SyncError> {
        if let Some(key) = provider.health_key() {
            self.store.set_breaker(&key, provider.open_breaker())?;
        }
        Ok(())
    }

    /// Stores the side's waiting deliveries, each in chunks of
    /// [`RECEIVE_CHUNK`] events (one transaction each), then acknowledges
    /// it. A crash in between reads the delivery again: its events keep
    /// their ids and are duplicates.
    fn receive(
        &mut self,
        side: Side,
        provider: &mut dyn Provider,
        summary: &mut Summary,
    ) -> Result<(), SyncError> {
        let fail = |e| SyncError::Provider(side, e);
        provider.resume(self.store.checkpoint(&self.spec.mapping, side)?);
        for id in provider.pending().map_err(fail)? {
            let mut events = Vec::with_capacity(RECEIVE_CHUNK);
            // Items' places in the delivery, checkpoints not counted (a
            // plain record's event id depends on it).
            let mut n = 0;
            let mut paged = false;
            for item in provider.open(&id).map_err(fail)? {
                match item.map_err(fail)? {
                    Received::Checkpoint(c) => {
                        self.read[side as usize].pages += 1;
                        paged = true;
                        self.store_events(side, &mut events, Some(&c), summary)?;
                        failpoint("page-stored");
                    }
                    Received::Item(item) => {
                        events.push(self.event(side, item, &Position(&id, n))?);
                        self.read[side as usize].records += 1;
                        n += 1;
                        if events.len() >= RECEIVE_CHUNK {
                            self.store_events(side, &mut events, None, summary)?;
                        }
                    }
                }
            }
            if !paged {
                // A delivery without pages (a folder's file) is one.
                self.read[side as usize].pages += 1;
            }
            self.store_events(side, &mut events, None, summary)?;
            failpoint("event-stored");
            provider.ack(&id).map_err(fail)?;
        }
        Ok(())
    }

    /// Stores `events` (emptied) in one transaction, with the checkpoint
    /// they bring reading to.
    fn store_events(
        &mut self,
        side: Side,
        events: &mut Vec<NewEvent>,
        checkpoint: Option<&Checkpoint>,
        summary: &mut Summary,
    ) -> Result<(), SyncError> {
        if events.is_empty() && checkpoint.is_none() {
            return Ok(());
        }
        let mapping = self.spec.mapping.clone();
        let fresh = self
            .store
            .insert_events(&mapping, events, checkpoint.map(|c| (side, c)))?;
        summary.read += events.len() as u64;
        summary.duplicate += fresh.iter().filter(|f| !**f).count() as u64;
        events.clear();
        self.progress(summary);
        Ok(())
    }

    /// Gives a delivered item its event id (a plain record's: see
    /// [`Position::event_id`]), its version and its key on its side.
    fn event(&self, side: Side, item: Item, at: &Position<'_>) -> Result<NewEvent, SyncError> {
        Ok(match item {
            // Read with the side's schema view, then as any record.
            Item::Xml(text) => return self.event(side, self.xml_item(side, text), at),
            Item::Malformed { text, error } => NewEvent {
                side,
                event_id: at.event_id(side, &text),
                op: EventOp::Upsert,
                version: None,
                record: text,
                side_key: None,
                malformed: Some(error),
                record_key: None,
            },
            Item::Event(RawEvent {
                event_id,
                op,
                version,
                record,
                text,
            }) => {
                let version = version.or_else(|| {
                    let (l, r) = self.spec.timestamps.as_ref()?;
                    let path = if side == Side::Left { l } else { r };
                    json::get(&record, path).filter(|v| !v.is_null()).cloned()
                });
                let side_key = self.spec.key_of(side, &record);
                let op = if self.spec.flagged_deleted(side, &record) {
                    EventOp::Delete
                } else {
                    op
                };
                let record_key = match self.record_key(side, side_key.as_deref(), &record)? {
                    Some(key) => Some(key),
                    None => self.born_key(side, &record)?,
                };
                NewEvent {
                    side,
                    event_id: event_id.unwrap_or_else(|| at.event_id(side, &text)),
                    op,
                    version,
                    record: text,
                    side_key,
                    malformed: None,
                    record_key,
                }
            }
        })
    }

    /// An XML document as the record it holds (`sync::xml`).
    fn xml_item(&self, side: Side, text: String) -> Item {
        match super::xml::record_of(&text, self.plan(side), &self.spec.own_paths(side)) {
            Ok(record) => Item::Event(RawEvent {
                event_id: None,
                op: EventOp::Upsert,
                version: None,
                text: record.to_string(),
                record,
            }),
            Err(error) => Item::rejected(text, error),
        }
    }

    /// Tells the caller how the pass is going (a progress line).
    fn progress(&mut self, summary: &Summary) {
        if let Some(p) = self.progress.as_mut() {
            p(summary, &self.read);
        }
    }

    fn plan(&self, side: Side) -> Option<&Plan> {
        match side {
            Side::Left => self.forward,
            Side::Right => self.reverse,
        }
    }

    /// Maps a record of `side` to the other side.
    fn map(&self, side: Side, record: &Json) -> Result<Option<Json>, Vec<RecordError>> {
        let Some(plan) = self.plan(side) else {
            return Ok(None);
        };
        match map_record(plan, &record.to_string()) {
            Outcome::Mapped(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                vec![letter(
                    Code::E1001,
                    "",
                    &format!("the mapped record is not JSON: {e}"),
                )]
            }),
            Outcome::Rejected { errors, .. } => Err(errors),
        }
    }

    /// The record (left key) an event belongs to: a left record's own key;
    /// a right record's linked record, else the key its reverse mapping
    /// gives it.
    fn record_key(
        &self,
        side: Side,
        side_key: Option<&str>,
        record: &Json,
    ) -> Result<Option<String>, SyncError> {
        let Some(side_key) = side_key else {
            return Ok(None);
        };
        if side == Side::Left {
            return Ok(Some(side_key.to_string()));
        }
        if let Some(r) = self
            .store
            .find_record(&self.spec.mapping, Side::Right, side_key)?
        {
            return Ok(Some(r.key));
        }
        let key = match self.map(Side::Right, record) {
            Ok(Some(rr)) => self.spec.key_of(Side::Left, &rr),
            _ => None,
        };
        Ok(Some(key.unwrap_or_else(|| side_key.to_string())))
    }

    /// The record a keyless record of `side` belongs to, when such records
    /// are linked there: the one its own id is linked to (a record already
    /// created on the other side, whose key is not yet written back), else
    /// its provisional key.
    fn born_key(&self, side: Side, record: &Json) -> Result<Option<String>, SyncError> {
        if !self.born[side as usize] {
            return Ok(None);
        }
        let Some(id) = self
            .spec
            .native_id(side, record)
            .filter(|id| !id.trim().is_empty())
        else {
            return Ok(None);
        };
        if let Some(r) = self
            .store
            .find_by_native_id(&self.spec.mapping, side, &id)?
        {
            return Ok(Some(r.key));
        }
        Ok(Some(provisional_key(side, &id)))
    }

    /// Merges every received event, page by page in arrival order, then
    /// the records released without new events.
    fn merge_received(&mut self, summary: &mut Summary) -> Result<(), SyncError> {
        let mapping = self.spec.mapping.clone();
        let mut last_first = None;
        loop {
            let page = self.store.received(&mapping, self.page.max(1))?;
            let Some(first) = page.first().map(|e| e.seq) else {
                break;
            };
            // Every event of a page leaves `received`; a page starting where
            // the last one did would mean it did not: stop rather than spin.
            if last_first == Some(first) {
                break;
            }
            last_first = Some(first);
            self.merge_page(page, summary)?;
        }
        self.merge_page(Vec::new(), summary)
    }

    /// Merges one page of events, grouped by record (and, on the last
    /// call, the dirty records).
    fn merge_page(
        &mut self,
        received: Vec<StoredEvent>,
        summary: &mut Summary,
    ) -> Result<(), SyncError> {
        let mapping = self.spec.mapping.clone();
        let last_page = received.is_empty();
        // Each record's events, records in order of their first event.
        let mut groups: IndexMap<String, Vec<Pending>> = IndexMap::new();
        let mut changes = Changes::default();
        for StoredEvent { seq, event } in received {
            // A stored record that no longer parses (a hand-edited or
            // damaged row) is a dead letter, never merged as `null`.
            let parsed = serde_json::from_str::<Json>(&event.record).map_err(|e| {
                RecordError::of_input(
                    Code::E1001,
                    format!("the stored record of event {seq} is not JSON: {e}"),
                )
            });
            let record = match (event.malformed, parsed) {
                (None, Ok(record)) => record,
                (Some(error), _) | (None, Err(error)) => {
                    summary.dead_lettered += 1;
                    changes.statuses.push((seq, EventStatus::Dead, None));
                    changes.dead_letters.push(NewDeadLetter {
                        key: None,
                        side: event.side,
                        errors: vec![error],
                        events: vec![seq],
                        operation: None,
                    });
                    continue;
                }
            };
            let Some(key) = event.record_key else {
                summary.dead_lettered += 1;
                let path = self
                    .spec
                    .key_path(event.side)
                    .map_or("(no key)".into(), |p| p.join("."));
                // An empty key is no key: it would make every such record
                // one record.
                let value = self
                    .spec
                    .key_path(event.side)
                    .and_then(|p| json::get(&record, p))
                    .filter(|v| !v.is_null());
                let message = match value {
                    Some(_) => {
                        format!("the record's key `{path}` is empty: records are matched by key")
                    }
                    None => format!("the record has no key `{path}`: records are matched by key"),
                };
                changes.statuses.push((seq, EventStatus::Dead, None));
                changes.dead_letters.push(NewDeadLetter {
                    key: None,
                    side: event.side,
                    errors: vec![RecordError {
                        code: Code::E1009,
                        rule: String::new(),
                        path: path.clone(),
                        value: value.map_or_else(|| "null".into(), Json::to_string),
                        message,
                    }],
                    events: vec![seq],
                    operation: None,
                });
                continue;
            };
            groups.entry(key).or_default().push(Pending {
                seq,
                side: event.side,
                op: event.op,
                version: event.version,
                record,
            });
        }
        let dirty = if last_page {
            self.store.dirty_records(&mapping)?
        } else {
            Vec::new()
        };
        for dirty in dirty {
            groups.entry(dirty.key).or_default();
        }
        let mut done = 0;
        for (key, events) in groups {
            let state = self.store.find_record(&mapping, Side::Left, &key)?;
            self.merge_record(key, events, state, &mut changes, summary);
            done += 1;
            if done % GROUP == 0 {
                self.store.commit(&mapping, std::mem::take(&mut changes))?;
                failpoint("merge-done");
                self.progress(summary);
            }
        }
        failpoint("merge-uncommitted");
        self.store.commit(&mapping, changes)?;
        failpoint("merge-done");
        Ok(())
    }

    /// Merges one record's events into `changes`.
    fn merge_record(
        &self,
        key: String,
        events: Vec<Pending>,
        state: Option<RecordState>,
        changes: &mut Changes,
        summary: &mut Summary,
    ) {
        let mut state = state.unwrap_or_else(|| RecordState {
            key: key.clone(),
            born: provisional_side(&key).filter(|s| self.born[*s as usize]),
            ..RecordState::default()
        });
        if state.blocked.is_some() {
            summary.waiting += events.len() as u64;
            let all: Vec<i64> = events.iter().map(|e| e.seq).collect();
            mark(changes, &key, &all, EventStatus::Waiting);
            return;
        }
        let mut next = state.clone();
        let (taken, deleted) = self.take_events(&key, &events, &mut next, changes, summary);
        let applied: Vec<i64> = taken.iter().map(|e| e.seq).collect();
        if applied.is_empty() && !state.dirty {
            changes.records.push(next);
            return;
        }
        // A delete now, or a parked delete a person decided.
        let deleted = deleted.or_else(|| {
            state.decisions.contains_key(DELETE).then(|| {
                if next.left.presence == Presence::Deleted {
                    Side::Left
                } else {
                    Side::Right
                }
            })
        });
        if let Some(side) = deleted {
            self.delete(side, &mut next, changes, summary);
            mark(changes, &key, &applied, EventStatus::Applied);
            changes.records.push(next);
            return;
        }
        let mut mapped: [Option<Json>; 2] = [None, None];
        for side in [Side::Left, Side::Right] {
            let Some(record) = next.side(side).record.as_ref() else {
                continue;
            };
            // A record born on the other side, not yet linked here: what
            // this side holds is only what tether sent it, without the key
            // the provider will give it (a required field its mapping would
            // refuse). It cannot have changed since: its events carry a key
            // this record does not have yet. Nothing flows from it.
            if next.born == Some(side.other()) {
                continue;
            }
            match self.map(side, record) {
                Ok(m) => mapped[side as usize] = m,
                Err(errors) => {
                    // The record as it was, blocked: its events and the
                    // ones after them wait for a replay or a discard.
                    summary.dead_lettered += 1;
                    state.blocked = Some(Blocked::DeadLetter);
                    mark(changes, &key, &applied, EventStatus::Dead);
                    changes.dead_letters.push(NewDeadLetter {
                        key: Some(key.clone()),
                        side,
                        errors,
                        events: applied,
                        operation: None,
                    });
                    changes.records.push(state);
                    return;
                }
            }
        }
        let view = |side: Side| SideView {
            record: next.side(side).record.as_ref(),
            mapped: mapped[side as usize].as_ref(),
            version: next.side(side).version.as_ref(),
        };
        let outcome = merge::merge(&merge::Input {
            spec: self.spec,
            left: view(Side::Left),
            right: view(Side::Right),
            base: next.base.as_ref(),
            decisions: &state.decisions,
        });
        for r in &outcome.resolutions {
            *summary.conflicts.entry(r.rule.clone()).or_default() += 1;
            changes.resolutions.push((key.clone(), r.clone()));
        }
        mark(changes, &key, &applied, EventStatus::Applied);
        next.decisions.clear();
        next.dirty = false;
        if !outcome.parked.is_empty() {
            summary.parked += 1;
            next.blocked = Some(Blocked::Review);
            changes
                .reviews
                .push((key, "conflict".into(), outcome.parked));
            changes.records.push(next);
            return;
        }
        if outcome.left.is_none() && outcome.right.is_none() {
            summary.unchanged += 1;
        }
        for side in [Side::Left, Side::Right] {
            if let Some(w) = outcome.write(side) {
                self.write(side, w, &mut next, changes, summary);
            }
        }
        next.base = Some(outcome.base);
        next.generation += 1;
        changes.records.push(next);
    }

    /// Drops stale events (older than the side's high-water mark) and makes
    /// each side's newest other event its current record. The events taken,
    /// and the side whose newest event is a delete.
    fn take_events<'e>(
        &self,
        key: &str,
        events: &'e [Pending],
        next: &mut RecordState,
        changes: &mut Changes,
        summary: &mut Summary,
    ) -> (Vec<&'e Pending>, Option<Side>) {
        let mut latest: [Option<&Pending>; 2] = [None, None];
        let mut taken = Vec::new();
        for e in events {
            let hwm = &mut next.side_mut(e.side).version;
            if let (Some(v), Some(h)) = (&e.version, hwm.as_ref())
                && json::version_order(v, h) == std::cmp::Ordering::Less
            {
                summary.stale += 1;
                mark(changes, key, &[e.seq], EventStatus::Stale);
                continue;
            }
            if e.version.is_some() {
                *hwm = e.version.clone();
            }
            latest[e.side as usize] = Some(e);
            taken.push(e);
        }
        let mut deleted = None;
        for side in [Side::Left, Side::Right] {
            let Some(e) = latest[side as usize] else {
                continue;
            };
            let s = next.side_mut(side);
            match e.op {
                EventOp::Upsert => {
                    s.presence = Presence::Seen;
                    s.record = Some(e.record.clone());
                    if let Some(id) = self.spec.native_id(side, &e.record) {
                        s.native_id = Some(id);
                    }
                    if side == Side::Right {
                        next.right_key = self
                            .spec
                            .key_of(Side::Right, &e.record)
                            .or(next.right_key.take());
                    }
                }
                EventOp::Delete => {
                    s.presence = Presence::Deleted;
                    s.record = None;
                    deleted = Some(side);
                }
            }
        }
        (taken, deleted)
    }

    /// Puts a write to `side` in the outbox, and applies it to the side's
    /// known record (so its echo compares equal).
    fn write(
        &self,
        side: Side,
        w: &merge::Write,
        next: &mut RecordState,
        changes: &mut Changes,
        summary: &mut Summary,
    ) {
        let side_key = match side {
            Side::Left => Some(next.key.clone()),
            Side::Right => next
                .right_key
                .clone()
                .or_else(|| self.spec.key_of(Side::Right, &w.after)),
        }
        .unwrap_or_else(|| next.key.clone());
        // An update names the record by its key too.
        let mut record = w.record.clone();
        if let Some(p) = self.spec.key_path(side)
            && let Some(k) = json::get(&w.after, p)
        {
            json::set(&mut record, p, k.clone());
        }
        let op = match w.kind {
            WriteKind::Create => {
                summary.created += 1;
                OpKind::Create
            }
            WriteKind::Update => {
                summary.updated += 1;
                OpKind::Update
            }
        };
        let unset: Vec<String> = w.unset.iter().map(|p| p.join(".")).collect();
        let mut operation =
            self.operation(side, op, &side_key, next.generation, Some(record), unset);
        operation.id = next.side(side).native_id.clone();
        changes.outbox.push((side, operation));
        let s = next.side_mut(side);
        s.record = Some(w.after.clone());
        if w.kind == WriteKind::Create {
            s.presence = Presence::Created;
        }
        if side == Side::Right {
            next.right_key = Some(side_key);
        }
    }

    /// A delete on `side`, by the mapping's policy.
    fn delete(
        &self,
        side: Side,
        next: &mut RecordState,
        changes: &mut Changes,
        summary: &mut Summary,
    ) {
        let decided = next.decisions.remove(DELETE);
        next.dirty = false;
        let policy = match decided {
            Some(s) if s == side => DeletePolicy::Propagate,
            Some(_) => DeletePolicy::Ignore,
            None => self.spec.on_delete,
        };
        let other = side.other();
        match policy {
            DeletePolicy::Ignore => summary.deletes_ignored += 1,
            DeletePolicy::Review => {
                summary.parked += 1;
                next.blocked = Some(Blocked::Review);
                let state = |s: Side| {
                    if s == side {
                        "deleted".to_string()
                    } else {
                        "exists".to_string()
                    }
                };
                changes.reviews.push((
                    next.key.clone(),
                    format!("delete on the {side} side"),
                    vec![merge::Parked {
                        field: DELETE.into(),
                        left: state(Side::Left),
                        right: state(Side::Right),
                        base: String::new(),
                    }],
                ));
            }
            DeletePolicy::Propagate => {
                let o = next.side_mut(other);
                if matches!(o.presence, Presence::Seen | Presence::Created) {
                    o.presence = Presence::Deleted;
                    o.record = None;
                    let key = match other {
                        Side::Left => next.key.clone(),
                        Side::Right => next.right_key.clone().unwrap_or_else(|| next.key.clone()),
                    };
                    let mut op = self.operation(
                        other,
                        OpKind::Delete,
                        &key,
                        next.generation,
                        None,
                        Vec::new(),
                    );
                    op.id = next.side(other).native_id.clone();
                    changes.outbox.push((other, op));
                    summary.deleted += 1;
                }
                next.base = None;
                next.generation += 1;
            }
        }
    }

    /// An operation with its idempotency key: a hash of mapping, side,
    /// key, the record's merge generation and the content, so the same
    /// merge gives the same key and a later change back to the same
    /// content does not.
    fn operation(
        &self,
        side: Side,
        op: OpKind,
        key: &str,
        generation: u64,
        record: Option<Json>,
        unset: Vec<String>,
    ) -> Operation {
        let mut h = Sha256::new();
        for part in [self.spec.mapping.as_str(), side.name(), key, op.as_str()] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update(generation.to_le_bytes());
        if let Some(r) = &record {
            h.update(r.to_string().as_bytes());
        }
        h.update([0]);
        h.update(unset.join("\n").as_bytes());
        let digest = h.finalize();
        Operation {
            op,
            key: key.into(),
            idempotency_key: format!("tk_{}", &hex(&digest)[..32]),
            id: None,
            record,
            unset,
            maybe_sent: false,
        }
    }

    /// Sends the side's pending operations, in batches of `send_batch`,
    /// retrying transient failures with backoff.
    fn send(
        &mut self,
        side: Side,
        provider: &mut dyn Provider,
        summary: &mut Summary,
    ) -> Result<(), SyncError> {
        let mapping = self.spec.mapping.clone();
        loop {
            let pending = self.store.pending(&mapping, side, self.send_batch.max(1))?;
            let Some(first) = pending.first() else {
                return Ok(());
            };
            // A batch numbered before a crash goes again as it was (the
            // same file, the same keys); new rows get the next number.
            let first_batch = first.batch;
            let (batch, rows): (i64, Vec<OutboxRow>) = match first_batch {
                Some(b) => (
                    b,
                    pending.into_iter().filter(|r| r.batch == Some(b)).collect(),
                ),
                None => {
                    let fresh: Vec<OutboxRow> = pending
                        .into_iter()
                        .take_while(|r| r.batch.is_none())
                        .collect();
                    let fresh = end_at_born_create(fresh);
                    let seqs: Vec<i64> = fresh.iter().map(|r| r.seq).collect();
                    let b = self.store.assign_batch(&mapping, side, &seqs)?;
                    failpoint("outbox-assigned");
                    (b, fresh)
                }
            };
            // Rows numbered before this send may have reached the provider
            // (a crash, or a pass that gave up on them): their outcome is
            // unknown, which decides whether a create looks up first.
            let maybe_sent = first_batch.is_some();
            let ops: Vec<Operation> = rows
                .iter()
                .map(|r| Operation {
                    maybe_sent,
                    ..r.operation.clone()
                })
                .collect();
            let mut attempt = 0;
            let sent = loop {
                attempt += 1;
                match provider.send(batch, &ops) {
                    Ok(s) => break s,
                    Err(e) if e.retryable && attempt < SEND_ATTEMPTS => {
                        std::thread::sleep(self.retry_base * 4u32.pow(attempt - 1));
                    }
                    Err(e) => return Err(SyncError::Provider(side, e)),
                }
            };
            let mut changes = Changes::default();
            let mut rekeyed = false;
            // Rows answered; the provider may give up before the end.
            let mut answered: Vec<i64> = Vec::with_capacity(rows.len());
            let mut gave_up: Option<String> = (sent.len() < ops.len()).then(|| {
                format!(
                    "the {side} side answered {} of {} operations",
                    sent.len(),
                    ops.len()
                )
            });
            for ((row, op), outcome) in rows.iter().zip(&ops).zip(sent) {
                if let Sent::NotSent(why) = outcome {
                    gave_up.get_or_insert(why);
                    continue;
                }
                answered.push(row.seq);
                match outcome {
                    Sent::NotSent(_) | Sent::Accepted { native_id: None } => {}
                    Sent::Accepted {
                        native_id: Some(id),
                    } => {
                        if let Some(mut r) = self.store.find_record(&mapping, side, &op.key)? {
                            r.side_mut(side).native_id = Some(id.clone());
                            if r.born == Some(side.other()) {
                                rekeyed |= self.rekey(side, r, &id, &mut changes, summary)?;
                            } else {
                                changes.records.push(r);
                            }
                        }
                    }
                    Sent::Refused(why) => {
                        summary.dead_lettered += 1;
                        // The record waits behind its refused write.
                        let record = self.store.find_record(&mapping, side, &op.key)?;
                        let key = record.as_ref().map_or(op.key.clone(), |r| r.key.clone());
                        if let Some(mut r) = record {
                            r.blocked = Some(Blocked::DeadLetter);
                            changes.records.push(r);
                        }
                        changes.dead_letters.push(NewDeadLetter {
                            key: Some(key),
                            side,
                            errors: vec![letter(
                                Code::E1009,
                                "",
                                &format!(
                                    "the {side} side refused {} {}: {why}",
                                    op.op, op.idempotency_key
                                ),
                            )],
                            events: Vec::new(),
                            operation: Some(op.clone()),
                        });
                    }
                }
            }
            if !changes.records.is_empty() || !changes.dead_letters.is_empty() {
                self.store.commit(&mapping, changes)?;
            }
            if rekeyed {
                // The crash suite's point between a born record re-keyed
                // (its key's write-back queued) and anything sent after.
                failpoint("rekeyed");
            }
            summary.sent += answered.len() as u64;
            let Some(why) = gave_up else {
                self.store.mark_sent(&mapping, side, batch)?;
                failpoint("ack-stored");
                self.progress(summary);
                continue;
            };
            // The rest stays in the outbox, under the same batch and keys.
            self.store.mark_sent_rows(&mapping, side, &answered)?;
            self.progress(summary);
            return Err(SyncError::Provider(
                side,
                ProviderError {
                    message: why,
                    retryable: false,
                },
            ));
        }
    }
}

impl Engine<'_> {
    /// A record born on the other side of `made` without the mapping's
    /// key was created on `made`, which answered with its id `id`: the
    /// record's key from now on (the caller checked, by
    /// [`Engine::born_links`], that `made`'s key is its id). Into
    /// `changes`, committed with the create's acknowledgement in one
    /// transaction: every reference moved to the new key ([`Rekey`]), the
    /// link, and the key's write-back, an update of the born side with
    /// only the key, under an idempotency key of its own (the same
    /// however often it is queued). Whether it re-keyed.
    fn rekey(
        &self,
        made: Side,
        mut r: RecordState,
        id: &str,
        changes: &mut Changes,
        summary: &mut Summary,
    ) -> Result<bool, SyncError> {
        let born = made.other();
        let from = r.key.clone();
        let native = r.side(born).native_id.clone();
        let path = self.spec.key_path(born).cloned();
        let taken = self
            .store
            .find_record(&self.spec.mapping, Side::Left, id)?
            .is_some();
        let (Some(native), Some(path), false) = (native, path, taken) else {
            // Already known under that key (the made record's own event
            // came first), or nothing to address the born side by: two
            // records for one person, which a person must join.
            summary.dead_lettered += 1;
            r.blocked = Some(Blocked::DeadLetter);
            changes.dead_letters.push(NewDeadLetter {
                key: Some(from.clone()),
                side: born,
                errors: vec![letter(
                    Code::E1009,
                    "",
                    &format!(
                        "the {made} side made `{id}` for the record born on the {born} side as                          `{from}`, but {}; its key was not written back",
                        if taken {
                            format!("`{id}` is already a record here")
                        } else {
                            "it has no id to be addressed by".to_string()
                        }
                    ),
                )],
                events: Vec::new(),
                operation: None,
            });
            changes.records.push(r);
            return Ok(false);
        };
        let key = Json::String(id.to_string());
        r.key = id.to_string();
        r.right_key = Some(id.to_string());
        r.born = None;
        // Both sides' records as tether knows them carry the key (the born
        // side's once the write-back is applied): its echo changes nothing.
        for side in [Side::Left, Side::Right] {
            if let (Some(p), Some(rec)) =
                (self.spec.key_path(side), r.side_mut(side).record.as_mut())
            {
                json::set(rec, p, key.clone());
            }
        }
        let mut record = Json::Object(serde_json::Map::new());
        json::set(&mut record, &path, key);
        let mut h = Sha256::new();
        for part in [self.spec.mapping.as_str(), born.name(), &native, "key", id] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        changes.outbox.push((
            born,
            Operation {
                op: OpKind::Update,
                key: id.to_string(),
                idempotency_key: format!("tk_{}", &hex(&h.finalize())[..32]),
                id: Some(native),
                record: Some(record),
                unset: Vec::new(),
                maybe_sent: false,
            },
        ));
        changes.rekeys.push(Rekey {
            from,
            to: id.to_string(),
            linked: made,
            native_id: id.to_string(),
        });
        changes.records.push(r);
        Ok(true)
    }
}

/// A fresh batch ends at a create for a record born on the other side
/// when a later row of it names the same record (an update merged before
/// the create was answered): that row is sent in the next batch, after
/// the create's answer re-keyed it and gave it the new record's id.
/// Otherwise it would go out in the same request loop, with neither.
fn end_at_born_create(mut rows: Vec<OutboxRow>) -> Vec<OutboxRow> {
    let mut last: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        last.insert(r.operation.key.as_str(), i);
    }
    let cut = rows.iter().enumerate().find_map(|(i, r)| {
        let op = &r.operation;
        (op.op == OpKind::Create
            && provisional_side(&op.key).is_some()
            && last.get(op.key.as_str()).is_some_and(|l| *l > i))
        .then_some(i + 1)
    });
    if let Some(cut) = cut {
        rows.truncate(cut);
    }
    rows
}

/// Keeps a provider's error for its side (which then sits out the rest of
/// the pass); any other error ends the pass.
fn sit_out(
    down: &mut [Option<ProviderError>; 2],
    result: Result<(), SyncError>,
) -> Result<(), SyncError> {
    match result {
        Err(SyncError::Provider(side, e)) => {
            down[side as usize].get_or_insert(e);
            Ok(())
        }
        other => other,
    }
}

/// Sets the status of events of the record `key`.
fn mark(changes: &mut Changes, key: &str, seqs: &[i64], status: EventStatus) {
    for seq in seqs {
        changes.statuses.push((*seq, status, Some(key.to_string())));
    }
}

/// The decision key of a parked delete.
const DELETE: &str = "(delete)";

fn letter(code: Code, path: &str, message: &str) -> RecordError {
    RecordError {
        code,
        rule: String::new(),
        path: path.into(),
        value: String::new(),
        message: message.into(),
    }
}

/// Where an item was delivered: the delivery (a file name) and its place
/// in it.
struct Position<'a>(&'a str, usize);

impl Position<'_> {
    /// The id of an event the provider gave none: a hash of the side, the
    /// delivery, the place in it and the text. The same delivery read again
    /// after a crash gives the same ids (deduplicated); the same content
    /// delivered later is a new event (a record changed back, A → B → A,
    /// is not lost), and merging it again is a no-op.
    fn event_id(&self, side: Side, text: &str) -> String {
        let mut h = Sha256::new();
        for part in [side.name(), self.0] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update((self.1 as u64).to_le_bytes());
        h.update(text.as_bytes());
        format!("sha256:{}", hex(&h.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, op: OpKind, key: &str) -> OutboxRow {
        OutboxRow {
            seq,
            side: Side::Left,
            batch: None,
            operation: Operation {
                op,
                key: key.into(),
                idempotency_key: format!("tk_{seq}"),
                id: None,
                record: None,
                unset: Vec::new(),
                maybe_sent: false,
            },
        }
    }

    fn seqs(rows: &[OutboxRow]) -> Vec<i64> {
        rows.iter().map(|r| r.seq).collect()
    }

    #[test]
    fn a_fresh_batch_ends_at_a_born_create_a_later_row_of_it_follows() {
        let rows = vec![
            row(1, OpKind::Update, "7"),
            row(2, OpKind::Create, "~right:E1"),
            row(3, OpKind::Create, "8"),
            row(4, OpKind::Update, "~right:E1"),
        ];
        assert_eq!(seqs(&end_at_born_create(rows)), [1, 2]);
        // Alone, or with nothing of its own after it: the batch is whole.
        let rows = vec![
            row(1, OpKind::Create, "~right:E1"),
            row(2, OpKind::Create, "~right:E2"),
            row(3, OpKind::Update, "9"),
        ];
        assert_eq!(seqs(&end_at_born_create(rows)), [1, 2, 3]);
        // A real key that merely looks like one is not cut at.
        let rows = vec![
            row(1, OpKind::Create, "~x:1"),
            row(2, OpKind::Update, "~x:1"),
        ];
        assert_eq!(seqs(&end_at_born_create(rows)), [1, 2]);
    }

    #[test]
    fn provisional_keys_name_their_side() {
        use crate::sync::store::{provisional_key, provisional_side};
        assert_eq!(provisional_key(Side::Right, "003A"), "~right:003A");
        assert_eq!(provisional_side("~right:003A"), Some(Side::Right));
        assert_eq!(provisional_side("~left:x"), Some(Side::Left));
        assert_eq!(provisional_side("~rightish"), None);
        assert_eq!(provisional_side("right:1"), None);
    }
}
