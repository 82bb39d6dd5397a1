//! Running a plan over a batch: NDJSON streamed line by line, or a JSON
//! document (one object, or an array of records). Failing records go to the
//! rejects output with all their errors; the rest of the batch goes on.

use super::chunk::{Batch, CHUNK_BYTES, Chunk, Mapper, next_chunk, parallel};
use super::eval::{Encoding, Frames, Outcome, RecordError};
use super::lines::{DEFAULT_MAX_RECORD_BYTES, LineReader};
use super::{Bases, xml};
use crate::base::{minify_json, write_json_str};
use crate::plan::Plan;
use serde_json::value::RawValue;
use std::io::{self, BufRead, Write};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON record per line.
    Ndjson,
    /// One JSON value: an object (one record) or an array of records.
    Json,
    /// One XML document (a SOAP envelope is opened).
    Xml,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Ndjson,
    /// One JSON array.
    Json,
    /// One XML document: the record's element when the input is one record,
    /// else a `<records>` element holding one element per record; inside a
    /// SOAP envelope's `Body` when asked (the records directly).
    Xml {
        soap: Option<Soap>,
    },
}

impl OutputFormat {
    pub(super) fn encoding(self) -> Encoding {
        match self {
            OutputFormat::Xml { .. } => Encoding::Xml,
            _ => Encoding::Json,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Soap {
    V11,
    V12,
}

impl Soap {
    pub fn namespace(self) -> &'static str {
        match self {
            Soap::V11 => "http://schemas.xmlsoap.org/soap/envelope/",
            Soap::V12 => "http://www.w3.org/2003/05/soap-envelope",
        }
    }
}

/// Whether the output document holds a batch of records or one record.
/// Known once the input's shape is (NDJSON and `for` rows are batches; a
/// JSON or XML document without `for` is one record).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Unknown,
    One,
    Batch,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    /// Input records read: NDJSON lines, array items, documents (a `for`
    /// mapping's documents, not its rows).
    pub read: u64,
    /// Rows a `for` mapping produced (0 without `for`).
    pub rows: u64,
    /// Output records (rows, with `for`) and rejects.
    pub written: u64,
    pub rejected: u64,
    pub elapsed: Duration,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        write!(f, "read {} record{}", self.read, plural(self.read))?;
        if self.rows > 0 {
            write!(f, " ({} row{})", self.rows, plural(self.rows))?;
        }
        write!(
            f,
            ", wrote {}, rejected {} in {:.3} s",
            self.written,
            self.rejected,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Where a record sits in the input, for reject reports.
#[derive(Clone)]
pub(super) enum Position {
    Line(u64),
    Index(u64),
    /// A row: the path of its element in the document.
    Element(String),
}

pub struct Runner<'p, 'w> {
    plan: &'p Plan,
    out: &'w mut dyn Write,
    rejects: Option<&'w mut dyn Write>,
    format: OutputFormat,
    summary: Summary,
    shape: Shape,
    /// The document's opening has been written.
    opened: bool,
    /// Existing records the output is written into (`--base`).
    base: Option<&'p Bases>,
    /// Threads mapping NDJSON chunks (1: on the runner's own thread).
    threads: usize,
    /// The longest NDJSON record read (longer ones are rejected unread).
    max_record_bytes: usize,
}

impl<'p, 'w> Runner<'p, 'w> {
    pub fn new(
        plan: &'p Plan,
        out: &'w mut dyn Write,
        rejects: Option<&'w mut dyn Write>,
        format: OutputFormat,
    ) -> Self {
        Runner {
            plan,
            out,
            rejects,
            format,
            summary: Summary::default(),
            shape: Shape::Unknown,
            opened: false,
            base: None,
            threads: 1,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }

    /// Rejects NDJSON records longer than `bytes` without reading them
    /// whole (default [`DEFAULT_MAX_RECORD_BYTES`]).
    pub fn with_max_record_bytes(mut self, bytes: usize) -> Self {
        self.max_record_bytes = bytes.max(1);
        self
    }

    /// Maps NDJSON on `threads` threads (order kept).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    fn mapper(&self) -> Mapper<'p> {
        Mapper {
            plan: self.plan,
            format: self.format,
            base: self.base,
            keep_rejects: self.rejects.is_some(),
        }
    }

    /// Writes a batch: its records into the document, its rejects to the
    /// rejects output.
    fn emit(&mut self, batch: Batch) -> io::Result<()> {
        if batch.written > 0 {
            self.open()?;
            if self.format == OutputFormat::Json && self.summary.written > 0 {
                self.out.write_all(b",")?;
            }
            self.out.write_all(batch.out.as_bytes())?;
        }
        if let Some(r) = self.rejects.as_mut() {
            r.write_all(batch.rejects.as_bytes())?;
        }
        self.summary.read += batch.read;
        self.summary.rows += batch.rows;
        self.summary.written += batch.written;
        self.summary.rejected += batch.rejected;
        Ok(())
    }

    /// Writes each output record into its existing record (JSON outputs).
    pub fn with_base(mut self, base: &'p Bases) -> Self {
        self.base = Some(base);
        self
    }

    /// Settles the output document's shape; a batch opens at once (an
    /// empty batch is still a document), one record when it is written (a
    /// rejected one leaves no half document).
    fn shape(&mut self, shape: Shape) -> io::Result<()> {
        self.shape = shape;
        if shape == Shape::Batch {
            self.open()?;
        }
        Ok(())
    }

    fn open(&mut self) -> io::Result<()> {
        if self.opened {
            return Ok(());
        }
        self.opened = true;
        match self.format {
            OutputFormat::Ndjson => {}
            OutputFormat::Json => self.out.write_all(b"[")?,
            OutputFormat::Xml { soap } => {
                self.out
                    .write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
                if let Some(v) = soap {
                    writeln!(
                        self.out,
                        "<soap:Envelope xmlns:soap=\"{}\"><soap:Body>",
                        v.namespace()
                    )?;
                } else if self.shape == Shape::Batch {
                    self.out.write_all(b"<records>\n")?;
                }
            }
        }
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        if !self.opened {
            return Ok(());
        }
        match self.format {
            OutputFormat::Ndjson => {}
            OutputFormat::Json => self.out.write_all(b"]\n")?,
            OutputFormat::Xml { soap } => {
                if soap.is_some() {
                    self.out.write_all(b"</soap:Body></soap:Envelope>\n")?;
                } else if self.shape == Shape::Batch {
                    self.out.write_all(b"</records>\n")?;
                }
            }
        }
        Ok(())
    }

    /// Maps every record of `input`; returns the summary.
    pub fn run(mut self, input: &mut dyn BufRead, format: InputFormat) -> io::Result<Summary> {
        let started = Instant::now();
        if self.format == OutputFormat::Json {
            self.open()?;
        }
        match format {
            InputFormat::Ndjson => {
                self.shape(Shape::Batch)?;
                let mapper = self.mapper();
                let mut input = LineReader::new(input, self.max_record_bytes);
                if self.threads > 1 {
                    parallel(mapper, self.threads, &mut input, &mut |b| self.emit(b))?;
                } else {
                    let mut chunk = Chunk::default();
                    let mut next_line = 1;
                    loop {
                        let lines = next_chunk(&mut input, &mut chunk)?;
                        if lines == 0 {
                            break;
                        }
                        self.emit(mapper.ndjson(&chunk, next_line))?;
                        next_line += lines;
                    }
                }
            }
            InputFormat::Json => {
                let mut bytes = Vec::new();
                input.read_to_end(&mut bytes)?;
                let text = match String::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(e) => {
                        // Not an I/O failure: the document is rejected.
                        self.shape(Shape::One)?;
                        let message = format!("the document is not UTF-8: {}", e.utf8_error());
                        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                        return self.rejected_document(&text, message, started);
                    }
                };
                let trimmed = text.strip_prefix('\u{FEFF}').unwrap_or(&text).trim_start();
                let batch = trimmed.starts_with('[') || self.plan.iteration.is_some();
                self.shape(if batch { Shape::Batch } else { Shape::One })?;
                let mapper = self.mapper();
                let mut frames = Frames::default();
                let mut batch = Batch::default();
                if trimmed.starts_with('[') {
                    match serde_json::from_str::<Vec<&RawValue>>(trimmed) {
                        Ok(items) => {
                            for (i, raw) in items.iter().enumerate() {
                                let pos = Position::Index(i as u64);
                                mapper.json_record(raw.get(), pos, &mut frames, &mut batch);
                                if batch.out.len() >= CHUNK_BYTES {
                                    self.emit(std::mem::take(&mut batch))?;
                                }
                            }
                        }
                        // The document is broken: one reject for all of it.
                        Err(_) => {
                            mapper.json_record(trimmed, Position::Index(0), &mut frames, &mut batch)
                        }
                    }
                } else if !trimmed.is_empty() {
                    let pos = Position::Index(0);
                    mapper.json_record(trimmed.trim_end(), pos, &mut frames, &mut batch);
                }
                self.emit(batch)?;
            }
            InputFormat::Xml => {
                let mut bytes = Vec::new();
                input.read_to_end(&mut bytes)?;
                let batch = self.plan.iteration.is_some();
                self.shape(if batch { Shape::Batch } else { Shape::One })?;
                match xml::decode(&bytes) {
                    Ok(text) => self.xml_document(&text)?,
                    Err(e) => {
                        let text = String::from_utf8_lossy(&bytes);
                        let mut batch = Batch::default();
                        self.xml_rejected(&text, &e, &mut batch);
                        self.emit(batch)?;
                    }
                }
            }
        }
        self.finish(started)
    }

    /// A document rejected before any record of it is read.
    fn rejected_document(
        mut self,
        text: &str,
        message: String,
        started: Instant,
    ) -> io::Result<Summary> {
        let mut batch = Batch::default();
        self.mapper().outcome(
            Outcome::malformed(message),
            text,
            Position::Index(0),
            &mut batch,
        );
        self.emit(batch)?;
        self.finish(started)
    }

    fn finish(mut self, started: Instant) -> io::Result<Summary> {
        self.close()?;
        self.out.flush()?;
        if let Some(r) = self.rejects.as_mut() {
            r.flush()?;
        }
        self.summary.elapsed = started.elapsed();
        Ok(self.summary)
    }

    /// One XML document: its record, or its rows as they stream past
    /// (written a batch at a time).
    fn xml_document(&mut self, text: &str) -> io::Result<()> {
        let mapper = self.mapper();
        let mut batch = Batch::default();
        let mut failed: Option<io::Error> = None;
        let result = xml::read_document(text, self.plan, &mut |row| {
            mapper.row(row, &mut batch);
            if failed.is_none()
                && batch.out.len() >= CHUNK_BYTES
                && let Err(e) = self.emit(std::mem::take(&mut batch))
            {
                failed = Some(e);
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        let iterating = self.plan.iteration.is_some();
        match result {
            // Each record element of the document was read once, however
            // many rows it gave (records without `for` count as mapped).
            Ok(records) if iterating => batch.read += records as u64,
            Ok(_) => {}
            Err(e) => self.xml_rejected(text, &e, &mut batch),
        }
        self.emit(batch)
    }

    /// An XML document that cannot be read: one reject for all of it.
    fn xml_rejected(&self, text: &str, e: &xml::XmlError, batch: &mut Batch) {
        if self.plan.iteration.is_some() {
            batch.read += 1;
        }
        let outcome = Outcome::malformed(format!("malformed XML at {e}"));
        self.mapper()
            .outcome(outcome, text, Position::Index(0), batch);
    }
}

/// `{"record": …, "errors": […], "line": n, "key": k}`. A record that is not
/// well-formed JSON is kept as a JSON string, byte for byte.
pub(super) fn reject_line(
    text: &str,
    errors: &[RecordError],
    pos: Position,
    key: Option<&str>,
) -> String {
    let mut s = String::from("{\"record\":");
    if serde_json::from_str::<&RawValue>(text).is_ok() {
        s.push_str(&minify_json(text));
    } else {
        write_json_str(&mut s, text);
    }
    s.push_str(",\"errors\":");
    s.push_str(&super::reject::errors_json(errors));
    match pos {
        Position::Line(n) => s.push_str(&format!(",\"line\":{n}")),
        Position::Index(i) => s.push_str(&format!(",\"index\":{i}")),
        Position::Element(path) => {
            s.push_str(",\"element\":");
            write_json_str(&mut s, &path);
        }
    }
    if let Some(k) = key {
        s.push_str(",\"key\":");
        s.push_str(k);
    }
    s.push('}');
    s
}
