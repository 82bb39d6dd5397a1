//! Faults a REST provider throws at a sync, through the real `tether`
//! binary (issue 19; docs/design/10-rest-providers.md, "The hard cases"):
//! a 429 storm with `Retry-After`, a burst of 5xx, a connection reset, a
//! body that stalls past the request timeout, an access token expiring
//! mid-run, a refresh token rotated on each use, and a provider down long
//! enough to open the breaker, then back. The provider is the CRM-like
//! fake (tests/support/fake_crm.rs, two contacts a page) behind the
//! fault-injecting loopback server (tests/support/fault_http.rs), whose
//! log says when each request arrived. Every fault is injected from
//! outside the binary: none needs the library.
//!
//! After each: every record synced once (five contacts read into the
//! folder, three customers created on the CRM), no create under two
//! idempotency keys and none made twice, nothing lost. Waits are checked
//! in the fake's log with a tolerance, never by timing tether.

#[path = "support/fake_crm.rs"]
mod fake_crm;
#[path = "support/fake_http.rs"]
mod fake_http;
#[path = "support/fault_http.rs"]
mod fault_http;
#[path = "support/rest_cli.rs"]
mod rest_cli;

use fake_crm::{Crm, OAuth};
use fake_http::Logged;
use fault_http::{Fault, Faulty};
use rest_cli::{contacts_by_ref, outbox_records, s, scratch, sync_args, tether};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PAGED: &str = "tests/data/rest_faults/contacts_paged.tether";
const OAUTH: &str = "tests/data/rest_faults/contacts_oauth.tether";
const LOOKUP: &str = "tests/data/rest_faults/contacts_lookup.tether";
const BUDGET: &str = "tests/data/rest_faults/contacts_budget.tether";
const TOKEN: &str = "pat-faults-93b1";
const CLIENT_SECRET: &str = "client-secret-4410";

/// Clocks of two processes read the same monotonic source; this absorbs
/// rounding, not tether being early.
const TOLERANCE: Duration = Duration::from_millis(20);

struct World {
    dir: rest_cli::Scratch,
    crm: Arc<Mutex<Crm>>,
    fake: Faulty,
    mapping: &'static str,
}

type Rule = dyn Fn(usize, &Logged) -> Option<Fault> + Send + Sync;

