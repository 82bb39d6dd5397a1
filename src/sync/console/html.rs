//! The console's pages: plain server-rendered HTML, no script, no
//! external asset (docs/design/14-operations.md, "The console").
//!
//! Every value that comes from a provider, a record or the store goes
//! through [`esc`]: provider data is hostile, and a `<script>` in a field
//! must show as text. Nothing here writes a value into an attribute
//! other than through `esc` either.

use crate::sync::merge::Parked;
use crate::sync::status::{Open, StatusReport};
use crate::sync::store::{DeadLetter, LetterStatus, RecordState, Review, ReviewStatus};
use serde_json::Value as Json;
use std::fmt::Write as _;

/// `text` safe inside an element or a double-quoted attribute.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Readable on a laptop screen, wide tables scroll on their own, the
/// values in conflict marked by more than colour (a heading word and
/// `<mark>`), and the focus visible for keyboard users.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72rem;\
padding:0 1rem 2rem;line-height:1.4}nav ul{list-style:none;padding:0;display:flex;gap:1.5rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #888;padding:.25rem .5rem;\
text-align:left;vertical-align:top}pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;\
padding:.5rem;max-height:24rem;overflow:auto}.scroll{overflow-x:auto}tr.conflict{background:#fff3c4}\
mark{background:#ffd54a}form.inline{display:inline}button{font-size:1rem;padding:.2rem .6rem}\
:focus{outline:3px solid #1565c0}.notice{border:2px solid #2e7d32;padding:.5rem}";

/// A whole page: `title` (already plain text) and its body.
pub fn page(title: &str, mapping: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t} · tether console</title><style>{STYLE}</style></head><body>\
<header><p>tether console · mapping <strong>{m}</strong></p><nav aria-label=\"Pages\"><ul>\
<li><a href=\"/\">Status</a></li><li><a href=\"/dead-letters\">Dead letters</a></li>\
<li><a href=\"/reviews\">Reviews</a></li><li><a href=\"/records\">Explain a record</a></li>\
</ul></nav></header><main><h1>{t}</h1>{body}</main>\
</body></html>\n",
        t = esc(title),
        m = esc(mapping),
    )
}

/// The login form (a token is configured and the client has no session).
pub fn login(csrf: &str, failed: bool) -> String {
    let mut b = String::new();
    if failed {
        b.push_str("<p role=\"alert\">That token is not the console's token.</p>");
    }
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<p><label for=\"token\">Console token</label> <input id=\"token\" name=\"token\" type=\"password\" \
autocomplete=\"current-password\" required></p><p><button type=\"submit\">Sign in</button></p></form>",
        esc(csrf)
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Sign in · tether console</title><style>{STYLE}</style></head><body><main>\
<h1>Sign in</h1>{b}</main></body></html>\n"
    )
}

fn open_cell(o: &Open) -> String {
    match &o.oldest {
        Some(at) => format!("{} (oldest {})", o.count, esc(at)),
        None => o.count.to_string(),
    }
}

