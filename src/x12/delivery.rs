//! An interchange's delivery requests: ISB (grade of service) and ISE
//! (deferred delivery), interchange control segments that may follow the
//! ISA, before the first GS.
//!
//! They ask the networks that carry the interchange for a priority or for a
//! delivery no earlier than a given time. dropgate is where the interchange
//! ends, so it honours neither; it checks them as far as the standard
//! defines them and notes what is wrong with the TA1 codes made for them
//! (028 to 031). A wrong request is a note (TA1 `E`), never a rejection:
//! it asks the carrier for something, and takes nothing away from the
//! content, so the sender is told and need not send again.
//!
//! Elements, the same in the releases looked at (003050 to 007060): ISB01
//! (I34, ID 1/1, mandatory); ISE01 (I35, DT 6/6 `YYMMDD`, mandatory), ISE02
//! (I36, TM 4/4 `HHMM`, mandatory), ISE03 (I37, ID 2/2, optional; UTC when
//! absent).

use super::segment::Segment;
use super::validate::element::{valid_date, valid_time};
use super::validate::{InterchangeError, InterchangeFinding, Severity};

/// Grade of service codes (I34): normal, low, urgent.
const GRADES_OF_SERVICE: &[&[u8]] = &[b"0", b"1", b"2"];

/// Delivery time codes (I37): 01-12 are UTC+1 to +12, 13-24 are UTC-12 to
/// -1, then the named zones.
const DELIVERY_TIME_CODES: &[&[u8]] = &[
    b"01", b"02", b"03", b"04", b"05", b"06", b"07", b"08", b"09", b"10", b"11", b"12", b"13",
    b"14", b"15", b"16", b"17", b"18", b"19", b"20", b"21", b"22", b"23", b"24", b"CD", b"CS",
    b"CT", b"ED", b"ES", b"ET", b"GM", b"LT", b"MD", b"MS", b"MT", b"PD", b"PS", b"PT", b"UT",
];

/// Checks an ISB segment, adding a note for each problem.
pub fn check_isb(isb: &Segment<'_>, out: &mut Vec<InterchangeFinding>) {
    let grade = isb.element(1).unwrap_or(b"");
    if !GRADES_OF_SERVICE.contains(&grade) {
        note(
            out,
            isb,
            InterchangeError::InvalidGradeOfService,
            format!(
                "ISB01 {:?} is not a grade of service code (0, 1 or 2)",
                isb.text(1)
            ),
        );
    }
    too_many(isb, 1, out);
}

/// Checks an ISE segment, adding a note for each problem.
pub fn check_ise(ise: &Segment<'_>, out: &mut Vec<InterchangeFinding>) {
    let date = ise.element(1).unwrap_or(b"");
    if date.len() != 6 || !valid_date(date) {
        note(
            out,
            ise,
            InterchangeError::InvalidDeliveryDate,
            format!("ISE01 {:?} is not a date (YYMMDD)", ise.text(1)),
        );
    }
    let time = ise.element(2).unwrap_or(b"");
    if time.len() != 4 || !valid_time(time) {
        note(
            out,
            ise,
            InterchangeError::InvalidDeliveryTime,
            format!("ISE02 {:?} is not a time (HHMM)", ise.text(2)),
        );
    }
    let code = ise.element(3).unwrap_or(b"");
    if !code.is_empty() && !DELIVERY_TIME_CODES.contains(&code) {
        note(
            out,
            ise,
            InterchangeError::InvalidDeliveryTimeCode,
            format!("ISE03 {:?} is not a delivery time code", ise.text(3)),
        );
    }
    too_many(ise, 3, out);
}

/// Notes elements past the last one the segment defines (empty trailing
/// elements are tolerated, as everywhere).
fn too_many(segment: &Segment<'_>, defined: usize, out: &mut Vec<InterchangeFinding>) {
    let last = segment
        .elements()
        .enumerate()
        .filter(|(_, e)| !e.is_empty())
        .map(|(i, _)| i + 1)
        .last()
        .unwrap_or(0);
    if last > defined {
        note(
            out,
            segment,
            InterchangeError::InvalidContent,
            format!("{} has {last} elements; it defines {defined}", segment.id()),
        );
    }
}

fn note(
    out: &mut Vec<InterchangeFinding>,
    segment: &Segment<'_>,
    error: InterchangeError,
    detail: String,
) {
    out.push(InterchangeFinding {
        error,
        severity: Severity::Warning,
        detail,
        at: segment.position(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x12::Delimiters;
    use crate::x12::position::Position;

    fn codes(raw: &str) -> Vec<&'static str> {
        let segment = Segment::new(raw.as_bytes(), Delimiters::x12_4010(), Position::default());
        let mut out = Vec::new();
        if raw.starts_with("ISB") {
            check_isb(&segment, &mut out);
        } else {
            check_ise(&segment, &mut out);
        }
        assert!(out.iter().all(|f| f.severity == Severity::Warning));
        out.iter().map(|f| f.error.code()).collect()
    }

    #[test]
    fn valid_requests_have_no_notes() {
        for raw in [
            "ISB*0",
            "ISB*2",
            "ISB*1**",
            "ISE*240229*2359",
            "ISE*240115*0600*ET",
            "ISE*991231*0000*13",
        ] {
            assert!(codes(raw).is_empty(), "{raw}");
        }
    }

    #[test]
    fn each_wrong_value_gets_its_note() {
        assert_eq!(codes("ISB*3"), ["031"]);
        assert_eq!(codes("ISB"), ["031"]);
        assert_eq!(codes("ISB*1*X"), ["024"]);
        assert_eq!(codes("ISE*20240115*0600"), ["028"]);
        assert_eq!(codes("ISE*230229*0600"), ["028"]);
        assert_eq!(codes("ISE*240115*060000"), ["029"]);
        assert_eq!(codes("ISE*240115*2400"), ["029"]);
        assert_eq!(codes("ISE*240115*0600*25"), ["030"]);
        assert_eq!(codes("ISE"), ["028", "029"]);
        assert_eq!(codes("ISE*241316*2560*XX*1"), ["028", "029", "030", "024"]);
    }
}
