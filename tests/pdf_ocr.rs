//! OCR of a scanned page (src/ocr.rs, src/format/pdf/ocr.rs) with the
//! real programs, poppler's `pdftoppm` and `tesseract`, on the scanned
//! sample invoice; and each way it can fail, with stand-in programs that
//! hang, fail or write nonsense. Without tesseract or pdftoppm the tests that need them
//! are skipped, or fail under CI (tests/support/skip.rs).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use dropgate::format::pdf::{Page, Rect, TextSource};
use dropgate::ocr::{OcrConfig, OcrError, ocr_page};
use serde_json::Value;
use support::proc::program;
use support::skip::unavailable;

const SCANNED: &str = "samples/pdf/copper-creek-pet/CCP-004417-scanned.pdf";

/// How far (points) a word's box may be from where the generator drew it:
/// the ink of a rendered, turned, blurred scan against font metrics.
const TOLERANCE: f64 = 4.0;

fn sample(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The two programs, or `None` when one is missing (a failure under CI).
fn installed() -> Option<(PathBuf, PathBuf)> {
    let pdftoppm = match program("DROPGATE_TEST_PDFTOPPM", "/usr/bin/pdftoppm", "pdftoppm") {
        Ok(p) => p,
        Err(why) => return unavailable("pdftoppm (poppler-utils)", &why),
    };
    let tesseract = match program("DROPGATE_TEST_TESSERACT", "/usr/bin/tesseract", "tesseract") {
        Ok(p) => p,
        Err(why) => return unavailable("tesseract (tesseract-ocr, tesseract-ocr-eng)", &why),
    };
    Some((pdftoppm, tesseract))
}

fn config(pdftoppm: &Path, tesseract: &Path) -> OcrConfig {
    OcrConfig {
        pdftoppm: pdftoppm.to_path_buf(),
        tesseract: tesseract.to_path_buf(),
        ..OcrConfig::default()
    }
}

/// A shell script standing in for a program.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn rect_of(value: &Value) -> Rect {
    let n = |i: usize| value[i].as_f64().expect("a number");
    Rect {
        x0: n(0),
        y0: n(1),
        x1: n(2),
        y1: n(3),
    }
}

/// The word of `page` that reads `text` (ignoring punctuation OCR may
/// glue to it) and lies where `want` says, within TOLERANCE.
fn find_word(page: &Page, text: &str, want: Rect) -> Result<(), String> {
    let same = |w: &str| w == text || w.trim_matches(|c: char| ":;,#'".contains(c)) == text;
    let near = |r: Rect| {
        (r.x0 - want.x0).abs() <= TOLERANCE
            && (r.y0 - want.y0).abs() <= TOLERANCE
            && (r.x1 - want.x1).abs() <= TOLERANCE
            && (r.y1 - want.y1).abs() <= TOLERANCE
    };
    let found: Vec<_> = page.words().filter(|w| same(&w.text)).collect();
    if found.iter().any(|w| near(w.rect)) {
        return Ok(());
    }
    Err(format!(
        "{text:?} near {want:?}: found {:?}",
        found.iter().map(|w| w.rect).collect::<Vec<_>>()
    ))
}

#[test]
fn the_scanned_sample_is_read_with_its_words_where_they_were_drawn() {
    let Some((pdftoppm, tesseract)) = installed() else {
        return;
    };
    let file = sample(SCANNED);
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(file.with_extension("truth.json")).expect("truth file"),
    )
    .expect("truth JSON");
    let invoice = &truth["invoices"][0];
    let positions = invoice["positions"].as_object().expect("positions");

    // What the test looks for is what matters on an invoice.
    let mut wanted = vec![
        invoice["invoice_number"]
            .as_str()
            .expect("number")
            .to_string(),
        invoice["po_number"].as_str().expect("po").to_string(),
    ];
    for line in invoice["lines"].as_array().expect("lines") {
        wanted.push(line["sku"].as_str().expect("sku").to_string());
    }
    let total = invoice["total"].as_str().expect("total");
    let total_word = positions
        .keys()
        .find(|k| k.ends_with(total))
        .expect("the total among the positions")
        .clone();
    wanted.push(total_word);
    assert_eq!(wanted.len(), 6);

    let page = ocr_page(&config(&pdftoppm, &tesseract), &file, 1).expect("OCR");
    assert_eq!(page.number, 1);
    assert_eq!(page.source, TextSource::Ocr);
    // US letter, to a pixel at 300 dpi.
    assert!((page.width - 612.0).abs() < 0.5, "width {}", page.width);
    assert!((page.height - 792.0).abs() < 0.5, "height {}", page.height);
    assert!(
        page.words()
            .all(|w| w.confidence.is_some_and(|c| (0.0..=100.0).contains(&c)))
    );

    let misses: Vec<String> = wanted
        .iter()
        .filter_map(|text| find_word(&page, text, rect_of(&positions[text.as_str()])).err())
        .collect();
    assert!(misses.is_empty(), "not found where drawn: {misses:#?}");
}

