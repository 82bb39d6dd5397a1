//! Records born on the other side (issue 19, point 3;
//! docs/design/10-rest-providers.md, "Records born on the other side"): a
//! contact made in Salesforce has no `HubSpot_Id__c`. tether keeps it under
//! a provisional key, creates it in HubSpot, and in the transaction that
//! stores HubSpot's answer re-keys it to HubSpot's id and queues the key's
//! write-back to Salesforce, once. The real `tether` binary syncs the
//! bundled fake (examples/fakecrm, its own code, in this process) through
//! `mappings/crm/hubspot_salesforce.tether`, both sides REST; the fake's
//! request log says what reached each API. Crashes are fail points
//! (`TETHER_FAILPOINT`, an abort, as `kill -9`): after HubSpot made the
//! contact and before its answer was stored (`rest-sent`), and after the
//! re-key was stored and before anything else was sent (`rekeyed`).

#[path = "../examples/fakecrm/hubspot.rs"]
mod hubspot;
#[path = "support/rest_cli.rs"]
mod rest_cli;
#[path = "../examples/fakecrm/salesforce.rs"]
mod salesforce;
#[path = "../examples/fakecrm/serve.rs"]
mod serve;

use rest_cli::{Run, s, scratch, tether};
use serde_json::{Map, Value as Json, json};
use serve::Crm;
use std::sync::{Arc, Mutex};

const MAPPING: &str = "mappings/crm/hubspot_salesforce.tether";
const HUBSPOT_CREATE: &str = "/crm/v3/objects/contacts";
const SF_CONTACT: &str = "/services/data/v59.0/sobjects/Contact/";

struct World {
    dir: rest_cli::Scratch,
    crm: Arc<Mutex<Crm>>,
    _fake: serve::Running,
    env: Vec<(String, String)>,
}

