//! pest errors in words a person understands. Grammar rule names never reach
//! the user: each rule that pest can report as "expected" has a description
//! here, and the message is built from what was expected and what was found.

use super::grammar::Rule;
use crate::base::Span;
use crate::diag::{Code, Diagnostic, FileId};
use pest::error::{Error, ErrorVariant, InputLocation};

/// What the user should read for "expected <rule>".
pub(super) fn describe(expected: Rule) -> &'static str {
    use Rule as R;
    match expected {
        R::arrow => "an arrow `->`, `<-` or `<->`",
        R::ident => "a name",
        R::string | R::string_body => "a string in double quotes",
        R::number => "a number",
        R::kw_true | R::kw_false => "`true` or `false`",
        R::kw_null => "`null`",
        R::kw_else => "`else`",
        R::kw_if => "`if`",
        R::kw_each => "`each`",
        R::kw_key => "`key`",
        R::kw_for => "`for`",
        R::kw_at => "`at`",
        R::kw_when => "`when`",
        R::kw_ids => "`ids`",
        R::ids_clause => "`ids LEFT <-> RIGHT`",
        R::kw_unmapped => "`unmapped`",
        R::unmapped_clause => "`unmapped Field, ...` (optional target fields left out)",
        R::kw_in => "`in`",
        R::for_clause => "an iteration `for NAME in path[]`",
        R::literal | R::literal_source | R::literal_step => {
            "a literal (a string, number, `true`, `false` or `null`)"
        }
        R::object => "an object `{ name: value, ... }`",
        R::member => "a member `name: value`",
        R::array => "an array `[ ... ]`",
        R::path | R::segment => "a field path such as `properties.email`",
        R::iter_mark => "`[]`",
        R::pick_mark => "an index `[0]`",
        R::pick_index => "an index",
        R::path_tuple => "a tuple of paths `(a, b)`",
        R::file | R::single_item => {
            "an item (`import`, `schema`, `table`, `mapping`, `provider` or `test`)"
        }
        R::import => "`import schema NAME from \"PATH\"`",
        R::schema_decl => "a schema `schema NAME { ... }`",
        R::xmlns => "an XML namespace `xmlns \"urn:...\"`",
        R::schema_file => "record or enum declarations",
        R::record_decl => "a record declaration `record NAME { ... }`",
        R::record_body => "a record body `{ field: type, ... }`",
        R::field_decl => "a field declaration `name: type`",
        R::optional_mark => "`?`",
        R::field_access => "`readonly` or `writeonly`",
        R::xml_form => "`@` (an XML attribute) or `#` (an element's text)",
        R::type_expr => "a type (`string`, `decimal`, `[T]`, `map<T>`, a record name...)",
        R::nullable_mark => "`?`",
        R::array_type => "an array type `[T]`",
        R::map_type => "a map type `map<T>`",
        R::money_type => "a money type `money<CUR>`",
        R::type_ref => "a type name such as `crm.Contact`",
        R::enum_decl => "an enum declaration `enum NAME { \"a\", \"b\" }`",
        R::table_decl => "a table `table NAME { ... }`",
        R::table_entry | R::table_pair | R::table_keys => "a table entry `\"key\" -> \"value\"`",
        R::table_else => "`else -> value`",
        R::mapping_decl => "a mapping `mapping NAME: A -> B { ... }`",
        R::mapping_body => "rules",
        R::key_clause => "a key clause `key a <-> b`",
        R::rule | R::endpoint => "a rule such as `source -> Target`",
        R::block => "a block `{ ... }`",
        R::pipeline | R::step => "a pipeline step (a transform, a table, a literal or `if`)",
        R::call => "a transform or table name",
        R::call_args => "arguments `( ... )`",
        R::arg => "an argument (a literal, a field path, or `field ?? literal`)",
        R::if_step => "an `if` step",
        R::each_step => "an `each { ... }` step",
        R::path_step => "a field in parentheses `(path)`",
        R::branch => "a branch `{ ... }`",
        R::conflict_block => "a `conflict { ... }` block",
        R::conflict_entry | R::conflict_field => {
            "a conflict entry such as `Email prefer salesforce`"
        }
        R::conflict_default => "`default`",
        R::conflict_delete => "`on delete propagate|ignore|review`",
        R::delete_policy => "a delete policy (`propagate`, `ignore` or `review`)",
        R::strategy => {
            "a conflict rule (`prefer SIDE`, `newest`, `max`, `min`, `union` or `review`)"
        }
        R::prefer => "`prefer SIDE`",
        R::unless_blank => "`unless blank`",
        R::newest => "`newest`",
        R::max_rule | R::min_rule | R::union_rule | R::review_rule => "a conflict rule",
        R::test_decl => "a test `test MAPPING \"name\" { given ... expect ... }`",
        R::test_given => "`given SIDE { ... }`",
        R::test_part => "`given SIDE { ... }` or `expect ...`",
        R::test_expect => "`expect SIDE { ... }` or `expect reject`",
        R::expect_reject => "`reject`",
        R::expect_record => "`SIDE { ... }`",
        R::EOI => "the end of the item",
        R::WHITESPACE | R::COMMENT => "whitespace",
        R::ident_start | R::ident_cont => "a name",
        R::item => "an item (`import`, `schema`, `table`, `mapping`, `provider` or `test`)",
        R::type_decl => "a `record` or `enum` declaration",
        R::mapping_item => "a rule, a `key` clause or a `conflict` block",
        R::pipeline_clause => "`:` and a pipeline",
        R::import_provider => "`import provider NAME from \"PATH\"`",
        R::provider_decl => "a provider `provider NAME { ... }`",
        R::provider_clause => "`base`, `auth`, `limits`, `status`, `resource` or `webhook`",
        R::count => "a whole number",
        R::duration => "a duration such as `500ms`, `30s`, `5m` or `1h`",
        R::duration_range => "a range of durations such as `500ms..30s`",
        R::env_ref => "`env(\"NAME\")`",
        R::secret_ref => "`secret(\"NAME\")`",
        R::setting => "a string, `env(\"NAME\")` or `secret(\"NAME\")`",
        R::base_clause => "`base \"https://...\"`",
        R::auth_clause => "`auth` and a kind (`none`, `api_key`, `basic`, `bearer` or `oauth2`)",
        R::auth_none => "`none`",
        R::auth_api_key => "`api_key header|query \"NAME\" secret(\"VAR\")`",
        R::key_carrier => "`header` or `query`",
        R::auth_basic => "`basic USER PASSWORD`",
        R::auth_bearer => "`bearer secret(\"VAR\")`",
        R::auth_oauth2 => "`oauth2 client_credentials|refresh_token { ... }`",
        R::grant_kind => "`client_credentials` or `refresh_token`",
        R::oauth_entry | R::oauth_key => {
            "`token_url`, `client_id`, `client_secret`, `refresh_token` or `scope`"
        }
        R::rotating => "`rotating`",
        R::limits_clause => "a `limits { ... }` block",
        R::limit_entry => "`budget`, `timeout`, `retry` or `breaker`",
        R::budget_entry => "a budget `budget N per DURATION`",
        R::timeout_entry => "`timeout connect DURATION, request DURATION`",
        R::timeout_part | R::timeout_kind => "`connect DURATION` or `request DURATION`",
        R::retry_entry => "`retry max N, backoff MIN..MAX`",
        R::breaker_entry => "`breaker after N failures, open MIN..MAX`",
        R::status_clause => "a `status { ... }` block",
        R::status_entry | R::status_class => {
            "a status class `retry`, `refuse` or `stop` and its codes"
        }
        R::message_at => "`message at PATH`",
        R::response_path | R::first_element => "a path in the response such as `paging.next.after`",
        R::resource_decl => "a resource `resource NAME: SCHEMA.Type { ... }`",
        R::operation => "`read`, `fetch`, `create`, `update` or `delete`",
        R::http_method => "an HTTP method (`GET`, `POST`, `PUT`, `PATCH` or `DELETE`)",
        R::returns => "`returns SCHEMA.Type`",
        R::read_decl => "a read `read METHOD \"/path\" { ... }`",
        R::read_entry => {
            "`query`, `headers`, `body`, `records`, `id at`, `cursor`, `page` or `budget`"
        }
        R::query_entry => "`query { name: value, ... }`",
        R::headers_entry => "`headers { \"Name\": value, ... }`",
        R::text_object => "an object `{ name: \"value\", ... }`",
        R::text_member => "a member `name: \"value\"`",
        R::template_word => "`cursor`, `page` or `limit`",
        R::records_entry => "`records PATH`",
        R::id_at_entry => "`id at PATH`",
        R::cursor_entry => "`cursor PATH as FORMAT`",
        R::cursor_format => "a cursor format (`iso8601`, `millis`, `seconds` or a date pattern)",
        R::cursor_option | R::lookback | R::unsorted => "`lookback DURATION` or `unsorted`",
        R::page_entry => "`page STYLE`",
        R::page_style
        | R::page_none
        | R::page_offset
        | R::page_number
        | R::page_token
        | R::page_next_url
        | R::page_link
        | R::page_keyset => {
            "a page style (`none`, `offset`, `page_number from N`, `token PATH`, `next_url PATH`, `link_header` or `keyset`)"
        }
        R::page_option | R::page_limit | R::max_pages | R::stop_when | R::ties_by => {
            "`limit N`, `max_pages N`, `stop when PATH` or `ties by token PATH`"
        }
        R::body_entry => "`body record` or `body { ... }`",
        R::body_record | R::kw_record => "`record`",
        R::template | R::template_object | R::template_member | R::template_array => {
            "a value (a literal, `record`, `record.FIELD`, `cursor`, `page` or `limit`)"
        }
        R::write_decl | R::write_kind => "`create`, `update` or `delete`",
        R::upsert => "`upsert`",
        R::write_entry => {
            "`body`, `query`, `headers`, `id at`, `idempotency header`, `lookup` or `ok`"
        }
        R::idempotency_entry => "`idempotency header \"NAME\"`",
        R::lookup_entry => "`lookup METHOD \"/path\" returns SCHEMA.Type, id at PATH`",
        R::ok_entry => "`ok STATUS, ...`",
        R::fetch_decl => "a fetch `fetch GET \"/path/{id}\" { ... }`",
        R::fetch_entry => "`query` or `headers`",
        R::webhook_clause => "a webhook `webhook \"PRESET\" returns SCHEMA.Type { ... }`",
        R::webhook_entry => "`each`, `event`, `fetch`, `record`, `version` or `delete when`",
        R::wh_each => "`each [at PATH]`",
        R::wh_event => "`event PATH, ...`",
        R::wh_fetch => "`fetch PATH`",
        R::wh_record => "`record [at PATH]`",
        R::wh_version => "`version PATH`",
        R::wh_delete | R::wh_match => "`delete when PATH is|ends \"TEXT\"`",
    }
}

