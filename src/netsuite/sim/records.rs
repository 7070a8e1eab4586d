//! The record types the simulator keeps, their fields, and the JSON in and
//! out: a request body checked field by field against the type (references
//! resolved by `id` or `externalId`, sublists merged by `line` or replaced,
//! unknown names refused or ignored as `X-NetSuite-PropertyNameValidation`
//! says, custom fields kept as given), and a stored record rendered as
//! NetSuite answers it (links, sublists collapsed unless expanded).
//!
//! Stored form: the record's JSON object without `id`, `links` and the
//! dates (those live in the store's columns); references as
//! `{"id","refName"}`, sublists as `{"items":[…]}`, each line with its
//! `line`.

use serde_json::{Map, Number, Value, json};

use super::error::NsError;

/// The record types of the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// `vendor`.
    Vendor,
    /// `customer`.
    Customer,
    /// `inventoryItem`.
    InventoryItem,
    /// `salesOrder`.
    SalesOrder,
    /// `purchaseOrder`.
    PurchaseOrder,
    /// `itemFulfillment` (made only by transform from a sales order).
    ItemFulfillment,
    /// `vendorBill`.
    VendorBill,
}

/// Which internal ID sequence a type draws from: NetSuite numbers all
/// transactions in one sequence (SuiteQL's `transaction.id`), all entities
/// in another, items in a third.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Vendors and customers.
    Entity,
    /// Items.
    Item,
    /// Sales orders, purchase orders, fulfillments, bills.
    Transaction,
}

impl Family {
    /// The sequence's name in the store.
    pub fn name(self) -> &'static str {
        match self {
            Family::Entity => "entity",
            Family::Item => "item",
            Family::Transaction => "transaction",
        }
    }
}

impl RecordType {
    /// Every type.
    pub const ALL: [RecordType; 7] = [
        RecordType::Vendor,
        RecordType::Customer,
        RecordType::InventoryItem,
        RecordType::SalesOrder,
        RecordType::PurchaseOrder,
        RecordType::ItemFulfillment,
        RecordType::VendorBill,
    ];

    /// The type's name in URLs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            RecordType::Vendor => "vendor",
            RecordType::Customer => "customer",
            RecordType::InventoryItem => "inventoryItem",
            RecordType::SalesOrder => "salesOrder",
            RecordType::PurchaseOrder => "purchaseOrder",
            RecordType::ItemFulfillment => "itemFulfillment",
            RecordType::VendorBill => "vendorBill",
        }
    }

    /// A type by its name in a URL, in any case.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
    }

    /// The ID sequence of the type.
    pub fn family(self) -> Family {
        match self {
            RecordType::Vendor | RecordType::Customer => Family::Entity,
            RecordType::InventoryItem => Family::Item,
            _ => Family::Transaction,
        }
    }

    /// SuiteQL's `transaction.type` of a transaction type.
    pub fn tran_code(self) -> Option<&'static str> {
        match self {
            RecordType::SalesOrder => Some("SalesOrd"),
            RecordType::PurchaseOrder => Some("PurchOrd"),
            RecordType::ItemFulfillment => Some("ItemShip"),
            RecordType::VendorBill => Some("VendBill"),
            _ => None,
        }
    }

    /// How NetSuite names a record of the type in `refName`.
    pub fn label(self) -> &'static str {
        match self {
            RecordType::SalesOrder => "Sales Order",
            RecordType::PurchaseOrder => "Purchase Order",
            RecordType::ItemFulfillment => "Item Fulfillment",
            RecordType::VendorBill => "Bill",
            RecordType::Vendor => "Vendor",
            RecordType::Customer => "Customer",
            RecordType::InventoryItem => "Inventory Item",
        }
    }

    /// The prefix of automatic `tranId`s (none for bills: their `tranId`
    /// is the vendor's invoice number).
    pub fn tran_prefix(self) -> Option<&'static str> {
        match self {
            RecordType::SalesOrder => Some("SO"),
            RecordType::PurchaseOrder => Some("PO"),
            RecordType::ItemFulfillment => Some("IF"),
            _ => None,
        }
    }

    /// The prefixes of custom body fields accepted on the type.
    pub fn custom_prefixes(self) -> &'static [&'static str] {
        match self.family() {
            Family::Transaction => &["custbody_"],
            Family::Entity => &["custentity_"],
            Family::Item => &["custitem_"],
        }
    }

    /// The body fields the type knows.
    pub fn fields(self) -> &'static [Field] {
        match self {
            RecordType::Vendor | RecordType::Customer => ENTITY_FIELDS,
            RecordType::InventoryItem => ITEM_FIELDS,
            RecordType::SalesOrder => SALES_ORDER_FIELDS,
            RecordType::PurchaseOrder => PURCHASE_ORDER_FIELDS,
            RecordType::ItemFulfillment => FULFILLMENT_FIELDS,
            RecordType::VendorBill => BILL_FIELDS,
        }
    }

    /// The body fields a record must have, with NetSuite's label for them.
    fn required(self) -> &'static [(&'static str, &'static str)] {
        match self {
            RecordType::Vendor | RecordType::Customer => &[("companyName", "Company Name")],
            RecordType::InventoryItem => &[("itemId", "Item Name/Number")],
            RecordType::SalesOrder => &[("entity", "Customer")],
            RecordType::PurchaseOrder | RecordType::VendorBill => &[("entity", "Vendor")],
            RecordType::ItemFulfillment => &[],
        }
    }
}

