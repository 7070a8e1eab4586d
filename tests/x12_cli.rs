//! The `dropgate` binary, run as a user runs it: exit codes, stdout and the
//! one-line messages on stderr.

use std::path::PathBuf;
use std::process::{Command, Output};

fn dropgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn sample(path: &str) -> String {
    format!("samples/x12/{path}")
}

#[test]
fn ack_prints_a_997_and_exits_zero() {
    let out = dropgate(&[
        "ack",
        &sample("good/850-4010-dropship.edi"),
        "--timestamp",
        "2024-01-17T16:35",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("ISA*00*"), "{stdout}");
    assert!(stdout.contains("ST*997*0001~"));
    assert!(stdout.contains("AK9*A*1*1*1~"));
    assert!(out.stderr.is_empty());
}

#[test]
fn ack_of_a_rejected_group_still_exits_zero() {
    let out = dropgate(&["ack", &sample("bad/810-4010-bad-date.edi")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("AK5*R*5~"));
}

#[test]
fn ack_options_999_ta1_and_control_numbers() {
    let out = dropgate(&[
        "ack",
        "--999",
        "--ta1",
        "--control-number",
        "42",
        &sample("good/850-5010-dropship.edi"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ST*999*0001~"), "{stdout}");
    assert!(stdout.contains("TA1*000001101*"), "{stdout}");
    assert!(stdout.contains("*000000042*0*P*:~"), "{stdout}");
    assert!(stdout.contains("IK5*A~"));
}

/// Without an option, `ack` sends a TA1 when the interchange asks for one
/// (ISA14 = 1); `--ta1` sends one always, `--no-ta1` only to reject.
#[test]
fn ack_sends_a_ta1_when_isa14_asks_for_one() {
    let requested = sample("good/850-4010-ta1-requested.edi");
    let out = dropgate(&["ack", &requested]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("TA1*000000191*240115*1030*A*000~"),
        "{stdout}"
    );
    assert!(stdout.contains("AK9*A*1*1*1~"), "{stdout}");

    let out = dropgate(&["ack", "--no-ta1", &requested]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("TA1"), "{}", text(&out.stdout));

    let plain = sample("good/850-4010-dropship.edi");
    let out = dropgate(&["ack", &plain]);
    assert!(!text(&out.stdout).contains("TA1"), "{}", text(&out.stdout));
    let out = dropgate(&["ack", "--ta1", &plain]);
    assert!(
        text(&out.stdout).contains("TA1*000000101*"),
        "{}",
        text(&out.stdout)
    );
}

/// A rejected interchange is answered by its TA1 R, even without `--ta1`,
/// and its groups get no 997 that would say they were accepted.
#[test]
fn ack_rejects_a_rejected_interchange_with_its_ta1_alone() {
    for options in [vec![], vec!["--no-ta1"], vec!["--ta1"], vec!["--999"]] {
        let file = sample("bad/856-4010-iea-control-number.edi");
        let mut args = vec!["ack"];
        args.extend(options.iter().copied());
        args.push(&file);
        let out = dropgate(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("TA1*000000311*240117*1630*R*001~"),
            "{options:?}: {stdout}"
        );
        assert!(!stdout.contains("AK9"), "{options:?}: {stdout}");
        assert!(!stdout.contains("GS*"), "{options:?}: {stdout}");
    }
}

#[test]
fn ack_reads_standard_input() {
    let input = std::fs::read(sample("good/846-4010-inventory.edi")).expect("sample");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(["ack", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("writes");
    let out = child.wait_with_output().expect("finishes");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("AK1*IB*501~"));
}

#[test]
fn acknowledgments_are_not_acknowledged() {
    let out = dropgate(&["ack", &sample("good/997-4010-accepting.edi")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("only acknowledgments"));
}

#[test]
fn broken_input_exits_non_zero_with_one_line_naming_file_and_place() {
    let cases = [
        ("broken/empty.edi", "empty"),
        ("broken/garbage.edi", "not X12"),
        ("broken/truncated.edi", "not terminated"),
        ("broken/no-iea.edi", "no IEA"),
        ("broken/malformed-isa.edi", "ISA"),
        ("broken/clashing-delimiters.edi", "delimiters"),
        ("broken/binary.edi", "not X12"),
        // A terminator of two bytes (UTF-8 `§`) is not a wrapped file; the
        // message says what it is, at the ISA.
        (
            "broken/multibyte-terminator.edi",
            "line 1, column 106 (byte 105, segment 1, ISA): the segment terminator is byte 0xC2, the first byte of the UTF-8 character '§'",
        ),
    ];
    for (path, expected) in cases {
        let file = sample(path);
        for command in [
            vec!["ack", file.as_str()],
            vec!["x12", "validate", file.as_str()],
        ] {
            let out = dropgate(&command);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
            assert_eq!(
                stderr.lines().count(),
                1,
                "{command:?}: not one line: {stderr}"
            );
            assert!(
                stderr.contains(&file),
                "{command:?}: no file name: {stderr}"
            );
            assert!(
                stderr.contains("line ") && stderr.contains("byte "),
                "{command:?}: no place: {stderr}"
            );
            assert!(stderr.contains(expected), "{command:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

/// A file whose ISA was read but which is not whole (no IEA, a last
/// segment cut off, a terminator of several bytes) is still answered: a
/// TA1 R with the note that says why (023 for an early end, 004 for the
/// terminator), on stdout; stderr says why the file was not whole, and the
/// exit code is 2. What has no ISA gets nothing.
#[test]
fn ack_answers_a_file_that_is_not_whole_with_a_ta1_r() {
    let cases = [
        (
            "broken/no-iea.edi",
            "TA1*000000151*240115*1030*R*023~",
            "no IEA",
        ),
        (
            "broken/truncated.edi",
            "TA1*000000151*240115*1030*R*023~",
            "not terminated",
        ),
        (
            "broken/multibyte-terminator.edi",
            "TA1*000000101*240115*1030*R*004~",
            "UTF-8 character",
        ),
    ];
    for (path, ta1, why) in cases {
        let file = sample(path);
        for options in [vec![], vec!["--ta1"], vec!["--no-ta1"]] {
            let mut args = vec!["ack"];
            args.extend(options.iter().copied());
            args.push(&file);
            let out = dropgate(&args);
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stdout.contains(ta1), "{args:?}: {stdout}");
            assert!(stdout.contains("IEA*0*"), "{args:?}: {stdout}");
            assert!(!stdout.contains("AK1"), "{args:?}: {stdout}");
            assert!(stderr.contains(why), "{args:?}: {stderr}");
            assert!(stderr.contains("answered with TA1 R"), "{args:?}: {stderr}");
        }
    }
    for path in [
        "broken/garbage.edi",
        "broken/empty.edi",
        "broken/malformed-isa.edi",
    ] {
        let out = dropgate(&["ack", "--ta1", &sample(path)]);
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty(), "{path}: {}", text(&out.stdout));
    }
    // validate names the same verdict.
    let out = dropgate(&[
        "x12",
        "validate",
        &sample("broken/multibyte-terminator.edi"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("interchange 000000101: rejected [TA1 R 004]"),
        "{}",
        text(&out.stdout)
    );
}

/// A line break inside a segment of an ordinary file (its lines have no
/// one width) is not fixed-record wrapping: it stays where it is and is
/// found at its own line.
#[test]
fn a_line_break_inside_a_segment_is_found_at_its_line() {
    let out = dropgate(&[
        "x12",
        "validate",
        &sample("bad/850-4010-line-break-in-segment.edi"),
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(!stderr.contains("wrapped"), "{stderr}");
    assert!(
        stdout.contains("N1 in loop N1 at line 8, column 1, byte 266, segment 8, set position 6"),
        "{stdout}"
    );
    assert!(
        stdout.contains("N102 (93): invalid character in data element [AK4 6]: \"Jane\\nDoe\""),
        "{stdout}"
    );
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let out = dropgate(&["ack", "no/such/file.edi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/file.edi"));
}

#[test]
fn validate_exits_zero_on_good_files_and_one_on_bad() {
    let good = dropgate(&["x12", "validate", &sample("good/856-4010-pallets.edi")]);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stdout));
    assert!(text(&good.stdout).contains("set 856 0001, line 3: accepted"));

    let bad = dropgate(&["x12", "validate", &sample("bad/810-4010-bad-date.edi")]);
    assert_eq!(bad.status.code(), Some(1));
    let report = text(&bad.stdout);
    assert!(
        report.contains("BIG at line 4, column 1, byte 174, segment 4, set position 2"),
        "{report}"
    );
    assert!(
        report.contains("BIG01 (373): invalid date [AK4 8]: \"20241317\""),
        "{report}"
    );

    let envelope = dropgate(&[
        "x12",
        "validate",
        &sample("bad/850-4010-interchange-trailer.edi"),
    ]);
    assert_eq!(envelope.status.code(), Some(1));
    assert!(text(&envelope.stdout).contains("[TA1 021]"));
}

#[test]
fn validate_json_lines() {
    let out = dropgate(&[
        "x12",
        "validate",
        "--format",
        "json",
        &sample("bad/850-4010-partial.edi"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let sets: Vec<&serde_json::Value> = lines.iter().filter(|v| v["kind"] == "set").collect();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0]["accepted"], true);
    assert_eq!(sets[1]["accepted"], false);
    let finding = &sets[1]["set"]["segment_findings"][0];
    assert_eq!(finding["id"], "BEG");
    assert_eq!(finding["elements"][0]["error"], "invalid_date");
    assert_eq!(finding["elements"][0]["value"], "20240230");
    assert!(finding["at"]["line"].as_u64().is_some());
}

#[test]
fn an_overlay_makes_the_partner_guide_count() {
    let overlay = sample("overlays/acme-850.toml");
    let plain = dropgate(&["x12", "validate", &sample("good/850-4010-dropship.edi")]);
    assert_eq!(plain.status.code(), Some(0));
    // The sample has no REF*... wait: it has REF*CO, so make a file without it.
    let original = std::fs::read_to_string(sample("good/850-4010-dropship.edi")).expect("sample");
    let without_ref = original
        .replace("REF*CO*ORD-98765~\n", "")
        .replace("SE*15*0001", "SE*14*0001")
        .replace("BEG*00*DS", "BEG*00*RL");
    let dir = tempfile::tempdir().expect("temp dir");
    let path: PathBuf = dir.path().join("no-ref.edi");
    std::fs::write(&path, without_ref).expect("write");
    let path = path.display().to_string();
    let without = dropgate(&["x12", "validate", &path]);
    assert_eq!(without.status.code(), Some(0), "{}", text(&without.stdout));
    let guided = dropgate(&["x12", "validate", "--overlay", &overlay, &path]);
    assert_eq!(guided.status.code(), Some(1));
    let report = text(&guided.stdout);
    assert!(report.contains("REF found missing at"), "{report}");
    assert!(
        report.contains("BEG02 (92): invalid code value [AK4 7]: \"RL\""),
        "{report}"
    );

    let bad_overlay = dir.path().join("bad.toml");
    std::fs::write(
        &bad_overlay,
        "schema_version = 1\nset = \"850\"\n\n[[segment]]\npath = \"N1/XX9\"\n",
    )
    .expect("write");
    let out = dropgate(&[
        "x12",
        "validate",
        "--overlay",
        &bad_overlay.display().to_string(),
        &path,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.toml:4:"), "{stderr}");
    assert!(stderr.contains("XX9"), "{stderr}");
}

#[test]
fn definitions_can_come_from_a_folder() {
    let out = dropgate(&[
        "x12",
        "validate",
        "--defs",
        "x12",
        &sample("good/810-5010.edi"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A folder without the 810's definition: the set is unknown.
    let empty = tempfile::tempdir().expect("temporary folder");
    let out = dropgate(&[
        "x12",
        "validate",
        "--defs",
        &empty.path().to_string_lossy(),
        &sample("good/810-5010.edi"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
}

#[test]
fn scan_reports_throughput() {
    for stage in ["parse", "validate", "ack"] {
        let out = dropgate(&[
            "x12",
            "scan",
            "--stage",
            stage,
            &sample("good/mixed-two-interchanges.edi"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).expect("JSON");
        assert_eq!(v["segments"], 71);
        assert_eq!(v["sets"], 4);
    }
}

/// A group in a version dropgate has no definitions for is rejected alone:
/// `translate` writes the documents of the other groups, names the
/// rejected group and exits 1, as for any rejected group; the interchange
/// itself is not rejected.
#[test]
fn translate_skips_a_group_in_an_unsupported_version() {
    let out = dropgate(&["translate", &sample("bad/850-003060-beside-004010.edi")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
    let docs = docs.as_array().expect("an array");
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0]["po_number"], "PO123457");
    assert_eq!(docs[0]["source"]["version"], "004010");
    assert!(
        stderr.contains("group PO 161: the group is rejected [AK9 R]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("functional group version not supported"),
        "{stderr}"
    );
    assert!(!stderr.contains("GS04"), "{stderr}");
    assert!(!stderr.contains("interchange is rejected"), "{stderr}");

    let ack = dropgate(&["ack", "--ta1", &sample("bad/850-003060-beside-004010.edi")]);
    let stdout = text(&ack.stdout);
    assert_eq!(ack.status.code(), Some(0), "{}", text(&ack.stderr));
    assert!(stdout.contains("*A*000~"), "{stdout}");
    assert_eq!(stdout.matches("ST*997*").count(), 2, "{stdout}");
}

/// ISB and ISE (delivery requests) do not stop a file from translating.
#[test]
fn translate_reads_an_interchange_with_delivery_requests() {
    let out = dropgate(&["translate", &sample("good/850-4010-isb-ise.edi")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
    assert_eq!(docs.as_array().map(Vec::len), Some(1), "{docs}");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn validate_in_json_says_why_an_input_cannot_be_read() {
    for (file, says) in [
        ("broken/garbage.edi", "does not start with an ISA"),
        ("broken/truncated.edi", "not terminated before the end"),
    ] {
        let out = dropgate(&["x12", "validate", "--format", "json", &sample(file)]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        let stdout = text(&out.stdout);
        assert!(!stdout.is_empty(), "{file}: {}", text(&out.stderr));
        let last: serde_json::Value =
            serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("a JSON line");
        assert_eq!(last["kind"], "unreadable", "{stdout}");
        assert!(
            last["error"].as_str().is_some_and(|e| e.contains(says)),
            "{stdout}"
        );
        assert!(last["at"]["line"].as_u64().is_some(), "{stdout}");
        // Every line before it is a JSON object too.
        for line in stdout.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("JSON lines");
        }
    }
}
