//! `harness`: the entry point of the PDF reader's fuzz target and of its
//! replay in the tests: reads arbitrary bytes as a PDF under small limits
//! (so that each input runs fast) and prints the text both ways.

use super::{Limits, read, text};

/// Reads `data` as a PDF; any error is fine, a panic or a hang is not.
pub fn read_pdf(data: &[u8]) {
    let limits = Limits {
        max_stream_bytes: 4 << 20,
        max_operators_per_page: 200_000,
        max_pages: 200,
        ..Limits::default()
    };
    if let Ok(pages) = read(data, &limits) {
        let pages: Vec<_> = pages.into_iter().map(|p| p.page).collect();
        let _ = text::plain(&pages);
        let _ = text::laid_out(&pages);
    }
}
