//! What a response means for the request that got it: its status class,
//! how long `Retry-After` asks to wait, and the backoff between attempts
//! (docs/design/10-rest-providers.md, "Retry-After as seconds and as
//! HTTP-date").

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// What a status means. `Refuse` dead-letters that one operation (the
/// provider said no to this record: a validation error); `Stop` ends the
/// side's pass with everything left in the outbox (the provider said no to
/// tether: a redirect, a forbidden scope).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusClass {
    Success,
    Retry,
    Refuse,
    Stop,
}

/// Statuses by class: the declaration's own codes over the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusClasses {
    /// Codes the provider declares (`retry 409`, `refuse 404`).
    pub declared: BTreeMap<u16, StatusClass>,
}

impl StatusClasses {
    /// The class of `status`. Defaults (Airbyte's, and what most APIs
    /// document): 2xx success; 408, 425, 429 and 5xx retry; 401 and 403
    /// stop (credentials or scopes, not the record: tether refreshes a
    /// token on 401 before it comes to this); other 4xx refuse; 1xx and
    /// 3xx stop (redirects are never followed, so a token never goes to a
    /// host the declaration did not name).
    pub fn classify(&self, status: u16) -> StatusClass {
        if let Some(class) = self.declared.get(&status) {
            return *class;
        }
        match status {
            200..=299 => StatusClass::Success,
            408 | 425 | 429 | 500..=599 => StatusClass::Retry,
            401 | 403 => StatusClass::Stop,
            400..=499 => StatusClass::Refuse,
            _ => StatusClass::Stop,
        }
    }
}

/// How long a `Retry-After` value asks to wait: delay-seconds, or an
/// HTTP-date in any of the three forms RFC 9110 §5.6.7 makes recipients
/// accept (IMF-fixdate, RFC 850, asctime). A date is measured from the
/// response's own `Date` header when it has one, so tether's clock skew
/// does not shorten the wait; else from `now`. A date in the past is no
/// wait. `None`: the value is neither (the caller falls back to backoff).
pub fn retry_after(value: &str, server_date: Option<&str>, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurd numbers are clamped to `FAR` on input, so no instant
        // computed from them overflows; the caller caps what it will wait.
        let secs: u64 = value.parse().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(super::FAR));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let from = server_date
        .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
        .unwrap_or(now);
    Some(
        at.duration_since(from)
            .unwrap_or(Duration::ZERO)
            .min(super::FAR),
    )
}

/// The wait before attempt `attempt` (0 for the first retry): "full
/// jitter", `unit × min(max, min × 2^attempt)`, where `unit` is a random
/// number in `[0, 1)` the caller draws (tests pass their own). Spreading
/// retries over the whole interval keeps many clients from retrying in
/// step after an outage.
pub fn backoff(attempt: u32, min: Duration, max: Duration, unit: f64) -> Duration {
    let ceiling = min
        .checked_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
        .unwrap_or(max)
        .min(max);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn statuses_fall_into_their_default_classes() {
        let c = StatusClasses::default();
        let classes: Vec<_> = [
            200, 201, 204, 301, 400, 401, 403, 404, 408, 409, 422, 429, 500, 503,
        ]
        .iter()
        .map(|s| c.classify(*s))
        .collect();
        use StatusClass::*;
        assert_eq!(
            classes,
            [
                Success, Success, Success, Stop, Refuse, Stop, Stop, Refuse, Retry, Refuse, Refuse,
                Retry, Retry, Retry
            ]
        );
    }

    #[test]
    fn a_declared_status_overrides_its_default() {
        let mut c = StatusClasses::default();
        c.declared.insert(404, StatusClass::Success);
        c.declared.insert(409, StatusClass::Retry);
        assert_eq!(c.classify(404), StatusClass::Success);
        assert_eq!(c.classify(409), StatusClass::Retry);
        assert_eq!(c.classify(410), StatusClass::Refuse);
    }

    #[test]
    fn retry_after_parses_seconds_and_the_three_date_forms() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").unwrap();
        assert_eq!(
            retry_after("120", None, now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(retry_after(" 0 ", None, now), Some(Duration::ZERO));
        for form in [
            "Wed, 21 Oct 2026 07:30:00 GMT",
            "Wednesday, 21-Oct-26 07:30:00 GMT",
            "Wed Oct 21 07:30:00 2026",
        ] {
            assert_eq!(
                retry_after(form, None, now),
                Some(Duration::from_secs(120)),
                "{form}"
            );
        }
        assert_eq!(
            retry_after("99999999999999999999", None, now),
            Some(crate::http::FAR),
            "clamped, not saturated to u64::MAX"
        );
        assert_eq!(
            retry_after("Fri, 31 Dec 9999 23:59:59 GMT", None, now),
            Some(crate::http::FAR),
            "a date clamped too"
        );
        assert_eq!(retry_after("soon", None, now), None);
        assert_eq!(retry_after("-5", None, now), None);
        assert_eq!(retry_after("1.5", None, now), None);
    }

    #[test]
    fn a_retry_after_date_is_measured_from_the_servers_date() {
        // tether's clock is 10 minutes fast: measured from its own clock
        // the date is already past; from the server's it is 2 minutes off.
        let fast = httpdate::parse_http_date("Wed, 21 Oct 2026 07:40:00 GMT").unwrap();
        let at = "Wed, 21 Oct 2026 07:32:00 GMT";
        assert_eq!(retry_after(at, None, fast), Some(Duration::ZERO));
        let server = "Wed, 21 Oct 2026 07:30:00 GMT";
        assert_eq!(
            retry_after(at, Some(server), fast),
            Some(Duration::from_secs(120))
        );
        // A past date is now, not an error.
        assert_eq!(retry_after(server, Some(at), fast), Some(Duration::ZERO));
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum() {
        let (min, max) = (Duration::from_millis(500), Duration::from_secs(30));
        let ceilings: Vec<_> = (0..8).map(|a| backoff(a, min, max, 1.0)).collect();
        assert_eq!(
            ceilings.iter().map(Duration::as_millis).collect::<Vec<_>>(),
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]
        );
        assert_eq!(backoff(3, min, max, 0.5), Duration::from_secs(2));
        assert_eq!(backoff(200, min, max, 1.0), max, "no overflow");
    }

    proptest! {
        #[test]
        fn backoff_stays_within_zero_and_its_ceiling(
            attempt in 0u32..100, min_ms in 0u64..10_000, extra_ms in 0u64..100_000, unit in 0.0f64..1.0
        ) {
            let (min, max) = (Duration::from_millis(min_ms), Duration::from_millis(min_ms + extra_ms));
            let d = backoff(attempt, min, max, unit);
            prop_assert!(d <= max);
            prop_assert!(d <= backoff(attempt + 1, min, max, 1.0));
        }
    }
}
