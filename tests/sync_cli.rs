//! `tether build`, `run` from a plan, and `tether sync` on folders: the
//! README demo, a second pass writing nothing, crash safety at every fail
//! point and under SIGKILL.

mod common;

#[path = "support/scratch.rs"]
mod scratch;
use common::tether;
use scratch::Scratch;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const CRM: &str = "mappings/crm/hubspot_salesforce.tether";

/// A fresh folder for one test.
fn scratch(name: &str) -> Scratch {
    Scratch::new("sync", name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Drops `lines` into a side's inbox as one NDJSON file.
fn drop_file(side: &Path, name: &str, lines: &[Json]) {
    let inbox = side.join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(inbox.join(name), text).expect("drop");
}

/// `tether sync --once` with a JSON summary, in batches of 50 operations
/// (several outbox files, so a crash can land between two sends).
fn sync_args<'a>(plan: &'a str, state: &'a str, left: &'a str, right: &'a str) -> Vec<&'a str> {
    vec![
        "sync",
        plan,
        "--mapping",
        "contact",
        "--state",
        state,
        "--left",
        left,
        "--right",
        right,
        "--once",
        "--format",
        "json",
        "--batch-size",
        "50",
        // Side folders that do not exist yet are created (a first run).
        "--create",
    ]
}

/// Every operation in a side's outbox files, by idempotency key; fails if
/// one key was written with two different contents.
fn outbox(side: &Path) -> BTreeMap<String, Json> {
    let mut ops = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(side.join("outbox")) else {
        return ops;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).expect("outbox file");
        for line in text.lines() {
            let op: Json = serde_json::from_str(line).expect("an operation line");
            let key = op["idempotency_key"].as_str().expect("a key").to_string();
            if let Some(before) = ops.insert(key.clone(), op.clone()) {
                assert_eq!(before, op, "idempotency key {key} sent with two contents");
            }
        }
    }
    ops
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.flatten().count())
}