impl World {
    /// Five contacts on the CRM (three pages), three customers in the
    /// folder's inbox; `setup` adds the misbehaviour, `rule` the faults
    /// below HTTP.
    fn new(
        name: &str,
        mapping: &'static str,
        setup: impl FnOnce(&mut Crm),
        rule: Box<Rule>,
    ) -> World {
        let dir = scratch("rest-faults", name);
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
            setup(&mut c);
        }
        let handler = crm.clone();
        let fake = Faulty::start(move |r| fake_crm::handle(&handler, r), rule);
        let inbox = dir.join("erp/inbox");
        std::fs::create_dir_all(&inbox).expect("inbox");
        let lines: String = (6..=8)
            .map(|n| {
                format!(
                    "{}\n",
                    json!({"ref": format!("r{n}"), "Email": format!("erp{n}@example.com"), "Name": format!("Erp{n}")})
                )
            })
            .collect();
        std::fs::write(inbox.join("customers.ndjson"), lines).expect("drop");
        World {
            dir,
            crm,
            fake,
            mapping,
        }
    }

    fn refresh_file(&self) -> PathBuf {
        self.dir.join("refresh.secret")
    }

    fn run(&self) -> rest_cli::Run {
        let refresh = self.refresh_file();
        self.run_with(&[("FAKECRM_REFRESH_TOKEN_FILE", s(&refresh))])
    }

    /// A run with the base, the token and the client's id and secret in
    /// the environment, and `more`.
    fn run_with(&self, more: &[(&str, &str)]) -> rest_cli::Run {
        let (state, erp) = (self.dir.join("state.db"), self.dir.join("erp"));
        let mut env = vec![
            ("FAKECRM_BASE_URL", self.fake.url.as_str()),
            ("FAKECRM_TOKEN", TOKEN),
            ("FAKECRM_CLIENT_ID", "tether-tests"),
            ("FAKECRM_CLIENT_SECRET", CLIENT_SECRET),
        ];
        env.extend_from_slice(more);
        tether(
            &self.dir,
            &sync_args(self.mapping, s(&state), s(&erp)),
            &env,
        )
    }

    /// Runs until one succeeds while the breaker a failure opened (3 s at
    /// first) still refuses; bounded.
    fn ok_after_breaker(&self, what: &str) {
        for _ in 0..12 {
            let run = self.run();
            if run.code == Some(0) {
                return;
            }
            assert!(
                run.err.contains("circuit breaker is open"),
                "{what}: {}\n{}",
                run.out,
                run.err
            );
            std::thread::sleep(Duration::from_secs(1));
        }
        panic!("{what}: the breaker never let a run through");
    }

    fn ok(&self, what: &str) -> rest_cli::Run {
        let run = self.run();
        assert_eq!(run.code, Some(0), "{what}: {}\n{}", run.out, run.err);
        for secret in [TOKEN, CLIENT_SECRET, "refresh-", "access-"] {
            assert!(
                !run.out.contains(secret) && !run.err.contains(secret),
                "{what}: a secret was printed: {}",
                run.err
            );
        }
        run
    }

    /// Every record synced once, nothing made twice, no create under two
    /// keys, and a further pass sends nothing.
    fn synced_once(&self, what: &str) {
        let quiet = self.ok(what);
        assert_eq!(quiet.summary()["sent"], json!(0), "{what}: {}", quiet.out);
        let crm = self.crm.lock().expect("crm");
        let contacts = contacts_by_ref(&crm.contacts);
        let refs: Vec<&String> = contacts.keys().collect();
        assert_eq!(
            refs,
            ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"],
            "{what}"
        );
        for n in 6..=8 {
            assert_eq!(
                contacts[&format!("r{n}")],
                [
                    json!({"ref": format!("r{n}"), "email": format!("erp{n}@example.com"), "firstname": format!("Erp{n}")})
                ],
                "{what}: r{n} made once, as the folder has it"
            );
        }
        let mut keys = BTreeSet::new();
        for (key, r) in &crm.made {
            assert!(keys.insert(key.clone()), "{what}: {r:?} made twice");
        }
        assert_eq!(crm.made.len(), 3, "{what}: {:?}", crm.made);
        // Each create's every attempt under one key.
        let mut keys_by_ref: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in self.fake.log() {
            if r.method == "POST" && r.path == "/contacts" {
                let body: Json = serde_json::from_slice(&r.body).unwrap_or(Json::Null);
                keys_by_ref
                    .entry(body["properties"]["ref"].as_str().unwrap_or("").into())
                    .or_default()
                    .insert(r.header("idempotency-key").unwrap_or("").into());
            }
        }
        assert_eq!(keys_by_ref.len(), 3, "{what}: {keys_by_ref:?}");
        for (r, keys) in &keys_by_ref {
            assert_eq!(keys.len(), 1, "{what}: {r} sent under {keys:?}");
        }
        drop(crm);
        let erp = outbox_records(&self.dir.join("erp"));
        let keys: Vec<&String> = erp.keys().collect();
        assert_eq!(keys, ["r1", "r2", "r3", "r4", "r5"], "{what}: {erp:?}");
        for (key, ops) in &erp {
            assert_eq!(ops.len(), 1, "{what}: {key} written {ops:?}");
        }
    }

    fn reads(&self) -> Vec<String> {
        self.fake
            .log()
            .iter()
            .filter(|r| r.method == "GET")
            .map(|r| r.path.clone())
            .collect()
    }
}

