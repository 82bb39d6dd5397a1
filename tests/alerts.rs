//! Alerts (issue 22, step 3): each rule fires once and resolves, against a
//! loopback receiver that verifies every notification with tether's own
//! Standard Webhooks verifier (`webhook::preset`) as the oracle. Each
//! `sync --once` is a new process, so every step is also a restart; time
//! is simulated by moving the instants the store keeps, never waited for.

mod common;

#[path = "support/scratch.rs"]
mod scratch;
use common::tether;
use rusqlite::Connection;
use scratch::Scratch;
use serde_json::Value as Json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tether::http::secret::Secret;
use tether::sync::store::{OpenBreaker, OpenMode, SqliteStore, Store};
use tether::webhook::{Headers, Preset, PresetConfig};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// A test secret (not a credential of anything): base64 of
/// `tether alert test key 0123456789`.
const SECRET: &str = "whsec_dGV0aGVyIGFsZXJ0IHRlc3Qga2V5IDAxMjM0NTY3ODk=";
const SECRET_B64: &str = "dGV0aGVyIGFsZXJ0IHRlc3Qga2V5IDAxMjM0NTY3ODk=";

fn scratch(name: &str) -> Scratch {
    Scratch::new("alerts", name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// One notification as the receiver saw it.
#[derive(Clone, Debug)]
struct Seen {
    id: String,
    body: Json,
    /// Whether the receiver took it (answered 204) or was down (503).
    taken: bool,
    /// Whether the Standard Webhooks verifier accepted its signature.
    verified: bool,
}

/// A loopback receiver that verifies each POST with the Standard Webhooks
/// preset and records it; `down` makes it answer 503.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    down: Arc<AtomicBool>,
}

impl Receiver {
    fn start() -> Receiver {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("listen");
        let url = format!("http://{}/alerts", server.server_addr());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let down = Arc::new(AtomicBool::new(false));
        let verifier = Preset::StandardWebhooks
            .verifier(&PresetConfig {
                secrets: vec![Secret::new(SECRET)],
                ..PresetConfig::default()
            })
            .expect("verifier");
        let (seen2, down2, url2) = (seen.clone(), down.clone(), url.clone());
        // The thread ends with the test binary; each request is bounded
        // by tether's own send timeout.
        std::thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut body = Vec::new();
                let _ = request.as_reader().read_to_end(&mut body);
                let mut headers = Headers::new();
                for h in request.headers() {
                    headers.push(
                        h.field.as_str().as_str(),
                        h.value.as_str().as_bytes().to_vec(),
                    );
                }
                let delivery = tether::webhook::Delivery {
                    method: "POST",
                    url: &url2,
                    headers: &headers,
                    body: &body,
                };
                // Recorded, not asserted here: a panic on this thread
                // would not fail the test; `seen` checks it.
                let verified = verifier.verify(&delivery, SystemTime::now()).is_ok();
                let id = headers
                    .one("webhook-id")
                    .ok()
                    .flatten()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default();
                let taken = !down2.load(Ordering::SeqCst);
                seen2.lock().expect("seen").push(Seen {
                    id,
                    body: serde_json::from_slice(&body).expect("JSON body"),
                    taken,
                    verified,
                });
                let _ = request.respond(tiny_http::Response::empty(if taken { 204 } else { 503 }));
            }
        });
        Receiver { url, seen, down }
    }

    /// Everything POSTed so far; every one must carry a good signature.
    fn seen(&self) -> Vec<Seen> {
        let seen = self.seen.lock().expect("seen").clone();
        assert!(
            seen.iter().all(|s| s.verified),
            "a signature was refused: {seen:?}"
        );
        seen
    }

    /// What was taken, as (type, rule, subject).
    fn taken(&self) -> Vec<(String, String, String)> {
        self.seen()
            .iter()
            .filter(|s| s.taken)
            .map(|s| {
                let d = &s.body["data"];
                (
                    s.body["type"].as_str().unwrap_or("?").to_string(),
                    d["rule"].as_str().unwrap_or("?").to_string(),
                    d["subject"].as_str().unwrap_or("?").to_string(),
                )
            })
            .collect()
    }
}

