//! Acknowledgments for a received X12 file, as its partner's policy asks
//! (997 or 999, always or only when something is wrong, TA1 or not), with
//! control numbers from the partner's sequence in the store, queued for the
//! partner's outbound channel.

use chrono::Local;

use crate::config::{AckPolicy, AckWhen, Partner, Ta1When};
use crate::mapping::translate::Unnumbered;
use crate::store::{NewDelivery, StoreError, Transaction};
use crate::x12::ack::{AckKind, AckOptions, AckWriter, Ta1Policy};
use crate::x12::defs::Definitions;
use crate::x12::envelope::{CheckOptions, Checker, check_reader};
use crate::x12::renumber::{Placeholders, renumber};
use crate::x12::{ParseErrorKind, SegmentReader};

/// The level names of the partner's sequences in the store, shared with
/// the orders sent to it ([`super::send`]): an ISA13 or GS06 is never used
/// twice towards one partner.
pub(super) const ISA: &str = "ISA";
pub(super) const GS: &str = "GS";

/// Takes `interchanges` numbers from the partner's ISA13 sequence and
/// `groups` from its GS06 sequence; returns the first of each (1 for none
/// taken). Whoever asks (an acknowledgment, an order), the GS sequence's
/// row is taken first, then the ISA's: two transactions that take both
/// never each hold one and wait for the other (PostgreSQL deadlocked on
/// them, an order against a file's acknowledgment).
pub(super) fn take_envelope_numbers(
    store: &mut dyn Transaction,
    partner: &str,
    interchanges: u32,
    groups: u32,
) -> Result<(u32, u32), StoreError> {
    let first_group = match groups {
        0 => 1,
        n => store.take_control_numbers(partner, GS, n)?,
    };
    let first = match interchanges {
        0 => 1,
        n => store.take_control_numbers(partner, ISA, n)?,
    };
    Ok((first, first_group))
}

/// The options of the acknowledgments `partner` gets (997 or 999, TA1),
/// or `None` when it gets none.
pub fn options_for(partner: &Partner) -> Option<AckOptions> {
    let x12 = partner.x12.as_ref()?;
    if x12.acknowledgment == AckPolicy::None || partner.outbound.is_none() {
        return None;
    }
    let mut options = AckOptions::new(Local::now().naive_local());
    options.kind = match x12.acknowledgment {
        AckPolicy::Implementation => AckKind::Implementation,
        _ => AckKind::Functional,
    };
    options.ta1 = match x12.ta1 {
        Ta1When::Always => Ta1Policy::Always,
        Ta1When::WhenRequested => Ta1Policy::WhenRequested,
        Ta1When::Never => Ta1Policy::Never,
    };
    Some(options)
}

/// Writes the acknowledgments of `input`, numbered with placeholders, by
/// reading it again: for a file whose translation could not give them (it
/// could not be read to its end). `None` when the partner gets none, or
/// the file cannot be read as X12 at all.
pub fn written_again(
    input: &mut dyn std::io::Read,
    partner: &Partner,
    defs: &Definitions,
) -> Option<Unnumbered> {
    let options = options_for(partner)?;
    let mut numbers = Placeholders::default();
    let mut checker = Checker::new(defs, &CheckOptions::default()).ok()?;
    let mut reader = SegmentReader::new(input);
    let mut acks = AckWriter::new(Vec::new(), options, &mut numbers);
    // A file that is not whole but whose ISA was read is answered all the
    // same (a TA1 R 023 or 004); one that cannot be read (I/O) is not.
    if let Err(e) = check_reader(&mut reader, &mut checker, &mut acks)
        && matches!(e.kind(), ParseErrorKind::Io(_))
    {
        return None;
    }
    let summary = acks.summary();
    let bytes = acks.into_inner().ok()?;
    Some(Unnumbered {
        bytes,
        summary,
        numbers,
    })
}

/// The acknowledgment delivery for a received file, if the partner's policy
/// asks for one: `written` (its 997s with placeholder numbers, from the
/// translation or [`written_again`]) numbered from the partner's
/// sequences in the store; `has_errors` says whether anything in the file
/// was rejected.
pub fn for_file(
    store: &mut dyn Transaction,
    partner: &Partner,
    file_id: i64,
    written: Option<Unnumbered>,
    has_errors: bool,
) -> Result<Option<NewDelivery>, StoreError> {
    let (Some(x12), Some(channel)) = (&partner.x12, partner.outbound.as_ref().map(|o| &o.channel))
    else {
        return Ok(None);
    };
    if x12.acknowledgment == AckPolicy::None || (x12.acknowledge == AckWhen::Errors && !has_errors)
    {
        return Ok(None);
    }
    let Some(written) = written.filter(|w| w.summary.interchanges > 0) else {
        return Ok(None);
    };
    // Answered before (a file processed again): the partner has its answer,
    // and no control number is taken for one that would not be sent.
    let key = format!("ack:{file_id}");
    if store.queued(&key)? {
        return Ok(None);
    }
    let Placeholders {
        interchanges,
        groups,
    } = written.numbers;
    let (first, first_group) = take_envelope_numbers(store, &partner.id, interchanges, groups)?;
    let payload = renumber(&written.bytes, first, first_group);
    // Named for what it holds: a rejected interchange gets a TA1 alone.
    let kind = match x12.acknowledgment {
        _ if written.summary.acknowledgments == 0 => "ta1",
        AckPolicy::Implementation => "999",
        _ => "997",
    };
    Ok(Some(NewDelivery {
        target: channel.clone(),
        key,
        name: format!("{}-{kind}-{first:09}.edi", partner.id),
        payload,
        payload_file: None,
    }))
}
