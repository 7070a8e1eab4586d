//! Golden tests over `samples/x12/`: for every sample the acknowledgments
//! and the validation report are compared with the files kept next to it.
//!
//! - `X.997`: `dropgate ack X`
//! - `X.999`: `dropgate ack --999 X` (005010 samples)
//! - `X.ta1`: `dropgate ack --ta1 X` (samples in `bad/`, and mixed files)
//! - `X.report`: `dropgate x12 validate X`
//!
//! All are made with the timestamp 2024-01-17 16:35 and control numbers from
//! 900000001. On a mismatch the test writes `X.<kind>.actual` beside the
//! golden file; `UPDATE_GOLDEN=1 cargo test --test x12_samples` rewrites the
//! golden files. Every acknowledgment produced must itself validate cleanly.

use std::path::{Path, PathBuf};

use dropgate::x12::ack::{AckKind, AckOptions, AckWriter, Ta1Policy};
use dropgate::x12::control::Counter;
use dropgate::x12::defs::Definitions;
use dropgate::x12::envelope::{CheckOptions, Checker, check_bytes};
use dropgate::x12::report::{Report, ReportFormat};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12")
}

fn timestamp() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2024, 1, 17)
        .and_then(|d| d.and_hms_opt(16, 35, 0))
        .expect("valid timestamp")
}

fn ack(input: &[u8], kind: AckKind, ta1: Ta1Policy) -> Vec<u8> {
    let defs = Definitions::embedded();
    let mut checker = Checker::new(defs, &CheckOptions::default()).expect("checker");
    let mut numbers = Counter::starting_at(900_000_001);
    let mut options = AckOptions::new(timestamp());
    options.kind = kind;
    options.ta1 = ta1;
    let mut writer = AckWriter::new(Vec::new(), options, &mut numbers);
    check_bytes(input, &mut checker, &mut writer).expect("sample reads");
    writer.into_inner().expect("in memory")
}

fn report(input: &[u8]) -> Vec<u8> {
    let defs = Definitions::embedded();
    let mut checker = Checker::new(defs, &CheckOptions::default()).expect("checker");
    let mut report = Report::new(Vec::new(), ReportFormat::Text, false);
    check_bytes(input, &mut checker, &mut report).expect("sample reads");
    report.into_inner().expect("in memory")
}

/// An acknowledgment must itself be valid X12 that validates cleanly.
fn assert_valid_ack(name: &str, ack: &[u8]) {
    if ack.is_empty() {
        return;
    }
    let defs = Definitions::embedded();
    let mut checker = Checker::new(defs, &CheckOptions::default()).expect("checker");
    let mut report = Report::new(Vec::new(), ReportFormat::Text, true);
    let summary = check_bytes(ack, &mut checker, &mut report)
        .unwrap_or_else(|e| panic!("{name}: the ack does not read: {e}"));
    let text = String::from_utf8_lossy(&report.into_inner().expect("in memory")).into_owned();
    // An acknowledgment in a version dropgate has no definitions for (it
    // answers a 003040 group in 003040) can only be read, not validated.
    if text.contains("functional group version not supported") {
        return;
    }
    assert!(
        summary.clean(),
        "{name}: the ack does not validate:\n{text}\n{}",
        String::from_utf8_lossy(ack)
    );
}

fn compare(golden: &Path, actual: &[u8], failures: &mut Vec<String>) {
    let actual_path = PathBuf::from(format!("{}.actual", golden.display()));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden, actual).expect("write golden");
        let _ = std::fs::remove_file(&actual_path);
        return;
    }
    match std::fs::read(golden) {
        Ok(expected) if expected == actual => {
            let _ = std::fs::remove_file(&actual_path);
        }
        Ok(_) => {
            std::fs::write(&actual_path, actual).expect("write actual");
            failures.push(format!(
                "{} differs (see {})",
                golden.display(),
                actual_path.display()
            ));
        }
        Err(_) => {
            std::fs::write(&actual_path, actual).expect("write actual");
            failures.push(format!(
                "{} is missing (see {})",
                golden.display(),
                actual_path.display()
            ));
        }
    }
}

