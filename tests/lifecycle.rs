//! The order lifecycle on a fixed set of orders: each order's state and
//! lines, its exceptions at a given moment, and the measures, against
//! values computed by hand (in the comments).

use chrono::{DateTime, Duration, TimeZone, Utc};
use dropgate::lifecycle::exceptions::for_order;
use dropgate::lifecycle::measures::measure;
use dropgate::lifecycle::{
    ExceptionKind, History, LineState, Linked, Order, OrderState, Received, Rules, Sent, follow,
};
use dropgate::model::{Document, Purpose};
use dropgate::store::InvoiceHold;
use rust_decimal::Decimal;
use serde_json::json;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0)
        .single()
        .expect("a time")
}

fn h(hours: i64) -> DateTime<Utc> {
    t0() + Duration::hours(hours)
}

fn doc(v: serde_json::Value) -> Document {
    serde_json::from_value(v).expect("a canonical document")
}

fn order_json(
    po: &str,
    requested: &str,
    lines: &[(&str, &str, u32)],
) -> dropgate::model::PurchaseOrder {
    let lines: Vec<_> = lines
        .iter()
        .map(|(n, sku, q)| json!({"line_number": n, "sku": sku, "quantity": q, "unit_price": "2.50"}))
        .collect();
    match doc(json!({
        "type": "purchase_order", "source": {"format": "json"},
        "po_number": po, "requested_ship_date": requested, "lines": lines
    })) {
        Document::PurchaseOrder(o) => o,
        _ => unreachable!("an order"),
    }
}

fn sent(at: DateTime<Utc>, purpose: Purpose, o: Option<dropgate::model::PurchaseOrder>) -> Sent {
    Sent {
        at,
        purpose,
        order: o,
        name: "acme-po.edi".into(),
    }
}

fn fa(group: &str, status: &str) -> Received {
    match doc(
        json!({"type": "functional_ack", "source": {"format": "x12"},
        "functional_id": "PO", "group_control_number": group, "status": status}),
    ) {
        Document::FunctionalAck(f) => Received::FunctionalAck(f),
        _ => unreachable!(),
    }
}

fn ack(po: &str, ack_type: &str, lines: serde_json::Value) -> Received {
    match doc(json!({"type": "po_ack", "source": {"format": "x12"},
        "po_number": po, "ack_type": ack_type, "lines": lines}))
    {
        Document::PoAck(a) => Received::PoAck(a),
        _ => unreachable!(),
    }
}

fn asn(number: &str, po: &str, ship_date: &str, tracking: &str, items: &[(&str, u32)]) -> Received {
    let items: Vec<_> = items
        .iter()
        .map(|(sku, q)| json!({"sku": sku, "quantity": q}))
        .collect();
    match doc(json!({"type": "ship_notice", "source": {"format": "x12"},
        "asn_number": number, "ship_date": ship_date,
        "orders": [{"po_number": po, "packages": [{"tracking_number": tracking, "items": items}]}]}))
    {
        Document::ShipNotice(n) => Received::ShipNotice(Box::new(n)),
        _ => unreachable!(),
    }
}

fn invoice(
    number: &str,
    po: &str,
    status: &str,
    hold: InvoiceHold,
    items: &[(&str, u32)],
) -> Received {
    let lines: Vec<_> = items
        .iter()
        .map(|(sku, q)| json!({"sku": sku, "quantity": q, "unit_price": "2.50"}))
        .collect();
    let variances = if status == "variance" {
        json!([{"kind": "quantity_over_shipped", "message": "billed more than shipped"}])
    } else {
        json!([])
    };
    match doc(json!({"type": "invoice", "source": {"format": "x12"},
        "invoice_number": number, "po_number": po, "lines": lines,
        "reconciliation": {"status": status, "ship_notices": [], "variances": variances}}))
    {
        Document::Invoice(i) => Received::Invoice {
            invoice: Box::new(i),
            hold,
        },
        _ => unreachable!(),
    }
}

