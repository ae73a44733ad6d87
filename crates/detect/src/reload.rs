//! Indicators recompiled in the background while following (issue 16 §3).
//!
//! A following run used to check the store for changed indicators at its
//! flush and recompile them on the event thread: events stood still for the
//! whole compile (about a second at 100,000 indicators) and a change waited
//! for the next flush (10 s by default) and for an event to arrive. Now a
//! reloader thread polls the store every [`Options::reload`] (one indexed
//! query of at most one row), compiles a changed set itself, and hands it
//! over; the event thread swaps it in between two events, before it probes
//! the next one, and gives the old set back to be dropped off its path. The
//! same thread watches the imported warninglists' directory and reloads the
//! lists when a file there changes (a false-positive verdict can add a value).
//!
//! [`Options::reload`]: crate::Options::reload

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sightline_store::Store;
use sightline_warninglist::WarningLists;

use crate::indicators::{self, Loaded, Selection, Source};
use crate::lists::{self, ListChoice};
use crate::DetectError;

/// Where a run's warninglists come from, so they can be reloaded.
#[derive(Debug, Clone)]
pub struct ListSource {
    /// The imported lists' directory (`sightline warninglist import`).
    pub dir: PathBuf,
    pub choice: ListChoice,
}

/// What the reloader hands to the event thread.
pub(crate) enum Update {
    Indicators(Box<Loaded>),
    Lists(WarningLists),
    Failed(DetectError),
}

/// The reloader thread and the channel of its updates.
pub(crate) struct Reloader {
    updates: Receiver<Update>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Reloader {
    /// Starts polling every `every`: the store for indicators added after
    /// `high` (when `store` is given) and `lists`' directory.
    pub(crate) fn start(
        store: Option<Arc<dyn Store>>,
        selection: Selection,
        high: (Option<i64>, Option<i64>),
        next_change: Option<i64>,
        lists: Option<ListSource>,
        every: Duration,
    ) -> Result<Self, DetectError> {
        // One update in flight: a newer one waits until the event thread
        // took the last (it is compiled from the store as it is then).
        let (tx, updates) = mpsc::sync_channel(1);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("sightline-reload".into())
                .spawn(move || {
                    let at = Marks { high, next_change };
                    poll(store, selection, at, lists, every, &stop, &tx)
                })
                .map_err(DetectError::Threads)?
        };
        Ok(Self {
            updates,
            stop,
            thread: Some(thread),
        })
    }

    /// The next update, if one is ready; never waits.
    pub(crate) fn ready(&self) -> Option<Update> {
        // Disconnected: the thread ended after its last update.
        self.updates.try_recv().ok()
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Unblock a send waiting for room, then wait for the thread.
        while self.updates.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the last load saw: the store's highest `date_added` of indicators
/// and of verdicts, and when (wall clock, µs) the first indicator decays out.
struct Marks {
    high: (Option<i64>, Option<i64>),
    next_change: Option<i64>,
}

fn poll(
    store: Option<Arc<dyn Store>>,
    selection: Selection,
    mut at: Marks,
    lists: Option<ListSource>,
    every: Duration,
    stop: &AtomicBool,
    tx: &SyncSender<Update>,
) {
    let mut seen = lists.as_ref().map(|l| crate::lists::signature(&l.dir));
    // Sends unless the run ended; false: stop polling.
    let send = |u: Update| -> bool {
        let mut u = u;
        loop {
            match tx.try_send(u) {
                Ok(()) => return true,
                Err(mpsc::TrySendError::Disconnected(_)) => return false,
                Err(mpsc::TrySendError::Full(back)) => {
                    if stop.load(Ordering::Relaxed) {
                        return false;
                    }
                    u = back;
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    };
    loop {
        let until = Instant::now() + every;
        while Instant::now() < until {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50).min(every));
        }
        if let Some(s) = &store {
            let due = at
                .next_change
                .is_some_and(|t| sightline_store::now_micros() >= t);
            let changed = indicators::changed_since(s.as_ref(), &selection, at.high.0, at.high.1)
                .map(|c| c || due)
                .and_then(|c| {
                    c.then(|| indicators::load(&Source::Store, &selection, Some(s.as_ref())))
                        .transpose()
                });
            match changed {
                Ok(Some(loaded)) => {
                    at = Marks {
                        high: (loaded.high, loaded.verdicts_high),
                        next_change: loaded.next_change,
                    };
                    if !send(Update::Indicators(Box::new(loaded))) {
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    send(Update::Failed(e));
                    return;
                }
            }
        }
        if let (Some(l), Some(before)) = (&lists, &mut seen) {
            let now = crate::lists::signature(&l.dir);
            if now != *before {
                *before = now;
                match lists::load(&l.dir, &l.choice) {
                    Ok(w) => {
                        if !send(Update::Lists(w)) {
                            return;
                        }
                    }
                    Err(e) => {
                        send(Update::Failed(e));
                        return;
                    }
                }
            }
        }
    }
}

/// Drops `value` on a short-lived thread: a compiled set of 100,000
/// indicators takes milliseconds to free, which the event thread must not
/// wait for.
pub(crate) fn drop_off_path<T: Send + 'static>(value: T) {
    let spawned = std::thread::Builder::new()
        .name("sightline-drop".into())
        .spawn(move || drop(value));
    // Without a thread, dropping here is still correct, only slower.
    drop(spawned);
}
