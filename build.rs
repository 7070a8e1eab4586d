//! Embeds the transaction-set definitions of `x12/` and the mappings of
//! `mappings/` in the binary.
//!
//! Writes `$OUT_DIR/x12_files.rs` and `$OUT_DIR/mapping_files.rs`: lists of
//! `(path, include_str!(..))` for every `x12/<version>/*.toml` and every
//! `mappings/**/*.toml`, so that a new file is picked up without touching
//! code.

use std::fs;
use std::path::Path;

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    embed(&manifest.join("x12"), "x12_files.rs");
    embed(&manifest.join("mappings"), "mapping_files.rs");
}

/// Writes `$OUT_DIR/<out>`: `(path under root, include_str!(..))` for every
/// `.toml` file under `root`, at any depth, sorted by path.
fn embed(root: &Path, out: &str) {
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        println!("cargo:rerun-if-changed={}", dir.display());
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                let rel = path
                    .strip_prefix(root)
                    .expect("found under root")
                    .to_string_lossy()
                    .replace('\\', "/");
                println!("cargo:rerun-if-changed={}", path.display());
                files.push((rel, path));
            }
        }
    }
    files.sort();
    let mut text = String::from("&[\n");
    for (rel, path) in &files {
        text.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    text.push_str("]\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join(out);
    fs::write(dest, text).expect("OUT_DIR is writable");
}
