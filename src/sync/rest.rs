//! A REST API as a side of a sync: reading changed records page by page
//! (docs/design/10-rest-providers.md, step 3), and writing operations one
//! request each (step 4).
//!
//! A pass's read is one delivery (`poll`) whose items are fetched lazily,
//! one page per request, so the engine's storing sets the pace and one
//! page is in memory. After each page comes a checkpoint, which the engine
//! stores in the same transaction as the page's events: a failure or a
//! crash re-reads at most one page, whose events keep their ids and are
//! duplicates.
//!
//! * The read asks for `cursor >= stored − lookback`, never `>`: records
//!   sharing the last cursor value are read again, not lost; the copies
//!   already stored are removed by event identity (the provider, the
//!   record's id, its cursor value and its text), so the same version of a
//!   record is one event however many reads return it.
//! * A read declared ascending is verified record by record. On the first
//!   decrease the page is stored with the checkpoint lowered to the page's
//!   lowest cursor, and the read stops saying so: nothing is skipped.
//!   An unsorted read keeps its starting cursor in every page's checkpoint
//!   and moves it only when the whole read is done.
//! * A read without a cursor reads everything each time; its events'
//!   identity takes the read's number instead, as a file dropped again is
//!   new events.
//!
//! Writing (step 4) sends each operation as its own request through the
//! [`Exchange`] (which owns retries, `Retry-After`, budgets and the
//! breaker):
//!
//! * Answered and done: acknowledged, with the created record's id when
//!   the create says where it is (`id_at`), so the engine links it.
//! * Refused (a validation error): that operation alone is refused, with
//!   the provider's message (redacted and bounded by the exchange); it
//!   becomes a dead letter and the batch goes on.
//! * No usable answer (attempts spent, a `stop` status, the breaker open,
//!   a wait too long): this operation and the rest of the batch are
//!   `NotSent`. The engine keeps them under the same batch and
//!   idempotency keys, and the next pass sends them again, flagged
//!   `maybe_sent`.
//! * A create is made safe to send again as its declaration says: its
//!   idempotency key in a header (the same key on every resend, so the
//!   provider answers the repeat with the first answer), an upsert by an
//!   external key in the path, or a lookup. A lookup is sent only when the
//!   outcome is unknown (`maybe_sent`), and a create made safe that way is
//!   not sent again within a pass after an attempt whose outcome is
//!   unknown (no answer, or a 5xx): the next pass looks it up. Found, the
//!   record is updated instead and linked.
//! * An operation for something the resource declares no request for (a
//!   read-only resource, a delete without `delete`) is refused by name.
//!
//! Why one file of about 900 lines: reading (pages, cursor, checkpoints)
//! and writing (creates made safe to repeat, updates, deletes) of a REST
//! resource share the exchange, the addressing of records and the mapping
//! of answers to the engine's outcomes; they split when either grows.

use super::provider::{Item, Items, Linking, Provider, ProviderError, RawEvent, Received, Sent};
use super::store::{Checkpoint, EventOp, OpKind, OpenBreaker, Operation};
use crate::base::Side;
use crate::http::Clock;
use crate::http::client::Request;
use crate::http::exchange::{Answer, CallOptions, Exchange, ExchangeError};
use crate::http::json_at;
use crate::http::page::{Page, Pager, Pagination, Position};
use crate::plan::sync_spec::SyncSpec;
use crate::provider::spec::{
    ChangeSpec, CreateSafety, CreateSpec, CursorFormat, CursorKind, CursorOrder, CursorSpec,
    LookupSpec, ReadSpec, WriteBody, WriteRequest, WriteSpec,
};
use crate::provider::template::{PathRefusal, TextTemplate, Vars};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;

/// One REST resource as a provider.
pub struct RestProvider<C: Clock> {
    name: String,
    exchange: Exchange<C>,
    /// The base URL, without a trailing `/`.
    base: String,
    /// `None`: a write-only side (nothing is ever pending).
    read: Option<ReadSpec>,
    /// The exchange's budget group of the read's own `budget`s.
    read_budgets: Option<usize>,
    writes: WriteSpec,
    addressing: Addressing,
    from: Option<Checkpoint>,
}

/// Where an operation's key and the provider's own id go in the record
/// the write templates see: the mapping's `key` and `ids` paths of this
/// side. A delete carries no record, and an update's record may lack the
/// id, so `{id}` in a path is filled from the operation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Addressing {
    pub key: Option<Vec<String>>,
    pub id: Option<Vec<String>>,
}

impl Addressing {
    /// The paths a mapping's sync gives `side`.
    pub fn of(spec: &SyncSpec, side: Side) -> Addressing {
        let pick = |pair: &Option<(Vec<String>, Vec<String>)>| {
            pair.as_ref().map(|(l, r)| match side {
                Side::Left => l.clone(),
                Side::Right => r.clone(),
            })
        };
        Addressing {
            key: pick(&spec.key),
            id: pick(&spec.ids),
        }
    }
}

