//! The record service of the simulated account: create, read, update
//! (PATCH), upsert by external ID, delete, transforms, sublist reads,
//! lists, SuiteQL; each operation one SQLite transaction, so a refused
//! request changes nothing. Blocking: the server calls it off the async
//! workers.

use std::sync::Mutex;

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::error::{ErrorCode, NsError};
use super::records::{
    self, ApplyOptions, Meta, RecordType, RefKey, Rendering, Resolver, sublist_lines,
};
use super::store::{self, Row, Store};
use super::{dropship, quantities, suiteql, transform};

/// A record in a URL: `123` or `eid:KEY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// By internal ID.
    Id(i64),
    /// By external ID.
    External(String),
}

impl Key {
    /// Reads the path segment.
    pub fn parse(segment: &str) -> Result<Key, NsError> {
        if let Some(eid) = segment.strip_prefix("eid:") {
            if eid.is_empty() {
                return Err(NsError::invalid_parameter(
                    "The external ID in the URL is empty.",
                ));
            }
            return Ok(Key::External(eid.to_string()));
        }
        segment
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Key::Id)
            .ok_or_else(|| {
                NsError::new(
                    404,
                    ErrorCode::NonexistentId,
                    format!("The record instance does not exist. Provide a valid record instance ID. ('{segment}' is not an ID)"),
                )
            })
    }

    fn shown(&self) -> String {
        match self {
            Key::Id(id) => id.to_string(),
            Key::External(e) => format!("eid:{e}"),
        }
    }
}

/// The simulated account's records.
pub struct Service {
    store: Mutex<Store>,
}

struct Lookup<'a>(&'a Connection);

impl Resolver for Lookup<'_> {
    fn resolve(&self, ty: RecordType, key: &RefKey) -> Result<Option<(i64, String)>, NsError> {
        let id = match key {
            RefKey::Id(id) => Some(*id),
            RefKey::ExternalId(e) => store::find_external(self.0, ty, e)?,
        };
        let Some(id) = id else { return Ok(None) };
        Ok(store::get(self.0, ty, id)?.map(|r| (id, records::display_name(ty, &r.body))))
    }
}

fn find(conn: &Connection, ty: RecordType, key: &Key) -> Result<Row, NsError> {
    let id = match key {
        Key::Id(id) => Some(*id),
        Key::External(e) => store::find_external(conn, ty, e)?,
    };
    id.map(|id| store::get(conn, ty, id))
        .transpose()?
        .flatten()
        .ok_or_else(|| NsError::not_found(ty.name(), &key.shown()))
}

fn check_unique_external(
    conn: &Connection,
    ty: RecordType,
    eid: Option<&str>,
    own: Option<i64>,
) -> Result<(), NsError> {
    if let Some(e) = eid
        && let Some(other) = store::find_external(conn, ty, e)?
        && Some(other) != own
    {
        return Err(NsError {
            path: Some("externalId".into()),
            ..NsError::new(
                400,
                ErrorCode::DupRcrd,
                format!(
                    "A {} with the external ID '{e}' already exists (ID {other}).",
                    ty.label()
                ),
            )
        });
    }
    Ok(())
}

/// Saves a new record (stored form): defaults (`tranId`, `tranDate`,
/// status), the required fields, the quantities it moves, and for a sales
/// order its drop-ship purchase orders. Used by every create path.
pub fn insert(
    conn: &Connection,
    ty: RecordType,
    mut body: Map<String, Value>,
    external_id: Option<String>,
) -> Result<i64, NsError> {
    records::check_required(ty, &body)?;
    check_unique_external(conn, ty, external_id.as_deref(), None)?;
    let id = store::next_id(conn, ty)?;
    if let Some(prefix) = ty.tran_prefix()
        && !body.contains_key("tranId")
    {
        let n = store::next_in(conn, &format!("tranid:{}", ty.name()))?;
        body.insert("tranId".into(), json!(format!("{prefix}{}", 1000 + n)));
    }
    if ty.family() == records::Family::Transaction && !body.contains_key("tranDate") {
        body.insert(
            "tranDate".into(),
            json!(chrono::Utc::now().format("%Y-%m-%d").to_string()),
        );
    }
    defaults(ty, &mut body);
    let now = store::now_iso();
    let meta = Meta {
        id,
        external_id,
        created: now.clone(),
        last_modified: now,
    };
    if ty == RecordType::SalesOrder {
        dropship::create_purchase_orders(conn, id, &mut body)?;
    }
    quantities::set_status(ty, &mut body);
    quantities::apply(conn, ty, &body, 1.0)?;
    store::put(conn, ty, &meta, &body)?;
    Ok(id)
}

