//! `generic`: an invoice read from a PDF's pages without a template, for a
//! vendor who has none yet. The header's values are found by the labels
//! invoices use (in English, German, French and Spanish), the line table
//! by a header row of known column labels, and the arithmetic is the
//! check: each line's quantity times its price is its amount, the lines
//! add up to the subtotal, and the subtotal plus charges less allowances
//! is the total. An invoice with its number, its date and its total that
//! adds up is accepted (`"extraction": "generic"`); any other is refused
//! with what was found and what did not add up, for a person to look at.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::address;
use super::amount::Marks;
use super::rule::DateFormat;
use crate::format::pdf::locate::{Found, Labelled, label_at, labelled, lines_of};
use crate::format::pdf::table::{self, Table, TableSpec};
use crate::format::pdf::{Page, Rect};
use crate::model::{
    Charge, ChargeKind, Extraction, Invoice, InvoiceLine, Party, Source, SourceFormat, Terms,
};

/// Labels of the header's values, the most telling first.
const INVOICE_NUMBER: &[&str] = &[
    "Invoice Number",
    "Invoice No.",
    "Invoice No",
    "Invoice #",
    "Invoice Nr.",
    "Inv #",
    "Bill Number",
    "Bill No.",
    "Document Number",
    "Document No.",
    "Doc. No.",
    "Rechnungsnummer",
    "Rechnungs-Nr.",
    "Rechnung Nr.",
    "Rechnungs-Nr",
    "Rechnung",
    "Numéro de facture",
    "N° de facture",
    "Facture n°",
    "Facture N°",
    "Facture",
    "Número de factura",
    "Nº de factura",
    "Nº Factura",
    "N° Factura",
    "N.º de factura",
    "Factura n.º",
    "Factura nº",
    "Factura",
    "Invoice",
];
const INVOICE_DATE: &[&str] = &[
    "Invoice Date",
    "Date of Invoice",
    "Bill Date",
    "Document Date",
    "Tax Point",
    "Rechnungsdatum",
    "Date de facture",
    "Date de la facture",
    "Fecha de factura",
    "Fecha de la factura",
    "Fecha de emisión",
    "Fecha de expedición",
    "Date d'émission",
    "Datum",
    "Fecha",
    "Date",
];
const PO_NUMBER: &[&str] = &[
    "P.O. Number",
    "PO Number",
    "Purchase Order Number",
    "Purchase Order No.",
    "Purchase Order #",
    "Purchase Order",
    "Customer PO #",
    "Customer PO",
    "Your Order No.",
    "Your Order #",
    "Your PO #",
    "Your PO",
    "Order Reference",
    "Order Ref.",
    "Order Ref",
    "P.O. #",
    "PO #",
    "PO No.",
    "P.O.",
    "Bestellnummer",
    "Ihre Bestellung",
    "Ihre Bestellnummer",
    "Bestell-Nr.",
    "Bon de commande",
    "N° de commande",
    "Votre commande",
    "Commande",
    "Número de pedido",
    "Nº de pedido",
    "Orden de compra",
    "Su pedido",
    "Pedido",
    "Order #",
    "Order No.",
    "Order Number",
];
const DUE_DATE: &[&str] = &[
    "Due Date",
    "Payment Due",
    "Due",
    "Fällig am",
    "Fälligkeitsdatum",
    "Fällig",
    "Échéance",
    "Date d'échéance",
    "Fecha de vencimiento",
    "Vencimiento",
];
const TERMS: &[&str] = &[
    "Payment Terms",
    "Terms",
    "Zahlungsbedingungen",
    "Zahlungsziel",
    "Conditions de paiement",
    "Condiciones de pago",
    "Forma de pago",
];
const SUBTOTAL: &[&str] = &[
    "Merchandise Total",
    "Merchandise",
    "Subtotal",
    "Sub-Total",
    "Sub Total",
    "Net Total",
    "Total Net",
    "Zwischensumme",
    "Nettobetrag",
    "Summe netto",
    "Warenwert",
    "Sous-total",
    "Total HT",
    "Base imponible",
];
const TOTAL: &[&str] = &[
    "Balance Due",
    "Amount Due",
    "Total Due",
    "Invoice Total",
    "Total Amount",
    "Grand Total",
    "Gesamtbetrag",
    "Rechnungsbetrag",
    "Endbetrag",
    "Zu zahlen",
    "Total TTC",
    "Montant total",
    "Net à payer",
    "Total a pagar",
    "Importe total",
    "Total factura",
    "Total",
    "Gesamt",
];

/// Charges and allowances of the invoice as a whole.
const CHARGES: &[(&[&str], ChargeKind, &str)] = &[
    (
        &[
            "Shipping & Handling",
            "Shipping and Handling",
            "Freight",
            "Shipping",
            "S&H",
            "Delivery",
            "Carriage",
            "Postage",
            "Versandkosten",
            "Versand",
            "Fracht",
            "Frais de port",
            "Livraison",
            "Portes",
            "Envío",
        ],
        ChargeKind::Charge,
        "freight",
    ),
    (
        &["Handling Fee", "Handling Charge", "Handling", "Bearbeitung"],
        ChargeKind::Charge,
        "handling",
    ),
    (
        &[
            "Fuel Surcharge",
            "Fuel",
            "Treibstoffzuschlag",
            "Energiezuschlag",
            "Recargo de combustible",
            "Surcharge carburant",
        ],
        ChargeKind::Charge,
        "fuel_surcharge",
    ),
    (
        &[
            "Promotional Allowance",
            "Allowance",
            "Discount",
            "Rabatt",
            "Remise",
            "Descuento",
        ],
        ChargeKind::Allowance,
        "discount",
    ),
    (
        &[
            "Sales Tax",
            "Tax",
            "VAT",
            "MwSt.",
            "MwSt",
            "USt.",
            "USt",
            "TVA",
            "IVA",
        ],
        ChargeKind::Charge,
        "tax",
    ),
];

/// Column labels of a line table, by the column they head.
const COLUMNS: &[(&str, &[&str])] = &[
    (
        "line",
        &["Line", "Ln", "Pos.", "Pos", "#", "Nº", "N°", "No.", "Nr."],
    ),
    (
        "sku",
        &[
            "Item Number",
            "Item/Part #",
            "Item No.",
            "Item #",
            "Item",
            "SKU",
            "Part Number",
            "Part No.",
            "Part #",
            "Product Code",
            "Product",
            "Style",
            "Art.-Nr.",
            "Artikelnummer",
            "Artikel",
            "Référence",
            "Réf.",
            "Code",
            "Código",
            "Ref.",
            "Referencia",
            "Artikelnr.",
            "Artikel-Nr.",
            "Art.Nr.",
            "Article",
        ],
    ),
    ("upc", &["UPC", "UPC Code", "EAN", "GTIN"]),
    (
        "description",
        &[
            "Description",
            "Item Description",
            "Beschreibung",
            "Bezeichnung",
            "Désignation",
            "Descripción",
            "Concepto",
        ],
    ),
    // Quantities that are not the one billed, so that their labels are not
    // taken for it.
    (
        "ordered",
        &[
            "Qty Ordered",
            "Quantity Ordered",
            "Qty Ord.",
            "Qty Ord",
            "Ordered",
            "Bestellmenge",
            "Qté commandée",
            "Cant. pedida",
        ],
    ),
    (
        "backordered",
        &[
            "B/O",
            "Backordered",
            "Back Order",
            "Qty B/O",
            "Rückstand",
            "Reliquat",
        ],
    ),
    (
        "quantity",
        &[
            "Qty Shipped",
            "Quantity Shipped",
            "Qty Invoiced",
            "Qty Billed",
            "Shipped",
            "Qty",
            "Quantity",
            "Menge",
            "Anzahl",
            "Qté",
            "Quantité",
            "Cantidad",
            "Cant.",
            "Units",
        ],
    ),
    (
        "uom",
        &[
            "UoM", "UOM", "U/M", "Unit", "Einheit", "Einh.", "Unité", "Unidad", "Ud.",
        ],
    ),
    (
        "unit_price",
        &[
            "Unit Price",
            "Unit Cost",
            "Net Unit Price",
            "Net Price",
            "Price",
            "Rate",
            "Each",
            "Einzelpreis",
            "Preis",
            "Prix unitaire",
            "Prix unit.",
            "P.U.",
            "Precio unitario",
            "Precio",
        ],
    ),
    (
        "amount",
        &[
            "Amount",
            "Line Total",
            "Ext. Price",
            "Ext. Amount",
            "Extended Price",
            "Extended Amount",
            "Extended",
            "Net Amount",
            "Net Value",
            "Net",
            "Total",
            "Betrag",
            "Gesamtpreis",
            "Gesamt",
            "Montant",
            "Importe",
        ],
    ),
];

