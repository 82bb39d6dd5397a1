//! A Salesforce-like REST API for contacts, in memory: the other half of
//! the bundled fake (`examples/fakecrm`), with the shapes
//! `mappings/crm/salesforce.tprovider` declares, from Salesforce's REST API
//! developer guide:
//!
//! * `POST /services/oauth2/token` (`grant_type=refresh_token` with
//!   `client_id`, `client_secret`, `refresh_token`, any non-empty values):
//!   `{"access_token", "token_type": "Bearer", "instance_url", ...}`; 400
//!   `{"error": "invalid_grant"}` when one is missing. No rotation.
//! * `GET /services/data/v59.0/query?q=SOQL`: exactly the SOQL shape the
//!   provider file sends (`... WHERE LastModifiedDate >= 2026-01-01T00:00:00Z
//!   ...`, ascending by it; the field list is not read: every field comes
//!   back); `{"totalSize", "done", "records", "nextRecordsUrl"}` in batches
//!   of `Sforce-Query-Options: batchSize=N` (200–2,000, default 2,000) over
//!   a snapshot taken by the first request, the next batch at
//!   `/services/data/v59.0/query/01gFAKE…-OFFSET`.
//! * `PATCH /services/data/v59.0/sobjects/Contact/HubSpot_Id__c/{v}`: the
//!   upsert by external id, 201 `{"id", "success": true, "errors": [],
//!   "created": true}` or 200 with `"created": false`; 400
//!   `REQUIRED_FIELD_MISSING` creating without `LastName`.
//! * `POST /services/data/v59.0/sobjects/Contact`: a contact made in
//!   Salesforce (by a person, by another client): 201 `{"id", "success":
//!   true, "errors": []}`; 400 `REQUIRED_FIELD_MISSING` without `LastName`.
//!   Such a contact has no `HubSpot_Id__c` until tether writes one back.
//! * `PATCH`/`DELETE /services/data/v59.0/sobjects/Contact/{Id}`: 204; 404
//!   `NOT_FOUND`.
//!
//! Every request but the token's needs a bearer token this fake issued (401
//! `INVALID_SESSION_ID` otherwise); errors are `[{"message", "errorCode",
//! "fields"}]`.

#![allow(dead_code)]

use super::hubspot::{iso, now_millis};
use super::serve::Reply;
use chrono::{NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value as Json, json};
use std::collections::{BTreeMap, HashMap};

const DATA: &str = "/services/data/v59.0";

#[derive(Default)]
pub struct Salesforce {
    /// By `LastModifiedDate` (milliseconds, unique): the query's order.
    contacts: BTreeMap<i64, Json>,
    /// `Id` → its key above; `HubSpot_Id__c` → `Id`. Why: an upsert per
    /// contact must not scan every contact (the benchmark upserts 100,000).
    by_id: HashMap<String, i64>,
    by_external: HashMap<String, String>,
    next_id: u64,
    last_stamp: i64,
    tokens: Vec<String>,
    /// Query snapshots by locator.
    cursors: HashMap<String, (usize, Vec<Json>)>,
    next_locator: u64,
}

fn reply(status: u16, body: &Json) -> Reply {
    Reply {
        status,
        body: body.to_string(),
        retry_after: None,
    }
}

fn no_content() -> Reply {
    Reply {
        status: 204,
        body: String::new(),
        retry_after: None,
    }
}

fn error(status: u16, code: &str, message: &str, fields: &[&str]) -> Reply {
    reply(
        status,
        &json!([{"message": message, "errorCode": code, "fields": fields}]),
    )
}

/// Salesforce's date-time form: `2026-01-15T10:30:00.000+0000`.
fn sf_time(millis: i64) -> String {
    iso(millis).replace('Z', "+0000")
}

impl Salesforce {
    pub fn contacts(&self) -> impl Iterator<Item = &Json> {
        self.contacts.values()
    }

    /// Access tokens issued so far.
    pub fn token_requests(&self) -> usize {
        self.tokens.len()
    }

    pub fn by_external(&self, hubspot_id: &str) -> Option<&Json> {
        let id = self.by_external.get(hubspot_id)?;
        self.index_of(id).and_then(|at| self.contacts.get(&at))
    }

    pub fn by_id(&self, id: &str) -> Option<&Json> {
        self.index_of(id).and_then(|at| self.contacts.get(&at))
    }

    /// A contact made in Salesforce, as `POST …/sobjects/Contact` makes
    /// one: modified now, with a new `Id` and no `HubSpot_Id__c` unless
    /// `fields` has one.
    pub fn make(&mut self, fields: &Map<String, Json>) -> Json {
        self.save(None, fields)
    }

