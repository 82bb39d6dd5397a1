//! The contact transform written by hand, the way a Rust programmer would
//! write it without tether: parse the line into a `serde_json::Value`, build
//! the output `Value`, serialise it. It is the baseline tether's speed is
//! measured against (`benches/contact_reference.rs`) and the reference its
//! output is compared with (`tests/bench_contact.rs`).
//!
//! It keeps the contract of `benches/contact.md` exactly: money in
//! `rust_decimal` (never f64), the time zone looked up with chrono-tz. The
//! output keeps key order and `2500.00` only because tether's serde_json
//! features (`preserve_order`, `arbitrary_precision`) are on; a standalone
//! program would need them too.

use chrono::{DateTime, SecondsFormat};
use chrono_tz::Asia::Dubai;
use rust_decimal::Decimal;
use serde_json::{Map, Number, Value};

/// Why one record could not be transformed.
pub type Error = String;

/// One input contact to one output contact.
pub fn transform(input: &Value) -> Result<Value, Error> {
    let props = input.get("properties");
    let prop = |name: &str| props.and_then(|p| p.get(name)).filter(|v| !v.is_null());
    let mut out = Map::new();

    let id = input
        .get("id")
        .and_then(Value::as_str)
        .ok_or("id: missing or not a string")?;
    out.insert("External_Id__c".into(), Value::from(id));
    copy(&mut out, "FirstName", prop("firstname"));
    let last = prop("lastname")
        .cloned()
        .unwrap_or_else(|| Value::from("[not provided]"));
    out.insert("LastName".into(), last);
    if let Some(email) = prop("email") {
        let email = email.as_str().ok_or("email: not a string")?;
        out.insert("Email".into(), Value::from(email.trim().to_lowercase()));
    }
    copy(&mut out, "Phone", prop("phone"));
    copy(&mut out, "MobilePhone", prop("mobilephone"));
    copy(&mut out, "Title", prop("jobtitle"));
    copy(&mut out, "Account_Name__c", prop("company"));
    copy(&mut out, "MailingStreet", prop("address"));
    copy(&mut out, "MailingCity", prop("city"));
    copy(&mut out, "MailingState", prop("state"));
    copy(&mut out, "MailingPostalCode", prop("zip"));
    copy(&mut out, "MailingCountry", prop("country"));
    let status = match prop("hs_lead_status").and_then(Value::as_str) {
        Some("NEW" | "OPEN") => "Open - Not Contacted",
        Some("IN_PROGRESS" | "ATTEMPTED_TO_CONTACT" | "CONNECTED") => "Working - Contacted",
        Some("OPEN_DEAL") => "Closed - Converted",
        Some("UNQUALIFIED" | "BAD_TIMING") => "Closed - Not Converted",
        _ => "Other",
    };
    out.insert("Status__c".into(), Value::from(status));
    for (from, to) in [
        ("createdate", "CreatedDate"),
        ("lastmodifieddate", "LastModifiedDate"),
        ("notes_last_contacted", "Last_Contacted__c"),
    ] {
        if let Some(v) = prop(from) {
            out.insert(to.into(), Value::from(dubai_time(from, v)?));
        }
    }
    let opt_out = prop("hs_email_optout")
        .cloned()
        .unwrap_or(Value::Bool(false));
    out.insert("HasOptedOutOfEmail".into(), opt_out);
    let currency = match prop("currency") {
        Some(c) => c.as_str().ok_or("currency: not a string")?,
        None => "USD",
    };
    if let Some(minor) = prop("total_revenue") {
        let minor = minor.as_i64().ok_or("total_revenue: not an integer")?;
        let amount = Decimal::new(minor, decimals(currency)?);
        let number = Number::from_string_unchecked(amount.to_string());
        out.insert("Lifetime_Value__c".into(), Value::Number(number));
    }
    out.insert("CurrencyIsoCode".into(), Value::from(currency));
    let deals = input
        .pointer("/associations/deals/results")
        .and_then(Value::as_array)
        .map(|deals| {
            deals
                .iter()
                .map(|d| d.get("id").cloned().unwrap_or(Value::Null))
                .collect()
        })
        .unwrap_or_default();
    out.insert("Deal_Ids__c".into(), Value::Array(deals));
    Ok(Value::Object(out))
}

fn copy(out: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    if let Some(v) = value {
        out.insert(key.into(), v.clone());
    }
}

/// Epoch milliseconds (as text) to RFC 3339 with milliseconds in Dubai.
fn dubai_time(field: &str, v: &Value) -> Result<String, Error> {
    let millis: i64 = v
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{field}: not epoch milliseconds: {v}"))?;
    let utc =
        DateTime::from_timestamp_millis(millis).ok_or_else(|| format!("{field}: out of range"))?;
    Ok(utc
        .with_timezone(&Dubai)
        .to_rfc3339_opts(SecondsFormat::Millis, false))
}

/// ISO 4217 minor units of the currencies a CRM sees; a program written by
/// hand carries such a table.
fn decimals(currency: &str) -> Result<u32, Error> {
    Ok(match currency {
        "JPY" | "KRW" | "CLP" | "ISK" | "VND" | "XOF" | "XAF" | "UGX" | "PYG" => 0,
        "KWD" | "BHD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        "CLF" => 4,
        c if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => 2,
        c => return Err(format!("currency: not an ISO 4217 code: {c:?}")),
    })
}
