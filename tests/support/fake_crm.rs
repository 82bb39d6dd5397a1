//! A small CRM-like REST API on loopback for the write tests (issue 19,
//! step 4), on the fake in `fake_http.rs`: contacts with a provider id
//! (`c1`, `c2`, …), `properties` and an `updatedAt` sequence.
//!
//! * `GET /contacts?since=N`: contacts with `updatedAt >= N`, ascending,
//!   as `{"results": […]}`.
//! * `POST /contacts` with `{"properties": {…}}`: 201 and the contact. An
//!   `Idempotency-Key` is honoured as Stripe does: a repeat of a key gets
//!   the first answer, and nothing is created again.
//! * `GET /contacts/{v}?idProperty=P`: the contact whose property `P` is
//!   `v` (HubSpot's consistent read by a unique property), else 404.
//! * `PATCH /contacts/{id}`, `DELETE /contacts/{id}`: 200 / 204, 404 when
//!   there is no such contact.
//! * `PATCH /contacts/ref/{v}`: an upsert by the external key `ref`
//!   (Salesforce's shape): 201 created or 200 updated; 300 Multiple
//!   Choices when several contacts hold `v`, with Salesforce's body (the
//!   matching records' URLs), and nothing written.
//!
//! A contact whose email has no `@` is refused with 422 and HubSpot's
//! error shape (on a create, the message echoes the `Authorization`
//! header, as a careless API might, so the tests can check it is
//! redacted).
//!
//! Misbehaviour, set through the shared [`Crm`]: `lose` (the next creates
//! are applied, then answered 500 as if the answer were lost), `throttle`
//! (the next requests answered 429 with `Retry-After`), `down` (every
//! request answered 503 without `Retry-After`), `burst` (the next requests
//! answered 500 without doing anything).
//!
//! For the fault and crash suites, off unless set: `page_size` (a read
//! returns that many contacts a page, with the next page's token in
//! `next`, asked for by `after`; `empty_page_at` puts an empty page with
//! a `next` in front of one), and `oauth` (an OAuth 2.0 refresh-token
//! grant at `POST /oauth/token`; every other request needs the current
//! access token, which can expire after a number of requests, and the
//! refresh token can rotate on each use). `made` records each create
//! actually applied with its idempotency key, so a test can show that
//! nothing was made twice.

#![allow(dead_code)]

use super::fake_http::{Fake, Logged, Reply};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Crm {
    pub contacts: Vec<Json>,
    /// Answers given to idempotency keys: (status, body).
    answers: HashMap<String, (u16, String)>,
    next_id: u64,
    tick: u64,
    /// Creates still to "lose": applied, then answered 500.
    pub lose: u32,
    /// Requests still to answer 429 with this `Retry-After` (seconds).
    pub throttle: Option<(u32, u64)>,
    /// `Retry-After` as an HTTP date, with the server's `Date` (RFC 9110
    /// §10.2.3): the wait is their difference, whatever the client's clock.
    pub throttle_as_date: bool,
    pub down: bool,
    /// Requests still to answer 500 (without acting on them).
    pub burst: u32,
    /// Contacts a read page holds; `None`: all in one page, no `next`.
    pub page_size: Option<usize>,
    /// A read asking for the page at this offset gets an empty page whose
    /// `next` leads to it (as a provider's page that a filter emptied).
    pub empty_page_at: Option<usize>,
    pub oauth: Option<OAuth>,
    /// Each create applied: (its idempotency key, the `ref` property).
    pub made: Vec<(Option<String>, Option<String>)>,
}

/// The fake's OAuth 2.0 refresh-token grant (RFC 6749 §6).
#[derive(Default)]
pub struct OAuth {
    /// The refresh token the grant accepts now.
    pub refresh: String,
    /// Issue a new refresh token with each access token (the old one is
    /// then refused, as Salesforce's rotation does).
    pub rotate: bool,
    /// The access token valid now; `None` before the first grant.
    pub access: Option<String>,
    /// Requests the access token serves before it expires (answered 401).
    pub expire_after: Option<u32>,
    /// Requests served with the current access token.
    pub served: u32,
    /// Every refresh token presented, in order.
    pub presented: Vec<String>,
    /// Requests answered 401.
    pub unauthorized: u32,
    /// Access tokens issued.
    pub issued: u32,
    /// The `expires_in` of each access token (seconds); `None`: 1800.
    pub expires_in: Option<u64>,
}

