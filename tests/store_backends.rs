//! The store's interface, the same on every backend: each case runs once
//! on the embedded SQLite store and once on a private PostgreSQL (its own
//! database per case). Besides what the gateway asks of a store (files,
//! duplicates, documents, the outbox, orders, answers), a transaction
//! dropped without its commit leaves nothing, control numbers taken from
//! several connections at once never repeat or skip, and on PostgreSQL a
//! server stopped and started again is reported as unavailable and then
//! used again without reopening the store.

mod support;

use dropgate::store::{
    self, Alerted, DocumentBody, Durability, ErrorKind, ExceptionFilter, Extent, FileState,
    InvoiceHold, InvoiceRecord, Invoices, KeptAnswer, Link, Location, NewDelivery, NewDocument,
    NewException, NewFile, OrderFilter, Processed, SentOrder, Store, StoreError, Targets,
};
use dropgate::store::{As2Direction, As2Record, FileSearch, Outbox};
use support::postgres::{PASSWORD, Postgres};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Where a case's store is; each `open` is a connection of its own.
struct Backend {
    location: Location,
}

impl Backend {
    fn open(&self) -> std::result::Result<Box<dyn Store>, StoreError> {
        store::open(&self.location)
    }
}

type Case = fn(&Backend) -> Result;

/// The cases, by name.
const CASES: &[(&str, Case)] = &[
    (
        "files_are_recorded_and_the_same_bytes_found",
        files_are_recorded_and_the_same_bytes_found,
    ),
    (
        "finishing_stores_documents_and_queues_deliveries_once",
        finishing_stores_documents_and_queues_deliveries_once,
    ),
    (
        "a_transaction_dropped_without_commit_leaves_nothing",
        a_transaction_dropped_without_commit_leaves_nothing,
    ),
    (
        "control_numbers_run_per_partner_and_level_and_wrap",
        control_numbers_run_per_partner_and_level_and_wrap,
    ),
    (
        "control_numbers_from_several_connections_never_repeat_or_skip",
        control_numbers_from_several_connections_never_repeat_or_skip,
    ),
    (
        "an_original_order_is_known_by_its_number_a_change_by_its_content",
        an_original_order_is_known_by_its_number_a_change_by_its_content,
    ),
    (
        "what_is_committed_is_there_for_another_connection",
        what_is_committed_is_there_for_another_connection,
    ),
    (
        "a_lease_has_one_holder_until_it_expires_or_is_given_up",
        a_lease_has_one_holder_until_it_expires_or_is_given_up,
    ),
    (
        "instances_are_listed_with_their_leases_until_they_leave",
        instances_are_listed_with_their_leases_until_they_leave,
    ),
    (
        "deliveries_are_found_by_target",
        deliveries_are_found_by_target,
    ),
    (
        "files_are_claimed_by_one_instance_and_taken_over_from_a_dead_one",
        files_are_claimed_by_one_instance_and_taken_over_from_a_dead_one,
    ),
    (
        "orders_links_and_invoices_are_kept_for_reconciliation",
        orders_links_and_invoices_are_kept_for_reconciliation,
    ),
    (
        "documents_set_aside_wait_until_retried_once",
        documents_set_aside_wait_until_retried_once,
    ),
    (
        "orders_are_listed_exceptions_open_once_and_polls_are_kept",
        orders_are_listed_exceptions_open_once_and_polls_are_kept,
    ),
    (
        "the_console_searches_files_lists_the_outbox_and_retries_now",
        the_console_searches_files_lists_the_outbox_and_retries_now,
    ),
    (
        "as2_messages_are_kept_once_by_direction_and_message_id",
        as2_messages_are_kept_once_by_direction_and_message_id,
    ),
    (
        "an_asynchronous_receipt_makes_its_delivery_by_key_whatever_came_first",
        an_asynchronous_receipt_makes_its_delivery_by_key_whatever_came_first,
    ),
];

#[test]
fn every_case_on_sqlite() -> Result {
    for (name, case) in CASES {
        let dir = tempfile::tempdir()?;
        let backend = Backend {
            location: Location::Sqlite(dir.path().join("state.db")),
        };
        case(&backend).map_err(|e| format!("{name} on SQLite: {e}"))?;
    }
    Ok(())
}

#[test]
fn every_case_on_postgres() -> Result {
    let Some(mut pg) = Postgres::start()? else {
        return Ok(());
    };
    for (name, case) in CASES {
        let backend = Backend {
            location: Location::Postgres {
                url: pg.database()?,
                password: Some(PASSWORD.into()),
            },
        };
        case(&backend)
            .map_err(|e| format!("{name} on PostgreSQL: {e}\nserver log:\n{}", pg.log()))?;
    }
    Ok(())
}

fn new_file(name: &str, hash: &str) -> NewFile {
    NewFile {
        channel: "drop".into(),
        partner: Some("acme".into()),
        name: name.into(),
        size: 3,
        sha256: hash.into(),
        archive_path: format!("archive/{hash}"),
        sender: None,
    }
}

/// Takes one control number in a transaction of its own.
fn take(s: &mut dyn Store, partner: &str, level: &str) -> std::result::Result<u32, StoreError> {
    s.atomically(Durability::Synced, |tx| {
        tx.take_control_numbers(partner, level, 1)
    })
}

fn files_are_recorded_and_the_same_bytes_found(b: &Backend) -> Result {
    let mut s = b.open()?;
    let s = s.as_mut();
    let mut tx = s.transaction(Durability::Synced)?;
    let a = tx.record_received(&new_file("a.edi", "h1"))?;
    let b2 = tx.record_received(&new_file("b.edi", "h1"))?;
    // Seen in the transaction that wrote it, before the commit.
    assert_eq!(
        tx.find_same(Some("acme"), "drop", "h1", None, b2)?
            .map(|f| f.id),
        Some(a)
    );
    tx.commit()?;
    assert_eq!(s.find_same(Some("other"), "drop", "h1", None, b2)?, None);
    // By name and content: a.edi's bytes under another name are new.
    assert_eq!(
        s.find_same(Some("acme"), "drop", "h1", Some("b.edi"), b2)?,
        None
    );
    assert_eq!(
        s.find_same(Some("acme"), "drop", "h1", Some("a.edi"), b2)?
            .map(|f| f.id),
        Some(a)
    );
    // A file whose partner is not known is found on its channel.
    let mut unknown = new_file("u.edi", "h9");
    unknown.partner = None;
    let (u1, u2) = s.atomically(Durability::Synced, |tx| {
        Ok((tx.record_received(&unknown)?, tx.record_received(&unknown)?))
    })?;
    assert_eq!(
        s.find_same(None, "drop", "h9", None, u2)?.map(|f| f.id),
        Some(u1)
    );
    assert_eq!(s.find_same(None, "other", "h9", None, u2)?, None);
    // An ignored file is nothing to be a duplicate of.
    let c = s.atomically(Durability::Synced, |tx| {
        let c = tx.record_received(&new_file("c.edi", "h0"))?;
        tx.ignore(c, Some("acme"), "empty")?;
        Ok(c)
    })?;
    let d = s.atomically(Durability::Synced, |tx| {
        tx.record_received(&new_file("d.edi", "h0"))
    })?;
    assert_eq!(s.find_same(Some("acme"), "drop", "h0", None, d)?, None);
    assert_eq!(
        s.file(c)?.map(|f| (f.state, f.detail)),
        Some((FileState::Ignored, Some("empty".to_string())))
    );
    s.atomically(Durability::Synced, |tx| {
        tx.mark_duplicate(b2, a, Some("acme"))
    })?;
    let f = s.file(b2)?.ok_or("file b gone")?;
    assert_eq!((f.state, f.duplicate_of), (FileState::Duplicate, Some(a)));
    assert_eq!(
        s.unfinished_files()?
            .iter()
            .map(|f| f.id)
            .collect::<Vec<_>>(),
        [a, u1, u2, d]
    );
    assert_eq!(
        s.recent_files(2)?.iter().map(|f| f.id).collect::<Vec<_>>(),
        [d, c]
    );
    let trail: Vec<String> = s.audit_trail(b2)?.into_iter().map(|e| e.event).collect();
    assert_eq!(trail, ["received", "duplicate"]);
    Ok(())
}

