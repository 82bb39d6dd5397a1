//! Request budgets: at most N requests in any window of T, and a
//! provider-wide "nobody before" instant set by `Retry-After`
//! (docs/design/10-rest-providers.md, "The budget is never exceeded").
//!
//! A window log, not a token bucket: each budget keeps the instants its
//! last N requests *completed*, and the next request may leave when the
//! oldest of them is T old. The provider counts a request when it receives
//! it, which lies between the instant it left and the instant its answer
//! arrived, so counting completions guarantees at most N receipts in any
//! window of T however the network delays them. A token bucket (GCRA, as
//! the `governor` crate does) lets a burst of N through and then one per
//! T/N, which is up to 2N − 1 in one window: over the limit for a provider
//! that counts windows, as HubSpot does.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// At most `requests` per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    pub requests: NonZeroU32,
    pub per: Duration,
}

/// One budget and the completions it remembers (at most N).
#[derive(Debug)]
struct Window {
    budget: Budget,
    done: VecDeque<Instant>,
}

impl Window {
    fn wait(&self, now: Instant) -> Duration {
        let n = self.budget.requests.get() as usize;
        if self.done.len() < n {
            return Duration::ZERO;
        }
        // The N-th most recent completion must be at least T old.
        let oldest = self.done[self.done.len() - n];
        super::instant_after(oldest, self.budget.per).saturating_duration_since(now)
    }

    fn record(&mut self, at: Instant) {
        self.done.push_back(at);
        let n = self.budget.requests.get() as usize;
        while self.done.len() > n {
            self.done.pop_front();
        }
    }
}

/// Every budget that applies to a provider's requests (all must allow a
/// request), and the instant before which none may leave.
#[derive(Debug, Default)]
pub struct Budgets {
    windows: Vec<Window>,
    not_before: Option<Instant>,
}

impl Budgets {
    pub fn new(budgets: &[Budget]) -> Budgets {
        Budgets {
            windows: budgets
                .iter()
                .map(|b| Window {
                    budget: *b,
                    done: VecDeque::with_capacity(b.requests.get().min(4096) as usize),
                })
                .collect(),
            not_before: None,
        }
    }

    /// How long the next request must wait from `now`.
    pub fn wait(&self, now: Instant) -> Duration {
        let paused = self
            .not_before
            .map_or(Duration::ZERO, |at| at.saturating_duration_since(now));
        self.windows
            .iter()
            .map(|w| w.wait(now))
            .fold(paused, Duration::max)
    }

    /// A request completed (answered or failed) at `at`.
    pub fn record(&mut self, at: Instant) {
        for w in &mut self.windows {
            w.record(at);
        }
    }

    /// No request before `at` (a `Retry-After`); an earlier pause is kept
    /// when it ends later.
    pub fn pause_until(&mut self, at: Instant) {
        self.not_before = Some(self.not_before.map_or(at, |prev| prev.max(at)));
    }

    pub fn not_before(&self) -> Option<Instant> {
        self.not_before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn budget(n: u32, secs: u64) -> Budget {
        Budget {
            requests: NonZeroU32::new(n).unwrap(),
            per: Duration::from_secs(secs),
        }
    }

    #[test]
    fn the_n_plus_first_request_waits_until_the_oldest_is_a_window_old() {
        let t0 = Instant::now();
        let mut b = Budgets::new(&[budget(3, 10)]);
        for i in 0..3 {
            assert_eq!(b.wait(t0 + Duration::from_secs(i)), Duration::ZERO);
            b.record(t0 + Duration::from_secs(i));
        }
        assert_eq!(b.wait(t0 + Duration::from_secs(3)), Duration::from_secs(7));
        assert_eq!(b.wait(t0 + Duration::from_secs(10)), Duration::ZERO);
    }

    #[test]
    fn an_absurd_window_is_a_long_wait_not_a_panic() {
        let t0 = Instant::now();
        let mut b = Budgets::new(&[Budget {
            requests: NonZeroU32::MIN,
            per: Duration::MAX,
        }]);
        b.record(t0);
        assert_eq!(b.wait(t0), crate::http::FAR);
    }

    #[test]
    fn every_budget_applies_and_a_pause_holds_everything() {
        let t0 = Instant::now();
        let mut b = Budgets::new(&[budget(100, 10), budget(2, 1)]);
        b.record(t0);
        b.record(t0);
        assert_eq!(b.wait(t0), Duration::from_secs(1), "the tighter budget");
        b.pause_until(t0 + Duration::from_secs(30));
        b.pause_until(t0 + Duration::from_secs(5));
        assert_eq!(
            b.wait(t0),
            Duration::from_secs(30),
            "the later pause is kept"
        );
        assert_eq!(b.wait(t0 + Duration::from_secs(31)), Duration::ZERO);
    }

    proptest! {
        /// Whatever the network's delays, a provider that counts requests
        /// when it receives them sees at most N in any window of T: each
        /// request leaves when the budget allows, is received some time
        /// later, and completes later still.
        #[test]
        fn at_most_n_receipts_in_any_window(
            n in 1u32..6,
            per_ms in 1u64..2_000,
            delays in proptest::collection::vec((0u64..500, 0u64..500, 0u64..300), 1..60),
        ) {
            let t0 = Instant::now();
            let b0 = Budget { requests: NonZeroU32::new(n).unwrap(), per: Duration::from_millis(per_ms) };
            let mut b = Budgets::new(&[b0]);
            let mut now = t0;
            let mut receipts = Vec::new();
            for (to_server, to_client, think) in delays {
                now += Duration::from_millis(think);
                now += b.wait(now);
                let received = now + Duration::from_millis(to_server);
                let completed = received + Duration::from_millis(to_client);
                receipts.push(received);
                b.record(completed);
                now = completed;
            }
            let n = n as usize;
            for k in n..receipts.len() {
                prop_assert!(receipts[k] - receipts[k - n] >= b0.per,
                    "{} receipts within {:?}", n + 1, b0.per);
            }
        }
    }
}
