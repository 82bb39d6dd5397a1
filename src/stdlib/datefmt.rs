//! Date and time formats: the named formats, and patterns in the LDML
//! letters analysts know from Java, Excel and Salesforce (`dd/MM/yyyy HH:mm`).
//!
//! A constant format is parsed at check time (errors carry the byte offset
//! of the offending letter) and once more when the plan is built, into the
//! call's prepared argument (`Prepared::Format`), so no record parses it; a
//! format read from a field is parsed per record.
//! Parsing values is strict: every character must be consumed, fields are
//! validated by chrono, nothing rolls over (`31/02/2024` is an error).
//!
//! Why one file of about 1600 lines: one format language: the named
//! formats, the LDML pattern compiler, strict reading and writing, and the
//! advice on confused letters share the pattern's token type and its field
//! rules; apart, each part would need the others' internals.

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Timelike,
    Utc,
};
use std::fmt::Write as _;

/// What a format reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    DateTime,
    LocalDateTime,
    Date,
    Time,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::DateTime => "date-time with an offset",
            Target::LocalDateTime => "local date-time",
            Target::Date => "date",
            Target::Time => "time",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    /// ISO 8601 profile of RFC 3339; also `rfc3339`.
    Iso8601,
    Rfc3339Seconds,
    Rfc3339Millis,
    Rfc2822,
    EpochSeconds,
    EpochMillis,
    /// Microsoft JSON: `/Date(1333645844276-0600)/`.
    MsJson,
    /// XML Schema `xs:dateTime`, `xs:date`, `xs:time`.
    Xsd,
}

pub const NAMED: &[(&str, Named)] = &[
    ("iso8601", Named::Iso8601),
    ("rfc3339", Named::Iso8601),
    ("rfc3339_seconds", Named::Rfc3339Seconds),
    ("rfc3339_millis", Named::Rfc3339Millis),
    ("rfc2822", Named::Rfc2822),
    ("epoch_seconds", Named::EpochSeconds),
    ("epoch_millis", Named::EpochMillis),
    ("msjson", Named::MsJson),
    ("xsd", Named::Xsd),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Use {
    Read,
    Write,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Format {
    Named(Named),
    Pattern(Pattern),
}

/// A format text that is not valid, with the byte offset of the fault and
/// what it probably meant.
#[derive(Clone, Debug, PartialEq)]
pub struct FormatError {
    pub offset: usize,
    pub message: String,
    /// Why the text is probably a mistake: "`mm` is the minute".
    pub notes: Vec<String>,
    /// The format meant: `did you mean "iso8601"?`.
    pub help: Option<String>,
}

impl FormatError {
    fn new(offset: usize, message: String) -> FormatError {
        FormatError {
            offset,
            message,
            notes: Vec::new(),
            help: None,
        }
    }
}

impl Format {
    /// Reads a named format or a pattern, and checks that it can read a
    /// `target` value from text.
    pub fn parse(text: &str, target: Target) -> Result<Format, FormatError> {
        Format::parse_for(text, target, Use::Read)
    }

    /// Like [`Format::parse`], for writing a `target` value: a pattern may
    /// leave fields out (a date-time written as `dd/MM/yyyy`), but may not
    /// ask for fields the value does not have (a time of a date).
    pub fn parse_writer(text: &str, target: Target) -> Result<Format, FormatError> {
        Format::parse_for(text, target, Use::Write)
    }

    fn parse_for(text: &str, target: Target, usage: Use) -> Result<Format, FormatError> {
        let lower = text.to_ascii_lowercase();
        if let Some((_, named)) = NAMED.iter().find(|(n, _)| *n == lower) {
            let ok = match named {
                Named::Iso8601 | Named::Xsd => true,
                Named::Rfc3339Seconds
                | Named::Rfc3339Millis
                | Named::Rfc2822
                | Named::EpochSeconds
                | Named::EpochMillis
                | Named::MsJson => target == Target::DateTime,
            };
            if !ok {
                return Err(FormatError::new(
                    0,
                    format!(
                        "the format `{lower}` is for date-times with an offset, not a {}",
                        target.name()
                    ),
                ));
            }
            return Ok(Format::Named(*named));
        }
        let names = named_suggestions(text);
        let not_a_name = || {
            let mut e = FormatError::new(
                0,
                format!(
                    "`{text}` is neither a named format ({}) nor a pattern",
                    NAMED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            );
            e.help = did_you_mean_text(&names);
            e
        };
        if !text.chars().any(|c| c.is_ascii_alphabetic()) || lower.contains('_') {
            return Err(not_a_name());
        }
        Pattern::parse(text, target, usage)
            .map(Format::Pattern)
            .map_err(|e| {
                // A word near a name (`iso`, `rfc`, `ISO-8601`) was meant
                // as a name, not as pattern letters.
                if !names.is_empty() {
                    return not_a_name();
                }
                match pattern_advice(text, target, usage) {
                    Some(advice) => FormatError {
                        notes: advice.notes,
                        help: advice.meant.map(|m| format!("did you mean {m:?}?")),
                        ..e
                    },
                    None => e,
                }
            })
    }

    /// Fields of a `target` value this format does not keep (empty for the
    /// named formats): what a `<->` rule would lose.
    pub fn dropped_fields(&self, target: Target) -> Vec<&'static str> {
        match self {
            Format::Named(_) => Vec::new(),
            Format::Pattern(p) => p.dropped(target),
        }
    }
}

// ------------------------------------------------------------------ advice

/// The named formats `text` may have meant: the same name in other case or
/// separators (`ISO-8601`, `epochMillis`), the names it begins (`iso` →
/// `iso8601`; `rfc` → the four RFC formats), or a close typo.
fn named_suggestions(text: &str) -> Vec<&'static str> {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let wanted = squash(text);
    if wanted.len() < 2 {
        return Vec::new();
    }
    let names = || NAMED.iter().map(|(n, _)| *n);
    let same: Vec<&str> = names().filter(|n| squash(n) == wanted).collect();
    if !same.is_empty() {
        return same;
    }
    let begun: Vec<&str> = names().filter(|n| squash(n).starts_with(&wanted)).collect();
    if !begun.is_empty() {
        return begun;
    }
    crate::diag::did_you_mean(text, names())
        .into_iter()
        .collect()
}

fn did_you_mean_text(names: &[&str]) -> Option<String> {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    match quoted.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean {one}?")),
        many => Some(format!("did you mean one of {}?", many.join(", "))),
    }
}

