//! Reading events line by line from a file, standard input or gzip, with bad
//! lines skipped and counted (their number and reason kept) rather than
//! ending the run, and a reader that follows a growing file (`--follow`).

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sightline_matcher::Observation;

use super::tsv::TsvState;
use super::{Adapter, EventError};

/// Lines longer than this are skipped without being held in memory whole.
pub const DEFAULT_MAX_LINE: usize = 16 << 20;

/// How many skipped lines the summary keeps with their reason.
const EXAMPLES: usize = 20;

/// One skipped line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based line number.
    pub line: u64,
    pub error: EventError,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

/// What was read and what was skipped, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkipSummary {
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Lines that gave observations.
    pub parsed: u64,
    pub skipped: u64,
    /// Skipped lines per [`EventError::kind`].
    pub by_kind: BTreeMap<&'static str, u64>,
    /// The first skipped lines, with their reasons.
    pub examples: Vec<Skipped>,
}

impl SkipSummary {
    fn record(&mut self, s: &Skipped) {
        self.skipped += 1;
        *self.by_kind.entry(s.error.kind()).or_default() += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(s.clone());
        }
    }
}

impl fmt::Display for SkipSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} lines: {} events, {} skipped",
            self.lines, self.parsed, self.skipped
        )?;
        if !self.by_kind.is_empty() {
            let parts: Vec<String> = self
                .by_kind
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// The outcome of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent {
    /// The line gave observations (appended to the caller's vector).
    Parsed { line: u64 },
    /// The line was skipped; it is also counted in the summary.
    Skipped(Skipped),
}

/// Reads lines from `src` and turns each into observations with an [`Adapter`].
pub struct EventReader<R> {
    lines: LineReader<R>,
    adapter: Adapter,
    /// Zeek TSV headers read so far.
    tsv: TsvState,
    line: u64,
    summary: SkipSummary,
}

impl<R> fmt::Debug for EventReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventReader")
            .field("line", &self.line)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// What a line is once read: blank, too long, or text to parse.
pub(crate) enum RawLine<'a> {
    Blank,
    TooLong,
    Text(&'a [u8]),
}

/// Splits `src` into lines of at most `max_line` bytes (a longer line's bytes
/// are dropped as they are read, so it never sits in memory whole).
pub(crate) struct LineReader<R> {
    src: R,
    buf: Vec<u8>,
    too_long: bool,
    /// Bytes of the current line were read (it may be empty or dropped).
    any: bool,
    /// The last call ended in an error in the middle of a line: the next
    /// one goes on with it (a [`Follow`]'s [`Idle`] is such an error).
    resume: bool,
    max_line: usize,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(src: R, max_line: usize) -> Self {
        Self {
            src,
            buf: Vec::with_capacity(4096),
            too_long: false,
            any: false,
            resume: false,
            max_line,
        }
    }

    pub(crate) fn max_line(&self) -> usize {
        self.max_line
    }

    /// The next line, `None` at the end of the input. After an error the
    /// next call goes on with the line it was in.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<RawLine<'_>>> {
        if !std::mem::take(&mut self.resume) {
            self.buf.clear();
            self.too_long = false;
            self.any = false;
        }
        loop {
            let avail = match self.src.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.resume = true;
                    return Err(e);
                }
            };
            if avail.is_empty() {
                break;
            }
            self.any = true;
            let (chunk, done, ended) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..i], i + 1, true),
                None => (avail, avail.len(), false),
            };
            if !self.too_long {
                if self.buf.len() + chunk.len() > self.max_line {
                    self.too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.src.consume(done);
            if ended {
                break;
            }
        }
        if !self.any {
            return Ok(None);
        }
        if self.too_long {
            return Ok(Some(RawLine::TooLong));
        }
        let mut l = self.buf.as_slice();
        while let [rest @ .., b'\n' | b'\r' | b' ' | b'\t'] = l {
            l = rest;
        }
        Ok(Some(if l.iter().all(|c| c.is_ascii_whitespace()) {
            RawLine::Blank
        } else {
            RawLine::Text(l)
        }))
    }

    /// The last line read without its line end (empty after a line over the
    /// length limit).
    pub(crate) fn last(&self) -> &[u8] {
        let mut l = self.buf.as_slice();
        while let [rest @ .., b'\n' | b'\r'] = l {
            l = rest;
        }
        l
    }
}

