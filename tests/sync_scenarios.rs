//! One scenario per behaviour of the sync runtime (issue 7): creates and
//! links, echoes, duplicates, stale events, every conflict rule, deletes,
//! dead letters and replay, review.

#[path = "support/world.rs"]
mod world;

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
    notes?: string?
    status?: string?
    updated?: string?
  }
}
schema erp {
  record Customer {
    ref: string
    Name?: string?
    Email?: string?
    Score?: int?
    Tags?: [string]?
    Notes?: string?
    Status?: string?
    Modified?: string?
    Archived?: bool?
    Id?: string?
  }
}
mapping customer: crm.Contact <-> erp.Customer {
  key id <-> ref
  ids id <-> Id
  name <-> Name
  email -> Email : trim | lower
  email <- Email
  score <-> Score
  tags <-> Tags
  notes <-> Notes
  status <-> Status
  conflict {
    default newest(updated, Modified)
    Name  prefer crm
    Email prefer erp unless blank
    Score max
    Tags  union
    Notes review
    on delete propagate
  }
}
"#;

fn world() -> World {
    World::new(MAPPING, "customer")
}

fn world_with(from: &str, to: &str) -> World {
    World::new(&MAPPING.replace(from, to), "customer")
}

fn ops(w: &mut World, side: Side) -> Vec<Json> {
    w.sim(side)
        .take()
        .into_iter()
        .map(|o| serde_json::to_value(o).expect("an operation is JSON"))
        .collect()
}

/// Both sides hold record 1 and are in sync (base established), with
/// these left and right records.
fn synced(w: &mut World, left: Json, right: Json) {
    w.left.drop_lines(&[left]);
    w.right.drop_lines(&[right]);
    w.pass();
    ops(w, Side::Left);
    ops(w, Side::Right);
}

#[test]
fn a_new_record_is_created_on_the_other_side_with_its_key() {
    let mut w = world();
    w.left
        .drop_lines(&[json!({"id": "1", "name": "Ada", "email": " ADA@X.COM "})]);
    let s = w.pass();
    assert_eq!((s.read, s.created, s.updated), (1, 1, 0));
    let sent = ops(&mut w, Side::Right);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["op"], "create");
    assert_eq!(sent[0]["key"], "1");
    assert_eq!(
        sent[0]["record"],
        json!({"ref": "1", "Name": "Ada", "Email": "ada@x.com"})
    );
    assert!(
        sent[0]["idempotency_key"]
            .as_str()
            .is_some_and(|k| k.starts_with("tk_") && k.len() == 35)
    );
    assert!(ops(&mut w, Side::Left).is_empty(), "nothing goes back left");
}

#[test]
fn a_create_is_linked_so_a_replayed_change_updates_instead() {
    let mut w = world();
    w.left
        .drop_lines(&[event("e1", 1, json!({"id": "1", "name": "Ada"}))]);
    w.pass();
    assert_eq!(ops(&mut w, Side::Right)[0]["op"], "create");
    // The right side has not reported the record yet; the left changes it.
    w.left
        .drop_lines(&[event("e2", 2, json!({"id": "1", "name": "Ada L."}))]);
    let s = w.pass();
    assert_eq!((s.created, s.updated), (0, 1));
    let sent = ops(&mut w, Side::Right);
    assert_eq!(sent[0]["op"], "update");
    assert_eq!(sent[0]["record"], json!({"Name": "Ada L.", "ref": "1"}));
}

#[test]
fn a_record_created_on_the_other_side_gets_its_id_linked() {
    let mut w = world();
    w.left.drop_lines(&[json!({"id": "1", "name": "Ada"})]);
    w.pass();
    let create = &ops(&mut w, Side::Right)[0];
    assert_eq!(create["op"], "create");
    assert!(
        create.get("id").is_none(),
        "the right side has not given it an id yet"
    );
    // The right side reports the record it created, with its own id.
    w.right
        .drop_lines(&[json!({"ref": "1", "Id": "003XYZ", "Name": "Ada"})]);
    assert_eq!(w.pass().unchanged, 1);
    let record = w
        .store
        .find_record("customer", Side::Left, "1")
        .expect("store")
        .expect("the record");
    assert_eq!(record.right.native_id.as_deref(), Some("003XYZ"));
    assert_eq!(record.left.native_id.as_deref(), Some("1"));
    // Writes to it now name it by that id.
    w.left.drop_lines(&[json!({"id": "1", "name": "Ada L."})]);
    w.pass();
    let update = &ops(&mut w, Side::Right)[0];
    assert_eq!(
        (update["op"].as_str(), update["id"].as_str()),
        (Some("update"), Some("003XYZ"))
    );
    // A right record reported by its key and id later is the same record.
    w.right
        .drop_lines(&[json!({"ref": "1", "Id": "003XYZ", "Name": "Ada R."})]);
    w.pass();
    assert_eq!(
        ops(&mut w, Side::Left)[0]["record"],
        json!({"name": "Ada R.", "id": "1"})
    );
}

