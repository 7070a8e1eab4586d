//! Reading the ISA header: where every interchange says what its delimiters are.
//!
//! The ISA is fixed width (106 bytes with its terminator), so the element
//! separator is byte 3, ISA16 (the component separator) byte 104 and the
//! segment terminator byte 105. Real senders sometimes do not pad the ISA;
//! then the fields are found by splitting on the element separator, and the
//! header carries an [`IsaWarning::NotPadded`] warning.
//!
//! ISA11 is a repetition separator only when ISA12 is 00402 or later *and*
//! ISA11 is not a letter or digit; before 00402 it must be `U`. Both
//! mistakes are seen in the wild (punctuation, a space or another letter
//! before 00402; a letter from 00402 on), so both are accepted with a
//! warning and the interchange has no repetition separator.

use nom::IResult;
use nom::Parser;
use nom::bytes::streaming::{tag, take};

use super::delimiters::{DelimiterError, Delimiters, Printable};

/// Widths of ISA01 to ISA16 when the header is properly padded.
pub const FIELD_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];

/// Length of a padded ISA segment, terminator included.
pub const ISA_LEN: usize = 106;

/// How far an unpadded ISA may stretch before it is called malformed.
const MAX_UNPADDED_LEN: usize = 512;

/// The parsed ISA header of one interchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsaHeader {
    fields: [Vec<u8>; 16],
    delimiters: Delimiters,
    warnings: Vec<IsaWarning>,
    len: usize,
}

/// Something in an ISA that a lenient reader accepts but reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IsaWarning {
    /// The fields do not have their fixed widths.
    NotPadded,
    /// ISA12 is 00402 or later but ISA11 is a letter or digit (or clashes with
    /// another delimiter), so it is not used as a repetition separator.
    RepetitionSeparatorIgnored { byte: u8 },
    /// ISA12 is before 00402 but ISA11 is not `U`, the one code of I10
    /// (punctuation is not a separator in these versions).
    StandardsIdNotU { byte: u8 },
}

impl std::fmt::Display for IsaWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IsaWarning::NotPadded => {
                f.write_str("the ISA fields are not padded to their fixed widths")
            }
            IsaWarning::RepetitionSeparatorIgnored { byte } => write!(
                f,
                "ISA11 {} is not usable as a repetition separator; the interchange is read without one",
                Printable(*byte)
            ),
            IsaWarning::StandardsIdNotU { byte } => write!(
                f,
                "ISA11 {} is not 'U', the only standards identifier before 00402 (a repetition separator only from 00402 on); it is read as 'U'",
                Printable(*byte)
            ),
        }
    }
}

/// Why an ISA header cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IsaError {
    /// The segment does not start with `ISA` followed by a separator.
    #[error("the interchange does not start with an ISA segment")]
    NotIsa,
    /// The header ends before its sixteen elements and terminator.
    #[error("the ISA header is cut short ({have} bytes)")]
    Truncated { have: usize },
    /// Sixteen element separators were not found.
    #[error("the ISA header does not have 16 elements separated by {}", Printable(*.separator))]
    Malformed { separator: u8 },
    /// The delimiters the header declares cannot be used.
    #[error("the ISA header declares unusable delimiters: {0}")]
    Delimiters(#[from] DelimiterError),
}

/// What parsing the start of a buffer as an ISA gave.
#[derive(Debug)]
pub enum IsaParse {
    /// A complete header.
    Header(Box<IsaHeader>),
    /// More bytes are needed to decide.
    NeedMore,
}

