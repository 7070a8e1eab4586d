//! What the flows look up in NetSuite: a purchase order by its number
//! (SuiteQL), the order itself read as a canonical purchase order (the
//! `netsuite/purchase_order` mapping) with each line's NetSuite facts, and
//! the lines of the sales order it was created from.

use rust_decimal::Decimal;
use serde_json::Value;

use super::{FlowError, Flows, PURCHASE_ORDER_MAPPING};
use crate::format::Flavor;
use crate::mapping::MappingError;
use crate::mapping::translate::{Request, TranslateError, translate};
use crate::model::PurchaseOrder;
use crate::netsuite::client::{Client, RecordRef};
use crate::x12::defs::Definitions;

/// A text as a SuiteQL string literal: quoted, its quotes doubled.
pub fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A NetSuite number, given as a JSON number or a string (SuiteQL gives
/// every value as a string).
pub fn number(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A line number or an internal ID, as a number or a string.
pub fn whole(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The internal ID of a reference (`{"id": "12", "refName": …}`).
pub fn reference(v: Option<&Value>) -> Option<String> {
    match v?.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The lines of a sublist (`item.items`), expanded.
pub fn sublist<'a>(record: &'a Value, name: &str) -> &'a [Value] {
    record
        .get(name)
        .and_then(|s| s.get("items"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The internal ID of purchase order `po_number` (its `tranid`), of the
/// vendor `vendor` when one is given; `None` when NetSuite has none. Two
/// orders with the number (of two vendors, when no vendor is given) are a
/// mismatch for a person to look at.
pub async fn find_purchase_order(
    client: &Client,
    po_number: &str,
    vendor: Option<&str>,
) -> Result<Option<String>, FlowError> {
    let mut query = format!(
        "SELECT id FROM transaction WHERE type = 'PurchOrd' AND tranid = {}",
        sql_text(po_number)
    );
    if let Some(v) = vendor {
        query.push_str(&format!(" AND entity = {}", sql_text(v)));
    }
    let rows = client.query_all(&query, 10).await?;
    let ids: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.get("id")
                .and_then(|v| reference(Some(&serde_json::json!({ "id": v }))))
        })
        .collect();
    match ids.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        many => Err(FlowError::Mismatch(format!(
            "NetSuite has {} purchase orders numbered {po_number} (internal IDs {}); name the partner's vendor (netsuite_vendor) so that one is meant",
            many.len(),
            many.join(", ")
        ))),
    }
}

/// A line of a NetSuite purchase order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoLineFacts {
    /// Its `line`.
    pub line: i64,
    /// The item's internal ID.
    pub item: Option<String>,
    /// The sales order line it was made for (`orderLine`), when NetSuite
    /// says.
    pub order_line: Option<i64>,
    /// Quantity ordered.
    pub quantity: Decimal,
    /// Quantity billed already.
    pub billed: Decimal,
}

/// A purchase order as NetSuite holds it.
#[derive(Clone, Debug)]
pub struct NetSuiteOrder {
    /// Its internal ID.
    pub id: String,
    /// The sales order it was created from (a drop shipment's).
    pub sales_order: Option<String>,
    /// The order read by `netsuite/purchase_order`: its lines are what
    /// shipped and invoiced items are matched with.
    pub canonical: PurchaseOrder,
    /// Each line's NetSuite facts.
    pub lines: Vec<PoLineFacts>,
    /// The record as read.
    pub record: Value,
}

impl NetSuiteOrder {
    /// The NetSuite facts of the order line `item` is (matched as
    /// reconciliation matches: line number, then item identifiers);
    /// `what` names the document's line in the message when none is.
    pub fn line_for(
        &self,
        item: &crate::reconcile::matching::Item<'_>,
        what: &str,
    ) -> Result<&PoLineFacts, FlowError> {
        let po_number = &self.canonical.po_number;
        let at = crate::reconcile::matching::order_line(item, &self.canonical.lines).ok_or_else(
            || {
                FlowError::Mismatch(format!(
                    "{what}: the item is not on purchase order {po_number}"
                ))
            },
        )?;
        self.facts_of(at).ok_or_else(|| {
            FlowError::Mismatch(format!(
                "purchase order {po_number}: line {} has no line number NetSuite knows",
                at + 1
            ))
        })
    }

    /// The facts of the line `canonical.lines[index]` is.
    pub fn facts_of(&self, index: usize) -> Option<&PoLineFacts> {
        let n: i64 = self
            .canonical
            .lines
            .get(index)?
            .line_number
            .as_deref()?
            .trim()
            .parse()
            .ok()?;
        self.lines.iter().find(|l| l.line == n)
    }
}

fn mapping_error(source: MappingError) -> FlowError {
    FlowError::Mapping {
        mapping: PURCHASE_ORDER_MAPPING.to_string(),
        source,
    }
}

/// Purchase order `po_number` (of `vendor`, when given), found, read and
/// mapped for `partner`; [`FlowError::NoPurchaseOrder`] when NetSuite has
/// none.
pub async fn order_numbered(
    flows: &Flows,
    po_number: &str,
    vendor: Option<&str>,
    partner: &str,
) -> Result<NetSuiteOrder, FlowError> {
    let id = find_purchase_order(&flows.client, po_number, vendor)
        .await?
        .ok_or_else(|| FlowError::NoPurchaseOrder {
            po_number: po_number.to_string(),
            vendor: vendor.map(String::from),
        })?;
    read_purchase_order(flows, &id, partner).await
}

/// The record of `kind` an earlier attempt made under `eid`, if any.
pub async fn made_before(
    client: &Client,
    kind: &'static str,
    eid: &crate::netsuite::client::ExternalId,
) -> Result<Option<super::Applied>, FlowError> {
    Ok(client
        .get(kind, &RecordRef::External(eid.clone()), false)
        .await?
        .map(|found| super::Applied {
            record_type: kind,
            id: reference(Some(&serde_json::json!({ "id": found.get("id") }))).unwrap_or_default(),
            external_id: Some(eid.clone()),
            created: false,
        }))
}

/// Reads purchase order `id` (expanded) and maps it for `partner`.
pub async fn read_purchase_order(
    flows: &Flows,
    id: &str,
    partner: &str,
) -> Result<NetSuiteOrder, FlowError> {
    let record = flows
        .client
        .get("purchaseOrder", &RecordRef::Id(id.to_string()), true)
        .await?
        .ok_or_else(|| FlowError::Mismatch(format!("purchase order {id} is gone from NetSuite")))?;
    let canonical = canonical_order(&flows.library, &record, id, partner)?;
    let lines = sublist(&record, "item")
        .iter()
        .filter_map(|l| {
            Some(PoLineFacts {
                line: whole(l.get("line"))?,
                item: reference(l.get("item")),
                order_line: whole(l.get("orderLine")),
                quantity: number(l.get("quantity")).unwrap_or_default(),
                billed: number(l.get("quantityBilled")).unwrap_or_default(),
            })
        })
        .collect();
    Ok(NetSuiteOrder {
        id: id.to_string(),
        sales_order: reference(record.get("createdFrom")),
        canonical,
        lines,
        record,
    })
}

/// A NetSuite purchase order record as a canonical purchase order, by the
/// `netsuite/purchase_order` mapping.
pub fn canonical_order(
    library: &crate::mapping::library::Library,
    record: &Value,
    id: &str,
    partner: &str,
) -> Result<PurchaseOrder, FlowError> {
    let request = Request {
        file_name: format!("purchaseOrder-{id}.json"),
        flavor: Some(Flavor::Json),
        mapping: Some(PURCHASE_ORDER_MAPPING.to_string()),
        partner: Some(partner.to_string()),
        ..Request::default()
    };
    let bytes =
        serde_json::to_vec(record).map_err(|e| mapping_error(MappingError::Io(e.to_string())))?;
    let (outcome, out) = translate(
        std::io::Cursor::new(bytes),
        &request,
        library,
        Definitions::embedded(),
        Vec::new(),
    )
    .map_err(|e| {
        mapping_error(match e {
            TranslateError::Mapping(m) => m,
            other => MappingError::Io(other.to_string()),
        })
    })?;
    if !outcome.problems.is_empty() {
        let problems: Vec<String> = outcome.problems.iter().map(ToString::to_string).collect();
        return Err(mapping_error(MappingError::Io(problems.join("; "))));
    }
    let mut documents: Vec<crate::model::Document> = serde_json::from_slice(&out)
        .map_err(|e| mapping_error(MappingError::Io(format!("its output: {e}"))))?;
    match (documents.pop(), documents.is_empty()) {
        (Some(crate::model::Document::PurchaseOrder(order)), true) => Ok(order),
        _ => Err(mapping_error(MappingError::Io(
            "it makes one purchase order of a NetSuite purchase order record".into(),
        ))),
    }
}

/// A line of a sales order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SalesLine {
    /// Its `line`.
    pub line: i64,
    /// The item's internal ID.
    pub item: Option<String>,
    /// The purchase order made for it (a drop-ship line's).
    pub created_po: Option<String>,
    /// Quantity ordered.
    pub quantity: Decimal,
    /// Quantity fulfilled already.
    pub fulfilled: Decimal,
}