#[test]
fn tethers_own_writes_echoing_back_are_no_ops() {
    let mut w = world();
    w.left
        .drop_lines(&[json!({"id": "1", "name": "Ada", "score": 3})]);
    w.pass();
    ops(&mut w, Side::Right);
    // The right side reports the record tether created, with its own
    // extra fields and a number written its own way.
    w.right.drop_lines(&[json!({
        "ref": "1", "Name": "Ada", "Score": 3, "Modified": "2024-01-01T00:00:00Z"
    })]);
    let s = w.pass();
    assert_eq!((s.unchanged, s.created, s.updated), (1, 0, 0));
    assert!(ops(&mut w, Side::Left).is_empty());
    assert!(ops(&mut w, Side::Right).is_empty());
}

#[test]
fn an_event_received_twice_is_applied_once() {
    let mut w = world();
    let e = event("evt-7", 1, json!({"id": "1", "name": "Ada"}));
    w.left.drop_lines(std::slice::from_ref(&e));
    w.left.drop_lines(std::slice::from_ref(&e));
    let s = w.pass();
    assert_eq!((s.read, s.duplicate, s.created), (2, 1, 1));
    // And again in a later pass.
    w.left.drop_lines(&[e]);
    let s = w.pass();
    assert_eq!((s.duplicate, s.created, s.updated), (1, 0, 0));
    assert_eq!(ops(&mut w, Side::Right).len(), 1);
}

#[test]
fn a_plain_record_delivered_again_is_a_no_op_and_a_change_back_is_not_lost() {
    let mut w = world();
    let a = json!({"id": "1", "name": "Ada"});
    let b = json!({"id": "1", "name": "Bea"});
    w.left.drop_lines(std::slice::from_ref(&a));
    w.pass();
    // The same content again: merged, nothing to write.
    w.left.drop_lines(std::slice::from_ref(&a));
    let s = w.pass();
    assert_eq!((s.unchanged, s.sent), (1, 0));
    // A → B → A: the change back is applied, not taken for a duplicate.
    w.left.drop_lines(&[b]);
    w.pass();
    w.left.drop_lines(&[a]);
    let s = w.pass();
    assert_eq!((s.duplicate, s.updated), (0, 1));
    assert_eq!(w.right.records["1"]["Name"], "Ada");
}

#[test]
fn an_older_event_arriving_late_is_stale_and_counted() {
    let mut w = world();
    w.left
        .drop_lines(&[event("e5", 5, json!({"id": "1", "name": "New"}))]);
    w.pass();
    w.left
        .drop_lines(&[event("e3", 3, json!({"id": "1", "name": "Old"}))]);
    let s = w.pass();
    assert_eq!((s.stale, s.updated), (1, 0));
    assert_eq!(w.right.records["1"]["Name"], "New");
    // Within one delivery too.
    w.left.drop_lines(&[
        event("e9", 9, json!({"id": "1", "name": "Newer"})),
        event("e8", 8, json!({"id": "1", "name": "Older"})),
    ]);
    let s = w.pass();
    assert_eq!(s.stale, 1);
    assert_eq!(w.right.records["1"]["Name"], "Newer");
}

#[test]
fn plain_records_are_versioned_by_the_newest_rules_timestamps() {
    let mut w = world();
    w.left.drop_lines(&[
        json!({"id": "1", "name": "B", "updated": "2024-01-02T00:00:00Z"}),
        json!({"id": "1", "name": "A", "updated": "2024-01-01T00:00:00Z"}),
    ]);
    let s = w.pass();
    assert_eq!(s.stale, 1);
    assert_eq!(w.right.records["1"]["Name"], "B");
}