fn finishing_stores_documents_and_queues_deliveries_once(b: &Backend) -> Result {
    let mut s = b.open()?;
    let s = s.as_mut();
    let extent = Extent {
        file: "documents/1-0.jsonl".into(),
        offset: 3,
        length: 40,
    };
    let delivery = NewDelivery {
        target: "relay".into(),
        key: "k1".into(),
        name: "a.jsonl".into(),
        payload: Vec::new(),
        payload_file: Some(extent.clone()),
    };
    let packed = NewDocument {
        doc_type: "inventory_advice".into(),
        reference: Some("R-1".into()),
        body: DocumentBody::Packed(extent.clone()),
    };
    let whole = NewDocument {
        doc_type: "purchase_order".into(),
        reference: None,
        body: DocumentBody::Packed(Extent {
            length: Extent::TO_END,
            ..extent.clone()
        }),
    };
    // Documents stored before packs kept their JSON in the store.
    let kept = NewDocument {
        doc_type: "invoice".into(),
        reference: Some("INV-1".into()),
        body: DocumentBody::Json(r#"{"type":"invoice"}"#.into()),
    };
    let ack = NewDelivery {
        target: "acme-out".into(),
        key: "ack:1".into(),
        name: "acme-997-000000001.edi".into(),
        payload: b"ISA*00*...~".to_vec(),
        payload_file: None,
    };
    let processed = Processed {
        partner: Some("acme".into()),
        format: "csv".into(),
        documents: 3,
        deliveries: vec![delivery.clone(), delivery, ack.clone()],
        notes: Some("a note".into()),
    };
    let id = s.atomically(Durability::Synced, |tx| {
        let id = tx.record_received(&new_file("a.csv", "h2"))?;
        tx.add_documents(id, 0, std::slice::from_ref(&packed))?;
        tx.add_documents(id, 1, &[whole.clone(), kept.clone()])?;
        tx.finish(id, &processed)?;
        Ok(id)
    })?;
    assert_eq!(s.documents(id)?, [packed, whole, kept]);
    let f = s.file(id)?.ok_or("gone")?;
    assert_eq!(
        (
            f.state,
            f.documents,
            f.format.as_deref(),
            f.detail.as_deref()
        ),
        (FileState::Processed, 3, Some("csv"), Some("a note"))
    );
    let due = s.due_deliveries(&Targets::All, 10)?;
    assert_eq!(due.len(), 2, "the same key is queued once");
    assert_eq!(due[0].new, processed.deliveries[0]);
    assert_eq!(due[1].new, ack);
    assert_eq!(
        (due[0].file_id, due[0].attempts, due[0].progress),
        (Some(id), 0, 0)
    );
    assert!(s.queued("ack:1")?);
    assert!(!s.queued("ack:2")?);
    s.atomically(Durability::Unsynced, |tx| {
        tx.delivery_progress(due[0].id, 7)
    })?;
    s.atomically(Durability::Unsynced, |tx| {
        tx.delivery_failed(due[0].id, "down", 3600)
    })?;
    assert_eq!(
        s.due_deliveries(&Targets::All, 10)?.len(),
        1,
        "not due before its retry"
    );
    assert_eq!(
        s.failing_deliveries()?,
        vec![(
            "relay".to_string(),
            "a.jsonl".to_string(),
            1,
            "down".to_string()
        )]
    );
    assert_eq!(s.count_by_state()?, vec![(FileState::Processed, 1)]);
    assert_eq!(s.pending_deliveries()?, 2);
    s.atomically(Durability::Unsynced, |tx| tx.delivered(due[0].id))?;
    s.atomically(Durability::Synced, |tx| tx.delivered(due[1].id))?;
    assert_eq!(s.pending_deliveries()?, 0);
    let trail: Vec<String> = s.audit_trail(id)?.into_iter().map(|e| e.event).collect();
    assert_eq!(trail, ["received", "processed"]);
    s.atomically(Durability::Synced, |tx| tx.reset_for_reprocess(id))?;
    assert!(s.documents(id)?.is_empty());
    assert_eq!(s.unfinished_files()?.len(), 1);
    // Quarantined, with what goes out all the same.
    let reject = NewDelivery {
        key: "ack:2".into(),
        ..ack
    };
    s.atomically(Durability::Synced, |tx| {
        tx.quarantine(id, None, Some("x12"), "bad", std::slice::from_ref(&reject))
    })?;
    let f = s.file(id)?.ok_or("gone")?;
    assert_eq!(
        (
            f.state,
            f.partner.as_deref(),
            f.format.as_deref(),
            f.detail.as_deref()
        ),
        (
            FileState::Quarantined,
            Some("acme"),
            Some("x12"),
            Some("bad")
        )
    );
    assert!(s.queued("ack:2")?);
    // Deliveries from no file (orders sent).
    s.atomically(Durability::Synced, |tx| {
        tx.queue(&[NewDelivery {
            key: "po:acme:1".into(),
            ..reject.clone()
        }])
    })?;
    let due = s.due_deliveries(&Targets::All, 10)?;
    assert_eq!(
        due.iter()
            .map(|d| (d.new.key.as_str(), d.file_id))
            .collect::<Vec<_>>(),
        [("ack:2", Some(id)), ("po:acme:1", None)]
    );
    Ok(())
}

fn a_transaction_dropped_without_commit_leaves_nothing(b: &Backend) -> Result {
    let mut s = b.open()?;
    let s = s.as_mut();
    let a = {
        let mut tx = s.transaction(Durability::Synced)?;
        let a = tx.record_received(&new_file("a", "h1"))?;
        assert_eq!(tx.take_control_numbers("acme", "ISA", 2)?, 1);
        tx.queue(&[NewDelivery {
            target: "relay".into(),
            key: "k".into(),
            name: "n".into(),
            payload: b"x".to_vec(),
            payload_file: None,
        }])?;
        tx.keep_answer(
            "key",
            &KeptAnswer {
                request_sha256: "r".into(),
                status: 202,
                body: "{}".into(),
            },
        )?;
        a
        // Dropped here, without a commit.
    };
    assert_eq!(s.file(a)?, None);
    assert!(s.recent_files(10)?.is_empty());
    assert!(!s.queued("k")?);
    assert_eq!(s.kept_answer("key")?, None);
    assert_eq!(take(s, "acme", "ISA")?, 1, "the numbers are given back");
    // An unsynced one too.
    {
        let mut tx = s.transaction(Durability::Unsynced)?;
        tx.record_received(&new_file("b", "h2"))?;
    }
    assert!(s.recent_files(10)?.is_empty());
    // A write that fails in `atomically` drops what came before it.
    let failed = s.atomically(Durability::Synced, |tx| {
        tx.record_received(&new_file("c", "h3"))?;
        tx.take_control_numbers("acme", "ISA", 1)?;
        Err::<(), _>(StoreError::Corrupt("on purpose".into()))
    });
    assert!(failed.is_err());
    assert!(s.recent_files(10)?.is_empty());
    assert_eq!(take(s, "acme", "ISA")?, 2);
    // And the store goes on: a transaction commits.
    let b2 = s.atomically(Durability::Synced, |tx| {
        let id = tx.record_received(&new_file("b", "h2"))?;
        tx.mark_duplicate(id, id, None)?;
        Ok(id)
    })?;
    assert_eq!(s.file(b2)?.map(|f| f.state), Some(FileState::Duplicate));
    Ok(())
}

fn control_numbers_run_per_partner_and_level_and_wrap(b: &Backend) -> Result {
    let mut s = b.open()?;
    let s = s.as_mut();
    assert_eq!(take(s, "acme", "ISA")?, 1);
    let run = s.atomically(Durability::Synced, |tx| {
        tx.take_control_numbers("acme", "ISA", 3)
    })?;
    assert_eq!(run, 2);
    assert_eq!(take(s, "acme", "ISA")?, 5);
    assert_eq!(take(s, "acme", "GS")?, 1);
    assert_eq!(take(s, "other", "ISA")?, 1);
    // Near the end: a run that would pass 999,999,999 starts again at 1.
    let first = s.atomically(Durability::Synced, |tx| {
        tx.take_control_numbers("wrap", "ISA", 999_999_997)
    })?;
    assert_eq!(first, 1);
    assert_eq!(take(s, "wrap", "ISA")?, 999_999_998);
    let run = s.atomically(Durability::Synced, |tx| {
        tx.take_control_numbers("wrap", "ISA", 2)
    })?;
    assert_eq!(run, 1, "a run does not wrap in the middle");
    assert_eq!(take(s, "wrap", "ISA")?, 3);
    // The last number is used, then the sequence starts again.
    s.atomically(Durability::Synced, |tx| {
        tx.take_control_numbers("last", "GS", 999_999_998)
    })?;
    assert_eq!(take(s, "last", "GS")?, 999_999_999);
    assert_eq!(take(s, "last", "GS")?, 1);
    Ok(())
}

fn control_numbers_from_several_connections_never_repeat_or_skip(b: &Backend) -> Result {
    const THREADS: usize = 4;
    const EACH: usize = 30;
    let taken: Vec<std::result::Result<Vec<u32>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                scope.spawn(move || -> std::result::Result<Vec<u32>, String> {
                    let mut s = b.open().map_err(|e| e.to_string())?;
                    let mut kept = Vec::new();
                    for i in 0..EACH {
                        let mut tx = s
                            .transaction(Durability::Synced)
                            .map_err(|e| e.to_string())?;
                        let n = tx
                            .take_control_numbers("acme", "ISA", 1)
                            .map_err(|e| e.to_string())?;
                        // Every third is given back: rolled back, it is
                        // taken again by someone.
                        if (i + t) % 3 == 0 {
                            drop(tx);
                        } else {
                            tx.commit().map_err(|e| e.to_string())?;
                            kept.push(n);
                        }
                    }
                    Ok(kept)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    });
    let mut all = Vec::new();
    for t in taken {
        all.extend(t?);
    }
    all.sort_unstable();
    let expected: Vec<u32> = (1..=all.len() as u32).collect();
    assert_eq!(all, expected, "every number once, none skipped");
    assert!(all.len() >= THREADS * EACH / 2);
    let mut s = b.open()?;
    assert_eq!(take(s.as_mut(), "acme", "ISA")?, all.len() as u32 + 1);
    Ok(())
}

fn an_original_order_is_known_by_its_number_a_change_by_its_content(b: &Backend) -> Result {
    let mut s = b.open()?;
    let s = s.as_mut();
    let order = |purpose: &str, sha: &str| SentOrder {
        partner: "acme".into(),
        po_number: "PO-1".into(),
        purpose: purpose.into(),
        sha256: sha.into(),
        name: format!("{purpose}-{sha}.edi"),
        channel: "acme-out".into(),
        document: None,
        group_control: None,
    };
    let record = |s: &mut dyn Store, o: SentOrder| {
        s.atomically(Durability::Synced, |tx| tx.record_order(&o))
    };
    assert_eq!(s.sent_order("acme", "PO-1", "original", "h1")?, None);
    record(s, order("original", "h1"))?;
    assert_eq!(
        s.sent_order("acme", "PO-1", "original", "h2")?,
        Some(order("original", "h1")),
        "another original with that number, whatever its content"
    );
    let refused = record(s, order("original", "h2")).map(|()| "recorded");
    assert_eq!(
        refused.as_ref().map_err(StoreError::kind),
        Err(Some(ErrorKind::Conflict)),
        "one original per partner and PO number: {refused:?}"
    );
    assert_eq!(s.sent_order("other", "PO-1", "original", "h1")?, None);
    assert_eq!(s.sent_order("acme", "PO-1", "change", "h3")?, None);
    record(s, order("change", "h3"))?;
    record(s, order("change", "h4"))?;
    assert_eq!(
        s.sent_order("acme", "PO-1", "change", "h3")?,
        Some(order("change", "h3"))
    );
    let answer = KeptAnswer {
        request_sha256: "r1".into(),
        status: 202,
        body: "{}".into(),
    };
    assert_eq!(s.kept_answer("key:a")?, None);
    s.atomically(Durability::Synced, |tx| tx.keep_answer("key:a", &answer))?;
    s.atomically(Durability::Synced, |tx| {
        tx.keep_answer(
            "key:a",
            &KeptAnswer {
                status: 500,
                ..answer.clone()
            },
        )
    })?;
    assert_eq!(s.kept_answer("key:a")?, Some(answer), "the first one stays");
    Ok(())
}

fn what_is_committed_is_there_for_another_connection(b: &Backend) -> Result {
    let id = {
        let mut s = b.open()?;
        let s = s.as_mut();
        let id = s.atomically(Durability::Synced, |tx| {
            let id = tx.record_received(&new_file("a", "h"))?;
            tx.audit(id, "channel", "could not be moved")?;
            tx.identify(id, "bolt")?;
            Ok(id)
        })?;
        // Unsynced commits are kept too.
        s.atomically(Durability::Unsynced, |tx| tx.audit(id, "note", "unsynced"))?;
        id
    };
    let mut s = b.open()?;
    let f = s.file(id)?.ok_or("gone")?;
    assert_eq!((f.name.as_str(), f.partner.as_deref()), ("a", Some("bolt")));
    let trail: Vec<(String, String)> = s
        .audit_trail(id)?
        .into_iter()
        .map(|e| (e.event, e.detail))
        .collect();
    assert_eq!(
        trail[1..],
        [
            ("channel".to_string(), "could not be moved".to_string()),
            ("note".to_string(), "unsynced".to_string())
        ]
    );
    Ok(())
}

#[test]
fn postgres_stopped_and_started_again_is_unavailable_then_used_again() -> Result {
    let Some(mut pg) = Postgres::start()? else {
        return Ok(());
    };
    let url = pg.database()?;
    let mut s = store::open(&Location::Postgres {
        url: url.clone(),
        password: Some(PASSWORD.into()),
    })?;
    let a = s.atomically(Durability::Synced, |tx| {
        tx.record_received(&new_file("a", "h1"))
    })?;
    // A transaction open when the server goes away is lost with it.
    let mut tx = s.transaction(Durability::Synced)?;
    tx.record_received(&new_file("lost", "h2"))?;
    pg.stop()?;
    let e = tx
        .record_received(&new_file("more", "h3"))
        .err()
        .ok_or("a write on a stopped server")?;
    assert_eq!(e.kind(), Some(ErrorKind::Unavailable), "{e}");
    drop(tx);
    let e = s
        .recent_files(10)
        .err()
        .ok_or("a read on a stopped server")?;
    assert_eq!(e.kind(), Some(ErrorKind::Unavailable), "{e}");
    let e = s
        .transaction(Durability::Synced)
        .err()
        .ok_or("a transaction on a stopped server")?;
    assert_eq!(e.kind(), Some(ErrorKind::Unavailable), "{e}");
    // The message names the server, never the password.
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
    assert!(!e.to_string().contains(PASSWORD), "{e}");
    pg.start_again()?;
    // The same store, connected again.
    assert_eq!(
        s.recent_files(10)?
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["a"],
        "the lost transaction left nothing"
    );
    let b = s.atomically(Durability::Synced, |tx| {
        tx.record_received(&new_file("b", "h4"))
    })?;
    assert!(b > a);
    assert_eq!(take(s.as_mut(), "acme", "ISA")?, 1);
    // A transaction that began before the restart, committed after it,
    // fails: nothing of it is kept half.
    let mut tx = s.transaction(Durability::Synced)?;
    tx.take_control_numbers("acme", "ISA", 1)?;
    pg.stop()?;
    pg.start_again()?;
    let e = tx.commit().err().ok_or("a commit across a restart")?;
    assert_eq!(e.kind(), Some(ErrorKind::Unavailable), "{e}");
    assert_eq!(take(s.as_mut(), "acme", "ISA")?, 2);
    Ok(())
}

#[test]
fn postgres_refuses_a_wrong_password_as_unavailable_and_never_says_it() -> Result {
    let Some(mut pg) = Postgres::start()? else {
        return Ok(());
    };
    let url = pg.database()?;
    let wrong = "Not-the-Passw0rd-815";
    let e = store::open(&Location::Postgres {
        url: url.clone(),
        password: Some(wrong.into()),
    })
    .err()
    .ok_or("a wrong password logged in")?;
    assert_eq!(e.kind(), Some(ErrorKind::Unavailable), "{e}");
    assert!(!e.to_string().contains(wrong), "{e}");
    assert!(e.to_string().contains("password"), "{e}");
    let e = store::open(&Location::Postgres {
        url,
        password: None,
    })
    .err()
    .ok_or("no password logged in")?;
    assert_eq!(e.kind(), Some(ErrorKind::Unavailable), "{e}");
    Ok(())
}

fn a_lease_has_one_holder_until_it_expires_or_is_given_up(b: &Backend) -> Result {
    let (mut one, mut two) = (b.open()?, b.open()?);
    assert!(one.lease("channel:drop", "a", 60)?, "a free lease is taken");
    assert!(!two.lease("channel:drop", "b", 60)?, "held by a: not b's");
    assert!(one.lease("channel:drop", "a", 60)?, "its holder renews it");
    assert!(
        two.lease("channel:other", "b", 60)?,
        "another lease is free"
    );
    // Given up: the next one takes it.
    one.release("channel:drop", "a")?;
    assert!(two.lease("channel:drop", "b", 60)?);
    assert!(!one.lease("channel:drop", "a", 60)?);
    // Giving up a lease one does not hold changes nothing.
    one.release("channel:drop", "a")?;
    assert!(!one.lease("channel:drop", "a", 60)?);
    // Not renewed in time (here: for no time at all), it is taken over.
    assert!(two.lease("channel:drop", "b", 0)?);
    assert!(one.lease("channel:drop", "a", 60)?, "expired: taken over");
    assert!(
        !two.lease("channel:drop", "b", 60)?,
        "and b knows it lost it"
    );
    Ok(())
}

fn instances_are_listed_with_their_leases_until_they_leave(b: &Backend) -> Result {
    let mut s = b.open()?;
    s.heartbeat("host-1:100", "host-1 pid 100", 60)?;
    s.heartbeat("host-2:200", "host-2 pid 200", 60)?;
    // One that stopped renewing is not listed.
    s.heartbeat("host-3:300", "host-3 pid 300", 0)?;
    assert!(s.lease("channel:drop", "host-1:100", 60)?);
    assert!(s.lease("deliver:relay", "host-1:100", 60)?);
    assert!(s.lease("channel:mail", "host-2:200", 60)?);
    let listed: Vec<(String, Vec<String>)> = s
        .instances()?
        .into_iter()
        .map(|i| (i.id, i.leases))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "host-1:100".to_string(),
                vec!["channel:drop".to_string(), "deliver:relay".to_string()]
            ),
            ("host-2:200".to_string(), vec!["channel:mail".to_string()]),
        ]
    );
    // Leaving frees its leases at once.
    s.leave("host-1:100")?;
    assert_eq!(s.instances()?.len(), 1);
    assert!(s.lease("channel:drop", "host-2:200", 60)?);
    Ok(())
}

