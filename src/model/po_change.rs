//! `po_change`: the retailer's change or cancellation of a purchase order
//! already sent (X12 860), line by line.
//!
//! A change document is written by hand or by [`PoChange::between`], which
//! compares the order as sent with the order as it is now: one rule decides
//! which lines were added, deleted or changed and how, whoever sends it.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::party::Party;
use super::purchase_order::{PoLine, PoType, PurchaseOrder};
use super::source::{Source, SourceFormat};

/// What a change document does to the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangePurpose {
    /// Changes the order as the lines say (X12 BCH01 `04`).
    Change,
    /// Cancels the whole order (X12 BCH01 `01`).
    Cancel,
}

/// How a line changes (X12 POC02, element 670).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeType {
    /// A line added to the order (`AI`).
    AddItem,
    /// A line taken out of the order: cancelled (`DI`).
    DeleteItem,
    /// More of the item (`QI`); `quantity` is the new quantity.
    QuantityIncrease,
    /// Less of the item (`QD`); `quantity` is the new quantity.
    QuantityDecrease,
    /// A new unit price (`PC`).
    PriceChange,
    /// Several things of the line change at once, or its dates (`CA`).
    Changes,
    /// Every value of the line replaced by those given (`RZ`).
    ReplaceAll,
    /// The line as it was, sent for reference (`NC`).
    NoChange,
}

/// A change to a purchase order already sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoChange {
    /// Where the document came from.
    pub source: Source,
    /// The purchase order changed.
    pub po_number: String,
    /// What the change does: change lines, or cancel the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<ChangePurpose>,
    /// The kind of order, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_type: Option<PoType>,
    /// The date of the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<NaiveDate>,
    /// The number of this change among the order's changes (X12 BCH05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_sequence: Option<String>,
    /// The date of the change order (X12 BCH10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_date: Option<NaiveDate>,
    /// The buyer's identifier (the retailer, as the vendor knows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_id: Option<String>,
    /// The vendor's identifier (as the retailer knows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    /// The consumer's order number at the retailer (drop ship).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_order_number: Option<String>,
    /// A new ship-to, when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<Party>,
    /// A new date the order should ship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_ship_date: Option<NaiveDate>,
    /// A new date the order should reach the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_delivery_date: Option<NaiveDate>,
    /// Why the order changes, or is cancelled, in words.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The lines that change.
    #[serde(default)]
    pub lines: Vec<PoChangeLine>,
}

/// One line's change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoChangeLine {
    /// The line's identifier in the order (X12 POC01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    /// How the line changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeType>,
    /// The partner's own change code (X12 POC02, e.g. `QD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_code: Option<String>,
    /// The vendor's item number (X12 VN, VP, VC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The buyer's item number (X12 BP, IN, SK, PI, CB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_sku: Option<String>,
    /// The U.P.C. of the item, 12 digits (X12 UP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upc: Option<String>,
    /// The GTIN of the item as 14 digits (X12 UK, EN, EO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    /// A description of the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The quantity ordered now, after the change (X12 POC03); 0 for a
    /// line deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// The quantity ordered before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_quantity: Option<Decimal>,
    /// The quantity still to be shipped (X12 POC04).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_left_to_receive: Option<Decimal>,
    /// The unit of measure (e.g. `EA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The price of one unit, after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// A new date the line should ship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_ship_date: Option<NaiveDate>,
    /// A new date the line should reach the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_delivery_date: Option<NaiveDate>,
}

/// Why two orders cannot be compared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// The two orders have different PO numbers.
    #[error(
        "the order as sent is {sent:?} and the changed order is {changed:?}: a change keeps its PO number"
    )]
    OtherOrder {
        /// The PO number sent.
        sent: String,
        /// The PO number of the changed order.
        changed: String,
    },
    /// A line has no line number, so it cannot be matched.
    #[error(
        "order {po_number}: line {index} has no line_number; a change names each line by its number"
    )]
    UnnumberedLine {
        /// The order.
        po_number: String,
        /// Its place in the order's lines, from 1.
        index: usize,
    },
    /// Two lines have one line number.
    #[error("order {po_number}: two lines are numbered {line_number}")]
    DuplicateLine {
        /// The order.
        po_number: String,
        /// The number.
        line_number: String,
    },
    /// Nothing changed and the order is not cancelled.
    #[error("order {po_number}: nothing changed since it was sent")]
    NoChange {
        /// The order.
        po_number: String,
    },
}

