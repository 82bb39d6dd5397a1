//! The three-way merge of one record: both sides' current records, each
//! mapped to the other side, and the base. Pure: no store, no provider.
//! The table of cases is in docs/design/06-sync-runtime.md.

use super::json::{self, Vals};
use crate::base::Side;
use crate::plan::sync_spec::{MergeField, Rule, SyncSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The last values synced to both sides, per merge field (by name).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Base(pub BTreeMap<String, BaseEntry>);

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BaseEntry {
    pub left: Vals,
    pub right: Vals,
}

/// One side of a record as the merge sees it.
#[derive(Clone, Copy, Default)]
pub struct SideView<'a> {
    /// The record as the provider last reported it (with tether's writes
    /// applied); `None` when it does not exist there.
    pub record: Option<&'a Json>,
    /// The record mapped to the other side; `None` when the mapping has no
    /// plan that way.
    pub mapped: Option<&'a Json>,
    /// The version of the side's newest event.
    pub version: Option<&'a Json>,
}

pub struct Input<'a> {
    pub spec: &'a SyncSpec,
    pub left: SideView<'a>,
    pub right: SideView<'a>,
    pub base: Option<&'a Base>,
    /// A person's decisions for parked fields (`tether review resolve`).
    pub decisions: &'a BTreeMap<String, Side>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteKind {
    Create,
    Update,
}

/// What to write to one side.
#[derive(Clone, Debug, PartialEq)]
pub struct Write {
    pub kind: WriteKind,
    /// A create: the whole mapped record. An update: the changed fields.
    pub record: Json,
    /// Paths that became missing (an update only).
    pub unset: Vec<Vec<String>>,
    /// The side's record once the write is applied.
    pub after: Json,
}

/// A conflict and how it was resolved, for `tether sync --explain`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub field: String,
    pub rule: String,
    pub left: String,
    pub right: String,
    pub base: String,
    /// `left`, `right`, `union` or `review`.
    pub outcome: String,
}

/// A field parked for a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parked {
    pub field: String,
    pub left: String,
    pub right: String,
    pub base: String,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub left: Option<Write>,
    pub right: Option<Write>,
    /// The new base; unchanged when the record is parked.
    pub base: Base,
    pub resolutions: Vec<Resolution>,
    /// Non-empty: the record is parked for review; nothing is written.
    pub parked: Vec<Parked>,
}

impl Outcome {
    pub fn write(&self, side: Side) -> Option<&Write> {
        match side {
            Side::Left => self.left.as_ref(),
            Side::Right => self.right.as_ref(),
        }
    }
}

/// Values to set at a field's paths on one side.
type Assignment<'s> = (&'s [Vec<String>], Vals);

/// Which value a changed field takes.
enum Take {
    Side(Side),
    /// Each side gets these values at the paths the other side's rule
    /// writes.
    Union {
        left: Vals,
        right: Vals,
    },
    Park,
}

