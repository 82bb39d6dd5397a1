//! Records born on the other side, at the engine (issue 19, step 6;
//! docs/design/10-rest-providers.md, "Records born on the other side"):
//! two in-memory API-like providers whose creates answer with an id, so
//! every step is seen in the store and in the operations each side got.
//! The REST end to end, with crashes, is tests/rest_born.rs.

use serde_json::{Value as Json, json};
use std::cell::RefCell;
use std::rc::Rc;
use tether::base::Side;
use tether::compile::compile_source;
use tether::plan::{MappingPlans, PlanFile};
use tether::sync::engine::Engine;
use tether::sync::provider::{
    Item, Items, Linking, Provider, ProviderError, RawEvent, Received, Sent,
};
use tether::sync::store::{EventOp, OpKind, Operation, SqliteStore, Store};

/// The CRM's `id` is its own id and the key; the ERP has its own `Id`
/// and holds the CRM's id in `crm_id`, which a customer made in the ERP
/// lacks.
const MAPPING: &str = r#"
schema crm { record Contact { readonly id: string, name?: string? } }
schema erp { record Customer { readonly Id?: string, crm_id?: string, Name?: string? } }
mapping customer: crm.Contact <-> erp.Customer {
  key id <-> crm_id
  ids id <-> Id
  name <-> Name
}
"#;

fn plans() -> MappingPlans {
    let compiled = compile_source("m.tether", MAPPING, None);
    let program = compiled.program.expect("the mapping compiles");
    PlanFile::of_program(&program).mappings.swap_remove(0)
}

/// An API-like side: it delivers what the test queues, makes records on
/// a create (ids `prefix1`, `prefix2`, …) and answers with the id, and
/// keeps every operation it took. `links`: what it tells the engine it
/// can do (a folder-like side: nothing).
struct Api {
    prefix: &'static str,
    links: Linking,
    queue: Vec<Json>,
    made: usize,
    /// Answer no operation (its breaker open, say): all `NotSent`.
    down: bool,
    took: Rc<RefCell<Vec<Operation>>>,
}

impl Api {
    fn new(prefix: &'static str, links: bool) -> Api {
        Api {
            prefix,
            links: Linking {
                answers_ids: links,
                updates_by_id: links,
            },
            queue: Vec::new(),
            made: 0,
            down: false,
            took: Rc::default(),
        }
    }
}

impl Provider for Api {
    fn linking(&self) -> Linking {
        self.links
    }
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        Ok(if self.queue.is_empty() {
            Vec::new()
        } else {
            vec!["poll".into()]
        })
    }
    fn open(&mut self, _: &str) -> Result<Items<'_>, ProviderError> {
        let items: Vec<Result<Received, ProviderError>> = self
            .queue
            .drain(..)
            .map(|record| {
                Ok(Received::Item(Item::Event(RawEvent {
                    event_id: None,
                    op: EventOp::Upsert,
                    version: None,
                    text: record.to_string(),
                    record,
                })))
            })
            .collect();
        Ok(Box::new(items.into_iter()))
    }
    fn ack(&mut self, _: &str) -> Result<(), ProviderError> {
        Ok(())
    }
    fn send(&mut self, _: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        if self.down {
            return Ok(ops.iter().map(|_| Sent::NotSent("down".into())).collect());
        }
        self.took.borrow_mut().extend(ops.iter().cloned());
        Ok(ops
            .iter()
            .map(|op| match op.op {
                OpKind::Create => {
                    self.made += 1;
                    Sent::Accepted {
                        native_id: Some(format!("{}{}", self.prefix, self.made)),
                    }
                }
                _ => Sent::Accepted { native_id: None },
            })
            .collect())
    }
}

fn keys(store: &SqliteStore) -> Vec<String> {
    let mut keys: Vec<String> = ["~right:E1", "c1", "c2"]
        .into_iter()
        .filter(|k| {
            store
                .find_record("customer", Side::Left, k)
                .expect("read")
                .is_some()
        })
        .map(String::from)
        .collect();
    keys.sort();
    keys
}

