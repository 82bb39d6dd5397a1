//! Retention (issue 22, step 4): a soak run of many passes keeps the
//! store and `done/` bounded, while a redelivered event inside the dedupe
//! window is still recognised. Time is simulated, not waited for: after
//! each pass ("a day") every instant the store keeps and every `done/`
//! file's modification time is moved a day back, so the assertions are on
//! counts, never on how long anything took.

mod common;

#[path = "support/scratch.rs"]
mod scratch;
use common::tether;
use rusqlite::Connection;
use scratch::Scratch;
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

const MAPPING: &str = "tests/data/rest_faults/contacts_paged.tether";
const DAY: Duration = Duration::from_secs(86_400);

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

struct Soak {
    dir: Scratch,
    state: PathBuf,
    /// Every outbox file name tether wrote, in the order seen.
    outbox_files: Vec<String>,
}

impl Soak {
    fn new(name: &str) -> Soak {
        let dir = Scratch::new("retention", name);
        std::fs::create_dir_all(dir.join("erp/inbox")).expect("inbox");
        Soak {
            state: dir.join("state.db"),
            dir,
            outbox_files: Vec::new(),
        }
    }

    /// The five customers' changes of `day`, as events with the ids a
    /// provider gives them (a redelivery carries the same ids).
    fn day_lines(day: u32) -> String {
        (1..=5)
            .map(|n| {
                format!(
                    "{{\"event_id\":\"d{day}-r{n}\",\"record\":\
                     {{\"ref\":\"r{n}\",\"Name\":\"Customer {n} on day {day}\"}}}}\n"
                )
            })
            .collect()
    }

    fn drop_file(&self, name: &str, text: &str) {
        std::fs::write(self.dir.join("erp/inbox").join(name), text).expect("drop");
    }

