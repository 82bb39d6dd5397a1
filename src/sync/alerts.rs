//! Alert rules of `tether sync` (issue 22, step 3; docs/design/14-operations.md,
//! "Heartbeat and alerts"): parsed from `--alert RULE`, judged after each
//! pass from the same figures `tether status` reads, each incident fired
//! once and resolved once, and the two notifications sent to the sinks
//! (`--alert-url`, signed with the Standard Webhooks scheme, and
//! `--alert-command`).
//!
//! What is judged ([`conditions`]) is pure: the figures in, the conditions
//! that hold out. What has been fired and sent is the store's (`alerts`
//! table), so a restart neither fires an open incident again nor loses a
//! notification a sink did not take: it is owed, and sent at the next
//! evaluation under the same `webhook-id`.

use super::status::{StatusReport, age, duration_text};
use super::store::{AlertRow, AlertTransition, SqliteStore, StoreError};
use crate::http::secret::Secret;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, KeyInit, Mac};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The environment variable holding `--alert-url`'s signing secret, in
/// Standard Webhooks' `whsec_<base64>` form.
pub const SECRET_ENV: &str = "TETHER_ALERT_SECRET";

/// How long a notification may take (a POST, a command) before it counts
/// as failed and is owed to the next evaluation: the sync waits for it.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// One `--alert` rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// `dead-letters-older=1h`: the mapping's oldest open dead letter has
    /// waited longer than this.
    DeadLettersOlder(Duration),
    /// `no-webhooks-for=30m`: an endpoint that has had deliveries (the
    /// store keeps a week of them) has had none for this long.
    NoWebhooksFor(Duration),
    /// `breaker-open-longer=10m`: a provider's circuit breaker has been
    /// seen open, pass after pass, for this long.
    BreakerOpenLonger(Duration),
    /// `error-rate=0.2/15m`: of the mapping's events received within the
    /// window, at least this share became dead letters.
    ErrorRate { share: f64, window: Duration },
}

/// A rule's kind: what the store keeps as `rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleKind {
    DeadLettersOlder,
    NoWebhooksFor,
    BreakerOpenLonger,
    ErrorRate,
}

impl RuleKind {
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::DeadLettersOlder => "dead-letters-older",
            RuleKind::NoWebhooksFor => "no-webhooks-for",
            RuleKind::BreakerOpenLonger => "breaker-open-longer",
            RuleKind::ErrorRate => "error-rate",
        }
    }
}

impl Rule {
    pub fn kind(&self) -> RuleKind {
        match self {
            Rule::DeadLettersOlder(_) => RuleKind::DeadLettersOlder,
            Rule::NoWebhooksFor(_) => RuleKind::NoWebhooksFor,
            Rule::BreakerOpenLonger(_) => RuleKind::BreakerOpenLonger,
            Rule::ErrorRate { .. } => RuleKind::ErrorRate,
        }
    }
}

/// `--alert RULE`'s parser (clap's `value_parser`).
pub fn parse_rule(text: &str) -> Result<Rule, String> {
    let (name, value) = text.split_once('=').ok_or_else(|| {
        format!(
            "`{text}`: write RULE=VALUE, one of dead-letters-older=1h, no-webhooks-for=30m, \
             breaker-open-longer=10m, error-rate=0.2/15m"
        )
    })?;
    match name {
        "dead-letters-older" => parse_duration(value).map(Rule::DeadLettersOlder),
        "no-webhooks-for" => parse_duration(value).map(Rule::NoWebhooksFor),
        "breaker-open-longer" => parse_duration(value).map(Rule::BreakerOpenLonger),
        "error-rate" => {
            let (share, window) = value.split_once('/').ok_or_else(|| {
                format!("`{value}`: write SHARE/WINDOW, e.g. `0.2/15m` (a fifth over 15 minutes)")
            })?;
            let share: f64 = share
                .parse()
                .ok()
                .filter(|s: &f64| *s > 0.0 && *s <= 1.0)
                .ok_or_else(|| format!("`{share}`: a share above 0 and at most 1, e.g. `0.2`"))?;
            let window = parse_duration(window)?;
            if window.is_zero() {
                return Err("the error rate's window must be longer than 0".into());
            }
            Ok(Rule::ErrorRate { share, window })
        }
        // Named so the message says why: tether stores no credential
        // state (a token refresh that fails fails the pass, and no expiry
        // is kept), so there is nothing to judge yet.
        "credential-failing" | "credential-expires-within" => Err(format!(
            "`{name}` is not available: tether does not record credential failures or expiry \
             dates yet; a failing credential fails the pass (see `tether status`)"
        )),
        _ => Err(format!(
            "unknown alert rule `{name}` (dead-letters-older, no-webhooks-for, \
             breaker-open-longer, error-rate)"
        )),
    }
}

