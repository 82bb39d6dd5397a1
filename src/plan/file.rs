//! Plan files: what `tether build` writes and `run`/`sync` load instead of
//! sources. Line 1 is a header read on its own, so a plan of another format
//! is refused by its header before its body is parsed; line 2 is the body.
//! Loading checks the body against the header's hash, deserialises it,
//! validates its structure ([`super::validate`]: a plan whose hash was
//! forged too is refused, never run into a panic) and prepares constants:
//! no mapping source is parsed or checked again.

use super::sync_spec::SyncSpec;
use super::{Plan, PlanRule, lower_mapping};
use crate::check::{Program, RuleOrigin};
use crate::diag::SourceMap;
use crate::syntax::Direction;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Component, Path, PathBuf};

/// The shape of the serialised plan. Bump it whenever a serialised type
/// changes; a tether reads plans of its own format only.
/// Format 4: a resource may carry a `fetch` (issue 20, refetch).
pub const PLAN_FORMAT: u32 = 5;
const MAGIC: &str = "tether-plan";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Header {
    pub format: String,
    pub plan_format: u32,
    pub tether_version: String,
    /// `sha256:` over every source file's name and text, in load order.
    pub source_hash: String,
    /// `sha256:` over the body line (without its newline): a body altered
    /// after `tether build` is refused. Written by [`PlanFile::to_text`].
    pub body_hash: String,
    pub mappings: Vec<String>,
}

/// Every mapping of a set of sources, lowered both ways.
#[derive(Serialize, Deserialize)]
pub struct PlanFile {
    #[serde(skip)]
    pub header: Option<Header>,
    pub mappings: Vec<MappingPlans>,
    /// The providers the sources declare or import, checked: what `tether
    /// sync --left provider:NAME` builds a side from (format 3). The names
    /// of the variables holding secrets, never their values.
    pub providers: Vec<crate::provider::spec::ProviderSpec>,
    /// Each mapping's record types by qualified name: what picks a
    /// provider side's resource.
    pub record_types: Vec<RecordTypes>,
}

/// A mapping's left and right record types (`hubspot.Contact`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RecordTypes {
    pub mapping: String,
    pub left: String,
    pub right: String,
}

