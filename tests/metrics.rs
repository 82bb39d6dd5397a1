//! `tether sync --watch --metrics` (issue 22, step 2): after a scripted
//! scenario — a throttled REST provider, a record dead-lettered with an
//! event waiting behind it — a GET of `/metrics` over loopback shows
//! exactly the figures the scenario made. The sync is the real binary; the
//! provider is the CRM-like fake (tests/support/fake_crm.rs).

#[path = "support/fake_crm.rs"]
mod fake_crm;
#[path = "support/fake_http.rs"]
mod fake_http;
#[path = "support/fault_http.rs"]
mod fault_http;
#[path = "support/rest_cli.rs"]
mod rest_cli;

use fake_crm::Crm;
use fault_http::Faulty;
use rest_cli::{s, scratch};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PAGED: &str = "tests/data/rest_faults/contacts_paged.tether";

/// Kills the sync when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` on `addr`, the whole answer (status line, headers, body).
fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to the metrics endpoint");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    answer
}

/// The value of one series, as the text format writes it.
fn value<'a>(text: &'a str, series: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
}

#[test]
fn metrics_after_a_throttled_provider_and_a_dead_letter_equal_the_scenario() {
    let dir = scratch("metrics", "scenario");
    let crm = Arc::new(Mutex::new(Crm::default()));
    {
        let mut c = crm.lock().expect("crm");
        for n in 1..=2 {
            c.seed(json!({"ref": format!("r{n}"), "email": format!("crm{n}@example.com")}));
        }
    }
    let handler = crm.clone();
    let fake = Faulty::start(move |r| fake_crm::handle(&handler, r), |_, _| None);
    let inbox = dir.join("erp/inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    // A first run without metrics: r3 is new; r9's Email is an object (a
    // dead letter).
    std::fs::write(
        inbox.join("a.ndjson"),
        "{\"ref\":\"r3\",\"Email\":\"erp3@example.com\"}\n{\"ref\":\"r9\",\"Email\":{\"x\":1}}\n",
    )
    .expect("drop");
    let state = dir.join("state.db");
    let env = [
        ("FAKECRM_BASE_URL", fake.url.as_str()),
        ("FAKECRM_TOKEN", "pat-metrics-1"),
    ];
    let first = rest_cli::tether(
        &dir,
        &rest_cli::sync_args(PAGED, s(&state), s(&dir.join("erp"))),
        &env,
    );
    assert_eq!(first.code, Some(3), "{}", first.err);
    // Then: r9's next event waits behind its dead letter, and the first
    // two requests are answered 429 with `Retry-After: 1`.
    crm.lock().expect("crm").throttle = Some((2, 1));
    std::fs::write(
        inbox.join("b.ndjson"),
        "{\"ref\":\"r9\",\"Email\":\"erp9@example.com\"}\n",
    )
    .expect("drop");
    let child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "sync",
            PAGED,
            "--mapping",
            "contact",
            "--state",
            s(&state),
            "--left",
            s(&dir.join("erp")),
            "--right",
            "provider:fakecrm",
            "--create",
            "--watch",
            // One pass, then a long sleep: the scrape sees that pass alone.
            "--interval",
            "3600",
            "--metrics",
            "127.0.0.1:0",
        ])
        .env("FAKECRM_BASE_URL", &fake.url)
        .env("FAKECRM_TOKEN", "pat-metrics-1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tether");
    let mut running = Running(child);
    let stderr = running.0.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("tether ended before naming its metrics address")
            .expect("stderr line");
        if let Some(rest) = line.strip_prefix("tether: metrics at http://") {
            break rest.trim_end_matches("/metrics").to_string();
        }
    };
    // Stderr keeps being drained, so the sync never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    // The first pass ends after the 429s are waited out; scraped until
    // it has (bounded: a sync that never passes fails here).
    let mut text = String::new();
    for _ in 0..600 {
        text = get(&addr, "/metrics");
        if value(
            &text,
            r#"tether_passes_total{mapping="contact",result="ok"}"#,
        )
        .is_some()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let expect = [
        // Counters are this process's: r9's second event, and from the CRM
        // r3 (tether's own create: an echo, unchanged) and the contact at
        // the poll cursor, read again (a duplicate).
        (
            r#"tether_events_total{mapping="contact",outcome="read"}"#,
            "3",
        ),
        (
            r#"tether_events_total{mapping="contact",outcome="duplicate"}"#,
            "1",
        ),
        (
            r#"tether_events_total{mapping="contact",outcome="unchanged"}"#,
            "1",
        ),
        (
            r#"tether_events_total{mapping="contact",outcome="waiting"}"#,
            "1",
        ),
        (
            r#"tether_events_total{mapping="contact",outcome="dead_lettered"}"#,
            "0",
        ),
        (
            r#"tether_operations_total{mapping="contact",outcome="sent"}"#,
            "0",
        ),
        // Two 429s, each retried, then the page.
        (
            r#"tether_requests_total{provider="fakecrm",status_class="4xx"}"#,
            "2",
        ),
        (
            r#"tether_requests_total{provider="fakecrm",status_class="2xx"}"#,
            "1",
        ),
        (
            r#"tether_requests_total{provider="fakecrm",status_class="5xx"}"#,
            "0",
        ),
        (r#"tether_retries_total{provider="fakecrm"}"#, "2"),
        (r#"tether_throttles_total{provider="fakecrm"}"#, "2"),
        // Gauges are the store's: the first run's dead letter is still open.
        (r#"tether_dead_letters_open{mapping="contact"}"#, "1"),
        (r#"tether_reviews_open{mapping="contact"}"#, "0"),
        (
            r#"tether_blocked_events{mapping="contact",side="left"}"#,
            "1",
        ),
        (
            r#"tether_backlog_events{mapping="contact",side="left"}"#,
            "0",
        ),
        (
            r#"tether_unacknowledged_operations{mapping="contact",side="right"}"#,
            "0",
        ),
        (r#"tether_passes_total{mapping="contact",result="ok"}"#, "1"),
        (r#"tether_pass_seconds_count{mapping="contact"}"#, "1"),
    ];
    let mut wrong = Vec::new();
    for (series, want) in expect {
        let got = value(&text, series);
        if got != Some(want) {
            wrong.push(format!("{series}: {got:?}, expected {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}\n{text}", wrong.join("\n"));
    let other = get(&addr, "/");
    assert!(other.starts_with("HTTP/1.1 404"), "{other}");
    assert!(!text.contains("pat-metrics-1"), "a secret in the metrics");
}