#[test]
fn a_plan_runs_like_its_sources_and_an_incompatible_one_is_refused() {
    let dir = scratch("plan");
    let plan = dir.join("crm.tplan");
    let (code, _, err) = tether(&["build", CRM, "-o", s(&plan)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("wrote"));
    let text = std::fs::read_to_string(&plan).expect("plan");
    let header: Json = serde_json::from_str(text.lines().next().expect("header")).expect("json");
    assert_eq!(header["format"], "tether-plan");
    assert_eq!(header["plan_format"], 5);
    assert_eq!(header["tether_version"], env!("CARGO_PKG_VERSION"));
    assert!(
        header["source_hash"]
            .as_str()
            .is_some_and(|h| h.starts_with("sha256:"))
    );
    assert_eq!(header["mappings"], json!(["contact"]));
    // The same sources give the same plan file, byte for byte.
    let again = dir.join("again.tplan");
    tether(&["build", CRM, "-o", s(&again)]);
    assert_eq!(std::fs::read(&again).expect("again"), text.as_bytes());

    for reverse in [false, true] {
        let input = if reverse {
            "mappings/crm/salesforce_contacts.ndjson"
        } else {
            "mappings/crm/hubspot_contacts.ndjson"
        };
        let mut args = vec!["run", "--mapping", "contact", "--input", input];
        if reverse {
            args.push("--reverse");
        }
        let from_source = tether(&[&["run", CRM][..], &args[1..]].concat());
        let mut with_plan = vec!["run", s(&plan)];
        with_plan.extend(&args[1..]);
        let from_plan = tether(&with_plan);
        assert_eq!(from_plan.0, from_source.0);
        assert_eq!(from_plan.1, from_source.1, "reverse: {reverse}");
        assert!(!from_plan.1.is_empty());
    }

    // A plan needs none of its sources: run where they do not exist.
    let input = std::fs::canonicalize("mappings/crm/hubspot_contacts.ndjson").expect("input");
    let elsewhere = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "run",
            "crm.tplan",
            "--mapping",
            "contact",
            "--input",
            s(&input),
        ])
        .current_dir(&dir)
        .output()
        .expect("run");
    let from_source = tether(&["run", CRM, "--mapping", "contact", "--input", s(&input)]);
    assert_eq!(elsewhere.status.code(), from_source.0);
    assert_eq!(String::from_utf8_lossy(&elsewhere.stdout), from_source.1);

    let newer = text.replacen("\"plan_format\":5", "\"plan_format\":99", 1);
    let newer_path = dir.join("newer.tplan");
    std::fs::write(&newer_path, newer).expect("write");
    let (code, _, err) = tether(&["run", s(&newer_path), "--mapping", "contact"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("format 99") && err.contains("rebuild"),
        "{err}"
    );

    let damaged_path = dir.join("damaged.tplan");
    std::fs::write(&damaged_path, &text[..text.len() / 2]).expect("write");
    let (code, _, err) = tether(&["run", s(&damaged_path), "--mapping", "contact"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("damaged"), "{err}");
}

#[test]
fn the_demo_syncs_and_a_second_pass_on_the_same_input_writes_nothing() {
    let dir = scratch("demo");
    let (hub, sf) = (dir.join("hubspot"), dir.join("salesforce"));
    let state = dir.join("state.db");
    for (side, file) in [
        (&hub, "mappings/crm/hubspot_contacts.ndjson"),
        (&sf, "mappings/crm/salesforce_contacts.ndjson"),
    ] {
        std::fs::create_dir_all(side.join("inbox")).expect("inbox");
        std::fs::copy(file, side.join("inbox").join("contacts.ndjson")).expect("copy");
    }
    let args = sync_args(CRM, s(&state), s(&hub), s(&sf));
    let (code, out, err) = tether(&args);
    assert_eq!(code, Some(3), "dead letters exit 3: {err}");
    let summary: Json = serde_json::from_str(&out).expect("a JSON summary");
    assert_eq!(summary["read"], 9);
    assert_eq!(summary["dead_lettered"], 2);
    assert!(summary["updated"].as_u64() > Some(0));
    assert_eq!(files_in(&hub.join("inbox")), 0, "inbox files move to done/");
    assert_eq!(files_in(&hub.join("done")), 1);
    let sent_once = outbox(&sf);
    assert!(!sent_once.is_empty());

    // The same files uploaded again: every event is a duplicate.
    for (side, file) in [
        (&hub, "mappings/crm/hubspot_contacts.ndjson"),
        (&sf, "mappings/crm/salesforce_contacts.ndjson"),
    ] {
        std::fs::copy(file, side.join("inbox").join("contacts.ndjson")).expect("copy");
    }
    let outbox_files = files_in(&sf.join("outbox")) + files_in(&hub.join("outbox"));
    let (code, out, _) = tether(&args);
    let summary: Json = serde_json::from_str(&out).expect("a JSON summary");
    // Nothing new, but the first pass's dead letters are still open.
    assert_eq!(code, Some(3), "open dead letters exit 3 on every pass");
    assert_eq!(summary["duplicate"], 9);
    assert_eq!(summary["sent"], 0);
    assert_eq!(
        files_in(&sf.join("outbox")) + files_in(&hub.join("outbox")),
        outbox_files
    );
    assert_eq!(files_in(&hub.join("done")), 2, "the earlier upload is kept");
    // The same records in a new file: merged again, and nothing to write
    // (the two dead-lettered records wait behind their letters).
    std::fs::copy(
        "mappings/crm/hubspot_contacts.ndjson",
        hub.join("inbox").join("later.ndjson"),
    )
    .expect("copy");
    let (code, out, _) = tether(&args);
    assert_eq!(code, Some(3), "events wait behind open dead letters");
    let summary: Json = serde_json::from_str(&out).expect("a JSON summary");
    assert_eq!(
        (
            summary["unchanged"].as_u64(),
            summary["waiting"].as_u64(),
            summary["sent"].as_u64()
        ),
        (Some(3), Some(2), Some(0))
    );
    // Salesforce applies the updates and reports the contacts back, with
    // its own ids and new modification dates: echoes, nothing to write.
    std::fs::copy(
        "mappings/crm/salesforce_echo.ndjson",
        sf.join("inbox").join("echo.ndjson"),
    )
    .expect("copy");
    let (_, out, _) = tether(&args);
    let summary: Json = serde_json::from_str(&out).expect("a JSON summary");
    assert_eq!(
        (summary["unchanged"].as_u64(), summary["sent"].as_u64()),
        (Some(3), Some(0)),
        "{summary}"
    );

    // The dead letters, and what tether knows of a record.
    let store = ["--state", s(&state), "--mapping", "contact"];
    let (code, out, _) = tether(&[&["dlq", "list"][..], &store].concat());
    assert_eq!(code, Some(0));
    assert!(
        out.contains("E1003") && out.contains("properties.annualrevenue"),
        "{out}"
    );
    let (code, out, _) = tether(&[&["dlq", "show", "2"][..], &store].concat());
    assert_eq!(code, Some(0));
    let letter: Json = serde_json::from_str(&out).expect("a dead letter as JSON");
    assert!(
        letter["errors"][0]["rule"]
            .as_str()
            .is_some_and(|r| r.contains("hubspot_salesforce.tether:"))
    );
    let (code, out, _) = tether(&[
        "sync",
        CRM,
        "--mapping",
        "contact",
        "--state",
        s(&state),
        "--explain",
        "52",
    ]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("record 52")
            && out.contains("Status__c: prefer hubspot → left")
            && out.contains("right (salesforce): key 52, id 0035e00000LaYlAAAR")
            && out.contains(r#""HubSpot_Id__c":"52""#),
        "{out}"
    );
    let (code, _, err) = tether(&[&["dlq", "replay", "99"][..], &store].concat());
    assert_eq!(code, Some(2));
    assert!(err.contains("no open dead letter 99"));
}

/// A dataset big enough that a pass spans several merge groups: new
/// HubSpot contacts, and Salesforce contacts for some of them with other
/// values (conflicts).
fn dataset(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let (hub, sf) = (dir.join("hubspot"), dir.join("salesforce"));
    let left: Vec<Json> = (0..n)
        .map(|i| {
            json!({"id": i.to_string(), "properties": {
                "email": format!(" User{i}@Example.COM "), "firstname": format!("F{i}"),
                "lastname": format!("L{i}"), "lifecyclestage": "lead"},
                "updatedAt": "2024-02-01T00:00:00Z"})
        })
        .collect();
    let right: Vec<Json> = (0..n)
        .step_by(7)
        .map(|i| {
            json!({"HubSpot_Id__c": i.to_string(), "LastName": format!("SF{i}"),
                "Email": format!("sf{i}@example.com"), "Status__c": "Qualified",
                "LastModifiedDate": "2024-03-01T00:00:00.000+0000"})
        })
        .collect();
    let half = left.len() / 2;
    drop_file(&hub, "a.ndjson", &left[..half]);
    drop_file(&hub, "b.ndjson", &left[half..]);
    drop_file(&sf, "a.ndjson", &right);
    (hub, sf)
}

/// The operations a run that never crashed sends.
fn clean_run(n: usize) -> (BTreeMap<String, Json>, BTreeMap<String, Json>) {
    let dir = scratch(&format!("clean-{n}"));
    let (hub, sf) = dataset(&dir, n);
    let state = dir.join("state.db");
    let (code, _, err) = tether(&sync_args(CRM, s(&state), s(&hub), s(&sf)));
    assert_eq!(code, Some(0), "{err}");
    (outbox(&hub), outbox(&sf))
}

#[test]
fn a_crash_at_every_fail_point_loses_nothing_and_sends_nothing_twice() {
    let n = 300;
    let clean = clean_run(n);
    assert!(clean.1.len() >= n, "every record reaches Salesforce");
    assert!(
        !clean.0.is_empty(),
        "conflicts won by Salesforce reach HubSpot"
    );
    for point in [
        "event-stored",
        "merge-uncommitted",
        "merge-done",
        "outbox-assigned",
        "write-written",
        "write-sent",
        "ack-stored",
    ] {
        let dir = scratch(point);
        let (hub, sf) = dataset(&dir, n);
        let state = dir.join("state.db");
        let args = sync_args(CRM, s(&state), s(&hub), s(&sf));
        let crashed = Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(&args)
            .env("TETHER_FAILPOINT", point)
            .output()
            .expect("run");
        assert!(
            !crashed.status.success(),
            "{point}: the fail point was reached"
        );
        assert!(
            String::from_utf8_lossy(&crashed.stderr).contains(point),
            "{point}: {}",
            String::from_utf8_lossy(&crashed.stderr)
        );
        let (code, _, err) = tether(&args);
        assert_eq!(code, Some(0), "{point}: the rerun finishes: {err}");
        assert_eq!(
            outbox(&hub),
            clean.0,
            "{point}: HubSpot got what a clean run sends"
        );
        assert_eq!(
            outbox(&sf),
            clean.1,
            "{point}: Salesforce got what a clean run sends"
        );
        // Quiet after recovery.
        let before = files_in(&sf.join("outbox")) + files_in(&hub.join("outbox"));
        let (_, out, _) = tether(&args);
        let summary: Json = serde_json::from_str(&out).expect("summary");
        assert_eq!(summary["sent"], 0, "{point}");
        assert_eq!(
            files_in(&sf.join("outbox")) + files_in(&hub.join("outbox")),
            before
        );
    }
}

#[cfg(unix)]
#[test]
fn sigkill_mid_batch_then_rerun_applies_everything_once() {
    let n = 3000;
    let clean = clean_run(n);
    let dir = scratch("sigkill");
    let (hub, sf) = dataset(&dir, n);
    let state = dir.join("state.db");
    let args = sync_args(CRM, s(&state), s(&hub), s(&sf));
    // Killed at growing delays: each run resumes where the last one was
    // cut (a different step each time), and the last run finishes.
    let mut kills = 0;
    for attempt in 0..8u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(20 + attempt * 60));
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.code().is_some_and(|c| c == 0), "{status}");
            break;
        }
        // SIGKILL: no handler runs.
        child.kill().expect("kill");
        child.wait().expect("reap");
        kills += 1;
    }
    assert!(kills > 0, "at least one run was killed mid-pass");
    let (code, _, err) = tether(&args);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(outbox(&hub), clean.0);
    assert_eq!(outbox(&sf), clean.1);
}