fn t(kind: &str, rule: &str, subject: &str) -> (String, String, String) {
    (kind.into(), rule.into(), subject.into())
}

/// The README's CRM folders; `contacts` copies its inbox files (two of
/// the contacts are dead letters).
fn crm(dir: &Path, contacts: bool) {
    for (side, file) in [
        ("hubspot", "hubspot_contacts.ndjson"),
        ("salesforce", "salesforce_contacts.ndjson"),
    ] {
        let inbox = dir.join(side).join("inbox");
        std::fs::create_dir_all(&inbox).expect("inbox");
        if contacts {
            std::fs::copy(
                Path::new(ROOT).join("mappings/crm").join(file),
                inbox.join(file),
            )
            .expect("copy");
        }
    }
}

/// One pass (a new process: a restart) with `extra` flags; exit code and
/// everything it printed.
fn pass(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mapping = Path::new(ROOT).join("mappings/crm/hubspot_salesforce.tether");
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "sync",
            s(&mapping),
            "--mapping",
            "contact",
            "--state",
            s(&dir.join("state.db")),
            "--left",
            s(&dir.join("hubspot")),
            "--right",
            s(&dir.join("salesforce")),
            "--once",
        ])
        .args(extra)
        .env("TETHER_ALERT_SECRET", SECRET)
        .output()
        .expect("run tether");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains(SECRET_B64), "the secret was printed: {text}");
    (out.status.code(), text)
}

/// Moves a table's instants `by` into the past (the simulated clock).
fn age_rows(state: &Path, table: &str, column: &str, by: Duration) {
    let conn = Connection::open(state).expect("open");
    let rows: Vec<(i64, String)> = conn
        .prepare(&format!(
            "SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL"
        ))
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (id, at) in rows {
        let moved = chrono::DateTime::parse_from_rfc3339(&at).expect("instant")
            - chrono::Duration::from_std(by).expect("duration");
        conn.execute(
            &format!("UPDATE {table} SET {column} = ?2 WHERE rowid = ?1"),
            rusqlite::params![
                id,
                moved.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ],
        )
        .expect("update");
    }
}

fn no_secret_in_state(state: &Path) {
    let bytes = std::fs::read(state).expect("state");
    for secret in [SECRET_B64.as_bytes(), SECRET.as_bytes()] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "the secret is in the store"
        );
    }
}

#[test]
fn error_rate_and_old_dead_letters_fire_once_and_resolve_across_restarts() {
    let dir = scratch("letters");
    crm(&dir, true);
    let receiver = Receiver::start();
    let flags = [
        "--alert",
        "dead-letters-older=1h",
        "--alert",
        "error-rate=0.1/15m",
        "--alert-url",
        &receiver.url,
    ];
    // 2 of 9 events dead-lettered now: the error rate fires; the dead
    // letters are minutes old, not an hour.
    let (code, out) = pass(&dir, &flags);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("alert fired: mapping `contact`: 2 dead letter(s) for 9 event(s)"),
        "{out}"
    );
    assert_eq!(
        receiver.taken(),
        [t("alert.fired", "error-rate", "contact")]
    );

    // A restart with nothing new: nothing fires again.
    let (_, out) = pass(&dir, &flags);
    assert!(!out.contains("alert fired"), "{out}");
    assert_eq!(receiver.taken().len(), 1);

    // Two hours on: the dead letters are out of the error window (the
    // rate resolves) and older than an hour (that rule fires).
    let state = dir.join("state.db");
    age_rows(
        &state,
        "dead_letters",
        "created_at",
        Duration::from_secs(7200),
    );
    age_rows(&state, "inbox", "received_at", Duration::from_secs(7200));
    pass(&dir, &flags);
    assert_eq!(
        receiver.taken(),
        [
            t("alert.fired", "error-rate", "contact"),
            t("alert.resolved", "error-rate", "contact"),
            t("alert.fired", "dead-letters-older", "contact"),
        ]
    );
    pass(&dir, &flags);
    assert_eq!(receiver.taken().len(), 3, "a restart fired again");

    // A person discards the dead letters: the rule resolves.
    for id in 1..=2 {
        let (code, _, err) = tether(&[
            "dlq",
            "discard",
            &id.to_string(),
            "--state",
            s(&state),
            "--mapping",
            "contact",
        ]);
        assert_eq!(code, Some(0), "{err}");
    }
    let (code, out) = pass(&dir, &flags);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("alert resolved: mapping `contact`"), "{out}");
    let seen = receiver.seen();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(
        receiver.taken()[3],
        t("alert.resolved", "dead-letters-older", "contact")
    );
    // Each transition has its own id, and the resolution names the
    // incident its firing did.
    let mut ids: Vec<&str> = seen.iter().map(|s| s.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "{seen:?}");
    assert_eq!(
        seen[0].body["data"]["incident"],
        seen[1].body["data"]["incident"]
    );
    assert!(seen[1].body["data"]["resolved_at"].is_string());
    no_secret_in_state(&state);

    // Resolved incidents go with retention's 30 days, and nothing is sent
    // again for them.
    age_rows(
        &state,
        "alerts",
        "resolved_at",
        Duration::from_secs(31 * 86_400),
    );
    pass(&dir, &flags);
    let kept: i64 = Connection::open(&state)
        .expect("open")
        .query_row("SELECT COUNT(*) FROM alerts", [], |r| r.get(0))
        .expect("count");
    assert_eq!(kept, 0);
    assert_eq!(receiver.seen().len(), 4);
}

