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

/// The most JSON values a response body may hold for tether to parse it:
/// a million. A parsed value takes tens of bytes however short its text
/// (`0,` is two bytes, a `serde_json::Value` 32 and more), and the engine
/// holds each record in several forms while it syncs it: 10 MB of
/// `[0,0,…]` once peaked at 1.5 GB. A Salesforce page of 2,000 records of
/// 100 fields is 200,000 values.
pub const MAX_JSON_VALUES: usize = 1_000_000;

/// An upper bound on the number of values in the JSON text `bytes`,
/// counted without parsing: separators and openings outside strings. It
/// stops counting past `max`. Garbage in, a number out: a body that is
/// not JSON fails when it is parsed.
pub fn json_values(bytes: &[u8], max: usize) -> usize {
    let (mut n, mut in_string, mut escaped) = (1usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            // Every element after the first follows a comma; the first
            // follows its container's opening.
            b',' | b'[' | b'{' => {
                n += 1;
                if n > max {
                    return n;
                }
            }
            _ => {}
        }
    }
    n
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
    fn json_values_are_counted_outside_strings() {
        assert_eq!(json_values(b"[0,0,0]", 100), 4);
        assert_eq!(json_values(br#"{"a":"x,y,[{","b":[1,2]}"#, 100), 5);
        assert_eq!(json_values(br#"["a\",b",1]"#, 100), 3, "an escaped quote");
        assert!(json_values(b"[0,0,0,0,0,0]", 3) > 3, "stops past the max");
    }

    #[test]
    fn a_time_beyond_what_http_dates_can_say_is_shown_not_a_panic() {
        let far = SystemTime::UNIX_EPOCH + Duration::from_millis(i64::MAX as u64);
        assert_eq!(http_date(far), "Fri, 31 Dec 9999 23:59:59 GMT");
        let before = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(http_date(before), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
