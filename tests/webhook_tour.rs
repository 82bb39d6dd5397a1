//! The README's webhook tour, run as written (issue 20's "Done when"): the
//! commands are read from the README's block, not copied here, so a change
//! to the tour or to tether that breaks it fails this test. The fake
//! gateway is `examples/fakegateway.rs` itself, included below.
//!
//! Differences from a person's terminal, each forced by running in a test:
//! the port is 0 (a free one; tether prints the address it got), the
//! folder is a scratch one, the secret is set for the child process only,
//! and "sleep 2; kill" becomes "wait until the passes report every
//! delivery (bounded), then kill".

#[path = "../examples/fakegateway.rs"]
mod fakegateway;

use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The tour's heading in the README.
const HEADING: &str = "### Webhooks: a fake gateway posts signed Stripe events into a ledger";
/// The address the README listens on; the test asks for a free port.
const README_LISTEN: &str = "127.0.0.1:8080";

/// One command of the tour, continuation lines joined, with the comment
/// lines that follow it (what the README says it prints).
struct Step {
    command: String,
    shown: Vec<String>,
}

/// The README's tour block as commands.
fn tour_steps() -> Vec<Step> {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let after = readme
        .split_once(HEADING)
        .map(|(_, rest)| rest)
        .expect("the README has the webhook tour");
    let block = after
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map(|(block, _)| block)
        .expect("the tour's sh block");
    let mut steps: Vec<Step> = Vec::new();
    let mut pending = String::new();
    for line in block.lines() {
        let trimmed = line.trim();
        if let Some(comment) = trimmed.strip_prefix('#') {
            // A comment after a command is its shown output; one before
            // any command (or right after a blank) explains.
            if pending.is_empty()
                && let Some(last) = steps.last_mut()
                && let Some(shown) = comment.strip_prefix("   ")
            {
                last.shown.push(shown.to_string());
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                pending.push_str(part);
                pending.push(' ');
            }
            None => {
                // A trailing `# comment` explains; it is not run.
                let command = trimmed.split(" #").next().unwrap_or(trimmed);
                pending.push_str(command.trim_end());
                steps.push(Step {
                    command: std::mem::take(&mut pending),
                    shown: Vec::new(),
                });
            }
        }
    }
    steps
}

/// A command's words after `cargo run -q --`, `$tour` replaced, a
/// trailing `&` dropped.
fn tether_args(command: &str, tour: &Path) -> Vec<String> {
    let rest = command
        .strip_prefix("cargo run -q -- ")
        .unwrap_or_else(|| panic!("not a tether command: {command}"));
    let tour = tour.to_string_lossy();
    rest.split_whitespace()
        .filter(|w| *w != "&")
        .map(|w| {
            let w = w.replace("$tour", &tour);
            // A free port in the test; the README's fixed one by hand.
            if w == README_LISTEN {
                "127.0.0.1:0".to_string()
            } else {
                w
            }
        })
        .collect()
}

/// The background `tether sync`, its stderr read by a thread.
struct Sync {
    child: Child,
    stderr: Arc<Mutex<String>>,
    url: String,
}

fn start_sync(args: &[String], secret: &str) -> Sync {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .env(fakegateway::SECRET_VAR, secret)
        .env_remove("TETHER_WEBHOOK_STRIPE_SECRET_FILE")
        .env_remove("TETHER_FAILPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tether");
    let (url_tx, url_rx) = mpsc::channel();
    let stderr = Arc::new(Mutex::new(String::new()));
    let seen = Arc::clone(&stderr);
    let err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("tether: receiving webhooks at ") {
                let _ = url_tx.send(url.to_string());
            }
            if let Ok(mut s) = seen.lock() {
                s.push_str(&line);
                s.push('\n');
            }
        }
    });
    let Ok(url) = url_rx.recv_timeout(Duration::from_secs(60)) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "tether did not start its receiver: {}",
            stderr.lock().expect("log")
        );
    };
    Sync { child, stderr, url }
}

impl Sync {
    fn log(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log()
    }
}

/// The pass summaries' counts summed: `tether: read 2, created 1, ...;
/// webhooks: accepted 2, ...` (the human format the README shows).
fn summed(log: &str) -> BTreeMap<String, u64> {
    let mut total = BTreeMap::new();
    for line in log.lines().filter(|l| l.starts_with("tether: read ")) {
        let line = line
            .trim_start_matches("tether: ")
            .replace("; webhooks:", ",");
        for pair in line.split(", ") {
            if let Some((name, n)) = pair.trim().rsplit_once(' ')
                && let Ok(n) = n.parse::<u64>()
            {
                *total.entry(name.to_string()).or_insert(0) += n;
            }
        }
    }
    total
}

/// The ledger's operations in the order written.
fn ledger_ops(ledger: &Path) -> Vec<Json> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(ledger.join("outbox"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "ndjson"));
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<Json>(l).ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The ledger entry the operations leave (creates and updates folded).
fn folded(ops: &[Json]) -> Map<String, Json> {
    let mut entry = Map::new();
    for op in ops {
        if let Some(record) = op["record"].as_object() {
            for (k, v) in record {
                entry.insert(k.clone(), v.clone());
            }
        }
    }
    entry
}

