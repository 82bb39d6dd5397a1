//! The names a mapping's sides go by (`left`, `right`, or the schema names
//! when they differ), as `given`, `expect`, `conflict` and `unmapped` use
//! them.

use super::{Checker, Mapping};
use crate::diag::{Code, Diagnostic};
use crate::syntax::{self as ast, Direction};

impl Checker<'_> {
    /// A side name: the schema name of either type, or `left`/`right`.
    pub(super) fn side(&mut self, mapping: &Mapping, side: &ast::Ident) -> Option<Direction> {
        let same = mapping.left_side == mapping.right_side;
        let named = named_side(&mapping.left_side, &mapping.right_side, &side.name);
        if named.is_some() {
            return named;
        }
        let mut names = vec!["left", "right"];
        if !same {
            names.push(&mapping.left_side);
            names.push(&mapping.right_side);
        }
        let d = Diagnostic::error(
            Code::E0107,
            self.file,
            side.span,
            format!("unknown side `{}`", side.name),
        )
        .label(format!(
            "the sides of `{}` are {}",
            mapping.name,
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .suggest(&side.name, names.iter().copied());
        self.fail(d)
    }
}

/// The schema name a side goes by in a mapping (`hubspot` of
/// `hubspot.Contact`), as `given`, `conflict` and `unmapped` name it.
pub(super) fn side_name(r: &ast::TypeRef) -> String {
    r.namespace
        .as_ref()
        .map(|n| n.name.clone())
        .unwrap_or_default()
}

/// The side `name` names in a mapping whose sides go by `left` and `right`:
/// `Forward` for the left side (the one data flows from in the forward
/// direction), `Reverse` for the right. Schema names count only when they
/// differ.
pub(super) fn named_side(left: &str, right: &str, name: &str) -> Option<Direction> {
    let distinct = left != right;
    match name {
        "left" => Some(Direction::Forward),
        "right" => Some(Direction::Reverse),
        n if distinct && n == left => Some(Direction::Forward),
        n if distinct && n == right => Some(Direction::Reverse),
        _ => None,
    }
}
