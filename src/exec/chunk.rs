//! Mapping records in batches: the unit of work of the runner, and of its
//! threads.
//!
//! A [`Batch`] is the output of a run of consecutive records: their output
//! text, their reject lines and the counts. NDJSON input is cut into chunks
//! of whole lines ([`next_chunk`]); each chunk is mapped into one batch
//! ([`Mapper::ndjson`]), on the runner's thread or on a worker
//! ([`parallel`]), and batches are written in input order. Every record of a
//! chunk borrows from the chunk's text, so the frames and the output buffer
//! are reused from record to record.

use super::Bases;
use super::eval::{Frames, Outcome, RecordError, evaluate_into, map_json_into};
use super::lines::{LineRead, LineReader};
use super::read::read_record;
use super::rows::{Row, expand};
use super::run::{OutputFormat, Position, reject_line};
use crate::base::Value;
use crate::plan::Plan;
use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::sync::mpsc;

/// A run of consecutive NDJSON lines, each followed by `\n` whatever its
/// ending was in the input (see [`super::lines`]).
#[derive(Default)]
pub struct Chunk {
    pub text: Vec<u8>,
    /// The lines over the record limit, as (index in the chunk, length):
    /// each stands in `text` as an empty line, so indices stay aligned.
    pub too_long: Vec<(u64, u64)>,
    /// The limit they exceeded, for the message.
    pub max: usize,
}

/// About how much input one chunk holds: large enough that handing it to a
/// thread costs nothing next to mapping it, small enough that
/// `2 × threads` of them in flight keep memory flat.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The output of a run of consecutive records.
#[derive(Default)]
pub struct Batch {
    /// Output records: each followed by a newline, or for a JSON array
    /// output separated by commas.
    pub out: String,
    /// Reject lines, each followed by a newline.
    pub rejects: String,
    /// Input records: lines, array items, documents.
    pub read: u64,
    /// Rows a `for` mapping produced from them (0 without `for`).
    pub rows: u64,
    /// Output records and rejects: of records, or of rows and documents
    /// that could not be read.
    pub written: u64,
    pub rejected: u64,
}

/// What maps records into batches; shared by every thread.
#[derive(Clone, Copy)]
pub struct Mapper<'p> {
    pub plan: &'p Plan,
    pub format: OutputFormat,
    pub base: Option<&'p Bases>,
    /// Whether reject lines are wanted (there is a rejects output).
    pub keep_rejects: bool,
}

