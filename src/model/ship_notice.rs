//! `ship_notice`: what a vendor shipped, in which packages, with which
//! tracking numbers (X12 856, or a vendor's tracking feed).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Decimal;
use super::party::{Carrier, Party};
use super::source::Source;

/// An advance ship notice.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipNotice {
    /// Where the document came from.
    pub source: Source,
    /// The shipment's identifier (X12 BSN02).
    pub asn_number: String,
    /// The date the goods shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_date: Option<NaiveDate>,
    /// The carrier and service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<Carrier>,
    /// Every tracking or PRO number in the notice, at any level, in document
    /// order, without duplicates.
    #[serde(default)]
    pub tracking_numbers: Vec<String>,
    /// Where the goods shipped from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_from: Option<Party>,
    /// Where the goods go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<Party>,
    /// The orders shipped.
    #[serde(default)]
    pub orders: Vec<ShipOrder>,
}

/// One order in a shipment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipOrder {
    /// The purchase order shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    /// The packages of the order, flat: a package on a pallet says so in
    /// `pallet_sscc`.
    #[serde(default)]
    pub packages: Vec<Package>,
}

/// A carton or parcel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// The carrier's tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// The SSCC-18 of the carton label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sscc: Option<String>,
    /// The SSCC-18 of the pallet the package is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pallet_sscc: Option<String>,
    /// What is in the package.
    #[serde(default)]
    pub items: Vec<ShipItem>,
}

/// An item in a package.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipItem {
    /// The order line shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    /// The vendor's item number (X12 VN, VP, VC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The buyer's (the retailer's) item number (X12 BP, IN, SK, PI, CB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_sku: Option<String>,
    /// The U.P.C. of the item, 12 digits with the check digit (a GTIN-12;
    /// X12 UP, or UI with its check digit added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upc: Option<String>,
    /// The GTIN of the item as 14 digits (X12 UK; an EAN-13 or a GTIN-8,
    /// X12 EN or EO, with leading zeros). A U.P.C. is in `upc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    /// The U.P.C. case code of the case the item comes in, as sent (X12 UA,
    /// UN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_code: Option<String>,
    /// The vendor's style number (X12 VA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// The buyer's style number (X12 IT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_style: Option<String>,
    /// The manufacturer's part number (X12 MG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_part: Option<String>,
    /// The model number (X12 MN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_number: Option<String>,
    /// The National Drug Code (X12 ND, N4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ndc: Option<String>,
    /// The ISBN (X12 IB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isbn: Option<String>,
    /// The quantity shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// The unit of measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
}
