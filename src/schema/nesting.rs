//! The nesting limit (E0007) for imported JSON Schema, OpenAPI and YAML
//! documents, measured on the text before any parser sees it.
//!
//! serde_json stops at 128 levels on its own, but serde_yaml_ng's scanner
//! takes time quadratic in the depth of flow collections before its own
//! limit answers (20,000 nested `{` took 14 s), and an imported document's
//! depth becomes the depth of the AST every later phase walks. One linear
//! pass over the brackets answers first.

use crate::base::Span;
use crate::diag::{Code, Diagnostic, FileId};
use crate::syntax::MAX_NESTING;

/// JSON levels allowed: a schema level is two of them (`properties` and
/// the property's own object), so this is [`MAX_NESTING`] levels of types,
/// and also serde_json's own recursion limit.
pub const MAX_DOCUMENT_DEPTH: usize = 2 * MAX_NESTING;

/// The offset of the first `{` or `[` that opens level
/// `MAX_DOCUMENT_DEPTH + 1`, outside strings and comments. For YAML only
/// brackets where a flow collection can start count (after `:`, `-`, `,`,
/// another bracket or at a line's start), so prose in a plain scalar
/// (`description: values in [0, 1)`) is not taken for nesting.
pub fn too_deep(text: &str, yaml: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    // The last byte that was not a space or tab.
    let mut last = b'\n';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Where a YAML flow collection or quoted scalar may start.
        let starts = !yaml || matches!(last, b':' | b'-' | b',' | b'[' | b'{' | b'\n');
        match b {
            b'"' if starts => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            // `''` inside is an escaped quote: taking it for the end and a
            // new start comes to the same.
            b'\'' if yaml && starts => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += 1;
                }
            }
            b'#' if yaml && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n')) => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                last = b'\n';
                continue;
            }
            b'{' | b'[' if starts => {
                depth += 1;
                if depth > MAX_DOCUMENT_DEPTH {
                    return Some(i);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !matches!(b, b' ' | b'\t' | b'\r') {
            last = b;
        }
        i += 1;
    }
    None
}

/// E0007 at `at` in an imported document.
pub fn diagnostic(file: FileId, at: usize) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::error(
            Code::E0007,
            file,
            Span::new(at, at + 1),
            format!(
                "nested too deeply: more than {MAX_DOCUMENT_DEPTH} levels of objects and arrays"
            ),
        )
        .label(format!("level {} opens here", MAX_DOCUMENT_DEPTH + 1))
        .help(format!(
            "tether imports schemas nested at most {MAX_NESTING} levels deep; define inner schemas under `definitions` or `components.schemas` and `$ref` them"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize) -> String {
        format!("{}1{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn counts_brackets_outside_strings() {
        assert_eq!(too_deep(&nested(MAX_DOCUMENT_DEPTH), false), None);
        assert_eq!(
            too_deep(&nested(MAX_DOCUMENT_DEPTH + 1), false),
            Some(MAX_DOCUMENT_DEPTH)
        );
        let quoted = format!("[\"{}\\\"{}\"]", "[".repeat(500), "{".repeat(500));
        assert_eq!(too_deep(&quoted, false), None);
    }

    #[test]
    fn yaml_prose_brackets_are_not_nesting() {
        let line = "description: values in [0, 1) and {x\n";
        assert_eq!(too_deep(&line.repeat(1000), true), None);
        let comment = "a: 1 # [[[[\n";
        assert_eq!(too_deep(&comment.repeat(1000), true), None);
        let flow = format!("a: {}", nested(MAX_DOCUMENT_DEPTH + 1));
        assert!(too_deep(&flow, true).is_some());
        let flow = format!("a: {}", "{b: ".repeat(MAX_DOCUMENT_DEPTH + 1));
        assert!(too_deep(&flow, true).is_some());
    }
}
