//! A provider's reading, as data.

use super::template::{BodyTemplate, TextTemplate};
use crate::http::client::Method;
use crate::http::page::Paging;
use std::time::Duration;

/// One request a read (or write) sends: method, path and query templates
/// relative to the provider's base, and a body template.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RequestTemplate {
    pub method: Method,
    pub path: TextTemplate,
    pub query: Vec<(String, TextTemplate)>,
    pub headers: Vec<(String, TextTemplate)>,
    pub body: Option<BodyTemplate>,
}

impl RequestTemplate {
    /// How messages name the request: `POST /crm/v3/objects/contacts/search`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path.source())
    }
}

/// How changed records are read.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReadSpec {
    pub request: RequestTemplate,
    /// Where the records are in a response body (`results`); empty: the
    /// body is the array.
    pub records: Vec<String>,
    /// The provider's own id of a record (`id`), part of a polled event's
    /// identity.
    pub id: Option<Vec<String>>,
    pub cursor: Option<CursorSpec>,
    pub page: Paging,
}

/// An incremental read's cursor: a field of every record that grows with
/// each change (a last-modified time, a sequence).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CursorSpec {
    pub field: Vec<String>,
    pub kind: CursorKind,
    /// How the cursor is written into a request.
    pub format: CursorFormat,
    /// Read again from this far before the stored cursor: for providers
    /// whose indexes lag (a record changed at 10:00:00 may appear in a
    /// search only at 10:00:03, after a read at 10:00:02 moved past it).
    pub lookback: Duration,
    pub order: CursorOrder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CursorKind {
    DateTime,
    Number,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CursorFormat {
    /// RFC 3339, UTC, milliseconds (`2026-11-23T10:00:00.000Z`).
    Iso8601,
    /// Epoch milliseconds.
    Millis,
    /// Epoch seconds.
    Seconds,
}

/// Whether the API returns records sorted by the cursor. Sorted reads are
/// verified record by record and checkpointed per page; unsorted ones
/// move their checkpoint only when the whole read is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CursorOrder {
    Ascending,
    Unsorted,
}
