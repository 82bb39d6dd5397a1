//! The contact transform written by hand, the way a Rust programmer would
//! write it without tether: parse the line into a `serde_json::Value`, pick
//! the fields into an output struct, serialise it. It is the baseline
//! tether's speed is measured against (the `contact-reference` crate in this
//! folder, built by `benches/run`) and the reference its output is compared
//! with (`tests/bench_contact.rs`, `benches/contact.rs`).
//!
//! It keeps the contract of `benches/contact.md` exactly: money in
//! `rust_decimal` (never f64), the time zone looked up with chrono-tz.
//!
//! The same file is compiled two ways, and its output must not depend on
//! which: on its own with serde_json's default features (plus `raw_value`),
//! and inside tether's tests and criterion bench, with tether's features
//! (`preserve_order`, `arbitrary_precision`), which change how a `Value` is
//! stored and so how fast it parses. So the members' order comes from the
//! struct, not from a map, and the amount is written as its exact text
//! (`2500.00`) through `RawValue`, not through a `Number`.

use chrono::{DateTime, SecondsFormat};
use chrono_tz::Asia::Dubai;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Why one record could not be transformed.
pub type Error = String;

/// One output contact, its members in the contract's order. Copied values
/// are borrowed from the input record.
#[derive(Serialize)]
pub struct Contact<'a> {
    #[serde(rename = "External_Id__c")]
    external_id: &'a str,
    #[serde(rename = "FirstName", skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a Value>,
    #[serde(rename = "LastName")]
    last_name: Cow<'a, Value>,
    #[serde(rename = "Email", skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(rename = "Phone", skip_serializing_if = "Option::is_none")]
    phone: Option<&'a Value>,
    #[serde(rename = "MobilePhone", skip_serializing_if = "Option::is_none")]
    mobile_phone: Option<&'a Value>,
    #[serde(rename = "Title", skip_serializing_if = "Option::is_none")]
    title: Option<&'a Value>,
    #[serde(rename = "Account_Name__c", skip_serializing_if = "Option::is_none")]
    account_name: Option<&'a Value>,
    #[serde(rename = "MailingStreet", skip_serializing_if = "Option::is_none")]
    mailing_street: Option<&'a Value>,
    #[serde(rename = "MailingCity", skip_serializing_if = "Option::is_none")]
    mailing_city: Option<&'a Value>,
    #[serde(rename = "MailingState", skip_serializing_if = "Option::is_none")]
    mailing_state: Option<&'a Value>,
    #[serde(rename = "MailingPostalCode", skip_serializing_if = "Option::is_none")]
    mailing_postal_code: Option<&'a Value>,
    #[serde(rename = "MailingCountry", skip_serializing_if = "Option::is_none")]
    mailing_country: Option<&'a Value>,
    #[serde(rename = "Status__c")]
    status: &'static str,
    #[serde(rename = "CreatedDate", skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    #[serde(rename = "LastModifiedDate", skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
    #[serde(rename = "Last_Contacted__c", skip_serializing_if = "Option::is_none")]
    last_contacted: Option<String>,
    #[serde(rename = "HasOptedOutOfEmail")]
    opted_out: &'a Value,
    #[serde(rename = "Lifetime_Value__c", skip_serializing_if = "Option::is_none")]
    lifetime_value: Option<Box<RawValue>>,
    #[serde(rename = "CurrencyIsoCode")]
    currency: &'a str,
    /// Each deal's `id`, `null` where a deal has none.
    #[serde(rename = "Deal_Ids__c")]
    deal_ids: Vec<Option<&'a Value>>,
}

/// `HasOptedOutOfEmail` when the input has none.
static NOT_OPTED_OUT: Value = Value::Bool(false);

/// One input contact to one output contact.
pub fn transform(input: &Value) -> Result<Contact<'_>, Error> {
    let props = input.get("properties");
    let prop = |name: &str| props.and_then(|p| p.get(name)).filter(|v| !v.is_null());

    let external_id = input
        .get("id")
        .and_then(Value::as_str)
        .ok_or("id: missing or not a string")?;
    let last_name = prop("lastname")
        .map(Cow::Borrowed)
        .unwrap_or_else(|| Cow::Owned(Value::from("[not provided]")));
    let email = match prop("email") {
        Some(email) => {
            let email = email.as_str().ok_or("email: not a string")?;
            Some(email.trim().to_lowercase())
        }
        None => None,
    };
    let status = match prop("hs_lead_status").and_then(Value::as_str) {
        Some("NEW" | "OPEN") => "Open - Not Contacted",
        Some("IN_PROGRESS" | "ATTEMPTED_TO_CONTACT" | "CONNECTED") => "Working - Contacted",
        Some("OPEN_DEAL") => "Closed - Converted",
        Some("UNQUALIFIED" | "BAD_TIMING") => "Closed - Not Converted",
        _ => "Other",
    };
    let time = |field: &str| prop(field).map(|v| dubai_time(field, v)).transpose();
    let currency = match prop("currency") {
        Some(c) => c.as_str().ok_or("currency: not a string")?,
        None => "USD",
    };
    let lifetime_value = match prop("total_revenue") {
        Some(minor) => {
            let minor = minor.as_i64().ok_or("total_revenue: not an integer")?;
            let amount = Decimal::new(minor, decimals(currency)?);
            let text = RawValue::from_string(amount.to_string()).map_err(|e| e.to_string())?;
            Some(text)
        }
        None => None,
    };
    let deal_ids = input
        .pointer("/associations/deals/results")
        .and_then(Value::as_array)
        .map(|deals| deals.iter().map(|d| d.get("id")).collect())
        .unwrap_or_default();
    Ok(Contact {
        external_id,
        first_name: prop("firstname"),
        last_name,
        email,
        phone: prop("phone"),
        mobile_phone: prop("mobilephone"),
        title: prop("jobtitle"),
        account_name: prop("company"),
        mailing_street: prop("address"),
        mailing_city: prop("city"),
        mailing_state: prop("state"),
        mailing_postal_code: prop("zip"),
        mailing_country: prop("country"),
        status,
        created: time("createdate")?,
        last_modified: time("lastmodifieddate")?,
        last_contacted: time("notes_last_contacted")?,
        opted_out: prop("hs_email_optout").unwrap_or(&NOT_OPTED_OUT),
        lifetime_value,
        currency,
        deal_ids,
    })
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
