//! PostgreSQL for tests: a fresh database per test ([`TestDb`]), so tests run
//! in parallel; it is dropped when the [`TestDb`] is.
//!
//! The cluster is the one `SIGHTLINE_TEST_PG` names (`scripts/test` starts a
//! private one with `scripts/pg` and sets it). When the variable is unset,
//! testkit starts a private cluster itself with `scripts/pg start` when
//! PostgreSQL's `initdb` and `pg_ctl` are found (on `PATH` or in Debian's
//! `/usr/lib/postgresql/*/bin`), once per test run, and a watcher process stops
//! it and removes its directory when the run ends. "The run" is the `cargo`
//! (`cargo test`) or `cargo-nextest` process that started the test binary,
//! when there is one: nextest runs every test in a process of its own, and a
//! cluster per test would cost ~2 s each. Otherwise it is the test process.
//!
//! Without PostgreSQL the tests that need it fail with one message saying how
//! to get it: a PostgreSQL test that cannot run fails, it never passes by
//! skipping.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use std::os::unix::process::CommandExt as _;

/// The environment variable holding a cluster's URL.
pub const ENV: &str = "SIGHTLINE_TEST_PG";

/// `scripts/pg` of this repository: the one way a test cluster is made (TLS
/// with a throwaway CA included, which the TLS tests use).
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg");

/// Debian's layout: `/usr/lib/postgresql/<version>/bin`.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// The cluster URL: `SIGHTLINE_TEST_PG`, else a private cluster started for
/// this test run. Panics, saying how to get PostgreSQL, when there is none.
pub fn cluster_url() -> String {
    if let Ok(u) = std::env::var(ENV) {
        if !u.trim().is_empty() {
            return u;
        }
    }
    // Once per process: every test of the process shares the answer, and a
    // failure is reported the same way to each without trying again.
    static LAUNCHED: OnceLock<Result<String, String>> = OnceLock::new();
    match LAUNCHED.get_or_init(launch) {
        Ok(url) => url.clone(),
        Err(message) => panic!("{message}"),
    }
}

fn launch() -> Result<String, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let bindir = find_bindir(&path, Path::new(DEBIAN_ROOT)).ok_or_else(missing_message)?;
    launch_for(&Owner::of_this_run()?, &bindir, &std::env::temp_dir())
}

/// What a test that needs PostgreSQL says when there is none.
fn missing_message() -> String {
    format!(
        "this test needs PostgreSQL, and there is none: {ENV} is unset and PostgreSQL's initdb \
         and pg_ctl are neither on PATH nor in {DEBIAN_ROOT}/*/bin. Either install PostgreSQL \
         (Debian/Ubuntu: `apt-get install postgresql`, or `scripts/pg install` as root; then \
         the tests start a private cluster themselves), or point {ENV} at a cluster you run: \
         `d=$(mktemp -d); export {ENV}=$(scripts/pg start $d)`, run the tests, then \
         `scripts/pg stop $d`. ./scripts/test does all of this. PostgreSQL tests fail rather \
         than skip."
    )
}

/// The directory holding `initdb` and `pg_ctl`: the first on `path`, else the
/// newest version under `debian_root` (as `scripts/pg` looks).
fn find_bindir(path: &std::ffi::OsStr, debian_root: &Path) -> Option<PathBuf> {
    let has_both = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(d) = std::env::split_paths(path).find(|d| has_both(d)) {
        return Some(d);
    }
    let mut versions: Vec<(Vec<u64>, PathBuf)> = fs::read_dir(debian_root)
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e
                .file_name()
                .to_str()?
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<Vec<u64>>>()?;
            let bin = e.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The process whose lifetime the private cluster shares: identified by pid
/// and start time, so a reused pid is not taken for it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    pid: u32,
    start: String,
}

impl Owner {
    fn of(pid: u32) -> Option<Owner> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces and parentheses):
        // state is field 3, starttime field 22.
        let rest = &stat[stat.rfind(')')? + 1..];
        let start = rest.split_whitespace().nth(19)?.to_owned();
        Some(Owner { pid, start })
    }

    /// The `cargo` or `cargo-nextest` that runs this test binary, else this process.
    fn of_this_run() -> Result<Owner, String> {
        let parent = std::os::unix::process::parent_id();
        let runner = fs::read_to_string(format!("/proc/{parent}/comm"))
            .is_ok_and(|c| c.trim_end().starts_with("cargo"));
        let owner = if runner { Owner::of(parent) } else { None };
        owner
            .or_else(|| Owner::of(std::process::id()))
            .ok_or_else(|| "testkit: cannot read /proc/<pid>/stat (Linux only)".to_owned())
    }
}

