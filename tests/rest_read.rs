//! Reading a REST API as a side of a sync (issue 19, step 3), against a
//! HubSpot-like search endpoint on loopback: pages by token, the cursor
//! stored with each page, the next read asking from it (inclusive, less
//! the look-back) with re-read records deduplicated, an out-of-order API
//! stopped without skipping, a repeated token stopped without looping.

#[path = "support/fake_http.rs"]
mod fake_http;

use fake_http::{Fake, Logged, Reply};
use serde_json::{Value as Json, json};
use std::cell::RefCell;
use std::num::NonZeroU32;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tether::base::Side;
use tether::compile::compile_source;
use tether::http::ManualClock;
use tether::http::auth::Credentials;
use tether::http::breaker::BreakerSpec;
use tether::http::client::{ClientConfig, Method};
use tether::http::exchange::{Exchange, ExchangeSpec, RetrySpec};
use tether::http::page::{Pagination, Paging};
use tether::http::policy::StatusClasses;
use tether::http::secret::Secret;
use tether::plan::{MappingPlans, PlanFile};
use tether::provider::spec::{
    CursorFormat, CursorKind, CursorOrder, CursorSpec, ReadSpec, RequestTemplate,
};
use tether::provider::template::{BodyTemplate, TextTemplate, Var};
use tether::sync::engine::Engine;
use tether::sync::provider::{Items, Provider, ProviderError, Sent};
use tether::sync::rest::RestProvider;
use tether::sync::store::{Operation, SqliteStore, Store};

const MAPPING: &str = r#"
schema hubspot {
  record Contact {
    id: string
    properties: { email?: string?, firstname?: string?, lastmodifieddate?: string? }
  }
}
schema erp { record Customer { ref: string, Email?: string?, Name?: string? } }
mapping contact: hubspot.Contact -> erp.Customer {
  key id -> ref
  properties.email -> Email
  properties.firstname -> Name
}
"#;

fn plans() -> MappingPlans {
    let compiled = compile_source("m.tether", MAPPING, None);
    let program = compiled.program.expect("the mapping compiles");
    PlanFile::of_program(&program).mappings.swap_remove(0)
}

/// HubSpot's CRM v3 search, as much of it as a changed-records read
/// uses: a GTE filter on `lastmodifieddate` (epoch millis), sorted
/// ascending, `limit`, `after` as an offset, `paging.next.after` when
/// there is more. `reverse`: the API ignores the sort; `stuck`: it
/// always answers the same `after`.
#[derive(Default)]
struct Crm {
    contacts: Vec<Json>,
    reverse: bool,
    stuck: bool,
}

fn contact(id: &str, name: &str, modified: u64) -> Json {
    json!({
        "id": id,
        "properties": {
            "email": format!("{name}@example.com").to_lowercase(),
            "firstname": name,
            "lastmodifieddate": modified.to_string(),
        },
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "archived": false
    })
}