fn edi_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(samples().join(dir))
        .expect("samples folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "edi"))
        .collect();
    files.sort();
    files
}

#[test]
fn acknowledgments_and_reports_match_the_golden_files() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for dir in ["good", "bad"] {
        for path in edi_files(dir) {
            let input = std::fs::read(&path).expect("read sample");
            let name = path.display().to_string();
            let stem = path.with_extension("");
            let fa = ack(&input, AckKind::Functional, Ta1Policy::Never);
            assert_valid_ack(&name, &fa);
            compare(&stem.with_extension("997"), &fa, &mut failures);
            if name.contains("5010") {
                let ia = ack(&input, AckKind::Implementation, Ta1Policy::Never);
                assert_valid_ack(&name, &ia);
                compare(&stem.with_extension("999"), &ia, &mut failures);
            }
            if dir == "bad" || name.contains("mixed") {
                let ta1 = ack(&input, AckKind::Functional, Ta1Policy::Always);
                assert_valid_ack(&name, &ta1);
                compare(&stem.with_extension("ta1"), &ta1, &mut failures);
            }
            compare(
                &stem.with_extension("report"),
                &report(&input),
                &mut failures,
            );
            cases += 1;
        }
    }
    assert!(cases >= 30, "found only {cases} samples");
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn ack_text(path: &str, kind: AckKind, ta1: Ta1Policy) -> String {
    let input = std::fs::read(samples().join(path)).expect("sample");
    String::from_utf8(ack(&input, kind, ta1)).expect("ack is text")
}

