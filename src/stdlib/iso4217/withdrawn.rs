//! Withdrawn ISO 4217 codes (List Three), so that a code such as `HRK` is
//! refused with when it was withdrawn and what its country uses now, not
//! as a mere typo.
//!
//! `withdrawn.tsv` is generated from `tests/data/currency/withdrawn/
//! codes-all.csv` (List One and List Three in one file); a test compares
//! it with that file and `TETHER_BLESS=1` rewrites it. One line per code
//! that is not in List One any more:
//! `CODE<TAB>WITHDRAWN<TAB>NAME<TAB>ENTITIES<TAB>NOW`, where WITHDRAWN is
//! the latest withdrawal date (`2023-01`, or ISO's `1989 to 1990`),
//! ENTITIES the countries it was withdrawn from on that date (`;`-separated)
//! and NOW the codes List One gives those countries today (space-separated,
//! possibly none: YUGOSLAVIA has no entry any more).

use std::fmt;
use std::sync::LazyLock;

const TABLE_TEXT: &str = include_str!("withdrawn.tsv");

/// A code of List Three that List One no longer has.
#[derive(Debug)]
pub struct Withdrawn {
    pub code: &'static str,
    /// As ISO writes it: `2023-01`, or `1989 to 1990`.
    pub withdrawn: &'static str,
    pub name: &'static str,
    pub entities: Vec<&'static str>,
    /// The codes those entities use now.
    pub now: Vec<&'static str>,
}

static TABLE: LazyLock<Vec<Withdrawn>> = LazyLock::new(|| {
    let list = |text: &'static str, sep: char| -> Vec<&'static str> {
        text.split(sep).filter(|s| !s.is_empty()).collect()
    };
    TABLE_TEXT
        .lines()
        .filter_map(|line| {
            let mut cols = line.split('\t');
            Some(Withdrawn {
                code: cols.next()?,
                withdrawn: cols.next()?,
                name: cols.next()?,
                entities: list(cols.next()?, ';'),
                now: list(cols.next().unwrap_or(""), ' '),
            })
        })
        .collect()
});

/// The withdrawn code `code` (any case, surrounding spaces ignored).
pub fn withdrawn(code: &str) -> Option<&'static Withdrawn> {
    let upper = code.trim().to_ascii_uppercase();
    TABLE
        .binary_search_by(|w| w.code.cmp(upper.as_str()))
        .ok()
        .map(|i| &TABLE[i])
}