/// Fields a new record of the type gets unless given.
fn defaults(ty: RecordType, body: &mut Map<String, Value>) {
    match ty {
        RecordType::ItemFulfillment => {
            body.entry("shipStatus")
                .or_insert_with(|| json!({ "id": "C", "refName": "Shipped" }));
        }
        RecordType::VendorBill => {
            body.entry("approvalStatus")
                .or_insert_with(|| json!({ "id": "2", "refName": "Approved" }));
            let total: f64 = ["item", "expense"]
                .iter()
                .flat_map(|s| sublist_lines(body, s))
                .map(|l| records::num(&l, "amount"))
                .sum();
            body.insert("total".into(), records::number(records::round2(total)));
        }
        RecordType::SalesOrder | RecordType::PurchaseOrder => {
            let lines: Vec<Map<String, Value>> = sublist_lines(body, "item")
                .into_iter()
                .map(|mut line| {
                    let fields: &[&str] = if ty == RecordType::SalesOrder {
                        &["quantityFulfilled"]
                    } else {
                        &["quantityReceived", "quantityBilled"]
                    };
                    for f in fields {
                        line.entry(*f).or_insert_with(|| records::number(0.0));
                    }
                    line
                })
                .collect();
            if body.contains_key("item") {
                records::set_sublist(body, "item", lines);
            }
        }
        _ => {}
    }
}

impl Service {
    /// The service over a store.
    pub fn new(store: Store) -> Service {
        Service {
            store: Mutex::new(store),
        }
    }

