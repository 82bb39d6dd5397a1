//! The standard library of transforms.
//!
//! Each transform is one [`TransformDef`]: its signatures (in the small type
//! language of [`sig`]), whether it can fail, its documentation, examples that
//! run as tests, its inverse (for `<->` rules), the function that runs it,
//! and its check-time hooks ([`hooks`]): the checker asks a transform what it
//! means and never matches on its name.
//! `docs/stdlib.md` is generated from these definitions (`tether stdlib
//! --markdown`; a test fails when the file is stale).

mod aggregate;
mod convert;
pub mod datefmt;
pub mod hooks;
pub mod iso4217;

/// Strict number syntax, shared with literal checking.
pub mod convert_text {
    pub use super::convert::{parse_decimal_text as decimal, parse_int_text as int};
}
mod logic;

pub use logic::compare;
mod money;
mod nulls;
mod numbers;
pub mod sig;
mod strings;
mod temporal;
mod zones;

use crate::base::Value;
use crate::diag::{Code, Severity};
pub use hooks::Hooks;
use sig::Signature;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Why a transform failed on a value. The executor adds the rule location,
/// path and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Fail {
    pub code: Code,
    pub message: String,
}

impl Fail {
    pub fn conversion(message: impl Into<String>) -> Fail {
        Fail {
            code: Code::E1003,
            message: message.into(),
        }
    }
    pub fn arithmetic(message: impl Into<String>) -> Fail {
        Fail {
            code: Code::E1006,
            message: message.into(),
        }
    }
    /// A value of a type the checker should have excluded.
    pub fn wrong_type(expected: &str, got: &Value<'_>) -> Fail {
        Fail {
            code: Code::E1002,
            message: format!("expected a {expected}, found a {}", got.kind_name()),
        }
    }
}

/// The most arguments a transform takes (besides the piped value). The
/// evaluator gathers a call's arguments in an array of this size, so no
/// call allocates; a signature with more fails the stdlib's tests.
pub const MAX_ARGS: usize = 4;

/// The evaluated arguments of one call: constants from the plan, or values
/// of the current record's slots. Borrowed, never copied per record.
pub struct Args<'x, 'a> {
    values: &'x [&'x Value<'a>],
    prepared: &'x Prepared,
}

/// A call's constant arguments in their ready form, made when the plan is
/// built ([`TransformDef::prepare`]). `None` when the arguments come from
/// fields: the transform then reads them from the values, per record.
#[derive(Debug, Default)]
pub enum Prepared {
    #[default]
    None,
    Format(datefmt::Format),
    Zone(chrono_tz::Tz),
    Currency(crate::base::Currency),
}

/// Prepares a call's constants (`None` for an argument from a field).
pub type PrepareFn = fn(&[Option<&Value<'static>>]) -> Prepared;

impl<'x, 'a> Args<'x, 'a> {
    pub fn new(values: &'x [&'x Value<'a>]) -> Args<'x, 'a> {
        Args {
            values,
            prepared: &Prepared::None,
        }
    }
    /// Arguments whose constants were prepared with the plan.
    pub fn with_prepared(values: &'x [&'x Value<'a>], prepared: &'x Prepared) -> Args<'x, 'a> {
        Args { values, prepared }
    }
    pub fn prepared(&self) -> &'x Prepared {
        self.prepared
    }
    pub fn get(&self, i: usize) -> &'x Value<'a> {
        self.values.get(i).copied().unwrap_or(&Value::Missing)
    }
    pub fn str(&self, i: usize) -> Result<&'x str, Fail> {
        match self.get(i) {
            Value::Str(s) => Ok(s),
            other => Err(Fail::wrong_type("string", other)),
        }
    }
    pub fn int(&self, i: usize) -> Result<i64, Fail> {
        match self.get(i) {
            Value::Int(n) => Ok(*n),
            other => Err(Fail::wrong_type("int", other)),
        }
    }
    pub fn bool(&self, i: usize) -> Result<bool, Fail> {
        match self.get(i) {
            Value::Bool(b) => Ok(*b),
            other => Err(Fail::wrong_type("bool", other)),
        }
    }
}

