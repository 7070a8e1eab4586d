//! `address`: a name-and-address block as an invoice prints it (`Bill
//! To`, `Ship To`, `Lieferadresse`, ...) found on a PDF's pages and read
//! into a [`Party`]: the lines under the label (or right of it) in its
//! column, up to a gap, another label or the column's end; the first line
//! is the name, a line with no digit before the street is an attention
//! line, the last is the city line (`Columbus, OH 43219`, `50668 Köln`),
//! and a country's name after it becomes its code.

use crate::format::pdf::locate::{COLUMN_GAP_EMS, label_at, lines_of};
use crate::format::pdf::{Line, Page, Word};
use crate::model::Party;

use super::generic::OCR_SURE;

/// Labels of the party billed.
pub const BILL_TO: &[&str] = &[
    "Bill To",
    "Billed To",
    "Sold To",
    "Invoice To",
    "Invoice Address",
    "Billing Address",
    "Rechnungsadresse",
    "Rechnungsanschrift",
    "Rechnungsempfänger",
    "Facturer à",
    "Facturé à",
    "Adresse de facturation",
    "Facturar a",
    "Dirección de facturación",
];

/// Labels of where the goods went.
pub const SHIP_TO: &[&str] = &[
    "Ship To",
    "Shipped To",
    "Deliver To",
    "Delivered To",
    "Delivery Address",
    "Shipping Address",
    "Lieferadresse",
    "Lieferanschrift",
    "Livrer à",
    "Livré à",
    "Adresse de livraison",
    "Enviar a",
    "Entregar a",
    "Dirección de envío",
    "Dirección de entrega",
];

/// Labels that start another block (a block ends before them).
const OTHER: &[&str] = &[
    "Remit To",
    "Remit",
    "Pay To",
    "Payable To",
    "Invoice",
    "Terms",
    "Rechnung",
    "Facture",
    "Factura",
];

/// A block has at most this many lines (name, attention, two street
/// lines, city, country).
const MOST_LINES: usize = 6;

