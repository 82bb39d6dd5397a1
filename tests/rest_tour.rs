//! The README's "Sync a REST CRM" tour, run as written (issue 19, "Done
//! when: the README tour works offline ... against the bundled fakes"):
//! the `sh` block of that section is read from README.md and each line
//! interpreted, with the fake of `examples/fakecrm/` (its own code,
//! included below) on a free loopback port instead of 8642, and the real
//! `tether` binary for `cargo run -q -- …`. The counts the README's
//! comments claim (`# read 4, created 4, sent 4`) are checked against each
//! pass's summary, and the end state against the fake's contacts: so
//! editing the tour so that it no longer works, or changing tether so
//! that the tour says something false, fails here. Bounded in time by the
//! provider file's own timeouts (5 s connect, 30 s request, 6 attempts);
//! the fake is in this process and answers at once.

#[path = "../examples/fakecrm/hubspot.rs"]
mod hubspot;
#[path = "../examples/fakecrm/salesforce.rs"]
mod salesforce;
#[path = "../examples/fakecrm/serve.rs"]
mod serve;

use hubspot::Hubspot;
use serve::Crm;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// The tour's `sh` block: the first fenced block after its heading.
fn tour_block() -> Vec<String> {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let (_, section) = readme
        .split_once("### Sync a REST CRM")
        .expect("the README has the REST tour");
    let (_, block) = section.split_once("```sh\n").expect("a sh block");
    let (block, _) = block.split_once("```").expect("the block ends");
    block.lines().map(str::to_string).collect()
}

/// `$name` and `${name}` of `vars` replaced in `text`.
fn expand(text: &str, vars: &HashMap<String, String>) -> String {
    let mut names: Vec<&String> = vars.keys().collect();
    // Longest first: `$demo` must not eat `$demo_x`'s prefix.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = text.to_string();
    for n in names {
        out = out
            .replace(&format!("${{{n}}}"), &vars[n])
            .replace(&format!("${n}"), &vars[n]);
    }
    out
}

/// The command and its trailing comment (`cmd   # comment`).
fn split_comment(line: &str) -> (&str, &str) {
    match line.split_once(" #") {
        Some((cmd, comment)) => (cmd.trim(), comment.trim()),
        None => (line.trim(), ""),
    }
}

const COUNTS: [&str; 13] = [
    "read",
    "created",
    "updated",
    "deleted",
    "unchanged",
    "duplicate",
    "stale",
    "conflicts",
    "dead_lettered",
    "waiting",
    "parked",
    "deletes_ignored",
    "sent",
];

/// The `NAME N` pairs a comment claims of a pass's summary.
fn claimed(comment: &str) -> Vec<(String, u64)> {
    let words: Vec<&str> = comment
        .split(|c: char| c.is_whitespace() || c == ',' || c == ':')
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|w| COUNTS.contains(&w[0]))
        .filter_map(|w| Some((w[0].to_string(), w[1].parse().ok()?)))
        .collect()
}

/// The counts of tether's text summary line (`tether: read 4, ...`).
fn summary(stderr: &str) -> HashMap<String, u64> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("tether: read "))
        .unwrap_or("");
    // The counts come first; `; webhooks: …` and `; PROVIDER (side): …`
    // follow them.
    let counts = line.split("; ").next().unwrap_or("");
    counts
        .trim_start_matches("tether: ")
        .split(", ")
        .filter_map(|kv| {
            let (k, v) = kv.split_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(p);
            }
        }
    }
    found
}

