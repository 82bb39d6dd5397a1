//! Request templates: a path or query value with `{…}` placeholders, and a
//! JSON body with variables in it.
//!
//! The variables are the read's `cursor`, `page` (the pagination position:
//! an offset, a page number or a token) and `limit`, and for writes the
//! `record` and its fields (`{properties.salesforce_id}`). In a path or query
//! value a variable's text is percent-encoded, so a record's value cannot
//! change the path (`../`, `?`, `#`). In a body a variable keeps its JSON
//! type (a number stays a number), and an object member whose variable has
//! no value is left out (`after: page` on the first page).

use crate::http::COMPONENT;
use percent_encoding::utf8_percent_encode;
use serde_json::Value as Json;

/// A value a template can name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Var {
    Cursor,
    Page,
    Limit,
    /// The whole record written (a body that wraps it:
    /// `{"properties": record}`).
    Record,
    /// A field of the record written, by path.
    Field(Vec<String>),
}

impl Var {
    fn parse(name: &str) -> Option<Var> {
        let name = name.trim();
        match name {
            "cursor" => Some(Var::Cursor),
            "page" => Some(Var::Page),
            "limit" => Some(Var::Limit),
            "record" => Some(Var::Record),
            _ if !name.is_empty()
                && name.split('.').all(|seg| {
                    !seg.is_empty()
                        && seg
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                }) =>
            {
                Some(Var::Field(name.split('.').map(String::from).collect()))
            }
            _ => None,
        }
    }
}

/// The values of one expansion.
#[derive(Clone, Debug, Default)]
pub struct Vars<'a> {
    pub cursor: Option<Json>,
    pub page: Option<Json>,
    pub limit: Option<u32>,
    pub record: Option<&'a Json>,
}

impl Vars<'_> {
    fn get(&self, var: &Var) -> Option<Json> {
        match var {
            Var::Cursor => self.cursor.clone(),
            Var::Page => self.page.clone(),
            Var::Limit => self.limit.map(Json::from),
            Var::Record => self.record.cloned(),
            Var::Field(path) => {
                let mut v = self.record?;
                for seg in path {
                    v = v.get(seg)?;
                }
                (!v.is_null()).then(|| v.clone())
            }
        }
    }
}

/// Why a path template gave no path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathRefusal {
    /// A variable it names has no value.
    Missing,
    /// A value in the path is empty, or a segment comes out `.` or `..`.
    DotSegment,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

/// A path or query value template, kept with its source text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TextTemplate {
    source: String,
    parts: Vec<Part>,
}

impl TryFrom<String> for TextTemplate {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        TextTemplate::parse(&s)
    }
}

impl From<TextTemplate> for String {
    fn from(t: TextTemplate) -> String {
        t.source
    }
}

