//! Alerts: people told of exceptions, each exception once per way.
//!
//! - The webhook (`[alerts.webhook]`): each exception opened is POSTed as
//!   JSON, signed as the relay's webhook is, under the idempotency key
//!   `exception:ID`; once the receiver took it, the exception is marked
//!   notified and never sent again (a failure is tried at the next check).
//! - The digest (`[alerts] digest_channel`, an SMTP channel): at most one
//!   e-mail per `digest_every`, listing the exceptions opened since the
//!   last digest and still open ("3 orders need your attention"), each
//!   with its reason and a link to the console; each exception is in one
//!   digest only.
//!
//! The store is read and written on the caller's blocking thread
//! ([`pending`], [`record`]); the network calls ([`send`]) hold nothing.

use chrono::{DateTime, Utc};

use crate::config::{ChannelKind, Gateway as Config};
use crate::relay::webhook;
use crate::store::{Alerted, Durability, ExceptionFilter, ExceptionRecord, Store, StoreError};
use crate::transport::smtp::SmtpChannel;

/// The cursor keeping when the last digest went out.
const DIGEST_CURSOR: &str = "alerts:digest";

/// Where the console is by default.
const DEFAULT_CONSOLE: &str = "http://127.0.0.1:8490";

/// What is to be told.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    /// Exceptions the webhook has not taken yet.
    pub webhook: Vec<ExceptionRecord>,
    /// Exceptions for a digest due now (none when none is due).
    pub digest: Vec<ExceptionRecord>,
}

/// What was told.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Told {
    /// Exceptions the webhook took.
    pub notified: Vec<i64>,
    /// Exceptions a digest listed.
    pub digested: Vec<i64>,
    /// What failed (tried again at the next check).
    pub errors: Vec<String>,
}

/// Where the console is, for links.
pub fn console_url(config: &Config) -> String {
    config
        .alerts
        .console_url
        .clone()
        .unwrap_or_else(|| DEFAULT_CONSOLE.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// The console's page for an exception: its order's, else the
/// exceptions'.
pub fn link(base: &str, e: &ExceptionRecord) -> String {
    match (&e.partner, &e.po_number) {
        (Some(p), Some(po)) => format!(
            "{base}/orders/{}/{}",
            url::form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(po.as_bytes()).collect::<String>()
        ),
        _ => match e.subject.strip_prefix("file:") {
            Some(id) => format!("{base}/files/{id}"),
            None if e.subject.starts_with("delivery:") => format!("{base}/deliveries"),
            None => format!("{base}/exceptions"),
        },
    }
}

/// What is to be told at `now`.
pub fn pending(
    config: &Config,
    store: &mut dyn Store,
    now: DateTime<Utc>,
) -> Result<Pending, StoreError> {
    let mut p = Pending::default();
    let wanted = config.alerts.webhook.is_some() || config.alerts.digest_channel.is_some();
    if !wanted {
        return Ok(p);
    }
    let open = store.exceptions(&ExceptionFilter {
        open_only: true,
        ..ExceptionFilter::default()
    })?;
    if config.alerts.webhook.is_some() {
        p.webhook = open
            .iter()
            .filter(|e| e.notified_at.is_none())
            .cloned()
            .rev()
            .collect();
    }
    if config.alerts.digest_channel.is_some() {
        let due = match store.cursor(DIGEST_CURSOR)? {
            None => true,
            Some(last) => DateTime::parse_from_rfc3339(&last).map_or(true, |last| {
                now - last.with_timezone(&Utc) >= config.alerts.digest_every.chrono()
            }),
        };
        if due {
            p.digest = open
                .iter()
                .filter(|e| e.digested_at.is_none())
                .cloned()
                .rev()
                .collect();
        }
    }
    Ok(p)
}

/// The webhook's body for an exception.
pub fn payload(e: &ExceptionRecord, base: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "exception",
        "id": e.id,
        "kind": e.kind,
        "subject": e.subject,
        "partner": e.partner,
        "po_number": e.po_number,
        "reason": e.reason,
        "opened_at": e.opened_at,
        "link": link(base, e),
    })
}

/// The digest's subject and body.
pub fn digest(exceptions: &[ExceptionRecord], base: &str) -> (String, String) {
    let mut orders: Vec<(&str, &str)> = exceptions
        .iter()
        .filter_map(|e| Some((e.partner.as_deref()?, e.po_number.as_deref()?)))
        .collect();
    orders.sort_unstable();
    orders.dedup();
    let others = exceptions.iter().filter(|e| e.po_number.is_none()).count();
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let verb = if orders.len() + others == 1 {
        "needs"
    } else {
        "need"
    };
    let subject = match (orders.len(), others) {
        (0, n) => format!(
            "dropgate: {} {verb} your attention",
            plural(n, "problem", "problems")
        ),
        (o, 0) => format!(
            "dropgate: {} {verb} your attention",
            plural(o, "order", "orders")
        ),
        (o, n) => format!(
            "dropgate: {} and {} {verb} your attention",
            plural(o, "order", "orders"),
            plural(n, "other problem", "other problems")
        ),
    };
    let mut body = format!("{}\n\n", subject.trim_start_matches("dropgate: "));
    for (partner, po) in &orders {
        body.push_str(&format!("Purchase order {po} ({partner}):\n"));
        for e in exceptions
            .iter()
            .filter(|e| e.partner.as_deref() == Some(partner) && e.po_number.as_deref() == Some(po))
        {
            body.push_str(&format!("  - {}: {}\n", e.kind, e.reason));
        }
        if let Some(e) = exceptions
            .iter()
            .find(|e| e.partner.as_deref() == Some(partner) && e.po_number.as_deref() == Some(po))
        {
            body.push_str(&format!("    {}\n", link(base, e)));
        }
        body.push('\n');
    }
    for e in exceptions.iter().filter(|e| e.po_number.is_none()) {
        body.push_str(&format!(
            "- {}: {}\n    {}\n",
            e.kind,
            e.reason,
            link(base, e)
        ));
    }
    body.push_str(&format!("\nAll open exceptions: {base}/exceptions\n"));
    (subject, body)
}