const XML_MAPPING: &str = r#"
schema erp {
  record Account {
    Id: string
    Name?: string?
    Balance?: Amount?
    Tag?: [string]?
    Active?: bool?
    Changed?: string?
    Archived?: bool?
  }
  record Amount {
    #value?: decimal?
    @Ccy?: string?
  }
}
schema crm {
  record Company {
    id: string
    name?: string?
    balance?: decimal?
    currency?: string?
    tags?: [string]?
    active?: bool?
    changed?: string?
  }
}
mapping company: erp.Account <-> crm.Company {
  key Id <-> id
  Name <-> name
  Balance.value <-> balance
  Balance.Ccy <-> currency
  Tag <-> tags
  Active <-> active
  conflict {
    default newest(Changed, changed)
    on delete propagate when Archived
  }
}
"#;

#[test]
fn an_xml_provider_drops_documents_read_with_its_schema() {
    let dir = scratch("xml");
    let mapping = dir.join("erp.tether");
    std::fs::write(&mapping, XML_MAPPING).expect("mapping");
    let (erp, crm) = (dir.join("erp"), dir.join("crm"));
    let state = dir.join("state.db");
    std::fs::create_dir_all(erp.join("inbox")).expect("inbox");
    let account = |name: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Account xmlns="urn:erp"><Id>7</Id><Name>{name}</Name><Balance Ccy="EUR">12.50</Balance><Tag>a</Tag><Tag>b</Tag><Active>true</Active></Account>"#
        )
    };
    std::fs::write(erp.join("inbox").join("1.xml"), account("Acme")).expect("drop");
    let args = [
        "sync",
        s(&mapping),
        "--mapping",
        "company",
        "--state",
        s(&state),
        "--left",
        s(&erp),
        "--right",
        s(&crm),
        "--create",
        "--once",
        "--format",
        "json",
    ];
    let (code, out, err) = tether(&args);
    assert_eq!(code, Some(0), "{out}{err}");
    let ops: Vec<Json> = outbox(&crm).into_values().collect();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["op"], "create");
    assert_eq!(
        ops[0]["record"].to_string(),
        r#"{"id":"7","name":"Acme","balance":12.50,"currency":"EUR","tags":["a","b"],"active":true}"#
    );
    // The same document in a new file, then a changed one: one update.
    std::fs::write(erp.join("inbox").join("2.xml"), account("Acme")).expect("drop");
    std::fs::write(erp.join("inbox").join("3.xml"), account("Acme Ltd")).expect("drop");
    std::fs::write(erp.join("inbox").join("4.xml"), "<Account><Id>8</Account>").expect("drop");
    let (code, out, _) = tether(&args);
    assert_eq!(code, Some(3), "the malformed document is a dead letter");
    let summary: Json = serde_json::from_str(&out).expect("summary");
    assert_eq!(
        (
            summary["read"].as_u64(),
            summary["updated"].as_u64(),
            summary["dead_lettered"].as_u64()
        ),
        (Some(3), Some(1), Some(1)),
        "the two documents of record 7 merge into one update"
    );
    let update = outbox(&crm)
        .into_values()
        .find(|o| o["op"] == "update")
        .expect("an update");
    assert_eq!(update["record"], json!({"name": "Acme Ltd", "id": "7"}));
    let (_, out, _) = tether(&["dlq", "list", "--state", s(&state), "--mapping", "company"]);
    assert!(
        out.contains("E1001") && out.contains("malformed XML: line 1"),
        "{out}"
    );

    // Fields only the runtime reads come from the document too: the
    // timestamp (an older document is stale) and the archive flag.
    let stamped = |name: &str, changed: &str, archived: bool| {
        format!(
            r#"<Account xmlns="urn:erp"><Id>7</Id><Name>{name}</Name><Changed>{changed}</Changed><Archived>{archived}</Archived></Account>"#
        )
    };
    let drop_xml = |file: &str, text: String| {
        std::fs::write(erp.join("inbox").join(file), text).expect("drop");
    };
    drop_xml("5.xml", stamped("New", "2024-05-02T00:00:00Z", false));
    tether(&args);
    drop_xml("6.xml", stamped("Old", "2024-05-01T00:00:00Z", false));
    let (_, out, _) = tether(&args);
    let summary: Json = serde_json::from_str(&out).expect("summary");
    assert_eq!(summary["stale"], 1, "{summary}");
    drop_xml("7.xml", stamped("New", "2024-05-03T00:00:00Z", true));
    let (_, out, _) = tether(&args);
    let summary: Json = serde_json::from_str(&out).expect("summary");
    assert_eq!(summary["deleted"], 1, "{summary}");
    assert!(
        outbox(&crm)
            .values()
            .any(|o| o["op"] == "delete" && o["key"] == "7")
    );
}

