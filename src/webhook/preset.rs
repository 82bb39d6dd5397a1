//! The real providers' schemes, as data: each preset is one of the generic
//! [`Verifier`] kinds with its parameters filled in from the provider's
//! documentation (shared/design/webhook-schemes.md has the facts and the
//! sources). An operator configures only what is theirs: secrets, a header
//! name where the provider lets them choose one, organisation ids.

use super::payload::{Action, BodyFormat, Match, Op, OpSpec, Path, PayloadSpec, RecordAt, Source};
use super::verify::{
    Carrier, ConfigError, Digest, Encoding, FieldHash, HmacScheme, JwtAlgorithm, JwtScheme, Key,
    KeyForm, Organisation, Part, SharedSecret, TimeUnit, Timestamp, TimestampSource, TokenSource,
    UrlForm, Verifier,
};
use crate::http::secret::Secret;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    Stripe,
    StandardWebhooks,
    Shopify,
    GitHub,
    HubSpotV3,
    CheckoutCom,
    PayTabs,
    Telr,
    Tamara,
    Tabby,
    NGenius,
    SalesforceOutbound,
}

/// What the operator gives a preset. Secrets come from the environment
/// (resolved by the caller through `SecretRef`); the first is the newest,
/// a second one is for a rotation in progress.
#[derive(Debug, Default)]
pub struct PresetConfig {
    pub secrets: Vec<Secret>,
    /// The header that carries a static secret (Tabby, N-Genius: chosen
    /// when the webhook is registered).
    pub header: Option<String>,
    /// Salesforce organisation ids (15 or 18 characters).
    pub organisations: Vec<String>,
    /// How far a signed timestamp may be from now, either way; the
    /// provider's documented window when not given.
    pub tolerance: Option<Duration>,
}

/// What Salesforce must receive to stop retrying an outbound message.
const SALESFORCE_ACK: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">"#,
    r#"<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">"#,
    r#"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#
);

/// Stripe's, Standard Webhooks' and HubSpot's window: five minutes.
const FIVE_MINUTES: Duration = Duration::from_secs(300);

impl Preset {
    pub const ALL: [Preset; 12] = [
        Preset::Stripe,
        Preset::StandardWebhooks,
        Preset::Shopify,
        Preset::GitHub,
        Preset::HubSpotV3,
        Preset::CheckoutCom,
        Preset::PayTabs,
        Preset::Telr,
        Preset::Tamara,
        Preset::Tabby,
        Preset::NGenius,
        Preset::SalesforceOutbound,
    ];