impl SalesLine {
    /// What is left to fulfil.
    pub fn open(&self) -> Decimal {
        (self.quantity - self.fulfilled).max(Decimal::ZERO)
    }
}

/// The lines of sales order `id`.
pub async fn sales_lines(client: &Client, id: &str) -> Result<Vec<SalesLine>, FlowError> {
    let record = client
        .get("salesOrder", &RecordRef::Id(id.to_string()), true)
        .await?
        .ok_or_else(|| FlowError::Mismatch(format!("sales order {id} is gone from NetSuite")))?;
    Ok(sublist(&record, "item")
        .iter()
        .filter_map(|l| {
            Some(SalesLine {
                line: whole(l.get("line"))?,
                item: reference(l.get("item")),
                created_po: reference(l.get("createdPo")),
                quantity: number(l.get("quantity")).unwrap_or_default(),
                fulfilled: number(l.get("quantityFulfilled")).unwrap_or_default(),
            })
        })
        .collect())
}

/// The sales order line a purchase order line was made for: the one the
/// PO line names (`orderLine`), else the first of the order's lines made
/// for this PO with the same item and not taken by another PO line.
pub fn sales_line_of(
    po_id: &str,
    po_line: &PoLineFacts,
    sales: &[SalesLine],
    taken: &[i64],
) -> Option<i64> {
    if let Some(n) = po_line.order_line
        && sales.iter().any(|s| s.line == n)
    {
        return Some(n);
    }
    sales
        .iter()
        .find(|s| {
            s.created_po.as_deref() == Some(po_id)
                && s.item.is_some()
                && s.item == po_line.item
                && !taken.contains(&s.line)
        })
        .map(|s| s.line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_in_suiteql_text() {
        assert_eq!(sql_text("PO'1"), "'PO''1'");
        assert_eq!(sql_text("x' OR '1'='1"), "'x'' OR ''1''=''1'");
    }

    #[test]
    fn numbers_and_ids_come_as_numbers_or_strings() {
        assert_eq!(
            number(Some(&serde_json::json!(2.5))),
            Some(Decimal::new(25, 1))
        );
        assert_eq!(
            number(Some(&serde_json::json!("3"))),
            Some(Decimal::from(3))
        );
        assert_eq!(whole(Some(&serde_json::json!("7"))), Some(7));
        assert_eq!(
            reference(Some(&serde_json::json!({"id": 12}))),
            Some("12".into())
        );
        assert_eq!(reference(Some(&serde_json::json!({"refName": "x"}))), None);
    }

    #[test]
    fn a_po_line_finds_its_sales_line_by_order_line_then_item() {
        let sales = vec![
            SalesLine {
                line: 1,
                item: Some("10".into()),
                created_po: Some("99".into()),
                quantity: Decimal::ONE,
                fulfilled: Decimal::ZERO,
            },
            SalesLine {
                line: 2,
                item: Some("11".into()),
                created_po: Some("98".into()),
                quantity: Decimal::ONE,
                fulfilled: Decimal::ZERO,
            },
            SalesLine {
                line: 4,
                item: Some("11".into()),
                created_po: Some("99".into()),
                quantity: Decimal::ONE,
                fulfilled: Decimal::ZERO,
            },
        ];
        let named = PoLineFacts {
            line: 1,
            item: Some("10".into()),
            order_line: Some(1),
            quantity: Decimal::ONE,
            billed: Decimal::ZERO,
        };
        assert_eq!(sales_line_of("99", &named, &sales, &[]), Some(1));
        let by_item = PoLineFacts {
            order_line: None,
            item: Some("11".into()),
            ..named.clone()
        };
        assert_eq!(sales_line_of("99", &by_item, &sales, &[]), Some(4));
        assert_eq!(sales_line_of("99", &by_item, &sales, &[4]), None);
    }
}
