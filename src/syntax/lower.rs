//! pest pairs to AST nodes. The grammar guarantees the shape of each pair,
//! so a shape this code does not expect is a bug in the grammar/lowering
//! pair, not in the user's file: such items are dropped with an E0001 rather
//! than a panic.
//!
//! Why one file of about 1000 lines: one method per grammar rule, in the
//! grammar's order, so the file mirrors `grammar/tether.pest`; the
//! `provider` item's lowering is apart (`lower_provider.rs`).

use super::ast::*;
use super::grammar::Rule as R;
use crate::base::Span;
use crate::diag::{Code, Diagnostic, FileId};
use pest::iterators::Pair;

type P<'i> = Pair<'i, R>;

// `provider` items: a child module, so it shares the lowerer's helpers.
#[path = "lower_provider.rs"]
mod provider;

pub(super) struct Lowerer {
    file: FileId,
    offset: usize,
    /// Levels of `nested` entered: the AST's depth so far.
    depth: usize,
    /// E0007 is reported once: every enclosing level would repeat it.
    too_deep: bool,
    pub diagnostics: Vec<Diagnostic>,
}

/// What nests, in the words of E0007's message.
#[derive(Clone, Copy)]
enum Nesting {
    Type,
    Literal,
    Pipeline,
    Block,
}

impl Nesting {
    fn words(self) -> &'static str {
        match self {
            Nesting::Type => "this type",
            Nesting::Literal => "this value",
            Nesting::Pipeline => "this `if` step or pipeline",
            Nesting::Block => "this rule block",
        }
    }
}

impl Lowerer {
    pub fn new(file: FileId, offset: usize) -> Lowerer {
        Lowerer {
            file,
            offset,
            depth: 0,
            too_deep: false,
            diagnostics: Vec::new(),
        }
    }