impl Mapper<'_> {
    /// Maps a chunk of NDJSON lines; `first_line` is the number of its
    /// first line in the whole input. A line that is not UTF-8 is a reject
    /// of that line.
    pub fn ndjson(&self, chunk: &Chunk, first_line: u64) -> Batch {
        let mut batch = Batch::default();
        let mut frames = Frames::default();
        let mut too_long = chunk.too_long.iter().peekable();
        for (i, line) in (0u64..).zip(lines(&chunk.text)) {
            let number = first_line + i;
            if let Some((_, bytes)) = too_long.next_if(|(at, _)| *at == i) {
                let outcome = Outcome::too_long(super::lines::too_long_message(*bytes, chunk.max));
                self.outcome(outcome, "", Position::Line(number), &mut batch);
                continue;
            }
            match std::str::from_utf8(line) {
                Ok(text) if text.trim().is_empty() => {}
                Ok(text) => self.json_record(text, Position::Line(number), &mut frames, &mut batch),
                Err(e) => {
                    let text = String::from_utf8_lossy(line);
                    let outcome = Outcome::malformed(format!("the line is not UTF-8: {e}"));
                    self.outcome(outcome, &text, Position::Line(number), &mut batch);
                }
            }
        }
        batch
    }

    /// One JSON record: mapped straight into the batch, or expanded into
    /// rows by `for` clauses.
    pub fn json_record<'a>(
        &self,
        text: &'a str,
        pos: Position,
        frames: &mut Frames<'a>,
        batch: &mut Batch,
    ) {
        let Some(it) = &self.plan.iteration else {
            let mark = batch.out.len();
            if self.format == OutputFormat::Json && batch.written > 0 {
                batch.out.push(',');
            }
            let record_at = batch.out.len();
            match map_json_into(
                self.plan,
                text,
                self.format.encoding(),
                frames,
                &mut batch.out,
            ) {
                Ok(()) => self.written(batch, record_at),
                Err(rejected) => {
                    batch.out.truncate(mark);
                    self.outcome(rejected, text, pos, batch);
                }
            }
            return;
        };
        // A document is one record read, whatever rows it holds.
        batch.read += 1;
        let mut errors = Vec::new();
        let doc = match read_record(text, &self.plan.read, self.plan.input_slots, &mut errors) {
            Ok(doc) => doc,
            Err(msg) => {
                let outcome = Outcome::malformed(format!("malformed JSON: {msg}"));
                return self.outcome(outcome, text, pos, batch);
            }
        };
        let rows = expand(it, doc, &errors);
        if rows.is_empty() && !errors.is_empty() {
            // No row to carry the errors (the array a `for` iterates is
            // missing or unreadable): the document is rejected with them,
            // not dropped.
            let errors = errors.into_iter().map(RecordError::from_read).collect();
            let outcome = Outcome::Rejected { key: None, errors };
            return self.outcome(outcome, text, pos, batch);
        }
        for row in rows {
            self.row(row, batch);
        }
    }

    /// One row of a `for` mapping (or one record of an XML batch).
    pub fn row(&self, row: Row<'_>, batch: &mut Batch) {
        if self.plan.iteration.is_some() {
            batch.rows += 1;
        }
        let source = match self
            .plan
            .iteration
            .as_ref()
            .map(|it| &row.frame[it.source_slot])
        {
            Some(Value::Raw(json)) => json.to_string(),
            Some(Value::Str(xml)) => xml.to_string(),
            _ => row.source.to_string(),
        };
        let errors = row.errors.into_iter().map(RecordError::from_read).collect();
        let pos = if row.element.is_empty() {
            Position::Index(0)
        } else {
            Position::Element(row.element)
        };
        let encoding = self.format.encoding();
        self.append(batch, &source, pos, |out| {
            evaluate_into(
                self.plan,
                &row.frame,
                errors,
                encoding,
                &mut Vec::new(),
                out,
            )
        })
    }

    /// Appends the record `map` writes into the buffer it is given (after
    /// the separator), or, when `map` rejects it, its reject line instead.
    fn append(
        &self,
        batch: &mut Batch,
        text: &str,
        pos: Position,
        map: impl FnOnce(&mut String) -> Result<(), Outcome>,
    ) {
        let mark = batch.out.len();
        if self.format == OutputFormat::Json && batch.written > 0 {
            batch.out.push(',');
        }
        let record_at = batch.out.len();
        match map(&mut batch.out) {
            Ok(()) => self.written(batch, record_at),
            Err(rejected) => {
                batch.out.truncate(mark);
                self.outcome(rejected, text, pos, batch);
            }
        }
    }

    /// Counts the record just appended at `record_at`, writes it into its
    /// base record (`--base`) and ends it.
    fn written(&self, batch: &mut Batch, record_at: usize) {
        batch.read += self.reads_per_record();
        batch.written += 1;
        if let Some(base) = self.base {
            let merged = base.apply(self.plan, &batch.out[record_at..]);
            batch.out.truncate(record_at);
            batch.out.push_str(&merged);
        }
        if self.format != OutputFormat::Json {
            batch.out.push('\n');
        }
    }

    /// What an output record or reject adds to the records read: one
    /// without `for`; none with it, where the documents are counted as
    /// they are read (a document gives any number of rows).
    fn reads_per_record(&self) -> u64 {
        u64::from(self.plan.iteration.is_none())
    }

    /// Adds a record's outcome to the batch.
    pub fn outcome(&self, outcome: Outcome, text: &str, pos: Position, batch: &mut Batch) {
        match outcome {
            Outcome::Mapped(record) => self.append(batch, text, pos, |out| {
                out.push_str(&record);
                Ok(())
            }),
            Outcome::Rejected { key, errors } => {
                batch.read += self.reads_per_record();
                batch.rejected += 1;
                if self.keep_rejects {
                    batch
                        .rejects
                        .push_str(&reject_line(text, &errors, pos, key.as_deref()));
                    batch.rejects.push('\n');
                }
            }
        }
    }
}

