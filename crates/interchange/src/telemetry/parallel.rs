//! Parsing events on several threads while the caller matches on one.
//!
//! Parsing a telemetry line (JSON, then SCOs) costs more than matching it
//! (BENCHMARKS.md, issue 4), so `sightline match` parses on worker threads and
//! keeps matching on its own thread, in input order. A reader thread cuts the
//! input into batches of lines; workers parse whole batches; the caller takes
//! them back in order. A fixed number of batch buffers circulates between the
//! threads, so memory stays bounded whatever the input size, and the buffers
//! are reused rather than reallocated.
//!
//! [`ParallelReader`] has the interface of [`EventReader`](super::EventReader):
//! the same line numbers, skipped lines and summary, in the same order. A
//! [`Stage`] may run on each observation on the parsing threads too (the
//! stateless half of matching, in `sightline match`), so that work scales
//! with the threads and only its results reach the caller.

use std::io::{self, BufRead};
use std::ops::Range;
use std::sync::Arc;
use std::thread;

use crossbeam_channel::{bounded, Receiver, Sender};
use sightline_matcher::Observation;

use super::reader::{LineReader, RawLine, DEFAULT_MAX_LINE};
use super::tsv::{TsvHeader, TsvState};
use super::{Adapter, EventError, LineEvent, SkipSummary};

/// Lines per batch: large enough that the channel hand-offs cost nothing per
/// line, small enough that the first matches appear at once.
const BATCH_LINES: usize = 512;

/// Work on each observation on the parsing threads, before the caller gets
/// it. It sees the observations of a line in order, but lines in any order.
pub trait Stage: Send + Sync + 'static {
    /// Per-thread scratch buffers.
    type Scratch: Default;
    /// What the caller receives for each observation.
    type Output: Send + 'static;
    fn run(&self, scratch: &mut Self::Scratch, obs: Observation) -> Self::Output;
}

/// The stage that hands the observations over unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keep;

impl Stage for Keep {
    type Scratch = ();
    type Output = Observation;
    fn run(&self, _: &mut (), obs: Observation) -> Observation {
        obs
    }
}

/// A batch of lines and, once parsed, their outcomes.
struct Batch<T> {
    seq: u64,
    /// The lines' text, one after another.
    text: Vec<u8>,
    /// Per non-blank line: its number and its text in `text` (`None`: too long).
    lines: Vec<(u64, Option<Range<usize>>)>,
    /// Lines read, blank ones included.
    read: u64,
    /// Filled by a worker: each line's result and its observation count.
    results: Vec<(Result<(), EventError>, usize)>,
    /// Every line's observations after the stage, in order, reversed for
    /// popping.
    observations: Vec<T>,
    /// An I/O error that ended the input after these lines.
    error: Option<io::Error>,
    /// The Zeek TSV header the lines are read under (a header line ends a
    /// batch, so one batch has one).
    tsv: Option<Arc<TsvHeader>>,
}

// Not derived: that would require `T: Default`.
impl<T> Default for Batch<T> {
    fn default() -> Self {
        Self {
            seq: 0,
            text: Vec::new(),
            lines: Vec::new(),
            read: 0,
            results: Vec::new(),
            observations: Vec::new(),
            error: None,
            tsv: None,
        }
    }
}

/// Reads and parses on other threads; see the module documentation.
pub struct ParallelReader<S: Stage = Keep> {
    done: Receiver<Batch<S::Output>>,
    free: Sender<Batch<S::Output>>,
    /// Batches that arrived before their turn, by sequence number.
    waiting: std::collections::BTreeMap<u64, Batch<S::Output>>,
    next_seq: u64,
    current: Option<Batch<S::Output>>,
    /// Position of the next line in `current`.
    pos: usize,
    summary: SkipSummary,
    /// The text range of the line last returned (for [`Self::last_line`]).
    last: Option<Range<usize>>,
    max_line: usize,
    finished: bool,
}

impl<S: Stage> std::fmt::Debug for ParallelReader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelReader")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl ParallelReader<Keep> {
    /// Starts a reader thread over `src` and `workers` (at least 1) parsing
    /// threads. The threads end when the input does or when this value is
    /// dropped. Fails only when a thread cannot be started.
    pub fn new(src: Box<dyn BufRead + Send>, adapter: Adapter, workers: usize) -> io::Result<Self> {
        Self::with_max_line(src, adapter, workers, DEFAULT_MAX_LINE)
    }

    /// [`ParallelReader::new`] with the longest line accepted (bytes).
    pub fn with_max_line(
        src: Box<dyn BufRead + Send>,
        adapter: Adapter,
        workers: usize,
        max_line: usize,
    ) -> io::Result<Self> {
        Self::with_stage(src, adapter, workers, max_line, Keep)
    }
}

