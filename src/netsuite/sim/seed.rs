//! The demo data set (`--seed`, `POST /_sim/seed`): two vendors, a
//! customer, and four drop-ship items with their preferred vendor, the
//! vendor's SKU (`vendorName`), a UPC and a purchase price. Written
//! through the same checks as a request, with external IDs so a client
//! can find them without knowing the internal IDs.

use serde_json::{Map, Value, json};

use super::error::NsError;
use super::records::{self, ApplyOptions, RecordType};
use super::service::{self, Service};

/// The demo records, in the order they are created.
pub fn demo_records() -> Vec<(RecordType, Value)> {
    let item =
        |eid: &str, sku: &str, name: &str, upc: &str, vendor_sku: &str, vendor: &str, cost: f64| {
            json!({
                "externalId": eid, "itemId": sku, "displayName": name, "upcCode": upc,
                "vendorName": vendor_sku, "isDropShipItem": true,
                "preferredVendor": { "externalId": vendor }, "cost": cost,
            })
        };
    vec![
        (
            RecordType::Vendor,
            json!({"externalId": "V-ACME", "entityId": "ACME", "companyName": "Acme Supply Co", "email": "orders@acme.example"}),
        ),
        (
            RecordType::Vendor,
            json!({"externalId": "V-GLOBEX", "entityId": "GLOBEX", "companyName": "Globex Wholesale", "email": "edi@globex.example"}),
        ),
        (
            RecordType::Customer,
            json!({"externalId": "C-DEMO", "entityId": "DEMO-SHOP", "companyName": "Demo Shop", "email": "buyer@demo.example"}),
        ),
        (
            RecordType::InventoryItem,
            item(
                "I-WIDGET",
                "WIDGET-BLUE",
                "Blue Widget",
                "012345678905",
                "ACME-WB-100",
                "V-ACME",
                4.25,
            ),
        ),
        (
            RecordType::InventoryItem,
            item(
                "I-GADGET",
                "GADGET-RED",
                "Red Gadget",
                "012345678912",
                "ACME-GR-200",
                "V-ACME",
                11.5,
            ),
        ),
        (
            RecordType::InventoryItem,
            item(
                "I-SPROCKET",
                "SPROCKET-8",
                "Sprocket 8 mm",
                "012345678929",
                "GLX-SP8",
                "V-GLOBEX",
                0.8,
            ),
        ),
        (
            RecordType::InventoryItem,
            item(
                "I-FLANGE",
                "FLANGE-2IN",
                "Flange 2 in",
                "012345678936",
                "GLX-FL2",
                "V-GLOBEX",
                7.0,
            ),
        ),
    ]
}

/// Loads the demo data set into the account.
pub fn load(service: &Service) -> Result<(), NsError> {
    service.seed_with(|conn, resolver| {
        for (ty, value) in demo_records() {
            let body: Map<String, Value> = value.as_object().cloned().unwrap_or_default();
            let mut record = Map::new();
            let applied =
                records::apply(ty, &mut record, &body, &ApplyOptions::default(), resolver)?;
            service::insert(conn, ty, record, applied.external_id.flatten())?;
        }
        Ok(())
    })
}
