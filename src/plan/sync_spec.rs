//! What the sync runtime needs of a mapping besides its two plans: the key,
//! the merge fields and their conflict rules, the delete policy. Built once
//! from the checked mapping (at `tether build`), serialised in the plan
//! file, so the runtime never needs the checker. It lives in `plan`, below
//! `sync`, because the plan file holds it; the queries the runtime asks of
//! it against JSON records are in `sync::spec`.

use crate::base::{FieldPath, Side};
use crate::check::{DRule, Mapping, Source, Strategy, TArg, TStep};
use crate::syntax::DeletePolicy;
use serde::{Deserialize, Serialize};

/// A field path as JSON member names.
pub type Path = Vec<String>;

/// A conflict rule, as the runtime applies it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Rule {
    Prefer {
        side: Side,
        unless_blank: bool,
    },
    /// By the records' (or fields') timestamps; `None`: by event version.
    Newest {
        fields: Option<(Path, Path)>,
    },
    Max,
    Min,
    Union,
    Review,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Prefer {
                side,
                unless_blank: false,
            } => write!(f, "prefer {side}"),
            Rule::Prefer {
                side,
                unless_blank: true,
            } => write!(f, "prefer {side} unless blank"),
            Rule::Newest { fields: None } => f.write_str("newest"),
            Rule::Newest {
                fields: Some((l, r)),
            } => write!(f, "newest({}, {})", l.join("."), r.join(".")),
            Rule::Max => f.write_str("max"),
            Rule::Min => f.write_str("min"),
            Rule::Union => f.write_str("union"),
            Rule::Review => f.write_str("review"),
        }
    }
}

/// A unit of the three-way merge: the paths one rule (or a `->` and `<-`
/// pair over the same paths) joins. See docs/design/06-sync-runtime.md.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergeField {
    /// How diagnostics and `--explain` name it: its right-side paths.
    pub name: String,
    /// Every left path whose value matters to the field (written by the
    /// reverse rule, read by the forward rule and its arguments).
    pub left: Vec<Path>,
    pub right: Vec<Path>,
    /// Where the forward rule writes (on the right), if it flows right.
    pub to_right: Option<Vec<Path>>,
    /// Where the reverse rule writes (on the left), if it flows left.
    pub to_left: Option<Vec<Path>>,
    /// The field's own conflict rule.
    pub rule: Option<Rule>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncSpec {
    pub mapping: String,
    /// The sides' names in the mapping (`hubspot`, `salesforce`).
    pub left_side: String,
    pub right_side: String,
    /// The key on each side; `None` when the mapping has no `key`.
    pub key: Option<(Path, Path)>,
    /// `ids id <-> Id`: the field each provider identifies its records by.
    pub ids: Option<(Path, Path)>,
    pub fields: Vec<MergeField>,
    /// The `default` conflict rule; `newest` when the mapping states none.
    pub default_rule: Rule,
    pub on_delete: DeletePolicy,
    /// Boolean fields that mark a record of their side deleted
    /// (`on delete ... when archived`).
    pub delete_flags: Vec<(Side, Path)>,
    /// Record-level timestamps (the default `newest(a, b)` rule's paths):
    /// the version of a plain record that arrives without one.
    pub timestamps: Option<(Path, Path)>,
}

impl SyncSpec {
    pub fn of(mapping: &Mapping) -> SyncSpec {
        let rule_of = |s: &Strategy| match s {
            Strategy::Prefer { side, unless_blank } => Rule::Prefer {
                side: *side,
                unless_blank: *unless_blank,
            },
            Strategy::Newest { fields } => Rule::Newest {
                fields: fields.as_ref().map(|(a, b)| (a.0.clone(), b.0.clone())),
            },
            Strategy::Max => Rule::Max,
            Strategy::Min => Rule::Min,
            Strategy::Union => Rule::Union,
            Strategy::Review => Rule::Review,
        };
        let default_rule = mapping
            .conflicts
            .iter()
            .find(|c| c.field.is_none())
            .map_or(Rule::Newest { fields: None }, |c| rule_of(&c.strategy));
        let key = mapping
            .key
            .as_ref()
            .map(|(l, r)| (l.0.clone(), r.0.clone()));
        let mut fields = merge_fields(mapping, key.as_ref());
        for c in &mapping.conflicts {
            let Some(path) = &c.field else { continue };
            for f in &mut fields {
                if f.touches(&path.0) {
                    f.rule = Some(rule_of(&c.strategy));
                }
            }
        }
        let timestamps = match &default_rule {
            Rule::Newest { fields } => fields.clone(),
            _ => None,
        };
        SyncSpec {
            mapping: mapping.name.clone(),
            left_side: mapping.left_side.clone(),
            right_side: mapping.right_side.clone(),
            key,
            ids: mapping
                .ids
                .as_ref()
                .map(|(l, r)| (l.0.clone(), r.0.clone())),
            fields,
            default_rule,
            on_delete: mapping.on_delete.unwrap_or_default(),
            delete_flags: mapping
                .delete_flags
                .iter()
                .map(|(side, p)| (*side, p.0.clone()))
                .collect(),
            timestamps,
        }
    }

    /// The name a side has in the mapping.
    pub fn side_name(&self, side: Side) -> &str {
        match side {
            Side::Left => &self.left_side,
            Side::Right => &self.right_side,
        }
    }

    /// The paths of a `side` record the runtime reads besides the plans:
    /// the record timestamp, the delete flags and the id.
    pub fn own_paths(&self, side: Side) -> Vec<&[String]> {
        let mut out: Vec<&[String]> = Vec::new();
        for (l, r) in [&self.timestamps, &self.ids].into_iter().flatten() {
            out.push(if side == Side::Left { l } else { r });
        }
        for (s, p) in &self.delete_flags {
            if *s == side {
                out.push(p);
            }
        }
        out
    }

