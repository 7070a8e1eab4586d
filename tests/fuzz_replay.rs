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

/// The PDF reader's target: its regressions, every sample PDF and the
/// PDF fixtures.
#[test]
fn pdf_read_target() {
    let regressions = files(&root().join("fuzz/regressions/pdf_read"));
    assert!(
        !regressions.is_empty(),
        "fuzz/regressions/pdf_read is empty"
    );
    let pdfs = pdf_samples();
    assert!(pdfs.len() >= 5, "samples/pdf is missing");
    for path in regressions.iter().chain(&pdfs) {
        let data = std::fs::read(path).expect("readable");
        let outcome = std::panic::catch_unwind(|| dropgate::format::pdf::harness::read_pdf(&data));
        assert!(outcome.is_ok(), "pdf_read fails on {}", path.display());
    }
}

/// Extraction from positioned text: its regressions (seeds that decode
/// into invoices, and every input a fuzzer or the proptest below found).
#[test]
fn pdf_extract_target() {
    let regressions = files(&root().join("fuzz/regressions/pdf_extract"));
    assert!(
        !regressions.is_empty(),
        "fuzz/regressions/pdf_extract is empty"
    );
    for path in &regressions {
        let data = std::fs::read(path).expect("readable");
        let outcome = std::panic::catch_unwind(|| dropgate::mapping::pdf_harness::extract(&data));
        assert!(outcome.is_ok(), "pdf_extract fails on {}", path.display());
    }
}

mod random_pages {
    //! Random bytes through the extraction harness (the pdf_extract fuzz
    //! target's entry), for a run of the tests without cargo-fuzz: pages
    //! of words with invoices' labels and amounts at any coordinates.
    //! 500 inputs of each kind per run (about a minute in a debug build);
    //! `PDF_EXTRACT_CASES=20000` for a longer search.
    use proptest::prelude::*;

    fn cases() -> u32 {
        std::env::var("PDF_EXTRACT_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(500)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]
        #[test]
        fn random_pages_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
            dropgate::mapping::pdf_harness::extract(&data);
        }

        /// The seeds (invoices the extraction reads) with bytes changed,
        /// inserted and removed: a word swapped for another, a coordinate
        /// made NaN, a row moved, near the happy path.
        #[test]
        fn mutated_seeds_never_panic(
            pick in any::<prop::sample::Index>(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..10),
        ) {
            let seeds = super::files(&super::root().join("fuzz/regressions/pdf_extract"));
            let mut data = std::fs::read(&seeds[pick.index(seeds.len())]).expect("readable");
            for (at, byte, how) in edits {
                if data.is_empty() {
                    break;
                }
                let i = at.index(data.len());
                match how {
                    0 => data[i] = byte,
                    1 => data.insert(i, byte),
                    _ => { data.remove(i); }
                }
            }
            dropgate::mapping::pdf_harness::extract(&data);
        }
    }
}

fn pdf_samples() -> Vec<PathBuf> {
    let root = root();
    files(&root.join("samples/pdf"))
        .into_iter()
        .chain(files(&root.join("tests/fixtures/pdf")))
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect()
}

mod mutated_pdf {
    //! Mutations of the sample PDFs (bytes flipped, runs cut out, an
    //! object's bytes spliced into another place, the file cut short)
    //! through the PDF reader's harness: what a fuzzer would try first,
    //! on every test run. Kept small: a few hundred cases per run.
    use proptest::prelude::*;

    fn samples() -> Vec<Vec<u8>> {
        super::pdf_samples()
            .iter()
            .map(|p| std::fs::read(p).expect("readable"))
            .filter(|d| d.len() < 64 << 10)
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn mutated_pdfs_never_panic(
            pick in any::<prop::sample::Index>(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>(), 0u8..5), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let all = samples();
            let mut data = all[pick.index(all.len())].clone();
            for (at, other, byte, how) in edits {
                if data.len() < 2 {
                    break;
                }
                let i = at.index(data.len());
                match how {
                    0 => data[i] ^= 1 << (byte % 8),
                    1 => data[i] = byte,
                    2 => {
                        let end = (i + usize::from(byte)).min(data.len());
                        data.drain(i..end);
                    }
                    3 => {
                        // Splice a run from elsewhere (another object's bytes).
                        let j = other.index(data.len());
                        let end = (j + usize::from(byte) * 4).min(data.len());
                        let run = data[j..end].to_vec();
                        data.splice(i..i, run);
                    }
                    _ => {
                        // A token of PDF syntax.
                        let tokens: [&[u8]; 8] = [b"<<", b">>", b"[", b"]", b" 0 R", b"endstream", b"obj", b"(\\"];
                        let t = tokens[usize::from(byte) % tokens.len()];
                        data.splice(i..i, t.iter().copied());
                    }
                }
            }
            if cut.index(6) == 0 && !data.is_empty() {
                let keep = cut.index(data.len());
                data.truncate(keep);
            }
            dropgate::format::pdf::harness::read_pdf(&data);
        }
    }
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
