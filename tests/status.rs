//! `tether status` (issue 22, step 1) after scripted scenarios: the
//! figures equal what the scenario made, and the exit code says what a
//! monitor must do (0 healthy, 3 open work, 4 a sync not keeping up).

mod common;

#[path = "support/scratch.rs"]
mod scratch;
use common::tether;
use scratch::Scratch;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use tether::sync::store::{OpenBreaker, OpenMode, SqliteStore, Store};

fn scratch(name: &str) -> Scratch {
    Scratch::new("status", name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The README's folder tour, first pass: HubSpot and Salesforce contacts,
/// two of which are dead-lettered. The store's path.
fn crm_pass(dir: &Path) -> PathBuf {
    for (side, file) in [
        ("hubspot", "hubspot_contacts.ndjson"),
        ("salesforce", "salesforce_contacts.ndjson"),
    ] {
        let inbox = dir.join(side).join("inbox");
        std::fs::create_dir_all(&inbox).expect("inbox");
        std::fs::copy(
            Path::new(ROOT).join("mappings/crm").join(file),
            inbox.join(file),
        )
        .expect("copy");
    }
    let state = dir.join("state.db");
    let mapping = Path::new(ROOT).join("mappings/crm/hubspot_salesforce.tether");
    let (code, _, err) = tether(&[
        "sync",
        s(&mapping),
        "--mapping",
        "contact",
        "--state",
        s(&state),
        "--left",
        s(&dir.join("hubspot")),
        "--right",
        s(&dir.join("salesforce")),
        "--once",
    ]);
    assert_eq!(code, Some(3), "{err}");
    state
}

fn status(state: &Path, extra: &[&str]) -> (Option<i32>, Json) {
    let (code, out, err) =
        tether(&[&["status", "--state", s(state), "--format", "json"], extra].concat());
    assert!(err.is_empty(), "{err}");
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
    )
}

#[test]
fn a_missing_store_is_a_usage_error_not_an_empty_report() {
    let dir = scratch("missing");
    let (code, out, err) = tether(&["status", "--state", s(&dir.join("nope.db"))]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert!(err.contains("no such state store"), "{err}");
    assert!(!dir.join("nope.db").exists(), "status created a store");
}

#[test]
fn open_dead_letters_are_open_work_exit_3_with_their_count_and_age() {
    let dir = scratch("dlq");
    let state = crm_pass(&dir);
    let (code, report) = status(&state, &[]);
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(report["healthy"], false);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0]["kind"], "open_work");
    assert_eq!(findings[0]["mapping"], "contact");
    let m = &report["mappings"][0];
    assert_eq!(m["name"], "contact");
    assert_eq!(m["dead_letters"]["count"], 2, "{m}");
    assert!(m["dead_letters"]["oldest"].is_string(), "{m}");
    assert_eq!(m["reviews"]["count"], 0);
    assert!(m["last_ok"].is_string(), "the pass was recorded: {m}");
    assert_eq!(m["last_failed"], Json::Null);
    // A folder side acknowledges what it writes, and every event was merged.
    for side in m["sides"].as_array().expect("sides") {
        assert_eq!(side["received"]["count"], 0, "{side}");
        assert_eq!(side["unacknowledged"]["count"], 0, "{side}");
    }
    // The human form leads with what needs a person.
    let (code, human, _) = tether(&["status", "--state", s(&state)]);
    assert_eq!(code, Some(3));
    assert!(
        human.starts_with("needs a person:\n  contact: 2 dead letter(s) (oldest "),
        "{human}"
    );
    assert!(
        human.contains("mapping contact\n  last good pass: "),
        "{human}"
    );
}

#[test]
fn a_breaker_left_open_and_a_sync_that_never_passed_exit_4() {
    let dir = scratch("breaker");
    let state = dir.join("state.db");
    {
        let mut store = SqliteStore::open(&state, OpenMode::CreateIfMissing).expect("store");
        store.register_mapping("charges").expect("register");
        store
            .record_pass(
                "charges",
                Err("provider `gateway` is down: 503 after 5 attempts"),
            )
            .expect("record");
        let until = std::time::SystemTime::now() + std::time::Duration::from_secs(600);
        store
            .set_breaker(
                "gateway",
                Some(OpenBreaker {
                    until,
                    cooldown: std::time::Duration::from_secs(600),
                }),
            )
            .expect("breaker");
    }
    let (code, report) = status(&state, &[]);
    assert_eq!(code, Some(4), "{report}");
    let kinds: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(kinds, ["not_syncing", "breaker_open"], "{report}");
    assert_eq!(report["mappings"][0]["last_ok"], Json::Null);
    assert_eq!(
        report["mappings"][0]["last_failed"]["error"],
        "provider `gateway` is down: 503 after 5 attempts"
    );
    assert_eq!(report["breakers"][0]["provider"], "gateway");

    // A good pass since, the breaker closed: healthy, exit 0.
    {
        let mut store = SqliteStore::open(&state, OpenMode::Existing).expect("store");
        store.record_pass("charges", Ok(())).expect("record");
        store.set_breaker("gateway", None).expect("close");
    }
    let (code, report) = status(&state, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["healthy"], true);
    let (_, human, _) = tether(&["status", "--state", s(&state)]);
    assert!(
        human.starts_with("healthy\n\nmapping charges\n  last good pass: "),
        "{human}"
    );
}