/// The lines of a chunk, without their `\n`; the last one may lack it.
fn lines(chunk: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = chunk;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, after) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = after;
        Some(line)
    })
}

/// Reads the next chunk of whole lines into `chunk` (cleared first);
/// returns the number of lines, 0 at the end of the input. A line is
/// never longer than the reader's limit, so neither is a chunk by more.
pub fn next_chunk(input: &mut LineReader<&mut dyn BufRead>, chunk: &mut Chunk) -> io::Result<u64> {
    chunk.text.clear();
    chunk.too_long.clear();
    chunk.max = input.max();
    let mut lines = 0;
    while chunk.text.len() < CHUNK_BYTES {
        match input.append_line(&mut chunk.text)? {
            None => break,
            Some(LineRead::Line) => {}
            Some(LineRead::TooLong { bytes }) => chunk.too_long.push((lines, bytes)),
        }
        chunk.text.push(b'\n');
        lines += 1;
    }
    Ok(lines)
}

/// The most threads `run --threads` accepts.
pub const MAX_THREADS: usize = 256;

/// Threads worth starting for `requested`: past a few per core they only
/// add memory (two chunks in flight each) and scheduling, so at most
/// `THREADS_PER_CORE` per core, and never more than [`MAX_THREADS`].
pub fn useful_threads(requested: usize) -> usize {
    const THREADS_PER_CORE: usize = 2;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    requested
        .min(cores.saturating_mul(THREADS_PER_CORE))
        .clamp(1, MAX_THREADS)
}

/// A mapping thread: chunks in, batches out, both in order.
struct Worker {
    chunks: mpsc::SyncSender<(Chunk, u64)>,
    batches: mpsc::Receiver<Batch>,
}

/// Maps NDJSON `input` on up to `threads` workers (see [`useful_threads`])
/// and hands each batch to `emit` in input order; returns the number of
/// workers that ran. A worker is started when a chunk is there for it, so
/// a small input starts as many as it has chunks. Chunk `i` goes to worker
/// `i mod workers` and its batch is taken back from that worker in the same
/// turn, so order needs no buffer; at most two chunks per worker are in
/// flight, so memory does not grow with the input. A worker that cannot be
/// started (the system's thread limit) leaves the pool at the workers it
/// has, or, with none, the chunks are mapped on this thread.
pub fn parallel(
    mapper: Mapper<'_>,
    threads: usize,
    input: &mut LineReader<&mut dyn BufRead>,
    emit: &mut dyn FnMut(Batch) -> io::Result<()>,
) -> io::Result<usize> {
    let wanted = useful_threads(threads);
    std::thread::scope(|scope| {
        let mut workers: Vec<Worker> = Vec::with_capacity(wanted);
        let mut pool_closed = false;
        let lost = || io::Error::other("a mapping thread stopped unexpectedly");
        let mut pending: VecDeque<usize> = VecDeque::new();
        let mut next_line = 1;
        let mut turn = 0usize;
        loop {
            let mut chunk = Chunk {
                text: Vec::with_capacity(CHUNK_BYTES + (CHUNK_BYTES >> 3)),
                ..Chunk::default()
            };
            let lines = next_chunk(input, &mut chunk)?;
            if lines == 0 {
                break;
            }
            if !pool_closed && workers.len() < wanted && turn == workers.len() {
                let (chunk_tx, chunk_rx) = mpsc::sync_channel::<(Chunk, u64)>(2);
                let (batch_tx, batch_rx) = mpsc::channel::<Batch>();
                let spawned = std::thread::Builder::new()
                    .name("tether-map".to_string())
                    // As large as the main thread's: mapping recurses as
                    // deeply on a worker as it does without `--threads`.
                    .stack_size(WORKER_STACK_BYTES)
                    .spawn_scoped(scope, move || {
                        for (chunk, first_line) in chunk_rx {
                            if batch_tx.send(mapper.ndjson(&chunk, first_line)).is_err() {
                                break;
                            }
                        }
                    });
                match spawned {
                    Ok(_) => workers.push(Worker {
                        chunks: chunk_tx,
                        batches: batch_rx,
                    }),
                    Err(_) => pool_closed = true,
                }
            }
            if workers.is_empty() {
                emit(mapper.ndjson(&chunk, next_line))?;
                next_line += lines;
                continue;
            }
            let w = turn % workers.len();
            turn += 1;
            workers[w]
                .chunks
                .send((chunk, next_line))
                .map_err(|_| lost())?;
            next_line += lines;
            pending.push_back(w);
            if pending.len() >= 2 * workers.len()
                && let Some(oldest) = pending.pop_front()
            {
                emit(workers[oldest].batches.recv().map_err(|_| lost())?)?;
            }
        }
        while let Some(oldest) = pending.pop_front() {
            emit(workers[oldest].batches.recv().map_err(|_| lost())?)?;
        }
        // Dropping the senders ends the workers.
        Ok(workers.len())
    })
}

