//! What a sync keeps, and for how long (issue 22, step 4;
//! docs/design/14-operations.md, "Retention").
//!
//! Four things grow with every pass unless pruned: received event ids
//! (the dedupe window, pruned by the engine), acknowledged outbox rows,
//! files in a folder side's `done/`, and settled dead letters, reviews and
//! conflict resolutions. Event ids have a floor per kind of side: an id
//! the provider may still redeliver must not be forgotten, or the
//! redelivery is merged again as news.

use std::time::Duration;

/// How long settled dead letters, resolved reviews and conflict
/// resolutions are kept (`--explain` and the audit read them).
pub const SETTLED_DAYS: u32 = 30;

/// In `--watch`, pruning runs after the first pass and then at most this
/// often: it is bookkeeping, not part of a pass's work.
pub const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// The kind of a side, for its redelivery floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SideKind {
    /// A folder (`inbox/`, `outbox/`, `done/`).
    Folder,
    /// `provider:NAME`, polled.
    Rest,
    /// `webhook:PRESET`, pushed.
    Webhook,
}

impl SideKind {
    /// The kind a `--left`/`--right` argument names.
    pub fn of_arg(arg: &str) -> SideKind {
        if arg.starts_with("webhook:") {
            SideKind::Webhook
        } else if arg.starts_with("provider:") {
            SideKind::Rest
        } else {
            SideKind::Folder
        }
    }

    /// The fewest days an event id of this kind of side is kept.
    ///
    /// Why these: webhook providers retry a delivery they think failed
    /// for days (Stripe for 3, others up to a week), so 7. A poller reads
    /// again from its cursor less the resource's look-back, which E0249
    /// keeps under 7 days (docs/design/10-rest-providers.md), so 7 covers
    /// every look-back without knowing it. A folder delivery is moved to
    /// `done/` once its events are stored; a day covers a partner
    /// re-uploading a file it was unsure of.
    pub fn event_floor_days(self) -> u32 {
        match self {
            SideKind::Webhook | SideKind::Rest => 7,
            SideKind::Folder => 1,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            SideKind::Webhook => "a webhook side (providers redeliver for up to a week)",
            SideKind::Rest => "a REST side (a poller re-reads its look-back, up to 7 days)",
            SideKind::Folder => "a folder side (a partner may upload a file again)",
        }
    }
}

/// `--retain-events` checked against both sides' floors: the error names
/// the side that needs more.
pub fn check_event_days(days: u32, sides: [(&str, SideKind); 2]) -> Result<(), String> {
    for (name, kind) in sides {
        let floor = kind.event_floor_days();
        if days < floor {
            return Err(format!(
                "--retain-events {days}d is under the {floor}-day floor of the {name} side, {}: \
                 an event id it may still redeliver would be forgotten and merged again",
                kind.describe()
            ));
        }
    }
    Ok(())
}

/// A number of days as the retention flags take it: `7` or `7d`.
pub fn parse_days(text: &str) -> Result<u32, String> {
    let digits = text.strip_suffix('d').unwrap_or(text);
    digits
        .parse::<u32>()
        .map_err(|_| format!("`{text}` is not a number of days (write `7` or `7d`; 0 to 36500)"))
        .and_then(|d| {
            if d > 36_500 {
                Err(format!("`{text}`: at most 36500 days"))
            } else {
                Ok(d)
            }
        })
}

/// What a pruning pass removed from the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub sent: usize,
    pub dead_letters: usize,
    pub reviews: usize,
    pub resolutions: usize,
    /// Files removed from folder sides' `done/`.
    pub done_files: usize,
}

impl Pruned {
    pub fn total(&self) -> usize {
        self.sent + self.dead_letters + self.reviews + self.resolutions + self.done_files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_a_number_with_an_optional_d() {
        assert_eq!(parse_days("7"), Ok(7));
        assert_eq!(parse_days("30d"), Ok(30));
        assert_eq!(parse_days("0d"), Ok(0));
        for bad in ["", "d", "7h", "-1", "1.5d", "99999999999"] {
            assert!(parse_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_webhook_side_refuses_an_event_window_under_a_week() {
        let sides = |right| [("left", SideKind::Folder), ("right", right)];
        assert!(check_event_days(1, sides(SideKind::Folder)).is_ok());
        assert!(check_event_days(0, sides(SideKind::Folder)).is_err());
        assert!(check_event_days(6, sides(SideKind::Rest)).is_err());
        assert!(check_event_days(7, sides(SideKind::Rest)).is_ok());
        let e = check_event_days(3, sides(SideKind::Webhook)).unwrap_err();
        assert!(e.contains("7-day floor of the right side"), "{e}");
        assert!(check_event_days(7, sides(SideKind::Webhook)).is_ok());
        assert_eq!(SideKind::of_arg("webhook:stripe"), SideKind::Webhook);
        assert_eq!(SideKind::of_arg("provider:crm.contacts"), SideKind::Rest);
        assert_eq!(SideKind::of_arg("./erp"), SideKind::Folder);
    }
}