impl<C: Clock> RestProvider<C> {
    /// A resource that is read (and, with [`RestProvider::with_writes`],
    /// written).
    pub fn new(name: &str, mut exchange: Exchange<C>, base: &str, read: ReadSpec) -> Self {
        let read_budgets = (!read.budgets.is_empty()).then(|| exchange.budget_group(&read.budgets));
        RestProvider {
            read: Some(read),
            read_budgets,
            ..RestProvider::write_only(name, exchange, base)
        }
    }

    /// A resource that is only written: nothing is read from it.
    pub fn write_only(name: &str, exchange: Exchange<C>, base: &str) -> Self {
        RestProvider {
            name: name.to_string(),
            exchange,
            base: base.trim_end_matches('/').to_string(),
            read: None,
            read_budgets: None,
            writes: WriteSpec::default(),
            addressing: Addressing::default(),
            from: None,
        }
    }

    /// How operations are written, and where their key and id go.
    pub fn with_writes(mut self, writes: WriteSpec, addressing: Addressing) -> Self {
        self.writes = writes;
        self.addressing = addressing;
        self
    }

    pub fn exchange(&self) -> &Exchange<C> {
        &self.exchange
    }

    /// The exchange, to send a request of the provider's besides its read
    /// and writes (a webhook's refetch, `sync::refetch`), under the same
    /// budgets and breaker; and the base it is sent to.
    pub fn exchange_mut(&mut self) -> (&mut Exchange<C>, &str) {
        (&mut self.exchange, &self.base)
    }
}

impl<C: Clock> Provider for RestProvider<C> {
    fn resume(&mut self, from: Option<Checkpoint>) {
        self.from = from;
    }

    fn health_key(&self) -> Option<String> {
        Some(self.name.clone())
    }

    fn requests(&self) -> Option<(String, crate::http::exchange::Stats)> {
        Some((self.name.clone(), self.exchange.stats()))
    }

    fn restore_breaker(&mut self, open: OpenBreaker) {
        self.exchange.restore_breaker(open.until, open.cooldown);
    }

    fn open_breaker(&self) -> Option<OpenBreaker> {
        let (until, cooldown) = self.exchange.breaker().persisted()?;
        Some(OpenBreaker { until, cooldown })
    }

    /// A create that says where the new id is answers with it; an update
    /// whose path the `ids` path can fill addresses a record by its id.
    fn linking(&self) -> Linking {
        Linking {
            answers_ids: self
                .writes
                .create
                .as_ref()
                .is_some_and(|c| c.id_at.is_some()),
            updates_by_id: self.writes.update.is_some() && self.addressing.id.is_some(),
        }
    }

    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        Ok(match self.read {
            Some(_) => vec!["poll".into()],
            None => Vec::new(),
        })
    }

    fn open(&mut self, _delivery: &str) -> Result<Items<'_>, ProviderError> {
        let Some(spec) = &self.read else {
            return Ok(Box::new(std::iter::empty()));
        };
        let stored = self.from.as_ref().map(|c| &c.0);
        let mut cursor = stored.and_then(|c| c.get("cursor")).cloned();
        let ceiling = spec
            .cursor
            .as_ref()
            .and_then(|c| cursor_ceiling(c, self.exchange.wall_now()));
        if let (Some(c), Some(ceiling), Some(raw)) = (&spec.cursor, ceiling, &cursor)
            && order_of(c, raw).is_some_and(|o| o > ceiling)
        {
            // Stored before tether refused such cursors: reading from it
            // would find nothing, for good. Reading all again is safe
            // (unchanged records are no-ops).
            eprintln!(
                "warning: {}: the stored cursor {} is more than a day in the future; reading \
                 everything again",
                self.name,
                crate::http::secret::shown(&raw.to_string(), 60)
            );
            cursor = None;
        }
        let read = stored
            .and_then(|c| c.get("read"))
            .and_then(Json::as_u64)
            .unwrap_or(0);
        let start = match &spec.cursor {
            Some(c) => Some(start_cursor(c, cursor.as_ref())?),
            None => None,
        };
        let pager = Pager::new(spec.page.clone(), &self.base);
        Ok(Box::new(Reading {
            provider: self,
            pager,
            queue: VecDeque::new(),
            failure: None,
            done: false,
            start,
            stored_cursor: cursor,
            highest: None,
            previous: None,
            read,
            ceiling,
            future_warned: false,
        }))
    }

    fn ack(&mut self, _delivery: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Each operation is one request, in order. The first that gets no
    /// usable answer ends the batch: it and the rest are `NotSent`.
    fn send(&mut self, _batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        let mut sent = Vec::with_capacity(ops.len());
        for op in ops {
            match self.write(op) {
                Ok(s) => {
                    // The crash suite's point between a write the
                    // provider acted on and its acknowledgement stored.
                    if matches!(s, Sent::Accepted { .. }) {
                        super::failpoint("rest-sent");
                    }
                    sent.push(s);
                }
                Err(gave_up) => {
                    let why = gave_up.to_string();
                    let rest = ops.len() - sent.len();
                    sent.extend((0..rest).map(|_| Sent::NotSent(why.clone())));
                    break;
                }
            }
        }
        Ok(sent)
    }
}