#[test]
fn the_readme_rest_tour_runs_as_written() {
    let store = Arc::new(Mutex::new(Crm::default()));
    let mut fake: Option<serve::Running> = None;
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut env: Vec<(String, String)> = Vec::new();
    let mut passes: Vec<HashMap<String, u64>> = Vec::new();
    let mut printed = String::new();
    // Salesforce token requests made before each pass ended.
    let mut token_requests: Vec<usize> = Vec::new();
    let scratch = std::env::temp_dir().join(format!("tether-rest-tour-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);

    for line in tour_block() {
        let (cmd, comment) = split_comment(&line);
        if cmd.is_empty() || cmd.starts_with('#') {
            continue;
        }
        let cmd = expand(cmd, &vars);
        let words: Vec<&str> = cmd.split_whitespace().collect();
        match words.as_slice() {
            [
                "cargo",
                "run",
                "-q",
                "--example",
                "fakecrm",
                "--",
                args @ ..,
                "&",
            ] => {
                // The example's main, on any free port: tests run in parallel.
                let mut s = store.lock().expect("store");
                hubspot::seed_tour(&mut s.hubspot);
                let mut a = args.iter();
                while let Some(flag) = a.next() {
                    let value = a.next().expect("a flag's value");
                    match *flag {
                        "--port" => {}
                        "--throttle" => s.throttle_every = value.parse().expect("a number"),
                        "--born" => salesforce::seed_born(
                            &mut s.salesforce,
                            value.parse().expect("a number"),
                        ),
                        other => panic!("a flag the tour test does not know: {other}"),
                    }
                }
                drop(s);
                fake = Some(serve::start(store.clone(), "127.0.0.1:0", false).expect("listen"));
            }
            ["export", assignments @ ..] => {
                let url = fake.as_ref().expect("the fake started first").url.clone();
                for a in assignments {
                    let (k, v) = a.split_once('=').expect("NAME=VALUE");
                    let v = if k.ends_with("_BASE_URL") {
                        url.as_str()
                    } else {
                        v
                    };
                    env.push((k.to_string(), v.to_string()));
                    vars.insert(k.to_string(), v.to_string());
                }
            }
            ["demo=$(mktemp", "-d)"] => {
                std::fs::create_dir_all(&scratch).expect("scratch");
                vars.insert("demo".into(), scratch.to_string_lossy().into_owned());
            }
            [first, ..] if first.contains("=\"") && cmd.ends_with('"') => {
                let (name, value) = cmd.split_once("=\"").expect("NAME=\"VALUE\"");
                vars.insert(name.to_string(), value.trim_end_matches('"').to_string());
            }
            ["echo", text, ">", file] => {
                std::fs::write(file, format!("{text}\n")).expect("echo into a file");
            }
            ["cargo", "run", "-q", "--", args @ ..] => {
                let mut tether = Command::new(env!("CARGO_BIN_EXE_tether"));
                tether.args(args);
                for (var, _) in std::env::vars() {
                    if var.starts_with("HUBSPOT_") || var.starts_with("SALESFORCE_") {
                        tether.env_remove(var);
                    }
                }
                tether.envs(env.iter().map(|(k, v)| (k, v)));
                let out = tether.output().expect("run tether");
                let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{cmd}\nstdout: {stdout}\nstderr: {stderr}"
                );
                printed.push_str(&stdout);
                printed.push_str(&stderr);
                if args.first() == Some(&"sync") {
                    token_requests.push(store.lock().expect("store").salesforce.token_requests());
                    let counts = summary(&stderr);
                    assert!(!counts.is_empty(), "{cmd}: no summary in {stderr}");
                    for (name, n) in claimed(comment) {
                        assert_eq!(
                            counts.get(&name),
                            Some(&n),
                            "{cmd}: the README says {name} {n}; {stderr}"
                        );
                    }
                    passes.push(counts);
                }
            }
            ["cp", from, to] => {
                let to = Path::new(to);
                std::fs::create_dir_all(to).expect("the inbox");
                let name = Path::new(from).file_name().expect("a file name");
                std::fs::copy(from, to.join(name)).expect("copy");
            }
            // Looking, not doing: what they show is checked below.
            ["cat", ..] | ["curl", ..] | ["kill", "%1"] => {}
            _ => panic!("a tour line the test does not know: {line}"),
        }
    }

    // Seven passes, as the README has them: four into a folder, three
    // between the APIs.
    assert_eq!(passes.len(), 7, "{passes:?}");
    let demo = PathBuf::from(&vars["demo"]);

    // Salesforce's outbox: the four contacts created once each, and the
    // echo of the phone change sent nowhere.
    let mut ops = Vec::new();
    for e in std::fs::read_dir(demo.join("salesforce/outbox"))
        .expect("outbox")
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).expect("an outbox file");
        ops.extend(
            text.lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON")),
        );
    }
    let mut keys: Vec<&str> = ops.iter().filter_map(|o| o["key"].as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["101", "102", "103", "104"], "{ops:?}");
    assert!(ops.iter().all(|o| o["op"] == "create"), "{ops:?}");

    // The fake: the four contacts, 101 with Salesforce's phone number,
    // and Grace, made in Salesforce; the throttle did answer 429s, and
    // the passes got through them.
    let s = store.lock().expect("store");
    assert_eq!(s.hubspot.contacts().count(), 5);
    let grace = s
        .hubspot
        .by_email("grace@navy.example")
        .expect("Grace, created in HubSpot");
    let grace_id = grace["id"].as_str().expect("an id").to_string();
    assert_eq!(grace["properties"]["lifecyclestage"], "salesqualifiedlead");
    let bryan = s.hubspot.by_id("101").expect("contact 101");
    assert_eq!(bryan["properties"]["phone"], "+1 877 929 0687", "{bryan}");
    assert_eq!(
        bryan["properties"]["lifecyclestage"],
        "marketingqualifiedlead"
    );
    assert!(s.throttled > 0, "the tour's throttle never answered 429");

    // Salesforce: the four HubSpot contacts upserted once each by their
    // HubSpot id, with HubSpot's values, and Grace holding hers, written
    // back; no token before the passes that read Salesforce, then one
    // access token per pass (the refresh grant, from the token file).
    let mut external: Vec<&str> = s
        .salesforce
        .contacts()
        .filter_map(|c| c["HubSpot_Id__c"].as_str())
        .collect();
    external.sort_unstable();
    let mut want = vec!["101", "102", "103", "104", grace_id.as_str()];
    want.sort_unstable();
    assert_eq!(external, want);
    assert_eq!(s.salesforce.contacts().count(), 5, "nothing made twice");
    let grace_sf = s.salesforce.by_external(&grace_id).expect("Grace");
    assert_eq!(grace_sf["LastName"], "Hopper", "{grace_sf}");
    let cooper = s.salesforce.by_external("101").expect("101 in Salesforce");
    assert_eq!(cooper["Phone"], "+1 877 929 0687", "{cooper}");
    assert_eq!(cooper["Email"], "bcooper@biglytics.net", "{cooper}");
    assert_eq!(token_requests, [0, 0, 0, 0, 1, 2, 3], "{token_requests:?}");

    // The throwaway token: in nothing tether printed or wrote.
    let token = env
        .iter()
        .find(|(k, _)| k == "HUBSPOT_TOKEN")
        .map(|(_, v)| v.clone())
        .expect("the tour sets a token");
    assert!(!printed.contains(&token), "the token was printed");
    assert_eq!(files_holding(&demo, &token), Vec::<PathBuf>::new());
    drop(s);
    drop(fake);
    let _ = std::fs::remove_dir_all(&scratch);
}