fn linked(at: DateTime<Utc>, file_id: i64, doc: Received) -> Linked {
    Linked {
        at,
        file_id,
        seq: 0,
        doc,
    }
}

fn history(po: &str, sent: Vec<Sent>, received: Vec<Linked>) -> History {
    History {
        partner: "acme".into(),
        po_number: po.into(),
        sent,
        received,
    }
}

/// The fixed set: A reconciled on time, B backordered, short and held,
/// C never answered, D cancelled.
fn the_orders() -> Vec<Order> {
    let a = history(
        "A1",
        vec![sent(
            h(0),
            Purpose::Original,
            Some(order_json(
                "A1",
                "2026-11-05",
                &[("1", "RED", 10), ("2", "BLUE", 5)],
            )),
        )],
        vec![
            linked(h(1), 1, fa("101", "accepted")),
            linked(h(4), 2, ack("A1", "accepted", json!([]))),
            linked(
                h(24),
                3,
                asn(
                    "S-A",
                    "A1",
                    "2026-11-03",
                    "1ZA",
                    &[("RED", 10), ("BLUE", 5)],
                ),
            ),
            linked(
                h(48),
                4,
                invoice(
                    "I-A",
                    "A1",
                    "matched",
                    InvoiceHold::Relayed,
                    &[("RED", 10), ("BLUE", 5)],
                ),
            ),
        ],
    );
    let b = history(
        "B1",
        vec![sent(
            h(1),
            Purpose::Original,
            Some(order_json("B1", "2026-11-04", &[("1", "GREEN", 10)])),
        )],
        vec![
            linked(h(3), 5, fa("102", "accepted")),
            linked(
                h(10),
                6,
                ack(
                    "B1",
                    "accepted_with_changes",
                    json!([{"line_number": "1", "sku": "GREEN", "status": "backordered", "ship_date": "2026-11-08"}]),
                ),
            ),
            linked(
                h(6 * 24 + 1),
                7,
                asn("S-B", "B1", "2026-11-08", "1ZB", &[("GREEN", 8)]),
            ),
            linked(
                h(7 * 24),
                8,
                invoice("I-B", "B1", "variance", InvoiceHold::Held, &[("GREEN", 8)]),
            ),
        ],
    );
    let c = history(
        "C1",
        vec![sent(
            h(2),
            Purpose::Original,
            Some(order_json("C1", "2026-11-03", &[("1", "GREY", 4)])),
        )],
        vec![],
    );
    let d = history(
        "D1",
        vec![
            sent(
                h(0),
                Purpose::Original,
                Some(order_json("D1", "2026-11-04", &[("1", "PINK", 6)])),
            ),
            sent(h(5), Purpose::Cancel, None),
        ],
        vec![],
    );
    [a, b, c, d].iter().map(follow).collect()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
        .single()
        .expect("a time")
}

#[test]
fn each_order_is_in_the_state_its_documents_say() {
    let orders = the_orders();
    let states: Vec<OrderState> = orders.iter().map(|o| o.state).collect();
    assert_eq!(
        states,
        [
            OrderState::Reconciled,
            OrderState::Held,
            OrderState::Sent,
            OrderState::Cancelled
        ]
    );
    let (a, b) = (&orders[0], &orders[1]);
    assert_eq!(a.tracking, ["1ZA"]);
    assert_eq!(a.on_time(), Some(true));
    assert!(a.lines.iter().all(|l| l.state == LineState::Invoiced));
    assert_eq!(
        b.due.map(|d| d.to_string()).as_deref(),
        Some("2026-11-08"),
        "the date promised"
    );
    assert_eq!(b.lines[0].shipped, Decimal::from(8));
    assert_eq!(
        b.lines[0].promised.map(|d| d.to_string()).as_deref(),
        Some("2026-11-08")
    );
    assert_eq!(b.on_time(), None, "not complete");
    let kinds: Vec<&str> = b.timeline.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["po", "997", "855", "856", "invoice"]);
    assert!(
        b.timeline[2]
            .summary
            .contains("line 1 backordered to 2026-11-08"),
        "{}",
        b.timeline[2].summary
    );
    assert!(
        b.timeline[3].summary.contains("tracking 1ZB"),
        "{}",
        b.timeline[3].summary
    );
}

