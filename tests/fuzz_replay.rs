//! Replays the fuzz seeds and every input a fuzzer ever found through the
//! fuzz targets' entry points, so that fixed crashes stay fixed.
//!
//! Inputs: `fuzz/regressions/<target>/*` (crashes and a minimized corpus,
//! committed) and the X12 samples. The test fails when a regression folder
//! is empty: a replay that checks nothing must not pass.

use std::path::{Path, PathBuf};

use dropgate::x12::harness;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.file_name().is_some_and(|n| n != ".gitkeep") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn replay(target: &str, run: fn(&[u8])) {
    let regressions = files(&root().join("fuzz/regressions").join(target));
    assert!(
        !regressions.is_empty(),
        "fuzz/regressions/{target} is empty"
    );
    let samples = files(&root().join("samples/x12"));
    assert!(samples.len() > 30, "samples/x12 is missing");
    for path in regressions.iter().chain(
        samples
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "edi")),
    ) {
        let data = std::fs::read(path).expect("readable");
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target} fails on {}", path.display());
    }
}

#[test]
fn parse_target() {
    replay("x12_parse", harness::parse);
}

#[test]
fn validate_target() {
    replay("x12_validate", |d| {
        harness::validate(d);
        harness::validate(&harness::enveloped(d));
    });
}

#[test]
fn ack_target() {
    replay("x12_ack", |d| {
        harness::ack(d);
        harness::ack(&harness::enveloped(d));
    });
}

#[test]
fn translate_target() {
    replay("translate", dropgate::mapping::harness::translate);
}

mod mutated {
    //! Mutations of the samples (bytes changed, inserted, removed, the
    //! input cut short) through the translate harness: what a fuzzer would
    //! try first, on every test run.
    use proptest::prelude::*;

    fn samples() -> Vec<Vec<u8>> {
        let root = super::root();
        let mut out = Vec::new();
        for dir in [
            "samples/x12/good",
            "mappings/partners/nordlys/inventory",
            "mappings/partners/bigbox/inventory",
            "mappings/partners/parcelco/order-status",
        ] {
            for p in super::files(&root.join(dir)) {
                let name = p.to_string_lossy();
                if name.ends_with(".edi") || name.ends_with(".csv") || name.ends_with(".xml") {
                    out.push(std::fs::read(&p).expect("readable"));
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
        #[test]
        fn mutated_samples_never_panic(
            pick in any::<prop::sample::Index>(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let all = samples();
            let mut data = all[pick.index(all.len())].clone();
            for (at, byte, how) in edits {
                if data.is_empty() {
                    break;
                }
                let i = at.index(data.len());
                match how {
                    0 => data[i] = byte,
                    1 => data.insert(i, byte),
                    2 => { data.remove(i); }
                    _ => {
                        // A delimiter of one of the formats.
                        let special = b"*~\n;,\"<>&";
                        data[i] = special[usize::from(byte) % special.len()];
                    }
                }
            }
            if cut.index(8) == 0 && !data.is_empty() {
                let keep = cut.index(data.len());
                data.truncate(keep);
            }
            dropgate::mapping::harness::translate(&data);
        }
    }
}
