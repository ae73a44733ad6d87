//! The scale-out backend: the store traits on PostgreSQL, so that several
//! stateless `sightline serve` replicas can share one database.
//!
//! - The synchronous `postgres` client and a small pool of connections
//!   (`Mutex<Vec<Conn>>`, each with its own prepared-statement cache). A
//!   connection that failed is dropped, never returned to the pool, so the
//!   next call reconnects by itself.
//! - Schema versioned in `schema_migrations`, migrated on open (see
//!   `schema.rs`); [`PgStore::migrate`] runs the migrations alone.
//! - No `postgres` type appears in any public signature: driver errors map to
//!   [`StoreError`] with a message naming the database (never its password).
//!   A lost or refused connection is [`StoreError::Busy`] ("unavailable"),
//!   which the TAXII layer answers with 503; every connection opened before
//!   is then retired, so the next call reconnects.
//! - A put is one round trip: the `sightline_put` function (migration V2)
//!   does what the SQLite backend's `put_inner` does, server-side.
//! - TLS (rustls) when the URL says `sslmode=require|verify-ca|verify-full`,
//!   always verifying the certificate (`sslrootcert=PATH` adds a CA).
//! - The `postgres` client blocks on a runtime of its own, which panics inside
//!   another runtime's context; calls made from async code are moved off it
//!   (`off_runtime`), so the server may call the store anywhere.
//!
//! # `date_added` across replicas
//!
//! TAXII paging (`added_after`, and our `next` cursor) reads "everything with
//! `date_added` greater than the last one seen". That only works if a row can
//! never become visible with a `date_added` lower than one a reader has
//! already seen. With one process, an in-memory clock does it (SQLite); with
//! several replicas each clock would be different, and two transactions could
//! commit in the opposite order of their values: a reader that saw the later
//! value first would then skip the other row forever.
//!
//! So here `date_added` comes from the database, and writers are serialized:
//! [`ObjectWriter::begin`](sightline_store::ObjectWriter::begin) takes a transaction-scoped advisory lock
//! (`pg_advisory_xact_lock`) and reads `meta.date_added_high`; every value the
//! transaction hands out is `max(clock_timestamp() in µs, last + 1)`, computed
//! inside the INSERT itself; `commit` stores the new high and commits, and
//! the lock is released only after the commit is visible. Hence values are
//! strictly increasing, never reused (even after a rollback or a clock step
//! back), and **commit order equals `date_added` order**: when a reader sees a
//! row, every row with a smaller `date_added` is already committed, so
//! `date_added > cursor` never skips a row that commits later. The cost is
//! one writer at a time per database, the same as SQLite's.
//!
//! All SQL for PostgreSQL lives in this crate.

mod accounts;
mod read;
mod schema;
mod write;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row, Statement};
use sightline_store::{Result, StoreError};

/// Idle connections kept for reuse; more may be open at a time.
const POOL_SIZE: usize = 16;

/// Prepared statements kept per connection (page queries have a few dozen shapes).
const STATEMENT_CACHE: usize = 256;

/// The advisory lock writers hold for the life of a write transaction.
pub(crate) const WRITE_LOCK: i64 = 0x5349_474c_494e_0001;
/// The advisory lock held while migrating.
const MIGRATE_LOCK: i64 = 0x5349_474c_494e_0002;

/// The PostgreSQL store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct PgStore {
    config: Config,
    /// TLS when the connection string asks for it (see [`PgStore::connect`]).
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// `postgres://user@host:port/db`, for messages (no password).
    label: String,
    idle: Mutex<Vec<Conn>>,
    /// Bumped whenever the server is found unavailable: connections opened
    /// before are presumed dead and never reused (see [`PgStore::conn`]).
    epoch: AtomicU64,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("database", &self.label)
            .finish_non_exhaustive()
    }
}

/// Runs `f`, which blocks on the `postgres` client's own runtime, where that
/// is allowed. The client panics if it blocks inside a tokio runtime's
/// context (the server calls the store from async code in a few places, such
/// as resolving collections at start): on a multi-threaded runtime the worker
/// is handed off with `block_in_place`; on a current-thread runtime `f` runs
/// on a scoped thread. Elsewhere (the blocking pool, the CLI) it just runs.
pub(crate) fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match tokio::runtime::Handle::try_current() {
        Err(_) => f(),
        Ok(h) => match h.runtime_flavor() {
            tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
            _ => std::thread::scope(|s| match s.spawn(f).join() {
                Ok(r) => r,
                Err(p) => std::panic::resume_unwind(p),
            }),
        },
    }
}