/// What a lookup before a create found.
enum Lookup {
    /// The record exists, with this id.
    Found(String),
    NotFound,
    /// The lookup itself was refused, or cannot be sent for this record.
    Refused(String),
}

impl<C: Clock> RestProvider<C> {
    /// Sends one operation. Err: no usable answer (the batch stops here).
    fn write(&mut self, op: &Operation) -> Result<Sent, ExchangeError> {
        let plain = op.record.clone().unwrap_or_else(|| json!({}));
        let addressed = self.addressed(op, &plain);
        let change = match op.op {
            OpKind::Create => {
                return match self.writes.create.clone() {
                    Some(spec) => self.create(&spec, op, &addressed, &plain),
                    None => Ok(self.undeclared(op)),
                };
            }
            OpKind::Update => self.writes.update.clone(),
            OpKind::Delete => self.writes.delete.clone(),
        };
        let Some(ChangeSpec {
            request,
            idempotency_header,
        }) = change
        else {
            return Ok(self.undeclared(op));
        };
        let idempotency = idempotency_header.map(|h| (h, op.idempotency_key.clone()));
        self.send_write(&request, &addressed, &plain, idempotency, None, false)
    }

    /// An operation the resource declares no request for, refused by name.
    fn undeclared(&self, op: &Operation) -> Sent {
        let w = &self.writes;
        let read_only = w.create.is_none() && w.update.is_none() && w.delete.is_none();
        Sent::Refused(format!(
            "{} declares no {} for this resource{}",
            self.name,
            op.op,
            if read_only { " (it is read only)" } else { "" }
        ))
    }

    /// A create, made safe to repeat as declared.
    fn create(
        &mut self,
        spec: &CreateSpec,
        op: &Operation,
        addressed: &Json,
        plain: &Json,
    ) -> Result<Sent, ExchangeError> {
        let lookup = match &spec.safety {
            CreateSafety::Lookup(lookup) => Some(lookup),
            CreateSafety::IdempotencyHeader(_) | CreateSafety::Upsert => None,
        };
        if let Some(lookup) = lookup
            && op.maybe_sent
        {
            match self.lookup(lookup, addressed)? {
                Lookup::Found(id) => return self.found(id, addressed, plain, op),
                Lookup::Refused(why) => return Ok(Sent::Refused(why)),
                Lookup::NotFound => {}
            }
        }
        let idempotency = match &spec.safety {
            CreateSafety::IdempotencyHeader(h) => Some((h.clone(), op.idempotency_key.clone())),
            CreateSafety::Upsert | CreateSafety::Lookup(_) => None,
        };
        self.send_write(
            &spec.request,
            addressed,
            plain,
            idempotency,
            spec.id_at.as_deref(),
            lookup.is_some(),
        )
    }

    /// The create's record exists already (an earlier attempt made it):
    /// it is updated to this content when the resource declares an update
    /// that can address it, and linked either way.
    fn found(
        &mut self,
        id: String,
        addressed: &Json,
        plain: &Json,
        op: &Operation,
    ) -> Result<Sent, ExchangeError> {
        let mut addressed = addressed.clone();
        if let Some(path) = &self.addressing.id {
            super::json::set(&mut addressed, path, Json::String(id.clone()));
        }
        let linked = Sent::Accepted {
            native_id: Some(id),
        };
        let Some(update) = self.writes.update.clone() else {
            return Ok(linked);
        };
        let vars = Vars {
            record: Some(&addressed),
            ..Vars::default()
        };
        if url_of(
            &self.base,
            &update.request.path,
            &update.request.query,
            &vars,
        )
        .is_err()
        {
            // The update cannot name the record (the mapping has no `ids`
            // path for the id): linked as it is; the next read brings its
            // content to the merge.
            return Ok(linked);
        }
        let idempotency = update
            .idempotency_header
            .map(|h| (h, op.idempotency_key.clone()));
        // A refused update still links: refusing the create instead would
        // dead-letter it, and replaying that letter would create the
        // record a second time. What the provider kept comes back with
        // the next read, and the merge takes it from there.
        self.send_write(&update.request, &addressed, plain, idempotency, None, false)?;
        Ok(linked)
    }