    /// Runs `f` one level deeper, or reports E0007 past `MAX_NESTING`. The
    /// one depth count covers every recursive construct together, since
    /// each later phase recurses through all of them alike.
    fn nested<'i, T>(
        &mut self,
        p: P<'i>,
        what: Nesting,
        f: impl FnOnce(&mut Self, P<'i>) -> Option<T>,
    ) -> Option<T> {
        if self.depth >= super::MAX_NESTING {
            if !self.too_deep {
                self.too_deep = true;
                let span = self.span(&p);
                let span = Span::new(
                    span.start as usize,
                    (span.start as usize + 1).min(span.end as usize),
                );
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::E0007,
                        self.file,
                        span,
                        format!(
                            "nested too deeply: more than {} levels of types, values, `if` steps and rule blocks",
                            super::MAX_NESTING
                        ),
                    )
                    .label(format!("{} is level {}", what.words(), super::MAX_NESTING + 1))
                    .help("name an inner record type, use a table for a long `else if` chain, or flatten the value"),
                );
            }
            return None;
        }
        self.depth += 1;
        let out = f(self, p);
        self.depth -= 1;
        out
    }

    /// The node's span without the whitespace and comments pest lets a
    /// node swallow after its last part (`a ~ b?` keeps the skipped
    /// whitespace when `b` is absent), so labels end where the text does.
    fn span(&self, p: &P) -> Span {
        let s = p.as_span();
        let end = s.start() + significant_len(p.as_str());
        Span::new(s.start() + self.offset, end + self.offset)
    }

    fn ident(&self, p: P) -> Ident {
        Ident {
            span: self.span(&p),
            name: p.as_str().to_string(),
        }
    }

    fn bug(&mut self, p: &P, what: &str) {
        let span = self.span(p);
        self.diagnostics.push(Diagnostic::error(
            Code::E0001,
            self.file,
            span,
            format!("could not read {what} here"),
        ));
    }

    pub fn item(&mut self, p: P) -> Option<Item> {
        match p.as_rule() {
            R::import => self.import(p).map(Item::Import),
            R::schema_decl => self.schema(p).map(Item::Schema),
            R::table_decl => self.table(p).map(Item::Table),
            R::mapping_decl => self.mapping(p).map(Item::Mapping),
            R::test_decl => self.test(p).map(Item::Test),
            R::import_provider => self.import(p).map(Item::ImportProvider),
            R::provider_decl => self.provider(p).map(Item::Provider),
            _ => {
                self.bug(&p, "an item");
                None
            }
        }
    }

    fn import(&mut self, p: P) -> Option<Import> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(it.next()?);
        let path = self.string(it.next()?)?;
        Some(Import { name, path, span })
    }

    // ------------------------------------------------------------ strings

    fn string(&mut self, p: P) -> Option<StringLit> {
        let span = self.span(&p);
        let body = p.into_inner().next().map(|b| b.as_str()).unwrap_or("");
        match unescape(body) {
            Ok(value) => Some(StringLit { value, span }),
            Err(msg) => {
                self.diagnostics.push(
                    Diagnostic::error(Code::E0002, self.file, span, msg).label("in this string"),
                );
                None
            }
        }
    }

    // ------------------------------------------------------------ schemas

    fn schema(&mut self, p: P) -> Option<SchemaDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(it.next()?);
        let mut it = it.peekable();
        let xmlns = match it.next_if(|t| t.as_rule() == R::xmlns) {
            Some(x) => self.xmlns(x),
            None => None,
        };
        let types = it.filter_map(|t| self.type_decl(t)).collect();
        Some(SchemaDecl {
            name,
            xmlns,
            types,
            span,
        })
    }

    /// `xmlns "…"`: a namespace name is a non-empty URI (`xmlns=""` in XML
    /// means no namespace, which is what leaving it out says).
    fn xmlns(&mut self, p: P) -> Option<StringLit> {
        let lit = self.string(p.into_inner().next()?)?;
        if lit.value.trim().is_empty() {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::E0002,
                    self.file,
                    lit.span,
                    "an XML namespace is a non-empty URI".to_string(),
                )
                .label("empty")
                .note("leave `xmlns` out for documents in no namespace"),
            );
            return None;
        }
        Some(lit)
    }

    pub fn type_decl(&mut self, p: P) -> Option<TypeDecl> {
        let span = self.span(&p);
        match p.as_rule() {
            R::record_decl => {
                let mut it = p.into_inner();
                let name = self.ident(it.next()?);
                let body = self.record_body(it.next()?)?;
                Some(TypeDecl::Record(RecordDecl { name, body, span }))
            }
            R::enum_decl => {
                let mut it = p.into_inner();
                let name = self.ident(it.next()?);
                let values = it.filter_map(|v| self.string(v)).collect();
                Some(TypeDecl::Enum(EnumDecl { name, values, span }))
            }
            R::EOI => None,
            _ => {
                self.bug(&p, "a type declaration");
                None
            }
        }
    }

    fn record_body(&mut self, p: P) -> Option<RecordBody> {
        let span = self.span(&p);
        let mut fields = Vec::new();
        for f in p.into_inner() {
            let fspan = self.span(&f);
            let mut it = f.into_inner().peekable();
            let access = match it.peek().map(|p| (p.as_rule(), p.as_str())) {
                Some((R::field_access, "readonly")) => Access::ReadOnly,
                Some((R::field_access, _)) => Access::WriteOnly,
                _ => Access::ReadWrite,
            };
            if access != Access::ReadWrite {
                it.next();
            }
            let xml = match it.peek().map(|p| (p.as_rule(), p.as_str())) {
                Some((R::xml_form, "@")) => XmlForm::Attribute,
                Some((R::xml_form, _)) => XmlForm::Text,
                _ => XmlForm::Element,
            };
            if xml != XmlForm::Element {
                it.next();
            }
            let name = self.name(it.next()?)?;
            let mut optional = false;
            let mut next = it.next()?;
            if next.as_rule() == R::optional_mark {
                optional = true;
                next = it.next()?;
            }
            let ty = self.type_expr(next)?;
            fields.push(FieldDecl {
                optional,
                ty,
                span: fspan,
                description: None,
                xml,
                access,
                name,
            });
        }
        Some(RecordBody {
            fields,
            span,
            xml_sequence: false,
        })
    }

    /// An identifier or a quoted name (`"content-type"`).
    fn name(&mut self, p: P) -> Option<Ident> {
        match p.as_rule() {
            R::string => self.string(p).map(|s| Ident {
                name: s.value,
                span: s.span,
            }),
            _ => Some(self.ident(p)),
        }
    }

    fn type_expr(&mut self, p: P) -> Option<TypeExpr> {
        self.nested(p, Nesting::Type, Self::type_expr_here)
    }

    fn type_expr_here(&mut self, p: P) -> Option<TypeExpr> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let inner = it.next()?;
        let nullable = it.next().is_some_and(|n| n.as_rule() == R::nullable_mark);
        let kind = match inner.as_rule() {
            R::array_type => {
                TypeExprKind::Array(Box::new(self.type_expr(inner.into_inner().next()?)?))
            }
            R::map_type => TypeExprKind::Map(Box::new(self.type_expr(inner.into_inner().next()?)?)),
            R::money_type => TypeExprKind::Money(self.ident(inner.into_inner().next()?)),
            R::record_body => TypeExprKind::Record(self.record_body(inner)?),
            R::type_ref => {
                let r = self.type_ref(inner)?;
                TypeExprKind::Named {
                    namespace: r.namespace,
                    name: r.name,
                }
            }
            _ => {
                self.bug(&inner, "a type");
                return None;
            }
        };
        Some(TypeExpr {
            kind,
            nullable,
            span,
        })
    }

    fn type_ref(&mut self, p: P) -> Option<TypeRef> {
        let span = self.span(&p);
        let mut parts: Vec<Ident> = p.into_inner().map(|i| self.ident(i)).collect();
        let name = parts.pop()?;
        let namespace = parts.pop();
        Some(TypeRef {
            namespace,
            name,
            span,
        })
    }

    // ------------------------------------------------------------ tables

    fn table(&mut self, p: P) -> Option<TableDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(it.next()?);
        let mut entries = Vec::new();
        for e in it {
            let espan = self.span(&e);
            let inner = e.into_inner().next()?;
            match inner.as_rule() {
                R::table_pair => {
                    let mut parts = inner.into_inner();
                    let keys_pair = parts.next()?;
                    let keys = keys_pair
                        .into_inner()
                        .filter_map(|k| self.literal(k))
                        .collect();
                    let arrow = self.arrow(parts.next()?)?;
                    let value = self.literal(parts.next()?)?;
                    entries.push(TableEntry::Pair {
                        keys,
                        arrow,
                        value,
                        span: espan,
                    });
                }
                R::table_else => {
                    let mut parts = inner.into_inner();
                    parts.next()?; // `else`
                    let arrow = self.arrow(parts.next()?)?;
                    let value = self.literal(parts.next()?)?;
                    entries.push(TableEntry::Else {
                        arrow,
                        value,
                        span: espan,
                    });
                }
                _ => self.bug(&inner, "a table entry"),
            }
        }
        Some(TableDecl {
            name,
            entries,
            span,
        })
    }

    fn arrow(&mut self, p: P) -> Option<Arrow> {
        let span = self.span(&p);
        let kind = match p.as_str() {
            "->" => ArrowKind::Forward,
            "<-" => ArrowKind::Backward,
            "<->" => ArrowKind::Both,
            _ => {
                self.bug(&p, "an arrow");
                return None;
            }
        };
        Some(Arrow { kind, span })
    }

    // ------------------------------------------------------------ literals

    fn literal(&mut self, p: P) -> Option<Literal> {
        self.nested(p, Nesting::Literal, Self::literal_here)
    }

    fn literal_here(&mut self, p: P) -> Option<Literal> {
        let span = self.span(&p);
        // `literal`, `literal_source` and `literal_step` wrap the real token.
        let p = match p.as_rule() {
            R::literal | R::literal_source | R::literal_step => p.into_inner().next()?,
            _ => p,
        };
        let kind = match p.as_rule() {
            R::string => LiteralKind::String(self.string(p)?.value),
            R::number => LiteralKind::Number(p.as_str().to_string()),
            R::kw_true => LiteralKind::Bool(true),
            R::kw_false => LiteralKind::Bool(false),
            R::kw_null => LiteralKind::Null,
            R::object => {
                let mut members = Vec::new();
                for m in p.into_inner() {
                    let mut it = m.into_inner();
                    let key = self.name(it.next()?)?;
                    let value = self.literal(it.next()?)?;
                    members.push((key, value));
                }
                LiteralKind::Object(members)
            }
            R::array => {
                LiteralKind::Array(p.into_inner().filter_map(|v| self.literal(v)).collect())
            }
            _ => {
                self.bug(&p, "a literal");
                return None;
            }
        };
        Some(Literal { kind, span })
    }

    // ------------------------------------------------------------ mappings

    fn mapping(&mut self, p: P) -> Option<MappingDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(it.next()?);
        let left = self.type_ref(it.next()?)?;
        let arrow = self.arrow(it.next()?)?;
        let right = self.type_ref(it.next()?)?;
        let body = self.mapping_body(it.next()?);
        Some(MappingDecl {
            name,
            left,
            arrow,
            right,
            body,
            span,
        })
    }

    fn mapping_body(&mut self, p: P) -> Vec<MappingItem> {
        let mut items = Vec::new();
        for i in p.into_inner() {
            let span = self.span(&i);
            let item = match i.as_rule() {
                R::key_clause => self.rule(i, true).map(MappingItem::Rule),
                R::for_clause => self.for_clause(i).map(MappingItem::For),
                R::rule => self.rule(i, false).map(MappingItem::Rule),
                R::conflict_block => self.conflict(i).map(MappingItem::Conflict),
                R::unmapped_clause => self.unmapped(i).map(MappingItem::Unmapped),
                R::ids_clause => {
                    let mut it = i.into_inner().filter(|x| x.as_rule() == R::path);
                    match (it.next(), it.next()) {
                        (Some(l), Some(r)) => self
                            .path(l)
                            .zip(self.path(r))
                            .map(|(left, right)| MappingItem::Ids { left, right, span }),
                        _ => None,
                    }
                }
                _ => {
                    self.bug(&i, "a rule");
                    None
                }
            };
            items.push(item.unwrap_or(MappingItem::Broken(span)));
        }
        items
    }

    fn unmapped(&mut self, p: P) -> Option<UnmappedDecl> {
        let span = self.span(&p);
        let mut side = None;
        let mut paths = Vec::new();
        for part in p.into_inner() {
            match part.as_rule() {
                R::kw_unmapped => {}
                R::ident => side = Some(self.ident(part)),
                R::path => paths.push(self.path(part)?),
                _ => self.bug(&part, "`unmapped`"),
            }
        }
        Some(UnmappedDecl { side, paths, span })
    }

    fn for_clause(&mut self, p: P) -> Option<ForClause> {
        let span = self.span(&p);
        let mut it = p
            .into_inner()
            .filter(|x| !matches!(x.as_rule(), R::kw_for | R::kw_at | R::kw_in));
        let name = self.ident(it.next()?);
        let mut next = it.next()?;
        let mut position = None;
        if next.as_rule() == R::ident {
            position = Some(self.ident(next));
            next = it.next()?;
        }
        let path = self.path(next)?;
        Some(ForClause {
            name,
            position,
            path,
            span,
        })
    }

    fn rule(&mut self, p: P, is_key: bool) -> Option<Rule> {
        let span = self.span(&p);
        let mut it = p.into_inner().peekable();
        if is_key {
            it.next()?; // `key`
        }
        let left = self.endpoint(it.next()?)?;
        let arrow = self.arrow(it.next()?)?;
        let right = self.endpoint(it.next()?)?;
        let mut pipeline = None;
        let mut block = None;
        for rest in it {
            match rest.as_rule() {
                R::pipeline => pipeline = Some(self.pipeline(rest)?),
                R::block => {
                    block = Some(self.nested(rest, Nesting::Block, |me, b| {
                        Some(me.mapping_body(b.into_inner().next()?))
                    })?)
                }
                _ => self.bug(&rest, "a rule"),
            }
        }
        Some(Rule {
            is_key,
            left,
            arrow,
            right,
            pipeline,
            block,
            span,
        })
    }

    fn endpoint(&mut self, p: P) -> Option<Endpoint> {
        // `key_clause` has bare paths; `rule` wraps them in `endpoint`.
        let p = if p.as_rule() == R::endpoint {
            p.into_inner().next()?
        } else {
            p
        };
        match p.as_rule() {
            R::path => Some(Endpoint::Path(self.path(p)?)),
            R::path_tuple => {
                let span = self.span(&p);
                let paths = p.into_inner().filter_map(|x| self.path(x)).collect();
                Some(Endpoint::Tuple(paths, span))
            }
            R::literal_source => Some(Endpoint::Literal(self.literal(p)?)),
            _ => {
                self.bug(&p, "a path");
                None
            }
        }
    }

    fn path(&mut self, p: P) -> Option<Path> {
        let span = self.span(&p);
        let mut segments = Vec::new();
        for s in p.into_inner() {
            let sspan = self.span(&s);
            let mut it = s.into_inner().peekable();
            let xml = match it.peek().map(|p| (p.as_rule(), p.as_str())) {
                Some((R::xml_form, "@")) => XmlForm::Attribute,
                Some((R::xml_form, _)) => XmlForm::Text,
                _ => XmlForm::Element,
            };
            if xml != XmlForm::Element {
                it.next();
            }
            let name = self.name(it.next()?)?;
            let (mut iter, mut pick) = (false, None);
            if let Some(mark) = it.next() {
                match mark.as_rule() {
                    R::pick_mark => {
                        let text = mark.into_inner().next()?.as_str();
                        // Beyond i64 no array reaches: an index past the end.
                        let far = if text.starts_with('-') {
                            i64::MIN
                        } else {
                            i64::MAX
                        };
                        pick = Some(text.parse::<i64>().unwrap_or(far));
                    }
                    _ => iter = true,
                }
            }
            segments.push(Segment {
                name: name.name,
                xml,
                iter,
                pick,
                span: sspan,
            });
        }
        Some(Path { segments, span })
    }

    fn pipeline(&mut self, p: P) -> Option<Pipeline> {
        self.nested(p, Nesting::Pipeline, Self::pipeline_here)
    }

    fn pipeline_here(&mut self, p: P) -> Option<Pipeline> {
        let span = self.span(&p);
        let mut steps = Vec::new();
        for s in p.into_inner() {
            steps.push(self.step(s.into_inner().next()?)?);
        }
        Some(Pipeline { steps, span })
    }

    fn step(&mut self, p: P) -> Option<Step> {
        match p.as_rule() {
            R::call => {
                let span = self.span(&p);
                let mut it = p.into_inner();
                let name = self.ident(it.next()?);
                let mut args = Vec::new();
                let mut has_parens = false;
                if let Some(a) = it.next() {
                    has_parens = true;
                    for arg in a.into_inner() {
                        let mut parts = arg.into_inner();
                        let inner = parts.next()?;
                        args.push(match inner.as_rule() {
                            R::path => Arg::Path {
                                path: self.path(inner)?,
                                or: match parts.next() {
                                    Some(lit) => Some(self.literal(lit)?),
                                    None => None,
                                },
                            },
                            _ => Arg::Literal(self.literal(inner)?),
                        });
                    }
                }
                Some(Step::Call(Call {
                    name,
                    args,
                    has_parens,
                    span,
                }))
            }
            R::literal_step => Some(Step::Literal(self.literal(p)?)),
            R::path_step => Some(Step::Path(self.path(p.into_inner().next()?)?)),
            R::if_step => Some(Step::If(self.if_step(p)?)),
            R::each_step => {
                let span = self.span(&p);
                let mut it = p.into_inner();
                it.next()?; // `each`
                let pipeline = self.pipeline(it.next()?.into_inner().next()?)?;
                Some(Step::Each(EachStep { pipeline, span }))
            }
            _ => {
                self.bug(&p, "a pipeline step");
                None
            }
        }
    }

    fn if_step(&mut self, p: P) -> Option<IfStep> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        it.next()?; // `if`
        let condition = self.pipeline(it.next()?)?;
        let then = self.pipeline(it.next()?.into_inner().next()?)?;
        let mut otherwise = None;
        if it.next().is_some() {
            // `else`
            let e = it.next()?;
            otherwise = Some(Box::new(match e.as_rule() {
                // An `else if` chain nests in the AST as deeply as braces do.
                R::if_step => ElseBranch::If(self.nested(e, Nesting::Pipeline, Self::if_step)?),
                _ => ElseBranch::Pipeline(self.pipeline(e.into_inner().next()?)?),
            }));
        }
        Some(IfStep {
            condition,
            then,
            otherwise,
            span,
        })
    }

    // ------------------------------------------------------------ conflicts

    fn conflict(&mut self, p: P) -> Option<ConflictBlock> {
        let span = self.span(&p);
        let mut entries = Vec::new();
        let mut on_delete = Vec::new();
        for e in p.into_inner() {
            let espan = self.span(&e);
            let inner = e.into_inner().next()?;
            if inner.as_rule() == R::conflict_delete {
                let mut it = inner.into_inner();
                let policy = match it.next()?.as_str() {
                    "propagate" => DeletePolicy::Propagate,
                    "review" => DeletePolicy::Review,
                    _ => DeletePolicy::Ignore,
                };
                let mut flags = Vec::new();
                for p in it.filter(|p| p.as_rule() == R::path) {
                    flags.push(self.path(p)?);
                }
                on_delete.push(OnDelete {
                    policy,
                    flags,
                    span: espan,
                });
                continue;
            }
            let is_default = inner.as_rule() == R::conflict_default;
            let mut it = inner.into_inner();
            let field = if is_default {
                None
            } else {
                Some(self.path(it.next()?)?)
            };
            let strategy = self.strategy(it.next()?.into_inner().next()?)?;
            entries.push(ConflictEntry {
                field,
                strategy,
                span: espan,
            });
        }
        Some(ConflictBlock {
            entries,
            on_delete,
            span,
        })
    }

    fn strategy(&mut self, p: P) -> Option<Strategy> {
        Some(match p.as_rule() {
            R::prefer => {
                let mut it = p.into_inner();
                let side = self.ident(it.next()?);
                Strategy::Prefer {
                    side,
                    unless_blank: it.next().is_some(),
                }
            }
            R::newest => {
                let mut it = p.into_inner();
                let fields = match (it.next(), it.next()) {
                    (Some(a), Some(b)) => Some((self.path(a)?, self.path(b)?)),
                    _ => None,
                };
                Strategy::Newest { fields }
            }
            R::max_rule => Strategy::Max,
            R::min_rule => Strategy::Min,
            R::union_rule => Strategy::Union,
            R::review_rule => Strategy::Review,
            _ => {
                self.bug(&p, "a conflict rule");
                return None;
            }
        })
    }

    // ------------------------------------------------------------ tests

    fn test(&mut self, p: P) -> Option<TestDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let mapping = self.ident(it.next()?);
        let name = self.string(it.next()?)?;
        let head = span.to(name.span);
        // The grammar takes the parts in any order and number; their shape
        // (one `given`, then the `expect`s) is checked here, in words.
        let mut given: Option<(Ident, Literal, Span)> = None;
        let mut expects: Vec<Expectation> = Vec::new();
        let mut well_formed = true;
        for part in it {
            match part.as_rule() {
                R::test_given => {
                    let start = self.span(&part);
                    let mut g = part.into_inner();
                    let side = self.ident(g.next()?);
                    let record = self.literal(g.next()?)?;
                    // `given SIDE`: the record itself may be long.
                    let at = Span::new(start.start as usize, side.span.end as usize);
                    if let Some((_, _, first)) = &given {
                        self.diagnostics.push(
                            Diagnostic::error(Code::E0001, self.file, at, "a second `given` in one test")
                                .label("a test maps one input")
                                .secondary(self.file, *first, "the test's input")
                                .help("write another test for another input; a mapping with `for` makes several records from one `given`: write one `expect` for each"),
                        );
                        well_formed = false;
                    } else if let Some(first) = expects.first() {
                        self.diagnostics.push(
                            Diagnostic::error(Code::E0001, self.file, at, "`given` after `expect`")
                                .label("the input comes first")
                                .secondary(self.file, first.span(), "an expected record before the input")
                                .help("write `given SIDE { ... }` first, then one `expect` per record the mapping produces"),
                        );
                        well_formed = false;
                    }
                    given.get_or_insert((side, record, at));
                }
                _ => expects.push(self.expectation(part)?),
            }
        }
        let Some((given_side, given, given_at)) = given else {
            self.diagnostics.push(
                Diagnostic::error(Code::E0001, self.file, head, "a test without `given`")
                    .label("no input record")
                    .help("write `given SIDE { ... }` first, then one `expect` per record the mapping produces"),
            );
            return None;
        };
        if expects.is_empty() {
            self.diagnostics.push(
                Diagnostic::error(Code::E0001, self.file, given_at, "a test without `expect`")
                    .label("nothing is compared with what this input gives")
                    .help("after `given`, write `expect SIDE { ... }` for each record the mapping produces, or `expect reject { ... }`"),
            );
            return None;
        }
        if !well_formed {
            return None;
        }
        Some(TestDecl {
            mapping,
            name,
            given_side,
            given,
            expects,
            span,
        })
    }

    /// `expect SIDE { ... }` or `expect reject { ... }`.
    fn expectation(&mut self, p: P) -> Option<Expectation> {
        let expect_pair = p.into_inner().next()?;
        Some(match expect_pair.as_rule() {
            R::expect_reject => {
                let espan = self.span(&expect_pair);
                let matching = match expect_pair.into_inner().next() {
                    Some(o) => Some(self.literal(o)?),
                    None => None,
                };
                Expectation::Reject {
                    matching,
                    span: espan,
                }
            }
            _ => {
                let mut e = expect_pair.into_inner();
                let side = self.ident(e.next()?);
                let record = self.literal(e.next()?)?;
                Expectation::Record { side, record }
            }
        })
    }
}