    fn with_tx<T>(&self, f: impl FnOnce(&Connection) -> Result<T, NsError>) -> Result<T, NsError> {
        let store = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tx = store.conn.unchecked_transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// `POST /{type}`: the new record's ID.
    pub fn create(
        &self,
        ty: RecordType,
        body: &Map<String, Value>,
        opts: &ApplyOptions,
    ) -> Result<i64, NsError> {
        if ty == RecordType::ItemFulfillment {
            return Err(NsError::user_error(
                "An item fulfillment can only be created by transforming a sales order (POST …/salesOrder/{id}/!transform/itemFulfillment).",
            ));
        }
        self.with_tx(|conn| {
            let mut record = Map::new();
            let applied = records::apply(ty, &mut record, body, opts, &Lookup(conn))?;
            insert(conn, ty, record, applied.external_id.flatten())
        })
    }

    /// `GET /{type}/{key}`.
    pub fn get(&self, ty: RecordType, key: &Key, how: &Rendering) -> Result<Value, NsError> {
        self.with_tx(|conn| {
            let row = find(conn, ty, key)?;
            Ok(records::render(ty, &row.meta, &row.body, how))
        })
    }

    /// `GET /{type}/{key}/{sublist or subrecord}[/{line}]`.
    pub fn sub(
        &self,
        ty: RecordType,
        key: &Key,
        name: &str,
        line: Option<i64>,
        base: &str,
    ) -> Result<Value, NsError> {
        self.with_tx(|conn| {
            let row = find(conn, ty, key)?;
            let field = ty
                .fields()
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    NsError::not_found(&format!("{}.{name}", ty.name()), &key.shown())
                })?;
            let href = format!(
                "{base}/record/v1/{}/{}/{}",
                ty.name(),
                row.meta.id,
                field.name
            );
            match (&field.kind, line) {
                (records::Kind::Sublist(_), None) => Ok(records::sublist_page(
                    &href,
                    &sublist_lines(&row.body, field.name),
                    false,
                )),
                (records::Kind::Sublist(_), Some(n)) => {
                    let mut l = sublist_lines(&row.body, field.name)
                        .into_iter()
                        .find(|l| records::line_no(l) == Some(n))
                        .ok_or_else(|| {
                            NsError::not_found(&format!("{}.{name}", ty.name()), &n.to_string())
                        })?;
                    l.insert(
                        "links".into(),
                        json!([{ "rel": "self", "href": format!("{href}/{n}") }]),
                    );
                    Ok(Value::Object(l))
                }
                (records::Kind::Address, None) => {
                    let mut a = row
                        .body
                        .get(field.name)
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    a.insert("links".into(), json!([{ "rel": "self", "href": href }]));
                    Ok(Value::Object(a))
                }
                _ => Err(NsError::not_found(
                    &format!("{}.{name}", ty.name()),
                    &key.shown(),
                )),
            }
        })
    }

    /// `PATCH /{type}/{key}`.
    pub fn update(
        &self,
        ty: RecordType,
        key: &Key,
        body: &Map<String, Value>,
        opts: &ApplyOptions,
    ) -> Result<i64, NsError> {
        self.with_tx(|conn| {
            let row = find(conn, ty, key)?;
            update_row(conn, ty, row, body, opts)
        })
    }

    /// `PUT /{type}/eid:{key}`: the record's ID and whether it was new.
    pub fn upsert(
        &self,
        ty: RecordType,
        external_id: &str,
        body: &Map<String, Value>,
        opts: &ApplyOptions,
    ) -> Result<(i64, bool), NsError> {
        if ty == RecordType::ItemFulfillment {
            return Err(NsError::user_error(
                "An item fulfillment can only be created by transforming a sales order.",
            ));
        }
        if !records::valid_external_id(external_id) {
            return Err(NsError::invalid_parameter(format!(
                "The external ID '{external_id}' has characters NetSuite does not take in a URL (letters, digits, '_', '-', '.')."
            )));
        }
        self.with_tx(|conn| {
            let mut body = body.clone();
            // The URL's external ID wins over one in the body.
            body.insert("externalId".into(), json!(external_id));
            match store::find_external(conn, ty, external_id)? {
                Some(id) => {
                    let row = store::get(conn, ty, id)?
                        .ok_or_else(|| NsError::not_found(ty.name(), external_id))?;
                    update_row(conn, ty, row, &body, opts).map(|id| (id, false))
                }
                None => {
                    let mut record = Map::new();
                    records::apply(ty, &mut record, &body, opts, &Lookup(conn))?;
                    insert(conn, ty, record, Some(external_id.to_string())).map(|id| (id, true))
                }
            }
        })
    }

    /// `DELETE /{type}/{key}`.
    pub fn delete(&self, ty: RecordType, key: &Key) -> Result<(), NsError> {
        self.with_tx(|conn| {
            let row = find(conn, ty, key)?;
            if ty == RecordType::SalesOrder || ty == RecordType::PurchaseOrder {
                let children = children(conn, ty, row.meta.id)?;
                if !children.is_empty() {
                    return Err(NsError::user_error(format!(
                        "This record cannot be deleted because it has dependent records ({}).",
                        children.join(", ")
                    )));
                }
            }
            quantities::apply(conn, ty, &row.body, -1.0)?;
            store::delete(conn, ty, row.meta.id)
        })
    }

    /// `POST /{from}/{key}/!transform/{to}`: the new record's ID.
    pub fn transform(
        &self,
        from: RecordType,
        key: &Key,
        to: RecordType,
        body: &Map<String, Value>,
        opts: &ApplyOptions,
    ) -> Result<i64, NsError> {
        self.with_tx(|conn| {
            let source = find(conn, from, key)?;
            let (record, eid) = transform::build(from, &source, to, body, opts, &Lookup(conn))?;
            insert(conn, to, record, eid)
        })
    }

    /// `GET /{type}`: the IDs, a page at a time.
    pub fn list(
        &self,
        ty: RecordType,
        limit: u64,
        offset: u64,
        base: &str,
    ) -> Result<Value, NsError> {
        self.with_tx(|conn| {
            let rows = store::list(conn, ty)?;
            let total = rows.len() as u64;
            let items: Vec<Value> = rows
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|r| {
                    json!({
                        "links": [{ "rel": "self", "href": format!("{base}/record/v1/{}/{}", ty.name(), r.meta.id) }],
                        "id": r.meta.id.to_string(),
                    })
                })
                .collect();
            let count = items.len() as u64;
            Ok(json!({
                "links": [{ "rel": "self", "href": format!("{base}/record/v1/{}?limit={limit}&offset={offset}", ty.name()) }],
                "count": count,
                "hasMore": offset + count < total,
                "items": items,
                "offset": offset,
                "totalResults": total,
            }))
        })
    }

    /// Every record of the type, expanded (`/_sim/records/{type}`).
    pub fn dump(&self, ty: RecordType, base: &str) -> Result<Value, NsError> {
        self.with_tx(|conn| {
            let how = Rendering {
                base,
                expand: true,
                fields: None,
            };
            Ok(Value::Array(
                store::list(conn, ty)?
                    .iter()
                    .map(|r| records::render(ty, &r.meta, &r.body, &how))
                    .collect(),
            ))
        })
    }

    /// A SuiteQL page.
    pub fn suiteql(&self, q: &str, limit: u64, offset: u64, href: &str) -> Result<Value, NsError> {
        let store = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        suiteql::run(&store, q, limit, offset, href)
    }

    /// Empties the account.
    pub fn reset(&self) -> Result<(), NsError> {
        self.with_tx(store::reset)
    }

    /// Runs `f` on the store in one transaction (the demo data).
    pub fn seed_with(
        &self,
        f: impl FnOnce(&Connection, &dyn Resolver) -> Result<(), NsError>,
    ) -> Result<(), NsError> {
        self.with_tx(|conn| f(conn, &Lookup(conn)))
    }
}