impl TextTemplate {
    /// Parses `{name}` placeholders; `{{` and `}}` are literal braces.
    /// Err: an unclosed or empty placeholder, or a name that is not a
    /// variable or a field path (with its byte offset).
    pub fn parse(source: &str) -> Result<TextTemplate, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let rest = &source[at + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(format!("`{{` at byte {at} is not closed"));
                    };
                    let name = &rest[..end];
                    let Some(var) = Var::parse(name) else {
                        return Err(format!(
                            "`{{{name}}}` at byte {at} is not `cursor`, `page`, `limit`, `record` or a field path"
                        ));
                    };
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Var(var));
                    for _ in 0..name.chars().count() + 1 {
                        chars.next();
                    }
                }
                '}' => return Err(format!("`}}` at byte {at} closes nothing (write `}}}}`)")),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(TextTemplate {
            source: source.to_string(),
            parts,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variables the template names, in order.
    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Text(_) => None,
        })
    }

    /// The text with every variable's value percent-encoded; `None` when a
    /// variable has no value.
    pub fn expand(&self, vars: &Vars<'_>) -> Option<String> {
        self.expand_with(vars, |out, text| {
            out.extend(utf8_percent_encode(text, COMPONENT))
        })
    }

    /// The text as a request path (and query), every value percent-encoded,
    /// refused when a value in the path part (before `?`) would change
    /// which resource the path names: an empty value (`/contacts/` instead
    /// of `/contacts/7`), or a path segment that comes out `.` or `..`
    /// (`PATCH /contacts/..`). `.` is unreserved in RFC 3986, so encoding
    /// cannot help: servers and proxies remove dot segments.
    pub fn expand_path(&self, vars: &Vars<'_>) -> Result<String, PathRefusal> {
        let mut out = String::new();
        // Values are encoded, so only the literal text can open the query.
        let mut in_query = false;
        for part in &self.parts {
            match part {
                Part::Text(t) => {
                    out.push_str(t);
                    in_query |= t.contains('?');
                }
                Part::Var(v) => {
                    let value = vars.get(v).ok_or(PathRefusal::Missing)?;
                    let text = match &value {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if !in_query && text.is_empty() {
                        return Err(PathRefusal::DotSegment);
                    }
                    out.extend(utf8_percent_encode(&text, COMPONENT));
                }
            }
        }
        let path = out.split('?').next().unwrap_or("");
        if path.split('/').any(|seg| seg == "." || seg == "..") {
            return Err(PathRefusal::DotSegment);
        }
        Ok(out)
    }

    /// Whether the template's text begins with a literal `/` (a variable
    /// first could make the path a host: `{id}` after `http://127.0.0.1`).
    pub fn starts_with_slash(&self) -> bool {
        matches!(self.parts.first(), Some(Part::Text(t)) if t.starts_with('/'))
    }

    /// The literal text between the variables.
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Text(t) => Some(t.as_str()),
            Part::Var(_) => None,
        })
    }

    /// The text with the variables' values as they are, for a caller that
    /// encodes the whole result (a query value).
    pub fn expand_raw(&self, vars: &Vars<'_>) -> Option<String> {
        self.expand_with(vars, |out, text| out.push_str(text))
    }

    fn expand_with(&self, vars: &Vars<'_>, put: impl Fn(&mut String, &str)) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => {
                    let value = vars.get(v)?;
                    let text = match &value {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    put(&mut out, &text);
                }
            }
        }
        Some(out)
    }
}

/// A JSON body with variables.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyTemplate {
    Value(Json),
    Var(Var),
    Object(Vec<(String, BodyTemplate)>),
    Array(Vec<BodyTemplate>),
}

impl BodyTemplate {
    /// The variables the body names.
    pub fn vars(&self) -> Vec<&Var> {
        let mut out = Vec::new();
        self.collect_vars(&mut out);
        out
    }

