//! What a zone text that is not an IANA name probably meant: an
//! abbreviation (`GST`, `IST`) or an offset (`+04:00`, `UTC+4`).
//!
//! tether takes IANA names only. An abbreviation is ambiguous (`IST` is
//! India, Israel or Ireland) and says nothing about daylight saving time;
//! an offset is one moment's offset, not a place's rules. So these are
//! suggested in the error, never accepted. A few abbreviations *are* IANA
//! names kept for old systems (`EST`, `MST`): they are fixed offsets all
//! year, which is rarely what the writer meant; the checker warns (W0009).

use chrono::{NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;

/// An abbreviation and what it may stand for, most common first: the
/// meaning and the IANA zone to write for it.
struct Abbreviation {
    abbr: &'static str,
    meanings: &'static [(&'static str, &'static str)],
}

const fn abbr(
    abbr: &'static str,
    meanings: &'static [(&'static str, &'static str)],
) -> Abbreviation {
    Abbreviation { abbr, meanings }
}

/// Abbreviations analysts write, sorted by abbreviation. A zone stands for
/// the place whose rules the abbreviation names; where one abbreviation has
/// a version with and without daylight saving (Australian Eastern), both
/// are listed.
static ABBREVIATIONS: &[Abbreviation] = &[
    abbr(
        "ACDT",
        &[("Australian Central Daylight Time", "Australia/Adelaide")],
    ),
    abbr(
        "ACST",
        &[
            (
                "Australian Central Time, South Australia",
                "Australia/Adelaide",
            ),
            (
                "Australian Central Time, Northern Territory (no DST)",
                "Australia/Darwin",
            ),
        ],
    ),
    abbr("ADT", &[("Atlantic Daylight Time", "America/Halifax")]),
    abbr(
        "AEDT",
        &[("Australian Eastern Daylight Time", "Australia/Sydney")],
    ),
    abbr(
        "AEST",
        &[
            (
                "Australian Eastern Time, New South Wales and Victoria",
                "Australia/Sydney",
            ),
            (
                "Australian Eastern Time, Queensland (no DST)",
                "Australia/Brisbane",
            ),
        ],
    ),
    abbr("AKDT", &[("Alaska Daylight Time", "America/Anchorage")]),
    abbr("AKST", &[("Alaska Standard Time", "America/Anchorage")]),
    abbr(
        "ART",
        &[("Argentina Time", "America/Argentina/Buenos_Aires")],
    ),
    abbr(
        "AST",
        &[
            ("Arabia Standard Time", "Asia/Riyadh"),
            ("Atlantic Standard Time", "America/Halifax"),
        ],
    ),
    abbr(
        "AWST",
        &[("Australian Western Standard Time", "Australia/Perth")],
    ),
    abbr("BRT", &[("Brasília Time", "America/Sao_Paulo")]),
    abbr(
        "BST",
        &[
            ("British Summer Time", "Europe/London"),
            ("Bangladesh Standard Time", "Asia/Dhaka"),
        ],
    ),
    abbr("CAT", &[("Central Africa Time", "Africa/Maputo")]),
    abbr(
        "CDT",
        &[("Central Daylight Time (North America)", "America/Chicago")],
    ),
    abbr("CEST", &[("Central European Summer Time", "Europe/Berlin")]),
    abbr("CET", &[("Central European Time", "Europe/Berlin")]),
    abbr(
        "CST",
        &[
            ("Central Standard Time (North America)", "America/Chicago"),
            ("China Standard Time", "Asia/Shanghai"),
            ("Cuba Standard Time", "America/Havana"),
        ],
    ),
    abbr("EAT", &[("East Africa Time", "Africa/Nairobi")]),
    abbr(
        "EDT",
        &[("Eastern Daylight Time (North America)", "America/New_York")],
    ),
    abbr("EEST", &[("Eastern European Summer Time", "Europe/Athens")]),
    abbr("EET", &[("Eastern European Time", "Europe/Athens")]),
    abbr(
        "EST",
        &[("Eastern Time (North America)", "America/New_York")],
    ),
    abbr(
        "GST",
        &[
            ("Gulf Standard Time", "Asia/Dubai"),
            ("South Georgia Time", "Atlantic/South_Georgia"),
        ],
    ),
    abbr("HKT", &[("Hong Kong Time", "Asia/Hong_Kong")]),
    abbr("HST", &[("Hawaii Standard Time", "Pacific/Honolulu")]),
    abbr("ICT", &[("Indochina Time", "Asia/Bangkok")]),
    abbr("IRST", &[("Iran Standard Time", "Asia/Tehran")]),
    abbr(
        "IST",
        &[
            ("India Standard Time", "Asia/Kolkata"),
            ("Israel Standard Time", "Asia/Jerusalem"),
            ("Irish Standard Time", "Europe/Dublin"),
        ],
    ),
    abbr("JST", &[("Japan Standard Time", "Asia/Tokyo")]),
    abbr("KST", &[("Korea Standard Time", "Asia/Seoul")]),
    abbr("MDT", &[("Mountain Daylight Time", "America/Denver")]),
    abbr("MSK", &[("Moscow Time", "Europe/Moscow")]),
    abbr(
        "MST",
        &[
            ("Mountain Time (North America)", "America/Denver"),
            (
                "Mountain Standard Time all year (Arizona)",
                "America/Phoenix",
            ),
        ],
    ),
    abbr("MYT", &[("Malaysia Time", "Asia/Kuala_Lumpur")]),
    abbr("NDT", &[("Newfoundland Daylight Time", "America/St_Johns")]),
    abbr("NPT", &[("Nepal Time", "Asia/Kathmandu")]),
    abbr("NST", &[("Newfoundland Standard Time", "America/St_Johns")]),
    abbr("NZDT", &[("New Zealand Daylight Time", "Pacific/Auckland")]),
    abbr("NZST", &[("New Zealand Standard Time", "Pacific/Auckland")]),
    abbr(
        "PDT",
        &[(
            "Pacific Daylight Time (North America)",
            "America/Los_Angeles",
        )],
    ),
    abbr("PHT", &[("Philippine Time", "Asia/Manila")]),
    abbr("PKT", &[("Pakistan Standard Time", "Asia/Karachi")]),
    abbr(
        "PST",
        &[("Pacific Time (North America)", "America/Los_Angeles")],
    ),
    abbr(
        "SAST",
        &[("South Africa Standard Time", "Africa/Johannesburg")],
    ),
    abbr("SGT", &[("Singapore Time", "Asia/Singapore")]),
    abbr("TRT", &[("Turkey Time", "Europe/Istanbul")]),
    abbr("WAT", &[("West Africa Time", "Africa/Lagos")]),
    abbr("WEST", &[("Western European Summer Time", "Europe/Lisbon")]),
    abbr("WET", &[("Western European Time", "Europe/Lisbon")]),
    abbr("WIB", &[("Western Indonesia Time", "Asia/Jakarta")]),
];

/// A place for each offset that is not whole hours, for the offsets that
/// have no `Etc/GMT±h` zone (a test checks each has that offset in 2026).
static PART_HOUR_PLACES: &[(i32, &str)] = &[
    (-9 * 60 - 30, "Pacific/Marquesas"),
    (-3 * 60 - 30, "America/St_Johns"),
    (3 * 60 + 30, "Asia/Tehran"),
    (4 * 60 + 30, "Asia/Kabul"),
    (5 * 60 + 30, "Asia/Kolkata"),
    (5 * 60 + 45, "Asia/Kathmandu"),
    (6 * 60 + 30, "Asia/Yangon"),
    (8 * 60 + 45, "Australia/Eucla"),
    (9 * 60 + 30, "Australia/Darwin"),
    (10 * 60 + 30, "Australia/Adelaide"),
    (12 * 60 + 45, "Pacific/Chatham"),
];

/// What to tell someone who wrote `text` as a zone: notes and a help line.
#[derive(Debug, Default, PartialEq)]
pub struct ZoneAdvice {
    pub notes: Vec<String>,
    pub help: Option<String>,
}

fn abbreviation(text: &str) -> Option<&'static Abbreviation> {
    let upper = text.trim().to_ascii_uppercase();
    ABBREVIATIONS
        .binary_search_by(|a| a.abbr.cmp(upper.as_str()))
        .ok()
        .map(|i| &ABBREVIATIONS[i])
}