fn update_row(
    conn: &Connection,
    ty: RecordType,
    row: Row,
    body: &Map<String, Value>,
    opts: &ApplyOptions,
) -> Result<i64, NsError> {
    let mut record = row.body.clone();
    let applied = records::apply(ty, &mut record, body, opts, &Lookup(conn))?;
    records::check_required(ty, &record)?;
    quantities::check_edit(ty, &row.body, &record)?;
    let mut meta = row.meta.clone();
    if let Some(eid) = applied.external_id {
        check_unique_external(conn, ty, eid.as_deref(), Some(meta.id))?;
        meta.external_id = eid;
    }
    // Take the record's quantities back, then move the new ones.
    quantities::apply(conn, ty, &row.body, -1.0)?;
    if ty == RecordType::SalesOrder {
        dropship::create_purchase_orders(conn, meta.id, &mut record)?;
    }
    defaults(ty, &mut record);
    quantities::set_status(ty, &mut record);
    quantities::apply(conn, ty, &record, 1.0)?;
    meta.last_modified = store::now_iso();
    store::put(conn, ty, &meta, &record)?;
    Ok(meta.id)
}

/// The records made from this one (fulfilments, bills, drop-ship POs).
fn children(conn: &Connection, ty: RecordType, id: i64) -> Result<Vec<String>, NsError> {
    let mut out = Vec::new();
    for child in [
        RecordType::PurchaseOrder,
        RecordType::ItemFulfillment,
        RecordType::VendorBill,
    ] {
        for r in store::list(conn, child)? {
            if records::ref_id(r.body.get("createdFrom")) == Some(id) && ty != child {
                out.push(format!("{} {}", child.name(), r.meta.id));
            }
        }
    }
    Ok(out)
}
