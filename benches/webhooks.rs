//! The webhook receiver under load (issue 20): N concurrent senders post a
//! fixed number of Stripe-signed deliveries over loopback to a real
//! `tether sync --left webhook:stripe --right DIR --watch` (release build,
//! state on local disk), while its passes sync them into the ledger folder.
//!
//!     cargo bench --bench webhooks -- [--senders 4,16,64] [--requests 20000]
//!                 [--forged-every 5] [--replay-every 10] [--markdown]
//!
//! Of the requests, one in `--forged-every` is signed with another secret
//! (must be 401), one in `--replay-every` sends again an event another
//! request sends (must be 200 and not stored twice), the rest are new
//! events, each about a charge of its own; the order is a fixed
//! permutation, so replays race their originals. Answers of 429/503 (the
//! inbox saturated, every permit taken) are retried after `Retry-After`,
//! as a provider does, and counted.
//!
//! Afterwards it checks, and fails (exit 1) otherwise: every new event
//! answered 200 and stored exactly once in the inbox, every forged one
//! answered 401 and stored nowhere, the receiver's counts (accepted,
//! duplicate, refused_signature) equal to what was sent, and the ledger
//! holding one `create` per charge and nothing else. It reports
//! deliveries/s while sending, the latency of an answer (p50, p99, max),
//! the time until the ledger held everything, and the machine's load.
//! A benchmark, not a test: nothing here asserts a speed. Run without
//! `--bench` (`cargo test --benches`), it makes a small run of 500.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const MAPPING: &str = "mappings/stripe/charge_to_ledger.tether";
/// How long the passes may take to drain what was sent (a failure past
/// it, never a hang).
const DRAIN: Duration = Duration::from_secs(600);

struct Options {
    senders: Vec<usize>,
    requests: usize,
    forged_every: usize,
    replay_every: usize,
    markdown: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        senders: vec![4, 16, 64],
        requests: 20_000,
        forged_every: 5,
        replay_every: 10,
        markdown: false,
    };
    let mut args = std::env::args().skip(1);
    let (mut benching, mut sized) = (false, false);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|e| format!("{v}: {e}"));
        match a.as_str() {
            "--senders" => {
                sized = true;
                o.senders = value("--senders")?
                    .split(',')
                    .map(|s| number(s.to_string()))
                    .collect::<Result<_, _>>()?
            }
            "--requests" => {
                sized = true;
                o.requests = number(value("--requests")?)?
            }
            "--forged-every" => o.forged_every = number(value("--forged-every")?)?,
            "--replay-every" => o.replay_every = number(value("--replay-every")?)?,
            "--markdown" => o.markdown = true,
            // What `cargo bench` passes to every bench.
            "--bench" => benching = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    // Run by `cargo test --benches` (no `--bench`): a small run that still
    // makes every check, as criterion's benches do in test mode.
    if !benching && !sized {
        (o.senders, o.requests) = (vec![4], 500);
    }
    if o.senders.contains(&0) || o.requests == 0 || o.forged_every < 2 || o.replay_every < 2 {
        return Err("senders and requests must be positive, the every-N at least 2".into());
    }
    Ok(o)
}

/// What one request sends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A new event (about charge `n`).
    New(usize),
    /// New event `n` sent again.
    Replay(usize),
    /// Signed with the wrong secret.
    Forged(usize),
}

