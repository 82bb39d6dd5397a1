//! Flow types: what the checker knows about a value at each pipeline step:
//! its kind, whether it may be null, whether it may be missing, and (for
//! strings from tables and literals) the exact set of values it can take.
//!
//! Why one file of about 900 lines: the type algebra of the checker in one
//! place: flow types, assignability, joins, literals and matching against
//! signatures; the checker's other files only call it.

use super::ScopeSide;
use crate::base::{Scalar, Value};
use crate::schema::{Kind, Registry, Type};
use crate::stdlib::convert_text;
use crate::stdlib::hooks::{CallTypes, Hooks, Typed};
use crate::stdlib::sig::{SigInput, SigParam, SigTy, Signature};
use crate::syntax::{Literal, LiteralKind};

#[derive(Clone, Debug, PartialEq)]
pub struct Ty {
    pub kind: Kind,
    pub nullable: bool,
    pub missing: bool,
    /// The only values a string can have here, when known.
    pub values: Option<Vec<String>>,
}

impl Ty {
    pub fn of_literal(l: &Literal) -> Ty {
        let (kind, nullable, values) = match &l.kind {
            LiteralKind::String(s) => (Kind::Scalar(Scalar::String), false, Some(vec![s.clone()])),
            LiteralKind::Number(n) if is_integer_text(n) => {
                (Kind::Scalar(Scalar::Int), false, None)
            }
            LiteralKind::Number(_) => (Kind::Scalar(Scalar::Decimal), false, None),
            LiteralKind::Bool(_) => (Kind::Scalar(Scalar::Bool), false, None),
            LiteralKind::Null => (Kind::Any, true, None),
            LiteralKind::Object(_) | LiteralKind::Array(_) => (Kind::Any, false, None),
        };
        Ty {
            kind,
            nullable,
            missing: false,
            values,
        }
    }

    pub fn presence(&self) -> Presence {
        Presence {
            missing: self.missing,
            nullable: self.nullable,
        }
    }

    /// The same type with another presence.
    pub fn with_presence(self, p: Presence) -> Ty {
        Ty {
            missing: p.missing,
            nullable: p.nullable,
            ..self
        }
    }

    pub fn as_type(&self) -> Type {
        Type {
            kind: self.kind.clone(),
            nullable: self.nullable,
        }
    }

    pub fn display(&self, reg: &Registry) -> String {
        let mut s = reg.display(&self.as_type());
        if self.missing {
            s.push_str(" (may be missing)");
        }
        s
    }
}

#[derive(Clone, Debug)]
pub enum Flow {
    One(Ty),
    /// Several sources: `(a, b) -> x`.
    Tuple(Vec<Ty>),
}

