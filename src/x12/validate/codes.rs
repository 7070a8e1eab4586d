//! The error codes of X12 acknowledgments, as types.
//!
//! Each finding carries one of these; the 997, the 999 and the TA1 turn it
//! into the code their version prescribes (some codes exist only from 005010
//! on, and the 999 adds implementation codes such as `I4`).

use std::fmt;

/// Which acknowledgment a code is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckFlavor {
    /// 997 of a 004010-era group: only the original code lists.
    Fa4010,
    /// 997 of a 005010 or later group.
    Fa5010,
    /// 999 (005010 and later), with implementation codes.
    Ia999,
}

impl AckFlavor {
    /// The flavor of a 997 for a group of `version` (GS08 or its first six
    /// characters).
    pub fn for_997(version: &str) -> AckFlavor {
        if version.get(..6).is_some_and(|v| v >= "005010") {
            AckFlavor::Fa5010
        } else {
            AckFlavor::Fa4010
        }
    }
}

/// A segment-level error (AK304, DE 720; IK304, DE 620).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentError {
    /// 1: the segment ID is not a known segment.
    UnrecognizedSegmentId,
    /// 2: a known segment where it cannot be.
    UnexpectedSegment,
    /// 3: a mandatory segment is missing.
    MandatorySegmentMissing,
    /// 4: a loop occurs more often than allowed.
    LoopOverMaximum,
    /// 5: a segment occurs more often than allowed.
    SegmentOverMaximumUse,
    /// 6: the segment is not part of this transaction set.
    SegmentNotInSet,
    /// 7: the segment belongs earlier in the set.
    SegmentOutOfSequence,
    /// 8: the segment has element errors (see its element findings).
    SegmentHasElementErrors,
    /// I4: the partner's guide says the segment is not used.
    ImplementationNotUsedSegmentPresent,
    /// I7: the loop occurs fewer times than the partner's guide asks.
    ImplementationLoopUnderMinimum,
    /// I8: the segment occurs fewer times than the partner's guide asks.
    ImplementationSegmentUnderMinimum,
}

impl SegmentError {
    /// The code written in AK304 or IK304.
    pub fn code(self, flavor: AckFlavor) -> &'static str {
        use SegmentError::*;
        let implementation = flavor == AckFlavor::Ia999;
        match self {
            UnrecognizedSegmentId => "1",
            UnexpectedSegment => "2",
            MandatorySegmentMissing => "3",
            LoopOverMaximum => "4",
            SegmentOverMaximumUse => "5",
            SegmentNotInSet => "6",
            SegmentOutOfSequence => "7",
            SegmentHasElementErrors => "8",
            ImplementationNotUsedSegmentPresent if implementation => "I4",
            ImplementationLoopUnderMinimum if implementation => "I7",
            ImplementationSegmentUnderMinimum if implementation => "I8",
            ImplementationNotUsedSegmentPresent => "2",
            ImplementationLoopUnderMinimum | ImplementationSegmentUnderMinimum => "3",
        }
    }

    /// What the code means, for people.
    pub fn describe(self) -> &'static str {
        use SegmentError::*;
        match self {
            UnrecognizedSegmentId => "unrecognized segment ID",
            UnexpectedSegment => "unexpected segment",
            MandatorySegmentMissing => "mandatory segment missing",
            LoopOverMaximum => "loop occurs over maximum times",
            SegmentOverMaximumUse => "segment exceeds maximum use",
            SegmentNotInSet => "segment not in defined transaction set",
            SegmentOutOfSequence => "segment not in proper sequence",
            SegmentHasElementErrors => "segment has data element errors",
            ImplementationNotUsedSegmentPresent => {
                "segment the partner's guide does not use is present"
            }
            ImplementationLoopUnderMinimum => "loop occurs under the partner's minimum",
            ImplementationSegmentUnderMinimum => "segment below the partner's minimum use",
        }
    }
}

/// An element-level error (AK403, DE 723; IK403, DE 621).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementError {
    /// 1: a mandatory element is empty or absent.
    MandatoryMissing,
    /// 2: a syntax note requires the element.
    ConditionalMissing,
    /// 3: more elements than the segment defines.
    TooManyElements,
    /// 4: shorter than the minimum length.
    TooShort,
    /// 5: longer than the maximum length.
    TooLong,
    /// 6: a character not allowed in the element's type.
    InvalidCharacter,
    /// 7: not one of the allowed codes.
    InvalidCode,
    /// 8: not a valid date.
    InvalidDate,
    /// 9: not a valid time.
    InvalidTime,
    /// 10: a syntax note excludes the element.
    ExclusionViolated,
    /// 12: more repetitions than allowed (005010+).
    TooManyRepetitions,
    /// 13: more components than the composite defines (005010+).
    TooManyComponents,
    /// I6: a code the partner's guide does not use.
    ImplementationCodeNotUsed,
    /// I10: an element the partner's guide does not use is present.
    ImplementationNotUsedElementPresent,
}