fn files_are_claimed_by_one_instance_and_taken_over_from_a_dead_one(b: &Backend) -> Result {
    let (mut one, mut two) = (b.open()?, b.open()?);
    one.heartbeat("one", "instance one", 60)?;
    two.heartbeat("two", "instance two", 60)?;
    // Five files; the fourth has the bytes of the first.
    let ids = one.atomically(Durability::Synced, |tx| {
        ["a", "b", "c", "a", "e"]
            .iter()
            .enumerate()
            .map(|(k, hash)| tx.record_received(&new_file(&format!("f{k}"), hash)))
            .collect::<std::result::Result<Vec<_>, _>>()
    })?;
    assert_eq!(one.waiting_files("drop")?, 5);
    assert_eq!(one.waiting_files("mail")?, 0);
    let claimed = |files: Vec<store::FileRecord>| files.iter().map(|f| f.id).collect::<Vec<_>>();
    // Oldest first, up to the limit; a second instance gets others.
    assert_eq!(claimed(one.claim_files("one", 2, 1 << 20)?), ids[..2]);
    // The copy of file 1 waits while file 1 is another's to process.
    assert_eq!(
        claimed(two.claim_files("two", 10, 1 << 20)?),
        [ids[2], ids[4]]
    );
    assert!(
        claimed(two.claim_files("two", 10, 1 << 20)?).contains(&ids[2]),
        "its own again"
    );
    // Each instance is listed with the files it is processing.
    let counts: Vec<(String, u64)> = one
        .instances()?
        .into_iter()
        .map(|i| (i.id, i.claimed))
        .collect();
    assert_eq!(counts, [("one".to_string(), 2), ("two".to_string(), 2)]);
    // One's claims hold, and are locked while its transaction lasts.
    {
        let mut tx = one.transaction(Durability::Synced)?;
        assert!(tx.holds_claims(&ids[..2], "one")?);
        assert!(!tx.holds_claims(&ids[1..3], "one")?, "file 3 is two's");
        tx.commit()?;
    }
    // File 1 processed: its copy is free to claim (and is found the same).
    one.atomically(Durability::Synced, |tx| {
        tx.finish(ids[0], &Processed::default())
    })?;
    assert_eq!(
        claimed(one.claim_files("one", 10, 1 << 20)?),
        [ids[1], ids[3]]
    );
    // Two dies (its heartbeat expires): its files go to one, and two's
    // claims no longer hold.
    two.heartbeat("two", "instance two", 0)?;
    assert_eq!(
        claimed(one.claim_files("one", 10, 1 << 20)?),
        [ids[1], ids[2], ids[3], ids[4]]
    );
    {
        let mut tx = two.transaction(Durability::Synced)?;
        assert!(!tx.holds_claims(&[ids[2]], "two")?, "taken over");
    }
    // A file put back to be processed again is anyone's.
    one.atomically(Durability::Synced, |tx| {
        tx.finish(ids[4], &Processed::default())?;
        tx.reset_for_reprocess(ids[4])
    })?;
    one.heartbeat("one", "instance one", 0)?;
    two.heartbeat("two", "instance two", 60)?;
    assert_eq!(claimed(two.claim_files("two", 1, 1 << 20)?), [ids[1]]);
    assert_eq!(one.waiting_files("drop")?, 4);
    // At most the bytes asked for (files of 3 bytes), and at least one
    // file however few.
    assert_eq!(
        claimed(two.claim_files("two", 10, 7)?),
        [ids[1], ids[2], ids[3]]
    );
    two.heartbeat("two", "instance two", 0)?;
    one.heartbeat("one", "instance one", 60)?;
    assert_eq!(claimed(one.claim_files("one", 10, 1)?), [ids[1]]);
    Ok(())
}

