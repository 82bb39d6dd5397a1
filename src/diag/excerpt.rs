//! Quiet output: what a diagnostic prints is bounded and escaped, whatever
//! the file it points into (docs/design/09-hostile-input.md, "Bounded work
//! and quiet output").
//!
//! Two sources of untrusted text reach a terminal or a log: the messages
//! (which quote names, values and parser errors from the files), and the
//! source excerpt codespan prints under them (the whole line: a minified
//! JSON schema is one line of megabytes). Messages go through
//! [`printable`]; excerpts through a [`View`] that shows codespan a window
//! of each long line, escaped, and reports the real line and column.

use super::{Diagnostic, FileId, SourceMap};
use codespan_reporting::files::{Error, Files};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

/// Longest message, label, note or help printed, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// A line longer than this (in bytes) is shown as a window around the
/// labels on it.
pub const LONG_LINE_BYTES: usize = 240;

/// The window: this many bytes before the first label on the line, and
/// this many in all.
const WINDOW_BEFORE: usize = 60;
const WINDOW_BYTES: usize = 200;

/// Characters a terminal may act on rather than show: C0 and C1 controls
/// (ESC starts an ANSI sequence), DEL, and the bidirectional overrides
/// that make text read differently from how it is stored.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Pushes `c`, escaped as `\u{1b}` when a terminal would act on it. A tab
/// stays a tab and, when `keep_newlines`, a line end stays one.
fn push_printable(out: &mut String, c: char, keep_newlines: bool) {
    if c == '\t' || (keep_newlines && c == '\n') || !is_unsafe(c) {
        out.push(c);
    } else {
        out.push_str(&format!("\\u{{{:x}}}", c as u32));
    }
}

/// `s` as printed: unsafe characters escaped, at most [`MAX_MESSAGE_CHARS`]
/// characters, then how many were left out. Line ends are kept only in
/// notes and help (`keep_newlines`): a message or label is one line, so a
/// name cannot forge a line of output.
pub fn printable(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let clean = s
        .chars()
        .all(|c| c == '\t' || (keep_newlines && c == '\n') || !is_unsafe(c));
    if clean && s.len() <= MAX_MESSAGE_CHARS {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut chars = s.chars();
    for c in chars.by_ref().take(MAX_MESSAGE_CHARS) {
        push_printable(&mut out, c, keep_newlines);
    }
    let rest = chars.count();
    if rest > 0 {
        out.push_str(&format!("… ({rest} more characters)"));
    }
    Cow::Owned(out)
}

/// One shown line of a file with a window: where it is in the view's text,
/// which real line it is, and the real column of each label boundary.
struct Shown {
    real_line: usize,
    range: Range<usize>,
    columns: Vec<(usize, usize)>,
}

/// The text codespan reads for a file whose labelled lines are long or
/// hold unsafe characters: those lines only, windowed and escaped.
struct Windowed {
    text: String,
    lines: Vec<Shown>,
}

/// What codespan reads for one diagnostic: every file as the source map
/// has it, except the files in `windows`.
pub struct View<'s> {
    sources: &'s SourceMap,
    windows: HashMap<FileId, Windowed>,
}

/// A label's place, in the file as read.
pub struct Place {
    pub file: FileId,
    pub span: Range<usize>,
}

