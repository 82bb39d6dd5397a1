//! `tether sync --log-format json` (issue 22, step 2): the log line about
//! a dead-lettered record is one JSON object with the record's mapping,
//! side, key and idempotency key; no line anywhere carries the provider's
//! token, and a record's content only with `--log-records`. The provider
//! is the CRM-like fake, which refuses a contact whose email has no `@`
//! (422), so the refused write is the dead letter.

#[path = "support/fake_crm.rs"]
mod fake_crm;
#[path = "support/fake_http.rs"]
mod fake_http;
#[path = "support/fault_http.rs"]
mod fault_http;
#[path = "support/rest_cli.rs"]
mod rest_cli;

use fake_crm::Crm;
use fault_http::Faulty;
use rest_cli::{s, scratch, sync_args};
use serde_json::Value as Json;
use std::sync::{Arc, Mutex};

const PAGED: &str = "tests/data/rest_faults/contacts_paged.tether";
const TOKEN: &str = "pat-logs-secret-5521";

/// A run that dead-letters r7 (an email without `@`); its output.
fn run(name: &str, extra: &[&str]) -> rest_cli::Run {
    let dir = scratch("logs", name);
    let crm = Arc::new(Mutex::new(Crm::default()));
    let handler = crm.clone();
    let fake = Faulty::start(move |r| fake_crm::handle(&handler, r), |_, _| None);
    let inbox = dir.join("erp/inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    std::fs::write(
        inbox.join("customers.ndjson"),
        "{\"ref\":\"r6\",\"Email\":\"ok@example.com\",\"Name\":\"Ok\"}\n\
         {\"ref\":\"r7\",\"Email\":\"not-an-address\",\"Name\":\"Private Person\"}\n",
    )
    .expect("drop");
    let (state, erp) = (dir.join("state.db"), dir.join("erp"));
    let args: Vec<&str> = [&sync_args(PAGED, s(&state), s(&erp))[..], extra].concat();
    rest_cli::tether(
        &dir,
        &args,
        &[("FAKECRM_BASE_URL", &fake.url), ("FAKECRM_TOKEN", TOKEN)],
    )
}

/// The log's JSON objects (stderr lines that are objects).
fn log_lines(run: &rest_cli::Run) -> Vec<Json> {
    run.err
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .filter(Json::is_object)
        .collect()
}

#[test]
fn a_dead_lettered_record_is_logged_as_json_with_its_keys_and_no_secret() {
    let run = run("json", &["--log-format", "json"]);
    assert_eq!(run.code, Some(3), "{}\n{}", run.out, run.err);
    let lines = log_lines(&run);
    // With the summary on stdout (`--format json`), standard error is the
    // log alone: every line an object a shipper can parse.
    assert_eq!(lines.len(), run.err.lines().count(), "{}", run.err);
    let letters: Vec<&Json> = lines
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("record dead-lettered"))
        })
        .collect();
    assert_eq!(letters.len(), 1, "{}", run.err);
    let l = letters[0];
    assert_eq!(l["level"], "WARN", "{l}");
    assert_eq!(l["mapping"], "contact", "{l}");
    assert_eq!(l["side"], "right", "{l}");
    assert_eq!(l["key"], "r7", "{l}");
    let key = l["idempotency_key"].as_str().unwrap_or("");
    assert!(key.len() >= 16, "an idempotency key: {l}");
    assert!(
        l["error"].as_str().is_some_and(|e| e.contains("422")),
        "{l}"
    );
    assert!(
        l.get("record").is_none(),
        "content without --log-records: {l}"
    );
    for stream in [&run.out, &run.err] {
        assert!(!stream.contains(TOKEN), "the token was printed: {stream}");
        assert!(
            !stream.contains("Private Person"),
            "a record's content was printed: {stream}"
        );
    }
}

#[test]
fn log_records_adds_the_content_and_still_no_secret() {
    let run = run("records", &["--log-format", "json", "--log-records"]);
    assert_eq!(run.code, Some(3), "{}", run.err);
    let lines = log_lines(&run);
    let l = lines
        .iter()
        .find(|l| l["key"] == "r7")
        .unwrap_or_else(|| panic!("no line about r7: {}", run.err));
    assert!(
        l["record"]
            .as_str()
            .is_some_and(|r| r.contains("not-an-address")),
        "{l}"
    );
    assert!(!run.err.contains(TOKEN) && !run.out.contains(TOKEN));
}

#[test]
fn the_text_log_is_the_cli_line_with_the_same_fields() {
    let run = run("text", &[]);
    assert_eq!(run.code, Some(3), "{}", run.err);
    let line = run
        .err
        .lines()
        .find(|l| l.starts_with("tether: warning: record dead-lettered"))
        .unwrap_or_else(|| panic!("no line about the dead letter: {}", run.err));
    for field in [
        "mapping=\"contact\"",
        "side=\"right\"",
        "key=\"r7\"",
        "idempotency_key=\"tk_",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(!run.err.contains(TOKEN) && !run.err.contains("Private Person"));
    let quiet = self::run("quiet", &["--quiet"]);
    assert!(
        !quiet.err.contains("record dead-lettered"),
        "--quiet keeps errors only: {}",
        quiet.err
    );
}