/// The line fields of a type's sublist.
pub fn sublist_fields(ty: RecordType, name: &str) -> Option<&'static [Field]> {
    ty.fields().iter().find_map(|f| match f.kind {
        Kind::Sublist(fields) if f.name == name => Some(fields),
        _ => None,
    })
}

/// Whether a name is a custom field of any kind (body, line, entity,
/// item, custom record): those are kept as given.
pub fn is_custom(name: &str) -> bool {
    [
        "custbody_",
        "custcol_",
        "custentity_",
        "custitem_",
        "custrecord_",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// One field of a record or of a sublist line.
#[derive(Debug)]
pub struct Field {
    /// Its JSON name.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// Whether a request may set it (system fields are ignored in input).
    pub writable: bool,
}

/// What a field holds.
#[derive(Debug)]
pub enum Kind {
    /// A string.
    Text,
    /// A number.
    Number,
    /// A checkbox.
    Bool,
    /// A date `YYYY-MM-DD`.
    Date,
    /// A reference to a record of the type.
    Ref(RecordType),
    /// A reference to something the simulator does not keep (an account,
    /// a location, a shipping method): kept as given, not checked.
    OpaqueRef,
    /// A list value: one of these ids, with their names.
    Choice(&'static [(&'static str, &'static str)]),
    /// The address subrecord.
    Address,
    /// A sublist with these line fields.
    Sublist(&'static [Field]),
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        writable: true,
    }
}

const fn ro(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        writable: false,
    }
}

/// Sales order statuses (the ones the simulator reaches).
pub const SO_STATUS: &[(&str, &str)] = &[
    ("A", "Pending Approval"),
    ("B", "Pending Fulfillment"),
    ("D", "Partially Fulfilled"),
    ("F", "Pending Billing"),
    ("H", "Closed"),
];
/// Purchase order statuses.
pub const PO_STATUS: &[(&str, &str)] = &[
    ("B", "Pending Receipt"),
    ("D", "Partially Received"),
    ("E", "Pending Billing/Partially Received"),
    ("F", "Pending Bill"),
    ("G", "Fully Billed"),
    ("H", "Closed"),
];
const CREATE_PO: &[(&str, &str)] = &[("DropShip", "Drop Ship"), ("SpecOrd", "Special Order")];
const SHIP_STATUS: &[(&str, &str)] = &[("A", "Picked"), ("B", "Packed"), ("C", "Shipped")];
const APPROVAL: &[(&str, &str)] = &[
    ("1", "Pending Approval"),
    ("2", "Approved"),
    ("3", "Rejected"),
];

const ENTITY_FIELDS: &[Field] = &[
    f("entityId", Kind::Text),
    f("companyName", Kind::Text),
    f("email", Kind::Text),
    f("phone", Kind::Text),
    f("isInactive", Kind::Bool),
];

const ITEM_FIELDS: &[Field] = &[
    f("itemId", Kind::Text),
    f("displayName", Kind::Text),
    f("description", Kind::Text),
    f("upcCode", Kind::Text),
    f("vendorName", Kind::Text),
    f("isDropShipItem", Kind::Bool),
    f("preferredVendor", Kind::Ref(RecordType::Vendor)),
    f("cost", Kind::Number),
    f("isInactive", Kind::Bool),
];

const SO_LINE: &[Field] = &[
    f("item", Kind::Ref(RecordType::InventoryItem)),
    f("quantity", Kind::Number),
    f("rate", Kind::Number),
    f("amount", Kind::Number),
    f("description", Kind::Text),
    f("createPo", Kind::Choice(CREATE_PO)),
    ro("createdPo", Kind::Ref(RecordType::PurchaseOrder)),
    ro("quantityFulfilled", Kind::Number),
    f("isClosed", Kind::Bool),
];

const PO_LINE: &[Field] = &[
    f("item", Kind::Ref(RecordType::InventoryItem)),
    f("quantity", Kind::Number),
    f("rate", Kind::Number),
    f("amount", Kind::Number),
    f("description", Kind::Text),
    f("vendorName", Kind::Text),
    ro("quantityReceived", Kind::Number),
    ro("quantityBilled", Kind::Number),
    f("isClosed", Kind::Bool),
    ro("linkedOrder", Kind::Ref(RecordType::SalesOrder)),
    ro("orderLine", Kind::Number),
    f("expectedReceiptDate", Kind::Date),
];

const IF_LINE: &[Field] = &[
    ro("orderLine", Kind::Number),
    ro("item", Kind::Ref(RecordType::InventoryItem)),
    f("quantity", Kind::Number),
    f("itemReceive", Kind::Bool),
    f("description", Kind::Text),
    f("location", Kind::OpaqueRef),
];

const PACKAGE_LINE: &[Field] = &[
    f("packageTrackingNumber", Kind::Text),
    f("packageWeight", Kind::Number),
    f("packageDescr", Kind::Text),
];

const BILL_LINE: &[Field] = &[
    ro("orderLine", Kind::Number),
    ro("item", Kind::Ref(RecordType::InventoryItem)),
    f("quantity", Kind::Number),
    f("rate", Kind::Number),
    f("amount", Kind::Number),
    f("description", Kind::Text),
];

const EXPENSE_LINE: &[Field] = &[
    f("account", Kind::OpaqueRef),
    f("amount", Kind::Number),
    f("memo", Kind::Text),
];

const SALES_ORDER_FIELDS: &[Field] = &[
    f("tranId", Kind::Text),
    f("tranDate", Kind::Date),
    f("entity", Kind::Ref(RecordType::Customer)),
    f("otherRefNum", Kind::Text),
    ro("status", Kind::Choice(SO_STATUS)),
    f("shippingAddress", Kind::Address),
    f("memo", Kind::Text),
    f("shipMethod", Kind::OpaqueRef),
    f("item", Kind::Sublist(SO_LINE)),
    ro("total", Kind::Number),
];

const PURCHASE_ORDER_FIELDS: &[Field] = &[
    f("tranId", Kind::Text),
    f("tranDate", Kind::Date),
    f("entity", Kind::Ref(RecordType::Vendor)),
    ro("createdFrom", Kind::Ref(RecordType::SalesOrder)),
    f("shippingAddress", Kind::Address),
    f("memo", Kind::Text),
    ro("status", Kind::Choice(PO_STATUS)),
    f("dueDate", Kind::Date),
    f("shipMethod", Kind::OpaqueRef),
    f("item", Kind::Sublist(PO_LINE)),
    ro("total", Kind::Number),
];

const FULFILLMENT_FIELDS: &[Field] = &[
    ro("createdFrom", Kind::Ref(RecordType::SalesOrder)),
    ro("entity", Kind::Ref(RecordType::Customer)),
    f("tranId", Kind::Text),
    f("tranDate", Kind::Date),
    f("shipStatus", Kind::Choice(SHIP_STATUS)),
    f("shipMethod", Kind::OpaqueRef),
    f("shipCarrier", Kind::OpaqueRef),
    f("memo", Kind::Text),
    f("item", Kind::Sublist(IF_LINE)),
    f("package", Kind::Sublist(PACKAGE_LINE)),
];

const BILL_FIELDS: &[Field] = &[
    ro("createdFrom", Kind::Ref(RecordType::PurchaseOrder)),
    f("entity", Kind::Ref(RecordType::Vendor)),
    f("tranId", Kind::Text),
    f("tranDate", Kind::Date),
    f("dueDate", Kind::Date),
    f("memo", Kind::Text),
    f("approvalStatus", Kind::Choice(APPROVAL)),
    f("userTotal", Kind::Number),
    ro("total", Kind::Number),
    f("item", Kind::Sublist(BILL_LINE)),
    f("expense", Kind::Sublist(EXPENSE_LINE)),
];

const ADDRESS_FIELDS: &[&str] = &[
    "addressee",
    "attention",
    "addr1",
    "addr2",
    "addr3",
    "city",
    "state",
    "zip",
    "country",
    "addrPhone",
];

/// Fields every record has that input never sets.
const SYSTEM_FIELDS: &[&str] = &["id", "links", "refName", "lastModifiedDate", "createdDate"];

/// A reference as a request gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefKey {
    /// By internal ID.
    Id(i64),
    /// By external ID.
    ExternalId(String),
}

/// Looks references up while a body is applied: the internal ID and the
/// `refName` of the record a reference names, or `None`.
pub trait Resolver {
    /// The record `key` of type `ty`.
    fn resolve(&self, ty: RecordType, key: &RefKey) -> Result<Option<(i64, String)>, NsError>;
}

/// How to apply a body.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// `X-NetSuite-PropertyNameValidation: error`: refuse unknown names.
    pub strict_names: bool,
    /// The sublists `?replace=` names (lower case).
    pub replace: Vec<String>,
}