#[test]
fn the_measures_are_those_computed_by_hand() {
    let m = measure(&the_orders(), now());
    // D is cancelled: A, B and C count.
    assert_eq!(m.orders, 3);
    // 997: A after 1 h, B after 2 h: median 1.5 h, p90 (nearest rank 2 of 2) 2 h.
    assert_eq!(
        (
            m.turnaround_997.count,
            m.turnaround_997.median_secs,
            m.turnaround_997.p90_secs
        ),
        (2, Some(5400), Some(7200))
    );
    // 855: A after 4 h, B after 9 h.
    assert_eq!(
        (m.order_to_ack.median_secs, m.order_to_ack.p90_secs),
        (Some(23_400), Some(32_400))
    );
    // Ship: A after 24 h, B after 6 days.
    assert_eq!(
        (m.order_to_ship.median_secs, m.order_to_ship.p90_secs),
        (Some(302_400), Some(518_400))
    );
    // Fill: A 15 of 15, B 8 of 10 (C shipped nothing yet: not counted).
    assert_eq!(
        (m.fill.part, m.fill.whole),
        (Decimal::from(23), Decimal::from(25))
    );
    assert_eq!(m.fill.ratio(), Some(0.92));
    // On time: A yes; B and C past their due dates, not complete.
    assert_eq!((m.on_time.part, m.on_time.whole), (1, 3));
    // Perfect: of A and B invoiced, A.
    assert_eq!((m.perfect.part, m.perfect.whole), (1, 2));
    // Invoice variance: B's of two.
    assert_eq!((m.invoice_variance.part, m.invoice_variance.whole), (1, 2));
}

#[test]
fn exceptions_are_found_by_the_rules_at_a_moment() {
    let orders = the_orders();
    let rules = Rules::default();
    let kinds = |o: &Order, at| -> Vec<ExceptionKind> {
        let mut k: Vec<_> = for_order(o, &rules, at)
            .into_iter()
            .map(|f| f.kind)
            .collect();
        k.sort();
        k
    };
    assert!(kinds(&orders[0], now()).is_empty(), "reconciled");
    // B's line was backordered: shipping 8 of it is late, not short.
    assert_eq!(
        kinds(&orders[1], now()),
        [ExceptionKind::Late, ExceptionKind::InvoiceHeld]
    );
    assert_eq!(
        kinds(&orders[2], now()),
        [
            ExceptionKind::No997,
            ExceptionKind::No855,
            ExceptionKind::Late
        ]
    );
    assert!(kinds(&orders[3], now()).is_empty(), "cancelled");
    // C three hours after it was sent: nothing is late yet (the 997 rule
    // waits 4 h); after five, the 997 is missing but not yet the 855.
    assert!(kinds(&orders[2], h(2 + 3)).is_empty());
    assert_eq!(kinds(&orders[2], h(2 + 5)), [ExceptionKind::No997]);
    let off = Rules {
        no_997_after: None,
        late_after: None,
        ..Rules::default()
    };
    let k: Vec<_> = for_order(&orders[2], &off, now())
        .into_iter()
        .map(|f| f.kind)
        .collect();
    assert_eq!(
        k,
        [ExceptionKind::No855],
        "rules turned off are not applied"
    );
    // A line accepted as ordered, billed after shipping less: short.
    let short = follow(&history(
        "S1",
        vec![sent(
            h(0),
            Purpose::Original,
            Some(order_json("S1", "2026-12-30", &[("1", "RED", 4)])),
        )],
        vec![
            linked(h(1), 1, ack("S1", "accepted", json!([]))),
            linked(
                h(2),
                2,
                asn("S-S", "S1", "2026-11-03", "1ZS", &[("RED", 3)]),
            ),
            linked(
                h(3),
                3,
                invoice("I-S", "S1", "matched", InvoiceHold::Relayed, &[("RED", 3)]),
            ),
        ],
    ));
    let found: Vec<_> = for_order(&short, &rules, now())
        .into_iter()
        .filter(|f| f.kind != ExceptionKind::No997)
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, ExceptionKind::QuantityMismatch);
    assert!(
        found[0].reason.contains("line 1 (RED) shipped 3 of 4"),
        "{}",
        found[0].reason
    );
}

