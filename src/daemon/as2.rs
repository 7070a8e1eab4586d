//! The daemon's AS2 server (`[as2]`): partners POST their messages to
//! `/as2` on its own listener; each is opened (decrypted, decompressed,
//! its signature verified) with our key and the certificate of the
//! partnership its AS2-From names (an `as2` channel), answered with an
//! MDN (signed when asked, in the HTTP answer or posted to the partner's
//! URL), and its payload archived and recorded as a file received on that
//! channel, which the translator then takes up as any other.
//!
//! A message is taken once: its Message-ID, the file and the MDN are
//! committed in one transaction before the MDN is sent, and a message
//! whose Message-ID was received before is answered with the MDN it got
//! then, and not taken again (two posts of it at once: the second finds
//! the first's record and gets its MDN). An asynchronous MDN is queued in
//! the outbox in that same transaction (target [`MDN_TARGET`], its URL as
//! the delivery's name) and posted by a delivery worker, with its
//! retries: a crash after the answer loses no MDN.
//!
//! Partners post the asynchronous MDNs of what we sent to `/as2/mdn`
//! (`[as2] mdn_url`): each is matched to its message by its
//! Original-Message-ID, verified with that partnership's certificate and
//! our MIC, recorded, and the delivery that sent the message is made
//! (or, for a negative MDN, noted, and sent again at its next try).
//!
//! Everything runs on a blocking thread; the cryptography with no lock
//! held, the store connection and the archive only for a read and for
//! keeping and recording a message.

use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::wake::Wake;
use crate::as2::Mic;
use crate::as2::mdn::{self, Disposition, DispositionModifier, Expected, MdnReport};
use crate::as2::message::{self, Envelope, Inbound, MdnDelivery};
use crate::as2::mime::{Header, Limits};
use crate::config::{ChannelKind, Gateway as Config};
use crate::store::{
    Archive, As2Direction, As2Record, Durability, ErrorKind, NewDelivery, NewFile, Store,
    StoreError,
};
use crate::transport::as2::{As2Channel, As2Config, load_identity, mdn_from_record, mdn_record};

/// The outbox's target of the asynchronous MDNs we owe partners.
pub const MDN_TARGET: &str = "as2-mdn";

/// What the AS2 server works with, replaced on SIGHUP.
pub struct Parts {
    /// The configuration (the partnerships: `as2` channels).
    pub config: Arc<Config>,
    /// Where received payloads are kept.
    pub archive: Archive,
}

/// What the AS2 server's handlers share.
pub struct Shared {
    parts: RwLock<Arc<Mutex<Parts>>>,
    store: Mutex<Box<dyn Store>>,
    wake: Arc<Wake>,
}

impl Shared {
    /// The server's state, with a store connection of its own.
    pub fn new(parts: Parts, store: Box<dyn Store>, wake: Arc<Wake>) -> Shared {
        Shared {
            parts: RwLock::new(Arc::new(Mutex::new(parts))),
            store: Mutex::new(store),
            wake,
        }
    }

    /// Puts the reloaded configuration in place.
    pub fn replace_parts(&self, parts: Parts) {
        *self.parts.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Mutex::new(parts));
    }

    fn parts(&self) -> Arc<Mutex<Parts>> {
        Arc::clone(&self.parts.read().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The AS2 server's routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/as2", post(receive))
        .route("/as2/mdn", post(receive_mdn))
        .with_state(shared)
}

/// An HTTP answer made on the blocking thread.
struct Answer {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn text(status: StatusCode, text: String) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: text.into_bytes(),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut r = Response::builder().status(self.status);
        for (n, v) in &self.headers {
            r = r.header(n.as_str(), v.as_str());
        }
        r.body(Body::from(self.body))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    }
}

