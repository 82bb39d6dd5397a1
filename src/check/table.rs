//! Value tables: declaration (duplicates, ambiguous reverse entries) and each
//! use in a pipeline (key type, enum exhaustiveness, the values it yields).

use super::types::{Ty, literal_value};
use super::{Checker, Table, TableMap};
use crate::base::Scalar;
use crate::base::{Span, Value};
use crate::diag::{Code, Diagnostic};
use crate::schema::Kind;
use crate::stdlib;
use crate::syntax::{self as ast, ArrowKind, Direction};
use std::collections::{HashMap, HashSet};

/// Where each entry's key is written, parallel to `TableMap::entries`.
#[derive(Default)]
pub(super) struct KeySpans {
    forward: Vec<Span>,
    reverse: Vec<Span>,
}

impl KeySpans {
    fn of(&self, dir: Direction) -> &[Span] {
        match dir {
            Direction::Forward => &self.forward,
            Direction::Reverse => &self.reverse,
        }
    }
}

/// The kind a table literal stands for: strings, ints, decimals, bools.
fn literal_kind(l: &ast::Literal) -> Kind {
    Ty::of_literal(l).kind
}

impl Checker<'_> {
    /// W0002 for tables no rule names. A table is used when a pipeline
    /// names it, whether or not that rule checked: a mistake earlier in the
    /// rule must not also make its table look unused.
    pub(super) fn warn_unused_tables(&mut self, file: &ast::File) {
        let mut named = HashSet::new();
        for item in &file.items {
            if let ast::Item::Mapping(m) = item {
                names_called_in(&m.body, &mut named);
            }
        }
        for item in &file.items {
            if let ast::Item::Table(t) = item
                && self.table_index.contains_key(&t.name.name)
                && !(named.contains(t.name.name.as_str()) && stdlib::lookup(&t.name.name).is_none())
            {
                let d = Diagnostic::warning(
                    Code::W0002,
                    self.file,
                    t.name.span,
                    format!("table `{}` is never used", t.name.name),
                )
                .label("declared here");
                self.err(d);
            }
        }
    }

    pub(super) fn declare_table(&mut self, t: &ast::TableDecl) {
        if let Some(&prev) = self.table_index.get(&t.name.name) {
            let _ = prev;
            let d = Diagnostic::error(
                Code::E0003,
                self.file,
                t.name.span,
                format!("table `{}` is defined twice", t.name.name),
            )
            .label("second definition");
            self.err(d);
            return;
        }
        let mut forward = TableMap::default();
        let mut reverse = TableMap::default();
        let mut spans = KeySpans::default();
        // For duplicate detection: key text → span, per direction (a map:
        // a generated table of 100,000 entries is checked in linear time).
        let mut fwd_keys: HashMap<String, Span> = HashMap::new();
        let mut rev_keys: HashMap<String, Span> = HashMap::new();
        for e in &t.entries {
            match e {
                ast::TableEntry::Pair {
                    keys,
                    arrow,
                    value,
                    span,
                } => {
                    if arrow.kind != ArrowKind::Backward {
                        for k in keys {
                            if self.table_key_clash(&mut fwd_keys, k, "->") {
                                continue;
                            }
                            forward
                                .entries
                                .push((self.table_literal(k), self.table_literal(value)));
                            spans.forward.push(k.span);
                        }
                    }
                    if arrow.kind != ArrowKind::Forward {
                        if keys.len() > 1 {
                            let d = Diagnostic::error(
                                Code::E0211,
                                self.file,
                                *span,
                                format!(
                                    "{} keys on one value cannot be read backwards",
                                    keys.len()
                                ),
                            )
                            .label(format!("`{}` maps back to which of them?", value.display()))
                            .help("write `->` for these keys and one `<-` entry for the way back");
                            self.err(d);
                            continue;
                        }
                        if self.table_key_clash(&mut rev_keys, value, "<-") {
                            continue;
                        }
                        if let Some(k) = keys.first() {
                            reverse
                                .entries
                                .push((self.table_literal(value), self.table_literal(k)));
                            spans.reverse.push(value.span);
                        }
                    }
                }
                ast::TableEntry::Else { arrow, value, span } => {
                    if arrow.kind == ArrowKind::Both {
                        self.both_way_else.insert(t.name.name.clone());
                    }
                    let slots: &mut [&mut TableMap] = match arrow.kind {
                        ArrowKind::Forward => &mut [&mut forward],
                        ArrowKind::Backward => &mut [&mut reverse],
                        ArrowKind::Both => &mut [&mut forward, &mut reverse],
                    };
                    let v = self.table_literal(value);
                    let mut dup = false;
                    for map in slots.iter_mut() {
                        if map.fallback.is_some() {
                            dup = true;
                        }
                        map.fallback = Some(v.clone());
                    }
                    if dup {
                        let d = Diagnostic::error(
                            Code::E0003,
                            self.file,
                            *span,
                            "a second `else` for the same direction",
                        )
                        .label("one fallback per direction");
                        self.err(d);
                    }
                }
            }
        }
        self.table_index
            .insert(t.name.name.clone(), self.tables.len());
        self.tables.push(Table {
            name: t.name.name.clone(),
            forward,
            reverse,
        });
        self.table_keys.push(spans);
    }

    fn table_literal(&self, l: &ast::Literal) -> Value<'static> {
        literal_value(&self.reg, l, &literal_kind(l)).unwrap_or(Value::Null)
    }

    /// Reports a key listed twice for one direction.
    fn table_key_clash(
        &mut self,
        seen: &mut HashMap<String, Span>,
        k: &ast::Literal,
        dir: &str,
    ) -> bool {
        let text = k.to_json();
        if let Some(first) = seen.get(&text) {
            let d = Diagnostic::error(
                Code::E0003,
                self.file,
                k.span,
                format!("{text} is mapped twice in the `{dir}` direction"),
            )
            .label("second entry")
            .secondary(self.file, *first, "first entry");
            self.err(d);
            return true;
        }
        seen.insert(text, k.span);
        false
    }

    /// Checks the use of table `t` on a value of type `input` in `dir`;
    /// returns the output type.
    pub(super) fn table_use(
        &mut self,
        t: usize,
        input: &Ty,
        dir: Direction,
        c: &ast::Call,
    ) -> Option<Ty> {
        let table = &self.tables[t];
        let map = table.map(dir);
        let name = table.name.clone();
        // Key kinds: every key must be comparable with the input.
        let key_kind_ok = map
            .entries
            .iter()
            .all(|(k, _)| value_fits_kind(k, &input.kind));
        if !key_kind_ok {
            let d = Diagnostic::error(
                Code::E0203,
                self.file,
                c.span,
                format!(
                    "table `{name}` has keys that cannot match a `{}`",
                    self.reg.display_kind(&input.kind)
                ),
            )
            .label("the value here");
            return self.fail(d);
        }
        if let Kind::Enum(e) | Kind::IntEnum(e) = input.kind {
            self.warn_keys_outside_enum(t, dir, e, c);
        }
        let map = self.tables[t].map(dir);
        // Exhaustiveness over an enum input.
        if map.fallback.is_none() {
            let possible: Option<(String, Vec<String>)> = match &input.kind {
                Kind::Enum(e) | Kind::IntEnum(e) => {
                    let def = self.reg.enum_def(*e);
                    Some((format!("`{}`", def.name), def.values.clone()))
                }
                Kind::Scalar(Scalar::String) => input
                    .values
                    .clone()
                    .map(|v| ("the values reaching it".to_string(), v)),
                _ => None,
            };
            if let Some((what, values)) = possible {
                // Keys as text, as enum values are kept (an integer
                // enum's `3` is the key `3`): one set, not a scan per value.
                let keys: HashSet<String> = map
                    .entries
                    .iter()
                    .filter_map(|(k, _)| match k {
                        Value::Str(s) => Some(s.to_string()),
                        Value::Int(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect();
                let missing: Vec<String> = values
                    .into_iter()
                    .filter(|v| !keys.contains(v.as_str()))
                    .collect();
                if !missing.is_empty() {
                    let ints = matches!(input.kind, Kind::IntEnum(_));
                    let shown = |v: &String| {
                        if ints { v.clone() } else { format!("\"{v}\"") }
                    };
                    let list = crate::diag::some_of(missing.iter().map(shown));
                    let arrow = if dir == Direction::Forward {
                        "->"
                    } else {
                        "<-"
                    };
                    let d = Diagnostic::error(
                        Code::E0207,
                        self.file,
                        c.span,
                        format!(
                            "table `{name}` does not cover every value of {what}: missing {list}"
                        ),
                    )
                    .label(format!("used in the {dir} direction here"))
                    .help(format!(
                        "add entries (`{} {arrow} ...`) or a fallback (`else {arrow} ...`)",
                        missing.first().map(shown).unwrap_or_default()
                    ));
                    return self.fail(d);
                }
            }
        }
        // The output: the kind of the values, and (strings) their set.
        let maps_null = map.entries.iter().any(|(k, _)| matches!(k, Value::Null));
        let mut outs: Vec<&Value> = map.entries.iter().map(|(_, v)| v).collect();
        if let Some(f) = &map.fallback {
            outs.push(f);
        }
        let produces_null = outs.iter().any(|v| matches!(v, Value::Null));
        let kinds: Vec<Kind> = outs
            .iter()
            .filter(|v| !matches!(v, Value::Null))
            .map(|v| value_kind(v))
            .collect();
        let kind = match kinds.first() {
            None => Kind::Any,
            Some(k) if kinds.iter().all(|x| x == k) => k.clone(),
            Some(_)
                if kinds
                    .iter()
                    .all(|x| matches!(x, Kind::Scalar(Scalar::Int | Scalar::Decimal))) =>
            {
                Kind::Scalar(Scalar::Decimal)
            }
            Some(_) => {
                let d = Diagnostic::error(
                    Code::E0211,
                    self.file,
                    c.span,
                    format!("table `{name}` mixes value types"),
                )
                .label("its values must all be strings, or all numbers, or all bools");
                return self.fail(d);
            }
        };
        // Strings, and integers (as their text, for an integer enum
        // target), keep their set of values.
        let values = if matches!(kind, Kind::Scalar(Scalar::String | Scalar::Int)) {
            let mut vs: Vec<String> = Vec::new();
            let mut seen: HashSet<String> = HashSet::new();
            for v in &outs {
                let text = match v {
                    Value::Str(s) => s.to_string(),
                    Value::Int(n) => n.to_string(),
                    _ => continue,
                };
                if seen.insert(text.clone()) {
                    vs.push(text);
                }
            }
            Some(vs)
        } else {
            None
        };
        // A null input passes through unless a `null` key maps it; a
        // missing one stays missing.
        Some(Ty {
            kind,
            nullable: (input.nullable && !maps_null) || produces_null,
            missing: input.missing,
            values,
        })
    }
}

/// The names of every step called in the rules of `body`, at any depth.
fn names_called_in<'a>(body: &'a [ast::MappingItem], out: &mut HashSet<&'a str>) {
    for item in body {
        if let ast::MappingItem::Rule(r) = item {
            if let Some(p) = &r.pipeline {
                names_called_in_pipeline(p, out);
            }
            if let Some(b) = &r.block {
                names_called_in(b, out);
            }
        }
    }
}

fn names_called_in_pipeline<'a>(p: &'a ast::Pipeline, out: &mut HashSet<&'a str>) {
    for step in &p.steps {
        match step {
            ast::Step::Call(c) => {
                out.insert(c.name.name.as_str());
            }
            ast::Step::If(i) => names_called_in_if(i, out),
            ast::Step::Each(e) => names_called_in_pipeline(&e.pipeline, out),
            ast::Step::Literal(_) | ast::Step::Path(_) => {}
        }
    }
}

