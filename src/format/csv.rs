//! CSV feeds as trees (decoder) and trees as CSV (encoder). (Stub: being written.)

/// Text encodings of CSV files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8.
    #[default]
    Utf8,
    /// Windows-1252.
    Windows1252,
    /// ISO-8859-1.
    Latin1,
}
impl Encoding {
    /// By name.
    pub fn from_name(_n: &str) -> Option<Encoding> {
        None
    }
}
/// Options.
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// d
    pub delimiter: u8,
    /// q
    pub quote: u8,
    /// h
    pub header: bool,
    /// e
    pub encoding: Encoding,
    /// s
    pub skip_rows: usize,
    /// t
    pub trim: bool,
    /// c
    pub crlf: bool,
}
impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            quote: b'"',
            header: true,
            encoding: Encoding::Utf8,
            skip_rows: 0,
            trim: true,
            crlf: false,
        }
    }
}
/// Normalizes.
pub fn normalize_header(name: &str) -> String {
    name.trim().to_lowercase()
}
/// Errors.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// Sink.
    #[error("{0}")]
    Sink(#[source] super::SinkError),
    /// Other.
    #[error("{0}")]
    Other(String),
}
/// Decodes.
pub fn decode<R: std::io::Read>(
    _input: R,
    _file_name: &str,
    _options: &CsvOptions,
    _tree: &mut super::Tree,
    _sink: &mut dyn super::DocumentSink,
) -> Result<(), CsvError> {
    Err(CsvError::Other("stub".into()))
}
/// Encodes.
pub fn encode<W: std::io::Write>(
    _tree: &super::Tree,
    _options: &CsvOptions,
    _out: W,
) -> Result<(), CsvError> {
    Err(CsvError::Other("stub".into()))
}