fn search(crm: &Crm, request: &Logged) -> Reply {
    if request.method != "POST" || request.path != "/crm/v3/objects/contacts/search" {
        return Reply::json(404, r#"{"status":"error","message":"Not found"}"#);
    }
    let Ok(body) = serde_json::from_slice::<Json>(&request.body) else {
        return Reply::json(400, r#"{"status":"error","message":"Invalid input JSON"}"#);
    };
    let from: u64 = body["filterGroups"][0]["filters"][0]["value"]
        .as_u64()
        .unwrap_or(0);
    let limit = body["limit"].as_u64().unwrap_or(10) as usize;
    let after: usize = body["after"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let modified = |c: &Json| -> u64 {
        c["properties"]["lastmodifieddate"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let mut matching: Vec<&Json> = crm
        .contacts
        .iter()
        .filter(|c| modified(c) >= from)
        .collect();
    matching.sort_by_key(|c| (modified(c), c["id"].as_str().unwrap_or("").to_string()));
    if crm.reverse {
        matching.reverse();
    }
    let page: Vec<&Json> = matching.iter().skip(after).take(limit).copied().collect();
    let mut out = json!({"total": matching.len(), "results": page});
    if crm.stuck || after + limit < matching.len() {
        let next = if crm.stuck { limit } else { after + limit };
        out["paging"] =
            json!({"next": {"after": next.to_string(), "link": "https://api.hubapi.com/..."}});
    }
    Reply::json(200, &out.to_string())
}

fn fake(crm: Arc<Mutex<Crm>>) -> Fake {
    Fake::start(move |r| search(&crm.lock().expect("crm"), r))
}

fn read_spec(lookback: Duration) -> ReadSpec {
    let s = |v: &str| BodyTemplate::Value(json!(v));
    ReadSpec {
        request: RequestTemplate {
            method: Method::Post,
            path: TextTemplate::parse("/crm/v3/objects/contacts/search").expect("template"),
            query: Vec::new(),
            headers: Vec::new(),
            body: Some(BodyTemplate::Object(vec![
                (
                    "filterGroups".into(),
                    BodyTemplate::Array(vec![BodyTemplate::Object(vec![(
                        "filters".into(),
                        BodyTemplate::Array(vec![BodyTemplate::Object(vec![
                            ("propertyName".into(), s("lastmodifieddate")),
                            ("operator".into(), s("GTE")),
                            ("value".into(), BodyTemplate::Var(Var::Cursor)),
                        ])]),
                    )])]),
                ),
                (
                    "sorts".into(),
                    BodyTemplate::Value(
                        json!([{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]),
                    ),
                ),
                ("limit".into(), BodyTemplate::Value(json!(2))),
                ("after".into(), BodyTemplate::Var(Var::Page)),
            ])),
        },
        records: vec!["results".into()],
        id: Some(vec!["id".into()]),
        cursor: Some(CursorSpec {
            field: vec!["properties".into(), "lastmodifieddate".into()],
            kind: CursorKind::DateTime,
            format: CursorFormat::Millis,
            lookback,
            order: CursorOrder::Ascending,
        }),
        page: Paging {
            style: Pagination::Token {
                at: vec!["paging".into(), "next".into(), "after".into()],
            },
            max_pages: NonZeroU32::new(1000).expect("nonzero"),
        },
        budgets: Vec::new(),
    }
}

fn hubspot<'c>(
    fake: &Fake,
    clock: &'c ManualClock,
    lookback: Duration,
) -> RestProvider<&'c ManualClock> {
    hubspot_reading(fake, clock, read_spec(lookback))
}

fn hubspot_reading<'c>(
    fake: &Fake,
    clock: &'c ManualClock,
    read: ReadSpec,
) -> RestProvider<&'c ManualClock> {
    let exchange = Exchange::new(
        ExchangeSpec {
            name: "hubspot".into(),
            client: ClientConfig::default(),
            credentials: Credentials::Bearer(Secret::new("pat-na1-secret")),
            budgets: Vec::new(),
            breaker: BreakerSpec {
                after: NonZeroU32::new(5).expect("nonzero"),
                open_min: Duration::from_secs(30),
                open_max: Duration::from_secs(300),
            },
            classes: StatusClasses::default(),
            message_at: Vec::new(),
            retry: RetrySpec::default(),
        },
        clock,
    );
    RestProvider::new("hubspot", exchange, &fake.url, read)
}

/// The other side: takes every write, remembers the records.
struct Erp(Rc<RefCell<Vec<Json>>>);

impl Provider for Erp {
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
    fn open(&mut self, _: &str) -> Result<Items<'_>, ProviderError> {
        Ok(Box::new(std::iter::empty()))
    }
    fn ack(&mut self, _: &str) -> Result<(), ProviderError> {
        Ok(())
    }
    fn send(&mut self, _: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        self.0.borrow_mut().extend(
            ops.iter()
                .map(|o| json!({"op": o.op, "key": o.key, "record": o.record})),
        );
        Ok(ops
            .iter()
            .map(|_| Sent::Accepted { native_id: None })
            .collect())
    }
}

fn clock() -> ManualClock {
    ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000))
}

const T: u64 = 1_790_000_000_000;

fn five() -> Vec<Json> {
    ["Ann", "Bo", "Cy", "Di", "Ed"]
        .iter()
        .enumerate()
        .map(|(i, n)| contact(&(i + 1).to_string(), n, T + i as u64 * 1000))
        .collect()
}