#[test]
fn documents_before_their_order_are_linked_when_it_appears() {
    // A ship notice and an invoice for a PO number never sent.
    let early = vec![
        linked(
            h(1),
            1,
            asn("S-E", "E1", "2026-11-02", "1ZE", &[("RED", 3)]),
        ),
        linked(
            h(2),
            2,
            invoice(
                "I-E",
                "E1",
                "unmatched",
                InvoiceHold::Relayed,
                &[("RED", 3)],
            ),
        ),
    ];
    let unknown = follow(&history("E1", vec![], early.clone()));
    assert_eq!(unknown.state, OrderState::Unknown);
    assert_eq!(unknown.tracking, ["1ZE"]);
    // The order is sent afterwards (recorded later than the notice): the
    // notice ships its line.
    let known = follow(&history(
        "E1",
        vec![sent(
            h(3),
            Purpose::Original,
            Some(order_json("E1", "2026-11-04", &[("1", "RED", 3)])),
        )],
        early,
    ));
    assert_eq!(known.lines[0].shipped, Decimal::from(3));
    assert!(known.fully_shipped());
    assert_eq!(
        known.state,
        OrderState::Invoiced,
        "billed, the invoice not matched"
    );
}

#[test]
fn a_rejection_and_a_partial_shipment_have_their_states() {
    let sent_b = || {
        vec![sent(
            h(0),
            Purpose::Original,
            Some(order_json(
                "R1",
                "2026-11-04",
                &[("1", "RED", 2), ("2", "BLUE", 2)],
            )),
        )]
    };
    let rejected = follow(&history(
        "R1",
        sent_b(),
        vec![linked(h(1), 1, ack("R1", "rejected", json!([])))],
    ));
    assert_eq!(rejected.state, OrderState::Rejected);
    let kinds: Vec<_> = for_order(&rejected, &Rules::default(), now())
        .into_iter()
        .map(|f| f.kind)
        .collect();
    assert_eq!(kinds, [ExceptionKind::Rejected]);
    let partly = follow(&history(
        "R1",
        sent_b(),
        vec![linked(
            h(5),
            2,
            asn("S", "R1", "2026-11-03", "1Z", &[("RED", 2)]),
        )],
    ));
    assert_eq!(partly.state, OrderState::PartlyShipped);
    assert_eq!(partly.lines[0].state, LineState::Shipped);
    assert_eq!(partly.lines[1].state, LineState::Sent);
    let acked = follow(&history(
        "R1",
        sent_b(),
        vec![linked(h(1), 1, fa("7", "accepted"))],
    ));
    assert_eq!(acked.state, OrderState::Acknowledged);
}

#[test]
fn a_delivery_tried_and_not_made_for_the_rules_span_is_an_exception() {
    use dropgate::lifecycle::exceptions::for_delivery;
    use dropgate::lifecycle::{ExceptionKind, Rules};
    use dropgate::store::OutboxEntry;
    let entry = |attempts: u32, done: bool| OutboxEntry {
        id: 7,
        file_id: None,
        target: "acme-as2".into(),
        key: "po:acme:PO-1".into(),
        name: "PO-1.edi".into(),
        created_at: t0().to_rfc3339(),
        attempts,
        next_try_at: 0,
        last_error: Some("no MDN".into()),
        done_at: done.then(|| h(1).to_rfc3339()),
        payload: Vec::new(),
    };
    let rules = Rules::default();
    // Two hours by default: not at 1h59m, at 2h.
    assert_eq!(
        for_delivery(
            &entry(3, false),
            t0(),
            &rules,
            t0() + Duration::minutes(119)
        ),
        None
    );
    let found = for_delivery(&entry(3, false), t0(), &rules, h(2)).expect("failing");
    assert_eq!(found.kind, ExceptionKind::DeliveryFailing);
    assert_eq!(found.subject, "delivery:7");
    assert_eq!(
        found.reason,
        "delivery 7 (PO-1.edi to acme-as2) not made after 3 attempts in 2 h: no MDN"
    );
    // Never tried (a worker not running yet), or made: nothing.
    assert_eq!(for_delivery(&entry(0, false), t0(), &rules, h(5)), None);
    assert_eq!(for_delivery(&entry(3, true), t0(), &rules, h(5)), None);
    // Turned off.
    let off = Rules {
        delivery_failing_after: None,
        ..Rules::default()
    };
    assert_eq!(for_delivery(&entry(3, false), t0(), &off, h(5)), None);
}