impl<S: Stage> ParallelReader<S> {
    /// [`ParallelReader::with_max_line`], running `stage` on every
    /// observation on the parsing threads.
    pub fn with_stage(
        src: Box<dyn BufRead + Send>,
        adapter: Adapter,
        workers: usize,
        max_line: usize,
        stage: S,
    ) -> io::Result<Self> {
        let workers = workers.max(1);
        let buffers = 2 * workers + 2;
        let (free_tx, free_rx) = bounded::<Batch<S::Output>>(buffers);
        let (todo_tx, todo_rx) = bounded::<Batch<S::Output>>(buffers);
        let (done_tx, done_rx) = bounded::<Batch<S::Output>>(buffers);
        for _ in 0..buffers {
            // Cannot fail: the channel has room for every buffer and its
            // receiver is alive.
            let _ = free_tx.send(Batch::default());
        }
        let headers = adapter.has_headers();
        let adapter = Arc::new(adapter);
        let stage = Arc::new(stage);
        for _ in 0..workers {
            let (todo, done, adapter) = (todo_rx.clone(), done_tx.clone(), adapter.clone());
            let stage = stage.clone();
            // Named for `top -H` and profilers.
            thread::Builder::new()
                .name("sightline-parse".into())
                .spawn(move || {
                    let mut scratch = S::Scratch::default();
                    let mut parsed = Vec::new();
                    for mut b in todo {
                        parse_batch(&adapter, &*stage, &mut scratch, &mut parsed, &mut b);
                        if done.send(b).is_err() {
                            return;
                        }
                    }
                })?;
        }
        let reader_done = done_tx;
        thread::Builder::new()
            .name("sightline-read".into())
            .spawn(move || {
                read_batches(src, max_line, headers, &free_rx, &todo_tx, &reader_done)
            })?;
        Ok(Self {
            done: done_rx,
            free: free_tx,
            waiting: std::collections::BTreeMap::new(),
            next_seq: 0,
            current: None,
            pos: 0,
            summary: SkipSummary::default(),
            last: None,
            max_line,
            finished: false,
        })
    }

    /// As [`EventReader::next_into`](super::EventReader::next_into): the
    /// next line's outcome, its observations (after the stage) appended to
    /// `out`.
    pub fn next_into(&mut self, out: &mut Vec<S::Output>) -> io::Result<Option<LineEvent>> {
        loop {
            if let Some(b) = &mut self.current {
                if let Some((line, range)) = b.lines.get(self.pos).cloned() {
                    let (result, count) = std::mem::replace(&mut b.results[self.pos], (Ok(()), 0));
                    self.pos += 1;
                    for _ in 0..count {
                        if let Some(o) = b.observations.pop() {
                            out.push(o);
                        }
                    }
                    self.last = range.clone();
                    let result = match range {
                        None => Err(EventError::TooLong {
                            limit: self.max_line,
                        }),
                        Some(_) => result,
                    };
                    return Ok(Some(self.summary.outcome(line, result)));
                }
                // Every line of this batch is out: account for blank lines,
                // surface an I/O error, recycle the buffer.
                let mut b = self.current.take().unwrap_or_default();
                self.summary.lines += b.read;
                if let Some(e) = b.error.take() {
                    self.finished = true;
                    return Err(e);
                }
                let _ = self.free.send(b);
            }
            if self.finished {
                return Ok(None);
            }
            let b = match self.waiting.remove(&self.next_seq) {
                Some(b) => b,
                None => match self.done.recv() {
                    Ok(b) if b.seq == self.next_seq => b,
                    Ok(b) => {
                        self.waiting.insert(b.seq, b);
                        continue;
                    }
                    // Every thread is gone: the input ended and all batches
                    // were handed over.
                    Err(_) => {
                        self.finished = true;
                        return Ok(None);
                    }
                },
            };
            self.next_seq += 1;
            if b.lines.is_empty() && b.read == 0 && b.error.is_none() {
                // The reader's end-of-input marker.
                self.finished = true;
                return Ok(None);
            }
            self.current = Some(b);
            self.pos = 0;
        }
    }

    /// As [`EventReader::summary`](super::EventReader::summary): lines read so
    /// far, counted when their batch has been handed out.
    pub fn summary(&self) -> &SkipSummary {
        &self.summary
    }

    /// The text of the last line returned (empty for a line over the limit).
    pub fn last_line(&self) -> &[u8] {
        match (&self.current, &self.last) {
            (Some(b), Some(r)) => b.text.get(r.clone()).unwrap_or_default(),
            _ => &[],
        }
    }
}