impl PoChange {
    /// The change from the order as sent to the order as it is now: a
    /// cancellation when `now.purpose` is `cancel`, otherwise one line per
    /// line added (`AI`), deleted (`DI`) or changed: the quantity alone
    /// (`QI`, `QD`), the price alone (`PC`), anything else or several
    /// things (`CA`). Header dates and ship-to are given when they differ.
    /// Lines are matched by `line_number`.
    pub fn between(sent: &PurchaseOrder, now: &PurchaseOrder) -> Result<PoChange, ChangeError> {
        if sent.po_number != now.po_number {
            return Err(ChangeError::OtherOrder {
                sent: sent.po_number.clone(),
                changed: now.po_number.clone(),
            });
        }
        let po_number = now.po_number.clone();
        let sent_lines = numbered(sent)?;
        let now_lines = numbered(now)?;
        let mut change = PoChange {
            source: Source {
                format: SourceFormat::Json,
                ..Source::default()
            },
            po_number: po_number.clone(),
            po_type: now.po_type.or(sent.po_type),
            po_date: now.po_date.or(sent.po_date),
            buyer_id: now.buyer_id.clone(),
            vendor_id: now.vendor_id.clone(),
            customer_order_number: now.customer_order_number.clone(),
            ..PoChange::default()
        };
        if now.purpose == Some(super::Purpose::Cancel) {
            change.purpose = Some(ChangePurpose::Cancel);
            change.notes = now.notes.clone();
            return Ok(change);
        }
        change.purpose = Some(ChangePurpose::Change);
        if now.ship_to != sent.ship_to {
            change.ship_to = now.ship_to.clone();
        }
        if now.requested_ship_date != sent.requested_ship_date {
            change.requested_ship_date = now.requested_ship_date;
        }
        if now.requested_delivery_date != sent.requested_delivery_date {
            change.requested_delivery_date = now.requested_delivery_date;
        }
        for (number, before) in &sent_lines {
            match now_lines.iter().find(|(n, _)| n == number) {
                None => change.lines.push(line_of(
                    number,
                    before,
                    ChangeType::DeleteItem,
                    Some(Decimal::ZERO),
                    before.quantity,
                )),
                Some((_, after)) => {
                    if let Some(kind) = kind_of_change(before, after) {
                        change.lines.push(line_of(
                            number,
                            after,
                            kind,
                            after.quantity,
                            before.quantity,
                        ));
                    }
                }
            }
        }
        for (number, after) in &now_lines {
            if !sent_lines.iter().any(|(n, _)| n == number) {
                change.lines.push(line_of(
                    number,
                    after,
                    ChangeType::AddItem,
                    after.quantity,
                    None,
                ));
            }
        }
        let header_changed = change.ship_to.is_some()
            || change.requested_ship_date.is_some()
            || change.requested_delivery_date.is_some();
        if change.lines.is_empty() && !header_changed {
            return Err(ChangeError::NoChange { po_number });
        }
        Ok(change)
    }
}

/// The lines of an order by their numbers, each number once.
fn numbered(order: &PurchaseOrder) -> Result<Vec<(String, &PoLine)>, ChangeError> {
    let mut out: Vec<(String, &PoLine)> = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        let Some(number) = line.line_number.as_deref().map(str::trim) else {
            return Err(ChangeError::UnnumberedLine {
                po_number: order.po_number.clone(),
                index: i + 1,
            });
        };
        if out.iter().any(|(n, _)| n == number) {
            return Err(ChangeError::DuplicateLine {
                po_number: order.po_number.clone(),
                line_number: number.to_string(),
            });
        }
        out.push((number.to_string(), line));
    }
    Ok(out)
}

/// How a line kept in the order changed, if it did.
fn kind_of_change(before: &PoLine, after: &PoLine) -> Option<ChangeType> {
    let quantity = before.quantity != after.quantity;
    let price = before.unit_price != after.unit_price;
    let rest = PoLine {
        quantity: None,
        unit_price: None,
        ..before.clone()
    } != PoLine {
        quantity: None,
        unit_price: None,
        ..after.clone()
    };
    match (quantity, price, rest) {
        (false, false, false) => None,
        (true, false, false) => match (before.quantity, after.quantity) {
            (Some(b), Some(a)) if a < b => Some(ChangeType::QuantityDecrease),
            _ => Some(ChangeType::QuantityIncrease),
        },
        (false, true, false) => Some(ChangeType::PriceChange),
        _ => Some(ChangeType::Changes),
    }
}