pub(super) fn to_diagnostic(
    file: FileId,
    offset: usize,
    text: &str,
    e: &Error<Rule>,
) -> Diagnostic {
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let found = found_token(text, pos);
    let end = pos + found.as_ref().map_or(0, |t| t.len());
    let span = Span::new(offset + pos, offset + end);
    let found_words = match &found {
        Some(tok) => format!("found `{tok}`"),
        None => "found the end of the file".to_string(),
    };
    let (message, label) = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
            let expected = expected_list(positives);
            let context = context_for(positives, text, pos);
            (
                format!("expected {expected}{context}"),
                format!("{found_words} here"),
            )
        }
        ErrorVariant::ParsingError { negatives, .. } if !negatives.is_empty() => (
            format!("unexpected {}", describe(negatives[0])),
            format!("{found_words} here"),
        ),
        ErrorVariant::CustomError { message } => (message.clone(), String::new()),
        _ => (
            "this text is not valid here".to_string(),
            format!("{found_words} here"),
        ),
    };
    // pest's guards ("stack limit reached", "call limit reached") stop a
    // parse that nests deeper than the thread's stack holds: constructs the
    // bracket count does not see (`map<map<...>>`, `else if` chains).
    if let ErrorVariant::CustomError { message } = &e.variant
        && message.contains("limit reached")
    {
        return Diagnostic::error(
            Code::E0007,
            file,
            Span::new(offset + pos, offset + pos),
            format!("nested too deeply for the parser ({message})"),
        )
        .label("the parser gave up here")
        .help(format!(
            "tether reads at most {} levels of nesting; name an inner type or split the `else if` chain into a table",
            super::MAX_NESTING
        ));
    }
    let mut d = Diagnostic::error(Code::E0001, file, span, message).label(label);
    if let Some(tok) = &found
        && let Some(hint) = hint_for(tok, positives_of(e))
    {
        d = d.help(hint);
    }
    d
}