/// Why an invoice was not accepted: what was found, and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsure {
    /// What was found, one line each (`invoice number INV-1 (page 1)`).
    pub found: Vec<String>,
    /// What is missing or does not add up.
    pub problems: Vec<String>,
}

impl std::fmt::Display for Unsure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no template, and the invoice could not be read with confidence: {}",
            self.problems.join("; ")
        )?;
        if !self.found.is_empty() {
            write!(f, " (found: {})", self.found.join(", "))?;
        }
        Ok(())
    }
}

/// Where a value was found: the label it was found by and its own words
/// (what `dropgate pdf inspect` draws).
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    /// What the value is (`invoice number`, `freight`).
    pub what: String,
    /// The label's words and box.
    pub label: Found,
    /// The value's words and box.
    pub value: Found,
}

/// An invoice read without a template, and where its values were found.
#[derive(Clone, Debug)]
pub struct Reading {
    /// The invoice, or why it was not accepted.
    pub invoice: Result<Invoice, Unsure>,
    /// The header's values, charges and totals found.
    pub seen: Vec<Seen>,
    /// The line table, as its header row was read.
    pub table: Option<(TableSpec, Table)>,
}

/// A label and the value found by it.
struct At {
    label: Found,
    value: Found,
}

impl At {
    fn new(place: &Labelled, value: &Found) -> At {
        At {
            label: place.label.clone(),
            value: value.clone(),
        }
    }

    /// Where, for a person: `"Invoice #" on page 1`.
    fn describe(&self) -> String {
        format!("{:?} on page {}", self.label.text, self.value.page)
    }
}

/// Whether numeric dates put the day first (`04/11/2026` is the 4th of
/// November): said by a date of the file that can only be read one way
/// (`15/11/2026`, `11/15/2026`), else by the currency (day first
/// everywhere but in dollars), else by a decimal comma.
fn day_first(words: &[&str], marks: Marks, currency: Option<&str>) -> bool {
    let mut day = false;
    let mut month = false;
    for w in words {
        let parts: Vec<&str> = w
            .trim_end_matches(['.', ',', ';'])
            .split(['/', '.', '-'])
            .collect();
        let [a, b, y] = parts.as_slice() else {
            continue;
        };
        let number = |t: &str, max: usize| {
            (!t.is_empty() && t.len() <= max && t.bytes().all(|c| c.is_ascii_digit()))
                .then(|| t.parse::<u32>().ok())
                .flatten()
        };
        let (Some(a), Some(b), Some(_)) = (number(a, 2), number(b, 2), number(y, 4)) else {
            continue;
        };
        day |= a > 12 && a <= 31 && b <= 12;
        month |= b > 12 && b <= 31 && a <= 12;
    }
    match (day, month) {
        (true, false) => true,
        (false, true) => false,
        _ => match currency {
            Some("USD") => false,
            Some(_) => true,
            None => marks.decimal == ',',
        },
    }
}

/// How dates are written where the order of day and month is not said by
/// a month's name.
fn date_formats(day_first: bool) -> Vec<DateFormat> {
    let numeric: &[&str] = if day_first {
        &[
            "DD.MM.CCYY",
            "DD/MM/CCYY",
            "DD-MM-CCYY",
            "DD.MM.YY",
            "DD/MM/YY",
        ]
    } else {
        &[
            "MM/DD/CCYY",
            "MM-DD-CCYY",
            "MM/DD/YY",
            "DD.MM.CCYY",
            "DD.MM.YY",
        ]
    };
    let named = [
        "%d-%b-%Y",
        "%d %b %Y",
        "%b %d, %Y",
        "%B %d, %Y",
        "%d %B %Y",
        "%d. %B %Y",
        "%Y-%m-%d",
        "%b %d %Y",
        "%d-%b-%y",
    ];
    numeric
        .iter()
        .copied()
        .chain(named)
        .filter_map(|f| DateFormat::new(f).ok())
        .collect()
}

/// A date in `text` (or its first words).
fn date_in(text: &str, formats: &[DateFormat]) -> Option<NaiveDate> {
    let words: Vec<&str> = english_months(text);
    for n in (1..=words.len().min(4)).rev() {
        let candidate = words[..n].join(" ");
        let candidate = candidate.trim_end_matches([',', ';']);
        if let Some(d) = formats.iter().find_map(|f| f.parse(candidate)) {
            return Some(d);
        }
    }
    None
}

/// Month names of German, French and Spanish dates, in English (what the
/// date formats read), January first.
const MONTHS: [(&str, &[&str]); 12] = [
    ("January", &["januar", "jänner", "janvier", "enero"]),
    ("February", &["februar", "février", "fevrier", "febrero"]),
    ("March", &["märz", "maerz", "mars", "marzo"]),
    ("April", &["avril", "abril"]),
    ("May", &["mai", "mayo"]),
    ("June", &["juni", "juin", "junio"]),
    ("July", &["juli", "juillet", "julio"]),
    ("August", &["août", "aout", "agosto"]),
    ("September", &["septembre", "septiembre", "setiembre"]),
    ("October", &["oktober", "octobre", "octubre"]),
    ("November", &["novembre", "noviembre"]),
    (
        "December",
        &["dezember", "décembre", "decembre", "diciembre"],
    ),
];

/// The words of `text` with month names in English and the Spanish `de`
/// between a date's parts left out (`15 de noviembre de 2026` is read as
/// `15 November 2026`).
fn english_months(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for w in text.split_whitespace() {
        let lower = w.trim_end_matches(['.', ',']).to_lowercase();
        if (lower == "de" || lower == "del") && !out.is_empty() {
            continue;
        }
        match MONTHS
            .iter()
            .find(|(_, names)| names.contains(&lower.as_str()))
        {
            Some((english, _)) => out.push(english),
            None => out.push(w),
        }
    }
    out
}

/// An amount in `text`: the whole, or its last word, or its first.
fn amount_in(text: &str, marks: Marks) -> Option<Decimal> {
    marks.amount(text).or_else(|| {
        let mut words = text.split_whitespace();
        let first = words.next()?;
        words
            .next_back()
            .and_then(|last| marks.amount(last))
            .or_else(|| marks.amount(first))
    })
}

/// Money in `text`: its last amount written with cents (`12.50`,
/// `1.234,56 €`), so that a rate (`19 %`) or a number (`DE298765431`) on
/// the line is not taken for it.
fn money_in(text: &str, marks: Marks) -> Option<Decimal> {
    let words: Vec<&str> = text.split_whitespace().collect();
    (0..words.len()).rev().find_map(|end| {
        // An amount may be several words (`2.484,36 €`, `8 253,90 €`):
        // the longest that reads.
        (end.saturating_sub(2)..=end).find_map(|start| {
            let candidate = words[start..=end].join(" ");
            let digits = candidate.trim_end_matches(|c: char| !c.is_ascii_digit());
            let cents = digits.len() > 3
                && digits.as_bytes()[digits.len() - 3] == marks.decimal as u8
                && digits[digits.len() - 2..]
                    .bytes()
                    .all(|b| b.is_ascii_digit());
            cents.then(|| marks.amount(&candidate)).flatten()
        })
    })
}

/// Words that say "number" between a label and its value (`Facture n°
/// F-1`, `Rechnung Nr. 7`).
const NUMBER_SIGNS: &[&str] = &[
    "n°", "nº", "n.º", "no", "no.", "nr", "nr.", "num", "num.", "número", "numéro", "#",
];