/// `30s`, `10m`, `1h`, `7d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration (write e.g. `30s`, `10m`, `1h`, `7d`)");
    let split = text.len().checked_sub(1).ok_or_else(bad)?;
    let (digits, unit) = text.split_at_checked(split).ok_or_else(bad)?;
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }
    .filter(|s| *s <= 366 * 86_400)
    .ok_or_else(bad)?;
    Ok(Duration::from_secs(seconds))
}

/// What the rules are judged on, read after a pass.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub report: StatusReport,
    /// Per error-rate rule (in rule order): (events received, dead letters
    /// made) within its window, for the synced mapping.
    pub errors: Vec<(u64, u64)>,
    /// Each webhook endpoint's latest delivery (RFC 3339).
    pub last_deliveries: Vec<(String, String)>,
}

/// A rule's condition holding for one subject (a mapping, a provider, an
/// endpoint).
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub rule: RuleKind,
    pub subject: String,
    /// How long it must hold, seen pass after pass, before it fires.
    pub hold: Duration,
    pub message: String,
}

/// The conditions of `rules` that hold at `now` for `mapping` (the synced
/// one: mapping rules judge it alone; providers and endpoints are the
/// store's, shared by its mappings).
pub fn conditions(
    rules: &[Rule],
    mapping: &str,
    seen: &Observed,
    now: DateTime<Utc>,
) -> Vec<Condition> {
    let mut out = Vec::new();
    let mut errors = seen.errors.iter();
    for rule in rules {
        let cond = |subject: &str, hold, message| Condition {
            rule: rule.kind(),
            subject: subject.to_string(),
            hold,
            message,
        };
        match *rule {
            Rule::DeadLettersOlder(limit) => {
                for m in seen.report.mappings.iter().filter(|m| m.name == mapping) {
                    let oldest = m.dead_letters.oldest.as_deref().and_then(|t| age(t, now));
                    if m.dead_letters.count > 0 && oldest.is_some_and(|a| a > limit) {
                        out.push(cond(
                            mapping,
                            Duration::ZERO,
                            format!(
                                "mapping `{mapping}`: {} open dead letter(s), the oldest {} old \
                                 (over {}): `tether dlq list`",
                                m.dead_letters.count,
                                duration_text(oldest.unwrap_or_default()),
                                duration_text(limit)
                            ),
                        ));
                    }
                }
            }
            Rule::NoWebhooksFor(limit) => {
                for (endpoint, last) in &seen.last_deliveries {
                    // Unknown (a text that does not parse) is not silence.
                    if let Some(a) = age(last, now).filter(|a| *a > limit) {
                        out.push(cond(
                            endpoint,
                            Duration::ZERO,
                            format!(
                                "webhook endpoint `{endpoint}`: no delivery for {} (the last at {last})",
                                duration_text(a)
                            ),
                        ));
                    }
                }
            }
            Rule::BreakerOpenLonger(limit) => {
                for b in &seen.report.breakers {
                    let open = DateTime::parse_from_rfc3339(&b.open_until)
                        .map_or(true, |until| until > now);
                    if open {
                        out.push(cond(
                            &b.provider,
                            limit,
                            format!(
                                "provider `{}`: its circuit breaker has been open for over {} \
                                 (now until {})",
                                b.provider,
                                duration_text(limit),
                                b.open_until
                            ),
                        ));
                    }
                }
            }
            Rule::ErrorRate { share, window } => {
                let (received, letters) = errors.next().copied().unwrap_or((0, 0));
                // No events, no rate: a quiet mapping is not failing.
                if received > 0 && letters as f64 / received as f64 >= share {
                    out.push(cond(
                        mapping,
                        Duration::ZERO,
                        format!(
                            "mapping `{mapping}`: {letters} dead letter(s) for {received} event(s) \
                             in the last {} (at least {share} of them)",
                            duration_text(window)
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// Where notifications go; each has a bit in the store's `*_sent` masks.
pub struct Sinks {
    pub url: Option<UrlSink>,
    pub command: Option<PathBuf>,
}

const URL_BIT: u8 = 1;
const COMMAND_BIT: u8 = 2;

impl Sinks {
    fn bits(&self) -> u8 {
        (if self.url.is_some() { URL_BIT } else { 0 })
            | (if self.command.is_some() {
                COMMAND_BIT
            } else {
                0
            })
    }
}

/// `--alert-url` with its signing key (decoded from the secret; never
/// printed: `Debug` is not derived).
pub struct UrlSink {
    url: String,
    key: Vec<u8>,
    agent: ureq::Agent,
}

impl UrlSink {
    /// The sink for `url`, signing with `secret` (`whsec_<base64>`).
    pub fn new(url: &str, secret: &Secret) -> Result<UrlSink, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("--alert-url `{url}`: an http:// or https:// URL"));
        }
        let key = secret
            .expose()
            .strip_prefix("whsec_")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|k| !k.is_empty())
            // The message names the variable, never the value.
            .ok_or_else(|| {
                format!("{SECRET_ENV} is not a `whsec_` secret (base64 after `whsec_`)")
            })?;
        let agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .timeout_global(Some(SEND_TIMEOUT))
            // As for providers: no proxy from the environment.
            .proxy(None)
            .user_agent(concat!("tether/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(UrlSink {
            url: url.to_string(),
            key,
            agent,
        })
    }

    fn post(&self, id: &str, body: &[u8]) -> Result<(), String> {
        let timestamp = Utc::now().timestamp().to_string();
        let signature = sign(&self.key, id, &timestamp, body);
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(self.url.as_str())
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.as_str())
            .header("webhook-signature", signature.as_str())
            .body(body.to_vec())
            .map_err(|e| e.to_string())?;
        // Any 2xx is taken; anything else (ureq's status errors too) is
        // owed to the next evaluation.
        match self.agent.run(request) {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("answered {}", r.status().as_u16())),
            Err(ureq::Error::StatusCode(code)) => Err(format!("answered {code}")),
            Err(e) => Err(format!("not delivered ({})", kind_of(&e))),
        }
    }
}

/// ureq's error in words that cannot carry the URL's credentials.
fn kind_of(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::Timeout(_) => "timed out",
        ureq::Error::Io(_) | ureq::Error::ConnectionFailed => "connection failed",
        ureq::Error::HostNotFound => "host not found",
        _ => "request failed",
    }
}

/// The Standard Webhooks signature header value: `v1,` and the base64
/// HMAC-SHA256 of `{id}.{timestamp}.{body}`.
pub fn sign(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = match <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC takes keys of any length; kept as a value, not a panic.
        Err(_) => return String::new(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// Runs `program` (no shell: nothing in the alert is ever a word of a
/// command line) with `body` on standard input; its exit status says
/// whether it took the alert.
fn run_command(program: &PathBuf, body: &[u8]) -> Result<(), String> {
    let mut child = std::process::Command::new(program)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        // The signing secret is the URL sink's, not the command's.
        .env_remove(SECRET_ENV)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is its own business:
        // its exit status decides.
        let _ = stdin.write_all(body);
    }
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("{} exited with {status}", program.display())),
            Ok(None) if started.elapsed() > SEND_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} took longer than {SEND_TIMEOUT:?}",
                    program.display()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The alert rules of one sync, their store connection and sinks.
pub struct Alerts {
    pub rules: Vec<Rule>,
    pub mapping: String,
    pub sinks: Sinks,
    pub store: SqliteStore,
}

impl Alerts {
    /// Judges the rules on the store as the pass left it, records each
    /// incident's transitions and sends what any sink is owed. A store
    /// that cannot be read is an error for the caller to log: the next
    /// pass tries again.
    pub fn evaluate(&mut self) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut seen = Observed {
            report: self.store.status_report()?,
            last_deliveries: self.store.last_deliveries()?,
            errors: Vec::new(),
        };
        for rule in &self.rules {
            if let Rule::ErrorRate { window, .. } = rule {
                let since = now - chrono::Duration::from_std(*window).unwrap_or_default();
                let since = since.to_rfc3339_opts(SecondsFormat::Millis, true);
                seen.errors
                    .push(self.store.error_counts(&self.mapping, &since)?);
            }
        }
        let holding = conditions(&self.rules, &self.mapping, &seen, now);
        let all = self.sinks.bits();
        // Only the configured rules' incidents are judged: dropping a rule
        // from the command line leaves its open incident as it was rather
        // than reporting it resolved.
        let judged: Vec<&'static str> = self.rules.iter().map(|r| r.kind().name()).collect();
        let rows = self.store.alerts_unsettled(all)?;
        for c in &holding {
            let open = rows.iter().find(|r| {
                r.resolved_at.is_none() && r.rule == c.rule.name() && r.subject == c.subject
            });
            let (id, since) = match open {
                Some(r) if r.fired_at.is_some() => continue,
                Some(r) => (r.id, r.since.clone()),
                None => {
                    let id =
                        self.store
                            .alert_begin(c.rule.name(), &c.subject, &c.message, !all & 3)?;
                    (id, now.to_rfc3339_opts(SecondsFormat::Millis, true))
                }
            };
            if age(&since, now).unwrap_or_default() >= c.hold {
                self.store.alert_fire(id, &c.message)?;
                tracing::warn!(
                    rule = c.rule.name(),
                    subject = c.subject.as_str(),
                    "alert fired: {}",
                    c.message
                );
            }
        }
        for r in rows.iter().filter(|r| r.resolved_at.is_none()) {
            let still = holding
                .iter()
                .any(|c| c.rule.name() == r.rule && c.subject == r.subject);
            if !still && judged.contains(&r.rule.as_str()) {
                self.store.alert_clear(r.id)?;
                if r.fired_at.is_some() {
                    tracing::info!(
                        rule = r.rule.as_str(),
                        subject = r.subject.as_str(),
                        "alert resolved: {}",
                        r.message
                    );
                }
            }
        }
        if all != 0 {
            for row in self.store.alerts_unsettled(all)? {
                self.send_owed(&row, all)?;
            }
        }
        Ok(())
    }

    /// Sends `row`'s transitions that a sink has not taken: the fired one
    /// first, the resolved one only to a sink that has the fired one.
    fn send_owed(&mut self, row: &AlertRow, all: u8) -> Result<(), StoreError> {
        for (transition, at, sent) in [
            (AlertTransition::Fired, &row.fired_at, row.fired_sent),
            (
                AlertTransition::Resolved,
                &row.resolved_at,
                row.resolved_sent,
            ),
        ] {
            if at.is_none() {
                continue;
            }
            let owed = all & !sent;
            if owed == 0 {
                continue;
            }
            let id = notification_id(row, transition);
            let body = notification(row, transition, &self.mapping);
            let mut fired_sent = row.fired_sent;
            for bit in [URL_BIT, COMMAND_BIT] {
                if owed & bit == 0 {
                    continue;
                }
                if transition == AlertTransition::Resolved && fired_sent & bit == 0 {
                    continue;
                }
                let result = match bit {
                    URL_BIT => self.sinks.url.as_ref().map(|u| u.post(&id, &body)),
                    _ => self.sinks.command.as_ref().map(|c| run_command(c, &body)),
                };
                match result {
                    Some(Ok(())) => {
                        self.store.alert_sent(row.id, transition, bit)?;
                        if transition == AlertTransition::Fired {
                            fired_sent |= bit;
                        }
                    }
                    Some(Err(e)) => tracing::warn!(
                        alert = id.as_str(),
                        "alert notification not taken, retried after the next pass: {e}"
                    ),
                    None => {}
                }
            }
        }
        Ok(())
    }
}