impl Crm {
    /// The contact whose property `name` is `value`.
    pub fn by_property(&self, name: &str, value: &str) -> Option<&Json> {
        self.contacts
            .iter()
            .find(|c| c["properties"][name].as_str() == Some(value))
    }

    /// A contact made as another client (or a lost attempt) would.
    pub fn seed(&mut self, properties: Json) -> Json {
        self.create(properties)
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.contacts
            .iter()
            .position(|c| c["id"].as_str() == Some(id))
    }

    fn stamp(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn create(&mut self, properties: Json) -> Json {
        self.next_id += 1;
        let contact = json!({
            "id": format!("c{}", self.next_id),
            "properties": properties,
            "updatedAt": self.stamp(),
        });
        self.contacts.push(contact.clone());
        contact
    }

    fn update(&mut self, at: usize, properties: &Json) -> Json {
        let updated = self.stamp();
        let contact = &mut self.contacts[at];
        if let (Some(have), Some(new)) = (
            contact["properties"].as_object_mut(),
            properties.as_object(),
        ) {
            for (k, v) in new {
                have.insert(k.clone(), v.clone());
            }
        }
        contact["updatedAt"] = json!(updated);
        contact.clone()
    }
}

pub fn start(crm: Arc<Mutex<Crm>>) -> Fake {
    Fake::start(move |r| answer(&mut crm.lock().expect("the crm"), r))
}

fn error(status: u16, message: &str) -> Reply {
    let body = json!({"status": "error", "message": message, "category": "VALIDATION_ERROR"});
    Reply::json(status, &body.to_string())
}

fn decoded(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// The fake's answer to `r`, for servers other than [`start`]'s (the
/// fault-injecting one in `fault_http.rs`).
pub fn handle(crm: &Mutex<Crm>, r: &Logged) -> Reply {
    match crm.lock() {
        Ok(mut crm) => answer(&mut crm, r),
        Err(_) => error(500, "the fake's state is poisoned"),
    }
}

fn answer(crm: &mut Crm, r: &Logged) -> Reply {
    if crm.down {
        return error(503, "Service Unavailable");
    }
    if crm.burst > 0 {
        crm.burst -= 1;
        return error(500, "internal error");
    }
    if let Some(oauth) = crm.oauth.as_mut() {
        if r.path == "/oauth/token" {
            return grant(oauth, r);
        }
        let expired = oauth.expire_after.is_some_and(|n| oauth.served >= n);
        let sent = r
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "));
        if expired || oauth.access.is_none() || sent != oauth.access.as_deref() {
            oauth.unauthorized += 1;
            return Reply::json(
                401,
                r#"{"status":"error","message":"expired token","category":"EXPIRED_AUTHENTICATION"}"#,
            );
        }
        oauth.served += 1;
    }
    if let Some((n, seconds)) = crm.throttle
        && n > 0
    {
        crm.throttle = Some((n - 1, seconds));
        let reply = error(429, "You have reached your secondly limit.");
        if crm.throttle_as_date {
            let now = std::time::SystemTime::now();
            let until = now + std::time::Duration::from_secs(seconds);
            return reply
                .header("Date", &httpdate::fmt_http_date(now))
                .header("Retry-After", &httpdate::fmt_http_date(until));
        }
        return reply.header("Retry-After", &seconds.to_string());
    }
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    let query: HashMap<&str, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k, decoded(v)))
        .collect();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let body: Json = serde_json::from_slice(&r.body).unwrap_or(Json::Null);
    match (r.method.as_str(), segments.as_slice()) {
        ("GET", ["contacts"]) => {
            let since: u64 = query.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
            let mut results: Vec<&Json> = crm
                .contacts
                .iter()
                .filter(|c| c["updatedAt"].as_u64().unwrap_or(0) >= since)
                .collect();
            results.sort_by_key(|c| c["updatedAt"].as_u64());
            let Some(size) = crm.page_size else {
                return Reply::json(200, &json!({"results": results}).to_string());
            };
            let token = query.get("after").cloned().unwrap_or_default();
            // `K.e`: the page at K, after the empty page in front of it.
            let after: usize = token.trim_end_matches(".e").parse().unwrap_or(0);
            if crm.empty_page_at == Some(after) && !token.ends_with(".e") {
                let next = format!("{after}.e");
                return Reply::json(200, &json!({"results": [], "next": next}).to_string());
            }
            let page: Vec<&Json> = results.iter().skip(after).take(size).copied().collect();
            let mut out = json!({"results": page});
            if after + size < results.len() {
                out["next"] = json!((after + size).to_string());
            }
            Reply::json(200, &out.to_string())
        }
        ("POST", ["contacts"]) => {
            let key = r.header("idempotency-key").map(String::from);
            if let Some((status, body)) = key.as_ref().and_then(|k| crm.answers.get(k)) {
                let (status, body) = (*status, body.clone());
                return lost(crm).unwrap_or_else(|| Reply::json(status, &body));
            }
            let properties = body["properties"].clone();
            let email = properties["email"].as_str().unwrap_or("");
            if !email.contains('@') {
                let auth = r.header("authorization").unwrap_or("");
                return error(
                    422,
                    &format!("Property values were not valid: email `{email}` (sent with {auth})"),
                );
            }
            let made = (key.clone(), properties["ref"].as_str().map(String::from));
            crm.made.push(made);
            let created = crm.create(properties).to_string();
            if let Some(k) = key {
                crm.answers.insert(k, (201, created.clone()));
            }
            lost(crm).unwrap_or_else(|| Reply::json(201, &created))
        }
        ("GET", ["contacts", value]) => {
            let value = decoded(value);
            let found = match query.get("idProperty") {
                Some(property) => crm.by_property(property, &value),
                None => crm.index_of(&value).map(|i| &crm.contacts[i]),
            };
            match found {
                Some(c) => Reply::json(200, &c.to_string()),
                None => error(404, "resource not found"),
            }
        }
        ("PATCH", ["contacts", "ref", value]) => {
            let value = decoded(value);
            let mut properties = body.get("properties").cloned().unwrap_or(json!({}));
            properties["ref"] = json!(value);
            let holding: Vec<Json> = crm
                .contacts
                .iter()
                .filter(|c| c["properties"]["ref"] == value)
                .map(|c| {
                    json!(format!(
                        "/contacts/{}",
                        c["id"].as_str().unwrap_or_default()
                    ))
                })
                .collect();
            if holding.len() > 1 {
                return Reply::json(300, &Json::Array(holding).to_string());
            }
            match crm
                .contacts
                .iter()
                .position(|c| c["properties"]["ref"] == value)
            {
                Some(at) => Reply::json(200, &crm.update(at, &properties).to_string()),
                None => Reply::json(201, &crm.create(properties).to_string()),
            }
        }
        ("PATCH", ["contacts", id]) => match crm.index_of(&decoded(id)) {
            Some(at) => {
                let properties = body.get("properties").cloned().unwrap_or(json!({}));
                if let Some(email) = properties["email"].as_str()
                    && !email.contains('@')
                {
                    return error(
                        422,
                        &format!("Property values were not valid: email `{email}`"),
                    );
                }
                Reply::json(200, &crm.update(at, &properties).to_string())
            }
            None => error(404, "resource not found"),
        },
        ("DELETE", ["contacts", id]) => match crm.index_of(&decoded(id)) {
            Some(at) => {
                crm.contacts.remove(at);
                Reply::json(204, "")
            }
            None => error(404, "resource not found"),
        },
        _ => error(404, "no such endpoint"),
    }
}

