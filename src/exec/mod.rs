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
mod value;
pub mod xml;
mod xml_write;

pub use chunk::MAX_THREADS;
pub use eval::{Encoding, Outcome, RecordError, map_record};
pub use merge::Bases;
pub use read::duplicate_member;
pub use rows::map_document;
pub use run::{InputFormat, OutputFormat, Runner, Soap, Summary};
pub use value::{Money, Value, minify_json, write_json_seq, write_json_str};
