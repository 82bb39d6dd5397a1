//! One logical request to a provider, with everything that decides whether
//! an integration survives production, in this order: the breaker (is the
//! provider taken to be down?), the budgets and any `Retry-After` pause,
//! the credentials (a token fetched or refreshed), the client, then what
//! the answer means: done, refused (dead-letter this operation), retried
//! with backoff or as the provider asked, or stop
//! (docs/design/10-rest-providers.md, "The hard cases").
//!
//! Provider text that ends up in a message goes through the redactor
//! first: a provider that echoes the `Authorization` header does not put
//! the token into a dead letter or a log.

use super::auth::{AuthError, Credentials};
use super::breaker::{Breaker, BreakerSpec, BreakerState};
use super::budget::{Budget, Budgets};
use super::client::{Client, ClientConfig, Failure, Request, Response};
use super::policy::{StatusClass, StatusClasses, backoff, retry_after};
use super::secret::Redactor;
use super::{Clock, json_at};
use serde_json::Value as Json;
use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

/// How often and how long a request is tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetrySpec {
    /// Attempts per request, the first included.
    pub max_attempts: NonZeroU32,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// The longest wait (a `Retry-After`, a budget) sat out inside a pass;
    /// a longer one ends the side's pass instead, and `--watch` comes back.
    pub max_wait: Duration,
}

impl Default for RetrySpec {
    /// Airbyte's default, which most APIs' guidance matches: 5 attempts,
    /// exponential from half a second, at most 30 s apart.
    fn default() -> RetrySpec {
        RetrySpec {
            max_attempts: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_wait: Duration::from_secs(15 * 60),
        }
    }
}

/// Everything an [`Exchange`] is made of besides its clock.
pub struct ExchangeSpec {
    /// The provider's name, for messages.
    pub name: String,
    pub client: ClientConfig,
    pub credentials: Credentials,
    pub budgets: Vec<Budget>,
    pub breaker: BreakerSpec,
    pub classes: StatusClasses,
    /// Where an error body holds the provider's message, tried in order
    /// before the usual places.
    pub message_at: Vec<Vec<String>>,
    pub retry: RetrySpec,
}

/// How one request may be answered and tried again, beyond the provider's
/// status classes.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallOptions<'a> {
    /// Statuses that mean done for this request whatever their class
    /// (`ok 404` on a delete: already gone is done).
    pub ok_also: &'a [u16],
    /// Not sent again after an attempt whose outcome is unknown: no answer
    /// (a timeout, a reset) or a `retry`-class status without
    /// `Retry-After` (a 500 may come after the work was done). Nothing
    /// would stop the provider acting twice: a create made safe by a
    /// lookup must look up first. The call then ends as
    /// [`ExchangeError::AttemptsSpent`]. A 429/503 with `Retry-After` is
    /// still waited out and sent again: the provider said it did nothing.
    pub not_replayable: bool,
    /// A group of budgets of this request's endpoint
    /// ([`Exchange::budget_group`], a read's own `budget`), kept besides
    /// the provider's: both must allow the request.
    pub group: Option<usize>,
}

/// What a provider made of a request it answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Done(Response),
    /// Refused for this request only (a validation error): the operation
    /// is dead-lettered with the provider's message; the others go on.
    Refused {
        status: u16,
        message: String,
    },
}

