//! The projection reader: walks one JSON record with serde, guided by the
//! plan's read tree. Members the plan does not read are skipped with
//! `IgnoredAny` (no allocation); read values land in their slots. Numbers are
//! taken from their raw text, so an int or decimal never passes through f64.

use crate::base::{Currency, Money, Scalar, Value, minify_json};
use crate::plan::{ReadKind, ReadNode};
use crate::stdlib::convert_text;
use crate::stdlib::iso4217::not_a_currency;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// A value of the input that does not fit its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadError {
    pub path: String,
    pub value: String,
    pub message: String,
}

/// Reads `text` (one JSON value) into `frame` following `node`.
/// Err: the text is not well-formed JSON (message with line and column).
pub fn read_record<'a>(
    text: &'a str,
    node: &ReadNode,
    slots: usize,
    errors: &mut Vec<ReadError>,
) -> Result<Vec<Value<'a>>, String> {
    let mut frame = Vec::new();
    read_record_into(text, node, slots, &mut frame, errors)?;
    Ok(frame)
}

/// [`read_record`] into a frame kept from an earlier record.
pub fn read_record_into<'a>(
    text: &'a str,
    node: &ReadNode,
    slots: usize,
    frame: &mut Vec<Value<'a>>,
    errors: &mut Vec<ReadError>,
) -> Result<(), String> {
    frame.clear();
    frame.resize(slots, Value::Missing);
    let mut path = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = NodeSeed {
        node,
        frame,
        errors,
        path: &mut path,
    };
    seed.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())
}

/// `'p`: the plan; `'s`: this walk's borrows; `'a`: the record's text.
struct NodeSeed<'s, 'p, 'a> {
    node: &'p ReadNode,
    frame: &'s mut Vec<Value<'a>>,
    errors: &'s mut Vec<ReadError>,
    path: &'s mut Vec<Seg<'p>>,
}

/// One step of the path to the value being read: a member name borrowed
/// from the plan, or an array index. Kept as a stack and only turned into
/// text for an error, so a clean record allocates no path.
#[derive(Clone, Copy)]
enum Seg<'p> {
    Name(&'p str),
    Index(usize),
}

/// `a.b[0].c` from the segments `a`, `b`, `[0]`, `c`: the path notation of
/// read errors (and of row elements), for JSON and XML alike.
pub(super) fn path_text<'x>(path: impl IntoIterator<Item = Cow<'x, str>>) -> String {
    let mut s = String::new();
    for seg in path {
        if !seg.starts_with('[') && !s.is_empty() {
            s.push('.');
        }
        s.push_str(&seg);
    }
    s
}

impl<'s, 'p, 'a> NodeSeed<'s, 'p, 'a> {
    fn path_text(&self) -> String {
        path_text(self.path.iter().map(|seg| match *seg {
            Seg::Name(n) => Cow::Borrowed(n),
            Seg::Index(i) => Cow::Owned(format!("[{i}]")),
        }))
    }

    fn error(&mut self, raw: &str, message: String) {
        let path = self.path_text();
        self.errors.push(ReadError {
            path,
            value: minify_json(raw).into_owned(),
            message,
        });
    }

    /// A null where the schema declares the value not nullable.
    fn not_null_error(&mut self) {
        self.error("null", NOT_NULL.to_string());
    }

    /// An error at `path[i]` for each null element of an array whose
    /// schema declares its elements not nullable.
    fn null_elements(&mut self, items: &[Value<'_>]) {
        for (i, item) in items.iter().enumerate() {
            if matches!(item, Value::Null) {
                self.path.push(Seg::Index(i));
                self.not_null_error();
                self.path.pop();
            }
        }
    }

    /// A `map<T>` value: every member's value checked as a `T` (each wrong
    /// one an error at `path.key`), then kept as its JSON text. Err: the
    /// value is not an object at all.
    fn map(
        &mut self,
        text: &'a str,
        values: &ReadKind,
        nullable: bool,
    ) -> Result<Value<'a>, String> {
        let problems = map_problems(text, values, nullable)?;
        if problems.is_empty() {
            return leaf(text, &ReadKind::Raw);
        }
        let at = self.path_text();
        for p in problems {
            self.errors.push(ReadError {
                path: if at.is_empty() {
                    p.key
                } else {
                    format!("{at}.{}", p.key)
                },
                value: p.value,
                message: p.message,
            });
        }
        Ok(Value::Invalid)
    }
}

