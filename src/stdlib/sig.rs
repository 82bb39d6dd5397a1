//! The signature language of transforms, parsed once at start-up:
//!
//! ```text
//! pad_left(width: int, fill: string = " "): string -> string
//! default(value: T): T? -> T
//! coalesce: (T?...) -> T?
//! ```
//!
//! `T` is a type variable bound by the input; `?` on the input means the
//! transform handles null/missing itself (otherwise they pass through
//! untouched); `(X...)` takes a tuple of any length (multi-field rules).

use crate::base::Scalar;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigTy {
    /// One scalar type (its name is `base::Scalar`'s).
    Scalar(Scalar),
    /// Any value at all.
    Any,
    /// Any value that is not an array, map or record (`scalar`).
    AnyScalar,
    /// The type variable `T`.
    Var,
    Array(Box<SigTy>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SigParam {
    pub name: String,
    pub ty: SigTy,
    pub nullable: bool,
    /// The default, as literal text (`" "`, `0`, `"half_even"`).
    pub default: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SigInput {
    One { ty: SigTy, nullable: bool },
    Variadic { ty: SigTy, nullable: bool },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    pub params: Vec<SigParam>,
    pub input: SigInput,
    pub output: SigTy,
    pub output_nullable: bool,
    pub text: String,
}

impl Signature {
    pub fn accepts_null(&self) -> bool {
        match self.input {
            SigInput::One { nullable, .. } | SigInput::Variadic { nullable, .. } => nullable,
        }
    }
    pub fn required_params(&self) -> usize {
        self.params.iter().filter(|p| p.default.is_none()).count()
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses `name(params): input -> output`. Errors are bugs in the stdlib
/// table (a unit test parses every signature).
pub fn parse(text: &str) -> Result<(String, Signature), String> {
    let mut p = Cursor { s: text, i: 0 };
    let name = p.ident()?;
    let mut params = Vec::new();
    p.ws();
    if p.eat("(") {
        loop {
            p.ws();
            if p.eat(")") {
                break;
            }
            let pname = p.ident()?;
            p.require(":")?;
            let (ty, nullable) = p.ty()?;
            p.ws();
            let default = if p.eat("=") {
                p.ws();
                Some(p.literal()?)
            } else {
                None
            };
            params.push(SigParam {
                name: pname,
                ty,
                nullable,
                default,
            });
            p.ws();
            if p.eat(")") {
                break;
            }
            p.require(",")?;
        }
    }
    p.require(":")?;
    p.ws();
    let input = if p.eat("(") {
        let (ty, nullable) = p.ty()?;
        p.require("...")?;
        p.require(")")?;
        SigInput::Variadic { ty, nullable }
    } else {
        let (ty, nullable) = p.ty()?;
        SigInput::One { ty, nullable }
    };
    p.require("->")?;
    let (output, output_nullable) = p.ty()?;
    p.ws();
    if p.i != text.len() {
        return Err(format!("trailing text in signature `{text}`"));
    }
    Ok((
        name,
        Signature {
            params,
            input,
            output,
            output_nullable,
            text: text.to_string(),
        },
    ))
}

struct Cursor<'s> {
    s: &'s str,
    i: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }
    fn ws(&mut self) {
        while self.rest().starts_with(' ') {
            self.i += 1;
        }
    }
    fn eat(&mut self, tok: &str) -> bool {
        self.ws();
        if self.rest().starts_with(tok) {
            self.i += tok.len();
            true
        } else {
            false
        }
    }
    fn require(&mut self, tok: &str) -> Result<(), String> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(format!("expected `{tok}` at {} in `{}`", self.i, self.s))
        }
    }
    fn ident(&mut self) -> Result<String, String> {
        self.ws();
        let n = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest().len());
        if n == 0 {
            return Err(format!("expected a name at {} in `{}`", self.i, self.s));
        }
        let id = self.rest()[..n].to_string();
        self.i += n;
        Ok(id)
    }
    fn literal(&mut self) -> Result<String, String> {
        if self.rest().starts_with('"') {
            let end = self.rest()[1..].find('"').ok_or("unterminated string")? + 2;
            let lit = self.rest()[..end].to_string();
            self.i += end;
            Ok(lit)
        } else {
            let n = self.rest().find([',', ')']).unwrap_or(self.rest().len());
            let lit = self.rest()[..n].trim().to_string();
            self.i += n;
            Ok(lit)
        }
    }
    fn ty(&mut self) -> Result<(SigTy, bool), String> {
        self.ws();
        let ty = if self.eat("[") {
            let (inner, _) = self.ty()?;
            self.require("]")?;
            SigTy::Array(Box::new(inner))
        } else {
            let name = self.ident()?;
            match (Scalar::from_name(&name), name.as_str()) {
                (Some(scalar), _) => SigTy::Scalar(scalar),
                (None, "any") => SigTy::Any,
                (None, "scalar") => SigTy::AnyScalar,
                (None, "T") => SigTy::Var,
                (None, other) => return Err(format!("unknown type `{other}` in `{}`", self.s)),
            }
        };
        let nullable = self.rest().starts_with('?');
        if nullable {
            self.i += 1;
        }
        Ok((ty, nullable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_params_defaults_and_variadics() {
        let (name, s) =
            parse(r#"pad_left(width: int, fill: string = " "): string -> string"#).unwrap();
        assert_eq!(name, "pad_left");
        assert_eq!(s.params.len(), 2);
        assert_eq!(s.params[1].default.as_deref(), Some("\" \""));
        assert_eq!(s.required_params(), 1);
        let (_, c) = parse("coalesce: (T?...) -> T?").unwrap();
        assert!(matches!(
            c.input,
            SigInput::Variadic {
                ty: SigTy::Var,
                nullable: true
            }
        ));
        assert!(c.output_nullable);
    }

    #[test]
    fn rejects_unknown_types() {
        assert!(parse("x: strin -> string").is_err());
    }
}