impl IsaHeader {
    /// Parses an ISA header at the start of `input`. `eof` says whether more
    /// bytes may follow; without it a short input asks for more.
    pub fn parse(input: &[u8], eof: bool) -> Result<IsaParse, IsaError> {
        if input.len() < 4 {
            return if eof || !b"ISA".starts_with(&input[..input.len().min(3)]) {
                Err(if input.starts_with(b"ISA") {
                    IsaError::Truncated { have: input.len() }
                } else {
                    IsaError::NotIsa
                })
            } else {
                Ok(IsaParse::NeedMore)
            };
        }
        if !input.starts_with(b"ISA") || input[3].is_ascii_alphanumeric() || input[3] == b' ' {
            return Err(IsaError::NotIsa);
        }
        match padded(input) {
            Ok((_, (fields, terminator))) => {
                return IsaHeader::build(input[3], fields, terminator, ISA_LEN, false)
                    .map(|h| IsaParse::Header(Box::new(h)));
            }
            Err(nom::Err::Incomplete(_)) if !eof => return Ok(IsaParse::NeedMore),
            Err(_) => {}
        }
        match unpadded(input, eof)? {
            Some((fields, terminator, len)) => {
                IsaHeader::build(input[3], fields, terminator, len, true)
                    .map(|h| IsaParse::Header(Box::new(h)))
            }
            None => Ok(IsaParse::NeedMore),
        }
    }

    fn build(
        element: u8,
        fields: [&[u8]; 16],
        terminator: u8,
        len: usize,
        unpadded: bool,
    ) -> Result<IsaHeader, IsaError> {
        let mut warnings = Vec::new();
        if unpadded {
            warnings.push(IsaWarning::NotPadded);
        }
        let &[component] = fields[15] else {
            return Err(IsaError::Malformed { separator: element });
        };
        let isa11 = fields[10].first().copied().unwrap_or(b' ');
        let version = fields[11];
        let from_402 = version.len() == 5
            && version.iter().all(u8::is_ascii_digit)
            && version >= &b"00402"[..];
        let mut repetition = None;
        if from_402 {
            if isa11.is_ascii_alphanumeric() || isa11 == b' ' {
                warnings.push(IsaWarning::RepetitionSeparatorIgnored { byte: isa11 });
            } else {
                repetition = Some(isa11);
            }
        } else if isa11 != b'U' {
            warnings.push(IsaWarning::StandardsIdNotU { byte: isa11 });
        }
        let delimiters = match Delimiters::new(element, component, terminator, repetition) {
            Ok(d) => d,
            Err(DelimiterError::Clash { .. }) if repetition.is_some() => {
                // A repetition separator that clashes with another delimiter
                // is treated like a letter: no repetitions, and a warning.
                warnings.push(IsaWarning::RepetitionSeparatorIgnored { byte: isa11 });
                Delimiters::new(element, component, terminator, None)?
            }
            Err(e) => return Err(e.into()),
        };
        Ok(IsaHeader {
            fields: fields.map(<[u8]>::to_vec),
            delimiters,
            warnings,
            len,
        })
    }

    /// Field `n` (1 to 16) exactly as sent, padding included.
    pub fn field(&self, n: usize) -> &[u8] {
        n.checked_sub(1)
            .and_then(|i| self.fields.get(i))
            .map_or(&[][..], Vec::as_slice)
    }

    /// Field `n` as text with its padding trimmed.
    pub fn text(&self, n: usize) -> String {
        String::from_utf8_lossy(self.field(n).trim_ascii()).into_owned()
    }

    /// All sixteen fields as sent.
    pub fn fields(&self) -> &[Vec<u8>; 16] {
        &self.fields
    }

    /// The delimiters this interchange uses.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// What the lenient reader accepted but reports.
    pub fn warnings(&self) -> &[IsaWarning] {
        &self.warnings
    }

    /// Length of the header in the input, terminator included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a header has at least its sixteen separators.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// ISA05 + ISA06: the sender's qualifier and ID (trimmed).
    pub fn sender(&self) -> (String, String) {
        (self.text(5), self.text(6))
    }

    /// ISA07 + ISA08: the receiver's qualifier and ID (trimmed).
    pub fn receiver(&self) -> (String, String) {
        (self.text(7), self.text(8))
    }