/// JSON-style string escapes.
pub fn unescape(body: &str) -> Result<String, String> {
    if !body.contains('\\') {
        return Ok(body.to_string());
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16).map_err(|_| {
                    format!("`\\u{hex}` is not a valid unicode escape (expected 4 hex digits)")
                })?;
                let ch = char::from_u32(code)
                    .ok_or_else(|| format!("`\\u{hex}` is not a unicode scalar value"))?;
                out.push(ch);
            }
            Some(other) => return Err(format!("unknown escape `\\{other}` in string")),
            None => return Err("string ends with a lone `\\`".to_string()),
        }
    }
    Ok(out)
}

/// The length of `text` up to the end of its last byte that is neither
/// whitespace nor inside a comment (strings are skipped whole, so `"//"` in a
/// string is not a comment).
fn significant_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                end = i;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                i += 1;
                end = i;
            }
        }
    }
    // Never end inside a multi-byte character.
    while !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::significant_len;

    #[test]
    fn trailing_whitespace_and_comments_are_not_part_of_a_node() {
        let cases = [
            ("a -> B\n  ", "a -> B"),
            ("a -> B // note\n", "a -> B"),
            (
                "a -> B : prefix(\"//\") /* x */ \n",
                "a -> B : prefix(\"//\")",
            ),
            ("\"é\" ", "\"é\""),
            ("x", "x"),
            ("", ""),
        ];
        for (text, want) in cases {
            assert_eq!(&text[..significant_len(text)], want, "{text:?}");
        }
    }
}
