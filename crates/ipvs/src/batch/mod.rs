//! Batches: many changes sent in one datagram, each acknowledged on its own.
//!
//! The kernel takes the messages of a datagram in order, one after the other; it answers a
//! refused request with its errno whether or not it asked for an acknowledgement, and a request
//! that asks (`NLM_F_ACK`) with success too. A failed request does not stop the ones after it.
//! So a batch behaves like the same requests sent one by one — ipvsadm's line-by-line restore —
//! at a fraction of the system calls. Only the last request of a datagram asks: its answer,
//! matched by sequence number like the refusals, closes the datagram.
//!
//! The acknowledgements of a datagram are queued on our socket while the kernel works through
//! it, and the kernel drops those that do not fit the receive buffer. Batches are therefore cut
//! into datagrams whose acknowledgements fit the buffer the kernel granted (see [`plan`]).

mod apply;
mod plan;

use crate::error::{Error, KernelError};

/// What became of one change of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The kernel applied it.
    Applied,
    /// The kernel refused it; the changes after it were still tried.
    Failed(KernelError),
    /// It was never sent, because the batch stopped before it.
    NotAttempted,
    /// It was sent but its acknowledgement never came (the batch stopped while waiting): the
    /// kernel may or may not have applied it.
    Unknown,
}

/// The outcome of each change of a batch, in the order of the changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport {
    /// One outcome per change.
    pub outcomes: Vec<Outcome>,
}

impl BatchReport {
    /// The changes the kernel refused, with their indices.
    pub fn failures(&self) -> impl Iterator<Item = (usize, &KernelError)> {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(|(index, outcome)| match outcome {
                Outcome::Failed(error) => Some((index, error)),
                _ => None,
            })
    }

    /// The first change the kernel refused; every change before it was applied.
    pub fn first_failure(&self) -> Option<(usize, &KernelError)> {
        self.failures().next()
    }

    /// How many changes were applied.
    pub fn applied(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|outcome| **outcome == Outcome::Applied)
            .count()
    }

    /// Whether every change was applied.
    pub fn all_applied(&self) -> bool {
        self.outcomes
            .iter()
            .all(|outcome| *outcome == Outcome::Applied)
    }
}

/// A batch that stopped before its end: a send or receive failed, or the kernel dropped
/// acknowledgements. The report says what is known of every change.
#[derive(Debug, thiserror::Error)]
#[error("the batch stopped after {} of {} changes were applied: {cause}", report.applied(), report.outcomes.len())]
pub struct BatchAborted {
    /// What is known of each change.
    pub report: BatchReport,
    /// Why the batch stopped.
    #[source]
    pub cause: Error,
}
