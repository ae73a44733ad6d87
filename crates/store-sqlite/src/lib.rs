//! The embedded default backend: one SQLite file, `sightline.db`, in a data
//! directory.
//!
//! - WAL journal, `synchronous = FULL`: a committed import survives `kill -9`
//!   and power loss.
//! - One writer: a `Mutex<Connection>`; [`ObjectWriter::begin`] holds it for
//!   the life of the transaction (`BEGIN IMMEDIATE` … `COMMIT`, `ROLLBACK` on
//!   drop). Readers use a small pool of read-only connections, so they never
//!   see uncommitted data and never wait for the writer.
//! - Schema versioned with `PRAGMA user_version` (see `schema.rs`); a store
//!   from a newer Sightline is refused with [`StoreError::Corrupt`].
//! - No rusqlite type appears in any public signature: errors are mapped to
//!   [`StoreError`] with a message naming the file.
//!
//! All SQL of Sightline lives in this crate.

mod accounts;
mod read;
mod schema;
mod status;
mod write;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use sightline_store::{DateAdded, DateAddedClock, Result, StoreError};

/// The file name of the store inside its data directory.
pub const DB_FILE: &str = "sightline.db";

/// Read connections kept for reuse; more may be open at a time.
const POOL_SIZE: usize = 8;

/// The SQLite store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    clock: DateAddedClock,
    read_only: bool,
    checkpointer: Option<Checkpointer>,
}

/// Copies committed WAL frames back into the database file on its own thread
/// and connection, so a commit costs the WAL write and fsync only (the
/// writer's automatic checkpoint is off). Woken when a write transaction
/// begins (to fold in what an earlier process left in the WAL, while this one
/// works) and after each commit, at most once per [`CHECKPOINT_INTERVAL`];
/// never by reads alone, so read-only commands
/// pay nothing. Dropping the store
/// does not wait for it, and connections do not checkpoint on close: a
/// command returns as soon as its commit is durable in the WAL, and whatever
/// is left there is checkpointed by the next process that writes. An
/// interrupted checkpoint is harmless (SQLite simply redoes it).
struct Checkpointer {
    wake: SyncSender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer> {
        let conn = open_conn(path, false)?;
        let (wake, rx) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("sightline-checkpoint".into())
            .spawn(move || {
                let mut last: Option<Instant> = None;
                while rx.recv().is_ok() {
                    let closed = last.is_some_and(|t| debounce(&rx, t + CHECKPOINT_INTERVAL));
                    // Errors (e.g. busy) only delay the checkpoint to the next commit.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    last = Some(Instant::now());
                    if closed {
                        break;
                    }
                }
            })
            .map_err(|e| {
                StoreError::io(format!(
                    "{}: cannot start the checkpoint thread: {e}",
                    path.display()
                ))
                .caused_by(e)
            })?;
        Ok(Checkpointer {
            wake,
            thread: Some(thread),
        })
    }

    fn poke(&self) {
        match self.wake.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
        }
    }
}

/// The least time between two checkpoints while writes go on. A checkpoint
/// copies every page committed since the last one into the database file; a
/// page written by several commits in between (B-tree interior pages, the
/// leaves that random ids land on again, the FTS segments) is copied once. At
/// 1M objects a TAXII POST of 1,000 objects dirties ~2,000 random index leaves:
/// checkpointing after every commit doubled the bytes written per object, and
/// the disk's write bandwidth is what bounds POST throughput (BENCHMARKS.md,
/// issue 3). The WAL stays bounded: a write transaction that finds it over
/// [`BIG_WAL_BYTES`] checkpoints first (`write.rs`, `begin`).
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(2);

/// Waits until `until`, absorbing pokes (they are covered by the checkpoint
/// that follows). True when the store was dropped meanwhile: checkpoint once
/// more and stop.
fn debounce(rx: &Receiver<()>, until: Instant) -> bool {
    loop {
        let now = Instant::now();
        if now >= until {
            return false;
        }
        match rx.recv_timeout(until - now) {
            Ok(()) => {}
            Err(RecvTimeoutError::Timeout) => return false,
            Err(RecvTimeoutError::Disconnected) => return true,
        }
    }
}

/// A WAL larger than this is worth checkpointing before a process leaves it
/// behind: readers pay for every frame in it (`walFindFrame`) until someone
/// writes again, and a server that only reads never would.
pub(crate) const BIG_WAL_BYTES: u64 = 256 << 20;

