//! The built-in X12 definitions load, hold every set the gateway needs, and
//! agree with well-known facts of the standard.

use dropgate::x12::defs::{Definitions, ElementKind, ElementType, Requirement};
use dropgate::x12::ids::SegmentId;

fn defs() -> &'static Definitions {
    Definitions::embedded()
}

#[test]
fn every_version_has_the_retail_sets() {
    let expected: &[(&str, &[(&str, &str)])] = &[
        (
            "004010",
            &[
                ("850", "PO"),
                ("855", "PR"),
                ("856", "SH"),
                ("810", "IN"),
                ("846", "IB"),
                ("820", "RA"),
                ("997", "FA"),
                ("860", "PC"),
                ("865", "CA"),
                ("870", "RS"),
                ("180", "AN"),
                ("812", "CD"),
            ],
        ),
        (
            "005010",
            &[
                ("850", "PO"),
                ("855", "PR"),
                ("856", "SH"),
                ("810", "IN"),
                ("846", "IB"),
                ("820", "RA"),
                ("997", "FA"),
                ("999", "FA"),
                ("860", "PC"),
                ("865", "CA"),
                ("870", "RS"),
                ("180", "AN"),
                ("812", "CD"),
            ],
        ),
    ];
    for (version, sets) in expected {
        let v = defs()
            .version(version)
            .unwrap_or_else(|| panic!("version {version} is missing"));
        for (id, group) in *sets {
            let set = v
                .sets
                .get(*id)
                .unwrap_or_else(|| panic!("{version}/{id}.toml is missing"));
            assert_eq!(set.functional_group, *group, "{version}/{id}");
            assert_eq!(set.version, *version);
        }
    }
}

#[test]
fn the_envelope_segments_are_defined() {
    for version in ["004010", "005010"] {
        let d = &defs().version(version).expect("version").dictionary;
        for id in ["ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"] {
            assert!(
                d.segments.contains_key(&SegmentId::from_static(id)),
                "{version}: {id}"
            );
        }
        let isa = &d.segments[&SegmentId::from_static("ISA")];
        assert_eq!(isa.elements.len(), 16, "{version}: ISA has 16 elements");
    }
}

fn element(version: &str, seg: &str, pos: usize) -> (String, ElementType, u32, u32, Requirement) {
    let d = &defs().version(version).expect("version").dictionary;
    let s = &d.segments[&SegmentId::parse(seg.as_bytes()).expect("segment ID")];
    let u = &s.elements[pos - 1];
    match &u.kind {
        ElementKind::Simple(e) => (e.id.clone(), e.ty, e.min, e.max, u.req),
        ElementKind::Composite(c) => panic!("{seg}{pos:02} is composite {}", c.id),
    }
}

#[test]
fn well_known_elements_match_the_standard() {
    use ElementType::*;
    use Requirement::*;
    assert_eq!(
        element("004010", "BEG", 3),
        ("324".into(), An, 1, 22, Mandatory)
    );
    assert_eq!(
        element("004010", "BEG", 5),
        ("373".into(), Date, 8, 8, Mandatory)
    );
    assert_eq!(
        element("004010", "SE", 1),
        ("96".into(), Numeric(0), 1, 10, Mandatory)
    );
    assert_eq!(
        element("004010", "ST", 2),
        ("329".into(), An, 4, 9, Mandatory)
    );
    assert_eq!(
        element("004010", "GS", 6),
        ("28".into(), Numeric(0), 1, 9, Mandatory)
    );
    assert_eq!(element("004010", "PO1", 2).1, Decimal);
    assert_eq!(
        element("004010", "TDS", 1),
        ("610".into(), Numeric(2), 1, 15, Mandatory)
    );
    assert_eq!(element("004010", "HL", 3).0, "735");
    assert_eq!(element("004010", "BSN", 5).0, "1005");
    assert_eq!(element("004010", "REF", 2).3, 30);
    assert_eq!(element("005010", "REF", 2).3, 50);
    assert_eq!(element("005010", "ST", 3).0, "1705");
    assert_eq!(element("005010", "AK1", 3).0, "480");
}