/// The status page: what `tether status` reports.
pub fn status(report: &StatusReport) -> String {
    let mut b = String::new();
    for m in &report.mappings {
        let _ = write!(b, "<section><h2>Mapping {}</h2>", esc(&m.name));
        let _ = write!(
            b,
            "<p>Last successful pass: {}.</p>",
            m.last_ok.as_deref().map_or("never".into(), esc)
        );
        if let Some(f) = &m.last_failed {
            let _ = write!(
                b,
                "<p>Last failed pass: {}: {}</p>",
                esc(&f.at),
                esc(&f.error)
            );
        }
        let _ = write!(
            b,
            "<p><a href=\"/dead-letters\">Open dead letters</a>: {}. \
<a href=\"/reviews\">Open reviews</a>: {}.</p>",
            open_cell(&m.dead_letters),
            open_cell(&m.reviews)
        );
        b.push_str(
            "<div class=\"scroll\"><table><caption>Backlog by side</caption><thead><tr>\
<th scope=\"col\">Side</th><th scope=\"col\">Events waiting</th><th scope=\"col\">Blocked</th>\
<th scope=\"col\">Operations not acknowledged</th><th scope=\"col\">Cursor</th></tr></thead><tbody>",
        );
        for s in &m.sides {
            let cursor = s.cursor.as_ref().map_or("none".into(), |c| {
                format!("{} (moved {})", esc(&c.value), esc(&c.updated_at))
            });
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                s.side.name(),
                open_cell(&s.received),
                s.blocked,
                open_cell(&s.unacknowledged),
                cursor
            );
        }
        b.push_str("</tbody></table></div></section>");
    }
    if report.mappings.is_empty() {
        b.push_str("<p>The store holds no mapping yet.</p>");
    }
    b.push_str("<section><h2>Circuit breakers</h2>");
    if report.breakers.is_empty() {
        b.push_str("<p>None open.</p>");
    } else {
        b.push_str(
            "<table><thead><tr><th scope=\"col\">Provider</th><th scope=\"col\">Open until</th>\
</tr></thead><tbody>",
        );
        for br in &report.breakers {
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                esc(&br.provider),
                esc(&br.open_until)
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("</section>");
    if !report.webhooks.is_empty() {
        b.push_str(
            "<section><h2>Webhook deliveries</h2><table><thead><tr><th scope=\"col\">Endpoint</th>\
<th scope=\"col\">Last hour</th><th scope=\"col\">Usual per hour</th><th scope=\"col\">Waiting</th>\
</tr></thead><tbody>",
        );
        for w in &report.webhooks {
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
                esc(&w.endpoint),
                w.last_hour,
                w.hourly_mean,
                w.pending
            );
        }
        b.push_str("</tbody></table></section>");
    }
    b
}

/// A hidden CSRF field and one button posting to `action`.
fn button(action: &str, csrf: &str, label: &str, fields: &[(&str, &str)]) -> String {
    let mut f = format!(
        "<form class=\"inline\" method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"csrf\" \
value=\"{}\">",
        esc(action),
        esc(csrf)
    );
    for (name, value) in fields {
        let _ = write!(
            f,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(name),
            esc(value)
        );
    }
    let _ = write!(f, "<button type=\"submit\">{}</button></form>", esc(label));
    f
}

fn letter_status(s: LetterStatus) -> &'static str {
    match s {
        LetterStatus::Open => "open",
        LetterStatus::Replayed => "replayed",
        LetterStatus::Discarded => "discarded",
    }
}

/// One page of open dead letters (`after`: the id the page starts after;
/// `next`: the id the next page starts after, when there is one).
pub fn letters(letters: &[DeadLetter], open: &Open, after: i64, next: Option<i64>) -> String {
    let mut b = format!("<p>Open dead letters: {}.</p>", open_cell(open));
    b.push_str(
        "<form method=\"get\" action=\"/dead-letters\"><p><label for=\"after\">Show open letters \
after id</label> <input id=\"after\" name=\"after\" type=\"number\" min=\"0\" inputmode=\"numeric\"> \
<button type=\"submit\">Go</button></p></form>",
    );
    if letters.is_empty() {
        b.push_str("<p>No open dead letter on this page.</p>");
    } else {
        b.push_str(
            "<div class=\"scroll\"><table><caption>Open dead letters</caption><thead><tr>\
<th scope=\"col\">Id</th><th scope=\"col\">Record key</th><th scope=\"col\">Side</th>\
<th scope=\"col\">First error</th><th scope=\"col\">Made</th></tr></thead><tbody>",
        );
        for d in letters {
            let first = d.errors.first().map_or(String::new(), |e| {
                format!("{} {}", e.code.as_str(), esc(&e.message))
            });
            let _ = write!(
                b,
                "<tr><th scope=\"row\"><a href=\"/dead-letters/{id}\">{id}</a></th><td>{}</td>\
<td>{}</td><td>{}</td><td>{}</td></tr>",
                d.key.as_deref().map_or("(no key)".into(), esc),
                d.side.name(),
                first,
                esc(&d.created_at),
                id = d.id,
            );
        }
        b.push_str("</tbody></table></div>");
    }
    b.push_str("<nav aria-label=\"Dead letter pages\"><p>");
    if after > 0 {
        b.push_str("<a href=\"/dead-letters\">First page</a> ");
    }
    if let Some(n) = next {
        let _ = write!(b, "<a href=\"/dead-letters?after={n}\">Next page</a>");
    }
    b.push_str("</p></nav>");
    b
}