#[test]
fn the_fake_pages_a_search_by_after_and_filters_by_modification() {
    // The fake's own shapes, as hubspot.tprovider reads them: a page of
    // `limit`, `paging.next.after` while there is more, `GTE` inclusive.
    let mut h = Hubspot::default();
    hubspot::seed_tour(&mut h);
    let auth = Some("Bearer t");
    let search = |h: &mut Hubspot, body: serde_json::Value| {
        let r = h.answer(
            "POST",
            "/crm/v3/objects/contacts/search",
            auth,
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str::<serde_json::Value>(&r.body).expect("JSON")
    };
    let first = search(&mut h, serde_json::json!({"limit": 3}));
    assert_eq!(first["results"].as_array().map(Vec::len), Some(3));
    assert_eq!(first["paging"]["next"]["after"], "3");
    let second = search(&mut h, serde_json::json!({"limit": 3, "after": "3"}));
    assert_eq!(second["results"][0]["id"], "104");
    assert!(second.get("paging").is_none(), "{second}");
    // From the third contact's instant on, inclusive: the third and fourth.
    let third_at = chrono::DateTime::parse_from_rfc3339(
        first["results"][2]["properties"]["lastmodifieddate"]
            .as_str()
            .expect("a date"),
    )
    .expect("RFC 3339")
    .timestamp_millis();
    let filtered = search(
        &mut h,
        serde_json::json!({"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate",
            "operator": "GTE", "value": third_at}]}], "properties": ["email"]}),
    );
    let ids: Vec<&str> = filtered["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, ["103", "104"]);
    // Only the asked-for properties, and HubSpot's defaults.
    assert!(
        filtered["results"][0]["properties"]
            .get("firstname")
            .is_none()
    );
    assert!(
        filtered["results"][0]["properties"]
            .get("lastmodifieddate")
            .is_some()
    );
    // No token: 401 in HubSpot's error shape.
    let r = h.answer("POST", "/crm/v3/objects/contacts/search", None, b"{}");
    assert_eq!(r.status, 401);
    // A second contact with one email: 409, as HubSpot keeps emails unique.
    let r = h.answer(
        "POST",
        "/crm/v3/objects/contacts",
        auth,
        br#"{"properties":{"email":"LAYLA@globex.ae"}}"#,
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("Existing ID: 102"), "{}", r.body);
}

