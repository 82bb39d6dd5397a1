//! The HubSpot ↔ Salesforce contact contract (issue 5), run as an analyst
//! runs it: forward, reverse, and reverse into existing records (`--base`).
//! Expectations are written by hand from the contract's table.

mod common;

use common::{temp, tether};

const MAPPING: &str = "mappings/crm/hubspot_salesforce.tether";
const HUBSPOT: &str = "mappings/crm/hubspot_contacts.ndjson";
const SALESFORCE: &str = "mappings/crm/salesforce_contacts.ndjson";

fn run(args: &[&str]) -> (Option<i32>, Vec<String>, String) {
    let mut all = vec!["run", MAPPING, "--mapping", "contact"];
    all.extend(args);
    let (code, out, err) = tether(&all);
    (code, out.lines().map(str::to_string).collect(), err)
}

#[test]
fn forward_hubspot_to_salesforce() {
    let rejects = temp("crm", "forward.rejects", "");
    let (code, lines, _) = run(&["--input", HUBSPOT, "--rejects", &rejects]);
    assert_eq!(code, Some(3), "one record has revenue that is not a number");
    assert_eq!(
        lines,
        [
            // Email trimmed and lower-cased; revenue an exact JSON number;
            // createdAt in UTC in Salesforce's form; keys in contract order.
            r#"{"HubSpot_Id__c":"51","Email":"bcooper@biglytics.net","FirstName":"Bryan","LastName":"Cooper","Phone":"(877) 929-0687","Status__c":"Working - Contacted","Annual_Revenue__c":1500000.50,"HubSpot_Created__c":"2019-10-30T03:30:17.883+0000"}"#,
            // null email stays null; null last name is "Unknown";
            // evangelist → Closed - Converted; +04:00 converted to UTC.
            r#"{"HubSpot_Id__c":"52","Email":null,"FirstName":"Layla","LastName":"Unknown","Status__c":"Closed - Converted","Annual_Revenue__c":0.10,"HubSpot_Created__c":"2024-03-01T04:00:00.000+0000"}"#,
            // blank last name is "Unknown"; other → Working - Contacted.
            r#"{"HubSpot_Id__c":"53","Email":"ops@globex.ae","LastName":"Unknown","Status__c":"Working - Contacted","HubSpot_Created__c":"2024-06-30T23:59:59.000+0000"}"#,
            // missing fields are omitted, never invented.
            r#"{"HubSpot_Id__c":"54","FirstName":"Omar","LastName":"Haddad","Status__c":"Closed - Converted","Annual_Revenue__c":25000}"#,
        ]
    );
    let rejected = std::fs::read_to_string(&rejects).expect("rejects");
    assert!(rejected.contains(r#""key":"55""#), "{rejected}");
    assert!(
        rejected.contains(r#""path":"properties.annualrevenue""#),
        "{rejected}"
    );
}

#[test]
fn reverse_salesforce_to_hubspot() {
    let (code, lines, _) = run(&["--reverse", "--input", SALESFORCE]);
    assert_eq!(code, Some(3), "a status outside the schema is rejected");
    assert_eq!(
        lines,
        [
            // email as is; revenue a decimal string exactly ("1500000.5");
            // Qualified → salesqualifiedlead; keys in HubSpot's order.
            r#"{"id":"51","properties":{"email":"bcooper@biglytics.net","firstname":"Bryan","lastname":"Cooper","phone":"(877) 929-0687","lifecyclestage":"salesqualifiedlead","annualrevenue":"1500000.5"}}"#,
            // Closed - Not Converted → other (one way); 0.10 keeps its zero.
            r#"{"id":"52","properties":{"email":null,"firstname":"Layla","lastname":"Unknown","lifecyclestage":"other","annualrevenue":"0.10"}}"#,
            r#"{"id":"53","properties":{"lastname":"Haddad","lifecyclestage":"customer"}}"#,
        ]
    );
}

#[test]
fn reverse_into_existing_records_keeps_what_the_mapping_does_not_cover() {
    let (code, lines, _) = run(&["--reverse", "--input", SALESFORCE, "--base", HUBSPOT]);
    assert_eq!(code, Some(3));
    assert_eq!(
        lines,
        [
            // createdate, lastmodifieddate, hs_object_id, createdAt,
            // updatedAt, archived: kept from the HubSpot record.
            r#"{"id":"51","properties":{"email":"bcooper@biglytics.net","firstname":"Bryan","lastname":"Cooper","phone":"(877) 929-0687","lifecyclestage":"salesqualifiedlead","annualrevenue":"1500000.5","createdate":"2019-10-30T03:30:17.883Z","lastmodifieddate":"2019-12-07T16:50:06.678Z","hs_object_id":"51"},"createdAt":"2019-10-30T03:30:17.883Z","updatedAt":"2019-12-07T16:50:06.678Z","archived":false}"#,
            r#"{"id":"52","properties":{"email":null,"firstname":"Layla","lastname":"Unknown","lifecyclestage":"other","annualrevenue":"0.10"},"createdAt":"2024-03-01T08:00:00+04:00","updatedAt":"2024-03-02T08:00:00Z","archived":false}"#,
            // Salesforce has no Email: HubSpot's is kept, not erased.
            r#"{"id":"53","properties":{"email":"ops@globex.ae","lastname":"Haddad","lifecyclestage":"customer"},"createdAt":"2024-06-30T23:59:59Z","archived":false}"#,
        ]
    );
}

#[test]
fn a_record_without_a_base_record_is_written_as_it_is() {
    let base = temp("crm", "one_base.ndjson", r#"{"id":"999","archived":true}"#);
    let input = temp(
        "crm",
        "one.ndjson",
        r#"{"HubSpot_Id__c":"51","LastName":"Cooper"}"#,
    );
    let (code, lines, err) = run(&["--reverse", "--input", &input, "--base", &base]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(lines, [r#"{"id":"51","properties":{"lastname":"Cooper"}}"#]);
}

#[test]
fn base_records_must_be_matchable() {
    let dup = temp("crm", "dup_base.ndjson", "{\"id\":\"1\"}\n{\"id\":\"1\"}\n");
    let (code, _, err) = run(&["--reverse", "--input", SALESFORCE, "--base", &dup]);
    assert_eq!(code, Some(2));
    assert!(err.contains("two base records have the key \"1\""), "{err}");
    let keyless = temp("crm", "keyless_base.ndjson", "{\"properties\":{}}\n");
    let (code, _, err) = run(&["--reverse", "--input", SALESFORCE, "--base", &keyless]);
    assert_eq!(code, Some(2));
    assert!(err.contains("has no key `id`"), "{err}");
}

#[test]
fn the_contract_tests_pass_and_lower_on_a_two_way_rule_fails_to_compile() {
    let (code, out, err) = tether(&["test", MAPPING]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(", 0 failed"), "{out}");

    let lossy = std::fs::read_to_string(MAPPING).expect("mapping").replace(
        "properties.email -> Email : trim | lower\n  properties.email <- Email",
        "properties.email <-> Email : trim | lower",
    );
    let path = temp("crm", "lossy.tether", &lossy);
    for f in ["hubspot.tschema", "salesforce.tschema"] {
        let text = std::fs::read_to_string(format!("mappings/crm/{f}")).expect("schema");
        temp("crm", f, &text);
    }
    let (code, _, err) = tether(&["check", &path]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error[E0222]: `lower` cannot be undone"),
        "{err}"
    );
    assert!(err.contains("add `properties.email <- Email`"), "{err}");
}

#[test]
fn the_table_must_cover_both_enums_both_ways() {
    for f in ["hubspot.tschema", "salesforce.tschema"] {
        let text = std::fs::read_to_string(format!("mappings/crm/{f}")).expect("schema");
        temp("crm", f, &text);
    }
    let mapping = std::fs::read_to_string(MAPPING).expect("mapping");
    // Without its way back, `Closed - Not Converted` has no HubSpot stage.
    let reverse_gap = mapping.replace(
        "\"other\"                  <-  \"Closed - Not Converted\"\n",
        "",
    );
    let path = temp("crm", "reverse_gap.tether", &reverse_gap);
    let (code, _, err) = tether(&["check", &path]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("E0207") && err.contains("\"Closed - Not Converted\""),
        "{err}"
    );
    // Without `evangelist`, the forward direction is not exhaustive.
    let forward_gap = mapping.replace(
        "\"evangelist\"             ->  \"Closed - Converted\"\n",
        "",
    );
    let path = temp("crm", "forward_gap.tether", &forward_gap);
    let (code, _, err) = tether(&["check", &path]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("E0207") && err.contains("\"evangelist\""),
        "{err}"
    );
}

/// Issue 15: Salesforce requires `LastName` to *write* a contact; a record
/// *read* from Salesforce (a query that did not select it, a partial
/// webhook) may lack it. HubSpot's `lastname` is optional, so the reverse
/// run leaves it out instead of rejecting the record.
#[test]
fn reverse_omits_lastname_for_a_salesforce_record_without_lastname() {
    let input = temp(
        "crm",
        "no_lastname.ndjson",
        "{\"HubSpot_Id__c\":\"70\",\"FirstName\":\"Ann\"}\n{\"HubSpot_Id__c\":\"71\",\"LastName\":\"Ng\"}\n",
    );
    let (code, lines, err) = run(&["--reverse", "--input", &input]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        lines,
        [
            r#"{"id":"70","properties":{"firstname":"Ann"}}"#,
            r#"{"id":"71","properties":{"lastname":"Ng"}}"#,
        ]
    );
}

/// A Salesforce contact without `HubSpot_Id__c` is one made in Salesforce
/// (issue 19, "records born on the other side"): it maps to a HubSpot
/// contact without an `id`, a contact to create; HubSpot gives it one, and
/// `tether sync` writes it back (tests/rest_born.rs). Before, it was
/// rejected (E1002 at `HubSpot_Id__c`).
#[test]
fn reverse_maps_a_salesforce_record_without_the_key_to_a_contact_to_create() {
    let input = temp("crm", "no_key.ndjson", "{\"LastName\":\"Ng\"}\n");
    let (code, lines, err) = run(&["--reverse", "--input", &input]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(lines, [r#"{"properties":{"lastname":"Ng"}}"#]);
}

/// Salesforce sets `LastModifiedDate` itself: the schema says `readonly`,
/// so a rule writing it does not compile, and leaving it unmapped is no
/// warning.
#[test]
fn salesforce_system_fields_are_read_only() {
    for f in ["hubspot.tschema", "salesforce.tschema"] {
        let text = std::fs::read_to_string(format!("mappings/crm/{f}")).expect("schema");
        temp("crm", f, &text);
    }
    let (code, _, err) = tether(&["check", MAPPING]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("LastModifiedDate"), "{err}");
    let mapping = std::fs::read_to_string(MAPPING).expect("mapping").replace(
        "  properties.phone          <-> Phone\n",
        "  properties.phone          <-> Phone\n  updatedAt -> LastModifiedDate\n",
    );
    let path = temp("crm", "writes_read_only.tether", &mapping);
    let (code, _, err) = tether(&["check", &path]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error[E0224]: `LastModifiedDate` is read-only"),
        "{err}"
    );
}
