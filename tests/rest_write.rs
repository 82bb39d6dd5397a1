//! Writing to a REST API as a side of a sync (issue 19, step 4), against
//! the CRM-like fake on loopback (tests/support/fake_crm.rs): each
//! operation one request; a created record's id linked; a refusal
//! dead-lettered with the provider's (redacted) message while the batch
//! goes on; `Retry-After` waited out on the clock; a provider that gives
//! up or an open breaker leaving the rest in the outbox under the same
//! keys; a create made safe by an idempotency header, an upsert or a
//! lookup never made twice; record values percent-encoded into paths.

#[path = "support/fake_crm.rs"]
mod fake_crm;
#[path = "support/fake_http.rs"]
mod fake_http;

use fake_crm::Crm;
use fake_http::Fake;
use serde_json::{Value as Json, json};
use std::num::NonZeroU32;
use std::path::Path;
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
    ChangeSpec, CreateSafety, CreateSpec, CursorFormat, CursorKind, CursorOrder, CursorSpec,
    LookupSpec, ReadSpec, RequestTemplate, WriteBody, WriteRequest, WriteSpec,
};
use tether::provider::template::{BodyTemplate, TextTemplate, Var};
use tether::sync::engine::{Engine, Summary, SyncError};
use tether::sync::filedrop::FileDrop;
use tether::sync::provider::{Provider, Sent};
use tether::sync::rest::{Addressing, RestProvider};
use tether::sync::store::{OpenMode, Operation, SqliteStore, Store};

const TOKEN: &str = "pat-na1-0f1e2d3c";

const MAPPING: &str = r#"
schema erp { record Customer { ref: string, Email?: string?, Name?: string? } }
schema crm {
  record Contact {
    id?: string?
    properties: { ref: string, email?: string?, firstname?: string? }
    updatedAt?: int?
  }
}
mapping contact: erp.Customer <-> crm.Contact {
  key ref <-> properties.ref
  ids ref <-> id
  Email <-> properties.email
  Name <-> properties.firstname
  unmapped crm: updatedAt
}
"#;

fn plans() -> MappingPlans {
    let compiled = compile_source("m.tether", MAPPING, None);
    let program = compiled.program.unwrap_or_else(|| {
        panic!("the mapping compiles: {:?}", compiled.diagnostics);
    });
    PlanFile::of_program(&program).mappings.swap_remove(0)
}

fn template(s: &str) -> TextTemplate {
    TextTemplate::parse(s).expect("a template")
}

/// `{"properties": <the record's properties>}`: HubSpot's body shape.
fn properties_body() -> WriteBody {
    WriteBody::Wrapped(BodyTemplate::Object(vec![(
        "properties".into(),
        BodyTemplate::Var(Var::Field(vec!["properties".into()])),
    )]))
}

fn write(method: Method, path: &str, body: WriteBody, ok_also: &[u16]) -> WriteRequest {
    WriteRequest {
        method,
        path: template(path),
        query: Vec::new(),
        headers: Vec::new(),
        body,
        ok_also: ok_also.to_vec(),
    }
}

/// Creates with `safety`, updates and deletes by the CRM's id.
fn writes(safety: CreateSafety) -> WriteSpec {
    let create = match &safety {
        CreateSafety::Upsert => write(
            Method::Patch,
            "/contacts/ref/{properties.ref}",
            properties_body(),
            &[],
        ),
        _ => write(Method::Post, "/contacts", properties_body(), &[]),
    };
    WriteSpec {
        create: Some(CreateSpec {
            request: create,
            id_at: Some(vec!["id".into()]),
            safety,
        }),
        update: Some(ChangeSpec {
            request: write(Method::Patch, "/contacts/{id}", properties_body(), &[]),
            idempotency_header: None,
        }),
        delete: Some(ChangeSpec {
            // Already gone is done.
            request: write(Method::Delete, "/contacts/{id}", WriteBody::Empty, &[404]),
            idempotency_header: None,
        }),
    }
}

fn idempotent() -> WriteSpec {
    writes(CreateSafety::IdempotencyHeader("Idempotency-Key".into()))
}

