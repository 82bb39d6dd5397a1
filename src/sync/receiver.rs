//! The webhook receiver (issue 20, step 2; docs/design/12-webhooks.md,
//! "The receiver"): an HTTP server that verifies each delivery, stores its
//! notices in the state store's inbox, and only then answers 2xx.
//!
//! It runs on a tokio runtime in a thread of its own, beside the sync's
//! passes, with a connection of its own to the store file (SQLite WAL);
//! the engine's merge and writes never run in a request. Per request, in
//! order: a cap on concurrent requests (503), the endpoint and method
//! (404, 405), the body within its size limit (413) and time (408), the
//! signature on the raw bytes (401 `signature`, nothing more), the inbox
//! not saturated (429 with `Retry-After`), the notices stored in one
//! transaction (503 when the store fails, so the provider retries), then
//! the answer: 200, or the body the provider requires.
//!
//! Nothing a sender controls reaches a log line: a refusal is logged by
//! its kind ([`Refusal`](crate::webhook::Refusal)'s text names configured places only), the path
//! of an unknown endpoint is not logged at all.

use super::serve::ServerThread;
use super::store::SqliteStore;
use super::summary::WebhookCounts;
use crate::webhook::payload::PayloadSpec;
use crate::webhook::{Delivery, Headers, Preset, Reason, Verifier};
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// One webhook endpoint: `/webhooks/<preset>`.
pub struct Endpoint {
    pub preset: Preset,
    pub verifier: Verifier,
    pub payload: PayloadSpec,
}

impl Endpoint {
    /// The inbox's name for the endpoint's notices (event ids are unique
    /// per endpoint).
    pub fn name(&self) -> &'static str {
        self.preset.name()
    }

    pub fn path(&self) -> String {
        format!("/webhooks/{}", self.name())
    }
}

/// The receiver's bounds on what a sender can cost.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest body read (413 above it). Providers send kilobytes;
    /// Stripe's largest events are far below the default.
    pub max_body: usize,
    /// How long the body may take to arrive (408 after).
    pub body_timeout: Duration,
    /// Requests handled at once; one more is answered 503 at once rather
    /// than queued.
    pub max_concurrent: usize,
    /// Notices of one endpoint waiting for a sync pass; a delivery that
    /// would bring them above it is answered 429 (the sync is behind or
    /// stopped, or the delivery alone holds more).
    pub max_pending: u64,
    /// What `Retry-After` says with a 429 or 503.
    pub retry_after: Duration,
    /// Connections open at once; further ones wait in the listen queue.
    /// With `header_timeout`, what bounds clients that connect and send
    /// nothing, or headers a byte at a time (slowloris).
    pub max_connections: usize,
    /// How long a request's headers may take (hyper then closes).
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body: 1 << 20,
            body_timeout: Duration::from_secs(10),
            max_concurrent: 64,
            max_pending: 10_000,
            retry_after: Duration::from_secs(30),
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
        }
    }
}

struct App {
    endpoints: Vec<Endpoint>,
    /// Scheme and host the providers call, for schemes that sign the URL.
    public_base: String,
    limits: Limits,
    store: Mutex<SqliteStore>,
    permits: Arc<tokio::sync::Semaphore>,
    counts: Mutex<WebhookCounts>,
    log: Mutex<LogBudget>,
}

impl App {
    fn count(&self, f: impl FnOnce(&mut WebhookCounts)) {
        f(&mut self.counts.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Writes a line to the log, at most one a second: a sender hammering
    /// the endpoint with forgeries must not fill the disk. Lines held back
    /// are counted (the summary's counts have them all) and said with the
    /// next one.
    fn log(&self, line: std::fmt::Arguments<'_>) {
        let admitted = self
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(Instant::now());
        let Some(held) = admitted else {
            return;
        };
        if held > 0 {
            eprintln!("tether: {line} ({held} similar line(s) held back)");
        } else {
            eprintln!("tether: {line}");
        }
    }
}

#[derive(Default)]
struct LogBudget {
    last: Option<Instant>,
    held: u64,
}

impl LogBudget {
    /// Whether a line may be written at `now`: `Some(lines held back
    /// since the last one)`, or `None` (held back).
    fn admit(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < Duration::from_secs(1))
        {
            self.held += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held))
    }
}

