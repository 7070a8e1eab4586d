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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("x12");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    if let Ok(versions) = fs::read_dir(&root) {
        for version in versions.flatten() {
            let dir = version.path();
            if !dir.is_dir() {
                continue;
            }
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let rel = format!(
                        "{}/{}",
                        version.file_name().to_string_lossy(),
                        entry.file_name().to_string_lossy()
                    );
                    files.push((rel, path));
                }
            }
        }
    }
    files.sort();
    let mut out = String::from("&[\n");
    for (rel, path) in &files {
        out.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("]\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("x12_files.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
    embed_mappings();
}

fn embed_mappings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
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
                    .strip_prefix(&root)
                    .expect("under mappings/")
                    .to_string_lossy()
                    .replace('\\', "/");
                println!("cargo:rerun-if-changed={}", path.display());
                files.push((rel, path));
            }
        }
    }
    files.sort();
    let mut out = String::from("&[\n");
    for (rel, path) in &files {
        out.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("]\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("mapping_files.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}
