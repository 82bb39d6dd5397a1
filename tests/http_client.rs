//! The HTTP client against real servers on loopback (issue 19): statuses
//! are responses, redirects are not followed, bodies are capped, and
//! transport faults are failures that never show the URL.

#[path = "support/fake_http.rs"]
mod fake_http;

use fake_http::{Fake, Reply, raw_once};
use std::time::Duration;
use tether::http::client::{Client, ClientConfig, Failure, Method, Request};

fn get(url: String) -> Request {
    Request {
        method: Method::Get,
        url,
        headers: Vec::new(),
        body: None,
        label: "GET /things".into(),
    }
}

fn client() -> Client {
    Client::new(ClientConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_millis(800),
        max_body: 1000,
    })
}

#[test]
fn every_status_is_a_response_with_its_headers() {
    let fake = Fake::start(|_| {
        Reply::json(429, r#"{"status":"error","message":"slow down"}"#).header("Retry-After", "7")
    });
    let response = client()
        .send(&get(format!("{}/things", fake.url)))
        .expect("a response");
    assert_eq!(response.status, 429);
    assert_eq!(response.header("retry-after"), Some("7"));
    assert_eq!(response.header("Content-Type"), Some("application/json"));
    assert_eq!(
        response.body,
        br#"{"status":"error","message":"slow down"}"#
    );
}

#[test]
fn the_request_is_sent_as_built() {
    let fake = Fake::start(|_| Reply::json(201, "{}"));
    let request = Request {
        method: Method::Patch,
        url: format!("{}/crm/v3/objects/contacts/51?idProperty=email", fake.url),
        headers: vec![
            ("Idempotency-Key".into(), "tk_123".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: Some(br#"{"properties":{"email":"a@b.c"}}"#.to_vec()),
        label: "PATCH /crm/v3/objects/contacts/{id}".into(),
    };
    let response = client().send(&request).expect("a response");
    assert_eq!(response.status, 201);
    let log = fake.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "PATCH");
    assert_eq!(log[0].path, "/crm/v3/objects/contacts/51?idProperty=email");
    assert_eq!(log[0].header("idempotency-key"), Some("tk_123"));
    assert!(
        log[0]
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("tether/"))
    );
    assert_eq!(log[0].body, br#"{"properties":{"email":"a@b.c"}}"#);
}

#[test]
fn a_redirect_is_returned_not_followed() {
    let elsewhere = Fake::start(|_| Reply::json(200, "{}"));
    let target = format!("{}/steal", elsewhere.url);
    let fake = Fake::start(move |_| Reply::json(302, "").header("Location", &target));
    let mut request = get(format!("{}/things", fake.url));
    request
        .headers
        .push(("Authorization".into(), "Bearer t0ken".into()));
    let response = client().send(&request).expect("a response");
    assert_eq!(response.status, 302);
    assert!(elsewhere.log().is_empty(), "the token never went elsewhere");
}

#[test]
fn a_body_over_the_cap_is_a_failure() {
    let fake = Fake::start(|_| Reply::json(200, &"x".repeat(5000)));
    let failed = client().send(&get(format!("{}/things", fake.url)));
    assert_eq!(
        failed,
        Err(Failure::TooLarge {
            label: "GET /things".into(),
            limit: 1000
        })
    );
}

#[test]
fn a_body_that_stalls_times_out() {
    let url = raw_once(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"res",
        Some(Duration::from_secs(5)),
    );
    let failed = client().send(&get(url));
    assert!(matches!(failed, Err(Failure::Timeout { .. })), "{failed:?}");
}

#[test]
fn a_body_cut_short_is_a_broken_exchange() {
    let url = raw_once(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"res",
        None,
    );
    let failed = client().send(&get(url));
    assert!(matches!(failed, Err(Failure::Broken { .. })), "{failed:?}");
}

#[test]
fn garbage_instead_of_http_is_a_broken_exchange() {
    let url = raw_once(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", None);
    let failed = client().send(&get(url));
    assert!(matches!(failed, Err(Failure::Broken { .. })), "{failed:?}");
}

#[test]
fn a_refused_connection_names_the_request_not_its_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        l.local_addr().expect("an address").port()
    };
    let url = format!("http://127.0.0.1:{port}/things?api_key=sk_live_SECRET");
    let failed = client().send(&get(url)).expect_err("nothing listens");
    assert!(matches!(failed, Failure::Connect { .. }), "{failed:?}");
    let message = failed.to_string();
    assert!(message.starts_with("GET /things: "), "{message}");
    assert!(!message.contains("SECRET"), "{message}");
}