fn names_called_in_if<'a>(i: &'a ast::IfStep, out: &mut HashSet<&'a str>) {
    names_called_in_pipeline(&i.condition, out);
    names_called_in_pipeline(&i.then, out);
    match i.otherwise.as_deref() {
        Some(ast::ElseBranch::Pipeline(p)) => names_called_in_pipeline(p, out),
        Some(ast::ElseBranch::If(inner)) => names_called_in_if(inner, out),
        None => {}
    }
}

impl Checker<'_> {
    /// W0007: string keys of table `t` (in `dir`) that are not values of
    /// the enum it is applied to: they never match, and an `else` hides it.
    /// Once per table, direction and enum.
    fn warn_keys_outside_enum(
        &mut self,
        t: usize,
        dir: Direction,
        e: crate::schema::EnumId,
        c: &ast::Call,
    ) {
        if !self.warned_keys.insert((t, dir, e)) {
            return;
        }
        let def = self.reg.enum_def(e).clone();
        let allowed: HashSet<&str> = def.values.iter().map(String::as_str).collect();
        let table = &self.tables[t];
        let dead: Vec<(String, Span)> = table
            .map(dir)
            .entries
            .iter()
            .zip(self.table_keys[t].of(dir))
            .filter_map(|((k, _), span)| match k {
                Value::Str(s) if !def.ints && !allowed.contains(s.as_ref()) => {
                    Some((s.to_string(), *span))
                }
                Value::Int(n) if def.ints && !allowed.contains(n.to_string().as_str()) => {
                    Some((n.to_string(), *span))
                }
                _ => None,
            })
            .collect();
        let name = table.name.clone();
        for (key, span) in dead {
            let mut d = Diagnostic::warning(
                Code::W0007,
                self.file,
                span,
                format!(
                    "\"{key}\" is not a value of `{}`: this entry never matches",
                    def.name
                ),
            )
            .label("dead key")
            .secondary(
                self.file,
                c.span,
                format!("table `{name}` is applied to `{}` here", def.name),
            );
            d = match crate::diag::did_you_mean(&key, def.values.iter().map(String::as_str)) {
                Some(near) => d.help(format!("did you mean \"{near}\"?")),
                None => d.note(format!(
                    "`{}` has: {}",
                    def.name,
                    crate::diag::some_of(def.values.iter().map(|v| format!("\"{v}\"")))
                )),
            };
            self.err(d);
        }
    }
}