/// Advice for a zone text that is not an IANA name; `None` when it is
/// neither an abbreviation nor an offset (a typo: did-you-mean handles it).
pub fn advice(text: &str) -> Option<ZoneAdvice> {
    if let Some(a) = abbreviation(text) {
        return Some(abbreviation_advice(text, a));
    }
    offset_minutes(text).map(offset_advice)
}

fn abbreviation_advice(text: &str, a: &Abbreviation) -> ZoneAdvice {
    let (first_meaning, first_zone) = a.meanings[0];
    let mut notes = vec![format!(
        "{text:?} is an abbreviation, not a zone: abbreviations are ambiguous and do not say \
         when daylight saving time applies, so tether takes IANA zone names"
    )];
    if a.meanings.len() > 1 {
        let listed: Vec<String> = a
            .meanings
            .iter()
            .map(|(meaning, zone)| format!("{meaning} ({zone:?})"))
            .collect();
        notes.push(format!("{} is ambiguous: {}", a.abbr, listed.join(", ")));
    }
    ZoneAdvice {
        notes,
        help: Some(format!("did you mean {first_zone:?} ({first_meaning})?")),
    }
}

/// `+04:00`, `+0400`, `+4`, `UTC+4`, `GMT-03:30`, `Z`: the offset in
/// minutes east of UTC.
fn offset_minutes(text: &str) -> Option<i32> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let upper = t.to_ascii_uppercase();
    let rest = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
        .unwrap_or(&upper)
        .trim_start();
    // U+2212 MINUS SIGN is what typeset offsets use.
    let (sign, digits) = if let Some(d) = rest.strip_prefix('+') {
        (1, d)
    } else if let Some(d) = rest
        .strip_prefix('-')
        .or_else(|| rest.strip_prefix('\u{2212}'))
    {
        (-1, d)
    } else {
        return None;
    };
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() > 2 => digits.split_at(digits.len() - 2),
        None => (digits, "0"),
    };
    let all_digits =
        |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(hours) || !all_digits(minutes) {
        return None;
    }
    let (h, m): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

