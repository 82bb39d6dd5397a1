//! Documents to rows, for mappings with `for` clauses.
//!
//! Every slot of a row is numbered in one frame (see `plan::IterPlan`): a row
//! is the document's values with each level's element values laid over
//! them, plus the positions. The JSON reader reads a whole document (element
//! frames in `Value::Rows`) and [`expand`]s it; the XML reader builds rows
//! as it streams. Both give each row the read errors that concern it:
//! errors inside its own elements, or in the scopes that enclose it.

use super::eval::{Encoding, Outcome, RecordError, evaluate_into, map_record};
use super::read::{ReadError, read_record};
use crate::base::Value;
use crate::plan::{IterPlan, Plan};

/// One row ready to evaluate.
pub struct Row<'a> {
    pub frame: Vec<Value<'a>>,
    /// The innermost element's path (`BkToCstmrStmt.Stmt[0].Ntry[2]`).
    pub element: String,
    pub errors: Vec<ReadError>,
    /// The record's own input text, when the frame does not hold it (a
    /// whole XML record), for reject reports.
    pub source: &'a str,
}

/// The rows of a document read with element frames, in document order.
pub fn expand<'a>(it: &IterPlan, doc: Vec<Value<'a>>, errors: &[ReadError]) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    let mut chain = Vec::new();
    level(it, 0, &doc, &doc, errors, &mut chain, &mut rows);
    rows
}

fn level<'a>(
    it: &IterPlan,
    k: usize,
    base: &[Value<'a>],
    parent: &[Value<'a>],
    errors: &[ReadError],
    chain: &mut Vec<(String, String)>,
    out: &mut Vec<Row<'a>>,
) {
    let Some(l) = it.levels.get(k) else { return };
    let Some(Value::Rows(frames)) = parent.get(l.rows) else {
        return;
    };
    let array = array_path(chain, &l.path);
    for (i, f) in frames.iter().enumerate() {
        let mut row = base.to_vec();
        for &s in &l.slots {
            row[s] = f[s].clone();
        }
        if let Some(p) = l.position {
            row[p] = Value::Int(i as i64 + 1);
        }
        chain.push((array.clone(), format!("{array}[{i}]")));
        if k + 1 == it.levels.len() {
            let element = chain.last().map(|(_, e)| e.clone()).unwrap_or_default();
            let errs = errors
                .iter()
                .filter(|e| belongs(&e.path, chain))
                .cloned()
                .collect();
            out.push(Row {
                frame: row,
                element,
                errors: errs,
                source: "",
            });
        } else {
            level(it, k + 1, &row, f, errors, chain, out);
        }
        chain.pop();
    }
}

/// The full path of a level's array inside the enclosing element.
pub fn array_path(chain: &[(String, String)], rel: &str) -> String {
    match chain.last() {
        Some((_, elem)) => format!("{elem}.{rel}"),
        None => rel.to_string(),
    }
}

/// Whether an error at `path` concerns the row whose enclosing arrays and
/// elements are `chain` (outermost first): it does unless it lies inside
/// one of those arrays but in another element.
pub fn belongs(path: &str, chain: &[(String, String)]) -> bool {
    chain.iter().all(|(array, elem)| {
        let in_array = path
            .strip_prefix(array.as_str())
            .is_some_and(|rest| rest.starts_with('['));
        !in_array || under(path, elem)
    })
}

/// `path` is `elem` or inside it.
pub fn under(path: &str, elem: &str) -> bool {
    path.strip_prefix(elem)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// The outcomes of one JSON document, in document order: its record, or
/// for a mapping with `for` clauses one per row (what `tether test`
/// compares with its `expect` blocks).
pub fn map_document(plan: &Plan, text: &str) -> Vec<Outcome> {
    let Some(it) = &plan.iteration else {
        return vec![map_record(plan, text)];
    };
    let mut errors = Vec::new();
    let doc = match read_record(text, &plan.read, plan.input_slots, &mut errors) {
        Ok(doc) => doc,
        Err(msg) => return vec![Outcome::malformed(format!("malformed JSON: {msg}"))],
    };
    expand(it, doc, &errors)
        .into_iter()
        .map(|row| {
            let errors = row.errors.into_iter().map(RecordError::from_read).collect();
            let mut out = String::new();
            match evaluate_into(
                plan,
                &row.frame,
                errors,
                Encoding::Json,
                &mut Vec::new(),
                &mut out,
            ) {
                Ok(()) => Outcome::Mapped(out),
                Err(rejected) => rejected,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_go_to_the_rows_they_concern() {
        let chain = vec![
            ("S".to_string(), "S[1]".to_string()),
            ("S[1].N".to_string(), "S[1].N[1]".to_string()),
        ];
        assert!(belongs("S[1].N[1].Amt", &chain));
        assert!(
            belongs("S[1].Id", &chain),
            "the enclosing statement's error"
        );
        assert!(belongs("Hdr.MsgId", &chain), "a document-level error");
        assert!(!belongs("S[1].N[0].Amt", &chain), "a sibling entry's error");
        assert!(!belongs("S[0].Id", &chain), "another statement's error");
        assert!(!belongs("S[1].N[10]", &chain), "N[10] is not N[1]");
        assert!(belongs("S[10].X", &[("S".into(), "S[10]".into())]));
    }
}
