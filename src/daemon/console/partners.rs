//! Partners and their channels: each partner's identity and the channels
//! its files come on and go out on; for each channel, how often it is
//! polled, what last arrived on it (the last file received, the last one
//! processed) and the deliveries to it that fail.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::auth::User;
use super::{PageError, Shared, layout};
use crate::config::ChannelKind;
use crate::store::{ChannelActivity, ChannelPoll, Instance};

/// What the page reads from the store.
struct Seen {
    activity: Vec<ChannelActivity>,
    /// Deliveries failing: target, name, attempts, last error.
    failing: Vec<(String, String, u32, String)>,
    /// The instances at work, with the leases they hold (`channel:NAME`:
    /// the one that polls it).
    instances: Vec<Instance>,
    /// Per channel (in the order of the configuration), what is known of
    /// its polls.
    polls: Vec<Option<Markup>>,
}

/// What is known of the polls of each channel (the last poll, the last
/// successful one, the last error and since when it fails), as table
/// cells' contents, by channel name.
fn poll_status(polls: &[ChannelPoll], channel: &str) -> Option<Markup> {
    let p = polls.iter().find(|p| p.channel == channel)?;
    Some(html! {
        div { "last poll " (layout::when(&p.last_poll_at)) }
        div { "last success " @match &p.last_ok_at { Some(at) => (layout::when(at)), None => "never" } }
        @if let Some((error, at)) = &p.last_error {
            div .poll-error data-failing=[p.failing_since.is_some().then_some("yes")] {
                @if let Some(since) = &p.failing_since { "failing since " (layout::when(since)) ": " } @else { "last error " (layout::when(at)) ": " }
                span .detail { (error) }
            }
        }
    })
}

fn kind(k: &ChannelKind) -> &'static str {
    match k {
        ChannelKind::Dir(_) => "folder",
        ChannelKind::Sftp(_) => "SFTP",
        ChannelKind::Imap(_) => "IMAP mailbox",
        ChannelKind::Smtp(_) => "SMTP (sends)",
        ChannelKind::As2(_) => "AS2 partnership",
        ChannelKind::Http(_) => "HTTP feed",
    }
}

/// `GET /partners`.
pub async fn page(State(shared): State<Arc<Shared>>, user: User) -> Result<Response, PageError> {
    let (parts, seen) = shared
        .read(|parts, store| {
            let recorded = store.channel_polls()?;
            let polls = parts
                .config
                .channels
                .iter()
                .map(|c| poll_status(&recorded, &c.name))
                .collect::<Vec<_>>();
            Ok(Seen {
                activity: store.channel_activity()?,
                failing: store.failing_deliveries()?,
                instances: store.instances()?,
                polls,
            })
        })
        .await
        .map(|seen| (shared.parts(), seen))?;
    let config = &parts.config;
    let body = html! {
        h2 { "Partners" }
        table #partners {
            tr { th { "Partner" } th { "X12 identity" } th { "Files come on" } th { "Files go out on" } }
            @for p in &config.partners {
                tr id={ "partner-" (p.id) } data-partner=(p.id) {
                    td { strong { (p.id) } @if p.name != p.id { br; (p.name) } }
                    td { @if let Some(x) = &p.x12 { code { (x.interchange_id) } } @else { "-" } }
                    td {
                        @for i in &p.inbound {
                            div { a href={ "#channel-" (i.channel) } { (i.channel) } " " span .detail { (i.patterns.join(", ")) } }
                        }
                    }
                    td { @if let Some(o) = &p.outbound { a href={ "#channel-" (o.channel) } { (o.channel) } } @else { "-" } }
                }
            }
        }
        h2 { "Channels" }
        table #channels {
            tr { th { "Channel" } th { "Kind" } th { "Polled every" } th { "Polled by" } th { "Polls" } th { "Last file received" } th { "Last file processed" } th { "Deliveries to it failing" } }
            @for (c, poll) in config.channels.iter().zip(&seen.polls) {
                @let activity = seen.activity.iter().find(|a| a.channel == c.name);
                @let failing: Vec<&(String, String, u32, String)> = seen.failing.iter().filter(|d| d.0 == c.name).collect();
                @let lease = format!("channel:{}", c.name);
                @let holder = seen.instances.iter().find(|i| i.leases.contains(&lease));
                tr id={ "channel-" (c.name) } data-channel=(c.name) {
                    td { strong { (c.name) } }
                    td { (kind(&c.kind)) }
                    td { @if matches!(c.kind, ChannelKind::Smtp(_)) { "-" } @else { (config.poll_every(&c.name)) " s" } }
                    td { @match holder { Some(i) => span title=(i.about) { (i.id) }, None => "-" } }
                    td .poll {
                        @match poll {
                            Some(status) => (status),
                            None => span .note { "not polled yet" },
                        }
                    }
                    td {
                        @match activity {
                            Some(a) => {
                                a href={ "/files/" (a.last_file) } { (layout::when(&a.last_received_at)) } " " (layout::state(a.last_state))
                                br; span .detail { (a.files) " file(s) in all" }
                            },
                            None => span .note { "none yet" },
                        }
                    }
                    td { @match activity.and_then(|a| a.last_processed_at.as_deref()) { Some(at) => (layout::when(at)), None => "-" } }
                    td data-failing=(failing.len()) {
                        @if failing.is_empty() { "none" } @else {
                            a href="/deliveries" { (failing.len()) " failing" }
                            @if let Some((_, name, attempts, error)) = failing.first() {
                                pre .detail { (name) " (" (attempts) " attempt(s)): " (error) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&user, "/partners", "Partners and channels", body).into_response())
}
