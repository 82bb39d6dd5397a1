//! How the engine talks to a provider: it receives deliveries of changed
//! records (or events), acknowledges them once they are stored, and sends
//! batches of operations. The file-drop connector ([`super::filedrop`]) is
//! the first transport; HTTP transports (REST, SOAP, webhooks) implement
//! the same trait.

use super::store::{EventOp, Operation};
use serde_json::Value as Json;

/// The items of one delivery (a file, a webhook request, a page of a
/// poll), read as the engine consumes them, so a large delivery is never
/// held whole. A read error stops the delivery (it is not acknowledged,
/// and is read again by the next pass).
pub type Items<'a> = Box<dyn Iterator<Item = Result<Item, ProviderError>> + 'a>;

pub enum Item {
    Event(RawEvent),
    /// An XML document holding one record: the engine reads it with the
    /// side's schema view (`sync::xml`).
    Xml(String),
    /// A line or document that is not a record: kept whole, with why.
    Malformed {
        text: String,
        reason: String,
    },
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

pub trait Provider {
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
        Err(e) => Item::Malformed {
            text: text.to_string(),
            reason: format!("malformed JSON: {e}"),
        },
    }
}

/// A record with a member twice is refused whole: the JSON parser would
/// keep the last silently, and `run` rejects it (issue 17).
pub fn duplicated(text: &str) -> Option<Item> {
    let path = crate::exec::duplicate_member(text)?;
    Some(Item::Malformed {
        text: text.to_string(),
        reason: format!("the member `{path}` appears more than once"),
    })
}

/// An envelope is an object with a `record` object and an `event_id` or
/// an `op`; anything else that is an object is a plain record.
pub fn item_of(v: Json, text: &str) -> Item {
    let Json::Object(mut m) = v else {
        return Item::Malformed {
            text: text.to_string(),
            reason: "a record must be a JSON object".into(),
        };
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
            return Item::Malformed {
                text: text.to_string(),
                reason: format!(
                    "unknown op `{other}` (expected upsert, create, update, delete or archive)"
                ),
            };
        }
    };
    let event_id = match m.get("event_id") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let version = m.remove("version").filter(|v| !v.is_null());
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