fn searches(fake: &Fake) -> Vec<Json> {
    fake.log()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("a JSON body"))
        .collect()
}

#[test]
fn every_page_is_read_and_the_highest_cursor_is_stored_with_it() {
    let crm = Arc::new(Mutex::new(Crm {
        contacts: five(),
        ..Crm::default()
    }));
    let fake = fake(crm.clone());
    let clock = clock();
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let written = Rc::new(RefCell::new(Vec::new()));
    let mut left = hubspot(&fake, &clock, Duration::ZERO);
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(written.clone()))
        .expect("a pass");
    assert_eq!((summary.read, summary.created), (5, 5), "{summary}");
    let bodies = searches(&fake);
    assert_eq!(bodies.len(), 3, "pages of 2, 2 and 1");
    assert_eq!(
        bodies[0]["filterGroups"][0]["filters"][0]["value"],
        json!(0),
        "a first read from the start"
    );
    assert!(
        bodies[0].get("after").is_none(),
        "no `after` on the first page"
    );
    assert_eq!(bodies[1]["after"], json!("2"));
    assert_eq!(
        fake.log()[0].header("authorization"),
        Some("Bearer pat-na1-secret")
    );
    let checkpoint = store
        .checkpoint("contact", Side::Left)
        .expect("read")
        .expect("stored");
    assert_eq!(checkpoint.0["cursor"], json!((T + 4000).to_string()));
    let names: Vec<String> = written
        .borrow()
        .iter()
        .map(|w| format!("{} {}", w["op"], w["record"]["Name"]))
        .collect();
    assert_eq!(
        names,
        [
            r#""create" "Ann""#,
            r#""create" "Bo""#,
            r#""create" "Cy""#,
            r#""create" "Di""#,
            r#""create" "Ed""#
        ]
    );
}

#[test]
fn the_next_read_asks_from_the_cursor_less_the_lookback_and_rereads_are_duplicates() {
    let crm = Arc::new(Mutex::new(Crm {
        contacts: five(),
        ..Crm::default()
    }));
    let fake = fake(crm.clone());
    let clock = clock();
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let written = Rc::new(RefCell::new(Vec::new()));
    let lookback = Duration::from_secs(3);
    let mut left = hubspot(&fake, &clock, lookback);
    Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(written.clone()))
        .expect("a pass");
    let before = fake.log().len();

    // Nothing changed: the read asks from 3 s before the cursor, inclusive
    // (Bo, Cy, Di, Ed): all duplicates, nothing written.
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(written.clone()))
        .expect("a pass");
    let asked = &searches(&fake)[before];
    assert_eq!(
        asked["filterGroups"][0]["filters"][0]["value"],
        json!(T + 4000 - 3000)
    );
    assert_eq!((summary.read, summary.duplicate), (4, 4), "{summary}");
    assert_eq!(written.borrow().len(), 5);

    // Di changes (a later timestamp): one update, and a record that shares
    // the last timestamp with one already read is not lost.
    {
        let mut crm = crm.lock().expect("crm");
        crm.contacts[3] = contact("4", "Dee", T + 9000);
        crm.contacts.push(contact("6", "Fay", T + 9000));
    }
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(written.clone()))
        .expect("a pass");
    assert_eq!((summary.updated, summary.created), (1, 1), "{summary}");
    let checkpoint = store
        .checkpoint("contact", Side::Left)
        .expect("read")
        .expect("stored");
    assert_eq!(checkpoint.0["cursor"], json!((T + 9000).to_string()));
}

