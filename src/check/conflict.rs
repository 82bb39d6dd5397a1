//! `conflict` blocks: each entry's field, the fields it governs on the other
//! side (through the rules that map it), and whether its rule can work on
//! their types, as the sync merge (`sync/merge.rs`) applies it:
//!
//! * `max`/`min` order one value per side: numbers, dates, times, date-times,
//!   text, bools. Both sides must order alike (`"10" < "9"` as text).
//! * `union` merges arrays: both sides arrays of one kind of element.
//! * `newest(a, b)` compares timestamps: date-times (or dates) on both sides,
//!   or integers (versions, epoch numbers) on both; a string is compared as a
//!   date-time only when both values read as one (W0006).
//! * `prefer` (with or without `unless blank`) and `review` fit any field:
//!   blank is missing, null or only whitespace, so it means something for
//!   every type.
//!
//! A second entry for a field (by either side's name) is E0003; the sync
//! runtime would otherwise apply whichever came last.

use super::side_scope;
use super::{Checker, Conflict, DRule, Mapping, Source, Strategy};
use crate::base::Scalar;
use crate::base::{FieldPath, Side, Span};
use crate::diag::{Code, Diagnostic};
use crate::schema::{Kind, RecordId, Type};
use crate::syntax::{self as ast, Direction};
use std::collections::{HashMap, HashSet};

/// Field paths on one side, as names.
type Paths = Vec<Vec<String>>;

/// Each field that has a conflict rule, with the entry's span and path text.
type GovernedBy = HashMap<(Side, Vec<String>), (Span, String)>;

/// A field on one side, as a conflict rule sees it.
struct Governed {
    side: Side,
    path: Vec<String>,
    /// `None`: not a field the checker can type (inside `any`).
    ty: Option<Type>,
    /// For a partner: the rule that maps it.
    rule: Option<Span>,
}

/// One top-level rule as the fields it joins: what the sync runtime merges
/// as one field (`plan::sync_spec::MergeField`).
struct Link {
    left: Paths,
    right: Paths,
    span: Span,
}

impl Link {
    fn paths(&self, side: Side) -> &[Vec<String>] {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }
}

/// The rules of both directions as links, and which links each path is in.
struct Links {
    all: Vec<Link>,
    by_path: HashMap<(Side, Vec<String>), Vec<usize>>,
}

impl Links {
    fn of(mapping: &Mapping) -> Links {
        let mut all = Vec::new();
        for dir in [Direction::Forward, Direction::Reverse] {
            for rule in mapping.rules(dir) {
                let (sources, targets, span) = match rule {
                    DRule::Value(v) => {
                        let sources = match &v.source {
                            Source::Path(p) => vec![p.0.clone()],
                            Source::Tuple(ps) => ps.iter().map(|p| p.0.clone()).collect(),
                            Source::Const(_) => Vec::new(),
                            Source::Gather { array, .. } | Source::Pick { array, .. } => {
                                vec![array.0.clone()]
                            }
                        };
                        let targets = v.targets.iter().map(|t| t.path.0.clone()).collect();
                        (sources, targets, v.origin.span)
                    }
                    DRule::Each(e) => (
                        vec![e.source.0.clone()],
                        vec![e.target.0.clone()],
                        e.origin.span,
                    ),
                };
                all.push(match dir {
                    Direction::Forward => Link {
                        left: sources,
                        right: targets,
                        span,
                    },
                    Direction::Reverse => Link {
                        left: targets,
                        right: sources,
                        span,
                    },
                });
            }
        }
        let mut by_path: HashMap<(Side, Vec<String>), Vec<usize>> = HashMap::new();
        for (i, link) in all.iter().enumerate() {
            for side in [Side::Left, Side::Right] {
                for p in link.paths(side) {
                    by_path.entry((side, p.clone())).or_default().push(i);
                }
            }
        }
        Links { all, by_path }
    }

