//! tether: a declarative data-mapping compiler and sync runtime.
//!
//! The phases, one module each (see ARCHITECTURE.md):
//! [`syntax`] → [`schema`] → [`check`] → [`plan`] → [`exec`], driven by [`cli`].

pub mod check;
pub mod diag;
pub mod exec;
pub mod plan;
pub mod schema;
pub mod stdlib;
pub mod syntax;