/// Watches the owner (checked every second) and, once it has exited, stops
/// the cluster and removes its directory and lock file.
/// Arguments: owner pid, owner start time, scripts/pg, cluster dir, lock file.
const REAPER: &str = r#"
while :; do
    s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || break
    case "$s" in ""|Z*|X*) break ;; esac
    [ "$(echo "$s" | cut -d' ' -f20)" = "$2" ] || break
    sleep 1
done
bash "$3" stop "$4" >/dev/null 2>&1
rm -rf "$4" "$5"
"#;

/// Starts (or, when `owner` already has one, reuses) the private cluster of
/// `owner` under `tmp`, with PostgreSQL from `bindir`.
fn launch_for(owner: &Owner, bindir: &Path, tmp: &Path) -> Result<String, String> {
    let dir = tmp.join(format!(
        "sightline-testkit-pg-{}-{}",
        owner.pid, owner.start
    ));
    let lock_path = dir.with_extension("lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("testkit: cannot open {}: {e}", lock_path.display()))?;
    // Test processes of one run start at once; one of them starts the cluster.
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| format!("testkit: cannot lock {}: {e}", lock_path.display()))?;
    let url_file = dir.join("url");
    if let Ok(url) = fs::read_to_string(&url_file) {
        if answers(&url) {
            return Ok(url);
        }
    }
    let path = prepend_path(bindir);
    // Left over from a run whose watcher could not stop it: start afresh.
    if dir.exists() {
        let _ = pg_script(&path, "stop", &dir);
        let _ = fs::remove_dir_all(&dir);
    }
    // The server outlives this test process; the watcher stops it.
    let started = pg_script(&path, "start", &dir);
    if !started.status.success() {
        return Err(format!(
            "testkit: {ENV} is unset and starting a private PostgreSQL cluster failed \
             (scripts/pg start {}: {}):\n{}\nSet {ENV} to a cluster you run instead \
             (`d=$(mktemp -d); export {ENV}=$(scripts/pg start $d)`).",
            dir.display(),
            started.status,
            String::from_utf8_lossy(&started.stderr).trim_end()
        ));
    }
    let url = String::from_utf8_lossy(&started.stdout).trim().to_owned();
    Command::new("sh")
        .args(["-c", REAPER, "testkit-pg-reaper"])
        .arg(owner.pid.to_string())
        .arg(&owner.start)
        .arg(SCRIPT)
        .arg(&dir)
        .arg(&lock_path)
        .env("PATH", &path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("testkit: cannot start the cluster's watcher: {e}"))?;
    fs::write(&url_file, &url)
        .map_err(|e| format!("testkit: cannot write {}: {e}", url_file.display()))?;
    Ok(url)
}

/// A private cluster of one test, for tests that stop or restart PostgreSQL
/// itself: started with `scripts/pg start`, stopped and removed when dropped.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    path: std::ffi::OsString,
    url: String,
}