    /// The paths on the other side that rules join with `path`, each with
    /// the first rule that does.
    fn partners(&self, side: Side, path: &[String]) -> Vec<(Vec<String>, Span)> {
        let mut out: Vec<(Vec<String>, Span)> = Vec::new();
        for &i in self
            .by_path
            .get(&(side, path.to_vec()))
            .into_iter()
            .flatten()
        {
            let link = &self.all[i];
            for p in link.paths(side.other()) {
                if !out.iter().any(|(q, _)| q == p) {
                    out.push((p.clone(), link.span));
                }
            }
        }
        out
    }
}

/// How a kind orders in the merge (`sync::json::order`), when it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Number,
    Text,
    Instant,
    LocalDateTime,
    Date,
    Time,
    Bool,
}

/// Why a kind does not order.
enum Unordered {
    Money,
    Enum,
    Code,
    Composite,
}

fn order_of(kind: &Kind) -> Result<Option<Order>, Unordered> {
    let scalar = match kind {
        Kind::Any => return Ok(None),
        Kind::Scalar(s) => *s,
        Kind::IntEnum(_) => Scalar::Int,
        Kind::Money(_) => Scalar::Money,
        Kind::Enum(_) => return Err(Unordered::Enum),
        Kind::Array(_) | Kind::Map(_) | Kind::Record(_) => return Err(Unordered::Composite),
    };
    Ok(Some(match scalar {
        Scalar::Int | Scalar::Decimal | Scalar::Float => Order::Number,
        Scalar::String => Order::Text,
        Scalar::DateTime | Scalar::AnyDateTime => Order::Instant,
        Scalar::LocalDateTime => Order::LocalDateTime,
        Scalar::Date => Order::Date,
        Scalar::Time => Order::Time,
        Scalar::Bool => Order::Bool,
        Scalar::Money => return Err(Unordered::Money),
        Scalar::Currency => return Err(Unordered::Code),
    }))
}

/// What `newest(a, b)` can compare a field as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stamp {
    /// Dates and date-times, compared as instants (or ISO text).
    Time,
    /// Versions and epoch numbers.
    Number,
    /// Text: a date-time only when both values read as one.
    Text,
}

fn stamp_of(kind: &Kind) -> Option<Option<Stamp>> {
    Some(Some(match kind {
        Kind::Any => return Some(None),
        Kind::Scalar(Scalar::DateTime | Scalar::AnyDateTime)
        | Kind::Scalar(Scalar::LocalDateTime | Scalar::Date) => Stamp::Time,
        Kind::Scalar(Scalar::Int) => Stamp::Number,
        Kind::Scalar(Scalar::String) => Stamp::Text,
        _ => return None,
    }))
}

/// Why a rule does not fit the fields it governs.
enum Misfit {
    /// `fields[i]`'s type does not suit the rule.
    Type(usize, String),
    /// `fields[i]` and `fields[j]` suit it, but not together.
    Pair(usize, usize, String),
}

fn strategy_word(s: &Strategy) -> &'static str {
    match s {
        Strategy::Prefer { .. } => "prefer",
        Strategy::Newest { .. } => "newest",
        // Also the names of aggregates: the words are the syntax's, so the
        // checker names no transform.
        Strategy::Max => ast::Strategy::Max.keyword(),
        Strategy::Min => ast::Strategy::Min.keyword(),
        Strategy::Union => "union",
        Strategy::Review => "review",
    }
}

