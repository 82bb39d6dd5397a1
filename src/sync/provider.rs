//! How the engine talks to a provider: it receives deliveries of changed
//! records (or events), acknowledges them once they are stored, and sends
//! batches of operations. The file-drop connector ([`super::filedrop`]) is
//! the first transport; HTTP transports (REST, SOAP, webhooks) implement
//! the same trait.

use super::store::{Checkpoint, EventOp, OpenBreaker, Operation};
use crate::diag::Code;
use crate::exec::RecordError;
use serde_json::Value as Json;

/// The items of one delivery (a file, a webhook request, a page of a
/// poll), read as the engine consumes them, so a large delivery is never
/// held whole. A read error stops the delivery (it is not acknowledged,
/// and is read again by the next pass).
pub type Items<'a> = Box<dyn Iterator<Item = Result<Received, ProviderError>> + 'a>;

/// What a delivery yields: items, and (from a poller) checkpoints.
pub enum Received {
    Item(Item),
    /// Where reading stands after the items before it (a poller's page):
    /// stored in the same transaction as those items, and given back to
    /// [`Provider::resume`] on the next pass.
    Checkpoint(Checkpoint),
}

impl From<Item> for Received {
    fn from(item: Item) -> Received {
        Received::Item(item)
    }
}

pub enum Item {
    Event(RawEvent),
    /// An XML document holding one record: the engine reads it with the
    /// side's schema view (`sync::xml`).
    Xml(String),
    /// A line or document that is not a record: kept whole, with the
    /// error `run` gives the same input (code, path and message), so a
    /// dead letter and a reject say the same.
    Malformed {
        text: String,
        error: RecordError,
    },
}

impl Item {
    /// Input that cannot be read at all (E1001): not JSON, not UTF-8, not
    /// XML, or an event envelope whose member `path` is unusable.
    pub fn unreadable(text: impl Into<String>, path: &str, message: impl Into<String>) -> Item {
        let mut error = RecordError::of_input(Code::E1001, message.into());
        error.path = path.to_string();
        Item::rejected(text, error)
    }

    /// Input refused with the error `run` gives it.
    pub fn rejected(text: impl Into<String>, error: RecordError) -> Item {
        Item::Malformed {
            text: text.into(),
            error,
        }
    }
}

/// An event before the engine gives it an id and a version.
pub struct RawEvent {
    /// The provider's event id, when it sent one.
    pub event_id: Option<String>,
    pub op: EventOp,
    pub version: Option<Json>,
    pub record: Json,
    /// The record's JSON text as delivered.
    pub text: String,
}

/// How a provider took one operation.
pub enum Sent {
    Accepted {
        /// The provider's id for a created record, when it returns one.
        native_id: Option<String>,
    },
    /// Refused for this operation only (a validation error): it is
    /// dead-lettered, the others go on.
    Refused(String),
    /// Not sent: the provider gave up before it (breaker open, attempts
    /// spent, a `stop` status), with why. The operation stays in the
    /// outbox under its batch and key, and the side's pass ends.
    NotSent(String),
}

#[derive(Debug)]
pub struct ProviderError {
    pub message: String,
    /// A transient failure (I/O, timeout, 5xx): the send is retried with
    /// backoff; otherwise the pass stops and the rows stay in the outbox.
    pub retryable: bool,
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A side's part in linking a record born on one side without the
/// mapping's key: the other side creates it and answers with its id (the
/// new key), and the born side is updated, by its own id, with that key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Linking {
    /// A create answers with the new record's id.
    pub answers_ids: bool,
    /// A record can be updated addressed by its own id (`ids`) alone.
    pub updates_by_id: bool,
}

