//! Phase 1: source text to a typed AST with spans.
//!
//! The file is first cut into top-level items (at brace depth 0, outside
//! strings and comments), and each item is parsed on its own: a syntax error
//! in one item never hides the errors of the next. pest's "expected rule"
//! sets are turned into words in `errors`.

pub mod ast;
mod errors;
mod lower;
pub mod provider;

pub use ast::*;

use crate::base::Span;
use crate::diag::{Code, Diagnostic, FileId};
use pest::Parser;

/// The pest parser, in its own module so its generated `Rule` enum does not
/// clash with the AST's `Rule`.
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/tether.pest"]
    pub(crate) struct TetherParser;
}
use grammar::{Rule as G, TetherParser};

/// Largest source file accepted (spans are 32-bit).
pub const MAX_SOURCE_BYTES: usize = 256 * 1024 * 1024;

/// Deepest nesting accepted: brackets (`{`, `[`, `(`) in the text, and
/// nested types, literals, `if` steps and rule blocks in the AST (E0007).
/// Every later phase (checker, type builder, plan builder, evaluator, test
/// runner) recurses over the AST, so bounding it here bounds them all; 64 is
/// far above anything written by hand or imported from a real schema, and
/// far below what a 2 MiB thread stack holds in a debug build.
pub const MAX_NESTING: usize = 64;

/// The result of parsing one file: what could be parsed, the errors, and
/// the names of items that failed (so later phases do not report them as
/// unknown).
#[derive(Debug, Default)]
pub struct Parsed {
    pub file: File,
    pub diagnostics: Vec<Diagnostic>,
    pub broken_names: Vec<String>,
}

/// Parses a mapping file.
pub fn parse_file(file_id: FileId, text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    if text.len() > MAX_SOURCE_BYTES {
        parsed.diagnostics.push(Diagnostic::error(
            Code::E0004,
            file_id,
            Span::new(0, 0),
            format!("file is larger than {} MiB", MAX_SOURCE_BYTES >> 20),
        ));
        return parsed;
    }
    for Cut {
        range: chunk,
        too_deep,
    } in split_items(text)
    {
        let chunk_text = &text[chunk.clone()];
        // Checked before pest sees the text: pest's own guard stops at the
        // end of the stack, whose size depends on the thread.
        if let Some(at) = too_deep {
            parsed.diagnostics.push(too_deep_brackets(file_id, at));
            parsed.broken_names.extend(item_name(chunk_text));
            continue;
        }
        match TetherParser::parse(G::single_item, chunk_text) {
            Ok(mut pairs) => {
                let mut lowerer = lower::Lowerer::new(file_id, chunk.start);
                if let Some(item) = pairs.next().and_then(|p| p.into_inner().next()) {
                    match lowerer.item(item) {
                        Some(it) => parsed.file.items.push(it),
                        None => parsed.broken_names.extend(item_name(chunk_text)),
                    }
                }
                parsed.diagnostics.extend(lowerer.diagnostics);
            }
            Err(e) => {
                parsed.diagnostics.push(errors::to_diagnostic(
                    file_id,
                    chunk.start,
                    chunk_text,
                    &e,
                ));
                parsed.broken_names.extend(item_name(chunk_text));
            }
        }
    }
    parsed
}

/// Parses a `.tschema` file: the body of a `schema NAME { ... }` block.
pub fn parse_schema_file(file_id: FileId, text: &str) -> Result<Vec<TypeDecl>, Vec<Diagnostic>> {
    if let Some(at) = split_items(text).into_iter().find_map(|c| c.too_deep) {
        return Err(vec![too_deep_brackets(file_id, at)]);
    }
    match TetherParser::parse(G::schema_file, text) {
        Ok(mut pairs) => {
            let mut lowerer = lower::Lowerer::new(file_id, 0);
            let mut types = Vec::new();
            if let Some(file) = pairs.next() {
                for p in file.into_inner() {
                    if let Some(t) = lowerer.type_decl(p) {
                        types.push(t);
                    }
                }
            }
            if lowerer.diagnostics.is_empty() {
                Ok(types)
            } else {
                Err(lowerer.diagnostics)
            }
        }
        Err(e) => Err(vec![errors::to_diagnostic(file_id, 0, text, &e)]),
    }
}

