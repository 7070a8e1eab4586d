//! `dropgate mapping test`: runs each mapping on its samples and compares
//! with the expected output kept next to them.
//!
//! The samples of `mappings/NAME.toml` live in the folder `mappings/NAME/`:
//! - inbound: every input file (`*.edi`, `*.x12`, `*.csv`, `*.xml`, `*.txt`)
//!   has its expected canonical JSON in `FILE.expected.json`, and the
//!   problems it is expected to report (a rejected set, an item left out by
//!   `on_error = "skip"`), if any, in `FILE.expected.err`;
//! - outbound: every canonical document `*.json` (not `*.expected.json`) has
//!   its expected rendering in `FILE.expected.edi`, `.csv` or `.xml`,
//!   rendered with control number 1 at 2024-01-01 00:00 so that it is stable.
//!
//! Expected JSON is compared as JSON (key order and spacing do not matter);
//! a mismatch prints a line diff of the pretty-printed documents. `--bless`
//! writes what the mapping produces as the new expectation.

use std::path::{Path, PathBuf};

use crate::x12::defs::Definitions;

use super::MappingError;
use super::library::{Direction, Library, flavor_name};
use super::outbound::{OutboundMapping, RenderOptions};
use super::translate::{Request, translate};

/// The result of one sample.
#[derive(Debug)]
pub struct SampleResult {
    /// The mapping's name.
    pub mapping: String,
    /// The sample input.
    pub input: PathBuf,
    /// `None` when the output matches; otherwise what differs.
    pub failure: Option<String>,
    /// The expectation was (re)written.
    pub blessed: bool,
}

/// Runs the samples of every mapping under `dir` (or only of the mapping
/// named `only`, or of those in the folder `only`: `partners/acme` is
/// `partners/acme/...`, not `partners/acmetools`).
pub fn run(
    library: &Library,
    dir: &Path,
    defs: &Definitions,
    only: Option<&str>,
    bless: bool,
) -> Result<Vec<SampleResult>, MappingError> {
    let mut results = Vec::new();
    let names: Vec<String> = library.names().map(String::from).collect();
    for name in names {
        if only.is_some_and(|o| {
            let o = o.trim_end_matches('/');
            name != o && !name.starts_with(&format!("{o}/"))
        }) {
            continue;
        }
        let samples = dir.join(&name);
        if !samples.is_dir() {
            continue;
        }
        let loaded = library.load(&name)?;
        let mut inputs: Vec<PathBuf> = std::fs::read_dir(&samples)
            .map_err(|e| MappingError::Io(format!("{}: {e}", samples.display())))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && !is_expectation(p))
            .collect();
        inputs.sort();
        let partner = name
            .strip_prefix("partners/")
            .and_then(|r| r.split('/').next())
            .map(String::from);
        for input in inputs {
            let result = match loaded.header.direction {
                Direction::Inbound => {
                    let ext = input.extension().and_then(|e| e.to_str());
                    let json = loaded.header.flavor == crate::format::Flavor::Json;
                    if !(matches!(
                        ext,
                        Some(
                            "edi" | "x12" | "csv" | "xml" | "txt" | "pdf" | "xlsx" | "xls" | "dat"
                        )
                    ) || json && ext == Some("json"))
                    {
                        continue;
                    }
                    inbound(library, defs, &name, partner.as_deref(), &input, bless, dir)?
                }
                Direction::Outbound => {
                    if input.extension().and_then(|e| e.to_str()) != Some("json") {
                        continue;
                    }
                    outbound(&loaded, &name, &input, bless)?
                }
            };
            results.push(result);
        }
    }
    Ok(results)
}

fn is_expectation(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains(".expected."))
}

fn expected_path(input: &Path, ext: &str) -> PathBuf {
    let mut name = input
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".expected.{ext}"));
    input.with_file_name(name)
}

