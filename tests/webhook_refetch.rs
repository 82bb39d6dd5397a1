//! Refetch and poller pairing over loopback (issue 20, point 3): a real
//! receiver, a real HTTP client, the real `tether` binary, and the
//! CRM-like fake (tests/support/fake_crm.rs) as the API the contacts are
//! read from. HubSpot v3 deliveries name contacts only (`objectId`); the
//! side `webhook:hubspot-v3+provider:fakecrm.contacts` reads each one by
//! its `fetch` before it becomes an event (tests/data/webhook_refetch/).

#[path = "support/fake_crm.rs"]
mod fake_crm;
#[path = "support/fake_http.rs"]
mod fake_http;

#[path = "support/scratch.rs"]
mod scratch;
use base64::Engine as _;
use fake_crm::Crm;
use fake_http::Reply;
use hmac::{Hmac, KeyInit, Mac};
use scratch::Scratch;
use serde_json::{Value as Json, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tether::sync::receiver::{Endpoint, Limits, Receiver};
use tether::sync::store::{OpenMode, SqliteStore};
use tether::webhook::{Preset, PresetConfig};

const MAPPING: &str = "tests/data/webhook_refetch/contacts.tether";
const SECRET: &str = "hubspot-app-client-secret-7f3a";
const TOKEN: &str = "pat-fake-refetch-91b2";
const SIDE: &str = "webhook:hubspot-v3+provider:fakecrm.contacts";

fn scratch(name: &str) -> Scratch {
    Scratch::new("refetch", name)
}

/// HubSpot's v3 signature of a POST of `body` to `url`, now.
fn hubspot_sign(url: &str, body: &[u8]) -> (String, String) {
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
        .to_string();
    let mut mac =
        <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).expect("any key");
    mac.update(b"POST");
    mac.update(url.as_bytes());
    mac.update(body);
    mac.update(ts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (sig, ts)
}

/// POSTs `body` to `to`, signed as if HubSpot had called `signed_url`;
/// the status.
fn post(to: &str, signed_url: &str, body: &[u8]) -> u16 {
    let (sig, ts) = hubspot_sign(signed_url, body);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    agent
        .post(to)
        .header("X-HubSpot-Signature-v3", &sig)
        .header("X-HubSpot-Request-Timestamp", &ts)
        .header("Content-Type", "application/json")
        .send(body)
        .expect("an answer")
        .status()
        .as_u16()
}

/// A HubSpot subscription event about contact `id`.
fn notice(event_id: u64, kind: &str, id: &str, occurred: u64) -> Json {
    json!({
        "eventId": event_id, "subscriptionId": 7, "portalId": 62515, "appId": 1160452,
        "occurredAt": occurred, "subscriptionType": kind, "attemptNumber": 0,
        "objectId": id, "changeSource": "CRM", "propertyName": "email"
    })
}

fn batch(notices: &[Json]) -> Vec<u8> {
    serde_json::to_vec(&Json::Array(notices.to_vec())).expect("json")
}

/// A receiver on a fresh store (the HubSpot v3 endpoint only); the store's
/// path and the endpoint's URL.
fn receiver(dir: &Path) -> (Receiver, PathBuf, String) {
    let state = dir.join("state.db");
    let store = SqliteStore::open(&state, OpenMode::CreateIfMissing).expect("store");
    let config = PresetConfig {
        secrets: vec![tether::http::secret::Secret::new(SECRET)],
        ..PresetConfig::default()
    };
    let endpoint = Endpoint {
        preset: Preset::HubSpotV3,
        verifier: Preset::HubSpotV3.verifier(&config).expect("a verifier"),
        payload: Preset::HubSpotV3.payload(),
    };
    let r = Receiver::start(
        "127.0.0.1:0".parse().expect("addr"),
        vec![endpoint],
        store,
        Limits::default(),
    )
    .expect("listening");
    let url = format!("http://{}/webhooks/hubspot-v3", r.addr());
    (r, state, url)
}

/// Delivers `body` to the in-process receiver, signed for its own URL.
fn deliver(url: &str, body: &[u8]) {
    assert_eq!(post(url, url, body), 200);
}

fn pending(state: &Path) -> u64 {
    SqliteStore::open(state, OpenMode::Existing)
        .expect("store")
        .pending_notices("hubspot-v3")
        .expect("count")
}

fn env(cmd: &mut Command, fake: &str) {
    for (k, _) in std::env::vars() {
        if k.starts_with("FAKECRM_") || k.starts_with("TETHER_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("FAKECRM_BASE_URL", fake)
        .env("FAKECRM_TOKEN", TOKEN)
        .env("TETHER_WEBHOOK_HUBSPOT_V3_SECRET", SECRET)
        .env("TETHER_WEBHOOK_TABBY_SECRET", SECRET);
}

/// One pass, `tether sync --once`: (exit code, its summary, stderr).
fn once(dir: &Path, side: &str, fake: &str) -> (Option<i32>, Json, String) {
    once_from(Path::new(MAPPING), dir, side, fake)
}

/// [`once`] with the mapping read from `file` (a source or a plan).
fn once_from(file: &Path, dir: &Path, side: &str, fake: &str) -> (Option<i32>, Json, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.arg("sync")
        .arg(file)
        .args(["--mapping", "contact", "--state"])
        .arg(dir.join("state.db"))
        .args(["--left", side, "--right"])
        .arg(dir.join("people"))
        .args(["--create", "--once", "--format", "json"]);
    env(&mut cmd, fake);
    let out = cmd.output().expect("run tether");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Json>(l).ok())
        .unwrap_or(Json::Null);
    (
        out.status.code(),
        summary,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn n(summary: &Json, key: &str) -> u64 {
    summary[key].as_u64().unwrap_or(0)
}

/// The people folder's operations, in the order written.
fn people(dir: &Path) -> Vec<Json> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("people").join("outbox"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| {
        !p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
    });
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .expect("outbox file")
                .lines()
                .map(|l| serde_json::from_str::<Json>(l).expect("an operation"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The fake's GETs of one contact.
fn fetches(fake: &fake_http::Fake, id: &str) -> usize {
    let path = format!("/contacts/{id}");
    fake.log()
        .iter()
        .filter(|r| r.method == "GET" && r.path == path)
        .count()
}

fn crm() -> (Arc<Mutex<Crm>>, fake_http::Fake) {
    let crm = Arc::new(Mutex::new(Crm::default()));
    {
        let mut c = crm.lock().expect("crm");
        c.seed(json!({"ref": "R1", "email": "ada@example.com", "firstname": "Ada"}));
        c.seed(json!({"ref": "R2", "email": "alan@example.com", "firstname": "Alan"}));
    }
    let fake = fake_crm::start(Arc::clone(&crm));
    (crm, fake)
}

/// A running `tether sync --watch`: the receiver's URL, the pass
/// summaries and stderr, read by threads (so neither pipe fills).
struct Watch {
    child: std::process::Child,
    url: String,
    summaries: mpsc::Receiver<Json>,
    log: Arc<Mutex<String>>,
}

impl Watch {
    fn start(dir: &Path, side: &str, fake: &str, extra: &[&str], vars: &[(&str, &str)]) -> Watch {
        Watch::start_with(MAPPING, dir, side, fake, extra, vars)
    }

    fn start_with(
        mapping: &str,
        dir: &Path,
        side: &str,
        fake: &str,
        extra: &[&str],
        vars: &[(&str, &str)],
    ) -> Watch {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
        cmd.args(["sync", mapping, "--mapping", "contact", "--state"])
            .arg(dir.join("state.db"))
            .args(["--left", side, "--right"])
            .arg(dir.join("people"))
            .args([
                "--create",
                "--watch",
                "--interval",
                "1",
                "--listen",
                "127.0.0.1:0",
                "--format",
                "json",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        env(&mut cmd, fake);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn tether");
        let (url_tx, url_rx) = mpsc::channel();
        let log = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().expect("stderr");
        let seen = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("tether: receiving webhooks at ") {
                    let _ = url_tx.send(url.to_string());
                }
                if let Ok(mut s) = seen.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        let (sum_tx, summaries) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Json>(&line) {
                    let _ = sum_tx.send(v);
                }
            }
        });
        let Ok(url) = url_rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("no receiver: {}", log.lock().expect("log"));
        };
        Watch {
            child,
            url,
            summaries,
            log,
        }
    }

    /// Sums the passes' `read`, `duplicate`, `dead_lettered` and `sent`
    /// until `sent` reaches `sent` (bounded: a failure, never a hang).
    fn until_sent(&self, sent: u64) -> [u64; 4] {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut total = [0; 4];
        while total[3] < sent {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(s) = self.summaries.recv_timeout(left) else {
                panic!("never synced: {total:?} {}", self.log.lock().expect("log"));
            };
            for (t, key) in total
                .iter_mut()
                .zip(["read", "duplicate", "dead_lettered", "sent"])
            {
                *t += n(&s, key);
            }
        }
        total
    }

    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log.lock().expect("log").clone()
    }
}

/// The operations written to the folder, as (op, key, email), sorted.
fn written(dir: &Path) -> Vec<(String, String, String)> {
    let mut got: Vec<(String, String, String)> = people(dir)
        .iter()
        .map(|o| {
            (
                o["op"].as_str().unwrap_or("").to_string(),
                o["key"].as_str().unwrap_or("").to_string(),
                o["record"]["email"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    got.sort();
    got
}

fn created(key: &str, email: &str) -> (String, String, String) {
    ("create".into(), key.into(), email.into())
}

/// The issue's case, through `sync --watch` behind a (pretend) reverse
/// proxy: HubSpot signs the public URL it called, which the receiver
/// knows from `--public-url`. A batch naming contact c1 three times and
/// c2 once costs one fetch each, with the provider's bearer token, and
/// both reach the folder; a delivery signed for the bound address instead
/// is refused.
#[test]
fn a_signed_hubspot_batch_is_fetched_once_per_contact_and_synced() {
    let dir = scratch("batch");
    let (_crm, fake) = crm();
    let public = "https://hooks.example.com/crm";
    let public_arg = format!("{public}/");
    let watch = Watch::start(&dir, SIDE, &fake.url, &["--public-url", &public_arg], &[]);
    let signed_for = format!("{public}/webhooks/hubspot-v3");
    let body = batch(&[
        notice(101, "contact.propertyChange", "c1", 1_700_000_000_100),
        notice(102, "contact.propertyChange", "c1", 1_700_000_000_101),
        notice(103, "contact.creation", "c2", 1_700_000_000_102),
        notice(104, "contact.propertyChange", "c1", 1_700_000_000_103),
    ]);
    assert_eq!(
        post(&watch.url, &watch.url, &body),
        401,
        "signed for another URL"
    );
    assert_eq!(post(&watch.url, &signed_for, &body), 200);
    let [read, duplicate, dead, _] = watch.until_sent(2);
    let log = watch.stop();

    assert_eq!(fetches(&fake, "c1"), 1, "c1 fetched once");
    assert_eq!(fetches(&fake, "c2"), 1, "c2 fetched once");
    let auth: Vec<String> = fake
        .log()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_string))
        .collect();
    assert!(
        !auth.is_empty() && auth.iter().all(|a| a == &format!("Bearer {TOKEN}")),
        "{auth:?}"
    );
    // Four notices, two records at one version each: two events.
    assert_eq!((read, duplicate, dead), (4, 2, 0));
    assert_eq!(
        written(&dir),
        vec![
            created("crm:c1", "ada@example.com"),
            created("crm:c2", "alan@example.com"),
        ]
    );
    assert!(
        log.contains(&format!("providers call {signed_for}")),
        "{log}"
    );
    assert!(!log.contains(SECRET) && !log.contains(TOKEN), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// N-Genius, which never retries, with its static secret in the header
/// chosen at registration (`TETHER_WEBHOOK_N_GENIUS_HEADER`) and a poller
/// as its safety net: the notified order is fetched, the one never
/// notified is found by the poller, and the one both saw is one event.
#[test]
fn n_genius_with_a_poller_syncs_what_the_webhook_missed() {
    let dir = scratch("ngenius");
    let (_crm, fake) = crm();
    let secret = "ngenius-shared-2b7e";
    let watch = Watch::start(
        &dir,
        "webhook:n-genius+provider:fakecrm.contacts+poll",
        &fake.url,
        &[],
        &[
            ("TETHER_WEBHOOK_N_GENIUS_SECRET", secret),
            ("TETHER_WEBHOOK_N_GENIUS_HEADER", "X-Ngenius-Token"),
        ],
    );
    let body = br#"{"eventId":"e-1","eventName":"PURCHASED","order":{"reference":"c1"}}"#;
    let send = |token: &str| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        agent
            .post(&watch.url)
            .header("X-Ngenius-Token", token)
            .header("Content-Type", "application/json")
            .send(&body[..])
            .expect("an answer")
            .status()
            .as_u16()
    };
    assert_eq!(send("not-it"), 401);
    assert_eq!(send(secret), 200);
    // Whichever came first, the poller's read or the notice's fetch: wait
    // for both, and for the end of the pass that fetched.
    let total = watch.until_sent(2);
    let deadline = Instant::now() + Duration::from_secs(90);
    while fetches(&fake, "c1") == 0 {
        assert!(Instant::now() < deadline, "never fetched");
        let _ = watch.summaries.recv_timeout(Duration::from_secs(1));
    }
    let _ = watch.summaries.recv_timeout(Duration::from_secs(90));
    let log = watch.stop();
    assert_eq!(fetches(&fake, "c1"), 1, "{log}");
    assert_eq!(
        written(&dir),
        vec![
            created("crm:c1", "ada@example.com"),
            created("crm:c2", "alan@example.com"),
        ],
        "{total:?}"
    );
    assert!(!log.contains(secret), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Salesforce outbound message (SOAP, no signature: known by its
/// organisation id from `TETHER_WEBHOOK_SALESFORCE_OUTBOUND_ORGANISATIONS`,
/// and no secret needed): each `Notification`'s `sObject.Id` is fetched,
/// the answer is Salesforce's SOAP acknowledgement, and a message from
/// another organisation is refused.
#[test]
fn a_salesforce_outbound_message_is_acknowledged_and_fetched() {
    let dir = scratch("salesforce");
    let (_crm, fake) = crm();
    let watch = Watch::start(
        &dir,
        "webhook:salesforce-outbound+provider:fakecrm.contacts",
        &fake.url,
        &[],
        &[(
            "TETHER_WEBHOOK_SALESFORCE_OUTBOUND_ORGANISATIONS",
            "00D5e000000AbCd",
        )],
    );
    let message = |org: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k5e000000AbCdAAK</ActionId>
   <Notification><Id>04l5e000001XyZaAAK</Id><sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>c2</sf:Id></sObject></Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"#
        )
    };
    let send = |body: String| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut r = agent
            .post(&watch.url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", "\"\"")
            .send(body.as_bytes())
            .expect("an answer");
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_string().unwrap_or_default())
    };
    assert_eq!(send(message("00D5e000000XxXxEAF")).0, 401);
    let (status, ack) = send(message("00D5e000000AbCdEAF"));
    assert_eq!(status, 200);
    assert!(ack.contains("<Ack>true</Ack>"), "{ack}");
    watch.until_sent(1);
    watch.stop();
    assert_eq!(fetches(&fake, "c2"), 1);
    assert_eq!(written(&dir), vec![created("crm:c2", "alan@example.com")]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A contact the API no longer has (404): a notice that said deleted is a
/// delete; any other is a dead letter saying the record is gone.
#[test]
fn a_fetch_404_is_a_delete_or_a_dead_letter() {
    let dir = scratch("gone");
    let (crm, fake) = crm();
    let (r, state, url) = receiver(&dir);
    deliver(&url, &batch(&[notice(201, "contact.creation", "c2", 10)]));
    let (code, s, err) = once(&dir, SIDE, &fake.url);
    assert_eq!((code, n(&s, "sent")), (Some(0), 1), "{s} {err}");

    crm.lock()
        .expect("crm")
        .contacts
        .retain(|c| c["id"] != "c2");
    // The deletion's `occurredAt` does not order against the record's
    // version (here it is below it, as epoch milliseconds are below an
    // RFC 3339 `updatedAt` compared as text): the delete is not stale.
    deliver(
        &url,
        &batch(&[
            notice(202, "contact.deletion", "c2", 1),
            notice(203, "contact.propertyChange", "c9", 21),
        ]),
    );
    drop(r);
    let (code, s, err) = once(&dir, SIDE, &fake.url);
    // A dead letter makes the run's exit say so (3).
    assert_eq!(code, Some(3), "{s} {err}");
    assert_eq!((n(&s, "dead_lettered"), n(&s, "sent")), (1, 1), "{s}");
    assert_eq!(pending(&state), 0, "both notices were taken");
    let ops = people(&dir);
    let last = ops.last().expect("an operation");
    assert_eq!(
        (&last["op"], &last["key"]),
        (&json!("delete"), &json!("crm:c2"))
    );

    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "dlq",
            "list",
            "--format",
            "json",
            "--mapping",
            "contact",
            "--state",
        ])
        .arg(&state)
        .output()
        .expect("dlq list");
    let letters = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(letters.lines().count(), 1, "{letters}");
    assert!(
        letters.contains("GET /contacts/{id} answered 404")
            && letters.contains("`c9` is gone")
            && letters.contains("did not say it was deleted"),
        "{letters}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A notice's id is the sender's text: it is one path segment,
/// percent-encoded (`a/b` is `/contacts/a%2Fb`), and an id that would
/// address another resource (`..`) is never sent; both are dead letters.
#[test]
fn a_notice_id_cannot_change_the_fetched_path() {
    let dir = scratch("path");
    let (_crm, fake) = crm();
    let (r, _state, url) = receiver(&dir);
    deliver(
        &url,
        &batch(&[
            notice(501, "contact.propertyChange", "..", 10),
            notice(502, "contact.propertyChange", "a/b", 11),
        ]),
    );
    drop(r);
    let (code, s, err) = once(&dir, SIDE, &fake.url);
    assert_eq!((code, n(&s, "dead_lettered")), (Some(3), 2), "{s} {err}");
    let paths: Vec<String> = fake.log().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, vec!["/contacts/a%2Fb".to_string()]);
    assert!(people(&dir).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The API failing (5xx after the retries) leaves the notice in the inbox:
/// nothing is synced or dead-lettered, and the next pass, with the API
/// back (and the mapping read from a plan file this time), syncs it.
#[test]
fn a_fetch_5xx_keeps_the_notice_for_the_next_pass() {
    let dir = scratch("down");
    let (crm, fake) = crm();
    let (r, state, url) = receiver(&dir);
    deliver(
        &url,
        &batch(&[notice(301, "contact.propertyChange", "c1", 10)]),
    );
    drop(r);
    crm.lock().expect("crm").down = true;
    let (code, s, err) = once(&dir, SIDE, &fake.url);
    assert_ne!(code, Some(0), "a side that failed: {s} {err}");
    assert!(err.contains("refetch") && err.contains("503"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");
    assert_eq!(pending(&state), 1, "the notice waits");
    assert!(people(&dir).is_empty());
    // 2 attempts (`retry max 2`), then the pass gave up.
    assert_eq!(fetches(&fake, "c1"), 2);

    // The next pass from a plan file: the fetch is part of the plan.
    let plan = dir.join("contacts.plan");
    let built = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["build", "--output"])
        .arg(&plan)
        .arg(MAPPING)
        .output()
        .expect("tether build");
    assert!(built.status.success(), "{built:?}");
    crm.lock().expect("crm").down = false;
    let (code, s, err) = once_from(&plan, &dir, SIDE, &fake.url);
    assert_eq!(
        (code, n(&s, "sent"), n(&s, "dead_lettered")),
        (Some(0), 1, 0),
        "{s} {err}"
    );
    assert_eq!(pending(&state), 0);
    let ops = people(&dir);
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (&ops[0]["op"], &ops[0]["key"]),
        (&json!("create"), &json!("crm:c1"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A safety-net poller beside the webhook (`+poll`): the same change
/// delivered twice (the retry is a duplicate in the inbox), announced again
/// under another event id, and read by the poller, is one event, applied
/// once; the next pass, the poller reading it again, applies nothing.
#[test]
fn a_duplicate_delivery_and_the_poller_make_one_event() {
    let dir = scratch("pair");
    let (crm, fake) = crm();
    crm.lock()
        .expect("crm")
        .contacts
        .retain(|c| c["id"] == "c1");
    let (r, state, url) = receiver(&dir);
    let change = batch(&[notice(401, "contact.propertyChange", "c1", 10)]);
    deliver(&url, &change);
    deliver(&url, &change);
    deliver(
        &url,
        &batch(&[notice(402, "contact.propertyChange", "c1", 11)]),
    );
    drop(r);
    assert_eq!(pending(&state), 2, "the retry was a duplicate in the inbox");
    let paired = format!("{SIDE}+poll");
    let (code, s, err) = once(&dir, &paired, &fake.url);
    assert_eq!(code, Some(0), "{s} {err}");
    // Two notices and the poller's read of the same version: one event.
    assert_eq!((n(&s, "read"), n(&s, "duplicate")), (3, 2), "{s}");
    assert_eq!(fetches(&fake, "c1"), 1);
    assert!(
        fake.log()
            .iter()
            .any(|r| r.path.starts_with("/contacts?since=")),
        "the poller read"
    );
    let (code, s, err) = once(&dir, &paired, &fake.url);
    assert_eq!(code, Some(0), "{s} {err}");
    assert_eq!(n(&s, "sent"), 0, "{s}");
    let ops = people(&dir);
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(
        (&ops[0]["op"], &ops[0]["key"]),
        (&json!("create"), &json!("crm:c1"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A provider's `webhook` clause replaces the preset's shape: notices of
/// the provider's own form (HubSpot's `eventId` and `objectId` absent)
/// are read by its paths, fetched by `contact.ref`, and a `*.removed` one
/// whose contact is gone is a delete.
#[test]
fn a_declared_webhook_clause_reads_notices_of_its_own_shape() {
    let dir = scratch("declared");
    let (crm, fake) = crm();
    let watch = Watch::start_with(
        "tests/data/webhook_refetch/declared.tether",
        &dir,
        SIDE,
        &fake.url,
        &[],
        &[],
    );
    let own = |id: &str, kind: &str, occurred: u64, contact: &str| json!({"id": id, "kind": kind, "occurred": occurred, "contact": {"ref": contact}});
    let body = batch(&[own("n1", "contact.changed", 5, "c1")]);
    assert_eq!(post(&watch.url, &watch.url, &body), 200);
    let [_, _, dead, _] = watch.until_sent(1);
    assert_eq!(fetches(&fake, "c1"), 1);
    crm.lock()
        .expect("crm")
        .contacts
        .retain(|c| c["id"] != "c1");
    let body = batch(&[own("n2", "contact.removed", 6, "c1")]);
    assert_eq!(post(&watch.url, &watch.url, &body), 200);
    watch.until_sent(1);
    watch.stop();
    assert_eq!(dead, 0);
    let ops: Vec<(Json, Json)> = people(&dir)
        .iter()
        .map(|o| (o["op"].clone(), o["key"].clone()))
        .collect();
    assert_eq!(
        ops,
        vec![
            (json!("create"), json!("crm:c1")),
            (json!("delete"), json!("crm:c1"))
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What cannot work is refused before anything starts (exit 2), by name.
#[test]
fn a_paired_side_that_cannot_work_is_refused_at_start() {
    let dir = scratch("refused");
    let (_crm, fake) = crm();
    for (side, says) in [
        ("webhook:hubspot-v3", "+provider:NAME.resource"),
        ("webhook:hubspot-v3+provider:nosuch", "no provider `nosuch`"),
        ("webhook:hubspot-v3+poll", "`+poll` polls a resource"),
        ("webhook:hubspot-v3+provider:fakecrm+frob", "`+frob` is not"),
        ("webhook:stripe+provider:fakecrm", "only with `+poll`"),
        (
            "webhook:tabby+provider:fakecrm",
            "TETHER_WEBHOOK_TABBY_HEADER",
        ),
        (
            "webhook:salesforce-outbound+provider:fakecrm",
            "TETHER_WEBHOOK_SALESFORCE_OUTBOUND_ORGANISATIONS",
        ),
    ] {
        let (code, _, err) = once(&dir, side, &fake.url);
        assert_eq!(code, Some(2), "{side}: {err}");
        assert!(err.contains(says), "{side}: {err}");
    }
    assert!(fake.log().is_empty(), "nothing was sent");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tether dlq list --format json` of the contact mapping: its lines.
fn dead_letters(state: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "dlq",
            "list",
            "--format",
            "json",
            "--mapping",
            "contact",
            "--state",
        ])
        .arg(state)
        .output()
        .expect("dlq list");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A misbehaving provider (hostile review): answers larger than the
/// client reads, with more JSON values than tether parses, not JSON, empty,
/// or echoing the token in a refusal. Each is that record's dead letter,
/// fetched once, and none holds up the notice behind it; no dead letter or
/// store file holds the token or the webhook secret.
#[test]
fn a_misbehaving_provider_dead_letters_one_record_and_the_rest_go_on() {
    let dir = scratch("hostile-answers");
    let fake = fake_http::Fake::start(|r| {
        let good = |id: &str| {
            format!(
                r#"{{"id":"{id}","properties":{{"ref":"R-{id}","email":"{id}@example.com"}},"updatedAt":5}}"#
            )
        };
        match r.path.as_str() {
            // More than the client's 16 MiB cap.
            "/contacts/huge" => Reply {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: format!(r#"{{"id":"huge","pad":"{}"}}"#, "x".repeat(17 << 20)).into_bytes(),
            },
            // 2.4 MB, and more than a million values.
            "/contacts/many" => Reply::json(
                200,
                &format!(
                    r#"{{"id":"many","properties":{{"ref":"R9"}},"pad":[{}0]}}"#,
                    "0,".repeat(1_200_000)
                ),
            ),
            "/contacts/text" => Reply::json(200, "<html>oops</html>"),
            "/contacts/empty" => Reply::json(200, ""),
            "/contacts/echo" => Reply::json(
                422,
                &format!(r#"{{"message":"no such contact for token {TOKEN}"}}"#),
            ),
            "/contacts/c1" => Reply::json(200, &good("c1")),
            _ => Reply::json(404, r#"{"message":"not found"}"#),
        }
    });
    let (r, state, url) = receiver(&dir);
    deliver(
        &url,
        &batch(&[
            notice(601, "contact.propertyChange", "huge", 10),
            notice(602, "contact.propertyChange", "many", 11),
            notice(603, "contact.propertyChange", "text", 12),
            notice(604, "contact.propertyChange", "empty", 13),
            notice(605, "contact.propertyChange", "echo", 14),
            // A URL longer than HTTP can carry: never sent, and anyone
            // who can post a notice could write one.
            notice(607, "contact.propertyChange", &"7".repeat(70_000), 16),
            notice(606, "contact.propertyChange", "c1", 15),
        ]),
    );
    // Ids that are each one path segment, whatever they hold.
    let odd = ["%2e%2e", "a?b=1", "a#b", "\u{e9}\u{202e}x", "a\u{1b}[31m"];
    let odd: Vec<Json> = odd
        .iter()
        .enumerate()
        .map(|(i, id)| notice(610 + i as u64, "contact.propertyChange", id, 17))
        .collect();
    deliver(&url, &batch(&odd));
    drop(r);
    let (code, s, err) = once(&dir, SIDE, &fake.url);
    assert_eq!(
        (code, n(&s, "dead_lettered"), n(&s, "sent")),
        (Some(3), 11, 1),
        "{s} {err}"
    );
    let mut paths: Vec<String> = fake
        .log()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| {
            !["huge", "many", "text", "empty", "echo", "c1"]
                .iter()
                .any(|k| p.ends_with(&format!("/{k}")))
        })
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "/contacts/%252e%252e",
            "/contacts/%C3%A9%E2%80%AEx",
            "/contacts/a%1B%5B31m",
            "/contacts/a%23b",
            "/contacts/a%3Fb%3D1",
        ],
        "the long id is never sent"
    );
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err}"
    );
    assert_eq!(pending(&state), 0, "every notice was taken");
    assert_eq!(fetches(&fake, "huge"), 1, "not retried: {err}");
    assert_eq!(
        written(&dir),
        vec![created("crm:c1", "c1@example.com")],
        "{err}"
    );
    let letters = dead_letters(&state);
    for why in [
        "larger than 16777216 bytes",
        "more than 1000000 JSON values",
        "the answer is not JSON",
        "answered 422",
        "cannot be built",
    ] {
        assert!(letters.contains(why), "{why}: {letters}");
    }
    assert!(
        !letters.contains(TOKEN) && !err.contains(TOKEN),
        "{letters}"
    );
    for file in std::fs::read_dir(&dir).expect("dir").flatten() {
        if file.path().is_file() {
            let bytes = std::fs::read(file.path()).expect("a file");
            for secret in [TOKEN, SECRET] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret} in {}",
                    file.path().display()
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A plan edited by hand (its body hash recomputed) cannot make a fetch
/// change the provider (a `DELETE` for every notice) nor read one fixed
/// record for every notice (no `{id}`): refused on loading, nothing sent.
#[test]
fn a_forged_plan_cannot_turn_a_fetch_into_another_request() {
    let dir = scratch("forged-fetch");
    let (_crm, fake) = crm();
    let plan = dir.join("contacts.plan");
    let built = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["build", "--output"])
        .arg(&plan)
        .arg(MAPPING)
        .output()
        .expect("tether build");
    assert!(built.status.success(), "{built:?}");
    let text = std::fs::read_to_string(&plan).expect("plan");
    let (head, body) = text.split_once('\n').expect("header line");
    let mut header: Json = serde_json::from_str(head).expect("header");
    let (r, _state, url) = receiver(&dir);
    deliver(
        &url,
        &batch(&[notice(701, "contact.propertyChange", "c1", 10)]),
    );
    drop(r);
    let forgeries: [(&str, Json); 3] = [
        ("method", json!("DELETE")),
        ("path", json!("/contacts/me")),
        ("path", json!("/contacts/{cursor}")),
    ];
    for (member, value) in forgeries {
        let mut forged: Json = serde_json::from_str(body.trim_end()).expect("body");
        let request = &mut forged["providers"][0]["resources"][0]["fetch"]["request"];
        assert!(request.get(member).is_some(), "{request}");
        request[member] = value;
        let forged_body = forged.to_string();
        header["body_hash"] = tether::plan::file::body_hash(&forged_body).into();
        let file = dir.join("forged.plan");
        std::fs::write(&file, format!("{header}\n{forged_body}\n")).expect("write");
        let (code, s, err) = once_from(&file, &dir, SIDE, &fake.url);
        assert_eq!(code, Some(2), "{member}: {s} {err}");
        assert!(err.contains("a fetch is a GET"), "{member}: {err}");
    }
    assert!(
        fake.log().is_empty(),
        "nothing sent: {:?}",
        fake.log().len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The inbox's bound counts a delivery's own notices: one batch larger
/// than what may wait for a pass is answered 429 and stores nothing, as a
/// notice arriving at a full inbox is.
#[test]
fn one_batch_cannot_overfill_the_inbox() {
    let dir = scratch("overfill");
    let state = dir.join("state.db");
    let store = SqliteStore::open(&state, OpenMode::CreateIfMissing).expect("store");
    let config = PresetConfig {
        secrets: vec![tether::http::secret::Secret::new(SECRET)],
        ..PresetConfig::default()
    };
    let endpoint = Endpoint {
        preset: Preset::HubSpotV3,
        verifier: Preset::HubSpotV3.verifier(&config).expect("a verifier"),
        payload: Preset::HubSpotV3.payload(),
    };
    let limits = Limits {
        max_pending: 3,
        ..Limits::default()
    };
    let r = Receiver::start(
        "127.0.0.1:0".parse().expect("addr"),
        vec![endpoint],
        store,
        limits,
    )
    .expect("listening");
    let url = format!("http://{}/webhooks/hubspot-v3", r.addr());
    let four: Vec<Json> = (0..4)
        .map(|i| notice(800 + i, "contact.propertyChange", &format!("c{i}"), 1))
        .collect();
    assert_eq!(post(&url, &url, &batch(&four)), 429);
    assert_eq!(pending(&state), 0, "nothing of it stored");
    assert_eq!(post(&url, &url, &batch(&four[..3])), 200);
    assert_eq!(pending(&state), 3);
    assert_eq!(post(&url, &url, &batch(&four[3..])), 429);
    drop(r);
    let _ = std::fs::remove_dir_all(&dir);
}