/// The `webhook-id` of an incident's transition: the same at every retry,
/// so a receiver that got it already drops the repeat.
pub fn notification_id(row: &AlertRow, transition: AlertTransition) -> String {
    let t = match transition {
        AlertTransition::Fired => "fired",
        AlertTransition::Resolved => "resolved",
    };
    format!("alert_{}_{t}", row.id)
}

/// The notification's JSON: Standard Webhooks' shape (`type`,
/// `timestamp`, `data`).
pub fn notification(row: &AlertRow, transition: AlertTransition, mapping: &str) -> Vec<u8> {
    let (kind, at) = match transition {
        AlertTransition::Fired => ("alert.fired", &row.fired_at),
        AlertTransition::Resolved => ("alert.resolved", &row.resolved_at),
    };
    let body = serde_json::json!({
        "type": kind,
        "timestamp": at,
        "data": {
            "incident": row.id,
            "rule": row.rule,
            "subject": row.subject,
            "mapping": mapping,
            "message": row.message,
            "since": row.since,
            "fired_at": row.fired_at,
            "resolved_at": row.resolved_at,
        }
    });
    body.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::status::{BreakerStatus, MappingStatus, Open};

    #[test]
    fn rules_parse_into_their_kinds_and_bad_ones_say_why() {
        assert_eq!(
            parse_rule("dead-letters-older=1h"),
            Ok(Rule::DeadLettersOlder(Duration::from_secs(3600)))
        );
        assert_eq!(
            parse_rule("error-rate=0.2/15m"),
            Ok(Rule::ErrorRate {
                share: 0.2,
                window: Duration::from_secs(900)
            })
        );
        assert_eq!(
            parse_rule("breaker-open-longer=10m"),
            Ok(Rule::BreakerOpenLonger(Duration::from_secs(600)))
        );
        for bad in [
            "dead-letters-older",
            "dead-letters-older=1y",
            "error-rate=2/15m",
            "error-rate=0.2",
            "error-rate=0.2/0s",
            "nope=1h",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad}");
        }
        let credential = parse_rule("credential-expires-within=7d").unwrap_err();
        assert!(credential.contains("not available"), "{credential}");
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("9999999999999999d").is_err());
    }

    #[test]
    fn conditions_judge_the_synced_mapping_and_the_stores_providers() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
            .expect("instant")
            .with_timezone(&Utc);
        let mapping = |name: &str, oldest: &str| MappingStatus {
            name: name.into(),
            sides: vec![],
            dead_letters: Open {
                count: 2,
                oldest: Some(oldest.into()),
            },
            reviews: Open::default(),
            last_ok: None,
            last_failed: None,
        };
        let seen = Observed {
            report: StatusReport {
                mappings: vec![
                    mapping("contact", "2026-12-07T10:00:00Z"),
                    mapping("other", "2026-12-07T09:00:00Z"),
                ],
                breakers: vec![BreakerStatus {
                    provider: "crm".into(),
                    open_until: "2026-12-07T12:01:00Z".into(),
                }],
                webhooks: vec![],
            },
            errors: vec![(10, 2), (10, 1)],
            last_deliveries: vec![("stripe".into(), "2026-12-07T11:45:00Z".into())],
        };
        let rules = [
            Rule::DeadLettersOlder(Duration::from_secs(3600)),
            Rule::BreakerOpenLonger(Duration::from_secs(600)),
            Rule::NoWebhooksFor(Duration::from_secs(600)),
            Rule::ErrorRate {
                share: 0.2,
                window: Duration::from_secs(900),
            },
            Rule::ErrorRate {
                share: 0.2,
                window: Duration::from_secs(60),
            },
        ];
        let c = conditions(&rules, "contact", &seen, now);
        assert_eq!(
            c.iter()
                .map(|c| (c.rule, c.subject.as_str(), c.hold.as_secs()))
                .collect::<Vec<_>>(),
            [
                (RuleKind::DeadLettersOlder, "contact", 0),
                (RuleKind::BreakerOpenLonger, "crm", 600),
                (RuleKind::NoWebhooksFor, "stripe", 0),
                (RuleKind::ErrorRate, "contact", 0),
            ]
        );
        // Under the limits, nothing holds.
        let lenient = [
            Rule::DeadLettersOlder(Duration::from_secs(3 * 3600)),
            Rule::NoWebhooksFor(Duration::from_secs(3600)),
            Rule::ErrorRate {
                share: 0.5,
                window: Duration::from_secs(900),
            },
        ];
        assert_eq!(conditions(&lenient, "contact", &seen, now), []);
    }

    #[test]
    fn the_signature_is_standard_webhooks() {
        // The Standard Webhooks specification's own example.
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .expect("key");
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
