//! A partner's reconciliation policy: the tolerances a unit price may be
//! off the order's, the charges it may bill and their caps, and what
//! happens to an invoice that does not match (the `[reconcile]` table of
//! its partner file).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::{Decimal, Reconciliation, ReconciliationStatus, VarianceKind};

/// What happens to an invoice the checks found a problem with.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnVariance {
    /// Held until a person releases it (`dropgate release`, the API).
    #[default]
    Hold,
    /// Relayed all the same, its `reconciliation` saying what differs.
    Relay,
}

/// A partner's `[reconcile]` table. Amounts are written as strings
/// (`"0.01"`) so that they are read exactly.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// How far (in the invoice's currency, per unit) a unit price may be
    /// off the order's and still match.
    #[serde(default)]
    pub price_tolerance: Decimal,
    /// How far, in percent of the order's unit price, it may be off. A
    /// price matches when it is within either tolerance.
    #[serde(default)]
    pub price_tolerance_percent: Decimal,
    /// The charges the partner may bill, by code (X12 SAC02 `D240`) or
    /// description (`Freight`), compared without case. Absent: any charge.
    #[serde(default)]
    pub allowed_charges: Option<Vec<String>>,
    /// The most the partner may bill for freight (the charges coded
    /// `D240`, or described as freight or shipping), in total.
    #[serde(default)]
    pub freight_cap: Option<Decimal>,
    /// The most it may bill for other charges, by code or description.
    #[serde(default)]
    pub charge_caps: BTreeMap<String, Decimal>,
    /// What happens to an invoice with a variance: `hold` (the default)
    /// or `relay`.
    #[serde(default)]
    pub on_variance: OnVariance,
    /// What happens to an invoice for which no order was found (none
    /// sent by dropgate under its PO number): `relay` (the default, for
    /// a partner whose orders go out another way) or `hold`.
    #[serde(default = "relay")]
    pub on_unmatched: OnVariance,
}

fn relay() -> OnVariance {
    OnVariance::Relay
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            price_tolerance: Decimal::ZERO,
            price_tolerance_percent: Decimal::ZERO,
            allowed_charges: None,
            freight_cap: None,
            charge_caps: BTreeMap::new(),
            on_variance: OnVariance::Hold,
            on_unmatched: OnVariance::Relay,
        }
    }
}

impl Policy {
    /// The most a unit price may be off `ordered` and still match: the
    /// larger of the two tolerances.
    pub fn price_allowance(&self, ordered: Decimal) -> rust_decimal::Decimal {
        let percent = ordered.get().abs() * self.price_tolerance_percent.get().abs()
            / rust_decimal::Decimal::ONE_HUNDRED;
        percent.max(self.price_tolerance.get().abs())
    }

    /// Whether an invoice so reconciled is held for a person.
    pub fn holds(&self, reconciliation: &Reconciliation) -> bool {
        let other_than_no_order = reconciliation
            .variances
            .iter()
            .any(|v| v.kind != VarianceKind::NoOrder);
        match reconciliation.status {
            ReconciliationStatus::Matched => false,
            ReconciliationStatus::Variance => self.on_variance == OnVariance::Hold,
            ReconciliationStatus::Unmatched => {
                self.on_unmatched == OnVariance::Hold
                    || (other_than_no_order && self.on_variance == OnVariance::Hold)
            }
        }
    }

    /// Whether the partner may bill a charge with this code and
    /// description.
    pub fn allows(&self, code: Option<&str>, description: Option<&str>) -> bool {
        let Some(allowed) = &self.allowed_charges else {
            return true;
        };
        allowed
            .iter()
            .any(|a| same(Some(a), code) || same(Some(a), description))
    }

    /// The cap of a charge with this code and description, and its name:
    /// freight's, or one of `charge_caps`.
    pub fn cap_of(
        &self,
        code: Option<&str>,
        description: Option<&str>,
    ) -> Option<(String, Decimal)> {
        if let Some(cap) = self.freight_cap
            && is_freight(code, description)
        {
            return Some(("freight".to_string(), cap));
        }
        self.charge_caps
            .iter()
            .find(|(k, _)| same(Some(k), code) || same(Some(k), description))
            .map(|(k, v)| (k.clone(), *v))
    }
}

/// Whether two names are the same, without case or surrounding blanks.
fn same(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    }
}

/// Whether a charge is freight: X12 SAC02 `D240`, or described so.
pub fn is_freight(code: Option<&str>, description: Option<&str>) -> bool {
    if same(code, Some("D240")) {
        return true;
    }
    description.is_some_and(|d| {
        let d = d.to_ascii_lowercase();
        d.contains("freight") || d.contains("shipping")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("a decimal")
    }

    #[test]
    fn the_larger_tolerance_applies() {
        let p = Policy {
            price_tolerance: d("0.01"),
            price_tolerance_percent: d("0.5"),
            ..Policy::default()
        };
        // 0.5 % of 10.00 is 0.05; of 1.00 it is 0.005, below 0.01.
        assert_eq!(p.price_allowance(d("10.00")), d("0.05").get());
        assert_eq!(p.price_allowance(d("1.00")), d("0.01").get());
    }

    #[test]
    fn charges_are_allowed_by_code_or_description() {
        let all = Policy::default();
        assert!(all.allows(Some("H850"), None));
        let p = Policy {
            allowed_charges: Some(vec!["D240".into(), "Handling".into()]),
            ..Policy::default()
        };
        assert!(p.allows(Some("d240"), None));
        assert!(p.allows(None, Some(" handling ")));
        assert!(!p.allows(Some("H850"), Some("Sales Tax")));
        assert!(!p.allows(None, None));
    }

    #[test]
    fn freight_has_its_cap_and_others_theirs() {
        let p = Policy {
            freight_cap: Some(d("25.00")),
            charge_caps: [("H090".to_string(), d("5"))].into_iter().collect(),
            ..Policy::default()
        };
        assert_eq!(
            p.cap_of(Some("D240"), None),
            Some(("freight".into(), d("25.00")))
        );
        assert_eq!(
            p.cap_of(None, Some("Shipping & handling")),
            Some(("freight".into(), d("25.00")))
        );
        assert_eq!(p.cap_of(Some("H090"), None), Some(("H090".into(), d("5"))));
        assert_eq!(p.cap_of(Some("H850"), Some("Tax")), None);
    }

    #[test]
    fn the_policy_reads_from_toml_exactly() {
        let p: Policy = toml::from_str(
            "price_tolerance = \"0.01\"\nprice_tolerance_percent = \"0.5\"\nfreight_cap = \"25.00\"\non_variance = \"relay\"\n",
        )
        .expect("a policy");
        assert_eq!(p.price_tolerance, d("0.01"));
        assert_eq!(p.freight_cap, Some(d("25.00")));
        assert_eq!(p.on_variance, OnVariance::Relay);
        assert_eq!(p.on_unmatched, OnVariance::Relay);
        assert!(toml::from_str::<Policy>("tolerance = \"1\"").is_err());
    }
}
