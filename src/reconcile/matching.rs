//! Which order line an invoice line (or a shipped item) is: by line
//! number first, then by the vendor's SKU, the buyer's SKU, the U.P.C.
//! and the GTIN, in that order of preference. A line number matches only
//! when the items agree where both name one (a vendor that numbers its
//! invoice lines its own way is matched by item instead).

use crate::model::{InvoiceLine, PoAckLine, PoChangeAckLine, PoLine, ShipItem};

/// What identifies an item on any document's line.
#[derive(Clone, Copy, Debug, Default)]
pub struct Item<'a> {
    /// The line number.
    pub line_number: Option<&'a str>,
    /// The vendor's item number.
    pub sku: Option<&'a str>,
    /// The buyer's item number.
    pub buyer_sku: Option<&'a str>,
    /// The U.P.C.
    pub upc: Option<&'a str>,
    /// The GTIN.
    pub gtin: Option<&'a str>,
}

impl<'a> From<&'a PoLine> for Item<'a> {
    fn from(l: &'a PoLine) -> Item<'a> {
        Item {
            line_number: l.line_number.as_deref(),
            sku: l.sku.as_deref(),
            buyer_sku: l.buyer_sku.as_deref(),
            upc: l.upc.as_deref(),
            gtin: l.gtin.as_deref(),
        }
    }
}

impl<'a> From<&'a InvoiceLine> for Item<'a> {
    fn from(l: &'a InvoiceLine) -> Item<'a> {
        Item {
            line_number: l.line_number.as_deref(),
            sku: l.sku.as_deref(),
            buyer_sku: l.buyer_sku.as_deref(),
            upc: l.upc.as_deref(),
            gtin: l.gtin.as_deref(),
        }
    }
}

impl<'a> From<&'a PoAckLine> for Item<'a> {
    fn from(l: &'a PoAckLine) -> Item<'a> {
        Item {
            line_number: l.line_number.as_deref(),
            sku: l.sku.as_deref(),
            buyer_sku: l.buyer_sku.as_deref(),
            upc: l.upc.as_deref(),
            gtin: l.gtin.as_deref(),
        }
    }
}

impl<'a> From<&'a PoChangeAckLine> for Item<'a> {
    fn from(l: &'a PoChangeAckLine) -> Item<'a> {
        Item {
            line_number: l.line_number.as_deref(),
            sku: l.sku.as_deref(),
            buyer_sku: l.buyer_sku.as_deref(),
            upc: l.upc.as_deref(),
            gtin: None,
        }
    }
}

impl<'a> From<&'a ShipItem> for Item<'a> {
    fn from(l: &'a ShipItem) -> Item<'a> {
        Item {
            line_number: l.line_number.as_deref(),
            sku: l.sku.as_deref(),
            buyer_sku: l.buyer_sku.as_deref(),
            upc: l.upc.as_deref(),
            gtin: l.gtin.as_deref(),
        }
    }
}

/// A value as compared: trimmed, and absent when blank.
fn value(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// A line number as compared: `001` is `1`.
fn line_number(v: Option<&str>) -> Option<&str> {
    value(v).map(|v| match v.trim_start_matches('0') {
        "" => "0",
        rest => rest,
    })
}

/// Both name it, and the same.
fn equal(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((value(a), value(b)), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

/// Both name it, differently.
fn differ(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((value(a), value(b)), (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b))
}

impl Item<'_> {
    /// Whether the two name different items where both name one.
    fn conflicts(&self, other: &Item<'_>) -> bool {
        differ(self.sku, other.sku)
            || differ(self.buyer_sku, other.buyer_sku)
            || differ(self.upc, other.upc)
            || differ(self.gtin, other.gtin)
    }
}

/// The rules, in order of preference.
const RULES: [fn(&Item<'_>, &Item<'_>) -> bool; 5] = [
    |a, b| {
        matches!((line_number(a.line_number), line_number(b.line_number)), (Some(x), Some(y)) if x == y)
            && !a.conflicts(b)
    },
    |a, b| equal(a.sku, b.sku),
    |a, b| equal(a.buyer_sku, b.buyer_sku),
    |a, b| equal(a.upc, b.upc),
    |a, b| equal(a.gtin, b.gtin),
];

/// The order line `item` is (its index in `order`), by the first rule
/// that finds one.
pub fn order_line(item: &Item<'_>, order: &[PoLine]) -> Option<usize> {
    RULES
        .iter()
        .find_map(|rule| order.iter().position(|line| rule(item, &Item::from(line))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn po(n: &str, sku: &str, upc: Option<&str>) -> PoLine {
        PoLine {
            line_number: Some(n.into()),
            sku: Some(sku.into()),
            upc: upc.map(String::from),
            ..PoLine::default()
        }
    }

    #[test]
    fn line_numbers_come_first_and_ignore_leading_zeros() {
        let order = [po("1", "A", None), po("2", "B", None)];
        let item = Item {
            line_number: Some("002"),
            ..Item::default()
        };
        assert_eq!(order_line(&item, &order), Some(1));
    }

    #[test]
    fn a_line_number_naming_another_item_gives_way_to_the_sku() {
        let order = [po("1", "A", None), po("2", "B", None)];
        let item = Item {
            line_number: Some("1"),
            sku: Some("B"),
            ..Item::default()
        };
        assert_eq!(order_line(&item, &order), Some(1));
    }

    #[test]
    fn the_upc_matches_when_nothing_else_does() {
        let order = [po("1", "A", Some("012345678905")), po("2", "B", None)];
        let item = Item {
            upc: Some("012345678905"),
            ..Item::default()
        };
        assert_eq!(order_line(&item, &order), Some(0));
        let unknown = Item {
            sku: Some("Z"),
            line_number: Some("9"),
            ..Item::default()
        };
        assert_eq!(order_line(&unknown, &order), None);
    }
}
