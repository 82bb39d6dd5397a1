//! A webhook side paired with a REST resource (issue 20, points 3;
//! docs/design/12-webhooks.md, "Refetch and poller pairing"):
//! `--left webhook:hubspot-v3+provider:hubspot.contacts[+poll]`.
//!
//! * **Refetch.** A notice that only names a record (`{"fetch": id}` in
//!   the inbox, [`super::webhook::FETCH`]) becomes an event only once the
//!   record was read by the resource's `fetch` request, over the
//!   provider's authenticated [`Exchange`](crate::http::exchange::Exchange)
//!   (its budgets, retries and breaker). That happens here, in the
//!   engine's receive step, never in the receiver's request: the receiver
//!   stores and answers at once whatever the API is doing.
//!   - 2xx: the body is the record; its version is the record's own (the
//!     read's cursor field) when the resource declares one, else the
//!     notice's.
//!   - 404 or 410: the record is gone. A notice that said deleted is a
//!     delete event (the record is the id at the read's `id at`); any
//!     other is a dead letter saying so.
//!   - Another refusal (403, 422): a dead letter with the provider's
//!     message, redacted by the exchange.
//!   - No usable answer (5xx after the retries, a timeout, the breaker
//!     open): the chunk fails as a provider error that can be retried. It
//!     is not acknowledged, so its notices stay in the inbox and the next
//!     pass reads them again (events already stored are duplicates then).
//!
//!   A chunk reads each id once: a batch naming one contact thrice (three
//!   changed properties) costs one request.
//! * **Poller pairing** (`+poll`): the resource's `read` runs each pass
//!   beside the inbox, a safety net for providers that never retry
//!   (N-Genius). Both paths give an event the same identity, the
//!   provider, the record's id (the read's `id at`) and its version (the
//!   read's cursor field), so a change seen by both is one event: the
//!   engine's dedupe by event id drops the second, whichever came first.
//!   A record without a version is known by its text instead.

use super::json;
use super::provider::{Item, Items, Provider, ProviderError, RawEvent, Received, Sent, parse_item};
use super::rest::{RestProvider, headers_of, http_request, url_of};
use super::store::{Checkpoint, EventOp, NoticeContent, OpenBreaker, Operation};
use super::webhook::{FETCH, WebhookProvider};
use crate::http::Clock;
use crate::http::exchange::{Answer, ExchangeError};
use crate::provider::spec::{FetchSpec, ResourceSpec};
use crate::provider::template::Vars;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet, VecDeque};

/// What a paired side knows of its resource.
#[derive(Clone, Debug)]
pub struct Pairing {
    /// The provider's name: part of every event's identity.
    pub provider: String,
    /// The resource's `fetch`; `None` for a preset whose notices carry
    /// their record (paired only to poll).
    pub fetch: Option<FetchSpec>,
    /// Where a record holds its provider id (the read's `id at`).
    pub id_at: Option<Vec<String>>,
    /// Where a record holds its version (the read's cursor field).
    pub version_at: Option<Vec<String>>,
    /// Whether the resource's read runs beside the inbox.
    pub poll: bool,
}

impl Pairing {
    /// What the side uses of `resource` of `provider`.
    pub fn of(provider: &str, resource: &ResourceSpec, poll: bool) -> Pairing {
        let read = resource.read.as_ref();
        Pairing {
            provider: provider.to_string(),
            fetch: resource.fetch.clone(),
            id_at: read.and_then(|r| r.id.clone()),
            version_at: read
                .and_then(|r| r.cursor.as_ref())
                .map(|c| c.field.clone()),
            poll,
        }
    }

    /// The identity both paths give a record's version: the provider, its
    /// id and its version (or, without one, its text).
    fn event_id(&self, id: &str, version: Option<&Json>, text: &str) -> String {
        let mut h = Sha256::new();
        let version = match version {
            Some(v) => format!("v:{}", version_key(v)),
            None => format!("t:{text}"),
        };
        for part in [self.provider.as_str(), id, version.as_str()] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let hex: String = h
            .finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("pair_{hex}")
    }