#[test]
fn a_field_changed_on_one_side_flows_to_the_other() {
    let mut w = world();
    synced(
        &mut w,
        json!({"id": "1", "name": "Ada", "status": "new"}),
        json!({"ref": "1", "Name": "Ada", "Status": "new"}),
    );
    w.right
        .drop_lines(&[json!({"ref": "1", "Name": "Ada", "Status": "won"})]);
    let s = w.pass();
    assert_eq!(s.updated, 1);
    let sent = ops(&mut w, Side::Left);
    assert_eq!(sent[0]["record"], json!({"status": "won", "id": "1"}));
    assert!(ops(&mut w, Side::Right).is_empty());
}

#[test]
fn the_same_change_on_both_sides_only_moves_the_base() {
    let mut w = world();
    synced(
        &mut w,
        json!({"id": "1", "status": "new"}),
        json!({"ref": "1", "Status": "new"}),
    );
    w.left.drop_lines(&[json!({"id": "1", "status": "won"})]);
    w.right.drop_lines(&[json!({"ref": "1", "Status": "won"})]);
    let s = w.pass();
    assert_eq!((s.updated, s.unchanged), (0, 1));
    assert!(s.conflicts.is_empty());
}

/// Both sides change record 1 in the same pass.
fn conflict(w: &mut World, left: Json, right: Json) -> (Vec<Json>, Vec<Json>) {
    w.left.drop_lines(&[left]);
    w.right.drop_lines(&[right]);
    w.pass();
    (ops(w, Side::Left), ops(w, Side::Right))
}

#[test]
fn prefer_a_side() {
    let mut w = world();
    synced(
        &mut w,
        json!({"id": "1", "name": "Ada"}),
        json!({"ref": "1", "Name": "Ada"}),
    );
    let (to_left, to_right) = conflict(
        &mut w,
        json!({"id": "1", "name": "Ada L"}),
        json!({"ref": "1", "Name": "Ada R"}),
    );
    assert!(to_left.is_empty());
    assert_eq!(to_right[0]["record"]["Name"], "Ada L");
    let rs = w.store.resolutions("customer", "1").expect("resolutions");
    assert_eq!(rs.len(), 1);
    assert_eq!(
        (
            rs[0].field.as_str(),
            rs[0].rule.as_str(),
            rs[0].outcome.as_str()
        ),
        ("Name", "prefer crm", "left")
    );
    assert_eq!(
        (rs[0].left.as_str(), rs[0].right.as_str()),
        ("\"Ada L\"", "\"Ada R\"")
    );
}

#[test]
fn prefer_a_side_unless_blank() {
    let mut w = world();
    synced(
        &mut w,
        json!({"id": "1", "email": "a@x.com"}),
        json!({"ref": "1", "Email": "a@x.com"}),
    );
    // erp is preferred...
    let (to_left, to_right) = conflict(
        &mut w,
        json!({"id": "1", "email": "l@x.com"}),
        json!({"ref": "1", "Email": "r@x.com"}),
    );
    assert_eq!(to_left[0]["record"]["email"], "r@x.com");
    assert!(to_right.is_empty());
    // ...unless its value is blank.
    let (to_left, to_right) = conflict(
        &mut w,
        json!({"id": "1", "email": "L2@X.com"}),
        json!({"ref": "1", "Email": "  "}),
    );
    assert!(to_left.is_empty());
    assert_eq!(to_right[0]["record"]["Email"], "l2@x.com");
}

