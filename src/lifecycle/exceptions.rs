//! Exceptions: what needs a person, found from an order's state (or a
//! channel's, a feed's, a file's) at a given moment by the partner's
//! [`Rules`]. Each finding has a kind and a subject; the store keeps one
//! open exception per kind and subject, opened when a finding first
//! appears and closed when it no longer does (the document that resolves
//! it has come), so the same exception is never raised twice.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use rust_decimal::Decimal;

use super::order::{Line, Order, OrderState};
use super::rules::Rules;
use crate::store::InvoiceHold;

/// What kind of exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExceptionKind {
    /// No 997/999 for an X12 order in time.
    No997,
    /// No 855 in time.
    No855,
    /// The partner rejected the order (855 or 997).
    Rejected,
    /// Not shipped in full by the date promised or asked for.
    Late,
    /// Shipped quantities differ from the order's.
    QuantityMismatch,
    /// Billed with no ship notice.
    InvoiceWithoutShipNotice,
    /// An invoice is held by reconciliation.
    InvoiceHeld,
    /// A file was quarantined.
    Quarantined,
    /// A channel has been failing.
    ChannelFailing,
    /// No inventory report in time.
    InventoryMissing,
    /// A delivery (to the relay, or to a partner: an AS2 message without
    /// its MDN) not made for too long.
    DeliveryFailing,
}

impl ExceptionKind {
    /// Every kind.
    pub const ALL: [ExceptionKind; 11] = [
        ExceptionKind::No997,
        ExceptionKind::No855,
        ExceptionKind::Rejected,
        ExceptionKind::Late,
        ExceptionKind::QuantityMismatch,
        ExceptionKind::InvoiceWithoutShipNotice,
        ExceptionKind::InvoiceHeld,
        ExceptionKind::Quarantined,
        ExceptionKind::ChannelFailing,
        ExceptionKind::InventoryMissing,
        ExceptionKind::DeliveryFailing,
    ];

    /// As stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::No997 => "no-997",
            ExceptionKind::No855 => "no-855",
            ExceptionKind::Rejected => "rejected",
            ExceptionKind::Late => "late",
            ExceptionKind::QuantityMismatch => "quantity-mismatch",
            ExceptionKind::InvoiceWithoutShipNotice => "invoice-without-ship-notice",
            ExceptionKind::InvoiceHeld => "invoice-held",
            ExceptionKind::Quarantined => "quarantined",
            ExceptionKind::ChannelFailing => "channel-failing",
            ExceptionKind::InventoryMissing => "inventory-missing",
            ExceptionKind::DeliveryFailing => "delivery-failing",
        }
    }

    /// From its stored name.
    pub fn parse(s: &str) -> Option<ExceptionKind> {
        ExceptionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for ExceptionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that needs a person, now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What kind.
    pub kind: ExceptionKind,
    /// What it is about, unique per kind: `order:PARTNER:PO`,
    /// `file:ID`, `channel:NAME`, `inventory:PARTNER`, `delivery:ID`.
    pub subject: String,
    /// The partner, when there is one.
    pub partner: Option<String>,
    /// The PO number, for an order's.
    pub po_number: Option<String>,
    /// Why, in a sentence.
    pub reason: String,
}

/// The subject of an order's exceptions.
pub fn order_subject(partner: &str, po_number: &str) -> String {
    format!("order:{partner}:{po_number}")
}

