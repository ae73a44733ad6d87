//! Diagnostics on standard error: `tracing` events as text (the default) or
//! as one JSON object per line (`--log-format json`, for log shippers).
//! What is shown: `SIGHTLINE_LOG` (an `EnvFilter`), by default errors and the
//! server's request lines (`sightline::request`, one per request).
//!
//! Lines go through a bounded queue to one writer thread: a standard error
//! nobody reads (a full pipe, a stalled log shipper) must not block the
//! threads that log, which are the server's request workers. When the queue is
//! full, lines are dropped and counted, and the writer says how many once it
//! can write again. The audit log is not written this way (it must not drop).

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (colours only at a terminal).
    Text,
    /// One JSON object per line: timestamp, level, target, message, fields.
    Json,
}

/// Installs the global subscriber. Keep the guard until the end of `main`:
/// dropping it waits (briefly) for queued lines to be written.
pub fn init(format: LogFormat) -> LogGuard {
    let (writer, guard) = spawn_writer(std::io::stderr(), QUEUE_LINES);
    let filter = match std::env::var("SIGHTLINE_LOG") {
        Ok(v) => EnvFilter::new(v),
        Err(_) => EnvFilter::new(format!(
            "error,{}=info",
            sightline_server::access_log::TARGET
        )),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colour codes only for a person at a terminal, never into log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.event_format(JsonLines).init(),
    }
    guard
}

/// Log lines queued for the writer thread at most (~2-4 MiB of request lines).
const QUEUE_LINES: usize = 16_384;

enum Msg {
    Line(Vec<u8>),
    /// Everything queued before it is written: acknowledge.
    Flush(crossbeam_channel::Sender<()>),
}

/// Hands each formatted event to the writer thread without waiting.
#[derive(Clone)]
pub struct QueueWriter {
    tx: crossbeam_channel::Sender<Msg>,
    dropped: Arc<AtomicU64>,
}

impl Write for QueueWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The fmt layer writes one event in one call.
        if self.tx.try_send(Msg::Line(buf.to_vec())).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for QueueWriter {
    type Writer = QueueWriter;

    fn make_writer(&'a self) -> QueueWriter {
        self.clone()
    }
}

/// Flushes the queue when dropped (waiting at most a second: a stalled
/// standard error must not keep the process from exiting).
pub struct LogGuard {
    tx: crossbeam_channel::Sender<Msg>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        let wait = Duration::from_secs(1);
        let (ack, done) = crossbeam_channel::bounded(1);
        if self.tx.send_timeout(Msg::Flush(ack), wait).is_ok() {
            let _ = done.recv_timeout(wait);
        }
    }
}

/// Starts the thread that writes queued lines to `out`.
fn spawn_writer<W: Write + Send + 'static>(mut out: W, capacity: usize) -> (QueueWriter, LogGuard) {
    let (tx, rx) = crossbeam_channel::bounded::<Msg>(capacity);
    let dropped = Arc::new(AtomicU64::new(0));
    let counted = dropped.clone();
    let spawned = std::thread::Builder::new()
        .name("sightline-log".into())
        .spawn(move || {
            for msg in rx {
                let n = counted.swap(0, Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "sightline: {n} log lines dropped (standard error was not being read)"
                    );
                }
                match msg {
                    Msg::Line(line) => {
                        let _ = out.write_all(&line);
                    }
                    Msg::Flush(ack) => {
                        let _ = out.flush();
                        let _ = ack.send(());
                    }
                }
            }
        });
    if spawned.is_err() {
        // No thread: every line is counted as dropped rather than blocking.
        eprintln!("sightline: could not start the log writer thread; logs are off");
    }
    (
        QueueWriter {
            tx: tx.clone(),
            dropped,
        },
        LogGuard { tx },
    )
}

/// One JSON object per event: `timestamp` (UTC, µs), `level`, `target`,
/// the event's fields (`message` among them) at the top level, and `span`,
/// the names of the spans it happened in, outermost first.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut map = Map::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        map.insert(
            "timestamp".into(),
            sightline_stix::format_micros(now).into(),
        );
        let meta = event.metadata();
        map.insert("level".into(), meta.level().as_str().into());
        map.insert("target".into(), meta.target().into());
        event.record(&mut Fields(&mut map));
        if let Some(scope) = ctx.event_scope() {
            let names: Vec<&str> = scope.from_root().map(|s| s.name()).collect();
            if !names.is_empty() {
                map.insert("span".into(), names.join(":").into());
            }
        }
        writeln!(writer, "{}", Value::Object(map))
    }
}

/// Collects an event's fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%x` fields arrive here too, printed with Display.
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Condvar, Mutex};

    /// A standard error that blocks until released, then keeps what it got.
    /// (released, what was written) and its wake-up.
    type Gate = (Mutex<(bool, Vec<u8>)>, Condvar);

    #[derive(Clone, Default)]
    struct Stalled(Arc<Gate>);

    impl Write for Stalled {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (m, cv) = &*self.0;
            let mut g = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            while !g.0 {
                g = cv
                    .wait(g)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            g.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_stderr_drops_lines_instead_of_blocking() {
        let out = Stalled::default();
        let (w, guard) = spawn_writer(out.clone(), 8);
        let start = std::time::Instant::now();
        for i in 0..100 {
            let mut w = w.clone();
            w.write_all(format!("line {i}\n").as_bytes())
                .expect("never fails");
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "logging did not wait"
        );
        // Release the reader: what was queued is written, then the count.
        {
            let (m, cv) = &*out.0;
            m.lock().expect("lock").0 = true;
            cv.notify_all();
        }
        drop(guard); // flushes
        let got = String::from_utf8(out.0 .0.lock().expect("lock").1.clone()).expect("utf8");
        let kept = got.lines().filter(|l| l.starts_with("line ")).count();
        assert!(
            (1..=9).contains(&kept),
            "at most the queue's 8 (+1 in the writer): {kept}"
        );
        let note = format!("sightline: {} log lines dropped", 100 - kept);
        assert!(got.contains(&note), "every line written or counted: {got}");
    }
}
