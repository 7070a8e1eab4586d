//! The canonical model: the documents every vendor format is mapped to and
//! from. Plain serde types with exact decimals and ISO dates; no I/O.
//!
//! A document travels as a JSON object with a `"type"` (`purchase_order`,
//! `po_ack`, `po_change`, `po_change_ack`, `order_status`, `ship_notice`,
//! `invoice`, `return_authorization`, `adjustment`, `inventory_advice`,
//! `functional_ack`, `interchange_ack`, `remittance`) and a `"source"`.
//! Absent optional fields are left out;
//! lists are always there, empty or not. `schema/canonical.schema.json` is
//! the JSON Schema of [`Document`], generated from these types.

pub mod adjustment;
pub mod decimal;
pub mod functional_ack;
pub mod head;
pub mod interchange_ack;
pub mod inventory;
pub mod invoice;
pub mod order_status;
pub mod party;
pub mod po_ack;
pub mod po_change;
pub mod po_change_ack;
pub mod purchase_order;
pub mod reconciliation;
pub mod remittance;
pub mod return_authorization;
pub mod schema;
pub mod ship_notice;
pub mod source;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use adjustment::{Adjustment, AdjustmentLine, AdjustmentReason, CreditOrDebit};
pub use decimal::Decimal;
pub use functional_ack::{AckStatus, ElementError, FunctionalAck, SegmentError, SetAck};
pub use interchange_ack::InterchangeAck;
pub use inventory::{InventoryAdvice, InventoryItem};
pub use invoice::{Charge, ChargeKind, Invoice, InvoiceLine, InvoiceType, Terms};
pub use order_status::{OrderState, OrderStatus, OrderStatusLine, OrderStatusOrder};
pub use party::{Carrier, Party};
pub use po_ack::{AckType, LineStatus, LineStatusDetail, PoAck, PoAckLine};
pub use po_change::{ChangeError, ChangePurpose, ChangeType, PoChange, PoChangeLine};
pub use po_change_ack::{PoChangeAck, PoChangeAckLine};
pub use purchase_order::{PoLine, PoType, PurchaseOrder, Purpose};
pub use reconciliation::{Reconciliation, ReconciliationStatus, Variance, VarianceKind};
pub use remittance::{
    BankAccount, PaymentMethod, Remittance, RemittanceAdjustment, RemittedInvoice,
};
pub use return_authorization::{ReturnAuthorization, ReturnLine, ReturnReason};
pub use ship_notice::{Package, ShipItem, ShipNotice, ShipOrder};
pub use source::{Extraction, Source, SourceFormat};

/// A canonical document of any type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Document {
    /// A purchase order.
    PurchaseOrder(PurchaseOrder),
    /// A purchase order acknowledgment.
    PoAck(PoAck),
    /// An advance ship notice.
    ShipNotice(ShipNotice),
    /// An invoice.
    Invoice(Invoice),
    /// An inventory report.
    InventoryAdvice(InventoryAdvice),
    /// A functional or implementation acknowledgment.
    FunctionalAck(FunctionalAck),
    /// An interchange acknowledgment (TA1).
    InterchangeAck(InterchangeAck),
    /// A change or cancellation of a purchase order.
    PoChange(PoChange),
    /// A vendor's answer to a purchase order change.
    PoChangeAck(PoChangeAck),
    /// A vendor's report on the status of orders.
    OrderStatus(OrderStatus),
    /// A return merchandise authorization or notification.
    ReturnAuthorization(ReturnAuthorization),
    /// A credit or debit adjustment.
    Adjustment(Adjustment),
    /// A remittance advice (the retailer's, outbound).
    Remittance(Remittance),
}