/// A client whose drop (which blocks, to say goodbye to the server) is safe
/// inside a runtime too (see [`off_runtime`]).
pub(crate) struct SafeClient(Option<Client>);

impl std::ops::Deref for SafeClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("client taken before drop"))
    }
}

impl std::ops::DerefMut for SafeClient {
    fn deref_mut(&mut self) -> &mut Client {
        self.0
            .as_mut()
            .unwrap_or_else(|| unreachable!("client taken before drop"))
    }
}

impl Drop for SafeClient {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            off_runtime(move || drop(c));
        }
    }
}

/// One connection and its prepared statements.
pub(crate) struct Conn {
    client: SafeClient,
    statements: HashMap<String, Statement>,
    /// The store's epoch when this connection was opened.
    epoch: u64,
}

impl Conn {
    fn prepared(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let client = &mut *self.client;
        let s = off_runtime(|| client.prepare(sql))?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    pub(crate) fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let s = self.prepared(sql)?;
        let client = &mut *self.client;
        off_runtime(|| client.query(&s, params))
    }

    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        let s = self.prepared(sql)?;
        let client = &mut *self.client;
        off_runtime(|| client.query_opt(&s, params))
    }

    pub(crate) fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        let s = self.prepared(sql)?;
        let client = &mut *self.client;
        off_runtime(|| client.query_one(&s, params))
    }

    pub(crate) fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let s = self.prepared(sql)?;
        let client = &mut *self.client;
        off_runtime(|| client.execute(&s, params))
    }

    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), postgres::Error> {
        let client = &mut *self.client;
        off_runtime(|| client.batch_execute(sql))
    }
}

/// A pooled connection, returned to the pool on drop unless it failed.
pub(crate) struct Pooled<'a> {
    store: &'a PgStore,
    conn: Option<Conn>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("pooled connection taken before drop"))
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("pooled connection taken before drop"))
    }
}