/// The writer's page cache during a transaction: 64 MiB, enough for the
/// pages a TAXII POST of 1,000 objects dirties in a 1M-object store (~2,000
/// random index leaves of 8 KiB) plus the index pages it reads. With 16 MiB
/// SQLite spilled dirty pages to the WAL mid-transaction and read them back
/// (18% of a POST's CPU in `perf`).
pub(crate) const TXN_CACHE: &str = "PRAGMA cache_size = -65536;";

/// After this many puts a transaction is a bulk load (an import): it falls
/// back to 16 MiB, as a bigger cache does not make imports faster but keeps
/// their peak memory above 3x the input (issue #2 §8).
pub(crate) const BULK_PUTS: usize = 2048;
pub(crate) const BULK_CACHE: &str = "PRAGMA cache_size = -16384;";

impl SqliteStore {
    pub(crate) fn wal_bytes(&self) -> u64 {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the channel ends the thread after its current checkpoint.
        // Only a big WAL is worth waiting for (see `Checkpointer`, `BIG_WAL_BYTES`).
        if let Some(mut c) = self.checkpointer.take() {
            let thread = c.thread.take();
            let big = self.wal_bytes() > BIG_WAL_BYTES;
            if big {
                c.poke();
            }
            drop(c);
            if let (true, Some(t)) = (big, thread) {
                let _ = t.join();
            }
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating when missing) the store in `dir`, migrating its schema.
    ///
    /// The directory is made 0700 and `sightline.db`, `-wal` and `-shm` 0600
    /// whatever the umask (they hold password hashes and restricted
    /// collections, issue 12 §4); an existing store with wider permissions is
    /// tightened, with a log line. The database file is created 0600 before
    /// SQLite opens it, and SQLite gives its `-wal` and `-shm` the same mode.
    pub fn open(dir: &Path) -> Result<SqliteStore> {
        std::fs::create_dir_all(dir)
            .map_err(|e| io_error(dir, e, "cannot create the data directory"))?;
        #[cfg(unix)]
        fn private(path: &Path, mode: u32) -> Result<()> {
            use std::os::unix::fs::PermissionsExt;
            let Ok(meta) = std::fs::metadata(path) else {
                return Ok(()); // not there (yet): nothing to tighten
            };
            let old = meta.permissions().mode() & 0o777;
            if old == mode {
                return Ok(());
            }
            if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
                // Not the owner, a read-only mount: SQLite's own open says
                // what matters; this must not turn into a new failure.
                tracing::warn!(path = %path.display(), error = %e, "cannot restrict the store's permissions");
                return Ok(());
            }
            tracing::info!(
                path = %path.display(),
                from = format!("{old:o}"),
                to = format!("{mode:o}"),
                "store permissions tightened: only the owner may read it"
            );
            Ok(())
        }
        #[cfg(not(unix))]
        fn private(_: &Path, _: u32) -> Result<()> {
            Ok(())
        }
        let files = [
            dir.join(DB_FILE),
            dir.join(format!("{DB_FILE}-wal")),
            dir.join(format!("{DB_FILE}-shm")),
        ];
        private(dir, 0o700)?;
        if !files[0].exists() {
            let mut create = std::fs::OpenOptions::new();
            create.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut create, 0o600);
            match create.open(&files[0]) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_error(&files[0], e, "cannot create the store")),
            }
        }
        for f in &files {
            private(f, 0o600)?;
        }
        let store = Self::open_inner(dir, false)?;
        for f in &files[1..] {
            private(f, 0o600)?;
        }
        Ok(store)
    }

    /// Opens an existing store for reading only (`begin` then fails). The
    /// schema must be current: a read-only open never migrates.
    pub fn open_read_only(dir: &Path) -> Result<SqliteStore> {
        Self::open_inner(dir, true)
    }

    fn open_inner(dir: &Path, read_only: bool) -> Result<SqliteStore> {
        let path = dir.join(DB_FILE);
        if read_only && !path.exists() {
            return Err(StoreError::io(format!("{}: no store here", path.display())));
        }
        let mut writer = open_conn(&path, read_only)?;
        let checkpointer = if read_only {
            check_version(&writer, &path, true)?;
            None
        } else {
            migrate(&mut writer, &path)?;
            writer
                .execute_batch("PRAGMA wal_autocheckpoint = 0;")
                .ctx(&path)?;
            let c = Checkpointer::start(&path)?;
            // Left behind by a killed process: fold it in while we work.
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            if std::fs::metadata(wal).is_ok_and(|m| m.len() > BIG_WAL_BYTES) {
                c.poke();
            }
            Some(c)
        };
        let last: DateAdded = writer
            .query_row(
                "SELECT max(coalesce((SELECT max(date_added) FROM versions), 0),
                            coalesce((SELECT max(date_added) FROM members), 0),
                            coalesce((SELECT value FROM meta WHERE key = 'date_added_high'), 0))",
                [],
                |r| r.get(0),
            )
            .ctx(&path)?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            clock: DateAddedClock::starting_after(last),
            read_only,
            checkpointer,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Caps the database at `pages` pages (a quota; writes beyond it fail with
    /// [`StoreError::NoSpace`], as on a full disk). Lasts for this handle.
    pub fn set_max_pages(&self, pages: u64) -> Result<()> {
        let w = self.lock_writer();
        w.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .ctx(&self.path)
    }

    /// Checks the whole store: SQLite's integrity check, foreign keys, the
    /// latest/first flags (exactly one of each per object and per collection
    /// membership, on the right version) and the full-text index (one entry per
    /// latest version). Returns one message per problem; empty means healthy.
    pub fn check(&self) -> Result<Vec<String>> {
        let w = self.lock_writer();
        read::check(&w, self.read_only).ctx(&self.path)
    }

    /// At `begin` and after a commit: let the checkpointer copy WAL frames.
    pub(crate) fn wake_checkpointer(&self) {
        if let Some(c) = &self.checkpointer {
            c.poke();
        }
    }

    pub(crate) fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A read connection from the pool (opened when none is free).
    pub(crate) fn reader(&self) -> Result<Reader<'_>> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_conn(&self.path, true)?,
        };
        Ok(Reader {
            store: self,
            conn: Some(conn),
        })
    }
}