pub type ApplyFn = for<'x, 'a> fn(Value<'a>, &Args<'x, 'a>) -> Result<Value<'a>, Fail>;

/// A compile-time check of constant arguments (a rounding mode name, a
/// non-negative width, a zone, a date pattern). `None` for an argument that
/// is a field.
pub type CheckArgsFn = fn(&[Option<&Value<'static>>]) -> Result<(), ArgError>;

/// Why a constant argument is refused at check time, or (as a warning)
/// why it is accepted but probably not what was meant.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgError {
    pub index: usize,
    pub code: Code,
    /// `Warning` for an argument that is valid but suspicious (W0009): the
    /// checker reports it and goes on.
    pub severity: Severity,
    pub message: String,
    /// Facts that explain the message: "`mm` is minutes".
    pub notes: Vec<String>,
    /// A suggestion: "did you mean `Asia/Dubai`?".
    pub help: Option<String>,
}

impl ArgError {
    /// A wrong argument (E0202).
    pub fn new(index: usize, message: impl Into<String>) -> ArgError {
        ArgError {
            index,
            code: Code::E0202,
            severity: Severity::Error,
            message: message.into(),
            notes: Vec::new(),
            help: None,
        }
    }
    /// A valid argument that is probably a mistake (W0009).
    pub fn suspicious(index: usize, message: impl Into<String>) -> ArgError {
        ArgError {
            severity: Severity::Warning,
            ..ArgError::new(index, message).code(Code::W0009)
        }
    }
    pub fn code(mut self, code: Code) -> ArgError {
        self.code = code;
        self
    }
    pub fn note(mut self, note: impl Into<String>) -> ArgError {
        self.notes.push(note.into());
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> ArgError {
        self.help = Some(help.into());
        self
    }
    /// The help, when there is one (a suggestion that may not exist).
    pub fn help_opt(mut self, help: Option<String>) -> ArgError {
        if help.is_some() {
            self.help = help;
        }
        self
    }
    /// Suggests the candidate nearest to `wrong`, if one is close.
    pub fn suggest<'c>(
        mut self,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'c str>,
    ) -> ArgError {
        self.help =
            crate::diag::did_you_mean(wrong, candidates).map(|b| format!("did you mean \"{b}\"?"));
        self
    }
}

/// The constant string argument `i`, if it is one.
pub(crate) fn const_str<'v>(args: &[Option<&'v Value<'static>>], i: usize) -> Option<&'v str> {
    match args.get(i).copied().flatten() {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Strings,
    Nulls,
    Conversions,
    Numbers,
    Dates,
    Money,
    Logic,
    Aggregates,
}

impl Category {
    pub fn title(self) -> &'static str {
        match self {
            Category::Strings => "Strings",
            Category::Nulls => "Null and missing values",
            Category::Conversions => "Conversions",
            Category::Numbers => "Numbers",
            Category::Dates => "Dates, times and time zones",
            Category::Money => "Money and currencies",
            Category::Logic => "Comparisons and logic",
            Category::Aggregates => "Aggregates over arrays",
        }
    }
}

pub struct Example {
    /// The step as written in a pipeline: `pad_left(5, "0")`.
    pub call: &'static str,
    /// The input value as JSON (`null`, `"x"`, `1.50`, `["a", null]`;
    /// `missing` for an absent value).
    pub input: &'static str,
    /// The output as JSON, or `error E1003` when the step fails.
    pub output: &'static str,
    /// The schema type of the input when JSON alone does not say it
    /// (`datetime`, `money`); otherwise inferred from the JSON.
    pub input_type: Option<&'static str>,
}

/// An example, as the family tables write them.
pub(crate) const fn ex(call: &'static str, input: &'static str, output: &'static str) -> Example {
    Example {
        call,
        input,
        output,
        input_type: None,
    }
}

/// An example whose input has a schema type JSON does not show.
pub(crate) const fn ext(
    call: &'static str,
    input_type: &'static str,
    input: &'static str,
    output: &'static str,
) -> Example {
    Example {
        call,
        input,
        output,
        input_type: Some(input_type),
    }
}

pub struct TransformDef {
    pub name: &'static str,
    pub category: Category,
    /// Overloads, tried in order.
    pub signatures: &'static [&'static str],
    pub fallible: bool,
    pub doc: &'static str,
    pub examples: &'static [Example],
    /// The transform that undoes this one, when there is one. The pair
    /// also works the other way for a transform that declares no inverse:
    /// `parse_int` names `to_string`, so `to_string` on an int is undone by
    /// `parse_int` (check/inverse.rs chooses by the type the call takes).
    pub inverse: Option<&'static str>,
    pub apply: ApplyFn,
    pub check_args: Option<CheckArgsFn>,
    /// Turns the call's constant arguments into their ready form once per
    /// plan (a parsed date pattern, a zone, a currency), so the transform
    /// does not parse them per record.
    pub prepare: Option<PrepareFn>,
    /// What the checker asks beyond the signature: the output's presence,
    /// what a predicate proves, the currency of money, whether the inverse
    /// undoes a call ([`hooks`]).
    pub hooks: Hooks,
}

impl TransformDef {
    pub fn signatures(&self) -> &'static [Signature] {
        SIGNATURES.get(self.name).map(Vec::as_slice).unwrap_or(&[])
    }
}