    /// Sends a create's lookup: 2xx with an id at `id_at` is found; 2xx
    /// without one, 404 and 410 are not found.
    fn lookup(&mut self, spec: &LookupSpec, addressed: &Json) -> Result<Lookup, ExchangeError> {
        let label = spec.request.label();
        let vars = Vars {
            record: Some(addressed),
            ..Vars::default()
        };
        let url = match url_of(&self.base, &spec.request.path, &spec.request.query, &vars) {
            Ok(url) => url,
            Err(why) => return Ok(Lookup::Refused(why.say(&label))),
        };
        let body = spec.request.body.as_ref().and_then(|b| b.expand(&vars));
        let request = http_request(
            spec.request.method,
            url,
            headers_of(&spec.request.headers, &vars, None),
            body,
            label.clone(),
        );
        Ok(match self.exchange.call(&request)? {
            Answer::Done(r) => match id_in(&r.body, &spec.id_at) {
                Some(id) => Lookup::Found(id),
                None => Lookup::NotFound,
            },
            Answer::Refused {
                status: 404 | 410, ..
            } => Lookup::NotFound,
            Answer::Refused { status, message } => {
                Lookup::Refused(format!("{label} answered {status}: {message}"))
            }
        })
    }

    /// Sends one write request; `idempotency`: a header and the key it
    /// carries; `id_at`: where a created record's id is in the answer;
    /// `not_replayable`: never resent after an attempt without an answer.
    fn send_write(
        &mut self,
        spec: &WriteRequest,
        addressed: &Json,
        plain: &Json,
        idempotency: Option<(String, String)>,
        id_at: Option<&[String]>,
        not_replayable: bool,
    ) -> Result<Sent, ExchangeError> {
        let label = spec.label();
        let vars = Vars {
            record: Some(addressed),
            ..Vars::default()
        };
        let url = match url_of(&self.base, &spec.path, &spec.query, &vars) {
            Ok(url) => url,
            Err(why) => return Ok(Sent::Refused(why.say(&label))),
        };
        let body = match &spec.body {
            WriteBody::Record { omit } => {
                let mut body = plain.clone();
                for path in omit {
                    super::json::remove(&mut body, path);
                }
                Some(body)
            }
            WriteBody::Wrapped(template) => template.expand(&Vars {
                record: Some(plain),
                ..Vars::default()
            }),
            WriteBody::Empty => None,
        };
        let request = http_request(
            spec.method,
            url,
            headers_of(&spec.headers, &vars, idempotency),
            body,
            label.clone(),
        );
        let options = CallOptions {
            ok_also: &spec.ok_also,
            not_replayable,
            ..CallOptions::default()
        };
        Ok(match self.exchange.call_with(&request, options)? {
            Answer::Done(r) => Sent::Accepted {
                native_id: id_at.and_then(|at| id_in(&r.body, at)),
            },
            Answer::Refused { status, message } => {
                Sent::Refused(format!("{label} answered {status}: {message}"))
            }
        })
    }

    /// The record the templates see: the operation's record with its key
    /// and the provider's id at their paths, when it lacks them.
    fn addressed(&self, op: &Operation, plain: &Json) -> Json {
        let mut record = plain.clone();
        let fill = |record: &mut Json, path: &Option<Vec<String>>, value: Option<&String>| {
            if let (Some(path), Some(value)) = (path, value)
                && super::json::get(record, path).is_none_or(Json::is_null)
            {
                super::json::set(record, path, Json::String(value.clone()));
            }
        };
        // A provisional key (a record born on the other side, not yet
        // created here) is tether's, not a value of this provider's.
        let key = (super::store::provisional_side(&op.key).is_none()).then_some(&op.key);
        fill(&mut record, &self.addressing.key, key);
        fill(&mut record, &self.addressing.id, op.id.as_ref());
        record
    }
}

/// Why a write was not sent for a record: its path names a field the
/// record has no value for.
fn missing_field(label: &str) -> String {
    format!("{label}: the record has no value for a field the request's path or query names")
}

/// The id at `at` in a JSON answer, as text.
fn id_in(body: &[u8], at: &[String]) -> Option<String> {
    let body: Json = serde_json::from_slice(body).ok()?;
    json_at(&body, at).and_then(super::json::key_text)
}

/// Why no URL was built for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum UrlRefusal {
    /// The path needs a value the variables do not have.
    Missing,
    /// A value in the path is empty, `.` or `..`.
    DotSegment,
    /// The URL's origin is not the base's (a path without a leading `/`
    /// in a forged plan: `{id}` after `http://127.0.0.1`).
    OtherOrigin,
}

