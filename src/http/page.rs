//! Pagination: from one page's response to where the next page is, for
//! the styles real APIs use (docs/design/10-rest-providers.md, "Repeated
//! pagination token; endless loops" and "Empty page with a next link").
//!
//! Each style has one explicit stop rule, the only way a read ends
//! cleanly: `token` when the token is absent, null or empty; `next_url`
//! when the URL is absent or the stop flag is true; `link_header` when
//! there is no `rel="next"`; `offset`, `page_number` and `keyset` when a
//! page is shorter than the limit. An empty page with a next link is
//! followed (some APIs filter after paging). What an API that keeps saying
//! "more" can do is bounded twice: a token, URL or position seen before
//! stops the read, and so does `max_pages`. A next URL on another origin
//! than the provider's base is refused, never followed: following it
//! would send the credentials to whoever the response named.

use super::json_at;
use serde_json::Value as Json;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroU32;

/// How a read pages. Paths are member names (and array indexes) in the
/// response body.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pagination {
    /// One request is the whole read.
    None,
    Offset {
        limit: NonZeroU32,
    },
    PageNumber {
        first: u32,
        limit: NonZeroU32,
    },
    /// A token in the body (HubSpot `paging.next.after`).
    Token {
        at: Vec<String>,
    },
    /// The next page's URL in the body (Salesforce `nextRecordsUrl`, with
    /// `done` as the stop flag).
    NextUrl {
        at: Vec<String>,
        stop_when: Option<Vec<String>>,
    },
    /// RFC 8288 `Link: <…>; rel="next"` (Shopify, GitHub).
    LinkHeader,
    /// The query run again from the last record's cursor (`>=`, the
    /// duplicates removed by event identity): immune to records moving
    /// while they are paged, and past result caps. `ties`: where the body
    /// holds a token to page through a full page of one cursor value.
    Keyset {
        limit: NonZeroU32,
        ties: Option<Vec<String>>,
    },
}

/// A style and its bound.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Paging {
    pub style: Pagination,
    pub max_pages: NonZeroU32,
}

/// Where the next request starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Position {
    First,
    Offset(u64),
    PageNumber(u64),
    Token(String),
    /// An absolute URL on the provider's origin.
    Url(String),
    /// From this cursor value, and within it from `token` (a tie).
    Keyset {
        from: Json,
        token: Option<String>,
    },
}

/// What a page looked like.
pub struct Page<'a> {
    pub body: &'a Json,
    /// Records on the page.
    pub records: usize,
    /// The `Link` header, if any.
    pub link: Option<&'a str>,
    /// The cursor values of the page's first and last records (keyset).
    pub first_cursor: Option<&'a Json>,
    pub last_cursor: Option<&'a Json>,
}

/// Why a read stops before its stop rule said so.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error(
        "the provider repeated a page position after {pages} pages (a token, URL or cursor seen before): stopped rather than loop"
    )]
    Repeated { pages: u32 },
    #[error("more than {max} pages in one read (max pages): stopped")]
    TooManyPages { max: u32 },
    /// Only the refused origin is kept, never the URL: its path or query
    /// may carry an API key, and it is provider text.
    #[error(
        "the next page is on another origin ({origin}); tether sends credentials only to the provider's base"
    )]
    OtherOrigin { origin: String },
    /// The URL itself is not kept (it may carry a key): its length is.
    #[error(
        "the next page's URL ({chars} characters) is neither a path nor an absolute http(s) URL"
    )]
    NotAUrl { chars: usize },
    #[error(
        "a whole page of {records} records shares the cursor value {cursor}: declare `ties` to page through it"
    )]
    AllAtOneCursor { records: usize, cursor: String },
}

/// Walks one read's pages.
#[derive(Debug)]
pub struct Pager {
    paging: Paging,
    /// `scheme://host[:port]` of the provider's base URL, lower-cased.
    origin: String,
    pages: u32,
    /// Hashes of positions followed: one per page, not per record.
    seen: HashSet<u64>,
    position: Position,
}

impl Pager {
    pub fn new(paging: Paging, base_url: &str) -> Pager {
        Pager {
            paging,
            origin: origin_of(base_url).unwrap_or_default(),
            pages: 0,
            seen: HashSet::new(),
            position: Position::First,
        }
    }

