//! What `tether status` reports of a state store, and the rules that say
//! whether it needs a person (docs/design/14-operations.md, step 1).
//!
//! The figures are read by [`SqliteStore::status_report`] in one read
//! transaction; [`findings`] is pure, so the health rules are tested
//! without a store. Instants are the store's RFC 3339 texts, read here; one
//! that does not parse is an unknown age, never a crash.
//!
//! [`SqliteStore::status_report`]: super::store::SqliteStore::status_report

use crate::base::Side;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;

/// Everything `status` shows, as read from the store.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StatusReport {
    pub mappings: Vec<MappingStatus>,
    /// Circuit breakers left open by a pass, by provider.
    pub breakers: Vec<BreakerStatus>,
    /// Webhook endpoints that have received deliveries.
    pub webhooks: Vec<EndpointStatus>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MappingStatus {
    pub name: String,
    pub sides: Vec<SideStatus>,
    pub dead_letters: Open,
    pub reviews: Open,
    /// When a pass last ended well; `None`: never (or before passes were
    /// recorded).
    pub last_ok: Option<String>,
    pub last_failed: Option<FailedPass>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailedPass {
    pub at: String,
    pub error: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SideStatus {
    pub side: Side,
    /// Events received and not merged yet.
    pub received: Open,
    /// Events held behind a dead letter or a review of the same record.
    pub blocked: u64,
    /// Operations written to the outbox and not acknowledged.
    pub unacknowledged: Open,
    /// A poller's cursor and when it last moved.
    pub cursor: Option<Cursor>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cursor {
    pub value: String,
    pub updated_at: String,
}

/// How many, and since when the oldest has waited.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Open {
    pub count: u64,
    pub oldest: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakerStatus {
    pub provider: String,
    /// RFC 3339, UTC.
    pub open_until: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EndpointStatus {
    pub endpoint: String,
    pub last_hour: u64,
    /// Deliveries per hour over the last 7 days (those the store still
    /// keeps).
    pub hourly_mean: f64,
    /// Notices stored and not yet read by a pass.
    pub pending: u64,
}

/// Something an operator must look at.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub mapping: Option<String>,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Dead letters or reviews wait for a person.
    OpenWork,
    /// The newest pass failed and none ended well within the window.
    NotSyncing,
    /// Operations written long ago are still not acknowledged.
    Unacknowledged,
    /// A provider's circuit breaker is open.
    BreakerOpen,
}

impl FindingKind {
    /// The exit code a monitor sees: 3 for work a person must do (as
    /// `sync` exits with open work), 4 for a sync that is not keeping up.
    pub fn exit_code(self) -> u8 {
        match self {
            FindingKind::OpenWork => 3,
            FindingKind::NotSyncing | FindingKind::Unacknowledged | FindingKind::BreakerOpen => 4,
        }
    }
}

/// The findings of `report` at `now`; `stale_after` is how long a sync may
/// go without a good pass, or leave an operation unacknowledged, before it
/// needs a person.
pub fn findings(report: &StatusReport, now: DateTime<Utc>, stale_after: Duration) -> Vec<Finding> {
    let mut out = Vec::new();
    let older_than = |at: &str| age(at, now).is_some_and(|a| a > stale_after);
    for m in &report.mappings {
        let finding = |kind, message| Finding {
            kind,
            mapping: Some(m.name.clone()),
            message,
        };
        if m.dead_letters.count > 0 || m.reviews.count > 0 {
            out.push(finding(
                FindingKind::OpenWork,
                format!(
                    "{} dead letter(s){}, {} review(s){} open (`tether dlq list`, `tether review list`)",
                    m.dead_letters.count,
                    oldest_text(&m.dead_letters, now),
                    m.reviews.count,
                    oldest_text(&m.reviews, now),
                ),
            ));
        }
        if let Some(failed) = &m.last_failed {
            let failed_later = match &m.last_ok {
                None => true,
                Some(ok) => instant(&failed.at) > instant(ok),
            };
            let ok_long_ago = m.last_ok.as_deref().is_none_or(older_than);
            if failed_later && ok_long_ago {
                out.push(finding(
                    FindingKind::NotSyncing,
                    format!(
                        "the last pass failed ({}): {}; the last good one: {}",
                        shown_age(&failed.at, now),
                        failed.error,
                        m.last_ok
                            .as_deref()
                            .map_or("never".to_string(), |ok| shown_age(ok, now)),
                    ),
                ));
            }
        }
        for s in &m.sides {
            if let Some(oldest) = &s.unacknowledged.oldest
                && older_than(oldest)
            {
                out.push(finding(
                    FindingKind::Unacknowledged,
                    format!(
                        "{} operation(s) to the {} side not acknowledged, the oldest written {}",
                        s.unacknowledged.count,
                        s.side,
                        shown_age(oldest, now)
                    ),
                ));
            }
        }
    }
    for b in &report.breakers {
        if instant(&b.open_until).is_none_or(|until| until > now) {
            out.push(Finding {
                kind: FindingKind::BreakerOpen,
                mapping: None,
                message: format!(
                    "provider `{}` is failing: its circuit breaker is open until {}",
                    b.provider, b.open_until
                ),
            });
        }
    }
    out
}

/// The exit code for `findings`: the worst one's, 0 when there is none.
pub fn exit_code(findings: &[Finding]) -> u8 {
    findings
        .iter()
        .map(|f| f.kind.exit_code())
        .max()
        .unwrap_or(0)
}

fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// How long ago `text` was; `None` when it does not parse (or is ahead).
pub fn age(text: &str, now: DateTime<Utc>) -> Option<Duration> {
    (now - instant(text)?).to_std().ok()
}

/// `3m ago`, `2h 5m ago`, `4d 1h ago`; `at an unknown time` when the
/// stored text does not parse.
pub fn shown_age(text: &str, now: DateTime<Utc>) -> String {
    match age(text, now) {
        None => "at an unknown time".to_string(),
        Some(a) => format!("{} ago", duration_text(a)),
    }
}

pub fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    }
}

fn oldest_text(open: &Open, now: DateTime<Utc>) -> String {
    match &open.oldest {
        Some(at) if open.count > 0 => format!(" (oldest {})", shown_age(at, now)),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        instant(text).expect("a test instant")
    }

    fn mapping(name: &str) -> MappingStatus {
        MappingStatus {
            name: name.into(),
            sides: vec![],
            dead_letters: Open::default(),
            reviews: Open::default(),
            last_ok: Some("2026-12-07T10:00:00.000Z".into()),
            last_failed: None,
        }
    }

    const WINDOW: Duration = Duration::from_secs(15 * 60);

    #[test]
    fn a_healthy_store_has_no_findings_and_exits_0() {
        let report = StatusReport {
            mappings: vec![mapping("contact")],
            ..StatusReport::default()
        };
        let f = findings(&report, at("2026-12-07T12:00:00Z"), WINDOW);
        assert_eq!(f, []);
        assert_eq!(exit_code(&f), 0);
    }

    #[test]
    fn open_work_exits_3_and_a_sync_that_stopped_exits_4() {
        let mut m = mapping("contact");
        m.dead_letters = Open {
            count: 2,
            oldest: Some("2026-12-07T11:00:00.000Z".into()),
        };
        let now = at("2026-12-07T12:00:00Z");
        let f = findings(
            &StatusReport {
                mappings: vec![m.clone()],
                ..Default::default()
            },
            now,
            WINDOW,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FindingKind::OpenWork);
        assert!(
            f[0].message
                .starts_with("2 dead letter(s) (oldest 1h 0m ago), 0 review(s)"),
            "{}",
            f[0].message
        );
        assert_eq!(exit_code(&f), 3);

        // A failure after a good pass 2 hours ago: not syncing.
        m.last_failed = Some(FailedPass {
            at: "2026-12-07T11:59:00.000Z".into(),
            error: "provider `crm` is down".into(),
        });
        let f = findings(
            &StatusReport {
                mappings: vec![m.clone()],
                ..Default::default()
            },
            now,
            WINDOW,
        );
        assert_eq!(
            f.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [FindingKind::OpenWork, FindingKind::NotSyncing]
        );
        assert_eq!(exit_code(&f), 4);

        // The same failure with a good pass since: healthy again.
        m.last_ok = Some("2026-12-07T11:59:30.000Z".into());
        let f = findings(
            &StatusReport {
                mappings: vec![m],
                ..Default::default()
            },
            now,
            WINDOW,
        );
        assert_eq!(
            f.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [FindingKind::OpenWork]
        );
    }

    #[test]
    fn a_failure_within_the_window_of_a_good_pass_is_not_yet_a_finding() {
        let mut m = mapping("contact");
        m.last_ok = Some("2026-12-07T11:50:00.000Z".into());
        m.last_failed = Some(FailedPass {
            at: "2026-12-07T11:55:00.000Z".into(),
            error: "timeout".into(),
        });
        let report = StatusReport {
            mappings: vec![m],
            ..Default::default()
        };
        assert_eq!(findings(&report, at("2026-12-07T12:00:00Z"), WINDOW), []);
        // Twenty minutes on, with no good pass since, it is.
        let later = findings(&report, at("2026-12-07T12:10:00Z"), WINDOW);
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].kind, FindingKind::NotSyncing);
    }

    #[test]
    fn old_unacknowledged_operations_and_open_breakers_are_findings() {
        let mut m = mapping("contact");
        m.sides = vec![SideStatus {
            side: Side::Right,
            received: Open::default(),
            blocked: 0,
            unacknowledged: Open {
                count: 5,
                oldest: Some("2026-12-07T11:00:00.000Z".into()),
            },
            cursor: None,
        }];
        let report = StatusReport {
            mappings: vec![m],
            breakers: vec![
                BreakerStatus {
                    provider: "crm".into(),
                    open_until: "2026-12-07T12:05:00.000Z".into(),
                },
                BreakerStatus {
                    provider: "erp".into(),
                    open_until: "2026-12-07T11:05:00.000Z".into(),
                },
            ],
            webhooks: vec![],
        };
        let f = findings(&report, at("2026-12-07T12:00:00Z"), WINDOW);
        assert_eq!(
            f.iter()
                .map(|f| (f.kind, f.message.as_str()))
                .collect::<Vec<_>>(),
            [
                (
                    FindingKind::Unacknowledged,
                    "5 operation(s) to the right side not acknowledged, the oldest written 1h 0m ago"
                ),
                (
                    FindingKind::BreakerOpen,
                    "provider `crm` is failing: its circuit breaker is open until 2026-12-07T12:05:00.000Z"
                ),
            ]
        );
    }

    #[test]
    fn a_stored_instant_that_does_not_parse_is_an_unknown_age() {
        let now = at("2026-12-07T12:00:00Z");
        assert_eq!(age("yesterday", now), None);
        assert_eq!(shown_age("yesterday", now), "at an unknown time");
        assert_eq!(duration_text(Duration::from_secs(59)), "59s");
        assert_eq!(
            duration_text(Duration::from_secs(3 * 86400 + 7200)),
            "3d 2h"
        );
    }
}
