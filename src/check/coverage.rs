//! Coverage: the fields of a target record no rule writes, an error when
//! they are required, a warning when optional and not declared unmapped.

use super::written::Written;
use super::{Checker, unmapped};
use crate::diag::{Code, Diagnostic};
use crate::schema::{Access, Kind, RecordId};
use crate::syntax::{self as ast, Direction};

impl Checker<'_> {
    /// Required fields of the target record (in this direction) that no
    /// rule writes; a warning for optional ones not `declared` unmapped.
    pub(super) fn check_coverage(
        &mut self,
        m: &ast::MappingDecl,
        dir: Direction,
        rec: RecordId,
        prefix: &[String],
        written: &Written,
        declared: &unmapped::Declared,
    ) {
        let header = match dir {
            Direction::Forward => &m.right,
            Direction::Reverse => &m.left,
        };
        let mut missing_required = Vec::new();
        let mut missing_optional = Vec::new();
        let record = self.reg.record(rec).clone();
        for f in &record.fields {
            // The provider sets a read-only field; a write leaves it out.
            if f.access == Access::ReadOnly {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(f.name.clone());
            if let Some(member) = written.member(&f.name) {
                if member.is_written() {
                    continue;
                }
                if member.has_inside() {
                    if let Kind::Record(inner) = f.ty.kind {
                        self.check_coverage(m, dir, inner, &path, member, declared);
                    }
                    continue;
                }
            }
            if declared.contains(&path) {
                continue;
            }
            if f.optional {
                missing_optional.push(path.join("."));
            } else {
                missing_required.push((path.join("."), f.origin));
            }
        }
        if !missing_required.is_empty() {
            let names = missing_required
                .iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut d = Diagnostic::error(
                Code::E0205,
                self.file,
                header.span,
                format!(
                    "required field{} of `{}` not mapped in the {dir} direction: {names}",
                    if missing_required.len() > 1 { "s" } else { "" },
                    record.name
                ),
            )
            .label("the target type of this mapping");
            for (n, origin) in &missing_required {
                d = d.secondary(origin.file, origin.span, format!("`{n}` is required here"));
            }
            d = d.help("map each of them, give it a constant (`\"value\" -> Field`), or make it optional in the schema (`name?: type`)");
            self.err(d);
        }
        if !missing_optional.is_empty() {
            let names = missing_optional
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let d = Diagnostic::warning(
                Code::W0001,
                self.file,
                header.span,
                format!(
                    "optional field{} of `{}` not mapped in the {dir} direction: {names}",
                    if missing_optional.len() > 1 { "s" } else { "" },
                    record.name
                ),
            )
            .label("the target type of this mapping");
            self.err(d);
        }
    }
}
