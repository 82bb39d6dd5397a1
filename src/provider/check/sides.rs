//! What a provider must do for the mappings whose sides it serves (E0246,
//! E0251, E0253).

use super::*;

/// What a provider must do for the mappings of `items` whose side types
/// its resources serve: write what the mapping sends to that side (E0253:
/// a create and an update, and a delete under `on delete propagate` or
/// `review`), addressing an update or a delete only by the fields every
/// such operation carries, the side's `key` and `ids` paths (E0246).
/// Reported on the side's type in the mapping's header.
pub fn check_mapping_sides(
    file: FileId,
    items: &[Item],
    program: &crate::check::Program,
    providers: &[ProviderSpec],
    diags: &mut Vec<Diagnostic>,
) {
    use crate::syntax::{DeletePolicy, Direction};
    for item in items {
        let Item::Mapping(decl) = item else { continue };
        let Some(m) = program.mappings.iter().find(|m| m.name == decl.name.name) else {
            continue;
        };
        // The left side is written by the reverse direction, the right by
        // the forward one.
        let sides = [
            (Direction::Reverse, &decl.left, m.left, 0),
            (Direction::Forward, &decl.right, m.right, 1),
        ];
        for (dir, type_ref, record, at) in sides {
            let written = m.directions.contains(&dir);
            let type_name = &program.registry.record(record).name;
            let pick = |pair: &Option<(crate::base::FieldPath, crate::base::FieldPath)>| {
                pair.as_ref()
                    .map(|(l, r)| if at == 0 { l.0.clone() } else { r.0.clone() })
            };
            let (key, ids) = (pick(&m.key), pick(&m.ids));
            // The other side's create answers with its new record's id:
            // only where that id is the key does the answer carry one to
            // write back (docs/design/10-rest-providers.md, "Records born
            // on the other side").
            let other_keyed_by_id = match (&m.key, &m.ids) {
                (Some((kl, kr)), Some((il, ir))) => {
                    if at == 0 {
                        kr == ir
                    } else {
                        kl == il
                    }
                }
                _ => true,
            };
            if let Some(key) = &key {
                born_here(
                    file,
                    type_ref.span,
                    m,
                    record,
                    key,
                    (ids.is_some(), other_keyed_by_id),
                    written,
                    program,
                    providers,
                    diags,
                );
            }
            if !written {
                continue;
            }
            for p in providers {
                for r in p.resources.iter().filter(|r| &r.record_type == type_name) {
                    let mut missing = Vec::new();
                    if r.writes.create.is_none() {
                        missing.push("create");
                    }
                    if r.writes.update.is_none() {
                        missing.push("update");
                    }
                    let deletes = matches!(
                        m.on_delete,
                        Some(DeletePolicy::Propagate | DeletePolicy::Review)
                    );
                    if deletes && r.writes.delete.is_none() {
                        missing.push("delete");
                    }
                    if !missing.is_empty() {
                        let list = missing
                            .iter()
                            .map(|w| format!("`{w}`"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        diags.push(
                            Diagnostic::error(
                                Code::E0253,
                                file,
                                type_ref.span,
                                format!(
                                    "mapping `{}` writes `{type_name}`, and resource `{}` of provider `{}` declares no {list}",
                                    m.name, r.name, p.name
                                ),
                            )
                            .label("written by this mapping")
                            .help(format!(
                                "declare the missing request{} in resource `{}`{}",
                                if missing.len() > 1 { "s" } else { "" },
                                r.name,
                                if m.directions.len() > 1 {
                                    ", or make the mapping one-way if this side is only read"
                                } else {
                                    ""
                                }
                            )),
                        );
                    }
                    let changes = [("update", &r.writes.update), ("delete", &r.writes.delete)];
                    for (word, change) in changes {
                        let Some(change) = change else { continue };
                        for v in change.request.path.vars() {
                            let Var::Field(f) = v else { continue };
                            if Some(f) == key.as_ref() || Some(f) == ids.as_ref() {
                                continue;
                            }
                            let carried = [("key", &key), ("ids", &ids)]
                                .iter()
                                .filter_map(|(w, p)| {
                                    p.as_ref().map(|p| format!("`{}` ({w})", p.join(".")))
                                })
                                .collect::<Vec<_>>();
                            diags.push(
                                Diagnostic::error(
                                    Code::E0246,
                                    file,
                                    type_ref.span,
                                    format!(
                                        "provider `{}` addresses an {word} of `{type_name}` by `{{{}}}`, which mapping `{}` does not give every {word}",
                                        p.name,
                                        f.join("."),
                                        m.name
                                    ),
                                )
                                .label("this side")
                                .note(if carried.is_empty() {
                                    "the mapping names no `key` or `ids` path on this side".to_string()
                                } else {
                                    format!("an {word} carries this side's {}", carried.join(" and "))
                                })
                                .help(format!(
                                    "address the {word} by the side's key or id, or name that field in the mapping's `ids`"
                                )),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// E0251: records read from a provider's resource may lack the mapping's
/// key there (an optional field: a record made in that system by hand),
/// and tether could not give them one: the key field is read-only, the
/// mapping never writes the side, the resource has no `update`, the
/// mapping has no `ids` to address the record by until it has a key, or
/// the other side's key is not its own id (its create answers with an
/// id, which is a key only there). `ids`: whether the mapping has `ids`,
/// and whether the other side's key is its id.
#[allow(clippy::too_many_arguments)]
fn born_here(
    file: FileId,
    span: Span,
    m: &crate::check::Mapping,
    record: RecordId,
    key: &[String],
    (has_ids, other_keyed_by_id): (bool, bool),
    written: bool,
    program: &crate::check::Program,
    providers: &[ProviderSpec],
    diags: &mut Vec<Diagnostic>,
) {
    let reg = &program.registry;
    if reg.read_presence(record, key) == crate::schema::ReadPresence::Declared {
        return;
    }
    let type_name = &reg.record(record).name;
    let read_only = {
        let mut rec = Some(record);
        let mut any = false;
        for name in key {
            let Some((_, f)) = rec.and_then(|r| reg.record(r).field(name)) else {
                break;
            };
            any |= f.access == crate::schema::Access::ReadOnly;
            rec = match &f.ty.kind {
                Kind::Record(r) => Some(*r),
                _ => None,
            };
        }
        any
    };
    for p in providers {
        for r in p
            .resources
            .iter()
            .filter(|r| &r.record_type == type_name && r.read.is_some())
        {
            let mut why = Vec::new();
            if read_only {
                why.push("the key is read-only there".to_string());
            }
            if !written {
                why.push(format!("mapping `{}` never writes this side", m.name));
            } else if r.writes.update.is_none() {
                why.push(format!("resource `{}` has no `update`", r.name));
            }
            if !has_ids {
                why.push("the mapping has no `ids` to address such a record by".to_string());
            } else if !other_keyed_by_id {
                why.push(
                    "the other side's key is not its own id (`ids`): its create answers with \
                     the id, not a key to write back"
                        .to_string(),
                );
            }
            if why.is_empty() {
                continue;
            }
            diags.push(
                Diagnostic::error(
                    Code::E0251,
                    file,
                    span,
                    format!(
                        "records read from provider `{}` may lack the key `{}`, and tether could not give them one",
                        p.name,
                        key.join(".")
                    ),
                )
                .label(format!("`{type_name}` records born here"))
                .note(why.join("; "))
                .help("make the key a field every record has (the provider's own id), or let the mapping write the key back: a writable key field, an `update`, `ids`, and a key that is the other side's own id"),
            );
        }
    }
}
