//! Record and response types, and paths through them, with "did you mean" (E0101-E0103, E0250).

use super::*;

impl Cx<'_> {
    pub(super) fn record_of(&mut self, r: &TypeRef) -> Option<RecordId> {
        let Some(ns) = &r.namespace else {
            let d = self
                .e(
                    Code::E0102,
                    r.span,
                    format!(
                        "`{}` needs its schema: write `SCHEMA.{}`",
                        r.name.name, r.name.name
                    ),
                )
                .label("no schema named");
            self.push(d);
            return None;
        };
        let Some(namespace) = self.reg.namespaces.get(&ns.name) else {
            let known: Vec<&str> = self.reg.namespaces.keys().map(String::as_str).collect();
            let d = self
                .e(
                    Code::E0101,
                    ns.span,
                    format!("unknown schema `{}`", ns.name),
                )
                .label("no schema of this name is declared or imported")
                .suggest(&ns.name, known);
            self.push(d);
            return None;
        };
        match namespace.types.get(&r.name.name) {
            Some(TypeId::Record(id)) => Some(*id),
            Some(TypeId::Enum(_)) => {
                let d = self
                    .e(
                        Code::E0102,
                        r.span,
                        format!(
                            "`{}.{}` is an enum; a provider serves records",
                            ns.name, r.name.name
                        ),
                    )
                    .label("expected a record type");
                self.push(d);
                None
            }
            None => {
                let names: Vec<&str> = namespace.order.iter().map(String::as_str).collect();
                let d = self
                    .e(
                        Code::E0102,
                        r.name.span,
                        format!("schema `{}` has no type `{}`", ns.name, r.name.name),
                    )
                    .label("unknown type")
                    .suggest(&r.name.name, names);
                self.push(d);
                None
            }
        }
    }

    /// The type at `segments` (with their spans) under `record`; E0103 with
    /// "did you mean" for an unknown name.
    pub(super) fn type_at(
        &mut self,
        record: RecordId,
        segments: &[(String, Span)],
    ) -> Option<Type> {
        let mut ty = Type::new(Kind::Record(record));
        for (name, span) in segments {
            let rec = match &ty.kind {
                Kind::Record(r) => *r,
                // Elements of an array of records: `results` then a field
                // is not a path a provider names, but `[]` is skipped.
                Kind::Any | Kind::Map(_) => return Some(Type::nullable(Kind::Any)),
                other => {
                    let shown = self.reg.display_kind(other);
                    let d = self
                        .e(
                            Code::E0103,
                            *span,
                            format!("`{shown}` has no field `{name}`"),
                        )
                        .label("no fields here");
                    self.push(d);
                    return None;
                }
            };
            let def = self.reg.record(rec);
            let Some((_, f)) = def.field(name) else {
                let record_name = def.name.clone();
                let names: Vec<&str> = def.field_names().collect();
                let mut d = self
                    .e(
                        Code::E0103,
                        *span,
                        format!("`{record_name}` has no field `{name}`"),
                    )
                    .label("unknown field")
                    .suggest(name, names.iter().copied());
                if d.help.is_none() && names.len() <= 12 {
                    d = d.note(format!("`{record_name}` has: {}", names.join(", ")));
                }
                self.push(d);
                return None;
            };
            ty = f.ty.clone();
        }
        Some(ty)
    }

    pub(super) fn path_type(&mut self, record: RecordId, path: &Path) -> Option<Type> {
        let segs: Vec<(String, Span)> = path
            .segments
            .iter()
            .map(|s| (s.name.clone(), s.span))
            .collect();
        self.type_at(record, &segs)
    }

    /// A response path against the request's `returns` type: E0250 when
    /// there is none.
    pub(super) fn response_type(
        &mut self,
        returns: Option<RecordId>,
        p: &ast::ResponsePath,
        clause: &str,
    ) -> Option<Type> {
        let Some(record) = returns else {
            let d = self
                .e(
                    Code::E0250,
                    p.span,
                    format!("`{clause}` names a path in the response, whose type is not declared"),
                )
                .label("no `returns` type to find this in")
                .help("declare the response: `POST \"/path\" returns SCHEMA.Type`");
            self.push(d);
            return None;
        };
        if p.first_element {
            // `[].message`: only error bodies are read so; checked by the
            // exchange at run time.
            return Some(Type::nullable(Kind::Any));
        }
        match &p.path {
            Some(path) => self.path_type(record, path),
            None => Some(Type::new(Kind::Record(record))),
        }
    }

    pub(super) fn returns(&mut self, r: &ast::RequestLine) -> Result<Option<RecordId>, ()> {
        match &r.returns {
            Some(t) => self.record_of(t).map(Some).ok_or(()),
            None => Ok(None),
        }
    }

    // -------------------------------------------------------- resources
}