/// Whether `strategy` can resolve a conflict on `fields` (the named field
/// first, then its partners).
fn fit(strategy: &Strategy, fields: &[Governed]) -> Result<(), Misfit> {
    match strategy {
        Strategy::Max | Strategy::Min => {
            let mut first: Option<(usize, Order)> = None;
            for (i, f) in fields.iter().enumerate() {
                let Some(ty) = &f.ty else { continue };
                match order_of(&ty.kind) {
                    Ok(None) => {}
                    Ok(Some(o)) => match first {
                        None => first = Some((i, o)),
                        Some((j, p)) if p != o => {
                            return Err(Misfit::Pair(
                                j,
                                i,
                                "the two sides order differently (as text `\"10\"` is below `\"9\"`); the merge compares the values of the side they are written to".into(),
                            ));
                        }
                        Some(_) => {}
                    },
                    Err(why) => {
                        let why = match why {
                            Unordered::Money => {
                                "money does not order: two amounts compare only in one currency, which the merge does not check"
                            }
                            Unordered::Enum => {
                                "an enum's values would order as text, not as declared"
                            }
                            Unordered::Code => "currency codes do not order",
                            Unordered::Composite => "arrays, maps and records do not order",
                        };
                        return Err(Misfit::Type(i, why.into()));
                    }
                }
            }
            Ok(())
        }
        Strategy::Union => {
            let mut first: Option<(usize, Kind)> = None;
            for (i, f) in fields.iter().enumerate() {
                let Some(ty) = &f.ty else { continue };
                match &ty.kind {
                    Kind::Any => {}
                    Kind::Array(elem) => match &first {
                        None => first = Some((i, elem.kind.clone())),
                        Some((j, other)) if !elements_meet(other, &elem.kind) => {
                            return Err(Misfit::Pair(
                                *j,
                                i,
                                "`union` merges arrays of one kind of element".into(),
                            ));
                        }
                        Some(_) => {}
                    },
                    _ => {
                        return Err(Misfit::Type(
                            i,
                            "`union` merges arrays (the left's elements first, then the right's it lacks)"
                                .into(),
                        ));
                    }
                }
            }
            Ok(())
        }
        Strategy::Prefer { .. } | Strategy::Newest { .. } | Strategy::Review => Ok(()),
    }
}

/// Elements the merge can hold in one array: the same kind, or `any`.
fn elements_meet(a: &Kind, b: &Kind) -> bool {
    matches!((a, b), (Kind::Any, _) | (_, Kind::Any))
        || a == b
        || matches!(
            (a, b),
            (
                Kind::Scalar(Scalar::Int | Scalar::Decimal),
                Kind::Scalar(Scalar::Int | Scalar::Decimal)
            )
        )
}

/// The type of the field at `path` from `rec`, when the path names one.
fn type_at(cx: &Checker<'_>, rec: RecordId, path: &[String]) -> Option<Type> {
    let mut rec = rec;
    let mut ty: Option<Type> = None;
    for name in path {
        if let Some(t) = &ty {
            rec = match &t.kind {
                Kind::Record(r) => *r,
                _ => return None,
            };
        }
        let (_, f) = cx.reg.record(rec).field(name)?;
        ty = Some(f.ty.clone());
    }
    ty
}

