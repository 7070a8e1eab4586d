//! Entry points that take arbitrary bytes and must never panic: the
//! `translate` fuzz target in `fuzz/` calls [`translate`], and
//! `tests/fuzz_replay.rs` replays the corpus and every crash input through
//! it.
//!
//! Besides not panicking, a translation that succeeds must write valid
//! JSON, the same documents in both output modes, and documents that read
//! back as the canonical model; and CSV records mapped from their fields
//! (the fast path, [`super::rows`]) must give exactly what the tree gives:
//! the same bytes, the same problems and warnings, the same error.

use std::sync::OnceLock;

use super::library::Library;
use super::translate::{Outcome, Request, TranslateError, translate as run};
use crate::model::Document;
use crate::x12::defs::Definitions;

/// The mappings the bytes are tried with: the built-in X12 mappings (no
/// mapping named), and the example CSV, XML, fixed-width, JSON and Excel
/// feeds.
const MAPPINGS: [Option<&str>; 7] = [
    None,
    Some("partners/nordlys/inventory"),
    Some("partners/bigbox/inventory"),
    Some("partners/parcelco/order-status"),
    Some("partners/ironvale/inventory"),
    Some("partners/brightwave/inventory"),
    Some("partners/tallyhome/inventory"),
];

/// The built-in mappings, made once per process: the library keeps each
/// mapping it has read and merged, so inputs after the first pay only for
/// their translation. Nothing in it depends on the input.
fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(Library::embedded)
}

/// What one translation gave: the output and its outcome, or the error.
type Translated = Result<(Outcome, Vec<u8>), TranslateError>;

/// Translates `data` with `mapping` (the built-in X12 mappings when none),
/// as NDJSON (`lines`) or a JSON array, through the tree only or not.
fn translate_with(
    data: &[u8],
    mapping: Option<&str>,
    lines: bool,
    tree_only: bool,
    library: &Library,
    defs: &Definitions,
) -> Translated {
    let request = Request {
        file_name: "fuzz-20240314.dat".into(),
        mapping: mapping.map(String::from),
        lines,
        tree_only,
        ..Request::default()
    };
    run(data, &request, library, defs, Vec::new())
}

/// Translates `data` with each mapping, as a JSON array and as NDJSON, and
/// for the feeds' mappings through the tree only as well. The NDJSON
/// translation serves both comparisons (array against NDJSON, fields
/// against the tree).
pub fn translate(data: &[u8]) {
    let library = library();
    let defs = Definitions::embedded();
    for mapping in MAPPINGS {
        let array = translate_with(data, mapping, false, false, library, defs);
        let lines = translate_with(data, mapping, true, false, library, defs);
        if let (Some(array), Some(ndjson)) = (documents(&array, false), documents(&lines, true)) {
            assert_eq!(array, ndjson, "array and NDJSON output differ");
        }
        if let Some(m) = mapping {
            let tree = translate_with(data, mapping, true, true, library, defs);
            rows_agree_with_tree(m, &lines, &tree);
        }
    }
}

/// The documents of a translation that succeeded, each checked: the output
/// is JSON, each document reads back as the model, the untrusted ranges
/// are within what was written, and NDJSON has a line per document that
/// the gateway's index reads as serde_json does.
fn documents(translated: &Translated, lines: bool) -> Option<Vec<serde_json::Value>> {
    let (outcome, out) = translated.as_ref().ok()?;
    for r in &outcome.untrusted {
        assert!(
            r.start < r.end && r.end <= outcome.documents,
            "untrusted documents {r:?} of {}",
            outcome.documents
        );
    }
    let docs: Vec<serde_json::Value> = if lines {
        heads_agree(out);
        // The translator's numbering of its documents (which the
        // untrusted ranges use) is the numbering of the lines.
        let written = out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
        assert_eq!(written as u64, outcome.documents, "a line per document");
        out.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("each line is JSON"))
            .collect()
    } else {
        serde_json::from_slice(out).expect("the output is a JSON array")
    };
    for d in &docs {
        if let Err(e) = serde_json::from_value::<Document>(d.clone()) {
            panic!("a document does not read back as the model: {e}\n{d}");
        }
    }
    Some(docs)
}

/// Translates `data` with and without the fast path for flat records and
/// panics when anything differs.
/// Returns how many records the fast path took.
pub fn same_from_rows_and_tree(
    data: &[u8],
    mapping: &str,
    library: &Library,
    defs: &Definitions,
) -> u64 {
    let rows = translate_with(data, Some(mapping), true, false, library, defs);
    let tree = translate_with(data, Some(mapping), true, true, library, defs);
    rows_agree_with_tree(mapping, &rows, &tree)
}

/// Panics unless an NDJSON translation that may map records from their
/// fields gave exactly what the tree gave: the same bytes, documents,
/// problems and warnings, or the same error. Returns how many records the
/// fast path took.
fn rows_agree_with_tree(mapping: &str, rows: &Translated, tree: &Translated) -> u64 {
    let seen = |t: &Translated| match t {
        Ok((o, out)) => Ok((
            String::from_utf8_lossy(out).into_owned(),
            o.documents,
            o.problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            o.warnings.clone(),
        )),
        Err(e) => Err(e.to_string()),
    };
    if let Ok((o, _)) = tree {
        assert_eq!(
            o.rows_from_fields, 0,
            "{mapping}: tree_only still took records from their fields"
        );
    }
    let (from_rows, from_tree) = (seen(rows), seen(tree));
    assert!(
        from_rows == from_tree,
        "{mapping}: records mapped from their fields differ from the tree\nrows: {from_rows:?}\ntree: {from_tree:?}"
    );
    rows.as_ref().map_or(0, |(o, _)| o.rows_from_fields)
}

/// The gateway's index of a JSON-lines output (each document's place, type
/// and number, found by [`crate::model::head::LineHeads`] without parsing)
/// must agree with serde_json on every line, whatever the pieces it is fed.
fn heads_agree(out: &[u8]) {
    use crate::model::head::{DocumentHead, LineHeads};
    let lines: Vec<&[u8]> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    for piece in [7, 4096] {
        let mut heads = LineHeads::new();
        let mut found = Vec::new();
        for chunk in out.chunks(piece) {
            heads.feed(chunk, &mut found);
        }
        heads.finish(&mut found);
        assert_eq!(found.len(), lines.len(), "one document per line");
        for (d, line) in found.iter().zip(&lines) {
            let start = usize::try_from(d.offset).expect("an offset");
            let end = start + usize::try_from(d.length).expect("a length");
            assert_eq!(&out[start..end], *line, "the extent is the line");
            let value: serde_json::Value = serde_json::from_slice(line).expect("JSON");
            assert_eq!(d.head, DocumentHead::of_value(&value));
        }
    }
}