impl UrlRefusal {
    /// Why, in words, for the request labelled `label`.
    pub(super) fn say(self, label: &str) -> String {
        match self {
            UrlRefusal::Missing => missing_field(label),
            UrlRefusal::DotSegment => format!(
                "{label}: a value in the path is empty, `.` or `..`: sent, the request would \
                 address another resource"
            ),
            UrlRefusal::OtherOrigin => format!(
                "{label}: the URL would leave the provider's base; tether sends nothing outside it"
            ),
        }
    }
}

/// A URL: the base, the expanded path, and each query member whose value
/// has one, every value percent-encoded; refused when the path needs a
/// value the variables do not have, a value would change which resource
/// the path names, or the URL is not on the base's origin.
pub(super) fn url_of(
    base: &str,
    path: &TextTemplate,
    query: &[(String, TextTemplate)],
    vars: &Vars<'_>,
) -> Result<String, UrlRefusal> {
    let expanded = path.expand_path(vars).map_err(|why| match why {
        PathRefusal::Missing => UrlRefusal::Missing,
        PathRefusal::DotSegment => UrlRefusal::DotSegment,
    })?;
    let mut url = format!("{base}{expanded}");
    // Checked before anything is sent: credentials go to the base only.
    let base_origin = crate::http::page::origin_of(base);
    if base_origin.is_none() || crate::http::page::origin_of(&url) != base_origin {
        return Err(UrlRefusal::OtherOrigin);
    }
    for (key, value) in query {
        // The whole value is encoded, its text too: a SOQL query's spaces
        // and quotes, a literal `&`, must not change the URL's shape.
        if let Some(value) = value.expand_raw(vars) {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.extend(percent_encoding::utf8_percent_encode(
                key,
                crate::http::COMPONENT,
            ));
            url.push('=');
            url.extend(percent_encoding::utf8_percent_encode(
                &value,
                crate::http::COMPONENT,
            ));
        }
    }
    Ok(url)
}

/// The declared headers that have a value, an idempotency header, and
/// `Accept`.
pub(super) fn headers_of(
    declared: &[(String, TextTemplate)],
    vars: &Vars<'_>,
    idempotency: Option<(String, String)>,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = declared
        .iter()
        .filter_map(|(k, t)| Some((k.clone(), t.expand(vars)?)))
        .collect();
    headers.extend(idempotency);
    headers.push(("Accept".into(), "application/json".into()));
    headers
}

/// A request with a JSON body (and its `Content-Type`) when it has one.
pub(super) fn http_request(
    method: crate::http::client::Method,
    url: String,
    mut headers: Vec<(String, String)>,
    body: Option<Json>,
    label: String,
) -> Request {
    let body = body.map(|b| b.to_string().into_bytes());
    if body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    Request {
        method,
        url,
        headers,
        body,
        label,
    }
}

/// How far past now a date-time cursor may be kept: clock skew between
/// tether and the provider, generously.
const CURSOR_SKEW: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The highest cursor that may be kept at `now`, in the milliseconds
/// [`order_of`] gives every date-time cursor; `None` for a sequence
/// number, which has no clock.
fn cursor_ceiling(spec: &CursorSpec, now: std::time::SystemTime) -> Option<Order> {
    if spec.kind != CursorKind::DateTime {
        return None;
    }
    let millis = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .saturating_add(CURSOR_SKEW.as_millis());
    // Every date-time cursor is ordered in milliseconds (`order_of`),
    // epoch seconds included.
    Order::try_from(millis).ok()
}

/// A cursor value as it compares: milliseconds since the epoch for a
/// date-time, the number for a sequence.
type Order = i128;

/// One read in progress.
struct Reading<'p, C: Clock> {
    provider: &'p mut RestProvider<C>,
    pager: Pager,
    /// Items and checkpoints of the page fetched, not yet handed out.
    queue: VecDeque<Received>,
    /// Why the read stops, handed out once the queue is empty.
    failure: Option<ProviderError>,
    done: bool,
    /// What the first request asks from (the stored cursor less the
    /// look-back), as requests write it.
    start: Option<Json>,
    /// The checkpoint's cursor when the read began.
    stored_cursor: Option<Json>,
    /// The highest cursor seen in this read, with its value as the record
    /// has it.
    highest: Option<(Order, Json)>,
    /// The highest date-time cursor that may be stored: now and a day of
    /// clock skew. A record dated beyond it (a sentinel, a typo, a broken
    /// clock) is read but never becomes the checkpoint, or every later
    /// read would ask from the far future and find nothing, for good.
    ceiling: Option<Order>,
    /// Whether this read has warned of such a record yet (once a read).
    future_warned: bool,
    /// The last record's cursor, to verify an ascending read.
    previous: Option<Order>,
    /// Reads completed before this one (a read without a cursor takes it
    /// into its events' identity).
    read: u64,
}

