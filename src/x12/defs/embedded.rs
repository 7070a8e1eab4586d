//! The definition files of `x12/`, built into the binary by `build.rs`.

/// `(path, text)` of every `x12/<version>/*.toml`, sorted by path.
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/x12_files.rs"));