    /// Where the current page starts.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// Pages read so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Takes the page just read; `Ok(None)`: the read is complete.
    pub fn next(&mut self, page: &Page<'_>) -> Result<Option<&Position>, PageError> {
        self.pages += 1;
        let next = match &self.paging.style {
            Pagination::None => None,
            Pagination::Offset { limit } => full(page, *limit).then(|| {
                let at = match self.position {
                    Position::Offset(n) => n,
                    _ => 0,
                };
                Position::Offset(at + page.records as u64)
            }),
            Pagination::PageNumber { first, limit } => full(page, *limit).then(|| {
                let at = match self.position {
                    Position::PageNumber(n) => n,
                    _ => u64::from(*first),
                };
                Position::PageNumber(at + 1)
            }),
            Pagination::Token { at } => text_at(page.body, at).map(Position::Token),
            Pagination::NextUrl { at, stop_when } => {
                let stop = stop_when
                    .as_ref()
                    .and_then(|p| json_at(page.body, p))
                    .is_some_and(|v| v == &Json::Bool(true));
                match text_at(page.body, at).filter(|_| !stop) {
                    Some(url) => Some(Position::Url(self.on_origin(&url)?)),
                    None => None,
                }
            }
            Pagination::LinkHeader => match page.link.and_then(next_link) {
                Some(url) => Some(Position::Url(self.on_origin(&url)?)),
                None => None,
            },
            Pagination::Keyset { limit, ties } => {
                if !full(page, *limit) {
                    None
                } else {
                    self.keyset(page, ties.as_deref())?
                }
            }
        };
        let Some(next) = next else {
            return Ok(None);
        };
        if self.pages >= self.paging.max_pages.get() {
            return Err(PageError::TooManyPages {
                max: self.paging.max_pages.get(),
            });
        }
        if !self.seen.insert(hash_of(&next)) {
            return Err(PageError::Repeated { pages: self.pages });
        }
        self.position = next;
        Ok(Some(&self.position))
    }

    fn keyset(
        &self,
        page: &Page<'_>,
        ties: Option<&[String]>,
    ) -> Result<Option<Position>, PageError> {
        let Some(last) = page.last_cursor else {
            return Ok(None);
        };
        if page.first_cursor != Some(last) {
            return Ok(Some(Position::Keyset {
                from: last.clone(),
                token: None,
            }));
        }
        // A whole page of one value: keyset cannot advance past it.
        match ties.and_then(|p| text_at(page.body, p)) {
            Some(token) => Ok(Some(Position::Keyset {
                from: last.clone(),
                token: Some(token),
            })),
            None => Err(PageError::AllAtOneCursor {
                records: page.records,
                cursor: super::secret::shown(&last.to_string(), 100),
            }),
        }
    }

    /// `url` made absolute on the provider's origin; another origin is
    /// refused.
    fn on_origin(&self, url: &str) -> Result<String, PageError> {
        let url = url.trim();
        if url.starts_with('/') && !url.starts_with("//") {
            return Ok(format!("{}{url}", self.origin));
        }
        match origin_of(url) {
            Some(o) if o == self.origin => Ok(url.to_string()),
            // An origin is scheme://host:port (origin_of keeps no
            // user, path or query), shown bounded and escaped.
            Some(o) => Err(PageError::OtherOrigin {
                origin: super::secret::shown(&o, 100),
            }),
            None => Err(PageError::NotAUrl {
                chars: url.chars().count(),
            }),
        }
    }
}

/// A page as long as the limit: there may be more.
fn full(page: &Page<'_>, limit: NonZeroU32) -> bool {
    page.records >= limit.get() as usize
}