fn has_null(items: &[Value<'_>]) -> bool {
    items.iter().any(|v| matches!(v, Value::Null))
}

/// A member of a `map<T>` whose value is not a `T`.
struct MapProblem {
    key: String,
    /// The value as JSON text.
    value: String,
    message: String,
}

/// The members of the JSON object `text` whose values are not of kind
/// `values` (or are null when values may not be). Err: `text` is not an
/// object (nor null).
fn map_problems(text: &str, values: &ReadKind, nullable: bool) -> Result<Vec<MapProblem>, String> {
    if text == "null" {
        return Ok(Vec::new());
    }
    let MapMembers(members) = serde_json::from_str(text)
        .map_err(|_| format!("expected an object (a map), found {}", found_kind(text)))?;
    Ok(members
        .into_iter()
        .filter_map(|(Key(key), raw)| {
            let raw = raw.get();
            let message = match leaf(raw, values) {
                Ok(Value::Null) if !nullable => NOT_NULL.to_string(),
                Ok(_) => return None,
                Err(msg) => msg,
            };
            Some(MapProblem {
                key: key.into_owned(),
                value: minify_json(raw).into_owned(),
                message,
            })
        })
        .collect())
}

/// The message for a null the schema does not allow, for JSON and XML alike.
pub(super) const NOT_NULL: &str =
    "null, but the schema declares this value not nullable (`T?` allows null)";

/// The kind of JSON value `text` is, for messages.
fn found_kind(text: &str) -> &'static str {
    match text.as_bytes().first() {
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a bool",
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        _ => "a number",
    }
}

/// The members of a JSON object in their order, values as raw text.
struct MapMembers<'de>(Vec<(Key<'de>, &'de RawValue)>);

impl<'de> de::Deserialize<'de> for MapMembers<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = MapMembers<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    members.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(MapMembers(members))
            }
        }
        d.deserialize_map(MembersVisitor)
    }
}

