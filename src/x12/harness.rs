//! Entry points that take arbitrary bytes and must never panic: the fuzz
//! targets in `fuzz/` call these, and `tests/fuzz_replay.rs` replays the
//! corpus and every crash input through them.
//!
//! Each one also checks an invariant, so that a fuzzer finds wrong answers
//! and not only crashes.

use super::ack::{AckKind, AckOptions, AckWriter, Ta1Policy};
use super::control::Counter;
use super::defs::Definitions;
use super::envelope::{CheckOptions, Checker, check_bytes, check_reader};
use super::lexer::{Lexer, for_each_segment};
use super::reader::{ReaderOptions, SegmentReader};
use super::report::{Report, ReportFormat};

/// Lexes `data` in memory and through a reader with a tiny buffer; both
/// must find the same segments at the same offsets, or fail the same way.
pub fn parse(data: &[u8]) {
    let mut whole = Vec::new();
    let mut lexer = Lexer::new(4096);
    let first = for_each_segment(data, &mut lexer, |s, _, _| {
        whole.push((s.position().byte, s.raw().to_vec()));
        Ok(())
    });
    let mut reader = SegmentReader::with_options(
        data,
        ReaderOptions {
            max_segment_len: 4096,
            buffer_len: 7,
        },
    );
    let mut streamed = Vec::new();
    let second = loop {
        match reader.next_segment() {
            Ok(Some(s)) => streamed.push((s.position().byte, s.raw().to_vec())),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert_eq!(
        whole, streamed,
        "the in-memory lexer and the reader disagree"
    );
    assert_eq!(
        first.is_ok(),
        second.is_ok(),
        "one lexer failed and the other did not"
    );
}

/// Validates `data` and writes the text report.
pub fn validate(data: &[u8]) {
    let defs = Definitions::embedded();
    let Ok(mut checker) = Checker::new(defs, &CheckOptions::default()) else {
        return;
    };
    let mut report = Report::new(std::io::sink(), ReportFormat::Text, false);
    let in_memory = check_bytes(data, &mut checker, &mut report);
    let Ok(mut checker) = Checker::new(defs, &CheckOptions::default()) else {
        return;
    };
    let mut reader = SegmentReader::new(data);
    let streamed = check_reader(&mut reader, &mut checker, &mut ());
    match (in_memory, streamed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the in-memory and streaming checks disagree"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("one check failed and the other did not: {a:?} / {b:?}"),
    }
}

/// Acknowledges `data` (997 with TA1, then 999); whatever is written must
/// read back as X12 whose envelopes are correct.
pub fn ack(data: &[u8]) {
    let defs = Definitions::embedded();
    for kind in [AckKind::Functional, AckKind::Implementation] {
        let Ok(mut checker) = Checker::new(defs, &CheckOptions::default()) else {
            return;
        };
        let mut numbers = Counter::starting_at(1);
        let mut options = AckOptions::new(chrono::NaiveDateTime::default());
        options.kind = kind;
        options.ta1 = Ta1Policy::Always;
        let mut writer = AckWriter::new(Vec::new(), options, &mut numbers);
        if check_bytes(data, &mut checker, &mut writer).is_err() {
            continue;
        }
        let Ok(out) = writer.into_inner() else {
            continue;
        };
        if out.is_empty() {
            continue;
        }
        let Ok(mut again) = Checker::new(defs, &CheckOptions::default()) else {
            return;
        };
        let mut envelopes = EnvelopeErrors::default();
        let result = check_bytes(&out, &mut again, &mut envelopes);
        assert!(
            result.is_ok(),
            "the acknowledgment does not read back: {result:?}\n{}",
            String::from_utf8_lossy(&out)
        );
        assert_eq!(
            envelopes.0,
            0,
            "the acknowledgment's envelopes are wrong:\n{}",
            String::from_utf8_lossy(&out)
        );
    }
}

/// Counts envelope-level problems (interchange, group and set trailers).
#[derive(Default)]
struct EnvelopeErrors(u64);

impl super::envelope::Sink for EnvelopeErrors {
    fn set_end(
        &mut self,
        _: &super::envelope::GroupHeader,
        set: &super::envelope::SetOutcome,
    ) -> std::io::Result<()> {
        use super::validate::SetError::*;
        self.0 += set
            .set_findings
            .iter()
            .filter(|f| {
                matches!(
                    f.error,
                    TrailerMissing
                        | ControlNumberMismatch
                        | SegmentCountMismatch
                        | ControlNumberNotUnique
                )
            })
            .count() as u64;
        Ok(())
    }
    fn group_end(&mut self, group: &super::envelope::GroupOutcome) -> std::io::Result<()> {
        use super::validate::GroupError::*;
        self.0 += group
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.error,
                    TrailerMissing | ControlNumberMismatch | SetCountMismatch
                )
            })
            .count() as u64;
        Ok(())
    }
    fn interchange_end(&mut self, ix: &super::envelope::InterchangeOutcome) -> std::io::Result<()> {
        use super::validate::InterchangeError::*;
        self.0 += ix
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.error,
                    ControlNumberMismatch | GroupCountMismatch | PrematureEnd | InvalidContent
                )
            })
            .count() as u64;
        Ok(())
    }
}