/// The requests in the order they are taken, and how many new events.
fn plan(o: &Options) -> (Vec<Kind>, usize) {
    let mut kinds = Vec::with_capacity(o.requests);
    let mut new = 0;
    for i in 0..o.requests {
        kinds.push(if i % o.forged_every == o.forged_every - 1 {
            Kind::Forged(i)
        } else if i % o.replay_every == o.replay_every - 2 && new > 0 {
            // An event sent (or about to be sent) by another request.
            Kind::Replay((i * 7919) % new)
        } else {
            new += 1;
            Kind::New(new - 1)
        });
    }
    // A fixed permutation (`i * step mod n`, step coprime with n) mixes
    // the kinds so replays race their originals across senders.
    let n = kinds.len();
    let mut step = 7_919 % n.max(1);
    while n > 1 && gcd(step, n) != 1 {
        step += 1;
    }
    let mixed = (0..n).map(|i| kinds[(i * step.max(1)) % n]).collect();
    (mixed, new)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A Stripe `charge.succeeded` event about charge `n`.
fn body(event_id: &str, n: usize) -> Vec<u8> {
    let charge = json!({
        "id": format!("ch_{n}"), "object": "charge", "amount": 1000 + n % 9000,
        "amount_refunded": 0, "currency": "usd", "created": 1_700_000_000,
        "customer": format!("cus_{}", n % 100), "description": null, "metadata": {},
        "payment_method_details": null, "status": "succeeded"
    });
    serde_json::to_vec(&json!({
        "id": event_id, "object": "event", "type": "charge.succeeded",
        "created": 1_700_000_000 + n, "data": { "object": charge }
    }))
    .unwrap_or_default()
}

fn signature(secret: &str, body: &[u8]) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let Ok(mut mac) = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

/// `tether sync --watch` on a webhook side; its pass summaries (JSON) are
/// summed by a thread.
struct Sync {
    child: Child,
    url: String,
    totals: Arc<Mutex<BTreeMap<String, u64>>>,
    stderr: Arc<Mutex<String>>,
}

fn start_sync(dir: &Path, secret: &str) -> Result<Sync, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["sync", MAPPING, "--mapping", "charge_to_ledger", "--state"])
        .arg(dir.join("state.db"))
        .args(["--left", "webhook:stripe", "--right"])
        .arg(dir.join("ledger"))
        .args(["--create", "--watch", "--interval", "1"])
        .args(["--listen", "127.0.0.1:0", "--format", "json"])
        .env("TETHER_WEBHOOK_STRIPE_SECRET", secret)
        .env_remove("TETHER_WEBHOOK_STRIPE_SECRET_FILE")
        .env_remove("TETHER_FAILPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("tether: {e}"))?;
    let (url_tx, url_rx) = mpsc::channel();
    let stderr = Arc::new(Mutex::new(String::new()));
    if let Some(err) = child.stderr.take() {
        let seen = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("tether: receiving webhooks at ") {
                    let _ = url_tx.send(url.to_string());
                }
                if let Ok(mut s) = seen.lock() {
                    // The refusals are logged at most once a second;
                    // keep the log short all the same.
                    if s.len() < 1 << 20 {
                        s.push_str(&line);
                        s.push('\n');
                    }
                }
            }
        });
    }
    let totals = Arc::new(Mutex::new(BTreeMap::new()));
    if let Some(out) = child.stdout.take() {
        let sums = Arc::clone(&totals);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let (Ok(pass), Ok(mut t)) = (serde_json::from_str::<Json>(&line), sums.lock()) {
                    add(&mut t, "", &pass);
                }
            }
        });
    }
    match url_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(url) => Ok(Sync {
            child,
            url,
            totals,
            stderr,
        }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!(
                "tether did not start its receiver: {}",
                stderr.lock().map(|s| s.clone()).unwrap_or_default()
            ))
        }
    }
}

/// Adds a pass summary's numbers into `t`, nested ones as `a.b`.
fn add(t: &mut BTreeMap<String, u64>, prefix: &str, v: &Json) {
    if let Json::Object(members) = v {
        for (k, v) in members {
            let name = format!("{prefix}{k}");
            match v {
                Json::Number(n) => *t.entry(name).or_insert(0) += n.as_u64().unwrap_or(0),
                Json::Object(_) => add(t, &format!("{name}."), v),
                _ => {}
            }
        }
    }
}

impl Sync {
    fn total(&self, name: &str) -> u64 {
        self.totals
            .lock()
            .map(|t| t.get(name).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// What the senders saw.
#[derive(Default)]
struct Seen {
    /// Per request: its kind's index and the final status.
    answers: Vec<(Kind, u16)>,
    /// Microseconds from sending to the answer, every attempt.
    latencies: Vec<u64>,
    /// Answers 429 (the inbox saturated) and 503 (every permit taken, or
    /// the store failed), each retried.
    saturated: u64,
    unavailable: u64,
    errors: Vec<String>,
}

fn send_all(url: &str, secret: &str, kinds: &[Kind], senders: usize) -> (Seen, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..senders {
            let next = Arc::clone(&next);
            let seen = Arc::clone(&seen);
            scope.spawn(move || {
                // One agent per sender, as a provider's delivery worker
                // (the receiver closes each connection after one answer,
                // so every request connects anew).
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(60)))
                    .build()
                    .into();
                let mut mine = Seen::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&kind) = kinds.get(i) else { break };
                    let (id, n, key) = match kind {
                        Kind::New(n) | Kind::Replay(n) => (format!("evt_{n}"), n, secret),
                        Kind::Forged(i) => (format!("evt_forged_{i}"), i, "whsec_forger"),
                    };
                    let b = body(&id, n);
                    let status = loop {
                        let t = Instant::now();
                        let answer = agent
                            .post(url)
                            .header("Stripe-Signature", &signature(key, &b))
                            .header("Content-Type", "application/json")
                            .send(&b[..]);
                        match answer {
                            Ok(mut r) => {
                                let _ = r.body_mut().read_to_string();
                                mine.latencies.push(t.elapsed().as_micros() as u64);
                                let status = r.status().as_u16();
                                if status == 429 || status == 503 {
                                    if status == 429 {
                                        mine.saturated += 1;
                                    } else {
                                        mine.unavailable += 1;
                                    }
                                    let wait = r
                                        .headers()
                                        .get("retry-after")
                                        .and_then(|v| v.to_str().ok())
                                        .and_then(|v| v.parse::<u64>().ok())
                                        .unwrap_or(1);
                                    std::thread::sleep(Duration::from_secs(wait.min(5)));
                                    continue;
                                }
                                break status;
                            }
                            Err(e) => {
                                mine.errors.push(e.to_string());
                                break 0;
                            }
                        }
                    };
                    mine.answers.push((kind, status));
                }
                if let Ok(mut s) = seen.lock() {
                    s.answers.extend(mine.answers);
                    s.latencies.extend(mine.latencies);
                    s.saturated += mine.saturated;
                    s.unavailable += mine.unavailable;
                    s.errors.extend(mine.errors);
                }
            });
        }
    });
    let took = started.elapsed();
    let seen = Arc::try_unwrap(seen)
        .ok()
        .and_then(|m| m.into_inner().ok())
        .unwrap_or_default();
    (seen, took)
}

