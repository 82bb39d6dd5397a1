//! A crash anywhere in a sync with a REST side loses nothing and makes
//! nothing twice (issue 19; docs/design/10-rest-providers.md, "Crashes").
//! The real `tether` binary syncs an ERP folder with the CRM-like fake
//! (tests/support/fake_crm.rs, read two contacts a page) and is aborted
//! at a fail point (`TETHER_FAILPOINT`, an abort: no handler runs, as
//! with `kill -9`), then run again. The end state (the fake's contacts,
//! what reached the folder side, the store's counts) is the one an
//! uninterrupted run leaves, and every create reached the fake once.
//!
//! Reading: between a page fetched and its events stored
//! (`page-fetched`), and after a page is stored, before the next is
//! asked for (`page-stored`). Writing: after the outbox rows are written
//! (`merge-done`) and numbered (`outbox-assigned`), after the provider
//! made a record and before that is acknowledged (`rest-sent`), and after
//! the acknowledgement (`ack-stored`). A last test kills the process with
//! SIGKILL at growing delays while a slow provider answers, and one
//! crashes between two pages whose records share a cursor value.

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
use rest_cli::{contacts_by_ref, counts, outbox_records, s, scratch, sync_args, tether};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MAPPING: &str = "tests/data/rest_faults/contacts_paged.tether";
/// The same provider with creates made safe by a lookup, not a key.
const LOOKUP: &str = "tests/data/rest_faults/contacts_lookup.tether";
const TOKEN: &str = "pat-crash-5e2a";

/// The end state of a scenario, compared whole.
#[derive(Debug, PartialEq)]
struct End {
    contacts: BTreeMap<String, Vec<Json>>,
    erp: BTreeMap<String, Vec<Json>>,
    counts: BTreeMap<String, i64>,
}

struct World {
    dir: rest_cli::Scratch,
    crm: Arc<Mutex<Crm>>,
    fake: Faulty,
    mapping: &'static str,
}

impl World {
    /// Five contacts on the CRM (three pages), three customers in the
    /// folder's inbox.
    fn new(name: &str, slow: Option<Duration>) -> World {
        let dir = scratch("rest-crash", name);
        let crm = Arc::new(Mutex::new(Crm::default()));
        {
            let mut c = crm.lock().expect("crm");
            c.page_size = Some(2);
            for n in 1..=5 {
                c.seed(json!({
                    "ref": format!("r{n}"),
                    "email": format!("crm{n}@example.com"),
                    "firstname": format!("Crm{n}"),
                }));
            }
        }
        let handler = crm.clone();
        let fake = Faulty::start(
            move |r| {
                if let Some(d) = slow {
                    std::thread::sleep(d);
                }
                fake_crm::handle(&handler, r)
            },
            |_, _| None,
        );
        let world = World {
            dir,
            crm,
            fake,
            mapping: MAPPING,
        };
        world.drop_customers("a.ndjson", 6..=8);
        world
    }

    fn erp(&self) -> PathBuf {
        self.dir.join("erp")
    }

    fn state(&self) -> PathBuf {
        self.dir.join("state.db")
    }

    fn drop_customers(&self, file: &str, refs: std::ops::RangeInclusive<u32>) {
        let inbox = self.erp().join("inbox");
        std::fs::create_dir_all(&inbox).expect("inbox");
        let lines: String = refs
            .map(|n| {
                format!(
                    "{}\n",
                    json!({"ref": format!("r{n}"), "Email": format!("erp{n}@example.com"), "Name": format!("Erp{n}")})
                )
            })
            .collect();
        std::fs::write(inbox.join(file), lines).expect("drop");
    }

    /// One pass; `failpoint`: abort there.
    fn run(&self, failpoint: Option<&str>) -> rest_cli::Run {
        let (state, erp) = (self.state(), self.erp());
        let mut env = vec![
            ("FAKECRM_BASE_URL", self.fake.url.as_str()),
            ("FAKECRM_TOKEN", TOKEN),
        ];
        if let Some(p) = failpoint {
            env.push(("TETHER_FAILPOINT", p));
        }
        tether(
            &self.dir,
            &sync_args(self.mapping, s(&state), s(&erp)),
            &env,
        )
    }

