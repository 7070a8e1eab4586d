//! What became of one purchase order, from what was sent and received
//! under its partner's PO number: the order's state, each line's
//! (ordered, acknowledged, promised, shipped, invoiced) and the timeline.
//!
//! The lines are those of the order as last sent (a change or a
//! replacement carries the whole order); an acknowledgment's line, a
//! shipped item and an invoice line are placed on an order line by
//! `reconcile::matching`'s one rule, and what matches no line is counted
//! as unplaced.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::model::{
    AckStatus, AckType, FunctionalAck, Invoice, LineStatus, OrderState as ReportedState,
    OrderStatus, PoAck, PoChangeAck, PurchaseOrder, Purpose, ReconciliationStatus, ShipNotice,
};
use crate::reconcile::matching::{Item, order_line};
use crate::store::InvoiceHold;

/// A purchase order sent (or queued) to the partner under this number.
#[derive(Clone, Debug)]
pub struct Sent {
    /// When it was queued.
    pub at: DateTime<Utc>,
    /// What it does: an original, a change, a replacement, a cancellation.
    pub purpose: Purpose,
    /// The order as sent, when it was kept.
    pub order: Option<PurchaseOrder>,
    /// The file name it went out under.
    pub name: String,
}

/// A document received about the order.
#[derive(Clone, Debug)]
pub enum Received {
    /// A 997/999 acknowledging the group the order was sent in.
    FunctionalAck(FunctionalAck),
    /// An acknowledgment (855).
    PoAck(PoAck),
    /// An answer to a change of the order (865): in the timeline, and a
    /// date it promises a line for becomes the line's promise.
    PoChangeAck(PoChangeAck),
    /// A status report (870), with this order's part only: in the
    /// timeline, and the date it expects a backordered or delayed line
    /// for becomes the line's promise.
    OrderStatus(Box<OrderStatus>),
    /// A ship notice (856), with this order's part only.
    ShipNotice(Box<ShipNotice>),
    /// An invoice (810 or PDF), reconciled, and whether it is held.
    Invoice {
        /// The invoice with its `reconciliation`.
        invoice: Box<Invoice>,
        /// Held, relayed or released.
        hold: InvoiceHold,
    },
}

/// A received document with where and when it came.
#[derive(Clone, Debug)]
pub struct Linked {
    /// When its file was received.
    pub at: DateTime<Utc>,
    /// Its file.
    pub file_id: i64,
    /// Its number in the file (from 0).
    pub seq: u64,
    /// The document.
    pub doc: Received,
}

/// Everything known under one partner's PO number.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// The partner.
    pub partner: String,
    /// The PO number.
    pub po_number: String,
    /// What was sent, in any order.
    pub sent: Vec<Sent>,
    /// What was received, in any order.
    pub received: Vec<Linked>,
}

/// Where an order stands, from the first state to the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrderState {
    /// Documents arrived for a PO number the gateway never sent.
    Unknown,
    /// Sent, nothing heard back.
    Sent,
    /// The partner's 997 (or 999) accepted the group it went in.
    Acknowledged,
    /// The partner's 855 accepted it (as ordered or with changes).
    Accepted,
    /// Accepted, with lines to ship later.
    Backordered,
    /// Some of it shipped.
    PartlyShipped,
    /// All of it shipped.
    Shipped,
    /// Billed (in part, or with a variance that did not hold the invoice).
    Invoiced,
    /// Billed in full, every invoice matched (or released by a person).
    Reconciled,
    /// An invoice is held for a person.
    Held,
    /// The partner rejected it (855 or 997).
    Rejected,
    /// Cancelled by the retailer.
    Cancelled,
}

impl OrderState {
    /// Every state, in order.
    pub const ALL: [OrderState; 12] = [
        OrderState::Unknown,
        OrderState::Sent,
        OrderState::Acknowledged,
        OrderState::Accepted,
        OrderState::Backordered,
        OrderState::PartlyShipped,
        OrderState::Shipped,
        OrderState::Invoiced,
        OrderState::Reconciled,
        OrderState::Held,
        OrderState::Rejected,
        OrderState::Cancelled,
    ];