impl<C: Clock> Iterator for Reading<'_, C> {
    type Item = Result<Received, ProviderError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.queue.pop_front() {
                return Some(Ok(r));
            }
            if let Some(e) = self.failure.take() {
                self.done = true;
                return Some(Err(e));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.page() {
                self.failure = Some(e);
            }
        }
    }
}

fn stop(message: String) -> ProviderError {
    ProviderError {
        message,
        retryable: false,
    }
}

impl<C: Clock> Reading<'_, C> {
    /// Fetches the page at the pager's position and queues its events and
    /// its checkpoint. Err after queueing: the read stops once they are
    /// stored.
    fn page(&mut self) -> Result<(), ProviderError> {
        let RestProvider {
            name,
            exchange,
            base,
            read: Some(read),
            read_budgets,
            ..
        } = &mut *self.provider
        else {
            self.done = true;
            return Ok(());
        };
        let label = read.request.label();
        let position = self.pager.position().clone();
        let request = request(read, base, &position, &label, self.start.as_ref())?;
        let options = CallOptions {
            group: *read_budgets,
            ..CallOptions::default()
        };
        let mut response = match exchange.call_with(&request, options) {
            Ok(Answer::Done(r)) => {
                // The crash suite's point between a page fetched and its
                // events stored.
                super::failpoint("page-fetched");
                r
            }
            Ok(Answer::Refused { status, message }) => {
                return Err(stop(format!(
                    "{label}: {name} refused the read ({status}): {message}"
                )));
            }
            Err(e) => return Err(stop(e.to_string())),
        };
        // The bytes are dropped once parsed: only the JSON tree is held
        // while the page's records are queued.
        if crate::http::json_values(&response.body, crate::http::MAX_JSON_VALUES)
            > crate::http::MAX_JSON_VALUES
        {
            return Err(stop(format!(
                "{label}: the page holds more than {} JSON values; tether does not parse a \
                 page that large (ask for smaller pages: a `limit`)",
                crate::http::MAX_JSON_VALUES
            )));
        }
        let mut body: Json = serde_json::from_slice(&std::mem::take(&mut response.body))
            .map_err(|e| stop(format!("{label}: the response is not JSON ({e})")))?;
        // The records are moved out of the body, not cloned: each becomes
        // an event's record as it is. The pager reads the rest of the body
        // (tokens, links, flags), never the records themselves.
        let pointer: String = read
            .records
            .iter()
            .map(|seg| format!("/{}", seg.replace('~', "~0").replace('/', "~1")))
            .collect();
        let records: Vec<Json> = match body.pointer_mut(&pointer) {
            Some(Json::Array(items)) => std::mem::take(items),
            Some(Json::Null) => Vec::new(),
            Some(_) => {
                return Err(stop(format!(
                    "{label}: `{}` in the response is not an array of records",
                    read.records.join(".")
                )));
            }
            None => {
                return Err(stop(format!(
                    "{label}: the response has no `{}` (where the records should be)",
                    read.records.join(".")
                )));
            }
        };
        let count = records.len();
        let mut page_low: Option<(Order, Json)> = None;
        let mut out_of_order = None;
        let (mut first, mut last): (Option<Json>, Option<Json>) = (None, None);
        for (i, record) in records.into_iter().enumerate() {
            let cursor = match &read.cursor {
                Some(spec) => match json_at(&record, &spec.field).filter(|v| !v.is_null()) {
                    Some(v) => Some((
                        order_of(spec, v).ok_or_else(|| {
                            stop(format!(
                                "{label}: record {i} of the page has `{}` = {}, not a {}",
                                spec.field.join("."),
                                // Provider text: bounded and escaped.
                                crate::http::secret::shown(&v.to_string(), 100),
                                kind_name(spec.kind)
                            ))
                        })?,
                        v.clone(),
                    )),
                    None => None,
                },
                None => None,
            };
            if let Some((order, raw)) = &cursor {
                let order = *order;
                if first.is_none() {
                    first = Some(raw.clone());
                }
                last = Some(raw.clone());
                if page_low.as_ref().is_none_or(|(low, _)| order < *low) {
                    page_low = Some((order, raw.clone()));
                }
                let ascending = read
                    .cursor
                    .as_ref()
                    .is_some_and(|c| c.order == CursorOrder::Ascending);
                if ascending && self.previous.is_some_and(|p| order < p) && out_of_order.is_none() {
                    out_of_order = Some(i);
                }
                self.previous = Some(order);
                if self.ceiling.is_some_and(|c| order > c) {
                    if !self.future_warned {
                        self.future_warned = true;
                        eprintln!(
                            "warning: {label}: record {i} has `{}` = {}, more than a day in the \
                             future; it is synced, but not kept as the read's cursor",
                            read.cursor
                                .as_ref()
                                .map_or(String::new(), |c| c.field.join(".")),
                            crate::http::secret::shown(&raw.to_string(), 60)
                        );
                    }
                } else if self.highest.as_ref().is_none_or(|(h, _)| order > *h) {
                    self.highest = Some((order, raw.clone()));
                }
            }
            let identity = match (&read.cursor, &cursor) {
                (Some(_), Some((_, raw))) => raw.to_string(),
                _ => format!("read {}", self.read),
            };
            let id = read
                .id
                .as_ref()
                .and_then(|p| json_at(&record, p))
                .map_or_else(String::new, Json::to_string);
            let text = record.to_string();
            self.queue.push_back(Received::Item(Item::Event(RawEvent {
                event_id: Some(event_id(name, &id, &identity, &text)),
                op: EventOp::Upsert,
                version: cursor.map(|(_, raw)| raw),
                record,
                text,
            })));
        }
        // The checkpoint this page brings reading to.
        let order = read.cursor.as_ref().map(|c| c.order);
        let cursor = match (order, out_of_order) {
            // Low enough that nothing of this page or after it is skipped.
            (_, Some(_)) => page_low.map(|(_, raw)| raw),
            (Some(CursorOrder::Ascending), None) => checkpoint_cursor(
                read.cursor.as_ref(),
                self.stored_cursor.as_ref(),
                &self.highest,
            ),
            _ => self.stored_cursor.clone(),
        };
        self.queue.push_back(checkpoint(cursor, self.read));
        if let Some(i) = out_of_order {
            let field = read
                .cursor
                .as_ref()
                .map_or(String::new(), |c| c.field.join("."));
            return Err(stop(format!(
                "{label}: {name} returned records out of cursor order (record {i} of page {} \
                 is older than the one before it): sort the read by `{field}`, or declare the \
                 cursor `unsorted`",
                self.pager.pages() + 1
            )));
        }
        let seen = Page {
            body: &body,
            records: count,
            link: response.header("link"),
            first_cursor: first.as_ref(),
            last_cursor: last.as_ref(),
        };
        match self.pager.next(&seen) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => {
                // The read is complete: an unsorted read moves its cursor
                // now, and a read without one counts itself.
                self.done = true;
                let cursor = checkpoint_cursor(
                    read.cursor.as_ref(),
                    self.stored_cursor.as_ref(),
                    &self.highest,
                );
                self.queue.push_back(checkpoint(cursor, self.read + 1));
                Ok(())
            }
            // Redacted too: an origin could carry a key as a host name.
            Err(e) => Err(stop(exchange.redact(&format!("{label}: {e}")))),
        }
    }
}

