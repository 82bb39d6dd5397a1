//! Phase 5: running a plan over records.

mod value;

pub use value::{Value, minify_json, write_json_str};