#[test]
fn a_breaker_held_open_and_silent_webhooks_fire_and_a_receiver_that_was_down_gets_them_later() {
    let dir = scratch("breaker");
    crm(&dir, false);
    let state = dir.join("state.db");
    {
        let mut store = SqliteStore::open(&state, OpenMode::CreateIfMissing).expect("store");
        store
            .set_breaker(
                "gateway",
                Some(OpenBreaker {
                    until: SystemTime::now() + Duration::from_secs(3600),
                    cooldown: Duration::from_secs(600),
                }),
            )
            .expect("breaker");
    }
    let delivery = |at: chrono::DateTime<chrono::Utc>, id: &str| {
        let conn = Connection::open(&state).expect("open");
        conn.execute(
            "INSERT INTO deliveries (endpoint, event_id, received_at, status)
             VALUES ('stripe', ?1, ?2, 'taken')",
            rusqlite::params![id, at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)],
        )
        .expect("delivery");
    };
    delivery(chrono::Utc::now() - chrono::Duration::hours(1), "evt_1");
    let receiver = Receiver::start();
    receiver.down.store(true, Ordering::SeqCst);
    let flags = [
        "--alert",
        "breaker-open-longer=10m",
        "--alert",
        "no-webhooks-for=30m",
        "--alert-url",
        &receiver.url,
    ];
    // The endpoint has been silent for an hour: fired, but the receiver
    // is down, so it is owed. The breaker is newly seen: not yet.
    let (code, out) = pass(&dir, &flags);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("not taken, retried after the next pass"),
        "{out}"
    );
    let refused = receiver.seen();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(!refused[0].taken);
    assert_eq!(refused[0].body["data"]["rule"], "no-webhooks-for");

    // Twenty minutes on, the receiver back: the owed notification comes
    // under the same id, and the breaker, open since, fires.
    age_rows(&state, "alerts", "since", Duration::from_secs(1200));
    receiver.down.store(false, Ordering::SeqCst);
    pass(&dir, &flags);
    let mut fired = receiver.taken();
    fired.sort();
    assert_eq!(
        fired,
        [
            t("alert.fired", "breaker-open-longer", "gateway"),
            t("alert.fired", "no-webhooks-for", "stripe"),
        ]
    );
    let retried: Vec<Seen> = receiver
        .seen()
        .into_iter()
        .filter(|s| s.taken && s.body["data"]["rule"] == "no-webhooks-for")
        .collect();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].id, refused[0].id, "the retry's id changed");
    pass(&dir, &flags);
    assert_eq!(receiver.taken().len(), 2, "a restart fired again");

    // The breaker closes, a delivery arrives: both resolve.
    SqliteStore::open(&state, OpenMode::Existing)
        .expect("store")
        .set_breaker("gateway", None)
        .expect("close");
    delivery(chrono::Utc::now(), "evt_2");
    pass(&dir, &flags);
    let mut resolved: Vec<_> = receiver.taken().split_off(2);
    resolved.sort();
    assert_eq!(
        resolved,
        [
            t("alert.resolved", "breaker-open-longer", "gateway"),
            t("alert.resolved", "no-webhooks-for", "stripe"),
        ]
    );
    no_secret_in_state(&state);
}

