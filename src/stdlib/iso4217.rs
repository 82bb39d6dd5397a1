//! The ISO 4217 currency table, compiled into the binary.
//!
//! `iso4217.tsv` is generated from ISO 4217 List One (published 2026-01-01);
//! a test compares it with the published XML, kept in the repository as
//! `tests/data/currency/list_one.Pblshd-2026-01-01.xml` (origin and license
//! in its SOURCE.md), and `TETHER_BLESS=1` rewrites it. One line per code:
//! `CODE<TAB>NUMERIC<TAB>MINOR-UNITS-or-"-"<TAB>NAME`.

// The type and its table are in `base` (every phase uses a currency); the
// advice about codes (withdrawn ones, suggestions) stays here.
use crate::base::Span;
use crate::base::currency::Currency;
use crate::diag::{Code, Diagnostic, FileId};

mod withdrawn;
pub use withdrawn::{Withdrawn, withdrawn};

/// E0216 for a code written in a mapping or schema: a withdrawn code says
/// when and what replaced it; another gets the nearest codes.
pub fn unknown_currency(file: FileId, span: Span, code: &str) -> Diagnostic {
    if let Some(w) = withdrawn(code) {
        let d = Diagnostic::error(
            Code::E0216,
            file,
            span,
            format!("withdrawn currency `{code}`"),
        )
        .label("no longer an ISO 4217 code")
        .note(w.to_string());
        return match w.replacement() {
            Some(now) => d.help(format!("use `{now}`")),
            None => d,
        };
    }
    Diagnostic::error(
        Code::E0216,
        file,
        span,
        format!("unknown currency `{code}`"),
    )
    .label("not an ISO 4217 code")
    .suggest(&code.to_ascii_uppercase(), Currency::all_codes())
    .note("codes of ISO 4217 List One (2026-01-01); case does not matter")
}

/// Why a value is not a currency, for a rejected record: a withdrawn code
/// says when and what replaced it.
pub fn not_a_currency(code: &str) -> String {
    match withdrawn(code) {
        Some(w) => format!("{code:?} is not an ISO 4217 currency code any more: {w}"),
        None => format!("{code:?} is not an ISO 4217 currency code"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::currency::TABLE_TEXT;
    use quick_xml::Reader;
    use quick_xml::events::Event;
    use std::collections::BTreeMap;

    /// The published list, in the crate (never beside it: a clone of the
    /// repository runs this test alone).
    const LIST_ONE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/currency/list_one.Pblshd-2026-01-01.xml"
    );

    /// The table text as generated from the published list.
    fn table_from_list_one(xml: &str) -> String {
        let mut reader = Reader::from_str(xml);
        let mut rows: BTreeMap<String, (String, String, String)> = BTreeMap::new();
        let (mut name, mut code, mut numeric, mut minor) =
            (String::new(), String::new(), String::new(), String::new());
        let mut current = String::new();
        loop {
            match reader.read_event().expect("well-formed ISO 4217 XML") {
                Event::Start(e) => {
                    current = e.name().as_ref().to_string();
                    if current == "CcyNtry" {
                        (name, code, numeric, minor) =
                            (String::new(), String::new(), String::new(), String::new());
                    }
                }
                Event::Text(t) => {
                    let text = t.xml10_content().trim().to_string();
                    match current.as_str() {
                        "CcyNm" => name = text,
                        "Ccy" => code = text,
                        "CcyNbr" => numeric = text,
                        "CcyMnrUnts" => minor = text,
                        _ => {}
                    }
                }
                Event::End(e) => {
                    if e.name().as_ref() == "CcyNtry" && !code.is_empty() {
                        let minor = if minor == "N.A." {
                            "-".into()
                        } else {
                            minor.clone()
                        };
                        rows.entry(code.clone())
                            .or_insert((numeric.clone(), minor, name.clone()));
                    }
                    current.clear();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        rows.into_iter()
            .map(|(code, (num, minor, name))| format!("{code}\t{num}\t{minor}\t{name}\n"))
            .collect()
    }

    #[test]
    fn iso4217_table_matches_the_published_list() {
        let xml =
            std::fs::read_to_string(LIST_ONE).expect("the ISO 4217 list in tests/data/currency");
        let generated = table_from_list_one(&xml);
        if std::env::var_os("TETHER_BLESS").is_some() {
            let table = concat!(env!("CARGO_MANIFEST_DIR"), "/src/stdlib/iso4217.tsv");
            std::fs::write(table, &generated).expect("write the table");
            return;
        }
        assert!(
            generated == TABLE_TEXT,
            "src/stdlib/iso4217.tsv is stale: run `TETHER_BLESS=1 cargo test iso4217`"
        );
    }

    #[test]
    fn minor_units_of_well_known_currencies() {
        let units = |c: &str| Currency::parse(c).map(Currency::minor_units);
        assert_eq!(units("JPY"), Some(Some(0)));
        assert_eq!(units("aed"), Some(Some(2)));
        for three in ["KWD", "BHD", "OMR", "JOD", "TND"] {
            assert_eq!(units(three), Some(Some(3)), "{three}");
        }
        assert_eq!(units("CLF"), Some(Some(4)));
        assert_eq!(units("XAU"), Some(None));
        assert_eq!(units("XXY"), None);
        // Withdrawn on 2026-01-01.
        assert_eq!(units("BGN"), None);
        assert_eq!(Currency::parse(" usd ").map(Currency::code), Some("USD"));
    }
}
