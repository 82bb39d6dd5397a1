//! One logical request through budget → breaker → credentials → client →
//! policy, against fake providers on loopback (issue 19): Retry-After in
//! seconds and as a date, backoff, attempts, the breaker, refusals with
//! the provider's message redacted, OAuth refresh once on 401, rotation,
//! invalid_grant, a token endpoint failing for now. Time is a ManualClock:
//! waits are counted, not slept.

#[path = "support/fake_http.rs"]
mod fake_http;

use fake_http::{Fake, Logged, Reply};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tether::http::ManualClock;
use tether::http::auth::{Credentials, Grant, OAuth2};
use tether::http::breaker::BreakerSpec;
use tether::http::budget::Budget;
use tether::http::client::{ClientConfig, Method, Request};
use tether::http::exchange::{Answer, Exchange, ExchangeError, ExchangeSpec, RetrySpec};
use tether::http::policy::StatusClasses;
use tether::http::secret::Secret;

const S: fn(u64) -> Duration = Duration::from_secs;

fn spec(credentials: Credentials) -> ExchangeSpec {
    ExchangeSpec {
        name: "hubspot".into(),
        client: ClientConfig {
            connect_timeout: S(2),
            request_timeout: S(5),
            max_body: 1 << 20,
        },
        credentials,
        budgets: Vec::new(),
        breaker: BreakerSpec {
            after: NonZeroU32::new(2).unwrap(),
            open_min: S(60),
            open_max: S(600),
        },
        classes: StatusClasses::default(),
        message_at: Vec::new(),
        retry: RetrySpec {
            max_attempts: NonZeroU32::new(4).unwrap(),
            ..RetrySpec::default()
        },
    }
}

fn clock() -> ManualClock {
    ManualClock::new(SystemTime::UNIX_EPOCH + S(1_790_000_000))
}

fn get(fake: &Fake, path: &str) -> Request {
    Request {
        method: Method::Get,
        url: format!("{}{path}", fake.url),
        headers: Vec::new(),
        body: None,
        label: format!("GET {path}"),
    }
}

/// A fake answering from a script, one reply per request, the last
/// repeated.
fn scripted(replies: Vec<Reply>) -> Fake {
    let replies = Mutex::new(replies);
    Fake::start(move |_| {
        let mut r = replies.lock().expect("script");
        if r.len() > 1 {
            r.remove(0)
        } else {
            let last = &r[0];
            Reply {
                status: last.status,
                headers: last.headers.clone(),
                body: last.body.clone(),
            }
        }
    })
}

fn done(answer: Result<Answer, ExchangeError>) -> Vec<u8> {
    match answer {
        Ok(Answer::Done(r)) => r.body,
        other => panic!("expected an answer, got {other:?}"),
    }
}