impl SkipSummary {
    /// Counts one non-blank line's outcome and turns it into a [`LineEvent`].
    pub(crate) fn outcome(&mut self, line: u64, result: Result<(), EventError>) -> LineEvent {
        match result {
            Ok(()) => {
                self.parsed += 1;
                LineEvent::Parsed { line }
            }
            Err(error) => {
                let s = Skipped { line, error };
                self.record(&s);
                LineEvent::Skipped(s)
            }
        }
    }
}

impl<R: BufRead> EventReader<R> {
    pub fn new(src: R, adapter: Adapter) -> Self {
        Self {
            lines: LineReader::new(src, DEFAULT_MAX_LINE),
            adapter,
            tsv: TsvState::default(),
            line: 0,
            summary: SkipSummary::default(),
        }
    }

    /// Sets the longest line accepted (bytes, without the newline).
    pub fn with_max_line(mut self, max: usize) -> Self {
        self.lines.max_line = max;
        self
    }

    pub fn adapter(&self) -> &Adapter {
        &self.adapter
    }

    /// Reads up to the next non-blank line, appends its observations to `out`
    /// and says what happened; `None` at the end of the input. Only an I/O
    /// error (a failing disk, corrupt gzip; or a followed file's [`Idle`],
    /// after which reading goes on) is an `Err`: bad lines are not.
    pub fn next_into(&mut self, out: &mut Vec<Observation>) -> io::Result<Option<LineEvent>> {
        loop {
            let max_line = self.lines.max_line();
            let result = match self.lines.next_line()? {
                None => return Ok(None),
                Some(RawLine::Blank) => {
                    self.line += 1;
                    self.summary.lines += 1;
                    continue;
                }
                Some(RawLine::TooLong) => Err(EventError::TooLong { limit: max_line }),
                // A header line is no event, like a blank one.
                Some(RawLine::Text(l)) if self.adapter.has_headers() && self.tsv.header_line(l) => {
                    self.line += 1;
                    self.summary.lines += 1;
                    continue;
                }
                Some(RawLine::Text(l)) => {
                    let h = self.tsv.current();
                    self.adapter.parse_line_in(l, h.as_deref(), out)
                }
            };
            self.line += 1;
            self.summary.lines += 1;
            return Ok(Some(self.summary.outcome(self.line, result)));
        }
    }

    /// What was read and skipped so far.
    pub fn summary(&self) -> &SkipSummary {
        &self.summary
    }

    /// The number of the last line read.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The text of the last line read, without its line end (empty after a
    /// line over the length limit): what `sightline match` shows as the event.
    pub fn last_line(&self) -> &[u8] {
        self.lines.last()
    }
}

/// Opens `path` (`-` is standard input) for line reading, decompressing gzip
/// (one or more members) when the data starts with the gzip magic bytes.
pub fn open(path: &str) -> io::Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path)?)
    };
    let mut r = BufReader::with_capacity(1 << 16, raw);
    let gz = r.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(r),
        ))
    } else {
        Box::new(r)
    })
}

/// What a [`Follow`] made with [`Follow::idle_every`] returns (as an
/// `io::Error`) when nothing has been written for that long: not a failure
/// but a turn for the caller's periodic work (writing sightings while the log
/// is quiet). Reading again goes on where it stopped, in the middle of a line
/// too ([`EventReader`] keeps the part read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no new input for a while")]
pub struct Idle;

impl Idle {
    /// Whether `e` is an [`Idle`] turn rather than a failure.
    pub fn is(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|i| i.is::<Idle>())
    }
}

/// A reader over a file that, at its end, waits for the file to grow rather
/// than ending (`tail -f`), polling every `poll`, until `stop` is set; then
/// it ends at the current end. A file cut shorter than what was read
/// (truncated for rotation: copytruncate) is read again from its start.
/// Without a path it cannot notice a file renamed away: see [`follow_path`].
pub fn follow(file: File, poll: Duration, stop: Arc<AtomicBool>) -> Follow {
    Follow {
        file,
        path: None,
        pos: 0,
        poll,
        stop,
        rotations: Arc::new(AtomicU64::new(0)),
        replaced: false,
        idle: None,
        waited: Duration::ZERO,
    }
}

/// [`follow`] by path, surviving rotation as Zeek and logrotate do it: when
/// the file has been renamed away and a new one created under the path, the
/// old file is read to its end, then the new one from its start;
/// a file truncated in place (copytruncate) is read again from its start.
/// Lines written to the old file between the rename and the switch are read
/// (the switch waits one more poll with the old file at its end); lines
/// written between a copy and a truncate are lost, as with any reader.
pub fn follow_path(path: &Path, poll: Duration, stop: Arc<AtomicBool>) -> io::Result<Follow> {
    let mut f = follow(File::open(path)?, poll, stop);
    f.path = Some(path.to_owned());
    Ok(f)
}

