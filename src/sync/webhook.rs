//! A webhook side of a sync (docs/design/12-webhooks.md, "The receiver"):
//! the notices the receiver (`sync::receiver`) stored in the state
//! store's inbox, read as the engine's events.
//!
//! Two halves share one stored form. The receiver turns a verified
//! delivery's notices into [`InboxNotice`]s (an event envelope as JSON
//! text, or why the notice cannot be read with the body as received) and
//! stores them in one transaction before it answers. [`WebhookProvider`]
//! reads them back in arrival order, each envelope through the same
//! [`parse_item`] as a file drop's lines (so an unusable version or id is
//! a dead letter the same way), and marks them taken only when the engine
//! has stored their events: the [`Provider::ack`] contract. A crash in
//! between reads them again, and the engine's event ids make them
//! duplicates.
//!
//! The provider has its own connection to the store file (SQLite WAL):
//! the receiver's thread writes while the engine's pass reads.

use super::provider::{Item, Items, Provider, ProviderError, Sent, parse_item};
use super::store::{InboxNotice, NoticeContent, Operation, SqliteStore};
use crate::webhook::payload::{Content, Notice, Notices, Op, PayloadError};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The envelope member of a notice whose record is read again by this id
/// (a refetch preset's): `{"event_id","op","version","fetch"}`.
pub const FETCH: &str = "fetch";

/// Notices read (and later taken) together: one engine transaction each.
pub const CHUNK: usize = 500;

/// The inbox form of one delivery's notices. `read` is what the preset's
/// `PayloadSpec` made of the body; `body` is the body as received, kept
/// with a notice that cannot be read so its dead letter shows it.
pub fn inbox_notices(body: &[u8], read: Result<Notices, PayloadError>) -> Vec<InboxNotice> {
    // Hashed once: a batch of many notices would hash the body for each.
    let digest = body_digest(body);
    let malformed = |event_id: String, error: String| InboxNotice {
        event_id,
        content: NoticeContent::Malformed {
            error,
            body: body.to_vec(),
        },
    };
    // A body the parser would read with a member twice (keeping the last
    // silently) is refused whole, as `run` refuses such a record.
    let duplicate = std::str::from_utf8(body)
        .ok()
        .and_then(crate::exec::duplicate_member);
    let notices = match (read, duplicate) {
        (_, Some(error)) => {
            let why = format!("{}: {}", error.path, error.message);
            return vec![malformed(format!("body:sha256:{digest}"), why)];
        }
        (Err(e), None) => return vec![malformed(format!("body:sha256:{digest}"), e.to_string())],
        (Ok(n), None) => n.notices,
    };
    let mut out = Vec::new();
    // The notices that cannot be read are one dead letter with the body,
    // not one each: each keeps the body as received, and a 1 MB batch of
    // half a million broken elements would otherwise be half a million
    // copies of it (hostile review). Known by the body and the first one's
    // place: the same delivery sent again is a replay.
    let mut unread: Vec<(usize, String)> = Vec::new();
    for (i, n) in notices.into_iter().enumerate() {
        match n {
            Ok(notice) => match envelope(&notice) {
                Ok(text) => out.push(InboxNotice {
                    event_id: notice.event_id,
                    content: NoticeContent::Read(text),
                }),
                Err(why) => unread.push((i, why)),
            },
            Err(e) => unread.push((i, e.to_string())),
        }
    }
    if let Some((first, why)) = unread.first() {
        let error = match unread.len() {
            1 => why.clone(),
            n => {
                let places: Vec<String> =
                    unread.iter().take(10).map(|(i, _)| i.to_string()).collect();
                let more = if n > 10 { ", …" } else { "" };
                format!(
                    "{n} of the delivery's notices cannot be read (elements {}{more}); the \
                     first: {why}",
                    places.join(", ")
                )
            }
        };
        out.push(malformed(format!("body:sha256:{digest}:{first}"), error));
    }
    out
}

