//! Where mappings come from: the copy of `mappings/` built into the binary,
//! a `mappings/` folder on disk (which wins), and partner folders
//! (`mappings/partners/<partner>/`), whose mappings may `extends` a built-in
//! one and change only what differs.
//!
//! A mapping is named by its path under the mappings folder without `.toml`
//! (`x12/850`, `partners/acme/850`); a file path works too.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::format::Flavor;
use crate::format::csv::{CsvOptions, Encoding};
use crate::format::fixed::Layout;
use crate::format::pdf::template::Template;
use crate::format::xlsx::XlsxOptions;
use crate::format::xml::XmlOptions;
use crate::model::DocumentType;

use super::MappingError;
use super::spec::{Spec, Value};

/// The built-in mapping files: `(path under mappings/, text)`.
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/mapping_files.rs"));

/// Which way a mapping goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Vendor format to canonical documents.
    Inbound,
    /// Canonical documents to vendor format.
    Outbound,
}

/// The `[mapping]` table of a mapping file.
#[derive(Clone, Debug)]
pub struct Header {
    /// Which way it goes.
    pub direction: Direction,
    /// The canonical document type it reads or writes.
    pub document: Option<DocumentType>,
    /// The vendor's format.
    pub flavor: Flavor,
    /// X12: the transaction sets it maps (ST01).
    pub sets: Vec<String>,
    /// X12: the versions (GS08) it is for; empty means any.
    pub versions: Vec<String>,
    /// CSV reading and writing options.
    pub csv: CsvOptions,
    /// XML reading options.
    pub xml: XmlOptions,
    /// Workbook: the sheet and header row (`[mapping.xlsx]`).
    pub xlsx: XlsxOptions,
    /// Fixed-width: the layout (`[mapping.fixed]`).
    pub fixed: Layout,
    /// PDF: how the vendor's invoices are read (`[mapping.pdf]`).
    pub pdf: Template,
    /// What the mapping is for.
    pub description: String,
}

/// A mapping file, read and merged with what it extends.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// Its name.
    pub name: String,
    /// Where it was read from (a path, or `built-in:x12/850.toml`).
    pub origin: String,
    /// The merged spec.
    pub spec: Spec,
    /// Its `[mapping]` table.
    pub header: Header,
}

/// All mappings known to a run.
#[derive(Clone, Debug, Default)]
pub struct Library {
    /// Name to (origin shown in messages, text).
    files: BTreeMap<String, (String, Arc<str>)>,
    /// The folder read, if any.
    root: Option<PathBuf>,
    /// Mappings of `files` already read and merged: their texts do not
    /// change, so each is parsed once per run.
    loaded: Arc<Mutex<HashMap<String, Loaded>>>,
}

impl Library {
    /// The built-in mappings only.
    pub fn embedded() -> Library {
        let mut lib = Library::default();
        for (path, text) in EMBEDDED {
            let name = path.trim_end_matches(".toml").to_string();
            lib.files
                .insert(name, (format!("mappings/{path}"), Arc::from(*text)));
        }
        lib
    }

