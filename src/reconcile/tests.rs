//! Each check with a case that fails it and one that passes, tolerances
//! at their boundary, and exact decimals.

use super::*;
use crate::model::{
    Charge, ChargeKind, Decimal, InvoiceLine, InvoiceType, Package, PoLine, ShipItem, ShipOrder,
};

fn d(s: &str) -> Decimal {
    s.parse().expect("a decimal")
}

fn order() -> PurchaseOrder {
    PurchaseOrder {
        po_number: "PO-1".into(),
        lines: vec![
            PoLine {
                line_number: Some("1".into()),
                sku: Some("LAMP".into()),
                quantity: Some(d("3")),
                unit_price: Some(d("12.50")),
                ..PoLine::default()
            },
            PoLine {
                line_number: Some("2".into()),
                sku: Some("BULB".into()),
                upc: Some("012345678905".into()),
                quantity: Some(d("2")),
                unit_price: Some(d("4.25")),
                ..PoLine::default()
            },
        ],
        ..PurchaseOrder::default()
    }
}

fn line(n: &str, sku: &str, q: &str, p: &str) -> InvoiceLine {
    let amount = d(q).get() * d(p).get();
    InvoiceLine {
        line_number: Some(n.into()),
        sku: Some(sku.into()),
        quantity: Some(d(q)),
        unit_price: Some(d(p)),
        amount: Some(Decimal(amount)),
        ..InvoiceLine::default()
    }
}

/// An invoice that bills the order exactly: 37.50 + 8.50 = 46.00, plus
/// 6.00 freight.
fn invoice() -> Invoice {
    Invoice {
        invoice_number: "INV-1".into(),
        po_number: Some("PO-1".into()),
        lines: vec![
            line("1", "LAMP", "3", "12.50"),
            line("2", "BULB", "2", "4.25"),
        ],
        charges: vec![Charge {
            kind: Some(ChargeKind::Charge),
            code: Some("D240".into()),
            amount: Some(d("6.00")),
            ..Charge::default()
        }],
        subtotal: Some(d("46.00")),
        total_amount: Some(d("52.00")),
        ..Invoice::default()
    }
}

fn notice(items: &[(&str, &str)]) -> ShipNotice {
    ShipNotice {
        asn_number: "ASN-1".into(),
        orders: vec![ShipOrder {
            po_number: Some("PO-1".into()),
            packages: vec![Package {
                items: items
                    .iter()
                    .map(|(sku, q)| ShipItem {
                        sku: Some((*sku).into()),
                        quantity: Some(d(q)),
                        ..ShipItem::default()
                    })
                    .collect(),
                ..Package::default()
            }],
        }],
        ..ShipNotice::default()
    }
}

fn run(
    invoice: &Invoice,
    order: Order<'_>,
    notices: &[ShipNotice],
    policy: &Policy,
) -> Reconciliation {
    reconcile(&Input {
        invoice,
        order,
        ship_notices: notices,
        billed_before: &[],
        seen_before: &[],
        policy,
    })
}

fn kinds(r: &Reconciliation) -> Vec<VarianceKind> {
    r.variances.iter().map(|v| v.kind).collect()
}

#[test]
fn an_invoice_that_bills_the_order_and_the_shipment_matches() {
    let po = order();
    let shipped = [notice(&[("LAMP", "3"), ("BULB", "2")])];
    let r = run(&invoice(), Order::Sent(&po), &shipped, &Policy::default());
    assert_eq!(r.status, ReconciliationStatus::Matched, "{r:?}");
    assert!(r.variances.is_empty());
    assert_eq!(r.ship_notices, ["ASN-1"]);
}

#[test]
fn no_order_is_unmatched_and_the_other_checks_still_run() {
    let mut inv = invoice();
    inv.total_amount = Some(d("52.01"));
    let r = run(&inv, Order::NotFound, &[], &Policy::default());
    assert_eq!(r.status, ReconciliationStatus::Unmatched);
    assert_eq!(kinds(&r), [VarianceKind::NoOrder, VarianceKind::Arithmetic]);
    assert_eq!(r.variances[0].actual.as_deref(), Some("PO-1"));
}

#[test]
fn a_cancelled_order_is_a_variance() {
    let mut po = order();
    po.purpose = Some(Purpose::Cancel);
    let r = run(&invoice(), Order::Sent(&po), &[], &Policy::default());
    assert_eq!(kinds(&r), [VarianceKind::OrderCancelled]);
}

#[test]
fn an_invoice_number_seen_before_is_a_duplicate() {
    let po = order();
    let inv = invoice();
    let policy = Policy::default();
    let seen = ["file 3, document 0".to_string()];
    let r = reconcile(&Input {
        invoice: &inv,
        order: Order::Sent(&po),
        ship_notices: &[],
        billed_before: &[],
        seen_before: &seen,
        policy: &policy,
    });
    assert_eq!(r.status, ReconciliationStatus::Variance);
    assert_eq!(kinds(&r), [VarianceKind::DuplicateInvoice]);
    assert!(r.variances[0].message.contains("file 3, document 0"));
    assert!(checks::duplicate(&inv, &[]).is_empty());
}

