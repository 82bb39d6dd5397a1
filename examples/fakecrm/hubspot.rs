//! A HubSpot-like CRM v3 contacts API, in memory, on loopback: the
//! bundled fake provider of the README's REST tour (`examples/fakecrm`),
//! of its test (`tests/rest_tour.rs`, which includes these files) and of
//! the REST sync benchmark (`benches/rest_sync`). The shapes are the ones
//! `mappings/crm/hubspot.tprovider` declares, from HubSpot's reference:
//!
//! * `POST /crm/v3/objects/contacts/search`: `filterGroups` with `GTE` (or
//!   `GT`) on `lastmodifieddate` in epoch milliseconds, `sorts` ascending
//!   by it, `limit` (default 10, at most 200), `after`, `properties`;
//!   answered `{"total", "results", "paging": {"next": {"after"}}}`, the
//!   paging left out on the last page.
//! * `POST /crm/v3/objects/contacts` with `{"properties": {…}}`: 201 and
//!   the object; 409 when a contact already has the email (HubSpot keeps
//!   emails unique); 400 when the email has no `@`.
//! * `GET /crm/v3/objects/contacts/{v}[?idProperty=email]`: by id, or by
//!   email (the consistent read `lookup` uses); 404 when there is none.
//! * `GET /crm/v3/objects/contacts[?limit=&after=]`: the list (for a look
//!   at the fake's records with `curl`).
//! * `PATCH /crm/v3/objects/contacts/{id}`: the properties merged, 200;
//!   `DELETE`: archived (gone from reads), 204; 404 for no such contact.
//!
//! Every request needs `Authorization: Bearer <any token>` (401 without);
//! errors have HubSpot's shape `{"status": "error", "message",
//! "correlationId", "category"}`. The throttle (`serve::Crm::throttle_every`)
//! answers every Nth request 429 with `Retry-After: 1` before it gets here.
//!
//! Not like HubSpot: no 10,000-result cap on one search (HubSpot answers
//! 400 past it), no OAuth token endpoint, no index lag.

#![allow(dead_code)]

use super::serve::Reply;
use chrono::{SecondsFormat, TimeZone, Utc};
use serde_json::{Map, Value as Json, json};

const CONTACTS: &str = "/crm/v3/objects/contacts";

/// What a search returns besides the requested properties, as HubSpot does.
const ALWAYS: [&str; 3] = ["createdate", "hs_object_id", "lastmodifieddate"];

/// The fake's contacts, in ascending order of modification (the search
/// order), each with its modification instant in epoch milliseconds.
#[derive(Default)]
pub struct Hubspot {
    contacts: Vec<(i64, Json)>,
    next_id: u64,
    /// The last modification instant handed out: instants are strictly
    /// increasing, so the order above is also the order of changes.
    last_stamp: i64,
}

fn reply(status: u16, body: &Json) -> Reply {
    Reply {
        status,
        body: body.to_string(),
        retry_after: None,
    }
}

fn error(status: u16, category: &str, message: &str) -> Reply {
    reply(
        status,
        &json!({
            "status": "error",
            "message": message,
            "correlationId": "00000000-0000-4000-8000-000000000000",
            "category": category,
        }),
    )
}