/// The hex SHA-256 of a body: the id of what has no event id of its own.
fn body_digest(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A notice as the event envelope a file drop's line could hold, so the
/// provider reads both alike.
fn envelope(n: &Notice) -> Result<String, String> {
    let op = match n.op {
        Op::Upsert => "upsert",
        Op::Delete => "delete",
    };
    let mut env = match &n.content {
        Content::Record(r @ Json::Object(_)) => {
            json!({ "event_id": n.event_id, "op": op, "record": r })
        }
        Content::Record(_) => return Err("the record is not an object".into()),
        // The record is read over the provider's API when the engine
        // receives the notice (`sync::refetch`), not in the request.
        Content::Changed { id } => json!({ "event_id": n.event_id, "op": op, FETCH: id }),
    };
    if let Some(v) = &n.version {
        env["version"] = v.clone();
    }
    serde_json::to_string(&env).map_err(|e| e.to_string())
}

/// The inbox of one webhook endpoint, as a provider.
pub struct WebhookProvider {
    endpoint: String,
    store: SqliteStore,
    /// How long taken notices are kept to recognise a replay.
    pub retention_days: u32,
    /// Each delivery handed out by `pending`, by name: the first and last
    /// notice of its chunk.
    chunks: HashMap<String, (i64, i64)>,
}

impl WebhookProvider {
    /// `store` is a connection of its own to the sync's state store.
    pub fn new(endpoint: &str, store: SqliteStore) -> WebhookProvider {
        WebhookProvider {
            endpoint: endpoint.to_string(),
            store,
            retention_days: 7,
            chunks: HashMap::new(),
        }
    }
}

impl WebhookProvider {
    /// The stored notices of a chunk `pending` named, in arrival order.
    pub fn notices(&mut self, delivery: &str) -> Result<Vec<NoticeContent>, ProviderError> {
        let Some(&(first, last)) = self.chunks.get(delivery) else {
            return Err(ProviderError {
                message: format!("webhook inbox: no delivery {delivery}"),
                retryable: false,
            });
        };
        Ok(self
            .store
            .pending_notices_between(&self.endpoint, first, last)
            .map_err(store_failed)?
            .into_iter()
            .map(|n| n.notice.content)
            .collect())
    }
}

/// Whether a stored envelope names a record to read again.
pub fn is_refetch(text: &str) -> bool {
    serde_json::from_str::<Json>(text)
        .ok()
        .is_some_and(|v| v.get(FETCH).is_some() && v.get("record").is_none())
}

fn store_failed(e: impl std::fmt::Display) -> ProviderError {
    ProviderError {
        message: format!("webhook inbox: {e}"),
        // The store is busy or the disk full: the next pass reads again.
        retryable: true,
    }
}

impl Provider for WebhookProvider {
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        self.store
            .prune_notices(self.retention_days)
            .map_err(store_failed)?;
        let seqs = self
            .store
            .pending_notice_seqs(&self.endpoint)
            .map_err(store_failed)?;
        self.chunks.clear();
        // Named by their first notice: after a crash the same chunk has
        // the same name and the same notices in the same places (notices
        // only ever arrive after the pending ones), so the engine gives an
        // unreadable one the same event id again.
        Ok(seqs
            .chunks(CHUNK)
            .filter_map(|c| {
                let (first, last) = (*c.first()?, *c.last()?);
                let name = format!("{}#{first}", self.endpoint);
                self.chunks.insert(name.clone(), (first, last));
                Some(name)
            })
            .collect())
    }

    fn open(&mut self, delivery: &str) -> Result<Items<'_>, ProviderError> {
        let notices = self.notices(delivery)?;
        Ok(Box::new(notices.into_iter().map(|n| {
            Ok(match n {
                NoticeContent::Read(text) if is_refetch(&text) => Item::unreadable(
                    text,
                    FETCH,
                    "the notice names a record to read again over the provider's API \
                     (refetch), and this side has no provider: `webhook:PRESET+provider:NAME`",
                ),
                NoticeContent::Read(text) => parse_item(&text),
                NoticeContent::Malformed { error, body } => {
                    Item::unreadable(String::from_utf8_lossy(&body), "", error)
                }
            }
            .into())
        })))
    }

    fn ack(&mut self, delivery: &str) -> Result<(), ProviderError> {
        if let Some(&(first, last)) = self.chunks.get(delivery) {
            self.store
                .take_notices(&self.endpoint, first, last)
                .map_err(store_failed)?;
        }
        Ok(())
    }

    /// A webhook side only sends events; a sync that would write to it is
    /// refused when it starts, so operations here are a bug, refused, never
    /// dropped silently.
    fn send(&mut self, _batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        Err(ProviderError {
            message: format!(
                "the webhook side `{}` cannot be written to ({} operation(s) wait in the outbox)",
                self.endpoint,
                ops.len()
            ),
            retryable: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::Headers;
    use crate::webhook::Preset;

    fn read(preset: Preset, body: &[u8]) -> Vec<InboxNotice> {
        inbox_notices(body, preset.payload().read(&Headers::new(), body))
    }

    #[test]
    fn notices_become_envelopes_and_unreadable_ones_keep_the_body() {
        let body = br#"{"id":"evt_1","type":"charge.succeeded","created":7,"data":{"object":{"id":"ch_1"}}}"#;
        let got = read(Preset::Stripe, body);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event_id, "evt_1");
        let NoticeContent::Read(text) = &got[0].content else {
            panic!("read: {got:?}")
        };
        let Item::Event(e) = parse_item(text) else {
            panic!("an event: {text}")
        };
        assert_eq!(e.event_id.as_deref(), Some("evt_1"));
        assert_eq!(e.version, Some(json!(7)));
        assert_eq!(e.record, json!({"id": "ch_1"}));

        let deleted = br#"{"id":"evt_2","type":"customer.deleted","created":8,"data":{"object":{"id":"cus_1"}}}"#;
        let NoticeContent::Read(text) = &read(Preset::Stripe, deleted)[0].content else {
            panic!("read")
        };
        let Item::Event(e) = parse_item(text) else {
            panic!("an event")
        };
        assert_eq!(e.op, super::super::store::EventOp::Delete);

        for bad in [
            &b"not json"[..],
            br#"{"id":"evt_3","id":"evt_4","data":{"object":{}}}"#,
            br#"{"type":"x","data":{"object":{}}}"#,
            br#"{"id":"evt_5","data":{"object":"ch_1"}}"#,
        ] {
            let got = read(Preset::Stripe, bad);
            assert_eq!(got.len(), 1);
            match &got[0].content {
                NoticeContent::Malformed { body, .. } => assert_eq!(body, bad),
                other => panic!("malformed: {other:?}"),
            }
        }
        // The same unreadable body twice has the same id: a replay.
        assert_eq!(
            read(Preset::Stripe, b"not json")[0].event_id,
            read(Preset::Stripe, b"not json")[0].event_id
        );
    }

    /// A batch of many broken elements (a HubSpot array of `{}`) is one
    /// dead letter holding the body once, beside the notices that could be
    /// read, never a copy of the body per element.
    #[test]
    fn a_batch_of_broken_notices_keeps_its_body_once() {
        let good = |i: u32| format!(r#"{{"eventId":{i},"objectId":"c{i}","occurredAt":1}}"#);
        let mut elements = vec![good(1), good(2)];
        elements.extend(std::iter::repeat_n("{}".to_string(), 20_000));
        elements.push(good(3));
        let body = format!("[{}]", elements.join(","));
        let got = read(Preset::HubSpotV3, body.as_bytes());
        assert_eq!(got.len(), 4, "three notices and one dead letter");
        let bad: Vec<&InboxNotice> = got
            .iter()
            .filter(|n| matches!(n.content, NoticeContent::Malformed { .. }))
            .collect();
        assert_eq!(bad.len(), 1);
        let NoticeContent::Malformed { error, body: kept } = &bad[0].content else {
            panic!("malformed")
        };
        assert_eq!(kept, body.as_bytes());
        assert!(
            error.starts_with("20000 of the delivery's notices"),
            "{error}"
        );
        assert!(bad[0].event_id.ends_with(":2"), "{}", bad[0].event_id);
        // One broken element says only why, as before.
        let one = format!("[{},{{}}]", good(1));
        let got = read(Preset::HubSpotV3, one.as_bytes());
        let NoticeContent::Malformed { error, .. } = &got[1].content else {
            panic!("malformed: {got:?}")
        };
        assert!(error.starts_with("no "), "{error}");
        assert!(got[1].event_id.ends_with(":1"));
    }

    #[test]
    fn the_provider_reads_pending_notices_and_takes_them_on_ack() {
        let dir = std::env::temp_dir().join(format!("tether-webhook-prov-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.db");
        let mut writer =
            SqliteStore::open(&path, crate::sync::store::OpenMode::CreateIfMissing).unwrap();
        let body = br#"{"id":"evt_1","type":"charge.succeeded","created":7,"data":{"object":{"id":"ch_1"}}}"#;
        writer
            .store_delivery("stripe", &read(Preset::Stripe, body))
            .unwrap();
        writer
            .store_delivery("stripe", &read(Preset::Stripe, b"{"))
            .unwrap();
        let reader = SqliteStore::open(&path, crate::sync::store::OpenMode::Existing).unwrap();
        let mut p = WebhookProvider::new("stripe", reader);
        let names = p.pending().unwrap();
        assert_eq!(names.len(), 1);
        let items: Vec<_> = p.open(&names[0]).unwrap().collect();
        assert_eq!(items.len(), 2);
        assert!(matches!(
            items[1],
            Ok(super::super::provider::Received::Item(
                Item::Malformed { .. }
            ))
        ));
        drop(items);
        // Not acknowledged: read again.
        assert_eq!(p.pending().unwrap(), names);
        p.ack(&names[0]).unwrap();
        assert!(p.pending().unwrap().is_empty());
        assert!(p.send(1, &[]).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