/// `POST /as2`.
async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    let limit = {
        let parts = shared.parts();
        let p = parts.lock().unwrap_or_else(|e| e.into_inner());
        p.config
            .as2
            .as_ref()
            .map_or(64 << 20, |a| a.max_body_bytes())
    };
    let body = axum::body::to_bytes(body, limit).await.ok();
    let headers: Vec<Header> = headers
        .iter()
        .map(|(n, v)| Header {
            name: n.as_str().to_string(),
            value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
        })
        .collect();
    let s = Arc::clone(&shared);
    let answer = tokio::task::spawn_blocking(move || take(&s, &headers, body))
        .await
        .unwrap_or_else(|e| {
            Answer::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the AS2 server: {e}"),
            )
        });
    answer.into_response()
}

/// The partnership whose partner is `as2_id`: its channel's name and
/// configuration.
fn partnership<'a>(config: &'a Config, as2_id: &str) -> Option<(&'a str, &'a As2Config)> {
    config.channels.iter().find_map(|c| match &c.kind {
        ChannelKind::As2(a) if a.as2_id == as2_id => Some((c.name.as_str(), a)),
        _ => None,
    })
}

/// Opens, records and answers one message (on a blocking thread).
fn take(shared: &Shared, headers: &[Header], body: Option<Bytes>) -> Answer {
    let env = match message::envelope(headers) {
        Ok(e) => e,
        // Without its AS2 names and Message-ID no MDN can answer it.
        Err(e) => return Answer::text(StatusCode::BAD_REQUEST, format!("not an AS2 message: {e}")),
    };
    match take_message(shared, &env, headers, body.as_deref()) {
        Ok((answer, received)) => {
            if received {
                shared.wake.ring();
            }
            answer
        }
        Err(e) => {
            tracing::error!(message_id = %env.message_id, error = %e, "an AS2 message could not be stored; the partner will send it again");
            Answer::text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the message could not be stored now: {e}"),
            )
        }
    }
}

/// Why a message is refused: the MDN's modifier and the reason.
type Refusal = (DispositionModifier, String);