fn positives_of(e: &Error<Rule>) -> &[Rule] {
    match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        _ => &[],
    }
}

/// "a, b or c", de-duplicated, in a stable order.
fn expected_list(positives: &[Rule]) -> String {
    let mut words: Vec<&str> = Vec::new();
    for r in positives {
        if matches!(r, Rule::WHITESPACE | Rule::COMMENT) {
            continue;
        }
        let w = describe(*r);
        if !words.contains(&w) {
            words.push(w);
        }
    }
    match words.len() {
        0 => "something else".to_string(),
        1 => words[0].to_string(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

/// Where we are, in words: "after the source path" when an arrow is wanted
/// right after a path.
fn context_for(positives: &[Rule], text: &str, pos: usize) -> &'static str {
    let before = text[..pos].trim_end();
    let after_path =
        before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ']' || c == '"');
    if positives.contains(&Rule::arrow) && after_path {
        if before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ']')
            && !before
                .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_')
                .ends_with(':')
        {
            return " after the source path";
        }
        return " here";
    }
    ""
}

fn hint_for(found: &str, positives: &[Rule]) -> Option<String> {
    if positives.contains(&Rule::arrow) {
        match found {
            "=>" | "=" | "=>>" | "→" => {
                return Some("tether's arrows are `->`, `<-` and `<->`".to_string());
            }
            _ => {}
        }
    }
    if found.starts_with('\'') {
        return Some("strings use double quotes: \"...\"".to_string());
    }
    None
}