fn deliveries_are_found_by_target(b: &Backend) -> Result {
    let mut s = b.open()?;
    let delivery = |target: &str, key: &str| NewDelivery {
        target: target.into(),
        key: key.into(),
        name: format!("{key}.edi"),
        payload: b"x".to_vec(),
        payload_file: None,
    };
    s.atomically(Durability::Synced, |tx| {
        tx.queue(&[
            delivery("relay", "k1"),
            delivery("acme-out", "k2"),
            delivery("gone-out", "k3"),
            delivery("relay", "k4"),
        ])
    })?;
    let keys = |s: &mut dyn Store, t: &Targets| -> std::result::Result<Vec<String>, StoreError> {
        Ok(s.due_deliveries(t, 10)?
            .into_iter()
            .map(|d| d.new.key)
            .collect())
    };
    assert_eq!(keys(s.as_mut(), &Targets::All)?, ["k1", "k2", "k3", "k4"]);
    assert_eq!(
        keys(s.as_mut(), &Targets::Only("relay".into()))?,
        ["k1", "k4"]
    );
    assert_eq!(
        keys(
            s.as_mut(),
            &Targets::AllBut(vec!["relay".into(), "acme-out".into()])
        )?,
        ["k3"]
    );
    assert_eq!(keys(s.as_mut(), &Targets::AllBut(Vec::new()))?.len(), 4);
    Ok(())
}