#[test]
fn the_folder_and_the_built_in_copy_agree() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("x12");
    let from_dir = Definitions::from_dir(&dir).expect("x12/ loads");
    let a: Vec<&str> = from_dir.versions().collect();
    let b: Vec<&str> = defs().versions().collect();
    assert_eq!(a, b);
    for v in a {
        let x: Vec<&String> = from_dir.version(v).expect("v").sets.keys().collect();
        let y: Vec<&String> = defs().version(v).expect("v").sets.keys().collect();
        assert_eq!(x, y, "{v}");
    }
}

#[test]
fn every_set_has_a_transition_table_the_walker_can_use() {
    // A standard set asks for no minimum counts, so the walker follows its
    // precomputed transitions (a bug once hid them behind the root loop's
    // own minimum).
    for version in ["004010", "005010"] {
        for (id, set) in &defs().version(version).expect("version").sets {
            let table = set
                .transitions()
                .unwrap_or_else(|| panic!("{version}/{id}: no transition table"));
            let st = table
                .transition(None, SegmentId::from_static("ST").key())
                .unwrap_or_else(|| panic!("{version}/{id}: no transition to ST"));
            assert_eq!(
                (st.depth, st.child, st.same),
                (0, 0, false),
                "{version}/{id}"
            );
        }
    }
}

/// Repeat counts against the standard: in 005010 only CTX01 (C998) and
/// DMG05 (C056) repeat, each up to 10 times, among the segments dropgate
/// defines; 004010 has no repeating element at all.
#[test]
fn repeat_counts_are_the_standards() {
    let expected = [("005010", "CTX", 1, 10), ("005010", "DMG", 5, 10)];
    for version in ["004010", "005010"] {
        let d = &defs().version(version).expect("version").dictionary;
        let mut repeating: Vec<(&str, String, usize, u32)> = Vec::new();
        for (id, segment) in &d.segments {
            for (i, u) in segment.elements.iter().enumerate() {
                if u.repeat != 1 {
                    repeating.push((version, id.to_string(), i + 1, u.repeat));
                }
            }
        }
        repeating.sort();
        let want: Vec<(&str, String, usize, u32)> = expected
            .iter()
            .filter(|(v, ..)| *v == version)
            .map(|&(v, s, p, r)| (v, s.to_string(), p, r))
            .collect();
        assert_eq!(repeating, want, "{version}");
    }
}

/// The 846's LIN loop keeps the standard's maximum of 10,000, noted rather
/// than enforced, in both versions; an overlay that states the maximum
/// makes it strict. A set past it is accepted with one note (where the
/// loop goes past), and rejected with the overlay.
#[test]
fn the_846_lin_maximum_is_noted_and_an_overlay_makes_it_strict() {
    use dropgate::x12::defs::{Node, Overlay};
    use dropgate::x12::envelope::{CheckOptions, Checker, SetOutcome, Sink, check_bytes};

    for version in ["004010", "005010"] {
        let set = &defs().version(version).expect("version").sets["846"];
        let lin = set
            .nodes
            .iter()
            .find_map(|n| match n {
                Node::Loop(l) if l.id == "LIN" => Some(l),
                _ => None,
            })
            .expect("a LIN loop");
        assert_eq!((lin.max_repeat, lin.max_noted), (10_000, true), "{version}");
    }

    let mut body = String::from("ST*846*0001~BIA*00*SI*CAT-1*20240115~");
    for i in 1..=10_002 {
        body.push_str(&format!("LIN*{i}*VN*SKU-{i}~QTY*33*1*EA~"));
    }
    body.push_str("CTT*10002~");
    let segments = body.matches('~').count() + 1;
    body.push_str(&format!("SE*{segments}*0001~"));
    let edi = format!(
        "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240115*1030*U*00401*000000101*0*P*>~GS*IB*VENDORID*RETAILERID*20240115*1030*101*X*004010~{body}GE*1*101~IEA*1*000000101~"
    );
    #[derive(Default)]
    struct Sets(Vec<SetOutcome>);
    impl Sink for Sets {
        fn set_end(
            &mut self,
            _: &dropgate::x12::envelope::GroupHeader,
            set: &SetOutcome,
        ) -> std::io::Result<()> {
            self.0.push(set.clone());
            Ok(())
        }
    }
    let check = |overlays: Vec<Overlay>| {
        let options = CheckOptions {
            overlays,
            ..CheckOptions::default()
        };
        let mut checker = Checker::new(defs(), &options).expect("checker");
        let mut sets = Sets::default();
        check_bytes(edi.as_bytes(), &mut checker, &mut sets).expect("reads");
        sets.0.remove(0)
    };
    let noted = check(Vec::new());
    assert!(noted.accepted(), "{noted:?}");
    assert!(noted.segment_findings.is_empty());
    assert_eq!(
        noted.notes.len(),
        1,
        "one note, not one per loop past the maximum"
    );
    assert_eq!(
        (noted.notes[0].loop_id.as_str(), noted.notes[0].max),
        ("LIN", 10_000)
    );
    // The 10,001st LIN: ST, BIA, then two segments per loop.
    assert_eq!(noted.notes[0].at.in_set, Some(2 + 2 * 10_000 + 1));

    let strict = Overlay::parse(
        "strict-846.toml",
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("samples/x12/overlays/strict-846.toml"),
        )
        .expect("the sample overlay"),
    )
    .expect("parses");
    let rejected = check(vec![strict]);
    assert!(!rejected.accepted());
    assert!(rejected.notes.is_empty());
    assert_eq!(
        rejected.segment_findings.len(),
        2,
        "the 10,001st and 10,002nd LIN"
    );
}

