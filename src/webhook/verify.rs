//! The five generic verifier kinds. Every real scheme is one of them with
//! its parameters filled in ([`super::preset`]); nothing is special-cased
//! when a delivery is checked.
//!
//! Comparisons are constant-time: HMACs through `Mac::verify_slice`, plain
//! digests and shared secrets through `subtle`. A signature that decodes to
//! the wrong length is a mismatch like any other, so its length tells a
//! forger nothing new.
//!
//! Why one file of about 900 lines: the five verifier kinds share their
//! parts (keys and their forms, digests, encodings, signature carriers,
//! timestamps); every real scheme is a configuration of them (`preset.rs`),
//! so they are read together.

use super::{Delivery, Refusal, TokenFault, Verified, Why};
use crate::http::secret::Secret;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;

/// The most signatures a delivery may list: a provider sends one per
/// active secret (two during a rotation); a longer list is a sender making
/// tether work, refused before any MAC is computed.
const MAX_SIGNATURES: usize = 8;

/// A verifier, built once from configuration, used for every delivery.
#[derive(Clone, Debug)]
pub enum Verifier {
    /// An HMAC over parts of the request (Stripe, Standard Webhooks,
    /// Shopify, GitHub, HubSpot v3, Checkout.com, PayTabs).
    Hmac(HmacScheme),
    /// A plain digest of secret-prefixed form fields (Telr).
    FieldHash(FieldHash),
    /// A JWT signed with a shared secret, algorithm pinned (Tamara).
    Jwt(JwtScheme),
    /// A static secret in a header (Tabby, N-Genius).
    SharedSecret(SharedSecret),
    /// The sending organisation of a Salesforce outbound message.
    Organisation(Organisation),
}

impl Verifier {
    /// Whether `delivery` comes from the provider, at wall-clock `now`.
    pub fn verify(&self, delivery: &Delivery, now: SystemTime) -> Result<Verified, Refusal> {
        match self {
            Verifier::Hmac(s) => s.verify(delivery, now),
            Verifier::FieldHash(s) => s.verify(delivery),
            Verifier::Jwt(s) => s.verify(delivery, now),
            Verifier::SharedSecret(s) => s.verify(delivery),
            Verifier::Organisation(s) => s.verify(delivery),
        }
    }
}

/// A key as the scheme uses it (decoded from its configured form). Prints
/// as `[secret]`, like the [`Secret`] it came from.
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

/// How a configured secret becomes key bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyForm {
    /// The secret's text as UTF-8 bytes (Stripe's `whsec_…` is used so).
    Text,
    /// Base64 after an optional prefix (Standard Webhooks: `whsec_` then
    /// base64).
    Base64 { prefix: String },
}

/// A configuration that cannot make a verifier. Names what is wrong and
/// which secret (by position), never a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("no secret is configured: a verifier needs at least one")]
    NoSecret,
    #[error("secret {index} is empty (an HMAC under an empty key proves nothing)")]
    EmptySecret { index: usize },
    #[error("secret {index} is not base64 after `{prefix}`")]
    NotBase64 { index: usize, prefix: String },
    #[error("{preset} needs the name of the header that carries its secret")]
    NeedsHeader { preset: &'static str },
    #[error("no organisation id is configured")]
    NoOrganisation,
    #[error("`{id}` is not a Salesforce organisation id (15 or 18 letters and digits)")]
    BadOrganisation { id: String },
}

