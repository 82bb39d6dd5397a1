//! Numbers, durations, `limits` and `status` classes (E0248, E0249).

use super::*;

impl Cx<'_> {
    pub(super) fn count(&mut self, c: &ast::Count, what: &str) -> Option<u64> {
        match c.value {
            Some(v) => Some(v),
            None => {
                let d = self
                    .e(Code::E0249, c.span, format!("{what} is too large"))
                    .label("too large");
                self.push(d);
                None
            }
        }
    }

    pub(super) fn positive(&mut self, c: &ast::Count, what: &str) -> Option<NonZeroU32> {
        let v = self.count(c, what)?;
        match u32::try_from(v).ok().and_then(NonZeroU32::new) {
            Some(n) => Some(n),
            None => {
                let d = self
                    .e(
                        Code::E0249,
                        c.span,
                        if v == 0 {
                            format!("{what} cannot be 0")
                        } else {
                            format!("{what} is too large")
                        },
                    )
                    .label("invalid limit");
                self.push(d);
                None
            }
        }
    }

    pub(super) fn duration(&mut self, d: &ast::DurationLit, what: &str) -> Option<Duration> {
        match d.value {
            Some(v) if v > crate::provider::spec::LONGEST_DECLARED => {
                // Beyond this, adding it to a clock can overflow (ureq's
                // deadlines, the breaker's `open until`): refused here
                // rather than a panic in a running `--watch`.
                let d = self
                    .e(Code::E0249, d.span, format!("{what} is too long"))
                    .label("longer than 366 days")
                    .help("a declared duration is at most 366 days");
                self.push(d);
                None
            }
            Some(v) if !v.is_zero() => Some(v),
            Some(_) => {
                let d = self
                    .e(Code::E0249, d.span, format!("{what} cannot be 0"))
                    .label("invalid limit");
                self.push(d);
                None
            }
            None => {
                let d = self
                    .e(Code::E0249, d.span, format!("{what} is too long"))
                    .label("invalid limit");
                self.push(d);
                None
            }
        }
    }

    pub(super) fn range(
        &mut self,
        (a, b): &(ast::DurationLit, ast::DurationLit),
        what: &str,
    ) -> Option<(Duration, Duration)> {
        let lo = self.duration(a, what);
        let hi = self.duration(b, what);
        let (lo, hi) = (lo?, hi?);
        if lo > hi {
            let d = self
                .e(
                    Code::E0249,
                    a.span.to(b.span),
                    format!("{what}: the shortest is longer than the longest"),
                )
                .label("MIN..MAX with MIN above MAX")
                .help("write the shorter duration first");
            self.push(d);
            return None;
        }
        Some((lo, hi))
    }

    pub(super) fn limits(&mut self, entries: &[ast::LimitEntry], out: &mut Limits) {
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        for e in entries {
            let word = match e {
                ast::LimitEntry::Budget { .. } => "budget",
                ast::LimitEntry::Timeout { .. } => "timeout",
                ast::LimitEntry::Retry { .. } => "retry",
                ast::LimitEntry::Breaker { .. } => "breaker",
            };
            // Budgets add up (every one applies); the rest are said once.
            if word != "budget" && !self.first_of_its_kind(&mut seen, word, e.span()) {
                continue;
            }
            match e {
                ast::LimitEntry::Budget { requests, per, .. } => {
                    let n = self.positive(requests, "a budget's request count");
                    let per = self.duration(per, "a budget's window");
                    if let (Some(requests), Some(per)) = (n, per) {
                        out.budgets.push(Budget { requests, per });
                    }
                }
                ast::LimitEntry::Timeout { parts, .. } => {
                    for (kind, d) in parts {
                        if let Some(v) = self.duration(d, "a timeout") {
                            match kind {
                                ast::TimeoutKind::Connect => out.connect_timeout = v,
                                ast::TimeoutKind::Request => out.request_timeout = v,
                            }
                        }
                    }
                }
                ast::LimitEntry::Retry { max, backoff, .. } => {
                    if let Some(n) = self.positive(max, "the number of attempts") {
                        out.max_attempts = n;
                    }
                    if let Some(r) = backoff
                        && let Some((lo, hi)) = self.range(r, "the backoff")
                    {
                        out.backoff_min = lo;
                        out.backoff_max = hi;
                    }
                }
                ast::LimitEntry::Breaker { after, open, .. } => {
                    let n = self.positive(after, "the failures that open the breaker");
                    let r = open
                        .as_ref()
                        .and_then(|r| self.range(r, "the breaker's cooldown"));
                    if let Some(after) = n {
                        let (open_min, open_max) =
                            r.unwrap_or((out.breaker.open_min, out.breaker.open_max));
                        out.breaker = BreakerSpec {
                            after,
                            open_min,
                            open_max,
                        };
                    }
                }
            }
        }
    }

    // -------------------------------------------------------- statuses

    pub(super) fn status_code(&mut self, c: &ast::Count) -> Option<u16> {
        match c.value.and_then(|v| u16::try_from(v).ok()) {
            Some(v @ 100..=599) => Some(v),
            _ => {
                let d = self
                    .e(Code::E0248, c.span, "an HTTP status is between 100 and 599")
                    .label("not a status");
                self.push(d);
                None
            }
        }
    }

    pub(super) fn status(
        &mut self,
        entries: &[ast::StatusEntry],
    ) -> (StatusClasses, Vec<Vec<String>>) {
        let mut declared: BTreeMap<u16, StatusClass> = BTreeMap::new();
        let mut where_: HashMap<u16, (Span, ast::StatusWord)> = HashMap::new();
        let mut message_at = Vec::new();
        for e in entries {
            let class = match e.class {
                ast::StatusWord::Retry => StatusClass::Retry,
                ast::StatusWord::Refuse => StatusClass::Refuse,
                ast::StatusWord::Stop => StatusClass::Stop,
            };
            for c in &e.codes {
                let Some(code) = self.status_code(c) else {
                    continue;
                };
                if let Some((first, word)) = where_.get(&code) {
                    let d = self
                        .e(
                            Code::E0248,
                            c.span,
                            format!("status {code} is in two classes"),
                        )
                        .label(format!("in `{}` here", e.class.word()))
                        .secondary(self.file, *first, format!("and in `{}` here", word.word()))
                        .help("a status has one meaning: keep it in one class");
                    self.push(d);
                    continue;
                }
                if (200..=299).contains(&code) && class != StatusClass::Stop {
                    let d = self
                        .e(
                            Code::E0248,
                            c.span,
                            format!("status {code} is a success: it cannot be `{}`", e.class.word()),
                        )
                        .label("a 2xx")
                        .help("a 2xx answer is done; a body that reports an error is not told apart by status");
                    self.push(d);
                    continue;
                }
                where_.insert(code, (c.span, e.class));
                declared.insert(code, class);
            }
            if let Some(m) = &e.message_at {
                if e.class != ast::StatusWord::Refuse {
                    let d = self
                        .e(Code::E0240, m.span, "`message at` belongs to `refuse`")
                        .label(format!("on `{}`", e.class.word()));
                    self.push(d);
                } else {
                    message_at.push(response_segments(m));
                }
            }
        }
        (StatusClasses { declared }, message_at)
    }

    // -------------------------------------------------------- types and paths
}