impl Pooled<'_> {
    /// Forget this connection (its state is unknown): the pool opens a new one.
    pub(crate) fn discard(&mut self) {
        self.conn = None;
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if c.client.is_closed() || c.epoch != self.store.epoch.load(Ordering::Acquire) {
                return;
            }
            let mut idle = self
                .store
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if idle.len() < POOL_SIZE {
                idle.push(c);
            }
        }
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`
    /// or libpq `key=value` form) and migrates its schema.
    pub fn open(url: &str) -> Result<PgStore> {
        let s = Self::connect(url)?;
        s.migrate()?;
        Ok(s)
    }

    /// Connects without migrating; every call fails until the schema is
    /// current (see [`PgStore::migrate`]).
    ///
    /// TLS: `sslmode=require`, `verify-ca` or `verify-full` connect with TLS
    /// (rustls) and always verify the server's certificate and name, against
    /// the system's roots or the PEM file given as `sslrootcert=PATH`. Without
    /// one of them (`disable`, `prefer`, unset) the connection is plain, so
    /// use them whenever the database is not on the same host.
    pub fn connect(url: &str) -> Result<PgStore> {
        let (url, rootcert) = split_tls_params(url);
        let url = url.as_str();
        let mut config = Config::from_str(url).map_err(|e| {
            StoreError::Invalid(format!(
                "{}: not a PostgreSQL connection string: {e}",
                redact(url)
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("sightline");
        }
        config.keepalives(true);
        let label = label_of(&config);
        let tls = match config.get_ssl_mode() {
            postgres::config::SslMode::Require => Some(tls_connector(rootcert.as_deref())?),
            _ => None,
        };
        let s = PgStore {
            config,
            tls,
            label,
            idle: Mutex::new(Vec::new()),
            epoch: AtomicU64::new(0),
        };
        // Fail now, with a clear message, when the server cannot be reached.
        drop(s.conn()?);
        Ok(s)
    }

    /// The database, as `postgres://user@host:port/db` (no password).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Applies the migrations this database lacks. Returns the versions
    /// applied (empty when it was current). Safe to run from several
    /// processes at once: they take turns on an advisory lock.
    pub fn migrate(&self) -> Result<Vec<u32>> {
        let mut c = self.conn()?;
        let conn = &mut *c;
        let r = off_runtime(|| migrate(conn));
        // Session advisory locks outlive errors: never pool this connection.
        c.discard();
        r.map_err(|e| match e {
            MigrateError::Pg(e) => self.err(e),
            MigrateError::Store(e) => e,
        })
    }

    /// The schema version of the database and the one this build knows.
    pub fn schema_version(&self) -> Result<(u32, u32)> {
        let mut c = self.conn()?;
        let conn = &mut *c;
        let v = off_runtime(|| current_version(conn)).map_err(|e| self.err(e))?;
        Ok((v, MIGRATIONS_LEN))
    }

    /// A connection from the pool, or a new one.
    pub(crate) fn conn(&self) -> Result<Pooled<'_>> {
        let epoch = self.epoch.load(Ordering::Acquire);
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(c) if !c.client.is_closed() && c.epoch == epoch => c,
            _ => {
                let (config, tls) = (&self.config, &self.tls);
                let client = off_runtime(|| match tls {
                    Some(t) => config.connect(t.clone()),
                    None => config.connect(NoTls),
                })
                .map_err(|e| {
                    let cause = error_text(&e);
                    // Says where it tried, never with the password (issue 17 §4).
                    let refused = || {
                        self.unavailable(format!(
                            "cannot connect to PostgreSQL at {}: {cause}",
                            host_port(&self.config)
                        ))
                    };
                    match e.code() {
                        Some(c) if is_unavailable(c) => refused(),
                        Some(_) => {
                            StoreError::backend(format!("{}: cannot connect: {cause}", self.label))
                        }
                        // A certificate the client does not trust is no
                        // outage: retrying will not help, the setup must change.
                        None if cause.contains("TLS") => StoreError::backend(format!(
                            "{}: cannot connect: {cause} (sslrootcert=PATH names the CA to trust)",
                            self.label
                        )),
                        None => refused(),
                    }
                    .caused_by(e)
                })?;
                Conn {
                    client: SafeClient(Some(client)),
                    statements: HashMap::new(),
                    epoch,
                }
            }
        };
        Ok(Pooled {
            store: self,
            conn: Some(conn),
        })
    }

    /// [`StoreError::Busy`] with `message`, after retiring every pooled
    /// connection.
    fn unavailable(&self, message: String) -> StoreError {
        // The server went away: every connection opened before is most
        // likely dead too. Retire them all (idle ones now, busy ones when
        // they come back), so the next call connects afresh instead of
        // failing once per stale connection.
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let stale = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        drop(stale);
        StoreError::busy(message)
    }

    /// Maps a driver error to a [`StoreError`] naming the database, the
    /// error itself its source.
    pub(crate) fn err(&self, e: postgres::Error) -> StoreError {
        self.kind_of(&e).caused_by(e)
    }

    fn kind_of(&self, e: &postgres::Error) -> StoreError {
        let cause = error_text(e);
        let l = &self.label;
        let Some(code) = e.code() else {
            // No SQLSTATE: the connection broke (I/O, closed) or the protocol failed.
            return self.unavailable(format!(
                "{l}: the PostgreSQL server is unavailable: {cause}"
            ));
        };
        if is_unavailable(code) {
            return self.unavailable(format!(
                "{l}: the PostgreSQL server is unavailable: {cause}"
            ));
        }
        if *code == SqlState::DISK_FULL
            || *code == SqlState::READ_ONLY_SQL_TRANSACTION
            || *code == SqlState::INSUFFICIENT_PRIVILEGE
            || *code == SqlState::PROGRAM_LIMIT_EXCEEDED
            || *code == SqlState::OUT_OF_MEMORY
        {
            return StoreError::no_space(format!("{l}: {cause}"));
        }
        if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::LOCK_NOT_AVAILABLE
            || *code == SqlState::QUERY_CANCELED
        {
            return StoreError::busy(format!("{l}: {cause}"));
        }
        if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE
            || *code == SqlState::UNTRANSLATABLE_CHARACTER
        {
            // Input, not an outage: a NUL (U+0000) in a value bound to a text
            // column, which PostgreSQL cannot hold (issue 12 §4).
            return StoreError::Invalid(format!(
                "a NUL character (U+0000) cannot be stored here: {cause}"
            ));
        }
        if *code == SqlState::DATA_CORRUPTED
            || *code == SqlState::INDEX_CORRUPTED
            || *code == SqlState::UNDEFINED_TABLE
        {
            return StoreError::corrupt(format!("{l}: {cause}"));
        }
        StoreError::backend(format!("{l}: {cause}"))
    }
}

/// Connection-level failures: the server is going away, starting, or not
/// reachable. They are worth a retry once it is back.
fn is_unavailable(code: &SqlState) -> bool {
    let c = code.code();
    c.starts_with("08")
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::TOO_MANY_CONNECTIONS
}

