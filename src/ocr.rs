//! `ocr`: the words of a PDF page that has no text layer (a scan, a fax),
//! read by OCR into the same [`Page`] the text layer gives.
//!
//! Two programs do the work, each in a child process of its own, one page
//! at a time, with a time limit (a child that passes it is killed):
//! poppler's `pdftoppm` renders the page (its crop box, turned by its
//! `/Rotate`, as shown) to a grey PGM image in a temporary folder, and
//! `tesseract` reads the image and writes its words as TSV, which
//! `format::pdf::ocr::parse_tsv` reads. A crash or a hang of either stays
//! in its process. Tesseract runs with `OMP_THREAD_LIMIT=1`: on a few
//! cores its OpenMP threads make it several times slower for the same
//! result (`shared/reference/feasibility-2.md`).
//!
//! [`ocr_page`] is blocking: call it from a blocking thread
//! (`tokio::task::spawn_blocking`), never on an async worker. It bounds
//! time, not memory: the image of a page is its area times the dpi squared
//! (US letter at 300 dpi: 8.4 MB), so the caller, which knows the page's
//! box, refuses pages too large for OCR.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::format::pdf::Page;
use crate::format::pdf::ocr::{TsvError, parse_tsv};

/// How OCR runs: the part of the gateway's configuration that a `[ocr]`
/// section holds (every key optional).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OcrConfig {
    /// Whether pages without a text layer are read by OCR at all; when
    /// off, [`ocr_page`] refuses with [`OcrError::Off`].
    pub enabled: bool,
    /// The `tesseract` program: a name looked up on `PATH`, or a path.
    pub tesseract: PathBuf,
    /// Poppler's `pdftoppm` program: a name looked up on `PATH`, or a path.
    pub pdftoppm: PathBuf,
    /// Tesseract's language model(s), as its `-l` takes them (`eng`,
    /// `eng+deu`); each needs its package (`tesseract-ocr-eng`).
    pub language: String,
    /// The resolution the page is rendered at for OCR, in dots per inch.
    pub dpi: u32,
    /// The longest each program may run on one page, in seconds.
    pub timeout_secs: u64,
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig {
            enabled: true,
            tesseract: PathBuf::from("tesseract"),
            pdftoppm: PathBuf::from("pdftoppm"),
            language: "eng".to_string(),
            dpi: 300,
            timeout_secs: 60,
        }
    }
}

/// Why a page could not be read by OCR.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// OCR is turned off in the configuration.
    #[error("OCR is off")]
    Off,
    /// The configuration cannot work (a resolution or time limit of 0).
    #[error("OCR configuration: {0}")]
    Config(&'static str),
    /// A program OCR needs is not installed where the configuration says.
    #[error(
        "OCR is not installed: {program} was not found (install tesseract-ocr, \
         tesseract-ocr-eng and poppler-utils, or configure the program's path)"
    )]
    NotInstalled {
        /// The program as configured.
        program: PathBuf,
    },
    /// A program could not be started for another reason.
    #[error("could not start {program}: {source}")]
    Start {
        /// The program as configured.
        program: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A program ran past the time limit and was killed.
    #[error("{program} timed out after {} s on page {page} of {file} and was killed", timeout.as_secs())]
    TimedOut {
        /// The program as configured.
        program: PathBuf,
        /// The PDF.
        file: PathBuf,
        /// The page, from 1.
        page: u32,
        /// The limit it passed.
        timeout: Duration,
    },
    /// A program failed; `stderr` is what it said (its end, when long).
    #[error("{program} failed on page {page} of {file} ({status}): {stderr}")]
    Failed {
        /// The program as configured.
        program: PathBuf,
        /// The PDF.
        file: PathBuf,
        /// The page, from 1.
        page: u32,
        /// How it ended.
        status: ExitStatus,
        /// What it wrote on stderr.
        stderr: String,
    },
    /// Tesseract's TSV could not be read.
    #[error("unreadable TSV from {program} for page {page} of {file}: {source}")]
    Tsv {
        /// The program as configured.
        program: PathBuf,
        /// The PDF.
        file: PathBuf,
        /// The page, from 1.
        page: u32,
        /// Where and why.
        source: TsvError,
    },
    /// The temporary folder or a file in it could not be made or read.
    #[error("OCR of page {page} of {file}: {what}: {source}")]
    Io {
        /// The PDF.
        file: PathBuf,
        /// The page, from 1.
        page: u32,
        /// What was being done.
        what: &'static str,
        /// Why it failed.
        source: io::Error,
    },
}

/// How often a running child is looked at while waiting for it.
const POLL: Duration = Duration::from_millis(10);

/// The most of a failed program's stderr kept in [`OcrError::Failed`].
const STDERR_KEPT: usize = 2000;