    /// A record's version, when the resource says where it is.
    fn version_of(&self, record: &Json) -> Option<Json> {
        let at = self.version_at.as_ref()?;
        json::get(record, at).filter(|v| !v.is_null()).cloned()
    }

    /// A record's provider id, when the resource says where it is.
    fn id_of(&self, record: &Json) -> Option<String> {
        let at = self.id_at.as_ref()?;
        json::get(record, at).and_then(json::key_text)
    }

    /// A polled (or carried) record's event under the pairing identity,
    /// when it has both an id and a version; otherwise as it came.
    fn identify(&self, mut e: RawEvent) -> RawEvent {
        if let (Some(id), Some(version)) = (self.id_of(&e.record), self.version_of(&e.record)) {
            e.event_id = Some(self.event_id(&id, Some(&version), &e.text));
        }
        e
    }
}

/// A version as the identity knows it: one version however the two paths
/// wrote it, as the merge orders it (`json::version_order`): an integer
/// whether a number or digits in a string (`5`, `"5"`), a date-time as its
/// instant (`…00Z`, `…00.000Z`, `…00+00:00`); anything else as its JSON
/// text. A search API and a read by id need not write a stamp alike, and
/// the poller's event and the fetched one must still be one event.
fn version_key(v: &Json) -> String {
    let int = match v {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.parse::<i64>().ok(),
        _ => None,
    };
    if let Some(n) = int {
        return format!("i{n}");
    }
    match v.as_str().and_then(json::datetime) {
        Some(at) => format!("d{}.{:09}", at.timestamp(), at.timestamp_subsec_nanos()),
        None => format!("j{v}"),
    }
}

/// How one fetch ended, short of a transient failure.
#[derive(Clone)]
enum Fetched {
    Record(Json),
    Gone(u16),
    Refused(String),
}

/// A webhook inbox whose notices are read again over a REST resource,
/// and optionally that resource's poller beside it.
pub struct PairedProvider<C: Clock> {
    inbox: WebhookProvider,
    rest: RestProvider<C>,
    pairing: Pairing,
    /// The deliveries `pending` named that are the poller's.
    polled: HashSet<String>,
}

impl<C: Clock> PairedProvider<C> {
    pub fn new(inbox: WebhookProvider, rest: RestProvider<C>, pairing: Pairing) -> Self {
        PairedProvider {
            inbox,
            rest,
            pairing,
            polled: HashSet::new(),
        }
    }
}

