//! `tether schema show`: an imported type as tether sees it, written in
//! tether's own schema syntax, so an analyst exploring a provider's contract
//! reads exactly the names, types and optionality the checker will use.

use super::{Kind, Registry, TypeId, XmlForm};
use std::fmt::Write;

/// Every type of namespace `ns`, one line each.
pub fn list(reg: &Registry, ns: &str) -> String {
    let mut out = String::new();
    let Some(space) = reg.namespaces.get(ns) else {
        return out;
    };
    for name in &space.order {
        match space.types.get(name) {
            Some(TypeId::Record(r)) => {
                let n = reg.record(*r).fields.len();
                let _ = writeln!(
                    out,
                    "record {name} ({n} field{})",
                    if n == 1 { "" } else { "s" }
                );
            }
            Some(TypeId::Enum(e)) => {
                let def = reg.enum_def(*e);
                let n = def.values.len();
                let _ = writeln!(
                    out,
                    "enum{} {name} ({n} value{})",
                    if def.ints { " of int" } else { "" },
                    if n == 1 { "" } else { "s" }
                );
            }
            None => {}
        }
    }
    out
}

/// One type of namespace `ns`, with the inline records it contains.
pub fn show(reg: &Registry, ns: &str, name: &str) -> Option<String> {
    let id = reg.lookup(ns, name)?;
    let mut out = String::new();
    match id {
        TypeId::Enum(e) => {
            let def = reg.enum_def(e);
            // Integers bare, as a schema writes them; strings quoted.
            let values: Vec<String> = def
                .values
                .iter()
                .map(|v| {
                    if def.ints {
                        v.clone()
                    } else {
                        format!("{v:?}")
                    }
                })
                .collect();
            let of = if def.ints { " of int" } else { "" };
            let _ = writeln!(out, "enum{of} {name} {{ {} }}", values.join(", "));
        }
        TypeId::Record(r) => record(reg, r, &format!("{ns}."), 0, &mut out),
    }
    Some(out)
}

fn record(reg: &Registry, id: super::RecordId, strip: &str, depth: usize, out: &mut String) {
    let def = reg.record(id);
    let pad = "  ".repeat(depth);
    if depth == 0 {
        let name = def.name.strip_prefix(strip).unwrap_or(&def.name);
        let _ = writeln!(out, "record {name} {{");
    }
    for f in &def.fields {
        if let Some(d) = &f.description {
            for line in d.lines() {
                let _ = writeln!(out, "{pad}  // {line}");
            }
        }
        let name = if is_ident(&f.name) {
            f.name.clone()
        } else {
            format!("{:?}", f.name)
        };
        let opt = if f.optional { "?" } else { "" };
        let mark = match f.xml {
            XmlForm::Element => "",
            XmlForm::Attribute => "@",
            XmlForm::Text => "#",
        };
        // `readonly Id: string`, as a tether schema writes it.
        let access = f
            .access
            .keyword()
            .map_or(String::new(), |k| format!("{k} "));
        let name = format!("{access}{mark}{name}");
        let note = "";
        // Inline records (named after their field) are shown in place.
        let inline = match inner_record(&f.ty.kind) {
            Some(r) if reg.record(r).name == format!("{}.{}", def.name, f.name) => Some(r),
            _ => None,
        };
        match inline {
            Some(r) => {
                let (open, close) = match &f.ty.kind {
                    Kind::Array(_) => ("[{", "}]"),
                    _ => ("{", "}"),
                };
                let nullable = if f.ty.nullable { "?" } else { "" };
                let _ = writeln!(out, "{pad}  {name}{opt}: {open}{note}");
                record(reg, r, strip, depth + 1, out);
                let _ = writeln!(out, "{pad}  {close}{nullable}");
            }
            None => {
                let ty = reg.display(&f.ty).replace(strip, "");
                let _ = writeln!(out, "{pad}  {name}{opt}: {ty}{note}");
            }
        }
    }
    if depth == 0 {
        let _ = writeln!(out, "}}");
    }
}

fn inner_record(kind: &Kind) -> Option<super::RecordId> {
    match kind {
        Kind::Record(r) => Some(*r),
        Kind::Array(t) => inner_record(&t.kind),
        _ => None,
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