/// Tells what is pending: the webhook for each, the digest once.
pub async fn send(config: &Config, pending: Pending) -> Told {
    let mut told = Told::default();
    let base = console_url(config);
    if let Some(w) = &config.alerts.webhook
        && !pending.webhook.is_empty()
    {
        match (webhook::client(w), w.secret()) {
            (Ok(client), Ok(secret)) => {
                for e in &pending.webhook {
                    let body = payload(e, &base).to_string();
                    let key = format!("exception:{}", e.id);
                    let what = format!("exception {}", e.id);
                    match webhook::post(&client, &w.url, &secret, &key, body.as_bytes(), &what)
                        .await
                    {
                        Ok(()) => told.notified.push(e.id),
                        Err(err) => {
                            told.errors.push(format!("the alert webhook: {err}"));
                            break;
                        }
                    }
                }
            }
            (Err(e), _) | (_, Err(e)) => told.errors.push(format!("the alert webhook: {e}")),
        }
    }
    if let Some(name) = &config.alerts.digest_channel
        && !pending.digest.is_empty()
    {
        match config.channel(name).map(|c| &c.kind) {
            Some(ChannelKind::Smtp(smtp)) => {
                let (subject, body) = digest(&pending.digest, &base);
                let mut channel = SmtpChannel::new(name, smtp.clone());
                match channel.send_text(&subject, &body).await {
                    Ok(()) => told.digested = pending.digest.iter().map(|e| e.id).collect(),
                    Err(e) => told.errors.push(format!("the alert digest: {e}")),
                }
            }
            _ => told
                .errors
                .push(format!("the alert digest: {name} is not an smtp channel")),
        }
    }
    told
}

/// Records what was told, so that it is never told again.
pub fn record(store: &mut dyn Store, told: &Told, now: DateTime<Utc>) -> Result<(), StoreError> {
    if told.notified.is_empty() && told.digested.is_empty() {
        return Ok(());
    }
    let mut tx = store.transaction(Durability::Synced)?;
    for id in &told.notified {
        tx.exception_alerted(*id, Alerted::Webhook)?;
    }
    for id in &told.digested {
        tx.exception_alerted(*id, Alerted::Digest)?;
    }
    if !told.digested.is_empty() {
        tx.set_cursor(
            DIGEST_CURSOR,
            &now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exception(id: i64, kind: &str, partner: Option<&str>, po: Option<&str>) -> ExceptionRecord {
        ExceptionRecord {
            id,
            kind: kind.into(),
            subject: match po {
                Some(po) => format!("order:{}:{po}", partner.unwrap_or("")),
                None => format!("file:{id}"),
            },
            partner: partner.map(String::from),
            po_number: po.map(String::from),
            reason: format!("reason {id}"),
            opened_at: "2026-12-06T10:00:00.000Z".into(),
            closed: None,
            notified_at: None,
            digested_at: None,
        }
    }

    #[test]
    fn a_digest_counts_orders_and_lists_each_exception_with_its_link() {
        let list = [
            exception(1, "no-997", Some("acme"), Some("4711")),
            exception(2, "no-855", Some("acme"), Some("4711")),
            exception(3, "late", Some("bolt"), Some("A/1")),
            exception(4, "invoice-held", Some("acme"), Some("4712")),
        ];
        let (subject, body) = digest(&list, "http://127.0.0.1:8490");
        assert_eq!(subject, "dropgate: 3 orders need your attention");
        assert!(body.starts_with("3 orders need your attention\n"), "{body}");
        assert!(body.contains("Purchase order 4711 (acme):\n  - no-997: reason 1\n  - no-855: reason 2\n    http://127.0.0.1:8490/orders/acme/4711\n"), "{body}");
        assert!(
            body.contains("http://127.0.0.1:8490/orders/bolt/A%2F1"),
            "{body}"
        );
        let (subject, body) = digest(&[exception(9, "quarantined", None, None)], "http://x");
        assert_eq!(subject, "dropgate: 1 problem needs your attention");
        assert!(
            body.contains("- quarantined: reason 9\n    http://x/files/9"),
            "{body}"
        );
    }
}
