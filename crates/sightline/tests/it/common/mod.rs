//! What the integration tests share: running the real binary, and a real
//! `sightline serve` on a free loopback port. Each test file uses a part.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

// Not every test file uses each.
#[allow(unused_imports)]
pub use sightline_testkit::http::{basic, client, TAXII};

pub const BIN: &str = env!("CARGO_BIN_EXE_sightline");

/// `--data DIR` for [`sightline`] and [`Serve::start`].
pub fn data(dir: &Path) -> [&str; 2] {
    ["--data", dir.to_str().expect("test paths are UTF-8")]
}

/// Runs `sightline GLOBAL... ARGS...` with `stdin` (closed when `None`),
/// ignoring the caller's SIGHTLINE_DATA and SIGHTLINE_STORE.
pub fn sightline(global: &[&str], args: &[&str], stdin: Option<&str>) -> Output {
    sightline_with_env(&[], global, args, stdin)
}

/// [`sightline`] with extra environment variables.
pub fn sightline_with_env(
    env: &[(&str, &std::ffi::OsStr)],
    global: &[&str],
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    let mut c = Command::new(BIN)
        .env_remove("SIGHTLINE_DATA")
        .env_remove("SIGHTLINE_STORE")
        .envs(env.iter().copied())
        .args(global)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sightline");
    if let Some(text) = stdin {
        c.stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    drop(c.stdin.take());
    c.wait_with_output().expect("wait")
}

/// Standard output of a run that must have succeeded.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running `sightline serve`; dropped = SIGKILL.
pub struct Serve {
    child: Child,
    pub base: String,
    /// The banner it printed (listening on, discovery, data; demo lines).
    pub lines: Vec<String>,
}

impl Serve {
    /// `sightline GLOBAL... serve --listen 127.0.0.1:0 ARGS...`, once it
    /// listens and, over plain HTTP, answers `/healthz`. The server's
    /// standard error goes to `stderr`.
    pub fn start(global: &[&str], args: &[&str], stderr: Stdio) -> Serve {
        Serve::start_with_env(&[], global, args, stderr)
    }

    /// [`Serve::start`] with extra environment variables (never set on the
    /// test process: its tests share one process under `cargo test`).
    pub fn start_with_env(
        env: &[(&str, &str)],
        global: &[&str],
        args: &[&str],
        stderr: Stdio,
    ) -> Serve {
        let mut child = Command::new(BIN)
            .env_remove("SIGHTLINE_DATA")
            .env_remove("SIGHTLINE_STORE")
            .envs(env.iter().copied())
            .args(global)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start serve");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut lines = Vec::new();
        let mut read = |lines: &mut Vec<String>| {
            let mut line = String::new();
            let n = out.read_line(&mut line).expect("read stdout");
            assert!(n > 0, "serve exited early; it printed {lines:?}");
            lines.push(line.trim_end().to_owned());
        };
        let base = loop {
            read(&mut lines);
            if let Some(url) = lines.last().and_then(|l| l.strip_prefix("listening on ")) {
                break url.to_owned();
            }
        };
        // The rest of the banner comes before serving starts: discovery, web
        // UI and data, then four lines for the demo (API root, credentials,
        // a curl example, the collection's URL).
        let more = if args.contains(&"--demo") { 7 } else { 3 };
        for _ in 0..more {
            read(&mut lines);
        }
        // Keep draining so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        let s = Serve { child, base, lines };
        if s.base.starts_with("http://") {
            s.wait_healthy();
        }
        s
    }

    pub fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !Command::new(BIN)
            .args(["healthcheck", "--url", &self.url("/healthz")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("healthcheck")
            .success()
        {
            assert!(Instant::now() < deadline, "server never became healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then the exit status (within 20 s).
    pub fn terminate(&mut self) -> ExitStatus {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                return st;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as `kill -9`: no graceful shutdown, no flush.
    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        let st = self.child.wait().expect("wait");
        assert!(!st.success(), "the server was killed, not stopped: {st}");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `sightline match --follow` on a Zeek JSON log that the test
/// appends to: its matches arrive as JSON values, its standard error is kept
/// in a file (read it on failure or at the end).
pub struct Following {
    dir: std::path::PathBuf,
    child: Child,
    matches: std::sync::mpsc::Receiver<serde_json::Value>,
    log: std::fs::File,
    /// Lines written so far.
    pub written: u64,
}

impl Following {
    /// `sightline --data DATA match --input DIR/zeek.log --input-format zeek
    /// --follow ARGS...` with `env` set; DIR holds the log and `stderr`.
    pub fn start(dir: &Path, data: &Path, args: &[&str], env: &[(&str, &str)]) -> Following {
        std::fs::create_dir_all(dir).expect("dir");
        let log = dir.join("zeek.log");
        std::fs::write(&log, "").expect("log");
        let mut child = Command::new(BIN)
            .env_remove("SIGHTLINE_DATA")
            .env_remove("SIGHTLINE_STORE")
            .envs(env.iter().copied())
            .args(self::data(data))
            .args(["match", "--input", log.to_str().expect("utf-8 path")])
            .args(["--input-format", "zeek", "--follow"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("stderr")).expect("stderr file"))
            .spawn()
            .expect("spawn match --follow");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, matches) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(serde_json::from_str(&l).expect("a JSON line"));
            }
        });
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("append");
        Following {
            dir: dir.to_owned(),
            child,
            matches,
            log,
            written: 0,
        }
    }

    /// Appends a DNS event asking for `query` (a second later than the last).
    pub fn dns(&mut self, query: &str) {
        self.written += 1;
        let e = serde_json::json!({"_path": "dns", "ts": 1705312800.0 + self.written as f64,
            "uid": format!("E{}", self.written), "id.orig_h": "192.168.1.10",
            "id.orig_p": 5353, "id.resp_h": "192.168.1.1", "id.resp_p": 53, "proto": "udp",
            "query": query, "answers": ["198.51.100.7"]});
        writeln!(self.log, "{e}").expect("append");
        self.log.flush().expect("flush");
    }

    /// The next match, waiting at most `wait`.
    pub fn next_match(&self, wait: Duration) -> Option<serde_json::Value> {
        self.matches.recv_timeout(wait).ok()
    }

    /// Drops the matches printed so far.
    pub fn drain(&self) {
        while self.matches.try_recv().is_ok() {}
    }

    /// Writes `query` events until `indicator` matches one; the time from
    /// `since` to that match, or `None` after `within`.
    pub fn until_match(
        &mut self,
        query: &str,
        indicator: &str,
        since: Instant,
        within: Duration,
    ) -> Option<Duration> {
        while since.elapsed() < within {
            self.dns(query);
            if let Some(m) = self.next_match(Duration::from_millis(100)) {
                if m["indicator"] == indicator {
                    return Some(since.elapsed());
                }
            }
        }
        None
    }

    /// Writes `query` events until no match came for `quiet`; whether that
    /// happened within `within` of `since`.
    pub fn until_quiet(
        &mut self,
        query: &str,
        since: Instant,
        within: Duration,
        quiet: Duration,
    ) -> bool {
        let mut quiet_since: Option<Instant> = None;
        while since.elapsed() < within {
            self.dns(query);
            match self.next_match(Duration::from_millis(100)) {
                Some(_) => quiet_since = None,
                None => {
                    if quiet_since.get_or_insert_with(Instant::now).elapsed() > quiet {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// What it wrote on standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }

    /// SIGINT, then its standard error; it must exit 0.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("wait");
        let err = self.stderr();
        assert!(status.success(), "{err}");
        err
    }
}

/// A test that fails before [`Following::stop`] must not leave the matcher
/// following a deleted file for ever.
impl Drop for Following {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