/// Why a pattern is probably not what was meant, and the pattern that was,
/// when that one is valid for the same use.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternAdvice {
    pub notes: Vec<String>,
    pub meant: Option<String>,
}

/// Letters of date fields and of time fields, to tell where a run sits.
const DATE_LETTERS: &[char] = &['y', 'd', 'E'];
const TIME_LETTERS: &[char] = &['H', 'h', 's', 'S', 'a'];

/// The common confusions of LDML letters, in a pattern valid or not: `mm`
/// (minute) among date fields, `MM` (month) among time fields, `D` (day of
/// the year), `Y` (week-based year), `SS` (fraction) where seconds belong,
/// `ss.sss`, `hh` (12-hour) without `a`.
fn pattern_advice(text: &str, target: Target, usage: Use) -> Option<PatternAdvice> {
    let runs: Vec<(char, usize, usize)> = lex(text)
        .ok()?
        .into_iter()
        .filter_map(|t| match t {
            Token::Letters { letter, width, at } => Some((letter, width, at)),
            Token::Literal(_) => None,
        })
        .collect();
    let has = |l: char| runs.iter().any(|r| r.0 == l);
    let mut notes = Vec::new();
    // (byte offset, width, replacement letter, replacement width)
    let mut fixes: Vec<(usize, usize, char, usize)> = Vec::new();
    for (i, &(letter, width, at)) in runs.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| runs[p].0);
        let next = runs.get(i + 1).map(|r| r.0);
        let near = |set: &[char]| [prev, next].iter().flatten().any(|l| set.contains(l));
        let run = letter.to_string().repeat(width);
        let (fix, note) = match letter {
            'm' if near(DATE_LETTERS) && !near(TIME_LETTERS) => (
                ('M', width),
                format!(
                    "`{run}` is the minute; the month is `{}`",
                    "M".repeat(width)
                ),
            ),
            'M' if near(TIME_LETTERS) && !near(DATE_LETTERS) => (
                ('m', width.min(2)),
                format!(
                    "`{run}` is the month; the minute is `{}`",
                    "m".repeat(width.min(2))
                ),
            ),
            'D' => (
                ('d', width.min(2)),
                format!(
                    "`{run}` is the day of the year; the day of the month is `{}`",
                    "d".repeat(width.min(2))
                ),
            ),
            'Y' => (
                ('y', width),
                format!(
                    "`{run}` is the week-based year, which differs from the calendar year in the days around New Year; the year is `{}`",
                    "y".repeat(width)
                ),
            ),
            'S' if prev == Some('m') && !has('s') => (
                ('s', width.min(2)),
                format!(
                    "`{run}` is a fraction of a second; the second is `{}`",
                    "s".repeat(width.min(2))
                ),
            ),
            's' if prev == Some('s') => (
                ('S', width),
                format!(
                    "`{run}` reads the second again; a fraction of a second is `{}`",
                    "S".repeat(width)
                ),
            ),
            'h' if !has('a') => (
                ('H', width),
                format!(
                    "`{run}` is the hour on a 12-hour clock and needs `a` (AM/PM); the hour 0-23 is `{}`",
                    "H".repeat(width)
                ),
            ),
            _ => continue,
        };
        notes.push(note);
        fixes.push((at, width, fix.0, fix.1));
    }
    if notes.is_empty() {
        return None;
    }
    let mut meant = String::new();
    let mut from = 0;
    for (at, width, letter, new_width) in &fixes {
        meant.push_str(text.get(from..*at)?);
        meant.extend(std::iter::repeat_n(*letter, *new_width));
        from = at + width;
    }
    meant.push_str(text.get(from..)?);
    let meant = Pattern::parse(&meant, target, usage).ok().map(|_| meant);
    Some(PatternAdvice { notes, meant })
}

/// The advice on a pattern that is valid but reads like a common mistake
/// (`format_datetime("yyyy-mm-dd")` writes the minute as the month): for
/// warning W0009. `None` for named formats and patterns without one.
pub fn suspicious_pattern(text: &str, target: Target, writing: bool) -> Option<PatternAdvice> {
    let usage = if writing { Use::Write } else { Use::Read };
    match Format::parse_for(text, target, usage) {
        Ok(Format::Pattern(_)) => pattern_advice(text, target, usage),
        _ => None,
    }
}