#[test]
fn newest_by_record_timestamps() {
    for (l, r, winner) in [
        ("2024-05-02T00:00:00Z", "2024-05-01T00:00:00Z", "left"),
        (
            "2024-05-01T00:00:00Z",
            "2024-05-01T07:00:00.000+0800",
            "left",
        ),
        (
            "2024-05-01T00:00:00Z",
            "2024-05-01T02:00:00.000+0000",
            "right",
        ),
        // A tie goes left, whatever the arrival order.
        (
            "2024-05-01T00:00:00Z",
            "2024-05-01T00:00:00.000+0000",
            "left",
        ),
    ] {
        let mut w = world();
        synced(
            &mut w,
            json!({"id": "1", "status": "a"}),
            json!({"ref": "1", "Status": "a"}),
        );
        let (to_left, to_right) = conflict(
            &mut w,
            json!({"id": "1", "status": "l", "updated": l}),
            json!({"ref": "1", "Status": "r", "Modified": r}),
        );
        match winner {
            "left" => {
                assert_eq!(to_right[0]["record"]["Status"], "l", "{l} vs {r}");
                assert!(to_left.iter().all(|o| o["record"].get("status").is_none()));
            }
            _ => {
                assert_eq!(to_left[0]["record"]["status"], "r", "{l} vs {r}");
                assert!(to_right.iter().all(|o| o["record"].get("Status").is_none()));
            }
        }
    }
}

#[test]
fn newest_without_timestamps_compares_the_events_versions() {
    let mut w = world_with("default newest(updated, Modified)", "default newest");
    synced(
        &mut w,
        json!({"id": "1", "status": "a"}),
        json!({"ref": "1", "Status": "a"}),
    );
    w.left
        .drop_lines(&[event("l2", 7, json!({"id": "1", "status": "l"}))]);
    w.right
        .drop_lines(&[event("r2", 9, json!({"ref": "1", "Status": "r"}))]);
    w.pass();
    assert_eq!(
        ops(&mut w, Side::Left)[0]["record"]["status"],
        "r",
        "version 9 beats 7"
    );
    assert!(ops(&mut w, Side::Right).is_empty());
}

#[test]
fn max_and_min() {
    for (rule, expect_left, expect_right) in [("max", Some(9), None), ("min", None, Some(5))] {
        let mut w = world_with("Score max", &format!("Score {rule}"));
        synced(
            &mut w,
            json!({"id": "1", "score": 1}),
            json!({"ref": "1", "Score": 1}),
        );
        let (to_left, to_right) = conflict(
            &mut w,
            json!({"id": "1", "score": 5}),
            json!({"ref": "1", "Score": 9}),
        );
        assert_eq!(
            to_left.first().map(|o| o["record"]["score"].clone()),
            expect_left.map(|v| json!(v)),
            "{rule}"
        );
        assert_eq!(
            to_right.first().map(|o| o["record"]["Score"].clone()),
            expect_right.map(|v| json!(v)),
            "{rule}"
        );
    }
}

#[test]
fn union_of_arrays() {
    let mut w = world();
    synced(
        &mut w,
        json!({"id": "1", "tags": ["a"]}),
        json!({"ref": "1", "Tags": ["a"]}),
    );
    let (to_left, to_right) = conflict(
        &mut w,
        json!({"id": "1", "tags": ["a", "b"]}),
        json!({"ref": "1", "Tags": ["a", "c"]}),
    );
    assert_eq!(to_left[0]["record"]["tags"], json!(["a", "b", "c"]));
    assert_eq!(
        to_right[0]["record"]["Tags"],
        json!(["a", "b", "c"]),
        "one array on both sides: the left's elements first"
    );
}

#[test]
fn review_parks_the_record_until_a_person_decides() {
    let mut w = world();
    synced(
        &mut w,
        json!({"id": "1", "name": "Ada", "notes": "n"}),
        json!({"ref": "1", "Name": "Ada", "Notes": "n"}),
    );
    let (to_left, to_right) = conflict(
        &mut w,
        json!({"id": "1", "name": "Ada", "notes": "left note"}),
        json!({"ref": "1", "Name": "Ada", "Notes": "right note"}),
    );
    assert!(
        to_left.is_empty() && to_right.is_empty(),
        "parked: nothing written"
    );
    let reviews = w.store.reviews("customer", true).expect("reviews");
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].fields[0].field, "Notes");
    assert_eq!(reviews[0].fields[0].left, "\"left note\"");
    // Later events for the record wait behind the review.
    w.left
        .drop_lines(&[json!({"id": "1", "name": "Ada B", "notes": "left note"})]);
    let s = w.pass();
    assert_eq!(s.waiting, 1);
    assert!(ops(&mut w, Side::Right).is_empty());
    assert!(
        w.store
            .resolve_review("customer", "1", Side::Right, None)
            .expect("resolve")
    );
    w.pass();
    let to_left = ops(&mut w, Side::Left);
    assert_eq!(to_left[0]["record"]["notes"], "right note");
    let to_right = ops(&mut w, Side::Right);
    assert_eq!(
        to_right[0]["record"]["Name"], "Ada B",
        "the waiting event follows"
    );
    assert!(
        w.store
            .reviews("customer", true)
            .expect("reviews")
            .is_empty()
    );
}

