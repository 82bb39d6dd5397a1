//! What the checker asks a transform beyond its signature
//! (docs/design/11-checker-and-stdlib.md). A signature says the kinds a
//! transform takes and gives; the hooks say the rest of its meaning at
//! check time: how present its output is, what a predicate proves about its
//! value, which currency its money is in, and whether the way back of a
//! `<->` rule can undo it. They live with the transform, so the checker
//! never names one.
//!
//! The types here are the stdlib's own (not the checker's, which sits
//! above it): presence as two booleans, arguments as written.

use crate::base::Value;

/// Whether a value may be missing, and whether it may be null.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Presence {
    pub missing: bool,
    pub nullable: bool,
}

impl Presence {
    /// Always there, never null.
    pub const REQUIRED: Presence = Presence {
        missing: false,
        nullable: false,
    };

    /// Whether the value may be absent (null or missing).
    pub fn absent(self) -> bool {
        self.missing || self.nullable
    }

    /// The presence of `step` reached through a parent of presence `self`.
    /// A parent that may be missing or null leaves the step missing; only
    /// the last step says whether the value may be null.
    pub fn then(self, step: Presence) -> Presence {
        Presence {
            missing: self.absent() || step.missing,
            nullable: step.nullable,
        }
    }
}

/// What the checker knows of one call when it asks the transform's type
/// rule.
pub struct CallTypes<'c> {
    /// The piped value's presence; a tuple of sources counts as present.
    pub input: Presence,
    /// Each value of a tuple input (`(a, b) -> x : coalesce`); `None` when
    /// one value is piped.
    pub tuple: Option<&'c [Presence]>,
    /// The output's presence as the signature alone gives it: absent in,
    /// absent out, for a transform that handles null (`T? -> T?`); passed
    /// through untouched for one that does not.
    pub output: Presence,
    /// The string values the piped value can take, when known (a table's,
    /// a literal's); `None` for a tuple.
    pub values: Option<&'c [String]>,
    /// The constant arguments, defaults filled in; `None` for a field.
    pub consts: &'c [Option<Value<'static>>],
}

/// A type rule's answer: the output's presence, and the string values it
/// can take when they are known.
#[derive(Clone, Debug, PartialEq)]
pub struct Typed {
    pub presence: Presence,
    pub values: Option<Vec<String>>,
}

/// The output of a call beyond its kind, for a transform whose signature
/// does not say it all (`coalesce`: null only when every source may be).
pub type TypeRuleFn = fn(&CallTypes<'_>) -> Typed;

/// What a predicate proves about the value it tested, where it is false:
/// past `if is_null { ... } else { ... }` the value is present.
pub type NarrowFn = fn(Presence) -> Presence;

/// An argument as written in a mapping, for the hooks that run before
/// arguments are typed (the way back of a `<->` rule is derived from the
/// text).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ArgText<'a> {
    /// A field path: its value is known only per record.
    Field,
    /// A number literal, as written.
    Number(&'a str),
    /// A string literal's contents.
    String(&'a str),
    /// Any other literal (`true`, `null`, an object).
    Other,
}

/// Whether the declared inverse undoes this call exactly, given its
/// arguments; `Err` says why not, in words for E0222.
pub type InvertibleFn = fn(&[ArgText<'_>]) -> Result<(), String>;

/// Which currency the money a transform gives is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CurrencyRule {
    /// The input's: arithmetic keeps its currency, and a money argument in
    /// another known currency is an error (E0219).
    Input,
    /// The currency argument at this position (`money("EUR")`,
    /// `convert_currency("USD", rate)`), known when it is a constant.
    Param(usize),
    /// The currency of an array's elements, for an aggregate (`sum`,
    /// `min`): the constant currency argument at `param` when one is given
    /// (`sum("EUR")`), else the elements' own when the checker knows it is
    /// one; money whose currency may differ per element is E0262.
    Elements { param: Option<usize> },
}

/// The arguments the inverse of a call is given on the way back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InverseArgs {
    /// None: the inverse needs none, or its defaults say how to undo the
    /// call (`to_zone("Asia/Dubai")` is undone by `to_utc`). An inverse
    /// that requires arguments cannot undo it (E0222).
    None,
    /// The call's own arguments (`prefix("x")` ↔ `strip_prefix("x")`).
    Same,
}

/// A transform's check-time meaning beyond its signature.
pub struct Hooks {
    pub type_rule: Option<TypeRuleFn>,
    /// For a predicate: what its being false proves.
    pub narrows: Option<NarrowFn>,
    /// For a transform that gives money.
    pub currency: CurrencyRule,
    /// For a transform with an inverse that undoes it only for some
    /// arguments (`mul(0)` does not).
    pub invertible: Option<InvertibleFn>,
    /// What the inverse is given on the way back.
    pub inverse_args: InverseArgs,
}

impl Hooks {
    /// A transform its signature describes completely.
    pub const NONE: Hooks = Hooks {
        type_rule: None,
        narrows: None,
        currency: CurrencyRule::Input,
        invertible: None,
        inverse_args: InverseArgs::None,
    };
}