#[test]
fn a_line_not_on_the_order_is_unknown() {
    let po = order();
    let mut inv = invoice();
    inv.lines[1] = line("7", "SHADE", "2", "4.25");
    let r = run(&inv, Order::Sent(&po), &[], &Policy::default());
    assert_eq!(kinds(&r), [VarianceKind::UnknownLine]);
    assert_eq!(r.variances[0].line.as_deref(), Some("7"));
    assert_eq!(r.variances[0].line_index, Some(2));
}

#[test]
fn lines_match_by_upc_when_line_numbers_and_skus_do_not() {
    let po = order();
    let mut inv = invoice();
    inv.lines[1].line_number = Some("20".into());
    inv.lines[1].sku = None;
    inv.lines[1].upc = Some("012345678905".into());
    let r = run(&inv, Order::Sent(&po), &[], &Policy::default());
    assert_eq!(r.status, ReconciliationStatus::Matched, "{r:?}");
}

#[test]
fn quantity_above_shipped_is_a_variance_and_equal_is_not() {
    let po = order();
    let short = [notice(&[("LAMP", "2"), ("BULB", "2")])];
    let r = run(&invoice(), Order::Sent(&po), &short, &Policy::default());
    assert_eq!(kinds(&r), [VarianceKind::QuantityOverShipped]);
    let v = &r.variances[0];
    assert_eq!(
        (v.expected.as_deref(), v.actual.as_deref()),
        (Some("2"), Some("3"))
    );
    assert_eq!(v.line.as_deref(), Some("1"));
    // Two notices that add up to what is invoiced.
    let split = [
        notice(&[("LAMP", "2"), ("BULB", "2")]),
        notice(&[("LAMP", "1.000")]),
    ];
    let r = run(&invoice(), Order::Sent(&po), &split, &Policy::default());
    assert!(r.variances.is_empty(), "{r:?}");
    // Ship notices for another order are not this one's.
    let mut other = notice(&[("LAMP", "1")]);
    other.orders[0].po_number = Some("PO-2".into());
    let r = run(&invoice(), Order::Sent(&po), &[other], &Policy::default());
    assert!(r.variances.is_empty(), "{r:?}");
    assert!(r.ship_notices.is_empty());
}

#[test]
fn quantity_above_ordered_is_a_variance_counting_earlier_invoices() {
    let po = order();
    let mut inv = invoice();
    inv.lines[1] = line("2", "BULB", "3", "4.25");
    inv.subtotal = None;
    inv.total_amount = None;
    let r = run(&inv, Order::Sent(&po), &[], &Policy::default());
    assert_eq!(kinds(&r), [VarianceKind::QuantityOverOrdered]);
    assert_eq!(r.variances[0].expected.as_deref(), Some("2"));
    // One lamp billed before, three now: four of three.
    let mut earlier = invoice();
    earlier.invoice_number = "INV-0".into();
    earlier.lines = vec![line("1", "LAMP", "1", "12.50")];
    let policy = Policy::default();
    let now = invoice();
    let r = reconcile(&Input {
        invoice: &now,
        order: Order::Sent(&po),
        ship_notices: &[],
        billed_before: std::slice::from_ref(&earlier),
        seen_before: &[],
        policy: &policy,
    });
    assert_eq!(kinds(&r), [VarianceKind::QuantityOverOrdered]);
    assert_eq!(r.variances[0].actual.as_deref(), Some("4"));
    // A credit memo is not checked against what was ordered.
    let mut memo = inv.clone();
    memo.invoice_type = Some(InvoiceType::CreditMemo);
    assert!(
        run(&memo, Order::Sent(&po), &[], &Policy::default())
            .variances
            .is_empty()
    );
}

#[test]
fn unit_prices_match_within_the_tolerance_up_to_its_boundary() {
    let po = order();
    let policy = Policy {
        price_tolerance: d("0.01"),
        price_tolerance_percent: d("0.5"),
        ..Policy::default()
    };
    // 0.5 % of 12.50 is 0.0625: 12.5625 is at the boundary, 12.5626 past it.
    for (price, ok) in [
        ("12.5625", true),
        ("12.4375", true),
        ("12.5626", false),
        ("12.4374", false),
    ] {
        let mut inv = invoice();
        inv.lines[0].unit_price = Some(d(price));
        inv.lines[0].amount = None;
        inv.subtotal = None;
        inv.total_amount = None;
        let r = run(&inv, Order::Sent(&po), &[], &policy);
        assert_eq!(r.variances.is_empty(), ok, "{price}: {r:?}");
        if !ok {
            assert_eq!(kinds(&r), [VarianceKind::Price]);
            assert_eq!(r.variances[0].expected.as_deref(), Some("12.50"));
            assert_eq!(r.variances[0].actual.as_deref(), Some(price));
        }
    }
    // 4.25: 0.5 % is 0.02125, so the percent applies; the absolute 0.01 alone would not do.
    let mut inv = invoice();
    inv.lines[1].unit_price = Some(d("4.27"));
    inv.lines[1].amount = None;
    inv.subtotal = None;
    inv.total_amount = None;
    assert!(
        run(&inv, Order::Sent(&po), &[], &policy)
            .variances
            .is_empty()
    );
    // Without a tolerance, a tenth of a cent is off.
    inv.lines[1].unit_price = Some(d("4.251"));
    let r = run(&inv, Order::Sent(&po), &[], &Policy::default());
    assert_eq!(kinds(&r), [VarianceKind::Price]);
}