fn no_faults() -> Box<Rule> {
    Box::new(|_, _| None)
}

#[test]
fn a_429_storm_is_waited_out_as_retry_after_says() {
    let w = World::new("429", PAGED, |c| c.throttle = Some((3, 1)), no_faults());
    w.ok("the storm's pass");
    let log = w.fake.timed();
    assert!(log.len() > 3, "{}", log.len());
    for i in 0..3 {
        // Each 429 said `Retry-After: 1`: the provider heard nothing for
        // a second.
        let gap = log[i + 1].0.duration_since(log[i].0);
        assert!(
            gap + TOLERANCE >= Duration::from_secs(1),
            "request {} came {gap:?} after a 429 asking for 1 s",
            i + 1
        );
    }
    // The same page asked for until it was answered, then the others.
    let reads = w.reads();
    assert!(reads[..4].iter().all(|p| p == &reads[0]), "{reads:?}");
    w.synced_once("after the 429 storm");
}

#[test]
fn a_5xx_burst_and_a_lost_create_answer_are_retried_without_doubling() {
    let w = World::new(
        "5xx",
        PAGED,
        |c| {
            c.burst = 3;
            c.lose = 1;
        },
        no_faults(),
    );
    w.ok("the burst's pass");
    // The first page asked for until it was answered.
    let reads = w.reads();
    assert!(reads[..4].iter().all(|p| p == &reads[0]), "{reads:?}");
    let posts = w.fake.log().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 4, "three creates, one of them sent again");
    w.synced_once("after the 5xx burst");
}

#[test]
fn a_reset_and_a_stalled_body_are_retried_without_doubling() {
    // The first read and the first create: reset before any answer. The
    // second page and the second create: the answer's body stalls past
    // the 1 s request timeout (the create was made: the retry must get
    // the first answer, not a second contact).
    let posts = Arc::new(Mutex::new(0u32));
    let gets = Arc::new(Mutex::new(0u32));
    let rule = move |_: usize, r: &Logged| -> Option<Fault> {
        let counter = match r.method.as_str() {
            "POST" => &posts,
            "GET" => &gets,
            _ => return None,
        };
        let mut n = counter.lock().ok()?;
        *n += 1;
        match *n {
            1 => Some(Fault::Reset),
            2 => Some(Fault::SlowBody(Duration::from_secs(3))),
            _ => None,
        }
    };
    let w = World::new("reset", PAGED, |_| {}, Box::new(rule));
    w.ok("the faulty pass");
    let log = w.fake.timed();
    let faults: Vec<(String, Option<Fault>)> = log
        .iter()
        .map(|(_, r, f)| (r.method.clone(), *f))
        .filter(|(_, f)| f.is_some())
        .collect();
    assert_eq!(faults.len(), 4, "{faults:?}");
    // The stalled read was given up and asked again.
    let reads = w.reads();
    assert_eq!(reads[0], reads[1], "the reset read sent again: {reads:?}");
    assert_eq!(reads[1], reads[2], "the stalled read sent again: {reads:?}");
    w.synced_once("after the reset and the stall");
}

