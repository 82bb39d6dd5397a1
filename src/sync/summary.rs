//! What a sync pass did: the counts `tether sync` reports.

use crate::base::Side;
use crate::http::exchange::Stats;
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
    /// What the webhook receiver did since the last pass (a `webhook:`
    /// side only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<WebhookCounts>,
    /// Requests to each REST side's provider in the pass (absent without
    /// one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderRequests>,
}

/// What a pass has read from one side so far, for the progress line
/// (issue 19, item 6): pages (a poller's pages, each ending with its
/// checkpoint; a delivery without checkpoints, such as a folder's file,
/// counts as one) and the records in them. Not part of the summary: the
/// summary's `read` already counts the records of both sides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideRead {
    pub pages: u64,
    pub records: u64,
}

/// The progress line: time so far, the running counts, and what each
/// side read, in pages and records (a side that read nothing is left
/// out).
pub fn progress_line(elapsed: std::time::Duration, s: &Summary, read: &[SideRead; 2]) -> String {
    let mut sides = Vec::new();
    for (side, r) in [Side::Left, Side::Right].into_iter().zip(read) {
        if r.pages > 0 || r.records > 0 {
            let plural = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
            sides.push(format!(
                "{side} {}, {}",
                plural(r.pages, "page"),
                plural(r.records, "record")
            ));
        }
    }
    let sides = if sides.is_empty() {
        String::new()
    } else {
        format!(" ({})", sides.join("; "))
    };
    format!(
        "tether: {elapsed:.0?} read {}{sides}, created {}, updated {}, unchanged {}, sent {}",
        s.read, s.created, s.updated, s.unchanged, s.sent
    )
}

/// A REST side's requests in a pass (issue 19, item 6).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProviderRequests {
    pub side: Side,
    pub provider: String,
    #[serde(flatten)]
    pub counts: Stats,
}

impl ProviderRequests {
    /// What was done between two readings of the cumulative counts.
    pub fn since(side: Side, provider: String, now: Stats, before: Stats) -> ProviderRequests {
        ProviderRequests {
            side,
            provider,
            counts: Stats {
                requests: now.requests.saturating_sub(before.requests),
                retries: now.retries.saturating_sub(before.retries),
                throttled: now.throttled.saturating_sub(before.throttled),
                breaker_openings: now.breaker_openings.saturating_sub(before.breaker_openings),
                token_fetches: now.token_fetches.saturating_sub(before.token_fetches),
                by_class: std::array::from_fn(|i| {
                    now.by_class[i].saturating_sub(before.by_class[i])
                }),
            },
        }
    }

    fn add(&mut self, o: &Stats) {
        let c = &mut self.counts;
        c.requests += o.requests;
        c.retries += o.retries;
        c.throttled += o.throttled;
        c.breaker_openings += o.breaker_openings;
        c.token_fetches += o.token_fetches;
        for (mine, theirs) in c.by_class.iter_mut().zip(o.by_class) {
            *mine += theirs;
        }
    }
}

impl std::fmt::Display for ProviderRequests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.counts;
        write!(
            f,
            "{} ({}): requests {}, retries {}, throttled {}, breaker_openings {}, token_fetches {}",
            self.provider,
            self.side,
            c.requests,
            c.retries,
            c.throttled,
            c.breaker_openings,
            c.token_fetches
        )
    }
}

/// What the webhook receiver answered (issue 20, item 6), counted per
/// delivery (one request), not per notice.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct WebhookCounts {
    /// Verified and stored with at least one new notice (2xx).
    pub accepted: u64,
    /// Verified, and every notice already stored: a replay (2xx).
    pub duplicate: u64,
    /// Verified but not readable (a body that is not JSON, a notice
    /// without an event id): stored as dead letters, answered 2xx.
    pub malformed: u64,
    /// Verified and not an event (GitHub's `ping`): answered 2xx.
    pub ignored: u64,
    /// Refused (401) by reason: no or a wrong signature, a timestamp
    /// outside the window, a signature carrier that cannot be read.
    pub refused_signature: u64,
    pub refused_timestamp: u64,
    pub refused_malformed: u64,
    /// Refused for a body over the limit (413).
    pub too_large: u64,
    /// Refused while the inbox is saturated (429).
    pub saturated: u64,
    /// Refused while the concurrent requests are at their cap (503).
    pub busy: u64,
    /// Bodies not received within the request timeout (408).
    pub timed_out: u64,
    /// Deliveries the store could not take (503; the provider retries).
    pub store_failed: u64,
    /// Time from receipt (the body read) to the store's commit, in
    /// microseconds: the sum over stored deliveries and the longest.
    pub store_us_total: u64,
    pub store_us_max: u64,
}

impl WebhookCounts {
    fn counts(&self) -> [(&'static str, u64); 14] {
        [
            ("accepted", self.accepted),
            ("duplicate", self.duplicate),
            ("malformed", self.malformed),
            ("ignored", self.ignored),
            ("refused_signature", self.refused_signature),
            ("refused_timestamp", self.refused_timestamp),
            ("refused_malformed", self.refused_malformed),
            ("too_large", self.too_large),
            ("saturated", self.saturated),
            ("busy", self.busy),
            ("timed_out", self.timed_out),
            ("store_failed", self.store_failed),
            ("store_us_total", self.store_us_total),
            ("store_us_max", self.store_us_max),
        ]
    }

    pub fn add(&mut self, o: &WebhookCounts) {
        self.accepted += o.accepted;
        self.duplicate += o.duplicate;
        self.malformed += o.malformed;
        self.ignored += o.ignored;
        self.refused_signature += o.refused_signature;
        self.refused_timestamp += o.refused_timestamp;
        self.refused_malformed += o.refused_malformed;
        self.too_large += o.too_large;
        self.saturated += o.saturated;
        self.busy += o.busy;
        self.timed_out += o.timed_out;
        self.store_failed += o.store_failed;
        self.store_us_total += o.store_us_total;
        self.store_us_max = self.store_us_max.max(o.store_us_max);
    }
}

impl std::fmt::Display for WebhookCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, n)) in self.counts().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name} {n}")?;
        }
        Ok(())
    }
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
        if let Some(w) = &self.webhooks {
            write!(f, "; webhooks: {w}")?;
        }
        for p in &self.providers {
            write!(f, "; {p}")?;
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
        if let Some(w) = &o.webhooks {
            self.webhooks.get_or_insert_default().add(w);
        }
        for p in &o.providers {
            match self
                .providers
                .iter_mut()
                .find(|q| q.side == p.side && q.provider == p.provider)
            {
                Some(q) => q.add(&p.counts),
                None => self.providers.push(p.clone()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_shows_pages_and_records_per_side() {
        let s = Summary {
            read: 201,
            sent: 3,
            ..Summary::default()
        };
        let read = [
            SideRead {
                pages: 2,
                records: 200,
            },
            SideRead {
                pages: 1,
                records: 1,
            },
        ];
        let line = progress_line(std::time::Duration::from_secs(3), &s, &read);
        assert_eq!(
            line,
            "tether: 3s read 201 (left 2 pages, 200 records; right 1 page, 1 record), \
             created 0, updated 0, unchanged 0, sent 3"
        );
        let idle = progress_line(std::time::Duration::ZERO, &s, &[SideRead::default(); 2]);
        assert!(idle.starts_with("tether: 0ns read 201, created"), "{idle}");
    }

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