impl Flow {
    pub fn display(&self, reg: &Registry) -> String {
        match self {
            Flow::One(t) => t.display(reg),
            Flow::Tuple(ts) => format!(
                "({})",
                ts.iter()
                    .map(|t| reg.display(&t.as_type()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

pub fn is_integer_text(n: &str) -> bool {
    !n.contains(['.', 'e', 'E'])
}

/// The value of a literal for a place of kind `expected`.
pub fn literal_value(
    reg: &Registry,
    l: &Literal,
    expected: &Kind,
) -> Result<Value<'static>, String> {
    match (&l.kind, expected) {
        (LiteralKind::Null, _) => Ok(Value::Null),
        (LiteralKind::String(s), Kind::Enum(e)) => {
            let def = reg.enum_def(*e);
            if def.values.contains(s) {
                Ok(Value::str(s.clone()))
            } else {
                let hint = crate::diag::did_you_mean(s, def.values.iter().map(String::as_str))
                    .map(|b| format!("; did you mean \"{b}\"?"))
                    .unwrap_or_default();
                Err(format!("\"{s}\" is not a value of `{}`{hint}", def.name))
            }
        }
        (LiteralKind::Number(n), Kind::IntEnum(e)) => {
            let def = reg.enum_def(*e);
            let v = convert_text::int(n).map_err(|f| f.message)?;
            if def.values.contains(&v.to_string()) {
                Ok(Value::Int(v))
            } else {
                Err(format!("{n} is not a value of `{}`", def.name))
            }
        }
        (LiteralKind::String(s), Kind::Scalar(Scalar::String | Scalar::Currency) | Kind::Any) => {
            Ok(Value::str(s.clone()))
        }
        (LiteralKind::Number(n), Kind::Scalar(Scalar::Int)) => {
            convert_text::int(n).map(Value::Int).map_err(|f| f.message)
        }
        (LiteralKind::Number(n), Kind::Scalar(Scalar::Decimal)) => convert_text::decimal(n)
            .map(Value::Decimal)
            .map_err(|f| f.message),
        (LiteralKind::Number(n), Kind::Scalar(Scalar::Float)) => n
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|e| e.to_string()),
        (LiteralKind::Number(n), Kind::Any) => {
            if is_integer_text(n) {
                convert_text::int(n).map(Value::Int).map_err(|f| f.message)
            } else {
                convert_text::decimal(n)
                    .map(Value::Decimal)
                    .map_err(|f| f.message)
            }
        }
        (LiteralKind::Bool(b), Kind::Scalar(Scalar::Bool) | Kind::Any) => Ok(Value::Bool(*b)),
        (
            LiteralKind::Object(_) | LiteralKind::Array(_),
            Kind::Any | Kind::Map(_) | Kind::Array(_) | Kind::Record(_),
        ) => Ok(Value::Raw(l.to_json().into())),
        (_, expected) => Err(format!(
            "{} is not a `{}`",
            l.display(),
            reg.display_kind(expected)
        )),
    }
}

pub enum Assign {
    Yes,
    No,
    /// A string into an enum: allowed only when its values are known and
    /// inside the enum; these are the ones outside.
    EnumValuesOutside(Vec<String>),
    /// Allowed, with a check of the value at run time: an `any` value (at
    /// the top or inside arrays and maps) where the target declares a type,
    /// so the checker cannot prove the value has it.
    RuntimeCheck,
    /// The kinds fit, but elements of the array (or values of the map) may
    /// be null where the target's may not: a gathered `a[].b` whose `b`
    /// may be missing, or a `[T?]` into a `[T]`.
    NullElements,
}

/// Whether a value of flow type `from` may be written where `to` is declared.
/// Widening that loses nothing (int → decimal) is allowed; everything else
/// needs a conversion written in the mapping.
pub fn assignable(reg: &Registry, from: &Ty, to: &Type) -> Assign {
    if let Kind::IntEnum(target) = &to.kind {
        // An integer enum: from the same enum, or one whose values are all
        // in it; an `int` (whose values are not known) is not.
        let allowed = &reg.enum_def(*target).values;
        return match &from.kind {
            Kind::IntEnum(src) if src == target => Assign::Yes,
            Kind::IntEnum(src) => {
                let outside: Vec<String> = reg
                    .enum_def(*src)
                    .values
                    .iter()
                    .filter(|v| !allowed.contains(v))
                    .cloned()
                    .collect();
                if outside.is_empty() {
                    Assign::Yes
                } else {
                    Assign::EnumValuesOutside(outside)
                }
            }
            // Integers whose values are known (a table's): each must be in it.
            Kind::Scalar(Scalar::Int) => match &from.values {
                Some(vals) => {
                    let outside: Vec<String> = vals
                        .iter()
                        .filter(|v| !allowed.contains(v))
                        .cloned()
                        .collect();
                    if outside.is_empty() {
                        Assign::Yes
                    } else {
                        Assign::EnumValuesOutside(outside)
                    }
                }
                None => Assign::No,
            },
            Kind::Any => Assign::RuntimeCheck,
            _ => Assign::No,
        };
    }
    if let Kind::Enum(target) = &to.kind {
        let allowed = &reg.enum_def(*target).values;
        if let Kind::Enum(src) = &from.kind {
            if src == target {
                return Assign::Yes;
            }
            let outside = values_outside(&reg.enum_def(*src).values, allowed);
            return if outside.is_empty() {
                Assign::Yes
            } else {
                Assign::EnumValuesOutside(outside)
            };
        }
        if matches!(from.kind, Kind::Scalar(Scalar::String)) {
            return match &from.values {
                Some(vals) => {
                    let outside = values_outside(vals, allowed);
                    if outside.is_empty() {
                        Assign::Yes
                    } else {
                        Assign::EnumValuesOutside(outside)
                    }
                }
                None => Assign::No,
            };
        }
        if matches!(from.kind, Kind::Any) {
            return Assign::RuntimeCheck;
        }
        return Assign::No;
    }
    if !kind_fits(&from.kind, &to.kind) {
        Assign::No
    } else if null_inside(&from.kind, &to.kind) {
        Assign::NullElements
    } else if unproven(&from.kind, &to.kind) {
        Assign::RuntimeCheck
    } else {
        Assign::Yes
    }
}

/// Whether `from` holds an `any` where `to` declares a type: the value
/// fits only if it happens to have that type, which is checked per record
/// (E1007) rather than trusted.
fn unproven(from: &Kind, to: &Kind) -> bool {
    match (from, to) {
        (_, Kind::Any) => false,
        (Kind::Any, _) => true,
        (Kind::Array(a), Kind::Array(b)) | (Kind::Map(a), Kind::Map(b)) => {
            unproven(&a.kind, &b.kind)
        }
        _ => false,
    }
}

/// The values of `vals` that `allowed` does not hold, in order. Through a
/// set: enums and tables of 100,000 values are checked in linear time.
fn values_outside(vals: &[String], allowed: &[String]) -> Vec<String> {
    let allowed: std::collections::HashSet<&str> = allowed.iter().map(String::as_str).collect();
    vals.iter()
        .filter(|v| !allowed.contains(v.as_str()))
        .cloned()
        .collect()
}

/// Whether a value of kind `from` may hold a null element (at any depth of
/// arrays and maps) where `to` declares that element not nullable.
fn null_inside(from: &Kind, to: &Kind) -> bool {
    match (from, to) {
        (Kind::Array(a), Kind::Array(b)) | (Kind::Map(a), Kind::Map(b)) => {
            (a.nullable && !b.nullable) || null_inside(&a.kind, &b.kind)
        }
        _ => false,
    }
}

fn kind_fits(from: &Kind, to: &Kind) -> bool {
    match (from, to) {
        (_, Kind::Any) | (Kind::Any, _) => true,
        (Kind::Scalar(Scalar::Int), Kind::Scalar(Scalar::Decimal | Scalar::Float)) => true,
        (Kind::Enum(_), Kind::Scalar(Scalar::String)) => true,
        // An integer enum's value is an `int`.
        (Kind::IntEnum(_), Kind::Scalar(Scalar::Int | Scalar::Decimal | Scalar::Float)) => true,
        // A string becomes a currency only through `currency_code`, which
        // checks it against ISO 4217.
        (Kind::Scalar(Scalar::Currency), Kind::Scalar(Scalar::String)) => true,
        (Kind::Money(_), Kind::Money(None)) => true,
        (
            Kind::Scalar(Scalar::DateTime | Scalar::LocalDateTime),
            Kind::Scalar(Scalar::AnyDateTime),
        ) => true,
        (Kind::Array(a), Kind::Array(b)) => kind_fits(&a.kind, &b.kind),
        (Kind::Map(a), Kind::Map(b)) => kind_fits(&a.kind, &b.kind),
        (Kind::Record(_), Kind::Map(_)) => true,
        (a, b) => a == b,
    }
}

pub fn enum_values_text(reg: &Registry, ty: &Type) -> String {
    match &ty.kind {
        Kind::Enum(e) => reg
            .enum_def(*e)
            .values
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

/// What to write to convert `from` into `to`: a hand-written hint where
/// the choice needs a word of explanation, otherwise the standard
/// transforms that take exactly `from` and give `to` (`currency_code` for a
/// string written into a `currency`, `to_date` for a `datetime` into a
/// `date`), so every transform added to the library is suggested too.
pub fn conversion_hint(from: &Kind, to: &Kind) -> Option<String> {
    if let Some(h) = explained_conversion(from, to) {
        return Some(h.to_string());
    }
    let steps: Vec<String> = converting_steps(from, to)
        .into_iter()
        .map(|s| format!("`: {s}`"))
        .collect();
    match steps.as_slice() {
        [] => None,
        [one] => Some(format!("convert it: {one}")),
        many => Some(format!("convert it with one of {}", many.join(", "))),
    }
}

/// Calls of the standard transforms whose signature takes `from` (not a
/// generic `T`, `any` or `scalar`) and gives `to`, with their required
/// arguments named: `money(currency)`, or the target's own currency when
/// it has one (`money("USD")`).
fn converting_steps(from: &Kind, to: &Kind) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    for def in crate::stdlib::all() {
        for sig in def.signatures() {
            let SigInput::One { ty, .. } = &sig.input else {
                continue;
            };
            let concrete = !matches!(
                ty,
                SigTy::Any | SigTy::AnyScalar | SigTy::Var | SigTy::Array(_)
            );
            let output = sig_kind(&sig.output, &None);
            let gives = match (&output, to) {
                (Kind::Money(None), Kind::Money(_)) => true,
                (out, to) => out == to,
            };
            if !concrete || sig_kind(ty, &None) != *from || !gives {
                continue;
            }
            let required: Vec<String> = sig
                .params
                .iter()
                .filter(|p| p.default.is_none())
                .map(|p| match (&p.ty, to) {
                    (SigTy::Scalar(Scalar::Currency), Kind::Money(Some(c))) => format!("\"{c}\""),
                    _ => p.name.clone(),
                })
                .collect();
            let call = if required.is_empty() {
                def.name.to_string()
            } else {
                format!("{}({})", def.name, required.join(", "))
            };
            if !steps.contains(&call) {
                steps.push(call);
            }
        }
    }
    steps
}

/// The conversions whose hint says more than the transform's name.
fn explained_conversion(from: &Kind, to: &Kind) -> Option<&'static str> {
    let h = match (from, to) {
        (Kind::Scalar(Scalar::String), Kind::Scalar(Scalar::Decimal)) => {
            "parse it: `: parse_decimal`"
        }
        (Kind::Scalar(Scalar::String), Kind::Scalar(Scalar::Int)) => "parse it: `: parse_int`",
        (Kind::Scalar(Scalar::String), Kind::Scalar(Scalar::Float)) => "parse it: `: parse_float`",
        (Kind::Scalar(Scalar::String), Kind::Scalar(Scalar::Bool)) => {
            "parse it: `: parse_bool`, or map the spellings with a table"
        }
        (Kind::Scalar(Scalar::String), Kind::Enum(_))
        | (Kind::Scalar(Scalar::Int), Kind::IntEnum(_)) => {
            "map it through a table whose values are the enum's values"
        }
        (
            Kind::Scalar(Scalar::Int | Scalar::Decimal | Scalar::Bool | Scalar::Float),
            Kind::Scalar(Scalar::String),
        ) => "format it: `: to_string`",
        (Kind::Scalar(Scalar::Decimal), Kind::Scalar(Scalar::Int)) => {
            "convert it: `: round(0) | to_int` (say how to round)"
        }
        (Kind::Scalar(Scalar::Int), Kind::Scalar(Scalar::Bool)) => "convert it: `: to_bool`",
        (Kind::Scalar(Scalar::Int | Scalar::Decimal), Kind::Money(_)) => {
            "give the amount its currency: `money(\"USD\")`, or `money(currency_field)`"
        }
        (Kind::Array(_), Kind::Scalar(Scalar::String)) => "join the elements: `: join(\",\")`",
        _ => return None,
    };
    Some(h)
}

/// The type both branches of an `if` can be seen as.
pub fn join(a: &Ty, b: &Ty) -> Option<Ty> {
    let kind = match (&a.kind, &b.kind) {
        (x, y) if x == y => x.clone(),
        (Kind::Any, _) if a.nullable && a.values.is_none() => b.kind.clone(), // `null` literal
        (_, Kind::Any) if b.nullable && b.values.is_none() => a.kind.clone(),
        (Kind::Scalar(Scalar::Int), Kind::Scalar(Scalar::Decimal))
        | (Kind::Scalar(Scalar::Decimal), Kind::Scalar(Scalar::Int)) => {
            Kind::Scalar(Scalar::Decimal)
        }
        (Kind::Enum(_), Kind::Scalar(Scalar::String))
        | (Kind::Scalar(Scalar::String), Kind::Enum(_)) => Kind::Scalar(Scalar::String),
        (Kind::IntEnum(_), Kind::Scalar(Scalar::Int))
        | (Kind::Scalar(Scalar::Int), Kind::IntEnum(_)) => Kind::Scalar(Scalar::Int),
        _ => return None,
    };
    let values = match (&a.values, &b.values) {
        (Some(x), Some(y)) => {
            let mut v = x.clone();
            v.extend(values_outside(y, x));
            Some(v)
        }
        _ => None,
    };
    Some(Ty {
        kind,
        nullable: a.nullable || b.nullable,
        missing: a.missing || b.missing,
        values,
    })
}

// ------------------------------------------------------------ paths
//
// A source path is typed step by step (`path_ty`): each field on the way
// says whether it may be missing (`name?:`) and whether it may be null
// (`T?`), and the path's presence is those steps combined with
// [`Presence::then`]. The laws (tested in tests/path_types.rs):
//
// * a path whose every step is required (and not nullable) is required;
// * one optional step, anywhere, makes it may-be-missing;
// * a nullable step before the last makes it may-be-missing too (under a
//   null parent there is no field at all: the reader leaves it missing);
//   the path may be null only when its last step may be;
// * the leaf's type is the last step's type; gathered through `[]` it is
//   an array of it (`gathered`), whose elements may be null where the
//   element's own path may be missing or null.

/// Whether a value is there: may it be missing, may it be null. Both may
/// hold at once (an optional, nullable field). The stdlib's type rules
/// speak the same presence.
pub use crate::stdlib::hooks::Presence;

/// What a declared field says about itself.
pub fn field_presence(optional: bool, ty: &Type) -> Presence {
    Presence {
        missing: optional,
        nullable: ty.nullable,
    }
}

/// A source path, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct PathTy {
    /// The leaf's kind (of one element's leaf when the path iterates).
    pub leaf: Kind,
    /// The leaf's presence: from the scope's record, or, past `[]`, from
    /// one element of the array.
    pub presence: Presence,
    /// When the path iterates (`a.b[].c`): the presence of the array
    /// itself (`a.b`).
    pub array: Option<Presence>,
}

impl PathTy {
    /// The flow type of the leaf (per element when the path iterates).
    pub fn leaf_ty(&self) -> Ty {
        Ty {
            kind: self.leaf.clone(),
            nullable: self.presence.nullable,
            missing: self.presence.missing,
            values: None,
        }
    }
}

/// Types the path `names` from the scope's record, step by step. `iter_at`
/// is where `[]` splits it: `names[..iter_at]` is the array, the rest is
/// read in each element (the array's element itself when the rest is
/// empty). The names were resolved already; a name not found (or read
/// inside `any` or a `map`) is typed `any`, may be missing, may be null.
pub fn path_ty(
    reg: &Registry,
    side: &ScopeSide,
    names: &[String],
    iter_at: Option<usize>,
) -> PathTy {
    path_ty_at(reg, side, names, iter_at.as_slice())
}

/// As [`path_ty`], for a path that may cross several arrays (a gather,
/// `a[].b[].c`): `iters` are the iteration points in order. `array` is the
/// outermost array's presence; an inner array that is absent gives no
/// elements, so past it presence is per element again.
pub fn path_ty_at(reg: &Registry, side: &ScopeSide, names: &[String], iters: &[usize]) -> PathTy {
    // The scope's own value (`.`) is as present as its block made it; the
    // steps below it start afresh (the block's source was checked there).
    if names.is_empty() {
        return PathTy {
            leaf: side.own.kind.clone(),
            presence: field_presence(false, &side.own),
            array: None,
        };
    }
    let mut kind = match side.record {
        Some(r) => Kind::Record(r),
        None => side.own.kind.clone(),
    };
    let mut presence = Presence::REQUIRED;
    let mut array = None;
    for (i, n) in names.iter().enumerate() {
        let field = match &kind {
            Kind::Record(r) => reg.record(*r).field(n).map(|(_, f)| f),
            _ => None,
        };
        let (step_kind, step) = match field {
            Some(f) => (f.ty.kind.clone(), field_presence(f.optional, &f.ty)),
            None => (
                Kind::Any,
                Presence {
                    missing: true,
                    nullable: true,
                },
            ),
        };
        presence = presence.then(step);
        kind = step_kind;
        if iters.contains(&(i + 1)) {
            // Past `[]`, presence is per element: the element itself may
            // be null only where the array's element type says so.
            array = array.or(Some(presence));
            (kind, presence) = match kind {
                Kind::Array(e) => (e.kind.clone(), field_presence(false, &e)),
                _ => (
                    Kind::Any,
                    Presence {
                        missing: false,
                        nullable: true,
                    },
                ),
            };
        }
    }
    PathTy {
        leaf: kind,
        presence,
        array,
    }
}

/// The value `a[].b` gives a pipeline: the array of every element's leaf.
/// It is missing or null where the array is (the run time passes the
/// array's own value on); an element whose leaf may be missing or null is
/// a null element (a missing one is written `null` in an array).
pub fn gathered(p: &PathTy) -> Ty {
    let array = p.array.unwrap_or(Presence::REQUIRED);
    let elem = Type {
        kind: p.leaf.clone(),
        nullable: p.presence.missing || p.presence.nullable,
    };
    Ty {
        kind: Kind::Array(Box::new(elem)),
        nullable: array.nullable,
        missing: array.missing,
        values: None,
    }
}

pub enum ArgTy {
    Literal(Literal),
    /// A field's type, and the literal after `??` if one is given.
    Field(Ty, Option<Literal>),
}

pub enum MatchError {
    /// The piped value does not fit the signature's input.
    Input,
    /// A literal argument (or `??` fallback) does not fit its parameter.
    Arg(usize, String),
    /// A field argument's type does not fit its parameter (the input fits).
    FieldArg {
        index: usize,
        param: String,
        expected: Kind,
        found: Kind,
    },
}

pub struct Matched {
    pub output: Ty,
    /// Constant values per parameter (defaults included); `None` for field
    /// arguments.
    pub const_args: Vec<Option<Value<'static>>>,
    /// The `??` fallback of each field argument that has one.
    pub fallbacks: Vec<Option<Value<'static>>>,
}

/// The value of a literal argument (or `??` fallback) for parameter `i`.
fn arg_literal(
    reg: &Registry,
    i: usize,
    p: &SigParam,
    l: &Literal,
    expected: &Kind,
) -> Result<Value<'static>, MatchError> {
    if matches!(l.kind, LiteralKind::Null) && !p.nullable {
        return Err(MatchError::Arg(i, format!("`{}` may not be null", p.name)));
    }
    literal_value(reg, l, expected).map_err(|m| MatchError::Arg(i, m))
}

/// Matches an input flow and arguments against one signature.
pub fn match_signature(
    reg: &Registry,
    hooks: &Hooks,
    sig: &Signature,
    flow: &Flow,
    args: &[ArgTy],
) -> Result<Matched, MatchError> {
    let mut var: Option<Kind> = None;
    // Input.
    let (in_nullable, in_missing) = match (&sig.input, flow) {
        (SigInput::One { ty, .. }, Flow::One(t)) => {
            if !fits(&t.kind, ty, &mut var) {
                return Err(MatchError::Input);
            }
            (t.nullable, t.missing)
        }
        // A tuple where an array is expected: `(first, last) -> Name : join(" ")`.
        (
            SigInput::One {
                ty: SigTy::Array(elem),
                ..
            },
            Flow::Tuple(ts),
        ) => {
            for t in ts {
                if !fits(&t.kind, elem, &mut var) {
                    return Err(MatchError::Input);
                }
            }
            (false, false)
        }
        (SigInput::Variadic { ty, .. }, Flow::Tuple(ts)) => {
            for t in ts {
                if !fits(&t.kind, ty, &mut var) {
                    return Err(MatchError::Input);
                }
            }
            (false, false)
        }
        (SigInput::Variadic { ty, .. }, Flow::One(t)) => {
            if !fits(&t.kind, ty, &mut var) {
                return Err(MatchError::Input);
            }
            (t.nullable, t.missing)
        }
        _ => return Err(MatchError::Input),
    };
    // Arguments.
    let mut const_args = Vec::new();
    let mut fallbacks = Vec::new();
    let mut arg_nullable = false;
    let mut arg_missing = false;
    for (i, p) in sig.params.iter().enumerate() {
        let expected_kind = sig_kind(&p.ty, &var);
        match args.get(i) {
            Some(ArgTy::Literal(l)) => {
                const_args.push(Some(arg_literal(reg, i, p, l, &expected_kind)?));
                fallbacks.push(None);
            }
            Some(ArgTy::Field(t, or)) => {
                if !fits(&t.kind, &p.ty, &mut var) {
                    return Err(MatchError::FieldArg {
                        index: i,
                        param: p.name.clone(),
                        expected: expected_kind,
                        found: t.kind.clone(),
                    });
                }
                match or {
                    Some(l) => fallbacks.push(Some(arg_literal(reg, i, p, l, &expected_kind)?)),
                    None => {
                        if !p.nullable {
                            arg_nullable |= t.nullable;
                            arg_missing |= t.missing;
                        }
                        fallbacks.push(None);
                    }
                }
                const_args.push(None);
            }
            None => {
                let default = p.default.as_deref().unwrap_or("null");
                let lit = default_literal(default);
                let v = literal_value(reg, &lit, &expected_kind).unwrap_or(Value::Null);
                const_args.push(Some(v));
                fallbacks.push(None);
            }
        }
    }
    let out_kind = sig_kind(&sig.output, &var);
    let input = Presence {
        missing: in_missing,
        nullable: in_nullable,
    };
    // By the signature alone: a transform that handles null gives an
    // absent value only where its output is declared nullable; any other
    // passes an absent input (or argument) through.
    let output = if sig.accepts_null() {
        Presence {
            missing: sig.output_nullable && in_missing,
            nullable: sig.output_nullable && input.absent(),
        }
    } else {
        Presence {
            missing: in_missing || arg_missing,
            nullable: in_nullable || sig.output_nullable || arg_nullable,
        }
    };
    // The rest is the transform's own rule (`coalesce`, `default`, ...).
    let typed = match hooks.type_rule {
        None => Typed {
            presence: output,
            values: None,
        },
        Some(rule) => {
            let (parts, values) = match flow {
                Flow::Tuple(ts) => (Some(ts.iter().map(Ty::presence).collect::<Vec<_>>()), None),
                Flow::One(t) => (None, t.values.as_deref()),
            };
            rule(&CallTypes {
                input,
                tuple: parts.as_deref(),
                output,
                values,
                consts: &const_args,
            })
        }
    };
    Ok(Matched {
        output: Ty {
            kind: out_kind,
            nullable: typed.presence.nullable,
            missing: typed.presence.missing,
            values: typed.values,
        },
        const_args,
        fallbacks,
    })
}

fn default_literal(text: &str) -> Literal {
    let span = crate::base::Span::default();
    let kind = if let Some(s) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        LiteralKind::String(s.to_string())
    } else if text == "null" {
        LiteralKind::Null
    } else if text == "true" || text == "false" {
        LiteralKind::Bool(text == "true")
    } else {
        LiteralKind::Number(text.to_string())
    };
    Literal { kind, span }
}

/// Whether a value of kind `k` can be passed where the signature says `t`.
fn fits(k: &Kind, t: &SigTy, var: &mut Option<Kind>) -> bool {
    match t {
        SigTy::Any => true,
        SigTy::AnyScalar => !matches!(k, Kind::Array(_) | Kind::Map(_) | Kind::Record(_)),
        SigTy::Var => match var {
            None => {
                *var = Some(k.clone());
                true
            }
            Some(bound) => {
                kind_fits(k, bound) || {
                    // Widen the binding: `eq` on an int with a decimal argument.
                    if matches!(
                        (&*bound, k),
                        (Kind::Scalar(Scalar::Int), Kind::Scalar(Scalar::Decimal))
                    ) {
                        *var = Some(Kind::Scalar(Scalar::Decimal));
                        true
                    } else {
                        false
                    }
                }
            }
        },
        SigTy::Array(e) => match k {
            Kind::Array(inner) => fits(&inner.kind, e, var),
            Kind::Any => true,
            _ => false,
        },
        other => {
            let want = sig_kind(other, &None);
            match (k, &want) {
                (Kind::Any, _) => true,
                (Kind::Enum(_) | Kind::Scalar(Scalar::Currency), Kind::Scalar(Scalar::String)) => {
                    true
                }
                // A string field where a currency is expected is checked
                // per record (E1008).
                (Kind::Scalar(Scalar::String), Kind::Scalar(Scalar::Currency)) => true,
                (Kind::Money(_), Kind::Money(None)) => true,
                (Kind::Scalar(Scalar::Int), Kind::Scalar(Scalar::Decimal | Scalar::Float)) => true,
                (a, b) => a == b,
            }
        }
    }
}

/// The kind a signature type stands for (`T` as bound by `var`).
pub(super) fn sig_kind(t: &SigTy, var: &Option<Kind>) -> Kind {
    match t {
        SigTy::Scalar(s) => Kind::from(*s),
        SigTy::Any | SigTy::AnyScalar => Kind::Any,
        SigTy::Var => var.clone().unwrap_or(Kind::Any),
        SigTy::Array(e) => Kind::Array(Box::new(Type::new(sig_kind(e, var)))),
    }
}

pub fn input_hint(flow: &Flow, name: &str) -> String {
    match flow {
        Flow::Tuple(_) => format!(
            "`{name}` takes one value; combine the sources first (`join`, `concat`, `coalesce`)"
        ),
        Flow::One(t) => match (&t.kind, name) {
            (Kind::Scalar(Scalar::String), _) => {
                "convert the string first (`parse_decimal`, `parse_int`, ...)".to_string()
            }
            (Kind::Scalar(Scalar::Int | Scalar::Decimal), _) => {
                "format the number first: `to_string`".to_string()
            }
            _ => "see docs/stdlib.md for the transforms of each type".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_are_found_in_the_standard_library() {
        assert_eq!(
            converting_steps(
                &Kind::Scalar(Scalar::String),
                &Kind::Scalar(Scalar::Currency)
            ),
            ["currency_code"]
        );
        assert_eq!(
            converting_steps(&Kind::Scalar(Scalar::Int), &Kind::Money(None)),
            ["from_minor(currency)", "money(currency)"]
        );
        assert_eq!(
            converting_steps(&Kind::Money(None), &Kind::Scalar(Scalar::Currency)),
            ["currency_of"]
        );
        assert!(
            converting_steps(&Kind::Scalar(Scalar::Bool), &Kind::Scalar(Scalar::Date)).is_empty()
        );
        // A hand-written hint wins where the choice needs explaining.
        assert_eq!(
            conversion_hint(&Kind::Scalar(Scalar::Decimal), &Kind::Scalar(Scalar::Int)).as_deref(),
            Some("convert it: `: round(0) | to_int` (say how to round)")
        );
    }
}