fn utc_offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// The IANA name of a fixed offset of whole hours: `Etc/GMT-4` is UTC+04:00
/// (POSIX signs, inverted); the database has them from -12 to +14.
fn etc_zone(minutes: i32) -> Option<String> {
    if minutes == 0 {
        return Some("UTC".into());
    }
    let hours = minutes / 60;
    let name = format!("Etc/GMT{:+}", -hours);
    (minutes % 60 == 0 && name.parse::<Tz>().is_ok()).then_some(name)
}

fn offset_advice(minutes: i32) -> ZoneAdvice {
    let offset = utc_offset_text(minutes);
    let mut notes = vec![format!(
        "an offset is not a zone: {offset} is one moment's offset, while a zone also says when \
         it changes; if the place has daylight saving time, write its zone (\"Europe/Berlin\")"
    )];
    let help = match etc_zone(minutes) {
        Some(utc) if utc == "UTC" => Some("did you mean \"UTC\"?".to_string()),
        Some(etc) => {
            let (hours, way) = match minutes / 60 {
                h if h > 0 => (h, "ahead of"),
                h => (-h, "behind"),
            };
            notes.push(format!(
                "the IANA name of a fixed {offset} is {etc:?}: its sign is inverted (POSIX), \
                 so {etc:?} is {hours} hours {way} UTC"
            ));
            Some(format!("did you mean {etc:?} (a fixed {offset} all year)?"))
        }
        None => {
            notes.push(format!(
                "the IANA database has no fixed-offset zone for {offset}, only places"
            ));
            PART_HOUR_PLACES
                .iter()
                .find(|(m, _)| *m == minutes)
                .map(|(_, zone)| format!("write the zone of the place, such as {zone:?}"))
        }
    };
    ZoneAdvice { notes, help }
}