// ------------------------------------------------------------------ patterns

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Year,
    Month,
    Day,
    Weekday,
    Hour24,
    Hour12,
    AmPm,
    Minute,
    Second,
    Fraction,
    Offset,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Year => "year",
            Field::Month => "month",
            Field::Day => "day",
            Field::Weekday => "weekday",
            Field::Hour24 | Field::Hour12 => "hour",
            Field::AmPm => "AM/PM",
            Field::Minute => "minute",
            Field::Second => "second",
            Field::Fraction => "fraction of a second",
            Field::Offset => "offset",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OffsetStyle {
    /// `Z` for a zero offset.
    z: bool,
    colon: bool,
    /// `+05` is allowed (minutes only when not zero).
    short: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Item {
    Literal(String),
    Field {
        field: Field,
        /// Letter count: `yyyy` → 4.
        width: usize,
        offset: Option<OffsetStyle>,
        at: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    items: Vec<Item>,
}

/// Bidi marks CLDR puts in right-to-left patterns (ar-AE `d‏/M‏/y`); they
/// are ignored in patterns and in the values they read.
fn is_bidi_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A pattern cut into literal text and runs of one letter (`yyyy`).
#[derive(Clone, Debug, PartialEq)]
enum Token {
    Literal(String),
    Letters {
        letter: char,
        /// Letter count: `yyyy` → 4.
        width: usize,
        /// Byte offset in the pattern text.
        at: usize,
    },
}

/// Cuts a pattern into tokens: `'text'` is literal (`''` a quote), other
/// characters that are not ASCII letters are literal, bidi marks are
/// dropped.
fn lex(text: &str) -> Result<Vec<Token>, FormatError> {
    let mut tokens = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    let mut literal = String::new();
    while i < chars.len() {
        let (at, c) = chars[i];
        if c == '\'' {
            // `''` is a quote; `'text'` is literal text.
            if chars.get(i + 1).map(|x| x.1) == Some('\'') {
                literal.push('\'');
                i += 2;
                continue;
            }
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return Err(FormatError::new(at, "unterminated quoted text".into())),
                    Some((_, '\'')) if chars.get(j + 1).map(|x| x.1) == Some('\'') => {
                        literal.push('\'');
                        j += 2;
                    }
                    Some((_, '\'')) => break,
                    Some((_, ch)) => {
                        literal.push(*ch);
                        j += 1;
                    }
                }
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if !is_bidi_mark(c) {
                literal.push(c);
            }
            i += 1;
            continue;
        }
        let mut width = 1;
        while chars.get(i + width).map(|x| x.1) == Some(c) {
            width += 1;
        }
        i += width;
        if !literal.is_empty() {
            tokens.push(Token::Literal(std::mem::take(&mut literal)));
        }
        tokens.push(Token::Letters {
            letter: c,
            width,
            at,
        });
    }
    if !literal.is_empty() {
        tokens.push(Token::Literal(literal));
    }
    Ok(tokens)
}

impl Pattern {
    fn parse(text: &str, target: Target, usage: Use) -> Result<Pattern, FormatError> {
        let err = FormatError::new;
        let mut items: Vec<Item> = Vec::new();
        for token in lex(text)? {
            let (c, width, at) = match token {
                Token::Literal(l) => {
                    items.push(Item::Literal(l));
                    continue;
                }
                Token::Letters { letter, width, at } => (letter, width, at),
            };
            let bad_width = || err(at, format!("`{c}` has no form of {width} letters"));
            let (field, offset) = match c {
                'y' if width <= 4 => (Field::Year, None),
                'M' if width <= 4 => (Field::Month, None),
                'd' if width <= 2 => (Field::Day, None),
                'E' if width <= 4 => (Field::Weekday, None),
                'H' if width <= 2 => (Field::Hour24, None),
                'h' if width <= 2 => (Field::Hour12, None),
                'a' if width == 1 => (Field::AmPm, None),
                'm' if width <= 2 => (Field::Minute, None),
                's' if width <= 2 => (Field::Second, None),
                'S' if width <= 9 => (Field::Fraction, None),
                'X' | 'x' if width <= 3 => (
                    Field::Offset,
                    Some(OffsetStyle {
                        z: c == 'X',
                        colon: width == 3,
                        short: width == 1,
                    }),
                ),
                'Z' if width <= 3 => (
                    Field::Offset,
                    Some(OffsetStyle {
                        z: false,
                        colon: false,
                        short: false,
                    }),
                ),
                'Z' if width == 5 => (
                    Field::Offset,
                    Some(OffsetStyle {
                        z: true,
                        colon: true,
                        short: false,
                    }),
                ),
                'y' | 'M' | 'd' | 'E' | 'H' | 'h' | 'a' | 'm' | 's' | 'S' | 'X' | 'x' | 'Z' => {
                    return Err(bad_width());
                }
                'G' | 'u' | 'Q' | 'q' | 'w' | 'W' | 'D' | 'F' | 'e' | 'c' | 'L' | 'k' | 'K'
                | 'z' | 'v' | 'V' | 'O' | 'A' | 'n' | 'N' | 'B' | 'b' | 'Y' | 'g' | 'U' | 'r'
                | 'l' | 'j' | 'J' | 'C' | 'T' => {
                    return Err(err(
                        at,
                        format!(
                            "the pattern letter `{c}` is not supported; tether reads y M d E H h a m s S X x Z (quote literal text: 'T')"
                        ),
                    ));
                }
                _ => {
                    return Err(err(
                        at,
                        format!("`{c}` is not a pattern letter; quote literal text: '{c}'"),
                    ));
                }
            };
            if items
                .iter()
                .any(|it| matches!(it, Item::Field { field: f, .. } if same_slot(*f, field)))
            {
                return Err(err(at, format!("the {} is given twice", field.name())));
            }
            // Two numbers of variable width side by side cannot be told apart.
            if let (
                Some(Item::Field {
                    field: prev,
                    width: pw,
                    ..
                }),
                true,
            ) = (items.last(), is_number(field))
                && is_number(*prev)
                && (variable_width(*prev, *pw) || variable_width(field, width))
            {
                return Err(err(
                    at,
                    "two numbers of variable width side by side cannot be told apart; use fixed widths (`yyyyMMdd`)".into(),
                ));
            }
            items.push(Item::Field {
                field,
                width,
                offset,
                at,
            });
        }
        let p = Pattern { items };
        p.validate(text, target, usage)?;
        Ok(p)
    }

    fn has(&self, f: Field) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i, Item::Field { field, .. } if *field == f))
    }

    fn validate(&self, text: &str, target: Target, usage: Use) -> Result<(), FormatError> {
        let err = |message: String| FormatError::new(0, message);
        let at_of = |f: Field| {
            self.items
                .iter()
                .find_map(|i| match i {
                    Item::Field { field, at, .. } if *field == f => Some(*at),
                    _ => None,
                })
                .unwrap_or(0)
        };
        if self.has(Field::Hour12) != self.has(Field::AmPm) {
            let (f, msg) = if self.has(Field::Hour12) {
                (
                    Field::Hour12,
                    "`h` (1-12) needs `a` (AM/PM); use `H` for 0-23",
                )
            } else {
                (Field::AmPm, "`a` (AM/PM) needs `h` (1-12)")
            };
            return Err(FormatError::new(at_of(f), msg.into()));
        }
        let has_date = self.has(Field::Year)
            || self.has(Field::Month)
            || self.has(Field::Day)
            || self.has(Field::Weekday);
        let has_hour = self.has(Field::Hour24) || self.has(Field::Hour12);
        let has_time = has_hour
            || self.has(Field::Minute)
            || self.has(Field::Second)
            || self.has(Field::Fraction);
        let has_offset = self.has(Field::Offset);
        let full_date = self.has(Field::Year) && self.has(Field::Month) && self.has(Field::Day);
        let need = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(err(format!(
                    "the pattern `{text}` cannot read or write a {}: it needs {what}",
                    target.name()
                )))
            }
        };
        if usage == Use::Write {
            return match target {
                Target::DateTime => Ok(()),
                Target::LocalDateTime => need(!has_offset, "no offset (the value has none)"),
                Target::Date => need(
                    !has_time && !has_offset,
                    "no time or offset fields (the value has none)",
                ),
                Target::Time => need(
                    !has_date && !has_offset,
                    "no date or offset fields (the value has none)",
                ),
            };
        }
        match target {
            Target::Date => {
                need(full_date, "a year `y`, a month `M` and a day `d`")?;
                need(!has_time && !has_offset, "no time or offset fields")
            }
            Target::Time => need(
                has_hour && !has_date && !has_offset,
                "an hour (`H`, or `h` with `a`) and no date or offset fields",
            ),
            Target::LocalDateTime => need(
                full_date && has_hour && !has_offset,
                "a full date and an hour, and no offset (an offset makes it a `datetime`)",
            ),
            Target::DateTime => need(
                full_date && has_hour && has_offset,
                "a full date, an hour and an offset (`XXX`); for text without an offset use parse_localdatetime then assume_zone",
            ),
        }
    }

    fn dropped(&self, target: Target) -> Vec<&'static str> {
        const DATE: &[Field] = &[Field::Year, Field::Month, Field::Day];
        const TIME: &[Field] = &[Field::Hour24, Field::Minute, Field::Second];
        let mut wanted: Vec<Field> = match target {
            Target::Date => DATE.to_vec(),
            Target::Time => TIME.to_vec(),
            Target::LocalDateTime => [DATE, TIME].concat(),
            Target::DateTime => [DATE, TIME, &[Field::Offset]].concat(),
        };
        wanted.retain(|f| match f {
            Field::Hour24 => !(self.has(Field::Hour24) || self.has(Field::Hour12)),
            f => !self.has(*f),
        });
        let mut out: Vec<&'static str> = wanted.into_iter().map(Field::name).collect();
        // `yy` keeps only two digits of the year.
        if self.items.iter().any(|i| {
            matches!(
                i,
                Item::Field {
                    field: Field::Year,
                    width: 2,
                    ..
                }
            )
        }) {
            out.push("century");
        }
        out
    }

    // ------------------------------------------------------------ reading

    fn read(&self, input: &str) -> Result<Parts, String> {
        let cleaned: String;
        let mut s = input;
        if input.chars().any(is_bidi_mark) {
            cleaned = input.chars().filter(|c| !is_bidi_mark(*c)).collect();
            s = &cleaned;
        }
        let mut parts = Parts::default();
        let mut rest = s;
        for item in &self.items {
            match item {
                Item::Literal(lit) => {
                    rest = rest
                        .strip_prefix(lit.as_str())
                        .ok_or_else(|| format!("expected {lit:?} at {:?}", shorten(rest)))?;
                }
                Item::Field {
                    field,
                    width,
                    offset,
                    ..
                } => {
                    rest = read_field(*field, *width, *offset, rest, &mut parts)?;
                }
            }
        }
        if !rest.is_empty() {
            return Err(format!(
                "unexpected text {:?} after the value",
                shorten(rest)
            ));
        }
        Ok(parts)
    }

    // ------------------------------------------------------------ writing

    fn write(&self, v: &Fields, out: &mut String) {
        for item in &self.items {
            match item {
                Item::Literal(l) => out.push_str(l),
                Item::Field {
                    field,
                    width,
                    offset,
                    ..
                } => write_field(*field, *width, *offset, v, out),
            }
        }
    }
}