fn all_defs() -> Vec<&'static TransformDef> {
    let mut v: Vec<&'static TransformDef> = Vec::new();
    for family in [
        strings::DEFS,
        nulls::DEFS,
        convert::DEFS,
        numbers::DEFS,
        temporal::DEFS,
        money::DEFS,
        logic::DEFS,
        aggregate::DEFS,
    ] {
        v.extend(family.iter());
    }
    v
}

static DEFS: LazyLock<Vec<&'static TransformDef>> = LazyLock::new(all_defs);

static BY_NAME: LazyLock<HashMap<&'static str, usize>> =
    LazyLock::new(|| DEFS.iter().enumerate().map(|(i, d)| (d.name, i)).collect());

static SIGNATURES: LazyLock<HashMap<&'static str, Vec<Signature>>> = LazyLock::new(|| {
    DEFS.iter()
        .map(|d| {
            let sigs = d
                .signatures
                .iter()
                .filter_map(|s| sig::parse(s).ok().map(|(_, sig)| sig))
                .collect();
            (d.name, sigs)
        })
        .collect()
});

/// Every transform, in documentation order.
pub fn all() -> &'static [&'static TransformDef] {
    &DEFS
}

/// Index of a transform by name (stable within one build).
pub fn index_of(name: &str) -> Option<usize> {
    BY_NAME.get(name).copied()
}

/// A transform of a plan. Plan files name it; loading looks the name up,
/// so the table's order is not part of the format.
#[derive(Clone, Copy)]
pub struct Transform(pub &'static TransformDef);

impl Transform {
    pub fn def(self) -> &'static TransformDef {
        self.0
    }
}

impl serde::Serialize for Transform {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name)
    }
}

impl<'de> serde::Deserialize<'de> for Transform {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Transform, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        lookup(&name).map(Transform).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "the plan uses transform `{name}`, which this tether does not have"
            ))
        })
    }
}

pub fn by_index(i: usize) -> Option<&'static TransformDef> {
    DEFS.get(i).copied()
}

pub fn lookup(name: &str) -> Option<&'static TransformDef> {
    index_of(name).and_then(by_index)
}

/// `docs/stdlib.md`, generated from the definitions.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Standard library\n\n\
         Generated from `src/stdlib/` by `tether stdlib --markdown`; do not edit.\n\n\
         Every transform is a pipeline step: `source -> Target : step | step`.\n\
         A signature `name(params): input -> output` reads: the step takes `input`\n\
         and gives `output`. `T` is the input's own type. An input type ending in `?`\n\
         means the transform handles null and missing values itself; every other\n\
         transform is skipped for them, and the null or missing value passes through.\n\
         `(X...)` is a tuple of several sources: `(first, last) -> Name : join(\" \")`.\n\
         Arguments are literals or field paths of the same record.\n\n",
    );
    let mut cats: Vec<Category> = DEFS.iter().map(|d| d.category).collect();
    cats.sort();
    cats.dedup();
    for cat in cats {
        out.push_str(&format!("## {}\n\n", cat.title()));
        for d in DEFS.iter().filter(|d| d.category == cat) {
            out.push_str(&format!("### `{}`\n\n", d.name));
            for s in d.signatures {
                out.push_str(&format!("    {s}\n"));
            }
            out.push('\n');
            out.push_str(d.doc);
            out.push_str("\n\n");
            out.push_str(if d.fallible {
                "Can fail: the record is rejected with the value and the reason.\n\n"
            } else {
                "Never fails.\n\n"
            });
            if let Some(inv) = d.inverse {
                out.push_str(&format!("Inverse: `{inv}`.\n\n"));
            }
            if !d.examples.is_empty() {
                out.push_str("| step | input | output |\n|---|---|---|\n");
                for e in d.examples {
                    out.push_str(&format!(
                        "| `{}` | `{}` | `{}` |\n",
                        e.call.replace('|', "\\|"),
                        e.input,
                        e.output
                    ));
                }
                out.push('\n');
            }
        }
    }
    out
}