/// The offsets (seconds east of UTC) of a zone in January and in July
/// 2026: equal for a zone without daylight saving time.
fn winter_and_summer(tz: Tz) -> (i32, i32) {
    let at = |month| {
        NaiveDate::from_ymd_opt(2026, month, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .map_or(0, |t| {
                tz.offset_from_utc_datetime(&t).fix().local_minus_utc()
            })
    };
    (at(1), at(7))
}

/// A warning for an IANA name that is also an abbreviation and, unlike what
/// the abbreviation usually means, has no daylight saving time: `EST` is
/// UTC-05:00 all year, New York's time is not.
pub fn fixed_abbreviation(name: &str, tz: Tz) -> Option<(String, ZoneAdvice)> {
    let a = abbreviation(name)?;
    let (winter, summer) = winter_and_summer(tz);
    if winter != summer {
        return None;
    }
    let (meaning, zone) = a.meanings.iter().find(|(_, zone)| {
        zone.parse::<Tz>()
            .is_ok_and(|z| winter_and_summer(z).0 != winter_and_summer(z).1)
    })?;
    let message = format!(
        "{name:?} is a fixed {} all year, without daylight saving time",
        utc_offset_text(winter / 60)
    );
    let advice = ZoneAdvice {
        notes: vec![format!(
            "the IANA database keeps {name:?} for old systems; {meaning} changes with daylight \
             saving time"
        )],
        help: Some(format!("for {meaning}, write {zone:?}")),
    };
    Some((message, advice))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suggested_zone_is_an_iana_zone_and_the_table_is_sorted() {
        for a in ABBREVIATIONS {
            assert!(!a.meanings.is_empty(), "{}", a.abbr);
            for (_, zone) in a.meanings {
                assert!(zone.parse::<Tz>().is_ok(), "{}: {zone}", a.abbr);
            }
        }
        assert!(ABBREVIATIONS.windows(2).all(|p| p[0].abbr < p[1].abbr));
        for (minutes, zone) in PART_HOUR_PLACES {
            let tz: Tz = zone.parse().expect("a zone");
            let (w, s) = winter_and_summer(tz);
            assert!(w == minutes * 60 || s == minutes * 60, "{zone}: {w} {s}");
        }
    }

    #[test]
    fn abbreviations_suggest_zones_and_say_when_they_are_ambiguous() {
        let gst = advice("GST").expect("GST");
        assert_eq!(
            gst.help.as_deref(),
            Some("did you mean \"Asia/Dubai\" (Gulf Standard Time)?")
        );
        let ist = advice("ist").expect("IST");
        assert!(
            ist.notes[1]
                .starts_with("IST is ambiguous: India Standard Time (\"Asia/Kolkata\"), Israel"),
            "{:?}",
            ist.notes
        );
        assert!(advice("Asia/Dubia").is_none());
    }

    #[test]
    fn offsets_suggest_the_fixed_zone_with_its_inverted_sign() {
        for text in ["+04:00", "+0400", "+4", "UTC+4", "gmt+04:00", " UTC +04 "] {
            assert_eq!(offset_minutes(text), Some(240), "{text}");
        }
        assert_eq!(offset_minutes("-03:30"), Some(-210));
        assert_eq!(offset_minutes("Z"), Some(0));
        for not_offset in ["+", "4", "+25", "+04:60", "+4:5:6", "UTC", "EST5EDT"] {
            assert_eq!(offset_minutes(not_offset), None, "{not_offset}");
        }
        let help = |t: &str| advice(t).and_then(|a| a.help);
        assert_eq!(
            help("+04:00").as_deref(),
            Some("did you mean \"Etc/GMT-4\" (a fixed UTC+04:00 all year)?")
        );
        assert_eq!(
            help("UTC-5").as_deref(),
            Some("did you mean \"Etc/GMT+5\" (a fixed UTC-05:00 all year)?")
        );
        assert_eq!(help("+00:00").as_deref(), Some("did you mean \"UTC\"?"));
        let notes = advice("UTC-5").map(|a| a.notes).unwrap_or_default();
        assert!(
            notes[1].ends_with("so \"Etc/GMT+5\" is 5 hours behind UTC"),
            "{notes:?}"
        );
        assert_eq!(
            help("+05:30").as_deref(),
            Some("write the zone of the place, such as \"Asia/Kolkata\"")
        );
        // Etc/GMT-14 exists, Etc/GMT+13 does not.
        assert!(etc_zone(14 * 60).is_some() && etc_zone(-13 * 60).is_none());
    }

    #[test]
    fn iana_abbreviations_without_daylight_saving_are_flagged() {
        let check = |name: &str| fixed_abbreviation(name, name.parse().expect("IANA")).map(|w| w.0);
        assert_eq!(
            check("EST").as_deref(),
            Some("\"EST\" is a fixed UTC-05:00 all year, without daylight saving time")
        );
        assert!(check("MST").is_some());
        // Hawaii has no DST; CET is Europe/Brussels, with DST.
        assert!(check("HST").is_none());
        assert!(check("CET").is_none());
        assert!(check("Asia/Dubai").is_none());
    }
}