#[test]
fn retry_after_in_seconds_is_waited_out_before_anything_is_sent() {
    let fake = scripted(vec![
        Reply::json(
            429,
            r#"{"message":"You have reached your ten_secondly_rolling limit."}"#,
        )
        .header("Retry-After", "10"),
        Reply::json(429, "{}").header("Retry-After", "10"),
        Reply::json(200, r#"{"results":[]}"#),
    ]);
    let clock = clock();
    let mut x = Exchange::new(spec(Credentials::None), &clock);
    assert_eq!(done(x.call(&get(&fake, "/contacts"))), br#"{"results":[]}"#);
    assert_eq!(clock.elapsed(), S(20), "two pauses of 10 s, nothing more");
    assert_eq!(fake.log().len(), 3);
    let stats = x.stats();
    assert_eq!(
        (stats.throttled, stats.retries, stats.breaker_openings),
        (2, 2, 0)
    );
}

#[test]
fn retry_after_as_a_date_is_measured_from_the_servers_clock() {
    // The server's clock is an hour behind tether's: measured from
    // tether's clock the date would be long past.
    let fake = scripted(vec![
        Reply::json(503, "{}")
            .header("Date", "Wed, 21 Oct 2026 07:28:00 GMT")
            .header("Retry-After", "Wed, 21 Oct 2026 07:30:00 GMT"),
        Reply::json(200, "{}"),
    ]);
    let clock =
        ManualClock::new(httpdate::parse_http_date("Wed, 21 Oct 2026 08:28:00 GMT").unwrap());
    let mut x = Exchange::new(spec(Credentials::None), &clock);
    done(x.call(&get(&fake, "/contacts")));
    assert_eq!(clock.elapsed(), S(120));
}

#[test]
fn a_wait_longer_than_a_pass_ends_it_without_sleeping() {
    let fake = scripted(vec![Reply::json(429, "{}").header("Retry-After", "7200")]);
    let clock = clock();
    let mut x = Exchange::new(spec(Credentials::None), &clock);
    let e = x.call(&get(&fake, "/contacts")).unwrap_err();
    assert!(matches!(e, ExchangeError::WaitTooLong { .. }), "{e}");
    assert!(e.to_string().contains("hubspot asks to wait until"), "{e}");
    assert_eq!(clock.elapsed(), Duration::ZERO);
    assert_eq!(fake.log().len(), 1);
}

#[test]
fn an_absurd_retry_after_ends_the_pass_instead_of_panicking() {
    // u64::MAX and beyond: once saturated, then added to the wall clock
    // for the message, it panicked ("overflow when adding duration").
    let fake = scripted(vec![
        Reply::json(429, "{}").header("Retry-After", "99999999999999999999"),
    ]);
    let clock = clock();
    let mut x = Exchange::new(spec(Credentials::None), &clock);
    let e = x.call(&get(&fake, "/contacts")).unwrap_err();
    assert!(matches!(e, ExchangeError::WaitTooLong { .. }), "{e}");
    assert_eq!(clock.elapsed(), Duration::ZERO);
}

#[test]
fn an_absurd_token_lifetime_is_clamped_not_a_panic() {
    let fake = Fake::start(|r: &Logged| {
        if r.path == "/oauth/token" {
            return Reply::json(
                200,
                r#"{"access_token":"at-1","token_type":"bearer","expires_in":18446744073709551615}"#,
            );
        }
        Reply::json(200, r#"{"ok":true}"#)
    });
    let clock = clock();
    let mut x = Exchange::new(spec(oauth(&fake, "rt-1", None)), &clock);
    done(x.call(&get(&fake, "/contacts")));
    clock.advance(S(3600));
    done(x.call(&get(&fake, "/contacts")));
    let fetches = fake
        .log()
        .iter()
        .filter(|r| r.path == "/oauth/token")
        .count();
    assert_eq!(fetches, 1, "the token is still good an hour later");
}

#[test]
fn a_request_that_cannot_be_built_stops_unsent_and_spares_the_breaker() {
    let fake = scripted(vec![Reply::json(200, "{}")]);
    let clock = clock();
    let mut x = Exchange::new(spec(Credentials::None), &clock);
    let mut bad = get(&fake, "/contacts");
    bad.headers
        .push(("X-Team".into(), "a\r\nX-Injected: 1".into()));
    for _ in 0..3 {
        let e = x.call(&bad).unwrap_err();
        assert!(matches!(e, ExchangeError::Unsendable { .. }), "{e}");
    }
    assert_eq!(x.stats().retries, 0, "not retried");
    assert_eq!(x.stats().breaker_openings, 0, "not a provider failure");
    assert_eq!(clock.elapsed(), Duration::ZERO);
    assert!(fake.log().is_empty());
    done(x.call(&get(&fake, "/contacts")));
}

#[test]
fn server_errors_are_retried_with_growing_backoff() {
    let fake = scripted(vec![
        Reply::json(500, "{}"),
        Reply::json(502, "{}"),
        Reply::json(503, "{}"),
        Reply::json(200, "{}"),
    ]);
    let clock = clock();
    let mut x = Exchange::new(spec(Credentials::None), &clock).with_jitter(|| 1.0);
    done(x.call(&get(&fake, "/contacts")));
    assert_eq!(clock.elapsed(), Duration::from_millis(500 + 1000 + 2000));
    assert_eq!(x.stats().retries, 3);
}

#[test]
fn a_dead_provider_opens_the_breaker_and_then_costs_nothing() {
    let fake = scripted(vec![Reply::json(503, r#"{"message":"down"}"#)]);
    let clock = clock();
    let mut x = Exchange::new(spec(Credentials::None), &clock).with_jitter(|| 0.0);
    for _ in 0..2 {
        let e = x.call(&get(&fake, "/contacts")).unwrap_err();
        assert!(
            matches!(
                e,
                ExchangeError::AttemptsSpent {
                    attempts: 4,
                    transport: false,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("answered 503: down"), "{e}");
    }
    assert_eq!(fake.log().len(), 8);
    let e = x.call(&get(&fake, "/contacts")).unwrap_err();
    assert!(matches!(e, ExchangeError::BreakerOpen { .. }), "{e}");
    assert_eq!(fake.log().len(), 8, "no request while open");
    assert_eq!(x.stats().breaker_openings, 1);
    // After the cooldown one probe goes; it fails, so the cooldown doubles.
    clock.advance(S(60));
    let e = x.call(&get(&fake, "/contacts")).unwrap_err();
    assert!(matches!(e, ExchangeError::AttemptsSpent { .. }), "{e}");
    assert_eq!(x.breaker().persisted().map(|(_, c)| c), Some(S(120)));
}

#[test]
fn a_refusal_carries_the_providers_message_without_the_token() {
    let fake = Fake::start(|r: &Logged| {
        let echoed = r.header("authorization").unwrap_or("").to_string();
        Reply::json(
            422,
            &serde_json::json!([{"message": format!("Email: invalid ({echoed})"), "errorCode": "INVALID_EMAIL_ADDRESS"}])
                .to_string(),
        )
    });
    let clock = clock();
    let mut x = Exchange::new(
        spec(Credentials::Bearer(Secret::new("00Dxx!AQ4AQ.token"))),
        &clock,
    );
    match x.call(&get(&fake, "/sobjects/Contact")) {
        Ok(Answer::Refused {
            status: 422,
            message,
        }) => {
            assert_eq!(message, "Email: invalid (Bearer [secret])");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        fake.log()[0].header("authorization"),
        Some("Bearer 00Dxx!AQ4AQ.token")
    );
}

#[test]
fn forbidden_stops_the_side() {
    let fake = scripted(vec![Reply::json(
        403,
        r#"{"message":"missing scope crm.objects.contacts.write"}"#,
    )]);
    let clock = clock();
    let mut x = Exchange::new(spec(Credentials::None), &clock);
    let e = x.call(&get(&fake, "/contacts")).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("answered 403: missing scope crm.objects.contacts.write"),
        "{e}"
    );
}

#[test]
fn budgets_space_requests_by_their_completions() {
    let fake = scripted(vec![Reply::json(200, "{}")]);
    let clock = clock();
    let mut s = spec(Credentials::None);
    s.budgets = vec![Budget {
        requests: NonZeroU32::new(2).unwrap(),
        per: S(10),
    }];
    let mut x = Exchange::new(s, &clock);
    for _ in 0..5 {
        done(x.call(&get(&fake, "/contacts")));
    }
    assert_eq!(clock.elapsed(), S(20), "requests at 0, 0, 10, 10, 20 s");
}

#[test]
fn api_keys_go_where_declared() {
    let fake = scripted(vec![Reply::json(200, "{}")]);
    let clock = clock();
    let key = |carrier| Credentials::ApiKey {
        carrier,
        name: "api_key".into(),
        key: Secret::new("k y/1"),
    };
    use tether::http::auth::KeyCarrier;
    done(Exchange::new(spec(key(KeyCarrier::Query)), &clock).call(&get(&fake, "/a?x=1")));
    done(Exchange::new(spec(key(KeyCarrier::Header)), &clock).call(&get(&fake, "/b")));
    let basic = Credentials::Basic {
        user: "ann".into(),
        password: Secret::new("pw"),
    };
    done(Exchange::new(spec(basic), &clock).call(&get(&fake, "/c")));
    let log = fake.log();
    assert_eq!(log[0].path, "/a?x=1&api_key=k%20y%2F1");
    assert_eq!(log[1].header("api_key"), Some("k y/1"));
    assert_eq!(log[2].header("authorization"), Some("Basic YW5uOnB3"));
}

/// A token endpoint handing out `at-1`, `at-2`, … (and, when `rotate`,
/// a new refresh token each time), and an API that accepts only the
/// tokens in `good`.
fn oauth_fake(good: &'static [&'static str], rotate: bool) -> (Fake, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let n = issued.clone();
    let fake = Fake::start(move |r: &Logged| {
        if r.path == "/oauth/token" {
            let body = String::from_utf8_lossy(&r.body).to_string();
            if body.contains("refresh_token=revoked") {
                return Reply::json(
                    400,
                    r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
                );
            }
            let i = n.fetch_add(1, Ordering::SeqCst) + 1;
            let refresh = if rotate {
                format!(r#","refresh_token":"rt-{}""#, i + 1)
            } else {
                String::new()
            };
            return Reply::json(
                200,
                &format!(
                    r#"{{"access_token":"at-{i}","token_type":"bearer","expires_in":1800{refresh}}}"#
                ),
            );
        }
        let token = r
            .header("authorization")
            .unwrap_or("")
            .trim_start_matches("Bearer ");
        if good.contains(&token) {
            Reply::json(200, r#"{"ok":true}"#)
        } else {
            Reply::json(
                401,
                r#"{"status":"error","message":"Authentication credentials not found."}"#,
            )
        }
    });
    (fake, issued)
}

fn oauth(fake: &Fake, refresh: &str, file: Option<std::path::PathBuf>) -> Credentials {
    Credentials::OAuth2(OAuth2::new(
        format!("{}/oauth/token", fake.url),
        "client-1".into(),
        Secret::new("cs-1"),
        Grant::RefreshToken {
            token: Secret::new(refresh),
            file,
        },
    ))
}

#[test]
fn a_token_refused_mid_run_is_refreshed_once() {
    let (fake, issued) = oauth_fake(&["at-2"], false);
    let clock = clock();
    let mut x = Exchange::new(spec(oauth(&fake, "rt-1", None)), &clock);
    done(x.call(&get(&fake, "/contacts")));
    assert_eq!(
        issued.load(Ordering::SeqCst),
        2,
        "at-1 refused, at-2 fetched"
    );
    let form = String::from_utf8_lossy(&fake.log()[0].body).to_string();
    assert_eq!(
        form,
        "client_id=client-1&client_secret=cs-1&grant_type=refresh_token&refresh_token=rt-1"
    );
    // The token is cached: no new fetch for the next request.
    done(x.call(&get(&fake, "/contacts")));
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    // It is replaced a minute before it expires (1800 s).
    clock.advance(S(1741));
    let e = x.call(&get(&fake, "/contacts")).unwrap_err();
    assert!(
        matches!(e, ExchangeError::Unauthorized { .. }),
        "at-3 is refused too: {e}"
    );
    assert_eq!(
        issued.load(Ordering::SeqCst),
        4,
        "a fetch at expiry, one refresh on 401, no more"
    );
}

#[test]
fn a_second_401_stops_the_side() {
    let (fake, _) = oauth_fake(&[], false);
    let clock = clock();
    let mut x = Exchange::new(spec(oauth(&fake, "rt-1", None)), &clock);
    let e = x.call(&get(&fake, "/contacts")).unwrap_err();
    assert!(matches!(e, ExchangeError::Unauthorized { .. }), "{e}");
    let api_calls = fake.log().iter().filter(|r| r.path == "/contacts").count();
    assert_eq!(api_calls, 2);
}

#[test]
fn a_refused_refresh_token_asks_for_a_person() {
    let (fake, _) = oauth_fake(&["at-1"], false);
    let clock = clock();
    let mut x = Exchange::new(spec(oauth(&fake, "revoked", None)), &clock);
    let e = x.call(&get(&fake, "/contacts")).unwrap_err().to_string();
    assert!(
        e.contains("invalid_grant") && e.contains("a person must authorise tether again"),
        "{e}"
    );
    assert!(!e.contains("revoked") && !e.contains("cs-1"), "{e}");
}

#[test]
fn a_rotated_refresh_token_is_kept_in_its_file_before_use() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("tether-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("refresh_token");
    std::fs::write(&file, "rt-1\n").unwrap();
    let (fake, _) = oauth_fake(&["at-1"], true);
    let clock = clock();
    let mut x = Exchange::new(spec(oauth(&fake, "rt-1", Some(file.clone()))), &clock);
    done(x.call(&get(&fake, "/contacts")));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "rt-2\n");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_endpoints_own_budget_paces_only_its_requests() {
    use tether::http::exchange::CallOptions;
    let fake = scripted(vec![Reply::json(200, "{}")]);
    let clock = clock();
    let mut exchange = Exchange::new(spec(Credentials::None), &clock);
    // HubSpot's search API: 1 request a second here, inside a provider
    // with no budget of its own.
    let search = exchange.budget_group(&[Budget {
        requests: NonZeroU32::new(1).unwrap(),
        per: S(1),
    }]);
    let grouped = CallOptions {
        group: Some(search),
        ..CallOptions::default()
    };
    done(exchange.call_with(&get(&fake, "/search"), grouped));
    assert_eq!(clock.elapsed(), S(0), "the first request waits for nothing");
    done(exchange.call(&get(&fake, "/contacts/1")));
    assert_eq!(clock.elapsed(), S(0), "other requests are not paced by it");
    done(exchange.call_with(&get(&fake, "/search"), grouped));
    assert!(
        clock.elapsed() >= S(1),
        "the second search waited its window: {:?}",
        clock.elapsed()
    );
}

/// A token endpoint that fails for now (a 503, then no answer) is tried
/// again with the request's backoff; one whose attempts all fail counts
/// as a failure of the provider for the breaker, and a refused grant
/// stops at once.
#[test]
fn a_token_endpoint_failing_for_now_is_retried_with_backoff() {
    let token_calls = Arc::new(AtomicUsize::new(0));
    let calls = token_calls.clone();
    let fake = Fake::start(move |r: &Logged| {
        if r.path == "/oauth/token" {
            return match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Reply::json(503, r#"{"error":"temporarily_unavailable"}"#),
                _ => Reply::json(
                    200,
                    r#"{"access_token":"at-1","token_type":"bearer","expires_in":1800}"#,
                ),
            };
        }
        Reply::json(200, r#"{"ok":true}"#)
    });
    let clock = clock();
    let mut x = Exchange::new(spec(oauth(&fake, "rt-1", None)), &clock).with_jitter(|| 1.0);
    done(x.call(&get(&fake, "/contacts")));
    assert_eq!(token_calls.load(Ordering::SeqCst), 3);
    assert_eq!(clock.elapsed(), Duration::from_millis(500 + 1000));
    let paths: Vec<String> = fake.log().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        ["/oauth/token", "/oauth/token", "/oauth/token", "/contacts"]
    );

    // Down for good: the attempts run out, each call one breaker failure
    // (`after 2`), and the breaker opens.
    let down = scripted(vec![Reply::json(503, "{}")]);
    let clock = self::clock();
    let mut x = Exchange::new(spec(oauth(&down, "rt-1", None)), &clock).with_jitter(|| 1.0);
    for _ in 0..2 {
        match x.call(&get(&down, "/contacts")) {
            Err(ExchangeError::Auth { .. }) => {}
            other => panic!("expected the token endpoint's error, got {other:?}"),
        }
    }
    assert_eq!(down.log().len(), 8, "four attempts a call");
    assert_eq!(x.stats().breaker_openings, 1);

    // A refused grant is not tried again.
    let refused = scripted(vec![Reply::json(400, r#"{"error":"invalid_client"}"#)]);
    let clock = self::clock();
    let mut x = Exchange::new(spec(oauth(&refused, "rt-1", None)), &clock);
    assert!(matches!(
        x.call(&get(&refused, "/contacts")),
        Err(ExchangeError::Auth { .. })
    ));
    assert_eq!(refused.log().len(), 1);
    assert_eq!(clock.elapsed(), Duration::ZERO);
}
