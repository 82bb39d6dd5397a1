//! A REST API as a side of a sync: reading changed records page by page
//! (docs/design/10-rest-providers.md, step 3).
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
//! Writes (step 4) are not declared yet: an operation for a read-only side
//! is refused, so it becomes a dead letter that says so.

use super::provider::{Item, Items, Provider, ProviderError, RawEvent, Received, Sent};
use super::store::{Checkpoint, EventOp, Operation};
use crate::http::Clock;
use crate::http::client::Request;
use crate::http::exchange::{Answer, Exchange};
use crate::http::json_at;
use crate::http::page::{Page, Pager, Pagination, Position};
use crate::provider::spec::{CursorFormat, CursorKind, CursorOrder, CursorSpec, ReadSpec};
use crate::provider::template::Vars;
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
    read: ReadSpec,
    from: Option<Checkpoint>,
}

impl<C: Clock> RestProvider<C> {
    pub fn new(name: &str, exchange: Exchange<C>, base: &str, read: ReadSpec) -> Self {
        RestProvider {
            name: name.to_string(),
            exchange,
            base: base.trim_end_matches('/').to_string(),
            read,
            from: None,
        }
    }

    pub fn exchange(&self) -> &Exchange<C> {
        &self.exchange
    }
}

impl<C: Clock> Provider for RestProvider<C> {
    fn resume(&mut self, from: Option<Checkpoint>) {
        self.from = from;
    }

    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        Ok(vec!["poll".into()])
    }

    fn open(&mut self, _delivery: &str) -> Result<Items<'_>, ProviderError> {
        let stored = self.from.as_ref().map(|c| &c.0);
        let cursor = stored.and_then(|c| c.get("cursor")).cloned();
        let read = stored
            .and_then(|c| c.get("read"))
            .and_then(Json::as_u64)
            .unwrap_or(0);
        let start = match &self.read.cursor {
            Some(spec) => Some(start_cursor(spec, cursor.as_ref())?),
            None => None,
        };
        let pager = Pager::new(self.read.page.clone(), &self.base);
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
        }))
    }

    fn ack(&mut self, _delivery: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    fn send(&mut self, _batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        Ok(ops
            .iter()
            .map(|op| {
                Sent::Refused(format!(
                    "{} declares no {} for this resource (it is read only)",
                    self.name, op.op
                ))
            })
            .collect())
    }
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
            read,
            ..
        } = &mut *self.provider;
        let label = read.request.label();
        let position = self.pager.position().clone();
        let request = request(read, base, &position, &label, self.start.as_ref())?;
        let response = match exchange.call(&request) {
            Ok(Answer::Done(r)) => r,
            Ok(Answer::Refused { status, message }) => {
                return Err(stop(format!(
                    "{label}: {name} refused the read ({status}): {message}"
                )));
            }
            Err(e) => return Err(stop(e.to_string())),
        };
        let body: Json = serde_json::from_slice(&response.body)
            .map_err(|e| stop(format!("{label}: the response is not JSON ({e})")))?;
        let records = match json_at(&body, &read.records) {
            Some(Json::Array(items)) => items.as_slice(),
            Some(Json::Null) => &[],
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
        let mut page_low: Option<(Order, &Json)> = None;
        let mut out_of_order = None;
        let (mut first, mut last) = (None, None);
        for (i, record) in records.iter().enumerate() {
            let cursor = match &read.cursor {
                Some(spec) => match json_at(record, &spec.field).filter(|v| !v.is_null()) {
                    Some(v) => Some((
                        order_of(spec.kind, v).ok_or_else(|| {
                            stop(format!(
                                "{label}: record {i} of the page has `{}` = {v}, not a {}",
                                spec.field.join("."),
                                kind_name(spec.kind)
                            ))
                        })?,
                        v,
                    )),
                    None => None,
                },
                None => None,
            };
            if let Some((order, raw)) = cursor {
                if first.is_none() {
                    first = Some(raw);
                }
                last = Some(raw);
                if page_low.is_none_or(|(low, _)| order < low) {
                    page_low = Some((order, raw));
                }
                let ascending = read
                    .cursor
                    .as_ref()
                    .is_some_and(|c| c.order == CursorOrder::Ascending);
                if ascending && self.previous.is_some_and(|p| order < p) && out_of_order.is_none() {
                    out_of_order = Some(i);
                }
                self.previous = Some(order);
                if self.highest.as_ref().is_none_or(|(h, _)| order > *h) {
                    self.highest = Some((order, raw.clone()));
                }
            }
            let identity = match (&read.cursor, cursor) {
                (Some(_), Some((_, raw))) => raw.to_string(),
                _ => format!("read {}", self.read),
            };
            let id = read
                .id
                .as_ref()
                .and_then(|p| json_at(record, p))
                .map_or_else(String::new, Json::to_string);
            let text = record.to_string();
            self.queue.push_back(Received::Item(Item::Event(RawEvent {
                event_id: Some(event_id(name, &id, &identity, &text)),
                op: EventOp::Upsert,
                version: cursor.map(|(_, raw)| raw.clone()),
                record: record.clone(),
                text,
            })));
        }
        // The checkpoint this page brings reading to.
        let order = read.cursor.as_ref().map(|c| c.order);
        let cursor = match (order, out_of_order) {
            // Low enough that nothing of this page or after it is skipped.
            (_, Some(_)) => page_low.map(|(_, raw)| raw.clone()),
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
            records: records.len(),
            link: response.header("link"),
            first_cursor: first,
            last_cursor: last,
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
            Err(e) => Err(stop(format!("{label}: {e}"))),
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
    let stored = stored.and_then(|raw| Some((order_of(spec.kind, raw)?, raw)));
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
            let order = order_of(spec.kind, from).ok_or_else(|| {
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
        _ => {
            let path = read.request.path.expand(&vars).ok_or_else(|| {
                stop(format!(
                    "{label}: the path needs a value this read does not have"
                ))
            })?;
            let mut url = format!("{base}{path}");
            for (key, value) in &read.request.query {
                if let Some(value) = value.expand(&vars) {
                    url.push(if url.contains('?') { '&' } else { '?' });
                    url.extend(percent_encoding::utf8_percent_encode(
                        key,
                        crate::http::COMPONENT,
                    ));
                    url.push('=');
                    url.push_str(&value);
                }
            }
            url
        }
    };
    let mut headers: Vec<(String, String)> = read
        .request
        .headers
        .iter()
        .filter_map(|(k, t)| Some((k.clone(), t.expand(&vars)?)))
        .collect();
    headers.push(("Accept".into(), "application/json".into()));
    let body = read
        .request
        .body
        .as_ref()
        .and_then(|b| b.expand(&vars))
        .map(|b| b.to_string().into_bytes());
    if body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    Ok(Request {
        method: read.request.method,
        url,
        headers,
        body,
        label: label.to_string(),
    })
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

/// How a cursor value compares. A date-time is RFC 3339 text or epoch
/// milliseconds (a number, or digits in a string, as HubSpot's
/// `lastmodifieddate` property is).
fn order_of(kind: CursorKind, v: &Json) -> Option<Order> {
    let digits = |s: &str| s.trim().parse::<i64>().ok().map(Order::from);
    match (kind, v) {
        (_, Json::Number(n)) => n.as_i64().map(Order::from),
        (CursorKind::Number, Json::String(s)) => digits(s),
        (CursorKind::DateTime, Json::String(s)) => digits(s).or_else(|| {
            DateTime::parse_from_rfc3339(s.trim())
                .ok()
                .map(|d| Order::from(d.timestamp_millis()))
        }),
        _ => None,
    }
}

/// A cursor value as requests write it.
fn format_cursor(spec: &CursorSpec, order: Order) -> Json {
    let millis = i64::try_from(order).unwrap_or(if order < 0 { i64::MIN } else { i64::MAX });
    match (spec.kind, spec.format) {
        (CursorKind::Number, _) => json!(millis),
        (CursorKind::DateTime, CursorFormat::Millis) => json!(millis),
        (CursorKind::DateTime, CursorFormat::Seconds) => json!(millis.div_euclid(1000)),
        (CursorKind::DateTime, CursorFormat::Iso8601) => {
            let at = DateTime::<Utc>::from_timestamp_millis(millis).unwrap_or_default();
            json!(at.to_rfc3339_opts(SecondsFormat::Millis, true))
        }
    }
}

/// Where a read starts: the stored cursor less the look-back (inclusive:
/// the request asks for `>=`), or the beginning on a first read.
fn start_cursor(spec: &CursorSpec, stored: Option<&Json>) -> Result<Json, ProviderError> {
    let order = match stored {
        None => 0,
        Some(v) => order_of(spec.kind, v).ok_or_else(|| {
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