/// What applying a body changed that the service must act on.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// The `externalId` the body set (`Some(None)` when it cleared it).
    pub external_id: Option<Option<String>>,
}

/// Applies a request body to a stored record (empty for a create): every
/// known field checked and converted, references resolved, sublists
/// merged by `line` (or replaced when `?replace=` names them), custom
/// fields kept, unknown names refused or ignored.
pub fn apply(
    ty: RecordType,
    record: &mut Map<String, Value>,
    body: &Map<String, Value>,
    opts: &ApplyOptions,
    resolver: &dyn Resolver,
) -> Result<Applied, NsError> {
    let mut applied = Applied::default();
    for (name, value) in body {
        if name == "externalId" {
            applied.external_id = Some(match value {
                Value::Null => None,
                Value::String(s) if valid_external_id(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => return Err(NsError::bad_field("externalId")),
            });
            continue;
        }
        if SYSTEM_FIELDS.contains(&name.as_str()) {
            continue;
        }
        if ty.custom_prefixes().iter().any(|p| name.starts_with(p)) {
            set_or_remove(record, name, value.clone());
            continue;
        }
        let Some(field) = ty.fields().iter().find(|f| f.name == name) else {
            if opts.strict_names {
                return Err(unknown_name(name));
            }
            continue;
        };
        if !field.writable {
            continue;
        }
        if let Kind::Sublist(line_fields) = field.kind {
            let lines = take_lines(name, value)?;
            let replace = opts.replace.iter().any(|r| r.eq_ignore_ascii_case(name));
            merge_sublist(record, name, line_fields, &lines, replace, opts, resolver)?;
            continue;
        }
        let converted = convert(&field.kind, name, value, opts, resolver)?;
        set_or_remove(record, name, converted);
    }
    Ok(applied)
}

/// Checks the fields a record must have; NetSuite's text.
pub fn check_required(ty: RecordType, record: &Map<String, Value>) -> Result<(), NsError> {
    let missing: Vec<&str> = ty
        .required()
        .iter()
        .filter(|(name, _)| {
            record
                .get(*name)
                .is_none_or(|v| v.is_null() || v.as_str().is_some_and(str::is_empty))
        })
        .map(|(_, label)| *label)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(NsError::user_error(format!(
            "Please enter value(s) for: {}",
            missing.join(", ")
        )))
    }
}

