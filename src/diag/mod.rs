//! Diagnostics as values: what is wrong, where (file + span), a stable code,
//! notes and help. Rendering is separate: rustc-style text through
//! codespan-reporting, or one JSON object per line for CI.

mod codes;
mod excerpt;

pub use codes::Code;
pub use excerpt::{LONG_LINE_BYTES, MAX_MESSAGE_CHARS, printable};

use crate::base::Span;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Files, SimpleFiles};
use codespan_reporting::term;
use serde::Serialize;
use std::borrow::Cow;

/// Index of a file in a [`SourceMap`].
pub type FileId = usize;

/// All source files a run has read (mapping files and imported schemas), so
/// a diagnostic can point into any of them.
#[derive(Default)]
pub struct SourceMap {
    files: SimpleFiles<String, String>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.add(name.into(), text.into())
    }
    pub fn name(&self, id: FileId) -> &str {
        self.files
            .get(id)
            .map(|f| f.name().as_str())
            .unwrap_or("<unknown>")
    }
    pub fn text(&self, id: FileId) -> &str {
        self.files
            .get(id)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }
    /// Every file's name and text, in the order they were read.
    pub fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..)
            .map_while(|id| self.files.get(id).ok())
            .map(|f| (f.name().as_str(), f.source().as_str()))
    }
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, id: FileId, offset: usize) -> (usize, usize) {
        let line = self.files.line_index(id, offset).unwrap_or(0);
        let col = self.files.column_number(id, line, offset).unwrap_or(1);
        (line + 1, col)
    }
    /// `file:line:col` for a span's start.
    pub fn location(&self, id: FileId, span: Span) -> String {
        let (line, col) = self.line_col(id, span.start as usize);
        format!("{}:{}:{}", self.name(id), line, col)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: Label {
                file,
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }
    pub fn warning(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, file, span, message)
        }
    }
    /// The text under the primary caret.
    pub fn label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }
    pub fn secondary(mut self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            file,
            span,
            message: message.into(),
        });
        self
    }
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
    /// Adds "did you mean `x`?" when a close candidate exists.
    pub fn suggest<'a>(
        self,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Diagnostic {
        match did_you_mean(wrong, candidates) {
            Some(best) => self.help(format!("did you mean `{best}`?")),
            None => self,
        }
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Longest name, wrong or candidate, that [`did_you_mean`] compares: edit
/// distance costs the product of the lengths, and nobody mistypes a
/// 65-character name into another one.
pub const MAX_SUGGEST_CHARS: usize = 64;

/// Most candidates [`did_you_mean`] looks through: every zone name fits
/// (about 600); a generated enum of 100,000 values gets no suggestion
/// rather than a check that is quadratic in it.
pub const MAX_SUGGEST_CANDIDATES: usize = 2_000;

/// The closest candidate by edit distance, if it is close enough to be a
/// plausible typo (case differences count as close). Bounded work: no
/// suggestion for a name longer than [`MAX_SUGGEST_CHARS`] or among more
/// than [`MAX_SUGGEST_CANDIDATES`] candidates.
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    if wrong.len() > 4 * MAX_SUGGEST_CHARS || wrong.chars().count() > MAX_SUGGEST_CHARS {
        return None;
    }
    let candidates = candidates.into_iter();
    // A slice's length is known up front; other iterators stop below.
    if candidates.size_hint().0 > MAX_SUGGEST_CANDIDATES {
        return None;
    }
    let wrong_lower = wrong.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for (n, c) in candidates.enumerate() {
        if n >= MAX_SUGGEST_CANDIDATES {
            return None;
        }
        if c.len() > 4 * MAX_SUGGEST_CHARS || c.chars().count() > MAX_SUGGEST_CHARS {
            continue;
        }
        let score = if c.to_lowercase() == wrong_lower {
            1.0
        } else {
            strsim::jaro_winkler(&wrong_lower, &c.to_lowercase())
        };
        let dist = strsim::damerau_levenshtein(&wrong_lower, &c.to_lowercase());
        let close = score >= 0.85 || dist <= (wrong.chars().count().max(3) / 3);
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Items listed in a message before "and N more".
pub const LISTED: usize = 10;

/// `"a", "b", "c"`: the first [`LISTED`] items joined with commas, then
/// how many more there are, so a message about a generated enum of
/// 100,000 values stays one line.
pub fn some_of(items: impl ExactSizeIterator<Item = String>) -> String {
    let total = items.len();
    let mut out = items.take(LISTED).collect::<Vec<_>>().join(", ");
    if total > LISTED {
        out.push_str(&format!(" and {} more", total - LISTED));
    }
    out
}

/// Sorts diagnostics by file and position, so output is deterministic.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| {
        (
            d.primary.file,
            d.primary.span.start,
            d.primary.span.end,
            d.code.as_str(),
        )
    });
}

