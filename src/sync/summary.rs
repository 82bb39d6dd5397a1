//! What a sync pass did: the counts `tether sync` reports.

use serde::Serialize;
use std::collections::BTreeMap;

/// What a pass did.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    /// Records merged with nothing to write: echoes of tether's own writes
    /// and changes to unmapped fields.
    pub unchanged: u64,
    pub duplicate: u64,
    pub stale: u64,
    /// Conflicts resolved, by rule.
    pub conflicts: BTreeMap<String, u64>,
    pub dead_lettered: u64,
    /// Events held behind a dead letter or a parked record.
    pub waiting: u64,
    pub parked: u64,
    pub deletes_ignored: u64,
    /// Operations sent to the providers.
    pub sent: u64,
}

impl Summary {
    /// Every count with its name, in the order the human line shows them.
    /// The names are the JSON object's keys: one name per count, whichever
    /// format an operator reads.
    fn counts(&self) -> [(&'static str, u64); 13] {
        [
            ("read", self.read),
            ("created", self.created),
            ("updated", self.updated),
            ("deleted", self.deleted),
            ("unchanged", self.unchanged),
            ("duplicate", self.duplicate),
            ("stale", self.stale),
            ("conflicts", self.conflicts.values().sum::<u64>()),
            ("dead_lettered", self.dead_lettered),
            ("waiting", self.waiting),
            ("parked", self.parked),
            ("deletes_ignored", self.deletes_ignored),
            ("sent", self.sent),
        ]
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, n)) in self.counts().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name} {n}")?;
        }
        if !self.conflicts.is_empty() {
            let by: Vec<String> = self
                .conflicts
                .iter()
                .map(|(r, n)| format!("{r}: {n}"))
                .collect();
            write!(f, " ({})", by.join(", "))?;
        }
        Ok(())
    }
}

impl Summary {
    /// Whether anything needs a person: dead letters, parked records, or
    /// events waiting behind earlier ones.
    pub fn needs_attention(&self) -> bool {
        self.dead_lettered > 0 || self.parked > 0 || self.waiting > 0
    }

    /// Adds another pass's counts (`--watch` totals).
    pub fn add(&mut self, o: &Summary) {
        self.read += o.read;
        self.created += o.created;
        self.updated += o.updated;
        self.deleted += o.deleted;
        self.unchanged += o.unchanged;
        self.duplicate += o.duplicate;
        self.stale += o.stale;
        for (k, v) in &o.conflicts {
            *self.conflicts.entry(k.clone()).or_default() += v;
        }
        self.dead_lettered += o.dead_lettered;
        self.waiting += o.waiting;
        self.parked += o.parked;
        self.deletes_ignored += o.deletes_ignored;
        self.sent += o.sent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The human line and the JSON object name every count the same way,
    /// so an operator reading one can grep the other.
    #[test]
    fn the_human_summary_names_each_count_as_the_json_does() {
        let s = Summary {
            parked: 7,
            dead_lettered: 5,
            ..Summary::default()
        };
        let json = serde_json::to_value(&s).expect("json");
        let keys: Vec<&str> = json
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let line = s.to_string();
        let labels: Vec<&str> = line
            .split(", ")
            .filter_map(|count| count.rsplit_once(' ').map(|(label, _)| label))
            .collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort_unstable();
        let mut sorted_labels = labels.clone();
        sorted_labels.sort_unstable();
        assert_eq!(sorted_labels, sorted_keys, "{line}");
        assert!(
            line.contains("parked 7") && line.contains("dead_lettered 5"),
            "{line}"
        );
    }
}