/// NetSuite's external ID rule: letters, digits, `_`, `-`, and `.`; at
/// most 255 characters.
pub fn valid_external_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn unknown_name(name: &str) -> NsError {
    NsError::invalid_value(
        name,
        format!(
            "Invalid field name '{name}'. The record has no field of that name, and X-NetSuite-PropertyNameValidation asks for an error."
        ),
    )
}

fn set_or_remove(record: &mut Map<String, Value>, name: &str, value: Value) {
    if value.is_null() {
        record.remove(name);
    } else {
        record.insert(name.to_string(), value);
    }
}

/// The `items` of a sublist in a request body.
fn take_lines(name: &str, value: &Value) -> Result<Vec<Map<String, Value>>, NsError> {
    let items = value
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            NsError::invalid_value(
                name,
                format!("The sublist '{name}' must be an object with an 'items' array."),
            )
        })?;
    items
        .iter()
        .enumerate()
        .map(|(i, line)| {
            line.as_object()
                .cloned()
                .ok_or_else(|| NsError::bad_field(&format!("{name}.items[{i}]")))
        })
        .collect()
}

fn merge_sublist(
    record: &mut Map<String, Value>,
    name: &str,
    fields: &'static [Field],
    input: &[Map<String, Value>],
    replace: bool,
    opts: &ApplyOptions,
    resolver: &dyn Resolver,
) -> Result<(), NsError> {
    let mut lines: Vec<Map<String, Value>> = if replace {
        Vec::new()
    } else {
        sublist_lines(record, name)
    };
    // Line numbers keep growing past the highest ever used on the record,
    // so a replaced or removed line's number is not given again.
    let counter_key = format!("__next_{name}_line");
    let mut next = record
        .get(&counter_key)
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(lines.iter().filter_map(line_no).max().unwrap_or(0) + 1);
    for (i, given) in input.iter().enumerate() {
        let path = format!("{name}.items[{i}]");
        let existing = match given.get("line") {
            Some(v) if !replace => {
                let n = as_i64(v).ok_or_else(|| NsError::bad_field(&format!("{path}.line")))?;
                let at = lines
                    .iter()
                    .position(|l| line_no(l) == Some(n))
                    .ok_or_else(|| {
                        NsError::invalid_value(
                            format!("{path}.line"),
                            format!("The sublist line {n} does not exist on the record."),
                        )
                    })?;
                Some(at)
            }
            _ => None,
        };
        let mut line = match existing {
            Some(at) => lines[at].clone(),
            None => {
                let mut l = Map::new();
                l.insert("line".into(), json!(next));
                next += 1;
                l
            }
        };
        apply_line(&mut line, given, fields, &path, opts, resolver)?;
        match existing {
            Some(at) => lines[at] = line,
            None => lines.push(line),
        }
    }
    record.insert(counter_key, json!(next));
    record.insert(name.to_string(), json!({ "items": lines }));
    Ok(())
}

