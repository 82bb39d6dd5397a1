//! Phase 6: the sync runtime. Keeps two providers' records consistent
//! through a mapping's plans: a three-way merge per field with the
//! mapping's conflict rules, over a durable state store, with idempotent
//! writes, deduplicated and ordered events, and dead letters. See
//! docs/design/06-sync-runtime.md.

/// Enums stored as text: each value's name in the table, and the
/// conversions to and from SQL, written once (`$method` names the
/// method that gives the name). A stored name no variant
/// has is a conversion error naming it, never a default.
macro_rules! stored_as_text {
    ($ty:ident, $method:ident { $($variant:path => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub fn $method(self) -> &'static str {
                match self { $($variant => $name),+ }
            }
        }

        stored_as_text!(@sql $ty, $method { $($variant => $name),+ });
    };
    // Only the SQL conversions, for a type that names itself elsewhere
    // (`base::Side`).
    (@sql $ty:ident, $method:ident { $($variant:path => $name:literal),+ $(,)? }) => {
        impl rusqlite::types::ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.$method().into())
            }
        }

        impl rusqlite::types::FromSql for $ty {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                match v.as_str()? {
                    $($name => Ok($variant),)+
                    other => Err(rusqlite::types::FromSqlError::Other(
                        format!("`{other}` is not a {} tether stores", stringify!($ty)).into(),
                    )),
                }
            }
        }
    };
}

pub mod alerts;
pub mod console;
pub mod engine;
pub mod filedrop;
pub mod json;
pub mod merge;
pub mod metrics;
pub mod provider;
pub mod receiver;
pub mod refetch;
pub mod rest;
pub mod retention;
pub(crate) mod serve;
pub mod spec;
pub mod status;
pub mod store;
pub mod summary;
pub mod webhook;
pub mod xml;

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