    /// As printed and filtered on.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Unknown => "unknown-po",
            OrderState::Sent => "sent",
            OrderState::Acknowledged => "acknowledged",
            OrderState::Accepted => "accepted",
            OrderState::Backordered => "backordered",
            OrderState::PartlyShipped => "partly-shipped",
            OrderState::Shipped => "shipped",
            OrderState::Invoiced => "invoiced",
            OrderState::Reconciled => "reconciled",
            OrderState::Held => "held",
            OrderState::Rejected => "rejected",
            OrderState::Cancelled => "cancelled",
        }
    }

    /// From its printed name.
    pub fn parse(s: &str) -> Option<OrderState> {
        OrderState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Nothing more is expected of the order.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderState::Reconciled | OrderState::Rejected | OrderState::Cancelled
        )
    }
}

impl std::fmt::Display for OrderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a line stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineState {
    /// Sent, no answer for it.
    Sent,
    /// Accepted (as ordered or changed).
    Accepted,
    /// Accepted to ship later.
    Backordered,
    /// Held by the vendor.
    OnHold,
    /// Some of it shipped.
    PartlyShipped,
    /// All of it shipped.
    Shipped,
    /// Billed.
    Invoiced,
    /// Rejected by the vendor.
    Rejected,
    /// The order was cancelled.
    Cancelled,
}

impl LineState {
    /// As printed.
    pub fn as_str(self) -> &'static str {
        match self {
            LineState::Sent => "sent",
            LineState::Accepted => "accepted",
            LineState::Backordered => "backordered",
            LineState::OnHold => "on-hold",
            LineState::PartlyShipped => "partly-shipped",
            LineState::Shipped => "shipped",
            LineState::Invoiced => "invoiced",
            LineState::Rejected => "rejected",
            LineState::Cancelled => "cancelled",
        }
    }
}

/// One line of the order and what became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Its line number, as the order has it.
    pub line_number: Option<String>,
    /// The vendor's item number.
    pub sku: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The quantity ordered.
    pub ordered: Decimal,
    /// The vendor's last answer for it.
    pub ack: Option<LineStatus>,
    /// The ship date the vendor promised (its 855).
    pub promised: Option<NaiveDate>,
    /// The quantity shipped, over all ship notices.
    pub shipped: Decimal,
    /// The quantity billed, over all invoices.
    pub invoiced: Decimal,
    /// Where it stands.
    pub state: LineState,
}

impl Line {
    /// All of it shipped (a rejected line has nothing to ship).
    pub fn complete(&self) -> bool {
        self.ack == Some(LineStatus::Rejected) || self.shipped >= self.ordered
    }
}

/// An invoice billed against the order.
#[derive(Clone, Debug, PartialEq)]
pub struct Billed {
    /// Its number.
    pub number: String,
    /// When it came, in which file and document.
    pub at: DateTime<Utc>,
    /// Its file.
    pub file_id: i64,
    /// Its document number in the file.
    pub seq: u64,
    /// What reconciling it found.
    pub status: Option<ReconciliationStatus>,
    /// How many variances.
    pub variances: usize,
    /// Held, relayed or released.
    pub hold: InvoiceHold,
}

/// One step of the order's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When.
    pub at: DateTime<Utc>,
    /// What: `po`, `997`, `855`, `856`, `invoice`.
    pub kind: &'static str,
    /// The file it came in (none for what was sent).
    pub file: Option<(i64, u64)>,
    /// A sentence.
    pub summary: String,
}

/// What became of an order.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    /// The partner.
    pub partner: String,
    /// The PO number.
    pub po_number: String,
    /// Where it stands.
    pub state: OrderState,
    /// When it was first sent (none when it never was).
    pub sent_at: Option<DateTime<Utc>>,
    /// Whether the partner speaks X12 to it (a 997 is expected): the
    /// order went out as an X12 file.
    pub x12: bool,
    /// The lines of the order as last sent.
    pub lines: Vec<Line>,
    /// Shipped quantity that matches no line of the order.
    pub unplaced_shipped: Decimal,
    /// The ship date asked for.
    pub requested_ship_date: Option<NaiveDate>,
    /// The date it must ship by: the latest date the vendor promised for
    /// a line, else the ship date asked for.
    pub due: Option<NaiveDate>,
    /// The first 997/999 and what it said.
    pub functional_ack: Option<(DateTime<Utc>, Option<AckStatus>)>,
    /// When the first 855 came.
    pub first_ack_at: Option<DateTime<Utc>>,
    /// When the first ship notice came.
    pub first_ship_at: Option<DateTime<Utc>>,
    /// When the order was complete: the notice that shipped the last of it
    /// (received at, ship date).
    pub completed: Option<(DateTime<Utc>, NaiveDate)>,
    /// Tracking numbers, in the order they came.
    pub tracking: Vec<String>,
    /// The invoices.
    pub invoices: Vec<Billed>,
    /// Every step, oldest first.
    pub timeline: Vec<Event>,
}

