//! The gateway writes a file's acknowledgments in the pass that translates
//! it (`Request::acknowledge`), with placeholder control numbers put right
//! afterwards (`x12::renumber`), instead of reading the file a second time
//! for them. Both ways must give the same bytes: for every X12 sample
//! (good, bad and broken), and for 997s, 999s and each TA1 policy, the
//! acknowledgments of the translation pass are those of the checker run
//! alone over the file, and renumbered they are what the writer gives with
//! the real numbers from the start.

mod support;

use std::path::PathBuf;

use chrono::NaiveDate;
use dropgate::mapping::Library;
use dropgate::mapping::translate::{Request, translate};
use dropgate::x12::ack::{AckKind, AckOptions, AckWriter, Ta1Policy};
use dropgate::x12::control::Counter;
use dropgate::x12::defs::Definitions;
use dropgate::x12::envelope::{CheckOptions, Checker, check_reader};
use dropgate::x12::renumber::{Placeholders, renumber};
use dropgate::x12::{ParseErrorKind, SegmentReader};
use support::cli::root;

fn samples() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for folder in ["good", "bad", "broken"] {
        let dir = root().join("samples/x12").join(folder);
        for entry in std::fs::read_dir(&dir).expect("samples") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "edi") {
                found.push(path);
            }
        }
    }
    found.sort();
    assert!(found.len() > 50, "{found:?}");
    found
}

fn options(kind: AckKind, ta1: Ta1Policy) -> AckOptions {
    let stamp = NaiveDate::from_ymd_opt(2026, 12, 6)
        .and_then(|d| d.and_hms_opt(10, 30, 0))
        .expect("a time");
    let mut o = AckOptions::new(stamp);
    o.kind = kind;
    o.ta1 = ta1;
    o
}

/// The acknowledgments of the checker alone over `bytes` (as the gateway
/// wrote them before), numbered by `numbers`; `None` for a file that
/// cannot be read.
fn alone(
    bytes: &[u8],
    options: &AckOptions,
    numbers: &mut dyn dropgate::x12::control::ControlNumbers,
) -> Option<Vec<u8>> {
    let defs = Definitions::embedded();
    let mut checker = Checker::new(defs, &CheckOptions::default()).expect("a checker");
    let mut reader = SegmentReader::new(bytes);
    let mut acks = AckWriter::new(Vec::new(), options.clone(), numbers);
    if let Err(e) = check_reader(&mut reader, &mut checker, &mut acks)
        && matches!(e.kind(), ParseErrorKind::Io(_))
    {
        return None;
    }
    acks.into_inner().ok()
}

#[test]
fn the_translation_pass_writes_the_acknowledgments_the_checker_alone_writes() {
    let library = Library::embedded();
    let defs = Definitions::embedded();
    let mut compared = 0;
    for path in samples() {
        let bytes = std::fs::read(&path).expect("sample");
        for (kind, ta1) in [
            (AckKind::Functional, Ta1Policy::WhenRequested),
            (AckKind::Functional, Ta1Policy::Always),
            (AckKind::Implementation, Ta1Policy::Never),
        ] {
            let options = options(kind, ta1);
            let request = Request {
                file_name: path.display().to_string(),
                lines: true,
                acknowledge: Some(options.clone()),
                ..Request::default()
            };
            // A file the translation cannot read to its end is answered by
            // the gateway reading it again: nothing to compare.
            let Ok((outcome, _)) =
                translate(bytes.as_slice(), &request, &library, defs, Vec::new())
            else {
                continue;
            };
            let one_pass = outcome
                .acknowledgment
                .expect("acknowledgments were asked for");
            let mut placeholders = Placeholders::default();
            let two_passes = alone(&bytes, &options, &mut placeholders).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&one_pass.bytes),
                String::from_utf8_lossy(&two_passes),
                "{} ({kind:?}, {ta1:?})",
                path.display()
            );
            assert_eq!(one_pass.numbers, placeholders, "{}", path.display());
            // Renumbered, they are what the writer gives with the real
            // numbers from the start.
            let mut real = Counter::starting_at(4711);
            let direct = alone(&bytes, &options, &mut real).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&renumber(&one_pass.bytes, 4711, 4711)),
                String::from_utf8_lossy(&direct),
                "{} renumbered",
                path.display()
            );
            compared += 1;
        }
    }
    assert!(compared > 150, "only {compared} compared");
}