#[test]
fn deletes_follow_the_policy() {
    // propagate
    let mut w = world();
    synced(
        &mut w,
        json!({"id": "1", "name": "Ada"}),
        json!({"ref": "1", "Name": "Ada"}),
    );
    w.left
        .drop_lines(&[json!({"op": "delete", "event_id": "d1", "record": {"id": "1"}})]);
    let s = w.pass();
    assert_eq!(s.deleted, 1);
    let sent = ops(&mut w, Side::Right);
    assert_eq!(
        (sent[0]["op"].as_str(), sent[0]["key"].as_str()),
        (Some("delete"), Some("1"))
    );
    assert!(sent[0].get("record").is_none());
    // A later upsert is a new record.
    w.left
        .drop_lines(&[json!({"id": "1", "name": "Ada again"})]);
    w.pass();
    assert_eq!(ops(&mut w, Side::Right)[0]["op"], "create");

    // ignore
    let mut w = world_with("on delete propagate", "on delete ignore");
    synced(
        &mut w,
        json!({"id": "1", "name": "Ada"}),
        json!({"ref": "1", "Name": "Ada"}),
    );
    w.right
        .drop_lines(&[json!({"op": "delete", "event_id": "d1", "record": {"ref": "1"}})]);
    let s = w.pass();
    assert_eq!((s.deleted, s.deletes_ignored), (0, 1));
    assert!(ops(&mut w, Side::Left).is_empty());

    // review, then a person propagates it
    let mut w = world_with("on delete propagate", "on delete review");
    synced(
        &mut w,
        json!({"id": "1", "name": "Ada"}),
        json!({"ref": "1", "Name": "Ada"}),
    );
    w.right
        .drop_lines(&[json!({"op": "archive", "event_id": "d1", "record": {"ref": "1"}})]);
    let s = w.pass();
    assert_eq!(s.parked, 1);
    assert!(ops(&mut w, Side::Left).is_empty());
    let r = w.store.reviews("customer", true).expect("reviews");
    assert_eq!(r[0].reason, "delete on the right side");
    w.store
        .resolve_review("customer", "1", Side::Right, None)
        .expect("resolve");
    w.pass();
    assert_eq!(ops(&mut w, Side::Left)[0]["op"], "delete");
}

#[test]
fn a_record_that_fails_mapping_is_dead_lettered_and_later_events_wait() {
    let mut w = world();
    w.left.drop_lines(&[
        json!({"id": "1", "score": "lots"}),
        json!({"id": "2", "name": "Bob"}),
    ]);
    let s = w.pass();
    assert_eq!(
        (s.dead_lettered, s.created),
        (1, 1),
        "the other record goes on"
    );
    let letters = w.store.dead_letters("customer", true).expect("letters");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].key.as_deref(), Some("1"));
    assert_eq!(letters[0].errors[0].code.as_str(), "E1002");
    assert_eq!(letters[0].errors[0].path, "score");
    assert_eq!(letters[0].errors[0].value, "\"lots\"");
    // A later, good event for the same key does not overtake it.
    w.left
        .drop_lines(&[json!({"id": "1", "name": "Ada", "score": 2})]);
    let s = w.pass();
    assert_eq!((s.waiting, s.created), (1, 0));
    // Replay: the dead letter's event and the one waiting behind it are
    // merged in order; the newer record supersedes the bad one.
    let id = letters[0].id;
    assert!(
        w.store
            .settle_dead_letter("customer", id, true)
            .expect("replay")
    );
    let s = w.pass();
    assert_eq!((s.dead_lettered, s.created), (0, 1));
    let sent = ops(&mut w, Side::Right);
    assert_eq!(
        sent.last().map(|o| o["record"]["Name"].clone()),
        Some(json!("Ada"))
    );
    assert!(
        w.store
            .dead_letters("customer", true)
            .expect("letters")
            .is_empty()
    );
}