    fn ok(&self, what: &str) {
        let run = self.run(None);
        assert_eq!(run.code, Some(0), "{what}: {}\n{}", run.out, run.err);
    }

    fn crash(&self, point: &str) {
        let run = self.run(Some(point));
        assert_ne!(run.code, Some(0), "{point}: the run was not aborted");
        assert!(
            run.err.contains(&format!("fail point `{point}` reached")),
            "{point}: {}",
            run.err
        );
    }

    fn end(&self) -> End {
        End {
            contacts: contacts_by_ref(&self.crm.lock().expect("crm").contacts),
            erp: outbox_records(&self.erp()),
            counts: counts(&self.state()),
        }
    }

    /// Every create the fake applied came under its own idempotency key,
    /// and each record was made once.
    fn made_once(&self, what: &str) {
        let crm = self.crm.lock().expect("crm");
        let mut keys = std::collections::BTreeSet::new();
        let mut refs = std::collections::BTreeSet::new();
        for (key, r) in &crm.made {
            if self.mapping == MAPPING {
                assert!(key.is_some(), "{what}: a create without its key");
                assert!(keys.insert(key.clone()), "{what}: key {key:?} made twice");
            }
            assert!(refs.insert(r.clone()), "{what}: {r:?} made twice");
        }
    }
}

/// Where the scenario crashes: in the first pass (which reads the CRM's
/// pages) or the second (which creates two more contacts on it).
#[derive(Clone, Copy, PartialEq)]
enum Pass {
    Reading,
    Writing,
}

/// The scenario: a first pass (five contacts read into the folder, three
/// customers created on the CRM), two customers more, a second pass, and
/// a quiet third. `crash`: abort at this point in that pass, then run it
/// again.
fn scenario(name: &str, crash: Option<(&str, Pass)>) -> World {
    scenario_with(MAPPING, name, crash)
}

fn scenario_with(mapping: &'static str, name: &str, crash: Option<(&str, Pass)>) -> World {
    let mut w = World::new(name, None);
    w.mapping = mapping;
    if let Some((point, Pass::Reading)) = crash {
        w.crash(point);
    }
    w.ok("the first pass");
    w.drop_customers("b.ndjson", 9..=10);
    if let Some((point, Pass::Writing)) = crash {
        w.crash(point);
    }
    w.ok("the second pass");
    let quiet = w.run(None);
    assert_eq!(quiet.code, Some(0), "{}", quiet.err);
    assert_eq!(quiet.summary()["sent"], json!(0), "the third pass is quiet");
    w
}

fn clean(tag: &str) -> End {
    let w = scenario(&format!("clean-{tag}"), None);
    let end = w.end();
    assert_eq!(end.contacts.len(), 10, "{:?}", end.contacts);
    assert!(end.contacts.values().all(|c| c.len() == 1));
    let mut keys: Vec<&String> = end.erp.keys().collect();
    keys.sort();
    assert_eq!(keys, ["r1", "r2", "r3", "r4", "r5"], "{:?}", end.erp);
    w.made_once("clean");
    assert_eq!(w.crm.lock().expect("crm").made.len(), 5);
    end
}

fn check(point: &str, pass: Pass, clean: &End) {
    let w = scenario(point, Some((point, pass)));
    w.made_once(point);
    let end = w.end();
    assert_eq!(end.contacts, clean.contacts, "{point}: the CRM's contacts");
    assert_eq!(end.erp, clean.erp, "{point}: what reached the folder");
    assert_eq!(end.counts, clean.counts, "{point}: the store's counts");
}

#[test]
fn a_crash_while_reading_pages_resumes_to_the_same_end() {
    let clean = clean("reading");
    for point in ["page-fetched", "page-stored"] {
        check(point, Pass::Reading, &clean);
    }
}

#[test]
fn a_crash_while_writing_makes_nothing_twice_and_ends_the_same() {
    let clean = clean("writing");
    for point in ["merge-done", "outbox-assigned", "rest-sent", "ack-stored"] {
        check(point, Pass::Writing, &clean);
    }
}

