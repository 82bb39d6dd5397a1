//! The web console of `tether sync --watch --console ADDR` (issue 22,
//! step 5; docs/design/14-operations.md, "The console").
//!
//! A thread of its own with a current-thread runtime, as the metrics
//! endpoint: the console reads and writes the store through a connection
//! of its own, so the engine's passes and a person's clicks meet only in
//! SQLite's locks (a click waits for a pass's transaction, never the
//! reverse for longer than one statement). What a click decides is what
//! `tether dlq replay|discard` and `tether review resolve` do: the same
//! store calls, picked up by the next pass.
//!
//! Security, since the console changes what is sent to providers:
//! - loopback by default; any other address needs `TETHER_CONSOLE_TOKEN`
//!   (checked by the caller before [`ConsoleServer::start`]), and with a
//!   token every page needs the session cookie a login sets (HttpOnly,
//!   SameSite=Strict);
//! - the Host header must name the console (no DNS rebinding), and a
//!   POST must carry the console's origin and its CSRF token (a
//!   per-process random value, compared in constant time);
//! - every value shown is escaped (`html::esc`), and the content security
//!   policy forbids scripts and every external asset.

pub mod html;

use crate::base::Side;
use crate::sync::merge::Resolution;
use crate::sync::serve::ServerThread;
use crate::sync::store::{SqliteStore, Store};
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use subtle::ConstantTimeEq;

/// Open dead letters on one page.
pub const PAGE: usize = 50;
/// A few people at once is plenty.
const MAX_CONNECTIONS: usize = 16;
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// A form is a few fields; more is not a form of this console.
const MAX_FORM: usize = 16 * 1024;
const COOKIE: &str = "tether_console";

/// The token that guards the console, from `TETHER_CONSOLE_TOKEN`. Its
/// user name (what a decision is recorded with) is the part before the
/// first `:`, if there is one. Deliberately not `Debug`: never printed.
pub struct Token {
    secret: String,
    user: String,
}

impl Token {
    pub fn new(secret: String) -> Token {
        let user = match secret.split_once(':') {
            Some((name, _)) if !name.is_empty() => name.to_string(),
            _ => "token".to_string(),
        };
        Token { secret, user }
    }
}

/// What every request sees.
struct Shared {
    store: Mutex<SqliteStore>,
    mapping: String,
    token: Option<Token>,
    /// Per process: a form's CSRF value and a session cookie's value.
    csrf: String,
    session: String,
    /// Hosts a request may name: the bound address, and `localhost:PORT`
    /// on loopback; `None`: bound to every interface, any name (the
    /// token guards it then).
    hosts: Option<Vec<String>>,
}

