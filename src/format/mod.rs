//! Format decoders and encoders: X12, CSV, XML, JSON, Excel workbooks and
//! fixed-width files in, as trees; trees out, as X12, CSV and XML.
//!
//! Every decoder turns its input into [`Tree`]s, one per document (an X12
//! transaction set, a CSV feed, an XML file), and hands each to a
//! [`DocumentSink`] with the [`Origin`] of the document. A sink may ask for
//! one repeated group to be streamed (the LIN loops of an 846, the records
//! of a CSV feed, the `<Item>`s of an XML feed): the decoder then hands over
//! each instance as soon as it is complete and forgets it, so that memory
//! is bounded by one instance, not by the input.
//!
//! A PDF is not a tree: it is read into positioned text ([`pdf::Page`]),
//! in which invoices are found by templates and by extraction.
//!
//! This layer knows formats, not the canonical model: it imports only
//! [`crate::x12`].

pub mod csv;
pub mod fixed;
pub mod json;
pub mod pdf;
pub mod row;
pub mod sniff;
pub mod tree;
pub mod x12;
pub mod xlsx;
pub mod xml;

pub use row::{Row, Span};
pub use tree::{Flavor, Kind, Name, Names, NodeId, Place, Tree};

/// Where a document came from: the envelope of an X12 set, the file of a
/// feed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The input format.
    pub flavor: Flavor,
    /// The name of the file the document came from.
    pub file_name: Option<String>,
    /// ISA13.
    pub interchange_control_number: Option<String>,
    /// GS06.
    pub group_control_number: Option<String>,
    /// ST02.
    pub set_control_number: Option<String>,
    /// ISA05 and ISA06.
    pub sender: Option<(String, String)>,
    /// ISA07 and ISA08.
    pub receiver: Option<(String, String)>,
    /// GS02.
    pub application_sender: Option<String>,
    /// GS03.
    pub application_receiver: Option<String>,
    /// ST01.
    pub set_id: Option<String>,
    /// GS08.
    pub version: Option<String>,
    /// PDF: the template that read the document.
    pub template: Option<String>,
    /// PDF: some of its text came from OCR.
    pub ocr: bool,
}

/// What became of a document once its input ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The document is whole and valid.
    Accepted,
    /// The document is whole but invalid: each line says what and where.
    Rejected(Vec<String>),
}

/// An error of the sink, passed through a decoder untouched.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Receives documents from a decoder.
pub trait DocumentSink {
    /// A document starts. The tree holds what comes before its body (the
    /// ISA and GS of an X12 set). Returns the path of names, from the root,
    /// of the repeated group to stream, if any.
    fn start(&mut self, tree: &mut Tree, origin: &Origin) -> Result<Option<Vec<Name>>, SinkError>;

    /// An instance of the streamed group is complete: `node` is the subtree
    /// appended last. The decoder removes it afterwards.
    fn item(&mut self, tree: &Tree, node: NodeId) -> Result<(), SinkError>;

    /// A record of a flat feed, an instance of the streamed group (a CSV
    /// record at the top level), offered before any node is made for it;
    /// `tree` holds the columns. Returns true when the sink took it from
    /// its fields; false (the default) has the decoder append it to the
    /// tree and hand it over with [`DocumentSink::item`].
    fn row(&mut self, tree: &Tree, row: &Row<'_>) -> Result<bool, SinkError> {
        let _ = (tree, row);
        Ok(false)
    }

    /// The document ended.
    fn end(&mut self, tree: &Tree, origin: &Origin, verdict: Verdict) -> Result<(), SinkError>;
}

/// Starts the one document of a file-shaped input (a CSV feed, an XML
/// file): clears the tree, tells the sink, and returns the document's
/// origin and the streamer the sink asked for.
pub fn start_file(
    tree: &mut Tree,
    flavor: Flavor,
    file_name: &str,
    sink: &mut dyn DocumentSink,
) -> Result<(Origin, Streamer), SinkError> {
    tree.clear();
    tree.set_source_name(file_name);
    let origin = Origin {
        flavor,
        file_name: Some(file_name.to_string()),
        ..Origin::default()
    };
    let streamer = Streamer::new(sink.start(tree, &origin)?);
    Ok((origin, streamer))
}

/// Tracks the streamed group while a decoder builds a tree: when a node at
/// the streaming path closes, the sink gets it and the tree forgets it.
#[derive(Debug, Default)]
pub struct Streamer {
    path: Option<Vec<Name>>,
}

impl Streamer {
    /// Streams the group at `path` (from the sink's `start`).
    pub fn new(path: Option<Vec<Name>>) -> Streamer {
        Streamer { path }
    }

    /// The depth (root children are 1) of streamed nodes.
    pub fn depth(&self) -> Option<usize> {
        self.path.as_ref().map(Vec::len)
    }

    /// True when the streamed group is `name` at the top level (the
    /// records of a flat feed).
    pub fn streams_top(&self, name: Name) -> bool {
        self.path.as_deref() == Some(&[name][..])
    }

    /// True when `node` is an instance of the streamed group.
    pub fn streams(&self, tree: &Tree, node: NodeId) -> bool {
        let Some(path) = &self.path else {
            return false;
        };
        let mut n = node;
        for name in path.iter().rev() {
            if n == 0 || n == tree::NONE || tree.name(n) != *name {
                return false;
            }
            n = tree.parent(n);
        }
        n == tree.root()
    }

    /// `node` closed: hands it to the sink and removes it when streamed.
    pub fn closed(
        &self,
        tree: &mut Tree,
        node: NodeId,
        sink: &mut dyn DocumentSink,
    ) -> Result<(), SinkError> {
        if self.streams(tree, node) {
            sink.item(tree, node)?;
            tree.truncate(node);
        }
        Ok(())
    }
}
