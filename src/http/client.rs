//! One request, one response: a blocking client (ureq) configured the way a
//! provider's policy needs it (docs/design/10-rest-providers.md, "Crate
//! choices").
//!
//! * Every status is a [`Response`], never an error: what a 4xx or 5xx
//!   means is the status classes' call ([`super::policy`]).
//! * Redirects are never followed: a 3xx comes back as it is, so a token
//!   never goes to a host the declaration did not name.
//! * `request_timeout` bounds the whole exchange, body included, so a body
//!   trickling in a byte at a time fails like any timeout.
//! * A response body is read whole, up to a cap ([`DEFAULT_MAX_BODY`],
//!   16 MiB): pages are small, and a provider cannot make tether hold more
//!   than the body. What a body costs once parsed is bounded by the
//!   reader, which counts its values first ([`super::MAX_JSON_VALUES`]).
//! * Proxies are never used: `HTTP_PROXY`/`ALL_PROXY` in the environment
//!   would silently send every request, bearer token included, through
//!   another host. tether talks to the declared base only.
//! * A [`Failure`] names the request by its label (method and path
//!   template), never by its URL: a URL may carry an API key.

use std::time::Duration;

/// An HTTP method tether sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A request, fully built.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    /// The expanded URL: may hold a secret (an API key in the query).
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// How messages name the request: the method and the path *template*
    /// (`POST /crm/v3/objects/contacts/search`).
    pub label: String,
}

/// A response of any status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of this name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no response came: the transport failed. Whether to retry is the
/// policy's call; every kind counts towards the breaker.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("{label}: no connection ({reason})")]
    Connect { label: String, reason: String },
    #[error("{label}: timed out ({what})")]
    Timeout { label: String, what: String },
    /// The connection broke mid-exchange (a reset, a body cut short).
    #[error("{label}: the exchange broke off ({reason})")]
    Broken { label: String, reason: String },
    #[error("{label}: the response body is larger than {limit} bytes")]
    TooLarge { label: String, limit: u64 },
    /// The request could not be built (a header value with a line break).
    #[error("{label}: the request is not valid HTTP ({reason})")]
    Invalid { label: String, reason: String },
}

/// The cap on a response body unless a caller sets another: 16 MiB. A
/// page of thousands of records is well under 1 MiB; the cap bounds what
/// a hostile or broken provider makes tether parse into memory.
pub const DEFAULT_MAX_BODY: u64 = 16 << 20;

/// Timeouts and the body cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_body: u64,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// The client of one provider (its connection pool).
pub struct Client {
    agent: ureq::Agent,
    max_body: u64,
}

impl Client {
    pub fn new(config: ClientConfig) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.request_timeout))
            // ureq reads HTTP_PROXY/ALL_PROXY by default: no proxy, ever.
            .proxy(None)
            .user_agent(concat!("tether/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            max_body: config.max_body,
        }
    }

    /// Sends `request` and reads the whole response.
    pub fn send(&self, request: &Request) -> Result<Response, Failure> {
        let label = || request.label.clone();
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let body = request.body.clone().unwrap_or_default();
        let built = builder.body(body).map_err(|e| Failure::Invalid {
            label: label(),
            // http's messages name the part, not the value.
            reason: e.to_string(),
        })?;
        let mut response = self
            .agent
            .run(built)
            .map_err(|e| failure(label(), e, self.max_body))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(|e| failure(label(), e, self.max_body))?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// ureq's error as a [`Failure`], in tether's words. ureq's own messages
/// are not used where they could carry the URL.
fn failure(label: String, e: ureq::Error, max_body: u64) -> Failure {
    use ureq::Error as E;
    match e {
        E::Timeout(which) => Failure::Timeout {
            label,
            what: format!("{which:?}").to_ascii_lowercase(),
        },
        E::BodyExceedsLimit(_) => Failure::TooLarge {
            label,
            limit: max_body,
        },
        E::HostNotFound => Failure::Connect {
            label,
            reason: "host not found".into(),
        },
        E::ConnectionFailed => Failure::Connect {
            label,
            reason: "connection failed".into(),
        },
        E::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => Failure::Connect {
                label,
                reason: "connection refused".into(),
            },
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Failure::Timeout {
                label,
                what: "i/o".into(),
            },
            kind => Failure::Broken {
                label,
                reason: kind.to_string(),
            },
        },
        E::BadUri(_) | E::Http(_) => Failure::Invalid {
            label,
            reason: "malformed URL or header".into(),
        },
        E::Tls(why) => Failure::Connect {
            label,
            reason: format!("TLS: {why}"),
        },
        E::Rustls(e) => Failure::Connect {
            label,
            reason: format!("TLS: {e}"),
        },
        E::Protocol(e) => Failure::Broken {
            label,
            reason: format!("not valid HTTP: {e}"),
        },
        other => Failure::Broken {
            label,
            reason: error_kind(&other),
        },
    }
}

/// A short name for any other ureq error (its `Debug` without fields).
fn error_kind(e: &ureq::Error) -> String {
    let debug = format!("{e:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("error")
        .to_string()
}
