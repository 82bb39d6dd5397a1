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

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "read {}, created {}, updated {}, deleted {}, unchanged/echo {}, duplicate {}, \
             stale {}, conflicts {}, dead-lettered {}, waiting {}, review {}, deletes ignored {}, \
             sent {}",
            self.read,
            self.created,
            self.updated,
            self.deleted,
            self.unchanged,
            self.duplicate,
            self.stale,
            self.conflicts.values().sum::<u64>(),
            self.dead_lettered,
            self.waiting,
            self.parked,
            self.deletes_ignored,
            self.sent
        )?;
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
