//! The order lifecycle: every purchase order followed from the order to
//! the bill, from the documents linked to it.
//!
//! Pure functions over canonical documents, as `reconcile` is: the caller
//! (the daemon, the console, the command line) reads from the store what
//! was sent and received under a partner's PO number and hands it over as
//! a [`History`]; this module says what became of the order
//! ([`order::follow`]: its state, each line's, the timeline), which
//! exceptions it has at a given moment ([`exceptions`]) and what the
//! measures of a set of orders are ([`measures`]). Documents that came
//! before the order, or for an order never sent, are part of the history
//! of their partner's PO number all the same: they are linked when the
//! order appears because the link is the number, not the order.
//!
//! Imports `model`, `reconcile` (which order line an item is) and
//! `store`'s plain types; does no I/O.

pub mod exceptions;
pub mod measures;
pub mod order;
pub mod rules;

pub use exceptions::{ExceptionKind, Finding};
pub use order::{History, Line, LineState, Linked, Order, OrderState, Received, Sent, follow};
pub use rules::{Rules, Span};
