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

use super::library::Library;
use super::translate::{Request, translate as run};
use crate::model::Document;
use crate::x12::defs::Definitions;

/// The mappings the bytes are tried with: the built-in X12 mappings (no
/// mapping named), and the example CSV and XML feeds.
const MAPPINGS: [Option<&str>; 4] = [
    None,
    Some("partners/nordlys/inventory"),
    Some("partners/bigbox/inventory"),
    Some("partners/parcelco/order-status"),
];

/// Translates `data` with each mapping, as a JSON array and as NDJSON.
pub fn translate(data: &[u8]) {
    let library = Library::embedded();
    let defs = Definitions::embedded();
    for mapping in MAPPINGS {
        let mut documents: Vec<Vec<serde_json::Value>> = Vec::new();
        for lines in [false, true] {
            let request = Request {
                file_name: "fuzz-20240314.dat".into(),
                mapping: mapping.map(String::from),
                lines,
                ..Request::default()
            };
            let Ok((outcome, out)) = run(data, &request, &library, defs, Vec::new()) else {
                continue;
            };
            for r in &outcome.untrusted {
                assert!(
                    r.start < r.end && r.end <= outcome.documents,
                    "untrusted documents {r:?} of {}",
                    outcome.documents
                );
            }
            if lines {
                heads_agree(&out);
                // The translator's numbering of its documents (which the
                // untrusted ranges use) is the numbering of the lines.
                let written = out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
                assert_eq!(written as u64, outcome.documents, "a line per document");
            }
            let docs: Vec<serde_json::Value> = if lines {
                out.split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(|l| serde_json::from_slice(l).expect("each line is JSON"))
                    .collect()
            } else {
                serde_json::from_slice(&out).expect("the output is a JSON array")
            };
            for d in &docs {
                if let Err(e) = serde_json::from_value::<Document>(d.clone()) {
                    panic!("a document does not read back as the model: {e}\n{d}");
                }
            }
            documents.push(docs);
        }
        if let [array, ndjson] = documents.as_slice() {
            assert_eq!(array, ndjson, "array and NDJSON output differ");
        }
        if let Some(m) = mapping {
            same_from_rows_and_tree(data, m, &library, defs);
        }
    }
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
    let outcome = |tree_only: bool| {
        let request = Request {
            file_name: "fuzz-20240314.dat".into(),
            mapping: Some(mapping.to_string()),
            lines: true,
            tree_only,
            ..Request::default()
        };
        match run(data, &request, library, defs, Vec::new()) {
            Ok((o, out)) => Ok((
                String::from_utf8_lossy(&out).into_owned(),
                o.documents,
                o.problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                o.warnings,
                o.rows_from_fields,
            )),
            Err(e) => Err(e.to_string()),
        }
    };
    let (rows, tree) = (outcome(false), outcome(true));
    let taken = rows.as_ref().map_or(0, |r| r.4);
    if let Ok((_, _, _, _, n)) = &tree {
        assert_eq!(
            *n, 0,
            "{mapping}: tree_only still took records from their fields"
        );
    }
    let (rows, tree) = (
        rows.map(|r| (r.0, r.1, r.2, r.3)),
        tree.map(|r| (r.0, r.1, r.2, r.3)),
    );
    assert!(
        rows == tree,
        "{mapping}: records mapped from their fields differ from the tree\nrows: {rows:?}\ntree: {tree:?}"
    );
    taken
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
