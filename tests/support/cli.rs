//! The small helpers of the tests that run the dropgate binary: the
//! project's folder, the binary, its output as text, a folder's files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The project's folder (samples, mappings).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `dropgate ARGS` and waits for it.
pub fn dropgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Bytes as text, for assertions and their messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The names of the files (not folders) in `dir`, sorted; none when it is
/// not there.
pub fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    n.sort();
    n
}
