//! Issue 17 items 1, 3, 5, 13, 14 and 15: the file system and the state
//! store under hostile or careless hands. Planted symbolic links are never
//! written through, a file still being written is left for the next pass,
//! an emptied or foreign store is refused, typos create nothing, exit codes
//! tell of open work, and unusable event fields are dead letters.

#![cfg(unix)]

mod common;

#[path = "support/scratch.rs"]
mod scratch;
use common::tether;
use scratch::Scratch;
use serde_json::{Value as Json, json};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tether::compile::compile_source;
use tether::plan::{MappingPlans, PlanFile};
use tether::sync::engine::{Engine, Summary};
use tether::sync::filedrop::{FileDrop, Note};
use tether::sync::provider::{Items, Provider, ProviderError, Sent};
use tether::sync::store::{Operation, SqliteStore, Store};

const MAPPING: &str = r#"
schema crm {
  record Contact {
    id: string
    name?: string?
    at?: int?
  }
}
schema erp {
  record Customer {
    ref: string
    Name?: string?
    At?: datetime?
  }
}
mapping customer: crm.Contact <-> erp.Customer {
  key id <-> ref
  name <-> Name
  at -> At : parse_datetime("epoch_seconds")
  at <- At : to_epoch_seconds
}
"#;

/// A fresh folder for one test, with the mapping written into it.
fn scratch(name: &str) -> Scratch {
    let dir = Scratch::new("hostile-fs", name);
    fs::write(dir.join("m.tether"), MAPPING).expect("mapping");
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Two side folders with their inboxes, in `dir`.
fn sides(dir: &Path) -> (PathBuf, PathBuf) {
    let (crm, erp) = (dir.join("crm"), dir.join("erp"));
    for side in [&crm, &erp] {
        fs::create_dir_all(side.join("inbox")).expect("inbox");
    }
    (crm, erp)
}

fn lines(records: &[Json]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// `tether sync --once` on the scratch folder's mapping.
fn sync(dir: &Path, left: &Path, right: &Path, more: &[&str]) -> (Option<i32>, String, String) {
    let mapping = dir.join("m.tether");
    let state = dir.join("state.db");
    let mut args = vec![
        "sync",
        s(&mapping),
        "--mapping",
        "customer",
        "--state",
        s(&state),
        "--left",
        s(left),
        "--right",
        s(right),
        "--once",
        "--format",
        "json",
    ];
    args.extend(more);
    tether(&args)
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn is_link(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
}

// ------------------------------------------------------------ item 1: links

#[test]
fn a_link_planted_at_the_next_batchs_temporary_name_is_not_written_through() {
    let dir = scratch("outbox-link");
    let (crm, erp) = sides(&dir);
    let victim = dir.join("victim.txt");
    fs::write(&victim, "precious").expect("victim");
    fs::create_dir_all(erp.join("outbox")).expect("outbox");
    let planted = erp.join("outbox").join(".0000000001.ndjson.tmp");
    symlink(&victim, &planted).expect("symlink");
    fs::write(
        crm.join("inbox").join("1.ndjson"),
        lines(&[json!({"id": "1", "name": "Ada"})]),
    )
    .expect("drop");
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(fs::read_to_string(&victim).expect("victim"), "precious");
    let batch = erp.join("outbox").join("0000000001.ndjson");
    assert!(!is_link(&batch), "the batch is a file of its own");
    assert!(
        fs::read_to_string(&batch)
            .expect("batch")
            .contains(r#""op":"create""#)
    );
}

#[test]
fn links_and_folders_in_the_inbox_are_errors_that_name_them_and_are_left_alone() {
    let dir = scratch("inbox-link");
    let (crm, erp) = sides(&dir);
    // Records outside the drop folder, reached through a link.
    let outside = dir.join("outside.ndjson");
    fs::write(&outside, lines(&[json!({"id": "9", "name": "Eve"})])).expect("outside");
    symlink(&outside, crm.join("inbox").join("evil.ndjson")).expect("symlink");
    fs::create_dir_all(crm.join("inbox").join("folder.ndjson")).expect("folder");
    fs::write(
        crm.join("inbox").join("good.ndjson"),
        lines(&[json!({"id": "1", "name": "Ada"})]),
    )
    .expect("drop");
    // A link in done/ under the name the delivery will move to.
    fs::create_dir_all(crm.join("done")).expect("done");
    symlink(&outside, crm.join("done").join("good.ndjson")).expect("symlink");
    let (code, out, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("evil.ndjson is a symbolic link") && err.contains("left alone"),
        "{err}"
    );
    assert!(err.contains("done/good.ndjson is a symbolic link"), "{err}");
    assert!(err.contains("folder.ndjson is a folder"), "{err}");
    let summary: Json = serde_json::from_str(&out).expect("summary");
    assert_eq!(
        summary["read"], 1,
        "the regular file is read, the link is not"
    );
    assert!(
        is_link(&crm.join("inbox").join("evil.ndjson")),
        "left alone"
    );
    assert!(outside.exists(), "the link's target is not moved");
    assert_eq!(
        names_in(&crm.join("done")),
        ["good.ndjson", "good.ndjson.1"]
    );
    assert!(
        is_link(&crm.join("done").join("good.ndjson")),
        "not replaced"
    );
    assert_eq!(
        fs::read_to_string(&outside).expect("outside"),
        lines(&[json!({"id": "9", "name": "Eve"})])
    );
}

#[test]
fn side_folders_that_are_links_are_refused() {
    let dir = scratch("outbox-folder-link");
    let (crm, erp) = sides(&dir);
    let elsewhere = dir.join("elsewhere");
    fs::create_dir_all(&elsewhere).expect("elsewhere");
    symlink(&elsewhere, erp.join("outbox")).expect("symlink");
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("outbox is a symbolic link"), "{err}");
}

#[test]
fn run_outputs_refuse_a_planted_link() {
    let dir = scratch("run-output");
    let victim = dir.join("victim.txt");
    fs::write(&victim, "precious").expect("victim");
    let input = dir.join("in.ndjson");
    fs::write(&input, lines(&[json!({"id": "1", "name": "Ada"})])).expect("input");
    let mapping = dir.join("m.tether");
    for flag in ["--output", "--rejects"] {
        let link = dir.join(format!("link{flag}"));
        symlink(&victim, &link).expect("symlink");
        let (code, _, err) = tether(&[
            "run",
            s(&mapping),
            "--mapping",
            "customer",
            "--input",
            s(&input),
            flag,
            s(&link),
        ]);
        assert_eq!(code, Some(2), "{flag}: {err}");
        assert!(err.contains("is a symbolic link"), "{flag}: {err}");
        assert_eq!(fs::read_to_string(&victim).expect("victim"), "precious");
    }
}

#[test]
fn build_never_writes_through_a_link_beside_its_output() {
    let dir = scratch("build-output");
    let victim = dir.join("victim.txt");
    fs::write(&victim, "precious").expect("victim");
    let plan = dir.join("crm.tplan");
    // Both temporary names a plan was ever written under, and the plan's
    // own name: the plan replaces a link there, never writes through it.
    symlink(&victim, dir.join("crm.tmp")).expect("symlink");
    symlink(&victim, dir.join(".crm.tplan.tmp")).expect("symlink");
    symlink(&victim, &plan).expect("symlink");
    let (code, _, err) = tether(&["build", s(&dir.join("m.tether")), "-o", s(&plan)]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(fs::read_to_string(&victim).expect("victim"), "precious");
    assert!(!is_link(&plan), "the link is replaced by the plan");
    assert!(
        fs::read_to_string(&plan)
            .expect("plan")
            .contains("tether-plan")
    );
}

#[test]
fn the_state_lock_is_not_opened_through_a_link() {
    let dir = scratch("lock-link");
    let (crm, erp) = sides(&dir);
    let target = dir.join("made-by-tether");
    symlink(&target, dir.join("state.db.lock")).expect("symlink");
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is a symbolic link"), "{err}");
    assert!(!target.exists(), "nothing is created at the link's target");
}

// ------------------------------------------- item 3: files still being written

fn plans() -> MappingPlans {
    let compiled = compile_source("m.tether", MAPPING, None);
    let program = compiled.program.expect("the mapping compiles");
    let mut file = PlanFile::of_program(&program);
    file.mappings.swap_remove(0)
}

/// A file drop whose provider appends `extra` to a delivery after it was
/// read and before it is acknowledged: a writer still at work, driven at
/// the exact moment, without racing a real writer.
struct GrowsBeforeAck {
    drop: FileDrop,
    path: PathBuf,
    extra: Option<String>,
}

impl Provider for GrowsBeforeAck {
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        self.drop.pending()
    }
    fn open(&mut self, delivery: &str) -> Result<Items<'_>, ProviderError> {
        self.drop.open(delivery)
    }
    fn ack(&mut self, delivery: &str) -> Result<(), ProviderError> {
        if let Some(extra) = self.extra.take() {
            let mut f = fs::OpenOptions::new()
                .append(true)
                .open(&self.path)
                .expect("append");
            std::io::Write::write_all(&mut f, extra.as_bytes()).expect("append");
        }
        self.drop.ack(delivery)
    }
    fn send(&mut self, batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        self.drop.send(batch, ops)
    }
}

fn pass(
    plans: &MappingPlans,
    store: &mut SqliteStore,
    left: &mut dyn Provider,
    right: &mut dyn Provider,
) -> Summary {
    Engine::new(plans, store).pass(left, right).expect("a pass")
}

fn created_keys(side: &Path) -> Vec<String> {
    let mut keys = Vec::new();
    for name in names_in(&side.join("outbox")) {
        let text = fs::read_to_string(side.join("outbox").join(name)).expect("batch");
        for line in text.lines() {
            let op: Json = serde_json::from_str(line).expect("an operation");
            if op["op"] == "create" {
                keys.push(op["key"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    keys.sort();
    keys
}

/// A stored event whose record no longer parses (a damaged or
/// hand-edited row) is a dead letter saying so, never merged as `null`
/// (issue 18, item 4).
#[test]
fn a_stored_record_that_no_longer_parses_is_a_dead_letter() {
    let dir = scratch("damaged-row");
    let (crm, erp) = sides(&dir);
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let damaged = tether::sync::store::NewEvent {
        side: tether::base::Side::Left,
        event_id: "e1".into(),
        op: tether::sync::store::EventOp::Upsert,
        version: None,
        record: "{\"id\": \"1\", \"na".into(),
        side_key: Some("1".into()),
        record_key: Some("1".into()),
        malformed: None,
    };
    store
        .insert_events("customer", &[damaged], None)
        .expect("stored");
    let mut left = FileDrop::open(&crm, false).expect("crm");
    let mut right = FileDrop::open(&erp, false).expect("erp");
    let summary = pass(&plans, &mut store, &mut left, &mut right);
    assert_eq!(summary.dead_lettered, 1, "{summary}");
    assert!(created_keys(&erp).is_empty());
    let letters = store.dead_letters("customer", true).expect("letters");
    assert_eq!(letters[0].errors[0].code.as_str(), "E1001");
    assert!(
        letters[0].errors[0].message.contains("is not JSON"),
        "{:?}",
        letters[0].errors
    );
}

#[test]
fn a_file_grown_between_read_and_move_stays_and_its_rest_is_read_next_pass() {
    let dir = scratch("grown");
    let (crm, erp) = sides(&dir);
    let path = crm.join("inbox").join("1.ndjson");
    fs::write(
        &path,
        lines(&[json!({"id": "1"}), json!({"id": "2"}), json!({"id": "3"})]),
    )
    .expect("drop");
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = GrowsBeforeAck {
        drop: FileDrop::open(&crm, false).expect("crm"),
        path: path.clone(),
        extra: Some(lines(&[json!({"id": "4"}), json!({"id": "5"})])),
    };
    let mut right = FileDrop::open(&erp, false).expect("erp");
    let first = pass(&plans, &mut store, &mut left, &mut right);
    assert_eq!(first.read, 3);
    assert_eq!(
        names_in(&crm.join("inbox")),
        ["1.ndjson"],
        "not moved to done/"
    );
    assert!(names_in(&crm.join("done")).is_empty());
    assert!(
        left.drop
            .take_notes()
            .iter()
            .any(|n| matches!(n, Note::Unfinished { .. }))
    );
    let second = pass(&plans, &mut store, &mut left, &mut right);
    assert_eq!((second.read, second.duplicate), (5, 3));
    assert_eq!(names_in(&crm.join("done")), ["1.ndjson"]);
    assert_eq!(created_keys(&erp), ["1", "2", "3", "4", "5"]);
    assert!(
        store
            .dead_letters("customer", true)
            .expect("letters")
            .is_empty()
    );
}

/// Sets a file's modification time `ago` in the past: a file in that state
/// has settled (explicit file state, no sleeping).
fn age(path: &Path, ago: Duration) {
    let f = fs::File::options().write(true).open(path).expect("open");
    f.set_modified(SystemTime::now() - ago).expect("set mtime");
}

#[test]
fn a_last_line_cut_short_waits_until_it_is_finished_or_settled() {
    let dir = scratch("cut-short");
    let (crm, erp) = sides(&dir);
    let path = crm.join("inbox").join("1.ndjson");
    fs::write(&path, "{\"id\": \"1\"}\n{\"id\": \"2\", \"na").expect("drop");
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = FileDrop::open(&crm, false).expect("crm");
    let mut right = FileDrop::open(&erp, false).expect("erp");
    let first = pass(&plans, &mut store, &mut left, &mut right);
    assert_eq!((first.read, first.dead_lettered), (1, 0), "{first}");
    assert_eq!(names_in(&crm.join("inbox")), ["1.ndjson"]);
    // The writer finishes the line.
    fs::write(
        &path,
        "{\"id\": \"1\"}\n{\"id\": \"2\", \"name\": \"Bo\"}\n",
    )
    .expect("finish");
    let second = pass(&plans, &mut store, &mut left, &mut right);
    assert_eq!((second.read, second.duplicate), (2, 1), "{second}");
    assert_eq!(names_in(&crm.join("done")), ["1.ndjson"]);
    assert_eq!(created_keys(&erp), ["1", "2"]);

    // A provider that never ends its last line: read once it has settled.
    let path = crm.join("inbox").join("2.ndjson");
    fs::write(&path, "{\"id\": \"3\"}").expect("drop");
    let held = pass(&plans, &mut store, &mut left, &mut right);
    assert_eq!(held.read, 0);
    age(&path, left.settle + Duration::from_secs(1));
    let read = pass(&plans, &mut store, &mut left, &mut right);
    assert_eq!(read.read, 1);
    assert_eq!(names_in(&crm.join("done")), ["1.ndjson", "2.ndjson"]);
}

/// `sync --settle` sets how long an unfinished-looking file waits: a
/// file fresh from its writer is held by the default (5 s) and read at
/// once with `--settle 0`.
#[test]
fn the_settle_interval_is_an_option_of_sync() {
    let dir = scratch("settle-option");
    let (crm, erp) = sides(&dir);
    fs::write(
        crm.join("inbox").join("1.ndjson"),
        "{\"id\": \"7\", \"name\": \"Al\"}",
    )
    .expect("drop");
    let (code, out, err) = sync(&dir, &crm, &erp, &["--create"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("\"read\":0"), "held by the default: {out}");
    assert_eq!(names_in(&crm.join("inbox")), ["1.ndjson"]);
    let (code, out, err) = sync(&dir, &crm, &erp, &["--settle", "0"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("\"read\":1"), "read at once: {out}");
    assert_eq!(names_in(&crm.join("done")), ["1.ndjson"]);
}

#[test]
fn a_document_cut_short_waits_but_a_malformed_one_is_a_dead_letter() {
    let dir = scratch("doc-cut-short");
    let (crm, erp) = sides(&dir);
    let cut = crm.join("inbox").join("1.json");
    fs::write(&cut, r#"[{"id": "1"}, {"id": "#).expect("drop");
    fs::write(crm.join("inbox").join("2.json"), r#"{"id": "2",, }"#).expect("drop");
    let plans = plans();
    let mut store = SqliteStore::in_memory().expect("store");
    let mut left = FileDrop::open(&crm, false).expect("crm");
    let mut right = FileDrop::open(&erp, false).expect("erp");
    let first = pass(&plans, &mut store, &mut left, &mut right);
    assert_eq!((first.read, first.dead_lettered), (1, 1), "{first}");
    assert_eq!(names_in(&crm.join("inbox")), ["1.json"]);
    fs::write(&cut, r#"[{"id": "1"}, {"id": "2b"}]"#).expect("finish");
    let second = pass(&plans, &mut store, &mut left, &mut right);
    assert_eq!((second.read, second.dead_lettered), (2, 0), "{second}");
    assert_eq!(names_in(&crm.join("done")), ["1.json", "2.json"]);
}

// ------------------------------------------------------------ item 5: stores

#[test]
fn an_emptied_or_foreign_state_store_is_refused() {
    let dir = scratch("store");
    let (crm, erp) = sides(&dir);
    fs::write(
        crm.join("inbox").join("1.ndjson"),
        lines(&[json!({"id": "1"})]),
    )
    .expect("drop");
    let state = dir.join("state.db");
    fs::write(&state, "").expect("an emptied store");
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("not a tether state store (the file is empty)"),
        "{err}"
    );
    assert_eq!(
        fs::metadata(&state).expect("state").len(),
        0,
        "left as it was"
    );
    assert_eq!(names_in(&crm.join("inbox")), ["1.ndjson"], "nothing read");

    fs::write(&state, "name,email\n").expect("a CSV file");
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not an SQLite database"), "{err}");

    // An SQLite database of something else.
    fs::remove_file(&state).expect("rm");
    let other = rusqlite::Connection::open(&state).expect("sqlite");
    other
        .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .expect("table");
    drop(other);
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("without tether's tables"), "{err}");

    // Where no file is, a first run creates the store.
    fs::remove_file(&state).expect("rm");
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_store_of_a_newer_tether_says_so_plainly() {
    let dir = scratch("newer");
    let (crm, erp) = sides(&dir);
    assert_eq!(sync(&dir, &crm, &erp, &[]).0, Some(0));
    let conn = rusqlite::Connection::open(dir.join("state.db")).expect("sqlite");
    conn.pragma_update(None, "user_version", 99)
        .expect("version");
    drop(conn);
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("schema version 99, written by a newer tether") && err.contains("upgrade"),
        "{err}"
    );
    assert!(!err.contains("Invalid parameter name"), "{err}");
}

// ------------------------------------------------------------- item 13: typos

#[test]
fn typos_create_no_state() {
    let dir = scratch("typos");
    let (crm, _) = sides(&dir);
    let missing = dir.join("nonexistent");
    let (code, _, err) = sync(&dir, &crm, &missing, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("does not exist (pass --create"), "{err}");
    assert!(!missing.exists(), "no folder made");
    assert!(!dir.join("state.db").exists(), "no store made");
    // Asked for, the side is made.
    assert_eq!(sync(&dir, &crm, &missing, &["--create"]).0, Some(0));
    assert!(missing.join("inbox").is_dir());

    // One folder for both sides, also by another spelling.
    let same = crm.join("..").join("crm");
    let (code, _, err) = sync(&dir, &crm, &same, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("are the same folder"), "{err}");

    let typo = dir.join("typo.db");
    for cmd in [&["dlq", "list"][..], &["review", "list"][..]] {
        let (code, _, err) =
            tether(&[cmd, &["--state", s(&typo), "--mapping", "customer"][..]].concat());
        assert_eq!(code, Some(2), "{cmd:?}");
        assert!(err.contains("no such state store"), "{err}");
        assert!(!typo.exists(), "{cmd:?} made no store");
    }
    let state = dir.join("state.db");
    let (code, _, err) = tether(&["dlq", "list", "--state", s(&state), "--mapping", "nope"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("holds nothing of mapping `nope`") && err.contains("customer"),
        "{err}"
    );
    let (code, _, _) = tether(&["dlq", "list", "--state", s(&state), "--mapping", "customer"]);
    assert_eq!(code, Some(0));
}

// ------------------------------------------------------- item 14: exit codes

#[test]
fn open_work_exits_3_on_every_pass_and_monitors_can_ask() {
    let dir = scratch("exits");
    let (crm, erp) = sides(&dir);
    fs::write(
        crm.join("inbox").join("1.ndjson"),
        "not json\n{\"id\": \"1\"}\n",
    )
    .expect("drop");
    let (code, _, _) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(3), "the pass that dead-lettered");
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(
        code,
        Some(3),
        "a later pass, while the letter is open: {err}"
    );
    assert!(err.contains("open: 1 dead letter(s)"), "{err}");

    let state = dir.join("state.db");
    let store = ["--state", s(&state), "--mapping", "customer"];
    let (code, out, _) = tether(&[&["dlq", "list", "--fail-if-any"][..], &store].concat());
    assert_eq!(code, Some(3));
    assert!(out.contains("E1001"), "{out}");
    let (code, _, _) = tether(&[&["dlq", "list"][..], &store].concat());
    assert_eq!(code, Some(0), "listing alone is not a failure");
    let (code, out, _) = tether(
        &[
            &["review", "list", "--format", "json", "--fail-if-any"][..],
            &store,
        ]
        .concat(),
    );
    assert_eq!((code, out.as_str()), (Some(0), ""), "nothing to review");

    let (code, _, _) = tether(&[&["dlq", "discard", "1"][..], &store].concat());
    assert_eq!(code, Some(0));
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(0), "no open work: {err}");
}

#[test]
fn review_list_speaks_json() {
    let dir = scratch("review-json");
    let (crm, erp) = sides(&dir);
    // Both sides change the same record: `name <-> Name` has no rule, so
    // a conflict on it is parked only with a review rule; make one.
    let mapping = MAPPING.replace(
        "  at <- At : to_epoch_seconds\n}",
        "  at <- At : to_epoch_seconds\n  conflict { name review }\n}",
    );
    fs::write(dir.join("m.tether"), mapping).expect("mapping");
    fs::write(
        crm.join("inbox").join("1.ndjson"),
        lines(&[json!({"id": "1", "name": "A"})]),
    )
    .expect("drop");
    assert_eq!(sync(&dir, &crm, &erp, &[]).0, Some(0));
    fs::write(
        crm.join("inbox").join("2.ndjson"),
        lines(&[json!({"id": "1", "name": "B"})]),
    )
    .expect("drop");
    fs::write(
        erp.join("inbox").join("1.ndjson"),
        lines(&[json!({"ref": "1", "Name": "C"})]),
    )
    .expect("drop");
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(3), "{err}");
    let state = dir.join("state.db");
    let (code, out, _) = tether(&[
        "review",
        "list",
        "--format",
        "json",
        "--fail-if-any",
        "--state",
        s(&state),
        "--mapping",
        "customer",
    ]);
    assert_eq!(code, Some(3));
    let review: Json = serde_json::from_str(out.lines().next().unwrap_or("")).expect("json");
    assert_eq!(review["key"], "1");
    assert_eq!(review["fields"][0]["field"], "Name");
}

#[test]
fn two_first_runs_racing_report_the_lock_plainly() {
    let dir = scratch("race");
    let (crm, erp) = sides(&dir);
    // One holds the lock (as a running sync does); the other is told so,
    // before it touches the store.
    let lock = fs::File::create(dir.join("state.db.lock")).expect("lock");
    lock.try_lock().expect("locked");
    let (code, _, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("another `tether sync` is using"), "{err}");
    assert!(!err.contains("database is locked"), "{err}");
    assert!(!dir.join("state.db").exists(), "the store is not touched");
}

// ---------------------------------------------------------- item 15: events

#[test]
fn unusable_event_fields_are_dead_letters_with_a_reason() {
    let dir = scratch("events");
    let (crm, erp) = sides(&dir);
    let events = [
        json!({"event_id": "e1", "version": "yesterday", "record": {"id": "1"}}),
        json!({"event_id": {"n": 1}, "record": {"id": "2"}}),
        json!({"event_id": "e3", "record": {"id": ""}}),
        json!({"event_id": "e4", "version": 3, "record": {"id": "4"}}),
    ];
    fs::write(crm.join("inbox").join("1.ndjson"), lines(&events)).expect("drop");
    fs::write(crm.join("inbox").join("2.csv"), "id,name\n5,Eve\n").expect("csv");
    let (code, out, err) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("2.csv is not a file tether reads") && err.contains("left alone"),
        "{err}"
    );
    let summary: Json = serde_json::from_str(&out).expect("summary");
    assert_eq!(
        (summary["read"].as_u64(), summary["dead_lettered"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(
        names_in(&crm.join("inbox")),
        ["2.csv"],
        "the CSV is not read"
    );
    assert_eq!(created_keys(&erp), ["4"]);
    let state = dir.join("state.db");
    let (_, out, _) = tether(&[
        "dlq",
        "list",
        "--format",
        "json",
        "--state",
        s(&state),
        "--mapping",
        "customer",
    ]);
    let letters: Vec<Json> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a letter"))
        .collect();
    let messages: Vec<&str> = letters
        .iter()
        .filter_map(|l| l["errors"][0]["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`version` must be an integer or a date-time")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`event_id` must be") && m.contains("an object")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("key `id` is empty")),
        "{messages:?}"
    );
}

#[test]
fn epoch_values_outside_the_range_of_dates_are_dead_letters() {
    let dir = scratch("epoch");
    let (crm, erp) = sides(&dir);
    fs::write(
        crm.join("inbox").join("1.ndjson"),
        lines(&[
            json!({"id": "1", "at": 9223372036854775807_i64}),
            json!({"id": "2", "at": 100}),
        ]),
    )
    .expect("drop");
    fs::write(
        crm.join("inbox").join("2.ndjson"),
        "{\"id\": \"3\", \"at\": 99999999999999999999}\n",
    )
    .expect("drop");
    let (code, out, _) = sync(&dir, &crm, &erp, &[]);
    assert_eq!(code, Some(3));
    let summary: Json = serde_json::from_str(&out).expect("summary");
    assert_eq!(summary["dead_lettered"], 2);
    assert_eq!(created_keys(&erp), ["2"]);
    let state = dir.join("state.db");
    let (_, out, _) = tether(&["dlq", "list", "--state", s(&state), "--mapping", "customer"]);
    assert!(
        out.contains("outside the supported range of dates"),
        "{out}"
    );
    assert!(out.contains("E1002"), "{out}");
}

// ------------------------------------------- property: any inbox, no harm

/// One entry a provider (or someone with write access) may leave in an
/// inbox.
#[derive(Clone, Debug)]
enum Entry {
    /// An NDJSON file of records with these ids; `ended`: the last line has
    /// its line end; `settled`: unchanged for longer than the settle time.
    Ndjson {
        ids: Vec<u8>,
        ended: bool,
        settled: bool,
    },
    /// A link to the victim file outside the folder.
    Link,
    Folder,
    Fifo,
    Csv,
}

fn entry() -> impl proptest::strategy::Strategy<Value = Entry> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (prop::collection::vec(0u8..20, 1..5), any::<bool>(), any::<bool>())
            .prop_map(|(ids, ended, settled)| Entry::Ndjson { ids, ended, settled }),
        1 => Just(Entry::Link),
        1 => Just(Entry::Folder),
        1 => Just(Entry::Fifo),
        1 => Just(Entry::Csv),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

    /// Whatever is in an inbox, a pass neither fails nor panics, nothing
    /// outside the side folders is touched, non-files stay where they are,
    /// and every complete line (or settled file) is stored exactly once,
    /// the rest waiting in `inbox/`.
    #[test]
    fn any_inbox_is_synced_without_harm(entries in proptest::collection::vec(entry(), 1..6)) {
        static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = scratch(&format!("prop-{n}"));
        let (crm, erp) = sides(&dir);
        let victim = dir.join("victim.ndjson");
        let precious = lines(&[json!({"id": "victim"})]);
        fs::write(&victim, &precious).expect("victim");
        let inbox = crm.join("inbox");
        let mut expected = std::collections::BTreeSet::new();
        let mut waiting = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let path = inbox.join(format!("{i}.ndjson"));
            match e {
                Entry::Ndjson { ids, ended, settled } => {
                    let mut text: String = ids
                        .iter()
                        .map(|id| format!("{}\n", json!({"id": format!("{i}-{id}")})))
                        .collect();
                    if !ended {
                        text.pop();
                    }
                    fs::write(&path, text).expect("file");
                    if *settled {
                        age(&path, Duration::from_secs(60));
                    }
                    let whole = *ended || *settled;
                    let read = if whole { ids.len() } else { ids.len() - 1 };
                    expected.extend(ids[..read].iter().map(|id| format!("{i}-{id}")));
                    if !whole {
                        waiting.push(format!("{i}.ndjson"));
                    }
                }
                Entry::Link => symlink(&victim, &path).expect("link"),
                Entry::Folder => fs::create_dir_all(&path).expect("folder"),
                Entry::Fifo => {
                    let c = std::ffi::CString::new(s(&path)).expect("path");
                    // SAFETY: a valid NUL-terminated path; mkfifo only
                    // creates a directory entry.
                    let made = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
                    proptest::prop_assert_eq!(made, 0);
                }
                Entry::Csv => fs::write(inbox.join(format!("{i}.csv")), "id\n1\n").expect("csv"),
            }
        }
        let plans = plans();
        let mut store = SqliteStore::in_memory().expect("store");
        let mut left = FileDrop::open(&crm, false).expect("crm");
        let mut right = FileDrop::open(&erp, false).expect("erp");
        let summary = Engine::new(&plans, &mut store).pass(&mut left, &mut right);
        proptest::prop_assert!(summary.is_ok(), "{:?}", summary.err());
        proptest::prop_assert_eq!(fs::read_to_string(&victim).expect("victim"), precious);
        let created: std::collections::BTreeSet<String> = created_keys(&erp).into_iter().collect();
        proptest::prop_assert_eq!(created, expected);
        for (i, e) in entries.iter().enumerate() {
            let path = inbox.join(format!("{i}.ndjson"));
            let kind = fs::symlink_metadata(&path).map(|m| m.file_type());
            let kept = match e {
                Entry::Link => kind.is_ok_and(|t| t.is_symlink()),
                Entry::Folder => kind.is_ok_and(|t| t.is_dir()),
                Entry::Fifo => kind.is_ok_and(|t| std::os::unix::fs::FileTypeExt::is_fifo(&t)),
                Entry::Csv => inbox.join(format!("{i}.csv")).exists(),
                Entry::Ndjson { .. } => true,
            };
            proptest::prop_assert!(kept, "entry {} ({:?}) left alone", i, e);
        }
        let left_in_inbox: Vec<String> = names_in(&inbox)
            .into_iter()
            .filter(|name| {
                fs::symlink_metadata(inbox.join(name)).is_ok_and(|m| m.file_type().is_file())
                    && name.ends_with(".ndjson")
            })
            .collect();
        proptest::prop_assert_eq!(left_in_inbox, waiting);
        let _ = fs::remove_dir_all(&dir);
    }
}
