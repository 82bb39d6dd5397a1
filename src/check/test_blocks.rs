//! `test` blocks: the mapping they test, the side records are given on, and
//! each expected record or reject.

use super::{Checker, Expected, Mapping, TestCase};
use crate::diag::{Code, Diagnostic};
use crate::syntax::{self as ast, Direction};

impl Checker<'_> {
    pub(super) fn test(&mut self, t: &ast::TestDecl, mappings: &[Mapping]) -> Option<TestCase> {
        let Some(index) = mappings.iter().position(|m| m.name == t.mapping.name) else {
            if !self.broken.contains(&t.mapping.name) {
                let names: Vec<&str> = mappings.iter().map(|m| m.name.as_str()).collect();
                let d = Diagnostic::error(
                    Code::E0106,
                    self.file,
                    t.mapping.span,
                    format!("unknown mapping `{}`", t.mapping.name),
                )
                .label("no mapping of this name in this file")
                .suggest(&t.mapping.name, names);
                self.err(d);
            }
            return None;
        };
        let mapping = &mappings[index];
        let given_dir = self.side(mapping, &t.given_side)?;
        let direction = given_dir;
        if !mapping.directions.contains(&direction) {
            let d = Diagnostic::error(
                Code::E0215,
                self.file,
                t.given_side.span,
                format!("`{}` maps only the other way", mapping.name),
            )
            .label("records are not read from this side");
            return self.fail(d);
        }
        if mapping.iteration.is_none()
            && let Some(second) = t.expects.get(1)
        {
            let d = Diagnostic::error(
                Code::E0226,
                self.file,
                second.span(),
                format!(
                    "`{}` produces one record from each input, but this test expects {}",
                    mapping.name,
                    t.expects.len()
                ),
            )
            .label("a second expected record")
            .note("only a mapping with `for` produces several records from one `given`")
            .help("write one test per input record");
            return self.fail(d);
        }
        // Every expectation is checked, so each mistake is reported.
        let checked: Vec<Option<Expected>> = t
            .expects
            .iter()
            .map(|e| self.expectation(mapping, given_dir, e))
            .collect();
        let expect = checked.into_iter().collect::<Option<Vec<_>>>()?;
        Some(TestCase {
            mapping: index,
            name: t.name.value.clone(),
            file: self.file,
            span: t.span,
            direction,
            given: t.given.to_json(),
            expect,
        })
    }

    /// One `expect` of a test: the other side's record, or a reject.
    pub(super) fn expectation(
        &mut self,
        mapping: &Mapping,
        given_dir: Direction,
        e: &ast::Expectation,
    ) -> Option<Expected> {
        Some(match e {
            ast::Expectation::Record { side, record } => {
                let dir = self.side(mapping, side)?;
                if dir == given_dir {
                    let d = Diagnostic::error(
                        Code::E0215,
                        self.file,
                        side.span,
                        "`given` and `expect` name the same side",
                    )
                    .label("expected the other side of the mapping");
                    return self.fail(d);
                }
                if !matches!(record.kind, ast::LiteralKind::Object(_)) {
                    return None;
                }
                Expected::Record(record.to_json())
            }
            ast::Expectation::Reject { matching, .. } => {
                let mut pairs = Vec::new();
                if let Some(ast::Literal {
                    kind: ast::LiteralKind::Object(members),
                    ..
                }) = matching
                {
                    for (k, v) in members {
                        let text = match &v.kind {
                            ast::LiteralKind::String(s) => s.clone(),
                            _ => v.to_json(),
                        };
                        pairs.push((k.name.clone(), text));
                    }
                }
                Expected::Reject(pairs)
            }
        })
    }
}