// ------------------------------------------------------------------ helpers

pub(crate) fn as_str<'v, 'a>(v: &'v Value<'a>) -> Result<&'v str, Fail> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(Fail::wrong_type("string", other)),
    }
}

/// Applies `f` to the string, borrowing the result from the input when it
/// is a sub-slice (trim), owning it otherwise.
pub(crate) fn map_str<'a>(v: Value<'a>, f: impl FnOnce(&str) -> String) -> Result<Value<'a>, Fail> {
    match v {
        Value::Str(s) => Ok(Value::Str(f(&s).into())),
        other => Err(Fail::wrong_type("string", &other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::Scalar;

    #[test]
    fn every_signature_parses_and_names_its_transform() {
        for d in all() {
            assert!(!d.signatures.is_empty(), "{} has no signature", d.name);
            for s in d.signatures {
                let (name, sig) = sig::parse(s).unwrap_or_else(|e| panic!("{}: {e}", d.name));
                assert_eq!(name, d.name, "signature `{s}` is under `{}`", d.name);
                assert!(
                    sig.params.len() <= MAX_ARGS,
                    "`{s}` takes {} arguments; the evaluator passes at most MAX_ARGS = {MAX_ARGS}",
                    sig.params.len()
                );
            }
            // Lookup keeps every signature: none is dropped silently.
            assert_eq!(
                d.signatures().len(),
                d.signatures.len(),
                "{}: a signature is lost at lookup",
                d.name
            );
            assert!(!d.doc.is_empty(), "{} has no documentation", d.name);
            assert!(!d.examples.is_empty(), "{} has no example", d.name);
        }
    }

    /// The hooks agree with the signatures: a currency rule names a
    /// `currency` parameter of every overload of a transform that gives
    /// money; an inverse given the call's arguments takes as many; only
    /// predicates narrow.
    #[test]
    fn hooks_fit_their_signatures() {
        for d in all() {
            for s in d.signatures() {
                if let hooks::CurrencyRule::Param(i) = d.hooks.currency {
                    assert_eq!(
                        s.output,
                        sig::SigTy::Scalar(Scalar::Money),
                        "`{s}` gives no money"
                    );
                    assert_eq!(
                        s.params.get(i).map(|p| &p.ty),
                        Some(&sig::SigTy::Scalar(Scalar::Currency)),
                        "`{s}`: parameter {i} is not its currency"
                    );
                }
                // An aggregate's stated currency: on its money overloads
                // only, and there always the declared parameter.
                if let hooks::CurrencyRule::Elements { param: Some(i) } = d.hooks.currency
                    && s.output == sig::SigTy::Scalar(Scalar::Money)
                {
                    assert_eq!(
                        s.params.get(i).map(|p| &p.ty),
                        Some(&sig::SigTy::Scalar(Scalar::Currency)),
                        "`{s}`: parameter {i} is not its currency"
                    );
                }
                if d.hooks.inverse_args == hooks::InverseArgs::Same {
                    // The way back passes the call's arguments on: the
                    // inverse must take as many, and pass them back too.
                    let inv = d.inverse.and_then(lookup);
                    let inv_sig = inv.and_then(|i| i.signatures().first());
                    assert_eq!(
                        inv_sig.map(|i| i.params.len()),
                        Some(s.params.len()),
                        "`{s}`: its inverse does not take its arguments"
                    );
                    assert!(
                        inv.is_some_and(|i| i.hooks.inverse_args == hooks::InverseArgs::Same),
                        "{}: its inverse does not give its arguments back",
                        d.name
                    );
                }
                if d.hooks.narrows.is_some() {
                    assert_eq!(
                        s.output,
                        sig::SigTy::Scalar(Scalar::Bool),
                        "`{s}` narrows but is no predicate"
                    );
                }
            }
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = all().iter().map(|d| d.name).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn declared_inverses_exist() {
        for d in all() {
            if let Some(inv) = d.inverse {
                assert!(
                    lookup(inv).is_some(),
                    "{}: inverse {inv} does not exist",
                    d.name
                );
            }
        }
    }
}