#[test]
fn a_replayed_dead_letter_that_fails_again_is_dead_again_and_discard_releases_its_key() {
    let mut w = world();
    w.left.drop_lines(&[json!({"id": "1", "score": "lots"})]);
    w.pass();
    let id = w.store.dead_letters("customer", true).expect("letters")[0].id;
    w.store
        .settle_dead_letter("customer", id, true)
        .expect("replay");
    let s = w.pass();
    assert_eq!(s.dead_lettered, 1, "replayed, and failed again");
    let letters = w.store.dead_letters("customer", false).expect("letters");
    assert_eq!(
        letters
            .iter()
            .map(|d| d.status.as_str())
            .collect::<Vec<_>>(),
        ["replayed", "open"]
    );
    w.left
        .drop_lines(&[json!({"id": "1", "name": "Ada", "score": 2})]);
    assert_eq!(w.pass().waiting, 1);
    w.store
        .settle_dead_letter("customer", letters[1].id, false)
        .expect("discard");
    let s = w.pass();
    assert_eq!((s.created, s.dead_lettered), (1, 0));
}

#[test]
fn a_record_without_a_key_or_not_json_is_dead_lettered() {
    let mut w = world();
    w.left.drop_lines(&[json!({"name": "no id"})]);
    w.left.drop_text(vec!["{not json".into()]);
    let s = w.pass();
    assert_eq!(s.dead_lettered, 2);
    let letters = w.store.dead_letters("customer", true).expect("letters");
    assert_eq!(letters[0].errors[0].code.as_str(), "E1009");
    assert!(letters[0].errors[0].message.contains("no key `id`"));
    assert_eq!(letters[1].errors[0].code.as_str(), "E1001");
}

#[test]
fn a_second_pass_over_the_same_input_writes_nothing() {
    let mut w = world();
    let lines = [
        json!({"id": "1", "name": "Ada"}),
        json!({"id": "2", "name": "Bob"}),
    ];
    w.left.drop_lines(&lines);
    let s = w.pass();
    assert_eq!(s.created, 2);
    w.left.drop_lines(&lines);
    let s = w.pass();
    assert_eq!((s.created, s.updated, s.unchanged, s.sent), (0, 0, 2, 0));
}

#[test]
fn event_ids_are_forgotten_after_the_retention_window() {
    let mut w = world();
    let e = event("evt-1", 1, json!({"id": "1", "name": "Ada"}));
    w.left.drop_lines(std::slice::from_ref(&e));
    w.pass();
    w.left.drop_lines(std::slice::from_ref(&e));
    assert_eq!(w.pass().duplicate, 1, "inside the window: a duplicate");
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert!(w.store.prune(0).expect("prune") >= 1);
    w.left.drop_lines(&[e]);
    let s = w.pass();
    assert_eq!(s.duplicate, 0, "forgotten: received again");
    assert_eq!(
        (s.unchanged, s.sent),
        (1, 0),
        "and still a no-op: its values are the base"
    );
}

#[test]
fn merge_fields_pair_the_rules_of_both_directions() {
    let compiled = tether::compile::compile_file(
        std::path::Path::new("mappings/crm/hubspot_salesforce.tether"),
        &[],
    )
    .expect("read");
    let program = compiled.program.expect("the CRM mapping checks");
    let plans = tether::plan::PlanFile::of_program(&program);
    let spec = &plans.mappings[0].sync;
    let path = |p: &str| p.split('.').map(String::from).collect::<Vec<_>>();
    assert_eq!(spec.key, Some((path("id"), path("HubSpot_Id__c"))));
    let summary: Vec<(String, bool, bool, Option<String>)> = spec
        .fields
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                f.to_right.is_some(),
                f.to_left.is_some(),
                f.rule.as_ref().map(|r| spec.describe(r)),
            )
        })
        .collect();
    let expect = |name: &str, right: bool, left: bool, rule: Option<&str>| {
        (name.to_string(), right, left, rule.map(String::from))
    };
    assert_eq!(
        summary,
        [
            // `properties.email -> Email` and `properties.email <- Email`:
            // one field, both ways.
            expect("Email", true, true, Some("prefer salesforce unless blank")),
            expect("FirstName", true, true, None),
            expect("LastName", true, true, None),
            expect("Phone", true, true, None),
            expect("Status__c", true, true, Some("prefer hubspot")),
            expect("Annual_Revenue__c", true, true, None),
            expect("HubSpot_Created__c", true, false, None),
        ],
        "the key rule is not a merge field"
    );
    assert_eq!(
        spec.describe(&spec.default_rule),
        "newest(updatedAt, LastModifiedDate)"
    );
    assert_eq!(
        spec.timestamps,
        Some((path("updatedAt"), path("LastModifiedDate")))
    );
    assert_eq!(spec.on_delete, tether::syntax::DeletePolicy::Review);
    assert_eq!(
        spec.delete_flags,
        [(tether::base::Side::Left, path("archived"))]
    );
}