/// The server's message (and detail) when there is one, else the client's.
fn error_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => match d.detail() {
            Some(detail) => format!("{} ({detail})", d.message()),
            None => d.message().to_owned(),
        },
        None => {
            use std::error::Error as _;
            match e.source() {
                Some(s) => format!("{e}: {s}"),
                None => e.to_string(),
            }
        }
    }
}

/// Takes out what `postgres::Config` does not parse: `sslrootcert=PATH`, and
/// `sslmode=verify-ca|verify-full` (which become `require`: with rustls the
/// certificate and the name are always verified). Both URL (`?a=b&c=d`) and
/// `key=value` forms.
fn split_tls_params(url: &str) -> (String, Option<String>) {
    let mut rootcert = None;
    let mut keep = |kv: &str| -> Option<String> {
        if let Some(p) = kv.strip_prefix("sslrootcert=") {
            rootcert = Some(p.to_owned());
            return None;
        }
        if kv == "sslmode=verify-full" || kv == "sslmode=verify-ca" {
            return Some("sslmode=require".to_owned());
        }
        Some(kv.to_owned())
    };
    let out = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<String> = query.split('&').filter_map(&mut keep).collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_owned(),
        }
    } else {
        url.split_whitespace()
            .filter_map(&mut keep)
            .collect::<Vec<_>>()
            .join(" ")
    };
    (out, rootcert)
}

/// rustls on ring (as the TAXII server), trusting the system's roots and the
/// PEM certificates in `rootcert`.
fn tls_connector(rootcert: Option<&str>) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates only narrow what is trusted.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = rootcert {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                StoreError::Invalid(format!("sslrootcert {path}: not a readable PEM file: {e}"))
            })?;
        if certs.is_empty() {
            return Err(StoreError::Invalid(format!(
                "sslrootcert {path}: no certificate in it"
            )));
        }
        for c in certs {
            roots.add(c).map_err(|e| {
                StoreError::Invalid(format!(
                    "sslrootcert {path}: a certificate is unusable: {e}"
                ))
            })?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| StoreError::Invalid(format!("TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn label_of(c: &Config) -> String {
    let host = match c.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let user = c.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    let db = c.get_dbname().unwrap_or("");
    format!("postgres://{user}{host}:{port}/{db}")
}

/// `text` as stored in an index column: PostgreSQL text cannot hold NUL
/// (U+0000), which STIX strings may, so it becomes U+FFFD, the same way on
/// write and on lookup. The raw JSON keeps it (escaped, `\u0000`).
pub(crate) fn nul_free(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// `HOST:PORT` (or the socket directory) of the first host, for messages.
fn host_port(c: &Config) -> String {
    let port = c.get_ports().first().copied().unwrap_or(5432);
    match c.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) if h.contains(':') => format!("[{h}]:{port}"),
        Some(postgres::config::Host::Tcp(h)) => format!("{h}:{port}"),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => format!("{}:{port}", p.display()),
        None => format!("localhost:{port}"),
    }
}

/// `url` with any password replaced, for messages.
pub fn redact(url: &str) -> String {
    if let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    {
        let scheme = &url[..url.len() - rest.len()];
        let (auth, tail) = match rest.find('@') {
            Some(i) if !rest[..i].contains('/') => (&rest[..i], &rest[i..]),
            _ => return url.to_owned(),
        };
        return match auth.split_once(':') {
            Some((user, _)) => format!("{scheme}{user}:***{tail}"),
            None => url.to_owned(),
        };
    }
    // key=value form: hide password=...
    url.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const MIGRATIONS_LEN: u32 = schema::MIGRATIONS.len() as u32;

enum MigrateError {
    Pg(postgres::Error),
    Store(StoreError),
}

impl From<postgres::Error> for MigrateError {
    fn from(e: postgres::Error) -> Self {
        MigrateError::Pg(e)
    }
}

fn current_version(c: &mut Conn) -> Result<u32, postgres::Error> {
    let exists: bool = c
        .client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let v: Option<i32> = c
        .client
        .query_one("SELECT max(version) FROM schema_migrations", &[])?
        .get(0);
    Ok(v.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
}

fn migrate(c: &mut Conn) -> Result<Vec<u32>, MigrateError> {
    // A current schema needs no lock and no DDL, so replicas may run with a
    // role that cannot create tables (an operator runs `sightline migrate`).
    if current_version(c)? == MIGRATIONS_LEN {
        return Ok(Vec::new());
    }
    c.client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])?;
    let out = (|| -> Result<Vec<u32>, MigrateError> {
        c.client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    integer PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )?;
        let from = current_version(c)?;
        if from > MIGRATIONS_LEN {
            return Err(MigrateError::Store(StoreError::corrupt(format!(
                "schema version {from} is newer than this Sightline understands ({MIGRATIONS_LEN}); use a newer release"
            ))));
        }
        let mut applied = Vec::new();
        for (i, m) in schema::MIGRATIONS.iter().enumerate().skip(from as usize) {
            let v = i as i32 + 1;
            let mut tx = c.client.transaction()?;
            tx.batch_execute(m)?;
            if v.unsigned_abs() == schema::REFS_MIGRATION {
                backfill_refs(&mut tx)?;
            }
            tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&v])?;
            tx.commit()?;
            applied.push(v.unsigned_abs());
        }
        Ok(applied)
    })();
    let _ = c
        .client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK]);
    out
}