fn random_hex() -> String {
    let (a, b) = (rand::random::<u128>(), rand::random::<u128>());
    format!("{a:032x}{b:032x}")
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub struct ConsoleServer {
    addr: SocketAddr,
    _server: ServerThread,
}

impl ConsoleServer {
    /// Binds `listen` now (a taken port is an error here, not in the
    /// thread) and serves `mapping`'s console from `store` until dropped.
    pub fn start(
        listen: SocketAddr,
        store: SqliteStore,
        mapping: &str,
        token: Option<Token>,
    ) -> std::io::Result<ConsoleServer> {
        let (listener, addr) = crate::sync::serve::bind(listen)?;
        let hosts = if addr.ip().is_unspecified() {
            None
        } else {
            let mut h = vec![addr.to_string()];
            if addr.ip().is_loopback() {
                h.push(format!("localhost:{}", addr.port()));
            }
            Some(h)
        };
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            mapping: mapping.to_string(),
            token,
            csrf: random_hex(),
            session: random_hex(),
            hosts,
        });
        let router = axum::Router::new().fallback(move |request: Request<Body>| {
            let shared = Arc::clone(&shared);
            async move { handle(&shared, request).await }
        });
        let server =
            ServerThread::start("console", listener, router, MAX_CONNECTIONS, HEADER_TIMEOUT)?;
        Ok(ConsoleServer {
            addr,
            _server: server,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// The answer with the headers every answer carries.
fn answer(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: under it a browser sends `Origin: null` with a
    // form's POST, and the Origin check would refuse every click (found
    // by the browser test). `same-origin` still tells other sites nothing.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

fn see_other(location: &str) -> Response<Body> {
    let mut r = answer(StatusCode::SEE_OTHER, String::new());
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn refuse(status: StatusCode, why: &str) -> Response<Body> {
    answer(
        status,
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Refused</title>\
</head><body><main><h1>Refused</h1><p>{}</p><p><a href=\"/\">Back to the console</a></p>\
</main></body></html>\n",
            html::esc(why)
        ),
    )
}

/// `a=1&b=x%20y` as pairs; `+` is a space.
fn form_pairs(text: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
                {
                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("00");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn header_text(request: &Request<Body>, name: header::HeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

fn has_session(shared: &Shared, request: &Request<Body>) -> bool {
    let Some(cookies) = header_text(request, header::COOKIE) else {
        return false;
    };
    cookies.split(';').any(|c| {
        c.trim()
            .split_once('=')
            .is_some_and(|(k, v)| k == COOKIE && same(v, &shared.session))
    })
}

async fn handle(shared: &Shared, request: Request<Body>) -> Response<Body> {
    // The Host names this console: a page of another site's name that
    // resolves to loopback (DNS rebinding) is refused.
    let host = header_text(&request, header::HOST)
        .unwrap_or("")
        .to_string();
    if let Some(hosts) = &shared.hosts
        && !hosts.iter().any(|h| h == &host)
    {
        return refuse(StatusCode::MISDIRECTED_REQUEST, "unknown Host");
    }
    let signed_in = shared.token.is_none() || has_session(shared, &request);
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let form = if method == Method::POST {
        // A browser sends its Origin with every form POST: it must be
        // this console's.
        let origin_ok = header_text(&request, header::ORIGIN)
            .is_some_and(|o| o.strip_prefix("http://") == Some(host.as_str()));
        if !origin_ok {
            return refuse(StatusCode::FORBIDDEN, "the form came from another origin");
        }
        let bytes = match axum::body::to_bytes(request.into_body(), MAX_FORM).await {
            Ok(b) => b,
            Err(_) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large"),
        };
        let pairs = form_pairs(&String::from_utf8_lossy(&bytes));
        if !field(&pairs, "csrf").is_some_and(|c| same(c, &shared.csrf)) {
            return refuse(
                StatusCode::FORBIDDEN,
                "the form's CSRF token is missing or stale (reload the page)",
            );
        }
        Some(pairs)
    } else if method == Method::GET {
        None
    } else {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "only GET and POST");
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (&form, segments.as_slice()) {
        (None, ["login"]) => return answer(StatusCode::OK, html::login(&shared.csrf, false)),
        (Some(pairs), ["login"]) => return login(shared, pairs),
        (None, _) if !signed_in => return see_other("/login"),
        (Some(_), _) if !signed_in => return refuse(StatusCode::FORBIDDEN, "sign in first"),
        _ => {}
    }
    let who = shared.token.as_ref().map_or("local", |t| t.user.as_str());
    // A poisoned lock means a page panicked while reading: the
    // connection itself is still sound.
    let mut store = match shared.store.lock() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    let m = shared.mapping.as_str();
    let page = |title: &str, body: String| answer(StatusCode::OK, html::page(title, m, &body));
    let id = |s: &str| s.parse::<i64>().ok();
    let result: Result<Response<Body>, crate::sync::store::StoreError> = (|| {
        Ok(match (&form, segments.as_slice()) {
            (None, [""]) => page("Status", html::status(&store.status_report()?)),
            (None, ["dead-letters"]) => {
                let pairs = form_pairs(&query);
                let after = field(&pairs, "after")
                    .and_then(|a| a.parse::<i64>().ok())
                    .unwrap_or(0)
                    .max(0);
                // One more than a page says whether a next page exists.
                let mut letters = store.open_letters_page(m, after, PAGE + 1)?;
                let next = if letters.len() > PAGE {
                    letters.truncate(PAGE);
                    letters.last().map(|d| d.id)
                } else {
                    None
                };
                let open = store
                    .status_report()?
                    .mappings
                    .into_iter()
                    .find(|s| s.name == m)
                    .map(|s| s.dead_letters)
                    .unwrap_or_default();
                page("Dead letters", html::letters(&letters, &open, after, next))
            }
            (None, ["dead-letters", n]) => match id(n).map(|n| store.dead_letter(m, n)) {
                Some(Ok(Some(d))) => {
                    let record = match &d.key {
                        Some(k) => store.find_record(m, Side::Left, k)?,
                        None => None,
                    };
                    let events = store.event_records(m, &d.events)?;
                    let done = field(&form_pairs(&query), "done").is_some();
                    page(
                        &format!("Dead letter {}", d.id),
                        html::letter(&d, record.as_ref(), &events, &shared.csrf, done),
                    )
                }
                Some(Err(e)) => return Err(e),
                _ => refuse(StatusCode::NOT_FOUND, "no such dead letter"),
            },
            (Some(_), ["dead-letters", n, action @ ("replay" | "discard")]) => {
                let Some(n) = id(n) else {
                    return Ok(refuse(StatusCode::NOT_FOUND, "no such dead letter"));
                };
                if store.settle_dead_letter(m, n, *action == "replay")? {
                    see_other(&format!("/dead-letters/{n}?done=1"))
                } else {
                    refuse(StatusCode::CONFLICT, "that dead letter is not open")
                }
            }
            (None, ["records"]) => {
                let pairs = form_pairs(&query);
                let key = field(&pairs, "key").filter(|k| !k.is_empty());
                let (record, resolutions, events) = match key {
                    Some(k) => {
                        let record = match store.find_record(m, Side::Left, k)? {
                            Some(r) => Some(r),
                            None => store.find_record(m, Side::Right, k)?,
                        };
                        match &record {
                            Some(r) => (
                                record.clone(),
                                store.resolutions(m, &r.key)?,
                                store.events_of(m, &r.key)?,
                            ),
                            None => (None, Vec::new(), Vec::new()),
                        }
                    }
                    None => (None, Vec::new(), Vec::new()),
                };
                page(
                    "Explain a record",
                    html::explain(key, record.as_ref(), &resolutions, &events),
                )
            }
            (None, ["reviews"]) => page("Reviews", html::reviews(&store.reviews(m, true)?)),
            (None, ["reviews", n]) => match id(n).map(|n| store.review(m, n)) {
                Some(Ok(Some(r))) => {
                    let record = store.find_record(m, Side::Left, &r.key)?;
                    let pairs = form_pairs(&query);
                    let done = match (field(&pairs, "field"), field(&pairs, "took")) {
                        (Some(f), Some(s)) => Some(format!("{f}: took {s}.")),
                        _ => None,
                    };
                    page(
                        &format!("Review of {}", r.key),
                        html::review(&r, record.as_ref(), &shared.csrf, done.as_deref()),
                    )
                }
                Some(Err(e)) => return Err(e),
                _ => refuse(StatusCode::NOT_FOUND, "no such review"),
            },
            (Some(pairs), ["reviews", n, "resolve"]) => {
                let side = match field(pairs, "side") {
                    Some("left") => Side::Left,
                    Some("right") => Side::Right,
                    _ => {
                        return Ok(refuse(
                            StatusCode::BAD_REQUEST,
                            "side must be left or right",
                        ));
                    }
                };
                let (Some(n), Some(f)) = (id(n), field(pairs, "field")) else {
                    return Ok(refuse(StatusCode::BAD_REQUEST, "which review and field?"));
                };
                let Some(review) = store.review(m, n)? else {
                    return Ok(refuse(StatusCode::NOT_FOUND, "no such review"));
                };
                let Some(parked) = review.fields.iter().find(|p| p.field == f) else {
                    return Ok(refuse(
                        StatusCode::BAD_REQUEST,
                        "that field is not in review",
                    ));
                };
                if !store.resolve_review(m, &review.key, side, Some(f))? {
                    return Ok(refuse(StatusCode::CONFLICT, "that review is not open"));
                }
                // Who decided and when, beside the merge's resolutions
                // (the merge records its own when the next pass writes).
                store.note_resolution(
                    m,
                    &review.key,
                    &Resolution {
                        field: parked.field.clone(),
                        rule: format!("decided in the console by {who}"),
                        left: parked.left.clone(),
                        right: parked.right.clone(),
                        base: parked.base.clone(),
                        outcome: side.name().to_string(),
                    },
                )?;
                see_other(&format!(
                    "/reviews/{n}?field={}&took={}",
                    percent(f),
                    side.name()
                ))
            }
            _ => refuse(StatusCode::NOT_FOUND, "no such page"),
        })
    })();
    match result {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("console: the store was not read: {e}");
            refuse(StatusCode::SERVICE_UNAVAILABLE, &format!("the store: {e}"))
        }
    }
}

/// `POST /login`: the token compared in constant time; a session cookie
/// the browser sends back only to this console.
fn login(shared: &Shared, pairs: &[(String, String)]) -> Response<Body> {
    let Some(token) = &shared.token else {
        return see_other("/");
    };
    if !field(pairs, "token").is_some_and(|t| same(t, &token.secret)) {
        return answer(StatusCode::FORBIDDEN, html::login(&shared.csrf, true));
    }
    let mut r = see_other("/");
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
        shared.session
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// A value for a query string.
pub(super) fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        let p = form_pairs("csrf=ab%2Fc&field=first+name&x&bad=%zz%4");
        assert_eq!(field(&p, "csrf"), Some("ab/c"));
        assert_eq!(field(&p, "field"), Some("first name"));
        assert_eq!(field(&p, "x"), Some(""));
        assert_eq!(field(&p, "bad"), Some("%zz%4"));
        assert_eq!(
            form_pairs(&format!("f={}", percent("a b/é"))),
            vec![("f".into(), "a b/é".into())]
        );
    }

    #[test]
    fn the_user_is_the_token_s_name() {
        assert_eq!(Token::new("ana:s3cret".into()).user, "ana");
        assert_eq!(Token::new("s3cret".into()).user, "token");
    }
}
