//! Checkpoints (issue 19, step 3's engine part): a poller's position is
//! stored in the same transaction as the page it follows, and given back
//! on the next pass, so a failure or a crash re-reads at most one page and
//! loses nothing.

use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use tether::base::Side;
use tether::compile::compile_source;
use tether::plan::{MappingPlans, PlanFile};
use tether::sync::engine::{Engine, SideRead};
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
    // The other side is not held up by this one: what was stored is
    // merged and written.
    assert_eq!(*written.borrow(), ["1", "2", "3", "4"]);

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

/// A provider that takes `accept` operations of each batch and gives up
/// on the rest (its breaker opened, say), or, `down`, answers nothing.
/// It logs (batch, key, idempotency key) of each operation it took.
struct Flaky {
    accept: usize,
    down: bool,
    took: Rc<RefCell<Vec<(i64, String, String)>>>,
}

impl Provider for Flaky {
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        if self.down {
            return Err(ProviderError {
                message: "erp is taken to be down".into(),
                retryable: false,
            });
        }
        Ok(Vec::new())
    }
    fn open(&mut self, _: &str) -> Result<Items<'_>, ProviderError> {
        Ok(Box::new(std::iter::empty()))
    }
    fn ack(&mut self, _: &str) -> Result<(), ProviderError> {
        Ok(())
    }
    fn send(&mut self, batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        if self.down {
            return Err(ProviderError {
                message: "erp is taken to be down".into(),
                retryable: false,
            });
        }
        Ok(ops
            .iter()
            .enumerate()
            .map(|(i, op)| {
                if i < self.accept {
                    self.took.borrow_mut().push((
                        batch,
                        op.key.clone(),
                        op.idempotency_key.clone(),
                    ));
                    Sent::Accepted { native_id: None }
                } else {
                    Sent::NotSent("erp: the circuit breaker is open".into())
                }
            })
            .collect())
    }
}

fn poller(requests: &Rc<RefCell<Vec<usize>>>) -> Poller {
    Poller {
        contacts: CONTACTS.to_vec(),
        page: 10,
        from: 0,
        fail_on_page: None,
        requests: requests.clone(),
    }
}

#[test]
fn a_provider_that_gives_up_mid_batch_keeps_the_rest_under_the_same_batch_and_keys() {
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let requests = Rc::new(RefCell::new(Vec::new()));
    let took = Rc::new(RefCell::new(Vec::new()));
    let mut crm = poller(&requests);
    let mut erp = Flaky {
        accept: 2,
        down: false,
        took: took.clone(),
    };
    let e = Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect_err("the provider gave up");
    assert!(e.to_string().contains("circuit breaker is open"), "{e}");
    assert_eq!(took.borrow().len(), 2);
    let pending = store.pending("customer", Side::Right, 100).expect("read");
    assert_eq!(pending.len(), 3, "the rest waits");
    let batch = took.borrow()[0].0;
    assert!(
        pending.iter().all(|r| r.batch == Some(batch)),
        "under the same batch"
    );

    // The provider is back: only the rest goes, with its batch and keys.
    erp.accept = usize::MAX;
    let keys: Vec<String> = pending
        .iter()
        .map(|r| r.operation.idempotency_key.clone())
        .collect();
    Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    let took = took.borrow();
    assert_eq!(took.len(), 5, "nothing sent twice");
    let again: Vec<String> = took[2..].iter().map(|(_, _, k)| k.clone()).collect();
    assert_eq!(again, keys);
    assert!(took.iter().all(|(b, _, _)| *b == batch));
}

#[test]
fn a_side_that_is_down_does_not_stop_the_other() {
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let requests = Rc::new(RefCell::new(Vec::new()));
    let took = Rc::new(RefCell::new(Vec::new()));
    let mut crm = poller(&requests);
    let mut erp = Flaky {
        accept: usize::MAX,
        down: true,
        took: took.clone(),
    };
    let e = Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect_err("erp is down");
    assert!(
        e.to_string()
            .starts_with("right side: erp is taken to be down"),
        "{e}"
    );
    // The left side was still read and merged: its writes wait for erp.
    assert_eq!(*requests.borrow(), [0]);
    assert_eq!(
        store
            .pending("customer", Side::Right, 100)
            .expect("read")
            .len(),
        5
    );
    assert!(took.borrow().is_empty());
    erp.down = false;
    Engine::new(&plans, &mut store)
        .pass(&mut crm, &mut erp)
        .expect("a pass");
    assert_eq!(took.borrow().len(), 5);
}

#[test]
fn progress_counts_pages_and_records_per_side() {
    // Five contacts in pages of two: three pages (the last one short),
    // each followed by its checkpoint; the other side read nothing.
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut crm = Poller {
        contacts: CONTACTS.to_vec(),
        page: 2,
        from: 0,
        fail_on_page: None,
        requests: Rc::default(),
    };
    let mut erp = Sink(Rc::default());
    let mut seen: Vec<(u64, [SideRead; 2])> = Vec::new();
    let mut progress = |s: &tether::sync::engine::Summary, read: &[SideRead; 2]| {
        seen.push((s.read, *read));
    };
    let mut engine = Engine::new(&plans, &mut store);
    engine.progress = Some(&mut progress);
    engine.pass(&mut crm, &mut erp).expect("a pass");
    let left: Vec<(u64, u64)> = seen
        .iter()
        .map(|(_, r)| (r[0].pages, r[0].records))
        .collect();
    // After each page is stored: its page and records, and the summary's
    // `read` keeps pace.
    assert_eq!(left[..3], [(1, 2), (2, 4), (3, 5)], "{seen:?}");
    assert!(seen[..3].iter().map(|(n, _)| *n).eq([2, 4, 5]), "{seen:?}");
    assert!(
        seen.iter().all(|(_, r)| r[1] == SideRead::default()),
        "{seen:?}"
    );
}
