//! The repository stands alone (issue 15): nothing it runs or tells a
//! reader to run reaches for the sibling `shared` folder of the development
//! machine, and every folder of real public material under `tests/data/`
//! says where it comes from and under which license. (`.ci/run` proves the
//! first by running the suite from a clone with nothing beside it; this test
//! names the offending file at once.)

use std::path::{Path, PathBuf};

/// The sibling folder's relative path, spelled so that this file does not
/// contain it.
const SIBLING: &str = concat!("..", "/shared");

/// What a clone runs or reads: code, scripts, mappings, snapshots and the
/// user-facing docs. Design notes (history) and the copied material itself
/// are not scanned.
const SCANNED: &[&str] = &[
    "src",
    "tests",
    "benches",
    "mappings",
    ".ci",
    "docs",
    "README.md",
    "ARCHITECTURE.md",
    "Cargo.toml",
];
const NOT_SCANNED: &[&str] = &["docs/design", "tests/data"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `rel` (a file or a folder), skipping `NOT_SCANNED`.
fn files(rel: &str, out: &mut Vec<PathBuf>) {
    if NOT_SCANNED.contains(&rel) {
        return;
    }
    let path = root().join(rel);
    if path.is_file() {
        out.push(path);
        return;
    }
    let Ok(entries) = std::fs::read_dir(&path) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        files(&format!("{rel}/{name}"), out);
    }
}

#[test]
fn nothing_reads_the_sibling_shared_folder() {
    let mut scanned = Vec::new();
    for rel in SCANNED {
        files(rel, &mut scanned);
    }
    assert!(scanned.len() > 50, "the scan found the sources");
    let offending: Vec<String> = scanned
        .iter()
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap_or_default();
            String::from_utf8_lossy(&bytes).contains(SIBLING)
        })
        .map(|p| p.strip_prefix(root()).unwrap_or(p).display().to_string())
        .collect();
    assert!(
        offending.is_empty(),
        "these files reach outside the repository ({SIBLING}); copy what they need \
         into tests/data/<topic>/ with a SOURCE.md: {offending:?}"
    );
}

#[test]
fn every_folder_of_test_data_names_its_origin_and_license() {
    let data = root().join("tests/data");
    let topics: Vec<PathBuf> = std::fs::read_dir(&data)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(!topics.is_empty(), "tests/data/ holds the copied material");
    for topic in topics.iter().filter(|p| p.is_dir()) {
        let source = std::fs::read_to_string(topic.join("SOURCE.md"))
            .unwrap_or_default()
            .to_lowercase();
        for what in ["origin", "license"] {
            assert!(
                source.contains(what),
                "{}: a SOURCE.md stating the files' {what}",
                topic.display()
            );
        }
    }
}