/// Reads one record by the notice's id.
fn fetch<C: Clock>(
    rest: &mut RestProvider<C>,
    spec: &FetchSpec,
    id: &str,
) -> Result<Fetched, ProviderError> {
    let label = spec.request.label();
    let (exchange, base) = rest.exchange_mut();
    let holder = json!({ "id": id });
    let vars = Vars {
        record: Some(&holder),
        ..Vars::default()
    };
    let url = match url_of(base, &spec.request.path, &spec.request.query, &vars) {
        Ok(url) => url,
        // An id that would change the path (`..`, empty): never sent.
        Err(why) => return Ok(Fetched::Refused(why.say(&label))),
    };
    let request = http_request(
        spec.request.method,
        url,
        headers_of(&spec.request.headers, &vars, None),
        None,
        label.clone(),
    );
    match exchange.call(&request) {
        // Counted before it is parsed, as a read's page is: a record of
        // a million `0,` would take gigabytes once parsed (the body cap
        // bounds bytes, not values), and this record is not the only one
        // a chunk holds. The record, not the provider: a dead letter.
        Ok(Answer::Done(r))
            if crate::http::json_values(&r.body, crate::http::MAX_JSON_VALUES)
                > crate::http::MAX_JSON_VALUES =>
        {
            Ok(Fetched::Refused(format!(
                "{label}: the answer holds more than {} JSON values; tether does not parse a \
                 record that large",
                crate::http::MAX_JSON_VALUES
            )))
        }
        Ok(Answer::Done(r)) => Ok(match serde_json::from_slice::<Json>(&r.body) {
            Ok(record @ Json::Object(_)) => Fetched::Record(record),
            Ok(_) => Fetched::Refused(format!("{label}: the answer is not a JSON object")),
            Err(e) => Fetched::Refused(format!("{label}: the answer is not JSON: {e}")),
        }),
        Ok(Answer::Refused {
            status: status @ (404 | 410),
            ..
        }) => Ok(Fetched::Gone(status)),
        Ok(Answer::Refused { status, message }) => Ok(Fetched::Refused(format!(
            "{label} answered {status}: {message}"
        ))),
        // This record's answer, or this id's request (an id so long the
        // URL cannot be built: anyone who can post a notice could send
        // one), every time: waiting would hold the notices behind it for
        // ever.
        Err(e @ (ExchangeError::TooLarge { .. } | ExchangeError::Unsendable { .. })) => {
            Ok(Fetched::Refused(exchange.redact(&e.to_string())))
        }
        // Down, throttled past a pass, out of attempts: the notice waits
        // in the inbox for the next pass.
        Err(e) => Err(ProviderError {
            message: format!("refetch: {}", exchange.redact(&e.to_string())),
            retryable: true,
        }),
    }
}

/// A stored refetch notice: its envelope members.
struct Notice {
    text: String,
    op: EventOp,
    version: Option<Json>,
    id: String,
}

fn notice_of(text: &str) -> Option<Notice> {
    let v: Json = serde_json::from_str(text).ok()?;
    let id = v.get(FETCH)?.as_str()?.to_string();
    let op = match v.get("op").and_then(Json::as_str) {
        Some("delete") => EventOp::Delete,
        _ => EventOp::Upsert,
    };
    Some(Notice {
        text: text.to_string(),
        op,
        version: v.get("version").filter(|v| !v.is_null()).cloned(),
        id,
    })
}

/// The event a fetched notice becomes.
fn event_of(pairing: &Pairing, n: &Notice, fetched: Fetched, label: &str) -> Item {
    match fetched {
        Fetched::Record(record) => {
            // The record's own version where the resource says it is: a
            // notice's (HubSpot's epoch milliseconds) would not order
            // against the record's (an RFC 3339 `updatedAt`) of a poll.
            let version = match pairing.version_at {
                Some(_) => pairing.version_of(&record),
                None => n.version.clone(),
            };
            let id = pairing.id_of(&record).unwrap_or_else(|| n.id.clone());
            let text = record.to_string();
            Item::Event(RawEvent {
                event_id: Some(pairing.event_id(&id, version.as_ref(), &text)),
                op: EventOp::Upsert,
                version,
                record,
                text,
            })
        }
        Fetched::Gone(_) if n.op == EventOp::Delete => {
            // The record is its id where the resource keeps it.
            let at = pairing
                .id_at
                .clone()
                .unwrap_or_else(|| vec!["id".to_string()]);
            let mut record = json!({});
            json::set(&mut record, &at, Json::String(n.id.clone()));
            let text = record.to_string();
            let gone = json!(format!(
                "deleted {}",
                n.version.clone().unwrap_or(Json::Null)
            ));
            Item::Event(RawEvent {
                event_id: Some(pairing.event_id(&n.id, Some(&gone), &text)),
                op: EventOp::Delete,
                // No version: the API says the record is gone now, which
                // no earlier version outranks, and the notice's stamp may
                // not order against the record's (milliseconds against a
                // date-time) and would make the delete stale.
                version: None,
                record,
                text,
            })
        }
        Fetched::Gone(status) => Item::unreadable(
            n.text.clone(),
            FETCH,
            format!(
                "{label} answered {status}: the record `{}` is gone, and the notice did not say \
                 it was deleted",
                crate::http::secret::shown(&n.id, 60)
            ),
        ),
        Fetched::Refused(why) => Item::unreadable(n.text.clone(), FETCH, why),
    }
}