impl Checker<'_> {
    /// Checks every conflict entry of the mapping's `conflict` blocks.
    pub(super) fn conflicts(
        &mut self,
        m: &ast::MappingDecl,
        blocks: &[&ast::ConflictBlock],
        mapping: &Mapping,
    ) -> Vec<Conflict> {
        let links = Links::of(mapping);
        let mut out = Vec::new();
        let mut default: Option<(Span, Strategy)> = None;
        // Every field an entry governs, with the entry that governs it.
        let mut governed_by: GovernedBy = HashMap::new();
        let left_side = side_scope(mapping.left);
        let right_side = side_scope(mapping.right);
        for e in blocks.iter().flat_map(|b| &b.entries) {
            let Some(strategy) = self.strategy(mapping, &e.strategy) else {
                continue;
            };
            let Some(p) = &e.field else {
                if default.is_some() {
                    self.err(
                        Diagnostic::error(
                            Code::E0003,
                            self.file,
                            e.span,
                            "a second `default` conflict rule",
                        )
                        .label("only one default"),
                    );
                    continue;
                }
                out.push(Conflict {
                    field: None,
                    strategy: strategy.clone(),
                });
                default = Some((e.span, strategy));
                continue;
            };
            let resolved = match self.resolve_quiet(&right_side, p) {
                Some(r) => Some((Side::Right, r)),
                None => self.resolve_quiet(&left_side, p).map(|r| (Side::Left, r)),
            };
            let Some((side, r)) = resolved else {
                // Report against the right side, with its names.
                self.resolve(&right_side, p, "");
                continue;
            };
            if !mapped_anywhere(&m.body, p) {
                let d = Diagnostic::error(
                    Code::E0214,
                    self.file,
                    p.span,
                    format!("`{p}` is not mapped by any rule"),
                )
                .label("a conflict rule needs a mapped field");
                self.err(d);
                continue;
            }
            let mut fields = vec![Governed {
                side,
                path: r.names.clone(),
                ty: Some(
                    r.field
                        .as_ref()
                        .map_or_else(|| r.ty.as_type(), |f| f.ty.clone()),
                ),
                rule: None,
            }];
            for (path, span) in links.partners(side, &r.names) {
                let rec = match side.other() {
                    Side::Left => mapping.left,
                    Side::Right => mapping.right,
                };
                fields.push(Governed {
                    ty: type_at(self, rec, &path),
                    side: side.other(),
                    path,
                    rule: Some(span),
                });
            }
            if self.duplicate(&mut governed_by, &fields, p) {
                continue;
            }
            if let Err(misfit) = fit(&strategy, &fields) {
                self.misfit(&strategy, &fields, misfit, p.span, p);
                continue;
            }
            out.push(Conflict {
                field: Some(FieldPath(r.names)),
                strategy,
            });
        }
        if let Some((span, strategy)) = default {
            self.default_fits(mapping, &links, &governed_by, span, &strategy);
        }
        out
    }

    /// E0003 when one of `fields` already has a rule; records them otherwise.
    fn duplicate(
        &mut self,
        governed_by: &mut GovernedBy,
        fields: &[Governed],
        p: &ast::Path,
    ) -> bool {
        let earlier = fields
            .iter()
            .find_map(|f| governed_by.get(&(f.side, f.path.clone())));
        if let Some((first, name)) = earlier {
            let d = Diagnostic::error(
                Code::E0003,
                self.file,
                p.span,
                format!("a second conflict rule for `{p}`"),
            )
            .label("second rule")
            .secondary(
                self.file,
                *first,
                if *name == p.to_string() {
                    "first rule for it".to_string()
                } else {
                    format!("first rule, for `{name}`, which rules map with it")
                },
            )
            .help("keep one of them: a field has one conflict rule");
            self.err(d);
            return true;
        }
        for f in fields {
            governed_by.insert((f.side, f.path.clone()), (p.span, p.to_string()));
        }
        false
    }

    /// E0214 for a rule that does not fit its fields' types.
    fn misfit(
        &mut self,
        strategy: &Strategy,
        fields: &[Governed],
        misfit: Misfit,
        at: Span,
        p: &ast::Path,
    ) {
        let word = strategy_word(strategy);
        let shown = |cx: &Self, f: &Governed| {
            f.ty.as_ref()
                .map_or_else(|| cx.reg.display_kind(&Kind::Any), |t| cx.reg.display(t))
        };
        let d = match misfit {
            Misfit::Type(i, why) => {
                let f = &fields[i];
                let ty = shown(self, f);
                let mut d = Diagnostic::error(
                    Code::E0214,
                    self.file,
                    at,
                    format!(
                        "`{word}` does not fit `{}`, which is `{ty}`",
                        f.path.join(".")
                    ),
                )
                .label(if i == 0 {
                    format!("`{ty}`")
                } else {
                    format!("mapped with `{}`: `{ty}`", f.path.join("."))
                });
                if let Some(rule) = f.rule {
                    d = d.secondary(self.file, rule, "the rule that maps them");
                }
                d.note(why)
            }
            Misfit::Pair(i, j, why) => {
                let (a, b) = (&fields[i], &fields[j]);
                let mut d = Diagnostic::error(
                    Code::E0214,
                    self.file,
                    at,
                    format!(
                        "`{word}` on `{p}` compares `{}` (`{}`) with `{}` (`{}`)",
                        a.path.join("."),
                        shown(self, a),
                        b.path.join("."),
                        shown(self, b)
                    ),
                )
                .label("the two sides' values do not compare");
                if let Some(rule) = b.rule.or(a.rule) {
                    d = d.secondary(self.file, rule, "the rule that maps them");
                }
                d.note(why)
            }
        };
        self.err(d.help("give both sides' fields types that fit, or resolve this field with `prefer SIDE`, `newest` or `review`"));
    }

    /// A `default` of `max`, `min` or `union` applies to every field without
    /// its own rule: each must fit it.
    fn default_fits(
        &mut self,
        mapping: &Mapping,
        links: &Links,
        governed_by: &GovernedBy,
        span: Span,
        strategy: &Strategy,
    ) {
        if !matches!(strategy, Strategy::Max | Strategy::Min | Strategy::Union) {
            return;
        }
        let key = mapping
            .key
            .as_ref()
            .map(|(l, r)| (vec![l.0.clone()], vec![r.0.clone()]));
        let mut seen: HashSet<(Paths, Paths)> = HashSet::new();
        let mut misfits: Vec<String> = Vec::new();
        for link in &links.all {
            let (mut l, mut r) = (link.left.clone(), link.right.clone());
            l.sort();
            r.sort();
            if key.as_ref().is_some_and(|(kl, kr)| *kl == l && *kr == r) {
                continue;
            }
            let own_rule = [(Side::Left, &l), (Side::Right, &r)].iter().any(|(s, ps)| {
                ps.iter()
                    .any(|p| governed_by.contains_key(&(*s, p.clone())))
            });
            if own_rule || !seen.insert((l.clone(), r.clone())) {
                continue;
            }
            let fields: Vec<Governed> = [
                (Side::Left, mapping.left, &l),
                (Side::Right, mapping.right, &r),
            ]
            .into_iter()
            .flat_map(|(side, rec, ps)| ps.iter().map(move |p| (side, rec, p.clone())))
            .map(|(side, rec, path)| Governed {
                ty: type_at(self, rec, &path),
                side,
                path,
                rule: Some(link.span),
            })
            .collect();
            if fit(strategy, &fields).is_err() {
                let named = if r.is_empty() { &l } else { &r };
                misfits.push(
                    named
                        .iter()
                        .map(|p| format!("`{}`", p.join(".")))
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
        }
        if misfits.is_empty() {
            return;
        }
        let word = strategy_word(strategy);
        let d = Diagnostic::error(
            Code::E0214,
            self.file,
            span,
            format!(
                "the default `{word}` does not fit {} field{}: {}",
                misfits.len(),
                if misfits.len() == 1 { "" } else { "s" },
                misfits.join(", ")
            ),
        )
        .label("applies to every field without its own rule")
        .note(match strategy {
            Strategy::Union => "`union` merges arrays",
            _ => "`max` and `min` order numbers, dates, times, date-times, text and bools, alike on both sides",
        })
        .help("give those fields their own rule (`Field prefer SIDE`), or make the default `newest` or `prefer SIDE`");
        self.err(d);
    }

    /// The runtime form of an entry's strategy; `newest(a, b)`'s timestamps
    /// resolved and checked.
    fn strategy(&mut self, mapping: &Mapping, s: &ast::Strategy) -> Option<Strategy> {
        Some(match s {
            ast::Strategy::Prefer { side, unless_blank } => Strategy::Prefer {
                side: self.side(mapping, side)?,
                unless_blank: *unless_blank,
            },
            ast::Strategy::Newest { fields: None } => Strategy::Newest { fields: None },
            ast::Strategy::Newest {
                fields: Some((a, b)),
            } => {
                let ra = self.resolve(&side_scope(mapping.left), a, "left");
                let rb = self.resolve(&side_scope(mapping.right), b, "right");
                let (ra, rb) = (ra?, rb?);
                let stamps = [(a, &ra), (b, &rb)].map(|(p, r)| (p, r.ty.as_type()));
                self.timestamps(&stamps)?;
                Strategy::Newest {
                    fields: Some((FieldPath(ra.names), FieldPath(rb.names))),
                }
            }
            ast::Strategy::Max => Strategy::Max,
            ast::Strategy::Min => Strategy::Min,
            ast::Strategy::Union => Strategy::Union,
            ast::Strategy::Review => Strategy::Review,
        })
    }

    /// `newest(a, b)`: both timestamps, of one kind. A string is allowed
    /// with W0006 (compared as a date-time only when both values read as one).
    fn timestamps(&mut self, stamps: &[(&ast::Path, Type); 2]) -> Option<()> {
        let mut kinds = Vec::new();
        for (p, ty) in stamps {
            match stamp_of(&ty.kind) {
                None => {
                    let d = Diagnostic::error(
                        Code::E0214,
                        self.file,
                        p.span,
                        format!("`newest` needs a timestamp; `{p}` is `{}`", self.reg.display(ty)),
                    )
                    .label("not a timestamp")
                    .note("`newest(a, b)` compares date-times (or dates), or integers such as versions and epoch numbers")
                    .help("name each side's last-modified field, or write `newest` alone to compare the events' versions");
                    return self.fail(d);
                }
                Some(Some(Stamp::Text)) => {
                    let d = Diagnostic::warning(
                        Code::W0006,
                        self.file,
                        p.span,
                        format!("`{p}` is a string: `newest` compares it as text unless both values read as date-times"),
                    )
                    .label("a `string` timestamp")
                    .note("RFC 3339 text (`2024-01-15T10:30:00Z`, `+0000` offsets) compares as an instant; any other form as text, which is not time order")
                    .help("declare the field `datetime` in its schema");
                    self.err(d);
                    kinds.push((*p, ty, None));
                }
                Some(stamp) => kinds.push((*p, ty, stamp)),
            }
        }
        if let [(a, at, Some(x)), (b, bt, Some(y))] = kinds.as_slice()
            && x != y
        {
            let d = Diagnostic::error(
                Code::E0214,
                self.file,
                a.span.to(b.span),
                format!(
                    "`newest` compares `{a}` (`{}`) with `{b}` (`{}`)",
                    self.reg.display(at),
                    self.reg.display(bt)
                ),
            )
            .label("timestamps of two kinds")
            .note("a date-time and a number do not say which is newer")
            .help("name fields of one kind on both sides");
            return self.fail(d);
        }
        Some(())
    }
}

impl Checker<'_> {
    /// `on delete ... when FLAG, ...`: each flag is a boolean field of the
    /// left or the right record.
    pub(super) fn delete_flags(
        &mut self,
        mapping: &Mapping,
        flags: &[ast::Path],
    ) -> Vec<(Side, FieldPath)> {
        let mut out = Vec::new();
        for p in flags {
            let sides = [
                (Side::Left, side_scope(mapping.left)),
                (Side::Right, side_scope(mapping.right)),
            ];
            let found = sides
                .iter()
                .find_map(|(side, scope)| self.resolve_quiet(scope, p).map(|r| (*side, r)));
            let Some((side, r)) = found else {
                self.resolve(&side_scope(mapping.left), p, "");
                continue;
            };
            if r.ty.kind != Kind::Scalar(Scalar::Bool) {
                self.err(
                    Diagnostic::error(
                        Code::E0201,
                        self.file,
                        p.span,
                        format!("`{p}` is not a boolean field"),
                    )
                    .label(format!("this is `{}`", r.ty.display(&self.reg)))
                    .note("a delete flag marks a record deleted when it is `true`"),
                );
                continue;
            }
            out.push((side, FieldPath(r.names)));
        }
        out
    }
}

