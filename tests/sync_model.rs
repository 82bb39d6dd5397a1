//! A model-based property test of the sync runtime: random interleavings
//! of edits on both sides, duplicated and reordered deliveries, echoes of
//! tether's own writes, and passes. After quiescence both providers agree
//! on every mapped field, every record exists on both sides, and no
//! operation was sent twice.

#[path = "support/world.rs"]
mod world;

use proptest::prelude::*;
use serde_json::{Value as Json, json};
use tether::base::Side;
use tether::sync::store::Store;
use world::{World, event};

const MAPPING: &str = r#"
schema crm {
  record Contact {
    id: string
    name?: string?
    email?: string?
    score?: int?
    tags?: [string]?
    updated?: int?
  }
}
schema erp {
  record Customer {
    ref: string
    Name?: string?
    Email?: string?
    Score?: int?
    Tags?: [string]?
    Modified?: int?
  }
}
mapping customer: crm.Contact <-> erp.Customer {
  key id <-> ref
  name  <-> Name
  email <-> Email
  score <-> Score
  tags  <-> Tags
  conflict {
    default newest(updated, Modified)
    Email prefer erp unless blank
    Score max
    Tags  union
  }
}
"#;

/// (left name, right name) of each merge field.
const FIELDS: [(&str, &str); 4] = [
    ("name", "Name"),
    ("email", "Email"),
    ("score", "Score"),
    ("tags", "Tags"),
];

#[derive(Clone, Debug)]
enum Step {
    /// A person edits a field of a record on one side.
    Edit {
        side: Side,
        key: u8,
        field: usize,
        value: u8,
    },
    /// The side delivers its newest event again.
    Duplicate(Side),
    /// The side's two oldest undelivered deliveries swap places.
    Reorder(Side),
    /// The side reports the records tether wrote to it.
    Echo(Side),
    Pass,
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Left), Just(Side::Right)]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (side(), 0u8..3, 0usize..4, 0u8..4).prop_map(|(side, key, field, value)| Step::Edit {
            side,
            key,
            field,
            value
        }),
        1 => side().prop_map(Step::Duplicate),
        1 => side().prop_map(Step::Reorder),
        2 => side().prop_map(Step::Echo),
        2 => Just(Step::Pass),
    ]
}

/// The simulated providers' clocks and event counters.
struct Model {
    world: World,
    clock: i64,
    events: u64,
    last: [Option<Json>; 2],
}

impl Model {
    fn key_field(side: Side) -> &'static str {
        if side == Side::Left { "id" } else { "ref" }
    }

    fn stamp_field(side: Side) -> &'static str {
        if side == Side::Left {
            "updated"
        } else {
            "Modified"
        }
    }

    /// The side reports record `key` as it now is.
    fn report(&mut self, side: Side, key: &str) {
        self.clock += 1;
        self.events += 1;
        let (clock, id) = (self.clock, format!("{side}-{}", self.events));
        let sim = self.world.sim(side);
        let Some(record) = sim.records.get_mut(key) else {
            return;
        };
        record[Self::stamp_field(side)] = json!(clock);
        let e = event(&id, clock, record.clone());
        sim.drop_lines(std::slice::from_ref(&e));
        self.last[side as usize] = Some(e);
    }

    fn run(&mut self, step: &Step) {
        match step {
            Step::Edit {
                side,
                key,
                field,
                value,
            } => {
                let key = key.to_string();
                let name = if *side == Side::Left {
                    FIELDS[*field].0
                } else {
                    FIELDS[*field].1
                };
                let value = match field {
                    2 => json!(value),
                    3 => json!([format!("t{value}")]),
                    _ => json!(format!("v{value}")),
                };
                let record = self
                    .world
                    .sim(*side)
                    .records
                    .entry(key.clone())
                    .or_insert_with(|| json!({ Self::key_field(*side): key.clone() }));
                record[name] = value;
                self.report(*side, &key);
            }
            Step::Duplicate(side) => {
                if let Some(e) = self.last[*side as usize].clone() {
                    self.world.sim(*side).drop_lines(&[e]);
                }
            }
            Step::Reorder(side) => {
                let q = &mut self.world.sim(*side).queue;
                if q.len() >= 2 {
                    q.swap(0, 1);
                }
            }
            Step::Echo(side) => {
                let keys: Vec<String> = self
                    .world
                    .sim(*side)
                    .take()
                    .into_iter()
                    .map(|op| op.key)
                    .collect();
                for k in keys {
                    self.report(*side, &k);
                }
            }
            Step::Pass => {
                self.world.pass();
            }
        }
    }

    /// Delivers everything, echoes every write and polls every record
    /// until a pass sends nothing.
    fn quiesce(&mut self) -> bool {
        for _ in 0..12 {
            for side in [Side::Left, Side::Right] {
                let keys: Vec<String> = self.world.sim(side).records.keys().cloned().collect();
                self.world.sim(side).take();
                for k in keys {
                    self.report(side, &k);
                }
            }
            if self.world.pass().sent == 0 {
                return true;
            }
        }
        false
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn both_sides_agree_after_quiescence(steps in prop::collection::vec(step(), 1..40)) {
        let mut m = Model {
            world: World::new(MAPPING, "customer"),
            clock: 0,
            events: 0,
            last: [None, None],
        };
        for s in &steps {
            m.run(s);
        }
        prop_assert!(m.quiesce(), "no quiescence after 12 rounds");
        let (left, right) = (&m.world.left.records, &m.world.right.records);
        prop_assert_eq!(
            left.keys().collect::<Vec<_>>(),
            right.keys().collect::<Vec<_>>(),
            "every record exists on both sides"
        );
        for (key, l) in left {
            let r = &right[key];
            for (lf, rf) in FIELDS {
                prop_assert_eq!(l.get(lf), r.get(rf), "record {} field {}", key, lf);
            }
        }
        for sim in [&m.world.left, &m.world.right] {
            for (k, n) in &sim.applied {
                prop_assert_eq!(*n, 1, "operation {} sent {} times", k, n);
            }
            // And no record was created twice under two keys.
            let mut creates = std::collections::BTreeMap::new();
            for op in sim.batches.iter().flat_map(|(_, ops)| ops) {
                if op.op == tether::sync::store::OpKind::Create {
                    *creates.entry(op.key.clone()).or_insert(0) += 1;
                }
            }
            for (key, n) in creates {
                prop_assert_eq!(n, 1, "record {} created {} times", key, n);
            }
        }
    }
}

