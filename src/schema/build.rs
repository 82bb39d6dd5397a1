//! Builds the [`Registry`] from `schema` blocks (inline or imported `.tschema`
//! files). Two passes: declare every type name of every namespace first, so
//! records may refer to each other (and to other namespaces) in any order.

use super::*;
use crate::base::Currency;
use crate::diag::{Code, Diagnostic};
use crate::stdlib::iso4217::unknown_currency;
use crate::syntax::{RecordBody, TypeDecl, TypeExpr, TypeExprKind};

/// A schema to import: its namespace name, where the name was declared, and
/// its type declarations (with the file they are in).
pub struct SchemaSource<'a> {
    pub name: &'a crate::syntax::Ident,
    pub declared_in: FileId,
    pub types_file: FileId,
    pub types: &'a [TypeDecl],
    pub source_file: Option<String>,
    pub xml: Option<XmlSchema>,
    /// Enums of `types` whose values are integers (from JSON Schema).
    pub int_enums: Vec<String>,
}

pub fn build_registry(sources: &[SchemaSource<'_>], diags: &mut Vec<Diagnostic>) -> Registry {
    let mut reg = Registry::default();
    // Pass 1: namespaces and type names.
    for src in sources {
        let origin = Origin {
            file: src.declared_in,
            span: src.name.span,
        };
        if let Some(prev) = reg.namespaces.get(&src.name.name) {
            diags.push(
                Diagnostic::error(
                    Code::E0003,
                    src.declared_in,
                    src.name.span,
                    format!("schema `{}` is defined twice", src.name.name),
                )
                .label("second definition")
                .secondary(
                    prev.origin.file,
                    prev.origin.span,
                    "first defined here",
                ),
            );
            continue;
        }
        let mut ns = Namespace {
            name: src.name.name.clone(),
            types: HashMap::new(),
            order: Vec::new(),
            origin,
            source_file: src.source_file.clone(),
            xml: src.xml.clone(),
        };
        for t in src.types {
            let tname = t.name();
            let here = Origin {
                file: src.types_file,
                span: tname.span,
            };
            if let Some(prev) = ns.types.get(&tname.name) {
                let prev_origin = match prev {
                    TypeId::Record(r) => reg.record(*r).origin,
                    TypeId::Enum(e) => reg.enum_def(*e).origin,
                };
                diags.push(
                    Diagnostic::error(
                        Code::E0003,
                        here.file,
                        here.span,
                        format!(
                            "type `{}` is defined twice in schema `{}`",
                            tname.name, ns.name
                        ),
                    )
                    .label("second definition")
                    .secondary(
                        prev_origin.file,
                        prev_origin.span,
                        "first defined here",
                    ),
                );
                continue;
            }
            let qualified = format!("{}.{}", ns.name, tname.name);
            let id = match t {
                TypeDecl::Record(_) => {
                    reg.records.push(RecordDef::new(qualified, here));
                    TypeId::Record(RecordId(reg.records.len() as u32 - 1))
                }
                TypeDecl::Enum(e) => {
                    let mut values: Vec<String> = Vec::new();
                    // A set beside the list: linear in a generated enum.
                    let mut seen: std::collections::HashSet<&str> = Default::default();
                    for v in &e.values {
                        if !seen.insert(v.value.as_str()) {
                            diags.push(
                                Diagnostic::error(
                                    Code::E0003,
                                    src.types_file,
                                    v.span,
                                    format!("enum value \"{}\" is listed twice", v.value),
                                )
                                .label("listed again here"),
                            );
                        } else {
                            values.push(v.value.clone());
                        }
                    }
                    reg.enums.push(EnumDef {
                        name: qualified,
                        values,
                        origin: here,
                        ints: src.int_enums.contains(&tname.name),
                    });
                    TypeId::Enum(EnumId(reg.enums.len() as u32 - 1))
                }
            };
            ns.types.insert(tname.name.clone(), id);
            ns.order.push(tname.name.clone());
        }
        reg.namespaces.insert(ns.name.clone(), ns);
    }
    // Pass 2: record fields.
    for src in sources {
        for t in src.types {
            let TypeDecl::Record(r) = t else { continue };
            let Some(TypeId::Record(id)) = reg.lookup(&src.name.name, &r.name.name) else {
                continue;
            };
            // A duplicate type name was reported in pass 1; fill only the first.
            if reg.record(id).origin.span != r.name.span || !reg.record(id).fields.is_empty() {
                continue;
            }
            let mut ctx = Ctx {
                reg: &mut reg,
                diags,
                ns: &src.name.name,
                file: src.types_file,
            };
            ctx.fill_record(id, &r.body);
        }
    }
    reg
}

struct Ctx<'r> {
    reg: &'r mut Registry,
    diags: &'r mut Vec<Diagnostic>,
    ns: &'r str,
    file: FileId,
}