/// A running receiver. Dropping it stops the server.
pub struct Receiver {
    addr: SocketAddr,
    app: Arc<App>,
    _server: ServerThread,
}

impl Receiver {
    /// Binds `listen` (so a taken port is an error here, not in the
    /// thread) and serves `endpoints` until dropped. `store` is a
    /// connection of its own to the sync's store.
    pub fn start(
        listen: SocketAddr,
        endpoints: Vec<Endpoint>,
        store: SqliteStore,
        limits: Limits,
    ) -> std::io::Result<Receiver> {
        Receiver::start_public(listen, None, endpoints, store, limits)
    }

    /// [`Receiver::start`], with the scheme and host the providers call
    /// (`https://hooks.example.com`, no trailing `/`) when that is not
    /// `http://` and the bound address: behind a reverse proxy. A scheme
    /// that signs the URL (HubSpot v3) verifies against it.
    pub fn start_public(
        listen: SocketAddr,
        public_base: Option<String>,
        endpoints: Vec<Endpoint>,
        store: SqliteStore,
        limits: Limits,
    ) -> std::io::Result<Receiver> {
        let (listener, addr) = super::serve::bind(listen)?;
        let app = Arc::new(App {
            endpoints,
            public_base: public_base.unwrap_or_else(|| format!("http://{addr}")),
            permits: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent.max(1))),
            limits,
            store: Mutex::new(store),
            counts: Mutex::new(WebhookCounts::default()),
            log: Mutex::new(LogBudget::default()),
        });
        let served = Arc::clone(&app);
        let router = axum::Router::new().fallback(move |request: Request<Body>| {
            let app = Arc::clone(&served);
            async move { handle(app, request).await }
        });
        let (max, header_timeout) = (app.limits.max_connections, app.limits.header_timeout);
        let server = ServerThread::start("webhooks", listener, router, max, header_timeout)?;
        Ok(Receiver {
            addr,
            app,
            _server: server,
        })
    }

    /// The address bound (the port chosen when `listen` said 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counts since the last call (a sync pass reports them).
    pub fn take_counts(&self) -> WebhookCounts {
        std::mem::take(
            &mut self
                .app
                .counts
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

fn answer(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn retry_later(status: StatusCode, body: &'static str, after: Duration) -> Response<Body> {
    let mut r = answer(status, body);
    if let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

async fn handle(app: Arc<App>, request: Request<Body>) -> Response<Body> {
    // Held until the answer is made: the cap counts requests in progress.
    let Ok(_permit) = Arc::clone(&app.permits).try_acquire_owned() else {
        app.count(|c| c.busy += 1);
        return retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            app.limits.retry_after,
        );
    };
    let (parts, body) = request.into_parts();
    let name = parts.uri.path().strip_prefix("/webhooks/");
    let Some(index) = app.endpoints.iter().position(|e| Some(e.name()) == name) else {
        return answer(StatusCode::NOT_FOUND, "no such endpoint");
    };
    if parts.method != Method::POST {
        let mut r = answer(StatusCode::METHOD_NOT_ALLOWED, "POST only");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let endpoint = &app.endpoints[index];
    // A declared length over the limit is refused before any byte is read.
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.limits.max_body as u64) {
        app.count(|c| c.too_large += 1);
        return answer(StatusCode::PAYLOAD_TOO_LARGE, "too large");
    }
    let read = tokio::time::timeout(
        app.limits.body_timeout,
        Limited::new(body, app.limits.max_body).collect(),
    )
    .await;
    let body = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            app.count(|c| c.too_large += 1);
            return answer(StatusCode::PAYLOAD_TOO_LARGE, "too large");
        }
        // A broken chunked encoding or a connection gone: nobody may be
        // there to read it.
        Ok(Err(_)) => return answer(StatusCode::BAD_REQUEST, "unreadable body"),
        Err(_) => {
            app.count(|c| c.timed_out += 1);
            return answer(StatusCode::REQUEST_TIMEOUT, "too slow");
        }
    };
    let received = Instant::now();
    let mut headers = Headers::new();
    for (name, value) in &parts.headers {
        headers.push(name.as_str(), value.as_bytes());
    }
    let url = format!(
        "{}{}",
        app.public_base,
        parts.uri.path_and_query().map_or("", |p| p.as_str())
    );
    let delivery = Delivery {
        method: parts.method.as_str(),
        url: &url,
        headers: &headers,
        body: &body,
    };
    if let Err(refusal) = endpoint.verifier.verify(&delivery, SystemTime::now()) {
        let reason = refusal.reason();
        app.count(|c| match reason {
            Reason::Signature => c.refused_signature += 1,
            Reason::Timestamp => c.refused_timestamp += 1,
            Reason::Malformed => c.refused_malformed += 1,
        });
        // The refusal's text names configured places only.
        app.log(format_args!(
            "webhook {}: delivery refused: {refusal}",
            endpoint.name()
        ));
        return answer(StatusCode::UNAUTHORIZED, "signature");
    }
    let read = endpoint.payload.read(&headers, &body);
    let notices = super::webhook::inbox_notices(&body, read);
    let malformed = notices
        .iter()
        .any(|n| matches!(n.content, super::store::NoticeContent::Malformed { .. }));
    let ack = endpoint.preset.acknowledgement();
    let ok = || match ack {
        Some(soap) => {
            let mut r = answer(StatusCode::OK, soap);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            );
            r
        }
        None => answer(StatusCode::OK, "ok"),
    };
    // Nothing that is an event (GitHub's `ping`, an empty batch).
    if notices.is_empty() {
        app.count(|c| c.ignored += 1);
        return ok();
    }
    let stored = {
        let app = Arc::clone(&app);
        let endpoint = endpoint.name();
        tokio::task::spawn_blocking(move || {
            let mut store = app.store.lock().unwrap_or_else(PoisonError::into_inner);
            // With the delivery's own notices counted: one batch of 40,000
            // small notices would otherwise pass an inbox of 10,000.
            let adding = u64::try_from(notices.len()).unwrap_or(u64::MAX);
            match store.pending_notices(endpoint) {
                Ok(n) if n.saturating_add(adding) > app.limits.max_pending => {
                    return Stored::Saturated;
                }
                Ok(_) => {}
                Err(e) => return Stored::Failed(e.to_string()),
            }
            match store.store_delivery(endpoint, &notices) {
                Ok(new) => Stored::Done { new },
                Err(e) => Stored::Failed(e.to_string()),
            }
        })
        .await
        .unwrap_or_else(|_| Stored::Failed("the store's task stopped".into()))
    };
    match stored {
        Stored::Done { new } => {
            // The notices are durable; a crash from here on loses nothing,
            // and the provider's retry is a replay (the fail point proves it).
            super::failpoint("webhook-stored");
            let took = u64::try_from(received.elapsed().as_micros()).unwrap_or(u64::MAX);
            app.count(|c| {
                if malformed {
                    c.malformed += 1;
                } else if new > 0 {
                    c.accepted += 1;
                } else {
                    c.duplicate += 1;
                }
                c.store_us_total = c.store_us_total.saturating_add(took);
                c.store_us_max = c.store_us_max.max(took);
            });
            ok()
        }
        Stored::Saturated => {
            app.count(|c| c.saturated += 1);
            app.log(format_args!(
                "webhook {}: the inbox cannot take the delivery's notices (at most {} wait for \
                 a pass); answering 429",
                endpoint.name(),
                app.limits.max_pending
            ));
            retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                "inbox full",
                app.limits.retry_after,
            )
        }
        Stored::Failed(e) => {
            app.count(|c| c.store_failed += 1);
            app.log(format_args!(
                "webhook {}: cannot store a delivery, answering 503: {e}",
                endpoint.name()
            ));
            retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "not stored",
                app.limits.retry_after,
            )
        }
    }
}

enum Stored {
    Done { new: usize },
    Saturated,
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_writes_at_most_a_line_a_second_and_says_how_many_it_held() {
        let mut b = LogBudget::default();
        let t = Instant::now();
        let at = |ms| t + Duration::from_millis(ms);
        assert_eq!(b.admit(at(0)), Some(0));
        assert_eq!(b.admit(at(10)), None);
        assert_eq!(b.admit(at(999)), None);
        assert_eq!(b.admit(at(1000)), Some(2));
        assert_eq!(b.admit(at(1500)), None);
        assert_eq!(b.admit(at(5000)), Some(1));
        assert_eq!(b.admit(at(6000)), Some(0));
    }
}
