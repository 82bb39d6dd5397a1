//! The two sides of a mapping.

use serde::{Deserialize, Serialize};

/// One of the two providers (or schemas) of a mapping: `Left` is the one
/// written first in `mapping m: a.A -> b.B`. Not a `Direction`: a direction
/// is which way a plan runs; a side is where a record lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Left,
    Right,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }

    /// The side's name, as `prefer left` writes it and the store keeps it.
    pub fn name(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