impl<'de, 's, 'p> DeserializeSeed<'de> for NodeSeed<'s, 'p, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(mut self, d: D) -> Result<(), D::Error> {
        if self.node.whole.is_none() && self.node.source_text.is_none() {
            return d.deserialize_any(NodeVisitor { seed: self });
        }
        // The value itself is wanted: take its raw text, then read members
        // from that text if the plan also reads inside it.
        let raw: &'de RawValue = de::Deserialize::deserialize(d)?;
        let text = raw.get();
        if let Some(s) = self.node.source_text {
            self.frame[s] = Value::Raw(minify_json(text));
        }
        if text == "null" && self.node.not_null {
            self.not_null_error();
            if let Some((slot, _)) = &self.node.whole {
                self.frame[*slot] = Value::Invalid;
            }
            return Ok(());
        }
        if let Some((slot, kind)) = &self.node.whole {
            let value = match kind {
                ReadKind::Map { values, nullable } => self.map(text, values, *nullable),
                kind => leaf(text, kind),
            };
            match value {
                Ok(Value::Array(items)) if self.node.elements_not_null && has_null(&items) => {
                    self.null_elements(&items);
                    self.frame[*slot] = Value::Invalid;
                }
                Ok(v) => self.frame[*slot] = v,
                Err(msg) => {
                    self.error(text, msg);
                    self.frame[*slot] = Value::Invalid;
                }
            }
        }
        if !self.node.fields.is_empty() || self.node.each.is_some() {
            // The visitor never looks at `whole`, so the same node re-reads
            // the members from the raw text.
            let mut de = serde_json::Deserializer::from_str(text);
            de::Deserializer::deserialize_any(&mut de, NodeVisitor { seed: self })
                .map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// Which members of an object were present: a bit per read member, without
/// allocating for the usual object of up to 64 of them.
enum Seen {
    Small(u64),
    Large(Vec<bool>),
}

impl Seen {
    fn new(n: usize) -> Seen {
        if n <= 64 {
            Seen::Small(0)
        } else {
            Seen::Large(vec![false; n])
        }
    }
    fn set(&mut self, i: usize) {
        match self {
            Seen::Small(bits) => *bits |= 1 << i,
            Seen::Large(v) => v[i] = true,
        }
    }
    fn get(&self, i: usize) -> bool {
        match self {
            Seen::Small(bits) => bits & (1 << i) != 0,
            Seen::Large(v) => v[i],
        }
    }
}

struct NodeVisitor<'s, 'p, 'a> {
    seed: NodeSeed<'s, 'p, 'a>,
}

impl<'de, 's, 'p> Visitor<'de> for NodeVisitor<'s, 'p, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let node = self.seed.node;
        let mut seen = Seen::new(node.fields.len());
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match node
                .fields
                .iter()
                .position(|(n, _)| n.as_str() == key.as_ref())
            {
                Some(i) if seen.get(i) => {
                    // serde_json would keep the last silently; which one
                    // the provider meant is unknown (issue 17).
                    let (name, _) = &node.fields[i];
                    let again: &'de RawValue = map.next_value()?;
                    self.seed.path.push(Seg::Name(name));
                    self.seed.error(
                        again.get(),
                        format!("the member `{name}` appears more than once"),
                    );
                    self.seed.path.pop();
                }
                Some(i) => {
                    seen.set(i);
                    let (name, child) = &node.fields[i];
                    self.seed.path.push(Seg::Name(name));
                    let child_seed = NodeSeed {
                        node: child,
                        frame: self.seed.frame,
                        errors: self.seed.errors,
                        path: self.seed.path,
                    };
                    map.next_value_seed(ChildSeed(child_seed))?;
                    self.seed.path.pop();
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if node.each.is_some() {
            self.seed
                .error("{}", "expected an array, found an object".to_string());
        }
        for (i, (name, child)) in node.fields.iter().enumerate() {
            if child.required && !seen.get(i) {
                self.seed.path.push(Seg::Name(name));
                self.seed
                    .error("null", format!("the required field `{name}` is missing"));
                self.seed.path.pop();
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let Some(each) = &self.seed.node.each else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            if !self.seed.node.fields.is_empty() {
                self.seed
                    .error("[]", "expected an object, found an array".to_string());
            }
            return Ok(());
        };
        let mut rows = Vec::new();
        loop {
            let mut frame = vec![Value::Missing; each.slots];
            self.seed.path.push(Seg::Index(rows.len()));
            let elem_seed = NodeSeed {
                node: &each.node,
                frame: &mut frame,
                errors: self.seed.errors,
                path: self.seed.path,
            };
            let more = seq.next_element_seed(ChildSeed(elem_seed))?;
            self.seed.path.pop();
            if more.is_none() {
                break;
            }
            rows.push(frame);
        }
        self.seed.frame[each.slot] = Value::Rows(rows);
        Ok(())
    }

    /// A null record: every field read under it stays missing (there is no
    /// field under a null, so a target fed from one is left out).
    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        if self.seed.node.not_null {
            self.seed.not_null_error();
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<(), E> {
        self.seed.error(
            if v { "true" } else { "false" },
            "expected an object, found a bool".to_string(),
        );
        Ok(())
    }
    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        let raw = serde_json::to_string(v).unwrap_or_default();
        self.seed
            .error(&raw, "expected an object, found a string".to_string());
        Ok(())
    }
    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<(), E> {
        self.seed.error(
            &v.to_string(),
            "expected an object, found a number".to_string(),
        );
        Ok(())
    }
    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<(), E> {
        self.seed.error(
            &v.to_string(),
            "expected an object, found a number".to_string(),
        );
        Ok(())
    }
    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<(), E> {
        self.seed.error(
            &v.to_string(),
            "expected an object, found a number".to_string(),
        );
        Ok(())
    }
}

/// A seed for a member or element: `Option`-less wrapper so `next_value_seed`
/// and `next_element_seed` can drive a [`NodeSeed`].
struct ChildSeed<'s, 'p, 'a>(NodeSeed<'s, 'p, 'a>);

impl<'de, 's, 'p> DeserializeSeed<'de> for ChildSeed<'s, 'p, 'de> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0.deserialize(d)
    }
}

/// A member name, borrowed from the input unless it has escapes (serde's
/// own `Cow<str>` always copies).
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The first object member that appears twice in its object anywhere in
/// the JSON value `text`, as the reject `run` gives it (its path, as
/// `a.b[2].c`, and the second value); `None` when there is none, or when
/// `text` is not well-formed (its parse says so). The projection reader
/// catches a repeated member the plan reads as it goes; this walks the
/// whole value, for readers that keep all of a record (`sync` stores and
/// patches it) through a parser that keeps the last occurrence silently.
pub fn duplicate_member(text: &str) -> Option<ReadError> {
    let mut path = Vec::new();
    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = NoDup {
        path: &mut path,
        found: &mut found,
    };
    // An error is either the duplicate (then `found` holds it) or a
    // malformed text, which is not this check's to report.
    let _ = seed.deserialize(&mut de);
    found
}

