//! Entry points that take arbitrary bytes and must never panic: the
//! `translate` fuzz target in `fuzz/` calls [`translate`], and
//! `tests/fuzz_replay.rs` replays the corpus and every crash input through
//! it.
//!
//! Besides not panicking, a translation that succeeds must write valid
//! JSON, the same documents in both output modes, and documents that read
//! back as the canonical model.

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
            let Ok((_, out)) = run(data, &request, &library, defs, Vec::new()) else {
                continue;
            };
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
    }
}