/// SIGKILL at growing delays, each run resuming where the last was cut,
/// against a provider that takes 30 ms an answer (so the kills land
/// among requests); then one run to the end.
#[cfg(unix)]
#[test]
fn sigkill_at_any_moment_then_rerun_ends_as_a_clean_run() {
    let clean = clean("sigkill");
    let w = World::new("sigkill", Some(Duration::from_millis(30)));
    let (state, erp) = (w.state(), w.erp());
    let args = sync_args(MAPPING, s(&state), s(&erp));
    let mut kills = 0;
    let mut phase_two = false;
    for attempt in 0..12u64 {
        if attempt == 6 {
            w.drop_customers("b.ndjson", 9..=10);
            phase_two = true;
        }
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(&args)
            .env("FAKECRM_BASE_URL", &w.fake.url)
            .env("FAKECRM_TOKEN", TOKEN)
            .env_remove("TETHER_FAILPOINT")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(40 + (attempt % 6) * 70));
        if child.try_wait().expect("wait").is_none() {
            // SIGKILL: no handler runs.
            child.kill().expect("kill");
            kills += 1;
        }
        child.wait().expect("reap");
    }
    assert!(phase_two);
    assert!(kills > 0, "at least one run was killed mid-pass");
    w.ok("the run after the kills");
    w.ok("the second run");
    let quiet = w.run(None);
    assert_eq!(quiet.summary()["sent"], json!(0), "{}", quiet.err);
    w.made_once("sigkill");
    let end = w.end();
    assert_eq!(end.contacts, clean.contacts);
    assert_eq!(end.erp, clean.erp);
}

/// Contacts sharing a cursor value across a page boundary (modified at
/// 1, 2 | 2, 2 | 3, two a page): a crash after the first page is stored,
/// whose checkpoint is that shared value, reads from it again
/// (inclusive), so the two on the next page are neither lost nor doubled.
#[test]
fn records_sharing_a_cursor_across_a_page_boundary_survive_a_crash_between_pages() {
    let tied = |name: &str| {
        let w = World::new(name, None);
        let mut crm = w.crm.lock().expect("crm");
        for (contact, at) in crm.contacts.iter_mut().zip([1, 2, 2, 2, 3]) {
            contact["updatedAt"] = json!(at);
        }
        drop(crm);
        w
    };
    let clean = tied("ties-clean");
    clean.ok("the clean pass");
    let crashed = tied("ties-crashed");
    crashed.crash("page-stored");
    let asked_first = crashed.fake.log().len();
    crashed.ok("the pass after the crash");
    // The rerun asks from the stored cursor, the shared value, inclusive.
    let resumed = &crashed.fake.log()[asked_first];
    assert_eq!(resumed.path, "/contacts?since=2", "{resumed:?}");
    let (clean, crashed_end) = (clean.end(), crashed.end());
    let keys: Vec<&String> = crashed_end.erp.keys().collect();
    assert_eq!(
        keys,
        ["r1", "r2", "r3", "r4", "r5"],
        "{:?}",
        crashed_end.erp
    );
    assert!(crashed_end.erp.values().all(|ops| ops.len() == 1));
    assert_eq!(crashed_end.erp, clean.erp);
    assert_eq!(crashed_end.contacts, clean.contacts);
    crashed.made_once("ties");
}

/// A provider without idempotency keys: a create made just before the
/// crash is found by its lookup when the batch goes again, and linked,
/// not made a second time.
#[test]
fn a_crash_after_a_lookup_safe_create_finds_it_instead_of_making_it_again() {
    let clean = scenario_with(LOOKUP, "lookup-clean", None).end();
    for point in ["outbox-assigned", "rest-sent", "ack-stored"] {
        let w = scenario_with(
            LOOKUP,
            &format!("lookup-{point}"),
            Some((point, Pass::Writing)),
        );
        w.made_once(point);
        let lookups = w
            .fake
            .log()
            .iter()
            .filter(|r| r.method == "GET" && r.path.contains("?idProperty=ref"))
            .count();
        // Both creates of the batch go again looked up first (their
        // outcome is unknown): one is found (made before the crash), the
        // other is not. Acknowledged before the crash: nothing to look up.
        let expected = if point == "ack-stored" { 0 } else { 2 };
        assert_eq!(lookups, expected, "{point}: lookups");
        let end = w.end();
        assert_eq!(end.contacts, clean.contacts, "{point}: the CRM's contacts");
        assert_eq!(end.erp, clean.erp, "{point}: what reached the folder");
        assert_eq!(end.counts, clean.counts, "{point}: the store's counts");
    }
}