#[test]
fn an_archive_flag_is_a_delete_of_its_side() {
    let mut w = world_with("on delete propagate", "on delete propagate when Archived");
    synced(
        &mut w,
        json!({"id": "1", "name": "Ada"}),
        json!({"ref": "1", "Name": "Ada", "Archived": false}),
    );
    w.right
        .drop_lines(&[json!({"ref": "1", "Name": "Ada", "Archived": true})]);
    let s = w.pass();
    assert_eq!(s.deleted, 1);
    assert_eq!(ops(&mut w, Side::Left)[0]["op"], "delete");
}

#[test]
fn a_delete_flag_must_be_a_boolean_field() {
    let source = MAPPING.replace("on delete propagate", "on delete propagate when Name");
    let compiled = tether::compile::compile_source("flag.tether", &source, None);
    assert!(compiled.program.is_none());
    let d = compiled
        .diagnostics
        .iter()
        .find(|d| d.code.to_string() == "E0201")
        .expect("E0201");
    assert_eq!(d.message, "`Name` is not a boolean field");
    let source = MAPPING.replace("on delete propagate", "on delete propagate when Archivd");
    let compiled = tether::compile::compile_source("flag.tether", &source, None);
    assert!(
        compiled
            .diagnostics
            .iter()
            .any(|d| d.code.to_string() == "E0103"),
        "an unknown flag field: {:?}",
        compiled
            .diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_second_delete_policy_is_an_error() {
    let source = MAPPING.replace(
        "on delete propagate",
        "on delete propagate\n    on delete ignore",
    );
    let compiled = tether::compile::compile_source("two.tether", &source, None);
    assert!(compiled.program.is_none());
    assert!(
        compiled
            .diagnostics
            .iter()
            .any(|d| d.code.to_string() == "E0003" && d.message == "a second `on delete` policy"),
        "{:?}",
        compiled
            .diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
}

#[test]
fn transient_send_failures_are_retried_and_a_failed_send_keeps_its_rows() {
    let mut w = world();
    w.right.failures = 2;
    w.left.drop_lines(&[json!({"id": "1", "name": "Ada"})]);
    let s = w.pass();
    assert_eq!((s.created, s.sent), (1, 1), "sent on the third attempt");
    // Down for good: the pass fails, the operation stays in the outbox...
    w.right.failures = 100;
    w.left.drop_lines(&[json!({"id": "1", "name": "Ada B"})]);
    let err = w.try_pass().expect_err("the right side is down");
    assert!(err.to_string().contains("503"), "{err}");
    let pending = w
        .store
        .pending("customer", Side::Right, 100)
        .expect("pending");
    assert_eq!(pending.len(), 1);
    // ...and goes out, with the same idempotency key, when it is back.
    w.right.failures = 0;
    let s = w.pass();
    assert_eq!(s.sent, 1);
    let sent = ops(&mut w, Side::Right);
    assert_eq!(
        sent[1]["idempotency_key"],
        json!(pending[0].operation.idempotency_key)
    );
}

#[test]
fn a_refused_write_is_a_dead_letter_its_record_waits_and_replay_sends_it_again() {
    let mut w = world();
    w.right.refuse_if = Some("BAD".into());
    w.left.drop_lines(&[
        json!({"id": "1", "name": "BAD"}),
        json!({"id": "2", "name": "Bob"}),
    ]);
    let s = w.pass();
    assert_eq!((s.dead_lettered, s.sent), (1, 2));
    assert_eq!(w.right.records.len(), 1, "the other record went through");
    assert_eq!(ops(&mut w, Side::Right).len(), 1);
    let letters = w.store.dead_letters("customer", true).expect("letters");
    assert_eq!(letters[0].key.as_deref(), Some("1"));
    assert!(letters[0].errors[0].message.contains("400 Bad Request"));
    let refused = letters[0]
        .operation
        .clone()
        .expect("the refused write is kept");
    w.left
        .drop_lines(&[json!({"id": "1", "name": "BAD", "email": "a@x.com"})]);
    assert_eq!(w.pass().waiting, 1, "later events wait behind the refusal");
    // The provider is fixed; replay sends the same write again, then the
    // waiting event follows.
    w.right.refuse_if = None;
    w.store
        .settle_dead_letter("customer", letters[0].id, true)
        .expect("replay");
    w.pass();
    let sent = ops(&mut w, Side::Right);
    assert_eq!(sent[0]["idempotency_key"], json!(refused.idempotency_key));
    assert_eq!(sent[0]["op"], "create");
    assert_eq!(sent[1]["record"]["Email"], "a@x.com");
}

#[test]
fn an_ids_field_must_exist_on_its_side() {
    let source = MAPPING.replace("ids id <-> Id", "ids id <-> Idd");
    let compiled = tether::compile::compile_source("ids.tether", &source, None);
    assert!(compiled.program.is_none());
    let d = compiled
        .diagnostics
        .iter()
        .find(|d| d.code.to_string() == "E0103")
        .expect("E0103");
    assert!(d.message.contains("Idd"), "{}", d.message);
    assert_eq!(d.help.as_deref(), Some("did you mean `Id`?"));
}

#[test]
fn a_review_of_several_fields_is_released_when_every_field_is_decided() {
    let mut w = world_with("Tags  union", "Tags  review");
    synced(
        &mut w,
        json!({"id": "1", "notes": "n", "tags": ["a"]}),
        json!({"ref": "1", "Notes": "n", "Tags": ["a"]}),
    );
    conflict(
        &mut w,
        json!({"id": "1", "notes": "L", "tags": ["l"]}),
        json!({"ref": "1", "Notes": "R", "Tags": ["r"]}),
    );
    let parked = &w.store.reviews("customer", true).expect("reviews")[0];
    let mut fields: Vec<&str> = parked.fields.iter().map(|f| f.field.as_str()).collect();
    fields.sort();
    assert_eq!(fields, ["Notes", "Tags"]);
    assert!(
        w.store
            .resolve_review("customer", "1", Side::Left, Some("Notes"))
            .expect("resolve")
    );
    assert_eq!(
        w.store.reviews("customer", true).expect("reviews").len(),
        1,
        "Tags is open"
    );
    w.pass();
    assert!(ops(&mut w, Side::Right).is_empty(), "still parked");
    assert!(
        !w.store
            .resolve_review("customer", "1", Side::Left, Some("Nope"))
            .expect("resolve"),
        "no such parked field"
    );
    w.store
        .resolve_review("customer", "1", Side::Right, Some("Tags"))
        .expect("resolve");
    w.pass();
    let to_right = ops(&mut w, Side::Right);
    let to_left = ops(&mut w, Side::Left);
    assert_eq!(to_right[0]["record"]["Notes"], "L");
    assert_eq!(to_left[0]["record"]["tags"], json!(["r"]));
    let rules: Vec<String> = w
        .store
        .resolutions("customer", "1")
        .expect("resolutions")
        .into_iter()
        .map(|r| r.rule)
        .collect();
    assert!(
        rules.iter().any(|r| r == "review (resolved by a person)"),
        "{rules:?}"
    );
}

#[test]
fn a_delete_meeting_a_change_in_the_same_pass_follows_the_delete_policy() {
    let mut w = world();
    synced(
        &mut w,
        json!({"id": "1", "name": "Ada"}),
        json!({"ref": "1", "Name": "Ada"}),
    );
    w.left.drop_lines(&[json!({"id": "1", "name": "Ada L"})]);
    w.right
        .drop_lines(&[json!({"op": "delete", "event_id": "d", "record": {"ref": "1"}})]);
    let s = w.pass();
    assert_eq!(s.deleted, 1);
    assert_eq!(ops(&mut w, Side::Left)[0]["op"], "delete");
    assert!(ops(&mut w, Side::Right).is_empty());
}
