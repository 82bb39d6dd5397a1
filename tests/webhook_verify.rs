//! Webhook verification (issue 20, docs/design/12-webhooks.md): every preset
//! against a fixed vector (published, or computed apart with Python), and the
//! ways a delivery must be refused: a forged signature, a wrong secret, a
//! timestamp 301 s old or ahead, a body changed by one byte or re-serialised.
//! A rotated secret is accepted, and says which one matched.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use proptest::prelude::*;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tether::http::secret::Secret;
use tether::webhook::{
    ConfigError, Delivery, Headers, Preset, PresetConfig, Reason, Refusal, Verifier,
};

const URL: &str = "https://hooks.example.com/webhooks/p";

fn json(file: &str) -> Value {
    let path = format!("{}/tests/data/webhooks/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the vectors are in the repository");
    serde_json::from_str(&text).expect("the vectors are JSON")
}

fn at(unix: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix)
}

fn verifier(preset: Preset, secrets: &[&str]) -> Verifier {
    preset
        .verifier(&PresetConfig {
            secrets: secrets.iter().map(|s| Secret::new(*s)).collect(),
            header: Some("X-Webhook-Secret".into()),
            organisations: vec!["00D5e000000AbCdEAF".into()],
            tolerance: None,
        })
        .expect("a valid configuration")
}

fn check(v: &Verifier, headers: &Headers, body: &[u8], now: SystemTime) -> Result<usize, Refusal> {
    check_at(v, URL, headers, body, now)
}

fn check_at(
    v: &Verifier,
    url: &str,
    headers: &Headers,
    body: &[u8],
    now: SystemTime,
) -> Result<usize, Refusal> {
    let delivery = Delivery {
        method: "POST",
        url,
        headers,
        body,
    };
    v.verify(&delivery, now).map(|ok| ok.secret)
}

fn hmac256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One byte of `body` changed.
fn altered(body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    let last = b.len() - 1;
    b[last - 1] ^= 0x01;
    b
}

const NOW: u64 = 1_700_000_000;

// ---- Standard Webhooks: the published vector ------------------------------

fn standard_vector() -> (String, Headers, Vec<u8>, u64) {
    let v = &json("shared-vectors.json")["standard_webhooks"]["vectors"][0];
    let s = |k: &str| v[k].as_str().expect("text").to_string();
    let ts: u64 = s("timestamp").parse().expect("a number");
    let headers = Headers::new()
        .with("webhook-id", s("msg_id"))
        .with("webhook-timestamp", s("timestamp"))
        .with("webhook-signature", s("expected_signature"));
    (s("secret"), headers, s("payload").into_bytes(), ts)
}

#[test]
fn standard_webhooks_published_vector_is_accepted() {
    let (secret, headers, body, ts) = standard_vector();
    let v = verifier(Preset::StandardWebhooks, &[&secret]);
    assert_eq!(check(&v, &headers, &body, at(ts)), Ok(0));
    // Within the window either way.
    assert_eq!(check(&v, &headers, &body, at(ts + 300)), Ok(0));
    assert_eq!(check(&v, &headers, &body, at(ts - 300)), Ok(0));
}