/// Whether any rule (at any depth) has `path` as one of its endpoints.
pub(super) fn mapped_anywhere(body: &[ast::MappingItem], path: &ast::Path) -> bool {
    body.iter().any(|item| match item {
        ast::MappingItem::Rule(r) => {
            let ends = |e: &ast::Endpoint| match e {
                ast::Endpoint::Path(p) => same_fields(p, path),
                ast::Endpoint::Tuple(ps, _) => ps.iter().any(|p| same_fields(p, path)),
                ast::Endpoint::Literal(_) => false,
            };
            ends(&r.left)
                || ends(&r.right)
                || r.block.as_deref().is_some_and(|b| mapped_anywhere(b, path))
        }
        ast::MappingItem::Conflict(_)
        | ast::MappingItem::Unmapped(_)
        | ast::MappingItem::Broken(_)
        | ast::MappingItem::For(_)
        | ast::MappingItem::Ids { .. } => false,
    })
}

/// Two paths naming the same fields (`Amt.@Ccy` and `Amt.Ccy` do).
pub(super) fn same_fields(a: &ast::Path, b: &ast::Path) -> bool {
    a.segments.len() == b.segments.len()
        && a.segments
            .iter()
            .zip(&b.segments)
            .all(|(x, y)| x.name == y.name && x.iter == y.iter)
}
