//! A functional group's own header rules: GS and GE follow the version the
//! group's GS08 names, not the ISA's, and not another version's.
//!
//! dropgate holds full definitions for a few versions only (`x12/`). A group
//! in another version is rejected by itself (AK9 code 2), but its GS is
//! still read and checked, and must be judged by its own version's rules:
//! an invalid GS rejects the whole interchange (TA1 024).
//!
//! Across the versions, the one GS rule that changed in a way that matters
//! is the date. GS04 (element 373) is `YYMMDD` (DT 6/6) in the versions
//! before 004000 (002001, 003010, 003020, ... 003070) and `CCYYMMDD` (DT 8/8)
//! from 004000 on; StAEDI's control schemas draw the line at the same place.
//! The other GS elements only widened (GS02 and GS03 from 2/12 to 2/15, GS05
//! from `HHMM` to `HHMM[SS[D[D]]]`), so the GS of the oldest version
//! dropgate defines reads an older header correctly, if leniently, once its
//! GS04 is given the group's date length. GE (GE01 1/6, GE02 1/9) did not
//! change.

use std::sync::Arc;

use super::defs::{Definitions, ElementDef, ElementKind, ElementType, SegmentDef};
use super::ids::seg;

/// How a version writes the group date (GS04).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupDate {
    /// `YYMMDD`: versions before 004000.
    Short,
    /// `CCYYMMDD`: 004000 and later.
    Long,
    /// GS08 does not name a version by number (GS07 `T`, or a malformed
    /// GS08): either form.
    Either,
}

impl GroupDate {
    /// The date form of the version a GS08 names (`003060`, `004010VICS`).
    pub fn of(gs08: &str) -> GroupDate {
        match gs08.get(..6) {
            Some(v) if v.bytes().all(|b| b.is_ascii_digit()) => {
                if v < "004000" {
                    GroupDate::Short
                } else {
                    GroupDate::Long
                }
            }
            _ => GroupDate::Either,
        }
    }

    /// The lengths of GS04 in this form.
    pub fn lengths(self) -> (u32, u32) {
        match self {
            GroupDate::Short => (6, 6),
            GroupDate::Long => (8, 8),
            GroupDate::Either => (6, 8),
        }
    }

    /// The `chrono` format of a date written in this form (`Either` writes
    /// the long form).
    pub fn format(self) -> &'static str {
        match self {
            GroupDate::Short => "%y%m%d",
            GroupDate::Long | GroupDate::Either => "%Y%m%d",
        }
    }
}

/// The GS definitions for groups whose version has none of its own: the
/// oldest defined version's GS with each date form in GS04.
#[derive(Debug, Default)]
pub struct GroupRules {
    short: Option<SegmentDef>,
    long: Option<SegmentDef>,
    either: Option<SegmentDef>,
}

impl GroupRules {
    /// The rules derived from the GS of the oldest version in `defs` that
    /// defines one.
    pub fn new(defs: &Definitions) -> GroupRules {
        let base = defs
            .versions()
            .filter_map(|v| defs.version(v))
            .find_map(|v| v.dictionary.segments.get(&seg::GS));
        let Some(base) = base else {
            return GroupRules::default();
        };
        let with = |form: GroupDate| with_date(base, form);
        GroupRules {
            short: with(GroupDate::Short),
            long: with(GroupDate::Long),
            either: with(GroupDate::Either),
        }
    }

    /// The GS definition a group's header is checked against: its own
    /// version's (`resolved`, the definitions GS08 resolved to), or else the
    /// rules of the version its GS08 names.
    pub fn for_group<'a>(
        &'a self,
        defs: &'a Definitions,
        resolved: Option<&str>,
        gs08: &str,
    ) -> Option<&'a SegmentDef> {
        let own = resolved
            .and_then(|v| defs.version(v))
            .and_then(|v| v.dictionary.segments.get(&seg::GS))
            .map(Arc::as_ref);
        own.or(match GroupDate::of(gs08) {
            GroupDate::Short => self.short.as_ref(),
            GroupDate::Long => self.long.as_ref(),
            GroupDate::Either => self.either.as_ref(),
        })
    }
}

/// `gs` with its date element (GS04) in the lengths of `form`; `None` when
/// GS04 is not a simple date element.
fn with_date(gs: &SegmentDef, form: GroupDate) -> Option<SegmentDef> {
    let mut def = gs.clone();
    let date = def.elements.get_mut(3)?;
    let ElementKind::Simple(element) = &date.kind else {
        return None;
    };
    if element.ty != ElementType::Date {
        return None;
    }
    let (min, max) = form.lengths();
    date.kind = ElementKind::Simple(Arc::new(ElementDef {
        min,
        max,
        ..ElementDef::clone(element)
    }));
    def.compile();
    Some(def)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x12::Delimiters;
    use crate::x12::position::Position;
    use crate::x12::segment::Segment;
    use crate::x12::validate::element::check_segment;

    fn errors(rules: &GroupRules, resolved: Option<&str>, gs: &str) -> Vec<String> {
        let defs = Definitions::embedded();
        let segment = Segment::new(gs.as_bytes(), Delimiters::x12_4010(), Position::default());
        let gs08 = segment.text(8).into_owned();
        let def = rules
            .for_group(defs, resolved, &gs08)
            .expect("a GS definition");
        let mut found = Vec::new();
        check_segment(&segment, def, &mut found);
        found
            .iter()
            .map(|f| format!("GS{:02} {}", f.position, f.error.describe()))
            .collect()
    }

    #[test]
    fn the_date_form_follows_the_version() {
        assert_eq!(GroupDate::of("003010"), GroupDate::Short);
        assert_eq!(GroupDate::of("003070UCS"), GroupDate::Short);
        assert_eq!(GroupDate::of("004010VICS"), GroupDate::Long);
        assert_eq!(GroupDate::of("005010X231A1"), GroupDate::Long);
        assert_eq!(GroupDate::of("008020"), GroupDate::Long);
        assert_eq!(GroupDate::of("ACME"), GroupDate::Either);
        assert_eq!(GroupDate::of(""), GroupDate::Either);
    }

    #[test]
    fn a_group_is_checked_by_its_own_version() {
        let rules = GroupRules::new(Definitions::embedded());
        let short = "GS*PO*SENDER*RECEIVER*240115*1030*1*X*";
        let long = "GS*PO*SENDER*RECEIVER*20240115*1030*1*X*";
        // Versions without definitions: by the date form of their era.
        assert!(errors(&rules, None, &format!("{short}003060")).is_empty());
        assert!(errors(&rules, None, &format!("{short}003010")).is_empty());
        assert_eq!(
            errors(&rules, None, &format!("{long}003060")),
            ["GS04 data element too long"]
        );
        assert!(errors(&rules, None, &format!("{long}006020")).is_empty());
        assert_eq!(
            errors(&rules, None, &format!("{short}006020")),
            ["GS04 data element too short"]
        );
        assert!(errors(&rules, None, &format!("{short}ACME")).is_empty());
        assert!(errors(&rules, None, &format!("{long}ACME")).is_empty());
        // Versions with definitions: by their own GS.
        assert!(errors(&rules, Some("004010"), &format!("{long}004010")).is_empty());
        assert_eq!(
            errors(&rules, Some("004010"), &format!("{short}004010")),
            ["GS04 data element too short"]
        );
        assert!(errors(&rules, Some("005010"), &format!("{long}005010")).is_empty());
    }
}
