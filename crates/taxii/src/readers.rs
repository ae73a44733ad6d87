//! The store-read pool (see [`crate::blocking`]): a few named threads that
//! take jobs from one queue. `crossbeam-channel` receivers spin briefly
//! before parking, so under load a thread picks up the next read without a
//! sleep/wake cycle; when idle they sleep.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

type Job = Box<dyn FnOnce() + Send>;

fn queue() -> Option<&'static crossbeam_channel::Sender<Job>> {
    static QUEUE: OnceLock<Option<crossbeam_channel::Sender<Job>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let threads = std::thread::available_parallelism()
                .map_or(2, std::num::NonZeroUsize::get)
                .clamp(2, 8);
            let (tx, rx) = crossbeam_channel::unbounded::<Job>();
            let mut started = 0;
            for i in 0..threads {
                let rx = rx.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("sightline-read-{i}"))
                    .spawn(move || {
                        while let Ok(job) = rx.recv() {
                            job();
                        }
                    });
                if spawned.is_ok() {
                    started += 1;
                }
            }
            // No thread at all: callers fall back to tokio's blocking pool.
            (started > 0).then_some(tx)
        })
        .as_ref()
}

/// Runs `f` on a reader thread. `None` when it panicked or could not run.
pub(crate) async fn run<T, F>(f: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let Some(q) = queue() else {
        return tokio::task::spawn_blocking(f).await.ok();
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // A panic is reported to the one request, never kills the thread.
        if let Ok(v) = catch_unwind(AssertUnwindSafe(f)) {
            let _ = tx.send(v);
        }
    });
    q.send(job).ok()?;
    rx.await.ok()
}