fn inbound(
    library: &Library,
    defs: &Definitions,
    name: &str,
    partner: Option<&str>,
    input: &Path,
    bless: bool,
    dir: &Path,
) -> Result<SampleResult, MappingError> {
    let file = std::fs::File::open(input)
        .map_err(|e| MappingError::Io(format!("{}: {e}", input.display())))?;
    // A PDF sample is read from its text layer (OCR is the gateway's and
    // `translate`'s).
    let pdf_pages = match input.extension().and_then(|e| e.to_str()) {
        Some("pdf") => {
            let bytes = std::fs::read(input)
                .map_err(|e| MappingError::Io(format!("{}: {e}", input.display())))?;
            let read = crate::format::pdf::read(&bytes, &crate::format::pdf::Limits::default())
                .map_err(|e| MappingError::Io(format!("{}: {e}", input.display())))?;
            if let Some(p) = read.iter().find(|p| !p.layer.has_text()) {
                return Err(MappingError::Io(format!(
                    "{}: page {} has no text layer; a mapping's PDF samples need one (OCR runs in `dropgate translate` and the gateway)",
                    input.display(),
                    p.page.number
                )));
            }
            Some(read.into_iter().map(|p| p.page).collect())
        }
        _ => None,
    };
    let request = Request {
        pdf_pages,
        file_name: input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        mapping: Some(name.to_string()),
        partner: partner.map(String::from),
        ..Request::default()
    };
    let mut result = SampleResult {
        mapping: name.to_string(),
        input: input.to_path_buf(),
        failure: None,
        blessed: false,
    };
    let (outcome, out) = match translate(file, &request, library, defs, Vec::new()) {
        Ok(r) => r,
        Err(e) => {
            result.failure = Some(e.to_string());
            return Ok(result);
        }
    };
    // Problems (a rejected set, an item left out) are part of what a sample
    // expects: they are kept in FILE.expected.err, one per line.
    // Mapping files are named from the mappings folder, so that the
    // expectation holds whatever folder `mapping test` was given.
    let folder = format!("{}/", dir.display());
    let problems: String = outcome
        .problems
        .iter()
        .map(|p| format!("{p}\n").replace(&folder, ""))
        .collect();
    let err_file = expected_path(input, "err");
    if bless {
        let written = if problems.is_empty() {
            match std::fs::remove_file(&err_file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        } else {
            std::fs::write(&err_file, &problems)
        };
        written.map_err(|e| MappingError::Io(format!("{}: {e}", err_file.display())))?;
    } else {
        let expected_problems = std::fs::read_to_string(&err_file).unwrap_or_default();
        if expected_problems != problems {
            result.failure = Some(if expected_problems.is_empty() {
                format!(
                    "{problems}(if these are expected, --bless keeps them in {})",
                    err_file.display()
                )
            } else {
                format!(
                    "the problems differ from {}:\n{}",
                    err_file.display(),
                    diff(&expected_problems, &problems)
                )
            });
            return Ok(result);
        }
    }
    let actual: serde_json::Value = serde_json::from_slice(&out)
        .map_err(|e| MappingError::Io(format!("internal: output is not JSON: {e}")))?;
    let expected_file = expected_path(input, "json");
    let actual_text = serde_json::to_string_pretty(&actual).unwrap_or_default() + "\n";
    if bless {
        std::fs::write(&expected_file, &actual_text)
            .map_err(|e| MappingError::Io(format!("{}: {e}", expected_file.display())))?;
        result.blessed = true;
        return Ok(result);
    }
    let Ok(text) = std::fs::read_to_string(&expected_file) else {
        result.failure = Some(format!(
            "no {} (run with --bless to write it)",
            expected_file.display()
        ));
        return Ok(result);
    };
    let expected: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            result.failure = Some(format!("{}: not JSON: {e}", expected_file.display()));
            return Ok(result);
        }
    };
    if expected != actual {
        let expected_text = serde_json::to_string_pretty(&expected).unwrap_or_default() + "\n";
        result.failure = Some(diff(&expected_text, &actual_text));
    }
    Ok(result)
}