fn value_kind(v: &Value<'_>) -> Kind {
    match v {
        Value::Str(_) => Kind::Scalar(Scalar::String),
        Value::Int(_) => Kind::Scalar(Scalar::Int),
        Value::Decimal(_) => Kind::Scalar(Scalar::Decimal),
        Value::Bool(_) => Kind::Scalar(Scalar::Bool),
        _ => Kind::Any,
    }
}

fn value_fits_kind(v: &Value<'_>, k: &Kind) -> bool {
    matches!(
        (v, k),
        (_, Kind::Any)
            | (Value::Null, _)
            | (
                Value::Str(_),
                Kind::Scalar(Scalar::String) | Kind::Enum(_) | Kind::Scalar(Scalar::Currency)
            )
            | (
                Value::Int(_),
                Kind::Scalar(Scalar::Int | Scalar::Decimal) | Kind::IntEnum(_)
            )
            | (Value::Decimal(_), Kind::Scalar(Scalar::Decimal))
            | (Value::Bool(_), Kind::Scalar(Scalar::Bool))
    )
}

impl Checker<'_> {
    pub(super) fn is_table_step(&self, s: &ast::Step) -> bool {
        matches!(s, ast::Step::Call(c) if c.args.is_empty() && self.table_index.contains_key(&c.name.name) && stdlib::lookup(&c.name.name).is_none())
    }
}