/// The highest cursor of the read so far, never below the stored one.
fn checkpoint_cursor(
    spec: Option<&CursorSpec>,
    stored: Option<&Json>,
    highest: &Option<(Order, Json)>,
) -> Option<Json> {
    let spec = spec?;
    let stored = stored.and_then(|raw| Some((order_of(spec, raw)?, raw)));
    match (highest, stored) {
        (Some((h, raw)), Some((s, _))) if *h > s => Some(raw.clone()),
        (_, Some((_, raw))) => Some(raw.clone()),
        (Some((_, raw)), None) => Some(raw.clone()),
        (None, None) => None,
    }
}

/// The request for the page at `position`; `start`: where the read's
/// first request asks from.
fn request(
    read: &ReadSpec,
    base: &str,
    position: &Position,
    label: &str,
    start: Option<&Json>,
) -> Result<Request, ProviderError> {
    let limit = match &read.page.style {
        Pagination::Offset { limit }
        | Pagination::PageNumber { limit, .. }
        | Pagination::Keyset { limit, .. } => Some(limit.get()),
        _ => None,
    };
    let page = match position {
        Position::Offset(n) | Position::PageNumber(n) => Some(json!(n)),
        Position::Token(t) => Some(json!(t)),
        Position::Keyset { token, .. } => token.as_ref().map(|t| json!(t)),
        Position::First => match &read.page.style {
            Pagination::Offset { .. } => Some(json!(0)),
            Pagination::PageNumber { first, .. } => Some(json!(first)),
            _ => None,
        },
        Position::Url(_) => None,
    };
    let cursor = match (position, &read.cursor) {
        (Position::Keyset { from, .. }, Some(spec)) => {
            let order = order_of(spec, from).ok_or_else(|| {
                stop(format!(
                    "{label}: the last cursor {from} is not a {}",
                    kind_name(spec.kind)
                ))
            })?;
            Some(format_cursor(spec, order))
        }
        _ => start.cloned(),
    };
    let vars = Vars {
        cursor,
        page,
        limit,
        record: None,
    };
    let url = match position {
        Position::Url(url) => url.clone(),
        _ => url_of(base, &read.request.path, &read.request.query, &vars).map_err(|why| {
            stop(match why {
                UrlRefusal::Missing => {
                    format!("{label}: the path needs a value this read does not have")
                }
                other => other.say(label),
            })
        })?,
    };
    let headers = headers_of(&read.request.headers, &vars, None);
    let body = read.request.body.as_ref().and_then(|b| b.expand(&vars));
    Ok(http_request(
        read.request.method,
        url,
        headers,
        body,
        label.to_string(),
    ))
}