    /// ISA12, the interchange control version, e.g. `00401`.
    pub fn version(&self) -> String {
        self.text(12)
    }

    /// ISA13, the interchange control number as sent.
    pub fn control_number(&self) -> &[u8] {
        self.field(13)
    }

    /// ISA14: `1` when the sender asks for a TA1.
    pub fn ack_requested(&self) -> bool {
        self.field(14) == b"1"
    }
}

/// The codes of ISA12 (I11, Interchange Control Version Number): one per
/// version and release of the interchange control segments, from 00200
/// (X12.5-1987) to 00805. Up to 00801 the list is the one StAEDI's control
/// schema carries (taken from the I11 code list); 00705, 00706 and 00802 to
/// 00805 are the releases published since (007050, 007060, 008020 to
/// 008050).
const CONTROL_VERSIONS: &[&[u8]] = &[
    b"00200", b"00201", b"00204", b"00300", b"00301", b"00302", b"00303", b"00304", b"00305",
    b"00306", b"00307", b"00400", b"00401", b"00402", b"00403", b"00404", b"00405", b"00406",
    b"00500", b"00501", b"00502", b"00503", b"00504", b"00505", b"00600", b"00601", b"00602",
    b"00603", b"00604", b"00605", b"00700", b"00701", b"00702", b"00703", b"00704", b"00705",
    b"00706", b"00800", b"00801", b"00802", b"00803", b"00804", b"00805",
];

/// The character that starts `from`, as written: the first byte, or the
/// whole character when that byte starts a multi-byte UTF-8 character
/// (a segment terminator `§` is the two bytes C2 A7). X12 delimiters are
/// single bytes, so a terminator for which this is longer than one byte is
/// the first byte of a character, not a delimiter.
pub fn character_at(from: &[u8]) -> &[u8] {
    let len = from.first().and_then(|&b| utf8_lead_len(b)).unwrap_or(1);
    match from.get(..len) {
        Some(character) if std::str::from_utf8(character).is_ok() => character,
        _ => &from[..from.len().min(1)],
    }
}

/// How many bytes the character whose first byte is `lead` has, if `lead`
/// starts a multi-byte UTF-8 character.
pub fn utf8_lead_len(lead: u8) -> Option<usize> {
    match lead {
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}

/// True when `isa12` is a code of ISA12's list (`00401`, `00501`, ...).
pub fn is_control_version(isa12: &[u8]) -> bool {
    CONTROL_VERSIONS.contains(&isa12)
}

/// Whether text holds X12 envelope segments without an ISA first: three of
/// GS, ST, SE, GE and IEA, with the same element separator, each at the
/// start of a segment (X12 whose ISA is damaged, or the tail of a file cut
/// in two). A CSV feed's delimiters (`,`, `;`, tab, quotes) are not taken
/// for element separators.
pub fn segments_without_isa(text: &[u8]) -> bool {
    const TAGS: [&[u8]; 5] = [b"GS", b"ST", b"SE", b"GE", b"IEA"];
    let starts = |id: &[u8], sep: u8| {
        memchr::memmem::find_iter(text, id).any(|i| {
            let after = text.get(i + id.len()) == Some(&sep);
            let before = i == 0
                || text
                    .get(i - 1)
                    .is_some_and(|b| !b.is_ascii_alphanumeric() && *b != b' ');
            after && before
        })
    };
    [
        b'*', b'|', b'^', b'~', b'!', b'+', b':', b'>', b'<', b'`', b'@', b'#', b'$', b'%', b'&',
        b'=', b'/', b'?',
    ]
    .iter()
    .any(|&sep| TAGS.iter().filter(|t| starts(t, sep)).count() >= 3)
}

type Fields<'a> = ([&'a [u8]; 16], u8);