fn outbound(
    loaded: &super::library::Loaded,
    name: &str,
    input: &Path,
    bless: bool,
) -> Result<SampleResult, MappingError> {
    let mut result = SampleResult {
        mapping: name.to_string(),
        input: input.to_path_buf(),
        failure: None,
        blessed: false,
    };
    let mapping = OutboundMapping::compile(loaded)?;
    let text = std::fs::read_to_string(input)
        .map_err(|e| MappingError::Io(format!("{}: {e}", input.display())))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| MappingError::Io(format!("{}: not JSON: {e}", input.display())))?;
    let options = RenderOptions {
        control_number: 1,
        group_control_number: 1,
        timestamp: chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default(),
        parties: None,
    };
    let mut out = Vec::new();
    let file = input.display().to_string();
    let rendered = if loaded.header.flavor == crate::format::Flavor::Json {
        // A request body's sample holds, beside the document, what the
        // gateway looks up for it, under `netsuite`.
        let mut document = json.clone();
        let context = document.as_object_mut().and_then(|o| o.remove("netsuite"));
        mapping
            .render_json(&document, context.as_ref().map(|c| ("netsuite", c)), &file)
            .and_then(|v| {
                serde_json::to_writer_pretty(&mut out, &v)
                    .map_err(|e| MappingError::Io(format!("writing the output: {e}")))
            })
            .map(|()| out.push(b'\n'))
    } else {
        mapping.render(&json, &file, &options, &mut out)
    };
    if let Err(e) = rendered {
        result.failure = Some(e.to_string());
        return Ok(result);
    }
    let ext = match loaded.header.flavor {
        crate::format::Flavor::X12 => "edi",
        other => flavor_name(other),
    };
    let expected_file = expected_path(input, ext);
    let actual = String::from_utf8_lossy(&out).into_owned();
    if bless {
        std::fs::write(&expected_file, &out)
            .map_err(|e| MappingError::Io(format!("{}: {e}", expected_file.display())))?;
        result.blessed = true;
        return Ok(result);
    }
    match std::fs::read(&expected_file) {
        Ok(expected) if expected == out => {}
        Ok(expected) => {
            result.failure = Some(diff(&String::from_utf8_lossy(&expected), &actual));
        }
        Err(_) => {
            result.failure = Some(format!(
                "no {} (run with --bless to write it)",
                expected_file.display()
            ));
        }
    }
    Ok(result)
}

/// A line diff: `-` lines expected and missing, `+` lines produced and not
/// expected, with two lines of context around each change. The lines both
/// sides share at the start and the end are set aside first; what is left
/// is aligned by a longest common subsequence when it is small enough
/// (about four million line pairs), and shown as one block replaced by
/// another otherwise, so that a diff of huge expected files stays quick.
pub fn diff(expected: &str, actual: &str) -> String {
    const MAX_CELLS: usize = 4_000_000;
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<(char, &str)> = a[..prefix].iter().map(|l| (' ', *l)).collect();
    let (n, m) = (ma.len(), mb.len());
    if (n + 1).saturating_mul(m + 1) > MAX_CELLS {
        ops.extend(ma.iter().map(|l| ('-', *l)));
        ops.extend(mb.iter().map(|l| ('+', *l)));
    } else {
        // Longest common subsequence, table from the end.
        let mut lcs = vec![vec![0u32; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i][j] = if ma[i] == mb[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && ma[i] == mb[j] {
                ops.push((' ', ma[i]));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
                ops.push(('-', ma[i]));
                i += 1;
            } else {
                ops.push(('+', mb[j]));
                j += 1;
            }
        }
    }
    ops.extend(a[a.len() - suffix..].iter().map(|l| (' ', *l)));
    let near = |k: usize| {
        let lo = k.saturating_sub(2);
        let hi = (k + 3).min(ops.len());
        ops[lo..hi].iter().any(|(c, _)| *c != ' ')
    };
    let mut out = String::from("--- expected\n+++ actual\n");
    let mut skipped = false;
    for (k, (c, line)) in ops.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("  ...\n");
                skipped = false;
            }
            out.push(*c);
            out.push(' ');
            out.push_str(line);
            out.push('\n');
        } else {
            skipped = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn diff_of_huge_files_is_quick_and_still_shows_the_change() {
        let expected: String = (0..200_000).map(|i| format!("line {i}\n")).collect();
        let mut actual = expected.clone();
        actual = actual.replace("line 100000\n", "changed\n");
        let d = diff(&expected, &actual);
        assert!(d.contains("- line 100000\n+ changed\n"), "{d}");
        assert!(d.lines().count() < 20, "{d}");
        // Unrelated halves: one block for the other, not an hour of work.
        let other: String = (0..5_000).map(|i| format!("other {i}\n")).collect();
        let mine: String = (0..5_000).map(|i| format!("mine {i}\n")).collect();
        let d = diff(&other, &mine);
        assert!(d.contains("- other 0") && d.contains("+ mine 4999"));
    }

    #[test]
    fn diff_shows_changes_with_context() {
        let d = diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nX\ne\nf\ng\n");
        assert!(d.contains("- d\n+ X\n"), "{d}");
        assert!(d.contains("  c\n") && !d.contains("  a\n"), "{d}");
    }
}
