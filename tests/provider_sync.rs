//! `tether sync --right provider:NAME` end to end (issue 19, step 1 and
//! step 3's command line): the real binary, a provider declared in a
//! `.tprovider` file (tests/data/provider_sync/), the CRM-like fake on
//! loopback. A contact read from the REST side reaches the folder, a
//! customer dropped in the folder is created on the REST side, the secret
//! is read from the environment and appears in nothing tether prints, and
//! a missing secret stops the sync by its variable's name before any
//! request. Every request has a timeout (the declaration's 2 s connect,
//! 10 s request, 2 attempts), so a hung fake cannot hang the test.

#[path = "support/fake_crm.rs"]
mod fake_crm;
#[path = "support/fake_http.rs"]
mod fake_http;

#[path = "support/scratch.rs"]
mod scratch;
use fake_crm::Crm;
use scratch::Scratch;
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

const MAPPING: &str = "tests/data/provider_sync/contacts.tether";
const TOKEN: &str = "pat-fake-7c1d9e";

fn scratch(name: &str) -> Scratch {
    Scratch::new("provider", name)
}

/// `tether sync` with `env` set (and nothing else of the provider's
/// variables); (exit code, stdout, stderr).
fn sync(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args(args);
    for var in ["FAKECRM_BASE_URL", "FAKECRM_TOKEN", "FAKECRM_TOKEN_FILE"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run tether");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn args<'a>(state: &'a str, left: &'a str, right: &'a str) -> Vec<&'a str> {
    vec![
        "sync",
        MAPPING,
        "--mapping",
        "contact",
        "--state",
        state,
        "--left",
        left,
        "--right",
        right,
        "--once",
        "--create",
        "--format",
        "json",
    ]
}

/// Every operation tether wrote to a folder side's outbox.
fn outbox(side: &Path) -> Vec<Json> {
    let mut ops = Vec::new();
    let Ok(entries) = std::fs::read_dir(side.join("outbox")) else {
        return ops;
    };
    for e in entries.flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        ops.extend(
            text.lines()
                .filter_map(|l| serde_json::from_str::<Json>(l).ok()),
        );
    }
    ops
}

