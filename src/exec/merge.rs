//! `--base`: writing into existing records, the lens's `put`
//! (docs/design/04-directionality.md). Each output record is merged into
//! the base record with the same key: what the output has wins, everything
//! else is kept — fields the mapping does not cover, and covered fields
//! whose source was missing. Nothing is dropped.

use crate::plan::{Plan, Shapes};
use crate::schema::RecordId;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// The existing records of the side being written.
pub struct Bases {
    /// By the key's value (as compact JSON), when the mapping has a key.
    by_key: HashMap<String, Json>,
    /// The one base record of a mapping without a key.
    single: Option<Json>,
    key: Option<Vec<String>>,
}

impl Bases {
    /// Reads base records (NDJSON, a JSON array, or one JSON object) and
    /// indexes them by the output's key path.
    pub fn parse(text: &str, plan: &Plan) -> Result<Bases, String> {
        let records: Vec<Json> = match serde_json::from_str::<Json>(text) {
            Ok(Json::Array(items)) => items,
            Ok(one) => vec![one],
            Err(_) => text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| {
                    serde_json::from_str(l).map_err(|e| format!("line {}: not JSON: {e}", i + 1))
                })
                .collect::<Result<_, _>>()?,
        };
        let key = plan.target_key.clone();
        let Some(path) = &key else {
            return match records.len() {
                0 => Ok(Bases {
                    by_key: HashMap::new(),
                    single: None,
                    key,
                }),
                1 => Ok(Bases {
                    by_key: HashMap::new(),
                    single: records.into_iter().next(),
                    key,
                }),
                n => Err(format!(
                    "{n} base records, and mapping `{}` has no `key` to match them by",
                    plan.mapping
                )),
            };
        };
        let mut by_key = HashMap::new();
        for (i, r) in records.into_iter().enumerate() {
            if !r.is_object() {
                return Err(format!("base record {} is not an object", i + 1));
            }
            let Some(k) = at(&r, path) else {
                return Err(format!(
                    "base record {} has no key `{}`",
                    i + 1,
                    path.join(".")
                ));
            };
            let k = k.to_string();
            if by_key.insert(k.clone(), r).is_some() {
                return Err(format!("two base records have the key {k}"));
            }
        }
        Ok(Bases {
            by_key,
            single: None,
            key,
        })
    }

    /// The output record (compact JSON) merged into its base record, if it
    /// has one; else as it is.
    pub fn apply(&self, plan: &Plan, output: &str) -> String {
        let Ok(out) = serde_json::from_str::<Json>(output) else {
            return output.to_string();
        };
        let base = match &self.key {
            Some(path) => at(&out, path).and_then(|k| self.by_key.get(&k.to_string())),
            None => self.single.as_ref(),
        };
        match base {
            Some(b) => merge(out, b, Some(plan.target), &plan.shapes).to_string(),
            None => output.to_string(),
        }
    }
}

/// The value at `path` in `v`.
fn at<'v>(v: &'v Json, path: &[String]) -> Option<&'v Json> {
    path.iter().try_fold(v, |v, name| v.get(name))
}

/// `out` written over `base`: objects member by member (in the schema's
/// order, then the output's other members, then the base's), anything else
/// replaced.
pub fn merge(out: Json, base: &Json, shape: Option<RecordId>, shapes: &Shapes) -> Json {
    let (mut out, base) = match (out, base) {
        (Json::Object(o), Json::Object(b)) => (o, b),
        (o, _) => return o,
    };
    let mut merged = Map::new();
    let fields = shape.and_then(|r| shapes.get(r)).unwrap_or(&[]);
    for f in fields {
        let child = match (out.shift_remove(&f.name), base.get(&f.name)) {
            (Some(o), Some(b)) => merge(o, b, f.shape, shapes),
            (Some(o), None) => o,
            (None, Some(b)) => b.clone(),
            (None, None) => continue,
        };
        merged.insert(f.name.clone(), child);
    }
    for (k, o) in out {
        let child = match base.get(&k) {
            Some(b) => merge(o, b, None, shapes),
            None => o,
        };
        merged.insert(k, child);
    }
    for (k, b) in base {
        if !merged.contains_key(k) {
            merged.insert(k.clone(), b.clone());
        }
    }
    Json::Object(merged)
}