/// A document number in `text`: its first word (after a number sign),
/// when it has a digit.
fn number_in(text: &str) -> Option<String> {
    let first = text
        .split_whitespace()
        .map(|w| {
            w.trim_start_matches([':', '#', '°', 'º', '-', '–', '.'])
                .trim_end_matches([',', ';'])
        })
        .filter(|w| !w.is_empty())
        .find(|w| !NUMBER_SIGNS.contains(&w.to_lowercase().as_str()))?;
    first
        .chars()
        .any(|c| c.is_ascii_digit())
        .then(|| first.to_string())
}

/// What a label gives, right of it or below it, read by `read`; a label
/// with a word just before it (`Due Date`) is not the value's.
fn by_labels<T>(
    pages: &[Page],
    labels: &[&str],
    from_the_end: bool,
    read: impl Fn(&str) -> Option<T>,
) -> Option<(T, At)> {
    for label in labels {
        let mut places: Vec<Labelled> = labelled(pages, label);
        if from_the_end {
            places.reverse();
        }
        for place in places.iter().filter(|p| !p.preceded) {
            for f in [&place.right, &place.below].into_iter().flatten() {
                if let Some(v) = read(&f.text) {
                    return Some((v, At::new(place, f)));
                }
            }
        }
    }
    None
}

/// The money on a label's line, the last place first (totals are at the
/// end): words before the label are allowed (`zzgl. 19 % USt.`) when
/// `preceded` says so. A line in `used` (its page and top) gave another
/// value already (`Handling` of `Shipping & Handling`); the line taken is
/// added to it. A label inside a row of the line table (`Promotional
/// discount` in a description) is not one of the invoice's.
fn money_by_labels(
    pages: &[Page],
    labels: &[&str],
    preceded: bool,
    marks: Marks,
    used: &mut Vec<(u32, i64)>,
    rows: &[(u32, Rect)],
) -> Option<(Decimal, At)> {
    for label in labels {
        for place in labelled(pages, label).iter().rev() {
            let line = (place.label.page, place.label.rect.y0.round() as i64);
            if (place.preceded && !preceded) || used.contains(&line) || in_rows(&place.label, rows)
            {
                continue;
            }
            if let Some(f) = &place.line_rest
                && let Some(v) = money_in(&f.text, marks)
            {
                used.push(line);
                return Some((v, At::new(place, f)));
            }
        }
    }
    None
}

/// Whether `words` are set as one cell's text: no gap between two of them
/// wider than a space can be (`Unit` and `Price` heading two columns are
/// not the label `Unit Price`).
fn one_cell(words: &[crate::format::pdf::Word]) -> bool {
    words.windows(2).all(|w| {
        let em = w[0].font_size.max(w[1].font_size).max(1.0);
        w[1].rect.x0 - w[0].rect.x1 < 0.8 * em
    })
}

/// Whether the table has a column called `name`.
fn has_column(spec: &TableSpec, name: &str) -> bool {
    spec.columns.iter().any(|c| c == name)
}

/// The texts of `row`'s number columns `names` (left to right), each
/// number in its own column: numbers set right-aligned under labels set
/// left-aligned reach into the next column, so a number column that is
/// empty takes the first number of the next one when that has several
/// (`148.00 444.00` under `Total`, nothing under `Price`).
fn unspilled<const N: usize>(
    spec: &TableSpec,
    row: &table::Row,
    names: [&str; N],
    marks: Marks,
) -> [Option<String>; N] {
    let mut texts = names.map(|name| column(spec, row, name).map(|f| f.text.clone()));
    for k in 0..N.saturating_sub(1) {
        if texts[k].is_some() || !has_column(spec, names[k]) {
            continue;
        }
        let Some(next) = texts[k + 1].clone() else {
            continue;
        };
        let words: Vec<&str> = next.split_whitespace().collect();
        let numbers = words.iter().filter(|w| marks.amount(w).is_some()).count();
        if numbers >= 2 && marks.amount(words[0]).is_some() {
            texts[k] = Some(words[0].to_string());
            texts[k + 1] = Some(words[1..].join(" "));
        }
    }
    texts
}

/// The cell of `row` in the column called `name`.
fn column<'r>(spec: &TableSpec, row: &'r table::Row, name: &str) -> Option<&'r Found> {
    spec.columns
        .iter()
        .position(|c| c == name)
        .and_then(|i| row.cells.get(i))
        .and_then(|c| c.as_ref())
}

/// Whether `found` lies on a row of the line table (its vertical middle
/// within a row's box on its page).
fn in_rows(found: &Found, rows: &[(u32, Rect)]) -> bool {
    let middle = (found.rect.y0 + found.rect.y1) / 2.0;
    rows.iter()
        .any(|(page, r)| *page == found.page && middle > r.y0 && middle < r.y1)
}

/// The line table's columns on a header line of `pages`, if one has a
/// quantity, a price or amount, and at least three known columns.
fn table_spec(pages: &[Page]) -> Option<TableSpec> {
    for page in pages {
        for line in lines_of(page) {
            let mut header = Vec::new();
            let mut columns = Vec::new();
            let mut from = 0;
            while from < line.words.len() {
                // The longest label that starts at this word (`Line
                // Total` is an amount, not `Line`; `Qty Ordered` is not
                // the quantity billed).
                let mut best: Option<(usize, &str, &str)> = None;
                for (column, labels) in COLUMNS {
                    if columns.contains(&column.to_string()) {
                        continue;
                    }
                    for label in *labels {
                        if let Some((x0, _, after)) = label_at(&line, label, from)
                            && line.words.get(from).is_some_and(|w| w.rect.x0 >= x0 - 0.01)
                            && one_cell(&line.words[from..after.min(line.words.len())])
                            && best.is_none_or(|(a, l, _)| (after, label.len()) > (a, l.len()))
                        {
                            best = Some((after, label, column));
                        }
                    }
                }
                match best {
                    Some((after, label, column)) => {
                        header.push(label.to_string());
                        columns.push(column.to_string());
                        from = after;
                    }
                    None => from += 1,
                }
            }
            // Only the quantity ordered: it is the quantity billed.
            if !columns.iter().any(|c| c == "quantity")
                && let Some(ordered) = columns.iter_mut().find(|c| *c == "ordered")
            {
                *ordered = "quantity".to_string();
            }
            let has = |c: &str| columns.iter().position(|x| x == c);
            if columns.len() >= 3
                && has("quantity").is_some()
                && (has("unit_price").is_some() || has("amount").is_some())
            {
                let key = has("sku")
                    .or(has("upc"))
                    .or(has("description"))
                    .unwrap_or(0);
                let mut required: Vec<usize> = has("quantity").into_iter().collect();
                required.extend(has("amount").or(has("unit_price")));
                let mut end: Vec<String> = SUBTOTAL.iter().map(|s| s.to_string()).collect();
                end.extend(TOTAL.iter().map(|s| s.to_string()));
                let numeric = ["ordered", "quantity", "backordered", "unit_price", "amount"]
                    .iter()
                    .filter_map(|c| has(c))
                    .collect();
                return Some(TableSpec {
                    header,
                    columns,
                    end,
                    key,
                    required,
                    skip: Vec::new(),
                    numeric,
                });
            }
        }
    }
    None
}

/// Whether `word` looks like an item code: letters and digits (and
/// dashes, dots, slashes), at least one of each, no lower case.
fn looks_like_code(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_alphabetic())
        && !word.chars().any(char::is_lowercase)
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '/' | '_'))
}

/// How sure OCR must be of each word of an identifier (tesseract's
/// confidence, 0 to 100) for it to be taken without a person's look.
pub(crate) const OCR_SURE: f32 = 80.0;

