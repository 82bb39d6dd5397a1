//! The real `tether sync` against the CRM-like fake, for the fault and
//! crash suites (issue 19): a bounded run of the binary, and the end state
//! a run leaves (the fake's contacts, the folder side's outbox, the
//! store's counts) in a form two runs can be compared by.

#![allow(dead_code)]

#[path = "scratch.rs"]
mod scratch;
pub use scratch::Scratch;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longer than any run of these suites takes, even on a busy machine: a
/// run still going then is hung, and is killed.
pub const RUN_LIMIT: Duration = Duration::from_secs(90);

pub fn scratch(suite: &str, name: &str) -> Scratch {
    Scratch::new(suite, name)
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// What a run of the binary left: exit code (`None`: killed by a signal,
/// an abort), stdout, stderr.
pub struct Run {
    pub code: Option<i32>,
    pub out: String,
    pub err: String,
}

impl Run {
    /// The JSON summary `--format json` prints.
    pub fn summary(&self) -> Json {
        serde_json::from_str(self.out.trim()).unwrap_or(Json::Null)
    }
}

/// `tether ARGS` with `env` set (and no other `FAKECRM_*` variable),
/// killed after [`RUN_LIMIT`]. Output goes through files in `dir`, so a
/// chatty run cannot block on a full pipe.
pub fn tether(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out_path = dir.join("run.stdout");
    let err_path = dir.join("run.stderr");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("FAKECRM_") || k == "TETHER_FAILPOINT" {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::from(
        std::fs::File::create(&out_path).expect("stdout file"),
    ))
    .stderr(Stdio::from(
        std::fs::File::create(&err_path).expect("stderr file"),
    ));
    let mut child = cmd.spawn().expect("run tether");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tether {args:?} still running after {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        out: std::fs::read_to_string(&out_path).unwrap_or_default(),
        err: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// `tether sync MAPPING --mapping contact` between the folder `erp` and
/// the provider `fakecrm`, one pass, creating, with a JSON summary.
pub fn sync_args<'a>(mapping: &'a str, state: &'a str, erp: &'a str) -> Vec<&'a str> {
    vec![
        "sync",
        mapping,
        "--mapping",
        "contact",
        "--state",
        state,
        "--left",
        erp,
        "--right",
        "provider:fakecrm",
        "--once",
        "--create",
        "--format",
        "json",
    ]
}

/// Every operation tether wrote to a folder side's outbox, by idempotency
/// key; a key written twice must carry the same operation.
pub fn outbox(side: &Path) -> BTreeMap<String, Json> {
    let mut ops = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(side.join("outbox")) else {
        return ops;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).expect("outbox file");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let op: Json = serde_json::from_str(line).expect("an operation line");
            let key = op["idempotency_key"].as_str().expect("a key").to_string();
            if let Some(before) = ops.insert(key.clone(), op.clone()) {
                assert_eq!(
                    before, op,
                    "idempotency key {key} written with two contents"
                );
            }
        }
    }
    ops
}

/// The records an outbox's operations carry, by key (idempotency keys
/// differ between runs that numbered their batches differently).
pub fn outbox_records(side: &Path) -> BTreeMap<String, Vec<Json>> {
    let mut by_key: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for op in outbox(side).into_values() {
        let key = op["key"].as_str().unwrap_or_default().to_string();
        by_key
            .entry(key)
            .or_default()
            .push(json_without(&op, &["idempotency_key", "batch"]));
    }
    for ops in by_key.values_mut() {
        ops.sort_by_key(Json::to_string);
    }
    by_key
}

fn json_without(v: &Json, drop: &[&str]) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.iter()
                .filter(|(k, _)| !drop.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The store's counts, by table and status: what a run that crashed and
/// resumed must leave as an uninterrupted one does.
pub fn counts(state: &Path) -> BTreeMap<String, i64> {
    let db =
        rusqlite::Connection::open_with_flags(state, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the state store");
    let mut counts = BTreeMap::new();
    for (name, sql) in [
        ("records", "SELECT 'all', COUNT(*) FROM records"),
        (
            "records blocked",
            "SELECT COALESCE(blocked, 'no'), COUNT(*) FROM records GROUP BY 1",
        ),
        (
            "inbox",
            "SELECT side || ' ' || status, COUNT(*) FROM inbox GROUP BY 1",
        ),
        (
            "outbox",
            "SELECT side || ' ' || status, COUNT(*) FROM outbox GROUP BY 1",
        ),
        (
            "dead letters",
            "SELECT status, COUNT(*) FROM dead_letters GROUP BY 1",
        ),
        ("reviews", "SELECT status, COUNT(*) FROM reviews GROUP BY 1"),
    ] {
        let mut stmt = db.prepare(sql).expect("a count");
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .expect("counted");
        for row in rows {
            let (what, n) = row.expect("a row");
            counts.insert(format!("{name}: {what}"), n);
        }
    }
    counts
}

/// The fake's contacts by `ref`: their properties (ids and sequence
/// numbers depend on the order things happened in, not on what).
pub fn contacts_by_ref(contacts: &[Json]) -> BTreeMap<String, Vec<Json>> {
    let mut by_ref: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for c in contacts {
        let r = c["properties"]["ref"].as_str().unwrap_or_default();
        by_ref
            .entry(r.to_string())
            .or_default()
            .push(c["properties"].clone());
    }
    by_ref
}