/// The MDN a message received before got, to answer it again (the store
/// connection held for that one read).
fn answered_before(shared: &Shared, env: &Envelope) -> Result<Option<Answer>, StoreError> {
    let mut store = shared.store.lock().unwrap_or_else(|e| e.into_inner());
    let Some(before) = store.as2_message(As2Direction::In, &env.message_id)? else {
        return Ok(None);
    };
    tracing::info!(message_id = %env.message_id, "an AS2 message received before: answered again");
    let kept = before.mdn.unwrap_or_default();
    // An asynchronous MDN is queued again, under a key of its own.
    if let Some(MdnDelivery::Async { url }) = env.mdn.as_ref().map(|m| &m.delivery) {
        let again = format!(
            "{MDN_TARGET}:{}:again:{}",
            env.message_id,
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        let mut tx = store.transaction(Durability::Synced)?;
        tx.queue(&[owed_mdn(again, url, &kept)])?;
        tx.commit()?;
        shared.wake.ring();
    }
    Ok(Some(respond(env, &kept)))
}

/// Opens a message and makes its MDN with no lock held (the work is the
/// cryptography), then keeps its payload in the archive and records it
/// with its Message-ID and MDN in one transaction; a message whose
/// Message-ID was recorded meanwhile (the same message posted twice at
/// once) gets the MDN recorded first.
fn take_message(
    shared: &Shared,
    env: &Envelope,
    headers: &[Header],
    body: Option<&[u8]>,
) -> Result<(Answer, bool), StoreError> {
    let parts = shared.parts();
    let config = Arc::clone(&parts.lock().unwrap_or_else(|e| e.into_inner()).config);
    let Some(server) = config.as2.clone() else {
        return Ok((
            Answer::text(StatusCode::NOT_FOUND, "AS2 is not configured".into()),
            false,
        ));
    };
    // A message received before: the same MDN again, nothing taken.
    if let Some(answer) = answered_before(shared, env)? {
        return Ok((answer, false));
    }
    let ours = server.ours();
    let identity = load_identity(&ours);
    let found = partnership(&config, &env.from);
    let now = SystemTime::now();
    let opened: Result<(Inbound, &str), Refusal> = (|| {
        let (channel, partnership) = found.ok_or_else(|| {
            (
                DispositionModifier::AuthenticationFailed,
                format!("no AS2 partnership with {:?}", env.from),
            )
        })?;
        if env.to != ours.as2_id {
            return Err((
                DispositionModifier::AuthenticationFailed,
                format!("the message is for {:?}, not {:?}", env.to, ours.as2_id),
            ));
        }
        let body = body.ok_or_else(|| {
            (
                DispositionModifier::UnexpectedProcessingError,
                format!(
                    "the message is larger than [as2] max_body_mb ({} MB)",
                    server.max_body_mb
                ),
            )
        })?;
        let us = identity
            .as_ref()
            .map_err(|e| (DispositionModifier::UnexpectedProcessingError, e.clone()))?;
        let partner = partnership
            .partner_certificate()
            .map_err(|e| (DispositionModifier::AuthenticationFailed, e))?;
        let limits = Limits {
            max_content_bytes: server.max_body_bytes(),
            ..Limits::default()
        };
        let receiving = message::Receiving {
            us,
            partner: &partner,
            policy: partnership.policy(),
            limits: &limits,
        };
        let inbound = message::open(
            headers,
            body,
            &receiving,
            now,
            &mut crate::as2::system_rng(),
        )
        .map_err(|e| (e.modifier(), e.to_string()))?;
        Ok((inbound, channel))
    })();
    let (disposition, mic) = match &opened {
        Ok((inbound, _)) => (Disposition::Processed, Some(inbound.mic.clone())),
        Err((modifier, why)) => {
            tracing::warn!(message_id = %env.message_id, from = %env.from, reason = %why, "an AS2 message refused");
            (Disposition::error(*modifier), None)
        }
    };
    let report = MdnReport {
        reporting_ua: format!("dropgate {}", env!("CARGO_PKG_VERSION")),
        original_recipient: ours.as2_id.clone(),
        final_recipient: ours.as2_id.clone(),
        original_message_id: env.message_id.clone(),
        mic,
        disposition,
    };
    let sign = env
        .mdn
        .as_ref()
        .and_then(|m| m.signed)
        .and_then(|d| identity.as_ref().ok().map(|i| (d, i)));
    let mdn_id = format!("mdn-{}", env.message_id);
    let built = mdn::build(
        &report,
        &ours.as2_id,
        &env.from,
        &mdn_id,
        sign,
        now,
        &mut crate::as2::system_rng(),
    );
    let (mdn_headers, mdn_body) = match built {
        Ok(m) => (m.headers, m.body),
        Err(e) => {
            return Ok((
                Answer::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the MDN could not be made: {e}"),
                ),
                false,
            ));
        }
    };
    let kept = mdn_record(
        &mdn_headers
            .iter()
            .map(|(n, v)| Header {
                name: n.clone(),
                value: v.clone(),
            })
            .collect::<Vec<_>>(),
        &mdn_body,
    );
    let owed = match env.mdn.as_ref().map(|m| &m.delivery) {
        Some(MdnDelivery::Async { url }) => Some(owed_mdn(
            format!("{MDN_TARGET}:{}", env.message_id),
            url,
            &kept,
        )),
        _ => None,
    };
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let recorded = (|| -> Result<bool, StoreError> {
        Ok(match opened {
            Ok((inbound, channel)) => {
                let (sha256, archive_path) = {
                    let mut p = parts.lock().unwrap_or_else(|e| e.into_inner());
                    let kept = p.archive.keep(&inbound.payload)?;
                    p.archive.sync()?;
                    kept
                };
                let mut store = shared.store.lock().unwrap_or_else(|e| e.into_inner());
                let name = inbound
                    .filename
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| format!("{}.edi", env.message_id));
                let mut tx = store.transaction(Durability::Synced)?;
                let file_id = tx.record_received(&NewFile {
                    channel: channel.to_string(),
                    partner: None,
                    name,
                    size: inbound.payload.len() as u64,
                    sha256,
                    archive_path,
                    sender: Some(format!("AS2 {}", env.from)),
                })?;
                tx.audit(
                    file_id,
                    "as2",
                    &format!(
                        "AS2 message <{}> from {}: {}{}{}MIC {}",
                        env.message_id,
                        env.from,
                        if inbound.encrypted.is_some() {
                            "encrypted, "
                        } else {
                            ""
                        },
                        if inbound.compressed {
                            "compressed, "
                        } else {
                            ""
                        },
                        if inbound.signed.is_some() {
                            "signed, "
                        } else {
                            "unsigned, "
                        },
                        inbound.mic
                    ),
                )?;
                tx.record_as2(&As2Record {
                    direction: As2Direction::In,
                    message_id: env.message_id.clone(),
                    channel: channel.to_string(),
                    file_id: Some(file_id),
                    delivery_key: None,
                    mic: Some(inbound.mic.to_string()),
                    mdn: Some(kept.clone()),
                    status: "processed".into(),
                    detail: None,
                    at,
                })?;
                tx.queue(owed.as_slice())?;
                tx.commit()?;
                true
            }
            Err((modifier, why)) => {
                let mut store = shared.store.lock().unwrap_or_else(|e| e.into_inner());
                let mut tx = store.transaction(Durability::Synced)?;
                tx.record_as2(&As2Record {
                    direction: As2Direction::In,
                    message_id: env.message_id.clone(),
                    channel: found
                        .map_or_else(|| format!("as2:{}", env.from), |(c, _)| c.to_string()),
                    file_id: None,
                    delivery_key: None,
                    mic: None,
                    mdn: Some(kept.clone()),
                    status: "error".into(),
                    detail: Some(format!("{}: {why}", modifier.as_str())),
                    at,
                })?;
                tx.queue(owed.as_slice())?;
                tx.commit()?;
                false
            }
        })
    })();
    let received = match recorded {
        Ok(received) => received,
        // The same message, recorded meanwhile by another request: its MDN.
        Err(e) if e.kind() == Some(ErrorKind::Conflict) => {
            tracing::info!(message_id = %env.message_id, "the same AS2 message, recorded meanwhile by another post");
            match answered_before(shared, env)? {
                Some(answer) => return Ok((answer, false)),
                None => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    if owed.is_some() {
        shared.wake.ring();
    }
    Ok((respond(env, &kept), received))
}

/// The delivery of an asynchronous MDN we owe: posted to `url`.
fn owed_mdn(key: String, url: &str, kept: &[u8]) -> NewDelivery {
    NewDelivery {
        target: MDN_TARGET.to_string(),
        key,
        name: url.to_string(),
        payload: kept.to_vec(),
        payload_file: None,
    }
}

/// The answer to a message: its MDN (kept by [`mdn_record`]) in the
/// answer, or a word that it follows (posted by the outbox), or none
/// asked for.
fn respond(env: &Envelope, kept: &[u8]) -> Answer {
    match env.mdn.as_ref().map(|m| &m.delivery) {
        Some(MdnDelivery::Sync) => {
            let (headers, body) = mdn_from_record(kept);
            Answer {
                status: StatusCode::OK,
                headers: headers.into_iter().map(|h| (h.name, h.value)).collect(),
                body,
            }
        }
        Some(MdnDelivery::Async { .. }) => {
            Answer::text(StatusCode::OK, "received; the MDN follows".into())
        }
        None => Answer::text(StatusCode::OK, "received".into()),
    }
}

/// `POST /as2/mdn`: an asynchronous MDN of a message we sent.
async fn receive_mdn(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(body) = axum::body::to_bytes(body, MDN_MAX_BYTES).await else {
        return Answer::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "an MDN is at most 1 MB".into(),
        )
        .into_response();
    };
    let headers: Vec<Header> = headers
        .iter()
        .map(|(n, v)| Header {
            name: n.as_str().to_string(),
            value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
        })
        .collect();
    let s = Arc::clone(&shared);
    tokio::task::spawn_blocking(move || take_mdn(&s, &headers, &body))
        .await
        .unwrap_or_else(|e| {
            Answer::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the AS2 server: {e}"),
            )
        })
        .into_response()
}