/// What each sample's acknowledgment must say, stated independently of the
/// golden files so that a wrong golden file cannot be blessed unnoticed.
#[test]
fn acknowledgments_say_what_the_standard_prescribes() {
    use AckKind::*;
    use Ta1Policy::*;
    let cases: &[(&str, AckKind, Ta1Policy, &[&str])] = &[
        (
            "good/850-4010-dropship.edi",
            Functional,
            Never,
            &[
                "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *240117*1635*U*00401*900000001*0*P*>~",
                "GS*FA*VENDORID*RETAILERID*20240117*1635*900000001*X*004010~",
                "ST*997*0001~",
                "AK1*PO*101~",
                "AK2*850*0001~",
                "AK5*A~",
                "AK9*A*1*1*1~",
                "SE*6*0001~",
                "GE*1*900000001~",
                "IEA*1*900000001~",
            ],
        ),
        (
            "good/856-4010-pick-and-pack.edi",
            Functional,
            Never,
            &["AK1*SH*301~\r\n", "AK9*A*1*1*1~\r\n"],
        ),
        (
            "good/850-5010-dropship.edi",
            Functional,
            Never,
            &[
                "*^*00501*",
                "AK1*PO*1101*005010~",
                "AK2*850*0001~",
                "AK5*A~",
            ],
        ),
        (
            "good/850-5010-dropship.edi",
            Implementation,
            Never,
            &[
                "ST*999*0001~",
                "AK1*PO*1101*005010~",
                "IK5*A~",
                "AK9*A*1*1*1~",
            ],
        ),
        (
            "bad/810-4010-bad-date.edi",
            Functional,
            Never,
            &[
                "AK1*IN*401~",
                "AK2*810*0001~",
                "AK3*BIG*2**8~",
                "AK4*1*373*8*20241317~",
                "AK5*R*5~",
                "AK9*R*1*1*0~",
                "SE*8*0001~",
            ],
        ),
        (
            "bad/850-4010-invalid-po-type.edi",
            Functional,
            Never,
            &["AK3*BEG*2**8~", "AK4*2*92*7*XX~", "AK5*R*5~"],
        ),
        (
            "bad/850-4010-missing-beg.edi",
            Functional,
            Never,
            &["AK3*BEG*", "*3~", "AK5*R*5~"],
        ),
        (
            "bad/850-4010-unknown-segment.edi",
            Functional,
            Never,
            &["AK3*PO2*12**1~", "AK5*R*5~"],
        ),
        (
            "bad/850-4010-elements.edi",
            Functional,
            Never,
            &[
                "AK4*3*324*5*PO123456789012345678901~",
                "AK4*2*127*2~",
                "AK4*3*337*9*2561~",
                "AK4*2*330*6*TWO~",
                "AK4*7*234*2~",
            ],
        ),
        (
            "bad/850-4010-out-of-sequence.edi",
            Functional,
            Never,
            &["AK3*REF*5**7~"],
        ),
        (
            "bad/850-4010-se-count.edi",
            Functional,
            Never,
            &["AK5*R*4~", "AK9*R*1*1*0~"],
        ),
        (
            "bad/850-4010-se-control-number.edi",
            Functional,
            Never,
            &["AK5*R*3~"],
        ),
        // A group rejected as a whole (its GE does not agree with it) has
        // no set accepted: not in AK904, not in an AK5 (or IK5).
        (
            "bad/850-4010-group-trailer.edi",
            Functional,
            Never,
            &["AK5*R~", "AK9*R*2*1*0*5*4~"],
        ),
        (
            "bad/850-5010-duplicate-group-number.edi",
            Implementation,
            Never,
            &["IK5*A~\nAK9*A*1*1*1~", "IK5*R~\nAK9*R*1*1*0*19~"],
        ),
        (
            "bad/850-4010-interchange-trailer.edi",
            Functional,
            Always,
            &["TA1*000000135*240115*1030*R*021~", "IEA*0*900000001~"],
        ),
        // A rejected interchange gets its TA1 whatever the policy.
        (
            "bad/850-4010-interchange-trailer.edi",
            Functional,
            Never,
            &["TA1*000000135*240115*1030*R*021~", "IEA*0*900000001~"],
        ),
        (
            "bad/850-4010-missing-se.edi",
            Functional,
            Never,
            &[
                "AK2*850*0001~",
                "AK5*R*2~",
                "AK2*850*0002~",
                "AK5*A~",
                "AK9*P*2*2*1~",
            ],
        ),
        (
            "bad/850-4010-duplicate-set-number.edi",
            Functional,
            Never,
            &["AK5*A~", "AK5*R*23~", "AK9*P*2*2*1~"],
        ),
        (
            "bad/850-4010-partial.edi",
            Functional,
            Never,
            &["AK4*5*373*8*20240230~", "AK9*P*2*2*1~"],
        ),
        (
            "bad/810-in-po-group.edi",
            Functional,
            Never,
            &["AK5*R*6~", "AK9*R*1*1*0~"],
        ),
        (
            "bad/861-not-supported.edi",
            Functional,
            Never,
            &["AK2*861*0001~", "AK5*R*1~"],
        ),
        (
            "bad/850-003040-version.edi",
            Functional,
            Never,
            &["AK9*R*1*1*0*2~"],
        ),
        (
            "bad/850-5010-repetition.edi",
            Functional,
            Never,
            &["AK4*2::2*127*12*ORD-2~"],
        ),
        (
            "good/997-4010-accepting.edi",
            Functional,
            Always,
            &["TA1*000000102*240117*1635*A*000~", "IEA*0*"],
        ),
        // A group in a version without definitions is rejected alone, its
        // six-digit GS04 read as its version (before 004010) writes it;
        // the group beside it and the interchange are accepted.
        (
            "bad/850-003060-beside-004010.edi",
            Functional,
            Always,
            &[
                "TA1*000000161*240115*1030*A*000~",
                "AK1*PO*161~",
                "AK2*850*0001~",
                "AK5*R*1~",
                "AK9*R*1*1*0*2~",
                "AK1*PO*162~",
                "AK9*A*1*1*1~",
            ],
        ),
        // Each acknowledgment group writes GS04 as its own version does.
        (
            "bad/850-003060-beside-004010.edi",
            Functional,
            Never,
            &[
                "GS*FA*VENDORID*RETAILERID*240117*1635*900000001*X*003060~",
                "GS*FA*VENDORID*RETAILERID*20240117*1635*900000002*X*004010~",
            ],
        ),
        // ISB and ISE belong to the interchange envelope.
        (
            "good/850-4010-isb-ise.edi",
            Functional,
            Always,
            &["TA1*000000171*240115*1030*A*000~", "AK9*A*1*1*1~"],
        ),
        // Their contents are noted (TA1 E, 028-031), nothing is rejected.
        (
            "bad/850-4010-isb-ise-invalid.edi",
            Functional,
            Always,
            &["TA1*000000172*240115*1030*E*031~", "AK9*A*1*1*1~"],
        ),
        // Before 00402, ISA11 has one code, U: a space is noted (TA1 E
        // 016), and nothing is rejected.
        (
            "bad/850-4010-isa11-space.edi",
            Functional,
            Always,
            &["TA1*000000106*240115*1030*E*016~", "AK9*A*1*1*1~"],
        ),
        // An ISA12 outside its code list rejects the interchange (TA1 017)...
        (
            "bad/850-4010-isa12-invalid.edi",
            Functional,
            Always,
            &["TA1*000000181*240115*1030*R*017~", "IEA*0*900000001~"],
        ),
        // ...and an acknowledgment is never written in that version.
        (
            "bad/850-4010-isa12-invalid.edi",
            Functional,
            Never,
            &[
                "*U*00401*900000001*0*P*>~",
                "TA1*000000181*240115*1030*R*017~",
            ],
        ),
        // An interchange rejected for its receiver's qualifier (TA1 007)
        // is answered from a valid one: ZZ, not the qualifier refused.
        (
            "bad/850-4010-receiver-qualifier.edi",
            Functional,
            Never,
            &[
                "ISA*00*          *00*          *ZZ*VENDORID       *ZZ*RETAILERID     *",
                "TA1*000000182*240115*1030*R*007~",
            ],
        ),
        (
            "good/mixed-two-interchanges.edi",
            Functional,
            Never,
            &[
                "AK1*PO*7001~",
                "AK1*IN*7002~",
                "AK9*A*2*2*2~",
                "AK1|SH|7003!\r\n",
                "|U|00401|900000002|",
            ],
        ),
        // The change, status, return and adjustment sets, in their own
        // functional groups (PC, CA, RS, AN, CD).
        (
            "good/860-4010-line-changes.edi",
            Functional,
            Never,
            &["AK1*PC*1601~", "AK2*860*0001~", "AK5*A~", "AK9*A*1*1*1~"],
        ),
        (
            "good/865-5010-rejected.edi",
            Implementation,
            Never,
            &["AK1*CA*1702*005010~", "AK2*865*0001~", "IK5*A~"],
        ),
        (
            "good/870-4010-order-and-item-status.edi",
            Functional,
            Never,
            &["AK1*RS*1801~", "AK2*870*0001~", "AK5*A~"],
        ),
        (
            "good/180-4010-return-authorized.edi",
            Functional,
            Never,
            &["AK1*AN*1901~", "AK2*180*0001~", "AK5*A~"],
        ),
        (
            "good/812-5010-freight-debit.edi",
            Implementation,
            Never,
            &["AK1*CD*2002*005010~", "AK2*812*0001~", "IK5*A~"],
        ),
        // POC02, the change type, is mandatory.
        (
            "bad/860-4010-poc-without-change-type.edi",
            Functional,
            Never,
            &[
                "AK3*POC*3*POC*8~",
                "AK4*2*670*1~",
                "AK5*R*5~",
                "AK9*R*1*1*0~",
            ],
        ),
        // A CDD needs its amount or its quantity (R0407).
        (
            "bad/812-4010-cdd-without-amount.edi",
            Functional,
            Never,
            &["AK3*CDD*4*CDD*8~", "AK4*4*610*2~", "AK5*R*5~"],
        ),
    ];
    for (path, kind, ta1, expected) in cases {
        let text = ack_text(path, *kind, *ta1);
        for e in *expected {
            assert!(text.contains(e), "{path}: expected {e:?} in:\n{text}");
        }
    }
    // Acknowledgments are never acknowledged.
    assert_eq!(
        ack_text("good/997-4010-accepting.edi", Functional, Never),
        ""
    );
}