#[test]
fn standard_webhooks_refusals() {
    let (secret, headers, body, ts) = standard_vector();
    let v = verifier(Preset::StandardWebhooks, &[&secret]);
    assert_eq!(
        check(&v, &headers, &body, at(ts + 301)),
        Err(Refusal::Expired { skew_seconds: 301 })
    );
    assert_eq!(
        check(&v, &headers, &body, at(ts - 301)),
        Err(Refusal::Early { skew_seconds: 301 })
    );
    assert_eq!(
        check(&v, &headers, &altered(&body), at(ts)),
        Err(Refusal::Mismatch)
    );
    // The same JSON with other whitespace: other bytes, so not what was signed.
    assert_eq!(
        check(&v, &headers, br#"{"test":2432232314}"#, at(ts)),
        Err(Refusal::Mismatch)
    );
    // One character of the signature changed (the library's own negative vector).
    let forged = json("shared-vectors.json")["standard_webhooks"]["negative_vectors"][0]
        ["webhook-signature"]
        .as_str()
        .expect("text")
        .to_string();
    let h = Headers::new()
        .with("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
        .with("webhook-timestamp", ts.to_string())
        .with("webhook-signature", forged);
    assert_eq!(check(&v, &h, &body, at(ts)), Err(Refusal::Mismatch));
    // A wrong secret of the right form.
    let wrong = verifier(
        Preset::StandardWebhooks,
        &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSX"],
    );
    assert_eq!(
        check(&wrong, &headers, &body, at(ts)),
        Err(Refusal::Mismatch)
    );
    // The id is signed too: another id is another message.
    let mut other_id = Headers::new().with("webhook-id", "msg_other");
    for name in ["webhook-timestamp", "webhook-signature"] {
        other_id.push(name, headers.one(name).unwrap().unwrap().to_vec());
    }
    assert_eq!(check(&v, &other_id, &body, at(ts)), Err(Refusal::Mismatch));
}

#[test]
fn standard_webhooks_multi_signature_header_accepts_any_valid_entry() {
    let (secret, headers, body, ts) = standard_vector();
    let valid = std::str::from_utf8(headers.one("webhook-signature").unwrap().unwrap())
        .unwrap()
        .to_string();
    let neg = &json("shared-vectors.json")["standard_webhooks"]["negative_vectors"][1];
    let multi = neg["webhook-signature"]
        .as_str()
        .unwrap()
        .replace("<valid>", &valid);
    let h = Headers::new()
        .with("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
        .with("webhook-timestamp", ts.to_string())
        .with("webhook-signature", multi);
    let v = verifier(Preset::StandardWebhooks, &[&secret]);
    assert_eq!(check(&v, &h, &body, at(ts)), Ok(0));
}

#[test]
fn empty_secrets_are_refused_when_the_verifier_is_built() {
    for (preset, secret) in [
        (Preset::StandardWebhooks, ""),
        (Preset::StandardWebhooks, "whsec_"),
        (Preset::Stripe, ""),
        (Preset::GitHub, ""),
    ] {
        let err = preset
            .verifier(&PresetConfig {
                secrets: vec![Secret::new(secret)],
                ..PresetConfig::default()
            })
            .expect_err("an empty key proves nothing");
        assert_eq!(err, ConfigError::EmptySecret { index: 0 }, "{preset:?}");
    }
    let none = Preset::Shopify.verifier(&PresetConfig::default());
    assert!(matches!(none, Err(ConfigError::NoSecret)));
    let tabby = Preset::Tabby.verifier(&PresetConfig {
        secrets: vec![Secret::new("s")],
        ..PresetConfig::default()
    });
    assert!(matches!(
        tabby,
        Err(ConfigError::NeedsHeader { preset: "tabby" })
    ));
    // An error message never holds the secret.
    let err = Preset::StandardWebhooks
        .verifier(&PresetConfig {
            secrets: vec![Secret::new("whsec_not*base64*secret")],
            ..PresetConfig::default()
        })
        .expect_err("not base64");
    assert!(!err.to_string().contains("not*base64*secret"), "{err}");
}

// ---- Stripe -----------------------------------------------------------------

fn stripe_vector() -> (String, String, Vec<u8>, u64) {
    let v = &json("computed-vectors.json")["stripe"];
    let s = |k: &str| v[k].as_str().expect("text").to_string();
    (
        s("secret"),
        s("header"),
        s("body").into_bytes(),
        s("timestamp").parse().expect("a number"),
    )
}

#[test]
fn stripe_vector_is_accepted_and_refusals_hold() {
    let (secret, header, body, ts) = stripe_vector();
    let v = verifier(Preset::Stripe, &[&secret]);
    let h = Headers::new().with("Stripe-Signature", header.clone());
    assert_eq!(check(&v, &h, &body, at(ts)), Ok(0));
    assert_eq!(
        check(&v, &h, &body, at(ts + 301)),
        Err(Refusal::Expired { skew_seconds: 301 })
    );
    assert_eq!(
        check(&v, &h, &body, at(ts - 301)),
        Err(Refusal::Early { skew_seconds: 301 })
    );
    assert_eq!(
        check(&v, &h, &altered(&body), at(ts)),
        Err(Refusal::Mismatch)
    );
    let reserialised = serde_json::to_vec_pretty(
        &serde_json::from_slice::<Value>(&body).expect("the vector's body is JSON"),
    )
    .expect("serialises");
    assert_eq!(check(&v, &h, &reserialised, at(ts)), Err(Refusal::Mismatch));
    let wrong = verifier(Preset::Stripe, &["whsec_other"]);
    assert_eq!(check(&wrong, &h, &body, at(ts)), Err(Refusal::Mismatch));
    // The timestamp is signed: moving it breaks the signature.
    let moved = Headers::new().with("Stripe-Signature", header.replace("t=17", "t=18"));
    assert_eq!(check(&v, &moved, &body, at(ts)), Err(Refusal::Mismatch));
    // A secret used as base64 (as Standard Webhooks does) is not Stripe's.
    let decoded_key = verifier(Preset::StandardWebhooks, &["whsec_dGVzdF9zZWNyZXQ="]);
    let sw = Headers::new()
        .with("webhook-id", "evt_1")
        .with("webhook-timestamp", ts.to_string())
        .with("webhook-signature", format!("v1,{}", b64(b"x")));
    assert_eq!(
        check(&decoded_key, &sw, &body, at(ts)),
        Err(Refusal::Mismatch)
    );
}

#[test]
fn stripe_rotation_extra_entries_and_malformed_headers() {
    let (secret, header, body, ts) = stripe_vector();
    // Two secrets during a rotation: the old one still verifies, and says so.
    let v = verifier(Preset::Stripe, &["whsec_new_secret", &secret]);
    let h = Headers::new().with("Stripe-Signature", header.clone());
    assert_eq!(check(&v, &h, &body, at(ts)), Ok(1));
    // Several v1 entries (Stripe sends one per active secret), a v0 entry and
    // an unknown scheme: any v1 may match, the others are ignored.
    let sig = header.split("v1=").nth(1).unwrap();
    let many = format!("t={ts},v1={},v0=abcd,v9=zz,v1={sig}", "00".repeat(32));
    let h = Headers::new().with("Stripe-Signature", many);
    assert_eq!(check(&v, &h, &body, at(ts)), Ok(1));
    for (value, expected) in [
        (format!("t={ts}"), "no signature of the expected version"),
        (format!("v1={sig}"), "Stripe-Signature t"),
        (format!("t={ts},t={ts},v1={sig}"), "more than once"),
        (format!("t=-5,v1={sig}"), "not a whole number"),
        (
            format!("t=99999999999999999999,v1={sig}"),
            "not a whole number",
        ),
        (format!("t={ts},v1=not-hex"), "expected encoding"),
    ] {
        let h = Headers::new().with("Stripe-Signature", value.clone());
        let err = check(&v, &h, &body, at(ts)).expect_err(&value);
        assert!(err.to_string().contains(expected), "{value}: {err}");
    }
    let err = check(&v, &Headers::new(), &body, at(ts)).expect_err("no header");
    assert_eq!(
        err,
        Refusal::Missing {
            carrier: "Stripe-Signature".into()
        }
    );
    assert_eq!(err.reason(), Reason::Signature);
    // The header sent twice is ambiguous.
    let twice = Headers::new()
        .with("Stripe-Signature", header.clone())
        .with("stripe-signature", header);
    assert_eq!(
        check(&v, &twice, &body, at(ts)).map_err(|e| e.reason()),
        Err(Reason::Malformed)
    );
}

/// A sender listing thousands of signatures made tether compute an HMAC
/// over the whole body for each (seconds of CPU per request): a list
/// longer than a provider sends is refused before any MAC, and up to that
/// bound the MAC is computed once per secret.
#[test]
fn a_long_signature_list_is_refused_before_any_mac() {
    let (secret, header, body, ts) = stripe_vector();
    let v = verifier(Preset::Stripe, &[&secret]);
    let sig = header.split("v1=").nth(1).unwrap();
    let list = |entries: usize| {
        let mut value = format!("t={ts}");
        for _ in 1..entries {
            value.push_str(",v1=");
        }
        value.push_str(&format!(",v1={sig}"));
        Headers::new().with("Stripe-Signature", value)
    };
    // Eight entries, the valid one last: accepted.
    assert_eq!(check(&v, &list(8), &body, at(ts)), Ok(0));
    // Nine, even with the valid one among them: refused as malformed.
    let err = check(&v, &list(9), &body, at(ts)).expect_err("nine signatures");
    assert_eq!(err.reason(), Reason::Malformed);
    assert!(
        err.to_string()
            .contains("more signatures than a provider sends"),
        "{err}"
    );
    let err = check(&v, &list(20_000), &body, at(ts)).expect_err("twenty thousand");
    assert_eq!(err.reason(), Reason::Malformed);
}

// ---- Body-only HMAC schemes: GitHub, Shopify, Checkout.com, PayTabs ---------

const PAYMENT_BODY: &[u8] = br#"{"id":"evt_1","type":"payment_approved"}"#;
const PAYMENT_HEX: &str = "287b31c7ba1eaf1a7f67004381b8a8102e9d5247496bbe54c9a75444d02d1269";
const PAYMENT_B64: &str = "KHsxx7oerxp/ZwBDgbioEC6dUkdJa75UyadURNAtEmk=";

#[test]
fn github_documented_example_is_accepted() {
    let v = verifier(Preset::GitHub, &["It's a Secret to Everybody"]);
    let h = Headers::new().with(
        "X-Hub-Signature-256",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
    assert_eq!(check(&v, &h, b"Hello, World!", at(NOW)), Ok(0));
    assert_eq!(
        check(&v, &h, b"Hello, World?", at(NOW)),
        Err(Refusal::Mismatch)
    );
    // Without its prefix the header is not GitHub's form.
    let bare = Headers::new().with(
        "X-Hub-Signature-256",
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
    assert_eq!(
        check(&v, &bare, b"Hello, World!", at(NOW)).map_err(|e| e.reason()),
        Err(Reason::Malformed)
    );
}

#[test]
fn body_hmac_presets_accept_the_vector_and_refuse_forgeries() {
    let cases = [
        (
            Preset::GitHub,
            "X-Hub-Signature-256",
            format!("sha256={PAYMENT_HEX}"),
        ),
        (
            Preset::Shopify,
            "X-Shopify-Hmac-Sha256",
            PAYMENT_B64.to_string(),
        ),
        (
            Preset::CheckoutCom,
            "Cko-Signature",
            PAYMENT_HEX.to_string(),
        ),
        (Preset::PayTabs, "signature", PAYMENT_HEX.to_string()),
    ];
    for (preset, header, value) in cases {
        let v = verifier(preset, &["test_secret"]);
        let h = Headers::new().with(header, value.clone());
        assert_eq!(check(&v, &h, PAYMENT_BODY, at(NOW)), Ok(0), "{preset:?}");
        // Upper-case hex is the same signature.
        let upper = Headers::new().with(header, value.to_uppercase().replace("SHA256=", "sha256="));
        if preset != Preset::Shopify {
            assert_eq!(
                check(&v, &upper, PAYMENT_BODY, at(NOW)),
                Ok(0),
                "{preset:?}"
            );
        }
        assert_eq!(
            check(&v, &h, &altered(PAYMENT_BODY), at(NOW)),
            Err(Refusal::Mismatch),
            "{preset:?}"
        );
        assert_eq!(
            check(
                &v,
                &h,
                br#"{"id": "evt_1", "type": "payment_approved"}"#,
                at(NOW)
            ),
            Err(Refusal::Mismatch),
            "{preset:?} re-serialised"
        );
        let wrong = verifier(preset, &["test_secreT"]);
        assert_eq!(
            check(&wrong, &h, PAYMENT_BODY, at(NOW)),
            Err(Refusal::Mismatch)
        );
        let rotated = verifier(preset, &["new_secret", "test_secret"]);
        assert_eq!(
            check(&rotated, &h, PAYMENT_BODY, at(NOW)),
            Ok(1),
            "{preset:?}"
        );
        // A signature of the wrong length is a mismatch like any other.
        let short = Headers::new().with(header, value[..value.len() - 4].to_string());
        assert!(check(&v, &short, PAYMENT_BODY, at(NOW)).is_err());
    }
}

// ---- HubSpot v3 ---------------------------------------------------------------

#[test]
fn hubspot_v3_vector_with_escapes_in_the_url() {
    let vec = &json("computed-vectors.json")["hubspot_v3"];
    let s = |k: &str| vec[k].as_str().expect("text").to_string();
    let v = verifier(Preset::HubSpotV3, &[&s("secret")]);
    let h = Headers::new()
        .with("X-HubSpot-Signature-v3", s("signature"))
        .with("X-HubSpot-Request-Timestamp", s("timestamp_ms"));
    let body = s("body").into_bytes();
    let ts: u64 = s("timestamp_ms").parse::<u64>().unwrap() / 1000;
    // Received with `%3A`, signed with `:`.
    assert_eq!(check_at(&v, &s("uri_received"), &h, &body, at(ts)), Ok(0));
    assert_eq!(check_at(&v, &s("uri_signed"), &h, &body, at(ts)), Ok(0));
    // Milliseconds: 300 s is the edge (the timestamp has 123 ms past `ts`).
    assert_eq!(
        check_at(&v, &s("uri_received"), &h, &body, at(ts + 300)),
        Ok(0)
    );
    assert_eq!(
        check_at(&v, &s("uri_received"), &h, &body, at(ts + 302)),
        Err(Refusal::Expired { skew_seconds: 301 })
    );
    assert_eq!(
        check_at(&v, &s("uri_received"), &h, &body, at(ts - 301)),
        Err(Refusal::Early { skew_seconds: 301 })
    );
    // Another path or query is another message.
    assert_eq!(
        check_at(&v, "https://hooks.example.com/other", &h, &body, at(ts)),
        Err(Refusal::Mismatch)
    );
    assert_eq!(
        check_at(&v, &s("uri_received"), &h, &altered(&body), at(ts)),
        Err(Refusal::Mismatch)
    );
}

// ---- Telr -----------------------------------------------------------------------

const TELR_FIELDS: [(&str, &str); 14] = [
    ("tran_store", "1234"),
    ("tran_type", "sale"),
    ("tran_class", "ecom"),
    ("tran_test", "1"),
    ("tran_ref", "txn-ref"),
    ("tran_prevref", ""),
    ("tran_firstref", ""),
    ("tran_currency", "AED"),
    ("tran_amount", "10.50"),
    ("tran_cartid", "cart-1"),
    ("tran_desc", "Order 1"),
    ("tran_status", "A"),
    ("tran_authcode", "AUTH"),
    ("tran_authmessage", "Authorised"),
];

fn telr_body(fields: &[(&str, &str)], check_value: &str) -> Vec<u8> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        form.append_pair(k, v);
    }
    form.append_pair("tran_check", check_value);
    form.finish().into_bytes()
}

#[test]
fn telr_vector_and_refusals() {
    let v = verifier(Preset::Telr, &["webhook-secret"]);
    let good = "2752d2b812a5ec52e9bb290f28e1ad744d24a8ef";
    let h = Headers::new();
    assert_eq!(
        check(&v, &h, &telr_body(&TELR_FIELDS, good), at(NOW)),
        Ok(0)
    );
    // Absent fields count as empty: leaving out the empty ones is the same text.
    let present: Vec<_> = TELR_FIELDS
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    assert_eq!(check(&v, &h, &telr_body(&present, good), at(NOW)), Ok(0));
    // A signed field changed.
    let mut changed = TELR_FIELDS;
    changed[8].1 = "1050.00";
    assert_eq!(
        check(&v, &h, &telr_body(&changed, good), at(NOW)),
        Err(Refusal::Mismatch)
    );
    // A signed field given twice: the second could be what a mapping reads.
    let mut twice = TELR_FIELDS.to_vec();
    twice.push(("tran_amount", "1050.00"));
    assert_eq!(
        check(&v, &h, &telr_body(&twice, good), at(NOW)).map_err(|e| e.reason()),
        Err(Reason::Malformed)
    );
    let wrong = verifier(Preset::Telr, &["other-secret"]);
    assert_eq!(
        check(&wrong, &h, &telr_body(&TELR_FIELDS, good), at(NOW)),
        Err(Refusal::Mismatch)
    );
    let mut no_check = form_urlencoded::Serializer::new(String::new());
    no_check.append_pair("tran_ref", "x");
    assert_eq!(
        check(&v, &h, no_check.finish().as_bytes(), at(NOW)),
        Err(Refusal::Missing {
            carrier: "tran_check".into()
        })
    );
    assert_eq!(
        check(&v, &h, b"tran_check=%FF%FE", at(NOW)).map_err(|e| e.reason()),
        Err(Reason::Malformed)
    );
}

// ---- Tamara (JWT) ----------------------------------------------------------------

fn tamara() -> (String, String, u64, u64) {
    let v = &json("computed-vectors.json")["tamara"];
    (
        v["secret"].as_str().unwrap().to_string(),
        v["token"].as_str().unwrap().to_string(),
        v["iat"].as_u64().unwrap(),
        v["exp"].as_u64().unwrap(),
    )
}

#[test]
fn tamara_token_in_the_query_or_the_header() {
    let (secret, token, iat, exp) = tamara();
    let v = verifier(Preset::Tamara, &[&secret]);
    let body = br#"{"order_id":"o-1","event_type":"order_approved"}"#;
    let url = format!("{URL}?tamaraToken={token}");
    let none = Headers::new();
    assert_eq!(check_at(&v, &url, &none, body, at(iat + 10)), Ok(0));
    let bearer = Headers::new().with("Authorization", format!("Bearer {token}"));
    assert_eq!(check(&v, &bearer, body, at(iat + 10)), Ok(0));
    // Both, agreeing.
    assert_eq!(check_at(&v, &url, &bearer, body, at(iat + 10)), Ok(0));
    // Expired beyond the leeway (60 s), issued in the future beyond it.
    assert_eq!(
        check(&v, &bearer, body, at(exp + 61)),
        Err(Refusal::Expired { skew_seconds: 61 })
    );
    assert_eq!(check(&v, &bearer, body, at(exp + 60)), Ok(0));
    assert_eq!(
        check(&v, &bearer, body, at(iat - 61)),
        Err(Refusal::Early { skew_seconds: 61 })
    );
    let wrong = verifier(Preset::Tamara, &["another-token"]);
    assert_eq!(
        check(&wrong, &bearer, body, at(iat + 10)).map_err(|e| e.reason()),
        Err(Reason::Signature)
    );
    assert_eq!(
        check(&v, &none, body, at(iat)),
        Err(Refusal::Missing {
            carrier: "?tamaraToken or Authorization".into()
        })
    );
}

#[test]
fn tamara_refuses_algorithm_confusion_and_tampered_claims() {
    let (secret, token, iat, _) = tamara();
    let v = verifier(Preset::Tamara, &[&secret]);
    let parts: Vec<&str> = token.split('.').collect();
    let b64u = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    // `alg: none` with no signature.
    let none_alg = format!("{}.{}.", b64u(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    // HS512 signed with the right secret: still not the pinned algorithm.
    let h512 = b64u(r#"{"alg":"HS512","typ":"JWT"}"#);
    let mut mac = <Hmac<sha2::Sha512> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{h512}.{}", parts[1]).as_bytes());
    let sig512 =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    let hs512 = format!("{h512}.{}.{sig512}", parts[1]);
    // Claims changed under the old signature.
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64u(r#"{"iat":1700000000,"exp":1900000000,"iss":"Tamara"}"#),
        parts[2]
    );
    // Properly signed, but with a critical extension tether does not know,
    // or time claims that are not numbers.
    let signed = |header: &str, claims: &str| {
        let m = format!("{}.{}", b64u(header), b64u(claims));
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(hmac256(secret.as_bytes(), m.as_bytes()));
        format!("{m}.{sig}")
    };
    let crit = signed(
        r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
        r#"{"iat":1700000000}"#,
    );
    let text_exp = signed(r#"{"alg":"HS256"}"#, r#"{"exp":"1900000000"}"#);
    let fine = signed(r#"{"alg":"HS256"}"#, r#"{"exp":1900000000}"#);
    let h = Headers::new().with("Authorization", format!("Bearer {fine}"));
    assert_eq!(
        check(&v, &h, b"{}", at(iat + 1)),
        Ok(0),
        "the signing helper is right"
    );
    for (name, bad) in [
        ("crit", crit),
        ("text exp", text_exp),
        ("four parts", format!("{token}.x")),
        ("none", none_alg),
        ("hs512", hs512),
        ("tampered", tampered),
        ("garbage", "a.b".to_string()),
    ] {
        let h = Headers::new().with("Authorization", format!("Bearer {bad}"));
        let err = check(&v, &h, b"{}", at(iat + 1)).expect_err(name);
        assert!(matches!(err, Refusal::Token { .. }), "{name}: {err:?}");
    }
    // Two different tokens in the query and the header.
    let url = format!("{URL}?tamaraToken={token}");
    let h = Headers::new().with("Authorization", "Bearer x.y.z");
    assert!(matches!(
        check_at(&v, &url, &h, b"{}", at(iat + 1)),
        Err(Refusal::Token { .. })
    ));
}

// ---- Tabby, N-Genius (shared secret) and Salesforce --------------------------------

#[test]
fn shared_secret_presets() {
    for preset in [Preset::Tabby, Preset::NGenius] {
        let v = verifier(preset, &["s3cret-value"]);
        let good = Headers::new().with("x-webhook-secret", "s3cret-value");
        assert_eq!(check(&v, &good, b"{}", at(NOW)), Ok(0));
        let bad = Headers::new().with("X-Webhook-Secret", "s3cret-valuE");
        assert_eq!(check(&v, &bad, b"{}", at(NOW)), Err(Refusal::Mismatch));
        let prefix = Headers::new().with("X-Webhook-Secret", "s3cret");
        assert_eq!(check(&v, &prefix, b"{}", at(NOW)), Err(Refusal::Mismatch));
        assert_eq!(
            check(&v, &Headers::new(), b"{}", at(NOW)),
            Err(Refusal::Missing {
                carrier: "X-Webhook-Secret".into()
            })
        );
        let rotated = verifier(preset, &["new", "s3cret-value"]);
        assert_eq!(check(&rotated, &good, b"{}", at(NOW)), Ok(1));
        assert!(!preset.signs_body(), "{preset:?} proves only who sent it");
    }
}

fn outbound_message(org: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k5e000000AbCdAAK</ActionId>
   <Notification><Id>04l5e000001XyZaAAK</Id>
    <sObject xsi:type="sf:Contact" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>0035e000001AbCdAAK</sf:Id></sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"#
    )
}

#[test]
fn salesforce_outbound_messages_by_organisation() {
    let v = verifier(Preset::SalesforceOutbound, &[]);
    let h = Headers::new();
    // 18 characters in the message, configured with 18: the first 15 decide.
    assert_eq!(
        check(
            &v,
            &h,
            outbound_message("00D5e000000AbCdEAF").as_bytes(),
            at(NOW)
        ),
        Ok(0)
    );
    assert_eq!(
        check(
            &v,
            &h,
            outbound_message("00D5e000000AbCd").as_bytes(),
            at(NOW)
        ),
        Ok(0)
    );
    // Case matters in the 15: another organisation.
    assert_eq!(
        check(
            &v,
            &h,
            outbound_message("00D5e000000ABCDEAF").as_bytes(),
            at(NOW)
        ),
        Err(Refusal::Organisation)
    );
    assert_eq!(
        check(&v, &h, b"<Envelope><Body/></Envelope>", at(NOW)),
        Err(Refusal::Missing {
            carrier: "OrganizationId".into()
        })
    );
    assert_eq!(
        check(&v, &h, outbound_message("<x/>").as_bytes(), at(NOW)).map_err(|e| e.reason()),
        Err(Reason::Malformed)
    );
    assert_eq!(
        check(&v, &h, b"<a><b></a>", at(NOW)).map_err(|e| e.reason()),
        Err(Reason::Malformed)
    );
    let bad = Preset::SalesforceOutbound.verifier(&PresetConfig {
        organisations: vec!["00D-not-an-id".into()],
        ..PresetConfig::default()
    });
    assert!(matches!(bad, Err(ConfigError::BadOrganisation { .. })));
}

#[test]
fn every_preset_has_a_name_that_reads_back() {
    for p in Preset::ALL {
        assert_eq!(Preset::from_name(p.name()), Some(p));
    }
    assert_eq!(Preset::from_name("Stripe"), None);
}

#[test]
fn refusal_messages_name_no_sender_text() {
    let v = verifier(Preset::Stripe, &["whsec_x"]);
    let hostile = "t=1,v1=\u{1b}[31mred\u{202e}";
    let h = Headers::new().with("Stripe-Signature", hostile);
    let err = check(&v, &h, b"{}", at(NOW)).expect_err("not a signature");
    let text = err.to_string();
    assert!(!text.contains("red") && !text.contains('\u{1b}'), "{text}");
    // Not ASCII at all.
    let h = Headers::new().with("Stripe-Signature", vec![0xff, 0xfe]);
    let err = check(&v, &h, b"{}", at(NOW)).expect_err("not text");
    assert_eq!(err.reason(), Reason::Malformed);
}

// ---- Any request: an answer, never a panic ---------------------------------------------

fn all_verifiers() -> Vec<Verifier> {
    Preset::ALL
        .iter()
        .map(|p| verifier(*p, &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_request_gets_a_verdict(
        names in prop::collection::vec(prop::sample::select(vec![
            "Stripe-Signature", "webhook-id", "webhook-timestamp", "webhook-signature",
            "X-Shopify-Hmac-Sha256", "X-Hub-Signature-256", "X-HubSpot-Signature-v3",
            "X-HubSpot-Request-Timestamp", "Cko-Signature", "signature", "Authorization",
            "X-Webhook-Secret", "x-other",
        ]), 0..6),
        values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 6),
        structured in prop::collection::vec("(t=[0-9]{0,20}|v1=[0-9a-f]{0,70}|v1,[A-Za-z0-9+/=]{0,50}|sha256=[0-9a-f]{0,64}|Bearer [a-zA-Z0-9._-]{0,60})", 6),
        body in prop::collection::vec(any::<u8>(), 0..300),
        url_tail in "[a-zA-Z0-9%?=&:/._-]{0,40}",
        now in 0u64..4_000_000_000,
    ) {
        let mut headers = Headers::new();
        for (i, name) in names.iter().enumerate() {
            if i % 2 == 0 {
                headers.push(name, values[i].clone());
            } else {
                headers.push(name, structured[i].clone().into_bytes());
            }
        }
        let url = format!("{URL}{url_tail}");
        for v in all_verifiers() {
            let delivery = Delivery { method: "POST", url: &url, headers: &headers, body: &body };
            // Whatever the verdict, it is one; a refusal prints.
            if let Err(e) = v.verify(&delivery, at(now)) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// A body signed with the Standard Webhooks key at any time within the
    /// window verifies, and any one-byte change to it does not.
    #[test]
    fn signed_bodies_verify_and_changed_ones_do_not(
        body in prop::collection::vec(any::<u8>(), 1..200),
        flip in any::<prop::sample::Index>(),
        ts in 1_000_000_000u64..3_000_000_000,
        skew in -300i64..=300,
    ) {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let mut message = format!("msg_1.{ts}.").into_bytes();
        message.extend_from_slice(&body);
        let sig = format!("v1,{}", b64(&hmac256(&key, &message)));
        let headers = Headers::new()
            .with("webhook-id", "msg_1")
            .with("webhook-timestamp", ts.to_string())
            .with("webhook-signature", sig);
        let v = verifier(Preset::StandardWebhooks, &[secret]);
        let now = at(ts.saturating_add_signed(skew));
        prop_assert_eq!(check(&v, &headers, &body, now), Ok(0));
        let mut changed = body.clone();
        let i = flip.index(changed.len());
        changed[i] ^= 0x80;
        prop_assert_eq!(check(&v, &headers, &changed, now), Err(Refusal::Mismatch));
        // Hex of the same HMAC is not this scheme's encoding.
        let hexed = Headers::new()
            .with("webhook-id", "msg_1")
            .with("webhook-timestamp", ts.to_string())
            .with("webhook-signature", format!("v1,{}", hex(&hmac256(&key, &message))));
        prop_assert!(check(&v, &hexed, &body, now).is_err());
    }
}
