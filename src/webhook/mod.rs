//! Webhooks in (docs/design/12-webhooks.md): what a delivery is, and
//! whether it comes from the provider it claims to.
//!
//! A verifier sees the request as the server received it: the raw body
//! bytes, before anything parses them, since every HMAC scheme signs
//! those bytes and a body re-serialised on the way must fail. The answer
//! is a [`Verified`] or a [`Refusal`]; the HTTP answer to a refusal is
//! always the same (401, `signature`), so the refusal's kind is for
//! tether's log and counters, never for the sender.
//!
//! This module knows nothing of records, mappings or the store: it sits
//! beside `http` (whose [`Secret`](crate::http::secret::Secret) it uses).
//! The receiver, which stores deliveries in the state store's inbox, is
//! `sync::receiver`.

pub mod payload;
pub mod preset;
pub mod verify;

pub use preset::{Preset, PresetConfig};
pub use verify::{ConfigError, Verifier};

use std::fmt;

/// A request's headers: names compared case-insensitively, values kept as
/// the bytes received (a header that is not text is the sender's problem,
/// reported as malformed where a verifier reads it, not a crash here).
#[derive(Clone, Debug, Default)]
pub struct Headers(Vec<(String, Vec<u8>)>);

impl Headers {
    pub fn new() -> Headers {
        Headers::default()
    }

    pub fn push(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        self.0.push((name.to_ascii_lowercase(), value.into()));
    }

    pub fn with(mut self, name: &str, value: impl Into<Vec<u8>>) -> Headers {
        self.push(name, value);
        self
    }

    /// Every value of the header `name`, in the order received.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The header's one value. Sent twice it is ambiguous (which one did
    /// the provider sign?), so it is an error, not the first.
    pub fn one(&self, name: &str) -> Result<Option<&[u8]>, Refusal> {
        let mut found = None;
        for (n, value) in &self.0 {
            if n.eq_ignore_ascii_case(name) {
                if found.is_some() {
                    return Err(Refusal::Malformed {
                        carrier: name.to_string(),
                        why: Why::Repeated,
                    });
                }
                found = Some(value.as_slice());
            }
        }
        Ok(found)
    }
}

/// One delivery, as received.
#[derive(Clone, Copy, Debug)]
pub struct Delivery<'a> {
    /// `POST`, as received.
    pub method: &'a str,
    /// The public URL the provider called: the endpoint's configured public
    /// base (the scheme and host the provider used, which a server behind
    /// a proxy cannot see) followed by the path and query as received.
    pub url: &'a str,
    pub headers: &'a Headers,
    pub body: &'a [u8],
}

impl Delivery<'_> {
    /// The value of query parameter `name` in the URL, decoded. A parameter
    /// given twice is ambiguous, so malformed.
    pub fn query(&self, name: &str) -> Result<Option<String>, Refusal> {
        let Some((_, query)) = self.url.split_once('?') else {
            return Ok(None);
        };
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        let mut found = None;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if key == name {
                if found.is_some() {
                    return Err(Refusal::Malformed {
                        carrier: name.to_string(),
                        why: Why::Repeated,
                    });
                }
                found = Some(value.into_owned());
            }
        }
        Ok(found)
    }
}

/// An `application/x-www-form-urlencoded` body's fields, in order. Decoded
/// strictly: a body or field that is not UTF-8 is `None`, never replaced
/// lossily, so two different bodies cannot read as one.
fn form_fields(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

/// A delivery that passed: which of the configured secrets matched (the
/// first is the newest; a match on an older one says a rotation is not
/// finished at the provider).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    pub secret: usize,
}

/// Why a delivery was refused. `carrier` names where the signature was
/// looked for (a header or field name from the configuration, never text
/// the sender wrote), so the message is safe to log as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The header, field or token that carries the signature is absent.
    Missing { carrier: String },
    /// Present, but not in the form the scheme writes it.
    Malformed { carrier: String, why: Why },
    /// No signature matched under any configured secret.
    Mismatch,
    /// A signed timestamp older than the tolerance allows (a replay).
    Expired { skew_seconds: u64 },
    /// A signed timestamp further in the future than the tolerance allows.
    Early { skew_seconds: u64 },
    /// A JWT that is not valid (algorithm, signature, shape).
    Token { why: TokenFault },
    /// A Salesforce outbound message from an organisation not configured.
    Organisation,
}

/// What is wrong with a malformed carrier: a closed list, so nothing a
/// sender wrote reaches a log line through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Sent twice where one is expected.
    Repeated,
    /// Not text (bytes outside ASCII where the scheme writes ASCII).
    NotText,
    /// No entry of the signature's version (`v1`).
    NoSignature,
    /// No signature entry could be decoded from its encoding.
    Undecodable,
    /// More signature entries than any provider sends (each would cost a
    /// MAC over the whole body).
    TooMany,
    /// A timestamp that is not a whole number in range.
    BadTimestamp,
    /// A form body or XML document that cannot be read.
    BadBody,
    /// A field the signed text needs, given twice.
    RepeatedField,
}

/// Why a JWT was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFault {
    /// Not three base64url parts with a JSON header and claims.
    Shape,
    /// Its `alg` is not the pinned one (`none`, `RS256` with the secret as
    /// a public key: the classic confusions).
    Algorithm,
    /// The signature does not match under any secret.
    Signature,
    /// `exp`, `nbf` or `iat` is not a number.
    Claims,
}

/// The reason a refusal is counted under (the metrics of issue 22:
/// verification failures by reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    Signature,
    Timestamp,
    Malformed,
}

impl Refusal {
    pub fn reason(&self) -> Reason {
        match self {
            Refusal::Missing { .. }
            | Refusal::Mismatch
            | Refusal::Token { .. }
            | Refusal::Organisation => Reason::Signature,
            Refusal::Expired { .. } | Refusal::Early { .. } => Reason::Timestamp,
            Refusal::Malformed { .. } => Reason::Malformed,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing { carrier } => write!(f, "no signature: `{carrier}` is missing"),
            Refusal::Malformed { carrier, why } => {
                let why = match why {
                    Why::Repeated => "is given more than once",
                    Why::NotText => "is not ASCII text",
                    Why::NoSignature => "holds no signature of the expected version",
                    Why::Undecodable => "holds no signature in the expected encoding",
                    Why::TooMany => "holds more signatures than a provider sends",
                    Why::BadTimestamp => "holds a timestamp that is not a whole number in range",
                    Why::BadBody => "cannot be read as the scheme's body",
                    Why::RepeatedField => "gives a signed field more than once",
                };
                write!(f, "`{carrier}` {why}")
            }
            Refusal::Mismatch => f.write_str("no signature matches under any configured secret"),
            Refusal::Expired { skew_seconds } => write!(
                f,
                "the signed timestamp is {skew_seconds} s old, beyond the tolerance (a replay?)"
            ),
            Refusal::Early { skew_seconds } => write!(
                f,
                "the signed timestamp is {skew_seconds} s in the future, beyond the tolerance"
            ),
            Refusal::Token { why } => f.write_str(match why {
                TokenFault::Shape => "the token is not a JWT",
                TokenFault::Algorithm => "the token's algorithm is not the pinned one",
                TokenFault::Signature => "the token's signature matches no configured secret",
                TokenFault::Claims => "the token's time claims are not numbers",
            }),
            Refusal::Organisation => {
                f.write_str("the message comes from an organisation that is not configured")
            }
        }
    }
}