/// Applies one line of a request to a line of a sublist; `line` itself
/// is the merge key and never set here.
pub fn apply_line(
    line: &mut Map<String, Value>,
    given: &Map<String, Value>,
    fields: &'static [Field],
    path: &str,
    opts: &ApplyOptions,
    resolver: &dyn Resolver,
) -> Result<(), NsError> {
    for (name, value) in given {
        if name == "line" || SYSTEM_FIELDS.contains(&name.as_str()) {
            continue;
        }
        if name.starts_with("custcol_") {
            set_or_remove(line, name, value.clone());
            continue;
        }
        let Some(field) = fields.iter().find(|f| f.name == name) else {
            if opts.strict_names {
                return Err(unknown_name(&format!("{path}.{name}")));
            }
            continue;
        };
        if !field.writable {
            continue;
        }
        let converted = convert(
            &field.kind,
            &format!("{path}.{name}"),
            value,
            opts,
            resolver,
        )?;
        set_or_remove(line, name, converted);
    }
    if let Some(q) = line.get("quantity").and_then(Value::as_f64)
        && q <= 0.0
    {
        return Err(NsError::invalid_value(
            format!("{path}.quantity"),
            format!(
                "Invalid value for the resource or sub-resource field '{path}.quantity'. The quantity must be greater than 0."
            ),
        ));
    }
    // The amount follows quantity × rate; an amount given without a rate
    // sets the rate.
    let quantity = line.get("quantity").and_then(Value::as_f64);
    if given.contains_key("amount") && !given.contains_key("rate") {
        if let (Some(q), Some(a)) = (quantity, line.get("amount").and_then(Value::as_f64)) {
            line.insert("rate".into(), number(a / q));
        }
    } else if let (Some(q), Some(r)) = (quantity, line.get("rate").and_then(Value::as_f64)) {
        line.insert("amount".into(), number(round2(q * r)));
    }
    Ok(())
}

