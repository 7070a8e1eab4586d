//! Acknowledgments for a received X12 file, as its partner's policy asks
//! (997 or 999, always or only when something is wrong, TA1 or not), with
//! control numbers from the partner's sequence in the store, queued for the
//! partner's outbound channel.

use chrono::Local;

use crate::config::{AckPolicy, AckWhen, Partner, Ta1When};
use crate::store::{NewDelivery, StoreError, Transaction};
use crate::x12::ack::{AckKind, AckOptions, AckSummary, AckWriter, Ta1Policy};
use crate::x12::control::{ControlNumbers, MAX_CONTROL_NUMBER};
use crate::x12::defs::Definitions;
use crate::x12::envelope::{CheckOptions, Checker, check_reader};
use crate::x12::{ParseErrorKind, SegmentReader};

/// Control numbers taken from the partner's sequences in the store as the
/// writer asks for them, in the transaction that stores the file's
/// outcome. A store error is kept and reported once the writer is done.
struct StoreNumbers<'s> {
    store: &'s mut dyn Transaction,
    partner: &'s str,
    error: Option<StoreError>,
    first_interchange: Option<u32>,
}

impl StoreNumbers<'_> {
    fn take(&mut self, level: &str) -> u32 {
        match self.store.take_control_numbers(self.partner, level, 1) {
            Ok(n) => n,
            Err(e) => {
                self.error.get_or_insert(e);
                MAX_CONTROL_NUMBER
            }
        }
    }
}

impl ControlNumbers for StoreNumbers<'_> {
    fn next_interchange(&mut self) -> u32 {
        let n = self.take(ISA);
        self.first_interchange.get_or_insert(n);
        n
    }
    fn next_group(&mut self) -> u32 {
        self.take(GS)
    }
}

/// The level names of the partner's sequences in the store, shared with
/// the orders sent to it ([`super::send`]): an ISA13 or GS06 is never used
/// twice towards one partner.
pub(super) const ISA: &str = "ISA";
pub(super) const GS: &str = "GS";

/// Writes the acknowledgments of `input` with `numbers`, and says what they
/// hold; `None` when the file holds nothing to acknowledge (only
/// acknowledgments) or cannot be read as X12 at all.
fn write(
    input: &mut dyn std::io::Read,
    partner: &Partner,
    defs: &Definitions,
    numbers: &mut dyn ControlNumbers,
) -> Option<(Vec<u8>, AckSummary)> {
    let x12 = partner.x12.as_ref()?;
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
    let mut checker = Checker::new(defs, &CheckOptions::default()).ok()?;
    let mut reader = SegmentReader::new(input);
    let mut acks = AckWriter::new(Vec::new(), options, numbers);
    // A file that is not whole but whose ISA was read is answered all the
    // same (a TA1 R 023 or 004); one that cannot be read (I/O) is not.
    if let Err(e) = check_reader(&mut reader, &mut checker, &mut acks)
        && matches!(e.kind(), ParseErrorKind::Io(_))
    {
        return None;
    }
    let summary = acks.summary();
    let out = acks.into_inner().ok()?;
    (summary.interchanges > 0).then_some((out, summary))
}

/// The acknowledgment delivery for a received file, if the partner's policy
/// asks for one; `has_errors` says whether anything in the file was
/// rejected.
pub fn for_file(
    store: &mut dyn Transaction,
    defs: &Definitions,
    partner: &Partner,
    file_id: i64,
    input: &mut dyn std::io::Read,
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
    // Answered before (a file processed again): the partner has its answer,
    // and no control number is taken for one that would not be sent.
    let key = format!("ack:{file_id}");
    if store.queued(&key)? {
        return Ok(None);
    }
    let mut numbers = StoreNumbers {
        store,
        partner: &partner.id,
        error: None,
        first_interchange: None,
    };
    let written = write(input, partner, defs, &mut numbers);
    if let Some(e) = numbers.error {
        return Err(e);
    }
    let (Some((payload, summary)), Some(first)) = (written, numbers.first_interchange) else {
        return Ok(None);
    };
    // Named for what it holds: a rejected interchange gets a TA1 alone.
    let kind = match x12.acknowledgment {
        _ if summary.acknowledgments == 0 => "ta1",
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