impl Cluster {
    /// Starts one; panics, saying how to get PostgreSQL, when there is none.
    pub fn start() -> Cluster {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let bindir = find_bindir(&path, Path::new(DEBIAN_ROOT))
            .unwrap_or_else(|| panic!("{}", missing_message()));
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sightline-testkit-cluster-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let path = prepend_path(&bindir);
        let out = pg_script(&path, "start", &dir);
        assert!(
            out.status.success(),
            "scripts/pg start {}: {}\n{}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Cluster { dir, path, url }
    }

    /// The cluster's URL (database `postgres`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops it (fast: connections are cut) and starts it on the same port.
    pub fn restart(&self) {
        let out = pg_script(&self.path, "restart", &self.dir);
        assert!(
            out.status.success(),
            "scripts/pg restart: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg_script(&self.path, "stop", &self.dir);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs `scripts/pg ACTION DIR` with `path` as PATH, in a process group of
/// its own (the server outlives this test process's group under nextest).
fn pg_script(path: &std::ffi::OsStr, action: &str, dir: &Path) -> std::process::Output {
    Command::new("bash")
        .arg(SCRIPT)
        .args([action.as_ref(), dir.as_os_str()])
        .env("PATH", path)
        .stdin(Stdio::null())
        .process_group(0)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {SCRIPT}: {e}"))
}

fn prepend_path(dir: &Path) -> std::ffi::OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir.to_owned()).chain(std::env::split_paths(&rest)))
        .unwrap_or(rest)
}

/// Whether a PostgreSQL server answers at `url`.
fn answers(url: &str) -> bool {
    let Ok(mut config) = url.parse::<postgres::Config>() else {
        return false;
    };
    config
        .connect_timeout(Duration::from_secs(5))
        .connect(postgres::NoTls)
        .is_ok()
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A database created for one test, dropped with it.
#[derive(Debug)]
pub struct TestDb {
    admin_url: String,
    url: String,
    name: String,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TestDb {
    /// Creates an empty database named after `hint` (a test name).
    pub fn new(hint: &str) -> TestDb {
        let admin_url = cluster_url();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let clean: String = hint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let name = format!("sl_{clean}_{}_{n}", std::process::id());
        // The URL is not printed: one given in SIGHTLINE_TEST_PG may hold a password.
        let mut c = postgres::Client::connect(&admin_url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test cluster ({ENV}): {e}"));
        c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .and_then(|()| {
                c.batch_execute(&format!(
                    "CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"
                ))
            })
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&admin_url, &name);
        TestDb {
            admin_url,
            url,
            name,
        }
    }

    /// The URL of this database (open the store with it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Best effort: the cluster is temporary anyway.
        if let Ok(mut c) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u@h:1/postgres", "x"),
            "postgres://u@h:1/x"
        );
        assert_eq!(
            with_database("postgres://u@h:1/postgres?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
    }

    /// Without PostgreSQL anywhere, the answer is the message saying how to get it.
    #[test]
    fn no_postgres_found_means_a_message_saying_how_to_get_it() {
        let empty = tempfile_dir("nopg");
        assert_eq!(find_bindir(empty.as_os_str(), &empty.join("none")), None);
        let m = missing_message();
        for want in [
            ENV,
            "apt-get install postgresql",
            "scripts/pg start",
            "fail",
        ] {
            assert!(m.contains(want), "{want:?} missing from {m}");
        }
        let _ = fs::remove_dir_all(&empty);
    }

    /// Debian's layout, newest version first; PATH wins over it.
    #[test]
    fn the_newest_debian_version_is_found_and_path_comes_first() {
        let root = tempfile_dir("debian");
        for v in ["9.6", "16", "17"] {
            let bin = root.join(v).join("bin");
            fs::create_dir_all(&bin).expect("mkdir");
            if v != "17" {
                // 17 lacks pg_ctl: not a usable installation.
                fs::write(bin.join("pg_ctl"), "").expect("write");
            }
            fs::write(bin.join("initdb"), "").expect("write");
        }
        assert_eq!(
            find_bindir("".as_ref(), &root),
            Some(root.join("16").join("bin"))
        );
        let on_path = root.join("9.6").join("bin");
        assert_eq!(
            find_bindir(on_path.as_os_str(), &root),
            Some(on_path.clone())
        );
        let _ = fs::remove_dir_all(&root);
    }

    /// A private cluster is started once per owner, shared by a second call,
    /// and stopped (its directory removed) once the owner exits.
    #[test]
    fn a_private_cluster_lives_as_long_as_its_owner() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let bindir = find_bindir(&path, Path::new(DEBIAN_ROOT))
            .unwrap_or_else(|| panic!("{}", missing_message()));
        let tmp = tempfile_dir("owner");
        let mut child = Command::new("sleep").arg("600").spawn().expect("sleep");
        let owner = Owner::of(child.id()).expect("owner");
        let url = launch_for(&owner, &bindir, &tmp).unwrap_or_else(|e| panic!("{e}"));
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let one: i32 = c.query_one("SELECT 1", &[]).expect("select").get(0);
        assert_eq!(one, 1);
        drop(c);
        assert_eq!(
            launch_for(&owner, &bindir, &tmp).expect("again"),
            url,
            "one cluster per owner"
        );
        let dir = tmp.join(format!(
            "sightline-testkit-pg-{}-{}",
            owner.pid, owner.start
        ));
        assert!(dir.join("data").is_dir());
        child.kill().expect("kill");
        child.wait().expect("wait");
        let deadline = Instant::now() + Duration::from_secs(60);
        while dir.exists() || answers(&url) {
            assert!(
                Instant::now() < deadline,
                "the cluster outlived its owner by a minute"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = fs::remove_dir_all(&tmp);
    }

    /// A test's own cluster restarts on its port and is gone once dropped.
    #[test]
    fn a_cluster_of_ones_own_restarts_and_stops_when_dropped() {
        let c = Cluster::start();
        let url = c.url().to_owned();
        assert!(answers(&url));
        c.restart();
        assert!(answers(&url), "the same URL after a restart");
        let dir = c.dir.clone();
        drop(c);
        assert!(!dir.exists());
        assert!(!answers(&url));
    }

    /// A fresh directory of this test process (no tempfile dependency).
    fn tempfile_dir(what: &str) -> PathBuf {
        static N: AtomicU64 = AtomicU64::new(0);
        let d = std::env::temp_dir().join(format!(
            "sightline-testkit-test-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&d).expect("mkdir");
        d
    }
}
