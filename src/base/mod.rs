//! Layer 0: the small types every phase shares, knowing nothing of
//! tether's phases (ARCHITECTURE.md; `tests/layers.rs` keeps it so).
//! They lived in the phase that first needed them, which made later
//! phases reach up for them and the phases form cycles
//! (docs/design/11-checker-and-stdlib.md, "Core types at the bottom").

pub mod currency;
pub mod json;
pub mod path;
pub mod scalar;
pub mod side;
pub mod span;
pub mod value;

pub use currency::{Currency, CurrencyInfo};
pub use json::{minify_json, write_json_seq, write_json_str};
pub use path::{FieldPath, Seg};
pub use scalar::Scalar;
pub use side::Side;
pub use span::Span;
pub use value::{Money, Value};