/// A pooled read connection, returned to the pool on drop.
struct Reader<'a> {
    store: &'a SqliteStore,
    conn: Option<Connection>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Set in `reader`, taken only in `drop`.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("reader connection taken before drop"))
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            let mut pool = self
                .store
                .readers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if pool.len() < POOL_SIZE && c.is_autocommit() {
                pool.push(c);
            }
        }
    }
}

fn open_conn(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).ctx(path)?;
    conn.busy_timeout(Duration::from_secs(10)).ctx(path)?;
    conn.set_prepared_statement_cache_capacity(64);
    // The checkpointer thread does checkpoints; closing must not (see `Checkpointer`).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .ctx(path)?;
    // The query planner stability guarantee: plans never depend on bound
    // values. Without it SQLite marks statements whose plan *could* (a bound
    // LIMIT, a parameter compared with a partial index's WHERE) and
    // re-prepares them on every bind: 20% of a TAXII read's CPU in `perf`.
    // Our page queries choose their index explicitly anyway (`read::page_sql`).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .ctx(path)?;
    let setup = if read_only {
        // Mapped pages count in the server's resident memory: mapping 1 GiB
        // put a 1M-object store (1.1 GB) almost whole in RSS after one walk
        // of the collection (issue 3: <= 1 GB). 256 MiB mapped plus a 32 MiB
        // page cache per connection read as fast (BENCHMARKS.md).
        "PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456; PRAGMA temp_store = MEMORY; PRAGMA query_only = ON;"
    } else {
        // page_size only matters for a new file (before the first table).
        // 8 KiB: a put into a large store dirties one random leaf per id
        // index (ids are random UUIDs), and each dirty page is written twice
        // (WAL, checkpoint), so POST throughput at 1M objects is bounded by
        // page size x disk bandwidth: 16 KiB pages halved it; 4 KiB made
        // the 1M import 14% slower (issue 3, BENCHMARKS.md).
        // A 16 MiB writer cache between transactions and in bulk ones; a
        // write transaction starts with `TXN_CACHE`.
        // The WAL file is kept up to 256 MiB once checkpointed (rewriting it
        // in place is cheaper than regrowing it: see `CHECKPOINT_INTERVAL`).
        "PRAGMA page_size = 8192; PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 268435456;"
    };
    conn.execute_batch(setup).ctx(path)?;
    if !read_only {
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .ctx(path)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::io(format!(
                "{}: cannot switch to WAL journal (got {mode})",
                path.display()
            )));
        }
        // Recheck after the journal switch: synchronous is per connection.
        conn.execute_batch("PRAGMA synchronous = FULL;").ctx(path)?;
    }
    Ok(conn)
}