fn json_block(label: &str, v: Option<&Json>) -> String {
    let text = match v {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        None => "(none)".into(),
    };
    format!("<h3>{}</h3><pre>{}</pre>", esc(label), esc(&text))
}

/// One dead letter: its errors, the record, and its buttons while open.
pub fn letter(
    d: &DeadLetter,
    record: Option<&RecordState>,
    events: &[(i64, String, Option<String>)],
    csrf: &str,
    done: bool,
) -> String {
    let mut b = String::new();
    if done {
        let _ = write!(
            b,
            "<p class=\"notice\" role=\"status\">Dead letter {} is now {}.</p>",
            d.id,
            letter_status(d.status)
        );
    }
    let _ = write!(
        b,
        "<dl><dt>Record key</dt><dd>{}</dd><dt>Side</dt><dd>{}</dd><dt>Made</dt><dd>{}</dd>\
<dt>Status</dt><dd>{}</dd><dt>Events</dt><dd>{}</dd></dl>",
        d.key.as_deref().map_or("(no key)".into(), esc),
        d.side.name(),
        esc(&d.created_at),
        letter_status(d.status),
        d.events.len()
    );
    if d.status == LetterStatus::Open {
        let _ = write!(
            b,
            "<div>{} {} <p>Replay merges its events again and sends a refused write again; \
Discard drops its events.</p></div>",
            button(
                &format!("/dead-letters/{}/replay", d.id),
                csrf,
                "Replay",
                &[]
            ),
            button(
                &format!("/dead-letters/{}/discard", d.id),
                csrf,
                "Discard",
                &[]
            )
        );
    }
    b.push_str(
        "<h2>Errors</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">Code</th>\
<th scope=\"col\">Path</th><th scope=\"col\">Value</th><th scope=\"col\">Message</th>\
<th scope=\"col\">Rule</th></tr></thead><tbody>",
    );
    for e in &d.errors {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.code.as_str(),
            esc(&e.path),
            esc(&e.value),
            esc(&e.message),
            esc(&e.rule)
        );
    }
    b.push_str("</tbody></table></div><h2>The record</h2>");
    if let Some(op) = &d.operation {
        b.push_str(&json_block(
            "The refused write",
            serde_json::to_value(op).ok().as_ref(),
        ));
    }
    match record {
        Some(r) => {
            let side = match d.side {
                crate::base::Side::Left => &r.left,
                crate::base::Side::Right => &r.right,
            };
            b.push_str(&json_block(
                &format!("As the {} side last reported it", d.side.name()),
                side.record.as_ref(),
            ));
        }
        None if d.operation.is_none() && events.is_empty() => {
            b.push_str("<p>The store holds no record for this letter.</p>");
        }
        None => {}
    }
    for (seq, record, malformed) in events {
        let text = match malformed {
            Some(line) => line.clone(),
            None => serde_json::from_str::<Json>(record)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| record.clone()),
        };
        let _ = write!(
            b,
            "<h3>Event {seq} as delivered</h3><pre>{}</pre>",
            esc(&text)
        );
    }
    b
}

