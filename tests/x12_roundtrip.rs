//! A well-formed file parsed and written back with its own delimiters and
//! line style is byte-identical: a property over generated interchanges,
//! and a check over every sample that is well formed.

use std::path::Path;

use dropgate::x12::segment::OwnedSegment;
use dropgate::x12::{Delimiters, LineStyle, ReaderOptions, SegmentReader, Writer};
use proptest::prelude::*;

/// Parses `input` into owned segments and writes them back, interchange by
/// interchange, with the delimiters and line style each one came with.
fn round_trip(input: &[u8], buffer_len: usize) -> Vec<u8> {
    let options = ReaderOptions {
        buffer_len,
        ..ReaderOptions::default()
    };
    let mut reader = SegmentReader::with_options(input, options);
    // (delimiters, segments) per interchange; the style is known at its end.
    let mut interchanges: Vec<(Delimiters, Vec<OwnedSegment>, LineStyle)> = Vec::new();
    while let Some((segment, header, style)) = reader.next_item().expect("well-formed input reads")
    {
        if let Some(h) = header {
            interchanges.push((h.delimiters(), Vec::new(), LineStyle::None));
        }
        let last = interchanges.last_mut().expect("segments follow an ISA");
        last.1.push(segment.to_owned_segment());
        last.2 = style;
    }
    let mut writer = Writer::new(Vec::new(), Delimiters::x12_4010(), LineStyle::None);
    for (delimiters, segments, style) in interchanges {
        writer.set_delimiters(delimiters);
        writer.set_line_style(style);
        for s in &segments {
            writer.write(s).expect("values hold no delimiters");
        }
    }
    writer.into_inner().expect("in memory")
}

#[test]
fn well_formed_samples_round_trip() {
    let mut checked = 0;
    for dir in ["good", "bad"] {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples/x12")
            .join(dir);
        for entry in std::fs::read_dir(folder).expect("samples").flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "edi") {
                continue;
            }
            let input = std::fs::read(&path).expect("sample");
            // Files that open with a BOM or blank lines are not well formed.
            if !input.starts_with(b"ISA") {
                continue;
            }
            assert_eq!(round_trip(&input, 64 * 1024), input, "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} samples checked");
}

/// Delimiter sets seen in the wild: (element, component, terminator, repetition).
const DELIMITERS: &[(u8, u8, u8, Option<u8>)] = &[
    (b'*', b'>', b'~', None),
    (b'*', b':', b'~', Some(b'^')),
    (b'|', b'\\', b'!', Some(b'{')),
    (b'*', b'>', b'\n', None),
    (0x1D, 0x1F, 0x1C, None),
    (b'^', b'>', b'\'', Some(b'~')),
];

fn value(d: Delimiters) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        proptest::sample::select(b"ABCXYZ0129 .-/#@&(),".to_vec()),
        0..6,
    )
    .prop_map(move |v| v.into_iter().filter(|&b| !d.is_delimiter(b)).collect())
}

fn element(d: Delimiters) -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    let reps = if d.repetition().is_some() {
        1..3usize
    } else {
        1..2usize
    };
    proptest::collection::vec(proptest::collection::vec(value(d), 1..3), reps)
}

fn body_segment(d: Delimiters) -> impl Strategy<Value = OwnedSegment> {
    let id = "[A-HJ-Z][A-Z0-9]{1,2}";
    (id, proptest::collection::vec(element(d), 0..7)).prop_map(|(id, elements)| OwnedSegment {
        id: id.into_bytes(),
        elements: elements.into_iter().map(dropgate::x12::Element).collect(),
    })
}

fn interchange() -> impl Strategy<Value = Vec<u8>> {
    (0..DELIMITERS.len(), 0..3usize, 0..1_000_000_000u32)
        .prop_flat_map(|(which, style, control)| {
            let (e, c, t, r) = DELIMITERS[which];
            let d = Delimiters::new(e, c, t, r).expect("valid set");
            let style = if t == b'\n' {
                LineStyle::None
            } else {
                [LineStyle::None, LineStyle::Lf, LineStyle::CrLf][style]
            };
            (
                Just(d),
                Just(style),
                Just(control),
                proptest::collection::vec(body_segment(d), 0..25),
            )
        })
        .prop_map(|(d, style, control, body)| {
            let version = if d.repetition().is_some() {
                "00501"
            } else {
                "00401"
            };
            let isa11 = d
                .repetition()
                .map_or("U".to_string(), |r| (r as char).to_string());
            let number = format!("{control:09}");
            let isa: Vec<String> = vec![
                "00".into(),
                " ".repeat(10),
                "00".into(),
                " ".repeat(10),
                "ZZ".into(),
                format!("{:<15}", "SENDER"),
                "ZZ".into(),
                format!("{:<15}", "RECEIVER"),
                "240115".into(),
                "1030".into(),
                isa11,
                version.into(),
                number.clone(),
                "0".into(),
                "P".into(),
                (d.component() as char).to_string(),
            ];
            let mut w = Writer::new(Vec::new(), d, style);
            w.write(&OwnedSegment {
                id: b"ISA".to_vec(),
                elements: isa
                    .into_iter()
                    .map(|f| dropgate::x12::Element::simple(f.into_bytes()))
                    .collect(),
            })
            .expect("ISA");
            for s in &body {
                w.write(s).expect("body");
            }
            w.write_texts("IEA", &["0", number.as_str()]).expect("IEA");
            w.into_inner().expect("in memory")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn parse_then_write_is_identity(files in proptest::collection::vec(interchange(), 1..4), buffer in 16usize..4096) {
        let input: Vec<u8> = files.concat();
        prop_assert_eq!(round_trip(&input, buffer), input);
    }
}