fn orders_links_and_invoices_are_kept_for_reconciliation(b: &Backend) -> Result {
    let mut s = b.open()?;
    let s = s.as_mut();
    // The last order sent under a PO number, with its document; orders
    // recorded without one are not.
    let order = |purpose: &str, sha: &str, document: Option<&str>| SentOrder {
        partner: "acme".into(),
        po_number: "PO-1".into(),
        purpose: purpose.into(),
        sha256: sha.into(),
        name: format!("{purpose}-{sha}.edi"),
        channel: "acme-out".into(),
        document: document.map(String::from),
        group_control: Some(41),
    };
    assert_eq!(s.last_order("acme", "PO-1")?, None);
    let first = order("original", "h1", Some("{\"v\":1}"));
    s.atomically(Durability::Synced, |tx| tx.record_order(&first))?;
    assert_eq!(s.last_order("acme", "PO-1")?, Some(first.clone()));
    assert_eq!(s.last_order("bolt", "PO-1")?, None);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let change = order("change", "h2", Some("{\"v\":2}"));
    s.atomically(Durability::Synced, |tx| {
        tx.record_order(&change)?;
        tx.record_order(&order("change", "h3", None))
    })?;
    assert_eq!(s.last_order("acme", "PO-1")?, Some(change));
    assert_eq!(
        s.sent_order("acme", "PO-1", "original", "h1")?
            .and_then(|o| o.document),
        Some("{\"v\":1}".into())
    );

    // Documents linked to a PO number, found by partner, PO and type.
    let (f1, f2) = s.atomically(Durability::Synced, |tx| {
        Ok((
            tx.record_received(&new_file("asn.edi", "h-asn"))?,
            tx.record_received(&new_file("inv.edi", "h-inv"))?,
        ))
    })?;
    let link = |file_id, seq, doc_type: &str, detail: Option<&str>| Link {
        partner: "acme".into(),
        po_number: "PO-1".into(),
        doc_type: doc_type.into(),
        file_id,
        seq,
        detail: detail.map(String::from),
    };
    s.atomically(Durability::Synced, |tx| {
        tx.add_links(&[
            link(f1, 0, "ship_notice", Some("{}")),
            link(f1, 1, "ship_notice", None),
            link(f2, 0, "invoice", None),
        ])
    })?;
    assert_eq!(
        s.links("acme", "PO-1", "ship_notice")?,
        [
            link(f1, 0, "ship_notice", Some("{}")),
            link(f1, 1, "ship_notice", None)
        ]
    );
    assert_eq!(s.links("acme", "PO-2", "ship_notice")?, []);
    assert_eq!(s.links("bolt", "PO-1", "invoice")?, []);

    // Invoices: found held, by number, by order, by file; released once.
    let invoice = |seq, number: &str, hold| InvoiceRecord {
        file_id: f2,
        seq,
        partner: "acme".into(),
        invoice_number: number.into(),
        po_number: Some("PO-1".into()),
        status: "variance".into(),
        hold,
        document: format!("{{\"invoice_number\":\"{number}\"}}"),
        released: None,
    };
    let packed = |seq: u64| NewDocument {
        doc_type: "invoice".into(),
        reference: Some(format!("INV-{}", seq + 1)),
        body: DocumentBody::Packed(Extent {
            file: "documents/1.jsonl".into(),
            offset: seq * 100,
            length: 100,
        }),
    };
    s.atomically(Durability::Synced, |tx| {
        tx.add_documents(f2, 0, &[packed(0), packed(1)])?;
        tx.record_invoice(&invoice(0, "INV-1", InvoiceHold::Relayed))?;
        tx.record_invoice(&invoice(1, "INV-2", InvoiceHold::Relayed))?;
        // Stored again: replaced.
        tx.record_invoice(&invoice(1, "INV-2", InvoiceHold::Held))
    })?;
    assert_eq!(
        s.invoices(Invoices::Held)?,
        [invoice(1, "INV-2", InvoiceHold::Held)]
    );
    // The file's document is the invoice as reconciled.
    let docs = s.documents(f2)?;
    assert_eq!(
        docs[1].body,
        DocumentBody::Json(r#"{"invoice_number":"INV-2"}"#.into())
    );
    assert_eq!(docs[1].reference.as_deref(), Some("INV-2"));
    let numbered = s.invoices(Invoices::Numbered {
        partner: "acme",
        invoice_number: "INV-1",
    })?;
    assert_eq!(numbered, [invoice(0, "INV-1", InvoiceHold::Relayed)]);
    assert_eq!(
        s.invoices(Invoices::Numbered {
            partner: "bolt",
            invoice_number: "INV-1",
        })?,
        []
    );
    assert_eq!(
        s.invoices(Invoices::ForOrder {
            partner: "acme",
            po_number: "PO-1",
        })?
        .len(),
        2
    );
    assert_eq!(s.invoices(Invoices::OfFile(f2))?.len(), 2);
    assert_eq!(s.invoices(Invoices::OfFile(f1))?, []);
    assert!(!s.atomically(Durability::Synced, |tx| tx.release_invoice(f2, 0, "ann"))?);
    assert!(s.atomically(Durability::Synced, |tx| tx.release_invoice(f2, 1, "ann"))?);
    assert!(
        !s.atomically(Durability::Synced, |tx| tx.release_invoice(f2, 1, "bob"))?,
        "released once"
    );
    assert_eq!(s.invoices(Invoices::Held)?, []);
    let released = s.invoices(Invoices::OfFile(f2))?;
    assert_eq!(released[1].hold, InvoiceHold::Released);
    assert_eq!(
        released[1].released.as_ref().map(|(_, by)| by.as_str()),
        Some("ann")
    );

    // Forgetting the file's documents forgets its links and invoices.
    s.atomically(Durability::Synced, |tx| {
        tx.clear_documents(f2)?;
        tx.clear_documents(f1)
    })?;
    assert_eq!(s.invoices(Invoices::OfFile(f2))?, []);
    assert_eq!(s.links("acme", "PO-1", "ship_notice")?, []);
    Ok(())
}

fn documents_set_aside_wait_until_retried_once(b: &Backend) -> Result {
    let mut s = b.open()?;
    let file = s.atomically(Durability::Synced, |tx| {
        tx.record_received(&new_file("asn.edi", "aside1"))
    })?;
    let aside = |seq: u64, reason: &'static str| dropgate::store::NewSetAside {
        target: "netsuite",
        delivery_key: "netsuite:7",
        file_id: Some(file),
        seq,
        reason,
        document: r#"{"type":"ship_notice","asn_number":"S1"}"#,
    };
    s.atomically(Durability::Synced, |tx| {
        tx.put_aside(&aside(2, "NetSuite has no purchase order PO9"))?;
        // The same document of the same delivery again is the same one.
        tx.put_aside(&aside(2, "again"))?;
        tx.put_aside(&aside(5, "INVALID_VALUE at entity"))
    })?;
    let waiting = s.set_aside()?;
    assert_eq!(waiting.len(), 2, "{waiting:?}");
    assert_eq!(waiting[0].reason, "NetSuite has no purchase order PO9");
    assert_eq!((waiting[0].seq, waiting[0].file_id), (2, Some(file)));
    assert_eq!(waiting[0].target, "netsuite");
    assert_eq!(waiting[0].retries, 0);
    let first = waiting[0].id;
    let taken = s.atomically(Durability::Synced, |tx| tx.take_set_aside(first))?;
    assert_eq!(taken.map(|t| (t.id, t.retries)), Some((first, 1)));
    // Taken once: a second retry of the same number finds nothing.
    assert_eq!(
        s.atomically(Durability::Synced, |tx| tx.take_set_aside(first))?,
        None
    );
    let left = s.set_aside()?;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].reason, "INVALID_VALUE at entity");
    // A poll's cursor: none, then the last one kept.
    assert_eq!(s.cursor("netsuite:orders")?, None);
    s.atomically(Durability::Synced, |tx| {
        tx.set_cursor("netsuite:orders", "2026-12-06 10:00:00")
    })?;
    s.atomically(Durability::Synced, |tx| {
        tx.set_cursor("netsuite:orders", "2026-12-06 11:00:00")
    })?;
    assert_eq!(
        s.cursor("netsuite:orders")?.as_deref(),
        Some("2026-12-06 11:00:00")
    );
    Ok(())
}

