//! The four X12 delimiters and the line style that follows each segment.
//!
//! Delimiters are never assumed: the reader takes them from each ISA header
//! (see [`crate::x12::isa`]) and the writer is given them explicitly.

use std::fmt;

/// The separators of one interchange, as read from its ISA header.
///
/// Built only by [`Delimiters::new`], which guarantees that the delimiters are
/// pairwise distinct and none of them is a letter, a digit or a space, so that
/// no delimiter can be confused with data or with another delimiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Delimiters {
    element: u8,
    component: u8,
    segment: u8,
    repetition: Option<u8>,
}

/// Why a set of delimiters cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DelimiterError {
    /// A delimiter is a letter, a digit or a space.
    #[error("the {role} {} is a letter, a digit or a space", Printable(*.byte))]
    NotPunctuation { role: &'static str, byte: u8 },
    /// Two delimiters are the same character.
    #[error("the {first} and the {second} are both {}", Printable(*.byte))]
    Clash {
        first: &'static str,
        second: &'static str,
        byte: u8,
    },
}

impl Delimiters {
    /// Checks and builds a set of delimiters.
    pub fn new(
        element: u8,
        component: u8,
        segment: u8,
        repetition: Option<u8>,
    ) -> Result<Self, DelimiterError> {
        let roles: [(&'static str, Option<u8>); 4] = [
            ("element separator", Some(element)),
            ("component separator", Some(component)),
            ("segment terminator", Some(segment)),
            ("repetition separator", repetition),
        ];
        for (role, byte) in roles {
            if let Some(byte) = byte
                && (byte.is_ascii_alphanumeric() || byte == b' ')
            {
                return Err(DelimiterError::NotPunctuation { role, byte });
            }
        }
        for (i, (first, a)) in roles.iter().enumerate() {
            for (second, b) in &roles[i + 1..] {
                if let (Some(a), Some(b)) = (a, b)
                    && a == b
                {
                    return Err(DelimiterError::Clash {
                        first,
                        second,
                        byte: *a,
                    });
                }
            }
        }
        Ok(Delimiters {
            element,
            component,
            segment,
            repetition,
        })
    }

    /// The common 004010 set: `*`, `>`, `~`, no repetition separator.
    pub const fn x12_4010() -> Self {
        Delimiters {
            element: b'*',
            component: b'>',
            segment: b'~',
            repetition: None,
        }
    }

    /// The common 005010 set: `*`, `:`, `~`, repetition `^`.
    pub const fn x12_5010() -> Self {
        Delimiters {
            element: b'*',
            component: b':',
            segment: b'~',
            repetition: Some(b'^'),
        }
    }

    /// Separates the elements of a segment (ISA offset 3).
    pub const fn element(&self) -> u8 {
        self.element
    }

    /// Separates the components of a composite element (ISA16).
    pub const fn component(&self) -> u8 {
        self.component
    }

    /// Ends each segment (the byte after ISA16).
    pub const fn segment(&self) -> u8 {
        self.segment
    }

    /// Separates repetitions of an element (ISA11, from version 00402 on).
    pub const fn repetition(&self) -> Option<u8> {
        self.repetition
    }

    /// True when `byte` is one of the four delimiters.
    pub fn is_delimiter(&self, byte: u8) -> bool {
        byte == self.element
            || byte == self.component
            || byte == self.segment
            || Some(byte) == self.repetition
    }
}

/// What follows each segment terminator on the way out: nothing, LF or CR LF.
///
/// On the way in, line breaks after a terminator are formatting and are
/// skipped; the reader reports the style of the first one it sees so that a
/// file can be written back exactly as it came.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LineStyle {
    /// Segments follow each other on one line.
    #[default]
    None,
    /// A line feed after each terminator.
    Lf,
    /// A carriage return and a line feed after each terminator.
    CrLf,
}

impl LineStyle {
    /// The bytes written after each terminator.
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            LineStyle::None => b"",
            LineStyle::Lf => b"\n",
            LineStyle::CrLf => b"\r\n",
        }
    }

    /// The style of the line break at the start of `after` (the bytes that
    /// follow a segment terminator).
    pub fn detect(after: &[u8]) -> LineStyle {
        match after {
            [b'\r', b'\n', ..] => LineStyle::CrLf,
            [b'\n', ..] => LineStyle::Lf,
            _ => LineStyle::None,
        }
    }
}

/// Shows a delimiter byte the way a person can read it in a message.
#[derive(Clone, Copy)]
pub struct Printable(pub u8);

impl fmt::Display for Printable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\n' => f.write_str("LF (0x0A)"),
            b'\r' => f.write_str("CR (0x0D)"),
            b if b.is_ascii_graphic() => write!(f, "'{}'", b as char),
            b => write!(f, "0x{b:02X}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_sets() {
        assert!(Delimiters::new(b'*', b'>', b'~', None).is_ok());
        assert!(Delimiters::new(b'*', b':', b'~', Some(b'^')).is_ok());
        assert!(Delimiters::new(b'|', b'\\', b'\n', Some(b'^')).is_ok());
        assert!(Delimiters::new(0x1D, 0x1F, 0x1C, None).is_ok());
    }

    #[test]
    fn refuses_letters_digits_spaces_and_clashes() {
        assert_eq!(
            Delimiters::new(b'*', b'U', b'~', None),
            Err(DelimiterError::NotPunctuation {
                role: "component separator",
                byte: b'U'
            })
        );
        assert!(Delimiters::new(b' ', b'>', b'~', None).is_err());
        assert_eq!(
            Delimiters::new(b'*', b'>', b'~', Some(b'*')),
            Err(DelimiterError::Clash {
                first: "element separator",
                second: "repetition separator",
                byte: b'*'
            })
        );
    }

    #[test]
    fn line_style_is_detected_from_what_follows_a_terminator() {
        assert_eq!(LineStyle::detect(b"\r\nGS*"), LineStyle::CrLf);
        assert_eq!(LineStyle::detect(b"\nGS*"), LineStyle::Lf);
        assert_eq!(LineStyle::detect(b"GS*"), LineStyle::None);
        assert_eq!(LineStyle::detect(b"\r"), LineStyle::None);
    }
}