/// A segment's syntax notes as the standard writes them (`R040506`).
fn syntax(version: &str, seg: &str) -> Vec<String> {
    use dropgate::x12::defs::SyntaxKind::*;
    let d = &defs().version(version).expect("version").dictionary;
    let s = &d.segments[&SegmentId::parse(seg.as_bytes()).expect("segment ID")];
    let mut notes: Vec<String> = s
        .syntax
        .iter()
        .map(|r| {
            let kind = match r.kind {
                Paired => 'P',
                Required => 'R',
                Exclusion => 'E',
                Conditional => 'C',
                ListConditional => 'L',
            };
            let positions: String = r.positions.iter().map(|p| format!("{p:02}")).collect();
            format!("{kind}{positions}")
        })
        .collect();
    notes.sort();
    notes
}

/// Syntax notes checked against the standard's segment directory (004010,
/// as X12 publishes it and as Stedi's and EDI dictionaries render it):
/// each segment whose notes were found wrong or missing, and the PKG rule
/// that rejected valid orders (R0405 is the rule of releases before
/// 003040, which had no PKG06).
#[test]
fn syntax_notes_are_the_standards() {
    let expected: &[(&str, &str, &[&str])] = &[
        ("004010", "PKG", &["C0403", "C0501", "R040506"]),
        ("005010", "PKG", &["C0403", "C0501", "R040506"]),
        ("004010", "TXI", &["C0803", "P0405", "R020306"]),
        ("004010", "PO3", &["L040305"]),
        ("004010", "R4", &["P0203"]),
        ("004010", "CLD", &["C0504"]),
        ("004010", "CSH", &["C0203", "P0607", "P0910"]),
        ("004010", "ISS", &["P0102", "P0304", "P0506", "R010305"]),
        ("004010", "IT3", &["P0102", "R01030405"]),
        (
            "004010",
            "IT8",
            &[
                "P0809",
                "P1011",
                "P1213",
                "P1415",
                "P1617",
                "P1819",
                "P2021",
                "P2223",
                "P2425",
                "P2627",
                "R0102030507",
            ],
        ),
        ("004010", "LFH", &["P0506"]),
        ("004010", "LH2", &["P0607", "P0809", "P1011"]),
        ("004010", "LH3", &["P0102"]),
        ("004010", "MTX", &["C0102", "C0302"]),
        (
            "004010",
            "PAM",
            &[
                "C0706", "C0807", "C0907", "C1110", "L070809", "L101112", "P010203", "P0405",
                "P0607", "P1314", "R020514",
            ],
        ),
        (
            "004010",
            "PO4",
            &[
                "C0506",
                "C1013",
                "C1113",
                "C1213",
                "C1716",
                "C1804",
                "L13101112",
                "P0203",
                "P0607",
                "P0809",
            ],
        ),
        ("004010", "SCH", &["C0304", "C0908", "C1008", "L080910"]),
        ("004010", "SPI", &["P0203"]),
        ("004010", "SR", &["C0403", "C0908"]),
        (
            "004010",
            "TAX",
            &["P0203", "P0405", "P0607", "P0809", "P1011", "R0103"],
        ),
        ("004010", "TD3", &["C0203", "C0405", "E0110", "P0506"]),
        ("004010", "V1", &["C0801", "R0102"]),
        ("004010", "YNQ", &["C0908", "E010910", "P0304"]),
        ("005010", "AT9", &["P040506", "P0708"]),
        ("005010", "LH2", &["P0607", "P0809", "P1011"]),
    ];
    for (version, seg, notes) in expected {
        assert_eq!(syntax(version, seg), *notes, "{version} {seg}");
    }
}