impl<'s> View<'s> {
    /// The view for the labels `places` of one diagnostic, and each
    /// label's range in it (in the same order).
    pub fn new(sources: &'s SourceMap, places: &[Place]) -> (View<'s>, Vec<Range<usize>>) {
        let mut view = View {
            sources,
            windows: HashMap::new(),
        };
        let mut ranges: Vec<Range<usize>> = places.iter().map(|p| p.span.clone()).collect();
        let mut files: Vec<FileId> = places.iter().map(|p| p.file).collect();
        files.sort_unstable();
        files.dedup();
        for file in files {
            let text = sources.text(file);
            let here: Vec<usize> = (0..places.len())
                .filter(|&i| places[i].file == file)
                .collect();
            // Codespan prints every line a label touches, whole.
            let needs_window = here.iter().any(|&i| {
                let span = clamp(text, &places[i].span);
                let lines =
                    line_of(sources, file, span.start).start..line_of(sources, file, span.end).end;
                text[lines].split('\n').any(|l| {
                    l.len() > LONG_LINE_BYTES
                        || l.chars().any(|c| c != '\t' && c != '\r' && is_unsafe(c))
                })
            });
            if !needs_window {
                continue;
            }
            // Each label is cut to its first line: a multi-line label
            // would show every line between, long ones included.
            let mut by_line: Vec<(usize, Vec<usize>)> = Vec::new();
            for &i in &here {
                let start = clamp(text, &places[i].span).start;
                let line = line_of(sources, file, start);
                let end = floor_char(
                    text,
                    places[i].span.end.clamp(start, content_end(text, &line)),
                );
                ranges[i] = start..end;
                let index = sources.files.line_index(file, start).unwrap_or(0);
                match by_line.iter_mut().find(|(l, _)| *l == index) {
                    Some((_, labels)) => labels.push(i),
                    None => by_line.push((index, vec![i])),
                }
            }
            by_line.sort_unstable_by_key(|(l, _)| *l);
            let mut windowed = Windowed {
                text: String::new(),
                lines: Vec::new(),
            };
            for (index, labels) in by_line {
                let line = line_of(sources, file, ranges[labels[0]].start);
                let content = line.start..content_end(text, &line);
                let first = labels
                    .iter()
                    .map(|&i| ranges[i].start)
                    .min()
                    .unwrap_or(line.start);
                let window = if content.len() <= LONG_LINE_BYTES {
                    content.clone()
                } else {
                    let from =
                        floor_char(text, first.saturating_sub(WINDOW_BEFORE).max(content.start));
                    let to = floor_char(text, (from + WINDOW_BYTES).min(content.end));
                    from..to
                };
                let start = windowed.text.len();
                if window.start > content.start {
                    windowed.text.push('…');
                }
                // Label boundaries in the window, to be found on the way.
                let mut wanted: Vec<usize> = labels
                    .iter()
                    .flat_map(|&i| [ranges[i].start, ranges[i].end])
                    .map(|b| b.clamp(window.start, window.end))
                    .collect();
                wanted.sort_unstable();
                wanted.dedup();
                let mut found: HashMap<usize, usize> = HashMap::new();
                let mut columns = Vec::new();
                let before = text[content.start..window.start].chars().count();
                let mut column = before + 1;
                let mut next = wanted.iter().peekable();
                for (at, c) in text[window.clone()].char_indices() {
                    let real = window.start + at;
                    while let Some(b) = next.next_if(|b| **b <= real) {
                        found.insert(*b, windowed.text.len());
                        columns.push((windowed.text.len(), column));
                    }
                    push_printable(&mut windowed.text, c, false);
                    column += 1;
                }
                for b in next {
                    found.insert(*b, windowed.text.len());
                    columns.push((windowed.text.len(), column));
                }
                if window.end < content.end {
                    windowed.text.push('…');
                }
                windowed.text.push('\n');
                for &i in &labels {
                    let map = |b: usize| {
                        let b = b.clamp(window.start, window.end);
                        found.get(&b).copied().unwrap_or(start)
                    };
                    ranges[i] = map(ranges[i].start)..map(ranges[i].end);
                }
                windowed.lines.push(Shown {
                    real_line: index,
                    range: start..windowed.text.len(),
                    columns,
                });
            }
            view.windows.insert(file, windowed);
        }
        (view, ranges)
    }
}

/// `span` within the text and on character boundaries.
fn clamp(text: &str, span: &Range<usize>) -> Range<usize> {
    let start = floor_char(text, span.start.min(text.len()));
    let end = floor_char(text, span.end.clamp(start, text.len()));
    start..end
}

fn floor_char(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The byte range of the line holding `at`, with its line end.
fn line_of(sources: &SourceMap, file: FileId, at: usize) -> Range<usize> {
    let index = sources.files.line_index(file, at).unwrap_or(0);
    sources.files.line_range(file, index).unwrap_or(at..at)
}

/// Where the line's text ends, before its `\n` or `\r\n`.
fn content_end(text: &str, line: &Range<usize>) -> usize {
    let s = &text[line.clone()];
    line.start + s.trim_end_matches(['\n', '\r']).len()
}

impl<'a> Files<'a> for View<'_> {
    type FileId = FileId;
    type Name = String;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<String, Error> {
        self.sources.files.name(id)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, Error> {
        match self.windows.get(&id) {
            Some(w) => Ok(&w.text),
            None => self.sources.files.source(id),
        }
    }

    /// The real line index (codespan passes it back to `line_range`).
    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, Error> {
        match self.windows.get(&id) {
            Some(w) => Ok(w
                .lines
                .iter()
                .rev()
                .find(|l| l.range.start <= byte_index)
                .or(w.lines.first())
                .map_or(0, |l| l.real_line)),
            None => self.sources.files.line_index(id, byte_index),
        }
    }

    fn column_number(
        &'a self,
        id: FileId,
        line_index: usize,
        byte_index: usize,
    ) -> Result<usize, Error> {
        match self.windows.get(&id) {
            Some(w) => {
                let line = w.lines.iter().find(|l| l.real_line == line_index);
                Ok(line
                    .and_then(|l| l.columns.iter().find(|(b, _)| *b == byte_index))
                    .map_or(1, |(_, c)| *c))
            }
            None => self.sources.files.column_number(id, line_index, byte_index),
        }
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, Error> {
        match self.windows.get(&id) {
            // Only the labelled lines are there: a context line asked for
            // is left out (codespan skips a line it cannot have).
            Some(w) => w
                .lines
                .iter()
                .find(|l| l.real_line == line_index)
                .map(|l| l.range.clone())
                .ok_or(Error::LineTooLarge {
                    given: line_index,
                    max: 0,
                }),
            None => self.sources.files.line_range(id, line_index),
        }
    }
}

/// The places of a diagnostic's labels, primary first.
pub fn places(d: &Diagnostic) -> Vec<Place> {
    std::iter::once(&d.primary)
        .chain(&d.secondary)
        .map(|l| Place {
            file: l.file,
            span: l.span.range(),
        })
        .collect()
}
