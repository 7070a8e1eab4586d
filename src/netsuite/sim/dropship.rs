//! Drop shipment: when a sales order is saved with lines whose `createPo`
//! is `DropShip` and that have no purchase order yet, the system creates
//! one purchase order per preferred vendor of those lines' items (as
//! NetSuite does when such an order is approved): the vendor as `entity`,
//! the order as `createdFrom`, its shipping address (the customer's), its
//! lines copied with their own `line` numbers, `linkedOrder`/`orderLine`
//! naming the order's line, the item's purchase price and vendor SKU; each
//! order line gets `createdPo`.

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::error::NsError;
use super::records::{self, RecordType, line_no, num, number, ref_id, round2, sublist_lines};
use super::{service, store};

/// Creates the purchase orders a saved sales order needs; updates the
/// order's lines (the caller saves the order). Returns the new POs' IDs.
pub fn create_purchase_orders(
    conn: &Connection,
    so_id: i64,
    so: &mut Map<String, Value>,
) -> Result<Vec<i64>, NsError> {
    let mut lines = sublist_lines(so, "item");
    // (vendor, its refName, the indexes of the lines).
    let mut by_vendor: Vec<(i64, Value, Vec<usize>)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let drop_ship = line
            .get("createPo")
            .and_then(|c| c.get("id"))
            .and_then(Value::as_str)
            == Some("DropShip");
        if !drop_ship || line.contains_key("createdPo") {
            continue;
        }
        let item_id = ref_id(line.get("item")).unwrap_or(0);
        let item = store::get(conn, RecordType::InventoryItem, item_id)?;
        let vendor = item
            .as_ref()
            .and_then(|i| i.body.get("preferredVendor").cloned())
            .filter(|v| ref_id(Some(v)).is_some())
            .ok_or_else(|| {
                NsError::user_error_at(
                    format!("item.items[{i}].createPo"),
                    format!(
                        "The item on line {} has no preferred vendor: a drop-ship purchase order cannot be created for it.",
                        line_no(line).unwrap_or(0)
                    ),
                )
            })?;
        let vendor_id = ref_id(Some(&vendor)).unwrap_or(0);
        match by_vendor.iter_mut().find(|(v, _, _)| *v == vendor_id) {
            Some((_, _, idx)) => idx.push(i),
            None => by_vendor.push((vendor_id, vendor, vec![i])),
        }
    }
    let so_ref = json!({ "id": so_id.to_string(), "refName": records::display_name(RecordType::SalesOrder, so) });
    let mut created = Vec::new();
    for (_, vendor, idx) in by_vendor {
        let mut po = Map::new();
        po.insert("entity".into(), vendor);
        po.insert("createdFrom".into(), so_ref.clone());
        for field in ["shippingAddress", "tranDate", "shipMethod"] {
            if let Some(v) = so.get(field) {
                po.insert(field.into(), v.clone());
            }
        }
        let mut po_lines = Vec::new();
        for (n, &i) in idx.iter().enumerate() {
            let line = &lines[i];
            let item_id = ref_id(line.get("item")).unwrap_or(0);
            let item = store::get(conn, RecordType::InventoryItem, item_id)?;
            let item_body = item.map(|r| r.body).unwrap_or_default();
            let quantity = num(line, "quantity");
            let rate = num(&item_body, "cost");
            let mut l = Map::new();
            l.insert("line".into(), json!(n + 1));
            for field in ["item", "description"] {
                if let Some(v) = line.get(field) {
                    l.insert(field.into(), v.clone());
                }
            }
            if let Some(v) = item_body.get("vendorName") {
                l.insert("vendorName".into(), v.clone());
            }
            l.insert("quantity".into(), number(quantity));
            l.insert("rate".into(), number(rate));
            l.insert("amount".into(), number(round2(rate * quantity)));
            l.insert("quantityReceived".into(), number(0.0));
            l.insert("quantityBilled".into(), number(0.0));
            l.insert("isClosed".into(), Value::Bool(false));
            l.insert("linkedOrder".into(), so_ref.clone());
            l.insert("orderLine".into(), json!(line_no(line).unwrap_or(0)));
            po_lines.push(l);
        }
        po.insert("__next_item_line".into(), json!(po_lines.len() + 1));
        records::set_sublist(&mut po, "item", po_lines);
        let po_id = service::insert(conn, RecordType::PurchaseOrder, po, None)?;
        let po_name = store::get(conn, RecordType::PurchaseOrder, po_id)?
            .map(|r| records::display_name(RecordType::PurchaseOrder, &r.body))
            .unwrap_or_default();
        for &i in &idx {
            lines[i].insert(
                "createdPo".into(),
                json!({ "id": po_id.to_string(), "refName": po_name }),
            );
        }
        created.push(po_id);
    }
    records::set_sublist(so, "item", lines);
    Ok(created)
}