/// See [`follow`] and [`follow_path`].
#[derive(Debug)]
pub struct Follow {
    file: File,
    path: Option<PathBuf>,
    pos: u64,
    poll: Duration,
    stop: Arc<AtomicBool>,
    rotations: Arc<AtomicU64>,
    /// A new file was seen under the path at the last poll.
    replaced: bool,
    /// See [`Follow::idle_every`].
    idle: Option<Duration>,
    /// Time spent waiting since the last bytes or the last [`Idle`].
    waited: Duration,
}

impl Follow {
    /// Makes a read that has waited `every` at the end of the file without
    /// new bytes return an [`Idle`] error (then wait again), so a caller
    /// blocked on the next line gets a turn on a quiet log.
    pub fn idle_every(mut self, every: Duration) -> Self {
        self.idle = Some(every);
        self
    }

    /// Counts the rotations seen (a new file, or the file truncated): the
    /// bytes read after an increment come from the start of a file.
    pub fn rotations(&self) -> Arc<AtomicU64> {
        self.rotations.clone()
    }

    /// Whether the path now names another file than the one being read.
    fn path_replaced(&self) -> io::Result<bool> {
        let Some(p) = &self.path else {
            return Ok(false);
        };
        let now = match std::fs::metadata(p) {
            Ok(m) => m,
            // Renamed away, the new file not created yet: keep waiting.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        Ok(!same_file(&now, &self.file.metadata()?))
    }
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    true
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.file.read(buf)?;
            if n > 0 {
                self.pos += n as u64;
                self.waited = Duration::ZERO;
                return Ok(n);
            }
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            if self.file.metadata()?.len() < self.pos {
                self.pos = self.file.seek(SeekFrom::Start(0))?;
                self.rotations.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if self.path_replaced()? {
                // Seen twice with the old file at its end: its writer has
                // moved on.
                if self.replaced {
                    if let Some(p) = &self.path {
                        match File::open(p) {
                            Ok(f) => {
                                self.file = f;
                                self.pos = 0;
                                self.replaced = false;
                                self.rotations.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                            // Gone again between the two looks: wait.
                            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                self.replaced = true;
            } else {
                self.replaced = false;
            }
            if self.idle.is_some_and(|i| self.waited >= i) {
                self.waited = Duration::ZERO;
                return Err(io::Error::new(io::ErrorKind::TimedOut, Idle));
            }
            std::thread::sleep(self.poll);
            self.waited += self.poll;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::Format;
    use super::*;

    fn read_all(input: &[u8], max: usize) -> (Vec<LineEvent>, SkipSummary, usize) {
        let mut r = EventReader::new(input, Adapter::new(Format::Zeek)).with_max_line(max);
        let mut out = Vec::new();
        let mut evs = Vec::new();
        while let Some(e) = r.next_into(&mut out).unwrap_or_else(|e| panic!("{e}")) {
            evs.push(e);
        }
        (evs, r.summary().clone(), out.len())
    }

    const CONN: &str = r#"{"_path":"conn","ts":1.0,"id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.2"}"#;

    #[test]
    fn bad_lines_are_counted_with_numbers_and_reasons() {
        let mut input = Vec::new();
        input.extend_from_slice(CONN.as_bytes());
        input.extend_from_slice(b"\n\n{\"_path\":\"conn\",\"ts\":\xff}\r\n");
        input.extend_from_slice(b"{\"_path\":\"conn\",\"ts\":1.0,\"id.orig_h\":\"10.\n");
        input.extend_from_slice(format!("{}\n", "x".repeat(100)).as_bytes());
        input.extend_from_slice(b"{\"_path\":\"conn\",\"ts\":1.0,\"id.orig_h\":[]}\n");
        input.extend_from_slice(CONN.as_bytes()); // no final newline
        let (evs, sum, n) = read_all(&input, 90);
        assert_eq!(n, 2);
        assert_eq!(evs.len(), 6);
        assert_eq!(evs[0], LineEvent::Parsed { line: 1 });
        let mut r = EventReader::new(&b"\n{\"a\":1}\r\n"[..], Adapter::new(Format::Zeek));
        let _ = r.next_into(&mut Vec::new());
        assert_eq!((r.line(), r.last_line()), (2, &b"{\"a\":1}"[..]));
        let skipped: Vec<(u64, &str)> = evs
            .iter()
            .filter_map(|e| match e {
                LineEvent::Skipped(s) => Some((s.line, s.error.kind())),
                LineEvent::Parsed { .. } => None,
            })
            .collect();
        assert_eq!(
            skipped,
            vec![
                (3, "not UTF-8"),
                (4, "truncated JSON"),
                (5, "line too long"),
                (6, "wrongly typed field"),
            ]
        );
        assert_eq!(evs[5], LineEvent::Parsed { line: 7 });
        assert_eq!(sum.lines, 7);
        assert_eq!(sum.skipped, 4);
        assert_eq!(sum.parsed, 2);
        assert_eq!(
            sum.to_string(),
            "7 lines: 2 events, 4 skipped (1 line too long, 1 not UTF-8, 1 truncated JSON, 1 wrongly typed field)"
        );
        assert_eq!(
            sum.examples[3].to_string().split(':').next(),
            Some("line 6")
        );
    }

    #[test]
    fn gzip_by_magic() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("conn.log");
        let f = File::create(&p).unwrap_or_else(|e| panic!("{e}"));
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        for _ in 0..3 {
            writeln!(gz, "{CONN}").unwrap_or_else(|e| panic!("{e}"));
        }
        gz.finish().unwrap_or_else(|e| panic!("{e}"));
        let src = open(p.to_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
        let mut r = EventReader::new(src, Adapter::new(Format::Zeek));
        let mut out = Vec::new();
        while r
            .next_into(&mut out)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_some()
        {}
        assert_eq!(out.len(), 3);
    }

    /// A quiet followed file gives the caller a turn ([`Idle`]) every
    /// `idle_every`, and a line half written before the turn is read whole
    /// after it.
    #[test]
    fn follow_turns_idle_and_keeps_a_half_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("conn.log");
        let (a, b) = CONN.split_at(20);
        std::fs::write(&p, a).unwrap_or_else(|e| panic!("{e}"));
        let stop = Arc::new(AtomicBool::new(false));
        let f = follow_path(&p, Duration::from_millis(5), stop.clone())
            .unwrap_or_else(|e| panic!("{e}"))
            .idle_every(Duration::from_millis(30));
        let mut r = EventReader::new(BufReader::new(f), Adapter::new(Format::Zeek));
        let mut out = Vec::new();
        let started = std::time::Instant::now();
        for _ in 0..2 {
            match r.next_into(&mut out) {
                Err(e) => assert!(Idle::is(&e), "{e}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(started.elapsed() >= Duration::from_millis(60));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap_or_else(|e| panic!("{e}"));
        writeln!(f, "{b}").unwrap_or_else(|e| panic!("{e}"));
        let ev = r.next_into(&mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ev, Some(LineEvent::Parsed { line: 1 }));
        assert_eq!(r.last_line(), CONN.as_bytes());
        assert_eq!(out.len(), 1);
        // Any other error is not a turn.
        assert!(!Idle::is(&io::Error::new(
            io::ErrorKind::TimedOut,
            "slow disk"
        )));
        stop.store(true, Ordering::Relaxed);
    }

    #[test]
    fn follow_sees_lines_appended_later() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("eve.json");
        std::fs::write(&p, format!("{CONN}\n")).unwrap_or_else(|e| panic!("{e}"));
        let stop = Arc::new(AtomicBool::new(false));
        let f = File::open(&p).unwrap_or_else(|e| panic!("{e}"));
        let src = BufReader::new(follow(f, Duration::from_millis(5), stop.clone()));
        let mut r = EventReader::new(src, Adapter::new(Format::Zeek));
        let mut out = Vec::new();
        assert!(r
            .next_into(&mut out)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_some());
        let writer = {
            let p = p.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&p)
                    .unwrap_or_else(|e| panic!("{e}"));
                // Half a line first: the reader must wait for the rest.
                let (a, b) = CONN.split_at(20);
                write!(f, "{a}").unwrap_or_else(|e| panic!("{e}"));
                f.flush().unwrap_or_else(|e| panic!("{e}"));
                std::thread::sleep(Duration::from_millis(50));
                writeln!(f, "{b}").unwrap_or_else(|e| panic!("{e}"));
                f.flush().unwrap_or_else(|e| panic!("{e}"));
                std::thread::sleep(Duration::from_millis(50));
                stop.store(true, Ordering::Relaxed);
            })
        };
        let second = r.next_into(&mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(second, Some(LineEvent::Parsed { line: 2 }));
        assert_eq!(
            r.next_into(&mut out).unwrap_or_else(|e| panic!("{e}")),
            None
        );
        writer.join().unwrap_or_else(|_| panic!("writer thread"));
        assert_eq!(out.len(), 2);
    }
}
