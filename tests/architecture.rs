//! Architecture invariants, checked: who may import whom (see
//! ARCHITECTURE.md), every module opens with a doc comment, and the X12
//! core does no I/O of its own.

use std::path::{Path, PathBuf};

/// Top-level modules of `src/` and the modules each may `use crate::...`.
const ALLOWED: &[(&str, &[&str])] = &[
    ("transport", &[]),
    ("x12", &[]),
    ("model", &[]),
    ("format", &["x12"]),
    ("mapping", &["format", "model", "x12"]),
    ("relay", &[]),
    ("store", &[]),
    ("config", &["transport", "relay", "mapping"]),
    (
        "daemon",
        &[
            "config",
            "transport",
            "x12",
            "format",
            "mapping",
            "model",
            "relay",
            "store",
        ],
    ),
    (
        "cli",
        &[
            "config",
            "daemon",
            "transport",
            "x12",
            "format",
            "mapping",
            "model",
            "relay",
            "store",
        ],
    ),
];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn modules_import_only_downward() {
    let mut violations = Vec::new();
    for (module, allowed) in ALLOWED {
        let dir = src().join(module);
        assert!(dir.is_dir(), "src/{module} is missing");
        for file in rust_files(&dir) {
            let text = std::fs::read_to_string(&file).expect("readable");
            for (n, line) in text.lines().enumerate() {
                let Some(rest) = line.trim_start().split("crate::").nth(1) else {
                    continue;
                };
                let target = rest
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .next()
                    .unwrap_or("");
                if target != *module && !allowed.contains(&target) && !target.is_empty() {
                    violations.push(format!(
                        "{}:{}: {module} uses crate::{target}",
                        file.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the layering:\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_module_says_what_it_is_for() {
    let mut missing = Vec::new();
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).expect("readable");
        if !text.trim_start().starts_with("//!") {
            missing.push(file.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "modules without a //! doc comment:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_x12_core_does_no_io_of_its_own() {
    // The core reads from the Read/AsyncRead it is given; files and sockets
    // belong to the layers above. (defs may read a definitions folder on
    // request; it is the one exception.)
    let forbidden = [
        "std::fs::",
        "File::open",
        "TcpStream",
        "std::net::",
        "tokio::fs",
        "println!",
        "eprintln!",
    ];
    let mut found = Vec::new();
    // The same holds for the format decoders and the model.
    let files = ["x12", "format", "model"]
        .iter()
        .flat_map(|m| rust_files(&src().join(m)));
    for file in files {
        if file.components().any(|c| c.as_os_str() == "defs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for f in forbidden {
            if code.contains(f) {
                found.push(format!("{}: {f}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "I/O in the X12 core:\n{}",
        found.join("\n")
    );
}