/// The reject of a record that is not a JSON object (`text`: its JSON
/// text), as `run`'s reader gives it: a null one is a null where the
/// schema allows none, anything else the wrong kind.
pub fn not_an_object(text: &str) -> ReadError {
    let text = text.trim();
    let message = if text == "null" {
        NOT_NULL.to_string()
    } else {
        format!("expected an object, found {}", found_kind(text))
    };
    ReadError {
        path: String::new(),
        value: minify_json(text).into_owned(),
        message,
    }
}

/// Walks a value, keeping the path, until a member repeats.
struct NoDup<'s> {
    path: &'s mut Vec<String>,
    found: &'s mut Option<ReadError>,
}

impl<'de> DeserializeSeed<'de> for NoDup<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoDup<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys: std::collections::HashSet<Cow<'de, str>> = Default::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            self.path.push(key.to_string());
            if keys.contains(&key) {
                let again: &'de RawValue = map.next_value()?;
                *self.found = Some(ReadError {
                    path: path_text(self.path.iter().map(|s| Cow::Borrowed(s.as_str()))),
                    value: minify_json(again.get()).into_owned(),
                    message: format!("the member `{key}` appears more than once"),
                });
                return Err(de::Error::custom("a member appears twice"));
            }
            map.next_value_seed(NoDup {
                path: self.path,
                found: self.found,
            })?;
            self.path.pop();
            keys.insert(key);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        for i in 0.. {
            self.path.push(format!("[{i}]"));
            let more = seq.next_element_seed(NoDup {
                path: self.path,
                found: self.found,
            })?;
            self.path.pop();
            if more.is_none() {
                break;
            }
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
}

/// Converts the raw JSON text of one value into a runtime value of `kind`.
pub fn leaf<'a>(text: &'a str, kind: &ReadKind) -> Result<Value<'a>, String> {
    let first = text.as_bytes().first().copied().unwrap_or(b'n');
    if first == b'n' {
        return Ok(Value::Null);
    }
    // Strings here, other kinds out of line: most leaves are strings (HubSpot
    // sends every property as one), and so skip the dispatch over every kind
    // (two jumps for a scalar: the kind, then its `Scalar`) and its frame.
    if let ReadKind::Scalar(Scalar::String) = kind {
        return string(text)
            .ok_or_else(|| format!("expected a string, found {}", found_kind(text)));
    }
    typed_leaf(text, first, kind)
}

/// [`leaf`] for a non-null value of any kind (`first` is its first byte).
#[inline(never)]
fn typed_leaf<'a>(text: &'a str, first: u8, kind: &ReadKind) -> Result<Value<'a>, String> {
    let found = || found_kind(text);
    match kind {
        ReadKind::Raw => Ok(Value::Raw(minify_json(text))),
        ReadKind::Scalar(Scalar::String) => {
            string(text).ok_or_else(|| format!("expected a string, found {}", found()))
        }
        ReadKind::Enum(values) => {
            let v = string(text).ok_or_else(|| format!("expected a string, found {}", found()))?;
            match &v {
                Value::Str(s) if values.iter().any(|x| x == s) => Ok(v),
                Value::Str(s) => Err(not_in_enum(s, values)),
                _ => Ok(v),
            }
        }
        ReadKind::Scalar(Scalar::Currency) => {
            let v = string(text)
                .ok_or_else(|| format!("expected a currency code, found {}", found()))?;
            let Value::Str(s) = &v else { return Ok(v) };
            Currency::parse(s)
                .map(|c| Value::str(c.code()))
                .ok_or_else(|| not_a_currency(s))
        }
        ReadKind::Money(fixed) => money_value(text, *fixed),
        // Not built (`ReadKind::of` gives money as `ReadKind::Money`).
        ReadKind::Scalar(Scalar::Money) => money_value(text, None),
        ReadKind::Map { values, nullable } => {
            match map_problems(text, values, *nullable)?.first() {
                None => Ok(Value::Raw(minify_json(text))),
                Some(p) => Err(format!("at key {:?}: {}", p.key, p.message)),
            }
        }
        ReadKind::Scalar(Scalar::Bool) => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected a bool, found {}", found())),
        },
        ReadKind::Scalar(Scalar::Int) => {
            if !is_number(first) {
                return Err(format!("expected an integer, found {}", found()));
            }
            convert_text::int(text)
                .map(Value::Int)
                .map_err(|_| format!("expected an integer, found {text}"))
        }
        ReadKind::IntEnum(values) => {
            if !is_number(first) {
                return Err(format!("expected an integer, found {}", found()));
            }
            let n = convert_text::int(text)
                .map_err(|_| format!("expected an integer, found {text}"))?;
            if values.contains(&n) {
                Ok(Value::Int(n))
            } else {
                Err(not_in_int_enum(n, values))
            }
        }
        ReadKind::Scalar(Scalar::Decimal) => {
            if !is_number(first) {
                return Err(format!("expected a decimal number, found {}", found()));
            }
            convert_text::decimal(text)
                .map(Value::Decimal)
                .map_err(|f| f.message)
        }
        ReadKind::Scalar(Scalar::Float) => {
            if !is_number(first) {
                return Err(format!("expected a number, found {}", found()));
            }
            text.parse::<f64>()
                .map(Value::Float)
                .map_err(|e| e.to_string())
        }
        ReadKind::Scalar(
            time @ (Scalar::Date
            | Scalar::DateTime
            | Scalar::LocalDateTime
            | Scalar::AnyDateTime
            | Scalar::Time),
        ) => {
            let Some(Value::Str(s)) = string(text) else {
                return Err(format!("expected a date or time string, found {}", found()));
            };
            time_value(&s, *time)
        }
        ReadKind::Array(elem) => {
            if first != b'[' {
                return Err(format!("expected an array, found {}", found()));
            }
            let items: Vec<&'a RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
            items
                .into_iter()
                .map(|raw| leaf(raw.get(), elem))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
    }
}