impl ElementError {
    /// The code written in AK403 or IK403.
    pub fn code(self, flavor: AckFlavor) -> &'static str {
        use ElementError::*;
        match (self, flavor) {
            (MandatoryMissing, _) => "1",
            (ConditionalMissing, _) => "2",
            (TooManyElements, _) => "3",
            (TooShort, _) => "4",
            (TooLong, _) => "5",
            (InvalidCharacter, _) => "6",
            (InvalidCode, _) => "7",
            (InvalidDate, _) => "8",
            (InvalidTime, _) => "9",
            (ExclusionViolated, _) => "10",
            (TooManyRepetitions, AckFlavor::Fa4010) => "3",
            (TooManyRepetitions, _) => "12",
            (TooManyComponents, AckFlavor::Fa4010) => "3",
            (TooManyComponents, _) => "13",
            (ImplementationCodeNotUsed, AckFlavor::Ia999) => "I6",
            (ImplementationCodeNotUsed, _) => "7",
            (ImplementationNotUsedElementPresent, AckFlavor::Ia999) => "I10",
            (ImplementationNotUsedElementPresent, _) => "10",
        }
    }

    /// What the code means, for people.
    pub fn describe(self) -> &'static str {
        use ElementError::*;
        match self {
            MandatoryMissing => "mandatory data element missing",
            ConditionalMissing => "conditional required data element missing",
            TooManyElements => "too many data elements",
            TooShort => "data element too short",
            TooLong => "data element too long",
            InvalidCharacter => "invalid character in data element",
            InvalidCode => "invalid code value",
            InvalidDate => "invalid date",
            InvalidTime => "invalid time",
            ExclusionViolated => "exclusion condition violated",
            TooManyRepetitions => "too many repetitions",
            TooManyComponents => "too many components",
            ImplementationCodeNotUsed => "code value not used by the partner's guide",
            ImplementationNotUsedElementPresent => {
                "element the partner's guide does not use is present"
            }
        }
    }
}

/// A transaction-set error (AK502-AK506, DE 718; IK502-IK506, DE 618).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetError {
    /// 1: no definition for this set in this version.
    NotSupported,
    /// 2: the SE is missing.
    TrailerMissing,
    /// 3: ST02 and SE02 differ.
    ControlNumberMismatch,
    /// 4: SE01 is not the number of segments.
    SegmentCountMismatch,
    /// 5: one or more segments are in error.
    SegmentsInError,
    /// 6: ST01 is missing, malformed or wrong for the group.
    InvalidSetIdentifier,
    /// 7: ST02 is missing or malformed.
    InvalidControlNumber,
    /// 23: ST02 is used twice in the group.
    ControlNumberNotUnique,
}

impl SetError {
    /// The code written in AK502 or IK502.
    pub fn code(self) -> &'static str {
        use SetError::*;
        match self {
            NotSupported => "1",
            TrailerMissing => "2",
            ControlNumberMismatch => "3",
            SegmentCountMismatch => "4",
            SegmentsInError => "5",
            InvalidSetIdentifier => "6",
            InvalidControlNumber => "7",
            ControlNumberNotUnique => "23",
        }
    }

    /// What the code means, for people.
    pub fn describe(self) -> &'static str {
        use SetError::*;
        match self {
            NotSupported => "transaction set not supported",
            TrailerMissing => "transaction set trailer missing",
            ControlNumberMismatch => {
                "transaction set control number in header and trailer do not match"
            }
            SegmentCountMismatch => "number of included segments does not match actual count",
            SegmentsInError => "one or more segments in error",
            InvalidSetIdentifier => "missing or invalid transaction set identifier",
            InvalidControlNumber => "missing or invalid transaction set control number",
            ControlNumberNotUnique => {
                "transaction set control number not unique within the functional group"
            }
        }
    }
}

/// A functional-group error (AK905-AK909, DE 716).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupError {
    /// 1: the functional group is not supported.
    NotSupported,
    /// 2: the version in GS08 is not supported.
    VersionNotSupported,
    /// 3: the GE is missing.
    TrailerMissing,
    /// 4: GS06 and GE02 differ.
    ControlNumberMismatch,
    /// 5: GE01 is not the number of sets.
    SetCountMismatch,
    /// 6: GS06 is not a valid control number.
    ControlNumberSyntax,
    /// 19: GS06 is used twice in the interchange (code 19 from 004050).
    ControlNumberNotUnique,
}

impl GroupError {
    /// The code written in AK905, if the flavor has one for it.
    pub fn code(self, flavor: AckFlavor) -> Option<&'static str> {
        use GroupError::*;
        Some(match self {
            NotSupported => "1",
            VersionNotSupported => "2",
            TrailerMissing => "3",
            ControlNumberMismatch => "4",
            SetCountMismatch => "5",
            ControlNumberSyntax => "6",
            // In 004010, code 19 means a security problem.
            ControlNumberNotUnique if flavor == AckFlavor::Fa4010 => return None,
            ControlNumberNotUnique => "19",
        })
    }

    /// What the code means, for people.
    pub fn describe(self) -> &'static str {
        use GroupError::*;
        match self {
            NotSupported => "functional group not supported",
            VersionNotSupported => "functional group version not supported",
            TrailerMissing => "functional group trailer missing",
            ControlNumberMismatch => "group control number in the header and trailer do not agree",
            SetCountMismatch => "number of included transaction sets does not match actual count",
            ControlNumberSyntax => "group control number violates syntax",
            ControlNumberNotUnique => "group control number not unique within interchange",
        }
    }
}