fn orders_are_listed_exceptions_open_once_and_polls_are_kept(b: &Backend) -> Result {
    let mut s = b.open()?;
    let s = s.as_mut();
    let order = |po: &str, group| SentOrder {
        partner: "acme".into(),
        po_number: po.into(),
        purpose: "original".into(),
        sha256: format!("sha-{po}"),
        name: format!("{po}.edi"),
        channel: "acme-out".into(),
        document: Some(format!("{{\"po_number\":\"{po}\"}}")),
        group_control: group,
    };
    s.atomically(Durability::Synced, |tx| {
        tx.record_order(&order("PO_7", Some(7)))?;
        tx.record_order(&order("PO-8", Some(7)))?;
        tx.record_order(&order("PO-9", None))
    })?;
    // The orders sent in group 7, and the history of one.
    assert_eq!(s.orders_in_group("acme", 7)?, ["PO-8", "PO_7"]);
    assert_eq!(s.orders_in_group("bolt", 7)?, Vec::<String>::new());
    // A document linked to a PO number never sent is an order known too.
    let f = s.atomically(Durability::Synced, |tx| {
        tx.record_received(&new_file("855.edi", "h-855"))
    })?;
    s.atomically(Durability::Synced, |tx| {
        tx.add_links(&[Link {
            partner: "acme".into(),
            po_number: "PO-X".into(),
            doc_type: "po_ack".into(),
            file_id: f,
            seq: 0,
            detail: Some("{}".into()),
        }])
    })?;
    let rows = s.order_history("acme", "PO-X")?;
    assert!(rows.sent.is_empty());
    assert_eq!(rows.linked.len(), 1);
    assert_eq!(
        (rows.linked[0].doc_type.as_str(), rows.linked[0].file_id),
        ("po_ack", f)
    );
    assert!(rows.linked[0].at.starts_with("20"), "{}", rows.linked[0].at);
    let rows = s.order_history("acme", "PO-8")?;
    assert_eq!(rows.sent.len(), 1);
    assert_eq!(rows.sent[0].name, "PO-8.edi");
    let keys =
        |s: &mut dyn Store, f: OrderFilter| -> std::result::Result<Vec<String>, StoreError> {
            Ok(s.order_keys(&f)?.into_iter().map(|k| k.po_number).collect())
        };
    let mut all = keys(s, OrderFilter::default())?;
    all.sort();
    assert_eq!(all, ["PO-8", "PO-9", "PO-X", "PO_7"]);
    // `_` is a character, not a wildcard.
    assert_eq!(
        keys(
            s,
            OrderFilter {
                po_number: Some("_7".into()),
                ..OrderFilter::default()
            }
        )?,
        ["PO_7"]
    );
    assert_eq!(
        keys(
            s,
            OrderFilter {
                partner: Some("bolt".into()),
                ..OrderFilter::default()
            }
        )?
        .len(),
        0
    );
    assert_eq!(
        keys(
            s,
            OrderFilter {
                since: Some("2999-01-01".into()),
                ..OrderFilter::default()
            }
        )?
        .len(),
        0
    );
    assert_eq!(
        keys(
            s,
            OrderFilter {
                limit: 2,
                ..OrderFilter::default()
            }
        )?
        .len(),
        2
    );

    // One open exception per kind and subject; closed, it may open again.
    let new = NewException {
        kind: "no-997",
        subject: "order:acme:PO-8",
        partner: Some("acme"),
        po_number: Some("PO-8"),
        reason: "no 997",
    };
    let id = s.atomically(Durability::Synced, |tx| tx.open_exception(&new))?;
    let again = s.atomically(Durability::Synced, |tx| tx.open_exception(&new));
    assert!(
        again.is_err(),
        "a second open exception of a kind and subject"
    );
    s.atomically(Durability::Synced, |tx| {
        tx.note_exception(id, "no 997 yet")?;
        tx.exception_alerted(id, Alerted::Webhook)
    })?;
    let open = s.exceptions(&ExceptionFilter {
        open_only: true,
        ..ExceptionFilter::default()
    })?;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].reason, "no 997 yet");
    assert!(open[0].notified_at.is_some() && open[0].digested_at.is_none());
    s.atomically(Durability::Synced, |tx| {
        tx.close_exception(id, "the 997 came")
    })?;
    assert!(
        s.exceptions(&ExceptionFilter {
            open_only: true,
            ..ExceptionFilter::default()
        })?
        .is_empty()
    );
    let reopened = s.atomically(Durability::Synced, |tx| tx.open_exception(&new))?;
    assert_ne!(reopened, id);
    let all = s.exceptions(&ExceptionFilter {
        po_number: Some("PO-8".into()),
        ..ExceptionFilter::default()
    })?;
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[1].closed.as_ref().map(|c| c.1.as_str()),
        Some("the 997 came")
    );

    // Polls: failing since the first failure after the last success.
    s.atomically(Durability::Unsynced, |tx| tx.record_poll("in", None))?;
    s.atomically(Durability::Unsynced, |tx| {
        tx.record_poll("in", Some("refused"))
    })?;
    let first = s.channel_polls()?[0].failing_since.clone();
    assert!(first.is_some());
    std::thread::sleep(std::time::Duration::from_millis(5));
    s.atomically(Durability::Unsynced, |tx| {
        tx.record_poll("in", Some("refused again"))
    })?;
    let p = &s.channel_polls()?[0];
    assert_eq!(p.failing_since, first, "still failing since the first");
    assert_eq!(
        p.last_error.as_ref().map(|e| e.0.as_str()),
        Some("refused again")
    );
    assert!(p.last_ok_at.is_some());
    s.atomically(Durability::Unsynced, |tx| tx.record_poll("in", None))?;
    assert_eq!(s.channel_polls()?[0].failing_since, None);
    assert_eq!(s.last_received("acme", "inventory_advice")?, None);
    Ok(())
}