    /// Changes fields of the contact `id` as a person would (modified
    /// now); `None` if there is no such contact.
    pub fn edit(&mut self, id: &str, fields: &Map<String, Json>) -> Option<Json> {
        let at = self.index_of(id)?;
        Some(self.save(Some(at), fields))
    }

    /// The key in `contacts` of the contact `id`.
    fn index_of(&self, id: &str) -> Option<i64> {
        self.by_id.get(id).copied()
    }

    fn remove(&mut self, at: i64) -> Option<Json> {
        let contact = self.contacts.remove(&at)?;
        if let Some(id) = contact["Id"].as_str() {
            self.by_id.remove(id);
        }
        if let Some(external) = contact["HubSpot_Id__c"].as_str() {
            self.by_external.remove(external);
        }
        Some(contact)
    }

    fn stamp(&mut self) -> i64 {
        self.last_stamp = now_millis().max(self.last_stamp + 1);
        self.last_stamp
    }

    /// Stores `contact` (fields merged over the one at `at`, if any) as
    /// modified now, at the end of the order.
    fn save(&mut self, at: Option<i64>, fields: &Map<String, Json>) -> Json {
        let stamp = self.stamp();
        let mut contact = match at.and_then(|at| self.remove(at)) {
            Some(c) => c,
            None => {
                self.next_id += 1;
                let id = format!("003FK{:013}", self.next_id);
                json!({
                    "attributes": {"type": "Contact", "url": format!("{DATA}/sobjects/Contact/{id}")},
                    "Id": id,
                })
            }
        };
        if let Some(have) = contact.as_object_mut() {
            for (k, v) in fields {
                // Set by Salesforce, never by a client.
                if !matches!(k.as_str(), "Id" | "attributes" | "LastModifiedDate") {
                    have.insert(k.clone(), v.clone());
                }
            }
            have.insert("LastModifiedDate".into(), json!(sf_time(stamp)));
        }
        if let Some(id) = contact["Id"].as_str() {
            self.by_id.insert(id.to_string(), stamp);
            if let Some(external) = contact["HubSpot_Id__c"].as_str() {
                self.by_external
                    .insert(external.to_string(), id.to_string());
            }
        }
        self.contacts.insert(stamp, contact.clone());
        contact
    }