impl Ctx<'_> {
    fn fill_record(&mut self, id: RecordId, body: &RecordBody) {
        self.reg.records[id.0 as usize].xml_sequence = body.xml_sequence;
        for f in &body.fields {
            let ty = self.type_expr(
                &f.ty,
                &format!("{}.{}", self.reg.record(id).name, f.name.name),
            );
            let field = Field {
                name: f.name.name.clone(),
                ty,
                optional: f.optional,
                origin: Origin {
                    file: self.file,
                    span: f.name.span,
                },
                description: f.description.clone(),
                xml: f.xml,
                access: f.access,
            };
            let rec_name = self.reg.record(id).name.clone();
            if let Err(prev) = self.reg.records[id.0 as usize].push(field) {
                self.diags.push(
                    Diagnostic::error(
                        Code::E0003,
                        self.file,
                        f.name.span,
                        format!("field `{}` is defined twice in `{rec_name}`", f.name.name),
                    )
                    .label("second definition")
                    .secondary(prev.file, prev.span, "first defined here"),
                );
            }
        }
    }

    fn type_expr(&mut self, t: &TypeExpr, inline_name: &str) -> Type {
        let kind = match &t.kind {
            TypeExprKind::Array(inner) => Kind::Array(Box::new(self.type_expr(inner, inline_name))),
            TypeExprKind::Map(inner) => Kind::Map(Box::new(self.type_expr(inner, inline_name))),
            TypeExprKind::Record(body) => {
                let origin = Origin {
                    file: self.file,
                    span: body.span,
                };
                self.reg
                    .records
                    .push(RecordDef::new(inline_name.to_string(), origin));
                let id = RecordId(self.reg.records.len() as u32 - 1);
                self.fill_record(id, body);
                Kind::Record(id)
            }
            TypeExprKind::Named { namespace, name } => self.named(namespace.as_ref(), name),
            TypeExprKind::Money(code) => match Currency::parse(&code.name) {
                Some(c) => Kind::Money(Some(c)),
                None => {
                    self.diags
                        .push(unknown_currency(self.file, code.span, &code.name));
                    Kind::Money(None)
                }
            },
        };
        Type {
            kind,
            nullable: t.nullable,
        }
    }

    fn named(
        &mut self,
        namespace: Option<&crate::syntax::Ident>,
        name: &crate::syntax::Ident,
    ) -> Kind {
        let ns_name = match namespace {
            None => {
                if let Some(k) = builtin_kind(&name.name) {
                    return k;
                }
                self.ns.to_string()
            }
            Some(ns) => {
                if !self.reg.namespaces.contains_key(&ns.name) {
                    let d = Diagnostic::error(
                        Code::E0101,
                        self.file,
                        ns.span,
                        format!("unknown schema `{}`", ns.name),
                    )
                    .label("no schema of this name")
                    .suggest(&ns.name, self.reg.namespaces.keys().map(String::as_str));
                    self.diags.push(d);
                    return Kind::Any;
                }
                ns.name.clone()
            }
        };
        match self.reg.lookup(&ns_name, &name.name) {
            Some(TypeId::Record(r)) => Kind::Record(r),
            Some(TypeId::Enum(e)) => self.reg.enum_def(e).kind(e),
            None => {
                let mut candidates: Vec<&str> = builtin_names().collect();
                if let Some(ns) = self.reg.namespaces.get(&ns_name) {
                    candidates.extend(ns.order.iter().map(String::as_str));
                }
                let d = Diagnostic::error(
                    Code::E0102,
                    self.file,
                    name.span,
                    format!("unknown type `{}` in schema `{ns_name}`", name.name),
                )
                .label("not a built-in type or a type of this schema")
                .suggest(&name.name, candidates);
                self.diags.push(d);
                Kind::Any
            }
        }
    }
}