    pub fn key_path(&self, side: Side) -> Option<&Path> {
        self.key.as_ref().map(|(l, r)| match side {
            Side::Left => l,
            Side::Right => r,
        })
    }

    /// A rule as the mapping wrote it, with the sides' names.
    pub fn describe(&self, rule: &Rule) -> String {
        match rule {
            Rule::Prefer { side, unless_blank } => format!(
                "prefer {}{}",
                self.side_name(*side),
                if *unless_blank { " unless blank" } else { "" }
            ),
            other => other.to_string(),
        }
    }

    pub fn rule(&self, field: &MergeField) -> Rule {
        field
            .rule
            .clone()
            .unwrap_or_else(|| self.default_rule.clone())
    }
}

impl MergeField {
    /// Whether a conflict entry's path names this field (on either side,
    /// or a part of it).
    fn touches(&self, path: &[String]) -> bool {
        let written = self.to_right.iter().chain(&self.to_left).flatten();
        written
            .into_iter()
            .any(|p| p.starts_with(path) || path.starts_with(p))
    }

    pub fn paths(&self, side: Side) -> &[Path] {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    /// Where a value flowing to `side` is written.
    pub fn written_on(&self, side: Side) -> Option<&[Path]> {
        match side {
            Side::Left => self.to_left.as_deref(),
            Side::Right => self.to_right.as_deref(),
        }
    }
}

/// One top-level rule of one direction: the paths it reads and writes.
struct Flow {
    /// The rule's source paths (what its partner would write).
    sources: Vec<Path>,
    /// Every path it reads: the sources and its steps' field arguments.
    reads: Vec<Path>,
    targets: Vec<Path>,
}

fn flows(rules: &[DRule]) -> Vec<Flow> {
    rules
        .iter()
        .map(|r| match r {
            DRule::Value(v) => {
                let sources: Vec<Path> = match &v.source {
                    Source::Path(p) => vec![p.0.clone()],
                    Source::Tuple(ps) => ps.iter().map(|p| p.0.clone()).collect(),
                    Source::Const(_) => Vec::new(),
                    Source::Gather { array, .. } | Source::Pick { array, .. } => {
                        vec![array.0.clone()]
                    }
                };
                let mut reads = sources.clone();
                step_reads(&v.steps, &mut reads);
                Flow {
                    sources,
                    reads,
                    targets: v.targets.iter().map(|t| t.path.0.clone()).collect(),
                }
            }
            DRule::Each(e) => Flow {
                sources: vec![e.source.0.clone()],
                reads: vec![e.source.0.clone()],
                targets: vec![e.target.0.clone()],
            },
        })
        .collect()
}

fn step_reads(steps: &[TStep], out: &mut Vec<Path>) {
    let add = |p: &FieldPath, out: &mut Vec<Path>| {
        if !out.contains(&p.0) {
            out.push(p.0.clone());
        }
    };
    for s in steps {
        match s {
            TStep::Call { args, .. } => {
                for a in args {
                    if let TArg::Path(p, _) = a {
                        add(p, out);
                    }
                }
            }
            TStep::Path(p) => add(p, out),
            TStep::If {
                condition,
                then,
                otherwise,
            } => {
                step_reads(condition, out);
                step_reads(then, out);
                step_reads(otherwise, out);
            }
            TStep::Each(inner) => step_reads(inner, out),
            TStep::Table { .. } | TStep::Const(_) => {}
        }
    }
}

/// Pairs the forward and reverse rules into merge fields; the key rules
/// are left out (they identify the record).
fn merge_fields(mapping: &Mapping, key: Option<&(Path, Path)>) -> Vec<MergeField> {
    let is_key = |targets: &[Path], side: Side| {
        key.is_some_and(|(l, r)| {
            let k = if side == Side::Left { l } else { r };
            targets.len() == 1 && &targets[0] == k
        })
    };
    let mut reverse: Vec<Option<Flow>> = flows(&mapping.reverse)
        .into_iter()
        .filter(|f| !is_key(&f.targets, Side::Left))
        .map(Some)
        .collect();
    let mut fields = Vec::new();
    for fwd in flows(&mapping.forward) {
        if is_key(&fwd.targets, Side::Right) {
            continue;
        }
        let partner = reverse
            .iter_mut()
            .find(|r| {
                r.as_ref()
                    .is_some_and(|r| r.sources == fwd.targets && r.targets == fwd.sources)
            })
            .and_then(Option::take);
        let mut left = fwd.reads.clone();
        let mut right = fwd.targets.clone();
        let to_left = partner.map(|r| {
            union(&mut right, &r.reads);
            union(&mut left, &r.targets);
            r.targets
        });
        fields.push(MergeField {
            name: display(&fwd.targets),
            left,
            right,
            to_right: Some(fwd.targets),
            to_left,
            rule: None,
        });
    }
    for r in reverse.into_iter().flatten() {
        fields.push(MergeField {
            name: display(&r.targets),
            left: r.targets.clone(),
            right: r.reads,
            to_right: None,
            to_left: Some(r.targets),
            rule: None,
        });
    }
    fields
}

fn union(into: &mut Vec<Path>, more: &[Path]) {
    for p in more {
        if !into.contains(p) {
            into.push(p.clone());
        }
    }
}

fn display(paths: &[Path]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.join(".")).collect();
    match names.as_slice() {
        [one] => one.clone(),
        many => format!("({})", many.join(", ")),
    }
}