const ITEM_KEYWORDS: &[&str] = &["import", "schema", "table", "mapping", "provider", "test"];

/// E0007 at the bracket that opens level `MAX_NESTING + 1`.
fn too_deep_brackets(file: FileId, at: usize) -> Diagnostic {
    Diagnostic::error(
        Code::E0007,
        file,
        Span::new(at, at + 1),
        format!("nested too deeply: more than {MAX_NESTING} levels of brackets"),
    )
    .label(format!("level {} opens here", MAX_NESTING + 1))
    .help(format!(
        "tether reads at most {MAX_NESTING} levels of `{{`, `[` and `(` inside one another; name an inner record type or flatten the value"
    ))
}

/// One top-level item of the text, and where its brackets first went
/// deeper than `MAX_NESTING`, if they did.
struct Cut {
    range: std::ops::Range<usize>,
    too_deep: Option<usize>,
}

/// Cuts the text into top-level items: a new item starts at an item keyword
/// at brace depth 0. Leading text that is not blank or a comment forms an
/// item of its own (and fails to parse, with a message). The same pass
/// measures bracket depth, so the nesting limit costs nothing more.
fn split_items(text: &str) -> Vec<Cut> {
    let bytes = text.as_bytes();
    let mut starts = Vec::new();
    let mut too_deep: Vec<usize> = Vec::new();
    let mut depth: i64 = 0;
    let mut i = 0;
    let mut content_before_first = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
                continue;
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth == MAX_NESTING as i64 + 1 {
                    too_deep.push(i);
                }
            }
            b'}' | b')' | b']' => depth = (depth - 1).max(0),
            _ => {}
        }
        let at_boundary = i == 0 || !is_ident_byte(bytes[i - 1]);
        if depth == 0 && at_boundary && b.is_ascii_alphabetic() {
            let end = bytes[i..]
                .iter()
                .position(|c| !is_ident_byte(*c))
                .map_or(bytes.len(), |n| i + n);
            let word = &text[i..end];
            if ITEM_KEYWORDS.contains(&word) {
                starts.push(i);
                i = end;
                // `import schema NAME`, `import provider NAME`: that word
                // belongs to the import.
                if word == "import" {
                    let rest = &text[i..];
                    let gap = rest.len() - rest.trim_start().len();
                    for kind in ["schema", "provider"] {
                        if rest.trim_start().starts_with(kind) {
                            i += gap + kind.len();
                            // And the name: a schema named `provider` (or
                            // `mapping`) is not a new item.
                            let after = &text[i..];
                            let gap = after.len() - after.trim_start().len();
                            let name = after[gap..]
                                .bytes()
                                .take_while(|b| is_ident_byte(*b))
                                .count();
                            if gap > 0 {
                                i += gap + name;
                            }
                            break;
                        }
                    }
                }
                continue;
            }
        }
        if starts.is_empty() && !b.is_ascii_whitespace() {
            content_before_first = true;
        }
        i += b.len_utf8_hint();
    }
    let mut ranges = Vec::new();
    if content_before_first {
        ranges.push(0..starts.first().copied().unwrap_or(text.len()));
    }
    for (n, s) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(text.len());
        ranges.push(*s..end);
    }
    // Both lists are in text order: one walk assigns each item its first.
    let mut deep = too_deep.into_iter().peekable();
    ranges
        .into_iter()
        .map(|range| {
            while deep.next_if(|at| *at < range.start).is_some() {}
            let too_deep = deep.peek().copied().filter(|at| *at < range.end);
            Cut { range, too_deep }
        })
        .collect()
}