#[test]
fn a_missing_program_is_named() {
    let missing = PathBuf::from("/nonexistent/dropgate-test/pdftoppm");
    let cfg = config(&missing, Path::new("/nonexistent/dropgate-test/tesseract"));
    let err = ocr_page(&cfg, &sample(SCANNED), 1).expect_err("no pdftoppm");
    assert!(
        matches!(&err, OcrError::NotInstalled { program } if *program == missing),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message
            .starts_with("OCR is not installed: /nonexistent/dropgate-test/pdftoppm was not found"),
        "{message}"
    );
}

#[test]
fn a_missing_tesseract_is_named() {
    let Some((pdftoppm, _)) = installed() else {
        return;
    };
    let missing = PathBuf::from("dropgate-test-no-such-tesseract");
    let err =
        ocr_page(&config(&pdftoppm, &missing), &sample(SCANNED), 1).expect_err("no tesseract");
    assert!(
        matches!(&err, OcrError::NotInstalled { program } if *program == missing),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("dropgate-test-no-such-tesseract was not found")
    );
}

#[test]
fn a_program_that_hangs_is_killed_at_the_time_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("pid");
    // `exec` makes the sleep the child itself, whose PID is written first.
    let hang = script(
        dir.path(),
        "pdftoppm",
        &format!("echo $$ > '{}'\nexec sleep 600", pid_file.display()),
    );
    let cfg = OcrConfig {
        timeout_secs: 1,
        ..config(&hang, Path::new("tesseract"))
    };
    let err = ocr_page(&cfg, &sample(SCANNED), 3).expect_err("times out");
    match &err {
        OcrError::TimedOut {
            program,
            page,
            timeout,
            ..
        } => {
            assert_eq!((program, *page, timeout.as_secs()), (&hang, 3, 1));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("timed out after 1 s on page 3 of"));
    let pid = std::fs::read_to_string(&pid_file).expect("pid");
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "the child {pid} is still there"
    );
}

#[test]
fn a_program_that_fails_gives_its_status_and_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fail = script(
        dir.path(),
        "pdftoppm",
        "echo 'Syntax Error: no page 9' >&2\nexit 3",
    );
    let err =
        ocr_page(&config(&fail, Path::new("tesseract")), &sample(SCANNED), 9).expect_err("fails");
    match &err {
        OcrError::Failed {
            page,
            status,
            stderr,
            ..
        } => {
            assert_eq!(
                (*page, status.code(), stderr.as_str()),
                (9, Some(3), "Syntax Error: no page 9")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_pdf_that_needs_a_password_fails_in_pdftoppm() {
    let Some((pdftoppm, tesseract)) = installed() else {
        return;
    };
    let file = sample("samples/pdf/bad/encrypted-user-password.pdf");
    let err = ocr_page(&config(&pdftoppm, &tesseract), &file, 1).expect_err("password");
    match &err {
        OcrError::Failed {
            program, stderr, ..
        } => {
            assert_eq!(program, &pdftoppm);
            assert!(stderr.to_lowercase().contains("password"), "{stderr}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn nonsense_from_tesseract_is_an_unreadable_tsv() {
    let Some((pdftoppm, _)) = installed() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // Called as `tesseract IMAGE BASE ...`: writes BASE.tsv.
    let liar = script(
        dir.path(),
        "tesseract",
        "echo 'this is not TSV' > \"$2.tsv\"",
    );
    let err = ocr_page(&config(&pdftoppm, &liar), &sample(SCANNED), 1).expect_err("bad TSV");
    match &err {
        OcrError::Tsv { source, page, .. } => {
            assert_eq!(
                (*page, source.line, source.reason),
                (1, 1, "not tesseract's TSV header")
            );
        }
        other => panic!("{other:?}"),
    }
}