#[test]
fn an_expiring_token_is_refreshed_once_and_a_rotated_refresh_token_is_kept() {
    let w = World::new(
        "oauth",
        OAUTH,
        |c| {
            c.oauth = Some(OAuth {
                refresh: "refresh-1".into(),
                rotate: true,
                expire_after: Some(3),
                ..OAuth::default()
            });
        },
        no_faults(),
    );
    std::fs::write(w.refresh_file(), "refresh-1\n").expect("refresh token file");
    w.ok("the first pass");
    {
        let crm = w.crm.lock().expect("crm");
        let oauth = crm.oauth.as_ref().expect("oauth");
        assert!(oauth.unauthorized >= 1, "the token expired mid-run");
        // Each refresh token presented once: a rotated one is never used
        // again (the provider has revoked it).
        let presented: BTreeSet<&String> = oauth.presented.iter().collect();
        assert_eq!(
            presented.len(),
            oauth.presented.len(),
            "{:?}",
            oauth.presented
        );
        assert_eq!(
            oauth.presented.len() as u32,
            oauth.unauthorized + 1,
            "one token at the start, one refresh per 401"
        );
        // The newest refresh token is in the file for the next run.
        let kept = std::fs::read_to_string(w.refresh_file()).expect("file");
        assert_eq!(kept.trim(), oauth.refresh);
    }
    // One token request at the start and one per 401, none more.
    let tokens = w
        .fake
        .log()
        .iter()
        .filter(|r| r.path == "/oauth/token")
        .count();
    let unauthorized = w
        .crm
        .lock()
        .expect("crm")
        .oauth
        .as_ref()
        .map_or(0, |o| o.unauthorized);
    assert_eq!(tokens as u32, unauthorized + 1);
    // The next run starts from the kept token.
    w.synced_once("the run after rotation");
    let crm = w.crm.lock().expect("crm");
    let oauth = crm.oauth.as_ref().expect("oauth");
    let presented: BTreeSet<&String> = oauth.presented.iter().collect();
    assert_eq!(
        presented.len(),
        oauth.presented.len(),
        "{:?}",
        oauth.presented
    );
}

