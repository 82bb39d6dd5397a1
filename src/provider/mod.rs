//! REST providers as data: what a provider declaration says, checked and
//! ready to run (docs/design/10-rest-providers.md, "Data types").
//!
//! `spec.rs` is plain, serialisable data (no I/O, no secret values: only
//! the names of the variables that hold them); `template.rs` expands the
//! request templates a read or a write is declared with. The language's
//! `provider` item and its checker (step 1 of the design's build order)
//! produce these types; until then they are built in Rust (tests).

pub mod spec;
pub mod template;