/// The message for a value outside its enum, for JSON and XML alike.
pub(super) fn not_in_enum(value: &str, values: &[String]) -> String {
    let listed: Vec<String> = values.iter().map(|x| format!("{x:?}")).collect();
    format!(
        "{value:?} is not one of the schema's values ({})",
        listed.join(", ")
    )
}

pub(super) fn not_in_int_enum(value: i64, values: &[i64]) -> String {
    let listed: Vec<String> = values.iter().map(i64::to_string).collect();
    format!(
        "{value} is not one of the schema's values ({})",
        listed.join(", ")
    )
}

fn is_number(first: u8) -> bool {
    first == b'-' || first.is_ascii_digit()
}

/// A JSON string value, borrowed from the input when it has no escapes.
fn string(text: &str) -> Option<Value<'_>> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Value::Str(Cow::Borrowed(inner)));
    }
    serde_json::from_str::<String>(text)
        .ok()
        .map(|s| Value::Str(Cow::Owned(s)))
}

/// `{"amount": "12.340" | 12.340, "currency": "KWD"}`.
fn money_value<'a>(text: &str, fixed: Option<Currency>) -> Result<Value<'a>, String> {
    #[derive(serde::Deserialize)]
    struct Raw<'r> {
        #[serde(borrow)]
        amount: &'r RawValue,
        currency: String,
    }
    let raw: Raw<'_> = serde_json::from_str(text).map_err(|_| {
        format!("expected money as {{\"amount\": \"12.34\", \"currency\": \"USD\"}}, found {text}")
    })?;
    let currency = Currency::parse(&raw.currency).ok_or_else(|| not_a_currency(&raw.currency))?;
    if let Some(f) = fixed
        && f != currency
    {
        return Err(format!(
            "expected an amount in {f}, found one in {currency}"
        ));
    }
    let amount_text = raw.amount.get();
    let digits = amount_text.trim_matches('"');
    let amount = convert_text::decimal(digits).map_err(|f| f.message)?;
    Ok(Value::Money(Money { amount, currency }))
}

/// ISO 8601 / RFC 3339 text for the time kinds: what a schema-typed field
/// holds. (Other formats are read by the parse_* transforms.)
pub(super) fn time_value<'a>(s: &str, kind: Scalar) -> Result<Value<'a>, String> {
    use crate::stdlib::datefmt::{Format, Named, Parsed, Target};
    if kind == Scalar::AnyDateTime {
        // An offset when the text has one: only then is it an instant.
        return time_value(s, Scalar::DateTime)
            .or_else(|_| time_value(s, Scalar::LocalDateTime))
            .map_err(|_| format!("{s:?} is not an ISO 8601 date and time"));
    }
    let target = match kind {
        Scalar::Date => Target::Date,
        Scalar::DateTime => Target::DateTime,
        Scalar::LocalDateTime => Target::LocalDateTime,
        _ => Target::Time,
    };
    Ok(
        match Format::Named(Named::Iso8601).parse_value(s, target)? {
            Parsed::DateTime(d) => Value::DateTime(d),
            Parsed::LocalDateTime(d) => Value::LocalDateTime(d),
            Parsed::Date(d) => Value::Date(d),
            Parsed::Time(t) => Value::Time(t),
        },
    )
}