/// A cursor in epoch seconds (`as seconds`) is ordered and looked back in
/// seconds: the next read asks from the last cursor less the look-back,
/// not from 1970 (it was taken for milliseconds, divided by 1000 again
/// when written, and every pass read everything).
#[test]
fn a_cursor_in_epoch_seconds_reads_from_the_last_one_less_the_lookback() {
    let s0 = T / 1000;
    let crm = Arc::new(Mutex::new(Crm {
        contacts: ["Ann", "Bo", "Cy", "Di", "Ed"]
            .iter()
            .enumerate()
            .map(|(i, n)| contact(&(i + 1).to_string(), n, s0 + i as u64))
            .collect(),
        ..Crm::default()
    }));
    let fake = fake(crm.clone());
    let clock = clock();
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let written = Rc::new(RefCell::new(Vec::new()));
    let mut read = read_spec(Duration::from_secs(3));
    if let Some(c) = read.cursor.as_mut() {
        c.format = CursorFormat::Seconds;
    }
    let mut left = hubspot_reading(&fake, &clock, read);
    Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(written.clone()))
        .expect("a pass");
    let before = fake.log().len();
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(written.clone()))
        .expect("a pass");
    let asked = &searches(&fake)[before];
    assert_eq!(
        asked["filterGroups"][0]["filters"][0]["value"],
        json!(s0 + 4 - 3)
    );
    assert_eq!((summary.read, summary.duplicate), (4, 4), "{summary}");
}

#[test]
fn an_api_that_ignores_the_sort_is_stopped_without_skipping() {
    let crm = Arc::new(Mutex::new(Crm {
        contacts: five(),
        reverse: true,
        ..Crm::default()
    }));
    let fake = fake(crm.clone());
    let clock = clock();
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = hubspot(&fake, &clock, Duration::ZERO);
    let written = Rc::new(RefCell::new(Vec::new()));
    let e = Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(written.clone()))
        .expect_err("out of order");
    let message = e.to_string();
    assert!(
        message.contains("out of cursor order") && message.contains("properties.lastmodifieddate"),
        "{message}"
    );
    // The first page (Ed, Di) is stored (and synced) with the checkpoint
    // at its lowest cursor, so a resumed read starts low enough for Cy, Bo
    // and Ann.
    assert_eq!(written.borrow().len(), 2);
    let checkpoint = store
        .checkpoint("contact", Side::Left)
        .expect("read")
        .expect("stored");
    assert_eq!(checkpoint.0["cursor"], json!((T + 3000).to_string()));
}

#[test]
fn a_record_dated_far_in_the_future_never_becomes_the_cursor() {
    let mut contacts = five();
    contacts.push(contact("6", "Fi", 9_223_372_036_854_775_807));
    let crm = Arc::new(Mutex::new(Crm {
        contacts,
        ..Crm::default()
    }));
    let fake = fake(crm.clone());
    let clock = clock();
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let written = Rc::new(RefCell::new(Vec::new()));
    let mut left = hubspot(&fake, &clock, Duration::ZERO);
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(written.clone()))
        .expect("a pass");
    assert_eq!(summary.read, 6, "the record is still synced: {summary}");
    let checkpoint = store
        .checkpoint("contact", Side::Left)
        .expect("read")
        .expect("stored");
    assert_eq!(
        checkpoint.0["cursor"],
        json!((T + 4000).to_string()),
        "not the far-future date: later reads would find nothing"
    );
}

#[test]
fn a_next_page_on_another_origin_is_named_by_its_origin_only() {
    let fake = Fake::start(|_| {
        let body = json!({
            "results": [contact("1", "Ann", T)],
            "next": "https://Evil.example:8443/steal?hapikey=pat-na1-secret&x=\u{1b}[31m\nforged",
        });
        Reply::json(200, &body.to_string())
    });
    let clock = clock();
    let mut read = read_spec(Duration::ZERO);
    read.page.style = Pagination::NextUrl {
        at: vec!["next".into()],
        stop_when: None,
    };
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = hubspot_reading(&fake, &clock, read);
    let e = Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(Rc::new(RefCell::new(Vec::new()))))
        .expect_err("another origin");
    let e = e.to_string();
    assert!(
        e.contains("another origin (https://evil.example:8443)"),
        "{e}"
    );
    for leak in ["hapikey", "pat-na1-secret", "\u{1b}", "\n", "forged"] {
        assert!(!e.contains(leak), "{leak:?} in {e}");
    }
    assert_eq!(fake.log().len(), 1, "the next page was not asked for");
}