    /// The built-in mappings, overridden and extended by the `.toml` files
    /// under `dir`.
    pub fn with_dir(dir: &Path) -> Result<Library, MappingError> {
        let mut lib = Library::embedded();
        lib.root = Some(dir.to_path_buf());
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d)
                .map_err(|e| MappingError::Io(format!("{}: {e}", d.display())))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "toml") {
                    let rel = path
                        .strip_prefix(dir)
                        .unwrap_or(&path)
                        .with_extension("")
                        .to_string_lossy()
                        .replace('\\', "/");
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| MappingError::Io(format!("{}: {e}", path.display())))?;
                    lib.files
                        .insert(rel, (path.display().to_string(), Arc::from(text)));
                }
            }
        }
        Ok(lib)
    }

    /// The names of every mapping.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Loads a mapping by name, or by file path.
    pub fn load(&self, name_or_path: &str) -> Result<Loaded, MappingError> {
        let key = name_or_path.trim_end_matches(".toml");
        if !self.files.contains_key(key) {
            return self.load_depth(name_or_path, 0);
        }
        if let Some(l) = self.loaded.lock().ok().and_then(|m| m.get(key).cloned()) {
            return Ok(l);
        }
        let l = self.load_depth(name_or_path, 0)?;
        if let Ok(mut m) = self.loaded.lock() {
            m.insert(key.to_string(), l.clone());
        }
        Ok(l)
    }

    fn load_depth(&self, name_or_path: &str, depth: usize) -> Result<Loaded, MappingError> {
        if depth > 8 {
            return Err(MappingError::NotFound(format!(
                "{name_or_path}: extends goes more than 8 deep (a cycle?)"
            )));
        }
        let key = name_or_path.trim_end_matches(".toml");
        let (name, origin, text) = match self.files.get(key) {
            Some((origin, text)) => (key.to_string(), origin.clone(), Arc::clone(text)),
            None => {
                let path = Path::new(name_or_path);
                let text = std::fs::read_to_string(path).map_err(|e| {
                    MappingError::NotFound(format!(
                        "{name_or_path}: no such mapping ({e}); known: {}",
                        self.names().collect::<Vec<_>>().join(", ")
                    ))
                })?;
                let name = match &self.root {
                    Some(root) => path
                        .strip_prefix(root)
                        .unwrap_or(path)
                        .with_extension("")
                        .to_string_lossy()
                        .into_owned(),
                    None => path.with_extension("").to_string_lossy().into_owned(),
                };
                (name, path.display().to_string(), Arc::from(text))
            }
        };
        let own = Spec::parse(&origin, &text)?;
        let mut spec = own.clone();
        if let Some(ext) = own.get("mapping").and_then(|m| m.get("extends")) {
            let target = ext
                .as_str()
                .ok_or_else(|| ext.error("extends takes the name of a mapping"))?;
            // A relative file path is relative to this file.
            let resolved = if self.files.contains_key(target.trim_end_matches(".toml")) {
                target.to_string()
            } else {
                Path::new(&origin)
                    .parent()
                    .map(|p| p.join(target).display().to_string())
                    .unwrap_or_else(|| target.to_string())
            };
            let base = self.load_depth(&resolved, depth + 1).map_err(|e| match e {
                MappingError::NotFound(m) => ext.error(format!("extends: {m}")),
                other => other,
            })?;
            let mut merged = base.spec;
            // The header is not inherited field by field: extends itself
            // must not loop.
            merged.merge(&own);
            spec = merged;
        }
        let header = header(&spec)?;
        Ok(Loaded {
            name,
            origin,
            spec,
            header,
        })
    }

    /// The mapping for X12 set `set_id`: the partner's, else the built-in
    /// `x12/<set>`.
    pub fn for_x12_set(
        &self,
        partner: Option<&str>,
        set_id: &str,
        version: Option<&str>,
    ) -> Result<Loaded, MappingError> {
        let mut candidates = Vec::new();
        if let Some(p) = partner {
            let prefix = format!("partners/{p}/");
            for name in self.files.keys().filter(|n| n.starts_with(&prefix)) {
                candidates.push(name.clone());
            }
        }
        candidates.push(format!("x12/{set_id}"));
        for name in candidates {
            if !self.files.contains_key(&name) {
                continue;
            }
            let loaded = self.load(&name)?;
            let h = &loaded.header;
            if h.flavor == Flavor::X12
                && h.direction == Direction::Inbound
                && h.sets.iter().any(|s| s == set_id)
                && (h.versions.is_empty()
                    || version.is_some_and(|v| h.versions.iter().any(|x| x == v)))
            {
                return Ok(loaded);
            }
        }
        Err(MappingError::NotFound(format!(
            "no mapping for transaction set {set_id}{}",
            partner
                .map(|p| format!(" of partner {p}"))
                .unwrap_or_default()
        )))
    }

    /// The outbound mapping a partner's documents of `document` type are
    /// written with in `flavor`: its own (`mappings/partners/<P>/`, an
    /// outbound mapping of that document type, the first by name), else,
    /// for X12, the built-in one of the type's set
    /// ([`builtin_outbound_x12`]). `send`, the API and `render` all
    /// choose by this rule.
    pub fn outbound_for(
        &self,
        partner: &str,
        document: DocumentType,
        flavor: Flavor,
    ) -> Result<Loaded, MappingError> {
        let prefix = format!("partners/{partner}/");
        let names: Vec<String> = self
            .files
            .keys()
            .filter(|n| n.starts_with(&prefix))
            .cloned()
            .collect();
        for name in &names {
            let loaded = self.load(name)?;
            let h = &loaded.header;
            if h.direction == Direction::Outbound
                && h.flavor == flavor
                && h.document == Some(document)
            {
                return Ok(loaded);
            }
        }
        match (flavor, builtin_outbound_x12(document)) {
            (Flavor::X12, Some(name)) => self.load(name),
            _ => Err(MappingError::NotFound(format!(
                "partner {partner} has no outbound {} mapping for {document} under mappings/{prefix}",
                flavor_name(flavor)
            ))),
        }
    }

    /// The inbound PDF mappings (invoice templates) of `partner`, or of
    /// every partner when none is given, by name.
    pub fn pdf_mappings(&self, partner: Option<&str>) -> Result<Vec<Loaded>, MappingError> {
        let prefix = partner.map(|p| format!("partners/{p}/"));
        let names: Vec<String> = self
            .files
            .keys()
            .filter(|n| prefix.as_ref().is_none_or(|p| n.starts_with(p.as_str())))
            .cloned()
            .collect();
        let mut found = Vec::new();
        for name in &names {
            let loaded = self.load(name)?;
            if loaded.header.flavor == Flavor::Pdf && loaded.header.direction == Direction::Inbound
            {
                found.push(loaded);
            }
        }
        Ok(found)
    }

    /// The partner's mapping of `direction` for `flavor` (the first by
    /// name, when there are several).
    pub fn for_partner(
        &self,
        partner: &str,
        direction: Direction,
        flavor: Option<Flavor>,
    ) -> Result<Loaded, MappingError> {
        let prefix = format!("partners/{partner}/");
        let names: Vec<String> = self
            .files
            .keys()
            .filter(|n| n.starts_with(&prefix))
            .cloned()
            .collect();
        for name in &names {
            let loaded = self.load(name)?;
            if loaded.header.direction == direction
                && flavor.is_none_or(|f| f == loaded.header.flavor)
            {
                return Ok(loaded);
            }
        }
        Err(MappingError::NotFound(format!(
            "partner {partner} has no {} mapping{} under mappings/{prefix}",
            match direction {
                Direction::Inbound => "inbound",
                Direction::Outbound => "outbound",
            },
            flavor
                .map(|f| format!(" for {}", flavor_name(f)))
                .unwrap_or_default()
        )))
    }
}

