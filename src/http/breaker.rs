//! The circuit breaker of one provider (docs/design/10-rest-providers.md,
//! "Breaker states"): after `after` consecutive failures requests fail at
//! once, without touching the network, until a cooldown has passed; then
//! one request probes. A dead provider costs one series of timeouts, not
//! one per operation.
//!
//! Failures are transport errors, timeouts and retry-class statuses whose
//! retries ran out. A 429 with `Retry-After` is not one: the provider is
//! alive and said when. The open-until instant is wall-clock time, so it
//! can be stored and a `--once` run started by cron a minute later fails
//! fast too.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

/// When the breaker opens and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BreakerSpec {
    /// Consecutive failures that open it.
    pub after: NonZeroU32,
    /// The first cooldown; each failed probe doubles it, up to `open_max`.
    pub open_min: Duration,
    pub open_max: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed {
        consecutive_failures: u32,
    },
    /// No request before `until`.
    Open {
        until: SystemTime,
        cooldown: Duration,
    },
    /// One probe may go; its outcome closes or re-opens the breaker.
    HalfOpen {
        cooldown: Duration,
    },
}

/// A request was not let through: the provider is taken to be down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Open {
    pub until: SystemTime,
}

#[derive(Debug)]
pub struct Breaker {
    spec: BreakerSpec,
    state: BreakerState,
    /// Times it opened, for the provider's stats.
    openings: u64,
}

impl Breaker {
    pub fn new(spec: BreakerSpec) -> Breaker {
        Breaker {
            spec,
            state: BreakerState::Closed {
                consecutive_failures: 0,
            },
            openings: 0,
        }
    }

    /// A breaker as an earlier run left it open (from the state store).
    pub fn restored(spec: BreakerSpec, until: SystemTime, cooldown: Duration) -> Breaker {
        let mut breaker = Breaker::new(spec);
        breaker.restore(until, cooldown);
        breaker
    }

    /// Opens the breaker as an earlier run left it (not counted as an
    /// opening: that run counted it). The stored cooldown is kept within
    /// this declaration's bounds, which may have changed since.
    pub fn restore(&mut self, until: SystemTime, cooldown: Duration) {
        let spec = self.spec;
        let cooldown = cooldown.clamp(spec.open_min, spec.open_max.max(spec.open_min));
        self.state = BreakerState::Open { until, cooldown };
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    pub fn openings(&self) -> u64 {
        self.openings
    }

    /// What to store so a later run knows: the open-until instant and the
    /// cooldown, while open.
    pub fn persisted(&self) -> Option<(SystemTime, Duration)> {
        match self.state {
            BreakerState::Open { until, cooldown } => Some((until, cooldown)),
            _ => None,
        }
    }

    /// Whether a request may go at `now`. An open breaker whose cooldown
    /// has passed lets one probe through.
    pub fn admit(&mut self, now: SystemTime) -> Result<(), Open> {
        match self.state {
            BreakerState::Closed { .. } | BreakerState::HalfOpen { .. } => Ok(()),
            BreakerState::Open { until, .. } if now < until => Err(Open { until }),
            BreakerState::Open { cooldown, .. } => {
                self.state = BreakerState::HalfOpen { cooldown };
                Ok(())
            }
        }
    }

    /// The request succeeded (any answer that is not a failure): closed,
    /// the cooldown back to its minimum.
    pub fn success(&mut self) {
        self.state = BreakerState::Closed {
            consecutive_failures: 0,
        };
    }

    /// The request failed at `now`.
    pub fn failure(&mut self, now: SystemTime) {
        match self.state {
            BreakerState::Closed {
                consecutive_failures,
            } => {
                let failures = consecutive_failures.saturating_add(1);
                if failures >= self.spec.after.get() {
                    self.open(now, self.spec.open_min);
                } else {
                    self.state = BreakerState::Closed {
                        consecutive_failures: failures,
                    };
                }
            }
            BreakerState::HalfOpen { cooldown } => {
                let doubled = cooldown.saturating_mul(2).min(self.spec.open_max);
                self.open(now, doubled.max(self.spec.open_min));
            }
            // Not admitted, so not sent: nothing to count.
            BreakerState::Open { .. } => {}
        }
    }

    fn open(&mut self, now: SystemTime, cooldown: Duration) {
        self.openings += 1;
        self.state = BreakerState::Open {
            until: super::wall_after(now, cooldown),
            cooldown,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> BreakerSpec {
        BreakerSpec {
            after: NonZeroU32::new(3).unwrap(),
            open_min: Duration::from_secs(30),
            open_max: Duration::from_secs(100),
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn an_absurd_cooldown_keeps_the_breaker_open_without_a_panic() {
        let t0 = SystemTime::UNIX_EPOCH + S(1_000_000);
        let mut b = Breaker::new(BreakerSpec {
            after: NonZeroU32::MIN,
            open_min: Duration::MAX,
            open_max: Duration::MAX,
        });
        b.failure(t0);
        assert_eq!(
            b.admit(t0 + S(3600)),
            Err(Open {
                until: t0 + crate::http::FAR
            })
        );
    }

    #[test]
    fn closed_open_half_open_closed() {
        let t0 = SystemTime::UNIX_EPOCH + S(1_000_000);
        let mut b = Breaker::new(spec());
        for _ in 0..2 {
            assert_eq!(b.admit(t0), Ok(()));
            b.failure(t0);
        }
        b.success();
        for _ in 0..3 {
            assert_eq!(b.admit(t0), Ok(()), "a success reset the count");
            b.failure(t0);
        }
        assert_eq!(b.admit(t0 + S(29)), Err(Open { until: t0 + S(30) }));
        assert_eq!(b.persisted(), Some((t0 + S(30), S(30))));
        assert_eq!(b.admit(t0 + S(30)), Ok(()), "the probe");
        assert_eq!(b.state(), BreakerState::HalfOpen { cooldown: S(30) });
        b.success();
        assert_eq!(
            b.state(),
            BreakerState::Closed {
                consecutive_failures: 0
            }
        );
        assert_eq!(b.openings(), 1);
    }

    #[test]
    fn a_failed_probe_doubles_the_cooldown_up_to_its_maximum() {
        let t0 = SystemTime::UNIX_EPOCH + S(1_000_000);
        let mut b = Breaker::new(spec());
        for _ in 0..3 {
            b.failure(t0);
        }
        let mut cooldowns = Vec::new();
        for _ in 0..4 {
            let (until, _) = b.persisted().expect("open");
            assert_eq!(b.admit(until), Ok(()));
            b.failure(until);
            cooldowns.push(b.persisted().expect("open again").1.as_secs());
        }
        assert_eq!(cooldowns, [60, 100, 100, 100]);
        assert_eq!(b.openings(), 5);
        // A success on the next probe closes it, and the next opening
        // starts from the minimum again.
        let (until, _) = b.persisted().expect("open");
        assert_eq!(b.admit(until), Ok(()));
        b.success();
        for _ in 0..3 {
            b.failure(until);
        }
        assert_eq!(b.persisted(), Some((until + S(30), S(30))));
    }

    #[test]
    fn a_restored_breaker_fails_fast_until_its_instant() {
        let t0 = SystemTime::UNIX_EPOCH + S(1_000_000);
        let mut b = Breaker::restored(spec(), t0 + S(45), S(60));
        assert_eq!(b.admit(t0), Err(Open { until: t0 + S(45) }));
        assert_eq!(b.admit(t0 + S(45)), Ok(()));
        b.failure(t0 + S(45));
        assert_eq!(
            b.persisted(),
            Some((t0 + S(145), S(100))),
            "60 doubled, capped at 100"
        );
    }
}