fn convert(
    kind: &Kind,
    path: &str,
    value: &Value,
    opts: &ApplyOptions,
    resolver: &dyn Resolver,
) -> Result<Value, NsError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let bad = || NsError::bad_field(path);
    Ok(match kind {
        Kind::Text => match value {
            Value::String(_) => value.clone(),
            Value::Number(n) => Value::String(n.to_string()),
            _ => return Err(bad()),
        },
        Kind::Number => match value {
            Value::Number(n) => number(n.as_f64().ok_or_else(bad)?),
            Value::String(s) => number(s.trim().parse::<f64>().map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        Kind::Bool => match value {
            Value::Bool(_) => value.clone(),
            _ => return Err(bad()),
        },
        Kind::Date => {
            let s = value.as_str().ok_or_else(bad)?;
            let date = s.get(..10).unwrap_or(s);
            chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad())?;
            Value::String(date.to_string())
        }
        Kind::OpaqueRef => match value {
            Value::Object(_) => value.clone(),
            Value::String(_) | Value::Number(_) => json!({ "id": scalar_text(value) }),
            _ => return Err(bad()),
        },
        Kind::Choice(choices) => {
            let id = match value {
                Value::Object(o) => o.get("id").map(scalar_text),
                Value::String(_) | Value::Number(_) => Some(scalar_text(value)),
                _ => None,
            }
            .ok_or_else(bad)?;
            let (id, name) = choices
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(&id))
                .ok_or_else(bad)?;
            json!({ "id": id, "refName": name })
        }
        Kind::Ref(target) => {
            let key = ref_key(value).ok_or_else(bad)?;
            let (id, name) = resolver.resolve(*target, &key)?.ok_or_else(|| {
                NsError::invalid_value(
                    path,
                    format!(
                        "Invalid value for the resource or sub-resource field '{path}'. The {} {} does not exist.",
                        target.name(),
                        match &key {
                            RefKey::Id(id) => format!("with ID {id}"),
                            RefKey::ExternalId(e) => format!("with external ID '{e}'"),
                        }
                    ),
                )
            })?;
            json!({ "id": id.to_string(), "refName": name })
        }
        Kind::Address => {
            let given = value.as_object().ok_or_else(bad)?;
            let mut out = Map::new();
            for (name, v) in given {
                if SYSTEM_FIELDS.contains(&name.as_str()) {
                    continue;
                }
                if name == "country" {
                    let code = match v {
                        Value::Object(o) => o.get("id").map(scalar_text),
                        Value::String(s) => Some(s.clone()),
                        _ => None,
                    }
                    .filter(|c| c.len() == 2 && c.chars().all(|c| c.is_ascii_alphabetic()))
                    .ok_or_else(|| NsError::bad_field(&format!("{path}.country")))?;
                    let code = code.to_ascii_uppercase();
                    out.insert(
                        "country".into(),
                        json!({ "id": code, "refName": country_name(&code) }),
                    );
                } else if ADDRESS_FIELDS.contains(&name.as_str()) {
                    match v {
                        Value::String(_) => {
                            out.insert(name.clone(), v.clone());
                        }
                        Value::Null => {}
                        _ => return Err(NsError::bad_field(&format!("{path}.{name}"))),
                    }
                } else if opts.strict_names {
                    return Err(unknown_name(&format!("{path}.{name}")));
                }
            }
            Value::Object(out)
        }
        Kind::Sublist(_) => return Err(bad()),
    })
}