#[test]
fn the_readme_webhook_tour_runs_as_written() {
    let steps = tour_steps();
    let tour = std::env::temp_dir().join(format!("tether-tour-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tour);
    // A throwaway secret, like the README's.
    let secret = format!("whsec_tour_{}", std::process::id());
    let mut sync: Option<Sync> = None;
    let mut gateway_lines: Vec<String> = Vec::new();
    for step in &steps {
        let c = step.command.as_str();
        if c == "tour=$(mktemp -d)" {
            std::fs::create_dir_all(&tour).expect("scratch");
        } else if let Some(assign) = c.strip_prefix("export ") {
            // The secret comes from the environment, under the name both
            // tether and the gateway read.
            assert!(
                assign.starts_with(&format!("{}=", fakegateway::SECRET_VAR)),
                "{c}"
            );
        } else if c.starts_with("cargo build ") || c == "sync_pid=$!" {
            // Built by cargo for this test; the pid is the child's.
        } else if c.starts_with("cargo run -q -- sync ") {
            let args = tether_args(c, &tour);
            assert!(c.trim_end().ends_with('&'), "run in the background: {c}");
            let s = start_sync(&args, &secret);
            let shown = format!("receiving webhooks at {}", s.url)
                .replace(s.url.split('/').nth(2).unwrap_or(""), README_LISTEN);
            assert!(
                step.shown.iter().any(|l| l.ends_with(&shown)),
                "the README shows where tether listens: {:?}",
                step.shown
            );
            sync = Some(s);
        } else if let Some(url) = c.strip_prefix("cargo run -q --example fakegateway -- ") {
            let s = sync.as_ref().expect("the sync runs first");
            assert_eq!(
                url.trim(),
                s.url
                    .replace(s.url.split('/').nth(2).unwrap_or(""), README_LISTEN),
                "the gateway posts where tether listens"
            );
            let (lines, all_expected) = fakegateway::run(&s.url, &secret).expect("answers");
            assert!(all_expected, "{lines:#?}\n{}", s.log());
            // The README shows exactly what the gateway prints (the
            // sync's own lines interleave; they start with `tether:`).
            let shown: Vec<&String> = step
                .shown
                .iter()
                .filter(|l| !l.starts_with("tether:"))
                .collect();
            assert_eq!(
                shown,
                lines.iter().collect::<Vec<_>>(),
                "the README shows the gateway's answers"
            );
            gateway_lines = lines;
        } else if c.starts_with("sleep ") && c.ends_with("kill $sync_pid") {
            let s = sync.take().expect("a sync to stop");
            // Instead of a fixed sleep: until the passes reported every
            // delivery (bounded: a failure, never a hang).
            let deadline = Instant::now() + Duration::from_secs(90);
            let done = |t: &BTreeMap<String, u64>| {
                t.get("accepted") == Some(&3)
                    && t.get("duplicate").is_some_and(|d| *d >= 1)
                    && t.get("refused_signature") == Some(&1)
                    && t.get("stale") == Some(&1)
            };
            while !done(&summed(&s.log())) {
                assert!(
                    Instant::now() < deadline,
                    "the passes never got there: {}",
                    s.log()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            let log = s.stop();
            let total = summed(&log);
            // The replay was answered and stored nowhere: a duplicate in
            // the inbox, never an event; the older event was stale.
            assert_eq!(total.get("duplicate"), Some(&1), "{log}");
            assert_eq!(total.get("dead_lettered"), Some(&0), "{log}");
            assert!(log.contains("delivery refused"), "{log}");
            assert!(!log.contains(&secret), "the secret reached the log");
        } else if c == "cat $tour/ledger/outbox/*.ndjson" {
            let ops = ledger_ops(&tour.join("ledger"));
            // One create, then the refund's update; or one create already
            // holding the refund when no pass ran in between.
            let kinds: Vec<&str> = ops.iter().filter_map(|o| o["op"].as_str()).collect();
            assert!(
                kinds == ["create", "update"] || kinds == ["create"],
                "{ops:?}"
            );
            assert!(
                ops.iter()
                    .all(|o| o["record"].get("status") != Some(&"pending".into())),
                "the stale `pending` never reached the ledger: {ops:?}"
            );
            let entry = folded(&ops);
            for (field, value) in [
                ("entry_id", "stripe:ch_tour_1"),
                ("amount", "20.00"),
                ("currency", "USD"),
                ("refunded", "5.00"),
                ("net", "15.00"),
                ("status", "posted"),
            ] {
                assert_eq!(entry.get(field), Some(&value.into()), "{field}: {ops:?}");
            }
            // What the README shows is what was written (it elides with
            // `...`; every shown part is in the real line).
            if kinds.len() == 2 {
                for (shown, op) in step.shown.iter().zip(&ops) {
                    let real = op.to_string();
                    for part in shown.split("...").map(|p| p.trim_matches(',')) {
                        assert!(real.contains(part), "{part:?} not in {real}");
                    }
                }
            }
        } else if c.starts_with("cargo run -q -- dlq ") {
            let out = Command::new(env!("CARGO_BIN_EXE_tether"))
                .args(tether_args(c, &tour))
                .output()
                .expect("dlq list");
            assert!(out.status.success(), "{out:?}");
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(printed.trim(), step.shown.join("\n").trim());
        } else {
            panic!("the tour has a command this test does not run: {c}");
        }
    }
    assert!(sync.is_none(), "the tour stops its sync");
    assert_eq!(gateway_lines.len(), fakegateway::deliveries().len());
    let _ = std::fs::remove_dir_all(&tour);
}