/// An interchange whose envelope is rejected is answered by its TA1 `R`
/// and note, whatever the TA1 policy, and never by a 997 or 999 that would
/// tell the sender its groups were accepted.
#[test]
fn a_rejected_interchange_gets_its_ta1_and_no_acknowledgment_of_its_groups() {
    let cases = [
        (
            "bad/850-4010-interchange-trailer.edi",
            "TA1*000000135*240115*1030*R*021~",
        ),
        (
            "bad/850-4010-isa12-invalid.edi",
            "TA1*000000181*240115*1030*R*017~",
        ),
        (
            "bad/856-4010-iea-control-number.edi",
            "TA1*000000311*240117*1630*R*001~",
        ),
    ];
    for (path, ta1) in cases {
        for policy in [
            Ta1Policy::Never,
            Ta1Policy::WhenRequested,
            Ta1Policy::Always,
        ] {
            for kind in [AckKind::Functional, AckKind::Implementation] {
                let text = ack_text(path, kind, policy);
                assert!(text.contains(ta1), "{path} {policy:?}: {text}");
                assert!(text.contains("IEA*0*"), "{path} {policy:?}: {text}");
                for group in ["GS*", "AK1*", "AK9*"] {
                    assert!(!text.contains(group), "{path} {policy:?}: {text}");
                }
            }
        }
    }
}