/// Country names as invoices print them, and their ISO 3166 codes.
const COUNTRIES: &[(&str, &str)] = &[
    ("usa", "US"),
    ("united states", "US"),
    ("united states of america", "US"),
    ("canada", "CA"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("deutschland", "DE"),
    ("germany", "DE"),
    ("österreich", "AT"),
    ("austria", "AT"),
    ("schweiz", "CH"),
    ("suisse", "CH"),
    ("switzerland", "CH"),
    ("france", "FR"),
    ("belgique", "BE"),
    ("belgium", "BE"),
    ("españa", "ES"),
    ("spain", "ES"),
    ("italia", "IT"),
    ("italy", "IT"),
    ("nederland", "NL"),
    ("netherlands", "NL"),
    ("portugal", "PT"),
    ("méxico", "MX"),
    ("mexico", "MX"),
];

/// The party under the first of `labels` on the first page that has one.
/// From OCR, marks it is unsure of that are no letter or digit (`;`, `©`
/// of dust) are left out, and a block with a word it is unsure of is not
/// read at all: nothing checks an address as the arithmetic checks the
/// amounts.
pub fn party(pages: &[Page], labels: &[&str]) -> Option<Party> {
    pages.iter().find_map(|page| {
        let unsure = |w: &Word| w.confidence.is_some_and(|c| c < OCR_SURE);
        let lines: Vec<Line> = lines_of(page)
            .into_iter()
            .map(|mut line| {
                line.words
                    .retain(|w| !unsure(w) || w.text.chars().any(char::is_alphanumeric));
                line
            })
            .collect();
        lines.iter().enumerate().find_map(|(k, line)| {
            labels
                .iter()
                .find_map(|label| label_at(line, label, 0).map(|at| (at, *label)))
                .and_then(|(at, _)| block(&lines, k, at))
                .filter(|(_, words)| !words.iter().any(&unsure))
                .and_then(|(texts, _)| read(&texts))
        })
    })
}

/// The lines of the block whose label is on `lines[k]` at `(x0, x1,
/// after)`, and their words.
fn block(
    lines: &[Line],
    k: usize,
    (x0, _, after): (f64, f64, usize),
) -> Option<(Vec<String>, Vec<Word>)> {
    let line = &lines[k];
    let em = line
        .words
        .get(after.saturating_sub(1))
        .map_or(10.0, |w| w.font_size.max(1.0));
    let gap = COLUMN_GAP_EMS * em;
    // The words right of the label up to the next column, and where that
    // column starts: the block's right edge.
    let mut right_edge = f64::INFINITY;
    let mut first: Vec<&Word> = Vec::new();
    let mut last_x = line.words.get(after.saturating_sub(1)).map(|w| w.rect.x1);
    for w in &line.words[after..] {
        if last_x.is_some_and(|x| w.rect.x0 - x > gap) {
            if first.is_empty() && w.rect.x0 - last_x.unwrap_or(w.rect.x0) < 4.0 * gap {
                // A value set off to the right of its label.
                first.push(w);
                last_x = Some(w.rect.x1);
                continue;
            }
            right_edge = w.rect.x0 - gap / 2.0;
            break;
        }
        first.push(w);
        last_x = Some(w.rect.x1);
    }
    let left_edge = x0 - gap;
    let mut texts: Vec<String> = Vec::new();
    let mut all: Vec<Word> = first.iter().map(|w| (*w).clone()).collect();
    if !first.is_empty() {
        texts.push(join(&first));
    }
    let mut bottom = line.rect.y1;
    let mut height = line.rect.height().max(1.0);
    for below in &lines[k + 1..] {
        if texts.len() >= MOST_LINES {
            break;
        }
        let words: Vec<&Word> = below
            .words
            .iter()
            .filter(|w| {
                let middle = (w.rect.x0 + w.rect.x1) / 2.0;
                middle > left_edge && middle < right_edge && w.rect.x0 >= left_edge
            })
            .collect();
        let Some(rect) = words.iter().map(|w| w.rect).reduce(|a, b| a.union(&b)) else {
            if below.rect.y0 - bottom > height {
                break;
            }
            continue;
        };
        if rect.y0 - bottom > 1.2 * height {
            break;
        }
        let column = Line {
            words: words.iter().map(|w| (*w).clone()).collect(),
            rect,
        };
        let starts_another = BILL_TO
            .iter()
            .chain(SHIP_TO)
            .chain(OTHER)
            .any(|l| label_at(&column, l, 0).is_some_and(|(lx0, _, _)| lx0 <= rect.x0 + 0.5));
        if starts_another {
            break;
        }
        // Words of one column are close together; a wide gap starts
        // another column (the block ends at its left).
        let mut taken: Vec<&Word> = Vec::new();
        for w in words {
            if taken
                .last()
                .is_some_and(|last| w.rect.x0 - last.rect.x1 > gap)
            {
                break;
            }
            taken.push(w);
        }
        texts.push(join(&taken));
        all.extend(taken.iter().map(|w| (*w).clone()));
        height = rect.height().max(1.0);
        bottom = rect.y1;
    }
    (!texts.is_empty()).then_some((one_line(texts), all))
}

/// A block printed on one line (`Jürgen Weiß, Lindenallee 7, 50668 Köln,
/// Deutschland`): its parts, when it has at least three.
fn one_line(texts: Vec<String>) -> Vec<String> {
    match texts.as_slice() {
        [only] if only.split(", ").count() >= 3 => only.split(", ").map(str::to_string).collect(),
        _ => texts,
    }
}

fn join(words: &[&Word]) -> String {
    words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A block's lines as a party.
pub fn read(texts: &[String]) -> Option<Party> {
    let (name, rest) = texts.split_first()?;
    let mut rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let mut party = Party {
        name: Some(name.clone()),
        ..Party::default()
    };
    if let Some(last) = rest.last()
        && let Some((_, code)) = COUNTRIES
            .iter()
            .find(|(n, _)| *n == last.trim().trim_end_matches('.').to_lowercase())
    {
        party.country = Some(code.to_string());
        rest.pop();
    }
    if let Some(city_line) = rest.pop() {
        city(city_line, &mut party);
    }
    // An attention line (`Accounts Payable`) has no digit and comes
    // before a street line that has one.
    if rest.len() >= 2 && !rest[0].chars().any(|c| c.is_ascii_digit()) {
        party.name2 = Some(rest.remove(0).to_string());
    }
    let mut streets = rest.into_iter();
    party.address1 = streets.next().map(str::to_string);
    let more: Vec<&str> = streets.collect();
    if !more.is_empty() {
        party.address2 = Some(more.join(", "));
    }
    Some(party)
}

/// A city line into the party: `City, ST 12345` (North America), `12345
/// City` or `D-12345 City` (Europe), else the whole line is the city.
fn city(line: &str, party: &mut Party) {
    let line = line.trim();
    // City, ST 12345(-6789) / City, ST A1A 1A1
    if let Some((town, tail)) = line.rsplit_once(',') {
        let mut parts = tail.split_whitespace();
        if let (Some(state), Some(code)) = (parts.next(), parts.next())
            && state.len() == 2
            && state.chars().all(|c| c.is_ascii_uppercase())
        {
            let rest: Vec<&str> = parts.collect();
            let postal = std::iter::once(code)
                .chain(rest)
                .collect::<Vec<_>>()
                .join(" ");
            party.city = Some(town.trim().to_string());
            party.state = Some(state.to_string());
            party.postal_code = Some(postal);
            return;
        }
    }
    // 12345 City (a postal code of digits first, maybe with a country
    // letter and a dash)
    if let Some((code, town)) = line.split_once(' ') {
        let digits = code.rsplit('-').next().unwrap_or(code);
        if digits.len() >= 4
            && digits.len() <= 6
            && digits.chars().all(|c| c.is_ascii_digit())
            && !town.trim().is_empty()
        {
            party.postal_code = Some(code.to_string());
            party.city = Some(town.trim().to_string());
            return;
        }
    }
    party.city = Some(line.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::pdf::locate::tests::page;

    fn texts(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_us_block_with_an_attention_line() {
        let p = read(&texts(&[
            "Brightside Home & Outdoor, Inc.",
            "Accounts Payable",
            "2200 Commerce Park Dr, Suite 400",
            "Columbus, OH 43219",
        ]))
        .expect("a party");
        assert_eq!(p.name.as_deref(), Some("Brightside Home & Outdoor, Inc."));
        assert_eq!(p.name2.as_deref(), Some("Accounts Payable"));
        assert_eq!(
            p.address1.as_deref(),
            Some("2200 Commerce Park Dr, Suite 400")
        );
        assert_eq!(p.city.as_deref(), Some("Columbus"));
        assert_eq!(p.state.as_deref(), Some("OH"));
        assert_eq!(p.postal_code.as_deref(), Some("43219"));
    }

    #[test]
    fn a_european_block_with_a_country() {
        let p = read(&texts(&[
            "Jürgen Weiß",
            "Lindenallee 7",
            "50668 Köln",
            "Deutschland",
        ]))
        .expect("a party");
        assert_eq!(p.address1.as_deref(), Some("Lindenallee 7"));
        assert_eq!(p.postal_code.as_deref(), Some("50668"));
        assert_eq!(p.city.as_deref(), Some("Köln"));
        assert_eq!(p.country.as_deref(), Some("DE"));
        assert_eq!(p.name2, None);
    }

    #[test]
    fn blocks_side_by_side_under_their_labels() {
        let pages = vec![page(
            1,
            &[
                (
                    100.0,
                    &[("Bill", 40.0), ("To", 70.0), ("Ship", 240.0), ("To", 270.0)],
                ),
                (
                    112.0,
                    &[
                        ("Acme", 40.0),
                        ("Inc.", 70.0),
                        ("Dana", 240.0),
                        ("Lee", 270.0),
                    ],
                ),
                (
                    124.0,
                    &[
                        ("1", 40.0),
                        ("Main", 50.0),
                        ("St", 80.0),
                        ("9", 240.0),
                        ("Elm", 250.0),
                    ],
                ),
                (
                    136.0,
                    &[
                        ("Dayton,", 40.0),
                        ("OH", 90.0),
                        ("45402", 106.0),
                        ("Boise,", 240.0),
                        ("ID", 280.0),
                        ("83709", 296.0),
                    ],
                ),
                (180.0, &[("SKU", 40.0), ("Qty", 240.0)]),
            ],
        )];
        let bill = party(&pages, BILL_TO).expect("bill to");
        assert_eq!(bill.name.as_deref(), Some("Acme Inc."));
        assert_eq!(bill.address1.as_deref(), Some("1 Main St"));
        assert_eq!(bill.city.as_deref(), Some("Dayton"));
        let ship = party(&pages, SHIP_TO).expect("ship to");
        assert_eq!(ship.name.as_deref(), Some("Dana Lee"));
        assert_eq!(ship.address1.as_deref(), Some("9 Elm"));
        assert_eq!(ship.postal_code.as_deref(), Some("83709"));
        assert_eq!(ship.state.as_deref(), Some("ID"));
    }

    #[test]
    fn a_name_right_of_its_label() {
        let pages = vec![page(
            1,
            &[
                (
                    100.0,
                    &[
                        ("Ship", 40.0),
                        ("To:", 70.0),
                        ("Dana", 110.0),
                        ("Lee", 140.0),
                    ],
                ),
                (112.0, &[("9", 110.0), ("Elm", 120.0)]),
                (124.0, &[("Boise,", 110.0), ("ID", 150.0), ("83709", 166.0)]),
            ],
        )];
        let ship = party(&pages, SHIP_TO).expect("ship to");
        assert_eq!(ship.name.as_deref(), Some("Dana Lee"));
        assert_eq!(ship.address1.as_deref(), Some("9 Elm"));
        assert_eq!(ship.city.as_deref(), Some("Boise"));
    }
}
