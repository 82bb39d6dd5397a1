//! The sync spec as the runtime reads it. The spec itself (`SyncSpec`,
//! `MergeField`, `Rule`) is built with the plans and lives in
//! `plan::sync_spec`; here are its questions about JSON records, which
//! need `sync::json`.

use super::json;
use crate::base::Side;
use crate::plan::sync_spec::{Path, SyncSpec};

// `Side` is in `base` (the checker's conflict rules name one too); its
// text in the store is written here, where SQLite is known.
stored_as_text!(@sql Side, name {
    Side::Left => "left",
    Side::Right => "right",
});

impl SyncSpec {
    /// Whether a record of `side` is flagged deleted (archived): the flag
    /// is `true` (or, from an XML document, the text `true`).
    pub fn flagged_deleted(&self, side: Side, record: &serde_json::Value) -> bool {
        use serde_json::Value;
        self.delete_flags.iter().any(|(s, p)| {
            *s == side
                && match json::get(record, p) {
                    Some(Value::Bool(b)) => *b,
                    Some(Value::String(t)) => t.trim() == "true",
                    _ => false,
                }
        })
    }

    /// A record's key on its side, as text; an empty or blank key is no
    /// key (every such record would otherwise be one record).
    pub fn key_of(&self, side: Side, record: &serde_json::Value) -> Option<String> {
        text_at(record, self.key.as_ref()?, side).filter(|k| !k.trim().is_empty())
    }

    /// A record's own id on its side (`ids`), as text.
    pub fn native_id(&self, side: Side, record: &serde_json::Value) -> Option<String> {
        text_at(record, self.ids.as_ref()?, side)
    }
}

/// The text of a record's value at its side's path of a pair.
fn text_at(record: &serde_json::Value, (l, r): &(Path, Path), side: Side) -> Option<String> {
    let path = if side == Side::Left { l } else { r };
    json::get(record, path).and_then(json::key_text)
}
