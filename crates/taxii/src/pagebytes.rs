//! Bounds the bytes of paged response bodies (objects, manifest, versions)
//! held at once (issue 12 §3, slow readers).
//!
//! A client that asks for 1,000-object pages and never reads pins each body
//! until the write timeout drops its connection; 100 of them held ~450 MiB.
//! So every page takes its bytes from one server-wide budget *as it is
//! built*, row by row, and gives them back when its body has been handed to
//! the connection in full or dropped:
//!
//! - a page stops early, with `more: true` and a `next` cursor after its last
//!   row, when it reaches `max_page_bytes` or the budget has no more room
//!   (TAXII 2.1 §3.4: a server may return fewer objects than `limit`);
//! - its first row always fits the per-page bound (an object larger than it
//!   stays readable), but needs room in the budget: when even that is
//!   missing the request waits up to [`PAGE_WAIT`] for a first chunk before
//!   reading the store (nothing is held while waiting), then gets 503 with
//!   `Retry-After`.
//!
//! The body is handed to hyper in copied 64 KiB frames, so what a stalled
//! connection keeps after its budget share is released is hyper's own write
//! buffer (~400 KiB), not the page.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::TaxiiError;

/// Permits are KiB, so a budget of any realistic size fits a `u32` request.
const UNIT: usize = 1024;
/// A page takes room in chunks of this many bytes (fewer semaphore calls).
const CHUNK: usize = 64 * 1024;
/// The envelope around a page's rows (`more`, `next`, the list's key).
const FRAME: usize = 512;
/// How long a page request waits for its first chunk of budget, by default.
const PAGE_WAIT: Duration = Duration::from_secs(10);

/// Bounds on paged response bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    /// Bytes of one page body; a page that would exceed it ends early
    /// (`more: true`), except that its first object always fits.
    pub max_page_bytes: usize,
    /// Bytes of page bodies built or being sent at once, over all requests.
    pub max_inflight_page_bytes: usize,
    /// How long a page waits for room before it gets 503.
    pub wait: Duration,
}

impl Default for PageLimits {
    fn default() -> Self {
        PageLimits {
            max_page_bytes: 32 << 20,
            max_inflight_page_bytes: 128 << 20,
            wait: PAGE_WAIT,
        }
    }
}

/// The server-wide budget of page bytes.
#[derive(Debug)]
pub(crate) struct PageBytes {
    sem: Arc<Semaphore>,
    units: usize,
    per_page: usize,
    wait: Duration,
}

impl PageBytes {
    pub(crate) fn new(limits: PageLimits) -> PageBytes {
        let units =
            (limits.max_inflight_page_bytes / UNIT).clamp(CHUNK / UNIT, Semaphore::MAX_PERMITS);
        PageBytes {
            sem: Arc::new(Semaphore::new(units)),
            units,
            per_page: limits.max_page_bytes.max(1),
            wait: limits.wait,
        }
    }

    /// Room for one page: waits (holding nothing) up to the configured
    /// time for a first chunk; 503 after that.
    pub(crate) async fn reserve(&self) -> Result<Reservation, TaxiiError> {
        let first = u32::try_from((CHUNK / UNIT).min(self.units)).unwrap_or(u32::MAX);
        match tokio::time::timeout(self.wait, self.sem.clone().acquire_many_owned(first)).await {
            Ok(Ok(permit)) => Ok(Reservation {
                sem: self.sem.clone(),
                units: self.units,
                per_page: self.per_page,
                held: first as usize * UNIT,
                used: FRAME,
                permit: Some(permit),
            }),
            _ => Err(busy()),
        }
    }

    /// Bytes of the budget in use now (for tests).
    #[cfg(test)]
    pub(crate) fn in_use(&self) -> usize {
        (self.units - self.sem.available_permits()) * UNIT
    }
}

pub(crate) fn busy() -> TaxiiError {
    TaxiiError::Unavailable(
        "too many page bytes are waiting for slow clients; retry later or ask for a smaller limit"
            .into(),
    )
}

/// One page's share of the budget; given back when dropped.
#[derive(Debug)]
pub(crate) struct Reservation {
    sem: Arc<Semaphore>,
    units: usize,
    per_page: usize,
    /// Bytes the permit covers.
    held: usize,
    /// Bytes the page has taken so far.
    used: usize,
    permit: Option<OwnedSemaphorePermit>,
}

impl Reservation {
    /// Takes room for `n` more bytes of the page. `false` when the page
    /// must end before them: over `max_page_bytes` (never for its first
    /// row), or no room left in the budget.
    pub(crate) fn take(&mut self, n: usize, first: bool) -> bool {
        let want = self.used.saturating_add(n);
        if !first && want > self.per_page {
            return false;
        }
        if want > self.held {
            let need = want - self.held;
            let exact = need.div_ceil(UNIT);
            let chunk = need.max(CHUNK).div_ceil(UNIT);
            let rest = self.units.saturating_sub(self.held / UNIT);
            let got = self
                .try_units(chunk)
                .or_else(|| (exact < chunk).then(|| self.try_units(exact)).flatten())
                // A first row larger than the whole budget takes all of it
                // (it must stay readable).
                .or_else(|| {
                    (first && exact > rest)
                        .then(|| self.try_units(rest))
                        .flatten()
                });
            match got {
                Some(u) => self.held += u * UNIT,
                None => return false,
            }
        }
        self.used = want;
        true
    }