    /// Answers one request (path with its query).
    pub fn answer(
        &mut self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        batch_size: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        if (method, path) == ("POST", "/services/oauth2/token") {
            return self.token(body);
        }
        let token = authorization.and_then(|a| a.strip_prefix("Bearer "));
        if !token.is_some_and(|t| self.tokens.iter().any(|have| have == t)) {
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid", &[]);
        }
        let Some(rest) = path.strip_prefix(DATA) else {
            return error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            );
        };
        let fields = || -> Result<Map<String, Json>, Reply> {
            match serde_json::from_slice::<Json>(body) {
                Ok(Json::Object(m)) => Ok(m),
                _ => Err(error(
                    400,
                    "JSON_PARSER_ERROR",
                    "The body is not a JSON object",
                    &[],
                )),
            }
        };
        let segments: Vec<String> = rest
            .trim_start_matches('/')
            .split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match (method, segments.as_slice()) {
            ("GET", ["query"]) => self.query(query, batch_size),
            ("GET", ["query", locator]) => self.more(locator),
            ("PATCH", ["sobjects", "Contact", "HubSpot_Id__c", value]) => {
                let mut fields = match fields() {
                    Ok(f) => f,
                    Err(r) => return r,
                };
                fields.insert("HubSpot_Id__c".into(), json!(value));
                let at = self
                    .by_external
                    .get(*value)
                    .and_then(|id| self.index_of(id));
                if at.is_none() && !fields.get("LastName").is_some_and(|v| v.is_string()) {
                    return error(
                        400,
                        "REQUIRED_FIELD_MISSING",
                        "Required fields are missing: [LastName]",
                        &["LastName"],
                    );
                }
                let saved = self.save(at, &fields);
                let status = if at.is_some() { 200 } else { 201 };
                reply(
                    status,
                    &json!({"id": saved["Id"], "success": true, "errors": [], "created": at.is_none()}),
                )
            }
            ("POST", ["sobjects", "Contact"]) => {
                let fields = match fields() {
                    Ok(f) => f,
                    Err(r) => return r,
                };
                if !fields.get("LastName").is_some_and(|v| v.is_string()) {
                    return error(
                        400,
                        "REQUIRED_FIELD_MISSING",
                        "Required fields are missing: [LastName]",
                        &["LastName"],
                    );
                }
                let saved = self.save(None, &fields);
                reply(
                    201,
                    &json!({"id": saved["Id"], "success": true, "errors": []}),
                )
            }
            ("PATCH", ["sobjects", "Contact", id]) => match self.index_of(id) {
                Some(at) => match fields() {
                    Ok(f) => {
                        self.save(Some(at), &f);
                        no_content()
                    }
                    Err(r) => r,
                },
                None => error(
                    404,
                    "NOT_FOUND",
                    "The requested resource does not exist",
                    &[],
                ),
            },
            ("GET", ["sobjects", "Contact", id]) => match self.index_of(id) {
                Some(at) => reply(200, &self.contacts[&at]),
                None => error(
                    404,
                    "NOT_FOUND",
                    "The requested resource does not exist",
                    &[],
                ),
            },
            ("DELETE", ["sobjects", "Contact", id]) => match self.index_of(id) {
                Some(at) => {
                    self.remove(at);
                    no_content()
                }
                None => error(
                    404,
                    "NOT_FOUND",
                    "The requested resource does not exist",
                    &[],
                ),
            },
            _ => error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            ),
        }
    }

    fn token(&mut self, body: &[u8]) -> Reply {
        let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        let given = |k: &str| form.get(k).is_some_and(|v| !v.is_empty());
        if form.get("grant_type").map(String::as_str) != Some("refresh_token")
            || !["client_id", "client_secret", "refresh_token"]
                .iter()
                .all(|k| given(k))
        {
            return reply(
                400,
                &json!({"error": "invalid_grant", "error_description": "expired access/refresh token"}),
            );
        }
        let token = format!("00DFAKE!sf-access-{}", self.tokens.len() + 1);
        self.tokens.push(token.clone());
        reply(
            200,
            &json!({"access_token": token, "token_type": "Bearer",
                    "instance_url": "https://example.my.salesforce.com",
                    "issued_at": now_millis().to_string(), "scope": "api refresh_token"}),
        )
    }

    fn query(&mut self, query: &str, batch_size: Option<&str>) -> Reply {
        let q = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let Some(from) = since(&q) else {
            return error(
                400,
                "MALFORMED_QUERY",
                "this fake reads `WHERE LastModifiedDate >= yyyy-MM-ddTHH:mm:ssZ` only",
                &[],
            );
        };
        let size = batch_size
            .and_then(|h| h.trim().strip_prefix("batchSize="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(2000usize)
            .clamp(200, 2000);
        let matching: Vec<Json> = self
            .contacts
            .range(from..)
            .map(|(_, c)| c.clone())
            .collect();
        self.next_locator += 1;
        let locator = format!("01gFAKE{:08}", self.next_locator);
        self.cursors.insert(locator.clone(), (size, matching));
        self.batch(&locator, 0, size)
    }

    fn more(&mut self, locator: &str) -> Reply {
        let Some((name, offset)) = locator.rsplit_once('-') else {
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator", &[]);
        };
        match (offset.parse::<usize>(), self.cursors.get(name)) {
            (Ok(offset), Some((size, _))) => {
                let size = *size;
                self.batch(name, offset, size)
            }
            _ => error(400, "INVALID_QUERY_LOCATOR", "invalid query locator", &[]),
        }
    }

    /// One batch of a snapshot; the snapshot dropped after its last one.
    fn batch(&mut self, locator: &str, offset: usize, size: usize) -> Reply {
        let all = self
            .cursors
            .get(locator)
            .map(|(_, all)| all.as_slice())
            .unwrap_or(&[]);
        let records: Vec<&Json> = all.iter().skip(offset).take(size).collect();
        let next = offset + records.len();
        let done = next >= all.len();
        let mut out = json!({"totalSize": all.len(), "done": done, "records": records});
        if done {
            self.cursors.remove(locator);
        } else {
            out["nextRecordsUrl"] = json!(format!("{DATA}/query/{locator}-{next}"));
        }
        reply(200, &out)
    }
}

/// The instant of `LastModifiedDate >= 2026-01-01T00:00:00Z` in `q`, in
/// epoch milliseconds.
fn since(q: &str) -> Option<i64> {
    let (_, rest) = q.split_once("LastModifiedDate >= ")?;
    let literal = rest.split_whitespace().next()?;
    let t = NaiveDateTime::parse_from_str(literal, "%Y-%m-%dT%H:%M:%SZ").ok()?;
    Some(Utc.from_utc_datetime(&t).timestamp_millis())
}

/// `n` contacts made in Salesforce by hand: no `HubSpot_Id__c`, so tether
/// creates them in HubSpot and writes HubSpot's id back. The first is the
/// tour's (Grace Hopper); the rest are generated.
pub fn seed_born(sf: &mut Salesforce, n: u64) {
    for i in 0..n {
        let contact = if i == 0 {
            json!({"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@navy.example",
                   "Phone": "+1 202 555 0199", "Status__c": "Qualified"})
        } else {
            json!({"FirstName": format!("Born{i}"), "LastName": format!("Sf{i}"),
                   "Email": format!("born{i}@example.com")})
        };
        if let Json::Object(fields) = contact {
            sf.make(&fields);
        }
    }
}
