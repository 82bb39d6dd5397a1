//! The web console of `tether sync --watch --console` (issue 22, step 5),
//! over loopback against the real server: hostile values shown as text,
//! forms refused without the CSRF token, their origin or the right Host,
//! a token required off loopback and a login with it, and what a click
//! does: replay and discard in the store, a review resolved field by
//! field, each way, and the next pass writing what was chosen.

mod common;
#[path = "support/webdriver.rs"]
mod webdriver;

use common::tether;
use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tether::base::Side;
use tether::sync::store::{LetterStatus, OpenMode, SqliteStore, Store};

const MAPPING: &str = r#"
schema a {
  record A {
    id: string
    name?: string?
    notes?: string?
    city?: string?
  }
}
schema b {
  record B {
    ref: string
    Name?: string?
    Notes?: string?
    City?: string?
  }
}
mapping person: a.A <-> b.B {
  key id <-> ref
  name <-> Name
  notes <-> Notes
  city <-> City
  conflict {
    Notes review
    City review
  }
}
"#;

const HOSTILE: &str = "left <script>alert(1)</script>";

fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("tether-console-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// A killed child on drop, so a failed assertion leaves no sync running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sync_args(dir: &Path) -> Vec<String> {
    [
        "sync",
        s(&dir.join("m.tether")),
        "--mapping",
        "person",
        "--state",
        s(&dir.join("state.db")),
        "--left",
        s(&dir.join("a")),
        "--right",
        s(&dir.join("b")),
        "--settle",
        "0",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

/// A store with one record parked for review (Notes and City changed on
/// both sides, the left Notes hostile) and two dead letters (records
/// without a key, one with markup in a value).
fn scenario(dir: &Path) {
    std::fs::write(dir.join("m.tether"), MAPPING).expect("mapping");
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side).join("inbox")).expect("inbox");
    }
    let args = sync_args(dir);
    let once = |extra: &[&str]| {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend_from_slice(extra);
        a.push("--once");
        tether(&a)
    };
    std::fs::write(
        dir.join("a/inbox/1.ndjson"),
        "{\"id\":\"1\",\"name\":\"Ada\",\"notes\":\"n\",\"city\":\"c\"}\n",
    )
    .expect("drop");
    let (code, _, err) = once(&["--create"]);
    assert_eq!(code, Some(0), "{err}");
    let left = serde_json::json!({"id": "1", "name": "Ada", "notes": HOSTILE, "city": "Left City"});
    std::fs::write(
        dir.join("a/inbox/2.ndjson"),
        format!("{left}\n{{\"name\":\"no key <b>bold</b>\"}}\n{{\"name\":\"no key two\"}}\n"),
    )
    .expect("drop");
    std::fs::write(
        dir.join("b/inbox/2.ndjson"),
        "{\"ref\":\"1\",\"Name\":\"Ada\",\"Notes\":\"right note\",\"City\":\"Right City\"}\n",
    )
    .expect("drop");
    let (code, _, err) = once(&[]);
    assert_eq!(code, Some(3), "a review and dead letters: {err}");
}

/// `sync --watch --console 127.0.0.1:0` (and `extra`), its address.
fn watch(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> (Running, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args(sync_args(dir))
        .args(["--watch", "--interval", "1"])
        .args(extra)
        .env_remove("TETHER_CONSOLE_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut running = Running(cmd.spawn().expect("run tether"));
    let stderr = running.0.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("tether ended before naming its console address")
            .expect("stderr line");
        if let Some(rest) = line.strip_prefix("tether: console at http://") {
            break rest.trim_end_matches('/').to_string();
        }
    };
    // Drained, so the sync never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (running, addr)
}

/// One exchange: (status, head, body). `headers` replace nothing: the
/// Host is given by the caller when it matters (`None`: the address).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    host: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the console");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        host.unwrap_or(addr)
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("answer");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let (status, _, body) = http(addr, "GET", path, None, &[], "");
    (status, body)
}

fn post(addr: &str, path: &str, body: &str) -> (u16, String) {
    let origin = format!("http://{addr}");
    let (status, head, _) = http(addr, "POST", path, None, &[("Origin", &origin)], body);
    (status, head)
}

/// The CSRF value of a page's forms.
fn csrf(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with its CSRF token");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').expect("the value's end")].to_string()
}

fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("state.db"), OpenMode::Existing).expect("the store")
}

/// Every operation written to `side`'s outbox so far.
fn outbox(side: &Path) -> Vec<Json> {
    let mut ops = Vec::new();
    let Ok(entries) = std::fs::read_dir(side.join("outbox")) else {
        return ops;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        ops.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
    }
    ops
}