fn looked_up() -> WriteSpec {
    writes(CreateSafety::Lookup(LookupSpec {
        request: RequestTemplate {
            method: Method::Get,
            path: template("/contacts/{properties.ref}"),
            query: vec![("idProperty".into(), template("ref"))],
            headers: Vec::new(),
            body: None,
        },
        id_at: vec!["id".into()],
    }))
}

/// Changed contacts since the cursor (`updatedAt`, a sequence).
fn read_spec() -> ReadSpec {
    ReadSpec {
        request: RequestTemplate {
            method: Method::Get,
            path: template("/contacts"),
            query: vec![("since".into(), template("{cursor}"))],
            headers: Vec::new(),
            body: None,
        },
        records: vec!["results".into()],
        id: Some(vec!["id".into()]),
        cursor: Some(CursorSpec {
            field: vec!["updatedAt".into()],
            kind: CursorKind::Number,
            format: CursorFormat::Millis,
            lookback: Duration::ZERO,
            order: CursorOrder::Ascending,
        }),
        page: Paging {
            style: Pagination::None,
            max_pages: NonZeroU32::new(10).expect("nonzero"),
        },
        budgets: Vec::new(),
    }
}

fn clock() -> ManualClock {
    ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000))
}

/// An exchange with the bearer token, `attempts` per request and a
/// breaker that opens after `after` failures for 30 s; backoff waits its
/// whole ceiling (on the manual clock).
fn exchange(clock: &ManualClock, attempts: u32, after: u32) -> Exchange<&ManualClock> {
    classified(clock, attempts, after, StatusClasses::default(), Vec::new())
}

/// [`exchange`] with declared status classes and `message at` paths.
fn classified(
    clock: &ManualClock,
    attempts: u32,
    after: u32,
    classes: StatusClasses,
    message_at: Vec<Vec<String>>,
) -> Exchange<&ManualClock> {
    Exchange::new(
        ExchangeSpec {
            name: "crm".into(),
            client: ClientConfig::default(),
            credentials: Credentials::Bearer(Secret::new(TOKEN)),
            budgets: Vec::new(),
            breaker: BreakerSpec {
                after: NonZeroU32::new(after).expect("nonzero"),
                open_min: Duration::from_secs(30),
                open_max: Duration::from_secs(300),
            },
            classes,
            message_at,
            retry: RetrySpec {
                max_attempts: NonZeroU32::new(attempts).expect("nonzero"),
                ..RetrySpec::default()
            },
        },
        clock,
    )
    .with_jitter(|| 1.0)
}

fn addressing() -> Addressing {
    Addressing::of(&plans().sync, Side::Right)
}

/// The CRM side: read and written.
fn crm_side<'c>(
    fake: &Fake,
    clock: &'c ManualClock,
    spec: WriteSpec,
) -> RestProvider<&'c ManualClock> {
    RestProvider::new("crm", exchange(clock, 3, 5), &fake.url, read_spec())
        .with_writes(spec, addressing())
}

/// The CRM side, only written (nothing read), with `attempts` per
/// request and a breaker opening after `after` failures.
fn writer<'c>(
    fake: &Fake,
    clock: &'c ManualClock,
    spec: WriteSpec,
    attempts: u32,
    after: u32,
) -> RestProvider<&'c ManualClock> {
    RestProvider::write_only("crm", exchange(clock, attempts, after), &fake.url)
        .with_writes(spec, addressing())
}

fn fake() -> (Arc<Mutex<Crm>>, Fake) {
    let crm = Arc::new(Mutex::new(Crm::default()));
    let fake = fake_crm::start(crm.clone());
    (crm, fake)
}