pub trait Provider {
    /// Where reading stopped last (the last checkpoint stored), before
    /// anything else is asked of a pass. Providers without checkpoints
    /// (file drops) ignore it.
    fn resume(&mut self, from: Option<Checkpoint>) {
        let _ = from;
    }
    /// The name under which the store keeps this provider's health (a
    /// REST API's circuit breaker), shared by every mapping that uses the
    /// provider. `None` (file drops): nothing is kept.
    fn health_key(&self) -> Option<String> {
        None
    }
    /// The breaker as an earlier run left it open, given before a pass.
    fn restore_breaker(&mut self, open: OpenBreaker) {
        let _ = open;
    }
    /// The breaker as the pass leaves it: open, or `None` (closed).
    fn open_breaker(&self) -> Option<OpenBreaker> {
        None
    }
    /// The provider's name and its request counts since it was made
    /// (requests, retries, throttles, breaker openings, token fetches);
    /// `None` for a provider that makes no requests (file drops, webhook
    /// inboxes). A pass's share is the difference from the last call.
    fn requests(&self) -> Option<(String, crate::http::exchange::Stats)> {
        None
    }
    /// What this side can do for records born without the mapping's key
    /// (docs/design/10-rest-providers.md, "Records born on the other
    /// side"). Nothing, by default: a file drop's creates answer with no
    /// id, and its records cannot be updated by one.
    fn linking(&self) -> Linking {
        Linking::default()
    }
    /// The deliveries waiting, oldest first, by name (nothing read yet).
    fn pending(&mut self) -> Result<Vec<String>, ProviderError>;
    /// Reads one delivery.
    fn open(&mut self, delivery: &str) -> Result<Items<'_>, ProviderError>;
    /// The delivery's events are stored: it need not be delivered again.
    fn ack(&mut self, delivery: &str) -> Result<(), ProviderError>;
    /// Sends one batch of operations. `batch` numbers it; sending the same
    /// batch again (after a crash) must not apply anything twice: each
    /// operation carries its idempotency key.
    fn send(&mut self, batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError>;
}

/// Reads one line or document: an event envelope, or a plain record.
pub fn parse_item(text: &str) -> Item {
    if let Some(item) = duplicated(text) {
        return item;
    }
    match serde_json::from_str::<Json>(text) {
        Ok(v) => item_of(v, text),
        Err(e) => Item::unreadable(text, "", format!("malformed JSON: {e}")),
    }
}

/// A record with a member twice is refused whole: the JSON parser would
/// keep the last silently, and `run` rejects it (issue 17).
pub fn duplicated(text: &str) -> Option<Item> {
    crate::exec::duplicate_member(text).map(|error| Item::rejected(text, error))
}

/// An envelope is an object with a `record` object and an `event_id` or
/// an `op`; anything else that is an object is a plain record.
pub fn item_of(v: Json, text: &str) -> Item {
    let Json::Object(mut m) = v else {
        return Item::rejected(text, crate::exec::not_an_object(text));
    };
    let envelope = m.get("record").is_some_and(Json::is_object)
        && (m.contains_key("event_id") || m.contains_key("op"));
    if !envelope {
        let text = serde_json::to_string(&m).unwrap_or_else(|_| text.to_string());
        return Item::Event(RawEvent {
            event_id: None,
            op: EventOp::Upsert,
            version: None,
            record: Json::Object(m),
            text,
        });
    }
    let op = match m.get("op").and_then(Json::as_str) {
        None | Some("upsert" | "create" | "update") => EventOp::Upsert,
        Some("delete" | "archive") => EventOp::Delete,
        Some(other) => {
            return Item::unreadable(
                text,
                "op",
                format!(
                    "unknown op `{other}` (expected upsert, create, update, delete or archive)"
                ),
            );
        }
    };
    let malformed = |path: &str, reason: String| Item::unreadable(text, path, reason);
    let event_id = match m.get("event_id") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Json::Number(n)) if n.as_i64().is_some() || n.as_u64().is_some() => {
            Some(n.to_string())
        }
        // An object or array id would be deduplicated by its JSON text,
        // which depends on how the provider spaced and ordered it.
        Some(other) => {
            return malformed(
                "event_id",
                format!(
                    "`event_id` must be a non-empty string or an integer, not {}",
                    json_kind(other)
                ),
            );
        }
    };
    let version = m.remove("version").filter(|v| !v.is_null());
    if let Some(v) = &version
        && !is_version(v)
    {
        return malformed(
            "version",
            format!(
                "`version` must be an integer or a date-time (RFC 3339), not {}",
                shown(v)
            ),
        );
    }
    let record = m.remove("record").unwrap_or(Json::Null);
    let text = record.to_string();
    Item::Event(RawEvent {
        event_id,
        op,
        version,
        record,
        text,
    })
}