fn record_types(program: &Program) -> Vec<RecordTypes> {
    program
        .mappings
        .iter()
        .map(|m| RecordTypes {
            mapping: m.name.clone(),
            left: program.registry.record(m.left).name.clone(),
            right: program.registry.record(m.right).name.clone(),
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
pub struct MappingPlans {
    pub name: String,
    pub forward: Option<Plan>,
    pub reverse: Option<Plan>,
    pub sync: SyncSpec,
}

#[derive(Debug)]
pub enum LoadError {
    NotAPlan,
    Incompatible {
        found: u32,
        tether_version: String,
    },
    /// The body does not have the hash the header gives.
    Altered,
    Malformed(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotAPlan => f.write_str("not a tether plan file (no `tether-plan` header)"),
            LoadError::Incompatible {
                found,
                tether_version,
            } => write!(
                f,
                "the plan has format {found} (built by tether {tether_version}); this tether {} \
                 reads format {PLAN_FORMAT}: rebuild it with `tether build`",
                env!("CARGO_PKG_VERSION")
            ),
            LoadError::Altered => f.write_str(
                "the plan file is damaged: its body does not match the hash in its header \
                 (it was changed after `tether build`): rebuild it with `tether build`",
            ),
            LoadError::Malformed(m) => write!(
                f,
                "the plan file is damaged: {m}; rebuild it with `tether build`"
            ),
        }
    }
}

impl PlanFile {
    /// Lowers every mapping of checked programs (one per source file) in
    /// each direction it has. Mapping names must be unique across them.
    pub fn build(programs: &[(&Program, &SourceMap)]) -> Result<PlanFile, String> {
        let mut mappings: Vec<MappingPlans> = Vec::new();
        // Which file each mapping came from, for a clash.
        let mut files: Vec<&str> = Vec::new();
        let mut types = Vec::new();
        for (program, sources) in programs {
            types.extend(record_types(program));
            let file = sources.files().next().map_or("?", |(name, _)| name);
            for m in lower_program(program) {
                if let Some(i) = mappings.iter().position(|x| x.name == m.name) {
                    return Err(format!(
                        "two mappings are named `{}` ({} and {file}); a plan names each \
                         mapping once: build them into separate plans",
                        m.name, files[i]
                    ));
                }
                mappings.push(m);
                files.push(file);
            }
        }
        let header = Header {
            format: MAGIC.to_string(),
            plan_format: PLAN_FORMAT,
            tether_version: env!("CARGO_PKG_VERSION").to_string(),
            source_hash: source_hash(programs.iter().map(|(_, s)| *s)),
            body_hash: String::new(),
            mappings: mappings.iter().map(|m| m.name.clone()).collect(),
        };
        Ok(PlanFile {
            header: Some(header),
            mappings,
            providers: Vec::new(),
            record_types: types,
        })
    }

    /// [`PlanFile::build`] for the plan file `plan`, with its rule
    /// locations relative to it ([`PlanFile::with_locations_relative_to`]).
    pub fn build_for(programs: &[(&Program, &SourceMap)], plan: &Path) -> Result<PlanFile, String> {
        Self::build(programs).map(|p| p.with_locations_relative_to(plan))
    }

    /// The plan as written to `plan` (`-`: standard output): each rule's
    /// location names its source relative to the plan's folder (the
    /// working folder for `-`), so a plan file does not carry the absolute
    /// paths of the machine that built it, and still points at the source
    /// when the folder is deployed together.
    pub fn with_locations_relative_to(mut self, plan: &Path) -> PlanFile {
        let dir = match plan.parent() {
            Some(d) if plan != Path::new("-") && !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let base = std::path::absolute(dir).ok().map(|b| lexical(&b));
        for m in &mut self.mappings {
            for p in [&mut m.forward, &mut m.reverse].into_iter().flatten() {
                relocate_rules(&mut p.rules, base.as_deref());
            }
        }
        self
    }

    /// The plans of one checked program, without a header (running from
    /// sources).
    pub fn of_program(program: &Program) -> PlanFile {
        PlanFile {
            header: None,
            mappings: lower_program(program),
            providers: Vec::new(),
            record_types: record_types(program),
        }
    }

    /// The plan with these providers in it. Two sources declaring one
    /// provider name differently are refused (the same `.tprovider`
    /// imported by two mapping files is one provider).
    pub fn with_providers(
        mut self,
        providers: impl IntoIterator<Item = crate::provider::spec::ProviderSpec>,
    ) -> Result<PlanFile, String> {
        for p in providers {
            match self.providers.iter().find(|q| q.name == p.name) {
                Some(q) if *q == p => {}
                Some(_) => {
                    return Err(format!(
                        "two sources declare provider `{}` differently; a plan holds each                          provider once: build them into separate plans",
                        p.name
                    ));
                }
                None => self.providers.push(p),
            }
        }
        Ok(self)
    }

    /// The file's text: the header (with the body's hash) and the body.
    pub fn to_text(&self) -> Result<String, serde_json::Error> {
        let body = serde_json::to_string(self)?;
        let header = self.header.clone().map(|h| Header {
            body_hash: body_hash(&body),
            ..h
        });
        let mut out = serde_json::to_string(&header)?;
        out.push('\n');
        out.push_str(&body);
        out.push('\n');
        Ok(out)
    }

    /// Whether `text` starts like a plan file (so a path may be either a
    /// plan or a mapping source).
    pub fn is_plan(text: &str) -> bool {
        text.starts_with("{\"format\":\"tether-plan\"")
    }

    pub fn parse(text: &str) -> Result<PlanFile, LoadError> {
        let (head, body) = text.split_once('\n').unwrap_or((text, ""));
        if !Self::is_plan(head) {
            return Err(LoadError::NotAPlan);
        }
        let header: Header =
            serde_json::from_str(head).map_err(|e| LoadError::Malformed(format!("header: {e}")))?;
        if header.plan_format != PLAN_FORMAT {
            return Err(LoadError::Incompatible {
                found: header.plan_format,
                tether_version: header.tether_version,
            });
        }
        let body = body.strip_suffix('\n').unwrap_or(body);
        if body_hash(body) != header.body_hash {
            return Err(LoadError::Altered);
        }
        let mut file: PlanFile =
            serde_json::from_str(body).map_err(|e| LoadError::Malformed(e.to_string()))?;
        for m in &file.mappings {
            for (dir, plan) in [("forward", &m.forward), ("reverse", &m.reverse)] {
                if let Some(plan) = plan {
                    super::validate::plan(plan, body.len()).map_err(|e| {
                        LoadError::Malformed(format!("mapping `{}` ({dir}): {e}", m.name))
                    })?;
                }
            }
        }
        for p in &file.providers {
            crate::provider::spec::validate(p)
                .map_err(|e| LoadError::Malformed(format!("provider `{}`: {e}", p.name)))?;
        }
        for m in &mut file.mappings {
            m.forward
                .iter_mut()
                .chain(&mut m.reverse)
                .for_each(Plan::prepare);
        }
        file.header = Some(header);
        Ok(file)
    }

    pub fn mapping(&self, name: &str) -> Result<&MappingPlans, super::PlanError> {
        self.mappings
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| super::PlanError::UnknownMapping {
                name: name.to_string(),
                available: self.mappings.iter().map(|m| m.name.clone()).collect(),
            })
    }
}

impl MappingPlans {
    pub fn plan(&self, dir: Direction) -> Result<&Plan, super::PlanError> {
        match dir {
            Direction::Forward => self.forward.as_ref(),
            Direction::Reverse => self.reverse.as_ref(),
        }
        .ok_or_else(|| super::PlanError::NoSuchDirection {
            mapping: self.name.clone(),
            direction: dir,
        })
    }
}

fn lower_program(program: &Program) -> Vec<MappingPlans> {
    program
        .mappings
        .iter()
        .map(|m| MappingPlans {
            name: m.name.clone(),
            forward: m
                .directions
                .contains(&Direction::Forward)
                .then(|| lower_mapping(program, m, Direction::Forward)),
            reverse: (m.directions.contains(&Direction::Reverse) && m.iteration.is_none())
                .then(|| lower_mapping(program, m, Direction::Reverse)),
            sync: SyncSpec::of(m),
        })
        .collect()
}

fn relocate_rules(rules: &mut [PlanRule], base: Option<&Path>) {
    for r in rules {
        match r {
            PlanRule::Value { origin, .. } => relocate(origin, base),
            PlanRule::Each { rules, origin, .. } => {
                relocate(origin, base);
                relocate_rules(rules, base);
            }
        }
    }
}

/// `NAME:LINE:COL` with NAME relative to `base`; without a base, or when
/// no relative path reaches it (another drive), the file's name alone.
fn relocate(origin: &mut RuleOrigin, base: Option<&Path>) {
    let mut parts = origin.location.rsplitn(3, ':');
    let (Some(col), Some(line), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let path = Path::new(name);
    let relative = base
        .zip(std::path::absolute(path).ok())
        .and_then(|(base, abs)| relative_path(&lexical(&abs), base))
        .or_else(|| path.file_name().map(PathBuf::from))
        .unwrap_or_default();
    origin.location = format!("{}:{line}:{col}", relative.display());
}

/// `path` without `.` and with `..` taken back, by its text alone.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `to` as a path from the folder `from` (both absolute and lexical).
fn relative_path(to: &Path, from: &Path) -> Option<PathBuf> {
    let to: Vec<Component> = to.components().collect();
    let from: Vec<Component> = from.components().collect();
    if to.first() != from.first() {
        return None;
    }
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c);
    }
    Some(out)
}

/// `sha256:` and the hex digest of a plan body.
pub fn body_hash(body: &str) -> String {
    format!("sha256:{}", hex(&Sha256::digest(body.as_bytes())))
}

fn source_hash<'s>(sources: impl Iterator<Item = &'s SourceMap>) -> String {
    let mut h = Sha256::new();
    for (name, text) in sources.flat_map(SourceMap::files) {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    format!("sha256:{}", hex(&h.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