/// Waits (bounded) until `found` holds of `side`'s outbox.
fn wait_for(side: &Path, found: impl Fn(&Json) -> bool) -> Json {
    for _ in 0..300 {
        if let Some(op) = outbox(side).into_iter().find(&found) {
            return op;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "no such operation in {}: {:?}",
        side.display(),
        outbox(side)
    );
}

#[test]
fn pages_show_hostile_values_as_text_and_forms_need_csrf_origin_and_host() {
    let dir = scratch("pages");
    scenario(&dir);
    let (_sync, addr) = watch(&dir, &["--console", "127.0.0.1:0"], &[]);
    let (code, status) = get(&addr, "/");
    assert_eq!(code, 200);
    assert!(status.contains("<html lang=\"en\">"), "{status}");
    assert!(
        status.contains("Open dead letters</a>: 2 (oldest")
            && status.contains("Open reviews</a>: 1 (oldest"),
        "{status}"
    );
    let review_id = store(&dir).reviews("person", true).expect("reviews")[0].id;
    let (code, review) = get(&addr, &format!("/reviews/{review_id}"));
    assert_eq!(code, 200);
    assert!(
        review.contains("left &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{review}"
    );
    assert!(
        !review.contains("<script"),
        "markup from a record: {review}"
    );
    assert!(review.contains("<th scope=\"row\">Notes <span>(in conflict)</span>"));
    let (code, letter) = get(&addr, "/dead-letters/1");
    assert_eq!(code, 200);
    assert!(
        letter.contains("no key &lt;b&gt;bold&lt;/b&gt;"),
        "{letter}"
    );
    assert!(!letter.contains("<b>"), "{letter}");
    let token = csrf(&review);
    let resolve = format!("/reviews/{review_id}/resolve");
    let open = || store(&dir).reviews("person", true).expect("reviews");
    // A wrong CSRF value, none, no Origin, another Origin, another Host:
    // each refused, and the review still open and undecided.
    let (code, _) = post(&addr, &resolve, "csrf=nope&field=Notes&side=left");
    assert_eq!(code, 403);
    let (code, _) = post(&addr, &resolve, "field=Notes&side=left");
    assert_eq!(code, 403);
    let body = format!("csrf={token}&field=Notes&side=left");
    let (code, _, _) = http(&addr, "POST", &resolve, None, &[], &body);
    assert_eq!(code, 403, "no Origin");
    let evil = [("Origin", "http://evil.example")];
    let (code, _, _) = http(&addr, "POST", &resolve, None, &evil, &body);
    assert_eq!(code, 403, "another Origin");
    let (code, _, _) = http(&addr, "GET", "/", Some("evil.example"), &[], "");
    assert_eq!(code, 421, "another Host (DNS rebinding)");
    assert_eq!(open().len(), 1);
    let record = store(&dir)
        .find_record("person", Side::Left, "1")
        .expect("read")
        .expect("the record");
    assert!(record.decisions.is_empty(), "{:?}", record.decisions);
    // Discard in the store: the letter settled, its key-less event dropped.
    let (code, head) = post(&addr, "/dead-letters/2/discard", &format!("csrf={token}"));
    assert_eq!(code, 303, "{head}");
    assert!(head.contains("location: /dead-letters/2?done=1"), "{head}");
    let d = store(&dir)
        .dead_letter("person", 2)
        .expect("read")
        .expect("letter 2");
    assert_eq!(d.status, LetterStatus::Discarded);
    let (code, _) = post(&addr, "/dead-letters/2/replay", &format!("csrf={token}"));
    assert_eq!(code, 409, "a settled letter is not settled again");
    let (_, page) = get(&addr, "/dead-letters/2?done=1");
    assert!(page.contains("Dead letter 2 is now discarded."), "{page}");
}

#[test]
fn a_review_resolved_each_way_and_a_replay_are_what_the_next_pass_does() {
    let dir = scratch("resolve");
    scenario(&dir);
    let (_sync, addr) = watch(&dir, &["--console", "127.0.0.1:0"], &[]);
    let review_id = store(&dir).reviews("person", true).expect("reviews")[0].id;
    let (_, page) = get(&addr, &format!("/reviews/{review_id}"));
    let token = csrf(&page);
    let resolve = format!("/reviews/{review_id}/resolve");
    let (code, head) = post(
        &addr,
        &resolve,
        &format!("csrf={token}&field=Notes&side=left"),
    );
    assert_eq!(code, 303, "{head}");
    // One field decided: the review stays open for the other.
    assert_eq!(
        store(&dir).reviews("person", true).expect("reviews").len(),
        1
    );
    let (_, page) = get(
        &addr,
        &format!("/reviews/{review_id}?field=Notes&took=left"),
    );
    assert!(page.contains("<td>take left</td>"), "{page}");
    let (code, _) = post(
        &addr,
        &resolve,
        &format!("csrf={token}&field=City&side=right"),
    );
    assert_eq!(code, 303);
    assert!(
        store(&dir)
            .reviews("person", true)
            .expect("reviews")
            .is_empty()
    );
    // Who and when, beside the merge's resolutions.
    let resolutions = store(&dir).resolutions("person", "1").expect("resolutions");
    let by_console: Vec<_> = resolutions
        .iter()
        .filter(|r| r.rule == "decided in the console by local")
        .map(|r| (r.field.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(by_console, [("Notes", "left"), ("City", "right")]);
    // `--explain` as a page shows the decisions with who made them.
    let (code, explained) = get(&addr, "/records?key=1");
    assert_eq!(code, 200);
    assert!(
        explained.contains("<td>decided in the console by local</td>"),
        "{explained}"
    );
    assert!(!explained.contains("<script"), "{explained}");
    let (code, missing) = get(&addr, "/records?key=%3Cnope%3E");
    assert_eq!(code, 200);
    assert!(
        missing.contains("No record with key &lt;nope&gt;."),
        "{missing}"
    );
    // The next pass writes what was chosen: the left Notes to the right,
    // the right City to the left.
    // (An update carries the fields it changes: each side gets only the
    // other's value.)
    let to_right = wait_for(&dir.join("b"), |op| op["op"] == "update");
    assert_eq!(to_right["record"]["Notes"], HOSTILE, "{to_right}");
    assert_eq!(to_right["record"].get("City"), None, "{to_right}");
    let to_left = wait_for(&dir.join("a"), |op| op["op"] == "update");
    assert_eq!(to_left["record"]["city"], "Right City", "{to_left}");
    assert_eq!(to_left["record"].get("notes"), None, "{to_left}");
    // Replay: the letter is settled as replayed, its event merged again;
    // still without a key, it is dead again, as a new letter.
    let (code, _) = post(&addr, "/dead-letters/1/replay", &format!("csrf={token}"));
    assert_eq!(code, 303);
    let d = store(&dir)
        .dead_letter("person", 1)
        .expect("read")
        .expect("letter 1");
    assert_eq!(d.status, LetterStatus::Replayed);
    let mut again = None;
    for _ in 0..300 {
        let open = store(&dir).dead_letters("person", true).expect("letters");
        if let Some(l) = open.into_iter().find(|l| l.id > 2) {
            again = Some(l);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let again = again.expect("the replayed event dead again after a pass");
    assert_eq!(again.events, d.events);
}

#[test]
fn off_loopback_needs_a_token_and_with_one_every_page_needs_a_login() {
    let dir = scratch("token");
    scenario(&dir);
    let mut args: Vec<String> = sync_args(&dir);
    // Not a local address (RFC 5737's documentation range): refused for
    // want of a token before any bind; were that check gone, the bind
    // would fail (exit 2 with another message) rather than serve on every
    // interface, and this run would not stay up watching.
    args.extend(["--watch", "--console", "192.0.2.1:0"].map(String::from));
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(&args)
        .env_remove("TETHER_CONSOLE_TOKEN")
        .output()
        .expect("run tether");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("set TETHER_CONSOLE_TOKEN"), "{err}");
    let secret = "ana:s3cret-console";
    let (_sync, addr) = watch(
        &dir,
        &["--console", "127.0.0.1:0"],
        &[("TETHER_CONSOLE_TOKEN", secret)],
    );
    let (code, head, _) = http(&addr, "GET", "/reviews", None, &[], "");
    assert_eq!(code, 303);
    assert!(head.contains("location: /login"), "{head}");
    let (code, login) = get(&addr, "/login");
    assert_eq!(code, 200);
    assert!(login.contains("<label for=\"token\">"), "{login}");
    assert!(!login.contains(secret));
    let token = csrf(&login);
    let (code, head) = post(&addr, "/login", &format!("csrf={token}&token=wrong"));
    assert_eq!(code, 403);
    assert!(!head.contains("set-cookie"), "{head}");
    let (code, _) = post(&addr, "/dead-letters/1/discard", &format!("csrf={token}"));
    assert_eq!(code, 403, "no session");
    let (code, head) = post(
        &addr,
        "/login",
        &format!("csrf={token}&token=ana%3As3cret-console"),
    );
    assert_eq!(code, 303, "{head}");
    let cookie_line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie");
    assert!(
        cookie_line.contains("HttpOnly") && cookie_line.contains("SameSite=Strict"),
        "{cookie_line}"
    );
    assert!(
        !cookie_line.contains("s3cret"),
        "the token is not the cookie"
    );
    let cookie = cookie_line
        .split_once(':')
        .map(|(_, v)| v.trim().split(';').next().unwrap_or("").to_string())
        .expect("cookie");
    let (code, _, page) = http(&addr, "GET", "/reviews", None, &[("Cookie", &cookie)], "");
    assert_eq!(code, 200);
    let review_id = store(&dir).reviews("person", true).expect("reviews")[0].id;
    let origin = format!("http://{addr}");
    let (code, _, _) = http(
        &addr,
        "POST",
        &format!("/reviews/{review_id}/resolve"),
        None,
        &[("Origin", &origin), ("Cookie", &cookie)],
        &format!(
            "csrf={}&field=Notes&side=right",
            csrf(&page_with_form(&addr, &cookie, review_id))
        ),
    );
    assert_eq!(code, 303, "{page}");
    let resolutions = store(&dir).resolutions("person", "1").expect("resolutions");
    assert!(
        resolutions
            .iter()
            .any(|r| r.rule == "decided in the console by ana" && r.outcome == "right"),
        "{resolutions:?}"
    );
}

fn page_with_form(addr: &str, cookie: &str, review: i64) -> String {
    let (code, _, page) = http(
        addr,
        "GET",
        &format!("/reviews/{review}"),
        None,
        &[("Cookie", cookie)],
        "",
    );
    assert_eq!(code, 200);
    page
}

/// Where the browser test's screenshots go: `target/console-screenshots/`
/// (beside `target/tmp`), a test artifact, not committed.
fn screenshots() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// The console in Debian's Chromium over WebDriver: a review opened and
/// resolved one field each way by clicks, a dead letter replayed by a
/// click, the next pass writing what was chosen; a screenshot of each
/// page, and no page logging a JavaScript error. Skipped (said so) where
/// Chromium or chromedriver is missing, unless `TETHER_REQUIRE_BROWSER=1`
/// (CI), where that fails.
#[test]
fn in_a_real_browser_a_review_is_resolved_each_way_and_a_letter_replayed() {
    let required = std::env::var("TETHER_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let (Some(chromium), Some(driver)) = (
        webdriver::find_program("chromium"),
        webdriver::find_program("chromedriver"),
    ) else {
        assert!(
            !required,
            "TETHER_REQUIRE_BROWSER=1 but chromium or chromedriver is not on PATH \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "skipped: the console's browser test needs chromium and chromedriver on PATH \
             (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let shots = screenshots();
    let dir = scratch("browser");
    scenario(&dir);
    let (_sync, addr) = watch(&dir, &["--console", "127.0.0.1:0"], &[]);
    let browser = webdriver::Browser::start(&chromium, &driver).expect("a browser session");
    let base = format!("http://{addr}");
    // A screenshot of the page now shown, and its console log free of
    // errors (a script error, a refused resource, a CSP violation).
    let page = |name: &str| {
        browser
            .screenshot(&shots.join(format!("{name}.png")))
            .expect("screenshot");
        let log = browser.log().expect("the browser log");
        let errors: Vec<_> = log.iter().filter(|(level, _)| level == "SEVERE").collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        browser.source().expect("page source")
    };
    browser.go(&format!("{base}/")).expect("status page");
    assert_eq!(browser.title().expect("title"), "Status · tether console");
    let status = page("status");
    assert!(status.contains("Open reviews</a>: 1"), "{status}");
    browser.go(&format!("{base}/reviews")).expect("reviews");
    page("reviews");
    browser
        .click("//main//table//a[text()='1']")
        .expect("open the review");
    let review = page("review");
    // The hostile value is text in the browser's own DOM, not a script.
    assert!(
        review.contains("left &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{review}"
    );
    browser
        .click("//button[text()='Take left for Notes']")
        .expect("take left");
    let one = page("review-one-field-decided");
    assert!(one.contains("Notes: took left."), "{one}");
    browser
        .click("//button[text()='Take right for City']")
        .expect("take right");
    page("review-resolved");
    assert!(
        store(&dir)
            .reviews("person", true)
            .expect("reviews")
            .is_empty()
    );
    browser
        .go(&format!("{base}/dead-letters"))
        .expect("letters");
    page("dead-letters");
    browser
        .click("//main//table//a[text()='1']")
        .expect("open letter 1");
    page("dead-letter");
    browser.click("//button[text()='Replay']").expect("replay");
    let replayed = page("dead-letter-replayed");
    assert!(
        replayed.contains("Dead letter 1 is now replayed."),
        "{replayed}"
    );
    let d = store(&dir)
        .dead_letter("person", 1)
        .expect("read")
        .expect("letter 1");
    assert_eq!(d.status, LetterStatus::Replayed);
    browser
        .go(&format!("{base}/records?key=1"))
        .expect("explain");
    let explained = page("explain");
    assert!(
        explained.contains("decided in the console by local"),
        "{explained}"
    );
    // The next pass writes each choice to the other side.
    let to_right = wait_for(&dir.join("b"), |op| op["op"] == "update");
    assert_eq!(to_right["record"]["Notes"], HOSTILE, "{to_right}");
    let to_left = wait_for(&dir.join("a"), |op| op["op"] == "update");
    assert_eq!(to_left["record"]["city"], "Right City", "{to_left}");
}