/// Fills `refs` for every stored version (migration 8), a thousand rows at
/// a time through a cursor.
fn backfill_refs(tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
    tx.batch_execute(
        "DECLARE refs_fill NO SCROLL CURSOR FOR SELECT date_added, raw FROM versions",
    )?;
    loop {
        let rows = tx.query("FETCH 1000 FROM refs_fill", &[])?;
        if rows.is_empty() {
            break;
        }
        let mut targets: Vec<String> = Vec::new();
        let mut versions: Vec<i64> = Vec::new();
        for r in &rows {
            let d: i64 = r.try_get(0)?;
            let raw: &str = r.try_get(1)?;
            for t in sightline_store::refs::indexed_refs(raw) {
                targets.push(nul_free(&t).into_owned());
                versions.push(d);
            }
        }
        tx.execute(
            "INSERT INTO refs (target, version) SELECT * FROM unnest($1::text[], $2::bigint[])",
            &[&targets, &versions],
        )?;
    }
    tx.batch_execute("CLOSE refs_fill")
}

trait Ctx<T> {
    fn ctx(self, s: &PgStore) -> Result<T>;
}

impl<T> Ctx<T> for Result<T, postgres::Error> {
    fn ctx(self, s: &PgStore) -> Result<T> {
        self.map_err(|e| s.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5/db"),
            "postgres://u:***@h:5/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("host=h password=secret user=u"),
            "host=h password=*** user=u"
        );
    }

    #[test]
    fn tls_params_are_taken_out() {
        assert_eq!(
            split_tls_params(
                "postgres://u@h/db?sslmode=verify-full&sslrootcert=/x/ca.pem&application_name=a"
            ),
            (
                "postgres://u@h/db?sslmode=require&application_name=a".to_owned(),
                Some("/x/ca.pem".to_owned())
            )
        );
        assert_eq!(
            split_tls_params("postgres://u@h/db?sslrootcert=/ca.pem"),
            ("postgres://u@h/db".to_owned(), Some("/ca.pem".to_owned()))
        );
        assert_eq!(
            split_tls_params("host=h sslmode=verify-ca sslrootcert=/ca.pem"),
            (
                "host=h sslmode=require".to_owned(),
                Some("/ca.pem".to_owned())
            )
        );
        assert_eq!(
            split_tls_params("postgres://h/db"),
            ("postgres://h/db".to_owned(), None)
        );
    }

    #[test]
    fn a_missing_root_certificate_is_invalid() {
        assert!(matches!(
            PgStore::connect("postgres://u@127.0.0.1:1/db?sslmode=require&sslrootcert=/no/such.pem"),
            Err(StoreError::Invalid(m)) if m.contains("/no/such.pem")
        ));
    }

    #[test]
    fn a_bad_url_is_invalid_not_a_panic() {
        assert!(matches!(
            PgStore::connect("postgres://h:notaport/db"),
            Err(StoreError::Invalid(_))
        ));
    }

    /// A refused connection names where it tried, not a writer's lock
    /// (issue 17 §4), and never the password; it stays `Busy` (TAXII 503):
    /// the server may come back.
    #[test]
    fn a_refused_connection_says_where_it_tried() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        for url in [
            format!("postgres://u:s3cret-pw@127.0.0.1:{port}/db?connect_timeout=2"),
            format!("host=127.0.0.1 port={port} user=u password=s3cret-pw connect_timeout=2"),
        ] {
            let e = PgStore::connect(&url).expect_err("nothing listens");
            let text = e.to_string();
            assert!(matches!(e, StoreError::Busy { .. }), "{e:?}");
            assert!(
                text.contains(&format!(
                    "cannot connect to PostgreSQL at 127.0.0.1:{port}: "
                )),
                "{text}"
            );
            assert!(!text.contains("locked by another writer"), "{text}");
            assert!(!text.contains("s3cret-pw"), "{text}");
        }
    }
}