#[test]
fn the_command_sink_gets_the_alert_on_stdin_without_the_secret() {
    let dir = scratch("command");
    crm(&dir, true);
    let out = dir.join("alerts.ndjson");
    let env = dir.join("env.txt");
    let script = dir.join("sink.sh");
    let mark = dir.join("failed-once");
    std::fs::write(
        &script,
        format!(
            // The first run fails: the alert is owed, and taken by the
            // run after the next pass.
            "#!/bin/sh\nif [ ! -e '{}' ]; then touch '{}'; exit 1; fi\n\
             env > '{}'\ncat >> '{}'\necho >> '{}'\n",
            mark.display(),
            mark.display(),
            env.display(),
            out.display(),
            out.display()
        ),
    )
    .expect("script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let flags = [
        "--alert",
        "error-rate=0.1/15m",
        "--alert-command",
        s(&script),
    ];
    let (_, first) = pass(&dir, &flags);
    assert!(first.contains("exited with"), "{first}");
    assert!(!out.exists());
    pass(&dir, &flags);
    pass(&dir, &flags);
    let text = std::fs::read_to_string(&out).expect("the command ran");
    let lines: Vec<Json> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["type"], "alert.fired");
    assert_eq!(lines[0]["data"]["rule"], "error-rate");
    let env = std::fs::read_to_string(&env).expect("env");
    assert!(
        !env.contains("TETHER_ALERT_SECRET"),
        "the command got the secret"
    );
}

#[test]
fn alert_flags_are_checked_before_anything_runs() {
    let dir = scratch("flags");
    crm(&dir, false);
    let (code, out) = pass(&dir, &["--alert", "credential-expires-within=7d"]);
    assert_eq!(code, Some(2));
    assert!(out.contains("not available"), "{out}");
    let (code, out) = pass(
        &dir,
        &[
            "--alert",
            "error-rate=0.2/15m",
            "--alert-url",
            "http://127.0.0.1:9/",
        ],
    );
    // The secret is set in `pass`: this one is accepted.
    assert_eq!(code, Some(0), "{out}");
    let mapping = Path::new(ROOT).join("mappings/crm/hubspot_salesforce.tether");
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "sync",
            s(&mapping),
            "--mapping",
            "contact",
            "--state",
            s(&dir.join("fresh.db")),
            "--left",
            s(&dir.join("hubspot")),
            "--right",
            s(&dir.join("salesforce")),
            "--alert",
            "error-rate=0.2/15m",
            "--alert-url",
            "http://127.0.0.1:9/",
        ])
        .env_remove("TETHER_ALERT_SECRET")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("set TETHER_ALERT_SECRET"),
        "{out:?}"
    );
    // Refused before anything was created.
    assert!(!dir.join("fresh.db").exists());
}

#[test]
fn watching_logs_a_heartbeat_with_the_pass_counts() {
    let dir = scratch("heartbeat");
    crm(&dir, true);
    let mapping = Path::new(ROOT).join("mappings/crm/hubspot_salesforce.tether");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "sync",
            s(&mapping),
            "--mapping",
            "contact",
            "--state",
            s(&dir.join("state.db")),
            "--left",
            s(&dir.join("hubspot")),
            "--right",
            s(&dir.join("salesforce")),
            "--watch",
            "--interval",
            "1",
            "--heartbeat",
            "1s",
            "--log-format",
            "json",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    // Lines are read on a thread, so a sync that never beats fails the
    // test at the deadline instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut beat = None;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        if line.contains("heartbeat") {
            beat = Some(line);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let beat: Json = serde_json::from_str(&beat.expect("a heartbeat line")).expect("JSON");
    assert_eq!(beat["level"], "INFO");
    // The first pass read the 9 contacts and is counted in the first beat.
    assert!(beat["passes"].as_u64().is_some_and(|p| p >= 1), "{beat}");
    assert_eq!(beat["read"], 9, "{beat}");
    assert_eq!(beat["dead_lettered"], 2, "{beat}");
}