/// An 865 answering a change is in the order's timeline with its verdict
/// and the lines it does not simply accept, and a date it promises a line
/// for becomes the line's promise; it does not change what was ordered.
#[test]
fn a_change_acknowledgment_is_in_the_timeline_and_promises_its_dates() {
    let change_ack = match doc(json!({"type": "po_change_ack", "source": {"format": "x12"},
    "po_number": "C1", "ack_type": "accepted_with_changes", "change_sequence": "2",
    "lines": [
        {"line_number": "1", "change_code": "QD", "status": "accepted"},
        {"line_number": "2", "change_code": "AI", "status": "backordered", "ship_date": "2026-11-20"}
    ]})) {
        Document::PoChangeAck(a) => Received::PoChangeAck(a),
        _ => unreachable!(),
    };
    let order = follow(&history(
        "C1",
        vec![sent(
            h(0),
            Purpose::Original,
            Some(order_json(
                "C1",
                "2026-11-04",
                &[("1", "RED", 2), ("2", "BLUE", 2)],
            )),
        )],
        vec![linked(h(3), 4, change_ack)],
    ));
    let event = order
        .timeline
        .iter()
        .find(|e| e.kind == "865")
        .expect("the 865 in the timeline");
    assert_eq!(event.file, Some((4, 0)));
    assert!(
        event
            .summary
            .starts_with("change 2 accepted with changes; "),
        "{}",
        event.summary
    );
    assert!(
        event.summary.contains("backordered to 2026-11-20"),
        "{}",
        event.summary
    );
    assert!(!event.summary.contains("RED"), "{}", event.summary);
    assert_eq!(
        order.lines[1].promised,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
    );
    assert_eq!(order.lines[1].ordered, Decimal::from(2));
}

/// An 870 is in the order's timeline with what it says of the order and
/// each line, and the date it expects a backordered line for becomes the
/// line's promise (a shipped line's date does not).
#[test]
fn a_status_report_is_in_the_timeline_and_promises_backordered_lines() {
    let report = match doc(json!({"type": "order_status", "source": {"format": "x12"},
    "report_id": "STAT-7", "orders": [
        {"po_number": "S1", "status": "in_process", "lines": [
            {"line_number": "1", "status": "shipped", "status_date": "2026-11-03"},
            {"line_number": "2", "status": "backordered", "status_date": "2026-11-30"}
        ]}
    ]})) {
        Document::OrderStatus(r) => Received::OrderStatus(Box::new(r)),
        _ => unreachable!(),
    };
    let order = follow(&history(
        "S1",
        vec![sent(
            h(0),
            Purpose::Original,
            Some(order_json(
                "S1",
                "2026-11-04",
                &[("1", "RED", 2), ("2", "BLUE", 2)],
            )),
        )],
        vec![linked(h(3), 5, report)],
    ));
    let event = order
        .timeline
        .iter()
        .find(|e| e.kind == "870")
        .expect("the 870 in the timeline");
    assert_eq!(
        event.summary,
        "status report STAT-7: in process, line 1 shipped on 2026-11-03, line 2 backordered to 2026-11-30"
    );
    assert_eq!(
        order.lines[1].promised,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
    );
    assert_ne!(
        order.lines[0].promised,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 3)
    );
}