/// A non-empty string (or number) at `path`.
fn text_at(body: &Json, path: &[String]) -> Option<String> {
    match json_at(body, path)? {
        Json::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn hash_of(p: &Position) -> u64 {
    let mut h = DefaultHasher::new();
    match p {
        Position::First => 0u8.hash(&mut h),
        Position::Offset(n) => (1u8, n).hash(&mut h),
        Position::PageNumber(n) => (2u8, n).hash(&mut h),
        Position::Token(t) => (3u8, t).hash(&mut h),
        Position::Url(u) => (4u8, u).hash(&mut h),
        Position::Keyset { from, token } => (5u8, from.to_string(), token).hash(&mut h),
    }
    h.finish()
}

/// `scheme://host[:port]`, lower-cased, the default port left out.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    // Credentials in a URL are never followed either.
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let default = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// The target of the `rel="next"` link in an RFC 8288 `Link` header.
/// Targets are in `<…>` (they may hold commas); `rel` may list several
/// relations (`rel="next last"`), quoted or not.
pub fn next_link(header: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let target = &rest[start + 1..end];
        rest = &rest[end + 1..];
        // The link's parameters run to the next `<` (a new link).
        let params = rest.split('<').next().unwrap_or("");
        for param in params.split(';') {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if !name.trim().eq_ignore_ascii_case("rel") {
                continue;
            }
            let value = value.trim().trim_end_matches(',').trim().trim_matches('"');
            if value
                .split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("next"))
            {
                return Some(target.trim().to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paging(style: Pagination) -> Paging {
        Paging {
            style,
            max_pages: NonZeroU32::new(100).unwrap(),
        }
    }

    fn page(body: &Json, records: usize) -> Page<'_> {
        Page {
            body,
            records,
            link: None,
            first_cursor: None,
            last_cursor: None,
        }
    }

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn offset_pages_until_a_short_page() {
        let mut p = Pager::new(paging(Pagination::Offset { limit: n(2) }), "https://api.x");
        let body = json!({});
        assert_eq!(p.next(&page(&body, 2)), Ok(Some(&Position::Offset(2))));
        assert_eq!(p.next(&page(&body, 2)), Ok(Some(&Position::Offset(4))));
        assert_eq!(p.next(&page(&body, 1)), Ok(None));
    }

    #[test]
    fn page_numbers_count_from_the_first() {
        let style = Pagination::PageNumber {
            first: 1,
            limit: n(3),
        };
        let mut p = Pager::new(paging(style), "https://api.x");
        let body = json!({});
        assert_eq!(p.next(&page(&body, 3)), Ok(Some(&Position::PageNumber(2))));
        assert_eq!(p.next(&page(&body, 3)), Ok(Some(&Position::PageNumber(3))));
        assert_eq!(p.next(&page(&body, 0)), Ok(None));
    }

    #[test]
    fn a_token_in_the_body_until_it_is_gone_and_a_repeat_stops() {
        let style = Pagination::Token {
            at: path("paging.next.after"),
        };
        let mut p = Pager::new(paging(style), "https://api.hubapi.com");
        let b1 = json!({"results": [], "paging": {"next": {"after": "100"}}});
        // An empty page that says there is more is followed.
        assert_eq!(
            p.next(&page(&b1, 0)),
            Ok(Some(&Position::Token("100".into())))
        );
        let b2 = json!({"paging": {"next": {"after": ""}}});
        assert_eq!(p.next(&page(&b2, 100)), Ok(None));

        let mut p = Pager::new(
            paging(Pagination::Token {
                at: path("paging.next.after"),
            }),
            "https://api.hubapi.com",
        );
        assert!(p.next(&page(&b1, 100)).is_ok());
        assert_eq!(
            p.next(&page(&b1, 100)),
            Err(PageError::Repeated { pages: 2 })
        );
    }

    #[test]
    fn a_next_url_is_followed_on_the_providers_origin_only() {
        let style = Pagination::NextUrl {
            at: path("nextRecordsUrl"),
            stop_when: Some(path("done")),
        };
        let base = "https://acme.my.salesforce.com/services/data/v59.0";
        let mut p = Pager::new(paging(style.clone()), base);
        let b = json!({"done": false, "nextRecordsUrl": "/services/data/v59.0/query/01g-2000"});
        assert_eq!(
            p.next(&page(&b, 2000)),
            Ok(Some(&Position::Url(
                "https://acme.my.salesforce.com/services/data/v59.0/query/01g-2000".into()
            )))
        );
        let done = json!({"done": true, "nextRecordsUrl": "/services/data/v59.0/query/01g-4000"});
        assert_eq!(p.next(&page(&done, 5)), Ok(None));

        let mut p = Pager::new(paging(style.clone()), base);
        let same =
            json!({"done": false, "nextRecordsUrl": "HTTPS://ACME.my.salesforce.com:443/q?x=1"});
        assert!(
            p.next(&page(&same, 1)).is_ok(),
            "same origin, written otherwise"
        );
        for evil in [
            "https://evil.example/steal",
            "//evil.example/steal",
            "http://acme.my.salesforce.com/q",
            "https://user:pw@acme.my.salesforce.com/q",
        ] {
            let mut p = Pager::new(paging(style.clone()), base);
            let b = json!({"done": false, "nextRecordsUrl": evil});
            assert!(
                matches!(
                    p.next(&page(&b, 1)),
                    Err(PageError::OtherOrigin { .. } | PageError::NotAUrl { .. })
                ),
                "{evil}"
            );
        }
    }

    #[test]
    fn link_headers_name_the_next_page() {
        let github = r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#;
        assert_eq!(
            next_link(github).as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=2")
        );
        let shopify = r#"<https://shop.myshopify.com/admin/api/2024-01/orders.json?page_info=abc,def&limit=50>; rel="previous", <https://shop.myshopify.com/admin/api/2024-01/orders.json?page_info=ghi>; rel=next"#;
        assert_eq!(
            next_link(shopify).as_deref(),
            Some("https://shop.myshopify.com/admin/api/2024-01/orders.json?page_info=ghi")
        );
        assert_eq!(
            next_link(r#"<https://a/x>; rel="last next""#).as_deref(),
            Some("https://a/x")
        );
        assert_eq!(next_link(r#"<https://a/x>; rel="last""#), None);
        assert_eq!(next_link("garbage"), None);

        let mut p = Pager::new(paging(Pagination::LinkHeader), "https://api.github.com");
        let body = json!([]);
        let mut pg = page(&body, 30);
        pg.link = Some(github);
        assert!(matches!(p.next(&pg), Ok(Some(Position::Url(_)))));
        pg.link = None;
        assert_eq!(p.next(&pg), Ok(None));
    }

    #[test]
    fn keyset_restarts_from_the_last_cursor_and_pages_ties_by_token() {
        let style = Pagination::Keyset {
            limit: n(2),
            ties: Some(path("paging.next.after")),
        };
        let mut p = Pager::new(paging(style), "https://api.hubapi.com");
        let (t1, t2) = (json!("2026-01-01T00:00:00Z"), json!("2026-01-02T00:00:00Z"));
        let body = json!({"paging": {"next": {"after": "2"}}});
        let mut pg = page(&body, 2);
        pg.first_cursor = Some(&t1);
        pg.last_cursor = Some(&t2);
        assert_eq!(
            p.next(&pg),
            Ok(Some(&Position::Keyset {
                from: t2.clone(),
                token: None
            }))
        );
        pg.first_cursor = Some(&t2);
        assert_eq!(
            p.next(&pg),
            Ok(Some(&Position::Keyset {
                from: t2.clone(),
                token: Some("2".into())
            }))
        );
        pg.records = 1;
        assert_eq!(p.next(&pg), Ok(None));

        let no_ties = Pagination::Keyset {
            limit: n(2),
            ties: None,
        };
        let mut p = Pager::new(paging(no_ties), "https://api.hubapi.com");
        let mut pg = page(&body, 2);
        pg.first_cursor = Some(&t2);
        pg.last_cursor = Some(&t2);
        assert!(matches!(
            p.next(&pg),
            Err(PageError::AllAtOneCursor { records: 2, .. })
        ));
    }

    #[test]
    fn max_pages_bounds_an_api_that_always_says_more() {
        let mut p = Pager::new(
            Paging {
                style: Pagination::Offset { limit: n(1) },
                max_pages: n(3),
            },
            "https://api.x",
        );
        let body = json!({});
        assert!(p.next(&page(&body, 1)).is_ok());
        assert!(p.next(&page(&body, 1)).is_ok());
        assert_eq!(
            p.next(&page(&body, 1)),
            Err(PageError::TooManyPages { max: 3 })
        );
    }
}
