//! A long file says why it is one file (issue 18: "no file in `src/` is
//! over ~800 lines without a reason written at its top"). The reason is a
//! paragraph of the module's doc that starts `Why one file`; a file that
//! grows past the limit without one fails here, naming it.

use std::path::{Path, PathBuf};

/// Lines above which a file must give its reason.
const LIMIT: usize = 800;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display())
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether the module doc at the top of `text` gives its reason.
fn gives_reason(text: &str) -> bool {
    text.lines()
        .take_while(|l| l.starts_with("//!"))
        .any(|l| l.starts_with("//! Why one file"))
}

#[test]
fn every_long_file_in_src_says_why_it_is_one_file() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 50, "the walk found too few files: {files:?}");
    let mut silent: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).ok()?;
            let lines = text.lines().count();
            (lines > LIMIT && !gives_reason(&text))
                .then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    silent.sort();
    assert!(
        silent.is_empty(),
        "split these files, or say at their top why each is one (`//! Why one file ...`):\n{}",
        silent.join("\n")
    );
}

#[test]
fn the_reason_is_read_only_from_the_module_doc() {
    assert!(gives_reason(
        "//! A module.\n//!\n//! Why one file of 900 lines: it is a table.\n\nuse x;\n"
    ));
    assert!(!gives_reason(
        "//! A module.\n\n// Why one file: not in the module doc.\n"
    ));
    assert!(!gives_reason("use x;\n//! Why one file: too late.\n"));
}