/// A file under `dir` holding the token (the state store and its WAL, the
/// side folders), if any.
fn secret_in_files(dir: &Path) -> Option<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .is_ok_and(|b| b.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()))
            {
                return Some(p);
            }
        }
    }
    None
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn a_rest_side_is_read_into_a_folder_and_a_folder_record_is_created_on_it() {
    let crm = Arc::new(Mutex::new(Crm::default()));
    crm.lock()
        .expect("crm")
        .seed(json!({"ref": "r1", "email": "ann@example.com", "firstname": "Ann"}));
    let fake = fake_crm::start(crm.clone());
    let dir = scratch("both-ways");
    let erp = dir.join("erp");
    std::fs::create_dir_all(erp.join("inbox")).expect("inbox");
    std::fs::write(
        erp.join("inbox/customers.ndjson"),
        "{\"ref\":\"r2\",\"Email\":\"bob@example.com\",\"Name\":\"Bob\"}\n",
    )
    .expect("drop");
    let state = dir.join("state.db");
    let env = [
        ("FAKECRM_BASE_URL", fake.url.as_str()),
        ("FAKECRM_TOKEN", TOKEN),
    ];

    let (code, out, err) = sync(&args(s(&state), s(&erp), "provider:fakecrm"), &env);
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    let summary: Json = serde_json::from_str(out.trim()).expect("a JSON summary");
    assert_eq!(summary["read"], json!(2), "{summary}");

    // The contact read from the REST side, written to the folder.
    let ops = outbox(&erp);
    let text = serde_json::to_string(&ops).unwrap_or_default();
    assert_eq!(ops.len(), 1, "{text}");
    assert!(
        text.contains("\"r1\"") && text.contains("ann@example.com") && text.contains("\"Ann\""),
        "{text}"
    );

    // The customer from the folder, created on the REST side once, by the
    // declared request and with the token from the environment.
    let contacts = crm.lock().expect("crm").contacts.clone();
    let created: Vec<&Json> = contacts
        .iter()
        .filter(|c| c["properties"]["ref"] == "r2")
        .collect();
    assert_eq!(created.len(), 1, "{contacts:?}");
    assert_eq!(
        created[0]["properties"],
        json!({"ref": "r2", "email": "bob@example.com", "firstname": "Bob"})
    );
    let log = fake.log();
    let lines: Vec<String> = log
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(lines[0], "GET /contacts?since=0", "{lines:?}");
    // The summary counts the REST side's requests: every one the fake saw.
    assert_eq!(
        summary["providers"],
        json!([{"side": "right", "provider": "fakecrm", "requests": log.len(),
                "retries": 0, "throttled": 0, "breaker_openings": 0, "token_fetches": 0}]),
        "{summary}"
    );
    assert!(lines.contains(&"POST /contacts".to_string()), "{lines:?}");
    let post = log.iter().find(|r| r.method == "POST").expect("a create");
    assert!(
        post.header("idempotency-key").is_some(),
        "declared header sent"
    );
    for r in &log {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    assert!(
        !out.contains(TOKEN) && !err.contains(TOKEN),
        "the token was printed"
    );
    assert_eq!(secret_in_files(&dir), None, "the token was stored");

    // A second pass: the contact made is read back as tether's own echo;
    // nothing is sent either way.
    let (code, out, err) = sync(&args(s(&state), s(&erp), "provider:fakecrm"), &env);
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    let summary: Json = serde_json::from_str(out.trim()).expect("a JSON summary");
    assert_eq!(summary["sent"], json!(0), "{summary}");
    assert_eq!(
        crm.lock().expect("crm").contacts.len(),
        2,
        "nothing created twice"
    );
}

#[test]
fn proxy_variables_are_ignored_so_the_token_goes_only_to_the_base() {
    let crm = Arc::new(Mutex::new(Crm::default()));
    crm.lock()
        .expect("crm")
        .seed(json!({"ref": "r1", "email": "ann@example.com", "firstname": "Ann"}));
    let fake = fake_crm::start(crm);
    // A proxy that would see the bearer token if it were used.
    let proxy = fake_http::Fake::start(|_| fake_http::Reply::json(502, "{}"));
    let dir = scratch("proxy");
    let state = dir.join("state.db");
    let erp = dir.join("erp");
    let mut env = vec![
        ("FAKECRM_BASE_URL", fake.url.as_str()),
        ("FAKECRM_TOKEN", TOKEN),
        ("NO_PROXY", ""),
        ("no_proxy", ""),
    ];
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        env.push((var, proxy.url.as_str()));
    }
    let (code, out, err) = sync(&args(s(&state), s(&erp), "provider:fakecrm"), &env);
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    assert!(proxy.log().is_empty(), "the proxy was used");
    assert!(!fake.log().is_empty(), "the base was asked");
    assert_eq!(outbox(&erp).len(), 1);
}

#[test]
fn a_missing_secret_stops_the_sync_by_its_name_before_any_request() {
    let crm = Arc::new(Mutex::new(Crm::default()));
    let fake = fake_crm::start(crm);
    let dir = scratch("no-secret");
    let state = dir.join("state.db");
    let erp = dir.join("erp");
    let (code, out, err) = sync(
        &args(s(&state), s(&erp), "provider:fakecrm"),
        &[("FAKECRM_BASE_URL", fake.url.as_str())],
    );
    assert_eq!(code, Some(2), "stdout: {out}\nstderr: {err}");
    assert!(
        err.contains("FAKECRM_TOKEN") && err.contains("FAKECRM_TOKEN_FILE"),
        "{err}"
    );
    assert!(fake.log().is_empty(), "no request without the secret");
    assert!(
        !state.exists(),
        "nothing created before the sides are ready"
    );
}