impl World {
    /// The fake with no contact yet, logging every request.
    fn new(name: &str) -> World {
        let dir = scratch("rest-born", name);
        let mut crm = Crm::default();
        crm.logging = true;
        let crm = Arc::new(Mutex::new(crm));
        let fake = serve::start(crm.clone(), "127.0.0.1:0", false).expect("listen");
        let refresh = dir.join("sf-refresh");
        std::fs::write(&refresh, "throwaway-refresh-token\n").expect("token file");
        let env = vec![
            ("HUBSPOT_BASE_URL", fake.url.clone()),
            ("HUBSPOT_TOKEN", "pat-born-3f1c".to_string()),
            ("SALESFORCE_BASE_URL", fake.url.clone()),
            ("SALESFORCE_CLIENT_ID", "tether-test".to_string()),
            ("SALESFORCE_CLIENT_SECRET", "throwaway-secret".to_string()),
            ("SALESFORCE_REFRESH_TOKEN_FILE", s(&refresh).to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        World {
            dir,
            crm,
            _fake: fake,
            env,
        }
    }

    /// A contact a person made in Salesforce: no `HubSpot_Id__c`. Its `Id`.
    fn born_in_salesforce(&self) -> String {
        let fields: Map<String, Json> = json!({
            "FirstName": "Ana", "LastName": "Lima", "Email": "ana.lima@example.com"
        })
        .as_object()
        .cloned()
        .unwrap_or_default();
        let made = self.crm.lock().expect("crm").salesforce.make(&fields);
        made["Id"].as_str().expect("an Id").to_string()
    }

    /// One pass between the two APIs, with `failpoint` armed if given.
    fn pass(&self, failpoint: Option<&str>) -> Run {
        let state = self.dir.join("state.db");
        let args = [
            "sync",
            MAPPING,
            "--mapping",
            "contact",
            "--state",
            s(&state),
            "--left",
            "provider:hubspot",
            "--right",
            "provider:salesforce",
            "--once",
            "--format",
            "json",
        ];
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(point) = failpoint {
            env.push(("TETHER_FAILPOINT", point));
        }
        tether(&self.dir, &args, &env)
    }

    fn ok_pass(&self) -> Json {
        let run = self.pass(None);
        assert_eq!(
            run.code,
            Some(0),
            "{}{}\ndead letters: {:?}",
            run.out,
            run.err,
            self.dead_letters()
        );
        run.summary()
    }

    /// The store's dead letters' errors, for a failure's message.
    fn dead_letters(&self) -> Vec<String> {
        let Ok(db) = rusqlite::Connection::open(self.dir.join("state.db")) else {
            return Vec::new();
        };
        let Ok(mut q) = db.prepare("SELECT errors FROM dead_letters") else {
            return Vec::new();
        };
        q.query_map([], |r| r.get(0))
            .map(|rows| rows.flatten().collect())
            .unwrap_or_default()
    }

    /// The contacts HubSpot made (POSTs of a contact answered 201, not
    /// the searches, not the refused).
    fn hubspot_creates(&self) -> usize {
        let crm = self.crm.lock().expect("crm");
        crm.logged("POST", HUBSPOT_CREATE)
            .iter()
            .filter(|l| l.url == HUBSPOT_CREATE && l.status == 201)
            .count()
    }

    /// Salesforce updates of contact `id` whose body is the key alone and
    /// that Salesforce took: the write-back.
    fn write_backs(&self, id: &str) -> Vec<Json> {
        let crm = self.crm.lock().expect("crm");
        crm.logged("PATCH", &format!("{SF_CONTACT}{id}"))
            .iter()
            .filter(|l| l.status < 300)
            .filter_map(|l| serde_json::from_str::<Json>(&l.body).ok())
            .filter(|b| b.as_object().is_some_and(|o| o.len() == 1))
            .collect()
    }

    /// Requests that wrote to either API (no reads, no token grants).
    fn writes(&self) -> usize {
        let crm = self.crm.lock().expect("crm");
        crm.log
            .iter()
            .filter(|l| {
                matches!(l.method.as_str(), "PATCH" | "DELETE")
                    || (l.method == "POST" && l.url == HUBSPOT_CREATE)
            })
            .count()
    }

    /// The end every scenario must reach: one HubSpot contact (Ana), the
    /// Salesforce contact `sf_id` holding its HubSpot id, written back by
    /// one PATCH of that key alone; nothing dead-lettered.
    fn assert_linked_once(&self, sf_id: &str) -> String {
        let crm = self.crm.lock().expect("crm");
        let contacts: Vec<&Json> = crm.hubspot.contacts().collect();
        assert_eq!(contacts.len(), 1, "{contacts:?}");
        let hubspot_id = contacts[0]["id"].as_str().expect("an id").to_string();
        assert_eq!(contacts[0]["properties"]["email"], "ana.lima@example.com");
        assert_eq!(contacts[0]["properties"]["lastname"], "Lima");
        assert_eq!(crm.salesforce.contacts().count(), 1, "nothing made twice");
        let sf = crm.salesforce.by_id(sf_id).expect("the born contact");
        assert_eq!(sf["HubSpot_Id__c"], json!(hubspot_id), "{sf}");
        drop(crm);
        assert_eq!(self.hubspot_creates(), 1, "HubSpot made the contact once");
        assert_eq!(
            self.write_backs(sf_id),
            [json!({"HubSpot_Id__c": hubspot_id})],
            "the key is written back once"
        );
        let db = rusqlite::Connection::open(self.dir.join("state.db")).expect("state");
        let (letters, provisional): (i64, i64) = db
            .query_row(
                "SELECT (SELECT COUNT(*) FROM dead_letters),
                        (SELECT COUNT(*) FROM records WHERE key LIKE '~%')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("counts");
        assert_eq!((letters, provisional), (0, 0));
        hubspot_id
    }

    /// Passes until one writes nothing (at most `n`): what was left to
    /// settle settles, and then nothing more is ever sent.
    fn settle(&self, n: usize) {
        for _ in 0..n {
            let before = self.writes();
            let summary = self.ok_pass();
            if summary["sent"] == 0 {
                assert_eq!(self.writes(), before, "sent 0 yet a write: {summary}");
                return;
            }
        }
        panic!("still writing after {n} passes");
    }
}

#[test]
fn salesforce_born_contact_created_in_hubspot_and_key_written_back_once() {
    let w = World::new("once");
    let sf_id = w.born_in_salesforce();
    let first = w.ok_pass();
    assert_eq!(first["created"], 1, "{first}");
    assert_eq!(first["dead_lettered"], 0, "{first}");
    // The create, and the key's write-back in the same pass.
    assert_eq!(first["sent"], 2, "{first}");
    let hubspot_id = w.assert_linked_once(&sf_id);
    // HubSpot reports the contact back (with its `createdAt`, which the
    // mapping sends one way, to Salesforce's `HubSpot_Created__c`), and
    // Salesforce the write-back: neither is a new record, and nothing is
    // created or written back again.
    let second = w.ok_pass();
    assert_eq!(second["created"], 0, "{second}");
    assert_eq!(second["dead_lettered"], 0, "{second}");
    w.settle(3);
    assert_eq!(w.assert_linked_once(&sf_id), hubspot_id);
    let crm = w.crm.lock().expect("crm");
    let sf = crm.salesforce.by_id(&sf_id).expect("the born contact");
    assert!(sf["HubSpot_Created__c"].is_string(), "{sf}");
}

#[test]
fn a_born_contact_changed_before_its_create_is_answered_is_created_once() {
    // HubSpot refuses creates for two passes (403: the side stops, the
    // create stays in the outbox under its key). Meanwhile the Salesforce
    // contact changes: the second pass reads it again, still without a
    // key, and must find the record waiting for its create by its
    // Salesforce id, not start a second one.
    let w = World::new("twice");
    let sf_id = w.born_in_salesforce();
    w.crm.lock().expect("crm").forbid = vec![("POST".into(), HUBSPOT_CREATE.into(), 2)];
    let first = w.pass(None);
    assert_eq!(first.code, Some(2), "{}{}", first.out, first.err);
    let phone: Map<String, Json> = json!({"Phone": "+351 21 000 0000"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    w.crm
        .lock()
        .expect("crm")
        .salesforce
        .edit(&sf_id, &phone)
        .expect("edited");
    let second = w.pass(None);
    assert_eq!(second.code, Some(2), "{}{}", second.out, second.err);
    assert_eq!(w.hubspot_creates(), 0, "both creates were refused");
    let records: i64 = rusqlite::Connection::open(w.dir.join("state.db"))
        .and_then(|db| db.query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0)))
        .expect("records");
    assert_eq!(
        records, 1,
        "the change joined the record waiting for its create"
    );
    // HubSpot takes writes again: the create, then the phone's update
    // addressed by the id the create answered with.
    w.settle(4);
    w.assert_linked_once(&sf_id);
    let crm = w.crm.lock().expect("crm");
    let contact = crm.hubspot.contacts().next().expect("the contact");
    assert_eq!(contact["properties"]["phone"], "+351 21 000 0000");
}

#[test]
fn a_born_contact_read_again_before_its_key_is_written_back_is_one_record() {
    // Salesforce refuses the write-back once (403): the pass ends with the
    // write-back in the outbox. The contact changes in Salesforce before
    // the next pass, which sends the write-back and then reads the change,
    // still without the key: it belongs to the re-keyed record (found by
    // its Salesforce id), and HubSpot gets an update, not a create.
    let w = World::new("writeback-held");
    let sf_id = w.born_in_salesforce();
    w.crm.lock().expect("crm").forbid = vec![("PATCH".into(), format!("{SF_CONTACT}{sf_id}"), 1)];
    let first = w.pass(None);
    assert_eq!(first.code, Some(2), "{}{}", first.out, first.err);
    assert_eq!(w.hubspot_creates(), 1);
    let phone: Map<String, Json> = json!({"Phone": "+351 21 111 1111"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    w.crm
        .lock()
        .expect("crm")
        .salesforce
        .edit(&sf_id, &phone)
        .expect("edited");
    w.settle(4);
    // The refused attempt and the one that went through: the same key.
    let refused = {
        let crm = w.crm.lock().expect("crm");
        crm.logged("PATCH", &format!("{SF_CONTACT}{sf_id}"))
            .iter()
            .filter(|l| l.status == 403)
            .count()
    };
    assert_eq!(refused, 1);
    let hubspot_id = w.assert_linked_once(&sf_id);
    let crm = w.crm.lock().expect("crm");
    let contact = crm.hubspot.by_id(&hubspot_id).expect("the contact");
    assert_eq!(contact["properties"]["phone"], "+351 21 111 1111");
}

#[test]
fn a_born_contact_not_linked_is_read_under_its_own_id_not_dead_lettered() {
    // Before: such a contact was an E1009 dead letter ("no key"). The
    // store keeps it under `~right:<Id>` until HubSpot answers.
    let w = World::new("provisional");
    let sf_id = w.born_in_salesforce();
    w.crm.lock().expect("crm").forbid = vec![("POST".into(), HUBSPOT_CREATE.into(), 1)];
    let first = w.pass(None);
    assert_eq!(first.code, Some(2), "{}{}", first.out, first.err);
    let db = rusqlite::Connection::open(w.dir.join("state.db")).expect("state");
    let keys: Vec<String> = db
        .prepare("SELECT key FROM records")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("keys");
    assert_eq!(keys, [format!("~right:{sf_id}")]);
    let pending: Vec<String> = db
        .prepare("SELECT side || ' ' || key FROM outbox WHERE status = 'pending'")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(pending, [format!("left ~right:{sf_id}")]);
    drop(db);
    w.settle(3);
    w.assert_linked_once(&sf_id);
}

/// A crash at `point`, then passes to the end: the end of an uninterrupted
/// run, with HubSpot's contact made once (its lookup by email finds it)
/// and the key written back once.
fn crash_then_resume(name: &str, point: &str) {
    let w = World::new(name);
    let sf_id = w.born_in_salesforce();
    let crashed = w.pass(Some(point));
    assert_eq!(crashed.code, None, "aborted at {point}: {}", crashed.err);
    assert!(
        crashed.err.contains(&format!("fail point `{point}`")),
        "{}",
        crashed.err
    );
    assert_eq!(w.hubspot_creates(), 1, "HubSpot made it before the crash");
    w.settle(4);
    w.assert_linked_once(&sf_id);
}

#[test]
fn kill_between_created_and_rekeyed_creates_once() {
    crash_then_resume("kill-created", "rest-sent");
}

#[test]
fn kill_after_rekey_before_write_back_writes_back_once() {
    crash_then_resume("kill-rekeyed", "rekeyed");
}
