//! The measures of a set of orders (a partner's, over a period): how fast
//! vendors answer and ship, how much of what was ordered ships, on time,
//! and billed right. Each is defined here once; `/metrics`, the console
//! and `dropgate orders --measures` show these numbers.
//!
//! - order-to-acknowledgment, order-to-ship and 997 turnaround: from the
//!   order sent to the first 855, the first ship notice, the first
//!   997/999; the median (the mean of the two middle values for an even
//!   count) and the 90th percentile (nearest rank), over the orders that
//!   have one;
//! - fill rate: units shipped (up to the quantity ordered, per line) over
//!   units ordered, over the orders that shipped or were rejected;
//! - on-time shipment rate: orders complete by their due date (the date
//!   promised, else asked for) over those complete with a due date and
//!   those whose due date has passed without them being complete;
//! - perfect order rate: of the orders invoiced, those complete, on time
//!   (or without a due date), with nothing shipped beyond the order, and
//!   every invoice matched;
//! - invoice variance rate: the orders' invoices whose reconciliation
//!   did not match, over all their invoices.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use rust_decimal::Decimal;

use super::order::{Order, OrderState};
use crate::model::ReconciliationStatus;

/// A time from the order to something, over the orders that have it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    /// How many orders have it.
    pub count: usize,
    /// The median, in seconds.
    pub median_secs: Option<i64>,
    /// The 90th percentile, in seconds.
    pub p90_secs: Option<i64>,
}

impl Timing {
    fn of(mut secs: Vec<i64>) -> Timing {
        secs.sort_unstable();
        let n = secs.len();
        if n == 0 {
            return Timing::default();
        }
        let median = if n % 2 == 1 {
            secs[n / 2]
        } else {
            (secs[n / 2 - 1] + secs[n / 2]) / 2
        };
        // Nearest rank: the smallest value with at least 90 % at or below.
        let rank = (n * 90).div_ceil(100).max(1);
        Timing {
            count: n,
            median_secs: Some(median),
            p90_secs: Some(secs[rank - 1]),
        }
    }
}

/// A share: how many of how many.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rate<T = u64> {
    /// Those that count.
    pub part: T,
    /// Out of.
    pub whole: T,
}

impl Rate<u64> {
    /// As a fraction (none of none is `None`).
    pub fn ratio(&self) -> Option<f64> {
        (self.whole > 0).then(|| self.part as f64 / self.whole as f64)
    }
}

impl Rate<Decimal> {
    /// As a fraction (none of none is `None`).
    pub fn ratio(&self) -> Option<f64> {
        use rust_decimal::prelude::ToPrimitive;
        (self.whole > Decimal::ZERO)
            .then(|| (self.part / self.whole).to_f64())
            .flatten()
    }
}

/// The measures of a set of orders.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measures {
    /// How many orders (sent, not counting documents for unknown POs).
    pub orders: usize,
    /// Order to first 855.
    pub order_to_ack: Timing,
    /// Order to first ship notice.
    pub order_to_ship: Timing,
    /// Order to first 997/999.
    pub turnaround_997: Timing,
    /// Units shipped over units ordered.
    pub fill: Rate<Decimal>,
    /// Orders shipped on time.
    pub on_time: Rate,
    /// Perfect orders among those invoiced.
    pub perfect: Rate,
    /// Invoices with a variance.
    pub invoice_variance: Rate,
}

/// A time as people read it: `45 min`, `4.5 h`, `-` for none.
pub fn hours_text(secs: Option<i64>) -> String {
    match secs {
        Some(s) if s < 3600 => format!("{} min", s / 60),
        Some(s) => format!("{:.1} h", s as f64 / 3600.0),
        None => "-".into(),
    }
}

/// A share as people read it: `92.0 %`, `-` for none of none.
pub fn percent_text(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{:.1} %", r * 100.0))
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds().max(0)
}

/// The measures of `orders` at `now` (for the on-time rate's due dates
/// passed). Orders never sent and cancelled orders are left out.
pub fn measure<'a>(orders: impl IntoIterator<Item = &'a Order>, now: DateTime<Utc>) -> Measures {
    let mut m = Measures::default();
    let (mut ack, mut ship, mut fa) = (Vec::new(), Vec::new(), Vec::new());
    for o in orders {
        let Some(sent) = o.sent_at else { continue };
        if o.state == OrderState::Cancelled {
            continue;
        }
        m.orders += 1;
        if let Some(at) = o.first_ack_at {
            ack.push(secs(sent, at));
        }
        if let Some(at) = o.first_ship_at {
            ship.push(secs(sent, at));
        }
        if let Some((at, _)) = o.functional_ack {
            fa.push(secs(sent, at));
        }
        if o.first_ship_at.is_some() || o.state == OrderState::Rejected {
            for l in &o.lines {
                m.fill.whole += l.ordered;
                m.fill.part += l.shipped.min(l.ordered);
            }
        }
        if let Some(due) = o.due {
            match o.on_time() {
                Some(on_time) => {
                    m.on_time.whole += 1;
                    m.on_time.part += u64::from(on_time);
                }
                None => {
                    let end_of_due = (due + Duration::days(1)).and_time(NaiveTime::MIN).and_utc();
                    if now >= end_of_due && o.state != OrderState::Rejected {
                        m.on_time.whole += 1;
                    }
                }
            }
        }
        if !o.invoices.is_empty() {
            m.perfect.whole += 1;
            let exact = o.lines.iter().all(|l| l.shipped <= l.ordered)
                && o.unplaced_shipped == Decimal::ZERO;
            let matched = o
                .invoices
                .iter()
                .all(|i| i.status == Some(ReconciliationStatus::Matched));
            if o.fully_shipped() && o.on_time().unwrap_or(o.due.is_none()) && exact && matched {
                m.perfect.part += 1;
            }
            for i in &o.invoices {
                m.invoice_variance.whole += 1;
                m.invoice_variance.part +=
                    u64::from(i.status != Some(ReconciliationStatus::Matched));
            }
        }
    }
    m.order_to_ack = Timing::of(ack);
    m.order_to_ship = Timing::of(ship);
    m.turnaround_997 = Timing::of(fa);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_and_90th_percentile_are_by_the_definitions() {
        let t = Timing::of(vec![10, 40, 20, 30]);
        assert_eq!(
            (t.count, t.median_secs, t.p90_secs),
            (4, Some(25), Some(40))
        );
        let t = Timing::of((1..=10).collect());
        assert_eq!((t.median_secs, t.p90_secs), (Some(5), Some(9)));
        let t = Timing::of(vec![7]);
        assert_eq!((t.median_secs, t.p90_secs), (Some(7), Some(7)));
        assert_eq!(Timing::of(Vec::new()), Timing::default());
    }
}