/// How sure OCR is of the least sure word of `found` (the words of its
/// page whose middle is in its box), when that is under [`OCR_SURE`];
/// `None` for a text layer's words and sure ones.
fn ocr_doubt(pages: &[Page], found: &Found) -> Option<f32> {
    let page = pages.iter().find(|p| p.number == found.page)?;
    page.words()
        .filter(|w| {
            let (x, y) = ((w.rect.x0 + w.rect.x1) / 2.0, (w.rect.y0 + w.rect.y1) / 2.0);
            x >= found.rect.x0 && x <= found.rect.x1 && y >= found.rect.y0 && y <= found.rect.y1
        })
        .filter_map(|w| w.confidence)
        .reduce(f32::min)
        .filter(|&c| c < OCR_SURE)
}

/// Differences under a cent are rounding (amounts too far apart to
/// subtract are not close).
fn close(a: Decimal, b: Decimal) -> bool {
    a.checked_sub(b)
        .is_some_and(|d| d.abs() < Decimal::new(1, 2))
}

/// The sum of `values`; `Err(())` when it is past what a decimal holds
/// (amounts of 29 digits, read from whatever a PDF prints).
fn checked_sum(values: impl IntoIterator<Item = Decimal>) -> Result<Decimal, TooLarge> {
    values
        .into_iter()
        .try_fold(Decimal::ZERO, |sum, v| sum.checked_add(v).ok_or(TooLarge))
}

/// Arithmetic past what a decimal holds.
#[derive(Debug)]
struct TooLarge;

/// What says the amounts are too large to be checked.
const TOO_LARGE: &str = "the amounts are too large to add up";

/// The invoices of a file without a template: a page whose invoice
/// number is not the one of the pages before starts another invoice (a
/// page with none goes on with the one before).
pub fn read_all(pages: &[Page]) -> Vec<Reading> {
    let mut runs: Vec<(usize, Option<String>)> = Vec::new();
    for (k, page) in pages.iter().enumerate() {
        let number =
            by_labels(std::slice::from_ref(page), INVOICE_NUMBER, false, number_in).map(|(n, _)| n);
        match (runs.last(), &number) {
            (Some((_, Some(current))), Some(n)) if current != n => runs.push((k, number)),
            (Some((_, None)), Some(_)) => {
                if let Some(last) = runs.last_mut() {
                    last.1 = number;
                }
            }
            (None, _) => runs.push((k, number)),
            _ => {}
        }
    }
    let starts: Vec<usize> = runs.iter().map(|(k, _)| *k).collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, &from)| {
            let to = starts.get(i + 1).copied().unwrap_or(pages.len());
            read(&pages[from..to])
        })
        .collect()
}

/// The invoices of a file without a template, each as [`extract`] reads
/// it.
pub fn extract_all(pages: &[Page]) -> Vec<Result<Invoice, Unsure>> {
    read_all(pages).into_iter().map(|r| r.invoice).collect()
}

/// Reads an invoice from `pages` without a template.
pub fn extract(pages: &[Page]) -> Result<Invoice, Unsure> {
    read(pages).invoice
}

/// Reads an invoice from `pages` without a template, with where each
/// value was found.
pub fn read(pages: &[Page]) -> Reading {
    let words: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.words())
        .map(|w| w.text.as_str())
        .collect();
    let marks = Marks::detect(words.iter().copied());
    let currency = currency_of(&words);
    let dates = date_formats(day_first(&words, marks, currency.as_deref()));
    let mut found = Vec::new();
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    let mut note = |what: &str, value: &dyn std::fmt::Display, at: &At| {
        found.push(format!("{what} {value} ({})", at.describe()));
        seen.push(Seen {
            what: what.to_string(),
            label: at.label.clone(),
            value: at.value.clone(),
        });
    };

    let number = by_labels(pages, INVOICE_NUMBER, false, number_in);
    let date = by_labels(pages, INVOICE_DATE, false, |t| date_in(t, &dates));
    let po = by_labels(pages, PO_NUMBER, false, number_in);
    let terms = by_labels(pages, TERMS, false, |t| {
        (!t.trim().is_empty()).then(|| t.trim().to_string())
    });
    // A due date is labelled so; `Due` qualifying `Date` is what makes it.
    let due = DUE_DATE.iter().find_map(|label| {
        labelled(pages, label).iter().find_map(|place| {
            [&place.right, &place.below]
                .into_iter()
                .flatten()
                .find_map(|f| date_in(&f.text, &dates))
        })
    });
    let read_table = table_spec(pages).map(|spec| {
        let table = table::table(pages, &spec);
        (spec, table)
    });
    let rows: Vec<(u32, Rect)> = read_table
        .iter()
        .flat_map(|(_, t)| t.rows.iter())
        .flat_map(|row| {
            // A row's cells may be on two pages (a row continued).
            let mut boxes: Vec<(u32, Rect)> = Vec::new();
            for cell in row.cells.iter().flatten() {
                match boxes.iter_mut().find(|(p, _)| *p == cell.page) {
                    Some((_, r)) => *r = r.union(&cell.rect),
                    None => boxes.push((cell.page, cell.rect)),
                }
            }
            boxes
        })
        .collect();
    let mut used = Vec::new();
    let total = money_by_labels(pages, TOTAL, false, marks, &mut used, &rows);
    let subtotal = money_by_labels(pages, SUBTOTAL, false, marks, &mut used, &rows);
    if let Some((n, at)) = &number {
        note("invoice number", n, at);
    }
    if let Some((d, at)) = &date {
        note("date", d, at);
    }
    if let Some((p, at)) = &po {
        note("PO number", p, at);
    }
    if let Some((s, at)) = &subtotal {
        note("subtotal", s, at);
    }
    if let Some((t, at)) = &total {
        note("total", t, at);
    }
    let mut charges = Vec::new();
    for (labels, kind, code) in CHARGES {
        if let Some((amount, at)) = money_by_labels(pages, labels, true, marks, &mut used, &rows) {
            note(code, &amount, &at);
            charges.push(Charge {
                kind: Some(*kind),
                code: Some(code.to_string()),
                description: None,
                amount: Some(amount.abs().into()),
            });
        }
    }

    let mut lines = Vec::new();
    match &read_table {
        None => problems
            .push("no line table (a header row with a quantity and a price or amount)".to_string()),
        Some((spec, table)) => {
            let found_cell = |row, name| column(spec, row, name);
            let cell =
                |row: &table::Row, name: &str| column(spec, row, name).map(|f| f.text.clone());
            for (n, row) in table.rows.iter().enumerate() {
                let [quantity_text, price_text, amount_text] =
                    unspilled(spec, row, ["quantity", "unit_price", "amount"], marks);
                let quantity = quantity_text.and_then(|t| amount_in(&t, marks));
                let mut unit_price = price_text.as_deref().and_then(|t| amount_in(t, marks));
                if has_column(spec, "unit_price") && unit_price.is_none() {
                    problems.push(format!("line {}: no unit price", n + 1));
                }
                if quantity.is_none() {
                    problems.push(format!("line {}: no quantity", n + 1));
                }
                // No amount column: the quantity times the price, which
                // the total then checks.
                let amount = match amount_text {
                    Some(t) => amount_in(&t, marks),
                    None => quantity
                        .zip(unit_price)
                        .and_then(|(q, p)| q.checked_mul(p))
                        .map(|a| a.round_dp(2)),
                };
                // A credit line may print its price without the sign its
                // amount has (`1 × 35.00 = (35.00)`).
                if let (Some(q), Some(p), Some(a)) = (quantity, unit_price, amount)
                    && a.is_sign_negative()
                    && p.is_sign_positive()
                    && q.checked_mul(-p).is_some_and(|product| close(product, a))
                {
                    unit_price = Some(-p);
                }
                if let (Some(q), Some(p), Some(a)) = (quantity, unit_price, amount) {
                    match q.checked_mul(p) {
                        Some(product) if !close(product, a) => problems.push(format!(
                            "line {}: {q} × {p} is {}, not {a}",
                            n + 1,
                            product.round_dp(2)
                        )),
                        Some(_) => {}
                        None => problems.push(format!("line {}: {TOO_LARGE}", n + 1)),
                    }
                }
                for what in ["sku", "upc"] {
                    if let Some(code) = found_cell(row, what)
                        && let Some(sure) = ocr_doubt(pages, code)
                    {
                        problems.push(format!(
                            "line {}: OCR is not sure of the {} {:?} ({sure:.0}% sure)",
                            n + 1,
                            if what == "sku" { "item" } else { "UPC" },
                            code.text
                        ));
                    }
                }
                lines.push(InvoiceLine {
                    line_number: cell(row, "line"),
                    sku: cell(row, "sku"),
                    upc: cell(row, "upc"),
                    description: cell(row, "description"),
                    quantity: quantity.map(Into::into),
                    uom: cell(row, "uom"),
                    unit_price: unit_price.map(Into::into),
                    amount: amount.map(Into::into),
                    ..InvoiceLine::default()
                });
            }
            // An "Item" column of names, and no description column: they
            // are descriptions.
            if !spec.columns.iter().any(|c| c == "description") {
                for line in &mut lines {
                    if line.sku.as_deref().is_some_and(|s| s.contains(' ')) {
                        line.description = line.sku.take();
                    }
                }
            }
            // No item column: a code that starts the description (letters
            // and digits, no lower case: `CCP-TRT-250`) is the item.
            if !spec.columns.iter().any(|c| c == "sku") {
                for line in &mut lines {
                    if let Some(description) = &line.description
                        && let Some((first, rest)) = description.split_once(' ')
                        && looks_like_code(first)
                    {
                        line.sku = Some(first.to_string());
                        line.description = Some(rest.to_string());
                    }
                }
            }
            found.push(format!("{} line(s)", lines.len()));
            if lines.is_empty() {
                problems.push("no line in the line table".to_string());
            }
        }
    }

    if number.is_none() {
        problems.push("no invoice number".into());
    }
    // Numbers are checked by the arithmetic; what identifies the invoice is
    // not, so OCR must be sure of it.
    for (what, read) in [("invoice number", &number), ("PO number", &po)] {
        if let Some((text, at)) = read
            && let Some(sure) = ocr_doubt(pages, &at.value)
        {
            problems.push(format!(
                "OCR is not sure of the {what} {text:?} ({sure:.0}% sure)"
            ));
        }
    }
    if date.is_none() {
        problems.push("no invoice date".into());
    }
    'total: {
        let Some((total, _)) = &total else {
            problems.push("no total".into());
            break 'total;
        };
        {
            let amounts: Option<Vec<Decimal>> =
                lines.iter().map(|l| l.amount.map(|a| a.get())).collect();
            let line_sum = amounts.map(checked_sum).transpose();
            let extra = checked_sum(charges.iter().map(|c| {
                let a = c.amount.map_or(Decimal::ZERO, |a| a.get());
                match c.kind {
                    Some(ChargeKind::Allowance) => -a,
                    _ => a,
                }
            }));
            let (Ok(line_sum), Ok(extra)) = (line_sum, extra) else {
                problems.push(TOO_LARGE.into());
                break 'total;
            };
            let base = subtotal.as_ref().map(|(s, _)| *s).or(line_sum);
            if let (Some(sum), Some((sub, _))) = (line_sum, &subtotal)
                && !lines.is_empty()
                && !close(sum, *sub)
            {
                problems.push(format!(
                    "the lines add up to {sum}, the subtotal says {sub}"
                ));
            }
            match base.map(|b| (b, b.checked_add(extra))) {
                Some((base, Some(sum))) if !close(sum, *total) => problems.push(format!(
                    "{} {base} plus charges less allowances ({extra}) is {sum}, the total says {total}",
                    if subtotal.is_some() { "the subtotal" } else { "the lines'" },
                )),
                Some((_, None)) => problems.push(TOO_LARGE.into()),
                None => problems.push("no amount on some lines, so the total cannot be checked".into()),
                Some(_) => {}
            }
        }
    }
    if !problems.is_empty() {
        return Reading {
            invoice: Err(Unsure { found, problems }),
            seen,
            table: read_table,
        };
    }
    let invoice = Invoice {
        source: Source {
            format: SourceFormat::Pdf,
            extraction: Some(
                match pages
                    .iter()
                    .any(|p| p.source == crate::format::pdf::TextSource::Ocr)
                {
                    true => Extraction::Ocr,
                    false => Extraction::Generic,
                },
            ),
            ..Source::default()
        },
        invoice_number: number.map(|(n, _)| n).unwrap_or_default(),
        invoice_date: date.map(|(d, _)| d),
        po_number: po.map(|(p, _)| p),
        terms: (terms.is_some() || due.is_some()).then(|| Terms {
            description: terms.map(|(t, _)| t),
            due_date: due,
            ..Terms::default()
        }),
        currency,
        vendor: vendor_name(pages).map(|name| Party {
            name: Some(name),
            ..Party::default()
        }),
        bill_to: address::party(pages, address::BILL_TO).map(Box::new),
        ship_to: address::party(pages, address::SHIP_TO).map(Box::new),
        subtotal: subtotal.map(|(s, _)| s.into()),
        lines,
        charges,
        total_amount: total.map(|(t, _)| t.into()),
        ..Invoice::default()
    };
    Reading {
        invoice: Ok(invoice),
        seen,
        table: read_table,
    }
}