    /// The name a provider declaration uses.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Stripe => "stripe",
            Preset::StandardWebhooks => "standard-webhooks",
            Preset::Shopify => "shopify",
            Preset::GitHub => "github",
            Preset::HubSpotV3 => "hubspot-v3",
            Preset::CheckoutCom => "checkout-com",
            Preset::PayTabs => "paytabs",
            Preset::Telr => "telr",
            Preset::Tamara => "tamara",
            Preset::Tabby => "tabby",
            Preset::NGenius => "n-genius",
            Preset::SalesforceOutbound => "salesforce-outbound",
        }
    }

    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether the scheme proves what was sent (the body is signed), or
    /// only who sent it: a provider whose preset does not is read again
    /// over its API (`refetch`) before its webhook becomes an event.
    pub fn signs_body(self) -> bool {
        match self {
            Preset::Stripe
            | Preset::StandardWebhooks
            | Preset::Shopify
            | Preset::GitHub
            | Preset::HubSpotV3
            | Preset::CheckoutCom
            | Preset::PayTabs => true,
            // Telr signs some fields only; the others prove nothing.
            Preset::Telr
            | Preset::Tamara
            | Preset::Tabby
            | Preset::NGenius
            | Preset::SalesforceOutbound => false,
        }
    }

    /// Where the provider's payload holds the event id, the record (or
    /// the id to read it by), the operation and the version. Providers
    /// whose body proves nothing ([`Preset::signs_body`] is false) give an
    /// id to read the record by, never the record.
    pub fn payload(self) -> PayloadSpec {
        let json = |event_id: Vec<Source>, record: RecordAt, op: OpSpec, version: Option<&str>| {
            PayloadSpec {
                format: BodyFormat::Json,
                each: None,
                event_id,
                record,
                op,
                version: version.map(Source::body),
            }
        };
        let deleted_when = |source: Source, suffix: &str| OpSpec {
            rules: vec![(
                source,
                Match::Suffix(suffix.into()),
                Action::Event(Op::Delete),
            )],
            otherwise: Action::Event(Op::Upsert),
        };
        let refetch = |path: &str| RecordAt::Refetch {
            id: Source::body(path),
        };
        let record = |path: &str| RecordAt::Body(Path::parse(path));
        match self {
            Preset::Stripe => json(
                vec![Source::body("id")],
                record("data.object"),
                deleted_when(Source::body("type"), ".deleted"),
                Some("created"),
            ),
            Preset::StandardWebhooks => json(
                vec![Source::Header("webhook-id".into())],
                record("data"),
                deleted_when(Source::body("type"), ".deleted"),
                Some("timestamp"),
            ),
            // Shopify and GitHub sign the body only: their id headers are
            // not signed, so a notice is known by its body's digest (a
            // replay under a new id header is the duplicate it is). The
            // topic header is not signed either: a replay under another
            // topic is a duplicate too, since its body is the same.
            Preset::Shopify => json(
                vec![Source::Digest],
                record(""),
                deleted_when(Source::Header("X-Shopify-Topic".into()), "/delete"),
                Some("updated_at"),
            ),
            Preset::GitHub => json(
                vec![Source::Digest],
                record(""),
                OpSpec {
                    rules: vec![
                        (
                            Source::Header("X-GitHub-Event".into()),
                            Match::Exact("ping".into()),
                            Action::Ignore,
                        ),
                        (
                            Source::body("action"),
                            Match::Exact("deleted".into()),
                            Action::Event(Op::Delete),
                        ),
                    ],
                    otherwise: Action::Event(Op::Upsert),
                },
                None,
            ),
            Preset::HubSpotV3 => PayloadSpec {
                each: Some(Path::parse("")),
                ..json(
                    vec![Source::body("eventId")],
                    refetch("objectId"),
                    deleted_when(Source::body("subscriptionType"), ".deletion"),
                    Some("occurredAt"),
                )
            },
            Preset::CheckoutCom => json(
                vec![Source::body("id")],
                record("data"),
                OpSpec::always(Op::Upsert),
                Some("created_on"),
            ),
            Preset::PayTabs => json(
                vec![Source::body("tran_ref")],
                record(""),
                OpSpec::always(Op::Upsert),
                None,
            ),
            Preset::Telr => PayloadSpec {
                format: BodyFormat::Form,
                ..json(
                    vec![Source::body("tran_ref")],
                    refetch("tran_ref"),
                    OpSpec::always(Op::Upsert),
                    None,
                )
            },
            Preset::Tamara => json(
                vec![Source::body("order_id"), Source::body("event_type")],
                refetch("order_id"),
                OpSpec::always(Op::Upsert),
                None,
            ),
            Preset::Tabby => json(
                vec![Source::body("id"), Source::body("status")],
                refetch("id"),
                OpSpec::always(Op::Upsert),
                None,
            ),
            // The order reference alone would make a later event of the
            // same order (captured after authorised) a duplicate.
            Preset::NGenius => json(
                vec![Source::body("order.reference"), Source::body("eventName")],
                refetch("order.reference"),
                OpSpec::always(Op::Upsert),
                None,
            ),
            Preset::SalesforceOutbound => PayloadSpec {
                format: BodyFormat::Xml,
                each: Some(Path::parse("Body.notifications.Notification")),
                ..json(
                    vec![Source::body("Id")],
                    refetch("sObject.Id"),
                    OpSpec::always(Op::Upsert),
                    None,
                )
            },
        }
    }

    /// The body a provider requires in the 2xx answer, when it requires
    /// one: Salesforce retries an outbound message until it gets its SOAP
    /// acknowledgement.
    pub fn acknowledgement(self) -> Option<&'static str> {
        match self {
            Preset::SalesforceOutbound => Some(SALESFORCE_ACK),
            _ => None,
        }
    }

    pub fn verifier(self, config: &PresetConfig) -> Result<Verifier, ConfigError> {
        let tolerance = config.tolerance.unwrap_or(FIVE_MINUTES);
        let text_keys = || Key::all(&config.secrets, &KeyForm::Text);
        // The body, HMAC-SHA256, in one header.
        let body_hmac = |header: &str, prefix: &str, encoding| -> Result<Verifier, ConfigError> {
            Ok(Verifier::Hmac(HmacScheme {
                digest: Digest::Sha256,
                secrets: text_keys()?,
                message: vec![Part::Body],
                carrier: Carrier::Header {
                    name: header.to_string(),
                    prefix: prefix.to_string(),
                },
                encoding,
                timestamp: None,
            }))
        };
        let header = || {
            config
                .header
                .clone()
                .filter(|h| !h.trim().is_empty())
                .ok_or(ConfigError::NeedsHeader {
                    preset: self.name(),
                })
        };
        match self {
            Preset::Stripe => Ok(Verifier::Hmac(HmacScheme {
                digest: Digest::Sha256,
                secrets: text_keys()?,
                message: vec![Part::Timestamp, Part::Text(".".into()), Part::Body],
                carrier: Carrier::List {
                    header: "Stripe-Signature".into(),
                    entries: ',',
                    pair: '=',
                    version: "v1".into(),
                },
                encoding: Encoding::Hex,
                timestamp: Some(Timestamp {
                    source: TimestampSource::ListEntry("t".into()),
                    unit: TimeUnit::Seconds,
                    tolerance,
                }),
            })),
            Preset::StandardWebhooks => Ok(Verifier::Hmac(HmacScheme {
                digest: Digest::Sha256,
                secrets: Key::all(
                    &config.secrets,
                    &KeyForm::Base64 {
                        prefix: "whsec_".into(),
                    },
                )?,
                message: vec![
                    Part::Header("webhook-id".into()),
                    Part::Text(".".into()),
                    Part::Timestamp,
                    Part::Text(".".into()),
                    Part::Body,
                ],
                carrier: Carrier::List {
                    header: "webhook-signature".into(),
                    entries: ' ',
                    pair: ',',
                    version: "v1".into(),
                },
                encoding: Encoding::Base64,
                timestamp: Some(Timestamp {
                    source: TimestampSource::Header("webhook-timestamp".into()),
                    unit: TimeUnit::Seconds,
                    tolerance,
                }),
            })),
            Preset::Shopify => body_hmac("X-Shopify-Hmac-Sha256", "", Encoding::Base64),
            Preset::GitHub => body_hmac("X-Hub-Signature-256", "sha256=", Encoding::Hex),
            Preset::CheckoutCom => body_hmac("Cko-Signature", "", Encoding::Hex),
            Preset::PayTabs => body_hmac("signature", "", Encoding::Hex),
            Preset::HubSpotV3 => Ok(Verifier::Hmac(HmacScheme {
                digest: Digest::Sha256,
                secrets: text_keys()?,
                message: vec![
                    Part::Method,
                    Part::Url(UrlForm::HubSpotDecoded),
                    Part::Body,
                    Part::Timestamp,
                ],
                carrier: Carrier::Header {
                    name: "X-HubSpot-Signature-v3".into(),
                    prefix: String::new(),
                },
                encoding: Encoding::Base64,
                timestamp: Some(Timestamp {
                    source: TimestampSource::Header("X-HubSpot-Request-Timestamp".into()),
                    unit: TimeUnit::Milliseconds,
                    tolerance,
                }),
            })),
            Preset::Telr => Ok(Verifier::FieldHash(FieldHash {
                digest: Digest::Sha1,
                secrets: text_keys()?,
                fields: [
                    "tran_store",
                    "tran_type",
                    "tran_class",
                    "tran_test",
                    "tran_ref",
                    "tran_prevref",
                    "tran_firstref",
                    "tran_currency",
                    "tran_amount",
                    "tran_cartid",
                    "tran_desc",
                    "tran_status",
                    "tran_authcode",
                    "tran_authmessage",
                ]
                .map(String::from)
                .to_vec(),
                separator: ":".into(),
                carrier: "tran_check".into(),
                encoding: Encoding::Hex,
            })),
            Preset::Tamara => Ok(Verifier::Jwt(JwtScheme {
                algorithm: JwtAlgorithm::HS256,
                secrets: text_keys()?,
                sources: vec![
                    TokenSource::Query("tamaraToken".into()),
                    TokenSource::Bearer,
                ],
                leeway: config.tolerance.unwrap_or(Duration::from_secs(60)),
            })),
            Preset::Tabby | Preset::NGenius => Ok(Verifier::SharedSecret(SharedSecret {
                header: header()?,
                secrets: text_keys()?,
            })),
            Preset::SalesforceOutbound => Ok(Verifier::Organisation(Organisation::new(
                &config.organisations,
            )?)),
        }
    }
}

#[cfg(test)]
mod provider_facts {
    use super::Preset;

    /// The provider checker (a layer below) knows the presets by a table
    /// of its own; it must say what the presets say.
    #[test]
    fn the_provider_checkers_table_is_the_presets() {
        let table: Vec<(&str, bool)> = crate::provider::spec::WEBHOOK_PRESETS.to_vec();
        let presets: Vec<(&str, bool)> = Preset::ALL
            .iter()
            .map(|p| (p.name(), p.signs_body()))
            .collect();
        assert_eq!(table, presets);
    }
}
