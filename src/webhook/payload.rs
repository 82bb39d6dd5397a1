//! From a verified delivery to the notices it carries (issue 20, item 4):
//! for each, the provider's event id, the operation, the version, and the
//! record itself or only the id of the record that changed (a provider
//! whose body is not signed, or too thin, is read again over its API:
//! `refetch`).
//!
//! Where each is found is data ([`PayloadSpec`]): a preset fills it in
//! from the provider's documentation, a provider declaration may override
//! it. One delivery may carry several notices (HubSpot posts an array,
//! Salesforce several `Notification`s); each is read on its own, so one
//! bad element is one dead letter, not a lost batch.

use super::Headers;
use serde_json::Value as Json;

/// How the body is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    /// `application/x-www-form-urlencoded`: one level of fields.
    Form,
    /// An XML (SOAP) document, read as JSON in the default shape: child
    /// elements and attributes by local name, repeated ones as arrays.
    Xml,
}

/// A path of member names in the body (`data.object`); the empty path is
/// the whole value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path(Vec<String>);

impl Path {
    pub fn parse(text: &str) -> Path {
        Path(
            text.split('.')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    fn get<'v>(&self, value: &'v Json) -> Option<&'v Json> {
        self.0.iter().try_fold(value, |v, name| v.get(name))
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("(the body)")
        } else {
            f.write_str(&self.0.join("."))
        }
    }
}

/// Where a value is: in the body (inside a batch: in the element), or in
/// a header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Body(Path),
    Header(String),
    /// The SHA-256 of the body as received (`sha256:HEX`; in a batch, with
    /// the element's index): the id of a notice whose provider signs only
    /// the body. Its id header is not signed, so a replay under a new id
    /// would otherwise be a new event; a true redelivery is the same bytes.
    Digest,
}

impl Source {
    pub fn body(path: &str) -> Source {
        Source::Body(Path::parse(path))
    }

    fn name(&self) -> String {
        match self {
            Source::Body(p) => p.to_string(),
            Source::Header(h) => format!("header {h}"),
            Source::Digest => "the body's digest".to_string(),
        }
    }
}

/// Where the record is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordAt {
    /// In the payload.
    Body(Path),
    /// Not in the payload (or not signed): the record with this id is read
    /// over the provider's API before it becomes an event.
    Refetch { id: Source },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Upsert,
    Delete,
}

/// What a notice becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Event(Op),
    /// Acknowledged and not an event (GitHub's `ping`).
    Ignore,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    Exact(String),
    Suffix(String),
}

impl Match {
    fn matches(&self, text: &str) -> bool {
        match self {
            Match::Exact(s) => text == s,
            Match::Suffix(s) => text.ends_with(s.as_str()),
        }
    }
}

/// The first rule whose value matches decides; `otherwise` when none does
/// (or the value is absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpSpec {
    pub rules: Vec<(Source, Match, Action)>,
    pub otherwise: Action,
}

