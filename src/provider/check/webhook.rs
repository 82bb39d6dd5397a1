//! A `webhook` clause (issue 20, point 4): where a preset's notices hold
//! their event id, record (or the id to fetch it by), version and delete,
//! each path checked against the declared type of one notice.

use super::*;
use crate::provider::spec::{DeleteWhen, WEBHOOK_PRESETS, WebhookRecord, preset_signs_body};

impl Cx<'_> {
    /// `resources`: the provider's, checked; a carried record must be of a
    /// type one of them serves (the side's mapping type is chosen by it).
    pub(super) fn webhook(
        &mut self,
        w: &ast::WebhookDecl,
        resources: &[ResourceSpec],
    ) -> Option<WebhookSpec> {
        let name = w.preset.value.as_str();
        let Some(signs_body) = preset_signs_body(name) else {
            let known: Vec<&str> = WEBHOOK_PRESETS.iter().map(|(n, _)| *n).collect();
            let d = self
                .e(
                    Code::E0240,
                    w.preset.span,
                    format!("no webhook preset `{}`", w.preset.value.escape_debug()),
                )
                .label("not a preset")
                .suggest(&w.preset.value, known.clone())
                .note(format!("the presets: {}", known.join(", ")));
            self.push(d);
            return None;
        };
        let notice = self.record_of(&w.returns)?;
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut ok = true;
        let mut spec = WebhookSpec {
            preset: name.to_string(),
            each: None,
            event: Vec::new(),
            record: WebhookRecord::Fetch(Vec::new()),
            version: None,
            delete: None,
        };
        let mut record: Option<Span> = None;
        let segments =
            |p: &Path| -> Vec<String> { p.segments.iter().map(|s| s.name.clone()).collect() };
        for e in &w.entries {
            // `fetch` and `record` are one choice: where the record is.
            let word = match e {
                ast::WebhookEntry::Fetch(..) | ast::WebhookEntry::Record(..) => "record",
                _ => e.word(),
            };
            if let Some(first) = seen.get(word).copied() {
                ok = false;
                if word != "record" {
                    self.twice(e.word(), e.span(), first);
                    continue;
                }
                let d = self
                    .e(Code::E0240, e.span(), "a webhook says once where the record is")
                    .label("a second `fetch` or `record`")
                    .secondary(self.file, first, "first here")
                    .help("`record at PATH` when the notice carries the record, `fetch PATH` when it names one to read again");
                self.push(d);
                continue;
            }
            seen.insert(word, e.span());
            match e {
                ast::WebhookEntry::Each(p, _) => {
                    spec.each = Some(p.as_ref().map(segments).unwrap_or_default())
                }
                ast::WebhookEntry::Event(paths, _) => {
                    for p in paths {
                        ok &= self.notice_scalar(notice, p, "event", true);
                        spec.event.push(segments(p));
                    }
                }
                ast::WebhookEntry::Fetch(p, span) => {
                    record = Some(*span);
                    ok &= self.notice_scalar(notice, p, "fetch", true);
                    spec.record = WebhookRecord::Fetch(segments(p));
                }
                ast::WebhookEntry::Record(p, span) => {
                    record = Some(*span);
                    if !signs_body {
                        let d = self
                            .e(Code::E0240, *span, format!("`{name}` does not sign the body: its records must be read again"))
                            .label("a record anyone could have written")
                            .help("name the record's id and read it over the API: `fetch PATH`, with a `fetch` in the resource");
                        self.push(d);
                        ok = false;
                        continue;
                    }
                    let ty = match p {
                        Some(p) => self.path_type(notice, p),
                        None => Some(Type::new(Kind::Record(notice))),
                    };
                    let Some(ty) = ty else {
                        ok = false;
                        continue;
                    };
                    let served = match ty.kind {
                        Kind::Record(r) => {
                            let name = self.reg.record(r).name.clone();
                            resources
                                .iter()
                                .any(|res| res.record_type == name)
                                .then_some(name)
                        }
                        _ => None,
                    };
                    match served {
                        Some(record_type) => {
                            spec.record = WebhookRecord::At {
                                path: p.as_ref().map(segments).unwrap_or_default(),
                                record_type,
                            };
                        }
                        None => {
                            let got = self.reg.display(&ty);
                            let serves: Vec<String> =
                                resources.iter().map(|r| r.record_type.clone()).collect();
                            let d = self
                                .e(Code::E0243, p.as_ref().map_or(*span, |p| p.span), format!("`record` must lead to a record a resource of this provider serves; this is `{got}`"))
                                .label(format!("`{got}`"))
                                .help(if serves.is_empty() {
                                    "declare the resource that serves the record".to_string()
                                } else {
                                    format!("the resources serve: {}", serves.join(", "))
                                });
                            self.push(d);
                            ok = false;
                        }
                    }
                }
                ast::WebhookEntry::Version(p, _) => {
                    match self.path_type(notice, p) {
                        Some(ty)
                            if matches!(
                                ty.kind,
                                Kind::Scalar(Scalar::Int | Scalar::DateTime) | Kind::Any
                            ) => {}
                        Some(ty) => {
                            let got = self.reg.display(&ty);
                            let d = self
                                .e(Code::E0245, p.span, format!("a notice's `version` must be an integer or a date-time; this is `{got}`"))
                                .label(format!("`{got}`"))
                                .help("name the notice's time or sequence (`occurredAt`), which orders its changes");
                            self.push(d);
                            ok = false;
                        }
                        None => ok = false,
                    }
                    spec.version = Some(segments(p));
                }
                ast::WebhookEntry::Delete {
                    path,
                    suffix,
                    value,
                    ..
                } => {
                    ok &= self.notice_scalar(notice, path, "delete when", false);
                    spec.delete = Some(DeleteWhen {
                        path: segments(path),
                        suffix: *suffix,
                        value: value.value.clone(),
                    });
                }
            }
        }
        if !seen.contains_key("event") {
            let d = self
                .e(
                    Code::E0240,
                    w.preset.span,
                    "a webhook says where a notice's event id is",
                )
                .label("no `event PATH`")
                .note("the event id is how a delivery sent again is known: it is stored once")
                .help("name it: `event eventId` (several parts: `event order_id, event_type`)");
            self.push(d);
            ok = false;
        }
        if record.is_none() {
            let d = self
                .e(Code::E0240, w.preset.span, "a webhook says where the record is")
                .label("no `record` or `fetch`")
                .help("`record at PATH` when the notice carries the record, `fetch PATH` when it names one to read again");
            self.push(d);
            ok = false;
        }
        ok.then_some(spec)
    }

    /// Whether `p` in the notice leads to a value (`key`: a string or an
    /// integer, usable as an id); E0240 if not.
    fn notice_scalar(&mut self, notice: RecordId, p: &Path, clause: &str, key: bool) -> bool {
        let Some(ty) = self.path_type(notice, p) else {
            return false;
        };
        let fits = if key {
            token_kind(&ty.kind)
        } else {
            matches!(
                ty.kind,
                Kind::Scalar(Scalar::String) | Kind::Enum(_) | Kind::Any
            )
        };
        if !fits {
            let got = self.reg.display(&ty);
            let want = if key {
                "a string or an integer"
            } else {
                "text"
            };
            let d = self
                .e(
                    Code::E0240,
                    p.span,
                    format!("`{clause}` must lead to {want}; this is `{got}`"),
                )
                .label(format!("`{got}`"));
            self.push(d);
        }
        fits
    }
}