/// ISA14 = 1 asks for a TA1: `WhenRequested` sends one then, and only then.
#[test]
fn a_ta1_is_sent_when_the_interchange_asks_for_one() {
    let requested = "good/850-4010-ta1-requested.edi";
    let text = ack_text(requested, AckKind::Functional, Ta1Policy::WhenRequested);
    assert!(text.contains("TA1*000000191*240115*1030*A*000~"), "{text}");
    assert!(text.contains("AK9*A*1*1*1~"), "{text}");
    let text = ack_text(requested, AckKind::Functional, Ta1Policy::Never);
    assert!(!text.contains("TA1"), "{text}");
    let not_requested = "good/850-4010-dropship.edi";
    let text = ack_text(not_requested, AckKind::Functional, Ta1Policy::WhenRequested);
    assert!(!text.contains("TA1"), "{text}");
    assert!(text.contains("AK9*A*1*1*1~"), "{text}");
}

/// A group in a release dropgate has no definitions for (004030) is not
/// read with another release's tables, which would reject segments the
/// release allows (MTX in the 850's N9 loop): it is rejected as a version
/// not supported (AK9 R 2), and nothing in it is called a segment error.
#[test]
fn a_release_without_definitions_is_not_read_with_another() {
    let path = "bad/850-004030-n9-mtx.edi";
    let text = ack_text(path, AckKind::Functional, Ta1Policy::Never);
    assert!(text.contains("AK5*R*1~"), "{text}");
    assert!(text.contains("AK9*R*1*1*0*2~"), "{text}");
    assert!(!text.contains("AK3"), "{text}");
    let input = std::fs::read(samples().join(path)).expect("sample");
    let report = String::from_utf8(report(&input)).expect("text");
    assert!(
        report.contains("no definitions for version \"004030\" (GS08)"),
        "{report}"
    );
}

