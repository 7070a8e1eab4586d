//! Parties (ship-to, bill-to, remit-to, ...) and carriers, shared by the
//! document types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A name and address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// An identifier of the party (a store, warehouse or account number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name of the person or company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A second name line: attention, care of (X12 N2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name2: Option<String>,
    /// The first address line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    /// The second address line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    /// The city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// The state or province code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// The country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// A telephone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// An e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A carrier and its level of service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Carrier {
    /// The carrier's Standard Carrier Alpha Code (e.g. `UPSN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scac: Option<String>,
    /// The service level or routing (e.g. `UPS Ground`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}