#[test]
fn a_page_of_more_values_than_tether_parses_stops_the_read_unparsed() {
    // Two bytes a value on the wire, tens of bytes once parsed: 10 MB of
    // this once took 1.5 GB.
    let zeros = vec!["0"; 1_000_001].join(",");
    let body = format!(
        r#"{{"results":[{{"id":"1","properties":{{"lastmodifieddate":"{T}","pad":[{zeros}]}}}}]}}"#
    );
    let fake = Fake::start(move |_| Reply::json(200, &body));
    let clock = clock();
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = hubspot(&fake, &clock, Duration::ZERO);
    let written = Rc::new(RefCell::new(Vec::new()));
    let e = Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(written.clone()))
        .expect_err("too large a page");
    assert!(
        e.to_string().contains("more than 1000000 JSON values"),
        "{e}"
    );
    assert!(written.borrow().is_empty());
}

#[test]
fn a_repeated_page_token_stops_the_read_keeping_what_was_stored() {
    let crm = Arc::new(Mutex::new(Crm {
        contacts: five(),
        stuck: true,
        ..Crm::default()
    }));
    let fake = fake(crm.clone());
    let clock = clock();
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = hubspot(&fake, &clock, Duration::ZERO);
    let written = Rc::new(RefCell::new(Vec::new()));
    let e = Engine::new(&plans, &mut store)
        .pass(&mut left, &mut Erp(written.clone()))
        .expect_err("a loop");
    assert!(e.to_string().contains("repeated a page position"), "{e}");
    assert_eq!(fake.log().len(), 2, "the repeat was not followed");
    assert_eq!(written.borrow().len(), 4, "the two pages read are synced");
}

#[test]
fn a_read_without_a_cursor_reads_all_and_merges_unchanged_records_as_no_ops() {
    let crm = Arc::new(Mutex::new(Crm {
        contacts: five(),
        ..Crm::default()
    }));
    let fake = fake(crm.clone());
    let clock = clock();
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let written = Rc::new(RefCell::new(Vec::new()));
    // The whole list in one request, no cursor.
    let exchange = Exchange::new(
        ExchangeSpec {
            name: "hubspot".into(),
            client: ClientConfig::default(),
            credentials: Credentials::None,
            budgets: Vec::new(),
            breaker: BreakerSpec {
                after: NonZeroU32::new(5).expect("nonzero"),
                open_min: Duration::from_secs(30),
                open_max: Duration::from_secs(300),
            },
            classes: StatusClasses::default(),
            message_at: Vec::new(),
            retry: RetrySpec::default(),
        },
        &clock,
    );
    let mut spec = read_spec(Duration::ZERO);
    spec.cursor = None;
    spec.page.style = Pagination::None;
    if let Some(BodyTemplate::Object(members)) = &mut spec.request.body {
        members.retain(|(k, _)| k != "filterGroups");
        for (k, v) in members.iter_mut() {
            if k == "limit" {
                *v = BodyTemplate::Value(json!(100));
            }
        }
    }
    let mut full = RestProvider::new("hubspot", exchange, &fake.url, spec);
    let first = Engine::new(&plans, &mut store)
        .pass(&mut full, &mut Erp(written.clone()))
        .expect("a pass");
    let second = Engine::new(&plans, &mut store)
        .pass(&mut full, &mut Erp(written.clone()))
        .expect("a pass");
    assert_eq!((first.read, first.created), (5, 5), "{first}");
    // A later read is new events (it cannot tell A→B→A from A), merged
    // as no-ops.
    assert_eq!(
        (second.read, second.duplicate, second.unchanged),
        (5, 0, 5),
        "{second}"
    );
    assert_eq!(written.borrow().len(), 5);
}

#[test]
fn a_read_only_resource_refuses_writes_by_name() {
    let crm = Arc::new(Mutex::new(Crm::default()));
    let fake = fake(crm);
    let clock = clock();
    let mut left = hubspot(&fake, &clock, Duration::ZERO);
    let op: Operation = serde_json::from_value(json!({
        "op": "create", "key": "1", "idempotency_key": "tk_1", "record": {"id": "1"}
    }))
    .expect("an operation");
    match left.send(1, &[op]).expect("answered").as_slice() {
        [Sent::Refused(why)] => assert!(why.contains("declares no create"), "{why}"),
        _ => panic!("refused"),
    }
    assert!(fake.log().is_empty(), "nothing sent");
}