/// The stack of a mapping thread: the main thread's usual 8 MiB (only
/// touched pages cost memory).
const WORKER_STACK_BYTES: usize = 8 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile_source;
    use crate::exec::lines::{DEFAULT_MAX_RECORD_BYTES, LineReader};
    use crate::syntax::Direction;

    #[test]
    fn useful_threads_are_bounded_by_cores_and_the_maximum() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(useful_threads(0), 1);
        assert_eq!(useful_threads(1), 1);
        assert!(useful_threads(20_000) <= (2 * cores).min(MAX_THREADS));
        assert!(useful_threads(usize::MAX) >= 1);
    }

    /// Runs `input` with `threads` requested: the workers started and the
    /// output.
    fn run(input: &str, threads: usize) -> (usize, String) {
        let c = compile_source(
            "t.tether",
            "schema a { record R { x: string } }\nmapping m: a.R -> a.R { x -> x : upper }",
            None,
        );
        let program = c.program.as_ref().expect("compiles");
        let plan = crate::plan::lower(program, "m", Direction::Forward).expect("plan");
        let mapper = Mapper {
            plan: &plan,
            format: OutputFormat::Ndjson,
            base: None,
            keep_rejects: true,
        };
        let mut bytes = input.as_bytes();
        let read: &mut dyn BufRead = &mut bytes;
        let mut lines = LineReader::new(read, DEFAULT_MAX_RECORD_BYTES);
        let mut out = String::new();
        let workers = parallel(mapper, threads, &mut lines, &mut |b| {
            out.push_str(&b.out);
            Ok(())
        })
        .expect("runs");
        (workers, out)
    }

    #[test]
    fn a_small_input_starts_one_worker_whatever_is_asked() {
        let (workers, out) = run("{\"x\":\"a\"}\n{\"x\":\"b\"}\n", 20_000);
        assert_eq!(workers, 1);
        assert_eq!(out, "{\"x\":\"A\"}\n{\"x\":\"B\"}\n");
    }

    #[test]
    fn workers_grow_with_chunks_up_to_the_useful_number_and_keep_order() {
        let line = format!("{{\"x\":\"{}\"}}\n", "a".repeat(1000));
        let input: String = (0..5 * CHUNK_BYTES / line.len())
            .map(|i| line.replace('a', &format!("{}", i % 10)))
            .collect();
        let (workers, out) = run(&input, 256);
        assert!((2..=useful_threads(256)).contains(&workers), "{workers}");
        let (one, sequential) = run(&input, 1);
        assert_eq!(one, 1);
        assert!(out == sequential, "threads changed the output");
    }
}
