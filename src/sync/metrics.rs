//! Prometheus metrics of `tether sync` (issue 22, step 2;
//! docs/design/14-operations.md).
//!
//! Why recorded here, after each pass, and not where things happen: a
//! pass's [`Summary`] already counts every event, operation, request and
//! webhook answer, and the store's [`StatusReport`] (the queries of
//! `tether status`) has the backlog and the open work. Recording both in
//! one place costs a few dozen counter updates and one read transaction
//! per pass, nothing per record, and leaves the engine's hot paths as they
//! are. What the summary does not split is not invented: events and
//! operations are per mapping (not per side), requests per provider (not
//! per status class), webhook refusals per reason (not per endpoint).
//!
//! The recorder is this value's own (`metrics::with_local_recorder`), not
//! a process-wide one: two syncs in one process (the tests) never mix
//! their figures, and nothing records unless `--metrics` was asked for.

use super::status::StatusReport;
use super::summary::Summary;
use crate::http::exchange::Stats;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The buckets of `tether_pass_seconds`: an idle `--watch` pass takes
/// milliseconds, a backlog of 300,000 contacts half a minute.
const PASS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// How a pass ended, for `tether_passes_total{result}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassResult {
    Ok,
    Failed,
}

/// The figures of one sync process.
pub struct Metrics {
    recorder: PrometheusRecorder,
    /// Providers whose breaker gauge was last set to 1: set back to 0 when
    /// the report no longer shows them open.
    breakers_open: BTreeSet<String>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let builder = PrometheusBuilder::new();
        // Only fails for an empty bucket list, which this is not; without
        // buckets the histogram is rendered as a summary, still valid.
        let builder = match builder.set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full("tether_pass_seconds".into()),
            PASS_BUCKETS,
        ) {
            Ok(b) => b,
            Err(_) => PrometheusBuilder::new(),
        };
        let recorder = builder.build_recorder();
        Metrics {
            recorder,
            breakers_open: BTreeSet::new(),
        }
    }

    /// What a scrape reads.
    pub fn handle(&self) -> PrometheusHandle {
        self.recorder.handle()
    }

    /// The text exposition format, as `/metrics` answers.
    pub fn render(&self) -> String {
        self.recorder.handle().render()
    }

    /// A pass of `mapping` that took `seconds`; its summary when it ended
    /// well (with the requests and webhook answers filled in, as the
    /// summary line shows them).
    pub fn record_pass(&self, mapping: &str, result: PassResult, summary: &Summary, seconds: f64) {
        let m = mapping.to_string();
        metrics::with_local_recorder(&self.recorder, || {
            let outcome = match result {
                PassResult::Ok => "ok",
                PassResult::Failed => "failed",
            };
            counter!("tether_passes_total", "mapping" => m.clone(), "result" => outcome)
                .increment(1);
            histogram!("tether_pass_seconds", "mapping" => m.clone()).record(seconds);
            let events = [
                ("read", summary.read),
                ("unchanged", summary.unchanged),
                ("duplicate", summary.duplicate),
                ("stale", summary.stale),
                ("dead_lettered", summary.dead_lettered),
                ("waiting", summary.waiting),
                ("parked", summary.parked),
                ("deletes_ignored", summary.deletes_ignored),
            ];
            for (outcome, n) in events {
                counter!("tether_events_total", "mapping" => m.clone(), "outcome" => outcome)
                    .increment(n);
            }
            let operations = [
                ("created", summary.created),
                ("updated", summary.updated),
                ("deleted", summary.deleted),
                ("sent", summary.sent),
            ];
            for (outcome, n) in operations {
                counter!("tether_operations_total", "mapping" => m.clone(), "outcome" => outcome)
                    .increment(n);
            }
            for (rule, n) in &summary.conflicts {
                counter!("tether_conflicts_total", "mapping" => m.clone(), "rule" => rule.clone())
                    .increment(*n);
            }
            for p in &summary.providers {
                let provider = p.provider.clone();
                let c = &p.counts;
                for (class, n) in Stats::CLASSES.iter().zip(c.by_class) {
                    counter!("tether_requests_total", "provider" => provider.clone(), "status_class" => *class)
                        .increment(n);
                }
                counter!("tether_retries_total", "provider" => provider.clone())
                    .increment(c.retries);
                counter!("tether_throttles_total", "provider" => provider.clone())
                    .increment(c.throttled);
                counter!("tether_breaker_transitions_total", "provider" => provider.clone(), "to" => "open")
                    .increment(c.breaker_openings);
                counter!("tether_token_fetches_total", "provider" => provider)
                    .increment(c.token_fetches);
            }
            if let Some(w) = &summary.webhooks {
                for (outcome, n) in [
                    ("accepted", w.accepted),
                    ("duplicate", w.duplicate),
                    ("malformed", w.malformed),
                    ("ignored", w.ignored),
                ] {
                    counter!("tether_webhook_deliveries_total", "outcome" => outcome).increment(n);
                }
                for (reason, n) in [
                    ("signature", w.refused_signature),
                    ("timestamp", w.refused_timestamp),
                    ("malformed", w.refused_malformed),
                    ("too_large", w.too_large),
                    ("saturated", w.saturated),
                    ("busy", w.busy),
                    ("timed_out", w.timed_out),
                    ("store_failed", w.store_failed),
                ] {
                    counter!("tether_webhook_refusals_total", "reason" => reason).increment(n);
                }
                // Receipt to the store's commit (issue 20, point 6). The
                // receiver keeps a sum and a maximum per pass, not each
                // delivery's time, so a sum counter (in microseconds:
                // counters are integers) and the pass's longest as a gauge;
                // the mean is the sum over the stored deliveries.
                counter!("tether_webhook_store_microseconds_total").increment(w.store_us_total);
                gauge!("tether_webhook_store_seconds_max").set(w.store_us_max as f64 / 1e6);
            }
        });
    }

    /// What a retention pass removed (`tether_pruned_total{what}`).
    pub fn record_pruned(&self, p: &super::retention::Pruned) {
        metrics::with_local_recorder(&self.recorder, || {
            for (what, n) in [
                ("sent", p.sent),
                ("dead_letters", p.dead_letters),
                ("reviews", p.reviews),
                ("resolutions", p.resolutions),
                ("done_files", p.done_files),
            ] {
                counter!("tether_pruned_total", "what" => what).increment(n as u64);
            }
        });
    }

    /// The gauges, from the report `tether status` prints (read after the
    /// pass, so a scrape sees what the store holds, not what a pass
    /// guessed).
    pub fn record_status(&mut self, report: &StatusReport) {
        let mut open_now = BTreeSet::new();
        metrics::with_local_recorder(&self.recorder, || {
            for m in &report.mappings {
                let name = m.name.clone();
                for s in &m.sides {
                    let side = s.side.to_string();
                    let labels = [("mapping", name.clone()), ("side", side)];
                    gauge!("tether_backlog_events", &labels).set(s.received.count as f64);
                    gauge!("tether_blocked_events", &labels).set(s.blocked as f64);
                    gauge!("tether_unacknowledged_operations", &labels)
                        .set(s.unacknowledged.count as f64);
                }
                gauge!("tether_dead_letters_open", "mapping" => name.clone())
                    .set(m.dead_letters.count as f64);
                gauge!("tether_reviews_open", "mapping" => name).set(m.reviews.count as f64);
            }
            for b in &report.breakers {
                gauge!("tether_breaker_open", "provider" => b.provider.clone()).set(1.0);
                open_now.insert(b.provider.clone());
            }
            for closed in self.breakers_open.difference(&open_now) {
                gauge!("tether_breaker_open", "provider" => closed.clone()).set(0.0);
            }
            for w in &report.webhooks {
                gauge!("tether_webhook_notices_pending", "endpoint" => w.endpoint.clone())
                    .set(w.pending as f64);
            }
        });
        self.breakers_open = open_now;
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The `/metrics` endpoint: a thread of its own with a current-thread
/// runtime, apart from the webhook receiver's (a folder or REST sync has
/// no receiver, and a scrape must not take a delivery's slot).
pub struct MetricsServer {
    addr: SocketAddr,
    _server: super::serve::ServerThread,
}

/// A scraper is one client; a few at once is plenty.
const MAX_CONNECTIONS: usize = 8;
/// A client that has not sent its request line and headers by then is cut.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

impl MetricsServer {
    /// Binds `listen` here (a taken port is an error now, not in the
    /// thread) and answers `GET /metrics` until dropped.
    pub fn start(listen: SocketAddr, handle: PrometheusHandle) -> std::io::Result<MetricsServer> {
        let (listener, addr) = super::serve::bind(listen)?;
        let server = super::serve::ServerThread::start(
            "metrics",
            listener,
            router(Arc::new(handle)),
            MAX_CONNECTIONS,
            HEADER_TIMEOUT,
        )?;
        Ok(MetricsServer {
            addr,
            _server: server,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// `GET /metrics` answered from `handle`; anything else is 404.
fn router(handle: Arc<PrometheusHandle>) -> axum::Router {
    use axum::body::Body;
    use axum::http::{Method, Request, Response, StatusCode, header};
    axum::Router::new().fallback(move |request: Request<Body>| {
        let handle = Arc::clone(&handle);
        async move {
            let mut r = if request.method() == Method::GET && request.uri().path() == "/metrics" {
                let mut r = Response::new(Body::from(handle.render()));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                r
            } else {
                let mut r = Response::new(Body::from("not found: the metrics are at /metrics\n"));
                *r.status_mut() = StatusCode::NOT_FOUND;
                r
            };
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            r
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::Side;
    use crate::sync::status::{BreakerStatus, MappingStatus, Open, SideStatus};
    use crate::sync::summary::{ProviderRequests, WebhookCounts};

    fn line<'a>(text: &'a str, series: &str) -> Option<&'a str> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
    }

    /// Counters add up over passes; gauges take the last report, and a
    /// breaker that closed reads 0 again.
    #[test]
    fn counters_accumulate_and_gauges_follow_the_last_report() {
        let mut m = Metrics::new();
        let s = Summary {
            read: 4,
            created: 2,
            dead_lettered: 1,
            providers: vec![ProviderRequests {
                side: Side::Right,
                provider: "crm".into(),
                counts: Stats {
                    requests: 5,
                    throttled: 2,
                    by_class: [0, 3, 0, 2, 0, 0],
                    ..Stats::default()
                },
            }],
            webhooks: Some(WebhookCounts {
                accepted: 3,
                duplicate: 1,
                refused_signature: 2,
                store_us_total: 1_500,
                store_us_max: 900,
                ..WebhookCounts::default()
            }),
            ..Summary::default()
        };
        m.record_pass("contact", PassResult::Ok, &s, 0.02);
        m.record_pass("contact", PassResult::Ok, &s, 0.02);
        m.record_pass("contact", PassResult::Failed, &Summary::default(), 0.5);
        let pruned = crate::sync::retention::Pruned {
            sent: 3,
            done_files: 2,
            ..Default::default()
        };
        m.record_pruned(&pruned);
        m.record_pruned(&pruned);
        let side = |side, count| SideStatus {
            side,
            received: Open {
                count,
                oldest: None,
            },
            blocked: 0,
            unacknowledged: Open::default(),
            cursor: None,
        };
        let report = |breakers: Vec<BreakerStatus>| StatusReport {
            mappings: vec![MappingStatus {
                name: "contact".into(),
                sides: vec![side(Side::Left, 3), side(Side::Right, 0)],
                dead_letters: Open {
                    count: 2,
                    oldest: None,
                },
                reviews: Open::default(),
                last_ok: None,
                last_failed: None,
            }],
            breakers,
            webhooks: vec![],
        };
        m.record_status(&report(vec![BreakerStatus {
            provider: "crm".into(),
            open_until: "2030-01-01T00:00:00Z".into(),
        }]));
        let t = m.render();
        let get = |series: &str| line(&t, series).unwrap_or_else(|| panic!("{series}:\n{t}"));
        assert_eq!(
            get(r#"tether_events_total{mapping="contact",outcome="read"}"#),
            "8"
        );
        assert_eq!(
            get(r#"tether_events_total{mapping="contact",outcome="dead_lettered"}"#),
            "2"
        );
        assert_eq!(
            get(r#"tether_operations_total{mapping="contact",outcome="created"}"#),
            "4"
        );
        assert_eq!(
            get(r#"tether_requests_total{provider="crm",status_class="2xx"}"#),
            "6"
        );
        assert_eq!(
            get(r#"tether_requests_total{provider="crm",status_class="4xx"}"#),
            "4"
        );
        assert_eq!(get(r#"tether_throttles_total{provider="crm"}"#), "4");
        assert_eq!(
            get(r#"tether_webhook_deliveries_total{outcome="accepted"}"#),
            "6"
        );
        assert_eq!(
            get(r#"tether_webhook_deliveries_total{outcome="duplicate"}"#),
            "2"
        );
        assert_eq!(
            get(r#"tether_webhook_refusals_total{reason="signature"}"#),
            "4"
        );
        assert_eq!(get("tether_webhook_store_microseconds_total"), "3000");
        assert_eq!(get("tether_webhook_store_seconds_max"), "0.0009");
        assert_eq!(
            get(r#"tether_passes_total{mapping="contact",result="ok"}"#),
            "2"
        );
        assert_eq!(
            get(r#"tether_passes_total{mapping="contact",result="failed"}"#),
            "1"
        );
        assert_eq!(get(r#"tether_pass_seconds_count{mapping="contact"}"#), "3");
        assert_eq!(
            get(r#"tether_pass_seconds_bucket{mapping="contact",le="0.025"}"#),
            "2"
        );
        assert_eq!(
            get(r#"tether_backlog_events{mapping="contact",side="left"}"#),
            "3"
        );
        assert_eq!(get(r#"tether_dead_letters_open{mapping="contact"}"#), "2");
        assert_eq!(get(r#"tether_pruned_total{what="sent"}"#), "6");
        assert_eq!(get(r#"tether_pruned_total{what="done_files"}"#), "4");
        assert_eq!(get(r#"tether_breaker_open{provider="crm"}"#), "1");
        m.record_status(&report(vec![]));
        let t = m.render();
        assert_eq!(
            line(&t, r#"tether_breaker_open{provider="crm"}"#),
            Some("0"),
            "{t}"
        );
    }
}