#[test]
fn a_side_naming_no_provider_or_no_fitting_resource_is_refused_in_words() {
    let dir = scratch("unknown");
    let state = dir.join("state.db");
    let erp = dir.join("erp");
    let (code, _, err) = sync(&args(s(&state), s(&erp), "provider:hubspot"), &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no provider `hubspot`") && err.contains("fakecrm"),
        "{err}"
    );
    // The left side is `erp.Customer`, which the provider does not serve.
    let (code, _, err) = sync(
        &args(s(&state), "provider:fakecrm", s(&erp)),
        &[("FAKECRM_TOKEN", TOKEN)],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("`erp.Customer`") && err.contains("contacts (crm.Contact)"),
        "{err}"
    );
}

#[test]
fn a_plan_file_carries_its_providers_and_a_forged_one_is_refused() {
    let crm = Arc::new(Mutex::new(Crm::default()));
    crm.lock()
        .expect("crm")
        .seed(json!({"ref": "r1", "email": "ann@example.com", "firstname": "Ann"}));
    let fake = fake_crm::start(crm);
    let dir = scratch("plan");
    let plan = dir.join("contacts.tplan");
    let (code, _, err) = sync(&["build", MAPPING, "-o", s(&plan)], &[]);
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&plan).expect("plan");
    // The variable's name is in the plan; a value never could be.
    assert!(text.contains("\"FAKECRM_TOKEN\""), "{text}");

    // Deployed without its sources: the plan alone syncs the provider side.
    let deployed = dir.join("deployed.tplan");
    std::fs::copy(&plan, &deployed).expect("copy");
    let state = dir.join("state.db");
    let erp = dir.join("erp");
    let env = [
        ("FAKECRM_BASE_URL", fake.url.as_str()),
        ("FAKECRM_TOKEN", TOKEN),
    ];
    let mut a = args(s(&state), s(&erp), "provider:fakecrm");
    a[1] = s(&deployed);
    let (code, out, err) = sync(&a, &env);
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    let ops = outbox(&erp);
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["key"], json!("r1"), "{ops:?}");

    // A forger who recomputes the body hash still cannot point the
    // provider at a plain-HTTP host: the plan is refused on loading.
    let (head, body) = text.split_once('\n').expect("header line");
    let body = body.trim_end();
    let forged_body = body.replacen("https://crm.example.com", "http://crm.example.com", 1);
    assert_ne!(forged_body, body, "the plan holds the declared base");
    let mut header: Json = serde_json::from_str(head).expect("header");
    header["body_hash"] = tether::plan::file::body_hash(&forged_body).into();
    let forged = dir.join("forged.tplan");
    std::fs::write(&forged, format!("{header}\n{forged_body}\n")).expect("write");
    a[1] = s(&forged);
    let (code, _, err) = sync(&a, &env);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("provider `fakecrm`") && err.contains("http://"),
        "{err}"
    );

    // Nor give it a timeout no clock can add (ureq would panic).
    let mut plan_body: Json = serde_json::from_str(body).expect("body");
    let timeout = &mut plan_body["providers"][0]["limits"]["request_timeout"];
    assert!(timeout.is_object(), "{timeout}");
    timeout["secs"] = json!(u64::MAX);
    let forged_body = plan_body.to_string();
    header["body_hash"] = tether::plan::file::body_hash(&forged_body).into();
    std::fs::write(&forged, format!("{header}\n{forged_body}\n")).expect("write");
    let (code, _, err) = sync(&a, &env);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("provider `fakecrm`") && err.contains("366 days"),
        "{err}"
    );

    // Nor a path that is not a path on the base.
    let mut plan_body: Json = serde_json::from_str(body).expect("body");
    let path = &mut plan_body["providers"][0]["resources"][0]["read"]["request"]["path"];
    assert_eq!(
        path.as_str().map(|p| p.starts_with('/')),
        Some(true),
        "{path}"
    );
    *path = json!("contacts");
    let forged_body = plan_body.to_string();
    header["body_hash"] = tether::plan::file::body_hash(&forged_body).into();
    std::fs::write(&forged, format!("{header}\n{forged_body}\n")).expect("write");
    let (code, _, err) = sync(&a, &env);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("does not begin with `/`"), "{err}");
}