/// A reference in a request: `{"id"}`, `{"externalId"}`, or a bare ID.
pub fn ref_key(value: &Value) -> Option<RefKey> {
    match value {
        Value::Object(o) => {
            if let Some(id) = o.get("id") {
                scalar_text(id).trim().parse().ok().map(RefKey::Id)
            } else {
                o.get("externalId").map(scalar_text).map(RefKey::ExternalId)
            }
        }
        Value::String(_) | Value::Number(_) => {
            scalar_text(value).trim().parse().ok().map(RefKey::Id)
        }
        _ => None,
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A line's `line` number.
pub fn line_no(line: &Map<String, Value>) -> Option<i64> {
    line.get("line").and_then(as_i64)
}

/// A line's number field (`quantity`, `quantityBilled`), 0 when absent.
pub fn num(line: &Map<String, Value>, name: &str) -> f64 {
    line.get(name).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The ID a stored reference holds.
pub fn ref_id(value: Option<&Value>) -> Option<i64> {
    value.and_then(|v| v.get("id")).and_then(as_i64)
}

/// A JSON number from a float, as NetSuite writes them (`2.0`).
pub fn number(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Rounds money to cents.
pub fn round2(f: f64) -> f64 {
    (f * 100.0).round() / 100.0
}

/// The lines of a stored sublist.
pub fn sublist_lines(record: &Map<String, Value>, name: &str) -> Vec<Map<String, Value>> {
    record
        .get(name)
        .and_then(|s| s.get("items"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|l| l.as_object().cloned())
                .collect()
        })
        .unwrap_or_default()
}

/// Replaces the lines of a stored sublist.
pub fn set_sublist(record: &mut Map<String, Value>, name: &str, lines: Vec<Map<String, Value>>) {
    record.insert(name.to_string(), json!({ "items": lines }));
}

fn country_name(code: &str) -> &'static str {
    match code {
        "US" => "United States",
        "CA" => "Canada",
        "GB" => "United Kingdom",
        "DE" => "Germany",
        "FR" => "France",
        "MX" => "Mexico",
        _ => "",
    }
}

/// The `refName` of a stored record of the type.
pub fn display_name(ty: RecordType, record: &Map<String, Value>) -> String {
    let text = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_string);
    match ty.family() {
        Family::Entity => text("companyName")
            .or_else(|| text("entityId"))
            .unwrap_or_default(),
        Family::Item => text("itemId").unwrap_or_default(),
        Family::Transaction => match text("tranId") {
            Some(t) => format!("{} #{t}", ty.label()),
            None => ty.label().to_string(),
        },
    }
}

/// Where a stored record is rendered: the base of the links.
#[derive(Clone, Debug)]
pub struct Rendering<'a> {
    /// `http://host:port/services/rest`.
    pub base: &'a str,
    /// `expandSubResources=true`.
    pub expand: bool,
    /// `fields=a,b`: only these body fields (and `id`, `links`).
    pub fields: Option<Vec<String>>,
}

/// The metadata of a stored record the store keeps in columns.
#[derive(Clone, Debug)]
pub struct Meta {
    /// The internal ID.
    pub id: i64,
    /// The external ID.
    pub external_id: Option<String>,
    /// When it was created, ISO 8601 UTC.
    pub created: String,
    /// When it was last changed, ISO 8601 UTC.
    pub last_modified: String,
}

/// A stored record as the record service answers it.
pub fn render(ty: RecordType, meta: &Meta, record: &Map<String, Value>, how: &Rendering) -> Value {
    let self_href = format!("{}/record/v1/{}/{}", how.base, ty.name(), meta.id);
    let mut out = Map::new();
    out.insert(
        "links".into(),
        json!([{ "rel": "self", "href": self_href }]),
    );
    out.insert("id".into(), Value::String(meta.id.to_string()));
    if let Some(eid) = &meta.external_id {
        out.insert("externalId".into(), Value::String(eid.clone()));
    }
    out.insert("createdDate".into(), Value::String(meta.created.clone()));
    out.insert(
        "lastModifiedDate".into(),
        Value::String(meta.last_modified.clone()),
    );
    for (name, value) in record {
        if name.starts_with("__") {
            continue;
        }
        if let Some(wanted) = &how.fields
            && !wanted.iter().any(|w| w.eq_ignore_ascii_case(name))
        {
            continue;
        }
        let kind = ty.fields().iter().find(|f| f.name == name).map(|f| &f.kind);
        let href = format!("{self_href}/{name}");
        let rendered = match kind {
            Some(Kind::Sublist(_)) => {
                if how.expand {
                    sublist_page(&href, &sublist_lines(record, name), true)
                } else {
                    json!({ "links": [{ "rel": "self", "href": href }] })
                }
            }
            Some(Kind::Address) => {
                if how.expand {
                    let mut address = value.as_object().cloned().unwrap_or_default();
                    address.insert("links".into(), json!([{ "rel": "self", "href": href }]));
                    Value::Object(address)
                } else {
                    json!({ "links": [{ "rel": "self", "href": href }] })
                }
            }
            _ => value.clone(),
        };
        out.insert(name.clone(), rendered);
    }
    Value::Object(out)
}