/// Open reviews.
pub fn reviews(list: &[Review]) -> String {
    if list.is_empty() {
        return "<p>Nothing to review.</p>".into();
    }
    let mut b = String::from(
        "<div class=\"scroll\"><table><caption>Open reviews</caption><thead><tr>\
<th scope=\"col\">Record key</th><th scope=\"col\">Reason</th><th scope=\"col\">Fields</th>\
<th scope=\"col\">Parked</th></tr></thead><tbody>",
    );
    for r in list {
        let fields: Vec<String> = r.fields.iter().map(|p| esc(&p.field)).collect();
        let _ = write!(
            b,
            "<tr><th scope=\"row\"><a href=\"/reviews/{}\">{}</a></th><td>{}</td><td>{}</td>\
<td>{}</td></tr>",
            r.id,
            esc(&r.key),
            esc(&r.reason),
            fields.join(", "),
            esc(&r.created_at)
        );
    }
    b.push_str("</tbody></table></div>");
    b
}

/// One review: the fields in conflict (left, right, base) with a button
/// per side, what was decided so far, then every merge field of the base
/// and both records whole.
pub fn review(r: &Review, record: Option<&RecordState>, csrf: &str, done: Option<&str>) -> String {
    let mut b = String::new();
    if let Some(msg) = done {
        let _ = write!(b, "<p class=\"notice\" role=\"status\">{}</p>", esc(msg));
    }
    let _ = write!(
        b,
        "<dl><dt>Record key</dt><dd><a href=\"/records?key={}\">{}</a></dd><dt>Reason</dt><dd>{}</dd>\
<dt>Parked</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd></dl>",
        esc(&super::percent(&r.key)),
        esc(&r.key),
        esc(&r.reason),
        esc(&r.created_at),
        match r.status {
            ReviewStatus::Open => "open",
            ReviewStatus::Resolved => "resolved",
        }
    );
    b.push_str(
        "<h2>Fields in conflict</h2><div class=\"scroll\"><table><thead><tr>\
<th scope=\"col\">Field</th><th scope=\"col\">Left</th><th scope=\"col\">Right</th>\
<th scope=\"col\">Base</th><th scope=\"col\">Decision</th></tr></thead><tbody>",
    );
    let decided = |p: &Parked| record.and_then(|rec| rec.decisions.get(&p.field).copied());
    for p in &r.fields {
        let decision = match (decided(p), r.status) {
            (Some(side), _) => format!("take {}", side.name()),
            (None, ReviewStatus::Open) => {
                let url = format!("/reviews/{}/resolve", r.id);
                format!(
                    "{} {}",
                    button(
                        &url,
                        csrf,
                        &format!("Take left for {}", p.field),
                        &[("field", &p.field), ("side", "left")]
                    ),
                    button(
                        &url,
                        csrf,
                        &format!("Take right for {}", p.field),
                        &[("field", &p.field), ("side", "right")]
                    )
                )
            }
            (None, ReviewStatus::Resolved) => "resolved".into(),
        };
        let _ = write!(
            b,
            "<tr class=\"conflict\"><th scope=\"row\">{} <span>(in conflict)</span></th>\
<td><mark>{}</mark></td><td><mark>{}</mark></td><td>{}</td><td>{}</td></tr>",
            esc(&p.field),
            esc(&p.left),
            esc(&p.right),
            esc(&p.base),
            decision
        );
    }
    b.push_str("</tbody></table></div>");
    if let Some(rec) = record {
        if let Some(base) = &rec.base {
            b.push_str(
                "<h2>The base, field by field</h2><div class=\"scroll\"><table><thead><tr>\
<th scope=\"col\">Field</th><th scope=\"col\">Left at the last sync</th>\
<th scope=\"col\">Right at the last sync</th></tr></thead><tbody>",
            );
            for (field, entry) in &base.0 {
                let conflict = r.fields.iter().any(|p| &p.field == field);
                let _ = write!(
                    b,
                    "<tr{}><th scope=\"row\">{}{}</th><td>{}</td><td>{}</td></tr>",
                    if conflict { " class=\"conflict\"" } else { "" },
                    esc(field),
                    if conflict { " (in conflict)" } else { "" },
                    esc(&entry.left.show()),
                    esc(&entry.right.show())
                );
            }
            b.push_str("</tbody></table></div>");
        }
        b.push_str("<h2>Both records</h2>");
        b.push_str(&json_block("Left", rec.left.record.as_ref()));
        b.push_str(&json_block("Right", rec.right.record.as_ref()));
    }
    b
}

