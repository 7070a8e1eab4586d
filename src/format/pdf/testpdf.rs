//! `testpdf` (tests only): builds small PDFs with lopdf for the unit
//! tests, content streams written by hand.

use lopdf::{Dictionary, Document, Object, Stream, dictionary};

/// One page to build.
pub struct PageSpec {
    /// Its content stream.
    pub content: Vec<u8>,
    /// Its resources.
    pub resources: Dictionary,
    /// More entries of its dictionary (`/Rotate`, `/CropBox`, ...).
    pub attrs: Dictionary,
}

/// A page showing `content` with Helvetica (WinAnsi) as /F1.
pub fn page(content: &str) -> PageSpec {
    PageSpec {
        content: content.as_bytes().to_vec(),
        resources: dictionary! {"Font" => dictionary! {"F1" => helvetica()}},
        attrs: Dictionary::new(),
    }
}

/// Helvetica with WinAnsiEncoding.
pub fn helvetica() -> Dictionary {
    dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding"}
}

/// A PDF of the pages `make` gives (it may add objects to the document).
pub fn build(make: impl FnOnce(&mut Document) -> Vec<PageSpec>) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let specs = make(&mut doc);
    let mut kids = Vec::new();
    for spec in specs {
        let content = doc.add_object(Stream::new(Dictionary::new(), spec.content));
        let mut page = dictionary! {
            "Type" => "Page", "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Contents" => content, "Resources" => spec.resources,
        };
        for (k, v) in spec.attrs.iter() {
            page.set(k.clone(), v.clone());
        }
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {"Type" => "Pages", "Kids" => kids, "Count" => count}),
    );
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("a PDF in memory");
    out
}
