//! The exception watcher: every `[alerts] check_every`, under the lease
//! `watch` (one instance at a time), the rules of each partner are checked
//! against the orders, the quarantined files, the channels' polls and the
//! inventory feeds as the store has them now ([`check`]); an exception
//! found and not open is opened, one open and no longer found is closed
//! with what resolved it, in one short transaction. Then people are told
//! (`super::alerts`).
//!
//! Why a periodic check and not a hook on each event: most exceptions are
//! the absence of an event ("no 997 in 4 hours"), which no event raises;
//! and one rule applied to the state, whatever raised it, never opens an
//! exception twice nor leaves one open after what resolves it came,
//! whichever instance stored it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::orders;
use crate::config::Gateway as Config;
use crate::lifecycle::exceptions::{self, Finding};
use crate::lifecycle::{ExceptionKind, Order};
use crate::store::{
    Durability, ExceptionFilter, FileState, NewException, OrderFilter, Outbox, Store, StoreError,
};

/// The lease the watcher works under.
pub const LEASE: &str = "watch";

/// How far back orders are followed: an order first seen earlier is
/// checked only while it has an exception open.
const LOOKBACK_DAYS: i64 = 120;

/// How many of the latest files are looked at for quarantined ones.
const RECENT_FILES: usize = 5000;

/// The deliveries waiting in the outbox looked at for `delivery-failing`
/// (the next due first; beyond these, an open exception is closed as if
/// its delivery were made).
const WAITING_DELIVERIES: usize = 10_000;

/// What a check did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Exceptions opened (their numbers).
    pub opened: Vec<i64>,
    /// Exceptions closed.
    pub closed: usize,
    /// Exceptions open now.
    pub open: usize,
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// What resolved an exception that is no longer found.
fn resolution(kind: ExceptionKind, order: Option<&Order>, file_state: Option<FileState>) -> String {
    let state = order.map(|o| o.state.as_str()).unwrap_or("unknown");
    match kind {
        ExceptionKind::No997 => match order.and_then(|o| o.functional_ack) {
            Some(_) => "the 997 came".into(),
            None => format!("the rule no longer applies (the order is {state})"),
        },
        ExceptionKind::No855 => match order {
            Some(o) if o.first_ack_at.is_some() => "the 855 came".into(),
            Some(o) if o.first_ship_at.is_some() => "a ship notice came".into(),
            _ => format!("the rule no longer applies (the order is {state})"),
        },
        ExceptionKind::Late => format!("the order is {state}"),
        ExceptionKind::InvoiceHeld => format!("the invoice was released (the order is {state})"),
        ExceptionKind::Quarantined => match file_state {
            Some(s) => format!("the file is {s} now"),
            None => "the file is no longer quarantined".into(),
        },
        ExceptionKind::ChannelFailing => "the channel works again".into(),
        ExceptionKind::InventoryMissing => "an inventory report came".into(),
        ExceptionKind::DeliveryFailing => {
            "the delivery was made (or taken out of the outbox)".into()
        }
        _ => format!("no longer found (the order is {state})"),
    }
}