/// The currency the amounts are in, from the signs and codes printed with
/// them, when they all say the same.
fn currency_of(words: &[&str]) -> Option<String> {
    const SIGNS: &[(&str, &str)] = &[
        ("€", "EUR"),
        ("EUR", "EUR"),
        ("£", "GBP"),
        ("GBP", "GBP"),
        ("CHF", "CHF"),
        ("CAD", "CAD"),
        ("C$", "CAD"),
        ("USD", "USD"),
        ("US$", "USD"),
        ("$", "USD"),
    ];
    let mut found: Option<&str> = None;
    for w in words {
        let sign = SIGNS.iter().find(|(s, _)| w.contains(s)).map(|(_, c)| *c);
        match (found, sign) {
            (_, None) => {}
            (None, Some(c)) => found = Some(c),
            (Some(f), Some(c)) if f == c => {}
            (Some(_), Some(_)) => return None,
        }
    }
    found.map(str::to_string)
}

/// Words that title an invoice, not name its vendor.
const TITLES: &[&str] = &["invoice", "rechnung", "facture", "factura", "tax invoice"];

/// The vendor's name as an invoice prints it: the line in the largest
/// letters on the top quarter of the first page, the document's title
/// aside.
fn vendor_name(pages: &[Page]) -> Option<String> {
    let page = pages.first()?;
    // The lines of the blocks, not the rows of the page: a title or an
    // invoice number set on the vendor's row, in another column, is not
    // part of its name.
    page.blocks
        .iter()
        .flat_map(|b| b.lines.iter().cloned())
        .filter(|l| l.rect.y1 <= page.height / 4.0)
        .filter(|l| {
            let text = crate::format::pdf::locate::line_text(l).to_lowercase();
            // A line that starts with a title is the title, or a label
            // (`Invoice #`, `Facture n°`).
            let first = l.words.first().map(|w| w.text.to_lowercase());
            let a_label = [INVOICE_NUMBER, INVOICE_DATE, PO_NUMBER, TERMS]
                .iter()
                .flat_map(|labels| labels.iter())
                .any(|label| label_at(l, label, 0).is_some());
            !TITLES.contains(&text.trim())
                && !a_label
                && !first.is_some_and(|f| TITLES.contains(&f.as_str()))
                && l.words
                    .iter()
                    .any(|w| w.text.chars().any(char::is_alphabetic))
                && !l
                    .words
                    .iter()
                    .any(|w| w.text.chars().any(|c| c.is_ascii_digit()))
        })
        .max_by(|a, b| {
            let size = |l: &crate::format::pdf::Line| {
                l.words.iter().map(|w| w.font_size).fold(0.0, f64::max)
            };
            size(a)
                .total_cmp(&size(b))
                .then(b.rect.y0.total_cmp(&a.rect.y0))
        })
        .map(|l| {
            let words: Vec<&str> = l
                .words
                .iter()
                .map(|w| w.text.as_str())
                .filter(|w| !TITLES.contains(&w.to_lowercase().as_str()))
                .collect();
            words.join(" ")
        })
        .filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::pdf::locate::tests::page;

    /// A German invoice with no template.
    fn rechnung(total: &str) -> Vec<Page> {
        vec![page(
            1,
            &[
                (
                    40.0,
                    &[("Nordwind", 50.0), ("Handel", 110.0), ("GmbH", 160.0)],
                ),
                (
                    70.0,
                    &[("Rechnungsnummer:", 50.0), ("RE-2026-10482", 160.0)],
                ),
                (85.0, &[("Rechnungsdatum:", 50.0), ("15.11.2026", 160.0)]),
                (
                    100.0,
                    &[("Ihre", 50.0), ("Bestellung:", 78.0), ("PM-1001", 160.0)],
                ),
                (
                    130.0,
                    &[
                        ("Pos.", 50.0),
                        ("Artikel", 80.0),
                        ("Bezeichnung", 150.0),
                        ("Menge", 300.0),
                        ("Einzelpreis", 360.0),
                        ("Betrag", 460.0),
                    ],
                ),
                (
                    145.0,
                    &[
                        ("1", 50.0),
                        ("NW-100", 80.0),
                        ("Wanderschuh", 150.0),
                        ("2", 306.0),
                        ("1.234,50", 366.0),
                        ("2.469,00", 460.0),
                    ],
                ),
                (
                    160.0,
                    &[
                        ("2", 50.0),
                        ("NW-200", 80.0),
                        ("Socken", 150.0),
                        ("10", 306.0),
                        ("4,90", 384.0),
                        ("49,00", 472.0),
                    ],
                ),
                (190.0, &[("Zwischensumme", 360.0), ("2.518,00", 460.0)]),
                (205.0, &[("Versand", 360.0), ("12,00", 472.0)]),
                (220.0, &[("Gesamtbetrag", 360.0), (total, 460.0)]),
            ],
        )]
    }

    #[test]
    fn an_invoice_that_adds_up_is_read_without_a_template() {
        let invoice = extract(&rechnung("2.530,00 €")).expect("read");
        assert_eq!(invoice.invoice_number, "RE-2026-10482");
        assert_eq!(invoice.invoice_date, NaiveDate::from_ymd_opt(2026, 11, 15));
        assert_eq!(invoice.po_number.as_deref(), Some("PM-1001"));
        assert_eq!(
            invoice.total_amount.map(|t| t.to_string()),
            Some("2530.00".into())
        );
        assert_eq!(invoice.lines.len(), 2);
        let first = &invoice.lines[0];
        assert_eq!(first.sku.as_deref(), Some("NW-100"));
        assert_eq!(first.line_number.as_deref(), Some("1"));
        assert_eq!(first.quantity.map(|q| q.to_string()), Some("2".into()));
        assert_eq!(
            first.unit_price.map(|q| q.to_string()),
            Some("1234.50".into())
        );
        assert_eq!(invoice.charges.len(), 1);
        assert_eq!(invoice.charges[0].code.as_deref(), Some("freight"));
        assert_eq!(invoice.source.extraction, Some(Extraction::Generic));
        assert_eq!(
            invoice.subtotal.map(|s| s.to_string()),
            Some("2518.00".into())
        );
        assert_eq!(
            invoice.vendor.and_then(|v| v.name).as_deref(),
            Some("Nordwind Handel GmbH")
        );
    }

    #[test]
    fn an_invoice_that_does_not_add_up_is_left_for_a_person() {
        let unsure = extract(&rechnung("2.630,00 €")).expect_err("refused");
        assert_eq!(unsure.problems.len(), 1, "{unsure:?}");
        assert!(
            unsure.problems[0].contains("the total says 2630.00"),
            "{unsure}"
        );
        assert!(
            unsure.found.iter().any(|f| f.contains("RE-2026-10482")),
            "{unsure}"
        );
        let blank = vec![page(1, &[(40.0, &[("Thank", 50.0), ("you", 90.0)])])];
        let unsure = extract(&blank).expect_err("refused");
        for missing in [
            "no invoice number",
            "no invoice date",
            "no total",
            "no line table",
        ] {
            assert!(
                unsure.problems.iter().any(|p| p.contains(missing)),
                "{unsure}"
            );
        }
    }

    #[test]
    fn a_short_invoice_without_an_amount_column() {
        // A date right after a number, an item named in words, the amount
        // the quantity times the price, checked by the total.
        let pages = vec![page(
            1,
            &[
                (
                    40.0,
                    &[
                        ("Invoice", 50.0),
                        ("#", 96.0),
                        ("NS-88", 110.0),
                        ("Date:", 146.0),
                        ("15.11.2026", 178.0),
                    ],
                ),
                (70.0, &[("Item", 50.0), ("Qty", 150.0), ("Price", 200.0)]),
                (
                    85.0,
                    &[
                        ("Kaffe", 50.0),
                        ("filter", 86.0),
                        ("2", 156.0),
                        ("1.234,50", 200.0),
                        ("€", 250.0),
                    ],
                ),
                (
                    110.0,
                    &[
                        ("Total", 50.0),
                        ("due:", 82.0),
                        ("2.469,00", 120.0),
                        ("€", 170.0),
                    ],
                ),
            ],
        )];
        let invoice = extract(&pages).expect("read");
        assert_eq!(invoice.invoice_date, NaiveDate::from_ymd_opt(2026, 11, 15));
        let line = &invoice.lines[0];
        assert_eq!(line.description.as_deref(), Some("Kaffe filter"));
        assert_eq!(line.sku, None);
        assert_eq!(line.amount.map(|a| a.to_string()), Some("2469.00".into()));
    }

    #[test]
    fn amounts_too_large_to_multiply_or_add_are_left_for_a_person() {
        // Two of them are past the largest decimal (7.9e28).
        let big = "50000000000000000000000000000";
        let huge = "1000000000000000";
        let pages = vec![page(
            1,
            &[
                (70.0, &[("Invoice", 50.0), ("#", 92.0), ("INV-9", 110.0)]),
                (85.0, &[("Date:", 50.0), ("11/15/2026", 110.0)]),
                (
                    130.0,
                    &[
                        ("Item", 50.0),
                        ("Qty", 150.0),
                        ("Price", 300.0),
                        ("Amount", 480.0),
                    ],
                ),
                (
                    145.0,
                    &[("A-1", 50.0), (huge, 150.0), (huge, 300.0), ("1.00", 480.0)],
                ),
                (
                    160.0,
                    &[("A-2", 50.0), ("1", 150.0), ("2.00", 300.0), (big, 420.0)],
                ),
                (
                    175.0,
                    &[("A-3", 50.0), ("1", 150.0), ("2.00", 300.0), (big, 420.0)],
                ),
                (205.0, &[("Total", 360.0), ("1.00", 480.0)]),
            ],
        )];
        let unsure = extract(&pages).expect_err("refused");
        assert!(
            unsure
                .problems
                .iter()
                .any(|p| p == &format!("line 1: {TOO_LARGE}")),
            "{unsure}"
        );
        assert!(unsure.problems.iter().any(|p| p == TOO_LARGE), "{unsure}");
    }

    #[test]
    fn a_due_date_is_not_the_invoice_date() {
        let pages = vec![page(
            1,
            &[
                (
                    40.0,
                    &[("Due", 50.0), ("Date:", 72.0), ("12/15/2026", 110.0)],
                ),
                (55.0, &[("Date:", 50.0), ("11/15/2026", 110.0)]),
            ],
        )];
        let dates = date_formats(false);
        let (d, _) =
            by_labels(&pages, INVOICE_DATE, false, |t| date_in(t, &dates)).expect("a date");
        assert_eq!(d, NaiveDate::from_ymd_opt(2026, 11, 15).expect("date"));
    }

    /// The amounts of `invoice`'s charges by code, allowances negative.
    fn charges_of(invoice: &Invoice) -> Vec<(String, String)> {
        invoice
            .charges
            .iter()
            .map(|c| {
                let a = c.amount.map(|a| a.get()).unwrap_or_default();
                let a = match c.kind {
                    Some(ChargeKind::Allowance) => -a,
                    _ => a,
                };
                (c.code.clone().unwrap_or_default(), a.to_string())
            })
            .collect()
    }

    #[test]
    fn labels_of_other_vendors_quantities_with_units_and_a_fuel_surcharge() {
        let pages = vec![page(
            1,
            &[
                (40.0, &[("Tidewater", 50.0), ("Supply", 110.0)]),
                (
                    55.0,
                    &[("Bill", 350.0), ("Number:", 380.0), ("TFS-1", 450.0)],
                ),
                (
                    70.0,
                    &[("Bill", 350.0), ("Date:", 380.0), ("11/12/2026", 450.0)],
                ),
                (
                    85.0,
                    &[("Customer", 350.0), ("PO:", 404.0), ("BHO-7", 450.0)],
                ),
                (
                    120.0,
                    &[
                        ("#", 40.0),
                        ("Item/Part", 58.0),
                        ("#", 116.0),
                        ("Description", 150.0),
                        ("Qty", 300.0),
                        ("Unit", 380.0),
                        ("Price", 410.0),
                        ("Ext.", 480.0),
                        ("Amount", 510.0),
                    ],
                ),
                (
                    135.0,
                    &[
                        ("1", 40.0),
                        ("TF-HB-0516", 58.0),
                        ("Hex", 150.0),
                        ("bolt", 174.0),
                        ("12", 298.0),
                        ("EA", 316.0),
                        ("14.20", 410.0),
                        ("170.40", 510.0),
                    ],
                ),
                (
                    150.0,
                    &[
                        ("2", 40.0),
                        ("TF-WN-0516", 58.0),
                        ("Wing", 150.0),
                        ("nut", 180.0),
                        ("3,000", 286.0),
                        ("pcs", 316.0),
                        ("0.0425", 410.0),
                        ("127.50", 510.0),
                    ],
                ),
                (180.0, &[("Subtotal", 400.0), ("$297.90", 510.0)]),
                (195.0, &[("Freight", 400.0), ("$38.50", 510.0)]),
                (
                    210.0,
                    &[("Fuel", 400.0), ("Surcharge", 430.0), ("$4.25", 510.0)],
                ),
                (
                    225.0,
                    &[
                        ("Sales", 400.0),
                        ("Tax", 436.0),
                        ("(7.25%)", 460.0),
                        ("$24.70", 510.0),
                    ],
                ),
                (
                    240.0,
                    &[("Invoice", 400.0), ("Total", 448.0), ("$365.35", 510.0)],
                ),
            ],
        )];
        let invoice = extract(&pages).expect("read");
        assert_eq!(invoice.invoice_number, "TFS-1");
        assert_eq!(invoice.invoice_date, NaiveDate::from_ymd_opt(2026, 11, 12));
        assert_eq!(invoice.po_number.as_deref(), Some("BHO-7"));
        let lines: Vec<_> = invoice
            .lines
            .iter()
            .map(|l| {
                (
                    l.line_number.clone().unwrap_or_default(),
                    l.sku.clone().unwrap_or_default(),
                    l.quantity.map(|q| q.to_string()).unwrap_or_default(),
                    l.unit_price.map(|q| q.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("1".into(), "TF-HB-0516".into(), "12".into(), "14.20".into()),
                (
                    "2".into(),
                    "TF-WN-0516".into(),
                    "3000".into(),
                    "0.0425".into()
                ),
            ]
        );
        assert_eq!(
            charges_of(&invoice),
            [
                ("freight".to_string(), "38.50".to_string()),
                ("fuel_surcharge".into(), "4.25".into()),
                ("tax".into(), "24.70".into()),
            ]
        );
    }

    #[test]
    fn a_charge_word_in_a_description_and_a_credit_line_with_an_unsigned_price() {
        let pages = vec![page(
            1,
            &[
                (40.0, &[("INVOICE", 50.0), ("NO.", 100.0), ("LPS-1", 130.0)]),
                (55.0, &[("DATE", 50.0), ("11/13/2026", 90.0)]),
                (
                    90.0,
                    &[
                        ("ITEM", 50.0),
                        ("#", 80.0),
                        ("DESCRIPTION", 120.0),
                        ("QTY", 330.0),
                    ],
                ),
                (90.0, &[("PRICE", 400.0), ("TOTAL", 480.0)]),
                (
                    105.0,
                    &[
                        ("LP-BED-L", 50.0),
                        ("Dog", 120.0),
                        ("bed", 144.0),
                        ("4", 342.0),
                        ("64.00", 400.0),
                        ("256.00", 480.0),
                    ],
                ),
                (
                    120.0,
                    &[
                        ("PROMO-10", 50.0),
                        ("Promotional", 120.0),
                        ("discount", 192.0),
                        ("1", 342.0),
                        ("35.00", 400.0),
                        ("(35.00)", 474.0),
                    ],
                ),
                (150.0, &[("SUBTOTAL", 400.0), ("221.00", 480.0)]),
                (
                    165.0,
                    &[("HANDLING", 360.0), ("FEE", 414.0), ("6.00", 486.0)],
                ),
                (
                    180.0,
                    &[("TOTAL", 400.0), ("DUE", 436.0), ("$227.00", 474.0)],
                ),
            ],
        )];
        let invoice = extract(&pages).expect("read");
        assert_eq!(
            charges_of(&invoice),
            [("handling".to_string(), "6.00".to_string())]
        );
        let credit = &invoice.lines[1];
        assert_eq!(
            credit.unit_price.map(|p| p.to_string()),
            Some("-35.00".into())
        );
        assert_eq!(credit.amount.map(|p| p.to_string()), Some("-35.00".into()));
    }

    #[test]
    fn numbers_under_left_aligned_headings_and_a_header_set_as_a_table() {
        let pages = vec![page(
            1,
            &[
                (40.0, &[("Fernhill", 50.0), ("Linen", 110.0)]),
                (
                    60.0,
                    &[
                        ("Rechnungs-Nr.", 300.0),
                        ("Datum", 390.0),
                        ("Ihre", 460.0),
                        ("Bestellnummer", 490.0),
                    ],
                ),
                // The date reaches past where the next column's label
                // starts, less a column gap; it is not the PO number.
                (
                    75.0,
                    &[
                        ("R-4418/26", 300.0),
                        ("12.11.2026", 390.0),
                        ("BHO-PO-80214", 460.0),
                    ],
                ),
                (
                    110.0,
                    &[
                        ("Nº", 40.0),
                        ("Item", 60.0),
                        ("#", 90.0),
                        ("Qty", 300.0),
                        ("Unit", 340.0),
                        ("Price", 380.0),
                        ("Total", 440.0),
                    ],
                ),
                // Numbers set right-aligned in cells whose headings are
                // set left: `3` right of `Qty`, `148,00` under `Total`.
                (
                    125.0,
                    &[
                        ("1", 40.0),
                        ("FL-SHT-Q", 60.0),
                        ("3", 327.0),
                        ("EA", 340.0),
                        ("148,00", 416.0),
                        ("444,00", 470.0),
                    ],
                ),
                (
                    140.0,
                    &[
                        ("2", 40.0),
                        ("FL-PIL-ST", 60.0),
                        ("6", 327.0),
                        ("PR", 340.0),
                        ("32,00", 422.0),
                        ("192,00", 470.0),
                    ],
                ),
                (170.0, &[("Gesamtbetrag", 380.0), ("636,00", 470.0)]),
            ],
        )];
        let invoice = extract(&pages).expect("read");
        assert_eq!(invoice.invoice_number, "R-4418/26");
        assert_eq!(invoice.invoice_date, NaiveDate::from_ymd_opt(2026, 11, 12));
        assert_eq!(invoice.po_number.as_deref(), Some("BHO-PO-80214"));
        let lines: Vec<_> = invoice
            .lines
            .iter()
            .map(|l| {
                [
                    l.line_number.clone(),
                    l.sku.clone(),
                    l.quantity.map(|q| q.to_string()),
                    l.uom.clone(),
                    l.unit_price.map(|q| q.to_string()),
                    l.amount.map(|q| q.to_string()),
                ]
                .map(Option::unwrap_or_default)
            })
            .collect();
        assert_eq!(
            lines,
            [
                ["1", "FL-SHT-Q", "3", "EA", "148.00", "444.00"].map(String::from),
                ["2", "FL-PIL-ST", "6", "PR", "32.00", "192.00"].map(String::from),
            ]
        );
    }

    #[test]
    fn a_price_that_cannot_be_told_from_the_amount_is_left_for_a_person() {
        let pages = vec![page(
            1,
            &[
                (40.0, &[("Invoice", 50.0), ("#", 96.0), ("A-1", 110.0)]),
                (55.0, &[("Date:", 50.0), ("11/15/2026", 90.0)]),
                (
                    90.0,
                    &[
                        ("SKU", 50.0),
                        ("Qty", 300.0),
                        ("Price", 380.0),
                        ("Amount", 440.0),
                    ],
                ),
                (105.0, &[("AB-1", 50.0), ("2", 306.0), ("10.00", 460.0)]),
                (140.0, &[("Total", 380.0), ("10.00", 460.0)]),
            ],
        )];
        let unsure = extract(&pages).expect_err("refused");
        assert!(
            unsure.problems.iter().any(|p| p == "line 1: no unit price"),
            "{unsure}"
        );
    }

    #[test]
    fn the_order_of_day_and_month_comes_from_the_dates_then_the_currency() {
        let marks = Marks::default();
        assert!(day_first(&["04/11/2026", "£12.00"], marks, Some("GBP")));
        assert!(!day_first(&["04/11/2026", "$12.00"], marks, Some("USD")));
        assert!(day_first(&["04/11/2026", "15/11/2026"], marks, Some("USD")));
        assert!(!day_first(
            &["04/11/2026", "11/15/2026"],
            marks,
            Some("EUR")
        ));
        assert!(!day_first(&["04/11/2026"], marks, None));
        let dates = date_formats(true);
        assert_eq!(
            date_in("04/11/2026", &dates),
            NaiveDate::from_ymd_opt(2026, 11, 4)
        );
    }

    #[test]
    fn month_names_in_french_spanish_and_german() {
        let dates = date_formats(true);
        for (text, day) in [
            ("15 novembre 2026", 15),
            ("14 de noviembre de 2026", 14),
            ("3. November 2026", 3),
        ] {
            assert_eq!(
                date_in(text, &dates),
                NaiveDate::from_ymd_opt(2026, 11, day),
                "{text}"
            );
        }
        assert_eq!(
            date_in("2 März 2026", &dates),
            NaiveDate::from_ymd_opt(2026, 3, 2)
        );
    }

    #[test]
    fn an_identifier_ocr_is_unsure_of_is_left_for_a_person() {
        let mut pages = rechnung("2.530,00 €");
        pages[0].source = crate::format::pdf::TextSource::Ocr;
        for block in &mut pages[0].blocks {
            for line in &mut block.lines {
                for w in &mut line.words {
                    w.confidence = Some(if w.text == "PM-1001" { 71.0 } else { 95.0 });
                }
            }
        }
        let unsure = extract(&pages).expect_err("refused");
        assert_eq!(
            unsure.problems,
            ["OCR is not sure of the PO number \"PM-1001\" (71% sure)"]
        );
        for block in &mut pages[0].blocks {
            for line in &mut block.lines {
                for w in &mut line.words {
                    w.confidence = Some(95.0);
                }
            }
        }
        let invoice = extract(&pages).expect("read");
        assert_eq!(invoice.source.extraction, Some(Extraction::Ocr));
    }

    /// The (SKU, quantity, unit price, amount) of each line.
    fn line_values(invoice: &Invoice) -> Vec<[String; 4]> {
        invoice
            .lines
            .iter()
            .map(|l| {
                [
                    l.sku.clone(),
                    l.quantity.map(|q| q.to_string()),
                    l.unit_price.map(|q| q.to_string()),
                    l.amount.map(|q| q.to_string()),
                ]
                .map(Option::unwrap_or_default)
            })
            .collect()
    }

    #[test]
    fn the_quantity_shipped_is_billed_and_line_total_is_an_amount() {
        let pages = vec![page(
            1,
            &[
                (40.0, &[("Invoice", 50.0), ("#", 96.0), ("SR-1", 110.0)]),
                (55.0, &[("Date:", 50.0), ("11/15/2026", 90.0)]),
                (
                    90.0,
                    &[
                        ("Item", 40.0),
                        ("Qty", 200.0),
                        ("Ordered", 220.0),
                        ("Qty", 280.0),
                        ("Shipped", 300.0),
                        ("B/O", 360.0),
                        ("Price", 400.0),
                        ("Line", 460.0),
                        ("Total", 488.0),
                    ],
                ),
                // `6` ends where the shipped quantities end, its middle
                // right of the middle between `Shipped` and `B/O`.
                (
                    105.0,
                    &[
                        ("SR-FLC-M", 40.0),
                        ("10", 244.0),
                        ("10", 344.0),
                        ("0", 380.0),
                        ("38.00", 400.0),
                        ("380.00", 480.0),
                    ],
                ),
                (
                    120.0,
                    &[
                        ("SR-FLC-L", 40.0),
                        ("10", 244.0),
                        ("6", 350.0),
                        ("4", 380.0),
                        ("38.00", 400.0),
                        ("228.00", 480.0),
                    ],
                ),
                (
                    135.0,
                    &[
                        ("SR-BEA", 40.0),
                        ("12", 244.0),
                        ("12", 344.0),
                        ("0", 380.0),
                        ("12.50", 400.0),
                        ("150.00", 480.0),
                    ],
                ),
                (165.0, &[("Total", 400.0), ("758.00", 480.0)]),
            ],
        )];
        let invoice = extract(&pages).expect("read");
        assert_eq!(
            line_values(&invoice),
            [
                ["SR-FLC-M", "10", "38.00", "380.00"].map(String::from),
                ["SR-FLC-L", "6", "38.00", "228.00"].map(String::from),
                ["SR-BEA", "12", "12.50", "150.00"].map(String::from),
            ]
        );
    }

    #[test]
    fn a_page_subtotal_does_not_end_a_table_that_goes_on() {
        let header: &[(&str, f64)] = &[
            ("SKU", 40.0),
            ("Qty", 300.0),
            ("Price", 380.0),
            ("Amount", 460.0),
        ];
        let first = page(
            1,
            &[
                (40.0, &[("Invoice", 50.0), ("#", 96.0), ("GW-1", 110.0)]),
                (55.0, &[("Date:", 50.0), ("11/15/2026", 90.0)]),
                (90.0, header),
                (
                    105.0,
                    &[
                        ("GW-1000", 40.0),
                        ("2", 306.0),
                        ("10.00", 380.0),
                        ("20.00", 460.0),
                    ],
                ),
                (
                    125.0,
                    &[("Page", 40.0), ("Subtotal", 70.0), ("20.00", 460.0)],
                ),
                (
                    700.0,
                    &[("Continued", 250.0), ("on", 310.0), ("next", 330.0)],
                ),
            ],
        );
        let second = page(
            2,
            &[
                (40.0, &[("Page", 50.0), ("2", 80.0)]),
                (90.0, header),
                (
                    105.0,
                    &[("Carried", 40.0), ("Forward", 86.0), ("20.00", 460.0)],
                ),
                (
                    120.0,
                    &[
                        ("GW-1001", 40.0),
                        ("1", 306.0),
                        ("5.00", 380.0),
                        ("5.00", 466.0),
                    ],
                ),
                (150.0, &[("Subtotal", 380.0), ("25.00", 460.0)]),
                (165.0, &[("Total", 380.0), ("25.00", 460.0)]),
            ],
        );
        let invoice = extract(&[first, second]).expect("read");
        assert_eq!(
            line_values(&invoice),
            [
                ["GW-1000", "2", "10.00", "20.00"].map(String::from),
                ["GW-1001", "1", "5.00", "5.00"].map(String::from),
            ]
        );
        assert_eq!(
            invoice.subtotal.map(|s| s.to_string()),
            Some("25.00".into())
        );
    }
}