/// A span as a person reads it: `45 s`, `30 min`, `4 h`, `1 h 30 min`.
fn hours(span: Duration) -> String {
    let s = span.num_seconds().max(0);
    match (s / 3600, s % 3600 / 60) {
        (0, 0) => format!("{s} s"),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// `1 unit`, `3 units`, `2.5 units`.
pub fn units(n: Decimal) -> String {
    match n.normalize() {
        one if one == Decimal::ONE => "1 unit".into(),
        n => format!("{n} units"),
    }
}

fn line_name(l: &Line, i: usize) -> String {
    match (&l.line_number, &l.sku) {
        (Some(n), Some(s)) => format!("line {n} ({s})"),
        (Some(n), None) => format!("line {n}"),
        (None, Some(s)) => format!("item {s}"),
        (None, None) => format!("line #{}", i + 1),
    }
}

/// The order's exceptions at `now`.
pub fn for_order(order: &Order, rules: &Rules, now: DateTime<Utc>) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut add = |kind: ExceptionKind, reason: String| found.push(finding(order, kind, reason));
    match order.state {
        OrderState::Cancelled | OrderState::Reconciled => return Vec::new(),
        OrderState::Rejected => {
            add(
                ExceptionKind::Rejected,
                format!(
                    "{} rejected purchase order {}",
                    order.partner, order.po_number
                ),
            );
            return found;
        }
        _ => {}
    }
    if let Some(sent) = order.sent_at {
        let waited = now - sent;
        if let Some(span) = rules.no_997_after.map(|s| s.chrono())
            && order.x12
            && order.functional_ack.is_none()
            && waited >= span
        {
            add(
                ExceptionKind::No997,
                format!(
                    "no 997 for purchase order {} {} after it was sent (the rule: {})",
                    order.po_number,
                    hours(waited),
                    hours(span)
                ),
            );
        }
        if let Some(span) = rules.no_855_after.map(|s| s.chrono())
            && order.first_ack_at.is_none()
            && order.first_ship_at.is_none()
            && waited >= span
        {
            add(
                ExceptionKind::No855,
                format!(
                    "no 855 for purchase order {} {} after it was sent (the rule: {})",
                    order.po_number,
                    hours(waited),
                    hours(span)
                ),
            );
        }
    }
    if let (Some(grace), Some(due)) = (rules.late_after.map(|s| s.chrono()), order.due)
        && !order.fully_shipped()
        && order.sent_at.is_some()
    {
        let end_of_due = (due + Duration::days(1)).and_time(NaiveTime::MIN).and_utc();
        if now >= end_of_due + grace {
            let left: Decimal = order
                .lines
                .iter()
                .filter(|l| !l.complete())
                .map(|l| l.ordered - l.shipped)
                .sum();
            add(
                ExceptionKind::Late,
                format!(
                    "purchase order {} was due to ship by {due}; {} not shipped",
                    order.po_number,
                    units(left)
                ),
            );
        }
    }
    // Quantities are judged against an order only: documents for a PO
    // number never sent have none.
    if rules.quantity_mismatch && order.state != OrderState::Unknown {
        let mut notes = Vec::new();
        // Short: billed after shipping less (an invoice with no ship
        // notice at all is its own exception).
        let billed = !order.invoices.is_empty() && order.first_ship_at.is_some();
        for (i, l) in order.lines.iter().enumerate() {
            // A line the vendor backordered is expected later, not short.
            let waited_for = l.ack == Some(crate::model::LineStatus::Backordered);
            if l.shipped > l.ordered
                || (billed && !l.complete() && !waited_for && l.shipped < l.ordered)
            {
                notes.push(format!(
                    "{} shipped {} of {}",
                    line_name(l, i),
                    l.shipped.normalize(),
                    l.ordered.normalize()
                ));
            }
        }
        if order.unplaced_shipped > Decimal::ZERO {
            notes.push(format!(
                "{} shipped that are not on the order",
                units(order.unplaced_shipped)
            ));
        }
        if !notes.is_empty() {
            add(
                ExceptionKind::QuantityMismatch,
                format!("purchase order {}: {}", order.po_number, notes.join("; ")),
            );
        }
    }
    if rules.invoice_without_ship_notice
        && order.first_ship_at.is_none()
        && let Some(first) = order.invoices.first()
    {
        add(
            ExceptionKind::InvoiceWithoutShipNotice,
            format!(
                "invoice {} bills purchase order {}, for which no ship notice came",
                first.number, order.po_number
            ),
        );
    }
    if rules.invoice_held {
        let held: Vec<String> = order
            .invoices
            .iter()
            .filter(|i| i.hold == InvoiceHold::Held)
            .map(|i| match i.variances {
                1 => format!("{} (1 variance)", i.number),
                n => format!("{} ({n} variances)", i.number),
            })
            .collect();
        if !held.is_empty() {
            add(
                ExceptionKind::InvoiceHeld,
                format!(
                    "invoice {} for purchase order {} held by reconciliation",
                    held.join(", "),
                    order.po_number
                ),
            );
        }
    }
    found
}

fn finding(order: &Order, kind: ExceptionKind, reason: String) -> Finding {
    Finding {
        kind,
        subject: order_subject(&order.partner, &order.po_number),
        partner: Some(order.partner.clone()),
        po_number: Some(order.po_number.clone()),
        reason,
    }
}

/// A channel that has failed since `since`, at `now`.
pub fn for_channel(
    channel: &str,
    since: DateTime<Utc>,
    last_error: &str,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Option<Finding> {
    let span = rules.channel_failing_after?.chrono();
    (now - since >= span).then(|| Finding {
        kind: ExceptionKind::ChannelFailing,
        subject: format!("channel:{channel}"),
        partner: None,
        po_number: None,
        reason: format!(
            "channel {channel} has failed for {}: {last_error}",
            hours(now - since)
        ),
    })
}

/// A delivery queued at `queued` and not made yet, at `now`: failing
/// when it has been tried and is older than the rule's span.
pub fn for_delivery(
    delivery: &crate::store::OutboxEntry,
    queued: DateTime<Utc>,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Option<Finding> {
    let span = rules.delivery_failing_after?.chrono();
    (delivery.done_at.is_none() && delivery.attempts > 0 && now - queued >= span).then(|| Finding {
        kind: ExceptionKind::DeliveryFailing,
        subject: format!("delivery:{}", delivery.id),
        partner: None,
        po_number: None,
        reason: format!(
            "delivery {} ({} to {}) not made after {} attempt{} in {}: {}",
            delivery.id,
            delivery.name,
            delivery.target,
            delivery.attempts,
            if delivery.attempts == 1 { "" } else { "s" },
            hours(now - queued),
            delivery
                .last_error
                .as_deref()
                .unwrap_or("no error recorded")
        ),
    })
}

/// A partner's inventory feed, last received at `last` (or never since
/// `watching_since`), at `now`.
pub fn for_inventory(
    partner: &str,
    last: Option<DateTime<Utc>>,
    watching_since: DateTime<Utc>,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Option<Finding> {
    let span = rules.inventory_every?.chrono();
    let from = last.unwrap_or(watching_since);
    (now - from >= span).then(|| Finding {
        kind: ExceptionKind::InventoryMissing,
        subject: format!("inventory:{partner}"),
        partner: Some(partner.to_string()),
        po_number: None,
        reason: match last {
            Some(at) => format!(
                "no inventory report from {partner} since {} (expected every {})",
                at.format("%Y-%m-%d %H:%M UTC"),
                hours(span)
            ),
            None => format!(
                "no inventory report from {partner} yet (expected every {})",
                hours(span)
            ),
        },
    })
}

/// A quarantined file.
pub fn for_quarantined(
    file_id: i64,
    name: &str,
    partner: Option<&str>,
    reason: &str,
    rules: &Rules,
) -> Option<Finding> {
    rules.quarantined.then(|| Finding {
        kind: ExceptionKind::Quarantined,
        subject: format!("file:{file_id}"),
        partner: partner.map(String::from),
        po_number: None,
        reason: format!("file {file_id} ({name}) was quarantined: {reason}"),
    })
}