impl Key {
    /// Decodes every secret; at least one, none empty.
    pub fn all(secrets: &[Secret], form: &KeyForm) -> Result<Vec<Key>, ConfigError> {
        if secrets.is_empty() {
            return Err(ConfigError::NoSecret);
        }
        secrets
            .iter()
            .enumerate()
            .map(|(index, s)| {
                let bytes = match form {
                    KeyForm::Text => s.expose().as_bytes().to_vec(),
                    KeyForm::Base64 { prefix } => {
                        let text = s
                            .expose()
                            .strip_prefix(prefix.as_str())
                            .unwrap_or(s.expose());
                        base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .map_err(|_| ConfigError::NotBase64 {
                                index,
                                prefix: prefix.clone(),
                            })?
                    }
                };
                if bytes.is_empty() {
                    return Err(ConfigError::EmptySecret { index });
                }
                Ok(Key(bytes))
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest {
    Sha1,
    Sha256,
    Sha512,
}

impl Digest {
    /// The HMAC of `message` under `key`, computed once and compared with
    /// each signature in constant time: a delivery listing many signatures
    /// costs one MAC per secret, not one per signature.
    fn hmac(self, key: &[u8], message: &[&[u8]]) -> Option<Vec<u8>> {
        fn run<M: Mac + KeyInit>(key: &[u8], message: &[&[u8]]) -> Option<Vec<u8>> {
            let mut mac = <M as KeyInit>::new_from_slice(key).ok()?;
            for part in message {
                mac.update(part);
            }
            Some(mac.finalize().into_bytes().to_vec())
        }
        match self {
            Digest::Sha1 => run::<Hmac<sha1::Sha1>>(key, message),
            Digest::Sha256 => run::<Hmac<sha2::Sha256>>(key, message),
            Digest::Sha512 => run::<Hmac<sha2::Sha512>>(key, message),
        }
    }

    /// The plain digest of `message`.
    fn hash(self, message: &[&[u8]]) -> Vec<u8> {
        fn run<D: sha2::Digest>(message: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for part in message {
                d.update(part);
            }
            d.finalize().to_vec()
        }
        match self {
            Digest::Sha1 => run::<sha1::Sha1>(message),
            Digest::Sha256 => run::<sha2::Sha256>(message),
            Digest::Sha512 => run::<sha2::Sha512>(message),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Lower- or upper-case hex.
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl Encoding {
    fn decode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Encoding::Hex => hex_decode(text),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(text).ok(),
        }
    }
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// One part of the text an HMAC is computed over, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// The raw body bytes.
    Body,
    /// The request method as received (`POST`).
    Method,
    /// The public URL of the delivery.
    Url(UrlForm),
    /// The signed timestamp, as its text was received.
    Timestamp,
    /// A header's value (Standard Webhooks' `webhook-id`).
    Header(String),
    /// Fixed text between parts (`.`).
    Text(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlForm {
    AsReceived,
    /// HubSpot v3 signs the URL with these escapes decoded: `%3A` `%2F`
    /// `%3F` `%40` `%21` `%24` `%27` `%28` `%29` `%2A` `%2C` `%3B`.
    HubSpotDecoded,
}

/// Where the signatures are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// The whole value of a header, after a prefix (GitHub's `sha256=`).
    Header { name: String, prefix: String },
    /// Entries in one header, each `key<pair>value`; the signatures are
    /// the entries whose key is `version`, others are ignored (a provider
    /// adding a scheme version must not break receivers). Stripe:
    /// `t=1,v1=ab,v1=cd` (entries `,`, pair `=`); Standard Webhooks:
    /// `v1,sig v1,sig` (entries ` `, pair `,`).
    List {
        header: String,
        entries: char,
        pair: char,
        version: String,
    },
}

/// A signed timestamp: where it is, its unit, and how far from now it may be
/// (either way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamp {
    pub source: TimestampSource,
    pub unit: TimeUnit,
    pub tolerance: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimestampSource {
    Header(String),
    /// An entry of the [`Carrier::List`] (Stripe's `t`).
    ListEntry(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Seconds,
    Milliseconds,
}

#[derive(Clone, Debug)]
pub struct HmacScheme {
    pub digest: Digest,
    pub secrets: Vec<Key>,
    pub message: Vec<Part>,
    pub carrier: Carrier,
    pub encoding: Encoding,
    pub timestamp: Option<Timestamp>,
}

/// The text of a header that a scheme writes in ASCII.
fn ascii<'a>(name: &str, value: &'a [u8]) -> Result<&'a str, Refusal> {
    match std::str::from_utf8(value) {
        Ok(text) if text.is_ascii() => Ok(text.trim()),
        _ => Err(Refusal::Malformed {
            carrier: name.to_string(),
            why: Why::NotText,
        }),
    }
}

fn required<'a>(delivery: &Delivery<'a>, name: &str) -> Result<&'a [u8], Refusal> {
    delivery.headers.one(name)?.ok_or_else(|| Refusal::Missing {
        carrier: name.to_string(),
    })
}

impl HmacScheme {
    fn verify(&self, delivery: &Delivery, now: SystemTime) -> Result<Verified, Refusal> {
        let (signatures, listed_time) = self.signatures(delivery)?;
        let time_text = match &self.timestamp {
            None => None,
            Some(Timestamp {
                source: TimestampSource::Header(name),
                ..
            }) => Some(ascii(name, required(delivery, name)?)?.to_string()),
            Some(Timestamp {
                source: TimestampSource::ListEntry(key),
                ..
            }) => Some(listed_time.ok_or_else(|| Refusal::Missing {
                carrier: format!("{} {key}", self.carrier_name()),
            })?),
        };
        // The timestamp's form is checked first, its window only once the
        // signature holds (a bad signature is a forgery whatever the time).
        let signed_ms = match (&self.timestamp, &time_text) {
            (Some(spec), Some(text)) => Some(signed_millis(spec, text)?),
            _ => None,
        };
        let url = match self.message.iter().find_map(|p| match p {
            Part::Url(form) => Some(*form),
            _ => None,
        }) {
            Some(UrlForm::HubSpotDecoded) => hubspot_url(delivery.url),
            _ => delivery.url.to_string(),
        };
        let mut message: Vec<&[u8]> = Vec::with_capacity(self.message.len());
        for part in &self.message {
            message.push(match part {
                Part::Body => delivery.body,
                Part::Method => delivery.method.as_bytes(),
                Part::Url(_) => url.as_bytes(),
                Part::Timestamp => time_text.as_deref().unwrap_or("").as_bytes(),
                Part::Header(name) => required(delivery, name)?,
                Part::Text(text) => text.as_bytes(),
            });
        }
        let secret = self
            .secrets
            .iter()
            .position(|key| {
                self.digest.hmac(&key.0, &message).is_some_and(|mac| {
                    // Lengths are public (a digest's size); the bytes are
                    // compared in constant time.
                    signatures
                        .iter()
                        .any(|sig| bool::from(mac.as_slice().ct_eq(sig.as_slice())))
                })
            })
            .ok_or(Refusal::Mismatch)?;
        if let (Some(spec), Some(signed_ms)) = (&self.timestamp, signed_ms) {
            within(spec, signed_ms, now)?;
        }
        Ok(Verified { secret })
    }

    fn carrier_name(&self) -> &str {
        match &self.carrier {
            Carrier::Header { name, .. } => name,
            Carrier::List { header, .. } => header,
        }
    }

    /// The decoded signatures, and the list's timestamp entry if it has one.
    #[allow(clippy::type_complexity)]
    fn signatures(&self, delivery: &Delivery) -> Result<(Vec<Vec<u8>>, Option<String>), Refusal> {
        let name = self.carrier_name();
        let text = ascii(name, required(delivery, name)?)?;
        let malformed = |why| Refusal::Malformed {
            carrier: name.to_string(),
            why,
        };
        let (written, time): (Vec<&str>, Option<String>) = match &self.carrier {
            Carrier::Header { prefix, .. } => {
                let sig = text
                    .strip_prefix(prefix.as_str())
                    .ok_or(malformed(Why::NoSignature))?;
                (vec![sig], None)
            }
            Carrier::List {
                entries,
                pair,
                version,
                ..
            } => {
                let time_key = match &self.timestamp {
                    Some(Timestamp {
                        source: TimestampSource::ListEntry(key),
                        ..
                    }) => Some(key.as_str()),
                    _ => None,
                };
                let mut sigs = Vec::new();
                let mut time = None;
                for entry in text.split(*entries).filter(|e| !e.is_empty()) {
                    let Some((key, value)) = entry.split_once(*pair) else {
                        continue;
                    };
                    if key == version {
                        sigs.push(value);
                    } else if Some(key) == time_key {
                        if time.is_some() {
                            return Err(malformed(Why::Repeated));
                        }
                        time = Some(value.to_string());
                    }
                }
                (sigs, time)
            }
        };
        if written.is_empty() {
            return Err(malformed(Why::NoSignature));
        }
        if written.len() > MAX_SIGNATURES {
            return Err(malformed(Why::TooMany));
        }
        let decoded: Vec<Vec<u8>> = written
            .iter()
            .filter_map(|s| self.encoding.decode(s))
            .collect();
        if decoded.is_empty() {
            return Err(malformed(Why::Undecodable));
        }
        Ok((decoded, time))
    }
}

/// A signed timestamp in milliseconds since the epoch: digits only, at most
/// 16 of them (no sign, no fraction, nothing that overflows).
fn signed_millis(spec: &Timestamp, text: &str) -> Result<i128, Refusal> {
    let bad = || Refusal::Malformed {
        carrier: match &spec.source {
            TimestampSource::Header(name) | TimestampSource::ListEntry(name) => name.clone(),
        },
        why: Why::BadTimestamp,
    };
    if text.is_empty() || text.len() > 16 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let value: i128 = text.parse().map_err(|_| bad())?;
    Ok(match spec.unit {
        TimeUnit::Seconds => value * 1000,
        TimeUnit::Milliseconds => value,
    })
}

/// Whether a signed timestamp is within the tolerance of `now`, both ways.
fn within(spec: &Timestamp, signed_ms: i128, now: SystemTime) -> Result<(), Refusal> {
    let now_ms = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i128,
        Err(e) => -(e.duration().as_millis() as i128),
    };
    let tolerance_ms = spec.tolerance.as_millis() as i128;
    let skew = now_ms - signed_ms;
    let seconds = |ms: i128| u64::try_from(ms.unsigned_abs() / 1000).unwrap_or(u64::MAX);
    if skew > tolerance_ms {
        Err(Refusal::Expired {
            skew_seconds: seconds(skew),
        })
    } else if -skew > tolerance_ms {
        Err(Refusal::Early {
            skew_seconds: seconds(skew),
        })
    } else {
        Ok(())
    }
}

/// The URL as HubSpot signs it (v3): the listed escapes decoded, any other
/// left as received.
fn hubspot_url(url: &str) -> String {
    const DECODED: [(&str, char); 12] = [
        ("3A", ':'),
        ("2F", '/'),
        ("3F", '?'),
        ("40", '@'),
        ("21", '!'),
        ("24", '$'),
        ("27", '\''),
        ("28", '('),
        ("29", ')'),
        ("2A", '*'),
        ("2C", ','),
        ("3B", ';'),
    ];
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3);
        match code.and_then(|c| {
            DECODED
                .iter()
                .find(|(hex, _)| hex.eq_ignore_ascii_case(c))
                .map(|(_, ch)| *ch)
        }) {
            Some(ch) => {
                out.push(ch);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Telr's check: a plain digest of the secret and the named form fields,
/// joined by a separator, in a form field of the body.
#[derive(Clone, Debug)]
pub struct FieldHash {
    pub digest: Digest,
    pub secrets: Vec<Key>,
    /// The signed fields in order, after the secret (an absent one counts
    /// as empty).
    pub fields: Vec<String>,
    pub separator: String,
    /// The form field that carries the digest.
    pub carrier: String,
    pub encoding: Encoding,
}

impl FieldHash {
    fn verify(&self, delivery: &Delivery) -> Result<Verified, Refusal> {
        let form = form_fields(delivery.body, &self.carrier)?;
        let lookup = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        // A signed field given twice would let a sender add a value the
        // mapping reads while the digest covers the other: refused.
        for name in self.fields.iter().chain([&self.carrier]) {
            if form.iter().filter(|(k, _)| k == name).count() > 1 {
                return Err(Refusal::Malformed {
                    carrier: name.clone(),
                    why: Why::RepeatedField,
                });
            }
        }
        let given = lookup(&self.carrier).ok_or_else(|| Refusal::Missing {
            carrier: self.carrier.clone(),
        })?;
        let given = self
            .encoding
            .decode(given.trim())
            .ok_or_else(|| Refusal::Malformed {
                carrier: self.carrier.clone(),
                why: Why::Undecodable,
            })?;
        let values: Vec<&str> = self
            .fields
            .iter()
            .map(|f| lookup(f).unwrap_or(""))
            .collect();
        let secret = self
            .secrets
            .iter()
            .position(|key| {
                let mut message: Vec<&[u8]> = vec![&key.0];
                for v in &values {
                    message.push(self.separator.as_bytes());
                    message.push(v.as_bytes());
                }
                bool::from(self.digest.hash(&message).ct_eq(&given))
            })
            .ok_or(Refusal::Mismatch)?;
        Ok(Verified { secret })
    }
}

fn form_fields(body: &[u8], carrier: &str) -> Result<Vec<(String, String)>, Refusal> {
    super::form_fields(body).ok_or_else(|| Refusal::Malformed {
        carrier: carrier.to_string(),
        why: Why::BadBody,
    })
}

/// Where a JWT may be carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// A query parameter (`?tamaraToken=`).
    Query(String),
    /// `Authorization: Bearer <token>`.
    Bearer,
}

/// The HMAC algorithms of JWS (RFC 7518 §3.2). Public-key algorithms are
/// not here: a shared-secret scheme that accepted `RS256` would be open to
/// the classic confusion of the secret with a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtAlgorithm {
    HS256,
    HS384,
    HS512,
}

impl JwtAlgorithm {
    fn name(self) -> &'static str {
        match self {
            JwtAlgorithm::HS256 => "HS256",
            JwtAlgorithm::HS384 => "HS384",
            JwtAlgorithm::HS512 => "HS512",
        }
    }

    fn matches(self, key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        fn check<M: Mac + KeyInit>(key: &[u8], message: &[u8], signature: &[u8]) -> bool {
            let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
                return false;
            };
            mac.update(message);
            mac.verify_slice(signature).is_ok()
        }
        match self {
            JwtAlgorithm::HS256 => check::<Hmac<sha2::Sha256>>(key, message, signature),
            JwtAlgorithm::HS384 => check::<Hmac<sha2::Sha384>>(key, message, signature),
            JwtAlgorithm::HS512 => check::<Hmac<sha2::Sha512>>(key, message, signature),
        }
    }
}