fn read_batches<T>(
    src: Box<dyn BufRead + Send>,
    max_line: usize,
    headers: bool,
    free: &Receiver<Batch<T>>,
    todo: &Sender<Batch<T>>,
    done: &Sender<Batch<T>>,
) {
    let mut lines = LineReader::new(src, max_line);
    let mut number = 0u64;
    let mut seq = 0u64;
    let mut tsv = TsvState::default();
    loop {
        let Ok(mut b) = free.recv() else { return };
        b.seq = seq;
        seq += 1;
        b.text.clear();
        b.lines.clear();
        b.read = 0;
        b.error = None;
        b.tsv = tsv.current();
        let mut end = false;
        while b.lines.len() < BATCH_LINES {
            match lines.next_line() {
                Ok(None) => {
                    end = true;
                    break;
                }
                Ok(Some(RawLine::Blank)) => {
                    number += 1;
                    b.read += 1;
                }
                Ok(Some(RawLine::TooLong)) => {
                    number += 1;
                    b.read += 1;
                    b.lines.push((number, None));
                }
                // A header line counts as a line but is no event; the lines
                // after it go in a batch of their own, under the new header.
                Ok(Some(RawLine::Text(t))) if headers && tsv.header_line(t) => {
                    number += 1;
                    b.read += 1;
                    if b.lines.is_empty() {
                        b.tsv = tsv.current();
                    } else {
                        break;
                    }
                }
                Ok(Some(RawLine::Text(t))) => {
                    number += 1;
                    b.read += 1;
                    let start = b.text.len();
                    b.text.extend_from_slice(t);
                    b.lines.push((number, Some(start..b.text.len())));
                }
                Err(e) => {
                    b.error = Some(e);
                    end = true;
                    break;
                }
            }
        }
        let empty = b.lines.is_empty() && b.read == 0 && b.error.is_none();
        // A batch with lines goes to the workers; an empty one (the end)
        // straight to the caller, so it is never stuck behind a worker.
        let sent = if empty { done.send(b) } else { todo.send(b) };
        if sent.is_err() || end {
            if !empty {
                // The end marker after the last batch with lines.
                if let Ok(mut m) = free.recv() {
                    m.seq = seq;
                    m.text.clear();
                    m.lines.clear();
                    m.read = 0;
                    m.error = None;
                    let _ = done.send(m);
                }
            }
            return;
        }
    }
}

