//! What each webhook preset reads from a payload (issue 20, item 4): the
//! event id, the operation, the version, and the record or the id to read
//! it by. Payloads are in the providers' documented shapes.

use serde_json::{Value, json};
use tether::webhook::Headers;
use tether::webhook::Preset;
use tether::webhook::payload::{Content, Notice, Op, PayloadError};

fn data(file: &str) -> Value {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

/// The notices of one delivery, all readable.
fn notices(preset: Preset, headers: &Headers, body: &[u8]) -> Vec<Notice> {
    let read = preset
        .payload()
        .read(headers, body)
        .expect("a readable body");
    read.notices
        .into_iter()
        .map(|n| n.expect("a readable notice"))
        .collect()
}

fn stripe_event(kind: &str, object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "evt_3MtwBwLkdIwHu7ix28a3tqPa",
        "object": "event",
        "api_version": "2023-08-16",
        "created": 1680064028,
        "type": kind,
        "data": { "object": object },
    }))
    .expect("serialises")
}

#[test]
fn stripe_event_gives_its_object_id_and_created() {
    let charge = data("stripe/examples/charge.json");
    let body = stripe_event("charge.succeeded", charge.clone());
    let [n] = notices(Preset::Stripe, &Headers::new(), &body)
        .try_into()
        .expect("one notice");
    assert_eq!(n.event_id, "evt_3MtwBwLkdIwHu7ix28a3tqPa");
    assert_eq!(n.op, Op::Upsert);
    assert_eq!(n.content, Content::Record(charge));
    assert_eq!(n.version, Some(json!(1680064028)));
    let deleted = stripe_event("customer.deleted", json!({"id": "cus_1", "deleted": true}));
    assert_eq!(
        notices(Preset::Stripe, &Headers::new(), &deleted)[0].op,
        Op::Delete
    );
}