/// A TA1 note code (TA105, DE I18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InterchangeError {
    /// 001: ISA13 and IEA02 differ.
    ControlNumberMismatch,
    /// 003: the control version (ISA12) is not supported.
    VersionNotSupported,
    /// 004: the segment terminator is invalid (the first byte of a
    /// multi-byte character).
    InvalidSegmentTerminator,
    /// 005: ISA05 is not a valid qualifier.
    InvalidSenderQualifier,
    /// 006: ISA06 is not valid.
    InvalidSenderId,
    /// 007: ISA07 is not a valid qualifier.
    InvalidReceiverQualifier,
    /// 008: ISA08 is not valid.
    InvalidReceiverId,
    /// 010: ISA01 is not valid.
    InvalidAuthorizationQualifier,
    /// 011: ISA02 is not valid.
    InvalidAuthorizationValue,
    /// 012: ISA03 is not valid.
    InvalidSecurityQualifier,
    /// 013: ISA04 is not valid.
    InvalidSecurityValue,
    /// 014: ISA09 is not a valid date.
    InvalidDate,
    /// 015: ISA10 is not a valid time.
    InvalidTime,
    /// 016: ISA11 is not valid for the version.
    InvalidStandardsIdentifier,
    /// 017: ISA12 is not a valid version.
    InvalidVersion,
    /// 018: ISA13 is not a valid control number.
    InvalidControlNumber,
    /// 019: ISA14 is not 0 or 1.
    InvalidAckRequested,
    /// 020: ISA15 is not P, T or I.
    InvalidTestIndicator,
    /// 021: IEA01 is not the number of groups.
    GroupCountMismatch,
    /// 022: the control structure is invalid (e.g. unpadded ISA).
    InvalidControlStructure,
    /// 023: the interchange ends early (no IEA before the next ISA).
    PrematureEnd,
    /// 024: invalid content (e.g. a segment outside a group or set).
    InvalidContent,
    /// 025: the same sender used this control number before.
    DuplicateControlNumber,
    /// 027: ISA16 is not a valid component separator.
    InvalidComponentSeparator,
    /// 028: ISE01 is not a valid delivery date.
    InvalidDeliveryDate,
    /// 029: ISE02 is not a valid delivery time.
    InvalidDeliveryTime,
    /// 030: ISE03 is not a delivery time code.
    InvalidDeliveryTimeCode,
    /// 031: ISB01 is not a grade of service code.
    InvalidGradeOfService,
}

impl InterchangeError {
    /// The TA105 code.
    pub fn code(self) -> &'static str {
        use InterchangeError::*;
        match self {
            ControlNumberMismatch => "001",
            VersionNotSupported => "003",
            InvalidSegmentTerminator => "004",
            InvalidSenderQualifier => "005",
            InvalidSenderId => "006",
            InvalidReceiverQualifier => "007",
            InvalidReceiverId => "008",
            InvalidAuthorizationQualifier => "010",
            InvalidAuthorizationValue => "011",
            InvalidSecurityQualifier => "012",
            InvalidSecurityValue => "013",
            InvalidDate => "014",
            InvalidTime => "015",
            InvalidStandardsIdentifier => "016",
            InvalidVersion => "017",
            InvalidControlNumber => "018",
            InvalidAckRequested => "019",
            InvalidTestIndicator => "020",
            GroupCountMismatch => "021",
            InvalidControlStructure => "022",
            PrematureEnd => "023",
            InvalidContent => "024",
            DuplicateControlNumber => "025",
            InvalidComponentSeparator => "027",
            InvalidDeliveryDate => "028",
            InvalidDeliveryTime => "029",
            InvalidDeliveryTimeCode => "030",
            InvalidGradeOfService => "031",
        }
    }
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

impl fmt::Display for ElementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_depend_on_the_flavor() {
        assert_eq!(
            SegmentError::ImplementationNotUsedSegmentPresent.code(AckFlavor::Ia999),
            "I4"
        );
        assert_eq!(
            SegmentError::ImplementationNotUsedSegmentPresent.code(AckFlavor::Fa4010),
            "2"
        );
        assert_eq!(
            ElementError::TooManyComponents.code(AckFlavor::Fa5010),
            "13"
        );
        assert_eq!(ElementError::TooManyComponents.code(AckFlavor::Fa4010), "3");
        assert_eq!(
            GroupError::ControlNumberNotUnique.code(AckFlavor::Fa4010),
            None
        );
        assert_eq!(
            GroupError::ControlNumberNotUnique.code(AckFlavor::Fa5010),
            Some("19")
        );
        assert_eq!(AckFlavor::for_997("004010VICS"), AckFlavor::Fa4010);
        assert_eq!(AckFlavor::for_997("005010"), AckFlavor::Fa5010);
    }
}
