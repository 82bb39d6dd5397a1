//! Phase 5: running a plan over records.
//!
//! `read` fills a record's input slots from its JSON text (projection: only
//! what the plan reads), `eval` runs the rules and writes the output record,
//! `run` drives batches and the rejects output.

mod chunk;
mod eval;
pub mod lines;
mod merge;
mod read;
mod reject;
mod rows;
mod run;
pub mod xml;
mod xml_write;

pub use chunk::MAX_THREADS;
pub use eval::{Encoding, Outcome, RecordError, map_record};
pub use merge::Bases;
pub use rows::map_document;
pub use run::{InputFormat, OutputFormat, Runner, Soap, Summary};

/// The first member of the JSON value `text` that appears twice in its
/// object, as `run` rejects the record (E1002 at its path, with the second
/// value), for readers that keep a whole record (`sync`).
pub fn duplicate_member(text: &str) -> Option<RecordError> {
    read::duplicate_member(text).map(RecordError::from_read)
}

/// The reject `run` gives a record that is not a JSON object (`text`: its
/// JSON text): E1002 at the record itself.
pub fn not_an_object(text: &str) -> RecordError {
    RecordError::from_read(read::not_an_object(text))
}