#[test]
fn the_fake_salesforce_grants_tokens_queries_in_batches_and_upserts_by_external_id() {
    // The shapes salesforce.tprovider reads: the refresh grant, a SOQL
    // query answered in batches linked by `nextRecordsUrl` until `done`,
    // and the upsert by `HubSpot_Id__c` (201 created, then 200).
    let mut sf = salesforce::Salesforce::default();
    let r = sf.answer("GET", "/services/data/v59.0/query?q=x", None, None, b"");
    assert_eq!(r.status, 401, "no token, no data");
    let r = sf.answer(
        "POST",
        "/services/oauth2/token",
        None,
        None,
        b"grant_type=refresh_token&client_id=a&client_secret=b",
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("invalid_grant"), "{}", r.body);
    let r = sf.answer(
        "POST",
        "/services/oauth2/token",
        None,
        None,
        b"grant_type=refresh_token&client_id=a&client_secret=b&refresh_token=c",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let token: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
    let auth = format!(
        "Bearer {}",
        token["access_token"].as_str().expect("a token")
    );
    let auth = Some(auth.as_str());
    let upsert = |sf: &mut salesforce::Salesforce, key: &str, body: &str| {
        let path = format!("/services/data/v59.0/sobjects/Contact/HubSpot_Id__c/{key}");
        sf.answer("PATCH", &path, auth, None, body.as_bytes())
    };
    let r = upsert(&mut sf, "7", r#"{"Email":"a@b.c"}"#);
    assert_eq!(r.status, 400, "a create needs LastName: {}", r.body);
    assert!(r.body.contains("REQUIRED_FIELD_MISSING"), "{}", r.body);
    for key in 1..=250 {
        let r = upsert(&mut sf, &key.to_string(), r#"{"LastName":"Lee"}"#);
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // A contact made in Salesforce: no `HubSpot_Id__c` until one is
    // written back.
    let made = sf.answer(
        "POST",
        "/services/data/v59.0/sobjects/Contact",
        auth,
        None,
        br#"{"FirstName":"Ada"}"#,
    );
    assert_eq!(made.status, 400, "LastName is required: {}", made.body);
    let made = sf.answer(
        "POST",
        "/services/data/v59.0/sobjects/Contact",
        auth,
        None,
        br#"{"LastName":"Lovelace"}"#,
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let made: serde_json::Value = serde_json::from_str(&made.body).expect("JSON");
    let id = made["id"].as_str().expect("an id");
    let ada = sf.by_id(id).expect("made").clone();
    assert_eq!(ada["LastName"], "Lovelace");
    assert!(ada.get("HubSpot_Id__c").is_none(), "{ada}");
    let r = sf.answer(
        "DELETE",
        &format!("/services/data/v59.0/sobjects/Contact/{id}"),
        auth,
        None,
        b"",
    );
    assert_eq!(r.status, 204);
    let r = upsert(&mut sf, "1", r#"{"LastName":"Li"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#""created":false"#), "{}", r.body);
    assert_eq!(
        sf.contacts().count(),
        250,
        "an upsert of a held key creates nothing"
    );

    let q = "/services/data/v59.0/query?q=SELECT+Id+FROM+Contact+WHERE+LastModifiedDate+%3E%3D+1970-01-01T00%3A00%3A00Z+ORDER+BY+LastModifiedDate+ASC";
    let mut url = q.to_string();
    let mut seen = Vec::new();
    for _ in 0..5 {
        let r = sf.answer("GET", &url, auth, Some("batchSize=200"), b"");
        assert_eq!(r.status, 200, "{}", r.body);
        let page: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
        assert_eq!(page["totalSize"], 250);
        seen.extend(
            page["records"]
                .as_array()
                .expect("records")
                .iter()
                .filter_map(|c| c["HubSpot_Id__c"].as_str().map(String::from)),
        );
        if page["done"] == true {
            assert!(page.get("nextRecordsUrl").is_none(), "{page}");
            break;
        }
        url = page["nextRecordsUrl"]
            .as_str()
            .expect("a next URL")
            .to_string();
    }
    // Two batches (200 + 50), in modification order: the updated one last.
    assert_eq!(seen.len(), 250);
    assert_eq!(seen.last().map(String::as_str), Some("1"));
    let r = sf.answer(
        "GET",
        "/services/data/v59.0/query?q=SELECT+Id+FROM+Contact",
        auth,
        None,
        b"",
    );
    assert_eq!(
        r.status, 400,
        "a query this fake cannot read is refused, not guessed"
    );
}