fn same_slot(a: Field, b: Field) -> bool {
    let hour = |f| matches!(f, Field::Hour12 | Field::Hour24);
    a == b || (hour(a) && hour(b))
}

fn is_number(f: Field) -> bool {
    !matches!(f, Field::Weekday | Field::AmPm | Field::Offset)
}

fn variable_width(f: Field, width: usize) -> bool {
    match f {
        Field::Year => width != 2 && width != 4,
        Field::Month => width == 1,
        Field::Fraction => false,
        _ => width == 1,
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(16).collect()
}

/// What a pattern read: fields not in the pattern stay `None`.
#[derive(Default, Debug)]
struct Parts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    weekday: Option<u32>,
    hour: Option<u32>,
    pm: Option<bool>,
    minute: Option<u32>,
    second: Option<u32>,
    nanos: Option<u32>,
    offset: Option<i32>,
}

fn digits(s: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return None;
    }
    s[..n].parse().ok().map(|v| (v, &s[n..]))
}

fn read_field<'s>(
    field: Field,
    width: usize,
    offset: Option<OffsetStyle>,
    s: &'s str,
    p: &mut Parts,
) -> Result<&'s str, String> {
    let want = |what: &str| format!("expected {what} at {:?}", shorten(s));
    let num = |min: usize, max: usize, what: &str| digits(s, min, max).ok_or_else(|| want(what));
    match field {
        Field::Year => {
            let (min, max) = match width {
                2 => (2, 2),
                4 => (4, 4),
                3 => (3, 4),
                _ => (1, 4),
            };
            let (y, rest) = num(min, max, "a year")?;
            let y = if width == 2 {
                // RFC 2822's rule: 00-49 → 20xx, 50-99 → 19xx.
                if y < 50 { 2000 + y } else { 1900 + y }
            } else {
                y
            };
            p.year = Some(y as i32);
            Ok(rest)
        }
        Field::Month if width >= 3 => {
            let (m, rest) = name_of(s, &MONTHS, width == 3).ok_or_else(|| want("a month name"))?;
            p.month = Some(m + 1);
            Ok(rest)
        }
        Field::Weekday => {
            let (d, rest) =
                name_of(s, &WEEKDAYS, width <= 3).ok_or_else(|| want("a weekday name"))?;
            p.weekday = Some(d);
            Ok(rest)
        }
        Field::AmPm => {
            let head = s.get(..2).map(str::to_ascii_uppercase);
            let pm = match head.as_deref() {
                Some("AM") => false,
                Some("PM") => true,
                _ => return Err(want("AM or PM")),
            };
            p.pm = Some(pm);
            Ok(&s[2..])
        }
        Field::Fraction => {
            let (_, rest) = num(width, width, &format!("{width} digits of a fraction"))?;
            let text = &s[..width];
            let nanos: u32 = format!("{text:0<9}")
                .parse()
                .map_err(|_| want("a fraction"))?;
            p.nanos = Some(nanos);
            Ok(rest)
        }
        Field::Offset => {
            let style = offset.unwrap_or(OffsetStyle {
                z: true,
                colon: true,
                short: false,
            });
            read_offset(s, style, p).ok_or_else(|| want("an offset"))
        }
        _ => {
            let (min, max) = if width == 2 { (2, 2) } else { (1, 2) };
            let what = field.name();
            let (v, rest) = num(min, max, &format!("a {what}"))?;
            match field {
                Field::Month => p.month = Some(v),
                Field::Day => p.day = Some(v),
                Field::Hour24 | Field::Hour12 => p.hour = Some(v),
                Field::Minute => p.minute = Some(v),
                _ => p.second = Some(v),
            }
            Ok(rest)
        }
    }
}