impl Withdrawn {
    /// The code to use instead, when its country has exactly one now.
    pub fn replacement(&self) -> Option<&'static str> {
        match self.now.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// `HRK (Kuna) was withdrawn from ISO 4217 in 2023-01; CROATIA now uses EUR`.
impl fmt::Display for Withdrawn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) was withdrawn from ISO 4217 in {}",
            self.code, self.name, self.withdrawn
        )?;
        if !self.now.is_empty() {
            write!(
                f,
                "; {} now {} {}",
                self.entities.join(", "),
                if self.entities.len() == 1 {
                    "uses"
                } else {
                    "use"
                },
                self.now.join(", ")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::Currency;
    use quick_xml::Reader;
    use quick_xml::events::Event;
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::PathBuf;

    fn data(file: &str) -> String {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/currency/withdrawn")
            .join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// One CSV record: fields split on commas, `"..."` quoting with `""`.
    fn csv_fields(line: &str) -> Vec<String> {
        let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut field)),
                (c, _) => field.push(c),
            }
        }
        fields.push(field);
        fields
    }

    struct Row {
        entity: String,
        name: String,
        code: String,
        withdrawn: String,
    }

    fn csv_rows() -> Vec<Row> {
        data("codes-all.csv")
            .lines()
            .skip(1)
            .map(csv_fields)
            .map(|f| Row {
                // `FRENCH  GUIANA`: one space, as elsewhere.
                entity: f[0].split_whitespace().collect::<Vec<_>>().join(" "),
                name: f[1].trim().to_string(),
                code: f[2].trim().to_string(),
                withdrawn: f[5].trim().to_string(),
            })
            .filter(|r| !r.code.is_empty())
            .collect()
    }

    /// `2023-01` → (2023, 1); `1989 to 1990` → (1990, 0): the later year.
    fn date_key(text: &str) -> (u32, u32) {
        let year = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| p.len() == 4)
            .filter_map(|p| p.parse().ok())
            .max()
            .unwrap_or(0);
        let month = text
            .split_once('-')
            .and_then(|(_, m)| m.parse().ok())
            .unwrap_or(0);
        (year, month)
    }

    /// An entity's name without ISO's ` (THE)`.
    fn entity_key(entity: &str) -> String {
        entity.strip_suffix(" (THE)").unwrap_or(entity).to_string()
    }

    fn base_name(key: &str) -> &str {
        key.split(" (").next().unwrap_or(key)
    }

    /// The table text as generated from the published lists.
    fn table_from_codes_all(rows: &[Row]) -> String {
        let current: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.withdrawn.is_empty())
            .map(|r| r.code.as_str())
            .collect();
        let mut now_of: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.withdrawn.is_empty()) {
            now_of
                .entry(entity_key(&r.entity))
                .or_default()
                .insert(&r.code);
        }
        // Lists of different years spell a country differently: `BOLIVIA`
        // then `BOLIVIA (PLURINATIONAL STATE OF)`. The name before the
        // parenthesis is used when exactly one current entity has it (two
        // have `CONGO`).
        let mut by_base: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for key in now_of.keys() {
            by_base.entry(base_name(key)).or_default().push(key);
        }
        let now_of_entity = |entity: &str| {
            let key = entity_key(entity);
            now_of
                .get(&key)
                .or_else(|| match by_base.get(base_name(&key))?.as_slice() {
                    [only] => now_of.get(*only),
                    _ => None,
                })
        };
        // The latest withdrawal of each code no longer current.
        let mut latest: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
        for r in rows.iter().filter(|r| !r.withdrawn.is_empty()) {
            if current.contains(r.code.as_str()) {
                continue;
            }
            let entry = latest.entry(&r.code).or_default();
            match entry.first().map(|f| date_key(&f.withdrawn)) {
                Some(k) if k > date_key(&r.withdrawn) => {}
                Some(k) if k == date_key(&r.withdrawn) => entry.push(r),
                _ => *entry = vec![r],
            }
        }
        latest
            .into_iter()
            .map(|(code, rows)| {
                let entities: BTreeSet<&str> = rows.iter().map(|r| r.entity.as_str()).collect();
                let now: BTreeSet<&str> = entities
                    .iter()
                    .filter_map(|e| now_of_entity(e))
                    .flatten()
                    .copied()
                    .collect();
                format!(
                    "{code}\t{}\t{}\t{}\t{}\n",
                    rows[0].withdrawn,
                    rows[0].name,
                    entities.into_iter().collect::<Vec<_>>().join(";"),
                    now.into_iter().collect::<Vec<_>>().join(" ")
                )
            })
            .collect()
    }

    /// (entity, code, withdrawal date) of every entry of List Three.
    fn list_three_entries(xml: &str) -> BTreeSet<(String, String, String)> {
        let mut reader = Reader::from_str(xml);
        let mut out = BTreeSet::new();
        let (mut entity, mut code, mut date, mut current) =
            (String::new(), String::new(), String::new(), String::new());
        loop {
            match reader.read_event().expect("well-formed List Three XML") {
                Event::Start(e) => current = e.name().as_ref().to_string(),
                Event::Text(t) => {
                    let text = t.xml10_content().trim().to_string();
                    match current.as_str() {
                        "CtryNm" => entity = text.split_whitespace().collect::<Vec<_>>().join(" "),
                        "Ccy" => code = text,
                        "WthdrwlDt" => date = text,
                        _ => {}
                    }
                }
                Event::End(e) => {
                    if e.name().as_ref() == "HstrcCcyNtry" {
                        out.insert((
                            std::mem::take(&mut entity),
                            std::mem::take(&mut code),
                            std::mem::take(&mut date),
                        ));
                    }
                    current.clear();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    #[test]
    fn withdrawn_table_matches_the_published_lists() {
        let rows = csv_rows();
        // The CSV is faithful to the published List Three...
        let in_csv: BTreeSet<(String, String, String)> = rows
            .iter()
            .filter(|r| !r.withdrawn.is_empty())
            .map(|r| (r.entity.clone(), r.code.clone(), r.withdrawn.clone()))
            .collect();
        let list_three = list_three_entries(&data("table_a2.historic.xml"));
        assert!(list_three.len() > 150, "{}", list_three.len());
        let missing: Vec<_> = list_three.difference(&in_csv).collect();
        assert!(
            missing.is_empty(),
            "List Three entries not in the CSV: {missing:?}"
        );
        // ... and its current codes are the compiled List One.
        let current: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.withdrawn.is_empty())
            .map(|r| r.code.as_str())
            .collect();
        let compiled: BTreeSet<&str> = Currency::all_codes().collect();
        assert_eq!(
            current, compiled,
            "codes-all.csv is not List One 2026-01-01"
        );

        let generated = table_from_codes_all(&rows);
        if std::env::var_os("TETHER_BLESS").is_some() {
            std::fs::write("src/stdlib/iso4217/withdrawn.tsv", &generated).expect("write");
            return;
        }
        assert!(
            generated == TABLE_TEXT,
            "src/stdlib/iso4217/withdrawn.tsv is stale: run `TETHER_BLESS=1 cargo test withdrawn`"
        );
    }

    #[test]
    fn withdrawn_codes_say_when_and_what_replaced_them() {
        let said = |c: &str| withdrawn(c).map(ToString::to_string);
        assert_eq!(
            said(" hrk").as_deref(),
            Some("HRK (Kuna) was withdrawn from ISO 4217 in 2023-01; CROATIA now uses EUR")
        );
        assert_eq!(
            withdrawn("BGN").and_then(Withdrawn::replacement),
            Some("EUR")
        );
        assert_eq!(
            withdrawn("CUC").and_then(Withdrawn::replacement),
            Some("CUP")
        );
        // Withdrawn from two countries on the same day.
        let ang = withdrawn("ANG").map(|w| (w.withdrawn, w.entities.len(), w.replacement()));
        assert_eq!(ang, Some(("2025-03", 2, Some("XCG"))));
        // The latest of several withdrawals (RUR left the CIS states first).
        assert_eq!(withdrawn("RUR").map(|w| w.withdrawn), Some("2004-01"));
        // Spelled `RUSSIAN FEDERATION (THE)` in List One.
        assert_eq!(
            withdrawn("RUR").and_then(Withdrawn::replacement),
            Some("RUB")
        );
        // A country that no longer exists has no replacement.
        assert!(withdrawn("YUM").is_some_and(|w| w.now.is_empty()));
        assert!(withdrawn("USD").is_none());
        assert!(withdrawn("XXY").is_none());
    }

    #[test]
    fn no_withdrawn_code_is_current() {
        for w in TABLE.iter() {
            assert!(
                Currency::parse(w.code).is_none(),
                "{} is in List One",
                w.code
            );
            for now in &w.now {
                assert!(Currency::parse(now).is_some(), "{}: {now}", w.code);
            }
        }
        assert!(TABLE.windows(2).all(|p| p[0].code < p[1].code), "sorted");
    }
}