/// The type of a document, as its `"type"` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentType {
    /// `purchase_order`.
    PurchaseOrder,
    /// `po_ack`.
    PoAck,
    /// `ship_notice`.
    ShipNotice,
    /// `invoice`.
    Invoice,
    /// `inventory_advice`.
    InventoryAdvice,
    /// `functional_ack`.
    FunctionalAck,
    /// `interchange_ack`.
    InterchangeAck,
    /// `po_change`.
    PoChange,
    /// `po_change_ack`.
    PoChangeAck,
    /// `order_status`.
    OrderStatus,
    /// `return_authorization`.
    ReturnAuthorization,
    /// `adjustment`.
    Adjustment,
    /// `remittance`.
    Remittance,
}

impl DocumentType {
    /// Every type, in the order of [`Document`].
    pub const ALL: [DocumentType; 13] = [
        DocumentType::PurchaseOrder,
        DocumentType::PoAck,
        DocumentType::ShipNotice,
        DocumentType::Invoice,
        DocumentType::InventoryAdvice,
        DocumentType::FunctionalAck,
        DocumentType::InterchangeAck,
        DocumentType::PoChange,
        DocumentType::PoChangeAck,
        DocumentType::OrderStatus,
        DocumentType::ReturnAuthorization,
        DocumentType::Adjustment,
        DocumentType::Remittance,
    ];

    /// The name used in `"type"` and in mapping files.
    pub fn name(self) -> &'static str {
        match self {
            DocumentType::PurchaseOrder => "purchase_order",
            DocumentType::PoAck => "po_ack",
            DocumentType::ShipNotice => "ship_notice",
            DocumentType::Invoice => "invoice",
            DocumentType::InventoryAdvice => "inventory_advice",
            DocumentType::FunctionalAck => "functional_ack",
            DocumentType::InterchangeAck => "interchange_ack",
            DocumentType::PoChange => "po_change",
            DocumentType::PoChangeAck => "po_change_ack",
            DocumentType::OrderStatus => "order_status",
            DocumentType::ReturnAuthorization => "return_authorization",
            DocumentType::Adjustment => "adjustment",
            DocumentType::Remittance => "remittance",
        }
    }

    /// The type with this name.
    pub fn from_name(name: &str) -> Option<DocumentType> {
        DocumentType::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for DocumentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Document {
    /// The document's type.
    pub fn document_type(&self) -> DocumentType {
        match self {
            Document::PurchaseOrder(_) => DocumentType::PurchaseOrder,
            Document::PoAck(_) => DocumentType::PoAck,
            Document::ShipNotice(_) => DocumentType::ShipNotice,
            Document::Invoice(_) => DocumentType::Invoice,
            Document::InventoryAdvice(_) => DocumentType::InventoryAdvice,
            Document::FunctionalAck(_) => DocumentType::FunctionalAck,
            Document::InterchangeAck(_) => DocumentType::InterchangeAck,
            Document::PoChange(_) => DocumentType::PoChange,
            Document::PoChangeAck(_) => DocumentType::PoChangeAck,
            Document::OrderStatus(_) => DocumentType::OrderStatus,
            Document::ReturnAuthorization(_) => DocumentType::ReturnAuthorization,
            Document::Adjustment(_) => DocumentType::Adjustment,
            Document::Remittance(_) => DocumentType::Remittance,
        }
    }

    /// Where the document came from.
    pub fn source(&self) -> &Source {
        match self {
            Document::PurchaseOrder(d) => &d.source,
            Document::PoAck(d) => &d.source,
            Document::ShipNotice(d) => &d.source,
            Document::Invoice(d) => &d.source,
            Document::InventoryAdvice(d) => &d.source,
            Document::FunctionalAck(d) => &d.source,
            Document::InterchangeAck(d) => &d.source,
            Document::PoChange(d) => &d.source,
            Document::PoChangeAck(d) => &d.source,
            Document::OrderStatus(d) => &d.source,
            Document::ReturnAuthorization(d) => &d.source,
            Document::Adjustment(d) => &d.source,
            Document::Remittance(d) => &d.source,
        }
    }
}