#[cfg(unix)]
#[test]
fn watch_picks_up_files_dropped_later_and_a_kill_is_safe() {
    let dir = scratch("watch");
    let (hub, sf) = (dir.join("hubspot"), dir.join("salesforce"));
    let state = dir.join("state.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "sync",
            CRM,
            "--mapping",
            "contact",
            "--state",
            s(&state),
            "--left",
            s(&hub),
            "--right",
            s(&sf),
            "--create",
            "--watch",
            "--interval",
            "1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Dropped as a temporary name, then renamed: never read half-written.
    drop_file(
        &hub,
        ".contacts.ndjson.part",
        &[json!({"id": "9", "properties": {"lastname": "Ng"}})],
    );
    std::fs::rename(
        hub.join("inbox").join(".contacts.ndjson.part"),
        hub.join("inbox").join("contacts.ndjson"),
    )
    .expect("rename");
    let mut created = None;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if let Some(op) = outbox(&sf).into_values().next() {
            created = Some(op);
            break;
        }
    }
    // A second sync on the same state is refused while this one runs...
    let once = [
        "sync",
        CRM,
        "--mapping",
        "contact",
        "--state",
        s(&state),
        "--left",
        s(&hub),
        "--right",
        s(&sf),
        "--once",
    ];
    let (code, _, err) = tether(&once);
    assert_eq!(code, Some(2));
    assert!(err.contains("another `tether sync` is using"), "{err}");
    // ...but reading the store is not.
    let (code, _, _) = tether(&["dlq", "list", "--state", s(&state), "--mapping", "contact"]);
    assert_eq!(code, Some(0));
    child.kill().expect("kill");
    child.wait().expect("reap");
    // Killed, its lock is gone.
    let (code, _, err) = tether(&once);
    assert_eq!(code, Some(0), "{err}");
    let op = created.expect("the watching sync created the record");
    assert_eq!(
        (op["op"].as_str(), op["key"].as_str()),
        (Some("create"), Some("9"))
    );
    assert_eq!(files_in(&hub.join("done")), 1);
}