/// A truncated file is an error, but what was open is still reported, so
/// that the gateway can answer with a rejecting acknowledgment.
#[test]
fn a_truncated_interchange_still_gets_a_rejecting_acknowledgment() {
    let input = std::fs::read(samples().join("broken/no-iea.edi")).expect("sample");
    let defs = Definitions::embedded();
    let mut checker = Checker::new(defs, &CheckOptions::default()).expect("checker");
    let mut numbers = Counter::starting_at(1);
    let mut options = AckOptions::new(timestamp());
    options.ta1 = Ta1Policy::Always;
    let mut writer = AckWriter::new(Vec::new(), options, &mut numbers);
    let error = check_bytes(&input, &mut checker, &mut writer).expect_err("truncated");
    assert!(error.to_string().contains("no IEA"), "{error}");
    let ack = String::from_utf8(writer.into_inner().expect("in memory")).expect("text");
    assert!(ack.contains("TA1*000000151*240115*1030*R*023~"), "{ack}");
    assert!(ack.contains("IEA*0*"), "{ack}");
}

/// Every sample in `good/` validates without an error, so that a wrong
/// golden report cannot be blessed there.
#[test]
fn good_samples_validate_cleanly() {
    for path in edi_files("good") {
        let input = std::fs::read(&path).expect("read sample");
        let defs = Definitions::embedded();
        let mut checker = Checker::new(defs, &CheckOptions::default()).expect("checker");
        let mut report = Report::new(Vec::new(), ReportFormat::Text, false);
        let summary = check_bytes(&input, &mut checker, &mut report).expect("sample reads");
        let text = String::from_utf8_lossy(&report.into_inner().expect("in memory")).into_owned();
        assert!(summary.clean(), "{}:\n{text}", path.display());
    }
}

/// The report names every note of an interchange's ISB and ISE, with the
/// TA1 code of each.
#[test]
fn delivery_requests_are_checked_and_noted() {
    let input = std::fs::read(samples().join("bad/850-4010-isb-ise-invalid.edi")).expect("sample");
    let text = String::from_utf8(report(&input)).expect("text");
    for expected in [
        "interchange 000000172: accepted with notes [TA1 E 031]",
        "ISB01 \"7\" is not a grade of service code",
        "[TA1 031]",
        "ISE01 \"241316\" is not a date (YYMMDD)",
        "[TA1 028]",
        "ISE02 \"2560\" is not a time (HHMM)",
        "[TA1 029]",
        "ISE03 \"XX\" is not a delivery time code",
        "[TA1 030]",
    ] {
        assert!(text.contains(expected), "expected {expected:?} in:\n{text}");
    }
}

/// ISB and ISE belong between the ISA and the first GS, once each;
/// anywhere else they are invalid content (TA1 R 024).
#[test]
fn delivery_requests_belong_before_the_first_group() {
    let good =
        std::fs::read_to_string(samples().join("good/850-4010-isb-ise.edi")).expect("sample");
    let moved = good
        .replace("ISE*240116*0600*ET~\n", "")
        .replace("GE*1*171~\n", "GE*1*171~\nISE*240116*0600*ET~\n");
    let twice = good.replace("ISB*2~\n", "ISB*2~\nISB*0~\n");
    for (input, expected) in [
        (moved, "ISE (it belongs between the ISA and the first GS)"),
        (twice, "ISB (it may come only once)"),
    ] {
        let text = String::from_utf8(report(input.as_bytes())).expect("text");
        assert!(text.contains("rejected [TA1 R 024]"), "{text}");
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
}

/// CTX01 repeats up to 10 times in 005010, not 11.
#[test]
fn a_repeated_composite_is_checked_against_its_repeat_count() {
    let sample =
        std::fs::read_to_string(samples().join("good/999-5010-ctx-repeated.edi")).expect("sample");
    let ten = ["NAME:REF"; 10].join("^");
    let eleven = ["NAME:REF"; 11].join("^");
    let with = |ctx01: &str| {
        let input = sample.replace("PO NUMBER:PO123456^ORDER TYPE:DS^RELEASE:1", ctx01);
        String::from_utf8(report(input.as_bytes())).expect("text")
    };
    assert!(with(&ten).contains("set 999 0001, line 3: accepted"));
    let text = with(&eleven);
    assert!(
        text.contains("CTX01 (repetition 11) (C998): too many repetitions [AK4 12]"),
        "{text}"
    );
}