impl Order {
    /// Every line shipped in full (and there is one).
    pub fn fully_shipped(&self) -> bool {
        !self.lines.is_empty() && self.lines.iter().all(Line::complete)
    }

    /// Total ordered, over the lines not rejected.
    pub fn ordered(&self) -> Decimal {
        self.lines.iter().map(|l| l.ordered).sum()
    }

    /// Whether it shipped on time: complete by its due date (`None`
    /// without a due date, or not complete yet).
    pub fn on_time(&self) -> Option<bool> {
        let (_, shipped_on) = self.completed?;
        Some(shipped_on <= self.due?)
    }
}

fn trimmed(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn qty(d: Option<crate::model::Decimal>) -> Decimal {
    d.map(|d| d.get()).unwrap_or_default()
}

fn purpose_word(p: Purpose) -> &'static str {
    match p {
        Purpose::Original => "sent",
        Purpose::Change => "change sent",
        Purpose::Replace => "replacement sent",
        Purpose::Cancel => "cancellation sent",
        Purpose::Duplicate => "copy sent",
    }
}

fn ack_word(s: Option<AckStatus>) -> &'static str {
    match s {
        Some(AckStatus::Accepted) => "accepted",
        Some(AckStatus::AcceptedWithErrors) => "accepted with errors",
        Some(AckStatus::PartiallyAccepted) => "partly accepted",
        Some(AckStatus::Rejected) => "rejected",
        None => "received",
    }
}

fn line_word(s: LineStatus) -> &'static str {
    match s {
        LineStatus::Accepted => "accepted",
        LineStatus::Backordered => "backordered",
        LineStatus::Rejected => "rejected",
        LineStatus::Changed => "changed",
        LineStatus::OnHold => "on hold",
    }
}

/// A status an 870 reports, in words.
fn reported_word(s: ReportedState) -> &'static str {
    match s {
        ReportedState::Accepted => "accepted",
        ReportedState::InProcess => "in process",
        ReportedState::Backordered => "backordered",
        ReportedState::Delayed => "delayed",
        ReportedState::PartiallyShipped => "partly shipped",
        ReportedState::Shipped => "shipped",
        ReportedState::Delivered => "delivered",
        ReportedState::Cancelled => "cancelled",
        ReportedState::Rejected => "rejected",
        ReportedState::OnHold => "on hold",
    }
}

fn name_line(l: &Line, i: usize) -> String {
    match (&l.line_number, &l.sku) {
        (Some(n), _) => format!("line {n}"),
        (None, Some(s)) => format!("item {s}"),
        (None, None) => format!("line #{}", i + 1),
    }
}