/// Checks every rule at `now` and opens and closes exceptions to match.
/// `watching_since` is when the daemon started (an inventory feed never
/// received is missing from then).
pub fn check(
    config: &Config,
    store: &mut dyn Store,
    now: DateTime<Utc>,
    watching_since: DateTime<Utc>,
) -> Result<Checked, StoreError> {
    let open = store.exceptions(&ExceptionFilter {
        open_only: true,
        ..ExceptionFilter::default()
    })?;
    // The orders: those of the lookback, and any older one with an
    // exception open.
    let since =
        (now - Duration::days(LOOKBACK_DAYS)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut followed: HashMap<(String, String), Order> = orders::list(
        store,
        &OrderFilter {
            since: Some(since),
            ..OrderFilter::default()
        },
    )?
    .into_iter()
    .map(|o| ((o.partner.clone(), o.po_number.clone()), o))
    .collect();
    for e in &open {
        if let (Some(p), Some(po)) = (&e.partner, &e.po_number) {
            let key = (p.clone(), po.clone());
            if !followed.contains_key(&key)
                && let Some(o) = orders::order(store, p, po)?
            {
                followed.insert(key, o);
            }
        }
    }
    let mut found: Vec<Finding> = Vec::new();
    for o in followed.values() {
        found.extend(exceptions::for_order(o, &config.rules_for(&o.partner), now));
    }
    // Quarantined files: the latest, and those with an exception open.
    let mut files: HashMap<i64, FileState> = HashMap::new();
    for f in store.recent_files(RECENT_FILES)? {
        files.insert(f.id, f.state);
        if f.state == FileState::Quarantined {
            let rules = match &f.partner {
                Some(p) => config.rules_for(p),
                None => config.exceptions,
            };
            let reason = f
                .detail
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("");
            found.extend(exceptions::for_quarantined(
                f.id,
                &f.name,
                f.partner.as_deref(),
                reason,
                &rules,
            ));
        }
    }
    for e in &open {
        if let Some(id) = e.subject.strip_prefix("file:").and_then(|i| i.parse().ok())
            && !files.contains_key(&id)
            && let Some(f) = store.file(id)?
        {
            files.insert(id, f.state);
            if f.state == FileState::Quarantined {
                found.push(Finding {
                    kind: ExceptionKind::Quarantined,
                    subject: e.subject.clone(),
                    partner: f.partner.clone(),
                    po_number: None,
                    reason: e.reason.clone(),
                });
            }
        }
    }
    for poll in store.channel_polls()? {
        if let (Some(since), Some((error, _))) = (
            poll.failing_since.as_deref().and_then(parse_time),
            &poll.last_error,
        ) {
            found.extend(exceptions::for_channel(
                &poll.channel,
                since,
                error,
                &config.exceptions,
                now,
            ));
        }
    }
    if config.exceptions.delivery_failing_after.is_some() {
        for d in store.outbox(Outbox::Waiting(WAITING_DELIVERIES))? {
            if let Some(queued) = parse_time(&d.created_at) {
                found.extend(exceptions::for_delivery(
                    &d,
                    queued,
                    &config.exceptions,
                    now,
                ));
            }
        }
    }
    for p in &config.partners {
        let rules = config.rules_for(&p.id);
        if rules.inventory_every.is_none() {
            continue;
        }
        let last = store
            .last_received(&p.id, "inventory_advice")?
            .as_deref()
            .and_then(parse_time);
        found.extend(exceptions::for_inventory(
            &p.id,
            last,
            watching_since,
            &rules,
            now,
        ));
    }

    // One finding per kind and subject (the first).
    let mut seen = HashSet::new();
    found.retain(|f| seen.insert((f.kind, f.subject.clone())));
    let mut checked = Checked::default();
    let mut tx = store.transaction(Durability::Synced)?;
    for f in &found {
        match open
            .iter()
            .find(|e| e.kind == f.kind.as_str() && e.subject == f.subject)
        {
            Some(e) if e.reason != f.reason => tx.note_exception(e.id, &f.reason)?,
            Some(_) => {}
            None => {
                let id = tx.open_exception(&NewException {
                    kind: f.kind.as_str(),
                    subject: &f.subject,
                    partner: f.partner.as_deref(),
                    po_number: f.po_number.as_deref(),
                    reason: &f.reason,
                })?;
                checked.opened.push(id);
            }
        }
    }
    for e in &open {
        if found
            .iter()
            .any(|f| f.kind.as_str() == e.kind && f.subject == e.subject)
        {
            continue;
        }
        let Some(kind) = ExceptionKind::parse(&e.kind) else {
            continue;
        };
        let order = match (&e.partner, &e.po_number) {
            (Some(p), Some(po)) => followed.get(&(p.clone(), po.clone())),
            _ => None,
        };
        let file_state = e
            .subject
            .strip_prefix("file:")
            .and_then(|i| i.parse().ok())
            .and_then(|id: i64| files.get(&id).copied());
        tx.close_exception(e.id, &resolution(kind, order, file_state))?;
        checked.closed += 1;
    }
    tx.commit()?;
    checked.open = open.len() + checked.opened.len() - checked.closed;
    Ok(checked)
}
