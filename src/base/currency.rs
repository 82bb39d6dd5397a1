//! Currencies: the ISO 4217 table (List One, `src/stdlib/iso4217.tsv`,
//! compiled in) and `Currency`, an index into it. The diagnostics about
//! codes that are not in it (withdrawn codes, suggestions) are in
//! `stdlib::iso4217`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::LazyLock;

/// The table, generated from ISO 4217 List One; `stdlib::iso4217`'s test
/// compares it with the published list and rewrites it (`TETHER_BLESS=1`).
pub(crate) const TABLE_TEXT: &str = include_str!("../stdlib/iso4217.tsv");

pub struct CurrencyInfo {
    pub code: &'static str,
    pub numeric: &'static str,
    /// Decimal places of the minor unit; `None` for funds and metals that
    /// have none ("N.A." in the list: XAU, XDR, ...).
    pub minor_units: Option<u32>,
    pub name: &'static str,
}

static TABLE: LazyLock<Vec<CurrencyInfo>> = LazyLock::new(|| {
    TABLE_TEXT
        .lines()
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let code = cols.next()?;
            let numeric = cols.next()?;
            let minor_units = cols.next()?.parse().ok();
            let name = cols.next()?;
            Some(CurrencyInfo {
                code,
                numeric,
                minor_units,
                name,
            })
        })
        .collect()
});

/// A currency of the table: a small index, cheap to copy and compare.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(u16);

impl Currency {
    /// Looks a code up, ignoring case and surrounding spaces (`" usd"`).
    pub fn parse(code: &str) -> Option<Currency> {
        // Upper-cased on the stack: a record's currency (Stripe's `usd`)
        // is looked up per record, so no allocation here.
        let &[a, b, c] = code.trim().as_bytes() else {
            return None;
        };
        let upper = [
            a.to_ascii_uppercase(),
            b.to_ascii_uppercase(),
            c.to_ascii_uppercase(),
        ];
        let upper = std::str::from_utf8(&upper).ok()?;
        TABLE
            .binary_search_by(|c| c.code.cmp(upper))
            .ok()
            .and_then(|i| u16::try_from(i).ok())
            .map(Currency)
    }

    pub fn info(self) -> &'static CurrencyInfo {
        &TABLE[usize::from(self.0)]
    }

    pub fn code(self) -> &'static str {
        self.info().code
    }

    pub fn minor_units(self) -> Option<u32> {
        self.info().minor_units
    }

    /// Every code, for "did you mean" suggestions.
    pub fn all_codes() -> impl Iterator<Item = &'static str> {
        TABLE.iter().map(|c| c.code)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Currency, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown currency `{code}`")))
    }
}