/// Reads page `page` (from 1) of the PDF `file` by OCR. The page's width
/// and height are those of the rendered image, in points (to one pixel
/// at `config.dpi`). Blocking: see the module's documentation.
pub fn ocr_page(config: &OcrConfig, file: &Path, page: u32) -> Result<Page, OcrError> {
    if !config.enabled {
        return Err(OcrError::Off);
    }
    if config.dpi == 0 {
        return Err(OcrError::Config("dpi must be above 0"));
    }
    if config.timeout_secs == 0 {
        return Err(OcrError::Config("timeout_secs must be above 0"));
    }
    let io_error = |what| {
        move |source| OcrError::Io {
            file: file.to_path_buf(),
            page,
            what,
            source,
        }
    };
    let dir = tempfile::Builder::new()
        .prefix("dropgate-ocr-")
        .tempdir()
        .map_err(io_error("making a temporary folder"))?;
    let timeout = Duration::from_secs(config.timeout_secs);
    let runner = Runner {
        file,
        page,
        timeout,
        dir: dir.path(),
    };

    // pdftoppm writes <prefix>.pgm with -singlefile.
    let prefix = dir.path().join("page");
    let mut render = Command::new(&config.pdftoppm);
    render
        .arg("-r")
        .arg(config.dpi.to_string())
        .args(["-gray", "-cropbox", "-singlefile"])
        .arg("-f")
        .arg(page.to_string())
        .arg("-l")
        .arg(page.to_string())
        .arg(file)
        .arg(&prefix);
    runner.run(&config.pdftoppm, render)?;
    let image = prefix.with_extension("pgm");

    // tesseract writes <base>.tsv.
    let base = dir.path().join("words");
    let mut read = Command::new(&config.tesseract);
    read.arg(&image)
        .arg(&base)
        .arg("--dpi")
        .arg(config.dpi.to_string())
        .arg("-l")
        .arg(&config.language)
        .arg("tsv")
        .env("OMP_THREAD_LIMIT", "1");
    runner.run(&config.tesseract, read)?;
    let tsv = std::fs::read_to_string(base.with_extension("tsv"))
        .map_err(io_error("reading tesseract's TSV"))?;
    parse_tsv(&tsv, page, config.dpi).map_err(|source| OcrError::Tsv {
        program: config.tesseract.clone(),
        file: file.to_path_buf(),
        page,
        source,
    })
}

/// Runs the children of one page's OCR.
struct Runner<'a> {
    file: &'a Path,
    page: u32,
    timeout: Duration,
    /// Where their stderr goes.
    dir: &'a Path,
}