    fn collect_vars<'a>(&'a self, out: &mut Vec<&'a Var>) {
        match self {
            BodyTemplate::Value(_) => {}
            BodyTemplate::Var(v) => out.push(v),
            BodyTemplate::Object(members) => members.iter().for_each(|(_, t)| t.collect_vars(out)),
            BodyTemplate::Array(items) => items.iter().for_each(|t| t.collect_vars(out)),
        }
    }

    /// The body; a member or element whose variable has no value is left
    /// out (`None` when the whole body is such a variable).
    pub fn expand(&self, vars: &Vars<'_>) -> Option<Json> {
        match self {
            BodyTemplate::Value(v) => Some(v.clone()),
            BodyTemplate::Var(v) => vars.get(v),
            BodyTemplate::Object(members) => Some(Json::Object(
                members
                    .iter()
                    .filter_map(|(k, t)| Some((k.clone(), t.expand(vars)?)))
                    .collect(),
            )),
            BodyTemplate::Array(items) => Some(Json::Array(
                items.iter().filter_map(|t| t.expand(vars)).collect(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_path_value_that_would_drop_or_climb_a_segment_is_refused() {
        let t = TextTemplate::parse("/contacts/{id}?q={q}").unwrap();
        let path = |id: &str, q: &str| {
            let record = json!({"id": id, "q": q});
            t.expand_path(&Vars {
                record: Some(&record),
                ..Vars::default()
            })
        };
        assert_eq!(
            path("7", "").as_deref(),
            Ok("/contacts/7?q="),
            "an empty query value is fine"
        );
        assert_eq!(path("a.b", "x").as_deref(), Ok("/contacts/a.b?q=x"));
        assert_eq!(path("..", "x"), Err(PathRefusal::DotSegment));
        assert_eq!(path(".", "x"), Err(PathRefusal::DotSegment));
        assert_eq!(path("", "x"), Err(PathRefusal::DotSegment));
        assert_eq!(
            path("7", ".."),
            Ok("/contacts/7?q=..".into()),
            "not a segment"
        );
        let dotted = TextTemplate::parse("/contacts/.{id}").unwrap();
        let record = json!({"id": "."});
        let vars = Vars {
            record: Some(&record),
            ..Vars::default()
        };
        assert_eq!(dotted.expand_path(&vars), Err(PathRefusal::DotSegment));
        assert_eq!(t.expand_path(&Vars::default()), Err(PathRefusal::Missing));
    }

    #[test]
    fn placeholders_are_expanded_and_encoded() {
        let t = TextTemplate::parse("/crm/v3/objects/contacts/{properties.salesforce_id}?x={{y}}")
            .unwrap();
        let record = json!({"properties": {"salesforce_id": "003/../admin?#"}});
        let vars = Vars {
            record: Some(&record),
            ..Vars::default()
        };
        assert_eq!(
            t.expand(&vars).as_deref(),
            Some("/crm/v3/objects/contacts/003%2F..%2Fadmin%3F%23?x={y}")
        );
        assert_eq!(t.expand(&Vars::default()), None, "no record, no value");
        let limit = TextTemplate::parse("{limit}").unwrap();
        let vars = Vars {
            limit: Some(100),
            ..Vars::default()
        };
        assert_eq!(limit.expand(&vars).as_deref(), Some("100"));
    }

    #[test]
    fn a_bad_placeholder_says_where() {
        assert!(
            TextTemplate::parse("/a/{id")
                .unwrap_err()
                .contains("byte 3")
        );
        assert!(
            TextTemplate::parse("/a/{}")
                .unwrap_err()
                .contains("not `cursor`")
        );
        assert!(TextTemplate::parse("/a/{a b}").is_err());
        assert!(
            TextTemplate::parse("/a/}")
                .unwrap_err()
                .contains("closes nothing")
        );
        let t: TextTemplate = serde_json::from_str("\"/a/{id}\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"/a/{id}\"");
        assert!(serde_json::from_str::<TextTemplate>("\"/a/{\"").is_err());
    }

    #[test]
    fn a_body_keeps_types_and_leaves_out_what_has_no_value() {
        let body = BodyTemplate::Object(vec![
            (
                "filters".into(),
                BodyTemplate::Array(vec![BodyTemplate::Object(vec![
                    ("operator".into(), BodyTemplate::Value(json!("GTE"))),
                    ("value".into(), BodyTemplate::Var(Var::Cursor)),
                ])]),
            ),
            ("limit".into(), BodyTemplate::Var(Var::Limit)),
            ("after".into(), BodyTemplate::Var(Var::Page)),
        ]);
        let first = Vars {
            cursor: Some(json!(1_700_000_000_000u64)),
            limit: Some(100),
            ..Vars::default()
        };
        assert_eq!(
            body.expand(&first),
            Some(
                json!({"filters": [{"operator": "GTE", "value": 1_700_000_000_000u64}], "limit": 100})
            )
        );
        let next = Vars {
            page: Some(json!("200")),
            ..first
        };
        assert_eq!(body.expand(&next).unwrap()["after"], json!("200"));
    }
}