/// The ledger's operations: (op, key).
fn ledger(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("outbox"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "ndjson"));
    files.sort();
    let mut ops = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap_or_default().lines() {
            if let Ok(op) = serde_json::from_str::<Json>(line) {
                ops.push((
                    op["op"].as_str().unwrap_or("").to_string(),
                    op["key"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
    }
    ops
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

struct Row {
    senders: usize,
    requests: usize,
    new: usize,
    replays: usize,
    forged: usize,
    saturated: u64,
    unavailable: u64,
    failed_passes: usize,
    took: Duration,
    p50: f64,
    p99: f64,
    max: f64,
    drained: Duration,
    load: (String, String),
}

/// One run with `senders`; the checks failing are an error.
fn run(o: &Options, senders: usize) -> Result<Row, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench")
        .join("webhooks")
        .join(senders.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let secret = format!("whsec_bench_{}", std::process::id());
    let (kinds, new) = plan(o);
    let forged = kinds
        .iter()
        .filter(|k| matches!(k, Kind::Forged(_)))
        .count();
    let replays = kinds.len() - new - forged;

    let sync = start_sync(&dir, &secret)?;
    let load_before = loadavg();
    let (seen, took) = send_all(&sync.url, &secret, &kinds, senders);
    let sent_at = Instant::now();
    let load_after = loadavg();
    // Until the passes took every delivery into the ledger (read from the
    // ledger itself: a pass that failed after sending reports no counts),
    // then until a pass reported the receiver's counts of every request.
    let mut drained = None;
    let answered = seen
        .answers
        .iter()
        .filter(|(_, status)| *status != 0)
        .count();
    let received = answered as u64 + seen.saturated + seen.unavailable;
    loop {
        if drained.is_none() && ledger(&dir.join("ledger")).len() >= new {
            drained = Some(sent_at.elapsed());
        }
        let reported: u64 = [
            "accepted",
            "duplicate",
            "refused_signature",
            "refused_malformed",
            "refused_timestamp",
            "saturated",
            "busy",
            "store_failed",
        ]
        .iter()
        .map(|c| sync.total(&format!("webhooks.{c}")))
        .sum();
        if drained.is_some() && reported >= received {
            break;
        }
        if sent_at.elapsed() > DRAIN {
            let log = sync.stop();
            return Err(format!(
                "the passes did not drain in {DRAIN:?} ({} ledger operations of {new}, \
                 {reported} of {received} requests counted): {log}",
                ledger(&dir.join("ledger")).len()
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let drained = drained.unwrap_or_default();
    // A pass that failed is retried at the next interval; how many did.
    let failed_passes = sync
        .stderr
        .lock()
        .map(|l| l.matches("tether: pass failed").count())
        .unwrap_or(0);
    let counts = |name: &str| sync.total(name);
    let (accepted, duplicate, refused) = (
        counts("webhooks.accepted"),
        counts("webhooks.duplicate"),
        counts("webhooks.refused_signature"),
    );
    let refused_for_load = (
        counts("webhooks.saturated"),
        counts("webhooks.busy") + counts("webhooks.store_failed"),
    );
    let log = sync.stop();

    // The checks.
    let mut wrong = Vec::new();
    if !seen.errors.is_empty() {
        wrong.push(format!(
            "{} requests got no answer, e.g. {}",
            seen.errors.len(),
            seen.errors[0]
        ));
    }
    let bad: Vec<_> = seen
        .answers
        .iter()
        .filter(|(k, s)| match k {
            Kind::Forged(_) => *s != 401,
            _ => *s != 200,
        })
        .collect();
    if !bad.is_empty() || seen.answers.len() != kinds.len() {
        wrong.push(format!(
            "{} answers not 200 (valid) / 401 (forged), of {} answered",
            bad.len(),
            seen.answers.len()
        ));
    }
    if (accepted, duplicate, refused) != (new as u64, replays as u64, forged as u64) {
        wrong.push(format!(
            "receiver counts accepted {accepted}, duplicate {duplicate}, refused {refused}; \
             sent {new} new, {replays} replays, {forged} forged"
        ));
    }
    if refused_for_load != (seen.saturated, seen.unavailable) {
        wrong.push(format!(
            "receiver counts saturated, busy {refused_for_load:?}; senders saw {} 429, {} 503",
            seen.saturated, seen.unavailable
        ));
    }
    let conn = rusqlite::Connection::open(dir.join("state.db")).map_err(|e| e.to_string())?;
    let (rows, distinct, forged_rows): (i64, i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT event_id),
                    COUNT(*) FILTER (WHERE event_id LIKE 'evt_forged_%')
             FROM deliveries WHERE endpoint = 'stripe'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| e.to_string())?;
    if (rows, distinct, forged_rows) != (new as i64, new as i64, 0) {
        wrong.push(format!(
            "inbox holds {rows} deliveries ({distinct} event ids, {forged_rows} forged); \
             {new} new were sent"
        ));
    }
    let ops = ledger(&dir.join("ledger"));
    let creates = ops.iter().filter(|(op, _)| op == "create").count();
    let keys: std::collections::BTreeSet<&String> = ops.iter().map(|(_, k)| k).collect();
    if (ops.len(), creates, keys.len()) != (new, new, new) {
        wrong.push(format!(
            "ledger has {} operations ({creates} creates, {} keys); {new} charges were sent",
            ops.len(),
            keys.len()
        ));
    }
    if !wrong.is_empty() {
        return Err(format!(
            "{senders} senders: {}\n{}",
            wrong.join("\n"),
            log.lines().take(20).collect::<Vec<_>>().join("\n")
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let mut lat = seen.latencies;
    lat.sort_unstable();
    Ok(Row {
        senders,
        requests: kinds.len(),
        new,
        replays,
        forged,
        saturated: seen.saturated,
        unavailable: seen.unavailable,
        failed_passes,
        took,
        p50: percentile(&lat, 0.50),
        p99: percentile(&lat, 0.99),
        max: percentile(&lat, 1.0),
        drained,
        load: (load_before, load_after),
    })
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("webhooks bench: {e}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut rows = Vec::new();
    for &senders in &o.senders {
        match run(&o, senders) {
            Ok(row) => {
                eprintln!(
                    "{} senders: {} requests in {:.2} s, p99 {:.1} ms",
                    row.senders,
                    row.requests,
                    row.took.as_secs_f64(),
                    row.p99
                );
                rows.push(row);
            }
            Err(e) => {
                eprintln!("webhooks bench: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("{cores} cores; every check held (each new event stored once, each forgery refused)");
    if o.markdown {
        println!(
            "| senders | requests (new + replays + forged) | time | deliveries/s | p50 | p99 | max | retried 429 / 503 | ledger complete after | passes failed | load before → after |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
    }
    for r in rows {
        let rate = r.requests as f64 / r.took.as_secs_f64().max(1e-9);
        if o.markdown {
            println!(
                "| {} | {} ({} + {} + {}) | {:.2} s | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {} / {} | +{:.1} s | {} | {} → {} |",
                r.senders,
                r.requests,
                r.new,
                r.replays,
                r.forged,
                r.took.as_secs_f64(),
                rate,
                r.p50,
                r.p99,
                r.max,
                r.saturated,
                r.unavailable,
                r.drained.as_secs_f64(),
                r.failed_passes,
                r.load.0,
                r.load.1
            );
        } else {
            println!(
                "{:>3} senders: {} requests ({} new, {} replays, {} forged) in {:.2} s: {:.0} deliveries/s; \
                 latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; retried {} after 429, {} after 503; ledger complete {:.1} s later; {} passes failed and were retried; load {} -> {}",
                r.senders,
                r.requests,
                r.new,
                r.replays,
                r.forged,
                r.took.as_secs_f64(),
                rate,
                r.p50,
                r.p99,
                r.max,
                r.saturated,
                r.unavailable,
                r.drained.as_secs_f64(),
                r.failed_passes,
                r.load.0,
                r.load.1
            );
        }
    }
}
