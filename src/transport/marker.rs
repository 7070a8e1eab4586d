//! Ready markers: the empty file a partner writes next to a data file once
//! that file is complete (`stock.csv` then `stock.csv.done`, or
//! `orders.edi` then `orders.ok`). A file that has a marker rule is taken
//! only once its marker is there, and the marker goes with it; markers are
//! never taken as files.

use std::fmt;

/// A marker name template: a prefix, `{name}` (the file's name) or
/// `{stem}` (its name without the last extension), and a suffix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    prefix: String,
    part: Part,
    suffix: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Name,
    Stem,
}

/// Why a marker template cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MarkerError {
    /// It names neither `{name}` nor `{stem}`, or more than one.
    #[error("{0:?} must hold {{name}} or {{stem}} once, like \"{{name}}.done\" or \"{{stem}}.ok\"")]
    NoPlaceholder(String),
    /// The marker would be the file itself, or in another folder.
    #[error("{0:?} must add a prefix or a suffix (\"{{name}}.done\"), and no / or \\")]
    NotAName(String),
}

impl Marker {
    /// Reads a template.
    pub fn new(template: &str) -> Result<Marker, MarkerError> {
        let found: Vec<(usize, Part, usize)> = [("{name}", Part::Name), ("{stem}", Part::Stem)]
            .iter()
            .flat_map(|(p, part)| {
                template
                    .match_indices(p)
                    .map(move |(i, m)| (i, *part, m.len()))
            })
            .collect();
        let [(at, part, len)] = found.as_slice() else {
            return Err(MarkerError::NoPlaceholder(template.to_string()));
        };
        let prefix = template.get(..*at).unwrap_or_default().to_string();
        let suffix = template.get(at + len..).unwrap_or_default().to_string();
        if (prefix.is_empty() && suffix.is_empty()) || template.contains(['/', '\\']) {
            return Err(MarkerError::NotAName(template.to_string()));
        }
        Ok(Marker {
            prefix,
            part: *part,
            suffix,
        })
    }

    /// The marker of the file `name`.
    pub fn of(&self, name: &str) -> String {
        let part = match self.part {
            Part::Name => name,
            Part::Stem => name.rsplit_once('.').map_or(name, |(stem, _)| stem),
        };
        format!("{}{part}{}", self.prefix, self.suffix)
    }

    /// Whether `name` has the shape of a marker (and so is not a file to
    /// take).
    pub fn shapes(&self, name: &str) -> bool {
        name.len() > self.prefix.len() + self.suffix.len()
            && name.starts_with(&self.prefix)
            && name.ends_with(&self.suffix)
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = match self.part {
            Part::Name => "{name}",
            Part::Stem => "{stem}",
        };
        write!(f, "{}{part}{}", self.prefix, self.suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_markers_from_files() -> Result<(), MarkerError> {
        let done = Marker::new("{name}.done")?;
        assert_eq!(done.of("stock.csv"), "stock.csv.done");
        assert!(done.shapes("stock.csv.done"));
        assert!(!done.shapes("stock.csv"));
        let ok = Marker::new("{stem}.ok")?;
        assert_eq!(ok.of("orders.edi"), "orders.ok");
        assert_eq!(ok.of("orders"), "orders.ok");
        let ready = Marker::new("READY_{name}")?;
        assert_eq!(ready.of("a.csv"), "READY_a.csv");
        assert_eq!(ready.to_string(), "READY_{name}");
        assert!(Marker::new("{name}").is_err());
        assert!(Marker::new(".done").is_err());
        assert!(Marker::new("{name}{stem}.x").is_err());
        assert!(Marker::new("../{name}.done").is_err());
        Ok(())
    }
}
