//! Checkpoints (issue 19, step 3's engine part): a poller's position is
//! stored in the same transaction as the page it follows, and given back
//! on the next pass, so a failure or a crash re-reads at most one page and
//! loses nothing.

use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use tether::compile::compile_source;
use tether::plan::{MappingPlans, PlanFile};
use tether::sync::Side;
use tether::sync::engine::Engine;
use tether::sync::provider::{Item, Items, Provider, ProviderError, RawEvent, Received, Sent};
use tether::sync::store::{Checkpoint, EventOp, Operation, SqliteStore, Store};

const MAPPING: &str = r#"
schema crm { record Contact { id: string, name?: string? } }
schema erp { record Customer { ref: string, Name?: string? } }
mapping customer: crm.Contact <-> erp.Customer {
  key id <-> ref
  name <-> Name
}
"#;

fn plans() -> MappingPlans {
    let compiled = compile_source("m.tether", MAPPING, None);
    let program = compiled.program.expect("the mapping compiles");
    PlanFile::of_program(&program).mappings.swap_remove(0)
}

/// A poller over a fixed list of contacts, `page` at a time; its
/// checkpoint is the index reading stopped at. `fail_on_page` makes that
/// page's request fail (a provider error mid-read). Each page it is asked
/// for is logged by its start index.
struct Poller {
    contacts: Vec<(&'static str, &'static str)>,
    page: usize,
    from: usize,
    fail_on_page: Option<usize>,
    requests: Rc<RefCell<Vec<usize>>>,
}

impl Provider for Poller {
    fn resume(&mut self, from: Option<Checkpoint>) {
        self.from = from
            .and_then(|c| c.0["next"].as_u64())
            .map_or(0, |n| n as usize);
    }
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        Ok(vec!["poll".into()])
    }
    fn open(&mut self, _: &str) -> Result<Items<'_>, ProviderError> {
        let mut out: Vec<Result<Received, ProviderError>> = Vec::new();
        let mut at = self.from;
        let mut n = 0;
        loop {
            if self.fail_on_page == Some(n) {
                out.push(Err(ProviderError {
                    message: "503 from the provider".into(),
                    retryable: true,
                }));
                break;
            }
            self.requests.borrow_mut().push(at);
            let page: Vec<_> = self.contacts.iter().skip(at).take(self.page).collect();
            for (id, name) in &page {
                let record = json!({"id": id, "name": name});
                out.push(Ok(Received::Item(Item::Event(RawEvent {
                    event_id: Some(format!("{id}@{name}")),
                    op: EventOp::Upsert,
                    version: None,
                    text: record.to_string(),
                    record,
                }))));
            }
            at += page.len();
            out.push(Ok(Received::Checkpoint(Checkpoint(json!({"next": at})))));
            n += 1;
            if page.len() < self.page {
                break;
            }
        }
        Ok(Box::new(out.into_iter()))
    }
    fn ack(&mut self, _: &str) -> Result<(), ProviderError> {
        Ok(())
    }
    fn send(&mut self, _: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        Ok(ops
            .iter()
            .map(|_| Sent::Accepted { native_id: None })
            .collect())
    }
}

/// A side that has nothing to say and takes every write.
struct Sink(Rc<RefCell<Vec<String>>>);

impl Provider for Sink {
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
        self.0
            .borrow_mut()
            .extend(ops.iter().map(|o| o.key.clone()));
        Ok(ops
            .iter()
            .map(|_| Sent::Accepted { native_id: None })
            .collect())
    }
}

const CONTACTS: [(&str, &str); 5] = [
    ("1", "Ann"),
    ("2", "Bo"),
    ("3", "Cy"),
    ("4", "Di"),
    ("5", "Ed"),
];

#[test]
fn a_failure_mid_read_keeps_the_pages_before_it_and_their_checkpoint() {
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let requests = Rc::new(RefCell::new(Vec::new()));
    let written = Rc::new(RefCell::new(Vec::new()));
    let mut crm = Poller {
        contacts: CONTACTS.to_vec(),
        page: 2,
        from: 0,
        fail_on_page: Some(2),
        requests: requests.clone(),
    };
    let mut erp = Sink(written.clone());
    let failed = Engine::new(&plans, &mut store).pass(&mut crm, &mut erp);
    assert!(failed.is_err(), "the provider's error ends the pass");
    assert_eq!(
        store.checkpoint("customer", Side::Left).expect("read"),
        Some(Checkpoint(json!({"next": 4}))),
        "the checkpoint of the last stored page"
    );
    assert_eq!(store.received("customer", 100).expect("read").len(), 4);
    assert!(
        written.borrow().is_empty(),
        "nothing merged in a failed pass"
    );

    // The next pass resumes after page 2: only the rest is asked for.
    crm.fail_on_page = None;
    requests.borrow_mut().clear();
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    assert_eq!(*requests.borrow(), [4]);
    assert_eq!(summary.read, 1);
    assert_eq!(*written.borrow(), ["1", "2", "3", "4", "5"]);
    assert_eq!(
        store.checkpoint("customer", Side::Left).expect("read"),
        Some(Checkpoint(json!({"next": 5})))
    );
    assert_eq!(
        store.checkpoint("customer", Side::Right).expect("read"),
        None
    );
}

#[test]
fn a_page_read_again_is_all_duplicates() {
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let requests = Rc::new(RefCell::new(Vec::new()));
    let written = Rc::new(RefCell::new(Vec::new()));
    let mut crm = Poller {
        contacts: CONTACTS.to_vec(),
        page: 2,
        from: 0,
        fail_on_page: None,
        requests: requests.clone(),
    };
    let mut erp = Sink(written.clone());
    Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    // A crash before the last checkpoint was stored would resume a page
    // back: the same events, deduplicated by their ids.
    store
        .insert_events(
            "customer",
            &[],
            Some((Side::Left, &Checkpoint(json!({"next": 2})))),
        )
        .expect("rewound");
    let summary = Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    assert_eq!((summary.read, summary.duplicate), (3, 3), "{summary}");
    assert_eq!(written.borrow().len(), 5, "nothing written twice");
}
