//! tether: a declarative data-mapping compiler and sync runtime.
//!
//! The phases, one module each (see ARCHITECTURE.md):
//! [`syntax`] → [`schema`] → [`check`] → [`plan`] → [`exec`] → [`sync`]; [`compile`]
//! drives the first three, [`cli`] is the command line. Under them all,
//! [`base`] holds the types every phase shares; each phase uses only the
//! phases below it (the order is in ARCHITECTURE.md and `tests/layers.rs`).

pub mod base;
pub mod check;
pub mod cli;
pub mod compile;
pub mod diag;
pub mod exec;
pub mod http;
pub mod laws;
pub mod plan;
pub mod provider;
pub mod safe_fs;
pub mod schema;
pub mod stdlib;
pub mod sync;
pub mod syntax;
pub mod testing;
pub mod webhook;