/// A JWT (JWS compact form) signed with a shared secret. The algorithm is
/// pinned: a token whose header names another (`none`, `RS256`, even
/// `HS512` where `HS256` is configured) is refused whatever its signature.
#[derive(Clone, Debug)]
pub struct JwtScheme {
    pub algorithm: JwtAlgorithm,
    pub secrets: Vec<Key>,
    /// Where to look, in order; where several hold a token they must agree.
    pub sources: Vec<TokenSource>,
    /// Slack allowed on `exp`, `nbf` and `iat` (clocks differ).
    pub leeway: Duration,
}

impl JwtScheme {
    fn verify(&self, delivery: &Delivery, now: SystemTime) -> Result<Verified, Refusal> {
        let token = self.token(delivery)?;
        let fault = |why| Refusal::Token { why };
        let b64 = |part: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| fault(TokenFault::Shape))
        };
        let object = |bytes: Vec<u8>| {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes)
                .map_err(|_| fault(TokenFault::Shape))
        };
        let mut parts = token.split('.');
        let (Some(head), Some(body), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fault(TokenFault::Shape));
        };
        let header = object(b64(head)?)?;
        if header.get("alg").and_then(|a| a.as_str()) != Some(self.algorithm.name()) {
            return Err(fault(TokenFault::Algorithm));
        }
        // RFC 7515 §4.1.11: extensions marked critical that the receiver
        // does not understand make the token invalid; tether knows none.
        if header.contains_key("crit") {
            return Err(fault(TokenFault::Shape));
        }
        let signature = b64(sig)?;
        let signed = &token.as_bytes()[..head.len() + 1 + body.len()];
        let secret = self
            .secrets
            .iter()
            .position(|key| self.algorithm.matches(&key.0, signed, &signature))
            .ok_or(fault(TokenFault::Signature))?;
        // Claims are read only once the signature holds.
        let claims = object(b64(body)?)?;
        let now_s = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i128,
            Err(e) => -(e.duration().as_secs() as i128),
        };
        let leeway = self.leeway.as_secs() as i128;
        let claim = |name: &str| -> Result<Option<i128>, Refusal> {
            match claims.get(name) {
                None => Ok(None),
                Some(v) => v
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| v.as_u64().map(i128::from))
                    .map(Some)
                    .ok_or(fault(TokenFault::Claims)),
            }
        };
        let seconds = |s: i128| u64::try_from(s.unsigned_abs()).unwrap_or(u64::MAX);
        if let Some(exp) = claim("exp")?
            && now_s > exp + leeway
        {
            return Err(Refusal::Expired {
                skew_seconds: seconds(now_s - exp),
            });
        }
        for early in ["nbf", "iat"] {
            if let Some(t) = claim(early)?
                && t > now_s + leeway
            {
                return Err(Refusal::Early {
                    skew_seconds: seconds(t - now_s),
                });
            }
        }
        Ok(Verified { secret })
    }

    fn token(&self, delivery: &Delivery) -> Result<String, Refusal> {
        let mut found: Option<String> = None;
        for source in &self.sources {
            let token = match source {
                TokenSource::Query(name) => delivery.query(name)?,
                TokenSource::Bearer => match delivery.headers.one("authorization")? {
                    None => None,
                    Some(value) => {
                        let text = ascii("Authorization", value)?;
                        text.strip_prefix("Bearer ")
                            .or_else(|| text.strip_prefix("bearer "))
                            .map(|t| t.trim().to_string())
                    }
                },
            };
            match (&found, token) {
                (_, None) => {}
                (None, Some(t)) => found = Some(t),
                (Some(a), Some(b)) if *a == b => {}
                (Some(_), Some(_)) => {
                    return Err(Refusal::Token {
                        why: TokenFault::Shape,
                    });
                }
            }
        }
        found.ok_or_else(|| Refusal::Missing {
            carrier: self
                .sources
                .iter()
                .map(|s| match s {
                    TokenSource::Query(name) => format!("?{name}"),
                    TokenSource::Bearer => "Authorization".to_string(),
                })
                .collect::<Vec<_>>()
                .join(" or "),
        })
    }
}