fn line_of(
    number: &str,
    line: &PoLine,
    change: ChangeType,
    quantity: Option<Decimal>,
    previous_quantity: Option<Decimal>,
) -> PoChangeLine {
    PoChangeLine {
        line_number: Some(number.to_string()),
        change: Some(change),
        change_code: None,
        sku: line.sku.clone(),
        buyer_sku: line.buyer_sku.clone(),
        upc: line.upc.clone(),
        gtin: line.gtin.clone(),
        description: line.description.clone(),
        quantity,
        previous_quantity,
        quantity_left_to_receive: None,
        uom: line.uom.clone(),
        unit_price: line.unit_price,
        requested_ship_date: None,
        requested_delivery_date: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Purpose;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("a decimal")
    }

    fn line(n: &str, sku: &str, qty: &str, price: &str) -> PoLine {
        PoLine {
            line_number: Some(n.into()),
            sku: Some(sku.into()),
            quantity: Some(dec(qty)),
            uom: Some("EA".into()),
            unit_price: Some(dec(price)),
            ..PoLine::default()
        }
    }

    fn order(lines: Vec<PoLine>) -> PurchaseOrder {
        PurchaseOrder {
            po_number: "PO-1".into(),
            po_date: NaiveDate::from_ymd_opt(2024, 3, 1),
            po_type: Some(PoType::Dropship),
            lines,
            ..PurchaseOrder::default()
        }
    }

    fn kinds(change: &PoChange) -> Vec<(String, ChangeType)> {
        change
            .lines
            .iter()
            .map(|l| {
                (
                    l.line_number.clone().unwrap_or_default(),
                    l.change.expect("a change"),
                )
            })
            .collect()
    }

    #[test]
    fn each_kind_of_line_change_gets_its_code() {
        let sent = order(vec![
            line("1", "A", "2", "10.00"),
            line("2", "B", "3", "4.00"),
            line("3", "C", "1", "5.00"),
            line("4", "D", "1", "1.00"),
            line("5", "E", "5", "2.00"),
            line("6", "F", "1", "9.00"),
        ]);
        let now = order(vec![
            line("1", "A", "1", "10.00"),
            line("2", "B", "3", "4.50"),
            line("4", "D", "4", "1.00"),
            line("5", "E", "6", "2.50"),
            line("6", "F", "1", "9.0"),
            line("7", "G", "2", "12.00"),
        ]);
        let change = PoChange::between(&sent, &now).expect("a change");
        assert_eq!(change.purpose, Some(ChangePurpose::Change));
        assert_eq!(
            kinds(&change),
            vec![
                ("1".into(), ChangeType::QuantityDecrease),
                ("2".into(), ChangeType::PriceChange),
                ("3".into(), ChangeType::DeleteItem),
                ("4".into(), ChangeType::QuantityIncrease),
                ("5".into(), ChangeType::Changes),
                ("7".into(), ChangeType::AddItem),
            ]
        );
        let deleted = &change.lines[2];
        assert_eq!(deleted.quantity, Some(Decimal::ZERO));
        assert_eq!(deleted.previous_quantity, Some(dec("1")));
        assert_eq!(deleted.sku.as_deref(), Some("C"));
        let decreased = &change.lines[0];
        assert_eq!(decreased.quantity, Some(dec("1")));
        assert_eq!(decreased.previous_quantity, Some(dec("2")));
        assert_eq!(change.lines[5].previous_quantity, None);
    }

    #[test]
    fn a_changed_item_or_date_is_a_change_to_the_line() {
        let sent = order(vec![line("1", "A", "2", "10.00")]);
        let mut now = order(vec![line("1", "A-2", "2", "10.00")]);
        now.requested_ship_date = NaiveDate::from_ymd_opt(2024, 3, 9);
        let change = PoChange::between(&sent, &now).expect("a change");
        assert_eq!(kinds(&change), vec![("1".into(), ChangeType::Changes)]);
        assert_eq!(
            change.requested_ship_date,
            NaiveDate::from_ymd_opt(2024, 3, 9)
        );
        assert_eq!(change.ship_to, None);
    }

    #[test]
    fn a_cancelled_order_is_a_cancellation_without_lines() {
        let sent = order(vec![line("1", "A", "2", "10.00")]);
        let mut now = sent.clone();
        now.purpose = Some(Purpose::Cancel);
        now.notes = vec!["Customer cancelled".into()];
        let change = PoChange::between(&sent, &now).expect("a cancellation");
        assert_eq!(change.purpose, Some(ChangePurpose::Cancel));
        assert!(change.lines.is_empty());
        assert_eq!(change.notes, vec!["Customer cancelled".to_string()]);
        assert_eq!(change.po_date, sent.po_date);
    }

    #[test]
    fn orders_that_cannot_be_compared_are_refused_with_the_reason() {
        let sent = order(vec![line("1", "A", "2", "10.00")]);
        assert_eq!(
            PoChange::between(&sent, &sent),
            Err(ChangeError::NoChange {
                po_number: "PO-1".into()
            })
        );
        let mut other = sent.clone();
        other.po_number = "PO-2".into();
        assert!(matches!(
            PoChange::between(&sent, &other),
            Err(ChangeError::OtherOrder { .. })
        ));
        let mut unnumbered = sent.clone();
        unnumbered.lines[0].line_number = None;
        assert_eq!(
            PoChange::between(&sent, &unnumbered),
            Err(ChangeError::UnnumberedLine {
                po_number: "PO-1".into(),
                index: 1
            })
        );
        let twice = order(vec![
            line("1", "A", "2", "10.00"),
            line("1", "B", "1", "1.00"),
        ]);
        assert!(matches!(
            PoChange::between(&sent, &twice),
            Err(ChangeError::DuplicateLine { .. })
        ));
    }

    #[test]
    fn a_derived_change_reads_back_as_the_model() {
        let sent = order(vec![line("1", "A", "2", "10.00")]);
        let now = order(vec![line("1", "A", "3", "10.00")]);
        let change = PoChange::between(&sent, &now).expect("a change");
        let json =
            serde_json::to_value(crate::model::Document::PoChange(change.clone())).expect("JSON");
        assert_eq!(json["type"], "po_change");
        assert_eq!(json["lines"][0]["change"], "quantity_increase");
        let back: crate::model::Document = serde_json::from_value(json).expect("the model");
        assert_eq!(back, crate::model::Document::PoChange(change));
    }
}