/// Every relational element (`X`) is named by a syntax note of its
/// segment, and every note names elements the segment has.
#[test]
fn relational_elements_and_syntax_notes_agree() {
    for version in ["004010", "005010"] {
        let d = &defs().version(version).expect("version").dictionary;
        for (id, s) in &d.segments {
            let named: Vec<usize> = s.syntax.iter().flat_map(|r| r.positions.clone()).collect();
            for p in &named {
                assert!(
                    *p <= s.elements.len(),
                    "{version} {id}: note names {id}{p:02}"
                );
            }
            for (i, u) in s.elements.iter().enumerate() {
                if u.req == Requirement::Relational {
                    assert!(
                        named.contains(&(i + 1)),
                        "{version} {id}{:02} is X but no syntax note names it",
                        i + 1
                    );
                }
            }
        }
    }
}

/// The segments of the 860, 865, 870, 180 and 812 that mappings read, as
/// the 004010 and 005010 directories give them.
#[test]
fn change_status_return_and_adjustment_segments_match_the_standard() {
    use ElementType::*;
    use Requirement::*;
    for v in ["004010", "005010"] {
        assert_eq!(element(v, "BCH", 1), ("353".into(), Id, 2, 2, Mandatory));
        assert_eq!(element(v, "BCH", 2), ("92".into(), Id, 2, 2, Mandatory));
        assert_eq!(element(v, "BCH", 3), ("324".into(), An, 1, 22, Mandatory));
        assert_eq!(element(v, "BCH", 6), ("373".into(), Date, 8, 8, Mandatory));
        assert_eq!(element(v, "BCA", 2), ("587".into(), Id, 2, 2, Optional));
        assert_eq!(element(v, "BCA", 3), ("324".into(), An, 1, 22, Mandatory));
        assert_eq!(element(v, "POC", 2), ("670".into(), Id, 2, 2, Mandatory));
        assert_eq!(element(v, "POC", 3).1, Decimal);
        assert_eq!(
            element(v, "POC", 6),
            ("212".into(), Decimal, 1, 17, Relational)
        );
        assert_eq!(element(v, "BSR", 4), ("373".into(), Date, 8, 8, Mandatory));
        assert_eq!(element(v, "ISR", 1), ("368".into(), Id, 2, 2, Mandatory));
        assert_eq!(element(v, "ISR", 3), ("641".into(), Id, 3, 3, Optional));
        assert_eq!(element(v, "BGN", 1), ("353".into(), Id, 2, 2, Mandatory));
        assert_eq!(element(v, "BGN", 3), ("373".into(), Date, 8, 8, Mandatory));
        assert_eq!(element(v, "RDR", 2), ("1293".into(), Id, 2, 2, Relational));
        assert_eq!(element(v, "BLI", 3).1, Decimal);
        assert_eq!(
            element(v, "BCD", 4),
            ("610".into(), Numeric(2), 1, 15, Mandatory)
        );
        assert_eq!(element(v, "BCD", 5), ("478".into(), Id, 1, 1, Mandatory));
        assert_eq!(element(v, "CDD", 1), ("426".into(), Id, 2, 2, Mandatory));
        assert_eq!(
            element(v, "CDD", 4),
            ("610".into(), Numeric(2), 1, 15, Relational)
        );
    }
    for (seg, notes) in [
        ("RDR", vec!["E0203"]),
        ("CDD", vec!["C0711", "P0708", "R0407"]),
        ("BGN", vec!["C0504"]),
    ] {
        assert_eq!(syntax("004010", seg), notes, "{seg}");
    }
}
