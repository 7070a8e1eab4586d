//! XML documents as trees (decoder) and trees as XML (encoder). (Stub: being written.)

/// Options.
#[derive(Clone, Debug)]
pub struct XmlOptions {
    /// Trim.
    pub trim_text: bool,
}
impl Default for XmlOptions {
    fn default() -> Self {
        XmlOptions { trim_text: true }
    }
}
/// Errors.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// Sink.
    #[error("{0}")]
    Sink(#[source] super::SinkError),
    /// Other.
    #[error("{0}")]
    Other(String),
}
/// Decodes.
pub fn decode<R: std::io::BufRead>(
    _input: R,
    _file_name: &str,
    _options: &XmlOptions,
    _tree: &mut super::Tree,
    _sink: &mut dyn super::DocumentSink,
) -> Result<(), XmlError> {
    Err(XmlError::Other("stub".into()))
}
/// Encode options.
#[derive(Clone, Debug, Default)]
pub struct XmlEncodeOptions {
    /// Indent.
    pub indent: Option<usize>,
    /// Declaration.
    pub declaration: bool,
    /// Namespace.
    pub namespace: Option<String>,
}
/// Encodes.
pub fn encode<W: std::io::Write>(
    _tree: &super::Tree,
    _options: &XmlEncodeOptions,
    _out: W,
) -> Result<(), XmlError> {
    Err(XmlError::Other("stub".into()))
}