/// The bytes a fuzzer uses as X12 body text: the delimiters, digits,
/// letters of common segment IDs and codes, and line breaks.
const ALPHABET: &[u8] = b"**~~>:^0123456789ABCDEGHIKLMNOPQRSTUVXYZ \n-.";

/// Segment IDs that reach the structure of the retail sets.
const IDS: &[&str] = &[
    "ST", "SE", "BEG", "REF", "DTM", "N1", "N3", "N4", "PER", "PO1", "PID", "CTT", "BSN", "HL",
    "PRF", "MAN", "LIN", "SN1", "TD5", "BIG", "IT1", "TDS", "SAC", "ITD", "BIA", "QTY", "BAK",
    "ACK", "AK1", "AK2", "AK3", "AK4", "AK5", "AK9", "GS", "GE", "XYZ",
];

/// Maps arbitrary bytes into a well-formed interchange whose body is made of
/// known segment IDs and X12-looking values, so that a fuzzer spends its time
/// in validation rather than in rejecting the ISA.
pub fn enveloped(data: &[u8]) -> Vec<u8> {
    let (sets, version) = match data.first().copied().unwrap_or(0) % 7 {
        0 => ("850", "004010"),
        1 => ("856", "004010"),
        2 => ("810", "004010"),
        3 => ("846", "004010"),
        4 => ("855", "005010"),
        5 => ("997", "004010"),
        _ => ("850", "005010"),
    };
    let group = match sets {
        "850" => "PO",
        "856" => "SH",
        "810" => "IN",
        "846" => "IB",
        "855" => "PR",
        _ => "FA",
    };
    let (isa12, isa11, component) = if version == "005010" {
        ("00501", "^", ":")
    } else {
        ("00401", "U", ">")
    };
    let mut out = format!(
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240115*1030*{isa11}*{isa12}*000000001*0*P*{component}~GS*{group}*SENDER*RECEIVER*20240115*1030*1*X*{version}~ST*{sets}*0001~"
    )
    .into_bytes();
    let mut count = 1;
    for chunk in data.get(1..).unwrap_or(&[]).chunks(12) {
        let id = IDS[usize::from(chunk[0]) % IDS.len()];
        out.extend_from_slice(id.as_bytes());
        out.push(b'*');
        out.extend(
            chunk[1..]
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()]),
        );
        out.push(b'~');
        count += 1;
    }
    out.extend_from_slice(format!("SE*{}*0001~GE*1*1~IEA*1*000000001~", count + 1).as_bytes());
    out
}