    /// One pass with the retention under test; its JSON summary. The CRM
    /// side's outbox files are taken away (the partner reads them).
    fn pass(&mut self) -> Json {
        let (code, out, err) = tether(&[
            "sync",
            MAPPING,
            "--mapping",
            "contact",
            "--state",
            s(&self.state),
            "--left",
            s(&self.dir.join("erp")),
            "--right",
            s(&self.dir.join("crm")),
            "--create",
            "--once",
            "--format",
            "json",
            "--retain-events",
            "3d",
            "--retain-sent",
            "1",
            "--retain-done",
            "2d",
        ]);
        assert_eq!(code, Some(0), "{err}");
        let outbox = self.dir.join("crm/outbox");
        let mut names: Vec<String> = std::fs::read_dir(&outbox)
            .expect("outbox")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in &names {
            std::fs::remove_file(outbox.join(n)).expect("take an outbox file");
        }
        self.outbox_files.extend(names);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    /// A day goes by: every instant the store keeps, and every `done/`
    /// file's modification time, a day earlier.
    fn a_day_later(&self) {
        let db = Connection::open(&self.state).expect("the store");
        let back = "strftime('%Y-%m-%dT%H:%M:%fZ', {c}, '-1 day')";
        for (table, columns) in [
            ("inbox", &["received_at"][..]),
            ("outbox", &["created_at", "sent_at"][..]),
            ("resolutions", &["at"][..]),
        ] {
            for c in columns {
                let to = back.replace("{c}", c);
                db.execute(
                    &format!("UPDATE {table} SET {c} = {to} WHERE {c} IS NOT NULL"),
                    [],
                )
                .expect("age the store");
            }
        }
        drop(db);
        for e in std::fs::read_dir(self.dir.join("erp/done")).expect("done") {
            let path = e.expect("entry").path();
            let f = std::fs::File::options()
                .write(true)
                .open(&path)
                .expect("a done file");
            let m = f.metadata().expect("meta").modified().expect("mtime");
            f.set_modified(m - DAY).expect("age a done file");
        }
    }

    fn count(&self, sql: &str) -> i64 {
        let db = Connection::open(&self.state).expect("the store");
        db.query_row(sql, [], |r| r.get(0)).expect(sql)
    }

    /// What must stay bounded: event ids kept, outbox rows, settled work,
    /// files in `done/`, and the store's bytes (file and log).
    fn figures(&self) -> [u64; 5] {
        let bytes: u64 = ["state.db", "state.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(self.dir.join(f)).ok())
            .map(|m| m.len())
            .sum();
        [
            self.count("SELECT COUNT(*) FROM inbox") as u64,
            self.count("SELECT COUNT(*) FROM outbox") as u64,
            self.count("SELECT COUNT(*) FROM resolutions") as u64,
            std::fs::read_dir(self.dir.join("erp/done"))
                .expect("done")
                .count() as u64,
            bytes,
        ]
    }
}

#[test]
fn a_soak_run_stays_bounded_and_still_deduplicates_inside_the_window() {
    let mut w = Soak::new("soak");
    let mut at_day = Vec::new();
    for day in 0..30u32 {
        w.drop_file(&format!("day{day:02}.ndjson"), &Soak::day_lines(day));
        let summary = w.pass();
        assert_eq!(summary["read"], 5, "day {day}: {summary}");
        assert_eq!(summary["duplicate"], 0, "day {day}: {summary}");
        at_day.push(w.figures());
        w.a_day_later();
    }
    // Yesterday's delivery again (a partner unsure it arrived): inside the
    // 3-day window, every event is known.
    w.drop_file("again29.ndjson", &Soak::day_lines(29));
    let again = w.pass();
    assert_eq!(again["duplicate"], 5, "{again}");
    assert_eq!(again["sent"], 0, "{again}");
    w.a_day_later();
    // A delivery from 20 days ago: outside the window its ids were
    // forgotten, so its events are read as new (why the floors exist).
    w.drop_file("again10.ndjson", &Soak::day_lines(10));
    let old = w.pass();
    assert_eq!(old["duplicate"], 0, "{old}");
    // Bounded: from the first week on, every figure is what it was.
    let steady = at_day[10];
    for (day, f) in at_day.iter().enumerate().skip(10) {
        assert_eq!(f[..4], steady[..4], "day {day}: {f:?} vs day 10 {steady:?}");
        assert!(
            f[4] <= steady[4],
            "day {day}: the store grew to {} bytes from {}",
            f[4],
            steady[4]
        );
    }
    // Event ids received within 3 days (today's and the two days' before:
    // those of 3 days ago are just past it), the last batch's rows, and
    // the files of today and yesterday.
    assert_eq!(steady[..4], [15, 5, 0, 2], "{steady:?}");
    // Pruning kept the highest batch, so no outbox file name came twice
    // (a reused one would overwrite a file the partner had not read).
    let distinct: BTreeSet<&String> = w.outbox_files.iter().collect();
    assert_eq!(distinct.len(), w.outbox_files.len(), "{:?}", w.outbox_files);
    assert_eq!(w.outbox_files.len(), 31, "{:?}", w.outbox_files);
    // Compaction leaves no log and loses nothing.
    let before = w.count("SELECT COUNT(*) FROM records");
    let (code, _, err) = tether(&["store", "compact", "--state", s(&w.state)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("compacted"), "{err}");
    assert_eq!(w.count("SELECT COUNT(*) FROM records"), before);
    let wal = std::fs::metadata(w.dir.join("state.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0);
}

#[test]
fn an_event_window_under_a_webhook_sides_floor_is_refused() {
    let dir = Scratch::new("retention", "floor");
    let (code, _, err) = tether(&[
        "sync",
        "mappings/stripe/charge_to_ledger.tether",
        "--mapping",
        "charge_to_ledger",
        "--state",
        s(&dir.join("state.db")),
        "--left",
        "webhook:stripe",
        "--right",
        s(&dir.join("ledger")),
        "--retain-events",
        "3",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("7-day floor of the left side"), "{err}");
    assert!(!dir.join("state.db").exists(), "a refused run made a store");
}