pub fn iso(millis: i64) -> String {
    Utc.timestamp_millis_opt(millis)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

/// A filter value: HubSpot takes the milliseconds as a number or a string.
fn millis_of(value: &Json) -> Option<i64> {
    match value {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Hubspot {
    /// The contacts, in modification order.
    pub fn contacts(&self) -> impl Iterator<Item = &Json> {
        self.contacts.iter().map(|(_, c)| c)
    }

    pub fn by_email(&self, email: &str) -> Option<&Json> {
        let email = email.trim().to_lowercase();
        self.contacts()
            .find(|c| c["properties"]["email"].as_str() == Some(email.as_str()))
    }

    pub fn by_id(&self, id: &str) -> Option<&Json> {
        self.index_of(id).map(|i| &self.contacts[i].1)
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.contacts
            .iter()
            .position(|(_, c)| c["id"].as_str() == Some(id))
    }

    fn stamp(&mut self, at: Option<i64>) -> i64 {
        let wanted = at.unwrap_or_else(now_millis);
        self.last_stamp = wanted.max(self.last_stamp + 1);
        self.last_stamp
    }

    /// A contact as another client made it, modified at `at` (epoch
    /// milliseconds; strictly after every earlier change in any case).
    pub fn seed(&mut self, properties: Json, at: i64) -> Json {
        self.create(properties, Some(at))
    }

    fn create(&mut self, properties: Json, at: Option<i64>) -> Json {
        let stamp = self.stamp(at);
        self.next_id += 1;
        let id = (100 + self.next_id).to_string();
        let mut props = match properties {
            Json::Object(m) => m,
            _ => Map::new(),
        };
        if let Some(email) = props.get("email").and_then(Json::as_str) {
            // HubSpot stores emails lower-cased.
            let lower = email.trim().to_lowercase();
            props.insert("email".into(), json!(lower));
        }
        props.insert("createdate".into(), json!(iso(stamp)));
        props.insert("hs_object_id".into(), json!(id));
        props.insert("lastmodifieddate".into(), json!(iso(stamp)));
        let contact = json!({
            "id": id,
            "properties": props,
            "createdAt": iso(stamp),
            "updatedAt": iso(stamp),
            "archived": false,
        });
        // The newest stamp: the end keeps the order.
        self.contacts.push((stamp, contact.clone()));
        contact
    }

    fn update(&mut self, at: usize, properties: &Json) -> Json {
        let stamp = self.stamp(None);
        let (_, mut contact) = self.contacts.remove(at);
        if let (Some(have), Some(new)) = (
            contact["properties"].as_object_mut(),
            properties.as_object(),
        ) {
            for (k, v) in new {
                have.insert(k.clone(), v.clone());
            }
            have.insert("lastmodifieddate".into(), json!(iso(stamp)));
        }
        contact["updatedAt"] = json!(iso(stamp));
        self.contacts.push((stamp, contact.clone()));
        contact
    }

    /// Answers one request: `path` with its query, `authorization` the
    /// header's value if sent.
    pub fn answer(
        &mut self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let token = authorization
            .and_then(|a| a.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        if token.is_empty() {
            return error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found.",
            );
        }
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(rest) = path.strip_prefix(CONTACTS) else {
            return error(404, "OBJECT_NOT_FOUND", "no such endpoint");
        };
        let body: Json = if body.is_empty() {
            Json::Null
        } else {
            match serde_json::from_slice(body) {
                Ok(b) => b,
                Err(_) => return error(400, "VALIDATION_ERROR", "Invalid input JSON"),
            }
        };
        let segment = rest.strip_prefix('/').map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        });
        match (method, segment.as_deref()) {
            ("POST", Some("search")) => self.search(&body),
            ("GET", None | Some("")) => self.list(param("limit"), param("after")),
            ("POST", None | Some("")) => {
                let properties = body.get("properties").cloned().unwrap_or(json!({}));
                let email = properties["email"].as_str().unwrap_or("").to_string();
                if !email.is_empty() && !email.contains('@') {
                    return error(
                        400,
                        "VALIDATION_ERROR",
                        &format!("Property values were not valid: email `{email}`"),
                    );
                }
                if let Some(existing) = (!email.is_empty()).then(|| self.by_email(&email)).flatten()
                {
                    let id = existing["id"].as_str().unwrap_or("").to_string();
                    return error(
                        409,
                        "CONFLICT",
                        &format!("Contact already exists. Existing ID: {id}"),
                    );
                }
                reply(201, &self.create(properties, None))
            }
            ("GET", Some(value)) => {
                let found = match param("idProperty") {
                    Some("email") => self.by_email(value),
                    Some(other) => {
                        return error(
                            400,
                            "VALIDATION_ERROR",
                            &format!("`{other}` is not a unique property"),
                        );
                    }
                    None => self.by_id(value),
                };
                match found {
                    Some(c) => reply(200, c),
                    None => error(404, "OBJECT_NOT_FOUND", "resource not found"),
                }
            }
            ("PATCH", Some(id)) => match self.index_of(id) {
                Some(at) => {
                    let properties = body.get("properties").cloned().unwrap_or(json!({}));
                    if let Some(email) = properties["email"].as_str()
                        && !email.is_empty()
                        && !email.contains('@')
                    {
                        return error(
                            400,
                            "VALIDATION_ERROR",
                            &format!("Property values were not valid: email `{email}`"),
                        );
                    }
                    reply(200, &self.update(at, &properties))
                }
                None => error(404, "OBJECT_NOT_FOUND", "resource not found"),
            },
            ("DELETE", Some(id)) => match self.index_of(id) {
                Some(at) => {
                    self.contacts.remove(at);
                    Reply {
                        status: 204,
                        body: String::new(),
                        retry_after: None,
                    }
                }
                None => error(404, "OBJECT_NOT_FOUND", "resource not found"),
            },
            _ => error(405, "VALIDATION_ERROR", "method not allowed"),
        }
    }

    fn search(&self, body: &Json) -> Reply {
        let mut from = i64::MIN;
        let groups = body["filterGroups"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if groups.len() > 1 {
            return error(400, "VALIDATION_ERROR", "this fake takes one filter group");
        }
        let filters = groups
            .first()
            .and_then(|g| g["filters"].as_array())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for f in filters {
            let (Some("lastmodifieddate"), Some(value)) =
                (f["propertyName"].as_str(), millis_of(&f["value"]))
            else {
                return error(
                    400,
                    "VALIDATION_ERROR",
                    "this fake filters on lastmodifieddate (epoch milliseconds) only",
                );
            };
            from = match f["operator"].as_str() {
                Some("GTE") => from.max(value),
                Some("GT") => from.max(value.saturating_add(1)),
                _ => {
                    return error(400, "VALIDATION_ERROR", "this fake takes GTE or GT only");
                }
            };
        }
        for s in body["sorts"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            if s["propertyName"] != "lastmodifieddate" || s["direction"] != "ASCENDING" {
                return error(
                    400,
                    "VALIDATION_ERROR",
                    "this fake sorts by lastmodifieddate ASCENDING only",
                );
            }
        }
        let limit = match &body["limit"] {
            Json::Null => 10,
            v => match v.as_u64() {
                Some(n @ 1..=200) => n as usize,
                _ => return error(400, "VALIDATION_ERROR", "limit must be 1 to 200"),
            },
        };
        let after: usize = match &body["after"] {
            Json::Null => 0,
            v => match v.as_str().and_then(|a| a.parse().ok()) {
                Some(a) => a,
                None => return error(400, "VALIDATION_ERROR", "after is not a paging token"),
            },
        };
        let wanted: Option<Vec<&str>> = body["properties"]
            .as_array()
            .map(|p| p.iter().filter_map(Json::as_str).collect());
        // Sorted by instant: the matching ones are a tail.
        let start = self.contacts.partition_point(|(t, _)| *t < from);
        let matching = &self.contacts[start..];
        let results: Vec<Json> = matching
            .iter()
            .skip(after)
            .take(limit)
            .map(|(_, c)| match &wanted {
                Some(names) => with_properties(c, names),
                None => c.clone(),
            })
            .collect();
        let mut out = json!({"total": matching.len(), "results": results});
        if after + limit < matching.len() {
            out["paging"] = json!({"next": {"after": (after + limit).to_string()}});
        }
        reply(200, &out)
    }

    fn list(&self, limit: Option<&str>, after: Option<&str>) -> Reply {
        let limit = limit
            .and_then(|l| l.parse().ok())
            .unwrap_or(10usize)
            .min(100);
        let after: usize = after.and_then(|a| a.parse().ok()).unwrap_or(0);
        let results: Vec<&Json> = self.contacts().skip(after).take(limit).collect();
        let mut out = json!({"results": results});
        if after + limit < self.contacts.len() {
            out["paging"] = json!({"next": {"after": (after + limit).to_string()}});
        }
        reply(200, &out)
    }
}

/// A contact with only the named properties (and HubSpot's defaults).
fn with_properties(contact: &Json, names: &[&str]) -> Json {
    let mut c = contact.clone();
    if let Some(props) = c["properties"].as_object_mut() {
        props.retain(|k, _| names.contains(&k.as_str()) || ALWAYS.contains(&k.as_str()));
    }
    c
}

/// The few contacts the tour starts with: fixed ids (101–104) and
/// modification instants in 2026, so the tour's output is the same on
/// every machine.
pub fn seed_tour(hubspot: &mut Hubspot) {
    let base = Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or(0);
    let contacts = [
        json!({"email": "bcooper@biglytics.net", "firstname": "Bryan", "lastname": "Cooper",
               "phone": "(877) 929-0687", "lifecyclestage": "marketingqualifiedlead",
               "annualrevenue": "1500000.50"}),
        json!({"email": "layla@globex.ae", "firstname": "Layla", "lastname": "Haddad",
               "lifecyclestage": "customer", "annualrevenue": "25000"}),
        json!({"email": "omar@initech.example", "firstname": "Omar",
               "lifecyclestage": "lead"}),
        json!({"email": "ana.ng@example.org", "firstname": "Ana", "lastname": "Ng",
               "lifecyclestage": "opportunity"}),
    ];
    for (i, c) in contacts.into_iter().enumerate() {
        hubspot.seed(c, base + 3_600_000 * i as i64);
    }
}

/// `n` generated contacts (`user{i}@example.com`), modified one
/// millisecond apart, ending now: the benchmark's backlog.
pub fn seed_generated(hubspot: &mut Hubspot, n: u64) {
    let start = now_millis() - n as i64;
    for i in 0..n {
        hubspot.seed(
            json!({"email": format!("user{i}@example.com"), "firstname": format!("F{i}"),
                   "lastname": format!("L{i}"), "lifecyclestage": "lead"}),
            start + i as i64,
        );
    }
}