impl<C: Clock> Provider for PairedProvider<C> {
    fn resume(&mut self, from: Option<Checkpoint>) {
        self.rest.resume(from);
    }
    fn health_key(&self) -> Option<String> {
        self.rest.health_key()
    }
    fn restore_breaker(&mut self, open: OpenBreaker) {
        self.rest.restore_breaker(open);
    }
    fn open_breaker(&self) -> Option<OpenBreaker> {
        self.rest.open_breaker()
    }
    fn requests(&self) -> Option<(String, crate::http::exchange::Stats)> {
        self.rest.requests()
    }

    /// The inbox's chunks first (they are what changed now), then the
    /// poller's read.
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        let mut names = self.inbox.pending()?;
        self.polled.clear();
        if self.pairing.poll {
            for name in self.rest.pending()? {
                // An inbox chunk is `preset#seq`; a read's name never has
                // a `#`, but is kept apart all the same.
                self.polled.insert(name.clone());
                names.push(name);
            }
        }
        Ok(names)
    }

    fn open(&mut self, delivery: &str) -> Result<Items<'_>, ProviderError> {
        let pairing = self.pairing.clone();
        if self.polled.contains(delivery) {
            let items = self.rest.open(delivery)?;
            return Ok(Box::new(items.map(move |r| {
                r.map(|received| match received {
                    Received::Item(Item::Event(e)) => {
                        Received::Item(Item::Event(pairing.identify(e)))
                    }
                    other => other,
                })
            })));
        }
        let mut notices: VecDeque<NoticeContent> = self.inbox.notices(delivery)?.into();
        let rest = &mut self.rest;
        let mut fetched: HashMap<String, Fetched> = HashMap::new();
        Ok(Box::new(std::iter::from_fn(move || {
            let n = notices.pop_front()?;
            let item = match n {
                NoticeContent::Malformed { error, body } => {
                    Item::unreadable(String::from_utf8_lossy(&body), "", error)
                }
                NoticeContent::Read(text) => match (notice_of(&text), &pairing.fetch) {
                    (Some(notice), Some(spec)) => {
                        let result = match fetched.get(&notice.id) {
                            Some(f) => f.clone(),
                            None => match fetch(rest, spec, &notice.id) {
                                Ok(f) => {
                                    fetched.insert(notice.id.clone(), f.clone());
                                    f
                                }
                                Err(e) => return Some(Err(e)),
                            },
                        };
                        event_of(&pairing, &notice, result, &spec.request.label())
                    }
                    // Refused when the side is set up; kept, never guessed.
                    (Some(notice), None) => Item::unreadable(
                        notice.text,
                        FETCH,
                        "the notice names a record to read again, and the resource declares \
                         no `fetch`",
                    ),
                    (None, _) => match parse_item(&text) {
                        Item::Event(e) => Item::Event(pairing.identify(e)),
                        other => other,
                    },
                },
            };
            Some(Ok(Received::Item(item)))
        })))
    }

    fn ack(&mut self, delivery: &str) -> Result<(), ProviderError> {
        if self.polled.contains(delivery) {
            self.rest.ack(delivery)
        } else {
            self.inbox.ack(delivery)
        }
    }

    /// A webhook side is never written to (refused when the sync starts),
    /// paired or not.
    fn send(&mut self, batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        self.inbox.send(batch, ops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairing() -> Pairing {
        Pairing {
            provider: "crm".into(),
            fetch: None,
            id_at: Some(vec!["id".into()]),
            version_at: Some(vec!["updatedAt".into()]),
            poll: true,
        }
    }

    fn raw(record: Json) -> RawEvent {
        RawEvent {
            event_id: Some("rest_polled".into()),
            op: EventOp::Upsert,
            version: None,
            text: record.to_string(),
            record,
        }
    }

    fn notice(op: EventOp, version: Option<Json>) -> Notice {
        Notice {
            text: r#"{"event_id":"1","op":"upsert","fetch":"c1"}"#.into(),
            op,
            version,
            id: "c1".into(),
        }
    }

    fn event(item: Item) -> RawEvent {
        match item {
            Item::Event(e) => e,
            _ => panic!("an event"),
        }
    }

    /// The poller's record and the fetched one, at one version, are one
    /// event, whatever their text and the notice's stamp; another version
    /// is another event.
    #[test]
    fn polled_and_fetched_records_share_an_identity_by_id_and_version() {
        let p = pairing();
        let polled = p.identify(raw(json!({"id": "c1", "updatedAt": 5, "x": 1})));
        let fetched = event(event_of(
            &p,
            &notice(EventOp::Upsert, Some(json!(1_700_000_000_000_i64))),
            Fetched::Record(json!({"updatedAt": 5, "id": "c1", "x": 1, "extra": true})),
            "GET /c/{id}",
        ));
        assert_eq!(polled.event_id, fetched.event_id);
        // The record's own version, not the notice's.
        assert_eq!(fetched.version, Some(json!(5)));
        let newer = p.identify(raw(json!({"id": "c1", "updatedAt": 6})));
        assert_ne!(polled.event_id, newer.event_id);
        // Without a version the poller's own identity is kept.
        let bare = p.identify(raw(json!({"id": "c1"})));
        assert_eq!(bare.event_id.as_deref(), Some("rest_polled"));
    }

    /// The same stamp written two ways by the poller's read and the fetch
    /// is one version, hence one event; another stamp is another.
    #[test]
    fn a_version_written_two_ways_is_one_identity() {
        let p = pairing();
        let id = |v: Json| {
            p.identify(raw(json!({"id": "c1", "updatedAt": v})))
                .event_id
                .unwrap_or_default()
        };
        assert_eq!(id(json!(5)), id(json!("5")));
        assert_eq!(
            id(json!("2024-01-15T10:30:00Z")),
            id(json!("2024-01-15T10:30:00.000+00:00"))
        );
        assert_eq!(
            id(json!("2024-01-15T10:30:00.000+0000")),
            id(json!("2024-01-15T11:30:00+01:00"))
        );
        assert_ne!(
            id(json!("2024-01-15T10:30:00Z")),
            id(json!("2024-01-15T10:30:01Z"))
        );
        assert_ne!(id(json!(5)), id(json!(6)));
        assert_ne!(id(json!("x")), id(json!("y")));
    }

    #[test]
    fn a_gone_record_is_a_delete_only_when_the_notice_said_so() {
        let p = pairing();
        let deleted = event(event_of(
            &p,
            &notice(EventOp::Delete, Some(json!(1))),
            Fetched::Gone(404),
            "GET /c/{id}",
        ));
        assert_eq!(deleted.op, EventOp::Delete);
        assert_eq!(deleted.record, json!({"id": "c1"}));
        assert_eq!(deleted.version, None, "never stale");
        match event_of(
            &p,
            &notice(EventOp::Upsert, None),
            Fetched::Gone(410),
            "GET /c/{id}",
        ) {
            Item::Malformed { error, .. } => {
                assert!(error.message.contains("answered 410"), "{}", error.message);
                assert!(error.message.contains("did not say it was deleted"));
            }
            _ => panic!("a dead letter"),
        }
        match event_of(
            &p,
            &notice(EventOp::Upsert, None),
            Fetched::Refused("GET /c/{id} answered 403: no".into()),
            "GET /c/{id}",
        ) {
            Item::Malformed { error, .. } => assert!(error.message.contains("403")),
            _ => panic!("a dead letter"),
        }
    }
}