trait Utf8Hint {
    fn len_utf8_hint(self) -> usize;
}
impl Utf8Hint for u8 {
    /// Steps over a whole UTF-8 sequence so slicing stays on char boundaries.
    fn len_utf8_hint(self) -> usize {
        match self {
            0xF0..=0xFF => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        }
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `table status { ...` → `status`: the name a broken item would have defined.
fn item_name(chunk: &str) -> Option<String> {
    let mut words = chunk
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty());
    let kw = words.next()?;
    let name = match kw {
        "import" => {
            words.next()?; // `schema` or `provider`
            words.next()?
        }
        "schema" | "table" | "mapping" | "provider" => words.next()?,
        _ => return None,
    };
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level_keywords_only() {
        let text = "// c\nschema a { record table { x: string } }\ntable t { \"mapping\" -> \"x\" }\nmapping m: a.X -> a.Y {}";
        let parts: Vec<&str> = split_items(text)
            .into_iter()
            .map(|c| text[c.range].trim())
            .collect();
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert!(parts[0].starts_with("schema a"));
        assert!(parts[1].starts_with("table t"));
        assert!(parts[2].starts_with("mapping m"));
    }

    #[test]
    fn an_import_is_one_item() {
        let text = "import schema crm from \"crm.tschema\"\nimport  schema erp from \"erp.tschema\"\ntable t { else -> \"x\" }";
        let parsed = parse_file(0, text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert_eq!(parsed.file.items.len(), 3);
        assert!(matches!(parsed.file.items[0], Item::Import(_)));
        assert!(matches!(parsed.file.items[1], Item::Import(_)));
    }

    #[test]
    fn leading_garbage_is_its_own_item() {
        let text = "garbage here\ntable t { \"a\" -> \"b\" }";
        let parsed = parse_file(0, text);
        assert_eq!(parsed.diagnostics.len(), 1);
        assert_eq!(parsed.file.items.len(), 1);
    }

    #[test]
    fn non_ascii_text_does_not_split_inside_a_character() {
        let text =
            "table t { \"é\" -> \"ü\" } // naïve schéma\nschema s { record R { \"ñ\": string } }";
        let parsed = parse_file(0, text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert_eq!(parsed.file.items.len(), 2);
    }
}

#[cfg(test)]
mod provider_tests {
    use super::provider::*;
    use super::*;

    #[test]
    fn the_hubspot_provider_parses_with_every_clause() {
        let text = include_str!("../../mappings/crm/hubspot.tprovider");
        let parsed = parse_file(0, text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let provider = parsed.file.items.iter().find_map(|i| match i {
            Item::Provider(p) => Some(p),
            _ => None,
        });
        let Some(p) = provider else {
            panic!("no provider item in {:?}", parsed.file.items)
        };
        assert_eq!(p.name.name, "hubspot");
        assert_eq!(&text[p.name.span.range()], "hubspot");
        let words: Vec<&str> = p
            .clauses
            .iter()
            .map(|c| match c {
                ProviderClause::Base(..) => "base",
                ProviderClause::Auth(..) => "auth",
                ProviderClause::Limits(..) => "limits",
                ProviderClause::Status(..) => "status",
                ProviderClause::Resource(..) => "resource",
                ProviderClause::Webhook(..) => "webhook",
            })
            .collect();
        assert_eq!(words, ["base", "auth", "limits", "status", "resource"]);
        let Some(ProviderClause::Resource(r)) = p.clauses.last() else {
            panic!("resource last")
        };
        assert_eq!(r.operations.len(), 4);
        let Operation::Read(read) = &r.operations[0] else {
            panic!("read first")
        };
        let cursor = read.entries.iter().find_map(|e| match e {
            ReadEntry::Cursor { path, lookback, .. } => Some((path.to_string(), *lookback)),
            _ => None,
        });
        let Some((path, Some(lookback))) = cursor else {
            panic!("cursor with lookback")
        };
        assert_eq!(path, "properties.lastmodifieddate");
        assert_eq!(lookback.value, Some(std::time::Duration::from_secs(300)));
        assert_eq!(&text[lookback.span.range()], "5m");
        let Operation::Write(create) = &r.operations[1] else {
            panic!("create second")
        };
        assert_eq!(create.kind, WriteKind::Create);
        assert!(
            create
                .entries
                .iter()
                .any(|e| matches!(e, WriteEntry::Lookup { id_at: Some(_), .. }))
        );
    }

    #[test]
    fn settings_status_lists_and_upserts_lower_as_written() {
        let text = r#"
provider sf {
  base "https://example.my.salesforce.com"
  auth oauth2 refresh_token {
    token_url "/services/oauth2/token"
    client_id env("SF_CLIENT_ID")
    client_secret secret("SF_SECRET")
    refresh_token secret("SF_REFRESH") rotating
  }
  status { refuse 300, 400, message at [].message }
  resource contacts: salesforce.Contact {
    create PATCH "/sobjects/Contact/Ext__c/{Ext__c}" upsert returns api.SaveResult {
      body record omit Ext__c
      id at id
    }
  }
}"#;
        let parsed = parse_file(0, text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let Some(Item::Provider(p)) = parsed.file.items.first() else {
            panic!("a provider")
        };
        let Some(ProviderClause::Auth(AuthDecl {
            kind: AuthKind::OAuth2 { grant, entries, .. },
            ..
        })) = p.clauses.get(1)
        else {
            panic!("oauth2 second: {:?}", p.clauses.get(1))
        };
        assert_eq!(*grant, GrantWord::RefreshToken);
        assert!(matches!(entries[1].value, Setting::Env { .. }));
        assert!(matches!(entries[2].value, Setting::Secret { .. }));
        assert!(entries[3].rotating.is_some() && entries[2].rotating.is_none());
        let Some(ProviderClause::Status(status, _)) = p.clauses.get(2) else {
            panic!("status third")
        };
        let codes: Vec<Option<u64>> = status[0].codes.iter().map(|c| c.value).collect();
        assert_eq!(codes, [Some(300), Some(400)]);
        let Some(m) = &status[0].message_at else {
            panic!("message at")
        };
        assert!(m.first_element);
        assert_eq!(
            m.path.as_ref().map(ToString::to_string).as_deref(),
            Some("message")
        );
        let Some(ProviderClause::Resource(r)) = p.clauses.get(3) else {
            panic!("resource")
        };
        let Operation::Write(w) = &r.operations[0] else {
            panic!("write")
        };
        assert!(w.upsert.is_some());
        assert!(matches!(
            &w.entries[0],
            WriteEntry::Body(BodyDecl::Record { omit, .. }, _) if omit.len() == 1
        ));
    }

    #[test]
    fn provider_syntax_errors_read_in_words() {
        for (src, words) in [
            (
                "provider p { base }",
                "a string, `env(\"NAME\")` or `secret(\"NAME\")`",
            ),
            (
                "provider p { auth magic }",
                "expected `none`, `api_key header|query",
            ),
            ("provider p { limits { budget 10 per ten } }", "a duration"),
            ("provider p { status { retry } }", "a whole number"),
            (
                "provider p { resource r: a.B { read FETCH \"/x\" {} } }",
                "an HTTP method",
            ),
            (
                "provider p { resource r: a.B { read GET \"/x\" { page sideways } } }",
                "a page style",
            ),
            (
                "provider p { frobnicate }",
                "a `limits { ... }` block, a `status { ... }` block, a resource",
            ),
        ] {
            let parsed = parse_file(0, src);
            let msg = parsed
                .diagnostics
                .first()
                .map(|d| d.message.clone())
                .unwrap_or_default();
            assert!(msg.contains(words), "{src}: {msg}");
            for rule in [
                "provider_",
                "_clause",
                "_entry",
                "_decl",
                "setting",
                "page_style",
            ] {
                assert!(!msg.contains(rule), "rule name in {msg:?} for {src}");
            }
        }
    }

    #[test]
    fn a_schema_named_like_an_item_keyword_is_imported() {
        let text = "import schema provider from \"p.tschema\"\nimport provider mapping from \"m.tprovider\"";
        let parsed = parse_file(0, text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert!(matches!(&parsed.file.items[0], Item::Import(i) if i.name.name == "provider"));
        assert!(
            matches!(&parsed.file.items[1], Item::ImportProvider(i) if i.name.name == "mapping")
        );
    }

    #[test]
    fn an_import_of_a_provider_is_one_item() {
        let text = "import provider hubspot from \"hubspot.tprovider\"\nimport schema a from \"a.tschema\"";
        let parsed = parse_file(0, text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert!(
            matches!(&parsed.file.items[0], Item::ImportProvider(i) if i.name.name == "hubspot")
        );
        assert!(matches!(parsed.file.items[1], Item::Import(_)));
    }
}