fn checkpoint(cursor: Option<Json>, read: u64) -> Received {
    let mut value = serde_json::Map::new();
    if let Some(c) = cursor {
        value.insert("cursor".into(), c);
    }
    value.insert("read".into(), json!(read));
    Received::Checkpoint(Checkpoint(Json::Object(value)))
}

/// A polled record's event id: the provider, the record's id, the version
/// (its cursor value, or the read's number) and its text. The same
/// version of a record is one event however many reads return it.
fn event_id(provider: &str, id: &str, version: &str, text: &str) -> String {
    let mut h = Sha256::new();
    for part in [provider, id, version, text] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("rest_{hex}")
}

fn kind_name(kind: CursorKind) -> &'static str {
    match kind {
        CursorKind::DateTime => "date-time (RFC 3339, or epoch milliseconds)",
        CursorKind::Number => "integer",
    }
}

/// How a cursor value compares. A date-time is RFC 3339 text (or with an
/// offset without a colon, `2024-01-15T10:30:00.000+0000`, as Salesforce
/// writes it) or an epoch number (a number, or digits in a string, as
/// HubSpot's `lastmodifieddate` property is) in milliseconds, or seconds
/// when declared `as seconds`.
fn order_of(spec: &CursorSpec, v: &Json) -> Option<Order> {
    // A date-time written as a number is in the declared unit: epoch
    // seconds (`as seconds`) are ordered as the milliseconds they are, as
    // every other date-time cursor is.
    let unit: Order = match (spec.kind, &spec.format) {
        (CursorKind::DateTime, CursorFormat::Seconds) => 1000,
        _ => 1,
    };
    let scaled = |n: i64| Order::from(n).checked_mul(unit);
    let digits = |s: &str| s.trim().parse::<i64>().ok().and_then(scaled);
    match (spec.kind, v) {
        (_, Json::Number(n)) => n.as_i64().and_then(scaled),
        (CursorKind::Number, Json::String(s)) => digits(s),
        (CursorKind::DateTime, Json::String(s)) => digits(s).or_else(|| {
            DateTime::parse_from_rfc3339(s.trim())
                .or_else(|_| DateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f%z"))
                .ok()
                .map(|d| Order::from(d.timestamp_millis()))
        }),
        _ => None,
    }
}

/// A cursor value as requests write it.
fn format_cursor(spec: &CursorSpec, order: Order) -> Json {
    let millis = i64::try_from(order).unwrap_or(if order < 0 { i64::MIN } else { i64::MAX });
    let at = || DateTime::<Utc>::from_timestamp_millis(millis).unwrap_or_default();
    match (spec.kind, &spec.format) {
        (CursorKind::Number, _) => json!(millis),
        (CursorKind::DateTime, CursorFormat::Millis) => json!(millis),
        (CursorKind::DateTime, CursorFormat::Seconds) => json!(millis.div_euclid(1000)),
        (CursorKind::DateTime, CursorFormat::Iso8601) => {
            json!(at().to_rfc3339_opts(SecondsFormat::Millis, true))
        }
        (CursorKind::DateTime, CursorFormat::Pattern(p)) => {
            use crate::stdlib::datefmt::{Format, Parsed, Target};
            // Checked when declared and when a plan is loaded; should it
            // still not read, RFC 3339 is a cursor most APIs take.
            Format::parse_writer(p, Target::DateTime)
                .ok()
                .and_then(|f| f.write_value(&Parsed::DateTime(at().fixed_offset())).ok())
                .map_or_else(
                    || json!(at().to_rfc3339_opts(SecondsFormat::Millis, true)),
                    |text| json!(text),
                )
        }
    }
}

/// Where a read starts: the stored cursor less the look-back (inclusive:
/// the request asks for `>=`), or the beginning on a first read.
fn start_cursor(spec: &CursorSpec, stored: Option<&Json>) -> Result<Json, ProviderError> {
    let order = match stored {
        None => 0,
        Some(v) => order_of(spec, v).ok_or_else(|| {
            stop(format!(
                "the stored checkpoint's cursor {v} is not a {}",
                kind_name(spec.kind)
            ))
        })?,
    };
    let back = match spec.kind {
        CursorKind::DateTime => Order::try_from(spec.lookback.as_millis()).unwrap_or(Order::MAX),
        CursorKind::Number => 0,
    };
    Ok(format_cursor(spec, order.saturating_sub(back).max(0)))
}