fn the_console_searches_files_lists_the_outbox_and_retries_now(b: &Backend) -> Result {
    let mut s = b.open()?;
    let s = s.as_mut();
    let ack = NewDelivery {
        target: "acme-out".into(),
        key: "ack:1".into(),
        name: "acme-997-000000001.edi".into(),
        payload: b"ISA*00*~".to_vec(),
        payload_file: None,
    };
    let po = NewDocument {
        doc_type: "purchase_order".into(),
        reference: Some("PO-7".into()),
        body: DocumentBody::Json(r#"{"type":"purchase_order"}"#.into()),
    };
    let (first, second, third) = s.atomically(Durability::Synced, |tx| {
        let first = tx.record_received(&new_file("Orders_50%.EDI", "c1"))?;
        tx.add_documents(first, 0, std::slice::from_ref(&po))?;
        tx.finish(
            first,
            &Processed {
                partner: Some("acme".into()),
                format: "x12".into(),
                documents: 1,
                deliveries: vec![ack.clone()],
                notes: None,
            },
        )?;
        let second = tx.record_received(&new_file("asn_50.edi", "c2"))?;
        tx.add_links(&[Link {
            partner: "acme".into(),
            po_number: "PO-8".into(),
            doc_type: "ship_notice".into(),
            file_id: second,
            seq: 0,
            detail: None,
        }])?;
        tx.quarantine(second, Some("acme"), Some("x12"), "no mapping", &[])?;
        let mut other = new_file("stock.csv", "c3");
        other.channel = "ftp".into();
        other.partner = Some("bolt".into());
        let third = tx.record_received(&other)?;
        Ok((first, second, third))
    })?;
    let ids = |s: &mut dyn Store, q: FileSearch| -> std::result::Result<Vec<i64>, StoreError> {
        Ok(s.search_files(&FileSearch { limit: 10, ..q })?
            .iter()
            .map(|f| f.id)
            .collect())
    };
    assert_eq!(ids(s, FileSearch::default())?, [third, second, first]);
    let search = |f: fn(&mut FileSearch)| {
        let mut q = FileSearch::default();
        f(&mut q);
        q
    };
    assert_eq!(
        ids(s, search(|q| q.partner = Some("acme".into())))?,
        [second, first]
    );
    assert_eq!(
        ids(s, search(|q| q.state = Some(FileState::Quarantined)))?,
        [second]
    );
    assert_eq!(ids(s, search(|q| q.channel = Some("ftp".into())))?, [third]);
    assert_eq!(
        ids(s, search(|q| q.po_number = Some("PO-7".into())))?,
        [first]
    );
    assert_eq!(
        ids(s, search(|q| q.po_number = Some("PO-8".into())))?,
        [second]
    );
    // The name, whatever the case; `%` and `_` are themselves.
    assert_eq!(
        ids(s, search(|q| q.name = Some("50%.edi".into())))?,
        [first]
    );
    assert_eq!(ids(s, search(|q| q.name = Some("N_5".into())))?, [second]);
    assert_eq!(
        ids(s, search(|q| q.format = Some("x12".into())))?,
        [second, first]
    );
    assert_eq!(ids(s, search(|q| q.before_id = Some(3)))?, [second, first]);
    assert_eq!(
        ids(s, search(|q| q.received_from = Some("2000-01-01".into())))?,
        [third, second, first]
    );
    assert!(ids(s, search(|q| q.received_before = Some("2000-01-01".into())))?.is_empty());
    assert_eq!(
        s.search_files(&FileSearch {
            limit: 1,
            ..FileSearch::default()
        })?
        .len(),
        1
    );

    // A file's deliveries with their bytes; those waiting, without.
    let of_file = s.outbox(Outbox::OfFile(first))?;
    assert_eq!(of_file.len(), 1);
    assert_eq!(of_file[0].key, "ack:1");
    assert_eq!(of_file[0].payload, b"ISA*00*~");
    assert_eq!(of_file[0].done_at, None);
    let waiting = s.outbox(Outbox::Waiting(10))?;
    assert_eq!(waiting.len(), 1);
    assert!(waiting[0].payload.is_empty());
    let id = waiting[0].id;
    // Failed, due in an hour; retried now, due now.
    s.atomically(Durability::Synced, |tx| {
        tx.delivery_failed(id, "refused", 3600)
    })?;
    assert!(s.due_deliveries(&Targets::All, 10)?.is_empty());
    let waiting = s.outbox(Outbox::Waiting(10))?;
    assert_eq!(
        (waiting[0].attempts, waiting[0].last_error.as_deref()),
        (1, Some("refused"))
    );
    let retried = s.atomically(Durability::Synced, |tx| tx.retry_now(id))?;
    let retried = retried.ok_or("retried")?;
    assert_eq!(
        (retried.file_id, retried.name.as_str()),
        (Some(first), "acme-997-000000001.edi")
    );
    assert_eq!(s.due_deliveries(&Targets::All, 10)?.len(), 1);
    s.atomically(Durability::Synced, |tx| tx.delivered(id))?;
    assert_eq!(
        s.atomically(Durability::Synced, |tx| tx.retry_now(id))?,
        None
    );
    assert!(s.outbox(Outbox::OfFile(first))?[0].done_at.is_some());

    // What arrived on each channel.
    let activity = s.channel_activity()?;
    assert_eq!(activity.len(), 2);
    assert_eq!(
        (
            activity[0].channel.as_str(),
            activity[0].files,
            activity[0].last_file
        ),
        ("drop", 2, second)
    );
    assert_eq!(activity[0].last_state, FileState::Quarantined);
    assert!(activity[0].last_processed_at.is_some());
    assert_eq!(
        (
            activity[1].channel.as_str(),
            activity[1].last_processed_at.as_deref()
        ),
        ("ftp", None)
    );
    Ok(())
}

fn as2_messages_are_kept_once_by_direction_and_message_id(b: &Backend) -> Result {
    let mut s = b.open()?;
    let s = s.as_mut();
    let f = s.atomically(Durability::Synced, |tx| {
        tx.record_received(&new_file("as2.edi", "h-as2"))
    })?;
    let received = As2Record {
        direction: As2Direction::In,
        message_id: "<m1@acme>".into(),
        channel: "acme-as2".into(),
        file_id: Some(f),
        delivery_key: None,
        mic: Some("abc=, sha-256".into()),
        mdn: Some(b"MDN bytes\r\n\x00\xff".to_vec()),
        status: "processed".into(),
        detail: None,
        at: "2026-12-06T10:00:00.000Z".into(),
    };
    s.atomically(Durability::Synced, |tx| tx.record_as2(&received))?;
    assert_eq!(
        s.as2_message(As2Direction::In, "<m1@acme>")?,
        Some(received.clone())
    );
    assert_eq!(s.as2_message(As2Direction::Out, "<m1@acme>")?, None);
    let again = s.atomically(Durability::Synced, |tx| tx.record_as2(&received));
    assert!(again.is_err(), "a Message-ID is received once");
    // A message sent waits for its MDN.
    let sent = As2Record {
        direction: As2Direction::Out,
        file_id: None,
        delivery_key: Some("ack:1".into()),
        mdn: None,
        status: "sent".into(),
        ..received
    };
    s.atomically(Durability::Synced, |tx| tx.record_as2(&sent))?;
    s.atomically(Durability::Synced, |tx| {
        tx.as2_mdn("<m1@acme>", "processed", "processed", b"the MDN")
    })?;
    let got = s
        .as2_message(As2Direction::Out, "<m1@acme>")?
        .ok_or("the message sent")?;
    assert_eq!(
        (got.status.as_str(), got.mdn.as_deref()),
        ("processed", Some(&b"the MDN"[..]))
    );
    assert_eq!(
        s.as2_message(As2Direction::In, "<m1@acme>")?
            .map(|m| m.status),
        Some("processed".into()),
        "the message received is untouched"
    );
    Ok(())
}

fn an_asynchronous_receipt_makes_its_delivery_by_key_whatever_came_first(b: &Backend) -> Result {
    let mut s = b.open()?;
    let s = s.as_mut();
    let delivery = |key: &str| NewDelivery {
        target: "acme-as2".into(),
        key: key.into(),
        name: format!("{key}.edi"),
        payload: b"x".to_vec(),
        payload_file: None,
    };
    s.atomically(Durability::Synced, |tx| {
        tx.queue(&[delivery("po:1"), delivery("po:2")])
    })?;
    let id_of = |s: &mut dyn Store, key: &str| -> std::result::Result<i64, StoreError> {
        Ok(s.outbox(Outbox::Waiting(10))?
            .into_iter()
            .find(|d| d.key == key)
            .map_or(-1, |d| d.id))
    };
    let one = id_of(s, "po:1")?;
    let two = id_of(s, "po:2")?;
    // Sent, recorded before the post; sent again: still one record,
    // `sent` again after a negative MDN.
    let sent = As2Record {
        direction: As2Direction::Out,
        message_id: "m-1@us".into(),
        channel: "acme-as2".into(),
        file_id: None,
        delivery_key: Some("po:1".into()),
        mic: Some("abc=, sha-256".into()),
        mdn: None,
        status: "sent".into(),
        detail: None,
        at: "2026-12-06T10:00:00.000Z".into(),
    };
    s.atomically(Durability::Synced, |tx| tx.as2_sent(&sent))?;
    s.atomically(Durability::Synced, |tx| {
        tx.as2_mdn("m-1@us", "error", "processed/error: x", b"no")
    })?;
    s.atomically(Durability::Synced, |tx| tx.as2_sent(&sent))?;
    let got = s
        .as2_message(As2Direction::Out, "m-1@us")?
        .ok_or("the message sent")?;
    assert_eq!(got.status, "sent");
    assert_eq!(got.mdn.as_deref(), Some(&b"no"[..]), "the last MDN is kept");
    // The receipt came before the worker marked the delivery awaited:
    // made, and the mark leaves it made.
    s.atomically(Durability::Synced, |tx| tx.delivered_by_key("po:1"))?;
    s.atomically(Durability::Synced, |tx| {
        tx.delivery_failed(one, "its MDN is awaited", 60)
    })?;
    s.atomically(Durability::Synced, |tx| {
        tx.delivery_noted_by_key("po:1", "a late note")
    })?;
    assert_eq!(id_of(s, "po:1")?, -1, "made, not waiting");
    // Marked awaited first, then a negative receipt noted: still
    // waiting, with the note, at the same next try.
    s.atomically(Durability::Synced, |tx| {
        tx.delivery_failed(two, "its MDN is awaited", 60)
    })?;
    let before = s
        .outbox(Outbox::Waiting(10))?
        .into_iter()
        .find(|d| d.id == two)
        .ok_or("waiting")?;
    s.atomically(Durability::Synced, |tx| {
        tx.delivery_noted_by_key("po:2", "the partner's MDN says no")
    })?;
    let after = s
        .outbox(Outbox::Waiting(10))?
        .into_iter()
        .find(|d| d.id == two)
        .ok_or("waiting")?;
    assert_eq!(
        after.last_error.as_deref(),
        Some("the partner's MDN says no")
    );
    assert_eq!(
        (after.next_try_at, after.attempts),
        (before.next_try_at, before.attempts)
    );
    s.atomically(Durability::Synced, |tx| tx.delivered_by_key("po:2"))?;
    assert!(s.outbox(Outbox::Waiting(10))?.is_empty());
    Ok(())
}
