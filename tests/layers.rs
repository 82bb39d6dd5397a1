//! The phases form layers: each uses only the phases below it
//! (ARCHITECTURE.md; docs/design/11-checker-and-stdlib.md, "Core types at
//! the bottom"). This test reads every file under `src/`, finds the phases
//! it names (`crate::x`, `use crate::{x, y}` groups across lines, and
//! `super::` chains that climb to the crate root) in code, comments and
//! literals left out, and fails naming `file:line` for each use of a phase
//! that is not below the file's own. It also checks that ARCHITECTURE.md's
//! phase table lists the phases in this order.

use std::path::{Path, PathBuf};

/// The layers, lowest first: the one place the order is written.
const LAYERS: &[&str] = &[
    "base", "diag", "syntax", "stdlib", "schema", "check", "safe_fs", "http", "provider",
    "compile", "plan", "exec", "webhook", "sync", "laws", "testing", "cli",
];

/// The crate's roots declare the modules; they belong to no phase.
const ROOTS: &[&str] = &["lib.rs", "main.rs"];

/// A phase named at a line of a file.
#[derive(Debug, PartialEq)]
struct Use {
    line: usize,
    phase: String,
}

/// `text` with comments removed and the contents of string and character
/// literals blanked, newlines kept, so positions keep their line and no
/// `crate::` in prose or data counts, and a `{` in a literal does not
/// upset brace counting.
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied();
        let prev_ident = i > 0 && ident(c[i - 1]);
        if c[i] == '/' && at(i + 1) == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && at(i + 1) == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (!prev_ident || (c[i - 1] == 'b' && (i < 2 || !ident(c[i - 2]))))
            && matches!(at(i + 1), Some('#' | '"'))
        {
            // A raw string: r"...", r#"..."#, br"...".
            let mut j = i + 1;
            let mut hashes = 0;
            while at(j) == Some('#') {
                hashes += 1;
                j += 1;
            }
            if at(j) != Some('"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            out.push('"');
            j += 1;
            loop {
                match at(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|h| at(j + h) == Some('#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some(ch) => out.push(blank(ch)),
                }
                j += 1;
            }
            out.push('"');
            i = j;
        } else if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if let Some(&ch) = c.get(i) {
                    out.push(blank(ch));
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else if c[i] == '\'' && at(i + 1) == Some('\\') {
            // An escaped character literal: '\n', '\'', '\u{7b}'. The
            // escaped character itself may be a quote.
            let mut j = i + 3;
            while j < c.len() && c[j] != '\'' && c[j] != '\n' {
                j += 1;
            }
            out.push_str("' '");
            i = j + 1;
        } else if c[i] == '\'' && at(i + 2) == Some('\'') {
            out.push_str("' '");
            i += 3;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// How many modules deep the file's own module is: `src/x.rs` and
/// `src/x/mod.rs` are 1, `src/x/y.rs` is 2.
fn file_depth(rel: &Path) -> usize {
    let parts = rel.components().count();
    if rel.file_name().is_some_and(|n| n == "mod.rs") {
        parts - 1
    } else {
        parts
    }
}

/// The phases `text` names, with their lines. `depth` is the file's
/// module depth, to see where a `super::` chain leads.
fn uses(text: &str, depth: usize) -> Vec<Use> {
    let code = code_only(text);
    let c: Vec<char> = code.chars().collect();
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let line_at = |pos: usize| 1 + c[..pos].iter().filter(|&&ch| ch == '\n').count();
    let word_at = |pos: usize| -> String {
        c[pos..]
            .iter()
            .take_while(|&&ch| ident(ch))
            .collect::<String>()
    };
    let skip_space = |mut pos: usize| {
        while pos < c.len() && c[pos].is_whitespace() {
            pos += 1;
        }
        pos
    };
    // `::` after optional spaces: the position after it.
    let path_sep = |pos: usize| {
        let p = skip_space(pos);
        (c.get(p) == Some(&':') && c.get(p + 1) == Some(&':')).then(|| skip_space(p + 2))
    };
    let mut found = Vec::new();
    // Inline modules open at brace depths (`mod tests {`): a `super`
    // inside one climbs out of it first.
    let mut braces = 0usize;
    let mut inline_mods: Vec<usize> = Vec::new();
    let mut pending_mod = false;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '{' {
            braces += 1;
            if pending_mod {
                inline_mods.push(braces);
                pending_mod = false;
            }
            i += 1;
            continue;
        }
        if ch == '}' {
            if inline_mods.last() == Some(&braces) {
                inline_mods.pop();
            }
            braces = braces.saturating_sub(1);
            i += 1;
            continue;
        }
        if ch == ';' {
            // `mod x;` declares a file module: nothing opens here.
            pending_mod = false;
        }
        if !ident(ch) || (i > 0 && (ident(c[i - 1]) || c[i - 1] == '$')) {
            i += 1;
            continue;
        }
        let word = word_at(i);
        let after = i + word.chars().count();
        match word.as_str() {
            "mod" => pending_mod = true,
            "crate" => {
                if let Some(p) = path_sep(after) {
                    names_at(&c, p, &mut |pos| {
                        found.push(Use {
                            line: line_at(pos),
                            phase: word_at(pos),
                        })
                    });
                }
            }
            "super" => {
                // The chain's length, then what it reaches.
                let mut k = 1;
                let mut p = after;
                while let Some(q) = path_sep(p) {
                    if word_at(q) == "super" {
                        k += 1;
                        p = q + 5;
                    } else {
                        p = q;
                        break;
                    }
                }
                let here = depth + inline_mods.len();
                if k >= here && path_sep(after).is_some() {
                    if k > here {
                        found.push(Use {
                            line: line_at(i),
                            phase: "super beyond the crate root".into(),
                        });
                    } else {
                        names_at(&c, p, &mut |pos| {
                            found.push(Use {
                                line: line_at(pos),
                                phase: word_at(pos),
                            })
                        });
                    }
                }
                i = p;
                continue;
            }
            _ => {}
        }
        i = after;
    }
    found
}

/// Calls `name` with the position of each first path segment at `pos`:
/// one name, or each item of a `{...}` group (nested groups name the
/// group's own prefix only).
fn names_at(c: &[char], pos: usize, name: &mut dyn FnMut(usize)) {
    if c.get(pos) != Some(&'{') {
        name(pos);
        return;
    }
    let mut depth = 0;
    let mut item_start = true;
    for (j, &ch) in c.iter().enumerate().skip(pos) {
        match ch {
            '{' => {
                depth += 1;
                if depth == 1 {
                    item_start = true;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
            ',' if depth == 1 => item_start = true,
            _ if ch.is_whitespace() => {}
            _ if item_start && depth == 1 => {
                item_start = false;
                name(j);
            }
            _ => {}
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The phase a file belongs to: its first path component under `src/`.
fn phase_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .expect("a path under src/")
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.strip_suffix(".rs").unwrap_or(&first).to_string()
}

fn rank(phase: &str) -> Option<usize> {
    LAYERS.iter().position(|&p| p == phase)
}

#[test]
fn each_phase_uses_only_the_phases_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src/");
        if ROOTS.iter().any(|r| rel == Path::new(r)) {
            continue;
        }
        let own = phase_of(rel);
        let Some(own_rank) = rank(&own) else {
            wrong.push(format!(
                "src/{}: phase `{own}` is not in LAYERS (tests/layers.rs) nor in ARCHITECTURE.md",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(f).expect("a source file");
        for u in uses(&text, file_depth(rel)) {
            checked += 1;
            let ok = u.phase == own || rank(&u.phase).is_some_and(|r| r < own_rank);
            if !ok {
                wrong.push(format!(
                    "src/{}:{}: `{own}` uses `{}`, which is not below it",
                    rel.display(),
                    u.line,
                    u.phase
                ));
            }
        }
    }
    // The scanner must have seen the crate's many cross-phase imports;
    // none found would mean it is broken, not that the code is clean.
    assert!(checked > 100, "only {checked} uses of crate:: found");
    assert!(
        wrong.is_empty(),
        "phases using phases above them (order in tests/layers.rs, ARCHITECTURE.md):\n{}",
        wrong.join("\n")
    );
}

/// ARCHITECTURE.md's phase table: the phases of each row's `where` cell
/// (`src/x/`, `src/x.rs`), in row order.
fn table_order(md: &str) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    for line in md.lines().filter(|l| l.starts_with('|')) {
        let Some(cell) = line.split('|').nth(2) else {
            continue;
        };
        for piece in cell.split('`') {
            let Some(rest) = piece.strip_prefix("src/") else {
                continue;
            };
            let name = rest.split(['/', '.']).next().unwrap_or_default();
            if rank(name).is_some() && !order.iter().any(|p| p == name) {
                order.push(name.to_string());
            }
        }
    }
    order
}

#[test]
fn architecture_lists_the_phases_in_layer_order() {
    let md = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md");
    assert_eq!(
        table_order(&md),
        LAYERS,
        "ARCHITECTURE.md's phase table must list every phase, lowest first, as tests/layers.rs does"
    );
}

#[test]
fn the_scanner_reads_groups_and_skips_comments_and_literals() {
    let text = r##"
use crate::{
    syntax::{self as ast, Span},
    schema,
};
// use crate::sync::Side;
/* crate::exec */
const S: &str = "crate::cli";
const R: &str = r#"crate::cli " still inside"#;
const Q: char = '"';
const E: [char; 3] = ['\u{7b}', '\'','"'];
fn f() -> u8 { crate::diag::x() }
"##;
    let found = uses(text, 2);
    let got: Vec<(usize, &str)> = found.iter().map(|u| (u.line, u.phase.as_str())).collect();
    assert_eq!(got, [(3, "syntax"), (4, "schema"), (12, "diag")]);
}

#[test]
fn a_super_chain_to_the_crate_root_names_a_phase() {
    // In src/check/rules.rs (depth 2): `super::x` stays in check,
    // `super::super::plan` reaches the root and names plan.
    let text = "use super::types;\nuse super::super::plan::Plan;\nmod tests {\n    use super::super::Checker;\n    use super::super::super::exec;\n}\n";
    let found = uses(text, 2);
    let got: Vec<(usize, &str)> = found.iter().map(|u| (u.line, u.phase.as_str())).collect();
    assert_eq!(got, [(2, "plan"), (5, "exec")]);
}

#[test]
fn a_use_of_a_higher_phase_is_found() {
    // The rule itself, on a made-up file of `schema` naming `plan`.
    let own = rank("schema");
    let bad: Vec<String> = uses("use crate::plan::Plan;\nuse crate::diag::Code;\n", 1)
        .into_iter()
        .filter(|u| rank(&u.phase) >= own)
        .map(|u| u.phase)
        .collect();
    assert_eq!(bad, ["plan"]);
}

/// The `pub use` statements of `text` (code only) that re-export something
/// of `base`, with their lines.
fn base_reexports(text: &str) -> Vec<usize> {
    let code = code_only(text);
    let mut found = Vec::new();
    let mut rest = code.as_str();
    let mut offset = 0;
    while let Some(at) = rest.find("pub") {
        let start = offset + at;
        let after = &code[start + 3..];
        let before_ok = start == 0
            || !code[..start]
                .chars()
                .next_back()
                .is_some_and(|ch| ch.is_alphanumeric() || ch == '_');
        // `pub use`, `pub(crate) use`, `pub(super) use`.
        let tail = after.trim_start();
        let tail = match tail.strip_prefix('(') {
            Some(t) => t.split_once(')').map_or("", |(_, t)| t).trim_start(),
            None => tail,
        };
        if before_ok
            && let Some(stmt) = tail.strip_prefix("use ")
            && let Some((stmt, _)) = stmt.split_once(';')
            && stmt.contains("base::")
        {
            found.push(1 + code[..start].matches('\n').count());
        }
        offset = start + 3;
        rest = &code[offset..];
    }
    found
}

/// A base type has one path: `crate::base::...`. A phase that re-exported
/// one (`pub use crate::base::Span` in `syntax`) would give it a second,
/// and code would name the phase for it again (docs/design/11-checker-and-stdlib.md).
#[test]
fn no_phase_re_exports_a_base_type() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src/");
        if phase_of(rel) == "base" || ROOTS.iter().any(|r| rel == Path::new(r)) {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("a source file");
        for line in base_reexports(&text) {
            wrong.push(format!("src/{}:{line}", rel.display()));
        }
    }
    assert!(
        wrong.is_empty(),
        "re-exports of base types outside src/base/ (import them from `crate::base`):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_re_export_scanner_finds_pub_use_of_base_only() {
    let text = "use crate::base::Span;\npub use crate::base::Value;\n// pub use crate::base::Side;\npub(crate) use crate::{\n    base::FieldPath,\n};\npub use crate::plan::Plan;\nrepub use_x;\n";
    assert_eq!(base_reexports(text), [2, 4]);
}