/// A sublist as a collection: its lines in full (`expand`) or as links.
pub fn sublist_page(href: &str, lines: &[Map<String, Value>], expand: bool) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .map(|line| {
            let line_href = format!("{href}/{}", line_no(line).unwrap_or(0));
            let links = json!([{ "rel": "self", "href": line_href }]);
            if expand {
                let mut l = line.clone();
                l.insert("links".into(), links);
                Value::Object(l)
            } else {
                json!({ "links": links })
            }
        })
        .collect();
    json!({
        "links": [{ "rel": "self", "href": href }],
        "count": items.len(),
        "hasMore": false,
        "items": items,
        "offset": 0,
        "totalResults": lines.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Items;
    impl Resolver for Items {
        fn resolve(&self, ty: RecordType, key: &RefKey) -> Result<Option<(i64, String)>, NsError> {
            Ok(match (ty, key) {
                (RecordType::InventoryItem, RefKey::Id(7)) => Some((7, "WIDGET".into())),
                (RecordType::Customer, RefKey::ExternalId(e)) if e == "C1" => {
                    Some((3, "Acme".into()))
                }
                _ => None,
            })
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn references_resolve_by_id_or_external_id_and_a_missing_one_names_its_path() {
        let mut so = Map::new();
        let body = obj(json!({
            "entity": {"externalId": "C1"},
            "item": {"items": [{"item": {"id": "7"}, "quantity": 2, "rate": 1.5}]},
            "custbody_x": "kept",
        }));
        apply(
            RecordType::SalesOrder,
            &mut so,
            &body,
            &ApplyOptions::default(),
            &Items,
        )
        .expect("the test input is valid");
        assert_eq!(so["entity"], json!({"id": "3", "refName": "Acme"}));
        let lines = sublist_lines(&so, "item");
        assert_eq!(lines[0]["line"], json!(1));
        assert_eq!(lines[0]["amount"].as_f64(), Some(3.0));
        assert_eq!(so["custbody_x"], "kept");

        let bad = obj(json!({"item": {"items": [{"item": {"id": "8"}, "quantity": 1}]}}));
        let err = apply(
            RecordType::SalesOrder,
            &mut so,
            &bad,
            &ApplyOptions::default(),
            &Items,
        )
        .expect_err("the input is refused");
        assert_eq!(err.path.as_deref(), Some("item.items[0].item"));
        assert_eq!(err.code.as_str(), "INVALID_VALUE");
    }

    #[test]
    fn lines_merge_by_line_unless_replaced_and_unknown_names_follow_the_header() {
        let mut so = Map::new();
        let opts = ApplyOptions::default();
        let body = obj(json!({"item": {"items": [
            {"item": {"id": 7}, "quantity": 1, "rate": 2},
            {"item": {"id": 7}, "quantity": 5, "rate": 2}]}}));
        apply(RecordType::SalesOrder, &mut so, &body, &opts, &Items)
            .expect("the test input is valid");
        let patch = obj(json!({"item": {"items": [{"line": 2, "quantity": 3}]}, "bogus": 1}));
        apply(RecordType::SalesOrder, &mut so, &patch, &opts, &Items)
            .expect("the test input is valid");
        let lines = sublist_lines(&so, "item");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["quantity"].as_f64(), Some(3.0));
        assert_eq!(lines[1]["amount"].as_f64(), Some(6.0));
        assert!(!so.contains_key("bogus"));

        let strict = ApplyOptions {
            strict_names: true,
            replace: vec!["item".into()],
        };
        let mut attempt = so.clone();
        let err = apply(
            RecordType::SalesOrder,
            &mut attempt,
            &patch,
            &strict,
            &Items,
        )
        .expect_err("the input is refused");
        assert_eq!(err.path.as_deref(), Some("bogus"));
        let replace = obj(json!({"item": {"items": [{"item": {"id": 7}, "quantity": 9}]}}));
        apply(RecordType::SalesOrder, &mut so, &replace, &strict, &Items)
            .expect("the test input is valid");
        let lines = sublist_lines(&so, "item");
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0]["line"],
            json!(3),
            "line numbers are not given again"
        );
    }
}