/// The built-in outbound X12 mapping of a document type, where there is
/// one.
pub fn builtin_outbound_x12(document: DocumentType) -> Option<&'static str> {
    match document {
        DocumentType::PurchaseOrder => Some("outbound/x12-850"),
        DocumentType::PoChange => Some("outbound/x12-860"),
        DocumentType::ReturnAuthorization => Some("outbound/x12-180"),
        DocumentType::Remittance => Some("outbound/x12-820"),
        _ => None,
    }
}

/// The name of a format in mapping files.
pub fn flavor_name(f: Flavor) -> &'static str {
    match f {
        Flavor::X12 => "x12",
        Flavor::Csv => "csv",
        Flavor::Xml => "xml",
        Flavor::Json => "json",
        Flavor::Pdf => "pdf",
        Flavor::Xlsx => "xlsx",
        Flavor::Fixed => "fixed",
    }
}

fn header(spec: &Spec) -> Result<Header, MappingError> {
    let m = spec
        .get("mapping")
        .ok_or_else(|| spec.error("a mapping file starts with a [mapping] table"))?;
    let mut h = Header {
        direction: Direction::Inbound,
        document: None,
        flavor: Flavor::X12,
        sets: Vec::new(),
        versions: Vec::new(),
        csv: CsvOptions::default(),
        xml: XmlOptions::default(),
        xlsx: XlsxOptions::default(),
        fixed: Layout::default(),
        pdf: Template::default(),
        description: String::new(),
    };
    let mut has_format = false;
    for (key, v) in m.table().unwrap_or(&[]) {
        let text = || {
            v.as_text()
                .ok_or_else(|| v.error(format!("{key} takes a value, not {}", v.kind())))
        };
        let list = || -> Result<Vec<String>, MappingError> {
            match &v.value {
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_text().ok_or_else(|| i.error("expected text")))
                    .collect(),
                _ => Ok(vec![text()?]),
            }
        };
        match key.as_str() {
            "direction" => {
                h.direction = match text()?.as_str() {
                    "inbound" => Direction::Inbound,
                    "outbound" => Direction::Outbound,
                    other => {
                        return Err(v.error(format!(
                            "direction is \"inbound\" or \"outbound\", not {other:?}"
                        )));
                    }
                }
            }
            "document" => {
                let t = text()?;
                h.document = Some(DocumentType::from_name(&t).ok_or_else(|| {
                    v.error(format!(
                        "{t:?} is not a document type ({})",
                        DocumentType::ALL.map(DocumentType::name).join(", ")
                    ))
                })?);
            }
            "format" => {
                has_format = true;
                h.flavor = match text()?.as_str() {
                    "x12" => Flavor::X12,
                    "csv" => Flavor::Csv,
                    "xml" => Flavor::Xml,
                    "pdf" => Flavor::Pdf,
                    "json" => Flavor::Json,
                    "xlsx" | "xls" => Flavor::Xlsx,
                    "fixed" => Flavor::Fixed,
                    other => {
                        return Err(v.error(format!(
                            "format is \"x12\", \"csv\", \"xml\", \"json\", \"xlsx\", \"fixed\" or \"pdf\", not {other:?}"
                        )));
                    }
                }
            }
            "sets" => h.sets = list()?,
            "versions" => h.versions = list()?,
            "description" => h.description = text()?,
            "extends" | "name" | "x12" => {}
            "csv" => h.csv = csv_options(v)?,
            "xlsx" => h.xlsx = super::feeds::xlsx_options(v)?,
            "fixed" => h.fixed = super::feeds::fixed_layout(v)?,
            "pdf" => h.pdf = super::pdf::template(v)?,
            "xml" => {
                for (k, x) in v.table().unwrap_or(&[]) {
                    match k.as_str() {
                        "trim" => {
                            h.xml.trim_text = x
                                .as_bool()
                                .ok_or_else(|| x.error("trim takes true or false"))?;
                        }
                        other => return Err(x.error(format!("{other} is not an XML option"))),
                    }
                }
            }
            other => {
                return Err(v.error(format!(
                    "{other} is not a [mapping] key (direction, document, format, sets, versions, extends, description, csv, xml, xlsx, fixed, pdf)"
                )));
            }
        }
    }
    if !has_format {
        return Err(m.error(
            "[mapping] needs format = \"x12\", \"csv\", \"xml\", \"json\", \"xlsx\", \"fixed\" or \"pdf\"",
        ));
    }
    if h.flavor == Flavor::Fixed && h.direction == Direction::Inbound && h.fixed.records.is_empty()
    {
        return Err(m.error(
            "a fixed-width mapping lays out its records in [mapping.fixed] (see the README: fixed-width feeds)",
        ));
    }
    if h.flavor == Flavor::X12 && h.direction == Direction::Inbound && h.sets.is_empty() {
        return Err(m.error("an X12 mapping names its transaction sets: sets = [\"850\"]"));
    }
    Ok(h)
}