/// `sha256:HEX` of `body`, as a notice of a provider that signs only the
/// body is known by.
fn digest(body: &[u8]) -> String {
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

#[test]
fn shopify_is_known_by_its_body_and_reads_its_topic_from_a_header() {
    let order = data("webhooks/shopify-order.json")["order"].clone();
    let body = serde_json::to_vec(&order).expect("serialises");
    let headers = Headers::new()
        .with(
            "X-Shopify-Webhook-Id",
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        )
        .with("X-Shopify-Topic", "orders/updated");
    let n = &notices(Preset::Shopify, &headers, &body)[0];
    assert_eq!(n.event_id, digest(&body));
    assert_eq!(n.op, Op::Upsert);
    assert_eq!(n.version, order.get("updated_at").cloned());
    assert_eq!(n.content, Content::Record(order));
    let deleted = Headers::new()
        .with("X-Shopify-Webhook-Id", "w2")
        .with("X-Shopify-Topic", "orders/delete");
    let n = &notices(Preset::Shopify, &deleted, br#"{"id":450789469}"#)[0];
    assert_eq!(n.op, Op::Delete);
    // Shopify signs the body only: the same signed body replayed under
    // another id header and another topic is the same notice (a duplicate),
    // not a new delete.
    let replay = Headers::new()
        .with("X-Shopify-Webhook-Id", "forged-id")
        .with("X-Shopify-Topic", "orders/delete");
    let r = &notices(Preset::Shopify, &replay, &body)[0];
    assert_eq!(r.event_id, digest(&body));
}

#[test]
fn hubspot_batch_is_several_notices_each_read_again() {
    let body = serde_json::to_vec(&json!([
        {"eventId": 100, "subscriptionId": 1, "portalId": 62515, "appId": 54321,
         "occurredAt": 1700000000123u64, "subscriptionType": "contact.propertyChange",
         "attemptNumber": 0, "objectId": 123, "propertyName": "email",
         "propertyValue": "ann@example.com", "changeSource": "CRM"},
        {"eventId": 101, "subscriptionId": 2, "portalId": 62515, "appId": 54321,
         "occurredAt": 1700000000456u64, "subscriptionType": "contact.deletion",
         "attemptNumber": 0, "objectId": 124},
        {"eventId": {"not": "an id"}, "objectId": 125, "subscriptionType": "contact.creation"}
    ]))
    .expect("serialises");
    let read = Preset::HubSpotV3
        .payload()
        .read(&Headers::new(), &body)
        .expect("an array");
    assert_eq!(read.notices.len(), 3);
    let first = read.notices[0].as_ref().expect("readable");
    assert_eq!(first.event_id, "100");
    assert_eq!(first.op, Op::Upsert);
    assert_eq!(first.content, Content::Changed { id: "123".into() });
    assert_eq!(first.version, Some(json!(1700000000123u64)));
    let second = read.notices[1].as_ref().expect("readable");
    assert_eq!((second.event_id.as_str(), second.op), ("101", Op::Delete));
    // One bad element is one error; the others are read.
    assert_eq!(
        read.notices[2],
        Err(PayloadError::NotScalar {
            what: "event id",
            at: "eventId".into()
        })
    );
}

#[test]
fn github_ping_is_acknowledged_and_ignored() {
    let ping = Headers::new()
        .with("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
        .with("X-GitHub-Event", "ping");
    let read = Preset::GitHub
        .payload()
        .read(
            &ping,
            br#"{"zen":"Keep it logically awesome.","hook_id":1}"#,
        )
        .expect("JSON");
    assert!(read.notices.is_empty());
    assert_eq!(read.ignored, 1);
    let issue = Headers::new()
        .with("X-GitHub-Delivery", "d1")
        .with("X-GitHub-Event", "issues");
    let n = &notices(
        Preset::GitHub,
        &issue,
        br#"{"action":"deleted","issue":{"id":1}}"#,
    )[0];
    let body = br#"{"action":"deleted","issue":{"id":1}}"#;
    assert_eq!((n.event_id.clone(), n.op), (digest(body), Op::Delete));
    // The delivery header is not signed: another one on the same body is
    // the same notice.
    let replay = Headers::new()
        .with("X-GitHub-Delivery", "d2")
        .with("X-GitHub-Event", "issues");
    assert_eq!(
        notices(Preset::GitHub, &replay, body)[0].event_id,
        digest(body)
    );
}

#[test]
fn telr_form_is_read_again_by_its_transaction() {
    let body = b"tran_store=1234&tran_type=sale&tran_ref=040023456789&tran_amount=10.50&tran_desc=Order+1%2F2&tran_check=abc";
    let n = &notices(Preset::Telr, &Headers::new(), body)[0];
    assert_eq!(n.event_id, "040023456789");
    assert_eq!(
        n.content,
        Content::Changed {
            id: "040023456789".into()
        }
    );
    // A field given twice is ambiguous.
    let twice = b"tran_ref=1&tran_ref=2";
    assert_eq!(
        Preset::Telr.payload().read(&Headers::new(), twice).err(),
        Some(PayloadError::Body("a form with each field once"))
    );
}

#[test]
fn tamara_and_n_genius_ids_join_the_order_and_the_event() {
    let tamara = br#"{"order_id":"b1c2","order_reference_id":"1001","event_type":"order_approved","data":{}}"#;
    let n = &notices(Preset::Tamara, &Headers::new(), tamara)[0];
    assert_eq!(n.event_id, "b1c2:order_approved");
    assert_eq!(n.content, Content::Changed { id: "b1c2".into() });
    let ngenius = br#"{"eventId":"e1","eventName":"CAPTURED","order":{"reference":"ref-9","amount":{"currencyCode":"AED","value":1050}}}"#;
    let n = &notices(Preset::NGenius, &Headers::new(), ngenius)[0];
    assert_eq!(n.event_id, "ref-9:CAPTURED");
    assert_eq!(n.content, Content::Changed { id: "ref-9".into() });
}

#[test]
fn salesforce_notifications_are_each_a_notice() {
    let message = |notifications: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D5e000000AbCdEAF</OrganizationId>
   <ActionId>04k5e000000AbCdAAK</ActionId>
   <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/58.0/00D5e000000AbCd</EnterpriseUrl>
   {notifications}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"#
        )
    };
    let one = |id: &str, contact: &str| {
        format!(
            r#"<Notification><Id>{id}</Id><sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>{contact}</sf:Id><sf:LastName>Norman</sf:LastName></sObject></Notification>"#
        )
    };
    let two = message(&format!(
        "{}{}",
        one("04l5e000001XyZaAAK", "0035e000001AbCdAAK"),
        one("04l5e000001XyZbAAK", "0035e000001AbCeAAK")
    ));
    let read = notices(Preset::SalesforceOutbound, &Headers::new(), two.as_bytes());
    let got: Vec<(String, Content)> = read.into_iter().map(|n| (n.event_id, n.content)).collect();
    assert_eq!(
        got,
        vec![
            (
                "04l5e000001XyZaAAK".to_string(),
                Content::Changed {
                    id: "0035e000001AbCdAAK".into()
                }
            ),
            (
                "04l5e000001XyZbAAK".to_string(),
                Content::Changed {
                    id: "0035e000001AbCeAAK".into()
                }
            ),
        ]
    );
    // A single notification is not an array in XML: still one notice.
    let single = message(&one("04l5e000001XyZaAAK", "0035e000001AbCdAAK"));
    assert_eq!(
        notices(
            Preset::SalesforceOutbound,
            &Headers::new(),
            single.as_bytes()
        )
        .len(),
        1
    );
    assert_eq!(
        Preset::SalesforceOutbound
            .payload()
            .read(&Headers::new(), b"<a><b></a>")
            .err(),
        Some(PayloadError::Body("an XML document"))
    );
    let ack = Preset::SalesforceOutbound
        .acknowledgement()
        .expect("Salesforce needs its answer");
    assert!(ack.contains("<Ack>true</Ack>"));
    assert_eq!(Preset::Stripe.acknowledgement(), None);
}

#[test]
fn bodies_that_are_not_the_format_are_one_error() {
    for preset in [Preset::Stripe, Preset::HubSpotV3, Preset::Tamara] {
        assert_eq!(
            preset.payload().read(&Headers::new(), b"{not json").err(),
            Some(PayloadError::Body("JSON")),
            "{preset:?}"
        );
    }
    // HubSpot's batch must be an array (or one object).
    assert_eq!(
        Preset::HubSpotV3
            .payload()
            .read(&Headers::new(), b"\"text\"")
            .err(),
        Some(PayloadError::NotBatch("(the body)".into()))
    );
    // An event whose record is missing is an error for that event.
    let read = Preset::Stripe
        .payload()
        .read(
            &Headers::new(),
            br#"{"id":"evt_1","type":"charge.succeeded"}"#,
        )
        .expect("JSON");
    assert_eq!(
        read.notices,
        vec![Err(PayloadError::Missing {
            what: "record",
            at: "data.object".into()
        })]
    );
}

#[test]
fn every_preset_that_does_not_sign_its_body_reads_the_record_again() {
    use tether::webhook::payload::RecordAt;
    for preset in Preset::ALL {
        let refetches = matches!(preset.payload().record, RecordAt::Refetch { .. });
        // HubSpot signs its body but sends only ids: read again too.
        if !preset.signs_body() {
            assert!(refetches, "{preset:?} proves only who sent it");
        }
    }
}