/// The rules decide concurrent edits the same way whatever the delivery
/// order: `max` keeps the larger score, `union` keeps both tags.
#[test]
fn concurrent_edits_resolve_by_the_rules_in_either_order() {
    for left_first in [true, false] {
        let mut m = Model {
            world: World::new(MAPPING, "customer"),
            clock: 0,
            events: 0,
            last: [None, None],
        };
        m.run(&Step::Edit {
            side: Side::Left,
            key: 1,
            field: 2,
            value: 1,
        });
        m.quiesce();
        let edits = [
            Step::Edit {
                side: Side::Left,
                key: 1,
                field: 2,
                value: 3,
            },
            Step::Edit {
                side: Side::Right,
                key: 1,
                field: 2,
                value: 2,
            },
            Step::Edit {
                side: Side::Left,
                key: 1,
                field: 3,
                value: 1,
            },
            Step::Edit {
                side: Side::Right,
                key: 1,
                field: 3,
                value: 2,
            },
        ];
        let order: Vec<&Step> = if left_first {
            edits.iter().collect()
        } else {
            edits.iter().rev().collect()
        };
        for s in order {
            m.run(s);
        }
        assert!(m.quiesce());
        let l = &m.world.left.records["1"];
        assert_eq!(l["score"], json!(3), "max");
        let mut tags: Vec<String> = l["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect();
        tags.sort();
        assert_eq!(tags, ["t1", "t2"], "union");
        assert_eq!(m.world.right.records["1"]["Score"], json!(3));
    }
}

/// Any delivery, however malformed, is stored and merged or dead-lettered:
/// never a panic, never a lost event.
fn junk_line() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z0-9 ]{0,8}".prop_map(Json::String),
        Just(json!({"x": [1, {"y": null}]})),
    ];
    let record = (
        prop::option::of(scalar.clone()),
        prop::option::of(scalar.clone()),
        prop::option::of(scalar.clone()),
        prop::option::of(scalar.clone()),
    )
        .prop_map(|(id, name, score, tags)| {
            let mut m = serde_json::Map::new();
            for (k, v) in [("id", id), ("name", name), ("score", score), ("tags", tags)] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Json::Object(m)
        });
    prop_oneof![
        "\\PC{0,40}",
        record.clone().prop_map(|r| r.to_string()),
        (record, "[a-z]{0,6}", prop::option::of(scalar)).prop_map(|(r, op, version)| {
            json!({"event_id": "e", "op": op, "version": version, "record": r}).to_string()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_is_merged_or_dead_lettered(
        lines in prop::collection::vec(junk_line(), 1..12),
    ) {
        let mut w = World::new(MAPPING, "customer");
        let n = lines.iter().filter(|l| !l.trim().is_empty()).count() as u64;
        w.left.drop_text(lines);
        let s = w.pass();
        prop_assert_eq!(s.read, n);
        // Every stored event was dealt with: merged, stale, dead-lettered
        // or waiting behind a dead letter; none is left unprocessed.
        let left = w.store.received("customer", 1000).expect("received");
        prop_assert!(left.is_empty(), "unprocessed: {:?}", left);
        // A second pass over nothing changes nothing.
        let again = w.pass();
        prop_assert_eq!(again.read, 0);
        prop_assert_eq!(again.sent, 0);
    }
}