fn csv_options(v: &Spec) -> Result<CsvOptions, MappingError> {
    let mut o = CsvOptions::default();
    for (k, x) in v.table().unwrap_or(&[]) {
        let one_byte = || -> Result<u8, MappingError> {
            let t = x.as_text().unwrap_or_default();
            let t = if t == "\\t" || t == "tab" {
                "\t".into()
            } else {
                t
            };
            match t.as_bytes() {
                [b] => Ok(*b),
                _ => Err(x.error(format!("{k} takes one ASCII character"))),
            }
        };
        let flag = || {
            x.as_bool()
                .ok_or_else(|| x.error(format!("{k} takes true or false")))
        };
        match k.as_str() {
            "delimiter" => o.delimiter = one_byte()?,
            "quote" => o.quote = one_byte()?,
            "header" => o.header = flag()?,
            "trim" => o.trim = flag()?,
            "crlf" => o.crlf = flag()?,
            "group_by" => {
                o.group_by = Some(
                    x.as_text()
                        .ok_or_else(|| x.error("group_by takes a column name"))?,
                );
            }
            "skip_rows" => {
                o.skip_rows = match &x.value {
                    Value::Int(n) if *n >= 0 => *n as usize,
                    _ => return Err(x.error("skip_rows takes a whole number")),
                }
            }
            "max_columns" => {
                o.max_columns = match &x.value {
                    Value::Int(n) if *n > 0 => usize::try_from(*n).unwrap_or(usize::MAX),
                    _ => return Err(x.error("max_columns takes a whole number above 0")),
                }
            }
            "encoding" => {
                let t = x.as_text().unwrap_or_default();
                o.encoding = Encoding::from_name(&t).ok_or_else(|| {
                    x.error(format!(
                        "{t:?} is not an encoding (utf-8, windows-1252, latin-1)"
                    ))
                })?;
            }
            other => return Err(x.error(format!("{other} is not a CSV option"))),
        }
    }
    Ok(o)
}
