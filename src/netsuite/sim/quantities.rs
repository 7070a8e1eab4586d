//! The quantities that fulfilments and bills move on their source orders,
//! and the statuses that follow: an item fulfillment adds its quantities
//! to the sales order lines' `quantityFulfilled` (and, for a drop-ship
//! line, to the linked purchase order line's `quantityReceived`, as
//! NetSuite marks a drop-ship PO received when its order ships); a vendor
//! bill adds to the purchase order lines' `quantityBilled`. More than
//! what remains is refused (`USER_ERROR`). Deleting or changing the
//! fulfilment or bill takes its quantities back first.

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::error::NsError;
use super::records::{
    PO_STATUS, RecordType, SO_STATUS, line_no, num, number, ref_id, set_sublist, sublist_lines,
};
use super::store;

const EPSILON: f64 = 1e-9;

/// Moves the quantities of a fulfilment or bill (`sign` +1 when it is
/// saved, −1 when it is taken back) onto its source order(s).
pub fn apply(
    conn: &Connection,
    ty: RecordType,
    record: &Map<String, Value>,
    sign: f64,
) -> Result<(), NsError> {
    let (source_type, field) = match ty {
        RecordType::ItemFulfillment => (RecordType::SalesOrder, "quantityFulfilled"),
        RecordType::VendorBill => (RecordType::PurchaseOrder, "quantityBilled"),
        _ => return Ok(()),
    };
    let Some(source_id) = ref_id(record.get("createdFrom")) else {
        return Ok(());
    };
    let mut source = store::get(conn, source_type, source_id)?.ok_or_else(|| {
        NsError::user_error(format!(
            "The {} {source_id} this record was created from no longer exists.",
            source_type.name()
        ))
    })?;
    let mut source_lines = sublist_lines(&source.body, "item");
    // Drop-ship POs whose lines receive what the fulfilment ships.
    let mut received: Vec<(i64, i64, f64)> = Vec::new();
    for (i, line) in sublist_lines(record, "item").iter().enumerate() {
        if line.get("itemReceive") == Some(&Value::Bool(false)) {
            continue;
        }
        let quantity = num(line, "quantity") * sign;
        let order_line = line.get("orderLine").and_then(Value::as_i64);
        let Some(target) = source_lines
            .iter_mut()
            .find(|l| order_line.is_some() && line_no(l) == order_line)
        else {
            continue;
        };
        let done = num(target, field) + quantity;
        let ordered = num(target, "quantity");
        if done > ordered + EPSILON {
            let remaining = ordered - num(target, field);
            return Err(NsError::user_error_at(
                format!("item.items[{i}].quantity"),
                format!(
                    "You cannot {} more than the remaining quantity of {} on line {} of the {}: {} remain.",
                    if ty == RecordType::ItemFulfillment {
                        "fulfill"
                    } else {
                        "bill"
                    },
                    source_type.label(),
                    order_line.unwrap_or(0),
                    source_type.label(),
                    fmt_qty(remaining.max(0.0)),
                ),
            ));
        }
        target.insert(field.into(), number(done.max(0.0)));
        if let (RecordType::ItemFulfillment, Some(po)) = (ty, ref_id(target.get("createdPo"))) {
            received.push((po, order_line.unwrap_or(0), quantity));
        }
    }
    set_sublist(&mut source.body, "item", source_lines);
    set_status(source_type, &mut source.body);
    source.meta.last_modified = store::now_iso();
    store::put(conn, source_type, &source.meta, &source.body)?;
    for (po_id, so_line, quantity) in received {
        let Some(mut po) = store::get(conn, RecordType::PurchaseOrder, po_id)? else {
            continue;
        };
        let mut lines = sublist_lines(&po.body, "item");
        for l in lines.iter_mut().filter(|l| {
            ref_id(l.get("linkedOrder")) == Some(source_id)
                && l.get("orderLine").and_then(Value::as_i64) == Some(so_line)
        }) {
            let r = (num(l, "quantityReceived") + quantity).max(0.0);
            l.insert("quantityReceived".into(), number(r));
        }
        set_sublist(&mut po.body, "item", lines);
        set_status(RecordType::PurchaseOrder, &mut po.body);
        po.meta.last_modified = store::now_iso();
        store::put(conn, RecordType::PurchaseOrder, &po.meta, &po.body)?;
    }
    Ok(())
}

/// Refuses a change of a sales or purchase order that removes a line
/// already fulfilled, received or billed, or sets its quantity below
/// what was (NetSuite refuses both).
pub fn check_edit(
    ty: RecordType,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<(), NsError> {
    let fields: &[&str] = match ty {
        RecordType::SalesOrder => &["quantityFulfilled"],
        RecordType::PurchaseOrder => &["quantityReceived", "quantityBilled"],
        _ => return Ok(()),
    };
    let new_lines = sublist_lines(new, "item");
    for line in sublist_lines(old, "item") {
        let done = fields.iter().map(|f| num(&line, f)).fold(0.0, f64::max);
        if done <= EPSILON {
            continue;
        }
        let n = line_no(&line).unwrap_or(0);
        match new_lines.iter().find(|l| line_no(l) == Some(n)) {
            None => {
                return Err(NsError::user_error(format!(
                    "Line {n} of the {} cannot be removed: {} of it was already {}.",
                    ty.label(),
                    fmt_qty(done),
                    if ty == RecordType::SalesOrder {
                        "fulfilled"
                    } else {
                        "received or billed"
                    }
                )));
            }
            Some(l) if num(l, "quantity") + EPSILON < done => {
                return Err(NsError::user_error(format!(
                    "The quantity of line {n} of the {} cannot be less than the {} already {}.",
                    ty.label(),
                    fmt_qty(done),
                    if ty == RecordType::SalesOrder {
                        "fulfilled"
                    } else {
                        "received or billed"
                    }
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn fmt_qty(q: f64) -> String {
    if q.fract() == 0.0 {
        format!("{}", q as i64)
    } else {
        format!("{q}")
    }
}

/// Sets the status (and total) of a sales or purchase order from its
/// lines' quantities.
pub fn set_status(ty: RecordType, record: &mut Map<String, Value>) {
    let lines = sublist_lines(record, "item");
    let total: f64 = lines.iter().map(|l| num(l, "amount")).sum();
    let open: Vec<&Map<String, Value>> = lines
        .iter()
        .filter(|l| l.get("isClosed") != Some(&Value::Bool(true)))
        .collect();
    let all = |field: &str| {
        open.iter()
            .all(|l| num(l, field) + EPSILON >= num(l, "quantity"))
    };
    let any = |field: &str| open.iter().any(|l| num(l, field) > EPSILON);
    let (id, table) = match ty {
        RecordType::SalesOrder => {
            let id = if open.is_empty() {
                "H"
            } else if all("quantityFulfilled") {
                "F"
            } else if any("quantityFulfilled") {
                "D"
            } else {
                "B"
            };
            (id, SO_STATUS)
        }
        RecordType::PurchaseOrder => {
            let id = if open.is_empty() {
                "H"
            } else if all("quantityBilled") {
                "G"
            } else if all("quantityReceived") {
                "F"
            } else if any("quantityReceived") && any("quantityBilled") {
                "E"
            } else if any("quantityReceived") {
                "D"
            } else {
                "B"
            };
            (id, PO_STATUS)
        }
        _ => return,
    };
    let name = table.iter().find(|(i, _)| *i == id).map_or("", |(_, n)| *n);
    record.insert("status".into(), json!({ "id": id, "refName": name }));
    record.insert("total".into(), number(super::records::round2(total)));
}