pub fn merge(input: &Input<'_>) -> Outcome {
    let spec = input.spec;
    let mut out = Outcome::default();
    // Values to set per side: (paths, values).
    let mut sets: [Vec<Assignment<'_>>; 2] = [Vec::new(), Vec::new()];
    for field in &spec.fields {
        let base = input.base.and_then(|b| b.0.get(&field.name));
        let view = |side: Side| match side {
            Side::Left => input.left,
            Side::Right => input.right,
        };
        let current = |side: Side| view(side).record.map(|r| Vals::at(r, field.paths(side)));
        let changed = |side: Side| match (current(side), base) {
            (None, _) => false,
            // Never synced: a value the side has is a change.
            (Some(now), None) => now.0.iter().any(Option::is_some),
            (Some(now), Some(b)) => match side {
                Side::Left => now != b.left,
                Side::Right => now != b.right,
            },
        };
        let (lchg, rchg) = (changed(Side::Left), changed(Side::Right));
        let take = match (lchg, rchg) {
            (false, false) => None,
            (true, false) => Some(Take::Side(Side::Left)),
            (false, true) => Some(Take::Side(Side::Right)),
            (true, true) if agree(input, field) => None,
            (true, true) => {
                let (take, rule) = match input.decisions.get(&field.name) {
                    Some(side) => (Take::Side(*side), "review (resolved by a person)".into()),
                    None => {
                        let rule = spec.rule(field);
                        (resolve(input, field, &rule), spec.describe(&rule))
                    }
                };
                let show = |side| current(side).map_or("(absent)".into(), |v| v.show());
                let base_text = base.map_or("(none)".into(), |b| {
                    format!("{} / {}", b.left.show(), b.right.show())
                });
                let outcome = match &take {
                    Take::Side(s) => s.name(),
                    Take::Union { .. } => "union",
                    Take::Park => "review",
                };
                out.resolutions.push(Resolution {
                    field: field.name.clone(),
                    rule,
                    left: show(Side::Left),
                    right: show(Side::Right),
                    base: base_text.clone(),
                    outcome: outcome.into(),
                });
                if matches!(take, Take::Park) {
                    out.parked.push(Parked {
                        field: field.name.clone(),
                        left: show(Side::Left),
                        right: show(Side::Right),
                        base: base_text,
                    });
                }
                Some(take)
            }
        };
        match take {
            None | Some(Take::Park) => {}
            Some(Take::Side(from)) => {
                let to = from.other();
                if let (Some(paths), Some(mapped)) = (field.written_on(to), view(from).mapped) {
                    sets[to as usize].push((paths, Vals::at(mapped, paths)));
                }
            }
            Some(Take::Union { left, right }) => {
                if let Some(paths) = field.to_left.as_deref() {
                    sets[Side::Left as usize].push((paths, left));
                }
                if let Some(paths) = field.to_right.as_deref() {
                    sets[Side::Right as usize].push((paths, right));
                }
            }
        }
    }
    if !out.parked.is_empty() {
        out.base = input.base.cloned().unwrap_or_default();
        return out;
    }
    let [left_sets, right_sets] = sets;
    out.left = write(Side::Left, input, left_sets);
    out.right = write(Side::Right, input, right_sets);
    let after = |side: Side| -> Option<&Json> {
        match (out.write(side), side) {
            (Some(w), _) => Some(&w.after),
            (None, Side::Left) => input.left.record,
            (None, Side::Right) => input.right.record,
        }
    };
    let (new_left, new_right) = (after(Side::Left), after(Side::Right));
    let mut base = Base::default();
    for f in &spec.fields {
        let at = |r: Option<&Json>, side: Side| {
            r.map_or_else(
                || Vals(vec![None; f.paths(side).len()]),
                |r| Vals::at(r, f.paths(side)),
            )
        };
        base.0.insert(
            f.name.clone(),
            BaseEntry {
                left: at(new_left, Side::Left),
                right: at(new_right, Side::Right),
            },
        );
    }
    out.base = base;
    out
}

/// Both sides changed the field to the same value (in the terms of the
/// side a value would be written to).
fn agree(input: &Input<'_>, field: &MergeField) -> bool {
    let (Some(l), Some(r)) = (input.left.record, input.right.record) else {
        return false;
    };
    let to_right = field.to_right.as_deref().zip(input.left.mapped);
    let to_left = field.to_left.as_deref().zip(input.right.mapped);
    match (to_right, to_left) {
        (Some((paths, fl)), _) => Vals::at(fl, paths) == Vals::at(r, paths),
        (None, Some((paths, rr))) => Vals::at(rr, paths) == Vals::at(l, paths),
        (None, None) => true,
    }
}

/// A conflict by the rule: both sides changed the field differently.
fn resolve(input: &Input<'_>, field: &MergeField, rule: &Rule) -> Take {
    match rule {
        Rule::Prefer { side, unless_blank } => {
            let view = if *side == Side::Left {
                input.left
            } else {
                input.right
            };
            let blank = view
                .record
                .is_none_or(|r| Vals::at(r, field.paths(*side)).is_blank());
            if *unless_blank && blank {
                Take::Side(side.other())
            } else {
                Take::Side(*side)
            }
        }
        Rule::Newest { fields } => {
            let stamps = fields.as_ref().and_then(|(lp, rp)| {
                let l = json::get(input.left.record?, lp)?;
                let r = json::get(input.right.record?, rp)?;
                Some((l, r))
            });
            let stamps = stamps.or_else(|| Some((input.left.version?, input.right.version?)));
            match stamps.map(|(l, r)| json::version_order(l, r)) {
                Some(Ordering::Less) => Take::Side(Side::Right),
                // Equal or unknown: the left side, whatever the arrival order.
                _ => Take::Side(Side::Left),
            }
        }
        Rule::Max | Rule::Min => {
            let Some((l, r)) = comparable(input, field) else {
                return Take::Park;
            };
            match (json::order(&l, &r), rule) {
                (None, _) => Take::Park,
                (Some(Ordering::Less), Rule::Max) | (Some(Ordering::Greater), Rule::Min) => {
                    Take::Side(Side::Right)
                }
                _ => Take::Side(Side::Left),
            }
        }
        Rule::Union => union(input, field).unwrap_or(Take::Park),
        Rule::Review => Take::Park,
    }
}

/// The two sides' single values in the terms of one side (the right when
/// the field flows right).
fn comparable(input: &Input<'_>, field: &MergeField) -> Option<(Json, Json)> {
    let single = |v: Vals| match v.0.as_slice() {
        [Some(x)] => Some(x.clone()),
        _ => None,
    };
    if let (Some(paths), Some(fl)) = (field.to_right.as_deref(), input.left.mapped) {
        let r = input.right.record?;
        return Some((single(Vals::at(fl, paths))?, single(Vals::at(r, paths))?));
    }
    let paths = field.to_left.as_deref()?;
    let (l, rr) = (input.left.record?, input.right.mapped?);
    Some((single(Vals::at(l, paths))?, single(Vals::at(rr, paths))?))
}

fn union(input: &Input<'_>, field: &MergeField) -> Option<Take> {
    let one = |r: Option<&Json>, paths: Option<&[Vec<String>]>| -> Option<Json> {
        match paths? {
            [p] => Some(json::get(r?, p).cloned().unwrap_or(Json::Array(Vec::new()))),
            _ => None,
        }
    };
    let to_right = field.to_right.as_deref();
    let to_left = field.to_left.as_deref();
    // Left elements first on both sides, so both sides end with one array.
    let both = |l: Option<Json>, r: Option<Json>| match (l, r) {
        (Some(l), Some(r)) => json::union(&l, &r).map(|u| Vals(vec![Some(u)])),
        _ => Some(Vals::default()),
    };
    let right = both(
        one(input.left.mapped, to_right),
        one(input.right.record, to_right),
    )?;
    let left = both(
        one(input.left.record, to_left),
        one(input.right.mapped, to_left),
    )?;
    Some(Take::Union { left, right })
}

/// The write to `side` for these values, if anything differs. A side where
/// the record does not exist gets a create of the whole mapped record.
fn write(side: Side, input: &Input<'_>, sets: Vec<Assignment<'_>>) -> Option<Write> {
    let (mine, theirs) = match side {
        Side::Left => (input.left, input.right),
        Side::Right => (input.right, input.left),
    };
    // Not on this side (never, or deleted): a create of the other side's
    // whole record, mapped (there is one only when the other side has it).
    let Some(current) = mine.record else {
        let mapped = theirs.mapped?;
        return Some(Write {
            kind: WriteKind::Create,
            record: mapped.clone(),
            unset: Vec::new(),
            after: mapped.clone(),
        });
    };
    let mut patch = Json::Object(serde_json::Map::new());
    let mut after = current.clone();
    let mut unset = Vec::new();
    for (paths, vals) in sets {
        for (path, value) in paths.iter().zip(vals.0) {
            let now = json::get(current, path);
            match (value, now) {
                (None, None) => {}
                (Some(v), Some(n)) if json::same(&v, n) => {}
                (Some(v), _) => {
                    json::set(&mut patch, path, v.clone());
                    json::set(&mut after, path, v);
                }
                (None, Some(_)) => {
                    json::remove(&mut after, path);
                    unset.push(path.clone());
                }
            }
        }
    }
    let empty = patch.as_object().is_some_and(serde_json::Map::is_empty);
    (!empty || !unset.is_empty()).then_some(Write {
        kind: WriteKind::Update,
        record: patch,
        unset,
        after,
    })
}