#[test]
fn charges_not_allowed_or_over_their_cap_are_variances() {
    let po = order();
    let allowed = Policy {
        allowed_charges: Some(vec!["D240".into()]),
        freight_cap: Some(d("6.00")),
        ..Policy::default()
    };
    let r = run(&invoice(), Order::Sent(&po), &[], &allowed);
    assert!(r.variances.is_empty(), "{r:?}");
    let capped = Policy {
        freight_cap: Some(d("5.99")),
        ..Policy::default()
    };
    let r = run(&invoice(), Order::Sent(&po), &[], &capped);
    assert_eq!(kinds(&r), [VarianceKind::ChargeOverCap]);
    assert_eq!(r.variances[0].expected.as_deref(), Some("5.99"));
    assert_eq!(r.variances[0].actual.as_deref(), Some("6.00"));
    let mut inv = invoice();
    inv.charges.push(Charge {
        kind: Some(ChargeKind::Charge),
        code: Some("H090".into()),
        description: Some("Handling".into()),
        amount: Some(d("2.00")),
    });
    inv.total_amount = Some(d("54.00"));
    let r = run(&inv, Order::Sent(&po), &[], &allowed);
    assert_eq!(kinds(&r), [VarianceKind::ChargeNotAllowed]);
    // An allowance is never refused.
    inv.charges[1].kind = Some(ChargeKind::Allowance);
    inv.total_amount = Some(d("50.00"));
    assert!(
        run(&inv, Order::Sent(&po), &[], &allowed)
            .variances
            .is_empty()
    );
}

#[test]
fn the_arithmetic_is_checked_to_the_cent() {
    assert!(checks::arithmetic(&invoice()).is_empty());
    // 3 × 0.333 is 0.999: 1.00 to the cent.
    let mut inv = Invoice {
        lines: vec![InvoiceLine {
            quantity: Some(d("3")),
            unit_price: Some(d("0.333")),
            amount: Some(d("1.00")),
            ..InvoiceLine::default()
        }],
        subtotal: Some(d("1.00")),
        total_amount: Some(d("1.00")),
        ..Invoice::default()
    };
    assert!(checks::arithmetic(&inv).is_empty());
    inv.lines[0].amount = Some(d("1.01"));
    let found = checks::arithmetic(&inv);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].expected.as_deref(), Some("1.00"));
    assert_eq!(found[0].line_index, Some(1));
    // The lines to the subtotal, and the subtotal with charges to the total.
    let mut inv = invoice();
    inv.subtotal = Some(d("46.01"));
    let found = checks::arithmetic(&inv);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].expected.as_deref(), Some("46.00"));
    assert_eq!(found[1].expected.as_deref(), Some("52.01"));
    // No subtotal: the lines are the base. 0.1 + 0.2 is exactly 0.3.
    let inv = Invoice {
        lines: vec![
            InvoiceLine {
                amount: Some(d("0.1")),
                ..InvoiceLine::default()
            },
            InvoiceLine {
                amount: Some(d("0.2")),
                ..InvoiceLine::default()
            },
        ],
        charges: vec![Charge {
            kind: Some(ChargeKind::Allowance),
            amount: Some(d("0.30")),
            ..Charge::default()
        }],
        total_amount: Some(d("0")),
        ..Invoice::default()
    };
    assert!(checks::arithmetic(&inv).is_empty());
}

#[test]
fn the_policy_holds_what_it_should() {
    let po = order();
    let matched = run(&invoice(), Order::Sent(&po), &[], &Policy::default());
    let mut inv = invoice();
    inv.lines[0].unit_price = Some(d("13"));
    inv.lines[0].amount = None;
    inv.subtotal = None;
    inv.total_amount = None;
    let variance = run(&inv, Order::Sent(&po), &[], &Policy::default());
    let unmatched = run(&invoice(), Order::NotFound, &[], &Policy::default());
    let hold = Policy::default();
    assert!(!hold.holds(&matched));
    assert!(hold.holds(&variance));
    assert!(!hold.holds(&unmatched));
    let relay = Policy {
        on_variance: OnVariance::Relay,
        on_unmatched: OnVariance::Hold,
        ..Policy::default()
    };
    assert!(!relay.holds(&variance));
    assert!(relay.holds(&unmatched));
    assert!(describe(&variance).starts_with("variance\n  price: line 1 (LAMP): unit price 13"));
}