    fn try_units(&mut self, units: usize) -> Option<usize> {
        let n = u32::try_from(units).ok()?;
        let p = self.sem.clone().try_acquire_many_owned(n).ok()?;
        match &mut self.permit {
            Some(held) => held.merge(p),
            None => self.permit = Some(p),
        }
        Some(units)
    }

    /// Gives back what the page did not use, keeping what its body holds.
    pub(crate) fn shrink_to_used(&mut self) {
        let keep = self.used.div_ceil(UNIT);
        if let Some(p) = &mut self.permit {
            let extra = p.num_permits().saturating_sub(keep);
            if extra > 0 {
                drop(p.split(extra));
                self.held = keep * UNIT;
            }
        }
    }
}

/// A page body that holds its [`Reservation`] until the last byte has been
/// handed to the connection (or the connection is dropped), in copied frames
/// so that nothing of the page outlives the reservation but hyper's buffer.
/// The body comes in parts (the envelope's head, the rows as the sink wrote
/// them, its tail), sent one after the other: the rows are never copied into
/// one buffer first.
pub(crate) struct PageBody {
    parts: VecDeque<Vec<u8>>,
    /// Bytes of the front part already sent.
    pos: usize,
    /// Bytes not yet sent.
    remaining: usize,
    reservation: Option<Reservation>,
}

impl PageBody {
    pub(crate) fn body(parts: Vec<Vec<u8>>, mut reservation: Reservation) -> Body {
        reservation.shrink_to_used();
        let parts: VecDeque<Vec<u8>> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        Body::new(PageBody {
            remaining: parts.iter().map(Vec::len).sum(),
            parts,
            pos: 0,
            reservation: Some(reservation),
        })
    }
}

impl http_body::Body for PageBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let Some(part) = this.parts.front_mut() else {
            this.reservation = None;
            return Poll::Ready(None);
        };
        let frame = if this.pos == 0 && part.len() <= CHUNK {
            // A small part goes whole, without a copy.
            this.pos = part.len();
            Bytes::from(std::mem::take(part))
        } else {
            let end = (this.pos + CHUNK).min(part.len());
            let b = Bytes::copy_from_slice(&part[this.pos..end]);
            this.pos = end;
            b
        };
        this.remaining -= frame.len();
        if this.pos >= part.len() {
            this.parts.pop_front();
            this.pos = 0;
        }
        if this.parts.is_empty() {
            // The last frame: nothing of the page is left here.
            this.reservation = None;
        }
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use http_body_util::BodyExt;

    fn limits(page: usize, total: usize) -> PageLimits {
        PageLimits {
            max_page_bytes: page,
            max_inflight_page_bytes: total,
            wait: Duration::from_millis(50),
        }
    }

    #[tokio::test]
    async fn a_page_ends_at_its_own_bound_but_takes_its_first_row() {
        let b = PageBytes::new(limits(100 << 10, 1 << 20));
        let mut r = b.reserve().await.expect("room");
        // The first row is larger than a page may be: taken anyway.
        assert!(r.take(200 << 10, true));
        assert!(!r.take(1, false), "over max_page_bytes");
        assert_eq!(b.in_use(), (FRAME + (200 << 10)).div_ceil(UNIT) * UNIT);
        drop(r);
        assert_eq!(b.in_use(), 0);
    }

    #[tokio::test]
    async fn the_budget_cuts_pages_and_refuses_when_empty() {
        let b = PageBytes::new(limits(1 << 20, 256 << 10));
        let mut r1 = b.reserve().await.expect("room");
        let mut rows = 0;
        while r1.take(10 << 10, rows == 0) {
            rows += 1;
        }
        // 256 KiB of budget: 25 rows of 10 KiB, then the page ends.
        assert_eq!(rows, 25, "cut by the budget");
        let e = b.reserve().await.expect_err("no room for a second page");
        assert!(matches!(e, TaxiiError::Unavailable(_)), "{e:?}");
        drop(r1);
        assert!(b.reserve().await.is_ok());
    }

    #[tokio::test]
    async fn the_body_gives_its_share_back_once_sent() {
        let b = PageBytes::new(limits(1 << 20, 1 << 20));
        let mut r = b.reserve().await.expect("room");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        assert!(r.take(data.len(), true));
        let (head, rest) = data.split_at(70_000);
        let body = PageBody::body(vec![head.to_vec(), Vec::new(), rest.to_vec()], r);
        // Unused chunk room went back at once; the page's bytes are held.
        assert_eq!(b.in_use(), (FRAME + data.len()).div_ceil(UNIT) * UNIT);
        assert_eq!(body.size_hint().exact(), Some(data.len() as u64));
        let got = body.collect().await.expect("body").to_bytes();
        assert_eq!(&got[..], &data[..], "frames reassemble the page");
        assert_eq!(b.in_use(), 0, "released when the last frame went");
    }

    #[tokio::test]
    async fn a_dropped_body_gives_its_share_back() {
        let b = PageBytes::new(limits(1 << 20, 1 << 20));
        let mut r = b.reserve().await.expect("room");
        assert!(r.take(500_000, true));
        let body = PageBody::body(vec![vec![b'x'; 500_000]], r);
        assert!(b.in_use() >= 500_000);
        drop(body); // the connection went away
        assert_eq!(b.in_use(), 0);
    }
}
