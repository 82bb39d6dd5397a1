//! Phase 6: the sync runtime. Keeps two providers' records consistent
//! through a mapping's plans: a three-way merge per field with the
//! mapping's conflict rules, over a durable state store, with idempotent
//! writes, deduplicated and ordered events, and dead letters. See
//! docs/design/06-sync-runtime.md.

pub mod engine;
pub mod filedrop;
pub mod json;
pub mod merge;
pub mod provider;
pub mod spec;
pub mod store;
pub mod summary;
pub mod xml;

pub use spec::{MergeField, Path, Rule, Side, SyncSpec};

/// Crash injection for the crash-safety tests: when `TETHER_FAILPOINT`
/// names this point, the process aborts here, as a `kill -9` would.
pub fn failpoint(name: &str) {
    static ARMED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let armed = ARMED.get_or_init(|| std::env::var("TETHER_FAILPOINT").ok());
    if armed.as_deref() == Some(name) {
        eprintln!("tether: fail point `{name}` reached; aborting");
        std::process::abort();
    }
}