/// Renders diagnostics the rustc way, without colour (for snapshots and pipes).
pub fn render_plain(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    let mut out = term::termcolor::NoColor::new(Vec::new());
    render_to(&mut out, sources, diags);
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

/// Renders diagnostics to a terminal writer (colour when it supports it).
/// Each through an [`excerpt::View`]: long lines windowed, unsafe
/// characters escaped.
pub fn render_to(
    out: &mut dyn term::termcolor::WriteColor,
    sources: &SourceMap,
    diags: &[Diagnostic],
) {
    let config = term::Config::default();
    for d in diags {
        let (view, ranges) = excerpt::View::new(sources, &excerpt::places(d));
        // A failure to write to the terminal is not worth a panic or a lost
        // exit code; the exit status still says there were errors.
        let _ = term::emit_to_write_style(out, &config, &view, &to_codespan(d, &ranges));
    }
}

/// `ranges`: the labels' ranges in the view, primary first.
fn to_codespan(d: &Diagnostic, ranges: &[std::ops::Range<usize>]) -> cs::Diagnostic<FileId> {
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let range = |i: usize, l: &Label| ranges.get(i).cloned().unwrap_or(l.span.range());
    let mut labels = vec![
        cs::Label::primary(d.primary.file, range(0, &d.primary))
            .with_message(printable(&d.primary.message, false)),
    ];
    for (i, l) in d.secondary.iter().enumerate() {
        labels.push(
            cs::Label::secondary(l.file, range(i + 1, l))
                .with_message(printable(&l.message, false)),
        );
    }
    let mut notes: Vec<String> = d
        .notes
        .iter()
        .map(|n| format!("note: {}", printable(n, true)))
        .collect();
    if let Some(h) = &d.help {
        notes.push(format!("help: {}", printable(h, true)));
    }
    cs::Diagnostic::new(severity)
        .with_code(d.code.as_str())
        .with_message(printable(&d.message, false))
        .with_labels(labels)
        .with_notes(notes)
}

/// One diagnostic as a JSON object (for `--format json`, one per line).
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub severity: Severity,
    pub code: &'static str,
    pub message: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<Cow<'a, str>>,
}

pub fn to_json_line(sources: &SourceMap, d: &Diagnostic) -> String {
    let file = d.primary.file;
    let (line, column) = sources.line_col(file, d.primary.span.start as usize);
    let (end_line, end_column) = sources.line_col(file, d.primary.span.end as usize);
    let json = JsonDiagnostic {
        file: sources.name(file),
        line,
        column,
        end_line,
        end_column,
        severity: d.severity,
        code: d.code.as_str(),
        message: printable(&d.message, false),
        label: Some(printable(&d.primary.message, false)).filter(|m| !m.is_empty()),
        notes: d.notes.iter().map(|n| printable(n, true)).collect(),
        help: d.help.as_deref().map(|h| printable(h, true)),
    };
    serde_json::to_string(&json).unwrap_or_default()
}

/// `docs/errors.md`, generated from the code table.
pub fn errors_markdown() -> String {
    let mut out = String::from(
        "# Error codes\n\n\
         Generated from `src/diag/codes.rs` by `tether explain --all-markdown`; do not edit.\n\
         `E0xxx` are compile-time errors from `tether check`, `W0xxx` warnings,\n\
         `E1xxx` runtime errors written to the rejects output.\n\n",
    );
    for code in Code::ALL {
        out.push_str(&format!(
            "## {code}: {}\n\n{}\n\n",
            code.title(),
            code.explanation()
        ));
    }
    out
}