fn parse_batch<S: Stage>(
    adapter: &Adapter,
    stage: &S,
    scratch: &mut S::Scratch,
    parsed: &mut Vec<Observation>,
    b: &mut Batch<S::Output>,
) {
    b.results.clear();
    b.observations.clear();
    for (_, range) in &b.lines {
        parsed.clear();
        let result = match range {
            None => Ok(()),
            Some(r) => match b.text.get(r.clone()) {
                Some(t) => adapter.parse_line_in(t, b.tsv.as_deref(), parsed),
                None => Ok(()),
            },
        };
        if result.is_err() {
            parsed.clear();
        }
        b.results.push((result, parsed.len()));
        b.observations
            .extend(parsed.drain(..).map(|o| stage.run(scratch, o)));
    }
    // The caller pops observations from the end, line by line: reversed, they
    // come out in input order.
    b.observations.reverse();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::{EventReader, Format};

    fn zeek(i: usize) -> String {
        format!(
            r#"{{"_path":"conn","ts":{}.5,"id.orig_h":"10.0.0.{}","id.orig_p":1000,"id.resp_h":"192.0.2.{}","id.resp_p":443,"proto":"tcp"}}"#,
            1_700_000_000 + i,
            i % 250,
            i % 200
        )
    }

    /// Drains a reader into (line events, observation first_observed, last lines).
    fn drain(
        mut next: impl FnMut(&mut Vec<Observation>) -> io::Result<Option<LineEvent>>,
        last: impl Fn() -> Vec<u8>,
    ) -> (Vec<LineEvent>, Vec<i64>, Vec<Vec<u8>>) {
        let (mut evs, mut times, mut texts) = (Vec::new(), Vec::new(), Vec::new());
        let mut obs = Vec::new();
        while let Some(ev) = next(&mut obs).unwrap_or_else(|e| panic!("{e}")) {
            times.extend(obs.drain(..).map(|o| o.first_observed));
            evs.push(ev);
            texts.push(last());
        }
        (evs, times, texts)
    }

    #[test]
    fn same_answers_as_the_sequential_reader_in_the_same_order() {
        let mut input = String::new();
        for i in 0..3_000 {
            match i % 97 {
                5 => input.push_str("{not json\n"),
                7 => input.push('\n'),
                11 => input.push_str(&"x".repeat(300)),
                _ => input.push_str(&zeek(i)),
            }
            input.push('\n');
        }
        let seq = {
            let mut r = EventReader::new(
                io::Cursor::new(input.clone().into_bytes()),
                Adapter::new(Format::Zeek),
            )
            .with_max_line(200);
            let mut evs = Vec::new();
            let mut times = Vec::new();
            let mut texts = Vec::new();
            let mut obs = Vec::new();
            while let Some(ev) = r.next_into(&mut obs).unwrap_or_else(|e| panic!("{e}")) {
                times.extend(obs.drain(..).map(|o| o.first_observed));
                evs.push(ev);
                texts.push(r.last_line().to_vec());
            }
            (evs, times, texts, r.summary().clone())
        };
        for workers in [1, 3] {
            let mut p = ParallelReader::with_max_line(
                Box::new(io::Cursor::new(input.clone().into_bytes())),
                Adapter::new(Format::Zeek),
                workers,
                200,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let p = std::cell::RefCell::new(&mut p);
            let got = drain(
                |o| p.borrow_mut().next_into(o),
                || p.borrow().last_line().to_vec(),
            );
            assert_eq!(got.0, seq.0, "{workers} workers");
            assert_eq!(got.1, seq.1);
            assert_eq!(got.2, seq.2);
            assert_eq!(p.borrow().summary(), &seq.3);
        }
        assert_eq!(seq.3.lines, input.lines().count() as u64);
        assert!(
            seq.3.skipped > 0 && seq.3.by_kind.contains_key("line too long"),
            "{:?}",
            seq.3
        );
    }

    /// A stage runs on the parsing threads, and its outputs come back in
    /// input order, one per observation.
    #[test]
    fn a_stage_runs_on_the_parsing_threads_in_order() {
        struct Tag;
        impl Stage for Tag {
            type Scratch = u64;
            type Output = (i64, String);
            fn run(&self, seen: &mut u64, obs: Observation) -> (i64, String) {
                *seen += 1;
                let name = thread::current().name().unwrap_or_default().to_owned();
                (obs.first_observed, name)
            }
        }
        let text: String = (0..2_000).map(|i| zeek(i) + "\n").collect();
        let mut p = ParallelReader::with_stage(
            Box::new(io::Cursor::new(text.into_bytes())),
            Adapter::new(Format::Zeek),
            2,
            DEFAULT_MAX_LINE,
            Tag,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut out = Vec::new();
        while p
            .next_into(&mut out)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_some()
        {}
        assert_eq!(out.len(), 2_000);
        for (i, (t, name)) in out.iter().enumerate() {
            assert_eq!(*t, (1_700_000_000 + i as i64) * 1_000_000 + 500_000);
            assert_eq!(name, "sightline-parse");
        }
    }

    #[test]
    fn empty_input_and_an_early_drop() {
        let mut p = ParallelReader::new(
            Box::new(io::Cursor::new(Vec::new())),
            Adapter::new(Format::Zeek),
            2,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut obs = Vec::new();
        assert!(matches!(p.next_into(&mut obs), Ok(None)));
        assert!(matches!(p.next_into(&mut obs), Ok(None)));
        let big: String = (0..10_000).map(|i| zeek(i) + "\n").collect();
        let mut p = ParallelReader::new(
            Box::new(io::Cursor::new(big.into_bytes())),
            Adapter::new(Format::Zeek),
            2,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            p.next_into(&mut obs),
            Ok(Some(LineEvent::Parsed { line: 1 }))
        ));
        drop(p); // the threads end on their own
    }

    struct FailAfter(io::Cursor<Vec<u8>>);
    impl io::Read for FailAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::other("disk on fire")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn an_io_error_comes_after_the_lines_before_it() {
        let text: String = (0..1_200).map(|i| zeek(i) + "\n").collect();
        let src = io::BufReader::new(FailAfter(io::Cursor::new(text.into_bytes())));
        let mut p = ParallelReader::new(Box::new(src), Adapter::new(Format::Zeek), 2)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut obs = Vec::new();
        let mut n = 0;
        let err = loop {
            match p.next_into(&mut obs) {
                Ok(Some(_)) => n += 1,
                Ok(None) => panic!("the error was lost"),
                Err(e) => break e,
            }
        };
        assert_eq!(n, 1_200);
        assert_eq!(err.to_string(), "disk on fire");
        assert!(matches!(p.next_into(&mut obs), Ok(None)));
    }
}