/// Why a request got no usable answer. Each ends the side's pass (the
/// rest waits in the outbox, or the read resumes from its checkpoint).
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{provider} is taken to be down: the circuit breaker is open until {}", super::http_date(*until))]
    BreakerOpen { provider: String, until: SystemTime },
    #[error("{label}: {provider} asks to wait until {}, longer than a pass waits", super::http_date(*until))]
    WaitTooLong {
        provider: String,
        label: String,
        until: SystemTime,
    },
    /// The attempts ran out. `transport`: the last one got no answer, so
    /// whether the provider acted on it is unknown (a create is then
    /// looked up before it is sent again).
    #[error("{label}: {provider} failed {attempts} times; the last: {last}")]
    AttemptsSpent {
        provider: String,
        label: String,
        attempts: u32,
        last: String,
        transport: bool,
    },
    #[error("{label}: {provider} answered {status}: {message}")]
    Stop {
        provider: String,
        label: String,
        status: u16,
        message: String,
    },
    #[error(
        "{label}: {provider} refused a fresh token (401 twice): check the credentials and their scopes"
    )]
    Unauthorized { provider: String, label: String },
    #[error("{provider}: {error}")]
    Auth { provider: String, error: AuthError },
    /// The request could not be built (a header value with a line break
    /// in a forged plan): sending it again cannot help, and it says
    /// nothing of the provider's health, so it is neither retried nor
    /// counted by the breaker.
    #[error("{label}: {provider}'s request cannot be built ({reason}); nothing was sent")]
    Unsendable {
        provider: String,
        label: String,
        reason: String,
    },
    /// The answer's body is larger than the client reads: the same
    /// request would get it again, so it is not retried, and the provider
    /// did answer, so the breaker does not count it. A refetch makes it
    /// that record's dead letter instead of stalling its inbox.
    #[error("{label}: {provider}'s answer is larger than {limit} bytes")]
    TooLarge {
        provider: String,
        label: String,
        limit: u64,
    },
}

/// Counts for the provider's line in the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
    pub breaker_openings: u64,
    pub token_fetches: u64,
    /// Requests by what came back: an answer of status class 1xx … 5xx
    /// at 0 … 4, none (a reset, a timeout, a request never sent) at 5.
    /// For `sync --metrics` (`tether_requests_total{status_class}`); not
    /// in the summary line.
    #[serde(skip)]
    pub by_class: [u64; 6],
}

impl Stats {
    /// The `status_class` label of each slot of `by_class`.
    pub const CLASSES: [&'static str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "none"];
}

pub struct Exchange<C: Clock> {
    name: String,
    client: Client,
    credentials: Credentials,
    budgets: Budgets,
    /// Budgets of single endpoints (HubSpot's search API: 4 per second
    /// within the account's 100 per 10 s).
    groups: Vec<Budgets>,
    breaker: Breaker,
    classes: StatusClasses,
    message_at: Vec<Vec<String>>,
    retry: RetrySpec,
    clock: C,
    /// A random number in `[0, 1)` for backoff jitter (tests fix it).
    jitter: Box<dyn FnMut() -> f64>,
    redactor: Redactor,
    stats: Stats,
}

/// Where error bodies of common APIs hold their message, tried after the
/// declared places: HubSpot and most (`message`), Salesforce
/// (`[0].message`), Stripe (`error.message`), OAuth (`error_description`).
const USUAL_MESSAGES: &[&[&str]] = &[
    &["message"],
    &["0", "message"],
    &["error", "message"],
    &["error_description"],
    &["errors", "0", "message"],
    &["error"],
];

impl<C: Clock> Exchange<C> {
    pub fn new(spec: ExchangeSpec, clock: C) -> Exchange<C> {
        let mut redactor = Redactor::new();
        spec.credentials.seed(&mut redactor);
        Exchange {
            name: spec.name,
            client: Client::new(spec.client),
            credentials: spec.credentials,
            budgets: Budgets::new(&spec.budgets),
            groups: Vec::new(),
            breaker: Breaker::new(spec.breaker),
            classes: spec.classes,
            message_at: spec.message_at,
            retry: spec.retry,
            clock,
            jitter: Box::new(rand::random::<f64>),
            redactor,
            stats: Stats::default(),
        }
    }

    /// Fixes the jitter source (tests: `|| 1.0` waits the whole backoff).
    pub fn with_jitter(mut self, jitter: impl FnMut() -> f64 + 'static) -> Self {
        self.jitter = Box::new(jitter);
        self
    }