/// `POST /oauth/token`: a refresh grant with the current refresh token
/// gets a new access token (and, rotating, a new refresh token); any other
/// is `invalid_grant`.
fn grant(oauth: &mut OAuth, r: &Logged) -> Reply {
    let form = String::from_utf8_lossy(&r.body).into_owned();
    let field = |name: &str| {
        form.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| decoded(v))
    };
    let presented = field("refresh_token").unwrap_or_default();
    oauth.presented.push(presented.clone());
    if field("grant_type").as_deref() != Some("refresh_token") || presented != oauth.refresh {
        return Reply::json(
            400,
            r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
        );
    }
    oauth.issued += 1;
    let access = format!("access-{}", oauth.issued);
    oauth.access = Some(access.clone());
    oauth.served = 0;
    let expires_in = oauth.expires_in.unwrap_or(1800);
    let mut out = json!({"access_token": access, "token_type": "Bearer", "expires_in": expires_in});
    if oauth.rotate {
        oauth.refresh = format!("refresh-{}", oauth.issued + 1);
        out["refresh_token"] = json!(oauth.refresh);
    }
    Reply::json(200, &out.to_string())
}

/// A create's answer lost on the way back, while `lose` lasts.
fn lost(crm: &mut Crm) -> Option<Reply> {
    (crm.lose > 0).then(|| {
        crm.lose -= 1;
        error(500, "internal error")
    })
}