/// What became of the order whose history this is.
pub fn follow(history: &History) -> Order {
    let mut sent: Vec<&Sent> = history.sent.iter().collect();
    sent.sort_by_key(|s| s.at);
    let mut received: Vec<&Linked> = history.received.iter().collect();
    received.sort_by_key(|r| (r.at, r.file_id, r.seq));

    let cancelled = sent.last().is_some_and(|s| s.purpose == Purpose::Cancel);
    let current: Option<&PurchaseOrder> = sent
        .iter()
        .rev()
        .filter(|s| s.purpose != Purpose::Cancel)
        .find_map(|s| s.order.as_ref().filter(|o| !o.lines.is_empty()));
    let po_lines: &[crate::model::PoLine] = current.map_or(&[], |o| &o.lines);
    let mut lines: Vec<Line> = po_lines
        .iter()
        .map(|l| Line {
            line_number: l.line_number.clone(),
            sku: l.sku.clone(),
            description: l.description.clone(),
            ordered: qty(l.quantity),
            ack: None,
            promised: None,
            shipped: Decimal::ZERO,
            invoiced: Decimal::ZERO,
            state: LineState::Sent,
        })
        .collect();

    let mut order = Order {
        partner: history.partner.clone(),
        po_number: history.po_number.clone(),
        state: OrderState::Sent,
        sent_at: sent.first().map(|s| s.at),
        x12: sent
            .first()
            .is_some_and(|s| s.name.to_ascii_lowercase().ends_with(".edi")),
        lines: Vec::new(),
        unplaced_shipped: Decimal::ZERO,
        requested_ship_date: current.and_then(|o| o.requested_ship_date),
        due: None,
        functional_ack: None,
        first_ack_at: None,
        first_ship_at: None,
        completed: None,
        tracking: Vec::new(),
        invoices: Vec::new(),
        timeline: Vec::new(),
    };
    for s in &sent {
        let lines_note = match &s.order {
            Some(o) if s.purpose != Purpose::Cancel => {
                let units: Decimal = o.lines.iter().map(|l| qty(l.quantity)).sum();
                let lines = match o.lines.len() {
                    1 => "1 line".to_string(),
                    n => format!("{n} lines"),
                };
                format!(" ({lines}, {})", super::exceptions::units(units))
            }
            _ => String::new(),
        };
        order.timeline.push(Event {
            at: s.at,
            kind: "po",
            file: None,
            summary: format!("{}{lines_note} as {}", purpose_word(s.purpose), s.name),
        });
    }

    let mut rejected_by_997 = false;
    let mut whole_ack: Option<AckType> = None;
    for r in &received {
        let file = Some((r.file_id, r.seq));
        match &r.doc {
            Received::FunctionalAck(fa) => {
                if order.functional_ack.is_none() {
                    order.functional_ack = Some((r.at, fa.status));
                }
                rejected_by_997 = fa.status == Some(AckStatus::Rejected);
                order.timeline.push(Event {
                    at: r.at,
                    kind: "997",
                    file,
                    summary: format!(
                        "functional acknowledgment of group {}: {}",
                        fa.group_control_number,
                        ack_word(fa.status)
                    ),
                });
            }
            Received::PoAck(ack) => {
                order.first_ack_at.get_or_insert(r.at);
                if ack.ack_type.is_some() {
                    whole_ack = ack.ack_type;
                }
                let mut notes = Vec::new();
                for al in &ack.lines {
                    let status = al
                        .status
                        .or_else(|| al.statuses.iter().find_map(|s| s.status));
                    let promised = al.ship_date.or_else(|| {
                        al.statuses
                            .iter()
                            .find(|s| s.status == Some(LineStatus::Backordered))
                            .and_then(|s| s.date)
                    });
                    let Some(i) = order_line(&Item::from(al), po_lines) else {
                        continue;
                    };
                    let line = &mut lines[i];
                    if status.is_some() {
                        line.ack = status;
                    }
                    if promised.is_some() {
                        line.promised = promised;
                    }
                    if let Some(s) = status.filter(|s| *s != LineStatus::Accepted) {
                        let date = promised.map(|d| format!(" to {d}")).unwrap_or_default();
                        notes.push(format!("{} {}{date}", name_line(line, i), line_word(s)));
                    }
                }
                // An answer for the whole order covers the lines it does
                // not name.
                let default = match ack.ack_type {
                    Some(AckType::Rejected) => Some(LineStatus::Rejected),
                    Some(AckType::Accepted) | Some(AckType::AcceptedWithChanges) => {
                        Some(LineStatus::Accepted)
                    }
                    None => None,
                };
                for line in lines.iter_mut().filter(|l| l.ack.is_none()) {
                    line.ack = default;
                }
                let (what, notes) = (ack_type_word(ack.ack_type), notes_text(&notes));
                order.timeline.push(Event {
                    at: r.at,
                    kind: "855",
                    file,
                    summary: format!("acknowledgment: {what}{notes}"),
                });
            }
            Received::PoChangeAck(ack) => {
                let mut notes = Vec::new();
                for al in &ack.lines {
                    let Some(i) = order_line(&Item::from(al), po_lines) else {
                        continue;
                    };
                    let line = &mut lines[i];
                    if al.ship_date.is_some() {
                        line.promised = al.ship_date;
                    }
                    if let Some(s) = al.status.filter(|s| *s != LineStatus::Accepted) {
                        let date = al.ship_date.map(|d| format!(" to {d}")).unwrap_or_default();
                        notes.push(format!("{} {}{date}", name_line(line, i), line_word(s)));
                    }
                }
                let (what, notes) = (ack_type_word(ack.ack_type), notes_text(&notes));
                let change = ack
                    .change_sequence
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default();
                order.timeline.push(Event {
                    at: r.at,
                    kind: "865",
                    file,
                    summary: format!("change{change} {what}{notes}"),
                });
            }
            Received::OrderStatus(report) => {
                let mut said = Vec::new();
                for reported in report
                    .orders
                    .iter()
                    .filter(|o| trimmed(o.po_number.as_deref()) == Some(history.po_number.trim()))
                {
                    if let Some(s) = reported.status {
                        said.push(reported_word(s).to_string());
                    }
                    for rl in &reported.lines {
                        let item = Item {
                            line_number: rl.line_number.as_deref(),
                            sku: rl.sku.as_deref(),
                            buyer_sku: rl.buyer_sku.as_deref(),
                            upc: rl.upc.as_deref(),
                            gtin: None,
                        };
                        let Some(i) = order_line(&item, po_lines) else {
                            continue;
                        };
                        let line = &mut lines[i];
                        let expected = matches!(
                            rl.status,
                            Some(ReportedState::Backordered | ReportedState::Delayed)
                        );
                        if expected && rl.status_date.is_some() {
                            line.promised = rl.status_date;
                        }
                        if let Some(s) = rl.status {
                            let date = match (expected, rl.status_date) {
                                (true, Some(d)) => format!(" to {d}"),
                                (false, Some(d)) => format!(" on {d}"),
                                (_, None) => String::new(),
                            };
                            said.push(format!("{} {}{date}", name_line(line, i), reported_word(s)));
                        }
                    }
                }
                let said = if said.is_empty() {
                    String::new()
                } else {
                    format!(": {}", said.join(", "))
                };
                order.timeline.push(Event {
                    at: r.at,
                    kind: "870",
                    file,
                    summary: format!("status report {}{said}", report.report_id),
                });
            }
            Received::ShipNotice(notice) => {
                order.first_ship_at.get_or_insert(r.at);
                let mut units = Decimal::ZERO;
                let mut tracking: Vec<String> = notice.tracking_numbers.clone();
                for o in notice
                    .orders
                    .iter()
                    .filter(|o| trimmed(o.po_number.as_deref()) == Some(history.po_number.trim()))
                {
                    for p in &o.packages {
                        if let Some(t) = trimmed(p.tracking_number.as_deref()) {
                            tracking.push(t.to_string());
                        }
                        for item in &p.items {
                            let q = qty(item.quantity);
                            units += q;
                            match order_line(&Item::from(item), po_lines) {
                                Some(i) => lines[i].shipped += q,
                                None => order.unplaced_shipped += q,
                            }
                        }
                    }
                }
                let mut new_tracking = Vec::new();
                for t in tracking {
                    if !order.tracking.contains(&t) {
                        order.tracking.push(t.clone());
                        new_tracking.push(t);
                    }
                }
                if order.completed.is_none()
                    && !lines.is_empty()
                    && lines.iter().all(Line::complete)
                {
                    let on = notice.ship_date.unwrap_or_else(|| r.at.date_naive());
                    order.completed = Some((r.at, on));
                }
                let tracking = if new_tracking.is_empty() {
                    String::new()
                } else {
                    format!(", tracking {}", new_tracking.join(", "))
                };
                let carrier = notice
                    .carrier
                    .as_ref()
                    .and_then(|c| c.scac.as_deref())
                    .map(|c| format!(" by {c}"))
                    .unwrap_or_default();
                let date = notice
                    .ship_date
                    .map(|d| format!(" on {d}"))
                    .unwrap_or_default();
                order.timeline.push(Event {
                    at: r.at,
                    kind: "856",
                    file,
                    summary: format!(
                        "ship notice {}: {} shipped{date}{carrier}{tracking}",
                        notice.asn_number,
                        super::exceptions::units(units)
                    ),
                });
            }
            Received::Invoice { invoice, hold } => {
                for il in &invoice.lines {
                    if let Some(i) = order_line(&Item::from(il), po_lines) {
                        lines[i].invoiced += qty(il.quantity);
                    }
                }
                let status = invoice.reconciliation.as_ref().map(|r| r.status);
                let variances = invoice
                    .reconciliation
                    .as_ref()
                    .map_or(0, |r| r.variances.len());
                order.invoices.push(Billed {
                    number: invoice.invoice_number.clone(),
                    at: r.at,
                    file_id: r.file_id,
                    seq: r.seq,
                    status,
                    variances,
                    hold: *hold,
                });
                let total = invoice
                    .total_amount
                    .map(|t| format!(" for {}", t.get().normalize()))
                    .unwrap_or_default();
                let result = match (status, variances) {
                    (Some(s), 0) => s.name().to_string(),
                    (Some(s), 1) => format!("{} (1 variance)", s.name()),
                    (Some(s), n) => format!("{} ({n} variances)", s.name()),
                    (None, _) => "not reconciled".to_string(),
                };
                let hold = match hold {
                    InvoiceHold::Held => ", held for a person",
                    InvoiceHold::Released => ", released",
                    InvoiceHold::Relayed => "",
                };
                order.timeline.push(Event {
                    at: r.at,
                    kind: "invoice",
                    file,
                    summary: format!("invoice {}{total}: {result}{hold}", invoice.invoice_number),
                });
            }
        }
    }
    order.timeline.sort_by_key(|e| e.at);

    for line in &mut lines {
        line.state = if cancelled {
            LineState::Cancelled
        } else if line.ack == Some(LineStatus::Rejected) {
            LineState::Rejected
        } else if line.invoiced > Decimal::ZERO {
            LineState::Invoiced
        } else if line.shipped >= line.ordered && line.shipped > Decimal::ZERO {
            LineState::Shipped
        } else if line.shipped > Decimal::ZERO {
            LineState::PartlyShipped
        } else {
            match line.ack {
                Some(LineStatus::Backordered) => LineState::Backordered,
                Some(LineStatus::OnHold) => LineState::OnHold,
                Some(LineStatus::Accepted) | Some(LineStatus::Changed) => LineState::Accepted,
                _ => LineState::Sent,
            }
        };
    }
    order.due = lines
        .iter()
        .filter(|l| l.ack != Some(LineStatus::Rejected))
        .filter_map(|l| l.promised)
        .max()
        .or(order.requested_ship_date);
    order.lines = lines;
    order.state = state_of(&order, cancelled, whole_ack, rejected_by_997);
    order
}