#[test]
fn the_bundled_provider_files_check_clean() {
    for file in [
        "mappings/crm/hubspot.tprovider",
        "mappings/crm/salesforce.tprovider",
        "mappings/crm/hubspot_salesforce.tether",
        "tests/data/provider_sync/fakecrm.tprovider",
        MAPPING,
    ] {
        let (code, out, err) = sync(&["check", file], &[]);
        assert_eq!(code, Some(0), "{file}: {out}{err}");
        assert!(err.contains(": 0 errors,"), "{file}: {err}");
    }
}

/// HubSpot's CRM v3 search as `mappings/crm/hubspot.tprovider` uses it: a
/// `GTE` filter on `lastmodifieddate` (epoch milliseconds), ascending,
/// two results a page whatever the `limit`, `paging.next.after` when there
/// is more.
fn hubspot_search(contacts: &[Json], r: &fake_http::Logged) -> fake_http::Reply {
    if r.method != "POST" || r.path != "/crm/v3/objects/contacts/search" {
        return fake_http::Reply::json(404, r#"{"status":"error","message":"Not found"}"#);
    }
    let Ok(body) = serde_json::from_slice::<Json>(&r.body) else {
        return fake_http::Reply::json(400, r#"{"status":"error","message":"Invalid JSON"}"#);
    };
    let from = body["filterGroups"][0]["filters"][0]["value"]
        .as_u64()
        .unwrap_or(u64::MAX);
    let after: usize = body["after"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let modified = |c: &Json| -> u64 {
        c["properties"]["lastmodifieddate"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let matching: Vec<&Json> = contacts.iter().filter(|c| modified(c) >= from).collect();
    let page: Vec<&Json> = matching.iter().skip(after).take(2).copied().collect();
    let mut out = json!({"total": matching.len(), "results": page});
    if after + 2 < matching.len() {
        out["paging"] = json!({"next": {"after": (after + 2).to_string()}});
    }
    fake_http::Reply::json(200, &out.to_string())
}

#[test]
fn the_bundled_hubspot_provider_reads_changed_contacts_page_by_page() {
    let contacts: Vec<Json> = (1..=3)
        .map(|n| {
            json!({
                "id": format!("{n}0"),
                "properties": {
                    "email": format!("c{n}@example.com"),
                    "firstname": format!("C{n}"),
                    "lastname": "Doe",
                    "lastmodifieddate": format!("17000000000{n}0"),
                },
                "createdAt": "2026-01-01T00:00:00Z",
                "updatedAt": "2026-01-01T00:00:00Z",
                "archived": false
            })
        })
        .collect();
    let fake = fake_http::Fake::start(move |r| hubspot_search(&contacts, r));
    let dir = scratch("hubspot");
    let state = dir.join("state.db");
    let salesforce = dir.join("salesforce");
    let (code, out, err) = sync(
        &[
            "sync",
            "mappings/crm/hubspot_salesforce.tether",
            "--mapping",
            "contact",
            "--state",
            s(&state),
            "--left",
            "provider:hubspot",
            "--right",
            s(&salesforce),
            "--once",
            "--create",
            "--format",
            "json",
        ],
        &[
            ("HUBSPOT_BASE_URL", fake.url.as_str()),
            ("HUBSPOT_TOKEN", TOKEN),
        ],
    );
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    let summary: Json = serde_json::from_str(out.trim()).expect("a JSON summary");
    assert_eq!(
        (&summary["read"], &summary["created"]),
        (&json!(3), &json!(3)),
        "{summary}"
    );
    let ops = outbox(&salesforce);
    let mut keys: Vec<&str> = ops.iter().filter_map(|o| o["key"].as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["10", "20", "30"], "{ops:?}");
    let log = fake.log();
    assert_eq!(log.len(), 2, "two pages");
    let first: Json = serde_json::from_slice(&log[0].body).expect("JSON body");
    assert_eq!(first["filterGroups"][0]["filters"][0]["value"], json!(0));
    assert!(
        first.get("after").is_none(),
        "no page token on the first page"
    );
    let second: Json = serde_json::from_slice(&log[1].body).expect("JSON body");
    assert_eq!(second["after"], json!("2"));
}

/// Salesforce as `mappings/crm/salesforce.tprovider` uses it: the OAuth
/// refresh grant, a SOQL query answered in two batches linked by
/// `nextRecordsUrl` (`done` on the last), and upserts by the external id.
#[derive(Default)]
struct Salesforce {
    /// Upserted contacts: (external id, body).
    upserts: Vec<(String, Json)>,
    /// The `q` of each query, decoded.
    queries: Vec<String>,
    token_requests: usize,
}

fn salesforce(sf: &Mutex<Salesforce>, r: &fake_http::Logged) -> fake_http::Reply {
    let mut sf = sf.lock().expect("sf");
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    if r.method == "POST" && path == "/services/oauth2/token" {
        sf.token_requests += 1;
        let form = String::from_utf8_lossy(&r.body).into_owned();
        if !form.contains("grant_type=refresh_token")
            || !form.contains("refresh_token=sf-refresh-1")
        {
            return fake_http::Reply::json(400, r#"{"error":"invalid_grant"}"#);
        }
        return fake_http::Reply::json(
            200,
            r#"{"access_token":"sf-access-1","token_type":"Bearer","instance_url":"https://example.my.salesforce.com"}"#,
        );
    }
    if r.header("authorization") != Some("Bearer sf-access-1") {
        return fake_http::Reply::json(
            401,
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        );
    }
    let contact = |id: &str, hubspot: &str, modified: &str| {
        json!({
            "attributes": {"type": "Contact", "url": format!("/services/data/v59.0/sobjects/Contact/{id}")},
            "Id": id, "HubSpot_Id__c": hubspot, "Email": format!("{hubspot}@example.com"),
            "FirstName": "Sam", "LastName": "Lee", "LastModifiedDate": modified
        })
    };
    match (r.method.as_str(), path) {
        ("GET", "/services/data/v59.0/query") => {
            let q = query
                .strip_prefix("q=")
                .map(|v| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .unwrap_or_default();
            sf.queries.push(q);
            let body = json!({
                "totalSize": 3, "done": false,
                "records": [contact("0031", "71", "2026-01-15T10:30:00.000+0000"), contact("0032", "72", "2026-01-15T10:31:00.000+0000")],
                "nextRecordsUrl": "/services/data/v59.0/query/01gD0000002HU6KIAW-2000"
            });
            fake_http::Reply::json(200, &body.to_string())
        }
        ("GET", "/services/data/v59.0/query/01gD0000002HU6KIAW-2000") => {
            let body = json!({
                "totalSize": 3, "done": true,
                "records": [contact("0033", "73", "2026-01-15T10:32:00.000+0000")]
            });
            fake_http::Reply::json(200, &body.to_string())
        }
        ("PATCH", p) if p.starts_with("/services/data/v59.0/sobjects/Contact/HubSpot_Id__c/") => {
            let external = p.rsplit('/').next().unwrap_or("").to_string();
            let body: Json = serde_json::from_slice(&r.body).unwrap_or(Json::Null);
            sf.upserts.push((external, body));
            fake_http::Reply::json(
                201,
                r#"{"id":"003NEW","success":true,"errors":[],"created":true}"#,
            )
        }
        _ => fake_http::Reply::json(
            404,
            r#"[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]"#,
        ),
    }
}

#[test]
fn the_bundled_salesforce_provider_refreshes_queries_by_batch_and_upserts() {
    let sf = Arc::new(Mutex::new(Salesforce::default()));
    let state_sf = sf.clone();
    let fake = fake_http::Fake::start(move |r| salesforce(&state_sf, r));
    let dir = scratch("salesforce");
    let hubspot = dir.join("hubspot");
    std::fs::create_dir_all(hubspot.join("inbox")).expect("inbox");
    std::fs::copy(
        "mappings/crm/hubspot_contacts.ndjson",
        hubspot.join("inbox/contacts.ndjson"),
    )
    .expect("copy");
    let born_in_hubspot = std::fs::read_to_string("mappings/crm/hubspot_contacts.ndjson")
        .expect("contacts")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let refresh = dir.join("sf-refresh");
    std::fs::write(&refresh, "sf-refresh-1\n").expect("refresh token file");
    let state = dir.join("state.db");
    let (code, out, err) = sync(
        &[
            "sync",
            "mappings/crm/hubspot_salesforce.tether",
            "--mapping",
            "contact",
            "--state",
            s(&state),
            "--left",
            s(&hubspot),
            "--right",
            "provider:salesforce",
            "--once",
            "--format",
            "json",
        ],
        &[
            ("SALESFORCE_BASE_URL", fake.url.as_str()),
            ("SALESFORCE_CLIENT_ID", "tether-app"),
            ("SALESFORCE_CLIENT_SECRET", "sf-client-secret-9"),
            ("SALESFORCE_REFRESH_TOKEN_FILE", s(&refresh)),
        ],
    );
    // One contact of the tour's HubSpot file is a dead letter by design
    // (the README's tour shows it): exit 3, the rest synced.
    assert_eq!(code, Some(3), "stdout: {out}\nstderr: {err}");
    let summary: Json = serde_json::from_str(out.trim()).expect("a JSON summary");
    assert_eq!(summary["dead_lettered"], json!(1), "{summary}");
    let sf = sf.lock().expect("sf");
    assert_eq!(sf.token_requests, 1, "one token for the whole pass");
    // The first read asks from the beginning, in the declared SOQL
    // literal form (UTC, seconds, `Z`).
    let [q] = sf.queries.as_slice() else {
        panic!(
            "one query, then the next batch by its URL: {:?}",
            sf.queries
        )
    };
    assert!(
        q.contains("WHERE LastModifiedDate >= 1970-01-01T00:00:00Z ORDER BY"),
        "{q}"
    );
    // Both batches read into the HubSpot folder.
    let mut keys: Vec<String> = outbox(&hubspot)
        .iter()
        .filter_map(|o| o["key"].as_str().map(String::from))
        .collect();
    keys.sort();
    assert_eq!(keys, ["71", "72", "73"]);
    // Each HubSpot contact upserted once by its external id, which the
    // body then leaves out.
    assert_eq!(sf.upserts.len(), born_in_hubspot - 1, "{:?}", sf.upserts);
    for (external, body) in &sf.upserts {
        assert!(!external.is_empty());
        assert!(body.get("HubSpot_Id__c").is_none(), "{body}");
    }
    assert!(!out.contains("sf-client-secret-9") && !err.contains("sf-client-secret-9"));
}

#[test]
fn a_base_from_the_environment_is_checked_as_a_declared_one() {
    let dir = scratch("env-base");
    let state = dir.join("state.db");
    let erp = dir.join("erp");
    let (code, _, err) = sync(
        &args(s(&state), s(&erp), "provider:fakecrm"),
        &[
            ("FAKECRM_BASE_URL", "http://crm.example.com"),
            ("FAKECRM_TOKEN", TOKEN),
        ],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("provider `fakecrm`") && err.contains("use `https://`"),
        "{err}"
    );
    assert!(!err.contains(TOKEN));
    assert!(!state.exists(), "nothing created");
}
