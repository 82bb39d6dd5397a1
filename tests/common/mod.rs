//! Helpers shared by the integration tests that drive the `tether` binary.
//! (Each test binary uses some of them.)
#![allow(dead_code)]

use std::process::Command;

/// Runs the binary; (exit code, stdout, stderr).
pub fn tether(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .output()
        .expect("run tether");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `text` to `name` in a temporary folder of this test binary
/// (`suite` keeps test files of different binaries apart); its path.
pub fn temp(suite: &str, name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("tether-{suite}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}
