//! The HTTP core the REST providers stand on (docs/design/10-rest-providers.md,
//! "Module boundaries"): secrets and the redactor, what a response's status
//! and `Retry-After` mean, request budgets and the circuit breaker.
//!
//! This layer knows nothing of records, the store or the engine: it deals
//! in instants, durations, statuses and text. Time comes through [`Clock`],
//! so budgets, pauses and the breaker are tested without sleeping.

pub mod auth;
pub mod breaker;
pub mod budget;
pub mod client;
pub mod exchange;
pub mod page;
pub mod policy;
pub mod secret;

use serde_json::Value as Json;
use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime};

/// What is percent-encoded in a URL component or a form value: all but
/// RFC 3986's unreserved characters (letters, digits, `-._~`).
pub const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The longest duration tether adds to an instant: about 100 years. A
/// provider's `Retry-After` or `expires_in`, or a forged plan, can name a
/// duration no clock can hold (u64::MAX seconds); `Instant + Duration`
/// then panics and a `--watch` process dies. Every instant computed from
/// outside input goes through [`instant_after`] or [`wall_after`].
pub const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `t + d`, with `d` clamped to [`FAR`]: never a panic. Should even `FAR`
/// not fit (a clock near its end), `t` itself: no wait is better than a
/// crash, and the callers' own caps (a pass's longest wait) still apply.
pub fn instant_after(t: Instant, d: Duration) -> Instant {
    t.checked_add(d.min(FAR)).unwrap_or(t)
}

/// [`instant_after`] for wall-clock time.
pub fn wall_after(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d.min(FAR)).unwrap_or(t)
}

/// `t` as an HTTP-date for a message, never a panic: httpdate panics on a
/// time before 1970 or after 9999, and an `until` can come from a damaged
/// state store (a breaker's `open_until_ms`) or a clock set wrong. Such a
/// time is shown as the nearest one it can show.
pub fn http_date(t: SystemTime) -> String {
    // 9999-12-31T23:59:59Z, the last instant httpdate formats.
    let last = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    httpdate::fmt_http_date(t.clamp(SystemTime::UNIX_EPOCH, last))
}

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

impl<T: Clock + ?Sized> Clock for &T {
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn wall(&self) -> SystemTime {
        (**self).wall()
    }
    fn sleep(&self, d: Duration) {
        (**self).sleep(d);
    }
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

/// The value at `path` in a JSON document: object members by name, array
/// elements by index (`["errors", "0", "message"]`).
pub fn json_at<'a, S: AsRef<str>>(mut v: &'a Json, path: &[S]) -> Option<&'a Json> {
    for seg in path {
        let seg = seg.as_ref();
        v = match v {
            Json::Object(m) => m.get(seg)?,
            Json::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_an_absurd_duration_to_an_instant_clamps_instead_of_panicking() {
        let now = Instant::now();
        assert_eq!(instant_after(now, Duration::MAX), now + FAR);
        assert_eq!(
            instant_after(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        let wall = SystemTime::UNIX_EPOCH;
        assert_eq!(wall_after(wall, Duration::MAX), wall + FAR);
    }

    #[test]
    fn a_time_beyond_what_http_dates_can_say_is_shown_not_a_panic() {
        let far = SystemTime::UNIX_EPOCH + Duration::from_millis(i64::MAX as u64);
        assert_eq!(http_date(far), "Fri, 31 Dec 9999 23:59:59 GMT");
        let before = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(http_date(before), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
