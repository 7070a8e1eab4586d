//! Bad and unusual PDFs through `format::pdf::read` and `dropgate pdf`:
//! each gives a clear error or a result, never a panic or a hang.

use std::path::PathBuf;
use std::process::Command;

use dropgate::format::pdf::{Limits, PdfError, read};
use lopdf::{Dictionary, Document, Object, Stream, dictionary};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pdf")
        .join(name);
    std::fs::read(&path).expect("fixture")
}

fn text(bytes: &[u8]) -> Result<String, PdfError> {
    let pages = read(bytes, &Limits::default())?;
    Ok(pages
        .iter()
        .flat_map(|p| p.page.words().map(|w| w.text.clone()))
        .collect::<Vec<_>>()
        .join(" "))
}

/// A PDF of `pages` pages, each showing `content`, `more` adding objects.
fn pdf(pages: usize, content: &[u8], more: impl FnOnce(&mut Document, &mut Dictionary)) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(
        dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica"},
    );
    let mut resources = dictionary! {"Font" => dictionary! {"F1" => font}};
    more(&mut doc, &mut resources);
    let resources = doc.add_object(resources);
    let mut kids = Vec::new();
    for _ in 0..pages {
        let c = doc.add_object(Stream::new(Dictionary::new(), content.to_vec()));
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Contents" => c, "Resources" => resources,
        })));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {"Type" => "Pages", "Kids" => kids, "Count" => count}),
    );
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("saved");
    out
}

const LINE: &[u8] = b"BT /F1 12 Tf 72 720 Td (Invoice INV-7 Total 42.00) Tj ET";

#[test]
fn empty_user_password_opens_rc4_and_aes() {
    for name in [
        "empty-rc4-40.pdf",
        "empty-rc4-128.pdf",
        "empty-aes-128.pdf",
        "empty-aes-256.pdf",
    ] {
        assert_eq!(
            text(&fixture(name)).expect(name),
            "Invoice INV-7 Total 42.00",
            "{name}"
        );
    }
}