/// A month or weekday name, case-insensitive; `short` is the 3-letter form.
fn name_of<'s>(s: &'s str, names: &[&str], short: bool) -> Option<(u32, &'s str)> {
    names.iter().enumerate().find_map(|(i, n)| {
        let n = if short { &n[..3] } else { n };
        let head = s.get(..n.len())?;
        head.eq_ignore_ascii_case(n)
            .then(|| (i as u32, &s[n.len()..]))
    })
}

fn read_offset<'s>(s: &'s str, style: OffsetStyle, p: &mut Parts) -> Option<&'s str> {
    if style.z
        && let Some(rest) = s.strip_prefix(['Z', 'z'])
    {
        p.offset = Some(0);
        return Some(rest);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, rest) = digits(&s[1..], 2, 2)?;
    let (m, rest) = if style.colon {
        match rest.strip_prefix(':') {
            Some(r) => digits(r, 2, 2)?,
            None if style.short => (0, rest),
            None => return None,
        }
    } else {
        match digits(rest, 2, 2) {
            Some(x) => x,
            None if style.short => (0, rest),
            None => return None,
        }
    };
    if h > 23 || m > 59 {
        return None;
    }
    p.offset = Some(sign * (h as i32 * 3600 + m as i32 * 60));
    Some(rest)
}

impl Parts {
    fn date(&self) -> Result<NaiveDate, String> {
        let (Some(y), Some(m), Some(d)) = (self.year, self.month, self.day) else {
            return Err("the value has no full date".into());
        };
        let date = NaiveDate::from_ymd_opt(y, m, d)
            .ok_or_else(|| format!("{y:04}-{m:02}-{d:02} is not a date of the calendar"))?;
        if let Some(w) = self.weekday
            && date.weekday().num_days_from_monday() != w
        {
            return Err(format!(
                "{date} is a {}, not a {}",
                WEEKDAYS[date.weekday().num_days_from_monday() as usize],
                WEEKDAYS[w as usize]
            ));
        }
        Ok(date)
    }

    fn time(&self) -> Result<NaiveTime, String> {
        let mut h = self.hour.unwrap_or(0);
        if let Some(pm) = self.pm {
            if !(1..=12).contains(&h) {
                return Err(format!("{h} is not an hour from 1 to 12"));
            }
            h = match (h, pm) {
                (12, false) => 0,
                (12, true) => 12,
                (h, true) => h + 12,
                (h, false) => h,
            };
        }
        let (m, s, n) = (
            self.minute.unwrap_or(0),
            self.second.unwrap_or(0),
            self.nanos.unwrap_or(0),
        );
        NaiveTime::from_hms_nano_opt(h, m, s, n)
            .ok_or_else(|| format!("{h:02}:{m:02}:{s:02} is not a time of day"))
    }
}

// ------------------------------------------------------------------ writing

/// The fields of a value being written.
struct Fields {
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
    offset: Option<i32>,
}

fn write_field(
    field: Field,
    width: usize,
    style: Option<OffsetStyle>,
    v: &Fields,
    out: &mut String,
) {
    let pad = |out: &mut String, n: u32| {
        if width >= 2 {
            let _ = write!(out, "{n:02}");
        } else {
            let _ = write!(out, "{n}");
        }
    };
    let (date, time) = (v.date, v.time);
    match field {
        Field::Year => {
            let y = date.map_or(0, |d| d.year());
            match width {
                2 => {
                    let _ = write!(out, "{:02}", y.rem_euclid(100));
                }
                4 | 3 => {
                    let _ = write!(out, "{y:04}");
                }
                _ => {
                    let _ = write!(out, "{y}");
                }
            }
        }
        Field::Month => {
            let m = date.map_or(1, |d| d.month());
            match width {
                3 => out.push_str(&MONTHS[m as usize - 1][..3]),
                4 => out.push_str(MONTHS[m as usize - 1]),
                _ => pad(out, m),
            }
        }
        Field::Day => pad(out, date.map_or(1, |d| d.day())),
        Field::Weekday => {
            let w = date.map_or(0, |d| d.weekday().num_days_from_monday()) as usize;
            out.push_str(if width <= 3 {
                &WEEKDAYS[w][..3]
            } else {
                WEEKDAYS[w]
            });
        }
        Field::Hour24 => pad(out, time.map_or(0, |t| t.hour())),
        Field::Hour12 => pad(out, time.map_or(12, |t| t.hour12().1)),
        Field::AmPm => out.push_str(if time.is_some_and(|t| t.hour12().0) {
            "PM"
        } else {
            "AM"
        }),
        Field::Minute => pad(out, time.map_or(0, |t| t.minute())),
        Field::Second => pad(out, time.map_or(0, |t| t.second())),
        Field::Fraction => {
            let nanos = time.map_or(0, |t| t.nanosecond() % 1_000_000_000);
            let text = format!("{nanos:09}");
            out.push_str(&text[..width.min(9)]);
        }
        Field::Offset => {
            let secs = v.offset.unwrap_or(0);
            let style = style.unwrap_or(OffsetStyle {
                z: true,
                colon: true,
                short: false,
            });
            write_offset(secs, style, out);
        }
    }
}

