//! The merge's view of a provider's JSON record: values at paths (missing
//! kept apart from null), equality that a provider's reformatting of a
//! number does not break, blankness, ordering, and patches.

use crate::plan::sync_spec::Path;
use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value as Json};
use std::cmp::Ordering;
use std::str::FromStr;

/// A field's values on one side, one per path; `None` is missing.
#[derive(Clone, Debug, Default)]
pub struct Vals(pub Vec<Option<Json>>);

/// Stored as an array of one-element arrays, `[]` for missing, so missing
/// and `null` survive the store.
impl Serialize for Vals {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let wrapped: Vec<Vec<&Json>> = self.0.iter().map(|v| v.iter().collect()).collect();
        wrapped.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Vals {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Vals, D::Error> {
        let wrapped: Vec<Vec<Json>> = Vec::deserialize(d)?;
        Ok(Vals(
            wrapped.into_iter().map(|v| v.into_iter().next()).collect(),
        ))
    }
}

impl PartialEq for Vals {
    fn eq(&self, other: &Vals) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().zip(&other.0).all(|(a, b)| match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => same(a, b),
                _ => false,
            })
    }
}

impl Vals {
    pub fn at(record: &Json, paths: &[Path]) -> Vals {
        Vals(paths.iter().map(|p| get(record, p).cloned()).collect())
    }

    /// Null, missing, or a string of only whitespace, for every path.
    pub fn is_blank(&self) -> bool {
        self.0.iter().all(|v| match v {
            None | Some(Json::Null) => true,
            Some(Json::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        })
    }

    /// As text for reports: one value, or an array of several.
    pub fn show(&self) -> String {
        let one = |v: &Option<Json>| v.as_ref().map_or("(missing)".to_string(), Json::to_string);
        match self.0.as_slice() {
            [v] => one(v),
            many => format!("({})", many.iter().map(one).collect::<Vec<_>>().join(", ")),
        }
    }
}

pub fn get<'a>(record: &'a Json, path: &[String]) -> Option<&'a Json> {
    path.iter()
        .try_fold(record, |v, name| v.as_object()?.get(name))
}

/// Sets `path` in `record`, creating objects on the way (a non-object in
/// the way is replaced: the write is the newer truth).
pub fn set(record: &mut Json, path: &[String], value: Json) {
    let Some((last, parents)) = path.split_last() else {
        *record = value;
        return;
    };
    let mut at = record;
    for name in parents {
        if !at.is_object() {
            *at = Json::Object(Map::new());
        }
        let Json::Object(m) = at else { return };
        at = m
            .entry(name.clone())
            .or_insert_with(|| Json::Object(Map::new()));
    }
    if !at.is_object() {
        *at = Json::Object(Map::new());
    }
    if let Json::Object(m) = at {
        m.insert(last.clone(), value);
    }
}

pub fn remove(record: &mut Json, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let parent = parents
        .iter()
        .try_fold(&mut *record, |v, name| v.as_object_mut()?.get_mut(name));
    if let Some(Json::Object(m)) = parent {
        m.shift_remove(last);
    }
}

/// JSON equality, with numbers compared by value (`1.50` = `1.5`) and
/// object members in any order.
pub fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (number(x), number(y)) {
            (Some(x), Some(y)) => x == y,
            _ => x.to_string() == y.to_string(),
        },
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn number(n: &serde_json::Number) -> Option<Decimal> {
    let text = n.to_string();
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

/// A date-time with an offset, as providers write them (RFC 3339, or
/// `+0000` offsets as Salesforce does).
pub fn datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
}

/// Orders two values of the same kind: numbers by value, date-times as
/// instants, other strings by text. `None`: they do not compare.
pub fn order(a: &Json, b: &Json) -> Option<Ordering> {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => Some(number(x)?.cmp(&number(y)?)),
        (Json::String(x), Json::String(y)) => match (datetime(x), datetime(y)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => Some(x.cmp(y)),
        },
        (Json::Bool(x), Json::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Orders two versions: integers as integers, date-times as instants,
/// anything else as text.
pub fn version_order(a: &Json, b: &Json) -> Ordering {
    let as_int = |v: &Json| match v {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.parse::<i64>().ok(),
        _ => None,
    };
    if let (Some(x), Some(y)) = (as_int(a), as_int(b)) {
        return x.cmp(&y);
    }
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (x, y) = (text(a), text(b));
    match (datetime(&x), datetime(&y)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => x.cmp(&y),
    }
}

/// A key value as text: strings as they are, other values as JSON.
pub fn key_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The first array's elements followed by the second's it lacks.
pub fn union(first: &Json, second: &Json) -> Option<Json> {
    let (Json::Array(a), Json::Array(b)) = (first, second) else {
        return None;
    };
    let mut out = a.clone();
    for x in b {
        if !out.iter().any(|y| same(x, y)) {
            out.push(x.clone());
        }
    }
    Some(Json::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_equal_by_value_and_members_in_any_order() {
        assert!(same(&json!(1.50), &json!(1.5)));
        assert!(same(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1.0})));
        assert!(!same(&json!(1), &json!("1")));
        assert!(!same(&json!(null), &json!({})));
    }

    #[test]
    fn missing_and_null_survive_storage() {
        let v = Vals(vec![None, Some(Json::Null), Some(json!("x"))]);
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(text, r#"[[],[null],["x"]]"#);
        let back: Vals = serde_json::from_str(&text).unwrap();
        assert_eq!(back.0, v.0);
        assert_ne!(Vals(vec![None]), Vals(vec![Some(Json::Null)]));
    }

    #[test]
    fn versions_and_values_order() {
        assert_eq!(version_order(&json!(9), &json!(10)), Ordering::Less);
        assert_eq!(
            version_order(
                &json!("2024-01-15T10:30:00.000+0000"),
                &json!("2024-01-15T11:00:00+01:00")
            ),
            Ordering::Greater
        );
        assert_eq!(order(&json!(2.5), &json!(10)), Some(Ordering::Less));
        assert_eq!(order(&json!(2), &json!("a")), None);
    }

    #[test]
    fn set_and_remove_nested_paths() {
        let mut r = json!({"a": {"b": 1}});
        set(&mut r, &["a".into(), "c".into()], json!(2));
        set(&mut r, &["x".into(), "y".into()], json!(null));
        assert_eq!(r, json!({"a": {"b": 1, "c": 2}, "x": {"y": null}}));
        remove(&mut r, &["a".into(), "b".into()]);
        assert_eq!(r, json!({"a": {"c": 2}, "x": {"y": null}}));
        assert_eq!(
            union(&json!([1, 2]), &json!([2, 3])),
            Some(json!([1, 2, 3]))
        );
    }
}