/// Whether an event's `version` orders as a version: an integer (or a
/// string of one) or a date-time ([`super::json::version_order`]). Any
/// other value would be compared as text, where `"9"` is newer than
/// `"10"`.
fn is_version(v: &Json) -> bool {
    match v {
        Json::Number(n) => n.as_i64().is_some(),
        Json::String(s) => s.parse::<i64>().is_ok() || super::json::datetime(s).is_some(),
        _ => false,
    }
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number that is not an integer",
        Json::String(_) => "an empty string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A value for a message: short, whatever the provider sent.
fn shown(v: &Json) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(line: &str) -> Option<String> {
        match parse_item(line) {
            Item::Malformed { error, .. } => {
                Some(format!("{} {}: {}", error.code, error.path, error.message))
            }
            _ => None,
        }
    }

    #[test]
    fn an_envelope_with_an_unusable_version_or_id_is_malformed() {
        let bad = [
            r#"{"event_id":"e1","version":"v2","record":{"id":"1"}}"#,
            r#"{"event_id":"e1","version":1.5,"record":{"id":"1"}}"#,
            r#"{"event_id":"e1","version":{"n":1},"record":{"id":"1"}}"#,
            r#"{"event_id":{"a":1},"record":{"id":"1"}}"#,
            r#"{"event_id":[1],"record":{"id":"1"}}"#,
            r#"{"event_id":"","record":{"id":"1"}}"#,
        ];
        for line in bad {
            assert!(reason(line).is_some(), "{line} is malformed");
        }
        assert!(
            reason(r#"{"event_id":{"a":1},"record":{"id":"1"}}"#)
                .is_some_and(|r| r.starts_with("E1001 event_id: ") && r.contains("an object")),
            "the envelope member is named"
        );
        assert!(
            reason(r#"{"event_id":"e1","version":"v2","record":{"id":"1"}}"#)
                .is_some_and(|r| r.starts_with("E1001 version: ")),
        );
        let good = [
            r#"{"event_id":"e1","version":2,"record":{"id":"1"}}"#,
            r#"{"event_id":7,"version":"12","record":{"id":"1"}}"#,
            r#"{"event_id":"e1","version":"2024-05-01T10:00:00Z","record":{"id":"1"}}"#,
            r#"{"event_id":"e1","version":null,"record":{"id":"1"}}"#,
        ];
        for line in good {
            assert!(reason(line).is_none(), "{line} is an event");
        }
    }

    /// What is not a record at all gets `run`'s reject: the same code,
    /// path and message, so a dead letter reads as the reject would.
    #[test]
    fn what_is_not_a_record_is_rejected_as_run_rejects_it() {
        assert_eq!(
            reason("null").as_deref(),
            Some(
                "E1002 : null, but the schema declares this value not nullable (`T?` allows null)"
            )
        );
        assert_eq!(
            reason("[1]").as_deref(),
            Some("E1002 : expected an object, found an array")
        );
        assert_eq!(
            reason(r#"{"a":{"b":1,"b":2}}"#).as_deref(),
            Some("E1002 a.b: the member `b` appears more than once")
        );
        assert!(reason("{").is_some_and(|r| r.starts_with("E1001 : malformed JSON")));
    }
}