fn write_offset(secs: i32, style: OffsetStyle, out: &mut String) {
    if secs == 0 && style.z {
        out.push('Z');
        return;
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
    let _ = write!(out, "{sign}{h:02}");
    if style.short && m == 0 {
        return;
    }
    if style.colon {
        out.push(':');
    }
    let _ = write!(out, "{m:02}");
}

// ------------------------------------------------------------------ ISO 8601

/// What ISO 8601 / RFC 3339 text holds.
struct Iso {
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
    offset: Option<i32>,
}

/// `2024-03-07`, `2024-03-07T19:47:17.828+02:00`, `19:47:17`, with `T`, `t`
/// or a space, a fraction of 1-9 digits, and `Z`, `±HH:MM`, `±HHMM` or
/// `±HH` as the offset.
fn read_iso(s: &str) -> Result<Iso, String> {
    let bad = || format!("{s:?} is not ISO 8601");
    let mut p = Parts::default();
    let mut rest = s;
    let has_date = s.len() >= 10 && s.as_bytes().get(4) == Some(&b'-');
    let mut iso = Iso {
        date: None,
        time: None,
        offset: None,
    };
    if has_date {
        let (y, r) = digits(rest, 4, 4).ok_or_else(bad)?;
        let r = r.strip_prefix('-').ok_or_else(bad)?;
        let (m, r) = digits(r, 2, 2).ok_or_else(bad)?;
        let r = r.strip_prefix('-').ok_or_else(bad)?;
        let (d, r) = digits(r, 2, 2).ok_or_else(bad)?;
        (p.year, p.month, p.day) = (Some(y as i32), Some(m), Some(d));
        iso.date = Some(p.date().map_err(|e| format!("{s:?}: {e}"))?);
        rest = r;
        if let Some(b'T' | b't' | b' ') = rest.as_bytes().first() {
            rest = &rest[1..];
        }
    }
    let time_follows = rest.len() >= 5 && rest.as_bytes().get(2) == Some(&b':');
    if time_follows {
        let (h, r) = digits(rest, 2, 2).ok_or_else(bad)?;
        let r = r.strip_prefix(':').ok_or_else(bad)?;
        let (mi, mut r) = digits(r, 2, 2).ok_or_else(bad)?;
        let mut sec = 0;
        let mut nanos = 0;
        if let Some(after) = r.strip_prefix(':') {
            let (sv, r2) = digits(after, 2, 2).ok_or_else(bad)?;
            sec = sv;
            r = r2;
            if let Some(frac) = r.strip_prefix(['.', ',']) {
                let n = frac.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 || n > 9 {
                    return Err(format!("{s:?}: a fraction of a second has 1 to 9 digits"));
                }
                nanos = format!("{:0<9}", &frac[..n]).parse().map_err(|_| bad())?;
                r = &frac[n..];
            }
        }
        // A leap second is kept the way chrono represents it.
        let (sec, nanos) = if sec == 60 {
            (59, nanos + 1_000_000_000)
        } else {
            (sec, nanos)
        };
        iso.time = Some(
            NaiveTime::from_hms_nano_opt(h, mi, sec, nanos)
                .ok_or_else(|| format!("{s:?}: not a time of day"))?,
        );
        rest = r;
    } else if has_date && rest.len() != s.len() - 10 {
        return Err(bad());
    }
    if !rest.is_empty() {
        let style = OffsetStyle {
            z: true,
            colon: rest.get(3..4) == Some(":"),
            short: true,
        };
        rest = read_offset(rest, style, &mut p).ok_or_else(bad)?;
        iso.offset = p.offset;
    }
    if !rest.is_empty() || (iso.date.is_none() && iso.time.is_none()) {
        return Err(bad());
    }
    Ok(iso)
}

fn offset_of(secs: i32) -> Result<FixedOffset, String> {
    FixedOffset::east_opt(secs).ok_or_else(|| format!("offset of {secs} s is out of range"))
}

// ------------------------------------------------------------------ epoch

/// Seconds or milliseconds since 1970 as an integer or a string of digits.
/// `"161426533.0"` is not accepted: a fraction is not an epoch count.
pub fn epoch(count: i64, millis: bool) -> Result<DateTime<FixedOffset>, String> {
    let dt = if millis {
        DateTime::<Utc>::from_timestamp_millis(count)
    } else {
        DateTime::<Utc>::from_timestamp(count, 0)
    };
    dt.map(|d| d.fixed_offset())
        .ok_or_else(|| format!("{count} is outside the supported range of dates"))
}

pub fn epoch_text(s: &str, millis: bool) -> Result<DateTime<FixedOffset>, String> {
    let t = s.trim();
    let body = t.strip_prefix('-').unwrap_or(t);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{s:?} is not a whole number of {}",
            if millis { "milliseconds" } else { "seconds" }
        ));
    }
    let n: i64 = t.parse().map_err(|_| format!("{s:?} is too large"))?;
    epoch(n, millis)
}

/// `/Date(1333645844276-0600)/`, also with JSON's escaped slashes. The
/// milliseconds are UTC; the offset is kept for display.
fn msjson(s: &str) -> Result<DateTime<FixedOffset>, String> {
    let bad = || format!("{s:?} is not a Microsoft JSON date `/Date(ms±hhmm)/`");
    let t = s.trim();
    let t = t
        .strip_prefix("\\/")
        .or_else(|| t.strip_prefix('/'))
        .ok_or_else(bad)?;
    let t = t
        .strip_suffix("\\/")
        .or_else(|| t.strip_suffix('/'))
        .ok_or_else(bad)?;
    let inner = t
        .strip_prefix("Date(")
        .and_then(|x| x.strip_suffix(')'))
        .ok_or_else(bad)?;
    let sign_at = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map(|(i, _)| i);
    let (ms, off) = match sign_at {
        Some(i) => (&inner[..i], Some(&inner[i..])),
        None => (inner, None),
    };
    let instant = epoch_text(ms, true).map_err(|_| bad())?;
    match off {
        None => Ok(instant),
        Some(o) => {
            let mut p = Parts::default();
            let style = OffsetStyle {
                z: false,
                colon: false,
                short: false,
            };
            match read_offset(o, style, &mut p) {
                Some("") => Ok(instant.with_timezone(&offset_of(p.offset.unwrap_or(0))?)),
                _ => Err(bad()),
            }
        }
    }
}

// ------------------------------------------------------------------ API

/// The text a transform reads, as a value of `target`.
pub enum Parsed {
    DateTime(DateTime<FixedOffset>),
    LocalDateTime(NaiveDateTime),
    Date(NaiveDate),
    Time(NaiveTime),
}

impl Format {
    pub fn parse_value(&self, s: &str, target: Target) -> Result<Parsed, String> {
        match self {
            Format::Pattern(p) => {
                let parts = p
                    .read(s)
                    .map_err(|e| format!("{s:?} does not match the pattern: {e}"))?;
                Ok(match target {
                    Target::Date => Parsed::Date(parts.date()?),
                    Target::Time => Parsed::Time(parts.time()?),
                    Target::LocalDateTime => {
                        Parsed::LocalDateTime(parts.date()?.and_time(parts.time()?))
                    }
                    Target::DateTime => {
                        let local = parts.date()?.and_time(parts.time()?);
                        let off = offset_of(parts.offset.unwrap_or(0))?;
                        Parsed::DateTime(
                            local
                                .and_local_timezone(off)
                                .single()
                                .ok_or_else(|| format!("{s:?} is out of range"))?,
                        )
                    }
                })
            }
            Format::Named(n) => parse_named(*n, s, target),
        }
    }