fn check_version(conn: &Connection, path: &Path, must_be_current: bool) -> Result<i64> {
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .ctx(path)?;
    let known = schema::MIGRATIONS.len() as i64;
    if v > known {
        return Err(StoreError::corrupt(format!(
            "{}: schema version {v} is newer than this Sightline understands ({known}); use a newer release",
            path.display()
        )));
    }
    if must_be_current && v < known {
        return Err(StoreError::Invalid(format!(
            "{}: schema version {v} needs migrating to {known}; open it read-write once",
            path.display()
        )));
    }
    Ok(v)
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    if check_version(conn, path, false)? == schema::MIGRATIONS.len() as i64 {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx(path)?;
    // Re-read inside the write lock: another process may have migrated meanwhile.
    let from = check_version(&tx, path, false)?;
    for (i, m) in schema::MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(from).unwrap_or(0))
    {
        tx.execute_batch(m).ctx(path)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .ctx(path)?;
    }
    tx.commit().ctx(path)
}

fn io_error(path: &Path, e: std::io::Error, what: &str) -> StoreError {
    let msg = format!("{}: {what}: {e}", path.display());
    match e.kind() {
        std::io::ErrorKind::PermissionDenied
        | std::io::ErrorKind::ReadOnlyFilesystem
        | std::io::ErrorKind::StorageFull => StoreError::no_space(msg),
        _ => StoreError::io(msg),
    }
    .caused_by(e)
}

/// Maps a rusqlite error to a [`StoreError`] naming the file, the error
/// itself its source.
fn map_err(path: &Path, e: rusqlite::Error) -> StoreError {
    let p = path.display();
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => e.sqlite_error_code(),
    };
    match code {
        Some(ErrorCode::DiskFull) => StoreError::no_space(format!(
            "{p}: the disk (or the store's size limit) is full: {e}"
        )),
        Some(ErrorCode::ReadOnly) => {
            StoreError::no_space(format!("{p}: the store is read-only: {e}"))
        }
        Some(ErrorCode::PermissionDenied) => {
            StoreError::no_space(format!("{p}: permission denied: {e}"))
        }
        Some(ErrorCode::CannotOpen) => StoreError::io(format!(
            "{p}: cannot open the store file (missing or no permission): {e}"
        )),
        Some(ErrorCode::SystemIoFailure) => StoreError::io(format!("{p}: I/O error: {e}")),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::busy(format!("{p}: locked by another writer: {e}"))
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::corrupt(format!("{p}: {e}"))
        }
        _ => StoreError::backend(format!("{p}: {e}")),
    }
    .caused_by(e)
}

trait Ctx<T> {
    fn ctx(self, path: &Path) -> Result<T>;
}

impl<T> Ctx<T> for rusqlite::Result<T> {
    fn ctx(self, path: &Path) -> Result<T> {
        self.map_err(|e| map_err(path, e))
    }
}

#[cfg(test)]
mod checkpoint_tests {
    use std::sync::mpsc::sync_channel;
    use std::time::{Duration, Instant};

    use super::debounce;

    #[test]
    fn debounce_absorbs_pokes_until_the_deadline() {
        let (tx, rx) = sync_channel::<()>(1);
        let start = Instant::now();
        let until = start + Duration::from_millis(200);
        let poker = std::thread::spawn(move || {
            for _ in 0..5 {
                let _ = tx.try_send(());
                std::thread::sleep(Duration::from_millis(20));
            }
            tx
        });
        assert!(!debounce(&rx, until), "not closed");
        assert!(Instant::now() >= until, "waited for the deadline");
        let tx = poker.join().expect("poker");
        drop(tx);
    }

    #[test]
    fn debounce_ends_at_once_when_the_store_is_dropped() {
        let (tx, rx) = sync_channel::<()>(1);
        drop(tx);
        let start = Instant::now();
        assert!(debounce(&rx, start + Duration::from_secs(60)));
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}