/// A static secret sent as a header's value (Tabby, N-Genius). Proves only
/// that the sender knows the secret, not what it sent: such providers are
/// declared `refetch`, so the record is read over the API.
#[derive(Clone, Debug)]
pub struct SharedSecret {
    pub header: String,
    pub secrets: Vec<Key>,
}

impl SharedSecret {
    fn verify(&self, delivery: &Delivery) -> Result<Verified, Refusal> {
        let given = required(delivery, &self.header)?;
        // Digests of equal length compared in constant time: not even the
        // secret's length leaks through timing.
        let given = Digest::Sha256.hash(&[given]);
        let secret = self
            .secrets
            .iter()
            .position(|key| bool::from(Digest::Sha256.hash(&[&key.0]).ct_eq(&given)))
            .ok_or(Refusal::Mismatch)?;
        Ok(Verified { secret })
    }
}

/// The organisations whose Salesforce outbound messages are accepted.
/// Salesforce signs nothing: this check and the edge (mutual TLS, an IP
/// allow-list) are what there is, so such providers are `refetch` too.
#[derive(Clone, Debug)]
pub struct Organisation {
    /// The 15-character forms (an 18-character id's last 3 characters are
    /// a checksum of the case of the first 15).
    pub ids: Vec<String>,
}

impl Organisation {
    pub fn new(ids: &[String]) -> Result<Organisation, ConfigError> {
        if ids.is_empty() {
            return Err(ConfigError::NoOrganisation);
        }
        let ids = ids
            .iter()
            .map(|id| {
                org15(id).ok_or_else(|| ConfigError::BadOrganisation {
                    id: id.chars().take(40).collect(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Organisation { ids })
    }

    fn verify(&self, delivery: &Delivery) -> Result<Verified, Refusal> {
        const CARRIER: &str = "OrganizationId";
        let given = organization_id(delivery.body)?.ok_or_else(|| Refusal::Missing {
            carrier: CARRIER.to_string(),
        })?;
        let given = org15(&given).ok_or(Refusal::Malformed {
            carrier: CARRIER.to_string(),
            why: Why::BadBody,
        })?;
        let secret = self
            .ids
            .iter()
            .position(|id| *id == given)
            .ok_or(Refusal::Organisation)?;
        Ok(Verified { secret })
    }
}

fn org15(id: &str) -> Option<String> {
    let id = id.trim();
    ((id.len() == 15 || id.len() == 18) && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| id[..15].to_string())
}

/// The text of the first `OrganizationId` element of a SOAP body. The
/// reader expands no entities and holds one element at a time.
fn organization_id(body: &[u8]) -> Result<Option<String>, Refusal> {
    use quick_xml::events::Event;
    let bad = || Refusal::Malformed {
        carrier: "OrganizationId".to_string(),
        why: Why::BadBody,
    };
    let text = std::str::from_utf8(body).map_err(|_| bad())?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut inside = false;
    let mut found = String::new();
    loop {
        match reader.read_event().map_err(|_| bad())? {
            Event::Start(e) if e.local_name().as_ref() == "OrganizationId" => inside = true,
            Event::Text(t) if inside => {
                found.push_str(&t.xml10_content());
                if found.len() > 64 {
                    return Err(bad());
                }
            }
            Event::End(e) if inside && e.local_name().as_ref() == "OrganizationId" => {
                return Ok(Some(found));
            }
            Event::Eof => return Ok(None),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decodes_both_cases_and_refuses_odd_or_foreign_text() {
        assert_eq!(hex_decode("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
        assert_eq!(hex_decode(""), Some(vec![]));
    }

    #[test]
    fn hubspot_url_decodes_only_the_listed_escapes() {
        assert_eq!(
            hubspot_url("https://h.example/hook?x=a%3Ab%2fc%20d%25"),
            "https://h.example/hook?x=a:b/c%20d%25"
        );
        assert_eq!(hubspot_url("%"), "%");
        assert_eq!(hubspot_url("%3"), "%3");
    }

    #[test]
    fn organisation_ids_compare_by_their_first_15_characters() {
        assert_eq!(
            org15("00D5e000000AbCdEAF").as_deref(),
            Some("00D5e000000AbCd")
        );
        assert_eq!(org15("00D5e000000AbCd").as_deref(), Some("00D5e000000AbCd"));
        assert_eq!(org15("00D5e000000AbC"), None);
        assert_eq!(org15("00D5e000000AbC<"), None);
    }
}