impl OpSpec {
    pub fn always(op: Op) -> OpSpec {
        OpSpec {
            rules: Vec::new(),
            otherwise: Action::Event(op),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadSpec {
    pub format: BodyFormat,
    /// A batch: the array (or single element) at this path holds the
    /// notices, and body paths below are read in each element.
    pub each: Option<Path>,
    /// The parts of the provider's event id, joined with `:` (Tamara's
    /// order id and event type).
    pub event_id: Vec<Source>,
    pub record: RecordAt,
    pub op: OpSpec,
    pub version: Option<Source>,
}

/// What a notice says changed.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    Record(Json),
    /// Read the record with this id over the provider's API.
    Changed {
        id: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub event_id: String,
    pub op: Op,
    pub content: Content,
    pub version: Option<Json>,
}

/// Why a delivery or one of its notices cannot be read. Names places from
/// the configuration, never the sender's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not {0}")]
    Body(&'static str),
    #[error("the batch at {0} is not an array or an object")]
    NotBatch(String),
    #[error("no {what} at {at}")]
    Missing { what: &'static str, at: String },
    #[error("the {what} at {at} is not text or a number")]
    NotScalar { what: &'static str, at: String },
}

/// What a delivery carries: each notice, or why that one cannot be read,
/// and how many were ignored on purpose.
#[derive(Debug, Default)]
pub struct Notices {
    pub notices: Vec<Result<Notice, PayloadError>>,
    pub ignored: usize,
}

impl PayloadSpec {
    /// Reads a verified delivery's notices. An error for the whole body
    /// (not JSON, not a form) is the outer `Err`: the delivery is kept as
    /// one dead letter.
    pub fn read(&self, headers: &Headers, body: &[u8]) -> Result<Notices, PayloadError> {
        let value = self.body(body)?;
        let elements: Vec<&Json> = match &self.each {
            None => vec![&value],
            Some(path) => match path.get(&value) {
                Some(Json::Array(items)) => items.iter().collect(),
                Some(one @ Json::Object(_)) => vec![one],
                Some(_) => return Err(PayloadError::NotBatch(path.to_string())),
                None => Vec::new(),
            },
        };
        let digest = self
            .event_id
            .contains(&Source::Digest)
            .then(|| hex_digest(body));
        let batch = self.each.is_some();
        let mut out = Notices::default();
        for (i, element) in elements.into_iter().enumerate() {
            let at = Received {
                headers,
                element,
                digest: digest.as_deref().map(|d| match batch {
                    true => format!("sha256:{d}/{i}"),
                    false => format!("sha256:{d}"),
                }),
            };
            match self.notice(&at) {
                Ok(Some(n)) => out.notices.push(Ok(n)),
                Ok(None) => out.ignored += 1,
                Err(e) => out.notices.push(Err(e)),
            }
        }
        Ok(out)
    }

    fn body(&self, body: &[u8]) -> Result<Json, PayloadError> {
        match self.format {
            BodyFormat::Json => {
                serde_json::from_slice(body).map_err(|_| PayloadError::Body("JSON"))
            }
            BodyFormat::Form => {
                let fields = super::form_fields(body).ok_or(PayloadError::Body("a form"))?;
                let mut map = serde_json::Map::new();
                for (key, value) in fields {
                    // A field given twice is ambiguous (which one was meant?).
                    if map.insert(key, Json::String(value)).is_some() {
                        return Err(PayloadError::Body("a form with each field once"));
                    }
                }
                Ok(Json::Object(map))
            }
            BodyFormat::Xml => {
                let text = crate::exec::xml::decode(body)
                    .map_err(|_| PayloadError::Body("an XML document"))?;
                crate::exec::xml::check_well_formed(&text)
                    .map_err(|_| PayloadError::Body("an XML document"))?;
                serde_json::from_str(&crate::exec::xml::element_json(&text))
                    .map_err(|_| PayloadError::Body("an XML document"))
            }
        }
    }

    fn notice(&self, at: &Received<'_>) -> Result<Option<Notice>, PayloadError> {
        let element = at.element;
        let op = match self.action(at)? {
            Action::Ignore => return Ok(None),
            Action::Event(op) => op,
        };
        let mut parts = Vec::with_capacity(self.event_id.len());
        for source in &self.event_id {
            parts.push(text_at(at, source, "event id")?);
        }
        let content = match &self.record {
            RecordAt::Body(path) => {
                Content::Record(path.get(element).cloned().ok_or_else(|| {
                    PayloadError::Missing {
                        what: "record",
                        at: path.to_string(),
                    }
                })?)
            }
            RecordAt::Refetch { id } => Content::Changed {
                id: text_at(at, id, "record id")?,
            },
        };
        let version = match &self.version {
            None => None,
            Some(Source::Body(path)) => path.get(element).filter(|v| !v.is_null()).cloned(),
            Some(source) => optional_text(at, source, "version")?.map(Json::String),
        };
        Ok(Some(Notice {
            event_id: parts.join(":"),
            op,
            content,
            version,
        }))
    }

    fn action(&self, at: &Received<'_>) -> Result<Action, PayloadError> {
        for (source, pattern, action) in &self.op.rules {
            if let Some(value) = optional_text(at, source, "operation")?
                && pattern.matches(&value)
            {
                return Ok(*action);
            }
        }
        Ok(self.op.otherwise)
    }
}

/// One notice's delivery as the sources read it.
struct Received<'a> {
    headers: &'a Headers,
    element: &'a Json,
    /// The notice's [`Source::Digest`], when the spec asks for it.
    digest: Option<String>,
}

fn hex_digest(body: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A required scalar as text (a number keeps its written digits).
fn text_at(at: &Received<'_>, source: &Source, what: &'static str) -> Result<String, PayloadError> {
    optional_text(at, source, what)?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| PayloadError::Missing {
            what,
            at: source.name(),
        })
}

fn optional_text(
    at: &Received<'_>,
    source: &Source,
    what: &'static str,
) -> Result<Option<String>, PayloadError> {
    let (headers, element) = (at.headers, at.element);
    let not_scalar = || PayloadError::NotScalar {
        what,
        at: source.name(),
    };
    match source {
        Source::Header(name) => match headers.one(name) {
            Ok(None) => Ok(None),
            Ok(Some(bytes)) => std::str::from_utf8(bytes)
                .map(|t| Some(t.trim().to_string()))
                .map_err(|_| not_scalar()),
            Err(_) => Err(not_scalar()),
        },
        Source::Digest => Ok(at.digest.clone()),
        Source::Body(path) => match path.get(element) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(Json::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(not_scalar()),
        },
    }
}