/// The largest asynchronous MDN taken.
const MDN_MAX_BYTES: usize = 1 << 20;

/// Matches an asynchronous MDN to the message it answers, verifies it,
/// and records it, making the delivery that sent the message when it
/// says the message was processed (on a blocking thread).
fn take_mdn(shared: &Shared, headers: &[Header], body: &[u8]) -> Answer {
    let limits = Limits::default();
    let message_id = match mdn::original_message_id(headers, body, &limits) {
        Ok(id) => id,
        Err(e) => return Answer::text(StatusCode::BAD_REQUEST, format!("not an MDN: {e}")),
    };
    let sent = {
        let mut store = shared.store.lock().unwrap_or_else(|e| e.into_inner());
        store.as2_message(As2Direction::Out, &message_id)
    };
    let sent = match sent {
        Ok(Some(sent)) => sent,
        Ok(None) => {
            tracing::warn!(message_id, "an MDN for a message we did not send");
            return Answer::text(
                StatusCode::BAD_REQUEST,
                format!("no message <{message_id}> was sent"),
            );
        }
        Err(e) => return unavailable(&e),
    };
    let config = Arc::clone(
        &shared
            .parts()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .config,
    );
    let Some(ChannelKind::As2(partnership)) = config.channel(&sent.channel).map(|c| &c.kind) else {
        return Answer::text(
            StatusCode::BAD_REQUEST,
            format!("the partnership {} is not configured", sent.channel),
        );
    };
    let channel = As2Channel::new(&sent.channel, partnership.clone());
    let mic = match sent.mic.as_deref().map(Mic::parse).transpose() {
        Ok(m) => m,
        Err(e) => return unavailable(&e),
    };
    let expected = Expected {
        message_id: &message_id,
        mic: mic.as_ref(),
        signed_mdn: partnership.mdn_signed,
    };
    let key = sent.delivery_key.clone().unwrap_or_default();
    let outcome = match channel.read_mdn(headers, body, &expected) {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(message_id, error = %e, "an MDN that does not verify, refused");
            let noted = shared
                .store
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .atomically(Durability::Unsynced, |tx| {
                    tx.delivery_noted_by_key(&key, &format!("an MDN came that was refused: {e}"))
                });
            if let Err(e) = noted {
                return unavailable(&e);
            }
            return Answer::text(StatusCode::BAD_REQUEST, format!("refused: {e}"));
        }
    };
    let taken = outcome.report.disposition.taken();
    let says = outcome.report.disposition.says();
    let kept = mdn_record(headers, body);
    let recorded = shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .atomically(Durability::Synced, |tx| {
            tx.as2_mdn(
                &message_id,
                if taken { "processed" } else { "error" },
                &says,
                &kept,
            )?;
            if taken {
                tx.delivered_by_key(&key)?;
            } else {
                tx.delivery_noted_by_key(&key, &negative_mdn_note(&says))?;
            }
            if let Some(file) = sent.file_id {
                tx.audit(
                    file,
                    "as2",
                    &format!(
                        "AS2 message <{message_id}> to {}: its asynchronous MDN says {says}",
                        sent.channel
                    ),
                )?;
            }
            Ok(())
        });
    match recorded {
        Ok(()) => {
            tracing::info!(message_id, says, "an asynchronous MDN received");
            shared.wake.ring();
            Answer::text(StatusCode::OK, "MDN received".into())
        }
        Err(e) => unavailable(&e),
    }
}

/// What is noted on a delivery whose message got a negative MDN that
/// `says` so.
pub fn negative_mdn_note(says: &str) -> String {
    format!("the partner's MDN says {says}: sent again at the next try")
}

/// The answer when the store cannot be written now: the partner posts
/// again.
fn unavailable(e: &dyn std::fmt::Display) -> Answer {
    tracing::error!(error = %e, "an AS2 request could not be recorded");
    Answer::text(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("it could not be recorded now: {e}"),
    )
}