    /// Writes a value; `Err` when the named format cannot hold it exactly
    /// (`rfc3339_seconds` of a time with a fraction).
    pub fn write_value(&self, v: &Parsed) -> Result<String, String> {
        let fields = match v {
            Parsed::DateTime(d) => Fields {
                date: Some(d.date_naive()),
                time: Some(d.time()),
                offset: Some(d.offset().local_minus_utc()),
            },
            Parsed::LocalDateTime(d) => Fields {
                date: Some(d.date()),
                time: Some(d.time()),
                offset: None,
            },
            Parsed::Date(d) => Fields {
                date: Some(*d),
                time: None,
                offset: None,
            },
            Parsed::Time(t) => Fields {
                date: None,
                time: Some(*t),
                offset: None,
            },
        };
        match self {
            Format::Pattern(p) => {
                let mut out = String::new();
                p.write(&fields, &mut out);
                Ok(out)
            }
            Format::Named(n) => write_named(*n, v),
        }
    }
}

fn parse_named(n: Named, s: &str, target: Target) -> Result<Parsed, String> {
    match n {
        Named::EpochSeconds => epoch_text(s, false).map(Parsed::DateTime),
        Named::EpochMillis => epoch_text(s, true).map(Parsed::DateTime),
        Named::MsJson => msjson(s).map(Parsed::DateTime),
        Named::Rfc2822 => DateTime::parse_from_rfc2822(s.trim())
            .map(Parsed::DateTime)
            .map_err(|e| format!("{s:?} is not an RFC 2822 date: {e}")),
        Named::Iso8601 | Named::Rfc3339Seconds | Named::Rfc3339Millis | Named::Xsd => {
            let iso = read_iso(s)?;
            let xsd = n == Named::Xsd;
            let shape_err = |what: &str| Err(format!("{s:?} is {what}, not a {}", target.name()));
            match (target, iso.date, iso.time, iso.offset) {
                (Target::DateTime, Some(d), Some(t), Some(o)) => Ok(Parsed::DateTime(
                    d.and_time(t)
                        .and_local_timezone(offset_of(o)?)
                        .single()
                        .ok_or_else(|| format!("{s:?} is out of range"))?,
                )),
                (Target::DateTime, Some(_), Some(_), None) => Err(format!(
                    "{s:?} has no offset: read it with parse_localdatetime, then assume_zone(\"...\")"
                )),
                (Target::LocalDateTime, Some(d), Some(t), None) => {
                    Ok(Parsed::LocalDateTime(d.and_time(t)))
                }
                (Target::LocalDateTime, Some(_), Some(_), Some(_)) => Err(format!(
                    "{s:?} has an offset: read it with parse_datetime (and to_local if the local time is wanted)"
                )),
                // xs:date and xs:time may carry a zone; it says nothing about
                // the date or time itself.
                (Target::Date, Some(d), None, o) if o.is_none() || xsd => Ok(Parsed::Date(d)),
                (Target::Time, None, Some(t), o) if o.is_none() || xsd => Ok(Parsed::Time(t)),
                (_, Some(_), None, _) => shape_err("a date"),
                (_, None, Some(_), _) => shape_err("a time"),
                (_, _, _, Some(_)) => shape_err("text with an offset"),
                _ => shape_err("a date-time"),
            }
        }
    }
}