#[test]
fn an_erp_born_customer_is_created_re_keyed_and_its_key_written_back() {
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut crm = Api::new("c", true);
    let mut erp = Api::new("E", true);
    erp.queue.push(json!({"Id": "E1", "Name": "Ana"}));
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    assert_eq!(
        (summary.created, summary.dead_lettered),
        (1, 0),
        "{summary}"
    );
    // The CRM got a create without a key (tether has none to give).
    let to_crm = crm.took.borrow().clone();
    assert_eq!(to_crm.len(), 1);
    assert_eq!(to_crm[0].op, OpKind::Create);
    assert_eq!(to_crm[0].record, Some(json!({"name": "Ana"})));
    // The ERP got the key, alone, addressed by its own id.
    let to_erp = erp.took.borrow().clone();
    assert_eq!(to_erp.len(), 1, "{to_erp:?}");
    assert_eq!(
        (
            &to_erp[0].op,
            to_erp[0].key.as_str(),
            to_erp[0].id.as_deref()
        ),
        (&OpKind::Update, "c1", Some("E1"))
    );
    assert_eq!(to_erp[0].record, Some(json!({"crm_id": "c1"})));
    // One record, under the CRM's id, linked on both sides.
    assert_eq!(keys(&store), ["c1"]);
    let r = store
        .find_record("customer", Side::Right, "c1")
        .expect("read")
        .expect("linked by the key on the right");
    assert_eq!(r.left.native_id.as_deref(), Some("c1"));
    assert_eq!(r.right.native_id.as_deref(), Some("E1"));
    assert_eq!(r.born, None);

    // Both echoes: the CRM's contact, the ERP's customer with its key.
    crm.queue.push(json!({"id": "c1", "name": "Ana"}));
    erp.queue
        .push(json!({"Id": "E1", "crm_id": "c1", "Name": "Ana"}));
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    assert_eq!((summary.unchanged, summary.sent), (1, 0), "{summary}");
    assert_eq!(keys(&store), ["c1"]);
}

#[test]
fn a_keyless_event_after_the_re_key_joins_the_linked_record() {
    // The ERP reports the customer changed, still without `crm_id` (read
    // before the write-back reached it): found by its own id, it is an
    // update of c1, not a second customer.
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut crm = Api::new("c", true);
    let mut erp = Api::new("E", true);
    erp.queue.push(json!({"Id": "E1", "Name": "Ana"}));
    Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    erp.queue.push(json!({"Id": "E1", "Name": "Ana Lima"}));
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    assert_eq!((summary.created, summary.updated), (0, 1), "{summary}");
    let to_crm = crm.took.borrow().clone();
    assert_eq!(to_crm.len(), 2, "{to_crm:?}");
    assert_eq!(
        (
            &to_crm[1].op,
            to_crm[1].key.as_str(),
            to_crm[1].id.as_deref()
        ),
        (&OpKind::Update, "c1", Some("c1"))
    );
    assert_eq!(
        to_crm[1].record,
        Some(json!({"id": "c1", "name": "Ana Lima"}))
    );
    assert_eq!(keys(&store), ["c1"]);
    assert_eq!(crm.made, 1);
}

