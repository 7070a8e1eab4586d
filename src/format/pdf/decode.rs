//! `decode`: a PDF's pages, read by a vendor's template, handed to a
//! [`DocumentSink`] as one document per invoice, like a CSV feed's
//! records: the values first, then each table row (streamed when the sink
//! asks for the `line` group).

use super::page::{Page, TextSource};
use super::template::Template;
use crate::format::tree::{Flavor, Tree};
use crate::format::{DocumentSink, Origin, SinkError, Streamer, Verdict};

/// Hands the invoices `template` finds on `pages` (a file's pages, in
/// order) to `sink`; returns how many.
pub fn decode(
    pages: &[Page],
    template: &Template,
    file_name: &str,
    tree: &mut Tree,
    sink: &mut dyn DocumentSink,
) -> Result<usize, SinkError> {
    let invoices = template.split(pages);
    for invoice in &invoices {
        tree.clear();
        tree.set_source_name(file_name);
        let origin = Origin {
            flavor: Flavor::Pdf,
            file_name: Some(file_name.to_string()),
            template: Some(template.name.clone()),
            ocr: invoice.iter().any(|p| p.source == TextSource::Ocr),
            ..Origin::default()
        };
        let streamer = Streamer::new(sink.start(tree, &origin)?);
        let mut found = template.fill_values(invoice, tree);
        for (n, row) in template.rows(invoice).iter().enumerate() {
            let node = template.append_row(tree, row, n + 1, &mut found);
            if streamer.streams(tree, node) {
                sink.item(tree, node)?;
                tree.truncate(node);
            }
        }
        sink.end(tree, &origin, Verdict::Accepted)?;
    }
    Ok(invoices.len())
}