/// The padded layout: every field at its fixed width and offset.
fn padded(input: &[u8]) -> IResult<&[u8], Fields<'_>> {
    let (mut rest, _) = tag(&b"ISA"[..]).parse(input)?;
    let separator = input[3];
    let mut fields: [&[u8]; 16] = [&[]; 16];
    for (field, width) in fields.iter_mut().zip(FIELD_WIDTHS) {
        let (r, _) = tag(&[separator][..]).parse(rest)?;
        let (r, value) = take(width).parse(r)?;
        *field = value;
        rest = r;
    }
    let (rest, terminator) = take(1usize).parse(rest)?;
    Ok((rest, (fields, terminator[0])))
}

/// The unpadded fallback: split on the element separator; after the 16th
/// separator comes ISA16 and then the terminator. `None` asks for more input.
#[allow(clippy::type_complexity)]
fn unpadded(input: &[u8], eof: bool) -> Result<Option<([&[u8]; 16], u8, usize)>, IsaError> {
    let separator = input[3];
    let window = &input[..input.len().min(MAX_UNPADDED_LEN)];
    let seps: Vec<usize> = memchr::memchr_iter(separator, window).take(16).collect();
    let complete = seps.len() == 16 && seps[15] + 2 < window.len();
    if !complete {
        if !eof && input.len() < MAX_UNPADDED_LEN {
            return Ok(None);
        }
        return Err(if seps.len() == 16 || input.len() < MAX_UNPADDED_LEN {
            IsaError::Truncated { have: input.len() }
        } else {
            IsaError::Malformed { separator }
        });
    }
    let mut fields: [&[u8]; 16] = [&[]; 16];
    for (i, field) in fields.iter_mut().enumerate().take(15) {
        *field = &input[seps[i] + 1..seps[i + 1]];
    }
    let last = seps[15];
    fields[15] = &input[last + 1..last + 2];
    Ok(Some((fields, input[last + 2], last + 3)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA_4010: &[u8] = b"ISA*00*          *00*          *ZZ*RETAILERID     *ZZ*VENDORID       *240115*1030*U*00401*000000101*0*P*>~";
    const ISA_5010: &[u8] = b"ISA*00*          *00*          *ZZ*RETAILERID     *ZZ*VENDORID       *240117*1705*^*00501*000000104*0*P*:~";

    #[test]
    fn control_versions_are_the_code_list() {
        for v in [
            "00200", "00304", "00401", "00402", "00501", "00704", "00801",
        ] {
            assert!(is_control_version(v.as_bytes()), "{v}");
        }
        for v in [
            "00040", "00410", "00199", "00507", "4010", "004010", "", "0040A",
        ] {
            assert!(!is_control_version(v.as_bytes()), "{v}");
        }
    }

    fn header(input: &[u8]) -> IsaHeader {
        match IsaHeader::parse(input, true) {
            Ok(IsaParse::Header(h)) => *h,
            other => panic!("expected a header, got {other:?}"),
        }
    }

    #[test]
    fn reads_delimiters_from_a_padded_4010_header() {
        assert_eq!(ISA_4010.len(), ISA_LEN);
        let h = header(ISA_4010);
        assert_eq!(
            h.delimiters(),
            Delimiters::new(b'*', b'>', b'~', None).expect("valid")
        );
        assert!(h.warnings().is_empty());
        assert_eq!(h.sender(), ("ZZ".into(), "RETAILERID".into()));
        assert_eq!(h.control_number(), b"000000101");
        assert_eq!(h.version(), "00401");
        assert_eq!(h.len(), 106);
    }

    #[test]
    fn reads_the_repetition_separator_from_00402_on() {
        let h = header(ISA_5010);
        assert_eq!(h.delimiters().repetition(), Some(b'^'));
        assert_eq!(h.delimiters().component(), b':');
    }

    #[test]
    fn a_letter_in_isa11_of_a_5010_header_is_not_a_separator() {
        let isa = String::from_utf8_lossy(ISA_5010).replace("*^*00501", "*U*00501");
        let h = header(isa.as_bytes());
        assert_eq!(h.delimiters().repetition(), None);
        assert_eq!(
            h.warnings(),
            &[IsaWarning::RepetitionSeparatorIgnored { byte: b'U' }]
        );
    }

    #[test]
    fn punctuation_in_isa11_of_a_4010_header_is_data() {
        let isa = String::from_utf8_lossy(ISA_4010).replace("*U*00401", "*^*00401");
        let h = header(isa.as_bytes());
        assert_eq!(h.delimiters().repetition(), None);
        assert_eq!(h.warnings(), &[IsaWarning::StandardsIdNotU { byte: b'^' }]);
    }

    #[test]
    fn anything_but_u_in_isa11_before_00402_is_noted() {
        // I10 has one code, U: a space or a letter is a mistake as much as
        // punctuation is.
        for byte in [b' ', b'X', b'0', b'^'] {
            let mut isa = ISA_4010.to_vec();
            isa[82] = byte;
            let h = header(&isa);
            assert_eq!(h.delimiters().repetition(), None);
            assert_eq!(h.warnings(), &[IsaWarning::StandardsIdNotU { byte }]);
        }
        assert!(header(ISA_4010).warnings().is_empty());
    }

    #[test]
    fn unpadded_headers_are_read_with_a_warning() {
        let h = header(b"ISA*00**00**ZZ*SENDER*ZZ*RECEIVER*240115*1030*U*00401*1*0*P*>~GS*");
        assert_eq!(h.warnings(), &[IsaWarning::NotPadded]);
        assert_eq!(h.delimiters().segment(), b'~');
        assert_eq!(h.text(6), "SENDER");
        assert_eq!(h.len(), 62);
    }

    #[test]
    fn other_delimiters_and_newline_terminators() {
        let isa = String::from_utf8_lossy(ISA_4010)
            .replace('*', "|")
            .replace(">~", "\\\n");
        let h = header(isa.as_bytes());
        assert_eq!(
            h.delimiters(),
            Delimiters::new(b'|', b'\\', b'\n', None).expect("valid")
        );
    }

    #[test]
    fn short_input_asks_for_more_unless_at_eof() {
        assert!(matches!(
            IsaHeader::parse(&ISA_4010[..50], false),
            Ok(IsaParse::NeedMore)
        ));
        assert!(matches!(
            IsaHeader::parse(b"IS", false),
            Ok(IsaParse::NeedMore)
        ));
        assert_eq!(
            IsaHeader::parse(&ISA_4010[..50], true).err(),
            Some(IsaError::Truncated { have: 50 })
        );
        assert_eq!(
            IsaHeader::parse(b"GS*PO", true).err(),
            Some(IsaError::NotIsa)
        );
        assert_eq!(
            IsaHeader::parse(b"ISAAC", true).err(),
            Some(IsaError::NotIsa)
        );
    }

    #[test]
    fn a_multi_byte_character_is_taken_whole() {
        assert_eq!(character_at("§\r\nGS".as_bytes()), "§".as_bytes());
        assert_eq!(character_at("𝄞GS".as_bytes()), "𝄞".as_bytes());
        assert_eq!(character_at(b"~\nGS"), b"~");
        // Not UTF-8 (Latin-1 bytes): the byte alone.
        assert_eq!(character_at(b"\xA7GS"), b"\xA7");
        assert_eq!(character_at(b"\xC2GS"), b"\xC2");
        assert_eq!(character_at(b"\xC2"), b"\xC2");
        assert_eq!(character_at(b""), b"");
    }

    #[test]
    fn clashing_delimiters_are_refused() {
        let isa = String::from_utf8_lossy(ISA_4010).replace(">~", "*~");
        assert!(matches!(
            IsaHeader::parse(isa.as_bytes(), true),
            Err(IsaError::Malformed { .. }) | Err(IsaError::Delimiters(_))
        ));
    }
}