#[test]
fn every_bundled_mapping_runs_the_same_from_a_plan() {
    let dir = scratch("all-plans");
    // Two bundled mappings are named `contact`: one plan cannot hold both.
    let (code, _, err) = tether(&["build", "mappings/", "-o", s(&dir.join("x.tplan"))]);
    assert_eq!(code, Some(2));
    assert!(err.contains("two mappings are named `contact`"), "{err}");
    assert!(err.contains("contact_bench.tether") && err.contains("hubspot_salesforce.tether"));
    let plan = dir.join("many.tplan");
    let (code, _, err) = tether(&[
        "build",
        "mappings/leads",
        "mappings/orders",
        "mappings/stripe",
        "mappings/bank",
        "mappings/payments",
        "-o",
        s(&plan),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let bench_plan = dir.join("bench.tplan");
    tether(&["build", "mappings/bench", "-o", s(&bench_plan)]);
    let runs: &[(&str, &str, &[&str])] = &[
        (
            "mappings/leads/web_lead_to_crm.tether",
            "lead",
            &["--input", "mappings/leads/leads.ndjson"],
        ),
        (
            "mappings/orders/shop_order_to_erp.tether",
            "sales_order",
            &[
                "--input",
                "mappings/orders/orders.json",
                "--output-format",
                "json",
            ],
        ),
        (
            "mappings/stripe/charge_to_ledger.tether",
            "charge_to_ledger",
            &["--input", "mappings/stripe/charges.ndjson"],
        ),
        (
            "mappings/bank/camt053_to_ledger.tether",
            "statement_entries",
            &[
                "--input",
                "mappings/bank/statement.xml",
                "--output-format",
                "xml",
            ],
        ),
        (
            "mappings/bench/contact_bench.tether",
            "contact",
            &["--input", "mappings/bench/contacts.ndjson"],
        ),
        (
            "mappings/payments/batch_totals.tether",
            "group_header",
            &["--input", "mappings/payments/batches.ndjson"],
        ),
    ];
    for (source, mapping, args) in runs {
        let run = |file: &str| tether(&[&["run", file, "--mapping", mapping][..], args].concat());
        let plan = if source.contains("bench") {
            &bench_plan
        } else {
            &plan
        };
        let (from_source, from_plan) = (run(source), run(s(plan)));
        assert!(!from_source.1.is_empty(), "{source}");
        assert_eq!(from_plan.0, from_source.0, "{source}");
        assert_eq!(from_plan.1, from_source.1, "{source}: the same output");
    }
}

#[test]
fn an_archived_contact_waits_for_review_then_a_person_propagates_it() {
    let dir = scratch("review");
    let (hub, sf) = (dir.join("hubspot"), dir.join("salesforce"));
    let state = dir.join("state.db");
    let args = sync_args(CRM, s(&state), s(&hub), s(&sf));
    let contact = |archived: bool| json!({"id": "77", "properties": {"lastname": "Ng"}, "archived": archived});
    drop_file(&hub, "1.ndjson", &[contact(false)]);
    assert_eq!(tether(&args).0, Some(0));
    drop_file(&hub, "2.ndjson", &[contact(true)]);
    let (code, out, _) = tether(&args);
    assert_eq!(code, Some(3), "a parked record needs a person");
    let summary: Json = serde_json::from_str(&out).expect("summary");
    assert_eq!(summary["parked"], 1);
    let store = ["--state", s(&state), "--mapping", "contact"];
    let (code, out, _) = tether(&[&["review", "list"][..], &store].concat());
    assert_eq!(code, Some(0));
    assert!(
        out.contains("77 (delete on the left side")
            && out.contains("(delete): left deleted | right exists"),
        "{out}"
    );
    let (code, _, err) =
        tether(&[&["review", "resolve", "78", "--take", "left"][..], &store].concat());
    assert_eq!(code, Some(2));
    assert!(err.contains("no open review for `78`"), "{err}");
    let (code, _, _) =
        tether(&[&["review", "resolve", "77", "--take", "left"][..], &store].concat());
    assert_eq!(code, Some(0));
    let (code, out, _) = tether(&args);
    assert_eq!(code, Some(0));
    let summary: Json = serde_json::from_str(&out).expect("summary");
    assert_eq!(summary["deleted"], 1);
    let delete = outbox(&sf)
        .into_values()
        .find(|o| o["op"] == "delete")
        .expect("a delete for Salesforce");
    assert_eq!(delete["key"], "77");
    let (_, out, _) = tether(&[&["review", "list"][..], &store].concat());
    assert!(out.is_empty(), "{out}");
    let (code, _, err) = tether(&[
        "sync",
        CRM,
        "--mapping",
        "contact",
        "--state",
        s(&state),
        "--explain",
        "nope",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no record with key `nope`"), "{err}");
}

/// A record that fails its mapping has one error format everywhere: the
/// rejects of `run` and the dead letter of `sync` (`dlq show`, `dlq list
/// --format json`) carry the same errors, the value as JSON (not JSON in a
/// string) and `null` for what has none.
#[test]
fn a_dead_letter_shows_the_errors_run_rejects_the_record_with() {
    let dir = scratch("dlq-format");
    let (hub, sf) = (dir.join("hubspot"), dir.join("salesforce"));
    let state = dir.join("state.db");
    let bad = json!({"id": "55", "properties": {"lastname": "Ng", "annualrevenue": "1.5 million"}});
    drop_file(&hub, "1.ndjson", std::slice::from_ref(&bad));
    std::fs::create_dir_all(sf.join("inbox")).expect("inbox");
    let quiet = [
        &sync_args(CRM, s(&state), s(&hub), s(&sf))[..],
        &["--quiet"],
    ]
    .concat();
    let (code, _, err) = tether(&quiet);
    assert_eq!(code, Some(3), "the record is dead-lettered: {err}");
    assert!(!err.contains("warning"), "--quiet: {err}");

    let input = dir.join("bad.ndjson");
    std::fs::write(&input, format!("{bad}\n")).expect("input");
    let (code, _, err) = tether(&[
        "run",
        CRM,
        "--mapping",
        "contact",
        "--input",
        s(&input),
        "--rejects",
        "-",
    ]);
    assert_eq!(code, Some(3));
    let reject: Json = err
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .expect("a reject line");

    let store = ["--state", s(&state), "--mapping", "contact"];
    let (code, out, _) = tether(&[&["dlq", "list", "--format", "json"][..], &store].concat());
    assert_eq!(code, Some(0));
    let listed: Json = serde_json::from_str(out.trim()).expect("one letter per line");
    assert_eq!(listed["errors"], reject["errors"], "dlq list: {out}");
    let id = listed["id"].to_string();
    let (code, out, _) = tether(&[&["dlq", "show", id.as_str()][..], &store].concat());
    assert_eq!(code, Some(0));
    let shown: Json = serde_json::from_str(&out).expect("a letter");
    assert_eq!(shown["errors"], reject["errors"], "dlq show: {out}");
    assert_eq!(shown["errors"][0]["value"], "1.5 million");
    assert_eq!(shown["key"], "55");
}