    /// The breaker as an earlier run left it (from the state store).
    pub fn with_breaker(mut self, breaker: Breaker) -> Self {
        self.breaker = breaker;
        self
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// Opens the breaker as another run left it (from the state store),
    /// unless this exchange has already seen the provider fail or be
    /// probed: its own state is newer then.
    pub fn restore_breaker(&mut self, until: SystemTime, cooldown: Duration) {
        if self.breaker.state()
            == (BreakerState::Closed {
                consecutive_failures: 0,
            })
        {
            self.breaker.restore(until, cooldown);
        }
    }

    pub fn stats(&self) -> Stats {
        let token_fetches = match &self.credentials {
            Credentials::OAuth2(o) => o.fetches,
            _ => 0,
        };
        Stats {
            breaker_openings: self.breaker.openings(),
            token_fetches,
            ..self.stats
        }
    }

    /// The wall-clock time on the exchange's clock.
    pub fn wall_now(&self) -> SystemTime {
        self.clock.wall()
    }

    /// Provider text made safe to keep: secrets replaced, bounded, escaped.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.clean(text)
    }

    /// Sends `request` until it is answered for good, or gives up.
    pub fn call(&mut self, request: &Request) -> Result<Answer, ExchangeError> {
        self.call_with(request, CallOptions::default())
    }

    /// Adds budgets for the requests that name the returned group in
    /// [`CallOptions::group`].
    pub fn budget_group(&mut self, budgets: &[Budget]) -> usize {
        self.groups.push(Budgets::new(budgets));
        self.groups.len() - 1
    }

    /// [`Exchange::call`], with this request's own options.
    pub fn call_with(
        &mut self,
        request: &Request,
        options: CallOptions<'_>,
    ) -> Result<Answer, ExchangeError> {
        let label = request.label.clone();
        let mut attempts = 0u32;
        let mut refreshed = false;
        loop {
            if let Err(open) = self.breaker.admit(self.clock.wall()) {
                return Err(ExchangeError::BreakerOpen {
                    provider: self.name.clone(),
                    until: open.until,
                });
            }
            let now = self.clock.now();
            let group = options.group.and_then(|g| self.groups.get(g));
            let wait = group.map_or(Duration::ZERO, |g| g.wait(now));
            self.wait(&label, self.budgets.wait(now).max(wait))?;
            let mut sent = request.clone();
            if let Err(error) =
                self.credentials
                    .apply(&mut sent, &self.client, &self.clock, &mut self.redactor)
            {
                // The token endpoint failing for now (no answer, a 5xx, a
                // 429) is tried again like any request: the request itself
                // was not sent, so this holds for a create that must not
                // be replayed too. Anything else (a refused grant, a
                // rotated token that cannot be kept) stops at once.
                let transient = match &error {
                    AuthError::Transport(_) => true,
                    AuthError::Refused { status, .. } => {
                        self.classes.classify(*status) == StatusClass::Retry
                    }
                    _ => false,
                };
                attempts += 1;
                if !transient || attempts >= self.retry.max_attempts.get() {
                    if transient {
                        self.breaker.failure(self.clock.wall());
                    }
                    return Err(ExchangeError::Auth {
                        provider: self.name.clone(),
                        error,
                    });
                }
                self.retry_after_backoff(&label, attempts)?;
                continue;
            }
            self.stats.requests += 1;
            let result = self.client.send(&sent);
            let class = match &result {
                Ok(r) => usize::from(r.status / 100).clamp(1, 5) - 1,
                Err(_) => 5,
            };
            self.stats.by_class[class] += 1;
            let done = self.clock.now();
            self.budgets.record(done);
            if let Some(g) = options.group.and_then(|g| self.groups.get_mut(g)) {
                g.record(done);
            }
            let (last, transport) = match result {
                Err(Failure::Invalid { reason, .. }) => {
                    return Err(ExchangeError::Unsendable {
                        provider: self.name.clone(),
                        label,
                        reason,
                    });
                }
                Err(Failure::TooLarge { limit, .. }) => {
                    return Err(ExchangeError::TooLarge {
                        provider: self.name.clone(),
                        label,
                        limit,
                    });
                }
                Err(failure) => (failure.to_string(), true),
                Ok(r) if r.status == 401 && self.credentials.can_refresh() => {
                    if refreshed {
                        return Err(ExchangeError::Unauthorized {
                            provider: self.name.clone(),
                            label,
                        });
                    }
                    // The token was revoked or expired early: once more
                    // with a fresh one, not counted as an attempt.
                    self.credentials.invalidate();
                    refreshed = true;
                    continue;
                }
                Ok(r) => match self.class_of(r.status, options.ok_also) {
                    StatusClass::Success => {
                        self.breaker.success();
                        return Ok(Answer::Done(r));
                    }
                    StatusClass::Refuse => {
                        self.breaker.success();
                        let message = self.message(&r);
                        return Ok(Answer::Refused {
                            status: r.status,
                            message,
                        });
                    }
                    StatusClass::Stop => {
                        self.breaker.success();
                        return Err(ExchangeError::Stop {
                            provider: self.name.clone(),
                            status: r.status,
                            message: self.message(&r),
                            label,
                        });
                    }
                    StatusClass::Retry => {
                        let asked = r
                            .header("retry-after")
                            .and_then(|v| retry_after(v, r.header("date"), self.clock.wall()));
                        let last = format!("answered {}: {}", r.status, self.message(&r));
                        if let Some(pause) = asked {
                            // Alive and saying when: a pause for every
                            // request to this provider, not a failure.
                            self.stats.throttled += 1;
                            if pause > self.retry.max_wait {
                                return Err(self.too_long(&label, pause));
                            }
                            self.budgets
                                .pause_until(super::instant_after(self.clock.now(), pause));
                            attempts += 1;
                            if attempts >= self.retry.max_attempts.get() {
                                return Err(self.spent(label, attempts, last, false));
                            }
                            self.stats.retries += 1;
                            continue;
                        }
                        (last, false)
                    }
                },
            };
            attempts += 1;
            if attempts >= self.retry.max_attempts.get() || options.not_replayable {
                self.breaker.failure(self.clock.wall());
                return Err(self.spent(label, attempts, last, transport));
            }
            self.retry_after_backoff(&label, attempts)?;
        }
    }