/// The state an order is in, from what it has.
fn state_of(
    order: &Order,
    cancelled: bool,
    whole_ack: Option<AckType>,
    rejected_by_997: bool,
) -> OrderState {
    let live: Vec<&Line> = order
        .lines
        .iter()
        .filter(|l| l.ack != Some(LineStatus::Rejected))
        .collect();
    if cancelled {
        return OrderState::Cancelled;
    }
    if order.sent_at.is_none() {
        // Documents for a PO number never sent (yet): linked when it is.
        return OrderState::Unknown;
    }
    if whole_ack == Some(AckType::Rejected)
        || (!order.lines.is_empty() && live.is_empty())
        || (rejected_by_997 && order.first_ack_at.is_none())
    {
        return OrderState::Rejected;
    }
    if order.invoices.iter().any(|i| i.hold == InvoiceHold::Held) {
        return OrderState::Held;
    }
    if !order.invoices.is_empty() {
        let all_matched = order.invoices.iter().all(|i| {
            i.status == Some(ReconciliationStatus::Matched) || i.hold == InvoiceHold::Released
        });
        let billed_in_full = live.iter().all(|l| l.invoiced >= l.ordered);
        return if all_matched && billed_in_full {
            OrderState::Reconciled
        } else {
            OrderState::Invoiced
        };
    }
    let shipped_any = order.first_ship_at.is_some();
    if shipped_any && order.fully_shipped() {
        return OrderState::Shipped;
    }
    if shipped_any {
        return OrderState::PartlyShipped;
    }
    if live
        .iter()
        .any(|l| matches!(l.ack, Some(LineStatus::Backordered)))
    {
        return OrderState::Backordered;
    }
    if order.first_ack_at.is_some() {
        return OrderState::Accepted;
    }
    if order.functional_ack.is_some() {
        return OrderState::Acknowledged;
    }
    OrderState::Sent
}

/// What an acknowledgment (855, 865) says of the order, in a word.
fn ack_type_word(ack_type: Option<AckType>) -> &'static str {
    match ack_type {
        Some(AckType::Accepted) => "accepted",
        Some(AckType::AcceptedWithChanges) => "accepted with changes",
        Some(AckType::Rejected) => "rejected",
        None => "acknowledged",
    }
}

/// Notes on lines after a timeline sentence: `; line 2 backordered, ...`.
fn notes_text(notes: &[String]) -> String {
    if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join(", "))
    }
}