#[test]
fn a_user_password_we_do_not_have_is_a_clear_error() {
    for name in ["user-password-aes-256.pdf", "user-password-rc4-128.pdf"] {
        match text(&fixture(name)) {
            Err(e @ PdfError::PasswordRequired) => {
                assert_eq!(
                    e.to_string(),
                    "encrypted with a user password that we do not have"
                )
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn garbage_and_truncations_never_panic() {
    assert!(matches!(text(b"hello, not a pdf"), Err(PdfError::NotPdf)));
    assert!(matches!(text(b""), Err(PdfError::NotPdf)));
    let plain = fixture("plain.pdf");
    assert_eq!(text(&plain).expect("plain"), "Invoice INV-7 Total 42.00");
    // Every prefix: an error or a result (lopdf may recover objects).
    for cut in 0..plain.len() {
        let _ = text(&plain[..cut]);
    }
    // Cut inside the content stream: the page's content is missing.
    let at = plain
        .windows(6)
        .position(|w| w == b"stream")
        .expect("a stream")
        + 20;
    match text(&plain[..at]) {
        Err(e @ PdfError::MissingContent { .. }) => {
            assert!(e.to_string().starts_with("page 1, object 5 0 R:"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_broken_xref_is_rebuilt_by_scanning_for_objects() {
    let mut bytes = fixture("plain.pdf");
    // Shift every object by 7 bytes: each xref offset is now wrong.
    let at = bytes
        .windows(8)
        .position(|w| w == b"1 0 obj\n")
        .expect("object 1");
    bytes.splice(at..at, b"%%junk\n".iter().copied());
    assert_eq!(
        text(&bytes).expect("recovered"),
        "Invoice INV-7 Total 42.00"
    );
    // No xref at all.
    let cut = bytes.windows(4).position(|w| w == b"xref").expect("xref");
    bytes.truncate(cut);
    assert_eq!(
        text(&bytes).expect("recovered"),
        "Invoice INV-7 Total 42.00"
    );
}

#[test]
fn a_decompression_bomb_is_refused_not_inflated() {
    // 32 MiB of zeros compress to about 32 KiB; the limit here is 1 MiB.
    let mut form = Stream::new(
        dictionary! {"Type" => "XObject", "Subtype" => "Form"},
        vec![0u8; 32 << 20],
    );
    form.compress().expect("compressed");
    assert!(form.content.len() < 64 << 10);
    let bytes = pdf(1, b"q /Fm0 Do Q", |doc, res| {
        let form = doc.add_object(form);
        res.set("XObject", dictionary! {"Fm0" => form});
    });
    let limits = Limits {
        max_stream_bytes: 1 << 20,
        ..Limits::default()
    };
    match read(&bytes, &limits) {
        Err(e @ PdfError::DecompressionBomb { .. }) => {
            let s = e.to_string();
            assert!(s.starts_with("page 1, object "), "{s}");
            assert!(
                s.contains("inflates past the limit of 1048576 bytes; refused"),
                "{s}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn hundreds_of_pages_read_and_too_many_are_refused() {
    let bytes = pdf(300, LINE, |_, _| {});
    let pages = read(&bytes, &Limits::default()).expect("300 pages");
    assert_eq!(pages.len(), 300);
    assert!(pages.iter().all(|p| p.layer.has_text()));
    let limits = Limits {
        max_pages: 100,
        ..Limits::default()
    };
    assert!(matches!(
        read(&bytes, &limits),
        Err(PdfError::TooManyPages {
            pages: 300,
            limit: 100
        })
    ));
}

#[test]
fn a_page_that_never_ends_stops_at_the_work_limit() {
    // A million tiny operators on one page.
    let content = b"0 0 m ".repeat(1_000_000);
    let bytes = pdf(1, &content, |_, _| {});
    let limits = Limits {
        max_operators_per_page: 100_000,
        ..Limits::default()
    };
    assert!(matches!(
        read(&bytes, &limits),
        Err(PdfError::TooMuchWork { .. })
    ));
    // Many pages each within the page limit, over the document's.
    let bytes = pdf(50, &b"0 0 m ".repeat(10_000), |_, _| {});
    let limits = Limits {
        max_operators_per_document: 200_000,
        ..Limits::default()
    };
    match read(&bytes, &limits) {
        Err(e @ PdfError::DocumentTooLong { .. }) => assert_eq!(
            e.to_string(),
            "page 21: over the limit of 200000 operators for the whole document"
        ),
        other => panic!("{other:?}"),
    }
}

fn dropgate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dropgate"))
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn cli_prints_text_and_words_and_exits_2_naming_an_unreadable_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.pdf");
    std::fs::write(&good, fixture("plain.pdf")).expect("written");
    let good = good.to_string_lossy().to_string();
    let out = dropgate(&["pdf", "text", &good]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Invoice INV-7 Total 42.00\n\u{c}"
    );
    let out = dropgate(&["pdf", "text", "--layout", &good]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Invoice INV-7 Total 42.00"));
    let out = dropgate(&["pdf", "words", &good]);
    let words = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(words.starts_with("1 72.00 "), "{words}");
    assert_eq!(words.lines().count(), 4);
    let out = dropgate(&["pdf", "words", "--json", "--page", "1", &good]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json[0]["words"][0]["text"], "Invoice");
    assert_eq!(json[0]["has_text_layer"], true);

    let out = dropgate(&["pdf", "words", "--page", "2", &good]);
    assert_eq!(out.status.code(), Some(2));
    let bad = dir.path().join("locked.pdf");
    std::fs::write(&bad, fixture("user-password-aes-256.pdf")).expect("written");
    let out = dropgate(&["pdf", "text", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("locked.pdf: encrypted with a user password"),
        "{err}"
    );
    let out = dropgate(&["pdf", "text", "/nonexistent/x.pdf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/x.pdf"));
}