impl Runner<'_> {
    /// Runs `command` (of `program`) to its end or the time limit, with no
    /// standard input or output, and its stderr kept for the error.
    fn run(&self, program: &Path, mut command: Command) -> Result<(), OcrError> {
        let stderr_path = self.dir.join("stderr");
        let stderr = File::create(&stderr_path).map_err(|source| OcrError::Io {
            file: self.file.to_path_buf(),
            page: self.page,
            what: "making a file for a program's stderr",
            source,
        })?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        let mut child = command.spawn().map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                OcrError::NotInstalled {
                    program: program.to_path_buf(),
                }
            } else {
                OcrError::Start {
                    program: program.to_path_buf(),
                    source,
                }
            }
        })?;
        let wait_error = |source| OcrError::Io {
            file: self.file.to_path_buf(),
            page: self.page,
            what: "waiting for a program",
            source,
        };
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait().map_err(wait_error)? {
                break status;
            }
            if Instant::now() >= deadline {
                // It may have ended just now; either way it is reaped.
                let _ = child.kill();
                let _ = child.wait();
                return Err(OcrError::TimedOut {
                    program: program.to_path_buf(),
                    file: self.file.to_path_buf(),
                    page: self.page,
                    timeout: self.timeout,
                });
            }
            std::thread::sleep(POLL);
        };
        if status.success() {
            return Ok(());
        }
        let said = std::fs::read(&stderr_path).unwrap_or_default();
        let said = String::from_utf8_lossy(&said);
        let said = said.trim();
        // The end of a long stderr says why; keep that.
        let start = said
            .char_indices()
            .rev()
            .nth(STDERR_KEPT)
            .map_or(0, |(i, _)| i);
        Err(OcrError::Failed {
            program: program.to_path_buf(),
            file: self.file.to_path_buf(),
            page: self.page,
            status,
            stderr: said[start..].to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_fill_a_partial_section() {
        let config: OcrConfig = toml::from_str("timeout_secs = 5\ndpi = 200").expect("parses");
        assert_eq!(
            config,
            OcrConfig {
                timeout_secs: 5,
                dpi: 200,
                ..OcrConfig::default()
            }
        );
        assert!(config.enabled);
        assert_eq!(config.tesseract, PathBuf::from("tesseract"));
        assert!(toml::from_str::<OcrConfig>("dpi_x = 1").is_err());
    }

    #[test]
    fn off_and_zero_dpi_are_refused_before_anything_runs() {
        let off = OcrConfig {
            enabled: false,
            ..OcrConfig::default()
        };
        let file = Path::new("does-not-matter.pdf");
        assert!(matches!(ocr_page(&off, file, 1), Err(OcrError::Off)));
        let zero = OcrConfig {
            dpi: 0,
            ..OcrConfig::default()
        };
        assert!(matches!(
            ocr_page(&zero, file, 1),
            Err(OcrError::Config("dpi must be above 0"))
        ));
        let no_time = OcrConfig {
            timeout_secs: 0,
            ..OcrConfig::default()
        };
        assert!(matches!(
            ocr_page(&no_time, file, 1),
            Err(OcrError::Config("timeout_secs must be above 0"))
        ));
    }
}

/// Why a PDF's pages could not be had.
#[derive(Debug, thiserror::Error)]
pub enum PagesError {
    /// The PDF cannot be read.
    #[error(transparent)]
    Pdf(#[from] crate::format::pdf::PdfError),
    /// A page has no text layer, and OCR is off.
    #[error("image-only PDF, no text layer on page {page}; OCR is off")]
    OcrOff {
        /// The page, from 1.
        page: u32,
    },
    /// A page has no text layer, and OCR could not read it.
    #[error("page {page} has no text layer, and OCR could not read it: {source}")]
    Ocr {
        /// The page, from 1.
        page: u32,
        /// Why.
        source: OcrError,
    },
    /// A page without a text layer is too large to be rendered for OCR.
    #[error(
        "page {page} has no text layer and is too large for OCR ({width:.0} × {height:.0} pt: {pixels} pixels at the configured dpi, over {MAX_OCR_PIXELS})"
    )]
    TooLargeForOcr {
        /// The page, from 1.
        page: u32,
        /// Its size in points.
        width: f64,
        /// Its size in points.
        height: f64,
        /// The pixels its image would have.
        pixels: u64,
    },
    /// The PDF could not be put where the OCR programs read it.
    #[error("a copy of the PDF for OCR: {0}")]
    Copy(#[source] io::Error),
}

/// The most pixels a page's image for OCR may have (US letter at 300 dpi
/// has 8.4 million; this is A0 at 300 dpi): a bigger page is refused, not
/// rendered.
pub const MAX_OCR_PIXELS: u64 = 140_000_000;

/// Every page of the PDF `bytes`: from its text layer, or, for a page
/// without one (a scan), by OCR (`file` is the PDF on disk, when it is
/// there already; otherwise a temporary copy is written for the OCR
/// programs). Blocking: see the module's documentation.
pub fn pages(
    bytes: &[u8],
    file: Option<&Path>,
    limits: &crate::format::pdf::Limits,
    config: &OcrConfig,
) -> Result<Vec<Page>, PagesError> {
    let read = crate::format::pdf::read(bytes, limits)?;
    let mut copy: Option<tempfile::NamedTempFile> = None;
    let mut pages = Vec::with_capacity(read.len());
    for p in read {
        if p.layer.has_text() {
            pages.push(p.page);
            continue;
        }
        let number = p.page.number;
        if !config.enabled {
            return Err(PagesError::OcrOff { page: number });
        }
        let scale = f64::from(config.dpi) / 72.0;
        let pixels = (p.page.width.abs() * scale) * (p.page.height.abs() * scale);
        if !pixels.is_finite() || pixels > MAX_OCR_PIXELS as f64 {
            return Err(PagesError::TooLargeForOcr {
                page: number,
                width: p.page.width,
                height: p.page.height,
                pixels: pixels.min(u64::MAX as f64) as u64,
            });
        }
        let path = match (file, &copy) {
            (Some(f), _) => f.to_path_buf(),
            (None, Some(c)) => c.path().to_path_buf(),
            (None, None) => {
                let mut c = tempfile::Builder::new()
                    .prefix("dropgate-ocr-")
                    .suffix(".pdf")
                    .tempfile()
                    .map_err(PagesError::Copy)?;
                io::Write::write_all(&mut c, bytes).map_err(PagesError::Copy)?;
                let path = c.path().to_path_buf();
                copy = Some(c);
                path
            }
        };
        let page = ocr_page(config, &path, number).map_err(|source| match source {
            OcrError::Off => PagesError::OcrOff { page: number },
            source => PagesError::Ocr {
                page: number,
                source,
            },
        })?;
        pages.push(page);
    }
    Ok(pages)
}
