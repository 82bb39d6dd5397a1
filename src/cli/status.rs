//! `tether status`: what a state store says of its syncs, for a person
//! and for a monitor (docs/design/14-operations.md, step 1). It only
//! reads: no lock is taken, and a running sync is not disturbed.

use super::sync::{ReportFormat, open_store, store_error};
use super::{EXIT_OK, EXIT_USAGE};
use crate::sync::status::{Finding, StatusReport, duration_text, exit_code, findings, shown_age};
use crate::sync::store::OpenMode;
use chrono::{DateTime, Utc};
use clap::Args;
use serde::Serialize;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub struct StatusArgs {
    /// The state store of `tether sync`.
    #[arg(long)]
    state: PathBuf,
    /// `human`, or `json` (one object).
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// How long a sync may go without a good pass, or leave an operation
    /// unacknowledged, before it needs a person, in minutes.
    #[arg(long, value_name = "MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=525_600))]
    stale_after: u64,
}

/// The JSON form: the verdict first, then the figures.
#[derive(Serialize)]
struct Shown<'a> {
    healthy: bool,
    findings: &'a [Finding],
    #[serde(flatten)]
    report: &'a StatusReport,
}

/// Exit 0 when nothing needs a person, 3 when dead letters or reviews
/// wait, 4 when a sync is not keeping up (the worst finding decides).
pub fn status(a: &StatusArgs) -> u8 {
    let mut store = match open_store(&a.state, OpenMode::Existing) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let report = match store.status_report() {
        Ok(r) => r,
        Err(e) => return store_error(&e),
    };
    let now = Utc::now();
    let found = findings(&report, now, Duration::from_secs(a.stale_after * 60));
    let mut out = std::io::stdout().lock();
    match a.format {
        ReportFormat::Json => {
            let shown = Shown {
                healthy: found.is_empty(),
                findings: &found,
                report: &report,
            };
            match serde_json::to_string(&shown) {
                Ok(t) => {
                    let _ = writeln!(out, "{t}");
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_USAGE;
                }
            }
        }
        ReportFormat::Human => {
            let _ = out.write_all(human(&report, &found, now).as_bytes());
        }
    }
    match exit_code(&found) {
        0 => EXIT_OK,
        code => code,
    }
}

fn human(report: &StatusReport, found: &[Finding], now: DateTime<Utc>) -> String {
    let mut s = String::new();
    if found.is_empty() {
        s.push_str("healthy\n");
    } else {
        s.push_str("needs a person:\n");
        for f in found {
            match &f.mapping {
                Some(m) => s.push_str(&format!("  {m}: {}\n", f.message)),
                None => s.push_str(&format!("  {}\n", f.message)),
            }
        }
    }
    if report.mappings.is_empty() {
        s.push_str("no mapping has been synced with this store yet\n");
    }
    for m in &report.mappings {
        s.push_str(&format!("\nmapping {}\n", m.name));
        let ok = m
            .last_ok
            .as_deref()
            .map_or("never".to_string(), |t| shown_age(t, now));
        s.push_str(&format!("  last good pass: {ok}\n"));
        if let Some(f) = &m.last_failed {
            s.push_str(&format!(
                "  last failed pass: {}: {}\n",
                shown_age(&f.at, now),
                f.error
            ));
        }
        let open = |what: &str, n: u64, oldest: &Option<String>| match oldest {
            Some(t) if n > 0 => format!("  {what}: {n} (oldest {})\n", shown_age(t, now)),
            _ => format!("  {what}: {n}\n"),
        };
        s.push_str(&open(
            "dead letters open",
            m.dead_letters.count,
            &m.dead_letters.oldest,
        ));
        s.push_str(&open("reviews open", m.reviews.count, &m.reviews.oldest));
        for side in &m.sides {
            s.push_str(&format!(
                "  {}: {} event(s) to merge{}, {} held behind open work, {} operation(s) not acknowledged{}\n",
                side.side,
                side.received.count,
                oldest(&side.received.oldest, side.received.count, now),
                side.blocked,
                side.unacknowledged.count,
                oldest(&side.unacknowledged.oldest, side.unacknowledged.count, now),
            ));
            if let Some(c) = &side.cursor {
                s.push_str(&format!(
                    "    cursor {} (moved {})\n",
                    c.value,
                    shown_age(&c.updated_at, now)
                ));
            }
        }
    }
    for b in &report.breakers {
        s.push_str(&format!(
            "\nprovider {}: circuit breaker open until {}\n",
            b.provider, b.open_until
        ));
    }
    for w in &report.webhooks {
        s.push_str(&format!(
            "\nwebhooks {}: {} in the last hour (usually {:.1} an hour), {} waiting for a pass\n",
            w.endpoint, w.last_hour, w.hourly_mean, w.pending
        ));
    }
    s
}

fn oldest(at: &Option<String>, n: u64, now: DateTime<Utc>) -> String {
    match at {
        Some(t) if n > 0 => format!(
            " (oldest {})",
            crate::sync::status::age(t, now).map_or("of unknown age".to_string(), duration_text)
        ),
        _ => String::new(),
    }
}
