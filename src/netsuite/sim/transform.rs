//! Transforms (`POST /{from}/{id}/!transform/{to}`): `salesOrder` →
//! `itemFulfillment` and `purchaseOrder` → `vendorBill`, with NetSuite's
//! defaults. The new record starts with every source line that still has
//! a quantity to fulfil (to bill), `itemReceive: true` with that remaining
//! quantity; the body's `item.items` merge into those lines by
//! `orderLine`, and a fulfilment line set to `itemReceive: false` is left
//! out. With `?replace=item` only the lines the body names are kept. Any
//! other pair is `INVALID_RCRD_TRANSFRM`.

use serde_json::{Map, Value, json};

use super::error::{ErrorCode, NsError};
use super::records::{
    self, ApplyOptions, RecordType, Resolver, line_no, num, number, round2, sublist_fields,
    sublist_lines,
};
use super::store::Row;

/// Builds the stored form of the record a transform creates (not saved),
/// and the external ID the body gives it.
pub fn build(
    from: RecordType,
    source: &Row,
    to: RecordType,
    body: &Map<String, Value>,
    opts: &ApplyOptions,
    resolver: &dyn Resolver,
) -> Result<(Map<String, Value>, Option<String>), NsError> {
    let remaining_field = match (from, to) {
        (RecordType::SalesOrder, RecordType::ItemFulfillment) => "quantityFulfilled",
        (RecordType::PurchaseOrder, RecordType::VendorBill) => "quantityBilled",
        _ => {
            return Err(NsError::new(
                400,
                ErrorCode::InvalidRcrdTransfrm,
                format!(
                    "That type of record transformation is not allowed: {} to {}.",
                    from.name(),
                    to.name()
                ),
            ));
        }
    };
    let source_name = records::display_name(from, &source.body);
    let mut record = Map::new();
    record.insert(
        "createdFrom".into(),
        json!({ "id": source.meta.id.to_string(), "refName": source_name }),
    );
    if let Some(entity) = source.body.get("entity") {
        record.insert("entity".into(), entity.clone());
    }
    let mut defaults: Vec<Map<String, Value>> = Vec::new();
    for line in sublist_lines(&source.body, "item") {
        if line.get("isClosed") == Some(&Value::Bool(true)) {
            continue;
        }
        let remaining = num(&line, "quantity") - num(&line, remaining_field);
        if remaining <= 1e-9 {
            continue;
        }
        let mut l = Map::new();
        l.insert("orderLine".into(), json!(line_no(&line).unwrap_or(0)));
        if let Some(item) = line.get("item") {
            l.insert("item".into(), item.clone());
        }
        l.insert("quantity".into(), number(remaining));
        if let Some(d) = line.get("description") {
            l.insert("description".into(), d.clone());
        }
        if to == RecordType::ItemFulfillment {
            l.insert("itemReceive".into(), Value::Bool(true));
        } else {
            let rate = num(&line, "rate");
            l.insert("rate".into(), number(rate));
            l.insert("amount".into(), number(round2(rate * remaining)));
        }
        defaults.push(l);
    }
    let nothing_left = || {
        NsError::user_error(format!(
            "You can not initialize {}: the {} {} has no lines left to {}.",
            to.name(),
            from.label(),
            source.meta.id,
            if to == RecordType::ItemFulfillment {
                "fulfill"
            } else {
                "bill"
            }
        ))
    };
    if defaults.is_empty() {
        return Err(nothing_left());
    }
    let line_fields = sublist_fields(to, "item").unwrap_or(&[]);
    let replace = opts.replace.iter().any(|r| r.eq_ignore_ascii_case("item"));
    let mut named = Vec::new();
    if let Some(given) = body.get("item") {
        let items = given
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                NsError::invalid_value(
                    "item",
                    "The sublist 'item' must be an object with an 'items' array.",
                )
            })?;
        for (i, g) in items.iter().enumerate() {
            let path = format!("item.items[{i}]");
            let g = g.as_object().ok_or_else(|| NsError::bad_field(&path))?;
            let order_line = g.get("orderLine").and_then(|v| match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            });
            let at = order_line
                .and_then(|o| defaults.iter().position(|d| d.get("orderLine") == Some(&json!(o))))
                .ok_or_else(|| {
                    NsError::invalid_value(
                        format!("{path}.orderLine"),
                        format!(
                            "Invalid value for the resource or sub-resource field '{path}.orderLine': no line of the {} with something left to {} has that orderLine.",
                            from.label(),
                            if to == RecordType::ItemFulfillment { "fulfill" } else { "bill" }
                        ),
                    )
                })?;
            records::apply_line(&mut defaults[at], g, line_fields, &path, opts, resolver)?;
            named.push(at);
        }
    }
    let mut lines: Vec<Map<String, Value>> = defaults
        .into_iter()
        .enumerate()
        .filter(|(i, l)| {
            (!replace || named.contains(i)) && l.get("itemReceive") != Some(&Value::Bool(false))
        })
        .map(|(_, l)| l)
        .collect();
    if lines.is_empty() {
        return Err(NsError::user_error(
            "You must enter at least one line item for this transaction.",
        ));
    }
    for (i, l) in lines.iter_mut().enumerate() {
        l.insert("line".into(), json!(i + 1));
    }
    records::set_sublist(&mut record, "item", lines);
    record.insert("__next_item_line".into(), json!(record_len(&record) + 1));
    let mut rest = body.clone();
    rest.remove("item");
    let applied = records::apply(to, &mut record, &rest, opts, resolver)?;
    Ok((record, applied.external_id.flatten()))
}

fn record_len(record: &Map<String, Value>) -> usize {
    sublist_lines(record, "item").len()
}