#[test]
fn a_provider_down_opens_the_breaker_and_the_sync_resumes_when_it_is_back() {
    let w = World::new("down", PAGED, |c| c.down = true, no_faults());
    let first = w.run();
    assert_ne!(first.code, Some(0), "{}", first.err);
    let failed = w.fake.timed();
    // `retry max 4`: the read tried four times, then the breaker opened.
    assert_eq!(failed.len(), 4, "{}", failed.len());
    let opened = failed[3].0;
    let second = w.run();
    assert_ne!(second.code, Some(0));
    assert!(
        second.err.contains("circuit breaker is open until") || w.fake.timed().len() > 4,
        "{}",
        second.err
    );
    w.crm.lock().expect("crm").down = false;
    // Back: a run after the cooldown gets through. Bounded: the cooldown
    // is 3 s, and a run that still finds the breaker open waits a second.
    let mut tries = 0;
    loop {
        tries += 1;
        let run = w.run();
        if run.code == Some(0) {
            break;
        }
        assert!(
            run.err.contains("circuit breaker is open") && tries < 12,
            "{}\n{}",
            run.out,
            run.err
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    // Nothing reached the provider while the breaker was open: the first
    // request after the failures came at least the cooldown later.
    let log = w.fake.timed();
    assert!(log.len() > 4);
    let gap = log[4].0.duration_since(opened);
    assert!(
        gap + TOLERANCE >= Duration::from_secs(3),
        "a request {gap:?} after the breaker opened for 3 s"
    );
    w.synced_once("after the provider came back");
}

#[test]
fn an_empty_page_with_a_next_token_is_followed() {
    let w = World::new(
        "empty-page",
        PAGED,
        |c| c.empty_page_at = Some(2),
        no_faults(),
    );
    w.ok("the pass");
    let reads = w.reads();
    assert!(
        reads.iter().any(|p| p.contains("after=2.e")),
        "the empty page's next token followed: {reads:?}"
    );
    w.synced_once("past an empty page");
}

#[test]
fn a_retry_after_date_is_read_against_the_servers_date() {
    let w = World::new(
        "429-date",
        PAGED,
        |c| {
            c.throttle = Some((1, 2));
            c.throttle_as_date = true;
        },
        no_faults(),
    );
    w.ok("the pass");
    let log = w.fake.timed();
    // `Retry-After` two seconds past the server's `Date`.
    let gap = log[1].0.duration_since(log[0].0);
    assert!(
        gap + TOLERANCE >= Duration::from_secs(2),
        "the retry came {gap:?} after a 429 asking for 2 s"
    );
    assert_eq!(log[0].1.path, log[1].1.path);
    w.synced_once("after the dated 429");
}

/// A create safe by lookup (no idempotency key) whose answer stalls past
/// the timeout may have been made: it is not sent again in that pass, and
/// the next one looks it up, finds it and links it, so it is made once.
#[test]
fn a_stalled_create_answer_is_looked_up_not_made_twice() {
    let posts = Arc::new(Mutex::new(0u32));
    let rule = move |_: usize, r: &Logged| -> Option<Fault> {
        if r.method != "POST" {
            return None;
        }
        let mut n = posts.lock().ok()?;
        *n += 1;
        (*n == 1).then_some(Fault::SlowBody(Duration::from_secs(3)))
    };
    let w = World::new("lookup", LOOKUP, |_| {}, Box::new(rule));
    let first = w.run();
    assert_ne!(first.code, Some(0), "the create's outcome is unknown");
    let posts_first = w.fake.log().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts_first, 1, "not sent again after an unknown outcome");
    let made = w.crm.lock().expect("crm").made.clone();
    assert_eq!(made.len(), 1, "the stalled create was made: {made:?}");
    let stalled = made[0].1.clone().expect("a ref");
    w.ok_after_breaker("the pass after");
    let log = w.fake.log();
    let lookup = format!("/contacts/{stalled}?idProperty=ref");
    assert!(
        log.iter().any(|r| r.method == "GET" && r.path == lookup),
        "looked up by its ref: {:?}",
        log.iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    );
    let crm = w.crm.lock().expect("crm");
    let refs: Vec<&Option<String>> = crm.made.iter().map(|(_, r)| r).collect();
    assert_eq!(refs.len(), 3, "{refs:?}");
    let unique: BTreeSet<&Option<String>> = refs.iter().copied().collect();
    assert_eq!(unique.len(), 3, "made once each: {refs:?}");
    assert_eq!(contacts_by_ref(&crm.contacts).len(), 8);
    assert!(
        contacts_by_ref(&crm.contacts)
            .values()
            .all(|c| c.len() == 1)
    );
}

#[test]
fn a_second_401_after_a_refresh_stops_the_side() {
    let w = World::new(
        "401-twice",
        OAUTH,
        |c| {
            c.oauth = Some(OAuth {
                refresh: "refresh-1".into(),
                // Every access token is refused as soon as it is issued.
                expire_after: Some(0),
                ..OAuth::default()
            });
        },
        no_faults(),
    );
    std::fs::write(w.refresh_file(), "refresh-1\n").expect("refresh token file");
    let run = w.run();
    assert_ne!(run.code, Some(0));
    assert!(run.err.contains("401 twice"), "{}", run.err);
    let lines: Vec<String> = w
        .fake
        .log()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    // A token, the read, one refresh, the read once more: then stopped.
    assert_eq!(
        lines,
        [
            "POST /oauth/token",
            "GET /contacts?since=0",
            "POST /oauth/token",
            "GET /contacts?since=0"
        ]
    );
    assert!(!run.err.contains("access-") && !run.err.contains("refresh-"));
}

#[test]
fn a_rotating_refresh_token_must_come_from_a_file_and_a_revoked_one_asks_for_consent() {
    let w = World::new(
        "rotation-rules",
        OAUTH,
        |c| {
            c.oauth = Some(OAuth {
                refresh: "refresh-7".into(),
                rotate: true,
                ..OAuth::default()
            });
        },
        no_faults(),
    );
    // From the environment, a rotated token would be lost when the
    // process ends: refused before any request.
    let run = w.run_with(&[("FAKECRM_REFRESH_TOKEN", "refresh-7")]);
    assert_eq!(run.code, Some(2), "{}", run.err);
    assert!(
        run.err.contains("FAKECRM_REFRESH_TOKEN_FILE"),
        "{}",
        run.err
    );
    assert!(!run.err.contains("refresh-7"));
    assert!(w.fake.log().is_empty(), "no request");

    // A token the provider no longer honours (rotated by a run whose
    // file was restored from a backup): stop, and say a person must
    // authorise again.
    std::fs::write(w.refresh_file(), "refresh-6\n").expect("refresh token file");
    let run = w.run();
    assert_ne!(run.code, Some(0));
    assert!(
        run.err.contains("fakecrm") && run.err.contains("authorise tether again"),
        "{}",
        run.err
    );
    assert!(!run.err.contains("refresh-6"), "{}", run.err);
    let lines: Vec<String> = w.fake.log().iter().map(|r| r.path.clone()).collect();
    assert_eq!(lines, ["/oauth/token"], "nothing else sent");
    assert_eq!(
        std::fs::read_to_string(w.refresh_file()).expect("file"),
        "refresh-6\n",
        "the file left as it was"
    );
}

/// `budget 3 per 1s`, retries included: no four requests of a run reach
/// the provider within one second (receipt times in the fake's log; a
/// request goes only once the oldest answer of the window is a second
/// old, and an answer comes after its request arrived).
#[test]
fn the_budget_holds_through_a_burst_of_retries() {
    let w = World::new("budget", BUDGET, |c| c.burst = 2, no_faults());
    w.ok("the pass");
    let log = w.fake.timed();
    assert!(log.len() >= 8, "{}", log.len());
    for i in 0..log.len() - 3 {
        let span = log[i + 3].0.duration_since(log[i].0);
        assert!(
            span + TOLERANCE >= Duration::from_secs(1),
            "requests {i}..={} within {span:?}",
            i + 3
        );
    }
    w.synced_once("within the budget");
}

/// An access token that lives a minute (as short-lived tokens of some
/// identity providers do) serves the whole run: it is not fetched again
/// before every request, which with a rotating refresh token would also
/// rotate it, and write its file, once per request.
#[test]
fn a_short_lived_access_token_serves_its_life() {
    let w = World::new(
        "short-token",
        OAUTH,
        |c| {
            c.oauth = Some(OAuth {
                refresh: "refresh-1".into(),
                rotate: true,
                expires_in: Some(60),
                ..OAuth::default()
            });
        },
        no_faults(),
    );
    std::fs::write(w.refresh_file(), "refresh-1\n").expect("refresh token file");
    w.ok("the pass");
    let log = w.fake.log();
    let tokens = log.iter().filter(|r| r.path == "/oauth/token").count();
    assert!(log.len() > 5, "{}", log.len());
    assert_eq!(tokens, 1, "one token for a run far shorter than its life");
}

/// The token endpoint is a request like the others: a reset or a 5xx on
/// it is tried again with backoff, not the end of the side's pass.
#[test]
fn a_token_endpoint_that_fails_once_is_tried_again() {
    let oauth = |c: &mut Crm| {
        c.oauth = Some(OAuth {
            refresh: "refresh-1".into(),
            rotate: true,
            ..OAuth::default()
        });
    };
    let reset_first = |n: usize, _: &Logged| (n == 0).then_some(Fault::Reset);
    for (name, setup, rule) in [
        (
            "token-reset",
            Box::new(oauth) as Box<dyn FnOnce(&mut Crm)>,
            Box::new(reset_first) as Box<Rule>,
        ),
        (
            "token-500",
            Box::new(move |c: &mut Crm| {
                oauth(c);
                c.burst = 1;
            }),
            no_faults(),
        ),
    ] {
        let w = World::new(name, OAUTH, setup, rule);
        std::fs::write(w.refresh_file(), "refresh-1\n").expect("refresh token file");
        w.ok(name);
        let log = w.fake.log();
        assert_eq!(log[0].path, "/oauth/token", "{name}");
        assert_eq!(log[1].path, "/oauth/token", "{name}: tried again");
        w.synced_once(name);
    }
}
