//! Two simulated providers and a sync engine over an in-memory state store:
//! the scenario tests and the model-based property test drive tether
//! through this. A simulated provider keeps its own records, delivers
//! events, and applies tether's operations once per idempotency key.

use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use tether::base::Side;
use tether::compile::compile_source;
use tether::plan::{MappingPlans, PlanFile};
use tether::sync::engine::{Engine, Summary};
use tether::sync::provider::{Items, Provider, ProviderError, Sent, parse_item};
use tether::sync::store::{Operation, SqliteStore};

/// A provider in memory.
#[derive(Default)]
pub struct Sim {
    /// Its own records, by key.
    pub records: BTreeMap<String, Json>,
    /// Deliveries waiting to be received: an id (a file name), lines.
    pub queue: VecDeque<(String, Vec<String>)>,
    /// Deliveries dropped so far, to name the next one.
    pub dropped: u64,
    /// Every batch tether sent, in order.
    pub batches: Vec<(i64, Vec<Operation>)>,
    /// Idempotency keys applied, and how many times each was sent.
    pub applied: HashMap<String, u32>,
    /// Operations tether sent since the test last looked.
    pub fresh: Vec<Operation>,
    /// Refuses operations whose record's JSON text contains this.
    pub refuse_if: Option<String>,
    /// How many sends fail (transiently) before one goes through.
    pub failures: u32,
}

impl Sim {
    /// Drops a delivery of lines (records or event envelopes).
    pub fn drop_lines(&mut self, lines: &[Json]) {
        self.drop_text(lines.iter().map(Json::to_string).collect());
    }

    /// Drops a delivery of raw lines.
    pub fn drop_text(&mut self, lines: Vec<String>) {
        self.dropped += 1;
        self.queue
            .push_back((format!("{:06}.ndjson", self.dropped), lines));
    }

    /// Takes the operations sent since the last call.
    pub fn take(&mut self) -> Vec<Operation> {
        std::mem::take(&mut self.fresh)
    }

    fn apply(&mut self, op: &Operation) {
        match op.op.as_str() {
            "delete" => {
                self.records.remove(&op.key);
            }
            "create" => {
                self.records
                    .insert(op.key.clone(), op.record.clone().unwrap_or(Json::Null));
            }
            _ => {
                let r = self
                    .records
                    .entry(op.key.clone())
                    .or_insert_with(|| json!({}));
                if let (Some(Json::Object(patch)), Json::Object(m)) = (&op.record, &mut *r) {
                    for (k, v) in patch {
                        m.insert(k.clone(), v.clone());
                    }
                    for k in &op.unset {
                        m.shift_remove(k);
                    }
                }
            }
        }
    }
}

impl Provider for Sim {
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        Ok(self.queue.iter().map(|(id, _)| id.clone()).collect())
    }

    fn open(&mut self, delivery: &str) -> Result<Items<'_>, ProviderError> {
        let lines = self
            .queue
            .iter()
            .find(|(id, _)| id == delivery)
            .map(|(_, lines)| lines.clone())
            .unwrap_or_default();
        // Blank lines are skipped, as the file connector skips them.
        Ok(Box::new(
            lines
                .into_iter()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Ok(parse_item(&l).into())),
        ))
    }

    fn ack(&mut self, delivery: &str) -> Result<(), ProviderError> {
        self.queue.retain(|(id, _)| id != delivery);
        Ok(())
    }

    fn send(&mut self, batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        if self.failures > 0 {
            self.failures -= 1;
            return Err(ProviderError {
                message: "503 Service Unavailable".into(),
                retryable: true,
            });
        }
        self.batches.push((batch, ops.to_vec()));
        let refused = |op: &Operation| {
            let text = op.record.as_ref().map(Json::to_string).unwrap_or_default();
            self.refuse_if
                .as_ref()
                .is_some_and(|r| text.contains(r.as_str()))
        };
        let outcomes: Vec<Sent> = ops
            .iter()
            .map(|op| {
                if refused(op) {
                    Sent::Refused("400 Bad Request: invalid Name".into())
                } else {
                    Sent::Accepted { native_id: None }
                }
            })
            .collect();
        for (op, outcome) in ops.iter().zip(&outcomes) {
            if matches!(outcome, Sent::Refused(_)) {
                continue;
            }
            let n = self.applied.entry(op.idempotency_key.clone()).or_default();
            *n += 1;
            if *n == 1 {
                self.apply(op);
                self.fresh.push(op.clone());
            }
        }
        Ok(outcomes)
    }
}

pub struct World {
    pub plans: MappingPlans,
    pub store: SqliteStore,
    pub left: Sim,
    pub right: Sim,
}

impl World {
    pub fn new(source: &str, mapping: &str) -> World {
        let compiled = compile_source("world.tether", source, None);
        let program = compiled.program.unwrap_or_else(|| {
            panic!(
                "the test mapping has errors: {:?}",
                compiled
                    .diagnostics
                    .iter()
                    .map(|d| d.message.clone())
                    .collect::<Vec<_>>()
            )
        });
        let mut file = PlanFile::of_program(&program);
        let i = file
            .mappings
            .iter()
            .position(|m| m.name == mapping)
            .expect("the mapping");
        World {
            plans: file.mappings.swap_remove(i),
            store: SqliteStore::in_memory().expect("store"),
            left: Sim::default(),
            right: Sim::default(),
        }
    }

    pub fn pass(&mut self) -> Summary {
        self.try_pass().expect("a pass")
    }

    pub fn try_pass(&mut self) -> Result<Summary, tether::sync::engine::SyncError> {
        let mut engine = Engine::new(&self.plans, &mut self.store);
        engine.retry_base = std::time::Duration::from_millis(1);
        // Small pages and batches: the tests go through the paging too.
        engine.page = 3;
        engine.send_batch = 2;
        engine.pass(&mut self.left, &mut self.right)
    }

    pub fn sim(&mut self, side: Side) -> &mut Sim {
        match side {
            Side::Left => &mut self.left,
            Side::Right => &mut self.right,
        }
    }
}

/// An event envelope.
pub fn event(id: &str, version: i64, record: Json) -> Json {
    json!({"event_id": id, "version": version, "record": record})
}
