//! The work one request (a TAXII envelope) or one import file may cause in
//! validation beyond its size: compiling `MATCHES` regular expressions, whose
//! cost does not follow the bytes sent (a 70 KB envelope of indicators cost
//! 7.7 s of CPU, issue 12 §3). A [`RegexBudget`] is shared by the objects of
//! one envelope or file, validated in parallel; it also carries the flag that
//! stops the work when the client has gone.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Compiled regular expression bytes (automaton size) one envelope or import
/// file may spend: 64 MiB, a few hundred milliseconds of CPU.
pub const DEFAULT_REGEX_BUDGET: u64 = 64 << 20;

/// Compiled automaton bytes allowed per input byte on top of
/// [`DEFAULT_REGEX_BUDGET`]: a large feed of ordinary regex indicators
/// (a URL regex with `\w` classes is some tens of KiB per indicator of
/// about 500 bytes) fits, while an envelope written to be expensive (1 MiB
/// of automaton per 30 bytes of `\w{60}`) gets only linear cost.
pub const REGEX_BUDGET_PER_INPUT_BYTE: u64 = 256;

/// A compile budget in automaton bytes plus a cancellation flag.
#[derive(Debug)]
pub struct RegexBudget {
    remaining: AtomicU64,
    total: u64,
    cancelled: AtomicBool,
}

impl Default for RegexBudget {
    fn default() -> Self {
        Self::new(DEFAULT_REGEX_BUDGET)
    }
}

impl RegexBudget {
    pub fn new(bytes: u64) -> Self {
        RegexBudget {
            remaining: AtomicU64::new(bytes),
            total: bytes,
            cancelled: AtomicBool::new(false),
        }
    }

    /// The budget for an envelope or file of `input_bytes`:
    /// [`DEFAULT_REGEX_BUDGET`] plus [`REGEX_BUDGET_PER_INPUT_BYTE`] per byte,
    /// so the work stays linear in what the client sent.
    pub fn for_input(input_bytes: usize) -> Self {
        let per_byte = (input_bytes as u64).saturating_mul(REGEX_BUDGET_PER_INPUT_BYTE);
        Self::new(DEFAULT_REGEX_BUDGET.saturating_add(per_byte))
    }

    /// The budget it started with.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// What is left to spend.
    pub fn remaining(&self) -> u64 {
        self.remaining.load(Ordering::Relaxed)
    }

    /// Spends `bytes`, or as much as is left; false when that was not all.
    pub fn spend(&self, bytes: u64) -> bool {
        let mut ok = true;
        let _ = self
            .remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| {
                ok = r >= bytes;
                Some(r.saturating_sub(bytes))
            });
        ok
    }

    /// Stops the remaining work (the client went away).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// A guard that cancels the budget when dropped. An async request
    /// handler holds it across the validation it hands to another thread:
    /// when the client goes away, the server drops the handler, and the
    /// validation stops at its next object or regex.
    pub fn cancel_on_drop(self: &Arc<Self>) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// See [`RegexBudget::cancel_on_drop`].
#[derive(Debug)]
pub struct CancelOnDrop(Arc<RegexBudget>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_down_to_zero() {
        let b = RegexBudget::new(10);
        assert!(b.spend(4));
        assert!(b.spend(6));
        assert_eq!(b.remaining(), 0);
        assert!(!b.spend(1));
        assert_eq!(b.total(), 10);
        assert!(!b.is_cancelled());
        b.cancel();
        assert!(b.is_cancelled());
        let shared = Arc::new(RegexBudget::default());
        let guard = shared.cancel_on_drop();
        assert!(!shared.is_cancelled());
        drop(guard);
        assert!(shared.is_cancelled(), "dropping the guard cancels");
    }
}