#[test]
fn the_write_back_has_the_same_idempotency_key_however_the_record_got_there() {
    // Once merged straight away; once merged twice while the CRM was down
    // (the second change joins the record waiting for its create). The
    // operations' keys differ (their merges differ); the write-back's,
    // derived from the ERP id and the new key alone, does not.
    let write_back = |changed_while_down: bool| {
        let plans = plans();
        let mut store = SqliteStore::in_memory().expect("store");
        let mut crm = Api::new("c", true);
        let mut erp = Api::new("E", true);
        erp.queue.push(json!({"Id": "E1", "Name": "Ana"}));
        if changed_while_down {
            crm.down = true;
            let _ = Engine::new(&plans, &mut store).pass(&mut crm, &mut erp);
            assert_eq!(keys(&store), ["~right:E1"]);
            erp.queue.push(json!({"Id": "E1", "Name": "Ana Lima"}));
            let _ = Engine::new(&plans, &mut store).pass(&mut crm, &mut erp);
            assert_eq!(keys(&store), ["~right:E1"], "one record waiting");
            crm.down = false;
        }
        Engine::new(&plans, &mut store)
            .pass(&mut crm, &mut erp)
            .expect("a pass");
        assert_eq!(crm.made, 1, "one create");
        let took = erp.took.borrow().clone();
        assert_eq!(took.len(), 1, "{took:?}");
        took[0].idempotency_key.clone()
    };
    assert_eq!(write_back(false), write_back(true));
}

#[test]
fn a_side_that_cannot_answer_ids_leaves_such_a_record_a_dead_letter() {
    // A folder-like CRM: its creates answer with no id, so no key could
    // ever come back. The ERP's keyless customer stays E1009, as before.
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut crm = Api::new("c", false);
    let mut erp = Api::new("E", true);
    erp.queue.push(json!({"Id": "E1", "Name": "Ana"}));
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    assert_eq!(
        (summary.created, summary.dead_lettered),
        (0, 1),
        "{summary}"
    );
    let letters = store.dead_letters("customer", true).expect("letters");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].errors[0].code.to_string(), "E1009");
    assert!(crm.took.borrow().is_empty());
}

#[test]
fn a_new_key_already_known_is_a_dead_letter_not_a_second_record() {
    // The CRM answers the create with an id tether already holds a record
    // for: two records for one person, which a person must join. The born
    // one waits behind an E1009 letter, nothing is written back.
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut crm = Api::new("c", true);
    let mut erp = Api::new("E", true);
    crm.queue.push(json!({"id": "c1", "name": "Bo"}));
    erp.queue
        .push(json!({"Id": "E9", "crm_id": "c1", "Name": "Bo"}));
    Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    crm.made = 0;
    erp.queue.push(json!({"Id": "E1", "Name": "Ana"}));
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    assert_eq!(summary.dead_lettered, 1, "{summary}");
    let letters = store.dead_letters("customer", true).expect("letters");
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].errors[0]
            .message
            .contains("`c1` is already a record"),
        "{:?}",
        letters[0].errors
    );
    assert!(erp.took.borrow().is_empty(), "nothing written back");
    let held = store
        .find_record("customer", Side::Left, "~right:E1")
        .expect("read")
        .expect("the born record, kept");
    assert!(held.blocked.is_some());
}

#[test]
fn a_mapping_that_never_maps_the_erp_to_the_crm_leaves_such_a_record_a_dead_letter() {
    // One way, CRM to ERP: an ERP customer without a key would wait for a
    // create in the CRM that the mapping never makes. E1009, as before,
    // not a record waiting for good.
    let one_way = MAPPING
        .replace(
            "crm.Contact <-> erp.Customer",
            "crm.Contact -> erp.Customer",
        )
        .replace("key id <-> crm_id", "key id -> crm_id")
        .replace("name <-> Name", "name -> Name");
    assert!(!one_way.contains("Contact <->"), "{one_way}");
    let compiled = compile_source("m.tether", &one_way, None);
    let program = compiled.program.unwrap_or_else(|| {
        panic!("the mapping compiles: {:?}", compiled.diagnostics);
    });
    let plans = PlanFile::of_program(&program).mappings.swap_remove(0);
    let mut store = SqliteStore::in_memory().expect("store");
    let mut crm = Api::new("c", true);
    let mut erp = Api::new("E", true);
    erp.queue.push(json!({"Id": "E1", "Name": "Ana"}));
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    assert_eq!(
        (summary.created, summary.dead_lettered),
        (0, 1),
        "{summary}"
    );
    assert_eq!(keys(&store), Vec::<String>::new());
}
