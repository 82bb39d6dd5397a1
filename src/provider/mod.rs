//! REST providers as data: what a provider declaration says, checked and
//! ready to run (docs/design/10-rest-providers.md, "Data types").
//!
//! `check.rs` turns a `provider` item into a [`spec::ProviderSpec`]
//! against the schemas, with E0240–E0253. `spec.rs` is plain, serialisable data (no I/O, no secret values: only
//! the names of the variables that hold them); `template.rs` expands the
//! request templates a read or a write is declared with.

pub mod check;
pub mod spec;
pub mod template;