    /// Counts a retry and waits the capped exponential backoff, with full
    /// jitter, of the attempt after `attempts`.
    fn retry_after_backoff(&mut self, label: &str, attempts: u32) -> Result<(), ExchangeError> {
        self.stats.retries += 1;
        let unit = (self.jitter)();
        let pause = backoff(
            attempts - 1,
            self.retry.backoff_min,
            self.retry.backoff_max,
            unit,
        );
        self.wait(label, pause)
    }

    fn class_of(&self, status: u16, ok_also: &[u16]) -> StatusClass {
        if ok_also.contains(&status) {
            StatusClass::Success
        } else {
            self.classes.classify(status)
        }
    }

    /// Sits out `pause`, unless it is longer than a pass waits.
    fn wait(&self, label: &str, pause: Duration) -> Result<(), ExchangeError> {
        if pause > self.retry.max_wait {
            return Err(self.too_long(label, pause));
        }
        if !pause.is_zero() {
            self.clock.sleep(pause);
        }
        Ok(())
    }

    fn too_long(&self, label: &str, pause: Duration) -> ExchangeError {
        ExchangeError::WaitTooLong {
            provider: self.name.clone(),
            label: label.to_string(),
            until: super::wall_after(self.clock.wall(), pause),
        }
    }

    fn spent(&self, label: String, attempts: u32, last: String, transport: bool) -> ExchangeError {
        ExchangeError::AttemptsSpent {
            provider: self.name.clone(),
            label,
            attempts,
            last,
            transport,
        }
    }

    /// The provider's message in an error body (at a declared place, else
    /// where APIs usually put it, else the body), redacted.
    fn message(&self, r: &Response) -> String {
        let json: Option<Json> = serde_json::from_slice(&r.body).ok();
        let found = json.as_ref().and_then(|j| {
            self.message_at
                .iter()
                .filter_map(|p| json_at(j, p))
                .chain(USUAL_MESSAGES.iter().filter_map(|p| json_at(j, p)))
                .find_map(Json::as_str)
        });
        let text = match found {
            Some(m) => m.to_string(),
            None if r.body.is_empty() => "(no body)".to_string(),
            None => String::from_utf8_lossy(&r.body).into_owned(),
        };
        self.redactor.clean(&text)
    }
}
