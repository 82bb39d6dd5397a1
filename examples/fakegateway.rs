//! A fake payment gateway for the README's webhook tour: it sends
//! Stripe-shaped, Stripe-signed events about one charge to a webhook URL
//! (`tether sync --left webhook:stripe --watch`) and prints each answer.
//!
//!     cargo run -q --example fakegateway -- http://127.0.0.1:8080/webhooks/stripe
//!
//! It signs with the first secret of `TETHER_WEBHOOK_STRIPE_SECRET`, the
//! variable tether itself reads, so the two agree without the secret ever
//! being written down; it is never printed. The deliveries show what a
//! real gateway does to an endpoint: the event, the same event again (a
//! retry), an older event arriving late, a forgery, then a refund. The
//! exit code is 1 when an answer is not the one a correct receiver gives.
//!
//! `tests/webhook_tour.rs` runs this very code (it includes this file), so
//! the tour cannot drift from what tether does.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The variable the secret comes from (tether reads the same one).
pub const SECRET_VAR: &str = "TETHER_WEBHOOK_STRIPE_SECRET";

/// Where tether's receiver listens by default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080/webhooks/stripe";

/// How long to wait for a receiver that is still starting.
const STARTUP: Duration = Duration::from_secs(30);

/// One delivery: what the gateway sends and what a correct receiver
/// answers.
pub struct Delivery {
    pub what: &'static str,
    pub body: Vec<u8>,
    /// Signed with tether's secret, or (a forgery) with another one.
    pub forged: bool,
    pub expect: u16,
    /// Waited before sending: the refund comes a few seconds after the
    /// rest, so a `--interval 1` sync has usually merged the charge by
    /// then and the ledger shows an update (one create holding the refund
    /// is as right, when no pass ran in between).
    pub after: Duration,
}

/// A Stripe `event` about charge `ch_tour_1` of USD 20.00.
fn event(id: &str, kind: &str, created: i64, status: &str, refunded: i64) -> Vec<u8> {
    let charge = json!({
        "id": "ch_tour_1", "object": "charge", "amount": 2000,
        "amount_refunded": refunded, "currency": "usd", "created": 1_700_000_000,
        "customer": "cus_tour", "description": "Order 1001", "metadata": {"order": "1001"},
        "payment_method_details": {"card": {"last4": "4242"}}, "status": status
    });
    let event = json!({
        "id": id, "object": "event", "type": kind, "created": created,
        "data": { "object": charge }
    });
    // Serialising a `json!` value cannot fail; an empty body would be
    // answered as unreadable, never silently accepted.
    serde_json::to_vec(&event).unwrap_or_default()
}

/// The tour's deliveries, in the order sent.
pub fn deliveries() -> Vec<Delivery> {
    let succeeded = event(
        "evt_tour_2",
        "charge.succeeded",
        1_700_000_100,
        "succeeded",
        0,
    );
    vec![
        Delivery {
            what: "charge.succeeded evt_tour_2: stored, then synced",
            body: succeeded.clone(),
            forged: false,
            expect: 200,
            after: Duration::ZERO,
        },
        Delivery {
            what: "charge.succeeded evt_tour_2 again (a retry): acknowledged, not applied twice",
            body: succeeded,
            forged: false,
            expect: 200,
            after: Duration::ZERO,
        },
        Delivery {
            what: "charge.updated evt_tour_1, older, arriving late: stored, dropped as stale",
            body: event("evt_tour_1", "charge.updated", 1_700_000_050, "pending", 0),
            forged: false,
            expect: 200,
            after: Duration::ZERO,
        },
        Delivery {
            what: "charge.refunded signed with another secret (forged): refused",
            body: event(
                "evt_tour_666",
                "charge.refunded",
                1_700_000_150,
                "succeeded",
                2000,
            ),
            forged: true,
            expect: 401,
            after: Duration::ZERO,
        },
        Delivery {
            what: "charge.refunded evt_tour_3, 3 s later (USD 5.00 back): stored, then synced",
            body: event(
                "evt_tour_3",
                "charge.refunded",
                1_700_000_200,
                "succeeded",
                500,
            ),
            forged: false,
            expect: 200,
            after: Duration::from_secs(3),
        },
    ]
}

/// Stripe's `Stripe-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256
/// of "t.body">`, signed now, as a real gateway signs each attempt anew.
pub fn stripe_signature(secret: &str, body: &[u8]) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // HMAC takes a key of any length.
    let mut mac = match <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

/// The secret tether verifies with: the first (newest) of the
/// comma-separated list in the environment.
pub fn secret_from_env() -> Result<String, String> {
    let all = std::env::var(SECRET_VAR).map_err(|_| format!("{SECRET_VAR} is not set"))?;
    all.split(',')
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("{SECRET_VAR} is empty"))
}

/// Sends one delivery; the answer's status and body. A receiver that does
/// not answer yet (still starting) is tried again until `STARTUP` passed,
/// as a gateway retries.
pub fn send(url: &str, secret: &str, d: &Delivery) -> Result<(u16, String), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let key = if d.forged {
        "whsec_not_the_endpoint_secret"
    } else {
        secret
    };
    let deadline = Instant::now() + STARTUP;
    loop {
        let sent = agent
            .post(url)
            .header("Stripe-Signature", &stripe_signature(key, &d.body))
            .header("Content-Type", "application/json")
            .send(&d.body[..]);
        match sent {
            Ok(mut r) => {
                let body = r.body_mut().read_to_string().unwrap_or_default();
                return Ok((r.status().as_u16(), body));
            }
            Err(e) if Instant::now() >= deadline => return Err(format!("{url}: {e}")),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Sends every delivery in order; one line per answer, and whether every
/// answer was the expected one.
pub fn run(url: &str, secret: &str) -> Result<(Vec<String>, bool), String> {
    let mut lines = Vec::new();
    let mut all_expected = true;
    for d in deliveries() {
        std::thread::sleep(d.after);
        let (status, body) = send(url, secret, &d)?;
        let mut line = format!("{status} {body:<9} {}", d.what);
        if status != d.expect {
            all_expected = false;
            line.push_str(&format!("  <- expected {}", d.expect));
        }
        lines.push(line);
    }
    Ok((lines, all_expected))
}

#[allow(dead_code)] // the test includes this file and calls `run` itself
fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_URL.to_string());
    let outcome = secret_from_env().and_then(|secret| run(&url, &secret));
    match outcome {
        Ok((lines, all_expected)) => {
            for l in lines {
                println!("{l}");
            }
            if !all_expected {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("fakegateway: {e}");
            std::process::exit(2);
        }
    }
}