fn write_named(n: Named, v: &Parsed) -> Result<String, String> {
    let whole_seconds = |d: &DateTime<FixedOffset>, what: &str| {
        if d.nanosecond() != 0 {
            Err(format!(
                "{} has a fraction of a second that {what} would drop; use trunc_time(\"second\") first if that is intended",
                d.to_rfc3339()
            ))
        } else {
            Ok(())
        }
    };
    match v {
        Parsed::DateTime(d) => match n {
            Named::Iso8601 | Named::Xsd => Ok(d.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Named::Rfc3339Seconds => {
                whole_seconds(d, "rfc3339_seconds")?;
                Ok(d.to_rfc3339_opts(SecondsFormat::Secs, true))
            }
            Named::Rfc3339Millis => {
                if d.nanosecond() % 1_000_000 != 0 {
                    return Err(format!(
                        "{} has digits below a millisecond that rfc3339_millis would drop",
                        d.to_rfc3339()
                    ));
                }
                Ok(d.to_rfc3339_opts(SecondsFormat::Millis, true))
            }
            Named::Rfc2822 => {
                whole_seconds(d, "rfc2822")?;
                Ok(d.to_rfc2822())
            }
            Named::EpochSeconds => {
                whole_seconds(d, "epoch_seconds")?;
                Ok(d.timestamp().to_string())
            }
            Named::EpochMillis => {
                if d.nanosecond() % 1_000_000 != 0 {
                    return Err(format!(
                        "{} has digits below a millisecond that epoch_millis would drop",
                        d.to_rfc3339()
                    ));
                }
                Ok(d.timestamp_millis().to_string())
            }
            Named::MsJson => {
                let mut out = format!("/Date({}", d.timestamp_millis());
                let off = d.offset().local_minus_utc();
                if off != 0 {
                    write_offset(
                        off,
                        OffsetStyle {
                            z: false,
                            colon: false,
                            short: false,
                        },
                        &mut out,
                    );
                }
                out.push_str(")/");
                Ok(out)
            }
        },
        Parsed::LocalDateTime(d) => Ok(d.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
        Parsed::Date(d) => Ok(d.format("%Y-%m-%d").to_string()),
        Parsed::Time(t) => Ok(t.format("%H:%M:%S%.f").to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(fmt: &str, s: &str) -> Result<String, String> {
        let f = Format::parse(fmt, Target::DateTime).map_err(|e| e.message)?;
        match f.parse_value(s, Target::DateTime)? {
            Parsed::DateTime(d) => Ok(d
                .with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            _ => Err("not an instant".into()),
        }
    }

    #[test]
    fn iso_accepts_the_offsets_providers_send() {
        for (s, want) in [
            ("2019-10-30T03:30:17.883Z", "2019-10-30T03:30:17.883Z"),
            ("2011-07-07T00:37:00.000+0000", "2011-07-07T00:37:00Z"),
            ("2008-01-10T11:00:00-05:00", "2008-01-10T16:00:00Z"),
            ("2008-01-10 11:00:00+05", "2008-01-10T06:00:00Z"),
            (
                "2024-03-07T19:47:17.123456789+02:00",
                "2024-03-07T17:47:17.123456789Z",
            ),
        ] {
            assert_eq!(instant("iso8601", s).as_deref(), Ok(want), "{s}");
        }
        for bad in [
            "2019-10-30T03:30:17",
            "2019-02-30T03:30:17Z",
            "2019-10-30T03:30:17.Z",
            "2019-10-30T25:30:17Z",
            "2019-10-30T03:30:17Zjunk",
            "2019-10-30",
        ] {
            assert!(instant("iso8601", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_are_strict() {
        let f = Format::parse("dd/MM/yyyy", Target::Date).unwrap();
        assert!(f.parse_value("31/02/2024", Target::Date).is_err());
        assert!(f.parse_value("1/02/2024", Target::Date).is_err());
        assert!(f.parse_value("29/02/2024 ", Target::Date).is_err());
        assert!(
            matches!(f.parse_value("29/02/2024", Target::Date), Ok(Parsed::Date(d)) if d.to_string() == "2024-02-29")
        );
        // CLDR ar-AE, with and without its right-to-left marks.
        let f = Format::parse("d\u{200F}/M\u{200F}/y", Target::Date).unwrap();
        for s in ["5\u{200F}/1\u{200F}/2024", "5/1/2024"] {
            assert!(
                matches!(f.parse_value(s, Target::Date), Ok(Parsed::Date(d)) if d.to_string() == "2024-01-05"),
                "{s:?}"
            );
        }
    }

    #[test]
    fn invalid_patterns_point_at_the_letter() {
        for (p, target, at) in [
            ("dd/MM/yyyyy", Target::Date, 6),
            ("dd/MM/yyyy q", Target::Date, 11),
            ("dd/MM/yyyy hh:mm", Target::LocalDateTime, 11),
            ("dd/dd/yyyy", Target::Date, 3),
            ("yMd", Target::Date, 1),
            ("'T", Target::Date, 0),
        ] {
            let e = Format::parse(p, target).unwrap_err();
            assert_eq!(e.offset, at, "{p}: {}", e.message);
        }
        assert!(Format::parse("dd/MM/yyyy HH:mm", Target::DateTime).is_err());
        assert!(Format::parse("yyyy-MM-dd'T'HH:mm:ssXXX", Target::DateTime).is_ok());
        assert!(Format::parse("rfc2822", Target::Date).is_err());
    }

    #[test]
    fn twelve_hour_clock_and_names() {
        let f = Format::parse("EEE, d MMM yyyy h:mm a", Target::LocalDateTime).unwrap();
        let Ok(Parsed::LocalDateTime(d)) =
            f.parse_value("Fri, 1 Mar 2024 12:05 am", Target::LocalDateTime)
        else {
            panic!("parses");
        };
        assert_eq!(d.to_string(), "2024-03-01 00:05:00");
        assert!(
            f.parse_value("Sat, 1 Mar 2024 12:05 AM", Target::LocalDateTime)
                .is_err()
        );
        assert_eq!(
            f.write_value(&Parsed::LocalDateTime(d)).unwrap(),
            "Fri, 1 Mar 2024 12:05 AM"
        );
    }

    #[test]
    fn near_names_suggest_the_named_formats() {
        let help = |t: &str| {
            Format::parse(t, Target::DateTime)
                .err()
                .and_then(|e| e.help)
        };
        assert_eq!(help("iso").as_deref(), Some("did you mean \"iso8601\"?"));
        assert_eq!(
            help("ISO 8601").as_deref(),
            Some("did you mean \"iso8601\"?")
        );
        assert_eq!(
            help("epochMillis").as_deref(),
            Some("did you mean \"epoch_millis\"?")
        );
        assert_eq!(
            help("epoch").as_deref(),
            Some("did you mean one of \"epoch_seconds\", \"epoch_millis\"?")
        );
        assert_eq!(
            help("rfc2282").as_deref(),
            Some("did you mean \"rfc2822\"?")
        );
        // A broken pattern is not taken for a name.
        assert_eq!(help("dd/MM/yyyyy"), None);
    }

    #[test]
    fn confused_letters_are_explained_with_the_pattern_meant() {
        let advice = |t: &str, target, usage| pattern_advice(t, target, usage);
        for (pattern, target, usage, meant) in [
            ("yyyy-mm-dd", Target::Date, Use::Read, "yyyy-MM-dd"),
            ("mm/dd/yyyy", Target::Date, Use::Read, "MM/dd/yyyy"),
            ("HH:MM", Target::Time, Use::Write, "HH:mm"),
            ("YYYY-MM-DD", Target::Date, Use::Read, "yyyy-MM-dd"),
            ("HH:mm:SS", Target::Time, Use::Read, "HH:mm:ss"),
            ("HH:mm:ss.sss", Target::Time, Use::Write, "HH:mm:ss.SSS"),
            (
                "dd/MM/yyyy hh:mm",
                Target::LocalDateTime,
                Use::Read,
                "dd/MM/yyyy HH:mm",
            ),
        ] {
            let a = advice(pattern, target, usage).unwrap_or_else(|| panic!("{pattern}"));
            assert_eq!(a.meant.as_deref(), Some(meant), "{pattern}: {:?}", a.notes);
        }
        let mm = advice("yyyy-mm-dd", Target::Date, Use::Read).map(|a| a.notes);
        assert_eq!(
            mm,
            Some(vec!["`mm` is the minute; the month is `MM`".to_string()])
        );
        // Patterns as meant have no advice; minutes next to hours are minutes.
        for fine in [
            "yyyy-MM-dd HH:mm",
            "HH:mm dd/MM",
            "h:mm a",
            "ss.SSS",
            "yyyyMMddHHmm",
        ] {
            assert_eq!(advice(fine, Target::DateTime, Use::Write), None, "{fine}");
        }
        // Valid patterns with a confusion are reported as suspicious.
        assert!(suspicious_pattern("yyyy-mm-dd", Target::DateTime, true).is_some());
        assert!(suspicious_pattern("HH:mm:SS", Target::Time, false).is_some());
        assert!(suspicious_pattern("yyyy-MM-dd", Target::DateTime, true).is_none());
        assert!(suspicious_pattern("iso8601", Target::DateTime, true).is_none());
    }

    #[test]
    fn named_seconds_formats_refuse_to_drop_a_fraction() {
        let f = Format::parse("rfc3339_seconds", Target::DateTime).unwrap();
        let Ok(v) =
            Format::Named(Named::Iso8601).parse_value("2019-10-30T03:30:17.883Z", Target::DateTime)
        else {
            panic!()
        };
        assert!(f.write_value(&v).is_err());
    }
}