/// `--explain KEY` as a page: a form asking for the key, then what the
/// store knows of the record (link, both sides, the base, conflict
/// resolutions with who decided, its events).
pub fn explain(
    key: Option<&str>,
    record: Option<&RecordState>,
    resolutions: &[crate::sync::merge::Resolution],
    events: &[(i64, String, String, String)],
) -> String {
    let mut b = format!(
        "<form method=\"get\" action=\"/records\"><p><label for=\"key\">Record key</label> \
<input id=\"key\" name=\"key\" value=\"{}\" required> <button type=\"submit\">Explain</button></p></form>",
        esc(key.unwrap_or(""))
    );
    let (Some(key), Some(r)) = (key, record) else {
        if let Some(key) = key {
            let _ = write!(b, "<p role=\"alert\">No record with key {}.</p>", esc(key));
        }
        return b;
    };
    let _ = write!(b, "<h2>Record {}</h2><dl>", esc(key));
    for (side, s, k) in [
        (crate::base::Side::Left, &r.left, Some(r.key.as_str())),
        (crate::base::Side::Right, &r.right, r.right_key.as_deref()),
    ] {
        let _ = write!(
            b,
            "<dt>{} side</dt><dd>key {}, {:?}{}</dd>",
            side.name(),
            esc(k.unwrap_or("(unknown)")),
            s.presence,
            s.native_id
                .as_deref()
                .map_or(String::new(), |id| format!(", id {}", esc(id)))
        );
    }
    if let Some(blocked) = &r.blocked {
        let _ = write!(b, "<dt>Blocked</dt><dd>{blocked:?}</dd>");
    }
    b.push_str("</dl>");
    if let Some(base) = &r.base {
        b.push_str(
            "<h3>The base</h3><div class=\"scroll\"><table><thead><tr><th scope=\"col\">Field</th>\
<th scope=\"col\">Left</th><th scope=\"col\">Right</th></tr></thead><tbody>",
        );
        for (field, e) in &base.0 {
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>",
                esc(field),
                esc(&e.left.show()),
                esc(&e.right.show())
            );
        }
        b.push_str("</tbody></table></div>");
    }
    if !resolutions.is_empty() {
        b.push_str(
            "<h3>Conflict resolutions</h3><div class=\"scroll\"><table><thead><tr>\
<th scope=\"col\">Field</th><th scope=\"col\">Rule</th><th scope=\"col\">Left</th>\
<th scope=\"col\">Right</th><th scope=\"col\">Base</th><th scope=\"col\">Outcome</th></tr></thead><tbody>",
        );
        for x in resolutions {
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&x.field),
                esc(&x.rule),
                esc(&x.left),
                esc(&x.right),
                esc(&x.base),
                esc(&x.outcome)
            );
        }
        b.push_str("</tbody></table></div>");
    }
    b.push_str(
        "<h3>Events, newest first</h3><div class=\"scroll\"><table><thead><tr>\
<th scope=\"col\">Number</th><th scope=\"col\">Side</th><th scope=\"col\">Event id</th>\
<th scope=\"col\">Status</th></tr></thead><tbody>",
    );
    for (seq, side, id, status) in events {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{seq}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(side),
            esc(id),
            esc(status)
        );
    }
    b.push_str("</tbody></table></div>");
    b.push_str(&json_block("Left record", r.left.record.as_ref()));
    b.push_str(&json_block("Right record", r.right.record.as_ref()));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_text() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