/// The token at `pos`, for "found `x`".
fn found_token(text: &str, pos: usize) -> Option<String> {
    let rest = text.get(pos..)?;
    let mut chars = rest.char_indices();
    let (_, first) = chars.next()?;
    let len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len())
    } else if first == '"' {
        rest[1..].find('"').map_or(1, |i| i + 2).min(40)
    } else {
        let punct: usize = rest
            .chars()
            .take_while(|c| "-<>=|:.,;!@#$%^&*+~?/'".contains(*c))
            .map(char::len_utf8)
            .sum();
        punct.max(first.len_utf8())
    };
    // Never cut inside a character (a quoted token is capped at 40 bytes).
    let mut end = len.min(rest.len());
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    Some(rest[..end.max(first.len_utf8())].to_string())
}

#[cfg(test)]
mod tests {
    use super::super::parse_file;

    fn first_message(src: &str) -> String {
        let p = parse_file(0, src);
        p.diagnostics
            .first()
            .map(|d| d.message.clone())
            .unwrap_or_default()
    }

    #[test]
    fn missing_arrow_is_explained_in_words() {
        let msg = first_message("mapping m: a.B -> c.D {\n  email Email\n}");
        assert!(
            msg.contains("an arrow `->`, `<-` or `<->` after the source path"),
            "{msg}"
        );
        assert!(!msg.contains("arrow,") && !msg.contains("Rule"), "{msg}");
    }

    #[test]
    fn pest_rule_names_never_leak() {
        for src in [
            "mapping m: a.B -> c.D { x -> }",
            "schema s { record R { a: } }",
            "table t { \"a\" \"b\" }",
            "test m \"t\" { given a }",
            "mapping m a.B",
            "import schema x from",
        ] {
            let p = parse_file(0, src);
            assert!(!p.diagnostics.is_empty(), "{src}");
            for d in &p.diagnostics {
                assert!(
                    !d.message.contains('_'),
                    "rule name leaked in {:?} for {src}",
                    d.message
                );
            }
        }
    }
}