/// A scratch folder, removed when dropped.
struct Folder(std::path::PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let dir =
            std::env::temp_dir().join(format!("tether-rest-write-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Folder(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A folder side holding one file of customers.
fn erp(dir: &Path, customers: &[Json]) -> FileDrop {
    let side = FileDrop::open(dir, true).expect("the folder side");
    let text: String = customers.iter().map(|c| format!("{c}\n")).collect();
    std::fs::write(dir.join("inbox").join("001.ndjson"), text).expect("an inbox file");
    side
}

fn customer(r: &str, email: &str, name: &str) -> Json {
    json!({"ref": r, "Email": email, "Name": name})
}

fn pass(
    plans: &MappingPlans,
    store: &mut SqliteStore,
    left: &mut dyn Provider,
    right: &mut dyn Provider,
) -> Result<Summary, SyncError> {
    Engine::new(plans, store).pass(left, right)
}

fn operation(value: Json) -> Operation {
    serde_json::from_value(value).expect("an operation")
}

/// (method, path) of each request the fake received.
fn requests(fake: &Fake) -> Vec<String> {
    fake.log()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn native_id(store: &SqliteStore, key: &str) -> Option<String> {
    store
        .find_record("contact", Side::Right, key)
        .expect("the store")
        .and_then(|r| r.side(Side::Right).native_id.clone())
}

fn outbox_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("outbox"))
        .expect("the outbox")
        .count()
}

#[test]
fn create_update_and_delete_each_send_their_request_and_a_created_id_comes_back() {
    let (crm, fake) = fake();
    let clock = clock();
    let mut side = writer(&fake, &clock, idempotent(), 3, 5);
    let create = operation(json!({
        "op": "create", "key": "r1", "idempotency_key": "tk_create",
        "record": {"properties": {"ref": "r1", "email": "ann@example.com", "firstname": "Ann"}}
    }));
    match side.send(1, &[create]).expect("answered").as_slice() {
        [Sent::Accepted { native_id }] => assert_eq!(native_id.as_deref(), Some("c1")),
        _ => panic!("accepted"),
    }
    let post = &fake.log()[0];
    assert_eq!(
        (post.method.as_str(), post.path.as_str()),
        ("POST", "/contacts")
    );
    assert_eq!(post.header("idempotency-key"), Some("tk_create"));
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(post.header("content-type"), Some("application/json"));
    let body: Json = serde_json::from_slice(&post.body).expect("a JSON body");
    assert_eq!(
        body,
        json!({"properties": {"ref": "r1", "email": "ann@example.com", "firstname": "Ann"}})
    );

    // An update names the record by the id the create returned; its
    // record need not carry it.
    let update = operation(json!({
        "op": "update", "key": "r1", "id": "c1", "idempotency_key": "tk_update",
        "record": {"properties": {"ref": "r1", "firstname": "Anne"}}
    }));
    let delete = operation(json!({
        "op": "delete", "key": "r1", "id": "c1", "idempotency_key": "tk_delete"
    }));
    let sent = side.send(2, &[update, delete.clone()]).expect("answered");
    assert!(
        sent.iter()
            .all(|s| matches!(s, Sent::Accepted { native_id: None })),
        "both done"
    );
    assert_eq!(
        requests(&fake)[1..],
        ["PATCH /contacts/c1", "DELETE /contacts/c1"]
    );
    assert_eq!(
        serde_json::from_slice::<Json>(&fake.log()[1].body).expect("JSON"),
        json!({"properties": {"ref": "r1", "firstname": "Anne"}})
    );
    assert!(fake.log()[2].body.is_empty(), "a delete has no body");
    assert!(crm.lock().expect("crm").contacts.is_empty(), "deleted");

    // Deleting what is gone (404) is done, as declared.
    let again = side.send(3, &[delete]).expect("answered");
    assert!(matches!(again.as_slice(), [Sent::Accepted { .. }]));
    assert_eq!(fake.log().len(), 4);
}

#[test]
fn a_record_from_a_folder_is_created_linked_and_its_echo_is_suppressed() {
    let (crm, fake) = fake();
    let clock = clock();
    let dir = Folder::new("echo");
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = erp(dir.path(), &[customer("r1", "ann@example.com", "Ann")]);
    let mut right = crm_side(&fake, &clock, idempotent());

    let first = pass(&plans, &mut store, &mut left, &mut right).expect("a pass");
    assert_eq!(
        (first.read, first.created, first.sent),
        (1, 1, 1),
        "{first}"
    );
    assert_eq!(requests(&fake), ["GET /contacts?since=0", "POST /contacts"]);
    assert_eq!(native_id(&store, "r1").as_deref(), Some("c1"), "linked");
    assert_eq!(
        crm.lock().expect("crm").contacts[0]["properties"],
        json!({"ref": "r1", "email": "ann@example.com", "firstname": "Ann"})
    );

    // The CRM reports the contact it made (with its id and updatedAt):
    // what tether wrote, so nothing goes anywhere.
    let second = pass(&plans, &mut store, &mut left, &mut right).expect("a pass");
    assert_eq!(
        (
            second.read,
            second.unchanged,
            second.created,
            second.updated,
            second.sent
        ),
        (1, 1, 0, 0, 0),
        "{second}"
    );
    assert_eq!(
        outbox_files(dir.path()),
        0,
        "nothing written back to the folder"
    );
    assert_eq!(requests(&fake).len(), 3, "one more read, no write");

    // A change made in the CRM flows to the folder, addressed by key.
    {
        let mut crm = crm.lock().expect("crm");
        crm.contacts[0]["properties"]["firstname"] = json!("Anne");
        crm.contacts[0]["updatedAt"] = json!(10);
    }
    let third = pass(&plans, &mut store, &mut left, &mut right).expect("a pass");
    assert_eq!((third.updated, third.sent), (1, 1), "{third}");
    assert_eq!(outbox_files(dir.path()), 1);
}

#[test]
fn a_create_whose_answer_is_lost_is_sent_again_under_its_key_and_made_once() {
    let (crm, fake) = fake();
    let clock = clock();
    let dir = Folder::new("lost");
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = erp(dir.path(), &[customer("r1", "ann@example.com", "Ann")]);
    // Two attempts per request; both answers of the first pass are lost.
    crm.lock().expect("crm").lose = 2;
    let mut right = writer(&fake, &clock, idempotent(), 2, 5);

    let e = pass(&plans, &mut store, &mut left, &mut right).expect_err("the answers were lost");
    assert!(e.to_string().contains("failed 2 times"), "{e}");
    let waiting = store
        .pending("contact", Side::Right, 10)
        .expect("the outbox");
    assert_eq!(waiting.len(), 1, "kept in the outbox");
    let key = waiting[0].operation.idempotency_key.clone();
    assert_eq!(
        crm.lock().expect("crm").contacts.len(),
        1,
        "the CRM made it"
    );

    // The next pass sends it again under the same key: the CRM answers
    // with its first answer, and tether links the one contact.
    let next = pass(&plans, &mut store, &mut left, &mut right).expect("a pass");
    assert_eq!(next.sent, 1, "{next}");
    let posts: Vec<String> = fake
        .log()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.header("idempotency-key").unwrap_or("(none)").to_string())
        .collect();
    assert_eq!(posts, [key.clone(), key.clone(), key], "one key throughout");
    assert_eq!(crm.lock().expect("crm").contacts.len(), 1, "made once");
    assert_eq!(native_id(&store, "r1").as_deref(), Some("c1"));
    assert!(
        store
            .pending("contact", Side::Right, 10)
            .expect("the outbox")
            .is_empty()
    );
}

#[test]
fn a_refused_create_is_dead_lettered_with_the_redacted_message_and_the_batch_goes_on() {
    let (crm, fake) = fake();
    let clock = clock();
    let dir = Folder::new("refused");
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = erp(
        dir.path(),
        &[
            customer("r1", "not-an-email", "Ann"),
            customer("r2", "bo@example.com", "Bo"),
        ],
    );
    let mut right = writer(&fake, &clock, idempotent(), 3, 5);
    let summary = pass(&plans, &mut store, &mut left, &mut right).expect("a pass");
    assert_eq!((summary.sent, summary.dead_lettered), (2, 1), "{summary}");
    assert_eq!(fake.log().len(), 2, "a refusal is not retried");
    let crm = crm.lock().expect("crm");
    assert_eq!(crm.contacts.len(), 1);
    assert!(crm.by_property("ref", "r2").is_some(), "the batch went on");

    let letters = store.dead_letters("contact", true).expect("the letters");
    assert_eq!(letters.len(), 1);
    let error = &letters[0].errors[0];
    assert_eq!(error.code.to_string(), "E1009");
    assert!(
        error.message.contains("POST /contacts answered 422")
            && error
                .message
                .contains("Property values were not valid: email `not-an-email`"),
        "{}",
        error.message
    );
    let kept = serde_json::to_string(&letters[0]).expect("JSON");
    assert!(
        !kept.contains(TOKEN),
        "the echoed token is not kept: {kept}"
    );
    assert!(error.message.contains("[secret]"), "{}", error.message);
}

#[test]
fn retry_after_is_waited_out_before_the_write_goes_again() {
    let (crm, fake) = fake();
    let clock = clock();
    crm.lock().expect("crm").throttle = Some((1, 7));
    let mut side = writer(&fake, &clock, idempotent(), 3, 5);
    let create = operation(json!({
        "op": "create", "key": "r1", "idempotency_key": "tk_1",
        "record": {"properties": {"ref": "r1", "email": "ann@example.com"}}
    }));
    let sent = side.send(1, &[create]).expect("answered");
    assert!(matches!(
        sent.as_slice(),
        [Sent::Accepted { native_id: Some(_) }]
    ));
    assert_eq!(fake.log().len(), 2, "the 429, then the create");
    assert_eq!(
        clock.elapsed(),
        Duration::from_secs(7),
        "exactly the wait asked for, and no backoff on top"
    );
    assert_eq!(side.exchange().stats().throttled, 1);
    assert_eq!(side.exchange().breaker().openings(), 0, "not a failure");
}

#[test]
fn an_open_breaker_leaves_the_batch_waiting_under_its_keys_and_loses_nothing() {
    let (crm, fake) = fake();
    let clock = clock();
    let dir = Folder::new("breaker");
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let customers: Vec<Json> = (1..=3)
        .map(|i| customer(&format!("r{i}"), &format!("c{i}@example.com"), "X"))
        .collect();
    let mut left = erp(dir.path(), &customers);
    crm.lock().expect("crm").down = true;
    // Two attempts; one spent request opens the breaker.
    let mut right = writer(&fake, &clock, idempotent(), 2, 1);

    let e = pass(&plans, &mut store, &mut left, &mut right).expect_err("down");
    assert!(e.to_string().contains("answered 503"), "{e}");
    assert_eq!(fake.log().len(), 2, "one request's attempts, then nothing");
    let waiting = store
        .pending("contact", Side::Right, 10)
        .expect("the outbox");
    assert_eq!(waiting.len(), 3, "nothing lost");
    let batch = waiting[0].batch;
    assert!(batch.is_some() && waiting.iter().all(|r| r.batch == batch));
    let keys: Vec<String> = waiting
        .iter()
        .map(|r| r.operation.idempotency_key.clone())
        .collect();

    // While it is open, a pass fails fast: no request at all.
    let e = pass(&plans, &mut store, &mut left, &mut right).expect_err("open");
    assert!(e.to_string().contains("circuit breaker is open"), "{e}");
    assert_eq!(fake.log().len(), 2);

    // Back up, and the cooldown over: one probe, then the rest, each under
    // the key it had.
    crm.lock().expect("crm").down = false;
    clock.advance(Duration::from_secs(31));
    let back = pass(&plans, &mut store, &mut left, &mut right).expect("a pass");
    assert_eq!(back.sent, 3, "{back}");
    let sent_keys: Vec<String> = fake.log()[2..]
        .iter()
        .map(|r| r.header("idempotency-key").unwrap_or("").to_string())
        .collect();
    assert_eq!(sent_keys, keys);
    assert_eq!(crm.lock().expect("crm").contacts.len(), 3);
    assert!(
        store
            .pending("contact", Side::Right, 10)
            .expect("the outbox")
            .is_empty()
    );
}

#[test]
fn a_create_without_an_answer_is_looked_up_next_time_not_made_twice() {
    let (crm, fake) = fake();
    let clock = clock();
    let dir = Folder::new("lookup");
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = erp(dir.path(), &[customer("r/1", "ann@example.com", "Ann")]);
    crm.lock().expect("crm").lose = 1;
    let mut right = writer(&fake, &clock, looked_up(), 3, 5);

    // The create is applied but its answer lost (a 500): without an
    // idempotency key it is not sent again in this pass, and no lookup
    // went before it (its outcome was not in doubt then).
    let e = pass(&plans, &mut store, &mut left, &mut right).expect_err("lost");
    assert!(e.to_string().contains("answered 500"), "{e}");
    assert_eq!(requests(&fake), ["POST /contacts"]);
    assert_eq!(fake.log()[0].header("idempotency-key"), None);

    // Next pass: its outcome is unknown, so it is looked up first; found,
    // the contact is updated and linked, never created again.
    let next = pass(&plans, &mut store, &mut left, &mut right).expect("a pass");
    assert_eq!(next.sent, 1, "{next}");
    assert_eq!(
        requests(&fake)[1..],
        ["GET /contacts/r%2F1?idProperty=ref", "PATCH /contacts/c1"]
    );
    assert_eq!(crm.lock().expect("crm").contacts.len(), 1, "made once");
    assert_eq!(native_id(&store, "r/1").as_deref(), Some("c1"));
}

#[test]
fn a_lookup_that_finds_nothing_lets_the_create_go() {
    let (crm, fake) = fake();
    let clock = clock();
    let mut side = writer(&fake, &clock, looked_up(), 3, 5);
    let mut create = operation(json!({
        "op": "create", "key": "r1", "idempotency_key": "tk_1",
        "record": {"properties": {"ref": "r1", "email": "ann@example.com"}}
    }));
    create.maybe_sent = true;
    let sent = side.send(1, &[create]).expect("answered");
    assert!(matches!(sent.as_slice(), [Sent::Accepted { native_id: Some(id) }] if id == "c1"));
    assert_eq!(
        requests(&fake),
        ["GET /contacts/r1?idProperty=ref", "POST /contacts"]
    );
    assert_eq!(crm.lock().expect("crm").contacts.len(), 1);
}

/// A create found by its lookup is linked even when the update that
/// follows is refused: refusing the create would dead-letter it, and a
/// replay would create the contact a second time.
#[test]
fn a_found_record_is_linked_even_when_its_update_is_refused() {
    let (crm, fake) = fake();
    let clock = clock();
    // Made by an earlier attempt whose answer was lost.
    let id = crm
        .lock()
        .expect("crm")
        .seed(json!({"ref": "r1", "email": "ann@example.com"}))["id"]
        .clone();
    let mut side = writer(&fake, &clock, looked_up(), 3, 5);
    let mut create = operation(json!({
        "op": "create", "key": "r1", "idempotency_key": "tk_1",
        "record": {"properties": {"ref": "r1", "email": "no-at-sign"}}
    }));
    create.maybe_sent = true;
    let sent = side.send(1, &[create]).expect("answered");
    assert!(
        matches!(sent.as_slice(), [Sent::Accepted { native_id: Some(n) }] if json!(n) == id),
        "linked to {id}"
    );
    assert_eq!(
        requests(&fake),
        ["GET /contacts/r1?idProperty=ref", "PATCH /contacts/c1"]
    );
    let crm = crm.lock().expect("crm");
    assert_eq!(
        crm.contacts[0]["properties"]["email"],
        json!("ann@example.com"),
        "the update was refused"
    );
    assert_eq!(crm.contacts.len(), 1, "not created again");
}

#[test]
fn an_upsert_puts_the_key_in_the_path_as_one_encoded_segment() {
    let (crm, fake) = fake();
    let clock = clock();
    let mut side = writer(&fake, &clock, writes(CreateSafety::Upsert), 3, 5);
    let key = "a/b?c#d e";
    let create = operation(json!({
        "op": "create", "key": key, "idempotency_key": "tk_1",
        "record": {"properties": {"ref": key, "email": "ann@example.com"}}
    }));
    // Sent twice (an unknown outcome): the second updates what the first
    // made.
    for batch in [1, 2] {
        let sent = side
            .send(batch, std::slice::from_ref(&create))
            .expect("answered");
        assert!(matches!(sent.as_slice(), [Sent::Accepted { native_id: Some(id) }] if id == "c1"));
    }
    assert_eq!(
        requests(&fake),
        [
            "PATCH /contacts/ref/a%2Fb%3Fc%23d%20e",
            "PATCH /contacts/ref/a%2Fb%3Fc%23d%20e"
        ]
    );
    let crm = crm.lock().expect("crm");
    assert_eq!(crm.contacts.len(), 1);
    assert_eq!(crm.contacts[0]["properties"]["ref"], json!(key));
}

#[test]
fn an_operation_the_resource_does_not_declare_is_refused_by_name() {
    let (_crm, fake) = fake();
    let clock = clock();
    let mut spec = idempotent();
    spec.delete = None;
    let mut side = writer(&fake, &clock, spec, 3, 5);
    let delete = operation(json!({
        "op": "delete", "key": "r1", "id": "c1", "idempotency_key": "tk_1"
    }));
    // An update whose path needs the id, for a record whose id is unknown.
    let update = operation(json!({
        "op": "update", "key": "r2", "idempotency_key": "tk_2",
        "record": {"properties": {"ref": "r2"}}
    }));
    match side
        .send(1, &[delete, update])
        .expect("answered")
        .as_slice()
    {
        [Sent::Refused(a), Sent::Refused(b)] => {
            assert!(a.contains("crm declares no delete"), "{a}");
            assert!(!a.contains("read only"), "{a}");
            assert!(
                b.contains("PATCH /contacts/{id}") && b.contains("no value"),
                "{b}"
            );
        }
        _ => panic!("both refused"),
    }
    assert!(fake.log().is_empty(), "nothing sent");
}

#[test]
fn an_id_that_would_drop_or_climb_a_path_segment_is_refused_unsent() {
    let (_crm, fake) = fake();
    let clock = clock();
    let mut side = writer(&fake, &clock, idempotent(), 3, 5);
    let ops: Vec<Operation> = ["..", ".", ""]
        .iter()
        .enumerate()
        .map(|(i, id)| {
            operation(json!({
                "op": "update", "key": format!("r{i}"), "id": id,
                "idempotency_key": format!("tk_{i}"),
                "record": {"properties": {"ref": format!("r{i}")}}
            }))
        })
        .collect();
    let sent = side.send(1, &ops).expect("answered");
    assert_eq!(sent.len(), 3);
    for s in &sent {
        match s {
            Sent::Refused(why) => assert!(
                why.contains("PATCH /contacts/{id}") && why.contains("empty, `.` or `..`"),
                "{why}"
            ),
            _ => panic!("refused"),
        }
    }
    assert!(fake.log().is_empty(), "nothing sent: {:?}", requests(&fake));
}

#[test]
fn a_path_that_would_leave_the_base_is_refused_before_anything_is_sent() {
    // A forged plan (the checker wants a leading `/`): `{id}` right after
    // the base's port would make the id part of the host or port.
    let (_crm, fake) = fake();
    let clock = clock();
    let mut spec = idempotent();
    if let Some(update) = spec.update.as_mut() {
        update.request.path = template("{id}");
    }
    let mut side = writer(&fake, &clock, spec, 3, 5);
    let update = operation(json!({
        "op": "update", "key": "r1", "id": "1.evil.example",
        "idempotency_key": "tk_1",
        "record": {"properties": {"ref": "r1"}}
    }));
    match side.send(1, &[update]).expect("answered").as_slice() {
        [Sent::Refused(why)] => assert!(why.contains("leave the provider's base"), "{why}"),
        _ => panic!("one refusal"),
    }
    assert!(fake.log().is_empty(), "nothing sent");
}

#[test]
fn an_open_breaker_outlives_the_process_and_is_forgotten_once_closed() {
    let (crm, fake) = fake();
    let clock = clock();
    let dir = Folder::new("restart");
    let plans = plans();
    let db = dir.path().join("state.db");
    std::fs::create_dir_all(dir.path()).expect("a folder");
    let customers = [customer("r1", "ann@example.com", "Ann")];
    let mut left = erp(&dir.path().join("erp"), &customers);
    crm.lock().expect("crm").down = true;
    {
        let mut store = SqliteStore::open(&db, OpenMode::CreateIfMissing).expect("store");
        let mut right = writer(&fake, &clock, idempotent(), 2, 1);
        pass(&plans, &mut store, &mut left, &mut right).expect_err("down");
        assert_eq!(right.exchange().breaker().openings(), 1);
    }
    let requests_before = fake.log().len();

    // A new process (a new store handle, a new provider whose breaker
    // starts closed) within the cooldown: it fails fast, no request.
    {
        let mut store = SqliteStore::open(&db, OpenMode::Existing).expect("store");
        let open = store.breaker("crm").expect("read").expect("kept open");
        assert_eq!(open.cooldown, Duration::from_secs(30));
        let mut right = writer(&fake, &clock, idempotent(), 2, 1);
        let e = pass(&plans, &mut store, &mut left, &mut right).expect_err("open");
        assert!(e.to_string().contains("circuit breaker is open"), "{e}");
        assert_eq!(fake.log().len(), requests_before, "no request");
    }

    // Another, after the cooldown, with the provider back: the probe goes,
    // the batch is sent, and the closed breaker is forgotten.
    crm.lock().expect("crm").down = false;
    clock.advance(Duration::from_secs(31));
    let mut store = SqliteStore::open(&db, OpenMode::Existing).expect("store");
    let mut right = writer(&fake, &clock, idempotent(), 2, 1);
    let back = pass(&plans, &mut store, &mut left, &mut right).expect("a pass");
    assert_eq!(back.sent, 1, "{back}");
    assert_eq!(crm.lock().expect("crm").contacts.len(), 1);
    assert_eq!(store.breaker("crm").expect("read"), None);
}

/// Salesforce answers an upsert by external id with 300 Multiple Choices
/// when several records hold the value (its body: their URLs). The
/// bundled `salesforce.tprovider` declares 300 `refuse`: that operation is
/// dead-lettered with the provider's answer, and the batch goes on. (By
/// the default classes a 3xx stops the side instead: the status is not
/// the record's.)
#[test]
fn salesforce_300_on_an_upsert_by_external_id_dead_letters_that_operation_and_the_batch_goes_on() {
    let compiled =
        tether::compile::compile_file(Path::new("mappings/crm/salesforce.tprovider"), &[])
            .expect("the provider file");
    let declared = compiled
        .providers
        .iter()
        .find(|p| p.name == "salesforce")
        .expect("the provider")
        .clone();
    let (crm, fake) = fake();
    {
        let mut c = crm.lock().expect("crm");
        // A person made the same external id twice.
        c.seed(json!({"ref": "r1", "email": "ann@example.com"}));
        c.seed(json!({"ref": "r1", "email": "ann.b@example.com"}));
    }
    let clock = clock();
    let exchange = classified(&clock, 3, 5, declared.status, declared.message_at);
    let dir = Folder::new("upsert-300");
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = erp(
        dir.path(),
        &[
            customer("r1", "ann@example.com", "Ann"),
            customer("r2", "bo@example.com", "Bo"),
        ],
    );
    let mut right = RestProvider::write_only("salesforce", exchange, &fake.url)
        .with_writes(writes(CreateSafety::Upsert), addressing());
    let summary = pass(&plans, &mut store, &mut left, &mut right).expect("a pass");
    assert_eq!((summary.sent, summary.dead_lettered), (2, 1), "{summary}");
    assert_eq!(
        requests(&fake),
        ["PATCH /contacts/ref/r1", "PATCH /contacts/ref/r2"],
        "refused once, not retried; the next operation sent"
    );
    let c = crm.lock().expect("crm");
    assert_eq!(c.contacts.len(), 3, "r2 made, the two r1 left alone");
    assert!(c.by_property("ref", "r2").is_some());
    let letters = store.dead_letters("contact", true).expect("the letters");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].key.as_deref(), Some("r1"));
    let error = &letters[0].errors[0];
    assert!(
        error.message.contains("answered 300")
            && error.message.contains("/contacts/c1")
            && error.message.contains("/contacts/c2"),
        "{}",
        error.message
    );
}
