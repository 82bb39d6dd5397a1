//! The HTTP core the REST providers stand on (docs/design/10-rest-providers.md,
//! "Module boundaries"): secrets and the redactor, what a response's status
//! and `Retry-After` mean, request budgets and the circuit breaker.
//!
//! This layer knows nothing of records, the store or the engine: it deals
//! in instants, durations, statuses and text. Time comes through [`Clock`],
//! so budgets, pauses and the breaker are tested without sleeping.

pub mod breaker;
pub mod budget;
pub mod client;
pub mod policy;
pub mod secret;

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime};

/// Where time comes from: the real clock in production, a [`ManualClock`]
/// in tests and simulations.
pub trait Clock {
    /// Monotonic time, for budgets and pauses.
    fn now(&self) -> Instant;
    /// Wall-clock time, for what is stored across runs (a breaker open
    /// until an instant) and compared with a server's `Date`.
    fn wall(&self) -> SystemTime;
    fn sleep(&self, d: Duration);
}

/// The process's clocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// A clock that moves only when told to (or when slept on): deterministic
/// tests of everything that waits.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    wall_start: SystemTime,
    elapsed: Cell<Duration>,
}

impl ManualClock {
    pub fn new(wall_start: SystemTime) -> ManualClock {
        ManualClock {
            start: Instant::now(),
            wall_start,
            elapsed: Cell::new(Duration::ZERO),
        }
    }

    pub fn advance(&self, d: Duration) {
        self.elapsed.set(self.elapsed.get() + d);
    }

    /// Time since the clock was made.
    pub fn elapsed(&self) -> Duration {
        self.elapsed.get()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed.get()
    }
    fn wall(&self) -> SystemTime {
        self.wall_start + self.elapsed.get()
    }
    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}
