//! dropgate's words against poppler's (`pdftotext -bbox-layout`) on every
//! PDF under `samples/pdf/`: the same words on each page, boxes within
//! 1 pt.
//!
//! The rules of the comparison:
//! - both sides' text is NFKC-normalized (poppler keeps ligature
//!   characters such as U+FB01, dropgate splits them into letters);
//! - control characters are removed from poppler's words (poppler gives a
//!   glyph its font does not map to text as its raw code), and a word left
//!   empty is dropped; dropgate gives such a glyph no text;
//! - words are compared as a multiset per page: each of poppler's words
//!   must have its own dropgate word with the same text and every edge
//!   within 1 pt, and dropgate may have no word left over.
//!
//! Files the comparison cannot apply to are recognized by what dropgate
//! must say of them, by name: `*user-password*` must be refused for its
//! password, `*decompression-bomb*` as a bomb, `*truncated*` as damaged,
//! `*scanned*` must read with no page having a text layer (and poppler
//! finding no word). Any other file that dropgate cannot read fails the
//! test.

#[path = "support/skip.rs"]
mod skip;

use std::path::{Path, PathBuf};
use std::process::Command;

use dropgate::format::pdf::{Limits, PdfError, read};
use unicode_normalization::UnicodeNormalization;

#[derive(Clone, Debug, PartialEq)]
struct Box4 {
    page: u32,
    text: String,
    edges: [f64; 4],
}

fn pdfs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            pdfs(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
        {
            out.push(path);
        }
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn attr(line: &str, name: &str) -> Option<f64> {
    let at = line.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = &line[at..];
    rest[..rest.find('"')?].parse().ok()
}

fn normalized(text: &str) -> String {
    text.nfkc().filter(|c| !c.is_control()).collect()
}

/// Poppler's words, or `None` when pdftotext is not installed.
fn poppler(path: &Path) -> Option<Vec<Box4>> {
    let output = match Command::new("pdftotext")
        .arg("-bbox-layout")
        .arg(path)
        .arg("-")
        .output()
    {
        Ok(o) => o,
        Err(e) => return skip::unavailable("pdftotext (poppler-utils)", &e.to_string()),
    };
    let xhtml = String::from_utf8_lossy(&output.stdout);
    let mut out = Vec::new();
    let mut page = 0;
    for line in xhtml.lines() {
        if line.contains("<page ") {
            page += 1;
        }
        let Some(start) = line.find("<word ") else {
            continue;
        };
        let line = &line[start..];
        let (Some(open_end), Some(close)) = (line.find('>'), line.find("</word>")) else {
            continue;
        };
        let text = normalized(&unescape(&line[open_end + 1..close]));
        if text.is_empty() {
            continue;
        }
        let edges = ["xMin", "yMin", "xMax", "yMax"].map(|n| attr(line, n).unwrap_or(f64::NAN));
        out.push(Box4 { page, text, edges });
    }
    Some(out)
}

fn ours(path: &Path) -> Result<Vec<Box4>, PdfError> {
    let bytes = std::fs::read(path).expect("readable sample");
    let pages = read(&bytes, &Limits::default())?;
    Ok(pages
        .iter()
        .flat_map(|p| {
            p.page.words().map(|w| Box4 {
                page: p.page.number,
                text: normalized(&w.text),
                edges: [w.rect.x0, w.rect.y0, w.rect.x1, w.rect.y1],
            })
        })
        .collect())
}

/// What is wrong between the two lists, if anything.
fn differences(theirs: &[Box4], mine: &[Box4]) -> Vec<String> {
    let mut left: Vec<Option<&Box4>> = mine.iter().map(Some).collect();
    let mut problems = Vec::new();
    for w in theirs {
        let found = left.iter_mut().find(|m| {
            m.is_some_and(|m| {
                m.page == w.page
                    && m.text == w.text
                    && m.edges
                        .iter()
                        .zip(&w.edges)
                        .all(|(a, b)| (a - b).abs() <= 1.0)
            })
        });
        match found {
            Some(slot) => *slot = None,
            None => {
                let near = mine.iter().find(|m| m.page == w.page && m.text == w.text);
                problems.push(format!("poppler's {w:?} not found (same text: {near:?})"));
            }
        }
    }
    problems.extend(
        left.into_iter()
            .flatten()
            .map(|m| format!("{m:?} is not in poppler's words")),
    );
    problems
}

#[test]
fn words_match_poppler_on_every_sample() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/pdf");
    let mut files = Vec::new();
    pdfs(&root, &mut files);
    files.sort();
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("reader/")),
        "samples/pdf/reader is missing"
    );
    let mut failures = Vec::new();
    let mut compared = 0;
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let result = ours(path);
        let expected_error = |e: &PdfError| match e {
            PdfError::PasswordRequired => name.contains("user-password"),
            PdfError::DecompressionBomb { .. } => name.contains("decompression-bomb"),
            PdfError::MissingContent { .. } | PdfError::Unreadable(_) => name.contains("truncated"),
            _ => false,
        };
        match result {
            Err(e) if expected_error(&e) => continue,
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
            Ok(_) if name.contains("user-password") || name.contains("decompression-bomb") => {
                failures.push(format!(
                    "{}: read, but it should be refused",
                    path.display()
                ));
                continue;
            }
            Ok(_) => {}
        }
        let Some(theirs) = poppler(path) else { return };
        let mine = result.unwrap_or_default();
        if name.contains("scanned") {
            let bytes = std::fs::read(path).expect("readable");
            let pages = read(&bytes, &Limits::default()).expect("read above");
            if pages.iter().any(|p| p.layer.has_text()) || !theirs.is_empty() {
                failures.push(format!(
                    "{}: a scan, but a page has a text layer",
                    path.display()
                ));
            }
            continue;
        }
        compared += 1;
        let problems = differences(&theirs, &mine);
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {} of {} words differ:\n  {}",
                path.display(),
                problems.len(),
                theirs.len(),
                problems
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    assert!(compared >= 5, "only {compared} files compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_comparison_sees_a_moved_word() {
    let w = Box4 {
        page: 1,
        text: "Total".into(),
        edges: [10.0, 10.0, 40.0, 20.0],
    };
    let mut moved = w.clone();
    moved.edges[0] += 1.5;
    assert!(differences(std::slice::from_ref(&w), std::slice::from_ref(&w)).is_empty());
    assert_eq!(differences(std::slice::from_ref(&w), &[moved]).len(), 2);
    assert_eq!(differences(&[], std::slice::from_ref(&w)).len(), 1);
}
